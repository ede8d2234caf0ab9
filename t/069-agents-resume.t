# A call resumed from its Redis state, and the agents in a call session.
#
# Resume: a call's turns run on one nginx (rtagent_test_turns) up to the
# middle of fnol; that nginx goes away (its memory with it) and the next
# caller turn runs on a second nginx with the same Redis: it reads the
# call's hash back (active agent, auth, fields) and goes on with the next
# question; a new session of the call greets again with the active agent
# and asks what is still open; the context list goes on.
#
# Session: rtagent_engine agents over ACS media with the local engines: the
# entry agent's greeting is synthesised and sent as soon as media starts,
# before the caller has said anything, and lands in the transcript.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentTurns;

use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test driver module is not loaded' unless test_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $r = start_redis();

my $n1 = start_agents($r);
my $t = turns($n1, 'resume-1', ['4 2 7 1 8 3 6 5', '9 8 1 0 1',
                                'I want to report a car accident',
                                'yesterday']);
is($t->[4]{agent}, 'fnol', 'in fnol on the first nginx');
is($t->[4]{expect}, 'fnol.where', 'the place asked');
my $before = scalar @{ context_of($r, 'resume-1') };
ok(stop_nginx($n1), 'the first nginx is gone');

my $n2 = start_agents($r);
$t = turns($n2, 'resume-1', ['in the parking lot at work'], greet => 0);
is(scalar @$t, 1, 'one turn on the second nginx');
is($t->[0]{agent}, 'fnol', 'still in fnol');
is($t->[0]{reply}, 'Please tell me briefly what happened.',
   'the next question: the place was taken');
is($t->[0]{expect}, 'fnol.what', 'expects what happened');
like(error_log($n2),
     qr/rtagent agents: call resumed from Redis at agent "fnol" with \d+ fields, call:resume-1/,
     'resumed from Redis, logged with the call id');
my $h = hash_of($r, 'resume-1');
is($h->{auth}, 'verified', 'auth state kept');
my $slots = decode_json($h->{slots});
is($slots->{policy}, '42718365', 'the policy kept');
is($slots->{where}, 'in the parking lot at work', 'the new slot written');
is(scalar @{ context_of($r, 'resume-1') }, $before + 2,
   'the context goes on');

# a new session of the call: the active agent greets and asks what is open
$t = turns($n2, 'resume-1', []);
is($t->[0]{kind}, 'greeting', 'a greeting');
is($t->[0]{agent}, 'fnol', 'by the active agent');
like($t->[0]{reply},
     qr/\AI am sorry to hear about the accident\..*Please tell me briefly what happened\.\z/,
     'its greeting, then the question still open');

# two failed checks, then the caller calls back in: the third still ends
# it (a new session gets no new attempts)
$t = turns($n2, 'resume-auth', ['4 2 7 1 8 3 6 5', '1 1 1 1 1',
                                 '4 2 7 1 8 3 6 5', '2 2 2 2 2']);
is($t->[4]{after}, 'listen', 'two failures: the call goes on');
$t = turns($n2, 'resume-auth', ['4 2 7 1 8 3 6 5', '3 3 3 3 3']);
is($t->[0]{kind}, 'greeting', 'a new session greets again');
is($t->[2]{after}, 'transfer', 'the third failure escalates all the same');
stop_nginx($n2);

# the greeting turn in a call session
SKIP: {
    skip 'espeak-ng is needed', 7 unless -x '/usr/bin/espeak-ng';

    my $n = start_nginx(
        main => 'thread_pool rtagent_speech threads=2;',
        http => "rtagent_redis 127.0.0.1:$r->{port};\n"
              . 'rtagent_agents ' . shipped_agents() . ";\n",
        server => 'location = /ws/acs/media { rtagent_acs_media;'
                . ' rtagent_engine agents; rtagent_stt local;'
                . ' rtagent_tts local; }');
    my $s = open_call($n->{port}, 'session-1', acs_metadata(16000));
    send_msgs($s, acs_audio(silence(200)));
    my $frames = frames_until($s, 20, sub {
        (grep { $_->[0] == 1 && $_->[1] =~ /"AudioData"/ } @{ $_[0] }) > 100
    });
    my $audio = grep { $_->[0] == 1 && $_->[1] =~ /"AudioData"/ } @$frames;
    ok($audio > 100, "the agent speaks first ($audio frames of 20 ms)");

    my $key = 'rtagent:call:{session-1}:transcript';
    ok(wait_for(sub { redis($r, 'LLEN', $key) >= 1 }, 20),
       'the greeting is in the transcript');
    my @e = map { decode_json($_) } @{ redis($r, 'LRANGE', $key, 0, -1) };
    is($e[0]{role}, 'agent', "the first entry is the agent's");
    like($e[0]{text}, qr/\AThank you for calling Contoso Insurance\./,
         "the entry agent's greeting");
    ok(!(grep { $_->{role} eq 'caller' } @e), 'nothing from the caller');
    is(hash_of($r, 'session-1')->{agent}, 'auth', 'the hash: auth');
    my ($started) = grep { $_->{type} eq 'CALL_STARTED'
                           && $_->{call_id} eq 'session-1' }
                    map { +{ @{ $_->[1] } } }
                    @{ redis($r, 'XRANGE', 'rtagent:events', '-', '+') };
    is(decode_json($started->{data} // '{}')->{agent}, 'auth',
       'CALL_STARTED names the entry agent');
    close $s;
    stop_nginx($n);
}

done_testing();
