/* test_util.h - helpers shared by the C tests and test tools (header-only, static functions):
 * whole-file reads and a growing byte buffer that stb_image_write can write into. */
#ifndef VF_TEST_UTIL_H
#define VF_TEST_UTIL_H

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

#endif
