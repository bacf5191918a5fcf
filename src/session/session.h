/* session.h - internals shared by the session files (engine.c, session.c, session_json.c). */
#ifndef VF_SESSION_INTERNAL_H
#define VF_SESSION_INTERNAL_H

#include "../core/core.h"
#include "../face/face.h"

struct vf_engine {
    vf_context *ctx;
    vf_model *model[VF_ROLE_COUNT];   /* by role; NULL when absent */
    vf_model *det, *mesh, *emb;       /* = model[VF_ROLE_DETECTOR], ... (shorter at the call sites) */
    vf_liveness_models pad;           /* the PAD roles, in liveness.c's order */
    char hash[VF_ROLE_COUNT][65];
};

/* 1 when every PAD model is loaded. */
int vf__engine_has_pad(const vf_engine *e);

typedef struct vf_kept_frame {
    uint8_t *pixels;          /* a copy, rows packed, inside the session's frame block */
    int32_t width, height;
    vf_pixel_format format;
    int index;
    double timestamp_ms;
    float rank;               /* best-frame score: sharper and more frontal is better */
    vf_face_box box;
    vf_face_landmarks lm;
    vf_quality quality;
} vf_kept_frame;

struct vf_session {
    vf_engine *e;
    vf_session_config cfg;
    vf_quality_state qstate;
    int frames, streak, complete, finished;
    vf_kept_frame kept[VF_SESSION_MAX_CHOSEN];
    int n_kept, next_slot;
    uint8_t *frame_block;     /* cfg.good_frames frames of max_width x max_height x 4 */
    vf_pad_scratch *pad_scratch; /* the PAD cues' working memory */
    size_t frame_bytes;       /* per slot */
    float embedding[VF_EMBED_MAX_DIM];
};

#endif
