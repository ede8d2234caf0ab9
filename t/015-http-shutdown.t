# The HTTP client over a worker's life (master + 1 worker, which the block
# format cannot signal): many cancellations and client aborts leave no job,
# socket, nginx connection or fd behind; a graceful shutdown lets a job
# under way finish; idle cached upstream connections do not hold a worker
# that shuts down, and none is reported as an "open socket left"; a job
# that another module's exit handler asks for is refused.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";
use RtagentNginx;
use HttpMock;

use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(sleep time);
use Test::More;

my $skip = http_test_skip();
plan skip_all => $skip if $skip;

my ($test_module) = grep { /ngx_http_rtagent_test_module\.so$/ }
                    split ' ', $ENV{TEST_NGINX_LOAD_MODULES};
my $mock = "https://127.0.0.1:$ENV{TEST_NGINX_MOCK_PORT}";

my %conf = (
    main => "load_module $test_module;",
    server => <<"CONF",
        rtagent_upstream_ssl_trusted_certificate $ENV{TEST_NGINX_MOCK_CA};
        location /t { rtagent_test_fetch $mock; }
        location = /stats { rtagent_test_stats; }
CONF
);

# a whole response over HTTP/1.0: (status, body)
sub get {
    my ($n, $path, $timeout) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}")
        or die "connect: $!";
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    my ($buf, $sel, $end) = ('', IO::Select->new($s), time + ($timeout // 10));
    while (time < $end && $sel->can_read($end - time)) {
        last unless sysread($s, $buf, 65536, length $buf);
    }
    close $s;
    my ($status) = $buf =~ m{^HTTP/1\.\d (\d+)};
    $buf =~ s/^.*?\r\n\r\n//s;
    return ($status // 0, $buf);
}

sub stats {
    my ($n) = @_;
    my (undef, $body) = get($n, '/stats');
    return { $body =~ /(\w+)=(\d+)/g };
}

subtest 'cancellations and client aborts leave nothing behind' => sub {
    my $n = start_nginx(%conf);

    my ($status, $body) = get($n, '/t?url=/echo');
    is($status, 200, 'warm-up fetch');
    my $before = stats($n);

    for my $i (1 .. 20) {
        ($status, $body) = get($n, "/t?cancel=20&url=/stream?pieces=50&delay=10");
        like($body, qr/\[cancelled after \d+ bytes\]/, "cancel in on_data $i")
            or last;
    }
    for my $i (1 .. 10) {
        ($status, $body) = get($n, "/t?cancel=header&url=/stream?pieces=50&delay=10");
        like($body, qr/\[cancelled in on_header\]/, "cancel in on_header $i")
            or last;
    }
    for my $i (1 .. 10) {
        ($status, $body) = get($n, "/t?cancel=50ms&url=/slow?delay=1000");
        like($body, qr/\[cancelled after 50ms\]/, "cancel while waiting $i")
            or last;
    }

    # clients that go away mid-stream: the request cleanup cancels the job
    for my $i (1 .. 10) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}")
            or die "connect: $!";
        print $s "GET /t?url=/stream?pieces=100&delay=10 HTTP/1.0\r\n\r\n";
        my $got = '';
        sysread($s, $got, 4096) while $got !~ /piece 1\n/;
        close $s;
    }

    # the aborted streams notice their client at their next write
    my $after;
    for (1 .. 50) {
        $after = stats($n);
        last if $after->{jobs} == 0;
        sleep 0.1;
    }

    is($after->{jobs}, 0, 'no job left');
    is($after->{running}, 0, 'no transfer left');
    cmp_ok($after->{sockets}, '<=', $before->{sockets}, 'no curl socket left')
        or diag explain [$before, $after];
    cmp_ok($after->{connections}, '<=', $before->{connections},
           'no nginx connection left');
    cmp_ok($after->{fds}, '<=', $before->{fds}, 'no fd left');
    is($after->{started} - $before->{started}, 50, 'every job was started');

    ok(stop_nginx($n), 'nginx stopped');
    my $log = error_log($n);
    unlike($log, qr/open socket/, 'no open socket left at exit');
    unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert');
};

subtest 'a graceful shutdown lets a job under way finish' => sub {
    my $n = start_nginx(%conf);

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}")
        or die "connect: $!";
    print $s "GET /t?url=/stream?pieces=8&delay=100 HTTP/1.0\r\n\r\n";

    my $got = '';
    sysread($s, $got, 4096, length $got) while $got !~ /piece 1\n/;

    kill 'QUIT', $n->{pid};

    my ($sel, $end) = (IO::Select->new($s), time + 10);
    while (time < $end && $sel->can_read($end - time)) {
        last unless sysread($s, $got, 4096, length $got);
    }
    close $s;

    like($got, qr/piece 8\n\z/, 'the whole response came');
    ok(wait_gone($n->{pid}), 'nginx exited');

    my $log = error_log($n);
    unlike($log, qr/open socket/, 'no open socket left');
    unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert');
};

subtest 'idle cached upstream connections do not hold a worker' => sub {
    my $n = start_nginx(%conf);

    for (1 .. 3) {
        my ($status) = get($n, '/t?url=/echo');
        is($status, 200, 'fetch');
    }
    cmp_ok(stats($n)->{sockets}, '>=', 1, 'an upstream connection is cached');

    kill 'QUIT', $n->{pid};
    ok(wait_gone($n->{pid}), 'nginx exited, not waiting for the cached one');

    my $log = error_log($n);
    unlike($log, qr/open socket/, 'no open socket left');
    unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert');
};

subtest 'a job asked for from an exit handler is refused with a clear line' => sub {
    for my $sig (qw(QUIT TERM)) {
        my $n = start_nginx(%conf,
                            http => "rtagent_test_exit_fetch $mock/echo;");

        my ($status) = get($n, '/t?url=/echo');
        is($status, 200, "fetch ($sig)");

        kill $sig, $n->{pid};
        ok(wait_gone($n->{pid}), "nginx exited ($sig)");

        # the driver's exit handler runs after the client's (loaded later)
        my $log = error_log($n);
        like($log, qr{\[warn\] .*rtagent http: GET "\Q$mock\E/echo" refused: the worker is exiting, call: exit-test},
             "the job is refused ($sig)");
        like($log, qr/rtagent test: exit job: create refused/,
             "create() returned NULL ($sig)");
        like($log, qr{\[warn\] .*rtagent http: GET 127\.0\.0\.1:\d+ refused: the worker is exiting, call: exit-test},
             "a job made earlier is not started ($sig)");
        like($log, qr/rtagent test: exit job: start returned NGX_DECLINED/,
             "start() returned NGX_DECLINED ($sig)");
        unlike($log, qr/\[(?:alert|crit|emerg)\]/, "no alert ($sig)");
    }
};

done_testing();
