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
#include "frameprint.h"

/* Timestamp rules. `elapsed_ms` = server now - the nonce's issue (server clock); everything else
 * is the client's clock, so only durations are compared. `fps` > 0 (the camera's claimed frame
 * rate) raises the minimum spacing to half a frame period. 0 = plausible; else 1 with `why`
 * naming the problem and *frame_out the frame (-1 when none). */
int vf_srv_timestamps_check(const double *ts, int n, double created_at, double elapsed_ms, double fps,
                            const vf_srv_freshness_config *c, char *why, size_t whysz, int *frame_out);

/* ---- the check of one package (result.c) ------------------------------------------------------ */


typedef struct vf_srv_freshness {
    int n_reasons;
    const char *reasons[3];
    cJSON *detail;                    /* the audit's "freshness" object (owned until handed on) */
    int n;
    vf_srv_frame_print prints[VF_SRV_FRESH_MAX];  /* indexed with the decision (store.h) */
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
