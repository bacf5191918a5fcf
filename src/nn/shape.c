/* shape.c - shape inference and FLOP counts per op; the loader checks declared shapes with it. */
#include "graph.h"

#include <string.h>

#define BAD(...) vf__fail(ctx, VF_E_MODEL, __VA_ARGS__)
#define MAX_STRIDE 16
#define MAX_PAD 4096

const char *vf_op_name(vf_op_type t) {
    static const char *names[VF_OP_COUNT_] = {
        "?", "CONV2D", "DWCONV2D", "FC", "ADD", "SUB", "MUL", "MIN", "MAX", "ACT", "SIGMOID",
        "SOFTMAX", "MAXPOOL2D", "AVGPOOL2D", "GLOBAL_AVGPOOL", "PAD", "RESHAPE", "L2NORM"};
    return (t > 0 && t < VF_OP_COUNT_) ? names[t] : "?";
}

/* Output size of a windowed op along one axis; 0 if the window does not fit. */
static int32_t window_out(int32_t in, int32_t k, int32_t s, int32_t p0, int32_t p1) {
    int64_t span = (int64_t)in + p0 + p1 - k;
    return span < 0 ? 0 : (int32_t)(span / s + 1);
}

static vf_status window_params(vf_context *ctx, const vf_op *op, uint32_t i, int32_t kh, int32_t kw) {
    const char *nm = vf_op_name(op->type);
    if (op->ip[0] < 1 || op->ip[1] < 1 || op->ip[0] > MAX_STRIDE || op->ip[1] > MAX_STRIDE)
        return BAD("op %u (%s): strides %d,%d not in 1..%d", i, nm, op->ip[0], op->ip[1], MAX_STRIDE);
    for (int k = 2; k < 6; k++)
        if (op->ip[k] < 0 || op->ip[k] > MAX_PAD) return BAD("op %u (%s): padding %d not in 0..%d", i, nm, op->ip[k], MAX_PAD);
    if (kh < 1 || kw < 1 || kh > 64 || kw > 64) return BAD("op %u (%s): kernel %dx%d not in 1..64", i, nm, kh, kw);
    /* A pad as large as the kernel would read windows made only of padding. */
    if (op->ip[2] >= kh || op->ip[4] >= kh || op->ip[3] >= kw || op->ip[5] >= kw)
        return BAD("op %u (%s): padding must be smaller than the %dx%d kernel", i, nm, kh, kw);
    return VF_OK;
}

static vf_status check_bias(vf_context *ctx, const vf_graph *g, const vf_op *op, uint32_t i, int32_t n) {
    const vf_tensor *b = op->n_in > 2 ? vf_in(g, op, 2) : NULL;
    if (b && (b->rank != 1 || b->dims[0] != n))
        return BAD("op %u (%s): bias has %zu values for %d outputs", i, vf_op_name(op->type), b->count, n);
    return VF_OK;
}

vf_status vf_graph_infer_shape(vf_context *ctx, const vf_graph *g, uint32_t i, int *rank, int32_t d[VF_MAX_DIMS]) {
    vf_op *op = &g->ops[i];
    const char *nm = vf_op_name(op->type);
    const vf_tensor *x = vf_in(g, op, 0);
    const vf_tensor *out = &g->tensors[op->out];
    vf_status s;
    for (int k = 0; k < VF_MAX_DIMS; k++) d[k] = 1;
    *rank = x->rank;
    memcpy(d, x->dims, sizeof x->dims);
    op->flops = (double)x->count;

    switch (op->type) {
    case VF_OP_CONV2D:
    case VF_OP_DWCONV2D: {
        const vf_tensor *w = vf_in(g, op, 1);
        if (x->rank != 4 || w->rank != 4) return BAD("op %u (%s): input and weights must be rank 4", i, nm);
        bool dw = op->type == VF_OP_DWCONV2D;
        int32_t kh = w->dims[1], kw = w->dims[2];
        int32_t co = dw ? w->dims[3] : w->dims[0];
        if (dw ? (w->dims[0] != 1 || w->dims[3] != x->dims[3]) : (w->dims[3] != x->dims[3]))
            return BAD("op %u (%s): weights [%d,%d,%d,%d] do not fit %d input channels", i, nm,
                       w->dims[0], w->dims[1], w->dims[2], w->dims[3], x->dims[3]);
        if ((s = window_params(ctx, op, i, kh, kw)) || (s = check_bias(ctx, g, op, i, co))) return s;
        d[1] = window_out(x->dims[1], kh, op->ip[0], op->ip[2], op->ip[4]);
        d[2] = window_out(x->dims[2], kw, op->ip[1], op->ip[3], op->ip[5]);
        d[3] = co;
        if (d[1] < 1 || d[2] < 1) return BAD("op %u (%s): kernel larger than the padded input", i, nm);
        op->flops = 2.0 * d[0] * d[1] * d[2] * co * kh * kw * (dw ? 1 : x->dims[3]);
        return VF_OK;
    }
    case VF_OP_FC: {
        const vf_tensor *w = vf_in(g, op, 1);
        size_t k = x->count / (size_t)x->dims[0];
        if (w->rank != 2 || (size_t)w->dims[1] != k)
            return BAD("op %u (FC): weights [%d,%d] do not fit %zu inputs", i, w->dims[0], w->dims[1], k);
        if ((s = check_bias(ctx, g, op, i, w->dims[0]))) return s;
        *rank = 2;
        d[1] = w->dims[0];
        d[2] = d[3] = 1;
        op->flops = 2.0 * d[0] * (double)w->dims[0] * (double)k;
        return VF_OK;
    }
    case VF_OP_ADD: case VF_OP_SUB: case VF_OP_MUL: case VF_OP_MIN: case VF_OP_MAX: {
        const vf_tensor *y = vf_in(g, op, 1);
        int r = x->rank > y->rank ? x->rank : y->rank;
        for (int k = 0; k < r; k++) { /* right-aligned, NumPy style */
            int ix = x->rank - r + k, iy = y->rank - r + k;
            int32_t a = ix >= 0 ? x->dims[ix] : 1, b = iy >= 0 ? y->dims[iy] : 1;
            if (a != b && a != 1 && b != 1) return BAD("op %u (%s): shapes do not broadcast at dim %d (%d vs %d)", i, nm, k, a, b);
            d[k] = a > b ? a : b;
        }
        for (int k = r; k < VF_MAX_DIMS; k++) d[k] = 1;
        *rank = r;
        op->flops = (double)out->count;
        return VF_OK;
    }
    case VF_OP_ACT: case VF_OP_SIGMOID: case VF_OP_SOFTMAX: case VF_OP_L2NORM:
        return VF_OK;
    case VF_OP_MAXPOOL2D: case VF_OP_AVGPOOL2D:
        if (x->rank != 4) return BAD("op %u (%s): input must be rank 4", i, nm);
        if ((s = window_params(ctx, op, i, op->ip[6], op->ip[7]))) return s;
        d[1] = window_out(x->dims[1], op->ip[6], op->ip[0], op->ip[2], op->ip[4]);
        d[2] = window_out(x->dims[2], op->ip[7], op->ip[1], op->ip[3], op->ip[5]);
        if (d[1] < 1 || d[2] < 1) return BAD("op %u (%s): window larger than the padded input", i, nm);
        return VF_OK;
    case VF_OP_GLOBAL_AVGPOOL:
        if (x->rank != 4) return BAD("op %u (%s): input must be rank 4", i, nm);
        if (out->rank == 2) { *rank = 2; d[1] = x->dims[3]; d[2] = d[3] = 1; }
        else { d[1] = d[2] = 1; }
        return VF_OK;
    case VF_OP_PAD:
        if (x->rank != 4) return BAD("op %u (PAD): input must be rank 4", i);
        for (int k = 0; k < 4; k++) {
            if (op->ip[k] < 0 || op->ip[k + 4] < 0 || op->ip[k] > MAX_PAD || op->ip[k + 4] > MAX_PAD)
                return BAD("op %u (PAD): padding of dim %d not in 0..%d", i, k, MAX_PAD);
            d[k] = x->dims[k] + op->ip[k] + op->ip[k + 4];
        }
        return VF_OK;
    case VF_OP_RESHAPE:
        if (out->count != x->count) return BAD("op %u (RESHAPE): %zu elements into %zu", i, x->count, out->count);
        *rank = out->rank;
        memcpy(d, out->dims, sizeof out->dims);
        op->flops = 0;
        return VF_OK;
    default:
        return BAD("op %u: unknown op %d", i, (int)op->type);
    }
}
