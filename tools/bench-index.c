/* bench-index.c - the collection index (src/server/faceindex.c) on synthetic normalised embeddings:
 * for each size, the build time of the exact index (IndexFlatIP) and of the index the server
 * chooses (IVF from ivf_min on), search p50/p99 of one query at a time at k = max_faces, and the
 * recall@k of the IVF index against exact search, for each nprobe asked. Not a test: tools/bench-index.
 *
 *   vf_bench_index [--sizes 10000,100000,1000000] [--queries 500] [--dim 192] [--k 5]
 *                  [--nprobe 0,32,64,128] [--data faces|uniform] [--ivf-min N] [--nlist N] [--seed S]
 *                  [--threshold 0.43]
 * recall@k: the share of the exact top k found; recall@1: the share of queries whose exact nearest
 * face comes first (the duplicate a dedupe search is for); above threshold: the share of the exact
 * top-k hits scoring >= threshold found.
 *
 * uniform: points uniform on the sphere (192 independent directions: no structure at all, the
 * hardest case for an inverted file and unlike any face embedder).
 * faces: shaped like the default embedder's embeddings. A Gaussian with a power-law spectrum
 * (variance of axis i ~ i^-a) whose cosine between two people has the standard deviation of
 * mobilefacenet-expo's impostor pairs on faces-lfw: 0.126, from its thresholds at FMR 1% (0.334)
 * and 0.1% (0.430) in docs/PIPELINE.md (a is solved for 1 / 0.126^2 = 63 effective dimensions).
 * Two faces per identity, cosine ~0.65 between them; each query is a new face of an identity of
 * the collection. Recall is over the exact top k, the other people included.
 */
#include "../src/server/faceindex.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {   /* this thread's CPU time: what a search costs whatever else runs */
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) {                       /* xorshift64* */
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static double unif(void) { return ((rnd() >> 11) + 0.5) / 9007199254740992.0; }
static float gauss(void) { return (float)(sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif())); }

static void unit(float *v, int d) {
    double s = 0;
    for (int j = 0; j < d; j++) s += (double)v[j] * v[j];
    for (int j = 0; j < d; j++) v[j] = (float)(v[j] / sqrt(s));
}

static float *sd_axis;   /* faces: standard deviation of each axis (sum of variances 1) */

static void draw(float *v, int d) { for (int j = 0; j < d; j++) v[j] = sd_axis[j] * gauss(); }

/* a face of an identity (unnormalised draw `id`): cosine between two faces ~ 1 / (1 + sigma^2) */
static void face_of(const float *id, float *out, int d, float sigma) {
    draw(out, d);
    for (int j = 0; j < d; j++) out[j] = id[j] + sigma * out[j];
    unit(out, d);
}

/* the spectrum i^-a whose effective dimension (sum l)^2 / sum l^2 is `eff` */
static void spectrum(int d, double eff) {
    double lo = 0, hi = 4, a = 0;
    for (int it = 0; it < 60; it++) {
        a = (lo + hi) / 2;
        double s = 0, s2 = 0;
        for (int i = 1; i <= d; i++) { double l = pow(i, -a); s += l; s2 += l * l; }
        if (s * s / s2 > eff) lo = a; else hi = a;
    }
    double s = 0;
    for (int i = 1; i <= d; i++) s += pow(i, -a);
    for (int i = 0; i < d; i++) sd_axis[i] = (float)sqrt(pow(i + 1, -a) / s);
    printf("faces: spectrum i^-%.3f, effective dimension %.1f\n", a, eff);
}

static int cmp_double(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

static int parse_list(const char *s, long *out, int max) {
    int n = 0;
    while (*s && n < max) { out[n++] = strtol(s, (char **)&s, 10); if (*s == ',') s++; }
    return n;
}

int main(int argc, char **argv) {
    long sizes[8] = {10000, 100000, 1000000}, nprobes[16] = {0};
    int n_sizes = 3, n_np = 1, nq = 500, dim = 192, k = 5, identities = 1, nlist = 0;
    long ivf_min = -1;
    float thr = 0.43f;   /* mobilefacenet-expo at FMR 0.1% on faces-lfw: the duplicates that matter */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "%s needs a value\n", a); return 2; }
        if (!strcmp(a, "--sizes")) n_sizes = parse_list(v, sizes, 8);
        else if (!strcmp(a, "--nprobe")) n_np = parse_list(v, nprobes, 16);
        else if (!strcmp(a, "--queries")) nq = atoi(v);
        else if (!strcmp(a, "--dim")) dim = atoi(v);
        else if (!strcmp(a, "--k")) k = atoi(v);
        else if (!strcmp(a, "--ivf-min")) ivf_min = atol(v);
        else if (!strcmp(a, "--nlist")) nlist = atoi(v);
        else if (!strcmp(a, "--threshold")) thr = (float)atof(v);
        else if (!strcmp(a, "--seed")) rng_state ^= strtoull(v, NULL, 10) * 0x9E3779B97F4A7C15ull;
        else if (!strcmp(a, "--data")) identities = !strcmp(v, "faces");
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (k < 1 || k > 100 || nq < 1 || dim < 1) { fprintf(stderr, "bad --k, --queries or --dim\n"); return 2; }
    printf("data %s, dim %d, %d queries, k %d\n", identities ? "faces (2 a person, cosine ~0.65)" : "uniform on the sphere", dim, nq, k);
    sd_axis = malloc(sizeof(float) * dim);
    if (identities) spectrum(dim, 1 / (0.126 * 0.126));
    printf("| size | index | nlist | nprobe | build s | search p50 ms | p99 ms | CPU p50 ms | CPU p99 ms | recall@%d | recall@1 | recall above %.2f |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n", k, thr);
    const float sigma = 0.73f;   /* 1 / (1 + 0.73^2) = 0.65 */
    for (int si = 0; si < n_sizes; si++) {
        size_t n = (size_t)sizes[si];
        float *x = malloc(sizeof(float) * n * dim), *q = malloc(sizeof(float) * (size_t)nq * dim), *dir = malloc(sizeof(float) * dim);
        int64_t *ids = malloc(sizeof(int64_t) * n);
        if (!x || !q || !dir || !ids) { fprintf(stderr, "out of memory\n"); return 1; }
        for (size_t i = 0; i < n; i++) ids[i] = (int64_t)i + 1;
        if (identities) {
            float *id = malloc(sizeof(float) * dim);
            for (size_t i = 0; i < n; i += 2) {
                draw(id, dim);
                for (size_t t = i; t < i + 2 && t < n; t++) face_of(id, x + t * dim, dim, sigma);
            }
            /* a query: a new face of an identity of the collection; one of its faces, scaled back
             * to a draw's length, stands in for the identity (a little further from the others) */
            for (int i = 0; i < nq; i++) {
                const float *f = x + (rnd() % n) * dim;
                for (int j = 0; j < dim; j++) id[j] = f[j];
                face_of(id, q + (size_t)i * dim, dim, sigma * 0.7f);
            }
            free(id);
        } else {
            for (size_t i = 0; i < n * dim; i++) x[i] = gauss();
            for (size_t i = 0; i < n; i++) unit(x + i * dim, dim);
            for (int i = 0; i < nq * dim; i++) q[i] = gauss();
            for (int i = 0; i < nq; i++) unit(q + (size_t)i * dim, dim);
        }
        char err[256];
        vf_faceindex_config fc = vf_faceindex_default_config(dim);
        fc.ivf_min = (size_t)-1;   /* exact */
        vf_faceindex *flat, *ivf = NULL;
        double t0 = now_ms();
        if (vf_faceindex_build(&fc, ids, x, n, &flat, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        double flat_s = (now_ms() - t0) / 1e3;
        vf_faceindex_hit *truth = malloc(sizeof *truth * (size_t)nq * k), hits[100];
        double *lat = malloc(sizeof(double) * nq), *cpu = malloc(sizeof(double) * nq);
        for (int i = 0; i < nq; i++) {
            double t = now_ms(), c = cpu_ms();
            if (vf_faceindex_search(flat, q + (size_t)i * dim, k, -2.f, truth + (size_t)i * k) != k) { fprintf(stderr, "flat search failed\n"); return 1; }
            lat[i] = now_ms() - t;
            cpu[i] = cpu_ms() - c;
        }
        qsort(lat, nq, sizeof *lat, cmp_double);
        qsort(cpu, nq, sizeof *cpu, cmp_double);
        long above = 0;
        for (int i = 0; i < nq * k; i++) above += truth[i].score >= thr;
        printf("| %zu | flat | - | - | %.2f | %.2f | %.2f | %.2f | %.2f | 1 | 1 | 1 (%ld hits) |\n", n, flat_s, lat[nq / 2], lat[(int)(nq * 0.99)],
               cpu[nq / 2], cpu[(int)(nq * 0.99)], above);
        fflush(stdout);
        vf_faceindex_config ic = vf_faceindex_default_config(dim);
        if (ivf_min >= 0) ic.ivf_min = (size_t)ivf_min;
        ic.nlist = nlist;
        t0 = now_ms();
        if (n >= ic.ivf_min && vf_faceindex_build(&ic, ids, x, n, &ivf, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        double ivf_s = (now_ms() - t0) / 1e3;
        for (int pi = 0; ivf && pi < n_np; pi++) {
            if (nprobes[pi] > 0) vf_faceindex_set_nprobe(ivf, (int)nprobes[pi]);
            long found = 0, found_above = 0, first = 0;
            for (int i = 0; i < nq; i++) {
                double t = now_ms(), c = cpu_ms();
                int m = vf_faceindex_search(ivf, q + (size_t)i * dim, k, -2.f, hits);
                lat[i] = now_ms() - t;
                cpu[i] = cpu_ms() - c;
                first += m > 0 && hits[0].id == truth[(size_t)i * k].id;
                for (int a = 0; a < m; a++)
                    for (int b = 0; b < k; b++)
                        if (hits[a].id == truth[(size_t)i * k + b].id) { found++; found_above += truth[(size_t)i * k + b].score >= thr; }
            }
            qsort(lat, nq, sizeof *lat, cmp_double);
            qsort(cpu, nq, sizeof *cpu, cmp_double);
            char np[32];
            snprintf(np, sizeof np, nprobes[pi] > 0 ? "%ld" : "%ld (default)", nprobes[pi] > 0 ? nprobes[pi] : (long)(ic.nprobe > 0 ? ic.nprobe : (vf_faceindex_nlist(ivf) / 4 < 32 ? 32 : vf_faceindex_nlist(ivf) / 4)));
            printf("| %zu | ivf | %d | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.4f | %.4f | %.4f |\n", n, vf_faceindex_nlist(ivf), np, ivf_s, lat[nq / 2],
                   lat[(int)(nq * 0.99)], cpu[nq / 2], cpu[(int)(nq * 0.99)], (double)found / ((double)nq * k), (double)first / nq, above ? (double)found_above / above : 1.0);
            fflush(stdout);
        }
        vf_faceindex_free(flat);
        vf_faceindex_free(ivf);
        free(x); free(q); free(dir); free(ids); free(truth); free(lat); free(cpu);
    }
    return 0;
}
