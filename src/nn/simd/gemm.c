/* gemm.c - f32 GEMM for the simd backend: C[m, n] = act(bias[n] + sum_k A[m, k] * W[n, k]).
 *
 * The 1x1 convolution (64-95% of every model's FLOPs), the KxK convolutions (through a small
 * per-thread im2col of MR rows) and the fully connected layers all run on one register-blocked
 * micro-kernel: MR=4 rows x NR=8 columns held in 8 vector accumulators, K streamed. W is
 * repacked once at load into NR-wide panels [n/NR][K][NR] (zero-padded), so the kernel reads it
 * sequentially; A rows are reached through row pointers, so strided and im2col rows need no copy
 * of the whole input. Bias and activation are applied on the accumulators before the store. */
#include "simd.h"

#include <string.h>

size_t vf_gemm_packed_floats(int K, int N) {
    size_t panels = (size_t)(N + VF_NR - 1) / VF_NR;
    return panels * VF_NR * ((size_t)K + 3); /* weights + bias, alpha, pad rows */
}

void vf_gemm_pack(vf_gemm_w *gw, float *dst, const float *w, const float *bias, const vf_act *act, int K, int N) {
    int panels = (N + VF_NR - 1) / VF_NR;
    gw->K = K;
    gw->N = N;
    gw->panels = dst;
    gw->bias = dst + (size_t)panels * VF_NR * K;
    gw->alpha = gw->bias + (size_t)panels * VF_NR;
    for (int p = 0; p < panels; p++)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < VF_NR; j++) {
                int n = p * VF_NR + j;
                dst[((size_t)p * K + k) * VF_NR + j] = n < N ? w[(size_t)n * K + k] : 0.0f;
            }
    for (int n = 0; n < panels * VF_NR; n++) {
        gw->bias[n] = (bias && n < N) ? bias[n] : 0.0f;
        gw->alpha[n] = (act->kind == VF_ACT_PRELU && n < N) ? act->alpha[n] : 0.0f;
    }
    gw->act = act->kind;
    gw->lo = act->lo;
    gw->hi = act->hi;
}

/* Apply bias and activation to one accumulator vector of panel columns [j, j+4). */
static inline vf_v4 epilogue(const vf_gemm_w *gw, vf_v4 acc, const float *alpha, vf_v4 lo, vf_v4 hi) {
    if (gw->act == VF_ACT_CLAMP) return v4_min(v4_max(acc, lo), hi);
    if (gw->act == VF_ACT_PRELU) {
        vf_v4 z = v4_splat(0.0f);
        return v4_add(v4_max(acc, z), v4_mul(v4_load(alpha), v4_min(acc, z)));
    }
    return acc;
}

/* Epilogue and store of one MR x NR block of accumulators (bias already in): activation, then
 * the ncols valid columns of the nrows valid rows. */
static inline void store_block(const vf_gemm_w *gw, vf_v4 acc[VF_MR][2], float *const *c, int nrows, int ncols,
                               const float *alpha) {
    vf_v4 lo = v4_splat(gw->lo), hi = v4_splat(gw->hi);
    for (int r = 0; r < nrows; r++) {
        vf_v4 v0 = epilogue(gw, acc[r][0], alpha, lo, hi), v1 = epilogue(gw, acc[r][1], alpha + 4, lo, hi);
        if (ncols == VF_NR) {
            v4_store(c[r], v0);
            v4_store(c[r] + 4, v1);
        } else {
            float tmp[VF_NR];
            v4_store(tmp, v0);
            v4_store(tmp + 4, v1);
            memcpy(c[r], tmp, (size_t)ncols * sizeof(float));
        }
    }
}

/* MR x NR block: rows a[0..MR-1] (K floats each), panel b ([K][NR]), outputs c[r] + 0..ncols-1.
 * The accumulators live in registers: VF_MR * 2 of them, plus two weight vectors and one
 * broadcast input. */
static void kernel_mrx8(const vf_gemm_w *gw, const float *const *a, const float *b, float *const *c,
                        int nrows, int ncols, const float *bias, const float *alpha) {
    const int K = gw->K;
    vf_v4 b0 = v4_load(bias), b1 = v4_load(bias + 4);
#define ROWS(X) X(0) X(1) X(2) X(3) VF_MORE_ROWS(X)
#if VF_MR == 6
#define VF_MORE_ROWS(X) X(4) X(5)
#elif VF_MR == 5
#define VF_MORE_ROWS(X) X(4)
#else
#define VF_MORE_ROWS(X)
#endif
#define DECL(r) const float *a##r = a[r]; vf_v4 c##r##0 = b0, c##r##1 = b1;
#define STEP(r) { vf_v4 x = v4_load_splat(a##r + k); c##r##0 = v4_madd(x, w0, c##r##0); c##r##1 = v4_madd(x, w1, c##r##1); }
#define SAVE(r) acc[r][0] = c##r##0; acc[r][1] = c##r##1;
    ROWS(DECL)
    for (int k = 0; k < K; k++, b += VF_NR) {
        vf_v4 w0 = v4_load(b), w1 = v4_load(b + 4);
        ROWS(STEP)
    }
    vf_v4 acc[VF_MR][2];
    ROWS(SAVE)
#undef ROWS
#undef VF_MORE_ROWS
#undef DECL
#undef STEP
#undef SAVE
    store_block(gw, acc, c, nrows, ncols, alpha);
}

/* Indirect (im2col-free) variant for KxK convolutions: K = taps * C in (tap, channel) order, and
 * row r's tap t is the C floats at ind[r * taps + t] (an input pixel, or zeros outside the image),
 * so no patch matrix is copied. */
static void ikernel_mrx8(const vf_gemm_w *gw, const float *const *ind, int taps, int C, const float *b, float *const *c,
                         int nrows, int ncols, const float *bias, const float *alpha) {
    vf_v4 b0 = v4_load(bias), b1 = v4_load(bias + 4);
    vf_v4 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
    for (int t = 0; t < taps; t++) {
        const float *a0 = ind[t], *a1 = ind[taps + t], *a2 = ind[2 * taps + t], *a3 = ind[3 * taps + t];
        for (int k = 0; k < C; k++, b += VF_NR) {
            vf_v4 w0 = v4_load(b), w1 = v4_load(b + 4), x;
            x = v4_load_splat(a0 + k); c00 = v4_madd(x, w0, c00); c01 = v4_madd(x, w1, c01);
            x = v4_load_splat(a1 + k); c10 = v4_madd(x, w0, c10); c11 = v4_madd(x, w1, c11);
            x = v4_load_splat(a2 + k); c20 = v4_madd(x, w0, c20); c21 = v4_madd(x, w1, c21);
            x = v4_load_splat(a3 + k); c30 = v4_madd(x, w0, c30); c31 = v4_madd(x, w1, c31);
        }
    }
    vf_v4 acc[VF_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
    store_block(gw, acc, c, nrows, ncols, alpha);
}

#if VF_MR == 4
void vf_igemm_block(const vf_gemm_w *gw, const float *const *ind, int taps, int C, int nrows, float *c0, size_t ldc, int p0,
                    int p1) {
    float *c[VF_MR];
    for (int r = 0; r < VF_MR; r++) c[r] = c0 + (size_t)(r < nrows ? r : nrows - 1) * ldc; /* ind pads rows likewise */
    for (int p = p0; p < p1; p++) {
        int ncols = gw->N - p * VF_NR < VF_NR ? gw->N - p * VF_NR : VF_NR;
        float *cp[VF_MR];
        for (int r = 0; r < VF_MR; r++) cp[r] = c[r] + p * VF_NR;
        ikernel_mrx8(gw, ind, taps, C, gw->panels + (size_t)p * gw->K * VF_NR, cp, nrows, ncols, gw->bias + p * VF_NR,
                     gw->alpha + p * VF_NR);
    }
}
#endif

/* Direct variant for the 1x1 convolution: A rows at a + r*lda and C rows at c + r*ldc, as
 * scalars (no pointer arrays, which live in linear memory under wasm and cost loads and stores
 * per block). Rows past nrows repeat the last A row and are not stored. */
static void dkernel_4x8(const vf_gemm_w *gw, const float *a, size_t lda, const float *b, float *c, size_t ldc, int nrows,
                        int ncols, const float *bias, const float *alpha) {
    const int K = gw->K;
    const float *a0 = a, *a1 = a + (nrows > 1 ? lda : 0), *a2 = a + (nrows > 2 ? 2 * lda : (nrows - 1) * lda);
    const float *a3 = a + (size_t)(nrows > 3 ? 3 : nrows - 1) * lda;
    vf_v4 b0 = v4_load(bias), b1 = v4_load(bias + 4);
    vf_v4 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
    for (int k = 0; k < K; k++, b += VF_NR) {
        vf_v4 w0 = v4_load(b), w1 = v4_load(b + 4), x;
        x = v4_load_splat(a0 + k); c00 = v4_madd(x, w0, c00); c01 = v4_madd(x, w1, c01);
        x = v4_load_splat(a1 + k); c10 = v4_madd(x, w0, c10); c11 = v4_madd(x, w1, c11);
        x = v4_load_splat(a2 + k); c20 = v4_madd(x, w0, c20); c21 = v4_madd(x, w1, c21);
        x = v4_load_splat(a3 + k); c30 = v4_madd(x, w0, c30); c31 = v4_madd(x, w1, c31);
    }
    const vf_v4 lo = v4_splat(gw->lo), hi = v4_splat(gw->hi);
    vf_v4 acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
    for (int r = 0; r < nrows; r++, c += ldc) {
        vf_v4 v0 = epilogue(gw, acc[r][0], alpha, lo, hi), v1 = epilogue(gw, acc[r][1], alpha + 4, lo, hi);
        if (ncols == VF_NR) {
            v4_store(c, v0);
            v4_store(c + 4, v1);
        } else {
            float tmp[VF_NR];
            v4_store(tmp, v0);
            v4_store(tmp + 4, v1);
            memcpy(c, tmp, (size_t)ncols * sizeof(float));
        }
    }
}

#if VF_MR == 4
void vf_gemm_direct_block(const vf_gemm_w *gw, const float *a, size_t lda, int nrows, float *c0, size_t ldc, int p) {
    int ncols = gw->N - p * VF_NR < VF_NR ? gw->N - p * VF_NR : VF_NR;
    dkernel_4x8(gw, a, lda, gw->panels + (size_t)p * gw->K * VF_NR, c0 + p * VF_NR, ldc, nrows, ncols, gw->bias + p * VF_NR,
                gw->alpha + p * VF_NR);
}
#endif

void vf_gemm_block(const vf_gemm_w *gw, const float *const *arows, int nrows, float *c0, size_t ldc, int p0, int p1) {
    const float *a[VF_MR];
    float *c[VF_MR];
    for (int r = 0; r < VF_MR; r++) {
        int rr = r < nrows ? r : nrows - 1; /* padding rows repeat the last one; never stored */
        a[r] = arows[rr];
        c[r] = c0 + (size_t)rr * ldc;
    }
    for (int p = p0; p < p1; p++) {
        int ncols = gw->N - p * VF_NR < VF_NR ? gw->N - p * VF_NR : VF_NR;
        float *cp[VF_MR];
        for (int r = 0; r < VF_MR; r++) cp[r] = c[r] + p * VF_NR;
        kernel_mrx8(gw, a, gw->panels + (size_t)p * gw->K * VF_NR, cp, nrows, ncols, gw->bias + p * VF_NR, gw->alpha + p * VF_NR);
    }
}
