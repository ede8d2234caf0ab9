
/*
 * acs-load: a load generator for the ACS media WebSocket, and the sink
 * that stands in for the upstream of nginx's own WebSocket relay.
 *
 *   acs-load --port P [--path /ws/acs/media] [--calls 200] [--duration 20]
 *            [--ping-ms 2000] [--rate 16000] [--wait-signal]
 *   acs-load --sink [--port P]          (port 0: pick one, print it)
 *   acs-load --free-port                (print a free loopback port)
 *
 * Client: one process, one epoll loop.  It opens N WebSocket connections
 * to 127.0.0.1 (a bounded number of handshakes at a time), checks each
 * 101, sends one AudioMetadata message, then sends every call one masked
 * AudioData text frame every 20 ms, the calls spread evenly across the
 * 20 ms, for the given duration.  The frames are encoded once, before the
 * run (a 3.5 s cycle: 1.5 s of a voiced, speech-like signal around -20 dBFS
 * then 2 s of -60 dBFS noise, so a VAD sees both); sending one is a copy,
 * a 24-byte timestamp patch and a send().  Everything the server sends is
 * read and counted.  Every --ping-ms each call also sends a ping carrying
 * its send time: the pong's round trip includes the whole queue of audio
 * ahead of it in the server, so it shows a server falling behind.
 *
 * Output is one line per phase, "word key=value ...", for the driver:
 *   ready     all handshakes done (connected + metadata sent)
 *   audio-done  the audio phase and a short drain are over
 *   result    after the close handshakes
 * With --wait-signal the client waits for SIGUSR1 after "ready" and after
 * "audio-done", so the driver can sample the server between phases.
 *
 * Sink: accepts WebSocket upgrades, counts and discards data frames,
 * answers pings and closes.  SIGUSR1 prints a "sink ..." line.
 *
 * Build: cc -O2 -o acs-load acs-load.c -lcrypto -lm
 * (libcrypto only for the sink's Sec-WebSocket-Accept: SHA-1 and base64)
 */

#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>


#define FRAME_MS       20
#define FRAME_NS       ((int64_t) FRAME_MS * 1000000)
#define CYCLE_SPEECH   75           /* frames of speech-like signal: 1.5 s */
#define CYCLE_FRAMES   175          /* + 100 frames of noise: 3.5 s */
#define PFX            128          /* payload bytes kept per frame */
#define OUT_CAP        32768        /* per-connection backlog, bytes */
#define RBUF           65536
#define HS_CAP         4096
#define TS_LEN         24           /* 2024-05-30T06:25:02.948Z */

/* the RFC 6455 sample key and its accept value */
#define WS_KEY         "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT      "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define WS_GUID        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/*
 * log-linear buckets of microseconds: exact below 64 us, then 64 per
 * power of two (1.6% wide), up to 2^40 us
 */
#define HIST_SUB       64
#define HIST_N         (HIST_SUB + 35 * HIST_SUB)


typedef struct {
    uint32_t   b[HIST_N];
    uint64_t   n;
    uint64_t   over;
    int64_t    max;
    double     sum;
} hist_t;


/* a streaming RFC 6455 frame reader that keeps only a payload prefix */

typedef struct {
    uint8_t    hdr[14];
    uint8_t    hlen;
    uint8_t    hneed;
    uint8_t    op;
    uint8_t    fin;
    uint8_t    masked;
    uint8_t    in_payload;
    uint8_t    mask[4];
    uint64_t   left;
    uint64_t   off;
    uint32_t   plen;
    uint8_t    pfx[PFX];
} wsp_t;

typedef int (*wsp_cb)(void *conn, int op, int fin, const uint8_t *pfx,
    uint32_t plen, uint64_t len);


enum {
    C_NEW = 0, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSING, C_DONE, C_FAILED
};

typedef struct {
    int        fd;
    uint8_t    state;
    uint8_t    close_sent;
    uint8_t    close_rcvd;
    uint8_t    want_out;
    uint32_t   id;
    uint32_t   cycle_off;
    char      *hs;              /* the 101 response, until it is complete */
    uint32_t   hslen;
    uint32_t   out_off;
    uint32_t   out_len;
    uint8_t   *out;
    wsp_t      wsp;
} conn_t;


typedef struct {
    uint8_t   *data;            /* a whole masked frame */
    uint32_t   len;
    uint32_t   ts_off;          /* where the timestamp value starts */
    uint8_t    mask[4];
    uint32_t   ts_pl_off;       /* the same, from the payload start */
} frame_t;


static struct {
    const char  *path;
    int          port;
    int          calls;
    double       duration;
    int          rate;
    int          ping_ms;
    int          wait_signal;
    int          idle_ms;
    int          max_pending;
    int          tick_us;
    int          drain_ms;
    int          close_ms;
    int          sink;
    int          free_port;
} opt = {
    "/ws/acs/media", 0, 200, 20.0, 16000, 2000, 0, 1000, 256, 1000, 500, 3000,
    0, 0
};


static struct {
    uint64_t   connected;
    uint64_t   failed;
    uint64_t   frames;          /* AudioData frames handed to the kernel */
    uint64_t   frames_dropped;  /* backlog full: server not reading */
    uint64_t   frames_skipped;  /* the call was no longer open */
    uint64_t   bytes;
    uint64_t   blocked;         /* sends that could not go out at once */
    uint64_t   late20;          /* frames sent a whole frame late or worse */
    uint64_t   pings;
    uint64_t   pongs;
    uint64_t   rx_audio;
    uint64_t   rx_stop;
    uint64_t   rx_other;
    uint64_t   rx_binary;
    uint64_t   rx_ping;
    uint64_t   rx_close;
    uint64_t   rx_bytes;
    uint64_t   dropped_by_server;  /* closed or reset before our close */
    uint64_t   closed_clean;
    uint64_t   closed_unclean;
} st;


static hist_t             lat_hist;   /* send time - due time */
static hist_t             rtt_hist;   /* ping round trip */
static volatile sig_atomic_t  got_usr1, got_term;
static int                ep;
static uint8_t            rbuf[RBUF];
static conn_t            *conns;
static frame_t            frames[CYCLE_FRAMES];
static int                early_reports;


static int64_t
mono_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static int64_t
cpu_us(void)
{
    struct rusage  ru;

    getrusage(RUSAGE_SELF, &ru);
    return (int64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000
           + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}


/* ns this process waited on a run queue for a CPU (schedstat field 2) */

static int64_t
runq_wait_ns(void)
{
    FILE               *f;
    unsigned long long  run, wait;

    f = fopen("/proc/self/schedstat", "r");
    if (f == NULL) {
        return 0;
    }

    if (fscanf(f, "%llu %llu", &run, &wait) != 2) {
        wait = 0;
    }

    fclose(f);

    return (int64_t) wait;
}


static void
on_signal(int sig)
{
    if (sig == SIGUSR1) {
        got_usr1 = 1;

    } else {
        got_term = 1;
    }
}


static void
hist_add(hist_t *h, int64_t ns)
{
    uint64_t  i, us;
    int       e;

    if (ns < 0) {
        ns = 0;
    }

    us = (uint64_t) ns / 1000;

    if (us < HIST_SUB) {
        i = us;

    } else {
        e = 63 - __builtin_clzll(us);          /* >= 6 */
        i = HIST_SUB + (uint64_t) (e - 6) * HIST_SUB
            + ((us >> (e - 6)) & (HIST_SUB - 1));
    }

    if (i < HIST_N) {
        h->b[i]++;

    } else {
        h->over++;
    }

    h->n++;
    h->sum += (double) ns;

    if (ns > h->max) {
        h->max = ns;
    }
}


/* in ms: the upper edge of the bucket holding the p-th fraction */

static double
hist_pct(const hist_t *h, double p)
{
    uint64_t  want, acc, up;
    int       i, e;

    if (h->n == 0) {
        return 0;
    }

    want = (uint64_t) ceil(p * (double) h->n);
    if (want == 0) {
        want = 1;
    }

    acc = 0;

    for (i = 0; i < HIST_N; i++) {
        acc += h->b[i];
        if (acc >= want) {
            if (i < HIST_SUB) {
                up = (uint64_t) i + 1;

            } else {
                e = (i - HIST_SUB) / HIST_SUB + 6;
                up = (uint64_t) (HIST_SUB + (i - HIST_SUB) % HIST_SUB + 1)
                     << (e - 6);
            }

            /* never above what was seen */
            return fmin((double) up / 1e3, (double) h->max / 1e6);
        }
    }

    return (double) h->max / 1e6;
}


static void
hist_print(const char *name, const hist_t *h)
{
    printf(" %s_n=%llu %s_p50_ms=%.2f %s_p99_ms=%.2f %s_p999_ms=%.2f"
           " %s_max_ms=%.2f %s_mean_ms=%.3f",
           name, (unsigned long long) h->n, name, hist_pct(h, 0.50),
           name, hist_pct(h, 0.99), name, hist_pct(h, 0.999),
           name, (double) h->max / 1e6,
           name, h->n ? h->sum / (double) h->n / 1e6 : 0.0);
}


static int
ep_set(int op, int fd, uint32_t events, void *ptr)
{
    struct epoll_event  ev;

    ev.events = events;
    ev.data.ptr = ptr;

    return epoll_ctl(ep, op, fd, &ev);
}


static int
wsp_feed(wsp_t *w, const uint8_t *p, size_t n, wsp_cb cb, void *conn)
{
    size_t    take, c, j;
    uint64_t  len;
    uint8_t   len7;
    int       extra;

    while (n) {

        if (!w->in_payload) {
            if (w->hneed == 0) {
                w->hneed = 2;
            }

            take = w->hneed - w->hlen;
            if (take > n) {
                take = n;
            }

            memcpy(w->hdr + w->hlen, p, take);
            w->hlen += take;
            p += take;
            n -= take;

            if (w->hlen < w->hneed) {
                continue;
            }

            len7 = w->hdr[1] & 0x7f;

            if (w->hneed == 2) {
                extra = (len7 == 126 ? 2 : len7 == 127 ? 8 : 0)
                        + ((w->hdr[1] & 0x80) ? 4 : 0);
                if (extra) {
                    w->hneed = 2 + extra;
                    continue;
                }
            }

            w->fin = w->hdr[0] >> 7;
            w->op = w->hdr[0] & 0x0f;
            w->masked = w->hdr[1] >> 7;

            if (len7 == 126) {
                len = ((uint64_t) w->hdr[2] << 8) | w->hdr[3];

            } else if (len7 == 127) {
                len = 0;
                for (j = 0; j < 8; j++) {
                    len = (len << 8) | w->hdr[2 + j];
                }

            } else {
                len = len7;
            }

            if (w->masked) {
                memcpy(w->mask, w->hdr + w->hneed - 4, 4);
            }

            w->left = len;
            w->off = 0;
            w->plen = 0;
            w->hlen = 0;
            w->hneed = 0;

            if (len == 0) {
                if (cb(conn, w->op, w->fin, w->pfx, 0, 0)) {
                    return 1;
                }
                continue;
            }

            w->in_payload = 1;
            continue;
        }

        take = n < w->left ? n : (size_t) w->left;

        if (w->off < PFX) {
            c = PFX - w->off;
            if (c > take) {
                c = take;
            }

            for (j = 0; j < c; j++) {
                w->pfx[w->off + j] = p[j]
                                     ^ (w->masked ? w->mask[(w->off + j) & 3]
                                                  : 0);
            }

            w->plen += c;
        }

        w->off += take;
        w->left -= take;
        p += take;
        n -= take;

        if (w->left == 0) {
            w->in_payload = 0;
            if (cb(conn, w->op, w->fin, w->pfx, w->plen, w->off)) {
                return 1;
            }
        }
    }

    return 0;
}


/* a frame header; mask NULL for a server frame */

static size_t
ws_header(uint8_t *h, int op, uint64_t len, const uint8_t *mask)
{
    size_t  n;

    h[0] = 0x80 | (uint8_t) op;

    if (len < 126) {
        h[1] = (uint8_t) len;
        n = 2;

    } else if (len < 65536) {
        h[1] = 126;
        h[2] = (uint8_t) (len >> 8);
        h[3] = (uint8_t) len;
        n = 4;

    } else {
        h[1] = 127;
        for (n = 0; n < 8; n++) {
            h[2 + n] = (uint8_t) (len >> (56 - 8 * n));
        }
        n = 10;
    }

    if (mask) {
        h[1] |= 0x80;
        memcpy(h + n, mask, 4);
        n += 4;
    }

    return n;
}


static uint32_t  rng_state = 0x9e3779b9;

static uint32_t
rng(void)
{
    /* xorshift32: the mask keys and the noise need no more */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}


/* a whole masked frame into out (room for len + 14) */

static size_t
ws_masked(uint8_t *out, int op, const uint8_t *payload, size_t len)
{
    size_t   n, i;
    uint8_t  mask[4];
    uint32_t r;

    r = rng();
    memcpy(mask, &r, 4);

    n = ws_header(out, op, len, mask);

    for (i = 0; i < len; i++) {
        out[n + i] = payload[i] ^ mask[i & 3];
    }

    return n + len;
}


/* ---- the audio --------------------------------------------------------- */

static void
b64(char *out, const uint8_t *in, size_t len)
{
    EVP_EncodeBlock((unsigned char *) out, in, (int) len);
}


/*
 * 3.5 s cycle at the given rate: 1.5 s of a vowel-like buzz (a gliding
 * 110-170 Hz fundamental with 12 harmonics, syllable-rate amplitude
 * modulation) normalised to -20 dBFS RMS, then 2 s of noise at -60 dBFS.
 * The noise runs under the speech too.
 */

static int
make_frames(void)
{
    int        spf, i, k, h, idx;
    size_t     pcm_bytes, b64_len, plen, hl;
    double     t, f0, phase, env, v, sum, scale, rms, *sig;
    int16_t   *pcm;
    uint8_t   *payload, mask[4];
    char       head[160];
    uint32_t   r;
    int        voiced;

    spf = opt.rate / 1000 * FRAME_MS;
    pcm_bytes = (size_t) spf * 2;
    b64_len = (pcm_bytes + 2) / 3 * 4;

    sig = calloc((size_t) spf * CYCLE_FRAMES, sizeof(double));
    pcm = calloc((size_t) spf, sizeof(int16_t));
    payload = malloc(b64_len + 512);
    if (sig == NULL || pcm == NULL || payload == NULL) {
        goto failed;
    }

    phase = 0;
    sum = 0;

    for (i = 0; i < spf * CYCLE_SPEECH; i++) {
        t = (double) i / opt.rate;
        f0 = 140 + 30 * sin(2 * M_PI * 0.7 * t);
        phase += 2 * M_PI * f0 / opt.rate;
        env = 0.6 + 0.4 * sin(2 * M_PI * 4.0 * t);

        v = 0;
        for (h = 1; h <= 12; h++) {
            /* a formant-ish bump near the 4th-6th harmonics */
            v += sin(h * phase) / h * (h >= 4 && h <= 6 ? 2.0 : 1.0);
        }

        sig[i] = v * env;
        sum += sig[i] * sig[i];
    }

    rms = sqrt(sum / (spf * CYCLE_SPEECH));
    scale = 32768.0 * pow(10.0, -20.0 / 20.0) / rms;

    for (i = 0; i < spf * CYCLE_FRAMES; i++) {
        /* uniform noise of RMS a / sqrt(3): a = 32768 * 10^-3 * sqrt(3) */
        v = ((double) (rng() & 0xffff) / 32768.0 - 1.0)
            * 32.768 * sqrt(3.0);
        sig[i] = (i < spf * CYCLE_SPEECH ? sig[i] * scale : 0) + v;
    }

    voiced = 0;

    for (k = 0; k < CYCLE_FRAMES; k++) {
        sum = 0;

        for (i = 0; i < spf; i++) {
            v = round(sig[k * spf + i]);
            v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
            pcm[i] = (int16_t) v;
            sum += v * v;
        }

        if (10 * log10(sum / spf / (32768.0 * 32768.0) + 1e-20) >= -40) {
            voiced++;
        }

        /* little-endian PCM16: the host order on every target here */
        hl = (size_t) snprintf(head, sizeof(head),
                               "{\"kind\":\"AudioData\",\"audioData\":{"
                               "\"timestamp\":\"");

        plen = 0;
        memcpy(payload, head, hl);
        plen = hl;
        frames[k].ts_pl_off = (uint32_t) plen;
        memcpy(payload + plen, "2024-05-30T06:25:02.948Z", TS_LEN);
        plen += TS_LEN;
        plen += (size_t) sprintf((char *) payload + plen,
                                 "\",\"participantRawID\":\"4:+15550100\","
                                 "\"data\":\"");
        b64((char *) payload + plen, (const uint8_t *) pcm, pcm_bytes);
        plen += b64_len;
        plen += (size_t) sprintf((char *) payload + plen,
                                 "\",\"silent\":false}}");

        frames[k].data = malloc(plen + 14);
        if (frames[k].data == NULL) {
            goto failed;
        }

        r = rng();
        memcpy(mask, &r, 4);
        memcpy(frames[k].mask, mask, 4);

        idx = (int) ws_header(frames[k].data, 1, plen, mask);
        frames[k].ts_off = (uint32_t) idx + frames[k].ts_pl_off;

        for (i = 0; i < (int) plen; i++) {
            frames[k].data[idx + i] = payload[i] ^ mask[i & 3];
        }

        frames[k].len = (uint32_t) (idx + plen);
    }

    fprintf(stderr, "acs-load: %d-frame cycle (%d ms), %d frames above "
            "-40 dBFS, message %u bytes (%zu bytes base64)\n",
            CYCLE_FRAMES, CYCLE_FRAMES * FRAME_MS, voiced,
            frames[0].len, b64_len);

    free(sig);
    free(pcm);
    free(payload);

    return 0;

failed:

    /* the process exits on this error: the frames made so far go with it */
    free(sig);
    free(pcm);
    free(payload);

    return -1;
}


/* ---- client -------------------------------------------------------------- */

static int   phase_audio;     /* frames are being scheduled */
static int   phase_close;

static void
conn_end(conn_t *c, int state)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }

    free(c->out);
    c->out = NULL;
    free(c->hs);
    c->hs = NULL;
    c->state = (uint8_t) state;
}


/* a peer that went away (or was never there) */

static void
conn_lost(conn_t *c, const char *why)
{
    if (c->state == C_CONNECTING || c->state == C_HANDSHAKE) {
        st.failed++;
        if (early_reports++ < 5) {
            fprintf(stderr, "acs-load: call %u: handshake failed: %s\n",
                    c->id, why);
        }
        conn_end(c, C_FAILED);
        return;
    }

    if (c->state == C_CLOSING) {
        if (c->close_rcvd) {
            st.closed_clean++;
        } else {
            st.closed_unclean++;
        }
        conn_end(c, C_DONE);
        return;
    }

    if (c->state == C_OPEN) {
        st.dropped_by_server++;
        if (early_reports++ < 5) {
            fprintf(stderr, "acs-load: call %u: connection lost: %s\n",
                    c->id, why);
        }
        conn_end(c, C_DONE);
    }
}


static int
conn_flush(conn_t *c)
{
    ssize_t  n;

    while (c->out_off < c->out_len) {
        n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                 MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                break;
            }
            return -1;
        }

        c->out_off += (uint32_t) n;
    }

    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
        if (c->want_out) {
            c->want_out = 0;
            ep_set(EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLRDHUP, c);
        }

    } else if (!c->want_out) {
        c->want_out = 1;
        ep_set(EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, c);
    }

    return 0;
}


/* 0 sent or queued, 1 dropped (backlog full), -1 connection error */

static int
conn_send(conn_t *c, const uint8_t *buf, size_t len)
{
    ssize_t  n;

    if (c->out_len == c->out_off) {
        n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n == (ssize_t) len) {
            return 0;
        }

        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                return -1;
            }
            n = 0;
        }

        st.blocked++;
        buf += n;
        len -= (size_t) n;
        c->out_off = c->out_len = 0;

    } else if (c->out_len + len > OUT_CAP) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;

        if (c->out_len + len > OUT_CAP) {
            return 1;
        }
    }

    memcpy(c->out + c->out_len, buf, len);
    c->out_len += (uint32_t) len;

    return conn_flush(c);
}


static void
classify(const uint8_t *p, uint32_t n)
{
    char      low[PFX + 1];
    uint32_t  i;

    for (i = 0; i < n; i++) {
        low[i] = (char) ((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
    }
    low[n] = '\0';

    if (strstr(low, "\"kind\":\"audiodata\"")) {
        st.rx_audio++;

    } else if (strstr(low, "\"kind\":\"stopaudio\"")) {
        st.rx_stop++;

    } else {
        st.rx_other++;
    }
}


static int
client_frame(void *arg, int op, int fin, const uint8_t *pfx, uint32_t plen,
    uint64_t len)
{
    conn_t   *c = arg;
    uint8_t   f[PFX + 16];
    int64_t   sent;
    size_t    n;

    (void) fin;

    st.rx_bytes += len;

    switch (op) {

    case 1:
        classify(pfx, plen);
        break;

    case 2:
        st.rx_binary++;
        break;

    case 9:
        st.rx_ping++;
        n = ws_masked(f, 10, pfx, plen > 125 ? 125 : plen);
        if (conn_send(c, f, n) < 0) {
            conn_lost(c, "send failed");
            return 1;
        }
        break;

    case 10:
        if (plen == 8) {
            memcpy(&sent, pfx, 8);
            hist_add(&rtt_hist, mono_ns() - sent);
            st.pongs++;
        }
        break;

    case 8:
        st.rx_close++;
        c->close_rcvd = 1;

        if (c->state == C_OPEN && early_reports++ < 5) {
            fprintf(stderr, "acs-load: call %u: server closed with %d "
                    "\"%.*s\"\n", c->id,
                    plen >= 2 ? (pfx[0] << 8 | pfx[1]) : 0,
                    plen > 2 ? (int) plen - 2 : 0, (const char *) pfx + 2);
        }

        if (!c->close_sent) {
            n = ws_masked(f, 8, pfx, plen >= 2 ? 2 : 0);
            (void) conn_send(c, f, n);
            c->close_sent = 1;
        }

        /* the close handshake is over: the client may drop the TCP */
        conn_lost(c, "closed by the server");
        return 1;

    default:
        break;
    }

    return 0;
}


static void
conn_start(conn_t *c)
{
    struct sockaddr_in  sa;
    int                 one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_lost(c, strerror(errno));
        return;
    }

    c->state = C_CONNECTING;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) opt.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0
        && errno != EINPROGRESS)
    {
        conn_lost(c, strerror(errno));
        return;
    }

    if (ep_set(EPOLL_CTL_ADD, c->fd, EPOLLOUT | EPOLLRDHUP, c) < 0) {
        conn_lost(c, strerror(errno));
    }
}


static void
conn_connected(conn_t *c)
{
    int        err = 0;
    socklen_t  sl = sizeof(err);
    char       req[512];
    int        n;

    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
    if (err) {
        conn_lost(c, strerror(err));
        return;
    }

    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\n"
                 "Host: 127.0.0.1:%d\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Key: " WS_KEY "\r\n"
                 "Sec-WebSocket-Version: 13\r\n"
                 "x-ms-call-connection-id: bench-%u-%d\r\n"
                 "\r\n", opt.path, opt.port, c->id, (int) getpid());

    c->out = malloc(OUT_CAP);
    c->hs = malloc(HS_CAP);
    if (c->out == NULL || c->hs == NULL) {
        conn_lost(c, "out of memory");
        return;
    }

    c->state = C_HANDSHAKE;
    c->want_out = 0;

    if (ep_set(EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLRDHUP, c) < 0) {
        conn_lost(c, strerror(errno));
        return;
    }

    if (conn_send(c, (uint8_t *) req, (size_t) n) != 0) {
        conn_lost(c, "send failed");
    }
}


static int
conn_handshake(conn_t *c, const uint8_t *p, size_t n)
{
    char      *end, *line, meta[256];
    uint8_t    f[300];
    size_t     hl, m;
    int        ok;

    if (c->hslen + n >= HS_CAP) {
        conn_lost(c, "response header too long");
        return -1;
    }

    memcpy(c->hs + c->hslen, p, n);
    c->hslen += (uint32_t) n;
    c->hs[c->hslen] = '\0';

    end = strstr(c->hs, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }

    hl = (size_t) (end + 4 - c->hs);

    if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0) {
        line = strchr(c->hs, '\r');
        if (line) {
            *line = '\0';
        }
        conn_lost(c, c->hs);
        return -1;
    }

    ok = 0;
    for (line = strstr(c->hs, "\r\n"); line && line < end;
         line = strstr(line + 2, "\r\n"))
    {
        if (strncasecmp(line + 2, "Sec-WebSocket-Accept:", 21) == 0) {
            line += 23;
            while (*line == ' ') {
                line++;
            }
            ok = strncmp(line, WS_ACCEPT, sizeof(WS_ACCEPT) - 1) == 0;
            break;
        }
    }

    if (!ok) {
        conn_lost(c, "wrong or missing Sec-WebSocket-Accept");
        return -1;
    }

    c->state = C_OPEN;
    st.connected++;

    m = (size_t) snprintf(meta, sizeof(meta),
                          "{\"kind\":\"AudioMetadata\",\"audioMetadata\":{"
                          "\"subscriptionId\":\"%08x-7c1a-4c3e-9b1e-%012x\","
                          "\"encoding\":\"PCM\",\"sampleRate\":%d,"
                          "\"channels\":1,\"length\":%d}}",
                          c->id, c->id, opt.rate,
                          opt.rate / 1000 * FRAME_MS * 2);

    if (conn_send(c, f, ws_masked(f, 1, (uint8_t *) meta, m)) != 0) {
        conn_lost(c, "send failed");
        return -1;
    }

    /* frames that came with the 101 */
    if (c->hslen > hl) {
        if (wsp_feed(&c->wsp, (uint8_t *) c->hs + hl, c->hslen - hl,
                     client_frame, c))
        {
            return -1;
        }
    }

    free(c->hs);
    c->hs = NULL;

    return 1;
}


static void
conn_read(conn_t *c)
{
    ssize_t  n;

    for (;;) {
        n = recv(c->fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);

        if (n > 0) {
            if (c->state == C_HANDSHAKE) {
                if (conn_handshake(c, rbuf, (size_t) n) < 0) {
                    return;
                }
                continue;
            }

            if (wsp_feed(&c->wsp, rbuf, (size_t) n, client_frame, c)) {
                return;
            }

            if ((size_t) n < sizeof(rbuf)) {
                return;
            }
            continue;
        }

        if (n == 0) {
            conn_lost(c, "eof");
            return;
        }

        if (errno == EAGAIN || errno == EINTR) {
            return;
        }

        conn_lost(c, strerror(errno));
        return;
    }
}


static void
conn_event(conn_t *c, uint32_t ev)
{
    if (c->state == C_CONNECTING) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            conn_connected(c);
        }
        return;
    }

    if (ev & EPOLLOUT) {
        if (conn_flush(c) < 0) {
            conn_lost(c, "send failed");
            return;
        }
    }

    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        conn_read(c);
    }
}


static void
close_all(void)
{
    static const uint8_t  code[2] = { 0x03, 0xe8 };
    uint8_t               f[16];
    conn_t               *c;
    int                   i;

    for (i = 0; i < opt.calls; i++) {
        c = &conns[i];
        if (c->state != C_OPEN) {
            continue;
        }

        c->state = C_CLOSING;
        c->close_sent = 1;

        if (conn_send(c, f, ws_masked(f, 8, code, 2)) < 0) {
            conn_lost(c, "send failed");
        }
    }
}


static int
open_calls(int closing)
{
    int  i, n = 0;

    for (i = 0; i < opt.calls; i++) {
        if (conns[i].state == C_OPEN
            || (closing && conns[i].state == C_CLOSING))
        {
            n++;
        }
    }

    return n;
}


/* the wall-clock timestamp of a frame, as ACS writes it */

static void
fmt_ts(char *out, int64_t wall_ns)
{
    static time_t  cached = -1;
    static char    secs[32];
    time_t         s;
    struct tm      tm;
    int            ms;

    s = (time_t) (wall_ns / 1000000000);
    ms = (int) (wall_ns / 1000000 % 1000);

    if (s != cached) {
        gmtime_r(&s, &tm);
        strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
        cached = s;
    }

    memcpy(out, secs, 19);
    out[19] = '.';
    out[20] = (char) ('0' + ms / 100);
    out[21] = (char) ('0' + ms / 10 % 10);
    out[22] = (char) ('0' + ms % 10);
    out[23] = 'Z';
}


static void
send_audio(conn_t *c, uint64_t k, int64_t due_off, int64_t wall0, int64_t lat)
{
    uint8_t         buf[4096];
    const frame_t  *f;
    char            ts[TS_LEN];
    uint32_t        j;
    int             rc;

    f = &frames[(c->cycle_off + k) % CYCLE_FRAMES];

    memcpy(buf, f->data, f->len);
    fmt_ts(ts, wall0 + due_off);

    for (j = 0; j < TS_LEN; j++) {
        buf[f->ts_off + j] = (uint8_t) ts[j]
                             ^ f->mask[(f->ts_pl_off + j) & 3];
    }

    rc = conn_send(c, buf, f->len);

    if (rc < 0) {
        conn_lost(c, "send failed");
        return;
    }

    if (rc == 1) {
        st.frames_dropped++;
        return;
    }

    st.frames++;
    st.bytes += f->len;
    hist_add(&lat_hist, lat);

    if (lat >= FRAME_NS) {
        st.late20++;
    }
}


static void
send_ping(conn_t *c)
{
    uint8_t  f[32];
    int64_t  now;

    now = mono_ns();

    if (conn_send(c, f, ws_masked(f, 9, (uint8_t *) &now, 8)) < 0) {
        conn_lost(c, "send failed");
        return;
    }

    st.pings++;
}


static int
client(void)
{
    struct epoll_event  evs[512];
    struct timespec     tw;
    int64_t             now, t0, wall0, due, audio_end, close_end, idle_end;
    int64_t             cpu0, cpu1, wall_audio, tick, wait0, wait1;
    int64_t             connect_start;
    uint64_t            seq, nseq, k, ping_every;
    struct timespec     rt;
    int                 i, n, pending, next, ready, done, burst;
    conn_t             *c;

    if (make_frames() != 0) {
        fprintf(stderr, "acs-load: out of memory\n");
        return 1;
    }

    conns = calloc((size_t) opt.calls, sizeof(conn_t));
    if (conns == NULL) {
        return 1;
    }

    for (i = 0; i < opt.calls; i++) {
        conns[i].fd = -1;
        conns[i].id = (uint32_t) i;
        /* calls are at different points of the cycle */
        conns[i].cycle_off = (uint32_t) ((uint64_t) i * 37 % CYCLE_FRAMES);
    }

    ep = epoll_create1(EPOLL_CLOEXEC);

    nseq = (uint64_t) (opt.duration * 1000 / FRAME_MS) * (uint64_t) opt.calls;
    ping_every = opt.ping_ms > 0 ? (uint64_t) opt.ping_ms / FRAME_MS : 0;

    next = 0;
    ready = 0;
    done = 0;
    seq = 0;
    t0 = wall0 = audio_end = close_end = idle_end = 0;
    cpu0 = cpu1 = wall_audio = wait0 = wait1 = 0;

    connect_start = mono_ns();

    for (;;) {
        now = mono_ns();

        /* connection set-up, a bounded number of handshakes at a time */
        if (!ready) {
            pending = 0;
            for (i = 0; i < next; i++) {
                if (conns[i].state == C_CONNECTING
                    || conns[i].state == C_HANDSHAKE)
                {
                    pending++;
                }
            }

            while (next < opt.calls && pending < opt.max_pending) {
                conn_start(&conns[next++]);
                pending++;
            }

            if (next == opt.calls
                && st.connected + st.failed == (uint64_t) opt.calls)
            {
                ready = 1;
                printf("ready calls=%d connected=%llu failed=%llu "
                       "connect_ms=%.1f\n", opt.calls,
                       (unsigned long long) st.connected,
                       (unsigned long long) st.failed,
                       (double) (now - connect_start) / 1e6);
                fflush(stdout);
                got_usr1 = 0;
                idle_end = now + (int64_t) opt.idle_ms * 1000000;
            }
        }

        /* idle: connected, metadata sent, no audio yet */
        if (ready && !t0 && !done
            && (opt.wait_signal ? got_usr1 : now >= idle_end))
        {
            got_usr1 = 0;
            /* the first frames go out 1 ms from now */
            t0 = now + 1000000;
            clock_gettime(CLOCK_REALTIME, &rt);
            wall0 = (int64_t) rt.tv_sec * 1000000000 + rt.tv_nsec + 1000000;
            cpu0 = cpu_us();
            wait0 = runq_wait_ns();
            phase_audio = 1;
        }

        if (phase_audio) {
            for (burst = 0; seq < nseq && burst < 512; burst++) {
                k = seq / (uint64_t) opt.calls;
                i = (int) (seq % (uint64_t) opt.calls);
                due = t0 + (int64_t) k * FRAME_NS
                      + (int64_t) i * FRAME_NS / opt.calls;

                if (due > now) {
                    now = mono_ns();
                    if (due > now) {
                        break;
                    }
                }

                c = &conns[i];

                if (c->state == C_OPEN) {
                    send_audio(c, k, due - t0, wall0, now - due);

                    if (ping_every && c->state == C_OPEN
                        && (k + (uint64_t) i) % ping_every == 0)
                    {
                        send_ping(c);
                    }

                } else {
                    st.frames_skipped++;
                }

                seq++;
            }

            if (seq == nseq) {
                phase_audio = 0;
                wall_audio = now - t0;
                audio_end = now + (int64_t) opt.drain_ms * 1000000;
            }
        }

        if (audio_end && !done && now >= audio_end) {
            done = 1;
            cpu1 = cpu_us();
            wait1 = runq_wait_ns();
            printf("audio-done open=%d frames=%llu dropped=%llu skipped=%llu"
                   " late20=%llu blocked=%llu rx_audio=%llu rx_stop=%llu"
                   " pings=%llu pongs=%llu dropped_by_server=%llu"
                   " client_cpu_us=%lld client_runq_ms=%.1f audio_ms=%.1f\n",
                   open_calls(0), (unsigned long long) st.frames,
                   (unsigned long long) st.frames_dropped,
                   (unsigned long long) st.frames_skipped,
                   (unsigned long long) st.late20,
                   (unsigned long long) st.blocked,
                   (unsigned long long) st.rx_audio,
                   (unsigned long long) st.rx_stop,
                   (unsigned long long) st.pings,
                   (unsigned long long) st.pongs,
                   (unsigned long long) st.dropped_by_server,
                   (long long) (cpu1 - cpu0), (double) (wait1 - wait0) / 1e6,
                   (double) wall_audio / 1e6);
            fflush(stdout);
            got_usr1 = 0;
        }

        if (done && !phase_close && (!opt.wait_signal || got_usr1)) {
            phase_close = 1;
            close_end = now + (int64_t) opt.close_ms * 1000000;
            close_all();
        }

        if (phase_close && (open_calls(1) == 0 || now >= close_end)) {
            for (i = 0; i < opt.calls; i++) {
                c = &conns[i];
                if (c->state == C_CLOSING || c->state == C_OPEN) {
                    st.closed_unclean++;
                    conn_end(c, C_DONE);
                }
            }
            break;
        }

        if (got_term) {
            fprintf(stderr, "acs-load: interrupted\n");
            return 1;
        }

        /* sleep until the next frame is due, or an event */
        if (phase_audio && seq < nseq) {
            k = seq / (uint64_t) opt.calls;
            i = (int) (seq % (uint64_t) opt.calls);
            due = t0 + (int64_t) k * FRAME_NS
                  + (int64_t) i * FRAME_NS / opt.calls;

            /*
             * wake on a grid of --tick-us: frames due within one tick
             * go out together, which spares the client a wake-up per
             * frame (the calls are still staggered at tick resolution)
             */
            if (opt.tick_us > 0) {
                tick = (int64_t) opt.tick_us * 1000;
                due = t0 + (due - t0 + tick - 1) / tick * tick;
            }

            due -= mono_ns();
            if (due < 0) {
                due = 0;
            }

        } else {
            due = 50000000;
        }

        tw.tv_sec = due / 1000000000;
        tw.tv_nsec = due % 1000000000;

        n = epoll_pwait2(ep, evs, 512, &tw, NULL);

        if (n < 0 && errno == ENOSYS) {
            n = epoll_wait(ep, evs, 512, (int) ((due + 999999) / 1000000));
        }

        for (i = 0; i < n; i++) {
            c = evs[i].data.ptr;
            if (c->fd >= 0) {
                conn_event(c, evs[i].events);
            }
        }
    }

    printf("result calls=%d connected=%llu failed=%llu frames=%llu"
           " frames_dropped=%llu frames_skipped=%llu bytes=%llu"
           " late20=%llu blocked=%llu pings=%llu pongs=%llu"
           " rx_audio=%llu rx_stop=%llu rx_other=%llu rx_binary=%llu"
           " rx_ping=%llu rx_close=%llu rx_bytes=%llu"
           " dropped_by_server=%llu closed_clean=%llu closed_unclean=%llu"
           " client_cpu_us=%lld client_runq_ms=%.1f audio_ms=%.1f",
           opt.calls, (unsigned long long) st.connected,
           (unsigned long long) st.failed, (unsigned long long) st.frames,
           (unsigned long long) st.frames_dropped,
           (unsigned long long) st.frames_skipped,
           (unsigned long long) st.bytes, (unsigned long long) st.late20,
           (unsigned long long) st.blocked, (unsigned long long) st.pings,
           (unsigned long long) st.pongs, (unsigned long long) st.rx_audio,
           (unsigned long long) st.rx_stop, (unsigned long long) st.rx_other,
           (unsigned long long) st.rx_binary,
           (unsigned long long) st.rx_ping, (unsigned long long) st.rx_close,
           (unsigned long long) st.rx_bytes,
           (unsigned long long) st.dropped_by_server,
           (unsigned long long) st.closed_clean,
           (unsigned long long) st.closed_unclean,
           (long long) (cpu1 - cpu0), (double) (wait1 - wait0) / 1e6,
           (double) wall_audio / 1e6);
    hist_print("late", &lat_hist);
    hist_print("rtt", &rtt_hist);
    printf("\n");
    fflush(stdout);

    return 0;
}


/* ---- sink ------------------------------------------------------------------ */

typedef struct {
    int        fd;
    uint8_t    open;
    uint8_t    closing;
    char      *hs;
    uint32_t   hslen;
    wsp_t      wsp;
} sconn_t;


static struct {
    uint64_t   accepted;
    uint64_t   open;
    uint64_t   frames;
    uint64_t   bytes;
    uint64_t   pings;
    uint64_t   closes;
} sk;

static int  listen_fd;


static void
sink_print(void)
{
    printf("sink accepted=%llu open=%llu frames=%llu bytes=%llu pings=%llu"
           " closes=%llu cpu_us=%lld\n",
           (unsigned long long) sk.accepted, (unsigned long long) sk.open,
           (unsigned long long) sk.frames, (unsigned long long) sk.bytes,
           (unsigned long long) sk.pings, (unsigned long long) sk.closes,
           (long long) cpu_us());
    fflush(stdout);
}


static void
sink_end(sconn_t *s)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);

    if (s->open) {
        sk.open--;
    }

    free(s->hs);
    free(s);
}


/* the sink's replies are a few bytes: a full socket buffer drops them */

static void
sink_send(sconn_t *s, const uint8_t *p, size_t n)
{
    (void) send(s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}


static int
sink_frame(void *arg, int op, int fin, const uint8_t *pfx, uint32_t plen,
    uint64_t len)
{
    sconn_t  *s = arg;
    uint8_t   f[PFX + 16];
    size_t    n;

    (void) fin;

    switch (op) {

    case 1:
    case 2:
        sk.frames++;
        sk.bytes += len;
        break;

    case 9:
        sk.pings++;
        plen = plen > 125 ? 125 : plen;
        n = ws_header(f, 10, plen, NULL);
        memcpy(f + n, pfx, plen);
        sink_send(s, f, n + plen);
        break;

    case 8:
        sk.closes++;
        if (!s->closing) {
            n = ws_header(f, 8, plen >= 2 ? 2 : 0, NULL);
            memcpy(f + n, pfx, plen >= 2 ? 2 : 0);
            sink_send(s, f, n + (plen >= 2 ? 2 : 0));
            shutdown(s->fd, SHUT_WR);
            s->closing = 1;
        }
        break;

    default:
        break;
    }

    return 0;
}


static int
sink_handshake(sconn_t *s, const uint8_t *p, size_t n)
{
    char           *end, *line, *key, *e, resp[256], acc[64];
    unsigned char   md[SHA_DIGEST_LENGTH], buf[128];
    size_t          hl, kl;
    int             m;

    if (s->hslen + n >= HS_CAP) {
        return -1;
    }

    memcpy(s->hs + s->hslen, p, n);
    s->hslen += (uint32_t) n;
    s->hs[s->hslen] = '\0';

    end = strstr(s->hs, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }

    hl = (size_t) (end + 4 - s->hs);
    key = NULL;
    kl = 0;

    for (line = strstr(s->hs, "\r\n"); line && line < end;
         line = strstr(line + 2, "\r\n"))
    {
        if (strncasecmp(line + 2, "Sec-WebSocket-Key:", 18) == 0) {
            key = line + 20;
            while (*key == ' ') {
                key++;
            }
            e = strstr(key, "\r\n");
            kl = (size_t) (e - key);
            while (kl && key[kl - 1] == ' ') {
                kl--;
            }
            break;
        }
    }

    if (key == NULL || kl == 0 || kl > 64) {
        m = snprintf(resp, sizeof(resp), "HTTP/1.1 400 Bad Request\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n");
        sink_send(s, (uint8_t *) resp, (size_t) m);
        return -1;
    }

    memcpy(buf, key, kl);
    memcpy(buf + kl, WS_GUID, sizeof(WS_GUID) - 1);
    SHA1(buf, kl + sizeof(WS_GUID) - 1, md);
    EVP_EncodeBlock((unsigned char *) acc, md, SHA_DIGEST_LENGTH);

    m = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
    sink_send(s, (uint8_t *) resp, (size_t) m);

    s->open = 1;
    sk.open++;

    if (s->hslen > hl) {
        wsp_feed(&s->wsp, (uint8_t *) s->hs + hl, s->hslen - hl, sink_frame,
                 s);
    }

    free(s->hs);
    s->hs = NULL;

    return 1;
}


static void
sink_read(sconn_t *s)
{
    ssize_t  n;

    for (;;) {
        n = recv(s->fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);

        if (n > 0) {
            if (!s->open) {
                if (sink_handshake(s, rbuf, (size_t) n) < 0) {
                    sink_end(s);
                    return;
                }
                continue;
            }

            wsp_feed(&s->wsp, rbuf, (size_t) n, sink_frame, s);

            if ((size_t) n < sizeof(rbuf)) {
                return;
            }
            continue;
        }

        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }

        sink_end(s);
        return;
    }
}


static int
sink(void)
{
    struct sockaddr_in  sa;
    struct epoll_event  evs[512];
    socklen_t           sl;
    sconn_t            *s;
    int                 fd, i, n, one = 1;

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       0);
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) opt.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0
        || listen(listen_fd, 4096) < 0)
    {
        fprintf(stderr, "acs-load: sink: 127.0.0.1:%d: %s\n", opt.port,
                strerror(errno));
        return 1;
    }

    sl = sizeof(sa);
    getsockname(listen_fd, (struct sockaddr *) &sa, &sl);

    printf("listening port=%d\n", ntohs(sa.sin_port));
    fflush(stdout);

    ep = epoll_create1(EPOLL_CLOEXEC);
    ep_set(EPOLL_CTL_ADD, listen_fd, EPOLLIN, NULL);

    while (!got_term) {
        if (got_usr1) {
            got_usr1 = 0;
            sink_print();
        }

        n = epoll_wait(ep, evs, 512, 100);

        for (i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                while ((fd = accept4(listen_fd, NULL, NULL,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                {
                    s = calloc(1, sizeof(sconn_t));
                    if (s == NULL || (s->hs = malloc(HS_CAP)) == NULL) {
                        free(s);
                        close(fd);
                        continue;
                    }

                    s->fd = fd;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
                               sizeof(one));
                    ep_set(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP, s);
                    sk.accepted++;
                }
                continue;
            }

            sink_read(evs[i].data.ptr);
        }
    }

    sink_print();

    return 0;
}


static int
free_port(void)
{
    struct sockaddr_in  sa;
    socklen_t           sl;
    int                 fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    sl = sizeof(sa);
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0
        || getsockname(fd, (struct sockaddr *) &sa, &sl) < 0)
    {
        perror("acs-load");
        return 1;
    }

    printf("%d\n", ntohs(sa.sin_port));
    close(fd);

    return 0;
}


static void
usage(void)
{
    fprintf(stderr,
        "usage: acs-load --port P [--path /ws/acs/media] [--calls N]\n"
        "                [--duration S] [--rate 16000|24000] [--ping-ms MS]\n"
        "                [--idle-ms MS] [--wait-signal] [--max-pending N]\n"
        "                [--tick-us 1000]\n"
        "       acs-load --sink [--port P]\n"
        "       acs-load --free-port\n"
        "Connects to 127.0.0.1 only.\n");
}


int
main(int argc, char **argv)
{
    static const struct option  lo[] = {
        { "port", 1, NULL, 'p' },
        { "path", 1, NULL, 'u' },
        { "calls", 1, NULL, 'n' },
        { "duration", 1, NULL, 'd' },
        { "rate", 1, NULL, 'r' },
        { "ping-ms", 1, NULL, 'i' },
        { "idle-ms", 1, NULL, 'I' },
        { "max-pending", 1, NULL, 'm' },
        { "tick-us", 1, NULL, 't' },
        { "wait-signal", 0, NULL, 'w' },
        { "sink", 0, NULL, 's' },
        { "free-port", 0, NULL, 'f' },
        { "help", 0, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    struct sigaction  sa;
    int               ch;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'u': opt.path = optarg; break;
        case 'n': opt.calls = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'r': opt.rate = atoi(optarg); break;
        case 'i': opt.ping_ms = atoi(optarg); break;
        case 'I': opt.idle_ms = atoi(optarg); break;
        case 'm': opt.max_pending = atoi(optarg); break;
        case 't': opt.tick_us = atoi(optarg); break;
        case 'w': opt.wait_signal = 1; break;
        case 's': opt.sink = 1; break;
        case 'f': opt.free_port = 1; break;
        default: usage(); return 2;
        }
    }

    if (opt.free_port) {
        return free_port();
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;          /* no SA_RESTART: wake epoll */
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (opt.sink) {
        return sink();
    }

    if (opt.port <= 0 || opt.port > 65535 || opt.calls <= 0
        || opt.duration <= 0 || opt.max_pending <= 0
        || (opt.rate != 16000 && opt.rate != 24000) || opt.path[0] != '/')
    {
        usage();
        return 2;
    }

    return client();
}
