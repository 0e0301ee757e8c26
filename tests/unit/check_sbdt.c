/*
 * check_sbdt.c - the soft binary decision tree student: the batch objective
 * and gradient against PyTorch autograd and finite differences, digits
 * accuracies (hard and distilled) against a PyTorch implementation of the
 * same model (tests/fixtures/sbdt, written by scripts/fixtures/make_sbdt.py),
 * paths, round trips, determinism, the C export, and every parameter and
 * training-set error.
 */
#include <cblas.h>
#include <check.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/math/rng.h"
#include "core/model/model.h"
#include "core/model/students/sbdt.h"
#include "core/model/students/student.h"
#include "core/model/teachers/load.h"

void openblas_set_num_threads(int n);

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

static double *json_doubles(const cJSON *arr, size_t *n)
{
    size_t len = (size_t)cJSON_GetArraySize(arr), i = 0;
    double *v = malloc((len ? len : 1) * sizeof *v);
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) v[i++] = it->valuedouble;
    if (n != NULL)
        *n = len;
    return v;
}

/* A numeric CSV with a header whose last column is the integer target. */
typedef struct digits_set {
    size_t n_rows, n_features;
    double *X;
    int32_t *y;
    gb_feature *features;
    char **classes;
} digits_set;

static void digits_load(const char *path, digits_set *d)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char line[65536];
    ck_assert(fgets(line, sizeof line, f) != NULL);
    size_t n_cols = 1;
    for (char *p = line; *p; p++)
        n_cols += *p == ',';
    d->n_features = n_cols - 1;
    d->features = calloc(d->n_features, sizeof *d->features);
    char *tok = strtok(line, ",\r\n");
    for (size_t j = 0; j < d->n_features; j++, tok = strtok(NULL, ",\r\n")) {
        d->features[j].name = strdup(tok);
        d->features[j].kind = GB_FEAT_NUMERIC;
    }
    size_t cap = 2048;
    d->X = malloc(cap * d->n_features * sizeof *d->X);
    d->y = malloc(cap * sizeof *d->y);
    d->n_rows = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        ck_assert(d->n_rows < cap);
        char *p = line;
        for (size_t j = 0; j < n_cols; j++) {
            double v = strtod(p, &p);
            if (j < d->n_features)
                d->X[d->n_rows * d->n_features + j] = v;
            else
                d->y[d->n_rows] = (int32_t)v;
            if (*p == ',')
                p++;
        }
        d->n_rows++;
    }
    fclose(f);
    d->classes = calloc(10, sizeof *d->classes);
    for (int k = 0; k < 10; k++) {
        char s[12];
        snprintf(s, sizeof s, "%d", k);
        d->classes[k] = strdup(s);
    }
}

static void digits_free(digits_set *d)
{
    for (size_t j = 0; j < d->n_features; j++)
        free(d->features[j].name);
    for (int k = 0; k < 10; k++)
        free(d->classes[k]);
    free(d->features);
    free(d->classes);
    free(d->X);
    free(d->y);
}

static gb_train_set digits_train_set(const digits_set *d, const double *soft,
                                     double alpha, uint64_t seed)
{
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = d->n_rows;
    ts.n_features = d->n_features;
    ts.X = d->X;
    ts.features = d->features;
    ts.task = GB_TASK_MULTICLASS;
    ts.n_classes = 10;
    ts.classes = d->classes;
    ts.y_class = d->y;
    ts.soft = soft;
    ts.temperature = 1.0;
    ts.alpha = alpha;
    ts.seed = seed;
    ts.n_threads = 1;
    return ts;
}

static gb_model *fit_ok(const gb_param *params, size_t n_params, const gb_train_set *ts)
{
    gb_model *m = NULL;
    gb_error err;
    gb_status rc = gb_student_fit("sbdt", params, n_params, ts, NULL, &m, &err);
    ck_assert_msg(rc == GB_OK, "fit: %s", err.message);
    return m;
}

static double accuracy(const double *P, size_t n, size_t K, const int32_t *y)
{
    size_t hit = 0;
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t k = 1; k < K; k++)
            if (P[i * K + k] > P[i * K + best])
                best = k;
        hit += (int32_t)best == y[i];
    }
    return (double)hit / (double)n;
}

/* ---- the objective
 * ------------------------------------------------------------------- */

START_TEST(test_objective_matches_torch_autograd)
{
    cJSON *cases = load_json("tests/fixtures/sbdt/objective.json");
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        int depth = cJSON_GetObjectItem(c, "depth")->valueint;
        size_t p = (size_t)cJSON_GetObjectItem(c, "n_features")->valueint;
        size_t K = (size_t)cJSON_GetObjectItem(c, "n_out")->valueint;
        size_t n = (size_t)cJSON_GetObjectItem(c, "n_rows")->valueint;
        int regression = cJSON_GetObjectItem(c, "regression")->valueint;
        double fixed_beta = cJSON_GetObjectItem(c, "fixed_beta")->valuedouble;
        double lambda = cJSON_GetObjectItem(c, "penalty")->valuedouble;
        size_t n_theta = 0, n_grad = 0;
        double *Z = json_doubles(cJSON_GetObjectItem(c, "Z"), NULL);
        double *q = json_doubles(cJSON_GetObjectItem(c, "q"), NULL);
        double *theta = json_doubles(cJSON_GetObjectItem(c, "theta"), &n_theta);
        double *want = json_doubles(cJSON_GetObjectItem(c, "grad"), &n_grad);
        double want_loss = cJSON_GetObjectItem(c, "loss")->valuedouble;
        ck_assert_uint_eq(n_theta, n_grad);
        double *grad = malloc(n_theta * sizeof *grad), loss = 0.0;
        gb_error err;
        ck_assert_int_eq(gb_sbdt_objective(depth, p, K, regression, theta, fixed_beta,
                                           lambda, Z, q, n, &loss, grad, &err),
                         GB_OK);
        ck_assert_msg(fabs(loss - want_loss) <= 1e-12 * fabs(want_loss),
                      "loss %.17g %.17g", loss, want_loss);
        for (size_t i = 0; i < n_theta; i++)
            ck_assert_msg(fabs(grad[i] - want[i]) <= 1e-11 * fmax(1.0, fabs(want[i])),
                          "grad %zu: %.17g vs torch %.17g", i, grad[i], want[i]);
        free(Z);
        free(q);
        free(theta);
        free(want);
        free(grad);
    }
    cJSON_Delete(cases);
}
END_TEST

/* Central differences of the objective against its gradient on [lo, hi). */
static void fd_check(int depth, size_t p, size_t K, int regression, double fixed_beta,
                     double lambda, uint64_t seed, size_t lo, size_t hi,
                     const char *what)
{
    size_t n = 13, n_inner = ((size_t)1 << depth) - 1, L = n_inner + 1;
    size_t n_theta = n_inner * p + n_inner + L * K + 1;
    gb_rng rng;
    gb_rng_seed(&rng, seed);
    double *Z = malloc(n * p * sizeof *Z), *q = malloc(n * K * sizeof *q);
    double *theta = malloc(n_theta * sizeof *theta),
           *grad = malloc(n_theta * sizeof *grad);
    double *g2 = malloc(n_theta * sizeof *g2);
    for (size_t i = 0; i < n * p; i++)
        Z[i] = gb_rng_normal(&rng);
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t k = 0; k < K; k++)
            s += (q[i * K + k] =
                      regression ? gb_rng_normal(&rng) : gb_rng_uniform(&rng));
        for (size_t k = 0; k < K && !regression; k++)
            q[i * K + k] /= s;
    }
    for (size_t i = 0; i < n_theta; i++)
        theta[i] = 0.6 * gb_rng_normal(&rng);
    theta[n_theta - 1] = 0.2;
    double f = 0.0, fp = 0.0, fm = 0.0;
    gb_error err;
    ck_assert_int_eq(gb_sbdt_objective(depth, p, K, regression, theta, fixed_beta,
                                       lambda, Z, q, n, &f, grad, &err),
                     GB_OK);
    double worst = 0.0;
    for (size_t i = lo; i < hi; i++) {
        double h = 1e-6, t0 = theta[i];
        theta[i] = t0 + h;
        gb_sbdt_objective(depth, p, K, regression, theta, fixed_beta, lambda, Z, q, n,
                          &fp, g2, &err);
        theta[i] = t0 - h;
        gb_sbdt_objective(depth, p, K, regression, theta, fixed_beta, lambda, Z, q, n,
                          &fm, g2, &err);
        theta[i] = t0;
        double fd = (fp - fm) / (2.0 * h);
        double diff = fabs(fd - grad[i]) / fmax(1e-3, fabs(fd));
        ck_assert_msg(diff < 1e-5,
                      "%s: parameter %zu gradient %.10g, differences %.10g", what, i,
                      grad[i], fd);
        if (diff > worst)
            worst = diff;
    }
    free(Z);
    free(q);
    free(theta);
    free(grad);
    free(g2);
}

START_TEST(test_gradients_match_finite_differences)
{
    int depth = 3;
    size_t p = 5, K = 3, n_inner = 7, L = 8;
    size_t w_end = n_inner * p, b_end = w_end + n_inner, leaf_end = b_end + L * K;
    fd_check(depth, p, K, 0, 0.0, 0.3, 1, 0, w_end, "filters");
    fd_check(depth, p, K, 0, 0.0, 0.3, 2, w_end, b_end, "biases");
    fd_check(depth, p, K, 0, 0.0, 0.3, 3, b_end, leaf_end, "leaf logits");
    fd_check(depth, p, K, 0, 0.0, 0.3, 4, leaf_end, leaf_end + 1, "log beta");
    /* the penalty alone (no data term: zero targets) */
    fd_check(depth, p, 1, 1, 0.0, 2.0, 5, 0, n_inner * p + n_inner, "penalty (reg.)");
    fd_check(depth, p, K, 0, 1.7, 0.5, 6, 0, leaf_end, "fixed beta");
    fd_check(depth, p, 1, 1, 0.0, 0.3, 7, 0, n_inner * p + n_inner + L + 1,
             "regression");
    fd_check(1, 4, 2, 0, 0.0, 0.3, 8, 0, 4 + 1 + 4 + 1, "depth 1");
}
END_TEST

START_TEST(test_penalty_gradient_alone)
{
    /* objective(lambda) - objective(0) is the penalty: check its gradient. */
    int depth = 3;
    size_t p = 4, K = 2, n = 9, n_inner = 7, L = 8;
    size_t n_theta = n_inner * p + n_inner + L * K + 1;
    gb_rng rng;
    gb_rng_seed(&rng, 11);
    double Z[36], q[18], theta[64], g1[64], g0[64], tmp[64];
    for (size_t i = 0; i < n * p; i++)
        Z[i] = gb_rng_normal(&rng);
    for (size_t i = 0; i < n; i++)
        q[2 * i] = gb_rng_uniform(&rng), q[2 * i + 1] = 1.0 - q[2 * i];
    for (size_t i = 0; i < n_theta; i++)
        theta[i] = 0.5 * gb_rng_normal(&rng);
    gb_error err;
    double f1, f0, fp1, fp0, fm1, fm0;
    gb_sbdt_objective(depth, p, K, 0, theta, 0.0, 0.7, Z, q, n, &f1, g1, &err);
    gb_sbdt_objective(depth, p, K, 0, theta, 0.0, 0.0, Z, q, n, &f0, g0, &err);
    ck_assert(f1 - f0 > 0.0);
    for (size_t i = 0; i < n_theta; i++) {
        double h = 1e-6, t0 = theta[i];
        theta[i] = t0 + h;
        gb_sbdt_objective(depth, p, K, 0, theta, 0.0, 0.7, Z, q, n, &fp1, tmp, &err);
        gb_sbdt_objective(depth, p, K, 0, theta, 0.0, 0.0, Z, q, n, &fp0, tmp, &err);
        theta[i] = t0 - h;
        gb_sbdt_objective(depth, p, K, 0, theta, 0.0, 0.7, Z, q, n, &fm1, tmp, &err);
        gb_sbdt_objective(depth, p, K, 0, theta, 0.0, 0.0, Z, q, n, &fm0, tmp, &err);
        theta[i] = t0;
        double fd = ((fp1 - fp0) - (fm1 - fm0)) / (2.0 * h), an = g1[i] - g0[i];
        ck_assert_msg(fabs(fd - an) <= 1e-6 * fmax(1e-2, fabs(fd)),
                      "penalty gradient %zu: %.10g vs %.10g", i, an, fd);
    }
}
END_TEST

/* ---- digits against PyTorch
 * ------------------------------------------------------------ */

static double *teacher_probs(const digits_set *d)
{
    gb_model *t = NULL;
    gb_error err;
    ck_assert_msg(gb_teacher_load_file("tests/fixtures/distill/teacher_digits.json", &t,
                                       &err) == GB_OK,
                  "%s", err.message);
    ck_assert_uint_eq(t->n_features, d->n_features);
    for (size_t j = 0; j < d->n_features; j++)
        ck_assert_str_eq(t->features[j].name, d->features[j].name);
    double *P = malloc(d->n_rows * 10 * sizeof *P);
    ck_assert_int_eq(t->ops->predict(t, d->X, d->n_rows, P, &err), GB_OK);
    gb_model_free(t);
    return P;
}

START_TEST(test_digits_accuracy_matches_torch)
{
    cJSON *ref = load_json("tests/fixtures/sbdt/reference.json");
    digits_set tr, te;
    digits_load("tests/fixtures/datasets/digits_train.csv", &tr);
    digits_load("tests/fixtures/datasets/digits_test.csv", &te);
    double *soft = teacher_probs(&tr);
    int seeds = cJSON_GetObjectItem(ref, "seeds")->valueint;
    double *P = malloc(te.n_rows * 10 * sizeof *P);
    const char *names[2] = {"hard", "distilled"};
    for (int v = 0; v < 2; v++) {
        double sum_max = 0.0, sum_mix = 0.0;
        for (int s = 0; s < seeds; s++) {
            gb_train_set ts =
                digits_train_set(&tr, v ? soft : NULL, v ? 0.0 : 1.0, (uint64_t)s + 1);
            gb_model *m = fit_ok(NULL, 0, &ts);
            gb_error err;
            ck_assert_int_eq(m->ops->predict(m, te.X, te.n_rows, P, &err), GB_OK);
            sum_max += accuracy(P, te.n_rows, 10, te.y);
            ck_assert_int_eq(gb_sbdt_predict_mixture(m, te.X, te.n_rows, P, &err),
                             GB_OK);
            sum_mix += accuracy(P, te.n_rows, 10, te.y);
            gb_model_free(m);
        }
        const cJSON *r = cJSON_GetObjectItem(ref, names[v]);
        double want_max = cJSON_GetObjectItem(r, "mean_max_path")->valuedouble;
        double want_mix = cJSON_GetObjectItem(r, "mean_mixture")->valuedouble;
        double got_max = sum_max / seeds, got_mix = sum_mix / seeds;
        fprintf(
            stderr,
            "sbdt digits %s: glassbox max-path %.4f mixture %.4f, torch %.4f %.4f\n",
            names[v], got_max, got_mix, want_max, want_mix);
        ck_assert_msg(fabs(got_max - want_max) <= 0.015,
                      "%s max-path %.4f vs torch %.4f", names[v], got_max, want_max);
        ck_assert_msg(fabs(got_mix - want_mix) <= 0.015,
                      "%s mixture %.4f vs torch %.4f", names[v], got_mix, want_mix);
    }
    free(P);
    free(soft);
    digits_free(&tr);
    digits_free(&te);
    cJSON_Delete(ref);
}
END_TEST

/* ---- the model
 * ----------------------------------------------------------------------- */

/* A small digits model (depth 3, 5 epochs) for the model tests. */
static gb_model *small_digits_model(const digits_set *d, unsigned n_threads)
{
    gb_param params[2] = {{"max_depth", "3"}, {"epochs", "5"}};
    gb_train_set ts = digits_train_set(d, NULL, 1.0, 42);
    ts.n_threads = n_threads;
    return fit_ok(params, 2, &ts);
}

START_TEST(test_artifact_round_trip_and_paths)
{
    digits_set d;
    digits_load("tests/fixtures/datasets/digits_test.csv", &d);
    gb_model *m = small_digits_model(&d, 1);
    cJSON *a = m->ops->to_json(m);
    ck_assert_str_eq(cJSON_GetObjectItem(a, "type")->valuestring, "sbdt");
    ck_assert_int_eq(cJSON_GetObjectItem(a, "depth")->valueint, 3);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(a, "inner")), 7);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(a, "leaves")), 8);
    const cJSON *img = cJSON_GetObjectItem(a, "image");
    ck_assert_int_eq(cJSON_GetObjectItem(img, "width")->valueint, 8);
    ck_assert_int_eq(cJSON_GetObjectItem(img, "height")->valueint, 8);
    const cJSON *cx = cJSON_GetObjectItem(a, "complexity");
    ck_assert_int_eq(cJSON_GetObjectItem(cx, "inner_nodes")->valueint, 7);
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(a, "params"), "beta")->valuestring,
        "learned");
    char *text = gb_json_print(a, 0);
    gb_error err;
    cJSON *parsed = gb_json_parse(text, strlen(text), &err);
    gb_model *m2 = NULL;
    ck_assert_msg(gb_student_from_json(parsed, &m2, &err) == GB_OK, "%s", err.message);
    char *text2 = NULL;
    cJSON *a2 = m2->ops->to_json(m2);
    text2 = gb_json_print(a2, 0);
    ck_assert_msg(strcmp(text, text2) == 0, "artifact changed in a round trip");

    size_t n = d.n_rows;
    double *P1 = malloc(n * 10 * sizeof *P1), *P2 = malloc(n * 10 * sizeof *P2);
    ck_assert_int_eq(m->ops->predict(m, d.X, n, P1, &err), GB_OK);
    ck_assert_int_eq(m2->ops->predict(m2, d.X, n, P2, &err), GB_OK);
    for (size_t i = 0; i < n * 10; i++)
        ck_assert_msg(P1[i] == P2[i], "prediction %zu: %.17g after a round trip, %.17g",
                      i, P2[i], P1[i]);

    /* paths: the leaf of predict, branch products equal the max path probability */
    size_t *nodes = malloc(n * 3 * sizeof *nodes), *leaf = malloc(n * sizeof *leaf);
    double *bp = malloc(n * 3 * sizeof *bp), *mix = malloc(n * 10 * sizeof *mix);
    ck_assert_int_eq(gb_sbdt_paths(m2, d.X, n, nodes, bp, leaf, &err), GB_OK);
    ck_assert_int_eq(gb_sbdt_predict_mixture(m2, d.X, n, mix, &err), GB_OK);
    const cJSON *leaves = cJSON_GetObjectItem(a, "leaves");
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(nodes[i * 3], 0);
        size_t node = 0;
        for (int k = 0; k < 3; k++) {
            ck_assert_uint_eq(nodes[i * 3 + (size_t)k], node);
            ck_assert(bp[i * 3 + (size_t)k] > 0.0 && bp[i * 3 + (size_t)k] <= 1.0);
            size_t next = k < 2 ? nodes[i * 3 + (size_t)k + 1] : 7 + leaf[i];
            ck_assert(next == 2 * node + 1 || next == 2 * node + 2);
            node = next;
        }
        const cJSON *dist = cJSON_GetObjectItem(
            cJSON_GetArrayItem(leaves, (int)leaf[i]), "distribution");
        double s = 0.0;
        for (int k = 0; k < 10; k++) {
            ck_assert(cJSON_GetArrayItem(dist, k)->valuedouble ==
                      P1[i * 10 + (size_t)k]);
            s += mix[i * 10 + (size_t)k];
        }
        ck_assert(fabs(s - 1.0) < 1e-12);
        ck_assert(bp[i * 3] * bp[i * 3 + 1] * bp[i * 3 + 2] >= 0.125 - 1e-12);
    }
    free(nodes);
    free(leaf);
    free(bp);
    free(mix);
    free(P1);
    free(P2);
    gb_free(text);
    gb_free(text2);
    cJSON_Delete(a);
    cJSON_Delete(a2);
    cJSON_Delete(parsed);
    gb_model_free(m);
    gb_model_free(m2);
    digits_free(&d);
}
END_TEST

START_TEST(test_deterministic_across_threads)
{
    digits_set d;
    digits_load("tests/fixtures/datasets/digits_test.csv", &d);
    gb_model *m1 = small_digits_model(&d, 1), *m2 = small_digits_model(&d, 2);
    gb_model *m3 = small_digits_model(&d, 8);
    cJSON *a1 = m1->ops->to_json(m1), *a2 = m2->ops->to_json(m2);
    cJSON *a3 = m3->ops->to_json(m3);
    char *t1 = gb_json_print(a1, 0), *t2 = gb_json_print(a2, 0),
         *t3 = gb_json_print(a3, 0);
    ck_assert_str_eq(t1, t2);
    ck_assert_str_eq(t1, t3);
    gb_free(t1);
    gb_free(t2);
    gb_free(t3);
    cJSON_Delete(a1);
    cJSON_Delete(a2);
    cJSON_Delete(a3);
    gb_model_free(m1);
    gb_model_free(m2);
    gb_model_free(m3);
    digits_free(&d);
}
END_TEST

START_TEST(test_missing_values_are_the_mean)
{
    digits_set d;
    digits_load("tests/fixtures/datasets/digits_test.csv", &d);
    gb_model *m = small_digits_model(&d, 1);
    cJSON *a = m->ops->to_json(m);
    const cJSON *mean =
        cJSON_GetObjectItem(cJSON_GetObjectItem(a, "standardise"), "mean");
    double x1[64], x2[64], p1[10], p2[10];
    memcpy(x1, d.X, sizeof x1);
    memcpy(x2, d.X, sizeof x2);
    for (int j = 20; j < 40; j++) {
        x1[j] = NAN;
        x2[j] = cJSON_GetArrayItem(mean, j)->valuedouble;
    }
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, x1, 1, p1, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict(m, x2, 1, p2, &err), GB_OK);
    for (int k = 0; k < 10; k++)
        ck_assert(fabs(p1[k] - p2[k]) < 1e-15);
    cJSON_Delete(a);
    gb_model_free(m);
    digits_free(&d);
}
END_TEST

/* The C export computes every path probability and takes the argmax; predict
 * prunes subtrees (branch and bound): both must pick the same leaves. */
static void check_c_export(const char *depth, size_t n)
{
    digits_set d;
    digits_load("tests/fixtures/datasets/digits_test.csv", &d);
    gb_param params[2] = {{"max_depth", depth}, {"epochs", "3"}};
    gb_train_set ts = digits_train_set(&d, NULL, 1.0, 9);
    gb_model *m = fit_ok(params, 2, &ts);
    char *code = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "sql", &code, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(code);
    ck_assert(strstr(err.message, "C") != NULL);
    ck_assert_int_eq(gb_student_export(m, "c", &code, &err), GB_OK);
    char dir[] = "/tmp/gb_sbdt_cXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char src[128], bin[128], cmd[512];
    snprintf(src, sizeof src, "%s/student.c", dir);
    snprintf(bin, sizeof bin, "%s/student", dir);
    FILE *f = fopen(src, "w");
    size_t p = 64;
    fprintf(f, "%s\n#include <stdio.h>\nstatic const double rows[%zu][%zu] = {\n", code,
            n, p);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "{");
        for (size_t j = 0; j < p; j++)
            fprintf(f, "%s%.17g", j ? "," : "", d.X[i * p + j]);
        fprintf(f, "},\n");
    }
    fprintf(f,
            "};\nint main(void)\n{\n    double out[10];\n"
            "    for (int i = 0; i < %zu; i++) {\n"
            "        glassbox_predict(rows[i], out);\n"
            "        for (int k = 0; k < 10; k++)\n"
            "            printf(\"%%.17g\\n\", out[k]);\n    }\n    return 0;\n}\n",
            n);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cc -std=c99 -Wall -Werror -O2 -o %s %s -lm", bin, src);
    ck_assert_int_eq(system(cmd), 0);
    double *out = malloc(n * 10 * sizeof *out);
    ck_assert_int_eq(m->ops->predict(m, d.X, n, out, &err), GB_OK);
    FILE *run = popen(bin, "r");
    for (size_t i = 0; i < n * 10; i++) {
        double v;
        ck_assert_int_eq(fscanf(run, "%lf", &v), 1);
        ck_assert_msg(v == out[i], "value %zu: c %.17g predict %.17g", i, v, out[i]);
    }
    ck_assert_int_eq(pclose(run), 0);
    unlink(bin);
    unlink(src);
    rmdir(dir);
    free(out);
    gb_free(code);
    gb_model_free(m);
    digits_free(&d);
}

START_TEST(test_c_export_matches_predict)
{
    check_c_export("3", 100);
    check_c_export("8", 450);
}
END_TEST

START_TEST(test_regression_and_fixed_beta)
{
    /* y = 3 when x0 > 0.5 else -1, plus x1 noise: the tree must split on x0 */
    size_t n = 400, p = 3;
    double *X = malloc(n * p * sizeof *X), *y = malloc(n * sizeof *y);
    gb_rng rng;
    gb_rng_seed(&rng, 5);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++)
            X[i * p + j] = gb_rng_uniform(&rng);
        y[i] = (X[i * p] > 0.5 ? 3.0 : -1.0) + 0.1 * gb_rng_normal(&rng);
    }
    gb_feature feats[3] = {{"x0", GB_FEAT_NUMERIC, NULL, 0},
                           {"x1", GB_FEAT_NUMERIC, NULL, 0},
                           {"x2", GB_FEAT_NUMERIC, NULL, 0}};
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = n;
    ts.n_features = p;
    ts.X = X;
    ts.features = feats;
    ts.task = GB_TASK_REGRESSION;
    ts.y_value = y;
    ts.alpha = 1.0;
    ts.temperature = 1.0;
    ts.seed = 3;
    gb_param params[4] = {
        {"max_depth", "2"}, {"epochs", "60"}, {"beta", "4"}, {"learning_rate", "0.05"}};
    gb_model *m = fit_ok(params, 4, &ts);
    double *pred = malloc(n * sizeof *pred), *mix = malloc(n * sizeof *mix);
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, X, n, pred, &err), GB_OK);
    ck_assert_int_eq(gb_sbdt_predict_mixture(m, X, n, mix, &err), GB_OK);
    double sse = 0.0, sst = 0.0, mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += y[i] / (double)n;
    for (size_t i = 0; i < n; i++) {
        sse += (mix[i] - y[i]) * (mix[i] - y[i]);
        sst += (y[i] - mean) * (y[i] - mean);
    }
    ck_assert_msg(sse / sst < 0.2, "R^2 %.3f", 1.0 - sse / sst);
    cJSON *a = m->ops->to_json(m);
    ck_assert(cJSON_GetObjectItem(a, "beta")->valuedouble == 4.0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(a, "image")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(a, "classes")));
    gb_model *m2 = NULL;
    ck_assert_msg(gb_student_from_json(a, &m2, &err) == GB_OK, "%s", err.message);
    double *pred2 = malloc(n * sizeof *pred2);
    ck_assert_int_eq(m2->ops->predict(m2, X, n, pred2, &err), GB_OK);
    ck_assert(memcmp(pred, pred2, n * sizeof *pred) == 0);
    free(pred2);
    gb_model_free(m2);
    cJSON_Delete(a);
    free(pred);
    free(mix);
    free(X);
    free(y);
    gb_model_free(m);
}
END_TEST

START_TEST(test_from_json_rejects_bad_artifacts)
{
    digits_set d;
    digits_load("tests/fixtures/datasets/digits_test.csv", &d);
    gb_model *m = small_digits_model(&d, 1);
    const char *fields[] = {"depth", "beta", "standardise", "inner", "leaves"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        cJSON *a = m->ops->to_json(m);
        cJSON_ReplaceItemInObject(a, fields[i], cJSON_CreateNumber(-1));
        gb_model *bad = NULL;
        gb_error err;
        ck_assert_int_eq(gb_student_from_json(a, &bad, &err), GB_EUNUSABLE);
        ck_assert_msg(strstr(err.field, fields[i]) != NULL, "%s: field %s", fields[i],
                      err.field);
        ck_assert_ptr_null(bad);
        cJSON_Delete(a);
    }
    /* a filter of the wrong length */
    cJSON *a = m->ops->to_json(m);
    cJSON *inner = cJSON_GetObjectItem(a, "inner");
    cJSON_DeleteItemFromArray(
        cJSON_GetObjectItem(cJSON_GetArrayItem(inner, 2), "filter"), 0);
    gb_model *bad = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_from_json(a, &bad, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "artifact.inner[2].filter");
    cJSON_Delete(a);
    gb_model_free(m);
    digits_free(&d);
}
END_TEST

/* ---- errors
 * ---------------------------------------------------------------------------- */

START_TEST(test_each_parameter_error_names_the_key)
{
    static const struct {
        const char *key, *value;
    } bad[] = {
        {"max_depth", "0"},      {"max_depth", "11"},   {"max_depth", "2.5"},
        {"max_depth", "deep"},   {"epochs", "0"},       {"epochs", "1.5"},
        {"batch_size", "0"},     {"batch_size", "x"},   {"learning_rate", "0"},
        {"learning_rate", "-1"}, {"learning_rate", ""}, {"penalty", "-0.1"},
        {"penalty", "nan"},      {"beta", "0"},         {"beta", "-2"},
        {"beta", "learnt"},      {"depth", "4"},        {"epochs", "1e999"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_param p = {bad[i].key, bad[i].value};
        gb_error err;
        ck_assert_msg(gb_student_check("sbdt", &p, 1, GB_TASK_AUTO, &err) ==
                          GB_EUNUSABLE,
                      "%s=%s accepted", bad[i].key, bad[i].value);
        ck_assert_str_eq(err.field, bad[i].key);
        ck_assert(strstr(err.message, bad[i].key) != NULL);
    }
    gb_param dup[2] = {{"epochs", "3"}, {"epochs", "4"}};
    gb_error err;
    ck_assert_int_eq(gb_student_check("sbdt", dup, 2, GB_TASK_AUTO, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "epochs");
    gb_param good[6] = {{"max_depth", "10"}, {"epochs", "1"},
                        {"batch_size", "1"}, {"learning_rate", "0.5"},
                        {"penalty", "0"},    {"beta", "learned"}};
    ck_assert_int_eq(gb_student_check("sbdt", good, 6, GB_TASK_MULTICLASS, &err),
                     GB_OK);
    gb_param fixed = {"beta", "2.5"};
    gb_sbdt_params sp;
    ck_assert_int_eq(gb_sbdt_params_parse(&fixed, 1, &sp, &err), GB_OK);
    ck_assert(sp.beta == 2.5 && sp.max_depth == 4 && sp.batch_size == 64);
    ck_assert_int_eq(gb_student_wants_one_hot("sbdt"), 1);
}
END_TEST

START_TEST(test_fit_rejects_bad_training_sets)
{
    digits_set d;
    digits_load("tests/fixtures/datasets/digits_test.csv", &d);
    gb_model *m = NULL;
    gb_error err;
    gb_param bad = {"max_depth", "12"};
    gb_train_set ts = digits_train_set(&d, NULL, 1.0, 1);
    ck_assert_int_eq(gb_student_fit("sbdt", &bad, 1, &ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "max_depth");

    ts = digits_train_set(&d, NULL, 0.5, 1); /* alpha < 1 without soft targets */
    ck_assert_int_eq(gb_student_fit("sbdt", NULL, 0, &ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert(strstr(err.message, "soft") != NULL);

    ts = digits_train_set(&d, NULL, 1.0, 1);
    ts.n_rows = 0;
    ck_assert_int_eq(gb_student_fit("sbdt", NULL, 0, &ts, NULL, &m, &err),
                     GB_EUNUSABLE);

    ts = digits_train_set(&d, NULL, 1.0, 1);
    d.y[5] = 10;
    ck_assert_int_eq(gb_student_fit("sbdt", NULL, 0, &ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_int_eq(err.line, 6);
    d.y[5] = 1;

    d.X[3 * 64 + 7] = INFINITY;
    ck_assert_int_eq(gb_student_fit("sbdt", NULL, 0, &ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "px7");
    d.X[3 * 64 + 7] = 0.0;

    double *soft = calloc(d.n_rows * 10, sizeof *soft);
    soft[12] = 1.5;
    ts = digits_train_set(&d, soft, 0.0, 1);
    ck_assert_int_eq(gb_student_fit("sbdt", NULL, 0, &ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_int_eq(err.line, 2);
    free(soft);

    ts = digits_train_set(&d, NULL, 1.0, 1);
    d.features[2].kind = GB_FEAT_CATEGORICAL;
    ck_assert_int_eq(gb_student_fit("sbdt", NULL, 0, &ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "px2");
    d.features[2].kind = GB_FEAT_NUMERIC;
    ck_assert_ptr_null(m);

    /* allocation failures at every step fail cleanly */
    gb_param small[2] = {{"max_depth", "2"}, {"epochs", "1"}};
    for (long k = 0; k < 40; k++) {
        gb_alloc_fail_after(k);
        gb_status rc = gb_student_fit("sbdt", small, 2, &ts, NULL, &m, &err);
        gb_alloc_fail_after(-1);
        if (rc == GB_OK) {
            gb_model_free(m);
            m = NULL;
            break;
        }
        ck_assert_int_eq(rc, GB_ENOMEM);
        ck_assert_ptr_null(m);
    }
    digits_free(&d);
}
END_TEST

/* Cancels once the fit reports the given fraction. */
typedef struct cancel_ctx {
    atomic_int *flag;
    double at;
    int reports;
} cancel_ctx;

static void cancel_cb(void *vctx, const char *phase, double fraction)
{
    cancel_ctx *c = vctx;
    ck_assert_str_eq(phase, "fit");
    c->reports++;
    if (fraction >= c->at)
        atomic_store(c->flag, 1);
}

START_TEST(test_progress_and_cancel)
{
    digits_set d;
    digits_load("tests/fixtures/datasets/digits_test.csv", &d);
    gb_train_set ts = digits_train_set(&d, NULL, 1.0, 1);
    atomic_int flag = 0;
    cancel_ctx c = {&flag, 0.5, 0};
    gb_progress prog = {cancel_cb, &c, &flag};
    gb_param params[2] = {{"max_depth", "2"}, {"epochs", "10"}};
    gb_model *m = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_fit("sbdt", params, 2, &ts, &prog, &m, &err),
                     GB_ECANCELLED);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(c.reports, 6); /* 0, then epochs 1..5 */
    flag = 0;
    c.at = 2.0;
    c.reports = 0;
    ck_assert_int_eq(gb_student_fit("sbdt", params, 2, &ts, &prog, &m, &err), GB_OK);
    ck_assert_int_eq(c.reports, 11);
    gb_model_free(m);
    digits_free(&d);
}
END_TEST

static Suite *sbdt_suite(void)
{
    Suite *s = suite_create("sbdt");
    TCase *grad = tcase_create("gradient");
    tcase_add_test(grad, test_objective_matches_torch_autograd);
    tcase_add_test(grad, test_gradients_match_finite_differences);
    tcase_add_test(grad, test_penalty_gradient_alone);
    suite_add_tcase(s, grad);
    TCase *ref = tcase_create("reference");
    tcase_set_timeout(ref, 120);
    tcase_add_test(ref, test_digits_accuracy_matches_torch);
    suite_add_tcase(s, ref);
    TCase *model = tcase_create("model");
    tcase_set_timeout(model, 60);
    tcase_add_test(model, test_artifact_round_trip_and_paths);
    tcase_add_test(model, test_deterministic_across_threads);
    tcase_add_test(model, test_missing_values_are_the_mean);
    tcase_add_test(model, test_c_export_matches_predict);
    tcase_add_test(model, test_regression_and_fixed_beta);
    tcase_add_test(model, test_from_json_rejects_bad_artifacts);
    suite_add_tcase(s, model);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_each_parameter_error_names_the_key);
    tcase_add_test(errors, test_fit_rejects_bad_training_sets);
    tcase_add_test(errors, test_progress_and_cancel);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    openblas_set_num_threads(1);
    SRunner *sr = srunner_create(sbdt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
