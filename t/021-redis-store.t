# Call state in a real Redis (docs/architecture.md section 5): the call hash, the
# transcript list (no context: the agents write it) with their literal-brace hash tag,
# their types and TTLs while the call lives and after it ended, and the
# events in the rtagent:events stream.  nginx runs 2 workers with a master;
# the test starts its own redis-server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;

use JSON::PP;
use Time::HiRes qw(sleep);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $r = start_redis();
my $n = start_nginx(workers => 2,
                    http => "rtagent_redis 127.0.0.1:$r->{port};",
                    server => 'location = /ws/acs/media { rtagent_acs_media; }');

ok(redis_up($n),
   'both workers connected (commands and subscriber)')
    or diag error_log($n);

my $H = 24 * 3600 * 1000;
my $h = 3600 * 1000;

sub ttl_ok {
    my ($key, $ttl, $name) = @_;
    my $pttl = redis($r, 'PTTL', $key);
    ok($pttl > $ttl - 60000 && $pttl <= $ttl, "$name: PTTL $pttl")
        or diag "PTTL $key = $pttl";
}

sub events_of {
    my ($id) = @_;
    my $all = redis($r, 'XRANGE', 'rtagent:events', '-', '+');
    my @ev;
    for my $e (@$all) {
        my %f = @{ $e->[1] };
        push @ev, \%f if $f{call_id} eq $id;
    }
    return @ev;
}

my $id = 'store-call-1';
my $key = "rtagent:call:{$id}";

my $s = open_call($n->{port}, $id, acs_metadata(16000));
send_msgs($s, acs_audio(silence(40)));

ok(wait_for(sub { redis($r, 'HGET', $key, 'state') }),
   'the call hash exists once the call started');

my $owner = call_owner(error_log($n), $id);
ok($owner, "the call landed in worker $owner");

my %hash = @{ redis($r, 'HGETALL', $key) };
is($hash{state}, 'active', 'state active');
is($hash{agent}, 'echo', 'agent');
is($hash{call_id}, $id, 'call_id');
is($hash{slots}, '{}', 'slots');
is($hash{auth}, 'none', 'auth');
is($hash{owner_worker}, $owner, 'owner_worker is the pid in the log');
ok(length $hash{owner_instance}, 'owner_instance');
like($hash{started}, qr/^\d{13}$/, 'started in ms since the epoch');
is($hash{sample_rate}, 16000, 'sample rate');

is(redis($r, 'TYPE', $key), 'hash', 'call key is a hash');
ttl_ok($key, $H, 'call hash 24 h');
# the context is the agents' (t/065): the echo engine writes none
is(redis($r, 'EXISTS', "$key:context"), 0, 'no context for the echo engine');

# what is said: two final transcriptions, a partial one (not stored), a
# tone, and an utterance that the echo engine plays back
send_msgs($s, acs_transcription('Hello everyone.'),
              acs_transcription('Hel', final => 0),
              acs_dtmf('5'),
              acs_transcription('I had a "car" accident \\ yesterday.'),
              acs_audio(tone(200) . silence(700)));

my $frames = read_frames($s, 3, sub { grep { $_->[0] == 1 } @{ $_[0] } });
ok(scalar @$frames, 'the echo plays');

ok(wait_for(sub { redis($r, 'LLEN', "$key:transcript") == 3 }),
   'three transcript entries');
is(redis($r, 'TYPE', "$key:transcript"), 'list', 'transcript is a list');
ttl_ok("$key:transcript", $h, 'transcript 1 h');

my @t = map { decode_json($_) } @{ redis($r, 'LRANGE', "$key:transcript",
                                         0, -1) };
is_deeply([map { $_->{seq} } @t], [1, 2, 3], 'entries numbered in order');
is($t[0]{role}, 'caller', 'caller entry');
is($t[0]{text}, 'Hello everyone.', 'caller text');
like($t[0]{ts}, qr/^\d{13}$/, 'ts in ms');
is($t[1]{dtmf}, '5', 'dtmf entry');
is($t[1]{role}, 'caller', 'dtmf is the caller\'s');
is($t[2]{text}, 'I had a "car" accident \\ yesterday.',
   'quotes and backslashes survive');

# the caller hangs up
send_msgs($s, cclose(1000));
read_frames($s, 3);
close $s;

ok(wait_for(sub { redis($r, 'HGET', $key, 'state') eq 'ended' }),
   'state ended');
%hash = @{ redis($r, 'HGETALL', $key) };
is($hash{outcome}, 'caller_hung_up', 'outcome');
like($hash{duration_ms}, qr/^\d+$/, "duration_ms $hash{duration_ms}");
like($hash{ended}, qr/^\d{13}$/, 'ended');

ttl_ok($key, $H, 'call hash 24 h after the end');
ttl_ok("$key:transcript", $h, 'transcript 1 h after the end');

# CALL_ENDED is added from its guard's reply, after the hash says "ended"
my @ev;
wait_for(sub { @ev = events_of($id);
               grep { $_->{type} eq 'CALL_ENDED' } @ev });
is_deeply([map { $_->{type} } @ev],
          [qw(CALL_STARTED PARTICIPANT_JOINED TRANSCRIPTION_RECEIVED
              TRANSCRIPTION_RECEIVED AGENT_RESPONSE_GENERATED CALL_ENDED)],
          'events in order');

for my $e (@ev) {
    like($e->{ts}, qr/^\d{13}$/, "$e->{type} ts");
}

my %d = map { $_->{type} => decode_json($_->{data}) } @ev;
is($d{CALL_STARTED}{owner_worker}, $owner, 'CALL_STARTED names the owner');
is($d{PARTICIPANT_JOINED}{participant}, '4:+15550100',
   'PARTICIPANT_JOINED names the participantRawID');
is($d{TRANSCRIPTION_RECEIVED}{text}, 'I had a "car" accident \\ yesterday.',
   'TRANSCRIPTION_RECEIVED text');
is($d{TRANSCRIPTION_RECEIVED}{confidence}, 0.9226, 'confidence');
is($d{AGENT_RESPONSE_GENERATED}{agent}, 'echo', 'AGENT_RESPONSE_GENERATED');
ok($d{AGENT_RESPONSE_GENERATED}{duration_ms} >= 200, 'echo duration');
is($d{CALL_ENDED}{outcome}, 'caller_hung_up', 'CALL_ENDED outcome');
is($d{CALL_ENDED}{transcript_entries}, 3, 'CALL_ENDED entries');

my $len = redis($r, 'XINFO', 'STREAM', 'rtagent:events');
ok(ref $len eq 'ARRAY', 'rtagent:events is a stream');

# a stream without x-ms-call-connection-id gets a random 128-bit id
$s = open_call($n->{port}, undef, acs_metadata(16000));
my $gen;
ok(wait_for(sub { ($gen) = error_log($n) =~ /call state in "rtagent:call:\{([0-9a-f]{32})\}"/ }),
   'a generated call id');
ok($gen && wait_for(sub { redis($r, 'HGET', "rtagent:call:{$gen}", 'state') }),
   'its state is stored');
send_msgs($s, cclose(1000));
read_frames($s, 3);
close $s;

ok(wait_for(sub { redis($r, 'HGET', "rtagent:call:{$gen}", 'state') eq 'ended' }),
   'and ended');

ok(stop_nginx($n), 'nginx stopped');
my $text = error_log($n);
unlike($text, qr/\[(?:alert|crit|emerg)\]/, 'no alerts') or diag $text;
unlike($text, qr/open socket #\d+ left/, 'no socket left open');
unlike($text, qr/redis.*(?:failed|lost)/, 'no Redis errors');

# calls that a shutdown ends are recorded as ended
for my $case (['QUIT', 'server shutting down'], ['TERM', 'worker exited']) {
    my ($signal, $reason) = @$case;
    subtest "SIG$signal with a live call" => sub {
        my $n = start_nginx(workers => 2,
                            main => 'worker_shutdown_timeout 300ms;',
                            http => "rtagent_redis 127.0.0.1:$r->{port};",
                            server => 'location = /ws/acs/media { rtagent_acs_media; }');
        my $id = "shutdown-$signal";
        my $key = "rtagent:call:{$id}";
        my $s = open_call($n->{port}, $id, acs_metadata(16000));
        ok(wait_for(sub { redis($r, 'HGET', $key, 'state') }), 'the call is up');

        kill $signal, $n->{pid};
        read_frames($s, 3);
        close $s;
        ok(wait_gone($n->{pid}), 'nginx exited');

        is(redis($r, 'HGET', $key, 'state'), 'ended', 'state ended');
        is(redis($r, 'HGET', $key, 'outcome'), 'error', 'outcome error');
        is(redis($r, 'HGET', $key, 'reason'), $reason, "reason: $reason");
        ok((grep { $_->{type} eq 'CALL_ENDED' } events_of($id)),
           'CALL_ENDED');
        unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]/, 'no alerts');
    };
}

stop_redis($r);

done_testing();
