/*
 * split.h - seeded train/test splits and k-fold assignments.
 * Layer: core/data (uses core/math/rng only, so a seed gives the same rows on
 * every platform and with every thread count).
 *
 * Classification splits are stratified: each class is split on its own, so
 * train and test keep the class proportions.  Regression splits shuffle all
 * rows.  Row indices are 0-based positions in the caller's arrays.
 *
 * Train/test rule (docs/metrics.md, "Test split"):
 *   classification: for class c with n_c rows, its rows (in ascending order)
 *     are shuffled with the stream gb_rng_split(seed, c) and the first
 *     t_c = floor(test_fraction * n_c + 0.5) go to test, where t_c is then
 *     capped at n_c - 1, so every class keeps at least one training row (a
 *     class of one row goes to train).
 *   regression: rows 0..n-1 are shuffled with gb_rng_split(seed, 0) and the
 *     first t = floor(test_fraction * n + 0.5) go to test, t clamped to
 *     [1, n - 1].
 * Both returned index arrays are sorted ascending, disjoint and together cover
 * 0..n_rows-1.
 */
#ifndef CORE_DATA_SPLIT_H
#define CORE_DATA_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

typedef struct gb_split {
    size_t *train; /* n_train sorted row indices */
    size_t n_train;
    size_t *test; /* n_test sorted row indices */
    size_t n_test;
} gb_split;

/* Draws a train/test split of n_rows rows.  y_class (n_rows labels in
 * [0, n_classes)) selects a stratified split; NULL (n_classes ignored) a plain
 * shuffle for regression.
 *
 * Errors (GB_EUNUSABLE, err->field names the parameter): test_fraction not
 * strictly between 0 and 1 ("test_fraction"); fewer than 2 rows ("n_rows");
 * a label outside [0, n_classes) ("y", naming the row); a split whose test
 * side would be empty ("test_fraction": too few rows per class).  GB_ENOMEM
 * on allocation failure.  On success *out is filled and owned by the caller
 * (gb_split_free); on error *out is zeroed. */
gb_status gb_split_train_test(const int32_t *y_class, size_t n_classes, size_t n_rows,
                              double test_fraction, uint64_t seed, gb_split *out,
                              gb_error *err);

/* Frees both index arrays and zeroes *split; NULL is a no-op. */
void gb_split_free(gb_split *split);

/* Assigns each row to one of k folds, written to fold_of_row[0..n_rows).
 * Stratified for classification (y_class non-NULL): the rows of class c are
 * shuffled with gb_rng_split(seed, c) and dealt round-robin to the folds,
 * starting where the previous class stopped, so each fold gets floor or ceil
 * of n_c / k rows of every class and fold sizes differ by at most one.
 * Regression (y_class NULL): rows shuffled with gb_rng_split(seed, 0) and
 * dealt round-robin.  Errors (GB_EUNUSABLE): k < 2 or k > n_rows ("k"), a
 * label out of range ("y").  fold_of_row is untouched on error. */
gb_status gb_split_kfold(const int32_t *y_class, size_t n_classes, size_t n_rows,
                         size_t k, uint64_t seed, uint32_t *fold_of_row, gb_error *err);

/* The train (fold_of_row != fold) and test (== fold) rows of one fold as a
 * gb_split with sorted indices.  GB_EUNUSABLE if the fold is empty or holds
 * every row ("fold"); GB_ENOMEM.  *out owned by the caller (gb_split_free);
 * zeroed on error. */
gb_status gb_split_fold(const uint32_t *fold_of_row, size_t n_rows, uint32_t fold,
                        gb_split *out, gb_error *err);

#endif /* CORE_DATA_SPLIT_H */
