/* bench-index.c - the collection index (src/server/faceindex.c) on synthetic normalised embeddings:
 * for each size, the build time of the exact index (IndexFlatIP) and of the index the server
 * chooses (IVF from ivf_min on), its memory, search p50/p99 of one query at a time on one thread at
 * k = max_faces, and the recall@k of the IVF index against exact search, for each nprobe and
 * k_factor asked. Not a test: tools/bench-index.
 *
 *   vf_bench_index [--sizes 10000,100000,1000000] [--queries 500] [--dim 192] [--k 5]
 *                  [--nprobe 0,64,128] [--k-factor 0,4,8] [--ivf sq4,sq8,flat] [--data identities|uniform]
 *                  [--ivf-min N] [--nlist N] [--seed S] [--threshold 0.43] [--repeat R]
 * --ivf: the server's kind (sq4) unless given; --repeat: each IVF setting's queries R times, a row
 * each (wall-clock p99 on a shared machine is mostly the queue for a core: the load column is the
 * 1-minute load average when the row ends, CPU time is the thread's own).
 * recall@k: the share of the exact top k found, over all queries and over each kind (enrolled,
 * unenrolled); recall@1: the share of queries whose exact nearest face comes first; above
 * threshold: the share of the exact top-k hits scoring >= threshold found.
 *
 * uniform: points uniform on the sphere, queries too (192 independent directions: no structure at
 * all, the worst case for any index and unlike any face embedder).
 * identities: shaped like the default embedder's embeddings. Each person is a centre drawn from a
 * Gaussian with a power-law spectrum (variance of axis i ~ i^-a) whose cosine between two people
 * has the standard deviation of mobilefacenet-expo's impostor pairs on faces-lfw: 0.126, from its
 * thresholds at FMR 1% (0.334) and 0.1% (0.430) in docs/PIPELINE.md (a is solved for
 * 1 / 0.126^2 = 63 effective dimensions). A person has 1 to 5 faces in the collection, each the
 * centre plus noise of the same shape, the noise's scale drawn per person so that two faces of
 * them have cosine 0.6 to 0.8 (real same-person pairs of this model). Half the queries are a new
 * face of an enrolled person, half a face of a person not in the collection: those queries' top k
 * are all strangers, the hard part of recall.
 */
#include "../src/server/faceindex.h"

#include <malloc.h>
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

/* a face of a person (centre c, noise scale sigma): cosine between two faces ~ 1 / (1 + sigma^2) */
static void face_of(const float *c, float *out, int d, float sigma) {
    draw(out, d);
    for (int j = 0; j < d; j++) out[j] = c[j] + sigma * out[j];
    unit(out, d);
}

static float person_sigma(void) { return (float)sqrt(1 / (0.6 + 0.2 * unif()) - 1); }   /* cosine 0.6..0.8 */

static size_t heap_bytes(void) {   /* in use: malloc's arenas and its mmapped blocks (glibc) */
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
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

/* the machine's load average over the last minute: runnable processes, against its cores */
static double load1(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) { if (fscanf(f, "%lf", &l) != 1) l = -1; fclose(f); }
    return l;
}

static int cmp_double(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

static int parse_list(const char *s, long *out, int max) {
    int n = 0;
    while (*s && n < max) { out[n++] = strtol(s, (char **)&s, 10); if (*s == ',') s++; }
    return n;
}

/* n faces into x (and their people's centres and noise scales, for the queries), nq queries into q,
 * kind[i] = 1 for a query of an enrolled person. */
static void make_data(int identities, size_t n, int dim, int nq, float *x, float *q, int *kind) {
    if (!identities) {
        for (size_t i = 0; i < n * dim; i++) x[i] = gauss();
        for (size_t i = 0; i < n; i++) unit(x + i * dim, dim);
        for (int i = 0; i < nq * dim; i++) q[i] = gauss();
        for (int i = 0; i < nq; i++) { unit(q + (size_t)i * dim, dim); kind[i] = 0; }
        return;
    }
    /* the people of the queries: every (n / nq)th person enrolled, kept as they are drawn */
    size_t every = n / 3 / (size_t)nq + 1, people = 0;
    int kept = 0;
    float *c = malloc(sizeof(float) * dim), *qc = malloc(sizeof(float) * (size_t)nq * dim), *qs = malloc(sizeof(float) * nq);
    for (size_t i = 0; i < n; people++) {
        draw(c, dim);
        float sg = person_sigma();
        int m = 1 + (int)(rnd() % 5);
        for (int t = 0; t < m && i < n; t++, i++) face_of(c, x + i * dim, dim, sg);
        if (people % every == 0 && kept < nq) { memcpy(qc + (size_t)kept * dim, c, sizeof(float) * dim); qs[kept++] = sg; }
    }
    for (int i = 0; i < nq; i++) {
        float *o = q + (size_t)i * dim;
        kind[i] = i % 2 == 0 && i / 2 < kept;
        if (kind[i]) face_of(qc + (size_t)(i / 2) * dim, o, dim, qs[i / 2]);   /* a new face of an enrolled person */
        else { draw(c, dim); face_of(c, o, dim, person_sigma()); }            /* someone not in the collection */
    }
    free(c); free(qc); free(qs);
}

int main(int argc, char **argv) {
    long sizes[8] = {10000, 100000, 1000000}, nprobes[16] = {0}, kfs[8] = {0};
    int n_sizes = 3, n_np = 1, n_kf = 1, nq = 500, dim = 192, k = 5, identities = 1, nlist = 0, kinds[3] = {-1}, n_kinds = 1, repeat = 1;
    long ivf_min = -1;
    float thr = 0.43f;   /* mobilefacenet-expo at FMR 0.1% on faces-lfw: the duplicates that matter */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "%s needs a value\n", a); return 2; }
        if (!strcmp(a, "--sizes")) n_sizes = parse_list(v, sizes, 8);
        else if (!strcmp(a, "--nprobe")) n_np = parse_list(v, nprobes, 16);
        else if (!strcmp(a, "--k-factor")) n_kf = parse_list(v, kfs, 8);
        else if (!strcmp(a, "--queries")) nq = atoi(v);
        else if (!strcmp(a, "--dim")) dim = atoi(v);
        else if (!strcmp(a, "--k")) k = atoi(v);
        else if (!strcmp(a, "--ivf-min")) ivf_min = atol(v);
        else if (!strcmp(a, "--nlist")) nlist = atoi(v);
        else if (!strcmp(a, "--ivf")) {   /* the IVF kinds to build: sq8 (8-bit codes), sq4, flat (floats) */
            n_kinds = 0;
            for (const char *t = v; *t && n_kinds < 3; t += strcspn(t, ","), t += *t == ',')
                kinds[n_kinds++] = !strncmp(t, "sq8", 3) ? 8 : !strncmp(t, "sq4", 3) ? 4 : 0;
        }
        else if (!strcmp(a, "--repeat")) repeat = atoi(v);   /* each IVF setting's queries run this many times, a row each */
        else if (!strcmp(a, "--threshold")) thr = (float)atof(v);
        else if (!strcmp(a, "--seed")) rng_state ^= strtoull(v, NULL, 10) * 0x9E3779B97F4A7C15ull;
        else if (!strcmp(a, "--data")) identities = !strcmp(v, "identities");
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (kinds[0] < 0) kinds[0] = vf_faceindex_default_config(dim).code_bits;   /* the server's */
    if (repeat < 1) repeat = 1;
    if (k < 1 || k > 100 || nq < 2 || dim < 1) { fprintf(stderr, "bad --k, --queries or --dim\n"); return 2; }
    printf("data %s, dim %d, %d queries, k %d, IVF lists of codes (sq8, sq4: 8 or 4 bits, exact re-ranking; scan kernel %s) or floats\n",
           identities ? "identities (1-5 faces a person at cosine 0.6-0.8; half the queries enrolled)" : "uniform on the sphere", dim, nq, k,
           vf_faceindex_kernel_name());
    sd_axis = malloc(sizeof(float) * dim);
    if (identities) spectrum(dim, 1 / (0.126 * 0.126));
    printf("| size | index | nlist | nprobe | k_factor | build s | memory MB | search p50 ms | p99 ms | CPU p50 ms | CPU p99 ms | recall@%d | enrolled | unenrolled | recall@1 | above %.2f | load |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", k, thr);
    for (int si = 0; si < n_sizes; si++) {
        size_t n = (size_t)sizes[si];
        float *x = malloc(sizeof(float) * n * dim), *q = malloc(sizeof(float) * (size_t)nq * dim);
        int64_t *ids = malloc(sizeof(int64_t) * n);
        int *kind = malloc(sizeof(int) * nq);
        if (!x || !q || !ids || !kind) { fprintf(stderr, "out of memory\n"); return 1; }
        for (size_t i = 0; i < n; i++) ids[i] = (int64_t)i + 1;
        make_data(identities, n, dim, nq, x, q, kind);
        char err[256];
        vf_faceindex_config fc = vf_faceindex_default_config(dim);
        fc.ivf_min = (size_t)-1;   /* exact */
        vf_faceindex *flat, *ivf = NULL;
        size_t m0 = heap_bytes();
        double t0 = now_ms();
        if (vf_faceindex_build(&fc, ids, x, n, &flat, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        double flat_s = (now_ms() - t0) / 1e3;
        double flat_mb = (double)(heap_bytes() - m0) / 1e6;
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
        printf("| %zu | flat | - | - | - | %.2f | %.0f | %.2f | %.2f | %.2f | %.2f | 1 | 1 | 1 | 1 | 1 (%ld hits) | %.1f |\n", n, flat_s, flat_mb, lat[nq / 2],
               lat[(int)(nq * 0.99)], cpu[nq / 2], cpu[(int)(nq * 0.99)], above, load1());
        fflush(stdout);
        for (int kd = 0; kd < n_kinds; kd++) {
        int bits = kinds[kd];
        vf_faceindex_config ic = vf_faceindex_default_config(dim);
        if (ivf_min >= 0) ic.ivf_min = (size_t)ivf_min;
        ic.nlist = nlist;
        ic.code_bits = bits;
        m0 = heap_bytes();
        t0 = now_ms();
        if (n >= ic.ivf_min && vf_faceindex_build(&ic, ids, x, n, &ivf, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        double ivf_s = (now_ms() - t0) / 1e3, ivf_mb = (double)(heap_bytes() - m0) / 1e6;
        int np0 = ivf ? vf_faceindex_nprobe(ivf) : 0, kf0 = ivf ? vf_faceindex_k_factor(ivf) : 0;
        for (int pi = 0; ivf && pi < n_np; pi++)
            for (int ki = 0; ki < (bits ? n_kf : 1); ki++)
            for (int rep = 0; rep < repeat; rep++) {
                vf_faceindex_set_nprobe(ivf, nprobes[pi] > 0 ? (int)nprobes[pi] : np0);   /* 0: the default */
                if (bits) vf_faceindex_set_k_factor(ivf, kfs[ki] > 0 ? (int)kfs[ki] : kf0);
                long found[2] = {0, 0}, total[2] = {0, 0}, found_above = 0, first = 0;
                for (int i = 0; i < nq; i++) {
                    double t = now_ms(), c = cpu_ms();
                    int m = vf_faceindex_search(ivf, q + (size_t)i * dim, k, -2.f, hits);
                    lat[i] = now_ms() - t;
                    cpu[i] = cpu_ms() - c;
                    first += m > 0 && hits[0].id == truth[(size_t)i * k].id;
                    total[kind[i]] += k;
                    for (int a = 0; a < m; a++)
                        for (int b = 0; b < k; b++)
                            if (hits[a].id == truth[(size_t)i * k + b].id) { found[kind[i]]++; found_above += truth[(size_t)i * k + b].score >= thr; }
                }
                qsort(lat, nq, sizeof *lat, cmp_double);
                qsort(cpu, nq, sizeof *cpu, cmp_double);
                char np[32], kf[16];
                snprintf(np, sizeof np, "%d%s", vf_faceindex_nprobe(ivf), nprobes[pi] > 0 ? "" : " (default)");
                snprintf(kf, sizeof kf, bits ? "%d%s" : "-", vf_faceindex_k_factor(ivf), kfs[ki] > 0 ? "" : " (default)");
                printf("| %zu | ivf %s | %d | %s | %s | %.2f | %.0f | %.2f | %.2f | %.2f | %.2f | %.4f | %.4f | %.4f | %.4f | %.4f | %.1f |\n", n, bits == 8 ? "sq8" : bits == 4 ? "sq4" : "flat",
                       vf_faceindex_nlist(ivf), np, kf, ivf_s, ivf_mb, lat[nq / 2], lat[(int)(nq * 0.99)], cpu[nq / 2], cpu[(int)(nq * 0.99)],
                       (double)(found[0] + found[1]) / (double)(total[0] + total[1]), total[1] ? (double)found[1] / total[1] : NAN,
                       total[0] ? (double)found[0] / total[0] : NAN, (double)first / nq, above ? (double)found_above / above : 1.0, load1());
                fflush(stdout);
            }
        vf_faceindex_free(ivf);
        ivf = NULL;
        }
        vf_faceindex_free(flat);
        free(x); free(q); free(ids); free(kind); free(truth); free(lat); free(cpu);
    }
    return 0;
}
