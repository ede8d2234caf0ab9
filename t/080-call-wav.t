# build/rtagent-call plays one caller WAV into the gateway as ACS would:
# the IncomingCall, the signed answer on its REST endpoint, CallConnected,
# the media WebSocket at real time, CallDisconnected.  With the echo
# engine the agent's audio (written to --out) is the caller's speech
# played back; the call's latency and outcome are printed, and the
# gateway ends the call as the caller hanging up.  A call the agent
# transfers ends with the transfer's outcome and target.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentNginx;
use RtagentRedis;
use RtagentCall;

use File::Temp qw(tempdir);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'build/rtagent-call is not built (make)' unless call_tool();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng and sox are needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng' && -x '/usr/bin/sox';

my $tmp = tempdir(CLEANUP => 1);
my $r = start_redis();
my $n = start_call_gateway(redis => $r->{port}, engine => 'echo');
ok(redis_up($n, 1), 'the worker is connected to Redis');

# a caller at espeak-ng's own 22050 Hz: the simulator resamples it
system('espeak-ng', '-v', 'en-us', '-w', "$tmp/caller.wav",
       'I want to report an accident') == 0 or die 'espeak-ng failed';

my $res = run_call($n, '--wav', "$tmp/caller.wav", '--first-wait', 300,
                   '--out', "$tmp/agent.wav",
                   '--redis', "127.0.0.1:$r->{port}");
is($res->{rc}, 0, 'the call succeeded') or diag "$res->{out}$res->{err}";
like($res->{out}, qr/^turn 1: \d+ ms to the first agent frame$/m,
     'the turn latency is printed');
like($res->{out}, qr/^outcome: caller_hung_up \((\d+\.\d) s of agent audio/m,
     'the gateway ended it as the caller hanging up');
is($res->{err}, '', 'nothing on stderr');

# the echo: the agent's audio is about as long as the caller's speech
chomp(my $said = `sox --i -D $tmp/caller.wav`);
chomp(my $back = `sox --i -D $tmp/agent.wav`);
like(`sox --i -r $tmp/agent.wav`, qr/^16000$/, 'the agent WAV is 16 kHz');
ok($back > 0.8 * $said && $back < 3 * $said,
   "the agent's audio (${back}s) is the caller's (${said}s) played back");
my $stat = `sox $tmp/agent.wav -n stat 2>&1`;
my ($rms) = $stat =~ /RMS\s+amplitude:\s+(\S+)/;
ok($rms > 0.01, "the agent's audio is not silent (RMS $rms)");

# the call went through the ACS control plane: its hash says so
my ($id) = error_log($n) =~ /rtagent acs: media stream connected, call:(rc-\S+?),/;
ok($id, 'the media stream named the answered call') or diag error_log($n);
my %h = @{ redis($r, 'HGETALL', "rtagent:call:{$id}") // [] };
is($h{direction}, 'inbound', 'an inbound call');
is($h{outcome}, 'caller_hung_up', 'ended by CallDisconnected');

# the agent transfers the call while the caller talks (the control
# message of t/032): ACS takes the transferToParticipant, tells the
# gateway CallTransferAccepted and CallDisconnected, and the call ends
my $h = start_call($n, '--wav', "$tmp/caller.wav", '--wav', "$tmp/caller.wav",
                   '--wav', "$tmp/caller.wav", '--first-wait', 300,
                   '--redis', "127.0.0.1:$r->{port}");
my $tid = wait_for(sub {
    my ($k) = grep { $_ ne $id }
              map { /^rtagent:call:\{(rc-[^}]+)\}$/ ? $1 : () }
              @{ redis($r, 'KEYS', 'rtagent:call:{rc-*}') };
    $k;
}, 10);
ok($tid, 'the second call is up') or diag error_log($n);
# into the echo of the first turn (0.3 s of waiting, 2 s of speech)
sleep 3;
redis_cli($r, 'PUBLISH', "rtagent:call:{$tid}:ctl",
          '{"action":"transfer","target":"+15557654321"}');
$res = finish_call($h);
is($res->{rc}, 0, 'a transferred call succeeded')
    or diag "$res->{out}$res->{err}";
like($res->{out}, qr/^outcome: transferred to 4:\+15557654321 /m,
     'the outcome: transferred, to the target');
my %t = @{ redis($r, 'HGETALL', "rtagent:call:{$tid}") // [] };
is($t{outcome}, 'transferred', 'the gateway ended it as transferred');

unlike(error_log($n), qr/\[(alert|crit|emerg)\]|signal \d+/, 'no crash');

stop_nginx($n);
done_testing();
