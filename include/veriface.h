/* veriface.h - the one public C header of veriface.
 *
 * veriface is a face-verification engine: capture quality, passive liveness and face embedding,
 * in the browser (WebAssembly) and on a server (native). This header is its stable C API.
 *
 * Tutorial: run a model
 *
 *     vf_context *ctx;
 *     vf_context_options co = vf_context_default_options();   // log callback, threads
 *     if (vf_context_create(&co, &ctx) != VF_OK) ...;
 *
 *     vf_model *m;
 *     vf_model_options mo = vf_model_default_options();       // backend: VF_BACKEND_AUTO
 *     if (vf_model_load(ctx, bytes, n_bytes, &mo, &m) != VF_OK)
 *         fprintf(stderr, "%s\n", vf_context_last_error(ctx));
 *     // bytes may be freed now: the model keeps its own copy of the weights.
 *
 *     vf_tensor_info in;
 *     vf_model_input(m, 0, &in);          // in.data points at the model's input buffer
 *     fill(in.data, in.dims);             // NHWC float32
 *     vf_model_invoke(m);                 // allocates nothing
 *     vf_tensor_info out;
 *     vf_model_output(m, 0, &out);        // out.data valid until the next invoke or free
 *     vf_model_free(m);
 *     vf_context_free(ctx);
 *
 * Conventions
 * - Every call that can fail returns a vf_status; results come back through trailing *_out
 *   pointers. Nothing exits or aborts on bad input; asserts guard internal invariants only.
 * - The detailed message of the last failure is kept per context (vf_context_last_error), never
 *   in a global. A context and the handles made from it are used by one thread at a time.
 * - Ownership: the caller owns what it passes in (copied where kept), and frees each handle it
 *   got with the matching *_free. Pointers returned inside structs stay valid for the lifetime
 *   stated at the call.
 */
#ifndef VERIFACE_H
#define VERIFACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VF_VERSION_MAJOR 0
#define VF_VERSION_MINOR 1
#define VF_VERSION_PATCH 0
#define VF_VERSION_NUMBER (VF_VERSION_MAJOR * 10000 + VF_VERSION_MINOR * 100 + VF_VERSION_PATCH)
#define VF_VERSION_STRING "0.1.0"

/* Runtime version, to compare with the macros the caller was compiled with. */
const char *vf_version(void);

/* Status codes. Values are pinned: they travel in JSON and across the JS boundary. */
typedef enum vf_status {
    VF_OK = 0,
    VF_E_INVALID_ARG = 1,   /* a NULL pointer, out-of-range index or bad option */
    VF_E_NO_MEMORY = 2,     /* an allocation failed or a size overflowed */
    VF_E_MODEL = 3,         /* model bytes are corrupt, truncated or inconsistent */
    VF_E_NO_MODEL = 4,      /* a required model is not available (e.g. PAD weights not fetched) */
    VF_E_UNSUPPORTED = 5,   /* valid request that this build or backend cannot do */
    VF_E_BACKEND = 6,       /* the backend library failed (message has its status) */
    VF_E_IMAGE = 7,         /* an image is corrupt, too large or of a bad format */
    VF_E_IO = 8,            /* a file could not be read or written */
    VF_E_INTERNAL = 9       /* a bug: please report with the message */
} vf_status;

/* A short, static, English description of a status ("model is corrupt or truncated"). */
const char *vf_status_string(vf_status s);
#define vf_strerror vf_status_string /* the same function under the familiar C name */

/* ---- context ---------------------------------------------------------------------------- */

typedef enum vf_log_level { VF_LOG_DEBUG = 0, VF_LOG_INFO = 1, VF_LOG_WARN = 2, VF_LOG_ERROR = 3 } vf_log_level;
typedef void (*vf_log_fn)(vf_log_level level, const char *message, void *user);

typedef struct vf_context_options {
    int threads;          /* worker threads for backends that use them; 0 = 1 (default) */
    vf_log_fn log;        /* optional; NULL = silent */
    void *log_user;       /* passed to log */
    vf_log_level log_level; /* messages below this level are dropped; default VF_LOG_WARN */
} vf_context_options;

typedef struct vf_context vf_context;

vf_context_options vf_context_default_options(void);
vf_status vf_context_create(const vf_context_options *opt, vf_context **ctx_out);
void vf_context_free(vf_context *ctx);
/* Message of the last failing call made with this context (or its handles); "" if none.
 * Valid until the next call with this context. */
const char *vf_context_last_error(const vf_context *ctx);

/* ---- models ------------------------------------------------------------------------------ */

typedef enum vf_backend {
    VF_BACKEND_AUTO = 0,     /* the fastest one compiled in */
    VF_BACKEND_REF = 1,      /* plain C, the oracle; always available */
    VF_BACKEND_SIMD = 2,     /* own vector kernels (browser); not built yet */
    VF_BACKEND_XNNPACK = 3   /* native only: Debian's libXNNPACK */
} vf_backend;

/* Name of a backend ("ref", "simd", "xnnpack"), and whether this build has it. */
const char *vf_backend_name(vf_backend b);
int vf_backend_available(vf_backend b);

typedef struct vf_model_options {
    vf_backend backend;      /* default VF_BACKEND_AUTO */
} vf_model_options;

typedef struct vf_model vf_model;

#define VF_MAX_DIMS 4
typedef struct vf_tensor_info {
    const char *name;        /* owned by the model */
    int rank;
    int32_t dims[VF_MAX_DIMS]; /* rank-4 tensors are NHWC */
    size_t count;            /* number of float elements */
    float *data;             /* owned by the model; see vf_model_input/output for lifetime */
} vf_tensor_info;

typedef struct vf_model_stats {
    size_t weight_bytes;     /* resident constants (f32), after the backend released what it repacked */
    size_t arena_bytes;      /* planned activation memory (all activations, reused by lifetime) */
    size_t naive_bytes;      /* activation memory without reuse, for comparison */
    double mflops;           /* multiply-adds count as 2 FLOPs */
    int n_ops;
    vf_backend backend;      /* the backend that actually runs */
    const char *meta;        /* the model's description string, "" if none */
} vf_model_stats;

/* Parse and validate a .vfm from memory (see models/FORMAT.md), plan its memory and prepare the
 * backend. `bytes` is only read during the call. Corrupt bytes give VF_E_MODEL with a message
 * that names the field. */
vf_status vf_model_load(vf_context *ctx, const void *bytes, size_t size,
                        const vf_model_options *opt, vf_model **model_out);
void vf_model_free(vf_model *m);
vf_model_options vf_model_default_options(void);

int vf_model_input_count(const vf_model *m);
int vf_model_output_count(const vf_model *m);
/* Input i: write the input there before vf_model_invoke. Valid until vf_model_free. */
vf_status vf_model_input(vf_model *m, int i, vf_tensor_info *info_out);
/* Output i: data is valid after vf_model_invoke, until the next invoke or vf_model_free. */
vf_status vf_model_output(vf_model *m, int i, vf_tensor_info *info_out);
/* Run the graph on the current inputs. Allocates nothing. */
vf_status vf_model_invoke(vf_model *m);
vf_status vf_model_get_stats(const vf_model *m, vf_model_stats *stats_out);

/* ---- capture quality ------------------------------------------------------------------------ */

/* What the person should do next. Values are pinned (they travel to the UI, which translates
 * them); VF_GUIDE_OK means the frame is good. When several checks fail, the frame reports the
 * first in this order, and every metric in vf_quality. */
typedef enum vf_guidance {
    VF_GUIDE_OK = 0,
    VF_GUIDE_NO_FACE = 1,          /* "Look at the camera" */
    VF_GUIDE_MULTIPLE_FACES = 2,   /* "Only one person in the picture" */
    VF_GUIDE_TOO_FAR = 3,          /* "Move closer" */
    VF_GUIDE_TOO_CLOSE = 4,        /* "Move back a little" */
    VF_GUIDE_OFF_CENTER = 5,       /* "Center your face in the oval" */
    VF_GUIDE_OCCLUDED = 6,         /* "Remove anything covering your face" (mask, sunglasses, hand) */
    VF_GUIDE_TURN_HEAD = 7,        /* "Look straight at the camera" (yaw or pitch) */
    VF_GUIDE_TILT_HEAD = 8,        /* "Keep your head straight" (roll) */
    VF_GUIDE_EYES_CLOSED = 9,      /* "Keep your eyes open" */
    VF_GUIDE_TOO_DARK = 10,        /* "Find more light" */
    VF_GUIDE_TOO_BRIGHT = 11,      /* "Too much light; avoid direct light" */
    VF_GUIDE_UNEVEN_LIGHT = 12,    /* "Light your face evenly" */
    VF_GUIDE_GLARE = 13,           /* "Avoid reflections on your face or glasses" */
    VF_GUIDE_BLURRY = 14,          /* "Hold the camera steady / clean the lens" */
    VF_GUIDE_HOLD_STILL = 15,      /* "Hold still" (the face moved between frames) */
    VF_GUIDE_COUNT_ = 16
} vf_guidance;

/* A short English text for a guidance code (the UI should translate the code, not this text). */
const char *vf_guidance_string(vf_guidance g);

/* Thresholds of every check; vf_quality_default_config() documents where each default comes from
 * (literature or our measurements, see docs/QUALITY.md). */
typedef struct vf_quality_config {
    float min_face_width;      /* face box width / frame width; below: TOO_FAR (default 0.20) */
    float max_face_width;      /* above: TOO_CLOSE (default 0.65) */
    float max_center_offset;   /* |face centre - frame centre| / frame width; above: OFF_CENTER (default 0.15) */
    float min_presence;        /* FaceMesh presence; below: OCCLUDED (default 0.5) */
    float max_yaw, max_pitch;  /* degrees; above: TURN_HEAD (default 20, 20) */
    float max_roll;            /* degrees; above: TILT_HEAD (default 15) */
    float min_eye_open;        /* eye aspect ratio, each eye; below: EYES_CLOSED (default 0.15) */
    float min_brightness;      /* mean face luma 0..255; below: TOO_DARK (default 80) */
    float max_brightness;      /* above: TOO_BRIGHT (default 200) */
    float max_light_asymmetry; /* |left - right half luma| / mean; above: UNEVEN_LIGHT (default 0.35) */
    float max_glare;           /* fraction of near-saturated face pixels; above: GLARE (default 0.02) */
    float min_sharpness;       /* variance of the Laplacian on the face at 128 px; below: BLURRY (default: measured) */
    float max_motion;          /* face centre movement between frames / face width; above: HOLD_STILL (default 0.10) */
    float min_sharpness_dir;   /* weakest directional sharpness (motion smear); below: BLURRY (default: measured) */
} vf_quality_config;

vf_quality_config vf_quality_default_config(void);

/* Every threshold of vf_quality_config by its C field name, with the range a host may set it to,
 * for hosts that carry the config as text (the server's JSON config, the session config the
 * browser receives): one table, so a new threshold reaches every host at once. */
typedef struct vf_quality_field {
    const char *name;          /* "min_face_width", ... (the field's name) */
    size_t offset;             /* offsetof(vf_quality_config, field); every field is a float */
    float lo, hi;              /* accepted range, inclusive */
} vf_quality_field;
const vf_quality_field *vf_quality_config_fields(int *count_out);

/* Every metric of one frame, so a UI can show meters, not just the first failure. */
typedef struct vf_quality {
    int face_count;
    float face_width;          /* face box width / frame width */
    float center_offset;       /* |face centre - frame centre| / frame width */
    float presence;            /* FaceMesh face presence 0..1 */
    float yaw, pitch, roll;    /* degrees */
    float eye_open;            /* smaller of the two eyes' aspect ratios */
    float brightness;          /* mean luma of the face region 0..255 */
    float contrast;            /* luma standard deviation on the face */
    float light_asymmetry;     /* |left - right| / mean luma of the face halves */
    float glare;               /* fraction of near-saturated, low-chroma face pixels */
    float sharpness;           /* variance of the Laplacian (face region resized to 128 px) */
    float motion;              /* face centre movement since the previous frame / face width; 0 on the first */
    float sharpness_dir;       /* the weakest of the 0/45/90/135-degree second differences' variance over
                                * the luma variance (face at 128 px): low = smeared along one direction */
    uint32_t failed;           /* bit g set when the check of guidance g failed */
    vf_guidance guidance;      /* the first failing check in the order of vf_guidance, or VF_GUIDE_OK */
} vf_quality;

/* ---- engine: every model of the pipeline ------------------------------------------------------ */

/* The models of the pipeline, one row per role (src/session/roles.c is the only list): hosts load
 * the files, key packages and configs by `name` and report hashes in this order. */
typedef enum vf_model_role_id {
    VF_ROLE_DETECTOR = 0,      /* BlazeFace front: face boxes */
    VF_ROLE_MESH = 1,          /* FaceMesh: 468 landmarks */
    VF_ROLE_PAD_V2 = 2,        /* MiniFASNet V2: passive liveness */
    VF_ROLE_PAD_V1SE = 3,      /* MiniFASNet V1SE: passive liveness */
    VF_ROLE_EMBEDDER = 4,      /* MobileFaceNet (expo): the face embedding */
    VF_ROLE_COUNT = 5
} vf_model_role_id;

typedef struct vf_model_role {
    const char *name;          /* "detector", "mesh", "pad_v2", ...: the key in packages and configs */
    const char *file;          /* "blazeface-front.vfm": the converted model's file name */
    const char *stage;         /* "detect", "landmarks", "liveness", "embedding" */
    const char *input;         /* the input convention, for people (models/MANIFEST has the details) */
    int required;              /* 1: vf_engine_create fails without it; else the stage reports VF_E_NO_MODEL */
    int fetched;               /* 1: weights on no registry, fetched at setup into build/models, never
                                * committed (tools/fetch-models); 0: committed in models/ */
} vf_model_role;

/* The table (VF_ROLE_COUNT rows, indexed by vf_model_role_id); static, never NULL. */
const vf_model_role *vf_model_roles(int *count_out);
/* Role id of a name ("pad_v2" -> VF_ROLE_PAD_V2), -1 when unknown. */
int vf_model_role_find(const char *name);

/* Model bytes (.vfm) as the host has them (files natively, fetch() in the browser), by role.
 * Required roles must be present; others may be absent (NULL / 0): the steps that need them then
 * report VF_E_NO_MODEL and never pass. Bytes are only read during vf_engine_create. */
typedef struct vf_engine_models {
    const void *bytes[VF_ROLE_COUNT];
    size_t size[VF_ROLE_COUNT];
} vf_engine_models;

typedef struct vf_engine vf_engine;

vf_status vf_engine_create(vf_context *ctx, const vf_engine_models *models, const vf_model_options *opt,
                           vf_engine **engine_out);
void vf_engine_free(vf_engine *e);
/* Hex SHA-256 of the bytes the model of role i was loaded from ("" when absent). Valid until
 * vf_engine_free. */
const char *vf_engine_model_hash(const vf_engine *e, int i);

/* ---- session: one capture, driven one frame at a time ----------------------------------------- */

typedef enum vf_liveness_outcome {
    VF_LIVENESS_NOT_RUN = 0,   /* no model, or the capture is not complete */
    VF_LIVENESS_PASS = 1,
    VF_LIVENESS_UNCERTAIN = 2,
    VF_LIVENESS_FAIL = 3
} vf_liveness_outcome;

typedef enum vf_match_band { VF_MATCH_NONE = 0, VF_MATCH_WEAK = 1, VF_MATCH_STRONG = 2 } vf_match_band;

/* The match bands of the default embedder, mobilefacenet-expo with its flip test-time augmentation
 * (cosine; vf_match_band_of; the weak band is the policy's and the server's default
 * face_match_threshold; web/src/engine.js MATCH_BANDS copies both, checked by
 * tests/wasm/module-smoke.mjs). From ../shared/data (docs/PIPELINE.md): STRONG is above all 2657
 * impostor pairs of faces + faces-lfw (highest 0.565, faces): FMR 0 of 2657 (95% bound 0.11%);
 * WEAK is faces-lfw's FMR 0.1% point (0 of its 900 impostors, highest 0.411, with a margin of
 * 0.029; 95% bound 0.33%), which accepts 13 of faces' 1757 (FMR 0.74%). Another embedder needs its
 * own bands. */
#define VF_MATCH_STRONG_DEFAULT 0.60f
#define VF_MATCH_WEAK_DEFAULT 0.44f

/* The default liveness thresholds (the session's and the policy's; the server passes each session's
 * own). Chosen on ../shared/data pad + pad-multi for the fused score (docs/PIPELINE.md): PASS at or
 * above VF_LIVE_PASS_DEFAULT (BPCER <= 5% there), FAIL below VF_LIVE_FAIL_DEFAULT, UNCERTAIN between. */
#define VF_LIVE_PASS_DEFAULT 0.60f
#define VF_LIVE_FAIL_DEFAULT 0.10f

typedef struct vf_session_config {
    vf_quality_config quality;
    int good_frames;           /* consecutive good frames that complete the capture; default 5 */
    int liveness_frames;       /* best frames PAD runs on (median of their scores); default 3 */
    float live_pass;           /* fused live score >= this: PASS; default VF_LIVE_PASS_DEFAULT */
    float live_fail;           /* < this: FAIL; between: UNCERTAIN; default VF_LIVE_FAIL_DEFAULT */
    int32_t max_width, max_height; /* largest frame accepted (memory is planned for it); default 1280x720 */
} vf_session_config;

vf_session_config vf_session_default_config(void);

/* A frame from the host: 8-bit RGBA (canvas ImageData) or RGB, rows `stride` bytes apart. */
typedef struct vf_frame {
    int32_t width, height;
    size_t stride;
    int channels;              /* 4 = RGBA, 3 = RGB */
    const uint8_t *pixels;
    double timestamp_ms;
} vf_frame;

typedef struct vf_frame_status {
    int index;                 /* push order, from 0 */
    vf_quality quality;        /* every metric and the guidance */
    int good;                  /* 1 when guidance == VF_GUIDE_OK */
    int good_streak;           /* consecutive good frames so far */
    int complete;              /* 1 when the capture has enough good frames: call vf_session_finish */
    float face_box[4];         /* x0, y0, x1, y1 (image pixels) of the main face; zeros without one */
    float landmarks5[5][2];    /* eyes, nose tip, mouth corners */
    double ms;                 /* time spent in this call */
} vf_frame_status;

#define VF_SESSION_MAX_CHOSEN 8

/* What passive liveness saw on one frame (for the audit and the client/server comparison). */
typedef struct vf_liveness_detail {
    float score;               /* the fused live probability */
    float minifasnet;          /* MiniFASNet V2 + V1SE alone: mean live probability of the crops */
    float screen_edge;         /* straight edge around the face, in face sizes (a bezel) */
    float moire;               /* log share of the face spectrum at 0.10-0.15 cycles/pixel (NAN: face too small) */
} vf_liveness_detail;

typedef struct vf_session_result {
    int frames;                /* frames pushed */
    int chosen[VF_SESSION_MAX_CHOSEN]; /* frame indices used, best first */
    int n_chosen;
    vf_status liveness_status; /* VF_OK, or VF_E_NO_MODEL when the PAD weights are absent */
    vf_liveness_outcome liveness;
    float live_score;          /* median over the chosen frames of the fused live score */
    float live_scores[VF_SESSION_MAX_CHOSEN];          /* per liveness frame, best first */
    vf_liveness_detail live_detail[VF_SESSION_MAX_CHOSEN]; /* the same frames, with their parts */
    vf_status embedding_status;
    int embedding_dim;
    const float *embedding;    /* L2-normalised, owned by the session (valid until free) */
    double liveness_ms, embedding_ms;
} vf_session_result;

typedef struct vf_session vf_session;

vf_status vf_session_create(vf_engine *e, const vf_session_config *cfg, vf_session **session_out);
void vf_session_free(vf_session *s);
/* Analyse one frame (detect, landmarks, quality). Good frames are kept (copied) until the capture
 * completes. Allocates nothing. VF_E_IMAGE for a frame larger than the configured maximum. */
vf_status vf_session_push_frame(vf_session *s, const vf_frame *frame, vf_frame_status *status_out);
/* After `complete`: choose the best kept frames, run passive liveness (median) and the embedding.
 * Callable once per capture; result pointers stay valid until vf_session_free. */
vf_status vf_session_finish(vf_session *s, vf_session_result *result_out);
/* Passive liveness of kept frames the host names by push index (e.g. the server checking the
 * frames the client said it chose): the median of their fused scores, computed exactly as
 * vf_session_finish does. Callable after a push of those frames, before the next reset.
 * VF_E_INVALID_ARG when an index is not a kept frame, VF_E_NO_MODEL without PAD weights. */
vf_status vf_session_liveness_of(vf_session *s, const int *indices, int n, float *median_out);
/* The embedding of one kept frame (push index), computed as vf_session_finish does for its best
 * frame: out holds up to max_dim floats (L2-normalised), *dim_out the size. VF_E_NO_MODEL
 * without the embedder. */
vf_status vf_session_embedding_of(vf_session *s, int index, float *out, int max_dim, int *dim_out);
/* Start a new capture with the same session (keeps the memory). */
void vf_session_reset(vf_session *s);

/* The frames the session keeps: the good frames of the current streak (all of them once the
 * capture is complete), oldest first. These are the frames a host sends to the server, which
 * re-runs the same session on them. Frame i (0 <= i < count) comes back with its pixels packed
 * (stride = width * channels), its timestamp and, in *index_out, its push index; the pixels are
 * owned by the session and valid until the next push, reset or free. */
int vf_session_kept_count(const vf_session *s);
vf_status vf_session_kept_frame(const vf_session *s, int i, vf_frame *frame_out, int *index_out);

/* A cheap 64-bit fingerprint of a frame (FNV-1a over a sample grid of its RGB bytes and its
 * size): equal frames give equal hashes, so a host can count repeated frames from a camera
 * (a sign of injected or frozen video) without keeping them. */
vf_status vf_frame_fingerprint(vf_context *ctx, const vf_frame *frame, uint64_t *hash_out);

/* Canonical JSON (fixed key order and number formats) of a frame status or a result, so the
 * server can compare the client's numbers field by field. Writes at most `size` bytes including
 * the terminating NUL; *len_out = the full length (a larger buffer is needed when >= size). */
vf_status vf_frame_status_json(const vf_frame_status *st, char *buf, size_t size, size_t *len_out);
vf_status vf_session_result_json(const vf_session *s, const vf_session_result *r, char *buf, size_t size,
                                 size_t *len_out);

/* ---- active challenge: the frames of a head movement ------------------------------------------ */

/* What one challenge frame shows (vf_motion_push). */
typedef struct vf_motion_frame {
    int face;                  /* a face was found */
    float yaw, pitch, roll;    /* degrees (as vf_quality) */
    float rgb[3];              /* mean colour of the central face region (nose and cheeks), 0..255: the
                                * face's response to the screen colours of the challenge */
    float face_box[4];         /* x0, y0, x1, y1, image pixels; zeros without a face */
} vf_motion_frame;

/* Did the face move as a 3-D head or as one plane (a photo, a screen)? docs/PLANARITY.md */
typedef struct vf_motion_depth {
    int outcome;               /* 0 unknown (too little motion), 1 3-D, 2 flat */
    float score;               /* > 0: a head explains the motion better than a plane */
    float pose_range;          /* degrees of head movement the frames covered */
    int pairs;                 /* frame pairs compared */
} vf_motion_depth;

/* The frames of one challenge: each is detected and meshed as it arrives (the page learns the
 * head pose for its prompts); the depth check runs over all of them at the end. Memory for
 * max_frames meshes is planned at creation; pushes allocate nothing. */
typedef struct vf_motion vf_motion;
vf_status vf_motion_create(vf_engine *e, int max_frames, vf_motion **motion_out);   /* max_frames 2..96 */
vf_status vf_motion_push(vf_motion *m, const vf_frame *frame, vf_motion_frame *out);
/* The depth check over the frames pushed (at most 64 evenly spaced ones are kept for it: call it
 * once, at the end of the challenge). */
vf_status vf_motion_depth_of(vf_motion *m, vf_motion_depth *out);
int vf_motion_count(const vf_motion *m);
void vf_motion_reset(vf_motion *m);
void vf_motion_free(vf_motion *m);

/* The embedding of "the" face of one still image (a reference portrait, an ID photo): among the
 * detector's faces that the face mesh confirms (presence >= 0.5), the one of largest box area x
 * detector score x mesh presence; then 5-point alignment and the embedder, as a session embeds
 * its best frame (docs/PIPELINE.md "Which face of a still image"). *faces_out (may be NULL) =
 * faces the detector found; box_out (may be NULL) = the chosen face's detector box x0, y0, x1, y1
 * in frame pixels. VF_E_INVALID_ARG without a confirmed face, VF_E_NO_MODEL without the embedder.
 * Allocates nothing (about 12 KB of stack). */
vf_status vf_engine_embed_face(vf_engine *e, const vf_frame *frame, float *out, int max_dim, int *dim_out, int *faces_out,
                               float box_out[4]);

/* Match two embeddings: cosine similarity and its band (thresholds calibrated on our data for the
 * default embedder, see README). */
float vf_match_similarity(const float *a, const float *b, int dim);
vf_match_band vf_match_band_of(float similarity);

#ifdef __cplusplus
}
#endif
#endif /* VERIFACE_H */
