# TTS provider "azure" (src/speech/ngx_http_rtagent_tts_azure.c): SSML over
# REST to the mock Azure Speech (t/mock/speech_mock.mjs), which checks the
# request as the service does and records it; raw PCM streamed back and
# handed on as it arrives; each failure an error to the session and a log
# line with the call id.  Driven by rtagent_test_tts (t/modules).

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
    rtagent_azure_speech_key test-azure-key;
    rtagent_upstream_retries 0;
CONF
});

run_tests();

__DATA__

=== TEST 1: a piece: SSML with the default voice and language, the key, the output format, all the audio
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t1/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hello%20there.&call=call-t1
--- response_body_like eval
"^piece 1: chunks=\\d+ samples=1920 rate=24000 first_before_end=no sum=984960\ndone: ok\n\\z"
--- mock_record: t1
--- mock_record_like
h\.content-type=application/ssml\+xml
(?s:.*)h\.ocp-apim-subscription-key=test-azure-key
h\.user-agent=rtagent
h\.x-microsoft-outputformat=raw-24khz-16bit-mono-pcm
body=<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xmlns:mstts='https://www.w3.org/2001/mstts' xml:lang='en-US'><voice name='en-US-JennyNeural'>Hello there.</voice></speak>
ssml\.lang=en-US
ssml\.voice=en-US-JennyNeural
ssml\.style=-
ssml\.rate=-
ssml\.text=Hello there\.
hits=1 aborted=0
--- no_error_log
[error]



=== TEST 2: markup and quotes in the text are escaped: the service reads back the text as it was
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t2/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Tom%20%26%20Jerry%20%3Cb%3E%22it's%22%3C%2Fb%3E%20%26amp%3B
--- response_body_like
done: ok
--- mock_record: t2
--- mock_record_like
voice name='en-US-JennyNeural'>Tom &amp; Jerry &lt;b&gt;&quot;it&apos;s&quot;&lt;/b&gt; &amp;amp;</voice></speak>
(?s:.*)ssml\.text=Tom & Jerry <b>"it's"</b> &amp;$
--- no_error_log
[error]



=== TEST 3: the location's voice, language, style, rate and 16 kHz format; the session's voice and rate win over them
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t3/cognitiveservices/v1;
        rtagent_azure_tts_voice en-GB-SoniaNeural;
        rtagent_azure_tts_language en-GB;
        rtagent_azure_tts_style customerservice;
        rtagent_azure_tts_rate -10%;
        rtagent_azure_tts_format raw-16khz-16bit-mono-pcm;
        rtagent_test_tts;
    }
    location /session {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t3b/cognitiveservices/v1;
        rtagent_azure_tts_style customerservice;
        rtagent_azure_tts_rate -10%;
        rtagent_test_tts;
    }
--- request eval
["GET /t?text=Hi", "GET /session?text=Hi&voice=en-US-Ava:DragonHDLatestNeural&style=cheerful&rate=120"]
--- response_body_like eval
["rate=16000 .*\ndone: ok", "rate=24000 .*\ndone: ok"]
--- mock_record eval
["t3", "t3b"]
--- mock_record_like eval
["h\\.x-microsoft-outputformat=raw-16khz-16bit-mono-pcm\n(?s:.*)ssml\\.lang=en-GB\nssml\\.voice=en-GB-SoniaNeural\nssml\\.style=customerservice\nssml\\.rate=-10%\nssml\\.text=Hi\n",
 "ssml\\.voice=en-US-Ava:DragonHDLatestNeural\nssml\\.style=cheerful\nssml\\.rate=\\+20%\n"]
--- no_error_log
[error]



=== TEST 4: a bearer token instead of the key (rtagent_azure_speech_token), from a file
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_speech_token file:../html/token.txt;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t4/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- user_files
>>> token.txt
test-azure-token
--- request
GET /t?text=Hi
--- response_body_like
done: ok
--- mock_record: t4
--- mock_record_like
h\.authorization=Bearer test-azure-token
--- no_error_log
[error]



=== TEST 5: streamed: the first audio is handed on while the service holds the rest (it sends it only when told, after the first chunk came)
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t5,wait=1,chunks=6/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request eval
"GET /t?text=Hi&signal=http://127.0.0.1:$ENV{TEST_NGINX_SPEECH_PORT}/signal%3Fkey%3Dt5"
--- response_body_like
^piece 1: chunks=\d+ samples=2880 rate=24000 first_before_end=yes sum=1477440
done: ok
--- no_error_log
[error]



=== TEST 6: two pieces one after the other in a session
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t6/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&pieces=2
--- response_body_like eval
"^piece 1: [^\n]*samples=1920 [^\n]*\ndone: ok\npiece 2: [^\n]*samples=1920 [^\n]*\ndone: ok\n\\z"
--- mock_record: t6
--- mock_record_like
hits=2
--- no_error_log
[error]



=== TEST 7: a wrong key: 401 is an auth error, logged with the call id
--- http_config
    rtagent_azure_speech_key wrong-key;
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t7/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-t7
--- response_body_like eval
"^piece 1: chunks=0 samples=0 [^\n]*\nerror: auth: HTTP 401\n\\z"
--- error_log
rtagent tts azure: auth: HTTP 401, call: call-t7
--- no_error_log
[alert]



=== TEST 8: 429 is rate_limited
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t8,code=429/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-t8
--- response_body_like eval
"error: rate_limited: HTTP 429\n\\z"
--- mock_record: t8
--- mock_record_like
hits=1
--- error_log
rtagent tts azure: rate_limited: HTTP 429, call: call-t8



=== TEST 9: 429 is retried by the client when retries are allowed, and then the audio comes
--- config
    location /t {
        rtagent_tts azure;
        rtagent_upstream_retries 1;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t9,code=429,times=1/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-t9
--- response_body_like eval
"samples=1920 [^\n]*\ndone: ok\n\\z"
--- mock_record: t9
--- mock_record_like
hits=2
--- no_error_log
[error]



=== TEST 10: 503 is a server error
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t9,code=503/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-t9
--- response_body_like
error: server: HTTP 503.*
--- error_log
rtagent tts azure: server: HTTP 503, call: call-t9



=== TEST 11: no answer within rtagent_upstream_timeout is a timeout
--- config
    location /t {
        rtagent_tts azure;
        rtagent_upstream_timeout 300ms;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t10,hang=1/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-t10
--- response_body_like
error: timeout: Operation timed out.*
--- error_log eval
qr/rtagent tts azure: timeout: .*, call: call-t10/



=== TEST 12: a stream cut in the middle: the audio so far, then a server error
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t11,close=2,chunks=6/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-t11
--- response_body_like
^piece 1: chunks=\d+ samples=9\d\d .*
error: server: transfer closed.*
--- error_log eval
qr/rtagent tts azure: server: .*, call: call-t11/



=== TEST 13: cancel (barge-in) mid-stream: no callback follows, the request is dropped on the service
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t12,wait=1/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&cancel=100
--- response_body_like eval
"^piece 1: chunks=1 samples=479 [^\n]*\ncancelled\n\\z"
--- mock_record: t12 aborted
--- mock_record_like
hits=1 aborted=1
--- no_error_log
[error]



=== TEST 14: no key and no token: open fails, and says why
--- http_config
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-t13
--- response_body
open failed
--- error_log
rtagent tts azure: no rtagent_azure_speech_key or rtagent_azure_speech_token, call: call-t13



=== TEST 15: the region gives the endpoint (no request is made here: the SSML would go to westus)
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_speech_region westus;
        rtagent_upstream_connect_timeout 1ms;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-t14
--- response_body_like
error: (?:network|timeout): \S.*
--- error_log
westus.tts.speech.microsoft.com



=== TEST 16: a bad rate, style or voice is refused when the configuration is read
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_tts_rate quick;
        rtagent_test_tts;
    }
--- must_die
--- error_log
"quick" must be x-slow, slow, medium, fast, x-fast, default


=== TEST 17: tokens from issueToken with the key (rtagent_azure_speech_token_url): one fetch serves the pieces that follow
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_speech_token_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t17tok/sts/v1.0/issueToken;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t17/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&pieces=3
--- response_body_like eval
"^piece 1: [^\n]*samples=1920 [^\n]*\ndone: ok\npiece 2: [^\n]*\ndone: ok\npiece 3: [^\n]*\ndone: ok\n\\z"
--- mock_record: t17
--- mock_record_like
h\.authorization=Bearer test-azure-token
(?s:.*)hits=3 aborted=0
--- no_error_log
[error]



=== TEST 18: the token request as issueToken wants it (key, empty form body), fetched once for the worker
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_speech_token_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t18tok/sts/v1.0/issueToken;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t18/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&pieces=2
--- response_body_like
done: ok\npiece 2: .*done: ok
--- mock_record: t18tok
--- mock_record_like
^path=/m/key=t18tok/sts/v1\.0/issueToken
h\.accept=\*/\*
h\.content-length=0
h\.content-type=application/x-www-form-urlencoded
(?s:.*)h\.ocp-apim-subscription-key=test-azure-key
(?s:.*)hits=1 aborted=0
--- no_error_log
[error]



=== TEST 18b: a token is fetched again once nine tenths of the lifetime its JWT claims have passed: 4 s, so the second piece (2.5 s on) reuses it, the third (5 s on) gets a new one
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_speech_token_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t18btok,ttl=4/sts/v1.0/issueToken;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t18b,chunks=6,delay=500/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&pieces=3
--- timeout: 20
--- response_body_like eval
"^piece 1: [^\n]*\ndone: ok\npiece 2: [^\n]*\ndone: ok\npiece 3: [^\n]*\ndone: ok\n\\z"
--- mock_record: t18btok
--- mock_record_like
(?s:.*)hits=2 aborted=0
--- no_error_log
[error]



=== TEST 19: issueToken refusing the key: the piece fails as auth, logged, nothing goes to the TTS endpoint
--- http_config
    rtagent_azure_speech_key wrong-key;
    rtagent_upstream_retries 0;
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_speech_token_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t19tok/sts/v1.0/issueToken;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t19/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&call=call-t19
--- response_body_like
^piece 1: chunks=0 samples=0 .*\nerror: auth: HTTP 401
--- mock_record: t19
--- mock_record_like
hits=0
--- error_log
rtagent azure speech: no token: auth: HTTP 401
rtagent tts azure: auth: no token: HTTP 401, call: call-t19



=== TEST 20: cancel while the token is fetched: no callback follows, no TTS request is made
--- config
    location /t {
        rtagent_tts azure;
        rtagent_azure_speech_token_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t20tok,hang=1/sts/v1.0/issueToken;
        rtagent_azure_tts_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=t20/cognitiveservices/v1;
        rtagent_test_tts;
    }
--- request
GET /t?text=Hi&cancelafter=200
--- response_body_like eval
"^cancelled\n\\z"
--- mock_record: t20
--- mock_record_like
hits=0
--- no_error_log
[error]



=== TEST 21: a key with a line end (it would split a request header) is refused when the configuration is read
--- http_config
    rtagent_azure_speech_key "test-azure-key\r\nX-Injected: 1";
--- config
    location /t {
        rtagent_tts azure;
        rtagent_test_tts;
    }
--- must_die
--- error_log
"rtagent_azure_speech_key": the secret has a line end
