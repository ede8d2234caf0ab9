# A runner that cannot fail is useless: run small test files that must
# fail in a subprocess (own port and server root) and check that they do,
# with the expected diagnostics.  A correct file is run too, as a control.
use strict;
use warnings;
use Cwd ();
use File::Temp ();
use FindBin;
use IO::Socket::INET ();
use IPC::Run ();
use Test::More;

my $lib = Cwd::abs_path("$FindBin::Bin/..");          # t/lib
my $tmp = File::Temp->newdir;
# private to this run, so concurrent runs cannot step on each other
my $servroot = "$tmp/servroot";

sub free_port {
    for (1 .. 100) {
        my $p = 20000 + int rand 10000;
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                      Listen => 1, ReuseAddr => 1) or next;
        close $s;
        return $p;
    }
    die "no free port\n";
}

my $n = 0;

# run_case(name, test file text, exit => 'pass'|'fail', like => [qr..],
#          unlike => [qr..], env => {extra environment})
sub run_case {
    my ($name, $body, %want) = @_;
    my $file = "$tmp/case" . ++$n . ".t";
    open my $fh, '>', $file or die $!;
    print $fh $body;
    close $fh;
    local $ENV{TEST_NGINX_SERVROOT} = $servroot;
    local $ENV{TEST_NGINX_PORT} = free_port();
    delete local $ENV{TEST_NGINX_RANDOMIZE};
    delete local $ENV{TEST_NGINX_SERVER_PORT};
    delete local $ENV{TEST_NGINX_CLIENT_PORT};
    delete local $ENV{TEST_NGINX_NO_CLEAN};
    delete local $ENV{HARNESS_ACTIVE};
    # the cases skip on purpose; .ci/run's no-skip rule is for t/*.t
    delete local $ENV{RTAGENT_NO_SKIP};
    local @ENV{ keys %{ $want{env} || {} } } = values %{ $want{env} || {} };
    my $out = '';
    IPC::Run::run([$^X, "-I$lib", $file], \undef, '>&', \$out,
                  IPC::Run::timeout(60));
    my $rc = $? >> 8;
    subtest $name => sub {
        if ($want{exit} eq 'pass') {
            is($rc, 0, 'exit status 0') or diag $out;
            unlike($out, qr/^not ok/m, 'no "not ok" line') or diag $out;
        } else {
            isnt($rc, 0, 'non-zero exit status') or diag $out;
        }
        for my $re (@{ $want{like} || [] }) {
            like($out, $re, "output matches $re") or diag $out;
        }
        for my $re (@{ $want{unlike} || [] }) {
            unlike($out, $re, "output does not match $re") or diag $out;
        }
    };
}

my $head = "use Test::Nginx::Socket 'no_plan';\nno_shuffle();\nrun_tests();\n"
         . "__DATA__\n\n";
my $ok_cfg = "--- config\n    location = /t { return 200 \"hi\\n\"; }\n"
           . "--- request\nGET /t\n";

run_case('control: a correct file passes', $head . <<"EOT", exit => 'pass',
=== TEST 1: good
$ok_cfg--- response_body
hi
--- no_error_log
[error]
EOT
    like => [qr/^ok 1 - .*TEST 1: good - status code ok$/m, qr/^1\.\.3$/m]);

run_case('wrong response_body fails', $head . <<"EOT", exit => 'fail',
=== TEST 1: body
$ok_cfg--- response_body
bye
EOT
    like => [qr/^not ok 2 - .*TEST 1: body - response_body - response is expected/m,
             qr/expected: "bye/]);

run_case('wrong status fails', $head . <<"EOT", exit => 'fail',
=== TEST 1: status
$ok_cfg--- error_code: 404
EOT
    like => [qr/^not ok 1 - .*TEST 1: status - status code ok/m,
             qr/got: '200'/]);

run_case('missing error_log pattern fails', $head . <<"EOT", exit => 'fail',
=== TEST 1: errlog
$ok_cfg--- error_log
this line is never logged
EOT
    like => [qr/^not ok \d+ - .*pattern "this line is never logged" should match a line in error\.log/m]);

run_case('present no_error_log pattern fails', $head . <<"EOT", exit => 'fail',
=== TEST 1: no errlog
--- config
    location = /t { return 200 "hi"; }
--- request
GET /missing
--- error_code: 404
--- no_error_log
[error]
EOT
    like => [qr/^not ok \d+ - .*pattern "\[error\]" should not match any line in error\.log but matches line/m]);

run_case('present !Header fails; wrong header value fails', $head . <<"EOT", exit => 'fail',
=== TEST 1: headers
--- config
    location = /t { add_header X-Foo bar; return 200 "hi\\n"; }
--- request
GET /t
--- response_headers
!X-Foo
Content-Type: text/html
EOT
    like => [qr/^not ok \d+ - .*header X-Foo not present in the raw headers/m,
             qr/^not ok \d+ - .*header Content-Type ok/m]);

run_case('like-style mismatches fail', $head . <<"EOT", exit => 'fail',
=== TEST 1: like
$ok_cfg--- raw_response_headers_like: X-Nope
--- response_body_like: ^bye\$
EOT
    like => [qr/^not ok \d+ - .*raw resp headers like/m,
             qr/^not ok \d+ - .*response_body_like - response is expected/m]);

run_case('byte-exact body: a single differing byte fails', $head . <<"EOT", exit => 'fail',
=== TEST 1: bytes
--- config
    location = /b.bin { root \$TEST_NGINX_SERVER_ROOT/html; }
--- user_files eval
[["b.bin", "\\x81\\x05hello"]]
--- request
GET /b.bin
--- response_body eval
"\\x81\\x05hellO"
EOT
    like => [qr/^not ok 2 - .*TEST 1: bytes - response_body/m]);

run_case('nginx failing to start is a failure; the next block still runs',
         $head . <<"EOT", exit => 'fail',
=== TEST 1: bad config
--- config
    location = /t { no_such_directive_here on; }
--- request
GET /t
--- response_body
hi



=== TEST 2: good again
$ok_cfg--- response_body
hi
EOT
    like => [qr/^not ok 1 - .*TEST 1: bad config - nginx failed to start/m,
             qr/unknown directive "no_such_directive_here"/,
             qr/^ok \d+ - .*TEST 2: good again - response_body/m]);

run_case('client timeout without abort fails', $head . <<"EOT", exit => 'fail',
=== TEST 1: hang
--- config
    location = /t { return 200 "hi"; }
--- raw_request eval
"GET /t HTTP/1.1\\r\\nHost: localhost\\r\\n"
--- timeout: 200ms
--- ignore_response
EOT
    like => [qr/^not ok 1 - ERROR: client socket timed out - .*TEST 1: hang/m]);

run_case('must_die with a valid config fails', $head . <<"EOT", exit => 'fail',
=== TEST 1: does not die
--- config
    location = /t { return 200 "hi"; }
--- must_die
EOT
    like => [qr/^not ok 1 - .*TEST 1: does not die - die as expected/m]);

run_case('wrong test count against an explicit plan fails', <<"EOT", exit => 'fail',
use Test::Nginx::Socket;
plan tests => 5;
run_tests();
__DATA__

=== TEST 1: one
$ok_cfg--- response_body
hi
EOT
    like => [qr/planned 5 tests but ran 2/]);

run_case('several requests need array expectations', $head . <<"EOT", exit => 'fail',
=== TEST 1: arrays
--- config
    location = /t { return 200 "hi\\n"; }
--- request eval
["GET /t", "GET /t"]
--- response_body
hi
EOT
    like => [qr/should be arrays as well/]);

run_case('TEST_NGINX_LOAD_MODULES emits load_module lines', $head . <<"EOT",
=== TEST 1: module path reaches nginx.conf
--- config
    location = /t { return 200 "hi"; }
--- must_die
--- error_log
[emerg]
/nonexistent/ngx_selftest_module.so
EOT
    exit => 'pass',
    env => { TEST_NGINX_LOAD_MODULES => '/nonexistent/ngx_selftest_module.so' });

# Block code runs where upstream runs it: --- init, --- post_setup_server_root
# and --- skip_eval in package Test::Nginx::Util, so a file that calls its
# own subs unqualified from there fails here as it does under upstream
# (Undefined subroutine &Test::Nginx::Util::...), and main::name works.
my $subs = "sub only_in_main { Test::More::diag('main sub ran'); 0 }\n";

run_case('init calling a main sub unqualified fails, as upstream',
         $subs . $head . <<"EOT", exit => 'fail',
=== TEST 1: unqualified init
--- init
only_in_main();
$ok_cfg--- response_body
hi
EOT
    like => [qr/Undefined subroutine &Test::Nginx::Util::only_in_main/],
    unlike => [qr/main sub ran/]);

run_case('init calling main::name runs the sub',
         $subs . $head . <<"EOT", exit => 'pass',
=== TEST 1: qualified init
--- init
main::only_in_main();
$ok_cfg--- response_body
hi
EOT
    like => [qr/main sub ran/]);

run_case('post_setup_server_root runs in Test::Nginx::Util too',
         $subs . $head . <<"EOT", exit => 'fail',
=== TEST 1: unqualified post_setup_server_root
--- post_setup_server_root
only_in_main();
$ok_cfg--- response_body
hi
EOT
    like => [qr/Undefined subroutine &Test::Nginx::Util::only_in_main/]);

run_case('skip_eval runs in Test::Nginx::Util too',
         $subs . $head . <<"EOT", exit => 'fail',
=== TEST 1: unqualified skip_eval
--- skip_eval: 2: only_in_main()
$ok_cfg--- response_body
hi
EOT
    like => [qr/skip_eval - failed to eval.*Undefined subroutine &Test::Nginx::Util::only_in_main/s]);

run_case('an eval section runs in Test::Base::Filter, as upstream',
         $subs . $head . <<"EOT", exit => 'pass',
=== TEST 1: eval filter package
$ok_cfg--- response_body eval
__PACKAGE__ eq 'Test::Base::Filter' ? "hi\\n" : "wrong package: " . __PACKAGE__
EOT
    );

ok(!-e "$servroot/logs/nginx.pid", 'the child runs stopped their nginx');

done_testing();
