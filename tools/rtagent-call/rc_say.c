
/*
 * The caller's audio: a WAV file, or espeak-ng saying a line (its WAV read
 * from a pipe), as mono PCM16 at the call's rate (speexdsp through the
 * gateway's own resampler).  Each turn is made once per rate and shared
 * by every call, made before the first call starts.
 */


#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rc.h"
#include "rc_wav.h"
#include "ngx_http_rtagent_resample.h"


#define RC_SAY_MAX  (64 * 1024 * 1024)


extern char  **environ;


static int rc_read_all(int fd, uint8_t **buf, size_t *len);
static int rc_espeak(rc_opts_t *o, const char *text, uint8_t **buf,
    size_t *len, char *err, size_t errlen);


int
rc_turn_prepare(rc_opts_t *o, rc_turn_t *turn, char *err, size_t errlen)
{
    int                            fd, rc, i;
    long                           n;
    size_t                         len, mono_len, max;
    uint8_t                       *buf;
    int16_t                       *mono, *out;
    rc_wav_t                       wav;
    char                           why[128];
    unsigned                       rate;
    ngx_http_rtagent_resample_t    rs;

    buf = NULL;

    if (turn->text) {
        rc = rc_espeak(o, turn->text, &buf, &len, err, errlen);

    } else {
        fd = open(turn->wav, O_RDONLY);
        rc = fd == -1 ? -1 : rc_read_all(fd, &buf, &len);

        if (rc != 0) {
            snprintf(err, errlen, "%s: %s", turn->wav, strerror(errno));
        }

        if (fd != -1) {
            close(fd);
        }
    }

    if (rc != 0) {
        free(buf);
        return -1;
    }

    if (rc_wav_parse(buf, len, &wav, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", turn->label, why);
        free(buf);
        return -1;
    }

    mono = rc_wav_mono(&wav, &mono_len);
    free(buf);

    if (mono == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    /* both rates an answer may ask for (pcm16KMono, pcm24KMono) */
    for (i = 0; i < RC_RATES; i++) {
        rate = i ? 24000 : 16000;

        if (ngx_http_rtagent_resample_init(&rs, wav.rate, rate, 5) != 0) {
            snprintf(err, errlen, "%s: cannot convert %u Hz to %u Hz",
                     turn->label, wav.rate, rate);
            free(mono);
            return -1;
        }

        max = ngx_http_rtagent_resample_out_max(&rs, mono_len);
        out = malloc((max ? max : 1) * sizeof(int16_t));
        n = out ? ngx_http_rtagent_resample_run(&rs, mono, mono_len, out,
                                                max)
                : -1;
        ngx_http_rtagent_resample_free(&rs);

        if (n <= 0) {
            snprintf(err, errlen, "%s: %s", turn->label,
                     n == 0 ? "no audio" : "resampling failed");
            free(out);
            free(mono);
            return -1;
        }

        turn->pcm[i] = out;
        turn->samples[i] = (size_t) n;
    }

    free(mono);

    return 0;
}


static int
rc_read_all(int fd, uint8_t **buf, size_t *len)
{
    size_t    size;
    ssize_t   n;
    uint8_t  *p;

    *buf = NULL;
    *len = 0;
    size = 0;

    for ( ;; ) {
        if (*len == size) {
            if (size >= RC_SAY_MAX) {
                errno = EFBIG;
                return -1;
            }

            size = size ? 2 * size : 65536;
            p = realloc(*buf, size);

            if (p == NULL) {
                return -1;
            }

            *buf = p;
        }

        n = read(fd, *buf + *len, size - *len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            return -1;
        }

        if (n == 0) {
            return 0;
        }

        *len += (size_t) n;
    }
}


/* espeak-ng --stdout, run without a shell: the text is one argument */

static int
rc_espeak(rc_opts_t *o, const char *text, uint8_t **buf, size_t *len,
    char *err, size_t errlen)
{
    int                          fds[2], status, rc, e;
    pid_t                        pid;
    char                         rate[16];
    char                        *argv[10];
    posix_spawn_file_actions_t   fa;

    snprintf(rate, sizeof(rate), "%u", o->rate);

    argv[0] = "espeak-ng";
    argv[1] = "--stdout";
    argv[2] = "-v";
    argv[3] = (char *) o->voice;
    argv[4] = "-s";
    argv[5] = rate;
    argv[6] = "--";
    argv[7] = (char *) text;
    argv[8] = NULL;

    if (pipe(fds) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);

    rc = posix_spawnp(&pid, "espeak-ng", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);

    if (rc != 0) {
        close(fds[0]);
        snprintf(err, errlen, "cannot run espeak-ng: %s (install the "
                 "espeak-ng package)", strerror(rc));
        return -1;
    }

    rc = rc_read_all(fds[0], buf, len);
    e = errno;
    close(fds[0]);

    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
        /* void */
    }

    if (rc != 0) {
        snprintf(err, errlen, "espeak-ng output: %s", strerror(e));
        return -1;
    }

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || *len == 0) {
        snprintf(err, errlen, "espeak-ng failed on \"%s\" (voice %s)",
                 text, o->voice);
        return -1;
    }

    return 0;
}
