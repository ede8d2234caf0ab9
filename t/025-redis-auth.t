# rtagent_redis with a password (AUTH, from a file or an environment
# variable, never logged), a database (SELECT), and a unix socket; a wrong
# or missing password is logged with Redis's reason and retried; a server
# that refuses INFO is used without restart detection.  nginx runs
# 2 workers with a master; the test starts its own redis-server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;

use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $password = 'pw-Ox7!rtagent';
my $dir = tempdir(CLEANUP => 1);
my $r = start_redis(password => $password, unix => "$dir/redis.sock");

open my $fh, '>', "$dir/redis.pw" or die $!;
print $fh "$password\n";
close $fh;

my $location = 'location = /ws/acs/media { rtagent_acs_media; }';
my $stop = '{"kind":"StopAudio","stopAudio":{}}';

sub up {
    my ($n) = @_;
    return redis_up($n);
}

# a call whose state must land in database $db, and whose control works
sub call_in_db {
    my ($n, $db, $id) = @_;
    my $key = "rtagent:call:{$id}";
    my $s = open_call($n->{port}, $id, acs_metadata(16000));

    ok(wait_for(sub { redis({ %$r, db => $db }, 'HGET', $key, 'state') }),
       "the call hash is in db $db");
    is(redis($r, 'EXISTS', $key), 0, 'not in db 0') if $db;

    # pub/sub is not per database, and the subscriber authenticated too
    is(redis_cli($r, 'PUBLISH', "$key:ctl", '{"action":"stop_audio"}'),
       "1\n", 'control reaches the worker');
    my $f = read_frames($s, 2, sub { grep { $_->[1] eq $stop } @{ $_[0] } });
    ok((grep { $_->[1] eq $stop } @$f), 'StopAudio');

    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;

    ok(wait_for(sub { redis({ %$r, db => $db }, 'HGET', $key, 'state')
                      eq 'ended' }), 'ended');
}

subtest 'password_file= and db=3 over TCP' => sub {
    my $n = start_nginx(workers => 2, server => $location,
                        http => "rtagent_redis 127.0.0.1:$r->{port} db=3 "
                                . "password_file=$dir/redis.pw;");
    ok(up($n), 'connected');
    call_in_db($n, 3, 'auth-file');
    ok(stop_nginx($n), 'stopped');

    my $log = error_log($n);
    unlike($log, qr/\Q$password\E/, 'the password is not logged');
    unlike($log, qr/\[(?:alert|crit|emerg|error)\]/, 'no errors');
};

subtest 'password_env= and db=2 over a unix socket' => sub {
    local $ENV{RTAGENT_TEST_REDIS_PW} = $password;
    my $n = start_nginx(workers => 2, server => $location,
                        http => "rtagent_redis unix:$dir/redis.sock db=2 "
                                . 'password_env=RTAGENT_TEST_REDIS_PW;');
    ok(up($n), 'connected');
    like(error_log($n), qr/command connection to unix:\Q$dir\E\/redis.sock is (?:up|back)/,
         'over the unix socket');
    call_in_db($n, 2, 'auth-env');
    ok(stop_nginx($n), 'stopped');
    unlike(error_log($n), qr/\Q$password\E/, 'the password is not logged');
};

subtest 'a wrong password: logged, retried, never logged itself' => sub {
    open my $w, '>', "$dir/wrong.pw" or die $!;
    print $w "not-the-password\n";
    close $w;

    my $n = start_nginx(workers => 2, server => $location,
                        http => "rtagent_redis 127.0.0.1:$r->{port} "
                                . "password_file=$dir/wrong.pw;");

    ok(wait_for(sub { error_log($n) =~ /\[error\].*command connection to \S+ failed: AUTH failed: WRONGPASS/ }),
       'AUTH failure logged at error with the reason');
    ok(wait_for(sub { my $c = () = error_log($n) =~ /command connection to \S+ failed: AUTH failed/g;
                      $c >= 4 }),
       'and retried');
    unlike(error_log($n), qr/not-the-password/, 'the password is not logged');

    ok(stop_nginx($n), 'stopped');
};

subtest 'no password where one is needed' => sub {
    my $n = start_nginx(workers => 2, server => $location,
                        http => "rtagent_redis 127.0.0.1:$r->{port};");
    ok(wait_for(sub { error_log($n) =~ /command connection to \S+ failed: INFO failed: NOAUTH/ }),
       'NOAUTH logged');

    # the call goes on without Redis
    my $s = open_call($n->{port}, 'no-auth', acs_metadata(16000));
    send_msgs($s, acs_audio(tone(200) . silence(700)));
    my $f = read_frames($s, 3, sub { grep { $_->[1] =~ /AudioData/ } @{ $_[0] } });
    ok((grep { $_->[1] =~ /AudioData/ } @$f), 'the call works');
    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;

    ok(stop_nginx($n), 'stopped');
};

subtest 'a Redis that refuses INFO is used all the same' => sub {
    my $r2 = start_redis(args => ['--rename-command', 'INFO', 'INFO-OFF']);
    my $n = start_nginx(workers => 2, server => $location,
                        http => "rtagent_redis 127.0.0.1:$r2->{port};");
    ok(up($n), 'connected');
    like(error_log($n), qr/\[notice\].*rtagent redis: INFO failed: ERR unknown command/,
         'INFO refused, said once per worker');

    my $s = open_call($n->{port}, 'no-info', acs_metadata(16000));
    ok(wait_for(sub { redis($r2, 'HGET', 'rtagent:call:{no-info}', 'state') }),
       'the call is stored');
    send_msgs($s, cclose(1000));
    read_frames($s, 2);
    close $s;

    ok(stop_nginx($n), 'stopped');
    stop_redis($r2);
};

subtest 'nginx -t refuses a bad value' => sub {
    my $conf = "$dir/bad.conf";
    open my $c, '>', $conf or die $!;
    print $c "load_module " . rtagent_module() . ";\n"
           . "error_log stderr;\npid $dir/nginx.pid;\nevents {}\n"
           . "http { rtagent_redis redis.example.com:6379; }\n";
    close $c;

    my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    my $out = `$nginx -t -p $dir/ -c $conf 2>&1`;
    isnt($?, 0, 'nginx -t fails');
    like($out, qr/invalid Redis address "redis\.example\.com:6379": an IP address/,
         'naming the bad value');
};

stop_redis($r);

done_testing();
