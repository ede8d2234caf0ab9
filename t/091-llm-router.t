# The model router (src/llm/ngx_http_rtagent_llm.c): a route is an ordered
# list of endpoints; a 429 (resting the endpoint for its Retry-After or
# retry-after-ms), a 5xx, a refused connection, a timeout or no first token
# in time falls to the next, counted and logged; a 401 does not; the model
# per route.  Against t/mock/chat_mock.mjs, driven by rtagent_test_llm.

use FindBin;
use lib "$FindBin::Bin/mock";
use ChatMock;
use Test::Nginx::Socket;

my $skip = chat_test_skip();
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

repeat_each(1);
no_shuffle();
chat_block_checks();

run_tests();

__DATA__

=== TEST 1: a 429 with Retry-After falls to the next endpoint (logged, counted); the next request skips the resting one
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r1a,code=429,retry=5/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r1b,stream=say,text=Hi./v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request eval
["GET /t?route=fast&call=call-r1", "GET /t?route=fast&call=call-r1"]
--- response_body eval
["text: Hi.\ndeltas: 1\nfinish: stop\nusage: 10 5\nendpoint: b failovers: 1\n",
 "text: Hi.\ndeltas: 1\nfinish: stop\nusage: 10 5\nendpoint: b failovers: 0\n"]
--- chat_record eval
["r1b", "r1a\nr1b"]
--- chat_record_like eval
["hits=1", "hits=1\n--\nhits=1"]



=== TEST 2: the failover of a 429 is logged with the call id
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r1c,code=429,retry=5/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r1d,stream=say,text=Hi./v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=fast&call=call-r1
--- response_body_like
failovers: 1
--- error_log
rtagent llm: endpoint a failed (HTTP 429: mock error 429), failover 1 to b of route fast (1 in this worker), call: call-r1



=== TEST 3: retry-after-ms rests the endpoint too (it wins over Retry-After)
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r2a,code=429,retryms=60000,retry=0/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r2b,stream=say,text=From%20b./v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request eval
["GET /t?route=fast", "GET /t?route=fast"]
--- response_body_like eval
["^text: From b\\.(?s:.*)failovers: 1", "^text: From b\\.(?s:.*)failovers: 0"]
--- chat_record eval
["r2b", "r2a"]
--- chat_record_like eval
["hits=1", "hits=1"]



=== TEST 4: a 500 falls to the next endpoint and does not rest the first
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r3a,code=500/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r3b,stream=say,text=Ok./v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request eval
["GET /t?route=fast", "GET /t?route=fast"]
--- response_body eval
["text: Ok.\ndeltas: 1\nfinish: stop\nusage: 10 5\nendpoint: b failovers: 1\n",
 "text: Ok.\ndeltas: 1\nfinish: stop\nusage: 10 5\nendpoint: b failovers: 1\n"]
--- chat_record eval
["r3b", "r3a"]
--- chat_record_like eval
["hits=1", "hits=2"]



=== TEST 5: a stall (headers, then no first token) within rtagent_llm_first_token_timeout falls to the next; the stalled request is dropped
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r4a,stall=1/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r4b,stream=say,text=Quick./v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_llm_first_token_timeout 300ms;
        rtagent_test_llm;
    }
--- request
GET /t?route=fast
--- response_body
text: Quick.
deltas: 1
finish: stop
usage: 10 5
endpoint: b failovers: 1
--- chat_record
r4a aborted
--- chat_record_like
hits=1 aborted=1
--- error_log
endpoint a failed (no first token in time), failover 1 to b



=== TEST 6: a server that never answers: rtagent_llm_timeout, then the next; a refused connection too
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r5a,hang=1/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint c http://127.0.0.1:1/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r5b,stream=say,text=Late./v1 model=m key=test-openai-key;
    rtagent_model_route fast a c b;
--- config
    location /t {
        rtagent_llm_first_token_timeout 0;
        rtagent_llm_timeout 400ms;
        rtagent_test_llm;
    }
--- request
GET /t?route=fast
--- response_body
text: Late.
deltas: 1
finish: stop
usage: 10 5
endpoint: b failovers: 2
--- error_log
endpoint a failed (timed out), failover 1 to c
endpoint c failed (
failover 2 to b



=== TEST 7: when every endpoint of the route fails, the request fails with the last reason
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r6a,code=503/v1 model=m key=test-openai-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r6b,code=500/v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=fast&call=call-r6
--- response_body
text: 
error: HTTP 500: mock error 500
endpoint: b failovers: 1
--- error_log eval
qr/\[error\].*rtagent llm: endpoint b failed \(HTTP 500: mock error 500\), the last of route fast, call: call-r6/



=== TEST 8: a 401 does not fall over (another endpoint would not help a bad request or key)
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r7a/v1 model=m key=wrong-key;
    rtagent_llm_endpoint b http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r7b/v1 model=m key=test-openai-key;
    rtagent_model_route fast a b;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request
GET /t?route=fast
--- response_body
text: 
error: HTTP 401: Incorrect API key provided
endpoint: a failovers: 0
--- chat_record
r7b
--- chat_record_like
hits=0



=== TEST 9: the model per route: each route's endpoint puts its own model in the body (OpenAI-compatible servers of several providers on one route)
--- http_config
    rtagent_llm_endpoint gpt http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r8a,stream=say/v1 model=gpt-4o-mini key=test-openai-key;
    rtagent_llm_endpoint claude http://127.0.0.1:$TEST_NGINX_CHAT_PORT/m/key=r8b,stream=say/v1 openai model=claude-sonnet-4 key=test-openai-key;
    rtagent_model_route fast gpt claude;
    rtagent_model_route reasoning claude gpt;
--- config
    location /t {
        rtagent_test_llm;
    }
--- request eval
["GET /t?route=fast", "GET /t?route=reasoning"]
--- response_body_like eval
["endpoint: gpt failovers: 0", "endpoint: claude failovers: 0"]
--- chat_record eval
["r8a", "r8b"]
--- chat_record_like eval
["^model=gpt-4o-mini", "^model=claude-sonnet-4"]
