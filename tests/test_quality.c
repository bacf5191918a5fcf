/* test_quality.c - capture-quality checks (src/face/quality.c) on real photos of the shared data
 * set and on synthetic variants made from them here: darkened, overexposed, glare blob, one side
 * darkened, blurred, smeared along four directions (motion), two faces, a shrunk face, rotated,
 * shifted, moved between frames, an empty frame; a turned head from a real webcam frame; the
 * rules on hand-made landmarks; bad arguments.
 *
 *   test_quality MODELS_DIR DATA_DIR              the tests; exit 77 (skip) without the data set
 *   test_quality MODELS_DIR DATA_DIR --measure    the measurements behind the default thresholds
 *                                                 (docs/QUALITY.md): every metric on every live
 *                                                 photo, sharpness under synthetic blur */
#include "face/face.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_fail, g_pass;
#define CHECK(cond, ...)                                                                                              \
    do {                                                                                                              \
        if (cond) g_pass++;                                                                                           \
        else {                                                                                                        \
            g_fail++;                                                                                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                               \
            printf(__VA_ARGS__);                                                                                      \
            printf("\n");                                                                                             \
        }                                                                                                             \
    } while (0)
#define BIT(g) (1u << (g))

static vf_context *g_ctx;
static vf_model *g_det, *g_mesh;
static const char *g_data;

/* ---- images: RGBA8, owned by the test ------------------------------------------------------- */

typedef struct img { int w, h; uint8_t *p; } img;

static img img_new(int w, int h, uint8_t grey) {
    img im = {w, h, malloc((size_t)w * h * 4)};
    for (size_t i = 0; i < (size_t)w * h; i++) {
        im.p[4 * i] = im.p[4 * i + 1] = im.p[4 * i + 2] = grey;
        im.p[4 * i + 3] = 255;
    }
    return im;
}
static img img_copy(const img *a) {
    img im = {a->w, a->h, malloc((size_t)a->w * a->h * 4)};
    memcpy(im.p, a->p, (size_t)a->w * a->h * 4);
    return im;
}
static void img_free(img *im) { free(im->p); im->p = NULL; }
static vf_image view(const img *im) { return (vf_image){im->w, im->h, (size_t)im->w * 4, VF_PIXEL_RGBA8, im->p}; }
static uint8_t clamp8(double v) { return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5); }

static int load_image(const char *rel, img *out) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", g_data, rel);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc(n > 0 ? (size_t)n : 1);
    size_t got = fread(bytes, 1, (size_t)n, f);
    fclose(f);
    vf_image_buffer buf;
    vf_status s = got == (size_t)n ? vf_image_decode(g_ctx, bytes, got, NULL, &buf, NULL) : VF_E_IO;
    free(bytes);
    if (s) return -1;
    out->w = buf.width;
    out->h = buf.height;
    out->p = malloc((size_t)buf.width * buf.height * 4);
    for (int y = 0; y < buf.height; y++) memcpy(out->p + (size_t)y * buf.width * 4, buf.data + y * buf.stride, (size_t)buf.width * 4);
    vf_image_buffer_free(&buf);
    return 0;
}

/* Area-average downscale (factor >= 1): output pixel (x, y) averages the source pixels whose
 * index falls in [x * f, (x + 1) * f). */
static img img_shrink(const img *a, int w, int h) {
    img o = img_new(w, h, 0);
    for (int y = 0; y < h; y++) {
        int y0 = (int)((long)y * a->h / h), y1 = (int)((long)(y + 1) * a->h / h);
        if (y1 <= y0) y1 = y0 + 1;
        for (int x = 0; x < w; x++) {
            int x0 = (int)((long)x * a->w / w), x1 = (int)((long)(x + 1) * a->w / w);
            if (x1 <= x0) x1 = x0 + 1;
            double s[3] = {0, 0, 0};
            for (int yy = y0; yy < y1; yy++)
                for (int xx = x0; xx < x1; xx++)
                    for (int k = 0; k < 3; k++) s[k] += a->p[((size_t)yy * a->w + xx) * 4 + k];
            double n = (double)(x1 - x0) * (y1 - y0);
            for (int k = 0; k < 3; k++) o.p[((size_t)y * w + x) * 4 + k] = clamp8(s[k] / n);
        }
    }
    return o;
}

/* Affine resampling through the image layer: output (x, y) takes source m * (x, y, 1), grey
 * outside the source. */
static img img_warp(const img *a, const float m[6], int w, int h) {
    float *t = malloc((size_t)w * h * 3 * sizeof *t);
    vf_sample_options so = vf_sample_default_options();
    so.fill[0] = so.fill[1] = so.fill[2] = 110;
    vf_image v = view(a);
    vf_image_warp_to_tensor(g_ctx, &v, m, &so, t, w, h);
    img o = img_new(w, h, 0);
    for (size_t i = 0; i < (size_t)w * h; i++)
        for (int k = 0; k < 3; k++) o.p[4 * i + k] = clamp8(t[3 * i + k]);
    free(t);
    return o;
}

/* Paste src into dst with its top-left corner at (x, y) (clipped). */
static void img_paste(img *dst, const img *src, int x, int y) {
    for (int j = 0; j < src->h; j++)
        for (int i = 0; i < src->w; i++) {
            int X = x + i, Y = y + j;
            if (X < 0 || Y < 0 || X >= dst->w || Y >= dst->h) continue;
            memcpy(dst->p + ((size_t)Y * dst->w + X) * 4, src->p + ((size_t)j * src->w + i) * 4, 4);
        }
}

/* Separable blur of the pixels of rect [x0, x1) x [y0, y1): kernel kx (2 rx + 1 taps) along
 * rows, then ky (2 ry + 1 taps) along columns; neighbours outside the image clamp to its edge. */
static void blur_rect(img *im, int x0, int y0, int x1, int y1, const double *kx, int rx, const double *ky, int ry) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > im->w) x1 = im->w;
    if (y1 > im->h) y1 = im->h;
    if (x1 <= x0 || y1 <= y0) return;
    int ey0 = y0 - ry < 0 ? 0 : y0 - ry, ey1 = y1 + ry > im->h ? im->h : y1 + ry, w = x1 - x0;
    float *t = malloc((size_t)(ey1 - ey0) * w * 3 * sizeof *t);
    for (int y = ey0; y < ey1; y++)
        for (int x = x0; x < x1; x++)
            for (int k = 0; k < 3; k++) {
                double s = 0;
                for (int d = -rx; d <= rx; d++) {
                    int xx = x + d < 0 ? 0 : x + d >= im->w ? im->w - 1 : x + d;
                    s += kx[d + rx] * im->p[((size_t)y * im->w + xx) * 4 + k];
                }
                t[((size_t)(y - ey0) * w + (x - x0)) * 3 + k] = (float)s;
            }
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            for (int k = 0; k < 3; k++) {
                double s = 0;
                for (int d = -ry; d <= ry; d++) {
                    int yy = y + d < ey0 ? ey0 : y + d >= ey1 ? ey1 - 1 : y + d;
                    s += ky[d + ry] * t[((size_t)(yy - ey0) * w + (x - x0)) * 3 + k];
                }
                im->p[((size_t)y * im->w + x) * 4 + k] = clamp8(s);
            }
    free(t);
}

enum { KMAX = 401 };
/* Gaussian kernel of deviation sigma (radius 3 sigma); sigma <= 0 gives the identity. */
static int gauss_kernel(double sigma, double *k) {
    int r = sigma > 0 ? (int)ceil(3 * sigma) : 0;
    if (r > KMAX / 2) r = KMAX / 2;
    double s = 0;
    for (int i = -r; i <= r; i++) s += k[i + r] = sigma > 0 ? exp(-0.5 * i * i / (sigma * sigma)) : 1;
    for (int i = 0; i <= 2 * r; i++) k[i] /= s;
    return r;
}
/* Box kernel of odd width n. */
static int box_kernel(int n, double *k) {
    if (n < 1) n = 1;
    if (n > KMAX) n = KMAX;
    n |= 1;
    for (int i = 0; i < n; i++) k[i] = 1.0 / n;
    return n / 2;
}

/* ---- the pipeline --------------------------------------------------------------------------- */

typedef struct frame {
    vf_face_box faces[VF_DETECT_MAX_FACES];
    int n;
    vf_face_landmarks lm;
    vf_quality q;
    vf_status s;
} frame;

/* Detect, run FaceMesh on the best face, assess (state may be NULL). */
static frame *run(const img *im, vf_quality_state *state) {
    static frame fr;
    memset(&fr, 0, sizeof fr);
    vf_image v = view(im);
    fr.s = vf_detect_faces(g_ctx, g_det, &v, NULL, fr.faces, &fr.n);
    if (fr.s == VF_OK && fr.n > 0) fr.s = vf_face_landmarks_run(g_ctx, g_mesh, &v, &fr.faces[0], &fr.lm);
    if (fr.s == VF_OK) fr.s = vf_quality_assess(g_ctx, NULL, &v, fr.faces, fr.n, fr.n > 0 ? &fr.lm : NULL, state, &fr.q);
    return &fr;
}

static const char *gname(vf_guidance g) {
    static const char *n[] = {"OK", "NO_FACE", "MULTIPLE_FACES", "TOO_FAR", "TOO_CLOSE", "OFF_CENTER", "OCCLUDED",
                              "TURN_HEAD", "TILT_HEAD", "EYES_CLOSED", "TOO_DARK", "TOO_BRIGHT", "UNEVEN_LIGHT",
                              "GLARE", "BLURRY", "HOLD_STILL"};
    return (unsigned)g < VF_GUIDE_COUNT_ ? n[g] : "?";
}

static void print_q(const char *label, const frame *f) {
    const vf_quality *q = &f->q;
    printf("  %-34s faces %d/%d width %.3f offset %.3f presence %.2f yaw %5.1f pitch %5.1f roll %5.1f eye %.3f "
           "bright %5.1f contrast %4.1f asym %.3f glare %.4f sharp %.3f dir %.4f motion %.3f -> %s [",
           label, q->face_count, f->n, q->face_width, q->center_offset, q->presence, q->yaw, q->pitch, q->roll, q->eye_open,
           q->brightness, q->contrast, q->light_asymmetry, q->glare, q->sharpness, q->sharpness_dir, q->motion, gname(q->guidance));
    for (int g = 1; g < VF_GUIDE_COUNT_; g++)
        if (q->failed & BIT(g)) printf(" %s", gname((vf_guidance)g));
    printf(" ]\n");
}

static int all_finite(const vf_quality *q) {
    const float v[] = {q->face_width, q->center_offset, q->presence, q->yaw, q->pitch, q->roll, q->eye_open, q->brightness,
                       q->contrast, q->light_asymmetry, q->glare, q->sharpness, q->sharpness_dir, q->motion};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* Face width in pixels (the mesh box), the unit of the synthetic degradations. */
static double face_px(const vf_face_landmarks *lm) { return fmax(lm->box[2] - lm->box[0], 1.0); }

/* Blur the mesh box (plus the kernel's reach) of a copy of im: kind 0 Gaussian of deviation
 * `amount` x face width, 1 box of that width, 2 horizontal box of that length (camera motion). */
static img blurred(const img *im, const vf_face_landmarks *lm, int kind, double amount, int whole) {
    static double kx[KMAX], ky[KMAX];
    double a = amount * face_px(lm);
    int rx, ry;
    if (kind == 0) rx = ry = gauss_kernel(a, kx), memcpy(ky, kx, sizeof kx);
    else if (kind == 1) rx = ry = box_kernel((int)lround(a), kx), memcpy(ky, kx, sizeof kx);
    else rx = box_kernel((int)lround(a), kx), ry = 0, ky[0] = 1;
    img b = img_copy(im);
    if (whole) blur_rect(&b, 0, 0, b.w, b.h, kx, rx, ky, ry);
    else blur_rect(&b, (int)floor(lm->box[0]) - 2, (int)floor(lm->box[1]) - 2, (int)ceil(lm->box[2]) + 2,
                   (int)ceil(lm->box[3]) + 2, kx, rx, ky, ry);
    return b;
}

/* Camera motion along `deg` degrees (0 = horizontal, 90 = vertical in the image) over `amount` x
 * face width: each pixel of the mesh box (whole = 0) or of the frame becomes the mean of
 * bilinear samples along that line. */
static img smeared(const img *im, const vf_face_landmarks *lm, double deg, double amount, int whole) {
    img o = img_copy(im);
    double len = amount * face_px(lm), dx = cos(deg * 3.14159265358979 / 180), dy = sin(deg * 3.14159265358979 / 180);
    int n = (int)ceil(len) + 1;
    int x0 = whole ? 0 : (int)fmax(0, lm->box[0] - 2), y0 = whole ? 0 : (int)fmax(0, lm->box[1] - 2);
    int x1 = whole ? im->w : (int)fmin(im->w, lm->box[2] + 2), y1 = whole ? im->h : (int)fmin(im->h, lm->box[3] + 2);
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            for (int k = 0; k < 3; k++) {
                double acc = 0;
                for (int t = 0; t < n; t++) {
                    double f = n > 1 ? (t / (double)(n - 1) - 0.5) * len : 0;
                    double sx = fmin(fmax(x + f * dx, 0), im->w - 1), sy = fmin(fmax(y + f * dy, 0), im->h - 1);
                    int ix = (int)sx, iy = (int)sy, jx = ix + 1 < im->w ? ix + 1 : ix, jy = iy + 1 < im->h ? iy + 1 : iy;
                    double fx = sx - ix, fy = sy - iy;
#define PX(X, Y) im->p[((size_t)(Y) * im->w + (X)) * 4 + k]
                    acc += (1 - fy) * ((1 - fx) * PX(ix, iy) + fx * PX(jx, iy)) + fy * ((1 - fx) * PX(ix, jy) + fx * PX(jx, jy));
#undef PX
                }
                o.p[((size_t)y * o.w + x) * 4 + k] = clamp8(acc / n);
            }
    return o;
}

/* A side light: multiply the pixels on the darker side of the face's midline (the mean x of mesh
 * 10, 13, 14, 152, as quality.c) by k, so the existing imbalance grows. */
static void darken_side(img *a, const vf_face_landmarks *lm, double k) {
    int xm = (int)(0.25 * (lm->mesh[10][0] + lm->mesh[13][0] + lm->mesh[14][0] + lm->mesh[152][0]));
    /* which side is darker: the mean luma of a band of the face box either side of the midline */
    double sum[2] = {0, 0}, n[2] = {0, 0};
    int bw = (int)(0.3 * face_px(lm));
    for (int y = (int)fmax(lm->box[1], 0); y < (int)fmin(lm->box[3], a->h); y++)
        for (int x = xm - bw; x < xm + bw; x++) {
            if (x < 0 || x >= a->w) continue;
            const uint8_t *p = a->p + ((size_t)y * a->w + x) * 4;
            sum[x >= xm] += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            n[x >= xm] += 1;
        }
    int right_darker = n[0] > 0 && n[1] > 0 && sum[1] / n[1] < sum[0] / n[0];
    for (int y = 0; y < a->h; y++)
        for (int x = right_darker ? (xm < 0 ? 0 : xm) : 0; x < (right_darker ? a->w : (xm < a->w ? xm : a->w)); x++)
            for (int c = 0; c < 3; c++) a->p[((size_t)y * a->w + x) * 4 + c] = clamp8(a->p[((size_t)y * a->w + x) * 4 + c] * k);
}

/* A specular highlight: a white disc of radius r x face width with a soft rim (to 1.5 r),
 * centred between the nose tip and the subject's right cheek (mesh 1 and 234). */
static void glare_blob(img *a, const vf_face_landmarks *lm, double r) {
    double bx = 0.5 * (lm->mesh[1][0] + lm->mesh[234][0]), by = lm->mesh[1][1];
    r *= face_px(lm);
    for (int y = (int)(by - 2 * r); y <= (int)(by + 2 * r); y++)
        for (int x = (int)(bx - 2 * r); x <= (int)(bx + 2 * r); x++) {
            if (x < 0 || y < 0 || x >= a->w || y >= a->h) continue;
            double d = hypot(x - bx, y - by), t = d < r ? 1 : d < 1.5 * r ? (1.5 * r - d) / (0.5 * r) : 0;
            uint8_t *p = a->p + ((size_t)y * a->w + x) * 4;
            for (int k = 0; k < 3; k++) p[k] = clamp8(p[k] + t * (255 - p[k]));
        }
}

/* ---- measurement mode ----------------------------------------------------------------------- */

#define MAX_SET 256
enum { M_WIDTH, M_OFFSET, M_PRESENCE, M_YAW, M_PITCH, M_ROLL, M_EYE, M_BRIGHT, M_CONTRAST, M_ASYM, M_GLARE, M_SHARP,
       M_G05, M_G1, M_G15, M_G2, M_G3, M_BOX3, M_MOTION4, M_ASYM08, M_ASYM065, M_ASYM05, M_GLARE4, M_GLARE6, M_GLARE8,
       M_SDIR, M_SD0_8, M_SD45_8, M_SD90_8, M_SD135_8, M_SD0_15, M_SD45_15, M_SD90_15, M_SD135_15, M_COUNT };
static const char *m_names[M_COUNT] = {
    "face_width", "center_offset", "presence", "abs(yaw)", "abs(pitch)", "abs(roll)", "eye_open (smaller eye)",
    "brightness", "contrast", "light_asymmetry", "glare", "sharpness", "sharpness, gauss 0.5%", "sharpness, gauss 1%",
    "sharpness, gauss 1.5%", "sharpness, gauss 2%", "sharpness, gauss 3%", "sharpness, box 3%", "sharpness, motion 4%",
    "light_asymmetry, darker half x0.8", "light_asymmetry, darker half x0.65", "light_asymmetry, darker half x0.5", "glare, blob r 4%",
    "glare, blob r 6%", "glare, blob r 8%", "sharpness_dir", "sharpness_dir, smear 0deg 8%", "sharpness_dir, smear 45deg 8%",
    "sharpness_dir, smear 90deg 8%", "sharpness_dir, smear 135deg 8%", "sharpness_dir, smear 0deg 15%", "sharpness_dir, smear 45deg 15%",
    "sharpness_dir, smear 90deg 15%", "sharpness_dir, smear 135deg 15%"};
static double g_m[2][M_COUNT][MAX_SET];
static int g_mn[2];

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Assess a degraded copy with the original's landmarks (the degradation, not the detector, is
 * what is measured). */
static vf_quality assess_with(const img *im, const frame *f) {
    vf_image v = view(im);
    vf_quality q;
    vf_quality_assess(g_ctx, NULL, &v, f->faces, f->n, &f->lm, NULL, &q);
    return q;
}

static void measure_one(const char *rel) {
    img im;
    if (load_image(rel, &im)) { printf("  %-40s cannot decode\n", rel); return; }
    frame *f = run(&im, NULL);
    if (f->s || f->n == 0) { printf("  %-40s no face\n", rel); img_free(&im); return; }
    int set = strstr(rel, "apfol_liveness") != NULL; /* webcam */
    if (g_mn[set] >= MAX_SET) { img_free(&im); return; }
    print_q(rel, f);
    const vf_quality *q = &f->q;
    double v[M_COUNT] = {q->face_width, q->center_offset, q->presence, fabsf(q->yaw), fabsf(q->pitch), fabsf(q->roll),
                         q->eye_open, q->brightness, q->contrast, q->light_asymmetry, q->glare, q->sharpness};
    frame fc = *f;
    const double gs[] = {0.005, 0.01, 0.015, 0.02, 0.03};
    img b;
    for (int i = 0; i < 5; i++) {
        b = blurred(&im, &fc.lm, 0, gs[i], 0);
        v[M_G05 + i] = assess_with(&b, &fc).sharpness;
        img_free(&b);
    }
    b = blurred(&im, &fc.lm, 1, 0.03, 0);
    v[M_BOX3] = assess_with(&b, &fc).sharpness;
    img_free(&b);
    b = blurred(&im, &fc.lm, 2, 0.04, 0);
    v[M_MOTION4] = assess_with(&b, &fc).sharpness;
    img_free(&b);
    v[M_SDIR] = q->sharpness_dir;
    for (int i = 0; i < 8; i++) {
        b = smeared(&im, &fc.lm, 45.0 * (i % 4), i < 4 ? 0.08 : 0.15, 0);
        v[M_SD0_8 + i] = assess_with(&b, &fc).sharpness_dir;
        img_free(&b);
    }
    const double dk[] = {0.8, 0.65, 0.5}, gr[] = {0.04, 0.06, 0.08};
    /* side light and highlights on near-frontal faces inside the frame only: on a turned head
     * the midline nears the box edge (TURN_HEAD fails first), and on the tight webcam crops
     * the blob's cheek lies outside the image */
    int frontal = fabsf(q->yaw) <= 20 && fabsf(q->pitch) <= 20 && fc.lm.box[0] >= 0 && fc.lm.box[2] <= im.w;
    for (int i = 0; i < 3 && !frontal; i++) v[M_ASYM08 + i] = v[M_GLARE4 + i] = NAN;
    for (int i = 0; i < 3 && frontal; i++) {
        b = img_copy(&im);
        darken_side(&b, &fc.lm, dk[i]);
        v[M_ASYM08 + i] = assess_with(&b, &fc).light_asymmetry;
        img_free(&b);
        b = img_copy(&im);
        glare_blob(&b, &fc.lm, gr[i]);
        v[M_GLARE4 + i] = assess_with(&b, &fc).glare;
        img_free(&b);
    }
    printf("  %-34s degraded: sharpness gauss 0.5/1/1.5/2/3%%: %.4f %.4f %.4f %.4f %.4f box 3%%: %.4f motion 4%%: %.4f; "
           "asymmetry x0.8/0.65/0.5: %.3f %.3f %.3f; glare blob 4/6/8%%: %.4f %.4f %.4f\n",
           "", v[M_G05], v[M_G1], v[M_G15], v[M_G2], v[M_G3], v[M_BOX3], v[M_MOTION4], v[M_ASYM08], v[M_ASYM065],
           v[M_ASYM05], v[M_GLARE4], v[M_GLARE6], v[M_GLARE8]);
    for (int k = 0; k < M_COUNT; k++) g_m[set][k][g_mn[set]] = v[k];
    g_mn[set]++;
    img_free(&im);
}

/* Lines of a CSV's first column (after the header), optionally only rows whose second column
 * equals `label`. */
static int csv_images(const char *rel, const char *prefix, const char *label, void (*fn)(const char *)) {
    char path[2048], line[1024];
    snprintf(path, sizeof path, "%s/%s", g_data, rel);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        if (first) { first = 0; continue; }
        char *c1 = strchr(line, ',');
        if (!c1) continue;
        *c1 = 0;
        if (label) {
            char *c2 = strchr(c1 + 1, ',');
            if (c2) *c2 = 0;
            if (strcmp(c1 + 1, label) != 0) continue;
        }
        char p[2048];
        snprintf(p, sizeof p, "%s%s", prefix, line);
        fn(p);
    }
    fclose(f);
    return 0;
}

static void print_table(const char *title, int set) {
    printf("\n%s: %d faces\n\n| metric | n | min | p1 | p5 | p10 | median | p90 | p95 | p99 | max |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|\n", title, g_mn[set]);
    for (int k = 0; k < M_COUNT; k++) {
        int n = 0; /* NaN = not measured on that face */
        for (int i = 0; i < g_mn[set]; i++)
            if (!isnan(g_m[set][k][i])) g_m[set][k][n++] = g_m[set][k][i];
        if (n == 0) continue;
        qsort(g_m[set][k], (size_t)n, sizeof(double), cmp_d);
        const double p[] = {0, 1, 5, 10, 50, 90, 95, 99, 100};
        printf("| %s | %d |", m_names[k], n);
        for (int i = 0; i < 9; i++) {
            double x = g_m[set][k][(int)lround(p[i] / 100.0 * (n - 1))];
            printf(fabs(x) >= 100 ? " %.0f |" : fabs(x) >= 1 ? " %.1f |" : fabs(x) >= 0.1 ? " %.3f |" : " %.4f |", x);
        }
        printf("\n");
    }
}

static int measure(void) {
    printf("measure: every photo of faces/identities.csv and every live image of pad/labels.csv\n");
    csv_images("faces/identities.csv", "faces/", NULL, measure_one);
    csv_images("pad/labels.csv", "pad/", "live", measure_one);
    printf("\nDegradations (on the mesh box, with the original's landmarks; %% = of the face width): Gaussian blur of\n"
           "deviation 0.5..3%%, box blur 3%% wide, horizontal motion blur 4%% long, motion smears of 8 and 15%% along\n"
           "0/45/90/135 degrees (sharpness_dir); the darker half of the face\n"
           "(split at its midline) darkened further;\n"
           "a white disc of radius 4..8%% with a soft rim on the cheek.\n");
    print_table("Photos (faces/, pad/silent_face, pad/doubango)", 0);
    print_table("Webcam (pad/apfol_liveness: 640x480 video frames and tight crops)", 1);
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static uint32_t photometric_bits(void) {
    return BIT(VF_GUIDE_TOO_DARK) | BIT(VF_GUIDE_TOO_BRIGHT) | BIT(VF_GUIDE_UNEVEN_LIGHT) | BIT(VF_GUIDE_GLARE) |
           BIT(VF_GUIDE_BLURRY);
}

/* Run a synthetic variant and check that the bit of `want` is set (and, when primary, that it is
 * the guidance). */
static frame *expect(const char *label, const img *im, vf_quality_state *state, vf_guidance want, int primary) {
    frame *f = run(im, state);
    print_q(label, f);
    CHECK(f->s == VF_OK, "%s: pipeline failed: %s", label, vf_context_last_error(g_ctx));
    CHECK(all_finite(&f->q), "%s: a metric is not finite", label);
    CHECK(f->q.failed & BIT(want), "%s: %s expected among the failed checks", label, gname(want));
    if (primary) CHECK(f->q.guidance == want, "%s: guidance %s, expected %s", label, gname(f->q.guidance), gname(want));
    return f;
}

static void test_strings_and_defaults(void) {
    for (int g = 0; g < VF_GUIDE_COUNT_; g++) {
        const char *s = vf_guidance_string((vf_guidance)g);
        CHECK(s && *s && strcmp(s, "unknown guidance") != 0, "vf_guidance_string(%d) is empty or unknown", g);
        for (int h = 0; h < g; h++) CHECK(strcmp(s, vf_guidance_string((vf_guidance)h)) != 0, "guidance %d and %d share a text", g, h);
    }
    CHECK(strcmp(vf_guidance_string(VF_GUIDE_COUNT_), "unknown guidance") == 0, "out of range guidance");
    CHECK(strcmp(vf_guidance_string((vf_guidance)-1), "unknown guidance") == 0, "negative guidance");
    vf_quality_config c = vf_quality_default_config();
    CHECK(c.min_face_width < c.max_face_width && c.min_brightness < c.max_brightness && c.min_sharpness > 0 &&
              c.max_glare > 0 && c.min_eye_open > 0 && c.max_motion > 0 && c.max_yaw == 20 && c.max_roll == 15,
          "default config is inconsistent");
}

/* The rules alone, on landmarks of a real face with fields changed by hand. */
static void test_rules(const img *im, const frame *base) {
    vf_image v = view(im);
    vf_face_box faces[3];
    memcpy(faces, base->faces, sizeof faces[0]);
    vf_face_landmarks lm = base->lm;
    vf_quality q;
    float w = faces[0].x1 - faces[0].x0;

    /* a second face at 30% of the main face's width does not count, one at 50% does */
    faces[1] = faces[0];
    faces[1].x0 = 0;
    faces[1].x1 = 0.3f * w;
    CHECK(vf_quality_assess(g_ctx, NULL, &v, faces, 2, &lm, NULL, &q) == VF_OK && q.face_count == 1 &&
              !(q.failed & BIT(VF_GUIDE_MULTIPLE_FACES)), "small background face: face_count %d, failed %#x", q.face_count, q.failed);
    faces[1].x1 = 0.5f * w;
    CHECK(vf_quality_assess(g_ctx, NULL, &v, faces, 2, &lm, NULL, &q) == VF_OK && q.face_count == 2 &&
              q.guidance == VF_GUIDE_MULTIPLE_FACES, "second face at 50%%: face_count %d, guidance %s", q.face_count, gname(q.guidance));

    lm = base->lm;
    lm.eye_open[1] = 0.05f;
    CHECK(vf_quality_assess(g_ctx, NULL, &v, faces, 1, &lm, NULL, &q) == VF_OK && (q.failed & BIT(VF_GUIDE_EYES_CLOSED)) &&
              fabsf(q.eye_open - 0.05f) < 1e-6f, "one eye closed: eye_open %.3f, failed %#x", q.eye_open, q.failed);
    lm = base->lm;
    lm.presence = 0.2f;
    CHECK(vf_quality_assess(g_ctx, NULL, &v, faces, 1, &lm, NULL, &q) == VF_OK && (q.failed & BIT(VF_GUIDE_OCCLUDED)),
          "low presence: failed %#x", q.failed);
    lm = base->lm;
    lm.pitch = -25;
    CHECK(vf_quality_assess(g_ctx, NULL, &v, faces, 1, &lm, NULL, &q) == VF_OK && (q.failed & BIT(VF_GUIDE_TURN_HEAD)),
          "pitch -25: failed %#x", q.failed);
    lm = base->lm;
    lm.roll = 16;
    CHECK(vf_quality_assess(g_ctx, NULL, &v, faces, 1, &lm, NULL, &q) == VF_OK && (q.failed & BIT(VF_GUIDE_TILT_HEAD)) &&
              !(q.failed & BIT(VF_GUIDE_TURN_HEAD)), "roll 16: failed %#x", q.failed);

    /* every failing check is reported; the guidance is the first in enum order */
    lm = base->lm;
    lm.presence = 0.1f;
    lm.yaw = 40;
    lm.eye_open[0] = 0;
    vf_quality_config c = vf_quality_default_config();
    c.min_brightness = 250;
    c.max_brightness = 255;
    CHECK(vf_quality_assess(g_ctx, &c, &v, faces, 1, &lm, NULL, &q) == VF_OK && q.guidance == VF_GUIDE_OCCLUDED &&
              (q.failed & (BIT(VF_GUIDE_OCCLUDED) | BIT(VF_GUIDE_TURN_HEAD) | BIT(VF_GUIDE_EYES_CLOSED) | BIT(VF_GUIDE_TOO_DARK))) ==
                  (BIT(VF_GUIDE_OCCLUDED) | BIT(VF_GUIDE_TURN_HEAD) | BIT(VF_GUIDE_EYES_CLOSED) | BIT(VF_GUIDE_TOO_DARK)),
          "several failures: guidance %s, failed %#x", gname(q.guidance), q.failed);
    CHECK(!(q.failed & 1u), "bit 0 (OK) is never set");

    /* the face outside the frame: geometry fails, photometric metrics stay 0, all finite */
    lm = base->lm;
    float dx = -lm.box[2] - 1000;
    for (int k = 0; k < 4; k += 2) lm.box[k] += dx;
    for (int k = 0; k < VF_MESH_POINTS; k++) lm.mesh[k][0] += dx;
    CHECK(vf_quality_assess(g_ctx, NULL, &v, faces, 1, &lm, NULL, &q) == VF_OK && (q.failed & BIT(VF_GUIDE_OFF_CENTER)) &&
              q.brightness == 0 && q.sharpness == 0 && all_finite(&q), "face outside: failed %#x", q.failed);
    /* a degenerate mesh box */
    lm = base->lm;
    lm.box[2] = lm.box[0];
    lm.box[3] = lm.box[1];
    CHECK(vf_quality_assess(g_ctx, NULL, &v, faces, 1, &lm, NULL, &q) == VF_OK && (q.failed & BIT(VF_GUIDE_TOO_FAR)) &&
              all_finite(&q), "empty mesh box: failed %#x", q.failed);
}

static void test_bad_args(const img *im, const frame *base) {
    vf_image v = view(im);
    vf_quality q;
    vf_quality_state st = {0};
    vf_image bad = v;
    bad.data = NULL;
    vf_face_landmarks lm = base->lm;
    vf_quality_config c = vf_quality_default_config();
#define CASE(label, call) do { vf__clear_error(g_ctx); vf_status s_ = (call); \
        CHECK(s_ == VF_E_INVALID_ARG && vf_context_last_error(g_ctx)[0], "%s: status %d, message '%s'", label, (int)s_, \
              vf_context_last_error(g_ctx)); } while (0)
    CASE("NULL out", vf_quality_assess(g_ctx, NULL, &v, base->faces, 1, &base->lm, &st, NULL));
    CASE("NULL image", vf_quality_assess(g_ctx, NULL, NULL, base->faces, 1, &base->lm, &st, &q));
    CASE("image without pixels", vf_quality_assess(g_ctx, NULL, &bad, base->faces, 1, &base->lm, &st, &q));
    CASE("faces without landmarks", vf_quality_assess(g_ctx, NULL, &v, base->faces, 1, NULL, &st, &q));
    CASE("negative face count", vf_quality_assess(g_ctx, NULL, &v, base->faces, -1, NULL, &st, &q));
    lm.yaw = NAN;
    CASE("NaN landmarks", vf_quality_assess(g_ctx, NULL, &v, base->faces, 1, &lm, &st, &q));
    c.min_sharpness = NAN;
    CASE("NaN threshold", vf_quality_assess(g_ctx, &c, &v, base->faces, 1, &base->lm, &st, &q));
    c = vf_quality_default_config();
    c.min_brightness = 220;
    CASE("min_brightness > max_brightness", vf_quality_assess(g_ctx, &c, &v, base->faces, 1, &base->lm, &st, &q));
#undef CASE
    CHECK(st.has_prev == 0, "a failed call leaves the state alone");
    CHECK(vf_quality_assess(NULL, NULL, NULL, NULL, 0, NULL, NULL, &q) == VF_E_INVALID_ARG, "NULL context is fine for errors");
}

static int test_all(void) {
    /* the reference face: a sharp, frontal, centred portrait */
    const char *ref_name = "faces/deepface/img10.jpg"; /* centred (offset 0.09), frontal, sharp */
    img ref;
    if (load_image(ref_name, &ref)) { printf("FAIL cannot decode %s\n", ref_name); return 1; }
    test_strings_and_defaults();

    printf("real photos that should pass:\n");
    const char *good[] = {ref_name, "faces/deepface/img2.jpg", "pad/apfol_liveness/frames/real2_t07.62.jpg"}; /* t00.50 is a dim frame (luma 70) */
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        img im;
        if (load_image(good[i], &im)) { CHECK(0, "cannot decode %s", good[i]); continue; }
        frame *f = run(&im, NULL);
        print_q(good[i], f);
        CHECK(f->s == VF_OK && f->n >= 1 && all_finite(&f->q), "%s: pipeline", good[i]);
        CHECK(!(f->q.failed & photometric_bits()), "%s: a photometric check fails (%#x)", good[i], f->q.failed);
        CHECK(f->q.guidance == VF_GUIDE_OK, "%s: guidance %s, expected OK", good[i], gname(f->q.guidance));
        vf_face_landmarks lm0 = f->lm;
        for (int d = 0; d < 4 && f->n >= 1; d++) { /* the same photo smeared along 0/45/90/135 degrees: blurry */
            img sm = smeared(&im, &lm0, 45.0 * d, 0.15, 1);
            frame *g = run(&sm, NULL);
            CHECK(g->s == VF_OK && (g->q.failed & BIT(VF_GUIDE_BLURRY)), "%s smeared 15%% at %d deg: not BLURRY (sharpness %.3f, dir %.4f)",
                  good[i], 45 * d, g->q.sharpness, g->q.sharpness_dir);
            img_free(&sm);
        }
        img_free(&im);
    }

    frame base = *run(&ref, NULL);
    if (base.s || base.n < 1) { CHECK(0, "no face in %s", ref_name); img_free(&ref); return 1; }
    test_rules(&ref, &base);
    test_bad_args(&ref, &base);
    const float fw = base.lm.box[2] - base.lm.box[0];
    const float fcx = 0.5f * (base.lm.box[0] + base.lm.box[2]), fcy = 0.5f * (base.lm.box[1] + base.lm.box[3]);

    printf("synthetic variants of %s:\n", ref_name);
    img a;
    /* darkened x0.25 */
    a = img_copy(&ref);
    for (size_t i = 0; i < (size_t)a.w * a.h * 4; i++) if (i % 4 != 3) a.p[i] = clamp8(a.p[i] * 0.25);
    expect("darkened x0.25", &a, NULL, VF_GUIDE_TOO_DARK, 1);
    img_free(&a);
    /* overexposed: x1.6 + 60 (clipped) */
    a = img_copy(&ref);
    for (size_t i = 0; i < (size_t)a.w * a.h * 4; i++) if (i % 4 != 3) a.p[i] = clamp8(a.p[i] * 1.6 + 60);
    expect("overexposed x1.6+60", &a, NULL, VF_GUIDE_TOO_BRIGHT, 1);
    img_free(&a);
    /* a specular highlight on the cheek: white disc of radius 8% of the face width */
    a = img_copy(&ref);
    glare_blob(&a, &base.lm, 0.08);
    expect("specular highlight r 8%", &a, NULL, VF_GUIDE_GLARE, 1);
    img_free(&a);
    /* a side light: the darker half of the face darkened x0.5 */
    a = img_copy(&ref);
    darken_side(&a, &base.lm, 0.5);
    expect("darker half darkened x0.5", &a, NULL, VF_GUIDE_UNEVEN_LIGHT, 1);
    img_free(&a);
    /* out of focus (Gaussian, deviation 3% of the face width) and shaken (box, 5%), whole frame */
    a = blurred(&ref, &base.lm, 0, 0.03, 1);
    expect("gaussian blur 3%", &a, NULL, VF_GUIDE_BLURRY, 1);
    img_free(&a);
    a = blurred(&ref, &base.lm, 1, 0.05, 1);
    expect("box blur 5%", &a, NULL, VF_GUIDE_BLURRY, 1);
    img_free(&a);
    /* camera motion: a 15% smear along any of four directions, whole frame (the isotropic
     * Laplacian alone misses most of these: detail across the motion survives) */
    for (int d = 0; d < 4; d++) {
        char label[64];
        snprintf(label, sizeof label, "motion smear 15%% at %d deg", 45 * d);
        a = smeared(&ref, &base.lm, 45.0 * d, 0.15, 1);
        expect(label, &a, NULL, VF_GUIDE_BLURRY, 1);
        img_free(&a);
    }
    /* two faces side by side: the reference and another portrait, same height */
    {
        img b;
        if (load_image("faces/deepface/img2.jpg", &b) == 0) {
            int h = 480, w1 = (int)((long)ref.w * h / ref.h), w2 = (int)((long)b.w * h / b.h);
            img s1 = img_shrink(&ref, w1, h), s2 = img_shrink(&b, w2, h);
            a = img_new(w1 + w2, h, 110);
            img_paste(&a, &s1, 0, 0);
            img_paste(&a, &s2, w1, 0);
            frame *f = expect("two portraits side by side", &a, NULL, VF_GUIDE_MULTIPLE_FACES, 1);
            CHECK(f->q.face_count == 2, "two faces: face_count %d", f->q.face_count);
            img_free(&a); img_free(&s1); img_free(&s2); img_free(&b);
        } else CHECK(0, "cannot decode faces/deepface/img2.jpg");
    }
    /* shrunk to 30% into a canvas of the original size (the reference's face is 0.51 wide) */
    {
        int w = (int)(ref.w * 0.3), h = (int)(ref.h * 0.3);
        img s = img_shrink(&ref, w, h);
        a = img_new(ref.w, ref.h, 110);
        img_paste(&a, &s, (ref.w - w) / 2, (ref.h - h) / 2);
        expect("shrunk to 30% in the frame", &a, NULL, VF_GUIDE_TOO_FAR, 1);
        img_free(&a); img_free(&s);
    }
    /* rotated 40 degrees about the face centre */
    {
        float t = 40 * 3.14159265f / 180, c = cosf(t), sn = sinf(t);
        /* output -> source: rotate about (fcx, fcy) */
        float m[6] = {c, -sn, fcx - c * fcx + sn * fcy, sn, c, fcy - sn * fcx - c * fcy};
        a = img_warp(&ref, m, ref.w, ref.h);
        expect("rotated 40 degrees", &a, NULL, VF_GUIDE_TILT_HEAD, 0);
        img_free(&a);
    }
    /* shifted so the face centre sits at 22% / 30% of the frame */
    {
        float m[6] = {1, 0, fcx - 0.22f * ref.w, 0, 1, fcy - 0.30f * ref.h};
        a = img_warp(&ref, m, ref.w, ref.h);
        expect("shifted towards a corner", &a, NULL, VF_GUIDE_OFF_CENTER, 1);
        img_free(&a);
    }
    /* the same face moved by 25% of its width between two frames */
    {
        vf_quality_state st = {0};
        frame *f = run(&ref, &st);
        CHECK(f->q.motion == 0 && !(f->q.failed & BIT(VF_GUIDE_HOLD_STILL)) && st.has_prev, "first frame: motion %.3f", f->q.motion);
        f = run(&ref, &st);
        CHECK(f->q.motion < 1e-4f && !(f->q.failed & BIT(VF_GUIDE_HOLD_STILL)), "same frame again: motion %.4f", f->q.motion);
        float m[6] = {1, 0, 0.25f * fw, 0, 1, 0};
        a = img_warp(&ref, m, ref.w, ref.h);
        f = expect("moved 0.25 face widths", &a, &st, VF_GUIDE_HOLD_STILL, 0); /* the move also decentres it */
        CHECK(fabsf(f->q.motion - 0.25f) < 0.03f, "motion %.3f, expected ~0.25", f->q.motion);
        img_free(&a);
        /* an empty frame in between keeps the last face */
        img black = img_new(640, 480, 0);
        f = run(&black, &st);
        CHECK(st.has_prev, "no face: the state keeps the last face");
        img_free(&black);
    }
    /* an empty frame */
    {
        a = img_new(640, 480, 0);
        vf_quality_state st = {0};
        frame *f = expect("black frame", &a, &st, VF_GUIDE_NO_FACE, 1);
        CHECK(f->q.failed == BIT(VF_GUIDE_NO_FACE) && f->q.face_count == 0 && st.has_prev == 0,
              "no face: only NO_FACE, failed %#x", f->q.failed);
        img_free(&a);
    }
    /* a real turned head (webcam frame, yaw ~37 degrees) */
    {
        const char *turned = "pad/apfol_liveness/frames/real2_t02.87.jpg";
        if (load_image(turned, &a) == 0) {
            expect("turned head (real webcam frame)", &a, NULL, VF_GUIDE_TURN_HEAD, 1);
            img_free(&a);
        } else CHECK(0, "cannot decode %s", turned);
    }
    img_free(&ref);
    return 0;
}

static vf_model *load_model(const char *dir, const char *name) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc(n > 0 ? (size_t)n : 1);
    size_t got = fread(bytes, 1, (size_t)n, f);
    fclose(f);
    vf_model *m = NULL;
    if (got != (size_t)n || vf_model_load(g_ctx, bytes, got, NULL, &m) != VF_OK)
        printf("cannot load %s: %s\n", path, vf_context_last_error(g_ctx));
    free(bytes);
    return m;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        printf("usage: test_quality MODELS_DIR DATA_DIR [--measure]\n");
        return 2;
    }
    g_data = argv[2];
    vf_context_options co = vf_context_default_options();
    if (vf_context_create(&co, &g_ctx) != VF_OK) return 1;
    char probe[2048];
    snprintf(probe, sizeof probe, "%s/faces/identities.csv", g_data);
    FILE *pf = fopen(probe, "r");
    if (!pf) {
        printf("SKIP: %s not found (the shared data set, ../shared/data, is absent)\n", probe);
        vf_context_free(g_ctx);
        return 77;
    }
    fclose(pf);
    g_det = load_model(argv[1], "blazeface-front.vfm");
    g_mesh = load_model(argv[1], "facemesh.vfm");
    if (!g_det || !g_mesh) {
        printf("FAIL: models not found in %s\n", argv[1]);
        return 1;
    }
    if (argc > 3 && strcmp(argv[3], "--measure") == 0) measure();
    else {
        test_all();
        printf("%d passed, %d failed\n", g_pass, g_fail);
    }
    vf_model_free(g_det);
    vf_model_free(g_mesh);
    vf_context_free(g_ctx);
    return g_fail ? 1 : 0;
}
