/*
 * scores.h - score teachers: dataset columns that hold a teacher's
 * probabilities (or regression outputs) instead of a model file.
 * Layer: core/model/teachers.
 *
 * A score teacher is not a gb_model: it cannot be queried on new rows, so it
 * is read once into the same n_rows x n_outputs matrix a model's predict
 * would give (core/model/model.h):
 *
 *   regression  one column, the teacher's outputs (n_outputs = 1);
 *   binary      one column = P(classes[1]) (the matrix gets 1 - p, p), or
 *               two columns, one per class in class order;
 *   multiclass  one column per class, in class order.
 *
 * Validation (GB_EUNUSABLE naming the column in err->field and the first
 * offending CSV line in err->line; data row i is CSV line i + 2): the column
 * exists, is numeric, is not the target, is named once; no missing values;
 * finite; probabilities in [0, 1]; with one column per class every row sums
 * to 1 within GB_SCORES_SUM_TOL.
 */
#ifndef CORE_MODEL_TEACHERS_SCORES_H
#define CORE_MODEL_TEACHERS_SCORES_H

#include <stddef.h>

#include "core/base.h"
#include "core/data/table.h"

#define GB_SCORES_SUM_TOL 1e-6

/* Reads and validates the score columns `columns[0..n_columns)` of `table`
 * for the resolved `target`.  On success *out is a new row-major
 * table->n_rows x *n_outputs matrix (caller frees with gb_free) holding the
 * values as given (not renormalised).  On error *out is NULL, *n_outputs 0
 * and err names the column and line. */
gb_status gb_scores_read(const gb_table *table, const gb_target *target,
                         char *const *columns, size_t n_columns, double **out,
                         size_t *n_outputs, gb_error *err);

#endif /* CORE_MODEL_TEACHERS_SCORES_H */
