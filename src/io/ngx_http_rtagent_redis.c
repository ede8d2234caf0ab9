
/*
 * Redis for one worker (see ngx_http_rtagent_redis.h).
 *
 * hiredis 0.14.1 has no timers, no redisOptions and no RESP3: the connect
 * timeout, the reply timeout and the keepalive PING are nginx timers here.
 * The socket is registered level-triggered (hiredis reads at most 16 KiB
 * per call), and it belongs to hiredis: redisFree() closes it, so the
 * cleanup hook deletes the events and frees the ngx_connection_t, and
 * never closes the fd itself.
 *
 * A teardown (an error, a timeout, worker exit) runs inside hiredis's
 * __redisAsyncFree(): reply callbacks get NULL (their writes go back to
 * the queue), subscription callbacks get NULL (ignored: the channel table
 * here is what counts), then the cleanup hook, the disconnect callback,
 * and close(fd).  The reconnect is a timer, never made from inside that.
 *
 * The subscriber connection always holds one channel of its own, the
 * worker channel, so it never leaves subscribe mode.  In subscribe mode
 * 0.14 files a command's callback under "invalid" replies and releases it
 * only at teardown; so the keepalive PING goes out without a callback there,
 * and any reply read within the timeout counts as alive.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include <hiredis/async.h>
#include <openssl/sha.h>

#include <ngx_http_rtagent_core.h>
#include <io/ngx_http_rtagent_redis.h>


/* writes handed to hiredis before their replies; the rest wait queued */
#define NGX_HTTP_RTAGENT_REDIS_WINDOW        1024

#define NGX_HTTP_RTAGENT_REDIS_BACKOFF_MIN   100
#define NGX_HTTP_RTAGENT_REDIS_BACKOFF_MAX   3000

#define NGX_HTTP_RTAGENT_REDIS_PASSWORD_MAX  1024

/* at most one "queue full" line per this many ms; the rest are counted */
#define NGX_HTTP_RTAGENT_REDIS_DROP_LOG      1000

#define NGX_HTTP_RTAGENT_REDIS_DOWN          0
#define NGX_HTTP_RTAGENT_REDIS_CONNECTING    1
#define NGX_HTTP_RTAGENT_REDIS_READY         2

/* handshake steps, passed to hiredis as privdata */
#define NGX_HTTP_RTAGENT_REDIS_AUTH          1
#define NGX_HTTP_RTAGENT_REDIS_SELECT        2
#define NGX_HTTP_RTAGENT_REDIS_INFO          3


typedef struct ngx_http_rtagent_redis_s  ngx_http_rtagent_redis_t;


/* a Lua script the worker runs by its SHA1 (EVALSHA) */
typedef struct {
    ngx_str_t                        lua;         /* the caller's, static */
    ngx_str_t                        sha;         /* 40 hex digits */
    u_char                           hex[2 * SHA_DIGEST_LENGTH];
} ngx_http_rtagent_redis_script_t;


typedef struct {
    ngx_str_t                        addr;        /* as configured */
    ngx_str_t                        host;        /* IP literal, with NUL */
    ngx_int_t                        port;
    ngx_str_t                        path;        /* unix socket, with NUL */
    ngx_int_t                        db;
    ngx_str_t                        password;    /* never logged */
    ngx_msec_t                       connect_timeout;
    ngx_msec_t                       command_timeout;
    ngx_msec_t                       keepalive;   /* 0: off */
    ngx_uint_t                       queue;
    size_t                           queue_size;

    ngx_http_rtagent_redis_t        *redis;       /* this worker's */
} ngx_http_rtagent_redis_main_conf_t;


typedef struct {
    ngx_http_rtagent_redis_t        *redis;
    redisAsyncContext               *ac;          /* NULL while down */
    ngx_connection_t                *c;
    const char                      *name;        /* for logs */

    ngx_uint_t                       state;
    ngx_uint_t                       failures;    /* tries since it was up */
    ngx_msec_t                       backoff;
    ngx_msec_t                       down_since;

    ngx_uint_t                       reads;       /* read events so far */
    ngx_uint_t                       ping_reads;  /* reads when PING left */
    ngx_msec_t                       last_read;

    ngx_http_rtagent_timer_t         connect;     /* the connect timeout, or
                                                     the wait to retry */
    ngx_http_rtagent_timer_t         keepalive;

    u_char                           reason[128]; /* why it went down */

    unsigned                         subscriber:1;
    unsigned                         subscribing:1; /* SUBSCRIBEs sent */
    unsigned                         pinging:1;
    unsigned                         broken:1;      /* drop at next tick */
} ngx_http_rtagent_redis_conn_t;


struct ngx_http_rtagent_redis_s {
    ngx_http_rtagent_redis_main_conf_t  *conf;
    ngx_log_t                       *log;

    ngx_http_rtagent_redis_conn_t    cmd;
    ngx_http_rtagent_redis_conn_t    sub;

    ngx_queue_t                      pending;     /* not yet sent, oldest
                                                     first */
    ngx_queue_t                      inflight;    /* sent, no reply yet */
    ngx_queue_t                      requeue;     /* in flight at teardown */
    ngx_uint_t                       npending;
    size_t                           pending_size;
    ngx_uint_t                       ninflight;
    ngx_http_rtagent_timer_t         reply;       /* oldest reply's deadline */

    ngx_uint_t                       dropped;     /* not yet logged */
    ngx_msec_t                       dropped_logged;
    ngx_uint_t                       lost;        /* at exit */

    ngx_rbtree_t                     channels;
    ngx_rbtree_node_t                sentinel;
    ngx_array_t                      scripts;     /* of ..._script_t */
    ngx_str_t                        worker_channel;

    u_char                           run_id[40];
    size_t                           run_id_len;
    ngx_http_rtagent_redis_reset_pt  reset;
    ngx_http_rtagent_redis_exit_pt   exit;

    unsigned                         server_changed:1;
    unsigned                         incomplete:1;  /* writes were dropped */
    unsigned                         no_info:1;     /* INFO is refused */
    unsigned                         exiting:1;
};


typedef struct {
    ngx_queue_t                      queue;
    ngx_http_rtagent_redis_reply_pt  handler;
    void                            *data;
    ngx_msec_t                       sent;
    size_t                           len;
    u_char                          *cmd;         /* RESP, after this */
} ngx_http_rtagent_redis_write_t;


typedef struct {
    ngx_str_node_t                   sn;          /* the channel */
    ngx_http_rtagent_redis_message_pt  handler;   /* NULL: unsubscribed */
    void                            *data;
    unsigned                         sent:1;      /* SUBSCRIBE on this
                                                     connection */
    unsigned                         leaving:1;   /* UNSUBSCRIBE sent */
    unsigned                         confirmed:1; /* in place, not yet said
                                                     (no command connection) */
} ngx_http_rtagent_redis_sub_t;


static char *ngx_http_rtagent_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_redis_parse_addr(ngx_conf_t *cf,
    ngx_http_rtagent_redis_main_conf_t *mcf, ngx_str_t *addr);
static ngx_int_t ngx_http_rtagent_redis_password_file(ngx_conf_t *cf,
    ngx_http_rtagent_redis_main_conf_t *mcf, ngx_str_t *name);
static void *ngx_http_rtagent_redis_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_redis_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_redis_exit_process(ngx_cycle_t *cycle);

static ngx_http_rtagent_redis_t *ngx_http_rtagent_redis_worker(void);
static void ngx_http_rtagent_redis_conn_init(ngx_http_rtagent_redis_t *redis,
    ngx_http_rtagent_redis_conn_t *conn, const char *name);
static void ngx_http_rtagent_redis_connect(
    ngx_http_rtagent_redis_conn_t *conn);
static ngx_int_t ngx_http_rtagent_redis_attach(
    ngx_http_rtagent_redis_conn_t *conn, redisAsyncContext *ac);
static void ngx_http_rtagent_redis_add_read(void *data);
static void ngx_http_rtagent_redis_del_read(void *data);
static void ngx_http_rtagent_redis_add_write(void *data);
static void ngx_http_rtagent_redis_del_write(void *data);
static void ngx_http_rtagent_redis_cleanup(void *data);
static void ngx_http_rtagent_redis_broken(ngx_http_rtagent_redis_conn_t *conn,
    const char *what);
static void ngx_http_rtagent_redis_read_handler(ngx_event_t *rev);
static void ngx_http_rtagent_redis_write_handler(ngx_event_t *wev);
static void ngx_http_rtagent_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_rtagent_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_rtagent_redis_handshake(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_rtagent_redis_server_info(ngx_http_rtagent_redis_t *redis,
    redisReply *reply, ngx_uint_t *loading);
static void ngx_http_rtagent_redis_ready(ngx_http_rtagent_redis_conn_t *conn);
static void ngx_http_rtagent_redis_down(ngx_http_rtagent_redis_conn_t *conn);
static void ngx_http_rtagent_redis_drop(ngx_http_rtagent_redis_conn_t *conn);
static void ngx_http_rtagent_redis_reason(ngx_http_rtagent_redis_conn_t *conn,
    const char *fmt, ...);
static void ngx_http_rtagent_redis_connect_handler(ngx_event_t *ev);
static void ngx_http_rtagent_redis_keepalive_handler(ngx_event_t *ev);

static void ngx_http_rtagent_redis_pump(ngx_http_rtagent_redis_t *redis,
    ngx_uint_t all);
static void ngx_http_rtagent_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static ngx_uint_t ngx_http_rtagent_redis_transient(redisReply *reply);
static void ngx_http_rtagent_redis_reply_handler(ngx_event_t *ev);
static void ngx_http_rtagent_redis_reply_timer(ngx_http_rtagent_redis_t *redis);
static void ngx_http_rtagent_redis_requeue(ngx_http_rtagent_redis_t *redis);
static void ngx_http_rtagent_redis_trim(ngx_http_rtagent_redis_t *redis);
static void ngx_http_rtagent_redis_log_dropped(
    ngx_http_rtagent_redis_t *redis, ngx_uint_t force);
static void ngx_http_rtagent_redis_finish(ngx_http_rtagent_redis_write_t *w,
    redisReply *reply);
static void ngx_http_rtagent_redis_command_name(
    ngx_http_rtagent_redis_write_t *w, ngx_str_t *name);

static void ngx_http_rtagent_redis_load(ngx_http_rtagent_redis_t *redis,
    ngx_http_rtagent_redis_script_t *script);
static ngx_int_t ngx_http_rtagent_redis_eval(ngx_http_rtagent_redis_t *redis,
    ngx_http_rtagent_redis_write_t *w);

static ngx_http_rtagent_redis_sub_t *ngx_http_rtagent_redis_channel(
    ngx_http_rtagent_redis_t *redis, ngx_str_t *channel);
static void ngx_http_rtagent_redis_subscribe_all(
    ngx_http_rtagent_redis_conn_t *conn);
static ngx_int_t ngx_http_rtagent_redis_subscribe_send(
    ngx_http_rtagent_redis_conn_t *conn, ngx_http_rtagent_redis_sub_t *s);
static void ngx_http_rtagent_redis_channels_down(
    ngx_http_rtagent_redis_t *redis);
static void ngx_http_rtagent_redis_channel_free(
    ngx_http_rtagent_redis_t *redis, ngx_http_rtagent_redis_sub_t *s);
static void ngx_http_rtagent_redis_confirmed(ngx_http_rtagent_redis_t *redis);
static void ngx_http_rtagent_redis_message(redisAsyncContext *ac, void *r,
    void *privdata);


static ngx_command_t  ngx_http_rtagent_redis_commands[] = {

    { ngx_string("rtagent_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_rtagent_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_redis_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_rtagent_redis_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_redis_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_redis_module_ctx,    /* module context */
    ngx_http_rtagent_redis_commands,       /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_rtagent_redis_init_process,   /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_rtagent_redis_exit_process,   /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


#define ngx_http_rtagent_redis_param(name, literal)                          \
    ((name)->len == sizeof(literal) - 1                                      \
     && ngx_strncmp((name)->data, literal, sizeof(literal) - 1) == 0)

#define ngx_http_rtagent_redis_str_is(s, len, literal)                       \
    ((len) == sizeof(literal) - 1                                            \
     && ngx_strncasecmp((u_char *) (s), (u_char *) literal, (len)) == 0)


/*
 * rtagent_redis <ip:port|unix:/path> [db=N] [password_file=/path |
 *     password_env=NAME] [connect_timeout=1s] [command_timeout=1s]
 *     [keepalive=10s] [queue=10000] [queue_size=16m];
 */

static char *
ngx_http_rtagent_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtagent_redis_main_conf_t  *mcf = conf;

    u_char      *eq, *p;
    ssize_t      size;
    ngx_int_t    n;
    ngx_str_t   *value, name, v, file, env;
    ngx_uint_t   i;

    if (mcf->addr.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_rtagent_redis_parse_addr(cf, mcf, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    mcf->db = 0;
    mcf->connect_timeout = 1000;
    mcf->command_timeout = 1000;
    mcf->keepalive = 10000;
    mcf->queue = 10000;
    mcf->queue_size = 16 * 1024 * 1024;

    ngx_str_null(&file);
    ngx_str_null(&env);

    for (i = 2; i < cf->args->nelts; i++) {

        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');
        if (eq == NULL) {
            goto invalid;
        }

        name.data = value[i].data;
        name.len = eq - value[i].data;
        v.data = eq + 1;
        v.len = value[i].data + value[i].len - v.data;

        if (ngx_http_rtagent_redis_param(&name, "db")) {
            n = ngx_atoi(v.data, v.len);
            if (n == NGX_ERROR || n > 0x7fffffff) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid Redis database \"%V\": a number "
                                   "from 0, such as db=0", &value[i]);
                return NGX_CONF_ERROR;
            }

            mcf->db = n;
            continue;
        }

        if (ngx_http_rtagent_redis_param(&name, "password_file")
            || ngx_http_rtagent_redis_param(&name, "password_env"))
        {
            if (v.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" is empty", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (file.len || env.len) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": only one password_file= or "
                                   "password_env= is allowed", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (name.len == sizeof("password_env") - 1) {
                env = v;

            } else {
                file = v;
            }

            continue;
        }

        if (ngx_http_rtagent_redis_param(&name, "connect_timeout")
            || ngx_http_rtagent_redis_param(&name, "command_timeout")
            || ngx_http_rtagent_redis_param(&name, "keepalive"))
        {
            n = ngx_parse_time(&v, 0);

            if (n == NGX_ERROR
                || (n == 0 && name.len != sizeof("keepalive") - 1))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid time \"%V\": a time above 0 "
                                   "with a unit, such as 1s or 500ms%s",
                                   &value[i],
                                   name.len == sizeof("keepalive") - 1
                                   ? " (keepalive=0 turns the PING off)"
                                   : "");
                return NGX_CONF_ERROR;
            }

            if (ngx_http_rtagent_redis_param(&name, "keepalive")) {
                mcf->keepalive = (ngx_msec_t) n;

            } else if (ngx_http_rtagent_redis_param(&name, "connect_timeout"))
            {
                mcf->connect_timeout = (ngx_msec_t) n;

            } else {
                mcf->command_timeout = (ngx_msec_t) n;
            }

            continue;
        }

        if (ngx_http_rtagent_redis_param(&name, "queue")) {
            n = ngx_atoi(v.data, v.len);
            if (n == NGX_ERROR || n == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid queue length \"%V\": a number "
                                   "of writes from 1, such as queue=10000",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            mcf->queue = (ngx_uint_t) n;
            continue;
        }

        if (ngx_http_rtagent_redis_param(&name, "queue_size")) {
            size = ngx_parse_size(&v);
            if (size == NGX_ERROR || size == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid queue size \"%V\": a size above "
                                   "0, such as queue_size=16m", &value[i]);
                return NGX_CONF_ERROR;
            }

            mcf->queue_size = (size_t) size;
            continue;
        }

        goto invalid;
    }

    if (file.len) {
        if (ngx_http_rtagent_redis_password_file(cf, mcf, &file) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (env.len) {
        /* an argument is NUL-terminated, and so is its tail */
        p = (u_char *) getenv((char *) env.data);

        if (p == NULL || *p == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "password_env: the environment variable "
                               "\"%V\" is not set or empty", &env);
            return NGX_CONF_ERROR;
        }

        mcf->password.len = ngx_strlen(p);
        mcf->password.data = ngx_pnalloc(cf->pool, mcf->password.len);
        if (mcf->password.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(mcf->password.data, p, mcf->password.len);
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\": expected db=, "
                       "password_file=, password_env=, connect_timeout=, "
                       "command_timeout=, keepalive=, queue= or queue_size=",
                       &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * hiredis resolves a host name with a blocking getaddrinfo() at every
 * connect, which would stall the worker: only IP literals are accepted.
 * ngx_parse_url() splits the address; with no_resolve it resolves
 * nothing, and whether the host is a literal is checked here.
 */

static ngx_int_t
ngx_http_rtagent_redis_parse_addr(ngx_conf_t *cf,
    ngx_http_rtagent_redis_main_conf_t *mcf, ngx_str_t *addr)
{
    u_char     *p;
    ngx_url_t   u;
    ngx_str_t   host;
#if (NGX_HAVE_INET6)
    u_char      inaddr6[16];
#endif

    mcf->addr = *addr;

    /* an IPv6 literal without brackets would read as a bad port */
    p = ngx_strlchr(addr->data, addr->data + addr->len, ':');

    if (p && addr->data[0] != '['
        && ngx_strlchr(p + 1, addr->data + addr->len, ':')
        && ngx_strncmp(addr->data, "unix:", 5) != 0)
    {
        goto invalid;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *addr;
    u.default_port = 6379;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Redis address \"%V\": %s", addr,
                           u.err == NULL ? "cannot be parsed"
                           : ngx_strcmp(u.err, "invalid port") == 0
                             ? "the port must be 1 to 65535" : u.err);
        return NGX_ERROR;
    }

    if (u.family == AF_UNIX) {
        /* an argument is NUL-terminated, and so is its tail */
        mcf->path.data = addr->data + sizeof("unix:") - 1;
        mcf->path.len = addr->len - (sizeof("unix:") - 1);
        return NGX_OK;
    }

    if (u.uri.len) {
        goto invalid;
    }

    host = u.host;

    if (host.len > 2 && host.data[0] == '[') {
        host.data++;
        host.len -= 2;

#if (NGX_HAVE_INET6)
        if (ngx_inet6_addr(host.data, host.len, inaddr6) != NGX_OK) {
            goto invalid;
        }
#else
        goto invalid;
#endif

    } else if (ngx_inet_addr(host.data, host.len) == INADDR_NONE) {
        goto invalid;
    }

    mcf->port = u.port;

    mcf->host.len = host.len;
    mcf->host.data = ngx_pnalloc(cf->pool, host.len + 1);
    if (mcf->host.data == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(mcf->host.data, host.data, host.len + 1);

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid Redis address \"%V\": an IP address with an "
                       "optional port (127.0.0.1:6379, [::1]:6379) or "
                       "unix:/path; host names are not accepted (hiredis "
                       "would resolve them with a blocking lookup)", addr);
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_rtagent_redis_password_file(ngx_conf_t *cf,
    ngx_http_rtagent_redis_main_conf_t *mcf, ngx_str_t *name)
{
    ssize_t    n;
    ngx_fd_t   fd;
    ngx_str_t  s;
    u_char     buf[NGX_HTTP_RTAGENT_REDIS_PASSWORD_MAX + 1];

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "password_file: cannot open \"%V\"", name);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "password_file: cannot read \"%V\"", name);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    (void) ngx_close_file(fd);

    if (n > NGX_HTTP_RTAGENT_REDIS_PASSWORD_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "password_file: \"%V\" is longer than %d bytes",
                           name, NGX_HTTP_RTAGENT_REDIS_PASSWORD_MAX);
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_ERROR;
    }

    /* the file's last line may end in a newline */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "password_file: \"%V\" is empty", name);
        return NGX_ERROR;
    }

    s.data = buf;
    s.len = n;

    mcf->password.data = ngx_pstrdup(cf->pool, &s);
    mcf->password.len = n;

    ngx_explicit_memzero(buf, sizeof(buf));

    return mcf->password.data ? NGX_OK : NGX_ERROR;
}


static void *
ngx_http_rtagent_redis_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_redis_main_conf_t  *mcf;

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->addr = { 0, NULL };      (no rtagent_redis)
     *     mcf->password = { 0, NULL };
     *     mcf->redis = NULL;
     */

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_redis_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    return mcf;
}


static ngx_int_t
ngx_http_rtagent_redis_init_process(ngx_cycle_t *cycle)
{
    u_char                              *p;
    size_t                               len;
    ngx_http_rtagent_redis_t            *redis;
    ngx_http_rtagent_redis_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_rtagent_redis_module);

    /* cache managers and loaders run init_process too */
    if (mcf == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    if (mcf->addr.len == 0) {
        if (ngx_worker == 0) {
            ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                          "rtagent redis: no rtagent_redis configured: call "
                          "state stays in worker memory, nothing is shared");
        }

        return NGX_OK;
    }

    redis = ngx_pcalloc(cycle->pool, sizeof(ngx_http_rtagent_redis_t));
    if (redis == NULL) {
        return NGX_ERROR;
    }

    redis->conf = mcf;
    redis->log = cycle->log;

    ngx_queue_init(&redis->pending);
    ngx_queue_init(&redis->inflight);
    ngx_queue_init(&redis->requeue);
    ngx_rbtree_init(&redis->channels, &redis->sentinel,
                    ngx_str_rbtree_insert_value);

    if (ngx_array_init(&redis->scripts, cycle->pool, 4,
                       sizeof(ngx_http_rtagent_redis_script_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = sizeof("rtagent:worker:") - 1 + cycle->hostname.len
          + 1 + NGX_INT64_LEN + sizeof(":ctl") - 1;

    p = ngx_pnalloc(cycle->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    redis->worker_channel.data = p;
    redis->worker_channel.len = ngx_snprintf(p, len, "rtagent:worker:%V:%P:ctl",
                                             &cycle->hostname, ngx_pid)
                                - p;

    /*
     * The wait for replies is not cancelable: a graceful exit waits for the
     * last writes of its calls (CALL_ENDED), command_timeout at most.
     */
    ngx_http_rtagent_timer_init(&redis->reply,
                                ngx_http_rtagent_redis_reply_handler, redis,
                                cycle->log);

    ngx_http_rtagent_redis_conn_init(redis, &redis->cmd, "command");
    ngx_http_rtagent_redis_conn_init(redis, &redis->sub, "subscriber");
    redis->sub.subscriber = 1;

    mcf->redis = redis;

    ngx_http_rtagent_redis_connect(&redis->cmd);
    ngx_http_rtagent_redis_connect(&redis->sub);

    return NGX_OK;
}


static void
ngx_http_rtagent_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_queue_t                     *q;
    ngx_rbtree_node_t               *node;
    ngx_http_rtagent_redis_t        *redis;
    ngx_http_rtagent_redis_write_t  *w;

    redis = ngx_http_rtagent_redis_worker();
    if (redis == NULL) {
        return;
    }

    if (redis->exit) {
        redis->exit();
    }

    /* best effort: what the socket takes now is not lost */
    if (redis->cmd.state == NGX_HTTP_RTAGENT_REDIS_READY) {
        ngx_http_rtagent_redis_pump(redis, 1);
    }

    redis->exiting = 1;

    if (redis->reply.event.timer_set) {
        ngx_del_timer(&redis->reply.event);
    }

    if (redis->sub.ac) {
        redisAsyncFree(redis->sub.ac);
    }

    if (redis->cmd.ac) {
        redisAsyncFree(redis->cmd.ac);
    }

    while (!ngx_queue_empty(&redis->pending)) {
        q = ngx_queue_head(&redis->pending);
        ngx_queue_remove(q);
        w = ngx_queue_data(q, ngx_http_rtagent_redis_write_t, queue);
        redis->lost++;
        ngx_http_rtagent_redis_finish(w, NULL);
    }

    ngx_http_rtagent_redis_log_dropped(redis, 1);

    if (redis->lost) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "rtagent redis: %ui writes were not confirmed by "
                      "Redis at worker exit", redis->lost);
    }

    while (redis->channels.root != redis->channels.sentinel) {
        node = ngx_rbtree_min(redis->channels.root, redis->channels.sentinel);
        ngx_http_rtagent_redis_channel_free(redis,
                                            (ngx_http_rtagent_redis_sub_t *)
                                            node);
    }
}


static ngx_http_rtagent_redis_t *
ngx_http_rtagent_redis_worker(void)
{
    ngx_http_rtagent_redis_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                              ngx_http_rtagent_redis_module);

    return mcf ? mcf->redis : NULL;
}


ngx_int_t
ngx_http_rtagent_redis_enabled(void)
{
    ngx_http_rtagent_redis_t  *redis;

    redis = ngx_http_rtagent_redis_worker();

    return (redis != NULL && !redis->exiting);
}


void
ngx_http_rtagent_redis_on_reset(ngx_http_rtagent_redis_reset_pt handler)
{
    ngx_http_rtagent_redis_t  *redis;

    redis = ngx_http_rtagent_redis_worker();

    if (redis) {
        redis->reset = handler;
    }
}


void
ngx_http_rtagent_redis_on_exit(ngx_http_rtagent_redis_exit_pt handler)
{
    ngx_http_rtagent_redis_t  *redis;

    redis = ngx_http_rtagent_redis_worker();

    if (redis) {
        redis->exit = handler;
    }
}


/* connections ------------------------------------------------------------ */

static void
ngx_http_rtagent_redis_conn_init(ngx_http_rtagent_redis_t *redis,
    ngx_http_rtagent_redis_conn_t *conn, const char *name)
{
    conn->redis = redis;
    conn->name = name;
    conn->backoff = NGX_HTTP_RTAGENT_REDIS_BACKOFF_MIN;
    conn->down_since = ngx_current_msec;

    ngx_http_rtagent_timer_init(&conn->connect,
                                ngx_http_rtagent_redis_connect_handler, conn,
                                redis->log);
    conn->connect.event.cancelable = 1;

    ngx_http_rtagent_timer_init(&conn->keepalive,
                                ngx_http_rtagent_redis_keepalive_handler, conn,
                                redis->log);
    conn->keepalive.event.cancelable = 1;
}


static void
ngx_http_rtagent_redis_connect(ngx_http_rtagent_redis_conn_t *conn)
{
    const char                          *argv[2];
    size_t                               argvlen[2];
    redisAsyncContext                   *ac;
    ngx_http_rtagent_redis_main_conf_t  *mcf;

    mcf = conn->redis->conf;
    conn->reason[0] = '\0';

    if (mcf->path.len) {
        ac = redisAsyncConnectUnix((char *) mcf->path.data);

    } else {
        ac = redisAsyncConnect((char *) mcf->host.data, (int) mcf->port);
    }

    if (ac == NULL) {
        ngx_http_rtagent_redis_reason(conn, "out of memory");
        ngx_http_rtagent_redis_down(conn);
        return;
    }

    if (ac->err) {
        ngx_http_rtagent_redis_reason(conn, "%s", ac->errstr);

        /* no hooks yet: hiredis closes the socket, if any */
        redisAsyncFree(ac);
        ngx_http_rtagent_redis_down(conn);
        return;
    }

    if (ngx_http_rtagent_redis_attach(conn, ac) != NGX_OK) {
        ngx_http_rtagent_redis_reason(conn, "no free connection");
        redisAsyncFree(ac);
        ngx_http_rtagent_redis_down(conn);
        return;
    }

    conn->state = NGX_HTTP_RTAGENT_REDIS_CONNECTING;
    ngx_add_timer(&conn->connect.event, mcf->connect_timeout);

    /* the adapter must be in place first: this arms the write event */
    (void) redisAsyncSetConnectCallback(ac, ngx_http_rtagent_redis_connected);
    (void) redisAsyncSetDisconnectCallback(ac,
                                           ngx_http_rtagent_redis_disconnected);

    /* queued now, sent once connected; replies come in this order */
    if (mcf->password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) mcf->password.data;
        argvlen[1] = mcf->password.len;

        (void) redisAsyncCommandArgv(ac, ngx_http_rtagent_redis_handshake,
                                     (void *) NGX_HTTP_RTAGENT_REDIS_AUTH,
                                     2, argv, argvlen);
    }

    if (conn->subscriber) {
        if (mcf->password.len == 0) {
            ngx_http_rtagent_redis_subscribe_all(conn);
        }

        return;
    }

    if (mcf->db) {
        (void) redisAsyncCommand(ac, ngx_http_rtagent_redis_handshake,
                                 (void *) NGX_HTTP_RTAGENT_REDIS_SELECT,
                                 "SELECT %d", (int) mcf->db);
    }

    (void) redisAsyncCommand(ac, ngx_http_rtagent_redis_handshake,
                             (void *) NGX_HTTP_RTAGENT_REDIS_INFO, "INFO");
}


static ngx_int_t
ngx_http_rtagent_redis_attach(ngx_http_rtagent_redis_conn_t *conn,
    redisAsyncContext *ac)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(ac->c.fd, conn->redis->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = conn;
    c->read->handler = ngx_http_rtagent_redis_read_handler;
    c->write->handler = ngx_http_rtagent_redis_write_handler;
    c->read->log = c->log;
    c->write->log = c->log;
    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);

    conn->ac = ac;
    conn->c = c;

    ac->data = conn;
    ac->ev.data = conn;
    ac->ev.addRead = ngx_http_rtagent_redis_add_read;
    ac->ev.delRead = ngx_http_rtagent_redis_del_read;
    ac->ev.addWrite = ngx_http_rtagent_redis_add_write;
    ac->ev.delWrite = ngx_http_rtagent_redis_del_write;
    ac->ev.cleanup = ngx_http_rtagent_redis_cleanup;

    return NGX_OK;
}


/*
 * The event hooks.  Level-triggered for both directions on every
 * registration: epoll merges both into one entry with the flags of the
 * latest call, and hiredis leaves bytes in the socket after 16 KiB.
 */

static void
ngx_http_rtagent_redis_event(void *data, ngx_uint_t write, ngx_uint_t add)
{
    ngx_int_t                       rc;
    ngx_event_t                    *ev;
    ngx_http_rtagent_redis_conn_t  *conn = data;

    if (conn == NULL || conn->c == NULL) {
        return;
    }

    ev = write ? conn->c->write : conn->c->read;

    if (ev->active == add) {
        return;
    }

    if (add) {
        rc = ngx_add_event(ev, write ? NGX_WRITE_EVENT : NGX_READ_EVENT,
                           NGX_LEVEL_EVENT);

    } else {
        rc = ngx_del_event(ev, write ? NGX_WRITE_EVENT : NGX_READ_EVENT,
                           NGX_LEVEL_EVENT);
    }

    if (rc != NGX_OK) {
        ngx_http_rtagent_redis_broken(conn, "cannot change its events");
    }
}


static void
ngx_http_rtagent_redis_add_read(void *data)
{
    ngx_http_rtagent_redis_event(data, 0, 1);
}


static void
ngx_http_rtagent_redis_del_read(void *data)
{
    ngx_http_rtagent_redis_event(data, 0, 0);
}


static void
ngx_http_rtagent_redis_add_write(void *data)
{
    ngx_http_rtagent_redis_event(data, 1, 1);
}


static void
ngx_http_rtagent_redis_del_write(void *data)
{
    ngx_http_rtagent_redis_event(data, 1, 0);
}


/*
 * Runs inside __redisAsyncFree(), before the disconnect callback and
 * before hiredis closes the socket: the fd is still ours to unregister,
 * but not to close.
 */

static void
ngx_http_rtagent_redis_cleanup(void *data)
{
    ngx_connection_t               *c;
    ngx_http_rtagent_redis_conn_t  *conn = data;

    if (conn == NULL || conn->ac == NULL) {
        return;
    }

    conn->ac->ev.data = NULL;

    if (conn->reason[0] == '\0') {
        ngx_http_rtagent_redis_reason(conn, "%s",
                                      conn->ac->err ? conn->ac->errstr
                                                    : "connection closed");
    }

    c = conn->c;

    if (c) {
        if (c->read->posted) {
            ngx_delete_posted_event(c->read);
        }

        if (c->write->posted) {
            ngx_delete_posted_event(c->write);
        }

        if (c->read->active || c->write->active) {
            if (ngx_del_conn) {
                (void) ngx_del_conn(c, 0);

            } else {
                if (c->read->active) {
                    (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
                }

                if (c->write->active) {
                    (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
                }
            }
        }

        /* ngx_free_connection() reads c->fd; -1 then marks stale events */
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
    }

    ngx_http_rtagent_redis_down(conn);
}


/* an event call failed inside a hook: hiredis must not be freed there */

static void
ngx_http_rtagent_redis_broken(ngx_http_rtagent_redis_conn_t *conn,
    const char *what)
{
    ngx_log_error(NGX_LOG_ALERT, conn->redis->log, 0,
                  "rtagent redis: %s on the %s connection", what,
                  conn->name);

    ngx_http_rtagent_redis_reason(conn, "%s", what);
    conn->broken = 1;

    if (conn->keepalive.event.timer_set) {
        ngx_del_timer(&conn->keepalive.event);
    }

    ngx_add_timer(&conn->keepalive.event, 1);
}


static void
ngx_http_rtagent_redis_read_handler(ngx_event_t *rev)
{
    ngx_connection_t               *c;
    ngx_http_rtagent_redis_conn_t  *conn;

    c = rev->data;
    conn = c->data;

    if (conn->ac == NULL) {
        return;
    }

    conn->reads++;
    conn->last_read = ngx_current_msec;

    /* may free the context and c: neither is touched afterwards */
    redisAsyncHandleRead(conn->ac);
}


static void
ngx_http_rtagent_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t               *c;
    ngx_http_rtagent_redis_conn_t  *conn;

    c = wev->data;
    conn = c->data;

    if (conn->ac == NULL) {
        return;
    }

    redisAsyncHandleWrite(conn->ac);
}


static void
ngx_http_rtagent_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_rtagent_redis_conn_t  *conn = ac->data;

    if (status != REDIS_OK) {
        /* the context is freed when this returns */
        ngx_http_rtagent_redis_reason(conn, "%s", ac->c.errstr);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, conn->redis->log, 0,
                   "rtagent redis: %s connection to %V established",
                   conn->name, &conn->redis->conf->addr);
}


static void
ngx_http_rtagent_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_rtagent_redis_conn_t  *conn = ac->data;

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, conn->redis->log, 0,
                   "rtagent redis: %s connection to %V closed, status %d",
                   conn->name, &conn->redis->conf->addr, status);
}


static void
ngx_http_rtagent_redis_handshake(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                     *reply = r;
    ngx_uint_t                      step, loading;
    ngx_http_rtagent_redis_conn_t  *conn = ac->data;

    step = (ngx_uint_t) (uintptr_t) privdata;

    if (reply == NULL || conn->state != NGX_HTTP_RTAGENT_REDIS_CONNECTING) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR
        && step == NGX_HTTP_RTAGENT_REDIS_INFO
        && !ngx_http_rtagent_redis_transient(reply)
        && !(reply->len >= 6 && ngx_strncmp(reply->str, "NOAUTH", 6) == 0))
    {
        /* a managed Redis may forbid INFO: go on, blind to restarts */
        if (!conn->redis->no_info) {
            conn->redis->no_info = 1;

            ngx_log_error(NGX_LOG_NOTICE, conn->redis->log, 0,
                          "rtagent redis: INFO failed: %*s; a restarted "
                          "server is noticed by transcript gaps only",
                          (size_t) reply->len, reply->str);
        }

        ngx_http_rtagent_redis_ready(conn);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        /* the error text names the problem, never the password */
        ngx_http_rtagent_redis_reason(conn, "%s failed: %*s",
                                      step == NGX_HTTP_RTAGENT_REDIS_AUTH
                                      ? "AUTH"
                                      : step == NGX_HTTP_RTAGENT_REDIS_SELECT
                                        ? "SELECT" : "INFO",
                                      (size_t) reply->len, reply->str);

        /* inside a callback hiredis defers the free until it returns */
        redisAsyncFree(ac);
        return;
    }

    switch (step) {

    case NGX_HTTP_RTAGENT_REDIS_AUTH:
        if (conn->subscriber) {
            ngx_http_rtagent_redis_subscribe_all(conn);
        }
        return;

    case NGX_HTTP_RTAGENT_REDIS_INFO:
        ngx_http_rtagent_redis_server_info(conn->redis, reply, &loading);

        if (loading) {
            ngx_http_rtagent_redis_reason(conn, "the server is loading "
                                          "its data set");
            redisAsyncFree(ac);
            return;
        }

        ngx_http_rtagent_redis_ready(conn);
        return;

    default: /* SELECT */
        return;
    }
}


/* run_id tells a restarted or failed-over server from the same one */

static void
ngx_http_rtagent_redis_server_info(ngx_http_rtagent_redis_t *redis,
    redisReply *reply, ngx_uint_t *loading)
{
    u_char  *p, *last, *id;
    size_t   len;

    *loading = 0;

    if (reply->type != REDIS_REPLY_STRING) {
        return;
    }

    p = (u_char *) reply->str;
    last = p + reply->len;

    id = ngx_strlcasestrn(p, last, (u_char *) "\nloading:", 9 - 1);
    if (id != NULL && id + 9 < last && id[9] == '1') {
        *loading = 1;
    }

    id = ngx_strlcasestrn(p, last, (u_char *) "\nrun_id:", 8 - 1);
    if (id == NULL) {
        return;
    }

    id += 8;

    for (p = id; p < last && *p != '\r' && *p != '\n'; p++) {
        /* void */
    }

    len = ngx_min((size_t) (p - id), sizeof(redis->run_id));

    if (redis->run_id_len
        && (len != redis->run_id_len
            || ngx_memcmp(id, redis->run_id, len) != 0))
    {
        redis->server_changed = 1;
    }

    ngx_memcpy(redis->run_id, id, len);
    redis->run_id_len = len;
}


static void
ngx_http_rtagent_redis_ready(ngx_http_rtagent_redis_conn_t *conn)
{
    ngx_uint_t                           i;
    ngx_http_rtagent_redis_t            *redis;
    ngx_http_rtagent_redis_script_t     *script;
    ngx_http_rtagent_redis_main_conf_t  *mcf;

    redis = conn->redis;
    mcf = redis->conf;

    if (conn->connect.event.timer_set) {
        ngx_del_timer(&conn->connect.event);
    }

    conn->state = NGX_HTTP_RTAGENT_REDIS_READY;
    conn->backoff = NGX_HTTP_RTAGENT_REDIS_BACKOFF_MIN;
    conn->last_read = ngx_current_msec;

    if (conn->failures) {
        ngx_log_error(NGX_LOG_NOTICE, redis->log, 0,
                      "rtagent redis: %s connection to %V is back after "
                      "%M ms%s", conn->name, &mcf->addr,
                      ngx_current_msec - conn->down_since,
                      conn->subscriber ? ", subscriptions renewed" : "");

        if (!conn->subscriber && redis->npending) {
            ngx_log_error(NGX_LOG_NOTICE, redis->log, 0,
                          "rtagent redis: replaying %ui queued writes",
                          redis->npending);
        }

        ngx_http_rtagent_redis_log_dropped(redis, 1);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, redis->log, 0,
                      "rtagent redis: %s connection to %V is up",
                      conn->name, &mcf->addr);
    }

    conn->failures = 0;

    if (mcf->keepalive) {
        ngx_add_timer(&conn->keepalive.event, mcf->keepalive);
    }

    if (conn->subscriber) {
        return;
    }

    /* a new connection may face a server without them: ahead of replays */
    script = redis->scripts.elts;

    for (i = 0; i < redis->scripts.nelts; i++) {
        ngx_http_rtagent_redis_load(redis, &script[i]);
    }

    ngx_http_rtagent_redis_pump(redis, 0);

    if (redis->server_changed || redis->incomplete) {
        ngx_log_error(NGX_LOG_WARN, redis->log, 0,
                      redis->server_changed
                      ? "rtagent redis: %V is a different server than before "
                        "(restart or failover): restoring live state"
                      : "rtagent redis: writes to %V were dropped while it "
                        "was unreachable: restoring live state",
                      &mcf->addr);

        redis->server_changed = 0;
        redis->incomplete = 0;

        if (redis->reset) {
            redis->reset();
        }
    }

    ngx_http_rtagent_redis_confirmed(redis);
}


/* the connection is gone (or never came): clean up and retry later */

static void
ngx_http_rtagent_redis_down(ngx_http_rtagent_redis_conn_t *conn)
{
    ngx_uint_t                           was, level;
    ngx_msec_t                           delay;
    ngx_http_rtagent_redis_t            *redis;
    ngx_http_rtagent_redis_main_conf_t  *mcf;

    redis = conn->redis;
    mcf = redis->conf;

    /* first: writes made from the handlers called below must queue */
    was = conn->state;
    conn->state = NGX_HTTP_RTAGENT_REDIS_DOWN;

    conn->ac = NULL;
    conn->c = NULL;
    conn->pinging = 0;
    conn->broken = 0;
    conn->subscribing = 0;

    if (conn->connect.event.timer_set) {
        ngx_del_timer(&conn->connect.event);
    }

    if (conn->keepalive.event.timer_set) {
        ngx_del_timer(&conn->keepalive.event);
    }

    if (conn->subscriber) {
        ngx_http_rtagent_redis_channels_down(redis);

    } else {
        if (redis->reply.event.timer_set) {
            ngx_del_timer(&redis->reply.event);
        }

        if (!redis->exiting) {
            ngx_http_rtagent_redis_requeue(redis);
        }
    }

    if (redis->exiting) {
        return;
    }

    if (was == NGX_HTTP_RTAGENT_REDIS_READY) {
        conn->down_since = ngx_current_msec;

        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "rtagent redis: lost the %s connection to %V: %s; %s",
                      conn->name, &mcf->addr, conn->reason,
                      conn->subscriber
                      ? "control messages are missed until it is back"
                      : "writes are queued until it is back");

    } else {
        /* the first failure of an outage is an error, retries are not */
        level = conn->failures ? NGX_LOG_INFO : NGX_LOG_ERR;

        ngx_log_error(level, redis->log, 0,
                      "rtagent redis: %s connection to %V failed: %s; "
                      "retrying", conn->name, &mcf->addr, conn->reason);
    }

    conn->failures++;

    /* a little jitter keeps workers and instances from retrying in step */
    delay = conn->backoff + ngx_random() % (conn->backoff / 4 + 1);
    conn->backoff = ngx_min(conn->backoff * 2,
                            NGX_HTTP_RTAGENT_REDIS_BACKOFF_MAX);

    ngx_add_timer(&conn->connect.event, delay);
}


/* the reason was set; outside hiredis callbacks this frees at once */

static void
ngx_http_rtagent_redis_drop(ngx_http_rtagent_redis_conn_t *conn)
{
    if (conn->ac) {
        redisAsyncFree(conn->ac);
    }
}


static void
ngx_http_rtagent_redis_reason(ngx_http_rtagent_redis_conn_t *conn,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(conn->reason, conn->reason + sizeof(conn->reason) - 1,
                      fmt, args);
    va_end(args);

    *p = '\0';
}


static void
ngx_http_rtagent_redis_connect_handler(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t       *t = ev->data;
    ngx_http_rtagent_redis_conn_t  *conn = t->data;

    if (conn->state == NGX_HTTP_RTAGENT_REDIS_DOWN) {
        ngx_http_rtagent_redis_connect(conn);
        return;
    }

    if (conn->state == NGX_HTTP_RTAGENT_REDIS_CONNECTING) {
        ngx_http_rtagent_redis_reason(conn, "no answer within %M ms",
                                      conn->redis->conf->connect_timeout);
        ngx_http_rtagent_redis_drop(conn);
    }
}


static void
ngx_http_rtagent_redis_keepalive_handler(ngx_event_t *ev)
{
    ngx_msec_t                           idle;
    ngx_http_rtagent_timer_t            *t = ev->data;
    ngx_http_rtagent_redis_conn_t       *conn = t->data;
    ngx_http_rtagent_redis_main_conf_t  *mcf;

    mcf = conn->redis->conf;

    if (conn->ac == NULL) {
        return;
    }

    if (conn->broken) {
        ngx_http_rtagent_redis_drop(conn);
        return;
    }

    if (conn->state != NGX_HTTP_RTAGENT_REDIS_READY) {
        return;
    }

    if (conn->pinging) {
        if (conn->reads == conn->ping_reads) {
            ngx_http_rtagent_redis_reason(conn, "no reply to PING within "
                                          "%M ms", mcf->command_timeout);
            ngx_http_rtagent_redis_drop(conn);
            return;
        }

        conn->pinging = 0;
    }

    idle = ngx_current_msec - conn->last_read;

    if (idle < mcf->keepalive) {
        ngx_add_timer(&conn->keepalive.event, mcf->keepalive - idle);
        return;
    }

    if (conn->subscriber) {
        /* no callback: see the top of this file */
        if (redisAppendCommand(&conn->ac->c, "PING") != REDIS_OK) {
            return;
        }

        ngx_http_rtagent_redis_add_write(conn);

    } else if (redisAsyncCommand(conn->ac, NULL, NULL, "PING") != REDIS_OK) {
        return;
    }

    conn->pinging = 1;
    conn->ping_reads = conn->reads;

    ngx_add_timer(&conn->keepalive.event, mcf->command_timeout);
}


/* writes ----------------------------------------------------------------- */

ngx_int_t
ngx_http_rtagent_redis_write(int argc, const char **argv,
    const size_t *argvlen, ngx_http_rtagent_redis_reply_pt handler,
    void *data)
{
    int                              len;
    char                            *cmd;
    ngx_http_rtagent_redis_t        *redis;
    ngx_http_rtagent_redis_write_t  *w;

    redis = ngx_http_rtagent_redis_worker();

    if (redis == NULL || redis->exiting) {
        return NGX_DECLINED;
    }

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return NGX_ERROR;
    }

    w = ngx_alloc(sizeof(ngx_http_rtagent_redis_write_t) + len, redis->log);
    if (w == NULL) {
        redisFreeCommand(cmd);
        return NGX_ERROR;
    }

    w->handler = handler;
    w->data = data;
    w->sent = 0;
    w->len = len;
    w->cmd = (u_char *) (w + 1);

    ngx_memcpy(w->cmd, cmd, len);
    redisFreeCommand(cmd);

    ngx_queue_insert_tail(&redis->pending, &w->queue);
    redis->npending++;
    redis->pending_size += len;

    /* the limits are for what has to wait: what can go, goes first */
    ngx_http_rtagent_redis_pump(redis, 0);
    ngx_http_rtagent_redis_trim(redis);

    return NGX_OK;
}


/* hands queued writes to hiredis, within the window unless "all" */

static void
ngx_http_rtagent_redis_pump(ngx_http_rtagent_redis_t *redis, ngx_uint_t all)
{
    int                              done, i;
    ngx_queue_t                     *q;
    ngx_http_rtagent_redis_write_t  *w;

    while (redis->cmd.state == NGX_HTTP_RTAGENT_REDIS_READY
           && !ngx_queue_empty(&redis->pending)
           && (all || redis->ninflight < NGX_HTTP_RTAGENT_REDIS_WINDOW))
    {
        q = ngx_queue_head(&redis->pending);
        w = ngx_queue_data(q, ngx_http_rtagent_redis_write_t, queue);

        if (redisAsyncFormattedCommand(redis->cmd.ac,
                                       ngx_http_rtagent_redis_reply, w,
                                       (char *) w->cmd, w->len)
            != REDIS_OK)
        {
            break;
        }

        ngx_queue_remove(q);
        redis->npending--;
        redis->pending_size -= w->len;

        ngx_queue_insert_tail(&redis->inflight, q);
        redis->ninflight++;
        w->sent = ngx_current_msec;
    }

    if (all && redis->cmd.ac) {
        /* at exit: write what the socket takes without blocking */
        for (i = 0; i < 64; i++) {
            done = 0;

            if (redisBufferWrite(&redis->cmd.ac->c, &done) != REDIS_OK
                || done)
            {
                break;
            }
        }

        return;
    }

    if (redis->ninflight && !redis->reply.event.timer_set) {
        ngx_add_timer(&redis->reply.event, redis->conf->command_timeout);
    }
}


static void
ngx_http_rtagent_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                      *reply = r;
    ngx_str_t                        name;
    ngx_http_rtagent_redis_t        *redis;
    ngx_http_rtagent_redis_conn_t   *conn = ac->data;
    ngx_http_rtagent_redis_write_t  *w = privdata;

    redis = conn->redis;

    ngx_queue_remove(&w->queue);
    redis->ninflight--;

    if (reply == NULL) {
        /* the connection is going: the write is sent again later */
        if (redis->exiting) {
            redis->lost++;
            ngx_http_rtagent_redis_finish(w, NULL);

        } else {
            ngx_queue_insert_tail(&redis->requeue, &w->queue);
        }

        return;
    }

    if (reply->type == REDIS_REPLY_ERROR
        && (size_t) reply->len > sizeof("NOSCRIPT ") - 1
        && ngx_strncmp(reply->str, "NOSCRIPT ", sizeof("NOSCRIPT ") - 1) == 0
        && ngx_http_rtagent_redis_eval(redis, w) == NGX_OK)
    {
        ngx_http_rtagent_redis_reply_timer(redis);
        ngx_http_rtagent_redis_pump(redis, 0);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_rtagent_redis_command_name(w, &name);

        if (ngx_http_rtagent_redis_transient(reply)
            && conn->state == NGX_HTTP_RTAGENT_REDIS_READY)
        {
            /* a loading or read-only server: retry it after a reconnect */
            ngx_queue_insert_tail(&redis->requeue, &w->queue);
            ngx_http_rtagent_redis_reason(conn, "%V refused: %*s", &name,
                                          (size_t) reply->len, reply->str);
            redisAsyncFree(ac);
            return;
        }

        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "rtagent redis: %V failed: %*s", &name,
                      (size_t) reply->len, reply->str);
    }

    ngx_http_rtagent_redis_finish(w, reply);

    ngx_http_rtagent_redis_reply_timer(redis);
    ngx_http_rtagent_redis_pump(redis, 0);
}


/* errors that say "not now" rather than "never" */

static ngx_uint_t
ngx_http_rtagent_redis_transient(redisReply *reply)
{
    static const char  *codes[] = {
        "LOADING ", "READONLY ", "MASTERDOWN ", "TRYAGAIN ", "BUSY ",
        "CLUSTERDOWN ", NULL
    };

    ngx_uint_t  i;

    for (i = 0; codes[i]; i++) {
        if ((size_t) reply->len >= ngx_strlen(codes[i])
            && ngx_strncmp(reply->str, codes[i], ngx_strlen(codes[i])) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* follows the oldest write in flight */

static void
ngx_http_rtagent_redis_reply_timer(ngx_http_rtagent_redis_t *redis)
{
    ngx_msec_t                       elapsed, timeout;
    ngx_http_rtagent_redis_write_t  *w;

    if (redis->reply.event.timer_set) {
        ngx_del_timer(&redis->reply.event);
    }

    if (ngx_queue_empty(&redis->inflight)) {
        return;
    }

    w = ngx_queue_data(ngx_queue_head(&redis->inflight),
                       ngx_http_rtagent_redis_write_t, queue);

    timeout = redis->conf->command_timeout;
    elapsed = ngx_current_msec - w->sent;

    ngx_add_timer(&redis->reply.event,
                  elapsed < timeout ? timeout - elapsed : 1);
}


static void
ngx_http_rtagent_redis_reply_handler(ngx_event_t *ev)
{
    ngx_msec_t                       elapsed, timeout;
    ngx_http_rtagent_timer_t        *t = ev->data;
    ngx_http_rtagent_redis_t        *redis = t->data;
    ngx_http_rtagent_redis_write_t  *w;

    if (ngx_queue_empty(&redis->inflight)) {
        return;
    }

    w = ngx_queue_data(ngx_queue_head(&redis->inflight),
                       ngx_http_rtagent_redis_write_t, queue);

    timeout = redis->conf->command_timeout;
    elapsed = ngx_current_msec - w->sent;

    if (elapsed < timeout) {
        ngx_add_timer(&redis->reply.event, timeout - elapsed);
        return;
    }

    ngx_http_rtagent_redis_reason(&redis->cmd, "no reply within %M ms",
                                  timeout);
    ngx_http_rtagent_redis_drop(&redis->cmd);
}


/* writes that were in flight at a teardown go first, in their order */

static void
ngx_http_rtagent_redis_requeue(ngx_http_rtagent_redis_t *redis)
{
    ngx_queue_t                     *q;
    ngx_http_rtagent_redis_write_t  *w;

    /* none should be left in flight: hiredis answered each with NULL */
    while (!ngx_queue_empty(&redis->inflight)) {
        q = ngx_queue_head(&redis->inflight);
        ngx_queue_remove(q);
        ngx_queue_insert_tail(&redis->requeue, q);
        redis->ninflight--;
    }

    if (ngx_queue_empty(&redis->requeue)) {
        return;
    }

    for (q = ngx_queue_head(&redis->requeue);
         q != ngx_queue_sentinel(&redis->requeue);
         q = ngx_queue_next(q))
    {
        w = ngx_queue_data(q, ngx_http_rtagent_redis_write_t, queue);
        redis->npending++;
        redis->pending_size += w->len;
    }

    if (!ngx_queue_empty(&redis->pending)) {
        ngx_queue_add(&redis->requeue, &redis->pending);
    }

    ngx_queue_init(&redis->pending);
    ngx_queue_add(&redis->pending, &redis->requeue);
    ngx_queue_init(&redis->requeue);

    ngx_http_rtagent_redis_trim(redis);
}


/* keeps the queue within queue= and queue_size=, dropping the oldest */

static void
ngx_http_rtagent_redis_trim(ngx_http_rtagent_redis_t *redis)
{
    ngx_queue_t                     *q;
    ngx_http_rtagent_redis_write_t  *w;

    while (redis->npending > redis->conf->queue
           || redis->pending_size > redis->conf->queue_size)
    {
        q = ngx_queue_head(&redis->pending);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_http_rtagent_redis_write_t, queue);
        redis->npending--;
        redis->pending_size -= w->len;
        redis->dropped++;
        redis->incomplete = 1;

        ngx_http_rtagent_redis_log_dropped(redis, 0);
        ngx_http_rtagent_redis_finish(w, NULL);
    }
}


static void
ngx_http_rtagent_redis_log_dropped(ngx_http_rtagent_redis_t *redis,
    ngx_uint_t force)
{
    if (redis->dropped == 0
        || (!force && redis->dropped_logged
            && ngx_current_msec - redis->dropped_logged
               < NGX_HTTP_RTAGENT_REDIS_DROP_LOG))
    {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, redis->log, 0,
                  "rtagent redis: write queue full (queue=%ui "
                  "queue_size=%uz), dropped the %ui oldest writes",
                  redis->conf->queue, redis->conf->queue_size,
                  redis->dropped);

    redis->dropped = 0;
    redis->dropped_logged = ngx_current_msec;
}


static void
ngx_http_rtagent_redis_finish(ngx_http_rtagent_redis_write_t *w,
    redisReply *reply)
{
    if (w->handler) {
        w->handler(w->data, reply);
    }

    ngx_free(w);
}


/* the command's name for a log line: "*N\r\n$L\r\nNAME\r\n..." */

static void
ngx_http_rtagent_redis_command_name(ngx_http_rtagent_redis_write_t *w,
    ngx_str_t *name)
{
    u_char     *p, *last;
    ngx_int_t   n;

    ngx_str_set(name, "command");

    last = w->cmd + w->len;
    p = ngx_strlchr(w->cmd, last, '$');
    if (p == NULL) {
        return;
    }

    name->data = ++p;

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    n = ngx_atoi(name->data, p - name->data);

    if (n == NGX_ERROR || last - p < n + 2) {
        ngx_str_set(name, "command");
        return;
    }

    name->data = p + 2;
    name->len = n;
}


/* scripts ---------------------------------------------------------------- */

ngx_str_t *
ngx_http_rtagent_redis_script(ngx_str_t *lua)
{
    ngx_uint_t                        i;
    ngx_http_rtagent_redis_t         *redis;
    ngx_http_rtagent_redis_script_t  *script;
    u_char                            md[SHA_DIGEST_LENGTH];

    redis = ngx_http_rtagent_redis_worker();
    if (redis == NULL) {
        return NULL;
    }

    script = redis->scripts.elts;

    for (i = 0; i < redis->scripts.nelts; i++) {
        if (script[i].lua.data == lua->data) {
            return &script[i].sha;
        }
    }

    script = ngx_array_push(&redis->scripts);
    if (script == NULL) {
        return NULL;
    }

    (void) SHA1(lua->data, lua->len, md);

    script->lua = *lua;
    script->sha.data = script->hex;
    script->sha.len = ngx_hex_dump(script->hex, md, SHA_DIGEST_LENGTH)
                      - script->hex;

    if (redis->cmd.state == NGX_HTTP_RTAGENT_REDIS_READY) {
        ngx_http_rtagent_redis_load(redis, script);
    }

    return &script->sha;
}


/* SCRIPT LOAD goes before any write that needs it; its reply is not read */

static void
ngx_http_rtagent_redis_load(ngx_http_rtagent_redis_t *redis,
    ngx_http_rtagent_redis_script_t *script)
{
    if (redisAsyncCommand(redis->cmd.ac, NULL, NULL, "SCRIPT LOAD %b",
                          script->lua.data, script->lua.len)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_WARN, redis->log, 0,
                      "rtagent redis: cannot send SCRIPT LOAD, EVALSHA %V "
                      "will fall back to EVAL", &script->sha);
    }
}


/*
 * NOSCRIPT (a SCRIPT FLUSH, or a server that refused SCRIPT LOAD): the
 * write goes again, first in the queue, as EVAL with the script's text.
 * Its RESP starts "*<argc>\r\n$7\r\nEVALSHA\r\n$40\r\n<sha>\r\n".
 */

static ngx_int_t
ngx_http_rtagent_redis_eval(ngx_http_rtagent_redis_t *redis,
    ngx_http_rtagent_redis_write_t *w)
{
    u_char                           *p, *last, *rest;
    size_t                            len;
    ngx_str_t                         sha;
    ngx_uint_t                        i;
    ngx_http_rtagent_redis_write_t   *e;
    ngx_http_rtagent_redis_script_t  *script;

    static u_char  evalsha[] = "$7\r\nEVALSHA\r\n$40\r\n";

    last = w->cmd + w->len;
    p = ngx_strlchr(w->cmd, last, '\n');

    if (p == NULL
        || (size_t) (last - ++p) < sizeof(evalsha) - 1 + 40 + 2
        || ngx_strncasecmp(p, evalsha, sizeof(evalsha) - 1) != 0)
    {
        return NGX_DECLINED;
    }

    sha.data = p + sizeof(evalsha) - 1;
    sha.len = 40;
    rest = sha.data + 40 + 2;

    script = redis->scripts.elts;

    for (i = 0; i < redis->scripts.nelts; i++) {
        if (ngx_strncasecmp(script[i].sha.data, sha.data, 40) == 0) {
            break;
        }
    }

    if (i == redis->scripts.nelts) {
        return NGX_DECLINED;
    }

    len = (p - w->cmd) + sizeof("$4\r\nEVAL\r\n$\r\n\r\n") - 1
          + NGX_SIZE_T_LEN + script[i].lua.len + (last - rest);

    e = ngx_alloc(sizeof(ngx_http_rtagent_redis_write_t) + len, redis->log);
    if (e == NULL) {
        return NGX_DECLINED;
    }

    e->handler = w->handler;
    e->data = w->data;
    e->sent = 0;
    e->cmd = (u_char *) (e + 1);

    last = ngx_cpymem(e->cmd, w->cmd, p - w->cmd);
    last = ngx_sprintf(last, "$4\r\nEVAL\r\n$%uz\r\n%V\r\n",
                       script[i].lua.len, &script[i].lua);
    last = ngx_cpymem(last, rest, w->cmd + w->len - rest);
    e->len = last - e->cmd;

    ngx_log_error(NGX_LOG_NOTICE, redis->log, 0,
                  "rtagent redis: the server lacks script %V, sent as EVAL",
                  &script[i].sha);

    ngx_free(w);

    ngx_queue_insert_head(&redis->pending, &e->queue);
    redis->npending++;
    redis->pending_size += e->len;

    return NGX_OK;
}


/* subscriptions ---------------------------------------------------------- */

ngx_int_t
ngx_http_rtagent_redis_subscribe(ngx_str_t *channel,
    ngx_http_rtagent_redis_message_pt handler, void *data)
{
    ngx_http_rtagent_redis_t      *redis;
    ngx_http_rtagent_redis_sub_t  *s;

    redis = ngx_http_rtagent_redis_worker();

    if (redis == NULL || redis->exiting) {
        return NGX_DECLINED;
    }

    s = ngx_http_rtagent_redis_channel(redis, channel);

    if (s) {
        if (s->handler) {
            return NGX_BUSY;
        }

        /* still leaving: SUBSCRIBE goes again when UNSUBSCRIBE is done */
        s->handler = handler;
        s->data = data;
        return NGX_OK;
    }

    s = ngx_alloc(sizeof(ngx_http_rtagent_redis_sub_t) + channel->len,
                  redis->log);
    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(s, sizeof(ngx_http_rtagent_redis_sub_t));

    s->sn.str.data = (u_char *) (s + 1);
    s->sn.str.len = channel->len;
    ngx_memcpy(s->sn.str.data, channel->data, channel->len);
    s->sn.node.key = ngx_crc32_short(channel->data, channel->len);

    s->handler = handler;
    s->data = data;

    ngx_rbtree_insert(&redis->channels, &s->sn.node);

    if (redis->sub.subscribing) {
        (void) ngx_http_rtagent_redis_subscribe_send(&redis->sub, s);
    }

    return NGX_OK;
}


void
ngx_http_rtagent_redis_unsubscribe(ngx_str_t *channel)
{
    ngx_http_rtagent_redis_t      *redis;
    ngx_http_rtagent_redis_sub_t  *s;

    redis = ngx_http_rtagent_redis_worker();
    if (redis == NULL) {
        return;
    }

    s = ngx_http_rtagent_redis_channel(redis, channel);

    if (s == NULL || s->handler == NULL) {
        return;
    }

    s->handler = NULL;
    s->data = NULL;

    if (s->leaving) {
        return;
    }

    if (s->sent && redis->sub.ac && !redis->exiting
        && redisAsyncCommand(redis->sub.ac, NULL, NULL, "UNSUBSCRIBE %b",
                             s->sn.str.data, s->sn.str.len)
           == REDIS_OK)
    {
        /* the entry goes when Redis confirms */
        s->leaving = 1;
        return;
    }

    ngx_http_rtagent_redis_channel_free(redis, s);
}


static ngx_http_rtagent_redis_sub_t *
ngx_http_rtagent_redis_channel(ngx_http_rtagent_redis_t *redis,
    ngx_str_t *channel)
{
    uint32_t  hash;

    hash = ngx_crc32_short(channel->data, channel->len);

    return (ngx_http_rtagent_redis_sub_t *)
               ngx_str_rbtree_lookup(&redis->channels, channel, hash);
}


/* the worker channel first: its confirmation makes the connection ready */

static void
ngx_http_rtagent_redis_subscribe_all(ngx_http_rtagent_redis_conn_t *conn)
{
    ngx_rbtree_t                  *tree;
    ngx_rbtree_node_t             *node;
    ngx_http_rtagent_redis_t      *redis;
    ngx_http_rtagent_redis_sub_t  *s;

    redis = conn->redis;
    tree = &redis->channels;

    if (redisAsyncCommand(conn->ac, ngx_http_rtagent_redis_message, conn,
                          "SUBSCRIBE %b", redis->worker_channel.data,
                          redis->worker_channel.len)
        != REDIS_OK)
    {
        return;
    }

    conn->subscribing = 1;

    if (tree->root == tree->sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(tree->root, tree->sentinel);
         node;
         node = ngx_rbtree_next(tree, node))
    {
        s = (ngx_http_rtagent_redis_sub_t *) node;

        if (s->handler && !s->sent) {
            (void) ngx_http_rtagent_redis_subscribe_send(conn, s);
        }
    }
}


static ngx_int_t
ngx_http_rtagent_redis_subscribe_send(ngx_http_rtagent_redis_conn_t *conn,
    ngx_http_rtagent_redis_sub_t *s)
{
    if (redisAsyncCommand(conn->ac, ngx_http_rtagent_redis_message, conn,
                          "SUBSCRIBE %b", s->sn.str.data, s->sn.str.len)
        != REDIS_OK)
    {
        return NGX_ERROR;
    }

    s->sent = 1;

    return NGX_OK;
}


/* the subscriber connection is gone: what is still wanted goes again */

static void
ngx_http_rtagent_redis_channels_down(ngx_http_rtagent_redis_t *redis)
{
    ngx_rbtree_t                  *tree;
    ngx_rbtree_node_t             *node, *next;
    ngx_http_rtagent_redis_sub_t  *s;

    tree = &redis->channels;

    if (tree->root == tree->sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(tree->root, tree->sentinel);
         node;
         node = next)
    {
        next = ngx_rbtree_next(tree, node);
        s = (ngx_http_rtagent_redis_sub_t *) node;

        s->sent = 0;
        s->leaving = 0;
        s->confirmed = 0;

        if (s->handler == NULL) {
            ngx_http_rtagent_redis_channel_free(redis, s);
        }
    }
}


/* tells each subscription confirmed since it was last told */

static void
ngx_http_rtagent_redis_confirmed(ngx_http_rtagent_redis_t *redis)
{
    ngx_rbtree_t                  *tree;
    ngx_rbtree_node_t             *node, *next;
    ngx_http_rtagent_redis_sub_t  *s;

    tree = &redis->channels;

    if (tree->root == tree->sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(tree->root, tree->sentinel);
         node;
         node = next)
    {
        /* taken first: the handler may unsubscribe (and free) this one */
        next = ngx_rbtree_next(tree, node);
        s = (ngx_http_rtagent_redis_sub_t *) node;

        if (!s->confirmed) {
            continue;
        }

        s->confirmed = 0;

        if (s->handler && s->sent && !s->leaving) {
            s->handler(s->data, &s->sn.str, NULL);
        }
    }
}


static void
ngx_http_rtagent_redis_channel_free(ngx_http_rtagent_redis_t *redis,
    ngx_http_rtagent_redis_sub_t *s)
{
    ngx_rbtree_delete(&redis->channels, &s->sn.node);
    ngx_free(s);
}


/*
 * Every reply on the subscriber connection after its handshake comes
 * here: subscribe and unsubscribe confirmations, messages, and the PONG
 * (["pong", ""]) that hiredis 0.14 may hand to the last callback it used.
 */

static void
ngx_http_rtagent_redis_message(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                     *reply = r, *kind, *ch, *msg;
    ngx_str_t                       channel, message;
    ngx_http_rtagent_redis_t       *redis;
    ngx_http_rtagent_redis_sub_t   *s;
    ngx_http_rtagent_redis_conn_t  *conn = privdata;

    /* NULL: the connection is going; the channel table stays */
    if (reply == NULL
        || reply->type != REDIS_REPLY_ARRAY
        || reply->elements < 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    redis = conn->redis;
    kind = reply->element[0];
    ch = reply->element[1];

    channel.data = (u_char *) ch->str;
    channel.len = ch->len;

    if (ngx_http_rtagent_redis_str_is(kind->str, kind->len, "message")) {
        if (reply->elements != 3
            || reply->element[2]->type != REDIS_REPLY_STRING)
        {
            return;
        }

        msg = reply->element[2];
        message.data = (u_char *) msg->str;
        message.len = msg->len;

        s = ngx_http_rtagent_redis_channel(redis, &channel);

        if (s && s->handler) {
            s->handler(s->data, &channel, &message);
            return;
        }

        ngx_log_error(NGX_LOG_INFO, redis->log, 0,
                      "rtagent redis: message on \"%V\" ignored: no "
                      "subscriber in this worker", &channel);
        return;
    }

    if (ngx_http_rtagent_redis_str_is(kind->str, kind->len, "subscribe")) {
        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, redis->log, 0,
                       "rtagent redis: subscribed to \"%V\"", &channel);

        if (conn->state == NGX_HTTP_RTAGENT_REDIS_CONNECTING
            && channel.len == redis->worker_channel.len
            && ngx_strncmp(channel.data, redis->worker_channel.data,
                           channel.len) == 0)
        {
            ngx_http_rtagent_redis_ready(conn);
            return;
        }

        /*
         * in place (again): the subscriber may fetch what it missed, once
         * the command connection can take its writes (until then they
         * would only crowd the bounded queue)
         */
        s = ngx_http_rtagent_redis_channel(redis, &channel);

        if (s && s->handler && s->sent && !s->leaving) {
            s->confirmed = 1;

            if (redis->cmd.state == NGX_HTTP_RTAGENT_REDIS_READY) {
                ngx_http_rtagent_redis_confirmed(redis);
            }
        }

        return;
    }

    if (ngx_http_rtagent_redis_str_is(kind->str, kind->len, "unsubscribe")) {
        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, redis->log, 0,
                       "rtagent redis: unsubscribed from \"%V\"", &channel);

        s = ngx_http_rtagent_redis_channel(redis, &channel);

        if (s == NULL || !s->leaving) {
            return;
        }

        s->leaving = 0;
        s->sent = 0;

        if (s->handler == NULL) {
            ngx_http_rtagent_redis_channel_free(redis, s);
            return;
        }

        /* subscribed again while leaving */
        if (ngx_http_rtagent_redis_subscribe_send(conn, s) != NGX_OK) {
            s->sent = 0;
        }

        return;
    }

    /* "pong": reading it was all the keepalive needed */
}
