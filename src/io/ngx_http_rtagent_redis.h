
/*
 * Redis for one worker process: two hiredis 0.14 async contexts driven by
 * nginx events, one for commands and one for SUBSCRIBE, opened in
 * init_process.  Writes survive an outage: while Redis is unreachable they
 * are queued (bounded by count and bytes, the oldest dropped first) and
 * replayed in order once it is back; every subscription is renewed after a
 * reconnect.  Its own nginx module (ngx_http_rtagent_redis_module, the
 * rtagent_redis directive) in the rtagent .so.
 */


#ifndef _NGX_HTTP_RTAGENT_REDIS_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>


/*
 * The answer to a write, exactly once for every write that was accepted:
 * the reply (an error reply included), or NULL when the write was dropped
 * (the queue was full, or the worker exited with Redis unreachable).  A
 * write that was in flight when the connection broke is sent again after
 * the reconnect, so it may have been applied twice: writes must be
 * idempotent or checked by the server (see the store's transcript script).
 */
typedef void (*ngx_http_rtagent_redis_reply_pt)(void *data,
    redisReply *reply);

/*
 * a message published on a subscribed channel; message NULL: the
 * subscription is in place, the first time or again after a reconnect
 * (what was published meanwhile reached no one)
 */
typedef void (*ngx_http_rtagent_redis_message_pt)(void *data,
    ngx_str_t *channel, ngx_str_t *message);

/*
 * Called once the command connection is back, after the queued writes
 * were replayed, if the server is not the one it was before (another
 * run_id: a restart or a failover) or if queued writes were dropped:
 * whatever should be in Redis may be missing.
 */
typedef void (*ngx_http_rtagent_redis_reset_pt)(void);

/* the worker exits: last writes now, they are flushed without waiting */
typedef void (*ngx_http_rtagent_redis_exit_pt)(void);


/* rtagent_redis is configured and this worker has its connections */
ngx_int_t ngx_http_rtagent_redis_enabled(void);

/*
 * Queues one command (argv as for redisCommandArgv; copied).  Returns
 * NGX_OK (handler will be called), NGX_DECLINED without rtagent_redis, or
 * NGX_ERROR when out of memory.  handler may be NULL.
 */
ngx_int_t ngx_http_rtagent_redis_write(int argc, const char **argv,
    const size_t *argvlen, ngx_http_rtagent_redis_reply_pt handler,
    void *data);

/*
 * Subscribes the worker to a channel until ngx_http_rtagent_redis_
 * unsubscribe(); kept across reconnects.  NGX_BUSY if this worker already
 * has a subscriber on that channel, NGX_DECLINED without rtagent_redis.
 * The handler is never called after unsubscribe.
 */
ngx_int_t ngx_http_rtagent_redis_subscribe(ngx_str_t *channel,
    ngx_http_rtagent_redis_message_pt handler, void *data);
void ngx_http_rtagent_redis_unsubscribe(ngx_str_t *channel);

/*
 * The SHA1 of a Lua script (static text) for EVALSHA, or NULL (no
 * rtagent_redis, out of memory: send EVAL then).  The script is loaded
 * (SCRIPT LOAD) on every command connection before the writes queued on
 * it; a write refused with NOSCRIPT all the same goes again as EVAL.
 */
ngx_str_t *ngx_http_rtagent_redis_script(ngx_str_t *lua);

void ngx_http_rtagent_redis_on_reset(ngx_http_rtagent_redis_reset_pt handler);
void ngx_http_rtagent_redis_on_exit(ngx_http_rtagent_redis_exit_pt handler);


extern ngx_module_t  ngx_http_rtagent_redis_module;


#endif /* _NGX_HTTP_RTAGENT_REDIS_H_INCLUDED_ */
