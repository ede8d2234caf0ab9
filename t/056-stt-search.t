# Per-turn STT searches with the local engine (pocketsphinx), no network:
# espeak-ng callers over ACS media to rtagent_engine say_back, in
# locations whose rtagent_stt_expect names a search registered by
# rtagent_stt_search.  A digits grammar hears a policy number exactly; a
# phrases search (a bigram model built at configuration time from six
# example locations) hears "on highway ten" and "in the parking lot at
# work" exactly, where the generic en-us model (the baseline, a location
# with no search) gets both wrong.  An utterance the grammar cannot take
# falls back to the generic model.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;
use RtagentSpeech;
use RtagentStt;

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

sub write_file {
    my ($name, $text) = @_;
    open my $fh, '>', "$tmp/$name" or die $!;
    print $fh $text;
    close $fh;
    return "$tmp/$name";
}

my $digits = write_file('digits.jsgf', <<'JSGF');
#JSGF V1.0;
grammar digits;
public <digits> = <d> <d> <d> <d> <d> <d> <d> <d>;
<d> = zero | oh | one | two | three | four | five | six | seven | eight
    | nine;
JSGF

my $where = write_file('where.txt', <<'TXT');
# where did it happen
on highway ten
in the parking lot at work
at the corner of main street and first avenue
on the interstate near exit twelve
in front of my house
at the mall parking garage
TXT

# a yes/no grammar: a long sentence has no path through it
my $yes_no = write_file('yes_no.jsgf', <<'JSGF');
#JSGF V1.0;
grammar yes_no;
public <yes_no> = yes | no;
JSGF

sub location {
    my ($path, $expect) = @_;
    return "location = $path {
                rtagent_acs_media;
                rtagent_engine say_back;
                rtagent_stt local;
                rtagent_tts local;
                " . ($expect ? "rtagent_stt_expect $expect;" : '') . "
            }";
}

my $n = start_nginx(
    main => 'thread_pool rtagent_speech threads=2;',
    http => "rtagent_redis 127.0.0.1:$r->{port};
             rtagent_stt_search digits jsgf $digits;
             rtagent_stt_search where phrases $where;
             rtagent_stt_search yes_no jsgf $yes_no;",
    server => join("\n", location('/ws/acs/media'),
                   location('/ws/acs/digits', 'digits'),
                   location('/ws/acs/where', 'where'),
                   location('/ws/acs/yes_no', 'yes_no')));

ok(redis_up($n, 1), 'the worker is connected to Redis') or diag error_log($n);

# one digit at a time, as the agents ask for it: espeak-ng at its default
# 175 words a minute runs unpaused digits together ("seven one" comes out
# "oh two" even through the grammar)
my $policy = 'four two seven one eight three six five';
(my $spoken = $policy) =~ s/ /, /g;

is(heard($n, $r, '/ws/acs/digits', 'search-digits', $spoken), $policy,
   'the digits grammar hears the policy number exactly');
like(error_log($n),
     qr/rtagent stt local: ".*" by search "digits" .*call:search-digits/,
     'decoded by the digits search');

my $generic = heard($n, $r, '/ws/acs/media', 'search-digits-generic', $spoken);
isnt($generic, $policy,
     "baseline: the generic model hears the digits as \"$generic\"");

for my $where ('on highway ten', 'in the parking lot at work') {
    (my $id = "search-where-$where") =~ s/ /-/g;
    is(heard($n, $r, '/ws/acs/where', $id, $where), $where,
       "the phrases model hears \"$where\" exactly");
    like(error_log($n), qr/by search "where" .*call:\Q$id\E/,
         "\"$where\": decoded by the where search");

    # the baseline: the generic en-us model, same audio
    (my $gid = "search-generic-$where") =~ s/ /-/g;
    my $generic = heard($n, $r, '/ws/acs/media', $gid, $where);
    like(error_log($n), qr/by search "_default" .*call:\Q$gid\E/,
         "\"$where\": the baseline decoded by the generic model");

    # issue 10 measured "in the parking lot op would"; this espeak-ng
    # and model get that one right with the generic model too
    if ($where eq 'on highway ten') {
        isnt($generic, $where,
             "baseline: the generic model hears \"$where\" as \"$generic\"");
    } else {
        note("baseline: the generic model hears \"$where\" as \"$generic\"");
    }
}

# no path through yes/no for a sentence: the generic model still hears it
my $said = heard($n, $r, '/ws/acs/yes_no', 'search-fallback',
                 'I want to report an accident');
like($said, qr/\breport\b/, "the grammar's miss falls back to the generic "
                            . "model (\"$said\")");
like(error_log($n), qr/by search "_default" .*call:search-fallback/,
     'the fallback is logged as the generic model');

my $log = error_log($n);
unlike($log, qr/\[(?:alert|emerg)\]/, 'no alerts') or diag $log;
unlike($log, qr/rtagent stt local: .*(?:failed|did not load)/,
       'no engine failures');

diag $log unless Test::More->builder->is_passing;

done_testing();
