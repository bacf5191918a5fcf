/* active.h - the server's side of the active challenge (docs/CHALLENGE.md): what it tells the page,
 * and the check of the frames the page sends back. The rules themselves are the policy's
 * (src/policy/challenge.c); the measurements are the server's own (vf_motion on the frames). */
#ifndef VF_SRV_ACTIVE_H
#define VF_SRV_ACTIVE_H

#include "server.h"
#include "../image/image.h"
#include "../policy/challenge.h"

#define VF_SRV_CHALLENGE_FRAME_MS 100     /* one frame every 100 ms: 10 a second */
#define VF_SRV_CHALLENGE_MAX_FRAMES 96
#define VF_SRV_CHALLENGE_MAX_SIDE 640     /* frames are sent at <= 480 px; refuse anything over this */

/* The challenge object of a reply for the attempt whose nonce is `nonce`. */
cJSON *vf_srv_challenge_json(const vf_challenge_config *cc, const char *nonce);

typedef struct vf_srv_challenge_out {
    int present;                 /* the package carried a challenge object */
    vf_challenge_result r;       /* the evaluation (r.met) */
    vf_motion_depth depth;       /* the 3-D check over the frames */
    int frames, faces;           /* frames decoded, with a face */
    int duplicates;              /* challenge frames whose bytes repeat another frame of the package
                                  * (freshness.duplicate_frame: a camera never sends the same bytes twice) */
    double ms;
} vf_srv_challenge_out;

/* Check the package's "challenge" (NULL when absent: out->present 0, r.met 0 with reason
 * challenge.no_frames): schema, base64, SHA-256 of each frame (and no frame's bytes twice, among
 * them or with the package's passive `frames`), the image limits, decoding; then
 * vf_motion on every frame (the worker's engine) and vf_challenge_evaluate against the challenge
 * derived from `nonce`. Returns 0, or -1 with an HTTP status, error code and message for a
 * malformed challenge (bad_schema, bad_frames, frame_hash_mismatch, corrupt_image,
 * frame_too_large). `detail` (may be NULL) receives the measurements for the audit. */
int vf_srv_challenge_check(vf_srv_worker *w, const vf_challenge_config *cc, const char *nonce, const cJSON *challenge,
                           const cJSON *passive_frames, vf_srv_challenge_out *out, cJSON *detail, int *status, const char **code,
                           char *msg, size_t msg_size);

#endif
