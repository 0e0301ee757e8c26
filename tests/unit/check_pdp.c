/*
 * check_pdp.c - quantile grids (numpy's linear interpolation), level grids,
 * and PDP / ICE of additive models whose curves are known in closed form,
 * for a one-hot model and a model reading category codes on the same grid.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/pdp.h"

static const double A[4] = {1, 2, 4, 8}, B[4] = {0.5, -1, 2, 3};
static const char *C[4] = {"x", "y", "x", "z"};

static gb_table *table4(void)
{
    gb_error err;
    gb_table *t = gb_table_create(4, &err);
    ck_assert_int_eq(gb_table_add_numeric(t, "a", A, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_numeric(t, "b", B, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_categorical(t, "c", C, &err), GB_OK);
    return t;
}

/* f = 2a + b + effect(c), effect x = 1, y = 3, z = 0. */
static gb_status add_predict(const gb_model *m, const double *X, size_t n, double *out,
                             gb_error *err)
{
    (void)err;
    size_t nf = m->n_features;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * nf;
        double s = 2 * x[0] + x[1];
        if (nf == 5)
            s += x[2] * 1 + x[3] * 3;
        else
            s += x[2] == 0 ? 1 : x[2] == 1 ? 3 : 0;
        out[i] = s;
    }
    return GB_OK;
}

static const gb_model_ops add_ops = {"linear", add_predict, NULL, NULL, NULL, NULL};

START_TEST(test_grids)
{
    gb_table *t = table4();
    ex_grid g;
    gb_error err;
    ck_assert_int_eq(ex_grid_build(t, "a", NULL, 4, 3, &g, &err), GB_OK);
    ck_assert(!g.categorical);
    ck_assert_uint_eq(g.n, 3);
    /* numpy.quantile([1,2,4,8], [0, .5, 1]) = 1, 3, 8 */
    ck_assert_double_eq(g.values[0], 1);
    ck_assert_double_eq(g.values[1], 3);
    ck_assert_double_eq(g.values[2], 8);
    ex_grid_free(&g);
    /* More points than values: duplicates dropped.  quantile at 0, 1/5, ..
     * 1 of [1,2,4,8]: 1, 1.6, 2.2, 3.2, 5.6, 8 -- all distinct. */
    ck_assert_int_eq(ex_grid_build(t, "a", NULL, 4, 6, &g, &err), GB_OK);
    ck_assert_uint_eq(g.n, 6);
    ck_assert_double_eq_tol(g.values[1], 1.6, 1e-15);
    ck_assert_double_eq_tol(g.values[4], 5.6, 1e-15);
    ex_grid_free(&g);
    size_t rows[2] = {0, 2};
    ck_assert_int_eq(ex_grid_build(t, "a", rows, 2, 5, &g, &err), GB_OK);
    ck_assert_uint_eq(g.n, 5); /* 1, 1.75, 2.5, 3.25, 4 */
    ck_assert_double_eq_tol(g.values[1], 1.75, 1e-15);
    ex_grid_free(&g);
    ck_assert_int_eq(ex_grid_build(t, "c", NULL, 4, 2, &g, &err), GB_OK);
    ck_assert(g.categorical);
    ck_assert_uint_eq(g.n, 2);
    ck_assert_str_eq(g.labels[0], "x");
    ck_assert_str_eq(g.labels[1], "y");
    ex_grid_free(&g);
    ck_assert_int_eq(ex_grid_build(t, "nope", NULL, 4, 5, &g, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "nope");
    ck_assert_int_eq(ex_grid_build(t, "a", NULL, 0, 5, &g, &err), GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "no values"));
    ck_assert_int_eq(ex_grid_build(t, "a", NULL, 4, 1, &g, &err), GB_EUNUSABLE);
    for (long n = 1; n < 8; n++) {
        gb_alloc_fail_after(n);
        gb_status rc = ex_grid_build(t, "c", NULL, 4, 3, &g, &err);
        gb_alloc_fail_after(0);
        ck_assert(rc == GB_OK || rc == GB_ENOMEM);
        ex_grid_free(&g);
    }
    gb_table_free(t);
}
END_TEST

static gb_model *model_on(gb_table *t, int one_hot, double **X)
{
    gb_error err;
    gb_feature *f = NULL;
    size_t nf = 0;
    ck_assert_int_eq(gb_features_from_table(t, NULL, one_hot, &f, &nf, &err), GB_OK);
    ck_assert_uint_eq(nf, one_hot ? 5 : 3);
    gb_model *m =
        gb_model_create(&add_ops, NULL, GB_TASK_REGRESSION, f, nf, NULL, 0, &err);
    gb_design *d = gb_design_bind(f, nf, t, &err);
    *X = malloc(4 * nf * sizeof **X);
    gb_design_fill(d, NULL, 0, 4, *X);
    gb_design_free(d);
    gb_features_free(f, nf);
    return m;
}

START_TEST(test_pdp_and_ice)
{
    gb_table *t = table4();
    gb_error err;
    double *X1 = NULL, *X2 = NULL;
    gb_model *m1 = model_on(t, 1, &X1), *m2 = model_on(t, 0, &X2);
    ex_groups g1, g2;
    ck_assert_int_eq(ex_groups_build(m1->features, m1->n_features, t, &g1, &err),
                     GB_OK);
    ck_assert_int_eq(ex_groups_build(m2->features, m2->n_features, t, &g2, &err),
                     GB_OK);
    double effect[4] = {1, 3, 1, 0}, mean_b = (0.5 - 1 + 2 + 3) / 4.0;
    double mean_eff = 5 / 4.0, mean_a = 15 / 4.0;
    ex_grid ga, gc;
    ck_assert_int_eq(ex_grid_build(t, "a", NULL, 4, 3, &ga, &err), GB_OK);
    ck_assert_int_eq(ex_grid_build(t, "c", NULL, 4, 3, &gc, &err), GB_OK);
    double pdp[3], ice[2 * 3];
    size_t ice_rows[2] = {3, 1};
    gb_model *models[2] = {m1, m2};
    double *Xs[2] = {X1, X2};
    ex_groups *gs[2] = {&g1, &g2};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(
            ex_pdp(models[k], Xs[k], 4, gs[k], &ga, pdp, ice_rows, 2, ice, &err),
            GB_OK);
        for (size_t g = 0; g < 3; g++) {
            double v = ga.values[g];
            ck_assert_double_eq_tol(pdp[g], 2 * v + mean_b + mean_eff, 1e-12);
            ck_assert_double_eq_tol(ice[g], 2 * v + B[3] + effect[3], 1e-12);
            ck_assert_double_eq_tol(ice[3 + g], 2 * v + B[1] + effect[1], 1e-12);
        }
        /* Levels x, y, z (all three: x twice, y and z once). */
        ck_assert_int_eq(
            ex_pdp(models[k], Xs[k], 4, gs[k], &gc, pdp, NULL, 0, NULL, &err), GB_OK);
        ck_assert_double_eq_tol(pdp[0], 2 * mean_a + mean_b + 1, 1e-12);
        ck_assert_double_eq_tol(pdp[1], 2 * mean_a + mean_b + 3, 1e-12);
        ck_assert_double_eq_tol(pdp[2], 2 * mean_a + mean_b + 0, 1e-12);
    }
    /* The input rows are untouched. */
    ck_assert_double_eq(X1[0], 1);
    ck_assert_double_eq(X2[2], 0);
    ex_grid bad = {"zz", 0, 0, NULL, NULL};
    ck_assert_int_eq(ex_pdp(m1, X1, 4, &g1, &bad, pdp, NULL, 0, NULL, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "zz");
    ex_grid_free(&ga);
    ex_grid_free(&gc);
    ex_groups_free(&g1);
    ex_groups_free(&g2);
    gb_model_free(m1);
    gb_model_free(m2);
    free(X1);
    free(X2);
    gb_table_free(t);
}
END_TEST

static Suite *pdp_suite(void)
{
    Suite *s = suite_create("pdp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_grids);
    tcase_add_test(tc, test_pdp_and_ice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pdp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
