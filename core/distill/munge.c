/*
 * munge.c - MUNGE augmentation: nearest neighbours by blocked GEMM over
 * standardised numeric columns plus categorical mismatches, then seeded
 * per-row perturbation.
 * Layer: core/distill.
 */
#include "core/distill/munge.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

#include "core/math/rng.h"
#include "core/parallel.h"

#define NN_BLOCK 128

gb_status gb_munge_check(const gb_munge_params *p, gb_error *err)
{
    const char *field = NULL;
    if (p->multiplier < 1 || p->multiplier > GB_MUNGE_MAX_MULTIPLIER)
        field = "augment.multiplier";
    else if (!(p->p >= 0.0 && p->p <= 1.0))
        field = "augment.p";
    else if (!(p->s > 0.0) || !isfinite(p->s))
        field = "augment.s";
    if (field == NULL)
        return GB_OK;
    gb_error_set(err, GB_EUNUSABLE,
                 "%s is out of range (multiplier 1..%d, p in [0, 1], s > 0)", field,
                 GB_MUNGE_MAX_MULTIPLIER);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

typedef struct nn_job {
    const double *Z;    /* n x n_num standardised numeric values, 0 = missing */
    const double *norm; /* n squared norms */
    const int32_t *cat; /* n x n_cat categorical codes, -1 = missing */
    size_t n, n_num, n_cat;
    const size_t *cand; /* n_cand candidate positions */
    double *Zc;         /* n_cand x n_num candidate rows */
    size_t n_cand;
    size_t *nn;      /* out: n nearest-neighbour positions */
    double *scratch; /* per task: NN_BLOCK x n_cand */
    unsigned n_slots;
    gb_status *status;
} nn_job;

static void nn_block_cb(void *ctx, size_t task)
{
    nn_job *job = ctx;
    size_t start = task * NN_BLOCK;
    size_t bs = job->n - start < NN_BLOCK ? job->n - start : NN_BLOCK;
    double *D = gb_malloc_array(bs * job->n_cand, sizeof *D);
    if (D == NULL) {
        job->status[task] = GB_ENOMEM;
        return;
    }
    if (job->n_num > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bs, (int)job->n_cand,
                    (int)job->n_num, 1.0, job->Z + start * job->n_num, (int)job->n_num,
                    job->Zc, (int)job->n_num, 0.0, D, (int)job->n_cand);
    else
        memset(D, 0, bs * job->n_cand * sizeof *D);
    for (size_t r = 0; r < bs; r++) {
        size_t i = start + r;
        double best = INFINITY;
        size_t best_j = i;
        for (size_t c = 0; c < job->n_cand; c++) {
            size_t j = job->cand[c];
            if (j == i)
                continue;
            double d = job->norm[i] + job->norm[j] - 2.0 * D[r * job->n_cand + c];
            for (size_t a = 0; a < job->n_cat; a++) {
                int32_t x = job->cat[i * job->n_cat + a],
                        y = job->cat[j * job->n_cat + a];
                d += (x < 0 || y < 0 || x != y) ? 1.0 : 0.0;
            }
            if (d < best) { /* strict: ties keep the earlier candidate */
                best = d;
                best_j = j;
            }
        }
        job->nn[i] = best_j;
    }
    gb_free(D);
    job->status[task] = GB_OK;
}

gb_status gb_munge_table(const gb_table *table, const unsigned char *exclude,
                         const size_t *rows, size_t n_rows, const gb_munge_params *p,
                         const gb_progress *progress, gb_table **out, gb_error *err)
{
    gb_status rc = gb_munge_check(p, err);
    size_t *used = NULL, *cand = NULL, *nn = NULL;
    double *Z = NULL, *Zc = NULL, *norm = NULL, *values = NULL;
    int32_t *cat = NULL;
    const char **labels = NULL;
    gb_status *status = NULL;
    gb_table *aug = NULL;
    *out = NULL;
    if (rc != GB_OK)
        return rc;
    if (n_rows < 2)
        return gb_error_set(err, GB_EUNUSABLE,
                            "MUNGE needs at least 2 training rows (have %zu)", n_rows);

    /* The columns that take part, split by type. */
    size_t n_used = 0, n_num = 0, n_cat = 0;
    used = gb_malloc_array(table->n_cols + 1, sizeof *used);
    if (used == NULL)
        goto nomem;
    for (size_t c = 0; c < table->n_cols; c++) {
        if (exclude != NULL && exclude[c])
            continue;
        used[n_used++] = c;
        if (table->cols[c].type == GB_COL_NUMERIC)
            n_num++;
        else
            n_cat++;
    }
    size_t n = n_rows;
    Z = gb_malloc_array(n * (n_num ? n_num : 1), sizeof *Z);
    norm = gb_calloc(n, sizeof *norm);
    cat = gb_malloc_array(n * (n_cat ? n_cat : 1), sizeof *cat);
    nn = gb_malloc_array(n, sizeof *nn);
    if (Z == NULL || norm == NULL || cat == NULL || nn == NULL)
        goto nomem;
    size_t a_num = 0, a_cat = 0;
    for (size_t u = 0; u < n_used; u++) {
        const gb_column *col = &table->cols[used[u]];
        if (col->type == GB_COL_NUMERIC) {
            double sum = 0.0, sum2 = 0.0;
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++) {
                double v = col->values[rows[i]];
                if (!isnan(v)) {
                    sum += v;
                    cnt++;
                }
            }
            double mean = cnt ? sum / (double)cnt : 0.0;
            for (size_t i = 0; i < n; i++) {
                double v = col->values[rows[i]];
                if (!isnan(v))
                    sum2 += (v - mean) * (v - mean);
            }
            double sd = cnt ? sqrt(sum2 / (double)cnt) : 0.0;
            if (!(sd > 0.0))
                sd = 1.0;
            for (size_t i = 0; i < n; i++) {
                double v = col->values[rows[i]];
                double z = isnan(v) ? 0.0 : (v - mean) / sd;
                Z[i * n_num + a_num] = z;
                norm[i] += z * z;
            }
            a_num++;
        } else {
            for (size_t i = 0; i < n; i++)
                cat[i * n_cat + a_cat] = col->codes[rows[i]];
            a_cat++;
        }
    }

    /* Candidates: every row, or a seeded sample of GB_MUNGE_EXACT_ROWS. */
    size_t n_cand = n > GB_MUNGE_EXACT_ROWS ? GB_MUNGE_EXACT_ROWS : n;
    cand = gb_malloc_array(n, sizeof *cand);
    Zc = gb_malloc_array(n_cand * (n_num ? n_num : 1), sizeof *Zc);
    if (cand == NULL || Zc == NULL)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        cand[i] = i;
    if (n_cand < n) {
        gb_rng rng;
        gb_rng_seed(&rng, p->seed ^ 0x6d756e6765ULL);
        gb_rng_shuffle(&rng, cand, n);
        /* sorted candidates keep the tie rule "earlier row wins" */
        for (size_t i = 1; i < n_cand; i++)
            for (size_t j = i; j > 0 && cand[j - 1] > cand[j]; j--) {
                size_t t = cand[j];
                cand[j] = cand[j - 1];
                cand[j - 1] = t;
            }
    }
    for (size_t c = 0; c < n_cand; c++)
        memcpy(Zc + c * n_num, Z + cand[c] * n_num, n_num * sizeof *Z);
    size_t n_tasks = (n + NN_BLOCK - 1) / NN_BLOCK;
    status = gb_calloc(n_tasks, sizeof *status);
    if (status == NULL)
        goto nomem;
    gb_progress_report(progress, "augment", 0.0);
    nn_job job = {Z, norm, cat, n, n_num, n_cat, cand, Zc, n_cand, nn, NULL, 0, status};
    gb_parallel_for(n_tasks, p->n_threads, nn_block_cb, &job);
    for (size_t t = 0; t < n_tasks; t++)
        if (status[t] != GB_OK)
            goto nomem;
    if (gb_progress_cancelled(progress)) {
        rc = gb_error_set(err, GB_ECANCELLED, "the run was cancelled");
        goto done;
    }

    /* New rows, column by column; each row's stream is replayed per column
     * by drawing in a fixed order: per row, one uniform per used column and
     * one normal per swapped numeric column. */
    size_t n_new = n * p->multiplier;
    aug = gb_table_create(n_new, err);
    if (aug == NULL) {
        rc = err != NULL ? err->code : GB_ENOMEM;
        goto done;
    }
    values = gb_malloc_array(n_new, sizeof *values);
    labels = gb_malloc_array(n_new, sizeof *labels);
    if (values == NULL || labels == NULL)
        goto nomem;
    gb_rng base;
    gb_rng_seed(&base, p->seed);
    /* Draw every row's decisions once into per-column arrays would cost
     * n_new x n_used doubles; instead regenerate each row's stream per
     * column and skip the draws of earlier columns. */
    for (size_t u = 0; u < n_used; u++) {
        const gb_column *col = &table->cols[used[u]];
        for (size_t k = 0; k < p->multiplier; k++) {
            for (size_t i = 0; i < n; i++) {
                gb_rng rng = gb_rng_split(&base, (uint64_t)(k * n + i));
                size_t e = rows[i], f = rows[nn[i]];
                int swap = 0;
                double normal = 0.0;
                /* the draws of columns 0..u: a uniform each, and a normal
                 * for each numeric column */
                for (size_t w = 0; w <= u; w++) {
                    swap = gb_rng_uniform(&rng) < p->p;
                    if (table->cols[used[w]].type == GB_COL_NUMERIC)
                        normal = gb_rng_normal(&rng);
                }
                size_t at = k * n + i;
                if (col->type == GB_COL_NUMERIC) {
                    double a = col->values[e], b = col->values[f];
                    if (swap && !isnan(a) && !isnan(b))
                        values[at] = b + fabs(a - b) / p->s * normal;
                    else
                        values[at] = a;
                } else {
                    int32_t a = col->codes[e], b = col->codes[f];
                    int32_t code = (swap && a >= 0 && b >= 0) ? b : a;
                    labels[at] = code >= 0 ? col->levels[code] : NULL;
                }
            }
        }
        rc = col->type == GB_COL_NUMERIC
                 ? gb_table_add_numeric(aug, col->name, values, err)
                 : gb_table_add_categorical(aug, col->name, labels, err);
        if (rc != GB_OK)
            goto done;
        gb_progress_report(progress, "augment", (double)(u + 1) / (double)n_used);
    }
    *out = aug;
    aug = NULL;
    rc = GB_OK;
    goto done;
nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory augmenting the training rows");
done:
    gb_table_free(aug);
    gb_free(used);
    gb_free(cand);
    gb_free(nn);
    gb_free(Z);
    gb_free(Zc);
    gb_free(norm);
    gb_free(cat);
    gb_free(values);
    gb_free(labels);
    gb_free(status);
    return rc;
}
