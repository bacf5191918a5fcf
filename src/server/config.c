/* config.c - server configuration: defaults, then a JSON file (--config), then the environment
 * (VERIFACE_*), then the command line. Every value is range-checked; a bad one stops start-up. */
#include "server.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const vf_srv_qmetric vf_srv_qmetrics[VF_SRV_QMETRICS] = {
    {"face_width", offsetof(vf_quality, face_width)},   {"center_offset", offsetof(vf_quality, center_offset)},
    {"presence", offsetof(vf_quality, presence)},       {"yaw", offsetof(vf_quality, yaw)},
    {"pitch", offsetof(vf_quality, pitch)},             {"roll", offsetof(vf_quality, roll)},
    {"eye_open", offsetof(vf_quality, eye_open)},       {"brightness", offsetof(vf_quality, brightness)},
    {"contrast", offsetof(vf_quality, contrast)},       {"light_asymmetry", offsetof(vf_quality, light_asymmetry)},
    {"glare", offsetof(vf_quality, glare)},             {"sharpness", offsetof(vf_quality, sharpness)},
    {"motion", offsetof(vf_quality, motion)},           {"sharpness_dir", offsetof(vf_quality, sharpness_dir)},
};

/* Tolerances: measured client (simd, raw RGBA) vs server (xnnpack, JPEG q0.92) differences with
 * margin; see docs/SERVER.md for the measurement (tests/server/measure_tolerance). */
/* order of vf_srv_qmetrics:  face_width, center_offset, presence, yaw, pitch, roll, eye_open,
 *                            brightness, contrast, light_asymmetry, glare, sharpness, motion, sharpness_dir
 * measured worst case over live and phone-replay video (JPEG q80, 1258 windows of 5 frames):
 *   0.0027, 0.0014, 0.0008, 2.29, 1.96, 0.99, 0.043, 1.13, 1.21, 0.019, 0.011, 0.024, 0.014, 0.009
 * (plus the rounding of the C JSON); the tolerances are about 2-10x that */
static const float Q_ABS[VF_SRV_QMETRICS] = {0.01f, 0.01f, 0.02f, 5.0f, 5.0f, 3.0f, 0.08f, 4.0f, 3.0f, 0.05f, 0.03f, 0.03f, 0.04f, 0.01f};
static const float Q_REL[VF_SRV_QMETRICS] = {0.02f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.25f, 0.0f, 0.5f};

void vf_srv_config_defaults(vf_srv_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    c->collections_ivf_min = 50000;   /* faces from which a collection's index is IVF (tools/bench-index) */
    snprintf(c->db_path, sizeof c->db_path, "./veriface.db");
    snprintf(c->models_dir, sizeof c->models_dir, "./models");
    snprintf(c->pad_models_dir, sizeof c->pad_models_dir, "./build/models");
    c->threads = 2;
    vf_srv_limits *l = &c->limits;
    l->max_body = 8u << 20;
    l->max_frame_width = 1280;
    l->max_frame_height = 720;
    l->max_frame_pixels = 1280 * 720;
    l->max_reference_bytes = 4u << 20;
    l->max_reference_side = 4096;
    l->max_clock_skew_s = 300;
    l->nonce_ttl_s = 300;
    l->request_timeout_s = 30;
    l->max_connections = 256;
    l->per_ip_connections = 16;       /* at most max_connections / 8 (frontdoor.c) */
    l->per_ip_rate = 20;
    l->per_ip_burst = 60;
    l->per_session_per_min = 10;
    l->min_session_ttl = 60;
    l->header_timeout_s = 10;
    l->max_header_size = 16384;
    l->body_budget = 64u << 20;
    l->max_results_in_flight = 0;     /* 2 x threads, set once threads is known */
    c->tamper.liveness = 0.25f;   /* phone-replay frames move by up to 0.17 through JPEG (docs/SERVER.md) */
    c->tamper.embedding = 0.90f;
    memcpy(c->tamper.q_abs, Q_ABS, sizeof Q_ABS);
    memcpy(c->tamper.q_rel, Q_REL, sizeof Q_REL);
    /* freshness, measured (docs/SERVER.md, tests/server/measure_freshness): real consecutive frames
     * change by >= 3.1, copies of a still by <= 1.6; a copy's thumbnail distance is <= 0.35 and its
     * hash moves by <= 4 bits, real frames a second or more apart are >= 0.93 */
    vf_srv_freshness_config *f = &c->freshness;
    f->dup_change = 2.2f;
    f->dup_residual = 5.0f;
    f->replay_hamming = 6;
    f->replay_distance = 0.6f;
    f->replay_max_candidates = 1000;
    f->min_interval_ms = 1000.0 / 120;
    f->max_interval_ms = 1500;
    f->slack_ms = 1000;
    vf_srv_session_config *s = &c->session;
    s->liveness_type = VF_MODE_PASSIVE;
    s->face_match_threshold = VF_MATCH_WEAK_DEFAULT;
    s->max_retries = 3;
    s->session_ttl = 600;
    s->session = vf_session_default_config();
    s->jpeg_quality = 0.92f;
    c->policy = vf_policy_default_config();
    s->challenge = vf_challenge_default_config();
    vf_srv_webhook_config_defaults(&c->webhooks);
    c->photo_retention_s = 7 * 86400;
}

static int num(const cJSON *o, const char *k, double lo, double hi, double *v, char *err, size_t es) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!x) return 0;
    if (!cJSON_IsNumber(x) || !(x->valuedouble >= lo && x->valuedouble <= hi)) {
        snprintf(err, es, "config: %s must be a number in %g..%g", k, lo, hi);
        return -1;
    }
    *v = x->valuedouble;
    return 1;
}

#define NUMF(o, k, lo, hi, dst) do { double v_; int r_ = num(o, k, lo, hi, &v_, err, es); if (r_ < 0) return -1; if (r_) (dst) = (float)v_; } while (0)
#define NUMI(o, k, lo, hi, dst) do { double v_; int r_ = num(o, k, lo, hi, &v_, err, es); if (r_ < 0) return -1; \
    if (r_) { if (v_ != (double)(long long)v_) { snprintf(err, es, "config: %s must be an integer", k); return -1; } (dst) = (int)v_; } } while (0)

/* The quality thresholds by name and range: the core's one table (vf_quality_config_fields). */
int vf_srv_quality_config_apply(const cJSON *q, vf_quality_config *c, char *err, size_t es) {
    int nq;
    const vf_quality_field *QFIELDS = vf_quality_config_fields(&nq);
    if (!q) return 0;
    if (!cJSON_IsObject(q)) { snprintf(err, es, "config: quality must be an object"); return -1; }
    const cJSON *x;
    cJSON_ArrayForEach(x, q) {   /* an unknown name is a typo that would silently do nothing */
        int i = 0;
        while (i < nq && strcmp(QFIELDS[i].name, x->string)) i++;
        if (i == nq) { snprintf(err, es, "config: quality.%s is not a quality threshold", x->string); return -1; }
    }
    for (int i = 0; i < nq; i++)
        NUMF(q, QFIELDS[i].name, QFIELDS[i].lo, QFIELDS[i].hi, *(float *)((char *)c + QFIELDS[i].offset));
    return 0;
}

/* float -> the shortest decimal that reads back as the same float (0.55, not 0.550000011920929) */
static double f2d(float f) {
    char b[32];
    snprintf(b, sizeof b, "%.7g", (double)f);
    return strtod(b, NULL);
}
#define cJSON_AddNumberToObject(o, k, v) cJSON_AddNumberToObject(o, k, f2d((float)(v)))

static cJSON *quality_json(const vf_quality_config *c) {
    int nq;
    const vf_quality_field *QFIELDS = vf_quality_config_fields(&nq);
    cJSON *q = cJSON_CreateObject();
    for (int i = 0; i < nq; i++)
        cJSON_AddNumberToObject(q, QFIELDS[i].name, *(const float *)((const char *)c + QFIELDS[i].offset));
    return q;
}

/* The request's `config` (only the four public fields) over the server's defaults. The server-only
 * fields (good_frames, frame size, quality) come from the server config's "session" object. */
/* The challenge object of a session's config: light off asks for 3 steps unless steps is given. */
static int challenge_parse(const cJSON *j, vf_challenge_config *c, char *err, size_t es) {
    static const char *const KEYS[] = {"light", "steps", "colors", "color_ms", "min_yaw", "min_pitch", "centre", "step_ms",
                                       "max_gap_ms", "max_speed", "min_light_corr", "min_light_colors", NULL};
    if (!j) return 0;
    if (!cJSON_IsObject(j)) { snprintf(err, es, "config.challenge must be an object"); return -1; }
    const cJSON *x;
    cJSON_ArrayForEach(x, j) {
        int known = 0;
        for (int i = 0; KEYS[i]; i++) known |= !strcmp(x->string, KEYS[i]);
        if (!known) { snprintf(err, es, "config.challenge.%s: unknown key", x->string); return -1; }
    }
    const cJSON *light = cJSON_GetObjectItemCaseSensitive(j, "light");
    if (light) {
        if (!cJSON_IsBool(light)) { snprintf(err, es, "config.challenge.light must be true or false"); return -1; }
        c->light = cJSON_IsTrue(light);
        if (!cJSON_GetObjectItemCaseSensitive(j, "steps")) c->steps = c->light ? 2 : 3;
    }
    NUMI(j, "steps", 2, 3, c->steps);
    NUMI(j, "colors", 4, 12, c->colors);
    NUMI(j, "color_ms", 350, 2000, c->color_ms);
    NUMF(j, "min_yaw", 8, 45, c->min_yaw);
    NUMF(j, "min_pitch", 6, 35, c->min_pitch);
    NUMF(j, "centre", 3, 30, c->centre);
    NUMI(j, "step_ms", 1000, 20000, c->step_ms);
    NUMI(j, "max_gap_ms", 50, 2000, c->max_gap_ms);
    NUMF(j, "max_speed", 60, 2000, c->max_speed);
    NUMF(j, "min_light_corr", 0, 1, c->min_light_corr);
    NUMI(j, "min_light_colors", 2, 12, c->min_light_colors);
    char e2[160];
    if (vf_challenge_config_check(c, e2, sizeof e2)) { snprintf(err, es, "config.%s", e2); return -1; }
    return 0;
}

static cJSON *challenge_json(const vf_challenge_config *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "light", c->light);
    cJSON_AddNumberToObject(j, "steps", c->steps);
    cJSON_AddNumberToObject(j, "colors", c->colors);
    cJSON_AddNumberToObject(j, "color_ms", c->color_ms);
    cJSON_AddNumberToObject(j, "min_yaw", c->min_yaw);
    cJSON_AddNumberToObject(j, "min_pitch", c->min_pitch);
    cJSON_AddNumberToObject(j, "centre", c->centre);
    cJSON_AddNumberToObject(j, "step_ms", c->step_ms);
    cJSON_AddNumberToObject(j, "max_gap_ms", c->max_gap_ms);
    cJSON_AddNumberToObject(j, "max_speed", c->max_speed);
    cJSON_AddNumberToObject(j, "min_light_corr", c->min_light_corr);
    cJSON_AddNumberToObject(j, "min_light_colors", c->min_light_colors);
    return j;
}

static int known_keys(const cJSON *o, const char *where, const char *const *keys, char *err, size_t es);

/* The fields a session request may set (also read from the config file's "session" object). */
static int session_fields(const cJSON *j, const vf_srv_session_config *base, vf_srv_session_config *out, char *err, size_t es) {
    *out = *base;
    if (!j) return 0;
    if (!cJSON_IsObject(j)) { snprintf(err, es, "config must be an object"); return -1; }
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(j, "liveness_type");
    if (lt) {
        int m = cJSON_IsString(lt) ? vf_liveness_mode_parse(lt->valuestring) : -1;
        if (m < 0) { snprintf(err, es, "config.liveness_type must be passive, active or adaptive"); return -1; }
        out->liveness_type = (vf_liveness_mode)m;
    }
    NUMF(j, "face_match_threshold", 0, 1, out->face_match_threshold);
    NUMI(j, "max_retries", 0, 10, out->max_retries);
    NUMI(j, "session_ttl", 1, 3600, out->session_ttl);
    return challenge_parse(cJSON_GetObjectItemCaseSensitive(j, "challenge"), &out->challenge, err, es);
}

int vf_srv_session_config_parse(const cJSON *j, const vf_srv_session_config *base, vf_srv_session_config *out,
                                char *err, size_t es) {
    /* what an integrator may set per session; anything else is a typo that would do nothing */
    static const char *const KEYS[] = {"liveness_type", "face_match_threshold", "max_retries", "session_ttl", "challenge", NULL};
    if (j && cJSON_IsObject(j) && known_keys(j, "config.", KEYS, err, es)) return -1;
    return session_fields(j, base, out, err, es);
}

/* Every session field (the config file's "session" object, a stored session's config). */
static int session_server_fields(const cJSON *j, vf_srv_session_config *o, char *err, size_t es) {
    if (session_fields(j, o, o, err, es)) return -1;
    vf_session_config *s = &o->session;
    NUMI(j, "good_frames", 1, VF_SESSION_MAX_CHOSEN, s->good_frames);
    NUMI(j, "liveness_frames", 1, VF_SESSION_MAX_CHOSEN, s->liveness_frames);
    NUMF(j, "live_pass", 0, 1, s->live_pass);
    NUMF(j, "live_fail", 0, 1, s->live_fail);
    NUMI(j, "max_frame_width", 16, 8192, s->max_width);
    NUMI(j, "max_frame_height", 16, 8192, s->max_height);
    NUMF(j, "jpeg_quality", 0.5, 1, o->jpeg_quality);
    if (s->liveness_frames > s->good_frames) s->liveness_frames = s->good_frames;
    if (s->live_fail > s->live_pass) { snprintf(err, es, "config: session.live_fail > live_pass"); return -1; }
    return vf_srv_quality_config_apply(cJSON_GetObjectItemCaseSensitive(j, "quality"), &s->quality, err, es);
}

int vf_srv_session_config_load(const cJSON *j, const vf_srv_session_config *base, vf_srv_session_config *out, char *err, size_t es) {
    *out = *base;
    return session_server_fields(j, out, err, es);
}

cJSON *vf_srv_session_config_json(const vf_srv_session_config *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "liveness_type", vf_liveness_mode_name(c->liveness_type));
    cJSON_AddNumberToObject(j, "face_match_threshold", c->face_match_threshold);
    cJSON_AddNumberToObject(j, "max_retries", c->max_retries);
    cJSON_AddNumberToObject(j, "session_ttl", c->session_ttl);
    cJSON_AddNumberToObject(j, "good_frames", c->session.good_frames);
    cJSON_AddNumberToObject(j, "liveness_frames", c->session.liveness_frames);
    cJSON_AddNumberToObject(j, "live_pass", c->session.live_pass);
    cJSON_AddNumberToObject(j, "live_fail", c->session.live_fail);
    cJSON_AddNumberToObject(j, "max_frame_width", c->session.max_width);
    cJSON_AddNumberToObject(j, "max_frame_height", c->session.max_height);
    cJSON_AddNumberToObject(j, "jpeg_quality", c->jpeg_quality);
    cJSON_AddItemToObject(j, "quality", quality_json(&c->session.quality));
    cJSON_AddItemToObject(j, "challenge", challenge_json(&c->challenge));
    return j;
}

static int str(const cJSON *o, const char *k, char *dst, size_t n, char *err, size_t es) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!x) return 0;
    if (!cJSON_IsString(x) || strlen(x->valuestring) >= n) { snprintf(err, es, "config: %s must be a string < %zu chars", k, n); return -1; }
    snprintf(dst, n, "%s", x->valuestring);
    return 0;
}

static int add_key(vf_srv_config *c, const char *k, char *err, size_t es) {
    if (c->n_keys >= VF_SRV_MAX_KEYS || strlen(k) < 16 || strlen(k) >= sizeof c->api_keys[0]) {
        snprintf(err, es, "api key: at most %d keys of 16..127 characters", VF_SRV_MAX_KEYS);
        return -1;
    }
    snprintf(c->api_keys[c->n_keys++], sizeof c->api_keys[0], "%s", k);
    return 0;
}

static int parse_listen(vf_srv_config *c, const char *v, char *err, size_t es) {
    const char *colon = strrchr(v, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == v || (size_t)(colon - v) >= sizeof c->listen_host || *end || port < 0 || port > 65535) {
        snprintf(err, es, "--listen: HOST:PORT expected, got '%s'", v);
        return -1;
    }
    memcpy(c->listen_host, v, (size_t)(colon - v));
    c->listen_host[colon - v] = 0;
    c->listen_port = (int)port;
    return 0;
}

/* A key the server does not know is a typo that would silently do nothing: refuse it. */
static int known_keys(const cJSON *o, const char *where, const char *const *keys, char *err, size_t es) {
    const cJSON *x;
    if (o && !cJSON_IsObject(o)) { snprintf(err, es, "config: %.*s must be an object", (int)strcspn(where, "."), where); return -1; }
    cJSON_ArrayForEach(x, o) {
        int ok = 0;
        for (const char *const *k = keys; *k && !ok; k++) ok = !strcmp(*k, x->string);
        if (!ok) { snprintf(err, es, "config: unknown key %s%s", where, x->string); return -1; }
    }
    return 0;
}

static const char *const TOP_KEYS[] = {"listen", "db", "models", "pad_models", "static", "demo", "threads", "http_threads",
                                       "api_keys", "limits", "tamper", "freshness", "session", "policy", "metrics_token",
                                       "public_url", "integrators", "webhooks", "retention",
                                       "collections", NULL};
static const char *const COLLECTION_KEYS[] = {"ivf_min", "nprobe", NULL};
static const char *const LIMIT_KEYS[] = {"max_body", "max_frame_width", "max_frame_height", "max_frame_pixels", "max_reference_bytes",
                                         "max_reference_side", "max_clock_skew", "nonce_ttl", "request_timeout", "max_connections",
                                         "per_ip_connections", "per_ip_rate", "per_ip_burst", "per_session_per_min", "min_session_ttl",
                                         "trusted_proxy", "header_timeout", "max_header_size", "body_budget",
                                         "max_results_in_flight", NULL};
static const char *const TAMPER_KEYS[] = {"liveness", "embedding", "quality", NULL};
/* in the order of apply_file's range table */
static const char *const FRESHNESS_KEYS[] = {"duplicate_change", "duplicate_residual", "replay_hamming", "replay_distance",
                                             "replay_max_candidates", "min_frame_interval_ms", "max_frame_interval_ms",
                                             "timestamp_slack_ms", NULL};
static const char *const SESSION_KEYS[] = {"liveness_type", "face_match_threshold", "max_retries", "session_ttl", "good_frames",
                                           "liveness_frames", "live_pass", "live_fail", "max_frame_width", "max_frame_height",
                                           "jpeg_quality", "quality", "challenge", NULL};
static const char *const WEBHOOK_KEYS[] = {"base_ms", "max_ms", "max_attempts", "timeout", "poll_ms", "allow_private",
                                           "allow_http", NULL};
static const char *const INTEGRATOR_KEYS[] = {"api_key", "webhook_secret", NULL};
static const char *const RETENTION_KEYS[] = {"photo", NULL};
static const char *const POLICY_KEYS[] = {"scrutiny_step", "scrutiny_max", "max_uncertain", "max_liveness_fail",
                                          "match_review_margin", NULL};

/* Managed sessions, webhooks and photos: public_url, integrators (an API key with its webhook
 * secret), webhooks (the retry schedule and the target rule), retention. */
static int hooks_object(vf_srv_config *c, const cJSON *j, char *err, size_t es) {
    const cJSON *x, *it;
    if (str(j, "public_url", c->public_url, sizeof c->public_url, err, es)) return -1;
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "integrators"))) {
        if (!cJSON_IsArray(x)) { snprintf(err, es, "config: integrators must be an array of {api_key, webhook_secret}"); return -1; }
        cJSON_ArrayForEach(it, x) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "api_key"), *w = cJSON_GetObjectItemCaseSensitive(it, "webhook_secret");
            if (known_keys(it, "integrators[].", INTEGRATOR_KEYS, err, es)) return -1;
            if (!cJSON_IsString(k) || (w && (!cJSON_IsString(w) || strlen(w->valuestring) < 16 || strlen(w->valuestring) > 127))) {
                snprintf(err, es, "config: integrators[]: api_key (string) and webhook_secret (16..127 characters)");
                return -1;
            }
            int at = 0;   /* a key already listed in api_keys gets its secret there */
            while (at < c->n_keys && strcmp(c->api_keys[at], k->valuestring)) at++;
            if (at == c->n_keys && add_key(c, k->valuestring, err, es)) return -1;
            if (w) snprintf(c->webhook_secrets[at], sizeof c->webhook_secrets[0], "%s", w->valuestring);
        }
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "webhooks"))) {
        vf_srv_webhook_config *w = &c->webhooks;
        NUMI(x, "base_ms", 10, 3600000, w->base_ms);
        NUMI(x, "max_ms", 10, 86400000, w->max_ms);
        NUMI(x, "max_attempts", 1, 1000, w->max_attempts);
        NUMI(x, "timeout", 1, 300, w->timeout_s);
        NUMI(x, "poll_ms", 10, 600000, w->poll_ms);
        if ((it = cJSON_GetObjectItemCaseSensitive(x, "allow_private"))) w->allow_private = cJSON_IsTrue(it);
        if ((it = cJSON_GetObjectItemCaseSensitive(x, "allow_http"))) w->allow_http = cJSON_IsTrue(it);
        if (w->max_ms < w->base_ms) { snprintf(err, es, "config: webhooks.max_ms must be at least base_ms"); return -1; }
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "retention"))) NUMI(x, "photo", 0, 10 * 366 * 86400, c->photo_retention_s);
    return 0;
}

/* The keys of one parsed config object over c (apply_json holds the tree). */
static int apply_object(vf_srv_config *c, const cJSON *j, char *err, size_t es) {
    const cJSON *x;
    if (known_keys(j, "", TOP_KEYS, err, es) || known_keys(cJSON_GetObjectItemCaseSensitive(j, "limits"), "limits.", LIMIT_KEYS, err, es) ||
        known_keys(cJSON_GetObjectItemCaseSensitive(j, "tamper"), "tamper.", TAMPER_KEYS, err, es) ||
        known_keys(cJSON_GetObjectItemCaseSensitive(j, "freshness"), "freshness.", FRESHNESS_KEYS, err, es) ||
        known_keys(cJSON_GetObjectItemCaseSensitive(j, "session"), "session.", SESSION_KEYS, err, es) ||
        known_keys(cJSON_GetObjectItemCaseSensitive(j, "policy"), "policy.", POLICY_KEYS, err, es) ||
        known_keys(cJSON_GetObjectItemCaseSensitive(j, "webhooks"), "webhooks.", WEBHOOK_KEYS, err, es) ||
        known_keys(cJSON_GetObjectItemCaseSensitive(j, "retention"), "retention.", RETENTION_KEYS, err, es) ||
        known_keys(cJSON_GetObjectItemCaseSensitive(j, "collections"), "collections.", COLLECTION_KEYS, err, es))
        return -1;
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "collections"))) {
        double v = (double)c->collections_ivf_min;
        if (num(x, "ivf_min", 40, 1e9, &v, err, es) < 0) return -1;
        c->collections_ivf_min = (size_t)v;
        v = c->collections_nprobe;
        if (num(x, "nprobe", 0, 1e6, &v, err, es) < 0) return -1;
        c->collections_nprobe = (int)v;
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "listen")) && !cJSON_IsString(x)) { snprintf(err, es, "config: listen must be a string HOST:PORT"); return -1; }
    if (x && parse_listen(c, x->valuestring, err, es)) return -1;
    if (str(j, "db", c->db_path, sizeof c->db_path, err, es) || str(j, "models", c->models_dir, sizeof c->models_dir, err, es) ||
        str(j, "pad_models", c->pad_models_dir, sizeof c->pad_models_dir, err, es) ||
        str(j, "static", c->static_dir, sizeof c->static_dir, err, es))
        return -1;
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "demo"))) c->demo = cJSON_IsTrue(x);
    NUMI(j, "threads", 1, 64, c->threads);
    NUMI(j, "http_threads", 1, 256, c->http_threads);
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "api_keys"))) {
        const cJSON *k;
        if (!cJSON_IsArray(x)) { snprintf(err, es, "config: api_keys must be an array of strings"); return -1; }
        cJSON_ArrayForEach(k, x) {
            if (!cJSON_IsString(k)) { snprintf(err, es, "config: api_keys must be an array of strings"); return -1; }
            if (add_key(c, k->valuestring, err, es)) return -1;
        }
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "limits"))) {
        vf_srv_limits *l = &c->limits;
        double v;
        int r;
        if ((r = num(x, "max_body", 1024, 256.0 * 1024 * 1024, &v, err, es)) < 0) return -1; else if (r) l->max_body = (size_t)v;
        if ((r = num(x, "max_frame_pixels", 256, 67108864, &v, err, es)) < 0) return -1; else if (r) l->max_frame_pixels = (int64_t)v;
        if ((r = num(x, "max_reference_bytes", 1024, 64.0 * 1024 * 1024, &v, err, es)) < 0) return -1; else if (r) l->max_reference_bytes = (size_t)v;
        NUMI(x, "max_frame_width", 16, 8192, l->max_frame_width);
        NUMI(x, "max_frame_height", 16, 8192, l->max_frame_height);
        NUMI(x, "max_reference_side", 64, 16384, l->max_reference_side);
        NUMI(x, "max_clock_skew", 1, 86400, l->max_clock_skew_s);
        NUMI(x, "nonce_ttl", 1, 86400, l->nonce_ttl_s);
        NUMI(x, "request_timeout", 1, 3600, l->request_timeout_s);
        NUMI(x, "max_connections", 1, 65536, l->max_connections);
        NUMI(x, "per_ip_connections", 0, 65536, l->per_ip_connections);
        if ((r = num(x, "per_ip_rate", 0, 1e6, &v, err, es)) < 0) return -1; else if (r) l->per_ip_rate = v;
        if ((r = num(x, "per_ip_burst", 1, 1e6, &v, err, es)) < 0) return -1; else if (r) l->per_ip_burst = v;
        NUMI(x, "per_session_per_min", 0, 100000, l->per_session_per_min);
        NUMI(x, "min_session_ttl", 1, 3600, l->min_session_ttl);
        if (str(x, "trusted_proxy", l->trusted_proxy, sizeof l->trusted_proxy, err, es)) return -1;
        NUMI(x, "header_timeout", 1, 600, l->header_timeout_s);
        if ((r = num(x, "max_header_size", 1024, 65536, &v, err, es)) < 0) return -1; else if (r) l->max_header_size = (size_t)v;
        if ((r = num(x, "body_budget", 1024, 64.0 * 1024 * 1024 * 1024, &v, err, es)) < 0) return -1; else if (r) l->body_budget = (size_t)v;
        NUMI(x, "max_results_in_flight", 0, 4096, l->max_results_in_flight);
    }
    if (str(j, "metrics_token", c->metrics_token, sizeof c->metrics_token, err, es)) return -1;
    if (hooks_object(c, j, err, es)) return -1;
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "tamper"))) {
        NUMF(x, "liveness", 0, 1, c->tamper.liveness);
        NUMF(x, "embedding", -1, 1, c->tamper.embedding);
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(x, "quality"), *m;
        if (q && !cJSON_IsObject(q)) { snprintf(err, es, "config: tamper.quality must be an object"); return -1; }
        cJSON_ArrayForEach(m, q) {
            int i = 0;
            while (i < VF_SRV_QMETRICS && strcmp(vf_srv_qmetrics[i].name, m->string)) i++;
            if (i == VF_SRV_QMETRICS) { snprintf(err, es, "config: unknown key tamper.quality.%s", m->string); return -1; }
        }
        for (int i = 0; q && i < VF_SRV_QMETRICS; i++) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(q, vf_srv_qmetrics[i].name);
            if (m) { NUMF(m, "abs", 0, 1e9, c->tamper.q_abs[i]); NUMF(m, "rel", 0, 100, c->tamper.q_rel[i]); }
        }
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "freshness"))) {
        vf_srv_freshness_config *f = &c->freshness;
        double v[8] = {f->dup_change, f->dup_residual, f->replay_hamming, f->replay_distance, f->replay_max_candidates,
                       f->min_interval_ms, f->max_interval_ms, f->slack_ms};
        static const struct { double lo, hi; int integer; } R[8] = {{0, 255, 0}, {0, 255, 0}, {0, 7, 1}, {0, 255, 0}, {1, 1e6, 1},
                                                                   {0, 1000, 0}, {1, 600000, 0}, {0, 600000, 0}};
        for (int i = 0; i < 8; i++) {
            if (num(x, FRESHNESS_KEYS[i], R[i].lo, R[i].hi, &v[i], err, es) < 0) return -1;
            if (R[i].integer && v[i] != (double)(long long)v[i]) { snprintf(err, es, "config: %s must be an integer", FRESHNESS_KEYS[i]); return -1; }
        }
        f->dup_change = (float)v[0];
        f->dup_residual = (float)v[1];
        f->replay_hamming = (int)v[2];
        f->replay_distance = (float)v[3];
        f->replay_max_candidates = (int)v[4];
        f->min_interval_ms = v[5];
        f->max_interval_ms = v[6];
        f->slack_ms = v[7];
        if (f->min_interval_ms >= f->max_interval_ms) {
            snprintf(err, es, "config: freshness.min_frame_interval_ms must be below max_frame_interval_ms");
            return -1;
        }
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "session")) && session_server_fields(x, &c->session, err, es)) return -1;
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "policy"))) {
        NUMF(x, "scrutiny_step", 0, 1, c->policy.scrutiny_step);
        NUMF(x, "scrutiny_max", 0, 1, c->policy.scrutiny_max);
        NUMI(x, "max_uncertain", 1, 100, c->policy.max_uncertain);
        NUMI(x, "max_liveness_fail", 1, 100, c->policy.max_liveness_fail);
        NUMF(x, "match_review_margin", 0, 1, c->policy.match_review_margin);
    }
    return 0;
}

int vf_srv_config_apply_json(vf_srv_config *c, const char *text, size_t n, char *err, size_t es) {
    cJSON *j = text ? cJSON_ParseWithLength(text, n) : NULL;
    if (!j || !cJSON_IsObject(j)) { cJSON_Delete(j); snprintf(err, es, "config: not a JSON object"); return -1; }
    /* all or nothing: a file that fails half-way leaves c as it was */
    vf_srv_config tmp = *c;
    int rc = apply_object(&tmp, j, err, es);
    cJSON_Delete(j);
    if (rc == 0) *c = tmp;
    return rc;
}

char *vf_srv_read_small(const char *path, size_t max, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = malloc(max + 1);
    size_t n = b ? fread(b, 1, max + 1, f) : 0;
    fclose(f);
    if (!b || n > max) { free(b); errno = EFBIG; return NULL; }
    b[n] = 0;
    if (len) *len = n;
    return b;
}

static int apply_file(vf_srv_config *c, const char *path, char *err, size_t es) {
    enum { MAX_CONFIG = 1 << 20 };
    size_t n = 0;
    char *buf = vf_srv_read_small(path, MAX_CONFIG, &n);
    if (!buf && errno == EFBIG) { snprintf(err, es, "config: %s is over 1 MiB", path); return -1; }
    if (!buf) { snprintf(err, es, "config: cannot open %s: %s", path, strerror(errno)); return -1; }
    int rc = vf_srv_config_apply_json(c, buf, n, err, es);
    free(buf);
    if (rc) {   /* name the file */
        char inner[512];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, es, "%s (%s)", inner, path);
    }
    return rc;
}

static const char USAGE[] =
    "usage: veriface-server [--config FILE] [--listen HOST:PORT] [--db PATH] [--models DIR] [--pad-models DIR]\n"
    "                       [--static DIR] [--demo] [--api-key KEY]... [--threads N] [--quiet]\n"
    "environment: VERIFACE_LISTEN, VERIFACE_DB, VERIFACE_MODELS, VERIFACE_PAD_MODELS, VERIFACE_STATIC,\n"
    "             VERIFACE_DEMO=1, VERIFACE_API_KEYS (comma-separated), VERIFACE_THREADS, VERIFACE_METRICS_TOKEN\n";

int vf_srv_config_load(vf_srv_config *c, int argc, char **argv, char *err, size_t es) {
    vf_srv_config_defaults(c);
    for (int i = 1; i < argc; i++)   /* the file first, wherever --config is */
        if (!strcmp(argv[i], "--config") && i + 1 < argc && apply_file(c, argv[i + 1], err, es)) return -1;
    const char *e;
    if ((e = getenv("VERIFACE_LISTEN")) && parse_listen(c, e, err, es)) return -1;
    if ((e = getenv("VERIFACE_DB"))) snprintf(c->db_path, sizeof c->db_path, "%s", e);
    if ((e = getenv("VERIFACE_MODELS"))) snprintf(c->models_dir, sizeof c->models_dir, "%s", e);
    if ((e = getenv("VERIFACE_PAD_MODELS"))) snprintf(c->pad_models_dir, sizeof c->pad_models_dir, "%s", e);
    if ((e = getenv("VERIFACE_STATIC"))) snprintf(c->static_dir, sizeof c->static_dir, "%s", e);
    if ((e = getenv("VERIFACE_DEMO"))) c->demo = !strcmp(e, "1") || !strcmp(e, "true");
    if ((e = getenv("VERIFACE_THREADS"))) c->threads = atoi(e);
    if ((e = getenv("VERIFACE_METRICS_TOKEN")) && *e) {
        if (strlen(e) >= sizeof c->metrics_token) { snprintf(err, es, "VERIFACE_METRICS_TOKEN: at most 127 characters"); return -1; }
        snprintf(c->metrics_token, sizeof c->metrics_token, "%s", e);
    }
    if ((e = getenv("VERIFACE_API_KEYS"))) {
        char tmp[2048];
        snprintf(tmp, sizeof tmp, "%s", e);
        for (char *sv, *t = strtok_r(tmp, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) if (add_key(c, t, err, es)) return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "--demo") && strcmp(a, "--quiet") && strcmp(a, "--help");
        if (takes && !v) { snprintf(err, es, "%s needs a value\n%s", a, USAGE); return -1; }
        if (!strcmp(a, "--config")) ;
        else if (!strcmp(a, "--listen")) { if (parse_listen(c, v, err, es)) return -1; }
        else if (!strcmp(a, "--db")) snprintf(c->db_path, sizeof c->db_path, "%s", v);
        else if (!strcmp(a, "--models")) snprintf(c->models_dir, sizeof c->models_dir, "%s", v);
        else if (!strcmp(a, "--pad-models")) snprintf(c->pad_models_dir, sizeof c->pad_models_dir, "%s", v);
        else if (!strcmp(a, "--static")) snprintf(c->static_dir, sizeof c->static_dir, "%s", v);
        else if (!strcmp(a, "--api-key")) { if (add_key(c, v, err, es)) return -1; }
        else if (!strcmp(a, "--threads")) c->threads = atoi(v);
        else if (!strcmp(a, "--demo")) c->demo = 1;
        else if (!strcmp(a, "--quiet")) c->quiet = 1;
        else { snprintf(err, es, "%s%s", strcmp(a, "--help") ? "unknown option\n" : "", USAGE); return -1; }
        if (takes) i++;
    }
    if (c->threads < 1 || c->threads > 64) { snprintf(err, es, "--threads must be 1..64"); return -1; }
    if (!c->http_threads) c->http_threads = c->threads + 2;
    /* admission of result requests: one running and one waiting per engine by default */
    if (!c->limits.max_results_in_flight) c->limits.max_results_in_flight = 2 * c->threads;
    if (c->limits.body_budget < c->limits.max_body) {
        snprintf(err, es, "config: limits.body_budget (%zu) must be at least limits.max_body (%zu)", c->limits.body_budget, c->limits.max_body);
        return -1;
    }
    if (c->metrics_token[0] && strlen(c->metrics_token) < 16) { snprintf(err, es, "metrics_token: at least 16 characters"); return -1; }
    if (c->public_url[0]) {   /* scheme://host[:port], no path: session_url is built on it */
        const char *h = !strncmp(c->public_url, "https://", 8) ? c->public_url + 8 : !strncmp(c->public_url, "http://", 7) ? c->public_url + 7 : NULL;
        if (!h || !*h || strpbrk(h, "/?#@ \\")) { snprintf(err, es, "public_url: http(s)://HOST[:PORT] without a path expected"); return -1; }
    }
    /* frames larger than the limit are refused from their header; the session plans for the limit */
    if (c->session.session.max_width > c->limits.max_frame_width) c->session.session.max_width = c->limits.max_frame_width;
    if (c->session.session.max_height > c->limits.max_frame_height) c->session.session.max_height = c->limits.max_frame_height;
    return 0;
}
