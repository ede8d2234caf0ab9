# Failures are spoken: a say_back call whose STT or TTS provider fails (the
# mock OpenAI or Azure answers 500, 401, 429, or nothing in time) gets the
# apology, synthesised by the local TTS once per worker (t/044 counts
# that), an ERROR_OCCURRED (not checked here: no Redis) and a log line
# with the call id; with a working STT the apology is not played.

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
    my $extra = $block->loc_extra // '';
    my $stt = $block->stt // "rtagent_stt openai; rtagent_openai_audio_url http://127.0.0.1:\$TEST_NGINX_SPEECH_PORT/m/$key;";
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
        $stt
        $tts
        $extra
    }
CONF
    # each block is one caller turn (a tone) on call-<the mock key>
    my ($id) = $key =~ /key=(\w+)/;
    $block->set_value(raw_request => [
        ws_handshake(undef, 'x-ms-call-connection-id' => "call-$id")
        . cframe('text', acs_metadata(16000))
        . acs_audio(silence(1000) . tone(400) . silence(700)),
        cclose(1000)]);
    $block->set_value(raw_request_middle_delay => 5)
        unless defined $block->raw_request_middle_delay;
    $block->set_value(timeout => 15);
    $block->set_value(error_code => 101);
    $block->set_value(no_error_log => "[alert]\n")
        unless defined $block->no_error_log;
});

# what the caller hears when the apology is played: its frames (a second
# of it at least), then the close
sub Test::Base::Filter::apology_heard {
    my $close = quotemeta sclose(1000);
    return qr/\A(?:\x81\x7e..\{"kind":"AudioData","audioData":\{"data":"[^"]+"\}\}){50,}$close\z/s;
}

run_tests();

__DATA__

=== TEST 1: the STT answers 500: the caller hears the apology
--- mock_key: key=ap1,code=500
--- response_body_like eval
apology_heard()
--- error_log
rtagent call: stt "openai" failed
rtagent call: stt failed, apology played, call:call-ap1


=== TEST 2: a working STT: no apology
--- mock_key: key=ap2,text=hello
--- error_log
rtagent call: caller said "hello"
--- no_error_log
apology played
[error]


=== TEST 3: the cloud TTS answers 500: the apology is said by the local TTS
--- mock_key: key=ap3,text=hello
--- tts: rtagent_tts azure; rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=ap3t,code=500/cognitiveservices/v1;
--- response_body_like eval
apology_heard()
--- error_log
rtagent call: tts "azure" failed
rtagent call: tts failed, apology played, call:call-ap3


=== TEST 5: the STT answers 401: the apology
--- mock_key: key=ap5,code=401
--- response_body_like eval
apology_heard()
--- error_log
rtagent stt openai: auth
rtagent call: stt failed, apology played, call:call-ap5


=== TEST 6: the STT answers 429: the apology
--- mock_key: key=ap6,code=429
--- response_body_like eval
apology_heard()
--- error_log
rtagent stt openai: rate_limited
rtagent call: stt failed, apology played, call:call-ap6


=== TEST 7: the STT does not answer in time: the apology
--- mock_key: key=ap7,hang=1
--- loc_extra: rtagent_upstream_timeout 1s;
--- response_body_like eval
apology_heard()
--- error_log
rtagent stt openai: timeout
rtagent call: stt failed, apology played, call:call-ap7


=== TEST 8: the cloud TTS answers 401: the apology
--- mock_key: key=ap8,text=hello
--- tts: rtagent_tts azure; rtagent_azure_speech_key wrong-azure-key; rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=ap8t/cognitiveservices/v1;
--- response_body_like eval
apology_heard()
--- error_log
rtagent tts azure: auth
rtagent call: tts failed, apology played, call:call-ap8


=== TEST 9: the cloud TTS answers 429: the apology
--- mock_key: key=ap9,text=hello
--- tts: rtagent_tts azure; rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=ap9t,code=429/cognitiveservices/v1;
--- response_body_like eval
apology_heard()
--- error_log
rtagent tts azure: rate_limited
rtagent call: tts failed, apology played, call:call-ap9


=== TEST 10: the cloud TTS does not answer in time: the apology
--- mock_key: key=ap10,text=hello
--- tts: rtagent_tts azure; rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=ap10t,hang=1/cognitiveservices/v1;
--- loc_extra: rtagent_upstream_timeout 1s;
--- response_body_like eval
apology_heard()
--- error_log
rtagent tts azure: timeout
rtagent call: tts failed, apology played, call:call-ap10


=== TEST 11: Azure STT refuses the upgrade with 401: the apology
--- mock_key: key=ap11
--- stt: rtagent_stt azure; rtagent_azure_speech_key wrong-azure-key; rtagent_azure_stt_url ws://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=ap11/speech/recognition/conversation/cognitiveservices/v1;
--- response_body_like eval
apology_heard()
--- error_log
rtagent stt azure: auth: HTTP 401 at the upgrade
rtagent call: stt failed, apology played, call:call-ap11


=== TEST 12: the cloud TTS cuts its stream after some audio: the apology follows what was said, to its last frame, and the call goes on (the idle reprompt comes once it has been heard)
--- mock_key: key=ap12,text=hello
--- tts: rtagent_tts azure; rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=ap12t,close=2/cognitiveservices/v1;
--- loc_extra: rtagent_idle_reprompt 1s;
--- raw_request_middle_delay: 7
--- response_body_like eval
apology_heard()
--- error_log
rtagent tts azure: server
rtagent call: tts failed, apology played, call:call-ap12
rtagent call: caller silent for 1000 ms, reprompt, call:call-ap12
