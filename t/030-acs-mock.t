# The ACS mock itself (t/mock/acs_mock.mjs through t/mock/AcsMock.pm), no
# nginx: it must accept what ACS accepts and refuse what ACS refuses, or the
# gateway tests that use it prove nothing.  Requests are signed here in Perl
# (PROTOCOLS 2.1); callbacks, Event Grid deliveries and the media WebSocket
# are received by small listeners forked by this script.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/mock";

use AcsMock;
use Digest::SHA qw(sha1_base64);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use List::Util qw(max);
use MIME::Base64 qw(decode_base64);
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(sleep time);

if (!start_acs_mock()) {
    if ($ENV{CI}) {
        plan tests => 1;
        fail("the ACS mock must run in CI: $AcsMock::Why");
        exit;
    }
    plan skip_all => $AcsMock::Why;
}

my $J = JSON::PP->new->utf8->canonical;
my $Tmp = tempdir(CLEANUP => 1);
my $API = 'api-version=2025-05-15';

sub signed {
    my ($method, $path, $body, %o) = @_;
    my ($status, $content) = acs_signed_request($method, $path, $body, %o);
    my $json = eval { $J->decode($content) } if length($content // '');
    return ($status, $json, $content);
}

sub last_record {
    my ($match) = @_;
    my $all = acs_requests($match);
    return $all->[-1];
}

my $answer_body = {
    incomingCallContext => 'ctx-1',
    callbackUri => 'https://gw.example/acs/cb/1?token=abc',
};

# ------------------------------------------------------------------ env

subtest 'environment' => sub {
    like($ENV{TEST_NGINX_ACS_PORT}, qr/^\d+$/, 'TEST_NGINX_ACS_PORT');
    like($ENV{TEST_NGINX_ACS_PLAIN_PORT}, qr/^\d+$/, 'TEST_NGINX_ACS_PLAIN_PORT');
    ok(-s $ENV{TEST_NGINX_ACS_CA}, 'CA file');
    like($ENV{TEST_NGINX_ACS_ACCESS_KEY}, qr{^[A-Za-z0-9+/]{43}=$},
         'access key: base64 of 32 bytes');
    is($ENV{TEST_NGINX_ACS_CONNECTION_STRING},
       "endpoint=https://127.0.0.1:$ENV{TEST_NGINX_ACS_PORT}/;accesskey="
       . $ENV{TEST_NGINX_ACS_ACCESS_KEY}, 'connection string');
    like($ENV{TEST_NGINX_ACS_RESOURCE_ID},
         qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
         'resource id');
    ok(-s $ENV{TEST_NGINX_ACS_JWKS}, 'JWKS file');
};

# ------------------------------------------------------------------ signing

subtest 'correctly signed requests succeed' => sub {
    acs_reset();
    my ($s, $j) = signed(POST => "/calling/callConnections:answer?$API",
                         $answer_body);
    is($s, 200, 'answer 200');
    like($j->{callConnectionId}, qr/^[0-9a-f-]{36}$/, 'callConnectionId');
    ok($j->{serverCallId}, 'serverCallId');
    is($j->{callbackUri}, $answer_body->{callbackUri}, 'callbackUri echoed');
    is($j->{callConnectionState}, 'connecting', 'state connecting');
    is($j->{mediaStreamingSubscription}{state}, 'disabled',
       'no media options: subscription disabled');

    my $r = last_record('callConnections:answer');
    ok($r->{signature_ok}, 'recorded signature_ok');
    is($r->{status}, 200, 'recorded status');
    is($r->{method}, 'POST', 'recorded method');
    is($r->{path}, "/calling/callConnections:answer?$API", 'recorded path');
    is($r->{json}{incomingCallContext}, 'ctx-1', 'recorded json');
    ok($r->{headers}{'x-ms-date'}, 'recorded lower-case headers');

    ($s, $j) = signed(POST => "/calling/callConnections:answer?$API",
                      $answer_body, tls => 1);
    is($s, 200, 'over HTTPS, verified with TEST_NGINX_ACS_CA');

    # the SDK variant: the ACS host signed and sent as x-ms-host
    my $host = 'rtagent.communication.azure.com';
    ($s) = signed(POST => "/calling/callConnections:answer?$API",
                  $answer_body, sign => { host => $host },
                  headers => { 'x-ms-host' => $host });
    is($s, 200, 'x-ms-host signed');

    ($s, $j) = signed(POST => "/calling/callConnections?$API", {
        targets => [{ phoneNumber => { value => '+15550001111' } }],
        sourceCallerIdNumber => { value => '+15550002222' },
        callbackUri => 'https://gw.example/cb',
    });
    is($s, 201, 'CreateCall 201');
    is($j->{callConnectionState}, 'connecting', 'CreateCall properties');
    is($j->{targets}[0]{rawId}, '4:+15550001111', 'target rawId');
};

subtest 'wrongly signed requests fail and are recorded' => sub {
    acs_reset();
    my $path = "/calling/callConnections:answer?$API";
    my $body = $J->encode($answer_body);
    my @cases = (
        ['wrong key', 401, qr/signature mismatch/,
         sign => { key => 'd3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXkgISE=' }],
        ['wrong host signed', 401, qr/signature mismatch/,
         sign => { host => 'other.example' }],
        ['body hash of another body', 401, qr/x-ms-content-sha256/,
         headers => { 'x-ms-content-sha256' =>
                          '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' }],
        ['stale date', 401, qr/15 minutes/,
         sign => { date => strftime('%a, %d %b %Y %H:%M:%S GMT',
                                    gmtime(time - 20 * 60)) }],
        ['not RFC 1123', 401, qr/RFC 1123/,
         sign => { date => '2024-01-15T10:30:45Z' }],
        ['no x-ms-date', 401, qr/x-ms-date header missing/,
         headers => { 'x-ms-date' => undef }],
        ['no Authorization', 401, qr/Authorization header missing/,
         headers => { authorization => undef }],
        ['Bearer instead of HMAC', 401, qr/Authorization is not/,
         headers => { authorization => 'Bearer x' }],
    );
    for my $c (@cases) {
        my ($name, $want, $why, %o) = @$c;
        if ($o{headers}) {
            # undef: drop a header the signing made
            my %h = %{ $o{headers} };
            $o{headers} = { map { defined $h{$_} ? ($_ => $h{$_}) : () }
                            keys %h };
            if (grep { !defined $h{$_} } keys %h) {
                my $signed = AcsMock::acs_sign('POST', $path, $body, host =>
                    "127.0.0.1:$ENV{TEST_NGINX_ACS_PLAIN_PORT}");
                delete $signed->{$_} for grep { !defined $h{$_} } keys %h;
                %o = (unsigned => 1, headers => $signed);
            }
        }
        my ($s, $j) = signed(POST => $path, $body, %o);
        is($s, $want, "$name: $want");
        is($j->{error}{code}, 'Unauthorized', "$name: error code");
        my $r = last_record('callConnections:answer');
        ok(!$r->{signature_ok}, "$name: recorded signature_ok false");
        like($r->{signature_error} // '', $why, "$name: signature_error");
        is($r->{status}, $want, "$name: recorded status");
    }

    # signed with an api-version, sent without
    my ($s, $j) = signed(POST => '/calling/callConnections:answer', $body);
    is($s, 400, 'no api-version: 400');
    like($j->{error}{message}, qr/api-version/, 'no api-version: message');
    my $r = last_record('callConnections:answer');
    ok(!$r->{signature_ok}, 'no api-version: recorded signature_ok false');
    like($r->{signature_error}, qr/api-version/, 'no api-version: error');

    # the body changed after signing
    my $h = AcsMock::acs_sign('POST', $path, $body, host =>
                              "127.0.0.1:$ENV{TEST_NGINX_ACS_PLAIN_PORT}");
    ($s) = signed(POST => $path, $J->encode({ %$answer_body, x => 1 }),
                  unsigned => 1, headers => $h);
    is($s, 401, 'body changed after signing: 401');

    is(scalar @{ acs_requests() }, scalar(@cases) + 2, 'all recorded');
    is(scalar @{ acs_requests('nothing-like-this') }, 0, 'match filters');
};

# ------------------------------------------------------------------ routes

subtest 'body validation' => sub {
    acs_reset();
    my $p = "/calling/callConnections:answer?$API";
    my ($s, $j) = signed(POST => $p, { callbackUri => 'https://x/cb' });
    is($s, 400, 'answer without incomingCallContext');
    like($j->{error}{message}, qr/incomingCallContext/, 'says so');
    ($s) = signed(POST => $p, { incomingCallContext => 'c' });
    is($s, 400, 'answer without callbackUri');
    ($s) = signed(POST => $p, '{not json');
    is($s, 400, 'answer with a body that is not JSON');
    ($s) = signed(POST => $p, { %$answer_body, mediaStreamingOptions => {
        transportUrl => 'wss://x/m', audioChannelType => 'mixed' } });
    is($s, 400, 'mediaStreamingOptions without transportType');
    ($s) = signed(POST => $p, { %$answer_body, mediaStreamingOptions => {
        transportType => 'websocket', audioChannelType => 'mixed',
        transportUrl => 'wss://x/m', audioFormat => 'pcm8KMono' } });
    is($s, 400, 'unknown audioFormat');

    $p = "/calling/callConnections?$API";
    ($s) = signed(POST => $p, { callbackUri => 'https://x/cb' });
    is($s, 400, 'CreateCall without targets');
    ($s) = signed(POST => $p, { targets => [{ communicationUser =>
                                              { id => '8:acs:x' } }] });
    is($s, 400, 'CreateCall without callbackUri');
    ($s, $j) = signed(POST => $p, { callbackUri => 'https://x/cb',
        targets => [{ phoneNumber => { value => '+15550001111' } }] });
    is($s, 400, 'CreateCall to a phone without sourceCallerIdNumber');
    like($j->{error}{message}, qr/sourceCallerIdNumber/, 'says so');
    ($s) = signed(POST => $p, { callbackUri => 'https://x/cb',
        targets => [{ communicationUser => { id => '8:acs:x' } }] });
    is($s, 201, 'CreateCall to an ACS user needs no caller id');

    ($s) = signed(POST => "/calling/recordings?$API", { callLocator => {} });
    is($s, 400, 'recording without serverCallId');
    ($s, $j) = signed(POST => "/calling/recordings?$API",
                      { callLocator => { serverCallId => 'abc',
                                         kind => 'serverCallLocator' } });
    is($s, 200, 'recording 200');
    is($j->{recordingState}, 'active', 'recordingState');
    is($j->{recordingKind}, 'AzureCommunicationServices', 'recordingKind');
    ok($j->{recordingId}, 'recordingId');
};

subtest 'call operations' => sub {
    acs_reset();
    acs_config(nextCallConnectionId => 'call-fixed-1',
               knownCalls => ['known-1']);
    my ($s, $j) = signed(POST => "/calling/callConnections:answer?$API",
                         $answer_body);
    is($j->{callConnectionId}, 'call-fixed-1', 'nextCallConnectionId used');
    ($s, $j) = signed(POST => "/calling/callConnections:answer?$API",
                      $answer_body);
    isnt($j->{callConnectionId}, 'call-fixed-1', 'only once');

    my $c = '/calling/callConnections/call-fixed-1';
    ($s, $j) = signed(GET => "$c?$API");
    is($s, 200, 'GET call');
    is($j->{callConnectionId}, 'call-fixed-1', 'GET call properties');
    is($j->{callbackUri}, $answer_body->{callbackUri}, 'GET callbackUri');

    my $target = { targetParticipant => { phoneNumber =>
                                          { value => '+15550001111' } } };
    ($s, $j) = signed(POST => "$c:transferToParticipant?$API",
                      { %$target, operationContext => 'xfer-1' });
    is($s, 202, 'transfer 202');
    is($j->{operationContext}, 'xfer-1', 'transfer operationContext');
    ($s) = signed(POST => "$c:transferToParticipant?$API", {});
    is($s, 400, 'transfer without targetParticipant');
    ($s) = signed(POST => "$c:sendDtmfTones?$API",
                  { %$target, tones => ['one', 'pound'] });
    is($s, 202, 'sendDtmfTones 202');
    ($s) = signed(POST => "$c:startContinuousDtmfRecognition?$API", $target);
    is($s, 200, 'startContinuousDtmfRecognition 200');
    ($s) = signed(POST => "$c:stopContinuousDtmfRecognition?$API", $target);
    is($s, 200, 'stopContinuousDtmfRecognition 200');
    ($s) = signed(POST => "$c:play?$API", { playSources => [
        { kind => 'text', text => { text => 'hi', voiceName => 'x' } }] });
    is($s, 202, 'play 202');
    ($s) = signed(POST => "$c:startMediaStreaming?$API", {});
    is($s, 202, 'startMediaStreaming 202');
    ($s) = signed(POST => "$c:stopMediaStreaming?$API", {});
    is($s, 202, 'stopMediaStreaming 202');
    ($s) = signed(POST => "$c:terminate?$API", '');
    is($s, 204, 'terminate 204');
    ($s) = signed(DELETE => "$c?$API");
    is($s, 204, 'DELETE 204');
    ($s) = signed(DELETE => "/calling/callConnections/known-1?$API");
    is($s, 204, 'DELETE of a knownCalls id 204');

    ($s, $j) = signed(DELETE => "/calling/callConnections/nope?$API");
    is($s, 404, 'DELETE of an unknown call 404');
    is($j->{error}{code}, '8522', 'Call not found code');
    is($j->{error}{message}, 'Call not found', 'Call not found message');
    ($s) = signed(POST => "/calling/callConnections/nope:terminate?$API", '');
    is($s, 404, 'terminate of an unknown call 404');
    ($s) = signed(GET => "/calling/callConnections/nope?$API");
    is($s, 404, 'GET of an unknown call 404');

    my $r = last_record('DELETE /calling/callConnections/nope');
    ok($r->{signature_ok}, '404 recorded with signature_ok');
    is($r->{status}, 404, '404 recorded');
};

subtest 'repeatability headers' => sub {
    acs_reset();
    my $date = strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime);
    my %rh = ('repeatability-request-id' => '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
              'repeatability-first-sent' => $date);
    my ($s1, $j1) = signed(POST => "/calling/callConnections:answer?$API",
                           $answer_body, headers => \%rh);
    my ($s2, $j2) = signed(POST => "/calling/callConnections:answer?$API",
                           $answer_body, headers => \%rh);
    is($s1, 200, 'first 200');
    is($s2, 200, 'repeat 200');
    is($j2->{callConnectionId}, $j1->{callConnectionId},
       'a repeated request gets the same call');
    ok(last_record('answer')->{repeated}, 'recorded as repeated');
    my ($s) = signed(POST => "/calling/callConnections:answer?$API",
                     $answer_body, headers => {
                         'repeatability-request-id' => $rh{'repeatability-request-id'} });
    is($s, 400, 'Repeatability-Request-ID without Repeatability-First-Sent');
};

subtest 'a lost reply: carried out, stored, and a retry gets it' => sub {
    acs_reset();
    acs_config(autoMedia => JSON::PP::false,
               nextCallConnectionId => ['lost-1', 'lost-2']);
    acs_fail(match => 'POST /calling/callConnections?', lose => JSON::PP::true);
    my %rh = ('repeatability-request-id' => '6b2c7a1e-0d4f-4e8a-9c3b-5f1e2d3c4b5a',
              'repeatability-first-sent' => strftime('%a, %d %b %Y %H:%M:%S GMT',
                                                     gmtime));
    my $p = "/calling/callConnections?$API";
    my $body = { callbackUri => 'https://x/cb',
                 targets => [{ communicationUser => { id => '8:acs:x' } }] };
    my ($s1) = signed(POST => $p, $body, headers => \%rh);
    is($s1, 599, 'the first reply is lost: the connection closes');
    my ($s2, $j2) = signed(POST => $p, $body, headers => \%rh);
    is($s2, 201, 'the retry with the same Repeatability-Request-ID: 201');
    is($j2->{callConnectionId}, 'lost-1', 'naming the call the lost reply made');
    my $recs = acs_requests('POST /calling/callConnections?');
    is(scalar @$recs, 2, 'both attempts recorded');
    ok($recs->[0]{lost} && !$recs->[0]{replied}, 'the first as lost');
    ok($recs->[1]{repeated}, 'the second as repeated');
    is(scalar @{ acs_get('/_mock/calls') }, 1, 'one call made, not two');
    my ($s3, $j3) = signed(POST => $p, $body);
    is($s3, 201, 'without the header');
    is($j3->{callConnectionId}, 'lost-2', 'the same body makes a new call');
};

subtest 'failure injection' => sub {
    acs_reset();
    acs_fail(match => 'POST /calling/callConnections:answer', status => 503,
             times => 2, headers => { 'retry-after' => '1' });
    my $p = "/calling/callConnections:answer?$API";
    my ($s, $j) = signed(POST => "/calling/callConnections?$API", {
        callbackUri => 'https://x/cb',
        targets => [{ communicationUser => { id => '8:acs:x' } }] });
    is($s, 201, 'a request that does not match is not failed');
    my (@st, @ra);
    for (1 .. 3) {
        my ($st, undef, $h) = acs_signed_request(POST => $p, $answer_body);
        push @st, $st;
        push @ra, $h->{'retry-after'} // '-';
    }
    is("@st", '503 503 200', 'fails `times` times, then not');
    is("@ra", '1 1 -', 'with the headers asked for');

    # a wrongly signed request is refused, not failed, and does not count
    acs_fail(match => 'answer', status => 500);
    ($s) = signed(POST => $p, $answer_body, sign => { host => 'x' });
    is($s, 401, 'bad signature: 401 before injection');
    ($s, $j) = signed(POST => $p, $answer_body);
    is($s, 500, 'then the injected 500');
    is($j->{error}{code}, '500', 'default error body');
    ($s) = signed(POST => $p, $answer_body);
    is($s, 200, 'then 200');

    acs_fail(match => 'answer', status => 429, body => { custom => 1 });
    ($s, $j) = signed(POST => $p, $answer_body);
    is($s, 429, 'custom status');
    is($j->{custom}, 1, 'custom body');

    my $recs = acs_requests('answer');
    is(scalar @$recs, 7, 'every attempt recorded');
    is(join(' ', map { $_->{status} } @$recs), '503 503 200 401 500 200 429',
       'with its status');
    ok($recs->[0]{injected}, 'injected marked');
};

# ------------------------------------------------------------------ JWT

my $jwks;
subtest 'JWKS and tokens' => sub {
    acs_reset();
    $jwks = acs_get('/calling/keys');
    my $k = $jwks->{keys}[0];
    is($k->{kty}, 'RSA', 'kty');
    is($k->{use}, 'sig', 'use');
    is($k->{alg}, 'RS256', 'alg');
    ok($k->{kid}, 'kid');
    like($k->{n}, qr/^[A-Za-z0-9_-]{340,344}$/, 'n: 2048 bits base64url');
    is($k->{e}, 'AQAB', 'e');
    open my $fh, '<', $ENV{TEST_NGINX_ACS_JWKS} or die $!;
    my $file = $J->decode(do { local $/; <$fh> });
    is_deeply($file, $jwks, '--jwks-out file is the served JWKS');
    is(scalar @{ acs_requests() }, 0, 'GET /calling/keys is not recorded');

    my $t = acs_token();
    like($t, qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'compact JWT');
    my ($h, $c) = acs_jwt_decode($t);
    is($h->{alg}, 'RS256', 'header alg');
    is($h->{kid}, $k->{kid}, 'header kid');
    is($c->{iss}, 'https://acscallautomation.communication.azure.com', 'iss');
    is($c->{aud}, $ENV{TEST_NGINX_ACS_RESOURCE_ID}, 'aud = resource id');
    is($c->{exp} - $c->{iat}, 300, 'exp 300 s');
    ok(abs($c->{iat} - time) < 60, 'iat now');
    ok(acs_jwt_verify($t, $jwks), 'signature verifies with the JWKS');

    ok(!acs_jwt_verify(acs_token(tamper => 1), $jwks), 'tamper=1 does not');
    my $other = acs_token(aud => 'other', iss => 'https://evil', exp_in => -5,
                          nbf_in => 30, kid => 'k2');
    ($h, $c) = acs_jwt_decode($other);
    is($c->{aud}, 'other', 'aud=');
    is($c->{iss}, 'https://evil', 'iss=');
    is($c->{exp} - $c->{iat}, -5, 'exp_in=');
    is($c->{nbf} - $c->{iat}, 30, 'nbf_in=');
    is($h->{kid}, 'k2', 'kid=');
    ok(!acs_jwt_verify($other, $jwks), 'unknown kid does not verify');
    my $none = acs_token(alg => 'none');
    like($none, qr/\.$/, 'alg=none: no signature');
};

# ------------------------------------------------------------------ listeners

# one HTTP request received by a forked child, answered with $status/$body;
# returns ($port, $collect) where $collect->() waits and gives
# {method, path, headers, body}
sub http_listener {
    my ($status, $body) = @_;
    my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1) or die $!;
    my $file = "$Tmp/req-" . time . "-$$-" . int(rand 1e6);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        alarm 20;
        my $c = $l->accept or POSIX::_exit(1);
        binmode $c;
        my $head = '';
        while ($head !~ /\r\n\r\n/) {
            my $n = sysread($c, $head, 4096, length $head) or last;
        }
        my ($h, $rest) = split /\r\n\r\n/, $head, 2;
        my ($line, @lines) = split /\r\n/, $h;
        my %hdr = map { my ($k, $v) = split /:\s*/, $_, 2; (lc $k => $v) }
                  @lines;
        my $len = $hdr{'content-length'} // 0;
        $rest //= '';
        while (length $rest < $len) {
            sysread($c, $rest, $len - length $rest, length $rest) or last;
        }
        print $c "HTTP/1.1 $status X\r\nContent-Length: " . length($body)
            . "\r\nConnection: close\r\n\r\n$body";
        close $c;
        my ($m, $p) = split ' ', $line;
        open my $fh, '>', $file or POSIX::_exit(1);
        print $fh JSON::PP->new->encode({ method => $m, path => $p,
                                          headers => \%hdr, body => $rest });
        close $fh;
        POSIX::_exit(0);
    }
    my $port = $l->sockport;
    close $l;
    return ($port, sub {
        waitpid($pid, 0);
        open my $fh, '<', $file or return undef;
        return JSON::PP->new->decode(do { local $/; <$fh> });
    });
}

subtest 'callbacks: a JSON array of CloudEvents with a JWT' => sub {
    acs_reset();
    acs_config(nextCallConnectionId => 'cb-call-1');
    signed(POST => "/calling/callConnections:answer?$API", $answer_body);

    my ($port, $collect) = http_listener(200, 'ok');
    my $r = acs_callback(callConnectionId => 'cb-call-1',
                         url => "http://127.0.0.1:$port/acs/cb/1?token=abc",
                         events => [{ type => 'CallConnected' },
                                    { type => 'PlayCompleted', id => 'ev-2',
                                      data => { operationContext => 'op',
                                                resultInformation => {
                                                    code => 200, subCode => 0,
                                                    message => 'Action completed successfully.' } } }]);
    is($r->{status}, 200, 'nginx\'s (the listener\'s) status');
    is($r->{body}, 'ok', 'and body');
    my $got = $collect->();
    is($got->{method}, 'POST', 'POST');
    is($got->{path}, '/acs/cb/1?token=abc', 'to the url');
    like($got->{headers}{'content-type'}, qr{^application/json}, 'JSON');
    my ($bearer) = ($got->{headers}{authorization} // '') =~ /^Bearer (\S+)$/;
    ok($bearer, 'Authorization: Bearer');
    ok(acs_jwt_verify($bearer, $jwks), 'the JWT verifies');
    my (undef, $claims) = acs_jwt_decode($bearer);
    is($claims->{exp} - $claims->{iat}, 300, 'callback JWT lives 5 min');
    is($claims->{aud}, $ENV{TEST_NGINX_ACS_RESOURCE_ID}, 'callback JWT aud');

    my $evs = $J->decode($got->{body});
    is(ref $evs, 'ARRAY', 'a JSON array');
    is(scalar @$evs, 2, 'of the two events');
    my ($e1, $e2) = @$evs;
    like($e1->{id}, qr/^[0-9a-f-]{36}$/, 'id a uuid');
    is($e1->{type}, 'Microsoft.Communication.CallConnected', 'type');
    is($e1->{source}, 'calling/callConnections/cb-call-1', 'source');
    is($e1->{subject}, 'calling/callConnections/cb-call-1', 'subject');
    is($e1->{specversion}, '1.0', 'specversion');
    is($e1->{datacontenttype}, 'application/json', 'datacontenttype');
    like($e1->{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00$/, 'time');
    is($e1->{data}{callConnectionId}, 'cb-call-1', 'data.callConnectionId');
    is($e1->{data}{version}, '2025-05-15', 'data.version');
    is($e1->{data}{publicEventType}, $e1->{type}, 'data.publicEventType');
    is_deeply($e1->{data}{resultInformation},
              { code => 200, subCode => 0, message => '' }, 'resultInformation');
    my $call = acs_get('/_mock/calls')->[0];
    is($e1->{data}{serverCallId}, $call->{serverCallId}, 'the call\'s serverCallId');
    is($e1->{data}{correlationId}, $call->{correlationId}, 'and correlationId');
    is($e2->{id}, 'ev-2', 'given id');
    is($e2->{type}, 'Microsoft.Communication.PlayCompleted', 'second type');
    is($e2->{data}{operationContext}, 'op', 'data merged');
    is($e2->{data}{resultInformation}{message},
       'Action completed successfully.', 'data overrides');

    # the remembered callbackUri, no token
    acs_config(nextCallConnectionId => 'cb-call-2');
    ($port, $collect) = http_listener(401, 'no');
    signed(POST => "/calling/callConnections:answer?$API",
           { incomingCallContext => 'c',
             callbackUri => "http://127.0.0.1:$port/cb2" });
    $r = acs_callback(callConnectionId => 'cb-call-2', token => 'none',
                      events => [{ type => 'CallDisconnected' }]);
    is($r->{status}, 401, 'status passed back');
    $got = $collect->();
    is($got->{path}, '/cb2', 'default url: the call\'s callbackUri');
    ok(!exists $got->{headers}{authorization}, 'token none: no Authorization');

    for my $kind (qw(expired wrong-aud bad-signature)) {
        ($port, $collect) = http_listener(200, '');
        acs_callback(callConnectionId => 'cb-call-2', token => $kind,
                     url => "http://127.0.0.1:$port/x",
                     events => [{ type => 'CallConnected' }]);
        my ($t) = ($collect->()->{headers}{authorization} // '') =~ /^Bearer (\S+)/;
        my (undef, $c) = acs_jwt_decode($t);
        if ($kind eq 'expired') {
            ok($c->{exp} < time, 'expired: exp in the past');
            ok(acs_jwt_verify($t, $jwks), 'expired: signed fine');
        } elsif ($kind eq 'wrong-aud') {
            isnt($c->{aud}, $ENV{TEST_NGINX_ACS_RESOURCE_ID}, 'wrong-aud');
            ok(acs_jwt_verify($t, $jwks), 'wrong-aud: signed fine');
        } else {
            ok(!acs_jwt_verify($t, $jwks), 'bad-signature does not verify');
        }
    }

    ($port, $collect) = http_listener(200, '');
    acs_callback(callConnectionId => 'cb-call-2', token => 'lit.er.al',
                 raw => '{"not":"an array"}', contentType => 'text/plain',
                 url => "http://127.0.0.1:$port/x");
    $got = $collect->();
    is($got->{headers}{authorization}, 'Bearer lit.er.al', 'literal token');
    is($got->{body}, '{"not":"an array"}', 'raw body');
    is($got->{headers}{'content-type'}, 'text/plain', 'contentType');

    $r = acs_callback(callConnectionId => 'cb-call-2',
                      url => 'http://127.0.0.1:1/nothing');
    is($r->{status}, 0, 'nobody listening: status 0');
    ok($r->{error}, 'with an error');
};

subtest 'Event Grid IncomingCall' => sub {
    acs_reset();
    my ($port, $collect) = http_listener(200, '');
    my $r = acs_incoming(url => "http://127.0.0.1:$port/acs/incoming",
                         from => '+15551112222',
                         to => '8:acs:rid_0000-callee',
                         callerDisplayName => 'Alice', id => 'eg-1');
    is($r->{status}, 200, 'status');
    my $got = $collect->();
    is($got->{method}, 'POST', 'POST');
    is($got->{headers}{'aeg-event-type'}, 'Notification', 'aeg-event-type');
    like($got->{headers}{'content-type'}, qr{^application/json}, 'JSON');
    ok(!exists $got->{headers}{authorization}, 'no Authorization');
    my $evs = $J->decode($got->{body});
    is(ref $evs, 'ARRAY', 'an array');
    is(scalar @$evs, 1, 'of one event');
    my $e = $evs->[0];
    is($e->{id}, 'eg-1', 'id');
    is($e->{eventType}, 'Microsoft.Communication.IncomingCall', 'eventType');
    is($e->{dataVersion}, '1.0', 'dataVersion');
    is($e->{metadataVersion}, '1', 'metadataVersion');
    ok($e->{eventTime} && $e->{topic}, 'eventTime, topic');
    is($e->{subject}, '/caller/4:+15551112222/recipient/8:acs:rid_0000-callee',
       'subject');
    is_deeply($e->{data}{from}, { kind => 'phoneNumber', rawId => '4:+15551112222',
                                  phoneNumber => { value => '+15551112222' } },
              'from: phone model');
    is_deeply($e->{data}{to}, { kind => 'communicationUser',
                                rawId => '8:acs:rid_0000-callee',
                                communicationUser => { id => '8:acs:rid_0000-callee' } },
              'to: ACS user model');
    is($e->{data}{callerDisplayName}, 'Alice', 'callerDisplayName');
    ok(length $e->{data}{incomingCallContext} > 40, 'incomingCallContext');
    like($e->{data}{correlationId}, qr/^[0-9a-f-]{36}$/, 'correlationId');
    ok($e->{data}{serverCallId}, 'serverCallId');
    is_deeply($r->{event}, $e, 'reply has the event sent');

    # answering with that context: the mock knows the call
    my ($s, $j) = signed(POST => "/calling/callConnections:answer?$API",
        { incomingCallContext => $e->{data}{incomingCallContext},
          callbackUri => 'https://x/cb' });
    is($s, 200, 'answer with the context');
    is($j->{serverCallId}, $e->{data}{serverCallId}, 'same serverCallId');
    is($j->{correlationId}, $e->{data}{correlationId}, 'same correlationId');
    is($j->{targets}[0]{rawId}, '4:+15551112222', 'the caller is the target');

    my $ctx2;
    ($port, $collect) = http_listener(202, '');
    $r = acs_incoming(url => "http://127.0.0.1:$port/acs/incoming",
                      schema => 'cloudevents');
    is($r->{status}, 202, 'cloudevents status');
    $got = $collect->();
    like($got->{headers}{'content-type'}, qr{^application/cloudevents\+json},
         'cloudevents content-type');
    $e = $J->decode($got->{body});
    is(ref $e, 'HASH', 'cloudevents: a single object');
    is($e->{type}, 'Microsoft.Communication.IncomingCall', 'type');
    is($e->{specversion}, '1.0', 'specversion');
    ok($e->{data}{incomingCallContext}, 'data');

    ($port, $collect) = http_listener(200, '{"validationResponse":"x"}');
    $r = acs_validation(url => "http://127.0.0.1:$port/acs/incoming",
                        validationCode => 'code-1');
    $got = $collect->();
    is($got->{headers}{'aeg-event-type'}, 'SubscriptionValidation',
       'validation: aeg-event-type');
    is($J->decode($got->{body})->[0]{data}{validationCode}, 'code-1',
       'validation: code');
    is($r->{body}, '{"validationResponse":"x"}', 'validation: reply');
};

# ------------------------------------------------------------------ media

sub ws_read_frame {
    my ($c) = @_;
    my $rd = sub {
        my ($n) = @_;
        my $b = '';
        while (length $b < $n) {
            sysread($c, $b, $n - length $b, length $b) or return undef;
        }
        return $b;
    };
    my $h = $rd->(2) // return;
    my ($b0, $b1) = unpack 'CC', $h;
    my $len = $b1 & 0x7f;
    $len = unpack 'n', $rd->(2) if $len == 126;
    $len = unpack 'Q>', $rd->(8) if $len == 127;
    my $mask = ($b1 & 0x80) ? $rd->(4) : undef;
    my $p = $len ? $rd->($len) : '';
    return unless defined $p;
    if ($mask) {
        my $m = substr($mask x (int($len / 4) + 1), 0, $len);
        $p ^= $m;
    }
    return { op => $b0 & 0x0f, masked => $mask ? 1 : 0, payload => $p };
}

sub ws_frame {
    my ($op, $p) = @_;
    my $len = length $p;
    return pack('CC', 0x80 | $op, $len) . $p if $len < 126;
    return pack('CCn', 0x80 | $op, 126, $len) . $p;
}

# a one-connection WebSocket server in a forked child: answers the
# handshake, reads $n messages, sends "hello", then reads until a close
# frame and echoes it
sub ws_listener {
    my ($n) = @_;
    my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1) or die $!;
    my $file = "$Tmp/ws-" . time . "-" . int(rand 1e6);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        alarm 20;
        my %out;
        my $done = sub {
            open my $fh, '>', $file;
            print $fh JSON::PP->new->encode(\%out);
            close $fh;
            POSIX::_exit(0);
        };
        local $SIG{ALRM} = sub { $out{timeout} = 1; $done->() };
        my $c = $l->accept or POSIX::_exit(1);
        binmode $c;
        my $head = '';
        while ($head !~ /\r\n\r\n/) {
            sysread($c, $head, 1, length $head) or last;
        }
        my ($line, @lines) = split /\r\n/, $head;
        my %hdr = map { my ($k, $v) = split /:\s*/, $_, 2; (lc $k => $v) }
                  @lines;
        $out{request} = $line;
        $out{headers} = \%hdr;
        my $accept = sha1_base64(($hdr{'sec-websocket-key'} // '')
                                 . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11') . '=';
        print $c "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            . "Connection: Upgrade\r\nSec-WebSocket-Accept: $accept\r\n\r\n";
        my @msgs;
        while (@msgs < $n) {
            my $f = ws_read_frame($c) or last;
            push @msgs, $f->{payload} if $f->{op} == 1;
            $out{unmasked}++ unless $f->{masked};
            $out{stamps} //= [];
            push @{ $out{stamps} }, time;
        }
        $out{messages} = \@msgs;
        syswrite $c, ws_frame(1, 'hello');
        while (my $f = ws_read_frame($c)) {
            if ($f->{op} == 8) {
                my ($code, $reason) = unpack 'n a*', $f->{payload};
                $out{close} = { code => $code, reason => $reason };
                syswrite $c, ws_frame(8, $f->{payload});
                last;
            }
            $out{extra}++ if $f->{op} == 1;
        }
        close $c;
        $done->();
    }
    my $port = $l->sockport;
    close $l;
    return ($port, sub {
        waitpid($pid, 0);
        open my $fh, '<', $file or return undef;
        return JSON::PP->new->decode(do { local $/; <$fh> });
    });
}

subtest 'media WebSocket' => sub {
    acs_reset();
    acs_config(mediaFrames => 5, nextCallConnectionId => 'media-1');
    my ($port, $collect) = ws_listener(6);
    my ($s, $j) = signed(POST => "/calling/callConnections:answer?$API", {
        %$answer_body,
        mediaStreamingOptions => {
            transportType => 'websocket', audioChannelType => 'mixed',
            transportUrl => "ws://127.0.0.1:$port/acs/media/1?k=v",
            contentType => 'audio', startMediaStreaming => JSON::PP::true,
            enableBidirectional => JSON::PP::true, audioFormat => 'pcm24KMono',
        } });
    is($s, 200, 'answer with media');
    is($j->{mediaStreamingSubscription}{state}, 'inactive', 'subscription');
    is_deeply($j->{mediaStreamingSubscription}{subscribedContentTypes},
              ['audio'], 'subscribed audio');

    my $sess = acs_wait(sub {
        my $m = acs_media(callConnectionId => 'media-1')->[0];
        $m && grep({ $_ eq 'hello' } @{ $m->{messages} }) ? $m : undef;
    }, 10);
    ok($sess, 'the session got our message');
    my $ans = last_record('POST /calling/callConnections:answer');
    ok($ans->{replied} && $sess->{started}
       && substr($sess->{started}, 0, 23) gt substr($ans->{replied}, 0, 23),
       "the media WebSocket opens after the answer's reply was written"
       . " ($ans->{replied}, $sess->{started})");
    is($sess->{status}, 101, 'handshake status');
    ok($sess->{open}, 'open');
    is($sess->{framesSent}, 5, 'mediaFrames frames sent');
    is($sess->{url}, "ws://127.0.0.1:$port/acs/media/1?k=v", 'url');
    is($sess->{sampleRate}, 24000, 'sampleRate');
    my ($st401) = acs_get('/calling/callConnections/media-1?x=1');
    is($st401, 401, 'GET without signature: 401');
    my (undef, $props) = signed(GET => "/calling/callConnections/media-1?$API");
    is($props->{mediaStreamingSubscription}{state}, 'active',
       'subscription active while streaming');

    my $n = acs_media_close(callConnectionId => 'media-1', code => 4000,
                            reason => 'from acs');
    is($n->{closed}, 1, 'closed one session');
    my $got = $collect->();
    ok(!$got->{timeout}, 'the listener finished');
    is($got->{request}, 'GET /acs/media/1?k=v HTTP/1.1', 'request line');
    is($got->{headers}{'x-ms-call-connection-id'}, 'media-1',
       'x-ms-call-connection-id');
    like($got->{headers}{'x-ms-call-correlation-id'}, qr/^[0-9a-f-]{36}$/,
         'x-ms-call-correlation-id');
    my ($t) = ($got->{headers}{authorization} // '') =~ /^Bearer (\S+)$/;
    ok($t, 'Authorization: Bearer');
    ok(acs_jwt_verify($t, $jwks), 'its JWT verifies');
    my (undef, $c) = acs_jwt_decode($t);
    is($c->{exp} - $c->{iat}, 86400, 'WebSocket JWT lives 24 h');
    ok(!$got->{unmasked}, 'client frames masked');

    my @m = map { $J->decode($_) } @{ $got->{messages} };
    is(scalar @m, 6, 'metadata and 5 frames');
    is_deeply($m[0], { kind => 'AudioMetadata', audioMetadata => {
        subscriptionId => $j->{mediaStreamingSubscription}{id},
        encoding => 'PCM', sampleRate => 24000, channels => 1,
        length => 960 } }, 'AudioMetadata first');
    is($m[1]{kind}, 'AudioData', 'then AudioData');
    like($m[1]{audioData}{timestamp}, qr/^\d{4}-\d\d-\d\dT[\d:.]+Z$/, 'timestamp');
    is($m[1]{audioData}{data}, 'A' x 1280, '20 ms of 24 kHz silence');
    ok($m[1]{audioData}{silent}, 'silent');
    my @st = @{ $got->{stamps} };
    my $span = $st[-1] - $st[1];
    ok($span >= 0.06 && $span < 1, "paced every 20 ms (4 gaps: $span s)");
    ok(!$got->{extra}, 'nothing after mediaFrames');
    is_deeply($got->{close}, { code => 4000, reason => 'from acs' },
              'close frame from ACS');

    $sess = acs_wait(sub {
        my $m = acs_media(callConnectionId => 'media-1')->[0];
        $m->{closed} ? $m : undef;
    });
    ok($sess, 'session closed');
    is($sess->{closeCode}, 4000, 'close code recorded');
    is($sess->{closeReason}, 'from acs', 'close reason recorded');
    is($sess->{closedBy}, 'acs', 'closed by ACS');

    # nobody there: recorded as failed
    acs_config(nextCallConnectionId => 'media-2', mediaFrames => undef);
    signed(POST => "/calling/callConnections:answer?$API", {
        %$answer_body, mediaStreamingOptions => {
            transportType => 'websocket', audioChannelType => 'mixed',
            transportUrl => 'wss://127.0.0.1:1/m' } });
    $sess = acs_wait(sub {
        my $m = acs_media(callConnectionId => 'media-2')->[0];
        $m && $m->{closed} ? $m : undef;
    });
    ok($sess && $sess->{error}, 'connection refused recorded');
    ok(!$sess->{status}, 'no handshake status');

    # autoMedia off: no session
    acs_config(autoMedia => JSON::PP::false, nextCallConnectionId => 'media-3');
    signed(POST => "/calling/callConnections:answer?$API", {
        %$answer_body, mediaStreamingOptions => {
            transportType => 'websocket', audioChannelType => 'mixed',
            transportUrl => 'ws://127.0.0.1:1/m' } });
    sleep 0.2;
    is(scalar @{ acs_media(callConnectionId => 'media-3') }, 0,
       'autoMedia false: no session');
};

subtest 'media WebSocket: the caller speaks' => sub {
    acs_reset();
    acs_config(mediaFrames => 5, nextCallConnectionId => 'speech-1',
               mediaSpeech => { fromFrame => 2, frames => 2 });
    my ($port, $collect) = ws_listener(6);
    my ($s) = signed(POST => "/calling/callConnections:answer?$API", {
        %$answer_body,
        mediaStreamingOptions => {
            transportType => 'websocket', audioChannelType => 'mixed',
            transportUrl => "ws://127.0.0.1:$port/m", audioFormat => 'pcm16KMono',
        } });
    is($s, 200, 'answer with media');
    my $sess = acs_wait(sub {
        my $m = acs_media(callConnectionId => 'speech-1')->[0];
        $m && grep({ $_ eq 'hello' } @{ $m->{messages} }) ? $m : undef;
    }, 10);
    ok($sess, 'the session got our message') or return;
    acs_media_close(callConnectionId => 'speech-1');
    my $got = $collect->();
    my @m = map { $J->decode($_) } @{ $got->{messages} };
    is(join(' ', map { $_->{audioData}{silent} ? 'silent' : 'speech' }
                 @m[1 .. 5]),
       'silent silent speech speech silent', 'two frames of speech');
    my $speech = decode_base64($sess->{speech} // '');
    is(length $speech, 2 * 640, 'the speech: 40 ms of 16 kHz PCM16');
    ok(decode_base64($m[3]{audioData}{data}) . decode_base64($m[4]{audioData}{data})
       eq $speech, 'carried by those frames');
    my $peak = max(map { abs } unpack 's<*', $speech) // 0;
    ok($peak > 5000, "a loud tone, not silence (peak $peak)");
};

subtest 'autoConnected' => sub {
    acs_reset();
    my ($port, $collect) = http_listener(200, '');
    acs_config(autoConnected => JSON::PP::true, nextCallConnectionId => 'auto-1');
    my ($s) = signed(POST => "/calling/callConnections:answer?$API",
                     { incomingCallContext => 'c',
                       callbackUri => "http://127.0.0.1:$port/cb?t=1" });
    is($s, 200, 'answer');
    my $got = $collect->();
    is($got->{path}, '/cb?t=1', 'CallConnected posted to the callbackUri');
    my $e = $J->decode($got->{body})->[0];
    is($e->{type}, 'Microsoft.Communication.CallConnected', 'CallConnected');
    is($e->{data}{callConnectionId}, 'auto-1', 'for that call');
    my $ans = last_record('POST /calling/callConnections:answer');
    ok($ans->{replied}
       && substr($e->{time}, 0, 23) gt substr($ans->{replied}, 0, 23),
       "sent after the answer's reply was written ($ans->{replied}, $e->{time})");
    like($got->{headers}{authorization}, qr/^Bearer /, 'with a JWT');
    my $log = acs_wait(sub { @{ acs_get('/_mock/callbacks') } ? 1 : 0 });
    is(acs_get('/_mock/callbacks')->[0]{status}, 200, 'logged in /_mock/callbacks');
};

done_testing();
