/*
 * split.c - seeded stratified train/test splits and k-fold assignments.
 * Layer: core/data.
 */
#include "core/data/split.h"

#include <math.h>
#include <string.h>

#include "core/math/rng.h"

static gb_status check_labels(const int32_t *y_class, size_t n_classes, size_t n_rows,
                              gb_error *err)
{
    if (y_class == NULL)
        return GB_OK;
    if (n_classes < 1) {
        gb_error_set(err, GB_EUNUSABLE, "n_classes must be at least 1");
        gb_error_field(err, "n_classes");
        return GB_EUNUSABLE;
    }
    for (size_t i = 0; i < n_rows; i++) {
        if (y_class[i] < 0 || (size_t)y_class[i] >= n_classes) {
            gb_error_set(err, GB_EUNUSABLE, "label %ld at row %zu is outside [0, %zu)",
                         (long)y_class[i], i, n_classes);
            gb_error_field(err, "y");
            return GB_EUNUSABLE;
        }
    }
    return GB_OK;
}

/* Groups row indices by class: rows of class c are perm[start[c]..start[c+1]),
 * in ascending order.  Regression (y_class NULL): one group of every row.
 * start has n_groups + 1 entries. */
static void group_rows(const int32_t *y_class, size_t n_groups, size_t n_rows,
                       size_t *start, size_t *perm)
{
    memset(start, 0, (n_groups + 1) * sizeof *start);
    for (size_t i = 0; i < n_rows; i++)
        start[(y_class != NULL ? (size_t)y_class[i] : 0) + 1]++;
    for (size_t c = 0; c < n_groups; c++)
        start[c + 1] += start[c];
    /* start[c] doubles as the fill cursor, then is restored. */
    for (size_t i = 0; i < n_rows; i++)
        perm[start[y_class != NULL ? (size_t)y_class[i] : 0]++] = i;
    for (size_t c = n_groups; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;
}

static size_t round_half_up(double x)
{
    return (size_t)floor(x + 0.5);
}

void gb_split_free(gb_split *split)
{
    if (split == NULL)
        return;
    gb_free(split->train);
    gb_free(split->test);
    memset(split, 0, sizeof *split);
}

/* Fills *out from a per-row flag (1 = test). */
static gb_status collect(const unsigned char *is_test, size_t n_rows, size_t n_test,
                         gb_split *out, gb_error *err)
{
    size_t n_train = n_rows - n_test;
    size_t *train = gb_malloc_array(n_train, sizeof *train);
    size_t *test = gb_malloc_array(n_test, sizeof *test);
    if (train == NULL || test == NULL) {
        gb_free(train);
        gb_free(test);
        return gb_error_set(err, GB_ENOMEM, "out of memory splitting %zu rows", n_rows);
    }
    size_t a = 0, b = 0;
    for (size_t i = 0; i < n_rows; i++) {
        if (is_test[i])
            test[b++] = i;
        else
            train[a++] = i;
    }
    out->train = train;
    out->n_train = n_train;
    out->test = test;
    out->n_test = n_test;
    return GB_OK;
}

gb_status gb_split_train_test(const int32_t *y_class, size_t n_classes, size_t n_rows,
                              double test_fraction, uint64_t seed, gb_split *out,
                              gb_error *err)
{
    size_t *start = NULL, *perm = NULL;
    unsigned char *is_test = NULL;
    gb_status st = GB_OK;

    memset(out, 0, sizeof *out);
    if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
        gb_error_set(err, GB_EUNUSABLE,
                     "test_fraction must be strictly between 0 and 1, got %g",
                     test_fraction);
        gb_error_field(err, "test_fraction");
        return GB_EUNUSABLE;
    }
    if (n_rows < 2) {
        gb_error_set(err, GB_EUNUSABLE,
                     "a train/test split needs at least 2 rows, got %zu", n_rows);
        gb_error_field(err, "n_rows");
        return GB_EUNUSABLE;
    }
    if ((st = check_labels(y_class, n_classes, n_rows, err)) != GB_OK)
        return st;

    size_t n_groups = y_class != NULL ? n_classes : 1;
    start = gb_malloc_array(n_groups + 1, sizeof *start);
    perm = gb_malloc_array(n_rows, sizeof *perm);
    is_test = gb_calloc(n_rows, 1);
    if (start == NULL || perm == NULL || is_test == NULL) {
        st = gb_error_set(err, GB_ENOMEM, "out of memory splitting %zu rows", n_rows);
        goto done;
    }
    group_rows(y_class, n_groups, n_rows, start, perm);

    gb_rng base;
    gb_rng_seed(&base, seed);
    size_t n_test = 0;
    for (size_t c = 0; c < n_groups; c++) {
        size_t n_c = start[c + 1] - start[c];
        if (n_c == 0)
            continue;
        size_t t = round_half_up(test_fraction * (double)n_c);
        if (t > n_c - 1)
            t = n_c - 1;
        if (y_class == NULL && t < 1)
            t = 1;
        gb_rng stream = gb_rng_split(&base, (uint64_t)c);
        gb_rng_shuffle(&stream, perm + start[c], n_c);
        for (size_t j = 0; j < t; j++)
            is_test[perm[start[c] + j]] = 1;
        n_test += t;
    }
    if (n_test == 0) {
        st = gb_error_set(
            err, GB_EUNUSABLE,
            "the test split of %zu rows at test_fraction %g would be empty "
            "(too few rows per class)",
            n_rows, test_fraction);
        gb_error_field(err, "test_fraction");
        goto done;
    }
    st = collect(is_test, n_rows, n_test, out, err);
done:
    gb_free(is_test);
    gb_free(perm);
    gb_free(start);
    return st;
}

gb_status gb_split_kfold(const int32_t *y_class, size_t n_classes, size_t n_rows,
                         size_t k, uint64_t seed, uint32_t *fold_of_row, gb_error *err)
{
    size_t *start = NULL, *perm = NULL;
    gb_status st = GB_OK;

    if (k < 2 || k > n_rows || k > UINT32_MAX) {
        gb_error_set(err, GB_EUNUSABLE, "k must be between 2 and the %zu rows, got %zu",
                     n_rows, k);
        gb_error_field(err, "k");
        return GB_EUNUSABLE;
    }
    if ((st = check_labels(y_class, n_classes, n_rows, err)) != GB_OK)
        return st;
    size_t n_groups = y_class != NULL ? n_classes : 1;
    start = gb_malloc_array(n_groups + 1, sizeof *start);
    perm = gb_malloc_array(n_rows, sizeof *perm);
    if (start == NULL || perm == NULL) {
        st = gb_error_set(err, GB_ENOMEM, "out of memory assigning %zu rows to folds",
                          n_rows);
        goto done;
    }
    group_rows(y_class, n_groups, n_rows, start, perm);
    gb_rng base;
    gb_rng_seed(&base, seed);
    size_t next = 0;
    for (size_t c = 0; c < n_groups; c++) {
        size_t n_c = start[c + 1] - start[c];
        gb_rng stream = gb_rng_split(&base, (uint64_t)c);
        gb_rng_shuffle(&stream, perm + start[c], n_c);
        for (size_t j = 0; j < n_c; j++) {
            fold_of_row[perm[start[c] + j]] = (uint32_t)next;
            next = next + 1 == k ? 0 : next + 1;
        }
    }
done:
    gb_free(perm);
    gb_free(start);
    return st;
}

gb_status gb_split_fold(const uint32_t *fold_of_row, size_t n_rows, uint32_t fold,
                        gb_split *out, gb_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n_test = 0;
    for (size_t i = 0; i < n_rows; i++)
        n_test += fold_of_row[i] == fold;
    if (n_test == 0 || n_test == n_rows) {
        gb_error_set(err, GB_EUNUSABLE, "fold %u has %zu of %zu rows", (unsigned)fold,
                     n_test, n_rows);
        gb_error_field(err, "fold");
        return GB_EUNUSABLE;
    }
    unsigned char *is_test = gb_malloc(n_rows);
    if (is_test == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory splitting %zu rows", n_rows);
    for (size_t i = 0; i < n_rows; i++)
        is_test[i] = fold_of_row[i] == fold;
    gb_status st = collect(is_test, n_rows, n_test, out, err);
    gb_free(is_test);
    return st;
}
