package RtagentNoSkip;

# Loaded into every test program by .ci/run (PERL5OPT=-MRtagentNoSkip,
# with RTAGENT_NO_SKIP=1): in CI every tool is installed, so a test that
# skips hides a gap.  A skipped subtest ("SKIP: { skip ... }", a runner's
# skip_eval / skip_nginx) becomes a failing test, and a skipped suite
# ("plan skip_all") a suite with one failing test.  It works with any
# runner built on Test::Builder (t/lib or upstream Test::Nginx).

use strict;
use warnings;

use Test::Builder;

if ($ENV{RTAGENT_NO_SKIP}) {
    no warnings 'redefine';

    *Test::Builder::skip = sub {
        my ($self, $why) = @_;
        $why //= '';
        local $Test::Builder::Level = $Test::Builder::Level + 1;
        $self->ok(0, "skipped, and a skip is a failure here"
                     . " (RTAGENT_NO_SKIP): $why");
    };

    *Test::Builder::todo_skip = \&Test::Builder::skip;

    # plan() dispatches skip_all through a table of its own
    my $plan = \&Test::Builder::plan;

    *Test::Builder::plan = sub {
        my ($self, $cmd, $why) = @_;
        goto &$plan unless defined $cmd && $cmd eq 'skip_all';
        $why //= '';
        $self->$plan(tests => 1);
        $self->ok(0, "the suite would be skipped, and a skip is a failure"
                     . " here (RTAGENT_NO_SKIP): $why");
        exit 1;
    };

    *Test::Builder::skip_all = sub {
        my ($self, $why) = @_;
        $self->plan(skip_all => $why);
    };
}

1;
