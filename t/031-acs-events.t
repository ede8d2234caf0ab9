# The ACS control plane's events endpoint (rtagent_acs_events) against the
# mock ACS of t/mock/acs_mock.mjs, which checks the HMAC signature of every
# REST request the way ACS does and records it, streams media like ACS and
# posts signed callbacks: the Event Grid and CloudEvents handshakes, the
# IncomingCall answer (its body and signature), entry-agent routing, dedupe
# of redelivered events, every callback type's effect on the call's Redis
# state, answer failures, and bad input.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers", "$FindBin::Bin/mock";
use RtagentNginx;
use RtagentRedis;
use AcsMock;

use JSON::PP;
use LWP::UserAgent;
use HTTP::Request;
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();

acs_start_or_skip(have_redis());

my $r = start_redis();
my $port = free_port();
my $base = "http://127.0.0.1:$port";

my $n = start_nginx(port => $port, workers => 2, listen => 'reuseport',
                    http => <<"HTTP",
rtagent_redis 127.0.0.1:$r->{port};
rtagent_upstream_ssl_trusted_certificate $ENV{TEST_NGINX_ACS_CA};
rtagent_upstream_timeout 5s;
rtagent_acs_connection_string "$ENV{TEST_NGINX_ACS_CONNECTION_STRING}";
rtagent_acs_callback_url $base/api/acs/events;
rtagent_acs_media_url ws://127.0.0.1:$port/ws/acs/media;
rtagent_acs_agent +18005550100 fnol;
rtagent_acs_agent 8:acs:support-line support;
rtagent_acs_agent default auth;
rtagent_acs_eventgrid_key eg-key-0123456789abcdef;
HTTP
                    server => <<'SERVER');
location = /api/acs/events {
    client_max_body_size 64k;
    rtagent_acs_events;
}
location = /ws/acs/media { rtagent_acs_media; }
SERVER

ok(redis_up($n), 'both workers connected to Redis');

my $ua = LWP::UserAgent->new(timeout => 10);
# the Event Grid subscription's endpoint carries its key
my $events = "$base/api/acs/events?key=eg-key-0123456789abcdef";

sub http {
    my ($method, $url, $body, @h) = @_;
    my $req = HTTP::Request->new($method, $url, [@h], $body);
    return $ua->request($req);
}

sub hash_of {
    my ($id) = @_;
    return { @{ redis($r, 'HGETALL', "rtagent:call:{$id}") // [] } };
}

sub events_of {
    my ($id, $type) = @_;
    my @ev;
    for my $e (@{ redis($r, 'XRANGE', 'rtagent:events', '-', '+') }) {
        my %f = @{ $e->[1] };
        push @ev, decode_json($f{data})
            if $f{call_id} eq $id && (!$type || $f{type} eq $type);
    }
    return @ev;
}

sub answers { acs_requests('POST /calling/callConnections:answer') }

# the callback URI nginx gave ACS for a call, with its token
sub callback_uri {
    my ($id) = @_;
    my ($call) = grep { $_->{callConnectionId} eq $id }
                 @{ acs_get('/_mock/calls') };
    return $call && $call->{callbackUri};
}

# --- handshakes -------------------------------------------------------------

subtest 'Event Grid subscription validation' => sub {
    my $v = acs_validation(url => $events, validationCode => 'code-1234-abcd');
    is($v->{status}, 200, '200');
    is_deeply(decode_json($v->{body}), { validationResponse => 'code-1234-abcd' },
              'the validationResponse is the validationCode');

    my $res = http('POST', $events, encode_json([{
        id => 'v2', eventType => 'Microsoft.EventGrid.SubscriptionValidationEvent',
        data => {} }]), 'aeg-event-type' => 'SubscriptionValidation');
    is($res->code, 400, 'no validationCode: 400');
};

subtest 'CloudEvents OPTIONS handshake' => sub {
    my $res = http('OPTIONS', $events, '',
                   'WebHook-Request-Origin' => 'eventgrid.azure.net');
    is($res->code, 200, '200');
    is($res->header('WebHook-Allowed-Origin'), 'eventgrid.azure.net',
       'the origin is granted');
    is($res->header('WebHook-Allowed-Rate'), '*', 'any rate');
    like($res->header('Allow'), qr/POST/, 'Allow names POST');

    $res = http('OPTIONS', $events, '');
    is($res->code, 200, 'a plain OPTIONS: 200');
    ok(!defined $res->header('WebHook-Allowed-Origin'), 'nothing granted');
};

subtest 'Event Grid deliveries need the subscription key' => sub {
    for my $url ("$base/api/acs/events", "$base/api/acs/events?key=eg-key-0123456789abcdeX",
                 "$base/api/acs/events?key=eg-key") {
        my $v = acs_validation(url => $url, validationCode => 'code-x');
        is($v->{status}, 403, "$url: 403");
        my $in = acs_incoming(url => $url, to => '+18005550100');
        is($in->{status}, 403, "$url: IncomingCall 403");
    }
    like(error_log($n), qr/Event Grid delivery without the subscription's key refused/,
         'logged');
    is(scalar @{ answers() }, 0, 'nothing answered');
};

# --- IncomingCall -----------------------------------------------------------

my ($inbound, $ev);

subtest 'IncomingCall is answered with media streaming' => sub {
    acs_config(nextCallConnectionId => 'in-call-1', autoMedia => JSON::PP::false);
    my $t0 = time;
    my $in = acs_incoming(url => $events, to => '+18005550100',
                          from => '+14255550123', callerDisplayName => 'Pat',
                          id => 'evt-in-1');
    is($in->{status}, 200, 'Event Grid gets 200');
    $ev = $in->{event};

    ok(acs_wait(sub { @{ answers() } == 1 }), 'ACS got one answer request');
    my ($a) = @{ answers() };

    ok($a->{signature_ok}, 'its HMAC signature verifies')
        or diag $a->{signature_error};
    is($a->{path}, '/calling/callConnections:answer?api-version=2025-05-15',
       'path and api-version');
    like($a->{headers}{'x-ms-date'}, qr/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/,
         'x-ms-date');
    like($a->{headers}{authorization},
         qr/^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=\S{44}$/,
         'Authorization');
    like($a->{headers}{'repeatability-request-id'},
         qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
         'a Repeatability-Request-ID');

    my $b = $a->{json};
    is($b->{incomingCallContext}, $ev->{data}{incomingCallContext},
       'incomingCallContext passed through');
    like($b->{callbackUri}, qr{^\Q$base/api/acs/events\E\?call=[0-9a-f]{32}&token=[A-Za-z0-9_-]{43}$},
         'callbackUri with the call reference and its token');
    my $m = $b->{mediaStreamingOptions};
    is($m->{transportType}, 'websocket', 'websocket transport');
    is($m->{transportUrl}, "ws://127.0.0.1:$port/ws/acs/media?agent=fnol",
       'the media URL names the routed entry agent');
    is($m->{audioChannelType}, 'mixed', 'mixed audio');
    is($m->{contentType}, 'audio', 'audio');
    ok($m->{startMediaStreaming} && $m->{enableBidirectional},
       'streaming at once, bidirectional');
    is($m->{audioFormat}, 'pcm16KMono', 'pcm16KMono');

    ok(acs_wait(sub { hash_of('in-call-1')->{acs_state} }), 'the call is in Redis');
    my $h = hash_of('in-call-1');
    is($h->{direction}, 'inbound', 'inbound');
    is($h->{agent}, 'fnol', 'entry agent by the called number');
    is($h->{peer}, '4:+14255550123', 'the caller');
    is($h->{callee}, '4:+18005550100', 'the called number');
    is($h->{caller_display_name}, 'Pat', 'the display name');
    is($h->{correlation_id}, $ev->{data}{correlationId}, 'the correlation id');
    ok(redis($r, 'PTTL', 'rtagent:call:{in-call-1}') > 86000000, '24 h TTL');

    ok(acs_wait(sub { events_of('in-call-1', 'PARTICIPANT_JOINED') }),
       'PARTICIPANT_JOINED');
    my ($s) = events_of('in-call-1', 'CALL_STARTED');
    is($s->{agent}, 'fnol', 'CALL_STARTED names the agent');
    is($s->{from}, '4:+14255550123', 'and the caller');
    is((events_of('in-call-1', 'PARTICIPANT_JOINED'))[0]{participant},
       '4:+14255550123', 'the caller joined');
    $inbound = 'in-call-1';
};

subtest 'a redelivered IncomingCall is not answered again' => sub {
    my $in = acs_incoming(url => $events, id => 'evt-in-1', to => '+18005550100',
                          from => '+14255550123');
    is($in->{status}, 200, 'the repeat gets 200');
    sleep 0.5;
    is(scalar @{ answers() }, 1, 'still one answer');
    ok(acs_wait(sub { error_log($n) =~ /event evt-in-1 \(Microsoft.Communication.IncomingCall\) delivered again, ignored/ }),
       'logged as a repeat');
};

subtest 'default agent, ACS-user callee, CloudEvents schema' => sub {
    acs_config(nextCallConnectionId => ['in-call-2', 'in-call-3']);
    my $in = acs_incoming(url => $events, schema => 'cloudevents',
                          to => '8:acs:support-line', from => '8:acs:someone');
    is($in->{status}, 200, 'a single CloudEvents object: 200');
    $in = acs_incoming(url => $events, to => '+12065550000', from => '+14255550999');
    is($in->{status}, 200, 'another number');
    ok(acs_wait(sub { hash_of('in-call-3')->{agent} && hash_of('in-call-2')->{agent} }),
       'both answered');
    is(hash_of('in-call-2')->{agent}, 'support', 'routed by the ACS user id');
    is(hash_of('in-call-3')->{agent}, 'auth', 'the default agent');
};

# --- callbacks --------------------------------------------------------------

sub callback {
    my (%a) = @_;
    my $res = acs_callback(callConnectionId => $inbound, %a);
    return $res;
}

sub settle {
    my ($type) = @_;
    return acs_wait(sub { (hash_of($inbound)->{last_event} // '') eq $type });
}

subtest 'each callback type updates the call' => sub {
    my @cases = (
        [ CallConnected => {}, acs_state => 'connected' ],
        [ ParticipantsUpdated => { sequenceNumber => 3, participants => [
              { identifier => { rawId => '4:+14255550123', kind => 'phoneNumber',
                                phoneNumber => { value => '+14255550123' } },
                isMuted => JSON::PP::false },
              { identifier => { rawId => '28:acs:bot', kind => 'microsoftTeamsApp',
                                microsoftTeamsApp => { appId => 'acs:bot' } },
                isMuted => JSON::PP::false } ] },
          participants => '["4:+14255550123","28:acs:bot"]' ],
        [ MediaStreamingStarted => { mediaStreamingUpdate => {
              contentType => 'Audio', mediaStreamingStatus => 'mediaStreamingStarted',
              mediaStreamingStatusDetails => 'subscriptionStarted' } },
          media_state => 'mediaStreamingStarted' ],
        [ MediaStreamingStopped => { mediaStreamingUpdate => {
              contentType => 'Audio', mediaStreamingStatus => 'mediaStreamingStopped',
              mediaStreamingStatusDetails => 'subscriptionStopped' } },
          media_details => 'subscriptionStopped' ],
        [ PlayStarted => {}, play_state => 'started' ],
        [ PlayCompleted => {}, play_state => 'completed' ],
        [ PlayCanceled => {}, play_state => 'canceled' ],
        [ RecognizeCompleted => { recognitionType => 'dtmf',
              dtmfResult => { tones => ['one', 'two', 'pound'] } },
          recognized_tones => 'one,two,pound' ],
        [ RecognizeCanceled => {}, recognize_state => 'canceled' ],
        [ ContinuousDtmfRecognitionToneReceived => { tone => 'five', sequenceId => 7 },
          last_tone => 'five' ],
        [ ContinuousDtmfRecognitionStopped => {}, dtmf_recognition => 'stopped' ],
        [ SendDtmfTonesCompleted => {}, dtmf_send => 'completed' ],
        [ AddParticipantSucceeded => { participant => { rawId => '4:+15550001111' } },
          last_participant => '4:+15550001111' ],
        [ RemoveParticipantSucceeded => { participant => { rawId => '4:+15550001111' } },
          last_participant_op => 'RemoveParticipantSucceeded' ],
        [ CancelAddParticipantSucceeded => { invitationId => 'inv-1' },
          last_participant_op => 'CancelAddParticipantSucceeded' ],
        [ CallTransferAccepted => { transferTarget => { rawId => '4:+15557654321' } },
          transfer_target => '4:+15557654321' ],
        [ TranscriptionStarted => { transcriptionUpdate => {
              transcriptionStatus => 'transcriptionStarted' } },
          transcription_state => 'transcriptionStarted' ],
        [ RecordingStateChanged => { recordingId => 'rec-1', state => 'inactive',
                                     recordingKind => 'AzureCommunicationServices' },
          recording_state => 'inactive' ],
    );

    for my $c (@cases) {
        my ($type, $data, $field, $want) = @$c;
        my $res = callback(events => [{ type => $type, data => $data }]);
        is($res->{status}, 200, "$type: 200");
        ok(settle($type), "$type: applied");
        is(hash_of($inbound)->{$field}, $want, "$type: $field");
    }

    is(scalar(grep { $_->{participant} eq '28:acs:bot' }
              events_of($inbound, 'PARTICIPANT_JOINED')), 1,
       'ParticipantsUpdated: a new participant joined');
    is(scalar events_of($inbound, 'PARTICIPANT_JOINED'), 2,
       'the caller did not join twice');
    is(hash_of($inbound)->{transfer}, 'accepted', 'the transfer was accepted');
};

subtest 'failure callbacks write ERROR_OCCURRED' => sub {
    my @failed = (
        [ MediaStreamingFailed => { mediaStreamingUpdate => {
              mediaStreamingStatus => 'mediaStreamingFailed',
              mediaStreamingStatusDetails => 'initialWebSocketConnectionFailed' } },
          'media streaming failed' ],
        [ PlayFailed => { failedPlaySourceIndex => 0 }, 'play failed' ],
        [ RecognizeFailed => {}, 'recognize failed' ],
        [ ContinuousDtmfRecognitionToneFailed => {}, 'dtmf recognition failed' ],
        [ SendDtmfTonesFailed => {}, 'send dtmf tones failed' ],
        [ CallTransferFailed => {}, 'transfer failed' ],
        [ AddParticipantFailed => {}, 'add participant failed' ],
        [ RemoveParticipantFailed => {}, 'remove participant failed' ],
        [ CancelAddParticipantFailed => {}, 'cancel add participant failed' ],
        [ StartRecordingFailed => {}, 'start recording failed' ],
        [ HoldFailed => {}, 'hold failed' ],
        [ TranscriptionFailed => { transcriptionUpdate => {
              transcriptionStatus => 'transcriptionFailed' } }, 'transcription failed' ],
    );

    for my $c (@failed) {
        my ($type, $data, $error) = @$c;
        $data->{resultInformation} = { code => 400, subCode => 8536,
                                       message => "$type for the test" };
        is(callback(events => [{ type => $type, data => $data }])->{status}, 200,
           "$type: 200");
        ok(acs_wait(sub { grep { $_->{error} eq $error }
                               events_of($inbound, 'ERROR_OCCURRED') }),
           "$type: ERROR_OCCURRED \"$error\"");
        my ($e) = grep { $_->{error} eq $error } events_of($inbound, 'ERROR_OCCURRED');
        is($e->{code}, '400', "$type: the result code");
        is($e->{sub_code}, '8536', "$type: the sub-code");
        is($e->{message}, "$type for the test", "$type: the message");
    }
    is(hash_of($inbound)->{transfer}, 'failed', 'CallTransferFailed: transfer failed');
    is(hash_of($inbound)->{media_details}, 'initialWebSocketConnectionFailed',
       'MediaStreamingFailed: its details');
};

subtest 'RecordingStateChanged active: RECORDING_STARTED once' => sub {
    for my $i (1, 2) {
        callback(events => [{ type => 'RecordingStateChanged', data => {
            recordingId => 'rec-2', state => 'active',
            recordingKind => 'AzureCommunicationServices',
            startDateTime => '2026-11-25T20:00:00Z' } }]);
    }
    ok(acs_wait(sub { events_of($inbound, 'RECORDING_STARTED') }), 'RECORDING_STARTED');
    sleep 0.3;
    my @rs = events_of($inbound, 'RECORDING_STARTED');
    is(scalar @rs, 1, 'once for two deliveries of the same state');
    is($rs[0]{recording_id}, 'rec-2', 'the recording id');
    is(hash_of($inbound)->{recording_id}, 'rec-2', 'in the hash');
};

subtest 'a redelivered callback is applied once' => sub {
    my $res = callback(events => [{ type => 'PlayStarted', id => 'cb-dup-1' }]);
    is($res->{status}, 200, 'first delivery');
    ok(settle('PlayStarted'), 'applied');
    callback(events => [{ type => 'PlayCompleted', id => 'cb-dup-2' }]);
    ok(settle('PlayCompleted'), 'a later event');
    $res = callback(events => [{ type => 'PlayStarted', id => 'cb-dup-1' }]);
    is($res->{status}, 200, 'the repeat: 200');
    ok(acs_wait(sub { error_log($n) =~ /event cb-dup-1 \(PlayStarted\) delivered again/ }),
       'logged as a repeat');
    is(hash_of($inbound)->{play_state}, 'completed', 'the repeat changed nothing');
    ok(redis($r, 'PTTL', 'rtagent:event:{cb-dup-1}') > 24 * 3600 * 1000,
       'event ids are remembered for more than 24 h');
};

subtest 'a batch of callbacks' => sub {
    my $res = callback(events => [
        { type => 'PlayCanceled' }, { type => 'SendDtmfTonesCompleted' },
        { type => 'Microsoft.Custom.NotOurs' } ]);
    is($res->{status}, 200, '200');
    ok(settle('SendDtmfTonesCompleted'), 'the events applied in order');
    is(hash_of($inbound)->{play_state}, 'canceled', 'the first one too');
};

subtest 'CallDisconnected without a media session: CALL_ENDED here' => sub {
    callback(events => [{ type => 'CallTransferAccepted', data => {
        transferTarget => { rawId => '4:+15557654321' } } }]);
    ok(acs_wait(sub { hash_of($inbound)->{transfer} eq 'accepted' }),
       'a transfer was accepted');
    my $res = callback(events => [{ type => 'CallDisconnected', data => {
        resultInformation => { code => 200, subCode => 7000,
            message => 'The conversation has ended. DiagCode: 0#7000.@' } } }]);
    is($res->{status}, 200, '200');
    ok(acs_wait(sub { events_of($inbound, 'CALL_ENDED') }), 'CALL_ENDED');
    my ($e) = events_of($inbound, 'CALL_ENDED');
    is($e->{outcome}, 'transferred', 'the accepted transfer is the outcome');
    like($e->{reason}, qr/conversation has ended/, 'the reason');
    ok(defined $e->{duration_ms} && $e->{duration_ms} >= 0, 'a duration');
    my $h = hash_of($inbound);
    is($h->{acs_state}, 'disconnected', 'acs_state disconnected');
    is($h->{state}, 'ended', 'state ended');

    callback(events => [{ type => 'CallDisconnected' }]);
    sleep 0.3;
    is(scalar events_of($inbound, 'CALL_ENDED'), 1, 'CALL_ENDED once');
};

subtest 'AnswerFailed and CreateCallFailed end their calls' => sub {
    for my $c ([ 'in-call-2', 'AnswerFailed', 'answer_failed' ],
               [ 'in-call-3', 'CreateCallFailed', 'create_failed' ]) {
        my ($id, $type, $outcome) = @$c;
        my $res = acs_callback(callConnectionId => $id, events => [{
            type => $type, data => { resultInformation => {
                code => 500, subCode => 8500, message => 'failed for the test' } } }]);
        is($res->{status}, 200, "$type: 200");
        ok(acs_wait(sub { events_of($id, 'CALL_ENDED') }), "$type: CALL_ENDED");
        is((events_of($id, 'CALL_ENDED'))[0]{outcome}, $outcome, "$type: $outcome");
        ok((grep { $_->{event} eq $type } events_of($id, 'ERROR_OCCURRED')),
           "$type: ERROR_OCCURRED");
        is(hash_of($id)->{acs_state}, 'failed', "$type: acs_state failed");
    }
};

# --- answer failures --------------------------------------------------------

subtest 'an answer ACS refuses: logged, ERROR_OCCURRED, nothing stored' => sub {
    acs_fail(match => 'callConnections:answer', status => 400,
             body => { error => { code => 'BadRequest',
                                  message => 'Incoming call context is invalid' } });
    acs_config(nextCallConnectionId => 'never-1');
    my $in = acs_incoming(url => $events, to => '+18005550100',
                          correlationId => 'corr-fail-1');
    is($in->{status}, 200, 'Event Grid still gets 200');
    ok(acs_wait(sub { events_of('corr-fail-1', 'ERROR_OCCURRED') }),
       'ERROR_OCCURRED under the correlation id');
    my ($e) = events_of('corr-fail-1', 'ERROR_OCCURRED');
    is($e->{error}, 'answer failed', 'answer failed');
    is($e->{status}, '400', 'the status');
    is($e->{code}, 'BadRequest', 'ACS\'s error code');
    is($e->{message}, 'Incoming call context is invalid', 'and message');
    like(error_log($n),
         qr/rtagent acs: POST \/calling\/callConnections:answer: 400 BadRequest: Incoming call context is invalid, call:corr-fail-1/,
         'the log line names the call and ACS\'s error');
    is(scalar keys %{ hash_of('corr-fail-1') }, 0, 'no call hash');
    is(scalar keys %{ hash_of('never-1') }, 0, 'nothing under a call id');
};

subtest 'a 500 from ACS is retried' => sub {
    my $before = @{ answers() };
    acs_fail(match => 'callConnections:answer', status => 500, times => 1);
    acs_config(nextCallConnectionId => 'in-call-retry');
    acs_incoming(url => $events, to => '+18005550100');
    ok(acs_wait(sub { hash_of('in-call-retry')->{acs_state} }, 10),
       'answered after the retry');
    is(@{ answers() } - $before, 2, 'two answer requests');
};

# --- bad input --------------------------------------------------------------

subtest 'bad input' => sub {
    my $res = http('POST', $events, '[{"id":"x", "eventType":', 'content-type' => 'application/json');
    is($res->code, 400, 'malformed JSON: 400');
    like($res->content, qr/"error":"malformed JSON/, 'says why');

    $res = http('POST', $events, '42');
    is($res->code, 400, 'a number: 400');

    $res = http('POST', $events, '[{"eventType":"Microsoft.Communication.IncomingCall"}]');
    is($res->code, 400, 'an event without an id: 400');

    $res = http('POST', $events, '');
    is($res->code, 400, 'no body: 400');

    $res = http('POST', $events, '[' . ('{"id":"a","eventType":"x"},' x 3000) . '{"id":"b","eventType":"x"}]');
    is($res->code, 413, 'a body over client_max_body_size: 413');

    $res = http('GET', $events);
    is($res->code, 405, 'GET: 405');

    $res = http('POST', $events, encode_json([{ id => 'u1',
        eventType => 'Microsoft.Storage.BlobCreated', data => {} }]));
    is($res->code, 200, 'an unknown event type: 200');

    $res = http('POST', $events, encode_json([{ id => 'c1',
        type => 'Microsoft.Communication.CallConnected',
        data => { callConnectionId => 'in-call-2' } }]));
    is($res->code, 200, 'a call event without a callback token (an Event Grid '
                      . 'subscription to more ACS events): 200');
    ok(acs_wait(sub { error_log($n) =~ /event "Microsoft.Communication.CallConnected" \(c1\) ignored: call events count only from a call's callback URI/ }),
       'and ignored');
    is(hash_of('in-call-2')->{acs_state}, 'failed', 'the call is unchanged');

    my $uri = callback_uri('in-call-2');
    (my $wrong = $uri) =~ s/token=.{4}/token=AAAA/;
    $res = http('POST', $wrong, encode_json([{ id => 'c2',
        type => 'Microsoft.Communication.CallConnected',
        data => { callConnectionId => 'in-call-2' } }]));
    is($res->code, 403, 'a wrong token: 403');

    (my $other = $uri) =~ s/call=[0-9a-f]+/call=00000000000000000000000000000000/;
    $res = http('POST', $other, encode_json([{ id => 'c3',
        type => 'Microsoft.Communication.CallConnected',
        data => { callConnectionId => 'in-call-2' } }]));
    is($res->code, 403, 'another call\'s reference: 403');

    $res = acs_callback(callConnectionId => 'in-call-2',
                        events => [{ type => 'SomethingNew' }]);
    is($res->{status}, 200, 'an unknown callback type: 200');

    $res = acs_callback(callConnectionId => 'in-call-2',
                        raw => '[{"id":"z","type":"Microsoft.Communication.CallConnected","data":{"callConnectionId":"bad id!"}}]');
    is($res->{status}, 200, 'an invalid call id: 200, ignored');
    ok(acs_wait(sub { error_log($n) =~ /without a valid callConnectionId ignored/ }),
       'and logged');

    $res = acs_incoming(url => $events, incomingCallContext => '');
    is($res->{status}, 200, 'IncomingCall without a context: 200');
    ok(acs_wait(sub { error_log($n) =~ /without an incomingCallContext ignored/ }),
       'ignored with a log line');
};

subtest 'Redis down: the call is answered at once, its state follows' => sub {
    stop_redis($r);
    my $before = @{ answers() };
    acs_config(nextCallConnectionId => 'in-call-outage');
    my $t0 = time;
    my $in = acs_incoming(url => $events, to => '+18005550100',
                          id => 'evt-outage-1');
    is($in->{status}, 200, 'Event Grid gets 200 while Redis is down');
    ok(acs_wait(sub { @{ answers() } > $before }, 5),
       'the answer went without the dedupe check');
    ok(time - $t0 < 3, 'within the dedupe wait, not after Redis is back');
    ok(acs_wait(sub { error_log($n) =~ /Redis did not check event evt-outage-1/ }),
       'logged');

    restart_redis($r);
    ok(acs_wait(sub { hash_of('in-call-outage')->{acs_state} }, 10),
       'the call\'s state reached Redis once it was back');
    ok(acs_wait(sub { events_of('in-call-outage', 'CALL_STARTED') }, 5),
       'and CALL_STARTED');
    ok(redis($r, 'EXISTS', 'rtagent:event:{evt-outage-1}'),
       'the event id was recorded: a redelivery is a repeat');

    acs_incoming(url => $events, to => '+18005550100', id => 'evt-outage-1');
    ok(acs_wait(sub { error_log($n) =~ /event evt-outage-1 \S+ delivered again, ignored/ }),
       'the redelivery is ignored');
    is(@{ answers() } - $before, 1, 'answered once');
};

unlike(error_log($n), qr/\[(alert|crit|emerg)\]|signal \d+/, 'no crash, no alert');

stop_nginx($n);
done_testing();
