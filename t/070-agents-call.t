# What follows an agent's reply in a call session (turn->after), with
# rtagent_engine agents over ACS media, the local engines (each turn heard
# through the search of what the agent asked) and no network but the ACS
# mock: espeak-ng callers to a test entry agent.  "Goodbye": once
# the closing line has been heard the call is hung up (close 1000) with the
# outcome ended_by_agent.  "Let me talk to a person": once the escalation
# message has been heard the call is transferred to the escalation target
# through Call Automation (transferToParticipant), and the call's
# outcome is transferred when the media stream then ends.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers", "$FindBin::Bin/mock";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;
use RtagentTurns;
use AcsMock;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng and sox are needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng' && -x '/usr/bin/sox';
plan skip_all => "the ACS mock cannot run: $AcsMock::Why"
    unless start_acs_mock();

my $r = start_redis();

my $tmp = tempdir(CLEANUP => 1);

# an entry agent with two intents: the STT hears the caller through the
# search the agents' grammars build for them ("front.intents")
open my $fh, '>', "$tmp/front.yaml" or die $!;
print $fh <<'YAML';
name: front
description: Says goodbye or finds a person.
greeting: Front desk. You can say goodbye, or ask for a person.
prompt: A test agent.
tools: [transfer_to_human, end_call]
escalation:
  target: queue:front-desk
  when: [caller_asks]
  message: One moment, I am connecting you to a colleague.
local:
  ask: What would you like?
  intents:
    - name: human
      keywords: [person]
      examples: [let me talk to a person]
      tool: transfer_to_human
    - name: goodbye
      keywords: [goodbye]
      examples: [goodbye]
      say: Thank you for calling. Goodbye.
      tool: end_call
YAML
close $fh;

my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
          . "rtagent_agents $tmp;\nrtagent_entry_agent front;\n"
          . "rtagent_acs_transfer_target queue:front-desk +18005550100;\n"
          . "rtagent_acs_connection_string \"$ENV{TEST_NGINX_ACS_CONNECTION_STRING}\";\n"
          . "rtagent_upstream_ssl_trusted_certificate $ENV{TEST_NGINX_ACS_CA};\n",
    server => 'location = /ws/acs/media { rtagent_acs_media;'
            . ' rtagent_engine agents; rtagent_stt local;'
            . ' rtagent_tts local; }');
ok(redis_up($n, 1), 'connected to Redis') or diag error_log($n);

# a caller who says $line once the greeting has been heard
sub call_saying {
    my ($id, $line) = @_;
    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    send_msgs($s, acs_audio(silence(200)));
    my ($greeting) = reply_of($s, 30, 1.0);
    ok(length $greeting > 16000 * 2, "$id: the greeting is heard first");
    send_msgs($s, acs_audio(espeak_pcm($line, 16000) . silence(1000)));
    return $s;
}

sub agent_lines {
    my ($id) = @_;
    return map { $_->{text} } grep { $_->{role} eq 'agent' }
           map { decode_json($_) }
           @{ redis($r, 'LRANGE', "rtagent:call:{$id}:transcript", 0, -1) };
}

# the end
{
    my $s = call_saying('call-bye', 'goodbye');
    my $f = frames_until($s, 30, undef);
    is($f->[-1][0], 8, 'call-bye: the gateway closes the call');
    is(unpack('n', $f->[-1][1]), 1000, 'call-bye: with 1000');
    like((agent_lines('call-bye'))[-1], qr/Goodbye\./,
         'call-bye: after the closing line');
    ok(wait_for(sub { (hash_of($r, 'call-bye')->{outcome} // '')
                      eq 'ended_by_agent' }),
       'call-bye: outcome ended_by_agent');
    like(error_log($n), qr/rtagent call: the agent ends the call, call:call-bye/,
         'call-bye: logged');
    close $s;
}

# the transfer: of a call that Call Automation answered (what IncomingCall
# and its callbacks write in the hash)
{
    redis($r, 'HSET', 'rtagent:call:{call-human}', acs_state => 'connected',
          peer => '4:+15550100', peer_phone => '+15550100');
    my $s = call_saying('call-human', 'let me talk to a person');
    ok(wait_for(sub {
        my $q = acs_requests('call-human:transferToParticipant');
        @$q }, 30), 'call-human: transferToParticipant sent to ACS');
    my ($req) = @{ acs_requests('call-human:transferToParticipant') };
    is($req->{json}{targetParticipant}{phoneNumber}{value}, '+18005550100',
       "call-human: to the number rtagent_acs_transfer_target gives the "
       . "escalation target");
    like(join(' ', agent_lines('call-human')),
         qr/connecting you to a colleague/,
         'call-human: after the escalation message');

    # ACS takes the call away: the media stream ends
    send_msgs($s, cclose(1000));
    frames_until($s, 5, undef);
    close $s;
    ok(wait_for(sub { (hash_of($r, 'call-human')->{outcome} // '')
                      eq 'transferred' }),
       'call-human: outcome transferred');
}

unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no alert, no crash');
stop_nginx($n);

# a transfer target Call Automation would refuse fails nginx -t
{
    open my $c, '>', "$tmp/bad.conf" or die $!;
    print $c "load_module " . rtagent_module() . ";\n"
           . "error_log $tmp/bad.log;\npid $tmp/bad.pid;\n"
           . "events {}\nhttp {\n"
           . "    rtagent_acs_transfer_target queue:front-desk front-desk;\n}\n";
    close $c;
    my $bin = $ENV{TEST_NGINX_BINARY} // "/usr/sbin/nginx";
    my $out = `$bin -t -p $tmp/ -c $tmp/bad.conf 2>&1`;
    isnt($?, 0, 'nginx -t fails on a bad transfer target');
    like($out, qr/rtagent_acs_transfer_target "queue:front-desk": "front-desk" is not a phone number/,
         'naming the target');
}
done_testing();
