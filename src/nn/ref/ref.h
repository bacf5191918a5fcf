/* ref.h - the reference backend: plain, obviously-correct C for every op, accumulating in double.
 * It is the oracle the other backends are tested against. One function per op family. */
#ifndef VF_NN_REF_H
#define VF_NN_REF_H

#include "../graph.h"

void vf_ref_conv2d(const vf_graph *g, const vf_op *op);      /* CONV2D and DWCONV2D */
void vf_ref_fc(const vf_graph *g, const vf_op *op);
void vf_ref_binary(const vf_graph *g, const vf_op *op);      /* ADD SUB MUL MIN MAX */
void vf_ref_unary(const vf_graph *g, const vf_op *op);       /* ACT SIGMOID SOFTMAX L2NORM */
void vf_ref_pool(const vf_graph *g, const vf_op *op);        /* MAXPOOL2D AVGPOOL2D GLOBAL_AVGPOOL */
void vf_ref_layout(const vf_graph *g, const vf_op *op);      /* PAD RESHAPE */

/* Run one op with the reference kernels (also the fallback of other backends). */
void vf_ref_run_op(const vf_graph *g, const vf_op *op);

#endif
