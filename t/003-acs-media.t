# The ACS media channel: AudioMetadata, AudioData, DtmfData and
# Transcription* messages as ACS sends them (fixtures from
# t/fixtures), the echo engine's round trip with exact
# audio bytes, barge-in with StopAudio, and every kind of bad input.

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

=== TEST 1: echo round trip at 16 kHz: the utterance comes back byte for byte, paced, with its pre-roll and a 40 ms tail
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-16k')
 . cframe('text', acs_metadata(16000))
 . acs_audio(silence(60) . tone(200) . silence(700)),
 cclose(1000)]
--- raw_request_middle_delay: 0.8
--- error_code: 101
--- response_body eval
acs_echo(silence(60) . tone(200) . silence(40)) . sclose(1000)
--- error_log
rtagent call: started, 16000 Hz, 20 ms frames, call:call-16k
rtagent call: utterance 1, 300 ms, call:call-16k
rtagent call: ended after 1 utterances, call:call-16k
--- no_error_log
[error]
[alert]



=== TEST 2: echo round trip at 24 kHz (pcm24KMono)
--- raw_request eval
[ws_handshake()
 . cframe('text', acs_metadata(24000))
 . acs_audio(tone(300, 24000, 12000, 300) . silence(700, 24000), 24000),
 cclose(1000)]
--- raw_request_middle_delay: 0.8
--- error_code: 101
--- response_body eval
acs_echo(tone(300, 24000, 12000, 300) . silence(40, 24000), 24000)
. sclose(1000)
--- error_log
rtagent call: started, 24000 Hz, 20 ms frames
rtagent call: utterance 1, 340 ms



=== TEST 3: two utterances, each echoed after it ends
--- raw_request eval
[ws_handshake()
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(100) . silence(600)),
 acs_audio(tone(100, 16000, 4000, 800) . silence(600)),
 cclose(1000)]
--- raw_request_middle_delay: 0.5
--- error_code: 101
--- response_body eval
acs_echo(tone(100) . silence(40))
. acs_echo(tone(100, 16000, 4000, 800) . silence(40))
. sclose(1000)
--- error_log
rtagent call: utterance 1, 140 ms
rtagent call: utterance 2, 140 ms
--- no_error_log
barge-in



=== TEST 4: barge-in: caller speech while the echo plays stops it with StopAudio
The 200 ms of speech confirm it (rtagent_barge_in_min 100ms): the echo is
dropped and the new utterance answered (t/046 has the unconfirmed kind).
--- acs_config: rtagent_barge_in_min 100ms;
--- raw_request eval
[ws_handshake()
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(200) . silence(620) . tone(200) . silence(600)),
 cclose(1000)]
--- raw_request_middle_delay: 0.8
--- error_code: 101
--- response_body eval
acs_echo(substr(tone(200), 0, 5 * 640)) . acs_stop()
. acs_echo(silence(20) . tone(200) . silence(40)) . sclose(1000)
--- error_log
rtagent call: barge-in, stopping playback
rtagent call: barge-in confirmed by speech after



=== TEST 5: with rtagent_barge_in off the echo plays on under caller speech
The caller speaks again 0.3 s into the 440 ms answer (no StopAudio, the
answer plays to its end) and finishes after it: both answers, whole.
--- acs_config: rtagent_barge_in off;
--- raw_request eval
my $t = tone(200);
[ws_handshake()
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(400) . silence(620)),
 acs_audio(substr($t, 0, 3200)),
 acs_audio(substr($t, 3200) . silence(600)),
 cclose(1000)]
--- raw_request_middle_delay: 0.3
--- error_code: 101
--- response_body eval
acs_echo(tone(400) . silence(40))
. acs_echo(silence(20) . tone(200) . silence(40)) . sclose(1000)
--- error_log
rtagent call: utterance 1, 440 ms
rtagent call: utterance 2, 260 ms
--- no_error_log
barge-in



=== TEST 6: ACS fixture messages: metadata, DTMF, transcription, in PascalCase too
--- raw_request eval
my $dtmf = fixture('acs_ws_in_DtmfData_docs.json');
[ws_handshake(undef, 'x-ms-call-connection-id' => 'fixture-call')
 . cframe('text', fixture('acs_ws_in_AudioMetadata.json'))
 . cframe('text', fixture('acs_ws_in_AudioMetadata_docs.json'))
 . cframe('text', $dtmf)
 . cframe('text', '{"Kind":"DtmfData","DtmfData":{"Data":"9"}}')
 . cframe('text', fixture('acs_ws_in_TranscriptionMetadata.json'))
 . cframe('text', fixture('acs_ws_in_TranscriptionData.json')),
 cclose(1000)]
--- raw_request_middle_delay: 0.05
--- error_code: 101
--- response_body eval
sclose(1000)
--- error_log
rtagent call: started, 16000 Hz, 20 ms frames, call:fixture-call
rtagent call: dtmf "3", call:fixture-call
rtagent call: dtmf "9", call:fixture-call
rtagent acs: transcription final "Hello everyone."
--- no_error_log
[error]
bad media message



=== TEST 7: the AudioData fixture ("data":"test", 3 bytes) is a wrong frame size: 1007
--- raw_request eval
ws_handshake(undef, 'x-ms-call-connection-id' => 'bad-size')
. cframe('text', fixture('acs_ws_in_AudioMetadata.json'))
. cframe('text', fixture('acs_ws_in_AudioData.json'))
--- error_code: 101
--- response_body eval
sclose(1007, 'audio frame of 3 bytes, expected 640')
--- error_log
rtagent acs: bad media message: audio frame of 3 bytes, expected 640, call:bad-size



=== TEST 8: the docs' AudioData fixture has elided base64 ("5ADwAOMA6AD0A…"): 1007
--- raw_request eval
ws_handshake()
. cframe('text', fixture('acs_ws_in_AudioMetadata.json'))
. cframe('text', fixture('acs_ws_in_AudioData_docs.json'))
--- error_code: 101
--- response_body_like eval
qr/\A\x88[\x03-\x7d]\x03\xefaudio data is not valid base64/
--- error_log
rtagent acs: bad media message: audio data is not valid base64



=== TEST 9: AudioData before AudioMetadata: 1008
--- raw_request eval
ws_handshake(undef, 'x-ms-call-connection-id' => 'early-audio')
. acs_audio(tone(20))
--- error_code: 101
--- response_body eval
sclose(1008, 'AudioData before AudioMetadata')
--- error_log
rtagent acs: bad media message: AudioData before AudioMetadata, call:early-audio



=== TEST 10: malformed JSON: 1007 with the byte offset
--- raw_request eval
ws_handshake() . cframe('text', '{"kind" "AudioData"}')
--- error_code: 101
--- response_body_like eval
qr/\A\x88[\x03-\x7d]\x03\xefmalformed json at byte \d+/
--- error_log
rtagent acs: bad media message: malformed json



=== TEST 11: truncated JSON: 1007
--- raw_request eval
ws_handshake() . cframe('text', '{"kind":"AudioData",')
--- error_code: 101
--- response_body_like eval
qr/\A\x88[\x03-\x7d]\x03\xeftruncated json/



=== TEST 12: a message without a kind: 1007
--- raw_request eval
ws_handshake() . cframe('text', '{"audioData":{"data":""}}')
--- error_code: 101
--- response_body_like eval
qr/\A\x88[\x03-\x7d]\x03\xef.*kind/s



=== TEST 13: a field of the wrong type: 1007
--- raw_request eval
ws_handshake() . cframe('text', '{"kind":"AudioMetadata","audioMetadata":{"sampleRate":"16000"}}')
--- error_code: 101
--- response_body_like eval
qr/\A\x88[\x03-\x7d]\x03\xef.*sampleRate/s



=== TEST 14: a JSON value that is not an object: 1007
--- raw_request eval
ws_handshake() . cframe('text', '[1,2,3]')
--- error_code: 101
--- response_body_like eval
qr/\A\x88[\x03-\x7d]\x03\xef/



=== TEST 15: a binary message: 1003
--- raw_request eval
ws_handshake() . cframe('binary', "\x00\x01\x02\x03")
--- error_code: 101
--- response_body eval
sclose(1003, 'binary message: ACS media messages are JSON text')



=== TEST 16: an unsupported sample rate: 1008
--- raw_request eval
ws_handshake() . cframe('text', acs_metadata(8000))
--- error_code: 101
--- response_body_like eval
qr/\A\x88[\x03-\x7d]\x03\xf0unsupported sampleRate/



=== TEST 17: an unsupported encoding or channel count: 1008
--- raw_request eval
my $m = acs_metadata(16000); $m =~ s/"channels":1/"channels":2/;
ws_handshake() . cframe('text', $m)
--- error_code: 101
--- response_body eval
sclose(1008, 'unsupported channels: mono only')



=== TEST 18: a frame length that is not whole milliseconds: 1008
--- raw_request eval
ws_handshake() . cframe('text', acs_metadata(16000, length => 641))
--- error_code: 101
--- response_body eval
sclose(1008, 'unsupported length: frames of 10 to 100 ms only')



=== TEST 19: the format changing mid-stream: 1008; the same metadata twice is fine
--- raw_request eval
ws_handshake() . cframe('text', acs_metadata(16000))
. cframe('text', acs_metadata(16000)) . cframe('text', acs_metadata(24000))
--- error_code: 101
--- response_body eval
sclose(1008, 'audio format changed mid-stream')



=== TEST 20: AudioData without data: 1007
--- raw_request eval
ws_handshake() . cframe('text', acs_metadata(16000))
. cframe('text', '{"kind":"AudioData","audioData":{"timestamp":"2024-05-30T06:25:02.948Z"}}')
--- error_code: 101
--- response_body eval
sclose(1007, 'AudioData without data')



=== TEST 21: a silent frame without its zeros counts as a frame of silence
--- raw_request eval
my $s = cframe('text', '{"kind":"AudioData","audioData":{"data":"","silent":true}}');
[ws_handshake()
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(100)) . ($s x 31),
 cclose(1000)]
--- raw_request_middle_delay: 0.5
--- error_code: 101
--- response_body eval
acs_echo(tone(100) . silence(40)) . sclose(1000)



=== TEST 22: unknown kinds are ignored
--- raw_request eval
[ws_handshake()
 . cframe('text', '{"kind":"MarkData","markData":{"id":"x"}}')
 . cframe('text', acs_metadata(16000))
 . cframe('text', '{"kind":"SomethingNew"}'),
 cclose(1000)]
--- raw_request_middle_delay: 0.05
--- error_code: 101
--- response_body eval
sclose(1000)
--- error_log
rtagent acs: ignoring message of kind "MarkData"
rtagent acs: ignoring message of kind "SomethingNew"
--- no_error_log
bad media message



=== TEST 23: an utterance longer than rtagent_max_utterance is cut there
--- acs_config: rtagent_max_utterance 1s;
--- raw_request eval
[ws_handshake()
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(1500) . silence(700)),
 cclose(1000)]
--- raw_request_middle_delay: 2.5
--- timeout: 5
--- error_code: 101
--- error_log
rtagent call: utterance 1, 1000 ms (cut at rtagent_max_utterance)



=== TEST 24: the VAD threshold decides what is speech
--- acs_config: rtagent_vad_threshold -10dB;
--- raw_request eval
[ws_handshake()
 . cframe('text', acs_metadata(16000))
 . acs_audio(tone(200) . silence(700)),
 cclose(1000)]
--- raw_request_middle_delay: 0.5
--- error_code: 101
--- response_body eval
sclose(1000)
--- no_error_log
rtagent call: utterance



=== TEST 25: a bad VAD threshold is refused by nginx -t
--- acs_config: rtagent_vad_threshold 10;
--- must_die
--- error_log
invalid level "10": a dBFS value from -120 to 0



=== TEST 26: rtagent_max_utterance out of 1s to 60s is refused by nginx -t
--- acs_config: rtagent_max_utterance 90s;
--- must_die
--- error_log
rtagent_max_utterance must be 1s to 60s
