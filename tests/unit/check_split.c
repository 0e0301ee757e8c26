/*
 * check_split.c - seeded stratified train/test splits and k-fold
 * assignments: sizes, class proportions, coverage, determinism, errors,
 * allocation failures.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/split.h"

/* 60 rows of class 0, 40 of class 1, interleaved. */
static void labels_60_40(int32_t *y)
{
    for (int i = 0; i < 100; i++)
        y[i] = (i % 5 < 3) ? 0 : 1;
}

START_TEST(test_stratified_sizes_and_coverage)
{
    int32_t y[100];
    labels_60_40(y);
    gb_error err;
    size_t *train, *test, n_train, n_test;
    ck_assert_int_eq(
        gb_split_train_test(y, 2, 100, 0.25, 7, &train, &n_train, &test, &n_test, &err),
        GB_OK);
    ck_assert_uint_eq(n_test, 25);
    ck_assert_uint_eq(n_train, 75);
    unsigned char seen[100] = {0};
    size_t test_class1 = 0;
    for (size_t i = 0; i < n_test; i++) {
        ck_assert(i == 0 || test[i] > test[i - 1]);
        seen[test[i]]++;
        test_class1 += (size_t)y[test[i]];
    }
    for (size_t i = 0; i < n_train; i++) {
        ck_assert(i == 0 || train[i] > train[i - 1]);
        seen[train[i]]++;
    }
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(seen[i], 1);
    /* 25 test rows shared 60:40 -> 15 and 10. */
    ck_assert_uint_eq(test_class1, 10);
    gb_free(train);
    gb_free(test);
}
END_TEST

START_TEST(test_largest_remainder_shares)
{
    /* Classes of 5, 3 and 2 rows, 30% test = 3 rows: shares 1.5, 0.9, 0.6 ->
     * floors 1, 0, 0; remainders give one each to class 1 (.9) and class 2
     * (.6). */
    int32_t y[10] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 2};
    gb_error err;
    size_t *train, *test, n_train, n_test;
    ck_assert_int_eq(
        gb_split_train_test(y, 3, 10, 0.3, 1, &train, &n_train, &test, &n_test, &err),
        GB_OK);
    size_t per_class[3] = {0};
    for (size_t i = 0; i < n_test; i++)
        per_class[y[test[i]]]++;
    ck_assert_uint_eq(n_test, 3);
    ck_assert_uint_eq(per_class[0], 1);
    ck_assert_uint_eq(per_class[1], 1);
    ck_assert_uint_eq(per_class[2], 1);
    gb_free(train);
    gb_free(test);
}
END_TEST

START_TEST(test_deterministic_and_seed_dependent)
{
    int32_t y[100];
    labels_60_40(y);
    gb_error err;
    size_t *a_tr, *a_te, *b_tr, *b_te, *c_tr, *c_te, n1, n2, m1, m2, k1, k2;
    ck_assert_int_eq(
        gb_split_train_test(y, 2, 100, 0.3, 42, &a_tr, &n1, &a_te, &n2, &err), GB_OK);
    ck_assert_int_eq(
        gb_split_train_test(y, 2, 100, 0.3, 42, &b_tr, &m1, &b_te, &m2, &err), GB_OK);
    ck_assert_int_eq(
        gb_split_train_test(y, 2, 100, 0.3, 43, &c_tr, &k1, &c_te, &k2, &err), GB_OK);
    ck_assert_uint_eq(n2, m2);
    ck_assert(memcmp(a_te, b_te, n2 * sizeof *a_te) == 0);
    ck_assert(memcmp(a_tr, b_tr, n1 * sizeof *a_tr) == 0);
    ck_assert_uint_eq(k2, n2);
    ck_assert(memcmp(a_te, c_te, n2 * sizeof *a_te) != 0);
    gb_free(a_tr);
    gb_free(a_te);
    gb_free(b_tr);
    gb_free(b_te);
    gb_free(c_tr);
    gb_free(c_te);
}
END_TEST

START_TEST(test_regression_one_stratum)
{
    gb_error err;
    size_t *train, *test, n_train, n_test;
    ck_assert_int_eq(
        gb_split_train_test(NULL, 0, 7, 0.5, 3, &train, &n_train, &test, &n_test, &err),
        GB_OK);
    ck_assert_uint_eq(n_test, 4); /* round(3.5) half up */
    ck_assert_uint_eq(n_train, 3);
    gb_free(train);
    gb_free(test);
}
END_TEST

START_TEST(test_kfold_balanced)
{
    int32_t y[100];
    labels_60_40(y);
    gb_error err;
    int32_t *fold;
    ck_assert_int_eq(gb_split_kfold(y, 2, 100, 3, 9, &fold, &err), GB_OK);
    size_t size[3] = {0}, class1[3] = {0};
    for (int i = 0; i < 100; i++) {
        ck_assert(fold[i] >= 0 && fold[i] < 3);
        size[fold[i]]++;
        class1[fold[i]] += (size_t)y[i];
    }
    for (int f = 0; f < 3; f++) {
        ck_assert(size[f] == 33 || size[f] == 34);
        ck_assert(class1[f] == 13 || class1[f] == 14);
    }
    int32_t *again;
    ck_assert_int_eq(gb_split_kfold(y, 2, 100, 3, 9, &again, &err), GB_OK);
    ck_assert(memcmp(fold, again, 100 * sizeof *fold) == 0);
    gb_free(fold);
    gb_free(again);
}
END_TEST

START_TEST(test_errors)
{
    int32_t y[4] = {0, 1, 0, 2};
    gb_error err;
    size_t *train, *test, n_train, n_test;
    int32_t *fold;
    ck_assert_int_eq(
        gb_split_train_test(y, 3, 4, 0.0, 1, &train, &n_train, &test, &n_test, &err),
        GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "test_fraction");
    ck_assert_int_eq(
        gb_split_train_test(y, 3, 4, 1.0, 1, &train, &n_train, &test, &n_test, &err),
        GB_EUNUSABLE);
    ck_assert_int_eq(
        gb_split_train_test(y, 3, 4, NAN, 1, &train, &n_train, &test, &n_test, &err),
        GB_EUNUSABLE);
    ck_assert_int_eq(
        gb_split_train_test(y, 3, 4, 0.1, 1, &train, &n_train, &test, &n_test, &err),
        GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "test split empty"));
    ck_assert_int_eq(
        gb_split_train_test(y, 2, 4, 0.5, 1, &train, &n_train, &test, &n_test, &err),
        GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "outside"));
    ck_assert_ptr_null(train);
    ck_assert_int_eq(gb_split_kfold(y, 3, 4, 1, 1, &fold, &err), GB_EUNUSABLE);
    ck_assert_int_eq(gb_split_kfold(y, 3, 4, 5, 1, &fold, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(fold);
}
END_TEST

START_TEST(test_allocation_failures)
{
    int32_t y[100];
    labels_60_40(y);
    int done = 0;
    for (long k = 1; k < 50 && !done; k++) {
        gb_error err;
        size_t *train = NULL, *test = NULL, n_train, n_test;
        int32_t *fold = NULL;
        gb_alloc_fail_after(k);
        gb_status a = gb_split_train_test(y, 2, 100, 0.2, 5, &train, &n_train, &test,
                                          &n_test, &err);
        gb_status b = gb_split_kfold(y, 2, 100, 4, 5, &fold, &err);
        gb_alloc_fail_after(0);
        ck_assert(a == GB_OK || (a == GB_ENOMEM && train == NULL && test == NULL));
        ck_assert(b == GB_OK || (b == GB_ENOMEM && fold == NULL));
        done = a == GB_OK && b == GB_OK;
        gb_free(train);
        gb_free(test);
        gb_free(fold);
    }
    ck_assert(done);
}
END_TEST

static Suite *split_suite(void)
{
    Suite *s = suite_create("split");
    TCase *tc = tcase_create("split");
    tcase_add_test(tc, test_stratified_sizes_and_coverage);
    tcase_add_test(tc, test_largest_remainder_shares);
    tcase_add_test(tc, test_deterministic_and_seed_dependent);
    tcase_add_test(tc, test_regression_one_stratum);
    tcase_add_test(tc, test_kfold_balanced);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_allocation_failures);
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
