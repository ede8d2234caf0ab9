package RtagentTurns;

# Whole conversations as text through the orchestrator (t/065-t/069): an
# nginx with the rtagent module, the test driver module (its
# rtagent_test_turns location at /turns), the shipped agents (or a
# folder of the test's), the demo policyholders and a private Redis.
#
#   my $r = start_redis();
#   my $n = start_agents($r, agents => $dir, http => '...');
#   my $t = turns($n, 'call-1', ['4 2 7 1 8 3 6 5', ...], greet => 0);
#   # $t: one hash per turn {turn kind said reply agent expect after target}

use strict;
use warnings;

use Exporter 'import';
use FindBin;
use IO::Socket::INET;
use JSON::PP;

use RtagentNginx;
use RtagentRedis;

our @EXPORT = qw(test_module start_agents turns replies hash_of context_of
                 shipped_agents);

sub shipped_agents { "$FindBin::Bin/../agents" }

sub test_module {
    my ($m) = grep { /test_module/ } split ' ',
                   $ENV{TEST_NGINX_LOAD_MODULES} // '';
    return $m;
}

# start_agents($redis, agents => DIR, entry => NAME, http => '...',
#              workers => N)
sub start_agents {
    my ($r, %o) = @_;
    my $agents = $o{agents} // shipped_agents();
    my $data = shipped_agents() . '/data/policyholders.yaml';
    my $entry = $o{entry} ? "rtagent_entry_agent $o{entry};" : '';
    my $tm = test_module() or die 'no test module';
    my $n = start_nginx(
        workers => $o{workers} // 1,
        main => "load_module $tm;",
        http => "rtagent_redis 127.0.0.1:$r->{port};\n"
              . "rtagent_agents $agents;\n$entry\n"
              . "rtagent_agent_data $data;\n" . ($o{http} // ''),
        server => "location = /turns { client_body_buffer_size 64k;"
                . " rtagent_test_turns; }");
    # the policyholders are in Redis once worker 0 has written them
    wait_for(sub { redis($r, 'EXISTS', 'rtagent:policy:{31415926}') });
    return $n;
}

# POSTs the caller's lines for a call; the turns as the driver reports them
sub turns {
    my ($n, $call, $lines, %o) = @_;
    my $q = "call=$call";
    $q .= '&greet=0' if defined $o{greet} && !$o{greet};
    $q .= "&cancel=$o{cancel}" if $o{cancel};
    my $body = encode_json($lines);
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}",
                                  Timeout => 30) or die $!;
    print $s "POST /turns?$q HTTP/1.0\r\nHost: localhost\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    local $/;
    my $all = <$s> // '';
    my ($head, $resp) = split /\r\n\r\n/, $all, 2;
    die "no 200 from /turns: $all" unless $head =~ m{^HTTP/1\.\d 200};
    return decode_json($resp);
}

# the replies alone, one string per turn
sub replies {
    my ($t) = @_;
    return [ map { $_->{reply} } @$t ];
}

sub hash_of {
    my ($r, $call) = @_;
    my $a = redis($r, 'HGETALL', "rtagent:call:{$call}");
    return ref $a eq 'ARRAY' ? { @$a } : {};
}

sub context_of {
    my ($r, $call) = @_;
    my $a = redis($r, 'LRANGE', "rtagent:call:{$call}:context", 0, -1);
    return [ map { decode_json($_) } @{ $a // [] } ];
}

1;
