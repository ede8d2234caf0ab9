# Per-stage timings of every turn (rtagent_engine say_back, local engines):
# TRANSCRIPTION_RECEIVED carries the utterance's length and end of speech
# -> STT final, AGENT_RESPONSE_GENERATED end of speech -> responder's first
# text, TTS first byte and first agent audio frame, each in ms, in order;
# a turn that barged in over the reply has onset -> StopAudio too.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;

use JSON::PP;
use MIME::Base64;
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng and sox are needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng' && -x '/usr/bin/sox';

my $r = start_redis();

sub events_of { call_events($r, @_) }

my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};",
    server => 'location = /ws/acs/media {
                   rtagent_acs_media;
                   rtagent_engine say_back;
                   rtagent_stt local;
                   rtagent_tts local;
                   rtagent_barge_in_min 200ms;
               }');

ok(redis_up($n, 1), 'the worker is connected to Redis') or diag error_log($n);

my $id = 'timings-1';
my $s = open_call($n->{port}, $id, acs_metadata(16000));
send_msgs($s, acs_audio(silence(200) . espeak_pcm('I want to report an accident', 16000)
                        . silence(1000)));

# the reply starts playing: the caller talks over it, long enough to be
# confirmed, and is answered in turn 2
my ($pcm) = reply_of($s, 30, 5, sub { length $_[0] >= 640 * 10 });
ok(length $pcm >= 640 * 10, 'the reply is playing');
send_msgs($s, acs_audio(espeak_pcm('I have a question about my insurance', 16000)
                        . silence(1000)));
reply_of($s, 30, 1.5);

ok(wait_for(sub { events_of($id, 'AGENT_RESPONSE_GENERATED') >= 2 }, 30),
   'two replies written') or diag error_log($n);

my @tr = events_of($id, 'TRANSCRIPTION_RECEIVED');
my @ag = events_of($id, 'AGENT_RESPONSE_GENERATED');

is(scalar @tr, 2, 'two transcriptions');
is_deeply([ map { $_->{turn} } @tr ], [1, 2], 'transcriptions by turn');
is_deeply([ map { $_->{turn} } @ag ], [1, 2], 'replies by turn');

for my $t (@tr) {
    my $tm = $t->{timings} // {};
    ok(($tm->{speech_ms} // 0) > 500, "turn $t->{turn}: speech_ms $tm->{speech_ms}");
    ok(defined $tm->{stt_final_ms} && $tm->{stt_final_ms} >= 0,
       "turn $t->{turn}: stt_final_ms");
}

ok(!exists $tr[0]{timings}{barge_in_stop_ms}, 'turn 1: no barge-in');
ok(defined $tr[1]{timings}{barge_in_stop_ms}
   && $tr[1]{timings}{barge_in_stop_ms} >= 0,
   'turn 2: barge-in onset -> StopAudio') or diag explain \@tr;

# the reply of turn 1 was cut by the barge-in; turn 2's was heard whole
for my $a (@ag) {
    my $tm = $a->{timings} // {};
    my @order = map { $tm->{$_} } qw(stt_final_ms first_text_ms
                                     tts_first_byte_ms first_audio_ms);
    $order[0] = $tr[$a->{turn} - 1]{timings}{stt_final_ms};
    ok(!(grep { !defined } @order), "turn $a->{turn}: every stage timed")
        or diag explain $tm;
    ok(!(grep { $order[$_] > $order[$_ + 1] } 0 .. 2),
       "turn $a->{turn}: stages in order (@order)");
}

close $s;

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg)\]/, 'no alerts') or diag $log;
diag $log unless Test::More->builder->is_passing;

stop_nginx($n);
done_testing();
