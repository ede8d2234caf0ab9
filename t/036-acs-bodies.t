# Request bodies of the ACS events endpoint and the operators' API are kept
# in memory, never read back from a temp file on the event loop: whatever
# client_max_body_size allows stays in memory; a body over it is refused
# with 413, and so is one over client_body_buffer_size when
# client_max_body_size is 0 (unlimited).

use FindBin;
use lib "$FindBin::Bin/helpers";
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

# an Event Grid validation event padded to n bytes
sub validation {
    my ($n) = @_;
    my $head = '[{"id":"v1","eventType":'
             . '"Microsoft.EventGrid.SubscriptionValidationEvent",'
             . '"data":{"validationCode":"code-1234"},"pad":"';
    my $tail = '"}]';
    return $head . ('x' x ($n - length($head) - length($tail))) . $tail;
}

{ package Test::Base::Filter; no warnings 'once'; *validation = \&main::validation; }

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(more_headers => "aeg-event-type: SubscriptionValidation")
        unless defined $block->more_headers;
});

run_tests();

__DATA__

=== TEST 1: an events body over the default client_body_buffer_size stays in memory
--- config
location = /api/acs/events {
    client_max_body_size 64k;
    rtagent_acs_events;
}
--- request eval
"POST /api/acs/events\n" . validation(40000)
--- error_code: 200
--- response_body: {"validationResponse":"code-1234"}
--- no_error_log
buffered to a temporary file
[error]



=== TEST 2: an events body over client_max_body_size: 413
--- config
location = /api/acs/events {
    client_max_body_size 16k;
    rtagent_acs_events;
}
--- request eval
"POST /api/acs/events\n" . validation(20000)
--- error_code: 413
--- no_error_log
buffered to a temporary file



=== TEST 3: client_max_body_size 0: a body over client_body_buffer_size is refused, not spilled
--- config
location = /api/acs/events {
    client_max_body_size 0;
    client_body_buffer_size 8k;
    rtagent_acs_events;
}
--- request eval
"POST /api/acs/events\n" . validation(20000)
--- error_code: 413
--- error_log
is over client_body_buffer_size (8192): refused
--- no_error_log
buffered to a temporary file



=== TEST 4: a chunked events body over the default buffer stays in memory
--- config
location = /api/acs/events {
    client_max_body_size 64k;
    rtagent_acs_events;
}
--- raw_request eval
my $b = validation(30000);
"POST /api/acs/events HTTP/1.1\r\nHost: localhost\r\n"
. "aeg-event-type: SubscriptionValidation\r\nConnection: close\r\n"
. "Transfer-Encoding: chunked\r\n\r\n"
. sprintf("%x\r\n%s\r\n0\r\n\r\n", length($b), $b)
--- error_code: 200
--- response_body: {"validationResponse":"code-1234"}
--- no_error_log
buffered to a temporary file
[error]



=== TEST 5: client_body_in_file_only does not apply to the events endpoint
--- config
location = /api/acs/events {
    client_body_in_file_only on;
    rtagent_acs_events;
}
--- request eval
"POST /api/acs/events\n" . validation(2000)
--- error_code: 200
--- response_body: {"validationResponse":"code-1234"}
--- no_error_log
temporary file
[error]



=== TEST 6: an operators' API body over the default buffer is read from memory
--- http_config
rtagent_acs_api_key api-key-0123456789abcdef;
--- more_headers
Content-Type: application/json
x-api-key: api-key-0123456789abcdef
--- config
location /api/calls {
    client_max_body_size 64k;
    rtagent_acs_calls;
}
--- request eval
"POST /api/calls\n{\"pad\":\"" . ('x' x 30000) . "\"}"
--- error_code: 400
--- response_body_like: target is required
--- no_error_log
buffered to a temporary file
[error]



=== TEST 7: an operators' API body over client_max_body_size: 413
--- http_config
rtagent_acs_api_key api-key-0123456789abcdef;
--- more_headers
Content-Type: application/json
x-api-key: api-key-0123456789abcdef
--- config
location /api/calls {
    client_max_body_size 16k;
    rtagent_acs_calls;
}
--- request eval
"POST /api/calls\n{\"pad\":\"" . ('x' x 30000) . "\"}"
--- error_code: 413
--- no_error_log
buffered to a temporary file
