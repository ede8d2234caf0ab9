# The browser channel's protocol (rtagent_web_media, README "Talk from the
# browser"): start gets ready with a generated call id; PCM16 frames of any
# size at the page's rate are echoed at that rate (16 kHz as is, 48 kHz
# resampled to the call's 16 kHz and back); stop ends the call as hung up,
# stored in Redis like an ACS call; and each kind of bad input closes the
# socket with its RFC 6455 code after an error event, logged with the call
# id.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentWeb;

use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $r = start_redis();
my $n = start_nginx(
    http => "rtagent_redis 127.0.0.1:$r->{port};",
    server => 'location = /ws/web {
                   rtagent_web_media;
                   rtagent_engine echo;
                   rtagent_ws_max_message_size 16k;
               }');

ok(redis_up($n, 1), 'the worker is connected to Redis') or diag error_log($n);

# start, ready, echo, stop
for my $rate (16000, 48000) {
    my $s = open_web($n->{port}, web_start(rate => $rate));
    my $w = web_read($s, 5, sub { web_until($_[0], 'ready') });
    my ($ready) = web_until($w, 'ready');

    ok($ready, "$rate Hz: ready") or diag explain $w;
    my $id = $ready->{callId} // '';
    like($id, qr/\Aweb-[0-9a-f]{32}\z/, "$rate Hz: call id $id");
    is($ready->{sampleRate}, $rate, "$rate Hz: ready names the page's rate");
    is($ready->{codec}, 'pcm16', "$rate Hz: codec pcm16");

    # 700 ms of tone between silences, in 128-sample pieces as an
    # AudioWorklet makes them
    my $tone = tone(700, $rate, 8000, 440);
    web_send($s, web_pcm(silence(300, $rate) . $tone . silence(1200, $rate),
                         $rate, 128 * 1000 / $rate));

    $w = web_read($s, 8, sub { $_[0]{last_audio}
                               && time - $_[0]{last_audio} > 0.6 }, $w);
    my $secs = length($w->{audio}) / 2 / $rate;
    ok($secs > 0.65 && $secs < 1.2,
       "$rate Hz: the echo is ${secs} s at the page's rate");
    my $level = pcm_rms($w->{audio});
    ok($level > 3000 && $level < 8000,
       "$rate Hz: the echo is the tone (RMS $level)");

    web_send($s, '{"type":"stop"}');
    $w = web_read($s, 5, undef, $w);
    is($w->{close}, 1000, "$rate Hz: stop closes with 1000");

    ok(wait_for(sub { (redis($r, 'HGET', "rtagent:call:{$id}", 'state')
                       // '') eq 'ended' }),
       "$rate Hz: the call is stored and ended in Redis");
    is(redis($r, 'HGET', "rtagent:call:{$id}", 'outcome'), 'caller_hung_up',
       "$rate Hz: outcome caller_hung_up");
    close $s;
}

# barge-in: a burst over the echo stops it; the page is told to drop its
# queue, then the answer resumes
{
    my $s = open_web($n->{port}, web_start(rate => 16000));
    web_send($s, web_pcm(tone(400) . silence(620) . tone(100) . silence(600),
                         16000, 20));
    my $w = web_read($s, 8, sub { $_[0]{last_audio}
                                  && time - $_[0]{last_audio} > 0.8 });
    my ($stop) = web_until($w, 'stop_audio');
    ok($stop, 'barge-in: stop_audio sent') or diag explain $w->{events};
    ok($stop && $stop->{_audio_at} > 0
       && $stop->{_audio_at} < length $w->{audio},
       'barge-in: after some of the answer, before the rest');
    ok(wait_for(sub { error_log($n) =~ /barge-in, stopping playback, call:web-/ }),
       'barge-in: logged with the call id');
    close $s;
}

# bad input: close code, error event, a log line with the call id
my @bad = (
    [ 'malformed JSON', ['{"type":"start",'], 1007, qr/malformed JSON/ ],
    [ 'not an object', [cframe('text', '[1,2]')], 1007, qr/not a JSON object/ ],
    [ 'no type', ['{"sampleRate":16000}'], 1007, qr/no "type"/ ],
    [ 'unknown type', ['{"type":"dance"}'], 1008, qr/unknown type "dance"/ ],
    [ 'audio before start', [cframe('binary', "\0" x 640)], 1008,
      qr/audio before start/ ],
    [ 'start twice', [web_start(), web_start()], 1008, qr/start sent twice/ ],
    [ 'a rate out of range', [web_start(rate => 4000)], 1003,
      qr/"sampleRate" 4000 is not from 8000 to 96000/ ],
    [ 'a rate of the wrong type', ['{"type":"start","sampleRate":"16k"}'],
      1007, qr/integer "sampleRate"/ ],
    [ 'an unknown codec', [web_start(codec => 'mp3')], 1003,
      qr/unsupported codec "mp3"/ ],
    [ 'Opus at 44.1 kHz', [web_start(codec => 'opus', rate => 44100)], 1003,
      qr/not an Opus rate/ ],
    [ 'a bad agent name', ['{"type":"start","sampleRate":16000,'
                           . '"agent":"a b"}'], 1007, qr/"agent" is not/ ],
    [ 'an odd PCM16 frame', [web_start(), cframe('binary', "\0" x 641)],
      1007, qr/PCM16 frame of 641 bytes/ ],
    [ 'a control message over 4 KiB',
      ['{"type":"stop","pad":"' . ('x' x 5000) . '"}'], 1009,
      qr/control message of \d+ bytes, more than 4096/ ],
);

for my $b (@bad) {
    my ($what, $msgs, $code, $why) = @$b;
    my $s = open_web($n->{port}, @$msgs);
    my $w = web_read($s, 5);
    my ($err) = web_until($w, 'error');

    is($w->{close}, $code, "$what: close $code");
    like($w->{reason} // '', $why, "$what: the close reason says why");
    ok($err && $err->{code} == $code && $err->{message} =~ $why,
       "$what: an error event first") or diag explain $w->{events};
    like(error_log($n),
         qr/rtagent web: bad message: [^\n]*$why[^\n]* \(close $code\), call:web-[0-9a-f]{32}/,
         "$what: logged with the call id");
    close $s;
}

# a frame over rtagent_ws_max_message_size: the WebSocket layer's 1009,
# stored as an error
{
    my $s = open_web($n->{port}, web_start(),
                     cframe('binary', "\0" x (17 * 1024)));
    my $w = web_read($s, 5);
    my ($ready) = web_until($w, 'ready');
    my $id = $ready->{callId} // '-';
    is($w->{close}, 1009, 'a frame over the message limit: close 1009');
    ok(wait_for(sub { error_log($n) =~ /closed, sent 1009, .*call:\Q$id\E/ }),
       'the message limit logged with the call id') or diag error_log($n);
    ok(wait_for(sub { (redis($r, 'HGET', "rtagent:call:{$id}", 'outcome')
                       // '') eq 'error' }),
       'the message limit: outcome error');
    is(redis($r, 'HGET', "rtagent:call:{$id}", 'reason'),
       'websocket protocol error', 'the message limit: the reason');
    close $s;
}

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg|crit)\]/, 'no alerts') or diag $log;

stop_nginx($n);
done_testing();
