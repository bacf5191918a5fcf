/* vec.h - the thin 128-bit vector layer the simd backend is written in: one block per
 * instruction set (WebAssembly SIMD128, x86 SSE2, plain C), the same kernels on top.
 * Multiply-add is a separate multiply and add everywhere (no FMA): wasm SIMD128 has none, and
 * native builds then round exactly like the browser. */
#ifndef VF_NN_SIMD_VEC_H
#define VF_NN_SIMD_VEC_H

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
typedef v128_t vf_v4;
#define VF_VEC_ISA "wasm-simd128"
static inline vf_v4 v4_load(const float *p) { return wasm_v128_load(p); }
static inline void v4_store(float *p, vf_v4 v) { wasm_v128_store(p, v); }
static inline vf_v4 v4_splat(float x) { return wasm_f32x4_splat(x); }
static inline vf_v4 v4_load_splat(const float *p) { return wasm_v128_load32_splat(p); }
static inline vf_v4 v4_add(vf_v4 a, vf_v4 b) { return wasm_f32x4_add(a, b); }
static inline vf_v4 v4_sub(vf_v4 a, vf_v4 b) { return wasm_f32x4_sub(a, b); }
static inline vf_v4 v4_mul(vf_v4 a, vf_v4 b) { return wasm_f32x4_mul(a, b); }
/* pmin/pmax are the cheap forms (one x86 instruction); operands never hold NaN here. */
static inline vf_v4 v4_max(vf_v4 a, vf_v4 b) { return wasm_f32x4_pmax(a, b); }
static inline vf_v4 v4_min(vf_v4 a, vf_v4 b) { return wasm_f32x4_pmin(a, b); }
#define v4_lane(v, i) wasm_i32x4_shuffle((v), (v), (i), (i), (i), (i))

#elif defined(__SSE2__)
#include <emmintrin.h>
typedef __m128 vf_v4;
#define VF_VEC_ISA "sse2"
static inline vf_v4 v4_load(const float *p) { return _mm_loadu_ps(p); }
static inline void v4_store(float *p, vf_v4 v) { _mm_storeu_ps(p, v); }
static inline vf_v4 v4_splat(float x) { return _mm_set1_ps(x); }
static inline vf_v4 v4_load_splat(const float *p) { return _mm_load1_ps(p); }
static inline vf_v4 v4_add(vf_v4 a, vf_v4 b) { return _mm_add_ps(a, b); }
static inline vf_v4 v4_sub(vf_v4 a, vf_v4 b) { return _mm_sub_ps(a, b); }
static inline vf_v4 v4_mul(vf_v4 a, vf_v4 b) { return _mm_mul_ps(a, b); }
static inline vf_v4 v4_max(vf_v4 a, vf_v4 b) { return _mm_max_ps(a, b); }
static inline vf_v4 v4_min(vf_v4 a, vf_v4 b) { return _mm_min_ps(a, b); }
#define v4_lane(v, i) _mm_shuffle_ps((v), (v), _MM_SHUFFLE((i), (i), (i), (i)))

#else
#include <string.h>
typedef struct { float f[4]; } vf_v4;
#define VF_VEC_ISA "scalar"
static inline vf_v4 v4_load(const float *p) { vf_v4 v; memcpy(v.f, p, 16); return v; }
static inline void v4_store(float *p, vf_v4 v) { memcpy(p, v.f, 16); }
static inline vf_v4 v4_splat(float x) { vf_v4 v = {{x, x, x, x}}; return v; }
static inline vf_v4 v4_load_splat(const float *p) { return v4_splat(*p); }
#define VF_V4_BIN(name, expr) \
    static inline vf_v4 name(vf_v4 a, vf_v4 b) { vf_v4 r; for (int i = 0; i < 4; i++) { float x = a.f[i], y = b.f[i]; r.f[i] = (expr); } return r; }
VF_V4_BIN(v4_add, x + y)
VF_V4_BIN(v4_sub, x - y)
VF_V4_BIN(v4_mul, x * y)
VF_V4_BIN(v4_max, x < y ? y : x)
VF_V4_BIN(v4_min, y < x ? y : x)
#undef VF_V4_BIN
static inline vf_v4 v4_lane_(vf_v4 v, int i) { return v4_splat(v.f[i]); }
#define v4_lane(v, i) v4_lane_((v), (i))
#endif

/* a * b + c, rounded twice (see above). */
static inline vf_v4 v4_madd(vf_v4 a, vf_v4 b, vf_v4 c) { return v4_add(v4_mul(a, b), c); }

#endif
