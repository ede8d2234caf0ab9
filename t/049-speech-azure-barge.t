# Barge-in confirmed by a partial transcript: with rtagent_stt azure the
# service's speech.hypothesis messages come while the caller still talks
# (the mock's partial=N sends one mid-utterance), and one of
# rtagent_barge_in_min_chars characters confirms an interruption of the
# reply long before rtagent_barge_in_min of speech would.  The caller's
# audio is paced in real time, as ACS sends it, so the partial can come
# back before the utterance ends.  The same interruption without the
# mid-utterance partial is not confirmed: the reply resumes.

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

use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'espeak-ng and sox are needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng' && -x '/usr/bin/sox';
my $why = SpeechMock::_start();
plan skip_all => $why if $why;

my $mock = $ENV{TEST_NGINX_SPEECH_PORT};

# nginx with say_back on STT azure, the mock's options $opts for the STT
# URL, and $extra (the TTS, barge-in settings) in the media location
sub speech_nginx {
    my ($opts, $extra) = @_;
    return start_nginx(
        main => 'thread_pool rtagent_speech threads=1;',
        http => 'rtagent_azure_speech_key test-azure-key;',
        server => "location = /ws/acs/media {
                       rtagent_acs_media;
                       rtagent_engine say_back;
                       rtagent_stt azure;
                       rtagent_azure_stt_url ws://127.0.0.1:$mock/m/$opts/speech/recognition/conversation/cognitiveservices/v1;
                       $extra
                   }");
}

# a call on a fresh nginx whose STT URL has the mock's options $opts
sub interrupt {
    my ($opts, $id) = @_;
    my $n = speech_nginx("key=$id,$opts,text=I%20want%20to%20report%20an%20accident",
        "rtagent_tts local; rtagent_barge_in_min 5s; rtagent_barge_in_resume 5s;");

    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    send_msgs($s, acs_audio(silence(200) . tone(600) . silence(1000)));

    my ($pcm) = reply_of($s, 30, 5, sub { length $_[0] >= 640 * 10 });
    ok(length $pcm >= 640 * 10, "$id: the reply is playing")
        or diag error_log($n);

    # 400 ms of speech over it, then silence, a 20 ms frame at a time
    my $talk = tone(400) . silence(1000);
    my @frames = map { acs_audio(substr($talk, $_ * 640, 640)) }
                 0 .. length($talk) / 640 - 1;
    my $t = time;
    for my $i (0 .. $#frames) {
        send_msgs($s, $frames[$i]);
        my $wait = $t + ($i + 1) * 0.02 - time;
        sleep $wait if $wait > 0;
    }

    my (undef, $stops) = reply_of($s, 10, 1.5);
    close $s;
    wait_for(sub { error_log($n) =~ /outcome \S+, call:\Q$id\E/ }, 5);
    my $log = error_log($n);
    stop_nginx($n);
    return $log;
}

my $log = interrupt('partial=5', 'bp-mid');
like($log, qr/barge-in, stopping playback, call:bp-mid/,
     'mid-utterance partial: StopAudio at the onset');
like($log, qr/barge-in confirmed by a partial transcript after \d+ ms, reply cancelled, call:bp-mid/,
     'mid-utterance partial: confirmed by it, well before 5 s of speech');
unlike($log, qr/not confirmed/, 'mid-utterance partial: no resume');
like($log, qr/rtagent call: utterance 2,/, 'the interruption is the next utterance');
unlike($log, qr/\[(?:alert|emerg|error)\]/, 'no errors') or diag $log;

$log = interrupt('partial=0', 'bp-late');
like($log, qr/barge-in, stopping playback, call:bp-late/,
     'partials at the end only: StopAudio at the onset');
like($log, qr/barge-in not confirmed in \d+ ms, reply resumed, call:bp-late/,
     'partials at the end only: not confirmed, the reply resumes');
unlike($log, qr/confirmed by/, 'partials at the end only: no confirmation');

# A pause longer than rtagent_vad_end_silence mid-sentence while the words
# before it are still in STT (the mock answers 1.5 s after the audio
# ends): the first utterance is heard again with the second, one turn.
{
    my $id = 'pause-1';
    my $n = speech_nginx("key=$id,slow=1500",
        "rtagent_tts local;");

    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    send_msgs($s, acs_audio(silence(200) . tone(600) . silence(800)
                            . tone(600) . silence(1000)));
    ok(wait_for(sub { error_log($n) =~ /caller said/ }, 10),
       'pause: a transcript') or diag error_log($n);
    sleep 2;
    close $s;
    my $log = error_log($n);
    stop_nginx($n);

    like($log, qr/rtagent call: \d+ ms before a pause not transcribed yet, heard again with what follows, call:pause-1/,
         'pause: the first utterance goes again with the second');
    my @said = $log =~ /caller said "heard (\d+) ms/g;
    is(scalar @said, 1, 'pause: one transcript, one turn') or diag $log;
    # both tones (1200 ms) and the pause between them, pre-rolls included
    ok(($said[0] // 0) >= 1900, "pause: the words of both ($said[0] ms)")
        or diag $log;
    unlike($log, qr/\[(?:alert|emerg|error)\]/, 'pause: no errors') or diag $log;
}

# A reply streamed by the TTS in pieces shorter than a frame (the Azure
# TTS mock: 50 pieces of 10 ms, no delay) goes out paced, whole frames
# with no silence padded between the pieces; a caller onset while it
# plays stops it (StopAudio), as it is still being sent.
{
    my $id = 'stream-1';
    my $n = speech_nginx("key=$id",
        "rtagent_tts azure; rtagent_azure_tts_url http://127.0.0.1:$mock/m/key=${id}t,chunks=50,delay=0/cognitiveservices/v1;");

    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    send_msgs($s, acs_audio(silence(200) . tone(400) . silence(1000)));
    my ($pcm) = reply_of($s, 10, 1.5);
    # 50 x 480 samples at 24 kHz: 1 s, 16000 samples at 16 kHz
    my @s = unpack 's<*', $pcm;
    ok(@s >= 15800, 'stream: the whole reply (' . scalar(@s) . ' samples)');
    # the mock's samples are all 513: away from the resampler's edges,
    # no sample is silence
    my $gaps = grep { abs($_) < 100 } @s[200 .. 15600];
    is($gaps, 0, 'stream: no silence padded between the pieces');

    send_msgs($s, acs_audio(silence(200) . tone(400) . silence(1000)));
    ($pcm) = reply_of($s, 10, 0, sub { length $_[0] >= 640 * 3 });
    send_msgs($s, acs_audio(tone(60) . silence(700)));
    my (undef, $stops) = reply_of($s, 10, 1.5);
    ok($stops >= 1, 'stream: an onset while it plays gets a StopAudio');
    close $s;
    my $log = error_log($n);
    stop_nginx($n);
    like($log, qr/barge-in, stopping playback, call:stream-1/,
         'stream: the reply was still being sent');
    unlike($log, qr/\[(?:alert|emerg|error)\]/, 'stream: no errors') or diag $log;
}

done_testing();
