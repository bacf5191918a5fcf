/* simd.h - the simd backend: own 128-bit kernels (wasm SIMD128 in the browser, SSE2 natively),
 * grouped by operator, run on the context's thread pool. Kernels receive the rows or channels
 * they own and never start threads. */
#ifndef VF_NN_SIMD_H
#define VF_NN_SIMD_H

#include "../graph.h"
#include "vec.h"

#ifndef VF_MR
#define VF_MR 4   /* GEMM micro-kernel rows: 4x8 keeps 8 accumulators + 3 operands in 16 registers; 5x8 and 6x8 spill under V8 (measured 2x slower) */
#endif
#define VF_NR 8   /* GEMM micro-kernel columns (two vectors) */

/* Weights packed for the GEMM micro-kernel, with the epilogue. */
typedef struct vf_gemm_w {
    int K, N;
    float *panels;   /* [ceil(N/NR)][K][NR] */
    float *bias;     /* [ceil(N/NR)*NR], zeros when absent */
    float *alpha;    /* PReLU slopes, same size */
    vf_act_kind act;
    float lo, hi;
} vf_gemm_w;

size_t vf_gemm_packed_floats(int K, int N);
/* w is [N][K] row-major (OHWI for convolutions); dst holds vf_gemm_packed_floats(K, N) floats. */
void vf_gemm_pack(vf_gemm_w *gw, float *dst, const float *w, const float *bias, const vf_act *act, int K, int N);
/* C rows c0 + r*ldc for r < nrows (<= VF_MR), columns of panels [p0, p1), from A rows arows[r]. */
void vf_gemm_block(const vf_gemm_w *gw, const float *const *arows, int nrows, float *c0, size_t ldc, int p0, int p1);
/* Panel p of one block of a 1x1 convolution: A rows a + r*lda, C rows c0 + r*ldc, r < nrows. */
void vf_gemm_direct_block(const vf_gemm_w *gw, const float *a, size_t lda, int nrows, float *c0, size_t ldc, int p);
/* The same for a KxK convolution without im2col: ind[r * taps + t] is row r's tap t (C floats),
 * for VF_MR rows (rows past nrows repeat the last one); K = taps * C. Only built for VF_MR == 4. */
void vf_igemm_block(const vf_gemm_w *gw, const float *const *ind, int taps, int C, int nrows, float *c0, size_t ldc, int p0,
                    int p1);

/* Depthwise weights packed per 4-channel block: [blocks][bias 4 | KH*KW taps x 4]. */
typedef struct vf_dw_w {
    int C, KH, KW;
    float *packed;
    const float *alpha;  /* PReLU slopes [C] or NULL */
    vf_act_kind act;
    float lo, hi;
} vf_dw_w;

size_t vf_dw_packed_floats(int C, int KH, int KW);
void vf_dw_pack(vf_dw_w *dw, float *dst, const float *w, const float *bias, const vf_act *act, int C, int KH, int KW);
/* Output rows [oy0, oy1) of a depthwise convolution op (input/output from the graph). */
void vf_dw_rows(const vf_dw_w *dw, const vf_graph *g, const vf_op *op, const float *zeros, int oy0, int oy1);

/* Elementwise, pooling and layout ops on [begin, end) of their natural work unit. */
void vf_simd_binary(const vf_graph *g, const vf_op *op, size_t begin, size_t end); /* output elements */
void vf_simd_act(const vf_graph *g, const vf_op *op, size_t begin, size_t end);    /* output elements */
void vf_simd_maxpool_rows(const vf_graph *g, const vf_op *op, int oy0, int oy1);
void vf_simd_global_avgpool(const vf_graph *g, const vf_op *op);
void vf_simd_pad(const vf_graph *g, const vf_op *op);
/* Whether vf_simd_binary handles this op's broadcast pattern (else the reference kernel runs). */
bool vf_simd_binary_supported(const vf_graph *g, const vf_op *op);

#endif
