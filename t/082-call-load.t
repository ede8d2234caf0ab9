# build/rtagent-call --calls 5 runs five concurrent calls (started over
# --ramp) through the one REST endpoint and the gateway's two workers:
# every call is answered on its own incomingCallContext and succeeds, and
# the summary gives the turn latency percentiles, the failed calls (0) and
# the gateway's CPU and RSS per call from /proc (--pid).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentNginx;
use RtagentRedis;
use RtagentCall;

use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'build/rtagent-call is not built (make)' unless call_tool();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng is needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng';

my $r = start_redis();
my $n = start_call_gateway(redis => $r->{port}, engine => 'echo',
                           workers => 2);
ok(redis_up($n), 'both workers are connected to Redis');

my $res = run_call($n, '--say', 'hello there', '--calls', 5, '--ramp', 1,
                   '--first-wait', 300, '--quiet', '--pid', $n->{pid},
                   '--redis', "127.0.0.1:$r->{port}");
is($res->{rc}, 0, 'every call succeeded') or diag "$res->{out}$res->{err}";
like($res->{out}, qr/^calls: 5, failed: 0, /m, 'five calls, none failed');
like($res->{out},
     qr/^turn latency: 5 turns, p50 \d+ ms, p95 \d+ ms, p99 \d+ ms$/m,
     'one turn latency per call, as percentiles');
like($res->{out}, qr/^barge-in latency: 0, /m, 'no barge-in asked for');
like($res->{out}, qr/^gateway: \d+\.\d ms CPU per call, -?\d+ KiB RSS per call /m,
     "the gateway's CPU and RSS per call");
unlike($res->{out}, qr/^caller: /m, '--quiet: no conversations');

# five calls, five answers, each ended once as the caller hanging up
my @ended = error_log($n) =~ /rtagent store: call ended \(caller_hung_up\)/g;
is(scalar @ended, 5, 'five calls ended by CallDisconnected');

# a sixth call without --quiet prints its conversation
$res = run_call($n, '--say', 'hello there', '--calls', 2, '--first-wait', 300);
is($res->{rc}, 0, 'two more calls') or diag "$res->{out}$res->{err}";
my @heads = $res->{out} =~ /^-- call (\d) \(rc-/mg;
is(join(',', sort @heads), '1,2', 'each call has its report');

unlike(error_log($n), qr/\[(alert|crit|emerg)\]|signal \d+/, 'no crash');

stop_nginx($n);
done_testing();
