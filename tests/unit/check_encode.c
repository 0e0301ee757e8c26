/*
 * check_encode.c - feature specs, binding by name, the design matrix
 * (numeric, one-hot, codes), standardisation statistics, number formatting.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/encode.h"
#include "core/math/rng.h"

/* Rows: x numeric, c categorical {"a","b","c"} with a missing row, n numeric
 * small integers. */
static gb_table *sample_table(void)
{
    gb_error err;
    double x[5] = {1.5, NAN, -2, 0, 10};
    const char *c[5] = {"b", "a", NULL, "c", "b"};
    double n[5] = {3, 1, 2, NAN, 3};
    gb_table *t = gb_table_create(5, &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(gb_table_add_numeric(t, "x", x, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_categorical(t, "c", c, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_numeric(t, "n", n, &err), GB_OK);
    return t;
}

static void assert_same(double got, double want)
{
    if (isnan(want))
        ck_assert_msg(isnan(got), "expected NaN, got %g", got);
    else
        ck_assert_msg(got == want, "expected %g, got %g", want, got);
}

START_TEST(test_format_double_shortest)
{
    char buf[32];
    struct {
        double v;
        const char *text;
    } cases[] = {{3, "3"},
                 {0.1, "0.1"},
                 {2.5, "2.5"},
                 {1e300, "1e+300"},
                 {-7, "-7"},
                 {1.0 / 3, "0.3333333333333333"},
                 {5e-324, "5e-324"},
                 {123456789, "123456789"},
                 {10, "10"},
                 {1e16, "1e+16"},
                 {1e15, "1000000000000000"},
                 {1e-5, "1e-05"},
                 {0.0001, "0.0001"},
                 {1.2345678901234567e16, "1.2345678901234568e+16"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gb_format_double(cases[i].v, buf);
        ck_assert_str_eq(buf, cases[i].text);
    }
    gb_format_double(NAN, buf);
    ck_assert_str_eq(buf, "nan");
    gb_format_double(-INFINITY, buf);
    ck_assert_str_eq(buf, "-inf");
    gb_rng rng;
    gb_rng_seed(&rng, 11);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = gb_rng_u64(&rng);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        gb_format_double(v, buf);
        ck_assert(strtod(buf, NULL) == v);
        ck_assert(strlen(buf) <= 24);
    }
}
END_TEST

START_TEST(test_features_from_table)
{
    gb_error err;
    gb_table *t = sample_table();
    gb_feature *f = NULL;
    size_t n = 0;
    ck_assert_int_eq(gb_features_from_table(t, NULL, 1, &f, &n, &err), GB_OK);
    ck_assert_uint_eq(n, 5);
    const char *names[5] = {"x", "c=a", "c=b", "c=c", "n"};
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(f[i].name, names[i]);
        ck_assert_int_eq(f[i].kind, GB_FEAT_NUMERIC);
    }
    gb_features_free(f, n);

    unsigned char exclude[3] = {1, 0, 0};
    ck_assert_int_eq(gb_features_from_table(t, exclude, 0, &f, &n, &err), GB_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(f[0].name, "c");
    ck_assert_int_eq(f[0].kind, GB_FEAT_CATEGORICAL);
    ck_assert_uint_eq(f[0].n_levels, 3);
    ck_assert_str_eq(f[0].levels[2], "c");
    ck_assert_str_eq(f[1].name, "n");

    gb_feature *copy = NULL;
    ck_assert_int_eq(gb_features_copy(f, n, &copy, &err), GB_OK);
    ck_assert_ptr_ne(copy[0].levels, f[0].levels);
    ck_assert_str_eq(copy[0].levels[1], "b");
    gb_features_free(copy, n);
    gb_features_free(f, n);
    gb_table_free(t);
}
END_TEST

START_TEST(test_design_numeric_and_one_hot)
{
    gb_error err;
    gb_table *t = sample_table();
    gb_feature f[5] = {{"c=b", GB_FEAT_NUMERIC, NULL, 0},
                       {"x", GB_FEAT_NUMERIC, NULL, 0},
                       {"c=zzz", GB_FEAT_NUMERIC, NULL, 0},
                       {"n=3", GB_FEAT_NUMERIC, NULL, 0},
                       {"n", GB_FEAT_NUMERIC, NULL, 0}};
    gb_design *d = gb_design_bind(f, 5, t, &err);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(gb_design_n_features(d), 5);
    double X[25];
    gb_design_fill(d, NULL, 0, 5, X);
    double expect[25] = {1, 1.5, 0, 1, 3, 0,   NAN, 0, 0,  1, NAN, -2, NAN,
                         0, 2,   0, 0, 0, NAN, NAN, 1, 10, 0, 1,   3};
    for (int i = 0; i < 25; i++)
        assert_same(X[i], expect[i]);
    /* A row subset, and a row offset. */
    size_t rows[2] = {4, 0};
    double Y[10];
    gb_design_fill(d, rows, 0, 2, Y);
    for (int j = 0; j < 5; j++) {
        assert_same(Y[j], expect[20 + j]);
        assert_same(Y[5 + j], expect[j]);
    }
    gb_design_fill(d, NULL, 3, 2, Y);
    for (int i = 0; i < 10; i++)
        assert_same(Y[i], expect[15 + i]);
    gb_design_free(d);
    gb_table_free(t);
}
END_TEST

START_TEST(test_design_literal_name_wins_over_one_hot)
{
    gb_error err;
    double a[2] = {1, 2};
    double lit[2] = {7, 8};
    gb_table *t = gb_table_create(2, &err);
    ck_assert_int_eq(gb_table_add_numeric(t, "a", a, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_numeric(t, "a=1", lit, &err), GB_OK);
    gb_feature f[1] = {{"a=1", GB_FEAT_NUMERIC, NULL, 0}};
    gb_design *d = gb_design_bind(f, 1, t, &err);
    double X[2];
    gb_design_fill(d, NULL, 0, 2, X);
    ck_assert(X[0] == 7 && X[1] == 8);
    gb_design_free(d);
    gb_table_free(t);
}
END_TEST

START_TEST(test_design_categorical_codes)
{
    gb_error err;
    gb_table *t = sample_table();
    /* The model knows levels in its own order, one unknown to the data ("d"),
     * and lacks "a". */
    char *c_levels[3] = {"c", "d", "b"};
    char *n_levels[4] = {"1", "3.0", "3", "x"};
    gb_feature f[2] = {{"c", GB_FEAT_CATEGORICAL, c_levels, 3},
                       {"n", GB_FEAT_CATEGORICAL, n_levels, 4}};
    gb_design *d = gb_design_bind(f, 2, t, &err);
    ck_assert_ptr_nonnull(d);
    double X[10];
    gb_design_fill(d, NULL, 0, 5, X);
    /* c: b a NA c b -> 2 NaN NaN 0 2; n: 3 1 2 NA 3 -> 2 0 NaN NaN 2. */
    double expect[10] = {2, 2, NAN, 0, NAN, NAN, 0, NAN, 2, 2};
    for (int i = 0; i < 10; i++)
        assert_same(X[i], expect[i]);
    gb_design_free(d);
    gb_table_free(t);
}
END_TEST

START_TEST(test_design_missing_features_listed)
{
    gb_error err;
    gb_table *t = sample_table();
    gb_feature f[4] = {{"x", GB_FEAT_NUMERIC, NULL, 0},
                       {"age", GB_FEAT_NUMERIC, NULL, 0},
                       {"q=1", GB_FEAT_NUMERIC, NULL, 0},
                       {"zip", GB_FEAT_CATEGORICAL, NULL, 0}};
    ck_assert_ptr_null(gb_design_bind(f, 4, t, &err));
    ck_assert_int_eq(err.code, GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "age");
    ck_assert_ptr_nonnull(strstr(err.message, "3 feature(s)"));
    ck_assert_ptr_nonnull(strstr(err.message, "age, q=1, zip"));
    gb_table_free(t);
}
END_TEST

START_TEST(test_design_numeric_feature_on_categorical_column)
{
    gb_error err;
    gb_table *t = sample_table();
    gb_feature f[1] = {{"c", GB_FEAT_NUMERIC, NULL, 0}};
    ck_assert_ptr_null(gb_design_bind(f, 1, t, &err));
    ck_assert_int_eq(err.code, GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(
        err.message, "c (a number for the model, text such as \"a\" in the data)"));
    ck_assert_ptr_nonnull(strstr(err.message, "missing from the data or not numbers"));
    gb_table_free(t);
    /* Levels that are all numbers are read as numbers. */
    const char *labels[3] = {"2", NULL, "0.5"};
    t = gb_table_create(3, &err);
    ck_assert_int_eq(gb_table_add_categorical(t, "c", labels, &err), GB_OK);
    gb_design *d = gb_design_bind(f, 1, t, &err);
    ck_assert_ptr_nonnull(d);
    double X[3];
    gb_design_fill(d, NULL, 0, 3, X);
    ck_assert(X[0] == 2 && isnan(X[1]) && X[2] == 0.5);
    gb_design_free(d);
    gb_table_free(t);
}
END_TEST

START_TEST(test_standardize_stats)
{
    /* Column 0: 1,2,3,NaN -> mean 2, population sd sqrt(2/3); column 1
     * constant; column 2 all missing. */
    double X[12] = {1, 5, NAN, 2, 5, NAN, 3, 5, NAN, NAN, 5, NAN};
    double mean[3], scale[3];
    gb_standardize_stats(X, 4, 3, mean, scale);
    ck_assert_double_eq_tol(mean[0], 2.0, 1e-15);
    ck_assert_double_eq_tol(scale[0], sqrt(2.0 / 3.0), 1e-15);
    ck_assert_double_eq(mean[1], 5.0);
    ck_assert_double_eq(scale[1], 1.0);
    ck_assert_double_eq(mean[2], 0.0);
    ck_assert_double_eq(scale[2], 1.0);
    double Y[3] = {0.1, 0.1, 0.1};
    gb_standardize_stats(Y, 3, 1, mean, scale);
    ck_assert_double_eq(scale[0], 1.0);
}
END_TEST

START_TEST(test_allocation_failures)
{
    gb_table *t = sample_table();
    char *c_levels[2] = {"a", "b"};
    gb_feature f[3] = {{"c", GB_FEAT_CATEGORICAL, c_levels, 2},
                       {"n", GB_FEAT_CATEGORICAL, c_levels, 2},
                       {"c=a", GB_FEAT_NUMERIC, NULL, 0}};
    int done = 0;
    for (long k = 1; k < 200 && !done; k++) {
        gb_error err;
        gb_feature *all = NULL, *copy = NULL;
        size_t n = 0;
        gb_alloc_fail_after(k);
        gb_status a = gb_features_from_table(t, NULL, 1, &all, &n, &err);
        gb_status b = gb_features_copy(f, 3, &copy, &err);
        gb_design *d = gb_design_bind(f, 3, t, &err);
        gb_alloc_fail_after(0);
        ck_assert(a == GB_OK || (a == GB_ENOMEM && all == NULL));
        ck_assert(b == GB_OK || (b == GB_ENOMEM && copy == NULL));
        ck_assert(d != NULL || err.code == GB_ENOMEM);
        done = a == GB_OK && b == GB_OK && d != NULL;
        gb_features_free(all, n);
        gb_features_free(copy, 3);
        gb_design_free(d);
    }
    ck_assert(done);
    gb_table_free(t);
}
END_TEST

static Suite *encode_suite(void)
{
    Suite *s = suite_create("encode");
    TCase *tc = tcase_create("encode");
    tcase_add_test(tc, test_format_double_shortest);
    tcase_add_test(tc, test_features_from_table);
    tcase_add_test(tc, test_design_numeric_and_one_hot);
    tcase_add_test(tc, test_design_literal_name_wins_over_one_hot);
    tcase_add_test(tc, test_design_categorical_codes);
    tcase_add_test(tc, test_design_missing_features_listed);
    tcase_add_test(tc, test_design_numeric_feature_on_categorical_column);
    tcase_add_test(tc, test_standardize_stats);
    tcase_add_test(tc, test_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(encode_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
