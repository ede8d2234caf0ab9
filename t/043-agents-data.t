# rtagent_agent_data: the demo policyholders load at configuration time (the
# shipped agents/data/policyholders.yaml among them), and a bad file stops
# nginx -t with the file, the line and the field named.  Writing them to
# Redis is tested in t/041-agents-registry.t.

use FindBin;
use lib "$FindBin::Bin/helpers";
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_AGENTS} = "$FindBin::Bin/../agents";

repeat_each(1);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => '') unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: the shipped policyholders load (without rtagent_redis: not written)
--- http_config
rtagent_agent_data $TEST_NGINX_AGENTS/data/policyholders.yaml;
--- config
location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- no_error_log
[emerg]
policyholders from



=== TEST 2: a policy number of 7 digits
--- user_files
>>> p.yaml
policyholders:
  - policy: "42718365"
    zip: "98101"
    name: Alice Johnson
    phone: "+12065550142"
    vehicles: []
  - policy: "1234567"
--- http_config
rtagent_agent_data html/p.yaml;
--- must_die
--- error_log eval
qr{\[emerg\] .*rtagent_agent_data: \S+/html/p\.yaml:7: policyholders\[1\]\.policy: "1234567" is not 8 digits in \S+nginx\.conf:\d+}



=== TEST 3: an unknown key
--- user_files
>>> p.yaml
policyholders:
  - policy: "42718365"
    zipcode: "98101"
--- http_config
rtagent_agent_data html/p.yaml;
--- must_die
--- error_log eval
qr{rtagent_agent_data: \S+/html/p\.yaml:3: policyholders\[0\]\.zipcode: unknown key}



=== TEST 4: a missing field
--- user_files
>>> p.yaml
policyholders:
  - policy: "42718365"
    zip: "98101"
    name: Alice Johnson
    vehicles: []
--- http_config
rtagent_agent_data html/p.yaml;
--- must_die
--- error_log eval
qr{rtagent_agent_data: \S+/html/p\.yaml:2: policyholders\[0\]\.phone: is missing}



=== TEST 5: a file that does not exist
--- http_config
rtagent_agent_data html/nowhere.yaml;
--- must_die
--- error_log eval
qr{rtagent_agent_data: open\(\) "\S+/html/nowhere\.yaml" failed \(2: No such file or directory\)}



=== TEST 6: given twice
--- user_files
>>> p.yaml
policyholders:
  - policy: "42718365"
    zip: "98101"
    name: Alice Johnson
    phone: "+12065550142"
    vehicles: []
--- http_config
rtagent_agent_data html/p.yaml;
rtagent_agent_data html/p.yaml;
--- must_die
--- error_log
"rtagent_agent_data" directive is duplicate
