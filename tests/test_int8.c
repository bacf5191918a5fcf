/* test_int8.c - the cost of reduced-precision weights (int8, models/FORMAT.md dtype 3, or f16),
 * bounded against the f32 model each file was converted from, stage by stage on real images:
 * every other stage runs f32, so each bound measures one model.
 *
 *   test_int8 MODELS PAD_MODELS IMAGE...
 *
 * For every role whose file is NAME-int8.vfm or NAME-f16.vfm (vf_model_roles), NAME.vfm in the same
 * directory is its f32 reference. Bounds (issue 11), in pixels of the image scaled to 640 wide:
 *   detector: the same faces; box corners and keypoints within 1 px;
 *   mesh: the five alignment points within 0.5 px (all 468 points reported);
 *   embedder: cosine >= 0.995 per image;
 *   liveness: the fused score |delta| <= 0.02 (PAD roles swapped together).
 * Exit 0 pass, 1 fail, 77 skip (no int8 role, or no image could be read). */
#include "face/face.h"
#include "image/image.h"
#include "test_util.h"

#include <math.h>

static int g_fail;

typedef struct pair { vf_model *f32, *q8; } pair;

/* The role's reduced model and its f32 reference, or both NULL when the role is f32. */
static pair load_pair(vf_context *ctx, const char *models, const char *pad, int role) {
    const vf_model_role *r = &vf_model_roles(NULL)[role];
    pair p = {0};
    const char *dash = strrchr(r->file, '-');
    if (!dash || (strcmp(dash, "-int8.vfm") && strcmp(dash, "-f16.vfm"))) return p;
    char ref[256];
    snprintf(ref, sizeof ref, "%.*s.vfm", (int)(dash - r->file), r->file);
    const char *dir = r->fetched ? pad : models;
    p.q8 = test_load_model(ctx, dir, r->file);
    p.f32 = test_load_model(ctx, dir, ref);
    if (!p.q8 || !p.f32) {
        printf("%s: %s/%s or %s missing or invalid\n", r->name, dir, r->file, ref);
        if (!r->fetched) g_fail++; /* committed models must be there */
        vf_model_free(p.q8);
        vf_model_free(p.f32);
        p.q8 = p.f32 = NULL;
    }
    return p;
}

static float dist(const float *a, const float *b) { return hypotf(a[0] - b[0], a[1] - b[1]); }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: test_int8 MODELS PAD_MODELS IMAGE...\n"); return 2; }
    vf_context *ctx;
    vf_context_create(NULL, &ctx);
    const char *models = argv[1], *pad = argv[2];
    pair det = load_pair(ctx, models, pad, VF_ROLE_DETECTOR), mesh = load_pair(ctx, models, pad, VF_ROLE_MESH);
    pair emb = load_pair(ctx, models, pad, VF_ROLE_EMBEDDER);
    vf_liveness_models live32, live8;
    vf_liveness_models_init(&live32);
    vf_liveness_models_init(&live8);
    int n_pad = 0;
    for (int k = 0; k < live32.n; k++) {
        pair p = load_pair(ctx, models, pad, live32.role[k]);
        live32.m[k] = p.f32;
        live8.m[k] = p.q8;
        n_pad += p.q8 != NULL;
    }
    /* the f32 pipeline the swapped stage runs on: the reference where the role is int8 */
    vf_model *det32 = det.f32, *mesh32 = mesh.f32;
    if (!det32) det32 = test_load_model(ctx, models, vf_model_roles(NULL)[VF_ROLE_DETECTOR].file);
    if (!mesh32) mesh32 = test_load_model(ctx, models, vf_model_roles(NULL)[VF_ROLE_MESH].file);
    if (!det.q8 && !mesh.q8 && !emb.q8 && !n_pad) { printf("SKIP: no int8 or f16 role\n"); return g_fail ? 1 : 77; }
    if (!det32 || !mesh32) { printf("FAIL: no detector or mesh\n"); return 1; }
    vf_pad_scratch *scratch = malloc(vf_pad_scratch_size());

    float w_box = 0, w_five = 0, w_mesh = 0, w_cos = 1, w_live = 0;
    int images = 0, faces = 0;
    for (int i = 3; i < argc; i++) {
        int w, h;
        uint8_t *px = test_load_pixels(ctx, argv[i], 3, &w, &h);
        if (!px) continue; /* e.g. a WebP under a .jpg name */
        images++;
        vf_image img = {w, h, (size_t)w * 3, VF_PIXEL_RGB8, px};
        float to640 = 640.0f / (float)w; /* pixel differences in a 640-wide frame */
        vf_face_box f[VF_DETECT_MAX_FACES], q[VF_DETECT_MAX_FACES];
        int nf = 0, nq = 0;
        if (vf_detect_faces(ctx, det32, &img, NULL, f, &nf)) { printf("FAIL %s: detect\n", argv[i]); g_fail++; }
        if (det.q8) {
            vf_detect_faces(ctx, det.q8, &img, NULL, q, &nq);
            if (nq != nf) { printf("FAIL %s: int8 detector finds %d faces, f32 %d\n", argv[i], nq, nf); g_fail++; }
            for (int k = 0; k < nf && k < nq; k++) {
                float d = fmaxf(fmaxf(fabsf(q[k].x0 - f[k].x0), fabsf(q[k].y0 - f[k].y0)), fmaxf(fabsf(q[k].x1 - f[k].x1), fabsf(q[k].y1 - f[k].y1)));
                for (int j = 0; j < VF_DETECT_KEYPOINTS; j++) d = fmaxf(d, dist(q[k].kp[j], f[k].kp[j]));
                d *= to640;
                w_box = fmaxf(w_box, d);
                if (!(d <= 1.0f)) { printf("FAIL %s: face %d moved %.3f px\n", argv[i], k, d); g_fail++; }
            }
        }
        if (nf == 0) { free(px); continue; }
        faces++;
        vf_face_landmarks lm, lq;
        if (vf_face_landmarks_run(ctx, mesh32, &img, &f[0], &lm)) { printf("FAIL %s: mesh\n", argv[i]); g_fail++; free(px); continue; }
        if (mesh.q8 && !vf_face_landmarks_run(ctx, mesh.q8, &img, &f[0], &lq)) {
            float d5 = 0, dm = 0;
            for (int j = 0; j < 5; j++) d5 = fmaxf(d5, dist(lq.five[j], lm.five[j]) * to640);
            for (int j = 0; j < VF_MESH_POINTS; j++) dm = fmaxf(dm, dist(lq.mesh[j], lm.mesh[j]) * to640);
            w_five = fmaxf(w_five, d5);
            w_mesh = fmaxf(w_mesh, dm);
            if (!(d5 <= 0.5f)) { printf("FAIL %s: int8 mesh moved an alignment point %.3f px\n", argv[i], d5); g_fail++; }
        }
        if (emb.q8) {
            float a[VF_EMBED_MAX_DIM], b[VF_EMBED_MAX_DIM];
            int da = 0, db = 0;
            if (vf_embed_face(ctx, emb.f32, &img, lm.five, a, &da) || vf_embed_face(ctx, emb.q8, &img, lm.five, b, &db) || da != db) {
                printf("FAIL %s: embed\n", argv[i]);
                g_fail++;
            } else {
                float c = vf_embed_similarity(a, b, da);
                w_cos = fminf(w_cos, c);
                if (!(c >= 0.995f)) { printf("FAIL %s: embedding cosine %.5f\n", argv[i], c); g_fail++; }
            }
        }
        if (n_pad == live32.n) {
            vf_liveness_score s32, s8;
            if (vf_liveness_score_face(ctx, &live32, &img, &lm, scratch, &s32) || vf_liveness_score_face(ctx, &live8, &img, &lm, scratch, &s8)) {
                printf("FAIL %s: liveness\n", argv[i]);
                g_fail++;
            } else {
                float d = fabsf(s8.live - s32.live);
                w_live = fmaxf(w_live, d);
                if (!(d <= 0.02f)) { printf("FAIL %s: live score %.4f (f32 %.4f)\n", argv[i], s8.live, s32.live); g_fail++; }
            }
        }
        free(px);
    }
    printf("%d images, %d with a face; worst: detector %.3f px%s, mesh five points %.3f px, all 468 %.3f px%s, "
           "embedding cosine %.5f%s, live score |delta| %.4f%s\n", images, faces, w_box, det.q8 ? "" : " (f32)", w_five, w_mesh,
           mesh.q8 ? "" : " (f32)", w_cos, emb.q8 ? "" : " (f32)", w_live, n_pad == live32.n ? "" : " (not run)");
    if (!images) { printf("SKIP: no image read\n"); return 77; }
    printf("%s\n", g_fail ? "FAIL" : "PASS");
    free(scratch);
    return g_fail ? 1 : 0;
}
