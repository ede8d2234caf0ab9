
/*
 * The say_back responder (rtagent_engine say_back): until the agents land,
 * a turn is answered with "You said: <transcript>." in two pieces, as a
 * streaming responder would send them, from inside start() (the reply is
 * at hand); a silent caller with "Are you still there?", then a goodbye.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <call/ngx_http_rtagent_turn.h>


typedef struct {
    ngx_str_t                    text;
    unsigned                     cancelled:1;
} ngx_http_rtagent_say_back_ctx_t;


static ngx_int_t ngx_http_rtagent_say_back_start(
    ngx_http_rtagent_turn_t *turn);
static void ngx_http_rtagent_say_back_cancel(ngx_http_rtagent_turn_t *turn);
static void ngx_http_rtagent_say_back_reply(ngx_http_rtagent_turn_t *turn);


const ngx_http_rtagent_responder_t  ngx_http_rtagent_say_back = {
    ngx_string("say_back"),
    ngx_http_rtagent_say_back_start,
    ngx_http_rtagent_say_back_cancel,
    NULL,
    0
};


static ngx_int_t
ngx_http_rtagent_say_back_start(ngx_http_rtagent_turn_t *turn)
{
    ngx_str_t                        *said;
    ngx_http_rtagent_say_back_ctx_t  *ctx;

    ctx = turn->ctx;

    if (ctx == NULL) {
        ctx = ngx_pcalloc(turn->pool,
                          sizeof(ngx_http_rtagent_say_back_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        turn->ctx = ctx;
    }

    said = &turn->transcript.text;

    /* the turn's text is valid until done: keep a copy of our own */
    ctx->text.data = ngx_pnalloc(turn->pool, said->len + 1);
    if (ctx->text.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->text.data, said->data, said->len);
    ctx->text.data[said->len] = '.';
    ctx->text.len = said->len + 1;

    ctx->cancelled = 0;

    /* the reply is at hand: given now, not a pass of the event loop later
     * (see ngx_http_rtagent_turn.h) */
    ngx_http_rtagent_say_back_reply(turn);

    return NGX_OK;
}


static void
ngx_http_rtagent_say_back_cancel(ngx_http_rtagent_turn_t *turn)
{
    ngx_http_rtagent_say_back_ctx_t  *ctx = turn->ctx;

    if (ctx == NULL) {
        return;
    }

    ctx->cancelled = 1;
}


static void
ngx_http_rtagent_say_back_reply(ngx_http_rtagent_turn_t *turn)
{
    ngx_str_t                         piece;
    ngx_http_rtagent_say_back_ctx_t  *ctx = turn->ctx;

    if (turn->kind != NGX_HTTP_RTAGENT_TURN_CALLER) {
        if (turn->kind == NGX_HTTP_RTAGENT_TURN_REPROMPT) {
            ngx_str_set(&piece, "Are you still there?");

        } else {
            ngx_str_set(&piece, "I cannot hear you. Goodbye.");
        }

        turn->on_text(turn, &piece);

        if (!ctx->cancelled) {
            turn->on_done(turn, NGX_OK, NULL);
        }

        return;
    }

    ngx_str_set(&piece, "You said: ");
    turn->on_text(turn, &piece);

    /* on_text may have cancelled the turn */
    if (ctx->cancelled) {
        return;
    }

    turn->on_text(turn, &ctx->text);

    if (ctx->cancelled) {
        return;
    }

    turn->on_done(turn, NGX_OK, NULL);
}
