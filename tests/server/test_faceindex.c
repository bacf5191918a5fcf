/* test_faceindex.c - the collection index (src/server/faceindex.c, FAISS through its C API) and the
 * multipart reader of the face endpoints (src/server/multipart.c). */
#include "../../src/server/faceindex.h"
#include "../../src/server/multipart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static uint64_t st = 0x2545F4914F6CDD1Dull;
static float frand(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return (float)((st >> 11) * (1.0 / 9007199254740992.0)) - 0.5f; }

static void fill(float *v, size_t n, int d) { for (size_t i = 0; i < n * (size_t)d; i++) v[i] = frand(); }

/* top k by brute force over unnormalised rows (cosine), ids = i + 1000 */
static void brute(const float *x, size_t n, int d, const float *q, int k, int64_t *out) {
    float best[8];
    for (int j = 0; j < k; j++) { best[j] = -2; out[j] = -1; }
    double qn = 0;
    for (int j = 0; j < d; j++) qn += (double)q[j] * q[j];
    for (size_t i = 0; i < n; i++) {
        double dot = 0, xn = 0;
        for (int j = 0; j < d; j++) { dot += (double)x[i * d + j] * q[j]; xn += (double)x[i * d + j] * x[i * d + j]; }
        float c = (float)(dot / sqrt(xn * qn));
        for (int a = 0; a < k; a++)
            if (c > best[a]) {
                for (int b = k - 1; b > a; b--) { best[b] = best[b - 1]; out[b] = out[b - 1]; }
                best[a] = c; out[a] = (int64_t)i + 1000;
                break;
            }
    }
}

static void test_flat(void) {
    enum { N = 300, D = 24 };
    float *x = malloc(sizeof(float) * N * D);
    int64_t ids[N];
    fill(x, N, D);
    for (int i = 0; i < N; i++) ids[i] = i + 1000;
    vf_faceindex_config c = vf_faceindex_default_config(D);
    vf_faceindex *ix;
    char err[256];
    CHECK(vf_faceindex_build(&c, ids, x, N, &ix, err, sizeof err) == 0, "build: %s", err);
    CHECK(vf_faceindex_kind_of(ix) == VF_FACEINDEX_FLAT && vf_faceindex_count(ix) == N, "flat of %d", N);
    vf_faceindex_hit h[8];
    /* a row scaled finds itself at cosine 1: the index normalises */
    float q[D];
    for (int j = 0; j < D; j++) q[j] = x[17 * D + j] * 3.5f;
    int n = vf_faceindex_search(ix, q, 5, -1.f, h);
    CHECK(n == 5 && h[0].id == 1017 && fabsf(h[0].score - 1) < 1e-5f, "self: n %d id %lld score %f", n, (long long)h[0].id, h[0].score);
    int64_t want[5];
    brute(x, N, D, q, 5, want);
    for (int a = 0; a < 5 && n == 5; a++) CHECK(h[a].id == want[a], "rank %d: %lld vs brute %lld", a, (long long)h[a].id, (long long)want[a]);
    for (int a = 1; a < n; a++) CHECK(h[a].score <= h[a - 1].score, "best first");
    /* the threshold keeps only the hits at or above it */
    n = vf_faceindex_search(ix, q, 5, 0.999f, h);
    CHECK(n == 1 && h[0].id == 1017, "threshold: %d hits", n);
    /* removed rows are gone; unknown ids are ignored */
    int64_t rm[2] = {1017, 99999};
    CHECK(vf_faceindex_remove(ix, rm, 2) == 1, "removed one");
    n = vf_faceindex_search(ix, q, 5, -1.f, h);
    CHECK(n == 5 && h[0].id != 1017, "removed row not found");
    CHECK(vf_faceindex_count(ix) == N - 1, "count after remove");
    int64_t back = 5555;
    CHECK(vf_faceindex_add(ix, &back, x + 17 * D, 1) == 0, "add");
    n = vf_faceindex_search(ix, q, 1, -1.f, h);
    CHECK(n == 1 && h[0].id == 5555, "added row found: %lld", (long long)h[0].id);
    CHECK(vf_faceindex_search(ix, q, 0, -1.f, h) == -1 && vf_faceindex_search(ix, q, 101, -1.f, h) == -1, "k out of 1..100");
    CHECK(!vf_faceindex_stale(ix), "small flat is not stale");
    vf_faceindex_free(ix);
    /* an empty index answers nothing, and grows */
    CHECK(vf_faceindex_build(&c, NULL, NULL, 0, &ix, err, sizeof err) == 0, "empty build: %s", err);
    CHECK(vf_faceindex_search(ix, q, 5, -1.f, h) == 0, "empty search");
    c.ivf_min = 2;
    vf_faceindex_free(ix);
    CHECK(vf_faceindex_build(&c, ids, x, 1, &ix, err, sizeof err) == 0 && vf_faceindex_kind_of(ix) == VF_FACEINDEX_FLAT, "1 row: flat");
    CHECK(vf_faceindex_add(ix, ids + 1, x + D, 1) == 0 && vf_faceindex_stale(ix), "grown to ivf_min: stale");
    vf_faceindex_free(ix);
    free(x);
}

/* bits: lists of 4- or 8-bit codes scanned by our kernel and re-ranked exactly (faiss_ivfsq.cpp), 0:
 * of floats. D = 72: the kernels' full steps (16 components for 8-bit codes, 64 for 4-bit) and their
 * tails; D = 520 (4-bit): the 16-bit sums widened after every 4 blocks of 64, then a tail. */
static void test_ivf(int bits, int D) {
    enum { N = 4000, Q = 20 };
    float *x = malloc(sizeof(float) * N * D);
    int64_t *ids = malloc(sizeof(int64_t) * N);
    fill(x, N, D);
    for (int i = 0; i < N; i++) ids[i] = i + 1000;
    vf_faceindex_config c = vf_faceindex_default_config(D);
    c.ivf_min = 1000;
    c.code_bits = bits;
    vf_faceindex *ix;
    char err[256];
    CHECK(vf_faceindex_build(&c, ids, x, N, &ix, err, sizeof err) == 0, "ivf build: %s", err);
    CHECK(vf_faceindex_kind_of(ix) == VF_FACEINDEX_IVF, "ivf chosen at %d >= %zu", N, c.ivf_min);
    int nlist = vf_faceindex_nlist(ix);
    CHECK(nlist > 1 && nlist * 39 <= N, "nlist %d", nlist);
    CHECK(vf_faceindex_k_factor(ix) == (bits == 4 ? 32 : bits ? 8 : 0), "k_factor %d", vf_faceindex_k_factor(ix));
    /* every list probed: the inverted file is exact (codes: the shortlist of 40 holds the top 5,
     * re-ranked on the exact vectors) */
    vf_faceindex_set_nprobe(ix, nlist);
    CHECK(vf_faceindex_nprobe(ix) == nlist, "nprobe %d", vf_faceindex_nprobe(ix));
    vf_faceindex_hit h[8];
    int same_k1 = 0;
    for (int i = 0; i < Q; i++) {
        float q[D];
        fill(q, 1, D);
        int64_t want[5];
        brute(x, N, D, q, 5, want);
        vf_faceindex_set_k_factor(ix, 8);
        int n = vf_faceindex_search(ix, q, 5, -1.f, h);
        CHECK(n == 5, "ivf hits %d", n);
        for (int a = 0; a < n; a++) CHECK(h[a].id == want[a], "query %d rank %d: %lld vs %lld", i, a, (long long)h[a].id, (long long)want[a]);
        /* no shortlist: the coded scores alone rank, close to the exact order but not always it */
        vf_faceindex_set_k_factor(ix, 1);
        n = vf_faceindex_search(ix, q, 5, -1.f, h);
        for (int a = 0; a < n; a++)
            for (int b = 0; b < 5; b++) same_k1 += h[a].id == want[b];
    }
    CHECK(same_k1 >= Q * 5 * 8 / 10, "coded scores alone find %d of %d", same_k1, Q * 5);
    vf_faceindex_set_k_factor(ix, 8);
    int64_t rm = 1000 + 42;
    CHECK(vf_faceindex_remove(ix, &rm, 1) == 1 && vf_faceindex_count(ix) == N - 1, "ivf remove");
    CHECK(vf_faceindex_search(ix, x + 42 * D, 1, -1.f, h) == 1 && h[0].id != rm, "removed not found");
    /* added after training: coded with the trained range, found at cosine 1 */
    int64_t back = 77777;
    CHECK(vf_faceindex_add(ix, &back, x + 42 * D, 1) == 0 && vf_faceindex_count(ix) == N, "ivf add");
    CHECK(vf_faceindex_search(ix, x + 42 * D, 1, -1.f, h) == 1 && h[0].id == back && fabsf(h[0].score - 1) < 1e-5f, "added found: %lld %f",
          (long long)h[0].id, h[0].score);
    CHECK(!vf_faceindex_stale(ix), "fresh ivf not stale");
    vf_faceindex_free(ix);
    free(x);
    free(ids);
}

static void test_multipart(void) {
    vf_mp_part p[VF_MP_MAX_PARTS];
    char err[256];
    const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"image_a\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                        "AB\r\nC\r\n--XyZ\r\nContent-Disposition: form-data; filename=\"n.txt\"; name=\"external_face_id\"\r\n\r\nalice\r\n--XyZ--\r\n";
    int n = vf_mp_parse("multipart/form-data; boundary=XyZ", (const uint8_t *)body, sizeof body - 1, p, err, sizeof err);
    CHECK(n == 2, "two parts: %d %s", n, err);
    const vf_mp_part *a = vf_mp_find(p, n, "image_a"), *e = vf_mp_find(p, n, "external_face_id");
    CHECK(a && a->len == 5 && !memcmp(a->data, "AB\r\nC", 5), "part bytes, CRLF inside kept");
    CHECK(e && e->len == 5 && !memcmp(e->data, "alice", 5), "name after filename");
    CHECK(vf_mp_parse("multipart/form-data; boundary=\"XyZ\"", (const uint8_t *)body, sizeof body - 1, p, err, sizeof err) == 2, "quoted boundary");
    CHECK(vf_mp_is_multipart("Multipart/Form-Data; boundary=a") && !vf_mp_is_multipart("multipart/form-datax") && !vf_mp_is_multipart(NULL), "type");
    static const char *const bad[][2] = {
        {"multipart/form-data", "--XyZ\r\n\r\n--XyZ--"},                                            /* no boundary */
        {"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc"},  /* not closed */
        {"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Type: x\r\n\r\nabc\r\n--XyZ--"},   /* no name */
        {"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nabc\r\n--XyZ--"},
        {"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\n"
                                              "Content-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--XyZ--"},  /* twice */
        {"multipart/form-data; boundary=XyZ", "no delimiter at all"},
        {"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nabc\r\n--XyZ--"},  /* headers not ended */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        n = vf_mp_parse(bad[i][0], (const uint8_t *)bad[i][1], strlen(bad[i][1]), p, err, sizeof err);
        CHECK(n == -1 && err[0], "bad body %zu accepted (%d)", i, n);
    }
    /* a boundary of 71 characters is refused */
    char ct[128];
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%071d", 0);
    CHECK(vf_mp_parse(ct, (const uint8_t *)body, sizeof body - 1, p, err, sizeof err) == -1, "71-char boundary");
}

int main(void) {
    test_flat();
    test_ivf(8, 72);
    test_ivf(4, 72);
    test_ivf(4, 520);
    test_ivf(0, 72);
    test_multipart();
    if (failures) { printf("%d failure(s)\n", failures); return 1; }
    printf("faceindex and multipart: all passed\n");
    return 0;
}
