# Cancelling HTTP client jobs at any moment (barge-in): before the
# connection, during the TLS handshake, in on_header, in on_data (inside a
# libcurl callback) mid-response, while waiting to retry, and during a
# streamed upload.  Each time the upstream connection is dropped (the mock
# sees its client go away), no job, socket or nginx connection is left
# behind, and no callback runs after the cancel.

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

    $block->set_value(http_config => <<'CONF') unless defined $block->http_config;
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
CONF

    $block->set_value(config => <<'CONF') unless defined $block->config;
    location /t {
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location = /stats {
        rtagent_test_stats;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: cancelled in on_data after 20 bytes of a long stream: the response so far, then nothing
--- request
GET /t?cancel=20&url=/stream?pieces=50&delay=20&key=c1
--- response_body_like
^(?:piece \d+\n)+\n\[cancelled after \d+ bytes\]
--- mock_hits: c1 0 aborted
--- stats_like: ^jobs=0 running=0 sockets=0 connections=0 
--- error_log eval
qr/rtagent http: GET 127\.0\.0\.1:\d+ cancelled, call: -/
--- no_error_log
[error]
[alert]



=== TEST 2: cancelled in on_header
--- request
GET /t?cancel=header&url=/stream?pieces=50&delay=20&key=c2
--- response_body eval
"\n[cancelled in on_header]\n"
--- mock_hits: c2 0 aborted
--- stats_like: ^jobs=0 running=0 sockets=0 connections=0 
--- no_error_log
[error]
[alert]



=== TEST 3: cancelled right after start, before any connection
--- request
GET /t?cancel=start&url=/stream?pieces=50&delay=20&key=c3
--- response_body
[cancelled at start]
--- mock_hits: c3 0
--- stats_like: ^jobs=0 running=0 sockets=0 connections=0 
--- no_error_log
[error]
[alert]



=== TEST 4: cancelled while waiting to retry: no further attempt
--- request
GET /t?cancel=200ms&url=/status?key=c4&code=503&retry_after=1
--- response_body
[cancelled after 200ms]
--- mock_hits: c4 1 after=1200
--- stats_like: ^jobs=0 running=0 
--- error_log
status 503, retrying in 1000ms
--- no_error_log
[error]
[alert]



=== TEST 5: cancelled during a streamed upload
--- request
GET /t?cancel=250ms&pieces=20&interval=100&url=/echo?key=c5
--- response_body
[cancelled after 250ms]
--- stats_like: ^jobs=0 running=0 sockets=0 connections=0 
--- no_error_log
[error]
[alert]



=== TEST 6: cancelled during a TLS handshake that never completes
--- request eval
"GET /t?cancel=100ms&url=https://127.0.0.1:$ENV{TEST_NGINX_SILENT_PORT}/"
--- response_body
[cancelled after 100ms]
--- stats_like: ^jobs=0 running=0 sockets=0 connections=0 
--- no_error_log
[error]
[alert]



=== TEST 7: cancelled while a response is slow to come
--- request
GET /t?cancel=200ms&url=/slow?delay=2000
--- response_body
[cancelled after 200ms]
--- stats_like: ^jobs=0 running=0 sockets=0 connections=0 
--- no_error_log
[error]
[alert]



=== TEST 8: a client that goes away mid-stream cancels the job through the request cleanup
--- config
    location /t {
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location = /stats {
        rtagent_test_stats;
    }
--- request
GET /t?url=/stream?pieces=100&delay=20&key=c8
--- timeout: 0.3
--- abort
--- ignore_response
--- wait: 0.5
--- mock_hits: c8 0 aborted
--- stats_like: ^jobs=0 running=0 sockets=0 connections=0 
--- no_error_log
[alert]
