/* eltwise.c - elementwise, pooling and layout kernels of the simd backend, vectorised over the
 * channel dimension (innermost in NHWC). Work is split by rows of C elements (pixels). */
#include "simd.h"

#include <string.h>

/* Broadcast patterns with a fast path: equal shapes, or one operand one value per channel. */
typedef enum { BC_SAME, BC_B_PER_CHANNEL, BC_A_PER_CHANNEL, BC_OTHER } bcast;

static bool per_channel(const vf_tensor *t, int32_t C) {
    if (t->dims[t->rank - 1] != C) return false;
    return t->count == (size_t)C;
}

static bcast classify(const vf_graph *g, const vf_op *op) {
    const vf_tensor *a = vf_in(g, op, 0), *b = vf_in(g, op, 1), *y = &g->tensors[op->out];
    int32_t C = y->dims[y->rank - 1];
    if (a->count == y->count && b->count == y->count) return BC_SAME;
    if (a->count == y->count && per_channel(b, C)) return BC_B_PER_CHANNEL;
    if (b->count == y->count && per_channel(a, C) && op->type != VF_OP_SUB) return BC_A_PER_CHANNEL;
    return BC_OTHER;
}

bool vf_simd_binary_supported(const vf_graph *g, const vf_op *op) { return classify(g, op) != BC_OTHER; }

static inline vf_v4 binop(vf_op_type t, vf_v4 a, vf_v4 b) {
    switch (t) {
    case VF_OP_ADD: return v4_add(a, b);
    case VF_OP_SUB: return v4_sub(a, b);
    case VF_OP_MUL: return v4_mul(a, b);
    case VF_OP_MIN: return v4_min(a, b);
    default: return v4_max(a, b);
    }
}

static inline float binop1(vf_op_type t, float a, float b) {
    switch (t) {
    case VF_OP_ADD: return a + b;
    case VF_OP_SUB: return a - b;
    case VF_OP_MUL: return a * b;
    case VF_OP_MIN: return b < a ? b : a;
    default: return a < b ? b : a;
    }
}

static inline vf_v4 act4(const vf_act *a, vf_v4 v, size_t c, vf_v4 lo, vf_v4 hi) {
    if (a->kind == VF_ACT_CLAMP) return v4_min(v4_max(v, lo), hi);
    if (a->kind == VF_ACT_PRELU) {
        vf_v4 z = v4_splat(0.0f);
        return v4_add(v4_max(v, z), v4_mul(v4_load(a->alpha + c), v4_min(v, z)));
    }
    return v;
}

/* rows [r0, r1) of C elements */
void vf_simd_binary(const vf_graph *g, const vf_op *op, size_t r0, size_t r1) {
    const vf_tensor *ta = vf_in(g, op, 0), *tb = vf_in(g, op, 1), *y = &g->tensors[op->out];
    const size_t C = (size_t)y->dims[y->rank - 1];
    bcast k = classify(g, op);
    const float *A = ta->data, *B = tb->data;
    if (k == BC_A_PER_CHANNEL) { const float *t = A; A = B; B = t; } /* commutative ops only */
    const vf_v4 lo = v4_splat(op->act.lo), hi = v4_splat(op->act.hi);
    const vf_act *act = &op->act;
    /* one loop body per (operator, activation): the switch must not run per vector */
#define ROWS_LOOP(OPV, OP1, ACTV)                                                              \
    for (size_t r = r0; r < r1; r++) {                                                         \
        const float *a = A + r * C, *b = k == BC_SAME ? B + r * C : B;                          \
        float *o = y->data + r * C;                                                            \
        size_t c = 0;                                                                          \
        for (; c + 4 <= C; c += 4) { vf_v4 v = OPV(v4_load(a + c), v4_load(b + c)); v4_store(o + c, ACTV); } \
        for (; c < C; c++) o[c] = vf_act_apply(act, OP1(op->type, a[c], b[c]), c);            \
    }
#define NO_ACT v
#define CLAMP_ACT v4_min(v4_max(v, lo), hi)
#define PRELU_ACT v4_add(v4_max(v, z), v4_mul(v4_load(act->alpha + c), v4_min(v, z)))
    const vf_v4 z = v4_splat(0.0f);
    (void)z;
    if (op->type == VF_OP_ADD && act->kind == VF_ACT_NONE) ROWS_LOOP(v4_add, binop1, NO_ACT)
    else if (op->type == VF_OP_ADD && act->kind == VF_ACT_CLAMP) ROWS_LOOP(v4_add, binop1, CLAMP_ACT)
    else if (op->type == VF_OP_ADD && act->kind == VF_ACT_PRELU) ROWS_LOOP(v4_add, binop1, PRELU_ACT)
    else if (op->type == VF_OP_MUL && act->kind == VF_ACT_NONE) ROWS_LOOP(v4_mul, binop1, NO_ACT)
    else {
        for (size_t r = r0; r < r1; r++) {
            const float *a = A + r * C, *b = k == BC_SAME ? B + r * C : B;
            float *o = y->data + r * C;
            size_t c = 0;
            for (; c + 4 <= C; c += 4) v4_store(o + c, act4(act, binop(op->type, v4_load(a + c), v4_load(b + c)), c, lo, hi));
            for (; c < C; c++) o[c] = vf_act_apply(act, binop1(op->type, a[c], b[c]), c);
        }
    }
#undef ROWS_LOOP
#undef NO_ACT
#undef CLAMP_ACT
#undef PRELU_ACT
}

void vf_simd_act(const vf_graph *g, const vf_op *op, size_t r0, size_t r1) {
    const vf_tensor *x = vf_in(g, op, 0), *y = &g->tensors[op->out];
    const size_t C = (size_t)y->dims[y->rank - 1];
    const vf_v4 lo = v4_splat(op->act.lo), hi = v4_splat(op->act.hi);
    for (size_t r = r0; r < r1; r++) {
        const float *a = x->data + r * C;
        float *o = y->data + r * C;
        size_t c = 0;
        for (; c + 4 <= C; c += 4) v4_store(o + c, act4(&op->act, v4_load(a + c), c, lo, hi));
        for (; c < C; c++) o[c] = vf_act_apply(&op->act, a[c], c);
    }
}

/* Output rows [r0, r1) (over N*OH). Padded cells never win: windows are clipped to the image. */
void vf_simd_maxpool_rows(const vf_graph *g, const vf_op *op, int r0, int r1) {
    const vf_tensor *x = vf_in(g, op, 0), *y = &g->tensors[op->out];
    const int H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    const int sh = op->ip[0], sw = op->ip[1], pt = op->ip[2], pl = op->ip[3], KH = op->ip[6], KW = op->ip[7];
    for (int r = r0; r < r1; r++) {
        int n = r / OH, oy = r % OH;
        int y0 = oy * sh - pt, y1 = y0 + KH;
        if (y0 < 0) y0 = 0;
        if (y1 > H) y1 = H;
        for (int ox = 0; ox < OW; ox++) {
            int x0 = ox * sw - pl, x1 = x0 + KW;
            if (x0 < 0) x0 = 0;
            if (x1 > W) x1 = W;
            float *o = y->data + (((size_t)n * OH + oy) * OW + ox) * C;
            const float *first = x->data + (((size_t)n * H + y0) * W + x0) * C;
            int c = 0;
            for (; c + 4 <= C; c += 4) {
                vf_v4 m = v4_load(first + c);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) m = v4_max(m, v4_load(x->data + (((size_t)n * H + iy) * W + ix) * C + c));
                v4_store(o + c, m);
            }
            for (; c < C; c++) {
                float m = first[c];
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        float v = x->data[(((size_t)n * H + iy) * W + ix) * C + c];
                        m = v > m ? v : m;
                    }
                o[c] = m;
            }
        }
    }
}

void vf_simd_global_avgpool(const vf_graph *g, const vf_op *op) {
    const vf_tensor *x = vf_in(g, op, 0), *y = &g->tensors[op->out];
    const int N = x->dims[0], HW = x->dims[1] * x->dims[2], C = x->dims[3];
    const float inv = 1.0f / (float)HW;
    for (int n = 0; n < N; n++) {
        const float *xn = x->data + (size_t)n * HW * C;
        float *o = y->data + (size_t)n * C;
        int c = 0;
        for (; c + 4 <= C; c += 4) {
            vf_v4 s = v4_splat(0.0f);
            for (int i = 0; i < HW; i++) s = v4_add(s, v4_load(xn + (size_t)i * C + c));
            v4_store(o + c, v4_mul(s, v4_splat(inv)));
        }
        for (; c < C; c++) {
            float s = 0;
            for (int i = 0; i < HW; i++) s += xn[(size_t)i * C + c];
            o[c] = s * inv;
        }
    }
}

void vf_simd_pad(const vf_graph *g, const vf_op *op) {
    const vf_tensor *x = vf_in(g, op, 0), *y = &g->tensors[op->out];
    const int32_t *pre = op->ip;
    const float v = op->fp[0];
    const size_t yc = (size_t)y->dims[3], xc = (size_t)x->dims[3];
    /* fill everything with the pad value, then copy each input pixel's channels into place */
    for (size_t i = 0; i < y->count; i++) y->data[i] = v;
    for (int n = 0; n < x->dims[0]; n++)
        for (int h = 0; h < x->dims[1]; h++)
            for (int w = 0; w < x->dims[2]; w++) {
                const float *src = x->data + (((size_t)n * x->dims[1] + h) * x->dims[2] + w) * xc;
                float *dst = y->data + ((((size_t)n + pre[0]) * y->dims[1] + h + pre[1]) * y->dims[2] + w + pre[2]) * yc + pre[3];
                memcpy(dst, src, xc * sizeof(float));
            }
}
