package RtagentStt;

# For the tests of the local STT's searches: an espeak-ng caller on a
# media location of its own (each location can expect another search),
# and what the transcript in Redis says it said.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use JSON::PP;

use RtagentTest qw(ws_handshake cframe acs_metadata acs_audio silence);
use RtagentRedis qw(redis wait_for send_msgs);
use RtagentSpeech qw(espeak_pcm);

our @EXPORT = qw(heard);

# the caller's words heard in a call to $uri of nginx $n, with Redis $r
sub heard {
    my ($n, $r, $uri, $id, $text) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}")
        or die "connect: $!";
    binmode $s;
    print $s ws_handshake($uri, 'x-ms-call-connection-id' => $id)
             . cframe('text', acs_metadata(16000));
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        sysread($s, $head, 1, length $head) or die "no handshake reply";
    }
    die "not upgraded: $head" unless $head =~ m{^HTTP/1.1 101 };

    send_msgs($s, acs_audio(silence(200) . espeak_pcm($text, 16000)
                            . silence(1000)));
    my $said;
    wait_for(sub {
        ($said) = map { $_->{text} }
                  grep { $_->{role} eq 'caller' }
                  map { decode_json($_) }
                  @{ redis($r, 'LRANGE', "rtagent:call:{$id}:transcript",
                           0, -1) };
        defined $said;
    }, 30);
    close $s;
    return $said // '';
}

1;
