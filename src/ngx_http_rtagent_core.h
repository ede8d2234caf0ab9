
/*
 * rtagent's ground floor: what every layer may use, on nginx core and
 * events only (and the request type, for the header lookup of the
 * handlers): timers owned by no connection, the clock in milliseconds, the
 * worker's scratch buffers, and the one JSON writer of nginx-side code.
 * Nothing here knows calls, sockets, ACS or Redis.
 */


#ifndef _NGX_HTTP_RTAGENT_CORE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_CORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include <yajl/yajl_gen.h>


/*
 * A timer not owned by a connection.  ngx_event_ident() reads a socket
 * after three pointers, as in ngx_connection_t (cf. ngx_resolver_ctx_t), so
 * debug logging of the event stays valid.
 */
typedef struct {
    void                         *data;
    void                         *unused[2];
    ngx_int_t                     ident;
    ngx_event_t                   event;
} ngx_http_rtagent_timer_t;


void ngx_http_rtagent_timer_init(ngx_http_rtagent_timer_t *t,
    ngx_event_handler_pt handler, void *data, ngx_log_t *log);

/* milliseconds since the epoch, from nginx's cached time */
int64_t ngx_http_rtagent_now_ms(void);
/* CLOCK_MONOTONIC in microseconds, read now (ngx_current_msec is the
 * loop's, in ms) */
uint64_t ngx_http_rtagent_monotonic_us(void);

/*
 * The worker's two work areas (see the .c), made by init_process of the
 * main module and freed with the cycle; each grows to the largest size
 * asked.  NULL when out of memory.
 */
ngx_int_t ngx_http_rtagent_core_init_process(ngx_cycle_t *cycle);
u_char *ngx_http_rtagent_scratch(size_t size);
u_char *ngx_http_rtagent_send_scratch(size_t size);

/* the last request header of that name, and how many there are */
ngx_table_elt_t *ngx_http_rtagent_header_in(ngx_http_request_t *r,
    const char *name, size_t len, ngx_uint_t *count);


/*
 * A JSON object written piece by piece over yajl_gen, strings checked to
 * be UTF-8.  A failure anywhere (no memory, bad UTF-8) is remembered and
 * reported once at the end, so the writing calls need no checks of their
 * own.  A key NULL writes a value without a key (inside an array).
 */
typedef struct {
    yajl_gen                      g;
    unsigned                      failed:1;
    unsigned                      list:1;      /* the root is an array */
} ngx_http_rtagent_json_out_t;


/* opens the root object; NGX_ERROR (nothing to free) when it cannot */
ngx_int_t ngx_http_rtagent_json_out_init(ngx_http_rtagent_json_out_t *j);
/* the same with an array for root: its values have no keys */
ngx_int_t ngx_http_rtagent_json_out_init_list(ngx_http_rtagent_json_out_t *j);
void ngx_http_rtagent_json_out_str(ngx_http_rtagent_json_out_t *j,
    const char *key, u_char *data, size_t len);
void ngx_http_rtagent_json_out_int(ngx_http_rtagent_json_out_t *j,
    const char *key, int64_t n);
void ngx_http_rtagent_json_out_bool(ngx_http_rtagent_json_out_t *j,
    const char *key, ngx_uint_t b);
/* a number as written (a JSON number taken from JSON) */
void ngx_http_rtagent_json_out_num(ngx_http_rtagent_json_out_t *j,
    const char *key, u_char *data, size_t len);
/* a fraction with four decimals (yajl itself prints %.20g) */
void ngx_http_rtagent_json_out_fixed(ngx_http_rtagent_json_out_t *j,
    const char *key, double n);
void ngx_http_rtagent_json_out_open(ngx_http_rtagent_json_out_t *j,
    const char *key);
void ngx_http_rtagent_json_out_close(ngx_http_rtagent_json_out_t *j);
void ngx_http_rtagent_json_out_array(ngx_http_rtagent_json_out_t *j,
    const char *key);
void ngx_http_rtagent_json_out_array_close(ngx_http_rtagent_json_out_t *j);

/* closes the root: out points into j, valid until out_free */
ngx_int_t ngx_http_rtagent_json_out_get(ngx_http_rtagent_json_out_t *j,
    ngx_str_t *out);
void ngx_http_rtagent_json_out_free(ngx_http_rtagent_json_out_t *j);

/* closes the root, copies the document into pool and frees j */
ngx_int_t ngx_http_rtagent_json_out_done(ngx_http_rtagent_json_out_t *j,
    ngx_pool_t *pool, ngx_str_t *out);

#define ngx_http_rtagent_json_out_cstr(j, key, s)                            \
    ngx_http_rtagent_json_out_str(j, key, (u_char *) (s), ngx_strlen(s))

/*
 * A flat object in pool: pairs of a key and an ngx_str_t * (a key NULL
 * ends them; a value NULL or empty is left out; a key "#name" writes the
 * value as a number, which it must be).
 */
ngx_int_t ngx_http_rtagent_json_object(ngx_pool_t *pool, ngx_str_t *out,
    ...);


/*
 * A secret of the configuration (keys, connection strings): "env:NAME"
 * (read by the master when the configuration is read), "file:PATH" (its
 * first line, at most NGX_HTTP_RTAGENT_SECRET_MAX bytes of file), or the
 * value itself; in cf->pool, NUL-terminated.  Never logged.
 */
#define NGX_HTTP_RTAGENT_SECRET_MAX  4096

ngx_int_t ngx_http_rtagent_conf_secret(ngx_conf_t *cf, ngx_str_t *in,
    ngx_str_t *out);

/*
 * A directive slot for such a secret: the ngx_str_t at cmd->offset, set
 * once ("is duplicate" after), checked against the rule in cmd->post (may
 * be NULL); a refusal names the directive, never the value.
 */
typedef struct {
    size_t       min_len;       /* shorter is refused */
    ngx_uint_t   no_line_end;   /* it goes into a header value */
    ngx_uint_t   token;         /* a token: no spaces, control characters
                                 * or quotes either */
} ngx_http_rtagent_conf_secret_rule_t;

/* what the rule refuses in a secret ("has a line end"), NULL: nothing */
const char *ngx_http_rtagent_secret_refused(
    ngx_http_rtagent_conf_secret_rule_t *rule, u_char *data, size_t len);

char *ngx_http_rtagent_conf_set_secret_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/*
 * A secret that follows its file: "file:PATH" (a token that a sidecar or a
 * managed identity agent rewrites before it expires) is read when the
 * configuration is read, then again when the secret is asked for, at most
 * every NGX_HTTP_RTAGENT_SECRET_CHECK ms, on the event loop of the worker
 * that asks (each keeps its own).  A read that fails (no file, empty, over
 * the size, against the rule) keeps the value read before and is logged.
 * The other forms never change.
 */
#define NGX_HTTP_RTAGENT_SECRET_CHECK  5000

typedef struct {
    ngx_str_t                             value;   /* NUL-terminated */
    ngx_str_t                             path;    /* empty: not a file */
    ngx_http_rtagent_conf_secret_rule_t  *rule;
    u_char                               *heap;    /* value, once re-read */
    ngx_msec_t                            checked;
    unsigned                              failed:1;
} ngx_http_rtagent_secret_t;

/*
 * The slot of such a secret: an ngx_http_rtagent_secret_t * at cmd->offset
 * (NULL or NGX_CONF_UNSET_PTR until set: merge it as a pointer, so that
 * the locations that inherit it share one), the rule in cmd->post
 */
char *ngx_http_rtagent_conf_set_live_secret_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/*
 * Such a secret from a parameter (in: what follows "token=", say), held to
 * rule when it is read again; the caller checks it now.  NULL when it
 * cannot be read (logged, never the value).
 */
ngx_http_rtagent_secret_t *ngx_http_rtagent_conf_live_secret(ngx_conf_t *cf,
    ngx_str_t *in, ngx_http_rtagent_conf_secret_rule_t *rule);
ngx_str_t *ngx_http_rtagent_secret_value(ngx_http_rtagent_secret_t *s);

/*
 * An http:// or https:// URL of the configuration that paths are added to:
 * no query, fragment, spaces, controls or quotes; its trailing slashes are
 * cut off.  NGX_ERROR when it is not one (the caller says so).
 */
ngx_int_t ngx_http_rtagent_conf_base_url(ngx_str_t *url);

/* a whole file named in the configuration, NUL-terminated, in cf->pool */
ngx_int_t ngx_http_rtagent_conf_file(ngx_conf_t *cf, ngx_str_t *name,
    size_t max, ngx_str_t *out);


#endif /* _NGX_HTTP_RTAGENT_CORE_H_INCLUDED_ */
