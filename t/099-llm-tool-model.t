# An agent's tool_model (agents/README.md): a turn's model requests after
# tool results go to that route, the first to the agent's model (without
# tool_model every request of a turn goes to model: t/093's tool round).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";
use RtagentNginx;
use RtagentToolStore;
use ChatMock;

use IO::Socket::INET;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
my $skip = chat_test_skip();
plan skip_all => $skip if $skip;

my $cp = $ENV{TEST_NGINX_CHAT_PORT};

my $dir = agents_dir('front.yaml' => <<'YAML');
name: front
description: Answers first.
greeting: Hi.
prompt: You verify callers.
model: first
tool_model: after
tools: [verify_identity]
YAML

my $call = 'stream=call+say,name=verify_identity,'
         . 'args=%7B%22policy%22%3A%2212345678%22%2C%22zip%22%3A%2260614%22%7D,'
         . 'text=Thanks%20Bob.';

my $m = test_module() or die 'no test module';
my $n = start_nginx(
    main => "load_module $m;",
    http => "rtagent_agents $dir;\nrtagent_entry_agent front;\n"
          . "rtagent_llm_endpoint first http://127.0.0.1:$cp/m/key=tm-first,$call/v1"
          . " model=gpt-first key=test-openai-key;\n"
          . "rtagent_llm_endpoint after http://127.0.0.1:$cp/m/key=tm-after,stream=say,"
          . "text=Verified./v1 model=gpt-after key=test-openai-key;\n",
    server => "location = /t { rtagent_test_llm_turns; }\n");

sub turns {
    my ($call, $lines) = @_;
    my $body = join("\n", @$lines);
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}",
                                  Timeout => 30) or die "connect: $!";
    print $s "POST /t?call=$call HTTP/1.0\r\n"
             . "Host: localhost\r\nContent-Length: " . length($body)
             . "\r\n\r\n$body";
    local $/;
    my $all = <$s> // '';
    close $s;
    $all =~ s/^.*?\r\n\r\n//s;
    return [ split /\n/, $all ];
}

sub rec { chat_mock_get("/__last?key=$_[0]" . ($_[1] ? "&n=$_[1]" : '')) }

my $t = turns('tm-1', ['Policy 12345678, zip 60614']);
is($t->[0], '1 caller: Verified. | after=listen target= | ok',
   'the answer after the tool came from the tool_model route')
    or diag error_log($n);
my $first = rec('tm-first');
like($first, qr/^model=gpt-first$/m, 'the first request went to model');
like($first, qr/^hits=1 /m, '... once');
my $after = rec('tm-after');
like($after, qr/^model=gpt-after$/m, 'the request after the tool result went to tool_model');
like($after, qr/^msg\.3=tool:\[call_mock_0\]:/m,
     '... with the tool result');
like($after, qr/^hits=1 /m, '... once');
stop_nginx($n);

done_testing();
