# Worker exit tears down top first (ws, ACS, HTTP, then Redis) and ACS takes
# no new work once it has stopped: an IncomingCall whose dedupe write is
# still queued when the worker is told to terminate is answered by Redis's
# exit with a failure, and that must start no Call Automation request (no
# curl job, no request finalized) from inside exit_process, nor crash.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers", "$FindBin::Bin/mock";
use RtagentNginx;
use RtagentRedis;
use AcsMock;

use Time::HiRes qw(sleep);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();

acs_start_or_skip(have_redis());

my $r = start_redis();
my $port = free_port();
my $base = "http://127.0.0.1:$port";

my $n = start_nginx(port => $port, http => <<"HTTP",
rtagent_redis 127.0.0.1:$r->{port};
rtagent_upstream_ssl_trusted_certificate $ENV{TEST_NGINX_ACS_CA};
rtagent_acs_connection_string "$ENV{TEST_NGINX_ACS_CONNECTION_STRING}";
rtagent_acs_callback_url $base/api/acs/events;
rtagent_acs_media_url ws://127.0.0.1:$port/ws/acs/media;
rtagent_acs_eventgrid_key eg-key-0123456789abcdef;
HTTP
                    server => <<'SERVER');
location = /api/acs/events { rtagent_acs_events; }
location = /ws/acs/media { rtagent_acs_media; }
SERVER

ok(redis_up($n, 1), 'the worker connected to Redis');

# Redis holds every command from now on: the event's dedupe stays queued
redis($r, 'CLIENT', 'PAUSE', 3000, 'ALL');

my $in = acs_incoming(url => "$base/api/acs/events?key=eg-key-0123456789abcdef",
                      to => '+18005550100', from => '+14255550123',
                      id => 'evt-exit-1');
is($in->{status}, 200, 'Event Grid gets 200 at once');

# before the dedupe's 500 ms wait runs out
kill 'TERM', $n->{pid};
ok(wait_gone($n->{pid}), 'nginx is gone');

my $log = error_log($n);

like($log, qr/event not handled: the worker is exiting/,
     'the failed dedupe starts nothing at exit');
unlike($log, qr/callConnections:answer.*not sent|no client in this process/,
       'no REST request was attempted');
unlike($log, qr/\[alert\]|exited on signal/, 'no alert, no crash');
is(scalar @{ acs_requests('POST /calling/callConnections:answer') }, 0,
   'ACS got no answer');

redis($r, 'CLIENT', 'UNPAUSE');

done_testing();
