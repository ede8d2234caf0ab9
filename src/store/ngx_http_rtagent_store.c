
/*
 * A call's live state in Redis (see ngx_http_rtagent_store.h).
 *
 * Every write goes through the worker's Redis queue and holds a reference
 * on its call (sc->refs): a call that ended keeps its memory until the last
 * of its writes is answered or dropped, so a transcript gap that Redis
 * reports then can still be filled.
 *
 * An event written once per call (a guard, see the header) waits for the
 * guard's reply; a session's later events wait behind it in sc->events,
 * so that rtagent:events has a call's events in their order.  Stateless
 * requests (the control plane's) carry what they need in an op of their
 * own, freed by their reply.
 */


#include <ngx_config.h>
#include <ngx_core.h>


#include <ngx_http_rtagent_core.h>
#include <io/ngx_http_rtagent_redis.h>
#include <store/ngx_http_rtagent_store.h>


#define NGX_HTTP_RTAGENT_STORE_CALL_TTL        "86400000"      /* 24 h */
#define NGX_HTTP_RTAGENT_STORE_TRANSCRIPT_TTL  "3600000"       /* 1 h */
#define NGX_HTTP_RTAGENT_STORE_CONTEXT_TTL     "3600000"       /* 1 h */

#define NGX_HTTP_RTAGENT_STORE_EVENTS          "rtagent:events"
#define NGX_HTTP_RTAGENT_STORE_DEDUPE_TTL      (24 * 60 * 60 * 1000)
#define NGX_HTTP_RTAGENT_STORE_EVENTS_MAXLEN   "100000"

/* the TTLs of live calls are renewed this often, well within 1 h */
#define NGX_HTTP_RTAGENT_STORE_REFRESH         (10 * 60 * 1000)

/* transcript kept in memory per call, to refill a Redis that lost it */
#define NGX_HTTP_RTAGENT_STORE_KEEP_ENTRIES    4096
#define NGX_HTTP_RTAGENT_STORE_KEEP_SIZE       (1024 * 1024)

#define NGX_HTTP_RTAGENT_STORE_ARGS            32
#define NGX_HTTP_RTAGENT_STORE_NUMS            8
#define NGX_HTTP_RTAGENT_STORE_PARTICIPANTS    16

/* control messages kept for a call that was not subscribed, and the ids
 * of those taken that are remembered to apply each once */
#define NGX_HTTP_RTAGENT_STORE_CTLQ_MAX        32
#define NGX_HTTP_RTAGENT_STORE_CTLQ_TTL        "3600000"       /* 1 h */
#define NGX_HTTP_RTAGENT_STORE_CTL_IDS         64


struct ngx_http_rtagent_store_call_s {
    ngx_queue_t                    queue;          /* in the worker's list */
    ngx_log_t                     *log;
    ngx_uint_t                     refs;           /* writes not answered */

    ngx_str_t                      id;
    ngx_str_t                      key;            /* rtagent:call:{id} */
    ngx_str_t                      transcript;
    ngx_str_t                      context_key;
    ngx_str_t                      channel;
    ngx_str_t                      ctlq;           /* rtagent:call:{id}:ctlq */
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

    ngx_queue_t                    events;         /* ops, behind a guard */

    ngx_queue_t                    entries;        /* oldest first */
    ngx_uint_t                     nentries;
    size_t                         entries_size;
    ngx_uint_t                     seq;            /* the last entry's */
    ngx_uint_t                     acked;          /* last seq in Redis */

    uint32_t                       seen[NGX_HTTP_RTAGENT_STORE_PARTICIPANTS];
    ngx_uint_t                     nseen;
    u_char                         last_seen[128];
    size_t                         last_seen_len;

    /* ids of the control messages taken, a ring */
    u_char                         ctl_ids[NGX_HTTP_RTAGENT_STORE_CTL_IDS]
                                          [NGX_HTTP_RTAGENT_CTL_MSG_ID_MAX];
    u_char                         ctl_id_len[NGX_HTTP_RTAGENT_STORE_CTL_IDS];
    ngx_uint_t                     ctl_next;

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


/* a request waiting for its reply; its strings follow it in memory */
typedef struct {
    ngx_queue_t                        queue;      /* in sc->events */
    ngx_http_rtagent_store_call_t     *sc;         /* NULL: stateless */
    ngx_str_t                          id;
    ngx_str_t                          type;       /* the event to add */
    ngx_str_t                          data;
    ngx_str_t                          outcome;    /* call_ended */
    ngx_str_t                          reason;
    ngx_uint_t                         n;          /* call_get */
    ngx_str_t                         *values;
    ngx_http_rtagent_store_result_pt   result;
    ngx_http_rtagent_store_fields_pt   fields;
    void                              *data_arg;
    unsigned                           waiting:1;  /* for the guard */
    unsigned                           skip:1;     /* someone else wrote it */
    unsigned                           written:1;  /* at worker exit */
} ngx_http_rtagent_store_op_t;


typedef struct {
    int                            argc;
    const char                    *argv[NGX_HTTP_RTAGENT_STORE_ARGS];
    size_t                         len[NGX_HTTP_RTAGENT_STORE_ARGS];
    ngx_uint_t                     nnums;
    u_char                         nums[NGX_HTTP_RTAGENT_STORE_NUMS]
                                       [NGX_INT64_LEN];
} ngx_http_rtagent_store_cmd_t;


typedef struct {
    ngx_queue_t                    calls;          /* held in memory */
    ngx_uint_t                     live;
    ngx_http_rtagent_timer_t       refresh;
    ngx_uint_t                     ctl_sent;       /* control messages */
    int64_t                        ctl_epoch;      /* ms, at the first */
    unsigned                       init:1;
    unsigned                       exiting:1;      /* no replies to wait */
    ngx_http_rtagent_store_redact_pt  redact;      /* rtagent_redact on */
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
    ngx_http_rtagent_json_out_t *j);
static void ngx_http_rtagent_store_keep(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t seq, ngx_str_t *json);
static void ngx_http_rtagent_store_fill(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t from);
static void ngx_http_rtagent_store_sync(ngx_http_rtagent_store_call_t *sc);
static void ngx_http_rtagent_store_appended(void *data, redisReply *reply);
static void ngx_http_rtagent_store_filled(void *data, redisReply *reply);
static void ngx_http_rtagent_store_emit(ngx_http_rtagent_store_call_t *sc,
    const char *type, ngx_str_t *data, const char *once, ngx_str_t *arg);
static void ngx_http_rtagent_store_emit_json(
    ngx_http_rtagent_store_call_t *sc, const char *type,
    ngx_http_rtagent_json_out_t *j, const char *once, ngx_str_t *arg);
static ngx_int_t ngx_http_rtagent_store_post(
    ngx_http_rtagent_store_call_t *sc, ngx_str_t *id, const char *type,
    ngx_str_t *data, const char *once, ngx_str_t *arg, ngx_log_t *log);
static void ngx_http_rtagent_store_guarded(void *data, redisReply *reply);
static void ngx_http_rtagent_store_flush(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t all);
static void ngx_http_rtagent_store_xadd_cmd(
    ngx_http_rtagent_store_cmd_t *cmd, ngx_str_t *id, ngx_str_t *type,
    ngx_str_t *data);
static ngx_int_t ngx_http_rtagent_store_xadd(ngx_str_t *id, ngx_str_t *type,
    ngx_str_t *data);
static ngx_http_rtagent_store_op_t *ngx_http_rtagent_store_op(size_t size,
    ngx_log_t *log);
static u_char *ngx_http_rtagent_store_copy(ngx_str_t *dst, u_char *p,
    u_char *data, size_t len);
static ngx_int_t ngx_http_rtagent_store_write(ngx_str_t *id, int argc,
    const char **argv, const size_t *len,
    ngx_http_rtagent_redis_reply_pt handler, void *data);
static void ngx_http_rtagent_store_ended(void *data, redisReply *reply);
static void ngx_http_rtagent_store_counted(void *data, redisReply *reply);
static void ngx_http_rtagent_store_deduped(void *data, redisReply *reply);
static void ngx_http_rtagent_store_got(void *data, redisReply *reply);
static ngx_int_t ngx_http_rtagent_store_publish(ngx_str_t *call_id,
    ngx_str_t *json, ngx_http_rtagent_redis_reply_pt handler, void *data);
static void ngx_http_rtagent_store_ctl_message(void *data,
    ngx_str_t *channel, ngx_str_t *message);
static void ngx_http_rtagent_store_ctl_take(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *message, const char *from);
static void ngx_http_rtagent_store_ctl_drained(void *data, redisReply *reply);
static ngx_uint_t ngx_http_rtagent_store_ctl_seen(
    ngx_http_rtagent_store_call_t *sc, ngx_http_rtagent_ctl_msg_str_t *id);
static void ngx_http_rtagent_store_ctl_refuse(
    ngx_http_rtagent_store_call_t *sc, const char *error, ngx_str_t *action);
static void ngx_http_rtagent_store_reset(void);
static void ngx_http_rtagent_store_exit(void);
static void ngx_http_rtagent_store_refresh(ngx_event_t *ev);
static ngx_int_t ngx_http_rtagent_store_no_answer(redisReply *reply);

static void ngx_http_rtagent_store_arg(ngx_http_rtagent_store_cmd_t *cmd,
    const u_char *data, size_t len);
static void ngx_http_rtagent_store_num(ngx_http_rtagent_store_cmd_t *cmd,
    int64_t n);
static void ngx_http_rtagent_store_script(ngx_http_rtagent_store_cmd_t *cmd,
    ngx_str_t *lua);


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


/*
 * The guard of an event written once per call: KEYS[1] the call's hash;
 * ARGV[1] the guard field, ARGV[2] now (ms), ARGV[3] the hash's TTL, set
 * when it had none (the control plane may write a guard first).  Returns
 * 1 when this write set the guard.
 */

static ngx_str_t  ngx_http_rtagent_store_guard_lua = ngx_string(
    "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then "
        "return 0 "
    "end "
    "if redis.call('PTTL', KEYS[1]) < 0 then "
        "redis.call('PEXPIRE', KEYS[1], ARGV[3]) "
    "end "
    "return 1");


/*
 * The end of a call without its session: KEYS[1..3] the hash, transcript
 * and context; ARGV[1] now (ms), ARGV[2] outcome, ARGV[3] reason,
 * ARGV[4] call id, ARGV[5..7] their TTLs.  Returns the duration (ms), or
 * -1 when the call had already ended.
 */

static ngx_str_t  ngx_http_rtagent_store_ended_lua = ngx_string(
    "if redis.call('HSETNX', KEYS[1], 'ev:ended', ARGV[1]) == 0 then "
        "return -1 "
    "end "
    "local t = redis.call('HMGET', KEYS[1], 'started', 'answered', "
                         "'created') "
    "local from = tonumber(t[1]) or tonumber(t[2]) or tonumber(t[3]) "
    "local d = 0 "
    "if from then d = math.max(0, math.floor(tonumber(ARGV[1]) - from)) end "
    "redis.call('HSET', KEYS[1], 'call_id', ARGV[4], 'state', 'ended', "
               "'ended', ARGV[1], 'duration_ms', tostring(d), "
               "'outcome', ARGV[2], 'reason', ARGV[3]) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[5]) "
    "redis.call('PEXPIRE', KEYS[2], ARGV[6]) "
    "redis.call('PEXPIRE', KEYS[3], ARGV[7]) "
    "return d");


/*
 * A control message, kept and published at once: KEYS[1] the call's
 * :ctlq; ARGV[1] the message, ARGV[2] how many the list keeps, ARGV[3]
 * its TTL, ARGV[4] the :ctl channel.  Returns PUBLISH's count.
 */

static ngx_str_t  ngx_http_rtagent_store_ctl_lua = ngx_string(
    "redis.call('RPUSH', KEYS[1], ARGV[1]) "
    "redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[3]) "
    "return redis.call('PUBLISH', ARGV[4], ARGV[1])");

static ngx_http_rtagent_store_worker_t  ngx_http_rtagent_store_worker;


ngx_http_rtagent_store_call_t *
ngx_http_rtagent_store_call_start(ngx_str_t *call_id, ngx_str_t *agent,
    ngx_uint_t rate, ngx_log_t *log, ngx_http_rtagent_store_ctl_pt ctl,
    void *data)
{
    u_char                           *p;
    size_t                            len;
    ngx_int_t                         rc;
    ngx_http_rtagent_json_out_t       j;
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
          + sizeof(":ctl") - 1
          + sizeof("rtagent:call:{}:ctlq") - 1 + call_id->len;

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

    sc->ctlq.data = p;
    p = ngx_sprintf(p, "%V:ctlq", &sc->key);
    sc->ctlq.len = p - sc->ctlq.data;

    sc->log = log;
    sc->ctl = ctl;
    sc->ctl_data = data;
    sc->rate = rate;
    sc->started = ngx_http_rtagent_now_ms();
    sc->live = 1;

    ngx_queue_init(&sc->entries);
    ngx_queue_init(&sc->events);
    ngx_queue_insert_tail(&w->calls, &sc->queue);
    w->live++;

    if (!w->refresh.event.timer_set) {
        ngx_add_timer(&w->refresh.event, NGX_HTTP_RTAGENT_STORE_REFRESH);
    }

    /* held until the end of this function: a write may be dropped */
    sc->refs++;

    ngx_http_rtagent_store_hash(sc);

    if (ngx_http_rtagent_json_out_init(&j) == NGX_OK) {
        ngx_http_rtagent_json_out_str(&j, "agent", agent->data,
                                      agent->len);
        ngx_http_rtagent_json_out_int(&j, "sample_rate", rate);
        ngx_http_rtagent_json_out_int(&j, "owner_worker", ngx_pid);
        ngx_http_rtagent_json_out_str(&j, "owner_instance",
                                      ngx_cycle->hostname.data,
                                      ngx_cycle->hostname.len);
        /* a second session of the call (a reconnect) does not start it */
        ngx_http_rtagent_store_emit_json(sc, NGX_HTTP_RTAGENT_EV_CALL_STARTED,
                                         &j,
                                         NGX_HTTP_RTAGENT_STORE_ONCE_STARTED,
                                         NULL);
    }

    /* the context (rtagent:call:{id}:context) is the agents' to write */

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
    ngx_http_rtagent_json_out_t    j;

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

    if (ngx_http_rtagent_json_out_init(&j) == NGX_OK) {
        ngx_http_rtagent_json_out_str(&j, "participant", participant->data,
                                      participant->len);
        ngx_http_rtagent_store_emit_json(sc,
                                         NGX_HTTP_RTAGENT_EV_PARTICIPANT_JOINED,
                                         &j,
                                         NGX_HTTP_RTAGENT_STORE_ONCE_JOINED,
                                         participant);
    }
}


void
ngx_http_rtagent_store_redact_with(ngx_http_rtagent_store_redact_pt redact)
{
    ngx_http_rtagent_store_worker.redact = redact;
}


/*
 * The text as it is stored: redacted into an ngx_alloc()ed *buf (freed by
 * the caller) when redaction is on, else text itself; NGX_ERROR when out
 * of memory (nothing is stored then rather than the PII).
 */
static ngx_int_t
ngx_http_rtagent_store_redacted(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, ngx_str_t *out, u_char **buf)
{
    size_t  n, size;

    *buf = NULL;
    *out = *text;

    if (ngx_http_rtagent_store_worker.redact == NULL) {
        return NGX_OK;
    }

    /* redaction at most doubles a text: a label (6 bytes at most)
     * replaces 9 digits or more, or a date after a trigger word */
    size = 2 * text->len + 16;

    *buf = ngx_alloc(size, sc->log);
    if (*buf == NULL) {
        return NGX_ERROR;
    }

    n = ngx_http_rtagent_store_worker.redact(text->data, text->len, *buf,
                                             size, NULL);

    out->data = *buf;
    out->len = n < size ? n : size - 1;

    return NGX_OK;
}


void
ngx_http_rtagent_store_caller_text(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, double confidence, ngx_str_t *participant)
{
    ngx_http_rtagent_store_caller_text_timed(sc, text, confidence,
                                             participant, NULL);
}


/*
 * The turn in microseconds, from the stage clocks: each interval between
 * two stages reached is named by the stage it ends at, and is the
 * gateway's own work or a wait on a provider (STT, TTS synthesis; the
 * LLM's for a remote responder).  "gateway_us" sums the gateway's, so
 * with "turn_us" (END to FIRST_FRAME) the rest is the providers'.
 */

static const struct {
    const char  *name;
    ngx_uint_t   gateway;
} ngx_http_rtagent_store_stages[NGX_HTTP_RTAGENT_STAGE_N] = {
    { NULL, 0 },                /* END */
    { "stt_us", 0 },            /* the STT provider's final result */
    { "hand_us", 1 },           /* the event written, the turn started */
    { "responder_us", 1 },      /* the responder's first text */
    { "to_tts_us", 1 },         /* a sentence cut, the TTS request made */
    { "tts_us", 0 },            /* synthesis: a frame's worth of audio */
    { "playout_us", 1 }         /* resampled, framed, written */
};


static void
ngx_http_rtagent_store_timings_us(ngx_http_rtagent_json_out_t *j,
    const ngx_http_rtagent_store_timings_t *t)
{
    uint64_t    prev, gateway;
    ngx_uint_t  i, own;

    if (t->stage[NGX_HTTP_RTAGENT_STAGE_END] == 0
        || t->stage[NGX_HTTP_RTAGENT_STAGE_FIRST_FRAME] == 0)
    {
        return;
    }

    prev = t->stage[NGX_HTTP_RTAGENT_STAGE_END];

    for (i = 1; i < NGX_HTTP_RTAGENT_STAGE_N; i++) {
        if (t->stage[i] == 0) {
            continue;
        }

        if (t->stage[i] < prev) {
            return;                 /* out of order: no figures */
        }

        prev = t->stage[i];
    }

    prev = t->stage[NGX_HTTP_RTAGENT_STAGE_END];
    gateway = 0;

    for (i = 1; i < NGX_HTTP_RTAGENT_STAGE_N; i++) {
        if (t->stage[i] == 0) {
            continue;
        }

        own = ngx_http_rtagent_store_stages[i].gateway
              && !(i == NGX_HTTP_RTAGENT_STAGE_FIRST_TEXT
                   && t->remote_responder);

        ngx_http_rtagent_json_out_int(j, ngx_http_rtagent_store_stages[i].name,
                                      t->stage[i] - prev);

        if (own) {
            gateway += t->stage[i] - prev;
        }

        prev = t->stage[i];
    }

    ngx_http_rtagent_json_out_int(j, "turn_us",
                                  prev - t->stage[NGX_HTTP_RTAGENT_STAGE_END]);
    ngx_http_rtagent_json_out_int(j, "gateway_us", gateway);
}


/* the "timings" object */

static void
ngx_http_rtagent_store_timings_object(ngx_http_rtagent_json_out_t *j,
    const ngx_http_rtagent_store_timings_t *t)
{
    ngx_uint_t  i;
    struct {
        const char      *name;
        int64_t          n;
    } st[] = {
        { "speech_ms", t->speech },
        { "stt_final_ms", t->stt_final },
        { "first_text_ms", t->first_text },
        { "tts_first_byte_ms", t->tts_first_byte },
        { "first_audio_ms", t->first_audio },
        { "barge_in_stop_ms", t->barge_in_stop },
        { "barge_in_stop_us", t->barge_in_stop_us },
        { "barge_in_cancel_ms", t->barge_in_cancel_us < 0
                                ? -1 : t->barge_in_cancel_us / 1000 },
        { "barge_in_cancel_us", t->barge_in_cancel_us }
    };

    ngx_http_rtagent_json_out_open(j, "timings");

    for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        if (st[i].n >= 0) {
            ngx_http_rtagent_json_out_int(j, st[i].name, st[i].n);
        }
    }

    ngx_http_rtagent_store_timings_us(j, t);

    ngx_http_rtagent_json_out_close(j);
}


static void
ngx_http_rtagent_store_timings(ngx_http_rtagent_json_out_t *j,
    const ngx_http_rtagent_store_timings_t *t)
{
    ngx_http_rtagent_json_out_int(j, "turn", t->turn);
    ngx_http_rtagent_store_timings_object(j, t);
}


void
ngx_http_rtagent_store_caller_text_timed(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, double confidence, ngx_str_t *participant,
    const ngx_http_rtagent_store_timings_t *t)
{
    u_char                        *buf;
    ngx_str_t                      said;
    ngx_http_rtagent_json_out_t    j;

    if (sc == NULL
        || ngx_http_rtagent_store_redacted(sc, text, &said, &buf) != NGX_OK)
    {
        return;
    }

    text = &said;

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        if (buf) {
            ngx_free(buf);
        }

        return;
    }

    sc->refs++;

    ngx_http_rtagent_json_out_int(&j, "seq", sc->seq + 1);
    ngx_http_rtagent_json_out_str(&j, "role", (u_char *) "caller", 6);
    ngx_http_rtagent_json_out_str(&j, "text", text->data, text->len);
    ngx_http_rtagent_json_out_int(&j, "ts", ngx_http_rtagent_now_ms());
    ngx_http_rtagent_store_append(sc, &j);

    if (ngx_http_rtagent_json_out_init(&j) == NGX_OK) {
        ngx_http_rtagent_json_out_int(&j, "seq", sc->seq);
        ngx_http_rtagent_json_out_str(&j, "text", text->data, text->len);

        if (confidence >= 0) {
            ngx_http_rtagent_json_out_fixed(&j, "confidence", confidence);
        }

        if (participant->len) {
            ngx_http_rtagent_json_out_str(&j, "participant",
                                          participant->data,
                                          participant->len);
        }

        if (t) {
            ngx_http_rtagent_store_timings(&j, t);
        }

        ngx_http_rtagent_store_emit_json(sc,
                                     NGX_HTTP_RTAGENT_EV_TRANSCRIPTION_RECEIVED,
                                     &j, NULL, NULL);
    }

    sc->refs--;

    if (buf) {
        ngx_free(buf);
    }
}


void
ngx_http_rtagent_store_caller_dtmf(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *tones)
{
    ngx_http_rtagent_json_out_t    j;

    if (sc == NULL || ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_json_out_int(&j, "seq", sc->seq + 1);
    ngx_http_rtagent_json_out_str(&j, "role", (u_char *) "caller", 6);
    ngx_http_rtagent_json_out_str(&j, "dtmf", tones->data, tones->len);
    ngx_http_rtagent_json_out_int(&j, "ts", ngx_http_rtagent_now_ms());
    ngx_http_rtagent_store_append(sc, &j);
}


void
ngx_http_rtagent_store_agent_text(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, const char *source)
{
    ngx_http_rtagent_store_agent_text_timed(sc, text, source, NULL, 0, NULL);
}


void
ngx_http_rtagent_store_agent_text_timed(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, const char *source, ngx_str_t *agent,
    ngx_uint_t interrupted, const ngx_http_rtagent_store_timings_t *t)
{
    u_char                        *buf;
    ngx_str_t                      said;
    ngx_http_rtagent_json_out_t    j;

    if (sc == NULL
        || ngx_http_rtagent_store_redacted(sc, text, &said, &buf) != NGX_OK)
    {
        return;
    }

    text = &said;

    if (agent == NULL || agent->len == 0) {
        agent = &sc->agent;
    }

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        if (buf) {
            ngx_free(buf);
        }

        return;
    }

    sc->refs++;

    ngx_http_rtagent_json_out_int(&j, "seq", sc->seq + 1);
    ngx_http_rtagent_json_out_str(&j, "role", (u_char *) "agent", 5);
    ngx_http_rtagent_json_out_str(&j, "text", text->data, text->len);
    ngx_http_rtagent_json_out_int(&j, "ts", ngx_http_rtagent_now_ms());

    if (agent->len) {
        ngx_http_rtagent_json_out_str(&j, "agent", agent->data, agent->len);
    }

    if (source) {
        ngx_http_rtagent_json_out_str(&j, "source", (u_char *) source,
                                      ngx_strlen(source));
    }

    if (interrupted) {
        ngx_http_rtagent_json_out_bool(&j, "interrupted", 1);
    }

    ngx_http_rtagent_store_append(sc, &j);

    if (ngx_http_rtagent_json_out_init(&j) == NGX_OK) {
        ngx_http_rtagent_json_out_str(&j, "agent", agent->data, agent->len);
        ngx_http_rtagent_json_out_int(&j, "seq", sc->seq);
        ngx_http_rtagent_json_out_str(&j, "text", text->data, text->len);

        if (source) {
            ngx_http_rtagent_json_out_str(&j, "source", (u_char *) source,
                                          ngx_strlen(source));
        }

        if (interrupted) {
            ngx_http_rtagent_json_out_bool(&j, "interrupted", 1);
        }

        if (t) {
            ngx_http_rtagent_store_timings(&j, t);
        }

        ngx_http_rtagent_store_emit_json(sc,
                                   NGX_HTTP_RTAGENT_EV_AGENT_RESPONSE_GENERATED,
                                   &j, NULL, NULL);
    }

    sc->refs--;

    if (buf) {
        ngx_free(buf);
    }
}


void
ngx_http_rtagent_store_agent_audio(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t utterance, ngx_msec_t duration,
    const ngx_http_rtagent_store_timings_t *t)
{
    ngx_http_rtagent_json_out_t    j;

    if (sc == NULL || ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_json_out_str(&j, "agent", sc->agent.data,
                                  sc->agent.len);
    ngx_http_rtagent_json_out_int(&j, "utterance", utterance);
    ngx_http_rtagent_json_out_int(&j, "duration_ms", duration);

    if (t) {
        ngx_http_rtagent_store_timings_object(&j, t);
    }

    ngx_http_rtagent_store_emit_json(sc,
                                   NGX_HTTP_RTAGENT_EV_AGENT_RESPONSE_GENERATED,
                                   &j, NULL, NULL);
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
    ngx_http_rtagent_json_out_t    j;

    if (sc == NULL || ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_json_out_str(&j, "error", (u_char *) error,
                                  ngx_strlen(error));

    if (key && value) {
        ngx_http_rtagent_json_out_str(&j, key, value->data, value->len);
    }

    ngx_http_rtagent_store_emit_json(sc, NGX_HTTP_RTAGENT_EV_ERROR_OCCURRED,
                                     &j, NULL, NULL);
}


void
ngx_http_rtagent_store_event(ngx_http_rtagent_store_call_t *sc,
    const char *type, ngx_str_t *data)
{
    if (sc) {
        ngx_http_rtagent_store_emit(sc, type, data, NULL, NULL);
    }
}


void
ngx_http_rtagent_store_call_end(ngx_http_rtagent_store_call_t *sc,
    const char *outcome, ngx_str_t *reason)
{
    ngx_http_rtagent_json_out_t    j;

    if (sc == NULL || !sc->live) {
        return;
    }

    sc->refs++;

    sc->live = 0;
    ngx_http_rtagent_store_worker.live--;

    sc->ended = ngx_http_rtagent_now_ms();
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

    if (ngx_http_rtagent_json_out_init(&j) == NGX_OK) {
        ngx_http_rtagent_json_out_int(&j, "duration_ms",
                                      sc->ended - sc->started);
        ngx_http_rtagent_json_out_str(&j, "outcome", (u_char *) outcome,
                                      ngx_strlen(outcome));

        if (sc->reason_len) {
            ngx_http_rtagent_json_out_str(&j, "reason", sc->reason,
                                          sc->reason_len);
        }

        ngx_http_rtagent_json_out_int(&j, "transcript_entries", sc->seq);

        /* the control plane or an earlier session may have ended it */
        ngx_http_rtagent_store_emit_json(sc, NGX_HTTP_RTAGENT_EV_CALL_ENDED,
                                         &j, NGX_HTTP_RTAGENT_STORE_ONCE_ENDED,
                                         NULL);
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
    return ngx_http_rtagent_store_publish(call_id, json, NULL, NULL);
}


/* stateless: the control plane ------------------------------------------ */

ngx_int_t
ngx_http_rtagent_store_call_set(ngx_str_t *call_id,
    ngx_http_rtagent_store_field_t *fields, ngx_uint_t n, ngx_log_t *log)
{
    u_char       *p;
    size_t       *len;
    ngx_int_t     rc;
    ngx_uint_t    i;
    const char  **argv;
    int           argc;

    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_DECLINED;
    }

    argc = 4 + 2 * n;

    argv = ngx_alloc(argc * (sizeof(char *) + sizeof(size_t))
                     + sizeof("rtagent:call:{}") - 1 + call_id->len, log);
    if (argv == NULL) {
        return NGX_ERROR;
    }

    len = (size_t *) (argv + argc);
    p = (u_char *) (len + argc);

    argv[0] = "HSET";
    len[0] = 4;
    argv[1] = (const char *) p;
    len[1] = ngx_sprintf(p, "rtagent:call:{%V}", call_id) - p;
    argv[2] = "call_id";
    len[2] = 7;
    argv[3] = (const char *) call_id->data;
    len[3] = call_id->len;

    for (i = 0; i < n; i++) {
        argv[4 + 2 * i] = fields[i].name;
        len[4 + 2 * i] = ngx_strlen(fields[i].name);
        argv[5 + 2 * i] = (const char *) fields[i].value.data;
        len[5 + 2 * i] = fields[i].value.len;
    }

    rc = ngx_http_rtagent_store_write(call_id, argc, argv, len, NULL, NULL);

    if (rc == NGX_OK) {
        /* the key, then its TTL: "PEXPIRE <key> <ttl>" */
        argv[0] = "PEXPIRE";
        len[0] = 7;
        argv[2] = NGX_HTTP_RTAGENT_STORE_CALL_TTL;
        len[2] = sizeof(NGX_HTTP_RTAGENT_STORE_CALL_TTL) - 1;

        rc = ngx_http_rtagent_store_write(call_id, 3, argv, len, NULL, NULL);
    }

    ngx_free(argv);

    return rc;
}


ngx_int_t
ngx_http_rtagent_store_call_event(ngx_str_t *call_id, const char *type,
    ngx_str_t *data, const char *once, ngx_log_t *log)
{
    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_DECLINED;
    }

    return ngx_http_rtagent_store_post(NULL, call_id, type, data, once, NULL,
                                       log);
}


ngx_int_t
ngx_http_rtagent_store_call_ended(ngx_str_t *call_id, const char *outcome,
    ngx_str_t *reason, ngx_log_t *log,
    ngx_http_rtagent_store_result_pt handler, void *data)
{
    u_char                        *p;
    size_t                         olen, rlen;
    ngx_int_t                      rc;
    ngx_str_t                      key, transcript, context;
    ngx_http_rtagent_store_op_t   *op;
    ngx_http_rtagent_store_cmd_t   cmd;

    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_DECLINED;
    }

    olen = outcome ? ngx_strlen(outcome) : 0;
    rlen = reason ? reason->len : 0;

    op = ngx_http_rtagent_store_op(2 * call_id->len + olen + rlen
                                   + 3 * (sizeof("rtagent:call:{}") - 1
                                          + call_id->len)
                                   + sizeof(":transcript") - 1
                                   + sizeof(":context") - 1, log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    p = (u_char *) (op + 1);
    p = ngx_http_rtagent_store_copy(&op->id, p, call_id->data, call_id->len);
    p = ngx_http_rtagent_store_copy(&op->outcome, p, (u_char *) outcome,
                                    olen);
    p = ngx_http_rtagent_store_copy(&op->reason, p,
                                    reason ? reason->data : NULL, rlen);

    key.data = p;
    p = ngx_sprintf(p, "rtagent:call:{%V}", call_id);
    key.len = p - key.data;

    transcript.data = p;
    p = ngx_sprintf(p, "%V:transcript", &key);
    transcript.len = p - transcript.data;

    context.data = p;
    p = ngx_sprintf(p, "%V:context", &key);
    context.len = p - context.data;

    ngx_str_set(&op->type, NGX_HTTP_RTAGENT_EV_CALL_ENDED);
    op->result = handler;
    op->data_arg = data;

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_script(&cmd, &ngx_http_rtagent_store_ended_lua);
    ngx_http_rtagent_store_lit(&cmd, "3");
    ngx_http_rtagent_store_str(&cmd, &key);
    ngx_http_rtagent_store_str(&cmd, &transcript);
    ngx_http_rtagent_store_str(&cmd, &context);
    ngx_http_rtagent_store_num(&cmd, ngx_http_rtagent_now_ms());
    ngx_http_rtagent_store_str(&cmd, &op->outcome);
    ngx_http_rtagent_store_str(&cmd, &op->reason);
    ngx_http_rtagent_store_str(&cmd, &op->id);
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_CALL_TTL);
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_TRANSCRIPT_TTL);
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_CONTEXT_TTL);

    rc = ngx_http_rtagent_store_write(call_id, cmd.argc, cmd.argv, cmd.len,
                                      ngx_http_rtagent_store_ended, op);
    if (rc != NGX_OK) {
        ngx_free(op);
    }

    return rc;
}


static void
ngx_http_rtagent_store_ended(void *data, redisReply *reply)
{
    ngx_int_t                       rc;
    ngx_str_t                       json;
    ngx_http_rtagent_store_op_t    *op = data;
    ngx_http_rtagent_json_out_t     j;

    if (reply && reply->type == REDIS_REPLY_INTEGER) {
        rc = (reply->integer >= 0) ? 1 : 0;

    } else {
        /* not ended in the hash: CALL_ENDED anyway, at least once */
        rc = ngx_http_rtagent_store_no_answer(reply);
    }

    if (rc == 1 || rc == -1) {
        if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "rtagent store: no memory for CALL_ENDED, call:%V",
                          &op->id);

        } else {
            if (rc == 1) {
                ngx_http_rtagent_json_out_int(&j, "duration_ms",
                                              reply->integer);
            }

            ngx_http_rtagent_json_out_str(&j, "outcome", op->outcome.data,
                                          op->outcome.len);
            ngx_http_rtagent_json_out_str(&j, "reason", op->reason.data,
                                          op->reason.len);

            if (ngx_http_rtagent_json_out_get(&j, &json) == NGX_OK) {
                (void) ngx_http_rtagent_store_xadd(&op->id, &op->type, &json);

            } else {
                ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                              "rtagent store: CALL_ENDED outcome or reason "
                              "is not valid UTF-8, call:%V", &op->id);
            }

            ngx_http_rtagent_json_out_free(&j);
        }
    }

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "rtagent store: call ended (%V)%s, call:%V", &op->outcome,
                  rc == 1 ? "" : rc == 0 ? ": had ended before"
                                         : ": Redis did not answer",
                  &op->id);

    if (op->result) {
        op->result(op->data_arg, rc);
    }

    ngx_free(op);
}


ngx_int_t
ngx_http_rtagent_store_control_count(ngx_str_t *call_id, ngx_str_t *json,
    ngx_http_rtagent_store_result_pt handler, void *data)
{
    ngx_int_t                     rc;
    ngx_http_rtagent_store_op_t  *op;

    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_DECLINED;
    }

    op = ngx_http_rtagent_store_op(call_id->len, ngx_cycle->log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_rtagent_store_copy(&op->id, (u_char *) (op + 1),
                                       call_id->data, call_id->len);
    op->result = handler;
    op->data_arg = data;

    rc = ngx_http_rtagent_store_publish(call_id, json,
                                        ngx_http_rtagent_store_counted, op);
    if (rc != NGX_OK) {
        ngx_free(op);
    }

    return rc;
}


static void
ngx_http_rtagent_store_counted(void *data, redisReply *reply)
{
    ngx_http_rtagent_store_op_t  *op = data;

    if (op->result) {
        op->result(op->data_arg,
                   (reply && reply->type == REDIS_REPLY_INTEGER)
                   ? (ngx_int_t) reply->integer
                   : ngx_http_rtagent_store_no_answer(reply));
    }

    ngx_free(op);
}


ngx_int_t
ngx_http_rtagent_store_dedupe(ngx_str_t *event_id, ngx_msec_t ttl,
    ngx_log_t *log, ngx_http_rtagent_store_result_pt handler, void *data)
{
    u_char                        *p;
    ngx_int_t                      rc;
    ngx_str_t                      key;
    ngx_http_rtagent_store_op_t   *op;
    ngx_http_rtagent_store_cmd_t   cmd;

    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_DECLINED;
    }

    /* Event Grid retries for up to 24 h */
    ttl = ngx_max(ttl, NGX_HTTP_RTAGENT_STORE_DEDUPE_TTL);

    op = ngx_http_rtagent_store_op(event_id->len
                                   + sizeof("rtagent:event:{}") - 1
                                   + event_id->len, log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    p = (u_char *) (op + 1);
    p = ngx_http_rtagent_store_copy(&op->id, p, event_id->data,
                                    event_id->len);

    key.data = p;
    key.len = ngx_sprintf(p, "rtagent:event:{%V}", event_id) - p;

    op->result = handler;
    op->data_arg = data;

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_lit(&cmd, "SET");
    ngx_http_rtagent_store_str(&cmd, &key);
    ngx_http_rtagent_store_lit(&cmd, "1");
    ngx_http_rtagent_store_lit(&cmd, "NX");
    ngx_http_rtagent_store_lit(&cmd, "PX");
    ngx_http_rtagent_store_num(&cmd, ttl);

    rc = ngx_http_rtagent_redis_write(cmd.argc, cmd.argv, cmd.len,
                                      ngx_http_rtagent_store_deduped, op);
    if (rc != NGX_OK) {
        if (rc == NGX_ERROR) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "rtagent store: cannot queue a SET write, "
                          "event:%V", event_id);
        }

        ngx_free(op);
    }

    return rc;
}


static void
ngx_http_rtagent_store_deduped(void *data, redisReply *reply)
{
    ngx_int_t                     rc;
    ngx_http_rtagent_store_op_t  *op = data;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        rc = ngx_http_rtagent_store_no_answer(reply);

    } else if (reply->type == REDIS_REPLY_NIL) {
        rc = 0;

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "rtagent store: event %V seen before", &op->id);

    } else {
        rc = 1;
    }

    if (op->result) {
        op->result(op->data_arg, rc);
    }

    ngx_free(op);
}


ngx_int_t
ngx_http_rtagent_store_call_get(ngx_str_t *call_id, const char **names,
    ngx_uint_t n, ngx_log_t *log, ngx_http_rtagent_store_fields_pt handler,
    void *data)
{
    u_char                        *p;
    size_t                        *len;
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    const char                   **argv;
    ngx_http_rtagent_store_op_t   *op;

    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_DECLINED;
    }

    op = ngx_http_rtagent_store_op(n * sizeof(ngx_str_t)
                                   + (n + 2) * (sizeof(char *)
                                                + sizeof(size_t))
                                   + call_id->len
                                   + sizeof("rtagent:call:{}") - 1
                                   + call_id->len, log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->values = (ngx_str_t *) (op + 1);
    argv = (const char **) (op->values + n);
    len = (size_t *) (argv + n + 2);
    p = (u_char *) (len + n + 2);

    p = ngx_http_rtagent_store_copy(&op->id, p, call_id->data, call_id->len);

    op->n = n;
    op->fields = handler;
    op->data_arg = data;

    argv[0] = "HMGET";
    len[0] = 5;
    argv[1] = (const char *) p;
    len[1] = ngx_sprintf(p, "rtagent:call:{%V}", call_id) - p;

    for (i = 0; i < n; i++) {
        argv[2 + i] = names[i];
        len[2 + i] = ngx_strlen(names[i]);
    }

    rc = ngx_http_rtagent_store_write(call_id, n + 2, argv, len,
                                      ngx_http_rtagent_store_got, op);
    if (rc != NGX_OK) {
        ngx_free(op);
    }

    return rc;
}


static void
ngx_http_rtagent_store_got(void *data, redisReply *reply)
{
    ngx_int_t                     n;
    ngx_uint_t                    i;
    redisReply                   *e;
    ngx_http_rtagent_store_op_t  *op = data;

    n = ngx_http_rtagent_store_no_answer(reply);

    if (reply && reply->type == REDIS_REPLY_ARRAY
        && reply->elements == op->n)
    {
        n = op->n;

        for (i = 0; i < op->n; i++) {
            e = reply->element[i];

            if (e->type == REDIS_REPLY_STRING) {
                op->values[i].data = (u_char *) e->str;
                op->values[i].len = e->len;

            } else {
                op->values[i].data = NULL;
                op->values[i].len = 0;
            }
        }
    }

    if (op->fields) {
        op->fields(op->data_arg, n, n < 0 ? NULL : op->values);
    }

    ngx_free(op);
}


/*
 * The message, an "id" added, RPUSHed on rtagent:call:{<id>}:ctlq and
 * PUBLISHed on rtagent:call:{<id>}:ctl by one script
 */

static ngx_int_t
ngx_http_rtagent_store_publish(ngx_str_t *call_id, ngx_str_t *json,
    ngx_http_rtagent_redis_reply_pt handler, void *data)
{
    u_char                           *p, *last, *body;
    ngx_int_t                         rc;
    ngx_str_t                         channel, ctlq, msg;
    ngx_http_rtagent_store_cmd_t      cmd;
    ngx_http_rtagent_store_worker_t  *w;

    p = json->data;
    last = p + json->len;

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    if (p == last || *p != '{') {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "rtagent store: a control message is not a JSON "
                      "object, call:%V", call_id);
        return NGX_ERROR;
    }

    body = p + 1;

    channel.len = sizeof("rtagent:call:{}:ctl") - 1 + call_id->len;
    ctlq.len = channel.len + 1;
    msg.len = sizeof("{\"id\":\"\",") - 1 + NGX_HTTP_RTAGENT_CTL_MSG_ID_MAX
              + (last - body);

    channel.data = ngx_alloc(channel.len + ctlq.len + msg.len,
                             ngx_cycle->log);
    if (channel.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(channel.data, "rtagent:call:{%V}:ctl", call_id);
    channel.len = p - channel.data;

    ctlq.data = p;
    p = ngx_sprintf(p, "%Vq", &channel);
    ctlq.len = p - ctlq.data;

    /* unique across workers and restarts: the pid, a clock, a counter */
    w = &ngx_http_rtagent_store_worker;

    if (w->ctl_epoch == 0) {
        w->ctl_epoch = ngx_http_rtagent_now_ms();
    }

    msg.data = p;
    p = ngx_sprintf(p, "{\"id\":\"%P-%L-%ui\"", ngx_pid, w->ctl_epoch,
                    ++w->ctl_sent);

    /* "{}" has no member to follow the id */
    while (body < last
           && (*body == ' ' || *body == '\t' || *body == '\r'
               || *body == '\n'))
    {
        body++;
    }

    if (body < last && *body != '}') {
        *p++ = ',';
    }

    p = ngx_cpymem(p, body, last - body);
    msg.len = p - msg.data;

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_script(&cmd, &ngx_http_rtagent_store_ctl_lua);
    ngx_http_rtagent_store_lit(&cmd, "1");
    ngx_http_rtagent_store_str(&cmd, &ctlq);
    ngx_http_rtagent_store_str(&cmd, &msg);
    ngx_http_rtagent_store_num(&cmd, NGX_HTTP_RTAGENT_STORE_CTLQ_MAX);
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_CTLQ_TTL);
    ngx_http_rtagent_store_str(&cmd, &channel);

    rc = ngx_http_rtagent_store_write(call_id, cmd.argc, cmd.argv, cmd.len,
                                      handler, data);

    ngx_free(channel.data);

    return rc;
}


/* an op with size bytes after it for its strings */

static ngx_http_rtagent_store_op_t *
ngx_http_rtagent_store_op(size_t size, ngx_log_t *log)
{
    ngx_http_rtagent_store_op_t  *op;

    op = ngx_alloc(sizeof(ngx_http_rtagent_store_op_t) + size, log);
    if (op == NULL) {
        return NULL;
    }

    ngx_memzero(op, sizeof(ngx_http_rtagent_store_op_t));

    return op;
}


static u_char *
ngx_http_rtagent_store_copy(ngx_str_t *dst, u_char *p, u_char *data,
    size_t len)
{
    dst->data = p;
    dst->len = len;

    return len ? ngx_cpymem(p, data, len) : p;
}


/* a write that is no session's; the failure to queue it is logged here */

static ngx_int_t
ngx_http_rtagent_store_write(ngx_str_t *id, int argc, const char **argv,
    const size_t *len, ngx_http_rtagent_redis_reply_pt handler, void *data)
{
    ngx_int_t  rc;

    rc = ngx_http_rtagent_redis_write(argc, argv, len, handler, data);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "rtagent store: cannot queue a %*s write, call:%V",
                      len[0], argv[0], id);
    }

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

    /* none is left: one waiting for its guard holds a reference */
    while (!ngx_queue_empty(&sc->events)) {
        q = ngx_queue_head(&sc->events);
        ngx_queue_remove(q);
        ngx_free(ngx_queue_data(q, ngx_http_rtagent_store_op_t, queue));
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

    /*
     * agent, slots and auth are the orchestrator's once it runs: set here
     * only when absent, so that neither the end of a session nor a new
     * session of a resumed call puts the entry agent back
     */
    ngx_http_rtagent_store_lit(&cmd, "HSETNX");
    ngx_http_rtagent_store_str(&cmd, &sc->key);
    ngx_http_rtagent_store_lit(&cmd, "agent");
    ngx_http_rtagent_store_str(&cmd, &sc->agent);
    ngx_http_rtagent_store_send(sc, &cmd, NULL);

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_lit(&cmd, "HSETNX");
    ngx_http_rtagent_store_str(&cmd, &sc->key);
    ngx_http_rtagent_store_lit(&cmd, "slots");
    ngx_http_rtagent_store_lit(&cmd, "{}");
    ngx_http_rtagent_store_send(sc, &cmd, NULL);

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_lit(&cmd, "HSETNX");
    ngx_http_rtagent_store_str(&cmd, &sc->key);
    ngx_http_rtagent_store_lit(&cmd, "auth");
    ngx_http_rtagent_store_lit(&cmd, "none");
    ngx_http_rtagent_store_send(sc, &cmd, NULL);

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_lit(&cmd, "HSET");
    ngx_http_rtagent_store_str(&cmd, &sc->key);
    ngx_http_rtagent_store_lit(&cmd, "call_id");
    ngx_http_rtagent_store_str(&cmd, &sc->id);
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
    ngx_http_rtagent_json_out_t *j)
{
    ngx_str_t                      json;
    ngx_http_rtagent_store_cmd_t   cmd;

    if (ngx_http_rtagent_json_out_get(j, &json) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, sc->log, 0,
                      "rtagent store: transcript entry is not valid UTF-8, "
                      "call:%V", &sc->id);
        ngx_http_rtagent_json_out_free(j);
        return;
    }

    sc->seq++;

    ngx_http_rtagent_store_keep(sc, sc->seq, &json);

    cmd.argc = 0;
    cmd.nnums = 0;

    ngx_http_rtagent_store_script(&cmd, &ngx_http_rtagent_store_append_lua);
    ngx_http_rtagent_store_lit(&cmd, "1");
    ngx_http_rtagent_store_str(&cmd, &sc->transcript);
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_TRANSCRIPT_TTL);
    ngx_http_rtagent_store_lit(&cmd, "0");
    ngx_http_rtagent_store_num(&cmd, sc->seq);
    ngx_http_rtagent_store_str(&cmd, &json);

    ngx_http_rtagent_store_send(sc, &cmd, ngx_http_rtagent_store_appended);

    ngx_http_rtagent_json_out_free(j);
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
    ngx_str_t                       *sha;
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

    sha = ngx_http_rtagent_redis_script(&ngx_http_rtagent_store_append_lua);

    if (sha) {
        argv[argc] = "EVALSHA";
        len[argc++] = 7;
        argv[argc] = (const char *) sha->data;
        len[argc++] = sha->len;

    } else {
        argv[argc] = "EVAL";
        len[argc++] = 4;
        argv[argc] = (const char *) ngx_http_rtagent_store_append_lua.data;
        len[argc++] = ngx_http_rtagent_store_append_lua.len;
    }
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

    ngx_http_rtagent_store_script(&cmd, &ngx_http_rtagent_store_append_lua);
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

/* an event of the session; once: the guard ("ev:...", + arg when given) */

static void
ngx_http_rtagent_store_emit(ngx_http_rtagent_store_call_t *sc,
    const char *type, ngx_str_t *data, const char *once, ngx_str_t *arg)
{
    (void) ngx_http_rtagent_store_post(sc, &sc->id, type, data, once, arg,
                                       sc->log);
}


/* closes and frees j */

static void
ngx_http_rtagent_store_emit_json(ngx_http_rtagent_store_call_t *sc,
    const char *type, ngx_http_rtagent_json_out_t *j, const char *once,
    ngx_str_t *arg)
{
    ngx_str_t  json;

    if (ngx_http_rtagent_json_out_get(j, &json) == NGX_OK) {
        ngx_http_rtagent_store_emit(sc, type, &json, once, arg);

    } else {
        ngx_log_error(NGX_LOG_ERR, sc->log, 0,
                      "rtagent store: %s event data is not valid UTF-8, "
                      "call:%V", type, &sc->id);
    }

    ngx_http_rtagent_json_out_free(j);
}


/*
 * An event for call id: of session sc, or stateless (sc NULL).  Without a
 * guard it is added at once, unless the session has events waiting (then
 * it waits behind them); with one, the guard is written first and the
 * event is added from its reply.
 */

static ngx_int_t
ngx_http_rtagent_store_post(ngx_http_rtagent_store_call_t *sc, ngx_str_t *id,
    const char *type, ngx_str_t *data, const char *once, ngx_str_t *arg,
    ngx_log_t *log)
{
    u_char                        *p;
    size_t                         len, tlen, flen;
    ngx_int_t                      rc;
    ngx_str_t                      t, key, field;
    ngx_http_rtagent_store_op_t   *op;
    ngx_http_rtagent_store_cmd_t   cmd;

    tlen = ngx_strlen(type);

    if (once == NULL && (sc == NULL || ngx_queue_empty(&sc->events))) {
        t.data = (u_char *) type;
        t.len = tlen;

        if (sc == NULL) {
            return ngx_http_rtagent_store_xadd(id, &t, data);
        }

        cmd.argc = 0;
        cmd.nnums = 0;
        ngx_http_rtagent_store_xadd_cmd(&cmd, id, &t, data);
        ngx_http_rtagent_store_send(sc, &cmd, NULL);

        return NGX_OK;
    }

    flen = once ? ngx_strlen(once) + (arg ? arg->len : 0) : 0;
    len = id->len + tlen + data->len
          + sizeof("rtagent:call:{}") - 1 + id->len + flen;

    op = ngx_http_rtagent_store_op(len, log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    p = (u_char *) (op + 1);
    p = ngx_http_rtagent_store_copy(&op->id, p, id->data, id->len);
    p = ngx_http_rtagent_store_copy(&op->type, p, (u_char *) type, tlen);
    p = ngx_http_rtagent_store_copy(&op->data, p, data->data, data->len);

    op->sc = sc;

    if (once == NULL) {
        /* behind a guard of the session: in order */
        ngx_queue_insert_tail(&sc->events, &op->queue);
        return NGX_OK;
    }

    key.data = p;
    p = ngx_sprintf(p, "rtagent:call:{%V}", id);
    key.len = p - key.data;

    field.data = p;
    p = ngx_cpymem(p, once, ngx_strlen(once));

    if (arg) {
        p = ngx_cpymem(p, arg->data, arg->len);
    }

    field.len = p - field.data;

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_script(&cmd, &ngx_http_rtagent_store_guard_lua);
    ngx_http_rtagent_store_lit(&cmd, "1");
    ngx_http_rtagent_store_str(&cmd, &key);
    ngx_http_rtagent_store_str(&cmd, &field);
    ngx_http_rtagent_store_num(&cmd, ngx_http_rtagent_now_ms());
    ngx_http_rtagent_store_lit(&cmd, NGX_HTTP_RTAGENT_STORE_CALL_TTL);

    if (sc && ngx_http_rtagent_store_worker.exiting) {
        /* no reply comes before the worker is gone: both writes now */
        ngx_http_rtagent_store_send(sc, &cmd, NULL);

        cmd.argc = 0;
        cmd.nnums = 0;
        ngx_http_rtagent_store_xadd_cmd(&cmd, id, &op->type, &op->data);
        ngx_http_rtagent_store_send(sc, &cmd, NULL);

        ngx_free(op);
        return NGX_OK;
    }

    /* all set before the write: a write dropped at once is answered at once */
    op->waiting = 1;

    if (sc) {
        sc->refs++;
        ngx_queue_insert_tail(&sc->events, &op->queue);
    }

    rc = ngx_http_rtagent_store_write(id, cmd.argc, cmd.argv, cmd.len,
                                      ngx_http_rtagent_store_guarded, op);
    if (rc == NGX_OK) {
        return NGX_OK;
    }

    if (sc) {
        ngx_queue_remove(&op->queue);
        sc->refs--;
    }

    ngx_free(op);

    return rc;
}


static void
ngx_http_rtagent_store_guarded(void *data, redisReply *reply)
{
    ngx_http_rtagent_store_op_t    *op = data;
    ngx_http_rtagent_store_call_t  *sc;

    sc = op->sc;
    op->waiting = 0;

    if (reply && reply->type == REDIS_REPLY_INTEGER) {
        op->skip = (reply->integer == 0);

    } else if (reply) {
        /* what Redis said is logged by the connection */
        ngx_log_error(NGX_LOG_WARN, sc ? sc->log : ngx_cycle->log, 0,
                      "rtagent store: the once-only guard of %V failed, "
                      "written anyway, call:%V", &op->type, &op->id);
    }

    /* a dropped guard (reply NULL): written anyway, at least once */

    if (sc == NULL) {
        if (!op->skip) {
            (void) ngx_http_rtagent_store_xadd(&op->id, &op->type,
                                               &op->data);
        }

        ngx_free(op);
        return;
    }

    if (op->written) {
        /* at worker exit: added without waiting for this */
        ngx_free(op);

    } else {
        ngx_http_rtagent_store_flush(sc, 0);
    }

    sc->refs--;
    ngx_http_rtagent_store_release(sc);
}


/* adds the session's events in order, up to one that waits for a guard */

static void
ngx_http_rtagent_store_flush(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t all)
{
    ngx_queue_t                   *q;
    ngx_http_rtagent_store_op_t   *op;
    ngx_http_rtagent_store_cmd_t   cmd;

    /* the head is taken each time: a write may answer (and flush) at once */
    while (!ngx_queue_empty(&sc->events)) {
        q = ngx_queue_head(&sc->events);
        op = ngx_queue_data(q, ngx_http_rtagent_store_op_t, queue);

        if (op->waiting && !all) {
            return;
        }

        ngx_queue_remove(q);

        if (!op->skip) {
            cmd.argc = 0;
            cmd.nnums = 0;
            ngx_http_rtagent_store_xadd_cmd(&cmd, &sc->id, &op->type,
                                            &op->data);
            ngx_http_rtagent_store_send(sc, &cmd, NULL);
        }

        if (op->waiting) {
            /* its reply frees it */
            op->written = 1;

        } else {
            ngx_free(op);
        }
    }
}


static void
ngx_http_rtagent_store_xadd_cmd(ngx_http_rtagent_store_cmd_t *cmd,
    ngx_str_t *id, ngx_str_t *type, ngx_str_t *data)
{
    ngx_http_rtagent_store_lit(cmd, "XADD");
    ngx_http_rtagent_store_lit(cmd, NGX_HTTP_RTAGENT_STORE_EVENTS);
    ngx_http_rtagent_store_lit(cmd, "MAXLEN");
    ngx_http_rtagent_store_lit(cmd, "~");
    ngx_http_rtagent_store_lit(cmd, NGX_HTTP_RTAGENT_STORE_EVENTS_MAXLEN);
    ngx_http_rtagent_store_lit(cmd, "*");
    ngx_http_rtagent_store_lit(cmd, "type");
    ngx_http_rtagent_store_str(cmd, type);
    ngx_http_rtagent_store_lit(cmd, "call_id");
    ngx_http_rtagent_store_str(cmd, id);
    ngx_http_rtagent_store_lit(cmd, "ts");
    ngx_http_rtagent_store_num(cmd, ngx_http_rtagent_now_ms());
    ngx_http_rtagent_store_lit(cmd, "data");
    ngx_http_rtagent_store_str(cmd, data);
}


/* a stateless XADD */

static ngx_int_t
ngx_http_rtagent_store_xadd(ngx_str_t *id, ngx_str_t *type, ngx_str_t *data)
{
    ngx_http_rtagent_store_cmd_t  cmd;

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_xadd_cmd(&cmd, id, type, data);

    return ngx_http_rtagent_store_write(id, cmd.argc, cmd.argv, cmd.len,
                                        NULL, NULL);
}


/* control ---------------------------------------------------------------- */

/*
 * A message on the call's channel, or (message NULL) the subscription is
 * in place, again after a reconnect: what was sent while it was not waits
 * in :ctlq.  The drain goes on the command connection after the
 * subscription was confirmed, so a message sent since comes by PUBLISH,
 * and one sent before is in the list: none falls between the two.
 */

static void
ngx_http_rtagent_store_ctl_message(void *data, ngx_str_t *channel,
    ngx_str_t *message)
{
    ngx_http_rtagent_store_call_t  *sc = data;
    ngx_http_rtagent_store_cmd_t    cmd;

    if (sc->ctl == NULL) {
        return;
    }

    if (message) {
        ngx_http_rtagent_store_ctl_take(sc, message, "on the channel");
        return;
    }

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_lit(&cmd, "LRANGE");
    ngx_http_rtagent_store_str(&cmd, &sc->ctlq);
    ngx_http_rtagent_store_lit(&cmd, "0");
    ngx_http_rtagent_store_lit(&cmd, "-1");

    ngx_http_rtagent_store_send(sc, &cmd, ngx_http_rtagent_store_ctl_drained);
}


static void
ngx_http_rtagent_store_ctl_drained(void *data, redisReply *reply)
{
    size_t                          i;
    ngx_str_t                       message;
    redisReply                     *e;
    ngx_http_rtagent_store_call_t  *sc = data;

    if (reply && reply->type == REDIS_REPLY_ARRAY) {

        if (reply->elements && sc->ctl) {
            ngx_log_error(NGX_LOG_NOTICE, sc->log, 0,
                          "rtagent store: %uz control messages waiting in "
                          "\"%V\", call:%V", reply->elements, &sc->ctlq,
                          &sc->id);
        }

        for (i = 0; i < reply->elements && sc->ctl; i++) {
            e = reply->element[i];

            if (e->type != REDIS_REPLY_STRING) {
                continue;
            }

            message.data = (u_char *) e->str;
            message.len = e->len;

            ngx_http_rtagent_store_ctl_take(sc, &message, "from the queue");
        }
    }

    sc->refs--;
    ngx_http_rtagent_store_release(sc);
}


/*
 * A control message taken: removed from :ctlq (it is handled here, once,
 * whatever it says), applied unless its id was applied already.
 */

static void
ngx_http_rtagent_store_ctl_take(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *message, const char *from)
{
    ngx_str_t                       name;
    ngx_http_rtagent_ctl_t          ctl;
    ngx_http_rtagent_ctl_msg_t      m;
    ngx_http_rtagent_ctl_msg_rc_e   rc;
    ngx_http_rtagent_store_cmd_t    cmd;
    char                            err[128];

    cmd.argc = 0;
    cmd.nnums = 0;
    ngx_http_rtagent_store_lit(&cmd, "LREM");
    ngx_http_rtagent_store_str(&cmd, &sc->ctlq);
    ngx_http_rtagent_store_lit(&cmd, "1");
    ngx_http_rtagent_store_str(&cmd, message);

    ngx_http_rtagent_store_send(sc, &cmd, NULL);

    rc = ngx_http_rtagent_ctl_msg_parse((const char *) message->data,
                                        message->len, &m, err, sizeof(err));

    if (rc != NGX_HTTP_RTAGENT_CTL_MSG_OK) {
        name.data = (u_char *) m.name.data;
        name.len = m.name.len;

        if (rc == NGX_HTTP_RTAGENT_CTL_MSG_UNKNOWN
            || rc == NGX_HTTP_RTAGENT_CTL_MSG_INCOMPLETE)
        {
            ngx_log_error(NGX_LOG_WARN, sc->log, 0,
                          "rtagent store: control action \"%V\" %s, "
                          "ignored, call:%V", &name, err, &sc->id);

        } else {
            ngx_log_error(NGX_LOG_WARN, sc->log, 0,
                          "rtagent store: malformed control message "
                          "ignored: %s, call:%V", err, &sc->id);
        }

        ngx_http_rtagent_store_ctl_refuse(sc,
                                          ngx_http_rtagent_ctl_msg_error(rc),
                                          name.len ? &name : NULL);
        ngx_http_rtagent_ctl_msg_free(&m);
        return;
    }

    if (ngx_http_rtagent_store_ctl_seen(sc, &m.id)) {
        ngx_log_error(NGX_LOG_INFO, sc->log, 0,
                      "rtagent store: control message %s %s applied "
                      "before, call:%V", m.id.data, from, &sc->id);
        ngx_http_rtagent_ctl_msg_free(&m);
        return;
    }

    ngx_memzero(&ctl, sizeof(ngx_http_rtagent_ctl_t));

    ctl.action = m.action;

#define ngx_http_rtagent_store_ctl_str(dst, src)                             \
    (dst).data = (u_char *) (src).data; (dst).len = (src).len

    ngx_http_rtagent_store_ctl_str(ctl.name, m.name);
    ngx_http_rtagent_store_ctl_str(ctl.target, m.target);
    ngx_http_rtagent_store_ctl_str(ctl.text, m.text);
    ngx_http_rtagent_store_ctl_str(ctl.outcome, m.outcome);
    ngx_http_rtagent_store_ctl_str(ctl.reason, m.reason);

#undef ngx_http_rtagent_store_ctl_str

    ngx_log_error(NGX_LOG_INFO, sc->log, 0,
                  "rtagent store: control \"%V\" %s%s%s \"%V\", call:%V",
                  &ctl.name, m.id.len ? m.id.data : "",
                  m.id.len ? " " : "", from, &sc->channel, &sc->id);

    /* the handler may end the call; sc stays until this returns */
    sc->refs++;

    sc->ctl(sc->ctl_data, &ctl);

    sc->refs--;
    ngx_http_rtagent_store_release(sc);

    ngx_http_rtagent_ctl_msg_free(&m);
}


/* whether id was taken before; remembers it if not */

static ngx_uint_t
ngx_http_rtagent_store_ctl_seen(ngx_http_rtagent_store_call_t *sc,
    ngx_http_rtagent_ctl_msg_str_t *id)
{
    ngx_uint_t  i;

    if (id->len == 0) {
        return 0;
    }

    for (i = 0; i < NGX_HTTP_RTAGENT_STORE_CTL_IDS; i++) {
        if (sc->ctl_id_len[i] == id->len
            && ngx_memcmp(sc->ctl_ids[i], id->data, id->len) == 0)
        {
            return 1;
        }
    }

    i = sc->ctl_next++ % NGX_HTTP_RTAGENT_STORE_CTL_IDS;
    ngx_memcpy(sc->ctl_ids[i], id->data, id->len);
    sc->ctl_id_len[i] = (u_char) id->len;

    return 0;
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
 * active for a day.  No reply is read any more: events waiting for their
 * once-only guard are added without it (at least once).
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

    /* the guards' replies would come too late: events go out now */
    w->exiting = 1;

    for (q = ngx_queue_head(&w->calls);
         q != ngx_queue_sentinel(&w->calls);
         q = next)
    {
        sc = ngx_queue_data(q, ngx_http_rtagent_store_call_t, queue);
        sc->refs++;

        ngx_http_rtagent_store_flush(sc, 1);

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


/*
 * -1 for a reply that is none or an error; NGX_HTTP_RTAGENT_STORE_EXITING
 * for the NULL that every write still waiting gets when the worker exits:
 * the caller then starts nothing new (no request, no write).
 */

static ngx_int_t
ngx_http_rtagent_store_no_answer(redisReply *reply)
{
    if (reply == NULL && !ngx_http_rtagent_redis_enabled()) {
        return NGX_HTTP_RTAGENT_STORE_EXITING;
    }

    return -1;
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


/* EVALSHA, or EVAL when the script has no SHA1 */

static void
ngx_http_rtagent_store_script(ngx_http_rtagent_store_cmd_t *cmd,
    ngx_str_t *lua)
{
    ngx_str_t  *sha;

    sha = ngx_http_rtagent_redis_script(lua);

    if (sha) {
        ngx_http_rtagent_store_lit(cmd, "EVALSHA");
        ngx_http_rtagent_store_str(cmd, sha);

    } else {
        ngx_http_rtagent_store_lit(cmd, "EVAL");
        ngx_http_rtagent_store_str(cmd, lua);
    }
}


