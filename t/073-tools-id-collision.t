# The tool store's record ids (create_claim's "CLM-", the date and six
# random characters; schedule_appointment's "APT-" the same): when one is
# already taken the record is written under a new one, never over the
# other, and after five taken ids in a row the tool fails with a clear
# error.  Collisions are played by an LD_PRELOAD shim
# (t/mock/rand_ids.c) whose RAND_bytes gives zeros for the ids its
# pattern RTAGENT_TEST_RAND_IDS says.  Own nginx and redis-server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentNginx;
use RtagentRedis;
use RtagentToolStore;

use JSON::PP;
use POSIX qw(strftime);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test module is not loaded' unless test_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $dir = agents_dir('claims.yaml' => <<'YAML');
name: claims
description: Files claims.
greeting: Claims here.
prompt: File the claim.
tools: [create_claim, schedule_appointment]
YAML

# all zeros: claim A's id, claim B's five tries, claim C's first try,
# appointment A's id and appointment B's first try; the others are real
my ($nginx, $preload) = preload_shim("$FindBin::Bin/mock/rand_ids.c");
my $r = start_redis();
my $n = do {
    local $ENV{LD_PRELOAD} = $preload;
    local $ENV{RTAGENT_TEST_RAND_IDS} = 'z' . 'zzzzz' . 'zr' . 'z' . 'zr';
    start_tool_nginx($r, $dir, entry => 'claims', nginx => $nginx);
};

ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);
ok(wait_for(sub { redis($r, 'EXISTS', 'rtagent:policy:{12345678}') }),
   'the demo policyholders are in Redis');

my $yesterday = strftime('%Y-%m-%d', gmtime(time - 86400));
my $today = strftime('%Y%m%d', gmtime);
my $zeros = "CLM-$today-AAAAAA";

sub claim {
    my ($call, $where) = @_;
    return tool($n, 'claims', 'create_claim',
                encode_json({ policy => '12345678', date => $yesterday,
                              location => $where,
                              description => 'a car hit mine',
                              injuries => 'no', vehicles => '1',
                              _fnol_stage => 'confirm' }),
                call => $call);
}

my $out = claim('id-a', 'on main street');
is($out->{rc}, 'ok', 'claim A') or diag $out->{raw};
is($out->{result}{claim_id}, $zeros, 'under the all-zeros id');

$out = claim('id-b', 'on the highway');
is($out->{rc}, 'error', 'claim B: five ids in a row taken, the tool fails');
is_deeply($out->{result}, { error => 'no free claim id' }, 'and says why');
like(error_log($n),
     qr/rtagent tool: "create_claim" of agent "claims" failed: no free claim id, call:id-b\b/,
     'logged with the call id');
is(redis($r, 'HGET', "rtagent:claim:{$zeros}", 'location'), 'on main street',
   'claim A is as it was written');
is(redis($r, 'HGET', "rtagent:claim:{$zeros}", 'call_id'), 'id-a',
   '  still claim A\'s call');
ok(!redis($r, 'HEXISTS', 'rtagent:call:{id-b}', 'claim_id'),
   'the failed call has no claim id');

$out = claim('id-c', 'at the mall');
is($out->{rc}, 'ok', 'claim C: its first id is taken, the next one is free')
    or diag $out->{raw};
my $c = $out->{result}{claim_id} // '';
like($c, qr/\ACLM-$today-[A-HJ-NP-Z2-9]{6}\z/, "a claim id ($c)");
isnt($c, $zeros, '  not the taken one');
is(redis($r, 'HGET', "rtagent:claim:{$c}", 'location'), 'at the mall',
   'claim C is written under it');
is(redis($r, 'HGET', "rtagent:claim:{$zeros}", 'location'), 'on main street',
   'claim A is untouched');
is(redis($r, 'HGET', 'rtagent:call:{id-c}', 'claim_id'), $c,
   'the call hash has claim C\'s id');

# the appointments' ids the same way
my $when = strftime('%Y-%m-%d', gmtime(time + 2 * 86400));

sub appointment {
    my ($call) = @_;
    return tool($n, 'claims', 'schedule_appointment',
                encode_json({ date => $when, period => 'morning',
                              reason => 'an inspection' }),
                call => $call);
}

$out = appointment('apt-a');
is($out->{rc}, 'ok', 'appointment A') or diag $out->{raw};
my $a = $out->{result}{appointment_id} // '';
like($a, qr/-AAAAAA\z/, "under the all-zeros id ($a)");
$out = appointment('apt-b');
is($out->{rc}, 'ok', 'appointment B: its first id is taken')
    or diag $out->{raw};
my $b = $out->{result}{appointment_id} // '';
like($b, qr/\AAPT-\d{8}-[A-HJ-NP-Z2-9]{6}\z/, "another id ($b)");
isnt($b, $a, '  not the taken one');

diag(join "\n", grep { /ZERO/ } split /\n/, error_log($n));
stop_nginx($n);
done_testing();
