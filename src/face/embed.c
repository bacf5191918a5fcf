/* embed.c - face embedding on a 5-point similarity-aligned crop, and cosine matching.
 *
 * The crop: the 5 points (eye centres, nose tip, mouth corners from the 468-point mesh,
 * vf_face_landmarks.five) are fitted by least squares onto InsightFace's ArcFace 112x112 template
 * scaled to the model's square input (112, or 224 = the template doubled), and the image is
 * warped with that similarity. What differs per embedder is read from its .vfm meta string:
 * the value range (0..255 -> lo..hi, the `range=` field) and the channel order (`layout=`).
 * With flip (the default), the model also runs on the crop mirrored left-right and the two raw
 * descriptors are summed before normalising (InsightFace's flip test). */
#include "face.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Value of `key` in a "k=v;k=v" meta string, copied into buf (NUL-terminated); 0 if present. */
static int meta_field(const char *meta, const char *key, char *buf, size_t n) {
    size_t kl = strlen(key);
    for (const char *p = meta; p && *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            size_t vl = len - kl - 1;
            if (vl >= n) return -1;
            memcpy(buf, p + kl + 1, vl);
            buf[vl] = 0;
            return 0;
        }
        p = end ? end + 1 : NULL;
    }
    return -1;
}

/* "LO..HI" (split at "..": strtof would read "0." of "0..255" as a number). */
static int parse_range(char *s, float *lo, float *hi) {
    char *dots = strstr(s, ".."), *e1, *e2;
    if (!dots || dots == s) return -1;
    *dots = 0;
    *lo = strtof(s, &e1);
    *hi = strtof(dots + 2, &e2);
    return *e1 || *e2 || dots[2] == 0 || !isfinite(*lo) || !isfinite(*hi) || !(*hi > *lo) ? -1 : 0;
}

vf_status vf_embed_crop_of(vf_context *ctx, vf_model *m, vf_embed_crop *out) {
    if (!m || !out) return vf__fail(ctx, VF_E_INVALID_ARG, "embed: NULL argument");
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    if (in.rank != 4 || in.dims[1] != in.dims[2] || in.dims[3] != 3 || in.dims[1] % 112)
        return vf__fail(ctx, VF_E_MODEL, "embed: square RGB input of 112 or a multiple expected");
    vf_model_stats st;
    vf_model_get_stats(m, &st);
    char range[64], layout[16];
    if (meta_field(st.meta, "range", range, sizeof range) || parse_range(range, &out->lo, &out->hi))
        return vf__fail(ctx, VF_E_MODEL, "embed: the model's meta has no valid range=LO..HI");
    if (meta_field(st.meta, "layout", layout, sizeof layout)) strcpy(layout, "RGB");
    if (strcmp(layout, "RGB") && strcmp(layout, "BGR")) return vf__fail(ctx, VF_E_MODEL, "embed: layout %s (RGB or BGR)", layout);
    out->order = layout[0] == 'B' ? VF_CHANNELS_BGR : VF_CHANNELS_RGB;
    out->size = in.dims[1];
    out->flip = 1;
    return VF_OK;
}

/* The largest output of the last invoke: the descriptor. */
static vf_status descriptor(vf_context *ctx, vf_model *m, vf_tensor_info *best) {
    *best = (vf_tensor_info){0};
    for (int i = 0; i < vf_model_output_count(m); i++) {
        vf_tensor_info t;
        vf_model_output(m, i, &t);
        if (t.count > best->count) *best = t;
    }
    if (best->count < 64 || best->count > VF_EMBED_MAX_DIM) return vf__fail(ctx, VF_E_MODEL, "embed: descriptor of %zu values", best->count);
    return VF_OK;
}

/* Mirror an NHWC [1, n, n, 3] tensor left-right in place: the crop warped with x -> n-1-x. */
static void mirror_rows(float *t, int32_t n) {
    for (int32_t y = 0; y < n; y++) {
        float *row = t + (size_t)y * (size_t)n * 3;
        for (int32_t a = 0, b = n - 1; a < b; a++, b--) {
            for (int c = 0; c < 3; c++) {
                float v = row[3 * a + c];
                row[3 * a + c] = row[3 * b + c];
                row[3 * b + c] = v;
            }
        }
    }
}

vf_status vf_embed_run_crop(vf_context *ctx, vf_model *m, const vf_embed_crop *crop, const vf_image *img, const float five[5][2],
                            float *out, int *dim_out) {
    if (!m || !crop || !img || !five || !out || !dim_out) return vf__fail(ctx, VF_E_INVALID_ARG, "embed: NULL argument");
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    if (in.rank != 4 || in.dims[1] != crop->size || in.dims[2] != crop->size || in.dims[3] != 3 || crop->size % 112)
        return vf__fail(ctx, VF_E_MODEL, "embed: square RGB input of 112 or a multiple expected");
    /* the points are continuous coordinates, the warp (like the template, cv::warpAffine's
     * convention) puts pixel centres at integers: without the half-pixel shift every crop sat
     * half a source pixel down and to the right of the template */
    float pts[10];
    for (int i = 0; i < 5; i++) {
        pts[2 * i] = five[i][0] - 0.5f;
        pts[2 * i + 1] = five[i][1] - 0.5f;
    }
    float warp[6];
    vf_status s = vf_face_align_warp(ctx, pts, crop->size, warp);
    if (s) return s;
    vf_sample_options so = vf_sample_options_range(crop->lo, crop->hi, crop->order);
    so.border = VF_BORDER_REPLICATE;
    if ((s = vf_image_warp_to_tensor(ctx, img, warp, &so, in.data, crop->size, crop->size))) return s;
    vf_tensor_info best;
    if ((s = vf_model_invoke(m)) || (s = descriptor(ctx, m, &best))) return s;
    size_t dim = best.count;
    memcpy(out, best.data, sizeof *out * dim);  /* the raw descriptor; `out` holds VF_EMBED_MAX_DIM */
    if (crop->flip) {
        mirror_rows(in.data, crop->size);
        if ((s = vf_model_invoke(m)) || (s = descriptor(ctx, m, &best))) return s;
        if (best.count != dim) return vf__fail(ctx, VF_E_MODEL, "embed: descriptor of %zu then %zu values", dim, best.count);
        for (size_t k = 0; k < dim; k++) out[k] += best.data[k];
    }
    double ss = 0;
    for (size_t k = 0; k < dim; k++) ss += (double)out[k] * out[k];
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (size_t k = 0; k < dim; k++) out[k] *= inv;
    *dim_out = (int)dim;
    return VF_OK;
}

vf_status vf_embed_face(vf_context *ctx, vf_model *m, const vf_image *img, const float five[5][2], float *out, int *dim_out) {
    vf_embed_crop crop;
    vf_status s = vf_embed_crop_of(ctx, m, &crop);
    return s ? s : vf_embed_run_crop(ctx, m, &crop, img, five, out, dim_out);
}

vf_status vf_embed_run(vf_context *ctx, vf_model *m, const vf_image *img, const float five[5][2], float lo, float hi,
                       float *out, int *dim_out) {
    if (!m) return vf__fail(ctx, VF_E_INVALID_ARG, "embed: NULL argument");
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    vf_embed_crop crop = {in.dims[1], lo, hi, VF_CHANNELS_RGB, 1};
    return vf_embed_run_crop(ctx, m, &crop, img, five, out, dim_out);
}

float vf_embed_similarity(const float *a, const float *b, int dim) {
    double s = 0;
    for (int k = 0; k < dim; k++) s += (double)a[k] * b[k];
    return (float)s;
}
