package RtagentWeb;

# A browser-channel client for the t/08x files: the WebSocket to
# rtagent_web_media, its JSON control messages and binary audio frames,
# and what the gateway sends back, split into events, audio and the close.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(time);

use RtagentTest;
use RtagentRedis;

our @EXPORT = qw(open_web web_send web_start web_pcm web_read web_until pcm_rms);

# opens a WebSocket to $uri (default /ws/web) and sends @msgs (JSON text,
# or raw frames); returns the socket after the 101
sub open_web {
    my ($port, @msgs) = @_;
    my $uri = '/ws/web';
    $uri = shift @msgs if @msgs && $msgs[0] =~ m{\A/};
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect: $!";
    binmode $s;
    print $s ws_handshake($uri);

    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        sysread($s, $head, 1, length $head) or die "no handshake reply";
    }
    die "not upgraded: $head" unless $head =~ m{^HTTP/1.1 101 };
    web_send($s, @msgs);
    return $s;
}

sub web_send {
    my ($s, @msgs) = @_;
    print $s join '', map { /\A\{/ ? cframe('text', $_) : $_ } @msgs;
}

sub web_start {
    my (%o) = @_;
    return encode_json({ type => 'start', sampleRate => $o{rate} // 16000,
                         codec => $o{codec} // 'pcm16',
                         $o{agent} ? (agent => $o{agent}) : () });
}

# binary frames of $ms milliseconds each (the page sends what its
# worklet gives it: not the call's frame size)
sub web_pcm {
    my ($pcm, $rate, $ms) = @_;
    my $fb = int($rate * ($ms // 20) / 1000) * 2;
    my $out = '';
    for (my $off = 0; $off < length $pcm; $off += $fb) {
        $out .= cframe('binary', substr($pcm, $off, $fb));
    }
    return $out;
}

# what came within $timeout s (until $until->($r) or a close):
#   { events => [decoded JSON...], audio => 'bytes', packets => [...],
#     close => code, reason => '...' }
sub web_read {
    my ($s, $timeout, $until, $r) = @_;
    $r //= { events => [], audio => '', packets => [] };
    my $end = time + $timeout;
    while (time < $end && !defined $r->{close}) {
        my $frames = read_frames($s, 0.2);
        for my $f (@$frames) {
            if ($f->[0] == 1) {
                # where in the audio it came: _audio_at bytes
                my $ev = decode_json($f->[1]);
                $ev->{_audio_at} = length $r->{audio} if ref $ev eq 'HASH';
                push @{ $r->{events} }, $ev;
            } elsif ($f->[0] == 2) {
                $r->{audio} .= $f->[1];
                push @{ $r->{packets} }, $f->[1];
                $r->{last_audio} = time;
            } elsif ($f->[0] == 8) {
                ($r->{close}, $r->{reason}) = (0, '');
                ($r->{close}, $r->{reason}) = unpack 'na*', $f->[1]
                    if length $f->[1] >= 2;
            }
        }
        last if $until && $until->($r);
    }
    return $r;
}

# the RMS level of PCM16LE samples
sub pcm_rms {
    my @s = unpack 's<*', $_[0];
    return 0 unless @s;
    my $sum = 0;
    $sum += $_ * $_ for @s;
    return sqrt($sum / @s);
}

# the events of type $type so far
sub web_until {
    my ($r, $type) = @_;
    return grep { $_->{type} eq $type } @{ $r->{events} };
}

1;
