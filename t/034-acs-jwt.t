# rtagent_acs_jwt: the RS256 bearer token Call Automation puts on every
# callback and on the media WebSocket (docs/protocols.md 2.3) is checked against
# the JWKS (from a file, or fetched from a URL and cached), for issuer,
# audience (the ACS resource id), expiry and signature.  Tokens are minted
# by the mock ACS with its own key.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers", "$FindBin::Bin/mock";
use RtagentNginx;
use RtagentRedis;
use AcsMock;

use JSON::PP;
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();

acs_start_or_skip(have_redis());

my $r = start_redis();

sub gateway {
    my ($jwks) = @_;
    my $port = free_port();
    my $base = "http://127.0.0.1:$port";
    my $n = start_nginx(port => $port, http => <<"HTTP",
rtagent_redis 127.0.0.1:$r->{port};
rtagent_upstream_ssl_trusted_certificate $ENV{TEST_NGINX_ACS_CA};
rtagent_acs_connection_string "$ENV{TEST_NGINX_ACS_CONNECTION_STRING}";
rtagent_acs_callback_url $base/api/acs/events;
rtagent_acs_media_url ws://127.0.0.1:$port/ws/acs/media;
rtagent_acs_jwt on;
rtagent_acs_jwt_audience $ENV{TEST_NGINX_ACS_RESOURCE_ID};
rtagent_acs_jwks $jwks;
HTTP
                        server => <<'SERVER');
location = /api/acs/events { rtagent_acs_events; }
location = /ws/acs/media { rtagent_acs_media; }
SERVER
    ok(redis_up($n, 1), "nginx with the JWKS from $jwks");
    return ($n, $base);
}

my $call = 0;

# a call answered by this gateway, so that its callback URI is known
sub answered_call {
    my ($base, %media) = @_;
    my $id = 'jwt-call-' . ++$call;
    acs_config(nextCallConnectionId => $id, %media);
    acs_incoming(url => "$base/api/acs/events", to => '+18005550100');
    return acs_wait(sub { grep { $_->{callConnectionId} eq $id }
                               @{ acs_get('/_mock/calls') } }, 10) ? $id : undef;
}

for my $source ($ENV{TEST_NGINX_ACS_JWKS},
                "https://127.0.0.1:$ENV{TEST_NGINX_ACS_PORT}/calling/keys")
{
    my ($n, $base) = gateway($source);

    subtest "keys from $source" => sub {
        my $id = answered_call($base, mediaToken => 'valid');
        ok($id, 'IncomingCall answered (Event Grid deliveries carry no ACS JWT)');

        # a fetched JWKS may still be on its way: 503 until then
        my $res;
        acs_wait(sub {
            $res = acs_callback(callConnectionId => $id,
                                events => [{ type => 'CallConnected' }]);
            $res->{status} != 503 }, 10);
        is($res->{status}, 200, 'a valid token: 200');

        for my $bad (qw(none expired wrong-aud bad-signature)) {
            $res = acs_callback(callConnectionId => $id, token => $bad,
                                events => [{ type => 'PlayStarted' }]);
            is($res->{status}, 401, "token $bad: 401");
        }

        my $wrong_iss = acs_token(iss => 'https://example.com');
        $res = acs_callback(callConnectionId => $id, token => $wrong_iss,
                            events => [{ type => 'PlayStarted' }]);
        is($res->{status}, 401, 'another issuer: 401');

        $res = acs_callback(callConnectionId => $id, token => 'none',
                            authorization => 'Basic dXNlcjpwYXNz',
                            events => [{ type => 'PlayStarted' }]);
        is($res->{status}, 401, 'not a bearer token: 401');

        my $log = error_log($n);
        like($log, qr/bearer token refused: expired/, 'the reason is logged');
        like($log, qr/bearer token refused: wrong audience/, 'wrong audience logged');

        ok(acs_wait(sub { my ($s) = @{ acs_media(callConnectionId => $id,
                                                 messages => 0) };
                          $s && $s->{open} }, 10),
           'the media WebSocket with a valid token is upgraded');

        my $id2 = answered_call($base, mediaToken => 'none');
        ok(acs_wait(sub { my ($s) = @{ acs_media(callConnectionId => $id2,
                                                 messages => 0) };
                          $s && $s->{status} }, 10), 'a media handshake without one');
        my ($s) = @{ acs_media(callConnectionId => $id2, messages => 0) };
        is($s->{status}, 401, 'is refused with 401');

        my $id3 = answered_call($base, mediaToken => 'wrong-aud');
        acs_wait(sub { my ($s) = @{ acs_media(callConnectionId => $id3,
                                              messages => 0) };
                       $s && $s->{status} }, 10);
        ($s) = @{ acs_media(callConnectionId => $id3, messages => 0) };
        is($s->{status}, 401, 'a media token for another resource: 401');

        unlike(error_log($n), qr/\[(alert|crit|emerg)\]|signal \d+/, 'no crash');
    };

    stop_nginx($n);
}

done_testing();
