/* geometry.c - 2x3 affine helpers and the least-squares similarity used for face alignment. */
#include "image.h"

#include <math.h>

/* InsightFace's arcface_dst (insightface/utils/face_align.py), the reference for ArcFace models. */
const float vf_arcface_template_112[5][2] = {
    {38.2946f, 51.6963f}, /* left eye (image left) */
    {73.5318f, 51.5014f}, /* right eye */
    {56.0252f, 71.7366f}, /* nose tip */
    {41.5493f, 92.3655f}, /* left mouth corner */
    {70.7299f, 92.2041f}, /* right mouth corner */
};

void vf_affine_apply(const float m[6], float x, float y, float *x_out, float *y_out) {
    *x_out = m[0] * x + m[1] * y + m[2];
    *y_out = m[3] * x + m[4] * y + m[5];
}

static vf_status invert_d(vf_context *ctx, const double m[6], float inv[6]) {
    double det = m[0] * m[4] - m[1] * m[3];
    double scale = fabs(m[0]) + fabs(m[1]) + fabs(m[3]) + fabs(m[4]);
    if (!isfinite(det) || !(fabs(det) > 1e-12 * scale * scale))
        return vf__fail(ctx, VF_E_INVALID_ARG, "affine matrix is singular (det %g)", det);
    double a = m[4] / det, b = -m[1] / det, d = -m[3] / det, e = m[0] / det;
    double r[6] = {a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])};
    for (int i = 0; i < 6; i++) {
        if (!isfinite(r[i]) || fabs(r[i]) > 3.0e38) return vf__fail(ctx, VF_E_INVALID_ARG, "affine inverse overflows");
        inv[i] = (float)r[i];
    }
    return VF_OK;
}

vf_status vf_affine_invert(vf_context *ctx, const float m[6], float inv_out[6]) {
    if (!m || !inv_out) return vf__fail(ctx, VF_E_INVALID_ARG, "affine invert: NULL argument");
    double md[6];
    for (int i = 0; i < 6; i++) {
        if (!isfinite(m[i])) return vf__fail(ctx, VF_E_INVALID_ARG, "affine invert: entry %d is not finite", i);
        md[i] = m[i];
    }
    return invert_d(ctx, md, inv_out);
}

vf_status vf_similarity_estimate(vf_context *ctx, const float *src, const float *dst, int n, float m_out[6],
                                 float inv_out[6]) {
    if (!src || !dst || !m_out) return vf__fail(ctx, VF_E_INVALID_ARG, "similarity: NULL argument");
    if (n < 2) return vf__fail(ctx, VF_E_INVALID_ARG, "similarity: needs at least 2 point pairs, got %d", n);
    double msx = 0, msy = 0, mdx = 0, mdy = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(src[2 * i]) || !isfinite(src[2 * i + 1]) || !isfinite(dst[2 * i]) || !isfinite(dst[2 * i + 1]))
            return vf__fail(ctx, VF_E_INVALID_ARG, "similarity: point %d is not finite", i);
        msx += src[2 * i]; msy += src[2 * i + 1];
        mdx += dst[2 * i]; mdy += dst[2 * i + 1];
    }
    msx /= n; msy /= n; mdx /= n; mdy /= n;
    /* With centred points s_i, d_i as complex numbers, the best z = s e^{i theta} minimising
     * sum |d_i - z s_i|^2 is z = sum(d_i conj(s_i)) / sum |s_i|^2 (Umeyama's rotation is
     * proper by construction: no reflection case). */
    double var = 0, re = 0, im = 0;
    for (int i = 0; i < n; i++) {
        double sx = src[2 * i] - msx, sy = src[2 * i + 1] - msy;
        double dx = dst[2 * i] - mdx, dy = dst[2 * i + 1] - mdy;
        var += sx * sx + sy * sy;
        re += dx * sx + dy * sy;
        im += dy * sx - dx * sy;
    }
    double spread = 0;
    for (int i = 0; i < n; i++) spread = fmax(spread, fabs(src[2 * i] - msx) + fabs(src[2 * i + 1] - msy));
    if (!(var > 0) || !(spread > 1e-6 * (fabs(msx) + fabs(msy) + 1)))
        return vf__fail(ctx, VF_E_INVALID_ARG, "similarity: the source points coincide");
    double a = re / var, b = im / var;
    double m[6] = {a, -b, mdx - (a * msx - b * msy), b, a, mdy - (b * msx + a * msy)};
    for (int i = 0; i < 6; i++) {
        if (!isfinite(m[i]) || fabs(m[i]) > 3.0e38) return vf__fail(ctx, VF_E_INVALID_ARG, "similarity: result overflows");
    }
    if (inv_out) {
        vf_status s = invert_d(ctx, m, inv_out);
        if (s) return s;
    }
    for (int i = 0; i < 6; i++) m_out[i] = (float)m[i];
    return VF_OK;
}

vf_status vf_face_align_warp(vf_context *ctx, const float landmarks[10], int32_t out_size, float warp_out[6]) {
    if (!landmarks || !warp_out) return vf__fail(ctx, VF_E_INVALID_ARG, "face align: NULL argument");
    if (out_size <= 0 || out_size > 4096) return vf__fail(ctx, VF_E_INVALID_ARG, "face align: bad output size %d", (int)out_size);
    float t[10];
    const float k = (float)out_size / 112.0f;
    for (int i = 0; i < 5; i++) {
        t[2 * i] = vf_arcface_template_112[i][0] * k;
        t[2 * i + 1] = vf_arcface_template_112[i][1] * k;
    }
    float fwd[6];
    return vf_similarity_estimate(ctx, landmarks, t, 5, fwd, warp_out);
}
