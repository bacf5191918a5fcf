/* test_util.h - helpers shared by the C tests and test tools (header-only, static functions):
 * whole-file reads and a growing byte buffer that stb_image_write can write into. */
#ifndef VF_TEST_UTIL_H
#define VF_TEST_UTIL_H

#include "veriface.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct membuf { uint8_t *p; size_t n, cap; } membuf;

static inline void mb_put(membuf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

/* stbi_write_*_to_func callback: ctx is a membuf */
static inline void mb_write(void *ctx, void *data, int size) { mb_put(ctx, data, (size_t)size); }

/* The whole file, NUL-terminated (so text can be parsed in place), in chunks (pipes and WASI
 * work too; the chunk is on the heap: WASI's stack is small). NULL if it cannot be opened;
 * an empty file gives a 1-byte buffer and *n = 0. */
static inline uint8_t *read_file(const char *path, size_t *n) {
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    membuf b = {0};
    uint8_t *tmp = malloc(65536);
    size_t k;
    while (tmp && (k = fread(tmp, 1, 65536, f)) > 0) mb_put(&b, tmp, k);
    free(tmp);
    fclose(f);
    mb_put(&b, "", 1);
    *n = b.n - 1;
    return b.p;
}

/* An engine from the model files of a checkout, by role (vf_model_roles): committed models in
 * `models`, fetched ones (MiniFASNet) in `pad`; absent files are absent models (liveness then
 * reports VF_E_NO_MODEL). NULL on failure, with the message on stderr. */
static inline vf_engine *test_engine(vf_context *ctx, const char *models, const char *pad, vf_backend be) {
    const vf_model_role *roles = vf_model_roles(NULL);
    char p[2048];
    vf_engine_models mm;
    uint8_t *b[VF_ROLE_COUNT];
    for (int i = 0; i < VF_ROLE_COUNT; i++) {
        snprintf(p, sizeof p, "%s/%s", roles[i].fetched ? pad : models, roles[i].file);
        mm.size[i] = 0;
        mm.bytes[i] = b[i] = read_file(p, &mm.size[i]);
        if (!b[i]) mm.size[i] = 0;
    }
    vf_model_options mo = vf_model_default_options();
    mo.backend = be;
    vf_engine *e = NULL;
    if (vf_engine_create(ctx, &mm, &mo, &e)) fprintf(stderr, "engine: %s\n", vf_context_last_error(ctx));
    for (int i = 0; i < VF_ROLE_COUNT; i++) free(b[i]);
    return e;
}

/* A model file DIR/NAME loaded with the default options; NULL when absent or invalid. */
static inline vf_model *test_load_model(vf_context *ctx, const char *dir, const char *name) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t n;
    uint8_t *b = read_file(path, &n);
    vf_model *m = NULL;
    if (b && vf_model_load(ctx, b, n, NULL, &m)) m = NULL;
    free(b);
    return m;
}

#ifdef VF_IMAGE_H
/* Decode image bytes into packed pixels (channels 3 = RGB8, 4 = RGBA8; EXIF applied), malloc'd;
 * NULL on failure. */
static inline uint8_t *test_decode_pixels(vf_context *ctx, const void *bytes, size_t n, int channels, int *w, int *h) {
    vf_image_decode_options o = vf_image_decode_default_options();
    o.format = channels == 3 ? VF_PIXEL_RGB8 : VF_PIXEL_RGBA8;
    vf_image_buffer buf;
    if (vf_image_decode(ctx, bytes, n, &o, &buf, NULL)) return NULL;
    size_t row = (size_t)buf.width * (size_t)channels;
    uint8_t *p = malloc(row * (size_t)buf.height);
    for (int y = 0; p && y < buf.height; y++) memcpy(p + (size_t)y * row, buf.data + (size_t)y * buf.stride, row);
    *w = buf.width;
    *h = buf.height;
    vf_image_buffer_free(&buf);
    return p;
}

/* The same from a file. */
static inline uint8_t *test_load_pixels(vf_context *ctx, const char *path, int channels, int *w, int *h) {
    size_t n;
    uint8_t *b = read_file(path, &n);
    uint8_t *p = b ? test_decode_pixels(ctx, b, n, channels, w, h) : NULL;
    free(b);
    return p;
}
#endif


#endif
