# The tool store's redis tools: each word of the command a template
# (arguments, {call_id}, {agent}, {caller} from the call hash), sent as one
# argument each, so a value never adds a word; the reply as JSON: HGETALL's
# pairs as the result object itself, any other reply as {"value": ...}
# (strings, integers, nil as null, arrays), an error reply as the tool's
# error; a cancelled tool never answers, a tool of another agent's file
# works for every agent that lists it.  Own nginx and redis-server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentNginx;
use RtagentRedis;
use RtagentToolStore;

use JSON::PP;
use Time::HiRes qw(sleep);
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'the test module is not loaded' unless test_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $dir = agents_dir(
    'front.yaml' => <<'YAML',
name: front
description: Reads records.
greeting: Hello.
prompt: Use the tools.
tools:
  - name: profile
    description: The caller's profile.
    redis:
      command: [HGETALL, "rtagent:profile:{{caller}}"]
  - name: last_location
    description: One field of it.
    redis:
      command: [HGET, "rtagent:profile:{{caller}}", last_location]
  - name: remember
    description: Keeps a note for the call.
    arguments: [note]
    redis:
      command: [HSET, "rtagent:notes:{{call_id}}", "{agent}", "note: {note}"]
  - name: count
    description: Counts.
    arguments: [by]
    redis:
      command: [INCRBY, "rtagent:count:{{call_id}}", "{by}"]
  - name: recent
    description: A list.
    redis:
      command: [LRANGE, "rtagent:list:{{call_id}}", "0", "-1"]
  - name: wrong_type
    description: Redis refuses it.
    redis:
      command: [INCR, "rtagent:profile:{{caller}}"]
YAML
    'other.yaml' => <<'YAML',
name: other
description: Uses a tool of front's file.
greeting: Hi.
prompt: Count.
tools: [count]
YAML
);

my $r = start_redis();
my $n = start_tool_nginx($r, $dir);

ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);

my $phone = '+13125550111';
redis($r, 'HSET', 'rtagent:call:{r1}', 'peer_phone', $phone);
redis($r, 'HSET', "rtagent:profile:{$phone}", 'name', 'Bob Martinez',
      'last_location', 'on highway ten');

my $out = tool($n, 'front', 'profile', '{}', call => 'r1');
is($out->{rc}, 'ok', 'HGETALL') or diag $out->{raw};
is_deeply($out->{result}, { name => 'Bob Martinez',
                            last_location => 'on highway ten' },
          'its pairs as the result object');

$out = tool($n, 'front', 'last_location', '{}', call => 'r1');
is_deeply($out->{result}, { value => 'on highway ten' }, 'HGET: {"value"}');

redis($r, 'HSET', 'rtagent:call:{r2}', 'peer_phone', '+10000000000');
$out = tool($n, 'front', 'last_location', '{}', call => 'r2');
is($out->{rc}, 'ok', 'a missing field');
is($out->{raw} =~ /"result":\{"value":null\}/ ? 1 : 0, 1, '  null');
$out = tool($n, 'front', 'profile', '{}', call => 'r2');
is_deeply($out->{result}, {}, 'HGETALL of a missing key: {}');

$out = tool($n, 'front', 'profile', '{}', call => 'r9');
is_deeply($out->{result}, { error => "the caller's number is unknown" },
          '{caller} for a call whose number is unknown');

$out = tool($n, 'front', 'remember', '{"note":"x y\r\nDEL everything"}',
            call => 'r3');
is_deeply($out->{result}, { value => 1 }, 'HSET: an integer');
is_deeply({ @{ redis($r, 'HGETALL', 'rtagent:notes:{r3}') } },
          { front => "note: x y\r\nDEL everything" },
          'the templates filled, a value stays one word');
is_deeply(redis($r, 'KEYS', 'everything'), [], 'nothing else was done');

is_deeply(tool($n, 'front', 'count', '{"by":5}', call => 'r4')->{result},
          { value => 5 }, 'INCRBY 5');
is_deeply(tool($n, 'other', 'count', '{"by":"2"}', call => 'r4')->{result},
          { value => 7 }, 'the same tool listed by another agent');
$out = tool($n, 'front', 'count', '{}', call => 'r4');
is_deeply($out->{result}, { error => 'missing argument "by"' },
          'a missing argument');
$out = tool($n, 'front', 'count', '{"by":"many"}', call => 'r4');
is($out->{rc}, 'error', 'an error reply');
like($out->{result}{error}, qr/\ARedis: ERR value is not an integer/,
     '  is the error');
like(error_log($n),
     qr/rtagent tool: "count" of agent "front" failed: Redis: ERR value is not an integer or out of range, call:r4\b/,
     '  logged with the call id');

redis($r, 'RPUSH', 'rtagent:list:{r5}', 'a', 'b');
is_deeply(tool($n, 'front', 'recent', '{}', call => 'r5')->{result},
          { value => ['a', 'b'] }, 'LRANGE: an array');
is_deeply(tool($n, 'front', 'recent', '{}', call => 'r6')->{result},
          { value => [] }, '  empty');

$out = tool($n, 'front', 'wrong_type', '{}', call => 'r1');
like($out->{result}{error}, qr/\ARedis: WRONGTYPE/, 'WRONGTYPE');

# cancelled before Redis answers (it is paused): no done(), ever
redis($r, 'CLIENT', 'PAUSE', 700);
$out = tool($n, 'front', 'count', '{"by":1}', call => 'c1', cancel => 100);
is($out->{rc}, 'cancelled', 'cancelled while Redis is paused');
sleep 1.2;
my $log = error_log($n);
unlike($log, qr/rtagent test: tool done, call:c1\b/, '  done() never came');
is(tool($n, 'front', 'count', '{"by":1}', call => 'c2')->{rc}, 'ok',
   'the next tool runs');
is(redis($r, 'GET', 'rtagent:count:{c1}'), 1,
   'the cancelled command itself was sent');

is(tool($n, 'other', 'profile', '{}', call => 'r1')->{rc}, 'declined',
   'a tool the agent does not list: declined');

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no crash, no alert');
ok(stop_nginx($n), 'nginx stops');

done_testing();
