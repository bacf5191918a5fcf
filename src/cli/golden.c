/* golden.c - .vfg reader and the shared xorshift32 input generator (same stream as tools/golden.mjs). */
#include "golden.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void vf_golden_fill(uint32_t seed, float lo, float hi, float *x, size_t count) {
    uint32_t s = seed;
    for (size_t i = 0; i < count; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        /* computed in double, rounded once to f32, as JS does when storing into a Float32Array */
        x[i] = (float)((double)lo + ((double)hi - lo) * ((double)(s >> 8) / 16777216.0));
    }
}

vf_status vf_golden_parse(const uint8_t *b, size_t n, vf_golden *g, char *msg, size_t msg_size) {
    memset(g, 0, sizeof *g);
    size_t p = 0;
#define NEED(k) do { if (n - p < (size_t)(k)) { snprintf(msg, msg_size, "golden file truncated at byte %zu", p); goto bad; } } while (0)
    NEED(4 + 4 + 8 + 4 + 16 + 4);
    if (memcmp(b, "VFG1", 4) != 0) { snprintf(msg, msg_size, "not a .vfg golden file"); goto bad; }
    g->seed = rd32(b + 4);
    memcpy(&g->lo, b + 8, 4);
    memcpy(&g->hi, b + 12, 4);
    g->in_rank = (int)rd32(b + 16);
    for (int d = 0; d < 4; d++) g->in_dims[d] = (int32_t)rd32(b + 20 + 4 * d);
    uint32_t n_out = rd32(b + 36);
    p = 40;
    if (n_out < 1 || n_out > VF_GOLDEN_MAX_OUT) { snprintf(msg, msg_size, "golden file has %u outputs", n_out); goto bad; }
    for (uint32_t k = 0; k < n_out; k++) {
        vf_golden_tensor *t = &g->out[k];
        NEED(4);
        uint32_t len = rd32(b + p); p += 4;
        if (len >= sizeof t->name) { snprintf(msg, msg_size, "output name too long"); goto bad; }
        NEED(len + 20);
        memcpy(t->name, b + p, len); t->name[len] = 0; p += len;
        t->rank = (int)rd32(b + p); p += 4;
        if (t->rank < 1 || t->rank > 4) { snprintf(msg, msg_size, "output %u rank %d", k, t->rank); goto bad; }
        t->count = 1;
        for (int d = 0; d < 4; d++) {
            t->dims[d] = (int32_t)rd32(b + p + 4 * d);
            if (d < t->rank) {
                if (t->dims[d] < 1 || t->dims[d] > (1 << 24)) { snprintf(msg, msg_size, "output %u dim %d", k, t->dims[d]); goto bad; }
                t->count *= (size_t)t->dims[d];
                if (t->count > (1u << 26)) { snprintf(msg, msg_size, "output %u too large", k); goto bad; }
            }
        }
        p += 16;
        NEED(t->count * 4);
        t->data = malloc(t->count * 4);
        if (!t->data) { snprintf(msg, msg_size, "out of memory"); goto bad; }
        memcpy(t->data, b + p, t->count * 4); /* little-endian host (x86, wasm) */
        p += t->count * 4;
        g->n_out = (int)k + 1;
    }
    return VF_OK;
#undef NEED
bad:
    vf_golden_free(g);
    return VF_E_MODEL;
}

void vf_golden_free(vf_golden *g) {
    for (int k = 0; k < g->n_out; k++) free(g->out[k].data);
    memset(g, 0, sizeof *g);
}
