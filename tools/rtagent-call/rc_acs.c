
/*
 * The Call Automation REST endpoint the gateway talks to (PROTOCOLS.md
 * 2): plain HTTP/1.1 with keep-alive on the connection string's host and
 * port, every request's HMAC-SHA256 signature checked as ACS checks it
 * (x-ms-date, x-ms-content-sha256 of the body, the Authorization over
 * "VERB\npath?query\ndate;host;hash" with the access key), then
 *
 *   POST   /calling/callConnections:answer            200 the call
 *   DELETE /calling/callConnections/{id}              204 (hang-up)
 *   POST   /calling/callConnections/{id}:terminate    204
 *   POST   …/{id}:transferToParticipant               202 {operationContext}
 *   POST   …/{id}:play and other actions              202
 *   GET    /calling/callConnections/{id}              200 the call
 *
 * One thread, poll() over the listening socket and its connections.
 */


#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "rc.h"
#include "ngx_http_rtagent_json.h"


#define RC_ACS_CONNS     256
#define RC_ACS_BUF       (256 * 1024)
#define RC_ACS_SKEW      (15 * 60)


typedef struct {
    int       fd;
    char     *buf;
    size_t    len;
} rc_conn_t;


typedef struct {
    const char  *method;
    const char  *target;          /* path and query, as signed */
    const char  *host;
    const char  *date;
    const char  *hash;
    const char  *auth;
    const char  *body;
    size_t       body_len;
} rc_req_t;


static void *rc_acs_loop(void *data);
static ssize_t rc_acs_request(rc_sim_t *sim, rc_conn_t *c);
static int rc_acs_reply(int fd, int status, const char *json);
static const char *rc_acs_check(rc_sim_t *sim, rc_req_t *r, char *why,
    size_t len);
static int rc_acs_route(rc_sim_t *sim, rc_req_t *r, char *out, size_t len);
static rc_call_t *rc_acs_call(rc_sim_t *sim, const char *id, size_t len);


int
rc_acs_start(rc_sim_t *sim, char *err, size_t errlen)
{
    int               fd, one, rc;
    char              host[256], *port;
    struct addrinfo   hints, *ai;

    /* the authority of the connection string: host[:port] */
    snprintf(host, sizeof(host), "%.*s", (int) sim->account.host_len,
             sim->account.host);

    port = strrchr(host, ':');

    if (port && strchr(host, ']') < port) {
        *port++ = '\0';

    } else {
        port = strncmp(sim->account.endpoint, "https", 5) == 0 ? "443" : "80";
    }

    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }

    if (strncmp(sim->account.endpoint, "http://", 7) != 0) {
        snprintf(err, errlen, "the connection string's endpoint must be "
                 "http:// (rtagent-call serves plain HTTP)");
        return -1;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;

    rc = getaddrinfo(host, port, &hints, &ai);

    if (rc != 0) {
        snprintf(err, errlen, "ACS endpoint %s:%s: %s", host, port,
                 gai_strerror(rc));
        return -1;
    }

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    one = 1;

    if (fd == -1
        || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
        || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0
        || listen(fd, 512) != 0)
    {
        snprintf(err, errlen, "cannot listen on %s:%s for the ACS REST "
                 "requests: %s", host, port, strerror(errno));
        freeaddrinfo(ai);

        if (fd != -1) {
            close(fd);
        }

        return -1;
    }

    freeaddrinfo(ai);

    sim->listen_fd = fd;

    if (pipe(sim->wake) != 0
        || pthread_create(&sim->server, NULL, rc_acs_loop, sim) != 0)
    {
        snprintf(err, errlen, "cannot start the ACS endpoint");
        close(fd);
        return -1;
    }

    return 0;
}


void
rc_acs_stop(rc_sim_t *sim)
{
    if (write(sim->wake[1], "x", 1) == 1) {
        pthread_join(sim->server, NULL);
    }

    close(sim->wake[0]);
    close(sim->wake[1]);
    close(sim->listen_fd);
}


static void *
rc_acs_loop(void *data)
{
    rc_sim_t       *sim = data;

    int             fd;
    ssize_t         n, used;
    nfds_t          i, nfds;
    rc_conn_t       conns[RC_ACS_CONNS];
    struct pollfd   pfd[RC_ACS_CONNS + 2];

    nfds = 0;

    for ( ;; ) {
        pfd[0].fd = sim->wake[0];
        pfd[0].events = POLLIN;
        pfd[1].fd = sim->listen_fd;
        pfd[1].events = nfds < RC_ACS_CONNS ? POLLIN : 0;

        for (i = 0; i < nfds; i++) {
            pfd[i + 2].fd = conns[i].fd;
            pfd[i + 2].events = POLLIN;
        }

        if (poll(pfd, nfds + 2, -1) == -1) {
            if (errno == EINTR) {
                continue;
            }

            break;
        }

        if (pfd[0].revents) {
            break;
        }

        if (pfd[1].revents & POLLIN) {
            fd = accept4(sim->listen_fd, NULL, NULL, SOCK_CLOEXEC);

            if (fd != -1) {
                conns[nfds].fd = fd;
                conns[nfds].buf = malloc(RC_ACS_BUF);
                conns[nfds].len = 0;

                if (conns[nfds].buf == NULL) {
                    close(fd);

                } else {
                    nfds++;
                }
            }
        }

        for (i = 0; i < nfds; /* void */) {
            rc_conn_t  *c = &conns[i];

            if (!pfd[i + 2].revents || pfd[i + 2].fd != c->fd) {
                i++;
                continue;
            }

            n = read(c->fd, c->buf + c->len, RC_ACS_BUF - 1 - c->len);

            if (n > 0) {
                c->len += (size_t) n;

                /* every complete request in the buffer (keep-alive) */
                while ((used = rc_acs_request(sim, c)) > 0) {
                    memmove(c->buf, c->buf + used, c->len - (size_t) used);
                    c->len -= (size_t) used;
                }

                if (used == 0 && c->len < RC_ACS_BUF - 1) {
                    i++;
                    continue;
                }

                if (used == 0) {
                    rc_acs_reply(c->fd, 413, NULL);
                }
            }

            if (n == -1 && errno == EINTR) {
                i++;
                continue;
            }

            /* closed, failed or refused: drop it */
            close(c->fd);
            free(c->buf);
            conns[i] = conns[--nfds];
            pfd[i + 2] = pfd[nfds + 2];
        }
    }

    for (i = 0; i < nfds; i++) {
        close(conns[i].fd);
        free(conns[i].buf);
    }

    return NULL;
}


/* the value of a header in the NUL-terminated header block, or NULL */

static const char *
rc_acs_header(char *head, const char *name)
{
    char    *p, *v;
    size_t   n;

    n = strlen(name);

    for (p = strstr(head, "\r\n"); p; p = strstr(p, "\r\n")) {
        p += 2;

        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            v = p + n + 1;
            v += strspn(v, " \t");
            return v;
        }
    }

    return NULL;
}


/*
 * Answers the first request of c's buffer: its length, 0 when it is not
 * all there yet, -1 when the connection must close.
 */

static ssize_t
rc_acs_request(rc_sim_t *sim, rc_conn_t *c)
{
    int          status;
    char        *end, *p, *sp, *head;
    char         out[4096], why[512];
    size_t       hlen, blen;
    rc_req_t     r;
    const char  *cl, *te, *bad;

    c->buf[c->len] = '\0';
    end = strstr(c->buf, "\r\n\r\n");

    if (end == NULL) {
        return 0;
    }

    hlen = (size_t) (end - c->buf) + 4;

    head = malloc(hlen + 1);

    if (head == NULL) {
        return -1;
    }

    memcpy(head, c->buf, hlen);
    head[hlen] = '\0';

    /* the header values end at their CRLF */
    te = rc_acs_header(head, "transfer-encoding");
    cl = rc_acs_header(head, "content-length");

    if (te) {
        rc_acs_reply(c->fd, 411, NULL);
        free(head);
        return -1;
    }

    blen = cl ? strtoul(cl, NULL, 10) : 0;

    if (blen > RC_ACS_BUF / 2) {
        rc_acs_reply(c->fd, 413, NULL);
        free(head);
        return -1;
    }

    if (c->len < hlen + blen) {
        free(head);
        return 0;
    }

    memset(&r, 0, sizeof(rc_req_t));

    r.host = rc_acs_header(head, "host");
    r.date = rc_acs_header(head, "x-ms-date");
    r.hash = rc_acs_header(head, "x-ms-content-sha256");
    r.auth = rc_acs_header(head, "authorization");

    for (p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        *p = '\0';
    }

    /* "METHOD target HTTP/1.1" */
    r.method = head;
    sp = strchr(head, ' ');

    if (sp == NULL) {
        rc_acs_reply(c->fd, 400, NULL);
        free(head);
        return -1;
    }

    *sp++ = '\0';
    r.target = sp;
    sp = strchr(sp, ' ');

    if (sp) {
        *sp = '\0';
    }

    r.body = c->buf + hlen;
    r.body_len = blen;

    pthread_mutex_lock(&sim->lock);
    sim->requests++;
    pthread_mutex_unlock(&sim->lock);

    bad = rc_acs_check(sim, &r, why, sizeof(why));

    if (bad) {
        pthread_mutex_lock(&sim->lock);
        sim->bad_signatures++;
        pthread_mutex_unlock(&sim->lock);

        fprintf(stderr, "rtagent-call: ACS request %s %s refused (401): %s\n",
                r.method, r.target, bad);
        snprintf(out, sizeof(out),
                 "{\"error\":{\"code\":\"Unauthorized\",\"message\":"
                 "\"Denied by the signature check\"}}");
        status = 401;

    } else {
        status = rc_acs_route(sim, &r, out, sizeof(out));
    }

    free(head);

    if (rc_acs_reply(c->fd, status, out[0] ? out : NULL) != 0) {
        return -1;
    }

    return (ssize_t) (hlen + blen);
}


/* NULL when r is signed as ACS wants, else what is wrong */

static const char *
rc_acs_check(rc_sim_t *sim, rc_req_t *r, char *why, size_t len)
{
    char                             hash[NGX_HTTP_RTAGENT_ACS_HASH_LEN + 1];
    char                             want[NGX_HTTP_RTAGENT_ACS_AUTH_LEN + 1];
    time_t                           t;
    struct tm                        tm;
    const char                      *e;
    ngx_http_rtagent_acs_account_t   a;

    if (r->date == NULL) {
        return "x-ms-date header missing";
    }

    memset(&tm, 0, sizeof(tm));
    e = strptime(r->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);

    if (e == NULL || *e != '\0') {
        snprintf(why, len, "x-ms-date is not RFC 1123: \"%s\"", r->date);
        return why;
    }

    t = timegm(&tm);

    if (t < time(NULL) - RC_ACS_SKEW || t > time(NULL) + RC_ACS_SKEW) {
        snprintf(why, len, "x-ms-date is more than 15 minutes off: \"%s\"",
                 r->date);
        return why;
    }

    ngx_http_rtagent_acs_content_hash((const uint8_t *) r->body, r->body_len,
                                      hash);

    if (r->hash == NULL) {
        return "x-ms-content-sha256 header missing";
    }

    if (strcmp(r->hash, hash) != 0) {
        snprintf(why, len, "x-ms-content-sha256 \"%s\" is not the body's "
                 "hash \"%s\"", r->hash, hash);
        return why;
    }

    if (r->auth == NULL) {
        return "Authorization header missing";
    }

    if (r->host == NULL || strlen(r->host) >= sizeof(a.host)) {
        return "no Host header";
    }

    /* signed with the host the request names */
    a = sim->account;
    a.host_len = strlen(r->host);
    memcpy(a.host, r->host, a.host_len);

    if (ngx_http_rtagent_acs_authorization(&a, r->method, r->target,
                                           strlen(r->target), r->date, hash,
                                           want, sizeof(want))
        == 0)
    {
        OPENSSL_cleanse(&a, sizeof(a));
        return "cannot sign";
    }

    OPENSSL_cleanse(&a, sizeof(a));

    if (strlen(r->auth) != strlen(want)
        || CRYPTO_memcmp(r->auth, want, strlen(want)) != 0)
    {
        snprintf(why, len, "signature mismatch (string to sign \"%s\\n%s\\n"
                 "%s;%s;%s\")", r->method, r->target, r->date, r->host, hash);
        return why;
    }

    if (strstr(r->target, "api-version=") == NULL) {
        return "api-version query parameter missing";
    }

    return NULL;
}


static void
rc_acs_properties(rc_call_t *call, char *out, size_t len)
{
    snprintf(out, len,
             "{\"callConnectionId\":\"%s\",\"serverCallId\":\"%s\","
             "\"callConnectionState\":\"%s\",\"correlationId\":\"%s\","
             "\"callbackUri\":\"%s\",\"mediaStreamingSubscription\":"
             "{\"id\":\"%s\",\"state\":\"active\","
             "\"subscribedContentTypes\":[\"audio\"]}}",
             call->id, call->server_call_id,
             call->hung_up ? "disconnected" : "connected",
             call->correlation, call->callback_uri ? call->callback_uri : "",
             call->correlation);
}


/* the reply's status, its body in out ("" for none) */

static int
rc_acs_route(rc_sim_t *sim, rc_req_t *r, char *out, size_t len)
{
    char         path[512], *q, *action;
    size_t       n;
    yajl_val     tree;
    rc_call_t   *call;
    const char  *ctx, *cb, *url, *fmt, *target, *opctx;

    out[0] = '\0';

    snprintf(path, sizeof(path), "%s", r->target);
    q = strchr(path, '?');

    if (q) {
        *q = '\0';
    }

    tree = NULL;

    if (r->body_len) {
        tree = ngx_http_rtagent_json_parse(r->body, r->body_len, 32, 0,
                                           NULL, 0);

        if (tree == NULL || !YAJL_IS_OBJECT(tree)) {
            yajl_tree_free(tree);
            snprintf(out, len, "{\"error\":{\"code\":\"BadRequest\","
                     "\"message\":\"the body is not a JSON object\"}}");
            return 400;
        }
    }

    if (strcmp(path, "/calling/callConnections:answer") == 0
        && strcmp(r->method, "POST") == 0)
    {
        ctx = ngx_http_rtagent_json_str(tree, "incomingCallContext", NULL);
        cb = ngx_http_rtagent_json_str(tree, "callbackUri", NULL);
        url = ngx_http_rtagent_json_str(tree, "mediaStreamingOptions",
                                        "transportUrl", NULL);
        fmt = ngx_http_rtagent_json_str(tree, "mediaStreamingOptions",
                                        "audioFormat", NULL);

        if (ctx == NULL || cb == NULL || url == NULL) {
            yajl_tree_free(tree);
            snprintf(out, len, "{\"error\":{\"code\":\"BadRequest\","
                     "\"message\":\"incomingCallContext, callbackUri and "
                     "mediaStreamingOptions.transportUrl are required\"}}");
            return 400;
        }

        pthread_mutex_lock(&sim->lock);

        call = NULL;

        for (n = 0; n < sim->ncalls; n++) {
            if (strcmp(sim->calls[n].context, ctx) == 0) {
                call = &sim->calls[n];
                break;
            }
        }

        if (call == NULL || call->answered) {
            pthread_mutex_unlock(&sim->lock);
            yajl_tree_free(tree);
            snprintf(out, len, "{\"error\":{\"code\":\"8523\",\"message\":"
                     "\"Invalid or already answered incomingCallContext\"}}");
            return call ? 400 : 404;
        }

        call->callback_uri = strdup(cb);
        call->transport_url = strdup(url);
        call->sample_rate = fmt && strcmp(fmt, "pcm24KMono") == 0
                            ? 24000 : 16000;
        call->answered = 1;
        call->answered_at = rc_now_ms();
        rc_acs_properties(call, out, len);

        pthread_cond_broadcast(&sim->cond);
        pthread_mutex_unlock(&sim->lock);

        yajl_tree_free(tree);
        return 200;
    }

    if (strncmp(path, "/calling/callConnections/", 25) != 0) {
        yajl_tree_free(tree);
        snprintf(out, len, "{\"error\":{\"code\":\"NotFound\","
                 "\"message\":\"no such route\"}}");
        return 404;
    }

    q = path + 25;
    action = strchr(q, ':');
    n = action ? (size_t) (action - q) : strlen(q);

    if (action) {
        action++;
    }

    pthread_mutex_lock(&sim->lock);

    call = rc_acs_call(sim, q, n);

    if (call == NULL) {
        pthread_mutex_unlock(&sim->lock);
        yajl_tree_free(tree);
        snprintf(out, len, "{\"error\":{\"code\":\"8522\","
                 "\"message\":\"Call not found\"}}");
        return 404;
    }

    if (action == NULL && strcmp(r->method, "GET") == 0) {
        rc_acs_properties(call, out, len);
        pthread_mutex_unlock(&sim->lock);
        yajl_tree_free(tree);
        return 200;
    }

    if ((action == NULL && strcmp(r->method, "DELETE") == 0)
        || (action && strcmp(action, "terminate") == 0))
    {
        call->hung_up = 1;
        pthread_cond_broadcast(&sim->cond);
        pthread_mutex_unlock(&sim->lock);
        yajl_tree_free(tree);
        return 204;
    }

    if (action == NULL || strcmp(r->method, "POST") != 0) {
        pthread_mutex_unlock(&sim->lock);
        yajl_tree_free(tree);
        snprintf(out, len, "{\"error\":{\"code\":\"MethodNotAllowed\","
                 "\"message\":\"%s\"}}", r->method);
        return 405;
    }

    if (strcmp(action, "transferToParticipant") == 0) {
        target = ngx_http_rtagent_json_str(tree, "targetParticipant",
                                           "rawId", NULL);
        if (target == NULL) {
            target = ngx_http_rtagent_json_str(tree, "targetParticipant",
                                               "phoneNumber", "value", NULL);
        }

        if (target == NULL) {
            pthread_mutex_unlock(&sim->lock);
            yajl_tree_free(tree);
            snprintf(out, len, "{\"error\":{\"code\":\"BadRequest\","
                     "\"message\":\"targetParticipant is required\"}}");
            return 400;
        }

        snprintf(call->transfer_target, sizeof(call->transfer_target), "%s",
                 target);
        call->transferred = 1;
        pthread_cond_broadcast(&sim->cond);

        opctx = ngx_http_rtagent_json_str(tree, "operationContext", NULL);
        snprintf(out, len, "{\"operationContext\":%s%s%s}",
                 opctx ? "\"" : "", opctx && !strpbrk(opctx, "\"\\")
                                    ? opctx : "null", opctx ? "\"" : "");
        pthread_mutex_unlock(&sim->lock);
        yajl_tree_free(tree);
        return 202;
    }

    if (strcmp(action, "play") == 0 || strcmp(action, "playMedia") == 0) {
        call->plays++;
    }

    pthread_mutex_unlock(&sim->lock);
    yajl_tree_free(tree);

    return 202;
}


static rc_call_t *
rc_acs_call(rc_sim_t *sim, const char *id, size_t len)
{
    unsigned  i;

    for (i = 0; i < sim->ncalls; i++) {
        if (sim->calls[i].id[0] && strlen(sim->calls[i].id) == len
            && memcmp(sim->calls[i].id, id, len) == 0)
        {
            return &sim->calls[i];
        }
    }

    return NULL;
}


static int
rc_acs_reply(int fd, int status, const char *json)
{
    int          n;
    char         head[256];
    size_t       off, len;
    ssize_t      w;
    const char  *reason;

    switch (status) {
    case 200: reason = "OK"; break;
    case 202: reason = "Accepted"; break;
    case 204: reason = "No Content"; break;
    case 400: reason = "Bad Request"; break;
    case 401: reason = "Unauthorized"; break;
    case 404: reason = "Not Found"; break;
    case 405: reason = "Method Not Allowed"; break;
    case 411: reason = "Length Required"; break;
    default: reason = "Payload Too Large"; break;
    }

    len = json ? strlen(json) : 0;

    n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
                 "Content-Type: application/json; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n\r\n", status, reason, len);

    for (off = 0; off < (size_t) n; off += (size_t) w) {
        w = write(fd, head + off, (size_t) n - off);

        if (w <= 0) {
            return -1;
        }
    }

    for (off = 0; off < len; off += (size_t) w) {
        w = write(fd, json + off, len - off);

        if (w <= 0) {
            return -1;
        }
    }

    return 0;
}
