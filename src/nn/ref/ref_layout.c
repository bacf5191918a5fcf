/* ref_layout.c - reference constant padding and reshape (a copy: the arena never aliases). */
#include "ref.h"

#include <string.h>

void vf_ref_layout(const vf_graph *g, const vf_op *op) {
    const vf_tensor *x = vf_in(g, op, 0);
    const vf_tensor *y = &g->tensors[op->out];
    if (op->type == VF_OP_RESHAPE) {
        memcpy(y->data, x->data, x->count * sizeof(float));
        return;
    }
    const int32_t *pre = op->ip;
    const int Y0 = y->dims[0], Y1 = y->dims[1], Y2 = y->dims[2], Y3 = y->dims[3];
    size_t o = 0;
    for (int i0 = 0; i0 < Y0; i0++)
        for (int i1 = 0; i1 < Y1; i1++)
            for (int i2 = 0; i2 < Y2; i2++)
                for (int i3 = 0; i3 < Y3; i3++, o++) {
                    int j0 = i0 - pre[0], j1 = i1 - pre[1], j2 = i2 - pre[2], j3 = i3 - pre[3];
                    bool inside = j0 >= 0 && j0 < x->dims[0] && j1 >= 0 && j1 < x->dims[1] &&
                                  j2 >= 0 && j2 < x->dims[2] && j3 >= 0 && j3 < x->dims[3];
                    y->data[o] = inside ? x->data[(((size_t)j0 * x->dims[1] + j1) * x->dims[2] + j2) * x->dims[3] + j3]
                                        : op->fp[0];
                }
}
