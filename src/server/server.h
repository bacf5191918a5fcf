/* server.h - internals of veriface-server shared by its files: configuration, the session record,
 * the request context, and the handles of the store, engine pool, metrics and rate limiter.
 * Layering: http.c (libmicrohttpd) -> routes.c / result.c (protocol) -> rerun.c (C pipeline),
 * signals.c, ../policy (decision) -> store.c (SQLite), crypto.c (OpenSSL). */
#ifndef VF_SERVER_H
#define VF_SERVER_H

#include "veriface.h"
#include "../policy/policy.h"
#include "../policy/challenge.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define VF_SRV_MAX_KEYS 16
#define VF_SRV_EMB_MAX 1024

/* ---- configuration (config.c) ---------------------------------------------------------------- */

/* Quality metrics compared between client and server: tolerance = abs + rel * |server value|. */
#define VF_SRV_QMETRICS 14
typedef struct vf_srv_qmetric { const char *name; size_t offset; } vf_srv_qmetric;
extern const vf_srv_qmetric vf_srv_qmetrics[VF_SRV_QMETRICS];

typedef struct vf_srv_tamper {
    float liveness;                   /* |client - server| median score (0.15) */
    float embedding;                  /* min cosine(client, server) (0.90) */
    float q_abs[VF_SRV_QMETRICS], q_rel[VF_SRV_QMETRICS];
} vf_srv_tamper;

typedef struct vf_srv_limits {
    size_t max_body;                  /* bytes (8 MiB) */
    int max_frame_width, max_frame_height; /* header check before decode (1280 x 720) */
    int64_t max_frame_pixels;         /* (1280 * 720) */
    size_t max_reference_bytes;       /* decoded reference image bytes (4 MiB) */
    int max_reference_side;           /* (4096) */
    int max_clock_skew_s;             /* created_at vs server time (300) */
    int nonce_ttl_s;                  /* (300) */
    int request_timeout_s;            /* idle connection timeout (30) */
    int max_connections;              /* (256) */
    int per_ip_connections;           /* (32) */
    double per_ip_rate;               /* requests per second per client address (20; 0 = off) */
    double per_ip_burst;              /* (60) */
    int per_session_per_min;          /* result posts per session per minute (10; 0 = off) */
    int min_session_ttl;              /* lowest session_ttl a request may ask for (60; tests lower it) */
    char trusted_proxy[64];           /* a reverse proxy's address: its X-Forwarded-For names the client ("") */
    /* the front door (frontdoor.c) */
    int header_timeout_s;             /* the whole request head, from accept; does not restart per byte (10) */
    size_t max_header_size;           /* request head bytes (16 KiB); more -> 431 */
    size_t body_budget;               /* declared bodies reserved at once, all connections (64 MiB); over -> 503 */
    int max_results_in_flight;        /* result requests admitted at once (0 -> 2 x threads); more -> 503 */
} vf_srv_limits;

/* Freshness (freshness.c): thresholds measured in docs/SERVER.md. */
typedef struct vf_srv_freshness_config {
    float dup_change;                 /* two frames are one picture when their block change (2.2) */
    float dup_residual;               /* and their high-pass residual (5.0, luma levels) are both below these */
    int replay_hamming;               /* DCT-hash distance of an index candidate, 0..7 (6) */
    float replay_distance;            /* thumbnail distance that confirms a candidate (0.6, luma levels) */
    int replay_max_candidates;        /* index rows examined per frame (1000) */
    double min_interval_ms;           /* consecutive frame timestamps: 1000/120 */
    double max_interval_ms;           /* (1500) */
    double slack_ms;                  /* tolerance of the nonce window (1000) */
} vf_srv_freshness_config;

/* What a session is created with (request `config` over the server's defaults). */
typedef struct vf_srv_session_config {
    vf_liveness_mode liveness_type;
    float face_match_threshold;
    int max_retries;
    int session_ttl;                  /* seconds */
    vf_session_config session;        /* good_frames, liveness_frames, thresholds, frame size, quality */
    float jpeg_quality;
    vf_challenge_config challenge;    /* the active challenge (docs/CHALLENGE.md); the integrator may set
                                       * light, steps, min_yaw, min_pitch, step_ms per session */
} vf_srv_session_config;

typedef struct vf_srv_config {
    char listen_host[64];
    int listen_port;
    char db_path[1024], models_dir[1024], pad_models_dir[1024], static_dir[1024];
    int demo;
    int threads;                      /* engines (re-run workers) */
    int http_threads;                 /* unused: libmicrohttpd runs a thread per connection (the front door
                                       * bounds them); accepted so older config files still load */
    int n_keys;
    char api_keys[VF_SRV_MAX_KEYS][128];
    vf_srv_limits limits;
    vf_srv_tamper tamper;
    vf_srv_freshness_config freshness;
    vf_srv_session_config session;    /* defaults of every session */
    vf_policy_config policy;          /* scrutiny and review margins (per-session fields overridden) */
    int quiet;
    char metrics_token[128];          /* "" = /metrics open; else it needs Authorization: Bearer <token> */
} vf_srv_config;

void vf_srv_config_defaults(vf_srv_config *c);
/* Apply a JSON config file, then the environment, then argv; errors go to `err`. 0 = ok. */
int vf_srv_config_load(vf_srv_config *c, int argc, char **argv, char *err, size_t errsz);
/* Apply one config file's text (JSON) over c: all of it or, on error, nothing. 0 = ok. */
int vf_srv_config_apply_json(vf_srv_config *c, const char *text, size_t n, char *err, size_t errsz);
/* Parse the `config` object of a session request over `base`; 0 = ok, else err has the field. */
int vf_srv_session_config_parse(const cJSON *j, const vf_srv_session_config *base, vf_srv_session_config *out,
                                char *err, size_t errsz);
/* Every field of a session config, as vf_srv_session_config_json writes it (a stored session). */
int vf_srv_session_config_load(const cJSON *j, const vf_srv_session_config *base, vf_srv_session_config *out,
                               char *err, size_t errsz);
cJSON *vf_srv_session_config_json(const vf_srv_session_config *c);
int vf_srv_quality_config_apply(const cJSON *j, vf_quality_config *q, char *err, size_t errsz);

/* ---- crypto (crypto.c) ----------------------------------------------------------------------- */

/* 1 = valid, 0 = invalid; P1363 r||s (64 bytes) over `msg` with an SPKI DER P-256 key. */
int vf_srv_verify_p1363(const uint8_t *spki, size_t spki_len, const void *msg, size_t n, const uint8_t *sig, size_t sig_len);
/* 1 when the SPKI DER is an EC P-256 public key. */
int vf_srv_check_p256_spki(const uint8_t *spki, size_t len);
void vf_srv_sha256_hex(const void *p, size_t n, char hex[65]);
int vf_srv_random(void *p, size_t n);                       /* 0 = ok */
void vf_srv_hex(const uint8_t *p, size_t n, char *out);     /* out: 2n + 1 */
/* Strict decoders: NULL on any invalid character, bad padding or length; *n_out bytes, malloc'd. */
uint8_t *vf_srv_b64_decode(const char *s, size_t len, int url, size_t *n_out);
void vf_srv_b64url_encode(const uint8_t *p, size_t n, char *out); /* out: 4 * ceil(n/3) + 1 */
int vf_srv_key_equal(const char *a, const char *b);         /* constant time in the length of b */

/* ---- engines (engines.c) --------------------------------------------------------------------- */

typedef struct vf_srv_worker { vf_context *ctx; vf_engine *engine; } vf_srv_worker;
typedef struct vf_srv_engines vf_srv_engines;
int vf_srv_engines_create(const vf_srv_config *c, vf_srv_engines **out, char *err, size_t errsz);
void vf_srv_engines_free(vf_srv_engines *p);
vf_srv_worker *vf_srv_engines_acquire(vf_srv_engines *p);  /* blocks until one is free */
void vf_srv_engines_release(vf_srv_engines *p, vf_srv_worker *w);
const char *vf_srv_engines_hash(const vf_srv_engines *p, int i);
int vf_srv_engines_have_pad(const vf_srv_engines *p);

/* ---- store (store.c) ------------------------------------------------------------------------- */

typedef struct vf_srv_frame_print vf_srv_frame_print;   /* frameprint.h */

typedef struct vf_srv_session {
    char id[33];
    int64_t created_at, expires_at;
    uint8_t pubkey[160]; size_t pubkey_len;
    vf_srv_session_config cfg;
    float ref[VF_SRV_EMB_MAX]; int ref_dim;  /* 0 = no reference */
    char external_ref[129];
    int final;
    char decision[16];
    int attempt;                      /* current attempt */
    char nonce[48];                   /* its nonce */
    int64_t nonce_issued_at;
    int nonce_used;
    int uncertain_count, fail_count, challenge_passed;
    char challenge[16];               /* "sequence" when the current attempt answers a challenge, else "" */
    int demo;                         /* created through /demo/sessions */
} vf_srv_session;

typedef struct vf_srv_audit {
    const char *route, *session_id, *request_sha256, *remote;
    int attempt, status;
    const char *code;                 /* error code or decision */
    const char *decision;             /* NULL for rejections */
    const char *reasons_json, *detail_json;
} vf_srv_audit;

typedef struct vf_srv_store vf_srv_store;
int vf_srv_store_open(const char *path, vf_srv_store **out, char *err, size_t errsz);
void vf_srv_store_close(vf_srv_store *s);
/* Insert a new session and its attempt 1 with nonce, plus the audit record, in one transaction. */
int vf_srv_store_create_session(vf_srv_store *s, const vf_srv_session *ss, const vf_srv_audit *a);
int vf_srv_store_get_session(vf_srv_store *s, const char *id, vf_srv_session *out); /* 1 found, 0 none, -1 error */
/* 1 when `nonce` was issued for this session and already used. */
int vf_srv_store_nonce_used(vf_srv_store *s, const char *id, const char *nonce);
/* Spend the attempt's nonce (iff unused), record its outcome, update the session (final, or the
 * next attempt with its nonce and challenge) and append the audit record: one transaction,
 * committed before returning 0; 1 = the nonce was already used (nothing written), -1 = error. */
typedef struct vf_srv_outcome {
    int attempt; const char *decision; int final;
    const char *detail_json;          /* attempt detail for GET /v1/sessions/{id} */
    int uncertain_inc, fail_inc, challenge_passed;
    const char *next_nonce; const char *next_challenge; int64_t now;
    /* the package's frames, added to the frame index; with `recheck`, rows indexed after
     * `index_seen` (by a concurrent decision) that match them make the call return 2, nothing written */
    const vf_srv_frame_print *prints; int n_prints;
    int64_t index_seen; const vf_srv_freshness_config *recheck;
    const char *request_sha256;       /* the package decided ... */
    const char *answer_json;          /* ... and the page's answer: the same body again gets it again */
} vf_srv_outcome;
/* The answer recorded for the package with this body hash on this nonce (malloc'd JSON), or NULL:
 * a page whose answer was lost (a crash after the commit, a dropped connection) posts the same
 * signed body again and gets the same answer. */
char *vf_srv_store_recorded_answer(vf_srv_store *s, const char *id, const char *nonce, const char *request_sha256);
/* 0 = committed, 1 = the nonce was already used, 2 = a frame was indexed since index_seen, -1 = error. */
int vf_srv_store_record_outcome(vf_srv_store *s, const char *id, const vf_srv_outcome *o, const vf_srv_audit *a);
/* Earlier packages' frames like these (freshness.c): the same SHA-256, or a DCT hash within
 * c->replay_hamming whose thumbnail is within c->replay_distance. At most one hit per frame, in
 * hits[]; nearest[i] = the smallest thumbnail distance of frame i's candidates (+inf: none);
 * *candidates = rows examined; *last_id = the index's last row before the search. Returns the
 * number of hits, -1 on error. */
typedef struct vf_srv_index_hit {
    int frame, exact, hamming;
    float distance;
    char session_id[33];
    int attempt;
    int64_t at;
} vf_srv_index_hit;
int vf_srv_store_index_find(vf_srv_store *s, const vf_srv_frame_print *prints, int n, int64_t after_id,
                            const vf_srv_freshness_config *c, vf_srv_index_hit *hits, float *nearest, int *candidates,
                            int64_t *last_id);
int vf_srv_store_audit(vf_srv_store *s, const vf_srv_audit *a);
/* Detail for the integrator: session + attempts as JSON (malloc'd), NULL when unknown. */
char *vf_srv_store_session_detail(vf_srv_store *s, const char *id);

/* ---- metrics (metrics.c) ---------------------------------------------------------------------- */

typedef struct vf_srv_metrics vf_srv_metrics;
vf_srv_metrics *vf_srv_metrics_create(void);
void vf_srv_metrics_free(vf_srv_metrics *m);
void vf_srv_metrics_request(vf_srv_metrics *m, const char *route, int status, double seconds);
void vf_srv_metrics_decision(vf_srv_metrics *m, const char *decision);
char *vf_srv_metrics_text(vf_srv_metrics *m);  /* malloc'd Prometheus text */

/* ---- packages being decided (inflight.c) --------------------------------------------------- */

/* One package per session at a time in this process: a concurrent copy is refused at once
 * instead of re-running it for nothing (the store's transaction is the authority). */
typedef struct vf_srv_inflight vf_srv_inflight;
vf_srv_inflight *vf_srv_inflight_create(int slots);
void vf_srv_inflight_free(vf_srv_inflight *f);
int vf_srv_inflight_claim(vf_srv_inflight *f, const char *session_id);   /* 1 = claimed, 0 = busy */
void vf_srv_inflight_release(vf_srv_inflight *f, const char *session_id);

/* ---- rate limits (ratelimit.c) --------------------------------------------------------------- */

typedef struct vf_srv_ratelimit vf_srv_ratelimit;
vf_srv_ratelimit *vf_srv_ratelimit_create(double rate, double burst);
void vf_srv_ratelimit_free(vf_srv_ratelimit *r);
int vf_srv_ratelimit_take(vf_srv_ratelimit *r, const char *key, double now_s); /* 1 = allowed */

/* ---- the server and one request ---------------------------------------------------------------- */

typedef struct vf_srv {
    vf_srv_config cfg;
    vf_srv_store *store;
    vf_srv_engines *engines;
    vf_srv_metrics *metrics;
    vf_srv_ratelimit *ip_limit, *session_limit;
    vf_srv_inflight *inflight;
    char static_root[4096];           /* realpath of cfg.static_dir, "" = no static files */
    void *daemon;                     /* struct MHD_Daemon */
    struct vf_srv_door *door;         /* the front door (frontdoor.h) */
    int results_in_flight;            /* result requests admitted now (atomic), <= limits.max_results_in_flight */
} vf_srv;

/* A response being built by a handler. */
typedef struct vf_srv_reply {
    int status;
    char *body; size_t len;           /* malloc'd */
    const char *content_type;
    int fd; uint64_t fd_size;         /* static file (fd >= 0) instead of body */
    const char *route;                /* metrics label */
} vf_srv_reply;

typedef struct vf_srv_request {
    const char *method, *url, *remote;
    const char *auth, *signature, *content_type;
    const uint8_t *body; size_t len;
    const char *host, *origin, *fetch_site;   /* Host, Origin, Sec-Fetch-Site (NULL when absent) */
} vf_srv_request;

/* reply.c */
void vf_srv_reply_json(vf_srv_reply *r, int status, cJSON *j);      /* takes j */
void vf_srv_reply_error(vf_srv_reply *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Server time, epoch ms (sessions, nonces, decisions). */
static inline int64_t vf_srv_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
cJSON *vf_srv_models_json(vf_srv *s);                                        /* engines.c */
void vf_srv_route(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r);        /* routes.c */
void vf_srv_result(vf_srv *s, const vf_srv_request *q, const char *session_id, vf_srv_reply *r); /* result.c */
void vf_srv_static(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r);       /* static.c */
int vf_srv_http_start(vf_srv *s, int *port_out, char *err, size_t errsz);     /* http.c */
void vf_srv_http_stop(vf_srv *s);

/* Audit helper for rejections: one record, errors logged (reply.c). */
void vf_srv_audit_reject(vf_srv *s, const vf_srv_request *q, const char *route, const char *session_id, int attempt,
                         const vf_srv_reply *r, const char *code);

#endif
