# Self-test of the local Test::Nginx::Socket runner (t/lib/Test/Nginx) against
# plain nginx, without any custom module.
BEGIN {
    # A private random port and server root (t/servroot_<port>, removed at
    # the end) so that concurrent runs, and the project's own tests on the
    # default port 1984, cannot collide with this file.
    delete @ENV{qw(TEST_NGINX_PORT TEST_NGINX_SERVER_PORT TEST_NGINX_CLIENT_PORT)};
    $ENV{TEST_NGINX_RANDOMIZE} = 1;
}
use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: plain return
--- config
    location = /t { return 200 "hi\n"; }
--- request
GET /t
--- response_body
hi
--- no_error_log
[error]



=== TEST 2: indented request with a comment; error_code and status text
--- config
    location = /t { return 201 "created\n"; }
--- request
    # a comment line is not part of the request
    GET /t
--- error_code: 201
--- response_body eval
"created\n"
--- raw_response_headers_like: ^HTTP/1\.1 201 Created\r\n



=== TEST 3: response_headers exact, empty value, and !Name absence
--- config
    location = /t {
        add_header X-Foo "bar baz";
        return 200 "ok\n";
    }
--- request
GET /t
--- response_headers
X-Foo: bar baz
Content-Type: text/plain
Content-Length: 3
X-Missing:
!X-Absent
!Transfer-Encoding
--- response_body
ok



=== TEST 4: response_headers_like and raw_response_headers_like
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_headers_like
Server: nginx/\d+\.\d+\.\d+
Date: \w+, \d+ \w+ \d+ .* GMT
--- raw_response_headers_like eval
qr{\AHTTP/1\.1 200 OK\r\n.*Connection: close\r\n\z}s
--- response_body_like: ^ok$



=== TEST 5: 404 with an error log line (error_log + no_error_log)
--- config
    location = /t { return 200 "x"; }
--- request
GET /does/not/exist.html
--- error_code: 404
--- response_body_like: 404 Not Found
--- error_log
[error]
open()
No such file or directory
--- no_error_log
[crit]
[alert]



=== TEST 6: error_log eval with an array of string and qr//
--- config
    location = /t { return 200 "x"; }
--- request
GET /nope
--- error_code: 404
--- error_log eval
["/nope", qr/\[error\] \d+#\d+: \*\d+ open\(\) "[^"]+\/nope" failed/]
--- no_error_log eval
qr/\[emerg\]/



=== TEST 7: proxy_pass to a second server on $TEST_NGINX_RAND_PORT_1
--- http_config
    upstream backend { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "backend saw $request_uri on $server_port\n"; }
    }
--- config
    location /p/ { proxy_pass http://backend/; }
--- request
GET /p/hello?a=1
--- response_body
backend saw /hello?a=1 on $TEST_NGINX_RAND_PORT_1



=== TEST 8: chunked response (sub_filter drops Content-Length) is decoded
--- config
    location = /c {
        sub_filter 'a' 'b';
        sub_filter_once off;
        sub_filter_types text/plain;
        return 200 "aaaa\nxyz\n";
    }
--- request
GET /c
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
bbbb
xyz



=== TEST 9: chunked response made of several chunks via proxy (unbuffered)
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            sub_filter 'x' 'y';
            sub_filter_once off;
            sub_filter_types text/plain;
            return 200 "0123456789xxxxxxxxxx\n";
        }
    }
--- config
    location = /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
        proxy_buffering off;
        proxy_http_version 1.1;
    }
--- request
GET /p
--- response_headers
Transfer-Encoding: chunked
--- response_body
0123456789yyyyyyyyyy



=== TEST 10: POST body gets Content-Length; more_headers are sent
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        location / { return 200 "len=$http_content_length foo=$http_x_foo\n"; }
    }
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        add_header X-Body $request_body;
    }
--- more_headers
X-Foo: bar
# comment lines in more_headers are ignored
--- request
POST /echo
hello world
--- response_headers
X-Body: hello world
--- response_body
len=11 foo=bar



=== TEST 11: explicit HTTP/1.0 request line is kept
--- config
    location = /v { return 200 "$server_protocol $http_host $http_connection\n"; }
--- request
GET /v HTTP/1.0
--- response_body
HTTP/1.0 localhost close
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n



=== TEST 12: raw_request as a plain string
--- config
    location = /r { return 200 "raw $request_method\n"; }
--- raw_request eval
"HEAD /r HTTP/1.1\r
Host: localhost\r
Connection: close\r
\r
"
--- response_headers
Content-Length: 9
--- response_body:



=== TEST 13: raw_request packets with raw_request_middle_delay
--- config
    location = /r { return 200 "got $http_x_split\n"; }
--- raw_request eval
["GET /r HTTP/1.1\r\nHost: loc",
 "alhost\r\nX-Split: a",
 "b\r\nConnection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.2
--- response_body
got ab
--- error_log
http request line: "GET /r HTTP/1.1"
--- timeout: 1



=== TEST 14: request eval with packets and delay_before
--- config
    location = /r { return 200 "got $arg_a\n"; }
--- request eval
[["GET /r?a=12", {value => "34", delay_before => 0.1}]]
--- response_body
got 1234



=== TEST 15: binary body (user_files eval) compared byte-exact
--- config
    location = /b.bin { root $TEST_NGINX_SERVER_ROOT/html; }
--- user_files eval
[["b.bin", "\x00\x01\r\n\xff\xfe"]]
--- request
GET /b.bin
--- response_headers
Content-Length: 6
--- response_body eval
"\x00\x01\r\n\xff\xfe"



=== TEST 16: two requests in one block, expected values as arrays
--- config
    location = /a { return 200 "A\n"; }
    location = /b { return 404; }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^A\$", "404 Not Found"]



=== TEST 17: pipelined requests on one connection
--- config
    location = /a { return 200 "A\n"; }
    location = /b { return 200 "B\n"; }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- response_body eval
["A\n", "B\n"]



=== TEST 18: user_files are served from html/
--- config
    location /files/ { alias $TEST_NGINX_SERVER_ROOT/html/; }
--- user_files
>>> hello.txt
Hello, world
>>> sub/dir/x.txt
nested
--- request
GET /files/hello.txt
--- response_body
Hello, world



=== TEST 19: a block without --- config keeps the previous nginx
--- request
GET /files/sub/dir/x.txt
--- response_body
nested



=== TEST 20: the default root location serves index.html
--- config
--- request
GET /
--- response_body chomp
<html><head><title>It works!</title></head><body>It works!</body></html>



=== TEST 21: main_config, post_main_config, env expansion, log_level
--- main_config
    env TEST_NGINX_SELFTEST_VAR;
--- post_main_config
    # after http {}
--- config
    location = /t { return 200 "port $server_port\n"; }
--- request
GET /t
--- response_body
port $TEST_NGINX_SERVER_PORT
--- log_level: info
--- no_error_log
[debug]



=== TEST 22: grep_error_log
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t?x=1
--- grep_error_log eval
qr/http args: "[^"]*"/
--- grep_error_log_out
http args: "x=1"



=== TEST 23: timeout + abort + ignore_response (server never answers)
--- config
    location = /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n"
--- timeout: 300ms
--- abort
--- ignore_response



=== TEST 24: shutdown makes nginx see EOF on an incomplete request
--- config
    location = /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n"
--- shutdown
--- ignore_response
--- wait: 0.1
--- error_log
client prematurely closed connection



=== TEST 25: must_die with a bad config
--- config
    location = /t { return a b c; }
--- must_die
--- error_log
[emerg]
invalid number of arguments in "return" directive



=== TEST 26: must_die with an exit code
--- config
    location = /t { bogus_directive_xyz on; }
--- must_die: 1
--- error_log
[emerg]
unknown directive "bogus_directive_xyz"



=== TEST 27: nginx is usable again after must_die blocks
--- config
    location = /t { return 200 "back\n"; }
--- request
GET /t
--- response_body
back



=== TEST 28: $ServerPort in expected values
--- config
    location = /t { return 302 /x; }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: http://localhost:$ServerPort/x



=== TEST 29: 101 through a proxied Upgrade; body is the raw bytes after the headers
--- http_config eval
# raw bytes straight into nginx.conf: a WebSocket text frame "hello"
"server {
    listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
    keepalive_timeout 0;
    location / { return 101 \"\x81\x05hello\"; }
}"
--- config
    location = /ws {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
    }
--- raw_request eval
"GET /ws HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
\r
"
--- error_code: 101
--- raw_response_headers_like: ^HTTP/1\.1 101 \r\n
--- response_headers
Connection: upgrade
--- response_body eval
"\x81\x05hello"
--- timeout: 2
