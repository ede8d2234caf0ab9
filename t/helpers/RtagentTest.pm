package RtagentTest;

# Builders for the t/*.t files: WebSocket handshakes and frames (including
# deliberately malformed ones), and ACS media messages with real PCM.
# Frames are built here byte by byte so that a test can break any rule.

use strict;
use warnings;

use Exporter 'import';
use FindBin;
use MIME::Base64 qw(encode_base64);

our @EXPORT = qw(
    ws_handshake cframe sframe cclose sclose
    acs_metadata acs_audio acs_echo acs_stop tone silence fixture
);

# RFC 6455 section 1.3 example: its accept value is
# s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
our $KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

my %OPCODE = (cont => 0, text => 1, binary => 2, close => 8, ping => 9,
              pong => 10);

sub ws_handshake {
    my ($uri, @headers) = @_;
    $uri //= '/ws/acs/media';

    my %h = (Host => 'localhost', Upgrade => 'websocket',
             Connection => 'Upgrade', 'Sec-WebSocket-Key' => $KEY,
             'Sec-WebSocket-Version' => '13');
    my @order = qw(Host Upgrade Connection Sec-WebSocket-Key
                   Sec-WebSocket-Version);

    while (my ($k, $v) = splice @headers, 0, 2) {
        push @order, $k unless exists $h{$k};
        $h{$k} = $v;
    }

    my $req = "GET $uri HTTP/1.1\r\n";
    for my $k (@order) {
        next unless defined $h{$k};
        $req .= "$k: $h{$k}\r\n";
    }
    return "$req\r\n";
}

# a client frame: masked unless told otherwise
#   cframe('text', $payload, fin => 0, rsv => 4, masked => 0, len => ...)
sub cframe {
    my ($type, $payload, %o) = @_;
    $payload //= '';

    my $opcode = $OPCODE{$type} // $type;
    my $fin = exists $o{fin} ? $o{fin} : 1;
    my $masked = exists $o{masked} ? $o{masked} : 1;
    my $rsv = $o{rsv} // 0;
    my $len = length $payload;

    my $b = chr(($fin ? 0x80 : 0) | ($rsv << 4) | $opcode);
    my $m = $masked ? 0x80 : 0;

    if ($len < 126) {
        $b .= chr($m | $len);
    } elsif ($len < 65536) {
        $b .= chr($m | 126) . pack('n', $len);
    } else {
        $b .= chr($m | 127) . pack('NN', 0, $len);
    }

    return $b . $payload unless $masked;

    my @key = (0x37, 0xfa, 0x21, 0x3d);
    $b .= pack('C4', @key);
    my $i = 0;
    $b .= join '', map { chr(ord($_) ^ $key[$i++ % 4]) } split //, $payload;
    return $b;
}

# a server frame as the gateway must send it: unmasked, final
sub sframe {
    my ($type, $payload) = @_;
    return cframe($type, $payload, masked => 0);
}

sub cclose {
    my ($code, $reason) = @_;
    return cframe('close', defined $code ? pack('n', $code) . ($reason // '')
                                         : '');
}

sub sclose {
    my ($code, $reason) = @_;
    return sframe('close', pack('n', $code) . ($reason // ''));
}

sub acs_metadata {
    my ($rate, %o) = @_;
    $rate //= 16000;
    my $length = $o{length} // $rate / 50 * 2;
    return qq({"kind":"AudioMetadata","audioMetadata":{"subscriptionId":)
         . qq("4af370df-3868-461f-8242-91f077a6f8a6","encoding":"PCM",)
         . qq("sampleRate":$rate,"channels":1,"length":$length}});
}

# one AudioData message per 20 ms frame of $pcm, as text frames
sub acs_audio {
    my ($pcm, $rate, %o) = @_;
    $rate //= 16000;
    my $fb = $rate / 50 * 2;
    my $out = '';
    for (my $off = 0; $off < length $pcm; $off += $fb) {
        my $frame = substr($pcm, $off, $fb);
        my $silent = ($frame =~ /\A\0*\z/) ? 'true' : 'false';
        my $b64 = encode_base64($frame, '');
        $out .= cframe('text',
            qq({"kind":"AudioData","audioData":{"timestamp":)
            . qq("2024-05-30T06:25:02.948Z","participantRawID":)
            . qq("4:+15550100","data":"$b64","silent":$silent}}));
    }
    return $out;
}

# what the gateway sends for $pcm: one AudioData text frame per frame
sub acs_echo {
    my ($pcm, $rate) = @_;
    $rate //= 16000;
    my $fb = $rate / 50 * 2;
    my $out = '';
    for (my $off = 0; $off < length $pcm; $off += $fb) {
        my $b64 = encode_base64(substr($pcm, $off, $fb), '');
        $out .= sframe('text',
                       qq({"kind":"AudioData","audioData":{"data":"$b64"}}));
    }
    return $out;
}

sub acs_stop {
    return sframe('text', '{"kind":"StopAudio","stopAudio":{}}');
}

# a sample message from t/fixtures (or $RTAGENT_FIXTURES)
sub fixture {
    my ($name) = @_;
    my $dir = $ENV{RTAGENT_FIXTURES} // "$FindBin::Bin/fixtures";
    open my $fh, '<:raw', "$dir/$name" or die "fixture $dir/$name: $!";
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}

# PCM16LE sine of $ms milliseconds
sub tone {
    my ($ms, $rate, $amp, $hz) = @_;
    $rate //= 16000;
    $amp //= 8000;
    $hz //= 440;
    my $n = int($rate * $ms / 1000);
    return pack 's<*', map { int($amp * sin(2 * 3.14159265358979 * $hz * $_
                                             / $rate)) } 0 .. $n - 1;
}

sub silence {
    my ($ms, $rate) = @_;
    $rate //= 16000;
    return "\0" x (int($rate * $ms / 1000) * 2);
}

1;
