/* backend_xnnpack.c - native backend on Debian's libXNNPACK (2022 subgraph API).
 *
 * The op list is cut into segments: runs of ops XNNPACK can express become one XNNPACK runtime
 * each; an op it cannot express (L2NORM, AVGPOOL2D with padding semantics we do not rely on)
 * runs on the reference kernels between segments. Tensors crossing a segment boundary, and the
 * graph's inputs and outputs, are external values bound once to their arena addresses, so
 * invoke is just a walk over the segments. Weights are the graph's f32 constants (XNNPACK packs
 * its own copy when the runtime is created). */
#include "../backend.h"
#include "../ref/ref.h"

#include <math.h>
#include <pthreadpool.h>
#include <stdlib.h>
#include <string.h>
#include <xnnpack.h>

typedef struct segment {
    uint32_t begin, end;   /* op range [begin, end) */
    xnn_runtime_t rt;      /* NULL: run these ops on the reference kernels */
} segment;

typedef struct xstate {
    pthreadpool_t pool;
    segment *segs;
    uint32_t n_segs;
} xstate;

static const char *xnn_status_name(enum xnn_status s) {
    switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
    }
    return "unknown";
}

static bool xnn_supports(const vf_op *op) {
    switch (op->type) {
    case VF_OP_L2NORM: case VF_OP_AVGPOOL2D: return false;
    default: return true;
    }
}

/* Builder state for one segment. */
typedef struct builder {
    vf_context *ctx;
    const vf_graph *g;
    xnn_subgraph_t sg;
    uint32_t *vid;                 /* tensor id -> XNNPACK value id */
    uint32_t begin, end;
    struct xnn_external_value *ext;
    uint32_t n_ext;
} builder;

#define XCHECK(call, what)                                                                              \
    do {                                                                                                \
        enum xnn_status xs_ = (call);                                                                   \
        if (xs_ != xnn_status_success)                                                                  \
            return vf__fail(b->ctx, VF_E_BACKEND, "XNNPACK %s failed for op %u (%s): %s", what, opi,     \
                            vf_op_name(op->type), xnn_status_name(xs_));                                \
    } while (0)

static void dims_of(const vf_tensor *t, size_t d[VF_MAX_DIMS]) {
    for (int k = 0; k < t->rank; k++) d[k] = (size_t)t->dims[k];
}

/* Value id of tensor `id` inside this segment, defining it on first use. */
static vf_status value(builder *b, uint32_t id, uint32_t *out) {
    if (b->vid[id] != XNN_INVALID_VALUE_ID) { *out = b->vid[id]; return VF_OK; }
    const vf_tensor *t = &b->g->tensors[id];
    size_t d[VF_MAX_DIMS];
    dims_of(t, d);
    uint32_t ext_id = XNN_INVALID_VALUE_ID, flags = 0;
    const void *data = NULL;
    if (t->kind == VF_TENSOR_CONSTANT) {
        data = t->data;
    } else {
        bool from_before = t->first_op < (int)b->begin;
        bool used_after = t->is_output || t->last_op >= (int)b->end;
        if (from_before) flags = XNN_VALUE_FLAG_EXTERNAL_INPUT;
        else if (used_after) flags = XNN_VALUE_FLAG_EXTERNAL_OUTPUT;
        if (flags) {
            ext_id = b->n_ext;
            b->ext[b->n_ext].id = ext_id;
            b->ext[b->n_ext].data = t->data;
            b->n_ext++;
        }
    }
    enum xnn_status xs = xnn_define_tensor_value(b->sg, xnn_datatype_fp32, (size_t)t->rank, d, data, ext_id, flags, out);
    if (xs != xnn_status_success)
        return vf__fail(b->ctx, VF_E_BACKEND, "XNNPACK tensor %u '%s': %s", id, t->name, xnn_status_name(xs));
    b->vid[id] = *out;
    return VF_OK;
}

/* An internal value of the given shape (for unfused epilogues and reshapes). */
static vf_status temp_value(builder *b, int rank, const size_t *d, uint32_t *out) {
    enum xnn_status xs = xnn_define_tensor_value(b->sg, xnn_datatype_fp32, (size_t)rank, d, NULL, XNN_INVALID_VALUE_ID, 0, out);
    return xs == xnn_status_success ? VF_OK : vf__fail(b->ctx, VF_E_BACKEND, "XNNPACK temp value: %s", xnn_status_name(xs));
}

/* Output bounds of a fused clamp; a PReLU epilogue becomes a separate node writing `out`. */
static void act_bounds(const vf_op *op, float *lo, float *hi) {
    *lo = -INFINITY;
    *hi = INFINITY;
    if (op->act.kind == VF_ACT_CLAMP) { *lo = op->act.lo; *hi = op->act.hi; }
}

/* Where the op's main node writes: the output itself, or a temp when a PReLU node follows. */
static vf_status main_output(builder *b, const vf_op *op, uint32_t *y, uint32_t *final_y) {
    vf_status s = value(b, op->out, final_y);
    if (s) return s;
    if (op->act.kind != VF_ACT_PRELU) { *y = *final_y; return VF_OK; }
    const vf_tensor *t = &b->g->tensors[op->out];
    size_t d[VF_MAX_DIMS];
    dims_of(t, d);
    return temp_value(b, t->rank, d, y);
}

static vf_status finish_prelu(builder *b, const vf_op *op, uint32_t opi, uint32_t y, uint32_t final_y) {
    if (op->act.kind != VF_ACT_PRELU) return VF_OK;
    uint32_t alpha;
    vf_status s = value(b, (uint32_t)op->ip[7], &alpha);
    if (s) return s;
    XCHECK(xnn_define_prelu(b->sg, y, alpha, final_y, 0), "prelu");
    return VF_OK;
}

static vf_status define_op(builder *b, uint32_t opi) {
    const vf_graph *g = b->g;
    const vf_op *op = &g->ops[opi];
    const vf_tensor *x = vf_in(g, op, 0);
    uint32_t xi, y, final_y, w = XNN_INVALID_VALUE_ID, bias = XNN_INVALID_VALUE_ID;
    float lo, hi;
    vf_status s;
    act_bounds(op, &lo, &hi);
    if ((s = value(b, op->in[0], &xi))) return s;
    if (op->type == VF_OP_ACT) {
        if (op->act.kind == VF_ACT_PRELU) {
            uint32_t alpha;
            if ((s = value(b, op->out, &final_y)) || (s = value(b, (uint32_t)op->ip[7], &alpha))) return s;
            XCHECK(xnn_define_prelu(b->sg, xi, alpha, final_y, 0), "prelu");
        } else {
            if ((s = value(b, op->out, &final_y))) return s;
            XCHECK(xnn_define_clamp(b->sg, lo, hi, xi, final_y, 0), "clamp");
        }
        return VF_OK;
    }
    bool has_act = op->type == VF_OP_CONV2D || op->type == VF_OP_DWCONV2D || op->type == VF_OP_FC ||
                   (op->type >= VF_OP_ADD && op->type <= VF_OP_MAX);
    if (has_act) {
        if ((s = main_output(b, op, &y, &final_y))) return s;
    } else {
        if ((s = value(b, op->out, &y))) return s;
        final_y = y;
    }
    if (op->n_in > 1 && op->in[1] != VF_NONE && (s = value(b, op->in[1], &w))) return s;
    if (op->n_in > 2 && op->in[2] != VF_NONE && (s = value(b, op->in[2], &bias))) return s;
    const vf_tensor *out = &g->tensors[op->out];

    switch (op->type) {
    case VF_OP_CONV2D: {
        const vf_tensor *wt = vf_in(g, op, 1);
        XCHECK(xnn_define_convolution_2d(b->sg, (uint32_t)op->ip[2], (uint32_t)op->ip[5], (uint32_t)op->ip[4], (uint32_t)op->ip[3],
                                         (uint32_t)wt->dims[1], (uint32_t)wt->dims[2], (uint32_t)op->ip[0], (uint32_t)op->ip[1],
                                         1, 1, 1, (size_t)x->dims[3], (size_t)out->dims[3], lo, hi, xi, w, bias, y, 0),
               "convolution_2d");
        break;
    }
    case VF_OP_DWCONV2D: {
        const vf_tensor *wt = vf_in(g, op, 1);
        XCHECK(xnn_define_depthwise_convolution_2d(b->sg, (uint32_t)op->ip[2], (uint32_t)op->ip[5], (uint32_t)op->ip[4],
                                                   (uint32_t)op->ip[3], (uint32_t)wt->dims[1], (uint32_t)wt->dims[2],
                                                   (uint32_t)op->ip[0], (uint32_t)op->ip[1], 1, 1, 1, (size_t)x->dims[3],
                                                   lo, hi, xi, w, bias, y, 0),
               "depthwise_convolution_2d");
        break;
    }
    case VF_OP_FC: {
        uint32_t in2 = xi;
        size_t K = x->count / (size_t)x->dims[0];
        if (x->rank != 2) { /* FC flattens everything after N; XNNPACK wants [N, K] */
            size_t d2[2] = {(size_t)x->dims[0], K};
            if ((s = temp_value(b, 2, d2, &in2))) return s;
            XCHECK(xnn_define_static_reshape(b->sg, 2, d2, xi, in2, 0), "reshape for FC");
        }
        XCHECK(xnn_define_fully_connected(b->sg, lo, hi, in2, w, bias, y, 0), "fully_connected");
        break;
    }
    case VF_OP_ADD: XCHECK(xnn_define_add2(b->sg, lo, hi, xi, w, y, 0), "add2"); break;
    case VF_OP_SUB: XCHECK(xnn_define_subtract(b->sg, lo, hi, xi, w, y, 0), "subtract"); break;
    case VF_OP_MUL: XCHECK(xnn_define_multiply2(b->sg, lo, hi, xi, w, y, 0), "multiply2"); break;
    case VF_OP_MIN:
    case VF_OP_MAX: {
        /* minimum2/maximum2 have no output bounds: clamp in a second node when fused. */
        uint32_t y0 = y;
        if (op->act.kind == VF_ACT_CLAMP) {
            size_t d[VF_MAX_DIMS];
            dims_of(out, d);
            if ((s = temp_value(b, out->rank, d, &y0))) return s;
        }
        if (op->type == VF_OP_MIN) XCHECK(xnn_define_minimum2(b->sg, xi, w, y0, 0), "minimum2");
        else XCHECK(xnn_define_maximum2(b->sg, xi, w, y0, 0), "maximum2");
        if (y0 != y) XCHECK(xnn_define_clamp(b->sg, lo, hi, y0, y, 0), "clamp");
        break;
    }
    case VF_OP_SIGMOID: XCHECK(xnn_define_sigmoid(b->sg, xi, y, 0), "sigmoid"); break;
    case VF_OP_SOFTMAX: XCHECK(xnn_define_softmax(b->sg, xi, y, 0), "softmax"); break;
    case VF_OP_MAXPOOL2D:
        XCHECK(xnn_define_max_pooling_2d(b->sg, (uint32_t)op->ip[2], (uint32_t)op->ip[5], (uint32_t)op->ip[4], (uint32_t)op->ip[3],
                                         (uint32_t)op->ip[6], (uint32_t)op->ip[7], (uint32_t)op->ip[0], (uint32_t)op->ip[1],
                                         1, 1, -INFINITY, INFINITY, xi, y, 0),
               "max_pooling_2d");
        break;
    case VF_OP_GLOBAL_AVGPOOL: {
        if (out->rank == 4) {
            XCHECK(xnn_define_global_average_pooling_2d(b->sg, -INFINITY, INFINITY, xi, y, 0), "global_average_pooling_2d");
        } else { /* XNNPACK writes [N,1,1,C]; our tensor is [N,C] */
            size_t d4[4] = {(size_t)x->dims[0], 1, 1, (size_t)x->dims[3]}, d2[2] = {d4[0], d4[3]};
            uint32_t t4;
            if ((s = temp_value(b, 4, d4, &t4))) return s;
            XCHECK(xnn_define_global_average_pooling_2d(b->sg, -INFINITY, INFINITY, xi, t4, 0), "global_average_pooling_2d");
            XCHECK(xnn_define_static_reshape(b->sg, 2, d2, t4, y, 0), "reshape");
        }
        break;
    }
    case VF_OP_PAD: {
        size_t pre[4], post[4];
        for (int k = 0; k < 4; k++) { pre[k] = (size_t)op->ip[k]; post[k] = (size_t)op->ip[k + 4]; }
        XCHECK(xnn_define_static_constant_pad(b->sg, pre, post, op->fp[0], xi, y, 0), "static_constant_pad");
        break;
    }
    case VF_OP_RESHAPE: {
        size_t d[VF_MAX_DIMS];
        dims_of(out, d);
        XCHECK(xnn_define_static_reshape(b->sg, (size_t)out->rank, d, xi, y, 0), "static_reshape");
        break;
    }
    default:
        return vf__fail(b->ctx, VF_E_INTERNAL, "op %u (%s) reached the XNNPACK builder", opi, vf_op_name(op->type));
    }
    return has_act ? finish_prelu(b, op, opi, y, final_y) : VF_OK;
}

static vf_status build_segment(vf_context *ctx, const vf_graph *g, pthreadpool_t pool, segment *seg) {
    builder bd = {ctx, g, NULL, NULL, seg->begin, seg->end, NULL, 0};
    builder *b = &bd;
    vf_status s = VF_OK;
    bd.vid = malloc(sizeof *bd.vid * g->n_tensors);
    bd.ext = malloc(sizeof *bd.ext * g->n_tensors);
    if (!bd.vid || !bd.ext) { s = vf__fail(ctx, VF_E_NO_MEMORY, "XNNPACK builder tables"); goto done; }
    for (uint32_t i = 0; i < g->n_tensors; i++) bd.vid[i] = XNN_INVALID_VALUE_ID;
    /* Every non-constant tensor may become external: reserve ids for all of them. */
    enum xnn_status xs = xnn_create_subgraph(g->n_tensors, 0, &bd.sg);
    if (xs != xnn_status_success) { s = vf__fail(ctx, VF_E_BACKEND, "XNNPACK create_subgraph: %s", xnn_status_name(xs)); goto done; }
    for (uint32_t i = seg->begin; i < seg->end && !s; i++) s = define_op(b, i);
    if (s) goto done;
    xs = xnn_create_runtime_v2(bd.sg, pool, 0, &seg->rt);
    if (xs != xnn_status_success) { s = vf__fail(ctx, VF_E_BACKEND, "XNNPACK create_runtime (ops %u..%u): %s", seg->begin, seg->end - 1, xnn_status_name(xs)); goto done; }
    xs = xnn_setup_runtime(seg->rt, bd.n_ext, bd.ext);
    if (xs != xnn_status_success) s = vf__fail(ctx, VF_E_BACKEND, "XNNPACK setup_runtime (ops %u..%u): %s", seg->begin, seg->end - 1, xnn_status_name(xs));
done:
    if (bd.sg) xnn_delete_subgraph(bd.sg);
    free(bd.vid);
    free(bd.ext);
    return s;
}

static void x_release(void *state) {
    xstate *st = state;
    if (!st) return;
    for (uint32_t i = 0; i < st->n_segs; i++)
        if (st->segs[i].rt) xnn_delete_runtime(st->segs[i].rt);
    free(st->segs);
    if (st->pool) pthreadpool_destroy(st->pool);
    free(st);
}

static vf_status x_prepare(vf_context *ctx, vf_graph *g, void **state_out) {
    enum xnn_status xs = xnn_initialize(NULL); /* reference-counted by XNNPACK; idempotent */
    if (xs != xnn_status_success) return vf__fail(ctx, VF_E_BACKEND, "XNNPACK initialize: %s", xnn_status_name(xs));
    xstate *st = calloc(1, sizeof *st);
    if (!st) return vf__fail(ctx, VF_E_NO_MEMORY, "XNNPACK backend state");
    st->segs = calloc(g->n_ops, sizeof *st->segs);
    if (!st->segs) { x_release(st); return vf__fail(ctx, VF_E_NO_MEMORY, "XNNPACK segments"); }
    if (ctx->opt.threads > 1) {
        st->pool = pthreadpool_create((size_t)ctx->opt.threads);
        if (!st->pool) { x_release(st); return vf__fail(ctx, VF_E_BACKEND, "cannot create a %d-thread pool", ctx->opt.threads); }
    }
    for (uint32_t i = 0; i < g->n_ops;) {
        bool xnn = xnn_supports(&g->ops[i]);
        uint32_t j = i + 1;
        while (j < g->n_ops && xnn_supports(&g->ops[j]) == xnn) j++;
        segment *seg = &st->segs[st->n_segs++];
        seg->begin = i;
        seg->end = j;
        if (xnn) {
            vf_status s = build_segment(ctx, g, st->pool, seg);
            if (s) { x_release(st); return s; }
        }
        i = j;
    }
    vf__log(ctx, VF_LOG_DEBUG, "XNNPACK backend: %u segments", st->n_segs);
    *state_out = st;
    return VF_OK;
}

static vf_status x_invoke(vf_context *ctx, const vf_graph *g, void *state) {
    xstate *st = state;
    for (uint32_t i = 0; i < st->n_segs; i++) {
        segment *seg = &st->segs[i];
        if (seg->rt) {
            enum xnn_status xs = xnn_invoke_runtime(seg->rt);
            if (xs != xnn_status_success) return vf__fail(ctx, VF_E_BACKEND, "XNNPACK invoke: %s", xnn_status_name(xs));
        } else {
            for (uint32_t k = seg->begin; k < seg->end; k++) vf_ref_run_op(g, &g->ops[k]);
        }
    }
    return VF_OK;
}

const vf_backend_impl vf_backend_xnnpack_impl = {VF_BACKEND_XNNPACK, "xnnpack", x_prepare, x_invoke, x_release};
