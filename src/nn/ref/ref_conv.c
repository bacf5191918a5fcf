/* ref_conv.c - reference convolution (dense and depthwise) and fully connected. */
#include "ref.h"

/* y[n,oy,ox,co] = act(bias[co] + sum_{ky,kx,ci} x[n, oy*sh+ky-pt, ox*sw+kx-pl, ci] * w[co,ky,kx,ci])
 * depthwise: ci == co and w is [1,KH,KW,C]. Out-of-range input cells are zero. */
void vf_ref_conv2d(const vf_graph *g, const vf_op *op) {
    const vf_tensor *x = vf_in(g, op, 0), *w = vf_in(g, op, 1);
    const vf_tensor *b = op->n_in > 2 ? vf_in(g, op, 2) : NULL;
    const vf_tensor *y = &g->tensors[op->out];
    const bool dw = op->type == VF_OP_DWCONV2D;
    const int N = x->dims[0], H = x->dims[1], W = x->dims[2], C = x->dims[3];
    const int OH = y->dims[1], OW = y->dims[2], CO = y->dims[3];
    const int KH = w->dims[1], KW = w->dims[2];
    const int sh = op->ip[0], sw = op->ip[1], pt = op->ip[2], pl = op->ip[3];
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int co = 0; co < CO; co++) {
                    double acc = b ? b->data[co] : 0.0;
                    for (int ky = 0; ky < KH; ky++) {
                        int iy = oy * sh + ky - pt;
                        if (iy < 0 || iy >= H) continue;
                        for (int kx = 0; kx < KW; kx++) {
                            int ix = ox * sw + kx - pl;
                            if (ix < 0 || ix >= W) continue;
                            const float *xp = x->data + (((size_t)n * H + iy) * W + ix) * C;
                            if (dw) {
                                acc += (double)xp[co] * w->data[((size_t)ky * KW + kx) * C + co];
                            } else {
                                const float *wp = w->data + (((size_t)co * KH + ky) * KW + kx) * C;
                                for (int ci = 0; ci < C; ci++) acc += (double)xp[ci] * wp[ci];
                            }
                        }
                    }
                    y->data[(((size_t)n * OH + oy) * OW + ox) * CO + co] = vf_act_apply(&op->act, (float)acc, (size_t)co);
                }
}

/* y[n,o] = act(bias[o] + sum_k x[n,k] * w[o,k]) */
void vf_ref_fc(const vf_graph *g, const vf_op *op) {
    const vf_tensor *x = vf_in(g, op, 0), *w = vf_in(g, op, 1);
    const vf_tensor *b = op->n_in > 2 ? vf_in(g, op, 2) : NULL;
    const vf_tensor *y = &g->tensors[op->out];
    const size_t N = (size_t)x->dims[0], K = x->count / N, O = (size_t)w->dims[0];
    for (size_t n = 0; n < N; n++)
        for (size_t o = 0; o < O; o++) {
            double acc = b ? b->data[o] : 0.0;
            for (size_t k = 0; k < K; k++) acc += (double)x->data[n * K + k] * w->data[o * K + k];
            y->data[n * O + o] = vf_act_apply(&op->act, (float)acc, o);
        }
}
