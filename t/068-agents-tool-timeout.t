# A tool that fails, as text through the orchestrator (rtagent_test_turns):
# a test agent folder whose entry agent looks an order up with an http tool
# against t/mock/http_mock.mjs.  The mock answers after the tool's
# timeout_ms: the failure is the agent's failure line and its escalation
# (tool_failed: a transfer), never a crashed turn, logged with the call id.
# A turn cancelled while its tool runs (a barge-in, a hang-up) abandons
# the request (the mock sees the client go away) and gets no callback
# after the cancel.  The context keeps the agent's last context_turns.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers", "$FindBin::Bin/mock";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentTurns;
use HttpMock;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test driver module is not loaded' unless test_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => "the HTTP mock cannot run: $HttpMock::Why"
    unless start_http_mock();

my $mock = $ENV{TEST_NGINX_MOCK_PLAIN_PORT};
my $dir = tempdir(CLEANUP => 1);

sub desk {
    my ($url) = @_;
    return <<"YAML";
name: desk
description: Tells a caller where their order is.
greeting: Order desk.
prompt: You look orders up. This agent exists for tests.
tools:
  - name: order_status
    description: The status of an order.
    arguments: [order]
    http:
      url: "$url"
      timeout_ms: 300
  - transfer_to_human
escalation:
  target: queue:orders
  when: [tool_failed, caller_asks]
  message: Let me get someone who can check.
memory:
  context_turns: 1
local:
  slots:
    - name: order
      question: What is your order number?
      type: digits
      length: 4
  on_complete:
    tool: order_status
    say: Your order is {status}.
    failure: I could not look that order up.
YAML
}

for my $d (qw(slow stream)) {
    mkdir "$dir/$d";
    open my $fh, '>', "$dir/$d/desk.yaml" or die $!;
    print $fh desk($d eq 'slow'
        ? "http://127.0.0.1:$mock/slow?delay=2000"
        : "http://127.0.0.1:$mock/stream?pieces=2&delay=5000&key=desk-cancel");
    close $fh;
}

my $r = start_redis();

# the tool times out
my $n = start_agents($r, agents => "$dir/slow", entry => 'desk');
my $t = turns($n, 'tool-slow', ['1 2 3 4']);
is($t->[0]{reply}, 'Order desk. What is your order number?', 'greeting');
is($t->[0]{expect}, 'desk.order', 'expects the order number');
like($t->[1]{reply}, qr/\AI could not look that order up\./,
     "the tool's failure is the agent's failure line");
ok(!$t->[1]{error}, 'the turn itself did not fail');
is($t->[1]{after}, 'transfer', 'escalated: tool_failed');
is($t->[1]{target}, 'queue:orders', 'to the escalation target');
like(error_log($n),
     qr/rtagent agents: tool "order_status" of "desk" failed: .*call:tool-slow/,
     'the failure logged with the call id');

# context_turns 1: the last turn only (the caller's and the agent's lines)
my $c = context_of($r, 'tool-slow');
is(scalar @$c, 2, 'the context trimmed to one turn');
is($c->[0]{role}, 'caller', "the caller's line");
is($c->[0]{text}, '1 2 3 4', 'its text');
is($c->[1]{role}, 'agent', "then the agent's");
like($c->[1]{text}, qr/could not look that order up/, 'its text');
stop_nginx($n);

# cancelled while the tool runs
$n = start_agents($r, agents => "$dir/stream", entry => 'desk');
$t = turns($n, 'tool-cancel', ['1 2 3 4'], cancel => 100);
is(scalar @$t, 2, 'the greeting and the cancelled turn');
is($t->[1]{cancelled}, 1, 'cancelled');
is($t->[1]{late}, 0, 'no callback after the cancel');
is($t->[1]{reply}, '', 'nothing said before the tool');
like(mock_get('/__hits?key=desk-cancel&aborted=1'), qr/aborted=1/,
     "the tool's request abandoned");

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no alert, no crash');
stop_nginx($n);

done_testing();
