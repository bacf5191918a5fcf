/* liveness.c - passive presentation-attack detection with the MiniFASNet V2 + V1SE ensemble.
 *
 * Preprocessing exactly as Silent-Face (verified on our data, see ../shared/MODELS.md): the face
 * box scaled about its centre (2.7 for V2, 4.0 for V1SE), the scale capped so the crop fits the
 * image and the crop shifted inside it; bilinear resize to 80x80 (cv::resize); channels B,G,R;
 * raw 0..255 values. Output: softmax over 3 logits, index 1 = live. */
#include "face.h"

#include <math.h>

#define SIDE 80

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

vf_status vf_liveness_run(vf_context *ctx, const vf_liveness_models *m, const vf_image *img, const float box[4],
                          vf_liveness_score *out) {
    if (!m || !img || !box || !out) return vf__fail(ctx, VF_E_INVALID_ARG, "liveness: NULL argument");
    if (!m->v2 || !m->v1se)
        return vf__fail(ctx, VF_E_NO_MODEL, "liveness: MiniFASNet weights are not available (run tools/fetch-models)");
    if (!(box[2] - box[0] >= 8 && box[3] - box[1] >= 8)) return vf__fail(ctx, VF_E_INVALID_ARG, "liveness: face box too small");
    vf_status s = run_one(ctx, m->v2, img, box, 2.7f, &out->v2);
    if (!s) s = run_one(ctx, m->v1se, img, box, 4.0f, &out->v1se);
    if (s) return s;
    out->live = 0.5f * (out->v2 + out->v1se);
    return VF_OK;
}
