/*
 * parallel.c - fork-join over POSIX threads with an atomic task counter.
 * Layer: core.
 */
#include "core/parallel.h"

#include <pthread.h>
#include <stdatomic.h>

#include "core/base.h"

typedef struct pool_job {
    gb_task_cb task_cb;
    void *ctx;
    size_t n_tasks;
    atomic_size_t next;
} pool_job;

static void *pool_worker(void *arg)
{
    pool_job *job = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&job->next, 1);
        if (i >= job->n_tasks)
            break;
        job->task_cb(job->ctx, i);
    }
    return NULL;
}

void gb_parallel_for(size_t n_tasks, unsigned n_threads, gb_task_cb task_cb, void *ctx)
{
    if (n_tasks == 0)
        return;
    if (n_threads <= 1 || n_tasks == 1) {
        for (size_t i = 0; i < n_tasks; i++)
            task_cb(ctx, i);
        return;
    }
    if (n_threads > n_tasks)
        n_threads = (unsigned)n_tasks;
    if (n_threads > 64)
        n_threads = 64;
    pool_job job = {task_cb, ctx, n_tasks, 0};
    pthread_t threads[64];
    unsigned started = 0;
    for (unsigned t = 1; t < n_threads; t++) {
        if (pthread_create(&threads[started], NULL, pool_worker, &job) != 0)
            break;
        started++;
    }
    pool_worker(&job);
    for (unsigned t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
}
