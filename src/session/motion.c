/* motion.c - vf_motion: the frames of an active challenge (see include/veriface.h). Each push runs
 * the detector and the mesh, keeps the mesh for the depth check (planarity.c) and measures the
 * face's colour for the screen-light check (src/policy/challenge.c). */
#include "session.h"
#include "../face/planarity.h"

#include <stdlib.h>
#include <string.h>

#define MOTION_MAX 96

struct vf_motion {
    vf_engine *e;
    int max, n, n_face;
    vf_face_landmarks *lm;    /* meshes of the frames with a face, in push order */
};

vf_status vf_motion_create(vf_engine *e, int max_frames, vf_motion **out) {
    if (!e || !out) return VF_E_INVALID_ARG;
    *out = NULL;
    if (max_frames < 2 || max_frames > MOTION_MAX)
        return vf__fail(e->ctx, VF_E_INVALID_ARG, "motion: max_frames %d outside 2..%d", max_frames, MOTION_MAX);
    vf_motion *m = calloc(1, sizeof *m);
    if (m) m->lm = calloc((size_t)max_frames, sizeof *m->lm);
    if (!m || !m->lm) { free(m); return vf__fail(e->ctx, VF_E_NO_MEMORY, "motion: out of memory"); }
    m->e = e;
    m->max = max_frames;
    *out = m;
    return VF_OK;
}

void vf_motion_free(vf_motion *m) {
    if (!m) return;
    free(m->lm);
    free(m);
}

void vf_motion_reset(vf_motion *m) {
    if (m) m->n = m->n_face = 0;
}

int vf_motion_count(const vf_motion *m) { return m ? m->n : 0; }

/* Mean colour of the nose-and-cheeks band of the mesh box (skin that faces the screen), without
 * clipped or near-black pixels. */
static void face_rgb(const vf_image *img, const float box[4], float rgb[3]) {
    float w = box[2] - box[0], h = box[3] - box[1];
    int x0 = (int)(box[0] + 0.2f * w), x1 = (int)(box[2] - 0.2f * w), y0 = (int)(box[1] + 0.45f * h), y1 = (int)(box[1] + 0.7f * h);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->width) x1 = img->width;
    if (y1 > img->height) y1 = img->height;
    double s[3] = {0, 0, 0};
    long n = 0;
    for (int y = y0; y < y1; y++) {
        const uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x0 * (size_t)img->format;
        for (int x = x0; x < x1; x++, p += img->format) {
            int mx = p[0] > p[1] ? (p[0] > p[2] ? p[0] : p[2]) : (p[1] > p[2] ? p[1] : p[2]);
            if (mx >= 250 || mx < 20) continue;
            s[0] += p[0]; s[1] += p[1]; s[2] += p[2];
            n++;
        }
    }
    for (int k = 0; k < 3; k++) rgb[k] = n ? (float)(s[k] / (double)n) : 0.0f;
}

vf_status vf_motion_push(vf_motion *m, const vf_frame *f, vf_motion_frame *out) {
    if (!m || !f || !out) return VF_E_INVALID_ARG;
    vf_context *ctx = m->e->ctx;
    memset(out, 0, sizeof *out);
    if (m->n >= m->max) return vf__fail(ctx, VF_E_INVALID_ARG, "motion: more than %d frames", m->max);
    if (f->channels != 3 && f->channels != 4) return vf__fail(ctx, VF_E_IMAGE, "frame: %d channels (3 or 4 expected)", f->channels);
    vf_image img = {f->width, f->height, f->stride, f->channels == 4 ? VF_PIXEL_RGBA8 : VF_PIXEL_RGB8, f->pixels};
    vf_status r = vf_image_check(ctx, &img);
    if (r) return r;
    vf_face_box faces[VF_DETECT_MAX_FACES];
    int nf = 0;
    if ((r = vf_detect_faces(ctx, m->e->det, &img, NULL, faces, &nf))) return r;
    m->n++;
    if (nf < 1) return VF_OK;
    vf_face_landmarks *lm = &m->lm[m->n_face];
    if ((r = vf_face_landmarks_run(ctx, m->e->mesh, &img, &faces[0], lm))) return r;
    m->n_face++;
    out->face = 1;
    out->yaw = lm->yaw;
    out->pitch = lm->pitch;
    out->roll = lm->roll;
    memcpy(out->face_box, lm->box, sizeof out->face_box);
    face_rgb(&img, lm->box, out->rgb);
    return VF_OK;
}

vf_status vf_motion_depth_of(vf_motion *m, vf_motion_depth *out) {
    if (!m || !out) return VF_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (m->n_face < 2) return VF_OK;   /* unknown */
    /* the planarity fit takes up to VF_PLANARITY_MAX_FRAMES: keep evenly spaced ones (in place,
     * in increasing order, so nothing is overwritten before it is read) */
    int n = m->n_face;
    if (n > VF_PLANARITY_MAX_FRAMES) {
        for (int i = 0; i < VF_PLANARITY_MAX_FRAMES; i++) m->lm[i] = m->lm[(int)((long)i * (n - 1) / (VF_PLANARITY_MAX_FRAMES - 1))];
        n = m->n_face = VF_PLANARITY_MAX_FRAMES;
    }
    vf_planarity_result pr;
    vf_status r = vf_planarity_score(m->e->ctx, m->lm, n, NULL, NULL, &pr);
    if (r) return r;
    out->outcome = pr.outcome == VF_PLANARITY_3D ? 1 : pr.outcome == VF_PLANARITY_FLAT ? 2 : 0;
    out->score = pr.score;
    out->pose_range = pr.pose_range;
    out->pairs = pr.pairs;
    return VF_OK;
}
