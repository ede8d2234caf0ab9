package RtagentCall;

# The tests of build/rtagent-call (t/080-t/083): a gateway whose ACS
# account is the simulator's (its REST endpoint on a free port, a test
# key), and a run of the simulator with its output and exit status.

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Temp qw(tempdir);

use RtagentNginx;

our @EXPORT = qw(call_tool start_call_gateway start_call finish_call
                 run_call);

# "rtagent-call local test key", base64
my $KEY = 'cnRhZ2VudC1jYWxsIGxvY2FsIHRlc3Qga2V5';

# the simulator built next to the module under test (build/ or build-san/)
sub call_tool {
    my $m = rtagent_module() or return undef;
    my $tool = dirname($m) . '/rtagent-call';
    return -x $tool ? $tool : undef;
}

# start_call_gateway(redis => PORT, engine => 'echo' | 'say_back',
#                    http => '...', media_url => URL ({port}: nginx's),
#                    workers => N)
#   -> the nginx of start_nginx() with {acs_port, cs, url}
sub start_call_gateway {
    my (%o) = @_;
    my $port = free_port();
    my $acs = free_port();
    my $cs = "endpoint=http://127.0.0.1:$acs/;accesskey=$KEY";
    my $engine = $o{engine} // 'echo';
    my $speech = $engine eq 'echo' ? ''
               : 'rtagent_stt local; rtagent_tts local;';
    my $media = ($o{media_url} // "ws://127.0.0.1:{port}/ws/acs/media")
                =~ s/\{port\}/$port/r;
    my $redis = $o{redis} ? "rtagent_redis 127.0.0.1:$o{redis};" : '';

    my $n = start_nginx(
        port => $port,
        workers => $o{workers} // 1,
        main => 'thread_pool rtagent_speech threads=2;',
        http => <<"HTTP",
$redis
rtagent_acs_connection_string "$cs";
rtagent_acs_callback_url http://127.0.0.1:$port/api/acs/events;
rtagent_acs_media_url $media;
@{[ $o{http} // '' ]}
HTTP
        server => <<"SERVER");
location = /api/acs/events { rtagent_acs_events; }
location = /ws/acs/media {
    rtagent_acs_media;
    rtagent_engine $engine;
    $speech
}
SERVER
    $n->{acs_port} = $acs;
    $n->{cs} = $cs;
    $n->{url} = "http://127.0.0.1:$port/api/acs/events";
    return $n;
}

# start_call($n, @args) -> a handle: the simulator started against $n
sub start_call {
    my ($n, @args) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $tool = call_tool() or die 'no rtagent-call';
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDOUT, '>', "$dir/out" or die $!;
        open STDERR, '>', "$dir/err" or die $!;
        exec $tool, '--url', $n->{url}, '--connection-string', $n->{cs},
             @args;
        die "exec $tool: $!";
    }

    return { pid => $pid, dir => $dir };
}

# finish_call($h) -> { rc, out, err } once it has exited
sub finish_call {
    my ($h) = @_;
    waitpid $h->{pid}, 0;
    my $rc = $? >> 8;
    local $/;
    open my $o, '<', "$h->{dir}/out" or die $!;
    open my $e, '<', "$h->{dir}/err" or die $!;
    return { rc => $rc, out => scalar <$o>, err => scalar <$e> };
}

# run_call($n, @args) -> { rc, out, err }: the simulator against $n
sub run_call {
    return finish_call(start_call(@_));
}

1;
