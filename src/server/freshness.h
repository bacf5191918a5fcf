/* freshness.h - frames that are new: no duplicates inside a package, none seen in an earlier
 * package of this deployment, plausible timestamps. The findings are tamper reasons for the
 * policy (any one rejects):
 *   freshness.duplicate_frame  two frames of the package are the same picture (same bytes, or
 *                              pixels within the noise floor of a re-encoded/shifted still)
 *   freshness.replayed_frame   a frame was in an earlier decided package (exact hash, or a
 *                              perceptual hash confirmed by a 16x16 luma thumbnail)
 *   freshness.timestamps       not finite, not increasing, spacing no camera gives, or outside
 *                              the time between the nonce's issue and the package
 * Thresholds and their measurement: docs/SERVER.md ("Freshness"). */
#ifndef VF_SRV_FRESHNESS_H
#define VF_SRV_FRESHNESS_H

#include "server.h"
#include "../image/image.h"

/* ---- pure measures (no I/O; unit-tested) --------------------------------------------------- */

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
#define VF_SRV_THUMB 16
#define VF_SRV_THUMB_CELLS (VF_SRV_THUMB * VF_SRV_THUMB)
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

/* Timestamp rules. `elapsed_ms` = server now - the nonce's issue (server clock); everything else
 * is the client's clock, so only durations are compared. `fps` > 0 (the camera's claimed frame
 * rate) raises the minimum spacing to half a frame period. 0 = plausible; else 1 with `why`
 * naming the problem and *frame_out the frame (-1 when none). */
int vf_srv_timestamps_check(const double *ts, int n, double created_at, double elapsed_ms, double fps,
                            const vf_srv_freshness_config *c, char *why, size_t whysz, int *frame_out);

/* ---- the check of one package (result.c) ------------------------------------------------------ */

#define VF_SRV_FRESH_MAX 16           /* frames per package (VF_SESSION_MAX_CHOSEN is 8) */

typedef struct vf_srv_freshness {
    int n_reasons;
    const char *reasons[3];
    cJSON *detail;                    /* the audit's "freshness" object (owned until handed on) */
    int n;
    vf_srv_frame_print prints[VF_SRV_FRESH_MAX];  /* indexed with the decision (store.c) */
    int64_t index_seen;               /* the index's last row when it was searched */
} vf_srv_freshness;

typedef struct vf_srv_fresh_input {
    const vf_image_buffer *frames;    /* decoded, in package order */
    const uint8_t *const *bytes;      /* their encoded bytes (hashed) */
    const size_t *sizes;
    const double *ts;                 /* client timestamps, epoch ms */
    int n;
    double created_at;                /* package created_at (client clock) */
    int64_t now, nonce_issued_at;     /* server clock */
    const cJSON *signals;             /* for camera.settings.frameRate; may be NULL */
} vf_srv_fresh_input;

/* Run the three checks; 0 = ran (findings in out), -1 = no memory or storage error (out is empty).
 * Free with vf_srv_freshness_clear. */
int vf_srv_freshness_check(vf_srv *s, const vf_srv_fresh_input *in, vf_srv_freshness *out);
void vf_srv_freshness_clear(vf_srv_freshness *f);

#endif
