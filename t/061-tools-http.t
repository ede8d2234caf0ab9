# The tool store's http tools: the URL, header and JSON body templates
# filled from the arguments and the call state ({call_id}, {agent},
# {caller} from the call hash), values percent-encoded in the URL and
# JSON-escaped in the body, a header from the environment read when nginx
# read its configuration, the response's JSON object as the result (a body
# that is not one as {"status","body"}), and the failures: status 500, a
# timeout, a response over the tool's cap, a line break into a header, a
# missing argument; a cancelled tool never answers.  Against the HTTP mock
# (t/mock/http_mock.mjs, plain HTTP); own nginx and redis-server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use lib "$FindBin::Bin/mock";
use RtagentNginx;
use RtagentRedis;
use RtagentToolStore;
use HttpMock;

use JSON::PP;
use Time::HiRes qw(sleep);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test module is not loaded' unless test_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => $HttpMock::Why unless start_http_mock();

my $mock = "http://127.0.0.1:$ENV{TEST_NGINX_MOCK_PLAIN_PORT}";

# read by the master when it reads the configuration; changed afterwards
$ENV{RTAGENT_TEST_TOKEN} = 'Bearer s3cret';

my $dir = agents_dir('front.yaml' => <<"YAML");
name: front
description: Calls services.
greeting: Hello.
prompt: Use the tools.
tools:
  - name: weather
    description: The weather at a ZIP code.
    arguments: [zip, q]
    http:
      url: $mock/json?zip={zip}&q={q}&call={call_id}
      headers:
        Authorization: env:RTAGENT_TEST_TOKEN
        X-Agent: "agent {agent}, token {env:RTAGENT_TEST_TOKEN}"
        X-Note: "{q}"
  - name: file_it
    description: Posts a JSON body.
    http:
      method: POST
      url: $mock/json
      body: >-
        {"policy": "{policy}", "n": {n}, "flag": {flag}, "who": {who},
        "note": "said: {note}", "caller": "{caller}"}
  - name: plain
    description: A body that is not JSON.
    http:
      url: $mock/echo
  - name: broken
    description: Always 500.
    http:
      url: $mock/status?code=500
  - name: slow
    description: Too slow.
    http:
      url: $mock/slow?delay={delay}
      timeout_ms: 300
  - name: big
    description: Too big.
    http:
      url: $mock/big?size={size}
      max_response: 1000
  - name: not_found
    description: 404 with JSON.
    http:
      url: $mock/json?code=404
  - name: secure
    description: Over TLS.
    http:
      url: https://127.0.0.1:$ENV{TEST_NGINX_MOCK_PORT}/json?x={x}
YAML

my $r = start_redis();
# the http block's rtagent_upstream_* settings apply to the tools
my $n = start_tool_nginx($r, $dir, http => "rtagent_upstream_ssl_trusted_certificate"
                                          . " $ENV{TEST_NGINX_MOCK_CA};");
$ENV{RTAGENT_TEST_TOKEN} = 'changed';

ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);

my $out = tool($n, 'front', 'weather', encode_json({ zip => '60614',
                                                     q => "rain & snow/\x{fc}?" }),
               call => 'h1');
is($out->{rc}, 'ok', 'weather: ok') or diag $out->{raw};
my $got = $out->{result};
is($got->{method}, 'GET', 'a GET');
is($got->{url}, '/json?zip=60614&q=rain%20%26%20snow%2F%C3%BC%3F&call=h1',
   'the URL: arguments and the call id, percent-encoded');
is($got->{headers}{authorization}, 'Bearer s3cret',
   'env:NAME: the value when nginx read its configuration');
is($got->{headers}{'x-agent'}, 'agent front, token Bearer s3cret',
   '{agent} and {env:NAME} in a header value');
# node reads header bytes as Latin-1: the UTF-8 bytes of the u umlaut
is($got->{headers}{'x-note'}, "rain & snow/\x{c3}\x{bc}?",
   'an argument in a header, as it is (UTF-8)');

redis($r, 'HSET', 'rtagent:call:{h2}', 'peer_phone', '+13125550111');
my $note = "a \"quoted\" \\ back\nslash \x{e9}";
$out = tool($n, 'front', 'file_it',
            encode_json({ policy => '12345678', n => 2, flag => JSON::PP::true,
                          who => 'Bob "B" Martinez', note => $note }),
            call => 'h2');
is($out->{rc}, 'ok', 'file_it: ok') or diag $out->{raw};
$got = $out->{result};
is($got->{method}, 'POST', 'a POST');
is($got->{headers}{'content-type'}, 'application/json', 'sent as JSON');
is_deeply($got->{json}, { policy => '12345678', n => 2, flag => JSON::PP::true,
                          who => 'Bob "B" Martinez', note => "said: $note",
                          caller => '+13125550111' },
          'the body: strings escaped, numbers and booleans as they are,'
          . ' the caller from the call hash');

$out = tool($n, 'front', 'file_it',
            encode_json({ policy => '1', n => '1", "x": "y', flag => 1,
                          who => 'w', note => 'n' }), call => 'h2');
is_deeply([ sort keys %{ $out->{result}{json} // {} } ],
          [qw(caller flag n note policy who)],
          'an argument cannot break out of its string');
is($out->{result}{json}{n}, '1", "x": "y', '  it stays one string');

$out = tool($n, 'front', 'file_it', encode_json({ policy => '1', n => 1,
                                                  flag => 1, who => 'w',
                                                  note => 'n' }),
            call => 'nocaller');
is_deeply($out->{result}, { error => "the caller's number is unknown" },
          '{caller} for a call whose number is unknown');

$out = tool($n, 'front', 'file_it', encode_json({ policy => '1', n => 1 }),
            call => 'h2');
is_deeply($out->{result}, { error => 'missing argument "flag"' },
          'a missing argument');
$out = tool($n, 'front', 'file_it', encode_json({ policy => '1', n => [1],
                                                  flag => 1, who => 'w',
                                                  note => 'n' }),
            call => 'h2');
is_deeply($out->{result},
          { error => 'argument "n": not a string, number or boolean' },
          'an array argument');

$out = tool($n, 'front', 'weather', encode_json({ zip => '1', q => "a\r\nX-Evil: 1" }),
            call => 'h3');
is($out->{rc}, 'error', 'a line break into a header: refused');
is_deeply($out->{result},
          { error => 'argument "q": a line break or NUL in a header' }, '  why');

$out = tool($n, 'front', 'plain', '{}', call => 'h4');
is($out->{rc}, 'ok', 'a body that is not JSON');
is($out->{result}{status}, 200, '  status');
like($out->{result}{body}, qr/\Amethod=GET\n/, '  the body as a string');

$out = tool($n, 'front', 'broken', '{}', call => 'h5');
is($out->{rc}, 'error', 'status 500: an error');
is_deeply($out->{result}, { error => 'HTTP status 500' }, '  why');
my $log = error_log($n);
is(scalar(() = $log =~ /call:h5\b/g), 1, '  one log line with the call id');

$out = tool($n, 'front', 'not_found', '{}', call => 'h6');
is_deeply($out->{result}, { error => 'HTTP status 404' },
          'status 404 with a JSON body: an error');

$out = tool($n, 'front', 'slow', '{"delay":3000}', call => 'h7');
is($out->{rc}, 'error', 'slower than timeout_ms: an error');
is_deeply($out->{result}, { error => 'timed out' }, '  timed out');

$out = tool($n, 'front', 'big', '{"size":5000}', call => 'h8');
is_deeply($out->{result}, { error => 'response too large' },
          'over max_response: an error');
$out = tool($n, 'front', 'big', '{"size":900}', call => 'h9');
is($out->{rc}, 'ok', 'under max_response: ok');
is(length $out->{result}{body}, 900, '  the whole body');

$out = tool($n, 'front', 'secure', '{"x":"1 2"}', call => 'tls-1');
is($out->{rc}, 'ok', 'https, trusted by the http block\'s CA') or diag $out->{raw};
is($out->{result}{url}, '/json?x=1%202', '  the request arrived');

# cancelled while the request is under way: no done(), ever
$out = tool($n, 'front', 'slow', '{"delay":600}', call => 'c1', cancel => 100);
is($out->{rc}, 'cancelled', 'cancelled 100 ms after its start');
sleep 1;
$log = error_log($n);
like($log, qr/rtagent test: tool cancelled, call:c1\b/, '  cancelled');
unlike($log, qr/rtagent test: tool done, call:c1\b/, '  and done() never came');

# a tool that answers before its cancel time is done, and nothing more
$out = tool($n, 'front', 'plain', '{}', call => 'c2', cancel => 2000);
is($out->{rc}, 'ok', 'done before the cancel');

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no crash, no alert');
ok(stop_nginx($n), 'nginx stops');

done_testing();
