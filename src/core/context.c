/* context.c - the context: options, last error, log callback. No global state. */
#include "core.h"
#include "threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vf_context_options vf_context_default_options(void) {
    vf_context_options o;
    memset(&o, 0, sizeof o);
    o.threads = 1;
    o.log_level = VF_LOG_WARN;
    return o;
}

vf_status vf_context_create(const vf_context_options *opt, vf_context **ctx_out) {
    if (!ctx_out) return VF_E_INVALID_ARG;
    *ctx_out = NULL;
    vf_context_options o = opt ? *opt : vf_context_default_options();
    if (o.threads < 0 || o.threads > 64) return VF_E_INVALID_ARG;
    if (o.threads == 0) o.threads = 1;
    vf_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return VF_E_NO_MEMORY;
    ctx->opt = o;
    if (o.threads > 1 && !(ctx->pool = vf_threadpool_create(o.threads))) {
        free(ctx);
        return VF_E_NO_MEMORY;
    }
    *ctx_out = ctx;
    return VF_OK;
}

void vf_context_free(vf_context *ctx) {
    if (!ctx) return;
    vf_threadpool_free(ctx->pool);
    free(ctx);
}

const char *vf_context_last_error(const vf_context *ctx) { return ctx ? ctx->last_error : ""; }

void vf__clear_error(vf_context *ctx) {
    if (ctx) ctx->last_error[0] = 0;
}

vf_status vf__fail(vf_context *ctx, vf_status s, const char *fmt, ...) {
    if (!ctx) return s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
    va_end(ap);
    vf__log(ctx, VF_LOG_ERROR, "%s: %s", vf_status_string(s), ctx->last_error);
    return s;
}

void vf__log(const vf_context *ctx, vf_log_level level, const char *fmt, ...) {
    if (!ctx || !ctx->opt.log || level < ctx->opt.log_level) return;
    char buf[VF_ERROR_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->opt.log(level, buf, ctx->opt.log_user);
}

void *vf__alloc_aligned(size_t size) {
    if (size == 0) return NULL;
    size_t padded = vf__align_up(size, VF_ALIGN);
    if (padded < size) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, VF_ALIGN, padded) != 0) return NULL;
    return p;
}

void vf__free_aligned(void *p) { free(p); }
