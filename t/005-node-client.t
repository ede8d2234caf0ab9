# A session as a newcomer would run it: the Node.js ACS media client
# (tools/acs-media-client.mjs, on the npm `ws` library) plays a caller WAV
# at real-time pace into nginx with two workers and records the answer.
# With the echo engine the answer is the caller's utterance itself.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentTools qw(find_tool);

use File::Temp qw(tempdir);
use Test::More;

my $tools = "$FindBin::Bin/../tools";

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
my $node = find_tool('node');
plan skip_all => 'node is not installed' unless $node;
plan skip_all => "the ws package is not installed: npm install --prefix $tools"
    unless -d "$tools/node_modules/ws";

sub wav {
    my ($rate, $pcm) = @_;
    return 'RIFF' . pack('V', 36 + length $pcm) . 'WAVEfmt '
         . pack('VvvVVvv', 16, 1, 1, $rate, $rate * 2, 2, 16)
         . 'data' . pack('V', length $pcm) . $pcm;
}

sub slurp {
    open my $fh, '<:raw', $_[0] or return '';
    local $/;
    return <$fh>;
}

my $n = start_nginx(workers => 2,
                    server => 'location = /ws/acs/media { rtagent_acs_media; }');
my $dir = tempdir(CLEANUP => 1);

for my $rate (16000, 24000) {
    my $caller = silence(200, $rate) . tone(800, $rate, 6000, 350);

    open my $fh, '>:raw', "$dir/caller-$rate.wav" or die $!;
    print $fh wav($rate, $caller);
    close $fh;

    my $out = `$node $tools/acs-media-client.mjs --url ws://127.0.0.1:$n->{port}/ws/acs/media --wav $dir/caller-$rate.wav --out $dir/agent-$rate.wav --listen-ms 2000 --call-id node-$rate 2>&1`;
    is($? >> 8, 0, "$rate Hz: the client finished cleanly") or diag $out;
    like($out, qr/first agent audio frame/, "$rate Hz: agent audio arrived");
    like($out, qr/0 StopAudio, close 1000/, "$rate Hz: no barge-in, normal close");

    my $agent = substr(slurp("$dir/agent-$rate.wav"), 44);
    ok($agent eq $caller . silence(40, $rate),
       "$rate Hz: the answer is the utterance, pre-roll and 40 ms tail")
        or diag sprintf('got %d bytes, expected %d', length $agent,
                        length($caller) + length silence(40, $rate));
}

like(error_log($n), qr/rtagent acs: media stream closed, call:node-24000/,
     'the gateway logged the call by its id');
unlike(error_log($n), qr/\[(?:alert|crit|error)\]/, 'no errors');
ok(stop_nginx($n), 'nginx stopped');

done_testing();
