/*
 * check_linear.c - the logistic / softmax / linear student against
 * scikit-learn and scipy references (tests/fixtures/linear, written by
 * scripts/fixtures/make_linear.py), plus attributions, the scorecard, missing
 * indicators, determinism, round trips, SQL (sqlite3) and C (cc) exports, and
 * every parameter and training-set error.
 */
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/csv.h"
#include "core/data/encode.h"
#include "core/data/table.h"
#include "core/json.h"
#include "core/math/rng.h"
#include "core/model/model.h"
#include "core/model/students/linear.h"
#include "core/model/students/student.h"

/* ---- helpers ------------------------------------------------------------------------
 */

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size);
    ck_assert(fread(buf, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    gb_error err;
    cJSON *root = gb_json_parse(buf, (size_t)size, &err);
    free(buf);
    ck_assert_msg(root != NULL, "%s: %s", path, err.message);
    return root;
}

/* Flattens a (nested) JSON array of numbers; null -> NaN. */
static void flatten(const cJSON *item, double *v, size_t *k)
{
    if (cJSON_IsArray(item)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, item) flatten(it, v, k);
    } else {
        v[(*k)++] = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    }
}

static size_t count_leaves(const cJSON *item)
{
    if (!cJSON_IsArray(item))
        return 1;
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, item) n += count_leaves(it);
    return n;
}

static double *numbers(const cJSON *obj, const char *key, size_t *n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_msg(arr != NULL, "no %s", key);
    size_t count = count_leaves(arr), k = 0;
    double *v = malloc((count ? count : 1) * sizeof *v);
    flatten(arr, v, &k);
    if (n != NULL)
        *n = count;
    return v;
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_msg(cJSON_IsNumber(v), "no number %s", key);
    return v->valuedouble;
}

static gb_feature *make_features(size_t n)
{
    gb_feature *f = calloc(n, sizeof *f);
    for (size_t j = 0; j < n; j++) {
        f[j].name = malloc(24);
        snprintf(f[j].name, 24, "f%zu", j);
        f[j].kind = GB_FEAT_NUMERIC;
    }
    return f;
}

static void free_features(gb_feature *f, size_t n)
{
    for (size_t j = 0; j < n; j++)
        free(f[j].name);
    free(f);
}

static char *class_names_storage[16];
static char **class_names(size_t k)
{
    static char buf[16][24];
    for (size_t i = 0; i < k; i++) {
        snprintf(buf[i], sizeof buf[i], "c%zu", i);
        class_names_storage[i] = buf[i];
    }
    return class_names_storage;
}

/* A training set over a fixture's data (kd_*.json). */
typedef struct fixture_set {
    cJSON *fx;
    double *X, *soft;
    int32_t *y;
    gb_feature *features;
    gb_train_set ts;
} fixture_set;

static void kd_set_load(fixture_set *s, const char *path)
{
    memset(s, 0, sizeof *s);
    s->fx = load_json(path);
    size_t nx, ny, nq;
    s->X = numbers(s->fx, "X", &nx);
    double *yd = numbers(s->fx, "y", &ny);
    s->soft = numbers(s->fx, "soft", &nq);
    s->y = malloc(ny * sizeof *s->y);
    for (size_t i = 0; i < ny; i++)
        s->y[i] = (int32_t)yd[i];
    free(yd);
    size_t K = (size_t)num(s->fx, "n_classes");
    size_t p = nx / ny;
    s->features = make_features(p);
    const cJSON *names = cJSON_GetObjectItem(s->fx, "names");
    for (size_t j = 0; names != NULL && j < p; j++)
        snprintf(s->features[j].name, 24, "%s",
                 cJSON_GetArrayItem(names, (int)j)->valuestring);
    gb_train_set *ts = &s->ts;
    ts->n_rows = ny;
    ts->n_features = p;
    ts->X = s->X;
    ts->features = s->features;
    ts->task = K == 2 ? GB_TASK_BINARY : GB_TASK_MULTICLASS;
    ts->n_classes = K;
    ts->classes = class_names(K);
    ts->y_class = s->y;
    ts->soft = s->soft;
    ts->temperature = num(s->fx, "T");
    ts->alpha = num(s->fx, "alpha");
    ts->n_threads = 1;
}

static void fixture_set_free(fixture_set *s)
{
    free(s->X);
    free(s->soft);
    free(s->y);
    free_features(s->features, s->ts.n_features);
    cJSON_Delete(s->fx);
}

static gb_model *fit_ok(const char *type, const gb_param *params, size_t n_params,
                        const gb_train_set *ts)
{
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    gb_status rc = gb_student_fit(type, params, n_params, ts, NULL, &m, &err);
    ck_assert_msg(rc == GB_OK, "fit failed: %s", err.message);
    return m;
}

/* The value at margin k of a scalar-or-array JSON member. */
static double margin_value(const cJSON *obj, const char *key, size_t k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsArray(v))
        v = cJSON_GetArrayItem(v, (int)k);
    ck_assert_msg(cJSON_IsNumber(v), "no number %s[%zu]", key, k);
    return v->valuedouble;
}

/* ---- distillation loss against scipy
 * ------------------------------------------------------ */

static void check_kd_fixture(const char *path)
{
    fixture_set s;
    kd_set_load(&s, path);
    char l2[32];
    snprintf(l2, sizeof l2, "%.17g", num(s.fx, "l2"));
    gb_param params[] = {{"l2", l2}, {"tol", "1e-10"}};
    gb_model *m = fit_ok("logistic", params, 2, &s.ts);
    cJSON *art = m->ops->to_json(m);
    size_t K = s.ts.n_classes == 2 ? 1 : s.ts.n_classes, p = s.ts.n_features;
    double *coef = numbers(s.fx, "coef_std", NULL);
    double *icoef = numbers(s.fx, "indicator_coef_std", NULL);
    double *b = numbers(s.fx, "intercept_std", NULL);
    double *mean = numbers(s.fx, "mean", NULL);
    double *scale = numbers(s.fx, "scale", NULL);
    double *imean = numbers(s.fx, "indicator_mean", NULL);
    double *iscale = numbers(s.fx, "indicator_scale", NULL);
    const cJSON *coefs = cJSON_GetObjectItem(art, "coefficients");
    const cJSON *inds = cJSON_GetObjectItem(art, "missing_indicators");
    ck_assert_int_eq(cJSON_GetArraySize(coefs), (int)p);
    ck_assert_int_eq(cJSON_GetArraySize(inds), 2);
    /* the columns each indicator stands for: one-hot columns of one input
     * share one (kd_onehot), other features have their own */
    const cJSON *groups = cJSON_GetObjectItem(s.fx, "indicator_features");
    for (int i = 0; i < 2; i++) {
        const cJSON *e = cJSON_GetArrayItem(inds, i),
                    *srcs = cJSON_GetObjectItem(e, "features");
        const cJSON *want = groups != NULL ? cJSON_GetArrayItem(groups, i) : NULL;
        const char *first = want != NULL ? cJSON_GetArrayItem(want, 0)->valuestring
                            : i == 0     ? "f1"
                                         : "f3";
        ck_assert_str_eq(cJSON_GetObjectItem(e, "feature")->valuestring, first);
        ck_assert_int_eq(cJSON_GetArraySize(srcs),
                         want != NULL ? cJSON_GetArraySize(want) : 1);
        for (int t = 0; t < cJSON_GetArraySize(srcs); t++)
            ck_assert_str_eq(cJSON_GetArrayItem(srcs, t)->valuestring,
                             want != NULL ? cJSON_GetArrayItem(want, t)->valuestring
                                          : first);
    }
    for (size_t k = 0; k < K; k++) {
        ck_assert_double_eq_tol(margin_value(art, "intercept_std", k), b[k], 1e-5);
        for (size_t j = 0; j < p; j++) {
            const cJSON *e = cJSON_GetArrayItem(coefs, (int)j);
            ck_assert_double_eq_tol(margin_value(e, "coef_std", k), coef[k * p + j],
                                    1e-5);
            /* original units = standardised / scale */
            ck_assert_double_eq_tol(margin_value(e, "coef", k) * scale[j],
                                    margin_value(e, "coef_std", k), 1e-12);
            if (k == 0) {
                ck_assert_double_eq_tol(num(e, "mean"), mean[j],
                                        1e-12 * fabs(mean[j]) + 1e-14);
                ck_assert_double_eq_tol(num(e, "scale"), scale[j], 1e-12 * scale[j]);
            }
        }
        for (size_t i = 0; i < 2; i++) {
            const cJSON *e = cJSON_GetArrayItem(inds, (int)i);
            ck_assert_double_eq_tol(margin_value(e, "coef_std", k), icoef[k * 2 + i],
                                    1e-5);
            if (k == 0) {
                ck_assert_double_eq_tol(num(e, "mean"), imean[i], 1e-15);
                ck_assert_double_eq_tol(num(e, "scale"), iscale[i], 1e-14);
            }
        }
    }
    const cJSON *fit = cJSON_GetObjectItem(art, "fit");
    ck_assert_double_eq_tol(num(fit, "loss"), num(s.fx, "loss"), 1e-9);
    ck_assert_str_eq(cJSON_GetObjectItem(fit, "stop")->valuestring, "gtol");
    free(coef);
    free(icoef);
    free(b);
    free(mean);
    free(scale);
    free(imean);
    free(iscale);
    cJSON_Delete(art);
    gb_model_free(m);
    fixture_set_free(&s);
}

START_TEST(test_kd_binary_matches_scipy)
{
    check_kd_fixture("tests/fixtures/linear/kd_binary.json");
}
END_TEST

START_TEST(test_kd_multiclass_matches_scipy)
{
    check_kd_fixture("tests/fixtures/linear/kd_multiclass.json");
}
END_TEST

/* A categorical input as one-hot columns that are missing together: one
 * indicator for the three columns, coefficients as scipy's on that design. */
static void check_round_trip(const gb_model *m, const double *X, size_t n);

START_TEST(test_kd_onehot_shares_one_indicator)
{
    check_kd_fixture("tests/fixtures/linear/kd_onehot.json");
    /* the artifact's "features" lists read back: same predictions, same text */
    fixture_set s;
    kd_set_load(&s, "tests/fixtures/linear/kd_onehot.json");
    gb_model *m = fit_ok("logistic", NULL, 0, &s.ts);
    check_round_trip(m, s.X, s.ts.n_rows);
    gb_model_free(m);
    fixture_set_free(&s);
}
END_TEST

/* Soft targets that are the one-hot labels, at T = 1 and alpha = 0, are the
 * hard-label problem: the same fit. */
START_TEST(test_one_hot_soft_targets_equal_hard_labels)
{
    const char *paths[] = {"tests/fixtures/linear/kd_binary.json",
                           "tests/fixtures/linear/kd_multiclass.json"};
    for (size_t f = 0; f < 2; f++) {
        fixture_set s;
        kd_set_load(&s, paths[f]);
        size_t n = s.ts.n_rows, K = s.ts.n_classes;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < K; k++)
                s.soft[i * K + k] = s.y[i] == (int32_t)k ? 1.0 : 0.0;
        s.ts.alpha = 1.0;
        s.ts.soft = NULL;
        s.ts.temperature = 1.0;
        gb_model *hard = fit_ok("logistic", NULL, 0, &s.ts);
        s.ts.alpha = 0.0;
        s.ts.soft = s.soft;
        s.ts.y_class = NULL;
        gb_model *soft = fit_ok("logistic", NULL, 0, &s.ts);
        double *o1 = malloc(n * K * sizeof *o1), *o2 = malloc(n * K * sizeof *o2);
        gb_error err;
        ck_assert_int_eq(hard->ops->predict(hard, s.X, n, o1, &err), GB_OK);
        ck_assert_int_eq(soft->ops->predict(soft, s.X, n, o2, &err), GB_OK);
        for (size_t i = 0; i < n * K; i++)
            ck_assert_double_eq_tol(o1[i], o2[i], 1e-12);
        free(o1);
        free(o2);
        gb_model_free(hard);
        gb_model_free(soft);
        fixture_set_free(&s);
    }
}
END_TEST

/* ---- baseline logistic against sklearn LogisticRegression
 * --------------------------------- */

typedef struct csv_set {
    gb_table *table;
    gb_target target;
    gb_feature *features;
    size_t n_features;
    double *X;
    gb_train_set ts;
} csv_set;

static void csv_set_load(csv_set *s, const char *path)
{
    memset(s, 0, sizeof *s);
    gb_error err;
    ck_assert_msg(gb_csv_read_file(path, NULL, &s->table, &err) == GB_OK, "%s",
                  err.message);
    ck_assert(gb_target_resolve(s->table, "target", GB_TASK_AUTO, &s->target, &err) ==
              GB_OK);
    unsigned char *exclude = calloc(s->table->n_cols, 1);
    exclude[s->target.col] = 1;
    ck_assert(gb_features_from_table(s->table, exclude, 1, &s->features, &s->n_features,
                                     &err) == GB_OK);
    free(exclude);
    gb_design *d = gb_design_bind(s->features, s->n_features, s->table, &err);
    ck_assert_ptr_nonnull(d);
    s->X = malloc(s->table->n_rows * s->n_features * sizeof *s->X);
    gb_design_fill(d, NULL, 0, s->table->n_rows, s->X);
    gb_design_free(d);
    gb_train_set *ts = &s->ts;
    ts->n_rows = s->table->n_rows;
    ts->n_features = s->n_features;
    ts->X = s->X;
    ts->features = s->features;
    ts->task = s->target.task;
    ts->n_classes = s->target.n_classes;
    ts->classes = s->target.classes;
    ts->y_class = s->target.y_class;
    ts->temperature = 1.0;
    ts->alpha = 1.0;
    ts->n_threads = 1;
}

static void csv_set_free(csv_set *s)
{
    free(s->X);
    gb_features_free(s->features, s->n_features);
    gb_target_free(&s->target);
    gb_table_free(s->table);
}

static void check_sklearn_logistic(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/datasets/%s_train.csv", name);
    csv_set s;
    csv_set_load(&s, path);
    snprintf(path, sizeof path, "tests/fixtures/linear/logistic_%s.json", name);
    cJSON *fx = load_json(path);
    ck_assert_uint_eq((size_t)num(fx, "n"), s.ts.n_rows);
    char l2[32];
    snprintf(l2, sizeof l2, "%.17g", num(fx, "l2"));
    gb_param params[] = {{"l2", l2}, {"tol", "1e-10"}, {"max_iter", "5000"}};
    gb_model *m = fit_ok("logistic", params, 3, &s.ts);
    cJSON *art = m->ops->to_json(m);
    size_t p = s.n_features, K = s.ts.n_classes == 2 ? 1 : s.ts.n_classes;
    double *coef = numbers(fx, "coef_std", NULL);
    double *b = numbers(fx, "intercept_std", NULL);
    double *pcoef = numbers(fx, "polished_coef_std", NULL);
    double *pb = numbers(fx, "polished_intercept_std", NULL);
    double *mean = numbers(fx, "mean", NULL);
    double *scale = numbers(fx, "scale", NULL);
    const cJSON *coefs = cJSON_GetObjectItem(art, "coefficients");
    /* Softmax intercepts are defined up to a common shift (unpenalised):
     * compare them centred. */
    double bc_ref = 0.0, bc_pol = 0.0, bc_ours = 0.0;
    if (K > 1) {
        for (size_t k = 0; k < K; k++) {
            bc_ref += b[k] / (double)K;
            bc_pol += pb[k] / (double)K;
            bc_ours += margin_value(art, "intercept_std", k) / (double)K;
        }
    }
    double maxdiff = 0.0, maxdiff_pol = 0.0;
    for (size_t k = 0; k < K; k++) {
        double ours = margin_value(art, "intercept_std", k) - bc_ours;
        /* sklearn's L-BFGS-B stops on a loss change of 64 eps, which leaves
         * the flat intercept direction up to ~7e-4 from the optimum. */
        ck_assert_double_eq_tol(ours, b[k] - bc_ref, 1e-3);
        maxdiff_pol = fmax(maxdiff_pol, fabs(ours - (pb[k] - bc_pol)));
        for (size_t j = 0; j < p; j++) {
            const cJSON *e = cJSON_GetArrayItem(coefs, (int)j);
            double c = margin_value(e, "coef_std", k);
            maxdiff = fmax(maxdiff, fabs(c - coef[k * p + j]));
            maxdiff_pol = fmax(maxdiff_pol, fabs(c - pcoef[k * p + j]));
            if (k == 0) {
                ck_assert_double_eq_tol(num(e, "mean"), mean[j],
                                        1e-10 * fabs(mean[j]) + 1e-14);
                ck_assert_double_eq_tol(num(e, "scale"), scale[j], 1e-10 * scale[j]);
            }
        }
    }
    ck_assert_msg(maxdiff < 1e-4, "%s: max |coef - sklearn| = %g", name, maxdiff);
    ck_assert_msg(maxdiff_pol < 1e-6, "%s: max |coef - polished| = %g", name,
                  maxdiff_pol);
    ck_assert_double_eq_tol(num(cJSON_GetObjectItem(art, "fit"), "loss"),
                            num(fx, "polished_loss"), 1e-12);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(art, "missing_indicators")),
                     0);

    /* The test-set probabilities agree too. */
    csv_set t;
    snprintf(path, sizeof path, "tests/fixtures/datasets/%s_test.csv", name);
    csv_set_load(&t, path);
    double *proba = numbers(fx, "test_proba_first20", NULL);
    double *pproba = numbers(fx, "polished_test_proba_first20", NULL);
    size_t nk = s.ts.n_classes;
    double *out = malloc(20 * nk * sizeof *out);
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, t.X, 20, out, &err), GB_OK);
    for (size_t i = 0; i < 20 * nk; i++) {
        ck_assert_double_eq_tol(out[i], proba[i], 5e-4); /* sklearn's early stop */
        ck_assert_double_eq_tol(out[i], pproba[i], 1e-7);
    }
    free(out);
    free(proba);
    free(pproba);
    free(pcoef);
    free(pb);
    csv_set_free(&t);
    free(coef);
    free(b);
    free(mean);
    free(scale);
    cJSON_Delete(art);
    cJSON_Delete(fx);
    gb_model_free(m);
    csv_set_free(&s);
}

START_TEST(test_breast_cancer_matches_sklearn)
{
    check_sklearn_logistic("breast_cancer");
}
END_TEST

START_TEST(test_digits_multinomial_matches_sklearn)
{
    check_sklearn_logistic("digits");
}
END_TEST

/* ---- linear regression: OLS and lasso
 * ------------------------------------------------------- */

typedef struct reg_set {
    cJSON *fx;
    double *X, *y;
    gb_feature *features;
    gb_train_set ts;
} reg_set;

static void reg_set_load(reg_set *s)
{
    memset(s, 0, sizeof *s);
    s->fx = load_json("tests/fixtures/linear/ols_diabetes.json");
    size_t nx, ny;
    s->X = numbers(s->fx, "X", &nx);
    s->y = numbers(s->fx, "y", &ny);
    s->features = make_features(nx / ny);
    gb_train_set *ts = &s->ts;
    ts->n_rows = ny;
    ts->n_features = nx / ny;
    ts->X = s->X;
    ts->features = s->features;
    ts->task = GB_TASK_REGRESSION;
    ts->y_value = s->y;
    ts->temperature = 1.0;
    ts->alpha = 1.0;
    ts->n_threads = 1;
}

static void reg_set_free(reg_set *s)
{
    free(s->X);
    free(s->y);
    free_features(s->features, s->ts.n_features);
    cJSON_Delete(s->fx);
}

START_TEST(test_linear_matches_ols)
{
    reg_set s;
    reg_set_load(&s);
    gb_param params[] = {{"l2", "0"}};
    gb_model *m = fit_ok("linear", params, 1, &s.ts);
    cJSON *art = m->ops->to_json(m);
    double *coef = numbers(s.fx, "coef", NULL);
    const cJSON *coefs = cJSON_GetObjectItem(art, "coefficients");
    for (size_t j = 0; j < s.ts.n_features; j++) {
        double c = num(cJSON_GetArrayItem(coefs, (int)j), "coef");
        ck_assert_double_eq_tol(c, coef[j], 1e-8 * fabs(coef[j]) + 1e-8);
    }
    ck_assert_double_eq_tol(num(art, "intercept"), num(s.fx, "intercept"), 1e-8);
    ck_assert_double_eq_tol(num(art, "intercept_std"), num(s.fx, "intercept_std"),
                            1e-9);
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(art, "fit"), "stop")->valuestring,
        "exact");
    ck_assert_ptr_null(cJSON_GetObjectItem(art, "scorecard"));
    /* Predictions equal the margins. */
    double out[5], marg[5];
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, s.X, 5, out, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict_margin(m, s.X, 5, marg, &err), GB_OK);
    ck_assert(memcmp(out, marg, sizeof out) == 0);
    free(coef);
    cJSON_Delete(art);
    gb_model_free(m);
    reg_set_free(&s);
}
END_TEST

START_TEST(test_no_features_gives_the_mean)
{
    reg_set s;
    reg_set_load(&s);
    s.ts.n_features = 0;
    gb_model *m = fit_ok("linear", NULL, 0, &s.ts);
    double mean = 0.0, out = 0.0;
    for (size_t i = 0; i < s.ts.n_rows; i++)
        mean += s.y[i] / (double)s.ts.n_rows;
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, s.X, 1, &out, &err), GB_OK);
    ck_assert_double_eq_tol(out, mean, 1e-12);
    gb_model_free(m);
    s.ts.n_features = 10;
    reg_set_free(&s);
}
END_TEST

START_TEST(test_linear_lasso_matches_sklearn)
{
    reg_set s;
    reg_set_load(&s);
    gb_param params[] = {
        {"l2", "0"}, {"l1", "1"}, {"tol", "1e-9"}, {"max_iter", "5000"}};
    gb_model *m = fit_ok("linear", params, 4, &s.ts);
    cJSON *art = m->ops->to_json(m);
    double *coef = numbers(s.fx, "lasso_coef_std", NULL);
    const cJSON *coefs = cJSON_GetObjectItem(art, "coefficients");
    size_t zeros = 0;
    for (size_t j = 0; j < s.ts.n_features; j++) {
        double c = num(cJSON_GetArrayItem(coefs, (int)j), "coef_std");
        ck_assert_double_eq_tol(c, coef[j], 1e-6);
        if (coef[j] == 0.0) {
            ck_assert(c == 0.0);
            zeros++;
        }
    }
    ck_assert_uint_eq(zeros, 3);
    ck_assert_double_eq_tol(num(art, "intercept_std"), num(s.fx, "lasso_intercept_std"),
                            1e-6);
    const cJSON *cx = cJSON_GetObjectItem(art, "complexity");
    ck_assert_int_eq((int)num(cx, "nonzero_coefs"), 7);
    free(coef);
    cJSON_Delete(art);
    gb_model_free(m);
    reg_set_free(&s);
}
END_TEST

START_TEST(test_regression_soft_target_mix)
{
    /* alpha*y + (1-alpha)*teacher with teacher = 2*y: target = (2 - alpha) y. */
    reg_set s;
    reg_set_load(&s);
    size_t n = s.ts.n_rows;
    double *teacher = malloc(n * sizeof *teacher);
    for (size_t i = 0; i < n; i++)
        teacher[i] = 2.0 * s.y[i];
    s.ts.soft = teacher;
    s.ts.alpha = 0.25;
    gb_param params[] = {{"l2", "0"}};
    gb_model *m = fit_ok("linear", params, 1, &s.ts);
    cJSON *art = m->ops->to_json(m);
    double *coef = numbers(s.fx, "coef", NULL);
    const cJSON *coefs = cJSON_GetObjectItem(art, "coefficients");
    for (size_t j = 0; j < s.ts.n_features; j++)
        ck_assert_double_eq_tol(num(cJSON_GetArrayItem(coefs, (int)j), "coef"),
                                1.75 * coef[j], 1e-8 * fabs(coef[j]) + 1e-8);
    free(coef);
    free(teacher);
    cJSON_Delete(art);
    gb_model_free(m);
    reg_set_free(&s);
}
END_TEST

/* ---- attributions, scorecard, missing values
 * ------------------------------------------------ */

START_TEST(test_attributions_sum_to_margin)
{
    const char *paths[] = {"tests/fixtures/linear/kd_binary.json",
                           "tests/fixtures/linear/kd_multiclass.json",
                           "tests/fixtures/linear/kd_onehot.json"};
    for (size_t f = 0; f < 3; f++) {
        fixture_set s;
        kd_set_load(&s, paths[f]);
        gb_model *m = fit_ok("logistic", NULL, 0, &s.ts);
        size_t n = s.ts.n_rows, p = s.ts.n_features, K = m->n_margins;
        double *phi = malloc(n * K * (p + 1) * sizeof *phi);
        double *marg = malloc(n * K * sizeof *marg);
        gb_error err;
        ck_assert_int_eq(m->ops->attribute(m, s.X, n, phi, &err), GB_OK);
        ck_assert_int_eq(m->ops->predict_margin(m, s.X, n, marg, &err), GB_OK);
        double mean_margin[8] = {0};
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < K; k++) {
                const double *b = phi + (i * K + k) * (p + 1);
                double sum = 0.0;
                for (size_t j = 0; j <= p; j++)
                    sum += b[j];
                ck_assert_double_eq_tol(sum, marg[i * K + k], 1e-12);
                mean_margin[k] += marg[i * K + k] / (double)n;
            }
        }
        /* The bias is the mean training margin (every internal column has
         * mean 0 on the training rows). */
        for (size_t k = 0; k < K; k++)
            ck_assert_double_eq_tol(phi[k * (p + 1) + p], mean_margin[k], 1e-12);
        free(phi);
        free(marg);
        gb_model_free(m);
        fixture_set_free(&s);
    }
}
END_TEST

/* Twice: kd_binary, and kd_onehot whose shared indicator's points are
 * split among its one-hot columns. */
START_TEST(test_scorecard_arithmetic)
{
    fixture_set s;
    kd_set_load(&s, _i == 0 ? "tests/fixtures/linear/kd_binary.json"
                            : "tests/fixtures/linear/kd_onehot.json");
    gb_model *m = fit_ok("logistic", NULL, 0, &s.ts);
    cJSON *art = m->ops->to_json(m);
    const cJSON *sc = cJSON_GetObjectItem(art, "scorecard");
    ck_assert_ptr_nonnull(sc);
    /* pdo 20, base score 600 at odds 50:1 (20 / ln 2 and 600 - factor ln 50,
     * evaluated independently in Python). */
    ck_assert_double_eq_tol(num(sc, "factor"), 28.85390081777927, 1e-12);
    ck_assert_double_eq_tol(num(sc, "offset"), 487.1228762045055, 1e-10);
    const cJSON *points = cJSON_GetObjectItem(sc, "points");
    size_t n = s.ts.n_rows, p = s.ts.n_features;
    double *marg = malloc(n * sizeof *marg);
    gb_error err;
    ck_assert_int_eq(m->ops->predict_margin(m, s.X, n, marg, &err), GB_OK);
    size_t n_missing_rows = 0;
    for (size_t i = 0; i < n; i++) {
        double score = num(sc, "base_points");
        for (size_t j = 0; j < p; j++) {
            const cJSON *e = cJSON_GetArrayItem(points, (int)j);
            double x = s.X[i * p + j];
            if (isnan(x)) {
                score += num(e, "points_if_missing");
                n_missing_rows++;
            } else {
                score += num(e, "points_per_unit") * (x - num(e, "reference")) +
                         num(e, "points_if_present");
            }
        }
        ck_assert_double_eq_tol(score, num(sc, "offset") - num(sc, "factor") * marg[i],
                                1e-9);
    }
    ck_assert(n_missing_rows > 0);
    /* Doubling the odds P(c0)/P(c1) adds pdo points. */
    ck_assert_double_eq_tol(num(sc, "factor") * log(2.0), 20.0, 1e-12);
    /* Odds ratios are exp(coef) in original units. */
    const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(art, "coefficients"), 0);
    ck_assert_double_eq_tol(num(c0, "odds_ratio"), exp(num(c0, "coef")), 1e-15);
    free(marg);
    cJSON_Delete(art);
    gb_model_free(m);
    fixture_set_free(&s);
}
END_TEST

START_TEST(test_missing_values_and_indicators)
{
    fixture_set s;
    kd_set_load(&s, "tests/fixtures/linear/kd_binary.json");
    gb_model *m = fit_ok("logistic", NULL, 0, &s.ts);
    cJSON *art = m->ops->to_json(m);
    const cJSON *coefs = cJSON_GetObjectItem(art, "coefficients");
    double mean0 = num(cJSON_GetArrayItem(coefs, 0), "mean");
    double mean1 = num(cJSON_GetArrayItem(coefs, 1), "mean");
    /* f0 had no missing values: missing at prediction time = the mean. */
    double row[2][5] = {{NAN, 1.0, 2.0, 3.0, 4.0}, {mean0, 1.0, 2.0, 3.0, 4.0}};
    double out[4];
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, &row[0][0], 2, out, &err), GB_OK);
    ck_assert(out[0] == out[2] && out[1] == out[3]);
    /* f1 had missing values: missing differs from the mean by the indicator
     * term exactly. */
    double row2[2][5] = {{0.5, NAN, 2.0, 3.0, 4.0}, {0.5, mean1, 2.0, 3.0, 4.0}};
    double mg[2];
    ck_assert_int_eq(m->ops->predict_margin(m, &row2[0][0], 2, mg, &err), GB_OK);
    const cJSON *ind =
        cJSON_GetArrayItem(cJSON_GetObjectItem(art, "missing_indicators"), 0);
    ck_assert_double_eq_tol(mg[0] - mg[1], num(ind, "coef"), 1e-12);
    /* Probabilities sum to 1. */
    ck_assert_double_eq_tol(out[0] + out[1], 1.0, 1e-15);
    cJSON_Delete(art);
    gb_model_free(m);
    fixture_set_free(&s);
}
END_TEST

/* ---- determinism, L1 and round trips
 * --------------------------------------------------------- */

typedef struct gen_set {
    double *X, *soft;
    int32_t *y;
    gb_feature *features;
    gb_train_set ts;
} gen_set;

/* n rows, p features, binary with a teacher's soft targets; a few missing. */
static void gen_set_make(gen_set *s, size_t n, size_t p, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    gb_rng rng;
    gb_rng_seed(&rng, seed);
    s->X = malloc(n * p * sizeof *s->X);
    s->soft = malloc(n * 2 * sizeof *s->soft);
    s->y = malloc(n * sizeof *s->y);
    for (size_t i = 0; i < n; i++) {
        double z = 0.3;
        for (size_t j = 0; j < p; j++) {
            double v = gb_rng_uniform(&rng) * 4.0 - 2.0 + (double)j;
            s->X[i * p + j] = v;
            z += (j % 2 ? 0.5 : -0.7) * (v - (double)j) / (1.0 + (double)j);
        }
        if (gb_rng_uniform(&rng) < 0.02)
            s->X[i * p + 1] = NAN;
        double q = 1.0 / (1.0 + exp(-z));
        s->soft[2 * i] = 1.0 - q;
        s->soft[2 * i + 1] = q;
        s->y[i] = gb_rng_uniform(&rng) < q ? 1 : 0;
    }
    s->features = make_features(p);
    gb_train_set *ts = &s->ts;
    ts->n_rows = n;
    ts->n_features = p;
    ts->X = s->X;
    ts->features = s->features;
    ts->task = GB_TASK_BINARY;
    ts->n_classes = 2;
    ts->classes = class_names(2);
    ts->y_class = s->y;
    ts->soft = s->soft;
    ts->temperature = 1.5;
    ts->alpha = 0.5;
    ts->n_threads = 1;
}

static void gen_set_free(gen_set *s)
{
    free(s->X);
    free(s->soft);
    free(s->y);
    free_features(s->features, s->ts.n_features);
}

static char *artifact_text(const gb_model *m)
{
    cJSON *art = m->ops->to_json(m);
    char *text = gb_json_print(art, 0);
    cJSON_Delete(art);
    return text;
}

START_TEST(test_deterministic_across_threads)
{
    gen_set s;
    gen_set_make(&s, 30000, 8, 42);
    gb_param params[] = {{"l1", "0.001"}};
    for (int with_l1 = 0; with_l1 < 2; with_l1++) {
        s.ts.n_threads = 1;
        gb_model *m1 = fit_ok("logistic", params, (size_t)with_l1, &s.ts);
        s.ts.n_threads = 2;
        gb_model *m2 = fit_ok("logistic", params, (size_t)with_l1, &s.ts);
        char *a1 = artifact_text(m1), *a2 = artifact_text(m2);
        ck_assert_str_eq(a1, a2);
        if (with_l1) {
            cJSON *art = m1->ops->to_json(m1);
            const cJSON *cx = cJSON_GetObjectItem(art, "complexity");
            ck_assert(num(cx, "nonzero_coefs") < num(cx, "n_coefs"));
            cJSON_Delete(art);
        }
        gb_free(a1);
        gb_free(a2);
        gb_model_free(m1);
        gb_model_free(m2);
    }
    gen_set_free(&s);
}
END_TEST

static void check_round_trip(const gb_model *m, const double *X, size_t n)
{
    cJSON *art = m->ops->to_json(m);
    char *text = gb_json_print(art, 1);
    gb_error err;
    cJSON *parsed = gb_json_parse(text, strlen(text), &err);
    ck_assert_ptr_nonnull(parsed);
    gb_model *back = NULL;
    ck_assert_msg(gb_student_from_json(parsed, &back, &err) == GB_OK, "%s",
                  err.message);
    ck_assert_str_eq(back->ops->kind, m->ops->kind);
    size_t k = m->n_outputs;
    double *o1 = malloc(n * k * sizeof *o1), *o2 = malloc(n * k * sizeof *o2);
    ck_assert_int_eq(m->ops->predict(m, X, n, o1, &err), GB_OK);
    ck_assert_int_eq(back->ops->predict(back, X, n, o2, &err), GB_OK);
    ck_assert(memcmp(o1, o2, n * k * sizeof *o1) == 0);
    char *text2 = artifact_text(back), *text1 = gb_json_print(art, 0);
    ck_assert_str_eq(text1, text2);
    gb_free(text1);
    gb_free(text2);
    free(o1);
    free(o2);
    gb_model_free(back);
    cJSON_Delete(parsed);
    gb_free(text);
    cJSON_Delete(art);
}

START_TEST(test_round_trip_identical_predictions)
{
    fixture_set s;
    kd_set_load(&s, "tests/fixtures/linear/kd_binary.json");
    gb_model *m = fit_ok("logistic", NULL, 0, &s.ts);
    check_round_trip(m, s.X, s.ts.n_rows);
    gb_model_free(m);
    fixture_set_free(&s);

    kd_set_load(&s, "tests/fixtures/linear/kd_multiclass.json");
    m = fit_ok("logistic", NULL, 0, &s.ts);
    check_round_trip(m, s.X, s.ts.n_rows);
    gb_model_free(m);
    fixture_set_free(&s);

    reg_set r;
    reg_set_load(&r);
    m = fit_ok("linear", NULL, 0, &r.ts);
    check_round_trip(m, r.X, r.ts.n_rows);
    gb_model_free(m);
    reg_set_free(&r);
}
END_TEST

START_TEST(test_from_json_rejects_bad_artifacts)
{
    fixture_set s;
    kd_set_load(&s, "tests/fixtures/linear/kd_binary.json");
    gb_model *m = fit_ok("logistic", NULL, 0, &s.ts);
    struct {
        const char *key;
        const char *bad_json;
        const char *field;
    } cases[] = {
        {"version", "2", "artifact.version"},
        {"task", "\"regression\"", "type"},
        {"intercept_std", "\"x\"", "artifact.intercept_std"},
        {"coefficients", "[]", "artifact.coefficients"},
        {"classes", "[\"a\"]", "artifact.classes"},
        {"params", "null", "artifact.params"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cJSON *art = m->ops->to_json(m);
        cJSON_ReplaceItemInObject(art, cases[c].key, cJSON_Parse(cases[c].bad_json));
        gb_model *back = NULL;
        gb_error err;
        gb_error_clear(&err);
        ck_assert_int_eq(gb_linear_from_json(art, &back, &err), GB_EUNUSABLE);
        ck_assert_ptr_null(back);
        ck_assert_msg(strcmp(err.field, cases[c].field) == 0, "%s: field '%s' (%s)",
                      cases[c].key, err.field, err.message);
        cJSON_Delete(art);
    }
    /* A scale of zero in a coefficient entry. */
    cJSON *art = m->ops->to_json(m);
    cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(art, "coefficients"), 2);
    cJSON_ReplaceItemInObject(e, "scale", cJSON_CreateNumber(0.0));
    gb_model *back = NULL;
    gb_error err;
    ck_assert_int_eq(gb_linear_from_json(art, &back, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "artifact.coefficients[2].scale");
    cJSON_Delete(art);
    /* An indicator's "features" must start with its "feature" and may not
     * claim a column another indicator has. */
    const char *lists[] = {"[\"f3\"]", "[\"f1\", \"f3\"]", "[\"f1\", \"nope\"]"};
    const char *fields[] = {"artifact.missing_indicators[0]",
                            "artifact.missing_indicators[1]",
                            "artifact.missing_indicators[0]"};
    for (int c = 0; c < 3; c++) {
        art = m->ops->to_json(m);
        e = cJSON_GetArrayItem(cJSON_GetObjectItem(art, "missing_indicators"), 0);
        cJSON_ReplaceItemInObject(e, "features", cJSON_Parse(lists[c]));
        back = NULL;
        ck_assert_int_eq(gb_linear_from_json(art, &back, &err), GB_EUNUSABLE);
        ck_assert_ptr_null(back);
        ck_assert_msg(strcmp(err.field, fields[c]) == 0, "case %d: field '%s' (%s)", c,
                      err.field, err.message);
        cJSON_Delete(art);
    }
    gb_model_free(m);
    fixture_set_free(&s);
}
END_TEST

/* ---- exports
 * -------------------------------------------------------------------------------------
 */

/* Runs the SQL export with sqlite3 over rows of X (NaN -> NULL) and compares
 * every output with predict. */
static void check_sql_export(const gb_model *m, const double *X, size_t n)
{
    char *sql = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "sql", &sql, &err), GB_OK);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    size_t p = m->n_features, k = m->n_outputs;
    /* CREATE TABLE t("f0" REAL, ...) */
    size_t cap = 64 + p * 40;
    char *ddl = malloc(cap), *ins = malloc(cap);
    size_t len = (size_t)snprintf(ddl, cap, "CREATE TABLE t(");
    size_t ilen = (size_t)snprintf(ins, cap, "INSERT INTO t VALUES(");
    for (size_t j = 0; j < p; j++) {
        len += (size_t)snprintf(ddl + len, cap - len, "%s\"%s\" REAL", j ? ", " : "",
                                m->features[j].name);
        ilen += (size_t)snprintf(ins + ilen, cap - ilen, "%s?", j ? ", " : "");
    }
    snprintf(ddl + len, cap - len, ")");
    snprintf(ins + ilen, cap - ilen, ")");
    ck_assert_int_eq(sqlite3_exec(db, ddl, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, ins, -1, &st, NULL), SQLITE_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++) {
            double v = X[i * p + j];
            if (isnan(v))
                sqlite3_bind_null(st, (int)j + 1);
            else
                sqlite3_bind_double(st, (int)j + 1, v);
        }
        ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    size_t qcap = strlen(sql) + 64;
    char *query = malloc(qcap);
    snprintf(query, qcap, "SELECT %s\nFROM t ORDER BY rowid", sql);
    ck_assert_msg(sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK, "%s",
                  sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_column_count(st), (int)k);
    double *out = malloc(n * k * sizeof *out);
    ck_assert_int_eq(m->ops->predict(m, X, n, out, &err), GB_OK);
    size_t i = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (size_t c = 0; c < k; c++) {
            ck_assert_int_eq(sqlite3_column_type(st, (int)c), SQLITE_FLOAT);
            double v = sqlite3_column_double(st, (int)c);
            ck_assert_msg(
                fabs(v - out[i * k + c]) <= 1e-12 * fmax(1.0, fabs(out[i * k + c])),
                "row %zu output %zu: sql %.17g predict %.17g", i, c, v, out[i * k + c]);
        }
        i++;
    }
    ck_assert_int_eq(rc, SQLITE_DONE);
    ck_assert_uint_eq(i, n);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(out);
    free(query);
    free(ddl);
    free(ins);
    gb_free(sql);
}

/* Compiles the C export with cc and a driver holding the rows, runs it, and
 * compares its printed outputs with predict. */
static void check_c_export(const gb_model *m, const double *X, size_t n)
{
    char *code = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "c", &code, &err), GB_OK);
    char dir[] = "/tmp/gb_linear_cXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char src[128], bin[128], cmd[512];
    snprintf(src, sizeof src, "%s/student.c", dir);
    snprintf(bin, sizeof bin, "%s/student", dir);
    FILE *f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    size_t p = m->n_features, k = m->n_outputs;
    fprintf(f, "%s\n#include <stdio.h>\nstatic const double rows[%zu][%zu] = {\n", code,
            n, p ? p : 1);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "{");
        for (size_t j = 0; j < p; j++) {
            if (isnan(X[i * p + j]))
                fprintf(f, "%sNAN", j ? "," : "");
            else
                fprintf(f, "%s%.17g", j ? "," : "", X[i * p + j]);
        }
        fprintf(f, "},\n");
    }
    fprintf(f,
            "};\nint main(void)\n{\n    double out[%zu];\n"
            "    for (int i = 0; i < %zu; i++) {\n"
            "        glassbox_predict(rows[i], out);\n"
            "        for (int k = 0; k < %zu; k++)\n"
            "            printf(\"%%.17g\\n\", out[k]);\n    }\n    return 0;\n}\n",
            k, n, k);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cc -std=c99 -Wall -Werror -O2 -o %s %s -lm", bin, src);
    ck_assert_int_eq(system(cmd), 0);
    double *out = malloc(n * k * sizeof *out);
    ck_assert_int_eq(m->ops->predict(m, X, n, out, &err), GB_OK);
    FILE *run = popen(bin, "r");
    ck_assert_ptr_nonnull(run);
    for (size_t i = 0; i < n * k; i++) {
        double v;
        ck_assert_int_eq(fscanf(run, "%lf", &v), 1);
        ck_assert_msg(fabs(v - out[i]) <= 1e-12 * fmax(1.0, fabs(out[i])),
                      "value %zu: c %.17g predict %.17g", i, v, out[i]);
    }
    ck_assert_int_eq(pclose(run), 0);
    unlink(bin);
    unlink(src);
    rmdir(dir);
    free(out);
    gb_free(code);
}

START_TEST(test_sql_and_c_exports_match_predict)
{
    fixture_set s;
    kd_set_load(&s, "tests/fixtures/linear/kd_binary.json");
    gb_model *m = fit_ok("logistic", NULL, 0, &s.ts);
    check_sql_export(m, s.X, s.ts.n_rows);
    check_c_export(m, s.X, 60);
    gb_model_free(m);
    fixture_set_free(&s);

    kd_set_load(&s, "tests/fixtures/linear/kd_multiclass.json");
    m = fit_ok("logistic", NULL, 0, &s.ts);
    check_sql_export(m, s.X, s.ts.n_rows);
    check_c_export(m, s.X, 60);
    gb_model_free(m);
    fixture_set_free(&s);

    /* one indicator shared by three one-hot columns ("c=a" etc. as SQL
     * identifiers and C comments) */
    kd_set_load(&s, "tests/fixtures/linear/kd_onehot.json");
    m = fit_ok("logistic", NULL, 0, &s.ts);
    check_sql_export(m, s.X, s.ts.n_rows);
    check_c_export(m, s.X, 60);
    gb_model_free(m);
    fixture_set_free(&s);

    reg_set r;
    reg_set_load(&r);
    m = fit_ok("linear", NULL, 0, &r.ts);
    check_sql_export(m, r.X, r.ts.n_rows);
    check_c_export(m, r.X, 60);
    gb_model_free(m);
    reg_set_free(&r);
}
END_TEST

START_TEST(test_export_unknown_format)
{
    reg_set r;
    reg_set_load(&r);
    gb_model *m = fit_ok("linear", NULL, 0, &r.ts);
    char *out = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "pmml", &out, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err.field, "format");
    gb_model_free(m);
    reg_set_free(&r);
}
END_TEST

/* ---- parameter and training-set errors
 * -------------------------------------------------------- */

typedef struct param_case {
    const char *type;
    gb_task task;
    const char *key;
    const char *value;
} param_case;

static const param_case PARAM_ERRORS[] = {
    {"logistic", GB_TASK_BINARY, "depth", "3"},
    {"logistic", GB_TASK_BINARY, "l2", "-1"},
    {"logistic", GB_TASK_BINARY, "l2", "abc"},
    {"logistic", GB_TASK_BINARY, "l2", ""},
    {"logistic", GB_TASK_BINARY, "l2", "nan"},
    {"logistic", GB_TASK_BINARY, "l2", "1e999"},
    {"logistic", GB_TASK_BINARY, "l1", "-0.5"},
    {"logistic", GB_TASK_BINARY, "l1", "0.1x"},
    {"logistic", GB_TASK_BINARY, "max_iter", "0"},
    {"logistic", GB_TASK_BINARY, "max_iter", "100001"},
    {"logistic", GB_TASK_BINARY, "max_iter", "2.5"},
    {"logistic", GB_TASK_BINARY, "tol", "0"},
    {"logistic", GB_TASK_BINARY, "tol", "2"},
    {"logistic", GB_TASK_BINARY, "pdo", "0"},
    {"logistic", GB_TASK_BINARY, "pdo", "-20"},
    {"logistic", GB_TASK_BINARY, "base_odds", "0"},
    {"logistic", GB_TASK_BINARY, "base_score", "inf"},
    {"linear", GB_TASK_REGRESSION, "pdo", "20"},
    {"linear", GB_TASK_REGRESSION, "base_odds", "50"},
    {"linear", GB_TASK_REGRESSION, "max_iter", "-3"},
};

START_TEST(test_each_parameter_error_names_the_key)
{
    for (size_t c = 0; c < sizeof PARAM_ERRORS / sizeof PARAM_ERRORS[0]; c++) {
        const param_case *pc = &PARAM_ERRORS[c];
        gb_param param = {pc->key, pc->value};
        gb_error err;
        gb_error_clear(&err);
        ck_assert_msg(gb_student_check(pc->type, &param, 1, pc->task, &err) ==
                          GB_EUNUSABLE,
                      "%s=%s accepted", pc->key, pc->value);
        ck_assert_str_eq(err.field, pc->key);
        ck_assert_msg(strstr(err.message, pc->key) != NULL, "%s", err.message);
    }
    /* Valid values pass. */
    gb_param ok[] = {{"l2", "0"},         {"l1", "0.01"}, {"max_iter", "100000"},
                     {"tol", "1"},        {"pdo", "40"},  {"base_score", "-10"},
                     {"base_odds", "1.5"}};
    gb_error err;
    ck_assert_int_eq(gb_student_check("logistic", ok, 7, GB_TASK_BINARY, &err), GB_OK);
    ck_assert_int_eq(gb_student_check("linear", ok, 4, GB_TASK_REGRESSION, &err),
                     GB_OK);
    ck_assert_int_eq(gb_student_check("logistic", ok, 7, GB_TASK_AUTO, &err), GB_OK);
    /* Duplicates. */
    gb_param dup[] = {{"l2", "1"}, {"l2", "2"}};
    ck_assert_int_eq(gb_student_check("logistic", dup, 2, GB_TASK_BINARY, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "l2");
    ck_assert(strstr(err.message, "twice") != NULL);
    /* Kind against task. */
    ck_assert_int_eq(gb_student_check("logistic", NULL, 0, GB_TASK_REGRESSION, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "type");
    ck_assert_int_eq(gb_student_check("linear", NULL, 0, GB_TASK_BINARY, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "type");
    ck_assert_int_eq(gb_student_wants_one_hot("logistic"), 1);
    ck_assert_int_eq(gb_student_wants_one_hot("linear"), 1);
}
END_TEST

START_TEST(test_fit_rejects_bad_parameters_before_work)
{
    fixture_set s;
    kd_set_load(&s, "tests/fixtures/linear/kd_binary.json");
    gb_param bad = {"max_iter", "0"};
    gb_model *m = (gb_model *)&s; /* must be reset to NULL */
    gb_error err;
    ck_assert_int_eq(gb_student_fit("logistic", &bad, 1, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(err.field, "max_iter");
    fixture_set_free(&s);
}
END_TEST

START_TEST(test_fit_rejects_bad_training_sets)
{
    fixture_set s;
    gb_model *m = NULL;
    gb_error err;

    kd_set_load(&s, "tests/fixtures/linear/kd_binary.json");
    s.ts.soft = NULL; /* alpha = 0.3 needs soft targets */
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert(strstr(err.message, "soft") != NULL);
    s.ts.soft = s.soft;

    s.ts.y_class = NULL; /* alpha > 0 needs labels */
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    s.ts.y_class = s.y;

    s.y[7] = 2; /* out of range for a binary task */
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_int_eq(err.line, 8);
    s.y[7] = 0;

    s.soft[9] = NAN;
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_int_eq(err.line, 5);
    s.soft[9] = 0.5;

    double saved = s.X[3 * 5 + 2];
    s.X[3 * 5 + 2] = INFINITY;
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "f2");
    ck_assert_int_eq(err.line, 4);
    s.X[3 * 5 + 2] = saved;

    s.features[4].kind = GB_FEAT_CATEGORICAL;
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "f4");
    s.features[4].kind = GB_FEAT_NUMERIC;

    s.ts.alpha = 1.5;
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    s.ts.alpha = 0.3;

    s.ts.temperature = 0.0;
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    s.ts.temperature = 2.0;

    ck_assert_int_eq(gb_student_fit("linear", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(gb_student_fit("nonesuch", NULL, 0, &s.ts, NULL, &m, &err),
                     GB_EUNUSABLE);

    /* Everything restored: the fit works. */
    m = fit_ok("logistic", NULL, 0, &s.ts);
    gb_model_free(m);
    fixture_set_free(&s);
}
END_TEST

START_TEST(test_cancel_and_allocation_failures)
{
    fixture_set s;
    kd_set_load(&s, "tests/fixtures/linear/kd_multiclass.json");
    gb_model *m = NULL;
    gb_error err;
    atomic_int flag = 1;
    gb_progress prog = {NULL, NULL, &flag};
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &s.ts, &prog, &m, &err),
                     GB_ECANCELLED);
    ck_assert_ptr_null(m);
    /* Fail each allocation in turn until the fit succeeds: never a crash or
     * a leak (ASan checks), always ENOMEM until then. */
    int succeeded = 0;
    for (long k = 1; k < 200 && !succeeded; k++) {
        gb_alloc_fail_after(k);
        gb_status rc = gb_student_fit("logistic", NULL, 0, &s.ts, NULL, &m, &err);
        gb_alloc_fail_after(0);
        if (rc == GB_OK) {
            succeeded = 1;
            gb_model_free(m);
        } else {
            ck_assert_int_eq(rc, GB_ENOMEM);
            ck_assert_ptr_null(m);
        }
    }
    ck_assert(succeeded);

    /* The same for reading the artifact back, exporting and predicting. */
    m = fit_ok("logistic", NULL, 0, &s.ts);
    cJSON *art = m->ops->to_json(m);
    const char *formats[] = {"sql", "c"};
    for (int step = 0; step < 4; step++) {
        succeeded = 0;
        for (long k = 1; k < 500 && !succeeded; k++) {
            gb_model *back = NULL;
            char *code = NULL;
            double out[6];
            gb_alloc_fail_after(k);
            gb_status rc;
            if (step == 0)
                rc = gb_linear_from_json(art, &back, &err);
            else if (step < 3)
                rc = gb_student_export(m, formats[step - 1], &code, &err);
            else
                rc = m->ops->predict(m, s.X, 2, out, &err);
            gb_alloc_fail_after(0);
            if (rc == GB_OK) {
                succeeded = 1;
                gb_model_free(back);
                gb_free(code);
            } else {
                ck_assert_int_eq(rc, GB_ENOMEM);
                ck_assert_ptr_null(back);
                ck_assert_ptr_null(code);
            }
        }
        ck_assert(succeeded);
    }
    cJSON_Delete(art);
    gb_model_free(m);
    fixture_set_free(&s);
}
END_TEST

static Suite *linear_suite(void)
{
    Suite *s = suite_create("linear");
    TCase *ref = tcase_create("reference");
    tcase_set_timeout(ref, 60);
    tcase_add_test(ref, test_kd_binary_matches_scipy);
    tcase_add_test(ref, test_kd_multiclass_matches_scipy);
    tcase_add_test(ref, test_kd_onehot_shares_one_indicator);
    tcase_add_test(ref, test_one_hot_soft_targets_equal_hard_labels);
    tcase_add_test(ref, test_breast_cancer_matches_sklearn);
    tcase_add_test(ref, test_digits_multinomial_matches_sklearn);
    tcase_add_test(ref, test_linear_matches_ols);
    tcase_add_test(ref, test_linear_lasso_matches_sklearn);
    tcase_add_test(ref, test_no_features_gives_the_mean);
    tcase_add_test(ref, test_regression_soft_target_mix);
    suite_add_tcase(s, ref);
    TCase *model = tcase_create("model");
    tcase_set_timeout(model, 60);
    tcase_add_test(model, test_attributions_sum_to_margin);
    tcase_add_loop_test(model, test_scorecard_arithmetic, 0, 2);
    tcase_add_test(model, test_missing_values_and_indicators);
    tcase_add_test(model, test_deterministic_across_threads);
    tcase_add_test(model, test_round_trip_identical_predictions);
    tcase_add_test(model, test_from_json_rejects_bad_artifacts);
    tcase_add_test(model, test_sql_and_c_exports_match_predict);
    tcase_add_test(model, test_export_unknown_format);
    suite_add_tcase(s, model);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 60);
    tcase_add_test(errors, test_each_parameter_error_names_the_key);
    tcase_add_test(errors, test_fit_rejects_bad_parameters_before_work);
    tcase_add_test(errors, test_fit_rejects_bad_training_sets);
    tcase_add_test(errors, test_cancel_and_allocation_failures);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(linear_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
