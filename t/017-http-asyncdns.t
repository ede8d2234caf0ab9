# nginx refuses to start, at "nginx -t" already, when libcurl would resolve
# names synchronously (no AsynchDNS): a blocking resolver would stall the
# event loop.  libcurl without it is played by an LD_PRELOAD shim
# (t/mock/curl_no_asynchdns.c, built here) that clears the feature bit.

use strict;
use warnings;

use FindBin;
use File::Temp qw(tempdir);
use Test::More;

my ($module) = grep { /ngx_http_rtagent_module\.so$/ }
               split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
plan skip_all => 'TEST_NGINX_LOAD_MODULES names no ngx_http_rtagent_module.so'
    unless $module;

my $dir = tempdir(CLEANUP => 1);
my $shim = "$dir/curl_no_asynchdns.so";
system('gcc', '-shared', '-fPIC', '-o', $shim,
       "$FindBin::Bin/mock/curl_no_asynchdns.c", '-ldl') == 0
    or BAIL_OUT('cannot build the shim');

# the sanitizer build's nginx is a script that sets LD_PRELOAD and execs
# the real binary: keep its libraries ahead of the shim
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
my $preload = '';
if (-T $nginx) {
    open my $fh, '<', $nginx or die "$nginx: $!";
    local $/;
    my $script = <$fh>;
    ($preload) = $script =~ /LD_PRELOAD="([^"]*)"/;
    ($nginx) = $script =~ /^exec (\S+)/m or die "$nginx: no exec line";
}

mkdir "$dir/logs";
open my $fh, '>', "$dir/nginx.conf" or die $!;
print $fh <<"CONF";
load_module $module;
error_log $dir/logs/error.log;
pid $dir/logs/nginx.pid;
events { }
http { }
CONF
close $fh;

sub nginx_t {
    my ($with_shim) = @_;
    local $ENV{LD_PRELOAD} = join ' ', grep { length }
                             ($preload // '', $with_shim ? $shim : ());
    my $out = `$nginx -t -p $dir/ -c $dir/nginx.conf 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = nginx_t(0);
is($rc, 0, 'nginx -t passes with the real libcurl') or diag $out;

($rc, $out) = nginx_t(1);
isnt($rc, 0, 'nginx -t fails when libcurl has no AsynchDNS');
like($out, qr/\[emerg\] .*rtagent http: libcurl \S+ resolves names synchronously \(no AsynchDNS\), which would block nginx/,
     'and says why');

done_testing();
