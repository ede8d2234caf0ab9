package RtagentRedis;

# A private redis-server for the Redis tests (t/02*-redis-*.t): started on a
# free port with no persistence, killed and restarted on the same port when
# a test asks, and stopped at exit.  redis() is a small RESP client for
# looking at what the gateway wrote; redis_cli() runs redis-cli, which plays
# "another NGINX instance" publishing control messages.

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

use RtagentNginx qw(free_port);
use RtagentTest;
use RtagentTools qw(find_tool);

our @EXPORT = qw(have_redis start_redis stop_redis kill_redis restart_redis
                 redis redis_tx redis_cli wait_for call_events
                 open_call send_msgs read_frames frames_until
                 acs_transcription acs_dtmf
                 call_owner redis_up);

my %started;    # pid => 1, for the END block

my ($SERVER, $CLI) = (find_tool('redis-server'), find_tool('redis-cli'));

# false when redis-server or redis-cli is not found (then the test skips,
# which .ci/run counts as a failure)
sub have_redis {
    return defined $SERVER && defined $CLI;
}

# start_redis(port => N, password => 'pw', unix => '/path', args => [...])
#   -> { pid, port, dir, password, unix }
sub start_redis {
    my (%o) = @_;
    my $r = {
        port     => $o{port} // free_port(),
        dir      => tempdir(CLEANUP => 1),
        password => $o{password},
        unix     => $o{unix},
        args     => $o{args} // [],
    };
    _spawn($r);
    return $r;
}

sub _spawn {
    my ($r) = @_;
    my @cmd = ($SERVER // 'redis-server', '--port', $r->{port}, '--bind', '127.0.0.1',
               '--save', '', '--appendonly', 'no', '--dir', $r->{dir},
               '--logfile', "$r->{dir}/redis.log", @{ $r->{args} });
    push @cmd, '--requirepass', $r->{password} if defined $r->{password};
    push @cmd, '--unixsocket', $r->{unix}, '--unixsocketperm', '700'
        if $r->{unix};

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        { no warnings 'exec'; exec @cmd; }
        POSIX::_exit(127);
    }
    $r->{pid} = $pid;
    $started{$pid} = 1;

    for (1 .. 200) {
        my $pong = eval { redis($r, 'PING') };
        return if defined $pong && $pong eq 'PONG';
        sleep 0.025;
    }
    die "redis-server did not start on port $r->{port}";
}

sub _reap {
    my ($r) = @_;
    for (1 .. 200) {
        last if waitpid($r->{pid}, POSIX::WNOHANG()) != 0;
        sleep 0.025;
    }
    delete $started{ $r->{pid} };
}

sub stop_redis {
    my ($r) = @_;
    kill 'TERM', $r->{pid};
    _reap($r);
}

# SIGKILL: no shutdown, no save; the data set is gone
sub kill_redis {
    my ($r) = @_;
    kill 'KILL', $r->{pid};
    _reap($r);
}

sub restart_redis {
    my ($r) = @_;
    _spawn($r);
}

# redis($r, 'HGETALL', $key) -> reply: a string, an integer, undef (nil),
# an array ref, or { error => "..." }.  $r->{db} selects a database.
sub redis {
    my ($r, @cmd) = @_;
    return _talk($r, 0, \@cmd);
}

# the data of call $id's events of $type on rtagent:events, decoded, in
# order
sub call_events {
    my ($r, $id, $type) = @_;
    my @ev;
    for my $e (@{ redis($r, 'XRANGE', 'rtagent:events', '-', '+') }) {
        my %f = @{ $e->[1] };
        push @ev, decode_json($f{data})
            if $f{call_id} eq $id && $f{type} eq $type;
    }
    return @ev;
}

# redis_tx($r, [cmd...], [cmd...]) -> EXEC's reply: the commands in one
# MULTI/EXEC transaction, as an outside sender of control messages does
sub redis_tx {
    my ($r, @cmds) = @_;
    return _talk($r, 1, ['MULTI'], @cmds, ['EXEC']);
}

# one connection: AUTH and SELECT as $r wants, then @cmds; the last reply,
# an error reply of an earlier command (of any with $strict) dies
sub _talk {
    my ($r, $strict, @cmds) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$r->{port}",
                                  Timeout => 3)
        or die "cannot connect to redis on port $r->{port}: $!";
    binmode $s;

    unshift @cmds, ['SELECT', $r->{db}] if $r->{db};
    unshift @cmds, ['AUTH', $r->{password}] if defined $r->{password};

    print $s join '', map { _resp(@$_) } @cmds;

    my $reply;
    for my $c (@cmds) {
        $reply = _read($s);
        die "redis $c->[0]: $reply->{error}\n"
            if ref $reply eq 'HASH' && ($strict || $c != $cmds[-1]);
    }
    close $s;
    return $reply;
}

sub _resp {
    my @a = @_;
    return '*' . @a . "\r\n"
         . join '', map { '$' . length($_) . "\r\n$_\r\n" } @a;
}

sub _read {
    my ($s) = @_;
    my $line = <$s>;
    die "redis closed the connection\n" unless defined $line;
    $line =~ s/\r\n\z//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));

    return $v if $t eq '+' || $t eq ':';
    return { error => $v } if $t eq '-';

    if ($t eq '$') {
        return undef if $v < 0;
        my $buf = '';
        while (length $buf < $v + 2) {
            read($s, $buf, $v + 2 - length $buf, length $buf)
                or die "short bulk reply\n";
        }
        return substr($buf, 0, $v);
    }

    if ($t eq '*') {
        return undef if $v < 0;
        return [ map { _read($s) } 1 .. $v ];
    }

    die "bad RESP line: $line\n";
}

# runs redis-cli against the server; returns its output
sub redis_cli {
    my ($r, @args) = @_;
    my @cmd = ($CLI // 'redis-cli', '-h', '127.0.0.1', '-p', $r->{port});
    push @cmd, '-a', $r->{password}, '--no-auth-warning'
        if defined $r->{password};
    open my $fh, '-|', @cmd, @args or die "redis-cli: $!";
    local $/;
    my $out = <$fh>;
    close $fh;
    return $out // '';
}

# polls $cond until it returns true or $timeout seconds pass
sub wait_for {
    my ($cond, $timeout) = @_;
    my $end = time + ($timeout // 10);
    while (time < $end) {
        my $v = eval { $cond->() };
        return $v if $v;
        sleep 0.05;
    }
    return eval { $cond->() };
}

# both connections of $workers workers (default 2) have come up, at once or
# after a retry, in the error log of nginx $n
sub redis_up {
    my ($n, $workers) = @_;
    return wait_for(sub {
        my $up = () = RtagentNginx::error_log($n)
                      =~ /rtagent redis: \w+ connection to \S+ is (?:up|back)/g;
        $up >= 2 * ($workers // 2);
    });
}

# --- an ACS media call, as a client ------------------------------------------

# opens a WebSocket to the ACS media location (x-ms-call-connection-id $id
# unless undef) and sends @msgs; returns the socket after the 101
sub open_call {
    my ($port, $id, @msgs) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect: $!";
    binmode $s;
    print $s ws_handshake(undef, defined $id
                                 ? ('x-ms-call-connection-id' => $id) : ())
           . join '', map { cframe('text', $_) } @msgs;

    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        sysread($s, $head, 1, length $head) or die "no handshake reply";
    }
    die "not upgraded: $head" unless $head =~ m{^HTTP/1.1 101 };
    return $s;
}

sub send_msgs {
    my ($s, @msgs) = @_;
    print $s join '', map { /\A\{/ ? cframe('text', $_) : $_ } @msgs;
}

# the frames the server sends within $timeout seconds, as [opcode, payload]
# pairs; returns early after a close frame, or once $until->(\@frames) is
# true
sub read_frames {
    my ($s, $timeout, $until) = @_;
    my ($buf, @frames) = ('');
    my $sel = IO::Select->new($s);
    my $end = time + $timeout;

    while (time < $end) {
        while (length $buf >= 2) {
            my ($b0, $b1) = unpack 'CC', $buf;
            my ($len, $off) = ($b1 & 0x7f, 2);
            if ($len == 126) {
                last if length $buf < 4;
                ($len, $off) = (unpack('x2n', $buf), 4);
            } elsif ($len == 127) {
                last if length $buf < 10;
                ($len, $off) = (unpack('x2x4N', $buf), 10);
            }
            last if length $buf < $off + $len;
            push @frames, [$b0 & 0x0f, substr($buf, $off, $len)];
            substr($buf, 0, $off + $len) = '';
        }
        return \@frames if @frames && $frames[-1][0] == 8;
        return \@frames if $until && $until->(\@frames);
        last unless $sel->can_read(ngx_min(0.05, $end - time));
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    # what arrived with the EOF
    while (length $buf >= 2) {
        my ($b0, $b1) = unpack 'CC', $buf;
        my $len = $b1 & 0x7f;
        last if $len > 125 || length $buf < 2 + $len;
        push @frames, [$b0 & 0x0f, substr($buf, 2, $len)];
        substr($buf, 0, 2 + $len) = '';
    }
    return \@frames;
}

sub ngx_min { $_[0] < $_[1] ? $_[0] : $_[1] }

# the frames until $cond->(\@frames) is true or a close frame comes, within
# $timeout seconds: read_frames() alone stops at the first silence
sub frames_until {
    my ($s, $timeout, $cond) = @_;
    my @f;
    wait_for(sub { push @f, @{ read_frames($s, 0.2) };
                   (@f && $f[-1][0] == 8) || ($cond && $cond->(\@f)) },
             $timeout);
    return \@f;
}

sub acs_transcription {
    my ($text, %o) = @_;
    my $status = $o{final} // 1 ? 'Final' : 'Intermediate';
    my $who = $o{participant} // '4:+15550100';
    $text = JSON::PP->new->allow_nonref->ascii->encode($text);
    return qq({"kind":"TranscriptionData","transcriptionData":{"text":$text,)
         . qq("format":"display","confidence":0.9226,"offset":212483227,)
         . qq("duration":9600000,"participantRawID":"$who",)
         . qq("resultStatus":"$status"}});
}

sub acs_dtmf {
    my ($tones) = @_;
    return qq({"kind":"DtmfData","dtmfData":{"data":"$tones"}});
}

# the pid of the worker that owns call $id, from its "call state in" line
sub call_owner {
    my ($log, $id) = @_;
    return $log =~ /\[info\]\ (\d+)\#\d+:\ \*\d+\ rtagent\ store:\ call\ state
                    \ in\ "rtagent:call:\{\Q$id\E\}"/x ? $1 : undef;
}

END {
    local $?;    # the servers' exit status is not the test's
    kill 'KILL', keys %started;
    waitpid($_, 0) for keys %started;
}

1;
