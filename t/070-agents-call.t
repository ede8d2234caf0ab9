# What follows an agent's reply in a call session (turn->after), with
# rtagent_engine agents over ACS media, the local engines and no network
# but the ACS mock: espeak-ng callers.  "Goodbye" to the entry agent: once
# the closing line has been heard the call is hung up (close 1000) with the
# outcome ended_by_agent.  "Let me talk to a person": once the escalation
# message has been heard the call is transferred to auth's escalation
# target through Call Automation (transferToParticipant), and the call's
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

# what the caller may say to auth's first question, for the local STT (the
# search named by the turn's expect): the two closed answers of this test
my $tmp = tempdir(CLEANUP => 1);
open my $fh, '>', "$tmp/auth.jsgf" or die $!;
print $fh "#JSGF V1.0;\ngrammar auth;\n"
        . "public <s> = goodbye | let me talk to a person;\n";
close $fh;

# the shipped agents, auth escalating to a number ACS can call (its
# queue:customer-care names no ACS participant)
mkdir "$tmp/agents";
for my $f (glob shipped_agents() . '/*.yaml') {
    open my $in, '<', $f or die $!;
    local $/;
    my $y = <$in>;
    $y =~ s/target: queue:customer-care/target: "+18005550100"/;
    my ($base) = $f =~ m{([^/]+)\z};
    open my $out, '>', "$tmp/agents/$base" or die $!;
    print $out $y;
    close $out;
}

my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};\n"
          . "rtagent_agents $tmp/agents;\n"
          . "rtagent_stt_search auth.policy jsgf $tmp/auth.jsgf;\n"
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
       "call-human: to auth's escalation target");
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
done_testing();
