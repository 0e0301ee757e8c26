/*
 * check_metrics.c - every metric against scikit-learn / scipy reference values
 * (tests/fixtures/metrics/metrics.json, written by
 * scripts/fixtures/make_metrics.py), plus argument errors and NaN rules.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tests/unit/fixture.h"
#include "core/math/metrics.h"

#define FIXTURE "tests/fixtures/metrics/metrics.json"
#define TOL 1e-12

static double *numbers(const cJSON *obj, const char *key, size_t *n)
{
    gb_error err;
    const cJSON *arr = NULL;
    double *v = NULL;
    ck_assert_int_eq(gb_json_get_array(obj, "case", key, &arr, &err), GB_OK);
    ck_assert_int_eq(gb_json_number_array(arr, key, 1000000, &v, n, &err), GB_OK);
    return v;
}

static int32_t *labels(const cJSON *obj, const char *key, size_t *n)
{
    double *v = numbers(obj, key, n);
    int32_t *y = malloc((*n + 1) * sizeof *y);
    for (size_t i = 0; i < *n; i++)
        y[i] = (int32_t)v[i];
    gb_free(v);
    return y;
}

/* Expected value: a number, or NaN for null. */
static double expected(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_msg(item != NULL, "fixture lacks %s", key);
    return cJSON_IsNull(item) ? NAN : item->valuedouble;
}

static void assert_close(const char *name, const char *metric, double got, double want)
{
    if (isnan(want)) {
        ck_assert_msg(isnan(got), "%s %s: got %.17g, want NaN", name, metric, got);
        return;
    }
    ck_assert_msg(fabs(got - want) <= TOL * fmax(1.0, fabs(want)),
                  "%s %s: got %.17g, want %.17g", name, metric, got, want);
}

START_TEST(test_classification_against_sklearn)
{
    cJSON *root = load_fixture(FIXTURE);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "classification");
    int n_cases = 0;
    const cJSON *c = NULL;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
        size_t K = (size_t)cJSON_GetObjectItemCaseSensitive(c, "n_classes")->valueint;
        size_t n = 0, n_p = 0;
        int32_t *y = labels(c, "y", &n);
        double *proba = numbers(c, "proba", &n_p);
        ck_assert_uint_eq(n_p, n * K);
        gb_error err;
        double v = 0;
        ck_assert_int_eq(gb_metric_accuracy(y, proba, n, K, &v, &err), GB_OK);
        assert_close(name, "accuracy", v, expected(c, "accuracy"));
        ck_assert_int_eq(gb_metric_auc(y, proba, n, K, &v, &err), GB_OK);
        assert_close(name, "auc", v, expected(c, "auc"));
        assert_close(name, "gini", gb_metric_gini(v), expected(c, "gini"));
        ck_assert_int_eq(gb_metric_ks(y, proba, n, K, &v, &err), GB_OK);
        assert_close(name, "ks", v, expected(c, "ks"));
        ck_assert_int_eq(gb_metric_logloss(y, proba, n, K, &v, &err), GB_OK);
        assert_close(name, "logloss", v, expected(c, "logloss"));
        ck_assert_int_eq(gb_metric_brier(y, proba, n, K, &v, &err), GB_OK);
        assert_close(name, "brier", v, expected(c, "brier"));
        if (K == 2) {
            double *p1 = malloc(n * sizeof *p1);
            for (size_t i = 0; i < n; i++)
                p1[i] = proba[2 * i + 1];
            ck_assert_int_eq(gb_metric_auc_scores(y, 1, p1, n, &v, &err), GB_OK);
            assert_close(name, "auc_scores", v, expected(c, "auc"));
            free(p1);
        }
        free(y);
        gb_free(proba);
        n_cases++;
    }
    ck_assert_int_ge(n_cases, 12);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_proba_clamp)
{
    ck_assert(gb_proba_clamp(0.0) == GB_PROBA_EPS);
    ck_assert(gb_proba_clamp(-3.0) == GB_PROBA_EPS);
    ck_assert(gb_proba_clamp(1.0) == 1.0 - GB_PROBA_EPS);
    ck_assert(gb_proba_clamp(0.25) == 0.25);
    ck_assert(gb_proba_clamp(GB_PROBA_EPS) == GB_PROBA_EPS);
    ck_assert(isnan(gb_proba_clamp(NAN)));
}
END_TEST

START_TEST(test_regression_against_sklearn)
{
    cJSON *root = load_fixture(FIXTURE);
    const cJSON *c = NULL;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "regression"))
    {
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
        size_t n = 0, n2 = 0;
        double *y = numbers(c, "y", &n);
        double *pred = numbers(c, "pred", &n2);
        ck_assert_uint_eq(n, n2);
        gb_error err;
        double v = 0;
        ck_assert_int_eq(gb_metric_rmse(y, pred, n, &v, &err), GB_OK);
        assert_close(name, "rmse", v, expected(c, "rmse"));
        ck_assert_int_eq(gb_metric_mae(y, pred, n, &v, &err), GB_OK);
        assert_close(name, "mae", v, expected(c, "mae"));
        ck_assert_int_eq(gb_metric_r2(y, pred, n, &v, &err), GB_OK);
        assert_close(name, "r2", v, expected(c, "r2"));
        gb_free(y);
        gb_free(pred);
        n_cases++;
    }
    ck_assert_int_ge(n_cases, 6);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_agreement_kl_against_numpy)
{
    cJSON *root = load_fixture(FIXTURE);
    const cJSON *c = NULL;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "agreement"))
    {
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
        size_t K = (size_t)cJSON_GetObjectItemCaseSensitive(c, "n_classes")->valueint;
        size_t nt = 0, ns = 0;
        double *t = numbers(c, "teacher", &nt);
        double *s = numbers(c, "student", &ns);
        ck_assert_uint_eq(nt, ns);
        gb_error err;
        double v = 0;
        ck_assert_int_eq(gb_metric_agreement(t, s, nt / K, K, &v, &err), GB_OK);
        assert_close(name, "agreement", v, expected(c, "agreement"));
        ck_assert_int_eq(gb_metric_kl(t, s, nt / K, K, &v, &err), GB_OK);
        assert_close(name, "kl", v, expected(c, "kl"));
        gb_free(t);
        gb_free(s);
        n_cases++;
    }
    ck_assert_int_ge(n_cases, 3);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_spearman_against_scipy)
{
    cJSON *root = load_fixture(FIXTURE);
    const cJSON *c = NULL;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "spearman"))
    {
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
        size_t na = 0, nb = 0;
        double *a = numbers(c, "a", &na);
        double *b = numbers(c, "b", &nb);
        ck_assert_uint_eq(na, nb);
        gb_error err;
        double v = 0;
        ck_assert_int_eq(gb_metric_spearman(a, b, na, &v, &err), GB_OK);
        assert_close(name, "spearman", v, expected(c, "spearman"));
        gb_free(a);
        gb_free(b);
        n_cases++;
    }
    ck_assert_int_ge(n_cases, 5);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_rank_average_ties)
{
    const double v[] = {3.0, 1.0, 3.0, 2.0, 3.0, 1.0};
    double r[6];
    gb_error err;
    ck_assert_int_eq(gb_rank_average(v, 6, r, &err), GB_OK);
    const double want[] = {5.0, 1.5, 5.0, 3.0, 5.0, 1.5};
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq(r[i], want[i]);
    size_t order[6];
    ck_assert_int_eq(gb_sort_order(v, 6, order, &err), GB_OK);
    const size_t want_order[] = {1, 5, 3, 0, 2, 4};
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(order[i], want_order[i]);
}
END_TEST

START_TEST(test_argmax_ties_lowest_index)
{
    const double row[] = {0.25, 0.5, 0.5, 0.25};
    ck_assert_int_eq(gb_argmax(row, 4), 1);
    const double nan_first[] = {NAN, 0.1, 0.9};
    ck_assert_int_eq(gb_argmax(nan_first, 3), 2);
}
END_TEST

START_TEST(test_label_out_of_range_is_error)
{
    const int32_t y[] = {0, 1, 2};
    const double proba[] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    gb_error err;
    gb_error_clear(&err);
    double v = 42.0;
    ck_assert_int_eq(gb_metric_auc(y, proba, 3, 2, &v, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
    ck_assert_ptr_nonnull(strstr(err.message, "row 2"));
    ck_assert_double_eq(v, 42.0);
    const int32_t neg[] = {0, -1};
    ck_assert_int_eq(gb_metric_logloss(neg, proba, 2, 2, &v, &err), GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "row 1"));
}
END_TEST

START_TEST(test_too_few_classes_is_error)
{
    const int32_t y[] = {0, 0};
    const double proba[] = {1.0, 1.0};
    gb_error err;
    double v = 0;
    ck_assert_int_eq(gb_metric_accuracy(y, proba, 2, 1, &v, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "n_classes");
    ck_assert_int_eq(gb_metric_kl(proba, proba, 2, 1, &v, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "n_classes");
}
END_TEST

START_TEST(test_nan_rules)
{
    gb_error err;
    double v = 0;
    /* no rows */
    ck_assert_int_eq(gb_metric_accuracy(NULL, NULL, 0, 2, &v, &err), GB_OK);
    ck_assert(isnan(v));
    ck_assert_int_eq(gb_metric_rmse(NULL, NULL, 0, &v, &err), GB_OK);
    ck_assert(isnan(v));
    /* a non-finite probability */
    const int32_t y[] = {0, 1};
    const double proba[] = {0.3, 0.7, NAN, 0.2};
    ck_assert_int_eq(gb_metric_auc(y, proba, 2, 2, &v, &err), GB_OK);
    ck_assert(isnan(v));
    ck_assert_int_eq(gb_metric_logloss(y, proba, 2, 2, &v, &err), GB_OK);
    ck_assert(isnan(v));
    const double a[] = {1.0, INFINITY}, b[] = {1.0, 2.0};
    ck_assert_int_eq(gb_metric_spearman(a, b, 2, &v, &err), GB_OK);
    ck_assert(isnan(v));
    ck_assert_int_eq(gb_metric_r2(b, a, 2, &v, &err), GB_OK);
    ck_assert(isnan(v));
    ck_assert(isnan(gb_metric_gini(NAN)));
}
END_TEST

START_TEST(test_weighted_presorted_equals_duplication)
{
    /* Weights 2 on a row equal listing that row twice. */
    const int32_t y[] = {0, 1, 0, 1, 1};
    const double s[] = {0.2, 0.2, 0.6, 0.9, 0.4};
    const double w[] = {2, 1, 0, 3, 1};
    const int32_t y2[] = {0, 0, 1, 1, 1, 1, 1};
    const double s2[] = {0.2, 0.2, 0.2, 0.9, 0.9, 0.9, 0.4};
    size_t order[5], order2[7];
    gb_error err;
    ck_assert_int_eq(gb_sort_order(s, 5, order, &err), GB_OK);
    ck_assert_int_eq(gb_sort_order(s2, 7, order2, &err), GB_OK);
    double a = gb_metric_auc_presorted(y, 1, s, order, w, 5);
    double b = gb_metric_auc_presorted(y2, 1, s2, order2, NULL, 7);
    ck_assert_double_eq_tol(a, b, 1e-15);
    /* 2 negatives at 0.2; positives 0.2 (x1) 0.4, 0.9 x3: (0.5*2 + 2 + 2*3)/10 */
    ck_assert_double_eq_tol(a, 0.9, 1e-15);
    double k1 = gb_metric_ks_presorted(y, 1, s, order, w, 5);
    double k2 = gb_metric_ks_presorted(y2, 1, s2, order2, NULL, 7);
    ck_assert_double_eq_tol(k1, k2, 1e-15);
    ck_assert_double_eq_tol(k1, 0.8, 1e-15);
}
END_TEST

START_TEST(test_allocation_failure_leaves_output)
{
    const int32_t y[] = {0, 1, 0, 1};
    const double proba[] = {0.9, 0.1, 0.4, 0.6, 0.6, 0.4, 0.2, 0.8};
    gb_error err;
    double v = -7.0;
    for (long nth = 1; nth <= 10; nth++) {
        gb_alloc_fail_after(nth);
        gb_status st = gb_metric_auc(y, proba, 4, 2, &v, &err);
        gb_alloc_fail_after(0);
        if (st == GB_OK)
            break;
        ck_assert_int_eq(st, GB_ENOMEM);
        ck_assert_double_eq(v, -7.0);
    }
    ck_assert_double_eq(v, 1.0);
    v = -7.0;
    const double a[] = {1, 2, 3}, b[] = {3, 1, 2};
    gb_alloc_fail_after(2);
    ck_assert_int_eq(gb_metric_spearman(a, b, 3, &v, &err), GB_ENOMEM);
    gb_alloc_fail_after(0);
    ck_assert_double_eq(v, -7.0);
}
END_TEST

/* scikit-learn: roc_curve([0,0,1,1], [0.1,0.4,0.35,0.8], drop_intermediate=False)
 * gives fpr [0,0,0.5,0.5,1], tpr [0,0.5,0.5,1,1]; with the scores 0.4 and 0.35
 * tied (both 0.4) the two middle points merge. */
START_TEST(test_roc_curve)
{
    int32_t y[] = {0, 0, 1, 1};
    double s[] = {0.1, 0.4, 0.35, 0.8};
    double *fpr = NULL, *tpr = NULL;
    size_t n = 0;
    gb_error err;
    ck_assert_int_eq(gb_metric_roc_curve(y, 1, s, 4, 100, &fpr, &tpr, &n, &err), GB_OK);
    double ef[] = {0, 0, 0.5, 0.5, 1}, et[] = {0, 0.5, 0.5, 1, 1};
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++)
        ck_assert(fpr[i] == ef[i] && tpr[i] == et[i]);
    gb_free(fpr);
    gb_free(tpr);
    double tied[] = {0.1, 0.4, 0.4, 0.8};
    ck_assert_int_eq(gb_metric_roc_curve(y, 1, tied, 4, 100, &fpr, &tpr, &n, &err),
                     GB_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert(fpr[2] == 0.5 && tpr[2] == 1.0);
    gb_free(fpr);
    gb_free(tpr);

    /* The trapezoid area under the full curve is the AUC; a thinned curve
     * keeps its end points. */
    size_t m = 1000;
    int32_t *yy = malloc(m * sizeof *yy);
    double *ss = malloc(m * sizeof *ss);
    for (size_t i = 0; i < m; i++) {
        ss[i] = sin((double)i * 0.7) + (double)(i % 3) * 0.2;
        yy[i] = ss[i] + cos((double)i * 1.3) * 0.8 > 0.2;
    }
    ck_assert_int_eq(gb_metric_roc_curve(yy, 1, ss, m, 100000, &fpr, &tpr, &n, &err),
                     GB_OK);
    double area = 0.0, auc = 0.0;
    for (size_t i = 1; i < n; i++)
        area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2.0;
    ck_assert_int_eq(gb_metric_auc_scores(yy, 1, ss, m, &auc, &err), GB_OK);
    ck_assert(fabs(area - auc) < 1e-12);
    gb_free(fpr);
    gb_free(tpr);
    ck_assert_int_eq(gb_metric_roc_curve(yy, 1, ss, m, 11, &fpr, &tpr, &n, &err),
                     GB_OK);
    ck_assert_uint_eq(n, 11);
    ck_assert(fpr[0] == 0 && tpr[0] == 0 && fpr[10] == 1 && tpr[10] == 1);
    for (size_t i = 1; i < n; i++)
        ck_assert(fpr[i] >= fpr[i - 1] && tpr[i] >= tpr[i - 1]);
    gb_free(fpr);
    gb_free(tpr);
    int32_t one[] = {1, 1};
    double two[] = {0.2, 0.3};
    ck_assert_int_eq(gb_metric_roc_curve(one, 1, two, 2, 10, &fpr, &tpr, &n, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_null(fpr);
    free(yy);
    free(ss);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_proba_clamp);
    tcase_add_test(tc, test_roc_curve);
    tcase_add_test(tc, test_classification_against_sklearn);
    tcase_add_test(tc, test_regression_against_sklearn);
    tcase_add_test(tc, test_agreement_kl_against_numpy);
    tcase_add_test(tc, test_spearman_against_scipy);
    tcase_add_test(tc, test_rank_average_ties);
    tcase_add_test(tc, test_argmax_ties_lowest_index);
    tcase_add_test(tc, test_label_out_of_range_is_error);
    tcase_add_test(tc, test_too_few_classes_is_error);
    tcase_add_test(tc, test_nan_rules);
    tcase_add_test(tc, test_weighted_presorted_equals_duplication);
    tcase_add_test(tc, test_allocation_failure_leaves_output);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
