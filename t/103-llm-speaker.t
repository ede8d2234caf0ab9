# The agent that spoke, on the LLM engine (rtagent_engine llm): a spoken
# ACS media call with the shipped agents and a real Redis, the chat mock
# scripted to hand the caller from auth to fnol on the first turn.  The
# transcript's agent entries and AGENT_RESPONSE_GENERATED name auth for
# the greeting and fnol for every reply after the handoff (the responder's
# agent method, src/call/ngx_http_rtagent_turn.h).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers", "$FindBin::Bin/mock";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;
use SpeechMock;
use ChatMock;

use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
my $skip = speech_test_skip() // chat_test_skip();
plan skip_all => $skip if $skip;

my $cp = $ENV{TEST_NGINX_CHAT_PORT};
my $sp = $ENV{TEST_NGINX_SPEECH_PORT};

sub esc { my ($s) = @_; $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge; $s }

# turn 1: the handoff, then fnol's words; turn 2: fnol again
my @replies = ('I am sorry to hear that. Tell me what happened.',
               'Thank you. Was anyone hurt?');
my $script = 'key=spk,stream=call+say+say'
           . ',name=' . join('+', 'handoff_to_fnol', 'x', 'x')
           . ',args=' . join('+', esc('{"summary":"a car accident"}'),
                             esc('{}'), esc('{}'))
           . ',text=' . join('+', 'x', map { esc($_) } @replies);

my @heard = ('I had a car accident', 'Yesterday on Main Street');
my $stt = 'key=spk-stt,texts=' . join('|', map { esc($_) } @heard);

my $r = start_redis();
my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
          . "rtagent_agents $FindBin::Bin/../agents;\nrtagent_entry_agent auth;\n"
          . "rtagent_openai_audio_key test-openai-key;\n"
          . "rtagent_upstream_retries 0;\n"
          . "rtagent_llm_endpoint fast http://127.0.0.1:$cp/m/$script/v1 model=gpt-4o-mini key=test-openai-key;\n"
          . "rtagent_llm_endpoint reasoning http://127.0.0.1:$cp/m/$script/v1 model=o3-mini key=test-openai-key;\n",
    server => 'location = /ws/acs/media { rtagent_acs_media;'
            . ' rtagent_engine llm; rtagent_stt openai; rtagent_tts openai;'
            . " rtagent_openai_audio_url http://127.0.0.1:$sp/m/$stt; }");

ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);

my $id = 'call-speaker';
my $s = open_call($n->{port}, $id, acs_metadata(16000));
send_msgs($s, acs_audio(silence(200)));
my ($pcm) = reply_of($s, 20, 1.0);
ok(length $pcm > 0, 'the greeting is heard first');

for my $i (0 .. 1) {
    send_msgs($s, acs_audio(tone(400) . silence(1000)));
    ($pcm) = reply_of($s, 20, 1.0);
    ok(length $pcm > 0, 'turn ' . ($i + 1) . ': the caller hears the reply');
}

send_msgs($s, cclose(1000));
close $s;

my $key = "rtagent:call:{$id}:transcript";
ok(wait_for(sub { (grep { decode_json($_)->{role} eq 'agent' }
                   @{ redis($r, 'LRANGE', $key, 0, -1) }) >= 3 }),
   'three agent entries in the transcript') or diag error_log($n);

my @agent = map { decode_json($_) }
            grep { decode_json($_)->{role} eq 'agent' }
            @{ redis($r, 'LRANGE', $key, 0, -1) };
like($agent[0]{text}, qr/^Thank you for calling Contoso Insurance\./,
     "the first agent entry is the greeting");
is_deeply([ map { $_->{agent} } @agent ], [qw(auth fnol fnol)],
          'the greeting is named auth, the replies after the handoff fnol');
is($agent[1]{text}, $replies[0], "the handoff turn's reply is fnol's words");

my @ev;
for my $e (@{ redis($r, 'XRANGE', 'rtagent:events', '-', '+') }) {
    my %f = @{ $e->[1] };
    push @ev, decode_json($f{data})
        if $f{call_id} eq $id && $f{type} eq 'AGENT_RESPONSE_GENERATED';
}
is_deeply([ map { $_->{agent} } @ev ], [qw(auth fnol fnol)],
          'AGENT_RESPONSE_GENERATED names the agent that spoke');

is(redis($r, 'HGET', "rtagent:call:{$id}", 'agent'), 'fnol',
   'the call hash names fnol as the active agent');

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no alert, no crash');
stop_nginx($n);
done_testing();
