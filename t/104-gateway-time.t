# The gateway's own share of a turn, in microseconds: rtagent_engine
# say_back with STT azure and TTS azure on the speech mock at no delay.
# AGENT_RESPONSE_GENERATED's timings split the turn (end of speech -> first
# AudioData written) into the intervals between its stages: stt_us (the
# STT provider), hand_us, responder_us and to_tts_us (the gateway: say_back
# is in-process), tts_us (the TTS provider), playout_us (the gateway); they
# sum to turn_us, and the gateway's sum to gateway_us, which is no more than
# the turn's wall time seen from the caller.  A confirmed barge-in writes
# onset -> StopAudio and onset -> reply cancelled with the turn it starts.  The echo engine's turns
# (the bench's baseline) are timed the same way: all the gateway's.  With
# rtagent_engine llm the responder's interval is the model's: out of
# gateway_us.
# Consistency only: no figure is compared with a threshold.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;
use SpeechMock ();
use ChatMock ();

use JSON::PP;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng and sox are needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng' && -x '/usr/bin/sox';
my $why = SpeechMock::_start() // ChatMock::_start();
plan skip_all => $why if $why;

my $mock = $ENV{TEST_NGINX_SPEECH_PORT};
my $r = start_redis();

sub now_us { int(clock_gettime(CLOCK_MONOTONIC) * 1e6) }

sub events_of { call_events($r, @_) }

# the wall time from $t0 until the call's $n-th event of $type is in Redis
sub wall_until {
    my ($t0, $id, $type, $n) = @_;
    wait_for(sub { events_of($id, $type) >= $n }, 20) or return undef;
    return now_us() - $t0;
}

# the media location: $engine with STT and TTS azure on the mock (keys
# $key and ${key}t), and $extra
sub speech_location {
    my ($engine, $key, $extra) = @_;
    return "location = /ws/acs/media {
                rtagent_acs_media;
                rtagent_engine $engine;
                rtagent_stt azure;
                rtagent_azure_stt_url ws://127.0.0.1:$mock/m/key=$key/speech/recognition/conversation/cognitiveservices/v1;
                rtagent_tts azure;
                rtagent_azure_tts_url http://127.0.0.1:$mock/m/key=${key}t,chunks=50,delay=0/cognitiveservices/v1;
                $extra
            }";
}

my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=1;',
    http => "rtagent_redis 127.0.0.1:$r->{port};
             rtagent_azure_speech_key test-azure-key;",
    server => speech_location('say_back', 'gwt', 'rtagent_barge_in_min 200ms;'));

ok(redis_up($n, 1), 'the worker is connected to Redis') or diag error_log($n);

my $id = 'gwtime-1';
my $s = open_call($n->{port}, $id, acs_metadata(16000));

# turn 1: an utterance in one burst; its reply plays, the caller talks over
# it briefly (60 ms: not confirmed, the reply resumes, and no turn)
my $t1 = now_us();
send_msgs($s, acs_audio(silence(200) . tone(400) . silence(1000)));
my ($pcm) = reply_of($s, 20, 5, sub { length $_[0] >= 640 * 5 });
ok(length $pcm >= 640 * 5, 'turn 1: the reply plays') or diag error_log($n);
send_msgs($s, acs_audio(tone(60) . silence(700)));
reply_of($s, 20, 1);
my $wall1 = wall_until($t1, $id, 'AGENT_RESPONSE_GENERATED', 1);

# turn 2: the caller speaks again; over its reply, long enough to confirm
# the barge-in (turn 3 then answers it)
send_msgs($s, acs_audio(silence(200) . tone(400) . silence(1000)));
($pcm) = reply_of($s, 20, 5, sub { length $_[0] >= 640 * 5 });
ok(length $pcm >= 640 * 5, 'turn 2: the reply plays') or diag error_log($n);
my $t3 = now_us();
send_msgs($s, acs_audio(tone(600) . silence(1000)));
reply_of($s, 20, 1.5);
my $wall3 = wall_until($t3, $id, 'TRANSCRIPTION_RECEIVED', 3);
ok(wait_for(sub { events_of($id, 'AGENT_RESPONSE_GENERATED') >= 3 }, 20),
   'three replies written') or diag error_log($n);
close $s;

my @tr = events_of($id, 'TRANSCRIPTION_RECEIVED');
my @ag = events_of($id, 'AGENT_RESPONSE_GENERATED');
is_deeply([ map { $_->{turn} } @tr ], [1, 2, 3], 'transcriptions by turn');
is_deeply([ map { $_->{turn} } @ag ], [1, 2, 3], 'replies by turn');

my @parts = qw(stt_us hand_us responder_us to_tts_us tts_us playout_us);
my @own = qw(hand_us responder_us to_tts_us playout_us);

# turn 2's reply was cut by the barge-in before or after its first frame;
# turns 1 and 3 were heard
for my $a (@ag[0, 2]) {
    my $tm = $a->{timings} // {};
    my $t = $a->{turn};
    ok(!(grep { !defined $tm->{$_} || $tm->{$_} < 0 } @parts, 'turn_us',
                                                        'gateway_us'),
       "turn $t: every interval, non-negative") or diag explain $tm;
    my $sum = 0;
    $sum += $tm->{$_} // 0 for @parts;
    is($sum, $tm->{turn_us}, "turn $t: the intervals make the turn");
    my $g = 0;
    $g += $tm->{$_} // 0 for @own;
    is($tm->{gateway_us}, $g, "turn $t: gateway_us is the gateway's intervals");
    ok($tm->{gateway_us} <= $tm->{turn_us}, "turn $t: gateway_us <= turn_us");
}

ok(defined $wall1 && $ag[0]{timings}{turn_us} <= $wall1,
   "turn 1: turn_us within the caller's wall time ($wall1 us)");

# the barge-ins: the short one is no turn of its own (its utterance is
# dropped), so turns 1 and 2 have none; turn 3 (the one confirmed) has
# onset -> StopAudio and onset -> cancelled
for my $t (@tr[0, 1]) {
    ok(!exists $t->{timings}{barge_in_stop_us}
       && !exists $t->{timings}{barge_in_cancel_us},
       "turn $t->{turn}: no barge-in") or diag explain $t;
}

my $b3 = $tr[2]{timings} // {};
ok(defined $b3->{barge_in_cancel_us} && defined $b3->{barge_in_stop_us}
   && $b3->{barge_in_stop_us} <= $b3->{barge_in_cancel_us},
   'turn 3: onset -> StopAudio, then onset -> cancelled') or diag explain $b3;
is($b3->{barge_in_cancel_ms}, int(($b3->{barge_in_cancel_us} // 0) / 1000),
   'turn 3: barge_in_cancel_ms is the same in ms');
ok(defined $wall3 && ($b3->{barge_in_cancel_us} // 0) <= $wall3,
   'turn 3: the cancel within the wall time from the interruption');
is($ag[2]{timings}{barge_in_cancel_us}, $b3->{barge_in_cancel_us},
   'turn 3: its reply carries the cancel too');

my $log = error_log($n);
like($log, qr/barge-in confirmed by speech after \d+ ms, reply cancelled, call:\Q$id\E/,
     'the confirmed barge-in cancelled the reply');
unlike($log, qr/\[(?:alert|emerg|error)\]/, 'no errors') or diag $log;

stop_nginx($n);

# the echo engine: end of utterance -> first echo frame, the gateway's all
$n = start_nginx(
    http => "rtagent_redis 127.0.0.1:$r->{port};",
    server => 'location = /ws/acs/media {
                   rtagent_acs_media;
                   rtagent_engine echo;
               }');
ok(redis_up($n, 1), 'echo: the worker is connected to Redis');
$id = 'gwtime-echo';
$s = open_call($n->{port}, $id, acs_metadata(16000));
send_msgs($s, acs_audio(silence(200) . tone(400) . silence(1000)));
reply_of($s, 10, 1);
close $s;
ok(wait_for(sub { events_of($id, 'AGENT_RESPONSE_GENERATED') >= 1 }, 10),
   'echo: the played utterance written');
my ($e) = events_of($id, 'AGENT_RESPONSE_GENERATED');
my $et = $e->{timings} // {};
ok(defined $et->{turn_us} && $et->{turn_us} >= 0, 'echo: turn_us')
    or diag explain $e;
is($et->{playout_us}, $et->{turn_us}, 'echo: one interval, the playout');
is($et->{gateway_us}, $et->{turn_us}, 'echo: all the gateway\'s');

stop_nginx($n);

# rtagent_engine llm: the chat mock streams the reply; responder_us is the
# model's, not the gateway's
my $chat = $ENV{TEST_NGINX_CHAT_PORT};
$n = start_nginx(
    main => 'thread_pool rtagent_speech threads=1;',
    http => "rtagent_redis 127.0.0.1:$r->{port};
             rtagent_azure_speech_key test-azure-key;
             rtagent_agents $FindBin::Bin/../agents;
             rtagent_entry_agent auth;
             rtagent_llm_endpoint fast http://127.0.0.1:$chat/m/key=gwtl,stream=say,text=What%20is%20your%20policy%20number%3F/v1 model=gpt-4o-mini key=test-openai-key;
             rtagent_model_route reasoning fast;",
    server => speech_location('llm', 'gwtl', ''));
ok(redis_up($n, 1), 'llm: the worker is connected to Redis');
$id = 'gwtime-llm';
$s = open_call($n->{port}, $id, acs_metadata(16000));
reply_of($s, 20, 1);                        # the greeting
send_msgs($s, acs_audio(silence(200) . tone(400) . silence(1000)));
reply_of($s, 20, 1);
close $s;
ok(wait_for(sub {
       grep { defined $_->{timings}{gateway_us} }
            events_of($id, 'AGENT_RESPONSE_GENERATED') }, 20),
   'llm: a reply timed') or diag error_log($n);
for my $a (grep { defined $_->{timings}{gateway_us} }
           events_of($id, 'AGENT_RESPONSE_GENERATED'))
{
    my $tm = $a->{timings};
    my $t = $a->{turn};
    my ($sum, $g) = (0, 0);
    $sum += $tm->{$_} // 0 for @parts;
    $g += $tm->{$_} // 0 for grep { $_ ne 'responder_us' } @own;
    ok(defined $tm->{responder_us}, "llm turn $t: responder_us");
    is($sum, $tm->{turn_us}, "llm turn $t: the intervals make the turn");
    is($tm->{gateway_us}, $g, "llm turn $t: the model's time is not the gateway's");
}
$log = error_log($n);
unlike($log, qr/\[(?:alert|emerg|error)\]/, 'llm: no errors') or diag $log;

stop_nginx($n);
done_testing();
