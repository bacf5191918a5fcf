/* landmarks.c - FaceMesh on a rotated crop, and what the pipeline derives from the 468 points:
 * the 5 alignment points, head pose, eye and mouth openness.
 *
 * Mesh indices (MediaPipe canonical face, image-left = subject's right): eye corners 33/133
 * (right) and 362/263 (left), lids 159/145 and 386/374, nose tip 1, mouth corners 61/291, lips
 * 13/14, forehead 10, chin 152, cheeks 234/454. */
#include "face.h"

#include <math.h>
#include <string.h>

#define CROP 192
#define ROI_SCALE 1.5f
#define RAD2DEG 57.29577951308232f

static float dist2(const float *a, const float *b) { return hypotf(a[0] - b[0], a[1] - b[1]); }

static vf_status find_outputs(vf_context *ctx, vf_model *m, const float **mesh, const float **flag) {
    *mesh = *flag = NULL;
    for (int i = 0; i < vf_model_output_count(m); i++) {
        vf_tensor_info t;
        vf_model_output(m, i, &t);
        if (t.count == VF_MESH_POINTS * 3) *mesh = t.data;
        else if (t.count == 1) *flag = t.data;
    }
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    if (!*mesh || !*flag || in.rank != 4 || in.dims[1] != CROP || in.dims[2] != CROP)
        return vf__fail(ctx, VF_E_MODEL, "landmarks: FaceMesh with input [1,192,192,3] and outputs [1,1404], [1,1] expected");
    return VF_OK;
}

/* Head pose from the mesh's 3D frame: x from cheek to cheek, y from forehead to chin. */
static void head_pose(vf_face_landmarks *lm) {
    const float (*p)[3] = lm->mesh;
    float ax[3], ay[3], az[3];
    for (int k = 0; k < 3; k++) { ax[k] = p[454][k] - p[234][k]; ay[k] = p[152][k] - p[10][k]; }
    float nx = sqrtf(ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2]), ny = sqrtf(ay[0] * ay[0] + ay[1] * ay[1] + ay[2] * ay[2]);
    if (nx <= 0 || ny <= 0) { lm->yaw = lm->pitch = lm->roll = 0; return; }
    for (int k = 0; k < 3; k++) { ax[k] /= nx; ay[k] /= ny; }
    /* n = x cross y points into the scene (+z, away from the camera) for a frontal face; turning
     * to the subject's left (image right) gives n a negative x, chin up a positive y */
    az[0] = ax[1] * ay[2] - ax[2] * ay[1];
    az[1] = ax[2] * ay[0] - ax[0] * ay[2];
    az[2] = ax[0] * ay[1] - ax[1] * ay[0];
    lm->yaw = atan2f(-az[0], az[2]) * RAD2DEG;
    lm->pitch = atan2f(az[1], az[2]) * RAD2DEG;
    lm->roll = atan2f(ax[1], ax[0]) * RAD2DEG;
}

vf_status vf_face_landmarks_run(vf_context *ctx, vf_model *m, const vf_image *img, const vf_face_box *face,
                                vf_face_landmarks *out) {
    if (!m || !img || !face || !out) return vf__fail(ctx, VF_E_INVALID_ARG, "landmarks: NULL argument");
    const float *mesh, *flag;
    vf_status s = find_outputs(ctx, m, &mesh, &flag);
    if (s) return s;
    /* ROI: square of 1.5x the longer box side around the box centre, rotated by the eye line */
    float cx = 0.5f * (face->x0 + face->x1), cy = 0.5f * (face->y0 + face->y1);
    float side = ROI_SCALE * fmaxf(face->x1 - face->x0, face->y1 - face->y0);
    if (!(side > 1.0f)) return vf__fail(ctx, VF_E_INVALID_ARG, "landmarks: face box too small");
    float theta = atan2f(face->kp[VF_KP_LEFT_EYE][1] - face->kp[VF_KP_RIGHT_EYE][1],
                         face->kp[VF_KP_LEFT_EYE][0] - face->kp[VF_KP_RIGHT_EYE][0]);
    float c = cosf(theta), sn = sinf(theta), k = side / CROP;
    /* crop point (u, v) (continuous, centre 96) -> image continuous: centre + k * R(theta) (u-96, v-96);
     * the warp takes integer-centred coordinates on both sides, hence the 0.5 shifts */
    float h = 0.5f - CROP / 2.0f;
    float warp[6] = {k * c, -k * sn, cx - 0.5f + k * (c * h - sn * h),
                     k * sn, k * c, cy - 0.5f + k * (sn * h + c * h)};
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    vf_sample_options so = vf_sample_options_range(0.0f, 1.0f, VF_CHANNELS_RGB);
    so.border = VF_BORDER_REPLICATE;
    if ((s = vf_image_warp_to_tensor(ctx, img, warp, &so, in.data, CROP, CROP))) return s;
    if ((s = vf_model_invoke(m))) return s;

    out->presence = flag[0];
    float bx0 = INFINITY, by0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY;
    for (int i = 0; i < VF_MESH_POINTS; i++) {
        float u = mesh[3 * i] - CROP / 2.0f, v = mesh[3 * i + 1] - CROP / 2.0f;
        float x = cx + k * (c * u - sn * v), y = cy + k * (sn * u + c * v);
        out->mesh[i][0] = x;
        out->mesh[i][1] = y;
        out->mesh[i][2] = k * mesh[3 * i + 2];
        bx0 = fminf(bx0, x); by0 = fminf(by0, y); bx1 = fmaxf(bx1, x); by1 = fmaxf(by1, y);
    }
    out->box[0] = bx0; out->box[1] = by0; out->box[2] = bx1; out->box[3] = by1;
    const float (*p)[3] = out->mesh;
    for (int d = 0; d < 2; d++) {
        out->five[0][d] = 0.5f * (p[33][d] + p[133][d]);
        out->five[1][d] = 0.5f * (p[362][d] + p[263][d]);
        out->five[2][d] = p[1][d];
        out->five[3][d] = p[61][d];
        out->five[4][d] = p[291][d];
    }
    float rw = dist2(p[33], p[133]), lw = dist2(p[362], p[263]), mw = dist2(p[61], p[291]);
    out->eye_open[0] = rw > 0 ? dist2(p[159], p[145]) / rw : 0;
    out->eye_open[1] = lw > 0 ? dist2(p[386], p[374]) / lw : 0;
    out->mouth_open = mw > 0 ? dist2(p[13], p[14]) / mw : 0;
    head_pose(out);
    return VF_OK;
}
