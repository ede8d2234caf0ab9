# nginx refuses to start, at "nginx -t" already, when libcurl would resolve
# names synchronously (no AsynchDNS): a blocking resolver would stall the
# event loop.  libcurl without it is played by an LD_PRELOAD shim
# (t/mock/curl_no_asynchdns.c, built here) that clears the feature bit.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use File::Temp qw(tempdir);
use RtagentNginx;
use Test::More;

my ($module) = grep { /ngx_http_rtagent_module\.so$/ }
               split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
plan skip_all => 'TEST_NGINX_LOAD_MODULES names no ngx_http_rtagent_module.so'
    unless $module;

my $dir = tempdir(CLEANUP => 1);
my ($nginx, $with, $without) =
    preload_shim("$FindBin::Bin/mock/curl_no_asynchdns.c");

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
    local $ENV{LD_PRELOAD} = $with_shim ? $with : $without;
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
