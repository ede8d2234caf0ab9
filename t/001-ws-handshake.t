# WebSocket opening handshake (RFC 6455 section 4.2) on the ACS media
# endpoint: what is accepted, and the status and reason for what is not.

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use Test::Nginx::Socket 'no_plan';

# section evals run in Test::Base::Filter
{ package Test::Base::Filter; RtagentTest->import; }

repeat_each(2);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => <<'CONF') unless defined $block->config;
    location = /ws/acs/media {
        rtagent_acs_media;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: handshake answered with 101 and the RFC 6455 accept value; clean close
--- raw_request eval
ws_handshake() . cclose(1000, 'bye')
--- error_code: 101
--- raw_response_headers_like: ^HTTP/1.1 101 Switching Protocols\r\n
--- response_headers
Upgrade: websocket
Connection: upgrade
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
!Content-Length
--- response_body eval
sclose(1000, 'bye')
--- error_log
rtagent ws: peer closed with 1000
rtagent ws: closed, sent 1000, received 1000
--- no_error_log
[error]
[alert]



=== TEST 2: browser-style Connection list and mixed-case Upgrade are accepted
--- raw_request eval
ws_handshake(undef, Connection => 'keep-alive, Upgrade', Upgrade => 'WebSocket')
. cclose(1000)
--- error_code: 101
--- response_body eval
sclose(1000)
--- no_error_log
[error]



=== TEST 3: a plain GET gets 426 with Upgrade and Sec-WebSocket-Version
--- request
GET /ws/acs/media
--- error_code: 426
--- raw_response_headers_like: ^HTTP/1.1 426 Upgrade Required\r\n
--- response_headers
Upgrade: websocket
Sec-WebSocket-Version: 13
--- response_body
this is a websocket endpoint: Upgrade: websocket needed
--- error_log
rtagent ws: handshake rejected with 426



=== TEST 4: a method other than GET gets 405 with Allow: GET
--- raw_request eval
my $r = ws_handshake(); $r =~ s/^GET/POST/; $r
--- error_code: 405
--- response_headers
Allow: GET
--- response_body
method must be GET



=== TEST 5: HTTP/1.0 cannot upgrade
--- raw_request eval
my $r = ws_handshake(); $r =~ s{HTTP/1.1}{HTTP/1.0}; $r
--- error_code: 400
--- response_body
websocket needs HTTP/1.1



=== TEST 6: an Upgrade other than websocket gets 426
--- raw_request eval
ws_handshake(undef, Upgrade => 'h2c')
--- error_code: 426
--- response_body
unsupported Upgrade: websocket only



=== TEST 7: Connection without the upgrade token
--- raw_request eval
ws_handshake(undef, Connection => 'keep-alive, upgraded')
--- error_code: 400
--- response_body
Connection: upgrade needed



=== TEST 8: version 8 gets 426 naming version 13
--- raw_request eval
ws_handshake(undef, 'Sec-WebSocket-Version' => '8')
--- error_code: 426
--- response_headers
Sec-WebSocket-Version: 13
--- response_body
unsupported Sec-WebSocket-Version: 13 only



=== TEST 9: no version header
--- raw_request eval
ws_handshake(undef, 'Sec-WebSocket-Version' => undef)
--- error_code: 400
--- response_body
one Sec-WebSocket-Version header needed



=== TEST 10: no key
--- raw_request eval
ws_handshake(undef, 'Sec-WebSocket-Key' => undef)
--- error_code: 400
--- response_body
one Sec-WebSocket-Key header needed



=== TEST 11: a key that is not 16 bytes of base64
--- raw_request eval
ws_handshake(undef, 'Sec-WebSocket-Key' => 'dGhlIHNhbXBsZSBub25jZQ')
--- error_code: 400
--- response_body
Sec-WebSocket-Key is not 16 bytes in base64



=== TEST 12: a key of 24 characters that is not base64
--- raw_request eval
ws_handshake(undef, 'Sec-WebSocket-Key' => 'dGhlIHNhbXBsZSBub25jZ!==')
--- error_code: 400
--- response_body
Sec-WebSocket-Key is not 16 bytes in base64



=== TEST 13: two keys
--- raw_request eval
my $r = ws_handshake();
$r =~ s/\r\n\r\n$/\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\r\n/; $r
--- error_code: 400
--- response_body
one Sec-WebSocket-Key header needed



=== TEST 14: a handshake with a body
--- raw_request eval
ws_handshake(undef, 'Content-Length' => 5) . 'hello'
--- error_code: 400
--- response_body
a websocket handshake has no body



=== TEST 15: an invalid x-ms-call-connection-id is refused before the upgrade
--- raw_request eval
ws_handshake(undef, 'x-ms-call-connection-id' => 'abc def')
--- error_code: 400
--- error_log
rtagent acs: invalid x-ms-call-connection-id header



=== TEST 16: two x-ms-call-connection-id headers are refused
--- raw_request eval
my $r = ws_handshake(undef, 'x-ms-call-connection-id' => 'call-a');
$r =~ s/\r\n\r\n$/\r\nx-ms-call-connection-id: call-b\r\n\r\n/; $r
--- error_code: 400
--- error_log
rtagent acs: invalid x-ms-call-connection-id header



=== TEST 17: the call id of x-ms-call-connection-id is in the log lines
--- raw_request eval
ws_handshake(undef, 'x-ms-call-connection-id' => '6d09449c-6677-4f91-8cb7-012c338e6ec1')
. cclose(1000)
--- error_code: 101
--- response_body eval
sclose(1000)
--- error_log
rtagent acs: media stream connected, call:6d09449c-6677-4f91-8cb7-012c338e6ec1
rtagent acs: media stream closed, call:6d09449c-6677-4f91-8cb7-012c338e6ec1



=== TEST 18: $rtagent_call_id carries the call id into the access log
--- http_config
    log_format calls 'rtagent access: call=$rtagent_call_id status=$status';
--- config
    location = /ws/acs/media {
        rtagent_acs_media;
        access_log logs/error.log calls;
    }
--- raw_request eval
ws_handshake(undef, 'x-ms-call-connection-id' => 'logged-call-7') . cclose(1000)
--- error_code: 101
--- response_body eval
sclose(1000)
--- error_log
rtagent access: call=logged-call-7 status=101



=== TEST 19: an Upgrade list that offers websocket among others is accepted
--- raw_request eval
ws_handshake(undef, Upgrade => 'h2c, websocket') . cclose(1000)
--- error_code: 101
--- response_body eval
sclose(1000)
--- no_error_log
[error]



=== TEST 20: a key of 22 base64 characters must end in "==", nothing else after the "="
--- raw_request eval
ws_handshake(undef, 'Sec-WebSocket-Key' => 'dGhlIHNhbXBsZSBub25jZQ=A')
--- error_code: 400
--- response_body
Sec-WebSocket-Key is not 16 bytes in base64
