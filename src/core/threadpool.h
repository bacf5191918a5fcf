/* threadpool.h - a fixed pool of worker threads for the compute kernels.
 *
 * vf_threadpool_run(pool, fn, arg, n) calls fn(arg, task, thread) for task = 0..n-1 on the
 * caller plus the workers and returns when all are done. Tasks are claimed with one atomic
 * counter: no locks and no allocation per run. Idle workers spin briefly (the next op usually
 * follows within microseconds), then sleep on a condition variable. Without thread support
 * (WASI, Emscripten without -pthread) the pool runs every task on the caller. */
#ifndef VF_CORE_THREADPOOL_H
#define VF_CORE_THREADPOOL_H

#include "core.h"

typedef struct vf_threadpool vf_threadpool;
typedef void (*vf_task_fn)(void *arg, int task, int thread);

/* n_threads counts the caller: 1 means no workers. Returns NULL on failure. */
vf_threadpool *vf_threadpool_create(int n_threads);
void vf_threadpool_free(vf_threadpool *pool);
int vf_threadpool_size(const vf_threadpool *pool); /* 1 for NULL */
void vf_threadpool_run(vf_threadpool *pool, vf_task_fn fn, void *arg, int n_tasks);

#endif
