/* photo.h - the session photo: an aligned portrait crop of the server's best frame (JPEG) and its
 * photo_quality_score. */
#ifndef VF_SRV_PHOTO_H
#define VF_SRV_PHOTO_H

#include "veriface.h"
#include "../image/image.h"

#include <stddef.h>
#include <stdint.h>

#define VF_SRV_PORTRAIT_W 360
#define VF_SRV_PORTRAIT_H 480

typedef struct vf_srv_photo {
    uint8_t *jpeg; size_t len;        /* malloc'd */
    int width, height;
    float quality_score;              /* 0..1 */
} vf_srv_photo;

/* 0..1 from one frame's metrics against the session's quality thresholds: pose, sharpness,
 * exposure, open eyes, even light, no glare, and the face's size in source pixels (face_px). */
float vf_srv_photo_quality(const vf_quality *q, const vf_quality_config *c, float face_px);

/* The portrait of frame `img` with its status (landmarks, metrics); 0 = ok, -1 = no face or error. */
int vf_srv_photo_make(vf_context *ctx, const vf_image_buffer *img, const vf_frame_status *st, const vf_quality_config *qc,
                      vf_srv_photo *out);

#endif
