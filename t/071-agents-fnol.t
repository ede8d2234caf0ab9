# A first notice of loss as text through the orchestrator (rtagent_test_
# turns), with the shipped agents and a real Redis: the caller is verified
# by auth, states the need, is handed off to fnol (whose greeting announces
# the switch), which asks when, where, what happened, injuries and the
# vehicles, one each and in this order, skipping what the caller already
# said, reads them back, and on "yes" files the claim with create_claim:
# rtagent:claim:{<id>} holds every field right, the call's hash its
# claim_id, and the agent reads the id back.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentTurns;

use JSON::PP;
use POSIX qw(strftime);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test driver module is not loaded' unless test_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $r = start_redis();
my $n = start_agents($r);

# relative dates resolve against the call's date (UTC)
my $yesterday = strftime('%Y-%m-%d', gmtime(time - 86400));

my $t = turns($n, 'fnol-1', ['1 2 3 4 5 6 7 8', '6 0 6 1 4',
                              'I want to report a car accident',
                              'yesterday',
                              'in the parking lot at work',
                              'someone backed into my parked car',
                              'no',
                              'two',
                              'yes']);
is(scalar @$t, 10, 'the greeting and nine turns');
like($t->[2]{reply}, qr/Thank you, Bob Martinez, you are verified\./,
     'verified');
is($t->[3]{agent}, 'fnol', 'handed off to fnol');
like($t->[3]{reply},
     qr/\AI am sorry to hear about the accident\. I will take down the details and file your claim\. When did the accident happen\?\z/,
     "the switch announced by fnol's greeting, then its first question");
is($t->[3]{expect}, 'fnol.when', 'expects the date');
is_deeply([ map { $_->{expect} } @$t[4 .. 8] ],
          [qw(fnol.where fnol.what fnol.injuries fnol.vehicles fnol.confirm)],
          'one question each, in order, then the confirmation');
is($t->[4]{reply}, 'Where did it happen?', 'where');
is($t->[5]{reply}, 'Please tell me briefly what happened.', 'what');
is($t->[6]{reply}, 'Was anyone hurt?', 'injuries');
is($t->[7]{reply}, 'How many vehicles were involved, including yours?',
   'vehicles');
like($t->[8]{reply}, qr/\ALet me read that back\..*parking lot at work.*backed into my parked car.*Is that correct\?\z/s,
     'the facts read back before filing');
my ($id) = $t->[9]{reply}
    =~ /\AYour claim is filed\. Your claim number is (\S+?)\. An adjuster will call you within one business day\.\z/;
ok($id, "the claim id read back ($t->[9]{reply})");
is($t->[9]{after}, 'listen', 'the call goes on');

my $h = hash_of($r, 'fnol-1');
is($h->{claim_id}, $id, "the call's hash has the claim id");
is($h->{agent}, 'fnol', 'the active agent');
ok(length $h->{summary}, "the handoff's summary is kept");

my $claim = { @{ redis($r, 'HGETALL', "rtagent:claim:{$id}") } };
is($claim->{claim_id}, $id, 'claim: claim_id');
is($claim->{policy}, '12345678', 'claim: the policy auth verified');
is($claim->{call_id}, 'fnol-1', 'claim: call_id');
is($claim->{date}, $yesterday, 'claim: "yesterday" resolved');
is($claim->{location}, 'in the parking lot at work', 'claim: location');
is($claim->{description}, 'someone backed into my parked car',
   'claim: description');
is($claim->{injuries}, 'no', 'claim: injuries');
is($claim->{vehicles}, '2', 'claim: vehicles, an integer');
like($claim->{created_at}, qr/\A\d{4}-\d\d-\d\dT|\A\d{13}\z/,
     'claim: created_at');

# a volunteered fact is not asked for again; the policy comes with the
# handoff (auth verified it), fnol never asks for it
$t = turns($n, 'fnol-2', ['4 2 7 1 8 3 6 5', '9 8 1 0 1',
                           'someone hit my car yesterday']);
is($t->[3]{agent}, 'fnol', 'handed off');
is($t->[3]{expect}, 'fnol.where', 'the date given with the need is not asked');
unlike($t->[3]{reply}, qr/When did the accident happen/, 'no date question');
my $slots = decode_json(hash_of($r, 'fnol-2')->{slots});
is($slots->{when}, $yesterday, 'the volunteered date is in the fields');
is($slots->{policy}, '42718365', "auth's policy carried to fnol");

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no alert, no crash');

stop_nginx($n);

# rtagent_redact on: a card number in the caller's free text is kept
# redacted everywhere the call's state goes: the slots in the call's hash
# (and so the summaries built from them), the claim record; typed slots as
# they were
$n = start_agents($r, http => 'rtagent_redact on;');
$t = turns($n, 'fnol-3', ['1 2 3 4 5 6 7 8', '6 0 6 1 4',
                           'I want to report a car accident',
                           'yesterday',
                           'outside the bank on main street',
                           'they broke the window and took my card '
                           . '4242 4242 4242 4242',
                           'no', 'one', 'yes']);
($id) = ($t->[-1]{reply} // '') =~ /Your claim number is (\S+?)\./;
ok($id, 'the claim is filed with rtagent_redact on')
    or diag explain $t;
$id //= '';
$claim = { @{ redis($r, 'HGETALL', "rtagent:claim:{$id}") } };
is($claim->{description}, 'they broke the window and took my card [card]',
   'claim: the description redacted');
is($claim->{policy}, '12345678', 'claim: the policy as verified');
$h = hash_of($r, 'fnol-3');
unlike($h->{slots}, qr/4242/, "the call's slots hold no card number");
like($h->{slots}, qr/\[card\]/, '  but the label');
is(decode_json($h->{slots})->{policy}, '12345678', '  the policy is kept');
unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no alert, no crash');

stop_nginx($n);
done_testing();
