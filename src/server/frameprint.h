/* frameprint.h - what the freshness check measures on a frame, pure (no I/O, no server state;
 * unit-tested in tests/server/test_server_units.c): a frame's luma, how different two frames are,
 * and the print of a frame that the store's frame index keeps across packages. The store needs
 * the print's distances to search its index; freshness.c runs the check. */
#ifndef VF_SRV_FRAMEPRINT_H
#define VF_SRV_FRAMEPRINT_H

#include "../image/image.h"

#include <stddef.h>
#include <stdint.h>

/* A frame's luma (BT.601 weights) and its high-pass (Y - 3x3 mean, times 9), malloc'd. */
typedef struct vf_srv_luma {
    int w, h;
    uint8_t *y;                       /* (h, w) */
    int16_t *hp;                      /* (h, w); 0 on the 1-pixel border */
} vf_srv_luma;

int vf_srv_luma_make(const vf_image_buffer *img, vf_srv_luma *out);   /* 0 ok, -1 no memory / bad image */
void vf_srv_luma_free(vf_srv_luma *l);

/* How different two frames of one size are, at the best integer alignment within +-2 pixels:
 * change = the 99th percentile over 8x8 blocks of |block mean difference - mean difference|, in
 * luma levels (a new frame of a person differs somewhere by more than JPEG re-encoding, a
 * brightness step or a shift moves a block; a global brightness change is removed);
 * residual = standard deviation of the difference of the high-passed frames at full resolution
 * (sensor noise, which differs in every real frame). Different sizes: both +inf. */
typedef struct vf_srv_frame_diff { float change, residual; int dx, dy; } vf_srv_frame_diff;
void vf_srv_frame_diff_measure(const vf_srv_luma *a, const vf_srv_luma *b, vf_srv_frame_diff *out);

/* The cross-package signature: SHA-256 of the bytes (exact), a 64-bit DCT hash of a 32x32 luma
 * thumbnail (bit = coefficient (u, v) in 1..8 above the median of the 64; the index key), and a
 * 16x16 luma thumbnail in 1/64 levels (stored) to confirm a hash candidate. The query frame also
 * carries how each thumbnail cell changes when the picture moves by one pixel (not stored). */
#define VF_SRV_FRESH_MAX 16           /* frames per package, printed and indexed (VF_SESSION_MAX_CHOSEN is 8) */
#define VF_SRV_THUMB 16
#define VF_SRV_THUMB_CELLS (VF_SRV_THUMB * VF_SRV_THUMB)
typedef struct vf_srv_frame_print vf_srv_frame_print;
struct vf_srv_frame_print {
    char sha256[65];
    uint64_t phash;
    uint16_t thumb[VF_SRV_THUMB_CELLS];   /* cell means x 64 */
    float gx[VF_SRV_THUMB_CELLS], gy[VF_SRV_THUMB_CELLS];
};

void vf_srv_frame_print_make(const vf_srv_luma *l, const uint8_t *bytes, size_t n, vf_srv_frame_print *out);
int vf_srv_hamming64(uint64_t a, uint64_t b);
/* How far a stored thumbnail is from the query's picture once brightness, contrast and a
 * sub-pixel shift are fitted out (least squares over the inner cells): mean |residual| in luma
 * levels. A re-encoded, brightened or shifted copy fits almost exactly; a new capture does not. */
float vf_srv_print_distance(const vf_srv_frame_print *query, const uint16_t *thumb);

#endif
