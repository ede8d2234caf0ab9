# The events held behind the Redis dedupe check are bounded.
#
# An IncomingCall waits up to 500 ms for Redis to say whether it is a
# repeat (rtagent:event:{id}).  With Redis hung (SIGSTOP), a delivery of
# more events than a worker holds at a time (64): the first 64 wait for
# the check, the others are handled at once without it, each logged, and
# the held ones are handled when the 500 ms run out.
#
# A worker that exits (a fast stop) with Redis replies due starts nothing
# for them: the store tells its callers that it shuts down, and neither the
# events endpoint nor the operators' API answers or sends anything from
# inside the exit.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentNginx;
use RtagentRedis;

use JSON::PP;
use IO::Socket::INET;
use LWP::UserAgent;
use HTTP::Request;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $held = 64;
my $over = 6;

my $r = start_redis();
my $port = free_port();
my $n = start_nginx(port => $port, workers => 1,
                    http => "rtagent_redis 127.0.0.1:$r->{port} "
                            . 'command_timeout=10s keepalive=0;',
                    server => <<'SERVER');
location = /api/acs/events {
    client_max_body_size 1m;
    rtagent_acs_events;
}
SERVER

ok(redis_up($n, 1), 'connected to Redis');

open my $fh, '<', "$ENV{RTAGENT_FIXTURES}/eventgrid_IncomingCall.json"
    or die "fixture: $!";
my $one = decode_json(do { local $/; <$fh> })->[0];

my @events = map { my %e = %$one; $e{id} = "held-$_"; \%e }
             1 .. $held + $over;

my $ua = LWP::UserAgent->new(timeout => 10);

sub count_in_log {
    my ($re) = @_;
    my $c = () = error_log($n) =~ /$re/g;
    return $c;
}

kill 'STOP', $r->{pid};

my $res = $ua->request(HTTP::Request->new(
    'POST', "http://127.0.0.1:$port/api/acs/events",
    ['Content-Type' => 'application/json',
     'aeg-event-type' => 'Notification'],
    encode_json(\@events)));
is($res->code, 200, 'the delivery is taken');

is(count_in_log(qr/rtagent acs: $held events wait for Redis's dedupe check already, event held-\d+ \(Microsoft\.Communication\.IncomingCall\) handled without it/),
   $over, "over $held held, an event is handled without the check");
like(error_log($n), qr/already, event held-@{[ $held + 1 ]} /,
     'from the first one over the cap');

ok(wait_for(sub { count_in_log(qr/Redis did not check event held-\d+ .* within 500 ms, handled without the check/)
                  == $held }, 5),
   'the held ones are handled when the wait runs out');

kill 'CONT', $r->{pid};

ok(wait_for(sub { @{ redis($r, 'KEYS', 'rtagent:event:{held-*}') }
                  == $held }, 5),
   'their checks are written once Redis answers');

ok(stop_nginx($n), 'nginx stopped');
unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]/, 'no alerts');

subtest 'replies due at a fast stop start nothing' => sub {
    my $key = 'test-api-key-0123456789abcdefghi';
    my $port = free_port();
    my $n = start_nginx(port => $port, workers => 1,
                        http => "rtagent_redis 127.0.0.1:$r->{port} "
                                . 'command_timeout=10s keepalive=0;'
                                . "\nrtagent_acs_api_key $key;",
                        server => <<'SERVER');
location = /api/acs/events {
    client_max_body_size 1m;
    rtagent_acs_events;
}
location /api/calls {
    rtagent_acs_calls;
}
SERVER
    ok(redis_up($n, 1), 'connected to Redis');

    kill 'STOP', $r->{pid};

    # an operator asks for a call's state: Redis's answer is due
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect: $!";
    print $c "GET /api/calls/exit-call HTTP/1.1\r\nHost: localhost\r\n"
           . "Authorization: Bearer $key\r\n\r\n";
    # (read by the one worker before the delivery below connects)

    my %e = %$one;
    $e{id} = 'at-exit';
    my $res = $ua->request(HTTP::Request->new(
        'POST', "http://127.0.0.1:$port/api/acs/events",
        ['Content-Type' => 'application/json',
         'aeg-event-type' => 'Notification'],
        encode_json([\%e])));
    is($res->code, 200, 'the delivery is taken');

    # within the 500 ms: the check is still due
    kill 'TERM', $n->{pid};
    ok(RtagentNginx::wait_gone($n->{pid}), 'nginx stopped');
    kill 'CONT', $r->{pid};

    my $log = error_log($n);
    unlike($log, qr/incoming call from .*call:/,
           'the event is not handled from inside the exit');
    unlike($log, qr/Redis did not check event at-exit/,
           'nor by its timer');
    unlike($log, qr/Redis did not answer a state query/,
           'the state query is not answered from inside the exit');
    my $got = '';
    sysread($c, $got, 4096);
    is($got, '', 'its connection closes without a response');
    close $c;
    unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alerts');
};

stop_redis($r);

done_testing();
