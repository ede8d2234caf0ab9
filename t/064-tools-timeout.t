# The tool store when Redis is away: a built-in whose commands Redis never
# answers (they wait in the client's queue) gives up after 5 s with
# {"error":"timed out"} and one log line with the call id, and the worker
# goes on (the late answers, if any, find no one); without rtagent_redis a
# built-in fails at once.  Own nginx; Redis on a port where no one listens.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentNginx;
use RtagentToolStore;

use Time::HiRes qw(time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test module is not loaded' unless test_module();

my $dir = agents_dir('front.yaml' => <<'YAML');
name: front
description: Verifies.
greeting: Hello.
prompt: Verify.
tools: [verify_identity, create_claim, end_call]
YAML

my $nowhere = { port => free_port() };
my $n = start_tool_nginx($nowhere, $dir);

my $t0 = time;
my $out = tool($n, 'front', 'verify_identity',
               '{"policy":"12345678","zip":"60614"}', call => 'late-1');
my $took = time - $t0;
is($out->{rc}, 'error', 'Redis never answers: an error');
is_deeply($out->{result}, { error => 'timed out' }, 'timed out');
ok($took >= 4.5 && $took < 15, sprintf('after about 5 s (%.1f s)', $took));
my $log = error_log($n);
is(scalar(() = $log =~ /rtagent tool: "verify_identity" of agent "front" failed: timed out, call:late-1\b/g),
   1, 'logged once with the call id');

is(tool($n, 'front', 'end_call', '{}')->{act}, 'end',
   'a tool that needs no Redis still runs');
unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no crash, no alert');
ok(stop_nginx($n), 'nginx stops');

my $m = start_tool_nginx(undef, $dir);
$out = tool($m, 'front', 'create_claim', '{"policy":"12345678",'
            . '"date":"2020-01-01","location":"x","description":"y",'
            . '"injuries":"no","vehicles":1}', call => 'nr-1');
is_deeply($out->{result}, { error => 'no rtagent_redis' },
          'without rtagent_redis: an error at once');
like(error_log($m), qr/failed: no rtagent_redis, call:nr-1\b/, '  logged');
ok(stop_nginx($m), 'nginx stops');

done_testing();
