# build/rtagent-call speaks its caller with espeak-ng (--say) to the
# say_back engine with the local speech engines: the conversation it
# prints from the call's transcript in Redis shows the caller's words as
# pocketsphinx heard them and the agent's "You said: ..." under the entry
# agent's name; --barge-in-after talks over the agent's reply, which is
# stopped (StopAudio), and the barge-in latency is reported.

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
my $n = start_call_gateway(redis => $r->{port}, engine => 'say_back',
                           http => 'rtagent_acs_agent default fnol;');
ok(redis_up($n, 1), 'the worker is connected to Redis');

my $res = run_call($n, '--say', 'I want to report an accident',
                   '--voice', 'en-us', '--rate', 175, '--first-wait', 300,
                   '--redis', "127.0.0.1:$r->{port}");
is($res->{rc}, 0, 'the call succeeded') or diag "$res->{out}$res->{err}";
my ($said) = $res->{out} =~ /^caller: (.*)$/m;
like($said, qr/\bwant\b/i, "the caller's words are in the transcript: "
     . ($said // '(none)'));
like($res->{out}, qr/^agent\[fnol\]: You said: \Q$said\E\.$/m,
     "the agent's reply, under the entry agent's name");
like($res->{out}, qr/^turn 1: \d+ ms to the first agent frame$/m,
     'the turn latency');
like($res->{out}, qr/^outcome: caller_hung_up /m, 'the outcome from Redis');
unlike($res->{out}, qr/^barge-in/m, 'no barge-in without one');

# the second turn talks over the first reply, 300 ms into it
$res = run_call($n, '--say', 'I want to report an accident',
                '--say', 'stop stop please stop', '--voice', 'en-us',
                '--first-wait', 300, '--barge-in-after', 300,
                '--redis', "127.0.0.1:$r->{port}");
is($res->{rc}, 0, 'the barge-in call succeeded')
    or diag "$res->{out}$res->{err}";
like($res->{out}, qr/^barge-in 1: \d+ ms to StopAudio$/m,
     'the barge-in latency is reported');
like($res->{out}, qr/^outcome: caller_hung_up \(\S+ s of agent audio, [1-9]\d* StopAudio\)$/m,
     'StopAudio came');
like($res->{out}, qr/^agent\[[^\]]+\]: (?:You\b.*? )?\[cut off by the caller\]$/m,
     'the reply cut by the caller: what was heard of it, marked')
    or diag $res->{out};
my @callers = $res->{out} =~ /^caller: /mg;
is(scalar @callers, 2, 'both caller turns are in the transcript')
    or diag $res->{out};
like(error_log($n), qr/rtagent call: barge-in/, 'the gateway heard a barge-in')
    or diag error_log($n);

unlike(error_log($n), qr/\[(alert|crit|emerg)\]|signal \d+/, 'no crash');

stop_nginx($n);
done_testing();
