/* decode.c - JPEG/PNG bytes -> RGB8/RGBA8 pixels with stb_image (Debian libstb-dev, 2.27), limits
 * checked before decoding, the decoder's allocations capped, EXIF orientation applied.
 *
 * Order of checks on untrusted bytes: size and magic; our own walk over the structure (markers.c:
 * JPEG segments, truncation, Huffman table sizes, scan count, orientation; PNG chunks, CRCs,
 * truncation); the
 * header through stbi_info_from_memory against the limits; only then the decode, with every
 * allocation stb_image makes counted against a per-image budget. */
#include "image.h"
#include "markers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- stb_image configuration ------------------------------------------------------------------
 * stb_image's allocation hooks take no user pointer, so the budget of the decode running on this
 * thread is thread-local. It is only active inside one vf_image_decode / vf_image_probe call. */
typedef struct stbi_budget {
    size_t live, peak, cap;
    bool over;            /* an allocation was refused because of the cap */
} stbi_budget;
static _Thread_local stbi_budget g_budget;

/* Each block carries a 64-byte header holding its size, so the pixels stb_image returns keep
 * the 64-byte alignment of vf__alloc_aligned and can be adopted by a vf_image_buffer as they are.
 * Blocks are zeroed: stb_image 2.27 leaves planes and coefficients uninitialised where a crafted
 * file never codes them (a component no scan covers), and would put old heap contents - on a
 * server, parts of earlier requests - into the decoded pixels. */
#define STBI_HDR 64

static void *stbi_budget_malloc(size_t size) {
    if (size > SIZE_MAX - STBI_HDR || size > g_budget.cap - g_budget.live) {
        g_budget.over = true;
        return NULL;
    }
    uint8_t *base = vf__alloc_aligned(size + STBI_HDR);
    if (!base) return NULL;
    memset(base + STBI_HDR, 0, size);
    memcpy(base, &size, sizeof size);
    g_budget.live += size;
    if (g_budget.live > g_budget.peak) g_budget.peak = g_budget.live;
    return base + STBI_HDR;
}

static void stbi_budget_free(void *p) {
    if (!p) return;
    uint8_t *base = (uint8_t *)p - STBI_HDR;
    size_t size;
    memcpy(&size, base, sizeof size);
    g_budget.live -= size <= g_budget.live ? size : g_budget.live;
    vf__free_aligned(base);
}

static void *stbi_budget_realloc(void *p, size_t size) {
    if (!p) return stbi_budget_malloc(size);
    size_t old;
    memcpy(&old, (uint8_t *)p - STBI_HDR, sizeof old);
    void *q = stbi_budget_malloc(size); /* old and new coexist during the copy: count both */
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    stbi_budget_free(p);
    return q;
}

#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 20) /* a backstop; vf_image_limits are far below */
#define STBI_MALLOC(sz) stbi_budget_malloc(sz)
#define STBI_REALLOC(p, sz) stbi_budget_realloc(p, sz)
#define STBI_REALLOC_SIZED(p, oldsz, newsz) stbi_budget_realloc(p, newsz)
#define STBI_FREE(p) stbi_budget_free(p)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
/* stb's unused static functions are reported at the end of the file, after any pop: file-wide. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
/* stb_image 2.27 (Debian 12) shifts by 32 or more in stbi__grow_buffer_unsafe once a corrupt or
 * cut entropy stream runs out of bits (nothings/stb#1293, fixed upstream in 2.28 by returning
 * zeros instead): the value shifted is then always 0 (nothing is read after the end marker), and
 * x86 and wasm mask the count, so the result is 0 either way. Clang's UBSan (build-ubsan, the
 * fuzzers) is told so for stb's functions only; tests/test_image.c decodes such files. */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("shift-exponent"))), apply_to = function)
#endif
#if __has_include(<stb_image.h>)
#include <stb_image.h>     /* -I/usr/include/stb (emcc does not search /usr/include) */
#else
#include <stb/stb_image.h> /* native compilers without the include path (tools/fuzz) */
#endif
#if defined(__clang__)
#pragma clang attribute pop
#endif
#pragma GCC diagnostic pop

/* ---- limits, identification -------------------------------------------------------------------- */

vf_image_limits vf_image_default_limits(void) {
    vf_image_limits l;
    memset(&l, 0, sizeof l);
    l.max_width = 8192;
    l.max_height = 8192;
    l.max_pixels = 40000000;
    l.max_input_bytes = (size_t)64 << 20;
    l.max_decoder_bytes = (size_t)1 << 30;
    l.max_jpeg_scans = 100;
    return l;
}

vf_image_decode_options vf_image_decode_default_options(void) {
    vf_image_decode_options o;
    memset(&o, 0, sizeof o);
    o.format = VF_PIXEL_RGBA8;
    o.apply_orientation = 1;
    o.limits = vf_image_default_limits();
    return o;
}

static const char *codec_name(vf_image_codec c) { return c == VF_IMAGE_CODEC_JPEG ? "JPEG" : c == VF_IMAGE_CODEC_PNG ? "PNG" : "image"; }

/* Name a few formats people upload by mistake, for a useful message. */
static const char *other_format(const uint8_t *b, size_t n) {
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0)) return "GIF";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0) return "WebP";
    if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0) {
        if (memcmp(b + 8, "avif", 4) == 0 || memcmp(b + 8, "avis", 4) == 0) return "AVIF";
        if (memcmp(b + 8, "hei", 3) == 0 || memcmp(b + 8, "mif1", 4) == 0 || memcmp(b + 8, "heic", 4) == 0) return "HEIF/HEIC";
        return "ISO media (MP4/HEIF)";
    }
    if (n >= 2 && b[0] == 'B' && b[1] == 'M') return "BMP";
    if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0)) return "TIFF";
    if (n >= 2 && b[0] == 0xFF && b[1] == 0xD8) return "JPEG-like data without a marker after SOI";
    return NULL;
}

static void budget_begin(size_t cap) {
    g_budget.live = g_budget.peak = 0;
    g_budget.cap = cap;
    g_budget.over = false;
}

static vf_status probe(vf_context *ctx, const uint8_t *b, size_t size, const vf_image_limits *lim, vf_image_info *info) {
    memset(info, 0, sizeof *info);
    info->orientation = 1;
    if (!b && size) return vf__fail(ctx, VF_E_INVALID_ARG, "image bytes are NULL");
    if (size == 0) return vf__fail(ctx, VF_E_IMAGE, "image is empty (0 bytes)");
    if (lim->max_width <= 0 || lim->max_height <= 0 || lim->max_pixels <= 0 || lim->max_input_bytes == 0)
        return vf__fail(ctx, VF_E_INVALID_ARG, "image limits must be positive");
    if (size > lim->max_input_bytes || size > INT_MAX)
        return vf__fail(ctx, VF_E_IMAGE, "image is %zu bytes, over the limit of %zu", size,
                        lim->max_input_bytes < (size_t)INT_MAX ? lim->max_input_bytes : (size_t)INT_MAX);

    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (size >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
        info->codec = VF_IMAGE_CODEC_JPEG;
    } else if (size >= 8 && memcmp(b, png_sig, 8) == 0) {
        info->codec = VF_IMAGE_CODEC_PNG;
    } else {
        const char *other = other_format(b, size);
        return vf__fail(ctx, VF_E_IMAGE, "unsupported image format%s%s (only JPEG and PNG are decoded)",
                        other ? ": " : "", other ? other : "");
    }

    /* Our own walk gives the coded size: the limits are checked on it before stb_image parses
     * anything; stb's header parse must then agree with it. */
    char err[160];
    int32_t cw, ch;
    if (info->codec == VF_IMAGE_CODEC_JPEG) {
        vf_jpeg_markers jm;
        const char *e = vf_jpeg_walk_markers(b, size, lim->max_jpeg_scans, &jm, err, sizeof err);
        if (e) return vf__fail(ctx, VF_E_IMAGE, "%s", e);
        info->orientation = jm.orientation;
        info->jpeg_scans = jm.scans;
        info->progressive = jm.sof == 0xC2;
        cw = jm.width;
        ch = jm.height;
    } else {
        vf_png_chunks pc;
        const char *e = vf_png_walk_chunks(b, size, &pc, err, sizeof err);
        if (e) return vf__fail(ctx, VF_E_IMAGE, "%s", e);
        cw = pc.width;
        ch = pc.height;
    }
    if (cw <= 0 || ch <= 0) return vf__fail(ctx, VF_E_IMAGE, "%s: bad size %dx%d", codec_name(info->codec), (int)cw, (int)ch);
    if (cw > lim->max_width || ch > lim->max_height || (int64_t)cw * ch > lim->max_pixels)
        return vf__fail(ctx, VF_E_IMAGE, "%s is %dx%d, over the limits (%dx%d, %lld pixels)", codec_name(info->codec), (int)cw,
                        (int)ch, (int)lim->max_width, (int)lim->max_height, (long long)lim->max_pixels);

    int w = 0, h = 0, comp = 0;
    budget_begin((size_t)1 << 20); /* stbi_info allocates the decoder struct only */
    int ok = stbi_info_from_memory(b, (int)size, &w, &h, &comp);
    g_budget.cap = 0;
    if (!ok) return vf__fail(ctx, VF_E_IMAGE, "corrupt %s header: %s", codec_name(info->codec), stbi_failure_reason());
    if (w != cw || h != ch)
        return vf__fail(ctx, VF_E_IMAGE, "%s header: size %dx%d, decoder reads %dx%d", codec_name(info->codec), (int)cw, (int)ch, w, h);
    info->stored_width = w;
    info->stored_height = h;
    info->channels = comp;
    return VF_OK;
}

vf_status vf_image_probe(vf_context *ctx, const void *bytes, size_t size, const vf_image_limits *limits,
                         vf_image_info *info_out) {
    vf_image_limits lim = limits ? *limits : vf_image_default_limits();
    vf_image_info info;
    vf_status s = probe(ctx, bytes, size, &lim, &info);
    if (s) return s;
    vf_image_oriented_size(info.orientation, info.stored_width, info.stored_height, &info.width, &info.height);
    if (info_out) *info_out = info;
    return VF_OK;
}

/* ---- orientation -------------------------------------------------------------------------------- */

void vf_image_oriented_size(int o, int32_t w, int32_t h, int32_t *w_out, int32_t *h_out) {
    bool swap = o >= 5 && o <= 8;
    *w_out = swap ? h : w;
    *h_out = swap ? w : h;
}

vf_status vf_image_orient(vf_context *ctx, const vf_image *src, int o, vf_image_buffer *dst) {
    if (!dst) return vf__fail(ctx, VF_E_INVALID_ARG, "orient: dst is NULL");
    memset(dst, 0, sizeof *dst);
    vf_status s = vf_image_check(ctx, src);
    if (s) return s;
    if (o < 1 || o > 8) return vf__fail(ctx, VF_E_INVALID_ARG, "orient: orientation %d is not 1..8", o);
    int32_t w = src->width, h = src->height, dw, dh;
    vf_image_oriented_size(o, w, h, &dw, &dh);
    s = vf_image_buffer_alloc(ctx, dw, dh, src->format, dst);
    if (s) return s;
    /* Stored pixel for displayed (x, y): sx = ax x + bx y + cx, sy = ay x + by y + cy. */
    int ax = 0, bx = 0, cx = 0, ay = 0, by = 0, cy = 0;
    switch (o) {
    case 1: ax = 1; by = 1; break;
    case 2: ax = -1; cx = w - 1; by = 1; break;
    case 3: ax = -1; cx = w - 1; by = -1; cy = h - 1; break;
    case 4: ax = 1; by = -1; cy = h - 1; break;
    case 5: bx = 1; ay = 1; break;
    case 6: bx = 1; ay = -1; cy = h - 1; break;
    case 7: bx = -1; cx = w - 1; ay = -1; cy = h - 1; break;
    case 8: bx = -1; cx = w - 1; ay = 1; break;
    }
    const int bpp = (int)src->format;
    const ptrdiff_t step = (ptrdiff_t)ax * bpp + (ptrdiff_t)ay * (ptrdiff_t)src->stride;
    enum { TILE = 64 }; /* transposing orientations read columns: go tile by tile for the cache */
    for (int32_t ty = 0; ty < dh; ty += TILE) {
        int32_t ty1 = ty + TILE < dh ? ty + TILE : dh;
        for (int32_t tx = 0; tx < dw; tx += TILE) {
            int32_t tx1 = tx + TILE < dw ? tx + TILE : dw;
            for (int32_t y = ty; y < ty1; y++) {
                int32_t sx = ax * tx + bx * y + cx, sy = ay * tx + by * y + cy;
                const uint8_t *p = src->data + (size_t)sy * src->stride + (size_t)sx * (size_t)bpp;
                uint8_t *q = dst->data + (size_t)y * dst->stride + (size_t)tx * (size_t)bpp;
                int32_t n = tx1 - tx;
                if (bpp == 4) {
                    for (int32_t i = 0; i < n; i++, p += step, q += 4) memcpy(q, p, 4);
                } else {
                    for (int32_t i = 0; i < n; i++, p += step, q += 3) { q[0] = p[0]; q[1] = p[1]; q[2] = p[2]; }
                }
            }
        }
    }
    return VF_OK;
}

/* ---- decode ------------------------------------------------------------------------------------- */

/* What stb_image 2.27 may hold at once for this image (see vf_image_limits.max_decoder_bytes). */
static size_t decoder_budget(const vf_image_info *info, size_t input, size_t cap) {
    size_t px, b;
    if (!vf__mul_size((size_t)info->stored_width + 16, (size_t)info->stored_height + 16, &px) ||
        !vf__mul_size(px, 24, &b) || !vf__add_size(b, 2 * input, &b) || !vf__add_size(b, (size_t)1 << 20, &b))
        return cap;
    return b < cap ? b : cap;
}

vf_status vf_image_decode(vf_context *ctx, const void *bytes, size_t size, const vf_image_decode_options *opt,
                          vf_image_buffer *out, vf_image_info *info_out) {
    if (!out) return vf__fail(ctx, VF_E_INVALID_ARG, "decode: out is NULL");
    memset(out, 0, sizeof *out);
    vf_image_decode_options o = opt ? *opt : vf_image_decode_default_options();
    if (o.format != VF_PIXEL_RGB8 && o.format != VF_PIXEL_RGBA8)
        return vf__fail(ctx, VF_E_INVALID_ARG, "decode: unknown pixel format %d", (int)o.format);
    if (o.limits.max_decoder_bytes == 0) return vf__fail(ctx, VF_E_INVALID_ARG, "decode: max_decoder_bytes is 0");
    vf_image_info info;
    vf_status s = probe(ctx, bytes, size, &o.limits, &info);
    if (s) return s;
    const int orient = o.apply_orientation ? info.orientation : 1;

    const size_t cap = decoder_budget(&info, size, o.limits.max_decoder_bytes);
    budget_begin(cap);
    int w = 0, h = 0, comp = 0;
    stbi_convert_iphone_png_to_rgb_thread(1); /* Apple's CgBI PNGs store BGR */
    uint8_t *px = stbi_load_from_memory(bytes, (int)size, &w, &h, &comp, (int)o.format);
    const bool over = g_budget.over;
    g_budget.cap = 0;
    if (!px) {
        if (over)
            return vf__fail(ctx, VF_E_IMAGE, "%s %dx%d: the decoder needs more than its memory limit of %zu bytes",
                            codec_name(info.codec), (int)info.stored_width, (int)info.stored_height, cap);
        const char *why = stbi_failure_reason();
        if (why && strcmp(why, "outofmem") == 0)
            return vf__fail(ctx, VF_E_NO_MEMORY, "%s %dx%d: out of memory while decoding", codec_name(info.codec),
                            (int)info.stored_width, (int)info.stored_height);
        return vf__fail(ctx, VF_E_IMAGE, "corrupt %s: %s", codec_name(info.codec), why ? why : "unknown error");
    }
    /* Adopt stb's block: its header sits STBI_HDR bytes before the pixels (see stbi_budget_malloc). */
    vf_image_buffer dec;
    dec.width = w;
    dec.height = h;
    dec.format = o.format;
    dec.stride = (size_t)w * (size_t)o.format;
    dec.data = px;
    dec.block_ = px - STBI_HDR;
    if (w != info.stored_width || h != info.stored_height) {
        vf_image_buffer_free(&dec);
        return vf__fail(ctx, VF_E_IMAGE, "%s: decoded size %dx%d differs from the header's %dx%d", codec_name(info.codec),
                        w, h, (int)info.stored_width, (int)info.stored_height);
    }
    if (orient != 1) {
        vf_image view = vf_image_buffer_view(&dec);
        s = vf_image_orient(ctx, &view, orient, out);
        vf_image_buffer_free(&dec);
        if (s) return s;
    } else {
        *out = dec;
    }
    vf_image_oriented_size(orient, info.stored_width, info.stored_height, &info.width, &info.height);
    info.decoder_peak_bytes = g_budget.peak;
    if (info_out) *info_out = info;
    return VF_OK;
}
