/* test_noalloc.c - the per-frame pipeline allocates nothing after session creation.
 *
 * Native only: the executable is linked with -Wl,--wrap for the allocator, so every call that our
 * static core makes to malloc/calloc/realloc/posix_memalign/aligned_alloc/free is counted
 * (libXNNPACK is a shared library: its own internal calls are not seen; the simd backend is
 * all ours). Real webcam frames from ../shared/data (exit 77 without it). */
#include "veriface.h"
#include "image/image.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long g_allocs;   /* allocator calls while counting */
static int g_counting;

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n) { g_allocs += g_counting; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { g_allocs += g_counting; return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { g_allocs += g_counting; return __real_realloc(p, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { g_allocs += g_counting; return __real_posix_memalign(p, a, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { g_allocs += g_counting; return __real_aligned_alloc(a, n); }
void __wrap_free(void *p) { g_allocs += g_counting && p; __real_free(p); }

static int g_pass, g_fail;
#define CHECK(c, ...) do { if (c) g_pass++; else { g_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)


int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: test_noalloc MODELS PAD_MODELS SHARED_DATA\n"); return 2; }
    static const char *names[] = {"real2_t05.25.jpg", "real2_t06.43.jpg", "real2_t07.62.jpg", "real2_t08.80.jpg",
                                  "real2_t09.99.jpg", "real2_t11.18.jpg"};
    char path[1200];
    snprintf(path, sizeof path, "%s/pad/apfol_liveness/frames/%s", argv[3], names[0]);
    FILE *probe = fopen(path, "rb");
    if (!probe) { printf("SKIP: %s absent (../shared/data)\n", path); return 77; }
    fclose(probe);
    vf_context *ctx;
    vf_context_create(NULL, &ctx);
    /* frames decoded up front: decoding is the host's job, not the per-frame pipeline's */
    vf_frame frames[6];
    vf_image_buffer bufs[6];
    int nfr = 0;
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/pad/apfol_liveness/frames/%s", argv[3], names[i]);
        size_t n;
        uint8_t *b = read_file(path, &n);
        vf_image_buffer *buf = &bufs[nfr];
        if (!b || vf_image_decode(ctx, b, n, NULL, buf, NULL) != VF_OK) { free(b); continue; }
        free(b);
        frames[nfr] = (vf_frame){buf->width, buf->height, buf->stride, 4, buf->data, 66.0 * i};
        nfr++;
    }
    CHECK(nfr >= 3, "decoded %d frames", nfr);
    vf_backend backends[] = {VF_BACKEND_SIMD, VF_BACKEND_XNNPACK, VF_BACKEND_REF};
    for (int bi = 0; bi < 3; bi++) {
        if (!vf_backend_available(backends[bi])) continue;
        vf_session *s = NULL;
        vf_engine *e = test_engine(ctx, argv[1], argv[2], backends[bi]);
        CHECK(e != NULL, "engine on %s", vf_backend_name(backends[bi]));
        if (!e) continue;
        vf_status r;
        vf_session_config cfg = vf_session_default_config();
        cfg.good_frames = 3;
        /* these frames are dim and 1.2 s apart; the test is about memory, not light or steadiness */
        cfg.quality.min_brightness = 0;
        cfg.quality.max_motion = 1e6f;
        CHECK(vf_session_create(e, &cfg, &s) == VF_OK, "session");
        long push_allocs = 0, finish_allocs = 0;
        int complete = 0, pushed = 0;
        for (int i = 0; i < nfr && s; i++) {
            vf_frame_status st;
            g_allocs = 0; g_counting = 1;
            r = vf_session_push_frame(s, &frames[i], &st);
            g_counting = 0;
            push_allocs += g_allocs;
            pushed += r == VF_OK;
            complete = r == VF_OK && st.complete;
            if (complete) break;
        }
        CHECK(pushed >= 3 && complete, "%s: capture did not complete (%d pushed)", vf_backend_name(backends[bi]), pushed);
        if (complete) {
            vf_session_result res;
            g_allocs = 0; g_counting = 1;
            r = vf_session_finish(s, &res);
            g_counting = 0;
            finish_allocs = g_allocs;
            CHECK(r == VF_OK, "finish");
        }
        CHECK(push_allocs == 0, "%s: %ld allocator calls in %d pushes", vf_backend_name(backends[bi]), push_allocs, pushed);
        CHECK(finish_allocs == 0, "%s: %ld allocator calls in finish", vf_backend_name(backends[bi]), finish_allocs);
        printf("%s: %d pushes, %ld allocator calls; finish %ld\n", vf_backend_name(backends[bi]), pushed, push_allocs, finish_allocs);
        vf_session_free(s);
        vf_engine_free(e);
    }
    for (int i = 0; i < nfr; i++) vf_image_buffer_free(&bufs[i]);
    vf_context_free(ctx);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
