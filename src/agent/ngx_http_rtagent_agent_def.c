
/*
 * Agent definitions: libyaml's document tree walked against a table of
 * fields per mapping.  The walk only descends into fields of the schema,
 * whose depth is fixed, so a YAML alias cycle cannot make it loop; the
 * number of nodes visited is bounded so that aliases cannot make it
 * explode either.
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "ngx_http_rtagent_agent_def.h"


/* nodes visited in one file, aliases counted each time they are used */
#define AGENT_NODES_MAX  100000

#define AGENT_PATH_MAX   256


const char *const  ngx_http_rtagent_agent_builtin_tools[] = {
    "verify_identity",
    "lookup_policy",
    "create_claim",
    "schedule_appointment",
    "transfer_to_human",
    "end_call",
    NULL
};


typedef enum {
    F_STR = 0,       /* a non-empty scalar */
    F_IDENT,         /* a name: [a-z][a-z0-9_]*, at most NAME_MAX */
    F_BOOL,          /* true or false */
    F_INT,           /* a decimal integer in [min, max] */
    F_ENUM,          /* one of names: the string at off, the index at off_n */
    F_FLAGS,         /* a list of names: a bit set (1 << index) at off */
    F_STRS,          /* a list of strings */
    F_IDENTS,        /* a list of names */
    F_MAP,           /* a mapping stored inline at off */
    F_MAPP,          /* a mapping allocated, its pointer at off */
    F_LIST,          /* a list of mappings: pointer at off, count at off_n */
    F_HEADERS,       /* a mapping of strings to strings */
    F_TOOLS          /* the agent's tools */
} agent_field_kind_e;


typedef struct agent_map_s  agent_map_t;

typedef struct {
    const char                 *key;
    agent_field_kind_e          kind;
    size_t                      off;
    size_t                      off_n;
    unsigned                    required:1;
    long                        min;
    long                        max;
    const char *const          *names;
    const agent_map_t          *sub;
} agent_field_t;


typedef struct agent_ctx_s  agent_ctx_t;

struct agent_map_s {
    size_t                      size;
    size_t                      line_off;      /* NO_LINE: none */
    const agent_field_t        *fields;
    /* checks between its fields; -1 with the error set */
    int                       (*check)(agent_ctx_t *ctx, void *obj,
                                       unsigned line);
};

#define NO_LINE  ((size_t) -1)


struct agent_ctx_s {
    const char                 *file;
    yaml_document_t            *doc;
    ngx_http_rtagent_agent_alloc_pt alloc;
    void                       *actx;
    char                       *err;
    size_t                      errlen;
    size_t                      nodes;
    size_t                      plen;
    char                        path[AGENT_PATH_MAX];
};


static int agent_map(agent_ctx_t *ctx, yaml_node_t *node,
    const agent_map_t *map, void *obj);


static const char *const  agent_slot_types[] = {
    "digits", "number", "date", "time", "yes_no", "choice", "free_text",
    NULL
};

static const char *const  agent_escalate_when[] = {
    "caller_asks", "auth_failed", "no_match", "emergency", "tool_failed",
    NULL
};

static const char *const  agent_http_methods[] = {
    "GET", "POST", "PUT", "PATCH", "DELETE", NULL
};


/* ---- messages and paths ------------------------------------------------ */

static int
agent_errv(agent_ctx_t *ctx, unsigned line, const char *path,
    const char *fmt, va_list ap)
{
    int  n;

    if (ctx->errlen == 0) {
        return -1;
    }

    n = snprintf(ctx->err, ctx->errlen, "%s:%u: %s: ", ctx->file, line,
                 path[0] ? path : "(document)");

    if (n >= 0 && (size_t) n < ctx->errlen) {
        (void) vsnprintf(ctx->err + n, ctx->errlen - n, fmt, ap);
    }

    return -1;
}


static int
agent_err(agent_ctx_t *ctx, unsigned line, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    (void) agent_errv(ctx, line, ctx->path, fmt, ap);
    va_end(ap);

    return -1;
}


/* an error at a path relative to the current one ("" for the current) */
static int
agent_err_at(agent_ctx_t *ctx, unsigned line, const char *rel,
    const char *fmt, ...)
{
    int      n;
    char     path[AGENT_PATH_MAX];
    va_list  ap;

    /* a path cut short still names where the problem is */
    n = snprintf(path, sizeof(path), "%s%s%s", ctx->path,
                 (ctx->plen && rel[0] && rel[0] != '[') ? "." : "", rel);
    if (n < 0) {
        path[0] = '\0';
    }

    va_start(ap, fmt);
    (void) agent_errv(ctx, line, path, fmt, ap);
    va_end(ap);

    return -1;
}


static size_t
agent_push_key(agent_ctx_t *ctx, const char *key)
{
    size_t  old = ctx->plen;

    (void) snprintf(ctx->path + old, sizeof(ctx->path) - old, "%s%s",
                    old ? "." : "", key);
    ctx->plen = strlen(ctx->path);

    return old;
}


static size_t
agent_push_index(agent_ctx_t *ctx, size_t i)
{
    size_t  old = ctx->plen;

    (void) snprintf(ctx->path + old, sizeof(ctx->path) - old, "[%zu]", i);
    ctx->plen = strlen(ctx->path);

    return old;
}


static void
agent_pop(agent_ctx_t *ctx, size_t old)
{
    ctx->plen = old;
    ctx->path[old] = '\0';
}


static unsigned
agent_line(yaml_node_t *node)
{
    return (unsigned) node->start_mark.line + 1;
}


static int agent_is_null(yaml_node_t *node);


static const char *
agent_node_kind(yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return agent_is_null(node) ? "no value" : "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}


static void *
agent_alloc(agent_ctx_t *ctx, size_t size)
{
    void  *p;

    p = ctx->alloc(ctx->actx, size ? size : 1);
    if (p != NULL) {
        memset(p, 0, size);
    }

    return p;
}


static int
agent_nomem(agent_ctx_t *ctx)
{
    if (ctx->errlen) {
        (void) snprintf(ctx->err, ctx->errlen, "%s: out of memory",
                        ctx->file);
    }

    return -1;
}


static yaml_node_t *
agent_node(agent_ctx_t *ctx, int id)
{
    if (++ctx->nodes > AGENT_NODES_MAX) {
        return NULL;
    }

    return yaml_document_get_node(ctx->doc, id);
}


static int
agent_too_big(agent_ctx_t *ctx, unsigned line)
{
    return agent_err(ctx, line, "too many nodes (more than %d, aliases"
                     " counted each time they are used)", AGENT_NODES_MAX);
}


/* ---- scalars ------------------------------------------------------------ */

static int
agent_is_null(yaml_node_t *node)
{
    const char  *v = (const char *) node->data.scalar.value;
    size_t       len = node->data.scalar.length;

    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return 0;
    }

    return len == 0
           || (len == 1 && v[0] == '~')
           || (len == 4 && (memcmp(v, "null", 4) == 0
                            || memcmp(v, "Null", 4) == 0
                            || memcmp(v, "NULL", 4) == 0));
}


static int
agent_scalar(agent_ctx_t *ctx, yaml_node_t *node, const char *what)
{
    if (node->type != YAML_SCALAR_NODE) {
        return agent_err(ctx, agent_line(node), "expected %s, got %s", what,
                         agent_node_kind(node));
    }

    if (agent_is_null(node)) {
        return agent_err(ctx, agent_line(node), "expected %s, got no value",
                         what);
    }

    return 0;
}


static int
agent_str(agent_ctx_t *ctx, yaml_node_t *node,
    ngx_http_rtagent_agent_str_t *s)
{
    size_t  len;

    if (agent_scalar(ctx, node, "a string") != 0) {
        return -1;
    }

    len = node->data.scalar.length;

    if (len == 0) {
        return agent_err(ctx, agent_line(node), "empty string");
    }

    if (memchr(node->data.scalar.value, '\0', len) != NULL) {
        return agent_err(ctx, agent_line(node), "NUL byte in string");
    }

    s->data = agent_alloc(ctx, len + 1);
    if (s->data == NULL) {
        return agent_nomem(ctx);
    }

    memcpy(s->data, node->data.scalar.value, len);
    s->len = len;
    s->line = agent_line(node);

    return 0;
}


static int
agent_ident_ok(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > NGX_HTTP_RTAGENT_AGENT_NAME_MAX
        || p[0] < 'a' || p[0] > 'z')
    {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')
              || p[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static int
agent_ident(agent_ctx_t *ctx, yaml_node_t *node,
    ngx_http_rtagent_agent_str_t *s)
{
    if (agent_str(ctx, node, s) != 0) {
        return -1;
    }

    if (!agent_ident_ok(s->data, s->len)) {
        return agent_err(ctx, s->line, "invalid name \"%s\": lower-case"
                         " letters, digits and \"_\", starting with a"
                         " letter, at most %d", s->data,
                         NGX_HTTP_RTAGENT_AGENT_NAME_MAX);
    }

    return 0;
}


static int
agent_bool(agent_ctx_t *ctx, yaml_node_t *node, unsigned *b)
{
    const char  *v;

    if (agent_scalar(ctx, node, "true or false") != 0) {
        return -1;
    }

    v = (const char *) node->data.scalar.value;

    if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (node->data.scalar.length == 4 && memcmp(v, "true", 4) == 0) {
            *b = 1;
            return 0;
        }

        if (node->data.scalar.length == 5 && memcmp(v, "false", 5) == 0) {
            *b = 0;
            return 0;
        }
    }

    return agent_err(ctx, agent_line(node), "expected true or false");
}


static int
agent_int(agent_ctx_t *ctx, yaml_node_t *node, long min, long max, long *n)
{
    char        buf[24];
    char       *end;
    long        v;
    size_t      len, i;

    if (agent_scalar(ctx, node, "an integer") != 0) {
        return -1;
    }

    len = node->data.scalar.length;

    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE
        || len >= sizeof(buf))
    {
        goto invalid;
    }

    memcpy(buf, node->data.scalar.value, len);
    buf[len] = '\0';

    for (i = (buf[0] == '-'); i < len; i++) {
        if (buf[i] < '0' || buf[i] > '9') {
            goto invalid;
        }
    }

    if (len == (size_t) (buf[0] == '-')) {
        goto invalid;
    }

    errno = 0;
    v = strtol(buf, &end, 10);

    if (errno != 0 || *end != '\0' || v < min || v > max) {
        goto invalid;
    }

    *n = v;
    return 0;

invalid:

    return agent_err(ctx, agent_line(node),
                     "expected an integer from %ld to %ld", min, max);
}


static int
agent_enum(agent_ctx_t *ctx, yaml_node_t *node, const char *const *names,
    ngx_http_rtagent_agent_str_t *s, int *index)
{
    char    list[256];
    size_t  i, n;

    if (agent_str(ctx, node, s) != 0) {
        return -1;
    }

    for (i = 0; names[i]; i++) {
        if (strcmp((const char *) s->data, names[i]) == 0) {
            *index = (int) i;
            return 0;
        }
    }

    list[0] = '\0';

    for (i = 0, n = 0; names[i] && n < sizeof(list); i++) {
        n += snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
                      names[i]);
    }

    return agent_err(ctx, s->line, "\"%s\" is not one of %s", s->data,
                     list);
}


/* ---- lists and mappings ------------------------------------------------ */

static int
agent_seq(agent_ctx_t *ctx, yaml_node_t *node, size_t *n)
{
    size_t  len;

    if (node->type != YAML_SEQUENCE_NODE) {
        return agent_err(ctx, agent_line(node), "expected a list, got %s",
                         agent_node_kind(node));
    }

    len = node->data.sequence.items.top - node->data.sequence.items.start;

    if (len > NGX_HTTP_RTAGENT_AGENT_LIST_MAX) {
        return agent_err(ctx, agent_line(node), "more than %d items",
                         NGX_HTTP_RTAGENT_AGENT_LIST_MAX);
    }

    *n = len;
    return 0;
}


static int
agent_strs(agent_ctx_t *ctx, yaml_node_t *node, int idents,
    ngx_http_rtagent_agent_strs_t *ss)
{
    size_t        i, n, old;
    yaml_node_t  *item;

    if (agent_seq(ctx, node, &n) != 0) {
        return -1;
    }

    ss->elts = agent_alloc(ctx, n * sizeof(ngx_http_rtagent_agent_str_t));
    if (ss->elts == NULL) {
        return agent_nomem(ctx);
    }

    ss->line = agent_line(node);

    for (i = 0; i < n; i++) {
        item = agent_node(ctx, node->data.sequence.items.start[i]);
        if (item == NULL) {
            return agent_too_big(ctx, agent_line(node));
        }

        old = agent_push_index(ctx, i);

        if ((idents ? agent_ident(ctx, item, &ss->elts[i])
                    : agent_str(ctx, item, &ss->elts[i])) != 0)
        {
            return -1;
        }

        agent_pop(ctx, old);
    }

    ss->nelts = n;

    return 0;
}


static int
agent_flags(agent_ctx_t *ctx, yaml_node_t *node, const char *const *names,
    unsigned *flags)
{
    int                           index;
    size_t                        i, n, old;
    yaml_node_t                  *item;
    ngx_http_rtagent_agent_str_t  s;

    if (agent_seq(ctx, node, &n) != 0) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        item = agent_node(ctx, node->data.sequence.items.start[i]);
        if (item == NULL) {
            return agent_too_big(ctx, agent_line(node));
        }

        old = agent_push_index(ctx, i);

        if (agent_enum(ctx, item, names, &s, &index) != 0) {
            return -1;
        }

        agent_pop(ctx, old);

        *flags |= 1u << index;
    }

    return 0;
}


static int
agent_list(agent_ctx_t *ctx, yaml_node_t *node, const agent_map_t *sub,
    void **elts, size_t *nelts)
{
    char         *p;
    size_t        i, n, old;
    yaml_node_t  *item;

    if (agent_seq(ctx, node, &n) != 0) {
        return -1;
    }

    p = agent_alloc(ctx, n * sub->size);
    if (p == NULL) {
        return agent_nomem(ctx);
    }

    for (i = 0; i < n; i++) {
        item = agent_node(ctx, node->data.sequence.items.start[i]);
        if (item == NULL) {
            return agent_too_big(ctx, agent_line(node));
        }

        old = agent_push_index(ctx, i);

        if (agent_map(ctx, item, sub, p + i * sub->size) != 0) {
            return -1;
        }

        agent_pop(ctx, old);
    }

    *elts = p;
    *nelts = n;

    return 0;
}


static int
agent_headers(agent_ctx_t *ctx, yaml_node_t *node,
    ngx_http_rtagent_agent_header_t **headers, size_t *nheaders)
{
    size_t                            i, n, old;
    yaml_node_t                      *key, *value;
    yaml_node_pair_t                 *pair;
    ngx_http_rtagent_agent_header_t  *h;

    if (node->type != YAML_MAPPING_NODE) {
        return agent_err(ctx, agent_line(node), "expected a mapping, got %s",
                         agent_node_kind(node));
    }

    n = node->data.mapping.pairs.top - node->data.mapping.pairs.start;

    if (n > NGX_HTTP_RTAGENT_AGENT_LIST_MAX) {
        return agent_err(ctx, agent_line(node), "more than %d items",
                         NGX_HTTP_RTAGENT_AGENT_LIST_MAX);
    }

    h = agent_alloc(ctx, n * sizeof(ngx_http_rtagent_agent_header_t));
    if (h == NULL) {
        return agent_nomem(ctx);
    }

    for (i = 0; i < n; i++) {
        pair = &node->data.mapping.pairs.start[i];
        key = agent_node(ctx, pair->key);
        value = agent_node(ctx, pair->value);

        if (key == NULL || value == NULL) {
            return agent_too_big(ctx, agent_line(node));
        }

        if (agent_str(ctx, key, &h[i].name) != 0) {
            return -1;
        }

        old = agent_push_key(ctx, (const char *) h[i].name.data);

        if (agent_str(ctx, value, &h[i].value) != 0) {
            return -1;
        }

        agent_pop(ctx, old);
    }

    *headers = h;
    *nheaders = n;

    return 0;
}


static const agent_map_t  agent_tool_map;


static int
agent_tools(agent_ctx_t *ctx, yaml_node_t *node,
    ngx_http_rtagent_tool_def_t **tools, size_t *ntools)
{
    size_t                        i, j, n, old;
    yaml_node_t                  *item;
    ngx_http_rtagent_tool_def_t  *t;

    if (agent_seq(ctx, node, &n) != 0) {
        return -1;
    }

    t = agent_alloc(ctx, n * sizeof(ngx_http_rtagent_tool_def_t));
    if (t == NULL) {
        return agent_nomem(ctx);
    }

    for (i = 0; i < n; i++) {
        item = agent_node(ctx, node->data.sequence.items.start[i]);
        if (item == NULL) {
            return agent_too_big(ctx, agent_line(node));
        }

        old = agent_push_index(ctx, i);

        if (item->type == YAML_MAPPING_NODE) {
            if (agent_map(ctx, item, &agent_tool_map, &t[i]) != 0) {
                return -1;
            }

            t[i].defined = 1;
            t[i].kind = t[i].http ? NGX_HTTP_RTAGENT_TOOL_HTTP
                                  : NGX_HTTP_RTAGENT_TOOL_REDIS;

        } else if (agent_ident(ctx, item, &t[i].name) != 0) {
            return -1;
        }

        for (j = 0; j < i; j++) {
            if (strcmp((char *) t[j].name.data, (char *) t[i].name.data)
                == 0)
            {
                return agent_err(ctx, t[i].name.line, "tool \"%s\" is"
                                 " listed twice (line %u)", t[i].name.data,
                                 t[j].name.line);
            }
        }

        agent_pop(ctx, old);
    }

    *tools = t;
    *ntools = n;

    return 0;
}


static int
agent_field(agent_ctx_t *ctx, yaml_node_t *node, const agent_field_t *f,
    char *obj)
{
    int    index;
    void  *p;

    switch (f->kind) {

    case F_STR:
        return agent_str(ctx, node,
                         (ngx_http_rtagent_agent_str_t *) (obj + f->off));

    case F_IDENT:
        return agent_ident(ctx, node,
                           (ngx_http_rtagent_agent_str_t *) (obj + f->off));

    case F_BOOL:
        return agent_bool(ctx, node, (unsigned *) (obj + f->off));

    case F_INT:
        return agent_int(ctx, node, f->min, f->max, (long *) (obj + f->off));

    case F_ENUM:
        if (agent_enum(ctx, node, f->names,
                       (ngx_http_rtagent_agent_str_t *) (obj + f->off),
                       &index)
            != 0)
        {
            return -1;
        }

        if (f->off_n != NO_LINE) {
            *(int *) (obj + f->off_n) = index;
        }

        return 0;

    case F_FLAGS:
        return agent_flags(ctx, node, f->names, (unsigned *) (obj + f->off));

    case F_STRS:
    case F_IDENTS:
        return agent_strs(ctx, node, f->kind == F_IDENTS,
                          (ngx_http_rtagent_agent_strs_t *) (obj + f->off));

    case F_MAP:
        return agent_map(ctx, node, f->sub, obj + f->off);

    case F_MAPP:
        p = agent_alloc(ctx, f->sub->size);
        if (p == NULL) {
            return agent_nomem(ctx);
        }

        *(void **) (obj + f->off) = p;

        return agent_map(ctx, node, f->sub, p);

    case F_LIST:
        return agent_list(ctx, node, f->sub, (void **) (obj + f->off),
                          (size_t *) (obj + f->off_n));

    case F_HEADERS:
        return agent_headers(ctx, node,
                             (ngx_http_rtagent_agent_header_t **)
                                 (obj + f->off),
                             (size_t *) (obj + f->off_n));

    case F_TOOLS:
        return agent_tools(ctx, node,
                           (ngx_http_rtagent_tool_def_t **) (obj + f->off),
                           (size_t *) (obj + f->off_n));
    }

    return agent_err(ctx, agent_line(node), "internal: unknown field kind");
}


static int
agent_map(agent_ctx_t *ctx, yaml_node_t *node, const agent_map_t *map,
    void *obj)
{
    char                   rel[72];
    size_t                 i, k, n, old;
    unsigned               seen[32];
    yaml_node_t           *key, *value;
    yaml_node_pair_t      *pair;
    const char            *name;
    const agent_field_t   *f;

    if (node->type != YAML_MAPPING_NODE) {
        return agent_err(ctx, agent_line(node), "expected a mapping, got %s",
                         agent_node_kind(node));
    }

    memset(seen, 0, sizeof(seen));

    if (map->line_off != NO_LINE) {
        *(unsigned *) ((char *) obj + map->line_off) = agent_line(node);
    }

    n = node->data.mapping.pairs.top - node->data.mapping.pairs.start;

    for (i = 0; i < n; i++) {
        pair = &node->data.mapping.pairs.start[i];
        key = agent_node(ctx, pair->key);
        value = agent_node(ctx, pair->value);

        if (key == NULL || value == NULL) {
            return agent_too_big(ctx, agent_line(node));
        }

        if (key->type != YAML_SCALAR_NODE) {
            return agent_err(ctx, agent_line(key), "expected a key, got %s",
                             agent_node_kind(key));
        }

        name = (const char *) key->data.scalar.value;

        for (k = 0, f = map->fields; f->key; f++, k++) {
            if (strlen(f->key) == key->data.scalar.length
                && memcmp(f->key, name, key->data.scalar.length) == 0)
            {
                break;
            }
        }

        if (f->key == NULL) {
            (void) snprintf(rel, sizeof(rel), "%.*s",
                            (int) (key->data.scalar.length > 64
                                   ? 64 : key->data.scalar.length), name);
            return agent_err_at(ctx, agent_line(key), rel, "unknown key");
        }

        old = agent_push_key(ctx, f->key);

        if (seen[k]) {
            return agent_err(ctx, agent_line(key), "duplicate key (first"
                             " on line %u)", seen[k]);
        }

        seen[k] = agent_line(key);

        if (agent_field(ctx, value, f, obj) != 0) {
            return -1;
        }

        agent_pop(ctx, old);
    }

    for (k = 0, f = map->fields; f->key; f++, k++) {
        if (f->required && !seen[k]) {
            return agent_err_at(ctx, agent_line(node), f->key,
                                "required field missing");
        }
    }

    return map->check ? map->check(ctx, obj, agent_line(node)) : 0;
}


/* ---- the schema -------------------------------------------------------- */

#define FLD(type, key, kind, member)                                        \
    { key, kind, offsetof(type, member), NO_LINE, 0, 0, 0, NULL, NULL }
#define REQ(type, key, kind, member)                                        \
    { key, kind, offsetof(type, member), NO_LINE, 1, 0, 0, NULL, NULL }
#define INT(type, key, member, min, max)                                    \
    { key, F_INT, offsetof(type, member), NO_LINE, 0, min, max, NULL, NULL }
#define SUB(type, key, kind, member, n, sub)                                \
    { key, kind, offsetof(type, member), n, 0, 0, 0, NULL, sub }
#define END  { NULL, F_STR, 0, 0, 0, 0, 0, NULL, NULL }


static int
agent_check_tool(agent_ctx_t *ctx, void *obj, unsigned line)
{
    ngx_http_rtagent_tool_def_t  *t = obj;

    if ((t->http == NULL) == (t->redis == NULL)) {
        return agent_err_at(ctx, line, "", "a tool definition needs"
                            " exactly one of http and redis");
    }

    return 0;
}


static int
agent_check_slot(agent_ctx_t *ctx, void *obj, unsigned line)
{
    ngx_http_rtagent_slot_def_t  *s = obj;

    if (s->length && s->type != NGX_HTTP_RTAGENT_SLOT_DIGITS) {
        return agent_err_at(ctx, line, "length", "only for type digits");
    }

    if ((s->min || s->max) && s->type != NGX_HTTP_RTAGENT_SLOT_NUMBER) {
        return agent_err_at(ctx, line, s->min ? "min" : "max",
                            "only for type number");
    }

    if (s->max && s->min > s->max) {
        return agent_err_at(ctx, line, "min", "greater than max");
    }

    if (s->type == NGX_HTTP_RTAGENT_SLOT_CHOICE && s->vocabulary.nelts == 0)
    {
        return agent_err_at(ctx, line, "vocabulary", "type choice needs"
                            " its choices here");
    }

    return 0;
}


static int
agent_check_intent(agent_ctx_t *ctx, void *obj, unsigned line)
{
    ngx_http_rtagent_intent_def_t  *in = obj;

    if (in->keywords.nelts == 0 && in->examples.nelts == 0) {
        return agent_err_at(ctx, line, "keywords", "an intent needs"
                            " keywords or examples");
    }

    if ((in->handoff.len != 0) + (in->tool.len != 0) + (in->next.len != 0)
        > 1)
    {
        return agent_err_at(ctx, line, in->handoff.len ? "handoff" : "tool",
                            "at most one of handoff, tool and next");
    }

    return 0;
}


static const agent_map_t  agent_http_map = {
    sizeof(ngx_http_rtagent_tool_http_t), NO_LINE,
    (const agent_field_t []) {
        { "method", F_ENUM, offsetof(ngx_http_rtagent_tool_http_t, method),
          NO_LINE, 0, 0, 0, agent_http_methods, NULL },
        REQ(ngx_http_rtagent_tool_http_t, "url", F_STR, url),
        SUB(ngx_http_rtagent_tool_http_t, "headers", F_HEADERS, headers,
            offsetof(ngx_http_rtagent_tool_http_t, nheaders), NULL),
        FLD(ngx_http_rtagent_tool_http_t, "body", F_STR, body),
        INT(ngx_http_rtagent_tool_http_t, "timeout_ms", timeout_ms, 1,
            60000),
        INT(ngx_http_rtagent_tool_http_t, "max_response", max_response, 1,
            16 * 1024 * 1024),
        END
    },
    NULL
};


static const agent_map_t  agent_redis_map = {
    sizeof(ngx_http_rtagent_tool_redis_t), NO_LINE,
    (const agent_field_t []) {
        REQ(ngx_http_rtagent_tool_redis_t, "command", F_STRS, command),
        END
    },
    NULL
};


static const agent_map_t  agent_tool_map = {
    sizeof(ngx_http_rtagent_tool_def_t), NO_LINE,
    (const agent_field_t []) {
        REQ(ngx_http_rtagent_tool_def_t, "name", F_IDENT, name),
        REQ(ngx_http_rtagent_tool_def_t, "description", F_STR, description),
        FLD(ngx_http_rtagent_tool_def_t, "arguments", F_IDENTS, arguments),
        SUB(ngx_http_rtagent_tool_def_t, "http", F_MAPP, http, NO_LINE,
            &agent_http_map),
        SUB(ngx_http_rtagent_tool_def_t, "redis", F_MAPP, redis, NO_LINE,
            &agent_redis_map),
        END
    },
    agent_check_tool
};


static const agent_map_t  agent_memory_map = {
    sizeof(ngx_http_rtagent_memory_def_t),
    offsetof(ngx_http_rtagent_memory_def_t, line),
    (const agent_field_t []) {
        FLD(ngx_http_rtagent_memory_def_t, "load_profile", F_BOOL,
            load_profile),
        INT(ngx_http_rtagent_memory_def_t, "context_turns", context_turns,
            0, 1000),
        END
    },
    NULL
};


static const agent_map_t  agent_escalation_map = {
    sizeof(ngx_http_rtagent_escalation_def_t),
    offsetof(ngx_http_rtagent_escalation_def_t, line),
    (const agent_field_t []) {
        REQ(ngx_http_rtagent_escalation_def_t, "target", F_STR, target),
        { "when", F_FLAGS, offsetof(ngx_http_rtagent_escalation_def_t, when),
          NO_LINE, 0, 0, 0, agent_escalate_when, NULL },
        FLD(ngx_http_rtagent_escalation_def_t, "message", F_STR, message),
        END
    },
    NULL
};


static const agent_map_t  agent_slot_map = {
    sizeof(ngx_http_rtagent_slot_def_t), NO_LINE,
    (const agent_field_t []) {
        REQ(ngx_http_rtagent_slot_def_t, "name", F_IDENT, name),
        REQ(ngx_http_rtagent_slot_def_t, "question", F_STR, question),
        { "type", F_ENUM, offsetof(ngx_http_rtagent_slot_def_t, type_name),
          offsetof(ngx_http_rtagent_slot_def_t, type), 1, 0, 0,
          agent_slot_types, NULL },
        INT(ngx_http_rtagent_slot_def_t, "length", length, 1, 32),
        INT(ngx_http_rtagent_slot_def_t, "min", min, -1000000000L,
            1000000000L),
        INT(ngx_http_rtagent_slot_def_t, "max", max, -1000000000L,
            1000000000L),
        FLD(ngx_http_rtagent_slot_def_t, "examples", F_STRS, examples),
        FLD(ngx_http_rtagent_slot_def_t, "vocabulary", F_STRS, vocabulary),
        FLD(ngx_http_rtagent_slot_def_t, "confirm", F_BOOL, confirm),
        FLD(ngx_http_rtagent_slot_def_t, "reprompt", F_STR, reprompt),
        END
    },
    agent_check_slot
};


static const agent_map_t  agent_intent_map = {
    sizeof(ngx_http_rtagent_intent_def_t), NO_LINE,
    (const agent_field_t []) {
        REQ(ngx_http_rtagent_intent_def_t, "name", F_IDENT, name),
        FLD(ngx_http_rtagent_intent_def_t, "keywords", F_STRS, keywords),
        FLD(ngx_http_rtagent_intent_def_t, "examples", F_STRS, examples),
        FLD(ngx_http_rtagent_intent_def_t, "say", F_STR, say),
        FLD(ngx_http_rtagent_intent_def_t, "handoff", F_IDENT, handoff),
        FLD(ngx_http_rtagent_intent_def_t, "tool", F_IDENT, tool),
        FLD(ngx_http_rtagent_intent_def_t, "next", F_IDENT, next),
        END
    },
    agent_check_intent
};


static const agent_map_t  agent_complete_map = {
    sizeof(ngx_http_rtagent_complete_def_t),
    offsetof(ngx_http_rtagent_complete_def_t, line),
    (const agent_field_t []) {
        FLD(ngx_http_rtagent_complete_def_t, "tool", F_IDENT, tool),
        FLD(ngx_http_rtagent_complete_def_t, "say", F_STR, say),
        FLD(ngx_http_rtagent_complete_def_t, "failure", F_STR, failure),
        END
    },
    NULL
};


static const agent_map_t  agent_local_map = {
    sizeof(ngx_http_rtagent_local_def_t),
    offsetof(ngx_http_rtagent_local_def_t, line),
    (const agent_field_t []) {
        FLD(ngx_http_rtagent_local_def_t, "reprompt", F_STR, reprompt),
        INT(ngx_http_rtagent_local_def_t, "max_attempts", max_attempts, 1,
            10),
        SUB(ngx_http_rtagent_local_def_t, "slots", F_LIST, slots,
            offsetof(ngx_http_rtagent_local_def_t, nslots), &agent_slot_map),
        FLD(ngx_http_rtagent_local_def_t, "confirm", F_STR, confirm),
        SUB(ngx_http_rtagent_local_def_t, "on_complete", F_MAP, on_complete,
            NO_LINE, &agent_complete_map),
        FLD(ngx_http_rtagent_local_def_t, "ask", F_STR, ask),
        SUB(ngx_http_rtagent_local_def_t, "intents", F_LIST, intents,
            offsetof(ngx_http_rtagent_local_def_t, nintents),
            &agent_intent_map),
        END
    },
    NULL
};


static int agent_check_agent(agent_ctx_t *ctx, void *obj, unsigned line);


static const agent_map_t  agent_agent_map = {
    sizeof(ngx_http_rtagent_agent_def_t), NO_LINE,
    (const agent_field_t []) {
        REQ(ngx_http_rtagent_agent_def_t, "name", F_IDENT, name),
        REQ(ngx_http_rtagent_agent_def_t, "description", F_STR, description),
        REQ(ngx_http_rtagent_agent_def_t, "greeting", F_STR, greeting),
        FLD(ngx_http_rtagent_agent_def_t, "prompt", F_STR, prompt),
        FLD(ngx_http_rtagent_agent_def_t, "prompt_file", F_STR, prompt_file),
        FLD(ngx_http_rtagent_agent_def_t, "model", F_STR, model),
        FLD(ngx_http_rtagent_agent_def_t, "tool_model", F_STR, tool_model),
        FLD(ngx_http_rtagent_agent_def_t, "voice", F_STR, voice),
        FLD(ngx_http_rtagent_agent_def_t, "language", F_STR, language),
        SUB(ngx_http_rtagent_agent_def_t, "tools", F_TOOLS, tools,
            offsetof(ngx_http_rtagent_agent_def_t, ntools), NULL),
        FLD(ngx_http_rtagent_agent_def_t, "handoffs", F_IDENTS, handoffs),
        SUB(ngx_http_rtagent_agent_def_t, "memory", F_MAP, memory, NO_LINE,
            &agent_memory_map),
        SUB(ngx_http_rtagent_agent_def_t, "escalation", F_MAP, escalation,
            NO_LINE, &agent_escalation_map),
        SUB(ngx_http_rtagent_agent_def_t, "local", F_MAPP, local, NO_LINE,
            &agent_local_map),
        END
    },
    agent_check_agent
};


/* ---- checks within one file -------------------------------------------- */

static int
agent_has(const ngx_http_rtagent_agent_str_t *s,
    const ngx_http_rtagent_agent_strs_t *list)
{
    size_t  i;

    for (i = 0; i < list->nelts; i++) {
        if (strcmp((char *) list->elts[i].data, (char *) s->data) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
agent_has_tool(const ngx_http_rtagent_agent_def_t *def,
    const ngx_http_rtagent_agent_str_t *s)
{
    size_t  i;

    for (i = 0; i < def->ntools; i++) {
        if (strcmp((char *) def->tools[i].name.data, (char *) s->data) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static int
agent_check_local(agent_ctx_t *ctx, ngx_http_rtagent_agent_def_t *def)
{
    char                            rel[64];
    size_t                          i, j;
    ngx_http_rtagent_local_def_t   *l = def->local;
    ngx_http_rtagent_slot_def_t    *s;
    ngx_http_rtagent_intent_def_t  *in;

    if (l->nslots == 0 && l->nintents == 0) {
        return agent_err_at(ctx, l->line, "local", "needs slots or intents");
    }

    for (i = 0; i < l->nslots; i++) {
        s = &l->slots[i];

        for (j = 0; j < i; j++) {
            if (strcmp((char *) l->slots[j].name.data, (char *) s->name.data)
                == 0)
            {
                (void) snprintf(rel, sizeof(rel), "local.slots[%zu].name",
                                i);
                return agent_err_at(ctx, s->name.line, rel, "slot \"%s\" is"
                                    " defined twice (line %u)", s->name.data,
                                    l->slots[j].name.line);
            }
        }
    }

    for (i = 0; i < l->nintents; i++) {
        in = &l->intents[i];

        for (j = 0; j < i; j++) {
            if (strcmp((char *) l->intents[j].name.data,
                       (char *) in->name.data)
                == 0)
            {
                (void) snprintf(rel, sizeof(rel), "local.intents[%zu].name",
                                i);
                return agent_err_at(ctx, in->name.line, rel, "intent \"%s\""
                                    " is defined twice (line %u)",
                                    in->name.data, l->intents[j].name.line);
            }
        }

        if (in->handoff.len && !agent_has(&in->handoff, &def->handoffs)) {
            (void) snprintf(rel, sizeof(rel), "local.intents[%zu].handoff",
                            i);
            return agent_err_at(ctx, in->handoff.line, rel, "\"%s\" is not"
                                " in this agent's handoffs",
                                in->handoff.data);
        }

        if (in->tool.len && !agent_has_tool(def, &in->tool)) {
            (void) snprintf(rel, sizeof(rel), "local.intents[%zu].tool", i);
            return agent_err_at(ctx, in->tool.line, rel, "\"%s\" is not in"
                                " this agent's tools", in->tool.data);
        }

        /* the dialogue transfers to the escalation's target: there must
         * be one (the tool alone, for a model, answers an error instead) */
        if (in->tool.len && def->escalation.target.data == NULL
            && strcmp((char *) in->tool.data, "transfer_to_human") == 0)
        {
            (void) snprintf(rel, sizeof(rel), "local.intents[%zu].tool", i);
            return agent_err_at(ctx, in->tool.line, rel, "transfer_to_human"
                                " needs the agent's escalation.target");
        }

        if (in->next.len) {
            for (j = 0; j < l->nslots; j++) {
                if (strcmp((char *) l->slots[j].name.data,
                           (char *) in->next.data)
                    == 0)
                {
                    break;
                }
            }

            if (j == l->nslots) {
                (void) snprintf(rel, sizeof(rel), "local.intents[%zu].next",
                                i);
                return agent_err_at(ctx, in->next.line, rel, "no slot named"
                                    " \"%s\"", in->next.data);
            }
        }
    }

    if (l->on_complete.tool.len
        && !agent_has_tool(def, &l->on_complete.tool))
    {
        return agent_err_at(ctx, l->on_complete.tool.line,
                            "local.on_complete.tool", "\"%s\" is not in this"
                            " agent's tools", l->on_complete.tool.data);
    }

    return 0;
}


static int
agent_check_agent(agent_ctx_t *ctx, void *obj, unsigned line)
{
    char                           rel[64];
    size_t                         i, j;
    ngx_http_rtagent_agent_def_t  *def = obj;

    if (def->prompt.len && def->prompt_file.len) {
        return agent_err_at(ctx, def->prompt_file.line, "prompt_file",
                            "give prompt or prompt_file, not both");
    }

    if (!def->prompt.len && !def->prompt_file.len) {
        return agent_err_at(ctx, line, "prompt", "required field missing"
                            " (or prompt_file)");
    }

    for (i = 0; i < def->handoffs.nelts; i++) {
        (void) snprintf(rel, sizeof(rel), "handoffs[%zu]", i);

        if (strcmp((char *) def->handoffs.elts[i].data,
                   (char *) def->name.data)
            == 0)
        {
            return agent_err_at(ctx, def->handoffs.elts[i].line, rel,
                                "an agent cannot hand off to itself");
        }

        for (j = 0; j < i; j++) {
            if (strcmp((char *) def->handoffs.elts[j].data,
                       (char *) def->handoffs.elts[i].data)
                == 0)
            {
                return agent_err_at(ctx, def->handoffs.elts[i].line, rel,
                                    "\"%s\" is listed twice",
                                    def->handoffs.elts[i].data);
            }
        }
    }

    if (def->local && agent_check_local(ctx, def) != 0) {
        return -1;
    }

    return 0;
}


static void
agent_defaults(ngx_http_rtagent_agent_def_t *def)
{
    size_t  i;

    /* the minimum of these is 1, so 0 is "not given" */

    if (def->local && def->local->max_attempts == 0) {
        def->local->max_attempts = 3;
    }

    for (i = 0; i < def->ntools; i++) {
        if (def->tools[i].http) {
            if (def->tools[i].http->timeout_ms == 0) {
                def->tools[i].http->timeout_ms = 5000;
            }

            if (def->tools[i].http->max_response == 0) {
                def->tools[i].http->max_response = 65536;
            }
        }
    }
}


/* ---- the entry points -------------------------------------------------- */

int
ngx_http_rtagent_agent_def_parse(const unsigned char *p, size_t len,
    const char *file, ngx_http_rtagent_agent_alloc_pt alloc, void *actx,
    ngx_http_rtagent_agent_def_t **def, char *err, size_t errlen)
{
    int                            rc;
    yaml_node_t                   *root;
    yaml_parser_t                  parser;
    yaml_document_t                doc, next;
    agent_ctx_t                    ctx;
    ngx_http_rtagent_agent_def_t  *d;

    memset(&ctx, 0, sizeof(ctx));
    ctx.file = file;
    ctx.alloc = alloc;
    ctx.actx = actx;
    ctx.err = err;
    ctx.errlen = errlen;
    ctx.doc = &doc;

    if (errlen) {
        err[0] = '\0';
    }

    *def = NULL;

    if (!yaml_parser_initialize(&parser)) {
        return agent_nomem(&ctx);
    }

    yaml_parser_set_input_string(&parser, p, len);

    if (!yaml_parser_load(&parser, &doc)) {
        goto yaml_error;
    }

    root = yaml_document_get_root_node(&doc);

    if (root == NULL) {
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        return agent_err(&ctx, 1, "empty file");
    }

    if (!yaml_parser_load(&parser, &next)) {
        yaml_document_delete(&doc);
        goto yaml_error;
    }

    if (yaml_document_get_root_node(&next) != NULL) {
        rc = agent_err(&ctx, (unsigned) next.start_mark.line + 1,
                       "a second YAML document: one agent per file");
        yaml_document_delete(&next);
        goto done;
    }

    yaml_document_delete(&next);

    d = agent_alloc(&ctx, sizeof(ngx_http_rtagent_agent_def_t));
    if (d == NULL) {
        rc = agent_nomem(&ctx);
        goto done;
    }

    d->file = file;

    /* 0 is a value of its own here (keep no context) */
    d->memory.context_turns = 20;

    ctx.nodes = 1;
    rc = agent_map(&ctx, root, &agent_agent_map, d);

    if (rc == 0) {
        agent_defaults(d);
        *def = d;
    }

done:

    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);

    return rc;

yaml_error:

    if (parser.error == YAML_MEMORY_ERROR) {
        rc = agent_nomem(&ctx);

    } else if (parser.context) {
        rc = agent_err_at(&ctx, (unsigned) parser.problem_mark.line + 1,
                          "yaml", "%s %s", parser.problem
                          ? parser.problem : "syntax error", parser.context);
    } else {
        rc = agent_err_at(&ctx, (unsigned) parser.problem_mark.line + 1,
                          "yaml", "%s", parser.problem
                          ? parser.problem : "syntax error");
    }

    yaml_parser_delete(&parser);

    return rc;
}


int
ngx_http_rtagent_agent_def_builtin(const unsigned char *name, size_t len)
{
    const char *const  *b;

    for (b = ngx_http_rtagent_agent_builtin_tools; *b; b++) {
        if (strlen(*b) == len && memcmp(*b, name, len) == 0) {
            return 1;
        }
    }

    return 0;
}


ngx_http_rtagent_agent_def_t *
ngx_http_rtagent_agent_def_find(ngx_http_rtagent_agent_def_t **defs,
    size_t n, const unsigned char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (defs[i]->name.len == len
            && memcmp(defs[i]->name.data, name, len) == 0)
        {
            return defs[i];
        }
    }

    return NULL;
}


static ngx_http_rtagent_tool_def_t *
agent_tool_def(ngx_http_rtagent_agent_def_t **defs, size_t n,
    const unsigned char *name, size_t len, ngx_http_rtagent_agent_def_t **in)
{
    size_t                        i, j;
    ngx_http_rtagent_tool_def_t  *t;

    for (i = 0; i < n; i++) {
        for (j = 0; j < defs[i]->ntools; j++) {
            t = &defs[i]->tools[j];

            if (t->defined && t->name.len == len
                && memcmp(t->name.data, name, len) == 0)
            {
                if (in) {
                    *in = defs[i];
                }

                return t;
            }
        }
    }

    return NULL;
}


const ngx_http_rtagent_tool_def_t *
ngx_http_rtagent_agent_def_tool(ngx_http_rtagent_agent_def_t **defs,
    size_t n, const unsigned char *name, size_t len)
{
    return agent_tool_def(defs, n, name, len, NULL);
}


static int
agent_link_err(char *err, size_t errlen, const char *file, unsigned line,
    const char *fmt, ...)
{
    int      n;
    va_list  ap;

    if (errlen == 0) {
        return -1;
    }

    n = snprintf(err, errlen, "%s:%u: ", file, line);

    if (n >= 0 && (size_t) n < errlen) {
        va_start(ap, fmt);
        (void) vsnprintf(err + n, errlen - n, fmt, ap);
        va_end(ap);
    }

    return -1;
}


int
ngx_http_rtagent_agent_def_link(ngx_http_rtagent_agent_def_t **defs,
    size_t n, const char *entry, char *err, size_t errlen)
{
    size_t                         i, j;
    ngx_http_rtagent_tool_def_t   *t, *first;
    ngx_http_rtagent_agent_def_t  *d, *other;
    ngx_http_rtagent_agent_str_t  *h;

    if (errlen) {
        err[0] = '\0';
    }

    for (i = 0; i < n; i++) {
        d = defs[i];
        other = ngx_http_rtagent_agent_def_find(defs, i, d->name.data,
                                                d->name.len);
        if (other) {
            return agent_link_err(err, errlen, d->file, d->name.line,
                                  "name: agent \"%s\" is already defined in"
                                  " %s:%u", d->name.data, other->file,
                                  other->name.line);
        }
    }

    for (i = 0; i < n; i++) {
        d = defs[i];

        for (j = 0; j < d->ntools; j++) {
            t = &d->tools[j];

            if (t->defined) {
                if (ngx_http_rtagent_agent_def_builtin(t->name.data,
                                                       t->name.len))
                {
                    return agent_link_err(err, errlen, d->file, t->name.line,
                                          "tools[%zu].name: \"%s\" is a"
                                          " built-in tool", j, t->name.data);
                }

                first = agent_tool_def(defs, n, t->name.data, t->name.len,
                                       &other);
                if (first != t) {
                    return agent_link_err(err, errlen, d->file, t->name.line,
                                          "tools[%zu].name: tool \"%s\" is"
                                          " already defined in %s:%u", j,
                                          t->name.data, other->file,
                                          first->name.line);
                }

                continue;
            }

            if (ngx_http_rtagent_agent_def_builtin(t->name.data,
                                                   t->name.len))
            {
                t->kind = NGX_HTTP_RTAGENT_TOOL_BUILTIN;
                continue;
            }

            first = agent_tool_def(defs, n, t->name.data, t->name.len, NULL);
            if (first == NULL) {
                return agent_link_err(err, errlen, d->file, t->name.line,
                                      "tools[%zu]: unknown tool \"%s\": not"
                                      " built in (verify_identity,"
                                      " lookup_policy, create_claim,"
                                      " schedule_appointment,"
                                      " transfer_to_human, end_call) and"
                                      " defined by no agent", j,
                                      t->name.data);
            }

            t->kind = first->kind;
        }

        for (j = 0; j < d->handoffs.nelts; j++) {
            h = &d->handoffs.elts[j];

            if (ngx_http_rtagent_agent_def_find(defs, n, h->data, h->len)
                == NULL)
            {
                return agent_link_err(err, errlen, d->file, h->line,
                                      "handoffs[%zu]: no agent named \"%s\"",
                                      j, h->data);
            }
        }
    }

    if (ngx_http_rtagent_agent_def_find(defs, n, (const unsigned char *) entry,
                                        strlen(entry))
        == NULL)
    {
        if (errlen) {
            (void) snprintf(err, errlen, "entry agent \"%s\": no agent of"
                            " that name is defined", entry);
        }

        return -1;
    }

    return 0;
}
