# STT azure in a call: a caller's utterance over ACS media goes to
# rtagent_engine say_back with rtagent_stt azure (against the Azure Speech
# mock, t/mock/speech_mock.mjs) and rtagent_tts local.  The mock must get
# the whole utterance from its onset (the pre-roll included: at least the
# tone's length) as 16 kHz PCM after a RIFF header, also from a 24 kHz
# call, and its phrase must land in the call's transcript in Redis with
# the say-back reply.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use SpeechMock ();

use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng is needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng';
my $why = SpeechMock::_start();
plan skip_all => $why if $why;

my $r = start_redis();
my $mock = $ENV{TEST_NGINX_SPEECH_PORT};

my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=1;',
    http => "rtagent_redis 127.0.0.1:$r->{port};
             rtagent_azure_speech_key test-azure-key;",
    server => "location = /ws/acs/media {
                   rtagent_acs_media;
                   rtagent_engine say_back;
                   rtagent_stt azure;
                   rtagent_azure_stt_url ws://127.0.0.1:$mock/m/key=call,text=I%20want%20to%20report%20an%20accident/speech/recognition/conversation/cognitiveservices/v1;
                   rtagent_tts local;
               }");

ok(redis_up($n, 1), 'the worker is connected to Redis') or diag error_log($n);

sub transcript_of {
    my ($id) = @_;
    return map { decode_json($_) }
           @{ redis($r, 'LRANGE', "rtagent:call:{$id}:transcript", 0, -1) };
}

for my $rate (16000, 24000) {
    my $id = "speech-azure-$rate";
    my $s = open_call($n->{port}, $id, acs_metadata($rate));
    send_msgs($s, acs_audio(silence(200, $rate) . tone(1000, $rate)
                            . silence(1200, $rate), $rate));

    ok(wait_for(sub { grep { $_->{role} eq 'agent' } transcript_of($id) }),
       "$rate Hz: the reply is in the transcript") or diag error_log($n);

    my ($said) = map { $_->{text} } grep { $_->{role} eq 'caller' }
                 transcript_of($id);
    is($said, 'I want to report an accident',
       "$rate Hz: the mock's phrase is the caller's words");
    my ($reply) = map { $_->{text} } grep { $_->{role} eq 'agent' }
                  transcript_of($id);
    is($reply, 'You said: I want to report an accident.',
       "$rate Hz: the say-back reply");

    my $rec = SpeechMock::speech_mock_get('/__last?key=call');
    like($rec, qr/^wav\.rate=16000$/m, "$rate Hz: the audio went at 16 kHz");
    my ($bytes) = $rec =~ /^audio\.bytes=(\d+)$/m;
    ok(($bytes // 0) >= 32000 * 0.98,
       "$rate Hz: the whole utterance went, from its onset ("
       . ($bytes // '?') . ' bytes, the tone is 32000)') or diag $rec;
    close $s;
}

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg|error)\]/, 'no errors') or diag $log;

stop_nginx($n);
done_testing();
