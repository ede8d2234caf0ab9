# The web client (conf/html) in headless Chromium (Debian's chromium,
# driven by playwright-core from tools/node_modules): the fake microphone
# plays a WAV made here with espeak-ng ("I want to report an accident"),
# the page calls /ws/web on the local engines (say_back: pocketsphinx,
# espeak-ng), once with Opus through WebCodecs and once with PCM16.  The
# agent's reply "You said: ..." must appear in the page, with the agent's
# name and the turn's latency, and its audio must have been played by the
# playback worklet (it counts the samples).  A screenshot of each is kept
# in build/artifacts/ (RTAGENT_ARTIFACTS).  A caller who talks over the
# reply gets it stopped: the page has stop_audio and its playback worklet
# drops what it had queued (over the echo engine, on /ws/echo).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;
use RtagentTools qw(find_tool);

use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

my $root = abs_path("$FindBin::Bin/..");
my $chromium = $ENV{RTAGENT_CHROMIUM} // '/usr/bin/chromium';

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
my $node = find_tool('node');
plan skip_all => 'node is not installed' unless $node;
plan skip_all => "playwright-core is not installed: npm install --prefix $root/tools"
    unless -d "$root/tools/node_modules/playwright-core";
plan skip_all => "$chromium is not installed (Debian package chromium)"
    unless -x $chromium;
plan skip_all => 'espeak-ng and sox are needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng' && -x '/usr/bin/sox';

my $tmp = tempdir(CLEANUP => 1);
my $art = $ENV{RTAGENT_ARTIFACTS} // "$root/build/artifacts";
make_path($art);

# PCM16LE mono in a WAV file, for Chromium's fake microphone
sub write_wav {
    my ($path, $rate, $pcm) = @_;
    open my $fh, '>:raw', $path or die "$path: $!";
    print $fh 'RIFF', pack('V', 36 + length $pcm), 'WAVEfmt ',
              pack('VvvVVvv', 16, 1, 1, $rate, $rate * 2, 2, 16),
              'data', pack('V', length $pcm), $pcm;
    close $fh;
}

# the caller: a pause, the sentence, then quiet while the agent answers
my $rate = 48000;
my $pcm = silence(1000, $rate) . espeak_pcm('I want to report an accident', $rate)
        . silence(20000, $rate);
write_wav("$tmp/caller.wav", $rate, $pcm);

# and a caller who talks over the echo of what they said (rtagent_engine
# echo: no speech engine, so the timing holds on a busy machine): the echo
# starts 600 ms after the sentence (the end of speech), the second sentence
# 1 s after it, over and over (the fake microphone loops the file)
my $pcm2 = espeak_pcm('I want to report an accident', $rate)
         . silence(1000, $rate) . espeak_pcm('no, stop, stop please', $rate)
         . silence(3000, $rate);
write_wav("$tmp/barge.wav", $rate, $pcm2);

my $r = start_redis();
my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};",
    server => "location / {
                   root $root/conf/html;
                   types { text/html html; text/css css;
                           application/javascript js; }
               }
               location = /ws/echo {
                   rtagent_web_media;
                   rtagent_engine echo;
               }
               location = /ws/web {
                   rtagent_web_media;
                   rtagent_engine say_back;
                   rtagent_stt local;
                   rtagent_tts local;
               }");

ok(redis_up($n, 1), 'the worker is connected to Redis') or diag error_log($n);

for my $codec ('opus', 'pcm16') {
    my $shot = "$art/088-web-browser-$codec.png";
    unlink $shot;
    my $json = `$node $FindBin::Bin/helpers/web-browser.mjs --chromium $chromium --url 'http://127.0.0.1:$n->{port}/?codec=$codec' --wav $tmp/caller.wav --shot $shot --timeout-ms 60000 2>&1`;
    my $out = eval { decode_json($json) } // { error => $json };
    my $st = $out->{status} // {};

    ok($out->{ok}, "$codec: the agent's reply was heard in the page")
        or diag explain $out;
    is($out->{title}, 'rtagent: talk to the agent', "$codec: the page loaded");
    is($st->{codec}, $codec, "$codec: the call's codec");
    like($st->{callId} // '', qr/\Aweb-[0-9a-f]{32}\z/, "$codec: a call id");

    my ($caller) = grep { $_->{role} eq 'caller' } @{ $st->{transcript} // [] };
    my ($agent) = grep { $_->{role} eq 'agent' } @{ $st->{transcript} // [] };
    my $said = $caller->{text} // '';
    # the generic en-us model, through the browser's audio processing
    like($said, qr/\bwant\b/i, "$codec: the page heard \"$said\"");
    like($out->{transcriptText} // '',
         qr/Agent \(say_back\):\s*You said: \Q$said\E\./,
         "$codec: the reply is shown with the agent's name");
    like($out->{latencyText} // '', qr/turn 1: \d+ ms/,
         "$codec: the turn's latency is shown");
    my $played = ($st->{played} // 0) / ($st->{rate} || 1);
    ok($played > 0.5, "$codec: the playback worklet played $played s");
    is($out->{errorText}, '', "$codec: no error shown");
    ok(-s $shot, "$codec: screenshot kept in $shot");
    is($out->{endState}, 'ended', "$codec: the page ended the call");

    my $id = $st->{callId} // '-';
    ok(wait_for(sub { (redis($r, 'HGET', "rtagent:call:{$id}", 'outcome')
                       // '') eq 'caller_hung_up' }),
       "$codec: the call is stored as hung up by the caller");
    like(error_log($n), qr/rtagent web: started, $codec at 48000 Hz, call:\Q$id\E/,
         "$codec: the gateway logged the call");
}

# barge-in: the page drops the reply it has queued at once
{
    my $shot = "$art/088-web-browser-barge-in.png";
    my $json = `$node $FindBin::Bin/helpers/web-browser.mjs --chromium $chromium --url 'http://127.0.0.1:$n->{port}/?codec=opus&ws=/ws/echo' --wav $tmp/barge.wav --shot $shot --timeout-ms 30000 --barge-in 2>&1`;
    my $out = eval { decode_json($json) } // { error => $json };
    my $st = $out->{status} // {};

    ok($out->{ok}, 'barge-in: the page got stop_audio while the echo played')
        or diag explain $out;
    ok(($st->{flushed} // 0) > 0,
       'barge-in: the playback worklet dropped ' . ($st->{flushed} // 0)
       . ' queued samples at once');
    my $id = $st->{callId} // '-';
    like(error_log($n), qr/barge-in, stopping playback, call:\Q$id\E/,
         'barge-in: the gateway stopped the echo');
}

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg|crit)\]/, 'no alerts') or diag $log;
diag $log unless Test::More->builder->is_passing;

stop_nginx($n);
done_testing();
