# STT provider "openai" (src/speech/ngx_http_rtagent_stt_openai.c): the
# utterance as a WAV file in a multipart body to /audio/transcriptions of
# OpenAI or an Azure OpenAI deployment, against the mock
# (t/mock/speech_mock.mjs), which checks the multipart body and the WAV
# header and answers with what it heard; SSE deltas as partial results
# (stream=true), JSON otherwise; each failure an error with a log line.
# Driven by rtagent_test_stt (t/modules), which feeds 20 ms frames.

use FindBin;
use lib "$FindBin::Bin/mock";
use SpeechMock;
use Test::Nginx::Socket;

my $skip = speech_test_skip();
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

repeat_each(1);
no_shuffle();
speech_block_checks();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value(http_config => <<'CONF') unless defined $block->http_config;
    rtagent_openai_audio_key test-openai-key;
    rtagent_upstream_retries 0;
CONF
});

run_tests();

__DATA__

=== TEST 1: a streaming model: the multipart body with the WAV, deltas as partials, then the final text
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s1/v1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=1000&rate=16000&call=call-s1
--- response_body eval
"partial: heard
partial: heard 1000
partial: heard 1000 ms
partial: heard 1000 ms at
partial: heard 1000 ms at 16000
partial: heard 1000 ms at 16000 Hz
final: heard 1000 ms at 16000 Hz confidence=-1.00 duration=1000 language=
"
--- mock_record: s1
--- mock_record_like
^path=/m/key=s1/v1/audio/transcriptions
(?s:.*)h\.authorization=Bearer test-openai-key
(?s:.*)h\.content-type=multipart/form-data; boundary=rtagent-[0-9a-f]{32}
(?s:.*)field\.model=gpt-4o-mini-transcribe
field\.response_format=json
field\.stream=true
file\.name=utterance\.wav
file\.type=audio/wav
wav\.riff=32036
wav\.channels=1
wav\.rate=16000
wav\.byterate=32000
wav\.align=2
wav\.bits=16
wav\.data=32000
wav\.actual=32000
wav\.ok=true
--- no_error_log
[error]



=== TEST 2: whisper-1 does not stream: no stream field, one JSON answer; the language asked for, at 24 kHz
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s2,text=I%20want%20to%20report%20an%20accident;
        rtagent_openai_stt_model whisper-1;
        rtagent_openai_stt_language en;
        rtagent_test_stt;
    }
--- request
GET /t?tone=500&rate=24000
--- response_body
final: I want to report an accident confidence=-1.00 duration=500 language=en
--- mock_record: s2
--- mock_record_like
field\.language=en
field\.model=whisper-1
field\.response_format=json
file\.name=utterance\.wav
(?s:.*)wav\.rate=24000
(?s:.*)wav\.data=24000
--- no_error_log
[error]



=== TEST 3: Azure OpenAI: the deployment URL, api-key; rtagent_openai_stt_stream off
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s3;
        rtagent_openai_audio_api_version 2025-03-01-preview;
        rtagent_openai_stt_model my-transcribe;
        rtagent_openai_stt_stream off;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200
--- response_body
final: heard 200 ms at 16000 Hz confidence=-1.00 duration=200 language=
--- mock_record: s3
--- mock_record_like
^path=/m/key=s3/openai/deployments/my-transcribe/audio/transcriptions\?api-version=2025-03-01-preview
(?s:.*)h\.api-key=test-openai-key
(?s:.*)field\.model=my-transcribe
field\.response_format=json
file\.name
--- no_error_log
[error]



=== TEST 4: an empty transcript is nomatch (and blank deltas are no partials)
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s4,text=%20;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200&call=call-s4
--- response_body
error: nomatch: an empty transcript
--- error_log
rtagent stt openai: nomatch: an empty transcript, call: call-s4
--- no_error_log
[error]



=== TEST 5: a wrong key: 401 with the service's message
--- http_config
    rtagent_openai_audio_key sk-wrong;
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s5;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200&call=call-s5
--- response_body
error: auth: HTTP 401: Incorrect API key provided
--- error_log
rtagent stt openai: auth: HTTP 401: Incorrect API key provided, call: call-s5



=== TEST 6: 429 is rate_limited
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s6,code=429;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200&call=call-s6
--- response_body
error: rate_limited: HTTP 429: Rate limit reached
--- error_log
rtagent stt openai: rate_limited: HTTP 429: Rate limit reached, call: call-s6



=== TEST 7: 503 is a server error
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s7,code=503;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200&call=call-s7
--- response_body
error: server: HTTP 503: The server had an error
--- error_log
rtagent stt openai: server: HTTP 503: The server had an error, call: call-s7



=== TEST 8: a timeout
--- config
    location /t {
        rtagent_stt openai;
        rtagent_upstream_timeout 300ms;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s8,hang=1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200&call=call-s8
--- response_body_like
^error: timeout: .*
--- error_log eval
qr/rtagent stt openai: timeout: .*, call: call-s8/



=== TEST 9: an event stream cut before transcript.text.done: the partials so far, then a server error
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s9,close=2;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200&call=call-s9
--- response_body_like
^partial: heard
partial: heard 200
error: server: .*
--- error_log eval
qr/rtagent stt openai: server: .*, call: call-s9/



=== TEST 10: cancel while the service works: no callback follows, the service sees the request dropped
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s10,hang=1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200&cancel=200
--- response_body
cancelled
--- mock_record: s10 aborted
--- mock_record_like
hits=1 aborted=1
--- no_error_log
[error]



=== TEST 11: no key: open fails and says why
--- http_config
--- config
    location /t {
        rtagent_stt openai;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200&call=call-s11
--- response_body
open failed
--- error_log
rtagent stt openai: no rtagent_openai_audio_key, call: call-s11



=== TEST 12: an utterance without audio is refused at finish, with a log line
--- config
    location /t {
        rtagent_stt openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=s12;
        rtagent_test_stt;
    }
--- request
GET /t?tone=0&call=call-s12
--- response_body
finish failed
--- mock_record: s12
--- mock_record_like
hits=0
--- error_log
rtagent stt openai: an utterance without audio, call: call-s12
