/*
 * shapley.c - sampling Shapley values with batched model calls, and seeded
 * row samples.
 * Layer: explain.
 */
#include "explain/shapley.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/rng.h"
#include "core/parallel.h"

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Rows per parallel task. */
#define EX_SHAPLEY_ROWS_PER_TASK 4

size_t ex_output_width(const gb_model *m)
{
    return m->ops->predict_margin != NULL ? m->n_margins : m->n_outputs;
}

gb_status ex_predict_output(const gb_model *m, const double *X, size_t n_rows,
                            double *out, gb_error *err)
{
    if (n_rows == 0)
        return GB_OK;
    if (m->ops->predict_margin != NULL)
        return m->ops->predict_margin(m, X, n_rows, out, err);
    return m->ops->predict(m, X, n_rows, out, err);
}

typedef struct shapley_job {
    const gb_model *m;
    const double *X;
    size_t n_rows;
    const double *background;
    size_t n_background;
    size_t n_perm;
    gb_rng base;
    const double *bias; /* W */
    double *phi, *se;
    gb_status *status; /* per task */
    gb_error *errors;  /* per task */
} shapley_job;

static void shapley_task_cb(void *ctx, size_t task)
{
    shapley_job *job = ctx;
    const gb_model *m = job->m;
    size_t M = m->n_features, W = ex_output_width(m), stride = M + 1;
    size_t per_call = GB_PREDICT_BLOCK / (M + 1);
    if (per_call < 1)
        per_call = 1;
    if (per_call > job->n_perm)
        per_call = job->n_perm;
    size_t rows_per_call = per_call * (M + 1);
    double *design = gb_malloc_array(rows_per_call * (M ? M : 1), sizeof *design);
    double *pred = gb_malloc_array(rows_per_call * W, sizeof *pred);
    double *sum = gb_malloc_array(W * stride, sizeof *sum);
    double *sumsq = gb_malloc_array(W * stride, sizeof *sumsq);
    size_t *order = gb_malloc_array(per_call * (M ? M : 1), sizeof *order);
    gb_error *err = job->errors + task;
    if (design == NULL || pred == NULL || sum == NULL || sumsq == NULL ||
        order == NULL) {
        job->status[task] =
            gb_error_set(err, GB_ENOMEM, "out of memory for Shapley values");
        goto out;
    }
    size_t r0 = task * EX_SHAPLEY_ROWS_PER_TASK;
    size_t r1 = r0 + EX_SHAPLEY_ROWS_PER_TASK;
    if (r1 > job->n_rows)
        r1 = job->n_rows;
    for (size_t i = r0; i < r1; i++) {
        const double *x = job->X + i * M;
        gb_rng rng = gb_rng_split(&job->base, i);
        memset(sum, 0, W * stride * sizeof *sum);
        memset(sumsq, 0, W * stride * sizeof *sumsq);
        for (size_t p0 = 0; p0 < job->n_perm; p0 += per_call) {
            size_t np = job->n_perm - p0 < per_call ? job->n_perm - p0 : per_call;
            /* The perturbed rows of np permutations, scored in one call. */
            for (size_t p = 0; p < np; p++) {
                size_t zi = (size_t)gb_rng_below(&rng, job->n_background);
                size_t *ord = order + p * M;
                for (size_t j = 0; j < M; j++)
                    ord[j] = j;
                gb_rng_shuffle(&rng, ord, M);
                double *b = design + p * (M + 1) * M;
                memcpy(b, job->background + zi * M, M * sizeof *b);
                for (size_t k = 1; k <= M; k++) {
                    memcpy(b + k * M, b + (k - 1) * M, M * sizeof *b);
                    b[k * M + ord[k - 1]] = x[ord[k - 1]];
                }
            }
            gb_status rc = ex_predict_output(m, design, np * (M + 1), pred, err);
            if (rc != GB_OK) {
                job->status[task] = rc;
                goto out;
            }
            for (size_t p = 0; p < np; p++) {
                const size_t *ord = order + p * M;
                const double *f = pred + p * (M + 1) * W;
                for (size_t c = 0; c < W; c++) {
                    for (size_t k = 1; k <= M; k++) {
                        double d = f[k * W + c] - f[(k - 1) * W + c];
                        sum[c * stride + ord[k - 1]] += d;
                        sumsq[c * stride + ord[k - 1]] += d * d;
                    }
                    double total = f[M * W + c] - f[c];
                    sum[c * stride + M] += total;
                    sumsq[c * stride + M] += total * total;
                }
            }
        }
        double n = (double)job->n_perm;
        double *phi = job->phi + i * W * stride;
        double *se = job->se != NULL ? job->se + i * W * stride : NULL;
        for (size_t c = 0; c < W; c++) {
            for (size_t j = 0; j <= M; j++) {
                double mean = sum[c * stride + j] / n;
                double var = (sumsq[c * stride + j] - n * mean * mean) / (n - 1);
                if (j < M)
                    phi[c * stride + j] = mean;
                if (se != NULL)
                    se[c * stride + j] = var > 0 ? sqrt(var / n) : 0.0;
            }
            phi[c * stride + M] = job->bias[c];
        }
    }
out:
    gb_free(order);
    gb_free(sumsq);
    gb_free(sum);
    gb_free(pred);
    gb_free(design);
}

gb_status ex_shapley(const gb_model *m, const double *X, size_t n_rows,
                     const double *background, size_t n_background,
                     const ex_shapley_params *params, double *phi, double *se,
                     gb_error *err)
{
    gb_status rc = GB_OK;
    double *bg_pred = NULL, *bias = NULL;
    gb_status *status = NULL;
    gb_error *errors = NULL;
    if (params == NULL || params->n_permutations < 2)
        return gb_error_set(err, GB_EUNUSABLE,
                            "sampling Shapley values need at least 2 permutations");
    if (background == NULL || n_background == 0)
        return gb_error_set(
            err, GB_EUNUSABLE,
            "sampling Shapley values need a non-empty background sample");
    if (m == NULL || m->ops == NULL || m->ops->predict == NULL)
        return gb_error_set(err, GB_EUNUSABLE, "the model cannot be queried");
    if (n_rows == 0)
        return GB_OK;
    size_t W = ex_output_width(m);
    size_t n_tasks = (n_rows + EX_SHAPLEY_ROWS_PER_TASK - 1) / EX_SHAPLEY_ROWS_PER_TASK;
    bg_pred = gb_malloc_array(n_background * W, sizeof *bg_pred);
    bias = gb_calloc(W, sizeof *bias);
    status = gb_calloc(n_tasks, sizeof *status);
    errors = gb_calloc(n_tasks, sizeof *errors);
    if (bg_pred == NULL || bias == NULL || status == NULL || errors == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory for Shapley values");
        goto out;
    }
    if ((rc = ex_predict_output(m, background, n_background, bg_pred, err)) != GB_OK)
        goto out;
    for (size_t r = 0; r < n_background; r++)
        for (size_t c = 0; c < W; c++)
            bias[c] += bg_pred[r * W + c];
    for (size_t c = 0; c < W; c++)
        bias[c] /= (double)n_background;
    gb_rng base;
    gb_rng_seed(&base, params->seed);
    shapley_job job = {
        m,    X,    n_rows, background, n_background, params->n_permutations,
        base, bias, phi,    se,         status,       errors};
    gb_parallel_for(n_tasks, params->n_threads, shapley_task_cb, &job);
    for (size_t t = 0; t < n_tasks; t++)
        if (status[t] != GB_OK) {
            rc = status[t];
            if (err != NULL)
                *err = errors[t];
            break;
        }
out:
    gb_free(errors);
    gb_free(status);
    gb_free(bias);
    gb_free(bg_pred);
    return rc;
}

size_t ex_sample_indices(size_t n_total, size_t n_sample, uint64_t seed, size_t *out)
{
    size_t n = n_sample < n_total ? n_sample : n_total;
    if (n == 0)
        return 0;
    if (n == n_total) {
        for (size_t i = 0; i < n; i++)
            out[i] = i;
        return n;
    }
    size_t *idx = gb_malloc_array(n_total, sizeof *idx);
    if (idx == NULL)
        return 0;
    for (size_t i = 0; i < n_total; i++)
        idx[i] = i;
    gb_rng rng;
    gb_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        size_t j = i + (size_t)gb_rng_below(&rng, n_total - i);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = idx[i];
    gb_free(idx);
    qsort(out, n, sizeof *out, cmp_size);
    return n;
}
