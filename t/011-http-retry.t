# Retries of the HTTP client (docs/protocols.md 5.4): 408/409/429/5xx and
# connection errors are retried; Retry-After (seconds or HTTP date) and
# retry-after-ms are honoured when 0 < v <= 120 s, else exponential backoff
# (0.5 s * 2^n, minus up to 25 % jitter); x-should-retry overrides; the
# consumer sees exactly one response.  Delays are asserted from the mock's
# own timestamps of the attempts (--- mock_hits, see t/mock/HttpMock.pm),
# with a tolerance.

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
    location /once {
        rtagent_upstream_retries 0;
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: 429 with Retry-After: 1 is retried one second later; the consumer sees only the second response
--- request
GET /t?call=ra-1&url=/status?key=ra1&code=429&times=1&retry_after=1
--- response_headers
X-Upstream-Attempts: 2
--- response_body
ok after 2
--- mock_hits: ra1 2 950 1600
--- error_log eval
qr/\[info\] .*rtagent http: GET 127\.0\.0\.1:\d+ status 429, retrying in 1000ms \(attempt 2 of 3\), call: ra-1, upstream: "127\.0\.0\.1:\d+"/
--- no_error_log
[error]



=== TEST 2: retry-after-ms wins over Retry-After
--- request
GET /t?url=/status?key=ra2&code=429&times=1&retry_after_ms=300&retry_after=5
--- response_body
ok after 2
--- mock_hits: ra2 2 280 900
--- error_log
status 429, retrying in 300ms (attempt 2 of 3)
--- no_error_log
[error]



=== TEST 3: Retry-After as an HTTP date
--- request
GET /t?url=/status?key=ra3&code=503&times=1&retry_after_date=2
--- response_body
ok after 2
--- mock_hits: ra3 2 900 2700
--- error_log eval
qr/status 503, retrying in [12]000ms \(attempt 2 of 3\)/
--- no_error_log
[error]



=== TEST 4: a Retry-After above 120 s is ignored: backoff 0.5 s minus up to 25 %
--- request
GET /t?url=/status?key=ra4&code=429&times=1&retry_after=500
--- response_body
ok after 2
--- mock_hits: ra4 2 350 1000
--- error_log eval
qr/status 429, retrying in (?:3[7-9]\d|4\d\d|500)ms \(attempt 2 of 3\)/
--- no_error_log
[error]



=== TEST 5: a Retry-After of 0 is ignored too
--- request
GET /t?url=/status?key=ra5&code=429&times=1&retry_after=0
--- response_body
ok after 2
--- mock_hits: ra5 2 350 1000
--- error_log eval
qr/status 429, retrying in (?:3[7-9]\d|4\d\d|500)ms/
--- no_error_log
[error]



=== TEST 6: 500 every time: three attempts with growing backoff, then the last 500 is the response, logged once at error level with the attempts
--- request
GET /t?call=five-hundred&url=/status?key=s500&code=500
--- error_code: 500
--- response_headers
X-Upstream-Attempts: 3
--- response_body
status 500 hit 3
--- mock_hits: s500 3 350 1300
--- error_log eval
[qr/status 500, retrying in (?:3[7-9]\d|4\d\d|500)ms \(attempt 2 of 3\)/,
 qr/status 500, retrying in (?:7[5-9]\d|[89]\d\d|1000)ms \(attempt 3 of 3\)/,
 qr/\[error\] .*rtagent http: GET 127\.0\.0\.1:\d+ status 500 after 3 attempts, call: five-hundred/]



=== TEST 7: 400 is not retried
--- request
GET /t?url=/status?key=s400&code=400
--- error_code: 400
--- response_body
status 400 hit 1
--- mock_hits: s400 1
--- error_log
status 400 after 1 attempt
--- no_error_log
retrying



=== TEST 8: 408 is retried
--- request
GET /t?url=/status?key=s408&code=408&times=1
--- response_body
ok after 2
--- mock_hits: s408 2
--- no_error_log
[error]



=== TEST 9: 409 is retried
--- request
GET /t?url=/status?key=s409&code=409&times=1
--- response_body
ok after 2
--- mock_hits: s409 2
--- no_error_log
[error]



=== TEST 10: x-should-retry: false stops a retry of a 503
--- request
GET /t?url=/status?key=sr1&code=503&times=1&should_retry=false
--- error_code: 503
--- response_body
status 503 hit 1
--- mock_hits: sr1 1
--- no_error_log
retrying



=== TEST 11: x-should-retry: true retries a 400
--- request
GET /t?url=/status?key=sr2&code=400&times=1&should_retry=true
--- response_body
ok after 2
--- mock_hits: sr2 2
--- no_error_log
[error]



=== TEST 12: a connection closed without a response is retried with backoff
--- request
GET /t?url=/close?key=cl1&times=1
--- response_body
ok after 2
--- mock_hits: cl1 2 350 1000
--- error_log eval
qr/Empty reply from server, retrying in \d+ms \(attempt 2 of 3\)/
--- no_error_log
[error]



=== TEST 13: a refused connection is retried, then fails once at error level
--- request
GET /t?call=refused&url=http://127.0.0.1:1/
--- error_code: 502
--- response_body_like
^error: Failed to connect to 127\.0\.0\.1 port 1 .*\nattempts=3
--- error_log eval
[qr/Couldn't connect to server, retrying in \d+ms \(attempt 2 of 3\)/,
 qr/\[error\] .*rtagent http: GET 127\.0\.0\.1:1 failed after 3 attempts: Failed to connect to 127\.0\.0\.1 port 1 .*, call: refused/]



=== TEST 14: rtagent_upstream_retries 0: the 429 is the response
--- request
GET /once?url=/status?key=r0&code=429&retry_after=1
--- error_code: 429
--- response_headers
X-Upstream-Attempts: 1
--- response_body
status 429 hit 1
--- mock_hits: r0 1
--- no_error_log
retrying



=== TEST 15: a streamed body that was sent is never sent again: the 503 is the response
--- request
GET /t?pieces=2&interval=20&url=/echo?code=503&key=sb1
--- error_code: 503
--- response_body_like
^method=POST
te=chunked
cl=-
body=p1;p2;
--- mock_hits: sb1 1
--- no_error_log
retrying



=== TEST 16: an in-memory body is sent again on a retry
--- request
GET /t?body=again&url=/echo?code=500&key=mb1
--- error_code: 500
--- response_headers
X-Upstream-Attempts: 3
--- response_body_like
^method=POST
te=-
cl=5
body=again
--- mock_hits: mb1 3



=== TEST 17: a streamed body none of which was sent may be retried
--- request
GET /t?pieces=2&interval=300&url=http://127.0.0.1:1/
--- error_code: 502
--- response_body_like
^error: Failed to connect to 127\.0\.0\.1 port 1 .*\nattempts=3
--- error_log eval
qr/POST 127\.0\.0\.1:1 failed after 3 attempts/
