package AcsMock;

# Starts t/mock/acs_mock.mjs (a mock Azure Communication Services: Call
# Automation REST with HMAC-SHA256 checking, the media WebSocket client,
# signed callbacks and Event Grid IncomingCall deliveries) with a fresh test
# CA made by t/mock/gen-certs.sh and a random access key, for as long as the
# test script runs, and publishes where it is in %ENV:
#
#   TEST_NGINX_ACS_PORT               its HTTPS port on 127.0.0.1 (the ACS endpoint)
#   TEST_NGINX_ACS_PLAIN_PORT         the same routes over plain HTTP
#   TEST_NGINX_ACS_CA                 the CA that signed its certificate
#   TEST_NGINX_ACS_OTHER_CA           a CA that did not
#   TEST_NGINX_ACS_CERT_DIR           where these files are
#   TEST_NGINX_ACS_ACCESS_KEY         the access key (base64 of 32 random bytes)
#   TEST_NGINX_ACS_CONNECTION_STRING  endpoint=https://127.0.0.1:PORT/;accesskey=KEY
#   TEST_NGINX_ACS_RESOURCE_ID        the immutable resource id (JWT audience)
#   TEST_NGINX_ACS_JWKS               a file holding the JWKS the JWTs verify with
#
# start_acs_mock() returns false (and says why in $AcsMock::Why) when node,
# openssl or tools/node_modules/ws is missing, so the caller can skip.
#
# The mock's control routes (plain or HTTPS, no auth):
#   GET    /_mock/requests[?match=S]  records of the ACS routes' requests:
#          [{method, path (with query), headers (lower-case), body, json,
#            signature_ok, signature_error, status, time, injected?, repeated?,
#            lost?,
#            replied (when the reply was written)}]
#          match: a substring of "METHOD path".  signature_ok is true when the
#          request passed the checks ACS makes before anything else (signature,
#          date, body hash, api-version); signature_error says what failed.
#   DELETE /_mock/requests            forgets them
#   POST   /_mock/fail {match, status, times=1, body?, headers?}
#          the next `times` requests that pass those checks and whose
#          "METHOD path" contains match get status (body default an ACS error
#          body; headers e.g. {"retry-after":"1"}); recorded with injected.
#   POST   /_mock/fail {match, lose: true, times=1}
#          the next `times` such requests are carried out (and stored for
#          repeatability) but their reply is lost: the connection is closed
#          without one (recorded with lost, status 0); a retry with the
#          same Repeatability-Request-ID gets the stored reply (repeated)
#   DELETE /_mock/fail                forgets pending failures
#   POST   /_mock/config {autoMedia (true), autoConnected (false),
#          mediaFrames (null: unlimited), closeMediaOnHangup (true),
#          mediaSpeech (null, or {fromFrame, frames, hz=350, amp=6000}: the
#          caller speaks a tone in those 20 ms frames, silence around it),
#          mediaToken ("valid"|"none"|"expired"|"wrong-aud"|"bad-signature"|
#          literal: the WebSocket's JWT), nextCallConnectionId (an id or a list
#          of ids handed out next), knownCalls [ids]} -> the config
#   GET    /_mock/config              the config, resourceId, kid
#   POST   /_mock/reset               forgets requests, failures, calls,
#          sessions (closing them with 1001), callbacks; default config
#   GET    /_mock/calls               CallConnectionProperties of known calls
#   GET    /_mock/media[?callConnectionId=ID][&messages=0]
#          sessions: {callConnectionId, correlationId, url, subscriptionId,
#          sampleRate, status (handshake HTTP status), open, closed,
#          closeCode, closeReason, closedBy ("acs"|"peer"), error, framesSent,
#          speech (base64 of the speech PCM sent, or null),
#          messages (text received; binary as "binary:<base64>"), started}
#          The media session opens and CallConnected is sent only after the
#          answer's (or CreateCall's) reply has been written, as ACS does.
#   POST   /_mock/media/close {callConnectionId, code=1000, reason="", abort?}
#          closes that call's open sessions from the ACS side (abort: TCP
#          reset, no close frame) -> {closed: N}
#   POST   /_mock/media/send {callConnectionId, message (object or string)}
#          sends one text message on the call's open session (e.g. DtmfData)
#   POST   /_mock/media/start {callConnectionId, transportUrl?, audioFormat?}
#          opens a media session now
#   GET    /_mock/token?aud=&iss=&exp_in=&nbf_in=&kid=&tamper=1&alg=none
#          {"token": JWT}
#   POST   /_mock/callback {callConnectionId, url?, events:[{type, data, id?}],
#          token?, authorization?, raw?, contentType?, headers?}
#          -> {status, body, headers, url, sent, events} (status 0 + error
#          when the POST failed)
#   POST   /_mock/incoming {url, to?, from?, callerDisplayName?, id?,
#          schema: "eventgrid"|"cloudevents", serverCallId?, correlationId?,
#          incomingCallContext?, data?, headers?, raw?}
#          -> {status, body, headers, event, sent}
#   POST   /_mock/validation {url, validationCode?}  an Event Grid
#          SubscriptionValidation delivery -> {status, body, validationCode,...}
#   GET    /_mock/callbacks           what the mock POSTed: [{kind, url,
#          status, error, sent}]
# and unsigned ACS-like GET /calling/keys (the JWKS),
# GET /calling/.well-known/acsopenidconfiguration.
#
# Perl functions (all talk to the plain port):
#   acs_get($path), acs_post($path, $data_ref_or_string), acs_delete($path)
#       scalar context: the decoded JSON body, or the status when the body is
#       not JSON (e.g. empty); list context: ($status, $json_or_raw_body)
#   acs_requests($match)   array ref of records
#   acs_reset()            POST /_mock/reset
#   acs_fail(%args)        POST /_mock/fail
#   acs_config(%args)      POST /_mock/config; the config
#   acs_callback(%args)    POST /_mock/callback; its reply (hash ref)
#   acs_incoming(%args)    POST /_mock/incoming; its reply
#   acs_validation(%args)  POST /_mock/validation; its reply
#   acs_media(%filter)     array ref of sessions (callConnectionId => ID)
#   acs_media_close(%args), acs_media_send(%args)
#   acs_token(%args)       a JWT string
#   acs_wait($sub, $timeout = 5)   polls $sub every 50 ms; its first true
#                          value, or undef at the timeout
#   acs_sign($method, $path_and_query, $body, %o)   the signing headers
#       (x-ms-date, x-ms-content-sha256, authorization) as ACS wants them;
#       %o: host (default 127.0.0.1:plain port), key (base64), date, hash
#   acs_signed_request($method, $path, $body, %o) -> ($status, $body, $headers)
#       signs and sends; %o: tls => 1 (the HTTPS port, verified with the CA),
#       headers => {...} (added after signing; overrides), sign => {...}
#       (acs_sign options), unsigned => 1
#   acs_jwt_decode($jwt) -> ($header, $payload) hash refs
#   acs_jwt_verify($jwt[, $jwks]) -> true when the RS256 signature verifies
#       against the JWKS (openssl dgst), else false

use strict;
use warnings;

use Digest::SHA qw(sha256_base64 hmac_sha256_base64);
use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(strftime);
use Time::HiRes qw(time sleep);

# t/helpers, for RtagentTools
use lib File::Spec->catdir(dirname(File::Spec->rel2abs(__FILE__)),
                           File::Spec->updir, 'helpers');
use RtagentTools qw(find_tool);

our @EXPORT = qw(start_acs_mock stop_acs_mock acs_get acs_post acs_delete
                 acs_requests acs_reset acs_fail acs_config acs_callback
                 acs_incoming acs_validation acs_media acs_media_close
                 acs_media_send acs_token acs_wait acs_sign
                 acs_signed_request acs_jwt_decode acs_jwt_verify
                 acs_start_or_skip);

our $Why;
my $Dir = File::Spec->rel2abs(dirname(__FILE__));
my ($Pid, $Out, $Owner);
my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

sub _have {
    my ($cmd) = @_;
    return defined find_tool($cmd);
}

sub _random_bytes {
    my ($n) = @_;
    my $buf = '';
    if (open my $fh, '<:raw', '/dev/urandom') {
        read $fh, $buf, $n;
        close $fh;
    }
    $buf .= chr(int rand 256) while length $buf < $n;
    return $buf;
}

sub _guid {
    my $h = unpack 'H*', _random_bytes(16);
    substr($h, 12, 1) = '4';
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4),
                     substr($h, 16, 4), substr($h, 20);
}

sub _pad {
    my ($b64) = @_;
    $b64 .= '=' while length($b64) % 4;
    return $b64;
}

sub start_acs_mock {
    return 1 if $Pid;
    for my $cmd (qw(node openssl)) {
        if (!_have($cmd)) {
            $Why = "$cmd is not installed";
            return 0;
        }
    }
    my $ws = "$Dir/../../tools/node_modules/ws";
    if (!-d $ws) {
        $Why = 'tools/node_modules/ws is missing (cd tools && npm install)';
        return 0;
    }

    my $certs = tempdir('rtagent-acs-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    system('sh', "$Dir/gen-certs.sh", $certs) == 0
        or do { $Why = 'gen-certs.sh failed'; return 0 };

    my $key = encode_base64(_random_bytes(32), '');
    my $resource = _guid();
    my $jwks = "$certs/jwks.json";

    $Pid = open($Out, '-|', 'node', "$Dir/acs_mock.mjs",
                '--cert', "$certs/server.pem", '--key', "$certs/server.key",
                '--access-key', $key, '--resource-id', $resource,
                '--jwks-out', $jwks)
        // do { $Why = "cannot run node: $!"; return 0 };
    $Owner = $$;

    my $sel = IO::Select->new($Out);
    my $line;
    my $deadline = time + 15;
    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        $line = <$Out>;
        last;
    }
    unless (defined $line && $line =~ /"port":(\d+),"plain_port":(\d+)/) {
        stop_acs_mock();
        $Why = 'the ACS mock did not start';
        return 0;
    }

    $ENV{TEST_NGINX_ACS_PORT} = $1;
    $ENV{TEST_NGINX_ACS_PLAIN_PORT} = $2;
    $ENV{TEST_NGINX_ACS_CA} = "$certs/ca.pem";
    $ENV{TEST_NGINX_ACS_OTHER_CA} = "$certs/other-ca.pem";
    $ENV{TEST_NGINX_ACS_CERT_DIR} = $certs;
    $ENV{TEST_NGINX_ACS_ACCESS_KEY} = $key;
    $ENV{TEST_NGINX_ACS_CONNECTION_STRING}
        = "endpoint=https://127.0.0.1:$1/;accesskey=$key";
    $ENV{TEST_NGINX_ACS_RESOURCE_ID} = $resource;
    $ENV{TEST_NGINX_ACS_JWKS} = $jwks;
    return 1;
}

sub stop_acs_mock {
    # not from a forked child of the test script
    return unless $Pid && $$ == $Owner;
    kill 'TERM', $Pid;
    waitpid($Pid, 0);
    close $Out;
    undef $Pid;
}

END { local $?; stop_acs_mock() }

# For the standalone tests: starts the mock, or skips the test (fails it
# under CI, where everything must run) when redis-server is missing
# ($have_redis, from RtagentRedis::have_redis) or the mock cannot start.
sub acs_start_or_skip {
    my ($have_redis) = @_;
    my $why = !$have_redis ? 'redis-server is not installed'
            : !start_acs_mock() ? 'the ACS mock cannot run: ' . ($Why // '')
            : undef;
    return 1 unless defined $why;
    die "$why\n" if $ENV{CI};
    require Test::More;
    Test::More::plan(skip_all => $why);
}

# ------------------------------------------------------------------ HTTP

my $Http = HTTP::Tiny->new(timeout => 30, keep_alive => 0);

sub _url {
    my ($path) = @_;
    die "the ACS mock is not running\n" unless $ENV{TEST_NGINX_ACS_PLAIN_PORT};
    return "http://127.0.0.1:$ENV{TEST_NGINX_ACS_PLAIN_PORT}$path";
}

sub _decode {
    my ($s) = @_;
    return undef unless defined $s && length $s;
    return eval { $JSON->decode($s) };
}

sub _request {
    my ($method, $path, $data) = @_;
    my %o;
    if (defined $data) {
        $o{content} = ref $data ? $JSON->encode($data) : $data;
        $o{headers} = { 'content-type' => 'application/json' };
    }
    my $r = $Http->request($method, _url($path), \%o);
    my $json = _decode($r->{content});
    return ($r->{status}, $json // $r->{content}) if wantarray;
    return $json // $r->{status};
}

sub acs_get    { _request('GET', $_[0]) }
sub acs_post   { _request('POST', $_[0], $_[1] // '') }
sub acs_delete { _request('DELETE', $_[0]) }

sub _esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

sub acs_requests {
    my ($match) = @_;
    my $q = defined $match ? '?match=' . _esc($match) : '';
    return scalar acs_get("/_mock/requests$q");
}

sub acs_reset      { scalar acs_post('/_mock/reset', {}) }
sub acs_fail       { scalar acs_post('/_mock/fail', {@_}) }
sub acs_config     { scalar acs_post('/_mock/config', {@_}) }
sub acs_callback   { scalar acs_post('/_mock/callback', {@_}) }
sub acs_incoming   { scalar acs_post('/_mock/incoming', {@_}) }
sub acs_validation { scalar acs_post('/_mock/validation', {@_}) }
sub acs_media_close { scalar acs_post('/_mock/media/close', {@_}) }
sub acs_media_send  { scalar acs_post('/_mock/media/send', {@_}) }

sub acs_media {
    my (%f) = @_;
    my $q = join '&', map { "$_=" . _esc($f{$_}) } sort keys %f;
    return scalar acs_get('/_mock/media' . ($q ? "?$q" : ''));
}

sub acs_token {
    my (%a) = @_;
    my $q = join '&', map { "$_=" . _esc($a{$_}) } sort keys %a;
    my $r = acs_get('/_mock/token' . ($q ? "?$q" : ''));
    return ref $r ? $r->{token} : undef;
}

sub acs_wait {
    my ($sub, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    while (1) {
        my $v = $sub->();
        return $v if $v;
        return undef if time >= $deadline;
        sleep 0.05;
    }
}

# ------------------------------------------------------------------ signing

sub acs_sign {
    my ($method, $pq, $body, %o) = @_;
    $body //= '';
    my $date = $o{date} // strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime);
    my $hash = $o{hash} // _pad(sha256_base64($body));
    my $host = $o{host} // "127.0.0.1:$ENV{TEST_NGINX_ACS_PLAIN_PORT}";
    my $key = decode_base64($o{key} // $ENV{TEST_NGINX_ACS_ACCESS_KEY});
    my $sig = _pad(hmac_sha256_base64(
        uc($method) . "\n$pq\n$date;$host;$hash", $key));
    return {
        'x-ms-date' => $date,
        'x-ms-content-sha256' => $hash,
        'authorization' => 'HMAC-SHA256 SignedHeaders=x-ms-date;host;'
                           . "x-ms-content-sha256&Signature=$sig",
    };
}

sub acs_signed_request {
    my ($method, $path, $body, %o) = @_;
    $body = $JSON->encode($body) if ref $body;
    $body //= '';
    my ($scheme, $port) = $o{tls}
        ? ('https', $ENV{TEST_NGINX_ACS_PORT})
        : ('http', $ENV{TEST_NGINX_ACS_PLAIN_PORT});
    my %sign = (host => "127.0.0.1:$port", %{ $o{sign} // {} });
    my $h = $o{unsigned} ? {} : acs_sign($method, $path, $body, %sign);
    $h->{'content-type'} = 'application/json' if length $body;
    %$h = (%$h, %{ $o{headers} // {} });
    my $http = $o{tls}
        ? HTTP::Tiny->new(timeout => 30, keep_alive => 0, verify_SSL => 1,
                          SSL_options => {
                              SSL_ca_file => $ENV{TEST_NGINX_ACS_CA} })
        : $Http;
    my $r = $http->request($method, "$scheme://127.0.0.1:$port$path",
                           { headers => $h,
                             (length $body ? (content => $body) : ()) });
    return ($r->{status}, $r->{content}, $r->{headers});
}

# ------------------------------------------------------------------ JWT

sub _b64url_decode {
    my ($s) = @_;
    $s =~ tr{-_}{+/};
    return decode_base64(_pad($s));
}

sub acs_jwt_decode {
    my ($jwt) = @_;
    my ($h, $p) = split /\./, $jwt // '';
    return (eval { $JSON->decode(_b64url_decode($h // '')) },
            eval { $JSON->decode(_b64url_decode($p // '')) });
}

sub _der_len {
    my ($l) = @_;
    return chr($l) if $l < 128;
    my $b = '';
    while ($l) { $b = chr($l & 255) . $b; $l >>= 8 }
    return chr(0x80 | length $b) . $b;
}

sub _der { my ($tag, $c) = @_; return chr($tag) . _der_len(length $c) . $c }

sub _der_int {
    my ($v) = @_;
    $v = "\0$v" if ord($v) & 0x80;
    return _der(0x02, $v);
}

# a PEM SubjectPublicKeyInfo for an RSA JWK
sub _jwk_pem {
    my ($k) = @_;
    my $rsa = _der(0x30, _der_int(_b64url_decode($k->{n}))
                         . _der_int(_b64url_decode($k->{e})));
    my $alg = _der(0x30, _der(0x06, pack('H*', '2a864886f70d010101'))
                         . _der(0x05, ''));
    my $spki = _der(0x30, $alg . _der(0x03, "\0$rsa"));
    return "-----BEGIN PUBLIC KEY-----\n" . encode_base64($spki)
         . "-----END PUBLIC KEY-----\n";
}

sub acs_jwt_verify {
    my ($jwt, $jwks) = @_;
    if (!$jwks) {
        open my $fh, '<', $ENV{TEST_NGINX_ACS_JWKS} or return 0;
        local $/;
        $jwks = $JSON->decode(<$fh>);
    }
    my ($h64, $p64, $s64) = split /\./, $jwt // '', -1;
    return 0 unless defined $s64 && length $s64;
    my ($header) = acs_jwt_decode($jwt);
    return 0 unless $header && ($header->{alg} // '') eq 'RS256';
    my ($key) = grep { ($_->{kid} // '') eq ($header->{kid} // '') }
                @{ $jwks->{keys} };
    return 0 unless $key;

    my $dir = tempdir('rtagent-jwt-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    for ([pem => _jwk_pem($key)], [sig => _b64url_decode($s64)],
         [data => "$h64.$p64"]) {
        open my $fh, '>:raw', "$dir/$_->[0]" or die $!;
        print $fh $_->[1];
        close $fh;
    }
    return system("openssl dgst -sha256 -verify $dir/pem -signature $dir/sig"
                  . " $dir/data >/dev/null 2>&1") == 0;
}

1;
