/*
 * check_treeshap.c - exact TreeSHAP: random hand-built trees against Shapley
 * values computed by brute force over every feature subset (with the
 * path-dependent conditional expectation), and xgboost models against
 * xgboost's own predict(pred_contribs=True) through the loaded teacher's
 * attribute operation
 * (tests/fixtures/explain/, scripts/fixtures/make_xgboost_shap.py); thread
 * independence and every error.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/math/rng.h"
#include "core/model/students/student.h"
#include "core/model/teachers/xgboost.h"
#include "core/model/treeshap.h"
#include "explain/attribute.h"

#define MAX_NODES 512
#define NF 5

/* ---- random trees ------------------------------------------------------------ */

typedef struct rtree {
    gb_forest_node nodes[MAX_NODES];
    double values[MAX_NODES][2];
    int32_t cats[MAX_NODES][3];
    size_t n;
} rtree;

/* Grows a pre-order subtree at rt->n; returns its index. */
static int32_t grow(rtree *rt, gb_rng *rng, unsigned depth, double cover)
{
    int32_t i = (int32_t)rt->n++;
    gb_forest_node *nd = rt->nodes + i;
    memset(nd, 0, sizeof *nd);
    nd->cover = cover;
    if (depth == 0 || rt->n + 260 > MAX_NODES || gb_rng_uniform(rng) < 0.15) {
        nd->feature = -1;
        rt->values[i][0] = gb_rng_normal(rng);
        rt->values[i][1] = gb_rng_normal(rng);
        nd->value = rt->values[i];
        return i;
    }
    nd->feature = (int32_t)gb_rng_below(rng, NF);
    nd->missing_left = (int)gb_rng_below(rng, 2);
    if (nd->feature == NF - 1) { /* the last feature is a category code 0..3 */
        nd->categorical = 1;
        nd->cats_left = (int)gb_rng_below(rng, 2);
        nd->n_cats = 1 + gb_rng_below(rng, 2);
        for (size_t c = 0; c < nd->n_cats; c++)
            rt->cats[i][c] = (int32_t)gb_rng_below(rng, 4);
        nd->cats = rt->cats[i];
    } else {
        nd->threshold = round(gb_rng_normal(rng) * 4) / 4;
    }
    double share = 0.1 + 0.8 * gb_rng_uniform(rng);
    /* Children covers need not add up to the parent's (xgboost's rounding). */
    double slack = gb_rng_below(rng, 3) == 0 ? 0.9 : 1.0;
    int32_t l = grow(rt, rng, depth - 1, cover * share * slack);
    int32_t r = grow(rt, rng, depth - 1, cover * (1 - share));
    rt->nodes[i].left = l;
    rt->nodes[i].right = r;
    return i;
}

static int goes_left(const gb_forest_node *nd, double x, int split_lt)
{
    if (isnan(x))
        return nd->missing_left;
    if (nd->categorical) {
        int listed = 0;
        for (size_t c = 0; c < nd->n_cats; c++)
            listed |= x >= 0 && (int32_t)x == nd->cats[c];
        return nd->cats_left ? listed : !listed;
    }
    return split_lt ? x < nd->threshold : x <= nd->threshold;
}

/* E[f(x) | x_S] under the path-dependent rule, output k. */
static double cond_expect(const rtree *rt, int32_t i, const double *x, unsigned subset,
                          size_t k, int split_lt)
{
    const gb_forest_node *nd = rt->nodes + i;
    if (nd->feature < 0)
        return nd->value[k];
    if (subset & (1u << nd->feature))
        return cond_expect(
            rt, goes_left(nd, x[nd->feature], split_lt) ? nd->left : nd->right, x,
            subset, k, split_lt);
    const gb_forest_node *l = rt->nodes + nd->left, *r = rt->nodes + nd->right;
    return (l->cover * cond_expect(rt, nd->left, x, subset, k, split_lt) +
            r->cover * cond_expect(rt, nd->right, x, subset, k, split_lt)) /
           nd->cover;
}

static double factorial(unsigned n)
{
    return n <= 1 ? 1 : n * factorial(n - 1);
}

/* Brute-force Shapley values of feature j for the trees, output k. */
static double brute_phi(const rtree *trees, size_t n_trees, const double *x, unsigned j,
                        size_t k, int split_lt)
{
    double phi = 0;
    for (unsigned s = 0; s < (1u << NF); s++) {
        if (s & (1u << j))
            continue;
        unsigned size = (unsigned)__builtin_popcount(s);
        double w = factorial(size) * factorial(NF - size - 1) / factorial(NF);
        double gain = 0;
        for (size_t t = 0; t < n_trees; t++)
            gain += cond_expect(trees + t, 0, x, s | (1u << j), k, split_lt) -
                    cond_expect(trees + t, 0, x, s, k, split_lt);
        phi += w * gain;
    }
    return phi;
}

static void random_row(gb_rng *rng, double *x)
{
    for (size_t j = 0; j < NF; j++) {
        x[j] = round(gb_rng_normal(rng) * 4) / 4; /* hits thresholds exactly */
        if (j == NF - 1)
            x[j] = (double)gb_rng_below(rng, 5); /* 4 = unseen code */
        if (gb_rng_uniform(rng) < 0.15)
            x[j] = NAN;
    }
}

START_TEST(test_random_trees_match_brute_force)
{
    gb_rng rng;
    gb_rng_seed(&rng, 42);
    for (int trial = 0; trial < 40; trial++) {
        int split_lt = trial % 2;
        size_t n_trees = 1 + trial % 3;
        size_t n_out = 2;
        rtree trees[3];
        gb_error err;
        double base[2] = {0.5, -1.25};
        gb_forest *f = gb_forest_create(NF, n_out, base, split_lt, 0, &err);
        ck_assert_ptr_nonnull(f);
        for (size_t t = 0; t < n_trees; t++) {
            trees[t].n = 0;
            grow(trees + t, &rng, 2 + (unsigned)(trial % 5), 100.0);
            /* Tree 0 writes both outputs (vector leaves), the others one. */
            size_t o0 = t == 0 ? 0 : t % 2, nl = t == 0 ? 2 : 1;
            ck_assert_int_eq(
                gb_forest_add_tree(f, trees[t].nodes, trees[t].n, o0, nl, &err), GB_OK);
        }
        enum { NR = 6 };
        double X[NR * NF], phi[NR * 2 * (NF + 1)], margin[NR * 2];
        for (size_t i = 0; i < NR; i++)
            random_row(&rng, X + i * NF);
        ck_assert_int_eq(gb_forest_treeshap(f, X, NR, 1, phi, &err), GB_OK);
        gb_forest_predict(f, X, NR, margin);
        for (size_t i = 0; i < NR; i++) {
            for (size_t k = 0; k < n_out; k++) {
                const double *p = phi + (i * n_out + k) * (NF + 1);
                double sum = 0, bias = base[k];
                for (size_t j = 0; j <= NF; j++)
                    sum += p[j];
                ck_assert_msg(fabs(sum - margin[i * n_out + k]) < 1e-9,
                              "trial %d row %zu: sum %.17g margin %.17g", trial, i, sum,
                              margin[i * n_out + k]);
                for (size_t j = 0; j < NF; j++) {
                    rtree sub[3];
                    size_t n_sub = 0;
                    /* Trees that write output k, with their leaf value for k. */
                    for (size_t t = 0; t < n_trees; t++) {
                        size_t o0 = t == 0 ? 0 : t % 2, nl = t == 0 ? 2 : 1;
                        if (k < o0 || k >= o0 + nl)
                            continue;
                        sub[n_sub] = trees[t];
                        for (size_t m = 0; m < sub[n_sub].n; m++)
                            sub[n_sub].nodes[m].value = sub[n_sub].values[m] + (k - o0);
                        n_sub++;
                    }
                    double want =
                        brute_phi(sub, n_sub, X + i * NF, (unsigned)j, 0, split_lt);
                    ck_assert_msg(
                        fabs(p[j] - want) < 1e-10,
                        "trial %d row %zu out %zu feature %zu: %.17g vs %.17g", trial,
                        i, k, j, p[j], want);
                    if (j == 0)
                        for (size_t t = 0; t < n_sub; t++)
                            bias += cond_expect(sub + t, 0, X + i * NF, 0, 0, split_lt);
                }
                ck_assert_msg(fabs(p[NF] - bias) < 1e-10, "bias %.17g vs %.17g", p[NF],
                              bias);
            }
        }
        gb_forest_free(f);
    }
}
END_TEST

START_TEST(test_threads_do_not_change_results)
{
    gb_rng rng;
    gb_rng_seed(&rng, 3);
    gb_error err;
    gb_forest *f = gb_forest_create(NF, 2, NULL, 0, 0, &err);
    rtree rt;
    for (int t = 0; t < 20; t++) {
        rt.n = 0;
        grow(&rt, &rng, 6, 50.0);
        ck_assert_msg(gb_forest_add_tree(f, rt.nodes, rt.n, 0, 2, &err) == GB_OK, "%s",
                      err.message);
    }
    ck_assert_uint_eq(gb_forest_n_trees(f), 20);
    enum { NR = 300 };
    double *X = malloc(NR * NF * sizeof *X);
    double *a = malloc(NR * 2 * (NF + 1) * sizeof *a);
    double *b = malloc(NR * 2 * (NF + 1) * sizeof *b);
    for (size_t i = 0; i < NR; i++)
        random_row(&rng, X + i * NF);
    ck_assert_int_eq(gb_forest_treeshap(f, X, NR, 1, a, &err), GB_OK);
    ck_assert_int_eq(gb_forest_treeshap(f, X, NR, 2, b, &err), GB_OK);
    ck_assert_int_eq(memcmp(a, b, NR * 2 * (NF + 1) * sizeof *a), 0);
    free(X);
    free(a);
    free(b);
    gb_forest_free(f);
}
END_TEST

/* ---- xgboost ----------------------------------------------------------------- */

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    buf[size] = '\0';
    *n = (size_t)size;
    return buf;
}

static void check_xgboost_ext(const char *name, const char *ext)
{
    char path[256];
    size_t n = 0;
    gb_error err;
    if (strncmp(name, "teacher_", 8) == 0)
        snprintf(path, sizeof path, "tests/fixtures/xgboost/%s.%s", name + 8, ext);
    else
        snprintf(path, sizeof path, "tests/fixtures/explain/xgb_%s.json", name);
    char *model_bytes = slurp(path, &n);
    gb_model *model = NULL;
    ck_assert_msg(gb_xgboost_load(model_bytes, n, &model, &err) == GB_OK, "%s: %s",
                  name, err.message);
    free(model_bytes);
    ck_assert_msg(model->ops->attribute != NULL, "%s: no attribute operation", name);
    snprintf(path, sizeof path, "tests/fixtures/explain/shap_%s.json", name);
    char *ref_bytes = slurp(path, &n);
    cJSON *ref = gb_json_parse(ref_bytes, n, &err);
    free(ref_bytes);
    ck_assert_ptr_nonnull(ref);
    size_t nf = (size_t)cJSON_GetObjectItem(ref, "n_features")->valueint;
    size_t no = (size_t)cJSON_GetObjectItem(ref, "n_outputs")->valueint;
    ck_assert_uint_eq(model->n_features, nf);
    ck_assert_uint_eq(model->n_margins, no);
    const cJSON *xs = cJSON_GetObjectItem(ref, "X");
    size_t nr = (size_t)cJSON_GetArraySize(xs);
    double *X = malloc(nr * nf * sizeof *X);
    double *phi = malloc(nr * no * (nf + 1) * sizeof *phi);
    double *margin = malloc(nr * no * sizeof *margin);
    size_t i = 0;
    const cJSON *row = NULL, *v = NULL;
    cJSON_ArrayForEach(row, xs)
    {
        size_t j = 0;
        cJSON_ArrayForEach(v, row) X[i * nf + j++] =
            cJSON_IsNull(v) ? NAN : v->valuedouble;
        i++;
    }
    ck_assert_int_eq(model->ops->attribute(model, X, nr, phi, &err), GB_OK);
    ck_assert_int_eq(model->ops->predict_margin(model, X, nr, margin, &err), GB_OK);
    double worst = 0;
    const cJSON *crow = NULL, *mrow = NULL;
    i = 0;
    mrow = cJSON_GetObjectItem(ref, "margin")->child;
    cJSON_ArrayForEach(crow, cJSON_GetObjectItem(ref, "contribs"))
    {
        size_t k = 0;
        const cJSON *out = NULL, *m = mrow->child;
        cJSON_ArrayForEach(out, crow)
        {
            /* xgboost adds its trees in float: relative 1e-6 on large margins. */
            ck_assert_msg(fabs(margin[i * no + k] - m->valuedouble) <
                              1e-5 + 1e-6 * fabs(m->valuedouble),
                          "%s row %zu margin %.9g vs %.9g", name, i, margin[i * no + k],
                          m->valuedouble);
            size_t j = 0;
            double sum = 0;
            cJSON_ArrayForEach(v, out)
            {
                double got = phi[(i * no + k) * (nf + 1) + j];
                double d = fabs(got - v->valuedouble);
                if (d > worst)
                    worst = d;
                ck_assert_msg(d < 1e-5, "%s row %zu out %zu feature %zu: %.9g vs %.9g",
                              name, i, k, j, got, v->valuedouble);
                sum += got;
                j++;
            }
            ck_assert_uint_eq(j, nf + 1);
            ck_assert_msg(fabs(sum - margin[i * no + k]) <
                              1e-5 + 1e-6 * fabs(margin[i * no + k]),
                          "%s row %zu: attributions sum to %.9g, margin %.9g", name, i,
                          sum, margin[i * no + k]);
            k++;
            m = m->next;
        }
        i++;
        mrow = mrow->next;
    }
    ck_assert_uint_eq(i, nr);
    fprintf(stderr, "treeshap %s.%s: %zu rows, worst |diff| vs xgboost %.3g\n", name,
            ext, nr, worst);
    free(X);
    free(phi);
    free(margin);
    cJSON_Delete(ref);
    gb_model_free(model);
}

static void check_xgboost(const char *name)
{
    check_xgboost_ext(name, "json");
}

START_TEST(test_xgboost_binary)
{
    check_xgboost("binary");
}
END_TEST
START_TEST(test_xgboost_multiclass)
{
    check_xgboost("multiclass");
}
END_TEST
START_TEST(test_xgboost_regression)
{
    check_xgboost("regression");
}
END_TEST
START_TEST(test_xgboost_categorical)
{
    check_xgboost("categorical");
}
END_TEST

START_TEST(test_xgboost_categorical_onehot)
{
    check_xgboost("categorical_onehot");
}
END_TEST

START_TEST(test_xgboost_teacher_fixtures)
{
    check_xgboost("teacher_binary");
    check_xgboost("teacher_multiclass");
    check_xgboost("teacher_regression");
    /* The same models saved as UBJSON. */
    check_xgboost_ext("teacher_binary", "ubj");
    check_xgboost_ext("teacher_multiclass", "ubj");
}
END_TEST

/* ---- the tree student ---------------------------------------------------------- */

static void check_tree_student(gb_task task, size_t n_classes)
{
    enum { NR = 300, NFT = 3 };
    gb_rng rng;
    gb_rng_seed(&rng, 11 + n_classes);
    double *X = malloc(NR * NFT * sizeof *X);
    int32_t *y = malloc(NR * sizeof *y);
    double *yv = malloc(NR * sizeof *yv);
    for (size_t i = 0; i < NR; i++) {
        double a = gb_rng_normal(&rng), c = gb_rng_normal(&rng);
        double code = (double)gb_rng_below(&rng, 3);
        X[i * NFT] = gb_rng_uniform(&rng) < 0.1 ? NAN : a;
        X[i * NFT + 1] = gb_rng_uniform(&rng) < 0.1 ? NAN : code;
        X[i * NFT + 2] = c;
        double s = a + (code == 1 ? 1.0 : 0.0) - 0.5 * c + 0.3 * gb_rng_normal(&rng);
        y[i] = n_classes == 2 ? s > 0.5 : (s < 0 ? 0 : s < 1 ? 1 : 2);
        yv[i] = s;
    }
    char *levels[3] = {"a", "b", "c"};
    gb_feature feats[NFT] = {{"x", GB_FEAT_NUMERIC, NULL, 0},
                             {"kind", GB_FEAT_CATEGORICAL, levels, 3},
                             {"z", GB_FEAT_NUMERIC, NULL, 0}};
    char *classes[3] = {"0", "1", "2"};
    gb_train_set ts = {.n_rows = NR,
                       .n_features = NFT,
                       .X = X,
                       .features = feats,
                       .task = task,
                       .n_classes = n_classes,
                       .classes = classes,
                       .y_class = task == GB_TASK_REGRESSION ? NULL : y,
                       .y_value = task == GB_TASK_REGRESSION ? yv : NULL,
                       .temperature = 1,
                       .alpha = 1,
                       .n_threads = 1};
    gb_param params[1] = {{"max_depth", "5"}};
    gb_model *tree = NULL;
    gb_error err;
    ck_assert_msg(gb_student_fit("tree", params, 1, &ts, NULL, &tree, &err) == GB_OK,
                  "%s", err.message);
    ck_assert(ex_exact_available(tree));
    size_t nm = tree->n_margins, w = NFT + 1;
    double *phi = malloc(NR * nm * w * sizeof *phi);
    double *phi2 = malloc(NR * nm * w * sizeof *phi2);
    double *margin = malloc(NR * nm * sizeof *margin);
    ck_assert_int_eq(ex_exact_attribute(tree, X, NR, 1, phi, &err), GB_OK);
    ck_assert_int_eq(ex_exact_attribute(tree, X, NR, 2, phi2, &err), GB_OK);
    ck_assert_int_eq(memcmp(phi, phi2, NR * nm * w * sizeof *phi), 0);
    ck_assert_int_eq(tree->ops->predict_margin(tree, X, NR, margin, &err), GB_OK);
    for (size_t k = 0; k < nm; k++) {
        double mean_margin = 0;
        for (size_t i = 0; i < NR; i++) {
            const double *p = phi + (i * nm + k) * w;
            double sum = 0;
            for (size_t j = 0; j < w; j++)
                sum += p[j];
            ck_assert_msg(fabs(sum - margin[i * nm + k]) < 1e-9,
                          "row %zu: %.17g vs %.17g", i, sum, margin[i * nm + k]);
            mean_margin += margin[i * nm + k] / NR;
        }
        /* Cover = training rows, so the bias is the mean training margin. */
        ck_assert_msg(fabs(phi[k * w + NFT] - mean_margin) < 1e-9,
                      "bias %.17g vs %.17g", phi[k * w + NFT], mean_margin);
    }
    free(X);
    free(y);
    free(yv);
    free(phi);
    free(phi2);
    free(margin);
    gb_model_free(tree);
}

START_TEST(test_tree_student_binary)
{
    check_tree_student(GB_TASK_BINARY, 2);
}
END_TEST
START_TEST(test_tree_student_multiclass)
{
    check_tree_student(GB_TASK_MULTICLASS, 3);
}
END_TEST
START_TEST(test_tree_student_regression)
{
    check_tree_student(GB_TASK_REGRESSION, 0);
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

static const double leaf_value[1] = {1.0};

static void stump(gb_forest_node *nodes)
{
    memset(nodes, 0, 3 * sizeof *nodes);
    nodes[0] = (gb_forest_node){.feature = 0, .left = 1, .right = 2, .cover = 2};
    nodes[1] = (gb_forest_node){.feature = -1, .cover = 1, .value = leaf_value};
    nodes[2] = (gb_forest_node){.feature = -1, .cover = 1, .value = leaf_value};
}

static void expect_tree_error(gb_forest_node *nodes, size_t n, size_t o0, size_t nl,
                              const char *fragment)
{
    gb_error err;
    gb_forest *f = gb_forest_create(2, 1, NULL, 0, 0, &err);
    ck_assert_int_eq(gb_forest_add_tree(f, nodes, n, o0, nl, &err), GB_EUNUSABLE);
    ck_assert_msg(strstr(err.message, fragment) != NULL, "'%s' lacks '%s'", err.message,
                  fragment);
    ck_assert_uint_eq(gb_forest_n_trees(f), 0);
    gb_forest_free(f);
}

START_TEST(test_tree_errors)
{
    gb_forest_node nodes[3];
    stump(nodes);
    nodes[0].left = 0;
    expect_tree_error(nodes, 3, 0, 1, "must be distinct nodes after it");
    stump(nodes);
    nodes[0].right = 3;
    expect_tree_error(nodes, 3, 0, 1, "must be distinct nodes after it");
    stump(nodes);
    nodes[0].feature = 2;
    expect_tree_error(nodes, 3, 0, 1, "splits on feature 2 of 2");
    stump(nodes);
    nodes[0].cover = 0;
    expect_tree_error(nodes, 3, 0, 1, "positive cover");
    stump(nodes);
    nodes[1].cover = -1;
    expect_tree_error(nodes, 3, 0, 1, "cover -1");
    stump(nodes);
    nodes[0].threshold = NAN;
    expect_tree_error(nodes, 3, 0, 1, "threshold");
    stump(nodes);
    nodes[2].value = NULL;
    expect_tree_error(nodes, 3, 0, 1, "has no value");
    stump(nodes);
    expect_tree_error(nodes, 3, 1, 1, "outputs 1..2 of a 1-output forest");
    stump(nodes);
    int32_t bad = -3;
    nodes[0].categorical = 1;
    nodes[0].cats = &bad;
    nodes[0].n_cats = 1;
    expect_tree_error(nodes, 3, 0, 1, "negative category");
    /* Two parents: 0 -> (1, 2), 1 -> (2, 3). */
    gb_forest_node four[4];
    memset(four, 0, sizeof four);
    four[0] = (gb_forest_node){.feature = 0, .left = 1, .right = 2, .cover = 2};
    four[1] = (gb_forest_node){.feature = 1, .left = 2, .right = 3, .cover = 1};
    four[2] = (gb_forest_node){.feature = -1, .cover = 1, .value = leaf_value};
    four[3] = (gb_forest_node){.feature = -1, .cover = 1, .value = leaf_value};
    expect_tree_error(four, 4, 0, 1, "two parents");
}
END_TEST

START_TEST(test_alloc_failure_leaves_forest_unchanged)
{
    gb_forest_node nodes[3];
    stump(nodes);
    gb_error err;
    for (long n = 1; n < 10; n++) {
        gb_forest *f = gb_forest_create(2, 1, NULL, 0, 0, &err);
        ck_assert_int_eq(gb_forest_add_tree(f, nodes, 3, 0, 1, &err), GB_OK);
        gb_alloc_fail_after(n);
        gb_status rc = gb_forest_add_tree(f, nodes, 3, 0, 1, &err);
        gb_alloc_fail_after(0);
        ck_assert(rc == GB_OK || rc == GB_ENOMEM);
        ck_assert_uint_eq(gb_forest_n_trees(f), rc == GB_OK ? 2 : 1);
        double x[2] = {0.5, 0}, m = 0;
        gb_forest_predict(f, x, 1, &m);
        ck_assert_double_eq(m, rc == GB_OK ? 2.0 : 1.0);
        gb_forest_free(f);
    }
}
END_TEST

/* A file without sum_hessian still predicts but has no attributions. */
START_TEST(test_xgboost_without_covers)
{
    size_t n = 0;
    char *bytes = slurp("tests/fixtures/xgboost/binary.json", &n);
    char *key = strstr(bytes, "\"sum_hessian\"");
    ck_assert_ptr_nonnull(key);
    /* Rename every sum_hessian member so that the loader cannot see it. */
    while (key != NULL) {
        memcpy(key + 1, "sum_hessiax", 11);
        key = strstr(key + 1, "\"sum_hessian\"");
    }
    gb_model *model = NULL;
    gb_error err;
    ck_assert_msg(gb_xgboost_load(bytes, n, &model, &err) == GB_OK, "%s", err.message);
    ck_assert_ptr_null(model->ops->attribute);
    ck_assert_ptr_nonnull(model->ops->predict_margin);
    gb_model_free(model);
    free(bytes);
}
END_TEST

static Suite *treeshap_suite(void)
{
    Suite *s = suite_create("treeshap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_random_trees_match_brute_force);
    tcase_add_test(tc, test_threads_do_not_change_results);
    tcase_add_test(tc, test_xgboost_binary);
    tcase_add_test(tc, test_xgboost_multiclass);
    tcase_add_test(tc, test_xgboost_regression);
    tcase_add_test(tc, test_xgboost_categorical);
    tcase_add_test(tc, test_xgboost_categorical_onehot);
    tcase_add_test(tc, test_xgboost_teacher_fixtures);
    tcase_add_test(tc, test_tree_student_binary);
    tcase_add_test(tc, test_tree_student_multiclass);
    tcase_add_test(tc, test_tree_student_regression);
    tcase_add_test(tc, test_tree_errors);
    tcase_add_test(tc, test_alloc_failure_leaves_forest_unchanged);
    tcase_add_test(tc, test_xgboost_without_covers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(treeshap_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
