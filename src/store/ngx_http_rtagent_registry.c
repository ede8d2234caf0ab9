
/*
 * The agent registry and the demo records in Redis: one command each,
 * built here in a heap buffer that ngx_http_rtagent_redis_write() copies.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <io/ngx_http_rtagent_redis.h>
#include <store/ngx_http_rtagent_registry.h>


typedef struct {
    ngx_http_rtagent_registry_list_pt   handler;
    void                               *data;
    ngx_log_t                          *log;
} ngx_http_rtagent_registry_op_t;


static ngx_int_t ngx_http_rtagent_registry_hset(const char *script,
    ngx_str_t *prefix, ngx_str_t *id, const char *id_name,
    ngx_http_rtagent_store_field_t *fields, ngx_uint_t n, ngx_msec_t ttl,
    ngx_log_t *log);
static void ngx_http_rtagent_registry_listed(void *data, redisReply *reply);


/* KEYS[1] the hash, ARGV[1] its TTL in ms, then field, value, ... */
static ngx_str_t  ngx_http_rtagent_registry_publish_lua = ngx_string(
    "redis.call('DEL', KEYS[1]) "
    "redis.call('HSET', KEYS[1], unpack(ARGV, 2)) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "return 1");

/*
 * every agent's hash, in key order; KEYS is fine for a registry of a few
 * dozen keys (not for Redis Cluster, where it sees one node only)
 */
static ngx_str_t  ngx_http_rtagent_registry_list_lua = ngx_string(
    "local keys = redis.call('KEYS', 'rtagent:agent:{*}') "
    "table.sort(keys) "
    "local out = {} "
    "for i, k in ipairs(keys) do "
        "out[#out + 1] = redis.call('HGETALL', k) "
    "end "
    "return out");


ngx_int_t
ngx_http_rtagent_registry_publish(ngx_str_t *name,
    ngx_http_rtagent_store_field_t *fields, ngx_uint_t n, ngx_msec_t ttl,
    ngx_log_t *log)
{
    static ngx_str_t  prefix = ngx_string("rtagent:agent:");

    return ngx_http_rtagent_registry_hset("publish", &prefix, name, "name",
                                          fields, n, ttl, log);
}


ngx_int_t
ngx_http_rtagent_registry_policy(ngx_str_t *policy,
    ngx_http_rtagent_store_field_t *fields, ngx_uint_t n, ngx_log_t *log)
{
    static ngx_str_t  prefix = ngx_string("rtagent:policy:");

    return ngx_http_rtagent_registry_hset(NULL, &prefix, policy, "policy",
                                          fields, n, 0, log);
}


/*
 * HSET <prefix>{<id>} <id_name> <id> fields..., or with script the
 * publish script (which also sets the TTL)
 */
static ngx_int_t
ngx_http_rtagent_registry_hset(const char *script, ngx_str_t *prefix,
    ngx_str_t *id, const char *id_name,
    ngx_http_rtagent_store_field_t *fields, ngx_uint_t n, ngx_msec_t ttl,
    ngx_log_t *log)
{
    u_char      *p, *key, *num;
    size_t      *len;
    ngx_int_t    rc;
    ngx_str_t   *lua, *sha;
    ngx_uint_t   argc, i;
    const char **argv;

    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_DECLINED;
    }

    argc = 0;
    argv = ngx_alloc((2 * n + 8) * (sizeof(char *) + sizeof(size_t))
                     + prefix->len + id->len + sizeof("{}")
                     + NGX_INT_T_LEN, log);
    if (argv == NULL) {
        return NGX_ERROR;
    }

    len = (size_t *) (argv + 2 * n + 8);
    key = (u_char *) (len + 2 * n + 8);

    p = ngx_sprintf(key, "%V{%V}", prefix, id);
    num = p;

    if (script) {
        lua = &ngx_http_rtagent_registry_publish_lua;
        sha = ngx_http_rtagent_redis_script(lua);

        if (sha) {
            argv[argc] = "EVALSHA"; len[argc++] = sizeof("EVALSHA") - 1;
            argv[argc] = (char *) sha->data; len[argc++] = sha->len;

        } else {
            argv[argc] = "EVAL"; len[argc++] = sizeof("EVAL") - 1;
            argv[argc] = (char *) lua->data; len[argc++] = lua->len;
        }

        argv[argc] = "1"; len[argc++] = 1;
        argv[argc] = (char *) key; len[argc++] = p - key;

        argv[argc] = (char *) num;
        len[argc++] = ngx_sprintf(num, "%M", ttl) - num;

    } else {
        argv[argc] = "HSET"; len[argc++] = sizeof("HSET") - 1;
        argv[argc] = (char *) key; len[argc++] = p - key;
    }

    argv[argc] = id_name; len[argc++] = ngx_strlen(id_name);
    argv[argc] = (char *) id->data; len[argc++] = id->len;

    for (i = 0; i < n; i++) {
        argv[argc] = fields[i].name; len[argc++] = ngx_strlen(fields[i].name);
        argv[argc] = (char *) fields[i].value.data;
        len[argc++] = fields[i].value.len;
    }

    rc = ngx_http_rtagent_redis_write((int) argc, argv, len, NULL, NULL);

    ngx_free(argv);

    return rc;
}


ngx_int_t
ngx_http_rtagent_registry_list(ngx_log_t *log,
    ngx_http_rtagent_registry_list_pt handler, void *data)
{
    size_t                           len[3];
    ngx_int_t                        rc;
    ngx_str_t                       *lua, *sha;
    const char                      *argv[3];
    ngx_http_rtagent_registry_op_t  *op;

    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_DECLINED;
    }

    op = ngx_alloc(sizeof(ngx_http_rtagent_registry_op_t), log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->handler = handler;
    op->data = data;
    op->log = log;

    lua = &ngx_http_rtagent_registry_list_lua;
    sha = ngx_http_rtagent_redis_script(lua);

    if (sha) {
        argv[0] = "EVALSHA"; len[0] = sizeof("EVALSHA") - 1;
        argv[1] = (char *) sha->data; len[1] = sha->len;

    } else {
        argv[0] = "EVAL"; len[0] = sizeof("EVAL") - 1;
        argv[1] = (char *) lua->data; len[1] = lua->len;
    }

    argv[2] = "0"; len[2] = 1;

    rc = ngx_http_rtagent_redis_write(3, argv, len,
                                      ngx_http_rtagent_registry_listed, op);
    if (rc != NGX_OK) {
        ngx_free(op);
    }

    return rc;
}


static void
ngx_http_rtagent_registry_listed(void *data, redisReply *reply)
{
    ngx_http_rtagent_registry_op_t *op = data;

    size_t                              size;
    ngx_int_t                           n;
    ngx_str_t                          *s;
    ngx_uint_t                          i, k, total;
    redisReply                         *e, *f;
    ngx_http_rtagent_registry_entry_t  *entries;

    entries = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        if (reply && reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, op->log, 0,
                          "rtagent registry: list failed: %*s",
                          (size_t) reply->len, reply->str);
        }

        n = (reply == NULL && !ngx_http_rtagent_redis_enabled())
            ? NGX_HTTP_RTAGENT_STORE_EXITING : -1;
        goto done;
    }

    total = 0;

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        if (e->type == REDIS_REPLY_ARRAY) {
            total += e->elements / 2;
        }
    }

    size = reply->elements * sizeof(ngx_http_rtagent_registry_entry_t)
           + 2 * total * sizeof(ngx_str_t);

    entries = ngx_alloc(size ? size : 1, op->log);
    if (entries == NULL) {
        n = -1;
        goto done;
    }

    s = (ngx_str_t *) (entries + reply->elements);
    n = 0;

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        /* an empty array: the hash expired between KEYS and HGETALL */
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2) {
            continue;
        }

        entries[n].nfields = 0;
        entries[n].names = s;
        entries[n].values = s + e->elements / 2;

        for (k = 0; k + 1 < e->elements; k += 2) {
            f = e->element[k];

            if (f->type != REDIS_REPLY_STRING
                || e->element[k + 1]->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            entries[n].names[entries[n].nfields].data = (u_char *) f->str;
            entries[n].names[entries[n].nfields].len = f->len;
            entries[n].values[entries[n].nfields].data =
                                         (u_char *) e->element[k + 1]->str;
            entries[n].values[entries[n].nfields].len =
                                         e->element[k + 1]->len;
            entries[n].nfields++;
        }

        s += 2 * (e->elements / 2);
        n++;
    }

done:

    if (op->handler) {
        op->handler(op->data, n, n < 0 ? NULL : entries);
    }

    if (entries) {
        ngx_free(entries);
    }

    ngx_free(op);
}
