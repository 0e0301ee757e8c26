/*
 * pdp.c - quantile grids and batched PDP / ICE curves.
 * Layer: explain.
 */
#include "explain/pdp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/encode.h"

void ex_grid_free(ex_grid *grid)
{
    if (grid == NULL)
        return;
    gb_free(grid->column);
    gb_free(grid->values);
    gb_free_strings(grid->labels, grid->labels != NULL ? grid->n : 0);
    memset(grid, 0, sizeof *grid);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

gb_status ex_grid_build(const gb_table *table, const char *name, const size_t *rows,
                        size_t n_rows, size_t max_points, ex_grid *out, gb_error *err)
{
    gb_status rc = GB_OK;
    double *sorted = NULL;
    size_t *counts = NULL;
    memset(out, 0, sizeof *out);
    if (max_points < 2)
        return gb_error_set(err, GB_EUNUSABLE, "a grid needs at least 2 points");
    long c = gb_table_find(table, name);
    if (c < 0) {
        gb_error_set(err, GB_EUNUSABLE, "no column named '%s' for a dependence curve",
                     name);
        gb_error_field(err, name);
        return GB_EUNUSABLE;
    }
    const gb_column *col = table->cols + c;
    out->column = gb_strdup(name);
    if (out->column == NULL)
        goto nomem;
    if (col->type == GB_COL_NUMERIC) {
        sorted = gb_malloc_array(n_rows ? n_rows : 1, sizeof *sorted);
        out->values = gb_malloc_array(max_points, sizeof *out->values);
        if (sorted == NULL || out->values == NULL)
            goto nomem;
        size_t n = 0;
        for (size_t i = 0; i < n_rows; i++) {
            double v = col->values[rows != NULL ? rows[i] : i];
            if (!isnan(v))
                sorted[n++] = v;
        }
        if (n == 0)
            goto empty;
        qsort(sorted, n, sizeof *sorted, cmp_double);
        for (size_t g = 0; g < max_points; g++) {
            double pos = (double)g * (double)(n - 1) / (double)(max_points - 1);
            size_t lo = (size_t)floor(pos);
            double frac = pos - (double)lo, v = sorted[lo];
            if (lo + 1 < n && frac > 0)
                v = v + frac * (sorted[lo + 1] - v);
            if (out->n == 0 || v != out->values[out->n - 1])
                out->values[out->n++] = v;
        }
    } else {
        out->categorical = 1;
        counts = gb_calloc(col->n_levels ? col->n_levels : 1, sizeof *counts);
        if (counts == NULL)
            goto nomem;
        size_t seen = 0;
        for (size_t i = 0; i < n_rows; i++) {
            int32_t code = col->codes[rows != NULL ? rows[i] : i];
            if (code >= 0 && (size_t)code < col->n_levels)
                seen += counts[code]++ == 0;
        }
        if (seen == 0)
            goto empty;
        size_t n = seen < max_points ? seen : max_points;
        /* Keep the n most frequent levels (ties to the earlier level). */
        unsigned char *keep = gb_calloc(col->n_levels, 1);
        out->labels = gb_calloc(n, sizeof *out->labels);
        out->values = gb_malloc_array(n, sizeof *out->values);
        if (keep == NULL || out->labels == NULL || out->values == NULL) {
            gb_free(keep);
            goto nomem;
        }
        for (size_t t = 0; t < n; t++) {
            size_t best = col->n_levels;
            for (size_t l = 0; l < col->n_levels; l++)
                if (!keep[l] && counts[l] > 0 &&
                    (best == col->n_levels || counts[l] > counts[best]))
                    best = l;
            keep[best] = 1;
        }
        for (size_t l = 0; l < col->n_levels; l++) {
            if (!keep[l])
                continue;
            out->values[out->n] = NAN;
            out->labels[out->n] = gb_strdup(col->levels[l]);
            if (out->labels[out->n++] == NULL) {
                gb_free(keep);
                goto nomem;
            }
        }
        gb_free(keep);
    }
    goto out;
empty:
    ex_grid_free(out);
    rc = gb_error_set(err, GB_EUNUSABLE,
                      "column '%s' has no values on the rows explained", name);
    gb_error_field(err, name);
    goto out;
nomem:
    ex_grid_free(out);
    rc = gb_error_set(err, GB_ENOMEM, "out of memory building a grid");
out:
    gb_free(counts);
    gb_free(sorted);
    return rc;
}

/* Value of feature f (of the grid's column) at grid point g. */
static double feature_value(const gb_feature *f, const ex_grid *grid, size_t g)
{
    size_t len = strlen(grid->column);
    if (strcmp(f->name, grid->column) != 0) {
        /* One-hot "col=level". */
        const char *level = f->name + len + 1;
        if (!grid->categorical) {
            char buf[32];
            gb_format_double(grid->values[g], buf);
            return strcmp(level, buf) == 0 ? 1.0 : 0.0;
        }
        return strcmp(level, grid->labels[g]) == 0 ? 1.0 : 0.0;
    }
    if (f->kind == GB_FEAT_NUMERIC)
        return grid->categorical ? NAN : grid->values[g];
    char buf[32];
    const char *label = grid->labels != NULL ? grid->labels[g] : buf;
    if (!grid->categorical)
        gb_format_double(grid->values[g], buf);
    for (size_t l = 0; l < f->n_levels; l++)
        if (strcmp(f->levels[l], label) == 0)
            return (double)l;
    return NAN;
}

gb_status ex_pdp(const gb_model *m, const double *X, size_t n_rows,
                 const ex_groups *groups, const ex_grid *grid, double *pdp,
                 const size_t *ice_rows, size_t n_ice, double *ice, gb_error *err)
{
    gb_status rc = GB_OK;
    double *Xg = NULL, *pred = NULL;
    long gi = ex_groups_find(groups, grid->column);
    if (gi < 0) {
        gb_error_set(err, GB_EUNUSABLE, "the %s model does not read column '%s'",
                     m->ops->kind, grid->column);
        gb_error_field(err, grid->column);
        return GB_EUNUSABLE;
    }
    size_t nf = m->n_features, no = m->n_outputs;
    Xg = gb_malloc_array(n_rows * (nf ? nf : 1), sizeof *Xg);
    pred = gb_malloc_array(n_rows * no, sizeof *pred);
    if (Xg == NULL || pred == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory for dependence curves");
        goto out;
    }
    memcpy(Xg, X, n_rows * nf * sizeof *Xg);
    for (size_t g = 0; g < grid->n; g++) {
        for (size_t j = 0; j < nf; j++) {
            if (groups->group_of[j] != (size_t)gi)
                continue;
            double v = feature_value(m->features + j, grid, g);
            for (size_t i = 0; i < n_rows; i++)
                Xg[i * nf + j] = v;
        }
        if ((rc = m->ops->predict(m, Xg, n_rows, pred, err)) != GB_OK)
            goto out;
        for (size_t k = 0; k < no; k++) {
            double s = 0;
            for (size_t i = 0; i < n_rows; i++)
                s += pred[i * no + k];
            pdp[g * no + k] = n_rows > 0 ? s / (double)n_rows : NAN;
        }
        for (size_t r = 0; ice != NULL && r < n_ice; r++)
            for (size_t k = 0; k < no; k++)
                ice[(r * grid->n + g) * no + k] = pred[ice_rows[r] * no + k];
    }
out:
    gb_free(pred);
    gb_free(Xg);
    return rc;
}
