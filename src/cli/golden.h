/* golden.h - read a .vfg golden file (tests/golden/README.md) and regenerate its seeded input. */
#ifndef VF_CLI_GOLDEN_H
#define VF_CLI_GOLDEN_H

#include "veriface.h"

#define VF_GOLDEN_MAX_OUT 16

typedef struct vf_golden_tensor {
    char name[128];
    int rank;
    int32_t dims[4];
    size_t count;
    float *data;
} vf_golden_tensor;

typedef struct vf_golden {
    uint32_t seed;
    float lo, hi;
    int in_rank;
    int32_t in_dims[4];
    int n_out;
    vf_golden_tensor out[VF_GOLDEN_MAX_OUT];
} vf_golden;

/* Parse from memory; returns VF_E_MODEL (with msg) on a malformed file. */
vf_status vf_golden_parse(const uint8_t *b, size_t n, vf_golden *g, char *msg, size_t msg_size);
void vf_golden_free(vf_golden *g);
/* Fill `x` (count values, flat NHWC order) with the xorshift32 stream the golden tool used. */
void vf_golden_fill(uint32_t seed, float lo, float hi, float *x, size_t count);

#endif
