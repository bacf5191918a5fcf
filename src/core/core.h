/* core.h - internal helpers shared by every layer: errors, logging, checked sizes, aligned memory. */
#ifndef VF_CORE_H
#define VF_CORE_H

#include "veriface.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VF_ERROR_MAX 512
#define VF_ALIGN 64   /* cache line; also the .vfm payload alignment */

struct vf_threadpool;

struct vf_context {
    vf_context_options opt;
    struct vf_threadpool *pool; /* opt.threads - 1 workers for the simd backend; NULL when 1 */
    char last_error[VF_ERROR_MAX];
};

/* Record `s` with a formatted message as ctx's last error (ctx may be NULL) and return s. */
vf_status vf__fail(vf_context *ctx, vf_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vf__log(const vf_context *ctx, vf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vf__clear_error(vf_context *ctx);

/* Overflow-checked size arithmetic: return false on overflow. */
static inline bool vf__mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}
static inline bool vf__add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return false;
    *out = a + b;
    return true;
}
static inline size_t vf__align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

/* 64-byte aligned allocation (NULL on failure or size 0), freed with vf__free_aligned. */
void *vf__alloc_aligned(size_t size);
void vf__free_aligned(void *p);

#endif
