# master process + several workers, env_to_nginx, log_level(),
# add_block_preprocessor and check_accum_error_log.
BEGIN {
    # A private random port and server root (t/servroot_<port>, removed at
    # the end) so that concurrent runs, and the project's own tests on the
    # default port 1984, cannot collide with this file.
    delete @ENV{qw(TEST_NGINX_PORT TEST_NGINX_SERVER_PORT TEST_NGINX_CLIENT_PORT)};
    $ENV{TEST_NGINX_RANDOMIZE} = 1;
}
use Test::Nginx::Socket 'no_plan';

master_on();
workers(2);
worker_connections(1024);
log_level('info');
env_to_nginx('SELFTEST_FOO', 'SELFTEST_BAR=hello world');
repeat_each(2);
check_accum_error_log();
no_shuffle();

# default --- config for blocks that have none (upstream's documented idiom)
add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->config) {
        $block->set_value('config', <<'_END_');
    location = /t { return 200 "pid-independent\n"; }
_END_
    }
});

run_tests();

# after the run, the generated nginx.conf must look like upstream's
my $conf = do {
    local $/;
    open my $in, '<', server_root() . '/conf/nginx.conf' or die $!;
    <$in>;
};
like($conf, qr/^master_process on;$/m, 'master_process on');
like($conf, qr/^worker_processes\s+2;$/m, 'worker_processes 2');
like($conf, qr/^env SELFTEST_FOO;$/m, 'env_to_nginx plain');
like($conf, qr/^env 'SELFTEST_BAR=hello world';$/m, 'env_to_nginx quoted');
like($conf, qr/^error_log \S+ info;$/m, 'log_level');
like($conf, qr/^\s+worker_connections\s+1024;$/m, 'worker_connections');
like($conf, qr/^user root;$/m, 'user root when running as root') if $> == 0;

__DATA__

=== TEST 1: served by a worker under a master
--- request
GET /t
--- response_body
pid-independent
--- no_error_log
[debug]
[error]



=== TEST 2: accumulated error log across repetitions
--- request
GET /missing
--- error_code: 404
--- grep_error_log eval
qr/"[^"]*\/missing" failed/
--- grep_error_log_out eval
[qq{"$ENV{TEST_NGINX_SERVER_ROOT}/html/missing" failed\n},
 qq{"$ENV{TEST_NGINX_SERVER_ROOT}/html/missing" failed\n} x 2]
