/* liveness.c - passive presentation-attack detection: the MiniFASNet V2 + V1SE ensemble fused with
 * two hand-made cues (pad_cues.c: a screen's bezel, recapture moire).
 *
 * MiniFASNet preprocessing exactly as Silent-Face (verified on our data, see ../shared/MODELS.md):
 * the face box scaled about its centre, the scale capped so the crop fits the image and the crop
 * shifted inside it; bilinear resize to 80x80 (cv::resize); channels B,G,R; raw 0..255 values.
 * Output: softmax over 3 logits, index 1 = live.
 *
 * Choices measured on ../shared/data (docs/PIPELINE.md has the tables):
 * - The box: MiniFASNet was trained on crops of Silent-Face's own RetinaFace (WIDER FACE) boxes,
 *   which sit higher and are narrower than a BlazeFace box, and taller than wide. We estimate that
 *   box from the 468 mesh points (vf_liveness_box); the mapping was fitted on faces/ (not on the
 *   PAD set) against the reference detector run through OpenCV.
 * - Each model runs at its training scale and at one tighter scale (V2 2.7 and 2.0, V1SE 4.0 and
 *   2.7): on wider views a 4.0 crop shows mostly background.
 * - Fusion: a logistic model over the mean log-odds of the four crops and the two cues, fitted on
 *   pad + pad-multi with every source weighted equally, then Platt-scaled so the score reads as a
 *   probability. Leave-one-source-out figures (the honest ones) are in docs/PIPELINE.md. */
#include "face.h"

#include <math.h>
#include <string.h>

#define SIDE 80

/* The crop scales of each PAD model, by its role name (src/session/roles.c): its training scale
 * first, then a tighter one. A new PAD role needs its row here. */
static const struct { const char *role; float scales[VF_PAD_SCALES]; } PAD[] = {
    {"pad_v2", {2.7f, 2.0f}},      /* MiniFASNetV2 */
    {"pad_v1se", {4.0f, 2.7f}},    /* MiniFASNetV1SE */
};

void vf_liveness_models_init(vf_liveness_models *m) {
    memset(m, 0, sizeof *m);
    int n;
    const vf_model_role *roles = vf_model_roles(&n);
    for (int i = 0; i < n && m->n < VF_PAD_MAX; i++)
        if (!strcmp(roles[i].stage, "liveness")) m->role[m->n++] = i;
}

static const float *scales_of(int role) {
    const char *name = vf_model_roles(NULL)[role].name;
    for (size_t i = 0; i < sizeof PAD / sizeof PAD[0]; i++)
        if (!strcmp(PAD[i].role, name)) return PAD[i].scales;
    return NULL;
}

/* Fused score = sigmoid(C0 + C_ML * mean log-odds + C_EDGE * screen_edge + C_MOIRE * moire);
 * fitted by tools/pad-fit.mjs (docs/PIPELINE.md). MOIRE_MEAN stands in for faces too small for
 * the moire cue (the pooled mean: the cue then says nothing). */
#define FUSE_C0 (-3.6135f)
#define FUSE_C_ML 1.3072f
#define FUSE_C_EDGE (-2.5543f)
#define FUSE_C_MOIRE (-1.2645f)
#define MOIRE_MEAN (-3.0663f)
#define LOGIT_CLAMP 13.8f        /* |log-odds| of a probability 1e-6 from 0 or 1 */

/* RetinaFace box relative to the mesh's tight box (w, h): medians over the 85 faces/ images where
 * both detectors found the same face; spread (sd) 0.027, 0.021, 0.060, 0.040. */
#define RF_DX (-0.010f)
#define RF_DY 0.012f
#define RF_SW 1.125f
#define RF_SH 0.989f

void vf_liveness_box(const vf_face_landmarks *lm, float box[4]) {
    float w = lm->box[2] - lm->box[0], h = lm->box[3] - lm->box[1];
    float cx = 0.5f * (lm->box[0] + lm->box[2]) + RF_DX * w, cy = 0.5f * (lm->box[1] + lm->box[3]) + RF_DY * h;
    w *= RF_SW;
    h *= RF_SH;
    box[0] = cx - 0.5f * w;
    box[1] = cy - 0.5f * h;
    box[2] = cx + 0.5f * w;
    box[3] = cy + 0.5f * h;
}

/* Silent-Face's CropImage._get_new_box on continuous coordinates. */
static vf_rectf scaled_crop(const vf_image *img, const float box[4], float scale) {
    float bw = box[2] - box[0], bh = box[3] - box[1];
    float sw = (float)img->width - 1, sh = (float)img->height - 1;
    scale = fminf(fminf(sh / bh, sw / bw), scale);
    float w = bw * scale, h = bh * scale, cx = box[0] + bw * 0.5f, cy = box[1] + bh * 0.5f;
    float x0 = cx - w * 0.5f, y0 = cy - h * 0.5f, x1 = cx + w * 0.5f, y1 = cy + h * 0.5f;
    if (x0 < 0) { x1 -= x0; x0 = 0; }
    if (y0 < 0) { y1 -= y0; y0 = 0; }
    if (x1 > sw) { x0 -= x1 - sw; x1 = sw; }
    if (y1 > sh) { y0 -= y1 - sh; y1 = sh; }
    vf_rectf r = {x0, y0, x1 - x0 + 1, y1 - y0 + 1}; /* inclusive pixel range, as the slicing there */
    return r;
}

static vf_status run_one(vf_context *ctx, vf_model *m, const vf_image *img, const float box[4], float scale, float *live) {
    vf_tensor_info in, out;
    vf_model_input(m, 0, &in);
    vf_model_output(m, 0, &out);
    if (in.rank != 4 || in.dims[1] != SIDE || in.dims[2] != SIDE || out.count != 3)
        return vf__fail(ctx, VF_E_MODEL, "liveness: MiniFASNet with input [1,80,80,3] and 3 outputs expected");
    vf_rectf r = scaled_crop(img, box, scale);
    vf_sample_options so = vf_sample_default_options(); /* raw 0..255 */
    so.order = VF_CHANNELS_BGR;
    so.border = VF_BORDER_REPLICATE;
    vf_status s = vf_image_resize_to_tensor(ctx, img, &r, &so, in.data, SIDE, SIDE);
    if (s || (s = vf_model_invoke(m))) return s;
    float mx = fmaxf(out.data[0], fmaxf(out.data[1], out.data[2]));
    float e0 = expf(out.data[0] - mx), e1 = expf(out.data[1] - mx), e2 = expf(out.data[2] - mx);
    *live = e1 / (e0 + e1 + e2);
    return VF_OK;
}

static float log_odds(float p) {
    float l = logf(fmaxf(p, 1e-30f)) - logf(fmaxf(1.0f - p, 1e-30f));
    return fminf(fmaxf(l, -LOGIT_CLAMP), LOGIT_CLAMP);
}

vf_status vf_liveness_run_crops(vf_context *ctx, const vf_liveness_models *m, const vf_image *img, const float box[4],
                                int n_scales, vf_liveness_score *out) {
    if (!m || !img || !box || !out || n_scales < 1 || n_scales > VF_PAD_SCALES)
        return vf__fail(ctx, VF_E_INVALID_ARG, "liveness: NULL argument or scales not 1..%d", VF_PAD_SCALES);
    out->live = -1;
    if (m->n < 1) return vf__fail(ctx, VF_E_NO_MODEL, "liveness: no PAD role in the model table");
    for (int k = 0; k < m->n; k++) {
        const char *name = vf_model_roles(NULL)[m->role[k]].name;
        if (!m->m[k]) return vf__fail(ctx, VF_E_NO_MODEL, "liveness: %s weights are not available (run tools/fetch-models)", name);
        if (!scales_of(m->role[k])) return vf__fail(ctx, VF_E_MODEL, "liveness: no crop scales for %s (src/face/liveness.c)", name);
    }
    if (!(box[2] - box[0] >= 8 && box[3] - box[1] >= 8)) return vf__fail(ctx, VF_E_INVALID_ARG, "liveness: face box too small");
    float sum_p = 0, sum_l = 0;
    for (int k = 0; k < m->n; k++) {
        const float *sc = scales_of(m->role[k]);
        float mp = 0;
        for (int i = 0; i < n_scales; i++) {
            float p = 0;
            vf_status s = run_one(ctx, m->m[k], img, box, sc[i], &p);
            if (s) return s;
            mp += p;
            sum_l += log_odds(p);
        }
        out->model[k] = mp / (float)n_scales;
        sum_p += out->model[k];
    }
    out->minifasnet = sum_p / (float)m->n;
    out->log_odds = sum_l / (float)(m->n * n_scales);
    out->live = out->minifasnet;      /* the fused score needs the cues: vf_liveness_score_face */
    out->cues.screen_edge = out->cues.moire = NAN;
    return VF_OK;
}

vf_status vf_liveness_run(vf_context *ctx, const vf_liveness_models *m, const vf_image *img, const float box[4],
                          vf_liveness_score *out) {
    return vf_liveness_run_crops(ctx, m, img, box, VF_PAD_SCALES, out);
}

float vf_liveness_fuse(float log_odds, const vf_pad_cues *c) {
    float moire = isfinite(c->moire) ? c->moire : MOIRE_MEAN;
    float z = FUSE_C0 + FUSE_C_ML * log_odds + FUSE_C_EDGE * c->screen_edge + FUSE_C_MOIRE * moire;
    return 1.0f / (1.0f + expf(-z));
}

vf_status vf_liveness_score_face(vf_context *ctx, const vf_liveness_models *m, const vf_image *img, const vf_face_landmarks *lm,
                                 vf_pad_scratch *scratch, vf_liveness_score *out) {
    if (!lm || !scratch || !out) return vf__fail(ctx, VF_E_INVALID_ARG, "liveness: NULL argument");
    float box[4];
    vf_liveness_box(lm, box);
    vf_status s = vf_liveness_run_crops(ctx, m, img, box, VF_PAD_SCALES, out);
    if (s) return s;
    if ((s = vf_pad_cues_measure(ctx, img, lm->box, scratch, &out->cues))) return s;
    out->live = vf_liveness_fuse(out->log_odds, &out->cues);
    return VF_OK;
}
