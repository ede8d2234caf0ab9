# rtagent_acs_timeout: a Call Automation request that gets no answer fails
# after this long (not after rtagent_upstream_timeout), so an IncomingCall
# whose answer hangs is recorded as failed while the caller still rings.
# "ACS" here is a listener that accepts TCP and never speaks.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentNginx;
use RtagentRedis;

use IO::Socket::INET;
use JSON::PP;
use LWP::UserAgent;
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
unless (have_redis()) {
    die "redis-server is not installed\n" if $ENV{CI};
    plan skip_all => 'redis-server is not installed';
}

my $silent = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
                                   LocalPort => 0, ReuseAddr => 1) or die $!;
my $sport = $silent->sockport;

my $r = start_redis();
my $port = free_port();
my $n = start_nginx(port => $port, http => <<"HTTP",
rtagent_redis 127.0.0.1:$r->{port};
rtagent_upstream_timeout 60s;
rtagent_upstream_connect_timeout 60s;
rtagent_upstream_retries 0;
rtagent_acs_timeout 1s;
rtagent_acs_connection_string "endpoint=https://127.0.0.1:$sport/;accesskey=c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Q=";
rtagent_acs_callback_url http://127.0.0.1:$port/api/acs/events;
rtagent_acs_media_url ws://127.0.0.1:$port/ws/acs/media;
HTTP
                    server => 'location = /api/acs/events { rtagent_acs_events; }');

ok(redis_up($n, 1), 'nginx is up');

my $ev = [{
    id => 'evt-timeout-1', eventType => 'Microsoft.Communication.IncomingCall',
    subject => '/caller/4:+14255550123/recipient/4:+18005550100',
    eventTime => '2026-11-25T20:00:00Z', dataVersion => '1.0',
    data => {
        to => { kind => 'phoneNumber', rawId => '4:+18005550100',
                phoneNumber => { value => '+18005550100' } },
        from => { kind => 'phoneNumber', rawId => '4:+14255550123',
                  phoneNumber => { value => '+14255550123' } },
        incomingCallContext => 'eyJhbGciOiJub25lIn0.e30.', correlationId => 'corr-timeout-1',
        serverCallId => 'server-call-timeout-1' } }];

my $t0 = time;
my $res = LWP::UserAgent->new(timeout => 10)->post(
    "http://127.0.0.1:$port/api/acs/events", Content => encode_json($ev));
is($res->code, 200, 'Event Grid gets 200 at once');

my $err;
ok(wait_for(sub {
    for my $e (@{ redis($r, 'XRANGE', 'rtagent:events', '-', '+') }) {
        my %f = @{ $e->[1] };
        $err = decode_json($f{data})
            if $f{call_id} eq 'corr-timeout-1' && $f{type} eq 'ERROR_OCCURRED';
    }
    $err }, 10), 'the hung answer is recorded as failed');
my $took = time - $t0;
ok($took >= 0.9 && $took < 5, sprintf('after about rtagent_acs_timeout (%.1f s)', $took));
is($err->{error}, 'answer failed', 'answer failed');
like(error_log($n), qr/callConnections:answer: no response .*call:corr-timeout-1/,
     'logged with the call id');

stop_nginx($n);
done_testing();
