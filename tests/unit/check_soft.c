/*
 * check_soft.c - teacher logits, tempered soft targets and blended targets
 * against numpy/scipy (tests/fixtures/distill/soft.json, written by
 * scripts/fixtures/make_metrics.py), and parameter errors.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/distill/soft.h"
#include "core/json.h"
#include "tests/unit/fixture.h"

#define FIXTURE "tests/fixtures/distill/soft.json"
#define TOL 1e-12

static void assert_all_close(const char *name, const char *what, const double *got,
                             const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= TOL * fmax(1.0, fabs(want[i])),
                      "%s %s[%zu]: got %.17g, want %.17g", name, what, i, got[i],
                      want[i]);
}

START_TEST(test_soft_targets_against_numpy)
{
    cJSON *root = load_fixture(FIXTURE);
    const cJSON *c = NULL;
    int n_cases = 0;
    cJSON_ArrayForEach(c, fixture_item(root, "classification"))
    {
        const char *name = fixture_item(c, "name")->valuestring;
        size_t K = (size_t)fixture_item(c, "n_classes")->valueint;
        double T = fixture_item(c, "temperature")->valuedouble;
        double alpha = fixture_item(c, "alpha")->valuedouble;
        size_t np_ = 0, nz = 0, nq = 0, ntree = 0, ny = 0;
        double *P = fixture_numbers(c, "proba", &np_);
        double *z_want = fixture_numbers(c, "logits", &nz);
        double *q_want = fixture_numbers(c, "q", &nq);
        double *tree_want = fixture_numbers(c, "tree_target", &ntree);
        double *yd = fixture_numbers(c, "y", &ny);
        size_t n = np_ / K;
        int32_t *y = malloc(n * sizeof *y);
        for (size_t i = 0; i < n; i++)
            y[i] = (int32_t)yd[i];
        double *z = malloc(np_ * sizeof *z), *q = malloc(np_ * sizeof *q);
        gb_error err;
        ck_assert_int_eq(gb_soft_logits(P, n, K, z, &err), GB_OK);
        ck_assert_uint_eq(nz, K == 2 ? n : n * K);
        assert_all_close(name, "logits", z, z_want, nz);
        ck_assert_int_eq(gb_soft_targets(P, n, K, T, q, &err), GB_OK);
        assert_all_close(name, "q", q, q_want, nq);
        for (size_t i = 0; i < n; i++) {
            double sum = 0;
            for (size_t k = 0; k < K; k++)
                sum += q[i * K + k];
            ck_assert_double_eq_tol(sum, 1.0, 1e-14);
        }
        /* in place: out == q */
        ck_assert_int_eq(gb_soft_tree_targets(q, y, n, K, alpha, q, &err), GB_OK);
        assert_all_close(name, "tree_target", q, tree_want, ntree);
        free(P);
        free(z_want);
        free(q_want);
        free(tree_want);
        free(yd);
        free(y);
        free(z);
        free(q);
        n_cases++;
    }
    ck_assert_int_eq(n_cases, 9);
    const cJSON *r = fixture_item(root, "regression");
    size_t n = 0, nt = 0, nw = 0;
    double *yv = fixture_numbers(r, "y", &n);
    double *tv = fixture_numbers(r, "teacher", &nt);
    double *want = fixture_numbers(r, "target", &nw);
    double *out = malloc(n * sizeof *out);
    gb_error err;
    ck_assert_int_eq(gb_soft_regression_targets(
                         yv, tv, n, fixture_item(r, "alpha")->valuedouble, out, &err),
                     GB_OK);
    assert_all_close("regression", "target", out, want, n);
    free(yv);
    free(tv);
    free(want);
    free(out);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_temperature_one_is_identity)
{
    const double P[] = {0.1, 0.2, 0.7, 0.5, 0.25, 0.25};
    double q[6];
    gb_error err;
    ck_assert_int_eq(gb_soft_targets(P, 2, 3, 1.0, q, &err), GB_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq_tol(q[i], P[i], 1e-15);
    /* high temperature flattens towards uniform */
    ck_assert_int_eq(gb_soft_targets(P, 2, 3, 1e6, q, &err), GB_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq_tol(q[i], 1.0 / 3.0, 1e-5);
}
END_TEST

START_TEST(test_baseline_and_pure_distillation)
{
    const int32_t y[] = {2, 0};
    double out[6];
    gb_error err;
    /* alpha = 1: one-hot labels, q may be NULL */
    ck_assert_int_eq(gb_soft_tree_targets(NULL, y, 2, 3, 1.0, out, &err), GB_OK);
    const double onehot[] = {0, 0, 1, 1, 0, 0};
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq(out[i], onehot[i]);
    /* alpha = 0: the soft targets, y may be NULL */
    const double q[] = {0.2, 0.3, 0.5, 0.6, 0.3, 0.1};
    ck_assert_int_eq(gb_soft_tree_targets(q, NULL, 2, 3, 0.0, out, &err), GB_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq(out[i], q[i]);
    const double yv[] = {1.0, 2.0};
    double r[2];
    ck_assert_int_eq(gb_soft_regression_targets(yv, NULL, 2, 1.0, r, &err), GB_OK);
    ck_assert_double_eq(r[1], 2.0);
}
END_TEST

START_TEST(test_bad_temperature)
{
    const double bad[] = {0.0, -1.0, NAN, INFINITY};
    const double P[] = {0.5, 0.5};
    double q[2];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_error err;
        gb_error_clear(&err);
        ck_assert_int_eq(gb_soft_check(bad[i], 0.5, &err), GB_EUNUSABLE);
        ck_assert_str_eq(err.field, "temperature");
        ck_assert_int_eq(gb_soft_targets(P, 1, 2, bad[i], q, &err), GB_EUNUSABLE);
        ck_assert_str_eq(err.field, "temperature");
    }
}
END_TEST

START_TEST(test_bad_alpha)
{
    const double bad[] = {-0.01, 1.01, NAN, -INFINITY};
    const double q[] = {0.5, 0.5};
    const int32_t y[] = {0};
    double out[2];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_error err;
        gb_error_clear(&err);
        ck_assert_int_eq(gb_soft_check(1.0, bad[i], &err), GB_EUNUSABLE);
        ck_assert_str_eq(err.field, "alpha");
        ck_assert_int_eq(gb_soft_tree_targets(q, y, 1, 2, bad[i], out, &err),
                         GB_EUNUSABLE);
        ck_assert_str_eq(err.field, "alpha");
        ck_assert_int_eq(gb_soft_regression_targets(q, q, 1, bad[i], out, &err),
                         GB_EUNUSABLE);
        ck_assert_str_eq(err.field, "alpha");
    }
    gb_error err;
    ck_assert_int_eq(gb_soft_check(1.0, 0.0, &err), GB_OK);
    ck_assert_int_eq(gb_soft_check(0.01, 1.0, &err), GB_OK);
}
END_TEST

START_TEST(test_bad_teacher_probability)
{
    const double P[] = {0.5, 0.5, 0.2, 1.2, 0.3, 0.7};
    double q[6];
    gb_error err;
    ck_assert_int_eq(gb_soft_targets(P, 3, 2, 1.0, q, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "teacher");
    ck_assert_ptr_nonnull(strstr(err.message, "row 1, class 1"));
    const double Pn[] = {0.5, NAN};
    ck_assert_int_eq(gb_soft_logits(Pn, 1, 2, q, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "teacher");
    ck_assert_int_eq(gb_soft_targets(P, 3, 1, 1.0, q, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "teacher");
}
END_TEST

START_TEST(test_bad_labels_and_targets)
{
    const double q[] = {0.5, 0.5, 0.5, 0.5};
    const int32_t y[] = {0, 2};
    double out[4];
    gb_error err;
    ck_assert_int_eq(gb_soft_tree_targets(q, y, 2, 2, 0.5, out, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
    ck_assert_ptr_nonnull(strstr(err.message, "row 1"));
    ck_assert_int_eq(gb_soft_tree_targets(q, NULL, 2, 2, 0.5, out, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
    const double t[] = {1.0, INFINITY};
    const double yv[] = {1.0, 2.0};
    ck_assert_int_eq(gb_soft_regression_targets(yv, t, 2, 0.5, out, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "teacher");
    ck_assert_int_eq(gb_soft_regression_targets(t, yv, 2, 0.5, out, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
}
END_TEST

static Suite *soft_suite(void)
{
    Suite *s = suite_create("soft");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_soft_targets_against_numpy);
    tcase_add_test(tc, test_temperature_one_is_identity);
    tcase_add_test(tc, test_baseline_and_pure_distillation);
    tcase_add_test(tc, test_bad_temperature);
    tcase_add_test(tc, test_bad_alpha);
    tcase_add_test(tc, test_bad_teacher_probability);
    tcase_add_test(tc, test_bad_labels_and_targets);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(soft_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
