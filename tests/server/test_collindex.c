/* test_collindex.c - a collection's index kept up to the store and rebuilt in the background
 * (src/server/collindex.c), on a store double whose full scan for the rebuild waits at a gate the
 * test opens: searches, adds and deletes are answered while the rebuild is held there, and the
 * index swapped in afterwards holds the changes made meanwhile. With the rebuild done inside the
 * request (the code before collindex.c) the first search after the collection outgrew ivf_min
 * waits for the gate, which opens itself after GATE_S and records that it had to. */
#include "../../src/server/collindex.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

enum { D = 32, N = 3000, MAXROWS = N + 16, GATE_S = 10 };

/* ---- the store double: one collection's face rows in memory --------------------------------- */
typedef struct fake {
    const vf_srv_store_ops *ops;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n, full_scans, gate_closed, gate_timed_out, scanning;
    int64_t seq;
    vf_srv_face rows[MAXROWS];
    float emb[MAXROWS][D];
} fake;

static int fake_faces_since(vf_srv_store *s, const char *cid, int64_t after, int (*fn)(void *, const vf_srv_face *), void *ctx,
                            int64_t *last) {
    (void)cid;
    fake *f = (fake *)s;
    pthread_mutex_lock(&f->mu);
    if (after == 0 && ++f->full_scans == 2) {   /* the rebuild's read: held until the test opens the gate */
        f->scanning = 1;
        pthread_cond_broadcast(&f->cv);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += GATE_S;
        while (f->gate_closed)
            if (pthread_cond_timedwait(&f->cv, &f->mu, &until)) { f->gate_timed_out = 1; f->gate_closed = 0; }
    }
    /* in seq order, as the stores answer */
    *last = after;
    for (int64_t q = after + 1; q <= f->seq; q++)
        for (int i = 0; i < f->n; i++)
            if (f->rows[i].seq == q) {
                f->rows[i].embedding = f->rows[i].deleted ? NULL : f->emb[i];
                if (fn(ctx, &f->rows[i])) goto out;
                *last = q;
            }
out:
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static const vf_srv_store_ops FAKE_OPS = {.name = "fake", .faces_since = fake_faces_since};

static uint64_t st = 0x9E3779B97F4A7C15ull;
static float frand(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return (float)((st >> 11) * (1.0 / 9007199254740992.0)) - 0.5f; }

static void add_row(fake *f) {
    pthread_mutex_lock(&f->mu);
    int i = f->n++;
    f->rows[i] = (vf_srv_face){.row = 100 + i, .seq = ++f->seq, .dim = D};
    for (int j = 0; j < D; j++) f->emb[i][j] = frand();
    pthread_mutex_unlock(&f->mu);
}

static void delete_row(fake *f, int i) {
    pthread_mutex_lock(&f->mu);
    f->rows[i].deleted = 1;
    f->rows[i].seq = ++f->seq;
    pthread_mutex_unlock(&f->mu);
}

static int top1(vf_srv_collections *c, fake *f, int i, int64_t *row) {
    vf_faceindex_hit h[1];
    int n = vf_srv_collindex_search(c, (vf_srv_store *)f, "c1", f->emb[i], D, 1, -1.f, h);
    *row = n == 1 ? h[0].id : -1;
    return n;
}

int main(void) {
    static fake f;
    f.ops = &FAKE_OPS;
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    f.gate_closed = 1;
    for (int i = 0; i < N; i++) add_row(&f);
    /* IVF from 1000 faces, every list probed: its answers are exact, so comparable */
    vf_srv_collections *c = vf_srv_collections_create(1000, 100000);
    vf_srv_store *s = (vf_srv_store *)&f;
    vf_srv_collindex_info in;
    int64_t row;

    /* first use: a flat index of the store at once; the IVF build starts behind it */
    CHECK(top1(c, &f, 7, &row) == 1 && row == 107, "first search: %lld", (long long)row);
    CHECK(vf_srv_collindex_info_of(c, s, "c1", &in) == 0, "info");
    CHECK(!strcmp(in.kind, "flat") && in.faces == N, "first index %s of %zu", in.kind, in.faces);
    pthread_mutex_lock(&f.mu);
    while (!f.scanning && !f.gate_timed_out) pthread_cond_wait(&f.cv, &f.mu);   /* the builder is at the gate */
    pthread_mutex_unlock(&f.mu);

    /* while the rebuild is held: searches answer, and changes reach the index in use */
    add_row(&f);                      /* row N */
    delete_row(&f, 42);
    CHECK(top1(c, &f, N, &row) == 1 && row == 100 + N, "a face added during the rebuild found: %lld", (long long)row);
    CHECK(top1(c, &f, 42, &row) == 1 && row != 142, "a face deleted during the rebuild not found");
    CHECK(vf_srv_collindex_info_of(c, s, "c1", &in) == 0 && in.building && !strcmp(in.kind, "flat"), "building %d, %s", in.building, in.kind);
    pthread_mutex_lock(&f.mu);
    int answered_while_held = f.gate_closed && !f.gate_timed_out;
    f.gate_closed = 0;
    pthread_cond_broadcast(&f.cv);
    pthread_mutex_unlock(&f.mu);
    CHECK(answered_while_held, "searches waited for the rebuild (gate timed out: %d)", f.gate_timed_out);

    /* the new index replaces the old one once built, with the changes made since its read */
    add_row(&f);                      /* row N + 1: after the read, before the swap (or after it) */
    for (int t = 0; t < 600 && !vf_srv_collindex_info_of(c, s, "c1", &in) && in.building; t++) nanosleep(&(struct timespec){0, 100000000}, NULL);
    CHECK(!in.building && !strcmp(in.kind, "ivf"), "after the rebuild: building %d, %s", in.building, in.kind);
    CHECK(in.faces == N + 1, "faces %zu, want %d", in.faces, N + 1);
    CHECK(top1(c, &f, N, &row) == 1 && row == 100 + N, "added during the build: %lld", (long long)row);
    CHECK(top1(c, &f, N + 1, &row) == 1 && row == 101 + N, "added after the read: %lld", (long long)row);
    CHECK(top1(c, &f, 42, &row) == 1 && row != 142, "deleted during the build: still gone");
    int right = 0;
    for (int i = 0; i < 200; i++) right += top1(c, &f, i * 13 + 1, &row) == 1 && row == 100 + i * 13 + 1;
    CHECK(right == 200, "each face its own nearest: %d of 200", right);
    vf_srv_collections_free(c);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
