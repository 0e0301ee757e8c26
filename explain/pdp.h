/*
 * pdp.h - partial dependence (PDP) and individual conditional expectation
 * (ICE) curves of a source column, on a grid shared by every model.
 * Layer: explain (depends on core only).
 *
 * Grid: for a numeric column, the quantiles at g / (G - 1), g = 0..G-1, of
 * its non-missing values on the given rows (numpy's default linear
 * interpolation), with repeated values dropped; for a categorical column, the
 * (at most G) most frequent levels on those rows, ties to the earlier level,
 * listed in level order.
 *
 * Setting a source column to a grid point in a model's design rows (see
 * global.h for source columns): a NUMERIC feature named like the column takes
 * the value; a one-hot feature "col=level" becomes 1 for the grid's level and
 * 0 otherwise; a CATEGORICAL feature takes the code of the grid's level in
 * its own level list (NaN when the model does not know the level; for a
 * numeric column, the level spelled as the value's shortest text).
 *
 * Curves are on the prediction scale (model.h predict: probabilities or the
 * regression value): pdp[g][k] is the mean over rows of output k with the
 * column set to grid point g; ice[r][g][k] the same for one row.
 */
#ifndef EXPLAIN_PDP_H
#define EXPLAIN_PDP_H

#include <stddef.h>

#include "core/base.h"
#include "core/data/table.h"
#include "core/model/model.h"
#include "explain/global.h"

typedef struct ex_grid {
    char *column; /* source column name */
    int categorical;
    size_t n;       /* grid points */
    double *values; /* numeric: the grid values; categorical: NaN */
    char **labels;  /* categorical: n level names; numeric: NULL */
} ex_grid;

/* Builds the grid (above) of table column `name` on table rows rows[0..n_rows)
 * with at most max_points >= 2 points.  *out owned by the caller
 * (ex_grid_free).  Errors: GB_EUNUSABLE naming the column when it does not
 * exist or has no non-missing value on those rows, or for max_points < 2;
 * GB_ENOMEM.  *out zeroed on error. */
gb_status ex_grid_build(const gb_table *table, const char *name, const size_t *rows,
                        size_t n_rows, size_t max_points, ex_grid *out, gb_error *err);

void ex_grid_free(ex_grid *grid);

/* PDP and ICE of model m for grid's column.  X holds the model's design rows
 * (n_rows x m->n_features) and is not modified; groups are m's feature
 * groups (ex_groups_build).  pdp gets grid->n x m->n_outputs values; ice
 * (may be NULL) n_ice x grid->n x m->n_outputs for rows ice_rows[0..n_ice)
 * (indices into X's rows).  GB_EUNUSABLE when m does not read the column;
 * GB_ENOMEM; the model's predict errors. */
gb_status ex_pdp(const gb_model *m, const double *X, size_t n_rows,
                 const ex_groups *groups, const ex_grid *grid, double *pdp,
                 const size_t *ice_rows, size_t n_ice, double *ice, gb_error *err);

#endif /* EXPLAIN_PDP_H */
