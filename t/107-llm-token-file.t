# rtagent_llm_endpoint ... token=file:PATH and key=file:PATH follow their
# file like rtagent_azure_speech_token (t/106), as a sidecar rewrites an
# Entra ID token before it expires: the chat requests (the chat mock
# records their headers) send what the file holds now, Azure OpenAI's
# bearer token and an OpenAI-compatible endpoint's bearer key alike,
# re-read at most every few seconds on the event loop; a file that cannot
# be read keeps the one read before, logged once.  A key given as it is
# stays as it is.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";
use RtagentNginx;
use RtagentRedis qw(wait_for);
use RtagentToolStore qw(test_module);
use ChatMock ();
use HttpMock ();

use File::Temp qw(tempdir);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test module is not loaded' unless test_module();
my $why = ChatMock::chat_test_skip();
plan skip_all => $why if $why;

my $cp = $ENV{TEST_NGINX_CHAT_PORT};
my $dir = tempdir(CLEANUP => 1);
my $tfile = "$dir/token";
my $kfile = "$dir/key";

# as a sidecar writes it: a new file put in place
sub write_secret {
    my ($file, $text) = @_;
    open my $fh, '>', "$file.new" or die $!;
    print $fh $text;
    close $fh;
    rename "$file.new", $file or die $!;
}

write_secret($tfile, "test-openai-key\n");
write_secret($kfile, "test-openai-key\n");

my $base = "http://127.0.0.1:$cp/m";
my $m = test_module();
my $n = start_nginx(
    main => "load_module $m;",
    http => "rtagent_llm_endpoint az $base/key=tok-az,stream=text azure
                 model=dep token=file:$tfile;
             rtagent_llm_endpoint oa $base/key=tok-oa,stream=text/v1 openai
                 model=m key=file:$kfile;
             rtagent_llm_endpoint fixed $base/key=tok-fixed,stream=text
                 azure model=dep key=test-openai-key;",
    server => 'location = /t { rtagent_test_llm; }');

# what a chat request on a route sent (the header), and what came back
sub chat {
    my ($route, $header) = @_;
    my $out = HttpMock::_get($n->{port}, "/t?route=$route");
    my ($got) = ChatMock::chat_mock_get("/__last?key=tok-$route")
                =~ /^h\.\Q$header\E=(.*)$/m;
    return ($got // '', $out);
}

my ($auth, $out) = chat('az', 'authorization');
is($auth, 'Bearer test-openai-key', 'Azure: the token of the file');
like($out, qr/^text: I'm unable/m, 'Azure: answered') or diag $out;
($auth, $out) = chat('oa', 'authorization');
is($auth, 'Bearer test-openai-key', 'OpenAI-compatible: the key of the file');
like($out, qr/^text: I'm unable/m, 'OpenAI-compatible: answered')
    or diag $out;

# the sidecar writes new ones: the next requests send them
write_secret($tfile, "test-openai-key-2\n");
write_secret($kfile, "test-openai-key-2\n");
ok(wait_for(sub { (chat('az', 'authorization'))[0]
                  eq 'Bearer test-openai-key-2' }, 15),
   'Azure: the new token, once the file has been read again')
    or diag error_log($n);
($auth, $out) = chat('az', 'authorization');
like($out, qr/^text: I'm unable/m, 'Azure: answered with it') or diag $out;
ok(wait_for(sub { (chat('oa', 'authorization'))[0]
                  eq 'Bearer test-openai-key-2' }, 15),
   'OpenAI-compatible: the new key') or diag error_log($n);
($auth, $out) = chat('oa', 'authorization');
like($out, qr/^text: I'm unable/m, 'OpenAI-compatible: answered with it')
    or diag $out;
like(error_log($n),
     qr/\[notice\] .*rtagent: the secret in "\Q$tfile\E" has changed, read again/,
     'the change is logged');
unlike(error_log($n), qr/test-openai-key/, 'the token is never logged');

# the files are gone: the ones read before are kept, and that is logged
unlink $tfile, $kfile or die $!;
ok(wait_for(sub { chat('az', 'authorization');
                  error_log($n) =~ /"\Q$tfile\E" cannot be read again/ }, 15),
   'a token file that cannot be read is logged') or diag error_log($n);
like(error_log($n),
     qr/\[error\] .*rtagent: the secret in "\Q$tfile\E" cannot be read again \(open\(\) failed\), the one read before is kept \(2: No such file or directory\)/,
     'with the reason');
ok(wait_for(sub { chat('oa', 'authorization');
                  error_log($n) =~ /"\Q$kfile\E" cannot be read again/ }, 15),
   'so is a key file') or diag error_log($n);
sleep 6;
($auth, $out) = chat('az', 'authorization');
is($auth, 'Bearer test-openai-key-2', 'Azure: the token read before');
like($out, qr/^text: I'm unable/m, 'Azure: still answered') or diag $out;
($auth, $out) = chat('oa', 'authorization');
is($auth, 'Bearer test-openai-key-2', 'OpenAI-compatible: the key read before');
my @failed = error_log($n) =~ /"\Q$tfile\E" cannot be read again/g;
is(scalar @failed, 1, 'the failure is logged once, not at every check');

# a key given as it is: the api-key header, no bearer
($auth, $out) = chat('fixed', 'api-key');
is($auth, 'test-openai-key', 'a fixed key is sent as it is');
($auth) = chat('fixed', 'authorization');
is($auth, '', 'and no bearer');

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg|crit)\]/, 'no alerts') or diag $log;

stop_nginx($n);

# ---- refused when the configuration is read ---------------------------------

like(nginx_conf_check("rtagent_llm_endpoint a https://x azure model=d
                           token=file:$dir/none;"),
     qr/\[emerg\] .*open\(\) "\Q$dir\E\/none" failed/,
     'a file that is not there when the configuration is read is refused');
write_secret($tfile, "\n");
like(nginx_conf_check("rtagent_llm_endpoint a https://x azure model=d
                           token=file:$tfile;"),
     qr/\[emerg\] .*"\Q$tfile\E" is empty/, 'so is an empty one');
write_secret($tfile, "a b\n");
like(nginx_conf_check("rtagent_llm_endpoint a https://x azure model=d
                           token=file:$tfile;"),
     qr/the key or token is empty or holds spaces or control characters/,
     'and one with a space');
write_secret($tfile, "t\n");
like(nginx_conf_check("rtagent_llm_endpoint a https://x azure model=d
                           token=file:$tfile token=t;"),
     qr/rtagent_llm_endpoint a: a parameter is duplicate/,
     'a token given twice is refused');

done_testing();
