/* still.c - which face of a still image (an ID photo, a reference portrait, a compare or collection
 * image) is "the" face.
 *
 * The detector's most confident face is often someone in the background: BlazeFace scores a sharp
 * small face above a large soft one. Largest-alone takes false detections at the image edge (a
 * building emblem beside a portrait). The subject of a photo is large and framed near the centre,
 * so candidates are ranked by box area minus twice the squared distance of the box centre from the
 * image centre (both in pixels^2, so the rule does not depend on the image size): the rule FaceNet
 * aligns LFW with (align_dataset_mtcnn) and InsightFace's detectors use for max_num. The first one
 * FaceMesh confirms as a face (presence at MediaPipe's threshold, as the session's min_presence) is
 * taken, so a non-face never gets embedded. docs/PIPELINE.md "Which face of a still image". */
#include "face.h"

static float rank_value(const vf_face_box *f, const vf_image *img) {
    float w = f->x1 - f->x0, h = f->y1 - f->y0;
    float dx = 0.5f * (f->x0 + f->x1) - 0.5f * (float)img->width, dy = 0.5f * (f->y0 + f->y1) - 0.5f * (float)img->height;
    return w * h - 2.0f * (dx * dx + dy * dy);
}

vf_status vf_face_pick_still(vf_context *ctx, vf_model *mesh, const vf_image *img, const vf_face_box *faces, int n,
                             vf_face_landmarks *lm_out, int *index_out) {
    if (!mesh || !img || (!faces && n > 0) || n < 0 || n > VF_DETECT_MAX_FACES || !lm_out || !index_out)
        return vf__fail(ctx, VF_E_INVALID_ARG, "still face: bad argument");
    *index_out = -1;
    int order[VF_DETECT_MAX_FACES];
    float value[VF_DETECT_MAX_FACES];
    for (int i = 0; i < n; i++) { /* insertion sort, best first; ties keep the detector's order */
        float v = rank_value(&faces[i], img);
        int j = i;
        for (; j > 0 && value[j - 1] < v; j--) { value[j] = value[j - 1]; order[j] = order[j - 1]; }
        value[j] = v;
        order[j] = i;
    }
    for (int k = 0; k < n; k++) {
        vf_status st = vf_face_landmarks_run(ctx, mesh, img, &faces[order[k]], lm_out);
        if (st) return st;
        if (lm_out->presence >= VF_STILL_MIN_PRESENCE) {
            *index_out = order[k];
            return VF_OK;
        }
    }
    return VF_OK;
}
