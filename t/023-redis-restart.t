# A Redis outage during a call loses nothing said on it.
#
# 1. redis-server is killed (SIGKILL) mid-call and started again on the
#    same port, empty (no persistence).  Transcriptions arrive before,
#    during and after the outage: afterwards Redis holds every transcript
#    entry in order, the call hash is back, and the call's
#    control channel works again (the subscription was renewed).  What it
#    waits for is the condition itself (the channel's subscriber count,
#    the frames), never a sleep.
# 2. redis-server hangs (SIGSTOP) with writes in flight: the reply timeout
#    drops the connection, the writes are sent again once it answers, and
#    the server-side sequence check keeps the transcript free of doubles.
# 3. redis-server hangs while a call is idle: the keepalive PING of both
#    connections goes unanswered, they reconnect, and control works again.
#
# nginx runs 2 workers with a master; the test runs its own redis-server.

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
                    http => "rtagent_redis 127.0.0.1:$r->{port} "
                            . 'connect_timeout=500ms command_timeout=500ms;',
                    server => 'location = /ws/acs/media { rtagent_acs_media; }');

ok(redis_up($n),
   'both workers connected');

my $stop = '{"kind":"StopAudio","stopAudio":{}}';

sub transcript {
    my ($id) = @_;
    return [ map { my $e = decode_json($_); $e->{text} // "dtmf:$e->{dtmf}" }
             @{ redis($r, 'LRANGE', "rtagent:call:{$id}:transcript", 0, -1) } ];
}

# LRANGEs Redis ran so far
sub lranges {
    return redis($r, 'INFO', 'commandstats') =~ /cmdstat_lrange:calls=(\d+)/
           ? $1 : 0;
}

sub count_in_log {
    my ($re) = @_;
    my $c = () = error_log($n) =~ /$re/g;
    return $c;
}

subtest 'redis-server killed and restarted empty mid-call' => sub {
    my $id = 'restart-call';
    my $key = "rtagent:call:{$id}";
    my $s = open_call($n->{port}, $id, acs_metadata(16000));

    send_msgs($s, map { acs_transcription("before $_") } 1 .. 3);
    ok(wait_for(sub { redis($r, 'LLEN', "$key:transcript") == 3 }),
       'three entries before the outage');

    my $lost = count_in_log(qr/lost the command connection/);
    my $back = count_in_log(qr/command connection to \S+ is back/);
    kill_redis($r);

    # the call goes on; its writes queue
    send_msgs($s, (map { acs_transcription("during $_") } 1 .. 3),
                  acs_dtmf('7'));
    send_msgs($s, acs_audio(tone(200) . silence(700)));
    my $f = read_frames($s, 3, sub { grep { $_->[1] =~ /AudioData/ }
                                          @{ $_[0] } });
    ok((grep { $_->[1] =~ /AudioData/ } @$f), 'the echo plays on');

    ok(wait_for(sub { count_in_log(qr/lost the command connection/) > $lost }),
       'the outage is logged');
    like(error_log($n), qr/\[error\].*lost the command connection to \S+: .*writes are queued/,
         'at error level, saying writes are queued');

    restart_redis($r);

    ok(wait_for(sub { count_in_log(qr/command connection to \S+ is back/)
                      >= $back + 2 }),
       'both workers reconnected');
    like(error_log($n), qr/is a different server than before \(restart or failover\)/,
         'the new server is noticed');

    send_msgs($s, map { acs_transcription("after $_") } 1 .. 3);

    my @want = ((map { "before $_" } 1 .. 3), (map { "during $_" } 1 .. 3),
                'dtmf:7', map { "after $_" } 1 .. 3);

    ok(wait_for(sub { @{ transcript($id) } == @want }), 'ten entries')
        or diag explain transcript($id);
    is_deeply(transcript($id), \@want, 'every entry, in order');
    is_deeply([map { decode_json($_)->{seq} }
               @{ redis($r, 'LRANGE', "$key:transcript", 0, -1) }],
              [1 .. 10], 'numbered 1 to 10');

    is(redis($r, 'HGET', $key, 'state'), 'active', 'the call hash is back');
    ok(redis($r, 'PTTL', $key) > 86000000, 'with its TTL');

    # events made during the outage were queued and replayed
    my @types;
    for my $e (@{ redis($r, 'XRANGE', 'rtagent:events', '-', '+') }) {
        my %fl = @{ $e->[1] };
        push @types, decode_json($fl{data})->{text} // $fl{type}
            if $fl{call_id} eq $id;
    }
    ok((grep { $_ eq 'during 2' } @types), 'events of the outage replayed');

    # the control channel was subscribed again
    ok(wait_for(sub { redis($r, 'PUBSUB', 'NUMSUB', "$key:ctl")->[1] == 1 }),
       'the worker listens again');
    is(redis_cli($r, 'PUBLISH', "$key:ctl", '{"action":"stop_audio"}'),
       "1\n", 'a message reaches it');
    $f = frames_until($s, 5, sub { grep { $_->[1] eq $stop } @{ $_[0] } });
    ok((grep { $_->[1] eq $stop } @$f), 'and acts: StopAudio');

    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;

    ok(wait_for(sub { redis($r, 'HGET', $key, 'state') eq 'ended' }),
       'the end is stored');
};

subtest 'redis-server hangs with writes in flight' => sub {
    my $id = 'hang-call';
    my $key = "rtagent:call:{$id}";
    my $s = open_call($n->{port}, $id, acs_metadata(16000));

    send_msgs($s, map { acs_transcription("first $_") } 1 .. 2);
    ok(wait_for(sub { redis($r, 'LLEN', "$key:transcript") == 2 }),
       'two entries');

    my $timeouts = count_in_log(qr/no reply within 500 ms/);

    kill 'STOP', $r->{pid};
    send_msgs($s, map { acs_transcription("stalled $_") } 1 .. 3);

    ok(wait_for(sub { count_in_log(qr/no reply within 500 ms/) > $timeouts }),
       'the reply timeout drops the connection');
    kill 'CONT', $r->{pid};

    send_msgs($s, acs_transcription('last'));

    my @want = ((map { "first $_" } 1 .. 2), (map { "stalled $_" } 1 .. 3),
                'last');
    ok(wait_for(sub { @{ transcript($id) } == @want }), 'six entries');

    # the end is written after every entry: then no double can follow
    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;
    ok(wait_for(sub { redis($r, 'HGET', $key, 'state') eq 'ended' }),
       'the end is stored');
    is_deeply(transcript($id), \@want, 'each once, in order');
};

subtest 'keepalive: a hung Redis is noticed on an idle call' => sub {
    my $n = start_nginx(workers => 2,
                        http => "rtagent_redis 127.0.0.1:$r->{port} "
                                . 'keepalive=500ms command_timeout=300ms '
                                . 'connect_timeout=300ms;',
                        server => 'location = /ws/acs/media { rtagent_acs_media; }');
    ok(redis_up($n), 'connected');

    my $id = 'idle-call';
    my $drains = lranges();
    my $s = open_call($n->{port}, $id, acs_metadata(16000));

    # idle: its last start-up writes are answered (CALL_STARTED, sent from
    # its guard's reply, and the drain of its control queue, sent once the
    # subscription is confirmed)
    ok(wait_for(sub { redis($r, 'HGET', "rtagent:call:{$id}", 'state')
                      && lranges() > $drains
                      && grep { my %f = @{ $_->[1] };
                                $f{call_id} eq $id
                                && $f{type} eq 'CALL_STARTED' }
                         @{ redis($r, 'XRANGE', 'rtagent:events', '-', '+') } }),
       'the call is up');

    my $back = () = error_log($n) =~ /subscriber connection to \S+ is back/g;

    kill 'STOP', $r->{pid};
    ok(wait_for(sub { my $c = () = error_log($n) =~ /lost the subscriber connection to \S+: no reply to PING within 300 ms/g;
                      $c == 2 }, 5),
       'the subscribers\' PINGs go unanswered, in both workers');
    ok(wait_for(sub { my $c = () = error_log($n) =~ /lost the command connection to \S+: no reply to PING within 300 ms/g;
                      $c == 2 }, 5),
       'and the command connections\'')
        or diag join "\n", grep { /lost the/ } split /\n/, error_log($n);
    kill 'CONT', $r->{pid};

    ok(wait_for(sub { my $c = () = error_log($n) =~ /subscriber connection to \S+ is back/g;
                      $c >= $back + 2 }),
       'both workers are back');

    ok(wait_for(sub { redis($r, 'PUBSUB', 'NUMSUB',
                            "rtagent:call:{$id}:ctl")->[1] == 1 }),
       'the call\'s channel was subscribed again');
    is(redis_cli($r, 'PUBLISH', "rtagent:call:{$id}:ctl", '{"action":"hangup"}'),
       "1\n", 'a message reaches it');
    my $f = frames_until($s, 5);
    is_deeply($f->[-1], [8, pack('n', 1000) . 'hung up'], 'hung up');
    close $s;

    ok(stop_nginx($n), 'nginx stopped');
    unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]/, 'no alerts');
};

ok(stop_nginx($n), 'nginx stopped');
my $text = error_log($n);
unlike($text, qr/\[(?:alert|crit|emerg)\]/, 'no alerts') or diag $text;
unlike($text, qr/open socket #\d+ left/, 'no socket left open');
stop_redis($r);

done_testing();
