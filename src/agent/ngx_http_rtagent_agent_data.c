
/*
 * The demo policyholders: libyaml's document tree checked against the
 * fixed schema of the header.  Only the schema's nodes are visited, and
 * their number is bounded, so aliases can neither loop nor explode.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "ngx_http_rtagent_agent_data.h"


/* nodes visited in one file, aliases counted each time they are used */
#define DATA_NODES_MAX  100000


typedef struct {
    const char                       *file;
    yaml_document_t                  *doc;
    ngx_http_rtagent_agent_alloc_pt   alloc;
    void                             *ctx;
    char                             *err;
    size_t                            errlen;
    size_t                            nodes;
} data_ctx_t;


static int data_error(data_ctx_t *dc, yaml_node_t *node, const char *field,
    const char *fmt, ...);
static yaml_node_t *data_node(data_ctx_t *dc, int id);
static int data_str(data_ctx_t *dc, yaml_node_t *node, const char *field,
    ngx_http_rtagent_agent_str_t *out);
static int data_digits(data_ctx_t *dc, yaml_node_t *node, const char *field,
    ngx_http_rtagent_agent_str_t *out, size_t min, size_t max, int plus);
static int data_record(data_ctx_t *dc, yaml_node_t *node, size_t i,
    ngx_http_rtagent_policyholder_t *ph);


static int
data_error(data_ctx_t *dc, yaml_node_t *node, const char *field,
    const char *fmt, ...)
{
    int      n;
    va_list  ap;

    n = snprintf(dc->err, dc->errlen, "%s:%u: %s: ", dc->file,
                 node ? (unsigned) node->start_mark.line + 1 : 1, field);

    if (n >= 0 && (size_t) n < dc->errlen) {
        va_start(ap, fmt);
        (void) vsnprintf(dc->err + n, dc->errlen - n, fmt, ap);
        va_end(ap);
    }

    return -1;
}


static yaml_node_t *
data_node(data_ctx_t *dc, int id)
{
    if (++dc->nodes > DATA_NODES_MAX) {
        return NULL;
    }

    return yaml_document_get_node(dc->doc, id);
}


static int
data_str(data_ctx_t *dc, yaml_node_t *node, const char *field,
    ngx_http_rtagent_agent_str_t *out)
{
    size_t          i, len;
    unsigned char  *s;

    if (node->type != YAML_SCALAR_NODE) {
        return data_error(dc, node, field, "must be a string");
    }

    s = node->data.scalar.value;
    len = node->data.scalar.length;

    if (len == 0) {
        return data_error(dc, node, field, "must not be empty");
    }

    if (len > NGX_HTTP_RTAGENT_POLICY_NAME_MAX) {
        return data_error(dc, node, field, "is longer than %d bytes",
                          NGX_HTTP_RTAGENT_POLICY_NAME_MAX);
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return data_error(dc, node, field,
                              "must not hold control characters");
        }
    }

    out->data = dc->alloc(dc->ctx, len + 1);
    if (out->data == NULL) {
        (void) snprintf(dc->err, dc->errlen, "%s: out of memory", dc->file);
        return -1;
    }

    memcpy(out->data, s, len);
    out->data[len] = '\0';
    out->len = len;
    out->line = (unsigned) node->start_mark.line + 1;

    return 0;
}


/* [+]digits, min to max of them; with plus: E.164 */
static int
data_digits(data_ctx_t *dc, yaml_node_t *node, const char *field,
    ngx_http_rtagent_agent_str_t *out, size_t min, size_t max, int plus)
{
    size_t          i, n;
    unsigned char  *s;

    if (data_str(dc, node, field, out) != 0) {
        return -1;
    }

    s = out->data;
    n = out->len;

    if (plus) {
        if (s[0] != '+' || n < 2 || s[1] == '0') {
            return data_error(dc, node, field, "\"%s\" is not E.164 "
                              "(+, then the country code)", out->data);
        }

        s++;
        n--;
    }

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            break;
        }
    }

    if (i < n || n < min || n > max) {
        if (min == max) {
            return data_error(dc, node, field, "\"%s\" is not %zu digits",
                              out->data, min);
        }

        return data_error(dc, node, field, "\"%s\" is not %zu to %zu digits",
                          out->data, min, max);
    }

    return 0;
}


static int
data_record(data_ctx_t *dc, yaml_node_t *node, size_t i,
    ngx_http_rtagent_policyholder_t *ph)
{
    char               path[64], field[128];
    const char        *key;
    unsigned           seen;
    size_t             k, nv;
    yaml_node_t       *kn, *vn, *item;
    yaml_node_pair_t  *pair;
    yaml_node_item_t  *it;

    static const char *const  keys[] = {
        "policy", "zip", "name", "phone", "vehicles"
    };

    (void) snprintf(path, sizeof(path), "policyholders[%zu]", i);

    if (node->type != YAML_MAPPING_NODE) {
        return data_error(dc, node, path, "must be a mapping");
    }

    memset(ph, 0, sizeof(*ph));
    ph->line = (unsigned) node->start_mark.line + 1;
    seen = 0;

    for (pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top;
         pair++)
    {
        kn = data_node(dc, pair->key);
        vn = data_node(dc, pair->value);

        if (kn == NULL || vn == NULL) {
            return data_error(dc, node, path, "too many nodes");
        }

        if (kn->type != YAML_SCALAR_NODE) {
            return data_error(dc, kn, path, "a key must be a string");
        }

        key = (const char *) kn->data.scalar.value;

        for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            if (strlen(keys[k]) == kn->data.scalar.length
                && memcmp(key, keys[k], kn->data.scalar.length) == 0)
            {
                break;
            }
        }

        if (k == sizeof(keys) / sizeof(keys[0])) {
            (void) snprintf(field, sizeof(field), "%s.%.32s", path, key);
            return data_error(dc, kn, field, "unknown key (policy, zip, "
                              "name, phone, vehicles)");
        }

        (void) snprintf(field, sizeof(field), "%s.%s", path, keys[k]);

        if (seen & (1u << k)) {
            return data_error(dc, kn, field, "is given twice");
        }

        seen |= 1u << k;

        switch (k) {

        case 0:
            if (data_digits(dc, vn, field, &ph->policy, 8, 8, 0) != 0) {
                return -1;
            }
            break;

        case 1:
            if (data_digits(dc, vn, field, &ph->zip, 5, 5, 0) != 0) {
                return -1;
            }
            break;

        case 2:
            if (data_str(dc, vn, field, &ph->name) != 0) {
                return -1;
            }
            break;

        case 3:
            if (data_digits(dc, vn, field, &ph->phone, 8, 15, 1) != 0) {
                return -1;
            }
            break;

        default: /* vehicles */
            if (vn->type != YAML_SEQUENCE_NODE) {
                return data_error(dc, vn, field, "must be a list");
            }

            nv = vn->data.sequence.items.top - vn->data.sequence.items.start;

            if (nv > NGX_HTTP_RTAGENT_AGENT_LIST_MAX) {
                return data_error(dc, vn, field, "has more than %d items",
                                  NGX_HTTP_RTAGENT_AGENT_LIST_MAX);
            }

            ph->vehicles.line = (unsigned) vn->start_mark.line + 1;
            ph->vehicles.nelts = nv;
            ph->vehicles.elts = dc->alloc(dc->ctx, (nv ? nv : 1)
                                          * sizeof(*ph->vehicles.elts));
            if (ph->vehicles.elts == NULL) {
                (void) snprintf(dc->err, dc->errlen, "%s: out of memory",
                                dc->file);
                return -1;
            }

            for (it = vn->data.sequence.items.start, nv = 0;
                 it < vn->data.sequence.items.top;
                 it++, nv++)
            {
                item = data_node(dc, *it);
                (void) snprintf(field, sizeof(field), "%s.vehicles[%zu]",
                                path, nv);

                if (item == NULL) {
                    return data_error(dc, vn, field, "too many nodes");
                }

                if (data_str(dc, item, field, &ph->vehicles.elts[nv]) != 0) {
                    return -1;
                }
            }
        }
    }

    for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        if (!(seen & (1u << k))) {
            (void) snprintf(field, sizeof(field), "%s.%s", path, keys[k]);
            return data_error(dc, node, field, "is missing");
        }
    }

    return 0;
}


int
ngx_http_rtagent_agent_data_parse(const unsigned char *p, size_t len,
    const char *file, ngx_http_rtagent_agent_alloc_pt alloc, void *ctx,
    ngx_http_rtagent_policyholder_t **out, size_t *n, char *err,
    size_t errlen)
{
    int                               rc;
    size_t                            i, k, count;
    data_ctx_t                        dc;
    yaml_node_t                      *root, *kn, *list, *item;
    yaml_parser_t                     parser;
    yaml_document_t                   doc, next;
    yaml_node_item_t                 *it;
    ngx_http_rtagent_policyholder_t  *ph;

    memset(&dc, 0, sizeof(dc));
    dc.file = file;
    dc.doc = &doc;
    dc.alloc = alloc;
    dc.ctx = ctx;
    dc.err = err;
    dc.errlen = errlen;

    if (errlen) {
        err[0] = '\0';
    }

    if (!yaml_parser_initialize(&parser)) {
        (void) snprintf(err, errlen, "%s: out of memory", file);
        return -1;
    }

    yaml_parser_set_input_string(&parser, p, len);

    if (!yaml_parser_load(&parser, &doc)) {
        (void) snprintf(err, errlen, "%s:%u: (document): %s", file,
                        (unsigned) parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "a YAML error");
        yaml_parser_delete(&parser);
        return -1;
    }

    rc = -1;

    /* one document only */
    if (yaml_document_get_root_node(&doc) != NULL) {
        if (!yaml_parser_load(&parser, &next)) {
            (void) snprintf(err, errlen, "%s:%u: (document): %s", file,
                            (unsigned) parser.problem_mark.line + 1,
                            parser.problem ? parser.problem : "a YAML error");
            goto done;
        }

        root = yaml_document_get_root_node(&next);
        yaml_document_delete(&next);

        if (root != NULL) {
            (void) snprintf(err, errlen, "%s: (document): more than one "
                            "YAML document", file);
            goto done;
        }
    }

    root = yaml_document_get_root_node(&doc);

    if (root == NULL || root->type != YAML_MAPPING_NODE
        || root->data.mapping.pairs.top - root->data.mapping.pairs.start != 1)
    {
        (void) data_error(&dc, root, "(document)",
                          "must be a mapping with the one key "
                          "\"policyholders\"");
        goto done;
    }

    kn = data_node(&dc, root->data.mapping.pairs.start->key);
    list = data_node(&dc, root->data.mapping.pairs.start->value);

    if (kn == NULL || list == NULL || kn->type != YAML_SCALAR_NODE
        || kn->data.scalar.length != sizeof("policyholders") - 1
        || memcmp(kn->data.scalar.value, "policyholders",
                  sizeof("policyholders") - 1) != 0)
    {
        (void) data_error(&dc, kn, "(document)",
                          "unknown key (only \"policyholders\")");
        goto done;
    }

    if (list->type != YAML_SEQUENCE_NODE
        || list->data.sequence.items.top == list->data.sequence.items.start)
    {
        (void) data_error(&dc, list, "policyholders",
                          "must be a non-empty list");
        goto done;
    }

    count = list->data.sequence.items.top - list->data.sequence.items.start;

    if (count > NGX_HTTP_RTAGENT_AGENT_LIST_MAX) {
        (void) data_error(&dc, list, "policyholders",
                          "has more than %d items",
                          NGX_HTTP_RTAGENT_AGENT_LIST_MAX);
        goto done;
    }

    ph = alloc(ctx, count * sizeof(*ph));
    if (ph == NULL) {
        (void) snprintf(err, errlen, "%s: out of memory", file);
        goto done;
    }

    for (it = list->data.sequence.items.start, i = 0;
         it < list->data.sequence.items.top;
         it++, i++)
    {
        item = data_node(&dc, *it);

        if (item == NULL) {
            (void) data_error(&dc, list, "policyholders", "too many nodes");
            goto done;
        }

        if (data_record(&dc, item, i, &ph[i]) != 0) {
            goto done;
        }

        for (k = 0; k < i; k++) {
            if (strcmp((char *) ph[k].policy.data,
                       (char *) ph[i].policy.data) == 0)
            {
                (void) snprintf(err, errlen, "%s:%u: policyholders[%zu]."
                                "policy: \"%s\" is also policyholders[%zu] "
                                "(line %u)", file, ph[i].policy.line, i,
                                (char *) ph[i].policy.data, k, ph[k].line);
                goto done;
            }
        }
    }

    *out = ph;
    *n = count;
    rc = 0;

done:

    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);

    return rc;
}
