/*
 * split.h - seeded train/test splits and k-fold assignments, stratified by
 * class for classification targets.
 * Layer: core/data.
 *
 * Deterministic on every platform: the same labels, fraction and seed give
 * the same rows (core/math/rng, never rand()).  Each class's rows, in row
 * order, are shuffled by their own RNG stream (gb_rng_split(seed, class)),
 * so one class's size never changes another's draw.  For regression pass
 * y_class = NULL: all rows form one stratum.
 */
#ifndef CORE_DATA_SPLIT_H
#define CORE_DATA_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

/* Splits rows 0..n_rows-1 into train and test.  The test size is
 * round(n_rows * test_fraction) (half up); it is shared among the classes in
 * proportion to their sizes by largest remainders (ties to the lower class
 * index), and each class's first draws after shuffling are its test rows.
 * y_class: n_rows labels in 0..n_classes-1, or NULL.  On success *train and
 * *test are new arrays of row indices in increasing order (caller frees both
 * with gb_free).  Errors (nothing allocated): GB_EUNUSABLE for a fraction
 * outside (0, 1), a split leaving train or test empty, or a label out of
 * range; GB_ENOMEM. */
gb_status gb_split_train_test(const int32_t *y_class, size_t n_classes, size_t n_rows,
                              double test_fraction, uint64_t seed, size_t **train,
                              size_t *n_train, size_t **test, size_t *n_test,
                              gb_error *err);

/* Assigns each row a fold 0..k-1: each class's shuffled rows are dealt to
 * the folds in turn, continuing where the previous class stopped, so fold
 * sizes differ by at most one and every fold keeps the class proportions.
 * *fold is a new array of n_rows fold ids (caller frees with gb_free).
 * Errors: GB_EUNUSABLE when k < 2 or k > n_rows, or a label out of range;
 * GB_ENOMEM. */
gb_status gb_split_kfold(const int32_t *y_class, size_t n_classes, size_t n_rows,
                         size_t k, uint64_t seed, int32_t **fold, gb_error *err);

#endif /* CORE_DATA_SPLIT_H */
