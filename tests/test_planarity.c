/* test_planarity.c - the planarity score (src/face/planarity.c).
 *   exact synthetic point sets (no data needed):
 *     - a plane under the homographies of a tilting photo: residual ~0, FLAT;
 *     - a head-like 3-D point cloud turned by +-20 degrees in perspective: parallax, 3D;
 *     - too little rotation: UNKNOWN with no pair; a pure 2-D similarity: no deformation at all;
 *     - NaN, collinear, zero-size landmarks, NaN pose, bad counts and configuration: errors, no crash;
 *     - 64 frames: 16 fitted; the same input twice gives the same bytes.
 *   real data (exit 77 without ../shared/data): the stored real2 webcam frames (a head turning
 *   between -27 and +36 degrees of yaw) score 3D; the same frames as stills, tilted as a plane in
 *   front of the camera, do not: FLAT when the true tilt is given as the pose, and never 3D with
 *   the mesh's own pose.
 *
 *   test_planarity MODELS_DIR DATA_DIR */
#include "face/face.h"
#include "face/planarity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plane_render.h"
#include "test_util.h"

static int g_pass, g_fail;
#define CHECK(cond, ...) do { if (cond) g_pass++; else { g_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static vf_context *g_ctx;

/* ---- synthetic point sets ------------------------------------------------------------------ */

/* A head-like cloud in the mesh's index layout (pixels, z + away from the camera): 468 points on
 * the front of an ellipsoid 140 x 180 x 120 with a nose in front, the eye corners (which the
 * inter-ocular distance reads) set where eyes are. */
static void head_shape(double P[VF_MESH_POINTS][3]) {
    for (int i = 0; i < VF_MESH_POINTS; i++) {
        double r = sqrt((i + 0.5) / VF_MESH_POINTS), t = i * 2.399963229728653;   /* golden-angle spiral */
        double x = r * cos(t), y = r * sin(t);
        P[i][0] = 70 * x;
        P[i][1] = 90 * y;
        P[i][2] = -60 * sqrt(fmax(0, 1 - x * x - y * y)) - 25 * exp(-(x * x / 0.03 + y * y / 0.12));
    }
    static const short eye[4] = {33, 133, 362, 263};
    static const double ex[4] = {-45, -15, 15, 45};
    for (int k = 0; k < 4; k++) { P[eye[k]][0] = ex[k]; P[eye[k]][1] = -20; P[eye[k]][2] = -45; }
}

static void rot(double yaw_deg, double pitch_deg, double R[3][3]) {
    double y = yaw_deg * 0.017453292519943295, p = pitch_deg * 0.017453292519943295;
    double Ry[3][3] = {{cos(y), 0, sin(y)}, {0, 1, 0}, {-sin(y), 0, cos(y)}};
    double Rx[3][3] = {{1, 0, 0}, {0, cos(p), -sin(p)}, {0, sin(p), cos(p)}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) R[i][j] = Rx[i][0] * Ry[0][j] + Rx[i][1] * Ry[1][j] + Rx[i][2] * Ry[2][j];
}

/* One frame of `shape` turned by (yaw, pitch), seen by a pinhole camera (focal 550) 600 units
 * away; flat: the points lie on the plane z = 0 (a photo of the face) while the mesh still reports
 * the face's depth, as FaceMesh does on a photo. */
static void synth_frame(const double P[VF_MESH_POINTS][3], double yaw, double pitch, int flat, vf_face_landmarks *lm) {
    double R[3][3];
    rot(yaw, pitch, R);
    memset(lm, 0, sizeof *lm);
    for (int i = 0; i < VF_MESH_POINTS; i++) {
        double X[3] = {P[i][0], P[i][1], flat ? 0 : P[i][2]}, C[3];
        for (int r = 0; r < 3; r++) C[r] = R[r][0] * X[0] + R[r][1] * X[1] + R[r][2] * X[2];
        double w = 550.0 / (600.0 + C[2]);
        lm->mesh[i][0] = (float)(320 + w * C[0]);
        lm->mesh[i][1] = (float)(240 + w * C[1]);
        lm->mesh[i][2] = (float)(flat ? P[i][2] * 550.0 / 600.0 : w * C[2]);
    }
    lm->yaw = (float)yaw;
    lm->pitch = (float)pitch;
    lm->presence = 1;
}

static void test_synthetic(void) {
    static double P[VF_MESH_POINTS][3];
    head_shape(P);
    vf_face_landmarks f[VF_PLANARITY_MAX_FRAMES];
    vf_planarity_result r;
    vf_planarity_config cfg = vf_planarity_default_config();

    /* a plane: each pair is exactly a homography */
    for (int i = 0; i < 9; i++) synth_frame(P, -20 + 5 * i, 8 * sin(i), 1, &f[i]);
    vf_planarity_pair pr;
    CHECK(vf_planarity_pair_fit(g_ctx, &f[0], &f[8], VF_PLANARITY_POINTS_INNER, &pr) == VF_OK && pr.homography < 1e-4f,
          "plane: homography residual %.2e", pr.homography);
    CHECK(vf_planarity_pair_fit(g_ctx, &f[0], &f[8], VF_PLANARITY_POINTS_ALL, &pr) == VF_OK && pr.homography < 1e-4f,
          "plane, all points: homography residual %.2e", pr.homography);
    CHECK(vf_planarity_score(g_ctx, f, 9, NULL, &cfg, &r) == VF_OK && r.outcome == VF_PLANARITY_FLAT && r.score < 0.05f &&
              r.homography < 1e-4f && r.pairs >= 3,
          "plane: outcome %d score %.3f h %.2e pairs %d", r.outcome, r.score, r.homography, r.pairs);

    /* a head turning +-20 degrees: parallax no homography explains, a rotation does */
    for (int i = 0; i < 9; i++) synth_frame(P, -20 + 5 * i, 8 * sin(i), 0, &f[i]);
    CHECK(vf_planarity_score(g_ctx, f, 9, NULL, &cfg, &r) == VF_OK && r.outcome == VF_PLANARITY_3D && r.score > 0.5f &&
              r.homography > 0.02f && r.rigid < r.homography / 3,
          "head: outcome %d score %.3f h %.4f r %.4f", r.outcome, r.score, r.homography, r.rigid);
    CHECK(fabsf(r.yaw_range - 40) < 1e-3f && r.pose_range >= 40 && r.fitted_frames == 9 && r.frames == 9,
          "head: yaw range %.2f pose range %.2f", r.yaw_range, r.pose_range);

    /* the same head given a tracker's pose that says it hardly moved: not enough to tell */
    float still[9][2];
    for (int i = 0; i < 9; i++) { still[i][0] = 0.5f * i; still[i][1] = 0; }
    CHECK(vf_planarity_score(g_ctx, f, 9, (const float(*)[2])still, &cfg, &r) == VF_OK && r.outcome == VF_PLANARITY_UNKNOWN &&
              r.pairs == 0 && r.pose_range < 5,
          "given small pose: outcome %d pairs %d", r.outcome, r.pairs);
    /* too little rotation: +-5 degrees */
    for (int i = 0; i < 9; i++) synth_frame(P, -5 + 1.25 * i, 0, 0, &f[i]);
    CHECK(vf_planarity_score(g_ctx, f, 9, NULL, NULL, &r) == VF_OK && r.outcome == VF_PLANARITY_UNKNOWN && r.pairs == 0,
          "small motion: outcome %d pairs %d", r.outcome, r.pairs);

    /* a pure 2-D similarity (an in-plane turn and a shift): nothing to explain */
    vf_face_landmarks a = f[4], b = f[4];
    for (int i = 0; i < VF_MESH_POINTS; i++) {
        float x = a.mesh[i][0] - 320, y = a.mesh[i][1] - 240;
        b.mesh[i][0] = 330 + 1.1f * (0.96f * x - 0.28f * y);
        b.mesh[i][1] = 235 + 1.1f * (0.28f * x + 0.96f * y);
    }
    CHECK(vf_planarity_pair_fit(g_ctx, &a, &b, VF_PLANARITY_POINTS_OVAL, &pr) == VF_OK && pr.similarity < 1e-4f && pr.homography < 1e-4f,
          "similarity: s %.2e h %.2e", pr.similarity, pr.homography);

    /* 64 frames of a head sweeping +-30 degrees: 16 fitted, deterministic */
    for (int i = 0; i < 64; i++) synth_frame(P, -30 + 60.0 * i / 63, 5 * cos(0.2 * i), 0, &f[i]);
    vf_planarity_result r2;
    CHECK(vf_planarity_score(g_ctx, f, 64, NULL, NULL, &r) == VF_OK && r.fitted_frames == VF_PLANARITY_FIT_FRAMES &&
              r.outcome == VF_PLANARITY_3D && r.pairs > 50,
          "64 frames: fitted %d outcome %d pairs %d", r.fitted_frames, r.outcome, r.pairs);
    CHECK(vf_planarity_score(g_ctx, f, 64, NULL, NULL, &r2) == VF_OK && !memcmp(&r, &r2, sizeof r), "same input, same result");

    /* bad input: errors with a message, outcome UNKNOWN, no crash */
    for (int i = 0; i < 4; i++) synth_frame(P, -20 + 13 * i, 0, 0, &f[i]);
    f[2].mesh[100][1] = NAN;
    CHECK(vf_planarity_score(g_ctx, f, 4, NULL, NULL, &r) == VF_E_INVALID_ARG && r.outcome == VF_PLANARITY_UNKNOWN &&
              strstr(vf_context_last_error(g_ctx), "frame 2"),
          "NaN point: %s", vf_context_last_error(g_ctx));
    synth_frame(P, 6, 0, 0, &f[2]);
    f[1].yaw = INFINITY;
    CHECK(vf_planarity_score(g_ctx, f, 4, NULL, NULL, &r) == VF_E_INVALID_ARG && strstr(vf_context_last_error(g_ctx), "yaw"),
          "infinite yaw: %s", vf_context_last_error(g_ctx));
    f[1].yaw = 0;
    vf_face_landmarks line = f[3];
    for (int i = 0; i < VF_MESH_POINTS; i++) line.mesh[i][1] = 240;   /* every point on one row */
    CHECK(vf_planarity_pair_fit(g_ctx, &f[0], &line, VF_PLANARITY_POINTS_INNER, &pr) == VF_E_INVALID_ARG, "collinear pair refused");
    f[3] = line;
    CHECK(vf_planarity_score(g_ctx, f, 4, NULL, NULL, &r) == VF_E_INVALID_ARG, "collinear frame refused");
    vf_face_landmarks zero;
    memset(&zero, 0, sizeof zero);
    f[3] = zero;
    CHECK(vf_planarity_score(g_ctx, f, 4, NULL, NULL, &r) == VF_E_INVALID_ARG, "all-zero frame refused");
    CHECK(vf_planarity_score(g_ctx, f, 1, NULL, NULL, &r) == VF_E_INVALID_ARG, "1 frame refused");
    CHECK(vf_planarity_score(g_ctx, f, VF_PLANARITY_MAX_FRAMES + 1, NULL, NULL, &r) == VF_E_INVALID_ARG, "65 frames refused");
    CHECK(vf_planarity_score(g_ctx, NULL, 4, NULL, NULL, &r) == VF_E_INVALID_ARG, "NULL frames refused");
    CHECK(vf_planarity_score(g_ctx, f, 4, NULL, NULL, NULL) == VF_E_INVALID_ARG, "NULL result refused");
    CHECK(vf_planarity_pair_fit(g_ctx, &f[0], NULL, VF_PLANARITY_POINTS_INNER, &pr) == VF_E_INVALID_ARG, "NULL pair refused");
    vf_planarity_config bad = cfg;
    bad.threshold = NAN;
    CHECK(vf_planarity_score(g_ctx, f, 3, NULL, &bad, &r) == VF_E_INVALID_ARG, "NaN threshold refused");
    bad = cfg;
    bad.points = (vf_planarity_points)7;
    CHECK(vf_planarity_score(g_ctx, f, 3, NULL, &bad, &r) == VF_E_INVALID_ARG, "bad point set refused");
    bad = cfg;
    bad.min_pairs = 0;
    CHECK(vf_planarity_score(g_ctx, f, 3, NULL, &bad, &r) == VF_E_INVALID_ARG, "min_pairs 0 refused");
}

/* ---- real frames ------------------------------------------------------------------------------ */

static vf_model *load_model(const char *dir, const char *name) { return test_load_model(g_ctx, dir, name); }

static int load_rgb(const char *path, plane_img *out) {
    out->p = test_load_pixels(g_ctx, path, 3, &out->w, &out->h);
    return out->p ? 0 : -1;
}

static int landmarks(vf_model *det, vf_model *mesh, const plane_img *a, vf_face_landmarks *lm) {
    vf_image v = {a->w, a->h, (size_t)a->w * 3, VF_PIXEL_RGB8, a->p};
    vf_face_box faces[VF_DETECT_MAX_FACES];
    int nf = 0;
    if (vf_detect_faces(g_ctx, det, &v, NULL, faces, &nf) || nf < 1) return -1;
    return vf_face_landmarks_run(g_ctx, mesh, &v, &faces[0], lm) ? -1 : 0;
}

static void test_real(vf_model *det, vf_model *mesh, const char *data) {
    static const char *times[] = {"00.50", "01.69", "02.87", "04.06", "05.25", "06.43", "07.62", "08.80", "09.99", "11.18"};
    enum { N = 10, T = 9 };
    vf_face_landmarks lm[N], seq[T];
    plane_img still[N];
    int n = 0;
    for (int t = 0; t < N; t++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/pad/apfol_liveness/frames/real2_t%s.jpg", data, times[t]);
        CHECK(load_rgb(p, &still[n]) == 0, "decode %s", p);
        if (g_fail) return;
        CHECK(landmarks(det, mesh, &still[n], &lm[n]) == 0, "face in %s", p);
        n++;
    }
    /* the live head: its own frames */
    vf_planarity_result r;
    CHECK(vf_planarity_score(g_ctx, lm, n, NULL, NULL, &r) == VF_OK && r.outcome == VF_PLANARITY_3D,
          "real2 frames: outcome %d score %.3f pairs %d yaw range %.1f", r.outcome, r.score, r.pairs, r.yaw_range);
    printf("real2 frames: score %.3f (h %.3f, r %.3f, motion %.3f), %d pairs, yaw range %.1f\n", r.score, r.homography, r.rigid,
           r.motion, r.pairs, r.yaw_range);
    /* the same frames as photos, each tilted -20..+20 degrees in yaw with some pitch */
    uint32_t rng = 7;
    for (int k = 0; k < n; k += 3) {
        double fx = 0.5 * (lm[k].box[0] + lm[k].box[2]), fy = 0.5 * (lm[k].box[1] + lm[k].box[3]);
        double a = 210.0 / (lm[k].box[2] - lm[k].box[0]);
        float pose[T][2];
        int m = 0;
        for (int t = 0; t < T; t++) {
            double yaw = -20 + 40.0 * t / (T - 1), pitch = 8 * sin(0.9 * t);
            plane_img o;
            plane_render(&still[k], a, fx, fy, yaw, pitch, 10 * sin(0.7 * t), 6 * cos(0.5 * t), PLANE_FOCAL, 3.0, &rng, &o);
            if (landmarks(det, mesh, &o, &seq[m]) == 0) {
                pose[m][0] = (float)yaw;
                pose[m][1] = (float)pitch;
                m++;
            }
            free(o.p);
        }
        CHECK(m >= T - 1, "t%s as a plane: face found in %d of %d frames", times[k], m, T);
        vf_planarity_result g, own;
        CHECK(vf_planarity_score(g_ctx, seq, m, (const float(*)[2])pose, NULL, &g) == VF_OK && g.outcome == VF_PLANARITY_FLAT,
              "t%s as a plane, true pose: outcome %d score %.3f pairs %d", times[k], g.outcome, g.score, g.pairs);
        CHECK(vf_planarity_score(g_ctx, seq, m, NULL, NULL, &own) == VF_OK && own.outcome != VF_PLANARITY_3D,
              "t%s as a plane, mesh pose: outcome %d score %.3f pairs %d", times[k], own.outcome, own.score, own.pairs);
        printf("t%s as a plane: true pose score %.3f (%d pairs); mesh pose: outcome %d, yaw range %.1f, score %.3f (%d pairs)\n",
               times[k], g.score, g.pairs, own.outcome, own.yaw_range, own.score, own.pairs);
    }
    for (int k = 0; k < n; k++) free(still[k].p);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: test_planarity MODELS_DIR DATA_DIR\n"); return 2; }
    vf_context_create(NULL, &g_ctx);
    test_synthetic();
    char probe[2048];
    snprintf(probe, sizeof probe, "%s/pad/apfol_liveness/frames/real2_t05.25.jpg", argv[2]);
    FILE *pf = fopen(probe, "rb");
    vf_model *det = load_model(argv[1], "blazeface-front.vfm"), *mesh = load_model(argv[1], "facemesh.vfm");
    CHECK(det && mesh, "detector and mesh models in %s", argv[1]);
    if (!pf) {
        printf("SKIP: real frames (no ../shared/data)\n%d passed, %d failed\n", g_pass, g_fail);
        return g_fail ? 1 : 77;
    }
    fclose(pf);
    if (det && mesh) test_real(det, mesh, argv[2]);
    vf_model_free(det);
    vf_model_free(mesh);
    vf_context_free(g_ctx);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
