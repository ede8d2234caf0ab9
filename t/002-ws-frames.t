# RFC 6455 framing on a live connection: control frames, fragmentation and
# reassembly, frames split across packets, every close code the server
# sends, the timers (keepalive ping, idle timeout, close-wait) and the cap
# on what is queued for a peer (one that does not read: t/007).

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use Test::Nginx::Socket 'no_plan';

{ package Test::Base::Filter; RtagentTest->import; }

repeat_each(2);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    my $extra = $block->ws_config // '';
    $block->set_value(config => <<"CONF") unless defined $block->config;
    location = /ws/acs/media {
        rtagent_acs_media;
        $extra
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: ping is answered with a pong carrying the same payload
--- raw_request eval
[ws_handshake() . cframe('ping', 'hello'), cclose(1000)]
--- raw_request_middle_delay: 0.05
--- error_code: 101
--- response_body eval
sframe('pong', 'hello') . sclose(1000)
--- no_error_log
[error]



=== TEST 2: an unsolicited pong is ignored
--- raw_request eval
ws_handshake() . cframe('pong', 'x') . cclose(1000)
--- error_code: 101
--- response_body eval
sclose(1000)



=== TEST 3: a close without a status is answered with an empty close
--- raw_request eval
ws_handshake() . cclose()
--- error_code: 101
--- response_body eval
sframe('close', '')



=== TEST 4: a fragmented message with a ping between its fragments is reassembled
--- raw_request eval
my $m = acs_metadata(16000);
[ws_handshake()
 . cframe('text', substr($m, 0, 10), fin => 0)
 . cframe('ping', 'p')
 . cframe('cont', substr($m, 10, 50), fin => 0)
 . cframe('cont', substr($m, 60)),
 cclose(1000)]
--- raw_request_middle_delay: 0.05
--- error_code: 101
--- response_body eval
sframe('pong', 'p') . sclose(1000)
--- error_log
rtagent call: started, 16000 Hz, 20 ms frames



=== TEST 5: frames split across TCP packets, mid-header and mid-mask
--- raw_request eval
my $f = cframe('text', acs_metadata(24000)) . cframe('ping', 'abc');
[ ws_handshake() . substr($f, 0, 1), substr($f, 1, 2), substr($f, 3, 5),
  substr($f, 8, 40), substr($f, 48), cclose(1000) ]
--- raw_request_middle_delay: 0.05
--- error_code: 101
--- response_body eval
sframe('pong', 'abc') . sclose(1000)
--- error_log
rtagent call: started, 24000 Hz, 20 ms frames



=== TEST 6: an unmasked client frame is a protocol error (1002)
--- raw_request eval
ws_handshake() . cframe('text', '{}', masked => 0)
--- error_code: 101
--- response_body eval
sclose(1002)
--- error_log
rtagent ws: closed, sent 1002



=== TEST 7: a reserved opcode is a protocol error (1002)
--- raw_request eval
ws_handshake() . cframe(3, 'x')
--- error_code: 101
--- response_body eval
sclose(1002)



=== TEST 8: RSV1 without a negotiated extension is a protocol error (1002)
--- raw_request eval
ws_handshake() . cframe('text', '{}', rsv => 4)
--- error_code: 101
--- response_body eval
sclose(1002)



=== TEST 9: a control frame over 125 bytes is a protocol error (1002)
--- raw_request eval
ws_handshake() . cframe('ping', 'x' x 126)
--- error_code: 101
--- response_body eval
sclose(1002)
--- error_log
rtagent ws: malformed frame, closing with 1002



=== TEST 10: a fragmented control frame is a protocol error (1002)
--- raw_request eval
ws_handshake() . cframe('ping', 'x', fin => 0)
--- error_code: 101
--- response_body eval
sclose(1002)



=== TEST 11: a continuation with no message open is a protocol error (1002)
--- raw_request eval
ws_handshake() . cframe('cont', 'x')
--- error_code: 101
--- response_body eval
sclose(1002)



=== TEST 12: a new text frame inside a fragmented message is a protocol error (1002)
--- raw_request eval
ws_handshake() . cframe('text', '{"ki', fin => 0) . cframe('text', 'nd":1}')
--- error_code: 101
--- response_body eval
sclose(1002)



=== TEST 13: a close with a status code that must not be sent (1005) is a protocol error
--- raw_request eval
ws_handshake() . cclose(1005)
--- error_code: 101
--- response_body eval
sclose(1002)



=== TEST 14: invalid UTF-8 in a text message closes with 1007
--- raw_request eval
ws_handshake() . cframe('text', "{\"kind\":\"\xff\xfe\"}")
--- error_code: 101
--- response_body eval
sclose(1007)
--- error_log
rtagent ws: closed, sent 1007



=== TEST 15: invalid UTF-8 split across fragments closes with 1007
--- raw_request eval
ws_handshake() . cframe('text', "{\"k\":\"\xe2\x82", fin => 0) . cframe('cont', "\"}")
--- error_code: 101
--- response_body eval
sclose(1007)



=== TEST 16: a message over rtagent_ws_max_message_size closes with 1009
--- ws_config: rtagent_ws_max_message_size 256;
--- raw_request eval
ws_handshake() . cframe('text', '{"kind":"x","pad":"' . ('a' x 300) . '"}')
--- error_code: 101
--- response_body eval
sclose(1009)
--- error_log
rtagent ws: closed, sent 1009



=== TEST 17: fragments that add up to more than the limit close with 1009
--- ws_config: rtagent_ws_max_message_size 256;
--- raw_request eval
ws_handshake() . cframe('text', '{"kind":"x","pad":"' . ('a' x 150), fin => 0)
. cframe('cont', ('a' x 150) . '"}')
--- error_code: 101
--- response_body eval
sclose(1009)



=== TEST 18: a message just under the limit is accepted
--- ws_config: rtagent_ws_max_message_size 256;
--- raw_request eval
my $m = '{"kind":"Padding","pad":"' . ('a' x 200) . '"}';
ws_handshake() . cframe('text', $m) . cclose(1000)
--- error_code: 101
--- response_body eval
sclose(1000)



=== TEST 19: a silent peer is pinged every rtagent_ws_ping_interval, then closed with 1001 at the idle timeout
--- ws_config
rtagent_ws_ping_interval 100ms;
rtagent_ws_idle_timeout 550ms;
rtagent_ws_close_timeout 100ms;
--- raw_request eval
ws_handshake()
--- error_code: 101
--- response_body_like eval
qr/\A(?:\x89\x00){3,6}\x88\x0e\x03\xe9idle timeout\z/
--- error_log
rtagent ws: closing with 1001 "idle timeout"
rtagent ws: no close from peer within 100 ms



=== TEST 20: pongs from the peer keep the connection alive past the idle timeout
--- ws_config
rtagent_ws_ping_interval 0;
rtagent_ws_idle_timeout 300ms;
--- raw_request eval
[ws_handshake() . cframe('pong', ''), cframe('pong', ''), cframe('pong', ''),
 cclose(1000)]
--- raw_request_middle_delay: 0.2
--- error_code: 101
--- response_body eval
sclose(1000)
--- no_error_log
idle timeout



=== TEST 21: after its own close the server waits rtagent_ws_close_timeout for the peer's
--- ws_config: rtagent_ws_close_timeout 200ms;
--- raw_request eval
ws_handshake() . cframe('binary', "\x01\x02")
--- error_code: 101
--- response_body eval
sclose(1003, 'binary message: ACS media messages are JSON text')
--- error_log
rtagent ws: no close from peer within 200 ms
rtagent ws: closed, sent 1003, received 1006



=== TEST 22: the peer's close reply completes a server-initiated close at once
--- ws_config: rtagent_ws_close_timeout 10s;
--- raw_request eval
ws_handshake() . cframe('binary', "\x01") . cclose(1003)
--- error_code: 101
--- response_body eval
sclose(1003, 'binary message: ACS media messages are JSON text')
--- error_log
rtagent ws: closed, sent 1003, received 1003
--- no_error_log
no close from peer



=== TEST 23: rtagent_ws_max_send_queue of two frames never cuts a peer that reads
A peer that stops reading is cut at the cap: t/007-ws-send-queue.t.
--- ws_config: rtagent_ws_max_send_queue 2k;
--- raw_request eval
[ws_handshake() . cframe('text', acs_metadata(16000))
 . acs_audio(tone(200) . silence(700)),
 cclose(1000)]
--- raw_request_middle_delay: 0.6
--- error_code: 101
--- response_body eval
acs_echo(tone(200) . silence(40)) . sclose(1000)
--- no_error_log
not reading
send queue full



=== TEST 24: data after the peer's close frame is ignored
--- raw_request eval
ws_handshake() . cclose(1000) . cframe('binary', 'ignored')
--- error_code: 101
--- response_body eval
sclose(1000)
--- no_error_log
binary message



=== TEST 25: limits are checked by nginx -t
--- ws_config: rtagent_ws_max_message_size 100;
--- must_die
--- error_log
rtagent_ws_max_message_size must be at least 126 bytes



=== TEST 26: a zero idle timeout is refused by nginx -t
--- ws_config: rtagent_ws_idle_timeout 0;
--- must_die
--- error_log
rtagent_ws_idle_timeout must not be 0
