/* pad_cues.c - two hand-made presentation-attack cues that MiniFASNet misses (docs/PIPELINE.md
 * has the measurements and the ablation).
 *
 * screen_edge: a phone, tablet or TV held up to the camera has a bezel: long straight edges
 *   around the face. Measured as the strongest straight line (Hough vote of edge pixels whose
 *   gradient is normal to the line) in a ring from 1.2 to 3.0 half face sizes around the face,
 *   on a luma grid where the face is 64 px wide, in face sizes. Rooms have straight lines too
 *   (doors, shelves), so this only shifts the fused score; it never decides alone.
 * moire: a recaptured screen or print adds the display's pixel grid, moire and sharpening:
 *   energy at 0.10-0.15 cycles per pixel of the native frame. Measured as the log share of that
 *   band in the luma spectrum (Hann-windowed 2-D FFT) of a 32 or 64 px square at the face centre.
 *
 * Both work on a caller-owned scratch block (vf_pad_scratch), so scoring allocates nothing. */
#include "face.h"

#include <math.h>
#include <string.h>

#define GRID_FACE 64                     /* face size on the edge grid */
#define RING_IN 1.2f                     /* ring, in half face sizes */
#define RING_OUT 3.0f
#define GRID_HALF 96                     /* GRID_FACE / 2 * RING_OUT */
#define GRID (2 * GRID_HALF + 1)
#define THETA_BINS 64
#define RHO_HALF 137                     /* > GRID_HALF * sqrt(2) */
#define RHO_BINS (2 * RHO_HALF + 1)
#define EDGE_MIN 24                      /* Sobel magnitude / 4, luma levels: a clear edge */
#define FFT_MAX 64

struct vf_pad_scratch {
    uint8_t grid[GRID * GRID], valid[GRID * GRID];
    uint16_t acc[THETA_BINS][RHO_BINS];
    float re[FFT_MAX * FFT_MAX], im[FFT_MAX * FFT_MAX];
};

size_t vf_pad_scratch_size(void) { return sizeof(vf_pad_scratch); }

static inline float luma_at(const vf_image *img, int x, int y) {
    const uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * (size_t)img->format;
    return (float)((19595 * p[0] + 38470 * p[1] + 7471 * p[2] + 32768) >> 16);
}

/* Box-average the square region around the face into the grid; cells outside the image are marked
 * invalid and never vote (a frame border is not a screen edge). */
static void fill_grid(const vf_image *img, float cx, float cy, float face, uint8_t *grid, uint8_t *valid) {
    float cell = face / GRID_FACE;          /* source pixels per grid cell */
    for (int gy = 0; gy < GRID; gy++) {
        float sy0 = cy + ((float)(gy - GRID_HALF) - 0.5f) * cell, sy1 = sy0 + cell;
        for (int gx = 0; gx < GRID; gx++) {
            float sx0 = cx + ((float)(gx - GRID_HALF) - 0.5f) * cell, sx1 = sx0 + cell;
            int x0 = (int)floorf(sx0), x1 = (int)ceilf(sx1), y0 = (int)floorf(sy0), y1 = (int)ceilf(sy1);
            if (x1 <= x0) x1 = x0 + 1;
            if (y1 <= y0) y1 = y0 + 1;
            if (x0 < 0 || y0 < 0 || x1 > img->width || y1 > img->height) { valid[gy * GRID + gx] = 0; grid[gy * GRID + gx] = 0; continue; }
            float s = 0;
            for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) s += luma_at(img, x, y);
            grid[gy * GRID + gx] = (uint8_t)(s / (float)((x1 - x0) * (y1 - y0)) + 0.5f);
            valid[gy * GRID + gx] = 1;
        }
    }
}

static float screen_edge(const vf_image *img, const float box[4], vf_pad_scratch *sc) {
    float fw = box[2] - box[0], fh = box[3] - box[1], face = fmaxf(fw, fh);
    float cx = 0.5f * (box[0] + box[2]), cy = 0.5f * (box[1] + box[3]);
    uint8_t *valid = sc->valid;
    fill_grid(img, cx, cy, face, sc->grid, valid);
    memset(sc->acc, 0, sizeof sc->acc);
    float hx = 0.5f * fw / face * GRID_FACE, hy = 0.5f * fh / face * GRID_FACE;   /* half box on the grid */
    static const float PI = 3.14159265358979f;
    for (int y = 1; y < GRID - 1; y++) {
        for (int x = 1; x < GRID - 1; x++) {
            float dx = fabsf((float)(x - GRID_HALF)) / hx, dy = fabsf((float)(y - GRID_HALF)) / hy, d = fmaxf(dx, dy);
            if (d < RING_IN || d > RING_OUT) continue;
            const uint8_t *g = sc->grid + y * GRID + x;
            const uint8_t *v = valid + y * GRID + x;
            if (!(v[-GRID - 1] & v[-GRID + 1] & v[GRID - 1] & v[GRID + 1] & v[-1] & v[1] & v[-GRID] & v[GRID])) continue;
            float gx = (float)(g[-GRID + 1] + 2 * g[1] + g[GRID + 1] - g[-GRID - 1] - 2 * g[-1] - g[GRID - 1]) * 0.25f;
            float gy = (float)(g[GRID - 1] + 2 * g[GRID] + g[GRID + 1] - g[-GRID - 1] - 2 * g[-GRID] - g[-GRID + 1]) * 0.25f;
            if (gx * gx + gy * gy < (float)(EDGE_MIN * EDGE_MIN)) continue;
            float th = atan2f(gy, gx);
            if (th < 0) th += PI;
            int ti = (int)(th / PI * THETA_BINS);
            if (ti >= THETA_BINS) ti = THETA_BINS - 1;
            float tc = ((float)ti + 0.5f) * PI / THETA_BINS;
            float rho = (float)(x - GRID_HALF) * cosf(tc) + (float)(y - GRID_HALF) * sinf(tc);
            int ri = (int)lrintf(rho) + RHO_HALF;
            if (ri >= 0 && ri < RHO_BINS && sc->acc[ti][ri] < UINT16_MAX) sc->acc[ti][ri]++;
        }
    }
    /* a line's votes spread over neighbouring angle bins (wrapping at 180 degrees) and two rho bins */
    int best = 0;
    for (int t = 0; t < THETA_BINS; t++) {
        int tp = (t + THETA_BINS - 1) % THETA_BINS;
        for (int r = 0; r + 1 < RHO_BINS; r++) {
            int v = sc->acc[t][r] + sc->acc[t][r + 1] + sc->acc[tp][r] + sc->acc[tp][r + 1];
            if (v > best) best = v;
        }
    }
    return (float)best / GRID_FACE;
}

/* In-place radix-2 FFT of n complex values spaced `step` apart. */
static void fft(float *re, float *im, int n, int step) {
    for (int i = 1, j = 0; i < n; i++) {
        int bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            float t = re[i * step]; re[i * step] = re[j * step]; re[j * step] = t;
            t = im[i * step]; im[i * step] = im[j * step]; im[j * step] = t;
        }
    }
    for (int len = 2; len <= n; len <<= 1) {
        double ang = -2.0 * 3.14159265358979323846 / len;
        for (int k = 0; k < len / 2; k++) {
            float wr = (float)cos(ang * k), wi = (float)sin(ang * k);
            for (int i = k; i < n; i += len) {
                int a = i * step, b = (i + len / 2) * step;
                float xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
                re[b] = re[a] - xr; im[b] = im[a] - xi;
                re[a] += xr; im[a] += xi;
            }
        }
    }
}

static float moire(const vf_image *img, const float box[4], vf_pad_scratch *sc) {
    float fw = box[2] - box[0];
    int n = 0.6f * fw >= 64 ? 64 : 0.6f * fw >= 32 ? 32 : 0;
    if (n == 0 || img->width < n || img->height < n) return NAN;
    int x0 = (int)lrintf(0.5f * (box[0] + box[2])) - n / 2, y0 = (int)lrintf(0.5f * (box[1] + box[3])) - n / 2;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x0 + n > img->width) x0 = img->width - n;
    if (y0 + n > img->height) y0 = img->height - n;
    double mean = 0;
    for (int y = 0; y < n; y++) for (int x = 0; x < n; x++) mean += luma_at(img, x0 + x, y0 + y);
    mean /= (double)(n * n);
    static const double TWO_PI = 6.283185307179586;
    for (int y = 0; y < n; y++) {
        float wy = (float)(0.5 - 0.5 * cos(TWO_PI * (y + 0.5) / n));
        for (int x = 0; x < n; x++) {
            float wx = (float)(0.5 - 0.5 * cos(TWO_PI * (x + 0.5) / n));
            sc->re[y * n + x] = (luma_at(img, x0 + x, y0 + y) - (float)mean) * wx * wy;
            sc->im[y * n + x] = 0;
        }
    }
    for (int y = 0; y < n; y++) fft(sc->re + y * n, sc->im + y * n, n, 1);
    for (int x = 0; x < n; x++) fft(sc->re + x, sc->im + x, n, n);
    double total = 0, band = 0;
    for (int v = 0; v < n; v++) {
        int fv = v < n / 2 ? v : v - n;
        for (int u = 0; u < n; u++) {
            int fu = u < n / 2 ? u : u - n;
            double r = sqrt((double)(fu * fu + fv * fv)) / n;    /* cycles per pixel */
            if (r < 2.0 / n) continue;                            /* DC and the window's leakage */
            double p = (double)sc->re[v * n + u] * sc->re[v * n + u] + (double)sc->im[v * n + u] * sc->im[v * n + u];
            total += p;
            if (r >= 0.10 && r < 0.15) band += p;
        }
    }
    return total > 0 ? (float)log(band / total + 1e-9) : NAN;
}

vf_status vf_pad_cues_measure(vf_context *ctx, const vf_image *img, const float box[4], vf_pad_scratch *sc,
                              vf_pad_cues *out) {
    if (!img || !box || !sc || !out) return vf__fail(ctx, VF_E_INVALID_ARG, "pad cues: NULL argument");
    if (!(box[2] - box[0] >= 8 && box[3] - box[1] >= 8) || !isfinite(box[0] + box[1] + box[2] + box[3]))
        return vf__fail(ctx, VF_E_INVALID_ARG, "pad cues: face box too small or not finite");
    out->screen_edge = screen_edge(img, box, sc);
    out->moire = moire(img, box, sc);
    return VF_OK;
}
