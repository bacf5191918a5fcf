/* module.c - the browser module's entry point. The exported API is include/veriface.h itself
 * (see EXPORTED_FUNCTIONS in CMakeLists.txt); JS passes model bytes in memory. This file only
 * keeps the module from having a main(). */
#include "veriface.h"

/* Referenced so the linker keeps the library's objects even without a main(). */
const char *vf_wasm_version(void) { return vf_version(); }

/* Peak multiply-add throughput of this build on this machine, in GFLOP/s: a register-only loop
 * of 12 independent vector multiply-add chains (enough to cover mul + add latency on current x86
 * cores, few enough to stay in 16 registers under V8), so benchmarks can state kernel speed as a
 * fraction of what the core can do. Not part of the C API. */
#include <time.h>
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

double vf_wasm_peak_gflops(int iters) {
    v128_t acc[12], a = wasm_f32x4_splat(1.0000001f), b = wasm_f32x4_splat(0.9999999f);
    for (int k = 0; k < 12; k++) acc[k] = wasm_f32x4_splat((float)k);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < iters; i++)
        for (int k = 0; k < 12; k++) acc[k] = wasm_f32x4_add(wasm_f32x4_mul(acc[k], a), b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    float sink = 0;
    for (int k = 0; k < 12; k++) sink += wasm_f32x4_extract_lane(acc[k], 0);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    return s > 0 && sink == sink ? (double)iters * 12 * 4 * 2 / s / 1e9 : 0; /* 4 lanes, mul + add */
}
#else
/* The build without SIMD (veriface-base): no vector peak to measure. */
double vf_wasm_peak_gflops(int iters) {
    (void)iters;
    return 0;
}
#endif
