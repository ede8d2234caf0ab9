# Hot swap of the agents: nginx -s reload with a live ACS media call after
# the agents' folder changed (one agent's file edited, one agent added).
# What is tested: the new configuration is checked like the first one
# (nginx -t passes on the new folder), the new workers publish the new
# versions and the new agent in the registry and the old worker, draining,
# publishes nothing more (its entries are not written back over them), while
# the live call goes on on the old worker, which serves the configuration
# cycle (agents included) it started with, to its normal end.  Calls do not
# run agents yet (no orchestrator): "the call keeps its agents" is the old
# worker still serving its cycle.  Runs its own nginx and redis-server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis qw(have_redis start_redis redis wait_for redis_up);

use Digest::MD5 qw(md5_hex);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 ();
use Time::HiRes qw(sleep time);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $dir = tempdir(CLEANUP => 1);

sub put {
    my ($name, $text) = @_;
    open my $fh, '>:raw', "$dir/$name.yaml" or die $!;
    print $fh $text;
    close $fh;
    return md5_hex($text);
}

sub agent {
    my ($name, $description) = @_;
    return "name: $name\ndescription: $description\ngreeting: Hello.\n"
         . "prompt: Help the caller.\ntools: [end_call]\n";
}

my %v1 = (front => put('front', agent('front', 'Answers first.')),
          claims => put('claims', agent('claims', 'Files claims.')));

my $r = start_redis();
my $n = start_nginx(main => 'worker_shutdown_timeout 30s;',
                    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
                          . "rtagent_agents $dir;\n"
                          . "rtagent_entry_agent front;\n"
                          . "rtagent_agents_heartbeat 300ms;",
                    server => <<'SERVER');
location = /ws/acs/media {
    rtagent_acs_media;
    rtagent_engine echo;
}
SERVER

ok(redis_up($n, 1), 'the worker connected') or diag error_log($n);

sub entry {
    my ($name) = @_;
    my $a = redis($r, 'HGETALL', "rtagent:agent:{$name}");
    return ref $a eq 'ARRAY' && @$a ? { @$a } : {};
}

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

sub read_n {
    my ($s, $len, $timeout) = @_;
    my ($buf, $sel, $end) = ('', IO::Select->new($s), time + $timeout);
    while (length $buf < $len && time < $end) {
        last unless $sel->can_read($end - time);
        sysread($s, $buf, 65536, length $buf) or last;
    }
    return $buf;
}

# one utterance in, its echo back (after any pre-roll of silence)
sub talk {
    my ($s, $id, $what, $hz) = @_;
    my $pcm = tone(200, 16000, 6000, $hz);
    print $s acs_audio($pcm . silence(700));
    my $got = read_n($s, length acs_echo($pcm . silence(40)), 5);
    $got .= read_n($s, 1 << 20, 0.3);
    my $out = '';
    $out .= MIME::Base64::decode_base64($1)
        while $got =~ /"kind":"AudioData","audioData":\{"data":"([^"]*)"/g;
    like($out, qr/\A(?:\0\0)*\Q$pcm\E\0{1280}\z/, "$id: $what is echoed");
}

sub worker_of {
    my ($re) = @_;
    my $end = time + 5;
    while (time < $end) {
        my ($pid) = error_log($n) =~ /\[\w+\] (\d+)#\d+: .*$re/;
        return $pid if $pid;
        sleep 0.05;
    }
    return undef;
}

ok(wait_for(sub { entry('claims')->{version} }), 'the agents are published');
is(entry($_)->{version}, $v1{$_}, "$_: the first version") for qw(front claims);
my $old = entry('front')->{pid};

my $a = open_call('call-a');
is(worker_of(qr/rtagent call: started, .*call:call-a\b/), $old,
   "call-a: served by the publishing worker $old");
talk($a, 'call-a', 'the first utterance', 440);

# the folder changes: claims edited, intake added
my %v2 = (claims => put('claims', agent('claims', 'Files claims, fast.')),
          intake => put('intake', agent('intake', 'Takes details.')));
isnt($v2{claims}, $v1{claims}, 'claims: its file changed');

my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
like(`$nginx -t -p $n->{dir}/ -c $n->{dir}/nginx.conf 2>&1`,
     qr/test is successful/, 'nginx -t passes on the new agents');

kill 'HUP', $n->{pid};
ok(worker_of(qr/gracefully shutting down/), 'the old worker is draining');

ok(wait_for(sub { entry('intake')->{version} }), 'intake: published');
is(entry('intake')->{version}, $v2{intake}, 'intake: its version');
ok(wait_for(sub { (entry('claims')->{version} // '') eq $v2{claims} }),
   'claims: the new version');
my $new = entry('claims')->{pid};
isnt($new, $old, "published by a new worker ($new)");
is(entry('front')->{version}, $v1{front}, 'front: unchanged, same version');

# three heartbeats later: the old worker wrote nothing back
sleep 1;
is(entry('claims')->{version}, $v2{claims}, 'claims: still the new version');
is(entry('claims')->{pid}, $new, 'claims: still the new worker');

talk($a, 'call-a', 'after the reload, an utterance', 600);
ok(kill(0, $old), 'the old worker still serves the call');

print $a cclose(1000);
is(read_n($a, 4, 5), sclose(1000), 'call-a: a normal close');
is(worker_of(qr/rtagent call: ended after 2 utterances, call:call-a\b/),
   $old, 'call-a: ended on the old worker after both utterances');
ok(wait_gone($old), 'the old worker exits once its call is over');

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no crash');
ok(stop_nginx($n), 'nginx stops');
done_testing();
