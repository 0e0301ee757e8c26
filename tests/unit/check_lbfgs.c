/*
 * check_lbfgs.c - L-BFGS on Rosenbrock and a quadratic with a known minimum;
 * OWL-QN on a lasso problem solved by scikit-learn (tests/fixtures/linear).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tests/unit/fixture.h"
#include "core/math/lbfgs.h"

static double *numbers(const cJSON *obj, const char *key, size_t *n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_ptr_nonnull(arr);
    /* flatten one level of nesting */
    size_t count = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        count += cJSON_IsArray(it) ? (size_t)cJSON_GetArraySize(it) : 1;
    }
    double *v = malloc(count * sizeof *v);
    size_t k = 0;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsArray(it)) {
            const cJSON *u;
            cJSON_ArrayForEach(u, it) v[k++] = u->valuedouble;
        } else {
            v[k++] = it->valuedouble;
        }
    }
    *n = count;
    return v;
}

/* ---- Rosenbrock (extended, n even) ------------------------------------------ */

static size_t rosen_calls;

static double rosenbrock(void *ctx, const double *x, double *g)
{
    size_t n = *(const size_t *)ctx;
    double f = 0.0;
    rosen_calls++;
    for (size_t i = 0; i < n; i += 2) {
        double t1 = 1.0 - x[i], t2 = 10.0 * (x[i + 1] - x[i] * x[i]);
        g[i + 1] = 20.0 * t2;
        g[i] = -2.0 * (x[i] * g[i + 1] + t1);
        f += t1 * t1 + t2 * t2;
    }
    return f;
}

START_TEST(test_rosenbrock)
{
    size_t n = 10;
    double x[10];
    for (size_t i = 0; i < n; i += 2) {
        x[i] = -1.2;
        x[i + 1] = 1.0;
    }
    gb_lbfgs_params p;
    gb_lbfgs_params_init(&p);
    p.gtol = 1e-10;
    p.ftol = 0.0;
    gb_lbfgs_result res;
    gb_error err;
    rosen_calls = 0;
    ck_assert_int_eq(gb_lbfgs_minimize(n, x, rosenbrock, &n, &p, NULL, &res, &err),
                     GB_OK);
    ck_assert_int_eq(res.stop, GB_LBFGS_GTOL);
    ck_assert_uint_eq(res.n_eval, rosen_calls);
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq_tol(x[i], 1.0, 1e-8);
    ck_assert(res.f < 1e-16);
    ck_assert(res.n_iter < 200);

    /* Deterministic: the same run gives bit-identical iterates. */
    double x2[10];
    for (size_t i = 0; i < n; i += 2) {
        x2[i] = -1.2;
        x2[i + 1] = 1.0;
    }
    gb_lbfgs_result res2;
    ck_assert_int_eq(gb_lbfgs_minimize(n, x2, rosenbrock, &n, &p, NULL, &res2, &err),
                     GB_OK);
    ck_assert(memcmp(x, x2, sizeof x) == 0);
    ck_assert_uint_eq(res.n_eval, res2.n_eval);
}
END_TEST

/* ---- quadratic 1/2 x'Ax - b'x, A = tridiag(-1, 4, -1) -------------------------- */

#define QN 20
static double quadratic(void *ctx, const double *x, double *g)
{
    const double *b = ctx;
    double f = 0.0;
    for (size_t i = 0; i < QN; i++) {
        double ax = 4.0 * x[i];
        if (i > 0)
            ax -= x[i - 1];
        if (i + 1 < QN)
            ax -= x[i + 1];
        g[i] = ax - b[i];
        f += 0.5 * x[i] * ax - b[i] * x[i];
    }
    return f;
}

START_TEST(test_quadratic_known_minimum)
{
    /* Choose the minimiser x* = (1, -2, 3, ...) and set b = A x*. */
    double xs[QN], b[QN], x[QN], g[QN];
    for (size_t i = 0; i < QN; i++)
        xs[i] = (double)(i + 1) * (i % 2 ? -1.0 : 1.0) * 0.5;
    memset(b, 0, sizeof b);
    double fstar = quadratic(b, xs, g); /* g = A x* */
    (void)fstar;
    memcpy(b, g, sizeof b);
    memset(x, 0, sizeof x);
    gb_lbfgs_params p;
    gb_lbfgs_params_init(&p);
    p.gtol = 1e-12;
    p.ftol = 0.0;
    gb_lbfgs_result res;
    gb_error err;
    ck_assert_int_eq(gb_lbfgs_minimize(QN, x, quadratic, b, &p, NULL, &res, &err),
                     GB_OK);
    for (size_t i = 0; i < QN; i++)
        ck_assert_double_eq_tol(x[i], xs[i], 1e-11);
    ck_assert(res.n_iter <= 40);
    /* f* = -1/2 b'x* */
    double fmin = 0.0;
    for (size_t i = 0; i < QN; i++)
        fmin -= 0.5 * b[i] * xs[i];
    ck_assert_double_eq_tol(res.f, fmin, 1e-10);
}
END_TEST

/* ---- lasso: (1/2n)||y - Xw - b||^2 + alpha ||w||_1 ------------------------------ */

typedef struct lasso_ctx {
    const double *X, *y;
    size_t n, p;
} lasso_ctx;

static double lasso_smooth(void *ctx, const double *w, double *g)
{
    const lasso_ctx *c = ctx;
    double f = 0.0;
    memset(g, 0, (c->p + 1) * sizeof *g);
    for (size_t i = 0; i < c->n; i++) {
        double r = w[c->p];
        for (size_t j = 0; j < c->p; j++)
            r += c->X[i * c->p + j] * w[j];
        r -= c->y[i];
        f += 0.5 * r * r;
        for (size_t j = 0; j < c->p; j++)
            g[j] += r * c->X[i * c->p + j] / (double)c->n;
        g[c->p] += r / (double)c->n;
    }
    return f / (double)c->n;
}

START_TEST(test_owlqn_lasso_matches_sklearn)
{
    cJSON *fx = load_fixture("tests/fixtures/linear/lasso.json");
    size_t nx, ny, nc;
    double *X = numbers(fx, "X", &nx);
    double *y = numbers(fx, "y", &ny);
    double *coef = numbers(fx, "coef", &nc);
    double alpha = cJSON_GetObjectItem(fx, "alpha")->valuedouble;
    double intercept = cJSON_GetObjectItem(fx, "intercept")->valuedouble;
    lasso_ctx c = {X, y, ny, nx / ny};
    ck_assert_uint_eq(c.p, nc);
    double w[9] = {0};
    unsigned char mask[9];
    memset(mask, 1, sizeof mask);
    mask[c.p] = 0; /* the intercept is not penalised */
    gb_lbfgs_params p;
    gb_lbfgs_params_init(&p);
    p.l1 = alpha;
    p.l1_mask = mask;
    p.gtol = 1e-12;
    p.ftol = 0.0;
    p.max_iter = 2000;
    gb_lbfgs_result res;
    gb_error err;
    ck_assert_int_eq(
        gb_lbfgs_minimize(c.p + 1, w, lasso_smooth, &c, &p, NULL, &res, &err), GB_OK);
    size_t zeros = 0;
    for (size_t j = 0; j < c.p; j++) {
        ck_assert_double_eq_tol(w[j], coef[j], 1e-7);
        if (coef[j] == 0.0) {
            zeros++;
            ck_assert(w[j] == 0.0); /* exact zeros, as coordinate descent */
        }
    }
    ck_assert(zeros >= 2);
    ck_assert_double_eq_tol(w[c.p], intercept, 1e-7);
    free(X);
    free(y);
    free(coef);
    cJSON_Delete(fx);
}
END_TEST

static double nan_at_start(void *ctx, const double *x, double *g)
{
    (void)ctx;
    g[0] = 0.0;
    return x[0] == 0.0 ? NAN : 1.0;
}

START_TEST(test_nonfinite_start_is_an_error)
{
    double x[1] = {0.0};
    gb_lbfgs_params p;
    gb_lbfgs_params_init(&p);
    gb_error err;
    ck_assert_int_eq(gb_lbfgs_minimize(1, x, nan_at_start, NULL, &p, NULL, NULL, &err),
                     GB_EUNUSABLE);
}
END_TEST

START_TEST(test_cancel_and_alloc_failure)
{
    size_t n = 10;
    double x[10] = {0}, x0[10] = {0};
    gb_lbfgs_params p;
    gb_lbfgs_params_init(&p);
    gb_error err;
    atomic_int flag = 1;
    gb_progress prog = {NULL, NULL, &flag};
    ck_assert_int_eq(gb_lbfgs_minimize(n, x, rosenbrock, &n, &p, &prog, NULL, &err),
                     GB_ECANCELLED);
    gb_alloc_fail_after(1);
    ck_assert_int_eq(gb_lbfgs_minimize(n, x, rosenbrock, &n, &p, NULL, NULL, &err),
                     GB_ENOMEM);
    gb_alloc_fail_after(0);
    ck_assert(memcmp(x, x0, sizeof x) == 0);
}
END_TEST

static Suite *lbfgs_suite(void)
{
    Suite *s = suite_create("lbfgs");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rosenbrock);
    tcase_add_test(tc, test_quadratic_known_minimum);
    tcase_add_test(tc, test_owlqn_lasso_matches_sklearn);
    tcase_add_test(tc, test_nonfinite_start_is_an_error);
    tcase_add_test(tc, test_cancel_and_alloc_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lbfgs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
