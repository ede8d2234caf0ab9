
/*
 * A call's live state in Redis (see ngx_http_rtagent_store.h).
 *
 * Every write goes through the worker's Redis queue and holds a reference
 * on its call (sc->refs): a call that ended keeps its memory until the last
 * of its writes is answered or dropped, so a transcript gap that Redis
 * reports then can still be filled.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <ngx_http_rtagent_module.h>
#include <io/ngx_http_rtagent_redis.h>
#include <store/ngx_http_rtagent_store.h>


#define NGX_HTTP_RTAGENT_STORE_CALL_TTL        "86400000"      /* 24 h */
#define NGX_HTTP_RTAGENT_STORE_TRANSCRIPT_TTL  "3600000"       /* 1 h */
#define NGX_HTTP_RTAGENT_STORE_CONTEXT_TTL     "3600000"       /* 1 h */

#define NGX_HTTP_RTAGENT_STORE_EVENTS          "rtagent:events"
#define NGX_HTTP_RTAGENT_STORE_EVENTS_MAXLEN   "100000"

/* the TTLs of live calls are renewed this often, well within 1 h */
#define NGX_HTTP_RTAGENT_STORE_REFRESH         (10 * 60 * 1000)

/* transcript kept in memory per call, to refill a Redis that lost it */
#define NGX_HTTP_RTAGENT_STORE_KEEP_ENTRIES    4096
#define NGX_HTTP_RTAGENT_STORE_KEEP_SIZE       (1024 * 1024)

#define NGX_HTTP_RTAGENT_STORE_ARGS            32
#define NGX_HTTP_RTAGENT_STORE_NUMS            8
#define NGX_HTTP_RTAGENT_STORE_PARTICIPANTS    16
#define NGX_HTTP_RTAGENT_STORE_CTL_MAX         65536


struct ngx_http_rtagent_store_call_s {
    ngx_queue_t                    queue;          /* in the worker's list */
    ngx_log_t                     *log;
    ngx_uint_t                     refs;           /* writes not answered */

    ngx_str_t                      id;
    ngx_str_t                      key;            /* rtagent:call:{id} */
    ngx_str_t                      transcript;
    ngx_str_t                      context_key;
    ngx_str_t                      channel;
    ngx_str_t                      agent;

    ngx_http_rtagent_store_ctl_pt  ctl;            /* NULL once ended */
    void                          *ctl_data;

    ngx_uint_t                     rate;
    int64_t                        started;        /* ms since the epoch */
    int64_t                        ended;
    const char                    *outcome;
    u_char                         reason[100];
    size_t                         reason_len;

    ngx_str_t                      context;        /* ngx_alloc()ed */

    ngx_queue_t                    entries;        /* oldest first */
    ngx_uint_t                     nentries;
    size_t                         entries_size;
    ngx_uint_t                     seq;            /* the last entry's */
    ngx_uint_t                     acked;          /* last seq in Redis */

    uint32_t                       seen[NGX_HTTP_RTAGENT_STORE_PARTICIPANTS];
    ngx_uint_t                     nseen;
    u_char                         last_seen[128];
    size_t                         last_seen_len;

    unsigned                       live:1;
    unsigned                       subscribed:1;
    unsigned                       filling:1;
    unsigned                       lost_logged:1;
};


typedef struct {
    ngx_queue_t                    queue;
    ngx_uint_t                     seq;
    ngx_str_t                      json;           /* after this */
} ngx_http_rtagent_store_entry_t;


typedef struct {
    int                            argc;
    const char                    *argv[NGX_HTTP_RTAGENT_STORE_ARGS];
    size_t                         len[NGX_HTTP_RTAGENT_STORE_ARGS];
    ngx_uint_t                     nnums;
    u_char                         nums[NGX_HTTP_RTAGENT_STORE_NUMS]
                                       [NGX_INT64_LEN];
} ngx_http_rtagent_store_cmd_t;


typedef struct {
    yajl_gen                       g;
    ngx_uint_t                     err;
} ngx_http_rtagent_store_json_t;


typedef struct {
    ngx_queue_t                    calls;          /* held in memory */
    ngx_uint_t                     live;
    ngx_http_rtagent_timer_t       refresh;
    unsigned                       init:1;
} ngx_http_rtagent_store_worker_t;


static void ngx_http_rtagent_store_send(ngx_http_rtagent_store_call_t *sc,
    ngx_http_rtagent_store_cmd_t *cmd,
    ngx_http_rtagent_redis_reply_pt handler);
static void ngx_http_rtagent_store_done(void *data, redisReply *reply);
static void ngx_http_rtagent_store_release(ngx_http_rtagent_store_call_t *sc);
static void ngx_http_rtagent_store_hash(ngx_http_rtagent_store_call_t *sc);
static void ngx_http_rtagent_store_expire(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *key, const char *ttl);
static void ngx_http_rtagent_store_append(ngx_http_rtagent_store_call_t *sc,
    ngx_http_rtagent_store_json_t *j);
static void ngx_http_rtagent_store_keep(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t seq, ngx_str_t *json);
static void ngx_http_rtagent_store_fill(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t from);
static void ngx_http_rtagent_store_sync(ngx_http_rtagent_store_call_t *sc);
static void ngx_http_rtagent_store_appended(void *data, redisReply *reply);
static void ngx_http_rtagent_store_filled(void *data, redisReply *reply);
static void ngx_http_rtagent_store_emit(ngx_http_rtagent_store_call_t *sc,
    const char *type, ngx_str_t *data);
static void ngx_http_rtagent_store_emit_json(
    ngx_http_rtagent_store_call_t *sc, const char *type,
    ngx_http_rtagent_store_json_t *j);
static void ngx_http_rtagent_store_ctl_message(void *data,
    ngx_str_t *channel, ngx_str_t *message);
static void ngx_http_rtagent_store_ctl_refuse(
    ngx_http_rtagent_store_call_t *sc, const char *error, ngx_str_t *action);
static void ngx_http_rtagent_store_reset(void);
static void ngx_http_rtagent_store_exit(void);
static void ngx_http_rtagent_store_refresh(ngx_event_t *ev);
static int64_t ngx_http_rtagent_store_now(void);

static void ngx_http_rtagent_store_arg(ngx_http_rtagent_store_cmd_t *cmd,
    const u_char *data, size_t len);
static void ngx_http_rtagent_store_num(ngx_http_rtagent_store_cmd_t *cmd,
    int64_t n);
static ngx_int_t ngx_http_rtagent_store_json_open(
    ngx_http_rtagent_store_json_t *j);
static void ngx_http_rtagent_store_json_str(ngx_http_rtagent_store_json_t *j,
    const char *key, u_char *data, size_t len);
static void ngx_http_rtagent_store_json_int(ngx_http_rtagent_store_json_t *j,
    const char *key, int64_t n);
static void ngx_http_rtagent_store_json_fixed(
    ngx_http_rtagent_store_json_t *j, const char *key, double n);
static ngx_int_t ngx_http_rtagent_store_json_close(
    ngx_http_rtagent_store_json_t *j, ngx_str_t *out);


#define ngx_http_rtagent_store_lit(cmd, s)                                   \
    ngx_http_rtagent_store_arg(cmd, (u_char *) s, sizeof(s) - 1)

#define ngx_http_rtagent_store_str(cmd, s)                                   \
    ngx_http_rtagent_store_arg(cmd, (s)->data, (s)->len)


/*
 * Appends transcript entries that the list does not hold yet, so that a
 * write replayed twice or a refill is harmless.  KEYS[1] the list;
 * ARGV[1] TTL ms; ARGV[2] "1" to append even after a gap; ARGV[3] the seq
 * of ARGV[4]; ARGV[4..] entries with consecutive seqs.  Returns the last
 * seq in the list, or -1 - that seq if the entries would leave a gap (the
 * server lost earlier ones).
 */

static ngx_str_t  ngx_http_rtagent_store_append_lua = ngx_string(
    "local last = 0 "
    "local tail = redis.call('LINDEX', KEYS[1], -1) "
    "if tail then "
        "local ok, e = pcall(cjson.decode, tail) "
        "if ok and type(e) == 'table' and tonumber(e.seq) then "
            "last = tonumber(e.seq) "
        "end "
    "end "
    "local first = tonumber(ARGV[3]) "
    "if first > last + 1 and ARGV[2] ~= '1' then return -1 - last end "
    "for i = 4, #ARGV do "
        "if first + i - 4 > last then "
            "redis.call('RPUSH', KEYS[1], ARGV[i]) "
        "end "
    "end "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "return math.max(last, first + #ARGV - 4)");


static ngx_str_t  ngx_http_rtagent_store_not_object =
    ngx_string("not a JSON object");

static ngx_http_rtagent_store_worker_t  ngx_http_rtagent_store_worker;


ngx_http_rtagent_store_call_t *
ngx_http_rtagent_store_call_start(ngx_str_t *call_id, ngx_str_t *agent,
    ngx_uint_t rate, ngx_log_t *log, ngx_http_rtagent_store_ctl_pt ctl,
    void *data)
{
    u_char                           *p;
    size_t                            len;
    ngx_int_t                         rc;
    ngx_str_t                         json;
    ngx_http_rtagent_store_json_t     j;
    ngx_http_rtagent_store_call_t    *sc;
    ngx_http_rtagent_store_worker_t  *w;

    if (!ngx_http_rtagent_redis_enabled()) {
        return NULL;
    }

    w = &ngx_http_rtagent_store_worker;

    if (!w->init) {
        ngx_queue_init(&w->calls);
        ngx_http_rtagent_timer_init(&w->refresh,
                                    ngx_http_rtagent_store_refresh, w,
                                    ngx_cycle->log);
        w->refresh.event.cancelable = 1;
        w->init = 1;
    }

    ngx_http_rtagent_redis_on_reset(ngx_http_rtagent_store_reset);
    ngx_http_rtagent_redis_on_exit(ngx_http_rtagent_store_exit);

    len = sizeof(ngx_http_rtagent_store_call_t) + call_id->len + agent->len
          + 4 * (sizeof("rtagent:call:{}") - 1 + call_id->len)
          + sizeof(":transcript") - 1 + sizeof(":context") - 1
          + sizeof(":ctl") - 1;

    sc = ngx_alloc(len, log);
    if (sc == NULL) {
        return NULL;
    }

    ngx_memzero(sc, sizeof(ngx_http_rtagent_store_call_t));

    p = (u_char *) (sc + 1);

    sc->id.data = p;
    sc->id.len = call_id->len;
    p = ngx_cpymem(p, call_id->data, call_id->len);

    sc->agent.data = p;
    sc->agent.len = agent->len;
    p = ngx_cpymem(p, agent->data, agent->len);

    sc->key.data = p;
    p = ngx_sprintf(p, "rtagent:call:{%V}", call_id);
    sc->key.len = p - sc->key.data;

    sc->transcript.data = p;
    p = ngx_sprintf(p, "%V:transcript", &sc->key);
    sc->transcript.len = p - sc->transcript.data;

    sc->context_key.data = p;
    p = ngx_sprintf(p, "%V:context", &sc->key);
    sc->context_key.len = p - sc->context_key.data;

    sc->channel.data = p;
    p = ngx_sprintf(p, "%V:ctl", &sc->key);
    sc->channel.len = p - sc->channel.data;

    sc->log = log;
    sc->ctl = ctl;
    sc->ctl_data = data;
    sc->rate = rate;
    sc->started = ngx_http_rtagent_store_now();
    sc->live = 1;

    ngx_queue_init(&sc->entries);
    ngx_queue_insert_tail(&w->calls, &sc->queue);
    w->live++;

    if (!w->refresh.event.timer_set) {
        ngx_add_timer(&w->refresh.event, NGX_HTTP_RTAGENT_STORE_REFRESH);
    }

    /* held until the end of this function: a write may be dropped */
    sc->refs++;

    ngx_http_rtagent_store_hash(sc);

    if (ngx_http_rtagent_store_json_open(&j) == NGX_OK) {
        ngx_http_rtagent_store_json_str(&j, "agent", agent->data,
                                        agent->len);
        ngx_http_rtagent_store_json_int(&j, "sample_rate", rate);
        ngx_http_rtagent_store_json_int(&j, "owner_worker", ngx_pid);
        ngx_http_rtagent_store_json_str(&j, "owner_instance",
                                        ngx_cycle->hostname.data,
                                        ngx_cycle->hostname.len);
        ngx_http_rtagent_store_emit_json(sc, NGX_HTTP_RTAGENT_EV_CALL_STARTED,
                                         &j);
    }

    /* the conversation so far, for the LLM; the agent pipeline fills it */
    if (ngx_http_rtagent_store_json_open(&j) == NGX_OK) {
        ngx_http_rtagent_store_json_str(&j, "agent", agent->data,
                                        agent->len);
        (void) yajl_gen_string(j.g, (u_char *) "messages", 8);
        (void) yajl_gen_array_open(j.g);
        (void) yajl_gen_array_close(j.g);

        if (ngx_http_rtagent_store_json_close(&j, &json) == NGX_OK) {
            ngx_http_rtagent_store_context(sc, &json);
        }

        yajl_gen_free(j.g);
    }

    rc = ngx_http_rtagent_redis_subscribe(&sc->channel,
                                          ngx_http_rtagent_store_ctl_message,
                                          sc);

    if (rc == NGX_OK) {
        sc->subscribed = 1;

    } else if (rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rtagent store: another live call in this worker has "
                      "the id, control messages go to it, call:%V",
                      &sc->id);

    } else {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rtagent store: cannot subscribe to \"%V\", call:%V",
                      &sc->channel, &sc->id);
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "rtagent store: call state in \"%V\", control on \"%V\", "
                  "call:%V", &sc->key, &sc->channel, &sc->id);

    sc->refs--;

    return sc;
}


void
ngx_http_rtagent_store_participant(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *participant)
{
    uint32_t                       hash;
    ngx_uint_t                     i;
    ngx_http_rtagent_store_json_t  j;

    if (sc == NULL || participant->len == 0) {
        return;
    }

    /* every audio frame names its speaker: the common case is cheap */
    if (participant->len == sc->last_seen_len
        && ngx_memcmp(participant->data, sc->last_seen, participant->len)
           == 0)
    {
        return;
    }

    if (participant->len <= sizeof(sc->last_seen)) {
        sc->last_seen_len = participant->len;
        ngx_memcpy(sc->last_seen, participant->data, participant->len);
    }

    hash = ngx_crc32_short(participant->data, participant->len);

    for (i = 0; i < sc->nseen; i++) {
        if (sc->seen[i] == hash) {
            return;
        }
    }

    if (sc->nseen < NGX_HTTP_RTAGENT_STORE_PARTICIPANTS) {
        sc->seen[sc->nseen++] = hash;
    }

    ngx_log_error(NGX_LOG_INFO, sc->log, 0,
                  "rtagent store: participant \"%V\" joined, call:%V",
                  participant, &sc->id);

    if (ngx_http_rtagent_store_json_open(&j) == NGX_OK) {
        ngx_http_rtagent_store_json_str(&j, "participant", participant->data,
                                        participant->len);
        ngx_http_rtagent_store_emit_json(sc,
                                         NGX_HTTP_RTAGENT_EV_PARTICIPANT_JOINED,
                                         &j);
    }
}


void
ngx_http_rtagent_store_caller_text(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, double confidence, ngx_str_t *participant)
{
    ngx_http_rtagent_store_json_t  j;

    if (sc == NULL || ngx_http_rtagent_store_json_open(&j) != NGX_OK) {
        return;
    }

    sc->refs++;

    ngx_http_rtagent_store_json_int(&j, "seq", sc->seq + 1);
    ngx_http_rtagent_store_json_str(&j, "role", (u_char *) "caller", 6);
    ngx_http_rtagent_store_json_str(&j, "text", text->data, text->len);
    ngx_http_rtagent_store_json_int(&j, "ts", ngx_http_rtagent_store_now());
    ngx_http_rtagent_store_append(sc, &j);

    if (ngx_http_rtagent_store_json_open(&j) == NGX_OK) {
        ngx_http_rtagent_store_json_int(&j, "seq", sc->seq);
        ngx_http_rtagent_store_json_str(&j, "text", text->data, text->len);

        if (confidence >= 0) {
            ngx_http_rtagent_store_json_fixed(&j, "confidence", confidence);
        }

        if (participant->len) {
            ngx_http_rtagent_store_json_str(&j, "participant",
                                            participant->data,
                                            participant->len);
        }

        ngx_http_rtagent_store_emit_json(sc,
                                     NGX_HTTP_RTAGENT_EV_TRANSCRIPTION_RECEIVED,
                                     &j);
    }

    sc->refs--;
}


void
ngx_http_rtagent_store_caller_dtmf(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *tones)
{
    ngx_http_rtagent_store_json_t  j;

    if (sc == NULL || ngx_http_rtagent_store_json_open(&j) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_store_json_int(&j, "seq", sc->seq + 1);
    ngx_http_rtagent_store_json_str(&j, "role", (u_char *) "caller", 6);
    ngx_http_rtagent_store_json_str(&j, "dtmf", tones->data, tones->len);
    ngx_http_rtagent_store_json_int(&j, "ts", ngx_http_rtagent_store_now());
    ngx_http_rtagent_store_append(sc, &j);
}


void
ngx_http_rtagent_store_agent_text(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, const char *source)
{
    ngx_http_rtagent_store_json_t  j;

    if (sc == NULL || ngx_http_rtagent_store_json_open(&j) != NGX_OK) {
        return;
    }

    sc->refs++;

    ngx_http_rtagent_store_json_int(&j, "seq", sc->seq + 1);
    ngx_http_rtagent_store_json_str(&j, "role", (u_char *) "agent", 5);
    ngx_http_rtagent_store_json_str(&j, "text", text->data, text->len);
    ngx_http_rtagent_store_json_int(&j, "ts", ngx_http_rtagent_store_now());

    if (source) {
        ngx_http_rtagent_store_json_str(&j, "source", (u_char *) source,
                                        ngx_strlen(source));
    }

    ngx_http_rtagent_store_append(sc, &j);

    if (ngx_http_rtagent_store_json_open(&j) == NGX_OK) {
        ngx_http_rtagent_store_json_str(&j, "agent", sc->agent.data,
                                        sc->agent.len);
        ngx_http_rtagent_store_json_int(&j, "seq", sc->seq);
        ngx_http_rtagent_store_json_str(&j, "text", text->data, text->len);

        if (source) {
            ngx_http_rtagent_store_json_str(&j, "source", (u_char *) source,
                                            ngx_strlen(source));
        }

        ngx_http_rtagent_store_emit_json(sc,
                                   NGX_HTTP_RTAGENT_EV_AGENT_RESPONSE_GENERATED,
                                   &j);
    }

    sc->refs--;
}


void
ngx_http_rtagent_store_agent_audio(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t utterance, ngx_msec_t duration)
{
    ngx_http_rtagent_store_json_t  j;

    if (sc == NULL || ngx_http_rtagent_store_json_open(&j) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_store_json_str(&j, "agent", sc->agent.data,
                                    sc->agent.len);
    ngx_http_rtagent_store_json_int(&j, "utterance", utterance);
    ngx_http_rtagent_store_json_int(&j, "duration_ms", duration);
    ngx_http_rtagent_store_emit_json(sc,
                                   NGX_HTTP_RTAGENT_EV_AGENT_RESPONSE_GENERATED,
                                   &j);
}


void
ngx_http_rtagent_store_context(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *json)
{
    u_char                        *p;
    ngx_http_rtagent_store_cmd_t   cmd;

    if (sc == NULL) {
        return;
    }

    /* kept to write it again if Redis loses it */
    p = ngx_alloc(json->len, sc->log);
    if (p == NULL) {
        return;
    }

    if (sc->context.data) {
        ngx_free(sc->context.data);
    }

    ngx_memcpy(p, json->data, json->len);
    sc->context.data = p;
    sc->context.len = json->len;

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_lit(&cmd, "SET");
    ngx_http_rtagent_store_str(&cmd, &sc->context_key);
    ngx_http_rtagent_store_str(&cmd, &sc->context);
    ngx_http_rtagent_store_lit(&cmd, "PX");
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_CONTEXT_TTL);

    ngx_http_rtagent_store_send(sc, &cmd, NULL);
}


void
ngx_http_rtagent_store_error(ngx_http_rtagent_store_call_t *sc,
    const char *error, const char *key, ngx_str_t *value)
{
    ngx_http_rtagent_store_json_t  j;

    if (sc == NULL || ngx_http_rtagent_store_json_open(&j) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_store_json_str(&j, "error", (u_char *) error,
                                    ngx_strlen(error));

    if (key && value) {
        ngx_http_rtagent_store_json_str(&j, key, value->data, value->len);
    }

    ngx_http_rtagent_store_emit_json(sc, NGX_HTTP_RTAGENT_EV_ERROR_OCCURRED,
                                     &j);
}


void
ngx_http_rtagent_store_event(ngx_http_rtagent_store_call_t *sc,
    const char *type, ngx_str_t *data)
{
    if (sc) {
        ngx_http_rtagent_store_emit(sc, type, data);
    }
}


void
ngx_http_rtagent_store_call_end(ngx_http_rtagent_store_call_t *sc,
    const char *outcome, ngx_str_t *reason)
{
    ngx_http_rtagent_store_json_t  j;

    if (sc == NULL || !sc->live) {
        return;
    }

    sc->refs++;

    sc->live = 0;
    ngx_http_rtagent_store_worker.live--;

    sc->ended = ngx_http_rtagent_store_now();
    sc->outcome = outcome;

    if (reason && reason->len) {
        sc->reason_len = ngx_min(reason->len, sizeof(sc->reason));
        ngx_memcpy(sc->reason, reason->data, sc->reason_len);
    }

    if (sc->subscribed) {
        ngx_http_rtagent_redis_unsubscribe(&sc->channel);
        sc->subscribed = 0;
    }

    sc->ctl = NULL;
    sc->ctl_data = NULL;

    /* history: the hash for 24 h, transcript and context for 1 h */
    ngx_http_rtagent_store_hash(sc);
    ngx_http_rtagent_store_sync(sc);
    ngx_http_rtagent_store_expire(sc, &sc->context_key,
                                  NGX_HTTP_RTAGENT_STORE_CONTEXT_TTL);

    if (ngx_http_rtagent_store_json_open(&j) == NGX_OK) {
        ngx_http_rtagent_store_json_int(&j, "duration_ms",
                                        sc->ended - sc->started);
        ngx_http_rtagent_store_json_str(&j, "outcome", (u_char *) outcome,
                                        ngx_strlen(outcome));

        if (sc->reason_len) {
            ngx_http_rtagent_store_json_str(&j, "reason", sc->reason,
                                            sc->reason_len);
        }

        ngx_http_rtagent_store_json_int(&j, "transcript_entries", sc->seq);
        ngx_http_rtagent_store_emit_json(sc, NGX_HTTP_RTAGENT_EV_CALL_ENDED,
                                         &j);
    }

    ngx_log_error(NGX_LOG_INFO, sc->log, 0,
                  "rtagent store: call ended (%s) after %L ms, call:%V",
                  outcome, sc->ended - sc->started, &sc->id);

    /* the connection's log goes with the request */
    sc->log = ngx_cycle->log;

    sc->refs--;
    ngx_http_rtagent_store_release(sc);
}


ngx_int_t
ngx_http_rtagent_store_control(ngx_str_t *call_id, ngx_str_t *json)
{
    u_char                        *p;
    ngx_int_t                      rc;
    ngx_str_t                      channel;
    ngx_http_rtagent_store_cmd_t   cmd;

    channel.len = sizeof("rtagent:call:{}:ctl") - 1 + call_id->len;
    channel.data = ngx_alloc(channel.len, ngx_cycle->log);
    if (channel.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(channel.data, "rtagent:call:{%V}:ctl", call_id);
    channel.len = p - channel.data;

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_lit(&cmd, "PUBLISH");
    ngx_http_rtagent_store_str(&cmd, &channel);
    ngx_http_rtagent_store_str(&cmd, json);

    rc = ngx_http_rtagent_redis_write(cmd.argc, cmd.argv, cmd.len, NULL,
                                      NULL);

    ngx_free(channel.data);

    return rc;
}


/* writes ----------------------------------------------------------------- */

static void
ngx_http_rtagent_store_send(ngx_http_rtagent_store_call_t *sc,
    ngx_http_rtagent_store_cmd_t *cmd,
    ngx_http_rtagent_redis_reply_pt handler)
{
    ngx_int_t  rc;

    sc->refs++;

    rc = ngx_http_rtagent_redis_write(cmd->argc, cmd->argv, cmd->len,
                                      handler ? handler
                                              : ngx_http_rtagent_store_done,
                                      sc);
    if (rc == NGX_OK) {
        return;
    }

    sc->refs--;

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, sc->log, 0,
                      "rtagent store: cannot queue a %*s write, call:%V",
                      cmd->len[0], cmd->argv[0], &sc->id);
    }
}


static void
ngx_http_rtagent_store_done(void *data, redisReply *reply)
{
    ngx_http_rtagent_store_call_t  *sc = data;

    sc->refs--;
    ngx_http_rtagent_store_release(sc);
}


static void
ngx_http_rtagent_store_release(ngx_http_rtagent_store_call_t *sc)
{
    ngx_queue_t                     *q;
    ngx_http_rtagent_store_entry_t  *e;

    if (sc->live || sc->refs) {
        return;
    }

    ngx_queue_remove(&sc->queue);

    while (!ngx_queue_empty(&sc->entries)) {
        q = ngx_queue_head(&sc->entries);
        ngx_queue_remove(q);
        e = ngx_queue_data(q, ngx_http_rtagent_store_entry_t, queue);
        ngx_free(e);
    }

    if (sc->context.data) {
        ngx_free(sc->context.data);
    }

    ngx_free(sc);
}


/* the whole hash each time: a Redis that lost it gets all of it back */

static void
ngx_http_rtagent_store_hash(ngx_http_rtagent_store_call_t *sc)
{
    ngx_http_rtagent_store_cmd_t  cmd;

    cmd.argc = 0;
    cmd.nnums = 0;

    ngx_http_rtagent_store_lit(&cmd, "HSET");
    ngx_http_rtagent_store_str(&cmd, &sc->key);
    ngx_http_rtagent_store_lit(&cmd, "call_id");
    ngx_http_rtagent_store_str(&cmd, &sc->id);
    ngx_http_rtagent_store_lit(&cmd, "agent");
    ngx_http_rtagent_store_str(&cmd, &sc->agent);
    ngx_http_rtagent_store_lit(&cmd, "slots");
    ngx_http_rtagent_store_lit(&cmd, "{}");
    ngx_http_rtagent_store_lit(&cmd, "auth");
    ngx_http_rtagent_store_lit(&cmd, "none");
    ngx_http_rtagent_store_lit(&cmd, "owner_worker");
    ngx_http_rtagent_store_num(&cmd, ngx_pid);
    ngx_http_rtagent_store_lit(&cmd, "owner_instance");
    ngx_http_rtagent_store_str(&cmd, &ngx_cycle->hostname);
    ngx_http_rtagent_store_lit(&cmd, "sample_rate");
    ngx_http_rtagent_store_num(&cmd, sc->rate);
    ngx_http_rtagent_store_lit(&cmd, "started");
    ngx_http_rtagent_store_num(&cmd, sc->started);
    ngx_http_rtagent_store_lit(&cmd, "state");

    if (sc->live) {
        ngx_http_rtagent_store_lit(&cmd, "active");

    } else {
        ngx_http_rtagent_store_lit(&cmd, "ended");
        ngx_http_rtagent_store_lit(&cmd, "ended");
        ngx_http_rtagent_store_num(&cmd, sc->ended);
        ngx_http_rtagent_store_lit(&cmd, "duration_ms");
        ngx_http_rtagent_store_num(&cmd, sc->ended - sc->started);
        ngx_http_rtagent_store_lit(&cmd, "outcome");
        ngx_http_rtagent_store_arg(&cmd, (u_char *) sc->outcome,
                                   ngx_strlen(sc->outcome));
        ngx_http_rtagent_store_lit(&cmd, "reason");
        ngx_http_rtagent_store_arg(&cmd, sc->reason, sc->reason_len);
    }

    ngx_http_rtagent_store_send(sc, &cmd, NULL);

    ngx_http_rtagent_store_expire(sc, &sc->key,
                                  NGX_HTTP_RTAGENT_STORE_CALL_TTL);
}


static void
ngx_http_rtagent_store_expire(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *key, const char *ttl)
{
    ngx_http_rtagent_store_cmd_t  cmd;

    cmd.argc = 0;
    cmd.nnums = 0;

    ngx_http_rtagent_store_lit(&cmd, "PEXPIRE");
    ngx_http_rtagent_store_str(&cmd, key);
    ngx_http_rtagent_store_arg(&cmd, (u_char *) ttl, ngx_strlen(ttl));

    ngx_http_rtagent_store_send(sc, &cmd, NULL);
}


/* a new transcript entry: j holds it with seq = sc->seq + 1; frees j */

static void
ngx_http_rtagent_store_append(ngx_http_rtagent_store_call_t *sc,
    ngx_http_rtagent_store_json_t *j)
{
    ngx_str_t                      json;
    ngx_http_rtagent_store_cmd_t   cmd;

    if (ngx_http_rtagent_store_json_close(j, &json) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, sc->log, 0,
                      "rtagent store: transcript entry is not valid UTF-8, "
                      "call:%V", &sc->id);
        yajl_gen_free(j->g);
        return;
    }

    sc->seq++;

    ngx_http_rtagent_store_keep(sc, sc->seq, &json);

    cmd.argc = 0;
    cmd.nnums = 0;

    ngx_http_rtagent_store_lit(&cmd, "EVAL");
    ngx_http_rtagent_store_str(&cmd, &ngx_http_rtagent_store_append_lua);
    ngx_http_rtagent_store_lit(&cmd, "1");
    ngx_http_rtagent_store_str(&cmd, &sc->transcript);
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_TRANSCRIPT_TTL);
    ngx_http_rtagent_store_lit(&cmd, "0");
    ngx_http_rtagent_store_num(&cmd, sc->seq);
    ngx_http_rtagent_store_str(&cmd, &json);

    ngx_http_rtagent_store_send(sc, &cmd, ngx_http_rtagent_store_appended);

    yajl_gen_free(j->g);
}


/* the transcript in memory, the newest KEEP_ENTRIES / KEEP_SIZE of it */

static void
ngx_http_rtagent_store_keep(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t seq, ngx_str_t *json)
{
    ngx_queue_t                     *q;
    ngx_http_rtagent_store_entry_t  *e;

    e = ngx_alloc(sizeof(ngx_http_rtagent_store_entry_t) + json->len,
                  sc->log);
    if (e == NULL) {
        return;
    }

    e->seq = seq;
    e->json.data = (u_char *) (e + 1);
    e->json.len = json->len;
    ngx_memcpy(e->json.data, json->data, json->len);

    ngx_queue_insert_tail(&sc->entries, &e->queue);
    sc->nentries++;
    sc->entries_size += json->len;

    while (sc->nentries > NGX_HTTP_RTAGENT_STORE_KEEP_ENTRIES
           || sc->entries_size > NGX_HTTP_RTAGENT_STORE_KEEP_SIZE)
    {
        q = ngx_queue_head(&sc->entries);
        ngx_queue_remove(q);
        e = ngx_queue_data(q, ngx_http_rtagent_store_entry_t, queue);

        sc->nentries--;
        sc->entries_size -= e->json.len;
        ngx_free(e);
    }
}


/* writes the entries from seq "from" on that the list lacks */

static void
ngx_http_rtagent_store_fill(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t from)
{
    int                              argc;
    size_t                          *len;
    u_char                           first[NGX_INT64_LEN];
    u_char                          *last;
    ngx_uint_t                       n, force;
    ngx_queue_t                     *q;
    const char                     **argv;
    ngx_http_rtagent_store_entry_t  *e, *start;

    if (from > sc->seq || ngx_queue_empty(&sc->entries)) {
        return;
    }

    start = NULL;
    n = 0;

    for (q = ngx_queue_head(&sc->entries);
         q != ngx_queue_sentinel(&sc->entries);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_http_rtagent_store_entry_t, queue);

        if (e->seq >= from) {
            if (start == NULL) {
                start = e;
            }

            n++;
        }
    }

    if (start == NULL) {
        return;
    }

    force = (start->seq > from);

    if (force && !sc->lost_logged) {
        sc->lost_logged = 1;
        ngx_log_error(NGX_LOG_WARN, sc->log, 0,
                      "rtagent store: Redis lost transcript entries %ui to "
                      "%ui and they are no longer held in memory, call:%V",
                      from, start->seq - 1, &sc->id);
    }

    argv = ngx_alloc((n + 7) * (sizeof(char *) + sizeof(size_t)), sc->log);
    if (argv == NULL) {
        return;
    }

    len = (size_t *) (argv + n + 7);
    argc = 0;

    argv[argc] = "EVAL";
    len[argc++] = 4;
    argv[argc] = (const char *) ngx_http_rtagent_store_append_lua.data;
    len[argc++] = ngx_http_rtagent_store_append_lua.len;
    argv[argc] = "1";
    len[argc++] = 1;
    argv[argc] = (const char *) sc->transcript.data;
    len[argc++] = sc->transcript.len;
    argv[argc] = NGX_HTTP_RTAGENT_STORE_TRANSCRIPT_TTL;
    len[argc++] = sizeof(NGX_HTTP_RTAGENT_STORE_TRANSCRIPT_TTL) - 1;
    argv[argc] = force ? "1" : "0";
    len[argc++] = 1;

    last = ngx_sprintf(first, "%ui", start->seq);
    argv[argc] = (const char *) first;
    len[argc++] = last - first;

    for (q = &start->queue;
         q != ngx_queue_sentinel(&sc->entries);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_http_rtagent_store_entry_t, queue);
        argv[argc] = (const char *) e->json.data;
        len[argc++] = e->json.len;
    }

    ngx_log_error(NGX_LOG_NOTICE, sc->log, 0,
                  "rtagent store: restoring transcript entries %ui to %ui "
                  "in Redis, call:%V", start->seq, sc->seq, &sc->id);

    sc->refs++;
    sc->filling = 1;

    if (ngx_http_rtagent_redis_write(argc, argv, len,
                                     ngx_http_rtagent_store_filled, sc)
        != NGX_OK)
    {
        sc->refs--;
        sc->filling = 0;
    }

    ngx_free(argv);
}


/* no entries: checks the list for a gap and renews its TTL */

static void
ngx_http_rtagent_store_sync(ngx_http_rtagent_store_call_t *sc)
{
    ngx_http_rtagent_store_cmd_t  cmd;

    cmd.argc = 0;
    cmd.nnums = 0;

    ngx_http_rtagent_store_lit(&cmd, "EVAL");
    ngx_http_rtagent_store_str(&cmd, &ngx_http_rtagent_store_append_lua);
    ngx_http_rtagent_store_lit(&cmd, "1");
    ngx_http_rtagent_store_str(&cmd, &sc->transcript);
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_TRANSCRIPT_TTL);
    ngx_http_rtagent_store_lit(&cmd, "0");
    ngx_http_rtagent_store_num(&cmd, sc->acked + 1);

    ngx_http_rtagent_store_send(sc, &cmd, ngx_http_rtagent_store_appended);
}


static void
ngx_http_rtagent_store_appended(void *data, redisReply *reply)
{
    ngx_uint_t                      last;
    ngx_http_rtagent_store_call_t  *sc = data;

    if (reply && reply->type == REDIS_REPLY_INTEGER) {

        if (reply->integer < 0) {
            /* the list ends before this entry: Redis lost some */
            last = (ngx_uint_t) (-1 - reply->integer);

            if (!sc->filling) {
                ngx_log_error(NGX_LOG_WARN, sc->log, 0,
                              "rtagent store: Redis holds the transcript "
                              "up to entry %ui of %ui only, call:%V",
                              last, sc->seq, &sc->id);

                ngx_http_rtagent_store_fill(sc, last + 1);
            }

        } else if ((ngx_uint_t) reply->integer > sc->acked) {
            sc->acked = (ngx_uint_t) reply->integer;
        }
    }

    sc->refs--;
    ngx_http_rtagent_store_release(sc);
}


static void
ngx_http_rtagent_store_filled(void *data, redisReply *reply)
{
    ngx_http_rtagent_store_call_t  *sc = data;

    sc->filling = 0;

    ngx_http_rtagent_store_appended(data, reply);
}


/* events ----------------------------------------------------------------- */

static void
ngx_http_rtagent_store_emit(ngx_http_rtagent_store_call_t *sc,
    const char *type, ngx_str_t *data)
{
    ngx_http_rtagent_store_cmd_t  cmd;

    cmd.argc = 0;
    cmd.nnums = 0;

    ngx_http_rtagent_store_lit(&cmd, "XADD");
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_EVENTS);
    ngx_http_rtagent_store_lit(&cmd, "MAXLEN");
    ngx_http_rtagent_store_lit(&cmd, "~");
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_EVENTS_MAXLEN);
    ngx_http_rtagent_store_lit(&cmd, "*");
    ngx_http_rtagent_store_lit(&cmd, "type");
    ngx_http_rtagent_store_arg(&cmd, (u_char *) type, ngx_strlen(type));
    ngx_http_rtagent_store_lit(&cmd, "call_id");
    ngx_http_rtagent_store_str(&cmd, &sc->id);
    ngx_http_rtagent_store_lit(&cmd, "ts");
    ngx_http_rtagent_store_num(&cmd, ngx_http_rtagent_store_now());
    ngx_http_rtagent_store_lit(&cmd, "data");
    ngx_http_rtagent_store_str(&cmd, data);

    ngx_http_rtagent_store_send(sc, &cmd, NULL);
}


/* closes and frees j */

static void
ngx_http_rtagent_store_emit_json(ngx_http_rtagent_store_call_t *sc,
    const char *type, ngx_http_rtagent_store_json_t *j)
{
    ngx_str_t  json;

    if (ngx_http_rtagent_store_json_close(j, &json) == NGX_OK) {
        ngx_http_rtagent_store_emit(sc, type, &json);

    } else {
        ngx_log_error(NGX_LOG_ERR, sc->log, 0,
                      "rtagent store: %s event data is not valid UTF-8, "
                      "call:%V", type, &sc->id);
    }

    yajl_gen_free(j->g);
}


/* control ---------------------------------------------------------------- */

static void
ngx_http_rtagent_store_ctl_message(void *data, ngx_str_t *channel,
    ngx_str_t *message)
{
    char                           *buf;
    u_char                         *p, *last;
    yajl_val                        tree, v;
    ngx_str_t                       s;
    ngx_http_rtagent_ctl_t          ctl;
    ngx_http_rtagent_store_call_t  *sc = data;
    char                            err[128];

    static const char  *action[] = { "action", NULL };
    static const char  *target[] = { "target", NULL };
    static const char  *text[] = { "text", NULL };

    if (sc->ctl == NULL) {
        return;
    }

    if (message->len > NGX_HTTP_RTAGENT_STORE_CTL_MAX) {
        ngx_log_error(NGX_LOG_WARN, sc->log, 0,
                      "rtagent store: control message of %uz bytes "
                      "ignored, call:%V", message->len, &sc->id);
        ngx_http_rtagent_store_ctl_refuse(sc, "control message too large",
                                          NULL);
        return;
    }

    buf = ngx_alloc(message->len + 1, sc->log);
    if (buf == NULL) {
        return;
    }

    ngx_memcpy(buf, message->data, message->len);
    buf[message->len] = '\0';

    err[0] = '\0';
    tree = yajl_tree_parse(buf, err, sizeof(err));

    ngx_free(buf);

    if (!YAJL_IS_OBJECT(tree)) {
        /* yajl's first line names the error; the rest draws an arrow */
        s.data = (u_char *) err;
        last = s.data + ngx_strlen(err);
        p = ngx_strlchr(s.data, last, '\n');
        s.len = (p ? p : last) - s.data;

        ngx_log_error(NGX_LOG_WARN, sc->log, 0,
                      "rtagent store: malformed control message ignored: "
                      "%V, call:%V",
                      tree ? &ngx_http_rtagent_store_not_object : &s,
                      &sc->id);
        ngx_http_rtagent_store_ctl_refuse(sc, "malformed control message",
                                          NULL);
        yajl_tree_free(tree);
        return;
    }

    ngx_memzero(&ctl, sizeof(ngx_http_rtagent_ctl_t));

    v = yajl_tree_get(tree, action, yajl_t_string);

    if (v == NULL) {
        ngx_log_error(NGX_LOG_WARN, sc->log, 0,
                      "rtagent store: control message without an \"action\" "
                      "string ignored, call:%V", &sc->id);
        ngx_http_rtagent_store_ctl_refuse(sc, "control message without "
                                          "action", NULL);
        yajl_tree_free(tree);
        return;
    }

    ctl.name.data = (u_char *) YAJL_GET_STRING(v);
    ctl.name.len = ngx_strlen(ctl.name.data);

    if (ngx_strcmp(ctl.name.data, "hangup") == 0) {
        ctl.action = NGX_HTTP_RTAGENT_CTL_HANGUP;

    } else if (ngx_strcmp(ctl.name.data, "stop_audio") == 0) {
        ctl.action = NGX_HTTP_RTAGENT_CTL_STOP_AUDIO;

    } else if (ngx_strcmp(ctl.name.data, "transfer") == 0) {
        ctl.action = NGX_HTTP_RTAGENT_CTL_TRANSFER;

        v = yajl_tree_get(tree, target, yajl_t_string);
        if (v) {
            ctl.target.data = (u_char *) YAJL_GET_STRING(v);
            ctl.target.len = ngx_strlen(ctl.target.data);
        }

    } else if (ngx_strcmp(ctl.name.data, "inject_text") == 0) {
        ctl.action = NGX_HTTP_RTAGENT_CTL_INJECT_TEXT;

        v = yajl_tree_get(tree, text, yajl_t_string);
        if (v) {
            ctl.text.data = (u_char *) YAJL_GET_STRING(v);
            ctl.text.len = ngx_strlen(ctl.text.data);
        }
    }

    if (ctl.action == 0
        || (ctl.action == NGX_HTTP_RTAGENT_CTL_TRANSFER
            && ctl.target.len == 0)
        || (ctl.action == NGX_HTTP_RTAGENT_CTL_INJECT_TEXT
            && ctl.text.len == 0))
    {
        ngx_log_error(NGX_LOG_WARN, sc->log, 0,
                      "rtagent store: control action \"%V\" %s, ignored, "
                      "call:%V", &ctl.name,
                      ctl.action == 0 ? "is unknown"
                      : ctl.action == NGX_HTTP_RTAGENT_CTL_TRANSFER
                        ? "needs a \"target\"" : "needs a \"text\"",
                      &sc->id);
        ngx_http_rtagent_store_ctl_refuse(sc, ctl.action == 0
                                              ? "unknown control action"
                                              : "control action incomplete",
                                          &ctl.name);
        yajl_tree_free(tree);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, sc->log, 0,
                  "rtagent store: control \"%V\" on \"%V\", call:%V",
                  &ctl.name, channel, &sc->id);

    /* the handler may end the call; sc stays until this returns */
    sc->refs++;

    sc->ctl(sc->ctl_data, &ctl);

    sc->refs--;
    ngx_http_rtagent_store_release(sc);

    yajl_tree_free(tree);
}


static void
ngx_http_rtagent_store_ctl_refuse(ngx_http_rtagent_store_call_t *sc,
    const char *error, ngx_str_t *action)
{
    ngx_http_rtagent_store_error(sc, error, action ? "action" : NULL,
                                 action);
}


/* Redis came back as a different server: write every held call again */

static void
ngx_http_rtagent_store_reset(void)
{
    ngx_uint_t                        n;
    ngx_queue_t                      *q, *next;
    ngx_http_rtagent_store_call_t    *sc;
    ngx_http_rtagent_store_cmd_t      cmd;
    ngx_http_rtagent_store_worker_t  *w;

    w = &ngx_http_rtagent_store_worker;

    if (!w->init) {
        return;
    }

    n = 0;

    for (q = ngx_queue_head(&w->calls);
         q != ngx_queue_sentinel(&w->calls);
         q = next)
    {
        sc = ngx_queue_data(q, ngx_http_rtagent_store_call_t, queue);
        sc->refs++;

        ngx_http_rtagent_store_hash(sc);

        if (sc->context.len) {
            cmd.argc = 0;
            cmd.nnums = 0;
            ngx_http_rtagent_store_lit(&cmd, "SET");
            ngx_http_rtagent_store_str(&cmd, &sc->context_key);
            ngx_http_rtagent_store_str(&cmd, &sc->context);
            ngx_http_rtagent_store_lit(&cmd, "PX");
            ngx_http_rtagent_store_lit(&cmd,
                                       NGX_HTTP_RTAGENT_STORE_CONTEXT_TTL);
            ngx_http_rtagent_store_send(sc, &cmd, NULL);
        }

        sc->acked = 0;
        ngx_http_rtagent_store_fill(sc, 1);

        /* taken after the writes: a call they freed has left the list */
        next = ngx_queue_next(q);

        sc->refs--;
        ngx_http_rtagent_store_release(sc);
        n++;
    }

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "rtagent store: wrote the state of %ui calls again", n);
}


/*
 * The worker exits with calls still up (a fast shutdown: their requests
 * are never finalized): they end here, so that Redis does not show them
 * active for a day.
 */

static void
ngx_http_rtagent_store_exit(void)
{
    ngx_str_t                         reason;
    ngx_queue_t                      *q, *next;
    ngx_http_rtagent_store_call_t    *sc;
    ngx_http_rtagent_store_worker_t  *w;

    w = &ngx_http_rtagent_store_worker;

    if (!w->init) {
        return;
    }

    ngx_str_set(&reason, "worker exited");

    for (q = ngx_queue_head(&w->calls);
         q != ngx_queue_sentinel(&w->calls);
         q = next)
    {
        sc = ngx_queue_data(q, ngx_http_rtagent_store_call_t, queue);
        sc->refs++;

        if (sc->live) {
            ngx_http_rtagent_store_call_end(sc, "error", &reason);
        }

        /* taken after the writes: a call they freed has left the list */
        next = ngx_queue_next(q);

        sc->refs--;
        ngx_http_rtagent_store_release(sc);
    }
}


/* live calls outlast their TTLs: renew them */

static void
ngx_http_rtagent_store_refresh(ngx_event_t *ev)
{
    ngx_queue_t                      *q;
    ngx_http_rtagent_store_call_t    *sc;
    ngx_http_rtagent_store_worker_t  *w;

    w = &ngx_http_rtagent_store_worker;

    for (q = ngx_queue_head(&w->calls);
         q != ngx_queue_sentinel(&w->calls);
         q = ngx_queue_next(q))
    {
        sc = ngx_queue_data(q, ngx_http_rtagent_store_call_t, queue);

        if (!sc->live) {
            continue;
        }

        ngx_http_rtagent_store_expire(sc, &sc->key,
                                      NGX_HTTP_RTAGENT_STORE_CALL_TTL);
        ngx_http_rtagent_store_expire(sc, &sc->context_key,
                                      NGX_HTTP_RTAGENT_STORE_CONTEXT_TTL);
        ngx_http_rtagent_store_sync(sc);
    }

    if (w->live) {
        ngx_add_timer(&w->refresh.event, NGX_HTTP_RTAGENT_STORE_REFRESH);
    }
}


static int64_t
ngx_http_rtagent_store_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


/* helpers ---------------------------------------------------------------- */

static void
ngx_http_rtagent_store_arg(ngx_http_rtagent_store_cmd_t *cmd,
    const u_char *data, size_t len)
{
    cmd->argv[cmd->argc] = (const char *) data;
    cmd->len[cmd->argc] = len;
    cmd->argc++;
}


static void
ngx_http_rtagent_store_num(ngx_http_rtagent_store_cmd_t *cmd, int64_t n)
{
    u_char  *p, *last;

    p = cmd->nums[cmd->nnums++];
    last = ngx_sprintf(p, "%L", n);

    ngx_http_rtagent_store_arg(cmd, p, last - p);
}


static ngx_int_t
ngx_http_rtagent_store_json_open(ngx_http_rtagent_store_json_t *j)
{
    j->err = 0;
    j->g = yajl_gen_alloc(NULL);

    if (j->g == NULL) {
        return NGX_ERROR;
    }

    (void) yajl_gen_config(j->g, yajl_gen_validate_utf8, 1);

    if (yajl_gen_map_open(j->g) != yajl_gen_status_ok) {
        yajl_gen_free(j->g);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_store_json_str(ngx_http_rtagent_store_json_t *j,
    const char *key, u_char *data, size_t len)
{
    if (yajl_gen_string(j->g, (u_char *) key, ngx_strlen(key))
        != yajl_gen_status_ok
        || yajl_gen_string(j->g, data, len) != yajl_gen_status_ok)
    {
        j->err = 1;
    }
}


static void
ngx_http_rtagent_store_json_int(ngx_http_rtagent_store_json_t *j,
    const char *key, int64_t n)
{
    if (yajl_gen_string(j->g, (u_char *) key, ngx_strlen(key))
        != yajl_gen_status_ok
        || yajl_gen_integer(j->g, n) != yajl_gen_status_ok)
    {
        j->err = 1;
    }
}


/* yajl prints doubles with %.20g: four decimals are plenty here */

static void
ngx_http_rtagent_store_json_fixed(ngx_http_rtagent_store_json_t *j,
    const char *key, double n)
{
    u_char  *last;
    u_char   buf[32];

    last = ngx_snprintf(buf, sizeof(buf), "%.4f", n);

    if (yajl_gen_string(j->g, (u_char *) key, ngx_strlen(key))
        != yajl_gen_status_ok
        || yajl_gen_number(j->g, (char *) buf, last - buf)
           != yajl_gen_status_ok)
    {
        j->err = 1;
    }
}


/* out points into j's buffer, valid until yajl_gen_free() */

static ngx_int_t
ngx_http_rtagent_store_json_close(ngx_http_rtagent_store_json_t *j,
    ngx_str_t *out)
{
    size_t                len;
    const unsigned char  *buf;

    if (j->err || yajl_gen_map_close(j->g) != yajl_gen_status_ok
        || yajl_gen_get_buf(j->g, &buf, &len) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    out->data = (u_char *) buf;
    out->len = len;

    return NGX_OK;
}
