/*
 * munge.h - MUNGE augmentation of the transfer set (Bucilua, Caruana &
 * Niculescu-Mizil 2006, "Model Compression"; ALGORITHMS.md).
 * Layer: core/distill.
 *
 * New rows are drawn near the training rows so that a queryable teacher can
 * label more of the input space than the data covers.  For each training row
 * e, its nearest neighbour e' among the training rows is found (Euclidean
 * distance over standardised numeric columns, plus one per categorical
 * mismatch; a missing value on either side adds nothing for a numeric column
 * and one for a categorical column).  Each pass makes one new row from every
 * e: for each attribute, with probability p, a numeric value is drawn from
 * N(e'_a, sd) with sd = |e_a - e'_a| / s and a categorical value becomes
 * e'_a; otherwise e_a is kept (missing stays missing).  `multiplier` passes
 * give multiplier x n new rows.  Row i of pass k draws from its own stream
 * gb_rng_split(seed, k * n + i), so results do not depend on threads.
 *
 * Above GB_MUNGE_EXACT_ROWS training rows, neighbours are searched among a
 * seeded sample of GB_MUNGE_EXACT_ROWS candidate rows (documented in
 * docs/report.md) to bound the O(n^2) search.
 */
#ifndef CORE_DISTILL_MUNGE_H
#define CORE_DISTILL_MUNGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/data/table.h"
#include "core/progress.h"

#define GB_MUNGE_EXACT_ROWS 20000
#define GB_MUNGE_MAX_MULTIPLIER 100

typedef struct gb_munge_params {
    size_t multiplier; /* passes; 1..GB_MUNGE_MAX_MULTIPLIER */
    double p;          /* swap probability in [0, 1]; default 0.5 */
    double s;          /* spread divisor > 0; default 10 */
    uint64_t seed;
    unsigned n_threads;
} gb_munge_params;

/* GB_EUNUSABLE naming "augment.multiplier", "augment.p" or "augment.s". */
gb_status gb_munge_check(const gb_munge_params *p, gb_error *err);

/* Builds a new table of multiplier * n_rows rows holding the columns of
 * `table` not flagged in exclude[] (n_cols flags, may be NULL), made from
 * rows[0..n_rows) as above.  Caller frees *out with gb_table_free; on error
 * *out is NULL (GB_ECANCELLED when progress asks to stop). */
gb_status gb_munge_table(const gb_table *table, const unsigned char *exclude,
                         const size_t *rows, size_t n_rows, const gb_munge_params *p,
                         const gb_progress *progress, gb_table **out, gb_error *err);

#endif /* CORE_DISTILL_MUNGE_H */
