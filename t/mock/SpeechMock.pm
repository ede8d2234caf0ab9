package SpeechMock;

# Starts t/mock/speech_mock.mjs (mock Azure Speech and OpenAI audio) for as
# long as the test script runs, and publishes its port in %ENV as
# TEST_NGINX_SPEECH_PORT for nginx configs; with openssl, also the TLS
# port TEST_NGINX_SPEECH_TLS_PORT and the CA that signed its certificate,
# TEST_NGINX_SPEECH_CA (TEST_NGINX_SPEECH_OTHER_CA: an unrelated one).
#
# speech_test_skip() returns why the speech provider tests cannot run here
# (the test driver module not loaded, node missing), or undef once the mock
# is up.  speech_block_checks() adds a check run after each response:
#
#   --- mock_record: KEY
#   --- mock_record_like: REGEX
#       the mock's record of the last request of KEY (GET /__last: path,
#       h.<header>=<value>, what the route read, "hits=N aborted=A")
#       matches REGEX; with "aborted" in mock_record after KEY, it first
#       waits for a client of KEY to go away.  Then KEY is forgotten.

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;

use HttpMock ();

our @EXPORT = qw(speech_test_skip speech_block_checks speech_mock_get);

my $Dir = File::Spec->rel2abs(dirname(__FILE__));
my ($Pid, $Out, $Owner);

sub _start {
    return 'node is not installed'
        unless system('command -v node >/dev/null 2>&1') == 0;

    # TLS material for the wss:// routes, when openssl is at hand
    my @tls;
    my $certs;
    if (system('command -v openssl >/dev/null 2>&1') == 0) {
        $certs = tempdir('rtagent-speech-XXXXXX', TMPDIR => 1, CLEANUP => 1);
        system('sh', "$Dir/gen-certs.sh", $certs) == 0
            or die "gen-certs.sh failed\n";
        @tls = ('--cert', "$certs/server.pem", '--key', "$certs/server.key");
    }

    $Pid = open($Out, '-|', 'node', "$Dir/speech_mock.mjs", @tls)
        // die "cannot run node: $!\n";
    $Owner = $$;

    my $sel = IO::Select->new($Out);
    my $line;
    $line = <$Out> if $sel->can_read(10);
    die "the speech mock did not start\n"
        unless defined $line && $line =~ /"port":(\d+)/;

    $ENV{TEST_NGINX_SPEECH_PORT} = $1;
    $ENV{TEST_NGINX_SPEECH_HOLD_PORT} = $1 if $line =~ /"hold_port":(\d+)/;

    if (@tls) {
        die "the speech mock has no TLS port\n"
            unless $line =~ /"tls_port":(\d+)/;
        $ENV{TEST_NGINX_SPEECH_TLS_PORT} = $1;
        $ENV{TEST_NGINX_SPEECH_CA} = "$certs/ca.pem";
        $ENV{TEST_NGINX_SPEECH_OTHER_CA} = "$certs/other-ca.pem";
    }
    return undef;
}

sub speech_test_skip {
    my $mods = $ENV{TEST_NGINX_LOAD_MODULES} // '';
    return 'TEST_NGINX_LOAD_MODULES names no ngx_http_rtagent_test_module.so'
        unless $mods =~ /ngx_http_rtagent_test_module\.so/;
    return _start();
}

# a GET of the mock's own routes (HttpMock's plain HTTP/1.0 client)
sub speech_mock_get { HttpMock::_get($ENV{TEST_NGINX_SPEECH_PORT}, $_[0]) }

sub speech_block_checks {
    Test::Nginx::Socket::add_response_body_check(sub {
        my ($block, $body, $req_idx, $rep, $dry_run) = @_;
        return if $dry_run;
        return unless $block->can('mock_record')
                      && defined $block->mock_record;
        # one per request of the block, from "--- ... eval" arrays
        my $pick = sub {
            my ($v) = @_;
            return ref $v eq 'ARRAY' ? $v->[$req_idx] : $v;
        };
        my ($key, @opt) = split ' ', $pick->($block->mock_record);
        my $q = "/__last?key=$key";
        $q .= '&aborted=1' if grep { $_ eq 'aborted' } @opt;
        my $got = speech_mock_get($q);
        if ($block->can('mock_record_like')
            && defined(my $re = $pick->($block->mock_record_like)))
        {
            chomp $re;
            Test::More::like($got, qr/$re/m,
                             $block->name . " - mock_record_like ($rep)");
        }
    });
}

END {
    if ($Pid && $$ == $Owner) {
        kill 'TERM', $Pid;
        waitpid($Pid, 0);
    }
}

1;
