# Only worker processes do ACS work: the cache manager and loader run every
# module's init_process too, and must not fetch signing keys (they have no
# HTTP client: that was an alert every 10 s).

use FindBin;
use lib "$FindBin::Bin/helpers";
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
master_on();
no_shuffle();

run_tests();

__DATA__

=== TEST 1: a cache manager with rtagent_acs_jwks a URL: no alert
--- http_config
proxy_cache_path cache levels=1 keys_zone=rtagent_test:1m;
rtagent_acs_jwt on;
rtagent_acs_jwt_audience 00000000-0000-0000-0000-000000000000;
rtagent_acs_jwks http://127.0.0.1:1/jwks;
rtagent_acs_jwks_refresh 1h;
--- config
location = /t {
    return 200 "ok\n";
}
--- request
GET /t
--- wait: 2
--- response_body
ok
--- no_error_log
[alert]
[crit]
no worker
