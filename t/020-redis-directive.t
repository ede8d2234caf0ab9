# The rtagent_redis directive: every bad value stops nginx at configuration
# time with a message naming it; a good one starts nginx even when Redis is
# not there (it retries); without the directive nothing is shared and that
# is said once.

use FindBin;
use lib "$FindBin::Bin/helpers";
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
workers(2);
master_on();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => '') unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: a host name is refused: hiredis would resolve it with a blocking lookup
--- http_config
rtagent_redis redis.internal:6379;
--- must_die
--- error_log
invalid Redis address "redis.internal:6379": an IP address with an optional port (127.0.0.1:6379, [::1]:6379) or unix:/path; host names are not accepted



=== TEST 2: a port out of range
--- http_config
rtagent_redis 127.0.0.1:70000;
--- must_die
--- error_log
invalid Redis address "127.0.0.1:70000": the port must be 1 to 65535



=== TEST 3: an IPv6 literal needs brackets
--- http_config
rtagent_redis ::1:6379;
--- must_die
--- error_log
invalid Redis address "::1:6379": an IP address with an optional port



=== TEST 3a: an address with a path after it
--- http_config
rtagent_redis 127.0.0.1:6379/0;
--- must_die
--- error_log
invalid Redis address "127.0.0.1:6379/0": invalid host



=== TEST 3b: a unix socket path longer than a socket address holds
--- http_config eval
"rtagent_redis unix:/tmp/" . ("s" x 120) . ";"
--- must_die
--- error_log
too long path in the unix domain socket



=== TEST 4: a database that is not a number
--- http_config
rtagent_redis 127.0.0.1:6379 db=two;
--- must_die
--- error_log
invalid Redis database "db=two": a number from 0, such as db=0



=== TEST 5: a password file that does not exist
--- http_config
rtagent_redis 127.0.0.1:6379 password_file=/nonexistent/redis.pw;
--- must_die
--- error_log
password_file: cannot open "/nonexistent/redis.pw"



=== TEST 6: a password variable that is not set
--- http_config
rtagent_redis 127.0.0.1:6379 password_env=RTAGENT_NO_SUCH_VARIABLE;
--- must_die
--- error_log
password_env: the environment variable "RTAGENT_NO_SUCH_VARIABLE" is not set or empty



=== TEST 7: one password source only
--- http_config
rtagent_redis 127.0.0.1:6379 password_env=HOME password_file=/etc/hostname;
--- must_die
--- error_log
"password_file=/etc/hostname": only one password_file= or password_env= is allowed



=== TEST 8: a time without sense
--- http_config
rtagent_redis 127.0.0.1:6379 connect_timeout=soon;
--- must_die
--- error_log
invalid time "connect_timeout=soon": a time above 0 with a unit, such as 1s or 500ms



=== TEST 9: a zero command timeout
--- http_config
rtagent_redis 127.0.0.1:6379 command_timeout=0;
--- must_die
--- error_log
invalid time "command_timeout=0"



=== TEST 10: an empty queue
--- http_config
rtagent_redis 127.0.0.1:6379 queue=0;
--- must_die
--- error_log
invalid queue length "queue=0": a number of writes from 1, such as queue=10000



=== TEST 11: a queue size without sense
--- http_config
rtagent_redis 127.0.0.1:6379 queue_size=lots;
--- must_die
--- error_log
invalid queue size "queue_size=lots": a size above 0, such as queue_size=16m



=== TEST 12: an unknown parameter
--- http_config
rtagent_redis 127.0.0.1:6379 timeout=1s;
--- must_die
--- error_log
invalid parameter "timeout=1s": expected db=, password_file=, password_env=, connect_timeout=, command_timeout=, keepalive=, queue= or queue_size=



=== TEST 13: twice
--- http_config
rtagent_redis 127.0.0.1:6379;
rtagent_redis 127.0.0.1:6380;
--- must_die
--- error_log
"rtagent_redis" directive is duplicate



=== TEST 14: http level only
--- config
rtagent_redis 127.0.0.1:6379;
--- must_die
--- error_log
"rtagent_redis" directive is not allowed here



=== TEST 15: good values start nginx although Redis is not there; it retries
--- http_config
rtagent_redis 127.0.0.1:$TEST_NGINX_RAND_PORT_1 db=1 connect_timeout=200ms command_timeout=2s keepalive=0 queue=5 queue_size=64k;
--- config
location = /t { return 200 "up\n"; }
--- request
GET /t
--- response_body
up
--- wait: 0.3
--- error_log eval
qr/\[error\] .*rtagent redis: command connection to 127\.0\.0\.1:\d+ failed: .*; retrying/
--- no_error_log
[alert]
[emerg]



=== TEST 16: an IPv6 address is accepted (unix sockets: t/025)
--- http_config
rtagent_redis [::1]:$TEST_NGINX_RAND_PORT_1;
--- config
location = /t { return 200 "up\n"; }
--- request
GET /t
--- response_body
up



=== TEST 17: without rtagent_redis nothing is shared, and that is said
--- config
location = /t { return 200 "up\n"; }
--- request
GET /t
--- response_body
up
--- error_log
rtagent redis: no rtagent_redis configured: call state stays in worker memory, nothing is shared
