
/*
 * One simulated call, in its own thread, as ACS plays it (PROTOCOLS.md
 * 1-3): the Event Grid IncomingCall to the gateway's events endpoint, the
 * wait for its answer on the REST endpoint (rc_acs.c), CallConnected to
 * the answer's callbackUri, the media WebSocket at its transportUrl
 * (AudioMetadata, then one AudioData per 20 ms, the caller's turns between
 * silences), and CallDisconnected at the end.  Then the conversation is
 * read from the call's transcript in Redis.
 */


#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#include "rc.h"
#include "rc_wav.h"
#include "ngx_http_rtagent_json.h"
#include "ngx_http_rtagent_wav.h"


#define RC_WS_GUID        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define RC_VOICE_LEVEL    64      /* mean |sample| of an agent frame heard */
#define RC_CLOSE_WAIT     2000    /* ms for the gateway to close the media */


typedef struct {
    rc_call_t                *call;
    int                       fd;
    uint8_t                  *pre;        /* read with the handshake */
    size_t                    pre_len;
    size_t                    pre_off;
    wslay_event_context_ptr   ctx;
    unsigned                  rate;

    int16_t                  *agent;      /* the agent's audio */
    size_t                    agent_len;
    size_t                    agent_size;
    double                    reply_first;   /* 0: none since the mark */
    double                    last_voice;
    double                    await_since;   /* a turn ended: latency */
    double                    barge_onset;   /* a turn talks over the agent */
    int                       closed;
    int                       close_sent;
    unsigned                  close_code;
} rc_ws_t;


static int rc_wait(rc_call_t *call, long ms, int answer);
static int rc_post(rc_call_t *call, const char *url, const char *body,
    struct curl_slist *headers, const char *what);
static int rc_incoming(rc_call_t *call);
static int rc_callback(rc_call_t *call, const char *type, const char *data);
static int rc_ws_open(rc_ws_t *ws, const char *url);
static int rc_media(rc_ws_t *ws);
static void rc_ws_close(rc_ws_t *ws, unsigned code, const char *reason);
static void rc_report(rc_call_t *call);
static void rc_fail(rc_call_t *call, const char *fmt, ...);
static void rc_appendf(char **s, const char *fmt, ...);
static void rc_time_iso(char *out, size_t len);


void *
rc_call_run(void *data)
{
    rc_call_t       *call = data;
    rc_sim_t        *sim = call->sim;
    rc_opts_t       *o = sim->opts;

    int              rc, ok, hung, moved;
    char             reason[256];
    unsigned         bad;
    rc_ws_t          ws;
    double           start, deadline;

    start = rc_now_ms();

    if (rc_incoming(call) != 0) {
        rc_report(call);
        return NULL;
    }

    /* the gateway answers through the REST endpoint */
    ok = rc_wait(call, o->answer_timeout, 1);

    pthread_mutex_lock(&sim->lock);
    bad = sim->bad_signatures;
    pthread_mutex_unlock(&sim->lock);

    if (!ok && bad) {
        rc_fail(call, "no answer within %ld ms: the gateway's ACS requests "
                "were refused for their signature (is its access key this "
                "simulator's --connection-string?)", o->answer_timeout);

    } else if (!ok) {
        rc_fail(call, "no answer within %ld ms (is rtagent_acs_connection_"
                "string's endpoint this simulator's, %.*s?)",
                o->answer_timeout, (int) sim->account.endpoint_len,
                sim->account.endpoint);
    }

    if (!ok) {
        rc_report(call);
        return NULL;
    }

    if (o->verbose) {
        fprintf(stderr, "rtagent-call: call %s answered after %.0f ms, "
                "media %s at %u Hz\n", call->id, call->answered_at - start,
                call->transport_url, call->sample_rate);
    }

    if (rc_callback(call, "CallConnected",
                    "\"resultInformation\":{\"code\":200,\"subCode\":0,"
                    "\"message\":\"\"}")
        != 0)
    {
        rc_report(call);
        return NULL;
    }

    memset(&ws, 0, sizeof(rc_ws_t));
    ws.call = call;
    ws.fd = -1;
    ws.rate = call->sample_rate;

    if (rc_ws_open(&ws, call->transport_url) != 0) {
        rc_callback(call, "CallDisconnected", NULL);
        rc_report(call);
        return NULL;
    }

    rc = rc_media(&ws);

    pthread_mutex_lock(&sim->lock);
    hung = call->hung_up;
    moved = call->transferred;
    pthread_mutex_unlock(&sim->lock);

    /* the caller, or ACS on the gateway's behalf, ends the call */
    if (moved) {
        rc_callback(call, "CallTransferAccepted", NULL);
    }

    snprintf(reason, sizeof(reason),
             "\"resultInformation\":{\"code\":200,\"subCode\":%d,"
             "\"message\":\"%s\"}",
             hung ? 5001 : 7000,
             hung ? "This conversation has ended."
                  : "The conversation has ended. DiagCode: 0#7000.@");
    rc_callback(call, "CallDisconnected", reason);

    /* the gateway closes the media stream on CallDisconnected */
    deadline = rc_now_ms() + RC_CLOSE_WAIT;

    while (!ws.closed && rc_now_ms() < deadline) {
        struct pollfd  p = { ws.fd, POLLIN, 0 };

        if (wslay_event_want_write(ws.ctx)) {
            p.events |= POLLOUT;
        }

        if (poll(&p, 1, 50) > 0) {
            if ((p.revents & (POLLIN | POLLHUP | POLLERR))
                && wslay_event_recv(ws.ctx) != 0)
            {
                ws.closed = 1;
            }

            if ((p.revents & POLLOUT) && wslay_event_send(ws.ctx) != 0) {
                ws.closed = 1;
            }
        }

        if (wslay_event_get_close_received(ws.ctx)) {
            ws.closed = 1;
        }
    }

    if (!ws.closed) {
        rc_ws_close(&ws, 1000, "call ended");
    }

    /* the close frame, if the socket takes it soon */
    deadline = rc_now_ms() + 500;

    while (wslay_event_want_write(ws.ctx) && rc_now_ms() < deadline) {
        struct pollfd  p = { ws.fd, POLLOUT, 0 };

        if (poll(&p, 1, 50) == 1 && wslay_event_send(ws.ctx) != 0) {
            break;
        }
    }

    wslay_event_context_free(ws.ctx);
    close(ws.fd);
    free(ws.pre);

    call->agent_samples = ws.agent_len;

    if (call->index == 1 && o->out) {
        uint8_t  head[NGX_HTTP_RTAGENT_WAV_HEADER];
        FILE    *f = fopen(o->out, "wb");

        if (f == NULL
            || ngx_http_rtagent_wav_header(head, ws.rate, ws.agent_len * 2)
               == 0
            || fwrite(head, sizeof(head), 1, f) != 1
            || (ws.agent_len
                && fwrite(ws.agent, ws.agent_len * 2, 1, f) != 1))
        {
            fprintf(stderr, "rtagent-call: cannot write %s: %s\n", o->out,
                    strerror(errno));
        }

        if (f) {
            fclose(f);
        }
    }

    free(ws.agent);

    if (rc == 0 && ws.agent_len == 0) {
        rc_fail(call, "no agent audio in the whole call");
    }

    rc_report(call);

    return NULL;
}


/*
 * Waits at most ms for the gateway to answer the call (answer 1), or to
 * hang it up or transfer it (answer 0); 1 when it has.
 */

static int
rc_wait(rc_call_t *call, long ms, int answer)
{
    int              done;
    rc_sim_t        *sim = call->sim;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;

    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }

    pthread_mutex_lock(&sim->lock);

    for ( ;; ) {
        done = answer ? call->answered : call->hung_up || call->transferred;

        if (done || pthread_cond_timedwait(&sim->cond, &sim->lock, &ts) != 0)
        {
            break;
        }
    }

    done = answer ? call->answered : call->hung_up || call->transferred;
    pthread_mutex_unlock(&sim->lock);

    return done;
}


/* ---------------------------------------------------------------- HTTP */


static size_t
rc_discard(char *p, size_t size, size_t n, void *data)
{
    return size * n;
}


static int
rc_post(rc_call_t *call, const char *url, const char *body,
    struct curl_slist *headers, const char *what)
{
    long       status;
    CURL      *h;
    CURLcode   rc;
    char       err[CURL_ERROR_SIZE];

    h = curl_easy_init();

    if (h == NULL) {
        rc_fail(call, "%s: out of memory", what);
        return -1;
    }

    err[0] = '\0';
    headers = curl_slist_append(headers,
                                "Content-Type: application/json; "
                                "charset=utf-8");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, rc_discard);

    rc = curl_easy_perform(h);
    status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);

    if (rc != CURLE_OK) {
        rc_fail(call, "%s to %s: %s", what, url,
                err[0] ? err : curl_easy_strerror(rc));
        return -1;
    }

    if (status != 200) {
        rc_fail(call, "%s to %s: HTTP %ld", what, url, status);
        return -1;
    }

    return 0;
}


/* the Event Grid delivery of Microsoft.Communication.IncomingCall */

static int
rc_incoming(rc_call_t *call)
{
    int                 rc;
    char                id[40], now[40], *body, *url, key[300];
    rc_opts_t          *o = call->sim->opts;
    struct curl_slist  *h;

    rc_uuid(id);
    rc_time_iso(now, sizeof(now));

    body = NULL;
    rc_appendf(&body,
        "[{\"id\":\"%s\",\"topic\":\"/subscriptions/00000000-0000-0000-0000-"
        "000000000000/resourcegroups/rtagent/providers/microsoft."
        "communication/communicationservices/rtagent-call\","
        "\"subject\":\"/caller/4:%s/recipient/4:%s\","
        "\"data\":{\"to\":{\"kind\":\"phoneNumber\",\"rawId\":\"4:%s\","
        "\"phoneNumber\":{\"value\":\"%s\"}},"
        "\"from\":{\"kind\":\"phoneNumber\",\"rawId\":\"4:%s\","
        "\"phoneNumber\":{\"value\":\"%s\"}},"
        "\"serverCallId\":\"%s\",\"callerDisplayName\":\"rtagent-call %u\","
        "\"incomingCallContext\":\"%s\",\"correlationId\":\"%s\"},"
        "\"eventType\":\"Microsoft.Communication.IncomingCall\","
        "\"dataVersion\":\"1.0\",\"metadataVersion\":\"1\","
        "\"eventTime\":\"%s\"}]",
        id, o->from, o->to, o->to, o->to, o->from, o->from,
        call->server_call_id, call->index, call->context, call->correlation,
        now);

    if (body == NULL) {
        rc_fail(call, "out of memory");
        return -1;
    }

    url = NULL;

    /* the key of the Event Grid subscription's URL (?key=) */
    if (o->eventgrid_key) {
        rc_appendf(&url, "%s%ckey=%s", o->url, strchr(o->url, '?') ? '&' : '?',
                   o->eventgrid_key);
    }

    h = curl_slist_append(NULL, "aeg-event-type: Notification");
    h = curl_slist_append(h, "aeg-subscription-name: RTAGENT-CALL");
    h = curl_slist_append(h, "aeg-delivery-count: 0");
    h = curl_slist_append(h, "aeg-data-version: 1.0");
    h = curl_slist_append(h, "aeg-metadata-version: 1");

    if (o->eventgrid_key) {
        snprintf(key, sizeof(key), "aeg-sas-key: %s", o->eventgrid_key);
        h = curl_slist_append(h, key);
    }

    rc = rc_post(call, url ? url : o->url, body, h, "IncomingCall");

    free(url);
    free(body);

    return rc;
}


/* one Call Automation CloudEvent to the call's callbackUri */

static int
rc_callback(rc_call_t *call, const char *type, const char *data)
{
    int    rc;
    char   id[40], now[40], *body, *uri;

    pthread_mutex_lock(&call->sim->lock);
    uri = call->callback_uri ? strdup(call->callback_uri) : NULL;
    pthread_mutex_unlock(&call->sim->lock);

    if (uri == NULL) {
        return -1;
    }

    rc_uuid(id);
    rc_time_iso(now, sizeof(now));

    body = NULL;
    rc_appendf(&body,
        "[{\"id\":\"%s\",\"source\":\"calling/callConnections/%s\","
        "\"type\":\"Microsoft.Communication.%s\","
        "\"data\":{\"version\":\"2025-05-15\",%s%s"
        "\"callConnectionId\":\"%s\",\"serverCallId\":\"%s\","
        "\"correlationId\":\"%s\","
        "\"publicEventType\":\"Microsoft.Communication.%s\"},"
        "\"time\":\"%s\",\"specversion\":\"1.0\","
        "\"datacontenttype\":\"application/json\","
        "\"subject\":\"calling/callConnections/%s\"}]",
        id, call->id, type, data ? data : "", data ? "," : "", call->id,
        call->server_call_id, call->correlation, type, now, call->id);

    rc = body ? rc_post(call, uri, body, NULL, type) : -1;

    free(body);
    free(uri);

    return rc;
}


/* ---------------------------------------------------------- WebSocket */


static ssize_t
rc_ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *data)
{
    rc_ws_t  *ws = data;
    ssize_t   n;

    if (ws->pre_off < ws->pre_len) {
        n = (ssize_t) (ws->pre_len - ws->pre_off);
        n = n < (ssize_t) len ? n : (ssize_t) len;
        memcpy(buf, ws->pre + ws->pre_off, (size_t) n);
        ws->pre_off += (size_t) n;
        return n;
    }

    n = recv(ws->fd, buf, len, 0);

    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    return n;
}


static ssize_t
rc_ws_send(wslay_event_context_ptr ctx, const uint8_t *buf, size_t len,
    int flags, void *data)
{
    rc_ws_t  *ws = data;
    ssize_t   n;

    n = send(ws->fd, buf, len, MSG_NOSIGNAL);

    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (n == -1) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    return n;
}


static int
rc_ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    void *data)
{
    return RAND_bytes(buf, (int) len) == 1 ? 0 : -1;
}


/* AudioData: the agent's audio; StopAudio: a barge-in was heard */

static void
rc_ws_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *data)
{
    rc_ws_t     *ws = data;

    int          n, pad;
    double       now;
    size_t       len, need;
    int16_t     *p;
    yajl_val     tree;
    const char  *kind, *b64;

    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        ws->closed = 1;
        ws->close_code = arg->status_code;
        return;
    }

    if (arg->opcode != WSLAY_TEXT_FRAME) {
        return;
    }

    tree = ngx_http_rtagent_json_parse((const char *) arg->msg,
                                       arg->msg_length, 16, 0, NULL, 0);
    kind = ngx_http_rtagent_json_str(tree, "kind", NULL);

    if (kind == NULL) {
        kind = ngx_http_rtagent_json_str(tree, "Kind", NULL);
    }

    now = rc_now_ms();

    if (kind && strcasecmp(kind, "StopAudio") == 0) {
        ws->call->stops++;

        if (ws->barge_onset > 0 && ws->call->nbarge < RC_TURNS_MAX) {
            ws->call->barge[ws->call->nbarge++] = now - ws->barge_onset;
            ws->barge_onset = 0;
        }

    } else if (kind && strcasecmp(kind, "AudioData") == 0) {
        b64 = ngx_http_rtagent_json_str(tree, "audioData", "data", NULL);

        if (b64 == NULL) {
            b64 = ngx_http_rtagent_json_str(tree, "AudioData", "Data", NULL);
        }

        len = b64 ? strlen(b64) : 0;

        if (len && len % 4 == 0) {
            need = ws->agent_len + len / 4 * 3 / 2 + 2;

            if (need > ws->agent_size) {
                need = need < 2 * ws->agent_size ? 2 * ws->agent_size : need;
                p = realloc(ws->agent, need * sizeof(int16_t));

                if (p == NULL) {
                    yajl_tree_free(tree);
                    return;
                }

                ws->agent = p;
                ws->agent_size = need;
            }

            n = EVP_DecodeBlock((uint8_t *) (ws->agent + ws->agent_len),
                                (const uint8_t *) b64, (int) len);
            pad = (b64[len - 1] == '=') + (b64[len - 2] == '=');

            if (n > 0) {
                n = (n - pad) / 2;

                if (ws->reply_first == 0) {
                    ws->reply_first = now;
                }

                if (ws->await_since > 0
                    && ws->call->nlatency < RC_TURNS_MAX)
                {
                    ws->call->latency[ws->call->nlatency++]
                        = now - ws->await_since;
                    ws->await_since = 0;
                }

                if (rc_pcm_level(ws->agent + ws->agent_len, (size_t) n)
                    >= RC_VOICE_LEVEL)
                {
                    ws->last_voice = now;
                }

                ws->agent_len += (size_t) n;
            }
        }
    }

    yajl_tree_free(tree);
}


static int
rc_ws_open(rc_ws_t *ws, const char *url)
{
    int                    fd, rc, one;
    char                   host[256], port[8], *path, req[4096];
    char                   key[32], accept[64], resp[8192], *end;
    uint8_t                nonce[16], sha[SHA_DIGEST_LENGTH];
    size_t                 len, hlen;
    ssize_t                n;
    double                 deadline;
    const char            *h, *a, *colon;
    struct addrinfo        hints, *ai;
    struct wslay_event_callbacks  cb = {
        rc_ws_recv, rc_ws_send, rc_ws_genmask, NULL, NULL, NULL, rc_ws_msg
    };

    if (strncmp(url, "ws://", 5) != 0) {
        rc_fail(ws->call, "media WebSocket %s: only ws:// URLs are played "
                "(set rtagent_acs_media_url to a ws:// URL)", url);
        return -1;
    }

    h = url + 5;
    len = strcspn(h, "/?");
    path = (char *) h + len;
    colon = memchr(h, ':', len);

    snprintf(host, sizeof(host), "%.*s",
             (int) (colon ? (size_t) (colon - h) : len), h);
    snprintf(port, sizeof(port), "%.*s",
             colon ? (int) (len - (size_t) (colon - h) - 1) : 2,
             colon ? colon + 1 : "80");

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(host, port, &hints, &ai);

    if (rc != 0) {
        rc_fail(ws->call, "media WebSocket %s: %s", url, gai_strerror(rc));
        return -1;
    }

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd == -1 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        rc_fail(ws->call, "media WebSocket %s refused: %s", url,
                strerror(errno));
        freeaddrinfo(ai);

        if (fd != -1) {
            close(fd);
        }

        return -1;
    }

    freeaddrinfo(ai);

    one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    RAND_bytes(nonce, sizeof(nonce));
    EVP_EncodeBlock((uint8_t *) key, nonce, sizeof(nonce));

    n = snprintf(req, sizeof(req),
                 "GET %s%s HTTP/1.1\r\n"
                 "Host: %.*s\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n"
                 "x-ms-call-connection-id: %s\r\n"
                 "x-ms-call-correlation-id: %s\r\n"
                 "\r\n",
                 path[0] == '/' ? "" : "/", path, (int) len, h, key,
                 ws->call->id, ws->call->correlation);

    if (n >= (ssize_t) sizeof(req) || send(fd, req, (size_t) n, MSG_NOSIGNAL)
                                      != n)
    {
        rc_fail(ws->call, "media WebSocket %s: cannot send the handshake",
                url);
        close(fd);
        return -1;
    }

    /* the 101 and its headers; what follows belongs to wslay */
    len = 0;
    end = NULL;
    deadline = rc_now_ms() + 10000;

    while (end == NULL) {
        struct pollfd  p = { fd, POLLIN, 0 };

        if (len == sizeof(resp) - 1
            || poll(&p, 1, (int) (deadline - rc_now_ms())) <= 0
            || (n = recv(fd, resp + len, sizeof(resp) - 1 - len, 0)) <= 0)
        {
            rc_fail(ws->call, "media WebSocket %s: no handshake reply", url);
            close(fd);
            return -1;
        }

        len += (size_t) n;
        resp[len] = '\0';
        end = strstr(resp, "\r\n\r\n");
    }

    hlen = (size_t) (end - resp) + 4;

    if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
        resp[strcspn(resp, "\r\n")] = '\0';
        rc_fail(ws->call, "media WebSocket %s refused: %s", url,
                resp + (len > 9 ? 9 : 0));
        close(fd);
        return -1;
    }

    snprintf(req, sizeof(req), "%s%s", key, RC_WS_GUID);
    SHA1((uint8_t *) req, strlen(req), sha);
    EVP_EncodeBlock((uint8_t *) accept, sha, sizeof(sha));

    resp[hlen - 2] = '\0';
    a = strcasestr(resp, "\r\nsec-websocket-accept:");

    if (a == NULL) {
        rc_fail(ws->call, "media WebSocket %s: no Sec-WebSocket-Accept", url);
        close(fd);
        return -1;
    }

    a += sizeof("\r\nsec-websocket-accept:") - 1;
    a += strspn(a, " \t");

    if (strncmp(a, accept, strlen(accept)) != 0) {
        rc_fail(ws->call, "media WebSocket %s: wrong Sec-WebSocket-Accept",
                url);
        close(fd);
        return -1;
    }

    if (len > hlen) {
        ws->pre = malloc(len - hlen);

        if (ws->pre == NULL) {
            close(fd);
            return -1;
        }

        memcpy(ws->pre, resp + hlen, len - hlen);
        ws->pre_len = len - hlen;
    }

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    ws->fd = fd;

    if (wslay_event_context_client_init(&ws->ctx, &cb, ws) != 0) {
        rc_fail(ws->call, "out of memory");
        return -1;
    }

    wslay_event_config_set_max_recv_msg_length(ws->ctx, 1 << 20);

    return 0;
}


static void
rc_ws_text(rc_ws_t *ws, const char *text, size_t len)
{
    struct wslay_event_msg  m;

    m.opcode = WSLAY_TEXT_FRAME;
    m.msg = (const uint8_t *) text;
    m.msg_length = len;

    wslay_event_queue_msg(ws->ctx, &m);
}


static void
rc_ws_close(rc_ws_t *ws, unsigned code, const char *reason)
{
    if (!ws->close_sent) {
        wslay_event_queue_close(ws->ctx, (uint16_t) code,
                                (const uint8_t *) reason, strlen(reason));
        ws->close_sent = 1;
    }
}


/* one AudioData message of a 20 ms frame */

static void
rc_ws_frame(rc_ws_t *ws, const int16_t *pcm, size_t n, int silent)
{
    int      len;
    char     msg[4096], now[40];
    size_t   fb;
    int16_t  frame[24000 / 50];

    fb = ws->rate / 50;

    /* a frame whose end the caller's audio does not reach: zeros after */
    memset(frame, 0, sizeof(frame));

    if (pcm) {
        memcpy(frame, pcm, (n < fb ? n : fb) * sizeof(int16_t));
    }

    rc_time_iso(now, sizeof(now));

    len = snprintf(msg, sizeof(msg),
                   "{\"kind\":\"AudioData\",\"audioData\":{\"timestamp\":"
                   "\"%s\",\"participantRawID\":\"4:%s\",\"data\":\"", now,
                   ws->call->sim->opts->from);
    len += EVP_EncodeBlock((uint8_t *) msg + len, (uint8_t *) frame,
                           (int) (fb * sizeof(int16_t)));
    len += snprintf(msg + len, sizeof(msg) - (size_t) len,
                    "\",\"silent\":%s}}", silent ? "true" : "false");

    rc_ws_text(ws, msg, (size_t) len);
}


/*
 * The media session: the caller's turns at real time (or --speed), each
 * after the agent's reply has ended (a gap in its audio) or over it
 * (--barge-in-after), until the last turn's reply, a hang-up, a close or
 * the call's timeout.  0, or -1 when the call failed.
 */

static int
rc_media(rc_ws_t *ws)
{
    rc_call_t      *call = ws->call;
    rc_opts_t      *o = call->sim->opts;

    int             speaking, done, hung;
    char            meta[512];
    size_t          samples, pos, fb;
    double          now, start, next, step, mark, deadline, reply;
    unsigned        turn;
    const int16_t  *pcm;
    struct pollfd   p;

    fb = ws->rate / 50;
    step = 20.0 / o->speed;

    snprintf(meta, sizeof(meta),
             "{\"kind\":\"AudioMetadata\",\"audioMetadata\":{"
             "\"subscriptionId\":\"%s\",\"encoding\":\"PCM\","
             "\"sampleRate\":%u,\"channels\":1,\"length\":%zu}}",
             call->correlation, ws->rate, fb * 2);
    rc_ws_text(ws, meta, strlen(meta));

    start = rc_now_ms();
    next = start;
    deadline = start + (double) o->timeout;
    mark = start;               /* the end of the last turn */
    ws->reply_first = 0;
    turn = 0;
    speaking = 0;
    done = 0;
    pos = 0;
    pcm = NULL;
    samples = 0;

    while (!done) {
        now = rc_now_ms();

        if (ws->closed) {
            /* a hang-up's close may come before its REST request */
            if (turn < o->nturns && !rc_wait(call, 1000, 0)) {
                rc_fail(call, "the gateway closed the media stream (%u) "
                        "before the caller's turn %u", ws->close_code,
                        turn + 1);
                return -1;
            }

            break;
        }

        pthread_mutex_lock(&call->sim->lock);
        hung = call->hung_up || call->transferred;
        pthread_mutex_unlock(&call->sim->lock);

        if (hung) {
            break;
        }

        if (now > deadline) {
            rc_fail(call, "timeout: the call lasted over %ld ms",
                    o->timeout);
            return -1;
        }

        /* whether the caller's next turn starts (or, after the last, the
         * call ends) */
        if (!speaking) {
            int  go = 0;

            reply = ws->reply_first;

            if (reply > 0) {
                double  last = ws->last_voice > reply ? ws->last_voice : reply;

                go = now - last >= (double) o->gap;

                if (o->barge_in_after >= 0 && turn < o->nturns
                    && now - reply >= (double) o->barge_in_after)
                {
                    go = 1;

                    if (now - last < (double) o->gap) {
                        ws->barge_onset = now;
                    }
                }

            } else if (now - mark >= (double) (turn == 0 ? o->first_wait
                                                          : o->reply_timeout))
            {
                go = 1;

                if (turn > 0 && o->verbose) {
                    fprintf(stderr, "rtagent-call: call %s: no reply to "
                            "turn %u within %ld ms\n", call->id, turn,
                            o->reply_timeout);
                }
            }

            if (go && turn == o->nturns) {
                break;
            }

            if (go) {
                pcm = o->turns[turn].pcm[ws->rate == 24000];
                samples = o->turns[turn].samples[ws->rate == 24000];
                speaking = 1;
                pos = 0;
            }
        }

        /* the frames that are due */
        while (now >= next) {
            if (speaking) {
                rc_ws_frame(ws, pcm + pos, samples - pos, 0);
                pos += fb;

                if (pos >= samples) {
                    speaking = 0;
                    turn++;
                    mark = rc_now_ms();
                    ws->reply_first = 0;
                    ws->await_since = mark;
                }

            } else {
                rc_ws_frame(ws, NULL, 0, 1);
            }

            next += step;
        }

        p.fd = ws->fd;
        p.events = POLLIN;
        p.revents = 0;

        if (wslay_event_want_write(ws->ctx)) {
            p.events |= POLLOUT;
        }

        now = rc_now_ms();

        if (poll(&p, 1, next > now ? (int) (next - now) + 1 : 0) == -1
            && errno != EINTR)
        {
            rc_fail(call, "poll: %s", strerror(errno));
            return -1;
        }

        if ((p.revents & (POLLIN | POLLHUP | POLLERR))
            && wslay_event_recv(ws->ctx) != 0)
        {
            ws->closed = 1;
            ws->close_code = 1006;
        }

        if ((p.revents & POLLOUT) && wslay_event_send(ws->ctx) != 0) {
            ws->closed = 1;
            ws->close_code = 1006;
        }

        if (wslay_event_get_close_received(ws->ctx)) {
            ws->closed = 1;
            ws->close_code = wslay_event_get_status_code_received(ws->ctx);
        }
    }

    return 0;
}


/* ------------------------------------------------------------- report */


static redisContext *
rc_redis(rc_opts_t *o)
{
    char            host[256], *c;
    redisContext   *r;
    struct timeval  tv = { 2, 0 };

    snprintf(host, sizeof(host), "%s", o->redis);
    c = strrchr(host, ':');

    if (c == NULL) {
        return NULL;
    }

    *c++ = '\0';

    r = redisConnectWithTimeout(host, atoi(c), tv);

    if (r == NULL || r->err) {
        if (r) {
            redisFree(r);
        }

        return NULL;
    }

    redisSetTimeout(r, tv);

    return r;
}


/*
 * The conversation from the call's transcript (rtagent:call:{id}:
 * transcript, written by the gateway's store), once the gateway has ended
 * the call (its hash's state), or what the simulator knows without Redis.
 */

static void
rc_report(rc_call_t *call)
{
    rc_opts_t     *o = call->sim->opts;

    int            hung, moved;
    char          *s, *agent, target[128];
    double         until;
    size_t         i;
    unsigned       t;
    int            cut;
    yajl_val       e;
    redisReply    *rep;
    redisContext  *r;
    const char    *role, *text, *name;

    s = NULL;
    r = NULL;
    agent = NULL;

    if (o->redis && call->id[0]) {
        r = rc_redis(o);

        if (r == NULL) {
            rc_appendf(&s, "(Redis %s not reachable: no transcript)\n",
                       o->redis);
        }
    }

    if (r) {
        until = rc_now_ms() + 3000;

        /* CALL_ENDED: the transcript is all there */
        do {
            rep = redisCommand(r, "HGET rtagent:call:{%s} state", call->id);

            if (rep && rep->type == REDIS_REPLY_STRING
                && strcmp(rep->str, "ended") == 0)
            {
                freeReplyObject(rep);
                break;
            }

            if (rep) {
                freeReplyObject(rep);
            }

            usleep(50000);

        } while (rc_now_ms() < until);

        rep = redisCommand(r, "HMGET rtagent:call:{%s} agent outcome",
                           call->id);

        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
            if (rep->element[0]->type == REDIS_REPLY_STRING) {
                agent = strdup(rep->element[0]->str);
            }

            if (rep->element[1]->type == REDIS_REPLY_STRING) {
                snprintf(call->outcome, sizeof(call->outcome), "%s",
                         rep->element[1]->str);
            }
        }

        if (rep) {
            freeReplyObject(rep);
        }

        rep = redisCommand(r, "LRANGE rtagent:call:{%s}:transcript 0 -1",
                           call->id);

        for (i = 0; rep && rep->type == REDIS_REPLY_ARRAY
                    && i < rep->elements; i++)
        {
            if (rep->element[i]->type != REDIS_REPLY_STRING) {
                continue;
            }

            e = ngx_http_rtagent_json_parse(rep->element[i]->str,
                                            rep->element[i]->len, 16, 0,
                                            NULL, 0);
            role = ngx_http_rtagent_json_str(e, "role", NULL);
            text = ngx_http_rtagent_json_str(e, "text", NULL);
            name = ngx_http_rtagent_json_str(e, "agent", NULL);

            if (text == NULL) {
                text = ngx_http_rtagent_json_str(e, "dtmf", NULL);
            }

            if (role && text && strcmp(role, "caller") == 0) {
                rc_appendf(&s, "caller: %s\n", text);

            } else if (role && text) {
                /* a reply the caller cut: what was heard of it */
                cut = YAJL_IS_TRUE(ngx_http_rtagent_json_get(e, "interrupted",
                                                             NULL));
                rc_appendf(&s, "agent[%s]: %s%s%s\n",
                           name ? name : agent ? agent : "?", text,
                           cut && *text ? " " : "",
                           cut ? "[cut off by the caller]" : "");
            }

            yajl_tree_free(e);
        }

        if (rep) {
            freeReplyObject(rep);
        }

        redisFree(r);

    } else if (call->answered && !call->failed) {
        for (t = 0; t < o->nturns; t++) {
            rc_appendf(&s, "caller: %s\n", o->turns[t].label);
        }
    }

    for (t = 0; t < call->nlatency; t++) {
        rc_appendf(&s, "turn %u: %.0f ms to the first agent frame\n", t + 1,
                   call->latency[t]);
    }

    for (t = 0; t < call->nbarge; t++) {
        rc_appendf(&s, "barge-in %u: %.0f ms to StopAudio\n", t + 1,
                   call->barge[t]);
    }

    /* the REST endpoint's thread has done with the call */
    pthread_mutex_lock(&call->sim->lock);
    hung = call->hung_up;
    moved = call->transferred;
    snprintf(target, sizeof(target), "%s", call->transfer_target);
    pthread_mutex_unlock(&call->sim->lock);

    if (call->outcome[0] == '\0') {
        snprintf(call->outcome, sizeof(call->outcome), "%s",
                 moved ? "transferred"
                 : hung ? "agent_hung_up" : "caller_hung_up");
    }

    if (call->failed) {
        rc_appendf(&s, "call %u failed: %s\n", call->index, call->error);

    } else {
        rc_appendf(&s, "outcome: %s%s%s (%.1f s of agent audio, %u StopAudio)"
                   "\n", call->outcome, moved ? " to " : "",
                   moved ? target : "",
                   (double) call->agent_samples
                   / (call->sample_rate ? call->sample_rate : 16000),
                   call->stops);
    }

    free(agent);

    pthread_mutex_lock(&call->sim->lock);
    call->report = s ? s : strdup("");
    pthread_mutex_unlock(&call->sim->lock);
}


static void
rc_fail(rc_call_t *call, const char *fmt, ...)
{
    va_list  ap;

    if (call->failed) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(call->error, sizeof(call->error), fmt, ap);
    va_end(ap);

    call->failed = 1;
}


/* appends to a malloc()ed string; on no memory it stays as it was */

static void
rc_appendf(char **s, const char *fmt, ...)
{
    int       n;
    char     *p;
    size_t    len;
    va_list   ap;

    len = *s ? strlen(*s) : 0;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);

    p = realloc(*s, len + (size_t) n + 1);

    if (p == NULL) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(p + len, (size_t) n + 1, fmt, ap);
    va_end(ap);

    *s = p;
}


static void
rc_time_iso(char *out, size_t len)
{
    size_t           n;
    struct tm        tm;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);

    n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%03dZ", (int) (ts.tv_nsec / 1000000));
}
