/*
 * check_split.c - train/test splits and k-fold assignments: sizes,
 * stratification, determinism, coverage, edge cases and errors; exact rows
 * against an independent Python port of the RNG and the split rule
 * (tests/fixtures/metrics/split.json, scripts/fixtures/make_metrics.py).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/split.h"
#include "core/json.h"
#include "tests/unit/fixture.h"

#define FIXTURE "tests/fixtures/metrics/split.json"

/* counts[c] rows of class c, spread over the rows by a stride of 7 so the
 * classes are interleaved (n must be coprime with 7). */
static int32_t *make_labels(const size_t *counts, size_t n_classes, size_t *n_out)
{
    size_t n = 0;
    for (size_t c = 0; c < n_classes; c++)
        n += counts[c];
    int32_t *y = malloc(n * sizeof *y);
    size_t pos = 0;
    for (size_t c = 0; c < n_classes; c++)
        for (size_t j = 0; j < counts[c]; j++)
            y[(pos++ * 7) % n] = (int32_t)c; /* n coprime with 7 in these tests */
    *n_out = n;
    return y;
}

static void assert_partition(const gb_split *s, size_t n_rows)
{
    ck_assert_uint_eq(s->n_train + s->n_test, n_rows);
    unsigned char *seen = calloc(n_rows, 1);
    for (size_t i = 0; i < s->n_train; i++) {
        ck_assert_uint_lt(s->train[i], n_rows);
        if (i > 0)
            ck_assert_uint_lt(s->train[i - 1], s->train[i]);
        ck_assert_int_eq(seen[s->train[i]], 0);
        seen[s->train[i]] = 1;
    }
    for (size_t i = 0; i < s->n_test; i++) {
        ck_assert_uint_lt(s->test[i], n_rows);
        if (i > 0)
            ck_assert_uint_lt(s->test[i - 1], s->test[i]);
        ck_assert_int_eq(seen[s->test[i]], 0);
        seen[s->test[i]] = 1;
    }
    free(seen);
}

START_TEST(test_stratified_sizes_and_proportions)
{
    const size_t counts[] = {700, 290, 12};
    size_t n = 0;
    int32_t *y = make_labels(counts, 3, &n);
    gb_split s;
    gb_error err;
    ck_assert_int_eq(gb_split_train_test(y, 3, n, 0.25, 1, &s, &err), GB_OK);
    assert_partition(&s, n);
    /* round(175) + round(72.5) + round(3) = 175 + 73 + 3 */
    ck_assert_uint_eq(s.n_test, 251);
    size_t per_class[3] = {0};
    for (size_t i = 0; i < s.n_test; i++)
        per_class[y[s.test[i]]]++;
    ck_assert_uint_eq(per_class[0], 175);
    ck_assert_uint_eq(per_class[1], 73);
    ck_assert_uint_eq(per_class[2], 3);
    gb_split_free(&s);
    free(y);
}
END_TEST

START_TEST(test_same_seed_same_split_other_seed_differs)
{
    const size_t counts[] = {60, 41};
    size_t n = 0;
    int32_t *y = make_labels(counts, 2, &n);
    gb_split a, b, c;
    gb_error err;
    ck_assert_int_eq(gb_split_train_test(y, 2, n, 0.3, 99, &a, &err), GB_OK);
    ck_assert_int_eq(gb_split_train_test(y, 2, n, 0.3, 99, &b, &err), GB_OK);
    ck_assert_int_eq(gb_split_train_test(y, 2, n, 0.3, 100, &c, &err), GB_OK);
    ck_assert_uint_eq(a.n_test, b.n_test);
    ck_assert_int_eq(memcmp(a.test, b.test, a.n_test * sizeof *a.test), 0);
    ck_assert_int_eq(memcmp(a.train, b.train, a.n_train * sizeof *a.train), 0);
    ck_assert_uint_eq(a.n_test, c.n_test); /* sizes follow the rule, not the seed */
    ck_assert_int_ne(memcmp(a.test, c.test, a.n_test * sizeof *a.test), 0);
    gb_split_free(&a);
    gb_split_free(&b);
    gb_split_free(&c);
    free(y);
}
END_TEST

START_TEST(test_matches_python_port)
{
    cJSON *root = load_fixture(FIXTURE);
    const cJSON *c = NULL;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "train_test"))
    {
        const cJSON *jy = cJSON_GetObjectItemCaseSensitive(c, "y");
        size_t n = (size_t)cJSON_GetObjectItemCaseSensitive(c, "n_rows")->valueint;
        size_t K = (size_t)cJSON_GetObjectItemCaseSensitive(c, "n_classes")->valueint;
        double frac = cJSON_GetObjectItemCaseSensitive(c, "test_fraction")->valuedouble;
        uint64_t seed = strtoull(
            cJSON_GetObjectItemCaseSensitive(c, "seed")->valuestring, NULL, 10);
        int32_t *y = NULL;
        if (!cJSON_IsNull(jy)) {
            y = malloc(n * sizeof *y);
            for (size_t i = 0; i < n; i++)
                y[i] = (int32_t)cJSON_GetArrayItem(jy, (int)i)->valueint;
        }
        gb_split s;
        gb_error err;
        ck_assert_int_eq(gb_split_train_test(y, K, n, frac, seed, &s, &err), GB_OK);
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "test");
        ck_assert_uint_eq(s.n_test, (size_t)cJSON_GetArraySize(want));
        for (size_t i = 0; i < s.n_test; i++)
            ck_assert_uint_eq(s.test[i],
                              (size_t)cJSON_GetArrayItem(want, (int)i)->valueint);
        assert_partition(&s, n);
        gb_split_free(&s);
        free(y);
        n_cases++;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "kfold"))
    {
        const cJSON *jy = cJSON_GetObjectItemCaseSensitive(c, "y");
        size_t n = (size_t)cJSON_GetObjectItemCaseSensitive(c, "n_rows")->valueint;
        size_t K = (size_t)cJSON_GetObjectItemCaseSensitive(c, "n_classes")->valueint;
        size_t k = (size_t)cJSON_GetObjectItemCaseSensitive(c, "k")->valueint;
        uint64_t seed = strtoull(
            cJSON_GetObjectItemCaseSensitive(c, "seed")->valuestring, NULL, 10);
        int32_t *y = NULL;
        if (!cJSON_IsNull(jy)) {
            y = malloc(n * sizeof *y);
            for (size_t i = 0; i < n; i++)
                y[i] = (int32_t)cJSON_GetArrayItem(jy, (int)i)->valueint;
        }
        uint32_t *fold = malloc(n * sizeof *fold);
        gb_error err;
        ck_assert_int_eq(gb_split_kfold(y, K, n, k, seed, fold, &err), GB_OK);
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "fold");
        for (size_t i = 0; i < n; i++)
            ck_assert_uint_eq(fold[i],
                              (uint32_t)cJSON_GetArrayItem(want, (int)i)->valueint);
        free(fold);
        free(y);
        n_cases++;
    }
    ck_assert_int_eq(n_cases, 5);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_class_of_one_row_stays_in_train)
{
    /* class 1 has one row, class 2 two rows (round(0.5) = 1 goes to test) */
    const int32_t y[] = {0, 0, 0, 0, 1, 0, 0, 2, 0, 2, 0};
    gb_split s;
    gb_error err;
    ck_assert_int_eq(gb_split_train_test(y, 3, 11, 0.25, 5, &s, &err), GB_OK);
    assert_partition(&s, 11);
    size_t per_class[3] = {0};
    for (size_t i = 0; i < s.n_test; i++)
        per_class[y[s.test[i]]]++;
    ck_assert_uint_eq(per_class[0], 2); /* round(8 * 0.25) */
    ck_assert_uint_eq(per_class[1], 0);
    ck_assert_uint_eq(per_class[2], 1);
    gb_split_free(&s);
    /* a large fraction still leaves one training row per class */
    ck_assert_int_eq(gb_split_train_test(y, 3, 11, 0.99, 5, &s, &err), GB_OK);
    ck_assert_uint_eq(s.n_train, 3);
    gb_split_free(&s);
}
END_TEST

START_TEST(test_regression_split)
{
    gb_split s;
    gb_error err;
    ck_assert_int_eq(gb_split_train_test(NULL, 0, 10, 0.25, 3, &s, &err), GB_OK);
    ck_assert_uint_eq(s.n_test, 3); /* floor(2.5 + 0.5) */
    assert_partition(&s, 10);
    gb_split_free(&s);
    ck_assert_int_eq(gb_split_train_test(NULL, 0, 2, 0.01, 3, &s, &err), GB_OK);
    ck_assert_uint_eq(s.n_test, 1); /* at least one test row */
    ck_assert_uint_eq(s.n_train, 1);
    gb_split_free(&s);
}
END_TEST

START_TEST(test_bad_fraction_is_error)
{
    const double bad[] = {0.0, 1.0, -0.1, 1.5, NAN};
    const int32_t y[] = {0, 1, 0, 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_split s;
        gb_error err;
        gb_error_clear(&err);
        ck_assert_int_eq(gb_split_train_test(y, 2, 4, bad[i], 0, &s, &err),
                         GB_EUNUSABLE);
        ck_assert_str_eq(err.field, "test_fraction");
        ck_assert_ptr_null(s.train);
        ck_assert_ptr_null(s.test);
    }
}
END_TEST

START_TEST(test_empty_test_side_is_error)
{
    const int32_t y[] = {0, 1, 2};
    gb_split s;
    gb_error err;
    ck_assert_int_eq(gb_split_train_test(y, 3, 3, 0.3, 0, &s, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "test_fraction");
    ck_assert_ptr_nonnull(strstr(err.message, "empty"));
    ck_assert_int_eq(gb_split_train_test(y, 3, 1, 0.3, 0, &s, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "n_rows");
}
END_TEST

START_TEST(test_bad_label_is_error)
{
    const int32_t y[] = {0, 1, 3, 1};
    gb_split s;
    gb_error err;
    ck_assert_int_eq(gb_split_train_test(y, 2, 4, 0.5, 0, &s, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
    ck_assert_ptr_nonnull(strstr(err.message, "row 2"));
    uint32_t fold[4] = {7, 7, 7, 7};
    ck_assert_int_eq(gb_split_kfold(y, 2, 4, 2, 0, fold, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
    ck_assert_uint_eq(fold[0], 7);
}
END_TEST

START_TEST(test_kfold_stratified_balanced)
{
    const size_t counts[] = {53, 23, 3};
    size_t n = 0;
    int32_t *y = make_labels(counts, 3, &n);
    const size_t k = 5;
    uint32_t *fold = malloc(n * sizeof *fold), *again = malloc(n * sizeof *again);
    gb_error err;
    ck_assert_int_eq(gb_split_kfold(y, 3, n, k, 11, fold, &err), GB_OK);
    ck_assert_int_eq(gb_split_kfold(y, 3, n, k, 11, again, &err), GB_OK);
    ck_assert_int_eq(memcmp(fold, again, n * sizeof *fold), 0);
    size_t size[5] = {0}, per[5][3] = {{0}};
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt(fold[i], k);
        size[fold[i]]++;
        per[fold[i]][y[i]]++;
    }
    for (size_t f = 0; f < k; f++) {
        ck_assert(size[f] == n / k || size[f] == n / k + 1);
        for (size_t c = 0; c < 3; c++)
            ck_assert(per[f][c] == counts[c] / k || per[f][c] == counts[c] / k + 1);
        gb_split s;
        ck_assert_int_eq(gb_split_fold(fold, n, (uint32_t)f, &s, &err), GB_OK);
        ck_assert_uint_eq(s.n_test, size[f]);
        assert_partition(&s, n);
        gb_split_free(&s);
    }
    ck_assert_int_eq(gb_split_kfold(y, 3, n, k, 12, again, &err), GB_OK);
    ck_assert_int_ne(memcmp(fold, again, n * sizeof *fold), 0);
    free(fold);
    free(again);
    free(y);
}
END_TEST

START_TEST(test_kfold_errors)
{
    uint32_t fold[4] = {0};
    gb_error err;
    ck_assert_int_eq(gb_split_kfold(NULL, 0, 4, 1, 0, fold, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "k");
    ck_assert_int_eq(gb_split_kfold(NULL, 0, 4, 5, 0, fold, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "k");
    ck_assert_int_eq(gb_split_kfold(NULL, 0, 4, 4, 0, fold, &err), GB_OK);
    gb_split s;
    ck_assert_int_eq(gb_split_fold(fold, 4, 9, &s, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "fold");
    ck_assert_ptr_null(s.test);
}
END_TEST

START_TEST(test_allocation_failure)
{
    const int32_t y[] = {0, 1, 0, 1, 0, 1, 0, 1};
    gb_error err;
    for (long nth = 1; nth <= 6; nth++) {
        gb_split s;
        gb_alloc_fail_after(nth);
        gb_status st = gb_split_train_test(y, 2, 8, 0.5, 0, &s, &err);
        gb_alloc_fail_after(0);
        if (st == GB_OK) {
            ck_assert_int_eq(nth, 6);
            gb_split_free(&s);
            break;
        }
        ck_assert_int_eq(st, GB_ENOMEM);
        ck_assert_ptr_null(s.train);
        ck_assert_ptr_null(s.test);
    }
    gb_split_free(NULL);
}
END_TEST

static Suite *split_suite(void)
{
    Suite *s = suite_create("split");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_stratified_sizes_and_proportions);
    tcase_add_test(tc, test_same_seed_same_split_other_seed_differs);
    tcase_add_test(tc, test_matches_python_port);
    tcase_add_test(tc, test_class_of_one_row_stays_in_train);
    tcase_add_test(tc, test_regression_split);
    tcase_add_test(tc, test_bad_fraction_is_error);
    tcase_add_test(tc, test_empty_test_side_is_error);
    tcase_add_test(tc, test_bad_label_is_error);
    tcase_add_test(tc, test_kfold_stratified_balanced);
    tcase_add_test(tc, test_kfold_errors);
    tcase_add_test(tc, test_allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(split_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
