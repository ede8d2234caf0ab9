package HttpMock;

# Starts t/mock/http_mock.mjs (the HTTPS mock upstream) with a fresh test CA
# made by t/mock/gen-certs.sh, for as long as the test script runs, and
# publishes where it is in %ENV so that nginx configs can use it:
#
#   TEST_NGINX_MOCK_PORT      its HTTPS port on 127.0.0.1
#   TEST_NGINX_MOCK_PLAIN_PORT  the same routes over plain HTTP
#   TEST_NGINX_SILENT_PORT    a port that accepts TCP and never speaks
#   TEST_NGINX_MOCK_CA        the CA that signed its certificate
#   TEST_NGINX_OTHER_CA       a CA that did not
#   TEST_NGINX_CERT_DIR       where these files are
#
# start_http_mock() returns false (and says why in $HttpMock::Why) when node
# or openssl is missing, so the caller can skip; http_test_skip() does that
# and checks that the test driver module is loaded.
#
# http_block_checks() adds checks run after each response of a block:
#
#   --- mock_hits: KEY N [MIN MAX] [aborted] [after=MS]
#       the mock saw N requests for KEY, the gaps between them (ms, from the
#       mock's own clock) within [MIN, MAX]; "aborted": a client of KEY went
#       away early; after: asked MS ms after the response (to see that
#       nothing more comes).  Then KEY is forgotten, ready for the next
#       repetition.
#   --- stats_like: REGEX
#       GET /stats (rtagent_test_stats in the block's config) matches.
#   --- mock_stats_like: REGEX
#       the mock's GET /__stats matches: "requests=N inflight=N
#       max_inflight=N connections=N" (connections: how many client
#       connections the requests came over); reset it with
#       mock_get('/__stats?reset=1') in --- init.

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Handle;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

# t/helpers, for RtagentTools
use lib File::Spec->catdir(dirname(File::Spec->rel2abs(__FILE__)),
                           File::Spec->updir, 'helpers');
use RtagentTools qw(find_tool);

our @EXPORT = qw(start_http_mock stop_http_mock mock_get http_test_skip
                 http_block_checks nginx_get);

my $Dir = File::Spec->rel2abs(dirname(__FILE__));
my ($Pid, $Out, $Owner);

sub _have {
    my ($cmd) = @_;
    return defined find_tool($cmd);
}

sub start_http_mock {
    for my $cmd (qw(node openssl)) {
        if (!_have($cmd)) {
            $HttpMock::Why = "$cmd is not installed";
            return 0;
        }
    }

    my $certs = tempdir('rtagent-mock-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    system('sh', "$Dir/gen-certs.sh", $certs) == 0
        or die "gen-certs.sh failed\n";

    $Pid = open($Out, '-|', 'node', "$Dir/http_mock.mjs",
                '--cert', "$certs/server.pem", '--key', "$certs/server.key")
        // die "cannot run node: $!\n";
    $Owner = $$;

    my $sel = IO::Select->new($Out);
    my $line;
    my $deadline = time + 10;
    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        $line = <$Out>;
        last;
    }
    die "the HTTPS mock did not start\n"
        unless defined $line
               && $line =~ /"port":(\d+),"silent_port":(\d+),"plain_port":(\d+)/;

    $ENV{TEST_NGINX_MOCK_PORT} = $1;
    $ENV{TEST_NGINX_SILENT_PORT} = $2;
    $ENV{TEST_NGINX_MOCK_PLAIN_PORT} = $3;
    $ENV{TEST_NGINX_MOCK_CA} = "$certs/ca.pem";
    $ENV{TEST_NGINX_OTHER_CA} = "$certs/other-ca.pem";
    $ENV{TEST_NGINX_CERT_DIR} = $certs;

    return 1;
}

# Why the HTTP client tests cannot run here, or undef when they can (and
# then the mock is up): they need the test-only driver module next to the
# rtagent module in TEST_NGINX_LOAD_MODULES, node and openssl.
sub http_test_skip {
    my $mods = $ENV{TEST_NGINX_LOAD_MODULES} // '';
    return 'TEST_NGINX_LOAD_MODULES names no ngx_http_rtagent_test_module.so'
        unless $mods =~ /ngx_http_rtagent_test_module\.so/;
    return $HttpMock::Why unless start_http_mock();
    return undef;
}

sub stop_http_mock {
    # not from a forked child of the test script
    return unless $Pid && $$ == $Owner;
    kill 'TERM', $Pid;
    waitpid($Pid, 0);
    undef $Pid;
}

# a GET over plain HTTP/1.0; the body
sub _get {
    my ($port, $path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
        or die "cannot connect to 127.0.0.1:$port: $!\n";
    print $s "GET $path HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    local $/;
    my $res = <$s> // '';
    close $s;
    $res =~ s/^.*?\r\n\r\n//s;
    return $res;
}

# the mock's own record (its /__ routes), straight from the test
sub mock_get { _get($ENV{TEST_NGINX_MOCK_PLAIN_PORT}, $_[0]) }

sub nginx_get {
    my ($path) = @_;
    my $port = $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT}
               || $ENV{TEST_NGINX_PORT} || 1984;
    return _get($port, $path);
}

sub http_block_checks {
    Test::Nginx::Socket::add_response_body_check(sub {
        my ($block, $body, $req_idx, $rep, $dry_run) = @_;
        return if $dry_run;
        my $name = $block->name;

        # a section no block of the file has has no accessor
        my $sec = sub { $block->can($_[0]) ? $block->${\ $_[0]} : undef };

        if (defined(my $spec = $sec->('mock_hits'))) {
            my ($key, $n, @rest) = split ' ', $spec;
            my $aborted = grep { $_ eq 'aborted' } @rest;
            my ($min, $max) = grep { /^\d+$/ } @rest;
            my ($after) = map { /^after=(\d+)$/ ? $1 : () } @rest;
            my $q = "/__hits?key=$key";
            $q .= "&min=$min&max=$max" if defined $max;
            $q .= "&aborted=1" if $aborted;
            $q .= "&after=$after" if defined $after;
            my $got = mock_get($q);
            my $want = "^hits=$n gaps=\\S+";
            $want .= ' in-range' if defined $max;
            $want .= $aborted ? ' aborted=[1-9]' : ' aborted=\d+';
            Test::More::like($got, qr/$want\n\z/,
                             "$name - mock_hits $spec (repeated req $rep)");
        }

        if (defined(my $re = $sec->('mock_stats_like'))) {
            chomp $re;
            Test::More::like(mock_get('/__stats'), qr/$re/,
                             "$name - mock_stats_like (repeated req $rep)");
        }

        if (defined(my $re = $sec->('stats_like'))) {
            chomp $re;
            Test::More::like(nginx_get('/stats'), qr/$re/,
                             "$name - stats_like (repeated req $rep)");
        }
    });
}

END { stop_http_mock() }

1;
