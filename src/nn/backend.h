/* backend.h - the backend interface: a table of functions behind vf_model.
 * A backend prepares once per model (repacking weights, building its runtime) and then runs the
 * graph on the tensors' arena pointers. Nothing above src/nn/ knows which backend runs. */
#ifndef VF_NN_BACKEND_H
#define VF_NN_BACKEND_H

#include "graph.h"

typedef struct vf_backend_impl {
    vf_backend id;
    const char *name;
    /* Prepare `g` (arena already bound). May keep pointers into g until release, and may release
     * constants it has repacked (vf_graph_drop_constant). */
    vf_status (*prepare)(vf_context *ctx, vf_graph *g, void **state_out);
    vf_status (*invoke)(vf_context *ctx, const vf_graph *g, void *state);
    void (*release)(void *state);
} vf_backend_impl;

extern const vf_backend_impl vf_backend_ref_impl;
extern const vf_backend_impl vf_backend_simd_impl;
#ifdef VF_HAVE_XNNPACK
extern const vf_backend_impl vf_backend_xnnpack_impl;
#endif

/* The implementation for `b`, or NULL if this build lacks it (AUTO picks the fastest). */
const vf_backend_impl *vf_backend_find(vf_backend b);

#endif
