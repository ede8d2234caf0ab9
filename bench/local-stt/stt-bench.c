/*
 * Decodes 16 kHz PCM16 mono raw files with pocketsphinx as the local STT
 * does (blocks of 2048 samples, the decoder's first utterance decoded
 * once unheard), with the generic en-us model or with a search: -jsgf F
 * (a grammar), -phrases F (phrases one a line, made into the bigram FSG
 * by src/speech/ngx_http_rtagent_lm.c as nginx does), -fsg F, -lm F (an
 * ARPA model, through pocketsphinx's n-gram search: slow to set up).
 * Prints one line a file: the name, the hypothesis, the posterior and
 * the CPU time of the decode in ms.
 *
 *   stt-bench [-jsgf F | -phrases F | -fsg F | -lm F] [-full]
 *             [-set -name value]... file.raw...
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pocketsphinx.h>

#include "speech/ngx_http_rtagent_lm.h"

#define MODEL "/usr/share/pocketsphinx/model/en-us/"


static void *
bench_alloc(void *ctx, size_t size)
{
    (void) ctx;
    return malloc(size);
}


/* the phrases file as the FSG text nginx builds */
static char *
phrases_fsg(const char *path, size_t *len)
{
    FILE                   *f = fopen(path, "r");
    char                    line[1024], *w[128], *p;
    size_t                  n;
    ngx_http_rtagent_lm_t  *lm = ngx_http_rtagent_lm_create(bench_alloc, NULL);

    if (f == NULL || lm == NULL) {
        return NULL;
    }

    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#') {
            continue;
        }

        for (p = line; *p; p++) {
            if (*p >= 'A' && *p <= 'Z') {
                *p |= 0x20;
            } else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                         || *p == '\'')) {
                *p = ' ';
            }
        }

        n = 0;
        for (p = strtok(line, " "); p && n < 128; p = strtok(NULL, " ")) {
            w[n++] = p;
        }

        if (n && ngx_http_rtagent_lm_add(lm, (const char **) w, n,
                                         NGX_HTTP_RTAGENT_LM_BOS
                                         | NGX_HTTP_RTAGENT_LM_EOS) != 0) {
            return NULL;
        }
    }

    fclose(f);

    return ngx_http_rtagent_lm_fsg(lm, "phrases", len);
}

int
main(int argc, char **argv)
{
    int           i, j, full = 0, nextra = 0;
    char         *extra[32];
    const char   *jsgf = NULL, *lm = NULL, *fsgf = NULL, *phrases = NULL;
    int           first = 1;
    cmd_ln_t     *config;
    ps_decoder_t *ps;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-jsgf") == 0) {
            jsgf = argv[++i];
        } else if (strcmp(argv[i], "-lm") == 0) {
            lm = argv[++i];
        } else if (strcmp(argv[i], "-fsg") == 0) {
            fsgf = argv[++i];
        } else if (strcmp(argv[i], "-phrases") == 0) {
            phrases = argv[++i];
        } else if (strcmp(argv[i], "-full") == 0) {
            full = 1;
        } else if (strcmp(argv[i], "-set") == 0) {
            extra[nextra++] = argv[++i];
            extra[nextra++] = argv[++i];
        }
    }

    {
        char *args[64] = { "-hmm", MODEL "en-us", "-lm", MODEL "en-us.lm.bin",
                           "-dict", MODEL "cmudict-en-us.dict",
                           "-samprate", "16000", "-logfn", "/dev/null" };
        int   na = 10;

        for (j = 0; j < nextra; j++) {
            args[na++] = extra[j];
        }

        config = cmd_ln_parse_r(NULL, ps_args(), na, args, TRUE);
    }

    ps = ps_init(config);
    if (ps == NULL) {
        return 1;
    }

    if (jsgf) {
        ps_set_jsgf_file(ps, "s", jsgf);
        ps_set_search(ps, "s");
    } else if (fsgf || phrases) {
        fsg_model_t *fsg;

        if (phrases) {
            size_t  len;
            char   *text = phrases_fsg(phrases, &len);
            FILE   *fp = text ? fmemopen(text, len, "r") : NULL;

            fsg = fp ? fsg_model_read(fp, ps_get_logmath(ps),
                                      cmd_ln_float32_r(config, "-lw"))
                     : NULL;
            fsgf = phrases;
        } else {
            fsg = fsg_model_readfile(fsgf, ps_get_logmath(ps),
                                     cmd_ln_float32_r(config, "-lw"));
        }

        if (fsg == NULL || ps_set_fsg(ps, "s", fsg) != 0) {
            fprintf(stderr, "%s: not loaded\n", fsgf);
            return 1;
        }
        fsg_model_free(fsg);
        ps_set_search(ps, "s");
    } else if (lm) {
        ps_set_lm_file(ps, "s", lm);
        ps_set_search(ps, "s");
    }

    for ( ; i < argc; i++) {
        FILE            *f = fopen(argv[i], "rb");
        short           *pcm;
        long             n, off, k;
        int32            score;
        const char      *hyp;
        struct timespec  t0, t1;

        if (f == NULL) {
            perror(argv[i]);
            continue;
        }

        fseek(f, 0, SEEK_END);
        n = ftell(f) / 2;
        fseek(f, 0, SEEK_SET);
        pcm = malloc(n * 2);
        if (fread(pcm, 2, n, f) != (size_t) n) {
            return 1;
        }
        fclose(f);

        if (first) {
            /* as the server does with a new decoder: once, unheard */
            ps_start_utt(ps);
            for (off = 0; off < n; off += k) {
                k = n - off < 2048 ? n - off : 2048;
                ps_process_raw(ps, pcm + off, k, 0, 0);
            }
            ps_end_utt(ps);
            first = 0;
        }

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        ps_start_utt(ps);
        if (full) {
            ps_process_raw(ps, pcm, n, 0, 1);
        } else {
            for (off = 0; off < n; off += k) {
                k = n - off < 2048 ? n - off : 2048;
                ps_process_raw(ps, pcm + off, k, 0, 0);
            }
        }
        ps_end_utt(ps);
        hyp = ps_get_hyp(ps, &score);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);

        if (getenv("SEGS")) {
            ps_seg_t *seg;
            for (seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
                int sf, ef;
                ps_seg_frames(seg, &sf, &ef);
                printf("  %s %d-%d\n", ps_seg_word(seg), sf, ef);
            }
        }

        printf("%s\t%s\t%.3f\t%.1f\n", argv[i], hyp ? hyp : "",
               logmath_exp(ps_get_logmath(ps), ps_get_prob(ps)),
               (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
        free(pcm);
    }

    ps_free(ps);
    cmd_ln_free_r(config);
    return 0;
}
