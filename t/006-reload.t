# A graceful reload (nginx -s reload: SIGHUP to the master) with a live ACS
# media call: the call goes on to its end on the old worker (its next
# utterance is still echoed, it ends with a normal close, and only then
# does the old worker exit), while a call that comes after the reload is
# served by a new worker.  Runs its own nginx (master + 1 worker), which the
# block format cannot signal mid-connection.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;

use IO::Select;
use MIME::Base64 ();
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();

my $n = start_nginx(main => 'worker_shutdown_timeout 30s;', server => <<'SERVER');
location = /ws/acs/media {
    rtagent_acs_media;
    rtagent_engine echo;
}
SERVER

sub open_call {
    my ($id) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}")
        or die $!;
    binmode $s;
    print $s ws_handshake(undef, 'x-ms-call-connection-id' => $id)
           . cframe('text', acs_metadata(16000));
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        sysread($s, $head, 1, length $head) or die 'no handshake reply';
    }
    like($head, qr{^HTTP/1.1 101 }, "$id: upgraded");
    return $s;
}

# reads until $len bytes arrived (or $timeout seconds)
sub read_n {
    my ($s, $len, $timeout) = @_;
    my ($buf, $sel, $end) = ('', IO::Select->new($s), time + $timeout);
    while (length $buf < $len && time < $end) {
        last unless $sel->can_read($end - time);
        sysread($s, $buf, 65536, length $buf) or last;
    }
    return $buf;
}

# the PCM of the AudioData frames in $buf
sub pcm_of {
    my ($buf) = @_;
    my $pcm = '';
    $pcm .= MIME::Base64::decode_base64($1)
        while $buf =~ /"kind":"AudioData","audioData":\{"data":"([^"]*)"/g;
    return $pcm;
}

# one utterance in; its echo back: the utterance after any pre-roll of
# silence, then a 40 ms tail
sub talk {
    my ($s, $id, $what, $hz) = @_;
    my $pcm = tone(200, 16000, 6000, $hz);
    print $s acs_audio($pcm . silence(700));
    my $got = read_n($s, length acs_echo($pcm . silence(40)), 5);
    $got .= read_n($s, 1 << 20, 0.3);        # and a pre-roll's frames
    like(pcm_of($got), qr/\A(?:\0\0)*\Q$pcm\E\0{1280}\z/,
         "$id: $what is echoed");
}

# the pid of the worker that logged $re
sub worker_of {
    my ($re, $timeout) = @_;
    my $end = time + ($timeout // 5);
    while (time < $end) {
        my ($pid) = error_log($n) =~ /\[\w+\] (\d+)#\d+: .*$re/;
        return $pid if $pid;
        sleep 0.05;
    }
    return undef;
}

my $master = $n->{pid};

my $a = open_call('call-a');
my $old = worker_of(qr/rtagent call: started, .*call:call-a\b/);
ok($old, "call-a: served by worker $old");
talk($a, 'call-a', 'the first utterance', 440);

# nginx -s reload
kill 'HUP', $master;
ok(worker_of(qr/gracefully shutting down/), 'the old worker is draining');

talk($a, 'call-a', 'after the reload, an utterance', 600);
ok(kill(0, $old), 'the old worker still serves the call');

my $b = open_call('call-b');
my $new = worker_of(qr/rtagent call: started, .*call:call-b\b/);
ok($new, 'call-b: a worker took it');
isnt($new, $old, "call-b: a new worker ($new), not the old one");
talk($b, 'call-b', 'its utterance', 500);

# call-a ends normally, on the old worker, which then exits
print $a cclose(1000);
is(read_n($a, 4, 5), sclose(1000), 'call-a: a normal close');
is(worker_of(qr/rtagent call: ended after 2 utterances, call:call-a\b/),
   $old, 'call-a: ended on the old worker after both utterances');
ok(wait_gone($old), 'the old worker exits once its call is over');
unlike(error_log($n), qr/call:call-a.*1001|closing with 1001/,
       'call-a was never sent away with 1001');

print $b cclose(1000);
is(read_n($b, 4, 5), sclose(1000), 'call-b: a normal close');

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/, 'no crash');
ok(stop_nginx($n), 'nginx stops');
done_testing();
