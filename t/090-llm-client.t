# The chat-completions client (src/llm/ngx_http_rtagent_llm.c) against the
# mock (t/mock/chat_mock.mjs): OpenAI and Azure OpenAI requests (URL, auth,
# the body with tools as function tools), the recorded streams (text,
# single and parallel tool calls, length, the Azure filter chunks, a
# content_filter finish, a mid-stream error event), a stream cut after the
# first token, cancel.  Driven by rtagent_test_llm (t/modules).

use FindBin;
use lib "$FindBin::Bin/mock";
use ChatMock;
use Test::Nginx::Socket;

my $skip = chat_test_skip();
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

repeat_each(1);
no_shuffle();
chat_block_checks();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value(main_config => <<'CONF') unless defined $block->main_config;
    env TEST_OPENAI_KEY;
CONF
});

$ENV{TEST_OPENAI_KEY} = 'test-openai-key';

run_tests();

__DATA__

=== TEST 1: OpenAI: the body (model, messages, stream with usage), the bearer key from the environment; text deltas as they came
--- http_config
    rtagent_llm_endpoint oa http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t1,stream=text/v1/ openai model=gpt-4o-mini key=env:TEST_OPENAI_KEY;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=oa&text=What%20is%20the%20weather%3F&call=call-t1
--- response_body
text: I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or a weather app.
deltas: 30
finish: stop
usage: 14 30
endpoint: oa failovers: 0
--- chat_record: t1
--- chat_record_like
^path=/m/key=t1,stream=text/v1/chat/completions
h\.accept=text/event-stream
h\.authorization=Bearer test-openai-key
(?s:.*)h\.content-type=application/json
(?s:.*)body=\{"model":"gpt-4o-mini","messages":\[\{"role":"system","content":"You are a test\."\},\{"role":"user","content":"What is the weather\?"\}\],"stream":true,"stream_options":\{"include_usage":true\}\}
model=gpt-4o-mini
tools=
msg\.0=system:You are a test\.
msg\.1=user:What is the weather\?
hits=1 aborted=0
--- no_error_log
[error]



=== TEST 2: Azure OpenAI: the deployment URL with api-version, the api-key header, no model in the body; the content-filter chunks skipped
--- http_config
    rtagent_llm_endpoint az http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t2,stream=azure azure model=gpt4o-prod api_version=2024-06-01 key=test-openai-key;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=az
--- response_body
text: Hello, how can I help you today?
deltas: 2
finish: stop
usage: 22 9
endpoint: az failovers: 0
--- chat_record: t2
--- chat_record_like
^path=/m/key=t2,stream=azure/openai/deployments/gpt4o-prod/chat/completions\?api-version=2024-06-01
(?s:.*)h\.api-key=test-openai-key
(?s:.*)body=\{"messages":
--- no_error_log
[error]



=== TEST 3: Azure with a bearer token (Entra) instead of the key; the default api-version
--- http_config
    rtagent_llm_endpoint az http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t3,stream=text azure model=dep token=test-openai-key;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=az
--- response_body_like eval
qr/^text: I'm unable/
--- chat_record: t3
--- chat_record_like
^path=/m/key=t3,stream=text/openai/deployments/dep/chat/completions\?api-version=2024-10-21
(?s:.*)h\.authorization=Bearer test-openai-key
--- no_error_log
[error]



=== TEST 4: tools as function tools with a JSON Schema of their arguments; one tool call assembled from its fragments
--- http_config
    rtagent_llm_endpoint oa http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t4,stream=single/v1 model=gpt-4o key=test-openai-key;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=oa&tools=verify_identity;end_call
--- response_body
text: 
deltas: 0
finish: tool_calls
call: GetWeatherArgs call_c91SqDXlYFuETYv8mUHzz6pp {"city":"Edinburgh","country":"UK","units":"c"} valid
usage: 76 24
endpoint: oa failovers: 0
--- chat_record: t4
--- chat_record_like
^tools=verify_identity,end_call
tool\.verify_identity=\{"type":"object","properties":\{"policy":\{"type":"string"\},"zip":\{"type":"string"\}\},"required":\["policy","zip"\]\}
tool\.end_call=\{"type":"object","properties":\{\},"required":\[\]\}
(?s:.*)hits=1
--- no_error_log
[error]



=== TEST 5: the body says tool_choice auto and parallel calls; two parallel tool calls assembled by index
--- http_config
    rtagent_llm_endpoint oa http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t5,stream=parallel/v1 model=gpt-4o key=test-openai-key;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=oa&tools=lookup_policy
--- response_body
text: 
deltas: 0
finish: tool_calls
call: GetWeatherArgs call_JMW1whyEaYG438VE1OIflxA2 {"city": "Edinburgh", "country": "GB", "units": "c"} valid
call: get_stock_price call_DNYTawLBoN8fj3KN6qU9N1Ou {"ticker": "AAPL", "exchange": "NASDAQ"} valid
usage: 149 60
endpoint: oa failovers: 0
--- chat_record: t5
--- chat_record_like
body=.*"tools":\[\{"type":"function","function":\{"name":"lookup_policy","description":"[^"]+","parameters":\{[^}]*\{[^}]*\}\},"required":\["policy"\]\}\}\}\],"tool_choice":"auto","parallel_tool_calls":true,"stream":true
--- no_error_log
[error]



=== TEST 6: finish_reason length and content_filter are reported as they came
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t6a,stream=length/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t6b,stream=filter/v1 model=m key=test-openai-key;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request eval
["GET /t?route=a", "GET /t?route=b"]
--- response_body eval
["text: {\"\ndeltas: 1\nfinish: length\nusage: 79 1\nendpoint: a failovers: 0\n",
 "text: I see.\ndeltas: 1\nfinish: content_filter\nusage: -1 -1\nendpoint: b failovers: 0\n"]
--- no_error_log
[error]



=== TEST 7: a mid-stream error event: the text before it came, then the error (logged with the call id); no failover after the first token
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t7a,stream=error/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t7b/v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=fast&call=call-t7
--- response_body
text: Let me
error: error event: The server had an error while processing your request. Sorry about that!
endpoint: a failovers: 0
--- chat_record: t7b
--- chat_record_like
^none
hits=0
--- error_log eval
qr/\[error\].*rtagent llm: endpoint a: a bad stream: error event: The server had an error.*call: call-t7/



=== TEST 8: a stream cut after the first token fails the request (no failover: the caller may have heard it)
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t8a,stream=say,text=One%20two%20three%20four.,close=3/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t8b/v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=fast
--- response_body_like
^text: One two
error: the stream broke after the first token: .+
endpoint: a failovers: 0
--- chat_record: t8b
--- chat_record_like
hits=0



=== TEST 9: a stream that ends without finish_reason or [DONE] before any token moves on
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t9a,stream=say,close=1/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t9b,stream=say,text=Fine./v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=fast
--- response_body_like
^text: Fine\.
(?s:.*)endpoint: b failovers: 1



=== TEST 10: cancel removes the request at once: the server sees its client go, no callback follows
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=t10,stream=say,text=a%20b%20c%20d%20e%20f%20g%20h,delay=200/v1 model=m key=test-openai-key;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=a&cancel=300
--- response_body
cancelled
--- chat_record: t10 aborted
--- chat_record_like
hits=1 aborted=1
--- no_error_log
[error]



=== TEST 11: a route or endpoint that is not configured
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=nope&call=call-t11
--- response_body
start failed: no such model route
--- error_log
rtagent llm: no rtagent_model_route or rtagent_llm_endpoint "nope", call: call-t11
