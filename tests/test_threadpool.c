/* test_threadpool.c - the kernels' thread pool: every task runs exactly once, on every pool
 * size, across many back-to-back runs, including a run posted before the workers have started
 * (a pool created and used at once, hundreds of times). */
#include "../src/core/threadpool.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct { atomic_int *hits; atomic_int max_thread; int n_threads; } ctx_t;

static void task(void *arg, int t, int thread) {
    ctx_t *c = arg;
    atomic_fetch_add(&c->hits[t], 1);
    if (thread < 0 || thread >= c->n_threads) atomic_store(&c->max_thread, 1000 + thread);
}

int main(void) {
    int fail = 0, pass = 0;
    atomic_int hits[257];
    for (int threads = 1; threads <= 4; threads++) {
        for (int rep = 0; rep < 200; rep++) { /* create + run at once: the start-up race */
            vf_threadpool *p = vf_threadpool_create(threads);
            if (!p) { printf("FAIL: create(%d)\n", threads); fail++; break; }
            for (int run = 0; run < 5; run++) {
                int n = 1 + (rep * 7 + run * 13) % 257;
                for (int i = 0; i < n; i++) atomic_store(&hits[i], 0);
                ctx_t c = {hits, 0, vf_threadpool_size(p)};
                vf_threadpool_run(p, task, &c, n);
                for (int i = 0; i < n; i++)
                    if (atomic_load(&hits[i]) != 1) { printf("FAIL: %d threads, task %d ran %d times\n", threads, i, atomic_load(&hits[i])); fail++; break; }
                if (atomic_load(&c.max_thread)) { printf("FAIL: bad thread index %d\n", atomic_load(&c.max_thread) - 1000); fail++; }
            }
            vf_threadpool_free(p);
        }
        pass++;
    }
    vf_threadpool_free(NULL);
    printf("%d passed, %d failed\n", pass, fail);
    return fail != 0;
}
