# rtagent_azure_speech_token file:PATH follows its file, as a sidecar or a
# managed identity agent rewrites it before the token expires: Azure TTS
# and STT requests (the speech mock records their Authorization header)
# send the token the file holds now, re-read at most every few seconds on
# the event loop; a file that cannot be read (gone, empty) keeps the token
# read before, with a log line, until it can be read again.  A fixed
# token (the value itself) is sent as it is.  What nginx -t refuses: a
# token with a line end, a file that is not there or empty, a token given
# twice; and the base URLs of the speech and LLM endpoints.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";
use RtagentNginx;
use RtagentRedis qw(wait_for);
use RtagentToolStore qw(test_module);
use SpeechMock ();
use HttpMock ();

use File::Temp qw(tempdir);
use IO::Socket::INET;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test module is not loaded' unless test_module();
my $why = SpeechMock::_start();
plan skip_all => $why if $why;

my $sp = $ENV{TEST_NGINX_SPEECH_PORT};
my $dir = tempdir(CLEANUP => 1);
my $file = "$dir/token";

# a second token the mock takes: a JWT it issues
sub issue_token {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$sp", Timeout => 5)
        or die "connect: $!";
    print $s "POST /m/key=issue,ttl=3600/sts/v1.0/issueToken HTTP/1.0\r\n"
             . "Host: 127.0.0.1\r\nOcp-Apim-Subscription-Key: test-azure-key\r\n"
             . "Content-Length: 0\r\n\r\n";
    local $/;
    my $res = <$s> // '';
    my ($body) = $res =~ /\r\n\r\n(.*)\z/s;
    return $body;
}

# as a sidecar writes it: a new file put in place
sub write_token {
    my ($text) = @_;
    open my $fh, '>', "$file.new" or die $!;
    print $fh $text;
    close $fh;
    rename "$file.new", $file or die $!;
}

my $jwt = issue_token();
like($jwt, qr/^ey[\w-]+\.[\w-]+\.[\w-]*$/, 'the mock issued a JWT');

write_token("test-azure-token\n");

my $tts = "http://127.0.0.1:$sp/m/key=tf-tts/cognitiveservices/v1";
my $stt = "ws://127.0.0.1:$sp/m/key=tf-stt/speech/recognition/"
          . 'conversation/cognitiveservices/v1';
my $m = test_module();

my $n = start_nginx(
    main => "load_module $m;",
    http => "rtagent_upstream_retries 0;
             rtagent_azure_speech_token file:$file;",
    server => "location = /tts {
                   rtagent_tts azure;
                   rtagent_azure_tts_url $tts;
                   rtagent_test_tts;
               }
               location = /stt {
                   rtagent_stt azure;
                   rtagent_azure_stt_url $stt;
                   rtagent_test_stt;
               }
               location = /fixed {
                   rtagent_tts azure;
                   rtagent_azure_speech_token fixed-token-value;
                   rtagent_azure_tts_url $tts;
                   rtagent_test_tts;
               }
               location = /key {
                   rtagent_tts azure;
                   rtagent_azure_speech_token \"\";
                   rtagent_azure_speech_key test-azure-key;
                   rtagent_azure_tts_url $tts;
                   rtagent_test_tts;
               }");

# what a TTS or STT request sent, and what came back
sub tts_auth {
    my $out = HttpMock::_get($n->{port}, '/tts?text=Hi');
    my ($auth) = SpeechMock::speech_mock_get('/__last?key=tf-tts')
                 =~ /^h\.authorization=(.*)$/m;
    return ($auth // '', $out);
}

sub stt_auth {
    my $out = HttpMock::_get($n->{port}, '/stt?tone=200');
    my ($auth) = SpeechMock::speech_mock_get('/__last?key=tf-stt')
                 =~ /^h\.authorization=(.*)$/m;
    return ($auth // '', $out);
}

my ($auth, $out) = tts_auth();
is($auth, 'Bearer test-azure-token', 'TTS: the token of the file');
like($out, qr/^done: ok$/m, 'TTS: synthesised') or diag $out;
($auth, $out) = stt_auth();
is($auth, 'Bearer test-azure-token', 'STT: the token of the file');
like($out, qr/^final: /m, 'STT: recognised') or diag $out;

# the sidecar writes a new token: the next requests send it
write_token("$jwt\n");
ok(wait_for(sub { (tts_auth())[0] eq "Bearer $jwt" }, 15),
   'TTS: the new token, once the file has been read again')
    or diag error_log($n);
($auth, $out) = tts_auth();
like($out, qr/^done: ok$/m, 'TTS: synthesised with it') or diag $out;
($auth, $out) = stt_auth();
is($auth, "Bearer $jwt", 'STT: the new token as well');
like($out, qr/^final: /m, 'STT: recognised with it') or diag $out;
like(error_log($n), qr/\[notice\] .*rtagent: the secret in "\Q$file\E" has changed, read again/,
     'the change is logged (not the token)');
unlike(error_log($n), qr/\Q$jwt\E/, 'the token is never logged');

# the file is gone: the token read before is kept, and that is logged
unlink $file or die $!;
ok(wait_for(sub { tts_auth(); error_log($n) =~ /cannot be read again/ }, 15),
   'a file that cannot be read is logged') or diag error_log($n);
like(error_log($n),
     qr/\[error\] .*rtagent: the secret in "\Q$file\E" cannot be read again \(open\(\) failed\), the one read before is kept \(2: No such file or directory\)/,
     'with the reason');
($auth, $out) = tts_auth();
is($auth, "Bearer $jwt", 'TTS: the token read before');
like($out, qr/^done: ok$/m, 'TTS: still synthesised') or diag $out;
($auth, $out) = stt_auth();
is($auth, "Bearer $jwt", 'STT: the token read before');

# an empty file is no better
write_token("\n");
sleep 6;
($auth, $out) = tts_auth();
is($auth, "Bearer $jwt", 'an empty file: the token read before');
my @failed = error_log($n) =~ /cannot be read again/g;
is(scalar @failed, 1, 'the failure is logged once, not at every check');

# the sidecar is back
write_token("test-azure-token\n");
ok(wait_for(sub { (tts_auth())[0] eq 'Bearer test-azure-token' }, 15),
   'the file back: its token') or diag error_log($n);
($auth, $out) = stt_auth();
is($auth, 'Bearer test-azure-token', 'STT: its token');

# a token with a space would be sent and refused by the service: kept out
write_token("test azure token\n");
ok(wait_for(sub { tts_auth();
                  error_log($n) =~ /"\Q$file\E" cannot be read again \(it holds spaces/ },
            15),
   'a token file with a space in the token is refused when read again')
    or diag error_log($n);
($auth, $out) = tts_auth();
is($auth, 'Bearer test-azure-token', '  the token read before is kept');

# a fixed token is the value itself
my $fixed = HttpMock::_get($n->{port}, '/fixed?text=Hi');
($auth) = SpeechMock::speech_mock_get('/__last?key=tf-tts')
          =~ /^h\.authorization=(.*)$/m;
is($auth, 'Bearer fixed-token-value', 'a fixed token is sent as it is');

# "" turns the inherited token off: the key goes instead
$out = HttpMock::_get($n->{port}, '/key?text=Hi');
my $rec = SpeechMock::speech_mock_get('/__last?key=tf-tts');
like($rec, qr/^h\.ocp-apim-subscription-key=test-azure-key$/m,
     'an empty token in a location: the key is sent');
unlike($rec, qr/^h\.authorization=/m, 'and no token');
like($out, qr/^done: ok$/m, 'synthesised with the key') or diag $out;

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg|crit)\]/, 'no alerts') or diag $log;

stop_nginx($n);

# ---- refused when the configuration is read ---------------------------------

like(nginx_conf_check(qq{rtagent_azure_speech_token "abc\\r\\nX-Injected: 1";}),
     qr/"rtagent_azure_speech_token": the secret has a line end/,
     'a token with a line end is refused');
like(nginx_conf_check('rtagent_azure_speech_token "abc def";'),
     qr/"rtagent_azure_speech_token": the secret holds spaces, control characters or quotes/,
     'so is a token with a space');
like(nginx_conf_check("rtagent_azure_speech_token file:$dir/none;"),
     qr/\[emerg\] .*open\(\) "\Q$dir\E\/none" failed/,
     'a file that is not there when the configuration is read is refused');
write_token("\n");
like(nginx_conf_check("rtagent_azure_speech_token file:$file;"),
     qr/\[emerg\] .*"\Q$file\E" is empty/, 'so is an empty one');
like(nginx_conf_check('rtagent_azure_speech_token a; rtagent_azure_speech_token b;'),
     qr/"rtagent_azure_speech_token" directive is duplicate/,
     'twice in one block is refused');
like(nginx_conf_check("rtagent_azure_speech_token fixed;
                server { location / { rtagent_azure_speech_token file:$dir/x.txt; } }"),
     qr/open\(\) "\Q$dir\E\/x.txt" failed/,
     'a location may set its own');

# the endpoints' base URLs, speech's and the LLM's alike (one check)
like(nginx_conf_check('rtagent_openai_audio_url http://127.0.0.1/v1?x=1;'),
     qr/rtagent_openai_audio_url "http:\/\/127.0.0.1\/v1\?x=1": must be an http:\/\/ or https:\/\/ URL without query, fragment, spaces or quotes/,
     'a speech URL with a query is refused');
like(nginx_conf_check('rtagent_azure_tts_url ftp://127.0.0.1/tts;'),
     qr/rtagent_azure_tts_url "ftp:\/\/127.0.0.1\/tts": must be an http:\/\/ or https:\/\/ URL/,
     'so is one that is not http');
like(nginx_conf_check('rtagent_llm_endpoint a http://127.0.0.1/v1#x model=m;'),
     qr/rtagent_llm_endpoint a: "http:\/\/127.0.0.1\/v1#x" must be an http:\/\/ or https:\/\/ URL without a query/,
     'an LLM endpoint with a fragment is refused');
like(nginx_conf_check('rtagent_openai_audio_url http://127.0.0.1/v1/;'),
     qr/test is successful/, 'a trailing slash is fine');

done_testing();
