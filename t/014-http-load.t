# 1,000 concurrent HTTP client jobs in one worker: they all complete, they
# really run at the same time, and the worker keeps serving meanwhile.  The
# mock's barrier answers none of the 1,000 until all of them are in flight
# together and a release request came; the driver sends that release only
# once a plain location of the same nginx has answered a ping (fetched by
# one more job).  So if the worker could not serve during the load, nothing
# would complete.  Nothing is left behind afterwards.  Figures are for
# bench/http-jobs; nothing here is judged by time.

use FindBin;
use lib "$FindBin::Bin/mock";
use HttpMock;
use Test::Nginx::Socket;

my $skip = http_test_skip();
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

repeat_each(2);
no_shuffle();
http_block_checks();
worker_connections(4096);

# debug lines of 2,000 jobs only slow the worker down
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value(main_config => <<'CONF') unless defined $block->main_config;
    worker_rlimit_nofile 8192;
CONF

    # 1,000 TLS handshakes at once on one core (under ASan, too) may take
    # longer than the default 5 s; this test is not about timeouts
    $block->set_value(http_config => <<'CONF') unless defined $block->http_config;
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
    rtagent_upstream_connect_timeout 60s;
CONF

    $block->set_value(config => <<'CONF') unless defined $block->config;
    location /fanout {
        rtagent_test_fanout https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location = /ping {
        return 200 "pong\n";
    }
    location = /stats {
        rtagent_test_stats;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: 1,000 jobs all in flight at once complete; the worker answers a plain location during the load
--- request eval
"GET /fanout?n=1000&ping=http://127.0.0.1:" . Test::Nginx::Util::server_port()
. "/ping&release=/release?key=b1&url=/barrier?n=1000&hold=1&key=b1"
--- response_body_like
^jobs=1000 ok=1000 failed=0 elapsed_ms=\S+ jobs_per_s=\d+ p50_ms=\S+ p99_ms=\S+ max_ms=\S+ ping=during-load
--- stats_like: ^jobs=0 running=0 
--- timeout: 60
--- no_error_log
[error]
[alert]



=== TEST 2: 1,000 quick jobs in a burst, twice over the same nginx (cached connections reused)
--- request
GET /fanout?n=1000&url=/echo
--- response_body_like: ^jobs=1000 ok=1000 failed=0 elapsed_ms=
--- stats_like: ^jobs=0 running=0 
--- timeout: 60
--- no_error_log
[error]
[alert]



=== TEST 3: after a burst of 50, all 50 upstream connections stay cached for reuse (rtagent_upstream_keepalive 1024)
--- request
GET /fanout?n=50&url=/echo
--- response_body_like: ^jobs=50 ok=50 failed=0 
--- stats_like: ^jobs=0 running=0 sockets=50 connections=50 
--- no_error_log
[error]



=== TEST 4: rtagent_upstream_keepalive 10 keeps 10 of them
--- http_config
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
    rtagent_upstream_keepalive 10;
--- request
GET /fanout?n=50&url=/echo
--- response_body_like: ^jobs=50 ok=50 failed=0 
--- stats_like: ^jobs=0 running=0 sockets=10 connections=10 
--- no_error_log
[error]
