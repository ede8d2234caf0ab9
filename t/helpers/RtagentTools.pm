package RtagentTools;

# Finding the programs the tests run (redis-server, redis-cli, node,
# openssl).  A test harness may run with a short PATH (no /usr/bin): the
# usual system directories are searched too, and the one a tool was found in
# is added to PATH, so that the children the tests start (redis-server from
# a fork, gen-certs.sh's openssl) find it as well.  When the tool is
# missing, the caller skips, and under RTAGENT_NO_SKIP=1 (.ci/run) that
# skip is a failure (t/helpers/RtagentNoSkip.pm).

use strict;
use warnings;

use Exporter 'import';

our @EXPORT_OK = qw(find_tool);

my @SYSTEM = qw(/usr/local/bin /usr/bin /bin /usr/local/sbin /usr/sbin /sbin);

# the absolute path of the program $name, or undef
sub find_tool {
    my ($name) = @_;
    my @path = grep { length } split /:/, $ENV{PATH} // '';

    for my $dir (@path, @SYSTEM) {
        my $file = "$dir/$name";
        next unless -f $file && -x _;
        $ENV{PATH} = join ':', @path, $dir unless grep { $_ eq $dir } @path;
        return $file;
    }
    return undef;
}

1;
