/*
 * check_tree.c - the decision-tree student: hand-checkable splits and leaf
 * values, missing values, categorical splits, best-first growth, parameter
 * and training-set errors, determinism across thread counts, the artifact
 * round trip, the SQL (sqlite3) and C (cc) exports, and accuracy against
 * scikit-learn's DecisionTreeClassifier on the shared datasets.
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
#include "core/model/students/student.h"
#include "core/model/students/tree.h"

/* ---- helpers ------------------------------------------------------------- */

static char *class_names[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

static gb_feature numeric_features[8] = {
    {"x0", GB_FEAT_NUMERIC, NULL, 0}, {"x1", GB_FEAT_NUMERIC, NULL, 0},
    {"x2", GB_FEAT_NUMERIC, NULL, 0}, {"x3", GB_FEAT_NUMERIC, NULL, 0},
    {"x4", GB_FEAT_NUMERIC, NULL, 0}, {"x5", GB_FEAT_NUMERIC, NULL, 0},
    {"x6", GB_FEAT_NUMERIC, NULL, 0}, {"x7", GB_FEAT_NUMERIC, NULL, 0},
};

static gb_train_set binary_set(const double *X, size_t n, size_t n_features,
                               const int32_t *y)
{
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = n;
    ts.n_features = n_features;
    ts.X = X;
    ts.features = numeric_features;
    ts.task = GB_TASK_BINARY;
    ts.n_classes = 2;
    ts.classes = class_names;
    ts.y_class = y;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.n_threads = 1;
    return ts;
}

static gb_model *fit_ok(const gb_train_set *ts, const gb_param *params, size_t n_params)
{
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    gb_status rc = gb_tree_fit(params, n_params, ts, NULL, &m, &err);
    ck_assert_msg(rc == GB_OK, "fit failed: %s", err.message);
    ck_assert_ptr_nonnull(m);
    return m;
}

static char *model_json(const gb_model *m)
{
    cJSON *j = m->ops->to_json(m);
    ck_assert_ptr_nonnull(j);
    char *text = gb_json_print(j, 0);
    cJSON_Delete(j);
    ck_assert_ptr_nonnull(text);
    return text;
}

/* The artifact as a consumer sees it: printed, then parsed. */
static cJSON *parsed_json(const gb_model *m)
{
    char *text = model_json(m);
    gb_error err;
    cJSON *j = gb_json_parse(text, strlen(text), &err);
    ck_assert_ptr_nonnull(j);
    gb_free(text);
    return j;
}

static const cJSON *json_node(const cJSON *root, int id)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(root, "nodes"), id);
}

static double json_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "no number '%s'", key);
    return v->valuedouble;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    ck_assert_msg(cJSON_IsString(v), "no string '%s'", key);
    return v->valuestring;
}

static void predict_rows(const gb_model *m, const double *X, size_t n, double *out)
{
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, X, n, out, &err), GB_OK);
}

/* ---- hand-checkable trees ------------------------------------------------ */

/* x0 separates 3 of 8 rows imperfectly, x1 perfectly: the stump must pick
 * x1 at the midpoint 3.5 with leaves 0/3 and 5/5. */
START_TEST(test_stump_picks_best_feature)
{
    double X[16];
    double x0[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    double x1[8] = {10, 2, 3, 1, 4, 5, 6, 7};
    int32_t y[8] = {1, 0, 0, 0, 1, 1, 1, 1};
    for (int i = 0; i < 8; i++) {
        X[2 * i] = x0[i];
        X[2 * i + 1] = x1[i];
    }
    gb_train_set ts = binary_set(X, 8, 2, y);
    gb_param p[] = {{"max_depth", "1"}};
    gb_model *m = fit_ok(&ts, p, 1);
    cJSON *j = parsed_json(m);
    const cJSON *root = json_node(j, 0);
    ck_assert_int_eq((int)json_num(root, "feature"), 1);
    ck_assert(json_num(root, "threshold") == 3.5);
    ck_assert_str_eq(json_str(root, "missing"), "right"); /* 3 left, 5 right */
    const cJSON *l = json_node(j, (int)json_num(root, "left"));
    const cJSON *r = json_node(j, (int)json_num(root, "right"));
    ck_assert(json_num(l, "n") == 3 && json_num(r, "n") == 5);
    ck_assert(cJSON_GetArrayItem(cJSON_GetObjectItem(l, "value"), 1)->valuedouble ==
              0.0);
    ck_assert(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "value"), 1)->valuedouble ==
              1.0);
    ck_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 0)->valuestring,
        "x1 <= 3.5 -> P(1) = 0, n = 3");
    ck_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 1)->valuestring,
        "x1 > 3.5 -> P(1) = 1, n = 5");
    const cJSON *cx = cJSON_GetObjectItem(j, "complexity");
    ck_assert(json_num(cx, "depth") == 1 && json_num(cx, "leaves") == 2);
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

/* y = [1,1,5,5,9,9] on x = 1..6, depth 2 regression: the root takes the
 * larger SSE decrease.  Split after 2 leaves 2 vs 4 rows: left mean 1 SSE 0,
 * right mean 7 SSE 16 -> SSE 16; after 4: left mean 3 SSE 16, right SSE 0 ->
 * 16: a tie, broken by the lower threshold (2.5).  Then the right node splits
 * at 4.5 into 5 and 9. */
START_TEST(test_regression_tie_takes_lower_threshold)
{
    double X[6] = {1, 2, 3, 4, 5, 6};
    double yv[6] = {1, 1, 5, 5, 9, 9};
    gb_train_set ts = binary_set(X, 6, 1, NULL);
    ts.task = GB_TASK_REGRESSION;
    ts.n_classes = 0;
    ts.classes = NULL;
    ts.y_value = yv;
    gb_param p[] = {{"max_depth", "2"}};
    gb_model *m = fit_ok(&ts, p, 1);
    cJSON *j = parsed_json(m);
    ck_assert(json_num(json_node(j, 0), "threshold") == 2.5);
    ck_assert(json_num(json_node(j, 2), "threshold") == 4.5);
    double out[6];
    predict_rows(m, X, 6, out);
    for (int i = 0; i < 6; i++)
        ck_assert(out[i] == yv[i]);
    double margin[6];
    gb_error err;
    ck_assert_int_eq(m->ops->predict_margin(m, X, 6, margin, &err), GB_OK);
    ck_assert(margin[5] == 9.0);
    /* conditions on one feature are merged into the tightest bounds */
    ck_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 1)->valuestring,
        "2.5 < x0 <= 4.5 -> value = 5, n = 2");
    ck_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 2)->valuestring,
        "x0 > 4.5 -> value = 9, n = 2");
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

/* The x1 = 0 child holds x0 in {0, 1, 8, 9}: bins 2..7 are empty there, so
 * its threshold is the middle edge 4.5 (CART's midpoint), not 1.5. */
START_TEST(test_threshold_in_middle_of_gap)
{
    double x0[10] = {0, 1, 8, 9, 2, 3, 4, 5, 6, 7};
    double x1[10] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    double yv[10] = {0, 0, 1, 1, 100, 100, 100, 100, 100, 100};
    double X[20];
    for (int i = 0; i < 10; i++) {
        X[2 * i] = x0[i];
        X[2 * i + 1] = x1[i];
    }
    gb_train_set ts = binary_set(X, 10, 2, NULL);
    ts.task = GB_TASK_REGRESSION;
    ts.n_classes = 0;
    ts.classes = NULL;
    ts.y_value = yv;
    gb_param p[] = {{"max_depth", "2"}};
    gb_model *m = fit_ok(&ts, p, 1);
    cJSON *j = parsed_json(m);
    ck_assert_int_eq((int)json_num(json_node(j, 0), "feature"), 1);
    ck_assert_int_eq((int)json_num(json_node(j, 1), "feature"), 0);
    ck_assert(json_num(json_node(j, 1), "threshold") == 4.5);
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

/* Identical features: the tie goes to the lower feature index. */
START_TEST(test_tie_takes_lower_feature)
{
    double X[12];
    int32_t y[6] = {0, 0, 0, 1, 1, 1};
    for (int i = 0; i < 6; i++)
        X[2 * i] = X[2 * i + 1] = (double)i;
    gb_train_set ts = binary_set(X, 6, 2, y);
    gb_model *m = fit_ok(&ts, NULL, 0);
    cJSON *j = parsed_json(m);
    ck_assert_int_eq((int)json_num(json_node(j, 0), "feature"), 0);
    ck_assert(json_num(json_node(j, 0), "threshold") == 2.5);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "nodes")), 3);
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

/* Soft targets: the leaf value is the mean of alpha*onehot + (1-alpha)*q. */
START_TEST(test_soft_target_leaf_values)
{
    double X[4] = {0, 0, 1, 1};
    int32_t y[4] = {0, 1, 2, 2};
    double soft[12] = {0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4};
    gb_train_set ts = binary_set(X, 4, 1, y);
    ts.task = GB_TASK_MULTICLASS;
    ts.n_classes = 3;
    ts.soft = soft;
    ts.alpha = 0.25;
    gb_model *m = fit_ok(&ts, NULL, 0);
    double out[12];
    predict_rows(m, X, 4, out);
    for (int leaf = 0; leaf < 2; leaf++)
        for (int k = 0; k < 3; k++) {
            double expect = 0.0;
            for (int i = 2 * leaf; i < 2 * leaf + 2; i++)
                expect += 0.25 * (y[i] == k) + 0.75 * soft[3 * i + k];
            expect /= 2.0;
            ck_assert_msg(fabs(out[3 * 2 * leaf + k] - expect) < 1e-15,
                          "leaf %d class %d", leaf, k);
        }
    double margin[12];
    gb_error err;
    ck_assert_int_eq(m->ops->predict_margin(m, X, 4, margin, &err), GB_OK);
    ck_assert(fabs(margin[0] - log(out[0])) < 1e-15);
    gb_model_free(m);
}
END_TEST

/* The same soft-target regression as scikit-learn's DecisionTreeRegressor
 * (tests/fixtures/tree/sklearn_soft_leaf.json): identical leaf values. */
START_TEST(test_soft_leaf_matches_sklearn_regressor)
{
    FILE *f = fopen("tests/fixtures/tree/sklearn_soft_leaf.json", "rb");
    ck_assert_ptr_nonnull(f);
    char buf[65536];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    gb_error err;
    cJSON *fx = gb_json_parse(buf, len, &err);
    ck_assert_ptr_nonnull(fx);
    double *X = NULL, *soft = NULL, *expect = NULL, *yd = NULL;
    size_t nx = 0, ns = 0, ne = 0, ny = 0;
    ck_assert_int_eq(
        gb_json_number_array(cJSON_GetObjectItem(fx, "X"), "X", 100000, &X, &nx, &err),
        GB_OK);
    ck_assert_int_eq(gb_json_number_array(cJSON_GetObjectItem(fx, "soft"), "soft",
                                          100000, &soft, &ns, &err),
                     GB_OK);
    ck_assert_int_eq(
        gb_json_number_array(cJSON_GetObjectItem(fx, "y"), "y", 100000, &yd, &ny, &err),
        GB_OK);
    ck_assert_int_eq(gb_json_number_array(cJSON_GetObjectItem(fx, "predict"), "predict",
                                          100000, &expect, &ne, &err),
                     GB_OK);
    size_t n = ny, F = nx / n, K = ns / n;
    double alpha = json_num(fx, "alpha");
    int32_t *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)yd[i];
    gb_train_set ts = binary_set(X, n, F, y);
    ts.task = GB_TASK_MULTICLASS;
    ts.n_classes = K;
    ts.soft = soft;
    ts.alpha = alpha;
    char depth[8];
    snprintf(depth, sizeof depth, "%d", (int)json_num(fx, "max_depth"));
    gb_param p[] = {{"max_depth", depth}};
    gb_model *m = fit_ok(&ts, p, 1);
    double *out = malloc(n * K * sizeof *out);
    predict_rows(m, X, n, out);
    for (size_t i = 0; i < n * K; i++)
        ck_assert_msg(fabs(out[i] - expect[i]) < 1e-12, "entry %zu: %.17g vs %.17g", i,
                      out[i], expect[i]);
    free(out);
    free(y);
    gb_free(X);
    gb_free(soft);
    gb_free(expect);
    gb_free(yd);
    cJSON_Delete(fx);
    gb_model_free(m);
}
END_TEST

/* Features with thousands of distinct values, so the best thresholds lie
 * inside histogram bins: the tree must still be scikit-learn's exact CART
 * tree, node for node (tests/fixtures/tree/sklearn_exact.json, binary and
 * 3-class soft targets). */
START_TEST(test_exact_splits_match_sklearn)
{
    FILE *f = fopen("tests/fixtures/tree/sklearn_exact.json", "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    ck_assert(size > 0);
    rewind(f);
    char *buf = malloc((size_t)size);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    gb_error err;
    cJSON *fx = gb_json_parse(buf, (size_t)size, &err);
    ck_assert_ptr_nonnull(fx);
    free(buf);
    const cJSON *cs;
    int n_cases = 0;
    cJSON_ArrayForEach(cs, cJSON_GetObjectItem(fx, "cases"))
    {
        double *X = NULL, *soft = NULL;
        size_t nx = 0, ns = 0;
        ck_assert_int_eq(gb_json_number_array(cJSON_GetObjectItem(cs, "X"), "X",
                                              1000000, &X, &nx, &err),
                         GB_OK);
        ck_assert_int_eq(gb_json_number_array(cJSON_GetObjectItem(cs, "soft"), "soft",
                                              1000000, &soft, &ns, &err),
                         GB_OK);
        size_t n = (size_t)json_num(cs, "n"), F = (size_t)json_num(cs, "features");
        size_t K = (size_t)json_num(cs, "classes");
        ck_assert_uint_eq(nx, n * F);
        ck_assert_uint_eq(ns, n * K);
        gb_train_set ts = binary_set(X, n, F, NULL);
        ts.task = K == 2 ? GB_TASK_BINARY : GB_TASK_MULTICLASS;
        ts.n_classes = K;
        ts.soft = soft;
        ts.alpha = 0.0;
        char depth[8], leaf[8];
        snprintf(depth, sizeof depth, "%d", (int)json_num(cs, "max_depth"));
        snprintf(leaf, sizeof leaf, "%d", (int)json_num(cs, "min_samples_leaf"));
        gb_param p[] = {{"max_depth", depth}, {"min_samples_leaf", leaf}};
        for (unsigned threads = 1; threads <= 2; threads++) {
            ts.n_threads = threads;
            gb_model *m = fit_ok(&ts, p, 2);
            cJSON *j = parsed_json(m);
            const cJSON *expect = cJSON_GetObjectItem(cs, "nodes");
            const cJSON *nodes = cJSON_GetObjectItem(j, "nodes");
            ck_assert_int_eq(cJSON_GetArraySize(nodes), cJSON_GetArraySize(expect));
            int id = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, expect)
            {
                const cJSON *node = cJSON_GetArrayItem(nodes, id);
                const cJSON *value = cJSON_GetObjectItem(node, "value");
                const cJSON *expect_value = cJSON_GetObjectItem(e, "value");
                if (expect_value == NULL) {
                    ck_assert_msg(value == NULL,
                                  "%s node %d: a leaf, scikit-learn splits",
                                  json_str(cs, "name"), id);
                    ck_assert_msg(json_num(node, "feature") == json_num(e, "feature"),
                                  "%s node %d: feature %.0f, scikit-learn %.0f",
                                  json_str(cs, "name"), id, json_num(node, "feature"),
                                  json_num(e, "feature"));
                    ck_assert_msg(json_num(node, "threshold") ==
                                      json_num(e, "threshold"),
                                  "%s node %d: threshold %.17g, scikit-learn %.17g",
                                  json_str(cs, "name"), id, json_num(node, "threshold"),
                                  json_num(e, "threshold"));
                } else {
                    ck_assert_msg(value != NULL,
                                  "%s node %d: splits, scikit-learn has a leaf",
                                  json_str(cs, "name"), id);
                    ck_assert_int_eq(cJSON_GetArraySize(value),
                                     cJSON_GetArraySize(expect_value));
                    for (int k = 0; k < cJSON_GetArraySize(value); k++) {
                        double a = cJSON_GetArrayItem(value, k)->valuedouble;
                        double b = cJSON_GetArrayItem(expect_value, k)->valuedouble;
                        ck_assert_msg(fabs(a - b) <= 1e-12,
                                      "%s leaf %d: %.17g vs %.17g",
                                      json_str(cs, "name"), id, a, b);
                    }
                }
                id++;
            }
            cJSON_Delete(j);
            gb_model_free(m);
        }
        gb_free(X);
        gb_free(soft);
        n_cases++;
    }
    ck_assert_int_eq(n_cases, 2);
    cJSON_Delete(fx);
}
END_TEST

/* Brute force for the test below: the best stump of regression targets y on
 * the n x F matrix X (every cut between neighbouring distinct values; ties
 * within 1e-10 of the sum of squares to the lower feature, then the lower
 * threshold).  Returns the feature; *thr gets the midpoint threshold. */
typedef struct xy_pair {
    double x, y;
} xy_pair;

static int xy_cmp(const void *a, const void *b)
{
    double u = ((const xy_pair *)a)->x, v = ((const xy_pair *)b)->x;
    return (u > v) - (u < v);
}

static int brute_force_stump(const double *X, const double *y, size_t n, size_t F,
                             double *thr)
{
    xy_pair *p = malloc(n * sizeof *p);
    double s = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        s += y[i];
        ss += y[i] * y[i];
    }
    double *gain = malloc(F * sizeof *gain), *cut = malloc(F * sizeof *cut);
    for (size_t f = 0; f < F; f++) {
        for (size_t i = 0; i < n; i++)
            p[i] = (xy_pair){X[i * F + f], y[i]};
        qsort(p, n, sizeof *p, xy_cmp);
        double left = 0.0;
        gain[f] = -INFINITY;
        for (size_t i = 0; i + 1 < n; i++) {
            left += p[i].y;
            if (!(p[i].x < p[i + 1].x))
                continue;
            double nl = (double)(i + 1), nr = (double)(n - i - 1);
            double g =
                left * left / nl + (s - left) * (s - left) / nr - s * s / (double)n;
            if (g > gain[f]) {
                gain[f] = g;
                cut[f] = p[i].x * 0.5 + p[i + 1].x * 0.5;
            }
        }
    }
    double top = -INFINITY;
    for (size_t f = 0; f < F; f++)
        top = gain[f] > top ? gain[f] : top;
    int best = -1;
    for (size_t f = 0; f < F && best < 0; f++)
        if (gain[f] >= top - 1e-10 * ss) {
            best = (int)f;
            *thr = cut[f];
        }
    free(p);
    free(gain);
    free(cut);
    return best;
}

/* Targets that are noise: the gain bound cannot rule out most bins, so the
 * search gathers nearly every row of every feature, in several batches.  The
 * stump must still be the exact best one, as brute force finds it, with 1
 * and 2 threads. */
START_TEST(test_exact_search_with_many_bins_gathered)
{
    size_t n = 70000, F = 3;
    double *X = malloc(n * F * sizeof *X), *y = malloc(n * sizeof *y);
    gb_rng rng;
    gb_rng_seed(&rng, 11);
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < F; f++)
            X[i * F + f] = round(gb_rng_uniform(&rng) * 1e6) / 1e6;
        y[i] = gb_rng_normal(&rng) + 0.02 * X[i * F + 2];
    }
    double thr = 0.0;
    int feature = brute_force_stump(X, y, n, F, &thr);
    ck_assert_int_ge(feature, 0);
    gb_train_set ts = binary_set(X, n, F, NULL);
    ts.task = GB_TASK_REGRESSION;
    ts.n_classes = 0;
    ts.classes = NULL;
    ts.y_value = y;
    gb_param p[] = {{"max_depth", "1"}};
    for (unsigned threads = 1; threads <= 2; threads++) {
        ts.n_threads = threads;
        gb_model *m = fit_ok(&ts, p, 1);
        cJSON *j = parsed_json(m);
        ck_assert_int_eq((int)json_num(json_node(j, 0), "feature"), feature);
        ck_assert_msg(json_num(json_node(j, 0), "threshold") == thr,
                      "threshold %.17g, brute force %.17g",
                      json_num(json_node(j, 0), "threshold"), thr);
        cJSON_Delete(j);
        gb_model_free(m);
    }
    free(X);
    free(y);
}
END_TEST

/* ---- exactness on random small sets -------------------------------------- */

/* Gain of sending rows with x <= thr (and missing ones when missing_left)
 * left; *valid = 0 when a side holds fewer than msl rows. */
static double split_gain_of(const double *X, size_t F, const double *T, size_t K,
                            const size_t *rows, size_t n, size_t f, double thr,
                            int missing_left, size_t msl, int *valid)
{
    double L[3] = {0, 0, 0}, P[3] = {0, 0, 0}, nl = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = X[rows[i] * F + f];
        int left = isnan(x) ? missing_left : x <= thr;
        for (size_t k = 0; k < K; k++) {
            P[k] += T[rows[i] * K + k];
            if (left)
                L[k] += T[rows[i] * K + k];
        }
        nl += left;
    }
    double nr = (double)n - nl, g = 0.0;
    *valid = nl >= (double)msl && nr >= (double)msl && nl > 0 && nr > 0;
    if (!*valid)
        return 0.0;
    for (size_t k = 0; k < K; k++)
        g += L[k] * L[k] / nl + (P[k] - L[k]) * (P[k] - L[k]) / nr -
             P[k] * P[k] / (double)n;
    return g;
}

static int cmp_double(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

/* The best gain over every feature, every cut between neighbouring distinct
 * values and both sides for missing values (-inf when no split is valid). */
static double brute_best_gain(const double *X, size_t F, const double *T, size_t K,
                              const size_t *rows, size_t n, size_t msl)
{
    double best = -INFINITY;
    double *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t f = 0; f < F; f++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!isnan(X[rows[i] * F + f]))
                v[m++] = X[rows[i] * F + f];
        qsort(v, m, sizeof *v, cmp_double);
        for (size_t i = 0; i + 1 < m; i++) {
            if (!(v[i] < v[i + 1]))
                continue;
            for (int side = 0; side < 2; side++) {
                int valid;
                double g =
                    split_gain_of(X, F, T, K, rows, n, f, v[i], side, msl, &valid);
                if (valid && g > best)
                    best = g;
            }
        }
    }
    free(v);
    return best;
}

/* Random small sets with duplicates, missing values and few bins (so most
 * bins hold several values): every split of the grown tree must gain as much
 * as the best split brute force finds on that node's rows, no leaf that
 * could still split may have a split gaining more, node counts must match
 * the rows routed by the thresholds, and 2 threads give the same JSON. */
START_TEST(test_random_trees_are_exact)
{
    gb_rng rng;
    gb_rng_seed(&rng, 2026);
    for (int trial = 0; trial < 300; trial++) {
        size_t n = 2 + (size_t)gb_rng_below(&rng, 70),
               F = 1 + (size_t)gb_rng_below(&rng, 4);
        int kind = (int)gb_rng_below(&rng, 3); /* regression, binary, 3 classes */
        size_t K = kind == 2 ? 3 : 1, nc = kind == 0 ? 0 : kind == 1 ? 2 : 3;
        double *X = malloc(n * F * sizeof *X), *T = malloc(n * K * sizeof *T);
        double *soft = malloc(n * 3 * sizeof *soft), *yv = malloc(n * sizeof *yv);
        for (size_t f = 0; f < F; f++) {
            int style = (int)gb_rng_below(&rng, 3);
            double miss = gb_rng_below(&rng, 2) ? 0.15 : 0.0;
            for (size_t i = 0; i < n; i++) {
                double x = style == 0   ? round(gb_rng_normal(&rng) * 100.0) / 100.0
                           : style == 1 ? (double)gb_rng_below(&rng, 4)
                                        : round(gb_rng_normal(&rng) * 3.0);
                X[i * F + f] = gb_rng_uniform(&rng) < miss ? NAN : x;
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (kind == 0) {
                yv[i] = T[i] = round(gb_rng_normal(&rng) * 8.0) / 4.0;
            } else if (kind == 1) {
                double p = round(gb_rng_uniform(&rng) * 10.0) / 10.0;
                soft[2 * i] = 1.0 - p;
                soft[2 * i + 1] = T[i] = p;
            } else {
                double a = gb_rng_uniform(&rng), b = gb_rng_uniform(&rng) * (1.0 - a);
                double q[3] = {a, b, 1.0 - a - b};
                for (size_t k = 0; k < 3; k++)
                    soft[3 * i + k] = T[3 * i + k] = q[k];
            }
        }
        gb_train_set ts = binary_set(X, n, F, NULL);
        ts.task = kind == 0   ? GB_TASK_REGRESSION
                  : kind == 1 ? GB_TASK_BINARY
                              : GB_TASK_MULTICLASS;
        ts.n_classes = nc;
        ts.classes = nc ? class_names : NULL;
        ts.soft = kind ? soft : NULL;
        ts.y_value = kind ? NULL : yv;
        ts.alpha = kind ? 0.0 : 1.0;
        size_t msl = 1 + (size_t)gb_rng_below(&rng, 3);
        unsigned depth = 1 + (unsigned)gb_rng_below(&rng, 3);
        char sd[16], sm[24], sb[16];
        snprintf(sd, sizeof sd, "%u", depth);
        snprintf(sm, sizeof sm, "%zu", msl);
        snprintf(sb, sizeof sb, "%d", 2 + (int)gb_rng_below(&rng, 6));
        gb_param p[] = {{"max_depth", sd}, {"min_samples_leaf", sm}, {"max_bins", sb}};
        gb_model *m = fit_ok(&ts, p, 3);
        char *one = model_json(m);
        ts.n_threads = 2;
        gb_model *m2 = fit_ok(&ts, p, 3);
        char *two = model_json(m2);
        ck_assert_msg(strcmp(one, two) == 0, "trial %d: JSON differs with 2 threads",
                      trial);
        gb_free(two);
        gb_model_free(m2);
        gb_free(one);
        cJSON *j = parsed_json(m);
        const cJSON *nodes = cJSON_GetObjectItem(j, "nodes");
        int n_nodes = cJSON_GetArraySize(nodes);
        /* route every row; rows of node id are collected by walking */
        size_t *rows = malloc(n * sizeof *rows), *sel = malloc(n * sizeof *sel);
        for (int id = 0; id < n_nodes; id++) {
            const cJSON *node = cJSON_GetArrayItem(nodes, id);
            size_t cnt = 0;
            unsigned node_depth = 0;
            for (size_t i = 0; i < n; i++) {
                int at = 0;
                unsigned d = 0;
                while (at != id) {
                    const cJSON *nd = cJSON_GetArrayItem(nodes, at);
                    if (cJSON_GetObjectItem(nd, "value") != NULL)
                        break;
                    double x = X[i * F + (size_t)json_num(nd, "feature")];
                    int left = isnan(x) ? strcmp(json_str(nd, "missing"), "left") == 0
                                        : x <= json_num(nd, "threshold");
                    at = (int)json_num(nd, left ? "left" : "right");
                    d++;
                }
                if (at == id) {
                    sel[cnt++] = i;
                    node_depth = d;
                }
            }
            ck_assert_msg((double)cnt == json_num(node, "n"),
                          "trial %d node %d: %zu rows routed, n %.0f", trial, id, cnt,
                          json_num(node, "n"));
            memcpy(rows, sel, cnt * sizeof *rows);
            double P[3] = {0, 0, 0}, ss = 0.0;
            for (size_t i = 0; i < cnt; i++)
                for (size_t k = 0; k < K; k++) {
                    P[k] += T[rows[i] * K + k];
                    ss += T[rows[i] * K + k] * T[rows[i] * K + k];
                }
            double sse = ss;
            for (size_t k = 0; k < K; k++)
                sse -= P[k] * P[k] / (double)cnt;
            double best = brute_best_gain(X, F, T, K, rows, cnt, msl);
            if (cJSON_GetObjectItem(node, "value") == NULL) {
                int valid;
                double g = split_gain_of(
                    X, F, T, K, rows, cnt, (size_t)json_num(node, "feature"),
                    json_num(node, "threshold"),
                    strcmp(json_str(node, "missing"), "left") == 0, msl, &valid);
                ck_assert_msg(valid, "trial %d node %d: split leaves a side too small",
                              trial, id);
                ck_assert_msg(g >= best - 1e-9 * (ss + 1e-300),
                              "trial %d node %d: gain %.17g, brute force %.17g", trial,
                              id, g, best);
            } else if (node_depth < depth && cnt >= 2 * msl && sse > 1e-12 * ss) {
                ck_assert_msg(!(best > 1e-12 * sse + 1e-9 * ss),
                              "trial %d leaf %d: brute force finds gain %.17g", trial,
                              id, best);
            }
        }
        free(rows);
        free(sel);
        cJSON_Delete(j);
        gb_model_free(m);
        free(X);
        free(T);
        free(soft);
        free(yv);
    }
}
END_TEST

/* ---- missing values and categorical splits ------------------------------- */

START_TEST(test_missing_goes_to_the_better_side)
{
    double nan = NAN;
    /* missing rows are positives: they must join the right (x > 2.5) side */
    double X1[6] = {1, 2, 3, 4, nan, nan};
    int32_t y1[6] = {0, 0, 1, 1, 1, 1};
    gb_train_set ts = binary_set(X1, 6, 1, y1);
    gb_param p[] = {{"max_depth", "1"}};
    gb_model *m = fit_ok(&ts, p, 1);
    cJSON *j = parsed_json(m);
    ck_assert_str_eq(json_str(json_node(j, 0), "missing"), "right");
    ck_assert(json_num(json_node(j, 0), "n_missing") == 2);
    ck_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 1)->valuestring,
        "x0 > 2.5 (or missing) -> P(1) = 1, n = 4");
    double out[2];
    predict_rows(m, &nan, 1, out);
    ck_assert(out[1] == 1.0);
    cJSON_Delete(j);
    gb_model_free(m);

    /* missing rows are negatives: left */
    double X2[6] = {1, 2, 3, 4, nan, nan};
    int32_t y2[6] = {0, 0, 1, 1, 0, 0};
    ts = binary_set(X2, 6, 1, y2);
    m = fit_ok(&ts, p, 1);
    j = parsed_json(m);
    ck_assert_str_eq(json_str(json_node(j, 0), "missing"), "left");
    predict_rows(m, &nan, 1, out);
    ck_assert(out[1] == 0.0);
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

START_TEST(test_missing_unseen_goes_to_larger_side)
{
    double nan = NAN;
    double X[5] = {1, 2, 3, 4, 5};
    int32_t y[5] = {0, 0, 1, 1, 1};
    gb_train_set ts = binary_set(X, 5, 1, y);
    gb_model *m = fit_ok(&ts, NULL, 0);
    cJSON *j = parsed_json(m);
    ck_assert_str_eq(json_str(json_node(j, 0), "missing"), "right");
    double out[2];
    predict_rows(m, &nan, 1, out);
    ck_assert(out[1] == 1.0);
    cJSON_Delete(j);
    gb_model_free(m);
    int32_t y2[5] = {0, 0, 0, 1, 1};
    ts = binary_set(X, 5, 1, y2);
    m = fit_ok(&ts, NULL, 0);
    j = parsed_json(m);
    ck_assert_str_eq(json_str(json_node(j, 0), "missing"), "left");
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

static char *purpose_levels[] = {"car", "radio", "repairs", "tv"};
static gb_feature purpose_feature[1] = {
    {"purpose", GB_FEAT_CATEGORICAL, purpose_levels, 4}};

/* Level means: car 1, radio 0, repairs 1, tv 0: ordering by mean puts radio
 * and tv first; the split sends {radio, tv} left. */
START_TEST(test_categorical_split_by_ordered_levels)
{
    double X[8] = {0, 1, 2, 3, 0, 1, 2, 3};
    int32_t y[8] = {1, 0, 1, 0, 1, 0, 1, 0};
    gb_train_set ts = binary_set(X, 8, 1, y);
    ts.features = purpose_feature;
    gb_model *m = fit_ok(&ts, NULL, 0);
    cJSON *j = parsed_json(m);
    const cJSON *root = json_node(j, 0);
    const cJSON *lv = cJSON_GetObjectItem(root, "left_levels");
    ck_assert_int_eq(cJSON_GetArraySize(lv), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(lv, 0)->valuestring, "radio");
    ck_assert_str_eq(cJSON_GetArrayItem(lv, 1)->valuestring, "tv");
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "threshold"));
    ck_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 0)->valuestring,
        "purpose in {radio, tv} -> P(1) = 0, n = 4");
    ck_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 1)->valuestring,
        "purpose not in {radio, tv} -> P(1) = 1, n = 4");
    double out[8];
    predict_rows(m, X, 4, out);
    ck_assert(out[1] == 1.0 && out[3] == 0.0 && out[5] == 1.0 && out[7] == 0.0);
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

/* Two splits on one categorical feature merge into the levels left:
 * {car, radio} | {repairs, tv} at the root, then each pair splits. */
START_TEST(test_categorical_rules_merge)
{
    double X[16];
    int32_t y[16];
    int ones[4] = {0, 1, 3, 4}; /* positives among the 4 rows of each level */
    for (int l = 0; l < 4; l++)
        for (int r = 0; r < 4; r++) {
            X[4 * l + r] = l;
            y[4 * l + r] = r < ones[l];
        }
    gb_train_set ts = binary_set(X, 16, 1, y);
    ts.features = purpose_feature;
    gb_param p[] = {{"max_depth", "2"}};
    gb_model *m = fit_ok(&ts, p, 1);
    cJSON *j = parsed_json(m);
    const cJSON *rules = cJSON_GetObjectItem(j, "rules");
    ck_assert_int_eq(cJSON_GetArraySize(rules), 4);
    ck_assert_str_eq(cJSON_GetArrayItem(rules, 0)->valuestring,
                     "purpose in {car} -> P(1) = 0, n = 4");
    ck_assert_str_eq(cJSON_GetArrayItem(rules, 1)->valuestring,
                     "purpose in {radio} -> P(1) = 0.25, n = 4");
    ck_assert_str_eq(cJSON_GetArrayItem(rules, 2)->valuestring,
                     "purpose in {repairs} -> P(1) = 0.75, n = 4");
    ck_assert_str_eq(cJSON_GetArrayItem(rules, 3)->valuestring,
                     "purpose in {tv} -> P(1) = 1, n = 4");
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

static char *abc_levels[] = {"a", "b", "c"};
static gb_feature abc_feature[1] = {{"grade", GB_FEAT_CATEGORICAL, abc_levels, 3}};

/* Multiclass: levels are ordered by the class whose level means vary most
 * (class 0: a = 1, b = c = 0), giving the order b, c, a; the best prefix
 * is {b, c}, which goes left. */
START_TEST(test_categorical_multiclass_order)
{
    double X[8] = {0, 0, 0, 0, 1, 1, 2, 2};
    int32_t y[8] = {0, 0, 0, 0, 1, 1, 2, 2};
    gb_train_set ts = binary_set(X, 8, 1, y);
    ts.features = abc_feature;
    ts.task = GB_TASK_MULTICLASS;
    ts.n_classes = 3;
    gb_param p[] = {{"max_depth", "1"}};
    gb_model *m = fit_ok(&ts, p, 1);
    cJSON *j = parsed_json(m);
    const cJSON *lv = cJSON_GetObjectItem(json_node(j, 0), "left_levels");
    ck_assert_int_eq(cJSON_GetArraySize(lv), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(lv, 0)->valuestring, "b");
    ck_assert_str_eq(cJSON_GetArrayItem(lv, 1)->valuestring, "c");
    ck_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 0)->valuestring,
        "grade in {b, c} -> class 1 (P = 0.5), n = 4");
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

/* 300 levels need 16-bit bins; even levels are positives, so one split
 * separates them exactly. */
START_TEST(test_categorical_with_many_levels)
{
    size_t n_levels = 300, n = 1200;
    char **levels = malloc(n_levels * sizeof *levels);
    for (size_t l = 0; l < n_levels; l++) {
        levels[l] = malloc(8);
        snprintf(levels[l], 8, "L%zu", l);
    }
    gb_feature feats[2] = {{"x0", GB_FEAT_NUMERIC, NULL, 0},
                           {"code", GB_FEAT_CATEGORICAL, levels, n_levels}};
    double *X = malloc(n * 2 * sizeof *X);
    int32_t *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        X[2 * i] = (double)(i % 7);
        X[2 * i + 1] = (double)(i % n_levels);
        y[i] = (int32_t)((i % n_levels) % 2 == 0);
    }
    gb_train_set ts = binary_set(X, n, 2, y);
    ts.features = feats;
    gb_param p[] = {{"max_depth", "1"}};
    gb_model *m = fit_ok(&ts, p, 1);
    double *out = malloc(n * 2 * sizeof *out);
    predict_rows(m, X, n, out);
    for (size_t i = 0; i < n; i++)
        ck_assert(out[2 * i + 1] == (double)y[i]);
    cJSON *j = parsed_json(m);
    ck_assert_int_eq(
        cJSON_GetArraySize(cJSON_GetObjectItem(json_node(j, 0), "left_levels")), 150);
    cJSON_Delete(j);
    gb_model_free(m);
    free(out);
    free(X);
    free(y);
    for (size_t l = 0; l < n_levels; l++)
        free(levels[l]);
    free(levels);
}
END_TEST

/* Without features the tree is one leaf holding the mean target. */
START_TEST(test_no_features_gives_one_leaf)
{
    int32_t y[4] = {0, 1, 1, 1};
    double dummy = 0.0;
    gb_train_set ts = binary_set(&dummy, 4, 0, y);
    gb_model *m = fit_ok(&ts, NULL, 0);
    double out[2];
    predict_rows(m, &dummy, 1, out);
    ck_assert(out[1] == 0.75 && out[0] == 0.25);
    gb_model_free(m);
}
END_TEST

/* ---- growth control ------------------------------------------------------ */

/* Rows on a grid with y depending on x0 strongly and x1 weakly. */
static void make_random_set(size_t n, size_t F, uint64_t seed, double *X, int32_t *y,
                            double missing_rate)
{
    gb_rng rng;
    gb_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        double z = 0.0;
        for (size_t f = 0; f < F; f++) {
            double x = gb_rng_normal(&rng);
            z += x * (f == 0 ? 2.0 : f == 1 ? 1.0 : 0.3);
            X[i * F + f] = gb_rng_uniform(&rng) < missing_rate ? NAN : x;
        }
        y[i] = gb_rng_uniform(&rng) < 1.0 / (1.0 + exp(-z)) ? 1 : 0;
    }
}

/* Constant soft targets (0.3 is not a binary fraction) give one leaf, not
 * splits on rounding noise. */
START_TEST(test_constant_targets_do_not_split)
{
    size_t n = 5000, F = 3;
    double *X = malloc(n * F * sizeof *X);
    int32_t *y = malloc(n * sizeof *y);
    double *soft = malloc(n * 2 * sizeof *soft);
    make_random_set(n, F, 21, X, y, 0.0);
    for (size_t i = 0; i < n; i++) {
        soft[2 * i] = 0.7;
        soft[2 * i + 1] = 0.3;
    }
    gb_train_set ts = binary_set(X, n, F, y);
    ts.soft = soft;
    ts.alpha = 0.0;
    gb_model *m = fit_ok(&ts, NULL, 0);
    cJSON *j = parsed_json(m);
    ck_assert(json_num(cJSON_GetObjectItem(j, "complexity"), "leaves") == 1);
    cJSON_Delete(j);
    gb_model_free(m);
    free(X);
    free(y);
    free(soft);
}
END_TEST

START_TEST(test_min_samples_leaf_and_max_depth)
{
    size_t n = 2000, F = 4;
    double *X = malloc(n * F * sizeof *X);
    int32_t *y = malloc(n * sizeof *y);
    make_random_set(n, F, 3, X, y, 0.05);
    gb_train_set ts = binary_set(X, n, F, y);
    gb_param p[] = {{"max_depth", "5"}, {"min_samples_leaf", "40"}};
    gb_model *m = fit_ok(&ts, p, 2);
    cJSON *j = parsed_json(m);
    const cJSON *node = NULL;
    size_t total = 0;
    cJSON_ArrayForEach(node, cJSON_GetObjectItem(j, "nodes"))
    {
        if (cJSON_GetObjectItem(node, "value") == NULL)
            continue;
        ck_assert(json_num(node, "n") >= 40);
        total += (size_t)json_num(node, "n");
    }
    ck_assert_uint_eq(total, n);
    ck_assert(json_num(cJSON_GetObjectItem(j, "complexity"), "depth") <= 5);
    cJSON_Delete(j);
    gb_model_free(m);
    free(X);
    free(y);
}
END_TEST

/* Best-first: with max_leaves = 3 the second split goes to the child with the
 * larger gain, and the tree has exactly 3 leaves. */
START_TEST(test_max_leaves_best_first)
{
    /* left half (x0 <= 4.5) pure; right half splits on x1 */
    double X[20];
    int32_t y[10] = {0, 0, 0, 0, 0, 1, 1, 1, 0, 0};
    for (int i = 0; i < 10; i++) {
        X[2 * i] = i;
        X[2 * i + 1] = i < 5 ? 0 : (y[i] ? 1 : 2);
    }
    gb_train_set ts = binary_set(X, 10, 2, y);
    gb_param p[] = {{"max_leaves", "3"}};
    gb_model *m = fit_ok(&ts, p, 1);
    cJSON *j = parsed_json(m);
    ck_assert(json_num(cJSON_GetObjectItem(j, "complexity"), "leaves") == 3);
    double out[20];
    predict_rows(m, X, 10, out);
    for (int i = 0; i < 10; i++)
        ck_assert(out[2 * i + 1] == (double)y[i]);
    cJSON_Delete(j);
    gb_model_free(m);

    /* a larger case: leaf count is exactly max_leaves */
    size_t n = 3000, F = 5;
    double *Xr = malloc(n * F * sizeof *Xr);
    int32_t *yr = malloc(n * sizeof *yr);
    make_random_set(n, F, 9, Xr, yr, 0.0);
    ts = binary_set(Xr, n, F, yr);
    gb_param p2[] = {{"max_leaves", "7"}, {"max_depth", "10"}};
    m = fit_ok(&ts, p2, 2);
    j = parsed_json(m);
    ck_assert(json_num(cJSON_GetObjectItem(j, "complexity"), "leaves") == 7);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rules")), 7);
    cJSON_Delete(j);
    gb_model_free(m);
    free(Xr);
    free(yr);
}
END_TEST

/* Best-first picks the leaf with the larger gain: after the root split on
 * x0, the x0 = 1 side (gain 16 from splitting on x1) is split before the
 * x0 = 0 side (gain 1). */
START_TEST(test_max_leaves_splits_largest_gain_first)
{
    double X[16] = {0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1};
    double yv[8] = {0, 0, 1, 1, 10, 10, 14, 14};
    gb_train_set ts = binary_set(X, 8, 2, NULL);
    ts.task = GB_TASK_REGRESSION;
    ts.n_classes = 0;
    ts.classes = NULL;
    ts.y_value = yv;
    gb_param p[] = {{"max_leaves", "3"}};
    gb_model *m = fit_ok(&ts, p, 1);
    double out[8];
    predict_rows(m, X, 8, out);
    double expect[8] = {0.5, 0.5, 0.5, 0.5, 10, 10, 14, 14};
    for (int i = 0; i < 8; i++)
        ck_assert_msg(out[i] == expect[i], "row %d: %g", i, out[i]);
    gb_model_free(m);
    /* without a leaf limit both sides split */
    m = fit_ok(&ts, NULL, 0);
    predict_rows(m, X, 8, out);
    for (int i = 0; i < 8; i++)
        ck_assert(out[i] == yv[i]);
    gb_model_free(m);
}
END_TEST

/* Best-first growth with more waiting leaves than the histogram budget
 * holds: leaves drop their histograms and rebuild them; the tree still has
 * max_leaves leaves and does not depend on the thread count. */
START_TEST(test_best_first_beyond_histogram_budget)
{
    size_t n = 20000, F = 20, K = 10;
    double *X = malloc(n * F * sizeof *X);
    double *soft = malloc(n * K * sizeof *soft);
    int32_t *y = malloc(n * sizeof *y);
    double W[10][20];
    gb_rng rng;
    gb_rng_seed(&rng, 99);
    for (size_t k = 0; k < K; k++)
        for (size_t f = 0; f < F; f++)
            W[k][f] = gb_rng_normal(&rng);
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < F; f++)
            X[i * F + f] = gb_rng_normal(&rng);
        double z[10], mx = -INFINITY, sum = 0.0;
        for (size_t k = 0; k < K; k++) {
            z[k] = 0.0;
            for (size_t f = 0; f < F; f++)
                z[k] += W[k][f] * X[i * F + f];
            mx = fmax(mx, z[k]);
        }
        for (size_t k = 0; k < K; k++)
            sum += soft[i * K + k] = exp(z[k] - mx);
        for (size_t k = 0; k < K; k++)
            soft[i * K + k] /= sum;
        y[i] = (int32_t)gb_rng_below(&rng, K);
    }
    gb_feature feats[20];
    char names[20][8];
    for (size_t f = 0; f < F; f++) {
        snprintf(names[f], sizeof names[f], "f%zu", f);
        feats[f] = (gb_feature){names[f], GB_FEAT_NUMERIC, NULL, 0};
    }
    gb_train_set ts = binary_set(X, n, F, y);
    ts.features = feats;
    ts.task = GB_TASK_MULTICLASS;
    ts.n_classes = K;
    ts.soft = soft;
    ts.alpha = 0.0;
    gb_param p[] = {
        {"max_leaves", "400"}, {"max_depth", "20"}, {"min_samples_leaf", "5"}};
    ts.n_threads = 1;
    gb_model *m1 = fit_ok(&ts, p, 3);
    ts.n_threads = 2;
    gb_model *m2 = fit_ok(&ts, p, 3);
    char *j1 = model_json(m1), *j2 = model_json(m2);
    ck_assert_str_eq(j1, j2);
    cJSON *j = parsed_json(m1);
    ck_assert(json_num(cJSON_GetObjectItem(j, "complexity"), "leaves") == 400);
    cJSON_Delete(j);
    gb_free(j1);
    gb_free(j2);
    gb_model_free(m1);
    gb_model_free(m2);
    free(X);
    free(soft);
    free(y);
}
END_TEST

/* ---- determinism, round trip --------------------------------------------- */

static char *mixed_levels[] = {"a", "b", "c", "d", "e"};
static gb_feature mixed_features[6] = {
    {"n0", GB_FEAT_NUMERIC, NULL, 0},
    {"n1", GB_FEAT_NUMERIC, NULL, 0},
    {"cat", GB_FEAT_CATEGORICAL, mixed_levels, 5},
    {"n3", GB_FEAT_NUMERIC, NULL, 0},
    {"n4", GB_FEAT_NUMERIC, NULL, 0},
    {"n5", GB_FEAT_NUMERIC, NULL, 0},
};

/* 12000 x 6 rows with missing values and a categorical column; multiclass
 * soft targets. */
static void make_mixed(size_t n, double **Xo, int32_t **yo, double **softo)
{
    size_t F = 6, K = 3;
    double *X = malloc(n * F * sizeof *X);
    int32_t *y = malloc(n * sizeof *y);
    double *soft = malloc(n * K * sizeof *soft);
    gb_rng rng;
    gb_rng_seed(&rng, 11);
    for (size_t i = 0; i < n; i++) {
        double z[3] = {0, 0, 0};
        for (size_t f = 0; f < F; f++) {
            double x = f == 2 ? (double)gb_rng_below(&rng, 5) : gb_rng_normal(&rng);
            if (f == 2)
                z[(size_t)x % 3] += 1.0;
            else
                z[f % 3] += x * (double)(f + 1) * 0.5;
            X[i * F + f] = gb_rng_uniform(&rng) < 0.03 ? NAN : x;
        }
        double mx = fmax(z[0], fmax(z[1], z[2])), s = 0.0;
        for (size_t k = 0; k < K; k++)
            s += soft[i * K + k] = exp(z[k] - mx);
        for (size_t k = 0; k < K; k++)
            soft[i * K + k] /= s;
        double u = gb_rng_uniform(&rng);
        y[i] = u < soft[i * K] ? 0 : u < soft[i * K] + soft[i * K + 1] ? 1 : 2;
    }
    *Xo = X;
    *yo = y;
    *softo = soft;
}

static gb_train_set mixed_set(const double *X, size_t n, const int32_t *y,
                              const double *soft)
{
    gb_train_set ts = binary_set(X, n, 6, y);
    ts.features = mixed_features;
    ts.task = GB_TASK_MULTICLASS;
    ts.n_classes = 3;
    ts.soft = soft;
    ts.alpha = 0.3;
    return ts;
}

START_TEST(test_same_json_for_1_and_2_threads)
{
    size_t n = 12000;
    double *X, *soft;
    int32_t *y;
    make_mixed(n, &X, &y, &soft);
    gb_train_set ts = mixed_set(X, n, y, soft);
    gb_param p[] = {{"max_depth", "7"}, {"max_bins", "64"}};
    ts.n_threads = 1;
    gb_model *m1 = fit_ok(&ts, p, 2);
    ts.n_threads = 2;
    gb_model *m2 = fit_ok(&ts, p, 2);
    char *j1 = model_json(m1), *j2 = model_json(m2);
    ck_assert_str_eq(j1, j2);
    ck_assert_ptr_nonnull(strstr(j1, "left_levels"));
    gb_free(j1);
    gb_free(j2);
    gb_model_free(m1);
    gb_model_free(m2);
    free(X);
    free(y);
    free(soft);
}
END_TEST

START_TEST(test_json_round_trip)
{
    size_t n = 3000;
    double *X, *soft;
    int32_t *y;
    make_mixed(n, &X, &y, &soft);
    gb_train_set ts = mixed_set(X, n, y, soft);
    gb_param p[] = {{"max_depth", "6"}, {"min_samples_leaf", "5"}};
    gb_model *m = fit_ok(&ts, p, 2);
    char *text = model_json(m);
    gb_error err;
    cJSON *parsed = gb_json_parse(text, strlen(text), &err);
    ck_assert_ptr_nonnull(parsed);
    gb_model *back = NULL;
    ck_assert_int_eq(gb_student_from_json(parsed, &back, &err), GB_OK);
    char *text2 = model_json(back);
    ck_assert_str_eq(text, text2);
    double *p1 = malloc(n * 3 * sizeof *p1), *p2 = malloc(n * 3 * sizeof *p2);
    predict_rows(m, X, n, p1);
    predict_rows(back, X, n, p2);
    for (size_t i = 0; i < n * 3; i++)
        ck_assert_msg(p1[i] == p2[i], "row %zu: %.17g vs %.17g", i / 3, p1[i], p2[i]);
    free(p1);
    free(p2);
    cJSON_Delete(parsed);
    gb_free(text);
    gb_free(text2);
    gb_model_free(m);
    gb_model_free(back);
    free(X);
    free(y);
    free(soft);
}
END_TEST

static const char *bad_artifacts[] = {
    "{\"format\":\"x\",\"type\":\"tree\"}",
    "{\"format\":\"glassbox-student\",\"type\":\"forest\"}",
    "{\"format\":\"glassbox-student\",\"version\":1,\"type\":\"tree\",\"task\":"
    "\"binary\","
    "\"classes\":[\"0\",\"1\"],\"features\":[{\"name\":\"x\",\"kind\":\"numeric\"}],"
    "\"params\":{\"max_depth\":1,\"min_samples_leaf\":1,\"max_leaves\":0,\"max_bins\":"
    "255},"
    "\"nodes\":[{\"id\":0,\"feature\":0,\"threshold\":1,\"missing\":\"left\",\"left\":"
    "1,"
    "\"right\":2,\"n\":2},{\"id\":1,\"value\":[1,0],\"n\":1},{\"id\":2,\"value\":[0],"
    "\"n\":1}]}",
    "{\"format\":\"glassbox-student\",\"version\":1,\"type\":\"tree\",\"task\":"
    "\"binary\","
    "\"classes\":[\"0\",\"1\"],\"features\":[{\"name\":\"x\",\"kind\":\"numeric\"}],"
    "\"params\":{\"max_depth\":1,\"min_samples_leaf\":1,\"max_leaves\":0,\"max_bins\":"
    "255},"
    "\"nodes\":[{\"id\":0,\"feature\":3,\"threshold\":1,\"missing\":\"left\",\"left\":"
    "1,"
    "\"right\":2,\"n\":2},{\"id\":1,\"value\":[1,0],\"n\":1},{\"id\":2,\"value\":[0,1],"
    "\"n\":1}]}",
    "{\"format\":\"glassbox-student\",\"version\":1,\"type\":\"tree\",\"task\":"
    "\"binary\","
    "\"classes\":[\"0\",\"1\"],\"features\":[{\"name\":\"x\",\"kind\":\"numeric\"}],"
    "\"params\":{\"max_depth\":1,\"min_samples_leaf\":1,\"max_leaves\":0,\"max_bins\":"
    "255},"
    "\"nodes\":[{\"id\":0,\"feature\":0,\"threshold\":1,\"missing\":\"up\",\"left\":1,"
    "\"right\":1,\"n\":2},{\"id\":1,\"value\":[1,0],\"n\":1}]}",
};

START_TEST(test_bad_artifact_is_rejected)
{
    gb_error err;
    gb_error_clear(&err);
    const char *text = bad_artifacts[_i];
    cJSON *j = gb_json_parse(text, strlen(text), &err);
    ck_assert_ptr_nonnull(j);
    gb_model *m = NULL;
    ck_assert_int_eq(gb_student_from_json(j, &m, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert(err.message[0] != '\0');
    cJSON_Delete(j);
}
END_TEST

/* ---- TreeSHAP against brute-force Shapley values -------------------------- */

/* A tree read back from the artifact, walked without the model's code. */
typedef struct ref_tree {
    cJSON *root;
    const cJSON *nodes;
    const cJSON *features;
    int n_margins;
    gb_task task;
} ref_tree;

static int ref_goes_left(const ref_tree *rt, const cJSON *node, const double *x)
{
    int f = (int)json_num(node, "feature");
    double v = x[f];
    if (isnan(v))
        return strcmp(json_str(node, "missing"), "left") == 0;
    const cJSON *thr = cJSON_GetObjectItem(node, "threshold");
    if (thr != NULL)
        return v <= thr->valuedouble;
    const cJSON *levels =
        cJSON_GetObjectItem(cJSON_GetArrayItem(rt->features, f), "levels");
    const char *level = cJSON_GetArrayItem(levels, (int)v)->valuestring;
    const cJSON *l = NULL;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(node, "left_levels"))
    {
        if (strcmp(l->valuestring, level) == 0)
            return 1;
    }
    return 0;
}

static double ref_margin(const ref_tree *rt, const cJSON *leaf, int k)
{
    const cJSON *v = cJSON_GetObjectItem(leaf, "value");
    if (rt->task == GB_TASK_REGRESSION)
        return cJSON_GetArrayItem(v, 0)->valuedouble;
    if (rt->task == GB_TASK_BINARY) {
        double p = fmin(fmax(cJSON_GetArrayItem(v, 1)->valuedouble, 1e-15), 1 - 1e-15);
        return log(p / (1 - p));
    }
    return log(fmin(fmax(cJSON_GetArrayItem(v, k)->valuedouble, 1e-15), 1 - 1e-15));
}

/* E[margin | x_S] with the path-dependent rule: features outside S are
 * averaged over the training rows reaching each node. */
static double ref_expect(const ref_tree *rt, int id, unsigned subset, const double *x,
                         int k)
{
    const cJSON *node = cJSON_GetArrayItem(rt->nodes, id);
    if (cJSON_GetObjectItem(node, "value") != NULL)
        return ref_margin(rt, node, k);
    int left = (int)json_num(node, "left"), right = (int)json_num(node, "right");
    if (subset & (1u << (int)json_num(node, "feature")))
        return ref_expect(rt, ref_goes_left(rt, node, x) ? left : right, subset, x, k);
    double nl = json_num(cJSON_GetArrayItem(rt->nodes, left), "n");
    double nr = json_num(cJSON_GetArrayItem(rt->nodes, right), "n");
    return (nl * ref_expect(rt, left, subset, x, k) +
            nr * ref_expect(rt, right, subset, x, k)) /
           (nl + nr);
}

static void check_shap_against_brute_force(const gb_model *m, const double *X,
                                           size_t n_rows)
{
    ref_tree rt;
    rt.root = parsed_json(m);
    rt.nodes = cJSON_GetObjectItem(rt.root, "nodes");
    rt.features = cJSON_GetObjectItem(rt.root, "features");
    rt.n_margins = (int)m->n_margins;
    rt.task = m->task;
    int M = (int)m->n_features, K = (int)m->n_margins;
    double *phi = malloc(n_rows * (size_t)K * (size_t)(M + 1) * sizeof *phi);
    double *margin = malloc(n_rows * (size_t)K * sizeof *margin);
    gb_error err;
    ck_assert_int_eq(m->ops->attribute(m, X, n_rows, phi, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict_margin(m, X, n_rows, margin, &err), GB_OK);
    double fact[16] = {1};
    for (int i = 1; i < 16; i++)
        fact[i] = fact[i - 1] * i;
    for (size_t r = 0; r < n_rows; r++) {
        const double *x = X + r * (size_t)M;
        for (int k = 0; k < K; k++) {
            const double *block = phi + (r * (size_t)K + (size_t)k) * (size_t)(M + 1);
            double sum = 0.0;
            for (int f = 0; f <= M; f++)
                sum += block[f];
            ck_assert_msg(fabs(sum - margin[r * (size_t)K + (size_t)k]) < 1e-9,
                          "row %zu margin %d: sum %.17g vs %.17g", r, k, sum,
                          margin[r * (size_t)K + (size_t)k]);
            ck_assert(fabs(block[M] - ref_expect(&rt, 0, 0u, x, k)) < 1e-12);
            for (int i = 0; i < M; i++) {
                double shapley = 0.0;
                for (unsigned S = 0; S < (1u << M); S++) {
                    if (S & (1u << i))
                        continue;
                    int size = __builtin_popcount(S);
                    double w = fact[size] * fact[M - size - 1] / fact[M];
                    shapley += w * (ref_expect(&rt, 0, S | (1u << i), x, k) -
                                    ref_expect(&rt, 0, S, x, k));
                }
                ck_assert_msg(fabs(shapley - block[i]) < 1e-9,
                              "row %zu margin %d feature %d: TreeSHAP %.17g vs %.17g",
                              r, k, i, block[i], shapley);
            }
        }
    }
    free(phi);
    free(margin);
    cJSON_Delete(rt.root);
}

START_TEST(test_tree_shap_multiclass_matches_brute_force)
{
    size_t n = 2000;
    double *X, *soft;
    int32_t *y;
    make_mixed(n, &X, &y, &soft);
    gb_train_set ts = mixed_set(X, n, y, soft);
    gb_param p[] = {{"max_depth", "5"}, {"min_samples_leaf", "10"}};
    gb_model *m = fit_ok(&ts, p, 2);
    check_shap_against_brute_force(m, X, 12);
    gb_model_free(m);
    free(X);
    free(y);
    free(soft);
}
END_TEST

START_TEST(test_tree_shap_binary_and_regression_match_brute_force)
{
    size_t n = 2000, F = 5;
    double *X = malloc(n * F * sizeof *X);
    int32_t *y = malloc(n * sizeof *y);
    make_random_set(n, F, 17, X, y, 0.1);
    gb_train_set ts = binary_set(X, n, F, y);
    gb_param p[] = {{"max_depth", "6"}, {"min_samples_leaf", "5"}};
    gb_model *m = fit_ok(&ts, p, 2);
    check_shap_against_brute_force(m, X, 12);
    gb_model_free(m);
    double *yv = malloc(n * sizeof *yv);
    for (size_t i = 0; i < n; i++)
        yv[i] = y[i] + (isnan(X[i * F]) ? 0.5 : X[i * F]);
    ts.task = GB_TASK_REGRESSION;
    ts.n_classes = 0;
    ts.classes = NULL;
    ts.y_class = NULL;
    ts.y_value = yv;
    m = fit_ok(&ts, p, 2);
    check_shap_against_brute_force(m, X, 12);
    gb_model_free(m);
    free(yv);
    free(X);
    free(y);
}
END_TEST

/* ---- exports ------------------------------------------------------------- */

static int run_cmd(const char *cmd)
{
    int rc = system(cmd);
    return rc;
}

START_TEST(test_c_export_matches_predict)
{
    size_t n = 3000;
    double *X, *soft;
    int32_t *y;
    make_mixed(n, &X, &y, &soft);
    gb_train_set ts = mixed_set(X, n, y, soft);
    gb_param p[] = {{"max_depth", "6"}};
    gb_model *m = fit_ok(&ts, p, 1);
    char *code = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "c", &code, &err), GB_OK);
    char dir[] = "/tmp/gb_tree_c_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/student.c", dir);
    FILE *f = fopen(path, "w");
    fputs(code, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/main.c", dir);
    f = fopen(path, "w");
    fputs("#include <stdio.h>\n"
          "void glassbox_predict(const double *x, double *out);\n"
          "int main(void) {\n"
          "  double x[6], out[3];\n"
          "  while (fread(x, sizeof x, 1, stdin) == 1) {\n"
          "    glassbox_predict(x, out);\n"
          "    fwrite(out, sizeof out, 1, stdout);\n"
          "  }\n"
          "  return 0;\n"
          "}\n",
          f);
    fclose(f);
    snprintf(path, sizeof path, "%s/x.bin", dir);
    f = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(X, sizeof *X, n * 6, f), n * 6);
    fclose(f);
    snprintf(
        cmd, sizeof cmd,
        "cc -std=c11 -O2 -Wall -Werror -o %s/predict %s/student.c %s/main.c -lm && "
        "%s/predict < %s/x.bin > %s/out.bin",
        dir, dir, dir, dir, dir, dir);
    ck_assert_int_eq(run_cmd(cmd), 0);
    snprintf(path, sizeof path, "%s/out.bin", dir);
    double *got = malloc(n * 3 * sizeof *got), *want = malloc(n * 3 * sizeof *want);
    f = fopen(path, "rb");
    ck_assert_uint_eq(fread(got, sizeof *got, n * 3, f), n * 3);
    fclose(f);
    predict_rows(m, X, n, want);
    ck_assert(memcmp(got, want, n * 3 * sizeof *got) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(run_cmd(cmd), 0);
    free(got);
    free(want);
    gb_free(code);
    gb_model_free(m);
    free(X);
    free(y);
    free(soft);
}
END_TEST

START_TEST(test_sql_export_matches_predict)
{
    size_t n = 3000;
    double *X, *soft;
    int32_t *y;
    make_mixed(n, &X, &y, &soft);
    gb_train_set ts = mixed_set(X, n, y, soft);
    gb_param p[] = {{"max_depth", "6"}};
    gb_model *m = fit_ok(&ts, p, 1);
    char *sql = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "sql", &sql, &err), GB_OK);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "CREATE TABLE t(id INTEGER PRIMARY KEY, n0 REAL, n1 REAL, "
                     "cat TEXT, n3 REAL, n4 REAL, n5 REAL)",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_stmt *ins = NULL;
    ck_assert_int_eq(
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?,?,?,?)", -1, &ins, NULL),
        SQLITE_OK);
    /* one extra row with an unknown level, which the design matrix turns
     * into a missing value */
    for (size_t i = 0; i <= n; i++) {
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)i);
        for (int f = 0; f < 6; f++) {
            double x = i < n ? X[i * 6 + f] : NAN;
            if (f == 2 && i == n)
                sqlite3_bind_text(ins, 4, "zzz", -1, SQLITE_STATIC);
            else if (isnan(x))
                sqlite3_bind_null(ins, f + 2);
            else if (f == 2)
                sqlite3_bind_text(ins, 4, mixed_levels[(int)x], -1, SQLITE_STATIC);
            else
                sqlite3_bind_double(ins, f + 2, x);
        }
        ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    size_t qlen = strlen(sql) + 64;
    char *query = malloc(qlen);
    snprintf(query, qlen, "SELECT\n%s FROM t ORDER BY id", sql);
    sqlite3_stmt *sel = NULL;
    int prc = sqlite3_prepare_v2(db, query, -1, &sel, NULL);
    ck_assert_msg(prc == SQLITE_OK, "prepare: %s", sqlite3_errmsg(db));
    ck_assert_str_eq(sqlite3_column_name(sel, 0), "p_0");
    double *want = malloc((n + 1) * 3 * sizeof *want);
    predict_rows(m, X, n, want);
    double *last = X + (n - 1) * 6, unknown[6];
    memcpy(unknown, last, sizeof unknown);
    for (int f = 0; f < 6; f++)
        unknown[f] = NAN;
    predict_rows(m, unknown, 1, want + n * 3);
    size_t row = 0;
    while (sqlite3_step(sel) == SQLITE_ROW) {
        for (int k = 0; k < 3; k++)
            ck_assert_msg(sqlite3_column_double(sel, k) == want[row * 3 + k],
                          "row %zu output %d: %.17g vs %.17g", row, k,
                          sqlite3_column_double(sel, k), want[row * 3 + k]);
        row++;
    }
    ck_assert_uint_eq(row, n + 1);
    sqlite3_finalize(sel);
    sqlite3_close(db);
    free(query);
    free(want);
    gb_free(sql);
    gb_model_free(m);
    free(X);
    free(y);
    free(soft);
}
END_TEST

START_TEST(test_export_unknown_format)
{
    double X[4] = {0, 1, 2, 3};
    int32_t y[4] = {0, 0, 1, 1};
    gb_train_set ts = binary_set(X, 4, 1, y);
    gb_model *m = fit_ok(&ts, NULL, 0);
    char *out = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "pmml", &out, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(err.message, "pmml"));
    gb_model_free(m);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

typedef struct param_case {
    const char *key, *value, *field;
} param_case;

static const param_case bad_params[] = {
    {"depth", "3", "depth"},
    {"max_depth", "0", "max_depth"},
    {"max_depth", "1000", "max_depth"},
    {"max_depth", "33", "max_depth"},
    {"max_depth", "three", "max_depth"},
    {"max_depth", "3.5", "max_depth"},
    {"max_depth", "-2", "max_depth"},
    {"max_depth", "", "max_depth"},
    {"min_samples_leaf", "0", "min_samples_leaf"},
    {"min_samples_leaf", "x", "min_samples_leaf"},
    {"max_leaves", "1", "max_leaves"},
    {"max_leaves", "-1", "max_leaves"},
    {"max_bins", "1", "max_bins"},
    {"max_bins", "256", "max_bins"},
};
#define N_BAD_PARAMS (int)(sizeof bad_params / sizeof bad_params[0])

START_TEST(test_bad_parameter)
{
    const param_case *pc = &bad_params[_i];
    gb_param p[] = {{pc->key, pc->value}};
    gb_error err;
    gb_error_clear(&err);
    ck_assert_int_eq(gb_student_check("tree", p, 1, GB_TASK_BINARY, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, pc->field);
    ck_assert_ptr_nonnull(strstr(err.message, pc->key));
    /* fit refuses before any work: no model, even on an empty training set */
    double X[2] = {0, 1};
    int32_t y[2] = {0, 1};
    gb_train_set ts = binary_set(X, 2, 1, y);
    gb_model *m = NULL;
    gb_error_clear(&err);
    ck_assert_int_eq(gb_student_fit("tree", p, 1, &ts, NULL, &m, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(err.field, pc->field);
}
END_TEST

START_TEST(test_repeated_parameter)
{
    gb_param p[] = {{"max_depth", "3"}, {"max_depth", "4"}};
    gb_error err;
    ck_assert_int_eq(gb_student_check("tree", p, 2, GB_TASK_BINARY, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "max_depth");
}
END_TEST

START_TEST(test_good_parameters)
{
    gb_param p[] = {{"max_depth", "32"},
                    {"min_samples_leaf", "20"},
                    {"max_leaves", "2"},
                    {"max_bins", "2"}};
    gb_tree_params tp;
    gb_error err;
    ck_assert_int_eq(gb_tree_params_parse(p, 4, &tp, &err), GB_OK);
    ck_assert_uint_eq(tp.max_depth, 32);
    ck_assert_uint_eq(tp.min_samples_leaf, 20);
    ck_assert_uint_eq(tp.max_leaves, 2);
    ck_assert_uint_eq(tp.max_bins, 2);
    ck_assert_int_eq(gb_tree_params_parse(NULL, 0, &tp, &err), GB_OK);
    ck_assert_uint_eq(tp.max_depth, 6);
    ck_assert_uint_eq(tp.min_samples_leaf, 1);
    ck_assert_uint_eq(tp.max_leaves, 0);
    ck_assert_uint_eq(tp.max_bins, 255);
}
END_TEST

START_TEST(test_unknown_student_type)
{
    gb_error err;
    ck_assert_int_eq(gb_student_check("forest", NULL, 0, GB_TASK_BINARY, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_nonnull(
        strstr(err.message, "unknown student type 'forest' (known: tree"));
    ck_assert(!gb_student_wants_one_hot("tree"));
}
END_TEST

/* Training sets a caller can get wrong; each is refused with a message. */
START_TEST(test_bad_training_set)
{
    double nan = NAN, inf = INFINITY;
    double X[4] = {0, 1, 2, 3};
    int32_t y[4] = {0, 1, 0, 1};
    int32_t y_bad[4] = {0, 1, 2, 1};
    double soft_bad[8] = {0.5, 0.5, 1.5, -0.5, 0.5, 0.5, 0.5, 0.5};
    gb_train_set ts = binary_set(X, 4, 1, y);
    gb_model *m = NULL;
    gb_error err;
    const char *want = NULL;
    switch (_i) {
    case 0:
        ts.alpha = 1.5;
        want = "alpha";
        break;
    case 1:
        ts.alpha = 0.5; /* no soft targets */
        want = "soft";
        break;
    case 2:
        ts.y_class = y_bad;
        want = "class label 2 of training row 3";
        break;
    case 3:
        ts.alpha = 0.0;
        ts.soft = soft_bad;
        want = "row 2";
        break;
    case 4:
        X[2] = inf;
        want = "row 3 is infinite";
        break;
    case 5:
        ts.features = purpose_feature;
        X[1] = 7;
        want = "not a level code";
        break;
    case 6:
        ts.n_rows = 0;
        want = "no rows";
        break;
    default:
        ts.task = GB_TASK_REGRESSION;
        ts.n_classes = 0;
        ts.y_value = NULL;
        want = "hard targets";
        break;
    }
    (void)nan;
    ck_assert_int_eq(gb_tree_fit(NULL, 0, &ts, NULL, &m, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err.message, want) != NULL, "message '%s' lacks '%s'",
                  err.message, want);
}
END_TEST

static void count_cb(void *ctx, const char *phase, double fraction)
{
    (void)phase;
    (void)fraction;
    (*(int *)ctx)++;
}

START_TEST(test_progress_and_cancel)
{
    size_t n = 2000, F = 4;
    double *X = malloc(n * F * sizeof *X);
    int32_t *y = malloc(n * sizeof *y);
    make_random_set(n, F, 5, X, y, 0.0);
    gb_train_set ts = binary_set(X, n, F, y);
    atomic_int cancel = 0;
    int calls = 0;
    gb_progress prog = {count_cb, &calls, &cancel};
    gb_model *m = NULL;
    gb_error err;
    ck_assert_int_eq(gb_tree_fit(NULL, 0, &ts, &prog, &m, &err), GB_OK);
    ck_assert(calls >= 3);
    gb_model_free(m);
    m = NULL;
    atomic_store(&cancel, 1);
    ck_assert_int_eq(gb_tree_fit(NULL, 0, &ts, &prog, &m, &err), GB_ECANCELLED);
    ck_assert_ptr_null(m);
    free(X);
    free(y);
}
END_TEST

/* Every allocation failure is reported as GB_ENOMEM without leaks (ASan). */
START_TEST(test_allocation_failures)
{
    size_t n = 500;
    double *X, *soft;
    int32_t *y;
    make_mixed(n, &X, &y, &soft);
    gb_train_set ts = mixed_set(X, n, y, soft);
    gb_param p[] = {{"max_depth", "4"}};
    int succeeded = 0;
    for (long k = 1; k < 400 && !succeeded; k++) {
        gb_model *m = NULL;
        gb_error err;
        gb_alloc_fail_after(k);
        gb_status rc = gb_tree_fit(p, 1, &ts, NULL, &m, &err);
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
    free(X);
    free(y);
    free(soft);
}
END_TEST

/* ---- accuracy against scikit-learn --------------------------------------- */

typedef struct loaded_split {
    gb_table *table;
    gb_target target;
    gb_feature *features;
    size_t n_features;
    double *X;
} loaded_split;

/* Reads tests/fixtures/datasets/<name>_<part>.csv; features are every column
 * but "target" (bound by name, so the test split reuses the train list). */
static void load_split(const char *name, const char *part, const gb_feature *features,
                       size_t n_features, loaded_split *out)
{
    char path[256];
    gb_error err;
    snprintf(path, sizeof path, "tests/fixtures/datasets/%s_%s.csv", name, part);
    memset(out, 0, sizeof *out);
    ck_assert_msg(gb_csv_read_file(path, NULL, &out->table, &err) == GB_OK, "%s: %s",
                  path, err.message);
    ck_assert_int_eq(
        gb_target_resolve(out->table, "target", GB_TASK_AUTO, &out->target, &err),
        GB_OK);
    if (features == NULL) {
        unsigned char *exclude = calloc(out->table->n_cols, 1);
        exclude[out->target.col] = 1;
        ck_assert_int_eq(gb_features_from_table(out->table, exclude, 0, &out->features,
                                                &out->n_features, &err),
                         GB_OK);
        free(exclude);
        features = out->features;
        n_features = out->n_features;
    }
    gb_design *d = gb_design_bind(features, n_features, out->table, &err);
    ck_assert_ptr_nonnull(d);
    out->X = malloc(out->table->n_rows * n_features * sizeof *out->X);
    gb_design_fill(d, NULL, 0, out->table->n_rows, out->X);
    gb_design_free(d);
}

static void free_split(loaded_split *s)
{
    gb_features_free(s->features, s->n_features);
    gb_target_free(&s->target);
    gb_table_free(s->table);
    free(s->X);
}

/* The baseline tree (hard labels) with scikit-learn's settings matches
 * DecisionTreeClassifier's test accuracy within 1 point at depths 3..8, both
 * of random_state=0 and of the mean over random states 0..19 (scikit-learn
 * breaks ties at random). */
START_TEST(test_accuracy_matches_sklearn)
{
    const char *name = _i == 0 ? "breast_cancer" : "digits";
    FILE *f = fopen("tests/fixtures/tree/sklearn_accuracy.json", "rb");
    ck_assert_ptr_nonnull(f);
    char buf[8192];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    gb_error err;
    cJSON *fx = gb_json_parse(buf, len, &err);
    ck_assert_ptr_nonnull(fx);
    const cJSON *rows = cJSON_GetObjectItem(cJSON_GetObjectItem(fx, "datasets"), name);
    ck_assert_int_eq(cJSON_GetArraySize(rows), 6);

    loaded_split tr, te;
    load_split(name, "train", NULL, 0, &tr);
    load_split(name, "test", tr.features, tr.n_features, &te);
    ck_assert_uint_eq(tr.target.n_classes, te.target.n_classes);
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = tr.table->n_rows;
    ts.n_features = tr.n_features;
    ts.X = tr.X;
    ts.features = tr.features;
    ts.task = tr.target.task;
    ts.n_classes = tr.target.n_classes;
    ts.classes = tr.target.classes;
    ts.y_class = tr.target.y_class;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.n_threads = 2;
    size_t n_test = te.table->n_rows, K = ts.n_classes;
    double *proba = malloc(n_test * K * sizeof *proba);
    const cJSON *row = NULL;
    cJSON_ArrayForEach(row, rows)
    {
        char depth[8];
        snprintf(depth, sizeof depth, "%d", (int)json_num(row, "max_depth"));
        gb_param p[] = {{"max_depth", depth}, {"min_samples_leaf", "1"}};
        gb_model *m = fit_ok(&ts, p, 2);
        predict_rows(m, te.X, n_test, proba);
        size_t correct = 0;
        for (size_t i = 0; i < n_test; i++) {
            size_t best = 0;
            for (size_t k = 1; k < K; k++)
                if (proba[i * K + k] > proba[i * K + best])
                    best = k;
            correct += (int32_t)best == te.target.y_class[i];
        }
        double acc = (double)correct / (double)n_test;
        double ref = json_num(row, "test_accuracy");
        double mean = json_num(cJSON_GetObjectItem(row, "random_states_0_19"), "mean");
        if (getenv("GB_TEST_VERBOSE") != NULL)
            fprintf(stderr,
                    "%s depth %s: glassbox %.4f, scikit-learn %.4f (mean %.4f)\n", name,
                    depth, acc, ref, mean);
        ck_assert_msg(fabs(acc - ref) <= 0.01 + 1e-12 &&
                          fabs(acc - mean) <= 0.01 + 1e-12,
                      "%s depth %s: accuracy %.4f vs scikit-learn %.4f (mean %.4f)",
                      name, depth, acc, ref, mean);
        gb_model_free(m);
    }
    free(proba);
    free_split(&tr);
    free_split(&te);
    cJSON_Delete(fx);
}
END_TEST

/* ---- suite --------------------------------------------------------------- */

static Suite *tree_suite(void)
{
    Suite *s = suite_create("tree");
    TCase *tc = tcase_create("fit");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_stump_picks_best_feature);
    tcase_add_test(tc, test_regression_tie_takes_lower_threshold);
    tcase_add_test(tc, test_threshold_in_middle_of_gap);
    tcase_add_test(tc, test_tie_takes_lower_feature);
    tcase_add_test(tc, test_soft_target_leaf_values);
    tcase_add_test(tc, test_soft_leaf_matches_sklearn_regressor);
    tcase_add_test(tc, test_exact_splits_match_sklearn);
    tcase_add_test(tc, test_exact_search_with_many_bins_gathered);
    tcase_add_test(tc, test_random_trees_are_exact);
    tcase_add_test(tc, test_missing_goes_to_the_better_side);
    tcase_add_test(tc, test_missing_unseen_goes_to_larger_side);
    tcase_add_test(tc, test_categorical_split_by_ordered_levels);
    tcase_add_test(tc, test_categorical_rules_merge);
    tcase_add_test(tc, test_categorical_multiclass_order);
    tcase_add_test(tc, test_categorical_with_many_levels);
    tcase_add_test(tc, test_no_features_gives_one_leaf);
    tcase_add_test(tc, test_constant_targets_do_not_split);
    tcase_add_test(tc, test_min_samples_leaf_and_max_depth);
    tcase_add_test(tc, test_max_leaves_best_first);
    tcase_add_test(tc, test_max_leaves_splits_largest_gain_first);
    tcase_add_test(tc, test_best_first_beyond_histogram_budget);
    tcase_add_test(tc, test_same_json_for_1_and_2_threads);
    tcase_add_test(tc, test_json_round_trip);
    tcase_add_loop_test(tc, test_bad_artifact_is_rejected, 0,
                        (int)(sizeof bad_artifacts / sizeof bad_artifacts[0]));
    tcase_add_test(tc, test_tree_shap_multiclass_matches_brute_force);
    tcase_add_test(tc, test_tree_shap_binary_and_regression_match_brute_force);
    tcase_add_test(tc, test_c_export_matches_predict);
    tcase_add_test(tc, test_sql_export_matches_predict);
    tcase_add_test(tc, test_export_unknown_format);
    tcase_add_loop_test(tc, test_bad_parameter, 0, N_BAD_PARAMS);
    tcase_add_test(tc, test_repeated_parameter);
    tcase_add_test(tc, test_good_parameters);
    tcase_add_test(tc, test_unknown_student_type);
    tcase_add_loop_test(tc, test_bad_training_set, 0, 8);
    tcase_add_test(tc, test_progress_and_cancel);
    tcase_add_test(tc, test_allocation_failures);
    tcase_add_loop_test(tc, test_accuracy_matches_sklearn, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tree_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
