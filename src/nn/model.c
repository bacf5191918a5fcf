/* model.c - the public vf_model API: load (validate, plan, prepare backend), inputs, outputs, invoke. */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

struct vf_model {
    vf_context *ctx;
    vf_graph g;
    uint8_t *arena;
    const vf_backend_impl *be;
    void *be_state;
};

const char *vf_backend_name(vf_backend b) {
    switch (b) {
    case VF_BACKEND_AUTO: return "auto";
    case VF_BACKEND_REF: return "ref";
    case VF_BACKEND_SIMD: return "simd";
    case VF_BACKEND_XNNPACK: return "xnnpack";
    }
    return "?";
}

const vf_backend_impl *vf_backend_find(vf_backend b) {
    switch (b) {
    case VF_BACKEND_REF: return &vf_backend_ref_impl;
    case VF_BACKEND_SIMD: return &vf_backend_simd_impl;
#ifdef VF_HAVE_XNNPACK
    case VF_BACKEND_XNNPACK: return &vf_backend_xnnpack_impl;
    case VF_BACKEND_AUTO: return &vf_backend_xnnpack_impl;
#else
    case VF_BACKEND_AUTO: return &vf_backend_simd_impl;
#endif
    default: return NULL;
    }
}

int vf_backend_available(vf_backend b) { return vf_backend_find(b) != NULL; }

vf_model_options vf_model_default_options(void) {
    vf_model_options o;
    memset(&o, 0, sizeof o);
    o.backend = VF_BACKEND_AUTO;
    return o;
}

vf_status vf_model_load(vf_context *ctx, const void *bytes, size_t size, const vf_model_options *opt, vf_model **model_out) {
    if (!ctx || !model_out) return VF_E_INVALID_ARG;
    *model_out = NULL;
    vf__clear_error(ctx);
    vf_model_options o = opt ? *opt : vf_model_default_options();
    const vf_backend_impl *be = vf_backend_find(o.backend);
    if (!be) return vf__fail(ctx, VF_E_UNSUPPORTED, "backend '%s' is not in this build", vf_backend_name(o.backend));
    vf_model *m = calloc(1, sizeof *m);
    if (!m) return vf__fail(ctx, VF_E_NO_MEMORY, "cannot allocate a model");
    m->ctx = ctx;
    m->be = be;
    vf_status s = vf_graph_load(ctx, bytes, size, &m->g);
    if (s) { free(m); return s; }
    s = vf_graph_plan(ctx, &m->g);
    if (!s) {
        m->arena = vf__alloc_aligned(m->g.arena_bytes ? m->g.arena_bytes : VF_ALIGN);
        if (!m->arena) s = vf__fail(ctx, VF_E_NO_MEMORY, "cannot allocate a %zu-byte arena", m->g.arena_bytes);
    }
    if (!s) {
        memset(m->arena, 0, m->g.arena_bytes);
        vf_graph_bind_arena(&m->g, m->arena);
        s = be->prepare(ctx, &m->g, &m->be_state);
    }
    if (s) {
        m->be = NULL; /* prepare failed: nothing to release */
        vf_model_free(m);
        return s;
    }
    vf__log(ctx, VF_LOG_INFO, "model loaded: %u ops, %.1f MFLOP, weights %zu B, arena %zu B, backend %s",
            m->g.n_ops, m->g.flops / 1e6, m->g.weight_bytes, m->g.arena_bytes, be->name);
    *model_out = m;
    return VF_OK;
}

void vf_model_free(vf_model *m) {
    if (!m) return;
    if (m->be) m->be->release(m->be_state);
    vf_graph_free(&m->g);
    vf__free_aligned(m->arena);
    free(m);
}

int vf_model_input_count(const vf_model *m) { return m ? (int)m->g.n_inputs : 0; }
int vf_model_output_count(const vf_model *m) { return m ? (int)m->g.n_outputs : 0; }

static void fill_info(const vf_tensor *t, vf_tensor_info *info) {
    info->name = t->name;
    info->rank = t->rank;
    memcpy(info->dims, t->dims, sizeof info->dims);
    for (int d = t->rank; d < VF_MAX_DIMS; d++) info->dims[d] = 0;
    info->count = t->count;
    info->data = t->data;
}

vf_status vf_model_input(vf_model *m, int i, vf_tensor_info *info_out) {
    if (!m || !info_out) return VF_E_INVALID_ARG;
    if (i < 0 || i >= (int)m->g.n_inputs) return vf__fail(m->ctx, VF_E_INVALID_ARG, "input %d of %u", i, m->g.n_inputs);
    fill_info(&m->g.tensors[m->g.inputs[i]], info_out);
    return VF_OK;
}

vf_status vf_model_output(vf_model *m, int i, vf_tensor_info *info_out) {
    if (!m || !info_out) return VF_E_INVALID_ARG;
    if (i < 0 || i >= (int)m->g.n_outputs) return vf__fail(m->ctx, VF_E_INVALID_ARG, "output %d of %u", i, m->g.n_outputs);
    fill_info(&m->g.tensors[m->g.outputs[i]], info_out);
    return VF_OK;
}

vf_status vf_model_invoke(vf_model *m) {
    if (!m) return VF_E_INVALID_ARG;
    return m->be->invoke(m->ctx, &m->g, m->be_state);
}

vf_status vf_model_get_stats(const vf_model *m, vf_model_stats *st) {
    if (!m || !st) return VF_E_INVALID_ARG;
    memset(st, 0, sizeof *st);
    st->weight_bytes = m->g.weight_bytes - m->g.dropped_bytes; /* resident: minus what the backend repacked and released */
    st->arena_bytes = m->g.arena_bytes;
    st->naive_bytes = m->g.naive_bytes;
    st->mflops = m->g.flops / 1e6;
    st->n_ops = (int)m->g.n_ops;
    st->backend = m->be->id;
    st->meta = m->g.meta ? m->g.meta : "";
    return VF_OK;
}
