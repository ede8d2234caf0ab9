
/*
 * The Prompt Shields codec (see ngx_http_rtagent_shield.h).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "ngx_http_rtagent_shield.h"


#define shield_str(g, s)                                                     \
    yajl_gen_string(g, (const unsigned char *) (s), sizeof(s) - 1)


int
ngx_http_rtagent_shield_request(yajl_gen g, const char *text, size_t len)
{
    int  rc;

    rc = shield_str(g, "userPrompt");
    rc |= yajl_gen_string(g, (const unsigned char *) text, len);
    rc |= shield_str(g, "documents");
    rc |= yajl_gen_array_open(g);
    rc |= yajl_gen_array_close(g);

    return rc == yajl_gen_status_ok ? 0 : -1;
}


static void
shield_err(char *err, size_t errlen, const char *msg)
{
    if (errlen) {
        snprintf(err, errlen, "%s", msg);
    }
}


/* an object's attackDetected: 1 true, 0 false, -1 missing or no boolean */

static int
shield_attack(yajl_val obj)
{
    static const char  *path[] = { "attackDetected", NULL };
    yajl_val            v;

    if (!YAJL_IS_OBJECT(obj)) {
        return -1;
    }

    v = yajl_tree_get(obj, path, yajl_t_any);

    if (v == NULL) {
        return -1;
    }

    if (YAJL_IS_TRUE(v)) {
        return 1;
    }

    return YAJL_IS_FALSE(v) ? 0 : -1;
}


int
ngx_http_rtagent_shield_parse(const char *p, size_t len, char *err,
    size_t errlen)
{
    static const char  *user[] = { "userPromptAnalysis", NULL };
    static const char  *docs[] = { "documentsAnalysis", NULL };

    int        rc, a;
    char      *s;
    size_t     i;
    yajl_val   root, v;

    shield_err(err, errlen, "");

    if (len > NGX_HTTP_RTAGENT_SHIELD_MAX) {
        shield_err(err, errlen, "the answer is too large");
        return NGX_HTTP_RTAGENT_SHIELD_INVALID;
    }

    /* yajl_tree_parse() wants a string: a NUL inside is bad JSON anyway */
    if (memchr(p, '\0', len) != NULL) {
        shield_err(err, errlen, "the answer is not JSON");
        return NGX_HTTP_RTAGENT_SHIELD_INVALID;
    }

    s = malloc(len + 1);
    if (s == NULL) {
        shield_err(err, errlen, "out of memory");
        return NGX_HTTP_RTAGENT_SHIELD_INVALID;
    }

    memcpy(s, p, len);
    s[len] = '\0';

    root = yajl_tree_parse(s, NULL, 0);
    free(s);

    if (root == NULL || !YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        shield_err(err, errlen, "the answer is not a JSON object");
        return NGX_HTTP_RTAGENT_SHIELD_INVALID;
    }

    rc = shield_attack(yajl_tree_get(root, user, yajl_t_object));

    if (rc < 0) {
        yajl_tree_free(root);
        shield_err(err, errlen, "the answer has no "
                   "userPromptAnalysis.attackDetected");
        return NGX_HTTP_RTAGENT_SHIELD_INVALID;
    }

    /* documents are never sent, but an attack in one is an attack */
    v = yajl_tree_get(root, docs, yajl_t_array);

    for (i = 0; v != NULL && rc == 0 && i < YAJL_GET_ARRAY(v)->len; i++) {
        a = shield_attack(YAJL_GET_ARRAY(v)->values[i]);

        if (a > 0) {
            rc = 1;
        }
    }

    yajl_tree_free(root);

    return rc ? NGX_HTTP_RTAGENT_SHIELD_ATTACK : NGX_HTTP_RTAGENT_SHIELD_CLEAN;
}
