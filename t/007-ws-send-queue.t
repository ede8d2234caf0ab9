# rtagent_ws_max_send_queue: what is queued for a peer that does not read
# is capped, and over the cap the peer gets a close with 1008.  The cap
# here holds about 18 audio frames, so a frame never reaches it alone: a
# peer that reads gets the whole answer; one that stops reading (a small
# receive buffer, nginx's sndbuf=4k) is cut once the queue is full, with
# at most the cap queued.  The block format cannot stop reading mid-call,
# so this test runs its own nginx.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;

use IO::Select;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_RCVBUF inet_aton
              pack_sockaddr_in);
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();

my $cap = 16384;

my $n = start_nginx(listen => 'sndbuf=4k', server => <<"SERVER");
location = /ws/acs/media {
    rtagent_acs_media;
    rtagent_engine echo;
    rtagent_ws_max_send_queue $cap;
}
SERVER

# a WebSocket with a small receive buffer; returns it after the 101
sub open_ws {
    my ($id) = @_;
    socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096) or die "SO_RCVBUF: $!";
    connect($s, pack_sockaddr_in($n->{port}, inet_aton('127.0.0.1')))
        or die "connect: $!";
    binmode $s;
    syswrite $s, ws_handshake(undef, 'x-ms-call-connection-id' => $id);
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        sysread($s, $head, 1, length $head) or die 'no handshake reply';
    }
    like($head, qr{^HTTP/1.1 101 }, "$id: upgraded");
    return $s;
}

# every byte until the server closes (or $timeout seconds)
sub read_all {
    my ($s, $timeout) = @_;
    my ($buf, $sel, $end) = ('', IO::Select->new($s), time + $timeout);
    while (time < $end) {
        last unless $sel->can_read($end - time);
        my $got = sysread($s, $buf, 65536, length $buf);
        last unless $got;
    }
    return $buf;
}

sub wait_log {
    my ($re, $timeout) = @_;
    my $end = time + $timeout;
    while (time < $end) {
        my @m = error_log($n) =~ $re;
        return @m if @m;
        sleep 0.05;
    }
    return;
}

# 3 s of speech: its echo (about 140 KB of frames) is far more than the
# cap and the socket buffers hold
my $speech = tone(3000) . silence(700);

{
    my $s = open_ws('reader');
    syswrite $s, cframe('text', acs_metadata(16000)) . acs_audio($speech);
    my $want = acs_echo(tone(3000) . silence(40));
    my $got = '';
    my $sel = IO::Select->new($s);
    my $end = time + 10;
    while (length $got < length $want && time < $end) {
        last unless $sel->can_read($end - time);
        sysread($s, $got, 65536, length $got) or last;
    }
    syswrite $s, cclose(1000);
    $got .= read_all($s, 3);
    is($got, $want . sclose(1000),
       'a peer that reads gets the whole answer under the cap');
    unlike(error_log($n), qr/call:reader.*not reading|not reading.*call:reader/,
           'and is never cut');
}

{
    my $s = open_ws('sleeper');
    syswrite $s, cframe('text', acs_metadata(16000)) . acs_audio($speech);

    # not reading: the answer piles up in nginx
    my ($queued) = wait_log(qr/rtagent ws: peer is not reading, (\d+) bytes queued, closing, call:sleeper/, 10);
    ok(defined $queued, 'a peer that does not read is found out')
        or diag error_log($n);
    cmp_ok($queued // 0, '>', 0, "with a backlog ($queued bytes)");
    cmp_ok($queued // 0, '<=', $cap, 'never more than the cap');

    my $got = read_all($s, 5);
    my $close = sclose(1008, 'send queue full');
    is(substr($got, -length $close), $close,
       'what was queued, then a close with 1008');
    cmp_ok(length($got), '<', length(acs_echo(tone(3000) . silence(40))),
           'not the whole answer');
    like(error_log($n), qr/rtagent ws: closing with 1008 "send queue full", call:sleeper/,
         'logged with the call id');
}

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|signal \d+/, 'no crash');
stop_nginx($n);
done_testing();
