package RtagentSpeech;

# Speech for the tests of the speech pipeline: a caller made with espeak-ng
# at the call's rate, and the agent's reply read off the ACS media socket.

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use JSON::PP;
use MIME::Base64;
use Time::HiRes qw(sleep time);

use RtagentRedis qw(read_frames send_msgs);
use RtagentTest qw(acs_audio);

our @EXPORT = qw(espeak_pcm reply_of send_paced);

my $tmp;

# PCM16LE mono at $rate of espeak-ng saying $text, in whole 20 ms frames
sub espeak_pcm {
    my ($text, $rate) = @_;
    $tmp //= tempdir('rtagent-say-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    system('espeak-ng', '-v', 'en-us', '-w', "$tmp/say.wav", $text) == 0
        or die "espeak-ng failed";
    system('sox', "$tmp/say.wav", '-t', 'raw', '-r', $rate, '-e', 'signed',
           '-b', 16, '-c', 1, "$tmp/say.raw") == 0 or die "sox failed";
    open my $fh, '<:raw', "$tmp/say.raw" or die $!;
    local $/;
    my $pcm = <$fh>;
    # whole 20 ms frames, as ACS sends them
    my $fb = $rate / 50 * 2;
    $pcm .= "\0" x (($fb - length($pcm) % $fb) % $fb);
    return $pcm;
}

# AudioData payloads sent to the caller, and how many StopAudio came, until
# the reply has been quiet for $quiet s, $until says so, or $max s in all
sub reply_of {
    my ($s, $max, $quiet, $until) = @_;
    my ($pcm, $stop, $last, $end) = ('', 0, undef, time + $max);
    while (time < $end) {
        my $frames = read_frames($s, 0.2);
        for my $f (@$frames) {
            next unless $f->[0] == 1;
            my $m = decode_json($f->[1]);
            if ($m->{kind} eq 'AudioData') {
                $pcm .= decode_base64($m->{audioData}{data});
                $last = time;
            } elsif ($m->{kind} eq 'StopAudio') {
                $stop++;
            }
        }
        last if $until && $until->($pcm);
        last if defined $last && time - $last > $quiet;
    }
    return ($pcm, $stop);
}

# $pcm to the call as ACS sends it: a 20 ms frame each 20 ms
sub send_paced {
    my ($s, $pcm) = @_;
    my $t = time;
    for my $i (0 .. length($pcm) / 640 - 1) {
        send_msgs($s, acs_audio(substr($pcm, $i * 640, 640)));
        my $w = $t + ($i + 1) * 0.02 - time;
        sleep $w if $w > 0;
    }
}

1;
