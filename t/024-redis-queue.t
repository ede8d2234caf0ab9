# The write queue is bounded: while Redis is unreachable at most queue=
# writes and queue_size= bytes wait; beyond that the oldest are dropped,
# counted and logged at warn.  What was kept is replayed in order once Redis
# is up.  Events that were dropped are gone, but the transcript is not: the
# call still holds it, and the first replayed entry shows Redis the gap.
#
# nginx runs 2 workers with a master; the test starts its own redis-server
# (only after the calls, so that nginx starts without it).

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

my $location = 'location = /ws/acs/media { rtagent_acs_media; }';

sub events_of {
    my ($r, $id) = @_;
    my @ev;
    for my $e (@{ redis($r, 'XRANGE', 'rtagent:events', '-', '+') }) {
        my %f = @{ $e->[1] };
        next unless $f{call_id} eq $id;
        my $d = decode_json($f{data});
        push @ev, $f{type} eq 'TRANSCRIPTION_RECEIVED' ? $d->{text}
                                                       : $f{type};
    }
    return \@ev;
}

sub transcript {
    my ($r, $id) = @_;
    return [ map { decode_json($_)->{text} }
             @{ redis($r, 'LRANGE', "rtagent:call:{$id}:transcript", 0, -1) } ];
}

# what happens while Redis is down, then once it is up
sub outage {
    my ($conf, $id, @texts) = @_;
    my $port = free_port();

    my $n = start_nginx(workers => 2,
                        http => "rtagent_redis 127.0.0.1:$port $conf;",
                        server => $location);

    ok(wait_for(sub { error_log($n) =~ /command connection to \S+ failed/ }),
       'Redis is down');

    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    send_msgs($s, map { acs_transcription($_) } @texts);

    ok(wait_for(sub { error_log($n) =~ /\[warn\].*rtagent redis: write queue full/ }),
       'the drop is logged at warn');

    my $r = start_redis(port => $port);

    ok(wait_for(sub { my $c = () = error_log($n) =~ /command connection to \S+ is back/g;
                      $c == 2 }),
       'Redis is back, for both workers');

    return ($n, $s, $r);
}

subtest 'queue=3: the 3 newest writes are kept' => sub {
    my $id = 'queue-count';
    my @texts = map { "t$_" } 1 .. 8;
    my ($n, $s, $r) = outage('queue=3', $id, @texts);

    like(error_log($n),
         qr/rtagent redis: write queue full \(queue=3 queue_size=16777216\), dropped the \d+ oldest writes/,
         'the line names the limit and counts the drops');
    ok(wait_for(sub { error_log($n) =~ /replaying 3 queued writes/ }),
       '3 writes replayed');

    # each transcription is a transcript write and an event, in that order:
    # the newest three are the event of t7, then t8's two writes
    ok(wait_for(sub { @{ events_of($r, $id) } == 2 }), 'two events arrived');
    is_deeply(events_of($r, $id), ['t7', 't8'],
              'only the newest events survived the queue');

    ok(wait_for(sub { @{ transcript($r, $id) } == 8 }), 'the transcript is whole')
        or diag explain transcript($r, $id);
    is_deeply(transcript($r, $id), \@texts, 'in order');
    like(error_log($n), qr/restoring transcript entries 1 to 8 in Redis, call:\Q$id\E/,
         'refilled from the call\'s memory');

    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;

    my $key = "rtagent:call:{$id}";
    ok(wait_for(sub { redis($r, 'HGET', $key, 'state') eq 'ended' }),
       'the end is stored');
    is(redis($r, 'HGET', $key, 'agent'), 'echo',
       'with the whole hash, though its first write was dropped');

    ok(stop_nginx($n), 'nginx stopped');
    unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]/, 'no alerts');
    stop_redis($r);
};

subtest 'queue_size=1k: bytes count too' => sub {
    my $id = 'queue-bytes';
    my @texts = map { "t$_ " . ('x' x 300) } 1 .. 6;
    my ($n, $s, $r) = outage('queue=1000 queue_size=1k', $id, @texts);

    like(error_log($n),
         qr/write queue full \(queue=1000 queue_size=1024\), dropped the \d+ oldest writes/,
         'dropped by size');

    my $ev;
    ok(wait_for(sub { $ev = events_of($r, $id); @$ev && $ev->[-1] =~ /^t6 / }),
       'the newest event arrived');
    ok(!(grep { /^t1 / } @$ev), 'the oldest did not');

    ok(wait_for(sub { @{ transcript($r, $id) } == 6 }), 'the transcript is whole');
    is_deeply(transcript($r, $id), \@texts, 'in order');

    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;

    ok(stop_nginx($n), 'nginx stopped');
    unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]/, 'no alerts');
    stop_redis($r);
};

done_testing();
