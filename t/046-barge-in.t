# Confirmed barge-in (rtagent_barge_in_min, rtagent_barge_in_resume, the
# echo guard) with the echo engine, whose answers are exact: a short
# sound over the answer stops it (StopAudio) and the answer then resumes
# from what the caller had heard; a long one cancels it and is answered.

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use Test::Nginx::Socket 'no_plan';

{ package Test::Base::Filter; RtagentTest->import; }

repeat_each(2);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    my $extra = $block->acs_config // '';
    $block->set_value(config => <<"CONF") unless defined $block->config;
    location = /ws/acs/media {
        rtagent_acs_media;
        rtagent_engine echo;
        $extra
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: a 100 ms burst over the answer: StopAudio, then the whole answer again from what was heard (nothing), the burst dropped
The burst ends (600 ms of silence) unconfirmed, before rtagent_barge_in_resume.
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-burst')
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(400) . silence(620) . tone(100) . silence(600)),
 cclose(1000)]
--- raw_request_middle_delay: 1
--- error_code: 101
--- response_body eval
my $a = tone(400) . silence(40);
acs_echo(substr($a, 0, 5 * 640)) . acs_stop() . acs_echo($a) . sclose(1000)
--- error_log
rtagent call: barge-in, stopping playback, call:call-burst
rtagent call: barge-in not confirmed in
ms of sound over the agent dropped, call:call-burst
rtagent call: ended after 1 utterances, call:call-burst
--- no_error_log
confirmed by
[error]



=== TEST 2: unconfirmed within rtagent_barge_in_resume while the sound goes on: the answer resumes at the timer
The caller's utterance has not ended (no silence after the burst yet)
when the answer resumes, 200 ms after the onset.
--- acs_config: rtagent_barge_in_resume 200ms;
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-timer')
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(400) . silence(620) . tone(100)),
 acs_audio(silence(600)),
 cclose(1000)]
--- raw_request_middle_delay: 1
--- error_code: 101
--- response_body eval
my $a = tone(400) . silence(40);
acs_echo(substr($a, 0, 5 * 640)) . acs_stop() . acs_echo($a) . sclose(1000)
--- error_log
rtagent call: barge-in not confirmed in 2
rtagent call: ended after 1 utterances, call:call-timer
--- no_error_log
confirmed by
[error]



=== TEST 3: a long interruption: confirmed after rtagent_barge_in_min, the answer dropped, the new utterance answered whole with its pre-roll
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-long')
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(400) . silence(620) . tone(400, 16000, 8000, 600)
             . silence(600)),
 cclose(1000)]
--- raw_request_middle_delay: 1
--- error_code: 101
--- response_body eval
acs_echo(substr(tone(400), 0, 5 * 640)) . acs_stop()
. acs_echo(silence(20) . tone(400, 16000, 8000, 600) . silence(40))
. sclose(1000)
--- error_log
rtagent call: barge-in, stopping playback, call:call-long
rtagent call: barge-in confirmed by speech after
rtagent call: utterance 2, 460 ms, call:call-long
--- no_error_log
not confirmed
[error]



=== TEST 4: the echo guard (on by default): a sound 15 dB quieter than the answer, at its start, interrupts nothing and is no utterance
--- acs_config: rtagent_barge_in_min 100ms;
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-echo')
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(400) . silence(620) . tone(400, 16000, 1400)
             . silence(600)),
 cclose(1000)]
--- raw_request_middle_delay: 1
--- error_code: 101
--- response_body eval
acs_echo(tone(400) . silence(40)) . sclose(1000)
--- error_log
rtagent call: barge-in held, quieter than the agent's audio (echo guard), call:call-echo
ms of sound over the agent dropped, call:call-echo
rtagent call: ended after 1 utterances, call:call-echo
--- no_error_log
stopping playback
not an echo
[error]



=== TEST 5: with rtagent_barge_in_echo_guard 0 the same quiet sound barges in
--- acs_config: rtagent_barge_in_min 100ms; rtagent_barge_in_echo_guard 0;
--- raw_request eval
[ws_handshake()
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(400) . silence(620) . tone(400, 16000, 1400)
             . silence(600)),
 cclose(1000)]
--- raw_request_middle_delay: 1
--- error_code: 101
--- response_body eval
acs_echo(substr(tone(400), 0, 5 * 640)) . acs_stop()
. acs_echo(silence(20) . tone(400, 16000, 1400) . silence(40))
. sclose(1000)
--- error_log
rtagent call: barge-in confirmed by speech after
--- no_error_log
echo guard
[error]



=== TEST 5b: the echo guard: a soft start that turns as loud as the answer is a caller, not an echo: the barge-in starts at the loud frame, and the utterance is answered from its onset
--- acs_config: rtagent_barge_in_min 100ms;
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-soft')
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(400) . silence(620) . tone(60, 16000, 1400)
             . tone(400) . silence(600)),
 cclose(1000)]
--- raw_request_middle_delay: 1
--- error_code: 101
--- response_body eval
acs_echo(substr(tone(400), 0, 5 * 640)) . acs_stop()
. acs_echo(silence(20) . tone(60, 16000, 1400) . tone(400) . silence(40))
. sclose(1000)
--- error_log
rtagent call: barge-in held, quieter than the agent's audio (echo guard), call:call-soft
ms, not an echo, call:call-soft
rtagent call: barge-in, stopping playback, call:call-soft
rtagent call: barge-in confirmed by speech after
--- no_error_log
dropped
[error]



=== TEST 6: barge-in directives: a bad value is refused by nginx -t
--- acs_config: rtagent_barge_in_min_chars many;
--- must_die
--- error_log
invalid number
