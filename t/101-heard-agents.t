# After a confirmed barge-in only the heard part of the reply is kept
# (rtagent_engine agents, the local dialogue): the greeting and first
# question of the entry agent are generated at once, synthesised (the
# speech mock: 1 s of audio a sentence) and played in real time, and the
# caller talks over them in the second sentence (of five).  The orchestrator's
# :context entry for the turn and the transcript's agent entry hold what
# the caller heard ("interrupted":true in the transcript), not the
# sentences never said.  Cut before its first word was heard, the turn
# has no :context entry, and an empty transcript entry.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers", "$FindBin::Bin/mock";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;
use SpeechMock;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
my $skip = speech_test_skip();
plan skip_all => $skip if $skip;

my $sp = $ENV{TEST_NGINX_SPEECH_PORT};

sub esc { my ($s) = @_; $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge; $s }

my $r = start_redis();
my $tmp = tempdir(CLEANUP => 1);

my $first = 'Welcome.';
open my $fh, '>', "$tmp/desk.yaml" or die $!;
print $fh <<"YAML";
name: desk
description: Takes messages.
greeting: $first I can take a message for you. I am here all day. I can also read your balance.
prompt: A test agent.
tools: [end_call]
local:
  ask: What would you like?
  intents:
    - name: goodbye
      keywords: [goodbye]
      examples: [goodbye]
      say: Thank you for calling. Goodbye.
      tool: end_call
YAML
close $fh;

my $stt = 'key=desk-s,chunks=50,delay=0,texts=' . esc('Wait, I have a question');
my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
          . "rtagent_agents $tmp;\nrtagent_entry_agent desk;\n"
          . "rtagent_openai_audio_key test-openai-key;\n"
          . "rtagent_upstream_retries 0;\n",
    server => 'location = /ws/acs/media { rtagent_acs_media;'
            . ' rtagent_engine agents; rtagent_stt openai; rtagent_tts openai;'
            . " rtagent_openai_audio_url http://127.0.0.1:$sp/m/$stt; }");
ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);

# a call whose caller talks over the greeting once $bytes of its audio
# have come (50 frames of 640 bytes a second); its log, :context and
# transcript entries
sub cut_greeting {
    my ($id, $bytes) = @_;
    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    send_msgs($s, acs_audio(silence(200)));

    my ($pcm) = reply_of($s, 20, 5, sub { length $_[0] >= $bytes });
    ok(length $pcm >= $bytes, "$id: the greeting is playing")
        or diag error_log($n);

    send_paced($s, tone(600) . silence(1000));

    ok(wait_for(sub { error_log($n) =~ /caller said "Wait, I have a question".*call:\Q$id\E/ }, 10),
       "$id: the interruption is heard") or diag error_log($n);
    reply_of($s, 10, 1.0);
    send_msgs($s, cclose(1000));
    close $s;
    wait_for(sub { error_log($n) =~ /outcome \S+, call:\Q$id\E/ }, 5);

    my $log = error_log($n);
    like($log, qr/barge-in confirmed by speech after \d+ ms, reply cancelled, call:\Q$id\E/,
         "$id: the barge-in is confirmed");
    like($log, qr/rtagent agents: the context keeps \d+ bytes of the reply, the caller heard no more, call:\Q$id\E/,
         "$id: the orchestrator cuts its context entry");

    my @ctx = map { decode_json($_) }
              @{ redis($r, 'LRANGE', "rtagent:call:{$id}:context", 0, -1) };
    my @tr = map { decode_json($_) }
             @{ redis($r, 'LRANGE', "rtagent:call:{$id}:transcript", 0, -1) };
    return ($log, \@ctx, \@tr);
}

# cut in its second sentence, 1.3 s in
{
    my ($log, $ctx, $tr) = cut_greeting('heard-desk', 65 * 640);

    my $greeting = $ctx->[0];
    is($greeting->{role}, 'agent', 'the greeting turn has a context entry')
        or diag explain $ctx;
    like($greeting->{text}, qr/^\Q$first\E(?: \S+)*$/,
         "it holds what was heard ($greeting->{text})");
    unlike($greeting->{text}, qr/balance|What would you like/,
           'not the sentences never said');
    is($ctx->[1]{role}, 'caller', "then the caller's words");
    is($ctx->[1]{text}, 'Wait, I have a question', 'as heard');

    my ($cut) = grep { $_->{role} eq 'agent' } @$tr;
    ok($cut && $cut->{interrupted}, 'the transcript: the greeting was interrupted')
        or diag explain $tr;
    is($cut->{text}, $greeting->{text}, 'the transcript: what was heard of it');
    is(scalar(grep { ($_->{text} // '') =~ /balance/ } @$tr), 0,
       'the transcript: not the rest');
}

# cut at its first frame: not a word of "Welcome." (a second) was heard
{
    my ($log, $ctx, $tr) = cut_greeting('heard-none', 640);

    like($log, qr/the caller heard 0 of \d+ bytes of the reply, call:heard-none/,
         'none: the caller heard nothing');
    is($ctx->[0]{role}, 'caller', 'none: no context entry for the greeting')
        or diag explain $ctx;
    my ($cut) = grep { $_->{role} eq 'agent' } @$tr;
    ok($cut && $cut->{interrupted}, 'none: the transcript: interrupted')
        or diag explain $tr;
    is($cut->{text}, '', 'none: and empty');
}

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/, 'no crash');
stop_nginx($n);
done_testing();
