/* frameprint.c - see frameprint.h: a frame's luma, the difference of two frames, the DCT hash
 * and thumbnail of the cross-package print and their distances. Pure: no I/O, no server state. */
#include "frameprint.h"
#include "server.h"   /* vf_srv_sha256_hex (crypto.c) */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 8                         /* the change measure's blocks */
#define MAX_SHIFT 2                     /* alignment search: +-2 px (two copies each shifted 1 px) */
#define MARGIN (MAX_SHIFT + 1)
#define SEARCH_STEP 8                   /* rows of the alignment search */

/* ---- luma planes ------------------------------------------------------------------------------ */

int vf_srv_luma_make(const vf_image_buffer *img, vf_srv_luma *o) {
    memset(o, 0, sizeof *o);
    int ch = (int)img->format;
    if (!img->data || img->width < 1 || img->height < 1 || (ch != 3 && ch != 4)) return -1;
    size_t n = (size_t)img->width * (size_t)img->height;
    o->y = malloc(n);
    o->hp = calloc(n, sizeof *o->hp);
    if (!o->y || !o->hp) { vf_srv_luma_free(o); return -1; }
    o->w = img->width;
    o->h = img->height;
    for (int y = 0; y < o->h; y++) {
        const uint8_t *p = img->data + (size_t)y * img->stride;
        uint8_t *d = o->y + (size_t)y * o->w;
        for (int x = 0; x < o->w; x++, p += ch) d[x] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
    }
    /* high-pass: 9 Y - (3x3 sum): removes brightness and smooth shading, keeps sensor noise */
    for (int y = 1; y + 1 < o->h; y++) {
        const uint8_t *a = o->y + (size_t)(y - 1) * o->w, *b = a + o->w, *c = b + o->w;
        int16_t *d = o->hp + (size_t)y * o->w;
        for (int x = 1; x + 1 < o->w; x++) {
            int s = a[x - 1] + a[x] + a[x + 1] + b[x - 1] + b[x] + b[x + 1] + c[x - 1] + c[x] + c[x + 1];
            d[x] = (int16_t)(9 * b[x] - s);
        }
    }
    return 0;
}

void vf_srv_luma_free(vf_srv_luma *l) {
    free(l->y);
    free(l->hp);
    memset(l, 0, sizeof *l);
}

/* ---- the pair measure ------------------------------------------------------------------------- */

/* Standard deviation of hp(a)(x, y) - hp(b)(x + dx, y + dy) over the interior, every `step`-th row. */
static double residual_at(const vf_srv_luma *a, const vf_srv_luma *b, int dx, int dy, int step) {
    int64_t s = 0, s2 = 0, n = 0;
    for (int y = MARGIN; y < a->h - MARGIN; y += step) {
        const int16_t *pa = a->hp + (size_t)y * a->w, *pb = b->hp + (size_t)(y + dy) * b->w + dx;
        int64_t rs = 0, rs2 = 0;
        for (int x = MARGIN; x < a->w - MARGIN; x++) {
            int d = pa[x] - pb[x];
            rs += d;
            rs2 += (int64_t)d * d;
        }
        s += rs;
        s2 += rs2;
        n += a->w - 2 * MARGIN;
    }
    if (n == 0) return INFINITY;
    double m = (double)s / (double)n, v = (double)s2 / (double)n - m * m;
    return sqrt(v > 0 ? v : 0) / 9.0;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* 99th percentile of |block mean difference - mean of them| over the BLOCK x BLOCK blocks of the
 * interior, b read at (x + dx, y + dy). NAN when out of memory. */
static float block_change(const vf_srv_luma *a, const vf_srv_luma *b, int dx, int dy) {
    int bw = (a->w - 2 * MARGIN) / BLOCK, bh = (a->h - 2 * MARGIN) / BLOCK, nb = bw * bh;
    if (nb < 1) return INFINITY;
    float *m = malloc(sizeof *m * (size_t)nb);
    if (!m) return NAN;
    double all = 0;
    for (int by = 0; by < bh; by++)
        for (int bx = 0; bx < bw; bx++) {
            int s = 0;
            for (int y = MARGIN + by * BLOCK; y < MARGIN + (by + 1) * BLOCK; y++) {
                const uint8_t *pa = a->y + (size_t)y * a->w, *pb = b->y + (size_t)(y + dy) * b->w + dx;
                for (int x = MARGIN + bx * BLOCK; x < MARGIN + (bx + 1) * BLOCK; x++) s += pa[x] - pb[x];
            }
            m[by * bw + bx] = (float)s / (BLOCK * BLOCK);
            all += m[by * bw + bx];
        }
    float mean = (float)(all / nb);
    for (int i = 0; i < nb; i++) m[i] = fabsf(m[i] - mean);
    qsort(m, (size_t)nb, sizeof *m, cmp_float);
    float v = m[nb - 1 - nb / 100];
    free(m);
    return v;
}

void vf_srv_frame_diff_measure(const vf_srv_luma *a, const vf_srv_luma *b, vf_srv_frame_diff *o) {
    o->change = o->residual = INFINITY;
    o->dx = o->dy = 0;
    if (a->w != b->w || a->h != b->h || a->w <= 2 * MARGIN + BLOCK || a->h <= 2 * MARGIN + BLOCK) return;
    /* the alignment on a subset of rows (a copy has one sharp minimum), then both measures there */
    double best = INFINITY;
    for (int dy = -MAX_SHIFT; dy <= MAX_SHIFT; dy++)
        for (int dx = -MAX_SHIFT; dx <= MAX_SHIFT; dx++) {
            double r = residual_at(a, b, dx, dy, SEARCH_STEP);
            if (r < best) { best = r; o->dx = dx; o->dy = dy; }
        }
    o->residual = (float)residual_at(a, b, o->dx, o->dy, 1);
    o->change = block_change(a, b, o->dx, o->dy);
}

/* ---- the cross-package signature ---------------------------------------------------------------- */

/* Cell means of a gw x gh grid over the whole frame (any size >= 1 pixel); with gx/gy, also how
 * each mean changes when the picture moves right / down by one pixel (the column or row that
 * enters the cell minus the one that leaves it). */
static void grid_means(const vf_srv_luma *l, int gw, int gh, float *out, float *gx, float *gy) {
    for (int cy = 0; cy < gh; cy++) {
        int y0 = (int)((int64_t)cy * l->h / gh), y1 = (int)((int64_t)(cy + 1) * l->h / gh);
        if (y1 <= y0) y1 = y0 + 1 < l->h ? y0 + 1 : l->h;
        if (y0 >= y1) y0 = y1 - 1;
        for (int cx = 0; cx < gw; cx++) {
            int x0 = (int)((int64_t)cx * l->w / gw), x1 = (int)((int64_t)(cx + 1) * l->w / gw);
            if (x1 <= x0) x1 = x0 + 1 < l->w ? x0 + 1 : l->w;
            if (x0 >= x1) x0 = x1 - 1;
            int64_t s = 0, ex = 0, ey = 0;
            for (int y = y0; y < y1; y++) {
                const uint8_t *r = l->y + (size_t)y * l->w;
                for (int x = x0; x < x1; x++) s += r[x];
                ex += r[x0 > 0 ? x0 - 1 : 0] - r[x1 - 1];
            }
            const uint8_t *top = l->y + (size_t)(y0 > 0 ? y0 - 1 : 0) * l->w, *bot = l->y + (size_t)(y1 - 1) * l->w;
            for (int x = x0; x < x1; x++) ey += top[x] - bot[x];
            double area = (double)(y1 - y0) * (x1 - x0);
            out[cy * gw + cx] = (float)(s / area);
            if (gx) { gx[cy * gw + cx] = (float)(ex / area); gy[cy * gw + cx] = (float)(ey / area); }
        }
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void vf_srv_frame_print_make(const vf_srv_luma *l, const uint8_t *bytes, size_t n, vf_srv_frame_print *o) {
    memset(o, 0, sizeof *o);
    if (bytes) vf_srv_sha256_hex(bytes, n, o->sha256);
    float t32[32 * 32], t16[VF_SRV_THUMB_CELLS];
    grid_means(l, 32, 32, t32, NULL, NULL);
    grid_means(l, VF_SRV_THUMB, VF_SRV_THUMB, t16, o->gx, o->gy);
    for (int i = 0; i < VF_SRV_THUMB_CELLS; i++) o->thumb[i] = (uint16_t)lrintf(t16[i] * 64);
    /* DCT-II of the 32x32 thumbnail, frequencies 1..8 in each direction (the DC term and the
     * highest frequencies carry brightness and JPEG/noise changes, not the picture) */
    double cs[9][32];
    for (int u = 1; u <= 8; u++)
        for (int x = 0; x < 32; x++) cs[u][x] = cos(3.14159265358979323846 * (2 * x + 1) * u / 64.0);
    double rows[32][9], c[64], sorted[64];
    for (int y = 0; y < 32; y++)
        for (int u = 1; u <= 8; u++) {
            double s = 0;
            for (int x = 0; x < 32; x++) s += t32[y * 32 + x] * cs[u][x];
            rows[y][u] = s;
        }
    for (int v = 1; v <= 8; v++)
        for (int u = 1; u <= 8; u++) {
            double s = 0;
            for (int y = 0; y < 32; y++) s += rows[y][u] * cs[v][y];
            c[(v - 1) * 8 + (u - 1)] = sorted[(v - 1) * 8 + (u - 1)] = s;
        }
    qsort(sorted, 64, sizeof *sorted, cmp_double);
    double med = (sorted[31] + sorted[32]) / 2;
    for (int i = 0; i < 64; i++) if (c[i] > med) o->phash |= (uint64_t)1 << i;
}

int vf_srv_hamming64(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

/* x = N^-1 v for a 4x4 system (Gauss-Jordan, partial pivoting); -1 when singular. */
static int solve4(double N[4][4], const double v[4], double x[4]) {
    double m[4][5];
    for (int i = 0; i < 4; i++) { memcpy(m[i], N[i], sizeof N[i]); m[i][4] = v[i]; }
    for (int c = 0; c < 4; c++) {
        int p = c;
        for (int r = c + 1; r < 4; r++) if (fabs(m[r][c]) > fabs(m[p][c])) p = r;
        if (fabs(m[p][c]) < 1e-9) return -1;
        for (int k = 0; k < 5; k++) { double t = m[c][k]; m[c][k] = m[p][k]; m[p][k] = t; }
        for (int r = 0; r < 4; r++)
            if (r != c) { double f = m[r][c] / m[c][c]; for (int k = 0; k < 5; k++) m[r][k] -= f * m[c][k]; }
    }
    for (int i = 0; i < 4; i++) x[i] = m[i][4] / m[i][i];
    return 0;
}

float vf_srv_print_distance(const vf_srv_frame_print *q, const uint16_t *thumb) {
    enum { G = VF_SRV_THUMB };
    /* least squares over the inner cells: q - t = o + g t + dx gx + dy gy (one Lucas-Kanade step) */
    double N[4][4] = {{0}}, v[4] = {0}, x[4] = {0};
    double sum_d = 0;
    int n = 0;
    for (int y = 1; y < G - 1; y++)
        for (int c = 1; c < G - 1; c++) {
            int i = y * G + c;
            double t = thumb[i] / 64.0, d = q->thumb[i] / 64.0 - t, f[4] = {1, t, q->gx[i], q->gy[i]};
            for (int a = 0; a < 4; a++) {
                v[a] += f[a] * d;
                for (int b = 0; b < 4; b++) N[a][b] += f[a] * f[b];
            }
            sum_d += d;
            n++;
        }
    if (solve4(N, v, x)) { x[0] = sum_d / n; x[1] = x[2] = x[3] = 0; }   /* a flat picture: offset only */
    double acc = 0;
    for (int y = 1; y < G - 1; y++)
        for (int c = 1; c < G - 1; c++) {
            int i = y * G + c;
            double t = thumb[i] / 64.0, d = q->thumb[i] / 64.0 - t;
            acc += fabs(d - x[0] - x[1] * t - x[2] * q->gx[i] - x[3] * q->gy[i]);
        }
    return (float)(acc / n);
}
