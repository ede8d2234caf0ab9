# Routing and escalation as text through the orchestrator (rtagent_test_
# turns), shipped agents, real Redis: a verified caller's need hands off to
# healthcare or support (each announced by the target's greeting, the
# target's question expected next); a caller who asks for a person is
# escalated to the agent's escalation target (a transfer once the reply
# has been heard), from auth and from fnol (its own target); "goodbye"
# ends the call (after: end).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentTurns;

use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test driver module is not loaded' unless test_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $r = start_redis();
my $n = start_agents($r);

my @verify = ('8 7 6 5 4 3 2 1', '0 2 1 3 4');

my $t = turns($n, 'route-health', [@verify, 'I need to see a doctor']);
like($t->[2]{reply}, qr/Carol Nguyen, you are verified/, 'verified');
is($t->[3]{agent}, 'healthcare', 'handed off to healthcare');
like($t->[3]{reply}, qr/\AThis is the Contoso health line\./,
     "announced by healthcare's greeting");
like($t->[3]{expect}, qr/\Ahealthcare\./, "healthcare's question expected");
is(hash_of($r, 'route-health')->{agent}, 'healthcare',
   'hash: the active agent');

$t = turns($n, 'route-support', [@verify, 'I have a question about my bill']);
is($t->[3]{agent}, 'support', 'handed off to support');
like($t->[3]{reply}, qr/\AYou are through to Contoso customer support\./,
     "announced by support's greeting");
like($t->[3]{expect}, qr/\Asupport\./, "support's question expected");
is($t->[3]{after}, 'listen', 'the call goes on');

# the handoff is logged with the call id
like(error_log($n),
     qr/rtagent agents: handoff from "auth" to "support", call:route-support/,
     'the handoff logged with the call id');
unlike(error_log($n), qr/handoff from .*(?:87654321|02134)/,
       'without the summary (the policy and ZIP it may carry)');

# a person asked for: auth's escalation
$t = turns($n, 'route-human', ['let me talk to a person', 'never heard']);
is(scalar @$t, 2, 'the call ends with that turn');
is($t->[1]{after}, 'transfer', 'a transfer follows the reply');
is($t->[1]{target}, 'queue:customer-care', "to auth's escalation target");
like($t->[1]{reply}, qr/connecting you to a colleague/, 'announced');

# from fnol, to fnol's target
$t = turns($n, 'route-adjuster', [@verify, 'I want to report a car accident',
                                   'I want to speak to an adjuster']);
is($t->[4]{agent}, 'fnol', 'in fnol');
is($t->[4]{after}, 'transfer', 'escalated');
is($t->[4]{target}, 'queue:claims', "to fnol's escalation target");

# the end
$t = turns($n, 'route-bye', [@verify, 'goodbye', 'never heard']);
is(scalar @$t, 4, 'nothing after the goodbye');
is($t->[3]{after}, 'end', 'the call ends once the reply is heard');
like($t->[3]{reply}, qr/Goodbye\./, 'with a goodbye');

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no alert, no crash');

stop_nginx($n);
done_testing();
