# "tests => N" import argument, no_root_location(), no_long_string(),
# config_preamble() and the getters.
BEGIN {
    # A private random port and server root (t/servroot_<port>, removed at
    # the end) so that concurrent runs, and the project's own tests on the
    # default port 1984, cannot collide with this file.
    delete @ENV{qw(TEST_NGINX_PORT TEST_NGINX_SERVER_PORT TEST_NGINX_CLIENT_PORT)};
    $ENV{TEST_NGINX_RANDOMIZE} = 1;
}
use Test::Nginx::Socket tests => 10;

no_root_location();
no_long_string();
config_preamble("        add_header X-Preamble yes;\n");

is(repeat_each(), 1, 'repeat_each() getter defaults to 1');
like(server_port(), qr/^[1-9]\d*$/, 'server_port() is a port number');
is(html_dir(), server_root() . '/html', 'html_dir() is under server_root()');
is(timeout(), $ENV{TEST_NGINX_TIMEOUT} || 3, 'timeout() default');

no_shuffle();
run_tests();

__DATA__

=== TEST 1: our own "location /" does not clash with the default one
--- config
    location / { return 200 "mine\n"; }
--- request
GET /anything
--- response_headers
X-Preamble: yes
--- response_body
mine



=== TEST 2: still fine with no_long_string (Test::Base diffing is())
--- request
GET /
--- response_body
mine
--- no_error_log
[emerg]
