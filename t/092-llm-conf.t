# The LLM engine's directives refused at nginx -t (src/llm/
# ngx_http_rtagent_llm_module.c), each naming what is wrong and never a
# secret's value; and rtagent_engine llm in a location whose calls could
# not be answered (no agents, no model route for the entry agent or for
# an agent its handoffs reach).

use FindBin;
use Test::Nginx::Socket;

plan 'no_plan';

$ENV{TEST_NGINX_AGENTS} = "$FindBin::Bin/../agents";

repeat_each(1);
no_shuffle();

# --- llm_location: a location /ws answered by rtagent_engine llm (speech
# by OpenAI, never reached), with these directives besides
add_block_preprocessor(sub {
    my $block = shift;
    my $extra = $block->llm_location // return;
    $block->set_value(main_config => 'thread_pool rtagent_speech threads=1;');
    $block->set_value(http_config => "rtagent_openai_audio_key k;\n"
                                     . ($block->http_config // ''));
    $block->set_value(config => "location = /ws { rtagent_engine llm;"
                                . " rtagent_stt openai; rtagent_tts openai;"
                                . " $extra return 200 \"ok\\n\"; }");
});

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



=== TEST 13: rtagent_engine llm without agents
--- http_config
    rtagent_llm_endpoint default https://x/v1 model=m key=k;
--- llm_location
--- must_die
--- error_log
rtagent_engine llm in location "/ws": no agents to answer (rtagent_agents)



=== TEST 14: rtagent_engine llm with no route for the entry agent's model
--- http_config
    rtagent_agents $TEST_NGINX_AGENTS;
    rtagent_entry_agent auth;
    rtagent_llm_endpoint reasoning https://x/v1 model=m key=k;
--- llm_location
--- must_die
--- error_log
rtagent_engine llm in location "/ws": no model route for the entry agent "auth": neither its model "fast" nor rtagent_llm_route "default" is an rtagent_model_route or rtagent_llm_endpoint



=== TEST 15: rtagent_llm_route naming no endpoint or route
--- http_config
    rtagent_agents $TEST_NGINX_AGENTS;
    rtagent_entry_agent support;
    rtagent_llm_endpoint reasoning https://x/v1 model=m key=k;
--- llm_location
rtagent_llm_route mini;
--- must_die
--- error_log
rtagent_engine llm in location "/ws": no model route for the entry agent "support": neither its model "fast" nor rtagent_llm_route "mini"



=== TEST 16: the location's rtagent_llm_route answers for every agent
--- http_config
    rtagent_agents $TEST_NGINX_AGENTS;
    rtagent_entry_agent auth;
    rtagent_llm_endpoint mini https://x/v1 model=m key=k;
--- llm_location
rtagent_llm_route mini;
--- request
GET /ws
--- response_body
ok
--- no_error_log
no model route



=== TEST 17: the entry agent's tool_model with no route
--- user_files
>>> llm17/front.yaml
name: front
description: Answers first.
greeting: Hello.
prompt: Help the caller.
model: mini
tool_model: big
tools: [end_call]
--- http_config
    rtagent_agents html/llm17;
    rtagent_entry_agent front;
    rtagent_llm_endpoint mini https://x/v1 model=m key=k;
--- llm_location
--- must_die
--- error_log
rtagent_engine llm in location "/ws": no model route for the entry agent "front": neither its tool_model "big" nor rtagent_llm_route "default"



=== TEST 18: an agent reached by handoffs, two deep, with no route
--- user_files
>>> llm18/front.yaml
name: front
description: Answers first.
greeting: Hello.
prompt: Help the caller.
model: mini
tools: [end_call]
handoffs: [middle]
>>> llm18/middle.yaml
name: middle
description: Passes the caller on.
greeting: Hello.
prompt: Pass the caller on.
model: mini
tools: [end_call]
handoffs: [front, deep]
>>> llm18/deep.yaml
name: deep
description: Thinks hard.
greeting: Hello.
prompt: Think hard.
model: big
tools: [end_call]
handoffs: [front]
--- http_config
    rtagent_agents html/llm18;
    rtagent_entry_agent front;
    rtagent_llm_endpoint mini https://x/v1 model=m key=k;
--- llm_location
--- must_die
--- error_log
rtagent_engine llm in location "/ws": no model route for the agent "deep" (a handoff of "middle"): neither its model "big" nor rtagent_llm_route "default" is an rtagent_model_route or rtagent_llm_endpoint



=== TEST 19: every agent reached by handoffs with its route starts
--- user_files
>>> llm19/front.yaml
name: front
description: Answers first.
greeting: Hello.
prompt: Help the caller.
model: mini
tools: [end_call]
handoffs: [middle]
>>> llm19/middle.yaml
name: middle
description: Passes the caller on.
greeting: Hello.
prompt: Pass the caller on.
model: mini
tool_model: big
tools: [end_call]
handoffs: [front, deep]
>>> llm19/deep.yaml
name: deep
description: Thinks hard.
greeting: Hello.
prompt: Think hard.
model: big
tools: [end_call]
handoffs: [front]
>>> llm19/alone.yaml
name: alone
description: Reached by no handoff.
greeting: Hello.
prompt: Nobody hands over to me.
model: nowhere
tools: [end_call]
--- http_config
    rtagent_agents html/llm19;
    rtagent_entry_agent front;
    rtagent_llm_endpoint mini https://x/v1 model=m key=k;
    rtagent_model_route big mini;
--- llm_location
--- request
GET /ws
--- response_body
ok
--- no_error_log
no model route
