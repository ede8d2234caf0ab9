
/*
 * Test-only driver for the chat-completions client (src/llm): a location
 * that runs one streamed request as the LLM engine would, and answers with
 * what came back.  Never shipped.
 *
 *   rtagent_test_llm;      GET /t?route=R&text=T[&tools=A;B][&call=ID]
 *                          [&cancel=MS]
 *       Sends a system prompt and the user's text T (unescaped) on route
 *       R with the built-in tools named in tools, and replies:
 *       "text: <all deltas>", "deltas: N", "finish: F", one "call: NAME
 *       ID ARGS valid|invalid: WHY" per tool call, "usage: P C",
 *       "endpoint: E failovers: N"; or "error: ERR" and the endpoint
 *       line.  cancel=MS cancels MS ms after the start and replies
 *       "cancelled" 500 ms later (after nothing else, which would say
 *       "callback after cancel").
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <llm/ngx_http_rtagent_llm.h>


typedef struct {
    ngx_http_request_t            *request;
    ngx_str_t                      call_id;
    ngx_str_t                      text;
    ngx_str_t                      out;
    size_t                         out_size;
    ngx_uint_t                     deltas;
    ngx_msec_t                     cancel;
    ngx_http_rtagent_llm_req_t     req;
    ngx_http_rtagent_chat_msg_t    msgs[2];
    ngx_http_rtagent_chat_tool_t   tools[8];
    ngx_http_rtagent_timer_t       timer;
    unsigned                       cancelled:1;
    unsigned                       finished:1;
    unsigned                       running:1;
} ngx_http_rtagent_test_llm_t;


static char *ngx_http_rtagent_test_llm_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_test_llm_handler(ngx_http_request_t *r);


static ngx_command_t  ngx_http_rtagent_test_llm_commands[] = {

    { ngx_string("rtagent_test_llm"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_test_llm_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_test_llm_module_ctx = {
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};


ngx_module_t  ngx_http_rtagent_test_llm_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_test_llm_module_ctx, /* module context */
    ngx_http_rtagent_test_llm_commands,    /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static char *
ngx_http_rtagent_test_llm_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_rtagent_test_llm_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_rtagent_test_llm_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    u_char  *dst, *src;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), value) != NGX_OK) {
        return NGX_DECLINED;
    }

    dst = ngx_pnalloc(r->pool, value->len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    src = value->data;
    value->data = dst;
    ngx_unescape_uri(&dst, &src, value->len, 0);
    value->len = dst - value->data;

    return NGX_OK;
}


static void
ngx_http_rtagent_test_llm_out(ngx_http_rtagent_test_llm_t *tl,
    const char *fmt, ...)
{
    u_char   *p, buf[8192];
    size_t    n;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf) - 1, fmt, args);
    va_end(args);

    *p++ = '\n';
    n = p - buf;

    if (tl->out.len + n > tl->out_size) {
        tl->out_size = ngx_max(tl->out_size * 2, tl->out.len + n + 4096);
        p = ngx_pnalloc(tl->request->pool, tl->out_size);
        if (p == NULL) {
            return;
        }

        ngx_memcpy(p, tl->out.data, tl->out.len);
        tl->out.data = p;
    }

    ngx_memcpy(tl->out.data + tl->out.len, buf, n);
    tl->out.len += n;
}


static void
ngx_http_rtagent_test_llm_reply(ngx_http_rtagent_test_llm_t *tl)
{
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (tl->finished) {
        return;
    }

    tl->finished = 1;
    r = tl->request;
    c = r->connection;

    if (tl->timer.event.timer_set) {
        ngx_del_timer(&tl->timer.event);
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = tl->out.len;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc != NGX_ERROR && rc <= NGX_OK && !r->header_only) {
        b = ngx_calloc_buf(r->pool);
        if (b == NULL) {
            rc = NGX_ERROR;

        } else {
            b->pos = tl->out.data;
            b->last = tl->out.data + tl->out.len;
            b->memory = tl->out.len ? 1 : 0;
            b->last_buf = 1;
            b->last_in_chain = 1;

            out.buf = b;
            out.next = NULL;

            rc = ngx_http_output_filter(r, &out);
        }
    }

    ((ngx_http_log_ctx_t *) c->log->data)->current_request = r;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_rtagent_test_llm_text(ngx_http_rtagent_llm_req_t *req,
    const char *p, size_t len)
{
    ngx_http_rtagent_test_llm_t  *tl = req->data;

    u_char  *n;

    if (tl->cancelled) {
        ngx_http_rtagent_test_llm_out(tl, "callback after cancel");
        return;
    }

    tl->deltas++;

    n = ngx_pnalloc(tl->request->pool, tl->text.len + len);
    if (n == NULL) {
        return;
    }

    ngx_memcpy(n, tl->text.data, tl->text.len);
    ngx_memcpy(n + tl->text.len, p, len);
    tl->text.data = n;
    tl->text.len += len;
}


static void
ngx_http_rtagent_test_llm_done(ngx_http_rtagent_llm_req_t *req)
{
    ngx_http_rtagent_test_llm_t  *tl = req->data;

    size_t                         i;
    ngx_http_rtagent_chat_call_t  *call;

    tl->running = 0;

    if (tl->cancelled) {
        ngx_http_rtagent_test_llm_out(tl, "callback after cancel");
        return;
    }

    if (req->rc != NGX_OK) {
        ngx_http_rtagent_test_llm_out(tl, "text: %V", &tl->text);
        ngx_http_rtagent_test_llm_out(tl, "error: %s", req->err);

    } else {
        ngx_http_rtagent_test_llm_out(tl, "text: %V", &tl->text);
        ngx_http_rtagent_test_llm_out(tl, "deltas: %ui", tl->deltas);
        ngx_http_rtagent_test_llm_out(tl, "finish: %s",
                           ngx_http_rtagent_chat_finish_name(req->chat.finish));

        for (i = 0; i < req->chat.ncalls; i++) {
            call = &req->chat.calls[i];
            ngx_http_rtagent_test_llm_out(tl, "call: %s %s %*s %s%s",
                                          call->name, call->id,
                                          call->args_len,
                                          call->args ? call->args : "",
                                          call->valid ? "valid"
                                                      : "invalid: ",
                                          call->valid ? "" : call->invalid);
        }

        ngx_http_rtagent_test_llm_out(tl, "usage: %l %l",
                                      req->chat.prompt_tokens,
                                      req->chat.completion_tokens);
    }

    ngx_http_rtagent_test_llm_out(tl, "endpoint: %V failovers: %ui",
                                  &req->endpoint->name, req->failovers);

    ngx_http_rtagent_llm_cancel(req);
    ngx_http_rtagent_test_llm_reply(tl);
}


static void
ngx_http_rtagent_test_llm_timer(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t     *t = ev->data;
    ngx_http_rtagent_test_llm_t  *tl = t->data;

    if (!tl->cancelled) {
        tl->cancelled = 1;
        tl->running = 0;
        ngx_http_rtagent_llm_cancel(&tl->req);
        ngx_add_timer(&tl->timer.event, 500);
        return;
    }

    ngx_http_rtagent_test_llm_out(tl, "cancelled");
    ngx_http_rtagent_test_llm_reply(tl);
}


static void
ngx_http_rtagent_test_llm_cleanup(void *data)
{
    ngx_http_rtagent_test_llm_t  *tl = data;

    if (tl->timer.event.timer_set) {
        ngx_del_timer(&tl->timer.event);
    }

    ngx_http_rtagent_llm_cancel(&tl->req);
}


static ngx_int_t
ngx_http_rtagent_test_llm_handler(ngx_http_request_t *r)
{
    u_char                       *p, *last, *semi;
    ngx_int_t                     n;
    ngx_str_t                     v;
    ngx_pool_cleanup_t           *cln;
    ngx_http_rtagent_test_llm_t  *tl;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tl = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_test_llm_t));
    if (tl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tl->request = r;

    if (ngx_http_rtagent_test_llm_arg(r, "call", &tl->call_id) != NGX_OK) {
        ngx_str_set(&tl->call_id, "test-call");
    }

    if (ngx_http_rtagent_test_llm_arg(r, "route", &tl->req.route) != NGX_OK)
    {
        ngx_str_set(&tl->req.route, "default");
    }

    tl->msgs[0].role = NGX_HTTP_RTAGENT_CHAT_SYSTEM;
    tl->msgs[0].content.data = "You are a test.";
    tl->msgs[0].content.len = sizeof("You are a test.") - 1;
    tl->msgs[1].role = NGX_HTTP_RTAGENT_CHAT_USER;

    if (ngx_http_rtagent_test_llm_arg(r, "text", &v) != NGX_OK) {
        ngx_str_set(&v, "Hello");
    }

    tl->msgs[1].content.data = (const char *) v.data;
    tl->msgs[1].content.len = v.len;

    tl->req.body.msgs = tl->msgs;
    tl->req.body.nmsgs = 2;

    if (ngx_http_rtagent_test_llm_arg(r, "tools", &v) == NGX_OK) {
        p = v.data;
        last = v.data + v.len;

        while (p < last && tl->req.body.ntools < 8) {
            semi = ngx_strlchr(p, last, ';');
            semi = semi ? semi : last;

            if (ngx_http_rtagent_chat_builtin((char *) p, semi - p,
                    &tl->tools[tl->req.body.ntools]) == 0)
            {
                tl->req.body.ntools++;
            }

            p = semi + 1;
        }

        tl->req.body.tools = tl->tools;
    }

    if (ngx_http_arg(r, (u_char *) "cancel", 6, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        tl->cancel = (n == NGX_ERROR) ? 0 : (ngx_msec_t) n;
    }

    tl->req.loc_conf = r->loc_conf;
    tl->req.log = r->connection->log;
    tl->req.call_id = &tl->call_id;
    tl->req.on_text = ngx_http_rtagent_test_llm_text;
    tl->req.on_done = ngx_http_rtagent_test_llm_done;
    tl->req.data = tl;

    ngx_http_rtagent_timer_init(&tl->timer, ngx_http_rtagent_test_llm_timer,
                                tl, r->connection->log);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_rtagent_test_llm_cleanup;
    cln->data = tl;

    r->main->count++;

    if (ngx_http_rtagent_llm_start(&tl->req) != NGX_OK) {
        ngx_http_rtagent_test_llm_out(tl, "start failed: %s", tl->req.err);
        ngx_http_rtagent_test_llm_reply(tl);
        return NGX_DONE;
    }

    tl->running = 1;

    if (tl->cancel) {
        ngx_add_timer(&tl->timer.event, tl->cancel);
    }

    return NGX_DONE;
}
