/* liveness.c - passive presentation-attack detection with the MiniFASNet V2 + V1SE ensemble.
 *
 * Preprocessing exactly as Silent-Face (verified on our data, see ../shared/MODELS.md): the face
 * box scaled about its centre, the scale capped so the crop fits the image and the crop shifted
 * inside it; bilinear resize to 80x80 (cv::resize); channels B,G,R; raw 0..255 values. Output:
 * softmax over 3 logits, index 1 = live.
 *
 * Two choices measured on ../shared/data (docs/PIPELINE.md has the table):
 * - The box: MiniFASNet was trained on crops of Silent-Face's own RetinaFace (WIDER FACE) boxes,
 *   which sit higher and are narrower than a BlazeFace box, and taller than wide. We estimate that
 *   box from the 468 mesh points (vf_liveness_box); the mapping was fitted on faces/ (not on the
 *   PAD set) against the reference detector run through OpenCV.
 * - Each model runs at its training scale and at one tighter scale (V2 2.7 and 2.0, V1SE 4.0 and
 *   2.7); the four live probabilities are averaged (= Silent-Face's sum of softmax, rescaled).
 *   On tight crops every scale caps at the image, so the second scale matters for wider views,
 *   where a 4.0 crop shows mostly background. */
#include "face.h"

#include <math.h>

#define SIDE 80

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

vf_status vf_liveness_run_crops(vf_context *ctx, const vf_liveness_models *m, const vf_image *img, const float box[4],
                                int n_scales, vf_liveness_score *out) {
    static const float scale_v2[2] = {2.7f, 2.0f}, scale_v1se[2] = {4.0f, 2.7f};
    if (!m || !img || !box || !out || n_scales < 1 || n_scales > 2)
        return vf__fail(ctx, VF_E_INVALID_ARG, "liveness: NULL argument or scales not 1..2");
    if (!m->v2 || !m->v1se)
        return vf__fail(ctx, VF_E_NO_MODEL, "liveness: MiniFASNet weights are not available (run tools/fetch-models)");
    if (!(box[2] - box[0] >= 8 && box[3] - box[1] >= 8)) return vf__fail(ctx, VF_E_INVALID_ARG, "liveness: face box too small");
    float sum_v2 = 0, sum_v1se = 0;
    for (int i = 0; i < n_scales; i++) {
        float a, b;
        vf_status s = run_one(ctx, m->v2, img, box, scale_v2[i], &a);
        if (!s) s = run_one(ctx, m->v1se, img, box, scale_v1se[i], &b);
        if (s) return s;
        sum_v2 += a;
        sum_v1se += b;
    }
    out->v2 = sum_v2 / (float)n_scales;
    out->v1se = sum_v1se / (float)n_scales;
    out->live = 0.5f * (out->v2 + out->v1se);
    return VF_OK;
}

vf_status vf_liveness_run(vf_context *ctx, const vf_liveness_models *m, const vf_image *img, const float box[4],
                          vf_liveness_score *out) {
    return vf_liveness_run_crops(ctx, m, img, box, 2, out);
}
