# rtagent_agents and rtagent_entry_agent: a folder of agent files loads at
# configuration time (the shipped agents/ among them), and every kind of bad
# agent file stops nginx -t with the file, the line and the field named.

use FindBin;
use lib "$FindBin::Bin/helpers";
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_AGENTS} = "$FindBin::Bin/../agents";

repeat_each(1);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => '') unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: the shipped agents load, auth is the entry agent
--- http_config
rtagent_agents $TEST_NGINX_AGENTS;
--- config
location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[notice\] .*rtagent: 5 agents loaded \(auth, fnol, healthcare, legal, support\) from "[^"]*\/agents", entry agent "auth"/
--- no_error_log
[emerg]



=== TEST 2: a folder of the test's own, relative to the prefix, another entry agent
--- user_files
>>> good/front.yaml
name: front
description: Answers first.
greeting: Hello.
prompt: Route the caller.
tools: [verify_identity, weather]
handoffs: [claims]
>>> good/claims.yaml
name: claims
description: Files claims.
greeting: Claims here.
prompt_file: claims.prompt.md
tools:
  - create_claim
  - name: weather
    description: The weather at a ZIP code.
    http:
      url: https://api.example.com/weather/{zip}
>>> good/claims.prompt.md
You file claims.
>>> good/notes.txt
not an agent: only *.yaml files are read
--- http_config
rtagent_agents html/good/;
rtagent_entry_agent front;
--- config
location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- log_level: debug
--- error_log eval
use Digest::MD5 qw(md5_hex);
# the version covers the prompt file too
my $v = md5_hex("name: claims\ndescription: Files claims.\ngreeting: Claims here.\n"
    . "prompt_file: claims.prompt.md\ntools:\n  - create_claim\n"
    . "  - name: weather\n    description: The weather at a ZIP code.\n"
    . "    http:\n      url: https://api.example.com/weather/{zip}\n"
    . "You file claims.\n");
[qr/rtagent: 2 agents loaded \(claims, front\) from "[^"]*\/html\/good", entry agent "front"/,
 qr/rtagent: agent "claims" from "[^"]*\/html\/good\/claims\.yaml", version $v$/]



=== TEST 3: an unknown key
--- user_files
>>> unknown/fnol.yaml
name: fnol
description: Files claims.
greeting: Hello.
prompt: Be kind.
local:
  slots:
    - name: when
      question: When did it happen?
      type: date
      questoin: Where?
--- http_config
rtagent_agents html/unknown;
rtagent_entry_agent fnol;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent_agents: \S+/html/unknown/fnol\.yaml:10: local\.slots\[0\]\.questoin: unknown key in \S+nginx\.conf:\d+}



=== TEST 4: a wrong type
--- user_files
>>> type/auth.yaml
name: auth
description: Verifies callers.
greeting: Hello.
prompt: Verify.
memory:
  load_profile: true
  context_turns: a few
--- http_config
rtagent_agents html/type;
--- must_die
--- error_log eval
qr{rtagent_agents: \S+/html/type/auth\.yaml:7: memory\.context_turns: expected an integer from 0 to 1000}



=== TEST 5: a missing required field
--- user_files
>>> missing/auth.yaml
name: auth
description: Verifies callers.
prompt: Verify.
--- http_config
rtagent_agents html/missing;
--- must_die
--- error_log eval
qr{rtagent_agents: \S+/html/missing/auth\.yaml:1: greeting: required field missing}



=== TEST 6: a handoff to an agent that does not exist
--- user_files
>>> handoff/auth.yaml
name: auth
description: Verifies callers.
greeting: Hello.
prompt: Verify.
handoffs:
  - fnol
  - legal
>>> handoff/fnol.yaml
name: fnol
description: Files claims.
greeting: Hello.
prompt: Be kind.
--- http_config
rtagent_agents html/handoff;
--- must_die
--- error_log eval
qr{rtagent_agents "\S+/html/handoff": \S+/html/handoff/auth\.yaml:7: handoffs\[1\]: no agent named "legal"}



=== TEST 7: a tool that is neither built in nor defined by an agent
--- user_files
>>> tool/auth.yaml
name: auth
description: Verifies callers.
greeting: Hello.
prompt: Verify.
tools:
  - verify_identity
  - transfer_call
--- http_config
rtagent_agents html/tool;
--- must_die
--- error_log eval
qr{\S+/html/tool/auth\.yaml:7: tools\[1\]: unknown tool "transfer_call": not built in \(verify_identity, lookup_policy, create_claim, schedule_appointment, transfer_to_human, end_call\) and defined by no agent}



=== TEST 8: the entry agent is missing (default auth)
--- user_files
>>> noentry/fnol.yaml
name: fnol
description: Files claims.
greeting: Hello.
prompt: Be kind.
--- http_config
rtagent_agents html/noentry;
--- must_die
--- error_log
entry agent "auth": no agent of that name is defined



=== TEST 9: the entry agent named by rtagent_entry_agent is missing
--- user_files
>>> noentry2/auth.yaml
name: auth
description: Verifies callers.
greeting: Hello.
prompt: Verify.
--- http_config
rtagent_agents html/noentry2;
rtagent_entry_agent front;
--- must_die
--- error_log
entry agent "front": no agent of that name is defined



=== TEST 10: two files with one agent name
--- user_files
>>> dup/auth.yaml
name: auth
description: Verifies callers.
greeting: Hello.
prompt: Verify.
>>> dup/auth2.yaml
# a copy that forgot to rename the agent
name: auth
description: Verifies callers too.
greeting: Hello.
prompt: Verify.
--- http_config
rtagent_agents html/dup;
--- must_die
--- error_log eval
qr{\S+/html/dup/auth2\.yaml:2: name: agent "auth" is already defined in \S+/html/dup/auth\.yaml:1}



=== TEST 11: a YAML syntax error
--- user_files
>>> syntax/auth.yaml
name: auth
description: Verifies callers.
greeting: Hello.
prompt: Verify.
tools: [verify_identity, end_call
handoffs: []
--- http_config
rtagent_agents html/syntax;
--- must_die
--- error_log eval
qr{rtagent_agents: \S+/html/syntax/auth\.yaml:6: yaml: did not find expected ',' or '\]' while parsing a flow sequence}



=== TEST 12: a folder that does not exist
--- http_config
rtagent_agents html/nowhere;
--- must_die
--- error_log eval
qr{rtagent_agents: stat\(\) "\S+/html/nowhere" failed}



=== TEST 13: a folder without agent files
--- user_files
>>> empty/README.md
nothing here
--- http_config
rtagent_agents html/empty;
--- must_die
--- error_log eval
qr{rtagent_agents: no \*\.yaml agent files in "\S+/html/empty"}



=== TEST 14: a prompt_file that cannot be read
--- user_files
>>> noprompt/auth.yaml
name: auth
description: Verifies callers.
greeting: Hello.
prompt_file: auth.md
--- http_config
rtagent_agents html/noprompt;
--- must_die
--- error_log eval
qr{rtagent_agents: \S+/html/noprompt/auth\.yaml:4: prompt_file: open\(\) "\S+/html/noprompt/auth\.md" failed \(2: No such file or directory\)}



=== TEST 15: rtagent_entry_agent without rtagent_agents
--- http_config
rtagent_entry_agent auth;
--- must_die
--- error_log
rtagent_entry_agent "auth" needs rtagent_agents



=== TEST 16: rtagent_agents is not allowed in a server block
--- config
rtagent_agents html;
--- must_die
--- error_log
"rtagent_agents" directive is not allowed here
