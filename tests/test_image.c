/* test_image.c - the image layer: decoding (round trips through stb_image_write, truncation at
 * every length, hostile headers, zlib bombs, garbage, EXIF orientation 1..8), sampling into
 * tensors (against analytic values and a double-precision reference), similarity fits, region
 * statistics and the frame hash; the shared data set when present; per-call timings.
 *   test_image [DATA_DIR]     DATA_DIR = ../shared/data (faces/identities.csv, pad/labels.csv) */
#include "image/image.h"
#include "image/markers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#if __has_include(<stb_image_write.h>)
#include <stb_image_write.h>
#else
#include <stb/stb_image_write.h>
#endif
#pragma GCC diagnostic pop
#include "test_util.h"

static int g_fail, g_pass;
#define CHECK(cond, ...) do { if (cond) g_pass++; else { g_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static vf_context *g_ctx;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint32_t g_rng = 2463534242u;
static uint32_t rnd(void) { g_rng ^= g_rng << 13; g_rng ^= g_rng >> 17; g_rng ^= g_rng << 5; return g_rng; }
static double rndu(void) { return rnd() / 4294967296.0; }

/* ---- byte buffers and encoders -------------------------------------------------------------- */

static void mb_be32(membuf *b, uint32_t v) { uint8_t t[4] = {v >> 24, v >> 16, v >> 8, v}; mb_put(b, t, 4); }

static membuf encode_png(const uint8_t *px, int w, int h, int comp) {
    membuf b = {0};
    stbi_write_png_to_func(mb_write, &b, w, h, comp, px, w * comp);
    return b;
}
static membuf encode_jpg(const uint8_t *px, int w, int h, int comp, int quality) {
    membuf b = {0};
    stbi_write_jpg_to_func(mb_write, &b, w, h, comp, px, quality);
    return b;
}

static void png_chunk(membuf *b, const char *type, const uint8_t *d, uint32_t n) {
    mb_be32(b, n);
    size_t at = b->n;
    mb_put(b, type, 4);
    if (n) mb_put(b, d, n);
    mb_be32(b, vf_crc32(0, b->p + at, 4 + (size_t)n));
}

/* A PNG built by hand (for what stb_image_write cannot write: 16-bit, palettes, huge headers,
 * zlib bombs): IHDR, optional PLTE, one IDAT holding zlib(raw), IEND. */
static membuf build_png(uint32_t w, uint32_t h, int depth, int ctype, const uint8_t *plte, int plte_n, const uint8_t *raw,
                        size_t raw_n) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    membuf b = {0};
    mb_put(&b, sig, 8);
    uint8_t ihdr[13] = {w >> 24, w >> 16, w >> 8, w, h >> 24, h >> 16, h >> 8, h, (uint8_t)depth, (uint8_t)ctype, 0, 0, 0};
    png_chunk(&b, "IHDR", ihdr, 13);
    if (plte) png_chunk(&b, "PLTE", plte, (uint32_t)plte_n * 3);
    int zn = 0;
    uint8_t *z = stbi_zlib_compress((uint8_t *)raw, (int)raw_n, &zn, 5);
    png_chunk(&b, "IDAT", z, (uint32_t)zn);
    free(z);
    png_chunk(&b, "IEND", NULL, 0);
    return b;
}

/* An APP1 EXIF segment holding orientation o (as a SHORT in IFD0), inserted after SOI. */
static membuf jpeg_with_orientation(const membuf *jpg, int o, int little_endian) {
    uint8_t seg[36];
    size_t n = 0;
#define P8(v) (seg[n++] = (uint8_t)(v))
#define P16(v) (little_endian ? (P8((v) & 255), P8((v) >> 8)) : (P8((v) >> 8), P8((v) & 255)))
#define P32(v) (little_endian ? (P16((v) & 0xFFFF), P16((uint32_t)(v) >> 16)) : (P16((uint32_t)(v) >> 16), P16((v) & 0xFFFF)))
    P8(0xFF); P8(0xE1); P8(0); P8(34);
    memcpy(seg + n, "Exif\0\0", 6); n += 6;
    P8(little_endian ? 'I' : 'M'); P8(little_endian ? 'I' : 'M'); P16(42); P32(8);
    P16(1);                                  /* one entry */
    P16(0x0112); P16(3); P32(1); P16(o); P16(0); /* orientation, SHORT, count 1, value */
    P32(0);                                  /* no next IFD */
#undef P8
#undef P16
#undef P32
    membuf b = {0};
    mb_put(&b, jpg->p, 2);
    mb_put(&b, seg, n);
    mb_put(&b, jpg->p + 2, jpg->n - 2);
    return b;
}


/* ---- synthetic images ----------------------------------------------------------------------- */

/* Smooth colour pattern (JPEG-friendly), or noise. */
static uint8_t *make_image(int w, int h, int bpp, int noise) {
    uint8_t *p = malloc((size_t)w * h * bpp);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * bpp;
            if (noise) {
                q[0] = rnd(); q[1] = rnd(); q[2] = rnd();
            } else {
                q[0] = (uint8_t)(x * 255 / (w - 1));
                q[1] = (uint8_t)(y * 255 / (h - 1));
                q[2] = (uint8_t)(128 + 100 * sin(x * 0.2) * cos(y * 0.15));
            }
            if (bpp == 4) q[3] = (uint8_t)(noise ? (int)(rnd() & 255) : 255 - x);
        }
    return p;
}

static vf_image view_of(const uint8_t *p, int w, int h, int bpp) {
    vf_image v = {w, h, (size_t)w * bpp, (vf_pixel_format)bpp, p};
    return v;
}

/* ---- decoding ------------------------------------------------------------------------------------ */

static vf_status decode(const void *b, size_t n, vf_pixel_format f, vf_image_buffer *out, vf_image_info *info) {
    vf_image_decode_options o = vf_image_decode_default_options();
    o.format = f;
    return vf_image_decode(g_ctx, b, n, &o, out, info);
}

static void test_png_roundtrip(void) {
    const int w = 37, h = 23;
    for (int comp = 1; comp <= 4; comp++) {
        uint8_t *src = malloc((size_t)w * h * comp);
        for (int i = 0; i < w * h * comp; i++) src[i] = (uint8_t)rnd();
        membuf png = encode_png(src, w, h, comp);
        for (int f = 3; f <= 4; f++) {
            vf_image_buffer buf;
            vf_image_info info;
            vf_status s = decode(png.p, png.n, (vf_pixel_format)f, &buf, &info);
            CHECK(s == VF_OK, "PNG comp %d -> %d: %s", comp, f, vf_context_last_error(g_ctx));
            if (s) continue;
            CHECK(buf.width == w && buf.height == h && buf.stride == (size_t)w * f && info.codec == VF_IMAGE_CODEC_PNG &&
                      info.channels == comp && ((uintptr_t)buf.data & 63) == 0,
                  "PNG comp %d: %dx%d stride %zu channels %d", comp, buf.width, buf.height, buf.stride, info.channels);
            int bad = 0;
            for (int i = 0; i < w * h; i++) {
                const uint8_t *s0 = src + i * comp, *d = buf.data + i * f;
                uint8_t r = s0[0], g = comp >= 3 ? s0[1] : s0[0], b = comp >= 3 ? s0[2] : s0[0];
                uint8_t a = comp == 2 ? s0[1] : comp == 4 ? s0[3] : 255;
                if (d[0] != r || d[1] != g || d[2] != b || (f == 4 && d[3] != a)) bad++;
            }
            CHECK(bad == 0, "PNG comp %d -> %d: %d pixels differ", comp, f, bad);
            vf_image_buffer_free(&buf);
        }
        free(png.p);
        free(src);
    }
}

static void test_png_hand_built(void) {
    /* 16-bit RGBA: stb keeps the high byte */
    const int w = 20, h = 10;
    membuf raw = {0};
    uint8_t expect[20 * 10 * 4];
    for (int y = 0; y < h; y++) {
        uint8_t f0 = 0;
        mb_put(&raw, &f0, 1);
        for (int x = 0; x < w * 4; x++) {
            uint16_t v = (uint16_t)(rnd() & 0xFFFF);
            uint8_t be[2] = {v >> 8, v & 255};
            mb_put(&raw, be, 2);
            expect[y * w * 4 + x] = v >> 8;
        }
    }
    membuf png = build_png(w, h, 16, 6, NULL, 0, raw.p, raw.n);
    vf_image_buffer buf;
    vf_image_info info;
    vf_status s = decode(png.p, png.n, VF_PIXEL_RGBA8, &buf, &info);
    CHECK(s == VF_OK && memcmp(buf.data, expect, sizeof expect) == 0, "16-bit RGBA PNG: %s", vf_context_last_error(g_ctx));
    if (s == VF_OK) printf("info: 16-bit PNG decoder peak %zu bytes for %d pixels\n", info.decoder_peak_bytes, w * h);
    vf_image_buffer_free(&buf);
    free(png.p);
    free(raw.p);

    /* palette, 8-bit indices */
    uint8_t plte[4 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 8, 7};
    raw.p = NULL; raw.n = raw.cap = 0;
    uint8_t idx[5 * 4];
    for (int y = 0; y < 4; y++) {
        uint8_t f0 = 0;
        mb_put(&raw, &f0, 1);
        for (int x = 0; x < 5; x++) idx[y * 5 + x] = (uint8_t)((x + y) % 4);
        mb_put(&raw, idx + y * 5, 5);
    }
    png = build_png(5, 4, 8, 3, plte, 4, raw.p, raw.n);
    s = decode(png.p, png.n, VF_PIXEL_RGB8, &buf, NULL);
    int bad = s != VF_OK;
    for (int i = 0; !bad && i < 20; i++) bad = memcmp(buf.data + i * 3, plte + idx[i] * 3, 3) != 0;
    CHECK(!bad, "palette PNG: %s", vf_context_last_error(g_ctx));
    vf_image_buffer_free(&buf);
    free(png.p);

    /* a palette index past PLTE */
    raw.p[1] = 7;
    png = build_png(5, 4, 8, 3, plte, 4, raw.p, raw.n);
    s = decode(png.p, png.n, VF_PIXEL_RGB8, &buf, NULL);
    CHECK(s == VF_OK || s == VF_E_IMAGE, "palette index out of range: status %d", s);
    vf_image_buffer_free(&buf);
    free(png.p);
    free(raw.p);
}

static void test_jpeg_roundtrip(void) {
    const int w = 64, h = 48;
    for (int comp = 3; comp <= 4; comp++) {
        uint8_t *src = make_image(w, h, comp, 0);
        membuf jpg = encode_jpg(src, w, h, comp, 95);
        vf_image_buffer buf;
        vf_image_info info;
        vf_status s = decode(jpg.p, jpg.n, VF_PIXEL_RGB8, &buf, &info);
        CHECK(s == VF_OK, "JPEG decode: %s", vf_context_last_error(g_ctx));
        if (s == VF_OK) {
            double sum = 0;
            int mx = 0;
            for (int i = 0; i < w * h; i++)
                for (int c = 0; c < 3; c++) {
                    int d = abs((int)buf.data[i * 3 + c] - src[i * comp + c]);
                    sum += d;
                    if (d > mx) mx = d;
                }
            double mean = sum / (w * h * 3);
            CHECK(mean < 2.0 && mx < 40, "JPEG quality 95: mean abs error %.2f, max %d", mean, mx);
            CHECK(info.codec == VF_IMAGE_CODEC_JPEG && info.orientation == 1 && info.jpeg_scans == 1 && !info.progressive,
                  "JPEG info: codec %d orientation %d scans %d", info.codec, info.orientation, info.jpeg_scans);
        }
        vf_image_buffer_free(&buf);
        free(jpg.p);
        free(src);
    }
}

/* A 16x16 progressive JPEG (10 scans): x*16, y*16, 128+4*(x-y) written by stb_image_write at
 * quality 95, then `jpegtran -progressive` (libjpeg-turbo 2.1.5): stb_image_write cannot make one. */
static const uint8_t progressive_jpg[] = {
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01,
  0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43,
  0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04,
  0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06,
  0x07, 0x09, 0x08, 0x06, 0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08,
  0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08, 0x0b, 0x0c, 0x0b, 0x0a,
  0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x02, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x05, 0x03, 0x03, 0x05, 0x0a, 0x07, 0x06, 0x07,
  0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
  0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
  0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
  0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
  0x0a, 0x0a, 0xff, 0xc2, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10, 0x03,
  0x01, 0x11, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x00,
  0x16, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x06, 0x08, 0xff, 0xc4, 0x00,
  0x16, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x04, 0x08, 0xff, 0xda, 0x00,
  0x0c, 0x03, 0x01, 0x00, 0x02, 0x10, 0x03, 0x10, 0x00, 0x00, 0x01, 0xcf,
  0xe9, 0x11, 0xaa, 0x48, 0xf7, 0x76, 0x2b, 0x87, 0x95, 0x24, 0x7b, 0xff,
  0xc4, 0x00, 0x16, 0x10, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0xff,
  0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x05, 0x02, 0x51, 0x2e, 0x28,
  0x97, 0x14, 0x4b, 0x8a, 0x25, 0xcf, 0xff, 0xc4, 0x00, 0x18, 0x11, 0x00,
  0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0x21, 0x31, 0xff, 0xda, 0x00, 0x08,
  0x01, 0x03, 0x01, 0x01, 0x3f, 0x01, 0x8e, 0x3d, 0xcb, 0x23, 0x8f, 0x72,
  0xc8, 0xe3, 0xdc, 0xb2, 0x38, 0xf7, 0x2c, 0xff, 0xc4, 0x00, 0x17, 0x11,
  0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x06, 0x61, 0xff, 0xda, 0x00, 0x08,
  0x01, 0x02, 0x01, 0x01, 0x3f, 0x01, 0x7a, 0x1d, 0x1e, 0x87, 0x47, 0xa1,
  0xd1, 0xe8, 0x74, 0xff, 0xc4, 0x00, 0x16, 0x10, 0x00, 0x03, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x01, 0x23, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x06, 0x3f,
  0x02, 0x53, 0x14, 0xc5, 0x31, 0x4c, 0xff, 0xc4, 0x00, 0x15, 0x10, 0x01,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0xf1, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00,
  0x01, 0x3f, 0x21, 0x98, 0x98, 0x98, 0x98, 0xff, 0xda, 0x00, 0x0c, 0x03,
  0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10, 0xb2, 0x8f, 0xff,
  0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xff, 0xda, 0x00,
  0x08, 0x01, 0x03, 0x01, 0x01, 0x3f, 0x10, 0x04, 0x44, 0x5f, 0xff, 0xc4,
  0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xff, 0xda, 0x00, 0x08,
  0x01, 0x02, 0x01, 0x01, 0x3f, 0x10, 0x0d, 0xb7, 0xff, 0xc4, 0x00, 0x15,
  0x10, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa1, 0xff, 0xda, 0x00, 0x08, 0x01,
  0x01, 0x00, 0x01, 0x3f, 0x10, 0x9e, 0xcf, 0x67, 0xb3, 0xdf, 0xff, 0xd9
};

static void test_progressive_and_interlaced(void) {
    vf_image_buffer buf;
    vf_image_info info;
    vf_status s = decode(progressive_jpg, sizeof progressive_jpg, VF_PIXEL_RGB8, &buf, &info);
    int mx = 0;
    for (int y = 0; s == VF_OK && y < 16; y++)
        for (int x = 0; x < 16; x++) {
            int e[3] = {x * 16, y * 16, 128 + 4 * (x - y)};
            for (int c = 0; c < 3; c++) {
                int d = abs((int)buf.data[(y * 16 + x) * 3 + c] - e[c]);
                if (d > mx) mx = d;
            }
        }
    CHECK(s == VF_OK && info.progressive && info.jpeg_scans == 10 && mx <= 6, "progressive JPEG: status %d, scans %d, max error %d",
          s, info.jpeg_scans, mx);
    vf_image_buffer_free(&buf);

    /* Adam7-interlaced RGB PNG, 13x11: the seven passes written by hand */
    static const int pass[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    const int w = 13, h = 11;
    uint8_t *px = make_image(w, h, 3, 1);
    membuf raw = {0};
    for (int p = 0; p < 7; p++) {
        int pw = (w - pass[p][0] + pass[p][2] - 1) / pass[p][2], ph = (h - pass[p][1] + pass[p][3] - 1) / pass[p][3];
        if (pw <= 0 || ph <= 0) continue;
        for (int y = 0; y < ph; y++) {
            uint8_t f0 = 0;
            mb_put(&raw, &f0, 1);
            for (int x = 0; x < pw; x++) mb_put(&raw, px + ((pass[p][1] + y * pass[p][3]) * w + pass[p][0] + x * pass[p][2]) * 3, 3);
        }
    }
    membuf png = build_png(w, h, 8, 2, NULL, 0, raw.p, raw.n);
    png.p[8 + 8 + 12] = 1; /* IHDR interlace method, then fix its CRC */
    uint32_t crc = vf_crc32(0, png.p + 12, 17);
    png.p[29] = crc >> 24; png.p[30] = crc >> 16; png.p[31] = crc >> 8; png.p[32] = crc;
    s = decode(png.p, png.n, VF_PIXEL_RGB8, &buf, NULL);
    CHECK(s == VF_OK && memcmp(buf.data, px, (size_t)w * h * 3) == 0, "interlaced PNG: %s", vf_context_last_error(g_ctx));
    vf_image_buffer_free(&buf);
    free(png.p);
    free(raw.p);
    free(px);
}

/* Every truncation of a small file must fail with VF_E_IMAGE. */
static void test_truncation(void) {
    uint8_t *src = make_image(40, 30, 3, 0);
    membuf files[2] = {encode_jpg(src, 40, 30, 3, 90), encode_png(src, 40, 30, 3)};
    for (int f = 0; f < 2; f++) {
        int wrong = 0;
        vf_status first_bad = VF_OK;
        size_t at = 0;
        for (size_t n = 0; n < files[f].n; n++) {
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, files[f].p, n);
            vf_image_buffer buf;
            vf_status s = decode(cut, n, VF_PIXEL_RGBA8, &buf, NULL);
            if (s != VF_E_IMAGE && !wrong++) { first_bad = s; at = n; }
            vf_image_buffer_free(&buf);
            free(cut);
        }
        CHECK(wrong == 0, "%s: %d of %zu truncations not refused (first at %zu bytes: status %d)", f ? "PNG" : "JPEG", wrong,
              files[f].n, at, first_bad);
        vf_image_buffer buf;
        CHECK(decode(files[f].p, files[f].n - 1, VF_PIXEL_RGBA8, &buf, NULL) == VF_E_IMAGE &&
                  strstr(vf_context_last_error(g_ctx), "truncated"),
              "%s cut by one byte: message '%s'", f ? "PNG" : "JPEG", vf_context_last_error(g_ctx));
    }
    /* a flipped bit inside PNG image data: CRC */
    membuf *png = &files[1];
    png->p[png->n - 20] ^= 0x10;
    vf_image_buffer buf;
    CHECK(decode(png->p, png->n, VF_PIXEL_RGBA8, &buf, NULL) == VF_E_IMAGE && strstr(vf_context_last_error(g_ctx), "CRC"),
          "corrupt IDAT: %s", vf_context_last_error(g_ctx));
    /* trailing bytes after the end are fine (cameras append data after EOI) */
    membuf jpg = {0};
    mb_put(&jpg, files[0].p, files[0].n);
    mb_put(&jpg, "trailing", 8);
    CHECK(decode(jpg.p, jpg.n, VF_PIXEL_RGBA8, &buf, NULL) == VF_OK, "JPEG with trailing bytes: %s", vf_context_last_error(g_ctx));
    vf_image_buffer_free(&buf);
    free(jpg.p);
    free(files[0].p);
    free(files[1].p);
    free(src);
}

/* Scan data cut short, the end marker kept: stb_image runs out of bits inside the entropy
 * stream (the case of nothings/stb#1293, found by fuzz_image_decode). Every such file must decode
 * to an image of the coded size or fail with VF_E_IMAGE, and two decodes must give the same
 * pixels (nothing undefined read). Run under build-ubsan as well. Returns the files decoded. */
static int short_scans(const char *what, const uint8_t *jpg, size_t n, int w, int h) {
    size_t sos = 0;
    for (size_t i = 2; i + 3 < n; i++)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xDA) { sos = i + 2 + ((size_t)jpg[i + 2] << 8 | jpg[i + 3]); break; }
    CHECK(sos > 0 && sos < n, "%s: no scan", what);
    int decoded = 0, bad = 0;
    for (size_t keep = sos; sos && keep + 2 < n; keep++) {
        membuf cut = {0};
        mb_put(&cut, jpg, keep);
        mb_put(&cut, "\xFF\xD9", 2);
        vf_image_buffer a, b;
        vf_status sa = decode(cut.p, cut.n, VF_PIXEL_RGB8, &a, NULL);
        vf_status sb = decode(cut.p, cut.n, VF_PIXEL_RGB8, &b, NULL);
        if (sa == VF_OK) {
            decoded++;
            if (sb != VF_OK || a.width != w || a.height != h || memcmp(a.data, b.data, (size_t)w * h * 3) != 0) bad++;
        } else if (sa != VF_E_IMAGE || sb != sa) {
            bad++;
        }
        vf_image_buffer_free(&a);
        vf_image_buffer_free(&b);
        free(cut.p);
    }
    CHECK(bad == 0, "%s cut short: %d decoded, %d wrong", what, decoded, bad);
    return decoded;
}

/* The case itself, built by hand: an 8x8 grey baseline JPEG whose entropy data ends (EOI) where a
 * 15-bit AC magnitude should follow a 16-bit AC code (DC: code "0" = size 15; AC: "0" = EOB,
 * "1000000000000000" = run 0 size 15): stb_image 2.27 leaves its bit count at -15 and shifts by
 * 39 on the next refill (nothings/stb#1293). */
static const uint8_t short_scan_jpg[] = {
    0xFF, 0xD8,
    0xFF, 0xDB, 0x00, 0x43, 0x00, /* DQT 0: all 1 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00, /* SOF0 8x8 grey */
    0xFF, 0xC4, 0x00, 0x14, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0F, /* DHT DC 0 */
    0xFF, 0xC4, 0x00, 0x15, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x0F, /* DHT AC 0 */
    0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, /* SOS */
    0x7F, 0xFF, 0x00, 0x80, 0x00, /* "0" + 15 bits, then the 16-bit AC code; 0xFF stuffed */
    0xFF, 0xD9,
};

static void test_short_scan(void) {
    {
        vf_image_buffer a, b;
        vf_status sa = decode(short_scan_jpg, sizeof short_scan_jpg, VF_PIXEL_RGB8, &a, NULL);
        vf_status sb = decode(short_scan_jpg, sizeof short_scan_jpg, VF_PIXEL_RGB8, &b, NULL);
        CHECK(sa == VF_OK || sa == VF_E_IMAGE, "AC magnitude cut by the end marker: status %d (%s)", sa, vf_context_last_error(g_ctx));
        CHECK(sb == sa && (sa != VF_OK || (a.width == 8 && a.height == 8 && memcmp(a.data, b.data, 8 * 8 * 3) == 0)),
              "AC magnitude cut by the end marker: two decodes differ");
        vf_image_buffer_free(&a);
        vf_image_buffer_free(&b);
    }
    uint8_t *src = make_image(40, 30, 3, 1); /* noise at quality 100: coefficients of up to 10 bits */
    membuf jpg = encode_jpg(src, 40, 30, 3, 100);
    int n = short_scans("baseline JPEG", jpg.p, jpg.n, 40, 30);
    n += short_scans("progressive JPEG", progressive_jpg, sizeof progressive_jpg, 16, 16);
    CHECK(n > 0, "no JPEG cut short decoded");
    free(jpg.p);
    free(src);
}

static void test_hostile_headers(void) {
    uint8_t *src = make_image(16, 16, 3, 0);
    membuf jpg = encode_jpg(src, 16, 16, 3, 90);
    /* JPEG whose SOF claims 20000x20000 */
    size_t sof = 0;
    for (size_t i = 2; i + 9 < jpg.n; i++)
        if (jpg.p[i] == 0xFF && jpg.p[i + 1] == 0xC0) { sof = i; break; }
    CHECK(sof > 0, "SOF0 in stb's JPEG");
    jpg.p[sof + 5] = 20000 >> 8; jpg.p[sof + 6] = 20000 & 255; /* height */
    jpg.p[sof + 7] = 20000 >> 8; jpg.p[sof + 8] = 20000 & 255; /* width */
    vf_image_buffer buf;
    double t0 = now_s();
    vf_status s = decode(jpg.p, jpg.n, VF_PIXEL_RGBA8, &buf, NULL);
    double dt = now_s() - t0;
    CHECK(s == VF_E_IMAGE && strstr(vf_context_last_error(g_ctx), "20000x20000") && dt < 0.05,
          "20000x20000 JPEG header: status %d in %.3f s, '%s'", s, dt, vf_context_last_error(g_ctx));
    vf_image_info info;
    CHECK(vf_image_probe(g_ctx, jpg.p, jpg.n, NULL, &info) == VF_E_IMAGE, "probe refuses 20000x20000");
    /* the same with the size limits lifted: the decoder's memory cap refuses it, still fast */
    vf_image_decode_options o = vf_image_decode_default_options();
    o.limits.max_width = o.limits.max_height = 20000;
    o.limits.max_pixels = 400000000;
    o.limits.max_decoder_bytes = (size_t)64 << 20;
    t0 = now_s();
    s = vf_image_decode(g_ctx, jpg.p, jpg.n, &o, &buf, NULL);
    dt = now_s() - t0;
    CHECK(s == VF_E_IMAGE && strstr(vf_context_last_error(g_ctx), "memory limit") && dt < 0.5,
          "20000x20000 JPEG, limits lifted, 64 MiB decoder cap: status %d in %.3f s, '%s'", s, dt, vf_context_last_error(g_ctx));

    /* PNG headers: 20000x20000, and 64x64 grey whose IDAT inflates to 16 MiB (a zlib bomb) */
    uint8_t row[2] = {0, 0};
    membuf png = build_png(20000, 20000, 8, 2, NULL, 0, row, 2);
    t0 = now_s();
    s = decode(png.p, png.n, VF_PIXEL_RGBA8, &buf, NULL);
    dt = now_s() - t0;
    CHECK(s == VF_E_IMAGE && strstr(vf_context_last_error(g_ctx), "20000x20000") && dt < 0.05,
          "20000x20000 PNG header: status %d in %.3f s, '%s'", s, dt, vf_context_last_error(g_ctx));
    free(png.p);
    size_t bomb_n = (size_t)16 << 20;
    uint8_t *zeros = calloc(bomb_n, 1);
    png = build_png(64, 64, 8, 0, NULL, 0, zeros, bomb_n);
    free(zeros);
    t0 = now_s();
    s = decode(png.p, png.n, VF_PIXEL_RGBA8, &buf, NULL);
    dt = now_s() - t0;
    CHECK(s == VF_E_IMAGE && strstr(vf_context_last_error(g_ctx), "memory limit"),
          "zlib bomb (%zu bytes -> 16 MiB): status %d in %.3f s, '%s'", png.n, s, dt, vf_context_last_error(g_ctx));
    free(png.p);

    /* a Huffman table with more than 256 symbols (stb_image 2.27 writes past its tables) */
    size_t dht = 0;
    for (size_t i = 2; i + 4 < jpg.n; i++)
        if (jpg.p[i] == 0xFF && jpg.p[i + 1] == 0xC4) { dht = i; break; }
    CHECK(dht > 0, "DHT in stb's JPEG");
    membuf bad = {0};
    mb_put(&bad, jpg.p, jpg.n);
    bad.p[sof + 5] = 0; bad.p[sof + 6] = 16; bad.p[sof + 7] = 0; bad.p[sof + 8] = 16;
    for (int i = 0; i < 16; i++) bad.p[dht + 5 + i] = 200; /* counts of the first table: 3200 symbols */
    s = decode(bad.p, bad.n, VF_PIXEL_RGBA8, &buf, NULL);
    CHECK(s == VF_E_IMAGE && strstr(vf_context_last_error(g_ctx), "256"), "DHT with 3200 symbols: %s", vf_context_last_error(g_ctx));
    free(bad.p);

    /* too many scans: the file with its scan repeated has 2 SOS segments; limit 1 */
    o = vf_image_decode_default_options();
    o.limits.max_jpeg_scans = 1;
    membuf two = {0}; /* SOI ... first scan, then a copy of the SOS segment and data, then EOI */
    size_t sos = 0;
    for (size_t i = 2; i + 1 < jpg.n; i++)
        if (jpg.p[i] == 0xFF && jpg.p[i + 1] == 0xDA) { sos = i; break; }
    mb_put(&two, jpg.p, jpg.n - 2);
    mb_put(&two, jpg.p + sos, jpg.n - sos);
    s = vf_image_decode(g_ctx, two.p, two.n, &o, &buf, NULL);
    CHECK(s == VF_E_IMAGE && strstr(vf_context_last_error(g_ctx), "scans"), "2 scans, limit 1: %s", vf_context_last_error(g_ctx));
    free(two.p);

    /* a scan using a Huffman table no DHT defined (stb_image 2.27 would read uninitialised
     * tables out of bounds) */
    membuf und = {0};
    mb_put(&und, jpg.p, jpg.n);
    und.p[sof + 5] = 0; und.p[sof + 6] = 16; und.p[sof + 7] = 0; und.p[sof + 8] = 16;
    und.p[sos + 6] = 0x22; /* component 1: DC table 2, AC table 2 */
    s = decode(und.p, und.n, VF_PIXEL_RGBA8, &buf, NULL);
    CHECK(s == VF_E_IMAGE && strstr(vf_context_last_error(g_ctx), "not defined"), "undefined Huffman table: %s",
          vf_context_last_error(g_ctx));
    free(und.p);

    /* a scan covering only Y of a 3-component frame: the chroma planes are never coded; the
     * output must not depend on what the heap held before (the decoder's memory is zeroed) */
    membuf yonly = {0};
    mb_put(&yonly, jpg.p, sos);
    uint8_t sos1[10] = {0xFF, 0xDA, 0, 8, 1, jpg.p[sos + 5], jpg.p[sos + 6], 0, 63, 0};
    mb_put(&yonly, sos1, 10);
    size_t data_at = sos + 2 + ((size_t)jpg.p[sos + 2] << 8 | jpg.p[sos + 3]);
    mb_put(&yonly, jpg.p + data_at, jpg.n - data_at);
    yonly.p[sof + 5] = 0; yonly.p[sof + 6] = 16; yonly.p[sof + 7] = 0; yonly.p[sof + 8] = 16;
    uint8_t *outs[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        for (int j = 0; j < 8; j++) { /* leave recognisable garbage in freed heap blocks */
            uint8_t *g = malloc(4096 << j);
            memset(g, 0xA5 + k, 4096 << j);
            free(g);
        }
        s = decode(yonly.p, yonly.n, VF_PIXEL_RGB8, &buf, NULL);
        if (s == VF_OK) { outs[k] = malloc(16 * 16 * 3); memcpy(outs[k], buf.data, 16 * 16 * 3); }
        vf_image_buffer_free(&buf);
    }
    CHECK(outs[0] && outs[1] && memcmp(outs[0], outs[1], 16 * 16 * 3) == 0, "Y-only scan decodes deterministically: %s",
          vf_context_last_error(g_ctx));
    free(outs[0]);
    free(outs[1]);
    free(yonly.p);
    free(jpg.p);
    free(src);

    /* garbage, zero length, NULL, other formats */
    int wrong = 0;
    for (int t = 0; t < 600; t++) {
        size_t n = 1 + rnd() % 3000;
        uint8_t *g = malloc(n);
        for (size_t i = 0; i < n; i++) g[i] = (uint8_t)rnd();
        static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
        if (t % 3 == 1 && n >= 3) { g[0] = 0xFF; g[1] = 0xD8; g[2] = 0xFF; }
        if (t % 3 == 2 && n >= 8) memcpy(g, png_sig, 8);
        s = decode(g, n, VF_PIXEL_RGBA8, &buf, NULL);
        if (s != VF_E_IMAGE) wrong++;
        vf_image_buffer_free(&buf);
        free(g);
    }
    CHECK(wrong == 0, "garbage: %d of 600 not refused", wrong);
    CHECK(decode("", 0, VF_PIXEL_RGBA8, &buf, NULL) == VF_E_IMAGE && buf.data == NULL, "zero length");
    CHECK(decode(NULL, 10, VF_PIXEL_RGBA8, &buf, NULL) == VF_E_INVALID_ARG, "NULL bytes");
    CHECK(decode("GIF89a\1\0\1\0\0\0\0;", 14, VF_PIXEL_RGBA8, &buf, NULL) == VF_E_IMAGE &&
              strstr(vf_context_last_error(g_ctx), "GIF"), "GIF: %s", vf_context_last_error(g_ctx));
    CHECK(decode("\0\0\0\x18" "ftypheic\0\0\0\0", 16, VF_PIXEL_RGBA8, &buf, NULL) == VF_E_IMAGE &&
              strstr(vf_context_last_error(g_ctx), "HEIC"), "HEIC: %s", vf_context_last_error(g_ctx));
    vf_image_decode_options o2 = vf_image_decode_default_options();
    o2.format = (vf_pixel_format)5;
    CHECK(vf_image_decode(g_ctx, "x", 1, &o2, &buf, NULL) == VF_E_INVALID_ARG, "bad format");
    o2 = vf_image_decode_default_options();
    o2.limits.max_input_bytes = 100;
    uint8_t big[200] = {0xFF, 0xD8, 0xFF};
    CHECK(vf_image_decode(g_ctx, big, sizeof big, &o2, &buf, NULL) == VF_E_IMAGE, "input over max_input_bytes");
    CHECK(decode("x", 1, VF_PIXEL_RGBA8, NULL, NULL) == VF_E_INVALID_ARG, "NULL out");
}

/* Forward EXIF mapping written from the tag's definition (where stored row 0 and column 0 end
 * up), independent of the decoder's inverse mapping. */
static void exif_forward(int o, int w, int h, int x, int y, int *X, int *Y) {
    switch (o) {
    case 1: *X = x; *Y = y; break;                 /* row 0 top, column 0 left */
    case 2: *X = w - 1 - x; *Y = y; break;         /* row 0 top, column 0 right */
    case 3: *X = w - 1 - x; *Y = h - 1 - y; break; /* row 0 bottom, column 0 right */
    case 4: *X = x; *Y = h - 1 - y; break;         /* row 0 bottom, column 0 left */
    case 5: *X = y; *Y = x; break;                 /* row 0 left, column 0 top */
    case 6: *X = h - 1 - y; *Y = x; break;         /* row 0 right, column 0 top */
    case 7: *X = h - 1 - y; *Y = w - 1 - x; break; /* row 0 right, column 0 bottom */
    default: *X = y; *Y = w - 1 - x; break;        /* 8: row 0 left, column 0 bottom */
    }
}

static uint8_t *expected_oriented(const uint8_t *src, int w, int h, int bpp, int o, int *dw, int *dh) {
    *dw = o >= 5 ? h : w;
    *dh = o >= 5 ? w : h;
    uint8_t *e = malloc((size_t)w * h * bpp);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int X, Y;
            exif_forward(o, w, h, x, y, &X, &Y);
            memcpy(e + ((size_t)Y * *dw + X) * bpp, src + ((size_t)y * w + x) * bpp, bpp);
        }
    return e;
}

static void test_orientation(void) {
    /* exact, on raw pixels, both formats, odd sizes, and a padded stride */
    for (int bpp = 3; bpp <= 4; bpp++) {
        const int w = 7, h = 5;
        uint8_t *src = make_image(w, h, bpp, 1);
        uint8_t padded[5 * 40];
        for (int y = 0; y < h; y++) memcpy(padded + y * 40, src + y * w * bpp, (size_t)w * bpp);
        vf_image v = {w, h, 40, (vf_pixel_format)bpp, padded};
        for (int o = 1; o <= 8; o++) {
            int dw, dh;
            uint8_t *e = expected_oriented(src, w, h, bpp, o, &dw, &dh);
            vf_image_buffer out;
            vf_status s = vf_image_orient(g_ctx, &v, o, &out);
            CHECK(s == VF_OK && out.width == dw && out.height == dh && memcmp(out.data, e, (size_t)dw * dh * bpp) == 0,
                  "orient %d bpp %d", o, bpp);
            vf_image_buffer_free(&out);
            free(e);
        }
        vf_image_buffer out;
        CHECK(vf_image_orient(g_ctx, &v, 9, &out) == VF_E_INVALID_ARG, "orientation 9");
        free(src);
    }
    /* through JPEG + APP1: 4 coloured blocks on a 32x16 image */
    const int w = 32, h = 16;
    static const uint8_t col[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
    uint8_t src[32 * 16 * 3];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) memcpy(src + (y * w + x) * 3, col[(y >= 8) * 2 + (x >= 16)], 3);
    membuf jpg = encode_jpg(src, w, h, 3, 95);
    for (int o = 1; o <= 8; o++) {
        membuf j = jpeg_with_orientation(&jpg, o, o % 2);
        int dw, dh;
        uint8_t *e = expected_oriented(src, w, h, 3, o, &dw, &dh);
        vf_image_buffer out;
        vf_image_info info;
        vf_status s = decode(j.p, j.n, VF_PIXEL_RGB8, &out, &info);
        int bad = s != VF_OK || out.width != dw || out.height != dh || info.orientation != o;
        /* block centres (away from JPEG's edge ringing) */
        for (int by = 0; !bad && by < dh; by += 4)
            for (int bx = 0; !bad && bx < dw; bx += 4) {
                int x = bx + 2, y = by + 2;
                if (x >= dw || y >= dh) continue;
                for (int c = 0; c < 3; c++)
                    if (abs((int)out.data[(y * dw + x) * 3 + c] - e[(y * dw + x) * 3 + c]) > 40) bad = 1;
            }
        CHECK(!bad, "EXIF orientation %d (%s endian): status %d, %dx%d, orientation %d", o, o % 2 ? "little" : "big", s, out.width,
              out.height, info.orientation);
        vf_image_info pi;
        CHECK(vf_image_probe(g_ctx, j.p, j.n, NULL, &pi) == VF_OK && pi.width == dw && pi.height == dh && pi.orientation == o,
              "probe orientation %d", o);
        vf_image_buffer_free(&out);
        /* apply_orientation = 0 keeps the stored layout */
        vf_image_decode_options opt = vf_image_decode_default_options();
        opt.apply_orientation = 0;
        s = vf_image_decode(g_ctx, j.p, j.n, &opt, &out, &info);
        CHECK(s == VF_OK && out.width == w && out.height == h && info.width == w && info.orientation == o,
              "orientation %d not applied", o);
        vf_image_buffer_free(&out);
        free(e);
        free(j.p);
    }
    /* invalid EXIF: value 9, SHORT expected, IFD offset out of range -> treated as 1 */
    uint8_t tiff[26] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0};
    CHECK(vf_exif_orientation(tiff, sizeof tiff) == 0, "orientation 9 ignored");
    tiff[18] = 6;
    CHECK(vf_exif_orientation(tiff, sizeof tiff) == 6, "orientation 6");
    CHECK(vf_exif_orientation(tiff, 20) == 0, "entry past the end");
    tiff[12] = 4;
    CHECK(vf_exif_orientation(tiff, sizeof tiff) == 0, "LONG orientation ignored");
    tiff[12] = 3;
    tiff[4] = 250;
    CHECK(vf_exif_orientation(tiff, sizeof tiff) == 0, "IFD offset out of range");
    free(jpg.p);
}

/* ---- sampling ----------------------------------------------------------------------------------- */

/* Double-precision reference of one sample (RGB, 0..255). */
static void ref_sample(const vf_image *im, double sx, double sy, vf_border border, const float fill[3], double out[3]) {
    if (border == VF_BORDER_REPLICATE) {
        sx = sx < 0 ? 0 : sx > im->width - 1 ? im->width - 1 : sx;
        sy = sy < 0 ? 0 : sy > im->height - 1 ? im->height - 1 : sy;
    }
    double x0 = floor(sx), y0 = floor(sy), fx = sx - x0, fy = sy - y0;
    for (int c = 0; c < 3; c++) {
        double v[4];
        for (int k = 0; k < 4; k++) {
            long x = (long)x0 + (k & 1), y = (long)y0 + (k >> 1);
            if (border == VF_BORDER_REPLICATE) {
                if (x > im->width - 1) x = im->width - 1;
                if (y > im->height - 1) y = im->height - 1;
            }
            bool in = x >= 0 && y >= 0 && x < im->width && y < im->height;
            v[k] = in ? im->data[(size_t)y * im->stride + (size_t)x * im->format + c] : fill[c];
        }
        out[c] = (1 - fy) * ((1 - fx) * v[0] + fx * v[1]) + fy * ((1 - fx) * v[2] + fx * v[3]);
    }
}

static void test_warp(void) {
    /* identity reproduces the pixels exactly (both formats, padded stride) */
    for (int bpp = 3; bpp <= 4; bpp++) {
        const int w = 17, h = 13;
        uint8_t *px = make_image(w, h, bpp, 1);
        uint8_t padded[13 * 80];
        for (int y = 0; y < h; y++) memcpy(padded + y * 80, px + y * w * bpp, (size_t)w * bpp);
        vf_image im = {w, h, 80, (vf_pixel_format)bpp, padded};
        float t[17 * 13 * 3];
        const float id[6] = {1, 0, 0, 0, 1, 0};
        CHECK(vf_image_warp_to_tensor(g_ctx, &im, id, NULL, t, w, h) == VF_OK, "identity warp");
        int bad = 0;
        for (int i = 0; i < w * h; i++)
            for (int c = 0; c < 3; c++) bad += t[i * 3 + c] != px[i * bpp + c];
        CHECK(bad == 0, "identity warp bpp %d: %d values differ", bpp, bad);
        free(px);
    }
    /* a known affine on a linear gradient: bilinear is exact for linear functions */
    {
        const int w = 40, h = 30;
        uint8_t px[30 * 40 * 4];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint8_t *q = px + (y * w + x) * 4;
                q[0] = (uint8_t)(2 * x + 3 * y); q[1] = (uint8_t)x; q[2] = (uint8_t)(y + 50); q[3] = 0;
            }
        vf_image im = view_of(px, w, h, 4);
        const float m[6] = {0.8f, -0.3f, 10.2f, 0.25f, 0.9f, 3.7f};
        vf_sample_options so = vf_sample_default_options();
        so.fill[0] = 7; so.fill[1] = 8; so.fill[2] = 9;
        const int dw = 50, dh = 40;
        static float t[40 * 50 * 3];
        CHECK(vf_image_warp_to_tensor(g_ctx, &im, m, &so, t, dw, dh) == VF_OK, "affine warp");
        int bad = 0, inside = 0, outside = 0;
        for (int y = 0; y < dh; y++)
            for (int x = 0; x < dw; x++) {
                double sx = m[0] * x + m[1] * y + m[2], sy = m[3] * x + m[4] * y + m[5];
                const float *o = t + (y * dw + x) * 3;
                if (sx >= 0 && sx <= w - 1 && sy >= 0 && sy <= h - 1) {
                    inside++;
                    if (fabs(o[0] - (2 * sx + 3 * sy)) > 2e-3 || fabs(o[1] - sx) > 2e-3 || fabs(o[2] - (sy + 50)) > 2e-3) bad++;
                } else if (sx <= -1 || sx >= w || sy <= -1 || sy >= h) {
                    outside++;
                    if (o[0] != 7 || o[1] != 8 || o[2] != 9) bad++;
                }
            }
        CHECK(bad == 0 && inside > 500 && outside > 100, "analytic affine: %d bad (%d inside, %d outside)", bad, inside, outside);
    }
    /* random maps and images against the double reference: covers the interior/checked split */
    int bad = 0, total = 0;
    double worst = 0;
    for (int trial = 0; trial < 300; trial++) {
        int bpp = 3 + trial % 2, w = 2 + rnd() % 50, h = 2 + rnd() % 50;
        if (trial % 37 == 0) w = 1;
        if (trial % 41 == 0) h = 1;
        size_t stride = (size_t)w * bpp + rnd() % 9;
        uint8_t *px = malloc(stride * h);
        for (size_t i = 0; i < stride * (size_t)h; i++) px[i] = (uint8_t)rnd();
        vf_image im = {w, h, stride, (vf_pixel_format)bpp, px};
        double th = rndu() * 6.283, sc = 0.2 + 3 * rndu();
        if (trial % 10 == 0) sc = 1e-4;
        float m[6] = {(float)(sc * cos(th)), (float)(-sc * sin(th) * (trial % 3 ? 1 : 1.7)), (float)(rndu() * 60 - 20),
                      (float)(sc * sin(th)), (float)(sc * cos(th)), (float)(rndu() * 60 - 20)};
        if (trial % 7 == 0) { m[1] = m[3] = 0; } /* axis-aligned */
        vf_sample_options so = vf_sample_default_options();
        so.border = trial % 4 == 3 ? VF_BORDER_REPLICATE : VF_BORDER_CONSTANT;
        so.fill[0] = 10; so.fill[1] = 100; so.fill[2] = 200;
        so.order = trial % 5 == 0 ? VF_CHANNELS_BGR : VF_CHANNELS_RGB;
        int dw = 1 + rnd() % 60, dh = 1 + rnd() % 60;
        float *t = malloc(sizeof(float) * dw * dh * 3);
        vf_status s = vf_image_warp_to_tensor(g_ctx, &im, m, &so, t, dw, dh);
        if (s) { bad++; printf("warp failed: %s\n", vf_context_last_error(g_ctx)); }
        for (int y = 0; !s && y < dh; y++)
            for (int x = 0; x < dw; x++) {
                double r[3];
                ref_sample(&im, (double)m[0] * x + (double)m[1] * y + m[2], (double)m[3] * x + (double)m[4] * y + m[5], so.border,
                           so.fill, r);
                for (int k = 0; k < 3; k++) {
                    double d = fabs(t[(y * dw + x) * 3 + k] - r[so.order == VF_CHANNELS_BGR ? 2 - k : k]);
                    if (d > worst) worst = d;
                    if (d > 0.05) bad++;
                    total++;
                }
            }
        free(t);
        free(px);
    }
    CHECK(bad == 0, "random warps vs reference: %d of %d values off (worst %.4f)", bad, total, worst);
    printf("info: random warps vs double reference: worst difference %.5f (0..255 scale) over %d values\n", worst, total);

    /* invalid arguments */
    uint8_t px[4 * 4 * 3] = {0};
    vf_image im = view_of(px, 4, 4, 3);
    float t[12];
    const float nanm[6] = {1, 0, NAN, 0, 1, 0}, id[6] = {1, 0, 0, 0, 1, 0};
    CHECK(vf_image_warp_to_tensor(g_ctx, &im, nanm, NULL, t, 2, 2) == VF_E_INVALID_ARG, "NaN matrix");
    CHECK(vf_image_warp_to_tensor(g_ctx, &im, id, NULL, NULL, 2, 2) == VF_E_INVALID_ARG, "NULL dst");
    CHECK(vf_image_warp_to_tensor(g_ctx, &im, id, NULL, t, 0, 2) == VF_E_INVALID_ARG, "zero width");
    im.stride = 5;
    CHECK(vf_image_warp_to_tensor(g_ctx, &im, id, NULL, t, 2, 2) == VF_E_INVALID_ARG, "stride too small");
}

static void test_resize(void) {
    const int w = 40, h = 30;
    uint8_t px[30 * 40 * 3];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = px + (y * w + x) * 3;
            q[0] = (uint8_t)(3 * x + 2 * y + 10); q[1] = (uint8_t)(x + 100); q[2] = (uint8_t)(5 * y);
        }
    vf_image im = view_of(px, w, h, 3);
    /* whole image, replicate border = cv::resize INTER_LINEAR */
    const int sizes[2][2] = {{17, 11}, {97, 71}};
    for (int k = 0; k < 2; k++) {
        int dw = sizes[k][0], dh = sizes[k][1];
        float *t = malloc(sizeof(float) * dw * dh * 3);
        vf_sample_options so = vf_sample_default_options();
        so.border = VF_BORDER_REPLICATE;
        CHECK(vf_image_resize_to_tensor(g_ctx, &im, NULL, &so, t, dw, dh) == VF_OK, "resize");
        int bad = 0;
        for (int y = 0; y < dh; y++)
            for (int x = 0; x < dw; x++) {
                double sx = (x + 0.5) * w / dw - 0.5, sy = (y + 0.5) * h / dh - 0.5;
                sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
                sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
                const float *o = t + (y * dw + x) * 3;
                if (fabs(o[0] - (3 * sx + 2 * sy + 10)) > 2e-3 || fabs(o[1] - (sx + 100)) > 2e-3 || fabs(o[2] - 5 * sy) > 2e-3) bad++;
            }
        CHECK(bad == 0, "resize to %dx%d: %d pixels off the cv::resize convention", dw, dh, bad);
        free(t);
    }
    /* crop partly outside, scale 1: integer samples; outside -> fill */
    {
        vf_rectf r = {-10, -5, 30, 20};
        float t[20 * 30 * 3];
        vf_sample_options so = vf_sample_default_options();
        so.fill[0] = 1; so.fill[1] = 2; so.fill[2] = 3;
        CHECK(vf_image_resize_to_tensor(g_ctx, &im, &r, &so, t, 30, 20) == VF_OK, "crop");
        int bad = 0, filled = 0;
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 30; x++) {
                int sx = x - 10, sy = y - 5;
                const float *o = t + (y * 30 + x) * 3;
                if (sx < 0 || sy < 0) {
                    filled++;
                    bad += o[0] != 1 || o[1] != 2 || o[2] != 3;
                } else {
                    const uint8_t *p = px + (sy * w + sx) * 3;
                    bad += o[0] != p[0] || o[1] != p[1] || o[2] != p[2];
                }
            }
        CHECK(bad == 0 && filled == 20 * 30 - 20 * 15, "crop partly outside: %d bad, %d filled", bad, filled);
    }
    /* normalisation and BGR order */
    {
        uint8_t flat[8 * 8 * 4];
        for (int i = 0; i < 64; i++) { flat[i * 4] = 10; flat[i * 4 + 1] = 20; flat[i * 4 + 2] = 30; flat[i * 4 + 3] = 99; }
        vf_image fi = view_of(flat, 8, 8, 4);
        vf_sample_options so = vf_sample_default_options();
        so.order = VF_CHANNELS_BGR;
        so.scale[0] = 0.5f; so.scale[1] = 2; so.scale[2] = -1;
        so.offset[0] = 1; so.offset[1] = 2; so.offset[2] = 3;
        float t[4 * 4 * 3];
        CHECK(vf_image_resize_to_tensor(g_ctx, &fi, NULL, &so, t, 4, 4) == VF_OK, "norm resize");
        int bad = 0;
        for (int i = 0; i < 16; i++) bad += t[i * 3] != 16 || t[i * 3 + 1] != 42 || t[i * 3 + 2] != -7;
        CHECK(bad == 0, "BGR + scale/offset: got %g %g %g", t[0], t[1], t[2]);
        so = vf_sample_options_range(-1, 1, VF_CHANNELS_RGB);
        flat[0] = 255; flat[1] = 0;
        float one[3];
        vf_rectf r = {0, 0, 1, 1};
        CHECK(vf_image_resize_to_tensor(g_ctx, &fi, &r, &so, one, 1, 1) == VF_OK && fabs(one[0] - 1) < 1e-6 && fabs(one[1] + 1) < 1e-6,
              "range -1..1: %g %g", one[0], one[1]);
        vf_rectf bad_r = {0, 0, 0, 5};
        CHECK(vf_image_resize_to_tensor(g_ctx, &fi, &bad_r, &so, one, 1, 1) == VF_E_INVALID_ARG, "empty rect");
    }
}

/* ---- geometry ------------------------------------------------------------------------------------ */

static void test_geometry(void) {
    const double s = 1.3, th = 0.4, tx = 5, ty = -7;
    const float a = (float)(s * cos(th)), b = (float)(s * sin(th));
    const float truth[6] = {a, -b, (float)tx, b, a, (float)ty};
    float src[10], dst[10], noisy[10];
    for (int i = 0; i < 5; i++) {
        src[2 * i] = (float)(rndu() * 200); src[2 * i + 1] = (float)(rndu() * 200);
        vf_affine_apply(truth, src[2 * i], src[2 * i + 1], &dst[2 * i], &dst[2 * i + 1]);
        noisy[2 * i] = dst[2 * i] + (float)(rndu() - 0.5);
        noisy[2 * i + 1] = dst[2 * i + 1] + (float)(rndu() - 0.5);
    }
    float m[6], inv[6];
    CHECK(vf_similarity_estimate(g_ctx, src, dst, 5, m, inv) == VF_OK, "similarity");
    double err = 0;
    for (int i = 0; i < 6; i++) err = fmax(err, fabs(m[i] - truth[i]) / (i % 3 == 2 ? 100 : 1));
    CHECK(err < 1e-5, "exact similarity recovered (max error %g)", err);
    double rt = 0;
    for (int i = 0; i < 5; i++) {
        float x, y;
        vf_affine_apply(inv, dst[2 * i], dst[2 * i + 1], &x, &y);
        rt = fmax(rt, fmax(fabs(x - src[2 * i]), fabs(y - src[2 * i + 1])));
    }
    CHECK(rt < 1e-3, "inverse maps dst back to src (max error %g)", rt);
    CHECK(vf_similarity_estimate(g_ctx, src, noisy, 5, m, NULL) == VF_OK, "noisy similarity");
    double sc = sqrt(m[0] * m[0] + m[3] * m[3]), an = atan2(m[3], m[0]);
    CHECK(fabs(sc - s) < 0.01 && fabs(an - th) < 0.01 && fabs(m[2] - tx) < 1.5 && fabs(m[5] - ty) < 1.5,
          "noisy fit: scale %.4f angle %.4f t (%.2f, %.2f)", sc, an, m[2], m[5]);
    /* no reflection even when the points are mirrored */
    float mir[10];
    for (int i = 0; i < 5; i++) { mir[2 * i] = -src[2 * i]; mir[2 * i + 1] = src[2 * i + 1]; }
    CHECK(vf_similarity_estimate(g_ctx, src, mir, 5, m, NULL) == VF_OK && m[0] * m[4] - m[1] * m[3] >= 0, "proper rotation only");
    float same[10] = {3, 4, 3, 4, 3, 4, 3, 4, 3, 4};
    CHECK(vf_similarity_estimate(g_ctx, same, dst, 5, m, inv) == VF_E_INVALID_ARG, "coincident points refused");
    CHECK(vf_similarity_estimate(g_ctx, src, dst, 1, m, inv) == VF_E_INVALID_ARG, "one point refused");
    const float sing[6] = {1, 2, 0, 2, 4, 0};
    CHECK(vf_affine_invert(g_ctx, sing, inv) == VF_E_INVALID_ARG, "singular matrix");

    /* face alignment: landmarks = template moved by a known similarity; the warp takes the
     * template points (output pixels) back onto the landmarks */
    float lm[10];
    const float place[6] = {2.0f * cosf(0.2f), -2.0f * sinf(0.2f), 300, 2.0f * sinf(0.2f), 2.0f * cosf(0.2f), 150};
    for (int i = 0; i < 5; i++)
        vf_affine_apply(place, vf_arcface_template_112[i][0], vf_arcface_template_112[i][1], &lm[2 * i], &lm[2 * i + 1]);
    float warp[6];
    CHECK(vf_face_align_warp(g_ctx, lm, 112, warp) == VF_OK, "face align");
    double fe = 0;
    for (int i = 0; i < 5; i++) {
        float x, y;
        vf_affine_apply(warp, vf_arcface_template_112[i][0], vf_arcface_template_112[i][1], &x, &y);
        fe = fmax(fe, fmax(fabs(x - lm[2 * i]), fabs(y - lm[2 * i + 1])));
    }
    CHECK(fe < 1e-3, "face align warp maps the template onto the landmarks (max error %g px)", fe);
    CHECK(vf_arcface_template_112[2][0] == 56.0252f && vf_arcface_template_112[4][1] == 92.2041f, "template values");
}

/* ---- statistics ---------------------------------------------------------------------------------- */

static int luma_ref(const uint8_t *p) { return (int)floor(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] + 0.5); }

static double lap_var_ref(const uint8_t *px, int w, int h, int bpp, double *mean_out) {
    double s = 0, s2 = 0;
    long n = 0;
    for (int y = 1; y + 1 < h; y++)
        for (int x = 1; x + 1 < w; x++) {
#define L(xx, yy) ((19595 * px[((yy) * w + (xx)) * bpp] + 38470 * px[((yy) * w + (xx)) * bpp + 1] + 7471 * px[((yy) * w + (xx)) * bpp + 2] + 32768) >> 16)
            double l = L(x - 1, y) + L(x + 1, y) + L(x, y - 1) + L(x, y + 1) - 4.0 * L(x, y);
#undef L
            s += l; s2 += l * l; n++;
        }
    *mean_out = n ? s / n : 0;
    return n ? s2 / n - (s / n) * (s / n) : 0;
}

/* 5x5 binomial blur (sigma 1), RGB(A); `passes` times (sigma sqrt(passes)) */
static uint8_t *blur(const uint8_t *in, int w, int h, int bpp, int passes) {
    static const int k[5] = {1, 4, 6, 4, 1};
    uint8_t *o = malloc((size_t)w * h * bpp), *px = malloc((size_t)w * h * bpp);
    memcpy(o, in, (size_t)w * h * bpp);
    for (int pass = 0; pass < passes; pass++) {
    memcpy(px, o, (size_t)w * h * bpp);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < bpp; c++) {
                int s = 0;
                for (int j = -2; j <= 2; j++)
                    for (int i = -2; i <= 2; i++) {
                        int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i, yy = y + j < 0 ? 0 : y + j >= h ? h - 1 : y + j;
                        s += k[i + 2] * k[j + 2] * px[(yy * w + xx) * bpp + c];
                    }
                o[(y * w + x) * bpp + c] = (uint8_t)((s + 128) / 256);
            }
    }
    free(px);
    return o;
}

static void test_stats(void) {
    vf_region_stats st;
    vf_region_stats_options nat = vf_region_stats_default_options(), grid = nat;
    nat.laplacian_size = 0;
    nat.histogram = 1;
    /* BT.601 weights */
    int lbad = 0;
    for (int i = 0; i < 5000; i++) {
        uint8_t p[3] = {(uint8_t)rnd(), (uint8_t)rnd(), (uint8_t)rnd()};
        vf_image im = view_of(p, 1, 1, 3);
        vf_image_region_stats(g_ctx, &im, NULL, &nat, &st);
        if (fabs(st.luma_mean - luma_ref(p)) > 1) lbad++;
    }
    CHECK(lbad == 0, "luma within 1 of 0.299 R + 0.587 G + 0.114 B: %d off", lbad);

    /* flat: zero Laplacian, zero deviation, one histogram bin */
    const int w = 640, h = 480;
    uint8_t *flat = malloc((size_t)w * h * 4);
    for (int i = 0; i < w * h; i++) { flat[i * 4] = 90; flat[i * 4 + 1] = 90; flat[i * 4 + 2] = 90; flat[i * 4 + 3] = 0; }
    vf_image fim = view_of(flat, w, h, 4);
    CHECK(vf_image_region_stats(g_ctx, &fim, NULL, &nat, &st) == VF_OK && st.laplacian_var == 0 && st.luma_std == 0 &&
              st.luma_mean == 90 && st.histogram[90] == (uint32_t)(w * h) && st.glare_fraction == 0 && st.pixels == w * h,
          "flat native: var %g std %g mean %g", st.laplacian_var, st.luma_std, st.luma_mean);
    CHECK(vf_image_region_stats(g_ctx, &fim, NULL, &grid, &st) == VF_OK && st.laplacian_var == 0 && st.laplacian_width == 128 &&
              st.laplacian_height == 96, "flat grid: var %g at %dx%d", st.laplacian_var, st.laplacian_width, st.laplacian_height);

    /* checkerboards: 1-pixel (native) and 8-pixel (grid) */
    uint8_t *chk = malloc((size_t)w * h * 3), *chk8 = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            memset(chk + (y * w + x) * 3, ((x + y) & 1) ? 255 : 0, 3);
            memset(chk8 + (y * w + x) * 3, ((x / 8 + y / 8) & 1) ? 255 : 0, 3);
        }
    vf_image cim = view_of(chk, w, h, 3), cim8 = view_of(chk8, w, h, 3);
    vf_image_region_stats(g_ctx, &cim, NULL, &nat, &st);
    CHECK(st.laplacian_var > 1e6, "1-px checkerboard native Laplacian variance %g", st.laplacian_var);
    vf_image_region_stats(g_ctx, &cim8, NULL, &grid, &st);
    CHECK(st.laplacian_var > 1e4, "8-px checkerboard grid Laplacian variance %g", st.laplacian_var);

    /* texture vs its blur, both modes */
    uint8_t *tex = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = tex + (y * w + x) * 3;
            int v = (int)(128 + 60 * sin(x * 0.35) * cos(y * 0.27) + (rnd() % 40) - 20);
            q[0] = q[1] = q[2] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    /* sigma 1 is visible at native resolution; the 128-grid of a 640-wide region (5 pixels a cell)
     * needs a blur at its own scale (sigma 4) */
    uint8_t *bl = blur(tex, w, h, 3, 1), *bl16 = blur(tex, w, h, 3, 16);
    vf_image tim = view_of(tex, w, h, 3), bim = view_of(bl, w, h, 3), bim16 = view_of(bl16, w, h, 3);
    for (int mode = 0; mode < 2; mode++) {
        vf_region_stats a, b;
        vf_image_region_stats(g_ctx, &tim, NULL, mode ? &grid : &nat, &a);
        vf_image_region_stats(g_ctx, mode ? &bim16 : &bim, NULL, mode ? &grid : &nat, &b);
        CHECK(b.laplacian_var < 0.5 * a.laplacian_var, "%s: blurred %g vs sharp %g", mode ? "grid" : "native", b.laplacian_var,
              a.laplacian_var);
    }
    /* resolution independence: a 2x nearest upscale gives the same grid value */
    {
        const int sw = 256, sh = 200;
        uint8_t *small = malloc((size_t)sw * sh * 3), *big = malloc((size_t)sw * sh * 12);
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++) memcpy(small + (y * sw + x) * 3, tex + (y * w + x) * 3, 3);
        for (int y = 0; y < 2 * sh; y++)
            for (int x = 0; x < 2 * sw; x++) memcpy(big + (y * 2 * sw + x) * 3, small + ((y / 2) * sw + x / 2) * 3, 3);
        vf_image si = view_of(small, sw, sh, 3), gi = view_of(big, 2 * sw, 2 * sh, 3);
        vf_region_stats a, b;
        vf_image_region_stats(g_ctx, &si, NULL, &grid, &a);
        vf_image_region_stats(g_ctx, &gi, NULL, &grid, &b);
        CHECK(a.laplacian_width == 128 && b.laplacian_width == 128 && fabs(a.laplacian_var - b.laplacian_var) < 1e-6 * a.laplacian_var,
              "grid value at 256x200 %g (%dx%d) vs 512x400 %g", a.laplacian_var, a.laplacian_width, a.laplacian_height, b.laplacian_var);
        vf_image_region_stats(g_ctx, &si, NULL, &nat, &a);
        vf_image_region_stats(g_ctx, &gi, NULL, &nat, &b);
        printf("info: native Laplacian variance at 256x200 %.1f, at 2x %.1f (grid: equal)\n", a.laplacian_var, b.laplacian_var);
        free(small);
        free(big);
    }
    /* native against a direct reference on a wide image (strips of 1024 columns) and a region */
    {
        const int ww = 2500, hh = 7;
        uint8_t *wide = make_image(ww, hh, 4, 1);
        vf_image wi = view_of(wide, ww, hh, 4);
        double m, v = lap_var_ref(wide, ww, hh, 4, &m);
        vf_image_region_stats(g_ctx, &wi, NULL, &nat, &st);
        uint64_t hs = 0;
        for (int i = 0; i < 256; i++) hs += st.histogram[i];
        CHECK(fabs(st.laplacian_var - v) < 1e-9 * v && hs == (uint64_t)ww * hh, "wide native: %g vs reference %g, histogram %llu",
              st.laplacian_var, v, (unsigned long long)hs);
        vf_recti r = {-5, 2, 40, 100};
        CHECK(vf_image_region_stats(g_ctx, &wi, &r, &nat, &st) == VF_OK && st.region.x == 0 && st.region.y == 2 &&
                  st.region.width == 35 && st.region.height == 5 && st.pixels == 175, "clipped region %d %d %d %d",
              st.region.x, st.region.y, st.region.width, st.region.height);
        vf_recti out = {3000, 0, 10, 10};
        CHECK(vf_image_region_stats(g_ctx, &wi, &out, &nat, &st) == VF_E_INVALID_ARG, "region outside");
        free(wide);
    }
    /* glare: a white disc on grey raises the fraction; bright yellow is not glare */
    {
        uint8_t *g = malloc((size_t)w * h * 3);
        memset(g, 120, (size_t)w * h * 3);
        vf_image gim = view_of(g, w, h, 3);
        vf_image_region_stats(g_ctx, &gim, NULL, &grid, &st);
        double before = st.glare_fraction;
        int disc = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                if ((x - 300) * (x - 300) + (y - 200) * (y - 200) < 50 * 50) { memset(g + (y * w + x) * 3, 255, 3); disc++; }
                else if (x < 100 && y < 100) { uint8_t *q = g + (y * w + x) * 3; q[0] = 255; q[1] = 255; q[2] = 190; }
            }
        vf_image_region_stats(g_ctx, &gim, NULL, &grid, &st);
        CHECK(before == 0 && fabs(st.glare_fraction - (double)disc / (w * h)) < 1e-12, "glare %g, disc %g", st.glare_fraction,
              (double)disc / (w * h));
        free(g);
    }
    /* frame hash */
    {
        uint8_t *a = make_image(w, h, 4, 1), *b = malloc((size_t)w * h * 4);
        memcpy(b, a, (size_t)w * h * 4);
        vf_image ai = view_of(a, w, h, 4), bi = view_of(b, w, h, 4);
        uint64_t ha, hb;
        vf_image_frame_hash(g_ctx, &ai, NULL, &ha);
        vf_image_frame_hash(g_ctx, &bi, NULL, &hb);
        CHECK(ha == hb && ha != 0, "identical frames hash equal");
        int i = 5, j = 7; /* cell (5, 7): its sampled pixel per the documented formula */
        int sx = (2 * i + 1) * w / (2 * VF_FRAME_HASH_GRID), sy = (2 * j + 1) * h / (2 * VF_FRAME_HASH_GRID);
        b[(sy * w + sx) * 4 + 1] ^= 1;
        vf_image_frame_hash(g_ctx, &bi, NULL, &hb);
        CHECK(ha != hb, "one changed sampled pixel changes the hash");
        b[(sy * w + sx) * 4 + 1] ^= 1;
        b[(sy * w + sx) * 4 + 3] ^= 1; /* alpha is not hashed */
        vf_image_frame_hash(g_ctx, &bi, NULL, &hb);
        CHECK(ha == hb, "alpha does not change the hash");
        vf_recti r = {0, 0, w, h - 1};
        vf_image_frame_hash(g_ctx, &ai, &r, &hb);
        CHECK(ha != hb, "a different region hashes differently");
        free(a);
        free(b);
    }
    CHECK(vf_image_region_stats(g_ctx, &fim, NULL, NULL, NULL) == VF_E_INVALID_ARG, "NULL out");
    grid.laplacian_size = 3;
    CHECK(vf_image_region_stats(g_ctx, &fim, NULL, &grid, &st) == VF_E_INVALID_ARG, "laplacian_size 3");
    free(flat); free(chk); free(chk8); free(tex); free(bl); free(bl16);
}

/* ---- timings ------------------------------------------------------------------------------------- */

static void timings(void) {
    const int w = 640, h = 480;
    uint8_t *frame = make_image(w, h, 4, 0);
    vf_image im = view_of(frame, w, h, 4);
    static float t[192 * 192 * 3];
    float lm[10] = {280, 200, 360, 198, 320, 250, 290, 300, 352, 298}, warp[6];
    vf_face_align_warp(g_ctx, lm, 192, warp);
    vf_sample_options so = vf_sample_options_range(0, 1, VF_CHANNELS_RGB);
    int n = 300;
    double t0 = now_s();
    for (int i = 0; i < n; i++) vf_image_warp_to_tensor(g_ctx, &im, warp, &so, t, 192, 192);
    double warp_us = (now_s() - t0) / n * 1e6;
    t0 = now_s();
    for (int i = 0; i < n; i++) vf_image_resize_to_tensor(g_ctx, &im, NULL, &so, t, 128, 128);
    double resize_us = (now_s() - t0) / n * 1e6;
    vf_region_stats st;
    vf_region_stats_options o = vf_region_stats_default_options();
    t0 = now_s();
    for (int i = 0; i < n; i++) vf_image_region_stats(g_ctx, &im, NULL, &o, &st);
    double stats_us = (now_s() - t0) / n * 1e6;
    o.laplacian_size = 0;
    t0 = now_s();
    for (int i = 0; i < n; i++) vf_image_region_stats(g_ctx, &im, NULL, &o, &st);
    double stats_nat_us = (now_s() - t0) / n * 1e6;
    uint64_t hash;
    t0 = now_s();
    for (int i = 0; i < n; i++) vf_image_frame_hash(g_ctx, &im, NULL, &hash);
    double hash_us = (now_s() - t0) / n * 1e6;
    membuf jpg = encode_jpg(frame, w, h, 4, 90);
    vf_image_buffer buf;
    int nd = 20;
    t0 = now_s();
    for (int i = 0; i < nd; i++) { decode(jpg.p, jpg.n, VF_PIXEL_RGBA8, &buf, NULL); vf_image_buffer_free(&buf); }
    double dec_ms = (now_s() - t0) / nd * 1e3;
    printf("info: per call, 640x480 RGBA frame: warp to 192x192x3 %.1f us, resize to 128x128x3 %.1f us, "
           "stats (grid 128) %.1f us, stats (native) %.1f us, frame hash %.2f us, JPEG decode %.2f ms\n",
           warp_us, resize_us, stats_us, stats_nat_us, hash_us, dec_ms);
    free(jpg.p);
    free(frame);
}

/* ---- the shared data set ------------------------------------------------------------------------- */

static void test_dataset(const char *dir) {
    char path[1024];
    static const char *lists[2][2] = {{"faces", "identities.csv"}, {"pad", "labels.csv"}};
    int ok = 0, failed = 0, webp = 0;
    double worst_ratio = 0, total_s = 0;
    for (int l = 0; l < 2; l++) {
        snprintf(path, sizeof path, "%s/%s/%s", dir, lists[l][0], lists[l][1]);
        size_t n;
        char *csv = (char *)read_file(path, &n);
        if (!csv) { CHECK(0, "cannot read %s", path); continue; }
        csv = realloc(csv, n + 1);
        csv[n] = 0;
        char *save = NULL;
        int line = 0;
        for (char *row = strtok_r(csv, "\n", &save); row; row = strtok_r(NULL, "\n", &save), line++) {
            if (line == 0) continue; /* header */
            char *comma = strchr(row, ',');
            if (comma) *comma = 0;
            snprintf(path, sizeof path, "%s/%s/%s", dir, lists[l][0], row);
            size_t fn;
            uint8_t *bytes = read_file(path, &fn);
            if (!bytes) { CHECK(0, "cannot read %s", path); failed++; continue; }
            vf_image_buffer buf;
            vf_image_info info;
            double t0 = now_s();
            vf_status s = decode(bytes, fn, VF_PIXEL_RGBA8, &buf, &info);
            total_s += now_s() - t0;
            if (fn >= 12 && memcmp(bytes, "RIFF", 4) == 0 && memcmp(bytes + 8, "WEBP", 4) == 0) {
                /* a few files are WebP whatever their name says: unsupported, with a clear message */
                webp++;
                CHECK(s == VF_E_IMAGE && strstr(vf_context_last_error(g_ctx), "WebP"), "%s (WebP): status %d '%s'", path, s,
                      vf_context_last_error(g_ctx));
            } else if (s == VF_OK) {
                ok++;
                double ratio = (double)info.decoder_peak_bytes / ((double)info.width * info.height);
                if (ratio > worst_ratio) worst_ratio = ratio;
                if (strstr(row, "image_T1.jpg"))
                    CHECK(info.orientation == 6 && buf.height > buf.width, "image_T1.jpg: orientation %d, %dx%d (want portrait)",
                          info.orientation, buf.width, buf.height);
            } else {
                failed++;
                CHECK(0, "%s: %s", path, vf_context_last_error(g_ctx));
            }
            vf_image_buffer_free(&buf);
            free(bytes);
        }
        free(csv);
    }
    CHECK(failed == 0 && ok > 0, "data set: %d decoded, %d failed", ok, failed);
    printf("info: data set: %d JPEG/PNG images decoded in %.2f s, %d WebP files (named .jpg/.jpeg) refused as unsupported; "
           "decoder peak at most %.1f bytes per output pixel (budget 24)\n", ok, total_s, webp, worst_ratio);
}

int main(int argc, char **argv) {
    CHECK(vf_context_create(NULL, &g_ctx) == VF_OK, "context");
    test_png_roundtrip();
    test_png_hand_built();
    test_jpeg_roundtrip();
    test_progressive_and_interlaced();
    test_truncation();
    test_short_scan();
    test_hostile_headers();
    test_orientation();
    test_warp();
    test_resize();
    test_geometry();
    test_stats();
    timings();
    const char *dir = argc > 1 ? argv[1] : NULL;
    FILE *probe = NULL;
    if (dir) {
        char p[1024];
        snprintf(p, sizeof p, "%s/faces/identities.csv", dir);
        probe = fopen(p, "rb");
    }
    if (probe) {
        fclose(probe);
        test_dataset(dir);
    } else {
        printf("SKIP data set: %s/faces/identities.csv not found (pass ../shared/data as the first argument)\n",
               dir ? dir : "(no directory given)");
    }
    vf_context_free(g_ctx);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
