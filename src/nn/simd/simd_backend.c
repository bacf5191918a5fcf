/* simd_backend.c - the simd backend: prepare (repack weights once, size the per-thread scratch)
 * and invoke (each op split into tasks over rows or channel panels on the context's pool).
 * Ops without a fast kernel here (small heads: sigmoid, softmax, L2 norm, reshape, avg pool,
 * unusual broadcasts) run on the reference kernels. */
#include "simd.h"
#include "../backend.h"
#include "../ref/ref.h"
#include "../../core/threadpool.h"

#include <stdlib.h>
#include <string.h>

#ifdef VF_PROFILE_OPS /* developer aid: time per kernel kind, printed when the model is freed */
#include <stdio.h>
#include <time.h>
static double prof_now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
#endif

#define VF_IGEMM_MAX_TAPS 49 /* KxK convolutions up to 7x7 run as indirect GEMM, larger ones through im2col */

typedef enum { K_REF, K_GEMM_DIRECT, K_GEMM_IM2COL, K_DW, K_BINARY, K_ACT, K_MAXPOOL, K_GAP, K_PAD } kernel_kind;

typedef struct op_state {
    kernel_kind kind;
    vf_gemm_w gw;
    vf_dw_w dw;
} op_state;

typedef struct sstate {
#ifdef VF_PROFILE_OPS
    double prof_ms[16];
    const char *prof_name[16];
    double prof_gemm_k[4]; /* direct GEMM time by K: <=64, <=128, <=256, more */
#endif
    op_state *ops;
    float *packed;           /* all repacked weights */
    float *scratch;          /* per thread: VF_MR im2col rows */
    size_t scratch_floats;   /* per thread */
    float *zeros;            /* a zero pixel for depthwise taps outside the image */
    vf_threadpool *pool;
    int threads;
} sstate;

static bool is_direct_gemm(const vf_graph *g, const vf_op *op) {
    if (op->type == VF_OP_FC) return true;
    const vf_tensor *w = vf_in(g, op, 1);
    return op->type == VF_OP_CONV2D && w->dims[1] == 1 && w->dims[2] == 1 && op->ip[0] == 1 && op->ip[1] == 1 &&
           op->ip[2] == 0 && op->ip[3] == 0 && op->ip[4] == 0 && op->ip[5] == 0;
}

static vf_status s_prepare(vf_context *ctx, vf_graph *g, void **state_out) {
    sstate *st = calloc(1, sizeof *st);
    if (!st) return vf__fail(ctx, VF_E_NO_MEMORY, "simd backend state");
    st->ops = calloc(g->n_ops, sizeof *st->ops);
    st->pool = ctx->pool;
    st->threads = vf_threadpool_size(ctx->pool);
    size_t packed = 0, max_k = 0, max_c = 4;
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const vf_op *op = &g->ops[i];
        const vf_tensor *x = vf_in(g, op, 0), *w = op->n_in > 1 ? vf_in(g, op, 1) : NULL;
        if (op->type == VF_OP_CONV2D || op->type == VF_OP_FC) {
            size_t K = op->type == VF_OP_FC ? x->count / (size_t)x->dims[0] : (size_t)w->dims[1] * w->dims[2] * w->dims[3];
            packed += vf_gemm_packed_floats((int)K, w->dims[0]);
            if (!is_direct_gemm(g, op) && K > max_k) max_k = K;
            if (!is_direct_gemm(g, op) && (size_t)x->dims[3] > max_c) max_c = (size_t)x->dims[3]; /* igemm's zero pixel */
        } else if (op->type == VF_OP_DWCONV2D) {
            packed += vf_dw_packed_floats(w->dims[3], w->dims[1], w->dims[2]);
            if ((size_t)x->dims[3] > max_c) max_c = (size_t)x->dims[3];
        }
    }
    st->scratch_floats = VF_MR * max_k;
    st->packed = vf__alloc_aligned((packed ? packed : 1) * sizeof(float));
    st->scratch = vf__alloc_aligned((st->scratch_floats ? st->scratch_floats : 1) * st->threads * sizeof(float));
    st->zeros = vf__alloc_aligned(max_c * sizeof(float));
    if (!st->ops || !st->packed || !st->scratch || !st->zeros) {
        free(st->ops); vf__free_aligned(st->packed); vf__free_aligned(st->scratch); vf__free_aligned(st->zeros); free(st);
        return vf__fail(ctx, VF_E_NO_MEMORY, "simd backend: %zu bytes of packed weights", packed * sizeof(float));
    }
    memset(st->zeros, 0, max_c * sizeof(float));
    float *p = st->packed;
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const vf_op *op = &g->ops[i];
        op_state *os = &st->ops[i];
        const vf_tensor *x = vf_in(g, op, 0), *w = op->n_in > 1 ? vf_in(g, op, 1) : NULL;
        const vf_tensor *b = op->n_in > 2 ? vf_in(g, op, 2) : NULL;
        switch (op->type) {
        case VF_OP_CONV2D:
        case VF_OP_FC: {
            int K = op->type == VF_OP_FC ? (int)(x->count / (size_t)x->dims[0]) : w->dims[1] * w->dims[2] * w->dims[3];
            vf_gemm_pack(&os->gw, p, w->data, b ? b->data : NULL, &op->act, K, w->dims[0]);
            p += vf_gemm_packed_floats(K, w->dims[0]);
            os->kind = is_direct_gemm(g, op) ? K_GEMM_DIRECT : K_GEMM_IM2COL;
            break;
        }
        case VF_OP_DWCONV2D:
            if (w->dims[1] * w->dims[2] > 81) { os->kind = K_REF; break; }
            vf_dw_pack(&os->dw, p, w->data, b ? b->data : NULL, &op->act, w->dims[3], w->dims[1], w->dims[2]);
            p += vf_dw_packed_floats(w->dims[3], w->dims[1], w->dims[2]);
            os->kind = K_DW;
            break;
        case VF_OP_ADD: case VF_OP_SUB: case VF_OP_MUL: case VF_OP_MIN: case VF_OP_MAX:
            os->kind = vf_simd_binary_supported(g, op) ? K_BINARY : K_REF;
            break;
        case VF_OP_ACT: os->kind = K_ACT; break;
        case VF_OP_MAXPOOL2D: os->kind = K_MAXPOOL; break;
        case VF_OP_GLOBAL_AVGPOOL: os->kind = K_GAP; break;
        case VF_OP_PAD: os->kind = K_PAD; break;
        default: os->kind = K_REF; break;
        }
    }
    /* The packed copies replace the weights and biases they came from: release the originals
     * when no other op reads them (halves the weight memory in the browser). PReLU slopes stay:
     * the depthwise epilogue reads them in place. */
    uint16_t *readers = calloc(g->n_tensors, sizeof *readers);
    if (readers) {
        for (uint32_t i = 0; i < g->n_ops; i++) {
            for (int k = 0; k < g->ops[i].n_in; k++)
                if (g->ops[i].in[k] != VF_NONE && readers[g->ops[i].in[k]] < UINT16_MAX) readers[g->ops[i].in[k]]++;
            if (g->ops[i].act.kind == VF_ACT_PRELU && readers[g->ops[i].ip[7]] < UINT16_MAX) readers[g->ops[i].ip[7]] += 2;
        }
        for (uint32_t i = 0; i < g->n_ops; i++) {
            const vf_op *op = &g->ops[i];
            kernel_kind k = st->ops[i].kind;
            if (k != K_GEMM_DIRECT && k != K_GEMM_IM2COL && k != K_DW) continue;
            for (int j = 1; j < op->n_in; j++)
                if (op->in[j] != VF_NONE && readers[op->in[j]] == 1) vf_graph_drop_constant(g, op->in[j]);
        }
        free(readers);
    }
    *state_out = st;
    return VF_OK;
}

/* ---- parallel jobs ---------------------------------------------------------------------- */

typedef struct job {
    const sstate *st;
    const vf_graph *g;
    const vf_op *op;
    const op_state *os;
    size_t units;            /* rows (or row blocks / panels for GEMM) */
    int tasks;
    bool by_panels;          /* GEMM: split columns instead of rows */
} job;

static void task_range(const job *j, int t, size_t *u0, size_t *u1) {
    *u0 = j->units * (size_t)t / (size_t)j->tasks;
    *u1 = j->units * (size_t)(t + 1) / (size_t)j->tasks;
}

/* Fill im2col rows for output pixels [m, m + nrows) into dst (rows of K = KH*KW*C). */
static void im2col(const vf_graph *g, const vf_op *op, size_t m, int nrows, float *dst) {
    const vf_tensor *x = vf_in(g, op, 0), *w = vf_in(g, op, 1), *y = &g->tensors[op->out];
    const int H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    const int KH = w->dims[1], KW = w->dims[2];
    for (int r = 0; r < nrows; r++, m++) {
        int n = (int)(m / ((size_t)OH * OW)), rem = (int)(m % ((size_t)OH * OW)), oy = rem / OW, ox = rem % OW;
        float *row = dst + (size_t)r * KH * KW * C;
        for (int ky = 0; ky < KH; ky++) {
            int iy = oy * op->ip[0] + ky - op->ip[2];
            for (int kx = 0; kx < KW; kx++, row += C) {
                int ix = ox * op->ip[1] + kx - op->ip[3];
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
                    for (int c = 0; c < C; c++) row[c] = 0.0f;
                } else {
                    const float *src = x->data + (((size_t)n * H + iy) * W + ix) * C;
                    if (C >= 16) memcpy(row, src, (size_t)C * sizeof(float)); /* small memcpy is a call in wasm */
                    else for (int c = 0; c < C; c++) row[c] = src[c];
                }
            }
        }
    }
}

static void gemm_task(void *arg, int t, int thread) {
    const job *j = arg;
    const vf_gemm_w *gw = &j->os->gw;
    const vf_tensor *x = vf_in(j->g, j->op, 0), *y = &j->g->tensors[j->op->out];
    const size_t M = y->count / (size_t)gw->N, K = (size_t)gw->K, ldc = (size_t)gw->N;
    const int panels = (gw->N + VF_NR - 1) / VF_NR;
    size_t u0, u1;
    task_range(j, t, &u0, &u1);
    size_t b0 = j->by_panels ? 0 : u0, b1 = j->by_panels ? (M + VF_MR - 1) / VF_MR : u1;
    int p0 = j->by_panels ? (int)u0 : 0, p1 = j->by_panels ? (int)u1 : panels;
    float *scratch = j->st->scratch + (size_t)thread * j->st->scratch_floats;
    if (j->os->kind == K_GEMM_DIRECT) {
        /* Chunks of rows whose A block stays in L1/L2 (~48 KiB) while every weight panel passes
         * over it: W then streams from memory once per chunk instead of once per 4 rows. */
        size_t chunk = (48 * 1024) / (K * sizeof(float) * VF_MR);
        if (chunk < 1) chunk = 1;
        for (size_t c0 = b0; c0 < b1; c0 += chunk) {
            size_t c1 = c0 + chunk < b1 ? c0 + chunk : b1;
            for (int p = p0; p < p1; p++)
                for (size_t blk = c0; blk < c1; blk++) {
                    size_t m = blk * VF_MR;
                    int nrows = M - m < VF_MR ? (int)(M - m) : VF_MR;
#if VF_MR == 4
                    vf_gemm_direct_block(gw, x->data + m * K, K, nrows, y->data + m * ldc, ldc, p);
#else
                    const float *rows[VF_MR];
                    for (int r = 0; r < nrows; r++) rows[r] = x->data + (m + r) * K;
                    vf_gemm_block(gw, rows, nrows, y->data + m * ldc, ldc, p, p + 1);
#endif
                }
        }
        return;
    }
#if VF_MR == 4
    {
        /* Indirect GEMM: per output pixel, a pointer per tap into the input (or at zeros), read
         * in place by the micro-kernel: no patch matrix is written and read back. */
        const vf_tensor *w = vf_in(j->g, j->op, 1);
        const int H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
        const int KH = w->dims[1], KW = w->dims[2], taps = KH * KW;
        const int sh = j->op->ip[0], sw = j->op->ip[1], pt = j->op->ip[2], pl = j->op->ip[3];
        if (taps <= VF_IGEMM_MAX_TAPS) {
            const float *ind[VF_MR * VF_IGEMM_MAX_TAPS];
            for (size_t blk = b0; blk < b1; blk++) {
                size_t m = blk * VF_MR;
                int nrows = M - m < VF_MR ? (int)(M - m) : VF_MR;
                for (int r = 0; r < VF_MR; r++) {
                    size_t mm = m + (size_t)(r < nrows ? r : nrows - 1);
                    int n = (int)(mm / ((size_t)OH * OW)), rem = (int)(mm % ((size_t)OH * OW)), oy = rem / OW, ox = rem % OW;
                    const float *xn = x->data + (size_t)n * H * W * C;
                    const float **row = ind + (size_t)r * taps;
                    for (int ky = 0; ky < KH; ky++) {
                        int iy = oy * sh + ky - pt;
                        for (int kx = 0; kx < KW; kx++) {
                            int ix = ox * sw + kx - pl;
                            *row++ = (iy < 0 || iy >= H || ix < 0 || ix >= W) ? j->st->zeros : xn + ((size_t)iy * W + ix) * C;
                        }
                    }
                }
                vf_igemm_block(gw, ind, taps, C, nrows, y->data + m * ldc, ldc, p0, p1);
            }
            return;
        }
    }
#endif
    for (size_t blk = b0; blk < b1; blk++) {
        size_t m = blk * VF_MR;
        int nrows = M - m < VF_MR ? (int)(M - m) : VF_MR;
        const float *rows[VF_MR];
        im2col(j->g, j->op, m, nrows, scratch);
        for (int r = 0; r < nrows; r++) rows[r] = scratch + (size_t)r * K;
        vf_gemm_block(gw, rows, nrows, y->data + m * ldc, ldc, p0, p1);
    }
}

static void dw_task(void *arg, int t, int thread) {
    const job *j = arg;
    size_t u0, u1;
    (void)thread;
    task_range(j, t, &u0, &u1);
    vf_dw_rows(&j->os->dw, j->g, j->op, j->st->zeros, (int)u0, (int)u1);
}

static void rows_task(void *arg, int t, int thread) {
    const job *j = arg;
    size_t u0, u1;
    (void)thread;
    task_range(j, t, &u0, &u1);
    switch (j->os->kind) {
    case K_BINARY: vf_simd_binary(j->g, j->op, u0, u1); break;
    case K_ACT: vf_simd_act(j->g, j->op, u0, u1); break;
    case K_MAXPOOL: vf_simd_maxpool_rows(j->g, j->op, (int)u0, (int)u1); break;
    default: break;
    }
}

/* Split `units` over the pool: a few tasks per thread for balance, none smaller than min_unit. */
static int plan_tasks(const sstate *st, size_t units, size_t min_units_per_task) {
    if (st->threads <= 1 || units < 2 * min_units_per_task) return 1;
    size_t tasks = (size_t)st->threads * 4;
    if (units / tasks < min_units_per_task) tasks = units / min_units_per_task;
    if (tasks > units) tasks = units;
    return tasks < 1 ? 1 : (int)tasks;
}

static vf_status s_invoke(vf_context *ctx, const vf_graph *g, void *state) {
    sstate *st = state;
    (void)ctx;
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const vf_op *op = &g->ops[i];
        const op_state *os = &st->ops[i];
        const vf_tensor *y = &g->tensors[op->out];
        job j = {st, g, op, os, 0, 1, false};
#ifdef VF_PROFILE_OPS
        double t0 = prof_now();
#endif
        switch (os->kind) {
        case K_GEMM_DIRECT:
        case K_GEMM_IM2COL: {
            size_t M = y->count / (size_t)os->gw.N, blocks = (M + VF_MR - 1) / VF_MR;
            size_t panels = (size_t)(os->gw.N + VF_NR - 1) / VF_NR;
            /* few rows (late layers, FC): split the weight panels so each thread reads half of W */
            j.by_panels = st->threads > 1 && blocks < (size_t)st->threads * 2 && panels >= (size_t)st->threads;
            j.units = j.by_panels ? panels : blocks;
            j.tasks = plan_tasks(st, j.units, 1);
            vf_threadpool_run(st->pool, gemm_task, &j, j.tasks);
            break;
        }
        case K_DW:
            j.units = (size_t)y->dims[0] * y->dims[1];
            j.tasks = plan_tasks(st, j.units, 1);
            vf_threadpool_run(st->pool, dw_task, &j, j.tasks);
            break;
        case K_BINARY:
        case K_ACT:
            j.units = y->count / (size_t)y->dims[y->rank - 1];
            j.tasks = plan_tasks(st, j.units, 64);
            vf_threadpool_run(st->pool, rows_task, &j, j.tasks);
            break;
        case K_MAXPOOL:
            j.units = (size_t)y->dims[0] * y->dims[1];
            j.tasks = plan_tasks(st, j.units, 2);
            vf_threadpool_run(st->pool, rows_task, &j, j.tasks);
            break;
        case K_GAP: vf_simd_global_avgpool(g, op); break;
        case K_PAD: vf_simd_pad(g, op); break;
        default: vf_ref_run_op(g, op); break;
        }
#ifdef VF_PROFILE_OPS
        double dt = prof_now() - t0;
        int kk = os->kind == K_REF ? 9 + (op->type % 7) : (int)os->kind;
        st->prof_ms[kk] += dt;
        st->prof_name[kk] = os->kind == K_REF ? vf_op_name(op->type) : vf_op_name(op->type);
        if (os->kind == K_GEMM_DIRECT) st->prof_gemm_k[os->gw.K <= 64 ? 0 : os->gw.K <= 128 ? 1 : os->gw.K <= 256 ? 2 : 3] += dt;
#endif
    }
    return VF_OK;
}

static void s_release(void *state) {
    sstate *st = state;
    if (!st) return;
#ifdef VF_PROFILE_OPS
    for (int k = 0; k < 16; k++)
        if (st->prof_ms[k] > 0) fprintf(stderr, "  kind %2d %-14s %9.2f ms\n", k, st->prof_name[k], st->prof_ms[k]);
    fprintf(stderr, "  direct GEMM by K: <=64 %.2f, <=128 %.2f, <=256 %.2f, >256 %.2f ms\n", st->prof_gemm_k[0],
            st->prof_gemm_k[1], st->prof_gemm_k[2], st->prof_gemm_k[3]);
#endif
    free(st->ops);
    vf__free_aligned(st->packed);
    vf__free_aligned(st->scratch);
    vf__free_aligned(st->zeros);
    free(st);
}

const vf_backend_impl vf_backend_simd_impl = {VF_BACKEND_SIMD, "simd", s_prepare, s_invoke, s_release};
