/*
 * global.h - global feature importance by source column: mean |attribution|
 * when local attributions exist, label-free permutation importance
 * otherwise.
 * Layer: explain (depends on core only).
 *
 * Source columns
 * --------------
 * Models read design columns (core/data/encode.h): a numeric column "x", a
 * categorical column "col" as codes, or one-hot indicators "col=level".  An
 * ex_groups maps every model feature to the dataset column it comes from, so
 * a one-hot student and a teacher reading codes are compared column by
 * column.  A feature is its own source when the table has a column of that
 * name; otherwise, when it has the form "col=level" with "col" a column of
 * the table (the shortest such prefix), col is its source.  Without a table
 * the text before the first '=' is the source.
 *
 * Importances
 * -----------
 * Attribution importance of source column g: the mean over rows and outputs
 * of |sum of the attributions of g's features| (the Shapley value of the
 * group, in the attribution's space: margins).
 *
 * Permutation importance of g: the rows of g's design columns are shuffled
 * together (a seeded permutation of the rows that depends only on the seed,
 * g's name and the repeat, so teacher and student see the same shuffle), the
 * model predicts again, and the importance is the mean over rows and outputs
 * of |f(shuffled) - f(original)| on the prediction scale (probabilities or
 * the regression value), averaged over repeats.  No labels are used.
 */
#ifndef EXPLAIN_GLOBAL_H
#define EXPLAIN_GLOBAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/data/table.h"
#include "core/model/model.h"

typedef struct ex_groups {
    size_t n_groups;
    char **names; /* n_groups source column names, first-seen order */
    size_t n_features;
    size_t *group_of; /* n_features: the group of each model feature */
} ex_groups;

/* Groups the n_features features (names) by source column (table may be
 * NULL).  *out owned by the caller (ex_groups_free).  GB_ENOMEM; *out zeroed
 * on error. */
gb_status ex_groups_build(const gb_feature *features, size_t n_features,
                          const gb_table *table, ex_groups *out, gb_error *err);

/* Frees what ex_groups_build allocated and zeroes *g; NULL-safe. */
void ex_groups_free(ex_groups *g);

/* Index of the group named name, or -1. */
long ex_groups_find(const ex_groups *g, const char *name);

/* Attribution importance (above) of every group into imp[0..n_groups) from
 * phi (n_rows x width x (n_features + 1), model.h's layout; the bias entry is
 * ignored).  Also, when local is non-NULL, the grouped attributions
 * local[n_rows x width x n_groups].  n_rows == 0 gives NaN. */
void ex_importance_from_attributions(const double *phi, size_t n_rows, size_t width,
                                     const ex_groups *g, double *imp, double *local);

/* Permutation importance (above) of every group of m on the rows of its
 * design matrix X (n_rows x m->n_features) into imp[0..n_groups).  n_repeats
 * >= 1.  Parallel over groups; independent of n_threads.  Errors: GB_EUNUSABLE
 * (n_repeats 0, fewer than 2 rows), GB_ENOMEM, or the model's predict error
 * (of the first failing group). */
gb_status ex_permutation_importance(const gb_model *m, const double *X, size_t n_rows,
                                    const ex_groups *g, size_t n_repeats, uint64_t seed,
                                    unsigned n_threads, double *imp, gb_error *err);

#endif /* EXPLAIN_GLOBAL_H */
