# The HTTP client's timeouts (total per attempt, connect incl. the TLS
# handshake), TLS verification (the trusted CA, the system store, verify
# off) and what "nginx -t" says about bad rtagent_upstream_* values.
# TEST 3 also guards against libcurl 7.88 closing a socket that never
# connected behind our back (no epoll call on the dead fd, no alert).

use FindBin;
use lib "$FindBin::Bin/mock";
use HttpMock;
use IO::Socket::INET;
use Test::Nginx::Socket;

my $skip = http_test_skip();
if ($skip) { plan skip_all => $skip } else { plan 'no_plan' }

# A listener whose accept queue is full: the kernel drops further SYNs, so
# a connect() to it hangs until the client's connect timeout.
my $full = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                 LocalPort => 0, ReuseAddr => 1)
    or die "listen: $!";
$ENV{TEST_NGINX_FULL_PORT} = $full->sockport;
my @fill = map {
    IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $full->sockport,
                          Blocking => 0)
} 1 .. 3;

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
    location /short {
        rtagent_upstream_timeout 300ms;
        rtagent_upstream_retries 1;
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location /connect {
        rtagent_upstream_connect_timeout 300ms;
        rtagent_upstream_retries 0;
        rtagent_test_fetch;
    }
    location /other-ca {
        rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_OTHER_CA;
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location = /stats {
        rtagent_test_stats;
    }
    location /no-verify {
        rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_OTHER_CA;
        rtagent_upstream_ssl_verify off;
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: a response slower than rtagent_upstream_timeout: 504, each attempt timed out, logged once
--- request
GET /short?call=slow-1&url=/slow?delay=3000
--- error_code: 504
--- response_body_like
^error: Operation timed out after 3\d\d milliseconds with 0 bytes received
attempts=2
--- error_log eval
[qr/Operation timed out after 3\d\d milliseconds with 0 bytes received, retrying in \d+ms \(attempt 2 of 2\)/,
 qr/\[error\] .*rtagent http: GET 127\.0\.0\.1:\d+ failed after 2 attempts: Operation timed out after 3\d\d milliseconds with 0 bytes received, call: slow-1/]



=== TEST 2: the timeout covers a body that stops arriving
--- request
GET /short?url=/stream?pieces=10&delay=200
--- response_body_like
^piece 1\n(?:piece \d\n)*\n\[error: Operation timed out after 3\d\d milliseconds with \d+ (?:out of -1 )?bytes received\]
--- error_log
failed after 1 attempt: Operation timed out



=== TEST 3: a TCP connect that gets no answer: rtagent_upstream_connect_timeout
--- request eval
"GET /connect?url=http://127.0.0.1:$ENV{TEST_NGINX_FULL_PORT}/"
--- error_code: 504
--- response_body_like
^error: .*(?i:time(?:d )?out).*
attempts=1
--- error_log eval
qr/failed after 1 attempt: .*(?i:time(?:d )?out)/
--- stats_like: ^jobs=0 running=0 sockets=0 connections=0 
--- no_error_log
[alert]



=== TEST 4: a TLS handshake that gets no answer counts against the connect timeout
--- request eval
"GET /connect?url=https://127.0.0.1:$ENV{TEST_NGINX_SILENT_PORT}/"
--- error_code: 504
--- response_body
error: SSL connection timeout
attempts=1
--- error_log
failed after 1 attempt: SSL connection timeout
--- stats_like: ^jobs=0 running=0 sockets=0 connections=0 
--- no_error_log
[alert]



=== TEST 5: a server certificate not signed by the trusted CA fails verification; not retried
--- request
GET /other-ca?call=tls-1&url=/echo
--- error_code: 502
--- response_body
error: SSL certificate problem: unable to get local issuer certificate
attempts=1
--- error_log eval
qr/\[error\] .*failed after 1 attempt: SSL certificate problem: unable to get local issuer certificate, call: tls-1/
--- no_error_log
retrying



=== TEST 6: rtagent_upstream_ssl_verify off accepts it
--- request
GET /no-verify?url=/echo
--- response_body_like
^method=GET
--- no_error_log
[error]



=== TEST 7: by default the system store is trusted, and the test CA is not in it
--- http_config
--- config
    location /t {
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
--- request
GET /t?url=/echo
--- error_code: 502
--- response_body
error: SSL certificate problem: unable to get local issuer certificate
attempts=1



=== TEST 8: directives inherit: server level, overridden in a location
--- http_config
--- config
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_MOCK_CA;
    rtagent_upstream_retries 0;
    location /t {
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
    location /t2 {
        rtagent_upstream_retries 1;
        rtagent_test_fetch https://127.0.0.1:$TEST_NGINX_MOCK_PORT;
    }
--- request eval
["GET /t?url=/status?key=inh1&code=503",
 "GET /t2?url=/status?key=inh2&code=503",
 "GET /t?url=/__hits?key=inh1",
 "GET /t?url=/__hits?key=inh2"]
--- error_code eval
[503, 503, 200, 200]
--- response_body_like eval
["^status 503 hit 1\n", "^status 503 hit 2\n", "^hits=1 ", "^hits=2 "]



=== TEST 9: nginx -t names a bad time
--- http_config
    rtagent_upstream_timeout 5x;
--- config
--- must_die
--- error_log
[emerg]
"rtagent_upstream_timeout" directive invalid value



=== TEST 10: nginx -t names a zero connect timeout
--- http_config
--- config
    location /t {
        rtagent_upstream_connect_timeout 0;
    }
--- must_die
--- error_log
[emerg]
invalid value "0" in "rtagent_upstream_connect_timeout": a time above 0 is expected



=== TEST 11: nginx -t names a bad number of retries
--- http_config
    rtagent_upstream_retries 11;
--- config
--- must_die
--- error_log
[emerg]
value must be between 0 and 10



=== TEST 12: nginx -t names a bad size
--- http_config
    rtagent_upstream_max_response_size lots;
--- config
--- must_die
--- error_log
[emerg]
"rtagent_upstream_max_response_size" directive invalid value



=== TEST 13: nginx -t names a missing CA file
--- http_config
    rtagent_upstream_ssl_trusted_certificate /nonexistent/ca.pem;
--- config
--- must_die
--- error_log
[emerg]
invalid value "/nonexistent/ca.pem" in "rtagent_upstream_ssl_trusted_certificate": stat() "/nonexistent/ca.pem" failed (2: No such file or directory)



=== TEST 14: nginx -t names a bad on/off value
--- http_config
    rtagent_upstream_ssl_verify maybe;
--- config
--- must_die
--- error_log
[emerg]
invalid value "maybe" in "rtagent_upstream_ssl_verify" directive, it must be "on" or "off"



=== TEST 15: a directive given twice
--- http_config
    rtagent_upstream_timeout 1s;
    rtagent_upstream_timeout 2s;
--- config
--- must_die
--- error_log
[emerg]
"rtagent_upstream_timeout" directive is duplicate



=== TEST 16: nginx -t names a bad keepalive
--- http_config
    rtagent_upstream_keepalive 0;
--- config
--- must_die
--- error_log
[emerg]
value must be equal to or greater than 1



=== TEST 17: rtagent_upstream_keepalive is for http{} only
--- http_config
--- config
    rtagent_upstream_keepalive 10;
--- must_die
--- error_log
[emerg]
"rtagent_upstream_keepalive" directive is not allowed here



=== TEST 18: nginx -t names a zero response size cap
--- http_config
    rtagent_upstream_max_response_size 0;
--- config
--- must_die
--- error_log
[emerg]
invalid value "0" in "rtagent_upstream_max_response_size": a size above 0 is expected, such as 64k or 4m



=== TEST 19: nginx -t refuses rtagent_upstream_max_jobs 0
--- http_config
    rtagent_upstream_max_jobs 0;
--- config
--- must_die
--- error_log
[emerg]
value must be equal to or greater than 1



=== TEST 20: rtagent_upstream_max_connections must leave worker_connections for clients
--- http_config
    rtagent_upstream_max_connections 100000;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*rtagent_upstream_max_connections 100000 is not below worker_connections \d+/
