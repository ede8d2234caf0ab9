# End to end through the ACS control plane, with the mock ACS acting as
# Azure: an Event Grid IncomingCall reaches nginx, nginx answers through
# the signed REST API, ACS opens the media WebSocket named by the answer
# with the call's x-ms-call-connection-id, the caller speaks (a tone
# between silences) and the echo engine's answer, read back from the
# media WebSocket, carries exactly that speech,
# and a CallDisconnected callback that lands in the other worker closes
# the media session there through Redis pub/sub; CALL_ENDED is written
# once.  nginx runs 2 workers; calls are made until a callback has landed
# in the worker that does not hold the media.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers", "$FindBin::Bin/mock";
use RtagentNginx;
use RtagentRedis;
use AcsMock;

use JSON::PP;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();

acs_start_or_skip(have_redis());

my $r = start_redis();
my $port = free_port();
my $base = "http://127.0.0.1:$port";

my $n = start_nginx(port => $port, workers => 2, listen => 'reuseport',
                    http => <<"HTTP",
rtagent_redis 127.0.0.1:$r->{port};
rtagent_upstream_ssl_trusted_certificate $ENV{TEST_NGINX_ACS_CA};
rtagent_acs_connection_string "$ENV{TEST_NGINX_ACS_CONNECTION_STRING}";
rtagent_acs_callback_url $base/api/acs/events;
rtagent_acs_media_url ws://127.0.0.1:$port/ws/acs/media;
rtagent_acs_audio_format pcm24KMono;
rtagent_acs_agent default support;
HTTP
                    server => <<'SERVER');
location = /api/acs/events { rtagent_acs_events; }
location = /ws/acs/media { rtagent_acs_media; }
SERVER

ok(redis_up($n), 'both workers connected to Redis');

sub hash_of {
    my ($id) = @_;
    return { @{ redis($r, 'HGETALL', "rtagent:call:{$id}") // [] } };
}

sub events_of {
    my ($id, $type) = @_;
    return call_events($r, $id, $type);
}

sub session {
    my ($id) = @_;
    my ($s) = @{ acs_media(callConnectionId => $id, messages => 0) };
    return $s;
}

# 0.2 s of silence, 0.8 s of speech, then silence that ends the utterance
acs_config(autoMedia => JSON::PP::true, mediaFrames => 150,
           mediaSpeech => { fromFrame => 10, frames => 40 });

# the PCM of the AudioData messages nginx sent on the call's media session
sub echoed {
    my ($id) = @_;
    my ($s) = @{ acs_media(callConnectionId => $id) };
    my $pcm = '';
    for my $m (@{ $s->{messages} // [] }) {
        my $j = eval { decode_json($m) } or next;
        $pcm .= decode_base64($j->{audioData}{data} // '')
            if ($j->{kind} // '') eq 'AudioData';
    }
    return ($pcm, decode_base64($s->{speech} // ''));
}

my $crossed = 0;

for my $i (1 .. 12) {
    my $id = "e2e-call-$i";
    acs_config(nextCallConnectionId => $id);

    my $in = acs_incoming(url => "$base/api/acs/events",
                          to => '+18005550100', from => '+14255550123');
    is($in->{status}, 200, "$id: IncomingCall delivered");

    ok(acs_wait(sub { my $s = session($id); $s && $s->{open} }, 10),
       "$id: the media WebSocket is open") or last;
    my $s = session($id);
    is($s->{status}, 101, "$id: upgraded");
    like($s->{url}, qr{^ws://127\.0\.0\.1:$port/ws/acs/media\?agent=support$},
         "$id: at the transportUrl of the answer");
    is($s->{sampleRate}, 24000, "$id: pcm24KMono");

    my $owner = acs_wait(sub { hash_of($id)->{owner_worker} }, 5);
    ok($owner, "$id: a worker holds the media") or last;
    is(hash_of($id)->{agent}, 'support', "$id: the entry agent is kept");
    ok(acs_wait(sub { (hash_of($id)->{direction} // '') eq 'inbound' }),
       "$id: the answer's state is there");

    if ($i == 1) {
        # the caller's speech comes back: the echo engine's answer
        my $back = acs_wait(sub {
            my ($pcm, $speech) = echoed($id);
            length $speech && index($pcm, $speech) >= 0 ? 1 : undef;
        }, 10);
        my ($pcm, $speech) = echoed($id);
        is(length $speech, 40 * 960, "$id: the caller spoke 0.8 s");
        ok($back, "$id: the speech came back, byte for byte")
            or diag sprintf('%d bytes of agent audio', length $pcm);
        ok(length($pcm) < 2 * length($speech), "$id: once");

        # an agent's or operator's transfer, published from anywhere,
        # is sent to ACS by the worker that holds the call
        redis_cli($r, 'PUBLISH', "rtagent:call:{$id}:ctl",
                  '{"action":"transfer","target":"+15557654321"}');
        my $m = "POST /calling/callConnections/$id:transferToParticipant";
        ok(acs_wait(sub { @{ acs_requests($m) } }, 5), "$id: transfer sent");
        my ($t) = @{ acs_requests($m) };
        ok($t->{signature_ok}, "$id: signed");
        is($t->{json}{targetParticipant}{phoneNumber}{value}, '+15557654321',
           "$id: to the target");
        ok(acs_wait(sub { (hash_of($id)->{transfer} // '') eq 'requested' }),
           "$id: transfer requested");
    }

    # then the caller hangs up
    my $cb = acs_callback(callConnectionId => $id, events => [{
        type => 'CallDisconnected', data => { resultInformation => {
            code => 200, subCode => 7000,
            message => 'The conversation has ended. DiagCode: 0#7000.@' } } }]);
    is($cb->{status}, 200, "$id: CallDisconnected delivered");

    ok(acs_wait(sub { session($id)->{closed} }, 5),
       "$id: the media WebSocket was closed");
    $s = session($id);
    is($s->{closedBy}, 'peer', "$id: by nginx");
    is($s->{closeCode}, 1000, "$id: normal closure");

    ok(acs_wait(sub { events_of($id, 'CALL_ENDED') }, 5), "$id: CALL_ENDED");
    sleep 0.2;
    my @ended = events_of($id, 'CALL_ENDED');
    is(scalar @ended, 1, "$id: once");
    is($ended[0]{outcome}, 'caller_hung_up', "$id: the caller hung up");
    is(scalar events_of($id, 'CALL_STARTED'), 1, "$id: one CALL_STARTED");

    my $log = error_log($n);
    my ($handler) = $log =~ /\[info\] (\d+)#\d+: .*rtagent acs: callback CallDisconnected, call:\Q$id\E\b/;
    ok($handler, "$id: a worker took the callback");
    like($log, qr/\[info\] $owner#\d+: .*rtagent call: hang-up by control, call:\Q$id\E\b/,
         "$id: the owner hung up");

    if ($handler && $handler != $owner) {
        $crossed = 1;
        last;
    }
}

ok($crossed, 'a CallDisconnected that reached the other worker closed the media');

unlike(error_log($n), qr/\[(alert|crit|emerg)\]|signal \d+/, 'no crash, no alert');

stop_nginx($n);
done_testing();
