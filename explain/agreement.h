/*
 * agreement.h - how far two models' explanations agree: Spearman
 * correlation of global importances, Jaccard of the top-k sets, mean cosine
 * of local attribution vectors.
 * Layer: explain (depends on core only).
 *
 * Every vector is indexed by the same source columns (explain.c aligns the
 * teacher's, student's and baseline's columns by name first).  Undefined
 * results are NaN, never an error: fewer than 2 columns or a constant vector
 * (Spearman), any NaN input, no row with two non-zero vectors (cosine).
 */
#ifndef EXPLAIN_AGREEMENT_H
#define EXPLAIN_AGREEMENT_H

#include <stddef.h>

#include "core/base.h"

/* Spearman's rank correlation of importances a and b (n columns, average
 * ranks for ties, as scipy.stats.spearmanr).  GB_ENOMEM only. */
gb_status ex_agreement_spearman(const double *a, const double *b, size_t n, double *out,
                                gb_error *err);

/* The k columns of largest importance (ties to the lower index), written to
 * top[0..min(k, n)) in decreasing order of importance; returns how many. */
size_t ex_top_k(const double *imp, size_t n, size_t k, size_t *top);

/* |top_k(a) & top_k(b)| / |top_k(a) | top_k(b)|, k capped at n; NaN when n
 * is 0 or an input holds NaN. */
double ex_agreement_top_jaccard(const double *a, const double *b, size_t n, size_t k);

/* Mean over rows of cos(a_i, b_i) for row vectors of dim entries (a and b
 * are n_rows x dim); rows where either vector is all zero are left out. */
double ex_agreement_cosine(const double *a, const double *b, size_t n_rows, size_t dim);

#endif /* EXPLAIN_AGREEMENT_H */
