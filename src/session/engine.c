/* engine.c - vf_engine: every model of the pipeline (one per role of roles.c), loaded once from
 * bytes, with their hashes. */
#include "session.h"
#include "../core/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vf_status vf_engine_create(vf_context *ctx, const vf_engine_models *mm, const vf_model_options *opt, vf_engine **out) {
    if (!ctx || !mm || !out) return VF_E_INVALID_ARG;
    *out = NULL;
    vf_engine *e = calloc(1, sizeof *e);
    if (!e) return vf__fail(ctx, VF_E_NO_MEMORY, "engine: out of memory");
    e->ctx = ctx;
    const vf_model_role *roles = vf_model_roles(NULL);
    for (int i = 0; i < VF_ROLE_COUNT; i++) {
        if (!mm->bytes[i] || mm->size[i] == 0) {
            if (!roles[i].required) continue;
            vf_engine_free(e);
            return vf__fail(ctx, VF_E_NO_MODEL, "engine: the %s model (%s) is required", roles[i].name, roles[i].file);
        }
        vf_sha256_hex(mm->bytes[i], mm->size[i], e->hash[i]);
        vf_status s = vf_model_load(ctx, mm->bytes[i], mm->size[i], opt, &e->model[i]);
        if (s) {
            /* the loader's message, copied: vf__fail writes the buffer it would read from */
            char why[VF_ERROR_MAX];
            snprintf(why, sizeof why, "%s", vf_context_last_error(ctx)[0] ? vf_context_last_error(ctx) : vf_status_string(s));
            s = vf__fail(ctx, s, "engine: %s model (%s): %s", roles[i].name, roles[i].file, why);
            vf_engine_free(e);
            return s;
        }
    }
    e->det = e->model[VF_ROLE_DETECTOR];
    e->mesh = e->model[VF_ROLE_MESH];
    e->emb = e->model[VF_ROLE_EMBEDDER];
    vf_liveness_models_init(&e->pad);   /* the "liveness" roles, in table order */
    for (int k = 0; k < e->pad.n; k++) e->pad.m[k] = e->model[e->pad.role[k]];
    *out = e;
    return VF_OK;
}

void vf_engine_free(vf_engine *e) {
    if (!e) return;
    for (int i = 0; i < VF_ROLE_COUNT; i++) vf_model_free(e->model[i]);
    free(e);
}

const char *vf_engine_model_hash(const vf_engine *e, int i) {
    return (e && i >= 0 && i < VF_ROLE_COUNT) ? e->hash[i] : "";
}

int vf__engine_has_pad(const vf_engine *e) {
    for (int k = 0; k < e->pad.n; k++) if (!e->pad.m[k]) return 0;
    return e->pad.n > 0;
}
