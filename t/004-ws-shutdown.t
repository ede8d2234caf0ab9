# Worker shutdown with live media streams.  A graceful shutdown (reload,
# SIGQUIT) lets live calls go on until worker_shutdown_timeout, then each
# peer gets a close frame with 1001; a fast shutdown (SIGTERM) sends 1001 at
# once.  Signals must arrive mid-connection, which the block format cannot
# express, so this test runs its own nginx (master + 1 worker).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;

use RtagentNginx;

use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();

my %conf = (main => 'worker_shutdown_timeout 500ms;',
            server => 'location = /ws/acs/media { rtagent_acs_media; }');

# a WebSocket with a started call; returns the socket after the 101
sub open_call {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die $!;
    binmode $s;
    print $s ws_handshake() . cframe('text', acs_metadata(16000));
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        sysread($s, $head, 1, length $head) or die 'no handshake reply';
    }
    like($head, qr{^HTTP/1.1 101 }, 'upgraded');
    return $s;
}

# every byte until the server closes (or $timeout seconds)
sub read_all {
    my ($s, $timeout) = @_;
    my ($buf, $sel, $end) = ('', IO::Select->new($s), time + $timeout);
    while (time < $end) {
        last unless $sel->can_read($end - time);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    return $buf;
}

my $going_away = sclose(1001, 'server shutting down');

subtest 'graceful shutdown: the call goes on, then 1001 at worker_shutdown_timeout' => sub {
    my $n = start_nginx(%conf);
    my $master = $n->{pid};
    my $s = open_call($n->{port});

    my $t0 = time;
    kill 'QUIT', $master;
    sleep 0.15;

    # still served after the shutdown began: a ping gets its pong
    print $s cframe('ping', 'still-there');
    my $got = read_all($s, 3);
    my $elapsed = time - $t0;

    is($got, sframe('pong', 'still-there') . $going_away,
       'pong while draining, then close 1001');
    cmp_ok($elapsed, '>=', 0.4, 'the close waited for worker_shutdown_timeout');
    ok(wait_gone($master), 'nginx exited');

    my $text = error_log($n);
    like($text, qr/rtagent ws: closing with 1001 "server shutting down"/,
         'logged');
    unlike($text, qr/\[(?:alert|crit|emerg)\]/, 'no alerts');
};

subtest 'fast shutdown: 1001 at once' => sub {
    my $n = start_nginx(%conf);
    my $master = $n->{pid};
    my $s = open_call($n->{port});

    my $t0 = time;
    kill 'TERM', $master;
    my $got = read_all($s, 3);

    is($got, $going_away, 'close 1001');
    cmp_ok(time - $t0, '<', 0.4, 'without waiting');
    ok(wait_gone($master), 'nginx exited');
};

done_testing();
