# A browser caller on the local engines: espeak-ng says "I want to report
# an accident" as PCM16 at 48 kHz into rtagent_web_media with say_back
# (pocketsphinx, espeak-ng).  The page gets the caller's final text, then
# the agent's reply "You said: ..." with the answering agent's name and the
# turn's latency, and the reply's audio at 48 kHz; the same lines are in
# the call's transcript in Redis.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;
use RtagentWeb;

use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng and sox are needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng' && -x '/usr/bin/sox';

my $r = start_redis();
my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};",
    server => 'location = /ws/web {
                   rtagent_web_media;
                   rtagent_engine say_back;
                   rtagent_stt local;
                   rtagent_tts local;
               }');

ok(redis_up($n, 1), 'the worker is connected to Redis') or diag error_log($n);

my $rate = 48000;
my $s = open_web($n->{port}, web_start(rate => $rate));
my $w = web_read($s, 5, sub { web_until($_[0], 'ready') });
my ($ready) = web_until($w, 'ready');
my $id = $ready->{callId} // '';
ok($id, "ready, call $id");

web_send($s, web_pcm(silence(300, $rate)
                     . espeak_pcm('I want to report an accident', $rate)
                     . silence(1500, $rate), $rate, 20));

$w = web_read($s, 40, sub {
    my ($agent) = grep { $_->{role} eq 'agent' } web_until($_[0], 'transcript');
    $agent && $_[0]{last_audio} && time - $_[0]{last_audio} > 1.5
}, $w);

my ($caller) = grep { $_->{role} eq 'caller' } web_until($w, 'transcript');
my ($agent) = grep { $_->{role} eq 'agent' } web_until($w, 'transcript');

ok($caller, 'the caller\'s final text came') or diag explain $w->{events};
my $said = $caller->{text} // '';
like($said, qr/\breport\b/i, "the caller's text: \"$said\"");
is($caller->{turn}, 1, 'turn 1');

ok($agent, 'the agent\'s reply came');
is($agent->{text}, "You said: $said.", 'the reply text');
is($agent->{agent}, 'say_back', 'the answering agent is named');
ok(($agent->{latencyMs} // -1) > 0, "the turn's latency: "
   . ($agent->{latencyMs} // 'none') . ' ms');

my $secs = length($w->{audio}) / 2 / $rate;
ok($secs > 1, "the reply's audio: $secs s at $rate Hz");

my @tr = map { decode_json($_) }
         @{ redis($r, 'LRANGE', "rtagent:call:{$id}:transcript", 0, -1) };
ok((grep { $_->{role} eq 'caller' && $_->{text} eq $said } @tr),
   'the caller\'s text is in the transcript in Redis');
ok((grep { $_->{role} eq 'agent' && $_->{text} eq "You said: $said." } @tr),
   'the reply is in the transcript in Redis');

close $s;
ok(wait_for(sub { (redis($r, 'HGET', "rtagent:call:{$id}", 'outcome')
                   // '') eq 'caller_hung_up' }),
   'closing the page hangs up');

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg|crit)\]/, 'no alerts') or diag $log;
diag $log unless Test::More->builder->is_passing;

stop_nginx($n);
done_testing();
