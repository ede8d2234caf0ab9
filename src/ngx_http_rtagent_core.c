
/*
 * rtagent's ground floor (see ngx_http_rtagent_core.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_core.h>


#define NGX_HTTP_RTAGENT_SCRATCH_MIN  4096


typedef struct {
    u_char                       *data;
    size_t                        size;
} ngx_http_rtagent_area_t;


/*
 * Per-worker work areas: parsing and writing are done synchronously on the
 * event loop, so one buffer of each serves every connection.  The two are
 * apart because a message being parsed can make the call send audio.
 */
typedef struct {
    ngx_http_rtagent_area_t       scratch;
    ngx_http_rtagent_area_t       send;
} ngx_http_rtagent_core_worker_t;


static u_char *ngx_http_rtagent_grow(ngx_http_rtagent_area_t *a, size_t need);
static void ngx_http_rtagent_core_cleanup(void *data);
static ngx_int_t ngx_http_rtagent_json_out_start(
    ngx_http_rtagent_json_out_t *j, ngx_uint_t list);
static void ngx_http_rtagent_json_out_key(ngx_http_rtagent_json_out_t *j,
    const char *key);
static void ngx_http_rtagent_json_out_check(ngx_http_rtagent_json_out_t *j,
    yajl_gen_status st);
static size_t ngx_http_rtagent_secret_line(u_char *data, size_t len);
static char *ngx_http_rtagent_conf_secret_check(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *secret);
static void ngx_http_rtagent_secret_cleanup(void *data);
static ssize_t ngx_http_rtagent_secret_read(ngx_http_rtagent_secret_t *s,
    u_char *buf, size_t size, const char **why, ngx_err_t *err);
static void ngx_http_rtagent_secret_reread(ngx_http_rtagent_secret_t *s,
    ngx_log_t *log);


static ngx_http_rtagent_core_worker_t  ngx_http_rtagent_core_worker;


void
ngx_http_rtagent_timer_init(ngx_http_rtagent_timer_t *t,
    ngx_event_handler_pt handler, void *data, ngx_log_t *log)
{
    ngx_memzero(t, sizeof(ngx_http_rtagent_timer_t));

    t->data = data;
    t->ident = -1;
    t->event.handler = handler;
    t->event.data = t;
    t->event.log = log;
}


int64_t
ngx_http_rtagent_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


uint64_t
ngx_http_rtagent_monotonic_us(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* the worker's scratch buffers ------------------------------------------ */

ngx_int_t
ngx_http_rtagent_core_init_process(ngx_cycle_t *cycle)
{
    ngx_pool_cleanup_t              *cln;
    ngx_http_rtagent_core_worker_t  *w;

    w = &ngx_http_rtagent_core_worker;

    /* freed with the cycle, after every module's exit_process */
    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_rtagent_core_cleanup;
    cln->data = w;

    if (ngx_http_rtagent_grow(&w->scratch, NGX_HTTP_RTAGENT_SCRATCH_MIN)
        == NULL
        || ngx_http_rtagent_grow(&w->send, NGX_HTTP_RTAGENT_SCRATCH_MIN)
           == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_core_cleanup(void *data)
{
    ngx_http_rtagent_core_worker_t  *w = data;

    if (w->scratch.data) {
        ngx_free(w->scratch.data);
    }

    if (w->send.data) {
        ngx_free(w->send.data);
    }

    ngx_memzero(w, sizeof(ngx_http_rtagent_core_worker_t));
}


static u_char *
ngx_http_rtagent_grow(ngx_http_rtagent_area_t *a, size_t need)
{
    if (a->size < need) {
        if (a->data != NULL) {
            ngx_free(a->data);
        }

        need = ngx_align(ngx_max(need, NGX_HTTP_RTAGENT_SCRATCH_MIN),
                         NGX_HTTP_RTAGENT_SCRATCH_MIN);

        a->data = ngx_alloc(need, ngx_cycle->log);
        a->size = a->data ? need : 0;
    }

    return a->data;
}


u_char *
ngx_http_rtagent_scratch(size_t size)
{
    return ngx_http_rtagent_grow(&ngx_http_rtagent_core_worker.scratch, size);
}


u_char *
ngx_http_rtagent_send_scratch(size_t size)
{
    return ngx_http_rtagent_grow(&ngx_http_rtagent_core_worker.send, size);
}


/* request headers ------------------------------------------------------- */

ngx_table_elt_t *
ngx_http_rtagent_header_in(ngx_http_request_t *r, const char *name,
    size_t len, ngx_uint_t *count)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *found;

    found = NULL;
    *count = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            found = &h[i];
            (*count)++;
        }
    }

    return found;
}


/* the JSON writer -------------------------------------------------------- */

ngx_int_t
ngx_http_rtagent_json_out_init(ngx_http_rtagent_json_out_t *j)
{
    return ngx_http_rtagent_json_out_start(j, 0);
}


ngx_int_t
ngx_http_rtagent_json_out_init_list(ngx_http_rtagent_json_out_t *j)
{
    return ngx_http_rtagent_json_out_start(j, 1);
}


static ngx_int_t
ngx_http_rtagent_json_out_start(ngx_http_rtagent_json_out_t *j,
    ngx_uint_t list)
{
    yajl_gen_status  st;

    j->failed = 0;
    j->list = list;

    j->g = yajl_gen_alloc(NULL);
    if (j->g == NULL) {
        j->failed = 1;
        return NGX_ERROR;
    }

    if (yajl_gen_config(j->g, yajl_gen_validate_utf8, 1)) {
        st = list ? yajl_gen_array_open(j->g) : yajl_gen_map_open(j->g);

    } else {
        st = yajl_gen_generation_complete;
    }

    if (st != yajl_gen_status_ok) {
        ngx_http_rtagent_json_out_free(j);
        j->failed = 1;
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_json_out_check(ngx_http_rtagent_json_out_t *j,
    yajl_gen_status st)
{
    if (st != yajl_gen_status_ok) {
        j->failed = 1;
    }
}


static void
ngx_http_rtagent_json_out_key(ngx_http_rtagent_json_out_t *j,
    const char *key)
{
    if (!j->failed && key) {
        ngx_http_rtagent_json_out_check(j,
            yajl_gen_string(j->g, (const unsigned char *) key,
                            ngx_strlen(key)));
    }
}


void
ngx_http_rtagent_json_out_str(ngx_http_rtagent_json_out_t *j,
    const char *key, u_char *data, size_t len)
{
    ngx_http_rtagent_json_out_key(j, key);

    if (!j->failed) {
        ngx_http_rtagent_json_out_check(j,
            yajl_gen_string(j->g, data ? data : (u_char *) "", len));
    }
}


void
ngx_http_rtagent_json_out_int(ngx_http_rtagent_json_out_t *j,
    const char *key, int64_t n)
{
    ngx_http_rtagent_json_out_key(j, key);

    if (!j->failed) {
        ngx_http_rtagent_json_out_check(j, yajl_gen_integer(j->g, n));
    }
}


void
ngx_http_rtagent_json_out_bool(ngx_http_rtagent_json_out_t *j,
    const char *key, ngx_uint_t b)
{
    ngx_http_rtagent_json_out_key(j, key);

    if (!j->failed) {
        ngx_http_rtagent_json_out_check(j, yajl_gen_bool(j->g, b != 0));
    }
}


void
ngx_http_rtagent_json_out_num(ngx_http_rtagent_json_out_t *j,
    const char *key, u_char *data, size_t len)
{
    ngx_http_rtagent_json_out_key(j, key);

    if (!j->failed) {
        ngx_http_rtagent_json_out_check(j,
            yajl_gen_number(j->g, (const char *) data, len));
    }
}


void
ngx_http_rtagent_json_out_fixed(ngx_http_rtagent_json_out_t *j,
    const char *key, double n)
{
    u_char  *last;
    u_char   buf[32];

    last = ngx_snprintf(buf, sizeof(buf), "%.4f", n);

    ngx_http_rtagent_json_out_num(j, key, buf, last - buf);
}


void
ngx_http_rtagent_json_out_open(ngx_http_rtagent_json_out_t *j,
    const char *key)
{
    ngx_http_rtagent_json_out_key(j, key);

    if (!j->failed) {
        ngx_http_rtagent_json_out_check(j, yajl_gen_map_open(j->g));
    }
}


void
ngx_http_rtagent_json_out_close(ngx_http_rtagent_json_out_t *j)
{
    if (!j->failed) {
        ngx_http_rtagent_json_out_check(j, yajl_gen_map_close(j->g));
    }
}


void
ngx_http_rtagent_json_out_array(ngx_http_rtagent_json_out_t *j,
    const char *key)
{
    ngx_http_rtagent_json_out_key(j, key);

    if (!j->failed) {
        ngx_http_rtagent_json_out_check(j, yajl_gen_array_open(j->g));
    }
}


void
ngx_http_rtagent_json_out_array_close(ngx_http_rtagent_json_out_t *j)
{
    if (!j->failed) {
        ngx_http_rtagent_json_out_check(j, yajl_gen_array_close(j->g));
    }
}


ngx_int_t
ngx_http_rtagent_json_out_get(ngx_http_rtagent_json_out_t *j, ngx_str_t *out)
{
    size_t                len;
    const unsigned char  *buf;

    if (j->list) {
        ngx_http_rtagent_json_out_array_close(j);

    } else {
        ngx_http_rtagent_json_out_close(j);
    }

    if (j->failed
        || yajl_gen_get_buf(j->g, &buf, &len) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    out->data = (u_char *) buf;
    out->len = len;

    return NGX_OK;
}


void
ngx_http_rtagent_json_out_free(ngx_http_rtagent_json_out_t *j)
{
    if (j->g) {
        yajl_gen_free(j->g);
        j->g = NULL;
    }
}


ngx_int_t
ngx_http_rtagent_json_out_done(ngx_http_rtagent_json_out_t *j,
    ngx_pool_t *pool, ngx_str_t *out)
{
    ngx_int_t  rc;
    ngx_str_t  doc;

    rc = NGX_ERROR;

    if (ngx_http_rtagent_json_out_get(j, &doc) == NGX_OK) {
        out->data = ngx_pnalloc(pool, doc.len);

        if (out->data) {
            ngx_memcpy(out->data, doc.data, doc.len);
            out->len = doc.len;
            rc = NGX_OK;
        }
    }

    ngx_http_rtagent_json_out_free(j);

    return rc;
}


ngx_int_t
ngx_http_rtagent_json_object(ngx_pool_t *pool, ngx_str_t *out, ...)
{
    va_list                      args;
    ngx_str_t                   *v;
    const char                  *key;
    ngx_http_rtagent_json_out_t  j;

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        return NGX_ERROR;
    }

    va_start(args, out);

    for ( ;; ) {
        key = va_arg(args, const char *);
        if (key == NULL) {
            break;
        }

        v = va_arg(args, ngx_str_t *);
        if (v == NULL || v->len == 0) {
            continue;
        }

        if (key[0] == '#') {
            ngx_http_rtagent_json_out_num(&j, key + 1, v->data, v->len);

        } else {
            ngx_http_rtagent_json_out_str(&j, key, v->data, v->len);
        }
    }

    va_end(args);

    return ngx_http_rtagent_json_out_done(&j, pool, out);
}


/* the length of the first line of a secret's file, without its end */

static size_t
ngx_http_rtagent_secret_line(u_char *data, size_t len)
{
    u_char  *last;

    last = ngx_strlchr(data, data + len, '\n');
    if (last == NULL) {
        last = data + len;
    }

    while (last > data && (last[-1] == '\r' || last[-1] == ' ')) {
        last--;
    }

    return last - data;
}


/* what is wrong with a secret by the rule ("has a line end"), or NULL */

const char *
ngx_http_rtagent_secret_refused(ngx_http_rtagent_conf_secret_rule_t *rule,
    u_char *data, size_t len)
{
    u_char  *p;

    if (rule == NULL) {
        return NULL;
    }

    if (len < rule->min_len) {
        return "is too short";
    }

    if (rule->no_line_end
        && (ngx_strlchr(data, data + len, '\r')
            || ngx_strlchr(data, data + len, '\n')))
    {
        return "has a line end";
    }

    if (rule->token) {
        for (p = data; p < data + len; p++) {
            if (*p <= ' ' || *p == 0x7f || *p == '"') {
                return "holds spaces, control characters or quotes";
            }
        }
    }

    return NULL;
}


/*
 * A secret is "env:NAME" (read when the configuration is read, by the
 * master), "file:PATH" (its first line), or the value itself.  Secrets are
 * never logged.
 */

ngx_int_t
ngx_http_rtagent_conf_secret(ngx_conf_t *cf, ngx_str_t *in, ngx_str_t *out)
{
    char       *env;
    u_char     *name;
    ngx_str_t   path;

    if (in->len > 4 && ngx_strncmp(in->data, "env:", 4) == 0) {
        name = in->data + 4;
        env = getenv((char *) name);

        if (env == NULL || env[0] == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the environment variable \"%s\" is not set",
                               name);
            return NGX_ERROR;
        }

        out->len = ngx_strlen(env);
        out->data = ngx_pnalloc(cf->pool, out->len + 1);
        if (out->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(out->data, env, out->len + 1);

        return NGX_OK;
    }

    if (!(in->len > 5 && ngx_strncmp(in->data, "file:", 5) == 0)) {
        *out = *in;
        return NGX_OK;
    }

    path.data = in->data + 5;
    path.len = in->len - 5;

    if (ngx_http_rtagent_conf_file(cf, &path, NGX_HTTP_RTAGENT_SECRET_MAX, out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    out->len = ngx_http_rtagent_secret_line(out->data, out->len);
    out->data[out->len] = '\0';

    if (out->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" is empty", &path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


char *
ngx_http_rtagent_conf_set_secret_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_str_t  *field, *value;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_rtagent_conf_secret(cf, &value[1], field) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_rtagent_conf_secret_check(cf, cmd, field);
}


static char *
ngx_http_rtagent_conf_secret_check(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *secret)
{
    const char                           *why;
    ngx_http_rtagent_conf_secret_rule_t  *rule;

    rule = cmd->post;

    why = ngx_http_rtagent_secret_refused(rule, secret->data, secret->len);

    if (why == NULL) {
        return NGX_CONF_OK;
    }

    if (secret->len < rule->min_len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the secret is shorter than %uz bytes",
                           &cmd->name, rule->min_len);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": the secret %s",
                           &cmd->name, why);
    }

    return NGX_CONF_ERROR;
}


char *
ngx_http_rtagent_conf_set_live_secret_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    char                       *rv;
    ngx_str_t                  *value;
    ngx_http_rtagent_secret_t  *s, **field;

    field = (ngx_http_rtagent_secret_t **) (p + cmd->offset);

    if (*field != NULL && *field != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    s = ngx_http_rtagent_conf_live_secret(cf, &value[1], cmd->post);
    if (s == NULL) {
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_rtagent_conf_secret_check(cf, cmd, &s->value);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    *field = s;

    return NGX_CONF_OK;
}


ngx_http_rtagent_secret_t *
ngx_http_rtagent_conf_live_secret(ngx_conf_t *cf, ngx_str_t *in,
    ngx_http_rtagent_conf_secret_rule_t *rule)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_rtagent_secret_t  *s;

    s = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_secret_t));
    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (s == NULL || cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_rtagent_secret_cleanup;
    cln->data = s;

    if (ngx_http_rtagent_conf_secret(cf, in, &s->value) != NGX_OK) {
        return NULL;
    }

    s->rule = rule;

    if (in->len > 5 && ngx_strncmp(in->data, "file:", 5) == 0) {
        s->path.data = in->data + 5;
        s->path.len = in->len - 5;

        /* NUL-terminated: the argument, or its full name by nginx */
        if (ngx_conf_full_name(cf->cycle, &s->path, 1) != NGX_OK) {
            return NULL;
        }
    }

    return s;
}


static void
ngx_http_rtagent_secret_cleanup(void *data)
{
    ngx_http_rtagent_secret_t  *s = data;

    if (s->heap != NULL) {
        ngx_explicit_memzero(s->heap, s->value.len);
        ngx_free(s->heap);
        s->heap = NULL;
    }
}


ngx_str_t *
ngx_http_rtagent_secret_value(ngx_http_rtagent_secret_t *s)
{
    if (s->path.len
        && (s->checked == 0
            || ngx_current_msec - s->checked >= NGX_HTTP_RTAGENT_SECRET_CHECK))
    {
        s->checked = ngx_current_msec;
        ngx_http_rtagent_secret_reread(s, ngx_cycle->log);
    }

    return &s->value;
}


/*
 * The secret's file into buf (one byte more than allowed: a file over the
 * size is refused): its length, or -1 with why and err
 */

static ssize_t
ngx_http_rtagent_secret_read(ngx_http_rtagent_secret_t *s, u_char *buf,
    size_t size, const char **why, ngx_err_t *err)
{
    ssize_t   n;
    ngx_fd_t  fd;

    fd = ngx_open_file(s->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        *err = ngx_errno;
        *why = ngx_open_file_n " failed";
        return -1;
    }

    n = ngx_read_fd(fd, buf, size);
    *err = ngx_errno;

    (void) ngx_close_file(fd);

    if (n == -1) {
        *why = ngx_read_fd_n " failed";
        return -1;
    }

    *err = 0;

    if ((size_t) n >= size) {
        ngx_explicit_memzero(buf, n);
        *why = "it is over the size";
        return -1;
    }

    return n;
}


/* the file again: a new value replaces the old one, a failure keeps it */

static void
ngx_http_rtagent_secret_reread(ngx_http_rtagent_secret_t *s, ngx_log_t *log)
{
    u_char       buf[NGX_HTTP_RTAGENT_SECRET_MAX + 1], *p;
    size_t       len;
    ssize_t      n;
    ngx_err_t    err;
    const char  *why, *it;

    it = "";

    n = ngx_http_rtagent_secret_read(s, buf, sizeof(buf), &why, &err);

    if (n == -1) {
        n = 0;
        goto failed;
    }

    len = ngx_http_rtagent_secret_line(buf, n);

    why = (len == 0) ? "is empty"
                     : ngx_http_rtagent_secret_refused(s->rule, buf, len);
    if (why != NULL) {
        it = "it ";
        goto failed;
    }

    if (len == s->value.len && ngx_memcmp(buf, s->value.data, len) == 0) {
        if (s->failed) {
            s->failed = 0;
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "rtagent: the secret in \"%V\" can be read again",
                          &s->path);
        }

        ngx_explicit_memzero(buf, n);
        return;
    }

    p = ngx_alloc(len + 1, log);
    if (p == NULL) {
        why = "no memory";
        goto failed;
    }

    ngx_memcpy(p, buf, len);
    p[len] = '\0';
    ngx_explicit_memzero(buf, n);

    ngx_http_rtagent_secret_cleanup(s);

    s->heap = p;
    s->value.data = p;
    s->value.len = len;
    s->failed = 0;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "rtagent: the secret in \"%V\" has changed, read again",
                  &s->path);

    return;

failed:

    ngx_explicit_memzero(buf, n);

    if (!s->failed) {
        s->failed = 1;
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "rtagent: the secret in \"%V\" cannot be read again "
                      "(%s%s), the one read before is kept", &s->path, it,
                      why);
    }
}


ngx_int_t
ngx_http_rtagent_conf_base_url(ngx_str_t *url)
{
    u_char  *p;

    if (!((url->len > 8 && ngx_strncmp(url->data, "https://", 8) == 0)
          || (url->len > 7 && ngx_strncmp(url->data, "http://", 7) == 0)))
    {
        return NGX_ERROR;
    }

    for (p = url->data; p < url->data + url->len; p++) {
        if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '?' || *p == '#') {
            return NGX_ERROR;
        }
    }

    while (url->data[url->len - 1] == '/') {
        url->len--;
    }

    return NGX_OK;
}


/* a whole file named in the configuration, NUL-terminated, in cf->pool */

ngx_int_t
ngx_http_rtagent_conf_file(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *out)
{
    ssize_t          n;
    ngx_str_t        path;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    path = *name;

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = path;
    file.log = cf->log;

    file.fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &path);
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR
        || (size_t) ngx_file_size(&fi) > max)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": unreadable or over %uz bytes", &path,
                           max);
        (void) ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
    if (out->data == NULL) {
        (void) ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    n = ngx_read_file(&file, out->data, ngx_file_size(&fi), 0);

    (void) ngx_close_file(file.fd);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    out->len = n;
    out->data[n] = '\0';

    return NGX_OK;
}
