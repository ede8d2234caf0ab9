# STT provider "azure" (src/speech/ngx_http_rtagent_stt_azure.c on the
# WebSocket client src/io/ngx_http_rtagent_wsc.c): Azure Speech
# recognition over WebSocket (USP, PROTOCOLS.md 8) against the mock
# (t/mock/speech_mock.mjs), which checks the upgrade's headers and each
# turn's messages (speech.config once per connection, speech.context, the
# audio with its RIFF header at 16 kHz, the empty message at the end) and
# answers with hypotheses, a detailed phrase and turn.end; the scripted
# failures each give an error kind with a log line and the call id.
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

    # a block's location: the mock's path parameters (--- stt_mock) and
    # any more directives (--- stt_extra)
    if (defined(my $mock = $block->stt_mock)) {
        my $extra = $block->stt_extra // '';
        $block->set_value(config => <<"CONF");
    location /t {
        rtagent_stt azure;
        rtagent_azure_stt_url ws://127.0.0.1:\$TEST_NGINX_SPEECH_PORT/m/$mock/speech/recognition/conversation/cognitiveservices/v1;
        $extra
        rtagent_test_stt;
    }
CONF
    }

    $block->set_value(http_config => <<'CONF') unless defined $block->http_config;
    rtagent_azure_speech_key test-azure-key;
CONF
});

run_tests();

__DATA__

=== TEST 1: the upgrade with the key and X-ConnectionId; config, context, the audio; hypotheses as partials, the phrase's NBest[0] as the final
--- stt_mock: key=a1
--- request
GET /t?tone=1000&rate=16000&call=call-a1
--- response_body
partial: heard
partial: heard 1000 ms
final: heard 1000 ms at 16000 Hz confidence=0.93 duration=1000 language=en-US
--- mock_record: a1
--- mock_record_like
^path=/m/key=a1/speech/recognition/conversation/cognitiveservices/v1\?language=en-US&format=detailed
(?s:.*)h\.connection=Upgrade
(?s:.*)h\.ocp-apim-subscription-key=test-azure-key
(?s:.*)h\.sec-websocket-version=13
(?s:.*)h\.upgrade=websocket
h\.x-connectionid=[0-9A-F]{32}
conns=1
usp\.configs=1
usp\.format=Detailed
wav\.riff=0
wav\.channels=1
wav\.rate=16000
wav\.byterate=32000
wav\.align=2
wav\.bits=16
wav\.data=0
wav\.actual=640
wav\.ok=false
audio\.msgs=51
audio\.bytes=32000
--- no_error_log
[error]



=== TEST 2: 24 kHz audio is resampled to 16 kHz; the language asked for; a bearer token
--- stt_mock: key=a2,text=I%20want%20to%20report%20an%20accident
--- stt_extra: rtagent_azure_speech_token test-azure-token;
--- request
GET /t?tone=500&rate=24000&language=en-GB
--- response_body_like eval
qr/\Apartial: I
partial: I want to
final: I want to report an accident confidence=0\.93 duration=4\d\d language=en-GB
\z/
--- mock_record: a2
--- mock_record_like
^path=\S+\?language=en-GB&format=detailed
(?s:.*)h\.authorization=Bearer test-azure-token
(?s:.*)wav\.rate=16000
(?s:.*)audio\.bytes=1[56]\d{3}
--- no_error_log
[error]



=== TEST 3: the token from issueToken
--- stt_mock: key=a3
--- stt_extra: rtagent_azure_speech_token_url http://127.0.0.1:$TEST_NGINX_SPEECH_PORT/m/key=a3t/sts/v1.0/issueToken;
--- request
GET /t?tone=200
--- response_body
partial: heard
partial: heard 200 ms
final: heard 200 ms at 16000 Hz confidence=0.93 duration=200 language=en-US
--- mock_record: a3
--- mock_record_like
h\.authorization=Bearer test-azure-token
(?s:.*)audio\.bytes=6400
--- no_error_log
[error]



=== TEST 4: one connection for the call's turns: speech.config once
--- stt_mock: key=a4
--- request
GET /t?tone=100&turns=2
--- response_body
partial: heard
partial: heard 100 ms
final: heard 100 ms at 16000 Hz confidence=0.93 duration=100 language=en-US
partial: heard
partial: heard 100 ms
final: heard 100 ms at 16000 Hz confidence=0.93 duration=100 language=en-US
--- mock_record: a4
--- mock_record_like
conns=1
usp\.configs=1
--- no_error_log
[error]



=== TEST 5: the service closed the connection after a turn: the next turn connects again
--- stt_mock: key=a5,bye=1
--- request
GET /t?tone=100&turns=2
--- response_body
partial: heard
partial: heard 100 ms
final: heard 100 ms at 16000 Hz confidence=0.93 duration=100 language=en-US
partial: heard
partial: heard 100 ms
final: heard 100 ms at 16000 Hz confidence=0.93 duration=100 language=en-US
--- mock_record: a5
--- mock_record_like
conns=2
usp\.configs=1
--- no_error_log
[error]



=== TEST 5b: the service closed the connection as the turn began, before taking it: the turn goes on a new one with all its audio
--- stt_mock: key=a5b,early=1
--- request
GET /t?tone=300&call=call-a5b
--- response_body
partial: heard
partial: heard 300 ms
final: heard 300 ms at 16000 Hz confidence=0.93 duration=300 language=en-US
--- error_log
rtagent stt azure: closed before the turn was taken (closed, 1000), connecting again, call: call-a5b
--- mock_record: a5b
--- mock_record_like
conns=2
usp\.configs=1
(?s:.*)wav\.rate=16000
(?s:.*)audio\.bytes=9600
--- no_error_log
[error]



=== TEST 5c: closed again before the turn is taken: connected again only once, then the error
--- stt_mock: key=a5c,early=2
--- request
GET /t?tone=300&call=call-a5c
--- response_body
error: server: closed mid-turn (1000)
--- error_log
connecting again, call: call-a5c
rtagent stt azure: server: closed mid-turn (1000), call: call-a5c
--- mock_record: a5c
--- mock_record_like
early\.closed=2
hits=2



=== TEST 6: NoMatch is nomatch
--- stt_mock: key=a6,nomatch=1
--- request
GET /t?tone=100&call=call-a6
--- response_body
partial: heard
partial: heard 100 ms
error: nomatch: no words recognised
--- error_log
rtagent stt azure: nomatch, call: call-a6
--- no_error_log
[error]



=== TEST 7: InitialSilenceTimeout is nomatch
--- stt_mock: key=a7,silence=1
--- request
GET /t?tone=100
--- response_body
partial: heard
partial: heard 100 ms
error: nomatch: no words recognised
--- no_error_log
[error]



=== TEST 8: a wrong key: 401 at the upgrade is auth, logged once (by the provider, with the call id)
--- stt_mock: key=a8
--- stt_extra: rtagent_azure_speech_key wrong-azure-key;
--- request
GET /t?tone=100&call=call-a8
--- response_body
error: auth: HTTP 401 at the upgrade
--- error_log
rtagent stt azure: auth: HTTP 401 at the upgrade, call: call-a8
--- no_error_log eval
qr/\[error\].*rtagent wsc/
--- mock_record: a8
--- mock_record_like
h\.ocp-apim-subscription-key=wrong-azure-key



=== TEST 9: 503 at the upgrade is server
--- stt_mock: key=a9,code=503
--- request
GET /t?tone=100&call=call-a9
--- response_body
error: server: HTTP 503 at the upgrade
--- error_log
rtagent stt azure: server: HTTP 503 at the upgrade, call: call-a9



=== TEST 9b: 429 at the upgrade is rate
--- stt_mock: key=a9b,code=429
--- request
GET /t?tone=100
--- response_body
error: rate_limited: HTTP 429 at the upgrade



=== TEST 10: a close mid-turn is server, with the call id
--- stt_mock: key=a10,close=1
--- request
GET /t?tone=100&call=call-a10
--- response_body
error: server: closed mid-turn (1011)
--- error_log
rtagent stt azure: server: closed mid-turn (1011), call: call-a10



=== TEST 10b: no turn.end within rtagent_upstream_timeout is timeout
--- stt_mock: key=a10b,hang=1
--- stt_extra: rtagent_upstream_timeout 300ms;
--- request
GET /t?tone=100&call=call-a10b
--- response_body
error: timeout: no turn.end
--- error_log
rtagent stt azure: timeout: no turn.end, call: call-a10b
--- mock_record: a10b aborted
--- mock_record_like
hits=1 aborted=1



=== TEST 10c: an upgrade not answered within rtagent_upstream_connect_timeout is timeout
--- stt_mock: key=a10c,stall=1
--- stt_extra: rtagent_upstream_connect_timeout 300ms;
--- request
GET /t?tone=100&call=call-a10c
--- response_body
error: timeout: timed out
--- error_log
rtagent wsc: 127.0.0.1 timed out
rtagent stt azure: timeout: timed out, call: call-a10c
--- mock_record: a10c aborted
--- mock_record_like
hits=1 aborted=1



=== TEST 11: nothing listens: network
--- config
    location /t {
        rtagent_stt azure;
        rtagent_azure_stt_url ws://127.0.0.1:1/speech/recognition/conversation/cognitiveservices/v1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=100&call=call-a11
--- response_body
error: network: connect failed
--- error_log
rtagent stt azure: network: connect failed, call: call-a11
--- no_error_log eval
qr/\[error\].*rtagent wsc/



=== TEST 12: cancel at once: no callback, the connection goes
--- stt_mock: key=a12
--- request
GET /t?tone=100&cancel=0
--- response_body
cancelled
--- no_error_log
[error]



=== TEST 13: a host name needs the resolver directive
--- config
    location /t {
        rtagent_stt azure;
        rtagent_azure_stt_url ws://speech.invalid/speech/recognition/conversation/cognitiveservices/v1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=100&call=call-a13
--- response_body
error: network: no resolver
--- error_log
rtagent stt azure: network: no resolver, call: call-a13



=== TEST 13b: a host name goes to nginx's resolver (here one that does not answer)
--- config
    resolver 127.0.0.1:1;
    resolver_timeout 500ms;
    location /t {
        rtagent_stt azure;
        rtagent_azure_stt_url ws://speech.invalid/speech/recognition/conversation/cognitiveservices/v1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=100&call=call-a13b
--- response_body
error: network: could not resolve the host
--- error_log
rtagent wsc: speech.invalid could not be resolved
rtagent stt azure: network: could not resolve the host, call: call-a13b



=== TEST 14: rtagent_azure_stt_url must be ws:// or wss://
--- config
    location /t {
        rtagent_stt azure;
        rtagent_azure_stt_url http://127.0.0.1/;
        rtagent_test_stt;
    }
--- must_die
--- error_log
"http://127.0.0.1/": must be a ws:// or wss:// URL



=== TEST 15: wss:// through ngx_ssl, the mock's certificate verified against the CA trusted
--- config
    location /t {
        rtagent_stt azure;
        rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_SPEECH_CA;
        rtagent_azure_stt_url wss://127.0.0.1:$TEST_NGINX_SPEECH_TLS_PORT/m/key=a15/speech/recognition/conversation/cognitiveservices/v1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=200
--- response_body
partial: heard
partial: heard 200 ms
final: heard 200 ms at 16000 Hz confidence=0.93 duration=200 language=en-US
--- mock_record: a15
--- mock_record_like
h\.ocp-apim-subscription-key=test-azure-key
(?s:.*)audio\.bytes=6400
--- no_error_log
[error]



=== TEST 16: wss:// with a certificate not signed by the CA trusted: network, never upgraded
--- config
    location /t {
        rtagent_stt azure;
        rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_SPEECH_OTHER_CA;
        rtagent_azure_stt_url wss://127.0.0.1:$TEST_NGINX_SPEECH_TLS_PORT/m/key=a16/speech/recognition/conversation/cognitiveservices/v1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=100&call=call-a16
--- response_body
error: network: certificate verify error
--- error_log
rtagent wsc: 127.0.0.1: certificate verify error
rtagent stt azure: network: certificate verify error, call: call-a16
--- no_error_log eval
qr/\[error\].*rtagent wsc/
--- mock_record: a16
--- mock_record_like
^none
hits=0



=== TEST 17: rtagent_upstream_ssl_verify off accepts it
--- config
    location /t {
        rtagent_stt azure;
        rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_SPEECH_OTHER_CA;
        rtagent_upstream_ssl_verify off;
        rtagent_azure_stt_url wss://127.0.0.1:$TEST_NGINX_SPEECH_TLS_PORT/m/key=a17/speech/recognition/conversation/cognitiveservices/v1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=100
--- response_body
partial: heard
partial: heard 100 ms
final: heard 100 ms at 16000 Hz confidence=0.93 duration=100 language=en-US
--- no_error_log
[error]



=== TEST 18: a TLS server that never answers the hello: timeout within rtagent_upstream_connect_timeout, not network
--- config
    location /t {
        rtagent_stt azure;
        rtagent_upstream_connect_timeout 300ms;
        rtagent_azure_stt_url wss://127.0.0.1:$TEST_NGINX_SPEECH_HOLD_PORT/speech/recognition/conversation/cognitiveservices/v1;
        rtagent_test_stt;
    }
--- request
GET /t?tone=100&call=call-a18
--- response_body
error: timeout: TLS handshake timed out
--- error_log
rtagent wsc: 127.0.0.1 timed out in the TLS handshake
rtagent stt azure: timeout: TLS handshake timed out, call: call-a18
--- no_error_log eval
qr/\[error\].*rtagent wsc/
