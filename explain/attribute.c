/*
 * attribute.c - exact attributions through the model's attribute operation,
 * run on row blocks in parallel.
 * Layer: explain.
 */
#include "explain/attribute.h"

#include <stdatomic.h>

#include "core/parallel.h"

/* Rows per parallel task. */
#define EX_ATTRIBUTE_BLOCK 64

typedef struct attribute_job {
    const gb_model *model;
    const double *X;
    size_t n_rows;
    double *phi;
    atomic_int failed;  /* status of the first block to fail, 0 = none */
    gb_error first_err; /* that block's error (written by it alone) */
} attribute_job;

static void attribute_block_cb(void *ctx, size_t task)
{
    attribute_job *job = ctx;
    const gb_model *m = job->model;
    size_t r0 = task * EX_ATTRIBUTE_BLOCK;
    size_t nr =
        job->n_rows - r0 < EX_ATTRIBUTE_BLOCK ? job->n_rows - r0 : EX_ATTRIBUTE_BLOCK;
    gb_error err;
    gb_error_clear(&err);
    gb_status rc =
        m->ops->attribute(m, job->X + r0 * m->n_features, nr,
                          job->phi + r0 * m->n_margins * (m->n_features + 1), &err);
    if (rc == GB_OK)
        return;
    int expected = 0;
    if (atomic_compare_exchange_strong(&job->failed, &expected, (int)rc))
        job->first_err = err;
}

int ex_exact_available(const gb_model *model)
{
    return model != NULL && model->ops->attribute != NULL;
}

gb_status ex_exact_attribute(const gb_model *model, const double *X, size_t n_rows,
                             unsigned n_threads, double *phi, gb_error *err)
{
    if (!ex_exact_available(model))
        return gb_error_set(err, GB_EUNUSABLE, "a %s model has no exact attributions",
                            model != NULL ? model->ops->kind : "missing");
    if (n_rows == 0)
        return GB_OK;
    attribute_job job = {model, X, n_rows, phi, 0, {0}};
    gb_parallel_for((n_rows + EX_ATTRIBUTE_BLOCK - 1) / EX_ATTRIBUTE_BLOCK, n_threads,
                    attribute_block_cb, &job);
    int failed = atomic_load(&job.failed);
    if (failed == 0)
        return GB_OK;
    if (err != NULL)
        *err = job.first_err;
    return (gb_status)failed;
}
