/*
 * check_xgboost.c - XGBoost models (JSON and UBJSON) against xgboost 1.7.4's
 * own predictions (tests/fixtures/xgboost, made by
 * scripts/fixtures/make_xgboost.py), the UBJSON reader, and one test per
 * refused or hostile file.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/model/model.h"
#include "core/model/teachers/ubjson.h"
#include "core/model/teachers/xgboost.h"

#define FIX "tests/fixtures/xgboost/"

/* ---- helpers -------------------------------------------------------------- */

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    buf[len] = 0;
    *n = (size_t)len;
    return buf;
}

/* A numeric CSV with a header (empty field = NaN) as a row-major matrix. */
static double *read_matrix(const char *path, size_t *n_rows, size_t *n_cols)
{
    size_t n = 0;
    char *text = read_all(path, &n);
    size_t cols = 1, rows = 0;
    char *p = text;
    for (; *p && *p != '\n'; p++)
        cols += *p == ',';
    for (char *q = text; *q; q++)
        rows += *q == '\n';
    ck_assert_uint_ge(rows, 1);
    rows -= 1; /* header */
    double *X = malloc((rows ? rows : 1) * cols * sizeof *X);
    ck_assert_ptr_nonnull(X);
    p++;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) {
            if (*p == ',' || *p == '\n') {
                X[r * cols + c] = NAN;
            } else {
                char *end = NULL;
                X[r * cols + c] = strtod(p, &end);
                p = end;
            }
            ck_assert(*p == (c + 1 == cols ? '\n' : ','));
            p++;
        }
    }
    free(text);
    *n_rows = rows;
    *n_cols = cols;
    return X;
}

static gb_model *load_path(const char *path)
{
    size_t n = 0;
    char *bytes = read_all(path, &n);
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    gb_status rc = gb_xgboost_load(bytes, n, &m, &err);
    free(bytes);
    ck_assert_msg(rc == GB_OK, "%s: %s", path, err.message);
    ck_assert_str_eq(m->ops->kind, "xgboost");
    return m;
}

typedef enum expect_kind {
    EXPECT_PROBA1, /* pred.csv holds P(class 1) */
    EXPECT_PROBA,  /* pred.csv holds every class probability */
    EXPECT_VALUE,  /* pred.csv holds the regression value */
    EXPECT_MARGIN, /* pred.csv holds the margin (logitraw) */
    EXPECT_ARGMAX  /* pred.csv holds the class index (softmax) */
} expect_kind;

/* Scores design.csv with `model_file` and compares with xgboost's outputs;
 * returns the largest absolute difference of probabilities/values. */
static double check_against_library(const char *model_file, const char *name,
                                    expect_kind kind)
{
    char path[256];
    size_t nr = 0, nc = 0, pr = 0, pc = 0, mr = 0, mc = 0;
    double *X = read_matrix(FIX "design.csv", &nr, &nc);
    snprintf(path, sizeof path, FIX "%s_pred.csv", name);
    double *pred = read_matrix(path, &pr, &pc);
    snprintf(path, sizeof path, FIX "%s_margin.csv", name);
    double *margin = read_matrix(path, &mr, &mc);
    snprintf(path, sizeof path, FIX "%s", model_file);
    gb_model *m = load_path(path);
    ck_assert_uint_eq(m->n_features, nc);
    ck_assert_uint_eq(pr, nr);
    ck_assert_uint_eq(mr, nr);
    ck_assert_uint_eq(mc, m->n_margins);

    double *out = malloc(nr * m->n_outputs * sizeof *out);
    double *mout = malloc(nr * m->n_margins * sizeof *mout);
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, X, nr, out, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict_margin(m, X, nr, mout, &err), GB_OK);
    double worst = 0, worst_margin = 0;
    for (size_t r = 0; r < nr; r++) {
        for (size_t k = 0; k < m->n_margins; k++) {
            double d = fabs(mout[r * mc + k] - margin[r * mc + k]);
            worst_margin = d > worst_margin ? d : worst_margin;
        }
        double s = 0;
        for (size_t k = 0; k < m->n_outputs; k++)
            s += out[r * m->n_outputs + k];
        if (m->task != GB_TASK_REGRESSION)
            ck_assert(fabs(s - 1.0) < 1e-6);
        double d = 0;
        switch (kind) {
        case EXPECT_PROBA1: d = fabs(out[2 * r + 1] - pred[r]); break;
        case EXPECT_VALUE: d = fabs(out[r] - pred[r]); break;
        case EXPECT_PROBA:
            for (size_t k = 0; k < pc; k++) {
                double e = fabs(out[r * pc + k] - pred[r * pc + k]);
                d = e > d ? e : d;
            }
            break;
        case EXPECT_MARGIN:
            d = fabs(mout[r] - pred[r]);
            /* glassbox's probability is the sigmoid of that margin */
            ck_assert(fabs(out[2 * r + 1] - 1.0 / (1.0 + exp(-pred[r]))) < 1e-6);
            break;
        case EXPECT_ARGMAX: {
            size_t best = 0;
            for (size_t k = 1; k < m->n_outputs; k++)
                if (out[r * m->n_outputs + k] > out[r * m->n_outputs + best])
                    best = k;
            ck_assert_uint_eq(best, (size_t)pred[r]);
            break;
        }
        }
        worst = d > worst ? d : worst;
    }
    /* float32 arithmetic in the same order as xgboost: exact margins */
    ck_assert_msg(worst_margin <= 1e-6, "%s: margin differs by %g", model_file,
                  worst_margin);
    ck_assert_msg(worst <= 1e-6, "%s: prediction differs by %g", model_file, worst);
    free(out);
    free(mout);
    free(X);
    free(pred);
    free(margin);
    gb_model_free(m);
    return worst;
}

/* ---- fixtures against the library ----------------------------------------- */

START_TEST(test_binary_json_and_ubj)
{
    check_against_library("binary.json", "binary", EXPECT_PROBA1);
    check_against_library("binary.ubj", "binary", EXPECT_PROBA1);
}
END_TEST

START_TEST(test_multiclass_json_and_ubj)
{
    check_against_library("multiclass.json", "multiclass", EXPECT_PROBA);
    check_against_library("multiclass.ubj", "multiclass", EXPECT_PROBA);
}
END_TEST

START_TEST(test_regression_json_and_ubj)
{
    check_against_library("regression.json", "regression", EXPECT_VALUE);
    check_against_library("regression.ubj", "regression", EXPECT_VALUE);
}
END_TEST

START_TEST(test_small_objectives)
{
    check_against_library("logitraw.json", "logitraw", EXPECT_MARGIN);
    check_against_library("logitraw.ubj", "logitraw", EXPECT_MARGIN);
    check_against_library("reglogistic.json", "reglogistic", EXPECT_VALUE);
    check_against_library("reglogistic.ubj", "reglogistic", EXPECT_VALUE);
    check_against_library("softmax.json", "softmax", EXPECT_ARGMAX);
    check_against_library("softmax.ubj", "softmax", EXPECT_ARGMAX);
}
END_TEST

/* dart trained without drops (every weight 1): scored as gbtree. */
START_TEST(test_dart_without_drops)
{
    check_against_library("dart.json", "dart", EXPECT_PROBA1);
    check_against_library("dart.ubj", "dart", EXPECT_PROBA1);
}
END_TEST

START_TEST(test_v3_bracketed_base_score)
{
    check_against_library("v3_logitraw.json", "logitraw", EXPECT_MARGIN);
    check_against_library("v3_logitraw.ubj", "logitraw", EXPECT_MARGIN);
}
END_TEST

/* JSON and UBJSON of one model give bit-identical outputs. */
START_TEST(test_json_ubj_identical)
{
    const char *names[] = {"binary", "multiclass", "regression"};
    size_t nr = 0, nc = 0;
    double *X = read_matrix(FIX "design.csv", &nr, &nc);
    for (int i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, FIX "%s.json", names[i]);
        gb_model *a = load_path(path);
        snprintf(path, sizeof path, FIX "%s.ubj", names[i]);
        gb_model *b = load_path(path);
        double *oa = malloc(nr * a->n_outputs * sizeof *oa);
        double *ob = malloc(nr * b->n_outputs * sizeof *ob);
        ck_assert_int_eq(a->ops->predict(a, X, nr, oa, NULL), GB_OK);
        ck_assert_int_eq(b->ops->predict(b, X, nr, ob, NULL), GB_OK);
        ck_assert(memcmp(oa, ob, nr * a->n_outputs * sizeof *oa) == 0);
        free(oa);
        free(ob);
        gb_model_free(a);
        gb_model_free(b);
    }
    free(X);
}
END_TEST

START_TEST(test_features_and_summary)
{
    gb_model *m = load_path(FIX "binary.json");
    ck_assert_int_eq(m->task, GB_TASK_BINARY);
    ck_assert_uint_eq(m->n_features, 6);
    ck_assert_str_eq(m->features[0].name, "income");
    ck_assert_int_eq(m->features[4].kind, GB_FEAT_NUMERIC); /* "int" */
    ck_assert_str_eq(m->features[5].name, "grade");
    ck_assert_int_eq(m->features[5].kind, GB_FEAT_CATEGORICAL);
    ck_assert_uint_ge(m->features[5].n_levels, 2);
    ck_assert_str_eq(m->features[5].levels[1], "1");
    ck_assert_str_eq(m->classes[1], "1");
    cJSON *j = m->ops->to_json(m);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "objective")->valuestring,
                     "binary:logistic");
    ck_assert_int_eq((int)cJSON_GetObjectItem(j, "num_trees")->valuedouble, 110);
    ck_assert(
        fabs(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "base_score"), 0)->valuedouble -
             0.3) < 1e-12);
    cJSON_Delete(j);
    gb_model_free(m);

    m = load_path(FIX "multiclass.ubj");
    ck_assert_int_eq(m->task, GB_TASK_MULTICLASS);
    ck_assert_uint_eq(m->n_classes, 3);
    ck_assert_uint_eq(m->n_margins, 3);
    gb_model_free(m);
}
END_TEST

/* Level names from a table's categorical column (pandas' sorted codes). */
START_TEST(test_levels_from_table)
{
    char *lv[] = {"grade_a", "grade_b", "grade_c", "grade_d", "grade_e"};
    gb_column col = {0};
    col.name = "grade";
    col.type = GB_COL_CATEGORICAL;
    col.levels = lv;
    col.n_levels = 5;
    gb_table t = {0, 1, &col};
    gb_xgboost_options opts = {&t};
    size_t n = 0;
    char *bytes = read_all(FIX "binary.json", &n);
    gb_model *m = NULL;
    gb_error err;
    ck_assert_int_eq(gb_xgboost_load_opts(bytes, n, &opts, &m, &err), GB_OK);
    ck_assert_uint_eq(m->features[5].n_levels, 5);
    ck_assert_str_eq(m->features[5].levels[3], "grade_d");
    gb_model_free(m);
    /* too few levels for the codes the model splits on */
    col.n_levels = 1;
    ck_assert_int_eq(gb_xgboost_load_opts(bytes, n, &opts, &m, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(err.field, "grade");
    free(bytes);
}
END_TEST

/* The dataset CSV (text levels) bound by name through gb_model_predict_table
 * with level names from the table, and design.csv (codes as numbers) bound to
 * the default decimal-code levels: both reproduce xgboost. */
static void check_table_binding(const char *csv, int levels_from_table,
                                const char *model_file, const char *name)
{
    gb_table *t = NULL;
    gb_error err;
    ck_assert_msg(gb_csv_read_file(csv, NULL, &t, &err) == GB_OK, "%s", err.message);
    char path[256];
    snprintf(path, sizeof path, FIX "%s", model_file);
    size_t n = 0;
    char *bytes = read_all(path, &n);
    gb_xgboost_options opts = {levels_from_table ? t : NULL};
    gb_model *m = NULL;
    ck_assert_int_eq(gb_xgboost_load_opts(bytes, n, &opts, &m, &err), GB_OK);
    free(bytes);
    size_t pr = 0, pc = 0;
    snprintf(path, sizeof path, FIX "%s_pred.csv", name);
    double *pred = read_matrix(path, &pr, &pc);
    ck_assert_uint_eq(pr, t->n_rows);
    double *out = malloc(pr * m->n_outputs * sizeof *out);
    ck_assert_int_eq(gb_model_predict_table(m, t, NULL, pr, out, &err), GB_OK);
    for (size_t r = 0; r < pr; r++)
        for (size_t k = 0; k < pc; k++) {
            double got =
                m->task == GB_TASK_BINARY ? out[2 * r + 1] : out[r * m->n_outputs + k];
            ck_assert_msg(fabs(got - pred[r * pc + k]) <= 1e-6,
                          "%s row %zu: %.9g vs %.9g", model_file, r, got,
                          pred[r * pc + k]);
        }
    free(out);
    free(pred);
    gb_model_free(m);
    gb_table_free(t);
}

START_TEST(test_predict_table_dataset)
{
    check_table_binding(FIX "dataset.csv", 1, "binary.ubj", "binary");
    check_table_binding(FIX "dataset.csv", 1, "multiclass.json", "multiclass");
    check_table_binding(FIX "dataset.csv", 1, "regression.ubj", "regression");
    check_table_binding(FIX "design.csv", 0, "binary.json", "binary");
    check_table_binding(FIX "design.csv", 1, "multiclass.ubj", "multiclass");
    /* numeric splits only: the lock-step numeric path, `grade` unused */
    check_table_binding(FIX "dataset.csv", 1, "numeric.json", "numeric");
    check_table_binding(FIX "dataset.csv", 0, "numeric.ubj", "numeric");
}
END_TEST

START_TEST(test_predict_table_missing_feature)
{
    gb_table *t = NULL;
    gb_error err;
    ck_assert_int_eq(gb_csv_read_file(FIX "logitraw_pred.csv", NULL, &t, &err), GB_OK);
    gb_model *m = load_path(FIX "binary.json");
    double out[2];
    ck_assert_int_eq(gb_model_predict_table(m, t, NULL, 1, out, &err), GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "income"));
    ck_assert_ptr_nonnull(strstr(err.message, "grade"));
    gb_model_free(m);
    gb_table_free(t);
}
END_TEST

/* TreeSHAP against xgboost's pred_contribs (float32 in xgboost, double
 * here): within 1e-5; each block sums to the margin. */
static void check_contribs(const char *model_file, const char *name)
{
    char path[256];
    size_t nr = 0, nc = 0, cr = 0, cc = 0;
    double *X = read_matrix(FIX "design.csv", &nr, &nc);
    snprintf(path, sizeof path, FIX "%s_contribs.csv", name);
    double *ref = read_matrix(path, &cr, &cc);
    snprintf(path, sizeof path, FIX "%s", model_file);
    gb_model *m = load_path(path);
    ck_assert_ptr_nonnull(m->ops->attribute);
    size_t width = m->n_features + 1;
    ck_assert_uint_eq(cc, m->n_margins * width);
    double *phi = malloc(nr * cc * sizeof *phi);
    double *margin = malloc(nr * m->n_margins * sizeof *margin);
    gb_error err;
    ck_assert_int_eq(m->ops->attribute(m, X, nr, phi, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict_margin(m, X, nr, margin, &err), GB_OK);
    double worst = 0;
    for (size_t r = 0; r < nr; r++) {
        for (size_t k = 0; k < cc; k++) {
            double d = fabs(phi[r * cc + k] - ref[r * cc + k]);
            worst = d > worst ? d : worst;
        }
        for (size_t g = 0; g < m->n_margins; g++) {
            double sum = 0;
            for (size_t k = 0; k < width; k++)
                sum += phi[r * cc + g * width + k];
            ck_assert_msg(fabs(sum - margin[r * m->n_margins + g]) < 1e-5,
                          "row %zu: SHAP sum %.9g, margin %.9g", r, sum,
                          margin[r * m->n_margins + g]);
        }
    }
    ck_assert_msg(worst <= 1e-5, "%s: SHAP differs from xgboost by %g", model_file,
                  worst);
    free(phi);
    free(margin);
    free(X);
    free(ref);
    gb_model_free(m);
}

START_TEST(test_treeshap_matches_xgboost)
{
    check_contribs("binary.json", "binary");
    check_contribs("binary.ubj", "binary");
    check_contribs("multiclass.ubj", "multiclass");
}
END_TEST

/* ---- hand-made models: semantics and refusals ----------------------------- */

static const char *TEMPLATE =
    "{\"learner\":{\"feature_names\":[\"a\",\"b\"],\"feature_types\":[\"float\",\"c\"],"
    "\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{\"num_parallel_tree\":"
    "\"1\",\"num_trees\":\"1\"},\"tree_info\":[0],\"trees\":[{\"base_weights\":[0,0,0,"
    "0,"
    "0],\"default_left\":[1,0,0,0,0],\"id\":0,\"left_children\":[1,3,-1,-1,-1],"
    "\"right_children\":[2,4,-1,-1,-1],\"split_conditions\":[0.5,NaN,2.0,-1.0,-3.0],"
    "\"split_indices\":[0,1,0,0,0],\"split_type\":[0,1,0,0,0],\"categories\":[1,3],"
    "\"categories_nodes\":[1],\"categories_segments\":[0],\"categories_sizes\":[2],"
    "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"2\",\"num_nodes\":\"5\","
    "\"size_leaf_vector\":\"0\"}}]},\"name\":\"gbtree\"},\"learner_model_param\":{"
    "\"base_score\":\"5E-1\",\"num_class\":\"0\",\"num_feature\":\"2\",\"num_target\":"
    "\"1\"},\"objective\":{\"name\":\"reg:squarederror\"}},\"version\":[1,7,4]}";

/* Copies src with the first `from` replaced by `to` into dst. */
static void replace_into(char *dst, size_t cap, const char *src, const char *from,
                         const char *to)
{
    const char *at = strstr(src, from);
    ck_assert_msg(at != NULL, "template lacks %s", from);
    snprintf(dst, cap, "%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
}

/* Loads TEMPLATE with `from` replaced by `to` (both NULL: as is), then
 * from2 by to2 when from2 is not NULL. */
static gb_status load_variant2(const char *from, const char *to, const char *from2,
                               const char *to2, gb_model **m, gb_error *err)
{
    char buf[4096], buf2[4096];
    const char *text = TEMPLATE;
    if (from != NULL) {
        replace_into(buf, sizeof buf, TEMPLATE, from, to);
        text = buf;
    }
    if (from2 != NULL) {
        replace_into(buf2, sizeof buf2, text, from2, to2);
        text = buf2;
    }
    gb_error_clear(err);
    *m = NULL;
    gb_status rc = gb_xgboost_load(text, strlen(text), m, err);
    if (rc != GB_OK)
        ck_assert_ptr_null(*m);
    return rc;
}

static gb_status load_variant(const char *from, const char *to, gb_model **m,
                              gb_error *err)
{
    return load_variant2(from, to, NULL, NULL, m, err);
}

static void expect_refused2(const char *from, const char *to, const char *from2,
                            const char *to2, const char *needle)
{
    gb_model *m = NULL;
    gb_error err;
    gb_status rc = load_variant2(from, to, from2, to2, &m, &err);
    ck_assert_msg(rc == GB_EUNUSABLE || rc == GB_EINPUT, "'%s' was accepted", to);
    ck_assert_msg(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'",
                  err.message, needle);
}

static void expect_refused(const char *from, const char *to, const char *needle)
{
    expect_refused2(from, to, NULL, NULL, needle);
}

START_TEST(test_template_semantics)
{
    gb_model *m = NULL;
    gb_error err;
    ck_assert_int_eq(load_variant(NULL, NULL, &m, &err), GB_OK);
    /* a < 0.5 -> node 1 (categorical on b: {1,3} right = -3, else left = -1);
     * a >= 0.5 -> 2.0; a missing -> default left.  Base margin 0.5. */
    const double X[][2] = {
        {0.2, 0},  {0.2, 1},   {0.2, 2},    {0.2, 3},        {0.2, 4},
        {0.2, 40}, {0.2, -1},  {0.2, NAN},  {0.7, 1},        {NAN, 3},
        {0.5, 1},  {0.2, 1.7}, {0.2, 1e30}, {0.49999999, 3},
    };
    const double want[] = {-0.5, -2.5, -0.5, -2.5, -0.5, -0.5, -0.5,
                           -2.5, 2.5,  -2.5, 2.5,  -2.5, -0.5, 2.5};
    size_t n = sizeof want / sizeof want[0];
    double out[16];
    ck_assert_int_eq(m->ops->predict(m, &X[0][0], n, out, &err), GB_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(out[i] == want[i], "row %zu: %g, want %g", i, out[i], want[i]);
    ck_assert_int_eq(m->task, GB_TASK_REGRESSION);
    ck_assert_int_eq(m->features[1].kind, GB_FEAT_CATEGORICAL);
    ck_assert_uint_eq(m->features[1].n_levels, 4);
    gb_model_free(m);
}
END_TEST

/* A chain tree deeper than the lock-step limit: each row stops at its leaf. */
START_TEST(test_deep_chain_tree)
{
    enum { DEPTH = 40, NODES = 2 * DEPTH + 1 };
    static char text[16384];
    char *p = text;
    char *end = text + sizeof text;
    const char *arrays[] = {"left_children", "right_children", "split_indices",
                            "split_conditions", "default_left"};
    p += snprintf(p, (size_t)(end - p),
                  "{\"version\":[2,1,0],\"learner\":{\"learner_model_param\":{"
                  "\"base_score\":\"0\",\"num_class\":\"0\",\"num_feature\":\"1\"},"
                  "\"objective\":{\"name\":\"reg:squarederror\"},\"gradient_booster\":{"
                  "\"name\":\"gbtree\",\"model\":{\"gbtree_model_param\":{"
                  "\"num_trees\":\"1\"},\"tree_info\":[0],\"trees\":[{\"tree_param\":{"
                  "\"num_nodes\":\"%d\"}",
                  NODES);
    /* node 2k splits on x < k: left is leaf 2k+1 (value k), right node 2k+2 */
    for (int a = 0; a < 5; a++) {
        p += snprintf(p, (size_t)(end - p), ",\"%s\":[", arrays[a]);
        for (int i = 0; i < NODES; i++) {
            int split = i % 2 == 0 && i < NODES - 1;
            double v = 0;
            switch (a) {
            case 0: v = split ? i + 1 : -1; break;
            case 1: v = split ? i + 2 : -1; break;
            case 2: v = 0; break;
            case 3: v = split ? i / 2 : (i == NODES - 1 ? 1000 : (i - 1) / 2); break;
            case 4: v = 0; break;
            }
            p += snprintf(p, (size_t)(end - p), "%s%g", i ? "," : "", v);
        }
        p += snprintf(p, (size_t)(end - p), "]");
    }
    snprintf(p, (size_t)(end - p), "}]}}}}");
    gb_model *m = NULL;
    gb_error err;
    ck_assert_msg(gb_xgboost_load(text, strlen(text), &m, &err) == GB_OK, "%s",
                  err.message);
    double X[40], out[40];
    for (int i = 0; i < 40; i++)
        X[i] = i - 0.5; /* x < k first holds at k = i: leaf value i */
    X[39] = 1e9;        /* past every split: the last leaf */
    X[38] = NAN;        /* missing goes right every time */
    ck_assert_int_eq(m->ops->predict(m, X, 40, out, &err), GB_OK);
    for (int i = 0; i < 38; i++)
        ck_assert_msg(out[i] == (i == 0 ? 0 : i), "row %d: %g", i, out[i]);
    ck_assert(out[38] == 1000 && out[39] == 1000);
    gb_model_free(m);
}
END_TEST

START_TEST(test_no_covers_no_attribute)
{
    gb_model *m = NULL;
    gb_error err;
    /* the template has no sum_hessian */
    ck_assert_int_eq(load_variant(NULL, NULL, &m, &err), GB_OK);
    ck_assert_ptr_null(m->ops->attribute);
    gb_model_free(m);
    ck_assert_int_eq(load_variant("\"base_weights\"",
                                  "\"sum_hessian\":[4,2,2,1,1],"
                                  "\"base_weights\"",
                                  &m, &err),
                     GB_OK);
    ck_assert_ptr_nonnull(m->ops->attribute);
    /* a = 0.7 goes right (leaf 2.0); b missing goes right at node 1 (leaf
     * -3).  Tree mean E = (2 * (-1 - 3) / 2 + 2 * 2) / 4 = 0; E[f | b] =
     * (-3 + 2) / 2 = -0.5; E[f | a] = E[f | a, b] = 2.  Shapley values:
     * phi_b = ((-0.5 - 0) + (2 - 2)) / 2 = -0.25, phi_a = 2 - 0 - phi_b = 2.25,
     * bias = E + base_score 0.5. */
    double x[2] = {0.7, NAN}, phi[3];
    ck_assert_int_eq(m->ops->attribute(m, x, 1, phi, &err), GB_OK);
    ck_assert(fabs(phi[0] - 2.25) < 1e-12 && fabs(phi[1] + 0.25) < 1e-12 &&
              fabs(phi[2] - 0.5) < 1e-12);
    gb_model_free(m);
    ck_assert_int_eq(load_variant("\"base_weights\"",
                                  "\"sum_hessian\":[4,0,2,1,1],"
                                  "\"base_weights\"",
                                  &m, &err),
                     GB_OK);
    ck_assert_ptr_null(m->ops->attribute);
    gb_model_free(m);
}
END_TEST

START_TEST(test_refuse_gblinear)
{
    expect_refused("\"name\":\"gbtree\"", "\"name\":\"gblinear\"", "gblinear");
}
END_TEST

#define DART_FROM "\"gradient_booster\":{\"model\":"
#define DART_TO "\"gradient_booster\":{\"gbtree\":{\"model\":"
#define DART_FROM2 "\"name\":\"gbtree\"},"
#define DART_TO2(w) "\"name\":\"gbtree\"},\"name\":\"dart\",\"weight_drop\":[" w "]},"

START_TEST(test_refuse_dart_weight_drops)
{
    expect_refused2(DART_FROM, DART_TO, DART_FROM2, DART_TO2("0.7692308"),
                    "dart with weight drops");
    expect_refused2(DART_FROM, DART_TO, DART_FROM2, DART_TO2("1.0,1.0"), "weight_drop");
    expect_refused("\"name\":\"gbtree\"}", "\"name\":\"dart\"}", "gbtree");
    gb_model *m = NULL;
    gb_error err;
    ck_assert_int_eq(
        load_variant2(DART_FROM, DART_TO, DART_FROM2, DART_TO2("1.0"), &m, &err),
        GB_OK);
    gb_model_free(m);
}
END_TEST

START_TEST(test_refuse_unknown_objective)
{
    expect_refused("reg:squarederror", "reg:pseudohubererror", "reg:pseudohubererror");
}
END_TEST

START_TEST(test_refuse_format_version)
{
    expect_refused("[1,7,4]", "[4,0,0]", "version 4.0.0");
    expect_refused("[1,7,4]", "[0,90,0]", "version 0.90.0");
    expect_refused(",\"version\":[1,7,4]", "", "version");
}
END_TEST

START_TEST(test_refuse_cycle)
{
    expect_refused("\"left_children\":[1,3,-1,-1,-1]",
                   "\"left_children\":[1,0,-1,-1,-1]", "reached twice");
}
END_TEST

START_TEST(test_refuse_shared_child)
{
    expect_refused("\"right_children\":[2,4,-1,-1,-1]",
                   "\"right_children\":[2,2,-1,-1,-1]", "reached twice");
}
END_TEST

START_TEST(test_refuse_child_out_of_range)
{
    expect_refused("\"left_children\":[1,3,-1,-1,-1]",
                   "\"left_children\":[1,9,-1,-1,-1]", "left_children[1]");
}
END_TEST

START_TEST(test_refuse_feature_out_of_range)
{
    expect_refused("\"split_indices\":[0,1,0,0,0]", "\"split_indices\":[7,1,0,0,0]",
                   "feature 7");
}
END_TEST

START_TEST(test_refuse_nan_threshold)
{
    expect_refused("[0.5,NaN,", "[NaN,NaN,", "NaN split condition");
}
END_TEST

START_TEST(test_refuse_nan_leaf)
{
    expect_refused("2.0,-1.0,-3.0]", "Infinity,-1.0,-3.0]", "non-finite");
}
END_TEST

START_TEST(test_refuse_huge_num_trees)
{
    expect_refused("\"num_trees\":\"1\"", "\"num_trees\":\"1000000000\"", "num_trees");
    expect_refused("\"num_trees\":\"1\"", "\"num_trees\":\"2\"", "entries, expected 2");
}
END_TEST

START_TEST(test_refuse_mismatched_lengths)
{
    expect_refused("\"num_nodes\":\"5\"", "\"num_nodes\":\"4\"", "expected 4");
    expect_refused("\"default_left\":[1,0,0,0,0]", "\"default_left\":[1,0,0,0]",
                   "default_left");
    expect_refused("\"tree_info\":[0]", "\"tree_info\":[0,0]", "tree_info");
}
END_TEST

START_TEST(test_refuse_bad_tree_info_group)
{
    expect_refused("\"tree_info\":[0]", "\"tree_info\":[1]", "tree_info[0]");
}
END_TEST

START_TEST(test_refuse_bad_categories)
{
    expect_refused("\"categories_sizes\":[2]", "\"categories_sizes\":[5]",
                   "categories");
    expect_refused("\"categories\":[1,3]", "\"categories\":[1,-3]", "categories[1]");
    expect_refused("\"categories_nodes\":[1]", "\"categories_nodes\":[0]",
                   "no categories entry");
}
END_TEST

START_TEST(test_refuse_bad_base_score)
{
    expect_refused("\"5E-1\"", "\"[abc]\"", "base_score");
    expect_refused("\"5E-1\"", "\"bad\"", "base_score");
    expect_refused2("\"5E-1\"", "\"1.5E0\"", "reg:squarederror", "binary:logistic",
                    "must be in (0, 1)");
}
END_TEST

START_TEST(test_base_score_forms)
{
    gb_model *m = NULL;
    gb_error err;
    double x[2] = {0.7, 0}, out[2];
    ck_assert_int_eq(load_variant("\"5E-1\"", "\"[1.5E0]\"", &m, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict(m, x, 1, out, &err), GB_OK);
    ck_assert(out[0] == 3.5);
    gb_model_free(m);
    ck_assert_int_eq(load_variant("\"5E-1\"", "1.5", &m, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict(m, x, 1, out, &err), GB_OK);
    ck_assert(out[0] == 3.5);
    gb_model_free(m);
}
END_TEST

START_TEST(test_refuse_logistic_base_score_range)
{
    char from[] = "\"objective\":{\"name\":\"reg:squarederror\"}";
    gb_model *m = NULL;
    gb_error err;
    /* binary:logistic with base_score 5E-1: fine */
    ck_assert_int_eq(
        load_variant(from, "\"objective\":{\"name\":\"binary:logistic\"}", &m, &err),
        GB_OK);
    double x[2] = {0.7, 0}, out[2];
    ck_assert_int_eq(m->ops->predict(m, x, 1, out, &err), GB_OK);
    ck_assert(fabs(out[1] - 1.0 / (1.0 + exp(-2.0))) < 1e-7);
    gb_model_free(m);
}
END_TEST

START_TEST(test_refuse_vector_leaf_and_targets)
{
    expect_refused("\"size_leaf_vector\":\"0\"", "\"size_leaf_vector\":\"3\"",
                   "vector leaves");
    expect_refused("\"num_target\":\"1\"", "\"num_target\":\"2\"", "multi-target");
}
END_TEST

START_TEST(test_refuse_multiclass_without_classes)
{
    expect_refused("reg:squarederror", "multi:softprob", "num_class");
}
END_TEST

START_TEST(test_refuse_feature_names_length)
{
    expect_refused("[\"a\",\"b\"]", "[\"a\"]", "feature_names");
    expect_refused("[\"float\",\"c\"]", "[\"float\",\"zz\"]", "'zz'");
}
END_TEST

START_TEST(test_refuse_malformed_json)
{
    gb_model *m = NULL;
    gb_error err;
    ck_assert_int_eq(gb_xgboost_load("{\"learner\":", 11, &m, &err), GB_EINPUT);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err.message, "byte"));
    ck_assert_int_eq(gb_xgboost_load("", 0, &m, &err), GB_EINPUT);
    ck_assert_int_eq(gb_xgboost_load("[1,2]", 5, &m, &err), GB_EUNUSABLE);
}
END_TEST

/* Every allocation failure is reported, never a crash or a leak. */
START_TEST(test_allocation_failures)
{
    size_t n = 0;
    char *bytes = read_all(FIX "softmax.ubj", &n);
    int ok = 0;
    for (long k = 1; k < 5000 && !ok; k++) {
        gb_model *m = NULL;
        gb_error err;
        gb_alloc_fail_after(k);
        gb_status rc = gb_xgboost_load(bytes, n, &m, &err);
        gb_alloc_fail_after(0);
        if (rc == GB_OK) {
            ok = 1;
            gb_model_free(m);
        } else {
            ck_assert_int_eq(rc, GB_ENOMEM);
            ck_assert_ptr_null(m);
        }
    }
    ck_assert(ok);
    free(bytes);
}
END_TEST

/* ---- UBJSON reader -------------------------------------------------------- */

static cJSON *ubj(const char *bytes, size_t n, gb_error *err)
{
    gb_error_clear(err);
    return gb_ubjson_parse((const unsigned char *)bytes, n, err);
}

START_TEST(test_ubjson_values)
{
    /* {"a":[$U#i3 1 2 3], "b":d 1.5, "c":T, "d":Z, "e":S i2 "hi", "f":[i -5 I 0x0102]}
     */
    static const char doc[] = "{i\x01"
                              "a[$U#i\x03\x01\x02\x03"
                              "i\x01"
                              "bd\x3f\xc0\x00\x00"
                              "i\x01"
                              "cT"
                              "i\x01"
                              "dZ"
                              "i\x01"
                              "eSi\x02hi"
                              "i\x01"
                              "f[i\xfbI\x01\x02N]"
                              "i\x01"
                              "gH"
                              "i\x03"
                              "2.5"
                              "i\x01"
                              "hC"
                              "x"
                              "}";
    gb_error err;
    cJSON *j = ubj(doc, sizeof doc - 1, &err);
    ck_assert_msg(j != NULL, "%s", err.message);
    cJSON *a = cJSON_GetObjectItem(j, "a");
    ck_assert_int_eq(cJSON_GetArraySize(a), 3);
    ck_assert(cJSON_GetArrayItem(a, 2)->valuedouble == 3);
    ck_assert(cJSON_GetObjectItem(j, "b")->valuedouble == 1.5);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "c")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "d")));
    ck_assert_str_eq(cJSON_GetObjectItem(j, "e")->valuestring, "hi");
    cJSON *f = cJSON_GetObjectItem(j, "f");
    ck_assert_int_eq(cJSON_GetArraySize(f), 2);
    ck_assert(cJSON_GetArrayItem(f, 0)->valuedouble == -5);
    ck_assert(cJSON_GetArrayItem(f, 1)->valuedouble == 258);
    ck_assert(cJSON_GetObjectItem(j, "g")->valuedouble == 2.5);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "h")->valuestring, "x");
    cJSON_Delete(j);
}
END_TEST

static void expect_ubj_error(const char *doc, size_t n, const char *needle)
{
    gb_error err;
    cJSON *j = ubj(doc, n, &err);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(err.code, GB_EINPUT);
    ck_assert_msg(strstr(err.message, needle) != NULL, "'%s' lacks '%s'", err.message,
                  needle);
    ck_assert_ptr_nonnull(strstr(err.message, "at byte"));
}

START_TEST(test_ubjson_truncated)
{
    expect_ubj_error("[$d#i\x02\x3f\xc0\x00\x00\x3f", 10, "exceeds");
    expect_ubj_error("[i\x01", 3, "unterminated");
    expect_ubj_error("l\x00\x01", 3, "truncated integer");
}
END_TEST

START_TEST(test_ubjson_huge_count)
{
    /* 10^9 float32 values declared, 4 bytes present */
    expect_ubj_error("[$d#l\x3b\x9a\xca\x00\x00\x00\x00\x00", 13, "exceeds");
    /* 10^9 zero-byte nulls */
    expect_ubj_error("[$Z#l\x3b\x9a\xca\x00", 9, "exceeds");
    /* a string longer than the input */
    expect_ubj_error("SL\x00\x00\x00\x00\x7f\xff\xff\xff"
                     "abc",
                     13, "exceeds");
    expect_ubj_error("Si\xff", 3, "negative length");
}
END_TEST

START_TEST(test_ubjson_depth)
{
    char deep[200];
    memset(deep, '[', sizeof deep);
    expect_ubj_error(deep, sizeof deep, "nesting too deep");
}
END_TEST

START_TEST(test_ubjson_bad_markers)
{
    expect_ubj_error("X", 1, "unknown marker");
    expect_ubj_error("[$N#i\x01", 6, "invalid container element type");
    expect_ubj_error("[$i\x01", 4, "needs a count");
    expect_ubj_error("TT", 2, "trailing");
    expect_ubj_error("Si\x03"
                     "a\0b",
                     6, "NUL");
    expect_ubj_error("Hi\x03"
                     "1x2",
                     6, "high-precision");
    expect_ubj_error("{S", 2, "a length must be an integer");
}
END_TEST

static Suite *xgboost_suite(void)
{
    Suite *s = suite_create("xgboost");
    TCase *tc = tcase_create("library");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_binary_json_and_ubj);
    tcase_add_test(tc, test_multiclass_json_and_ubj);
    tcase_add_test(tc, test_regression_json_and_ubj);
    tcase_add_test(tc, test_small_objectives);
    tcase_add_test(tc, test_v3_bracketed_base_score);
    tcase_add_test(tc, test_dart_without_drops);
    tcase_add_test(tc, test_json_ubj_identical);
    tcase_add_test(tc, test_features_and_summary);
    tcase_add_test(tc, test_levels_from_table);
    tcase_add_test(tc, test_predict_table_dataset);
    tcase_add_test(tc, test_treeshap_matches_xgboost);
    tcase_add_test(tc, test_predict_table_missing_feature);
    suite_add_tcase(s, tc);

    tc = tcase_create("refusals");
    tcase_add_test(tc, test_template_semantics);
    tcase_add_test(tc, test_deep_chain_tree);
    tcase_add_test(tc, test_no_covers_no_attribute);
    tcase_add_test(tc, test_refuse_gblinear);
    tcase_add_test(tc, test_refuse_dart_weight_drops);
    tcase_add_test(tc, test_refuse_unknown_objective);
    tcase_add_test(tc, test_refuse_format_version);
    tcase_add_test(tc, test_refuse_cycle);
    tcase_add_test(tc, test_refuse_shared_child);
    tcase_add_test(tc, test_refuse_child_out_of_range);
    tcase_add_test(tc, test_refuse_feature_out_of_range);
    tcase_add_test(tc, test_refuse_nan_threshold);
    tcase_add_test(tc, test_refuse_nan_leaf);
    tcase_add_test(tc, test_refuse_huge_num_trees);
    tcase_add_test(tc, test_refuse_mismatched_lengths);
    tcase_add_test(tc, test_refuse_bad_tree_info_group);
    tcase_add_test(tc, test_refuse_bad_categories);
    tcase_add_test(tc, test_refuse_bad_base_score);
    tcase_add_test(tc, test_base_score_forms);
    tcase_add_test(tc, test_refuse_logistic_base_score_range);
    tcase_add_test(tc, test_refuse_vector_leaf_and_targets);
    tcase_add_test(tc, test_refuse_multiclass_without_classes);
    tcase_add_test(tc, test_refuse_feature_names_length);
    tcase_add_test(tc, test_refuse_malformed_json);
    tcase_add_test(tc, test_allocation_failures);
    suite_add_tcase(s, tc);

    tc = tcase_create("ubjson");
    tcase_add_test(tc, test_ubjson_values);
    tcase_add_test(tc, test_ubjson_truncated);
    tcase_add_test(tc, test_ubjson_huge_count);
    tcase_add_test(tc, test_ubjson_depth);
    tcase_add_test(tc, test_ubjson_bad_markers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(xgboost_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
