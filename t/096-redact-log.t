# rtagent_redact on covers the error log too: the "caller said" line of a
# call's final transcript shows card numbers and SSNs as labels, not the
# digits; with it off the words are logged as heard.  The caller's words
# come from the STT provider "openai" against the speech mock, which also
# synthesises the say_back reply.

use FindBin;
use lib "$FindBin::Bin/mock";
use lib "$FindBin::Bin/helpers";
use SpeechMock;
use RtagentTest;
use Test::Nginx::Socket;

{ package Test::Base::Filter; RtagentTest->import; }

my $skip = speech_test_skip();
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

repeat_each(1);
no_shuffle();
speech_block_checks();

add_block_preprocessor(sub {
    my $block = shift;
    my $redact = $block->redact // 'off';
    my $key = $block->mock_key;
    $block->set_value(main_config => 'thread_pool rtagent_speech threads=2;');
    $block->set_value(http_config => <<"CONF");
    rtagent_openai_audio_key test-openai-key;
    rtagent_upstream_retries 0;
    rtagent_redact $redact;
CONF
    $block->set_value(config => <<"CONF");
    location = /ws/acs/media {
        rtagent_acs_media;
        rtagent_engine say_back;
        rtagent_stt openai;
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:\$TEST_NGINX_SPEECH_PORT/m/key=$key,text=my%20card%20is%204242%204242%204242%204242%20and%20my%20ssn%20is%20123-45-6789;
    }
CONF
    $block->set_value(raw_request => [
        ws_handshake(undef, 'x-ms-call-connection-id' => "call-$key")
        . cframe('text', acs_metadata(16000))
        . acs_audio(silence(1000) . tone(400) . silence(700)),
        cclose(1000)]);
    $block->set_value(raw_request_middle_delay => 5);
    $block->set_value(timeout => 15);
    $block->set_value(error_code => 101);
});

run_tests();

__DATA__

=== TEST 1: rtagent_redact on: the logged words carry labels, not the numbers
--- redact: on
--- mock_key: rl1
--- error_log
rtagent call: caller said "my card is [card] and my ssn is [ssn]"
--- no_error_log
4242
123-45-6789
[alert]



=== TEST 2: rtagent_redact off (the default): the words are logged as heard
--- redact: off
--- mock_key: rl2
--- error_log
rtagent call: caller said "my card is 4242 4242 4242 4242 and my ssn is 123-45-6789"
--- no_error_log
[card]
[alert]
