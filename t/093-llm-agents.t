# The LLM engine's responder (rtagent_engine llm, src/llm/
# ngx_http_rtagent_llm_responder.c) driven as text turns (rtagent_test_llm_
# turns) against the chat mock, with agents of its own, the demo
# policyholders and a real Redis: the greeting, the entry agent's prompt
# and tools, the context read from and written to Redis, a tool round with
# the result sent back, a handoff that switches prompt and tools for the
# rest of the call, the filler line while a tool runs, invalid arguments,
# the round limit, length / content_filter / mid-stream errors, a
# transfer, and a barge-in whose unspoken rest stays out of the context.

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
    'front.yaml' => <<'YAML',
name: front
description: Answers first.
greeting: Hi, this is the front desk.
prompt: You verify callers.
tools: [verify_identity, transfer_to_human, slow_lookup]
handoffs: [claims]
escalation:
  target: queue:front
YAML
    'claims.yaml' => <<'YAML',
name: claims
description: Files claims.
greeting: Claims here.
prompt: You file claims.
tools: [create_claim, end_call]
YAML
    'tools.yaml' => <<"YAML",
name: tooling
description: Holds a slow tool.
greeting: Hi.
prompt: Nothing.
tools:
  - name: slow_lookup
    description: Looks something up, slowly.
    arguments: [what]
    http:
      method: POST
      url: http://127.0.0.1:$cp/m/key=slowtool,hang=1/v1/chat/completions
      timeout_ms: 800
YAML
);

# one endpoint (a mock script) per scenario, picked by the location's route
my %script = (
    greet  => 'key=s-greet,stream=say,text=How%20can%20I%20help%3F',
    tool   => 'key=s-tool,stream=call+say,name=verify_identity,'
              . 'args=%7B%22policy%22%3A%2212345678%22%2C%22zip%22%3A%2260614%22%7D,'
              . 'text=Thanks%20Bob.',
    hand   => 'key=s-hand,stream=call+say+say,name=handoff_to_claims,'
              . 'args=%7B%22summary%22%3A%22a%20car%20accident%22%7D,'
              . 'text=Claims%20desk%2C%20tell%20me%20more.',
    slow   => 'key=s-slow,stream=call+say,name=slow_lookup,'
              . 'args=%7B%22what%22%3A%22x%22%7D,text=Done.',
    bad    => 'key=s-bad,stream=call+say,name=verify_identity,'
              . 'args=%7B%22policy%22,text=Sorry.',
    loop   => 'key=s-loop,stream=call,name=verify_identity,'
              . 'args=%7B%22policy%22%3A%221%22%2C%22zip%22%3A%222%22%7D',
    length => 'key=s-length,stream=length',
    filter => 'key=s-filter,stream=filter',
    error  => 'key=s-error,stream=error',
    xfer   => 'key=s-xfer,stream=call+say,name=transfer_to_human,'
              . 'args=%7B%22reason%22%3A%22asked%22%7D,text=Connecting%20you.',
    barge  => 'key=s-barge,stream=say,delay=150,'
              . 'text=one%20two%20three%20four%20five%20six%20seven%20eight',
    down   => 'key=s-down,code=500',
    budget => 'key=s-budget,stream=say',
    cap    => 'key=s-cap,stream=call+say,name=verify_identity,'
              . 'args=%7B%22policy%22%3A%2212345678%22%2C%22zip%22%3A%2260614%22%7D,'
              . 'text=Ok.',
);

my $http = '';
my $server = '';
for my $s (sort keys %script) {
    $http .= "rtagent_llm_endpoint $s http://127.0.0.1:$cp/m/$script{$s}/v1"
           . " model=gpt-test key=test-openai-key;\n";
    $server .= "location = /$s { rtagent_llm_route $s;"
             . " rtagent_llm_max_tool_rounds 3;"
             . " rtagent_tool_filler_after 300ms;"
             . ($s eq 'budget' ? ' rtagent_llm_context_budget 340;' : '')
             . ($s eq 'cap' ? ' rtagent_llm_tool_result_max 16;' : '')
             . " rtagent_test_llm_turns; }\n";
}

my $r = start_redis();
my $m = test_module() or die 'no test module';
my $n = start_nginx(
    main => "load_module $m;",
    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
          . "rtagent_agents $dir;\nrtagent_entry_agent front;\n"
          . "rtagent_agent_data $FindBin::Bin/../agents/data/policyholders.yaml;\n"
          . $http,
    server => $server);

ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);

sub turns {
    my ($loc, $call, $lines, $q) = @_;
    my $body = join("\n", @$lines);
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}",
                                  Timeout => 30) or die "connect: $!";
    print $s "POST /$loc?call=$call" . ($q ? "&$q" : '') . " HTTP/1.0\r\n"
             . "Host: localhost\r\nContent-Length: " . length($body)
             . "\r\n\r\n$body";
    local $/;
    my $all = <$s> // '';
    close $s;
    $all =~ s/^.*?\r\n\r\n//s;
    return [ split /\n/, $all ];
}

sub rec { chat_mock_get("/__last?key=$_[0]" . ($_[1] ? "&n=$_[1]" : '')) }

sub context {
    my ($call) = @_;
    return [ map { decode_json($_) }
             @{ redis($r, 'LRANGE', "rtagent:call:{$call}:context", 0, -1) } ];
}

# ---- the greeting, then a text turn with the context -----------------------

my $t = turns('greet', 'c-greet', ['Hello'], 'greet=1');
is($t->[0], '1 greeting: Hi, this is the front desk. | after=listen target= | ok',
   "the greeting turn says the entry agent's greeting");
is($t->[1], '2 caller: How~ can~ I~ help? | after=listen target= | ok',
   'the text deltas reach the session as they arrive');
my $rec = rec('s-greet');
like($rec, qr/^msg\.0=system:You verify callers\.$/m,
     "the system prompt is the entry agent's");
like($rec, qr/^msg\.1=assistant:Hi, this is the front desk\.\nmsg\.2=user:Hello$/m,
     'the greeting and the caller in the messages');
like($rec, qr/^tools=verify_identity,transfer_to_human,slow_lookup,handoff_to_claims$/m,
     "the agent's tools and its handoff as function tools");
like($rec, qr/^tool\.slow_lookup=\{"type":"object","properties":\{"what":\{"type":"string"\}\},"required":\["what"\]\}$/m,
     "a defined tool's arguments as its schema");
like($rec, qr/"description":"Hand the caller over to the claims agent: Files claims\."/,
     "the handoff's description names the target");
my $c = context('c-greet');
is_deeply([ map { "$_->{agent}/$_->{role}:$_->{text}" } @$c ],
          ['front/agent:Hi, this is the front desk.', 'front/caller:Hello',
           'front/agent:How can I help?'],
          'the context list in Redis: greeting, caller, reply');
my $ttl = redis($r, 'TTL', 'rtagent:call:{c-greet}:context');
ok($ttl > 3500 && $ttl <= 3600, "the context has a 1 h TTL ($ttl)");

# a call resumed on this worker: the context is read back from Redis
redis($r, 'RPUSH', 'rtagent:call:{c-resume}:context',
      encode_json({ agent => 'front', role => 'caller', text => 'Earlier words' }),
      encode_json({ agent => 'front', role => 'agent', text => 'Earlier reply' }));
$t = turns('greet', 'c-resume', ['Again']);
like($t->[0], qr/\| ok$/, 'a resumed call answers');
$rec = rec('s-greet');
like($rec, qr/^msg\.1=user:Earlier words\nmsg\.2=assistant:Earlier reply\nmsg\.3=user:Again$/m,
     'the stored context comes before the new words');

# the token budget: bytes / 4 a token, 4 a message, front's tools (their
# JSON: 987 bytes, 247 tokens) always; the newest entries go
my ($e1, $e2, $e3) = map { "$_ " . ('x' x 198) } qw(a1 b2 c3);
redis($r, 'RPUSH', 'rtagent:call:{c-budget}:context',
      map { encode_json({ agent => 'front', role => 'agent', text => $_ }) }
          $e1, $e2, $e3);
$t = turns('budget', 'c-budget', ['Now']);
like($t->[0], qr/\| ok$/, 'a turn with a long context answers');
$rec = rec('s-budget');
like($rec, qr/^msg\.0=system:You verify callers\.\nmsg\.1=assistant:c3 x+\nmsg\.2=user:Now$/m,
     'only what fits rtagent_llm_context_budget 340: the newest entry');
unlike($rec, qr/a1 x|b2 x/, 'the older entries are left out');

# ---- a tool round -----------------------------------------------------------

$t = turns('tool', 'c-tool', ['My policy is 12345678, zip 60614']);
is($t->[0], '1 caller: Thanks~ Bob. | after=listen target= | ok',
   'the model called verify_identity, then answered');
$rec = rec('s-tool', 2);
like($rec, qr/^msg\.2=assistant:call:verify_identity\(\{"policy":"12345678","zip":"60614"\}\)$/m,
     'the second request has the call');
like($rec, qr/^msg\.3=tool:\[call_mock_0\]:\{[^\n]*"verified":"yes"[^\n]*"name":"Bob Martinez"/m,
     "and the tool store's result for it");
is(scalar(() = rec('s-tool') =~ /^hits=2/mg), 1, 'two requests in the turn');

# a result over rtagent_llm_tool_result_max is cut, and says so
$t = turns('cap', 'c-cap', ['My policy is 12345678, zip 60614']);
like($t->[0], qr/\| ok$/, 'a turn with a big tool result answers');
like(rec('s-cap', 2), qr/^msg\.3=tool:\[call_mock_0\]:(.{16})\.\.\.\(cut\)$/m,
     'the result is cut at 16 bytes');

# ---- a handoff ------------------------------------------------------------

$t = turns('hand', 'c-hand', ['I had a car accident', 'It was yesterday']);
is($t->[0], '1 caller: Claims~ desk,~ tell~ me~ more. | after=listen target= | ok',
   'the handoff turn is answered by the target');
like($t->[1], qr/^2 caller: .* \| ok$/, 'the next turn too');
$rec = rec('s-hand', 2);
like($rec, qr/^msg\.0=system:You file claims\.\\n\\nThe caller was handed to you with this summary: a car accident$/m,
     "after the handoff: the target's prompt with the summary");
like($rec, qr/^tools=create_claim,end_call$/m, "and the target's tools");
$rec = rec('s-hand', 3);
like($rec, qr/^msg\.0=system:You file claims\./m,
     'the rest of the call stays with the target');
like($rec, qr/^msg\.1=user:I had a car accident\nmsg\.2=assistant:Claims desk, tell me more\.\nmsg\.3=user:It was yesterday$/m,
     'the conversation after the handoff');
is(redis($r, 'HGET', 'rtagent:call:{c-hand}', 'agent'), 'claims',
   "the call hash names the active agent");
is_deeply([ map { $_->{agent} } @{ context('c-hand') } ],
          [qw(front claims claims claims)],
          'context entries name the agent that heard or said them');
like(error_log($n), qr/rtagent llm: handoff from front to claims, call: c-hand/,
     'the handoff is logged');

# ---- the filler line while a slow tool runs --------------------------------

$t = turns('slow', 'c-slow', ['Look it up']);
like($t->[0], qr/^1 caller: One moment while I check that\. ~Done\. \| after=listen target= \| ok$/,
     'the filler is said while the tool runs, then the answer');
like(rec('s-slow', 2), qr/^msg\.3=tool:\[call_mock_0\]:\{"error":/m,
     "the tool's timeout goes back to the model as its result");

# ---- invalid arguments are not run ------------------------------------------

$t = turns('bad', 'c-bad', ['Verify me']);
is($t->[0], '1 caller: Sorry. | after=listen target= | ok', 'answered after the bad call');
like(rec('s-bad', 2), qr/^msg\.3=tool:\[call_mock_0\]:\{"error":"the arguments are not a JSON object"\}$/m,
     'the model is told its arguments were bad');
like(error_log($n), qr/rtagent llm: tool call verify_identity: arguments are not valid JSON, call: c-bad/,
     'logged with the call id');

# ---- the round limit --------------------------------------------------------

$t = turns('loop', 'c-loop', ['Again and again']);
is($t->[0], '1 caller:  | after=listen target= | error: too many tool rounds',
   'a model that keeps calling tools is stopped');
like(rec('s-loop'), qr/^hits=3/m, 'after rtagent_llm_max_tool_rounds requests');

# ---- finish reasons and errors -----------------------------------------------

$t = turns('length', 'c-length', ['Talk']);
is($t->[0], '1 caller: {"~ I am sorry, I have to stop there. | after=listen target= | '
          . 'error: the reply was cut at the length limit (finish_reason length)',
   'length: a graceful line, then an error for ERROR_OCCURRED');
$t = turns('filter', 'c-filter', ['Talk']);
is($t->[0], '1 caller: I see.~ I am sorry, I cannot help with that. | after=listen target= | '
          . 'error: the reply was filtered (finish_reason content_filter)',
   'content_filter: a graceful line, then an error');
$t = turns('error', 'c-error', ['Talk']);
like($t->[0], qr/^1 caller: Let me \| after=listen target= \| error: error event: The server had an error/,
     "a mid-stream error: the text so far, then the turn's error path");
$t = turns('down', 'c-down', ['Talk']);
is($t->[0], '1 caller:  | after=listen target= | error: HTTP 500: mock error 500',
   'a model that cannot be reached fails the turn');

# ---- a transfer ---------------------------------------------------------------

$t = turns('xfer', 'c-xfer', ['A person please']);
is($t->[0], '1 caller: Connecting~ you. | after=transfer target=queue:front | ok',
   "transfer_to_human: the escalation target after the reply");

# ---- barge-in: the unspoken rest stays out of the context -------------------

$t = turns('barge', 'c-barge', ['Tell me a long story', 'Stop'], 'cancel=1:500');
my ($heard) = $t->[0] =~ /^1 caller: (one~ .*?) \| after=listen target= \| cancelled$/;
ok(defined $heard, 'the turn is cancelled mid-reply') or diag $t->[0];
ok(!grep({ $_ eq 'late' } @$t), 'no callback after the cancel');
$heard =~ s/~//g if defined $heard;
$rec = rec('s-barge', 2);
my ($partial) = $rec =~ /^msg\.2=assistant:(.*)$/m;
is($partial, $heard, 'the next request has what was handed to the session');
unlike($partial // '', qr/eight/, 'not the unspoken rest');
like($rec, qr/^msg\.3=user:Stop$/m, "then the caller's words");

diag error_log($n) if $ENV{T073_LOG};
stop_nginx($n);
done_testing();
