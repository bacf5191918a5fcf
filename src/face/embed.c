/* embed.c - face embedding on a 5-point similarity-aligned crop, and cosine matching. */
#include "face.h"

#include <math.h>

vf_status vf_embed_run(vf_context *ctx, vf_model *m, const vf_image *img, const float five[5][2], float lo, float hi,
                       float *out, int *dim_out) {
    if (!m || !img || !five || !out || !dim_out) return vf__fail(ctx, VF_E_INVALID_ARG, "embed: NULL argument");
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    if (in.rank != 4 || in.dims[1] != in.dims[2] || in.dims[3] != 3 || in.dims[1] % 112)
        return vf__fail(ctx, VF_E_MODEL, "embed: square RGB input of 112 or a multiple expected");
    float warp[6];
    vf_status s = vf_face_align_warp(ctx, &five[0][0], in.dims[1], warp);
    if (s) return s;
    vf_sample_options so = vf_sample_options_range(lo, hi, VF_CHANNELS_RGB);
    so.border = VF_BORDER_REPLICATE;
    if ((s = vf_image_warp_to_tensor(ctx, img, warp, &so, in.data, in.dims[2], in.dims[1]))) return s;
    if ((s = vf_model_invoke(m))) return s;
    vf_tensor_info best = {0};
    for (int i = 0; i < vf_model_output_count(m); i++) {
        vf_tensor_info t;
        vf_model_output(m, i, &t);
        if (t.count > best.count) best = t;
    }
    if (best.count < 64 || best.count > VF_EMBED_MAX_DIM) return vf__fail(ctx, VF_E_MODEL, "embed: descriptor of %zu values", best.count);
    double ss = 0;
    for (size_t k = 0; k < best.count; k++) ss += (double)best.data[k] * best.data[k];
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (size_t k = 0; k < best.count; k++) out[k] = best.data[k] * inv;
    *dim_out = (int)best.count;
    return VF_OK;
}

float vf_embed_similarity(const float *a, const float *b, int dim) {
    double s = 0;
    for (int k = 0; k < dim; k++) s += (double)a[k] * b[k];
    return (float)s;
}
