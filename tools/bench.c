/* bench.c - model benchmark (not a test): for each .vfm, on each backend of this build, print
 * MFLOPs, arena bytes, median and p90 milliseconds and GFLOP/s.
 *
 *   vf_bench [--runs N] [--threads T] MODEL.vfm...
 *
 * Timing is wall-clock around vf_model_invoke after warm-up; figures only mean something as
 * ratios between backends measured in the same run on the same machine. */
#include "golden.h"
#include "veriface.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = sz > 0 ? malloc((size_t)sz) : NULL;
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) { free(b); b = NULL; }
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static void bench_one(const char *path, const uint8_t *bytes, size_t n, vf_backend be, int threads, int runs) {
    vf_context_options co = vf_context_default_options();
    co.threads = threads;
    vf_context *ctx;
    vf_context_create(&co, &ctx);
    vf_model_options mo = vf_model_default_options();
    mo.backend = be;
    vf_model *m;
    if (vf_model_load(ctx, bytes, n, &mo, &m) != VF_OK) {
        printf("%-22s %-8s load failed: %s\n", path, vf_backend_name(be), vf_context_last_error(ctx));
        vf_context_free(ctx);
        return;
    }
    vf_model_stats st;
    vf_model_get_stats(m, &st);
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    vf_golden_fill(12345, 0.0f, 1.0f, in.data, in.count);
    int warm = runs / 10 > 2 ? runs / 10 : 2;
    for (int i = 0; i < warm; i++) vf_model_invoke(m);
    double *t = malloc(sizeof *t * (size_t)runs);
    for (int i = 0; i < runs; i++) {
        double t0 = now_ms();
        vf_model_invoke(m);
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double med = t[runs / 2], p90 = t[(runs * 9) / 10 < runs ? (runs * 9) / 10 : runs - 1];
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    printf("%-22s %-8s %2d thr %9.1f MFLOP %9.2f MiB arena %9.3f ms med %9.3f ms p90 %7.2f GFLOP/s\n", name,
           vf_backend_name(be), threads, st.mflops, st.arena_bytes / 1048576.0, med, p90, st.mflops / med);  /* MFLOP per ms = GFLOP/s */
    free(t);
    vf_model_free(m);
    vf_context_free(ctx);
}

int main(int argc, char **argv) {
    int runs = 50, ref_runs = 5;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ref-runs") && i + 1 < argc) ref_runs = atoi(argv[++i]);
        else { fprintf(stderr, "usage: vf_bench [--runs N] [--ref-runs N] MODEL.vfm...\n"); return 2; }
    }
    if (i == argc || runs < 1 || ref_runs < 1) { fprintf(stderr, "usage: vf_bench [--runs N] [--ref-runs N] MODEL.vfm...\n"); return 2; }
    printf("veriface %s benchmark: %d runs (ref: %d) after warm-up; wall clock\n", vf_version(), runs, ref_runs);
    for (; i < argc; i++) {
        size_t n;
        uint8_t *b = read_all(argv[i], &n);
        if (!b) { printf("%s: cannot read\n", argv[i]); continue; }
        bench_one(argv[i], b, n, VF_BACKEND_REF, 1, ref_runs);
        bench_one(argv[i], b, n, VF_BACKEND_SIMD, 1, runs);
        bench_one(argv[i], b, n, VF_BACKEND_SIMD, 2, runs);
        if (vf_backend_available(VF_BACKEND_XNNPACK)) {
            bench_one(argv[i], b, n, VF_BACKEND_XNNPACK, 1, runs);
            bench_one(argv[i], b, n, VF_BACKEND_XNNPACK, 2, runs);
        }
        free(b);
    }
    return 0;
}
