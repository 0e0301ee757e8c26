/*
 * scores.c - reading and validating score-column teachers.
 * Layer: core/model/teachers.
 */
#include "core/model/teachers/scores.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* CSV line of data row i (line 1 is the header). */
static long csv_line(size_t row)
{
    return (long)row + 2;
}

static gb_status column_error(gb_error *err, const char *column, size_t row,
                              int has_row, const char *fmt_what)
{
    if (has_row)
        gb_error_at(err, GB_EUNUSABLE, csv_line(row), 0,
                    "score column '%s', line %ld: %s", column, csv_line(row), fmt_what);
    else
        gb_error_set(err, GB_EUNUSABLE, "score column '%s': %s", column, fmt_what);
    gb_error_field(err, column);
    return GB_EUNUSABLE;
}

gb_status gb_scores_read(const gb_table *table, const gb_target *target,
                         char *const *columns, size_t n_columns, double **out,
                         size_t *n_outputs, gb_error *err)
{
    const gb_column **cols = NULL;
    double *matrix = NULL;
    gb_status rc = GB_OK;

    *out = NULL;
    *n_outputs = 0;
    if (table == NULL || target == NULL || (columns == NULL && n_columns > 0))
        return gb_error_set(err, GB_EINTERNAL, "gb_scores_read: NULL argument");
    int classification = target->task != GB_TASK_REGRESSION;
    size_t K = classification ? target->n_classes : 1;
    /* How many columns the task allows. */
    if (target->task == GB_TASK_REGRESSION && n_columns != 1)
        return gb_error_set(
            err, GB_EUNUSABLE,
            "a regression score teacher needs exactly 1 score column, got %zu",
            n_columns);
    if (target->task == GB_TASK_BINARY && n_columns != 1 && n_columns != 2)
        return gb_error_set(err, GB_EUNUSABLE,
                            "a binary score teacher needs 1 column (P(class %s)) or 2 "
                            "(one per class), got %zu",
                            target->classes != NULL ? target->classes[1] : "1",
                            n_columns);
    if (target->task == GB_TASK_MULTICLASS && n_columns != K)
        return gb_error_set(
            err, GB_EUNUSABLE,
            "a multiclass score teacher needs one column per class (%zu), "
            "got %zu",
            K, n_columns);
    if (target->task == GB_TASK_AUTO)
        return gb_error_set(err, GB_EINTERNAL, "gb_scores_read: unresolved target");

    cols = gb_calloc(n_columns ? n_columns : 1, sizeof *cols);
    if (cols == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading score columns");
    for (size_t c = 0; c < n_columns; c++) {
        long idx = gb_table_find(table, columns[c]);
        if (idx < 0) {
            rc = column_error(err, columns[c], 0, 0, "no such column in the dataset");
            goto fail;
        }
        if ((size_t)idx == target->col) {
            rc = column_error(err, columns[c], 0, 0, "is the target column");
            goto fail;
        }
        for (size_t d = 0; d < c; d++)
            if (strcmp(columns[d], columns[c]) == 0) {
                rc = column_error(err, columns[c], 0, 0, "named twice");
                goto fail;
            }
        cols[c] = &table->cols[idx];
        if (cols[c]->type != GB_COL_NUMERIC) {
            rc = column_error(err, columns[c], 0, 0,
                              classification ? "is not numeric (probabilities expected)"
                                             : "is not numeric");
            goto fail;
        }
    }

    size_t n_rows = table->n_rows;
    matrix = gb_malloc_array(n_rows > 0 ? n_rows : 1, K * sizeof *matrix);
    if (matrix == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading score columns");
        goto fail;
    }
    for (size_t i = 0; i < n_rows; i++) {
        double sum = 0.0;
        for (size_t c = 0; c < n_columns; c++) {
            double v = cols[c]->values[i];
            if (isnan(v)) {
                rc = column_error(err, columns[c], i, 1, "missing value");
                goto fail;
            }
            if (!isfinite(v)) {
                rc = column_error(err, columns[c], i, 1, "not a finite number");
                goto fail;
            }
            if (classification && (v < 0.0 || v > 1.0)) {
                rc = column_error(err, columns[c], i, 1, "not a probability in [0, 1]");
                goto fail;
            }
            sum += v;
        }
        if (classification && n_columns == K && fabs(sum - 1.0) > GB_SCORES_SUM_TOL) {
            char what[160];
            snprintf(what, sizeof what,
                     "the %zu class probabilities of this row sum to %.17g, not 1 "
                     "(tolerance "
                     "%g)",
                     K, sum, GB_SCORES_SUM_TOL);
            rc = column_error(err, columns[0], i, 1, what);
            goto fail;
        }
        if (target->task == GB_TASK_BINARY && n_columns == 1) {
            matrix[2 * i] = 1.0 - cols[0]->values[i];
            matrix[2 * i + 1] = cols[0]->values[i];
        } else {
            for (size_t c = 0; c < n_columns; c++)
                matrix[i * K + c] = cols[c]->values[i];
        }
    }
    gb_free(cols);
    *out = matrix;
    *n_outputs = K;
    return GB_OK;

fail:
    gb_free(cols);
    gb_free(matrix);
    return rc;
}
