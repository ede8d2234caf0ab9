# Failures are spoken: a say_back call whose STT or TTS provider fails (the
# mock OpenAI or Azure answers 500) gets the apology, synthesised at the start of the
# call with the local TTS, an ERROR_OCCURRED (not checked here: no Redis)
# and a log line with the call id; with a working STT the apology is not
# played.

use FindBin;
use lib "$FindBin::Bin/mock";
use lib "$FindBin::Bin/helpers";
use SpeechMock;
use RtagentTest;
use Test::Nginx::Socket;

{ package Test::Base::Filter; RtagentTest->import; }

my $skip = speech_test_skip();
$skip //= 'espeak-ng is needed' unless -x '/usr/bin/espeak-ng';
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

repeat_each(1);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    my $key = $block->mock_key;
    my $tts = $block->tts // 'rtagent_tts local;';
    $block->set_value(main_config => 'thread_pool rtagent_speech threads=2;');
    $block->set_value(http_config => <<'CONF');
    rtagent_openai_audio_key test-openai-key;
    rtagent_azure_speech_key test-azure-key;
    rtagent_upstream_retries 0;
CONF
    $block->set_value(config => <<"CONF");
    location = /ws/acs/media {
        rtagent_acs_media;
        rtagent_engine say_back;
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:\$TEST_NGINX_SPEECH_PORT/m/$key;
        $tts
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: the STT answers 500: the caller hears the apology
--- mock_key: key=ap1,code=500
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-ap1')
 . cframe('text', acs_metadata(16000))
 . acs_audio(silence(1000) . tone(400) . silence(700)),
 cclose(1000)]
--- raw_request_middle_delay: 5
--- timeout: 15
--- error_code: 101
--- response_body_like eval
my $close = quotemeta sclose(1000);
qr/\A(?:\x81\x7e..\{"kind":"AudioData","audioData":\{"data":"[^"]+"\}\}){50,}$close\z/s
--- error_log
rtagent call: stt "openai" failed
rtagent call: stt failed, apology played, call:call-ap1
--- no_error_log
[alert]



=== TEST 2: a working STT: no apology
--- mock_key: key=ap2,text=hello
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-ap2')
 . cframe('text', acs_metadata(16000))
 . acs_audio(silence(1000) . tone(400) . silence(700)),
 cclose(1000)]
--- raw_request_middle_delay: 5
--- timeout: 15
--- error_code: 101
--- error_log
rtagent call: caller said "hello"
--- no_error_log
apology
[error]



=== TEST 3: the cloud TTS answers 500: the apology is said by the local TTS
--- mock_key: key=ap3,text=hello
--- tts: rtagent_tts azure; rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=ap3t,code=500/cognitiveservices/v1;
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-ap3')
 . cframe('text', acs_metadata(16000))
 . acs_audio(silence(1000) . tone(400) . silence(700)),
 cclose(1000)]
--- raw_request_middle_delay: 5
--- timeout: 15
--- error_code: 101
--- response_body_like eval
my $close = quotemeta sclose(1000);
qr/\A(?:\x81\x7e..\{"kind":"AudioData","audioData":\{"data":"[^"]+"\}\}){50,}$close\z/s
--- error_log
rtagent call: tts "azure" failed
rtagent call: tts failed, apology played, call:call-ap3
--- no_error_log
[alert]
