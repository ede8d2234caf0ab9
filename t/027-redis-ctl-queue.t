# No control message is lost while a worker is not subscribed.
#
# A sender RPUSHes the message on rtagent:call:{id}:ctlq and PUBLISHes it
# on rtagent:call:{id}:ctl in one transaction (README, Control); the worker
# that owns the call drains the list whenever its subscription is (again)
# in place, removes each message it took, and applies a message's "id"
# once, whichever path brought it.
#
# 1. A hang-up sent while Redis is back but the workers cannot subscribe
#    yet (the restarted server wants a password they lack: PUBLISH reaches
#    no one) hangs the call up once they are let in.
# 2. A message in the list twice (a sender that retried) and again on the
#    channel is applied once.
# 3. A message sent before the call's session starts is applied when it
#    does.
# 4. The store's scripts run by EVALSHA; after a SCRIPT FLUSH a NOSCRIPT
#    write goes again as EVAL and nothing is lost.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;

use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $r = start_redis();
my $n = start_nginx(workers => 2,
                    http => "rtagent_redis 127.0.0.1:$r->{port} "
                            . 'connect_timeout=300ms command_timeout=500ms;',
                    server => 'location = /ws/acs/media { rtagent_acs_media; }');

ok(redis_up($n), 'both workers connected');

my $stop = '{"kind":"StopAudio","stopAudio":{}}';

sub numsub {
    my ($id) = @_;
    return redis($r, 'PUBSUB', 'NUMSUB', "rtagent:call:{$id}:ctl")->[1];
}

# what README says an operator sends
sub send_ctl {
    my ($id, $msg) = @_;
    my $key = "rtagent:call:{$id}";
    my $res = redis_tx($r, ['RPUSH', "$key:ctlq", $msg],
                           ['LTRIM', "$key:ctlq", -32, -1],
                           ['PEXPIRE', "$key:ctlq", 3600000],
                           ['PUBLISH', "$key:ctl", $msg]);
    return $res->[3];
}

sub count_in_log {
    my ($re) = @_;
    my $c = () = error_log($n) =~ /$re/g;
    return $c;
}

subtest 'a hang-up sent while the subscriber is down' => sub {
    my $id = 'window-call';
    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    ok(wait_for(sub { numsub($id) == 1 }), 'the call is subscribed');

    # Redis comes back wanting a password the workers do not have
    kill_redis($r);
    $r->{password} = 'let-me-in';
    restart_redis($r);

    ok(wait_for(sub { count_in_log(qr/lost the subscriber connection/) >= 2 }),
       'both subscribers are down');
    is(numsub($id), 0, 'no one listens on the channel');

    is(send_ctl($id, '{"id":"op-window-1","action":"hangup",'
                     . '"reason":"sent in the window"}'),
       0, 'PUBLISH reached no subscriber');

    # let them in
    redis($r, 'CONFIG', 'SET', 'requirepass', '');
    delete $r->{password};

    my $f = frames_until($s, 10);
    is_deeply($f->[-1], [8, pack('n', 1000) . 'hung up'],
              'the call is hung up once the worker is back')
        or diag join "\n", grep { /redis|store/ } split /\n/, error_log($n);
    close $s;

    like(error_log($n), qr/control "hangup" op-window-1 from the queue/,
         'taken from the queue');
    ok(wait_for(sub { redis($r, 'LLEN', "rtagent:call:{$id}:ctlq") == 0 }),
       'and removed from it');
    ok(wait_for(sub { redis($r, 'HGET', "rtagent:call:{$id}", 'reason')
                      // '' eq 'sent in the window' }),
       'the reason is stored');
};

subtest 'a message that comes twice is applied once' => sub {
    my $id = 'twice-call';
    my $key = "rtagent:call:{$id}";
    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    ok(wait_for(sub { numsub($id) == 1 }), 'subscribed');

    my $msg = '{"id":"op-twice","action":"inject_text","text":"only once"}';

    # a sender that retried: twice in the list, and on the channel
    redis($r, 'RPUSH', "$key:ctlq", $msg, $msg);
    is(send_ctl($id, $msg), 1, 'one subscriber heard it');

    ok(wait_for(sub { count_in_log(qr/control "inject_text" op-twice on the channel/) }),
       'applied from the channel');

    # the subscriber reconnects and drains the list
    my $back = count_in_log(qr/subscriber connection to \S+ is back/);
    redis($r, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
    ok(wait_for(sub { count_in_log(qr/subscriber connection to \S+ is back/)
                      >= $back + 2 }),
       'the subscribers are back');
    ok(wait_for(sub { redis($r, 'LLEN', "$key:ctlq") == 0 }),
       'the list is drained');
    ok(count_in_log(qr/control message op-twice from the queue applied before/) >= 1,
       'the copies are known');

    my @lines = grep { $_ eq 'only once' }
                map { decode_json($_)->{text} // '' }
                @{ redis($r, 'LRANGE', "$key:transcript", 0, -1) };
    is(scalar @lines, 1, 'the text is in the transcript once');

    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;
};

subtest 'a message sent before the session starts' => sub {
    my $id = 'early-call';
    is(send_ctl($id, '{"id":"op-early","action":"stop_audio"}'), 0,
       'no one holds the call yet');

    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    my $f = read_frames($s, 5, sub { grep { $_->[1] eq $stop } @{ $_[0] } });
    ok((grep { $_->[1] eq $stop } @$f), 'StopAudio once the call starts');

    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;
};

subtest 'scripts by EVALSHA, EVAL after a SCRIPT FLUSH' => sub {
    my $id = 'flush-call';
    my $key = "rtagent:call:{$id}";
    my $s = open_call($n->{port}, $id, acs_metadata(16000));

    send_msgs($s, acs_transcription('one'));
    ok(wait_for(sub { redis($r, 'LLEN', "$key:transcript") == 1 }),
       'one entry');
    like(redis($r, 'INFO', 'commandstats'), qr/cmdstat_evalsha:calls=[1-9]/,
         'written by EVALSHA');
    unlike(redis($r, 'INFO', 'commandstats'), qr/cmdstat_eval:/,
           'not by EVAL');

    redis($r, 'SCRIPT', 'FLUSH');
    send_msgs($s, acs_transcription('two'));
    ok(wait_for(sub { redis($r, 'LLEN', "$key:transcript") == 2 }),
       'the next entry is written all the same');
    like(error_log($n), qr/the server lacks script [0-9a-f]{40}, sent as EVAL/,
         'as EVAL');

    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;
    ok(wait_for(sub { redis($r, 'HGET', $key, 'state') eq 'ended' }),
       'the end is stored');
};

ok(stop_nginx($n), 'nginx stopped');
my $text = error_log($n);
unlike($text, qr/\[(?:alert|crit|emerg)\]/, 'no alerts') or diag $text;
stop_redis($r);

done_testing();
