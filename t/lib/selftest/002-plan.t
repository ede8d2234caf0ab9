# Explicit plan arithmetic in the upstream style must come out exact:
# per block and repetition, 1 status check + 1 body check + 1 per pattern.
BEGIN {
    # A private random port and server root (t/servroot_<port>, removed at
    # the end) so that concurrent runs, and the project's own tests on the
    # default port 1984, cannot collide with this file.
    delete @ENV{qw(TEST_NGINX_PORT TEST_NGINX_SERVER_PORT TEST_NGINX_CLIENT_PORT)};
    $ENV{TEST_NGINX_RANDOMIZE} = 1;
}
use Test::Nginx::Socket;

repeat_each(3);
plan tests => repeat_each() * (3 * blocks());

run_tests();    # shuffled, as upstream does by default

__DATA__

=== TEST 1: a
--- config
    location = /a { return 200 "a\n"; }
--- request
GET /a
--- response_body
a
--- no_error_log
[error]



=== TEST 2: b
--- config
    location = /b { return 200 "b\n"; }
--- request
GET /b
--- response_body
b
--- no_error_log
[error]



=== TEST 3: c with an expected 404 logged
--- config
    location = /c { return 200 "c\n"; }
--- request
GET /missing
--- error_code: 404
--- response_body_like: Not Found
--- error_log
No such file or directory
