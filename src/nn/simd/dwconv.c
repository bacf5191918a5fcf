/* dwconv.c - depthwise convolution, vectorised over channels (NHWC keeps 4 channels adjacent).
 * Per output pixel the KH*KW input taps are resolved once into pointers (a tap outside the
 * image points at a zero row), then every 4-channel block runs bias + taps + epilogue from
 * weights packed contiguously per block. Channels past the last full block run scalar. */
#include "simd.h"

size_t vf_dw_packed_floats(int C, int KH, int KW) {
    size_t blocks = (size_t)(C + 3) / 4;
    return blocks * 4 * (1 + (size_t)KH * KW);
}

void vf_dw_pack(vf_dw_w *dw, float *dst, const float *w, const float *bias, const vf_act *act, int C, int KH, int KW) {
    int blocks = (C + 3) / 4, taps = KH * KW;
    dw->C = C; dw->KH = KH; dw->KW = KW; dw->packed = dst;
    dw->act = act->kind; dw->lo = act->lo; dw->hi = act->hi;
    dw->alpha = act->kind == VF_ACT_PRELU ? act->alpha : NULL;
    for (int b = 0; b < blocks; b++) {
        float *blk = dst + (size_t)b * 4 * (1 + taps);
        for (int j = 0; j < 4; j++) {
            int c = b * 4 + j;
            blk[j] = (bias && c < C) ? bias[c] : 0.0f;
            for (int t = 0; t < taps; t++) blk[4 + t * 4 + j] = c < C ? w[(size_t)t * C + c] : 0.0f; /* w is [1,KH,KW,C] */
        }
    }
}

static inline float act1(const vf_dw_w *dw, float v, int c) {
    if (dw->act == VF_ACT_CLAMP) return v < dw->lo ? dw->lo : (v > dw->hi ? dw->hi : v);
    if (dw->act == VF_ACT_PRELU) return v >= 0 ? v : dw->alpha[c] * v;
    return v;
}

#define VF_DW_MAX_TAPS 81

void vf_dw_rows(const vf_dw_w *dw, const vf_graph *g, const vf_op *op, const float *zeros, int r0, int r1) {
    const vf_tensor *x = vf_in(g, op, 0), *y = &g->tensors[op->out];
    const int H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    const int KH = dw->KH, KW = dw->KW, taps = KH * KW, sh = op->ip[0], sw = op->ip[1], pt = op->ip[2], pl = op->ip[3];
    const int full = C / 4, stride = 4 * (1 + taps);
    const vf_v4 lo = v4_splat(dw->lo), hi = v4_splat(dw->hi), z = v4_splat(0.0f);
    const float *tap[VF_DW_MAX_TAPS];
    for (int r = r0; r < r1; r++) {
        int n = r / OH, oy = r % OH;
        const float *xn = x->data + (size_t)n * H * W * C;
        float *yrow = y->data + (size_t)r * OW * C;
        const int iy0 = oy * sh - pt;
        const bool rows_inside = iy0 >= 0 && iy0 + KH <= H;
        for (int ox = 0; ox < OW; ox++) {
            const int ix0 = ox * sw - pl;
            if (taps == 9 && KW == 3 && rows_inside && ix0 >= 0 && ix0 + 3 <= W) {
                /* 3x3 interior: three row pointers and two channel offsets stay in registers (the
                 * tap array lives in linear memory under wasm: 9 stores + 9 loads per block) */
                const float *q0 = xn + ((size_t)iy0 * W + ix0) * C, *q1 = q0 + (size_t)W * C, *q2 = q1 + (size_t)W * C;
                const size_t c1 = (size_t)C, c2 = 2 * (size_t)C;
                float *out = yrow + (size_t)ox * C;
                const float *wb = dw->packed;
                for (int b = 0; b < full; b++, wb += stride) {
                    const int c = b * 4;
                    vf_v4 acc = v4_load(wb);
                    acc = v4_madd(v4_load(q0 + c), v4_load(wb + 4), acc);
                    acc = v4_madd(v4_load(q0 + c1 + c), v4_load(wb + 8), acc);
                    acc = v4_madd(v4_load(q0 + c2 + c), v4_load(wb + 12), acc);
                    acc = v4_madd(v4_load(q1 + c), v4_load(wb + 16), acc);
                    acc = v4_madd(v4_load(q1 + c1 + c), v4_load(wb + 20), acc);
                    acc = v4_madd(v4_load(q1 + c2 + c), v4_load(wb + 24), acc);
                    acc = v4_madd(v4_load(q2 + c), v4_load(wb + 28), acc);
                    acc = v4_madd(v4_load(q2 + c1 + c), v4_load(wb + 32), acc);
                    acc = v4_madd(v4_load(q2 + c2 + c), v4_load(wb + 36), acc);
                    if (dw->act == VF_ACT_CLAMP) acc = v4_min(v4_max(acc, lo), hi);
                    else if (dw->act == VF_ACT_PRELU) acc = v4_add(v4_max(acc, z), v4_mul(v4_load(dw->alpha + c), v4_min(acc, z)));
                    v4_store(out + c, acc);
                }
                for (int c = full * 4; c < C; c++) { /* scalar tail, same packed weights */
                    const float *blk = dw->packed + (size_t)(c / 4) * stride;
                    const int j = c % 4;
                    float acc = blk[j];
                    acc += q0[c] * blk[4 + j] + q0[c1 + c] * blk[8 + j] + q0[c2 + c] * blk[12 + j];
                    acc += q1[c] * blk[16 + j] + q1[c1 + c] * blk[20 + j] + q1[c2 + c] * blk[24 + j];
                    acc += q2[c] * blk[28 + j] + q2[c1 + c] * blk[32 + j] + q2[c2 + c] * blk[36 + j];
                    out[c] = act1(dw, acc, c);
                }
                continue;
            }
            if (rows_inside && ix0 >= 0 && ix0 + KW <= W) { /* interior: fixed offsets, no tests */
                const float *base = xn + ((size_t)iy0 * W + ix0) * C;
                for (int ky = 0, t = 0; ky < KH; ky++)
                    for (int kx = 0; kx < KW; kx++, t++) tap[t] = base + ((size_t)ky * W + kx) * C;
            } else {
                for (int ky = 0, t = 0; ky < KH; ky++) {
                    int iy = iy0 + ky;
                    for (int kx = 0; kx < KW; kx++, t++) {
                        int ix = ix0 + kx;
                        tap[t] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? xn + ((size_t)iy * W + ix) * C : zeros;
                    }
                }
            }
            float *out = yrow + (size_t)ox * C;
            const float *wb = dw->packed;
            for (int b = 0; b < full; b++, wb += stride) {
                const int c = b * 4;
                vf_v4 acc = v4_load(wb);
                if (taps == 9) { /* the common 3x3: unrolled */
                    acc = v4_madd(v4_load(tap[0] + c), v4_load(wb + 4), acc);
                    acc = v4_madd(v4_load(tap[1] + c), v4_load(wb + 8), acc);
                    acc = v4_madd(v4_load(tap[2] + c), v4_load(wb + 12), acc);
                    acc = v4_madd(v4_load(tap[3] + c), v4_load(wb + 16), acc);
                    acc = v4_madd(v4_load(tap[4] + c), v4_load(wb + 20), acc);
                    acc = v4_madd(v4_load(tap[5] + c), v4_load(wb + 24), acc);
                    acc = v4_madd(v4_load(tap[6] + c), v4_load(wb + 28), acc);
                    acc = v4_madd(v4_load(tap[7] + c), v4_load(wb + 32), acc);
                    acc = v4_madd(v4_load(tap[8] + c), v4_load(wb + 36), acc);
                } else {
                    for (int t = 0; t < taps; t++) acc = v4_madd(v4_load(tap[t] + c), v4_load(wb + 4 + 4 * t), acc);
                }
                if (dw->act == VF_ACT_CLAMP) acc = v4_min(v4_max(acc, lo), hi);
                else if (dw->act == VF_ACT_PRELU) acc = v4_add(v4_max(acc, z), v4_mul(v4_load(dw->alpha + c), v4_min(acc, z)));
                v4_store(out + c, acc);
            }
            for (int c = full * 4; c < C; c++) { /* scalar tail, same packed weights */
                const float *blk = dw->packed + (size_t)(c / 4) * stride;
                float acc = blk[c % 4];
                for (int t = 0; t < taps; t++) acc += tap[t][c] * blk[4 + 4 * t + c % 4];
                out[c] = act1(dw, acc, c);
            }
        }
    }
}
