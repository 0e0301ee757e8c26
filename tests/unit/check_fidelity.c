/*
 * check_fidelity.c - the metrics block M and the fidelity block: every field
 * against numpy/scipy/scikit-learn references
 * (tests/fixtures/distill/fidelity.json, scripts/fixtures/make_metrics.py),
 * the bootstrap's determinism and thread independence, the JSON shape of
 * API.md, and errors.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/distill/fidelity.h"
#include "core/json.h"
#include "tests/unit/fixture.h"
#include "core/math/metrics.h"

#define FIXTURE "tests/fixtures/distill/fidelity.json"
#define METRICS_FIXTURE "tests/fixtures/metrics/metrics.json"
#define TOL 1e-12

static int32_t *labels(const cJSON *obj, const char *key, size_t *n)
{
    const cJSON *arr = fixture_item(obj, key);
    if (cJSON_IsNull(arr))
        return NULL;
    *n = (size_t)cJSON_GetArraySize(arr);
    int32_t *y = malloc((*n + 1) * sizeof *y);
    size_t i = 0;
    const cJSON *x = NULL;
    cJSON_ArrayForEach(x, arr) y[i++] = (int32_t)x->valueint;
    return y;
}

static double expected(const cJSON *obj, const char *key)
{
    const cJSON *it = fixture_item(obj, key);
    return cJSON_IsNull(it) ? NAN : it->valuedouble;
}

static void assert_close(const char *name, const char *what, double got, double want)
{
    if (isnan(want)) {
        ck_assert_msg(isnan(got), "%s %s: got %.17g, want NaN", name, what, got);
        return;
    }
    ck_assert_msg(fabs(got - want) <= TOL * fmax(1.0, fabs(want)),
                  "%s %s: got %.17g, want %.17g", name, what, got, want);
}

static gb_task task_of(const char *name)
{
    if (strcmp(name, "binary") == 0)
        return GB_TASK_BINARY;
    if (strcmp(name, "multiclass") == 0)
        return GB_TASK_MULTICLASS;
    return GB_TASK_REGRESSION;
}

START_TEST(test_fidelity_against_reference)
{
    cJSON *root = load_fixture(FIXTURE);
    const cJSON *c = NULL;
    int n_cases = 0;
    cJSON_ArrayForEach(c, fixture_item(root, "fidelity"))
    {
        const char *name = fixture_item(c, "name")->valuestring;
        gb_task task = task_of(fixture_item(c, "task")->valuestring);
        size_t K = (size_t)fixture_item(c, "n_classes")->valueint;
        size_t nt = 0, ns = 0, ny = 0;
        double *t = fixture_numbers(c, "teacher", &nt);
        double *s = fixture_numbers(c, "student", &ns);
        int32_t *y = labels(c, "y", &ny);
        size_t n = task == GB_TASK_REGRESSION ? nt : nt / K;
        gb_fidelity_params p;
        gb_fidelity_params_default(&p);
        p.cutoff = fixture_item(c, "cutoff")->valuedouble;
        p.n_bootstrap = 0;
        gb_fidelity f;
        gb_error err;
        ck_assert_int_eq(gb_fidelity_compute(task, n, K, t, s, y, &p, &f, &err), GB_OK);
        assert_close(name, "agreement", f.agreement, expected(c, "agreement"));
        assert_close(name, "r2", f.r2, expected(c, "r2"));
        assert_close(name, "kl", f.kl, expected(c, "kl"));
        assert_close(name, "mae", f.mae, expected(c, "mae"));
        assert_close(name, "spearman", f.spearman, expected(c, "spearman"));
        assert_close(name, "auc_vs_teacher", f.auc_vs_teacher,
                     expected(c, "auc_vs_teacher"));
        assert_close(name, "agreement_at_cutoff", f.agreement_at_cutoff,
                     expected(c, "agreement_at_cutoff"));
        const cJSON *dec = fixture_item(c, "deciles");
        ck_assert_uint_eq(f.n_deciles, (size_t)cJSON_GetArraySize(dec));
        for (size_t g = 0; g < f.n_deciles; g++) {
            const cJSON *d = cJSON_GetArrayItem(dec, (int)g);
            ck_assert_int_eq(f.deciles[g].decile, fixture_item(d, "decile")->valueint);
            assert_close(name, "teacher_mean", f.deciles[g].teacher_mean,
                         expected(d, "teacher_mean"));
            assert_close(name, "student_mean", f.deciles[g].student_mean,
                         expected(d, "student_mean"));
            assert_close(name, "decile agreement", f.deciles[g].agreement,
                         expected(d, "agreement"));
        }
        ck_assert(isnan(f.ci_agreement[0]) && isnan(f.ci_auc[1])); /* B = 0 */
        free(t);
        free(s);
        free(y);
        n_cases++;
    }
    ck_assert_int_eq(n_cases, 5);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_percentile_against_numpy)
{
    cJSON *root = load_fixture(FIXTURE);
    const cJSON *c = NULL;
    int n_cases = 0;
    cJSON_ArrayForEach(c, fixture_item(root, "percentile"))
    {
        const char *name = fixture_item(c, "name")->valuestring;
        size_t n = 0;
        double *v = fixture_numbers(c, "v", &n);
        assert_close(name, "p2.5", gb_percentile_inplace(v, n, 2.5),
                     expected(c, "p2_5"));
        assert_close(name, "p97.5", gb_percentile_inplace(v, n, 97.5),
                     expected(c, "p97_5"));
        assert_close(name, "p50", gb_percentile_inplace(v, n, 50), expected(c, "p50"));
        free(v);
        n_cases++;
    }
    ck_assert_int_eq(n_cases, 3);
    double none[] = {NAN, NAN};
    ck_assert(isnan(gb_percentile_inplace(none, 2, 50)));
    ck_assert(isnan(gb_percentile_inplace(none, 0, 50)));
    cJSON_Delete(root);
}
END_TEST

/* Loads fixture case `which` (0 = binary, 3 = multi3) for bootstrap tests. */
typedef struct loaded {
    gb_task task;
    size_t n, K;
    double *t, *s;
    int32_t *y;
} loaded;

static loaded load_case(int which)
{
    cJSON *root = load_fixture(FIXTURE);
    const cJSON *c = cJSON_GetArrayItem(fixture_item(root, "fidelity"), which);
    loaded L;
    size_t nt = 0, ns = 0, ny = 0;
    L.task = task_of(fixture_item(c, "task")->valuestring);
    L.K = (size_t)fixture_item(c, "n_classes")->valueint;
    L.t = fixture_numbers(c, "teacher", &nt);
    L.s = fixture_numbers(c, "student", &ns);
    L.y = labels(c, "y", &ny);
    L.n = nt / L.K;
    cJSON_Delete(root);
    return L;
}

static void free_case(loaded *L)
{
    free(L->t);
    free(L->s);
    free(L->y);
}

static void check_bootstrap(int which)
{
    loaded L = load_case(which);
    gb_fidelity_params p;
    gb_fidelity_params_default(&p);
    ck_assert_uint_eq(p.n_bootstrap, 200);
    ck_assert_double_eq(p.cutoff, 0.5);
    p.seed = 17;
    gb_fidelity a, b, c, d;
    gb_error err;
    p.n_threads = 1;
    ck_assert_int_eq(gb_fidelity_compute(L.task, L.n, L.K, L.t, L.s, L.y, &p, &a, &err),
                     GB_OK);
    ck_assert_int_eq(gb_fidelity_compute(L.task, L.n, L.K, L.t, L.s, L.y, &p, &b, &err),
                     GB_OK);
    p.n_threads = 4;
    ck_assert_int_eq(gb_fidelity_compute(L.task, L.n, L.K, L.t, L.s, L.y, &p, &c, &err),
                     GB_OK);
    /* identical bits whatever the thread count */
    ck_assert_int_eq(memcmp(a.ci_agreement, b.ci_agreement, sizeof a.ci_agreement), 0);
    ck_assert_int_eq(memcmp(a.ci_auc, b.ci_auc, sizeof a.ci_auc), 0);
    ck_assert_int_eq(memcmp(a.ci_agreement, c.ci_agreement, sizeof a.ci_agreement), 0);
    ck_assert_int_eq(memcmp(a.ci_auc, c.ci_auc, sizeof a.ci_auc), 0);
    /* another seed, another interval */
    p.seed = 18;
    ck_assert_int_eq(gb_fidelity_compute(L.task, L.n, L.K, L.t, L.s, L.y, &p, &d, &err),
                     GB_OK);
    ck_assert(memcmp(a.ci_auc, d.ci_auc, sizeof a.ci_auc) != 0 ||
              memcmp(a.ci_agreement, d.ci_agreement, sizeof a.ci_agreement) != 0);
    /* the interval brackets the point estimate and is not degenerate */
    double auc = NAN;
    ck_assert_int_eq(gb_metric_auc(L.y, L.s, L.n, L.K, &auc, &err), GB_OK);
    ck_assert(a.ci_agreement[0] <= a.agreement && a.agreement <= a.ci_agreement[1]);
    ck_assert(a.ci_agreement[0] < a.ci_agreement[1]);
    ck_assert(a.ci_auc[0] <= auc && auc <= a.ci_auc[1]);
    ck_assert(a.ci_auc[0] < a.ci_auc[1]);
    ck_assert(a.ci_auc[0] >= 0.0 && a.ci_auc[1] <= 1.0);
    free_case(&L);
}

START_TEST(test_bootstrap_binary)
{
    check_bootstrap(0);
}
END_TEST

START_TEST(test_bootstrap_multiclass)
{
    check_bootstrap(3);
}
END_TEST

START_TEST(test_bootstrap_without_labels_or_one_class)
{
    loaded L = load_case(0);
    gb_fidelity f;
    gb_error err;
    ck_assert_int_eq(
        gb_fidelity_compute(L.task, L.n, L.K, L.t, L.s, NULL, NULL, &f, &err), GB_OK);
    ck_assert(isfinite(f.ci_agreement[0]) && isfinite(f.ci_agreement[1]));
    ck_assert(isnan(f.ci_auc[0]) && isnan(f.ci_auc[1]));
    for (size_t i = 0; i < L.n; i++)
        L.y[i] = 1;
    ck_assert_int_eq(
        gb_fidelity_compute(L.task, L.n, L.K, L.t, L.s, L.y, NULL, &f, &err), GB_OK);
    ck_assert(isnan(f.ci_auc[0]));
    cJSON *js = gb_fidelity_to_json(&f);
    ck_assert(cJSON_IsNull(fixture_item(fixture_item(js, "ci95"), "auc")));
    ck_assert(cJSON_IsArray(fixture_item(fixture_item(js, "ci95"), "agreement")));
    cJSON_Delete(js);
    free_case(&L);
}
END_TEST

static int has_exact_keys(const cJSON *obj, const char *const *keys, size_t n)
{
    if ((size_t)cJSON_GetArraySize(obj) != n)
        return 0;
    size_t i = 0;
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, obj)
    {
        if (strcmp(it->string, keys[i++]) != 0)
            return 0;
    }
    return 1;
}

START_TEST(test_fidelity_json_shape)
{
    loaded L = load_case(0);
    gb_fidelity f;
    gb_error err;
    gb_fidelity_params p;
    gb_fidelity_params_default(&p);
    p.n_bootstrap = 50;
    ck_assert_int_eq(gb_fidelity_compute(L.task, L.n, L.K, L.t, L.s, L.y, &p, &f, &err),
                     GB_OK);
    cJSON *js = gb_fidelity_to_json(&f);
    ck_assert_ptr_nonnull(js);
    static const char *const keys[] = {
        "agreement",           "r2",      "kl",  "mae", "spearman", "auc_vs_teacher",
        "agreement_at_cutoff", "deciles", "ci95"};
    ck_assert(has_exact_keys(js, keys, 9));
    static const char *const cut_keys[] = {"cutoff", "value"};
    ck_assert(has_exact_keys(fixture_item(js, "agreement_at_cutoff"), cut_keys, 2));
    ck_assert_double_eq(
        fixture_item(fixture_item(js, "agreement_at_cutoff"), "cutoff")->valuedouble,
        0.5);
    const cJSON *dec = fixture_item(js, "deciles");
    ck_assert_int_eq(cJSON_GetArraySize(dec), 10);
    static const char *const dec_keys[] = {"decile", "teacher_mean", "student_mean",
                                           "agreement"};
    ck_assert(has_exact_keys(cJSON_GetArrayItem(dec, 0), dec_keys, 4));
    ck_assert_int_eq(fixture_item(cJSON_GetArrayItem(dec, 9), "decile")->valueint, 10);
    static const char *const ci_keys[] = {"agreement", "auc"};
    ck_assert(has_exact_keys(fixture_item(js, "ci95"), ci_keys, 2));
    ck_assert_int_eq(cJSON_GetArraySize(fixture_item(fixture_item(js, "ci95"), "auc")),
                     2);
    char *text = gb_json_print(js, 0);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(strstr(text, "nan"));
    gb_free(text);
    cJSON_Delete(js);
    free_case(&L);
}
END_TEST

START_TEST(test_regression_fidelity_json_nulls)
{
    const double t[] = {1.0, 2.0, 3.0, 4.0, 5.5};
    const double s[] = {1.1, 1.9, 3.2, 3.9, 5.0};
    gb_fidelity f;
    gb_error err;
    ck_assert_int_eq(
        gb_fidelity_compute(GB_TASK_REGRESSION, 5, 0, t, s, NULL, NULL, &f, &err),
        GB_OK);
    cJSON *js = gb_fidelity_to_json(&f);
    ck_assert(cJSON_IsNull(fixture_item(js, "agreement")));
    ck_assert(cJSON_IsNull(fixture_item(js, "kl")));
    ck_assert(cJSON_IsNull(fixture_item(js, "auc_vs_teacher")));
    ck_assert(cJSON_IsNull(fixture_item(js, "agreement_at_cutoff")));
    ck_assert(cJSON_IsNumber(fixture_item(js, "r2")));
    ck_assert_double_eq(fixture_item(js, "spearman")->valuedouble, 1.0);
    ck_assert(cJSON_IsNull(fixture_item(fixture_item(js, "ci95"), "agreement")));
    const cJSON *dec = fixture_item(js, "deciles");
    ck_assert_int_eq(cJSON_GetArraySize(dec), 5); /* 5 rows: deciles 2,4,6,8,10 */
    ck_assert_int_eq(fixture_item(cJSON_GetArrayItem(dec, 0), "decile")->valueint, 2);
    ck_assert(cJSON_IsNull(fixture_item(cJSON_GetArrayItem(dec, 0), "agreement")));
    cJSON_Delete(js);
}
END_TEST

START_TEST(test_metrics_block_against_sklearn)
{
    cJSON *root = load_fixture(METRICS_FIXTURE);
    const cJSON *c = NULL;
    cJSON_ArrayForEach(c, fixture_item(root, "classification"))
    {
        const char *name = fixture_item(c, "name")->valuestring;
        size_t K = (size_t)fixture_item(c, "n_classes")->valueint;
        size_t n = 0, np_ = 0;
        int32_t *y = labels(c, "y", &n);
        double *proba = fixture_numbers(c, "proba", &np_);
        gb_metrics m;
        gb_error err;
        gb_task task = K == 2 ? GB_TASK_BINARY : GB_TASK_MULTICLASS;
        ck_assert_int_eq(gb_metrics_compute(task, n, K, y, NULL, proba, &m, &err),
                         GB_OK);
        assert_close(name, "accuracy", m.accuracy, expected(c, "accuracy"));
        assert_close(name, "auc", m.auc, expected(c, "auc"));
        assert_close(name, "logloss", m.logloss, expected(c, "logloss"));
        assert_close(name, "brier", m.brier, expected(c, "brier"));
        assert_close(name, "ks", m.ks, expected(c, "ks"));
        ck_assert(isnan(m.rmse));
        cJSON *js = gb_metrics_to_json(&m);
        static const char *const keys[] = {"accuracy", "auc", "logloss", "brier", "ks"};
        ck_assert(has_exact_keys(js, keys, 5));
        ck_assert(cJSON_IsNull(fixture_item(js, "auc")) == isnan(m.auc));
        cJSON_Delete(js);
        free(y);
        free(proba);
    }
    cJSON_ArrayForEach(c, fixture_item(root, "regression"))
    {
        const char *name = fixture_item(c, "name")->valuestring;
        size_t n = 0, n2 = 0;
        double *y = fixture_numbers(c, "y", &n);
        double *pred = fixture_numbers(c, "pred", &n2);
        gb_metrics m;
        gb_error err;
        ck_assert_int_eq(
            gb_metrics_compute(GB_TASK_REGRESSION, n, 0, NULL, y, pred, &m, &err),
            GB_OK);
        assert_close(name, "rmse", m.rmse, expected(c, "rmse"));
        assert_close(name, "mae", m.mae, expected(c, "mae"));
        assert_close(name, "r2", m.r2, expected(c, "r2"));
        cJSON *js = gb_metrics_to_json(&m);
        static const char *const keys[] = {"rmse", "mae", "r2"};
        ck_assert(has_exact_keys(js, keys, 3));
        cJSON_Delete(js);
        free(y);
        free(pred);
    }
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_parameter_errors)
{
    const double t[] = {0.2, 0.8, 0.6, 0.4};
    const int32_t y[] = {1, 2};
    gb_fidelity f;
    f.agreement = -3.0;
    gb_error err;
    gb_fidelity_params p;
    gb_fidelity_params_default(&p);
    p.cutoff = 1.5;
    ck_assert_int_eq(
        gb_fidelity_compute(GB_TASK_BINARY, 2, 2, t, t, NULL, &p, &f, &err),
        GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "cutoff");
    p.cutoff = NAN;
    ck_assert_int_eq(
        gb_fidelity_compute(GB_TASK_BINARY, 2, 2, t, t, NULL, &p, &f, &err),
        GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "cutoff");
    gb_fidelity_params_default(&p);
    p.n_bootstrap = 1000000;
    ck_assert_int_eq(
        gb_fidelity_compute(GB_TASK_BINARY, 2, 2, t, t, NULL, &p, &f, &err),
        GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "n_bootstrap");
    ck_assert_int_eq(gb_fidelity_compute(GB_TASK_BINARY, 2, 2, t, t, y, NULL, &f, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
    ck_assert_ptr_nonnull(strstr(err.message, "row 1"));
    ck_assert_int_eq(
        gb_fidelity_compute(GB_TASK_AUTO, 2, 2, t, t, NULL, NULL, &f, &err),
        GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "task");
    ck_assert_int_eq(
        gb_fidelity_compute(GB_TASK_BINARY, 1, 4, t, t, NULL, NULL, &f, &err),
        GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "task");
    ck_assert_double_eq(f.agreement, -3.0);
    gb_metrics m;
    m.accuracy = -3.0;
    ck_assert_int_eq(gb_metrics_compute(GB_TASK_BINARY, 2, 2, NULL, NULL, t, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
    ck_assert_int_eq(gb_metrics_compute(GB_TASK_BINARY, 2, 2, y, NULL, t, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
    ck_assert_double_eq(m.accuracy, -3.0);
}
END_TEST

START_TEST(test_allocation_failure)
{
    loaded L = load_case(3);
    gb_fidelity_params p;
    gb_fidelity_params_default(&p);
    p.n_bootstrap = 20;
    p.n_threads = 2;
    gb_error err;
    int succeeded = 0;
    for (long nth = 1; nth <= 200 && !succeeded; nth++) {
        gb_fidelity f;
        f.agreement = -3.0;
        gb_alloc_fail_after(nth);
        gb_status st =
            gb_fidelity_compute(L.task, L.n, L.K, L.t, L.s, L.y, &p, &f, &err);
        gb_alloc_fail_after(0);
        if (st == GB_OK) {
            succeeded = 1;
        } else {
            ck_assert_int_eq(st, GB_ENOMEM);
            ck_assert_double_eq(f.agreement, -3.0);
        }
    }
    ck_assert(succeeded);
    free_case(&L);
}
END_TEST

static Suite *fidelity_suite(void)
{
    Suite *s = suite_create("fidelity");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fidelity_against_reference);
    tcase_add_test(tc, test_percentile_against_numpy);
    tcase_add_test(tc, test_bootstrap_binary);
    tcase_add_test(tc, test_bootstrap_multiclass);
    tcase_add_test(tc, test_bootstrap_without_labels_or_one_class);
    tcase_add_test(tc, test_fidelity_json_shape);
    tcase_add_test(tc, test_regression_fidelity_json_nulls);
    tcase_add_test(tc, test_metrics_block_against_sklearn);
    tcase_add_test(tc, test_parameter_errors);
    tcase_add_test(tc, test_allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fidelity_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
