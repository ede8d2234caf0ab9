# The non-blocking HTTP client (src/io/ngx_http_rtagent_http.c): requests
# with in-memory and streamed bodies, streamed and buffered responses, the
# response size cap.  Jobs are run by the test-only driver module
# (t/modules) against the HTTPS mock upstream (t/mock/http_mock.mjs), which
# reports what it received.

use FindBin;
use lib "$FindBin::Bin/mock";
use HttpMock;
use Test::Nginx::Socket;

my $skip = http_test_skip();
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

repeat_each(2);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value(http_config => <<'CONF') unless defined $block->http_config;
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
CONF

    $block->set_value(config => <<'CONF') unless defined $block->config;
    location /t {
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location /small {
        rtagent_upstream_max_response_size 1k;
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location = /stats {
        rtagent_test_stats;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: a GET: the upstream's status, type and body; one attempt, logged with the call id and timings
--- request
GET /t?call=call-0001&url=/echo
--- response_headers
Content-Type: text/plain
X-Upstream-Attempts: 1
--- response_body_like
^method=GET
te=-
cl=-
body=
events=0
span=0
h\.accept=\*/\*
h\.host=127\.0\.0\.1:\d+
h\.user-agent=rtagent
--- error_log eval
qr/rtagent http: GET 127\.0\.0\.1:\d+ attempt 1: status 200, connect \d+\.\d{3}ms, tls \d+\.\d{3}ms, first byte \d+\.\d{3}ms, total \d+\.\d{3}ms, call: call-0001/
--- no_error_log
[error]
[alert]



=== TEST 2: an in-memory body is sent with Content-Length
--- request
GET /t?body=hello-world&url=/echo
--- response_body_like
^method=POST
te=-
cl=11
body=hello-world
events=1
--- no_error_log
[error]



=== TEST 3: request headers are sent; curl's "Expect: 100-continue" is not
--- request
GET /t?header=X-Api-Key:secret-1&pieces=2&interval=10&url=/echo
--- response_body_like
h\.x-api-key=secret-1
--- response_body_unlike
h\.expect=
--- no_error_log
[error]



=== TEST 4: a streamed body of unknown length goes out chunked, piece by piece as it is written
--- request
GET /t?pieces=5&interval=150&url=/echo
--- response_body_like
^method=POST
te=chunked
cl=-
body=p1;p2;p3;p4;p5;
events=[3-5]
span=(?:[3-9]\d\d|\d{4,})
--- no_error_log
[error]



=== TEST 5: a streamed body of known length goes out with Content-Length
--- request
GET /t?pieces=5&interval=100&length=known&url=/echo
--- response_body_like
^method=POST
te=-
cl=15
body=p1;p2;p3;p4;p5;
events=[3-5]
--- no_error_log
[error]



=== TEST 6: other methods
--- request eval
["GET /t?method=DELETE&url=/echo",
 "GET /t?method=PUT&body=x&url=/echo",
 "GET /t?method=PATCH&pieces=1&interval=1&url=/echo"]
--- response_body_like eval
["^method=DELETE\nte=-\ncl=-\nbody=\n",
 "^method=PUT\nte=-\ncl=1\nbody=x\n",
 "^method=PATCH\nte=chunked\ncl=-\nbody=p1;\n"]
--- no_error_log
[error]



=== TEST 7: a chunked response streams through in its pieces
--- request
GET /t?url=/stream?pieces=4&delay=50
--- response_body
piece 1
piece 2
piece 3
piece 4
--- no_error_log
[error]



=== TEST 8: the first piece reaches the consumer before the end: the mock sends the rest only after a job started from on_data (on that first piece) signals it
--- request eval
["GET /t?signal=/signal?key=early&url=/stream?pieces=3&delay=10&key=early&wait=1",
 "GET /t?url=/__hits?key=early"]
--- response_body eval
["piece 1\npiece 2\npiece 3\n",
 "hits=0 gaps=- aborted=0\n"]
--- timeout: 5
--- no_error_log
[error]



=== TEST 9: without on_data the body is buffered whole
--- request
GET /t?mode=buffer&url=/big?size=3000
--- response_headers
Content-Length: 3000
--- response_body eval
"b" x 3000
--- no_error_log
[error]



=== TEST 10: a buffered response of exactly the cap is accepted
--- request
GET /small?mode=buffer&url=/big?size=1024
--- response_body eval
"b" x 1024
--- no_error_log
[error]



=== TEST 11: a buffered response over the cap fails the job (Content-Length known), once at error level, not retried
--- request
GET /small?mode=buffer&call=big-1&url=/big?size=1025
--- error_code: 502
--- response_body
error: response too large
attempts=1
--- error_log eval
qr/\[error\] .*rtagent http: GET 127\.0\.0\.1:\d+ failed after 1 attempt: response too large, call: big-1, upstream: "127\.0\.0\.1:\d+"/



=== TEST 12: a buffered response over the cap fails the job (chunked, counted as it comes)
--- request
GET /small?mode=buffer&url=/stream?pieces=200&delay=0
--- error_code: 502
--- response_body
error: response too large
attempts=1
--- error_log
response too large



=== TEST 13: the cap is for buffered bodies: a streamed one passes through whole
--- request
GET /small?url=/big?size=10000
--- response_body eval
"b" x 10000
--- no_error_log
[error]



=== TEST 14: a job needs an http or https url
--- request
GET /t?url=ftp://127.0.0.1/x
--- error_code: 500
--- error_log
rtagent http: invalid url "ftp://127.0.0.1/x": not http or https



=== TEST 15: a host name (localhost, in the certificate) works as well as an address
--- request eval
"GET /t?url=https://localhost:$ENV{TEST_NGINX_MOCK_PORT}/echo"
--- response_body_like
^method=GET
--- no_error_log
[error]



=== TEST 16: every job and socket of a finished request is gone
--- request eval
["GET /t?url=/stream?pieces=3&delay=10", "GET /stats"]
--- response_body_like eval
["piece 3", "^jobs=0 running=0 sockets=[01] connections=[01] "]
--- no_error_log
[error]
