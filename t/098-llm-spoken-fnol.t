# The FNOL conversation on the LLM engine as a spoken ACS media call: the
# caller's three utterances heard by the STT provider (the speech mock, one
# transcript each in order), the shipped agents, the demo policyholders
# and a real Redis, the chat mock scripted as a model would answer:
# verify_identity, a handoff to fnol, create_claim.  The claim lands in
# Redis, and the caller hears the greeting and each reply: the TTS
# provider gets every reply's text and audio comes back after each turn.

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

my @names = ('verify_identity', '', 'handoff_to_fnol', '', 'create_claim', '');
my @args = ('{"policy":"12345678","zip":"60614"}', '',
            '{"summary":"Bob had a car accident"}', '',
            '{"policy":"12345678","date":"2026-12-02","location":"Main Street",'
            . '"description":"rear-ended at a light","injuries":"no",'
            . '"vehicles":"2"}',
            '');
my @replies = ('Thank you Bob, you are verified. How can I help?',
               'I am sorry to hear that. Tell me what happened.',
               'Your claim is filed. Anything else?');
my @texts = ('', $replies[0], '', $replies[1], '', $replies[2]);
my $script = 'key=sfnol,stream=call+say+call+say+call+say'
           . ',name=' . join('+', map { esc($_ || 'x') } @names)
           . ',args=' . join('+', map { esc($_ || '{}') } @args)
           . ',text=' . join('+', map { esc($_ || 'x') } @texts);

my @heard = ('My policy is 1 2 3 4 5 6 7 8 and the zip is 6 0 6 1 4',
             'I had a car accident',
             'Yesterday on Main Street, I was rear-ended');
my $stt = 'key=sf,texts=' . join('|', map { esc($_) } @heard);

my $r = start_redis();
my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
          . "rtagent_agents $FindBin::Bin/../agents;\nrtagent_entry_agent auth;\n"
          . "rtagent_agent_data $FindBin::Bin/../agents/data/policyholders.yaml;\n"
          . "rtagent_openai_audio_key test-openai-key;\n"
          . "rtagent_upstream_retries 0;\n"
          . "rtagent_llm_endpoint fast http://127.0.0.1:$cp/m/$script/v1 model=gpt-4o-mini key=test-openai-key;\n"
          . "rtagent_llm_endpoint reasoning http://127.0.0.1:$cp/m/$script/v1 model=o3-mini key=test-openai-key;\n",
    server => 'location = /ws/acs/media { rtagent_acs_media;'
            . ' rtagent_engine llm; rtagent_stt openai; rtagent_tts openai;'
            . " rtagent_openai_audio_url http://127.0.0.1:$sp/m/$stt; }");

ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);
ok(wait_for(sub { redis($r, 'EXISTS', 'rtagent:policy:{12345678}') }),
   'the demo policyholders are in Redis');

my $s = open_call($n->{port}, 'call-sfnol', acs_metadata(16000));
send_msgs($s, acs_audio(silence(200)));
my ($pcm) = reply_of($s, 20, 1.0);
ok(length $pcm > 0, 'the greeting is heard first');

for my $i (0 .. 2) {
    send_msgs($s, acs_audio(tone(400) . silence(1000)));
    ($pcm) = reply_of($s, 20, 1.0);
    ok(length $pcm > 0, "turn " . ($i + 1) . ": the caller hears the reply");
}

send_msgs($s, cclose(1000));
close $s;

my $log = error_log($n);
like($log, qr/rtagent call: caller said "\Q$heard[$_]\E"/,
     "turn " . ($_ + 1) . ": the STT heard the caller")
    for 0 .. 2;

my $said = speech_mock_get('/__said?key=sf');
like($said, qr/^Thank you for calling Contoso Insurance\./m,
     "the greeting went to TTS");
for my $i (0 .. 2) {
    my ($first, $second) = split /(?<=[.?]) /, $replies[$i], 2;
    like($said, qr/^\Q$first\E\n\Q$second\E$/m,
         "turn " . ($i + 1) . ": each sentence of the reply went to TTS");
}

my $rec = chat_mock_get('/__last?key=sfnol&n=2');
like($rec, qr/^msg\.\d+=tool:\[call_mock_0\]:\{[^\n]*"verified":"yes"/m,
     "verify_identity's result went back to the model");
like($rec, qr/^msg\.\d+=user:\Q$heard[0]\E$/m, "the caller's words reached the model");
$rec = chat_mock_get('/__last?key=sfnol&n=4');
like($rec, qr/^model=o3-mini$/m, "after the handoff, fnol's route: reasoning");
$rec = chat_mock_get('/__last?key=sfnol&n=6');
my ($claim) = $rec =~ /"claim_id":"(CLM-[^"]+)"/;
ok($claim, 'create_claim returned a claim id') or diag $rec;

my %c = @{ redis($r, 'HGETALL', "rtagent:claim:{$claim}") };
is($c{policy}, '12345678', 'the claim in Redis: its policy');
is($c{location}, 'Main Street', 'where');
is($c{description}, 'rear-ended at a light', 'what happened');
ok(wait_for(sub { (redis($r, 'HGET', 'rtagent:call:{call-sfnol}', 'claim_id')
                   // '') eq $claim }),
   'the call hash has the claim id');

unlike($log, qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no alert, no crash');
stop_nginx($n);
done_testing();
