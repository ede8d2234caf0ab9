# Cross-worker control over Redis pub/sub: a JSON message published on
# rtagent:call:{<id>}:ctl reaches the worker that holds the call's
# WebSocket, wherever it is, and is acted on.  The publisher is redis-cli,
# i.e. not the owning worker (another NGINX instance, as an ACS callback
# handler would be).  nginx runs 2 workers with a master, and calls are
# opened until each worker holds one; the owner of each call is the pid on
# its log line and in its hash.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;

use JSON::PP;
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $r = start_redis();
my $n = start_nginx(workers => 2, listen => 'reuseport',
                    http => "rtagent_redis 127.0.0.1:$r->{port};",
                    server => 'location = /ws/acs/media { rtagent_acs_media; }');

ok(redis_up($n),
   'both workers connected');

my $stop = '{"kind":"StopAudio","stopAudio":{}}';

# open calls until each worker holds one; the others are closed again
my (%call, @extra);
for my $i (1 .. 40) {
    my $id = "ctl-call-$i";
    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    my $pid = wait_for(sub { call_owner(error_log($n), $id) }, 5);
    if ($pid && !$call{$pid}) {
        $call{$pid} = { id => $id, s => $s };
    } else {
        push @extra, $s;
    }
    last if keys %call == 2;
}

is(scalar keys %call, 2, 'each worker holds a call')
    or BAIL_OUT('connections never reached both workers');

for my $s (@extra) {
    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;
}

sub publish {
    my ($id, $msg) = @_;
    my $out = redis_cli($r, 'PUBLISH', "rtagent:call:{$id}:ctl", $msg);
    chomp $out;
    return $out;
}

sub events_of {
    my ($id, $type) = @_;
    my $all = redis($r, 'XRANGE', 'rtagent:events', '-', '+');
    my @ev;
    for my $e (@$all) {
        my %f = @{ $e->[1] };
        push @ev, decode_json($f{data})
            if $f{call_id} eq $id && $f{type} eq $type;
    }
    return @ev;
}

for my $pid (sort keys %call) {
    my ($id, $s) = @{ $call{$pid} }{qw(id s)};
    my $key = "rtagent:call:{$id}";

    subtest "call $id in worker $pid" => sub {
        is(redis($r, 'HGET', $key, 'owner_worker'), $pid,
           'the hash names the owner');

        # a long utterance, then its echo: stop_audio cuts it
        send_msgs($s, acs_audio(tone(1000) . silence(700)));
        my $f = read_frames($s, 3, sub { @{ $_[0] } >= 3 });
        ok(@$f >= 3, 'the echo is playing');

        is(publish($id, '{"action":"stop_audio"}'), 1,
           'stop_audio reaches exactly one subscriber');

        $f = read_frames($s, 2, sub { grep { $_->[1] eq $stop } @{ $_[0] } });
        ok((grep { $_->[1] eq $stop } @$f), 'StopAudio sent');

        # the echo had 1.7 s to go: nothing more comes
        $f = read_frames($s, 0.5);
        is(scalar(grep { $_->[1] =~ /AudioData/ } @$f), 0,
           'the playout stopped');

        like(error_log($n),
             qr/\[info\] $pid#\d+: \*\d+ rtagent call: audio stopped by control, call:\Q$id\E/,
             'the owning worker acted on it');

        # words for the agent: into the transcript, not spoken
        is(publish($id, encode_json({ action => 'inject_text',
                                      text => "Please hold, \"agent\" \x{e9}" })),
           1, 'inject_text published');

        ok(wait_for(sub { redis($r, 'LLEN', "$key:transcript") == 1 }),
           'a transcript entry');
        my $e = decode_json(redis($r, 'LINDEX', "$key:transcript", 0));
        is($e->{role}, 'agent', 'the agent\'s line');
        is($e->{text}, "Please hold, \"agent\" \x{e9}", 'its text');
        is($e->{source}, 'control', 'marked as injected');

        my ($ev) = events_of($id, 'AGENT_RESPONSE_GENERATED');
        ok((grep { ($_->{source} // '') eq 'control' }
                 events_of($id, 'AGENT_RESPONSE_GENERATED')),
           'AGENT_RESPONSE_GENERATED for it');

        # no ACS account in this nginx: the transfer cannot be sent
        is(publish($id, '{"action":"transfer","target":"+15550199"}'), 1,
           'transfer published');
        my @err;
        ok(wait_for(sub { @err = events_of($id, 'ERROR_OCCURRED') }),
           'ERROR_OCCURRED');
        is($err[0]{error}, 'transfer not sent', 'transfer not sent');
        is($err[0]{target}, '+15550199', 'with the target');

        # nonsense is logged and reported, and the call goes on
        publish($id, '{"action":');
        publish($id, '{"action":"dance"}');
        ok(wait_for(sub { events_of($id, 'ERROR_OCCURRED') == 3 }),
           'bad messages reported');
        like(error_log($n), qr/malformed control message ignored.*call:\Q$id\E/,
             'malformed message logged');
        like(error_log($n), qr/control action "dance" is unknown/,
             'unknown action logged');

        # hangup: the channel closes with 1000 "hung up"
        is(publish($id, '{"action":"hangup"}'), 1, 'hangup published');
        $f = read_frames($s, 3);
        is_deeply($f->[-1], [8, pack('n', 1000) . 'hung up'],
                  'closed with 1000 "hung up"');
        send_msgs($s, cclose(1000));
        close $s;

        ok(wait_for(sub { redis($r, 'HGET', $key, 'state') eq 'ended' }),
           'the call ended');
        is(redis($r, 'HGET', $key, 'outcome'), 'closed_by_control',
           'outcome closed_by_control');
        # added from its guard's reply, after the hash says "ended"
        my $end;
        wait_for(sub { ($end) = events_of($id, 'CALL_ENDED'); $end });
        is($end && $end->{outcome}, 'closed_by_control', 'CALL_ENDED outcome');

        ok(wait_for(sub { redis($r, 'PUBSUB', 'NUMSUB', "$key:ctl")->[1] == 0 }),
           'the worker left the control channel');
        is(publish($id, '{"action":"hangup"}'), 0, 'nobody listens now');
    };
}

ok(stop_nginx($n), 'nginx stopped');
my $text = error_log($n);
unlike($text, qr/\[(?:alert|crit|emerg)\]/, 'no alerts') or diag $text;
stop_redis($r);

done_testing();
