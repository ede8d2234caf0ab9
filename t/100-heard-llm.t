# After a confirmed barge-in only the heard part of the reply is kept
# (rtagent_engine llm): the model's reply streams in sentence by sentence,
# each is synthesised (the speech mock: 1 s of audio a sentence) and
# played in real time, and the caller talks over it.  What the caller
# heard goes into the context (the next request to the model, the
# :context list) and into the transcript with "interrupted":true; the
# unspoken rest goes nowhere.  Once while the model still streams (the
# turn is cancelled), once after it has finished (all generated, still
# being said), once before a word of it was heard.

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
use Time::HiRes qw(sleep);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
my $skip = speech_test_skip() // chat_test_skip();
plan skip_all => $skip if $skip;

my $cp = $ENV{TEST_NGINX_CHAT_PORT};
my $sp = $ENV{TEST_NGINX_SPEECH_PORT};

# 1 s of audio at 24 kHz a sentence, at 16 kHz 50 frames of 640 bytes
my $sentence = 50 * 640;

sub esc { my ($s) = @_; $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge; $s }

my $r = start_redis();

# a call to a fresh nginx whose model answers $replies (one a request,
# "say": word by word, $delay ms apart); the caller says "I had an
# accident", and once $wait bytes of the reply's audio have come (and
# $after s more), interrupts it with "Wait, I have a question".  The
# chat record key, the call's log, its transcript entries
sub interrupted_call {
    my ($id, $delay, $wait, $after, @replies) = @_;
    my $script = "key=$id,stream=" . join('+', ('say') x @replies)
               . ",delay=$delay,text=" . join('+', map { esc($_) } @replies);
    my $stt = "key=$id-s,chunks=50,delay=0,texts="
            . join('|', map { esc($_) }
                   'I had an accident', 'Wait, I have a question');
    my $n = start_nginx(
        main => 'thread_pool rtagent_speech threads=2;',
        http => "rtagent_redis 127.0.0.1:$r->{port};\n"
              . "rtagent_agents $FindBin::Bin/../agents;\nrtagent_entry_agent auth;\n"
              . "rtagent_openai_audio_key test-openai-key;\n"
              . "rtagent_upstream_retries 0;\n"
              . "rtagent_llm_endpoint fast http://127.0.0.1:$cp/m/$script/v1 model=gpt-4o-mini key=test-openai-key;\n"
              . "rtagent_model_route reasoning fast;\n",
        server => 'location = /ws/acs/media { rtagent_acs_media;'
                . ' rtagent_engine llm; rtagent_stt openai; rtagent_tts openai;'
                . " rtagent_openai_audio_url http://127.0.0.1:$sp/m/$stt; }");
    ok(redis_up($n, 1), "$id: connected to Redis") or diag error_log($n);

    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    send_msgs($s, acs_audio(silence(200)));
    my ($pcm) = reply_of($s, 20, 1.0);
    ok(length $pcm >= 2 * $sentence, "$id: the greeting is heard whole");

    send_msgs($s, acs_audio(tone(400) . silence(1000)));
    ($pcm) = reply_of($s, 20, 5, sub { length $_[0] >= $wait });
    ok(length $pcm >= $wait, "$id: the reply is playing")
        or diag error_log($n);
    sleep $after;

    # the caller talks over it, paced as ACS sends the audio
    send_paced($s, tone(600) . silence(1000));

    ok(wait_for(sub { chat_mock_get("/__last?key=$id") =~ /^hits=2 /m }, 10),
       "$id: the interruption is the next turn") or diag error_log($n);
    reply_of($s, 10, 1.0);
    send_msgs($s, cclose(1000));
    close $s;
    wait_for(sub { error_log($n) =~ /outcome \S+, call:\Q$id\E/ }, 5);

    my $log = error_log($n);
    stop_nginx($n);
    my @tr = map { decode_json($_) }
             @{ redis($r, 'LRANGE', "rtagent:call:{$id}:transcript", 0, -1) };
    my @ctx = map { decode_json($_) }
              @{ redis($r, 'LRANGE', "rtagent:call:{$id}:context", 0, -1) };
    return ($log, \@tr, \@ctx);
}

sub agent_entries { grep { $_->{role} eq 'agent' } @{ $_[0] } }


# The model is slow: "I see." is said (and heard) while the next sentence
# is still being written (40 words, 400 ms apart); the barge-in cancels
# the turn
{
    my $id = 'heard-stream';
    # most of its second: resampled, "I see." can come a few samples short
    # of a whole one, its last part frame held back
    my ($log, $tr, $ctx) = interrupted_call($id, 400, int(0.9 * $sentence),
        0.4,
        'I see. Let me look into that for you right now while I open your file'
        . ' and read what it says about the accident and the car and the other'
        . ' driver and the time of day when it all happened to you. Then we decide.',
        'Of course, go ahead.');

    like($log, qr/barge-in confirmed by speech after \d+ ms, reply cancelled, call:\Q$id\E/,
         'stream: the barge-in is confirmed');
    like($log, qr/the caller heard 6 of \d+ bytes of the reply, call:\Q$id\E/,
         'stream: the caller heard "I see."');

    my $rec = chat_mock_get("/__last?key=$id&n=2");
    like($rec, qr/^msg\.2=user:I had an accident\nmsg\.3=assistant:I see\.\nmsg\.4=user:Wait, I have a question$/m,
         'stream: the next request has the heard part as the assistant message')
        or diag $rec;
    unlike($rec, qr/^msg\.\d+=assistant:.*look into/m,
           'stream: not the unspoken rest');

    my @agent = agent_entries($tr);
    my ($cut) = grep { $_->{interrupted} } @agent;
    ok($cut, 'stream: the transcript has an interrupted agent entry')
        or diag explain $tr;
    is($cut->{text}, 'I see.', 'stream: it holds the heard part');
    ok(JSON::PP::is_bool($cut->{interrupted}), 'stream: interrupted is true');
    is(scalar(grep { $_->{text} =~ /look into/ } @agent), 0,
       'stream: no entry has the unspoken rest');

    my @said = map { $_->{text} } grep { $_->{role} eq 'agent' } @$ctx;
    ok((grep { $_ eq 'I see.' } @said), 'stream: the :context list has the heard part')
        or diag explain $ctx;
    is(scalar(grep { /look into/ } @said), 0, 'stream: and not the rest');
    unlike($log, qr/\[(?:alert|crit|emerg)\]|exited on signal/, 'stream: no crash');
}

# The model is fast: the reply is all generated (and all synthesised) at
# once and the caller cuts it in its second sentence (of four): the
# context entry stored at the end of the turn is cut to the heard part
{
    my $id = 'heard-done';
    my $first = 'First I will check your policy.';
    my ($log, $tr, $ctx) = interrupted_call($id, 0, int(1.2 * $sentence), 0,
        "$first Then I will look at the claim history. I will ring the garage."
        . ' Finally I will call you back.',
        'Of course, go ahead.');

    like($log, qr/barge-in confirmed by speech after \d+ ms, reply cancelled, call:\Q$id\E/,
         'done: the barge-in is confirmed');
    like($log, qr/rtagent llm: the context keeps \d+ of the reply's \d+ bytes/,
         'done: the context entry is cut');

    my $rec = chat_mock_get("/__last?key=$id&n=2");
    my ($said) = $rec =~ /^msg\.3=assistant:(.*)$/m;
    like($said // '', qr/^\Q$first\E(?: \S+)*$/,
         "done: the assistant message is the heard part ($said)")
        or diag $rec;
    unlike($rec, qr/^msg\.\d+=assistant:.*Finally/m,
           'done: not the unspoken sentence');
    like($rec, qr/^msg\.4=user:Wait, I have a question$/m,
         "done: then the caller's words");

    my ($cut) = grep { $_->{interrupted} } agent_entries($tr);
    ok($cut, 'done: the transcript has an interrupted agent entry')
        or diag explain $tr;
    is($cut->{text}, $said, 'done: it holds what the model was told was heard');

    my @c = map { $_->{text} } grep { $_->{role} eq 'agent' } @$ctx;
    ok((grep { $_ eq $said } @c), 'done: so does the :context list')
        or diag explain $ctx;
    is(scalar(grep { /Finally/ } @c), 0, 'done: and not the rest');
    unlike($log, qr/\[(?:alert|crit|emerg)\]|exited on signal/, 'done: no crash');
}

# Cut at its first frame: not a word of "Right." (a second of audio) was
# heard.  No assistant message (the caller's two turns follow each other),
# none in the :context list; the transcript has an empty entry marked
# interrupted
{
    my $id = 'heard-none';
    my ($log, $tr, $ctx) = interrupted_call($id, 0, 640, 0,
        'Right. Let me see what I can do about that.', 'Of course, go ahead.');

    like($log, qr/the caller heard 0 of \d+ bytes of the reply, call:\Q$id\E/,
         'none: the caller heard nothing');
    my $rec = chat_mock_get("/__last?key=$id&n=2");
    like($rec, qr/^msg\.2=user:I had an accident\nmsg\.3=user:Wait, I have a question$/m,
         'none: no assistant message between the two turns') or diag $rec;

    my ($cut) = grep { $_->{interrupted} } agent_entries($tr);
    ok($cut, 'none: the transcript has an interrupted agent entry')
        or diag explain $tr;
    is($cut->{text}, '', 'none: empty');
    is($ctx->[1]{role}, 'caller', 'none: :context has the caller first');
    is($ctx->[2]{role}, 'caller', 'none: then the caller again, no agent entry')
        or diag explain $ctx;
    unlike($log, qr/\[(?:alert|crit|emerg)\]|exited on signal/, 'none: no crash');
}

done_testing();
