
/*
 * rtagent-call: places simulated ACS calls into the gateway and prints
 * the conversations, per-turn and barge-in latencies and, for a load run,
 * percentiles and the gateway's CPU and memory per call.  `rtagent-call
 * --help` and tools/rtagent-call/README.md document the options.
 */


#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "rc.h"
#include "rc_wav.h"


/* conf/rtagent.conf's simulator account: a demo key, local only */
#define RC_CONNECTION_STRING                                                 \
    "endpoint=http://127.0.0.1:8081/;"                                       \
    "accesskey=cnRhZ2VudC1jYWxsIGxvY2FsIHNpbXVsYXRvciBrZXk="


#define RC_STACK  (512 * 1024)


static const char  *rc_usage =
"usage: rtagent-call [options] (--wav FILE | --say TEXT | --script FILE)...\n"
"\n"
"Plays callers into the gateway as Azure Communication Services would.\n"
"\n"
"  --url URL              the events endpoint\n"
"                         (http://127.0.0.1:8080/api/acs/events)\n"
"  --connection-string S  the gateway's rtagent_acs_connection_string;\n"
"                         the REST endpoint is served at its endpoint\n"
"                         (conf/rtagent.conf's: http://127.0.0.1:8081/)\n"
"  --eventgrid-key KEY    the gateway's rtagent_acs_eventgrid_key\n"
"  --wav FILE             a caller turn from a PCM16 WAV (repeatable)\n"
"  --say TEXT             a caller turn spoken by espeak-ng (repeatable)\n"
"  --script FILE          one caller turn per line (# comments)\n"
"  --voice V              espeak-ng voice (en-us+f3)\n"
"  --rate WPM             espeak-ng words per minute (150)\n"
"  --speed N              send the caller's audio N times real time (1)\n"
"  --barge-in-after MS    talk over the agent MS ms after its reply starts\n"
"  --gap MS               agent silence that ends its reply (800)\n"
"  --first-wait MS        wait for a greeting before the first turn (2000)\n"
"  --reply-timeout MS     wait for a reply before going on (15000)\n"
"  --answer-timeout MS    wait for the gateway's answer (10000)\n"
"  --timeout MS           the longest call (300000)\n"
"  --out FILE.wav         the agent's audio (of call 1)\n"
"  --redis HOST:PORT      read the transcript and outcome from Redis\n"
"  --from +E164 --to +E164  the caller and the called number\n"
"  --calls N              N concurrent calls (1)\n"
"  --ramp S               start them over S seconds (0)\n"
"  --pid PID              the gateway's nginx master: CPU and RSS per call\n"
"                         (default with --calls: the only nginx master)\n"
"  --quiet                no conversations, the summary only\n"
"  --verbose              progress on stderr\n"
"\n"
"Exit status: 0 when every call succeeded, 1 when one failed, 2 on bad\n"
"options.\n";


static int rc_script(rc_opts_t *o, const char *path);
static int rc_add_turn(rc_opts_t *o, const char *text, const char *wav,
    const char *label);
static void rc_summary(rc_sim_t *sim, double secs);
static int rc_proc_sample(long master, double *cpu_ms, double *rss_kb);
static long rc_proc_master(void);


double
rc_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}


void
rc_uuid(char *out)
{
    uint8_t  b[16];

    RAND_bytes(b, sizeof(b));
    b[6] = (uint8_t) ((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t) ((b[8] & 0x3f) | 0x80);

    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
             b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}


static int
rc_number(const char *s)
{
    size_t  i;

    if (s[0] != '+' || s[1] == '\0' || strlen(s) > 16) {
        return 0;
    }

    for (i = 1; s[i]; i++) {
        if (!isdigit((unsigned char) s[i])) {
            return 0;
        }
    }

    return 1;
}


static long
rc_ms(const char *opt, const char *v, long min)
{
    char  *end;
    long   n;

    errno = 0;
    n = strtol(v, &end, 10);

    if (errno || end == v || *end || n < min) {
        fprintf(stderr, "rtagent-call: %s: \"%s\" is not a number >= %ld\n",
                opt, v, min);
        exit(2);
    }

    return n;
}


int
main(int argc, char **argv)
{
    int              c, failed, rc;
    char             err[RC_ERR_LEN], uuid[40];
    double           start, next, cpu0, cpu1, rss0, rss, rss_max;
    unsigned         i, started, done;
    rc_sim_t         sim;
    rc_opts_t        o;
    rc_call_t       *call;
    pthread_attr_t   attr;

    static struct option  opts[] = {
        { "url", required_argument, NULL, 'u' },
        { "connection-string", required_argument, NULL, 'C' },
        { "eventgrid-key", required_argument, NULL, 'k' },
        { "wav", required_argument, NULL, 'w' },
        { "say", required_argument, NULL, 's' },
        { "script", required_argument, NULL, 'S' },
        { "voice", required_argument, NULL, 'V' },
        { "rate", required_argument, NULL, 'r' },
        { "speed", required_argument, NULL, 'x' },
        { "barge-in-after", required_argument, NULL, 'b' },
        { "gap", required_argument, NULL, 'g' },
        { "first-wait", required_argument, NULL, 'f' },
        { "reply-timeout", required_argument, NULL, 'R' },
        { "answer-timeout", required_argument, NULL, 'A' },
        { "timeout", required_argument, NULL, 'T' },
        { "out", required_argument, NULL, 'o' },
        { "redis", required_argument, NULL, 'd' },
        { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 't' },
        { "calls", required_argument, NULL, 'n' },
        { "ramp", required_argument, NULL, 'p' },
        { "pid", required_argument, NULL, 'P' },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&o, 0, sizeof(rc_opts_t));
    o.url = "http://127.0.0.1:8080/api/acs/events";
    o.connection_string = RC_CONNECTION_STRING;
    o.voice = "en-us+f3";
    o.rate = 150;
    o.speed = 1;
    o.barge_in_after = -1;
    o.gap = 800;
    o.first_wait = 2000;
    o.reply_timeout = 15000;
    o.answer_timeout = 10000;
    o.timeout = 300000;
    o.from = "+14255550123";
    o.to = "+18005550100";
    o.calls = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u': o.url = optarg; break;
        case 'C': o.connection_string = optarg; break;
        case 'k': o.eventgrid_key = optarg; break;
        case 'w': rc = rc_add_turn(&o, NULL, optarg, optarg); goto turn;
        case 's': rc = rc_add_turn(&o, optarg, NULL, optarg); goto turn;
        case 'S': rc = rc_script(&o, optarg); goto turn;
        case 'V': o.voice = optarg; break;
        case 'r': o.rate = (unsigned) rc_ms("--rate", optarg, 80); break;
        case 'x':
            o.speed = strtod(optarg, NULL);

            if (o.speed < 0.1 || o.speed > 100) {
                fprintf(stderr, "rtagent-call: --speed 0.1 to 100\n");
                return 2;
            }

            break;
        case 'b': o.barge_in_after = rc_ms("--barge-in-after", optarg, 0);
                  break;
        case 'g': o.gap = rc_ms("--gap", optarg, 20); break;
        case 'f': o.first_wait = rc_ms("--first-wait", optarg, 0); break;
        case 'R': o.reply_timeout = rc_ms("--reply-timeout", optarg, 0);
                  break;
        case 'A': o.answer_timeout = rc_ms("--answer-timeout", optarg, 1);
                  break;
        case 'T': o.timeout = rc_ms("--timeout", optarg, 1); break;
        case 'o': o.out = optarg; break;
        case 'd': o.redis = optarg; break;
        case 'F': o.from = optarg; break;
        case 't': o.to = optarg; break;
        case 'n': o.calls = (unsigned) rc_ms("--calls", optarg, 1); break;
        case 'p': o.ramp = strtod(optarg, NULL); break;
        case 'P': o.pid = rc_ms("--pid", optarg, 1); break;
        case 'q': o.quiet = 1; break;
        case 'v': o.verbose = 1; break;
        case 'h': fputs(rc_usage, stdout); return 0;
        default: fputs(rc_usage, stderr); return 2;
        }

        continue;

    turn:

        if (rc != 0) {
            return 2;
        }
    }

    if (optind < argc || o.nturns == 0) {
        fprintf(stderr, "rtagent-call: %s\n%s", optind < argc
                ? "unexpected argument" : "no caller: give --wav, --say or "
                "--script", rc_usage);
        return 2;
    }

    if (!rc_number(o.from) || !rc_number(o.to)) {
        fprintf(stderr, "rtagent-call: --from and --to are +E.164 numbers\n");
        return 2;
    }

    if (o.eventgrid_key && strpbrk(o.eventgrid_key, "&#? \r\n")) {
        fprintf(stderr, "rtagent-call: --eventgrid-key: no spaces, &, #, ?\n");
        return 2;
    }

    if (o.calls > 10000) {
        fprintf(stderr, "rtagent-call: --calls: at most 10000\n");
        return 2;
    }

    memset(&sim, 0, sizeof(rc_sim_t));
    sim.opts = &o;

    if (ngx_http_rtagent_acs_account_parse(o.connection_string,
                                           strlen(o.connection_string),
                                           &sim.account, err, sizeof(err))
        != 0)
    {
        fprintf(stderr, "rtagent-call: --connection-string: %s\n", err);
        return 2;
    }

    for (i = 0; i < o.nturns; i++) {
        if (rc_turn_prepare(&o, &o.turns[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "rtagent-call: caller turn %u: %s\n", i + 1, err);
            return 2;
        }
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_init(&sim.lock, NULL);
    pthread_cond_init(&sim.cond, NULL);

    sim.calls = calloc(o.calls, sizeof(rc_call_t));
    sim.ncalls = o.calls;

    if (sim.calls == NULL) {
        fprintf(stderr, "rtagent-call: out of memory\n");
        return 1;
    }

    for (i = 0; i < o.calls; i++) {
        call = &sim.calls[i];
        call->sim = &sim;
        call->index = i + 1;
        rc_uuid(uuid);
        snprintf(call->id, sizeof(call->id), "rc-%ld-%u-%.8s",
                 (long) getpid(), i + 1, uuid);
        rc_uuid(call->correlation);
        rc_uuid(uuid);
        /* an unsigned JWT as ACS's (header {"alg":"none","typ":"JWT"}) */
        snprintf(call->context, sizeof(call->context),
                 "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%s.", uuid);
        rc_uuid(uuid);
        snprintf(call->server_call_id, sizeof(call->server_call_id),
                 "rtagent-call-%s", uuid);
    }

    if (rc_acs_start(&sim, err, sizeof(err)) != 0) {
        fprintf(stderr, "rtagent-call: %s\n", err);
        return 1;
    }

    cpu0 = cpu1 = rss0 = rss_max = 0;

    /* a load run measures the gateway: the one nginx master here */
    if (o.pid == 0 && o.calls > 1) {
        o.pid = rc_proc_master();
    }

    if (o.pid && rc_proc_sample(o.pid, &cpu0, &rss0) != 0) {
        fprintf(stderr, "rtagent-call: --pid %ld: no such nginx\n", o.pid);
        o.pid = 0;
    }

    rss_max = rss0;

    /* a call's thread needs little stack: thousands of calls fit */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, RC_STACK);

    /* the calls start spread over --ramp seconds */
    start = rc_now_ms();
    started = 0;
    done = 0;

    while (done < o.calls) {
        next = start + (o.calls > 1 ? o.ramp * 1000.0 * started
                                      / (double) (o.calls - 1) : 0);

        while (started < o.calls && rc_now_ms() >= next) {
            call = &sim.calls[started];

            if (pthread_create(&call->thread, &attr, rc_call_run, call) != 0) {
                snprintf(call->error, sizeof(call->error),
                         "cannot start a thread");
                call->failed = 1;

            } else {
                call->started = 1;
            }

            started++;
            next = start + (o.calls > 1 ? o.ramp * 1000.0 * started
                                          / (double) (o.calls - 1) : 0);
        }

        usleep(20000);

        if (o.pid && rc_proc_sample(o.pid, &cpu1, &rss) == 0
            && rss > rss_max)
        {
            rss_max = rss;
        }

        /* the calls end in any order: join those whose report is there */
        for (done = 0, i = 0; i < started; i++) {
            call = &sim.calls[i];

            pthread_mutex_lock(&sim.lock);
            rc = call->started == 1 && call->report != NULL;
            pthread_mutex_unlock(&sim.lock);

            if (rc) {
                pthread_join(call->thread, NULL);
                call->started = 2;

                if (!o.quiet || call->failed) {
                    if (o.calls > 1) {
                        printf("-- call %u (%s)\n", call->index, call->id);
                    }

                    fputs(call->report, call->failed ? stderr : stdout);
                    fflush(stdout);
                }
            }

            done += call->started != 1;
        }

        if (started < o.calls) {
            done = 0;
        }
    }

    if (o.pid) {
        rc_proc_sample(o.pid, &cpu1, &rss);
    }

    pthread_attr_destroy(&attr);
    rc_acs_stop(&sim);

    failed = 0;

    for (i = 0; i < o.calls; i++) {
        failed += sim.calls[i].failed;
    }

    if (o.calls > 1 || o.pid) {
        rc_summary(&sim, (rc_now_ms() - start) / 1000.0);

        if (o.pid) {
            printf("gateway: %.1f ms CPU per call, %.0f KiB RSS per call "
                   "(%.0f KiB at the start, %.0f KiB at the peak)\n",
                   (cpu1 - cpu0) / o.calls, (rss_max - rss0) / o.calls, rss0,
                   rss_max);
        }
    }

    if (sim.bad_signatures) {
        fprintf(stderr, "rtagent-call: %u of %u ACS requests had a bad "
                "signature\n", sim.bad_signatures, sim.requests);
    }

    for (i = 0; i < o.calls; i++) {
        free(sim.calls[i].report);
        free(sim.calls[i].callback_uri);
        free(sim.calls[i].transport_url);
    }

    for (i = 0; i < o.nturns; i++) {
        free(o.turns[i].own);
        free(o.turns[i].pcm[0]);
        free(o.turns[i].pcm[1]);
    }

    free(sim.calls);
    curl_global_cleanup();

    return failed ? 1 : 0;
}


static void
rc_summary(rc_sim_t *sim, double secs)
{
    double      *turns, *barge;
    size_t       nt, nb;
    unsigned     i, j, failed;
    rc_call_t   *c;

    turns = calloc(sim->ncalls * RC_TURNS_MAX + 1, sizeof(double));
    barge = calloc(sim->ncalls * RC_TURNS_MAX + 1, sizeof(double));

    if (turns == NULL || barge == NULL) {
        free(turns);
        free(barge);
        return;
    }

    nt = 0;
    nb = 0;
    failed = 0;

    for (i = 0; i < sim->ncalls; i++) {
        c = &sim->calls[i];
        failed += c->failed;

        for (j = 0; j < c->nlatency; j++) {
            turns[nt++] = c->latency[j];
        }

        for (j = 0; j < c->nbarge; j++) {
            barge[nb++] = c->barge[j];
        }
    }

    printf("calls: %u, failed: %u, %.1f s\n", sim->ncalls, failed, secs);
    printf("turn latency: %zu turns, p50 %.0f ms, p95 %.0f ms, p99 %.0f ms\n",
           nt, rc_percentile(turns, nt, 50), rc_percentile(turns, nt, 95),
           rc_percentile(turns, nt, 99));
    printf("barge-in latency: %zu, p50 %.0f ms, p95 %.0f ms, p99 %.0f ms\n",
           nb, rc_percentile(barge, nb, 50), rc_percentile(barge, nb, 95),
           rc_percentile(barge, nb, 99));

    free(turns);
    free(barge);
}


/*
 * CPU (utime + stime, ms) and RSS (KiB) of the master and its children
 * (the workers), from /proc.
 */

static int
rc_proc_sample(long master, double *cpu_ms, double *rss_kb)
{
    int             found;
    long            pid, ppid, tick;
    char            path[64], buf[1024], *p;
    FILE           *f;
    DIR            *d;
    unsigned long   ut, st;
    double          cpu, rss;
    struct dirent  *e;

    tick = sysconf(_SC_CLK_TCK);
    cpu = 0;
    rss = 0;
    found = 0;

    d = opendir("/proc");

    if (d == NULL) {
        return -1;
    }

    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char) e->d_name[0])) {
            continue;
        }

        pid = atol(e->d_name);
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        f = fopen(path, "r");

        if (f == NULL) {
            continue;
        }

        p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
        fclose(f);

        /* after "pid (comm)": state ppid ... utime(14) stime(15) */
        if (p == NULL
            || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                      "%lu %lu", &ppid, &ut, &st) != 3
            || (pid != master && ppid != master))
        {
            continue;
        }

        found = 1;
        cpu += (double) (ut + st) * 1000.0 / (double) tick;

        snprintf(path, sizeof(path), "/proc/%ld/status", pid);
        f = fopen(path, "r");

        while (f && fgets(buf, sizeof(buf), f)) {
            if (strncmp(buf, "VmRSS:", 6) == 0) {
                rss += strtod(buf + 6, NULL);
            }
        }

        if (f) {
            fclose(f);
        }
    }

    closedir(d);

    if (!found) {
        return -1;
    }

    *cpu_ms = cpu;
    *rss_kb = rss;

    return 0;
}


/*
 * The pid of the only "nginx: master process" on this machine, or 0 when
 * there is none or more than one (then --pid says which).
 */

static long
rc_proc_master(void)
{
    long            pid, found;
    char            path[64], buf[64];
    FILE           *f;
    DIR            *d;
    size_t          n;
    struct dirent  *e;

    found = 0;
    d = opendir("/proc");

    if (d == NULL) {
        return 0;
    }

    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char) e->d_name[0])) {
            continue;
        }

        pid = atol(e->d_name);
        snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
        f = fopen(path, "r");

        if (f == NULL) {
            continue;
        }

        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';

        if (strncmp(buf, "nginx: master process", 21) == 0) {
            if (found) {
                closedir(d);
                fprintf(stderr, "rtagent-call: more than one nginx runs "
                        "here: --pid names the gateway's master for its "
                        "CPU and RSS\n");
                return 0;
            }

            found = pid;
        }
    }

    closedir(d);

    return found;
}


static int
rc_add_turn(rc_opts_t *o, const char *text, const char *wav,
    const char *label)
{
    rc_turn_t  *t;

    if (o->nturns == RC_TURNS_MAX) {
        fprintf(stderr, "rtagent-call: at most %d caller turns\n",
                RC_TURNS_MAX);
        return -1;
    }

    if (wav && access(wav, R_OK) != 0) {
        fprintf(stderr, "rtagent-call: --wav %s: %s\n", wav, strerror(errno));
        return -1;
    }

    t = &o->turns[o->nturns++];
    t->text = text;
    t->wav = wav;
    t->label = label;

    return 0;
}


/* one turn per line; blank lines and "#" comments skipped */

static int
rc_script(rc_opts_t *o, const char *path)
{
    char    line[1024], *s, *e;
    FILE   *f;

    f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "rtagent-call: --script %s: %s\n", path,
                strerror(errno));
        return -1;
    }

    while (fgets(line, sizeof(line), f)) {
        s = line + strspn(line, " \t");
        e = s + strlen(s);

        while (e > s && isspace((unsigned char) e[-1])) {
            *--e = '\0';
        }

        if (*s == '\0' || *s == '#') {
            continue;
        }

        s = strdup(s);

        if (s == NULL || rc_add_turn(o, s, NULL, s) != 0) {
            free(s);
            fclose(f);
            return -1;
        }

        o->turns[o->nturns - 1].own = s;
    }

    fclose(f);

    return 0;
}
