# rtagent_redact (issue 10 item 10): with it on, the caller's card
# numbers, SSNs and dates of birth are replaced by labels in the stored
# transcript (rtagent:call:{id}:transcript) and in TRANSCRIPTION_RECEIVED,
# numerals or spoken; with it off (the default) the text is stored as it
# was said.  The test starts its own redis-server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTest;
use RtagentNginx;
use RtagentRedis;

use JSON::PP;
use Test::More;

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no rtagent module'
    unless rtagent_module();
plan skip_all => 'redis-server is not installed' unless have_redis();

my $r = start_redis();

my @said = (
    'my card is 4242 4242 4242 4242 and it expires in may',
    'social security number one two three four five six seven eight nine',
    'I was born on March third nineteen eighty five',
    'my policy is 4 2 7 1 8 3 6 5',
);

sub call_texts {
    my ($redact, $id) = @_;

    my $n = start_nginx(workers => 1,
                        http => "rtagent_redis 127.0.0.1:$r->{port};"
                                . ($redact ? " rtagent_redact $redact;" : ''),
                        server => 'location = /ws/acs/media { rtagent_acs_media; }');
    ok(redis_up($n, 1), "nginx is up (rtagent_redact " . ($redact // 'unset')
                     . ")") or diag error_log($n);

    my $key = "rtagent:call:{$id}";
    my $s = open_call($n->{port}, $id, acs_metadata(16000));
    send_msgs($s, map { acs_transcription($_) } @said);

    ok(wait_for(sub { redis($r, 'LLEN', "$key:transcript") == @said }),
       'the caller entries are stored');
    my @t = map { decode_json($_)->{text} }
                @{ redis($r, 'LRANGE', "$key:transcript", 0, -1) };

    my @ev;
    ok(wait_for(sub {
           @ev = map { my %f = @{ $_->[1] }; $f{call_id} eq $id
                          && $f{type} eq 'TRANSCRIPTION_RECEIVED'
                          ? decode_json($f{data})->{text} : () }
                     @{ redis($r, 'XRANGE', 'rtagent:events', '-', '+') };
           @ev == @said }),
       'the events are stored');

    send_msgs($s, cclose(1000));
    read_frames($s, 3);
    close $s;

    ok(stop_nginx($n), 'nginx stopped');
    unlike(error_log($n), qr/\[(?:alert|crit|emerg)\]/, 'no alerts');

    return (\@t, \@ev);
}

my ($t, $ev) = call_texts('on', 'redact-on');
my @want = (
    'my card is [card] and it expires in may',
    'social security number [ssn]',
    'I was born on [dob]',
    'my policy is 4 2 7 1 8 3 6 5',
);
is_deeply($t, \@want, 'the transcript is redacted');
is_deeply($ev, \@want, 'TRANSCRIPTION_RECEIVED is redacted');

($t, $ev) = call_texts(undef, 'redact-default');
is_deeply($t, \@said, 'off by default: the transcript as said');
is_deeply($ev, \@said, 'and the events');

($t, $ev) = call_texts('off', 'redact-off');
is_deeply($t, \@said, 'rtagent_redact off');

stop_redis($r);

done_testing();
