/* ref_elementwise.c - reference binary ops with broadcasting, activations, sigmoid, softmax, L2 norm. */
#include "ref.h"

#include <math.h>

/* Element strides of t when viewed with `rank` right-aligned dims; broadcast dims get stride 0. */
static void broadcast_strides(const vf_tensor *t, int rank, size_t st[VF_MAX_DIMS]) {
    size_t s = 1;
    for (int k = rank - 1; k >= 0; k--) {
        int it = t->rank - rank + k;
        int32_t d = it >= 0 ? t->dims[it] : 1;
        st[k] = d == 1 ? 0 : s;
        s *= (size_t)d;
    }
}

void vf_ref_binary(const vf_graph *g, const vf_op *op) {
    const vf_tensor *a = vf_in(g, op, 0), *b = vf_in(g, op, 1);
    const vf_tensor *y = &g->tensors[op->out];
    const int r = y->rank;
    size_t sa[VF_MAX_DIMS] = {0}, sb[VF_MAX_DIMS] = {0};
    broadcast_strides(a, r, sa);
    broadcast_strides(b, r, sb);
    int32_t d[VF_MAX_DIMS] = {1, 1, 1, 1};
    size_t ya[VF_MAX_DIMS] = {0}, yb[VF_MAX_DIMS] = {0};
    for (int k = 0; k < r; k++) { d[VF_MAX_DIMS - r + k] = y->dims[k]; ya[VF_MAX_DIMS - r + k] = sa[k]; yb[VF_MAX_DIMS - r + k] = sb[k]; }
    const size_t C = (size_t)y->dims[r - 1];
    size_t o = 0;
    for (int i0 = 0; i0 < d[0]; i0++)
        for (int i1 = 0; i1 < d[1]; i1++)
            for (int i2 = 0; i2 < d[2]; i2++)
                for (int i3 = 0; i3 < d[3]; i3++, o++) {
                    float u = a->data[i0 * ya[0] + i1 * ya[1] + i2 * ya[2] + i3 * ya[3]];
                    float v = b->data[i0 * yb[0] + i1 * yb[1] + i2 * yb[2] + i3 * yb[3]];
                    float z;
                    switch (op->type) {
                    case VF_OP_ADD: z = u + v; break;
                    case VF_OP_SUB: z = u - v; break;
                    case VF_OP_MUL: z = u * v; break;
                    case VF_OP_MIN: z = u < v ? u : v; break;
                    default: z = u > v ? u : v; break;
                    }
                    y->data[o] = vf_act_apply(&op->act, z, o % C);
                }
}

void vf_ref_unary(const vf_graph *g, const vf_op *op) {
    const vf_tensor *x = vf_in(g, op, 0);
    const vf_tensor *y = &g->tensors[op->out];
    const size_t C = (size_t)x->dims[x->rank - 1], rows = x->count / C;
    switch (op->type) {
    case VF_OP_ACT:
        for (size_t i = 0; i < x->count; i++) y->data[i] = vf_act_apply(&op->act, x->data[i], i % C);
        break;
    case VF_OP_SIGMOID:
        for (size_t i = 0; i < x->count; i++) y->data[i] = (float)(1.0 / (1.0 + exp(-(double)x->data[i])));
        break;
    case VF_OP_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            const float *xr = x->data + r * C;
            float *yr = y->data + r * C;
            double mx = xr[0], sum = 0;
            for (size_t c = 1; c < C; c++) mx = xr[c] > mx ? xr[c] : mx;
            for (size_t c = 0; c < C; c++) sum += exp((double)xr[c] - mx);
            for (size_t c = 0; c < C; c++) yr[c] = (float)(exp((double)xr[c] - mx) / sum);
        }
        break;
    case VF_OP_L2NORM:
        for (size_t r = 0; r < rows; r++) {
            const float *xr = x->data + r * C;
            double ss = 0;
            for (size_t c = 0; c < C; c++) ss += (double)xr[c] * xr[c];
            double scale = 1.0 / sqrt(ss > op->fp[0] ? ss : op->fp[0]);
            for (size_t c = 0; c < C; c++) y->data[r * C + c] = (float)(xr[c] * scale);
        }
        break;
    default: break;
    }
}
