# The local STT's bounded decoder pool: with rtagent_stt_local_decoders 1,
# four calls whose callers finish speaking at the same moment need more
# decoders than there are; the utterances wait in the worker's queue (the
# event loop never does) and every one is answered, none lost, each with
# its own words.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng and sox are needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng' && -x '/usr/bin/sox';

my $tmp = tempdir(CLEANUP => 1);
my $r = start_redis();

open my $fh, '>', "$tmp/where.txt" or die $!;
print $fh "on highway ten\nin the parking lot at work\n"
          . "at the corner of main street and first avenue\n"
          . "in front of my house\nat the mall parking garage\n";
close $fh;

my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};
             rtagent_stt_local_decoders 1;
             rtagent_stt_search where phrases $tmp/where.txt;",
    server => 'location = /ws/acs/media {
                   rtagent_acs_media;
                   rtagent_engine say_back;
                   rtagent_stt local;
                   rtagent_tts local;
                   rtagent_stt_expect where;
               }');

ok(redis_up($n, 1), 'the worker is connected to Redis') or diag error_log($n);

my @said = ('on highway ten', 'in the parking lot at work',
            'in front of my house', 'at the mall parking garage');

# the calls open, then all their audio goes at once: the utterances end
# within a frame or two of each other
my @calls;
for my $i (0 .. $#said) {
    push @calls, [open_call($n->{port}, "queue-$i", acs_metadata(16000)),
                  acs_audio(silence(200) . espeak_pcm($said[$i], 16000)
                            . silence(1000))];
}
send_msgs($_->[0], $_->[1]) for @calls;

sub caller_said {
    my ($id) = @_;
    my ($t) = map { $_->{text} } grep { $_->{role} eq 'caller' }
              map { decode_json($_) }
              @{ redis($r, 'LRANGE', "rtagent:call:{$id}:transcript", 0, -1) };
    return $t;
}

ok(wait_for(sub { !grep { !defined caller_said("queue-$_") } 0 .. $#said },
            60),
   'every utterance was answered');

# exactness is t/056's: here each call gets its own utterance's words
my @key = qw(highway parking front mall);
for my $i (0 .. $#said) {
    my $t = caller_said("queue-$i") // '';
    like($t, qr/\b$key[$i]\b/,
         "call $i: its own words (\"$said[$i]\" heard as \"$t\")");
}

my $log = error_log($n);
my $waited = () = $log =~ /all 1 decoders are busy, the utterance waits/g;
ok($waited >= 2, "utterances waited for the one decoder ($waited did)");
my $decoded = () = $log =~ /rtagent stt local: ".*" by search "where"/g;
is($decoded, scalar @said, 'each utterance decoded once, none lost');

close $_->[0] for @calls;

unlike($log, qr/\[(?:alert|emerg)\]/, 'no alerts') or diag $log;
unlike($log, qr/rtagent stt local: .*(?:failed|did not load)/,
       'no engine failures');

diag $log unless Test::More->builder->is_passing;

done_testing();
