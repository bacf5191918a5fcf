/* ref_backend.c - dispatch of the reference kernels; the backend table for VF_BACKEND_REF. */
#include "ref.h"
#include "../backend.h"

void vf_ref_run_op(const vf_graph *g, const vf_op *op) {
    switch (op->type) {
    case VF_OP_CONV2D: case VF_OP_DWCONV2D: vf_ref_conv2d(g, op); break;
    case VF_OP_FC: vf_ref_fc(g, op); break;
    case VF_OP_ADD: case VF_OP_SUB: case VF_OP_MUL: case VF_OP_MIN: case VF_OP_MAX: vf_ref_binary(g, op); break;
    case VF_OP_ACT: case VF_OP_SIGMOID: case VF_OP_SOFTMAX: case VF_OP_L2NORM: vf_ref_unary(g, op); break;
    case VF_OP_MAXPOOL2D: case VF_OP_AVGPOOL2D: case VF_OP_GLOBAL_AVGPOOL: vf_ref_pool(g, op); break;
    case VF_OP_PAD: case VF_OP_RESHAPE: vf_ref_layout(g, op); break;
    default: break; /* the loader refuses unknown ops */
    }
}

static vf_status ref_prepare(vf_context *ctx, vf_graph *g, void **state_out) {
    (void)ctx; (void)g;
    *state_out = NULL;
    return VF_OK;
}

static vf_status ref_invoke(vf_context *ctx, const vf_graph *g, void *state) {
    (void)ctx; (void)state;
    for (uint32_t i = 0; i < g->n_ops; i++) vf_ref_run_op(g, &g->ops[i]);
    return VF_OK;
}

static void ref_release(void *state) { (void)state; }

const vf_backend_impl vf_backend_ref_impl = {VF_BACKEND_REF, "ref", ref_prepare, ref_invoke, ref_release};
