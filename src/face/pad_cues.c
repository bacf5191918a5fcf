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
 * Both are continuous in the face box (no step when it moves a fraction of a pixel: the score must
 * not be searchable by jittering the box, and client and server scores are compared): fractional
 * area weights, soft thresholds and bilinear votes instead of rounding (docs/PIPELINE.md).
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
#define EDGE_MIN 24.0f                   /* Sobel magnitude / 4, luma levels: a clear edge */
#define EDGE_RAMP 12.0f                  /* its soft band, so a vote never appears at once */
#define FFT_MAX 64
#define MOIRE_BLEND 72.0f

struct vf_pad_scratch {
    float grid[GRID * GRID], cover[GRID * GRID];
    float acc[THETA_BINS][RHO_BINS];
    float re[FFT_MAX * FFT_MAX], im[FFT_MAX * FFT_MAX];
};

size_t vf_pad_scratch_size(void) { return sizeof(vf_pad_scratch); }

static inline float luma_at(const vf_image *img, int x, int y) {
    const uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * (size_t)img->format;
    return (float)((19595 * p[0] + 38470 * p[1] + 7471 * p[2] + 32768) >> 16);
}

static inline float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* Overlap of pixel [i, i+1) with [a, b). */
static inline float overlap(int i, float a, float b) { return fmaxf(0.0f, fminf(b, (float)i + 1) - fmaxf(a, (float)i)); }

/* Area-average the square region around the face into the grid: every pixel weighted by the share
 * of it inside the cell, so the grid moves continuously with the box (no step when a cell edge
 * crosses a pixel edge). cover is the share of the cell inside the image; cells over the frame
 * border vote with that weight (a frame border is not a screen edge). */
static void fill_grid(const vf_image *img, float cx, float cy, float face, float *grid, float *cover) {
    float cell = face / GRID_FACE;          /* source pixels per grid cell */
    for (int gy = 0; gy < GRID; gy++) {
        float sy0 = cy + ((float)(gy - GRID_HALF) - 0.5f) * cell, sy1 = sy0 + cell;
        float cy0 = fmaxf(sy0, 0), cy1 = fminf(sy1, (float)img->height);
        for (int gx = 0; gx < GRID; gx++) {
            float sx0 = cx + ((float)(gx - GRID_HALF) - 0.5f) * cell, sx1 = sx0 + cell;
            float cx0 = fmaxf(sx0, 0), cx1 = fminf(sx1, (float)img->width);
            float *g = grid + gy * GRID + gx, *c = cover + gy * GRID + gx;
            *g = 0;
            *c = fmaxf(0, cx1 - cx0) * fmaxf(0, cy1 - cy0) / (cell * cell);
            if (!(*c > 0)) { *c = 0; continue; }
            int x0 = (int)floorf(cx0), x1 = (int)ceilf(cx1), y0 = (int)floorf(cy0), y1 = (int)ceilf(cy1);
            float s = 0, sw = 0;
            for (int y = y0; y < y1; y++) {
                float wy = overlap(y, cy0, cy1);
                for (int x = x0; x < x1; x++) {
                    float w = wy * overlap(x, cx0, cx1);
                    s += w * luma_at(img, x, y);
                    sw += w;
                }
            }
            *g = sw > 0 ? s / sw : 0;
        }
    }
}

/* Vote weight w into the accumulator at a continuous (theta bin, rho) - bilinear in both, so the
 * peak moves continuously with the edges. Theta wraps at 180 degrees, where rho changes sign. */
static void splat(vf_pad_scratch *sc, float t, float rho, float w) {
    int t0 = (int)floorf(t);
    float ft = t - (float)t0;
    for (int k = 0; k < 2; k++) {
        int ti = t0 + k;
        float wt = w * (k ? ft : 1 - ft);
        if (wt <= 0) continue;
        float r = rho;
        if (ti < 0) { ti += THETA_BINS; r = -r; }
        else if (ti >= THETA_BINS) { ti -= THETA_BINS; r = -r; }
        float rr = r + RHO_HALF;
        int r0 = (int)floorf(rr);
        float fr = rr - (float)r0;
        if (r0 >= 0 && r0 < RHO_BINS) sc->acc[ti][r0] += wt * (1 - fr);
        if (r0 + 1 >= 0 && r0 + 1 < RHO_BINS) sc->acc[ti][r0 + 1] += wt * fr;
    }
}

static float screen_edge(const vf_image *img, const float box[4], vf_pad_scratch *sc) {
    float fw = box[2] - box[0], fh = box[3] - box[1], face = fmaxf(fw, fh);
    float cx = 0.5f * (box[0] + box[2]), cy = 0.5f * (box[1] + box[3]);
    float *cover = sc->cover;
    fill_grid(img, cx, cy, face, sc->grid, cover);
    memset(sc->acc, 0, sizeof sc->acc);
    float hx = 0.5f * fw / face * GRID_FACE, hy = 0.5f * fh / face * GRID_FACE;   /* half box on the grid */
    static const float PI = 3.14159265358979f;
    for (int y = 1; y < GRID - 1; y++) {
        for (int x = 1; x < GRID - 1; x++) {
            /* the ring's borders ramp over one cell (signed distances in cells to its rectangles) */
            float ax = fabsf((float)(x - GRID_HALF)), ay = fabsf((float)(y - GRID_HALF));
            float w_in = clamp01(0.5f - fminf(RING_IN * hx - ax, RING_IN * hy - ay));
            float w_out = clamp01(0.5f + fminf(RING_OUT * hx - ax, RING_OUT * hy - ay));
            float w = w_in * w_out;
            if (w <= 0) continue;
            const float *g = sc->grid + y * GRID + x, *c = cover + y * GRID + x;
            float cv = fminf(fminf(fminf(c[-GRID - 1], c[-GRID + 1]), fminf(c[GRID - 1], c[GRID + 1])),
                             fminf(fminf(c[-1], c[1]), fminf(fminf(c[-GRID], c[GRID]), c[0])));
            w *= cv;
            if (w <= 0) continue;
            float gx = (g[-GRID + 1] + 2 * g[1] + g[GRID + 1] - g[-GRID - 1] - 2 * g[-1] - g[GRID - 1]) * 0.25f;
            float gy = (g[GRID - 1] + 2 * g[GRID] + g[GRID + 1] - g[-GRID - 1] - 2 * g[-GRID] - g[-GRID + 1]) * 0.25f;
            /* a clear edge: the weight ramps from 0 to 1 over EDGE_MIN -+ EDGE_RAMP */
            float mag = sqrtf(gx * gx + gy * gy);
            w *= clamp01((mag - (EDGE_MIN - EDGE_RAMP)) / (2 * EDGE_RAMP));
            if (w <= 0) continue;
            float th = atan2f(gy, gx);
            if (th < 0) th += PI;
            float t = th / PI * THETA_BINS - 0.5f;                 /* in bins, centre of bin 0 at 0 */
            /* rho at the edge's own angle: the bilinear split in theta carries the rest */
            float rho = (float)(x - GRID_HALF) * cosf(th) + (float)(y - GRID_HALF) * sinf(th);
            splat(sc, t, rho, w);
        }
    }
    /* a line's votes spread over neighbouring angle bins and two rho bins; past 180 degrees (bin 0
     * with the last bin) rho changes sign */
    float best = 0;
    for (int t = 0; t < THETA_BINS; t++) {
        int tp = (t + THETA_BINS - 1) % THETA_BINS;
        for (int r = 0; r + 1 < RHO_BINS; r++) {
            int p0 = t ? r : RHO_BINS - 1 - r, p1 = t ? r + 1 : RHO_BINS - 2 - r;
            float v = sc->acc[t][r] + sc->acc[t][r + 1] + sc->acc[tp][p0] + sc->acc[tp][p1];
            if (v > best) best = v;
        }
    }
    return best / GRID_FACE;
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

/* The band share of an n x n window centred at (cx, cy), a fractional position: the Hann window
 * is centred there and evaluated on whole pixels, so a pixel enters or leaves the window at weight
 * 0 and the measure moves continuously with the box. NAN when the image is smaller than n. */
static float moire_at(const vf_image *img, float cx, float cy, int n, vf_pad_scratch *sc) {
    if (img->width < n + 1 || img->height < n + 1) return NAN;
    /* window support (ox, ox + n) in continuous coordinates, kept inside the image; the pixels whose
     * centres fall in it are xs .. xs + n - 1 (pixel i at u = (i + 0.5 - ox) / n of the window) */
    float ox = fminf(fmaxf(cx - 0.5f * (float)n, 0), (float)img->width - (float)n - 0.5f);
    float oy = fminf(fmaxf(cy - 0.5f * (float)n, 0), (float)img->height - (float)n - 0.5f);
    int xs = (int)floorf(ox - 0.5f) + 1, ys = (int)floorf(oy - 0.5f) + 1;
    static const double TWO_PI = 6.283185307179586;
    float wx[FFT_MAX], wy[FFT_MAX];
    for (int i = 0; i < n; i++) {
        double ux = ((double)xs + i + 0.5 - ox) / n, uy = ((double)ys + i + 0.5 - oy) / n;
        wx[i] = ux > 0 && ux < 1 ? (float)(0.5 - 0.5 * cos(TWO_PI * ux)) : 0;
        wy[i] = uy > 0 && uy < 1 ? (float)(0.5 - 0.5 * cos(TWO_PI * uy)) : 0;
    }
    double mean = 0, wsum = 0;                               /* the window's weighted mean */
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            float l = luma_at(img, xs + x, ys + y);
            sc->re[y * n + x] = l;
            mean += (double)(wx[x] * wy[y]) * l;
            wsum += wx[x] * wy[y];
        }
    mean = wsum > 0 ? mean / wsum : 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            sc->re[y * n + x] = (sc->re[y * n + x] - (float)mean) * wx[x] * wy[y];
            sc->im[y * n + x] = 0;
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

/* 64 px square from 0.6 face widths of 64 px up, 32 px below; between 64 and MOIRE_BLEND px the two
 * are blended, so the choice is no step in the face width. */
static float moire(const vf_image *img, const float box[4], vf_pad_scratch *sc) {
    float fw = 0.6f * (box[2] - box[0]);
    float cx = 0.5f * (box[0] + box[2]), cy = 0.5f * (box[1] + box[3]);
    if (fw < 32) return NAN;
    float t = clamp01((fw - 64) / (MOIRE_BLEND - 64));
    float m32 = t < 1 ? moire_at(img, cx, cy, 32, sc) : 0, m64 = t > 0 ? moire_at(img, cx, cy, 64, sc) : 0;
    if (t > 0 && t < 1 && !isfinite(m64)) return m32;
    return (1 - t) * m32 + t * m64;
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
