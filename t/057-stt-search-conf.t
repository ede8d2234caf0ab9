# STT searches at configuration time: the agents' local sections register
# theirs ("<agent>.<slot>", "<agent>.confirm", "<agent>.intents") when they
# load, rtagent_stt_search adds others from files, and every bad one stops
# nginx -t with the search named: a grammar that does not parse, a word
# of a grammar the pocketsphinx dictionary lacks, phrases with no known
# word, a duplicate name, an rtagent_stt_expect naming no search.  A word
# of a phrase the dictionary lacks is left out with a warning.

use FindBin;
use lib "$FindBin::Bin/helpers";
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_AGENTS} = "$FindBin::Bin/../agents";

repeat_each(1);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => 'location = /t { return 200 "ok\n"; }')
        unless defined $block->config;
    $block->set_value(request => 'GET /t')
        unless defined $block->request || defined $block->must_die;
});

run_tests();

__DATA__

=== TEST 1: the shipped agents register their searches; a location expects one
--- http_config
rtagent_agents $TEST_NGINX_AGENTS;
--- config
location = /t {
    rtagent_stt_expect fnol.where;
    return 200 "ok\n";
}
location = /u {
    rtagent_stt_expect auth.policy;
    return 200 "ok\n";
}
--- response_body
ok
--- error_log eval
qr/\[notice\] .*rtagent: 23 STT searches for the agents' local dialogues/
--- no_error_log
[emerg]
[warn]



=== TEST 2: a test agent's searches by name, one per slot, confirm, intents
--- user_files
>>> ok/auth.yaml
name: auth
description: Verifies.
greeting: Hello.
prompt: Verify.
local:
  slots:
    - name: policy
      question: Your policy number?
      type: digits
      length: 8
    - name: where
      question: Where?
      type: free_text
      examples: [on highway ten, by the zqxwv bridge]
    - name: count
      question: How many?
      type: number
      min: 1
      max: 5
      confirm: true
  intents:
    - name: human
      keywords: [agent, person]
      examples: [let me talk to a person]
--- http_config
rtagent_agents html/ok;
--- config
location /t {
    rtagent_stt_expect auth.policy;
    location = /t/1 { rtagent_stt_expect auth.where; }
    location = /t/2 { rtagent_stt_expect auth.count; }
    location = /t/3 { rtagent_stt_expect auth.confirm; }
    location = /t/4 { rtagent_stt_expect auth.intents; }
    return 200 "ok\n";
}
--- response_body
ok
--- error_log eval
[qr/\[notice\] .*rtagent: 5 STT searches for the agents' local dialogues/,
 qr/\[warn\] .*rtagent stt search "auth\.where" of \S+\/html\/ok\/auth\.yaml: "zqxwv" is not in the pocketsphinx dictionary, left out/]
--- no_error_log
[emerg]



=== TEST 3: an agent's search with no word the STT knows fails, named
--- user_files
>>> bad/auth.yaml
name: auth
description: Verifies.
greeting: Hello.
prompt: Verify.
local:
  slots:
    - name: where
      question: Where?
      type: free_text
      examples: [zqxwv blorfle]
      vocabulary: [qqzzx]
--- http_config
rtagent_agents html/bad;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent stt search "auth\.where" of \S+/html/bad/auth\.yaml: no word of its phrases is in the pocketsphinx dictionary}



=== TEST 4: no search of that name
--- user_files
>>> ok/auth.yaml
name: auth
description: Verifies.
greeting: Hello.
prompt: Verify.
local:
  slots:
    - name: policy
      question: Your policy number?
      type: digits
--- http_config
rtagent_agents html/ok;
--- config
location = /t {
    rtagent_stt_expect auth.zip;
    return 200 "ok\n";
}
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent_stt_expect: no STT search "auth\.zip" is registered \(rtagent_stt_search or an agent's local section\) in \S+nginx\.conf:\d+}



=== TEST 5: rtagent_stt_search: a grammar and phrases from files
--- user_files
>>> digits.jsgf
#JSGF V1.0;
grammar digits;
public <digits> = <d>+;
<d> = zero | oh | one | two | three | four | five | six | seven | eight | nine;
>>> where.txt
# one phrase a line
on highway ten
in the parking lot at work
--- http_config
rtagent_stt_search digits jsgf ../html/digits.jsgf;
rtagent_stt_search where phrases ../html/where.txt;
rtagent_stt_expect digits;
--- config
location = /t {
    rtagent_stt_expect where;
    return 200 "ok\n";
}
--- response_body
ok
--- no_error_log
[emerg]
[warn]



=== TEST 6: a grammar that does not parse
--- user_files
>>> bad.jsgf
#JSGF V1.0;
grammar bad;
public <a> = (yes | no;
--- http_config
rtagent_stt_search yes_no jsgf ../html/bad.jsgf;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent stt search "yes_no" of \S+/html/bad\.jsgf: the JSGF grammar does not parse: syntax error}



=== TEST 7: a grammar word the dictionary lacks
--- user_files
>>> oov.jsgf
#JSGF V1.0;
grammar oov;
public <a> = yes | zqxwv;
--- http_config
rtagent_stt_search yes_no jsgf ../html/oov.jsgf;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent stt search "yes_no" of \S+/html/oov\.jsgf: the word "zqxwv" of the grammar is not in the pocketsphinx dictionary}



=== TEST 8: a grammar without a public rule
--- user_files
>>> private.jsgf
#JSGF V1.0;
grammar private;
<a> = yes | no;
--- http_config
rtagent_stt_search yes_no jsgf ../html/private.jsgf;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent stt search "yes_no" of \S+/html/private\.jsgf: the JSGF grammar has no public rule}



=== TEST 9: a duplicate name
--- user_files
>>> a.jsgf
#JSGF V1.0;
grammar a;
public <a> = yes | no;
--- http_config
rtagent_stt_search yes_no jsgf ../html/a.jsgf;
rtagent_stt_search yes_no jsgf ../html/a.jsgf;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent stt search "yes_no" of \S+/html/a\.jsgf: duplicate name}



=== TEST 10: a name of pocketsphinx's own
--- user_files
>>> a.jsgf
#JSGF V1.0;
grammar a;
public <a> = yes | no;
--- http_config
rtagent_stt_search _default jsgf ../html/a.jsgf;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent stt search "_default" of \S+/html/a\.jsgf: the name must be 1 to 128 bytes, not starting with "_"}



=== TEST 11: rtagent_stt_local_decoders takes 1 to 64
--- http_config
rtagent_stt_local_decoders 0;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent_stt_local_decoders must be 1 to 64, not 0}



=== TEST 12: a file that cannot be read
--- http_config
rtagent_stt_search yes_no jsgf ../html/nowhere.jsgf;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent_stt_search "yes_no": "\.\./html/nowhere\.jsgf" cannot be read}
