# TTS provider "openai" (src/speech/ngx_http_rtagent_tts_openai.c):
# /audio/speech of OpenAI and of an Azure OpenAI deployment, against the
# mock (t/mock/speech_mock.mjs): the JSON request, pcm at 24 kHz streamed
# back as it arrives, errors with the service's message, each logged with
# the call id.  Driven by rtagent_test_tts (t/modules).

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
    rtagent_openai_audio_key env:TEST_OPENAI_KEY;
    rtagent_upstream_retries 0;
CONF

    $block->set_value(main_config => <<'CONF') unless defined $block->main_config;
    env TEST_OPENAI_KEY;
CONF
});

$ENV{TEST_OPENAI_KEY} = 'test-openai-key';

run_tests();

__DATA__

=== TEST 1: OpenAI: the JSON request (the key from the environment), all the audio at 24 kHz
--- config
    location /t {
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=o1/v1/;
        rtagent_test_tts;
    }
--- request
GET /t?text=Say%20%22hi%22%2C%20caf%C3%A9.&call=call-o1
--- response_body_like eval
"^piece 1: chunks=\\d+ samples=1920 rate=24000 first_before_end=no sum=984960\ndone: ok\n\\z"
--- mock_record: o1
--- mock_record_like
^path=/m/key=o1/v1/audio/speech
h\.accept=application/octet-stream
h\.authorization=Bearer test-openai-key
(?s:.*)body=\{"model":"gpt-4o-mini-tts","input":"Say \\"hi\\", café\.","voice":"alloy","response_format":"pcm"\}
--- no_error_log
[error]



=== TEST 2: Azure OpenAI: the deployment URL with api-version, the api-key header; the session's voice and rate (speed)
--- config
    location /t {
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=o2;
        rtagent_openai_audio_api_version 2025-03-01-preview;
        rtagent_openai_tts_model my-tts;
        rtagent_openai_tts_voice nova;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&voice=coral&rate=125
--- response_body_like
done: ok
--- mock_record: o2
--- mock_record_like
^path=/m/key=o2/openai/deployments/my-tts/audio/speech\?api-version=2025-03-01-preview
(?s:.*)h\.api-key=test-openai-key
(?s:.*)body=\{"model":"my-tts","input":"Hi","voice":"coral","response_format":"pcm","speed":1\.25\}
--- no_error_log
[error]



=== TEST 3: streamed: the first audio is handed on while the service holds the rest
--- config
    location /t {
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=o3,wait=1;
        rtagent_test_tts;
    }
--- request eval
"GET /t?text=Hi&signal=http://127.0.0.1:$ENV{TEST_NGINX_SPEECH_PORT}/signal%3Fkey%3Do3"
--- response_body_like
first_before_end=yes sum=984960\ndone: ok
--- no_error_log
[error]



=== TEST 4: a wrong key: 401 with the service's message
--- http_config
    rtagent_openai_audio_key sk-wrong;
--- main_config
--- config
    location /t {
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=o4;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-o4
--- response_body_like
error: auth: HTTP 401: Incorrect API key provided
--- error_log
rtagent tts openai: auth: HTTP 401: Incorrect API key provided, call: call-o4



=== TEST 5: 429 is rate_limited
--- config
    location /t {
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=o5,code=429;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-o5
--- response_body_like
error: rate_limited: HTTP 429: Rate limit reached
--- error_log
rtagent tts openai: rate_limited: HTTP 429: Rate limit reached, call: call-o5



=== TEST 6: 500 is a server error
--- config
    location /t {
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=o6,code=500;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-o6
--- response_body_like
error: server: HTTP 500: The server had an error
--- error_log
rtagent tts openai: server: HTTP 500: The server had an error, call: call-o6



=== TEST 7: a timeout
--- config
    location /t {
        rtagent_tts openai;
        rtagent_upstream_timeout 300ms;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=o7,hang=1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-o7
--- response_body_like
error: timeout: .*
--- error_log eval
qr/rtagent tts openai: timeout: .*, call: call-o7/



=== TEST 8: a stream cut in the middle
--- config
    location /t {
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=o8,close=1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-o8
--- response_body_like
samples=479 .*\nerror: server: .*
--- error_log eval
qr/rtagent tts openai: server: .*, call: call-o8/



=== TEST 9: cancel mid-stream: nothing follows, the service sees the request dropped
--- config
    location /t {
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=o9,wait=1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&cancel=1
--- response_body_like eval
"^piece 1: chunks=1 samples=479 [^\\n]*\\ncancelled\\n\\z"
--- mock_record: o9 aborted
--- mock_record_like
hits=1 aborted=1
--- no_error_log
[error]



=== TEST 10: no key: open fails and says why
--- http_config
--- main_config
--- config
    location /t {
        rtagent_tts openai;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-o10
--- response_body
open failed
--- error_log
rtagent tts openai: no rtagent_openai_audio_key, call: call-o10
