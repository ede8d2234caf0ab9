
/*
 * The built-in tools (issue 10 items 5 and 8), each a chain of steps over
 * the worker's Redis connection; keys as in DESIGN.md section 5, the
 * braces literal, and no command touches the keys of two hash slots at
 * once (each script has one key), so they stay valid under Redis Cluster.
 *
 *   verify_identity      {policy, zip}: HGETALL rtagent:policy:{<policy>},
 *                        the ZIP code compared in constant time
 *   lookup_policy        {policy}: name and vehicles, never the ZIP code
 *   create_claim         the FNOL record rtagent:claim:{<claim id>}
 *   schedule_appointment rtagent:appointment:{<id>}
 *   transfer_to_human    act TRANSFER to the agent's escalation target
 *   end_call             act END
 *
 * The caller's number is the call hash's peer_phone (written by the ACS
 * control plane); when it is known, verify_identity and create_claim keep
 * the caller's long-term profile rtagent:profile:{<number>} (no TTL): name,
 * policy, and claims, a JSON array of claim ids.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <json/ngx_http_rtagent_json.h>
#include <io/ngx_http_rtagent_redis.h>
#include <agent/ngx_http_rtagent_tools_builtin.h>


/* new ids tried when one is taken, at most */
#define NGX_HTTP_RTAGENT_TOOL_ID_TRIES      5

#define NGX_HTTP_RTAGENT_TOOL_LOCATION_MAX  1000
#define NGX_HTTP_RTAGENT_TOOL_TEXT_MAX      4000
#define NGX_HTTP_RTAGENT_TOOL_VEHICLES_MAX  50

/* the call hash lives 24 h (DESIGN.md section 5) */
#define NGX_HTTP_RTAGENT_TOOL_CALL_TTL      "86400000"


/* what create_claim and schedule_appointment write */
typedef struct {
    ngx_str_t                            policy;
    ngx_str_t                            date;
    ngx_str_t                            location;
    ngx_str_t                            description;
    ngx_str_t                            injuries;
    ngx_str_t                            vehicles;
    ngx_str_t                            period;
    ngx_str_t                            reason;
    ngx_str_t                            phone;       /* callback_phone */
    ngx_str_t                            time;        /* "09:00" */
    ngx_str_t                            spoken;      /* appointment_time */
    ngx_str_t                            created_at;
    ngx_str_t                            key;
} ngx_http_rtagent_tool_record_t;


static void ngx_http_rtagent_tool_verify(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_verify_check(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_verify_done(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_lookup_policy(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_lookup_read(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_lookup_done(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_claim(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_claim_policy(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_claim_write(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_claim_written(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_claim_done(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_appointment(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_appointment_write(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_appointment_done(
    ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_transfer(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_end(ngx_http_rtagent_tool_ctx_t *ctx);


const ngx_http_rtagent_tool_builtin_t  ngx_http_rtagent_tool_builtins[] = {
    { ngx_string("verify_identity"), ngx_http_rtagent_tool_verify },
    { ngx_string("lookup_policy"), ngx_http_rtagent_tool_lookup_policy },
    { ngx_string("create_claim"), ngx_http_rtagent_tool_claim },
    { ngx_string("schedule_appointment"), ngx_http_rtagent_tool_appointment },
    { ngx_string("transfer_to_human"), ngx_http_rtagent_tool_transfer },
    { ngx_string("end_call"), ngx_http_rtagent_tool_end },
    { ngx_null_string, NULL }
};


/*
 * A record that is new: written only if the key does not exist yet, or if
 * it holds this very write (same call_id and created_at: a write replayed
 * after a reconnect), so an id is never given twice.  KEYS[1] the record,
 * ARGV: call_id, created_at, then the field-value pairs.
 */
static ngx_str_t  ngx_http_rtagent_tool_create_lua = ngx_string(
    "local cur = redis.call('HMGET', KEYS[1], 'call_id', 'created_at') "
    "if cur[1] or cur[2] then "
        "if cur[1] == ARGV[1] and cur[2] == ARGV[2] then return 1 end "
        "return 0 "
    "end "
    "redis.call('HSET', KEYS[1], unpack(ARGV, 3)) "
    "return 1");

/*
 * The claim id appended to the profile's "claims" (a JSON array, once),
 * its policy set.  KEYS[1] the profile, ARGV: claim id, policy.
 */
static ngx_str_t  ngx_http_rtagent_tool_profile_lua = ngx_string(
    "local raw = redis.call('HGET', KEYS[1], 'claims') "
    "local ok, list = pcall(cjson.decode, raw or '[]') "
    "if not ok or type(list) ~= 'table' then list = {} end "
    "for _, c in ipairs(list) do "
        "if c == ARGV[1] then return 0 end "
    "end "
    "list[#list + 1] = ARGV[1] "
    "redis.call('HSET', KEYS[1], 'claims', cjson.encode(list), "
               "'policy', ARGV[2]) "
    "return 1");


/* ---- small checks ------------------------------------------------------ */

static ngx_uint_t
ngx_http_rtagent_tool_digits(ngx_str_t *s, size_t n)
{
    size_t  i;

    if (s->len != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (s->data[i] < '0' || s->data[i] > '9') {
            return 0;
        }
    }

    return 1;
}


/* a string argument: NGX_OK, or the tool failed naming the field */
static ngx_int_t
ngx_http_rtagent_tool_need(ngx_http_rtagent_tool_ctx_t *ctx,
    const char *name, const char *alias, ngx_str_t *value)
{
    u_char     buf[96];
    ngx_int_t  rc;

    rc = ngx_http_rtagent_tool_arg(ctx, name, value);

    if (rc == NGX_DECLINED && alias) {
        rc = ngx_http_rtagent_tool_arg(ctx, alias, value);
    }

    /* trimmed: a spoken answer may come with spaces around it */
    while (rc == NGX_OK && value->len && value->data[0] == ' ') {
        value->data++;
        value->len--;
    }

    while (rc == NGX_OK && value->len && value->data[value->len - 1] == ' ') {
        value->len--;
    }

    if (rc == NGX_OK && value->len) {
        return NGX_OK;
    }

    ngx_snprintf(buf, sizeof(buf), "%s: %s%Z", name,
                 rc == NGX_ERROR ? "not a string" : "missing");
    ngx_http_rtagent_tool_fail(ctx, (char *) buf, NGX_LOG_ERR);

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_rtagent_tool_bad(ngx_http_rtagent_tool_ctx_t *ctx, const char *why)
{
    ngx_http_rtagent_tool_fail(ctx, why, NGX_LOG_ERR);
    return NGX_ERROR;
}


/* days since 1970-01-01 of a proleptic Gregorian date */
static ngx_int_t
ngx_http_rtagent_tool_days(ngx_int_t y, ngx_int_t m, ngx_int_t d)
{
    ngx_int_t  era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


/* "YYYY-MM-DD", a real date: its day number, or NGX_ERROR */
static ngx_int_t
ngx_http_rtagent_tool_date(ngx_str_t *s)
{
    u_char     *p;
    ngx_int_t   y, m, d, mdays;

    static const ngx_int_t  days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
                                       31, 30, 31 };

    p = s->data;

    if (s->len != 10 || p[4] != '-' || p[7] != '-') {
        return NGX_ERROR;
    }

    y = ngx_atoi(p, 4);
    m = ngx_atoi(p + 5, 2);
    d = ngx_atoi(p + 8, 2);

    if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1) {
        return NGX_ERROR;
    }

    mdays = days[m - 1];

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        mdays = 29;
    }

    if (d > mdays) {
        return NGX_ERROR;
    }

    return ngx_http_rtagent_tool_days(y, m, d);
}


static ngx_int_t
ngx_http_rtagent_tool_today(void)
{
    return (ngx_int_t) (ngx_time() / 86400);
}


/* "2026-12-03T16:52:22.123Z" in the run's pool */
static ngx_int_t
ngx_http_rtagent_tool_now(ngx_http_rtagent_tool_ctx_t *ctx, ngx_str_t *out)
{
    ngx_tm_t     tm;
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    ngx_gmtime(tp->sec, &tm);

    out->data = ngx_pnalloc(ctx->pool, sizeof("2026-12-03T16:52:22.123Z"));
    if (out->data == NULL) {
        return ngx_http_rtagent_tool_bad(ctx, "out of memory");
    }

    out->len = ngx_sprintf(out->data, "%4d-%02d-%02dT%02d:%02d:%02d.%03MZ",
                           tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                           tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                           tp->msec)
               - out->data;

    return NGX_OK;
}


/*
 * prefix + the date's digits + "-" + 6 characters read aloud without
 * doubt (no 0/O, 1/I): "CLM-20261203-7K3QZP"
 */
static ngx_int_t
ngx_http_rtagent_tool_new_id(ngx_http_rtagent_tool_ctx_t *ctx,
    const char *prefix, ngx_str_t *date)
{
    u_char      *p, rnd[6];
    ngx_uint_t   i;

    static const u_char  alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return ngx_http_rtagent_tool_bad(ctx, "no random bytes");
    }

    ctx->id.data = ngx_pnalloc(ctx->pool, ngx_strlen(prefix) + 8 + 1 + 6);
    if (ctx->id.data == NULL) {
        return ngx_http_rtagent_tool_bad(ctx, "out of memory");
    }

    p = ngx_cpymem(ctx->id.data, prefix, ngx_strlen(prefix));
    p = ngx_cpymem(p, date->data, 4);
    p = ngx_cpymem(p, date->data + 5, 2);
    p = ngx_cpymem(p, date->data + 8, 2);
    *p++ = '-';

    /* 32 characters: the low 5 bits of a byte pick one without bias */
    for (i = 0; i < sizeof(rnd); i++) {
        *p++ = alphabet[rnd[i] & 0x1f];
    }

    ctx->id.len = p - ctx->id.data;

    return NGX_OK;
}


/* EVALSHA of a one-key script (EVAL when it has no SHA yet) */
static ngx_int_t
ngx_http_rtagent_tool_script(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_str_t *lua, ngx_str_t *key, ngx_str_t *args, ngx_uint_t nargs)
{
    ngx_str_t   *w, *sha;
    ngx_uint_t   i;

    w = ngx_palloc(ctx->pool, (nargs + 4) * sizeof(ngx_str_t));
    if (w == NULL) {
        return ngx_http_rtagent_tool_bad(ctx, "out of memory");
    }

    sha = ngx_http_rtagent_redis_script(lua);

    if (sha) {
        ngx_str_set(&w[0], "EVALSHA");
        w[1] = *sha;

    } else {
        ngx_str_set(&w[0], "EVAL");
        w[1] = *lua;
    }

    ngx_str_set(&w[2], "1");
    w[3] = *key;

    for (i = 0; i < nargs; i++) {
        w[4 + i] = args[i];
    }

    return ngx_http_rtagent_tool_redis_str(ctx, nargs + 4, w);
}


/*
 * HMGET rtagent:call:{<id>} peer_phone verified_policy: the caller's
 * number and the policy verify_identity verified on this call (none
 * without a call id: the step then finds one reply fewer)
 */
static ngx_int_t
ngx_http_rtagent_tool_ask_call(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t  w[4];

    if (ctx->call_id.len == 0) {
        return NGX_OK;
    }

    ngx_str_set(&w[0], "HMGET");
    ngx_str_set(&w[2], "peer_phone");
    ngx_str_set(&w[3], "verified_policy");

    if (ngx_http_rtagent_tool_key(ctx, "rtagent:call:", &ctx->call_id, &w[1])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_rtagent_tool_redis_str(ctx, 4, w);
}


/* the answer to ask_call, reply i, into ctx->caller and verified */
static void
ngx_http_rtagent_tool_call_state(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_uint_t i, ngx_str_t *verified)
{
    ngx_http_rtagent_tool_reply_t  *r;

    ngx_str_null(verified);

    if (i >= ctx->nreplies || ctx->replies[i].type != REDIS_REPLY_ARRAY
        || ctx->replies[i].nelts != 2)
    {
        return;
    }

    r = ctx->replies[i].elts;

    if (r[0].type == REDIS_REPLY_STRING) {
        ctx->caller = r[0].str;
    }

    if (r[1].type == REDIS_REPLY_STRING) {
        *verified = r[1].str;
    }
}


/*
 * The policy of a claim or a lookup: the argument, else the one verified
 * on this call; an argument other than the verified one is refused (no
 * claim on someone else's policy)
 */
static ngx_int_t
ngx_http_rtagent_tool_policy(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_str_t *policy, ngx_str_t *verified)
{
    if (policy->len == 0) {
        if (verified->len == 0) {
            return ngx_http_rtagent_tool_bad(ctx, "policy: missing");
        }

        *policy = *verified;
    }

    if (!ngx_http_rtagent_tool_digits(policy, 8)) {
        return ngx_http_rtagent_tool_bad(ctx, "policy: not 8 digits");
    }

    if (verified->len
        && (verified->len != policy->len
            || ngx_strncmp(verified->data, policy->data, policy->len) != 0))
    {
        return ngx_http_rtagent_tool_bad(ctx, "policy: not the one verified"
                                              " on this call");
    }

    return NGX_OK;
}


/* an optional string argument: NGX_OK (maybe empty), or the tool failed */
static ngx_int_t
ngx_http_rtagent_tool_may(ngx_http_rtagent_tool_ctx_t *ctx, const char *name,
    ngx_str_t *value)
{
    u_char  buf[96];

    if (ngx_http_rtagent_tool_arg(ctx, name, value) != NGX_ERROR) {
        return NGX_OK;
    }

    ngx_snprintf(buf, sizeof(buf), "%s: not a string%Z", name);

    return ngx_http_rtagent_tool_bad(ctx, (char *) buf);
}


/*
 * The create script's answer: NGX_OK when the record is written; else the
 * step is over: again() with a new id when the id was taken (up to
 * ID_TRIES), or the tool failed
 */
static ngx_int_t
ngx_http_rtagent_tool_created(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_http_rtagent_tool_step_pt again, const char *none)
{
    if (ngx_http_rtagent_tool_replied(ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ctx->replies[0].type == REDIS_REPLY_INTEGER
        && ctx->replies[0].integer == 1)
    {
        return NGX_OK;
    }

    if (ctx->attempt < NGX_HTTP_RTAGENT_TOOL_ID_TRIES) {
        again(ctx);

    } else {
        (void) ngx_http_rtagent_tool_bad(ctx, none);
    }

    return NGX_DECLINED;
}


static void
ngx_http_rtagent_tool_result(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_int_t rc)
{
    if (rc != NGX_OK) {
        ngx_http_rtagent_tool_bad(ctx, "out of memory");
        return;
    }

    ngx_http_rtagent_tool_finish(ctx, NGX_OK, &ctx->result);
}


/* ---- verify_identity --------------------------------------------------- */

static void
ngx_http_rtagent_tool_verify(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t  policy, zip, w[2];

    if (ngx_http_rtagent_tool_need(ctx, "policy", NULL, &policy) != NGX_OK
        || ngx_http_rtagent_tool_need(ctx, "zip", NULL, &zip) != NGX_OK)
    {
        return;
    }

    if (!ngx_http_rtagent_tool_digits(&policy, 8)) {
        (void) ngx_http_rtagent_tool_bad(ctx, "policy: not 8 digits");
        return;
    }

    if (!ngx_http_rtagent_tool_digits(&zip, 5)) {
        (void) ngx_http_rtagent_tool_bad(ctx, "zip: not 5 digits");
        return;
    }

    ctx->id = zip;

    ngx_str_set(&w[0], "HGETALL");

    if (ngx_http_rtagent_tool_key(ctx, "rtagent:policy:", &policy, &w[1])
        != NGX_OK)
    {
        return;
    }

    ctx->next = ngx_http_rtagent_tool_verify_check;

    if (ngx_http_rtagent_tool_redis_str(ctx, 2, w) != NGX_OK) {
        return;
    }

    (void) ngx_http_rtagent_tool_ask_call(ctx);
}


static void
ngx_http_rtagent_tool_verify_check(ngx_http_rtagent_tool_ctx_t *ctx)
{
    u_char      *space;
    ngx_str_t    zip, first, verified, *stored, *name, *policy, w[6];
    ngx_uint_t   match;

    static u_char  none[5] = "?????";

    if (ngx_http_rtagent_tool_replied(ctx) != NGX_OK) {
        return;
    }

    zip = ctx->id;

    /* the same work for an unknown policy as for a wrong ZIP code */
    stored = ngx_http_rtagent_tool_field(&ctx->replies[0], "zip");
    match = CRYPTO_memcmp(stored && stored->len == 5 ? stored->data : none,
                          zip.data, 5) == 0
            && stored && stored->len == 5;

    name = ngx_http_rtagent_tool_field(&ctx->replies[0], "name");
    policy = ngx_http_rtagent_tool_field(&ctx->replies[0], "policy");

    if (!match || name == NULL || policy == NULL) {
        /* never which of the two was wrong */
        ngx_http_rtagent_tool_fail(ctx, "no match", NGX_LOG_NOTICE);
        return;
    }

    first = *name;
    space = ngx_strlchr(name->data, name->data + name->len, ' ');
    if (space) {
        first.len = space - name->data;
    }

    ngx_http_rtagent_tool_call_state(ctx, 1, &verified);

    if (ngx_http_rtagent_json_object(ctx->pool, &ctx->result,
                                     "verified", &(ngx_str_t)
                                                 ngx_string("yes"),
                                     "name", name, "first_name", &first,
                                     "policy", policy, NULL)
        != NGX_OK)
    {
        (void) ngx_http_rtagent_tool_bad(ctx, "out of memory");
        return;
    }

    ctx->next = ngx_http_rtagent_tool_verify_done;

    /* the call remembers whose policy it verified (create_claim's) */

    if (ctx->call_id.len) {
        ngx_str_set(&w[0], "HSET");
        ngx_str_set(&w[2], "verified_policy");
        w[3] = *policy;

        if (ngx_http_rtagent_tool_key(ctx, "rtagent:call:", &ctx->call_id,
                                      &w[1])
            != NGX_OK
            || ngx_http_rtagent_tool_redis_str(ctx, 4, w) != NGX_OK)
        {
            return;
        }

        ngx_str_set(&w[0], "PEXPIRE");
        ngx_str_set(&w[2], NGX_HTTP_RTAGENT_TOOL_CALL_TTL);

        if (ngx_http_rtagent_tool_redis_str(ctx, 3, w) != NGX_OK) {
            return;
        }
    }

    /* the long-term profile of the number the caller called from */

    if (ctx->caller.len == 0) {
        return;
    }

    ngx_str_set(&w[0], "HSET");
    ngx_str_set(&w[2], "name");
    w[3] = *name;
    ngx_str_set(&w[4], "policy");
    w[5] = *policy;

    if (ngx_http_rtagent_tool_key(ctx, "rtagent:profile:", &ctx->caller,
                                  &w[1])
        != NGX_OK)
    {
        return;
    }

    (void) ngx_http_rtagent_tool_redis_str(ctx, 6, w);
}


static void
ngx_http_rtagent_tool_verify_done(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_uint_t  i;

    for (i = 0; i < ctx->nreplies; i++) {
        if (ctx->replies[i].type != REDIS_REPLY_INTEGER) {
            /* the caller is verified all the same */
            ngx_log_error(NGX_LOG_WARN, ctx->log, 0,
                          "rtagent tool: verify_identity: the call or the"
                          " profile was not updated, call:%V",
                          &ctx->call_id);
            break;
        }
    }

    ngx_http_rtagent_tool_finish(ctx, NGX_OK, &ctx->result);
}


/* ---- lookup_policy ----------------------------------------------------- */

static void
ngx_http_rtagent_tool_lookup_policy(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t  *policy;

    policy = ngx_pcalloc(ctx->pool, sizeof(ngx_str_t));
    if (policy == NULL) {
        (void) ngx_http_rtagent_tool_bad(ctx, "out of memory");
        return;
    }

    ctx->data = policy;

    if (ngx_http_rtagent_tool_may(ctx, "policy", policy) != NGX_OK) {
        return;
    }

    ctx->next = ngx_http_rtagent_tool_lookup_read;
    (void) ngx_http_rtagent_tool_ask_call(ctx);
}


static void
ngx_http_rtagent_tool_lookup_read(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t   verified, w[2], *policy = ctx->data;

    if (ngx_http_rtagent_tool_replied(ctx) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_tool_call_state(ctx, 0, &verified);

    if (ngx_http_rtagent_tool_policy(ctx, policy, &verified) != NGX_OK) {
        return;
    }

    ngx_str_set(&w[0], "HGETALL");

    if (ngx_http_rtagent_tool_key(ctx, "rtagent:policy:", policy, &w[1])
        != NGX_OK)
    {
        return;
    }

    ctx->next = ngx_http_rtagent_tool_lookup_done;
    (void) ngx_http_rtagent_tool_redis_str(ctx, 2, w);
}


static void
ngx_http_rtagent_tool_lookup_done(ngx_http_rtagent_tool_ctx_t *ctx)
{
    size_t                        i, n;
    yajl_val                      list, v;
    ngx_str_t                    *name, *policy, *vehicles;
    ngx_http_rtagent_json_out_t   j;

    if (ngx_http_rtagent_tool_replied(ctx) != NGX_OK) {
        return;
    }

    name = ngx_http_rtagent_tool_field(&ctx->replies[0], "name");
    policy = ngx_http_rtagent_tool_field(&ctx->replies[0], "policy");
    vehicles = ngx_http_rtagent_tool_field(&ctx->replies[0], "vehicles");

    if (name == NULL || policy == NULL) {
        (void) ngx_http_rtagent_tool_bad(ctx, "no such policy");
        return;
    }

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        (void) ngx_http_rtagent_tool_bad(ctx, "out of memory");
        return;
    }

    ngx_http_rtagent_json_out_str(&j, "policy", policy->data, policy->len);
    ngx_http_rtagent_json_out_str(&j, "name", name->data, name->len);

    /* stored as a JSON array of strings (the registry's) */
    list = vehicles ? ngx_http_rtagent_json_parse((char *) vehicles->data,
                                                  vehicles->len, 2,
                                                  NGX_HTTP_RTAGENT_JSON_TERSE,
                                                  NULL, 0)
                    : NULL;
    n = 0;

    ngx_http_rtagent_json_out_array(&j, "vehicles");

    if (list && YAJL_IS_ARRAY(list)) {
        for (i = 0; i < list->u.array.len; i++) {
            v = list->u.array.values[i];

            if (YAJL_IS_STRING(v)) {
                ngx_http_rtagent_json_out_cstr(&j, NULL, v->u.string);
                n++;
            }
        }
    }

    ngx_http_rtagent_json_out_array_close(&j);
    ngx_http_rtagent_json_out_int(&j, "vehicle_count", n);

    if (list) {
        yajl_tree_free(list);
    }

    ngx_http_rtagent_tool_result(ctx,
        ngx_http_rtagent_json_out_done(&j, ctx->pool, &ctx->result));
}


/* ---- create_claim ------------------------------------------------------ */

static void
ngx_http_rtagent_tool_claim(ngx_http_rtagent_tool_ctx_t *ctx)
{
    u_char                          *p;
    yajl_val                         v;
    ngx_int_t                        n, day;
    ngx_http_rtagent_tool_record_t  *c;

    c = ngx_pcalloc(ctx->pool, sizeof(ngx_http_rtagent_tool_record_t));
    if (c == NULL) {
        (void) ngx_http_rtagent_tool_bad(ctx, "out of memory");
        return;
    }

    ctx->data = c;

    /* the local engine's slot names (when, where, what) work too */

    if (ngx_http_rtagent_tool_may(ctx, "policy", &c->policy) != NGX_OK
        || ngx_http_rtagent_tool_need(ctx, "date", "when", &c->date) != NGX_OK
        || ngx_http_rtagent_tool_need(ctx, "location", "where", &c->location)
           != NGX_OK
        || ngx_http_rtagent_tool_need(ctx, "description", "what",
                                      &c->description)
           != NGX_OK)
    {
        return;
    }

    if (c->policy.len && !ngx_http_rtagent_tool_digits(&c->policy, 8)) {
        (void) ngx_http_rtagent_tool_bad(ctx, "policy: not 8 digits");
        return;
    }

    day = ngx_http_rtagent_tool_date(&c->date);

    if (day == NGX_ERROR) {
        (void) ngx_http_rtagent_tool_bad(ctx, "date: not a date (YYYY-MM-DD)");
        return;
    }

    /* a day of slack for the caller's time zone */
    if (day > ngx_http_rtagent_tool_today() + 1) {
        (void) ngx_http_rtagent_tool_bad(ctx, "date: in the future");
        return;
    }

    if (c->location.len > NGX_HTTP_RTAGENT_TOOL_LOCATION_MAX) {
        (void) ngx_http_rtagent_tool_bad(ctx, "location: too long");
        return;
    }

    if (c->description.len > NGX_HTTP_RTAGENT_TOOL_TEXT_MAX) {
        (void) ngx_http_rtagent_tool_bad(ctx, "description: too long");
        return;
    }

    /* injuries: "yes" or "no" (any case), or a JSON boolean */

    v = ctx->args ? ngx_http_rtagent_json_get(ctx->args, "injuries", NULL)
                  : NULL;

    if (v && YAJL_IS_TRUE(v)) {
        ngx_str_set(&c->injuries, "yes");

    } else if (v && YAJL_IS_FALSE(v)) {
        ngx_str_set(&c->injuries, "no");

    } else if (v && YAJL_IS_STRING(v)
               && ngx_strcasecmp((u_char *) YAJL_GET_STRING(v),
                                 (u_char *) "yes") == 0)
    {
        ngx_str_set(&c->injuries, "yes");

    } else if (v && YAJL_IS_STRING(v)
               && ngx_strcasecmp((u_char *) YAJL_GET_STRING(v),
                                 (u_char *) "no") == 0)
    {
        ngx_str_set(&c->injuries, "no");

    } else {
        (void) ngx_http_rtagent_tool_bad(ctx, v ? "injuries: not yes or no"
                                                : "injuries: missing");
        return;
    }

    /* vehicles: an integer, or a string of digits (a slot's value) */

    v = ctx->args ? ngx_http_rtagent_json_get(ctx->args, "vehicles", NULL)
                  : NULL;
    n = NGX_ERROR;

    if (v && YAJL_IS_INTEGER(v)) {
        n = (YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > 1000)
            ? NGX_ERROR : (ngx_int_t) YAJL_GET_INTEGER(v);

    } else if (v && YAJL_IS_STRING(v)) {
        p = (u_char *) YAJL_GET_STRING(v);
        n = ngx_strlen(p) && ngx_strlen(p) <= 3 ? ngx_atoi(p, ngx_strlen(p))
                                                : NGX_ERROR;
    }

    if (n == NGX_ERROR || n < 1 || n > NGX_HTTP_RTAGENT_TOOL_VEHICLES_MAX) {
        (void) ngx_http_rtagent_tool_bad(ctx, v ? "vehicles: not an integer"
                                                  " from 1 to 50"
                                                : "vehicles: missing");
        return;
    }

    c->vehicles.data = ngx_pnalloc(ctx->pool, NGX_INT_T_LEN);
    if (c->vehicles.data == NULL) {
        (void) ngx_http_rtagent_tool_bad(ctx, "out of memory");
        return;
    }

    c->vehicles.len = ngx_sprintf(c->vehicles.data, "%i", n)
                      - c->vehicles.data;

    /* whose number is this, and which policy did the call verify */

    ctx->next = ngx_http_rtagent_tool_claim_policy;
    (void) ngx_http_rtagent_tool_ask_call(ctx);
}


static void
ngx_http_rtagent_tool_claim_policy(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t                        verified, w[2];
    ngx_http_rtagent_tool_record_t  *c = ctx->data;

    if (ngx_http_rtagent_tool_replied(ctx) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_tool_call_state(ctx, 0, &verified);

    if (ngx_http_rtagent_tool_policy(ctx, &c->policy, &verified) != NGX_OK) {
        return;
    }

    /* the policy must exist */

    ngx_str_set(&w[0], "EXISTS");

    if (ngx_http_rtagent_tool_key(ctx, "rtagent:policy:", &c->policy, &w[1])
        != NGX_OK)
    {
        return;
    }

    ctx->next = ngx_http_rtagent_tool_claim_write;
    (void) ngx_http_rtagent_tool_redis_str(ctx, 2, w);
}


static void
ngx_http_rtagent_tool_claim_write(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t                        a[20];
    ngx_http_rtagent_tool_record_t  *c = ctx->data;

    if (ctx->attempt == 0) {
        if (ngx_http_rtagent_tool_replied(ctx) != NGX_OK) {
            return;
        }

        if (ctx->replies[0].type != REDIS_REPLY_INTEGER
            || ctx->replies[0].integer != 1)
        {
            (void) ngx_http_rtagent_tool_bad(ctx, "policy: no such policy");
            return;
        }

        if (ngx_http_rtagent_tool_now(ctx, &c->created_at) != NGX_OK) {
            return;
        }
    }

    ctx->attempt++;

    if (ngx_http_rtagent_tool_new_id(ctx, "CLM-", &c->created_at) != NGX_OK
        || ngx_http_rtagent_tool_key(ctx, "rtagent:claim:", &ctx->id, &c->key)
           != NGX_OK)
    {
        return;
    }

    a[0] = ctx->call_id;
    a[1] = c->created_at;
    ngx_str_set(&a[2], "claim_id");
    a[3] = ctx->id;
    ngx_str_set(&a[4], "policy");
    a[5] = c->policy;
    ngx_str_set(&a[6], "call_id");
    a[7] = ctx->call_id;
    ngx_str_set(&a[8], "date");
    a[9] = c->date;
    ngx_str_set(&a[10], "location");
    a[11] = c->location;
    ngx_str_set(&a[12], "description");
    a[13] = c->description;
    ngx_str_set(&a[14], "injuries");
    a[15] = c->injuries;
    ngx_str_set(&a[16], "vehicles");
    a[17] = c->vehicles;
    ngx_str_set(&a[18], "created_at");
    a[19] = c->created_at;

    ctx->next = ngx_http_rtagent_tool_claim_written;

    (void) ngx_http_rtagent_tool_script(ctx, &ngx_http_rtagent_tool_create_lua,
                                        &c->key, a, 20);
}


static void
ngx_http_rtagent_tool_claim_written(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t                        w[5], a[2];
    ngx_http_rtagent_tool_record_t  *c = ctx->data;

    if (ngx_http_rtagent_tool_created(ctx, ngx_http_rtagent_tool_claim_write,
                                      "no free claim id")
        != NGX_OK)
    {
        return;
    }

    if (ngx_http_rtagent_json_object(ctx->pool, &ctx->result,
                                     "claim_id", &ctx->id,
                                     "created_at", &c->created_at, NULL)
        != NGX_OK)
    {
        (void) ngx_http_rtagent_tool_bad(ctx, "out of memory");
        return;
    }

    ctx->next = ngx_http_rtagent_tool_claim_done;

    /* the call's hash says which claim the call filed */

    if (ctx->call_id.len) {
        ngx_str_set(&w[0], "HSET");
        ngx_str_set(&w[2], "claim_id");
        w[3] = ctx->id;

        if (ngx_http_rtagent_tool_key(ctx, "rtagent:call:", &ctx->call_id,
                                      &w[1])
            != NGX_OK
            || ngx_http_rtagent_tool_redis_str(ctx, 4, w) != NGX_OK)
        {
            return;
        }

        ngx_str_set(&w[0], "PEXPIRE");
        ngx_str_set(&w[2], NGX_HTTP_RTAGENT_TOOL_CALL_TTL);

        if (ngx_http_rtagent_tool_redis_str(ctx, 3, w) != NGX_OK) {
            return;
        }
    }

    /* and the caller's profile, its past claims */

    if (ctx->caller.len) {
        a[0] = ctx->id;
        a[1] = c->policy;

        if (ngx_http_rtagent_tool_key(ctx, "rtagent:profile:", &ctx->caller,
                                      &w[4])
            != NGX_OK)
        {
            return;
        }

        (void) ngx_http_rtagent_tool_script(ctx,
                                            &ngx_http_rtagent_tool_profile_lua,
                                            &w[4], a, 2);
    }

    /* with neither, claim_done follows at once (tool_advance) */
}


static void
ngx_http_rtagent_tool_claim_done(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_uint_t  i;

    for (i = 0; i < ctx->nreplies; i++) {
        if (ctx->replies[i].type == -1
            || ctx->replies[i].type == REDIS_REPLY_ERROR)
        {
            /* the claim is filed: the caller hears its id all the same */
            ngx_log_error(NGX_LOG_WARN, ctx->log, 0,
                          "rtagent tool: create_claim: claim %V filed, but"
                          " the call or the profile was not updated (%s),"
                          " call:%V", &ctx->id,
                          ctx->replies[i].type == -1
                          ? "no answer" : (char *) ctx->replies[i].str.data,
                          &ctx->call_id);
            break;
        }
    }

    ngx_http_rtagent_tool_finish(ctx, NGX_OK, &ctx->result);
}


/* ---- schedule_appointment ---------------------------------------------- */

static void
ngx_http_rtagent_tool_appointment(ngx_http_rtagent_tool_ctx_t *ctx)
{
    u_char                          *p;
    ngx_int_t                        day, wday, m, d;
    ngx_uint_t                       i;
    ngx_http_rtagent_tool_record_t  *a;

    static const char  *weekdays[] = { "Thursday", "Friday", "Saturday",
                                       "Sunday", "Monday", "Tuesday",
                                       "Wednesday" };
    static const char  *months[] = { "January", "February", "March",
                                     "April", "May", "June", "July",
                                     "August", "September", "October",
                                     "November", "December" };
    static const struct {
        const char  *period;
        const char  *time;
        const char  *spoken;
    } slots[] = {
        { "morning", "09:00", "9:00 in the morning" },
        { "afternoon", "14:00", "2:00 in the afternoon" },
        { "evening", "18:00", "6:00 in the evening" }
    };

    a = ngx_pcalloc(ctx->pool, sizeof(ngx_http_rtagent_tool_record_t));
    if (a == NULL) {
        (void) ngx_http_rtagent_tool_bad(ctx, "out of memory");
        return;
    }

    ctx->data = a;

    /* a legal callback names its day callback_date and its reason matter */

    if (ngx_http_rtagent_tool_need(ctx, "date", "callback_date", &a->date)
        != NGX_OK
        || ngx_http_rtagent_tool_need(ctx, "reason", "matter", &a->reason)
           != NGX_OK)
    {
        return;
    }

    day = ngx_http_rtagent_tool_date(&a->date);

    if (day == NGX_ERROR) {
        (void) ngx_http_rtagent_tool_bad(ctx, "date: not a date (YYYY-MM-DD)");
        return;
    }

    if (day < ngx_http_rtagent_tool_today()) {
        (void) ngx_http_rtagent_tool_bad(ctx, "date: in the past");
        return;
    }

    if (a->reason.len > NGX_HTTP_RTAGENT_TOOL_LOCATION_MAX) {
        (void) ngx_http_rtagent_tool_bad(ctx, "reason: too long");
        return;
    }

    if (ngx_http_rtagent_tool_arg(ctx, "period", &a->period) != NGX_OK) {
        ngx_str_set(&a->period, "morning");
    }

    /* a callback: the number to call, digits (a slot's value) */

    if (ngx_http_rtagent_tool_may(ctx, "callback_phone", &a->phone) != NGX_OK)
    {
        return;
    }

    if (a->phone.len
        && (a->phone.len < 7 || a->phone.len > 15
            || !ngx_http_rtagent_tool_digits(&a->phone, a->phone.len)))
    {
        (void) ngx_http_rtagent_tool_bad(ctx, "callback_phone: not 7 to 15"
                                              " digits");
        return;
    }

    for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        if (a->period.len == ngx_strlen(slots[i].period)
            && ngx_strncasecmp(a->period.data, (u_char *) slots[i].period,
                               a->period.len) == 0)
        {
            break;
        }
    }

    if (i == sizeof(slots) / sizeof(slots[0])) {
        (void) ngx_http_rtagent_tool_bad(ctx, "period: not morning,"
                                              " afternoon or evening");
        return;
    }

    a->period.data = (u_char *) slots[i].period;
    a->period.len = ngx_strlen(slots[i].period);
    a->time.data = (u_char *) slots[i].time;
    a->time.len = 5;

    /* "Monday, December 7 at 9:00 in the morning" */

    m = ngx_atoi(a->date.data + 5, 2);
    d = ngx_atoi(a->date.data + 8, 2);
    wday = day % 7;

    if (wday < 0) {
        wday += 7;
    }

    a->spoken.data = ngx_pnalloc(ctx->pool, 64);
    if (a->spoken.data == NULL) {
        (void) ngx_http_rtagent_tool_bad(ctx, "out of memory");
        return;
    }

    p = ngx_snprintf(a->spoken.data, 64, "%s, %s %i at %s", weekdays[wday],
                     months[m - 1], d, slots[i].spoken);
    a->spoken.len = p - a->spoken.data;

    if (ngx_http_rtagent_tool_now(ctx, &a->created_at) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_tool_appointment_write(ctx);
}


static void
ngx_http_rtagent_tool_appointment_write(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_uint_t                       n;
    ngx_str_t                        w[20];
    ngx_http_rtagent_tool_record_t  *a = ctx->data;

    ctx->attempt++;

    if (ngx_http_rtagent_tool_new_id(ctx, "APT-", &a->date) != NGX_OK
        || ngx_http_rtagent_tool_key(ctx, "rtagent:appointment:", &ctx->id,
                                     &a->key)
           != NGX_OK)
    {
        return;
    }

    w[0] = ctx->call_id;
    w[1] = a->created_at;
    ngx_str_set(&w[2], "appointment_id");
    w[3] = ctx->id;
    ngx_str_set(&w[4], "call_id");
    w[5] = ctx->call_id;
    ngx_str_set(&w[6], "date");
    w[7] = a->date;
    ngx_str_set(&w[8], "period");
    w[9] = a->period;
    ngx_str_set(&w[10], "time");
    w[11] = a->time;
    ngx_str_set(&w[12], "reason");
    w[13] = a->reason;
    ngx_str_set(&w[14], "appointment_time");
    w[15] = a->spoken;
    ngx_str_set(&w[16], "created_at");
    w[17] = a->created_at;
    n = 18;

    if (a->phone.len) {
        ngx_str_set(&w[n], "callback_phone");
        n++;
        w[n++] = a->phone;
    }

    ctx->next = ngx_http_rtagent_tool_appointment_done;

    (void) ngx_http_rtagent_tool_script(ctx, &ngx_http_rtagent_tool_create_lua,
                                        &a->key, w, n);
}


static void
ngx_http_rtagent_tool_appointment_done(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_http_rtagent_tool_record_t  *a = ctx->data;

    if (ngx_http_rtagent_tool_created(ctx,
                                      ngx_http_rtagent_tool_appointment_write,
                                      "no free appointment id")
        != NGX_OK)
    {
        return;
    }

    ngx_http_rtagent_tool_result(ctx,
        ngx_http_rtagent_json_object(ctx->pool, &ctx->result,
                                     "appointment_id", &ctx->id,
                                     "appointment_time", &a->spoken,
                                     "date", &a->date, "time", &a->time,
                                     "period", &a->period, NULL));
}


/* ---- transfer_to_human, end_call -------------------------------------- */

static void
ngx_http_rtagent_tool_transfer(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t                      target;
    ngx_http_rtagent_tool_call_t  *tc = ctx->tc;

    ngx_http_rtagent_tool_target(ctx, &target);

    if (target.len == 0) {
        (void) ngx_http_rtagent_tool_bad(ctx, "the agent has no escalation"
                                              " target");
        return;
    }

    tc->act = NGX_HTTP_RTAGENT_TOOL_ACT_TRANSFER;
    tc->target = target;

    ngx_http_rtagent_tool_result(ctx,
        ngx_http_rtagent_json_object(ctx->pool, &ctx->result,
                                     "transfer", &(ngx_str_t)
                                                 ngx_string("yes"),
                                     "target", &target, NULL));
}


static void
ngx_http_rtagent_tool_end(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ctx->tc->act = NGX_HTTP_RTAGENT_TOOL_ACT_END;

    ngx_str_set(&ctx->result, "{\"end\":\"yes\"}");
    ngx_http_rtagent_tool_finish(ctx, NGX_OK, &ctx->result);
}
