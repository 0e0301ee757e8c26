/*
 * split.c - seeded, stratified train/test splits and k-fold assignments.
 * Layer: core/data.
 */
#include "core/data/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/rng.h"

/* Rows grouped by class: rows[start[c] .. start[c+1]) are class c's rows in
 * row order.  One stratum when y_class is NULL. */
typedef struct strata {
    size_t n_strata;
    size_t *start; /* n_strata + 1 */
    size_t *rows;  /* n_rows */
} strata;

static void strata_free(strata *s)
{
    gb_free(s->start);
    gb_free(s->rows);
}

static gb_status strata_build(const int32_t *y_class, size_t n_classes, size_t n_rows,
                              strata *s, gb_error *err)
{
    memset(s, 0, sizeof *s);
    s->n_strata = y_class != NULL ? n_classes : 1;
    for (size_t i = 0; y_class != NULL && i < n_rows; i++)
        if (y_class[i] < 0 || (size_t)y_class[i] >= n_classes)
            return gb_error_set(err, GB_EUNUSABLE,
                                "class label %ld of row %zu is outside 0..%zu",
                                (long)y_class[i], i, n_classes ? n_classes - 1 : 0);
    s->start = gb_calloc(s->n_strata + 1, sizeof *s->start);
    s->rows = gb_malloc_array(n_rows, sizeof *s->rows);
    if (s->start == NULL || s->rows == NULL) {
        strata_free(s);
        return gb_error_set(err, GB_ENOMEM, "out of memory splitting %zu rows", n_rows);
    }
    for (size_t i = 0; i < n_rows; i++)
        s->start[(y_class != NULL ? (size_t)y_class[i] : 0) + 1]++;
    for (size_t c = 0; c < s->n_strata; c++)
        s->start[c + 1] += s->start[c];
    /* Counting sort keeps row order within each class. */
    size_t *next = gb_malloc_array(s->n_strata, sizeof *next);
    if (next == NULL) {
        strata_free(s);
        return gb_error_set(err, GB_ENOMEM, "out of memory splitting %zu rows", n_rows);
    }
    memcpy(next, s->start, s->n_strata * sizeof *next);
    for (size_t i = 0; i < n_rows; i++)
        s->rows[next[y_class != NULL ? (size_t)y_class[i] : 0]++] = i;
    gb_free(next);
    return GB_OK;
}

/* Shuffles each stratum with its own stream of the seed. */
static void strata_shuffle(strata *s, uint64_t seed)
{
    gb_rng base;
    gb_rng_seed(&base, seed);
    for (size_t c = 0; c < s->n_strata; c++) {
        gb_rng rng = gb_rng_split(&base, c);
        gb_rng_shuffle(&rng, s->rows + s->start[c], s->start[c + 1] - s->start[c]);
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

gb_status gb_split_train_test(const int32_t *y_class, size_t n_classes, size_t n_rows,
                              double test_fraction, uint64_t seed, size_t **train,
                              size_t *n_train, size_t **test, size_t *n_test,
                              gb_error *err)
{
    *train = *test = NULL;
    *n_train = *n_test = 0;
    if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
        gb_error_set(err, GB_EUNUSABLE, "test fraction %g is not between 0 and 1",
                     test_fraction);
        gb_error_field(err, "test_fraction");
        return GB_EUNUSABLE;
    }
    size_t total_test = (size_t)floor((double)n_rows * test_fraction + 0.5);
    if (total_test == 0 || total_test >= n_rows) {
        gb_error_set(err, GB_EUNUSABLE,
                     "a test fraction of %g of %zu rows leaves the %s split empty",
                     test_fraction, n_rows, total_test == 0 ? "test" : "train");
        gb_error_field(err, "test_fraction");
        return GB_EUNUSABLE;
    }
    strata s;
    gb_status rc = strata_build(y_class, n_classes, n_rows, &s, err);
    if (rc != GB_OK)
        return rc;
    size_t *quota = gb_calloc(s.n_strata, sizeof *quota);
    double *remainder = gb_malloc_array(s.n_strata, sizeof *remainder);
    size_t *tr = gb_malloc_array(n_rows - total_test, sizeof *tr);
    size_t *te = gb_malloc_array(total_test, sizeof *te);
    if (quota == NULL || remainder == NULL || tr == NULL || te == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory splitting %zu rows", n_rows);
        goto done;
    }
    /* Largest remainders: floor of each class's share, then one more to the
     * classes with the largest fractional parts until the total is met. */
    size_t assigned = 0;
    for (size_t c = 0; c < s.n_strata; c++) {
        double share =
            (double)(s.start[c + 1] - s.start[c]) * (double)total_test / (double)n_rows;
        quota[c] = (size_t)floor(share);
        remainder[c] = share - floor(share);
        assigned += quota[c];
    }
    while (assigned < total_test) {
        size_t best = s.n_strata;
        for (size_t c = 0; c < s.n_strata; c++)
            if (quota[c] < s.start[c + 1] - s.start[c] &&
                (best == s.n_strata || remainder[c] > remainder[best]))
                best = c;
        quota[best]++;
        remainder[best] = -1.0;
        assigned++;
    }
    strata_shuffle(&s, seed);
    size_t k_tr = 0, k_te = 0;
    for (size_t c = 0; c < s.n_strata; c++) {
        size_t begin = s.start[c], end = s.start[c + 1];
        for (size_t i = begin; i < end; i++) {
            if (i - begin < quota[c])
                te[k_te++] = s.rows[i];
            else
                tr[k_tr++] = s.rows[i];
        }
    }
    qsort(tr, k_tr, sizeof *tr, cmp_size);
    qsort(te, k_te, sizeof *te, cmp_size);
    *train = tr;
    *test = te;
    *n_train = k_tr;
    *n_test = k_te;
    tr = te = NULL;
done:
    gb_free(tr);
    gb_free(te);
    gb_free(remainder);
    gb_free(quota);
    strata_free(&s);
    return rc;
}

gb_status gb_split_kfold(const int32_t *y_class, size_t n_classes, size_t n_rows,
                         size_t k, uint64_t seed, int32_t **fold, gb_error *err)
{
    *fold = NULL;
    if (k < 2 || k > n_rows || k > INT32_MAX) {
        gb_error_set(err, GB_EUNUSABLE, "%zu folds for %zu rows: need 2 <= k <= rows",
                     k, n_rows);
        gb_error_field(err, "folds");
        return GB_EUNUSABLE;
    }
    strata s;
    gb_status rc = strata_build(y_class, n_classes, n_rows, &s, err);
    if (rc != GB_OK)
        return rc;
    int32_t *f = gb_malloc_array(n_rows, sizeof *f);
    if (f == NULL) {
        strata_free(&s);
        return gb_error_set(err, GB_ENOMEM, "out of memory assigning %zu folds", k);
    }
    strata_shuffle(&s, seed);
    size_t next = 0;
    for (size_t i = 0; i < n_rows; i++) {
        f[s.rows[i]] = (int32_t)next;
        next = next + 1 == k ? 0 : next + 1;
    }
    strata_free(&s);
    *fold = f;
    return GB_OK;
}
