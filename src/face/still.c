/* still.c - which face of a still image (an ID photo, a reference portrait, a compare or collection
 * image) is "the" face.
 *
 * The detector's most confident face is often someone in the background: BlazeFace scores a sharp
 * small face above a large soft one. The largest face alone takes false detections (a building
 * emblem beside a portrait, larger than the face). A bias to the image centre (FaceNet's LFW rule,
 * area - 2 offset^2) fails as soon as the subject is not centred (an ID card's portrait, a photo
 * framed by thirds). So: the face with the largest expected face area, its box area times the
 * probability that it is a face as both models see it (detector score x FaceMesh presence), among
 * the faces FaceMesh confirms (presence at MediaPipe's threshold, the session's min_presence).
 * No position enters. docs/PIPELINE.md "Which face of a still image". */
#include "face.h"

static float box_area(const vf_face_box *f) { return (f->x1 - f->x0) * (f->y1 - f->y0); }

vf_status vf_face_pick_still(vf_context *ctx, vf_model *mesh, const vf_image *img, const vf_face_box *faces, int n,
                             vf_face_landmarks *lm_out, int *index_out) {
    if (!mesh || !img || (!faces && n > 0) || n < 0 || n > VF_DETECT_MAX_FACES || !lm_out || !index_out)
        return vf__fail(ctx, VF_E_INVALID_ARG, "still face: bad argument");
    *index_out = -1;
    int order[VF_DETECT_MAX_FACES];
    float bound[VF_DETECT_MAX_FACES];   /* area x score: the value with presence 1, an upper bound */
    for (int i = 0; i < n; i++) {       /* insertion sort, largest bound first; ties keep the detector's order */
        float v = box_area(&faces[i]) * faces[i].score;
        int j = i;
        for (; j > 0 && bound[j - 1] < v; j--) { bound[j] = bound[j - 1]; order[j] = order[j - 1]; }
        bound[j] = v;
        order[j] = i;
    }
    /* FaceMesh on the candidates in that order, until none left can beat the best (presence <= 1):
     * once on nearly every image */
    int best = -1, last = -1;
    float best_v = 0.0f;
    for (int k = 0; k < n && !(best >= 0 && bound[k] <= best_v); k++) {
        vf_status st = vf_face_landmarks_run(ctx, mesh, img, &faces[order[k]], lm_out);
        if (st) return st;
        last = order[k];
        float v = bound[k] * lm_out->presence;
        if (lm_out->presence >= VF_STILL_MIN_PRESENCE && (best < 0 || v > best_v)) {
            best = order[k];
            best_v = v;
        }
    }
    if (best >= 0 && best != last) { /* lm_out holds a later candidate's mesh: the best's again */
        vf_status st = vf_face_landmarks_run(ctx, mesh, img, &faces[best], lm_out);
        if (st) return st;
    }
    *index_out = best;
    return VF_OK;
}
