/*
 * disagreement.h - where the student must not stand in for the teacher: a
 * depth-3 regression tree (the tree student, core/model/students/tree.h)
 * fitted over the explained rows to a disagreement target, its leaves as
 * readable rules with row counts and rates.
 * Layer: explain (depends on core only).
 *
 * The target per row is 1 when argmax(student) != argmax(teacher) and 0
 * otherwise (classification), or |student - teacher| (regression); a leaf's
 * rate is the mean target of its rows.  The tree reads the given dataset
 * columns in their own units (categorical columns as levels), so a rule
 * reads "age <= 30.5 and city in {Leeds, York}"; "(or missing)" marks the
 * side missing values take when missing values reached the split.  Leaves
 * are listed by decreasing rate (ties: more rows first, then tree order);
 * leaves whose rate is 0 are left out.
 */
#ifndef EXPLAIN_DISAGREEMENT_H
#define EXPLAIN_DISAGREEMENT_H

#include <stddef.h>

#include "core/base.h"
#include "core/data/table.h"

typedef struct ex_rule {
    char *rule;  /* "all rows" for a tree without splits */
    size_t rows; /* explained rows in the leaf */
    double rate; /* mean target in the leaf */
} ex_rule;

typedef struct ex_disagreement_params {
    unsigned max_depth;   /* default 3 */
    size_t min_rows_leaf; /* 0 = max(5, 2% of the rows) */
    size_t max_rules;     /* leaves reported, default 5 */
    unsigned n_threads;
} ex_disagreement_params;

/* Fits the disagreement tree on table rows rows[0..n_rows) (NULL = the
 * first n_rows) and columns columns[0..n_columns) with target[0..n_rows),
 * and returns its worst leaves in *out (*n_out of them; caller frees with
 * ex_rules_free).  Errors: GB_EUNUSABLE naming a missing column, for no
 * columns or fewer than 2 rows, or a non-finite target (naming the row);
 * GB_ENOMEM; the tree's own fit errors.  *out NULL on error. */
gb_status ex_disagreement(const gb_table *table, const size_t *rows, size_t n_rows,
                          char *const *columns, size_t n_columns, const double *target,
                          const ex_disagreement_params *params, ex_rule **out,
                          size_t *n_out, gb_error *err);

void ex_rules_free(ex_rule *rules, size_t n);

#endif /* EXPLAIN_DISAGREEMENT_H */
