package Test::Nginx::Util;

# Helper half of our local Test::Nginx::Socket replacement: global settings,
# nginx.conf generation, nginx process management and error-log access.
# See the POD in Test/Nginx/Socket.pm.  Written from scratch; only the names
# and the documented behaviour follow upstream openresty/test-nginx.

use strict;
use warnings;

use Exporter 'import';
use Carp qw(croak);
use Cwd ();
use File::Spec ();
use File::Path qw(make_path remove_tree);
use IO::Socket::INET ();
use List::Util qw(first);
use POSIX ();
use Time::HiRes qw(sleep time);
use Test::More ();
use Test::LongString ();

our @EXPORT = qw(
    repeat_each workers worker_connections master_on master_off
    master_process_enabled log_level no_shuffle no_root_location
    no_long_string env_to_nginx server_port server_port_for_client
    server_addr server_name server_root html_dir timeout
    check_accum_error_log add_block_preprocessor add_cleanup_handler
    add_test_cleanup_handler config_preamble bail_out is_str
    parse_time expand_env_in_text
);

#------------------------------------------------------------------------
# Settings (environment first, then the exported setter functions)
#------------------------------------------------------------------------

sub _find_binary {
    my $bin = $ENV{TEST_NGINX_BINARY};
    return $bin if defined $bin && $bin ne '';
    for my $dir (split /:/, $ENV{PATH} // '') {
        next if $dir eq '';
        my $p = "$dir/nginx";
        return $p if -f $p && -x _;
    }
    return '/usr/sbin/nginx';
}

our $NginxBinary    = _find_binary();
our $LoadModules    = $ENV{TEST_NGINX_LOAD_MODULES};
our $Randomize      = $ENV{TEST_NGINX_RANDOMIZE};
our $ServerAddr     = '127.0.0.1';
our $ServerName     = 'localhost';
our $ServerPort     = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $Timeout        = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $LogLevel       = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $Workers        = 1;
# Same default as upstream (64) so that a test that passes here does not
# depend on a bigger connection budget than upstream gives it; raise it
# per file with worker_connections(1024) when a test needs more.
our $WorkerConnections = 64;
our $TestNginxSleep = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $NoShuffle      = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $EventType      = $ENV{TEST_NGINX_EVENT_TYPE};
our $PostponeOutput = $ENV{TEST_NGINX_POSTPONE_OUTPUT};
our $WorkerUser     = $ENV{TEST_NGINX_WORKER_USER};
our $NoRootLocation = 0;
our $NoLongString   = 0;
our $RepeatEach     = 1;
our $ConfigPreamble = '';
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @TestCleanupHandlers;

if ($Randomize) {
    # parallel-friendly mode: random port and a per-port server root
    $ServerPort = gen_rand_port({}) or die "cannot find a free port\n";
}
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;

our $ServRoot = $Randomize
    ? File::Spec->rel2abs("t/servroot_$ServerPort")
    : File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
$ServRoot =~ s{/+$}{};
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";
our $StderrFile = "$ServRoot/nginx.stderr";   # nginx's stderr at startup

our $ErrLogFilePos = 0;  # where the next error_log_data() read starts
our $RandPorts = {};     # TEST_NGINX_RAND_PORT_N => port, for current block
our $NginxStarted = 0;   # did this process start an nginx (for END)?
our $NginxPid;           # pid of the nginx we started last
our $PrevConfig;         # expanded --- config of the running nginx

sub repeat_each (@) {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}

sub workers (@) {
    return $Workers unless @_;
    $Workers = shift;
}

sub worker_connections (@) {
    return $WorkerConnections unless @_;
    $WorkerConnections = shift;
}

sub master_on ()  { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }

sub master_process_enabled (@) {
    return $MasterProcessEnabled unless @_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}

sub log_level (@) {
    return $LogLevel unless @_;
    $LogLevel = shift;
}

sub no_shuffle ()            { $NoShuffle = 1 }
sub no_root_location ()      { $NoRootLocation = 1 }
sub no_long_string ()        { $NoLongString = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($)      { $ConfigPreamble = shift }

sub env_to_nginx (@) {
    croak "env_to_nginx: no arguments specified" unless @_;
    for my $v (@_) {
        croak "env_to_nginx: bad argument value: $v"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub server_port (@) {
    return $ServerPort unless @_;
    $ServerPort = shift;
}

sub server_port_for_client (@) {
    return $ServerPortForClient unless @_;
    $ServerPortForClient = shift;
}

sub server_addr (@) {
    return $ServerAddr unless @_;
    $ServerAddr = shift;
}

sub server_name (@) {
    return $ServerName unless @_;
    $ServerName = shift;
}

sub timeout (@) {
    return $Timeout unless @_;
    $Timeout = shift;
}

sub server_root () { $ServRoot }
sub html_dir ()    { $HtmlDir }

# Preprocessors run in reverse order of registration, like upstream.
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($)      { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler ($) { unshift @TestCleanupHandlers, shift }

sub cleanup () {
    $_->() for @CleanupHandlers;
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

# String equality honouring no_long_string() and qr// expectations.
sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }
    if ($NoLongString) {
        return Test::More::is($got, $expected, $desc);
    }
    return Test::LongString::is_string($got, $expected, $desc);
}

# "1.5", "1.5s" or "500ms" => seconds
sub parse_time ($) {
    my $t = shift;
    return undef unless defined $t;
    $t =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $t =~ /^([\d.]+)ms$/;
    return $1 if $t =~ /^([\d.]+)s?$/;
    return $t;
}

#------------------------------------------------------------------------
# Ports and $TEST_NGINX_* expansion
#------------------------------------------------------------------------

# A currently free TCP port (bind+listen test on 127.0.0.1).  Ports are
# taken below the usual Linux ephemeral range so nginx's own outgoing
# connections are unlikely to sit on them.
sub gen_rand_port {
    my ($used) = @_;
    for (1 .. 1000) {
        my $port = 10000 + int rand 22000;
        next if $used->{$port};
        next if defined $ServerPort && $port == $ServerPort;
        my $s = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1', LocalPort => $port,
            Proto => 'tcp', Listen => 1, ReuseAddr => 1,
        ) or next;
        close $s;
        return $port;
    }
    return undef;
}

# Per-block: pick a free port for every TEST_NGINX_RAND_PORT_N mentioned
# anywhere in the block and publish it in %ENV, so that plain $ENV{...}
# lookups (e.g. in --- init code) agree with the expanded config.
sub prepare_rand_ports {
    my ($block) = @_;
    delete $ENV{$_} for grep { /^TEST_NGINX_RAND_PORT_\d+$/ } keys %ENV;
    $RandPorts = {};
    my @texts;
    my $collect;
    $collect = sub {
        my $v = shift;
        if (!ref $v) { push @texts, $v if defined $v }
        elsif (ref $v eq 'ARRAY') { $collect->($_) for @$v }
        elsif (ref $v eq 'HASH')  { $collect->($_) for values %$v }
    };
    for my $key (keys %$block) {
        next if $key =~ /^_/;
        $collect->($_) for @{ ref $block->{$key} eq 'ARRAY' ? $block->{$key} : [] };
    }
    my %names;
    for my $t (@texts) {
        $names{$1} = 1 while $t =~ /\b(TEST_NGINX_RAND_PORT_\d+)\b/g;
    }
    _rand_port_for($_) for sort keys %names;
}

sub _rand_port_for {
    my ($var) = @_;
    return $RandPorts->{$var} if defined $RandPorts->{$var};
    my %used = map { $_ => 1 } values %$RandPorts;
    my $port = gen_rand_port(\%used)
        or die "Cannot find an available listening port number for $var\n";
    $RandPorts->{$var} = $port;
    $ENV{$var} = $port;
    return $port;
}

# Replace $TEST_NGINX_FOO by $ENV{TEST_NGINX_FOO}; an undefined variable is
# an error (as upstream).  References (qr//, arrays) pass through untouched.
sub expand_env_in_text ($;$) {
    my ($text, $name) = @_;
    return $text if !defined $text || ref $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            _rand_port_for($var);
        } else {
            defined $ENV{$var}
                or die "No environment $var defined.\n";
            $ENV{$var};
        }
    }ge;
    return $text;
}

#------------------------------------------------------------------------
# nginx binary information
#------------------------------------------------------------------------

my $NginxV;

sub nginx_V {
    return $NginxV if defined $NginxV;
    $NginxV = `'$NginxBinary' -V 2>&1`;
    if ($? != 0) {
        bail_out("Failed to run \"$NginxBinary -V\": " . ($NginxV // ''));
    }
    return $NginxV;
}

# canonical "1.022001" form, comparable numerically
sub get_canon_version { sprintf "%d.%03d%03d", @_[0 .. 2] }

sub nginx_version {
    return nginx_V() =~ m{nginx version: [^/]*/(\d+)\.(\d+)\.(\d+)}
        ? get_canon_version($1, $2, $3) : undef;
}

#------------------------------------------------------------------------
# Server root, user files, nginx.conf
#------------------------------------------------------------------------

sub setup_server_root {
    if (-d $ServRoot) {
        # only remove what we create ourselves, never the whole tree
        remove_tree($ConfDir, $LogDir, $HtmlDir, "$ServRoot/cache",
                    glob("$ServRoot/*_temp"), glob("$ServRoot/*_cache"));
        unlink $StderrFile;
    }
    make_path($ServRoot, $LogDir, $HtmlDir, $ConfDir);
    -d $ConfDir or die "Failed to create $ConfDir: $!\n";
    _write_file("$HtmlDir/index.html",
        '<html><head><title>It works!</title></head><body>It works!</body></html>');
}

sub _write_file {
    my ($path, $data) = @_;
    open my $out, '>:raw', $path or die "Can't open $path for writing: $!\n";
    print $out $data;
    close $out or die "Can't write $path: $!\n";
}

# --- user_files: ">>> name [date]" headers each followed by the content;
# or (eval) [[name, content, date?], ...].  Relative names go under html/.
sub write_user_files {
    my ($block) = @_;
    my $files = $block->user_files;
    return unless $files;
    if (!ref $files) {
        my @list;
        for my $line (split /^/m, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+?))?\s*$/) {
                push @list, [$1, '', $2];
            } elsif (@list) {
                $list[-1][1] .= $line;
            }
        }
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        die "--- user_files: only a string or an ARRAY is accepted\n";
    }
    for my $f (@$files) {
        my ($fname, $body, $date) = @$f;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        (my $dir = $path) =~ s{/[^/]*$}{};
        make_path($dir) if $dir ne '' && !-d $dir;
        _write_file($path, expand_env_in_text($body // '', $block->name));
        if ($date) {
            local $ENV{TZ} = 'GMT';
            system('touch', '-t', $date, $path) == 0
                or die "touch -t '$date' $path failed\n";
        }
    }
}

# nginx.conf, laid out like upstream's so configs behave identically.
sub write_config_file {
    my ($block, $config) = @_;
    my $name = $block->name;

    my $http_config = expand_env_in_text($block->http_config // '', $name);
    my $main_config = expand_env_in_text($block->main_config // '', $name);
    my $post_main   = expand_env_in_text($block->post_main_config // '', $name);
    my $err_log     = expand_env_in_text($block->error_log_file || $ErrLogFile, $name);
    my $server_name = $block->server_name // $ServerName;
    $server_name =~ s/([\\'])/\\$1/g;
    my $log_level = $block->log_level || $LogLevel;

    my $conf = '';
    if ($LoadModules) {
        $conf .= "load_module $_;\n" for grep { length } split /\s+/, $LoadModules;
    }
    $conf .= <<"_EOC_";
worker_processes  $Workers;
daemon on;
master_process $MasterProcessEnabled;
error_log $err_log $log_level;
pid       $PidFile;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
_EOC_
    for my $v (@EnvToNginx) {
        $conf .= $v =~ /\s/ ? "env '$v';\n" : "env $v;\n";
    }

    my $V = nginx_V();
    my @temp;
    push @temp, "client_body_temp_path $ServRoot/client_body_temp;"
        unless $http_config =~ /\bclient_body_temp_path\b/;
    push @temp, "proxy_temp_path $ServRoot/proxy_temp;"
        unless $http_config =~ /\bproxy_temp_path\b/;
    for my $m (qw(fastcgi scgi uwsgi)) {
        push @temp, "${m}_temp_path $ServRoot/${m}_temp;"
            unless $V =~ /--without-http_${m}_module/;
    }
    my $postpone = '';
    if (defined $PostponeOutput && $http_config !~ /\bpostpone_output\b/) {
        $PostponeOutput =~ /^\d+$/
            or bail_out("Bad TEST_NGINX_POSTPONE_OUTPUT value: $PostponeOutput");
        $postpone = "    postpone_output $PostponeOutput;\n";
    }

    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    $conf .= <<"_EOC_";

$main_config

http {
    access_log $AccLogFile; @temp

    default_type text/plain;
    keepalive_timeout  68000ms;
$postpone
$http_config
    server {
        listen          $ServerPort;
        server_name     '$server_name';
        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
}

$post_main

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
_EOC_
    $conf .= "    use $EventType;\n" if $EventType;
    $conf .= "}\n";
    $conf .= "env ASAN_OPTIONS;\nenv MOCKNOEAGAIN_VERBOSE;\nenv MOCKNOEAGAIN;\n";
    if (defined $WorkerUser) {
        $conf .= "user $WorkerUser;\n";
    } elsif ($> == 0) {
        # nginx refuses to run workers as root unless told so explicitly
        $conf .= "user root;\n";
    }
    _write_file($ConfFile, $conf);
}

#------------------------------------------------------------------------
# nginx process management
#------------------------------------------------------------------------

sub read_pid_file {
    open my $in, '<', $PidFile or return undef;
    my $pid = <$in>;
    close $in;
    return undef unless defined $pid && $pid =~ /^\s*(\d+)\s*$/;
    return $1;
}

# alive and not a zombie (a daemonised nginx is not our child, so a zombie
# would linger if the container's init does not reap it)
sub is_running {
    my ($pid) = @_;
    return 0 unless $pid && kill 0, $pid;
    if (open my $st, '<', "/proc/$pid/stat") {
        my $line = <$st> // '';
        return 0 if $line =~ /^\d+ \(.*\) Z/s;
    }
    return 1;
}

# Is $pid an nginx running on *our* config?  Guards against signalling an
# unrelated process through a stale pid file or a recycled pid.  (The
# master rewrites its title but keeps the command line in it as text.)
sub is_our_nginx {
    my ($pid) = @_;
    return 0 unless is_running($pid);
    open my $in, '<', "/proc/$pid/cmdline" or return 1;   # cannot tell
    local $/;
    my $cmd = <$in> // '';
    $cmd =~ tr/\0/ /;
    return index($cmd, $ConfFile) >= 0;
}

# Graceful stop (QUIT), then SIGKILL to the whole process group.  Uses the
# pid file, or the pid we started if the pid file has gone missing.
sub stop_nginx {
    my @pids = grep { defined } read_pid_file(), $NginxPid;
    my %seen;
    for my $pid (grep { !$seen{$_}++ } @pids) {
        next unless is_our_nginx($pid);
        kill 'QUIT', $pid;
        my $deadline = time + ($Timeout > 3 ? $Timeout : 3);
        sleep 0.01 while is_running($pid) && time < $deadline;
        if (is_running($pid)) {
            warn "WARNING: nginx $pid did not quit on SIGQUIT; killing it\n";
            my $pg = getpgrp($pid);
            kill 'KILL', (defined $pg && $pg == $pid) ? -$pid : $pid;
            $deadline = time + 3;
            sleep 0.01 while is_running($pid) && time < $deadline;
        }
    }
    undef $NginxPid;
    unlink $PidFile;
}

# Runs the nginx command line once.  Returns ($status, $stderr) where
# $status is the raw wait status ($?) or -1 when exec failed.
# Block code (--- init, --- post_setup_server_root, --- skip_eval) is
# compiled here, in package Test::Nginx::Util, as upstream's run_test does:
# the test file's own subs and variables are reached as main::name or
# $::name, and a file that calls them unqualified fails under both runners
# (t/lib/selftest/007-packages.t).  --- name eval sections go through
# Test::Base's eval filter (package Test::Base::Filter) in both.  Returns
# the code's value, or true for a statement list, and undef with $@ set
# when it dies.
sub eval_block_code {
    my ($code, $value) = @_;
    return $value ? eval $code : eval "$code; 1";
}

sub run_nginx_cmd {
    my ($block) = @_;
    my @cmd = ($NginxBinary);
    my $ver = nginx_version();
    push @cmd, '-e', $ErrLogFile if defined $ver && $ver >= 1.019005;
    push @cmd, '-p', "$ServRoot/", '-c', $ConfFile;

    unlink $StderrFile;
    my $pid = fork;
    die "fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        # child: stderr to a file, never a pipe (the daemon keeps it open)
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $StderrFile;
        if (defined $ENV{TEST_NGINX_LD_PRELOAD}) {
            $ENV{LD_PRELOAD} = join ' ', grep { defined && length }
                $ENV{TEST_NGINX_LD_PRELOAD}, $ENV{LD_PRELOAD};
        }
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec @cmd failed: $!\n";
        POSIX::_exit(127);
    }
    # with "daemon on" the launcher exits as soon as nginx has daemonised
    my $deadline = time + 30;
    my $status;
    while (1) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        if ($r == $pid) { $status = $?; last }
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            $status = $?;
            last;
        }
        sleep 0.005;
    }
    my $stderr = _slurp($StderrFile) // '';
    $status = -1 if ($status >> 8) == 127 && $stderr =~ /^exec .* failed/m;
    return ($status, $stderr);
}

sub _slurp {
    my ($path) = @_;
    open my $in, '<:raw', $path or return undef;
    local $/;
    my $data = <$in>;
    close $in;
    return $data;
}

sub _tail {
    my ($path, $n) = @_;
    my $data = _slurp($path);
    return "(no $path)\n" unless defined $data;
    my @lines = split /^/m, $data;
    @lines = @lines[-$n .. -1] if @lines > $n;
    return join '', @lines;
}

# Is something listening on TCP $port?  Read from /proc so that we do not
# make a connection nginx would log.
sub port_is_listening {
    my ($port) = @_;
    my $seen_proc = 0;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $in, '<', $f or next;
        $seen_proc = 1;
        while (<$in>) {
            return 1 if /^\s*\d+:\s+[0-9A-Fa-f]+:([0-9A-Fa-f]{4})\s+\S+\s+0A\s/
                        && hex($1) == $port;
        }
    }
    return !$seen_proc;   # cannot tell: assume yes
}

# Starts nginx for $block.  Returns (1, $stderr) or (0, $diagnostics).
sub start_nginx {
    my ($block) = @_;
    my ($status, $stderr) = run_nginx_cmd($block);
    my $why;
    if ($status != 0) {
        $why = $status == -1 ? "could not execute $NginxBinary"
             : "nginx exited with status " . ($status >> 8)
               . (($status & 127) ? " (signal " . ($status & 127) . ")" : '');
    } else {
        my $deadline = time + 10;
        my $pid;
        until (($pid = read_pid_file()) && is_running($pid)
               && port_is_listening($ServerPort))
        {
            if (time > $deadline) {
                $why = !$pid ? "no pid file $PidFile after start"
                     : !is_running($pid) ? "nginx (pid $pid) died right after start"
                     : "nginx is not listening on port $ServerPort";
                last;
            }
            sleep 0.01;
        }
        if ($pid) {
            $NginxStarted = 1;
            $NginxPid = $pid;
        }
    }
    return (1, $stderr) unless defined $why;
    return (0, "$why\n--- nginx stderr:\n$stderr"
               . "--- $ErrLogFile (last lines):\n" . _tail($ErrLogFile, 30));
}

#------------------------------------------------------------------------
# Error log
#------------------------------------------------------------------------

# Lines of the error log written since the previous call (or the whole
# file with check_accum_error_log()).  The short sleep lets nginx finish
# log-phase writes that happen after it closed the connection.
sub error_log_data {
    sleep $TestNginxSleep * 3;
    open my $in, '<:raw', $ErrLogFile or return [];
    seek $in, $ErrLogFilePos, 0 if !$CheckAccumErrLog && $ErrLogFilePos > 0;
    my @lines = <$in>;
    $ErrLogFilePos = tell $in unless $CheckAccumErrLog;
    close $in;
    return \@lines;
}

sub append_total_error_log {
    my ($name) = @_;
    my $total = $ENV{TEST_NGINX_ERROR_LOG} or return;
    my $data = _slurp($ErrLogFile);
    return unless defined $data && length $data;
    open my $out, '>>:raw', $total or die "Can't append to $total: $!\n";
    print $out "\n=== $name\n", $data;
    close $out;
}

END {
    # only clean up an nginx this very process started
    return unless $NginxStarted;
    local $?;
    stop_nginx() unless $ENV{TEST_NGINX_NO_CLEAN};
    if ($Randomize && !$ENV{TEST_NGINX_NO_CLEAN}
        && $ServRoot =~ m{/t/servroot_\d+$})
    {
        remove_tree($ServRoot);
    }
}

1;
