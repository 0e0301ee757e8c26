/*
 * shapley.h - sampling Shapley values (Strumbelj and Kononenko 2014) for any
 * queryable model, against a fixed background sample, and the seeded row
 * samples the other explanation modules draw.
 * Layer: explain (depends on core only).
 *
 * For a row x and one sampled permutation pi of the features with one
 * background row z drawn uniformly from the background sample, the rows
 *   b_0 = z,  b_k = b_{k-1} with feature pi(k) set to x's value (k = 1..M)
 * are scored in one batched predict call (several permutations per call);
 * f(b_k) - f(b_{k-1}) is one draw of the contribution of feature pi(k).
 * phi_j is the mean over n_permutations draws and se_j its standard error
 * (sample standard deviation / sqrt(n_permutations)).  The draws of one
 * permutation add up to f(x) - f(z), so sum_j phi_j = f(x) - (mean of the
 * sampled f(z)), which estimates f(x) - E_background f; the standard error of
 * that sum is reported too.
 *
 * Output space: the model's margins when it has predict_margin (n_margins
 * columns: logits), else its predictions (n_outputs columns);
 * ex_output_width says which width applies.
 *
 * Determinism: row i draws from gb_rng_split(seed stream, i), so results do
 * not depend on n_threads or on how rows are blocked.
 */
#ifndef EXPLAIN_SHAPLEY_H
#define EXPLAIN_SHAPLEY_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/model/model.h"

typedef struct ex_shapley_params {
    size_t n_permutations; /* >= 2 (a standard error needs two draws) */
    uint64_t seed;
    unsigned n_threads; /* speed only */
} ex_shapley_params;

/* Columns of the attribution blocks of m: n_margins when m has
 * predict_margin, else n_outputs. */
size_t ex_output_width(const gb_model *m);

/* Scores n_rows rows of X in the output space above (margins or
 * predictions) into out (n_rows x ex_output_width(m)). */
gb_status ex_predict_output(const gb_model *m, const double *X, size_t n_rows,
                            double *out, gb_error *err);

/* Sampling Shapley values of n_rows rows of X (n_rows x m->n_features,
 * row-major, NaN = missing) against background (n_background x n_features).
 * phi and se (se may be NULL) are n_rows x W x (n_features + 1), W =
 * ex_output_width(m): phi's last entry of each block is the bias E_background
 * f (the mean over the whole background sample), se's last entry the
 * standard error of the sum of the block's attributions.  The caller
 * allocates both.  Errors: GB_EUNUSABLE for n_permutations < 2, an empty
 * background or a model without predict; GB_ENOMEM; or the model's own
 * predict error (the one of the lowest failing row).  phi and se are
 * undefined on error. */
gb_status ex_shapley(const gb_model *m, const double *X, size_t n_rows,
                     const double *background, size_t n_background,
                     const ex_shapley_params *params, double *phi, double *se,
                     gb_error *err);

/* A seeded sample of min(n_sample, n_total) distinct indices of
 * [0, n_total), written in increasing order to out (caller allocates
 * min(n_sample, n_total) entries); returns how many were written.  A partial
 * Fisher-Yates draw, so the same seed gives the same sample.  0 when out of
 * memory. */
size_t ex_sample_indices(size_t n_total, size_t n_sample, uint64_t seed, size_t *out);

#endif /* EXPLAIN_SHAPLEY_H */
