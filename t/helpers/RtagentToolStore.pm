package RtagentToolStore;

# For the tool store's tests (t/060-t/063): a folder of agent files written
# by the test, nginx with the test module's rtagent_test_tool location at
# /tool, and tool() to run one tool as an agent would:
#
#   my $dir = agents_dir('front.yaml' => "...", ...);
#   my $n = start_tool_nginx($r, $dir, entry => 'front');
#   my $out = tool($n, 'front', 'verify_identity', '{"policy":...}',
#                  call => 'c1', cancel => 200);
#   # -> { rc => 'ok'|'error'|'declined'|'cancelled', act, target, result }

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use FindBin;
use JSON::PP;

use RtagentNginx;

our @EXPORT = qw(test_module agents_dir start_tool_nginx tool);

sub test_module {
    my ($m) = grep { /ngx_http_rtagent_test_module\.so$/ }
              split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
    return $m;
}

# a temporary folder holding the files given as name => text
sub agents_dir {
    my (%files) = @_;
    my $dir = tempdir(CLEANUP => 1);
    for my $f (keys %files) {
        open my $fh, '>', "$dir/$f" or die "$dir/$f: $!";
        print $fh $files{$f};
        close $fh;
    }
    return $dir;
}

# nginx with rtagent_redis (when $r), the agents of $dir, the shipped demo
# policyholders, and /tool
sub start_tool_nginx {
    my ($r, $dir, %o) = @_;
    my $data = $o{data} // "$FindBin::Bin/../agents/data/policyholders.yaml";
    my $m = test_module() or die 'no test module';
    return start_nginx(
        workers => $o{workers} // 1,
        nginx => $o{nginx},
        main => "load_module $m;",
        http => ($r ? "rtagent_redis 127.0.0.1:$r->{port};\n" : '')
              . "rtagent_agents $dir;\n"
              . "rtagent_entry_agent " . ($o{entry} // 'front') . ";\n"
              . "rtagent_agent_data $data;\n"
              . ($o{http} // ''),
        server => 'location = /tool { client_body_buffer_size 64k;'
                . ' rtagent_test_tool; }');
}

# POST /tool?agent=...&tool=...: the decoded reply
sub tool {
    my ($n, $agent, $name, $args, %o) = @_;
    my $uri = "/tool?agent=$agent&tool=$name";
    $uri .= "&call=$o{call}" if defined $o{call};
    $uri .= "&cancel=$o{cancel}" if defined $o{cancel};
    $args //= '';

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{port}",
                                  Timeout => 30) or die "connect: $!";
    binmode $s;
    print $s "POST $uri HTTP/1.0\r\nHost: localhost\r\n"
             . "Content-Length: " . length($args) . "\r\n\r\n$args";
    local $/;
    my $all = <$s> // '';
    close $s;

    my ($head, $body) = split /\r\n\r\n/, $all, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    return { rc => "http $status", raw => $body } unless $status == 200;

    my $doc = eval { JSON::PP->new->utf8->decode($body) };
    return { rc => 'bad json', raw => $body } unless $doc;
    $doc->{raw} = $body;
    return $doc;
}

1;
