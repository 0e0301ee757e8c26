/*
 * progress.c - progress reporting and cancellation.
 * Layer: core.
 */
#include "core/progress.h"

void gb_progress_report(const gb_progress *p, const char *phase, double fraction)
{
    if (p == NULL || p->report_cb == NULL)
        return;
    if (fraction < 0.0)
        fraction = 0.0;
    if (fraction > 1.0)
        fraction = 1.0;
    p->report_cb(p->ctx, phase, fraction);
}

int gb_progress_cancelled(const gb_progress *p)
{
    return p != NULL && p->cancel != NULL && atomic_load(p->cancel) != 0;
}
