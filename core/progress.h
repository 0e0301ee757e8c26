/*
 * progress.h - progress reporting and cancellation for long work.
 * Layer: core.
 *
 * Long operations (fits, the distillation pipeline) take a gb_progress*
 * (may be NULL).  They report (phase, fraction in [0,1]) now and then and
 * poll the cancel flag between units of work; when it is set they stop,
 * free what they allocated and return GB_ECANCELLED.
 */
#ifndef CORE_PROGRESS_H
#define CORE_PROGRESS_H

#include <stdatomic.h>

#include "core/base.h"

typedef void (*gb_progress_cb)(void *ctx, const char *phase, double fraction);

typedef struct gb_progress {
    gb_progress_cb report_cb; /* may be NULL */
    void *ctx;
    atomic_int *cancel; /* may be NULL; nonzero = stop */
} gb_progress;

/* Reports if a callback is set; NULL progress is a no-op. */
void gb_progress_report(const gb_progress *p, const char *phase, double fraction);

/* Nonzero when cancellation was requested. */
int gb_progress_cancelled(const gb_progress *p);

#endif /* CORE_PROGRESS_H */
