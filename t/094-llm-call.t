# rtagent_engine llm in a call: ACS media in, the caller's words by the STT
# provider (the speech mock), the shipped entry agent's prompt and tools to
# the chat mock, its streamed reply to the TTS provider (the speech mock)
# and back to the caller as audio.  No Redis: the context stays in the
# worker.

use FindBin;
use lib "$FindBin::Bin/mock";
use lib "$FindBin::Bin/helpers";
use SpeechMock;
use ChatMock;
use RtagentTest;
use Test::Nginx::Socket;

{ package Test::Base::Filter; RtagentTest->import; }

my $skip = speech_test_skip() // chat_test_skip();
$skip //= 'espeak-ng is needed' unless -x '/usr/bin/espeak-ng';
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

$ENV{TEST_NGINX_AGENTS} = "$FindBin::Bin/../agents";

repeat_each(1);
no_shuffle();
speech_block_checks();
chat_block_checks();

add_block_preprocessor(sub {
    my $block = shift;
    my $chat = $block->chat_script;
    $block->set_value(main_config => 'thread_pool rtagent_speech threads=2;');
    $block->set_value(http_config => <<"CONF");
    rtagent_openai_audio_key test-openai-key;
    rtagent_upstream_retries 0;
    rtagent_agents \$TEST_NGINX_AGENTS;
    rtagent_entry_agent auth;
    rtagent_llm_endpoint fast http://127.0.0.1:\$TEST_NGINX_CHAT_PORT/m/$chat/v1 model=gpt-4o-mini key=test-openai-key;
    rtagent_model_route reasoning fast;
CONF
    $block->set_value(config => <<"CONF");
    location = /ws/acs/media {
        rtagent_acs_media;
        rtagent_engine llm;
        rtagent_stt openai;
        rtagent_tts openai;
        rtagent_openai_audio_url http://127.0.0.1:\$TEST_NGINX_SPEECH_PORT/m/key=lc1,text=I%20had%20an%20accident;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: the caller's words go to the model with the entry agent's prompt and tools; its reply is synthesised and played
--- chat_script: key=lcall,stream=say,text=I%20am%20sorry%20to%20hear%20that.%20What%20is%20your%20policy%20number%3F
--- raw_request eval
[ws_handshake(undef, 'x-ms-call-connection-id' => 'call-lc1')
 . cframe('text', acs_metadata(16000))
 . acs_audio(silence(1000) . tone(400) . silence(700)),
 cclose(1000)]
--- raw_request_middle_delay: 5
--- timeout: 15
--- error_code: 101
--- response_body_like eval
qr/\A(?:\x81\x7e..\{"kind":"AudioData","audioData":\{"data":"[^"]+"\}\}){3,}/s
--- chat_record: lcall
--- chat_record_like
^tools=verify_identity,lookup_policy,transfer_to_human,end_call,handoff_to_fnol,handoff_to_healthcare,handoff_to_legal,handoff_to_support$
(?s:.*)^msg\.0=system:You are the first voice a Contoso Insurance customer hears on the phone\.(?s:.*)^msg\.1=user:I had an accident$
--- mock_record: lc1
--- mock_record_like
^path=/m/key=lc1,text=I%20had%20an%20accident/audio/speech
(?s:.*)"input":"What is your policy number\?"
--- error_log
rtagent call: caller said "I had an accident"
--- no_error_log
[alert]
[error]
