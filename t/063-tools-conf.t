# The tool store's templates are compiled when nginx reads its
# configuration: a bad template, or a header from an environment variable
# that is not set, stops nginx -t with the file, the line and the field
# named; good ones load.

use FindBin;
use lib "$FindBin::Bin/helpers";
use Test::Nginx::Socket 'no_plan';

$ENV{RTAGENT_TOOLS_TEST_KEY} = 'k3y';
$ENV{DISPATCH_TOKEN} = 'Bearer t0ken';
$ENV{TEST_NGINX_AGENTS} = "$FindBin::Bin/../agents";

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    return <$fh>;
}
delete $ENV{RTAGENT_TOOLS_UNSET};

repeat_each(1);
no_shuffle();

# the agent of most blocks: front, whose tools are the block's --- tools
# (its line 6 is their first line, as the errors' line numbers count)
my $front = <<'YAML';
name: front
description: Calls services.
greeting: Hello.
prompt: Use the tools.
tools:
YAML

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(user_files => [[ 'a/front.yaml',
                                       $front . $block->tools ]])
        if defined $block->tools;
    $block->set_value(config => '') unless defined $block->config;
    $block->set_value(http_config => "rtagent_agents html/a;\n"
                                   . "rtagent_entry_agent front;\n")
        unless defined $block->http_config;
});

run_tests();

__DATA__

=== TEST 1: good templates load
--- tools
  - name: weather
    description: The weather.
    http:
      url: https://api.example.com/v1/{zip}?units={units}
      headers:
        X-Key: env:RTAGENT_TOOLS_TEST_KEY
        X-Both: "{env:RTAGENT_TOOLS_TEST_KEY}/{call_id}"
  - name: post
    description: A JSON body.
    http:
      method: POST
      url: https://api.example.com/v1/items
      body: '{"a": "{a}", "b": {b}, "c": [{c}, "x{c}y"], "d": {"e": "{{e}}"}}'
  - name: note
    description: A redis tool.
    redis:
      command: [HSET, "rtagent:notes:{{call_id}}", "{agent}", "{note}"]
--- config
location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- no_error_log
[emerg]



=== TEST 2: the shipped custom example (an http and a redis tool) compiles
--- user_files eval
[ map { [ "a/$_.yaml",
          main::slurp("$ENV{TEST_NGINX_AGENTS}/"
                      . ($_ eq 'roadside' ? 'examples/' : '') . "$_.yaml") ] }
      qw(roadside support fnol) ]
--- http_config
rtagent_agents html/a;
rtagent_entry_agent roadside;
--- config
location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- no_error_log
[emerg]



=== TEST 3: a placeholder in the host
--- tools
  - name: weather
    description: The weather.
    http:
      url: https://{host}.example.com/v1
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent_agents: \S+/html/a/front\.yaml:9: tools\[0\]\.http\.url: a placeholder in the URL's host: the host must be written out}



=== TEST 4: not an http URL
--- tools
  - name: weather
    description: The weather.
    http:
      url: "{base}/v1"
--- must_die
--- error_log eval
qr{rtagent_agents: \S+/front\.yaml:9: tools\[0\]\.http\.url: not an http:// or https:// URL}



=== TEST 5: a body that is not JSON once filled
--- tools
  - name: ok_first
    description: Fine.
    redis:
      command: [GET, "x"]
  - name: post
    description: A JSON body.
    http:
      method: POST
      url: https://api.example.com/v1/items
      body: '{"a": {a} {b}}'
--- must_die
--- error_log eval
qr{rtagent_agents: \S+/front\.yaml:15: tools\[1\]\.http\.body: not a JSON template \(malformed JSON: }



=== TEST 6: a header from an environment variable that is not set
--- tools
  - name: weather
    description: The weather.
    http:
      url: https://api.example.com/v1
      headers:
        Authorization: env:RTAGENT_TOOLS_UNSET
--- must_die
--- error_log eval
qr{rtagent_agents: \S+/front\.yaml:11: tools\[0\]\.http\.headers: the environment variable "RTAGENT_TOOLS_UNSET" is not set}



=== TEST 7: a space in the URL
--- tools
  - name: weather
    description: The weather.
    http:
      url: "https://api.example.com/v1?q=a b"
--- must_die
--- error_log eval
qr{tools\[0\]\.http\.url: a space, control or non-ASCII byte in the URL}



=== TEST 8: a header name that is not a token
--- tools
  - name: weather
    description: The weather.
    http:
      url: https://api.example.com/v1
      headers:
        "X-A: b\r\nX-Evil": v
--- must_die
--- error_log eval
qr{rtagent_agents: \S+/front\.yaml:11: tools\[0\]\.http\.headers: a header name with a space, control or separator byte}
