# The idle caller (rtagent_idle_reprompt, rtagent_idle_hangup) with
# rtagent_engine say_back on the local engines: a caller who says nothing
# is asked "Are you still there?", then told goodbye, and the call is
# closed with 1000 and the outcome caller_idle.

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use Test::Nginx::Socket 'no_plan';

{ package Test::Base::Filter; RtagentTest->import; }

plan skip_all => 'espeak-ng is needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng';

repeat_each(1);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    my $extra = $block->acs_config // '';
    $block->set_value(main_config => 'thread_pool rtagent_speech threads=2;');
    $block->set_value(config => <<"CONF") unless defined $block->config;
    location = /ws/acs/media {
        rtagent_acs_media;
        rtagent_engine say_back;
        rtagent_stt local;
        rtagent_tts local;
        $extra
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: a silent caller: reprompt, goodbye, closed with 1000 as caller_idle
--- acs_config: rtagent_idle_reprompt 300ms; rtagent_idle_hangup 300ms;
--- raw_request eval
ws_handshake(undef, 'x-ms-call-connection-id' => 'call-idle')
. cframe('text', acs_metadata(16000))
. acs_audio(silence(200))
--- timeout: 20
--- error_code: 101
--- response_body_like eval
my $close = quotemeta sclose(1000, 'caller idle');
qr/\A(?:\x81\x7e..\{"kind":"AudioData","audioData":\{"data":"[^"]+"\}\}){50,}$close\z/s
--- error_log
rtagent call: caller silent for 300 ms, reprompt, call:call-idle
rtagent call: caller silent for 300 ms after the reprompt, goodbye, call:call-idle
rtagent call: outcome caller_idle, call:call-idle
--- no_error_log
[error]



=== TEST 2: rtagent_idle_reprompt is off by default
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-quiet')
 . cframe('text', acs_metadata(16000))
 . acs_audio(silence(200)),
 cclose(1000)]
--- raw_request_middle_delay: 1
--- error_code: 101
--- response_body eval
sclose(1000)
--- error_log
rtagent call: outcome caller_hung_up, call:call-quiet
--- no_error_log
reprompt
[error]



=== TEST 3: a caller who answers the reprompt starts the count again: the next silence gets a reprompt, not the goodbye
--- acs_config: rtagent_idle_reprompt 300ms; rtagent_idle_hangup 5s;
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-idle-back')
 . cframe('text', acs_metadata(16000))
 . acs_audio(silence(200)),
 acs_audio(tone(400) . silence(700)),
 cclose(1000)]
--- raw_request_middle_delay: 4
--- timeout: 20
--- error_code: 101
--- grep_error_log eval
qr/rtagent call: caller silent for \d+ ms[\w ]*, \w+/
--- grep_error_log_out
rtagent call: caller silent for 300 ms, reprompt
rtagent call: caller silent for 300 ms, reprompt
--- error_log
rtagent call: utterance 1
rtagent call: outcome caller_hung_up, call:call-idle-back
--- no_error_log
goodbye
[error]
