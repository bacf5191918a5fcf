/* test_embed_parity.c - a converted embedder against its source runtime on real aligned face crops.
 *
 *   test_embed_parity MODEL.vfm GOLDEN.txt DATA_DIR BACKEND [MIN_COS] compare; exit 77 (skip)
 *                                                                      without the data or the model
 *   test_embed_parity --write MODELS_DIR MODEL.vfm DATA_DIR OUT_DIR    the crops, for the oracle
 *
 * The golden (tests/golden/README.md, written by `node tools/golden.mjs --faces`) holds, per case,
 * a photo of ../shared/data/faces, the 5 points its crop was aligned on (our detector and mesh on
 * the reference backend when the golden was written), a checksum of the crop, and the source
 * runtime's raw output on that crop. --write computes those points and crops (the embedder's own
 * crop, vf_embed_crop_of) and writes OUT_DIR/cases.txt and OUT_DIR/case<k>.f32 (the NHWC input
 * tensor, little-endian float32) for the oracle to run. The test warps the crop again from the
 * recorded points, checks that it is the crop the oracle saw (checksum within 1e-5 relative: a change
 * of the warp means the golden must be rewritten), runs the model on BACKEND and requires cosine
 * >= 0.9999 (or MIN_COS: 0.995 for an int8 file against its f32 source's golden) between our
 * L2-normalised embedding and the golden's. That is the raw model: one crop (vf_embed_crop.flip 0).
 *
 *   test_embed_parity --flip MODEL.vfm GOLDEN.txt DATA_DIR BACKEND
 *
 * checks the pipeline's flip test-time augmentation on the same crops: vf_embed_run_crop with
 * flip must give normalise(raw(crop) + raw(mirror)), raw(crop) being the golden's (the oracle's)
 * output and the mirror made here, independently of embed.c, by reversing each row of the crop
 * (cosine >= 0.9999 for f32; the int8 file's raw(crop) differs from the oracle's by its
 * quantisation, hence MIN_COS); and, so that an embedding without the mirror cannot pass, the
 * plain one-crop embedding must be further than that from the expected sum on every case. */
#include "face/face.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_util.h"

#define MIN_COSINE 0.9999
#define MAX_CASES 32

/* The photos: two of one person, four others, from every source of faces/ (JPEG and PNG). */
static const char *const CASES[] = {
    "faces/deepface/img1.jpg",
    "faces/deepface/img2.jpg",
    "faces/deepface/img3.jpg",
    "faces/face_recognition/examples/alex-lacamoire.png",
    "faces/inspireface/bulk/Rob_Lowe_0001.jpg",
    "faces/facenet_pytorch/test_images_aligned/angelina_jolie/1.png",
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

static vf_context *g_ctx;

static int load_image(const char *data, const char *rel, vf_image_buffer *buf) {
    char path[2048];
    snprintf(path, sizeof path, "%.1000s/%.1000s", data, rel);
    size_t n;
    uint8_t *b = read_file(path, &n);
    vf_image_decode_options o = vf_image_decode_default_options();
    o.format = VF_PIXEL_RGB8;
    int rc = !b || vf_image_decode(g_ctx, b, n, &o, buf, NULL) ? -1 : 0;
    free(b);
    return rc;
}

static vf_model *load_model(const char *path, vf_backend be) {
    size_t n;
    uint8_t *b = read_file(path, &n);
    vf_model_options mo = vf_model_default_options();
    mo.backend = be;
    vf_model *m = NULL;
    if (b && vf_model_load(g_ctx, b, n, &mo, &m)) {
        fprintf(stderr, "%s: %s\n", path, vf_context_last_error(g_ctx));
        m = NULL;
    }
    free(b);
    return m;
}

/* A checksum of the crop: its values weighted 1..7 by flat index mod 7 (7 is prime to the 3
 * channels, so a swapped channel order or a shifted crop changes it). */
static double input_sum(vf_model *m) {
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    double s = 0;
    for (size_t i = 0; i < in.count; i++) s += in.data[i] * (double)(1 + i % 7);
    return s;
}

/* --write: detector + mesh (reference backend) on each photo, the embedder's crop, written out. */
static int write_crops(const char *models, const char *model_path, const char *data, const char *out) {
    char p[2048];
    snprintf(p, sizeof p, "%s/blazeface-front.vfm", models);
    vf_model *det = load_model(p, VF_BACKEND_REF);
    snprintf(p, sizeof p, "%s/facemesh.vfm", models);
    vf_model *mesh = load_model(p, VF_BACKEND_REF), *em = load_model(model_path, VF_BACKEND_REF);
    vf_embed_crop crop;
    if (!det || !mesh || !em || vf_embed_crop_of(g_ctx, em, &crop)) {
        fprintf(stderr, "test_embed_parity: models: %s\n", vf_context_last_error(g_ctx));
        return 2;
    }
    crop.flip = 0; /* the oracle runs the model on the crop as written */
    snprintf(p, sizeof p, "%s/cases.txt", out);
    FILE *cf = fopen(p, "w");
    if (!cf) { fprintf(stderr, "test_embed_parity: cannot write %s\n", p); return 2; }
    fprintf(cf, "# crop %d range %.9g %.9g layout %s\n", (int)crop.size, crop.lo, crop.hi, crop.order == VF_CHANNELS_BGR ? "BGR" : "RGB");
    int rc = 0;
    for (int k = 0; k < N_CASES && !rc; k++) {
        vf_image_buffer buf;
        vf_face_box faces[VF_DETECT_MAX_FACES];
        vf_face_landmarks lm;
        int nf = 0, dim;
        float emb[VF_EMBED_MAX_DIM];
        if (load_image(data, CASES[k], &buf)) { fprintf(stderr, "test_embed_parity: cannot read %s\n", CASES[k]); rc = 2; break; }
        vf_image img = vf_image_buffer_view(&buf);
        if (vf_detect_faces(g_ctx, det, &img, NULL, faces, &nf) || nf < 1 || vf_face_landmarks_run(g_ctx, mesh, &img, &faces[0], &lm) ||
            vf_embed_run_crop(g_ctx, em, &crop, &img, lm.five, emb, &dim)) {
            fprintf(stderr, "test_embed_parity: %s: no face or %s\n", CASES[k], vf_context_last_error(g_ctx));
            rc = 2;
        } else {
            vf_tensor_info in;
            vf_model_input(em, 0, &in);
            snprintf(p, sizeof p, "%s/case%d.f32", out, k);
            FILE *f = fopen(p, "wb");
            if (!f || fwrite(in.data, sizeof(float), in.count, f) != in.count) rc = 2;
            if (f) fclose(f);
            fprintf(cf, "%s", CASES[k]);
            for (int i = 0; i < 5; i++) fprintf(cf, " %.9g %.9g", lm.five[i][0], lm.five[i][1]);
            fprintf(cf, " %.17g\n", input_sum(em));
        }
        vf_image_buffer_free(&buf);
    }
    fclose(cf);
    vf_model_free(det);
    vf_model_free(mesh);
    vf_model_free(em);
    return rc;
}

typedef struct golden_case { char path[512]; float five[5][2]; double sum; float out[VF_EMBED_MAX_DIM]; int dim; } golden_case;

/* "case PATH x0 y0 .. x4 y4 SUM" then "out DIM v..." lines; '#' lines are comments. */
static int read_golden(const char *path, golden_case *c, int max) {
    size_t n;
    char *text = (char *)read_file(path, &n), *save = NULL;
    if (!text) return -1;
    int k = -1;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;
        if (!strncmp(line, "case ", 5)) {
            if (++k >= max) break;
            if (sscanf(line + 5, "%511s %g %g %g %g %g %g %g %g %g %g %lg", c[k].path, &c[k].five[0][0], &c[k].five[0][1], &c[k].five[1][0],
                       &c[k].five[1][1], &c[k].five[2][0], &c[k].five[2][1], &c[k].five[3][0], &c[k].five[3][1], &c[k].five[4][0],
                       &c[k].five[4][1], &c[k].sum) != 12) { k = -2; break; }
            c[k].dim = 0;
        } else if (!strncmp(line, "out ", 4) && k >= 0) {
            char *s = line + 4, *e;
            long dim = strtol(s, &e, 10);
            if (dim < 1 || dim > VF_EMBED_MAX_DIM) { k = -2; break; }
            for (long i = 0; i < dim && k >= 0; i++) {
                s = e;
                c[k].out[i] = strtof(s, &e);
                if (e == s) k = -2;
            }
            if (k < 0) break;
            c[k].dim = (int)dim;
        }
    }
    free(text);
    return k < -1 ? -1 : k + 1;
}

/* The model's raw output of `dim` values on the tensor mirrored left-right here (each row of the
 * NHWC crop reversed), added to acc. */
static int add_mirror_output(vf_model *m, const float *crop, float *acc, int dim) {
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    int32_t n = in.dims[1];
    for (int32_t y = 0; y < n; y++)
        for (int32_t x = 0; x < n; x++)
            memcpy(in.data + ((size_t)y * n + x) * 3, crop + ((size_t)y * n + (n - 1 - x)) * 3, 3 * sizeof(float));
    if (vf_model_invoke(m)) return -1;
    for (int i = 0; i < vf_model_output_count(m); i++) {
        vf_tensor_info t;
        vf_model_output(m, i, &t);
        if ((int)t.count != dim) continue;
        for (int k = 0; k < dim; k++) acc[k] += t.data[k];
        return 0;
    }
    return -1;
}

static double cosine(const float *a, const float *b, int dim) {
    double ab = 0, aa = 0, bb = 0;
    for (int k = 0; k < dim; k++) { ab += (double)a[k] * b[k]; aa += (double)a[k] * a[k]; bb += (double)b[k] * b[k]; }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

int main(int argc, char **argv) {
    vf_context_create(NULL, &g_ctx);
    if (argc == 6 && !strcmp(argv[1], "--write")) return write_crops(argv[2], argv[3], argv[4], argv[5]);
    int flip_mode = argc > 1 && !strcmp(argv[1], "--flip");
    if (flip_mode) { argv++; argc--; }
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: test_embed_parity [--flip] MODEL.vfm GOLDEN.txt DATA_DIR BACKEND [MIN_COS]\n"
                        "       test_embed_parity --write MODELS_DIR MODEL.vfm DATA_DIR OUT_DIR\n");
        return 2;
    }
    vf_backend be = VF_BACKEND_AUTO;
    double min_cos = argc == 6 ? atof(argv[5]) : MIN_COSINE;
    const vf_backend all[] = {VF_BACKEND_REF, VF_BACKEND_SIMD, VF_BACKEND_XNNPACK};
    for (int i = 0; i < 3; i++) if (!strcmp(argv[4], vf_backend_name(all[i]))) be = all[i];
    if (be == VF_BACKEND_AUTO) { fprintf(stderr, "test_embed_parity: unknown backend %s\n", argv[4]); return 2; }
    static golden_case cases[MAX_CASES];
    int n = read_golden(argv[2], cases, MAX_CASES);
    if (n < 1) { fprintf(stderr, "test_embed_parity: %s: no cases or malformed\n", argv[2]); return 1; }
    size_t sz;
    uint8_t *probe = read_file(argv[1], &sz);
    if (!probe) { printf("SKIP: %s absent (tools/convert-all)\n", argv[1]); return 77; }
    free(probe);
    vf_model *m = load_model(argv[1], be);
    vf_embed_crop crop;
    if (!m || vf_embed_crop_of(g_ctx, m, &crop)) { fprintf(stderr, "test_embed_parity: %s: %s\n", argv[1], vf_context_last_error(g_ctx)); return 1; }
    if (!crop.flip) { fprintf(stderr, "test_embed_parity: the embedder's own crop has no flip (the pipeline's default)\n"); return 1; }
    crop.flip = 0; /* the raw model on the golden's crop first */
    int fails = 0, ran = 0;
    double worst_cos = 1, worst_abs = 0;
    for (int k = 0; k < n; k++) {
        golden_case *c = &cases[k];
        vf_image_buffer buf;
        if (load_image(argv[3], c->path, &buf)) {
            printf("SKIP: %s/%s not readable (../shared/data is needed)\n", argv[3], c->path);
            vf_model_free(m);
            return fails ? 1 : 77;
        }
        vf_image img = vf_image_buffer_view(&buf);
        do { /* break: to the next case (the image is freed below) */
            float emb[VF_EMBED_MAX_DIM];
            int dim = 0;
            vf_status st = vf_embed_run_crop(g_ctx, m, &crop, &img, c->five, emb, &dim);
            if (st || dim != c->dim) {
                printf("FAIL %s: %s (dim %d, golden %d)\n", c->path, st ? vf_context_last_error(g_ctx) : "ok", dim, c->dim);
                fails++;
                break;
            }
            double sum = input_sum(m);
            if (fabs(sum - c->sum) > 1e-5 * (1 + fabs(c->sum))) {
                printf("FAIL %s: crop checksum %.9g, the golden's %.9g: not the oracle's crop (rewrite the golden: node tools/golden.mjs --faces)\n",
                       c->path, sum, c->sum);
                fails++;
                break;
            }
            double gg = 0, dot = 0, mad = 0;
            for (int i = 0; i < dim; i++) gg += (double)c->out[i] * c->out[i];
            double ginv = gg > 0 ? 1 / sqrt(gg) : 0;
            for (int i = 0; i < dim; i++) {
                dot += emb[i] * c->out[i] * ginv;
                mad = fmax(mad, fabs(emb[i] - c->out[i] * ginv));
            }
            ran++;
            if (flip_mode) {
                /* expected: the oracle's raw output on the crop + ours on the mirror made here */
                static float crop_t[224 * 224 * 3];
                float want[VF_EMBED_MAX_DIM], got[VF_EMBED_MAX_DIM];
                vf_tensor_info in;
                vf_model_input(m, 0, &in);
                if (in.count > sizeof crop_t / sizeof *crop_t) { printf("FAIL: crop of %zu values\n", in.count); fails++; break; }
                memcpy(crop_t, in.data, sizeof(float) * in.count);
                memcpy(want, c->out, sizeof(float) * (size_t)dim);
                vf_embed_crop with_flip = crop;
                with_flip.flip = 1;
                int dim2 = 0;
                if (add_mirror_output(m, crop_t, want, dim) || vf_embed_run_crop(g_ctx, m, &with_flip, &img, c->five, got, &dim2) || dim2 != dim) {
                    printf("FAIL %s: %s\n", c->path, vf_context_last_error(g_ctx));
                    fails++;
                    break;
                }
                double cf = cosine(got, want, dim), cplain = cosine(emb, want, dim);
                /* the flipped pipeline matches the expected sum, and the plain crop would not */
                int ok = dot >= min_cos && cf >= min_cos && cplain < min_cos;
                fails += !ok;
                worst_cos = fmin(worst_cos, cf);
                worst_abs = fmax(worst_abs, cplain);
                printf("%s %s: flip cosine to crop + mirror %.8f, plain crop's %.8f (must be under %.4f)\n", ok ? "ok" : "FAIL", c->path, cf,
                       cplain, min_cos);
                break;
            }
            worst_cos = fmin(worst_cos, dot);
            worst_abs = fmax(worst_abs, mad);
            int ok = dot >= min_cos;
            fails += !ok;
            printf("%s %s: cosine %.8f, max |diff| %.3g (normalised)\n", ok ? "ok" : "FAIL", c->path, dot, mad);
        } while (0);
        vf_image_buffer_free(&buf);
    }
    printf("%s backend %s: %d cases, worst cosine %.8f (bound %.4f), %s %.8g\n", fails ? "FAIL" : "PASS", argv[4], ran, worst_cos,
           min_cos, flip_mode ? "highest cosine of the plain crop to crop + mirror" : "worst max |diff|", worst_abs);
    vf_model_free(m);
    vf_context_free(g_ctx);
    return fails ? 1 : 0;
}
