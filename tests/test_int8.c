/* test_int8.c - the cost of reduced-precision weights (int8, f16 or a mix chosen per tensor,
 * models/FORMAT.md), bounded against the f32 model each file was converted from, stage by stage on
 * real images: every other stage runs f32, so each bound measures one model.
 *
 *   test_int8 [--swap ROLE=FILE.vfm[,FILE.vfm...]]... [--calib MESH.vfm=OUT] MODELS PAD_MODELS IMAGE...
 *
 * For every role whose file is NAME-int8.vfm or NAME-f16.vfm (vf_model_roles), NAME.vfm in the same
 * directory is its f32 reference. With --swap only the files named are compared, each in place of
 * its role's file (tools/convert/select-precision.mjs measures many candidates in one run: the
 * images are decoded and the f32 pipeline runs once); a PAD role swapped
 * alone runs with the other PAD role's f32 reference). Bounds (issue 11), in pixels of the image
 * scaled to 640 wide:
 *   detector: the same faces (each f32 face paired with the nearest reduced one); box corners and
 *     keypoints within 1 px;
 *   mesh: the five alignment points and all 468 points within 0.5 px (face presence reported). The
 *     fused live score the f32 PAD models give on its landmarks is reported with its noise floor,
 *     not bounded: the MiniFASNet crops are placed by the box and the networks' slope is steep
 *     (0.1 px moves the score by up to 0.04; docs/PIPELINE.md PAD; issue 11's PAD figure is eval-pad's);
 *   embedder: cosine >= 0.995 per image;
 *   liveness: the fused score |delta| <= 0.02.
 * --calib: a mesh with extra outputs (tools/convert/calibrate.mjs) runs on every first face; those
 * outputs are appended to OUT as f32, for the converter's error-feedback rounding.
 * The last lines are the worst figures of each file as JSON. Exit 0 pass, 1 fail, 77 skip (no reduced role, or no
 * image could be read). */
#include "face/face.h"
#include "image/image.h"
#include "test_util.h"

#include <math.h>

static int g_fail;

/* NAME.vfm for NAME-int8.vfm or NAME-f16.vfm (returns 1), else the file itself (0). */
static int ref_name(const char *file, char *ref, size_t n) {
    const char *dash = strrchr(file, '-');
    if (dash && (!strcmp(dash, "-int8.vfm") || !strcmp(dash, "-f16.vfm"))) {
        snprintf(ref, n, "%.*s.vfm", (int)(dash - file), file);
        return 1;
    }
    snprintf(ref, n, "%s", file);
    return 0;
}

static vf_model *load_path(vf_context *ctx, const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return test_load_model(ctx, ".", path);
    char dir[1024];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return test_load_model(ctx, dir[0] ? dir : "/", slash + 1);
}

/* A reduced model under test and its worst figures against the f32 reference of its role. */
typedef struct cand {
    int role;
    const char *name; /* file, for the messages */
    vf_model *m;
    float box, five, mesh, presence, cos, live, live_floor;
    int count_diff, fails;
} cand;

#define MAX_CANDS 512

static void fail(cand *c, const char *img, const char *fmt, double v) {
    printf("FAIL %s: %s ", img, c->name);
    printf(fmt, v);
    printf("\n");
    c->fails++;
    g_fail++;
}

static float dist(const float *a, const float *b) { return hypotf(a[0] - b[0], a[1] - b[1]); }

/* The largest corner or keypoint move between two boxes, in image pixels. */
static float box_move(const vf_face_box *a, const vf_face_box *b) {
    float d = fmaxf(fmaxf(fabsf(a->x0 - b->x0), fabsf(a->y0 - b->y0)), fmaxf(fabsf(a->x1 - b->x1), fabsf(a->y1 - b->y1)));
    for (int j = 0; j < VF_DETECT_KEYPOINTS; j++) d = fmaxf(d, dist(a->kp[j], b->kp[j]));
    return d;
}

/* Worst move of the f32 faces f[] against the reduced ones q[], each paired with its nearest
 * unpaired one (faces of similar score may swap places in the list: pairing by index would
 * measure the distance between two faces). */
static float faces_move(const vf_face_box *f, int nf, const vf_face_box *q, int nq) {
    bool used[VF_DETECT_MAX_FACES] = {0};
    float worst = 0;
    for (int k = 0; k < nf; k++) {
        int best = -1;
        float bd = INFINITY;
        for (int j = 0; j < nq; j++) {
            float d = box_move(&f[k], &q[j]);
            if (!used[j] && d < bd) { bd = d; best = j; }
        }
        if (best < 0) break;
        used[best] = true;
        worst = fmaxf(worst, bd);
    }
    return worst;
}

/* --swap ROLE=FILE[,FILE...]: candidates for a role (the files are kept in argv). */
static int parse_swap(vf_context *ctx, char *arg, cand *c, int *n) {
    char *eq = strchr(arg, '=');
    if (!eq) return -1;
    *eq = 0;
    int role = vf_model_role_find(arg);
    if (role < 0) return -1;
    for (char *save = NULL, *f = strtok_r(eq + 1, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        if (*n >= MAX_CANDS) return -1;
        c[*n] = (cand){role, f, load_path(ctx, f), 0, 0, 0, 0, 1, 0, 0, 0, 0};
        if (!c[*n].m) { /* worst figures everywhere: a file that does not load is no candidate */
            printf("FAIL: %s missing or invalid\n", f);
            c[*n].box = c[*n].five = c[*n].mesh = c[*n].live = 1e9f;
            c[*n].cos = -1;
            c[*n].fails++;
            g_fail++;
        }
        (*n)++;
    }
    return 0;
}

int main(int argc, char **argv) {
    vf_context *ctx;
    vf_context_create(NULL, &ctx);
    static cand c[MAX_CANDS];
    int nc = 0, a = 1;
    vf_model *calib = NULL;
    FILE *calib_out = NULL;
    for (; a + 1 < argc && (!strcmp(argv[a], "--swap") || !strcmp(argv[a], "--calib")); a += 2) {
        if (!strcmp(argv[a], "--calib")) {
            char *eq = strchr(argv[a + 1], '=');
            if (eq) *eq = 0;
            if (!eq || !(calib = load_path(ctx, argv[a + 1])) || !(calib_out = fopen(eq + 1, "wb"))) { fprintf(stderr, "test_int8: --calib wants MESH.vfm=OUT\n"); return 2; }
            continue;
        }
        if (parse_swap(ctx, argv[a + 1], c, &nc)) { fprintf(stderr, "test_int8: --swap wants ROLE=FILE.vfm[,FILE.vfm...], got %s\n", argv[a + 1]); return 2; }
    }
    if (argc - a < 3) { fprintf(stderr, "usage: test_int8 [--swap ROLE=FILE.vfm[,FILE.vfm...]]... MODELS PAD_MODELS IMAGE...\n"); return 2; }
    const char *models = argv[a], *pad = argv[a + 1];
    const vf_model_role *roles = vf_model_roles(NULL);
    vf_model *ref[VF_ROLE_COUNT];
    bool swapping = nc > 0;
    for (int r = 0; r < VF_ROLE_COUNT; r++) {
        char refn[256];
        int reduced = ref_name(roles[r].file, refn, sizeof refn);
        const char *dir = roles[r].fetched ? pad : models;
        ref[r] = test_load_model(ctx, dir, refn);
        if (swapping || !reduced) continue;
        vf_model *m = test_load_model(ctx, dir, roles[r].file);
        if (!m || !ref[r]) {
            printf("%s: %s/%s or %s missing or invalid\n", roles[r].name, dir, roles[r].file, refn);
            if (!roles[r].fetched) g_fail++; /* committed models must be there */
            vf_model_free(m);
            continue;
        }
        c[nc++] = (cand){r, roles[r].file, m, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    }
    for (int k = 0; k < nc; k++)
        if (c[k].m && !ref[c[k].role]) { printf("FAIL: no f32 reference for %s\n", c[k].name); g_fail++; c[k].m = NULL; }
    if (!nc) { printf("SKIP: no int8 or f16 role\n"); return g_fail ? 1 : 77; }
    if (!ref[VF_ROLE_DETECTOR] || !ref[VF_ROLE_MESH]) { printf("FAIL: no detector or mesh\n"); return 1; }
    /* the f32 pipeline every stage runs on */
    vf_liveness_models live32;
    vf_liveness_models_init(&live32);
    bool pad_ok = true;
    for (int k = 0; k < live32.n; k++) pad_ok &= (live32.m[k] = ref[live32.role[k]]) != NULL;
    vf_pad_scratch *scratch = malloc(vf_pad_scratch_size());

    int images = 0, faces = 0;
    for (int i = a + 2; i < argc; i++) {
        int w, h;
        uint8_t *px = test_load_pixels(ctx, argv[i], 3, &w, &h);
        if (!px) continue; /* e.g. a WebP under a .jpg name */
        images++;
        vf_image img = {w, h, (size_t)w * 3, VF_PIXEL_RGB8, px};
        float to640 = 640.0f / (float)w; /* pixel differences in a 640-wide frame */
        vf_face_box f[VF_DETECT_MAX_FACES], q[VF_DETECT_MAX_FACES];
        int nf = 0, nq = 0;
        if (vf_detect_faces(ctx, ref[VF_ROLE_DETECTOR], &img, NULL, f, &nf)) { printf("FAIL %s: detect\n", argv[i]); g_fail++; }
        for (int k = 0; k < nc; k++) {
            if (c[k].role != VF_ROLE_DETECTOR || !c[k].m) continue;
            vf_detect_faces(ctx, c[k].m, &img, NULL, q, &nq);
            if (nq != nf) { fail(&c[k], argv[i], "finds %.0f faces, not as many as f32", nq); c[k].count_diff++; }
            float d = faces_move(f, nf, q, nq) * to640;
            c[k].box = fmaxf(c[k].box, d);
            if (!(d <= 1.0f)) fail(&c[k], argv[i], "a face moved %.3f px", d);
        }
        if (nf == 0) { free(px); continue; }
        faces++;
        vf_face_landmarks lm, lq;
        if (vf_face_landmarks_run(ctx, ref[VF_ROLE_MESH], &img, &f[0], &lm)) { printf("FAIL %s: mesh\n", argv[i]); g_fail++; free(px); continue; }
        if (calib && !vf_face_landmarks_run(ctx, calib, &img, &f[0], &lq))
            for (int o = 0; o < vf_model_output_count(calib); o++) {
                vf_tensor_info t;
                vf_model_output(calib, o, &t);
                if (t.count != VF_MESH_POINTS * 3 && t.count != 1) fwrite(t.data, sizeof(float), t.count, calib_out);
            }
        float e32[VF_EMBED_MAX_DIM], eq[VF_EMBED_MAX_DIM];
        int d32 = -1, dq = 0;
        vf_liveness_score s32, sq;
        int have_s32 = -1;
        for (int k = 0; k < nc; k++) {
            cand *ck = &c[k];
            if (!ck->m) continue;
            if (ck->role == VF_ROLE_MESH && !vf_face_landmarks_run(ctx, ck->m, &img, &f[0], &lq)) {
                float d5 = 0, dm = 0;
                for (int j = 0; j < 5; j++) d5 = fmaxf(d5, dist(lq.five[j], lm.five[j]) * to640);
                for (int j = 0; j < VF_MESH_POINTS; j++) dm = fmaxf(dm, dist(lq.mesh[j], lm.mesh[j]) * to640);
                ck->five = fmaxf(ck->five, d5);
                ck->mesh = fmaxf(ck->mesh, dm);
                ck->presence = fmaxf(ck->presence, fabsf(lq.presence - lm.presence));
                if (!(d5 <= 0.5f)) fail(ck, argv[i], "moved an alignment point %.3f px", d5);
                /* every point, not only the five: the PAD crops and cues are placed by the mesh */
                if (!(dm <= 0.5f)) fail(ck, argv[i], "moved a mesh point %.3f px", dm);
                if (pad_ok) {
                    if (have_s32 < 0) have_s32 = !vf_liveness_score_face(ctx, &live32, &img, &lm, scratch, &s32);
                    vf_face_landmarks moved = lm; /* the noise floor: the f32 box 0.01 px to the right */
                    moved.box[0] += 0.01f / to640;
                    moved.box[2] += 0.01f / to640;
                    vf_liveness_score sn;
                    bool ok = have_s32 && !vf_liveness_score_face(ctx, &live32, &img, &lq, scratch, &sq) &&
                              !vf_liveness_score_face(ctx, &live32, &img, &moved, scratch, &sn);
                    ck->live = fmaxf(ck->live, ok ? fabsf(sq.live - s32.live) : 1.0f);
                    ck->live_floor = fmaxf(ck->live_floor, ok ? fabsf(sn.live - s32.live) : 1.0f);
                }
            } else if (ck->role == VF_ROLE_EMBEDDER) {
                if (d32 < 0 && (!ref[VF_ROLE_EMBEDDER] || vf_embed_face(ctx, ref[VF_ROLE_EMBEDDER], &img, lm.five, e32, &d32))) d32 = 0;
                if (!d32 || vf_embed_face(ctx, ck->m, &img, lm.five, eq, &dq) || dq != d32) { ck->cos = -1; fail(ck, argv[i], "embedding failed", 0); continue; }
                float cs = vf_embed_similarity(e32, eq, d32);
                ck->cos = fminf(ck->cos, cs);
                if (!(cs >= 0.995f)) fail(ck, argv[i], "embedding cosine %.5f", cs);
            } else if (roles[ck->role].stage && !strcmp(roles[ck->role].stage, "liveness") && pad_ok) {
                if (have_s32 < 0) have_s32 = !vf_liveness_score_face(ctx, &live32, &img, &lm, scratch, &s32);
                vf_liveness_models lq8 = live32; /* the other PAD roles stay f32 */
                for (int j = 0; j < lq8.n; j++)
                    if (lq8.role[j] == ck->role) lq8.m[j] = ck->m;
                /* test mode: every reduced PAD role together (the fused score of the shipped files) */
                for (int j = 0; !swapping && j < nc; j++)
                    for (int r = 0; r < lq8.n; r++)
                        if (c[j].m && lq8.role[r] == c[j].role) lq8.m[r] = c[j].m;
                if (!have_s32 || vf_liveness_score_face(ctx, &lq8, &img, &lm, scratch, &sq)) { ck->live = 1; fail(ck, argv[i], "liveness failed", 0); continue; }
                float d = fabsf(sq.live - s32.live);
                ck->live = fmaxf(ck->live, d);
                if (!(d <= 0.02f)) fail(ck, argv[i], "live score moved %.4f", d);
            }
        }
        free(px);
    }
    free(scratch);
    printf("%d images, %d with a face\n", images, faces);
    for (int k = 0; k < nc; k++) {
        const cand *ck = &c[k];
        const char *st = roles[ck->role].stage;
        printf("%s (%s): worst ", ck->name, roles[ck->role].name);
        if (ck->role == VF_ROLE_DETECTOR) printf("box or keypoint move %.3f px, %d images with another face count", ck->box, ck->count_diff);
        else if (ck->role == VF_ROLE_MESH)
            printf("alignment point move %.3f px (all 468: %.3f px), face presence |delta| %.4f; live score on its landmarks |delta| %.4f "
                   "(reported; the f32 box moved 0.01 px: %.4f)", ck->five, ck->mesh, ck->presence, ck->live, ck->live_floor);
        else if (ck->role == VF_ROLE_EMBEDDER) printf("embedding cosine %.5f", ck->cos);
        else if (st && !strcmp(st, "liveness")) printf("live score |delta| %.4f%s", ck->live, pad_ok ? "" : " (not run: no f32 PAD models)");
        printf("%s\n", ck->fails ? " FAIL" : "");
    }
    if (!images) { printf("SKIP: no image read\n"); return 77; }
    printf("%s\n", g_fail ? "FAIL" : "PASS");
    for (int k = 0; k < nc; k++)
        printf("{\"file\":\"%s\",\"images\":%d,\"faces\":%d,\"detector_px\":%.4f,\"detector_count_differs\":%d,\"five_px\":%.4f,"
               "\"mesh_px\":%.4f,\"presence\":%.5f,\"cosine\":%.6f,\"live\":%.5f,\"live_floor\":%.5f,\"failures\":%d}\n", c[k].name, images, faces,
               c[k].box, c[k].count_diff, c[k].five, c[k].mesh, c[k].presence, c[k].cos, c[k].live, c[k].live_floor, c[k].fails);
    if (calib_out) fclose(calib_out);
    vf_model_free(calib);
    return g_fail ? 1 : 0;
}
