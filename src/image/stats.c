/* stats.c - capture-quality statistics of an image region, on BT.601 luma: mean, deviation,
 * histogram, Laplacian variance (blur), glare fraction; and a frame hash for duplicate frames.
 * Per frame: one pass over the pixels, no allocation (small fixed-size stack buffers only). */
#include "image.h"

#include <math.h>
#include <string.h>

/* BT.601 luma with the 16-bit weights of libjpeg and OpenCV (they sum to 65536): 0..255. */
static inline int luma_of(const uint8_t *p) { return (19595 * p[0] + 38470 * p[1] + 7471 * p[2] + 32768) >> 16; }

static inline int chroma_of(const uint8_t *p) {
    int mx = p[0], mn = p[0];
    if (p[1] > mx) mx = p[1];
    if (p[1] < mn) mn = p[1];
    if (p[2] > mx) mx = p[2];
    if (p[2] < mn) mn = p[2];
    return mx - mn;
}

vf_region_stats_options vf_region_stats_default_options(void) {
    vf_region_stats_options o;
    memset(&o, 0, sizeof o);
    o.laplacian_size = 128;
    o.glare_luma = 245;
    o.glare_chroma = 30;
    return o;
}

/* Clip rect (NULL = whole) to the image; VF_E_INVALID_ARG when nothing is left. */
static vf_status clip_region(vf_context *ctx, const vf_image *img, const vf_recti *rect, vf_recti *out) {
    if (!rect) {
        *out = (vf_recti){0, 0, img->width, img->height};
        return VF_OK;
    }
    int64_t x0 = rect->x, y0 = rect->y, x1 = (int64_t)rect->x + rect->width, y1 = (int64_t)rect->y + rect->height;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->width) x1 = img->width;
    if (y1 > img->height) y1 = img->height;
    if (rect->width <= 0 || rect->height <= 0 || x1 <= x0 || y1 <= y0)
        return vf__fail(ctx, VF_E_INVALID_ARG, "region (%d, %d, %d, %d) is empty or outside the %dx%d image", (int)rect->x,
                        (int)rect->y, (int)rect->width, (int)rect->height, (int)img->width, (int)img->height);
    *out = (vf_recti){(int32_t)x0, (int32_t)y0, (int32_t)(x1 - x0), (int32_t)(y1 - y0)};
    return VF_OK;
}

typedef struct acc {
    uint64_t sum, sumsq, glare;
    uint32_t *hist;              /* NULL = no histogram */
    int glare_luma, glare_chroma;
    double lsum, lsumsq;         /* Laplacian */
    double dsum[4], dsumsq[4];   /* directional second differences: 0, 45, 90, 135 degrees */
    uint64_t ln;
} acc;

enum { CHUNK = 1024 };           /* pixels per luma row chunk (stack buffers stay small) */

/* Luma of n <= CHUNK pixels into lum[], and their sums, histogram and glare count. Local
 * accumulators (n * 255^2 fits 32 bits); `hist` is a constant at each call site. */
static inline __attribute__((always_inline)) void luma_chunk(acc *a, const uint8_t *p, int32_t n, const int bpp, uint8_t *lum,
                                                             const bool hist) {
    uint32_t sum = 0, sumsq = 0, glare = 0;
    const int gl = a->glare_luma, gc = a->glare_chroma;
    uint32_t *h = a->hist;
    for (int32_t i = 0; i < n; i++, p += bpp) {
        uint32_t y = (uint32_t)luma_of(p);
        lum[i] = (uint8_t)y;
        sum += y;
        sumsq += y * y;
        if (hist) h[y]++;
        if ((int)y >= gl && chroma_of(p) <= gc) glare++; /* rare: a predictable branch */
    }
    a->sum += sum;
    a->sumsq += sumsq;
    a->glare += glare;
}

static void luma_chunk_any(acc *a, const uint8_t *p, int32_t n, int bpp, uint8_t *lum) {
    if (bpp == 4) {
        if (a->hist) luma_chunk(a, p, n, 4, lum, true);
        else luma_chunk(a, p, n, 4, lum, false);
    } else {
        if (a->hist) luma_chunk(a, p, n, 3, lum, true);
        else luma_chunk(a, p, n, 3, lum, false);
    }
}

/* Native resolution: luma rows in a 3-row ring, the region split into vertical strips of
 * CHUNK columns overlapping by 2 (so the ring has a fixed size; overlap columns are counted
 * once); the Laplacian in integers. */
static void stats_native(acc *a, const vf_image *img, const vf_recti *r) {
    uint8_t ring[3][CHUNK];
    const int bpp = (int)img->format;
    int64_t lsum = 0, dsum[4] = {0, 0, 0, 0};
    uint64_t lsumsq = 0, ln = 0, dsumsq[4] = {0, 0, 0, 0};
    for (int32_t sx = 0; sx < r->width; sx += CHUNK - 2) {
        int32_t n = r->width - sx < CHUNK ? r->width - sx : CHUNK;
        int32_t skip = sx == 0 ? 0 : 2; /* columns the previous strip counted */
        for (int32_t y = 0; y < r->height; y++) {
            const uint8_t *p = img->data + (size_t)(r->y + y) * img->stride + (size_t)(r->x + sx) * (size_t)bpp;
            uint8_t *row = ring[y % 3];
            for (int32_t i = 0; i < skip; i++) row[i] = (uint8_t)luma_of(p + (size_t)i * bpp);
            luma_chunk_any(a, p + (size_t)skip * bpp, n - skip, bpp, row + skip);
            if (y >= 2 && n >= 3) {
                const uint8_t *u = ring[(y - 2) % 3], *m = ring[(y - 1) % 3], *d = row;
                int32_t s1 = 0, t1[4] = {0, 0, 0, 0};
                uint32_t s2 = 0, t2[4] = {0, 0, 0, 0}; /* CHUNK * 1020^2 < 2^31 */
                for (int32_t i = 1; i + 1 < n; i++) {
                    int32_t c2 = 2 * (int32_t)m[i];
                    int32_t h = (int32_t)m[i - 1] + m[i + 1] - c2, v = (int32_t)u[i] + d[i] - c2;
                    int32_t d45 = (int32_t)u[i + 1] + d[i - 1] - c2, d135 = (int32_t)u[i - 1] + d[i + 1] - c2;
                    int32_t l = h + v;
                    s1 += l;
                    s2 += (uint32_t)(l * l);
                    t1[0] += h; t2[0] += (uint32_t)(h * h);
                    t1[1] += d45; t2[1] += (uint32_t)(d45 * d45);
                    t1[2] += v; t2[2] += (uint32_t)(v * v);
                    t1[3] += d135; t2[3] += (uint32_t)(d135 * d135);
                }
                lsum += s1;
                lsumsq += s2;
                for (int k = 0; k < 4; k++) { dsum[k] += t1[k]; dsumsq[k] += t2[k]; }
                ln += (uint64_t)(n - 2);
            }
        }
        if (sx + n >= r->width) break;
    }
    a->lsum = (double)lsum;
    a->lsumsq = (double)lsumsq;
    for (int k = 0; k < 4; k++) { a->dsum[k] = (double)dsum[k]; a->dsumsq[k] = (double)dsumsq[k]; }
    a->ln = ln;
}

/* On a grid: the region box-averaged to gw x gh (integer bands of source pixels), one grid row
 * at a time, the Laplacian on a 3-row ring of grid rows. */
static void stats_grid(acc *a, const vf_image *img, const vf_recti *r, int32_t gw, int32_t gh) {
    int32_t bx[VF_STATS_GRID_MAX + 1];
    uint64_t colsum[VF_STATS_GRID_MAX];
    float ring[3][VF_STATS_GRID_MAX];
    uint8_t lum[CHUNK];
    const int bpp = (int)img->format;
    for (int32_t i = 0; i <= gw; i++) bx[i] = (int32_t)((int64_t)i * r->width / gw);
    for (int32_t j = 0; j < gh; j++) {
        int32_t y0 = (int32_t)((int64_t)j * r->height / gh), y1 = (int32_t)((int64_t)(j + 1) * r->height / gh);
        memset(colsum, 0, sizeof colsum[0] * (size_t)gw);
        for (int32_t y = y0; y < y1; y++) {
            const uint8_t *p = img->data + (size_t)(r->y + y) * img->stride + (size_t)r->x * (size_t)bpp;
            int32_t band = 0;
            for (int32_t cx = 0; cx < r->width; cx += CHUNK) {
                int32_t n = r->width - cx < CHUNK ? r->width - cx : CHUNK;
                luma_chunk_any(a, p + (size_t)cx * bpp, n, bpp, lum);
                for (int32_t x = cx; x < cx + n;) { /* add the chunk to the bands it covers */
                    int32_t end = bx[band + 1] < cx + n ? bx[band + 1] : cx + n;
                    uint32_t s = 0; /* <= CHUNK * 255 */
                    for (; x < end; x++) s += lum[x - cx];
                    colsum[band] += s;
                    if (x == bx[band + 1]) band++;
                }
            }
        }
        float *row = ring[j % 3];
        for (int32_t i = 0; i < gw; i++) row[i] = (float)((double)colsum[i] / ((double)(bx[i + 1] - bx[i]) * (y1 - y0)));
        if (j >= 2) {
            const float *u = ring[(j - 2) % 3], *m = ring[(j - 1) % 3], *d = row;
            for (int32_t i = 1; i + 1 < gw; i++) {
                double c2 = 2.0 * m[i], h = (double)m[i - 1] + m[i + 1] - c2, v = (double)u[i] + d[i] - c2;
                double dd[4] = {h, (double)u[i + 1] + d[i - 1] - c2, v, (double)u[i - 1] + d[i + 1] - c2};
                double l = h + v;
                a->lsum += l;
                a->lsumsq += l * l;
                for (int k = 0; k < 4; k++) { a->dsum[k] += dd[k]; a->dsumsq[k] += dd[k] * dd[k]; }
                a->ln++;
            }
        }
    }
}

vf_status vf_image_region_stats(vf_context *ctx, const vf_image *img, const vf_recti *rect,
                                const vf_region_stats_options *opt, vf_region_stats *out) {
    if (!out) return vf__fail(ctx, VF_E_INVALID_ARG, "region stats: out is NULL");
    memset(out, 0, sizeof *out);
    vf_status s = vf_image_check(ctx, img);
    if (s) return s;
    vf_region_stats_options o = opt ? *opt : vf_region_stats_default_options();
    if (o.laplacian_size != 0 && (o.laplacian_size < 4 || o.laplacian_size > VF_STATS_GRID_MAX))
        return vf__fail(ctx, VF_E_INVALID_ARG, "region stats: laplacian_size %d is not 0 or 4..%d", o.laplacian_size,
                        VF_STATS_GRID_MAX);
    vf_recti r;
    s = clip_region(ctx, img, rect, &r);
    if (s) return s;

    acc a;
    memset(&a, 0, sizeof a);
    a.hist = o.histogram ? out->histogram : NULL;
    a.glare_luma = o.glare_luma;
    a.glare_chroma = o.glare_chroma;
    int32_t longer = r.width > r.height ? r.width : r.height;
    int32_t gw = r.width, gh = r.height;
    if (o.laplacian_size > 0 && longer > o.laplacian_size) {
        double f = (double)longer / o.laplacian_size;
        gw = (int32_t)(r.width / f + 0.5);
        gh = (int32_t)(r.height / f + 0.5);
        if (gw < 1) gw = 1;
        if (gh < 1) gh = 1;
        if (gw > r.width) gw = r.width;
        if (gh > r.height) gh = r.height;
        stats_grid(&a, img, &r, gw, gh);
    } else {
        stats_native(&a, img, &r);
    }

    const double n = (double)r.width * r.height;
    out->pixels = (int64_t)r.width * r.height;
    out->region = r;
    out->luma_mean = (double)a.sum / n;
    double var = (double)a.sumsq / n - out->luma_mean * out->luma_mean;
    out->luma_std = var > 0 ? sqrt(var) : 0;
    if (a.ln > 0) {
        double lm = a.lsum / (double)a.ln, lv = a.lsumsq / (double)a.ln - lm * lm;
        out->laplacian_var = lv > 0 ? lv : 0;
        for (int k = 0; k < 4; k++) {
            double dm = a.dsum[k] / (double)a.ln, dv = a.dsumsq[k] / (double)a.ln - dm * dm;
            out->second_diff_var[k] = dv > 0 ? dv : 0;
        }
    }
    out->laplacian_width = gw;
    out->laplacian_height = gh;
    out->glare_fraction = (double)a.glare / n;
    return VF_OK;
}

vf_status vf_image_frame_hash(vf_context *ctx, const vf_image *img, const vf_recti *rect, uint64_t *hash_out) {
    if (!hash_out) return vf__fail(ctx, VF_E_INVALID_ARG, "frame hash: out is NULL");
    *hash_out = 0;
    vf_status s = vf_image_check(ctx, img);
    if (s) return s;
    vf_recti r;
    s = clip_region(ctx, img, rect, &r);
    if (s) return s;
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64 */
#define FNV_BYTE(b) (h = (h ^ (uint8_t)(b)) * 1099511628211ull)
    uint32_t dims[2] = {(uint32_t)r.width, (uint32_t)r.height};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) FNV_BYTE(dims[i] >> (8 * k));
    int32_t gx = r.width < VF_FRAME_HASH_GRID ? r.width : VF_FRAME_HASH_GRID;
    int32_t gy = r.height < VF_FRAME_HASH_GRID ? r.height : VF_FRAME_HASH_GRID;
    const int bpp = (int)img->format;
    for (int32_t j = 0; j < gy; j++) {
        int32_t y = r.y + (int32_t)((int64_t)(2 * j + 1) * r.height / (2 * gy));
        const uint8_t *row = img->data + (size_t)y * img->stride;
        for (int32_t i = 0; i < gx; i++) {
            int32_t x = r.x + (int32_t)((int64_t)(2 * i + 1) * r.width / (2 * gx));
            const uint8_t *p = row + (size_t)x * (size_t)bpp;
            FNV_BYTE(p[0]);
            FNV_BYTE(p[1]);
            FNV_BYTE(p[2]);
        }
    }
#undef FNV_BYTE
    *hash_out = h;
    return VF_OK;
}
