/* glue.c - a flat C API for JavaScript (web/src/engine.js) over include/veriface.h.
 *
 * JS cannot easily build or read C structs, so this file owns them: a vf_wasm_engine holds the
 * context and engine, a vf_wasm_session holds a session, the last frame status, the result and a
 * JSON buffer. Calls return a vf_status (or a handle, NULL on failure) and JS reads strings back
 * through the accessors below. Only the browser module links it. */
#include "veriface.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct vf_wasm_engine {
    vf_context *ctx;
    vf_engine *engine;
    vf_status status;         /* of the create call, for JS to report */
} vf_wasm_engine;

typedef struct vf_wasm_session {
    vf_wasm_engine *w;
    vf_session *session;
    vf_session_config cfg;
    vf_frame_status status;   /* of the last push */
    vf_session_result result; /* after finish */
    uint32_t fingerprint[2];  /* lo, hi of the last pushed frame's vf_frame_fingerprint */
    int32_t kept_info[4];     /* index, width, height, channels of the last vf_wasm_session_kept */
    double kept_timestamp;
    char *json;               /* grows to the largest JSON written */
    size_t json_cap;
} vf_wasm_session;

/* The model roles (include/veriface.h, src/session/roles.c) for JS: field 0 name, 1 file, 2 stage,
 * 3 input convention; flags bit 0 required, bit 1 fetched (not committed). */
int vf_wasm_model_role_count(void) { return VF_ROLE_COUNT; }

const char *vf_wasm_model_role(int i, int field) {
    if (i < 0 || i >= VF_ROLE_COUNT) return "";
    const vf_model_role *r = &vf_model_roles(NULL)[i];
    return field == 0 ? r->name : field == 1 ? r->file : field == 2 ? r->stage : field == 3 ? r->input : "";
}

int vf_wasm_model_role_flags(int i) {
    if (i < 0 || i >= VF_ROLE_COUNT) return 0;
    const vf_model_role *r = &vf_model_roles(NULL)[i];
    return (r->required ? 1 : 0) | (r->fetched ? 2 : 0);
}

/* Create the context (threads: 1 = inline) and the engine from model bytes by role: bytes[i] and
 * sizes[i] for role i (VF_ROLE_COUNT entries each; size 0 = absent). Always returns a handle unless
 * out of memory: check vf_wasm_engine_status, read the message with vf_wasm_engine_error, then
 * vf_wasm_engine_free. */
vf_wasm_engine *vf_wasm_engine_create(int threads, const void *const *bytes, const size_t *sizes) {
    vf_wasm_engine *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    vf_context_options co = vf_context_default_options();
    co.threads = threads;
    if ((w->status = vf_context_create(&co, &w->ctx)) != VF_OK) return w;
    vf_engine_models m;
    for (int i = 0; i < VF_ROLE_COUNT; i++) {
        m.bytes[i] = bytes ? bytes[i] : NULL;
        m.size[i] = sizes ? sizes[i] : 0;
    }
    vf_model_options mo = vf_model_default_options();
    w->status = vf_engine_create(w->ctx, &m, &mo, &w->engine);
    return w;
}

int vf_wasm_engine_status(const vf_wasm_engine *w) { return w ? (int)w->status : VF_E_NO_MEMORY; }

const char *vf_wasm_engine_error(const vf_wasm_engine *w) {
    if (!w) return "out of memory";
    if (!w->ctx) return vf_status_string(w->status);
    return vf_context_last_error(w->ctx);
}

const char *vf_wasm_engine_model_hash(const vf_wasm_engine *w, int i) {
    return w && w->engine ? vf_engine_model_hash(w->engine, i) : "";
}

void vf_wasm_engine_free(vf_wasm_engine *w) {
    if (!w) return;
    vf_engine_free(w->engine);
    vf_context_free(w->ctx);
    free(w);
}

/* Session configs: JS starts from the defaults and sets each value the server's session config
 * carries, by its C field name (vf_session_config and vf_quality_config), so the page runs exactly
 * the checks the server re-runs. */
vf_session_config *vf_wasm_config_new(void) {
    vf_session_config *c = malloc(sizeof *c);
    if (c) *c = vf_session_default_config();
    return c;
}

void vf_wasm_config_free(vf_session_config *c) { free(c); }

/* Set one field; VF_E_INVALID_ARG for an unknown name or a quality threshold outside its range
 * (vf_session_create validates the others). */
int vf_wasm_config_set(vf_session_config *c, const char *name, double value) {
    if (!c || !name) return VF_E_INVALID_ARG;
    if (!strcmp(name, "good_frames")) c->good_frames = (int)value;
    else if (!strcmp(name, "liveness_frames")) c->liveness_frames = (int)value;
    else if (!strcmp(name, "live_pass")) c->live_pass = (float)value;
    else if (!strcmp(name, "live_fail")) c->live_fail = (float)value;
    else if (!strcmp(name, "max_width")) c->max_width = (int32_t)value;
    else if (!strcmp(name, "max_height")) c->max_height = (int32_t)value;
    else {
        int n;
        const vf_quality_field *qf = vf_quality_config_fields(&n);
        for (int i = 0; i < n; i++) {
            if (!strcmp(name, qf[i].name)) {
                if (!(value >= qf[i].lo && value <= qf[i].hi)) return VF_E_INVALID_ARG;
                *(float *)((char *)&c->quality + qf[i].offset) = (float)value;
                return VF_OK;
            }
        }
        return VF_E_INVALID_ARG;
    }
    return VF_OK;
}

/* A session with config `c` (copied; NULL = defaults). NULL on failure (message:
 * vf_wasm_engine_error). */
vf_wasm_session *vf_wasm_session_create(vf_wasm_engine *w, const vf_session_config *c) {
    if (!w || !w->engine) return NULL;
    vf_wasm_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->w = w;
    s->cfg = c ? *c : vf_session_default_config();
    if (vf_session_create(w->engine, &s->cfg, &s->session) != VF_OK) {
        free(s);
        return NULL;
    }
    return s;
}

void vf_wasm_session_free(vf_wasm_session *s) {
    if (!s) return;
    vf_session_free(s->session);
    free(s->json);
    free(s);
}

void vf_wasm_session_reset(vf_wasm_session *s) {
    if (s) vf_session_reset(s->session);
}

/* Fingerprint, then analyse one RGBA frame (rows packed). The status stays readable through
 * vf_wasm_session_status_json until the next push. */
int vf_wasm_session_push_rgba(vf_wasm_session *s, const uint8_t *rgba, int width, int height, double timestamp_ms) {
    if (!s || !rgba) return VF_E_INVALID_ARG;
    vf_frame f = {width, height, (size_t)width * 4, 4, rgba, timestamp_ms};
    uint64_t h = 0;
    vf_status r = vf_frame_fingerprint(s->w->ctx, &f, &h);
    if (r != VF_OK) return r;
    s->fingerprint[0] = (uint32_t)h;
    s->fingerprint[1] = (uint32_t)(h >> 32);
    return vf_session_push_frame(s->session, &f, &s->status);
}

/* Word 0 (low) or 1 (high) of the last frame's fingerprint (JS has no portable uint64 return). */
uint32_t vf_wasm_session_fingerprint(const vf_wasm_session *s, int word) {
    return s && (word == 0 || word == 1) ? s->fingerprint[word] : 0;
}

int vf_wasm_session_complete(const vf_wasm_session *s) { return s ? s->status.complete : 0; }

/* Write JSON into the session's buffer, growing it once if it was too small. */
typedef vf_status (*json_fn)(const vf_wasm_session *s, char *buf, size_t size, size_t *len);

static const char *to_json(vf_wasm_session *s, json_fn fn) {
    size_t len = 0;
    vf_status r = fn(s, s->json, s->json_cap, &len);
    if (r == VF_E_NO_MEMORY || !s->json) {
        char *bigger = realloc(s->json, len + 1);
        if (!bigger) return NULL;
        s->json = bigger;
        s->json_cap = len + 1;
        r = fn(s, s->json, s->json_cap, &len);
    }
    return r == VF_OK ? s->json : NULL;
}

static vf_status status_json(const vf_wasm_session *s, char *buf, size_t size, size_t *len) {
    return vf_frame_status_json(&s->status, buf, size, len);
}

static vf_status result_json(const vf_wasm_session *s, char *buf, size_t size, size_t *len) {
    return vf_session_result_json(s->session, &s->result, buf, size, len);
}

/* The last push's canonical status JSON; valid until the next call on this session. */
const char *vf_wasm_session_status_json(vf_wasm_session *s) { return s ? to_json(s, status_json) : NULL; }

int vf_wasm_session_finish(vf_wasm_session *s) {
    return s ? vf_session_finish(s->session, &s->result) : VF_E_INVALID_ARG;
}

/* The result's canonical JSON (after finish); valid until the next call on this session. */
const char *vf_wasm_session_result_json(vf_wasm_session *s) { return s ? to_json(s, result_json) : NULL; }

int vf_wasm_session_kept_count(const vf_wasm_session *s) { return s ? vf_session_kept_count(s->session) : 0; }

/* Kept frame i: returns its packed pixels (NULL on a bad index) and fills the info words
 * (vf_wasm_session_kept_info: 0 index, 1 width, 2 height, 3 channels) and timestamp. */
const uint8_t *vf_wasm_session_kept(vf_wasm_session *s, int i) {
    if (!s) return NULL;
    vf_frame f;
    int index = -1;
    if (vf_session_kept_frame(s->session, i, &f, &index) != VF_OK) return NULL;
    s->kept_info[0] = index;
    s->kept_info[1] = f.width;
    s->kept_info[2] = f.height;
    s->kept_info[3] = f.channels;
    s->kept_timestamp = f.timestamp_ms;
    return f.pixels;
}

int vf_wasm_session_kept_info(const vf_wasm_session *s, int word) {
    return s && word >= 0 && word < 4 ? s->kept_info[word] : 0;
}

double vf_wasm_session_kept_timestamp(const vf_wasm_session *s) { return s ? s->kept_timestamp : 0; }

const char *vf_wasm_session_error(const vf_wasm_session *s) { return s ? vf_context_last_error(s->w->ctx) : ""; }

/* ---- active challenge: vf_motion (include/veriface.h) -------------------------------------------
 * The page pushes each challenge frame (scaled like the frames it sends) and reads the pose it
 * prompts by; the words of the last push are read with vf_wasm_motion_frame. */
typedef struct vf_wasm_motion {
    vf_wasm_engine *w;
    vf_motion *motion;
    float frame[11];          /* of the last push: 0 face, 1 yaw, 2 pitch, 3 roll, 4..6 rgb, 7..10 face box */
} vf_wasm_motion;

/* A motion for max_frames frames (2..96) on the engine's detector and mesh. NULL on failure
 * (message: vf_wasm_engine_error). */
vf_wasm_motion *vf_wasm_motion_create(vf_wasm_engine *w, int max_frames) {
    if (!w || !w->engine) return NULL;
    vf_wasm_motion *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->w = w;
    if (vf_motion_create(w->engine, max_frames, &m->motion) != VF_OK) {
        free(m);
        return NULL;
    }
    return m;
}

void vf_wasm_motion_free(vf_wasm_motion *m) {
    if (!m) return;
    vf_motion_free(m->motion);
    free(m);
}

void vf_wasm_motion_reset(vf_wasm_motion *m) {
    if (m) vf_motion_reset(m->motion);
}

int vf_wasm_motion_count(const vf_wasm_motion *m) { return m ? vf_motion_count(m->motion) : 0; }

/* Push one RGBA frame (rows packed); the result is read with vf_wasm_motion_frame. */
int vf_wasm_motion_push_rgba(vf_wasm_motion *m, const uint8_t *rgba, int width, int height, double timestamp_ms) {
    if (!m || !rgba) return VF_E_INVALID_ARG;
    vf_frame f = {width, height, (size_t)width * 4, 4, rgba, timestamp_ms};
    vf_motion_frame out;
    memset(m->frame, 0, sizeof m->frame);
    vf_status r = vf_motion_push(m->motion, &f, &out);
    if (r != VF_OK) return r;
    m->frame[0] = (float)out.face;
    m->frame[1] = out.yaw;
    m->frame[2] = out.pitch;
    m->frame[3] = out.roll;
    memcpy(&m->frame[4], out.rgb, sizeof out.rgb);
    memcpy(&m->frame[7], out.face_box, sizeof out.face_box);
    return VF_OK;
}

/* The 11 words of the last push (see vf_wasm_motion), as a pointer JS reads through HEAPF32. */
const float *vf_wasm_motion_frame(const vf_wasm_motion *m) { return m ? m->frame : NULL; }

const char *vf_wasm_motion_error(const vf_wasm_motion *m) { return m ? vf_context_last_error(m->w->ctx) : ""; }
