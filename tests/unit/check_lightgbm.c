/*
 * check_lightgbm.c - LightGBM text models: the committed fixtures against
 * their reference predictions, the decision rules on hand-checked trees,
 * every objective, every refusal, and the teacher loader around them.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/json.h"
#include "core/model/model.h"
#include "core/model/teachers/lightgbm.h"
#include "core/model/teachers/load.h"

#define FIXTURES "tests/fixtures/lightgbm/"

/* ---- helpers ----------------------------------------------------------- */

static char text_buf[32768];

/* A model file: header with objective/classes/features, then trees. */
static const char *model_text(const char *objective, int num_class, int ntpi,
                              const char *names, int max_feature_idx, const char *trees,
                              const char *tail)
{
    snprintf(
        text_buf, sizeof text_buf,
        "tree\nversion=v4\nnum_class=%d\nnum_tree_per_iteration=%d\nlabel_index=0\n"
        "max_feature_idx=%d\n%s%s\nfeature_names=%s\nfeature_infos=none none none\n"
        "tree_sizes=1\n\n%send of trees\n\nfeature_importances:\n\nparameters:\n"
        "[boosting: gbdt]\nend of parameters\n%s",
        num_class, ntpi, max_feature_idx, objective[0] ? "objective=" : "", objective,
        names, trees, tail);
    return text_buf;
}

/* A single-leaf tree with value v, numbered i. */
static const char *leaf_tree(int i, const char *v)
{
    static char buf[8][256];
    char *b = buf[i % 8];
    snprintf(
        b, 256,
        "Tree=%d\nnum_leaves=1\nnum_cat=0\nsplit_feature=\nsplit_gain=\nthreshold=\n"
        "decision_type=\nleft_child=\nright_child=\nleaf_value=%s\nleaf_weight=\n"
        "leaf_count=\ninternal_value=\ninternal_weight=\ninternal_count=\nis_linear=0\n"
        "shrinkage=1\n\n\n",
        i, v);
    return b;
}

static gb_model *load_ok(const char *text)
{
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    gb_status rc = gb_lightgbm_load(text, strlen(text), &m, &err);
    ck_assert_msg(rc == GB_OK, "load failed: %s", err.message);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Loads text expecting GB_EUNUSABLE; returns the error. */
static gb_error load_fails(const char *text)
{
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    gb_status rc = gb_lightgbm_load(text, strlen(text), &m, &err);
    ck_assert_msg(rc == GB_EUNUSABLE, "expected GB_EUNUSABLE, got %d (%s)", rc,
                  err.message);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(err.code, GB_EUNUSABLE);
    return err;
}

static double predict1(const gb_model *m, const double *x, size_t k)
{
    double out[8];
    gb_error err;
    gb_error_clear(&err);
    ck_assert_int_eq(m->ops->predict(m, x, 1, out, &err), GB_OK);
    return out[k];
}

/* The committed fixture for `name` scored on data.csv, compared with the
 * reference predictions written by scripts/fixtures/make_lightgbm.py. */
static void check_fixture(const char *name, gb_task task, size_t n_outputs)
{
    char path[256];
    gb_error err;
    gb_error_clear(&err);
    gb_model *m = NULL;
    snprintf(path, sizeof path, FIXTURES "%s.txt", name);
    ck_assert_msg(gb_teacher_load_file(path, &m, &err) == GB_OK, "%s", err.message);
    ck_assert_str_eq(m->ops->kind, "lightgbm");
    ck_assert_int_eq(m->task, task);
    ck_assert_uint_eq(m->n_outputs, n_outputs);

    gb_table *data = NULL, *expected = NULL;
    ck_assert_msg(gb_csv_read_file(FIXTURES "data.csv", NULL, &data, &err) == GB_OK,
                  "%s", err.message);
    snprintf(path, sizeof path, FIXTURES "%s_expected.csv", name);
    ck_assert_msg(gb_csv_read_file(path, NULL, &expected, &err) == GB_OK, "%s",
                  err.message);
    ck_assert_uint_eq(expected->n_rows, data->n_rows);
    ck_assert_uint_eq(expected->n_cols, n_outputs);
    ck_assert_int_eq(gb_model_check_features(m, data, &err), GB_OK);

    double *pred = malloc(data->n_rows * n_outputs * sizeof *pred);
    ck_assert_msg(gb_model_predict_table(m, data, NULL, data->n_rows, pred, &err) ==
                      GB_OK,
                  "%s", err.message);
    double worst = 0.0;
    for (size_t i = 0; i < data->n_rows; i++)
        for (size_t k = 0; k < n_outputs; k++) {
            double d = fabs(pred[i * n_outputs + k] - expected->cols[k].values[i]);
            if (d > worst)
                worst = d;
            ck_assert_msg(d <= 1e-12, "%s row %zu output %zu: %.17g vs %.17g", name, i,
                          k, pred[i * n_outputs + k], expected->cols[k].values[i]);
        }
    free(pred);
    gb_table_free(data);
    gb_table_free(expected);
    gb_model_free(m);
}

/* ---- fixtures ----------------------------------------------------------- */

/* The model shap_<name>.txt (with node counts) against the brute-force
 * path-dependent Shapley values of shap_<name>.json
 * (scripts/fixtures/make_lightgbm_shap.py), through the attribute
 * operation; every block sums to the raw score. */
static void check_shap_fixture(const char *name)
{
    char path[256];
    gb_error err;
    gb_model *m = NULL;
    snprintf(path, sizeof path, FIXTURES "shap_%s.txt", name);
    ck_assert_msg(gb_teacher_load_file(path, &m, &err) == GB_OK, "%s", err.message);
    ck_assert_msg(m->ops->attribute != NULL, "%s: no attribute operation", name);
    snprintf(path, sizeof path, FIXTURES "shap_%s.json", name);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    ck_assert_uint_lt(n, sizeof text);
    cJSON *ref = gb_json_parse(text, n, &err);
    ck_assert_ptr_nonnull(ref);
    size_t nf = (size_t)cJSON_GetObjectItem(ref, "n_features")->valueint;
    size_t no = (size_t)cJSON_GetObjectItem(ref, "n_outputs")->valueint;
    ck_assert_uint_eq(m->n_features, nf);
    ck_assert_uint_eq(m->n_margins, no);
    const cJSON *xs = cJSON_GetObjectItem(ref, "X");
    size_t nr = (size_t)cJSON_GetArraySize(xs);
    double *X = malloc(nr * nf * sizeof *X);
    double *phi = malloc(nr * no * (nf + 1) * sizeof *phi);
    double *margin = malloc(nr * no * sizeof *margin);
    size_t i = 0;
    const cJSON *row = NULL, *v = NULL, *out = NULL;
    cJSON_ArrayForEach(row, xs)
    {
        size_t j = 0;
        cJSON_ArrayForEach(v, row) X[i * nf + j++] =
            cJSON_IsNull(v) ? NAN : v->valuedouble;
        i++;
    }
    ck_assert_int_eq(m->ops->attribute(m, X, nr, phi, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict_margin(m, X, nr, margin, &err), GB_OK);
    double worst = 0;
    i = 0;
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(ref, "contribs"))
    {
        size_t k = 0;
        cJSON_ArrayForEach(out, row)
        {
            size_t j = 0;
            double sum = 0;
            cJSON_ArrayForEach(v, out)
            {
                double got = phi[(i * no + k) * (nf + 1) + j];
                double d = fabs(got - v->valuedouble);
                worst = d > worst ? d : worst;
                ck_assert_msg(d < 1e-9,
                              "%s row %zu output %zu feature %zu: %.17g vs %.17g", name,
                              i, k, j, got, v->valuedouble);
                sum += got;
                j++;
            }
            ck_assert_uint_eq(j, nf + 1);
            ck_assert_msg(fabs(sum - margin[i * no + k]) < 1e-9,
                          "%s row %zu: sum %.17g, raw score %.17g", name, i, sum,
                          margin[i * no + k]);
            k++;
        }
        ck_assert_uint_eq(k, no);
        i++;
    }
    ck_assert_uint_eq(i, nr);
    fprintf(stderr,
            "lightgbm treeshap %s: %zu rows, worst |diff| vs brute force %.3g\n", name,
            nr, worst);
    free(X);
    free(phi);
    free(margin);
    cJSON_Delete(ref);
    gb_model_free(m);
}

START_TEST(test_shap_binary)
{
    check_shap_fixture("binary");
}
END_TEST

START_TEST(test_shap_multiclass)
{
    check_shap_fixture("multiclass");
}
END_TEST

START_TEST(test_shap_average_output)
{
    check_shap_fixture("average");
}
END_TEST

/* Models whose counts cannot serve as covers (internal_count 0, as the
 * prediction fixtures have, or no count lines) load without attributions. */
START_TEST(test_no_attribute_without_counts)
{
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_teacher_load_file(FIXTURES "binary.txt", &m, &err), GB_OK);
    ck_assert_ptr_null(m->ops->attribute);
    gb_model_free(m);
    m = load_ok(model_text("regression", 1, 1, "a b c", 2, leaf_tree(0, "1.5"), ""));
    ck_assert_ptr_null(m->ops->attribute);
    gb_model_free(m);
}
END_TEST

START_TEST(test_fixture_binary)
{
    check_fixture("binary", GB_TASK_BINARY, 2);
}
END_TEST

START_TEST(test_fixture_multiclass)
{
    check_fixture("multiclass", GB_TASK_MULTICLASS, 3);
}
END_TEST

START_TEST(test_fixture_regression)
{
    check_fixture("regression", GB_TASK_REGRESSION, 1);
}
END_TEST

START_TEST(test_fixture_pandas_categories_become_levels)
{
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    ck_assert_int_eq(gb_teacher_load_file(FIXTURES "binary.txt", &m, &err), GB_OK);
    ck_assert_uint_eq(m->n_features, 5);
    ck_assert_str_eq(m->features[3].name, "color");
    ck_assert_int_eq(m->features[3].kind, GB_FEAT_CATEGORICAL);
    ck_assert_uint_eq(m->features[3].n_levels, 3);
    ck_assert_str_eq(m->features[3].levels[2], "red");
    ck_assert_int_eq(m->features[0].kind, GB_FEAT_NUMERIC);
    ck_assert_str_eq(m->classes[0], "0");
    ck_assert_str_eq(m->classes[1], "1");
    gb_model_free(m);
}
END_TEST

/* ---- decision rules on hand-checked trees -------------------------------- */

/* Tree 0: node 0 numeric a <= 1.5, missing NaN, default left -> leaf 0 (1);
 * else node 1 categorical on b, bitset {1, 33}, -> leaf 1 (2) / leaf 2 (3).
 * Tree 1: one leaf 0.5.  Regression: prediction = sum. */
static const char *numeric_categorical_model(void)
{
    static char trees[8192];
    snprintf(trees, sizeof trees,
             "Tree=0\nnum_leaves=3\nnum_cat=1\nsplit_feature=0 1\nsplit_gain=1 1\n"
             "threshold=1.5 0\ndecision_type=10 9\nleft_child=-1 -2\nright_child=1 -3\n"
             "leaf_value=1 2 3\ncat_boundaries=0 2\ncat_threshold=2 2\nis_linear=0\n"
             "shrinkage=0.1\n\n\n%s",
             leaf_tree(1, "0.5"));
    return model_text("regression", 1, 1, "a b", 1, trees, "");
}

START_TEST(test_numeric_nan_default_left_and_categorical_bitset)
{
    gb_model *m = load_ok(numeric_categorical_model());
    struct {
        double a, b, want;
    } cases[] = {
        {1.0, 0, 1.5},   {1.5, 0, 1.5},     /* <= threshold goes left */
        {NAN, 0, 1.5},                      /* NaN type: default left */
        {2.0, 1, 2.5},   {2.0, 33, 2.5},    /* in the bitset, both words */
        {2.0, 1.9, 2.5},                    /* int(1.9) = 1 */
        {2.0, 2, 3.5},   {2.0, 32, 3.5},    /* not in the bitset */
        {2.0, NAN, 3.5}, {2.0, -1, 3.5},    /* NaN / negative go right */
        {2.0, 64, 3.5},  {2.0, 1e300, 3.5}, /* beyond the bitset */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double x[2] = {cases[i].a, cases[i].b};
        ck_assert_msg(predict1(m, x, 0) == cases[i].want, "case %zu: %g", i,
                      predict1(m, x, 0));
    }
    gb_model_free(m);
}
END_TEST

/* One numeric split on a with the given decision type and threshold:
 * left leaf 10, right leaf 20. */
static gb_model *one_split(int decision_type, const char *threshold)
{
    char trees[1024];
    snprintf(trees, sizeof trees,
             "Tree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=0\nsplit_gain=1\n"
             "threshold=%s\ndecision_type=%d\nleft_child=-1\nright_child=-2\n"
             "leaf_value=10 20\nis_linear=0\nshrinkage=1\n\n\n",
             threshold, decision_type);
    return load_ok(model_text("regression", 1, 1, "a", 0, trees, ""));
}

START_TEST(test_missing_type_none)
{
    /* None: NaN reads as 0.0 and is compared with the threshold. */
    gb_model *m = one_split(2 /* default_left, ignored */, "-0.5");
    double x[1] = {NAN};
    ck_assert(predict1(m, x, 0) == 20);
    x[0] = -1;
    ck_assert(predict1(m, x, 0) == 10);
    gb_model_free(m);
    m = one_split(0, "0.25");
    x[0] = NAN;
    ck_assert(predict1(m, x, 0) == 10);
    gb_model_free(m);
}
END_TEST

START_TEST(test_missing_type_zero)
{
    /* Zero, default right: 0, NaN and |x| <= 1e-35f take the default. */
    gb_model *m = one_split(4, "5");
    double vals[] = {0.0, -0.0, NAN, 1e-36, -1e-40, 1.0000000180025095e-35};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        double x[1] = {vals[i]};
        ck_assert_msg(predict1(m, x, 0) == 20, "value %g", vals[i]);
    }
    double x[1] = {1e-34};
    ck_assert(predict1(m, x, 0) == 10);
    gb_model_free(m);
    m = one_split(6, "-5"); /* default left */
    x[0] = 0.0;
    ck_assert(predict1(m, x, 0) == 10);
    x[0] = 3.0;
    ck_assert(predict1(m, x, 0) == 20);
    gb_model_free(m);
}
END_TEST

START_TEST(test_missing_type_nan_default_right)
{
    gb_model *m = one_split(8, "1.0000000180025095e-35");
    double x[1] = {NAN};
    ck_assert(predict1(m, x, 0) == 20);
    x[0] = 0.0;
    ck_assert(predict1(m, x, 0) == 10);
    x[0] = 2e-35; /* above the threshold, not a zero */
    ck_assert(predict1(m, x, 0) == 20);
    x[0] = 1e-40; /* reads as 0 */
    ck_assert(predict1(m, x, 0) == 10);
    gb_model_free(m);
}
END_TEST

/* ---- objectives ------------------------------------------------------------ */

START_TEST(test_binary_sigmoid_parameter)
{
    char trees[8192];
    snprintf(trees, sizeof trees, "%s%s", leaf_tree(0, "0.25"), leaf_tree(1, "0.05"));
    gb_model *m = load_ok(model_text("binary sigmoid:2", 1, 1, "a", 0, trees, ""));
    double x[1] = {0}, out[2], margin[1];
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, x, 1, out, &err), GB_OK);
    double p = 1.0 / (1.0 + exp(-2.0 * (0.25 + 0.05)));
    ck_assert(fabs(out[1] - p) <= 1e-15);
    ck_assert(fabs(out[0] - (1 - p)) <= 1e-15);
    ck_assert_int_eq(m->ops->predict_margin(m, x, 1, margin, &err), GB_OK);
    ck_assert(margin[0] == 0.25 + 0.05);
    ck_assert_uint_eq(m->n_margins, 1);
    gb_model_free(m);
}
END_TEST

START_TEST(test_multiclass_softmax_interleaved)
{
    char trees[16384];
    snprintf(trees, sizeof trees, "%s%s%s%s%s%s", leaf_tree(0, "0.1"),
             leaf_tree(1, "-0.2"), leaf_tree(2, "0.3"), leaf_tree(3, "0.4"),
             leaf_tree(4, "0.5"), leaf_tree(5, "-0.6"));
    gb_model *m =
        load_ok(model_text("multiclass num_class:3", 3, 3, "a", 0, trees, ""));
    double raw[3] = {0.1 + 0.4, -0.2 + 0.5, 0.3 - 0.6}, x[1] = {0}, out[3];
    double top = raw[0] > raw[1] ? raw[0] : raw[1], s = 0, e[3];
    for (int k = 0; k < 3; k++)
        s += e[k] = exp(raw[k] - top);
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, x, 1, out, &err), GB_OK);
    for (int k = 0; k < 3; k++)
        ck_assert(fabs(out[k] - e[k] / s) <= 1e-15);
    ck_assert_uint_eq(m->n_classes, 3);
    ck_assert_str_eq(m->classes[2], "2");
    gb_model_free(m);
}
END_TEST

START_TEST(test_regression_links)
{
    char trees[8192];
    snprintf(trees, sizeof trees, "%s%s", leaf_tree(0, "-1"), leaf_tree(1, "-0.5"));
    double x[1] = {0};
    gb_model *m = load_ok(model_text("regression sqrt", 1, 1, "a", 0, trees, ""));
    ck_assert(predict1(m, x, 0) == -2.25);
    gb_model_free(m);
    m = load_ok(model_text("poisson max_delta_step:0.7", 1, 1, "a", 0, trees, ""));
    ck_assert(predict1(m, x, 0) == exp(-1.5));
    gb_model_free(m);
    m = load_ok(model_text("huber", 1, 1, "a", 0, trees, ""));
    ck_assert(predict1(m, x, 0) == -1.5);
    gb_model_free(m);
    /* average_output (random forest): the mean over iterations. */
    char text[32768];
    snprintf(text, sizeof text, "%s",
             model_text("regression", 1, 1, "a", 0, trees, ""));
    char *at = strstr(text, "feature_names=");
    memmove(at + strlen("average_output\n"), at, strlen(at) + 1);
    memcpy(at, "average_output\n", strlen("average_output\n"));
    m = load_ok(text);
    ck_assert(predict1(m, x, 0) == -0.75);
    gb_model_free(m);
}
END_TEST

START_TEST(test_crlf_and_to_json)
{
    const char *text =
        "tree\r\nversion=v3\r\nnum_class=1\r\nmax_feature_idx=0\r\n"
        "objective=binary sigmoid:1\r\nfeature_names=a\r\n\r\nTree=0\r\n"
        "num_leaves=1\r\nleaf_value=0\r\nshrinkage=1\r\n\r\nend of trees\r\n";
    gb_model *m = load_ok(text);
    double x[1] = {1};
    ck_assert(predict1(m, x, 1) == 0.5);
    cJSON *j = m->ops->to_json(m);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "format")->valuestring, "lightgbm");
    ck_assert(cJSON_GetObjectItem(j, "trees")->valuedouble == 1);
    cJSON_Delete(j);
    gb_model_free(m);
}
END_TEST

/* ---- refusals ----------------------------------------------------------------- */

START_TEST(test_error_unsupported_objective)
{
    char trees[8192];
    snprintf(trees, sizeof trees, "%s%s", leaf_tree(0, "0"), leaf_tree(1, "0"));
    gb_error err = load_fails(
        model_text("multiclassova num_class:2 sigmoid:1", 2, 2, "a", 0, trees, ""));
    ck_assert_int_eq(err.line, 7);
    ck_assert_str_eq(err.field, "objective");
    ck_assert_ptr_nonnull(strstr(err.message, "multiclassova"));
    err = load_fails(model_text("lambdarank", 1, 1, "a", 0, trees, ""));
    ck_assert_ptr_nonnull(strstr(err.message, "lambdarank"));
}
END_TEST

START_TEST(test_error_no_objective)
{
    gb_error err = load_fails(model_text("", 1, 1, "a", 0, leaf_tree(0, "0"), ""));
    ck_assert_str_eq(err.field, "objective");
}
END_TEST

START_TEST(test_error_linear_tree)
{
    char trees[8192];
    snprintf(
        trees, sizeof trees,
        "Tree=0\nnum_leaves=1\nnum_cat=0\nleaf_value=0.5\nis_linear=1\nleaf_const=0.1\n"
        "shrinkage=1\n\n\n");
    gb_error err = load_fails(model_text("regression", 1, 1, "a", 0, trees, ""));
    ck_assert_str_eq(err.field, "is_linear");
    ck_assert_int_eq(err.line, 16);
    ck_assert_ptr_nonnull(strstr(err.message, "linear"));
}
END_TEST

START_TEST(test_error_malformed_number_names_line)
{
    gb_error err =
        load_fails(model_text("regression", 1, 1, "a", 0,
                              "Tree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=0.5x\n"
                              "decision_type=0\nleft_child=-1\nright_child=-2\n"
                              "leaf_value=1 2\n\n",
                              ""));
    ck_assert_int_eq(err.line, 15);
    ck_assert_str_eq(err.field, "threshold");
    ck_assert_ptr_nonnull(strstr(err.message, "line 15"));
    err = load_fails(model_text("regression", 1, 1, "a", 0,
                                "Tree=0\nnum_leaves=1\nleaf_value=0x1p3\n\n", ""));
    ck_assert_str_eq(err.field, "leaf_value");
    err = load_fails(model_text("regression", 1, 1, "a", 0,
                                "Tree=0\nnum_leaves=1\nleaf_value=nan\n\n", ""));
    ck_assert_str_eq(err.field, "leaf_value");
    err = load_fails(model_text("regression", 1, 1, "a", 0,
                                "Tree=0\nnum_leaves=1\nleaf_value=inf\n\n", ""));
    ck_assert_ptr_nonnull(strstr(err.message, "non-finite"));
}
END_TEST

START_TEST(test_error_nan_threshold)
{
    gb_error err =
        load_fails(model_text("regression", 1, 1, "a", 0,
                              "Tree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=nan\n"
                              "decision_type=0\nleft_child=-1\nright_child=-2\n"
                              "leaf_value=1 2\n\n",
                              ""));
    ck_assert_str_eq(err.field, "threshold");
}
END_TEST

START_TEST(test_error_cycle_in_children)
{
    /* Node 1 and node 2 point at each other, away from the root. */
    gb_error err = load_fails(
        model_text("regression", 1, 1, "a", 0,
                   "Tree=0\nnum_leaves=4\nsplit_feature=0 0 0\nthreshold=1 2 "
                   "3\ndecision_type=0 0 0\n"
                   "left_child=-1 2 1\nright_child=-2 -3 -4\nleaf_value=1 2 3 4\n\n",
                   ""));
    ck_assert_ptr_nonnull(strstr(err.message, "tree 0"));
    /* The root reached again. */
    err =
        load_fails(model_text("regression", 1, 1, "a", 0,
                              "Tree=0\nnum_leaves=3\nsplit_feature=0 0\nthreshold=1 2\n"
                              "decision_type=0 0\nleft_child=1 -1\nright_child=-2 0\n"
                              "leaf_value=1 2 3\n\n",
                              ""));
    ck_assert_str_eq(err.field, "right_child");
    /* A leaf shared by two nodes. */
    err =
        load_fails(model_text("regression", 1, 1, "a", 0,
                              "Tree=0\nnum_leaves=3\nsplit_feature=0 0\nthreshold=1 2\n"
                              "decision_type=0 0\nleft_child=1 -1\nright_child=-2 -1\n"
                              "leaf_value=1 2 3\n\n",
                              ""));
    ck_assert_ptr_nonnull(strstr(err.message, "twice"));
}
END_TEST

START_TEST(test_error_out_of_range_indices)
{
    gb_error err =
        load_fails(model_text("regression", 1, 1, "a", 0,
                              "Tree=0\nnum_leaves=2\nsplit_feature=3\nthreshold=1\n"
                              "decision_type=0\nleft_child=-1\nright_child=-2\n"
                              "leaf_value=1 2\n\n",
                              ""));
    ck_assert_str_eq(err.field, "split_feature");
    err = load_fails(model_text("regression", 1, 1, "a", 0,
                                "Tree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=1\n"
                                "decision_type=0\nleft_child=-1\nright_child=-7\n"
                                "leaf_value=1 2\n\n",
                                ""));
    ck_assert_str_eq(err.field, "right_child");
    err = load_fails(
        model_text("regression", 1, 1, "a", 0,
                   "Tree=0\nnum_leaves=2\nnum_cat=1\nsplit_feature=0\nthreshold=1\n"
                   "decision_type=1\nleft_child=-1\nright_child=-2\n"
                   "leaf_value=1 2\ncat_boundaries=0 1\ncat_threshold=3\n\n",
                   ""));
    ck_assert_str_eq(err.field, "threshold");
    err = load_fails(
        model_text("regression", 1, 1, "a", 0,
                   "Tree=0\nnum_leaves=2\nnum_cat=1\nsplit_feature=0\nthreshold=0\n"
                   "decision_type=1\nleft_child=-1\nright_child=-2\n"
                   "leaf_value=1 2\ncat_boundaries=0 5\ncat_threshold=3\n\n",
                   ""));
    ck_assert_str_eq(err.field, "cat_boundaries");
    err = load_fails(model_text("regression", 1, 1, "a", 0,
                                "Tree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=1\n"
                                "decision_type=12\nleft_child=-1\nright_child=-2\n"
                                "leaf_value=1 2\n\n",
                                ""));
    ck_assert_str_eq(err.field, "decision_type");
}
END_TEST

START_TEST(test_error_array_length_mismatch)
{
    gb_error err =
        load_fails(model_text("regression", 1, 1, "a", 0,
                              "Tree=0\nnum_leaves=3\nsplit_feature=0 0\n"
                              "threshold=1 2\ndecision_type=0 0\nleft_child=1 -1\n"
                              "right_child=-2 -3\nleaf_value=1 2\n\n",
                              ""));
    ck_assert_str_eq(err.field, "leaf_value");
    ck_assert_ptr_nonnull(strstr(err.message, "2 values where 3"));
}
END_TEST

START_TEST(test_error_huge_declared_counts)
{
    /* 10^9 leaves declared, 10^9-th tree: refused before any allocation. */
    gb_error err =
        load_fails(model_text("regression", 1, 1, "a", 0,
                              "Tree=0\nnum_leaves=1000000000\nleaf_value=1\n\n", ""));
    ck_assert_str_eq(err.field, "num_leaves");
    err = load_fails(model_text("regression", 1, 1, "a", 0,
                                "Tree=1000000000\nnum_leaves=1\nleaf_value=1\n\n", ""));
    ck_assert_ptr_nonnull(strstr(err.message, "Tree=0"));
    err = load_fails(
        "tree\nnum_class=1\nmax_feature_idx=1000000000\nobjective=regression\n"
        "feature_names=a\nTree=0\nnum_leaves=1\nleaf_value=1\nend of trees\n");
    ck_assert_str_eq(err.field, "max_feature_idx");
    err = load_fails(
        "tree\nnum_class=1000000000\nmax_feature_idx=0\nobjective=regression\n"
        "feature_names=a\nTree=0\nnum_leaves=1\nleaf_value=1\nend of trees\n");
    ck_assert_str_eq(err.field, "num_class");
}
END_TEST

START_TEST(test_error_truncated)
{
    const char *full = numeric_categorical_model();
    char text[32768];
    snprintf(text, sizeof text, "%s", full);
    *strstr(text, "end of trees") = '\0';
    gb_error err = load_fails(text);
    ck_assert_ptr_nonnull(strstr(err.message, "end of trees"));
    /* Cut inside a tree. */
    *strstr(text, "leaf_value=1 2 3") = '\0';
    err = load_fails(text);
    ck_assert_ptr_nonnull(strstr(err.message, "tree 0"));
}
END_TEST

START_TEST(test_error_not_a_model_header)
{
    gb_error err = load_fails("trees\nversion=v4\n");
    ck_assert_int_eq(err.line, 1);
    err = load_fails(model_text("regression", 1, 1, "a", 0, "", ""));
    ck_assert_ptr_nonnull(strstr(err.message, "trees"));
    err = load_fails(
        "tree\nnum_class=1\nmax_feature_idx=0\nobjective=regression\nfeature_names=a\n"
        "oops\nTree=0\nnum_leaves=1\nleaf_value=1\nend of trees\n");
    ck_assert_int_eq(err.line, 6);
}
END_TEST

START_TEST(test_error_header_inconsistent)
{
    char trees[8192];
    snprintf(trees, sizeof trees, "%s%s", leaf_tree(0, "0"), leaf_tree(1, "0"));
    /* Two names for one feature. */
    gb_error err =
        load_fails(model_text("regression", 1, 1, "a b", 0, leaf_tree(0, "0"), ""));
    ck_assert_str_eq(err.field, "feature_names");
    /* Repeated name. */
    err = load_fails(model_text("regression", 1, 1, "a a", 1, leaf_tree(0, "0"), ""));
    ck_assert_ptr_nonnull(strstr(err.message, "twice"));
    /* num_class disagrees with the objective. */
    err = load_fails(model_text("multiclass num_class:3", 2, 2, "a", 0, trees, ""));
    ck_assert_str_eq(err.field, "objective");
    /* 3 trees for 2 per iteration. */
    char three[16384];
    snprintf(three, sizeof three, "%s%s", trees, leaf_tree(2, "0"));
    err = load_fails(model_text("multiclass num_class:2", 2, 2, "a", 0, three, ""));
    ck_assert_ptr_nonnull(strstr(err.message, "multiple"));
    /* binary with num_tree_per_iteration 2. */
    err = load_fails(model_text("binary sigmoid:1", 1, 2, "a", 0, trees, ""));
    ck_assert_str_eq(err.field, "num_tree_per_iteration");
}
END_TEST

START_TEST(test_error_pandas_categorical_mismatch)
{
    gb_error err = load_fails(model_text("regression", 1, 1, "a", 0, leaf_tree(0, "0"),
                                         "\npandas_categorical:[[\"x\",\"y\"]]\n"));
    ck_assert_str_eq(err.field, "pandas_categorical");
    err = load_fails(model_text("regression", 1, 1, "a", 0, leaf_tree(0, "0"),
                                "\npandas_categorical:[[\"x\",\n"));
    ck_assert_str_eq(err.field, "pandas_categorical");
    gb_model *m = load_ok(model_text("regression", 1, 1, "a", 0, leaf_tree(0, "0"),
                                     "\npandas_categorical:null\n"));
    ck_assert_int_eq(m->features[0].kind, GB_FEAT_NUMERIC);
    gb_model_free(m);
}
END_TEST

START_TEST(test_allocation_failures_are_clean)
{
    const char *text = numeric_categorical_model();
    size_t n = strlen(text);
    int succeeded = 0;
    for (long k = 1; k < 400 && !succeeded; k++) {
        gb_model *m = NULL;
        gb_error err;
        gb_error_clear(&err);
        gb_alloc_fail_after(k);
        gb_status rc = gb_lightgbm_load(text, n, &m, &err);
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
}
END_TEST

/* ---- the loader around it -------------------------------------------------------- */

START_TEST(test_detect_formats)
{
    ck_assert_int_eq(gb_model_format_detect("tree\nversion=v4\n", 17),
                     GB_FORMAT_LIGHTGBM_TEXT);
    const char *mlp = "{\"format\":\"glassbox-mlp\",\"version\":1}";
    ck_assert_int_eq(gb_model_format_detect(mlp, strlen(mlp)), GB_FORMAT_GLASSBOX_MLP);
    const char *xgb = " {\"learner\":{},\"version\":[1,7,4]}";
    ck_assert_int_eq(gb_model_format_detect(xgb, strlen(xgb)), GB_FORMAT_XGBOOST_JSON);
    const char ubj[] = {'{', 'L', 0,   0,   0,   0,   0,   0,  0,
                        7,   'l', 'e', 'a', 'r', 'n', 'e', 'r'};
    ck_assert_int_eq(gb_model_format_detect(ubj, sizeof ubj), GB_FORMAT_XGBOOST_UBJSON);
    const char *stu = "{\"format\":\"glassbox-student\"}";
    ck_assert_int_eq(gb_model_format_detect(stu, strlen(stu)),
                     GB_FORMAT_GLASSBOX_STUDENT);
    ck_assert_int_eq(gb_model_format_detect("{\"a\":1}", 7), GB_FORMAT_UNKNOWN);
    ck_assert_int_eq(gb_model_format_detect("treehouse\n", 10), GB_FORMAT_UNKNOWN);
    ck_assert_str_eq(gb_model_format_name(GB_FORMAT_LIGHTGBM_TEXT), "lightgbm-text");
    /* XGBoost writes NaN tokens; only top-level keys count; format wins. */
    const char *nan_json = "{\"learner\":{\"w\":[NaN,1]},\"version\":[1]}";
    ck_assert_int_eq(gb_model_format_detect(nan_json, strlen(nan_json)),
                     GB_FORMAT_XGBOOST_JSON);
    const char *nested = "{\"a\":{\"format\":\"glassbox-mlp\",\"learner\":1}}";
    ck_assert_int_eq(gb_model_format_detect(nested, strlen(nested)), GB_FORMAT_UNKNOWN);
    const char *both = "{\"learner\":1, \"format\" : \"glassbox-mlp\"}";
    ck_assert_int_eq(gb_model_format_detect(both, strlen(both)),
                     GB_FORMAT_GLASSBOX_MLP);
    const char *bom = "\xEF\xBB\xBF\r\ntree\r\nversion=v4";
    ck_assert_int_eq(gb_model_format_detect(bom, strlen(bom)), GB_FORMAT_LIGHTGBM_TEXT);
}
END_TEST

START_TEST(test_dispatch_every_format)
{
    static const struct {
        const char *path, *kind;
        gb_task task;
    } cases[] = {
        {"tests/fixtures/xgboost/binary.json", "xgboost", GB_TASK_BINARY},
        {"tests/fixtures/xgboost/multiclass.ubj", "xgboost", GB_TASK_MULTICLASS},
        {"tests/fixtures/mlp/binary_relu.json", "mlp", GB_TASK_BINARY},
        {FIXTURES "regression.txt", "lightgbm", GB_TASK_REGRESSION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gb_model *m = NULL;
        gb_error err;
        gb_error_clear(&err);
        ck_assert_msg(gb_teacher_load_file(cases[i].path, &m, &err) == GB_OK, "%s: %s",
                      cases[i].path, err.message);
        ck_assert_str_eq(m->ops->kind, cases[i].kind);
        ck_assert_int_eq(m->task, cases[i].task);
        gb_model_free(m);
    }
    /* A broken glassbox-mlp file reaches the MLP loader, which names the problem. */
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    const char *broken = "{\"format\":\"glassbox-mlp\",\"version\":1,";
    ck_assert_int_ne(gb_teacher_load(broken, strlen(broken), &m, &err), GB_OK);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(strstr(err.message, "unrecognised"));
}
END_TEST

START_TEST(test_error_unrecognised_format)
{
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    ck_assert_int_eq(gb_teacher_load("hello,world\n1,2\n", 16, &m, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err.message, "unrecognised model format"));
}
END_TEST

START_TEST(test_error_missing_model_file)
{
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    ck_assert_int_eq(gb_teacher_load_file(FIXTURES "no-such-model.txt", &m, &err),
                     GB_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.message, "no-such-model.txt"));
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_error_missing_features_all_listed)
{
    gb_model *m = NULL;
    gb_table *t = NULL;
    gb_error err;
    gb_error_clear(&err);
    ck_assert_int_eq(gb_teacher_load_file(FIXTURES "binary.txt", &m, &err), GB_OK);
    const char *csv = "age,balance,other\n1,2,3\n";
    gb_csv_parser *p = gb_csv_parser_create(NULL, &err);
    ck_assert_int_eq(gb_csv_parser_feed(p, csv, strlen(csv), &err), GB_OK);
    ck_assert_int_eq(gb_csv_parser_finish(p, &t, &err), GB_OK);
    gb_csv_parser_free(p);
    ck_assert_int_eq(gb_model_check_features(m, t, &err), GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "3 features"));
    ck_assert_ptr_nonnull(strstr(err.message, "income"));
    ck_assert_ptr_nonnull(strstr(err.message, "color"));
    ck_assert_ptr_nonnull(strstr(err.message, "segment"));
    ck_assert_ptr_null(strstr(err.message, "age"));
    ck_assert_str_eq(err.field, "income");
    /* Predicting through the table gives the same refusal. */
    double out[2];
    ck_assert_int_eq(gb_model_predict_table(m, t, NULL, 1, out, &err), GB_EUNUSABLE);
    gb_table_free(t);
    gb_model_free(m);
}
END_TEST

static Suite *lightgbm_suite(void)
{
    Suite *s = suite_create("lightgbm");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, test_fixture_binary);
    tcase_add_test(tc, test_fixture_multiclass);
    tcase_add_test(tc, test_fixture_regression);
    tcase_add_test(tc, test_fixture_pandas_categories_become_levels);
    suite_add_tcase(s, tc);
    tc = tcase_create("semantics");
    tcase_add_test(tc, test_numeric_nan_default_left_and_categorical_bitset);
    tcase_add_test(tc, test_missing_type_none);
    tcase_add_test(tc, test_missing_type_zero);
    tcase_add_test(tc, test_missing_type_nan_default_right);
    tcase_add_test(tc, test_binary_sigmoid_parameter);
    tcase_add_test(tc, test_multiclass_softmax_interleaved);
    tcase_add_test(tc, test_regression_links);
    tcase_add_test(tc, test_crlf_and_to_json);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_error_unsupported_objective);
    tcase_add_test(tc, test_error_no_objective);
    tcase_add_test(tc, test_error_linear_tree);
    tcase_add_test(tc, test_error_malformed_number_names_line);
    tcase_add_test(tc, test_error_nan_threshold);
    tcase_add_test(tc, test_error_cycle_in_children);
    tcase_add_test(tc, test_error_out_of_range_indices);
    tcase_add_test(tc, test_error_array_length_mismatch);
    tcase_add_test(tc, test_error_huge_declared_counts);
    tcase_add_test(tc, test_error_truncated);
    tcase_add_test(tc, test_error_not_a_model_header);
    tcase_add_test(tc, test_error_header_inconsistent);
    tcase_add_test(tc, test_error_pandas_categorical_mismatch);
    tcase_add_test(tc, test_allocation_failures_are_clean);
    suite_add_tcase(s, tc);
    tc = tcase_create("loader");
    tcase_add_test(tc, test_detect_formats);
    tcase_add_test(tc, test_dispatch_every_format);
    tcase_add_test(tc, test_error_unrecognised_format);
    tcase_add_test(tc, test_error_missing_model_file);
    tcase_add_test(tc, test_error_missing_features_all_listed);
    tcase_add_test(tc, test_shap_binary);
    tcase_add_test(tc, test_shap_multiclass);
    tcase_add_test(tc, test_shap_average_output);
    tcase_add_test(tc, test_no_attribute_without_counts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lightgbm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
