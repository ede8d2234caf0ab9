# The agents' registry in Redis: worker 0 of the instance publishes every
# agent it serves as rtagent:agent:{<name>} (name, version = the file's MD5,
# description, tools, language, instance, pid, updated_at) with a TTL of
# three heartbeats, renews it at each beat, and stops when nginx stops, so
# the entries expire; GET on rtagent_agents_api lists every entry found in
# Redis, another instance's included.  The same worker writes the demo
# policyholders of rtagent_agent_data once, at its start, as
# rtagent:policy:{<policy>} hashes without a TTL.  Runs its own nginx and
# redis-server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;

use Digest::MD5 qw(md5_hex);
use IO::Socket::INET;
use JSON::PP;
use Sys::Hostname ();
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $dir = "$FindBin::Bin/../agents";
my @names = qw(auth fnol healthcare legal support);
my %version = map {
    open my $fh, '<:raw', "$dir/$_.yaml" or die $!;
    local $/;
    ($_ => md5_hex(<$fh>));
} @names;

# a GET (or another method) on the nginx of $n -> (status, headers, body)
sub http {
    my ($n, $method, $uri) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}",
                                  Timeout => 5) or die $!;
    print $s "$method $uri HTTP/1.0\r\nHost: localhost\r\n"
             . ($method eq 'POST' ? "Content-Length: 2\r\n\r\n{}" : "\r\n");
    local $/;
    my $all = <$s> // '';
    my ($head, $body) = split /\r\n\r\n/, $all, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    return ($status // 0, $head // '', $body // '');
}

sub entry {
    my ($r, $name) = @_;
    my $a = redis($r, 'HGETALL', "rtagent:agent:{$name}");
    return ref $a eq 'ARRAY' && @$a ? { @$a } : undef;
}

my $r = start_redis();
my $n = start_nginx(workers => 2,
                    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
                          . "rtagent_agents $dir;\n"
                          . "rtagent_agents_heartbeat 500ms;\n"
                          . "rtagent_agent_data $dir/data/policyholders.yaml;",
                    server => 'location = /api/agents { rtagent_agents_api; }');

ok(redis_up($n), 'both workers connected') or diag error_log($n);

ok(wait_for(sub { entry($r, 'support') }), 'the agents are published');

my %pid;
for my $name (@names) {
    my $e = entry($r, $name);
    is($e->{name}, $name, "$name: name");
    is($e->{version}, $version{$name}, "$name: version is the file's MD5");
    like($e->{description}, qr/\w/, "$name: a description");
    like($e->{tools}, qr/\A\w+(?:,\w+)*\z/, "$name: tools, comma separated");
    is($e->{language}, 'en-US', "$name: language");
    is($e->{instance}, Sys::Hostname::hostname(), "$name: instance");
    ok(abs($e->{updated_at} / 1000 - time) < 5, "$name: updated_at is now");
    my $pttl = redis($r, 'PTTL', "rtagent:agent:{$name}");
    ok($pttl > 0 && $pttl <= 1500, "$name: a TTL of 3 heartbeats ($pttl)");
    $pid{$e->{pid}}++;
}
is_deeply([ keys %pid ], [ (keys %pid)[0] ], 'one worker publishes them all');
my ($pid) = keys %pid;
ok($pid != $n->{pid} && kill(0, $pid), "it is a worker ($pid)");
is(entry($r, 'auth')->{tools},
   'verify_identity,lookup_policy,transfer_to_human,end_call',
   'auth: its tools, in the order of its file');

# the demo policyholders
ok(wait_for(sub { redis($r, 'EXISTS', 'rtagent:policy:{31415926}') }),
   'the policyholders are written');
is_deeply({ @{ redis($r, 'HGETALL', 'rtagent:policy:{12345678}') } },
          { policy => '12345678', zip => '60614', name => 'Bob Martinez',
            phone => '+13125550187',
            vehicles => '["2021 Ford F-150","2016 Honda Civic"]' },
          'policy 12345678: every field, vehicles as a JSON array');
is(redis($r, 'TTL', 'rtagent:policy:{42718365}'), -1, 'no TTL');
is(scalar(() = error_log($n)
          =~ /rtagent: 4 policyholders from "[^"]+" written to Redis/g),
   1, 'written once, by one worker');

# renewed: outlives its TTL, with a newer updated_at
my $t0 = entry($r, 'auth')->{updated_at};
sleep 2;
my $e = entry($r, 'auth');
ok($e && $e->{updated_at} > $t0, 'auth: renewed by the heartbeat');

# what another instance published, listed too
redis($r, 'HSET', 'rtagent:agent:{claims}', name => 'claims',
      version => 'abc', instance => 'other-host', pid => 42,
      tools => 'create_claim', updated_at => 1);
redis($r, 'PEXPIRE', 'rtagent:agent:{claims}', 60000);

my ($status, $head, $body) = http($n, 'GET', '/api/agents');
is($status, 200, 'GET /api/agents: 200');
like($head, qr{\r\nContent-Type: application/json}i, 'JSON');
my $doc = eval { decode_json($body) } // {};
is_deeply([ map { $_->{name} } @{ $doc->{agents} // [] } ],
          [ sort 'claims', @names ], 'every live agent, in name order');
my ($auth) = grep { $_->{name} eq 'auth' } @{ $doc->{agents} // [] };
is($auth->{version}, $version{auth}, 'auth: its version');
is_deeply($auth->{tools},
          [qw(verify_identity lookup_policy transfer_to_human end_call)],
          'auth: tools as an array');
is($auth->{pid}, $pid, 'auth: pid, a number');
like($body, qr/"pid":\d+/, 'pid written as a JSON number');
my ($claims) = grep { $_->{name} eq 'claims' } @{ $doc->{agents} // [] };
is($claims->{instance}, 'other-host', 'claims: live on the other instance');

($status) = http($n, 'POST', '/api/agents');
is($status, 405, 'POST /api/agents: 405');

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no crash');
ok(stop_nginx($n), 'nginx stops');

# no one refreshes them any more: they expire
ok(wait_for(sub { !entry($r, 'auth') && !entry($r, 'support') }, 5),
   'after the stop the entries expire');

# Redis away: the query does not wait for it for ever
my $far = start_nginx(http => "rtagent_redis 127.0.0.1:" . free_port() . ";\n"
                            . "rtagent_agents $dir;",
                      server => 'location = /api/agents { rtagent_agents_api; }');
my $t = time;
($status, undef, $body) = http($far, 'GET', '/api/agents');
is($status, 503, 'Redis does not answer: 503');
is($body, '{"error":"Redis did not answer"}', 'and why');
ok(time - $t < 10, 'after the timeout of 3 s');
like(error_log($far), qr/Redis did not answer the agents' registry query within 3000 ms/,
     'logged');
ok(stop_nginx($far), 'nginx stops');

# without rtagent_redis there is no registry to show
my $m = start_nginx(http => "rtagent_agents $dir;",
                    server => 'location = /api/agents { rtagent_agents_api; }');
($status, undef, $body) = http($m, 'GET', '/api/agents');
is($status, 503, 'no rtagent_redis: 503');
like($body, qr/"error":"no rtagent_redis/, 'and why');
ok(stop_nginx($m), 'nginx stops');

done_testing();
