# The operators' API (rtagent_acs_calls, src/acs/ngx_http_rtagent_acs_calls.c):
# the API key, outbound calls (CreateCall) and the actions on a call, each
# checked three ways: the answer, the request the mock ACS received
# (t/mock/acs_mock.mjs, which verifies the HMAC signature), and what was
# written to a real Redis (the call hash and the rtagent:events stream).
#
# A block's --- init prepares the mock and Redis (upstream runs init code in
# package Test::Nginx::Util, so it calls this file's subs as main::...); its
# --- check is Perl run after each response with $Body (the raw body), $Res
# (the decoded JSON) and $Idx (the request's index in the block).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";

use AcsMock;
use JSON::PP;
use RtagentRedis;
use Test::Nginx::Socket;

our ($R, $Body, $Res, $Idx);

my $skip;
$skip = 'redis-server is not installed' unless have_redis();
$skip //= $AcsMock::Why unless start_acs_mock();

if ($skip) {
    plan skip_all => $skip;

} else {
    plan 'no_plan';
    $R = start_redis();
    $ENV{TEST_NGINX_REDIS_PORT} = $R->{port};
}

our $KEY = 'test-api-key-0123456789abcdefghi';
our $API = 'api-version=2025-05-15';

repeat_each(1);
no_shuffle();

# the defaults of every block
my $http_config = <<'CONF';
    rtagent_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    rtagent_acs_connection_string "$TEST_NGINX_ACS_CONNECTION_STRING";
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_ACS_CA;
    rtagent_acs_callback_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api/acs/events;
    rtagent_acs_media_url ws://127.0.0.1:$TEST_NGINX_SERVER_PORT/ws/acs/media;
    rtagent_acs_api_key test-api-key-0123456789abcdefghi;
CONF

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value(http_config => $http_config)
        unless defined $block->http_config;

    $block->set_value(config => <<'CONF') unless defined $block->config;
    location /api/calls {
        client_max_body_size 4k;
        rtagent_acs_calls;
    }
CONF

    $block->set_value(more_headers => "Authorization: Bearer $KEY")
        unless defined $block->more_headers;
});

add_response_body_check(sub {
    my ($block, $body, $idx, $rep, $dry_run) = @_;
    return if $dry_run || !$block->can('check');
    my $code = $block->check;
    return unless defined $code;

    local $Body = $body;
    local $Res = eval { decode_json($body) };
    local $Idx = $idx;

    eval "package main; $code; 1"
        or fail($block->name . " - check died: $@");
});


# --- helpers for the blocks ----------------------------------------------

sub hash_of {
    my ($id) = @_;
    my $all = redis($R, 'HGETALL', "rtagent:call:{$id}");
    return { @{ $all // [] } };
}

# waits until the call hash has $field (set to $value when given)
sub wait_field {
    my ($id, $field, $value) = @_;
    return wait_for(sub {
        my $v = redis($R, 'HGET', "rtagent:call:{$id}", $field);
        defined $v && (!defined $value || $v eq $value);
    }, 5);
}

sub events_of {
    my ($id, $type) = @_;
    my $all = redis($R, 'XRANGE', 'rtagent:events', '-', '+') // [];
    my @ev;
    for my $e (@$all) {
        my %f = @{ $e->[1] };
        next unless $f{call_id} eq $id;
        next if defined $type && $f{type} ne $type;
        $f{json} = eval { decode_json($f{data}) };
        push @ev, \%f;
    }
    return @ev;
}

sub wait_event {
    my ($id, $type) = @_;
    wait_for(sub { scalar events_of($id, $type) }, 5);
    return events_of($id, $type);
}

sub last_acs {
    my ($match) = @_;
    my $all = acs_requests($match);
    return $all->[-1];
}

# a call the mock knows (connected) and whose hash is in Redis, as the
# events handler writes it for an answered call
sub known_call {
    my ($id, %fields) = @_;
    acs_reset();
    acs_config(autoMedia => JSON::PP::false, knownCalls => [$id]);
    redis($R, 'DEL', "rtagent:call:{$id}");
    my ($props) = grep { $_->{callConnectionId} eq $id }
                  @{ acs_get('/_mock/calls') };
    my %h = (call_id => $id, acs_state => 'connected',
             peer => '4:+15551230001', direction => 'inbound',
             agent => 'fnol', ref => '0123456789abcdef0123456789abcdef',
             server_call_id => $props->{serverCallId}, %fields);
    delete @h{ grep { !defined $h{$_} } keys %h };
    redis($R, 'HSET', "rtagent:call:{$id}", %h);
    return $props;
}

sub del_call {
    my ($id) = @_;
    redis($R, 'DEL', "rtagent:call:{$id}");
}

sub fresh {
    my (%config) = @_;
    acs_reset();
    acs_config(autoMedia => JSON::PP::false, %config);
}

run_tests();

__DATA__

=== TEST 1: without rtagent_acs_api_key the API is closed (403), said at warn level
--- http_config
    rtagent_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    rtagent_acs_connection_string "$TEST_NGINX_ACS_CONNECTION_STRING";
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_ACS_CA;
--- request
POST /api/calls
{"target":"+15551234567","agent":"fnol","source":"+15550001111"}
--- error_code: 403
--- response_headers
Content-Type: application/json
--- response_body chomp
{"error":"rtagent_acs_api_key is not configured"}
--- error_log eval
qr/\[warn\] .*rtagent acs: calls API request refused: rtagent_acs_api_key is not configured/
--- no_error_log
[error]



=== TEST 2: no key (or not a Bearer one): 401 with WWW-Authenticate, logged
--- more_headers eval
["X-Other: 1", "Authorization: Basic dGVzdA=="]
--- request eval
["POST /api/calls\n{\"target\":\"+15551234567\",\"source\":\"+15550001111\"}",
 "GET /api/calls/some-call"]
--- error_code eval
[401, 401]
--- response_headers eval
['WWW-Authenticate: Bearer realm="rtagent"',
 'WWW-Authenticate: Bearer realm="rtagent"']
--- response_body eval
['{"error":"an API key is required (Authorization: Bearer or X-Api-Key)"}',
 '{"error":"an API key is required (Authorization: Bearer or X-Api-Key)"}']
--- error_log
calls API request without an API key refused
--- no_error_log
[error]



=== TEST 3: a wrong key (Bearer or X-Api-Key, also one of the right length): 401
--- more_headers eval
["Authorization: Bearer wrong",
 "Authorization: Bearer test-api-key-0123456789abcdefghX",
 "X-Api-Key: test-api-key-0123456789abcdefgh"]
--- request eval
["GET /api/calls/some-call", "GET /api/calls/some-call",
 "POST /api/calls/some-call/hangup"]
--- error_code eval
[401, 401, 401]
--- response_body eval
['{"error":"invalid API key"}', '{"error":"invalid API key"}',
 '{"error":"invalid API key"}']
--- error_log
calls API request with a wrong API key refused
--- no_error_log
[error]



=== TEST 4: X-Api-Key works as well as Bearer: an unknown call is 404
--- init
main::del_call('no-such-call');
--- more_headers eval
["X-Api-Key: $main::KEY", "Authorization: bearer $main::KEY"]
--- request eval
["GET /api/calls/no-such-call", "GET /api/calls/no-such-call"]
--- error_code eval
[404, 404]
--- response_body eval
['{"error":"unknown call"}', '{"error":"unknown call"}']
--- no_error_log
[warn]
[error]



=== TEST 5: a body that is not a JSON object: 400
--- request eval
["POST /api/calls\n{\"target\":", "POST /api/calls\n[1,2]",
 "POST /api/calls", "POST /api/calls\n{\"target\":5}"]
--- error_code eval
[400, 400, 400, 400]
--- response_body eval
['{"error":"the body is not a JSON object"}',
 '{"error":"the body is not a JSON object"}',
 '{"error":"the body is not a JSON object"}',
 '{"error":"target, agent, source and display_name must be strings"}']
--- no_error_log
[error]



=== TEST 6: a missing or invalid target, a bad agent, a source that is no phone number: 400, nothing sent to ACS
--- init
main::fresh();
--- request eval
["POST /api/calls\n{\"source\":\"+15550001111\"}",
 "POST /api/calls\n{\"target\":\"bob\",\"source\":\"+15550001111\"}",
 "POST /api/calls\n{\"target\":\"+1555x\",\"source\":\"+15550001111\"}",
 "POST /api/calls\n{\"target\":\"+15551234567\",\"agent\":\"a b\",\"source\":\"+15550001111\"}",
 "POST /api/calls\n{\"target\":\"+15551234567\",\"source\":\"8:acs:x\"}"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body eval
['{"error":"target is required"}',
 '{"error":"target must be a phone number (+E.164) or an ACS identifier (8:..., 28:...)"}',
 '{"error":"target must be a phone number (+E.164) or an ACS identifier (8:..., 28:...)"}',
 q{{"error":"agent must be 1-64 letters, digits, '-', '_' or '.'"}},
 '{"error":"source must be a phone number (+E.164)"}']
--- check
is(scalar @{ acs_requests() }, 0, "nothing reached ACS (request $Idx)");
--- no_error_log
[error]



=== TEST 7: a phone number without a source (and no rtagent_acs_source_number): 400
--- init
main::fresh();
--- request
POST /api/calls
{"target":"+15551234567"}
--- error_code: 400
--- response_body chomp
{"error":"source is required to call a phone number (or set rtagent_acs_source_number)"}
--- check
is(scalar @{ acs_requests() }, 0, 'nothing reached ACS');
--- no_error_log
[error]



=== TEST 8: a body over client_max_body_size: 413
--- request eval
"POST /api/calls\n{\"target\":\"+15551234567\",\"display_name\":\"" . ("x" x 5000) . "\"}"
--- error_code: 413
--- error_log
client intended to send too large body



=== TEST 9: routes: methods (405 with Allow), unknown actions and paths (404), bad call ids (400)
--- request eval
["GET /api/calls", "DELETE /api/calls/c-1", "GET /api/calls/c-1/hangup",
 "POST /api/calls/c-1/explode", "POST /api/calls/c-1/hangup/now",
 "GET /api/callsfoo", "POST /api/calls/c%2A1/hangup"]
--- error_code eval
[405, 405, 405, 404, 404, 404, 400]
--- response_headers eval
["Allow: POST", "Allow: GET, HEAD", "Allow: POST", "", "", "", ""]
--- response_body eval
['{"error":"method not allowed"}', '{"error":"method not allowed"}',
 '{"error":"method not allowed"}',
 '{"error":"unknown action: hangup, terminate, transfer, recording, dtmf or dtmf-recognition"}',
 '{"error":"no such resource"}', '{"error":"no such resource"}',
 '{"error":"invalid call id"}']
--- no_error_log
[error]



=== TEST 10: an outbound call to a phone number: the signed CreateCall, 201, the call hash and CALL_STARTED
--- init
main::fresh(nextCallConnectionId => 'out-call-1');
main::del_call('out-call-1');
--- request
POST /api/calls
{"target":"+15551234567","agent":"fnol","source":"+15550001111","display_name":"Claims desk"}
--- error_code: 201
--- response_headers
Content-Type: application/json
--- response_body chomp
{"call_id":"out-call-1","agent":"fnol","target":"+15551234567"}
--- check
my $all = acs_requests('/calling/callConnections');
is(scalar @$all, 1, 'one request reached ACS');
my $q = $all->[0];
is($q->{method}, 'POST', 'POST');
is($q->{path}, "/calling/callConnections?$main::API", 'path and api-version');
ok($q->{signature_ok}, 'the HMAC signature verifies')
    or diag $q->{signature_error};
is($q->{status}, 201, 'the mock created it');
like($q->{headers}{'repeatability-request-id'},
     qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
     'Repeatability-Request-ID');
my $body = $q->{json};
is(scalar @{ $body->{targets} }, 1, 'one target');
is_deeply($body->{targets}[0]{phoneNumber}, { value => '+15551234567' },
          'a phoneNumber target');
is_deeply($body->{sourceCallerIdNumber}, { value => '+15550001111' },
          'sourceCallerIdNumber');
is($body->{sourceDisplayName}, 'Claims desk', 'sourceDisplayName');
my $port = $ENV{TEST_NGINX_SERVER_PORT};
like($body->{callbackUri},
     qr{^http://127\.0\.0\.1:$port/api/acs/events\?call=([0-9a-f]{32})&token=[^&]+$},
     'callbackUri with call= and token=');
my ($ref) = $body->{callbackUri} =~ /call=([0-9a-f]{32})/;
is($body->{operationContext}, $ref, 'operationContext is the reference');
my $m = $body->{mediaStreamingOptions};
is($m->{transportUrl}, "ws://127.0.0.1:$port/ws/acs/media?agent=fnol",
   'transportUrl names the agent');
is($m->{transportType}, 'websocket', 'transportType');
is($m->{audioFormat}, 'pcm16KMono', 'audioFormat');
is($m->{contentType}, 'audio', 'contentType');
is($m->{audioChannelType}, 'mixed', 'audioChannelType');
ok($m->{startMediaStreaming}, 'startMediaStreaming');
ok($m->{enableBidirectional}, 'enableBidirectional');

ok(wait_field('out-call-1', 'created'), 'the call hash is written');
my $h = hash_of('out-call-1');
my ($props) = grep { $_->{callConnectionId} eq 'out-call-1' }
              @{ acs_get('/_mock/calls') };
is($h->{call_id}, 'out-call-1', 'call_id');
is($h->{direction}, 'outbound', 'direction');
is($h->{peer}, '4:+15551234567', 'peer as a rawId');
is($h->{agent}, 'fnol', 'agent');
is($h->{acs_state}, 'connecting', 'acs_state');
is($h->{ref}, $ref, 'ref');
is($h->{server_call_id}, $props->{serverCallId}, 'server_call_id');
like($h->{created}, qr/^\d{13}$/, 'created in ms');
my $ttl = redis($R, 'PTTL', 'rtagent:call:{out-call-1}');
ok($ttl > 23 * 3600 * 1000 && $ttl <= 24 * 3600 * 1000, "24 h TTL ($ttl)");

my @ev = wait_event('out-call-1', 'CALL_STARTED');
is(scalar @ev, 1, 'CALL_STARTED once');
is_deeply($ev[0]{json}, { direction => 'outbound', agent => 'fnol',
                          peer => '4:+15551234567' }, 'CALL_STARTED data');
--- error_log eval
qr/rtagent acs: outbound call to "\+15551234567" created, agent "fnol", ref [0-9a-f]{32}, call:out-call-1/
--- no_error_log
[error]



=== TEST 11: an outbound call to an ACS user: the default agent, no caller id, the peer as given
--- init
main::fresh(nextCallConnectionId => 'out-call-2');
main::del_call('out-call-2');
--- request
POST /api/calls
{"target":"8:acs:11111111-2222-3333-4444-555555555555_0000aaaa-bbbb"}
--- error_code: 201
--- response_body chomp
{"call_id":"out-call-2","agent":"auth","target":"8:acs:11111111-2222-3333-4444-555555555555_0000aaaa-bbbb"}
--- check
my $q = last_acs('POST /calling/callConnections');
ok($q->{signature_ok}, 'signed');
is_deeply($q->{json}{targets}[0]{communicationUser},
          { id => '8:acs:11111111-2222-3333-4444-555555555555_0000aaaa-bbbb' },
          'a communicationUser target');
ok(!exists $q->{json}{sourceCallerIdNumber}, 'no sourceCallerIdNumber');
like($q->{json}{mediaStreamingOptions}{transportUrl}, qr/\?agent=auth$/,
     'the default agent');
ok(wait_field('out-call-2', 'peer'), 'hash written');
is(hash_of('out-call-2')->{peer},
   '8:acs:11111111-2222-3333-4444-555555555555_0000aaaa-bbbb', 'peer');
is(hash_of('out-call-2')->{agent}, 'auth', 'agent');
--- no_error_log
[error]



=== TEST 12: rtagent_acs_source_number and rtagent_acs_agent default fill in what the request leaves out
--- http_config
    rtagent_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    rtagent_acs_connection_string "$TEST_NGINX_ACS_CONNECTION_STRING";
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_ACS_CA;
    rtagent_acs_callback_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api/acs/events;
    rtagent_acs_media_url ws://127.0.0.1:$TEST_NGINX_SERVER_PORT/ws/acs/media;
    rtagent_acs_api_key test-api-key-0123456789abcdefghi;
    rtagent_acs_source_number +15550009999;
    rtagent_acs_agent default claims;
    rtagent_acs_audio_format pcm24KMono;
--- init
main::fresh(nextCallConnectionId => 'out-call-3');
--- request
POST /api/calls
{"target":"4:+15551234567"}
--- error_code: 201
--- response_body chomp
{"call_id":"out-call-3","agent":"claims","target":"4:+15551234567"}
--- check
my $q = last_acs('POST /calling/callConnections');
is_deeply($q->{json}{sourceCallerIdNumber}, { value => '+15550009999' },
          'the configured caller id');
is($q->{json}{mediaStreamingOptions}{audioFormat}, 'pcm24KMono',
   'the configured audio format');
ok(wait_field('out-call-3', 'peer', '4:+15551234567'), 'peer kept as given');
--- no_error_log
[error]



=== TEST 13: ACS refuses the call: 502 with its code and message, no call hash
--- init
main::fresh();
main::acs_fail(match => 'POST /calling/callConnections?', status => 400,
         body => { error => { code => 'InvalidSourceCallerId',
                              message => 'The caller id is not owned' } });
--- request
POST /api/calls
{"target":"+15551234567","agent":"fnol","source":"+15550001111"}
--- error_code: 502
--- response_body chomp
{"error":{"status":400,"code":"InvalidSourceCallerId","message":"The caller id is not owned"}}
--- check
is(scalar @{ acs_requests('/calling/callConnections') }, 1,
   'a 400 is not retried');
--- error_log eval
qr/\[error\] .*rtagent acs: POST \/calling\/callConnections: 400 InvalidSourceCallerId: The caller id is not owned, call:[0-9a-f]{32}/



=== TEST 14: ACS does not answer: 504
--- http_config
    rtagent_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    rtagent_acs_connection_string "endpoint=https://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;accesskey=$TEST_NGINX_ACS_ACCESS_KEY";
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_ACS_CA;
    rtagent_upstream_retries 0;
    rtagent_acs_callback_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api/acs/events;
    rtagent_acs_media_url ws://127.0.0.1:$TEST_NGINX_SERVER_PORT/ws/acs/media;
    rtagent_acs_api_key test-api-key-0123456789abcdefghi;
--- request
POST /api/calls
{"target":"+15551234567","agent":"fnol","source":"+15550001111"}
--- error_code: 504
--- check
is($Res->{error}{status}, 0, 'status 0: no response');
ok(length $Res->{error}{message}, "a message: $Res->{error}{message}");
--- error_log eval
qr/rtagent acs: POST \/calling\/callConnections: no response/



=== TEST 15: GET a call: its state from the hash
--- init
main::known_call('state-call-1', state => 'active', media_state => 'streaming',
           ref => undef, server_call_id => undef);
--- request
GET /api/calls/state-call-1
--- error_code: 200
--- check
is_deeply($Res, { call_id => 'state-call-1', direction => 'inbound',
                  peer => '4:+15551230001', agent => 'fnol',
                  acs_state => 'connected', state => 'active',
                  media_state => 'streaming' }, 'the call state');
--- no_error_log
[error]



=== TEST 16: hangup: DELETE on the call connection, 200, hangup_by operator
--- init
main::known_call('act-call-1');
--- request
POST /api/calls/act-call-1/hangup
--- error_code: 200
--- response_body chomp
{"call_id":"act-call-1","action":"hangup","status":204}
--- check
my $all = acs_requests('act-call-1');
is(scalar @$all, 1, 'one request');
is($all->[0]{method}, 'DELETE', 'DELETE');
is($all->[0]{path}, "/calling/callConnections/act-call-1?$main::API", 'path');
is($all->[0]{body}, '', 'no body');
ok($all->[0]{signature_ok}, 'signed');
ok(wait_field('act-call-1', 'hangup_by', 'operator'), 'hangup_by operator');
--- error_log
operator action "hangup", call:act-call-1
--- no_error_log
[error]



=== TEST 17: terminate: POST :terminate without a body
--- init
main::known_call('act-call-2');
--- request
POST /api/calls/act-call-2/terminate
--- error_code: 200
--- response_body chomp
{"call_id":"act-call-2","action":"terminate","status":204}
--- check
my $q = last_acs('act-call-2');
is($q->{method}, 'POST', 'POST');
is($q->{path}, "/calling/callConnections/act-call-2:terminate?$main::API",
   'path');
is($q->{body}, '', 'no body');
ok($q->{signature_ok}, 'signed');
ok($q->{headers}{'repeatability-request-id'}, 'repeatable');
ok(wait_field('act-call-2', 'hangup_by', 'operator'), 'hangup_by operator');
--- no_error_log
[error]



=== TEST 18: transfer: :transferToParticipant to the target, transfer requested
--- init
main::known_call('act-call-3');
--- request
POST /api/calls/act-call-3/transfer
{"target":"+15559876543"}
--- error_code: 200
--- response_body chomp
{"call_id":"act-call-3","action":"transfer","status":202}
--- check
my $q = last_acs('act-call-3');
is($q->{method}, 'POST', 'POST');
is($q->{path},
   "/calling/callConnections/act-call-3:transferToParticipant?$main::API",
   'path');
is_deeply($q->{json}{targetParticipant}{phoneNumber},
          { value => '+15559876543' }, 'targetParticipant');
ok($q->{signature_ok}, 'signed');
ok(wait_field('act-call-3', 'transfer_target', '+15559876543'),
   'transfer_target');
is(hash_of('act-call-3')->{transfer}, 'requested', 'transfer requested');
--- no_error_log
[error]



=== TEST 19: transfer needs a valid target: 400, nothing sent
--- init
main::known_call('act-call-4');
--- request eval
["POST /api/calls/act-call-4/transfer\n{\"target\":\"nobody\"}",
 "POST /api/calls/act-call-4/transfer\n{}",
 "POST /api/calls/act-call-4/transfer\nnope"]
--- error_code eval
[400, 400, 400]
--- response_body eval
['{"error":"target must be a phone number (+E.164) or an ACS identifier (8:..., 28:...)"}',
 '{"error":"target must be a phone number (+E.164) or an ACS identifier (8:..., 28:...)"}',
 '{"error":"the body is not a JSON object"}']
--- check
is(scalar @{ acs_requests('act-call-4') }, 0, "nothing sent ($Idx)");
--- no_error_log
[error]



=== TEST 20: recording: POST /calling/recordings with the call's serverCallId, recording_id stored, RECORDING_STARTED once
--- init
$main::Props = main::known_call('act-call-5');
--- request
POST /api/calls/act-call-5/recording
--- error_code: 200
--- check
my $q = last_acs('POST /calling/recordings');
is($q->{path}, "/calling/recordings?$main::API", 'path');
ok($q->{signature_ok}, 'signed');
is_deeply($q->{json}{callLocator},
          { kind => 'serverCallLocator',
            serverCallId => $main::Props->{serverCallId} },
          'callLocator names the serverCallId from the hash');
my $port = $ENV{TEST_NGINX_SERVER_PORT};
like($q->{json}{recordingStateCallbackUri},
     qr{^http://127\.0\.0\.1:$port/api/acs/events\?call=0123456789abcdef0123456789abcdef&token=},
     'recordingStateCallbackUri is the call\'s callback');
is($Res->{call_id}, 'act-call-5', 'call_id');
is($Res->{action}, 'recording', 'action');
is($Res->{status}, 200, 'status');
ok(length $Res->{recording_id}, "recording_id $Res->{recording_id}");
ok(wait_field('act-call-5', 'recording_id', $Res->{recording_id}),
   'recording_id in the hash');
is(hash_of('act-call-5')->{recording_state}, 'active', 'recording_state');
my @ev = wait_event('act-call-5', 'RECORDING_STARTED');
is(scalar @ev, 1, 'RECORDING_STARTED');
is_deeply($ev[0]{json}, { recording_id => $Res->{recording_id} },
          'its data');
ok(redis($R, 'HGET', 'rtagent:call:{act-call-5}',
         "ev:recording:$Res->{recording_id}"), 'its once guard');
--- no_error_log
[error]



=== TEST 21: dtmf: :sendDtmfTones to the call's peer
--- init
main::known_call('act-call-6');
--- request
POST /api/calls/act-call-6/dtmf
{"tones":"12#*a"}
--- error_code: 200
--- response_body chomp
{"call_id":"act-call-6","action":"dtmf","status":202}
--- check
my $q = last_acs('act-call-6');
is($q->{path}, "/calling/callConnections/act-call-6:sendDtmfTones?$main::API",
   'path');
is_deeply($q->{json}{tones}, [qw(one two pound asterisk a)], 'tones');
is_deeply($q->{json}{targetParticipant}{phoneNumber},
          { value => '+15551230001' }, 'targetParticipant is the peer');
ok($q->{signature_ok}, 'signed');
--- no_error_log
[error]



=== TEST 22: dtmf needs 1-64 valid tones: 400
--- init
main::known_call('act-call-7');
--- request eval
["POST /api/calls/act-call-7/dtmf\n{\"tones\":\"12x\"}",
 "POST /api/calls/act-call-7/dtmf\n{\"tones\":\"\"}",
 "POST /api/calls/act-call-7/dtmf\n{\"tones\":7}"]
--- error_code eval
[400, 400, 400]
--- response_body eval
['{"error":"tones must be 1-64 of 0-9, A-D, # and *"}',
 '{"error":"tones must be 1-64 of 0-9, A-D, # and *"}',
 '{"error":"tones must be 1-64 of 0-9, A-D, # and *"}']
--- check
is(scalar @{ acs_requests('act-call-7') }, 0, "nothing sent ($Idx)");
--- no_error_log
[error]



=== TEST 23: dtmf-recognition: :startContinuousDtmfRecognition for the peer
--- init
main::known_call('act-call-8', peer => '8:acs:peer-user-1');
--- request
POST /api/calls/act-call-8/dtmf-recognition
--- error_code: 200
--- response_body chomp
{"call_id":"act-call-8","action":"dtmf-recognition","status":200}
--- check
my $q = last_acs('act-call-8');
is($q->{path},
   "/calling/callConnections/act-call-8:startContinuousDtmfRecognition?$main::API",
   'path');
is_deeply($q->{json}{targetParticipant}{communicationUser},
          { id => '8:acs:peer-user-1' }, 'targetParticipant is the peer');
--- no_error_log
[error]



=== TEST 24: an action on a call that is not in Redis: 404 unknown_call, ACS is not asked
--- init
main::fresh(knownCalls => ['ghost-call']);
main::del_call('ghost-call');
--- request eval
["POST /api/calls/ghost-call/hangup", "POST /api/calls/ghost-call/recording",
 "GET /api/calls/ghost-call"]
--- error_code eval
[404, 404, 404]
--- response_body eval
['{"error":{"code":"unknown_call","message":"the call is not known"}}',
 '{"error":{"code":"unknown_call","message":"the call is not known"}}',
 '{"error":"unknown call"}']
--- check
is(scalar @{ acs_requests('ghost-call') }, 0, "ACS not asked ($Idx)");
is(scalar events_of('ghost-call'), 0, "no events ($Idx)");
--- no_error_log
[error]



=== TEST 25: ACS refuses an action: 502 with its code and message, ERROR_OCCURRED, transfer failed
--- init
main::known_call('act-call-9');
main::acs_fail(match => 'act-call-9:transferToParticipant', status => 400,
         body => { error => { code => 'InvalidTarget',
                              message => 'The target is not valid' } });
--- request
POST /api/calls/act-call-9/transfer
{"target":"+15559876543"}
--- error_code: 502
--- response_body chomp
{"error":{"status":400,"code":"InvalidTarget","message":"The target is not valid"}}
--- check
my @ev = wait_event('act-call-9', 'ERROR_OCCURRED');
is(scalar @ev, 1, 'ERROR_OCCURRED');
is_deeply($ev[0]{json}, { error => 'transfer failed', status => 400,
                          code => 'InvalidTarget',
                          message => 'The target is not valid' },
          'its data');
ok(wait_field('act-call-9', 'transfer', 'failed'), 'transfer failed');
--- error_log eval
qr/\[error\] .*rtagent acs: POST \/calling\/callConnections\/act-call-9:transferToParticipant: 400 InvalidTarget: The target is not valid, call:act-call-9/



=== TEST 26: a call ACS does not know (its 404): 502 with ACS's code
--- init
main::known_call('act-call-10');
main::acs_reset();
main::acs_config(autoMedia => JSON::PP::false);
--- request
POST /api/calls/act-call-10/hangup
--- error_code: 502
--- response_body chomp
{"error":{"status":404,"code":"8522","message":"Call not found"}}
--- check
my @ev = wait_event('act-call-10', 'ERROR_OCCURRED');
is($ev[0]{json}{error}, 'hangup failed', 'ERROR_OCCURRED hangup failed');
--- error_log
Call not found, call:act-call-10



=== TEST 27: a 500 from ACS is retried (the same repeatability id), then the action succeeds
--- init
main::known_call('act-call-11');
main::acs_fail(match => 'act-call-11:terminate', status => 500, times => 1,
         headers => { 'retry-after-ms' => '50' });
--- request
POST /api/calls/act-call-11/terminate
--- error_code: 200
--- response_body chomp
{"call_id":"act-call-11","action":"terminate","status":204}
--- check
my $all = acs_requests('act-call-11:terminate');
is(scalar @$all, 2, 'two attempts reached the mock');
is($all->[0]{status}, 500, 'the first got 500');
ok($all->[0]{injected}, 'injected');
is($all->[1]{status}, 204, 'the second succeeded');
ok($all->[1]{signature_ok}, 'the retry is signed too');
is($all->[1]{headers}{'repeatability-request-id'},
   $all->[0]{headers}{'repeatability-request-id'},
   'the same Repeatability-Request-ID');
is(scalar events_of('act-call-11', 'ERROR_OCCURRED'), 0, 'no error event');
--- no_error_log
[error]



=== TEST 28: the whole flow: create, look at it, record it, hang up
--- init
main::fresh(nextCallConnectionId => 'flow-call-1');
main::del_call('flow-call-1');
--- request eval
["POST /api/calls\n{\"target\":\"+15551234567\",\"source\":\"+15550001111\",\"agent\":\"fnol\"}",
 "GET /api/calls/flow-call-1",
 "POST /api/calls/flow-call-1/recording",
 "POST /api/calls/flow-call-1/dtmf\n{\"tones\":\"9\"}",
 "POST /api/calls/flow-call-1/hangup",
 "GET /api/calls/flow-call-1"]
--- error_code eval
[201, 200, 200, 200, 200, 200]
--- check
if ($Idx == 0) {
    ok(wait_field('flow-call-1', 'server_call_id'), 'stored');
}
if ($Idx == 1) {
    is($Res->{direction}, 'outbound', 'GET: direction');
    is($Res->{acs_state}, 'connecting', 'GET: acs_state');
}
if ($Idx == 2) {
    my ($props) = grep { $_->{callConnectionId} eq 'flow-call-1' }
                  @{ acs_get('/_mock/calls') };
    is(last_acs('POST /calling/recordings')->{json}{callLocator}{serverCallId},
       $props->{serverCallId}, 'recording: the serverCallId ACS gave');
    ok(wait_field('flow-call-1', 'recording_id'), 'recording_id');
}
if ($Idx == 3) {
    is(last_acs('flow-call-1:sendDtmfTones')
           ->{json}{targetParticipant}{phoneNumber}{value},
       '+15551234567', 'dtmf goes to the called number');
}
if ($Idx == 4) {
    ok(wait_field('flow-call-1', 'hangup_by', 'operator'), 'hangup_by');
}
if ($Idx == 5) {
    is($Res->{hangup_by}, 'operator', 'GET: hangup_by');
    ok(length $Res->{recording_id}, 'GET: recording_id');
    is($Res->{agent}, 'fnol', 'GET: agent');
}
--- no_error_log
[error]



=== TEST 29: without rtagent_redis: recording cannot be started (it needs the serverCallId from the hash)
--- http_config
    rtagent_acs_connection_string "$TEST_NGINX_ACS_CONNECTION_STRING";
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_ACS_CA;
    rtagent_acs_callback_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api/acs/events;
    rtagent_acs_media_url ws://127.0.0.1:$TEST_NGINX_SERVER_PORT/ws/acs/media;
    rtagent_acs_api_key test-api-key-0123456789abcdefghi;
--- init
main::fresh(knownCalls => ['plain-call-1']);
--- request
POST /api/calls/plain-call-1/recording
--- error_code: 503
--- response_body chomp
{"error":{"code":"redis_required","message":"this action needs rtagent_redis"}}
--- check
is(scalar @{ acs_requests('plain-call-1') }, 0, 'nothing sent');
--- error_log
"recording" needs rtagent_redis (the call's serverCallId and peer are kept there), call:plain-call-1



=== TEST 30: without rtagent_redis: hangup goes ahead, dtmf cannot, GET says why
--- http_config
    rtagent_acs_connection_string "$TEST_NGINX_ACS_CONNECTION_STRING";
    rtagent_upstream_ssl_trusted_certificate $TEST_NGINX_ACS_CA;
    rtagent_acs_callback_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api/acs/events;
    rtagent_acs_media_url ws://127.0.0.1:$TEST_NGINX_SERVER_PORT/ws/acs/media;
    rtagent_acs_api_key test-api-key-0123456789abcdefghi;
--- init
main::fresh(knownCalls => ['plain-call-2']);
--- request eval
["POST /api/calls/plain-call-2/dtmf\n{\"tones\":\"1\"}",
 "GET /api/calls/plain-call-2",
 "POST /api/calls/plain-call-2/hangup"]
--- error_code eval
[503, 503, 200]
--- response_body eval
['{"error":{"code":"redis_required","message":"this action needs rtagent_redis"}}',
 '{"error":"call state needs rtagent_redis"}',
 '{"call_id":"plain-call-2","action":"hangup","status":204}']
--- check
if ($Idx == 2) {
    my $all = acs_requests('plain-call-2');
    is(scalar @$all, 1, 'only the hangup was sent');
    is($all->[0]{method}, 'DELETE', 'DELETE');
}
--- no_error_log
[alert]



=== TEST 31: bodies that yajl alone would take (a comment, "\u0000" in a string, deep nesting): 400 with the reason, nothing sent
--- init
main::fresh();
--- request eval
["POST /api/calls\n{\"target\":\"8:acs:x\" /* a comment */}",
 "POST /api/calls\n{\"target\":\"8:acs:x\",\"display_name\":\"a\\u0000b\"}",
 "POST /api/calls\n{\"target\":\"8:acs:x\",\"x\":" . ('[' x 20) . (']' x 20) . "}",
 "POST /api/calls/act-call-x/dtmf\n{\"tones\":\"1\\u00002\"}"]
--- error_code eval
[400, 400, 400, 400]
--- response_body eval
['{"error":"the body is not a JSON object: comment"}',
 '{"error":"the body is not a JSON object: \\\\u0000 in a string"}',
 '{"error":"the body is not a JSON object: nested too deeply"}',
 '{"error":"the body is not a JSON object: \\\\u0000 in a string"}']
--- check
is(scalar @{ acs_requests() }, 0, "nothing reached ACS (request $Idx)");
--- no_error_log
[error]



=== TEST 32: Bearer: any case, spaces after the scheme; a credential of more than one token is a wrong key
--- more_headers eval
["Authorization: BEARER   $main::KEY", "Authorization: Bearer $main::KEY x",
 "Authorization: Bearer"]
--- request eval
["GET /api/calls/never-made-call", "GET /api/calls/never-made-call",
 "GET /api/calls/never-made-call"]
--- error_code eval
[404, 401, 401]
--- response_body eval
['{"error":"unknown call"}', '{"error":"invalid API key"}',
 '{"error":"invalid API key"}']
--- no_error_log
[error]



=== TEST 33: two Authorization lines: nginx itself refuses the request (400)
--- more_headers eval
"Authorization: Bearer $main::KEY\nAuthorization: Bearer $main::KEY"
--- request
GET /api/calls/never-made-call
--- error_code: 400
--- error_log
client sent duplicate header line



=== TEST 34: a CreateCall whose reply is lost: the retry, with the same Repeatability-Request-ID, gets the call ACS made, once
--- init
main::fresh(nextCallConnectionId => ['lost-call-1', 'lost-call-2']);
main::del_call('lost-call-1');
main::acs_fail(match => 'POST /calling/callConnections?', lose => JSON::PP::true);
--- request
POST /api/calls
{"target":"+15551234567","agent":"fnol","source":"+15550001111"}
--- error_code: 201
--- response_body chomp
{"call_id":"lost-call-1","agent":"fnol","target":"+15551234567"}
--- check
my $all = acs_requests('POST /calling/callConnections?');
is(scalar @$all, 2, 'sent twice');
ok($all->[0]{lost}, 'the first reply was lost');
ok($all->[1]{repeated}, 'the retry got the stored reply');
is($all->[1]{headers}{'repeatability-request-id'},
   $all->[0]{headers}{'repeatability-request-id'},
   'with the same Repeatability-Request-ID');
is($all->[1]{headers}{'repeatability-first-sent'},
   $all->[0]{headers}{'repeatability-first-sent'},
   'and Repeatability-First-Sent');
is(scalar(grep { $_->{callConnectionId} =~ /^lost-call-/ }
           @{ acs_get('/_mock/calls') }), 1, 'ACS made one call');
ok(wait_field('lost-call-1', 'created'), 'the call hash is written');
--- no_error_log
[error]
