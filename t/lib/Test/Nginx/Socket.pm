
=head1 NAME

Test::Nginx::Socket - minimal local stand-in for upstream Test::Nginx::Socket

=head1 DESCRIPTION

A from-scratch runner for the subset of the L<Test::Nginx::Socket>
(openresty/test-nginx) data-driven block format that this project's
F<t/*.t> files use.  It is only meant to be picked up (via
C<prove -I t/lib>) when upstream Test::Nginx is not installed; the test
files must keep running unchanged under upstream, so section names,
defaults, test names and the generated F<nginx.conf> follow upstream's
documented behaviour.  It is built on Debian's L<Test::Base>.

Supported functions: C<plan>, C<run_tests>, C<blocks>, C<repeat_each>,
C<no_shuffle>, C<no_long_string>, C<workers>, C<worker_connections>,
C<master_on>, C<master_off>, C<master_process_enabled>, C<log_level>,
C<no_root_location>, C<env_to_nginx>, C<add_block_preprocessor>,
C<add_cleanup_handler>, C<add_test_cleanup_handler>,
C<add_response_body_check>, C<check_accum_error_log>, C<config_preamble>,
C<server_port>, C<server_port_for_client>, C<server_addr>, C<server_name>,
C<server_root>, C<html_dir>, C<timeout>, C<is_str>, C<bail_out>, plus the
Test::More basics re-exported by Test::Base.

Supported sections: see the list in the comment above C<run_block> below.

Environment: TEST_NGINX_BINARY, TEST_NGINX_LOAD_MODULES,
TEST_NGINX_SERVROOT, TEST_NGINX_PORT, TEST_NGINX_SERVER_PORT,
TEST_NGINX_CLIENT_PORT, TEST_NGINX_TIMEOUT, TEST_NGINX_LOG_LEVEL,
TEST_NGINX_MASTER_PROCESS, TEST_NGINX_NO_CLEAN, TEST_NGINX_NO_SHUFFLE,
TEST_NGINX_SLEEP, TEST_NGINX_RANDOMIZE, TEST_NGINX_LD_PRELOAD,
TEST_NGINX_EVENT_TYPE, TEST_NGINX_POSTPONE_OUTPUT, TEST_NGINX_WORKER_USER,
TEST_NGINX_ERROR_LOG, TEST_NGINX_CHECK_ACCUM_ERR_LOG and
TEST_NGINX_RAND_PORT_<N>.

=cut

package Test::Nginx::Socket;

use strict;
use warnings;

# lower-case -base: subclass Test::Base without Spiffy's source filter
use Test::Base -base;

use IO::Socket::INET ();
use List::Util qw(shuffle min);
use POSIX ();
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);
use Test::Nginx::Util;

our $VERSION = '0.01';

our @EXPORT = qw(
    plan run_tests repeat_each no_shuffle no_long_string workers
    worker_connections master_on master_off master_process_enabled
    log_level no_root_location env_to_nginx add_block_preprocessor
    add_cleanup_handler add_test_cleanup_handler add_response_body_check
    check_accum_error_log config_preamble server_port server_port_for_client
    server_addr server_name server_root html_dir timeout is_str bail_out
);

our @ResponseBodyChecks;

sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

#------------------------------------------------------------------------
# Driver
#------------------------------------------------------------------------

sub run_tests () {
    srand($$ ^ int(time * 1000));
    $ENV{TEST_NGINX_SERVER_PORT} = $Test::Nginx::Util::ServerPort
        unless defined $ENV{TEST_NGINX_SERVER_PORT};

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $Test::Nginx::Util::NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @Test::Nginx::Util::BlockPreprocessors;
        $block->set_value(name => "$0 " . $block->name);
        # Anything that upstream would bail out on inside a block becomes
        # a failing test for that block here; the rest of the file runs.
        my $ok = eval { run_block($block); 1 };
        if (!$ok) {
            my $err = $@;
            chomp $err;
            fail($block->name . " - $err");
        }
        $_->($block) for @Test::Nginx::Util::TestCleanupHandlers;
    }
    Test::Nginx::Util::cleanup();
}

# Sections understood per block:
#   main_config post_main_config http_config config server_name
#   error_log_file log_level user_files init post_setup_server_root
#   request (string, or eval'd array of requests / of packet arrays)
#   raw_request (string or eval'd array of packets) raw_request_middle_delay
#   pipelined_requests more_headers timeout abort shutdown wait
#   ignore_response error_code error_code_like response_headers
#   response_headers_like raw_response_headers_like
#   raw_response_headers_unlike response_body response_body_like
#   response_body_unlike error_log no_error_log grep_error_log
#   grep_error_log_out must_die suppress_stderr skip_eval skip_nginx
#   server_addr_for_client
sub run_block {
    my ($block) = @_;
    my $name = $block->name;

    Test::Nginx::Util::prepare_rand_ports($block);

    my $config = $block->config;
    $config = expand_env_in_text($config, $name) if defined $config;

    my ($skip_n, $skip_reason) = should_skip($block);

    if (!defined $skip_n) {
        if (defined $config) {
            $Test::Nginx::Util::PrevConfig = undef;
            Test::Nginx::Util::stop_nginx();
            Test::Nginx::Util::setup_server_root();
            if (my $code = $block->post_setup_server_root) {
                Test::Nginx::Util::eval_block_code($code)
                    or die "post_setup_server_root failed: $@";
            }
            Test::Nginx::Util::write_user_files($block);
            Test::Nginx::Util::write_config_file($block, $config);

            if (defined $block->must_die) {
                run_must_die($block);
                return;
            }

            my ($ok, $msg) = Test::Nginx::Util::start_nginx($block);
            if (!$ok) {
                fail("$name - nginx failed to start");
                diag($msg);
                return;
            }
            if (length $msg && !defined $block->suppress_stderr) {
                print STDERR $msg;    # nginx warnings, like upstream shows
            }
            $Test::Nginx::Util::PrevConfig = $config;

        } elsif (!defined $Test::Nginx::Util::PrevConfig) {
            die "No '--- config' section specified and could not get "
                . "previous one.\n";
        }
        # else: no --- config: keep running the previous block's nginx
    }

    if (my $code = $block->init) {
        Test::Nginx::Util::eval_block_code($code) or die "init failed: $@";
    }

    $Test::Nginx::Util::ErrLogFilePos = 0;
    for my $i (0 .. repeat_each() - 1) {
        if (defined $skip_n) {
            SKIP: { skip("$name - $skip_reason", $skip_n) }
            next;
        }
        Test::Nginx::Util::write_user_files($block) if $i > 0;
        run_test_helper($block, $i);
    }
    Test::Nginx::Util::append_total_error_log($name) unless defined $skip_n;
}

# --- skip_eval: "N: perl expr" and --- skip_nginx: "N: <op> x.y.z[: why]"
sub should_skip {
    my ($block) = @_;
    if (defined(my $se = $block->skip_eval)) {
        $se =~ /^\s*(\d+)\s*:\s*(.*)$/s or die "Invalid --- skip_eval spec\n";
        my ($n, $code) = ($1, $2);
        my $yes = Test::Nginx::Util::eval_block_code($code, 'value');
        die "skip_eval - failed to eval the Perl code \"$code\": $@" if $@;
        return ($n, 'skip_eval') if $yes;
    }
    if (defined(my $sn = $block->skip_nginx)) {
        $sn =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)(?:\s*:\s*(.*?))?\s*$/
            or die "Invalid --- skip_nginx spec: $sn\n";
        my ($n, $op, $why) = ($1, $2, $6);
        my $want = Test::Nginx::Util::get_canon_version($3, $4, $5);
        my $have = Test::Nginx::Util::nginx_version();
        my $yes = !defined $have ? $op =~ /^</
                : $op eq '<'  ? $have < $want
                : $op eq '<=' ? $have <= $want
                : $op eq '>'  ? $have > $want
                :               $have >= $want;
        return ($n, $why || "nginx version $op $3.$4.$5") if $yes;
    }
    return;
}

# --- must_die: nginx must refuse to start (optionally with that exit code)
sub run_must_die {
    my ($block) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;
    $Test::Nginx::Util::ErrLogFilePos = 0;
    for my $i (0 .. repeat_each() - 1) {
        my ($status) = Test::Nginx::Util::run_nginx_cmd($block);
        if ($status == -1) {
            fail("$name - failed to execute the nginx command line");
        } elsif ($status & 128) {
            fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            is($must_die, $status >> 8, "$name - die with the expected exit code");
        } else {
            isnt($status, 0, "$name - die as expected");
        }
        check_error_log($block, $i);
        if ($status == 0) {
            warn "WARNING: $name - nginx must die but it does not; "
                 . "killing it (req $i)\n";
            $Test::Nginx::Util::NginxStarted = 1;
            for (1 .. 100) { last if -f $Test::Nginx::Util::PidFile; sleep 0.01 }
            Test::Nginx::Util::stop_nginx();
        }
    }
}

# One repetition of a block: send its request(s), check the response(s),
# then the error log written meanwhile.
sub run_test_helper {
    my ($block, $rep) = @_;
    my $name = $block->name;

    my $reqs = get_req_from_block($block);
    my $timeout = parse_time($block->timeout) // timeout();

    my $npipelined = $block->pipelined_requests
        ? scalar @{ $block->pipelined_requests } : 0;
    my $need_array = $npipelined ? 1 : @$reqs > 1;
    my $total = $npipelined || scalar @$reqs;
    my $req_idx = 0;

    for my $req (@$reqs) {
        my ($raw, $head_req) = send_request($req, $block, $timeout);
        $raw //= '';
        for (1 .. ($npipelined || 1)) {
            if (!defined $block->ignore_response) {
                my ($res, $raw_headers, $left)
                    = parse_response($name, $raw, $head_req);
                if ($npipelined) {
                    $raw = $left // '';
                } elsif (defined $left && length $left) {
                    warn "WARNING: $name - unexpected extra bytes after the "
                         . "response body: \"" . escape_str($left, 200) . "\"\n";
                }
                check_error_code($block, $res, $req_idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $req_idx, $need_array);
                check_response_body($block, $res, $req_idx, $rep, $need_array);
            }
            if ($req_idx < $total - 1) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $rep);
            }
            $req_idx++;
        }
    }

    sleep $block->wait if $block->wait;
    check_error_log($block, $rep);
}

#------------------------------------------------------------------------
# Building requests
#------------------------------------------------------------------------

# --- more_headers text => ("Key: value\r\n"..., $is_chunked)
sub parse_more_headers {
    my ($in) = @_;
    my ($out, $chunked) = ('', 0);
    for my $line (split /\n+/, $in // '') {
        next if $line =~ /^\s*#/ || $line !~ /\S/;
        my ($k, $v) = split /:\s*/, $line, 2;
        $v //= '';
        $chunked = 1 if lc $k eq 'transfer-encoding' && $v eq 'chunked';
        $out .= "$k: $v\r\n";
    }
    return ($out, $chunked);
}

# Turns a "METHOD /uri [HTTP/x.y]\n[body]" spec, possibly split into several
# packets, into a full HTTP request, keeping the packet boundaries where the
# spec had them.  Returns an arrayref of packet strings.
sub build_request {
    my ($more_headers, $is_chunked, $conn, $packets) = @_;
    my $whole = join '', @$packets;
    my ($first, $content) = $whole =~ /\A([^\n]*\n?)(.*)\z/s;
    $first =~ /^(\s*)(\S+)( *)(?:(\S+)( *))?(?:(\S+)( *))?(\s*)$/
        or die "Request line is not valid. Should be 'meth [url [version]]' "
             . "but got \"$first\".\n";
    my ($ws0, $meth, $ws1, $url, $ws2, $ver, $ws3, $eol)
        = ($1, $2, $3, $4, $5, $6, $7, $8);

    my $new_content = $content;
    my $len_header = '';
    if (!$is_chunked && $content ne ''
        && $more_headers !~ /(?:^|\n)Content-Length:/)
    {
        $new_content =~ s/^\s+|\s+$//gs;
        $len_header = "Content-Length: " . length($new_content) . "\r\n";
    }
    my $headers = '';
    $headers .= "Host: $Test::Nginx::Util::ServerName\r\n"
        unless $more_headers =~ /(?:^|\n)Host:/i;
    $headers .= "Connection: $conn\r\n"
        unless $more_headers =~ /(?:^|\n)Connection/i;
    $headers .= "$more_headers$len_header\r\n";

    # [length in the spec, replacement text] covering the whole spec
    my @seg = (
        [length $ws0, ''],
        [length $meth, "$meth "],
        [length $ws1, ''],
        [length($url // ''), ($url // '/') . ' '],
        [length($ws2 // ''), ''],
        [length($ver // ''), ($ver // 'HTTP/1.1') . "\r\n"],
        [length($ws3 // '') + length($eol), ''],
        [0, $headers],
        [length $content, $new_content],
    );

    my @out;
    my $si = 0;
    for my $p (@$packets) {
        my $left = length $p;
        my $buf = '';
        while ($si < @seg) {
            my ($olen, $new) = @{ $seg[$si] };
            if ($olen <= $left) {          # segment ends inside this packet
                $buf .= $new;
                $left -= $olen;
                $si++;
                next;
            }
            last if $left == 0;            # continues in the next packet
            my $take = min($left, length $new);
            $buf .= substr($new, 0, $take);
            $seg[$si] = [$olen - $left, substr($new, $take)];
            $left = 0;
        }
        push @out, $buf;
    }
    $out[-1] .= join '', map { $_->[1] } @seg[$si .. $#seg] if @out;
    return \@out;
}

# Returns [ [ {value => ..., delay_before => ...}, ... ], ... ]: one entry
# per request (connection), each a list of packets.
sub get_req_from_block {
    my ($block) = @_;
    my $name = $block->name;

    if (defined(my $rr = $block->raw_request)) {
        my @parts = ref $rr eq 'ARRAY' ? @$rr : ($rr);
        return [[ map { ref $_ eq 'HASH' ? {%$_} : { value => $_ } } @parts ]];
    }

    my $more = $block->more_headers // '';
    my $hdr_for = sub {
        my ($i) = @_;
        return parse_more_headers($more) unless ref $more eq 'ARRAY';
        defined $more->[$i]
            or die "--- more_headers lacks data for the ${i}th request\n";
        return parse_more_headers($more->[$i]);
    };

    if (my $reqs = $block->pipelined_requests) {
        ref $reqs eq 'ARRAY' or die "invalid entries in --- pipelined_requests\n";
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my $r = expand_env_in_text($reqs->[$i], $name);
            my ($h, $chunked) = $hdr_for->($i);
            my $conn = $i == $#$reqs ? 'close' : 'keep-alive';
            $all .= build_request($h, $chunked, $conn, [$r])->[0];
        }
        return [[ { value => $all } ]];
    }

    my $request = $block->request;
    defined $request
        or die "no --- request, --- raw_request or --- pipelined_requests\n";

    if (!ref $request) {
        # leading comment lines and blanks are not part of the request
        1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
        my ($h, $chunked) = $hdr_for->(0);
        return [[ { value => build_request($h, $chunked, 'close', [$request])->[0] } ]];
    }
    ref $request eq 'ARRAY'
        or die "invalid --- request: MUST be string or array of requests\n";

    my @list;
    for my $i (0 .. $#$request) {
        my $one = $request->[$i];
        my ($h, $chunked) = $hdr_for->($i);
        if (!ref $one) {
            push @list, [ { value => build_request($h, $chunked, 'close', [$one])->[0] } ];
        } elsif (ref $one eq 'ARRAY') {
            my @specs = map {
                !ref $_ ? { value => $_ }
                : ref $_ eq 'HASH' ? {%$_}
                : die "Invalid syntax. $_ should be a string or hash with value.\n"
            } @$one;
            my $pk = build_request($h, $chunked, 'close', [map { $_->{value} } @specs]);
            $specs[$_]{value} = $pk->[$_] for 0 .. $#specs;
            push @list, \@specs;
        } else {
            die "Invalid syntax. $one should be a string or an array of packets.\n";
        }
    }
    return \@list;
}

#------------------------------------------------------------------------
# Talking to nginx
#------------------------------------------------------------------------

# Sends the packets of one request on a new connection (sleeping
# delay_before / raw_request_middle_delay between packets) and reads until
# the server closes the connection.  The timeout is the longest allowed
# silence between two I/O events.  Returns ($raw_response, $is_head_req).
sub send_request {
    my ($packets, $block, $timeout) = @_;
    my $name = $block->name;
    my @queue = map { {%$_} } @$packets;
    my $head_req = (join '', map { $_->{value} // '' } @queue) =~ /^\s*HEAD\s+/ ? 1 : 0;
    my $middle_delay = $block->raw_request_middle_delay;

    my $addr = $block->server_addr_for_client // server_addr();
    my $port = server_port_for_client();
    my ($sock, $err);
    my $give_up = time + ($timeout > 5 ? $timeout : 5);
    for (my $try = 1; ; $try++) {
        $sock = IO::Socket::INET->new(
            PeerAddr => $addr, PeerPort => $port, Proto => 'tcp',
            Timeout => $timeout,
        );
        last if $sock;
        $err = $@ || "$!";
        last if time > $give_up;
        sleep min(0.01 * $try, 0.2);
    }
    if (!$sock) {
        fail("$name - Can't connect to $addr:$port: $err");
        return (undef, $head_req);
    }
    binmode $sock;
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my $fd = fileno $sock;
    my $resp = '';
    my $cur = shift @queue;
    my ($buf, $off) = ($cur->{value} // '', 0);
    my $writing = 1;
    my $write_at = 0;          # time the current packet may be written
    my $last_io = time;
    my $timed_out = 0;

    while (1) {
        my $now = time;
        my $wait = $timeout - ($now - $last_io);
        my ($rin, $win) = ('', '');
        vec($rin, $fd, 1) = 1;
        if ($writing) {
            if ($now >= $write_at) { vec($win, $fd, 1) = 1 }
            else { $wait = min($wait, $write_at - $now) }
        }
        if ($wait <= 0) { $timed_out = 1; last }
        my $n = select(my $rout = $rin, my $wout = $win, undef, $wait);
        if ($n < 0) {
            next if $!{EINTR};
            warn "WARNING: $name - select failed: $!\n";
            last;
        }
        next if $n == 0;       # loop re-evaluates timeout / pending write

        if (vec($rout, $fd, 1)) {
            my $got = sysread($sock, my $chunk, 65536);
            if (!defined $got) {
                next if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
                warn "WARNING: $name - HTTP response read failure: $!\n";
                last;
            }
            last if $got == 0;                 # server closed: done
            $resp .= $chunk;
            $last_io = time;
        }

        if ($writing && vec($wout, $fd, 1)) {
            my $w = length $buf > $off
                ? syswrite($sock, $buf, length($buf) - $off, $off) : 0;
            if (!defined $w) {
                next if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
                warn "WARNING: $name - write failed: $!\n";
                $writing = 0;                  # keep reading what we got
                next;
            }
            $off += $w;
            $last_io = time;
            if ($off >= length $buf) {
                if (@queue) {
                    $cur = shift @queue;
                    ($buf, $off) = ($cur->{value} // '', 0);
                    my $delay = $cur->{delay_before} // $middle_delay // 0;
                    $write_at = time + $delay;
                    # the sleep between packets is not client silence
                    $last_io = $write_at;
                } else {
                    $writing = 0;
                    my $how = $block->shutdown;
                    if (defined $how) {
                        $how = 1 if $how !~ /\S/;
                        shutdown($sock, $how);
                    }
                }
            }
        }
    }
    close $sock;

    if ($timed_out) {
        if (!defined $block->abort) {
            fail("ERROR: client socket timed out - $name");
        }
    }
    return ($resp, $head_req);
}

#------------------------------------------------------------------------
# Parsing responses
#------------------------------------------------------------------------

{
    # tiny response object with the bits of the HTTP::Response API we need
    package Test::Nginx::Socket::Response;

    sub new {
        my ($class, %args) = @_;
        return bless {%args}, $class;
    }
    sub code    { $_[0]{code} }
    sub message { $_[0]{message} }
    sub content { $_[0]{content} }

    # Header values by case-insensitive name ('_' matches '-' as with
    # HTTP::Headers); repeated headers are joined with ", ".
    sub header {
        my ($self, $name) = @_;
        (my $want = lc $name) =~ tr/_/-/;
        my @v = map { $_->[1] } grep {
            (my $k = lc $_->[0]) =~ tr/_/-/;
            $k eq $want;
        } @{ $self->{headers} };
        return @v ? join(', ', @v) : undef;
    }
}

# Splits a raw response read until close.  Returns ($res, $raw_headers,
# $leftover).  $raw_headers is the status line plus header lines, each with
# its CRLF, without the terminating empty line.  For 101 (and 304) the body
# is every byte after the headers, untouched; otherwise chunked bodies are
# decoded and Content-Length bodies are cut at the length (the excess is
# returned as leftover, used by pipelined_requests).
sub parse_response {
    my ($name, $raw, $head_req) = @_;
    my ($head, $rest, $raw_headers) = ('', '', '');
    my $i = index $raw, "\r\n\r\n";
    if ($i >= 0) {
        $raw_headers = substr($raw, 0, $i + 2);
        $head = substr($raw, 0, $i);
        $rest = substr($raw, $i + 4);
    } elsif ($raw =~ /\A(.*?)\n\r?\n(.*)\z/s) {
        ($head, $rest) = ($1, $2);
    } else {
        $head = $raw;
    }

    my @lines = split /\r?\n/, $head;
    my $status_line = shift(@lines) // '';
    my ($code, $message);
    if ($status_line =~ /^(\d{3})(?:\s+(.*))?$/) {
        ($code, $message) = ($1, $2);
    } else {
        (undef, $code, $message) = split ' ', $status_line, 3;
    }
    undef $code unless defined $code && $code =~ /^\d+$/;

    my @headers;
    for my $line (@lines) {
        if ($line =~ /^[ \t]+(.*)$/ && @headers) {     # obsolete folding
            $headers[-1][1] .= " $1";
        } elsif ($line =~ /^([^:]+?)[ \t]*:[ \t]*(.*?)[ \t]*$/) {
            push @headers, [$1, $2];
        }
    }
    my $res = Test::Nginx::Socket::Response->new(
        code => $code, message => $message, headers => \@headers,
        content => $rest,
    );

    return ($res, $raw_headers) if defined $code && ($code == 101 || $code == 304);

    my $left;
    my $te = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');
    if (defined $te && $te =~ /^\s*chunked\s*$/i) {
        my ($body, $pos, $err) = ('', 0);
        while (1) {
            pos($rest) = $pos;
            if ($rest !~ /\G[ \t]*([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r\n/gc) {
                $err = length($rest) > $pos
                    ? "invalid chunked body received: \""
                      . escape_str(substr($rest, $pos), 100) . "\""
                    : "no last chunk found";
                last;
            }
            my $size = hex $1;
            $pos = pos($rest);
            if ($size == 0) {
                $pos = pos($rest) while $rest =~ /\G[^\r\n]+\r\n/gc;  # trailers
                pos($rest) = $pos;
                if ($rest !~ /\G\r\n/gc) {
                    $err = "invalid chunked data received (expected CRLF)";
                    last;
                }
                $pos = pos($rest);
                $left = substr($rest, $pos) if $pos < length $rest;
                last;
            }
            if (length($rest) - $pos < $size) {
                $body .= substr($rest, $pos);
                $err = "invalid chunked data received "
                     . "(not enough octets for the data section)";
                last;
            }
            $body .= substr($rest, $pos, $size);
            $pos += $size;
            if (substr($rest, $pos, 2) ne "\r\n") {
                $err = "invalid chunked data received (expected CRLF)";
                last;
            }
            $pos += 2;
        }
        fail("$name - $err") if defined $err;
        $res->{content} = $body;
    } elsif (defined $len && $len =~ /^\s*(\d+)\s*$/) {
        my $n = $1;
        if (length $rest > $n) {
            $left = substr($rest, $n);
            $res->{content} = substr($rest, 0, $n);
        } elsif (length $rest < $n && !$head_req) {
            warn "WARNING: $name - response body truncated: $n expected, "
                 . "but got " . length($rest) . "\n";
        }
    }
    return ($res, $raw_headers, $left);
}

#------------------------------------------------------------------------
# Checks
#------------------------------------------------------------------------

# Expected value for request $idx: sections must be arrays when a block
# sends several requests.
sub get_indexed_value {
    my ($name, $value, $idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$idx] if ref $value eq 'ARRAY';
        die "You asked for many requests, the expected results should be "
            . "arrays as well.\n";
    }
    return ref $value eq 'ARRAY' ? $value->[0] : $value;
}

sub escape_str {
    my ($s, $max) = @_;
    return '' unless defined $s;
    my $cut = defined $max && length $s > $max;
    $s = substr($s, 0, $max) if $cut;
    $s =~ s/([\\"])/\\$1/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    $s =~ s/\t/\\t/g;
    $s =~ s/([\x00-\x1f\x7f-\xff])/sprintf('\\x%02x', ord $1)/ge;
    return $cut ? "$s..." : $s;
}

sub _subst_port {
    my ($s) = @_;
    return $s if !defined $s || ref $s;
    my $sp = server_port();
    my $cp = server_port_for_client();
    $s =~ s/\$ServerPortForClient\b/$cp/g;
    $s =~ s/\$ServerPort\b/$sp/g;
    return $s;
}

sub check_error_code {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';
    if (defined $block->error_code_like) {
        my $pat = get_indexed_value($name, $block->error_code_like, $idx, $need_array);
        like($got, qr/$pat/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        is($got, get_indexed_value($name, $block->error_code, $idx, $need_array),
           "$name - status code ok");
    } else {
        is($got, 200, "$name - status code ok");
    }
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->raw_response_headers_like) {
        my $pat = get_indexed_value($name, $block->raw_response_headers_like,
                                    $idx, $need_array);
        like($raw_headers, qr/$pat/s, "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $pat = get_indexed_value($name, $block->raw_response_headers_unlike,
                                    $idx, $need_array);
        unlike($raw_headers, qr/$pat/s, "$name - raw resp headers unlike");
    }
}

# "Name: value" lines (value may be empty), "!Name" for absence.  As with
# upstream, a repeated name keeps its last value.
sub parse_headers {
    my ($s) = @_;
    my (%h, @order);
    for my $line (split /\n/, $s // '') {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        my ($key, $val);
        if ($line =~ s/^!\s*//) {
            $key = $line;
        } else {
            ($key, $val) = split /\s*:\s*/, $line, 2;
            $val //= '';
        }
        push @order, $key unless exists $h{$key};
        $h{$key} = $val;
    }
    return map { [$_, $h{$_}] } @order;
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->response_headers) {
        for my $kv (parse_headers(get_indexed_value(
                        $name, $block->response_headers, $idx, $need_array)))
        {
            my ($key, $val) = @$kv;
            if (!defined $val) {
                unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                       "$name - header $key not present in the raw headers");
                next;
            }
            my $got = $res ? $res->header($key) : undef;
            is($got // '', _subst_port($val), "$name - header $key ok");
        }
    } elsif (defined $block->response_headers_like) {
        for my $kv (parse_headers(get_indexed_value(
                        $name, $block->response_headers_like, $idx, $need_array)))
        {
            my ($key, $val) = @$kv;
            my $got = $res ? $res->header($key) : undef;
            $val //= '';
            like($got // '', qr/^$val$/, "$name - header $key like ok");
        }
    }
}

sub check_response_body {
    my ($block, $res, $idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined $block->response_body) {
        my $expected = get_indexed_value($name, $block->response_body,
                                         $idx, $need_array);
        if (defined $expected && !ref $expected) {
            $expected = expand_env_in_text(_subst_port($expected), $name);
        }
        my $desc = "$name - response_body - ";
        if (ref $expected) {
            like($content, $expected, "${desc}like (repeated req $rep, req $idx)");
        } else {
            $desc .= "response is expected (repeated req $rep, req $idx)";
            if ($Test::Nginx::Util::NoLongString) {
                is($content, $expected, $desc);    # Test::Base's diffing is()
            } else {
                is_str($content, $expected, $desc);
            }
        }
    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $sec = "response_body_$type";
        my $pat = _subst_port(get_indexed_value($name, $block->$sec,
                                                $idx, $need_array));
        my $summary = escape_str(_summary($content), 60);
        my $desc = "$name - $sec - response is expected ($summary)";
        if ($type eq 'like') {
            like($content, qr/$pat/s, $desc);
        } else {
            unlike($content, qr/$pat/s, $desc);
        }
    }

    $_->($block, $content, $idx, $rep, 0) for @ResponseBodyChecks;
}

sub _summary {
    my ($s) = @_;
    return '' unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\s+/ /g;
    return $s;
}

# error_log / no_error_log value => list of patterns (strings or qr//)
sub _patterns {
    my ($pats) = @_;
    return () unless defined $pats;
    if (!ref $pats) {
        chomp $pats;
        return split /\n+/, $pats;
    }
    return ($pats) if ref $pats eq 'Regexp';
    return @$pats if ref $pats eq 'ARRAY';
    return ($pats);
}

sub _line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

sub check_error_log {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $lines;

    if (defined(my $grep = $block->grep_error_log)) {
        $grep = $grep->[$rep] if ref $grep eq 'ARRAY';
        my $expected = $block->grep_error_log_out;
        defined $expected
            or die "No --- grep_error_log_out defined but --- grep_error_log is defined\n";
        $expected = $expected->[$rep] if ref $expected eq 'ARRAY';
        $expected = expand_env_in_text($expected, $name);
        $lines ||= Test::Nginx::Util::error_log_data();
        my $out = '';
        for my $line (@$lines) {
            my $m;
            if (ref $grep) { $m = $& if $line =~ $grep }
            elsif ($line =~ /\Q$grep\E/) { $m = $& }
            $out .= "$m\n" if defined $m && $m !~ /\n/;
        }
        is_str($out, $expected, "$name - grep_error_log_out (req $rep)");
    } elsif (defined $block->grep_error_log_out) {
        die "No --- grep_error_log defined but --- grep_error_log_out is defined\n";
    }

    my %warned_by_pattern;   # [alert]/[crit]/[emerg] asked for explicitly
    for my $sec (qw(error_log no_error_log)) {
        for my $p (_patterns($block->$sec)) {
            next if ref $p;
            $warned_by_pattern{$1} = 1 while $p =~ /\[(alert|crit|emerg)/g;
        }
    }

    if (defined $block->error_log) {
        $lines ||= Test::Nginx::Util::error_log_data();
        for my $pat (_patterns($block->error_log)) {
            next unless defined $pat;
            if (grep { _line_matches($_, $pat) } @$lines) {
                pass("$name - pattern \"$pat\" matches a line in error.log (req $rep)");
            } else {
                fail("$name - pattern \"$pat\" should match a line in error.log (req $rep)");
            }
        }
    }

    if (defined $block->no_error_log) {
        $lines ||= Test::Nginx::Util::error_log_data();
        for my $pat (_patterns($block->no_error_log)) {
            next unless defined $pat;
            my $p = escape_str("$pat");
            my ($hit) = grep { _line_matches($lines->[$_], $pat) } 0 .. $#$lines;
            if (defined $hit) {
                my $ln = escape_str($lines->[$hit]);
                $ln =~ s/\\n$//;
                my $ctx = join '', @$lines[$hit + 1 .. min($hit + 9, $#$lines)];
                fail("$name - pattern \"$p\" should not match any line in "
                     . "error.log but matches line \"$ln\" (req $rep)\n$ctx");
            } else {
                pass("$name - pattern \"$p\" does not match a line in error.log (req $rep)");
            }
        }
    }

    # like upstream: surface serious log lines nobody asked about
    $lines ||= Test::Nginx::Util::error_log_data();
    for my $line (@$lines) {
        if ($line =~ /\[(alert|crit|emerg)\]/ && !$warned_by_pattern{$1}) {
            warn "WARNING: $name - " . escape_str($line) . "\n";
        }
        if ($line =~ /\bAssertion .*?failed\b/) {
            (my $l = $line) =~ s/\s+$//;
            fail("$name - $l");
        }
    }
}

1;
