/* engine.c - vf_engine: every model of the pipeline, loaded once from bytes, with their hashes. */
#include "session.h"
#include "../core/sha256.h"

#include <stdlib.h>
#include <string.h>

static vf_status load_one(vf_context *ctx, const void *bytes, size_t n, const vf_model_options *opt, vf_model **m,
                          char hash[65], const char *what, bool required) {
    *m = NULL;
    hash[0] = 0;
    if (!bytes || n == 0) return required ? vf__fail(ctx, VF_E_NO_MODEL, "engine: the %s model is required", what) : VF_OK;
    vf_sha256_hex(bytes, n, hash);
    vf_status s = vf_model_load(ctx, bytes, n, opt, m);
    if (s) return vf__fail(ctx, s, "engine: %s model: %s", what, vf_context_last_error(ctx));
    return VF_OK;
}

vf_status vf_engine_create(vf_context *ctx, const vf_engine_models *mm, const vf_model_options *opt, vf_engine **out) {
    if (!ctx || !mm || !out) return VF_E_INVALID_ARG;
    *out = NULL;
    vf_engine *e = calloc(1, sizeof *e);
    if (!e) return vf__fail(ctx, VF_E_NO_MEMORY, "engine: out of memory");
    e->ctx = ctx;
    vf_status s = load_one(ctx, mm->detector, mm->detector_size, opt, &e->det, e->hash[0], "detector", true);
    if (!s) s = load_one(ctx, mm->mesh, mm->mesh_size, opt, &e->mesh, e->hash[1], "mesh", true);
    if (!s) s = load_one(ctx, mm->pad_v2, mm->pad_v2_size, opt, &e->pad.v2, e->hash[2], "PAD V2", false);
    if (!s) s = load_one(ctx, mm->pad_v1se, mm->pad_v1se_size, opt, &e->pad.v1se, e->hash[3], "PAD V1SE", false);
    if (!s) s = load_one(ctx, mm->embedder, mm->embedder_size, opt, &e->emb, e->hash[4], "embedder", false);
    if (s) { vf_engine_free(e); return s; }
    *out = e;
    return VF_OK;
}

void vf_engine_free(vf_engine *e) {
    if (!e) return;
    vf_model_free(e->det);
    vf_model_free(e->mesh);
    vf_model_free(e->pad.v2);
    vf_model_free(e->pad.v1se);
    vf_model_free(e->emb);
    free(e);
}

const char *vf_engine_model_hash(const vf_engine *e, int i) {
    return (e && i >= 0 && i < VF_ENGINE_MODELS) ? e->hash[i] : "";
}
