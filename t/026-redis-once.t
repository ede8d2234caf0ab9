# Events written once per call (docs/architecture.md section 5): CALL_STARTED,
# PARTICIPANT_JOINED (per participant) and CALL_ENDED may be emitted by the
# media session and by the ACS control plane, and by a second media
# session of the same call (ACS reconnecting its WebSocket); a guard field
# "ev:..." in the call's hash lets only the first emitter write each.
# Also: a hangup control message may say the call's outcome and reason;
# and the store's stateless functions (the control plane's: call_set,
# call_event, call_get, call_ended, control_count, dedupe), driven through
# the test module's rtagent_test_store location when it is loaded.
# nginx runs 2 workers with a master; the test starts its own redis-server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;

use IO::Select;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my ($test_module) = grep { /ngx_http_rtagent_test_module\.so$/ }
                    split ' ', $ENV{TEST_NGINX_LOAD_MODULES};

my $r = start_redis();
my $n = start_nginx(workers => 2,
                    main => $test_module ? "load_module $test_module;" : '',
                    http => "rtagent_redis 127.0.0.1:$r->{port};",
                    server => 'location = /ws/acs/media { rtagent_acs_media; }'
                              . ($test_module
                                 ? ' location = /store { rtagent_test_store; }'
                                 : ''));

ok(redis_up($n), 'both workers connected');

sub events_of {
    my ($id, $type) = @_;
    my $all = redis($r, 'XRANGE', 'rtagent:events', '-', '+');
    my @ev;
    for my $e (@$all) {
        my %f = @{ $e->[1] };
        next unless $f{call_id} eq $id;
        next if defined $type && $f{type} ne $type;
        $f{data} = decode_json($f{data});
        push @ev, \%f;
    }
    return @ev;
}

sub ended_in_log {
    my ($id) = @_;
    my $c = () = error_log($n)
                 =~ /rtagent store: call ended \(\w+\) after \d+ ms, call:\Q$id\E(?:\s|,|$)/mg;
    return $c;
}

# one media WebSocket session of call $id: the caller says @said (as
# [participant, text]), then hangs up
sub session {
    my ($id, @said) = @_;
    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    send_msgs($s, map { acs_transcription($_->[1], participant => $_->[0]) }
                      @said);
    my $entries = @said;
    ok(wait_for(sub { events_of($id, 'TRANSCRIPTION_RECEIVED') >= $entries }),
       "$id: what was said is in the stream");
    my $before = ended_in_log($id);
    send_msgs($s, cclose(1000));
    read_frames($s, 3);
    close $s;
    ok(wait_for(sub { ended_in_log($id) > $before }), "$id: session ended");
}

subtest 'two sessions of one call: one start, one end' => sub {
    my $id = 'once-call-1';
    my $key = "rtagent:call:{$id}";

    session($id, ['4:+15550100', 'hello'], ['4:+15550100', 'anyone']);

    ok(wait_for(sub { events_of($id, 'CALL_ENDED') == 1 }),
       'the first session wrote CALL_ENDED');
    my %h = @{ redis($r, 'HGETALL', $key) };
    like($h{'ev:started'}, qr/^\d{13}$/, 'guard ev:started in the hash');
    like($h{'ev:ended'}, qr/^\d{13}$/, 'guard ev:ended in the hash');
    like($h{'ev:joined:4:+15550100'}, qr/^\d{13}$/,
         'guard ev:joined:<rawId> in the hash');

    # ACS reconnects the media WebSocket: same call, a second session, a
    # second participant
    session($id, ['4:+15550100', 'still me'], ['8:acs:agent-7', 'me too']);

    # the second session's own writes are answered: its last ones are the
    # hash and the transcript's TTL, after its guarded CALL_ENDED
    ok(wait_for(sub { redis($r, 'HGET', $key, 'state') eq 'ended'
                      && events_of($id, 'TRANSCRIPTION_RECEIVED') == 4 }),
       'the second session ended');
    sleep 0.3;

    my @ev = events_of($id);
    is(scalar(grep { $_->{type} eq 'CALL_STARTED' } @ev), 1,
       'one CALL_STARTED');
    is(scalar(grep { $_->{type} eq 'CALL_ENDED' } @ev), 1, 'one CALL_ENDED');
    is_deeply([sort map { $_->{data}{participant} }
                    grep { $_->{type} eq 'PARTICIPANT_JOINED' } @ev],
              ['4:+15550100', '8:acs:agent-7'],
              'PARTICIPANT_JOINED once per participant');
    is($ev[0]{type}, 'CALL_STARTED', 'CALL_STARTED comes first');
    is($ev[-1]{type}, 'TRANSCRIPTION_RECEIVED',
       'no event after the second session\'s words');
    is(scalar(grep { $_->{type} eq 'TRANSCRIPTION_RECEIVED' } @ev), 4,
       'every transcription is there');

    # the first session's order is kept behind the guards
    is_deeply([map { $_->{type} } @ev[0 .. 4]],
              [qw(CALL_STARTED PARTICIPANT_JOINED TRANSCRIPTION_RECEIVED
                  TRANSCRIPTION_RECEIVED CALL_ENDED)],
              'the first session\'s events in order');
};

# hangup control messages, as the ACS control plane sends them
sub hangup {
    my ($id, $msg) = @_;
    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    ok(wait_for(sub { redis($r, 'PUBSUB', 'NUMSUB',
                            "rtagent:call:{$id}:ctl")->[1] == 1 }),
       "$id: the call listens for control messages");

    my $out = redis_cli($r, 'PUBLISH', "rtagent:call:{$id}:ctl",
                        encode_json($msg));
    chomp $out;
    is($out, 1, "$id: hangup published");

    my $f = read_frames($s, 3);
    is_deeply($f->[-1], [8, pack('n', 1000) . 'hung up'],
              "$id: closed with 1000 \"hung up\"");
    send_msgs($s, cclose(1000));
    close $s;

    my @end;
    ok(wait_for(sub { @end = events_of($id, 'CALL_ENDED') }),
       "$id: CALL_ENDED");
    ok(wait_for(sub { redis($r, 'HGET', "rtagent:call:{$id}", 'state')
                      eq 'ended' }), "$id: state ended");
    return ({ @{ redis($r, 'HGETALL', "rtagent:call:{$id}") } },
            $end[0]{data});
}

subtest 'hangup with an outcome' => sub {
    my ($h, $e) = hangup('once-hangup-1',
                         { action => 'hangup', outcome => 'caller_hung_up',
                           reason => 'CallDisconnected from ACS' });
    is($h->{outcome}, 'caller_hung_up', 'hash outcome');
    is($h->{reason}, 'CallDisconnected from ACS', 'hash reason');
    is($e->{outcome}, 'caller_hung_up', 'CALL_ENDED outcome');
    is($e->{reason}, 'CallDisconnected from ACS', 'CALL_ENDED reason');
    like(error_log($n),
         qr/rtagent call: outcome caller_hung_up: CallDisconnected from ACS, call:once-hangup-1/,
         'logged');
};

subtest 'hangup with an outcome that is not known' => sub {
    my ($h, $e) = hangup('once-hangup-2',
                         { action => 'hangup', outcome => 'dance',
                           reason => 'why not' });
    is($h->{outcome}, 'closed_by_control', 'hash outcome closed_by_control');
    is($e->{outcome}, 'closed_by_control', 'CALL_ENDED closed_by_control');
    is($e->{reason}, 'why not', 'the reason is kept');
};

subtest 'hangup without an outcome' => sub {
    my ($h, $e) = hangup('once-hangup-3', { action => 'hangup' });
    is($h->{outcome}, 'closed_by_control', 'hash outcome closed_by_control');
    is($h->{reason}, '', 'no reason');
    ok(!exists $e->{reason}, 'CALL_ENDED without a reason');
};

# GET /store?... of nginx $on (default $n): the reply's body
sub store {
    my ($query, $on) = @_;
    $on //= $n;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$on->{port}")
        or die "connect: $!";
    print $s "GET /store?$query HTTP/1.0\r\nHost: localhost\r\n\r\n";
    my ($buf, $sel, $end) = ('', IO::Select->new($s), time + 10);
    while (time < $end && $sel->can_read($end - time)) {
        last unless sysread($s, $buf, 65536, length $buf);
    }
    close $s;
    $buf =~ s/^.*?\r\n\r\n//s;
    chomp $buf;
    return $buf;
}

SKIP: {
    skip 'the test module is not loaded', 3 unless $test_module;

    subtest 'the control plane\'s functions' => sub {
        my $id = 'cp-call-1';
        my $key = "rtagent:call:{$id}";
        my $created = int(time * 1000) - 5000;

        is(store("op=set&id=$id&name=created&value=$created"), 'rc=1',
           'call_set');
        # call_set returns once the write is queued: Redis has it soon after
        ok(wait_for(sub { (redis($r, 'HGET', $key, 'created') // '') eq $created }),
           'created written');
        is(redis($r, 'HGET', $key, 'call_id'), $id, 'call_id written');
        my $pttl;
        ok(wait_for(sub { ($pttl = redis($r, 'PTTL', $key)) > 86400000 - 60000 }),
           'hash 24 h (PTTL ' . ($pttl // '?') . ')');

        is(store("op=get&id=$id&names=created,call_id,nope"),
           "n=3 created=$created call_id=$id nope=-", 'call_get');
        is(store('op=get&id=cp-nobody&names=state'), 'n=1 state=-',
           'call_get of a call Redis does not know');

        is(store("op=event&id=$id&type=CALL_STARTED&once=ev:started"), 'rc=1',
           'call_event with a guard');
        is(store("op=event&id=$id&type=CALL_STARTED&once=ev:started"), 'rc=1',
           'and again');
        is(store("op=event&id=$id&type=RECORDING_STARTED"), 'rc=1',
           'call_event without a guard');
        ok(wait_for(sub { events_of($id, 'RECORDING_STARTED') }),
           'RECORDING_STARTED written');
        my @started = events_of($id, 'CALL_STARTED');
        is(scalar @started, 1, 'CALL_STARTED written once');
        is($started[0]{data}{via}, 'test', 'with its data');

        # a guard on a call the hash does not exist for gets the hash a TTL
        is(store('op=event&id=cp-call-2&type=CALL_STARTED&once=ev:started'),
           'rc=1', 'a guard on a new call');
        ok(wait_for(sub { redis($r, 'HGET', 'rtagent:call:{cp-call-2}',
                                'ev:started') }), 'its guard');
        ok(redis($r, 'PTTL', 'rtagent:call:{cp-call-2}') > 0,
           'the hash it made expires');

        is(store("op=ended&id=$id&outcome=caller_hung_up&reason=bye"),
           'rc=1', 'call_ended: this one ended it');
        my %h = @{ redis($r, 'HGETALL', $key) };
        is($h{state}, 'ended', 'state ended');
        is($h{outcome}, 'caller_hung_up', 'outcome');
        is($h{reason}, 'bye', 'reason');
        ok($h{duration_ms} >= 5000 && $h{duration_ms} < 60000,
           "duration_ms $h{duration_ms} from created");
        like($h{ended}, qr/^\d{13}$/, 'ended');
        is($h{'ev:ended'}, $h{ended}, 'guard ev:ended');

        is(store("op=ended&id=$id&outcome=error"), 'rc=0',
           'call_ended again: had ended');
        is(redis($r, 'HGET', $key, 'outcome'), 'caller_hung_up',
           'the first outcome stays');
        my @end;
        ok(wait_for(sub { @end = events_of($id, 'CALL_ENDED') }),
           'CALL_ENDED');
        is(scalar @end, 1, 'one CALL_ENDED');
        is_deeply($end[0]{data}, { duration_ms => $h{duration_ms},
                                   outcome => 'caller_hung_up',
                                   reason => 'bye' }, 'its data');

        # the media session ended the call first: nothing more
        is(store('op=ended&id=once-call-1&outcome=caller_hung_up'), 'rc=0',
           'a call its session ended');
        is(scalar(events_of('once-call-1', 'CALL_ENDED')), 1,
           'still one CALL_ENDED');

        # dedupe: 1 then 0, kept 24 h
        is(store('op=dedupe&id=evt-1'), 'rc=1', 'dedupe: new');
        is(store('op=dedupe&id=evt-1'), 'rc=0', 'dedupe: a repeat');
        $pttl = redis($r, 'PTTL', 'rtagent:event:{evt-1}');
        ok($pttl > 86400000 - 60000, "dedupe key 24 h (PTTL $pttl)");

        is(store('op=count&id=cp-nobody'), 'rc=0',
           'control_count: nobody listens');
    };

    subtest 'the control plane ends a live call first' => sub {
        my $id = 'cp-call-3';
        my $key = "rtagent:call:{$id}";
        my $s = open_call($n->{port}, $id, acs_metadata(16000));
        ok(wait_for(sub { redis($r, 'PUBSUB', 'NUMSUB', "$key:ctl")->[1] }),
           'the call is up');
        is(store("op=count&id=$id"), 'rc=1',
           'control_count: its worker listens');

        is(store("op=ended&id=$id&outcome=agent_hung_up"), 'rc=1',
           'call_ended');
        my $before = ended_in_log($id);
        send_msgs($s, cclose(1000));
        read_frames($s, 3);
        close $s;
        ok(wait_for(sub { ended_in_log($id) > $before }), 'session ended');
        sleep 0.3;
        my @end = events_of($id, 'CALL_ENDED');
        is(scalar @end, 1, 'one CALL_ENDED');
        is($end[0]{data}{outcome}, 'agent_hung_up', 'the control plane\'s');
        is(scalar(events_of($id, 'CALL_STARTED')), 1, 'one CALL_STARTED');
    };

    subtest 'without rtagent_redis' => sub {
        my $m = start_nginx(main => "load_module $test_module;",
                            server => 'location = /store { rtagent_test_store; }');
        is(store("op=$_&id=x&names=a&type=T&outcome=o&name=a&value=b", $m),
           'declined', "$_: declined")
            for qw(set get event ended count dedupe);
        ok(stop_nginx($m), 'stopped');
    };
}

ok(stop_nginx($n), 'nginx stopped');
my $text = error_log($n);
unlike($text, qr/\[(?:alert|crit|emerg)\]/, 'no alerts') or diag $text;
unlike($text, qr/\[error\]/, 'no errors') or diag $text;
unlike($text, qr/once-only guard/, 'no guard failed');
stop_redis($r);

done_testing();
