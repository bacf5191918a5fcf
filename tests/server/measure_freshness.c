/* measure_freshness.c - the numbers behind the freshness thresholds (docs/SERVER.md): raw RGBA
 * frames of a video on stdin (ffmpeg -f rawvideo -pix_fmt rgba -), each through JPEG (stb, q92)
 * as the browser sends it, then
 *   - within a package: change and residual (vf_srv_frame_diff_measure) of consecutive frames and
 *     of frames up to 4 apart (a package's pairs), vs all pairs of copies of one still (the same
 *     bytes; re-encoded at q70..q95; +-1, +-2 brightness; shifted 1 px; combinations);
 *   - across packages: DCT-hash and thumbnail distance (vf_srv_print_distance) of each copy vs
 *     the still, and of real frames taken 0.5..1, 1..2, 2..5 and 5+ seconds apart.
 * With the thresholds given it counts what they would call duplicates / replays. A tool, not a
 * test.
 *
 * usage: ffmpeg -v error -i VIDEO -f rawvideo -pix_fmt rgba - |
 *        measure_freshness WxH FPS [--every K] [--quality Q] [--change C] [--residual R] [--hamming H] [--distance D] */
#include "veriface.h"
#include "../../src/server/freshness.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x) ((void)0)
#include <stb_image_write.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../test_util.h"


#define MAXF 1200

typedef struct stats { float *v; int n, cap, hits; } stats;
static void put(stats *s, float x, int hit) {
    if (s->n == s->cap) { s->cap = s->cap ? 2 * s->cap : 256; s->v = realloc(s->v, sizeof(float) * (size_t)s->cap); }
    s->v[s->n++] = x;
    s->hits += hit;
}
static int cmpf(const void *a, const void *b) { float x = *(const float *)a, y = *(const float *)b; return x < y ? -1 : x > y; }
static void report(const char *name, stats *s, const char *hit) {
    if (!s->n) { printf("%-46s n=0\n", name); return; }
    qsort(s->v, (size_t)s->n, sizeof(float), cmpf);
    printf("%-46s n=%-6d min %7.3f  p1 %7.3f  p50 %7.3f  p99 %7.3f  max %7.3f", name, s->n, s->v[0], s->v[s->n / 100],
           s->v[s->n / 2], s->v[s->n - 1 - s->n / 100], s->v[s->n - 1]);
    if (hit) printf("  %s %d", hit, s->hits);
    printf("\n");
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* RGBA -> JPEG (stb, as vf_client_sim) -> decoded RGBA, plus the JPEG bytes. */
static int through_jpeg(vf_context *ctx, const uint8_t *rgba, int w, int h, int q, vf_image_buffer *out, membuf *jpeg) {
    membuf m = {0};
    stbi_write_jpg_to_func(mb_write, &m, w, h, 4, rgba, q);
    vf_image_decode_options o = vf_image_decode_default_options();
    o.apply_orientation = 0;
    int rc = vf_image_decode(ctx, m.p, m.n, &o, out, NULL) == VF_OK ? 0 : -1;
    if (jpeg) *jpeg = m; else free(m.p);
    return rc;
}

typedef struct variant { const char *name; int q, bright, dx, dy; } variant;
static const variant VARIANTS[] = {
    {"same bytes", 0, 0, 0, 0}, {"q70", 70, 0, 0, 0}, {"q75", 75, 0, 0, 0}, {"q80", 80, 0, 0, 0}, {"q85", 85, 0, 0, 0},
    {"q90", 90, 0, 0, 0}, {"q95", 95, 0, 0, 0}, {"+1", 92, 1, 0, 0}, {"-1", 92, -1, 0, 0}, {"+2", 92, 2, 0, 0},
    {"-2", 92, -2, 0, 0}, {"right 1px", 92, 0, 1, 0}, {"left 1px", 92, 0, -1, 0}, {"down 1px", 92, 0, 0, 1},
    {"up 1px", 92, 0, 0, -1}, {"right 1px +2 q80", 80, 2, 1, 0}, {"up 1px -2 q70", 70, -2, 0, -1},
};
#define NV (int)(sizeof VARIANTS / sizeof *VARIANTS)

/* A copy of the still `s` (decoded q92 pixels): brightness and shift (edges repeated), then JPEG at v->q. */
static int make_variant(vf_context *ctx, const vf_image_buffer *s, const variant *v, vf_image_buffer *out) {
    int w = s->width, h = s->height;
    uint8_t *p = malloc((size_t)w * h * 4);
    if (!p) return -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx = x - v->dx, sy = y - v->dy;
            sx = sx < 0 ? 0 : sx >= w ? w - 1 : sx;
            sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
            const uint8_t *a = s->data + (size_t)sy * s->stride + (size_t)sx * 4;
            uint8_t *d = p + ((size_t)y * w + x) * 4;
            for (int c = 0; c < 3; c++) { int t = a[c] + v->bright; d[c] = (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t); }
            d[3] = 255;
        }
    int rc = through_jpeg(ctx, p, w, h, v->q, out, NULL);
    free(p);
    return rc;
}

int main(int argc, char **argv) {
    int w, h, every = 30, quality = 92, hamming = 6;
    double max_change = 2.2, max_residual = 5.0, max_distance = 0.6;
    if (argc < 3 || sscanf(argv[1], "%dx%d", &w, &h) != 2) {
        fprintf(stderr, "usage: ffmpeg ... -f rawvideo -pix_fmt rgba - | measure_freshness WxH FPS [--every K] [--quality Q]"
                        " [--change C] [--residual R] [--hamming H] [--distance D]\n");
        return 2;
    }
    double fps = atof(argv[2]);
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--every")) every = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--quality")) quality = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--change")) max_change = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--residual")) max_residual = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--hamming")) hamming = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--distance")) max_distance = atof(argv[i + 1]);
    }
    vf_context *ctx;
    vf_context_create(NULL, &ctx);
    size_t fb = (size_t)w * h * 4;
    uint8_t *raw = malloc(fb);
    static vf_srv_frame_print prints[MAXF];
    vf_srv_luma win[5] = {{0}};            /* the last 5 frames: a package's pairs */
    stats cons_c = {0}, cons_r = {0}, cons_dup = {0}, win_c = {0}, win_r = {0}, win_dup = {0};
    stats cp_c = {0}, cp_r = {0}, cp_dup = {0}, cp_ham = {0}, cp_dist = {0};
    double t_pairs = 0, t_prints = 0;
    int nf = 0, n_pairs = 0;
#define DUP(d) ((d).change < max_change && (d).residual < max_residual)
    while (nf < MAXF && fread(raw, 1, fb, stdin) == fb) {
        vf_image_buffer img;
        membuf jpeg = {0};
        if (through_jpeg(ctx, raw, w, h, quality, &img, &jpeg)) { fprintf(stderr, "jpeg round trip failed\n"); return 2; }
        vf_srv_luma l;
        clock_t c0 = clock();
        if (vf_srv_luma_make(&img, &l)) return 2;
        vf_srv_frame_print_make(&l, jpeg.p, jpeg.n, &prints[nf]);
        t_prints += (double)(clock() - c0) / CLOCKS_PER_SEC;
        for (int k = 1; k <= 4 && nf - k >= 0; k++) {   /* as in one package of 5 consecutive frames */
            vf_srv_frame_diff d;
            c0 = clock();
            vf_srv_frame_diff_measure(&win[(nf - k) % 5], &l, &d);
            t_pairs += (double)(clock() - c0) / CLOCKS_PER_SEC;
            n_pairs++;
            put(&win_c, d.change, 0); put(&win_r, d.residual, 0); put(&win_dup, d.change, DUP(d));
            if (k == 1) { put(&cons_c, d.change, 0); put(&cons_r, d.residual, 0); put(&cons_dup, d.change, DUP(d)); }
        }
        if (nf % every == 0) {   /* this frame as a still, and its copies */
            vf_image_buffer vb[NV];
            vf_srv_luma vl[NV];
            memset(vb, 0, sizeof vb);
            for (int v = 0; v < NV; v++) {
                int bad = v == 0 ? vf_srv_luma_make(&img, &vl[0]) : make_variant(ctx, &img, &VARIANTS[v], &vb[v]) || vf_srv_luma_make(&vb[v], &vl[v]);
                if (bad) return 2;
            }
            for (int a = 0; a < NV; a++)
                for (int b = a + 1; b < NV; b++) {
                    vf_srv_frame_diff d;
                    vf_srv_frame_diff_measure(&vl[a], &vl[b], &d);
                    put(&cp_c, d.change, 0); put(&cp_r, d.residual, 0); put(&cp_dup, d.change, DUP(d));
                    if (getenv("VF_VERBOSE") && !DUP(d))
                        fprintf(stderr, "frame %d: %s vs %s: change %.3f residual %.3f shift %d,%d\n", nf, VARIANTS[a].name,
                                VARIANTS[b].name, d.change, d.residual, d.dx, d.dy);
                }
            for (int v = 1; v < NV; v++) {
                vf_srv_frame_print *p = malloc(sizeof *p);
                vf_srv_frame_print_make(&vl[v], NULL, 0, p);
                int hd = vf_srv_hamming64(p->phash, prints[nf].phash);
                float dist = vf_srv_print_distance(p, prints[nf].thumb);
                put(&cp_ham, (float)hd, hd <= hamming);
                put(&cp_dist, dist, hd <= hamming && dist <= max_distance);
                free(p);
            }
            for (int v = 0; v < NV; v++) { vf_srv_luma_free(&vl[v]); vf_image_buffer_free(&vb[v]); }
        }
        vf_srv_luma_free(&win[nf % 5]);
        win[nf % 5] = l;
        vf_image_buffer_free(&img);
        free(jpeg.p);
        nf++;
    }
    for (int i = 0; i < 5; i++) vf_srv_luma_free(&win[i]);
    printf("%d frames %dx%d at %.1f fps through JPEG q%d; copies of every %dth frame (%d variants); duplicate = change < %g and"
           " residual < %g; replay = hash distance <= %d and thumbnail distance <= %g\n",
           nf, w, h, fps, quality, every, NV, max_change, max_residual, hamming, max_distance);
    printf("cost: %.2f ms per pair, %.2f ms per frame (luma, hash, thumbnail)\n", n_pairs ? 1e3 * t_pairs / n_pairs : 0, 1e3 * t_prints / nf);
    report("within: real consecutive, change", &cons_c, NULL);
    report("within: real consecutive, residual", &cons_r, NULL);
    report("within: real consecutive, called duplicate", &cons_dup, "duplicates:");
    report("within: real <= 4 apart, change", &win_c, NULL);
    report("within: real <= 4 apart, residual", &win_r, NULL);
    report("within: real <= 4 apart, called duplicate", &win_dup, "duplicates:");
    report("within: copies (all pairs), change", &cp_c, NULL);
    report("within: copies (all pairs), residual", &cp_r, NULL);
    report("within: copies (all pairs), called duplicate", &cp_dup, "duplicates:");
    report("across: copy vs still, hash distance", &cp_ham, "candidates:");
    report("across: copy vs still, thumbnail distance", &cp_dist, "replays:");
    static const double GAPS[][2] = {{0.5, 1}, {1, 2}, {2, 5}, {5, 1e9}};
    for (int g = 0; g < 4; g++) {
        stats ham = {0}, dist = {0};
        for (int i = 0; i < nf; i++)
            for (int j = i + 1; j < nf; j++) {
                double dt = (j - i) / fps;
                if (dt < GAPS[g][0] || dt >= GAPS[g][1]) continue;
                int hd = vf_srv_hamming64(prints[i].phash, prints[j].phash);
                float d = vf_srv_print_distance(&prints[j], prints[i].thumb);
                put(&ham, (float)hd, hd <= hamming);
                put(&dist, d, hd <= hamming && d <= max_distance);
            }
        char name[96];
        snprintf(name, sizeof name, "across: real %g..%g s apart, hash distance", GAPS[g][0], GAPS[g][1] > 1e8 ? INFINITY : GAPS[g][1]);
        report(name, &ham, "candidates:");
        snprintf(name, sizeof name, "across: real %g..%g s apart, thumbnail", GAPS[g][0], GAPS[g][1] > 1e8 ? INFINITY : GAPS[g][1]);
        report(name, &dist, "replays:");
    }
    free(raw);
    vf_context_free(ctx);
    return 0;
}
