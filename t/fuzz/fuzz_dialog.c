
/*
 * libFuzzer target for the local dialogue engine: random caller text
 * through enter/turn/tool_done over the shipped auth and fnol agents
 * (agents/auth.yaml and fnol.yaml, read once from the repo root, where
 * make fuzz runs).
 * The input's first byte picks the agent, the call's date and whether
 * free text is redacted (rtagent_redact), then each line is one caller
 * turn (16 at most); while a tool is pending a line's first byte says
 * whether it succeeded.  Every step must keep the output's promises (the
 * header): at most ACTIONS_MAX actions, texts and arguments where they
 * belong, the expected search named after the agent.  The arena is freed
 * after each input, so LeakSanitizer sees anything the engine loses.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ngx_http_rtagent_dialog.h"
#include "agent/ngx_http_rtagent_safety.h"
#include "fuzz_arena.h"


static ngx_http_rtagent_agent_def_t  *defs[2];
static block_t                       *defs_arena;


static ngx_http_rtagent_agent_def_t *
load(const char *path)
{
    char                           err[512];
    long                           n;
    FILE                          *f;
    unsigned char                 *buf;
    ngx_http_rtagent_agent_def_t  *def;

    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, "fuzz_dialog: cannot read %s (run from the repo "
                "root)\n", path);
        abort();
    }

    buf = fuzz_alloc(&defs_arena, (size_t) n);
    if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        abort();
    }

    fclose(f);

    if (ngx_http_rtagent_agent_def_parse(buf, (size_t) n, path, fuzz_alloc,
                                         &defs_arena, &def, err, sizeof(err))
        != 0)
    {
        fprintf(stderr, "fuzz_dialog: %s\n", err);
        abort();
    }

    return def;
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    defs[0] = load("agents/auth.yaml");
    defs[1] = load("agents/fnol.yaml");

    return 0;
}


static void
check(ngx_http_rtagent_dialog_t *d, ngx_http_rtagent_dialog_out_t *out)
{
    size_t       i, n;
    const char  *name;

    if (out->n > NGX_HTTP_RTAGENT_DIALOG_ACTIONS_MAX) {
        abort();
    }

    for (i = 0; i < out->n; i++) {
        switch (out->act[i].kind) {

        case NGX_HTTP_RTAGENT_DIALOG_SAY:
        case NGX_HTTP_RTAGENT_DIALOG_TOOL:
        case NGX_HTTP_RTAGENT_DIALOG_HANDOFF:
            if (out->act[i].arg == NULL || strlen(out->act[i].arg) == 0) {
                abort();
            }

            /* only the last action hands over */
            if (out->act[i].kind != NGX_HTTP_RTAGENT_DIALOG_SAY
                && i + 1 != out->n)
            {
                abort();
            }

            break;

        case NGX_HTTP_RTAGENT_DIALOG_TRANSFER:
        case NGX_HTTP_RTAGENT_DIALOG_END:
            if (i + 1 != out->n) {
                abort();
            }

            break;

        default:
            abort();
        }
    }

    if (out->expect) {
        name = (const char *) d->agent->name.data;
        n = d->agent->name.len;

        if (strncmp(out->expect, name, n) != 0 || out->expect[n] != '.') {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                             turns;
    const char                        *stage;
    block_t                           *arena;
    const uint8_t                     *p, *end, *nl;
    unsigned char                     *copy;
    ngx_http_rtagent_dialog_t          d;
    ngx_http_rtagent_dialog_out_t      out;
    ngx_http_rtagent_dialog_fields_t   fields;

    if (size == 0) {
        return 0;
    }

    arena = NULL;
    memset(&fields, 0, sizeof(fields));

    memset(&d, 0, sizeof(ngx_http_rtagent_dialog_t));
    d.alloc = fuzz_alloc;
    d.alloc_ctx = &arena;
    /* rtagent_redact on: free text redacted as it is kept */
    d.redact = (data[0] & 4) ? ngx_http_rtagent_safety_redact : NULL;
    d.agent = defs[data[0] & 1];
    d.fields = &fields;
    d.today = (data[0] & 2) ? "2024-02-29" : "2026-12-03";

    if (ngx_http_rtagent_dialog_enter(&d, &out) != 0) {
        abort();
    }

    check(&d, &out);

    p = data + 1;
    end = data + size;

    /* a call of a few turns: a longer one explores no more per second */
    for (turns = 0; p < end && turns < 16; turns++) {
        nl = memchr(p, '\n', end - p);
        if (nl == NULL) {
            nl = end;
        }

        stage = ngx_http_rtagent_dialog_get(&fields,
                    d.agent == defs[0] ? "_auth.stage" : "_fnol.stage");

        if (stage && strcmp(stage, "tool") == 0) {
            if (ngx_http_rtagent_dialog_set(&d, "claim_id", "CLM-1") != 0
                || ngx_http_rtagent_dialog_set(&d, "name", "Alice") != 0
                || ngx_http_rtagent_dialog_tool_done(&d,
                                                     p < nl && (*p & 1),
                                                     &out)
                   != 0)
            {
                abort();
            }

        } else {
            /* a buffer of exactly the line, so ASan sees reads past it */
            copy = malloc(nl - p + 1);
            if (copy == NULL) {
                abort();
            }

            memcpy(copy, p, nl - p);

            if (ngx_http_rtagent_dialog_turn(&d, copy, nl - p, &out) != 0) {
                abort();
            }

            free(copy);
        }

        check(&d, &out);

        if (out.n && out.act[out.n - 1].kind != NGX_HTTP_RTAGENT_DIALOG_SAY
            && out.act[out.n - 1].kind != NGX_HTTP_RTAGENT_DIALOG_TOOL)
        {
            /* handed over or ended: the other agent takes the call */
            d.agent = defs[d.agent == defs[0]];

            if (ngx_http_rtagent_dialog_enter(&d, &out) != 0) {
                abort();
            }

            check(&d, &out);
        }

        p = nl + 1;
    }

    fuzz_arena_free(arena);

    return 0;
}
