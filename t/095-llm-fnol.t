# The FNOL conversation on the LLM engine with the shipped agents, the demo
# policyholders and a real Redis, the chat mock scripted as a model would
# answer: verify_identity, a handoff to fnol (whose route, "reasoning",
# takes another model), create_claim.  The claim lands in Redis and each
# reply reaches the session.  Driven as text turns (rtagent_test_llm_turns).

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

sub esc { my ($s) = @_; $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge; $s }

my @names = ('verify_identity', '', 'handoff_to_fnol', '', 'create_claim', '');
my @args = ('{"policy":"12345678","zip":"60614"}', '',
            '{"summary":"Bob had a car accident"}', '',
            '{"policy":"12345678","date":"2026-12-02","location":"Main Street",'
            . '"description":"rear-ended at a light","injuries":"no",'
            . '"vehicles":"2"}',
            '');
my @texts = ('', 'Thank you Bob, you are verified. How can I help?', '',
             'I am sorry to hear that. Tell me what happened.', '',
             'Your claim is filed. Anything else?');
my $script = 'key=fnol,stream=call+say+call+say+call+say'
           . ',name=' . join('+', map { esc($_ || 'x') } @names)
           . ',args=' . join('+', map { esc($_ || '{}') } @args)
           . ',text=' . join('+', map { esc($_ || 'x') } @texts);

my $r = start_redis();
my $m = test_module() or die 'no test module';
my $n = start_nginx(
    main => "load_module $m;",
    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
          . "rtagent_agents $FindBin::Bin/../agents;\nrtagent_entry_agent auth;\n"
          . "rtagent_agent_data $FindBin::Bin/../agents/data/policyholders.yaml;\n"
          . "rtagent_llm_endpoint fast http://127.0.0.1:$cp/m/$script/v1 model=gpt-4o-mini key=test-openai-key;\n"
          . "rtagent_llm_endpoint reasoning http://127.0.0.1:$cp/m/$script/v1 model=o3-mini key=test-openai-key;\n",
    server => 'location = /t { rtagent_test_llm_turns; }');

ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);
ok(wait_for(sub { redis($r, 'EXISTS', 'rtagent:policy:{12345678}') }),
   'the demo policyholders are in Redis');

my @lines = ('My policy is 1 2 3 4 5 6 7 8 and the zip is 6 0 6 1 4',
             'I had a car accident', 'Yesterday on Main Street, I was rear-ended');
my $body = join("\n", @lines);
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}", Timeout => 30)
    or die "connect: $!";
print $s "POST /t?call=c-fnol&greet=1 HTTP/1.0\r\nHost: localhost\r\n"
         . "Content-Length: " . length($body) . "\r\n\r\n$body";
my $all = do { local $/; <$s> } // '';
close $s;
$all =~ s/^.*?\r\n\r\n//s;
my @t = split /\n/, $all;

like($t[0], qr/^1 greeting: Thank you for calling Contoso Insurance\./,
     "the entry agent's greeting");
like($t[1], qr/^2 caller: Thank~ you~ Bob,~ you~ are~ verified\.~ How~ can~ I~ help\? \| after=listen target= \| ok$/,
     'verified by verify_identity, the reply streamed');
like($t[2], qr/^3 caller: I~ am~ sorry~ to~ hear~ that\.~ Tell~ me~ what~ happened\. \| after=listen target= \| ok$/,
     'handed to fnol, which answers');
like($t[3], qr/^4 caller: Your~ claim~ is~ filed\.~ Anything~ else\? \| after=listen target= \| ok$/,
     'create_claim, then the confirmation');

my $rec = chat_mock_get('/__last?key=fnol&n=2');
like($rec, qr/^msg\.\d+=tool:\[call_mock_0\]:\{[^\n]*"verified":"yes"/m,
     "verify_identity's result went back to the model");
like($rec, qr/^model=gpt-4o-mini$/m, "auth's route: fast");
$rec = chat_mock_get('/__last?key=fnol&n=4');
like($rec, qr/^model=o3-mini$/m, "after the handoff, fnol's route: reasoning");
like($rec, qr/^msg\.0=system:You are a Contoso Insurance claims specialist taking a first notice of/m,
     "fnol's prompt is the system message");
like($rec, qr/The caller was handed to you with this summary: Bob had a car accident/,
     'with the handoff summary');
like($rec, qr/^tools=.*create_claim/m, "fnol's tools");
$rec = chat_mock_get('/__last?key=fnol&n=6');
my ($claim) = $rec =~ /"claim_id":"(CLM-[^"]+)"/;
ok($claim, "create_claim's result has the claim id ($claim)") or diag $rec;

my %c = @{ redis($r, 'HGETALL', "rtagent:claim:{$claim}") };
is($c{policy}, '12345678', 'the claim in Redis: its policy');
is($c{location}, 'Main Street', 'where');
is($c{injuries}, 'no', 'injuries');
is(redis($r, 'HGET', 'rtagent:call:{c-fnol}', 'claim_id'), $claim,
   'the call hash has the claim id');
is(redis($r, 'HGET', 'rtagent:call:{c-fnol}', 'agent'), 'fnol',
   'the active agent is fnol');

my @ctx = map { decode_json($_) }
          @{ redis($r, 'LRANGE', 'rtagent:call:{c-fnol}:context', 0, -1) };
is_deeply([ map { "$_->{agent}/$_->{role}" } @ctx ],
          [qw(auth/agent auth/caller auth/agent auth/caller fnol/agent
              fnol/caller fnol/agent)],
          'the context: who heard and said each line');

stop_nginx($n);
done_testing();
