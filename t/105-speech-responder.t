# The responder's side of the speech pipeline, in LLM calls
# (rtagent_engine llm, the shipped entry agent).  Failures are spoken, the
# responder's too: a model that fails on every route of its agent (the
# chat mock answers 500, then 503) gives the caller the apology, an
# ERROR_OCCURRED "responder failed" in Redis and a log line with the call
# id; a reply stream cut after "Let me" plays what it had said first, then
# the apology.  The agent's voice is the speech mock's (OpenAI TTS: every
# sample 513), the apology espeak-ng's (speech swings far below zero), so
# the caller's audio shows which is which and in what order.  Sentence
# pipelining: a reply streamed a word a second is heard from its first
# sentence on, while the model is still writing the second; each sentence
# goes to TTS on its own, in order.

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

use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng is needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng';
my $why = SpeechMock::_start() // ChatMock::_start();
plan skip_all => $why if $why;

my $sp = $ENV{TEST_NGINX_SPEECH_PORT};
my $cp = $ENV{TEST_NGINX_CHAT_PORT};
my $agents = "$FindBin::Bin/../agents";

my $r = start_redis();

# the 20 ms frames of PCM at 16 kHz as a string of letters: m (the mock's
# voice), s (speech: the apology), . (anything else)
sub voices {
    my ($pcm) = @_;
    my $out = '';
    for (my $i = 0; $i + 640 <= length $pcm; $i += 640) {
        my @s = unpack 's<*', substr($pcm, $i, 640);
        my $mock = grep { $_ >= 490 && $_ <= 540 } @s;
        my $low = grep { $_ < -2000 } @s;
        $out .= $mock >= 0.8 * @s ? 'm' : $low ? 's' : '.';
    }
    return $out;
}

# a call: the greeting is heard, the caller speaks, the reply is heard;
# $o{greeted} is called before the caller speaks, $o{first} once the
# reply's first audio has come
sub call {
    my ($n, $id, %o) = @_;
    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    my ($greeting) = reply_of($s, 15, 1);
    $o{greeted}->() if $o{greeted};
    send_msgs($s, acs_audio(silence(500) . tone(400) . silence(800)));
    my $reply = '';
    if ($o{first}) {
        ($reply) = reply_of($s, 10, 10, sub { length $_[0] });
        $o{first}->();
    }
    my ($rest) = reply_of($s, 20, 1.5);
    close $s;
    return (voices($greeting), voices($reply . $rest));
}

sub gateway {
    my ($routes) = @_;
    my $n = start_nginx(
        main => 'thread_pool rtagent_speech threads=2;',
        http => "rtagent_redis 127.0.0.1:$r->{port};
                 rtagent_openai_audio_key test-openai-key;
                 rtagent_upstream_retries 0;
                 rtagent_agents $agents;
                 rtagent_entry_agent auth;
                 $routes",
        server => "location = /ws/acs/media {
                       rtagent_acs_media;
                       rtagent_engine llm;
                       rtagent_stt openai;
                       rtagent_tts openai;
                       rtagent_openai_audio_url http://127.0.0.1:$sp/m/key=rsp,text=I%20had%20an%20accident;
                   }");
    ok(redis_up($n, 1), 'the worker is connected to Redis')
        or diag error_log($n);
    return $n;
}

# the responder's failure in Redis and in the log, with the call id
sub reported {
    my ($n, $id) = @_;
    my @err;
    ok(wait_for(sub { @err = call_events($r, $id, 'ERROR_OCCURRED') }),
       "$id: ERROR_OCCURRED in Redis");
    is_deeply([ map { $_->{error} } @err ], ['responder failed'],
              "$id: once, responder failed");

    my $log = error_log($n);
    like($log, qr/rtagent call: responder "llm" failed: .*call:\Q$id\E/,
         "$id: the failure is logged with the call id");
    like($log,
         qr/rtagent call: responder failed, apology played, call:\Q$id\E/,
         "$id: and the apology");
    unlike($log, qr/\[(?:alert|emerg)\]/, "$id: no alerts");
}

my $ep = "http://127.0.0.1:$cp/m";
my $key = 'model=gpt-4o-mini key=test-openai-key';

# ---- the model fails on every route -----------------------------------------

my $n = gateway("rtagent_llm_endpoint a $ep/key=r-a,code=500/v1 $key;
                 rtagent_llm_endpoint b $ep/key=r-b,code=503/v1 $key;
                 rtagent_model_route fast a b;
                 rtagent_model_route reasoning a b;");

my $id = 'resp-down';
my ($greeting, $reply) = call($n, $id);

like($greeting, qr/m{3}/, 'the greeting is said by the agent\'s voice');
unlike($greeting, qr/s/, 'without an apology');
like($reply, qr/s{10}/, 'a model that fails on every route: the caller '
     . 'hears the apology') or diag $reply;
ok(($reply =~ tr/s//) * 20 >= 1000,
   'a second of it at least (' . ($reply =~ tr/s//) * 20 . ' ms)');
unlike($reply, qr/m/, 'and nothing else');

reported($n, $id);
stop_nginx($n);

# ---- the reply stream is cut after "Let me" ---------------------------------

$n = gateway("rtagent_llm_endpoint cut $ep/key=r-cut,stream=error/v1 $key;
              rtagent_model_route fast cut;
              rtagent_model_route reasoning cut;");

$id = 'resp-cut';
($greeting, $reply) = call($n, $id);

like($reply, qr/m{3}/, 'a cut reply: what it had said is heard')
    or diag $reply;
like($reply, qr/s{10}/, 'and the apology') or diag $reply;
like($reply, qr/\A[^s]*m[^s]*s[^m]*\z/,
     'the apology after it, not over or before it') or diag $reply;

reported($n, $id);
stop_nginx($n);

# ---- a reply streamed slowly is heard as it comes ---------------------------

$n = gateway("rtagent_llm_endpoint slow $ep/key=r-slow,stream=say,delay=1000,"
             . "text=Hello%20there.%20How%20are%20you%20today%3F/v1 $key;
              rtagent_model_route fast slow;
              rtagent_model_route reasoning slow;");

sub said { SpeechMock::speech_mock_get('/__said?key=rsp') }

my ($before, $early);
$id = 'resp-slow';
($greeting, $reply) = call($n, $id,
                          greeted => sub { $before = said() },
                          first => sub { $early = said() });

is(substr($early, length $before), "Hello there.\n", 'the first sentence is heard while the model '
   . 'is still writing the second, which TTS has not had yet');
my $all = said();
like($all, qr/\nHello there\.\nHow are you today\?\n\z/,
     'then the second, on its own');
like($reply, qr/\A[^s]*\z/, 'no apology') or diag $reply;

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg|error)\]/, 'no errors') or diag $log;
diag $log unless Test::More->builder->is_passing;

stop_nginx($n);
done_testing();
