# The spoken first notice of loss, end to end on the local engines with no
# network: build/rtagent-call plays an espeak-ng caller over ACS media into
# rtagent_engine agents with the shipped agents and demo policyholders;
# each turn is heard through the search of what the agent asked (digits,
# intents, the free-text slots' phrases), answered by the local dialogue
# engine and spoken by espeak-ng.  The caller is verified by auth, handed
# to fnol, gives when, where, what happened, injuries and vehicles, and
# confirms: rtagent:claim:{<id>} holds every field right, the call's hash
# its claim_id, and the agent reads the id back.  Callers in two voices
# (en-us, en-gb) at two rates, and one who gives a wrong policy number
# first.  Digits are said run together as espeak-ng says them at these
# rates (pauses between them decode worse through the en-us model).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentNginx;
use RtagentRedis;
use RtagentCall;

use File::Temp qw(tempdir);
use POSIX qw(strftime);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'build/rtagent-call is not built (make)' unless call_tool();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng is needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng';

my $agents = "$FindBin::Bin/../agents";

# two gateways, a call on each at a time: the calls are real time, so the
# file takes two calls' time instead of four.  Each gateway's second call
# is in the voice of its first, after it, as when the four ran one after
# the other on one gateway (on a fresh gateway en-us's "seven" at 130 wpm
# came out "one": the decoders, reused, adapt to what they heard).  Two
# gateways, as rtagent-call serves its gateway's ACS endpoint; one Redis
my $r = start_redis();
my @gw = map {
    start_call_gateway(
        redis => $r->{port}, engine => 'agents',
        http => "rtagent_agents $agents;\nrtagent_entry_agent auth;\n"
              . "rtagent_agent_data $agents/data/policyholders.yaml;\n")
} 1 .. 2;
for my $i (0 .. $#gw) {
    ok(redis_up($gw[$i], 1), "gateway $i: the worker is connected to Redis")
        or diag error_log($gw[$i]);
}
ok(wait_for(sub { redis($r, 'EXISTS', 'rtagent:policy:{42718365}') }, 10),
   'the policyholders are in Redis');

my $tmp = tempdir(CLEANUP => 1);

# relative dates resolve against the call's date (UTC)
my $yesterday = strftime('%Y-%m-%d', gmtime(time - 86400));

my @need = ('I want to report a car accident', 'yesterday',
            'in the parking lot at work',
            'someone backed into my parked car', 'no', 'two', 'yes');

# the demo policyholders whose digits each voice says clearly enough for
# the en-us acoustic model (en-us's "eight" comes out "six", en-gb's
# "seven" "one")
my %alice = (policy => '42718365',
             auth => ['four two seven one eight three six five',
                      'nine eight one zero one']);
my %david = (policy => '31415926',
             auth => ['three one four one five nine two six',
                      'seven three three zero one']);

# a call on gateway $n, started: its rtagent-call runs beside the other's
sub fnol_start {
    my ($n, $name, $voice, $rate, $who, @lines) = @_;

    my $script = "$tmp/$name.txt";
    open my $fh, '>', $script or die $!;
    print $fh map { "$_\n" } @lines;
    close $fh;

    my $h = start_call($n, '--script', $script, '--voice', $voice,
                       '--rate', $rate, '--redis', "127.0.0.1:$r->{port}",
                       '--first-wait', 60000, '--reply-timeout', 60000,
                       '--answer-timeout', 30000);
    return { %$h, name => $name, who => $who };
}

sub fnol_check {
    my ($h) = @_;
    my ($name, $who) = @$h{qw(name who)};

    my $res = finish_call($h);
    is($res->{rc}, 0, "$name: the call succeeds") or diag $res->{err};

    my ($id) = $res->{out} =~ /^agent\[fnol\]: Your claim is filed\. Your claim number is (\S+?)\./m;
    ok($id, "$name: the claim number is read back")
        or diag "$res->{out}\n", $res->{err};
    $id //= '';
    like($res->{out}, qr/^agent\[auth\]: Thank you for calling Contoso Insurance\./m,
         "$name: the greeting is auth's, in the transcript");

    my $claim = { @{ redis($r, 'HGETALL', "rtagent:claim:{$id}") } };
    is($claim->{claim_id}, $id, "$name: claim_id");
    is($claim->{policy}, $who->{policy}, "$name: the policy auth verified");
    is($claim->{date}, $yesterday, "$name: \"yesterday\" resolved");
    # the free-text slots as heard through their phrase models
    like($claim->{location} // '', qr/\bparking lot at work\z/,
         "$name: location");
    like($claim->{description} // '', qr/\Asomeone \w+ into my parked car\z/,
         "$name: description");
    is($claim->{injuries}, 'no', "$name: injuries");
    is($claim->{vehicles}, '2', "$name: vehicles");
    like($claim->{call_id} // '', qr/\Arc-/, "$name: call_id");
    is(redis($r, 'HGET', "rtagent:call:{" . ($claim->{call_id} // '') . "}",
             'claim_id'), $id, "$name: the call's hash has the claim id");
    return $res;
}

my @first = (
    fnol_start($gw[0], 'us-150', 'en-us', 150, \%david, @{ $david{auth} },
               @need),
    fnol_start($gw[1], 'gb-130', 'en-gb', 130, \%alice, @{ $alice{auth} },
               @need));
fnol_check($_) for @first;

my @second = (
    # a wrong policy number first: auth asks again, then verifies
    fnol_start($gw[0], 'wrong-first', 'en-us', 130, \%david,
               'one one one one two two two two', $david{auth}[1],
               @{ $david{auth} }, @need),
    fnol_start($gw[1], 'gb-150', 'en-gb', 150, \%alice, @{ $alice{auth} },
               @need));
my $res = fnol_check($second[0]);
fnol_check($second[1]);
like($res->{out}, qr/I could not match those details\. Let us try once more\./,
     'wrong-first: the first policy number is not matched');

for my $i (0 .. $#gw) {
    unlike(error_log($gw[$i]), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
           "gateway $i: no alert, no crash");
    stop_nginx($gw[$i]);
}
done_testing();
