# The spoken apology is synthesised once per worker (and call sample
# rate), not per call: three calls whose STT fails (the mock OpenAI
# answers 500), two at 16 kHz and one at 24 kHz, each hear it, and the
# local TTS made it twice in all, once per rate.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;
use SpeechMock ();

use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'espeak-ng is needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng';
my $why = SpeechMock::_start();
plan skip_all => $why if $why;

my $mock = $ENV{TEST_NGINX_SPEECH_PORT};

my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=1;',
    http => 'rtagent_openai_audio_key test-openai-key;
             rtagent_upstream_retries 0;',
    server => "location = /ws/acs/media {
                   rtagent_acs_media;
                   rtagent_engine say_back;
                   rtagent_stt openai;
                   rtagent_openai_audio_url http://127.0.0.1:$mock/m/key=apw,code=500;
                   rtagent_tts local;
               }");

my $i = 0;
for my $rate (16000, 16000, 24000) {
    my $id = 'apw-' . ++$i;
    my $s = open_call($n->{port}, $id, acs_metadata($rate));
    send_msgs($s, acs_audio(silence(500, $rate) . tone(400, $rate)
                            . silence(800, $rate), $rate));
    my ($pcm) = reply_of($s, 15, 1);
    # the apology is some 2.9 s of speech at the call's rate
    ok(length $pcm >= $rate * 2 * 2, "$id: the apology is heard at $rate Hz ("
       . length($pcm) . ' bytes)') or diag error_log($n);
    close $s;
}

my $log = error_log($n);
my @made = $log =~ /the apology is synthesised for (\d+) Hz calls/g;
is_deeply([ sort @made ], [16000, 24000], 'synthesised once per rate')
    or diag $log;
my @played = $log =~ /stt failed, apology played, call:(\S+)/g;
is_deeply(\@played, ['apw-1', 'apw-2', 'apw-3'], 'played in every call');
unlike($log, qr/\[(?:alert|emerg)\]/, 'no alerts');

stop_nginx($n);
done_testing();
