/* plan.c - memory plan: one arena for every activation, offsets reused by lifetime.
 *
 * Greedy by size (as in TFLite's arena planner): place the largest tensors first, each at the
 * lowest offset that does not overlap, in memory, any placed tensor whose lifetime overlaps its
 * own. An op's output never shares memory with its inputs (their lifetimes meet at that op), so
 * kernels need not be in-place safe. Graph inputs and outputs live for the whole run, so a
 * caller may invoke twice on the same input and read every output afterwards. */
#include "graph.h"

#include <stdlib.h>

typedef struct { uint32_t id; size_t bytes; } item;

static int by_size_desc(const void *a, const void *b) {
    const item *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->id < y->id ? -1 : 1; /* deterministic */
}

static bool lifetimes_overlap(const vf_tensor *a, const vf_tensor *b) {
    return a->first_op <= b->last_op && b->first_op <= a->last_op;
}

vf_status vf_graph_plan(vf_context *ctx, vf_graph *g) {
    uint32_t n = 0;
    item *items = malloc(sizeof *items * g->n_tensors);
    uint32_t *placed = malloc(sizeof *placed * g->n_tensors);
    if (!items || !placed) {
        free(items);
        free(placed);
        return vf__fail(ctx, VF_E_NO_MEMORY, "cannot allocate the memory plan");
    }
    g->naive_bytes = 0;
    for (uint32_t id = 0; id < g->n_tensors; id++) {
        vf_tensor *t = &g->tensors[id];
        if (t->kind == VF_TENSOR_CONSTANT) continue;
        if (t->kind == VF_TENSOR_INPUT) t->first_op = -1;
        if (t->kind == VF_TENSOR_INPUT || t->is_output) t->last_op = (int)g->n_ops;
        if (t->last_op < t->first_op) t->last_op = t->first_op; /* written, never read */
        items[n].id = id;
        items[n].bytes = vf__align_up(t->count * sizeof(float), VF_ALIGN); /* count <= 2^28: no overflow */
        g->naive_bytes += items[n].bytes;
        n++;
    }
    qsort(items, n, sizeof *items, by_size_desc);
    size_t arena = 0;
    for (uint32_t k = 0; k < n; k++) {
        vf_tensor *t = &g->tensors[items[k].id];
        size_t off = 0;
        /* Raise `off` past every conflicting placed tensor until a gap fits; placed tensors are
         * few (hundreds), so the quadratic scan is cheap and runs once at load. */
        for (bool moved = true; moved;) {
            moved = false;
            for (uint32_t j = 0; j < k; j++) {
                const vf_tensor *p = &g->tensors[placed[j]];
                size_t pb = vf__align_up(p->count * sizeof(float), VF_ALIGN);
                if (!lifetimes_overlap(t, p)) continue;
                if (off < p->arena_offset + pb && p->arena_offset < off + items[k].bytes) {
                    off = p->arena_offset + pb;
                    moved = true;
                }
            }
        }
        t->arena_offset = off;
        placed[k] = items[k].id;
        if (off + items[k].bytes > arena) arena = off + items[k].bytes;
    }
    g->arena_bytes = arena;
    free(items);
    free(placed);
    return VF_OK;
}

void vf_graph_bind_arena(vf_graph *g, uint8_t *arena) {
    for (uint32_t id = 0; id < g->n_tensors; id++) {
        vf_tensor *t = &g->tensors[id];
        if (t->kind != VF_TENSOR_CONSTANT) t->data = (float *)(arena + t->arena_offset);
    }
}
