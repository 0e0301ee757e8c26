/*
 * parallel.h - the project's one owner of parallelism inside a call: a
 * fork-join loop over independent tasks on POSIX threads.
 * Layer: core.
 *
 * Determinism rule: a task's result must depend only on its index, never on
 * which thread ran it or when; combine per-task results in index order after
 * the loop (ordered reduction), so thread count changes speed, not results.
 */
#ifndef CORE_PARALLEL_H
#define CORE_PARALLEL_H

#include <stddef.h>

typedef void (*gb_task_cb)(void *ctx, size_t task);

/* Runs task_cb(ctx, i) for every i in [0, n_tasks) on up to n_threads
 * threads (the caller's thread included) and returns when all are done.
 * n_threads <= 1, or thread creation failure, runs them in order on the
 * caller's thread. */
void gb_parallel_for(size_t n_tasks, unsigned n_threads, gb_task_cb task_cb, void *ctx);

#endif /* CORE_PARALLEL_H */
