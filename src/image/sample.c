/* sample.c - bilinear sampling of an RGB(A)8 image into a float NHWC tensor (3 channels), with
 * per-channel scale/offset and RGB or BGR order. Runs on every camera frame: allocates nothing.
 *
 * Both entry points reduce to one affine map (output pixel -> source pixel, centres at integer
 * coordinates). Each output row is split into an interior span, where all four neighbours of
 * every sample lie inside the image (computed once per row from the map: no bounds checks and no
 * divisions per pixel), and the parts before and after it, which take the checked path (fill or
 * clamp per neighbour). */
#include "image.h"

#include <math.h>
#include <string.h>

typedef struct sampler {
    const uint8_t *data;
    size_t stride;
    int bpp;
    int32_t w, h;
    int src_c[3];        /* source byte of output channel k */
    float scale[3], offset[3];
    float fill[3];       /* fill of output channel k, in 0..255 */
    float fill_out[3];   /* fill * scale + offset */
    bool replicate;
} sampler;

vf_sample_options vf_sample_default_options(void) {
    vf_sample_options o;
    memset(&o, 0, sizeof o);
    o.order = VF_CHANNELS_RGB;
    for (int k = 0; k < 3; k++) o.scale[k] = 1.0f;
    o.border = VF_BORDER_CONSTANT;
    return o;
}

vf_sample_options vf_sample_options_range(float lo, float hi, vf_channel_order order) {
    vf_sample_options o = vf_sample_default_options();
    o.order = order;
    for (int k = 0; k < 3; k++) {
        o.scale[k] = (hi - lo) / 255.0f;
        o.offset[k] = lo;
    }
    return o;
}

static vf_status setup(vf_context *ctx, const char *fn, const vf_image *src, const vf_sample_options *opt, float *dst,
                       int32_t dst_w, int32_t dst_h, sampler *s) {
    vf_status st = vf_image_check(ctx, src);
    if (st) return st;
    if (!dst) return vf__fail(ctx, VF_E_INVALID_ARG, "%s: dst is NULL", fn);
    size_t count;
    if (dst_w <= 0 || dst_h <= 0 || !vf__mul_size((size_t)dst_w, (size_t)dst_h, &count) || !vf__mul_size(count, 3, &count))
        return vf__fail(ctx, VF_E_INVALID_ARG, "%s: bad output size %dx%d", fn, (int)dst_w, (int)dst_h);
    vf_sample_options o = opt ? *opt : vf_sample_default_options();
    if (o.order != VF_CHANNELS_RGB && o.order != VF_CHANNELS_BGR)
        return vf__fail(ctx, VF_E_INVALID_ARG, "%s: unknown channel order %d", fn, (int)o.order);
    if (o.border != VF_BORDER_CONSTANT && o.border != VF_BORDER_REPLICATE)
        return vf__fail(ctx, VF_E_INVALID_ARG, "%s: unknown border %d", fn, (int)o.border);
    for (int k = 0; k < 3; k++)
        if (!isfinite(o.scale[k]) || !isfinite(o.offset[k]) || !isfinite(o.fill[k]))
            return vf__fail(ctx, VF_E_INVALID_ARG, "%s: scale, offset and fill must be finite", fn);
    s->data = src->data;
    s->stride = src->stride;
    s->bpp = (int)src->format;
    s->w = src->width;
    s->h = src->height;
    s->replicate = o.border == VF_BORDER_REPLICATE;
    for (int k = 0; k < 3; k++) {
        int c = o.order == VF_CHANNELS_BGR ? 2 - k : k;
        s->src_c[k] = c;
        s->scale[k] = o.scale[k];
        s->offset[k] = o.offset[k];
        s->fill[k] = o.fill[c];
        s->fill_out[k] = o.fill[c] * o.scale[k] + o.offset[k];
    }
    return VF_OK;
}

/* Narrow [*lo, *hi] to the t where lo_v <= c + k t <= hi_v. */
static void narrow(double c, double k, double lo_v, double hi_v, long *lo, long *hi) {
    if (k == 0) {
        if (!(c >= lo_v && c <= hi_v)) *hi = *lo - 1;
        return;
    }
    double t1 = (lo_v - c) / k, t2 = (hi_v - c) / k;
    if (k < 0) { double t = t1; t1 = t2; t2 = t; }
    /* clamp in double before converting: t may be far outside long's range */
    if (t1 > (double)*lo) *lo = t1 > (double)*hi + 1 ? *hi + 1 : (long)ceil(t1);
    if (t2 < (double)*hi) *hi = t2 < (double)*lo - 1 ? *lo - 1 : (long)floor(t2);
}

/* Checked path for output pixels [x0, x1) of a row: any coordinates, per-neighbour fill/clamp. */
static void row_checked(const sampler *s, float *out, long x0, long x1, float sx0, float dsx, float sy0, float dsy) {
    const float wm1 = (float)(s->w - 1), hm1 = (float)(s->h - 1);
    const int bpp = s->bpp;
    for (long x = x0; x < x1; x++, out += 3) {
        float sx = sx0 + dsx * (float)x, sy = sy0 + dsy * (float)x;
        const uint8_t *p[4];   /* neighbours (x0,y0) (x0+1,y0) (x0,y0+1) (x0+1,y0+1); NULL = fill */
        float fx, fy;
        if (s->replicate) {
            sx = sx > 0 ? (sx < wm1 ? sx : wm1) : 0; /* NaN -> 0 */
            sy = sy > 0 ? (sy < hm1 ? sy : hm1) : 0;
            int32_t ix = (int32_t)sx, iy = (int32_t)sy;
            fx = sx - (float)ix;
            fy = sy - (float)iy;
            int32_t ix1 = ix < s->w - 1 ? ix + 1 : ix, iy1 = iy < s->h - 1 ? iy + 1 : iy;
            const uint8_t *r0 = s->data + (size_t)iy * s->stride, *r1 = s->data + (size_t)iy1 * s->stride;
            p[0] = r0 + (size_t)ix * bpp; p[1] = r0 + (size_t)ix1 * bpp;
            p[2] = r1 + (size_t)ix * bpp; p[3] = r1 + (size_t)ix1 * bpp;
        } else {
            if (!(sx > -1.0f && sx < (float)s->w && sy > -1.0f && sy < (float)s->h)) {
                out[0] = s->fill_out[0]; out[1] = s->fill_out[1]; out[2] = s->fill_out[2];
                continue;
            }
            int32_t ix = (int32_t)sx, iy = (int32_t)sy; /* truncation; make it floor below 0 */
            if ((float)ix > sx) ix--;
            if ((float)iy > sy) iy--;
            fx = sx - (float)ix;
            fy = sy - (float)iy;
            bool x0in = ix >= 0, x1in = ix + 1 < s->w, y0in = iy >= 0, y1in = iy + 1 < s->h;
            const uint8_t *r0 = y0in ? s->data + (size_t)iy * s->stride : NULL;
            const uint8_t *r1 = y1in ? s->data + (size_t)(iy + 1) * s->stride : NULL;
            p[0] = r0 && x0in ? r0 + (size_t)ix * bpp : NULL;
            p[1] = r0 && x1in ? r0 + (size_t)(ix + 1) * bpp : NULL;
            p[2] = r1 && x0in ? r1 + (size_t)ix * bpp : NULL;
            p[3] = r1 && x1in ? r1 + (size_t)(ix + 1) * bpp : NULL;
        }
        for (int k = 0; k < 3; k++) {
            int c = s->src_c[k];
            float f = s->fill[k];
            float v00 = p[0] ? p[0][c] : f, v01 = p[1] ? p[1][c] : f, v10 = p[2] ? p[2][c] : f, v11 = p[3] ? p[3][c] : f;
            float top = v00 + fx * (v01 - v00), bot = v10 + fx * (v11 - v10);
            out[k] = (top + fy * (bot - top)) * s->scale[k] + s->offset[k];
        }
    }
}

/* The interior path works on one pixel's channels at once: GCC/clang vector extensions (SSE2
 * natively, SIMD128 in wasm with -msimd128, scalar elsewhere) plus one ISA-specific step, the
 * widening of 4 bytes to 4 floats, which the compilers do not vectorise on their own. */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
/* bytes 0..3 of u -> 4 floats. Not with f32x4.convert_i32x4: LLVM folds "widen, then convert"
 * into a conversion of 8-bit lanes, which it scalarises (4 extracts, converts, inserts). The
 * widened integers are instead placed in the mantissa of 2^23 and 2^23 is subtracted. */
static inline v4f px_to_v4f(uint32_t u) {
    v128_t v = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_i32x4_splat((int32_t)u)));
    v = wasm_v128_or(v, wasm_i32x4_splat(0x4B000000));
    return (v4f)wasm_f32x4_sub(v, wasm_f32x4_splat(8388608.0f));
}
#elif defined(__SSE2__)
#include <emmintrin.h>
static inline v4f px_to_v4f(uint32_t u) {
    const __m128i z = _mm_setzero_si128();
    return (v4f)_mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128((int)u), z), z));
}
#else
static inline v4f px_to_v4f(uint32_t u) { return (v4f){u & 255, (u >> 8) & 255, (u >> 16) & 255, u >> 24}; }
#endif

static inline __attribute__((always_inline)) v4f load_px(const uint8_t *p, const int bpp) {
    uint32_t u;
    if (bpp == 4) memcpy(&u, p, 4);
    else u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16; /* never read past an RGB pixel */
    return px_to_v4f(u);
}

/* Interior path: every neighbour is inside and coordinates are >= 0 (truncation is floor). bpp
 * and bgr are constants at each call site, so the compiler specialises the loads and shuffles.
 * The coordinates are a vector {sx, sy} too: one vector truncation (cvttps2dq, or SIMD128's
 * saturating i32x4.trunc_sat, where a scalar float->int would need a range check in wasm).
 * Each pixel is stored as 4 floats (the 4th is overwritten by the next pixel, or by the checked
 * path or the next row afterwards), except the span's last, which could be the tensor's last. */
static inline __attribute__((always_inline)) void row_interior(const sampler *s, float *out, long x0, long x1, float sx0,
                                                               float dsx, float sy0, float dsy, const int bpp, const bool bgr) {
    const uint8_t *data = s->data;
    const size_t stride = s->stride;
    const v4f scale = {s->scale[0], s->scale[1], s->scale[2], 0}, offset = {s->offset[0], s->offset[1], s->offset[2], 0};
    const v4f c0 = {sx0, sy0, 0, 0}, dc = {dsx, dsy, 0, 0};
    for (long x = x0; x < x1; x++, out += 3) {
        v4f xv = (v4f){0, 0, 0, 0} + (float)x; /* a splat */
        v4f c = c0 + dc * xv;
        v4i ic = __builtin_convertvector(c, v4i);
        v4f f = c - __builtin_convertvector(ic, v4f);
        v4f fx = __builtin_shufflevector(f, f, 0, 0, 0, 0), fy = __builtin_shufflevector(f, f, 1, 1, 1, 1);
        const uint8_t *p0 = data + (size_t)ic[1] * stride + (size_t)ic[0] * (size_t)bpp, *p1 = p0 + stride;
        v4f a = load_px(p0, bpp), b = load_px(p0 + bpp, bpp), cc = load_px(p1, bpp), d = load_px(p1 + bpp, bpp);
        v4f top = a + (b - a) * fx, bot = cc + (d - cc) * fx;
        v4f v = top + (bot - top) * fy;
        if (bgr) v = __builtin_shufflevector(v, v, 2, 1, 0, 3);
        v = v * scale + offset;
        if (x + 1 < x1) {
            memcpy(out, &v, sizeof v);
        } else {
            out[0] = v[0]; out[1] = v[1]; out[2] = v[2];
        }
    }
}

static void run(const sampler *s, const double m[6], float *dst, int32_t dst_w, int32_t dst_h) {
    /* The interior needs 0 <= sx and floor(sx) + 1 <= w - 1, i.e. sx < w - 1. The loops compute
     * sx in float, so the span is taken half a pixel inside that: with every coordinate below
     * 2^20 in magnitude (checked at the corners; the map is affine) the float error is < 0.2. */
    const double margin = 0.5;
    const double big = 1048576.0;
    bool any_interior = s->w >= 2 && s->h >= 2;
    /* Far-out maps never use the interior path (its float coordinates would lose precision). */
    for (int i = 0; i < 4 && any_interior; i++) {
        double x = (i & 1) ? dst_w : 0, y = (i & 2) ? dst_h : 0;
        double sx = m[0] * x + m[1] * y + m[2], sy = m[3] * x + m[4] * y + m[5];
        if (!(fabs(sx) < big && fabs(sy) < big)) any_interior = false;
    }
    const float dsx = (float)m[0], dsy = (float)m[3];
    for (int32_t y = 0; y < dst_h; y++) {
        float *out = dst + (size_t)y * (size_t)dst_w * 3;
        double rsx = m[1] * y + m[2], rsy = m[4] * y + m[5];
        long lo = 0, hi = dst_w - 1;
        if (any_interior) {
            narrow(rsx, m[0], margin, s->w - 1 - margin, &lo, &hi);
            narrow(rsy, m[3], margin, s->h - 1 - margin, &lo, &hi);
        } else {
            hi = -1;
        }
        const float fsx = (float)rsx, fsy = (float)rsy;
        if (lo > hi) {
            row_checked(s, out, 0, dst_w, fsx, dsx, fsy, dsy);
            continue;
        }
        row_checked(s, out, 0, lo, fsx, dsx, fsy, dsy);
        float *o = out + lo * 3;
        const bool bgr = s->src_c[0] == 2;
        if (s->bpp == 4 && !bgr) row_interior(s, o, lo, hi + 1, fsx, dsx, fsy, dsy, 4, false);
        else if (s->bpp == 4) row_interior(s, o, lo, hi + 1, fsx, dsx, fsy, dsy, 4, true);
        else if (!bgr) row_interior(s, o, lo, hi + 1, fsx, dsx, fsy, dsy, 3, false);
        else row_interior(s, o, lo, hi + 1, fsx, dsx, fsy, dsy, 3, true);
        row_checked(s, out + (hi + 1) * 3, hi + 1, dst_w, fsx, dsx, fsy, dsy);
    }
}

vf_status vf_image_warp_to_tensor(vf_context *ctx, const vf_image *src, const float m[6], const vf_sample_options *opt,
                                  float *dst, int32_t dst_w, int32_t dst_h) {
    sampler s;
    vf_status st = setup(ctx, "warp", src, opt, dst, dst_w, dst_h, &s);
    if (st) return st;
    if (!m) return vf__fail(ctx, VF_E_INVALID_ARG, "warp: matrix is NULL");
    double md[6];
    for (int i = 0; i < 6; i++) {
        if (!isfinite(m[i])) return vf__fail(ctx, VF_E_INVALID_ARG, "warp: matrix entry %d is not finite", i);
        md[i] = m[i];
    }
    run(&s, md, dst, dst_w, dst_h);
    return VF_OK;
}

vf_status vf_image_resize_to_tensor(vf_context *ctx, const vf_image *src, const vf_rectf *rect, const vf_sample_options *opt,
                                    float *dst, int32_t dst_w, int32_t dst_h) {
    sampler s;
    vf_status st = setup(ctx, "resize", src, opt, dst, dst_w, dst_h, &s);
    if (st) return st;
    vf_rectf r = rect ? *rect : (vf_rectf){0, 0, (float)src->width, (float)src->height};
    if (!isfinite(r.x) || !isfinite(r.y) || !(r.width > 0) || !(r.height > 0) || !isfinite(r.width) || !isfinite(r.height))
        return vf__fail(ctx, VF_E_INVALID_ARG, "resize: bad source rectangle (%g, %g, %g, %g)", r.x, r.y, r.width, r.height);
    double ax = (double)r.width / dst_w, ay = (double)r.height / dst_h;
    double md[6] = {ax, 0, r.x + 0.5 * ax - 0.5, 0, ay, r.y + 0.5 * ay - 0.5};
    run(&s, md, dst, dst_w, dst_h);
    return VF_OK;
}
