# The HTTP client's bounds per worker: rtagent_upstream_max_jobs refuses
# the jobs over it with a clear error (and takes new ones once jobs end),
# rtagent_upstream_max_connections holds requests back instead of opening
# more connections, and a streamed upload's queue refuses a piece that
# would make it longer than the job's max_queued (backpressure: the
# producer writes it again later, nothing is lost).

use FindBin;
use lib "$FindBin::Bin/mock";
use HttpMock;
use Test::Nginx::Socket;

my $skip = http_test_skip();
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

repeat_each(2);
no_shuffle();
http_block_checks();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value(config => <<'CONF') unless defined $block->config;
    location /t {
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location /fanout {
        rtagent_test_fanout https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location = /stats {
        rtagent_test_stats;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: rtagent_upstream_max_jobs 5: of 8 jobs started at once, 5 run and 3 are refused (NGX_BUSY), each with a log line
--- http_config
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
    rtagent_upstream_max_jobs 5;
--- request
GET /fanout?n=8&url=/slow?delay=100
--- response_body_like: ^jobs=8 ok=5 failed=3 .* first_error=busy refused=3$
--- stats_like: ^jobs=0 running=0 .* active=0 refused=\d+
--- error_log eval
qr/\[error\] .*rtagent http: GET 127\.0\.0\.1:\d+ refused: 5 upstream jobs are under way in this worker \(rtagent_upstream_max_jobs\), call: -, upstream: "127\.0\.0\.1:\d+"/
--- no_error_log
[alert]



=== TEST 2: the cap counts jobs under way, not jobs ever started: sequential requests all run
--- http_config
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
    rtagent_upstream_max_jobs 1;
--- request eval
["GET /t?url=/echo", "GET /t?url=/echo", "GET /t?url=/echo"]
--- error_code eval
[200, 200, 200]
--- no_error_log
[error]



=== TEST 3: rtagent_upstream_max_connections 2: 6 concurrent jobs all complete over at most 2 connections at a time
--- http_config
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
    rtagent_upstream_max_connections 2;
--- init
HttpMock::mock_get('/__stats?reset=1');
--- request
GET /fanout?n=6&url=/slow?delay=200
--- response_body_like: ^jobs=6 ok=6 failed=0 elapsed_ms=\S+ [^\n]*\d\n\z
--- mock_stats_like: connections=2$
--- stats_like: ^jobs=0 running=0 sockets=[12] connections=[12] 
--- no_error_log
[error]
[alert]



=== TEST 4: without it, the same 6 jobs run over 6 connections (what TEST 3 bounds)
--- http_config
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
--- init
HttpMock::mock_get('/__stats?reset=1');
--- request
GET /fanout?n=6&url=/slow?delay=200
--- response_body_like: ^jobs=6 ok=6 failed=0 
--- mock_stats_like: connections=6$
--- no_error_log
[error]



=== TEST 5: a streamed upload whose queue is full refuses the piece (NGX_AGAIN, logged once); written again later, the whole body arrives in order
--- http_config
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
--- request
GET /t?pieces=6&burst=6&queue=9&interval=50&length=known&url=/echo
--- response_body_like
^method=POST
te=-
cl=18
body=p1;p2;p3;p4;p5;p6;
--- error_log eval
[qr/rtagent http: POST 127\.0\.0\.1:\d+ upload queue full: 9 bytes not sent yet, 3 more refused, call: -/,
 qr/rtagent test: piece 4: upload queue full, 9 bytes queued/]
--- no_error_log
[error]



=== TEST 6: the default queue (256k) takes the same burst whole
--- http_config
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
--- request
GET /t?pieces=6&burst=6&interval=50&length=known&url=/echo
--- response_body_like
^method=POST
te=-
cl=18
body=p1;p2;p3;p4;p5;p6;
--- no_error_log
upload queue full
[error]
