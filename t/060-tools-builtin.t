# The tool store's built-in tools (src/agent/ngx_http_rtagent_tools*.c),
# run through the test module's rtagent_test_tool as an agent would:
# verify_identity against the demo policyholders (match, wrong ZIP code,
# unknown policy: the same "no match"), the caller's profile, lookup_policy
# without the ZIP code, create_claim's FNOL record (issue 10 item 8) with
# every field, the call hash's claim_id and the profile's claims, every
# bad argument named, schedule_appointment, transfer_to_human, end_call,
# and a tool the agent does not list.  Own nginx and redis-server.

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

my $dir = agents_dir(
    'front.yaml' => <<'YAML',
name: front
description: Answers first.
greeting: Hello.
prompt: Verify the caller.
tools: [verify_identity, lookup_policy, transfer_to_human, end_call]
handoffs: [claims]
escalation:
  target: queue:front
YAML
    'claims.yaml' => <<'YAML',
name: claims
description: Files claims.
greeting: Claims here.
prompt: File the claim.
tools: [create_claim, schedule_appointment, transfer_to_human]
escalation:
  target: "+18005550100"
YAML
    'alone.yaml' => <<'YAML',
name: alone
description: Has no escalation.
greeting: Hi.
prompt: Nothing.
tools: [transfer_to_human]
YAML
);

my $r = start_redis();
my $n = start_tool_nginx($r, $dir);

ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);
ok(wait_for(sub { redis($r, 'EXISTS', 'rtagent:policy:{12345678}') }),
   'the demo policyholders are in Redis');

my $phone = '+13125550111';
redis($r, 'HSET', 'rtagent:call:{v1}', 'peer_phone', $phone);

# ---- verify_identity -----------------------------------------------------

my $out = tool($n, 'front', 'verify_identity',
               '{"policy":"12345678","zip":"60614"}', call => 'v1');
is($out->{rc}, 'ok', 'verify_identity: a match');
is_deeply($out->{result}, { verified => 'yes', name => 'Bob Martinez',
                            first_name => 'Bob', policy => '12345678' },
          'verified, with the name, first name and policy');
is($out->{act}, 'none', 'nothing to do besides');
is_deeply({ @{ redis($r, 'HGETALL', "rtagent:profile:{$phone}") } },
          { name => 'Bob Martinez', policy => '12345678' },
          'the caller\'s profile has the name and policy');
is(redis($r, 'TTL', "rtagent:profile:{$phone}"), -1, 'the profile has no TTL');
is(redis($r, 'HGET', 'rtagent:call:{v1}', 'verified_policy'), '12345678',
   'the call hash has the verified policy');

$out = tool($n, 'front', 'verify_identity',
            '{"policy":"12345678","zip":"60615"}', call => 'v2');
is($out->{rc}, 'error', 'a wrong ZIP code: an error');
my $wrong = $out->{raw};
is_deeply($out->{result}, { error => 'no match' }, 'no match');
like(error_log($n),
     qr/rtagent tool: "verify_identity" of agent "front" failed: no match, call:v2\b/,
     'logged once with the call id');

$out = tool($n, 'front', 'verify_identity',
            '{"policy":"99999999","zip":"60614"}', call => 'v3');
is($out->{rc}, 'error', 'an unknown policy: an error');
is($out->{raw}, $wrong, 'the same answer as for a wrong ZIP code');

$out = tool($n, 'front', 'verify_identity', '{"policy":"1234567","zip":"60614"}');
is_deeply($out->{result}, { error => 'policy: not 8 digits' },
          'a policy number of 7 digits');
$out = tool($n, 'front', 'verify_identity', '{"policy":"12345678"}');
is_deeply($out->{result}, { error => 'zip: missing' }, 'no ZIP code');
$out = tool($n, 'front', 'verify_identity', '{"policy":12345678,"zip":"60614"}',
            call => 'v4');
is($out->{rc}, 'ok', 'a policy number given as a JSON number works');
ok(!redis($r, 'EXISTS', 'rtagent:profile:{}'), 'no call number: no profile');

# ---- lookup_policy -----------------------------------------------------------

$out = tool($n, 'front', 'lookup_policy', '{"policy":"12345678"}');
is($out->{rc}, 'ok', 'lookup_policy');
is_deeply($out->{result},
          { policy => '12345678', name => 'Bob Martinez',
            vehicles => ['2021 Ford F-150', '2016 Honda Civic'],
            vehicle_count => 2 },
          'name and vehicles, no ZIP code or phone');
$out = tool($n, 'front', 'lookup_policy', '{"policy":"11111111"}');
is_deeply($out->{result}, { error => 'no such policy' }, 'an unknown policy');
$out = tool($n, 'front', 'lookup_policy', '{}', call => 'v1');
is($out->{result}{name}, 'Bob Martinez',
   'no policy argument: the one verified on the call');
$out = tool($n, 'front', 'lookup_policy', '{"policy":"42718365"}', call => 'v1');
is_deeply($out->{result}, { error => 'policy: not the one verified on this call' },
          'another policy than the verified one: refused');
$out = tool($n, 'front', 'lookup_policy', '{}', call => 'v9');
is_deeply($out->{result}, { error => 'policy: missing' },
          'no policy and none verified');

# ---- create_claim ----------------------------------------------------------

my $yesterday = strftime('%Y-%m-%d', gmtime(time - 86400));
my $call = 'fnol-call-1';
redis($r, 'HSET', "rtagent:call:{$call}", 'peer_phone', $phone, 'agent',
      'claims');

my $args = encode_json({ policy => '12345678', date => $yesterday,
                         location => 'on highway ten',
                         description => "another car rear ended me at a \"red\" light",
                         injuries => 'No', vehicles => '2',
                         _fnol_stage => 'confirm' });
$out = tool($n, 'claims', 'create_claim', $args, call => $call);
is($out->{rc}, 'ok', 'create_claim') or diag $out->{raw};
my $id = $out->{result}{claim_id} // '';
like($id, qr/\ACLM-\d{8}-[A-HJ-NP-Z2-9]{6}\z/, "a claim id ($id)");
my $today = strftime('%Y%m%d', gmtime);
like($id, qr/\ACLM-$today-/, 'with the filing date');
like($out->{result}{created_at}, qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/,
     'created_at, ISO 8601');

my %claim = @{ redis($r, 'HGETALL', "rtagent:claim:{$id}") };
my $created = delete $claim{created_at};
is_deeply(\%claim,
          { claim_id => $id, policy => '12345678', call_id => $call,
            date => $yesterday, location => 'on highway ten',
            description => 'another car rear ended me at a "red" light',
            injuries => 'no', vehicles => '2' },
          'the claim hash: every field, normalised');
is($created, $out->{result}{created_at}, 'created_at as in the result');
is(redis($r, 'HGET', "rtagent:call:{$call}", 'claim_id'), $id,
   'the call hash has the claim id');
my $pttl = redis($r, 'PTTL', "rtagent:call:{$call}");
ok($pttl > 0 && $pttl <= 86400000, "the call hash keeps a 24 h TTL ($pttl)");
is_deeply(decode_json(redis($r, 'HGET', "rtagent:profile:{$phone}", 'claims')),
          [$id], 'the profile lists the claim');

# the local engine's slot names, typed values
$out = tool($n, 'claims', 'create_claim',
            encode_json({ policy => '12345678', when => $yesterday,
                          where => 'in the parking lot at work',
                          what => 'someone backed into my parked car',
                          injuries => JSON::PP::true, vehicles => 3 }),
            call => $call);
is($out->{rc}, 'ok', 'create_claim with when, where, what') or diag $out->{raw};
my $id2 = $out->{result}{claim_id} // '';
isnt($id2, $id, 'another claim id');
is_deeply([ @{ redis($r, 'HMGET', "rtagent:claim:{$id2}", qw(date location
                     description injuries vehicles)) } ],
          [ $yesterday, 'in the parking lot at work',
            'someone backed into my parked car', 'yes', '3' ],
          'stored under the contract\'s names');
is(redis($r, 'HGET', "rtagent:call:{$call}", 'claim_id'), $id2,
   'the call hash has the newest claim id');
is_deeply(decode_json(redis($r, 'HGET', "rtagent:profile:{$phone}", 'claims')),
          [$id, $id2], 'the profile lists both, in order');

# the policy verified on the call, for an engine that does not pass it
redis($r, 'HSET', 'rtagent:call:{fnol-call-2}', 'verified_policy', '87654321');
$out = tool($n, 'claims', 'create_claim',
            encode_json({ when => $yesterday, where => 'at the mall',
                          what => 'a dent', injuries => 'no', vehicles => 1 }),
            call => 'fnol-call-2');
is($out->{rc}, 'ok', 'create_claim without a policy: the verified one')
    or diag $out->{raw};
is(redis($r, 'HGET', "rtagent:claim:{$out->{result}{claim_id}}", 'policy'),
   '87654321', '  on the claim');
$out = tool($n, 'claims', 'create_claim',
            encode_json({ policy => '12345678', when => $yesterday,
                          where => 'at the mall', what => 'a dent',
                          injuries => 'no', vehicles => 1 }),
            call => 'fnol-call-2');
is_deeply($out->{result}, { error => 'policy: not the one verified on this call' },
          'a claim on another policy than the verified one: refused');

my %good = (policy => '12345678', date => $yesterday, location => 'here',
            description => 'a dent', injuries => 'no', vehicles => 1);
my $tomorrow2 = strftime('%Y-%m-%d', gmtime(time + 3 * 86400));
for my $bad (
    [ { date => '2026-02-30' }, 'date: not a date (YYYY-MM-DD)' ],
    [ { date => 'yesterday' }, 'date: not a date (YYYY-MM-DD)' ],
    [ { date => $tomorrow2 }, 'date: in the future' ],
    [ { vehicles => 0 }, 'vehicles: not an integer from 1 to 50' ],
    [ { vehicles => 51 }, 'vehicles: not an integer from 1 to 50' ],
    [ { vehicles => 'two' }, 'vehicles: not an integer from 1 to 50' ],
    [ { vehicles => 1.5 }, 'vehicles: not an integer from 1 to 50' ],
    [ { vehicles => undef }, 'vehicles: missing' ],
    [ { injuries => 'maybe' }, 'injuries: not yes or no' ],
    [ { location => '' }, 'location: missing' ],
    [ { location => ['x'] }, 'location: not a string' ],
    [ { description => 'x' x 4001 }, 'description: too long' ],
    [ { policy => '99999999' }, 'policy: no such policy' ],
    [ { policy => '1234' }, 'policy: not 8 digits' ],
    [ { policy => undef }, 'policy: missing' ],
) {
    my %a = (%good, %{ $bad->[0] });
    delete $a{$_} for grep { !defined $a{$_} } keys %a;
    $out = tool($n, 'claims', 'create_claim', encode_json(\%a), call => 'bad');
    is($out->{rc}, 'error', "refused: $bad->[1]");
    is_deeply($out->{result}, { error => $bad->[1] }, "  and named: $bad->[1]");
}
ok(!redis($r, 'HEXISTS', 'rtagent:call:{bad}', 'claim_id'),
   'no claim id for a refused claim');
is(scalar @{ redis($r, 'KEYS', 'rtagent:claim:*') }, 3, 'three claims in all');

$out = tool($n, 'claims', 'create_claim', '[1, 2]');
is_deeply($out->{result}, { error => 'arguments: not a JSON object' },
          'arguments that are not an object');
$out = tool($n, 'claims', 'create_claim', '{"policy":');
is_deeply($out->{result}, { error => 'arguments: not JSON' },
          'arguments that are not JSON');

# ---- schedule_appointment ------------------------------------------------

my $t = time + 10 * 86400;
my $day = strftime('%Y-%m-%d', gmtime($t));
my $spoken = strftime('%A, %B ', gmtime($t)) . (gmtime($t))[3]
             . ' at 2:00 in the afternoon';
$out = tool($n, 'claims', 'schedule_appointment',
            encode_json({ date => $day, period => 'Afternoon',
                          reason => 'a checkup' }), call => 'apt-1');
is($out->{rc}, 'ok', 'schedule_appointment') or diag $out->{raw};
is($out->{result}{appointment_time}, $spoken, "appointment_time: $spoken");
my $apt = $out->{result}{appointment_id} // '';
like($apt, qr/\AAPT-\d{8}-[A-HJ-NP-Z2-9]{6}\z/, "an appointment id ($apt)");
my %a = @{ redis($r, 'HGETALL', "rtagent:appointment:{$apt}") };
is_deeply([ @a{qw(appointment_id call_id date period time reason
                  appointment_time)} ],
          [ $apt, 'apt-1', $day, 'afternoon', '14:00', 'a checkup', $spoken ],
          'the appointment hash');
# a legal callback: its slots' names, the number to call, the morning
$out = tool($n, 'claims', 'schedule_appointment',
            encode_json({ callback_date => $day, matter => 'lawsuit',
                          callback_phone => '3125550111' }), call => 'apt-2');
is($out->{rc}, 'ok', 'a callback booked') or diag $out->{raw};
%a = @{ redis($r, 'HGETALL',
              "rtagent:appointment:{$out->{result}{appointment_id}}") };
is_deeply([ @a{qw(date period time reason callback_phone)} ],
          [ $day, 'morning', '09:00', 'lawsuit', '3125550111' ],
          '  callback_date, matter, callback_phone; the morning by default');
$out = tool($n, 'claims', 'schedule_appointment',
            encode_json({ date => $day, reason => 'x',
                          callback_phone => '555' }));
is_deeply($out->{result}, { error => 'callback_phone: not 7 to 15 digits' },
          '  a callback number too short');
$out = tool($n, 'claims', 'schedule_appointment',
            '{"date":"2001-01-01","reason":"x"}');
is_deeply($out->{result}, { error => 'date: in the past' }, 'a past date');
$out = tool($n, 'claims', 'schedule_appointment',
            encode_json({ date => $day, reason => 'x', period => 'night' }));
is_deeply($out->{result}, { error => 'period: not morning, afternoon or evening' },
          'an unknown period');

# ---- transfer_to_human, end_call ---------------------------------------------

$out = tool($n, 'claims', 'transfer_to_human', '{}', call => 'x1');
is($out->{rc}, 'ok', 'transfer_to_human');
is($out->{act}, 'transfer', 'act TRANSFER');
is($out->{target}, '+18005550100', 'to the agent\'s escalation target');
$out = tool($n, 'front', 'transfer_to_human', '');
is($out->{target}, 'queue:front', 'another agent, its own target; no arguments');
$out = tool($n, 'alone', 'transfer_to_human', '{}');
is($out->{rc}, 'error', 'an agent without an escalation target');
is($out->{act}, 'none', '  no transfer');

$out = tool($n, 'front', 'end_call', '{}');
is($out->{rc}, 'ok', 'end_call');
is($out->{act}, 'end', 'act END');

# ---- what the agent does not list --------------------------------------------

is(tool($n, 'front', 'create_claim', $args)->{rc}, 'declined',
   'a built-in the agent does not list: declined');
is(tool($n, 'front', 'no_such_tool', '{}')->{rc}, 'declined',
   'an unknown tool: declined');
is(tool($n, 'nobody', 'end_call', '{}')->{rc}, 'declined',
   'an unknown agent: declined');

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no crash, no alert');
ok(stop_nginx($n), 'nginx stops');

done_testing();
