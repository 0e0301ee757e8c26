/*
 * check_global.c - source-column groups (one-hot columns back to their
 * column), attribution importance by hand, and permutation importance:
 * zero for unused columns, ordered by effect size, the same shuffle for the
 * same column whatever the model's feature order, seeded, independent of
 * threads; errors.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/rng.h"
#include "explain/global.h"

static gb_table *small_table(void)
{
    gb_error err;
    gb_table *t = gb_table_create(3, &err);
    double age[3] = {30, 40, 50}, eq[3] = {1, 2, 3};
    const char *city[3] = {"a", "b", "a"};
    const char *tier[3] = {"x", "y", "x"};
    ck_assert_int_eq(gb_table_add_numeric(t, "age", age, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_categorical(t, "city", city, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_numeric(t, "ratio=raw", eq, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_categorical(t, "a=b", tier, &err), GB_OK);
    return t;
}

START_TEST(test_groups)
{
    gb_table *t = small_table();
    gb_feature f[6] = {
        {"city=a", GB_FEAT_NUMERIC, NULL, 0}, {"age", GB_FEAT_NUMERIC, NULL, 0},
        {"city=b", GB_FEAT_NUMERIC, NULL, 0}, {"ratio=raw", GB_FEAT_NUMERIC, NULL, 0},
        {"a=b=x", GB_FEAT_NUMERIC, NULL, 0},  {"a=b=y", GB_FEAT_NUMERIC, NULL, 0}};
    ex_groups g;
    gb_error err;
    ck_assert_int_eq(ex_groups_build(f, 6, t, &g, &err), GB_OK);
    ck_assert_uint_eq(g.n_groups, 4);
    ck_assert_str_eq(g.names[0], "city");
    ck_assert_str_eq(g.names[1], "age");
    ck_assert_str_eq(g.names[2], "ratio=raw");
    ck_assert_str_eq(g.names[3], "a=b");
    size_t want[6] = {0, 1, 0, 2, 3, 3};
    for (size_t j = 0; j < 6; j++)
        ck_assert_uint_eq(g.group_of[j], want[j]);
    ck_assert_int_eq(ex_groups_find(&g, "age"), 1);
    ck_assert_int_eq(ex_groups_find(&g, "nope"), -1);
    ex_groups_free(&g);
    /* Without a table: the text before the first '='. */
    ck_assert_int_eq(ex_groups_build(f, 6, NULL, &g, &err), GB_OK);
    ck_assert_uint_eq(g.n_groups, 4);
    ck_assert_str_eq(g.names[2], "ratio");
    ck_assert_str_eq(g.names[3], "a");
    ex_groups_free(&g);
    ex_groups_free(NULL);
    for (long n = 1; n < 6; n++) {
        gb_alloc_fail_after(n);
        gb_status rc = ex_groups_build(f, 6, t, &g, &err);
        gb_alloc_fail_after(0);
        ck_assert(rc == GB_OK || rc == GB_ENOMEM);
        ex_groups_free(&g);
    }
    gb_table_free(t);
}
END_TEST

START_TEST(test_attribution_importance)
{
    /* 2 rows, 2 outputs, 3 features in 2 groups {0,2}, {1}. */
    size_t group_of[3] = {0, 1, 0};
    char *names[2] = {"g0", "g1"};
    ex_groups g = {2, names, 3, group_of};
    double phi[2 * 2 * 4] = {1,   2,  -3,  9,  /* row 0 out 0: g0 = -2, g1 = 2 */
                             0.5, -1, 0.5, 9,  /* row 0 out 1: g0 = 1, g1 = -1 */
                             2,   0,  2,   9,  /* row 1 out 0: g0 = 4, g1 = 0 */
                             -1,  4,  0,   9}; /* row 1 out 1: g0 = -1, g1 = 4 */
    double imp[2], local[2 * 2 * 2];
    ex_importance_from_attributions(phi, 2, 2, &g, imp, local);
    ck_assert_double_eq_tol(imp[0], (2 + 1 + 4 + 1) / 4.0, 1e-15);
    ck_assert_double_eq_tol(imp[1], (2 + 1 + 0 + 4) / 4.0, 1e-15);
    double want[8] = {-2, 2, 1, -1, 4, 0, -1, 4};
    for (size_t i = 0; i < 8; i++)
        ck_assert_double_eq(local[i], want[i]);
    ex_importance_from_attributions(phi, 0, 2, &g, imp, NULL);
    ck_assert(isnan(imp[0]));
}
END_TEST

/* Regression model f = sum_j w_j x_j with w chosen by the feature name. */
static double weight_of(const char *name)
{
    return name[0] == 'a' ? 3.0 : name[0] == 'b' ? 1.0 : name[0] == 'c' ? 0.0 : -0.5;
}

static gb_status lin_predict(const gb_model *m, const double *X, size_t n, double *out,
                             gb_error *err)
{
    if (m->n_features == 1)
        return gb_error_set(err, GB_EINTERNAL, "scoring failed on purpose");
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < m->n_features; j++)
            s += weight_of(m->features[j].name) * X[i * m->n_features + j];
        out[i] = s;
    }
    return GB_OK;
}

static const gb_model_ops lin_ops = {"linear", lin_predict, NULL, NULL, NULL, NULL};

START_TEST(test_permutation_importance)
{
    enum { NR = 200 };
    gb_feature f1[4] = {{"a", GB_FEAT_NUMERIC, NULL, 0},
                        {"b", GB_FEAT_NUMERIC, NULL, 0},
                        {"c", GB_FEAT_NUMERIC, NULL, 0},
                        {"d", GB_FEAT_NUMERIC, NULL, 0}};
    gb_feature f2[4] = {f1[3], f1[2], f1[1], f1[0]};
    gb_error err;
    gb_model *m1 =
        gb_model_create(&lin_ops, NULL, GB_TASK_REGRESSION, f1, 4, NULL, 0, &err);
    gb_model *m2 =
        gb_model_create(&lin_ops, NULL, GB_TASK_REGRESSION, f2, 4, NULL, 0, &err);
    double *X1 = malloc(NR * 4 * sizeof *X1), *X2 = malloc(NR * 4 * sizeof *X2);
    gb_rng rng;
    gb_rng_seed(&rng, 9);
    for (size_t i = 0; i < NR; i++)
        for (size_t j = 0; j < 4; j++) {
            X1[i * 4 + j] = gb_rng_normal(&rng);
            X2[i * 4 + (3 - j)] = X1[i * 4 + j];
        }
    ex_groups g1, g2;
    ck_assert_int_eq(ex_groups_build(f1, 4, NULL, &g1, &err), GB_OK);
    ck_assert_int_eq(ex_groups_build(f2, 4, NULL, &g2, &err), GB_OK);
    double i1[4], i1b[4], i2[4], i3[4];
    ck_assert_int_eq(ex_permutation_importance(m1, X1, NR, &g1, 3, 5, 1, i1, &err),
                     GB_OK);
    ck_assert_int_eq(ex_permutation_importance(m1, X1, NR, &g1, 3, 5, 2, i1b, &err),
                     GB_OK);
    ck_assert_int_eq(memcmp(i1, i1b, sizeof i1), 0);
    ck_assert_int_eq(ex_permutation_importance(m2, X2, NR, &g2, 3, 5, 2, i2, &err),
                     GB_OK);
    for (size_t j = 0; j < 4; j++)
        ck_assert_double_eq_tol(i1[j], i2[3 - j], 1e-12);
    ck_assert_double_eq(i1[2], 0.0);
    ck_assert(i1[0] > i1[1] && i1[1] > i1[3] && i1[3] > 0);
    /* E|x_pi(i) - x_i| = 2/sqrt(pi) for standard normals: a at weight 3. */
    ck_assert_double_eq_tol(i1[0], 3 * 2 / sqrt(M_PI), 0.35);
    ck_assert_int_eq(ex_permutation_importance(m1, X1, NR, &g1, 3, 6, 1, i3, &err),
                     GB_OK);
    ck_assert(i3[0] != i1[0]);
    /* Errors. */
    ck_assert_int_eq(ex_permutation_importance(m1, X1, NR, &g1, 0, 5, 1, i3, &err),
                     GB_EUNUSABLE);
    ck_assert_int_eq(ex_permutation_importance(m1, X1, 1, &g1, 1, 5, 1, i3, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "at least 2 rows"));
    gb_model *bad =
        gb_model_create(&lin_ops, NULL, GB_TASK_REGRESSION, f1, 1, NULL, 0, &err);
    ex_groups gb1;
    ck_assert_int_eq(ex_groups_build(f1, 1, NULL, &gb1, &err), GB_OK);
    ck_assert_int_eq(ex_permutation_importance(bad, X1, NR, &gb1, 1, 5, 1, i3, &err),
                     GB_EINTERNAL);
    for (long n = 1; n < 10; n++) {
        gb_alloc_fail_after(n);
        gb_status rc = ex_permutation_importance(m1, X1, NR, &g1, 1, 5, 2, i3, &err);
        gb_alloc_fail_after(0);
        ck_assert(rc == GB_OK || rc == GB_ENOMEM);
    }
    ex_groups_free(&gb1);
    ex_groups_free(&g1);
    ex_groups_free(&g2);
    gb_model_free(bad);
    gb_model_free(m1);
    gb_model_free(m2);
    free(X1);
    free(X2);
}
END_TEST

static Suite *global_suite(void)
{
    Suite *s = suite_create("global");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_groups);
    tcase_add_test(tc, test_attribution_importance);
    tcase_add_test(tc, test_permutation_importance);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(global_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
