/* vfm_builder.h - build small .vfm graphs in memory for tests (the writer side of models/FORMAT.md). */
#ifndef VF_TESTS_VFM_BUILDER_H
#define VF_TESTS_VFM_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#define VFB_NONE 0xFFFFFFFFu

typedef struct vfb vfb;

vfb *vfb_new(void);
void vfb_free(vfb *b);
/* Tensors; dims has `rank` entries. Constants are copied (stored as f16 when f16 is 1, byte-planar
 * f16 (dtype 4) when 2, else f32). */
uint32_t vfb_input(vfb *b, const char *name, int rank, const int32_t *dims);
uint32_t vfb_const(vfb *b, int rank, const int32_t *dims, const float *data, int f16);
/* An int8 constant (dtype 3): per-channel symmetric along `axis`, as tools/convert/quantize.mjs. */
uint32_t vfb_const_i8(vfb *b, int rank, const int32_t *dims, const float *data, int axis);
uint32_t vfb_tensor(vfb *b, const char *name, int rank, const int32_t *dims);
void vfb_op(vfb *b, int op, int n_in, const uint32_t *in, uint32_t out, const int32_t ip[8], const float fp[2]);
void vfb_output(vfb *b, uint32_t id);
/* Serialise; returns malloc'd bytes (caller frees). */
uint8_t *vfb_finish(vfb *b, size_t *size);

#endif
