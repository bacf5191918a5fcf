/* threadpool.c - see threadpool.h. */
#include "threadpool.h"

#include <stdlib.h>

#if defined(__wasi__) || (defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__))
#define VF_NO_THREADS 1
#endif

#ifdef VF_NO_THREADS
struct vf_threadpool { int n; };
vf_threadpool *vf_threadpool_create(int n_threads) {
    (void)n_threads;
    vf_threadpool *p = calloc(1, sizeof *p);
    if (p) p->n = 1;
    return p;
}
void vf_threadpool_free(vf_threadpool *pool) { free(pool); }
int vf_threadpool_size(const vf_threadpool *pool) { (void)pool; return 1; }
void vf_threadpool_run(vf_threadpool *pool, vf_task_fn fn, void *arg, int n_tasks) {
    (void)pool;
    for (int t = 0; t < n_tasks; t++) fn(arg, t, 0);
}
#else
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define VF_SPIN_ITERS 20000

typedef struct worker { vf_threadpool *pool; int index; pthread_t tid; } worker;

struct vf_threadpool {
    int n;                       /* threads including the caller */
    worker *workers;             /* n - 1 */
    /* the current job */
    vf_task_fn fn;
    void *arg;
    int n_tasks;
    atomic_int next;             /* next task to claim */
    atomic_int active;           /* workers still inside the current job */
    atomic_uint generation;      /* bumped for every job; workers wait for a change */
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void drain(vf_threadpool *p, int thread) {
    for (;;) {
        int t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= p->n_tasks) break;
        p->fn(p->arg, t, thread);
    }
}

static void *worker_main(void *arg) {
    worker *w = arg;
    vf_threadpool *p = w->pool;
    /* Generation 0 is "no job yet". Not the current value: a worker that starts after the
     * first job was posted must still see that job as new, or the caller waits forever. */
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen && !atomic_load(&p->stop)) {
            if (++spins < VF_SPIN_ITERS) continue;
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = g;
        drain(p, w->index);
        atomic_fetch_sub_explicit(&p->active, 1, memory_order_release);
    }
}

vf_threadpool *vf_threadpool_create(int n_threads) {
    vf_threadpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads < 1 ? 1 : n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (p->n > 1) {
        p->workers = calloc((size_t)p->n - 1, sizeof *p->workers);
        if (!p->workers) { vf_threadpool_free(p); return NULL; }
        /* Workers only run kernels (no recursion, small frames): 256 KiB of stack instead of the
         * default, which under Emscripten is 2 MiB of wasm heap per thread. */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        for (int i = 0; i < p->n - 1; i++) {
            p->workers[i].pool = p;
            p->workers[i].index = i + 1;
            if (pthread_create(&p->workers[i].tid, &attr, worker_main, &p->workers[i]) != 0) {
                pthread_attr_destroy(&attr);
                p->n = i + 1; /* keep the ones that started; free joins them */
                vf_threadpool_free(p);
                return NULL;
            }
        }
        pthread_attr_destroy(&attr);
    }
    return p;
}

void vf_threadpool_free(vf_threadpool *pool) {
    if (!pool) return;
    if (pool->workers) {
        pthread_mutex_lock(&pool->mu);
        atomic_store(&pool->stop, true);
        pthread_cond_broadcast(&pool->cv);
        pthread_mutex_unlock(&pool->mu);
        for (int i = 0; i < pool->n - 1; i++) pthread_join(pool->workers[i].tid, NULL);
        free(pool->workers);
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    free(pool);
}

int vf_threadpool_size(const vf_threadpool *pool) { return pool ? pool->n : 1; }

void vf_threadpool_run(vf_threadpool *p, vf_task_fn fn, void *arg, int n_tasks) {
    if (!p || p->n == 1 || n_tasks <= 1) {
        for (int t = 0; t < n_tasks; t++) fn(arg, t, 0);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->active, p->n - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu); /* pairs with the sleeping path of worker_main */
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    while (atomic_load_explicit(&p->active, memory_order_acquire) > 0) { /* workers finish their last task */ }
}
#endif
