# ACS directives refused when the configuration is read (nginx -t): the
# secrets' slot names the directive, never the value.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

# env: secrets are read when nginx reads its configuration
$ENV{RTAGENT_T039_KEY} = 'tiny';

run_tests();

__DATA__

=== TEST 1: a callback secret shorter than 16 bytes is refused
--- http_config
    rtagent_acs_callback_secret short-secret;
--- config
    location = /api/acs/events { rtagent_acs_events; }
--- must_die
--- error_log
"rtagent_acs_callback_secret": the secret is shorter than 16 bytes



=== TEST 2: an Event Grid key from the environment is checked the same way
--- http_config
    rtagent_acs_eventgrid_key env:RTAGENT_T039_KEY;
--- config
    location = /api/acs/events { rtagent_acs_events; }
--- must_die
--- error_log
"rtagent_acs_eventgrid_key": the secret is shorter than 16 bytes



=== TEST 3: a secret given twice is refused
--- http_config
    rtagent_acs_api_key test-api-key-0123456789abcdef;
    rtagent_acs_api_key test-api-key-0123456789abcdef;
--- config
    location /api/calls { rtagent_acs_calls; }
--- must_die
--- error_log
"rtagent_acs_api_key" directive is duplicate



=== TEST 4: a long enough key is taken
--- http_config
    rtagent_acs_api_key test-api-key-0123456789abcdef;
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
