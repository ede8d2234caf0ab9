package ChatMock;

# Starts t/mock/chat_mock.mjs (a mock chat-completions server) for as long
# as the test script runs, and publishes its port in %ENV as
# TEST_NGINX_CHAT_PORT for nginx configs.
#
# chat_test_skip() returns why the LLM tests cannot run here (the test
# driver module not loaded, node missing), or undef once the mock is up.
# chat_block_checks() adds a check run after each response:
#
#   --- chat_record: KEY [N] [aborted]
#   --- chat_record_like: REGEX
#       the mock's record of request N (default: the last) of KEY (GET
#       /__last: path, h.<header>=, body=, model=, tools=, tool.<name>=,
#       msg.<i>=, "hits=H aborted=A") matches REGEX; "aborted" first waits
#       for a client of KEY to go away.  Then KEY is forgotten.

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec;
use IO::Select;

use HttpMock ();

our @EXPORT = qw(chat_test_skip chat_block_checks chat_mock_get);

my $Dir = File::Spec->rel2abs(dirname(__FILE__));
my ($Pid, $Out, $Owner);

sub _start {
    return 'node is not installed'
        unless system('command -v node >/dev/null 2>&1') == 0;

    $Pid = open($Out, '-|', 'node', "$Dir/chat_mock.mjs",
                '--fixtures', $ENV{RTAGENT_FIXTURES} // "$Dir/../fixtures")
        // die "cannot run node: $!\n";
    $Owner = $$;

    my $sel = IO::Select->new($Out);
    my $line;
    $line = <$Out> if $sel->can_read(10);
    die "the chat mock did not start\n"
        unless defined $line && $line =~ /"port":(\d+)/;

    $ENV{TEST_NGINX_CHAT_PORT} = $1;
    return undef;
}

sub chat_test_skip {
    my $mods = $ENV{TEST_NGINX_LOAD_MODULES} // '';
    return 'TEST_NGINX_LOAD_MODULES names no ngx_http_rtagent_test_module.so'
        unless $mods =~ /ngx_http_rtagent_test_module\.so/;
    return _start();
}

sub chat_mock_get { HttpMock::_get($ENV{TEST_NGINX_CHAT_PORT}, $_[0]) }

sub chat_block_checks {
    Test::Nginx::Socket::add_response_body_check(sub {
        my ($block, $body, $req_idx, $rep, $dry_run) = @_;
        return if $dry_run;
        return unless $block->can('chat_record')
                      && defined $block->chat_record;
        my $pick = sub {
            my ($v) = @_;
            return ref $v eq 'ARRAY' ? $v->[$req_idx] : $v;
        };
        my @recs = split /\n/, $pick->($block->chat_record);
        my @likes = $block->can('chat_record_like')
            && defined $block->chat_record_like
            ? split(/\n--\n/, $pick->($block->chat_record_like)) : ();
        my %forget;
        for my $i (0 .. $#recs) {
            my ($key, @opt) = split ' ', $recs[$i];
            my $q = "/__last?key=$key";
            $q .= "&n=$_" for grep { /^\d+$/ } @opt;
            $q .= '&aborted=1' if grep { $_ eq 'aborted' } @opt;
            my $got = chat_mock_get($q);
            $forget{$key} = 1;
            next unless defined $likes[$i];
            my $re = $likes[$i];
            chomp $re;
            Test::More::like($got, qr/$re/m,
                             $block->name . " - chat_record_like $i ($rep)");
        }
        chat_mock_get("/__forget?key=$_") for keys %forget;
    });
}

END {
    if ($Pid && $$ == $Owner) {
        kill 'TERM', $Pid;
        waitpid($Pid, 0);
    }
}

1;
