/*
 * attribute.h - exact local attributions of any model through its own
 * `attribute` operation (model.h): TreeSHAP for tree students, XGBoost and
 * LightGBM teachers (core/model/treeshap.h), w_j (x_j - mean_j) for linear
 * students, f_j(x_j) for GAMs.  Models without it are explained by sampled
 * Shapley values (shapley.h).
 * Layer: explain (depends on core only).
 */
#ifndef EXPLAIN_ATTRIBUTE_H
#define EXPLAIN_ATTRIBUTE_H

#include <stddef.h>

#include "core/base.h"
#include "core/model/model.h"

/* Nonzero when the model has exact attributions (an attribute operation). */
int ex_exact_available(const gb_model *model);

/* Exact attributions of n_rows rows of the model's design matrix X into phi
 * (n_rows x n_margins x (n_features + 1), as model.h's attribute; the caller
 * allocates it).  Rows are attributed in fixed blocks on up to n_threads
 * threads, so phi does not depend on n_threads.  GB_EUNUSABLE when
 * ex_exact_available is 0; the model's own errors (GB_ENOMEM) otherwise, phi
 * then undefined. */
gb_status ex_exact_attribute(const gb_model *model, const double *X, size_t n_rows,
                             unsigned n_threads, double *phi, gb_error *err);

#endif /* EXPLAIN_ATTRIBUTE_H */
