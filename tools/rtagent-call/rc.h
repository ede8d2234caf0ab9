
/*
 * rtagent-call: a caller simulator and load generator that plays the part
 * of Azure Communication Services against the gateway (PROTOCOLS.md 1-3):
 * it posts the Event Grid IncomingCall, serves the Call Automation REST
 * endpoint the gateway answers to (HMAC-SHA256 signed requests, checked),
 * posts the call's callbacks, and streams the caller over the media
 * WebSocket of the answer's transportUrl.
 *
 * One thread per call and one for the REST endpoint; what they share is
 * in rc_sim_t, under its lock.
 */


#ifndef _RC_H_INCLUDED_
#define _RC_H_INCLUDED_


#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ngx_http_rtagent_acs_sign.h"


#define RC_ID_LEN        96
#define RC_ERR_LEN       256
#define RC_TURNS_MAX     64
#define RC_RATES         2        /* 16000, 24000 */


typedef struct {
    const char     *label;        /* what the caller says, or the file */
    const char     *text;         /* spoken with espeak-ng, or NULL */
    const char     *wav;          /* or played from this file */
    char           *own;          /* a --script line, freed at exit */
    int16_t        *pcm[RC_RATES];
    size_t          samples[RC_RATES];
} rc_turn_t;


typedef struct {
    const char     *url;          /* the gateway's events endpoint */
    const char     *connection_string;
    const char     *eventgrid_key;
    const char     *redis;        /* host:port, or NULL */
    const char     *out;          /* the agent's audio of call 1 */
    const char     *voice;
    const char     *from;
    const char     *to;
    unsigned        rate;         /* espeak-ng words per minute */
    double          speed;
    long            barge_in_after;   /* ms, or -1 */
    long            gap;          /* ms of agent silence that ends a reply */
    long            first_wait;   /* ms to wait for a greeting */
    long            reply_timeout;
    long            answer_timeout;
    long            timeout;      /* the whole call */
    unsigned        calls;
    double          ramp;         /* s over which the calls start */
    long            pid;          /* the gateway's master, or 0 */
    int             quiet;
    int             verbose;
    rc_turn_t       turns[RC_TURNS_MAX];
    unsigned        nturns;
} rc_opts_t;


typedef struct rc_sim_s  rc_sim_t;


typedef struct {
    rc_sim_t       *sim;
    unsigned        index;        /* 1.. */
    pthread_t       thread;
    int             started;

    char            context[RC_ID_LEN];  /* incomingCallContext */
    char            id[RC_ID_LEN];       /* callConnectionId */
    char            correlation[40];
    char            server_call_id[RC_ID_LEN];

    /* set by the REST endpoint, under sim->lock */
    int             answered;
    char           *callback_uri;
    char           *transport_url;
    unsigned        sample_rate;
    int             hung_up;      /* the gateway hung up the call */
    int             transferred;
    char            transfer_target[128];
    unsigned        plays;
    double          answered_at;  /* ms since the call started */

    /* the results, the call's thread alone */
    int             failed;
    char            error[RC_ERR_LEN];
    double          latency[RC_TURNS_MAX];
    unsigned        nlatency;
    double          barge[RC_TURNS_MAX];
    unsigned        nbarge;
    unsigned        stops;        /* StopAudio received */
    size_t          agent_samples;
    char            outcome[64];
    char           *report;       /* the conversation, printed by main */
} rc_call_t;


struct rc_sim_s {
    rc_opts_t                        *opts;
    ngx_http_rtagent_acs_account_t    account;
    int                               listen_fd;
    int                               wake[2];      /* stops the server */
    pthread_t                         server;
    pthread_mutex_t                   lock;
    pthread_cond_t                    cond;
    rc_call_t                        *calls;
    unsigned                          ncalls;
    unsigned                          bad_signatures;
    unsigned                          requests;
};


double rc_now_ms(void);
void rc_uuid(char *out);

/* the REST endpoint (rc_acs.c): listens on the connection string's host */
int rc_acs_start(rc_sim_t *sim, char *err, size_t errlen);
void rc_acs_stop(rc_sim_t *sim);

/* one call (rc_call.c), run in its own thread */
void *rc_call_run(void *data);

/*
 * The caller's audio of a turn at 16 and 24 kHz (rc_say.c), before the
 * calls start: read only after; 0 or -1 with err
 */
int rc_turn_prepare(rc_opts_t *o, rc_turn_t *turn, char *err,
    size_t errlen);


#endif /* _RC_H_INCLUDED_ */
