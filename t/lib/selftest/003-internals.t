# Unit tests of the runner's request building and response parsing, with no
# nginx involved.
use Test::Nginx::Socket 'no_plan';

my $B = \&Test::Nginx::Socket::build_request;
my $P = \&Test::Nginx::Socket::parse_response;

# --- building requests -------------------------------------------------

is_deeply($B->('', 0, 'close', ["GET /t\n"]),
    ["GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
    'version, Host and Connection are added');

is_deeply($B->('', 0, 'close', ["GET\n"]),
    ["GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
    'missing URI defaults to /');

is_deeply($B->('', 0, 'close', ["GET /t HTTP/1.0\n"]),
    ["GET /t HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
    'explicit HTTP/1.0 is kept');

is_deeply($B->("X-A: 1\r\n", 0, 'close', ["POST /p\n  hello \n"]),
    ["POST /p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
     . "X-A: 1\r\nContent-Length: 5\r\n\r\nhello"],
    'body is trimmed and gets Content-Length after more_headers');

is_deeply($B->("Host: foo\r\nConnection: keep-alive\r\n", 0, 'close', ["GET /\n"]),
    ["GET / HTTP/1.1\r\nHost: foo\r\nConnection: keep-alive\r\n\r\n"],
    'Host / Connection from more_headers win');

is_deeply($B->("Transfer-Encoding: chunked\r\n", 1, 'close',
               ["POST /p\n3\r\nabc\r\n0\r\n\r\n"]),
    ["POST /p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
     . "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
    'chunked request bodies are sent untouched, without Content-Length');

is_deeply($B->('', 0, 'close', ["GE", "T /r?a=12", "34"]),
    ["GE", "T /r?a=12", "34 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
    'packet boundaries inside the request line are preserved');

is_deeply($B->('', 0, 'close', ["POST /u\nna", "me=foo"]),
    ["POST /u HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
     . "Content-Length: 8\r\n\r\nna", "me=foo"],
    'packet boundaries inside the body are preserved');

my ($h, $c) = Test::Nginx::Socket::parse_more_headers(
    "X-Foo: bar\n# comment\nTransfer-Encoding: chunked\nX-Empty:\n");
is($h, "X-Foo: bar\r\nTransfer-Encoding: chunked\r\nX-Empty: \r\n", 'more_headers');
ok($c, 'chunked request detected');

# --- parsing responses -------------------------------------------------

my $raw = "HTTP/1.1 200 OK\r\nServer: x\r\nX-Dup: 1\r\nx-dup: 2\r\n"
        . "Content-Length: 3\r\n\r\nabcEXTRA";
my ($res, $rh, $left) = $P->('t', $raw, 0);
is($res->code, 200, 'status code');
is($res->content, 'abc', 'Content-Length framing');
is($left, 'EXTRA', 'bytes after Content-Length are left over');
is($rh, "HTTP/1.1 200 OK\r\nServer: x\r\nX-Dup: 1\r\nx-dup: 2\r\nContent-Length: 3\r\n",
   'raw headers = status line + header lines with CRLF');
is($res->header('x-dup'), '1, 2', 'repeated headers are joined, names case-insensitive');
is($res->header('X_Dup'), '1, 2', '_ matches - in header names');
ok(!defined $res->header('Nope'), 'absent header is undef');

$raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     . "5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n";
($res, $rh, $left) = $P->('t', $raw, 0);
is($res->content, 'hello, world', 'chunked body decoded (extensions, trailers)');
ok(!defined $left, 'nothing left after last chunk');

my $frames = "\x81\x05hello\x88\x02\x03\xe8\r\n\r\n0\r\n";
$raw = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
     . "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n$frames";
($res) = $P->('t', $raw, 0);
is($res->code, 101, '101 status');
is($res->content, $frames, '101: every byte after the headers, undecoded');

($res) = $P->('t', "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 1);
is($res->content, '', 'HEAD response has an empty body');

($res) = $P->('t', '', 0);
ok(!$res->code, 'empty response has no status code');

{
    # malformed chunked data must produce a failure
    my @failed;
    no warnings 'redefine';
    local *Test::Nginx::Socket::fail = sub { push @failed, $_[0]; 0 };
    $P->('t', "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 0);
    $P->('t', "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0);
    $P->('t', "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n", 0);
    is(scalar @failed, 3, 'three malformed chunked bodies, three failures');
    like($failed[0], qr/not enough octets/, 'short chunk reported');
    like($failed[1], qr/invalid chunked body/, 'bad chunk size reported');
    like($failed[2], qr/expected CRLF/, 'missing chunk CRLF reported');
}

# --- misc helpers --------------------------------------------------------

is(Test::Nginx::Util::parse_time('50ms'), 0.05, 'parse_time ms');
is(Test::Nginx::Util::parse_time('2s'), 2, 'parse_time s');
is(Test::Nginx::Util::parse_time('1.5'), 1.5, 'parse_time bare');

{
    local $ENV{TEST_NGINX_FOO} = 'bar';
    is(Test::Nginx::Util::expand_env_in_text('x $TEST_NGINX_FOO y', 't'), 'x bar y', 'env expansion');
    ok(!eval { Test::Nginx::Util::expand_env_in_text('$TEST_NGINX_NOT_SET_XYZ', 't'); 1 },
       'undefined TEST_NGINX_ variable is an error');
}

is_deeply([Test::Nginx::Socket::parse_headers("A: 1\n!B\nC:\nA: 2\n")],
          [['A', '2'], ['B', undef], ['C', '']], 'response_headers parsing');
