# The LLM engine's directives refused at nginx -t (src/llm/
# ngx_http_rtagent_llm_module.c), each naming what is wrong and never a
# secret's value.

use Test::Nginx::Socket;

plan 'no_plan';

repeat_each(1);
no_shuffle();

run_tests();

__DATA__

=== TEST 1: a route naming an endpoint not defined before it
--- http_config
    rtagent_llm_endpoint a http://127.0.0.1:1/v1 model=m key=k;
    rtagent_model_route fast a b;
--- config
    location = /t { return 200; }
--- must_die
--- error_log
rtagent_model_route fast: no rtagent_llm_endpoint "b" before it



=== TEST 2: azure without key= or token=
--- http_config
    rtagent_llm_endpoint a https://res.openai.azure.com azure model=dep;
--- config
    location = /t { return 200; }
--- must_die
--- error_log
rtagent_llm_endpoint a: azure needs key= or token=



=== TEST 3: no model
--- http_config
    rtagent_llm_endpoint a https://api.openai.com/v1 key=k;
--- config
    location = /t { return 200; }
--- must_die
--- error_log
rtagent_llm_endpoint a: model= is required



=== TEST 4: a URL with a query, not http(s)
--- http_config
    rtagent_llm_endpoint a ftp://x/v1 model=m key=k;
--- config
    location = /t { return 200; }
--- must_die
--- error_log
rtagent_llm_endpoint a: "ftp://x/v1" must be an http:// or https:// URL without a query



=== TEST 5: an unknown parameter
--- http_config
    rtagent_llm_endpoint a https://x/v1 model=m key=k temperature=1;
--- config
    location = /t { return 200; }
--- must_die
--- error_log
rtagent_llm_endpoint a: unknown parameter "temperature=1"



=== TEST 6: a duplicate endpoint
--- http_config
    rtagent_llm_endpoint a https://x/v1 model=m key=k;
    rtagent_llm_endpoint a https://y/v1 model=m key=k;
--- config
    location = /t { return 200; }
--- must_die
--- error_log
rtagent_llm_endpoint "a" is duplicate



=== TEST 7: a key with a space is refused without showing it
--- http_config
    rtagent_llm_endpoint a https://x/v1 model=m "key=sk-secret value";
--- config
    location = /t { return 200; }
--- must_die
--- error_log
rtagent_llm_endpoint a: the key or token is empty or holds spaces or control characters
--- no_error_log
sk-secret



=== TEST 8: a key from a missing environment variable
--- http_config
    rtagent_llm_endpoint a https://x/v1 model=m key=env:RTAGENT_T072_NONE;
--- config
    location = /t { return 200; }
--- must_die
--- error_log
RTAGENT_T072_NONE



=== TEST 9: token= and api_version= are for azure only
--- http_config
    rtagent_llm_endpoint a https://x/v1 openai model=m token=t;
--- config
    location = /t { return 200; }
--- must_die
--- error_log
rtagent_llm_endpoint a: token= and api_version= are for azure



=== TEST 10: bounds of the location directives
--- config
    location = /t {
        rtagent_llm_max_tool_rounds 17;
        return 200;
    }
--- must_die
--- error_log
value must be between 1 and 16



=== TEST 11: a context budget under 100 tokens
--- config
    location = /t {
        rtagent_llm_context_budget 50;
        return 200;
    }
--- must_die
--- error_log
rtagent_llm_context_budget 50: at least 100 tokens



=== TEST 12: a good configuration starts
--- http_config
    rtagent_llm_endpoint gpt https://res.openai.azure.com/ azure model=gpt-4o key=k1;
    rtagent_llm_endpoint mini https://api.openai.com/v1 model=gpt-4o-mini key=k2;
    rtagent_model_route fast mini gpt;
    rtagent_model_route reasoning gpt;
--- config
    location = /t {
        rtagent_llm_first_token_timeout 2s;
        rtagent_llm_timeout 20s;
        rtagent_llm_max_tool_rounds 3;
        rtagent_llm_context_budget 8000;
        rtagent_tool_filler_after 500ms;
        rtagent_tool_filler "Just a second.";
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
