/* server.h - internals of veriface-server shared by its files: configuration, the session record,
 * the request context, and the handles of the store, engine pool, metrics and rate limiter.
 * Layering: http.c (libmicrohttpd) -> routes.c / result.c (protocol) -> rerun.c (C pipeline),
 * signals.c, ../policy (decision) -> store.h (SQLite or PostgreSQL), crypto.c (OpenSSL). */
#ifndef VF_SERVER_H
#define VF_SERVER_H

#include "veriface.h"
#include "../policy/policy.h"
#include "../policy/challenge.h"
#include "url.h"
#include "webhook.h"

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
    /* managed sessions, webhooks, photos (issue 13) */
    char public_url[256];             /* base of session_url ("" = http://<Host of the request>) */
    char webhook_secrets[VF_SRV_MAX_KEYS][128];   /* per integrator = per API key ("" = no webhooks) */
    vf_srv_webhook_config webhooks;
    int photo_retention_s;            /* how long a session's photo is kept (604800; 0 = not kept) */
    size_t collections_ivf_min;       /* a collection of this many faces gets an IVF index (50 000) */
    int collections_nprobe;           /* IVF lists visited per search (0: 60% of them) */
} vf_srv_config;

void vf_srv_config_defaults(vf_srv_config *c);
/* Apply a JSON config file, then the environment, then argv; errors go to `err`. 0 = ok. */
int vf_srv_config_load(vf_srv_config *c, int argc, char **argv, char *err, size_t errsz);
/* The whole file, NUL-terminated (length in *len when given), at most `max` bytes; NULL when it cannot
 * be read (errno from fopen) or is larger (errno EFBIG). config.c: linked wherever the config is. */
char *vf_srv_read_small(const char *path, size_t max, size_t *len);
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
/* Every loaded model (hash[i] != "") against its row of MODELS_DIR/MANIFEST (by file name): 0 all
 * match, 1 no MANIFEST, -1 a mismatch or a missing row (err says which role, both hashes). */
int vf_srv_manifest_check(const char *models_dir, const char *const hash[VF_ROLE_COUNT], char *err, size_t errsz);
/* The page's pkg/models/roles.json under the static root against the loaded models' sha256 (by
 * role): 0 all equal, 1 no roles.json, -1 a file or hash differs (message in err). */
int vf_srv_page_roles_check(const char *static_dir, const char *const hash[VF_ROLE_COUNT], char *err, size_t errsz);

/* ---- store (store.h: the interface; store_sqlite.c, store_pg.c) ---------------------------- */

#include "store.h"

/* ---- metrics (metrics.c) ---------------------------------------------------------------------- */

typedef struct vf_srv_metrics vf_srv_metrics;
vf_srv_metrics *vf_srv_metrics_create(void);
void vf_srv_metrics_free(vf_srv_metrics *m);
void vf_srv_metrics_request(vf_srv_metrics *m, const char *route, int status, double seconds);
void vf_srv_metrics_decision(vf_srv_metrics *m, const char *decision);
void vf_srv_metrics_webhook(vf_srv_metrics *m, const char *state);   /* delivered, pending (a failed try), dead */
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
    struct vf_srv_collections *collections;   /* this process's face indexes (collections.c) */
    char static_root[4096];           /* realpath of cfg.static_dir, "" = no static files */
    void *daemon;                     /* struct MHD_Daemon */
    struct vf_srv_door *door;         /* the front door (frontdoor.h) */
    int results_in_flight;            /* result requests admitted now (atomic), <= limits.max_results_in_flight */
    struct vf_srv_outbox *outbox;     /* webhook delivery (outbox.h) */
} vf_srv;

/* A response being built by a handler. */
typedef struct vf_srv_reply {
    int status;
    char *body; size_t len;           /* malloc'd */
    const char *content_type;
    int fd; uint64_t fd_size;         /* static file (fd >= 0) instead of body */
    const char *cache_control;        /* NULL: no-store (API answers); static files revalidate or are immutable */
    char etag[48];                    /* static files: "" or the validator sent as ETag */
    const char *content_encoding;     /* static files: "gzip" when the precompressed file is sent */
    int vary;                         /* static files with a precompressed twin: Vary: Accept-Encoding */
    const char *route;                /* metrics label */
} vf_srv_reply;

typedef struct vf_srv_request {
    const char *method, *url, *remote;
    const char *auth, *signature, *content_type;
    const uint8_t *body; size_t len;
    const char *host, *origin, *fetch_site;   /* Host, Origin, Sec-Fetch-Site (NULL when absent) */
    const char *if_none_match, *version;      /* If-None-Match, the `v` query argument (static files) */
    int accept_gzip;                          /* static files: gzip allowed (Accept-Encoding, no Range) */
} vf_srv_request;

/* reply.c */
void vf_srv_reply_json(vf_srv_reply *r, int status, cJSON *j);      /* takes j */
void vf_srv_reply_error(vf_srv_reply *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A session id as the server makes them: 32 lowercase hex digits. */
static inline int vf_srv_valid_id(const char *id) {
    int n = 0;
    for (; id[n]; n++) if (n >= 32 || !((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f'))) return 0;
    return n == 32;
}

/* A monotonic clock in ms (durations, deadlines, rate limits): never steps with the wall clock. */
static inline double vf_srv_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
static inline double vf_srv_mono_s(void) { return vf_srv_mono_ms() / 1e3; }

/* Server time, epoch ms (sessions, nonces, decisions). */
static inline int64_t vf_srv_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
cJSON *vf_srv_models_json(vf_srv *s);                                        /* engines.c */
void vf_srv_route(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r);        /* routes.c */
int vf_srv_route_static(const char *url);   /* 1: vf_srv_route answers this path from the static directory */
void vf_srv_result(vf_srv *s, const vf_srv_request *q, const char *session_id, vf_srv_reply *r); /* result.c */
void vf_srv_static(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r);       /* static.c */
int vf_srv_http_start(vf_srv *s, int *port_out, char *err, size_t errsz);     /* http.c */
void vf_srv_http_stop(vf_srv *s);

/* managed.c: the integrator fields of session creation, the managed page and its start */
int vf_srv_managed_parse(vf_srv *s, const vf_srv_request *q, const cJSON *j, vf_srv_session *ss, int demo, vf_srv_reply *r,
                         const char **code);
int vf_srv_managed_prepare(vf_srv *s, const vf_srv_request *q, vf_srv_session *ss, char *session_url, size_t n);
cJSON *vf_srv_session_json(vf_srv *s, const vf_srv_session *ss);   /* what creation (and the start) answers */
void vf_srv_managed_page(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r);
void vf_srv_managed_start(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r);
void vf_srv_integrator_id(const char *api_key, char out[17]);
/* 1 when the authorized caller (q->auth "Bearer KEY") may see what integrator `owner` created (a
 * session, a collection): the key that created it, or any key when the owner is "" (demo sessions,
 * and rows stored before owners were recorded). */
int vf_srv_owner_visible(const vf_srv_request *q, const char *owner);
int vf_srv_session_visible(const vf_srv_request *q, const struct vf_srv_session *ss);   /* its integrator's */
const char *vf_srv_webhook_secret(const vf_srv *s, const char *integrator);   /* NULL: none */
/* photo_route.c: GET and DELETE of a session's photo and of the session */
void vf_srv_photo_get(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r);
void vf_srv_session_delete(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r);
/* Face collections (collections.c): one FAISS index per collection, refreshed from the store. */
typedef struct vf_srv_collections vf_srv_collections;
vf_srv_collections *vf_srv_collections_create(size_t ivf_min, int nprobe);
void vf_srv_collections_free(vf_srv_collections *c);
void vf_srv_collections_route(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r);   /* /v1/collections... */

/* Audit helper for rejections: one record, errors logged (reply.c). */
void vf_srv_audit_reject(vf_srv *s, const vf_srv_request *q, const char *route, const char *session_id, int attempt,
                         const vf_srv_reply *r, const char *code);

#endif
