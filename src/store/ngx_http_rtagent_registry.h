
/*
 * Which agents are live where, and the demo records, in Redis (DESIGN.md
 * section 5), written through the worker's Redis connection
 * (io/ngx_http_rtagent_redis.h).  The braces in the key names are literal.
 *
 *   rtagent:agent:{<name>}     hash: name, version, description, tools,
 *                              languages, instance, pid, updated_at; a
 *                              short TTL renewed by the publisher, so an
 *                              agent no worker serves any more is gone
 *                              once it expires
 *   rtagent:policy:{<policy>}  hash: policy, zip, name, phone, vehicles;
 *                              no TTL
 *
 * All functions return NGX_DECLINED without rtagent_redis (no handler is
 * then called), NGX_ERROR when out of memory, else NGX_OK.  Nothing passed
 * in is used after the call returns.
 */


#ifndef _NGX_HTTP_RTAGENT_REGISTRY_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_REGISTRY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <store/ngx_http_rtagent_store.h>


/*
 * Replaces rtagent:agent:{<name>} with the fields, the "name" included,
 * and gives it ttl (one script: no stale field survives a refresh)
 */
ngx_int_t ngx_http_rtagent_registry_publish(ngx_str_t *name,
    ngx_http_rtagent_store_field_t *fields, ngx_uint_t n, ngx_msec_t ttl,
    ngx_log_t *log);

/* HSET rtagent:policy:{<policy>} the fields, the "policy" included */
ngx_int_t ngx_http_rtagent_registry_policy(ngx_str_t *policy,
    ngx_http_rtagent_store_field_t *fields, ngx_uint_t n, ngx_log_t *log);


/* one live agent: nfields pairs, names[i] = values[i] */
typedef struct {
    ngx_uint_t                 nfields;
    ngx_str_t                 *names;
    ngx_str_t                 *values;
} ngx_http_rtagent_registry_entry_t;

/*
 * n live agents (in name order), n < 0 when Redis did not answer
 * (NGX_HTTP_RTAGENT_STORE_EXITING: the worker exits); the strings live
 * during the handler only
 */
typedef void (*ngx_http_rtagent_registry_list_pt)(void *data, ngx_int_t n,
    ngx_http_rtagent_registry_entry_t *entries);

/* every rtagent:agent:* hash, read by one script (KEYS: a small set) */
ngx_int_t ngx_http_rtagent_registry_list(ngx_log_t *log,
    ngx_http_rtagent_registry_list_pt handler, void *data);


#endif /* _NGX_HTTP_RTAGENT_REGISTRY_H_INCLUDED_ */
