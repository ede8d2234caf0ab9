
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


/*
 * A secret is "env:NAME" (read when the configuration is read, by the
 * master), "file:PATH" (its first line), or the value itself.  Secrets are
 * never logged.
 */

ngx_int_t
ngx_http_rtagent_conf_secret(ngx_conf_t *cf, ngx_str_t *in, ngx_str_t *out)
{
    char       *env;
    u_char     *name, *last;
    size_t      n;
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

    n = out->len;

    /* the first line, without its end */
    last = ngx_strlchr(out->data, out->data + n, '\n');
    if (last == NULL) {
        last = out->data + n;
    }

    while (last > out->data && (last[-1] == '\r' || last[-1] == ' ')) {
        last--;
    }

    out->len = last - out->data;
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

    ngx_str_t                            *field, *value;
    ngx_http_rtagent_conf_secret_rule_t  *rule;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_rtagent_conf_secret(cf, &value[1], field) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rule = cmd->post;

    if (rule == NULL) {
        return NGX_CONF_OK;
    }

    if (field->len < rule->min_len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the secret is shorter than %uz bytes",
                           &cmd->name, rule->min_len);
        return NGX_CONF_ERROR;
    }

    if (rule->no_line_end
        && (ngx_strlchr(field->data, field->data + field->len, '\r')
            || ngx_strlchr(field->data, field->data + field->len, '\n')))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the secret has a line end", &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
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
