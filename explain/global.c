/*
 * global.c - source-column groups, attribution importance and label-free
 * permutation importance.
 * Layer: explain.
 */
#include "explain/global.h"

#include <math.h>
#include <string.h>

#include "core/math/rng.h"
#include "core/parallel.h"

void ex_groups_free(ex_groups *g)
{
    if (g == NULL)
        return;
    gb_free_strings(g->names, g->n_groups);
    gb_free(g->group_of);
    memset(g, 0, sizeof *g);
}

long ex_groups_find(const ex_groups *g, const char *name)
{
    for (size_t i = 0; i < g->n_groups; i++)
        if (strcmp(g->names[i], name) == 0)
            return (long)i;
    return -1;
}

/* Length of the source-column prefix of name (strlen(name) when it is its
 * own source). */
static size_t source_length(const char *name, const gb_table *table)
{
    size_t n = strlen(name);
    if (table == NULL) {
        const char *eq = strchr(name, '=');
        return eq != NULL && eq != name ? (size_t)(eq - name) : n;
    }
    if (gb_table_find(table, name) >= 0)
        return n;
    for (const char *eq = strchr(name, '='); eq != NULL; eq = strchr(eq + 1, '=')) {
        size_t len = (size_t)(eq - name);
        for (size_t c = 0; c < table->n_cols; c++)
            if (strlen(table->cols[c].name) == len &&
                memcmp(table->cols[c].name, name, len) == 0)
                return len;
    }
    return n;
}

gb_status ex_groups_build(const gb_feature *features, size_t n_features,
                          const gb_table *table, ex_groups *out, gb_error *err)
{
    memset(out, 0, sizeof *out);
    out->names = gb_calloc(n_features ? n_features : 1, sizeof *out->names);
    out->group_of = gb_calloc(n_features ? n_features : 1, sizeof *out->group_of);
    if (out->names == NULL || out->group_of == NULL)
        goto nomem;
    out->n_features = n_features;
    for (size_t j = 0; j < n_features; j++) {
        size_t len = source_length(features[j].name, table);
        size_t g = 0;
        while (g < out->n_groups &&
               !(strlen(out->names[g]) == len &&
                 memcmp(out->names[g], features[j].name, len) == 0))
            g++;
        if (g == out->n_groups) {
            out->names[g] = gb_strndup(features[j].name, len);
            if (out->names[g] == NULL)
                goto nomem;
            out->n_groups++;
        }
        out->group_of[j] = g;
    }
    return GB_OK;
nomem:
    ex_groups_free(out);
    return gb_error_set(err, GB_ENOMEM, "out of memory grouping features");
}

void ex_importance_from_attributions(const double *phi, size_t n_rows, size_t width,
                                     const ex_groups *g, double *imp, double *local)
{
    size_t nf = g->n_features, ng = g->n_groups;
    for (size_t k = 0; k < ng; k++)
        imp[k] = n_rows == 0 ? NAN : 0.0;
    for (size_t i = 0; i < n_rows; i++)
        for (size_t c = 0; c < width; c++) {
            const double *p = phi + (i * width + c) * (nf + 1);
            double *grouped = local != NULL ? local + (i * width + c) * ng : NULL;
            /* Sum each group in feature order, then take |.|. */
            for (size_t k = 0; k < ng; k++) {
                double s = 0;
                for (size_t j = 0; j < nf; j++)
                    if (g->group_of[j] == k)
                        s += p[j];
                imp[k] += fabs(s);
                if (grouped != NULL)
                    grouped[k] = s;
            }
        }
    if (n_rows > 0)
        for (size_t k = 0; k < ng; k++)
            imp[k] /= (double)(n_rows * width);
}

/* FNV-1a of a name, so a column's shuffle depends on its name only. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

typedef struct perm_job {
    const gb_model *m;
    const double *X;
    size_t n_rows;
    const ex_groups *g;
    size_t n_repeats;
    gb_rng base;
    const double *pred0; /* n_rows x n_outputs */
    double *imp;
    gb_status *status;
    gb_error *errors;
} perm_job;

static void perm_task_cb(void *ctx, size_t k)
{
    perm_job *job = ctx;
    const gb_model *m = job->m;
    size_t nf = m->n_features, no = m->n_outputs, n = job->n_rows;
    double *Xs = gb_malloc_array(n * (nf ? nf : 1), sizeof *Xs);
    double *pred = gb_malloc_array(n * no, sizeof *pred);
    size_t *order = gb_malloc_array(n, sizeof *order);
    if (Xs == NULL || pred == NULL || order == NULL) {
        job->status[k] = gb_error_set(job->errors + k, GB_ENOMEM,
                                      "out of memory for permutation importance");
        goto out;
    }
    memcpy(Xs, job->X, n * nf * sizeof *Xs);
    gb_rng col_rng = gb_rng_split(&job->base, name_hash(job->g->names[k]));
    double total = 0;
    for (size_t r = 0; r < job->n_repeats; r++) {
        gb_rng rng = gb_rng_split(&col_rng, r);
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        gb_rng_shuffle(&rng, order, n);
        for (size_t j = 0; j < nf; j++)
            if (job->g->group_of[j] == k)
                for (size_t i = 0; i < n; i++)
                    Xs[i * nf + j] = job->X[order[i] * nf + j];
        gb_status rc = m->ops->predict(m, Xs, n, pred, job->errors + k);
        if (rc != GB_OK) {
            job->status[k] = rc;
            goto out;
        }
        double s = 0;
        for (size_t i = 0; i < n * no; i++)
            s += fabs(pred[i] - job->pred0[i]);
        total += s / (double)(n * no);
    }
    job->imp[k] = total / (double)job->n_repeats;
out:
    gb_free(order);
    gb_free(pred);
    gb_free(Xs);
}

gb_status ex_permutation_importance(const gb_model *m, const double *X, size_t n_rows,
                                    const ex_groups *g, size_t n_repeats, uint64_t seed,
                                    unsigned n_threads, double *imp, gb_error *err)
{
    gb_status rc = GB_OK;
    double *pred0 = NULL;
    gb_status *status = NULL;
    gb_error *errors = NULL;
    if (n_repeats == 0)
        return gb_error_set(err, GB_EUNUSABLE, "permutation importance needs a repeat");
    if (n_rows < 2)
        return gb_error_set(err, GB_EUNUSABLE,
                            "permutation importance needs at least 2 rows, got %zu",
                            n_rows);
    size_t ng = g->n_groups;
    pred0 = gb_malloc_array(n_rows * m->n_outputs, sizeof *pred0);
    status = gb_calloc(ng ? ng : 1, sizeof *status);
    errors = gb_calloc(ng ? ng : 1, sizeof *errors);
    if (pred0 == NULL || status == NULL || errors == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory for permutation importance");
        goto out;
    }
    if ((rc = m->ops->predict(m, X, n_rows, pred0, err)) != GB_OK)
        goto out;
    gb_rng base;
    gb_rng_seed(&base, seed);
    perm_job job = {m, X, n_rows, g, n_repeats, base, pred0, imp, status, errors};
    gb_parallel_for(ng, n_threads, perm_task_cb, &job);
    for (size_t k = 0; k < ng; k++)
        if (status[k] != GB_OK) {
            rc = status[k];
            if (err != NULL)
                *err = errors[k];
            break;
        }
out:
    gb_free(errors);
    gb_free(status);
    gb_free(pred0);
    return rc;
}
