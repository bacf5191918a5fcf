/* test_ops.c - every op on every backend in this build, against expected values computed here
 * independently (explicitly padded buffers instead of bounds checks), on odd shapes: 1x1 kernels,
 * channel counts that are not multiples of 4, stride 2, asymmetric SAME padding, broadcasting,
 * fused clamp and PReLU epilogues, f16 constants. */
#include "vfm_builder.h"
#include "veriface.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_fail, g_pass;
static int g_threads = 1; /* context threads of run_case */
static uint32_t g_rng = 2463534242u;

static float frand(float lo, float hi) {
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 17; g_rng ^= g_rng << 5;
    return lo + (hi - lo) * (float)((g_rng >> 8) / 16777216.0);
}
static float *rand_buf(size_t n, float lo, float hi) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = frand(lo, hi);
    return p;
}

enum { OP_CONV = 1, OP_DW, OP_FC, OP_ADD, OP_SUB, OP_MUL, OP_MIN, OP_MAX, OP_ACT, OP_SIGMOID, OP_SOFTMAX,
       OP_MAXPOOL, OP_AVGPOOL, OP_GAP, OP_PAD, OP_RESHAPE, OP_L2NORM };

/* Epilogue description used by both the graph and the expectation. */
typedef struct { int kind; float lo, hi; const float *alpha; } epi;
static float epi_apply(const epi *e, float v, int c) {
    if (e->kind == 1) return v < e->lo ? e->lo : v > e->hi ? e->hi : v;
    if (e->kind == 2) return v >= 0 ? v : e->alpha[c] * v;
    return v;
}
static void set_epi(vfb *b, const epi *e, int channels, int32_t ip[8], float fp[2]) {
    ip[6] = e->kind;
    ip[7] = -1;
    if (e->kind == 1) { fp[0] = e->lo; fp[1] = e->hi; }
    if (e->kind == 2) { int32_t d = channels; ip[7] = (int32_t)vfb_const(b, 1, &d, e->alpha, 0); }
}

/* Load `bytes` on backend `be`, copy `x` in, run, compare output 0 with `want`. */
static void run_case(const char *what, uint8_t *bytes, size_t n, vf_backend be, const float *x, size_t nx,
                     const float *want, size_t nw) {
    vf_context *ctx;
    vf_context_options co = vf_context_default_options();
    co.threads = g_threads;
    vf_context_create(&co, &ctx);
    vf_model_options mo = vf_model_default_options();
    mo.backend = be;
    vf_model *m;
    vf_status s = vf_model_load(ctx, bytes, n, &mo, &m);
    if (s) {
        printf("FAIL %s [%s]: load: %s\n", what, vf_backend_name(be), vf_context_last_error(ctx));
        g_fail++;
        vf_context_free(ctx);
        return;
    }
    vf_tensor_info in, out;
    vf_model_input(m, 0, &in);
    if (in.count != nx) { printf("FAIL %s: input count %zu != %zu\n", what, in.count, nx); g_fail++; goto done; }
    memcpy(in.data, x, nx * sizeof *x);
    for (int rep = 0; rep < 2; rep++) { /* twice: a second invoke must give the same answer */
        s = vf_model_invoke(m);
        vf_model_output(m, 0, &out);
        double worst = 0;
        size_t at = 0;
        if (s || out.count != nw) { printf("FAIL %s [%s]: invoke %d, count %zu vs %zu\n", what, vf_backend_name(be), s, out.count, nw); g_fail++; goto done; }
        for (size_t i = 0; i < nw; i++) {
            double err = fabs((double)out.data[i] - want[i]) / fmax(1.0, fabs(want[i]));
            if (!(err <= worst)) { worst = err; at = i; }
        }
        if (worst > 1e-5) {
            printf("FAIL %s [%s]: element %zu is %g, want %g\n", what, vf_backend_name(be), at, out.data[at], want[at]);
            g_fail++;
            goto done;
        }
    }
    g_pass++;
done:
    vf_model_free(m);
    vf_context_free(ctx);
}

static vf_backend g_backends[4];
static int g_nbackends;

static void run_all(const char *what, vfb *b, const float *x, size_t nx, const float *want, size_t nw) {
    size_t n;
    uint8_t *bytes = vfb_finish(b, &n);
    for (int i = 0; i < g_nbackends; i++) run_case(what, bytes, n, g_backends[i], x, nx, want, nw);
    free(bytes);
    vfb_free(b);
}

/* ---- convolution ------------------------------------------------------------------------ */

static void test_conv(int dw, int H, int W, int C, int CO, int KH, int KW, int s, int pt, int pl, int pb, int pr,
                      int with_bias, epi e, int f16) {
    if (dw) CO = C;
    int OH = (H + pt + pb - KH) / s + 1, OW = (W + pl + pr - KW) / s + 1;
    size_t nw = dw ? (size_t)KH * KW * C : (size_t)CO * KH * KW * C;
    float *x = rand_buf((size_t)H * W * C, -1, 1), *w = rand_buf(nw, -1, 1), *bias = rand_buf(CO, -1, 1);
    if (f16) for (size_t i = 0; i < nw; i++) w[i] = roundf(w[i] * 1024) / 1024; /* exactly representable */
    float *alpha = rand_buf(CO, 0, 0.5f);
    e.alpha = alpha;
    /* expectation: explicitly zero-padded input, then a valid convolution */
    int PH = H + pt + pb, PW = W + pl + pr;
    float *xp = calloc((size_t)PH * PW * C, sizeof *xp);
    for (int y = 0; y < H; y++)
        for (int xx = 0; xx < W; xx++)
            memcpy(xp + ((size_t)(y + pt) * PW + xx + pl) * C, x + ((size_t)y * W + xx) * C, C * sizeof *x);
    float *want = malloc((size_t)OH * OW * CO * sizeof *want);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
            for (int co = 0; co < CO; co++) {
                double acc = with_bias ? bias[co] : 0;
                for (int ky = 0; ky < KH; ky++)
                    for (int kx = 0; kx < KW; kx++) {
                        const float *px = xp + ((size_t)(oy * s + ky) * PW + ox * s + kx) * C;
                        if (dw) acc += (double)px[co] * w[((size_t)ky * KW + kx) * C + co];
                        else for (int ci = 0; ci < C; ci++) acc += (double)px[ci] * w[(((size_t)co * KH + ky) * KW + kx) * C + ci];
                    }
                want[((size_t)oy * OW + ox) * CO + co] = epi_apply(&e, (float)acc, co);
            }
    vfb *b = vfb_new();
    int32_t xd[4] = {1, H, W, C}, wd[4] = {dw ? 1 : CO, KH, KW, dw ? C : C}, bd = CO, yd[4] = {1, OH, OW, CO};
    uint32_t in[3] = {vfb_input(b, "x", 4, xd), vfb_const(b, 4, wd, w, f16), with_bias ? vfb_const(b, 1, &bd, bias, 0) : VFB_NONE};
    uint32_t y = vfb_tensor(b, "y", 4, yd);
    int32_t ip[8] = {s, s, pt, pl, pb, pr, 0, -1};
    float fp[2] = {0, 0};
    set_epi(b, &e, CO, ip, fp);
    vfb_op(b, dw ? OP_DW : OP_CONV, 3, in, y, ip, fp);
    vfb_output(b, y);
    char what[160];
    snprintf(what, sizeof what, "%s %dx%dx%d->%d k%dx%d s%d pad %d,%d,%d,%d bias %d act %d f16 %d", dw ? "dwconv" : "conv",
             H, W, C, CO, KH, KW, s, pt, pl, pb, pr, with_bias, e.kind, f16);
    run_all(what, b, x, (size_t)H * W * C, want, (size_t)OH * OW * CO);
    free(x); free(w); free(bias); free(alpha); free(xp); free(want);
}

static void test_fc(int rank4, int K1, int CO, epi e) {
    int K = rank4 ? 2 * 3 * K1 : K1;
    float *x = rand_buf(K, -1, 1), *w = rand_buf((size_t)CO * K, -1, 1), *bias = rand_buf(CO, -1, 1), *alpha = rand_buf(CO, 0, 1);
    e.alpha = alpha;
    float *want = malloc(CO * sizeof *want);
    for (int o = 0; o < CO; o++) {
        double acc = bias[o];
        for (int k = 0; k < K; k++) acc += (double)x[k] * w[(size_t)o * K + k];
        want[o] = epi_apply(&e, (float)acc, o);
    }
    vfb *b = vfb_new();
    int32_t xd4[4] = {1, 2, 3, K1}, xd2[2] = {1, K}, wd[2] = {CO, K}, bd = CO, yd[2] = {1, CO};
    uint32_t in[3] = {rank4 ? vfb_input(b, "x", 4, xd4) : vfb_input(b, "x", 2, xd2), vfb_const(b, 2, wd, w, 0), vfb_const(b, 1, &bd, bias, 0)};
    uint32_t y = vfb_tensor(b, "y", 2, yd);
    int32_t ip[8] = {0};
    float fp[2] = {0, 0};
    set_epi(b, &e, CO, ip, fp);
    vfb_op(b, OP_FC, 3, in, y, ip, fp);
    vfb_output(b, y);
    char what[96];
    snprintf(what, sizeof what, "fc rank%d K=%d -> %d act %d", rank4 ? 4 : 2, K, CO, e.kind);
    run_all(what, b, x, K, want, CO);
    free(x); free(w); free(bias); free(alpha); free(want);
}

/* ---- elementwise -------------------------------------------------------------------------- */

static float binop(int op, float u, float v) {
    switch (op) {
    case OP_ADD: return u + v;
    case OP_SUB: return u - v;
    case OP_MUL: return u * v;
    case OP_MIN: return fminf(u, v);
    default: return fmaxf(u, v);
    }
}

/* a: [1,H,W,C] input; b: constant of rank rb with dims bd (broadcast) or a second copy-shaped const. */
static void test_binary(int op, int H, int W, int C, int rb, const int32_t *bdims, epi e) {
    size_t n = (size_t)H * W * C, nb = 1;
    for (int k = 0; k < rb; k++) nb *= (size_t)bdims[k];
    float *x = rand_buf(n, -2, 2), *c = rand_buf(nb, -2, 2), *alpha = rand_buf(C, 0, 1), *want = malloc(n * sizeof *want);
    e.alpha = alpha;
    int32_t full[4] = {1, H, W, C}, bd4[4] = {1, 1, 1, 1};
    for (int k = 0; k < rb; k++) bd4[4 - rb + k] = bdims[k];
    for (int y = 0; y < H; y++)
        for (int xx = 0; xx < W; xx++)
            for (int ch = 0; ch < C; ch++) {
                int iy = bd4[1] == 1 ? 0 : y, ix = bd4[2] == 1 ? 0 : xx, ic = bd4[3] == 1 ? 0 : ch;
                float v = c[((size_t)iy * bd4[2] + ix) * bd4[3] + ic];
                size_t o = ((size_t)y * W + xx) * C + ch;
                want[o] = epi_apply(&e, binop(op, x[o], v), ch);
            }
    vfb *b = vfb_new();
    uint32_t in[2] = {vfb_input(b, "a", 4, full), vfb_const(b, rb, bdims, c, 0)};
    uint32_t y = vfb_tensor(b, "y", 4, full);
    int32_t ip[8] = {0};
    float fp[2] = {0, 0};
    set_epi(b, &e, C, ip, fp);
    vfb_op(b, op, 2, in, y, ip, fp);
    vfb_output(b, y);
    char what[96];
    snprintf(what, sizeof what, "binary op %d [1,%d,%d,%d] with rank-%d operand, act %d", op, H, W, C, rb, e.kind);
    run_all(what, b, x, n, want, n);
    free(x); free(c); free(alpha); free(want);
}

/* Two graph tensors of the same shape added (residual connection), then ACT, chained. */
static void test_chain(void) {
    int32_t d[4] = {1, 5, 3, 6};
    size_t n = 90;
    float *x = rand_buf(n, -1, 1), *c = rand_buf(n, -1, 1), *alpha = rand_buf(6, 0, 1), *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++) {
        float t = x[i] * c[i];
        float u = t + x[i];
        want[i] = u >= 0 ? u : alpha[i % 6] * u;
    }
    vfb *b = vfb_new();
    uint32_t xi = vfb_input(b, "x", 4, d), ci = vfb_const(b, 4, d, c, 0);
    uint32_t t = vfb_tensor(b, "t", 4, d), u = vfb_tensor(b, "u", 4, d), y = vfb_tensor(b, "y", 4, d);
    int32_t ip0[8] = {0, 0, 0, 0, 0, 0, 0, -1};
    uint32_t in1[2] = {xi, ci}, in2[2] = {t, xi}, in3[1] = {u};
    vfb_op(b, OP_MUL, 2, in1, t, ip0, NULL);
    vfb_op(b, OP_ADD, 2, in2, u, ip0, NULL);
    int32_t c6 = 6;
    int32_t ip3[8] = {0, 0, 0, 0, 0, 0, 2, (int32_t)vfb_const(b, 1, &c6, alpha, 0)};
    vfb_op(b, OP_ACT, 1, in3, y, ip3, NULL);
    vfb_output(b, y);
    run_all("chain mul -> add(residual) -> prelu", b, x, n, want, n);
    free(x); free(c); free(alpha); free(want);
}

/* Residual block: 1x1 convolution whose output one ADD reads (with an epilogue).
 * between == 0 (facemesh): r = x*c1, a = r*c2, t = conv1x1(a) (C -> C), y = act(r + t).
 * between == 1 (BlazeFace): t = conv1x1(x) (C -> CO), r = pad(x) to CO channels (an op between
 * the convolution and the ADD, which lists t first), y = act(t + r).
 * Odd channel counts (partial 8-wide panels) and H*W not a multiple of 4 (partial row blocks). */
static void test_residual(int between, int H, int W, int C, int CO, epi e) {
    if (!between) CO = C;
    size_t n = (size_t)H * W * C, ny = (size_t)H * W * CO;
    float *x = rand_buf(n, -1, 1), *c1 = rand_buf(C, -1, 1), *c2 = rand_buf(C, -1, 1);
    float *w = rand_buf((size_t)CO * C, -1, 1), *bias = rand_buf(CO, -1, 1), *alpha = rand_buf(CO, 0, 0.5f);
    float *want = malloc(ny * sizeof *want);
    e.alpha = alpha;
    for (size_t p = 0; p < (size_t)H * W; p++)
        for (int co = 0; co < CO; co++) {
            double acc = bias[co], r;
            for (int ci = 0; ci < C; ci++) {
                float xv = x[p * C + ci];
                float av = between ? xv : (xv * c1[ci]) * c2[ci];
                acc += (double)av * w[(size_t)co * C + ci];
            }
            if (between) r = co < C ? x[p * C + co] : 0.0;
            else r = x[p * C + co] * c1[co];
            want[p * CO + co] = epi_apply(&e, (float)(acc + r), co);
        }
    vfb *b = vfb_new();
    int32_t xd[4] = {1, H, W, C}, yd[4] = {1, H, W, CO}, cd[4] = {1, 1, 1, C}, wd[4] = {CO, 1, 1, C}, bd = CO;
    uint32_t xi = vfb_input(b, "x", 4, xd);
    uint32_t t = vfb_tensor(b, "t", 4, yd), y = vfb_tensor(b, "y", 4, yd), r = vfb_tensor(b, "r", 4, yd);
    int32_t ip0[8] = {0, 0, 0, 0, 0, 0, 0, -1}, ipc[8] = {1, 1, 0, 0, 0, 0, 0, -1};
    uint32_t wi = vfb_const(b, 4, wd, w, 0), bi = vfb_const(b, 1, &bd, bias, 0);
    if (between) {
        uint32_t inc[3] = {xi, wi, bi}, inp[1] = {xi};
        vfb_op(b, OP_CONV, 3, inc, t, ipc, NULL);
        int32_t ipp[8] = {0, 0, 0, 0, 0, 0, 0, CO - C};
        float fpp[2] = {0, 0};
        vfb_op(b, OP_PAD, 1, inp, r, ipp, fpp);
    } else {
        uint32_t a = vfb_tensor(b, "a", 4, yd);
        uint32_t in1[2] = {xi, vfb_const(b, 4, cd, c1, 0)};
        vfb_op(b, OP_MUL, 2, in1, r, ip0, NULL);
        uint32_t in2[2] = {r, vfb_const(b, 4, cd, c2, 0)};
        vfb_op(b, OP_MUL, 2, in2, a, ip0, NULL);
        uint32_t inc[3] = {a, wi, bi};
        vfb_op(b, OP_CONV, 3, inc, t, ipc, NULL);
    }
    int32_t ip[8] = {0};
    float fp[2] = {0, 0};
    set_epi(b, &e, CO, ip, fp);
    uint32_t ina[2] = {between ? t : r, between ? r : t};
    vfb_op(b, OP_ADD, 2, ina, y, ip, fp);
    vfb_output(b, y);
    char what[128];
    snprintf(what, sizeof what, "residual %s [1,%d,%d,%d] conv1x1 -> %d, add act %d, %d thread(s)",
             between ? "pad-between" : "facemesh", H, W, C, CO, e.kind, g_threads);
    run_all(what, b, x, n, want, ny);
    free(x); free(c1); free(c2); free(w); free(bias); free(alpha); free(want);
}

static void test_unary(int op, int rows, int C) {
    size_t n = (size_t)rows * C;
    float *x = rand_buf(n, -4, 4), *want = malloc(n * sizeof *want);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * C;
        float *wr = want + (size_t)r * C;
        if (op == OP_SIGMOID) for (int c = 0; c < C; c++) wr[c] = 1.0f / (1.0f + expf(-xr[c]));
        if (op == OP_SOFTMAX) {
            double s = 0;
            for (int c = 0; c < C; c++) s += exp(xr[c]);
            for (int c = 0; c < C; c++) wr[c] = (float)(exp(xr[c]) / s);
        }
        if (op == OP_L2NORM) {
            double s = 0;
            for (int c = 0; c < C; c++) s += (double)xr[c] * xr[c];
            for (int c = 0; c < C; c++) wr[c] = (float)(xr[c] / sqrt(s));
        }
    }
    vfb *b = vfb_new();
    int32_t d[2] = {rows, C};
    uint32_t in[1] = {vfb_input(b, "x", 2, d)}, y = vfb_tensor(b, "y", 2, d);
    float fp[2] = {1e-10f, 0};
    vfb_op(b, op, 1, in, y, NULL, fp);
    vfb_output(b, y);
    char what[64];
    snprintf(what, sizeof what, "unary op %d [%d,%d]", op, rows, C);
    run_all(what, b, x, n, want, n);
    free(x); free(want);
}

/* ---- pooling, pad, reshape ---------------------------------------------------------------- */

static void test_pool(int op, int H, int W, int C, int K, int s, int pt, int pl, int pb, int pr) {
    int OH = (H + pt + pb - K) / s + 1, OW = (W + pl + pr - K) / s + 1;
    float *x = rand_buf((size_t)H * W * C, -3, -1); /* all negative: a zero pad would win a max */
    float *want = malloc((size_t)OH * OW * C * sizeof *want);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
            for (int c = 0; c < C; c++) {
                double acc = op == OP_MAXPOOL ? -1e30 : 0;
                int cnt = 0;
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        int iy = oy * s + ky - pt, ix = ox * s + kx - pl;
                        if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
                        float v = x[((size_t)iy * W + ix) * C + c];
                        if (op == OP_MAXPOOL) acc = fmax(acc, v); else acc += v;
                        cnt++;
                    }
                want[((size_t)oy * OW + ox) * C + c] = (float)(op == OP_MAXPOOL ? acc : acc / cnt);
            }
    vfb *b = vfb_new();
    int32_t xd[4] = {1, H, W, C}, yd[4] = {1, OH, OW, C};
    uint32_t in[1] = {vfb_input(b, "x", 4, xd)}, y = vfb_tensor(b, "y", 4, yd);
    int32_t ip[8] = {s, s, pt, pl, pb, pr, K, K};
    vfb_op(b, op, 1, in, y, ip, NULL);
    vfb_output(b, y);
    char what[96];
    snprintf(what, sizeof what, "%s %dx%dx%d k%d s%d pad %d,%d,%d,%d", op == OP_MAXPOOL ? "maxpool" : "avgpool", H, W, C, K, s, pt, pl, pb, pr);
    run_all(what, b, x, (size_t)H * W * C, want, (size_t)OH * OW * C);
    free(x); free(want);
}

static void test_gap(int rank_out) {
    int H = 5, W = 3, C = 7;
    float *x = rand_buf((size_t)H * W * C, -1, 1), want[7];
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int i = 0; i < H * W; i++) s += x[(size_t)i * C + c];
        want[c] = (float)(s / (H * W));
    }
    vfb *b = vfb_new();
    int32_t xd[4] = {1, H, W, C}, y4[4] = {1, 1, 1, C}, y2[2] = {1, C};
    uint32_t in[1] = {vfb_input(b, "x", 4, xd)};
    uint32_t y = rank_out == 4 ? vfb_tensor(b, "y", 4, y4) : vfb_tensor(b, "y", 2, y2);
    vfb_op(b, OP_GAP, 1, in, y, NULL, NULL);
    vfb_output(b, y);
    run_all(rank_out == 4 ? "global avgpool -> [1,1,1,C]" : "global avgpool -> [1,C]", b, x, (size_t)H * W * C, want, C);
    free(x);
}

static void test_pad(const int32_t pre[4], const int32_t post[4]) {
    int32_t xd[4] = {1, 3, 4, 5}, yd[4];
    for (int k = 0; k < 4; k++) yd[k] = xd[k] + pre[k] + post[k];
    size_t n = 60, ny = (size_t)yd[0] * yd[1] * yd[2] * yd[3];
    float *x = rand_buf(n, -1, 1), *want = malloc(ny * sizeof *want);
    for (size_t i = 0; i < ny; i++) want[i] = 0.5f;
    for (int h = 0; h < 3; h++)
        for (int w = 0; w < 4; w++)
            for (int c = 0; c < 5; c++)
                want[(((size_t)pre[0] * yd[1] + h + pre[1]) * yd[2] + w + pre[2]) * yd[3] + c + pre[3]] = x[((size_t)h * 4 + w) * 5 + c];
    vfb *b = vfb_new();
    uint32_t in[1] = {vfb_input(b, "x", 4, xd)}, y = vfb_tensor(b, "y", 4, yd);
    int32_t ip[8];
    for (int k = 0; k < 4; k++) { ip[k] = pre[k]; ip[k + 4] = post[k]; }
    float fp[2] = {0.5f, 0};
    vfb_op(b, OP_PAD, 1, in, y, ip, fp);
    vfb_output(b, y);
    char what[96];
    snprintf(what, sizeof what, "pad pre %d,%d,%d,%d post %d,%d,%d,%d", pre[0], pre[1], pre[2], pre[3], post[0], post[1], post[2], post[3]);
    run_all(what, b, x, n, want, ny);
    free(x); free(want);
}

static void test_reshape(void) {
    float *x = rand_buf(24, -1, 1);
    vfb *b = vfb_new();
    int32_t xd[4] = {1, 2, 3, 4}, yd[3] = {1, 6, 4};
    uint32_t in[1] = {vfb_input(b, "x", 4, xd)}, y = vfb_tensor(b, "y", 3, yd);
    vfb_op(b, OP_RESHAPE, 1, in, y, NULL, NULL);
    vfb_output(b, y);
    run_all("reshape [1,2,3,4] -> [1,6,4]", b, x, 24, x, 24);
    free(x);
}

int main(void) {
    const vf_backend all[] = {VF_BACKEND_REF, VF_BACKEND_SIMD, VF_BACKEND_XNNPACK};
    for (int i = 0; i < 3; i++)
        if (vf_backend_available(all[i])) g_backends[g_nbackends++] = all[i];
    epi none = {0, 0, 0, NULL}, relu = {1, 0, INFINITY, NULL}, relu6 = {1, 0, 6, NULL}, prelu = {2, 0, 0, NULL};

    test_conv(0, 8, 8, 3, 8, 3, 3, 2, 0, 0, 1, 1, 1, relu, 0);     /* SAME stride 2, asymmetric pad */
    test_conv(0, 7, 5, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, prelu, 0);    /* odd sizes, PReLU */
    test_conv(0, 6, 6, 13, 9, 1, 1, 1, 0, 0, 0, 0, 0, none, 0);    /* 1x1, no bias */
    test_conv(0, 9, 9, 4, 6, 5, 5, 2, 2, 2, 2, 2, 1, relu6, 1);    /* 5x5 stride 2, f16 weights */
    test_conv(0, 6, 6, 4, 3, 3, 3, 3, 0, 0, 0, 0, 1, none, 0);     /* stride 3 valid (facemesh heads) */
    test_conv(0, 1, 1, 17, 5, 1, 1, 1, 0, 0, 0, 0, 1, none, 0);    /* 1x1 spatial */
    test_conv(1, 8, 8, 7, 0, 3, 3, 1, 1, 1, 1, 1, 1, relu, 0);
    test_conv(1, 9, 7, 6, 0, 3, 3, 2, 0, 0, 1, 1, 0, none, 0);     /* SAME stride 2 on odd/even sizes */
    test_conv(1, 10, 10, 5, 0, 5, 5, 1, 2, 2, 2, 2, 1, prelu, 1);
    test_conv(1, 11, 11, 9, 0, 5, 5, 2, 1, 1, 2, 2, 1, relu6, 0);
    test_conv(1, 5, 5, 8, 0, 5, 5, 1, 0, 0, 0, 0, 1, none, 0);     /* global depthwise (MiniFASNet head) */
    test_fc(0, 37, 11, none);
    test_fc(1, 5, 9, relu);
    test_fc(0, 16, 3, prelu);
    int32_t bc[1] = {6}, b4[4] = {1, 1, 1, 6}, bfull[4] = {1, 4, 3, 6}, bsp[4] = {1, 4, 3, 1};
    test_binary(OP_ADD, 4, 3, 6, 1, bc, relu);
    test_binary(OP_ADD, 4, 3, 6, 4, bfull, prelu);
    test_binary(OP_SUB, 4, 3, 6, 4, b4, none);
    test_binary(OP_MUL, 4, 3, 6, 4, b4, none);                     /* SE block: per-channel scale */
    test_binary(OP_MUL, 4, 3, 6, 4, bsp, none);                    /* broadcast over channels */
    test_binary(OP_MIN, 4, 3, 6, 1, bc, none);
    test_binary(OP_MAX, 4, 3, 6, 4, bfull, relu6);
    test_chain();
    for (g_threads = 1; g_threads <= 2; g_threads++) {
        test_residual(0, 5, 7, 13, 0, prelu);   /* 35 pixels, 13 channels */
        test_residual(0, 4, 4, 16, 0, prelu);
        test_residual(0, 3, 3, 6, 0, none);
        test_residual(1, 5, 7, 11, 19, relu);   /* PAD between, t first operand, odd channels */
        test_residual(1, 6, 6, 24, 28, relu);   /* BlazeFace-like widths */
        test_residual(1, 1, 3, 5, 5, prelu);
        test_conv(0, 9, 9, 3, 16, 3, 3, 2, 0, 0, 1, 1, 1, prelu, 0); /* first layer: C = 3, SAME stride 2 */
        test_conv(0, 5, 7, 6, 11, 3, 3, 1, 1, 1, 1, 1, 0, relu, 0);  /* 35 pixels, 11 outputs */
        test_conv(0, 3, 3, 32, 21, 3, 3, 3, 0, 0, 0, 0, 1, none, 0); /* facemesh head: 1 output pixel */
    }
    g_threads = 1;
    test_unary(OP_SIGMOID, 3, 5);
    test_unary(OP_SOFTMAX, 2, 100);
    test_unary(OP_SOFTMAX, 1, 3);
    test_unary(OP_L2NORM, 1, 192);
    test_pool(OP_MAXPOOL, 8, 8, 5, 2, 2, 0, 0, 0, 0);
    test_pool(OP_MAXPOOL, 7, 7, 3, 3, 2, 1, 1, 1, 1);
    test_pool(OP_AVGPOOL, 7, 6, 3, 3, 2, 1, 1, 1, 1);
    test_gap(4);
    test_gap(2);
    int32_t p0[4] = {0, 0, 0, 0}, pc[4] = {0, 0, 0, 3}, ps[4] = {0, 1, 2, 0}, pt[4] = {0, 0, 1, 0};
    test_pad(p0, pc);   /* BlazeFace residual: pad channels */
    test_pad(ps, pt);   /* spatial, asymmetric */
    test_reshape();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
