package RtagentNginx;

# Runs a private nginx with the rtagent module for the standalone tests
# (t/004, t/005) that need what the block format cannot express: signals
# mid-connection, external clients.  Uses the same TEST_NGINX_BINARY and
# TEST_NGINX_LOAD_MODULES as the block-format tests.

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep);

our @EXPORT = qw(rtagent_module free_port start_nginx stop_nginx
                 wait_gone error_log preload_shim nginx_conf_check);

sub rtagent_module {
    my ($m) = grep { /rtagent/ } split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
    return $m;
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1) or die $!;
    my $p = $s->sockport;
    close $s;
    return $p;
}

# preload_shim("$FindBin::Bin/mock/x.c", @libs)
#   -> ($nginx, $ld_preload, $ld_preload_without_the_shim):
# builds an LD_PRELOAD shim from one C file (linked with @libs) and gives
# the nginx binary to run with LD_PRELOAD=$ld_preload so that the shim is
# loaded.  The sanitizer build's nginx is a script that sets LD_PRELOAD
# and execs the real binary: then the real binary is given, with the
# script's libraries ahead of the shim.
sub preload_shim {
    my ($src, @libs) = @_;
    my $dir = tempdir(CLEANUP => 1);
    (my $so = $src) =~ s{.*/}{};
    $so =~ s/\.c\z/.so/;
    $so = "$dir/$so";
    system('gcc', '-shared', '-fPIC', '-o', $so, $src, '-ldl', @libs) == 0
        or die "cannot build the shim $src";

    my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    my $preload = '';
    if (-T $nginx) {
        open my $fh, '<', $nginx or die "$nginx: $!";
        local $/;
        my $script = <$fh>;
        ($preload) = $script =~ /LD_PRELOAD="([^"]*)"/;
        ($nginx) = $script =~ /^exec (\S+)/m or die "$nginx: no exec line";
    }

    $preload //= '';
    return ($nginx, join(' ', grep { length } $preload, $so), $preload);
}

# start_nginx(main => '...', http => '...', server => '...', workers => N,
#             listen => 'reuseport', port => P (default: a free one),
#             nginx => binary (default: TEST_NGINX_BINARY))
#   -> { pid, port, dir }
my @started;

sub start_nginx {
    my (%o) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $port = $o{port} // free_port();
    my $module = rtagent_module() or die 'no rtagent module';
    my $nginx = $o{nginx} // $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    my $user = $> == 0 ? 'user root;' : '';
    my $main = $o{main} // '';
    my $server = $o{server} // '';
    my $http = $o{http} // '';
    my $listen = $o{listen} // '';
    my $workers = $o{workers} // 1;

    mkdir "$dir/logs";
    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print $fh <<"CONF";
load_module $module;
$user
worker_processes $workers;
master_process on;
daemon on;
pid $dir/logs/nginx.pid;
error_log $dir/logs/error.log info;
$main
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    $http
    server {
        listen 127.0.0.1:$port $listen;
        $server
    }
}
CONF
    close $fh;

    system($nginx, '-p', "$dir/", '-c', "$dir/nginx.conf") == 0
        or die "nginx did not start: " . error_log({ dir => $dir });

    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        if ($s) { close $s; last }
        sleep 0.05;
    }

    open my $pf, '<', "$dir/logs/nginx.pid" or die $!;
    chomp(my $pid = <$pf>);
    push @started, [$pid, $$];
    return { pid => $pid, port => $port, dir => $dir };
}

# every nginx a test started and did not stop goes with the test (its
# folder is removed at exit: an nginx left behind would hold its ports)
END {
    local $?;
    for my $s (@started) {
        my ($pid, $owner) = @$s;
        next unless $owner == $$ && kill 0, $pid;
        kill 'QUIT', $pid;
        wait_gone($pid);
    }
}

sub wait_gone {
    my ($pid) = @_;
    for (1 .. 100) {
        return 1 unless kill 0, $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    return 0;
}

sub stop_nginx {
    my ($n) = @_;
    kill 'QUIT', $n->{pid};
    return wait_gone($n->{pid});
}

sub error_log {
    my ($n) = @_;
    open my $log, '<', "$n->{dir}/logs/error.log" or return '';
    local $/;
    return <$log>;
}

# nginx -t of a configuration whose http{} holds $http: what it printed
sub nginx_conf_check {
    my ($http) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $module = rtagent_module() or die 'no rtagent module';
    my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    mkdir "$dir/logs";
    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print $fh "load_module $module;\nerror_log $dir/logs/error.log;\n"
              . "events { worker_connections 16; }\nhttp { $http }\n";
    close $fh;
    return scalar `$nginx -t -p $dir/ -c $dir/nginx.conf 2>&1`;
}

1;
