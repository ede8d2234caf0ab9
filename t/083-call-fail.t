# build/rtagent-call fails a call with a clear message on stderr and a
# non-zero exit status: the events endpoint refuses the IncomingCall (a
# wrong URL, nothing listening, a missing Event Grid key), the gateway's
# REST requests are signed with another access key (refused 401 by the
# simulator's endpoint, as ACS would: no answer), the media WebSocket is
# refused; bad options exit 2.  With the gateway's Event Grid key given
# (--eventgrid-key) the call goes through.

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
plan skip_all => 'espeak-ng is needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng';

my $tmp = tempdir(CLEANUP => 1);
my @say = ('--say', 'hello', '--first-wait', 300);

my $n = start_call_gateway(engine => 'echo',
                           http => 'rtagent_acs_eventgrid_key s3cret-eventgrid-key;');
my $base = $n->{url} =~ s{/api/acs/events$}{}r;

# a wrong events URL: 404
my $res = run_call({ %$n, url => "$base/api/wrong?key=s3cret-eventgrid-key" }, @say);
is($res->{rc}, 1, 'wrong events URL: exit status 1');
like($res->{err}, qr{^call 1 failed: IncomingCall to \Q$base\E/api/wrong\S*: HTTP 404$}m,
     'wrong events URL: the status named');
is($res->{out}, '', 'wrong events URL: nothing on stdout');

# nothing listens there
my $dead = free_port();
$res = run_call({ %$n, url => "http://127.0.0.1:$dead/api/acs/events" }, @say);
is($res->{rc}, 1, 'no gateway: exit status 1');
like($res->{err}, qr/^call 1 failed: IncomingCall to \S+: .*(?i:connect)/m,
     'no gateway: could not connect');

# the subscription's key is missing: 403
$res = run_call($n, @say);
is($res->{rc}, 1, 'no Event Grid key: exit status 1');
like($res->{err}, qr/^call 1 failed: IncomingCall to \S+: HTTP 403$/m,
     'no Event Grid key: 403');

# with it the call goes through
$res = run_call($n, @say, '--eventgrid-key', 's3cret-eventgrid-key');
is($res->{rc}, 0, 'with --eventgrid-key the call succeeds')
    or diag "$res->{out}$res->{err}";
like($res->{out}, qr/^outcome: caller_hung_up /m, 'and ends as usual');

# the gateway signs with another key: its answer is refused (401)
my $cs = $n->{cs} =~ s/accesskey=\S+/accesskey=YW5vdGhlciBrZXk=/r;
$res = run_call({ %$n, cs => $cs }, @say, '--eventgrid-key', 's3cret-eventgrid-key',
                '--answer-timeout', 3000);
is($res->{rc}, 1, 'another access key: exit status 1');
like($res->{err}, qr/ACS request POST \/calling\/callConnections:answer\?api-version=\S+ refused \(401\): signature mismatch/,
     'another access key: the answer was refused for its signature');
like($res->{err}, qr/^call 1 failed: no answer within 3000 ms: the gateway's ACS requests were refused for their signature/m,
     'another access key: no answer, and why');

stop_nginx($n);

# the answer's transportUrl is refused: 404
$n = start_call_gateway(engine => 'echo', media_url => 'ws://127.0.0.1:'
                        . free_port() . '/ws/acs/media');
$res = run_call($n, @say);
is($res->{rc}, 1, 'media refused: exit status 1');
like($res->{err}, qr{^call 1 failed: media WebSocket ws://127\.0\.0\.1:\d+/ws/acs/media\?agent=\w+ refused: Connection refused$}m,
     'media refused: the URL and the reason');
stop_nginx($n);

# a location that is not the media one: 404
$n = start_call_gateway(engine => 'echo',
                        media_url => 'ws://127.0.0.1:{port}/ws/nowhere');
$res = run_call($n, @say);
like($res->{err}, qr{^call 1 failed: media WebSocket \S+/ws/nowhere\S* refused: 404 Not Found$}m,
     'media refused with 404: the status line')
    or diag $res->{err};
stop_nginx($n);

# bad options and callers: exit status 2 or 1, before any call
$res = run_call($n);
is($res->{rc}, 2, 'no caller: exit status 2');
like($res->{err}, qr/no caller: give --wav, --say or --script/, 'no caller: said');

$res = run_call($n, '--wav', "$tmp/missing.wav");
is($res->{rc}, 2, 'a missing WAV: exit status 2');
like($res->{err}, qr/--wav \S+missing\.wav: No such file/, 'a missing WAV: said');

open my $fh, '>', "$tmp/not.wav" or die $!;
print $fh "not a WAV file at all\n";
close $fh;
$res = run_call($n, '--wav', "$tmp/not.wav");
is($res->{rc}, 2, 'not a WAV: exit status 2');
like($res->{err}, qr/caller turn 1: \S+not\.wav: not a RIFF\/WAVE file/,
     'not a WAV: said');

$res = run_call($n, '--say', 'x', '--calls', 0);
is($res->{rc}, 2, '--calls 0: exit status 2');

$res = run_call({ %$n, cs => 'endpoint=ftp://x/;accesskey=AA==' }, '--say', 'x');
is($res->{rc}, 2, 'a bad connection string: exit status 2');
like($res->{err}, qr/--connection-string: endpoint is not an http/, 'said');

done_testing();
