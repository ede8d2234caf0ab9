# The LLM engine's token budget counts the tools sent with the request
# (src/llm/ngx_http_rtagent_llm_responder.c): tokens are estimated as
# bytes / 4, 4 more a message, and the tools' JSON (their schemas, as
# sent) is charged like the system prompt before the context is trimmed.
# Two agents with the same prompt and the same stored context under the
# same rtagent_llm_context_budget: the one without tools gets all of it,
# the one with verify_identity and end_call (about 135 tokens of schema)
# only the newest entries.  Driven as text turns (rtagent_test_llm_turns)
# against the chat mock, with a real Redis.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";
use RtagentNginx;
use RtagentRedis;
use RtagentToolStore;
use ChatMock;

use IO::Socket::INET;
use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
my $skip = chat_test_skip();
plan skip_all => $skip if $skip;

my $cp = $ENV{TEST_NGINX_CHAT_PORT};

my $dir = agents_dir(
    'tooly.yaml' => <<'YAML',
name: tooly
description: Has tools.
greeting: Hi.
prompt: You help.
tools: [verify_identity, end_call]
YAML
    'plain.yaml' => <<'YAML',
name: plain
description: Has none.
greeting: Hi.
prompt: You help.
tools: []
YAML
);

my $r = start_redis();
my $m = test_module() or die 'no test module';
my $n = start_nginx(
    main => "load_module $m;",
    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
          . "rtagent_agents $dir;\nrtagent_entry_agent tooly;\n"
          . "rtagent_llm_endpoint b http://127.0.0.1:$cp/m/key=b-budget,"
          . "stream=say,text=Ok./v1 model=gpt-test key=test-openai-key;\n",
    server => 'location = /t { rtagent_llm_route b;'
            . ' rtagent_llm_context_budget 280; rtagent_test_llm_turns; }');

ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);

sub turn {
    my ($call, $line) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}",
                                  Timeout => 30) or die "connect: $!";
    print $s "POST /t?call=$call HTTP/1.0\r\nHost: localhost\r\n"
             . 'Content-Length: ' . length($line) . "\r\n\r\n$line";
    local $/;
    my $all = <$s> // '';
    close $s;
    $all =~ s/^.*?\r\n\r\n//s;
    return $all;
}

# four stored entries of 200 bytes (54 tokens each with their message)
my @e = map { "$_ " . ('x' x 197) } qw(e1 e2 e3 e4);

sub stored {
    my ($call, $agent) = @_;
    redis($r, 'HSET', "rtagent:call:{$call}", 'agent', $agent);
    redis($r, 'RPUSH', "rtagent:call:{$call}:context",
          map { encode_json({ agent => $agent, role => 'agent', text => $_ }) }
              @e);
}

# no tools: system 7 + caller 5 + 4 x 54 = 228 tokens, within 280
stored('c-plain', 'plain');
like(turn('c-plain', 'Now'), qr/\| ok$/m, 'the agent without tools answers');
my $rec = chat_mock_get('/__last?key=b-budget');
like($rec, qr/^tools=$/m, 'no tools in its request') or diag $rec;
like($rec, qr/^msg\.0=system:You help\.\nmsg\.1=assistant:e1 x+\nmsg\.2=assistant:e2 x+\nmsg\.3=assistant:e3 x+\nmsg\.4=assistant:e4 x+\nmsg\.5=user:Now$/m,
     'the whole context fits the budget');
chat_mock_get('/__forget?key=b-budget');

# the same with tools: their JSON (about 135 tokens) leaves room for two
stored('c-tooly', 'tooly');
like(turn('c-tooly', 'Now'), qr/\| ok$/m, 'the agent with tools answers');
$rec = chat_mock_get('/__last?key=b-budget');
like($rec, qr/^tools=verify_identity,end_call$/m, 'its tools are sent')
    or diag $rec;
like($rec, qr/^msg\.0=system:You help\.\nmsg\.1=assistant:e3 x+\nmsg\.2=assistant:e4 x+\nmsg\.3=user:Now$/m,
     'the tools push the oldest entries out: the newest two are sent');
unlike($rec, qr/e1 x|e2 x/, 'the two oldest are left out');

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no alert, no crash');
stop_nginx($n);
done_testing();
