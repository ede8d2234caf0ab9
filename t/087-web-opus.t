# Opus on the browser channel: a page that sends 20 ms Opus packets at
# 48 kHz (one per binary frame, as WebCodecs' AudioEncoder makes them) gets
# its utterance back from the echo engine as Opus packets that decode to
# the same tone; a packet that does not decode closes with 1007.  The
# packets are made and read with libopus by t/helpers/opus-packets.c, built
# here.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentWeb;

use File::Temp qw(tempdir);
use IPC::Open2;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();

my $tmp = tempdir(CLEANUP => 1);
my $tool = "$tmp/opus-packets";
system('cc', '-o', $tool, "$FindBin::Bin/helpers/opus-packets.c", '-lopus')
    == 0 or BAIL_OUT('cannot build t/helpers/opus-packets.c (libopus-dev)');

sub opus {
    my ($mode, $rate, $in) = @_;
    my $pid = open2(my $out, my $to, $tool, $mode, $rate);
    binmode $out;
    binmode $to;
    print $to $in;
    close $to;
    local $/;
    my $res = <$out>;
    waitpid $pid, 0;
    die "opus-packets $mode failed" if $?;
    return $res // '';
}

# the tone's frequency from its zero crossings, between its first and
# last loud sample
sub pitch {
    my ($pcm, $rate) = @_;
    my @s = unpack 's<*', $pcm;
    my @loud = grep { abs($s[$_]) > 2000 } 0 .. $#s;
    return 0 unless @loud > 1;
    my $z = 0;
    for my $i ($loud[0] + 1 .. $loud[-1]) {
        $z++ if ($s[$i - 1] < 0) != ($s[$i] < 0);
    }
    return $z / 2 / (($loud[-1] - $loud[0]) / $rate);
}

my $n = start_nginx(server => 'location = /ws/web {
                                   rtagent_web_media;
                                   rtagent_engine echo;
                               }');

{
    my $rate = 48000;
    my $pkts = opus('encode', $rate, silence(300, $rate)
                                     . tone(700, $rate, 8000, 440)
                                     . silence(1200, $rate));
    my @frames;
    while (length $pkts) {
        my $len = unpack 'n', $pkts;
        push @frames, cframe('binary', substr($pkts, 2, $len));
        substr($pkts, 0, 2 + $len) = '';
    }
    is(scalar @frames, 110, '110 packets of 20 ms');

    my $s = open_web($n->{port}, web_start(rate => $rate, codec => 'opus'));
    my $w = web_read($s, 5, sub { web_until($_[0], 'ready') });
    my ($ready) = web_until($w, 'ready');
    is($ready->{codec}, 'opus', 'ready: codec opus');
    is($ready->{sampleRate}, $rate, 'ready: 48000');

    web_send($s, @frames);
    $w = web_read($s, 8, sub { $_[0]{last_audio}
                               && time - $_[0]{last_audio} > 0.6 }, $w);

    my @back = @{ $w->{packets} };
    ok(@back > 30, scalar(@back) . ' Opus packets came back');
    ok(!(grep { length $_ > 1275 } @back), 'each is one Opus packet');

    my $pcm = opus('decode', $rate,
                   join '', map { pack('n', length $_) . $_ } @back);
    my $secs = length($pcm) / 2 / $rate;
    ok($secs > 0.65 && $secs < 1.3, "they decode to $secs s at $rate Hz");
    my $level = pcm_rms($pcm);
    ok($level > 2500 && $level < 8000, "the echo is loud (RMS $level)");
    my $hz = pitch($pcm, $rate);
    ok($hz > 400 && $hz < 480, "the echo is the 440 Hz tone ($hz Hz)");

    web_send($s, '{"type":"stop"}');
    $w = web_read($s, 5, undef, $w);
    is($w->{close}, 1000, 'stop: 1000');
    close $s;
}

# a packet that does not decode
{
    my $s = open_web($n->{port}, web_start(rate => 48000, codec => 'opus'),
                     cframe('binary', "\xff\xff\xff"));
    my $w = web_read($s, 5);
    is($w->{close}, 1007, 'a bad Opus packet: 1007');
    like($w->{reason}, qr/bad Opus packet of 3 bytes/, 'the reason says so');
    like(error_log($n), qr/bad message: bad Opus packet of 3 bytes: .* \(close 1007\), call:web-[0-9a-f]{32}/,
         'logged with the call id');
    close $s;
}

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg|crit|error)\]/, 'no errors') or diag $log;

stop_nginx($n);
done_testing();
