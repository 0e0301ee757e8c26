/*
 * check_shapley.c - sampling Shapley values: agreement with the exact values
 * of a linear model in margin space (phi_j = w_j (x_j - mean_bg_j)) and of a
 * small interaction model (exact interventional Shapley values by
 * enumerating subsets), additivity within the reported standard error,
 * seeding, thread independence and errors.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/rng.h"
#include "explain/shapley.h"

/* ---- test models ---------------------------------------------------------- */

typedef struct lin_impl {
    double w[8];
    double b;
    int fail; /* predict fails when set */
} lin_impl;

static gb_status lin_margin(const gb_model *m, const double *X, size_t n, double *out,
                            gb_error *err)
{
    const lin_impl *l = m->impl;
    if (l->fail)
        return gb_error_set(err, GB_EINTERNAL, "scoring failed on purpose");
    for (size_t i = 0; i < n; i++) {
        double s = l->b;
        for (size_t j = 0; j < m->n_features; j++)
            s += l->w[j] * X[i * m->n_features + j];
        out[i] = s;
    }
    return GB_OK;
}

static gb_status lin_predict(const gb_model *m, const double *X, size_t n, double *out,
                             gb_error *err)
{
    double *z = malloc(n * sizeof *z);
    gb_status rc = lin_margin(m, X, n, z, err);
    for (size_t i = 0; rc == GB_OK && i < n; i++) {
        out[2 * i + 1] = 1 / (1 + exp(-z[i]));
        out[2 * i] = 1 - out[2 * i + 1];
    }
    free(z);
    return rc;
}

static void lin_free(void *p)
{
    free(p);
}

static const gb_model_ops lin_ops = {"logistic", lin_predict, lin_margin,
                                     NULL,       NULL,        lin_free};

/* f = x0 * x1 + sin(x2) + 0.5 x3^2, regression, predict only. */
static gb_status inter_predict(const gb_model *m, const double *X, size_t n,
                               double *out, gb_error *err)
{
    (void)err;
    size_t nf = m->n_features;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * nf;
        out[i] = x[0] * x[1] + sin(x[2]) + 0.5 * x[3] * x[3];
    }
    return GB_OK;
}

static const gb_model_ops inter_ops = {"mlp", inter_predict, NULL, NULL, NULL, NULL};

static gb_feature feats[8] = {
    {"a", GB_FEAT_NUMERIC, NULL, 0}, {"b", GB_FEAT_NUMERIC, NULL, 0},
    {"c", GB_FEAT_NUMERIC, NULL, 0}, {"d", GB_FEAT_NUMERIC, NULL, 0},
    {"e", GB_FEAT_NUMERIC, NULL, 0}, {"f", GB_FEAT_NUMERIC, NULL, 0},
    {"g", GB_FEAT_NUMERIC, NULL, 0}, {"h", GB_FEAT_NUMERIC, NULL, 0}};

static gb_model *linear_model(size_t nf, int fail)
{
    lin_impl *l = calloc(1, sizeof *l);
    for (size_t j = 0; j < nf; j++)
        l->w[j] = (j % 2 ? -1.0 : 1.0) * (0.5 + (double)j);
    l->b = 0.3;
    l->fail = fail;
    char *classes[2] = {"good", "bad"};
    gb_error err;
    gb_model *m =
        gb_model_create(&lin_ops, l, GB_TASK_BINARY, feats, nf, classes, 2, &err);
    ck_assert_ptr_nonnull(m);
    return m;
}

static double *normal_rows(uint64_t seed, size_t n, size_t nf)
{
    gb_rng rng;
    gb_rng_seed(&rng, seed);
    double *X = malloc(n * nf * sizeof *X);
    for (size_t i = 0; i < n * nf; i++)
        X[i] = gb_rng_normal(&rng) + (double)(i % nf);
    return X;
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(test_linear_matches_exact_within_se)
{
    enum { NF = 6, NR = 10, NB = 50 };
    gb_model *m = linear_model(NF, 0);
    ck_assert_uint_eq(ex_output_width(m), 1);
    double *X = normal_rows(1, NR, NF), *bg = normal_rows(2, NB, NF);
    double phi[NR * (NF + 1)], se[NR * (NF + 1)], mean_bg[NF] = {0};
    for (size_t r = 0; r < NB; r++)
        for (size_t j = 0; j < NF; j++)
            mean_bg[j] += bg[r * NF + j] / NB;
    ex_shapley_params p = {64, 7, 1};
    gb_error err;
    ck_assert_int_eq(ex_shapley(m, X, NR, bg, NB, &p, phi, se, &err), GB_OK);
    const lin_impl *l = m->impl;
    double bias = l->b;
    for (size_t j = 0; j < NF; j++)
        bias += l->w[j] * mean_bg[j];
    size_t within_2se = 0;
    for (size_t i = 0; i < NR; i++) {
        for (size_t j = 0; j < NF; j++) {
            double exact = l->w[j] * (X[i * NF + j] - mean_bg[j]);
            double got = phi[i * (NF + 1) + j], s = se[i * (NF + 1) + j];
            ck_assert_msg(s > 0, "se %g", s);
            ck_assert_msg(fabs(got - exact) <= 4 * s,
                          "row %zu feature %zu: %g vs %g (se %g)", i, j, got, exact, s);
            within_2se += fabs(got - exact) <= 2 * s;
        }
        ck_assert_double_eq_tol(phi[i * (NF + 1) + NF], bias, 1e-12);
    }
    /* About 95% of draws should fall within 2 standard errors. */
    ck_assert_msg(within_2se >= (size_t)(0.8 * NR * NF), "%zu of %d", within_2se,
                  NR * NF);
    free(X);
    free(bg);
    gb_model_free(m);
}
END_TEST

/* Exact interventional Shapley value of feature j for the interaction model:
 * v(S) = mean over background z of f(x_S, z_rest). */
static double exact_inter(const gb_model *m, const double *x, const double *bg,
                          size_t nb, size_t nf, size_t j)
{
    double phi = 0, fact[9] = {1, 1, 2, 6, 24, 120, 720, 5040, 40320};
    double *row = malloc(nf * sizeof *row);
    for (unsigned s = 0; s < (1u << nf); s++) {
        if (s & (1u << j))
            continue;
        unsigned size = (unsigned)__builtin_popcount(s);
        double w = fact[size] * fact[nf - size - 1] / fact[nf], with = 0, without = 0;
        for (size_t r = 0; r < nb; r++) {
            for (size_t k = 0; k < nf; k++)
                row[k] = (s & (1u << k)) ? x[k] : bg[r * nf + k];
            double f0 = 0, f1 = 0;
            inter_predict(m, row, 1, &f0, NULL);
            row[j] = x[j];
            inter_predict(m, row, 1, &f1, NULL);
            without += f0 / (double)nb;
            with += f1 / (double)nb;
        }
        phi += w * (with - without);
    }
    free(row);
    return phi;
}

START_TEST(test_interactions_match_exact_and_add_up)
{
    enum { NF = 4, NR = 6, NB = 20 };
    gb_error err;
    gb_model *m =
        gb_model_create(&inter_ops, NULL, GB_TASK_REGRESSION, feats, NF, NULL, 0, &err);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(ex_output_width(m), 1);
    double *X = normal_rows(3, NR, NF), *bg = normal_rows(4, NB, NF);
    double phi[NR * (NF + 1)], se[NR * (NF + 1)], fx[NR], fbg[NB], ebg = 0;
    ex_shapley_params p = {400, 11, 2};
    ck_assert_int_eq(ex_shapley(m, X, NR, bg, NB, &p, phi, se, &err), GB_OK);
    inter_predict(m, X, NR, fx, NULL);
    inter_predict(m, bg, NB, fbg, NULL);
    for (size_t r = 0; r < NB; r++)
        ebg += fbg[r] / NB;
    for (size_t i = 0; i < NR; i++) {
        const double *ph = phi + i * (NF + 1), *s = se + i * (NF + 1);
        double sum = 0;
        for (size_t j = 0; j < NF; j++) {
            sum += ph[j];
            double exact = exact_inter(m, X + i * NF, bg, NB, NF, j);
            ck_assert_msg(fabs(ph[j] - exact) <= 4 * s[j] + 1e-12,
                          "row %zu feature %zu: %g vs exact %g (se %g)", i, j, ph[j],
                          exact, s[j]);
        }
        ck_assert_double_eq_tol(ph[NF], ebg, 1e-12);
        /* Additivity: sum + E f = f(x) within the reported error of the sum. */
        ck_assert_msg(fabs(sum + ph[NF] - fx[i]) <= 4 * s[NF] + 1e-12,
                      "row %zu: %g + %g vs %g (se %g)", i, sum, ph[NF], fx[i], s[NF]);
    }
    free(X);
    free(bg);
    gb_model_free(m);
}
END_TEST

START_TEST(test_seeded_and_thread_independent)
{
    enum { NF = 5, NR = 23, NB = 30 };
    gb_model *m = linear_model(NF, 0);
    double *X = normal_rows(5, NR, NF), *bg = normal_rows(6, NB, NF);
    size_t n = NR * (NF + 1);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b),
           *c = malloc(n * sizeof *c);
    double *sa = malloc(n * sizeof *sa), *sb = malloc(n * sizeof *sb);
    gb_error err;
    ex_shapley_params p1 = {9, 42, 1}, p2 = {9, 42, 2}, p3 = {9, 43, 2};
    ck_assert_int_eq(ex_shapley(m, X, NR, bg, NB, &p1, a, sa, &err), GB_OK);
    ck_assert_int_eq(ex_shapley(m, X, NR, bg, NB, &p2, b, sb, &err), GB_OK);
    ck_assert_int_eq(ex_shapley(m, X, NR, bg, NB, &p3, c, NULL, &err), GB_OK);
    ck_assert_int_eq(memcmp(a, b, n * sizeof *a), 0);
    ck_assert_int_eq(memcmp(sa, sb, n * sizeof *sa), 0);
    ck_assert_int_ne(memcmp(a, c, n * sizeof *a), 0);
    /* A row's values do not depend on the other rows. */
    ck_assert_int_eq(ex_shapley(m, X, 1, bg, NB, &p2, c, NULL, &err), GB_OK);
    ck_assert_int_eq(memcmp(a, c, (NF + 1) * sizeof *a), 0);
    free(a);
    free(b);
    free(c);
    free(sa);
    free(sb);
    free(X);
    free(bg);
    gb_model_free(m);
}
END_TEST

START_TEST(test_errors)
{
    enum { NF = 3 };
    gb_model *m = linear_model(NF, 0), *bad = linear_model(NF, 1);
    double X[2 * NF] = {1, 2, 3, 4, 5, 6}, phi[2 * (NF + 1)];
    gb_error err;
    ex_shapley_params p = {1, 0, 1};
    ck_assert_int_eq(ex_shapley(m, X, 2, X, 2, &p, phi, NULL, &err), GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "at least 2 permutations"));
    p.n_permutations = 4;
    ck_assert_int_eq(ex_shapley(m, X, 2, X, 0, &p, phi, NULL, &err), GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "non-empty background"));
    ck_assert_int_eq(ex_shapley(bad, X, 2, X, 2, &p, phi, NULL, &err), GB_EINTERNAL);
    ck_assert_str_eq(err.message, "scoring failed on purpose");
    for (long n = 1; n < 8; n++) {
        gb_alloc_fail_after(n);
        gb_status rc = ex_shapley(m, X, 2, X, 2, &p, phi, NULL, &err);
        gb_alloc_fail_after(0);
        ck_assert(rc == GB_OK || rc == GB_ENOMEM);
    }
    gb_model_free(m);
    gb_model_free(bad);
}
END_TEST

START_TEST(test_sample_indices)
{
    size_t a[10], b[10], c[5];
    ck_assert_uint_eq(ex_sample_indices(100, 10, 3, a), 10);
    ck_assert_uint_eq(ex_sample_indices(100, 10, 3, b), 10);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    for (size_t i = 1; i < 10; i++)
        ck_assert_uint_lt(a[i - 1], a[i]);
    ck_assert_uint_lt(a[9], 100);
    ck_assert_uint_eq(ex_sample_indices(5, 10, 3, c), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(c[i], i);
    ck_assert_uint_eq(ex_sample_indices(100, 10, 4, b), 10);
    ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
}
END_TEST

static Suite *shapley_suite(void)
{
    Suite *s = suite_create("shapley");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_linear_matches_exact_within_se);
    tcase_add_test(tc, test_interactions_match_exact_and_add_up);
    tcase_add_test(tc, test_seeded_and_thread_independent);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_sample_indices);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(shapley_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
