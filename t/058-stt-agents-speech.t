# The agents' searches heard: the shipped agents' local sections register
# "<agent>.<slot>" searches when they load, and an espeak-ng caller in a
# location whose rtagent_stt_expect names one is decoded with it (the
# local STT, no network): auth's policy number (JSGF digits), fnol's
# where (a bigram model of its examples and vocabulary), was anyone hurt
# (JSGF yes/no) and how many vehicles (JSGF 1..20 in words).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;
use RtagentStt;

use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();
plan skip_all => 'espeak-ng and sox are needed (debian-packages.txt)'
    unless -x '/usr/bin/espeak-ng' && -x '/usr/bin/sox';

my $r = start_redis();
my $agents = "$FindBin::Bin/../agents";

sub location {
    my ($path, $expect) = @_;
    return "location = $path {
                rtagent_acs_media;
                rtagent_engine say_back;
                rtagent_stt local;
                rtagent_tts local;
                rtagent_stt_expect $expect;
            }";
}

my %at = ('/ws/acs/policy' => 'auth.policy', '/ws/acs/where' => 'fnol.where',
          '/ws/acs/hurt' => 'fnol.injuries',
          '/ws/acs/vehicles' => 'fnol.vehicles');

my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};
             rtagent_agents $agents;",
    server => join("\n", map { location($_, $at{$_}) } sort keys %at));

ok(redis_up($n, 1), 'the worker is connected to Redis') or diag error_log($n);

for my $t (['/ws/acs/where', 'on highway ten'],
           ['/ws/acs/where', 'in the parking lot at work'],
           ['/ws/acs/policy', 'four, two, seven, one, eight, three, six, five',
            'four two seven one eight three six five'],
           ['/ws/acs/hurt', 'no one was hurt'],
           ['/ws/acs/vehicles', 'two cars']) {
    my ($uri, $text, $want) = @$t;
    $want //= $text;
    (my $id = "agents-$want") =~ s/ /-/g;
    is(heard($n, $r, $uri, $id, $text), $want, "$at{$uri}: \"$want\" exactly");
    like(error_log($n), qr/by search "\Q$at{$uri}\E" .*call:\Q$id\E/,
         "$at{$uri}: decoded by its search");
}

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg)\]/, 'no alerts') or diag $log;
unlike($log, qr/rtagent stt local: .*(?:failed|did not load)/,
       'no engine failures, every search loaded into the decoders');

diag $log unless Test::More->builder->is_passing;

done_testing();
