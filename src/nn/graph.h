/* graph.h - the in-memory inference graph: tensors, ops, and the memory plan.
 *
 * Built by model_load.c from a validated .vfm (models/FORMAT.md); read by the backends.
 * After loading, every tensor has its final shape and its data pointer (constants: the weights
 * block, widened to f32; activations and inputs: an offset into the planned arena). */
#ifndef VF_NN_GRAPH_H
#define VF_NN_GRAPH_H

#include "../core/core.h"

#define VF_NONE 0xFFFFFFFFu   /* absent tensor id */
#define VF_MAX_OP_INPUTS 4

typedef enum vf_op_type {
    VF_OP_CONV2D = 1,
    VF_OP_DWCONV2D = 2,
    VF_OP_FC = 3,
    VF_OP_ADD = 4,
    VF_OP_SUB = 5,
    VF_OP_MUL = 6,
    VF_OP_MIN = 7,
    VF_OP_MAX = 8,
    VF_OP_ACT = 9,
    VF_OP_SIGMOID = 10,
    VF_OP_SOFTMAX = 11,
    VF_OP_MAXPOOL2D = 12,
    VF_OP_AVGPOOL2D = 13,
    VF_OP_GLOBAL_AVGPOOL = 14,
    VF_OP_PAD = 15,
    VF_OP_RESHAPE = 16,
    VF_OP_L2NORM = 17,
    VF_OP_COUNT_ = 18
} vf_op_type;

typedef enum vf_act_kind { VF_ACT_NONE = 0, VF_ACT_CLAMP = 1, VF_ACT_PRELU = 2 } vf_act_kind;

typedef enum vf_tensor_kind { VF_TENSOR_ACTIVATION = 0, VF_TENSOR_CONSTANT = 1, VF_TENSOR_INPUT = 2 } vf_tensor_kind;

typedef struct vf_tensor {
    const char *name;        /* points into the graph's string table; "" if unnamed */
    uint8_t kind;            /* vf_tensor_kind */
    uint8_t src_dtype;       /* 1 f32, 2 f16, 3 int8 per channel, 4 f16 byte-planar: as stored in the file */
    uint8_t quant_axis;      /* int8: the axis of its scales (one f32 per index of that dim) */
    int rank;
    int32_t dims[VF_MAX_DIMS]; /* unused dims are 1 (so products stay simple) */
    size_t count;            /* element count */
    float *data;             /* constants: in the weights block; else set by the plan */
    size_t arena_offset;     /* activations and inputs: byte offset in the arena */
    int first_op, last_op;   /* lifetime in op indices: written at first_op, last read at last_op */
    bool is_output;
} vf_tensor;

/* Fused activation applied to each output element. */
typedef struct vf_act {
    vf_act_kind kind;
    float lo, hi;            /* clamp bounds */
    const float *alpha;      /* PReLU slopes, one per channel (last dim) */
} vf_act;

typedef struct vf_op {
    vf_op_type type;
    int n_in;
    uint32_t in[VF_MAX_OP_INPUTS]; /* VF_NONE for an absent optional input */
    uint32_t out;
    int32_t ip[8];           /* raw integer parameters, see FORMAT.md */
    float fp[2];
    vf_act act;              /* decoded epilogue */
    double flops;
} vf_op;

typedef struct vf_graph {
    vf_tensor *tensors;
    uint32_t n_tensors;
    vf_op *ops;
    uint32_t n_ops;
    uint32_t inputs[16], n_inputs;
    uint32_t outputs[16], n_outputs;
    char *strings;           /* copy of the string table */
    size_t strings_bytes;
    const char *meta;
    size_t weight_bytes;     /* constants after widening to f32 (each its own aligned block) */
    size_t dropped_bytes;    /* of those, released by the backend after repacking */
    size_t arena_bytes;      /* planned activation arena */
    size_t naive_bytes;      /* sum of all activation sizes */
    double flops;
} vf_graph;

/* Parse and validate .vfm bytes into g (all memory owned by g). */
vf_status vf_graph_load(vf_context *ctx, const uint8_t *bytes, size_t size, vf_graph *g);
void vf_graph_free(vf_graph *g);
/* Release constant `id` (a backend that repacked it and is its only reader); its data becomes NULL. */
void vf_graph_drop_constant(vf_graph *g, uint32_t id);
/* Infer op `i`'s output shape from its inputs; fails with a message naming the op. */
vf_status vf_graph_infer_shape(vf_context *ctx, const vf_graph *g, uint32_t i, int *rank, int32_t dims[VF_MAX_DIMS]);
/* Assign arena offsets by tensor lifetime; sets g->arena_bytes. */
vf_status vf_graph_plan(vf_context *ctx, vf_graph *g);
/* Point every activation/input tensor at arena + offset. */
void vf_graph_bind_arena(vf_graph *g, uint8_t *arena);
const char *vf_op_name(vf_op_type t);

static inline const vf_tensor *vf_in(const vf_graph *g, const vf_op *op, int k) {
    return op->in[k] == VF_NONE ? NULL : &g->tensors[op->in[k]];
}

/* Apply the epilogue to one value of channel c. */
static inline float vf_act_apply(const vf_act *a, float v, size_t c) {
    if (a->kind == VF_ACT_CLAMP) return v < a->lo ? a->lo : (v > a->hi ? a->hi : v);
    if (a->kind == VF_ACT_PRELU) return v >= 0.0f ? v : a->alpha[c] * v;
    return v;
}

#endif
