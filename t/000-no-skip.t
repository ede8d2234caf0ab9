# CI's rule that nothing may skip (.ci/run: RTAGENT_NO_SKIP=1), checked on
# small test files run the way `make prove` runs them: a file that skips
# as a whole, and one that skips a subtest, both fail under the rule, with
# RtagentNoSkip.pm loaded (any runner on Test::Builder) and again by the
# check of the prove log (t/helpers/no-skips); a file that skips nothing
# passes both.  And the helpers find redis-server with a PATH that lacks
# its directory.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/helpers";
use RtagentTools qw(find_tool);

use File::Temp qw(tempdir);
use Test::More;

my $tmp = tempdir(CLEANUP => 1);
my $helpers = "$FindBin::Bin/helpers";

my %file = (
    'skip-all.t' => "use Test::More;\nplan skip_all => 'no foo';\n",
    'skip-one.t' => "use Test::More tests => 2;\nok(1, 'one');\n"
                  . "SKIP: { skip 'no bar', 1; ok(1, 'two') }\n",
    'plain.t'    => "use Test::More tests => 1;\nok(1, 'one');\n",
);
for (keys %file) {
    open my $fh, '>', "$tmp/$_" or die $!;
    print $fh $file{$_};
    close $fh;
}

# prove --directives FILE as `make prove` runs it; -> (exit status, log)
sub run_prove {
    my ($name, $no_skip) = @_;
    local $ENV{RTAGENT_NO_SKIP} = $no_skip ? 1 : '';
    local $ENV{PERL5LIB} = $helpers;
    local $ENV{PERL5OPT} = $no_skip ? '-MRtagentNoSkip' : '';
    delete local $ENV{HARNESS_ACTIVE};
    my $log = "$tmp/$name.log";
    system("prove --directives $tmp/$name > $log 2>&1");
    my $rc = $? >> 8;
    open my $fh, '<', $log or die $!;
    local $/;
    return ($rc, scalar <$fh>, $log);
}

sub log_check {
    my ($log) = @_;
    system("$helpers/no-skips $log > /dev/null 2>&1");
    return $? >> 8;
}

for my $name ('skip-all.t', 'skip-one.t') {
    my ($rc, $out, $log) = run_prove($name, 0);
    is($rc, 0, "$name: passes without the rule");
    isnt(log_check($log), 0, "$name: but the log check finds the skip")
        or diag $out;

    ($rc, $out) = run_prove($name, 1);
    isnt($rc, 0, "$name: fails under RTAGENT_NO_SKIP=1") or diag $out;
    like($out, qr/Failed|FAIL/, "$name: prove says so") or diag $out;
}

my ($rc, $out, $log) = run_prove('plain.t', 1);
is($rc, 0, 'plain.t: passes under the rule') or diag $out;
is(log_check($log), 0, 'plain.t: and the log check');

# redis-server outside PATH
{
    local $ENV{PATH} = '/nonexistent';
    my $redis = find_tool('redis-server');
    ok($redis && -x $redis, "redis-server found without its PATH ($redis)");
    like($ENV{PATH}, qr{^/nonexistent:}, 'its directory joins PATH');
}

done_testing();
