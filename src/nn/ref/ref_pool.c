/* ref_pool.c - reference max / average / global average pooling (NHWC). */
#include "ref.h"

#include <math.h>

void vf_ref_pool(const vf_graph *g, const vf_op *op) {
    const vf_tensor *x = vf_in(g, op, 0);
    const vf_tensor *y = &g->tensors[op->out];
    const int N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3];
    if (op->type == VF_OP_GLOBAL_AVGPOOL) {
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int i = 0; i < H * W; i++) s += x->data[((size_t)n * H * W + i) * C + c];
                y->data[(size_t)n * C + c] = (float)(s / (H * W));
            }
        return;
    }
    const int OH = y->dims[1], OW = y->dims[2];
    const int sh = op->ip[0], sw = op->ip[1], pt = op->ip[2], pl = op->ip[3], KH = op->ip[6], KW = op->ip[7];
    const bool is_max = op->type == VF_OP_MAXPOOL2D;
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int c = 0; c < C; c++) {
                    double acc = is_max ? -INFINITY : 0.0;
                    int cnt = 0;
                    for (int ky = 0; ky < KH; ky++)
                        for (int kx = 0; kx < KW; kx++) {
                            int iy = oy * sh + ky - pt, ix = ox * sw + kx - pl;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                            float v = x->data[(((size_t)n * H + iy) * W + ix) * C + c];
                            if (is_max) acc = v > acc ? v : acc;
                            else acc += v;
                            cnt++;
                        }
                    y->data[(((size_t)n * OH + oy) * OW + ox) * C + c] = (float)(is_max ? acc : acc / cnt);
                }
}
