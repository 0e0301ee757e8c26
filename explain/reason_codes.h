/*
 * reason_codes.h - adverse-action reason codes for binary models: per row,
 * the k source columns with the largest positive contributions to the margin
 * of the adverse class (classes[1], the logit of P(class 1)), from two
 * models, and how often they name the same reasons.
 * Layer: explain (depends on core only).
 *
 * Inputs are grouped local attributions on the same source columns:
 * local_a and local_b are n_rows x n_cols (explain.c groups and aligns
 * them).  Only strictly positive contributions are reasons, so a row may
 * have fewer than k.  Codes are column indices, ties to the lower index;
 * unused slots hold EX_NO_REASON.
 */
#ifndef EXPLAIN_REASON_CODES_H
#define EXPLAIN_REASON_CODES_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

#define EX_NO_REASON SIZE_MAX

typedef struct ex_reason_match {
    double match_rate; /* mean over rows of |A & B| / max(|A|, |B|) (1 when both
                          rows have no reason) */
    double top1_match; /* share of rows whose first reasons are equal (both
                          none counts as equal) */
} ex_reason_match;

/* The top-k reasons of every row of local (n_rows x n_cols) into codes
 * (n_rows x k). */
void ex_reason_codes(const double *local, size_t n_rows, size_t n_cols, size_t k,
                     size_t *codes);

/* Agreement of two models' codes (both n_rows x k, from ex_reason_codes).
 * NaN fields when n_rows is 0. */
ex_reason_match ex_reason_codes_match(const size_t *codes_a, const size_t *codes_b,
                                      size_t n_rows, size_t k);

#endif /* EXPLAIN_REASON_CODES_H */
