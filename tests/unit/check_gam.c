/*
 * check_gam.c - the GAM student: recovery of a known additive truth, AUC on
 * breast_cancer against scikit-learn's logistic regression, monotone
 * constraints, the missing bin, categorical features, soft targets,
 * interactions, regression and multiclass, exact attributions, determinism
 * across thread counts, the artifact round trip, the SQL (sqlite3) and C (cc)
 * exports, parameter and training-set errors, cancellation and allocation
 * failures.
 */
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/csv.h"
#include "core/data/encode.h"
#include "core/data/table.h"
#include "core/json.h"
#include "core/math/metrics.h"
#include "core/math/rng.h"
#include "core/model/students/gam.h"
#include "core/model/students/student.h"

/* ---- helpers ------------------------------------------------------------- */

static char *class_names[] = {"0", "1", "2"};

static gb_feature numeric_features[6] = {
    {"x0", GB_FEAT_NUMERIC, NULL, 0}, {"x1", GB_FEAT_NUMERIC, NULL, 0},
    {"x2", GB_FEAT_NUMERIC, NULL, 0}, {"x3", GB_FEAT_NUMERIC, NULL, 0},
    {"x4", GB_FEAT_NUMERIC, NULL, 0}, {"x5", GB_FEAT_NUMERIC, NULL, 0},
};

static char *cat_levels[] = {"red", "green", "blue", "grey", "pink"};

static gb_model *fit_ok(const gb_train_set *ts, const gb_param *params, size_t n_params)
{
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    gb_status rc = gb_student_fit("gam", params, n_params, ts, NULL, &m, &err);
    ck_assert_msg(rc == GB_OK, "fit failed: %s", err.message);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->ops->kind, "gam");
    return m;
}

static char *model_json(const gb_model *m)
{
    cJSON *j = m->ops->to_json(m);
    ck_assert_ptr_nonnull(j);
    char *text = gb_json_print(j, 0);
    ck_assert_ptr_nonnull(text);
    cJSON_Delete(j);
    return text;
}

static double pearson(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

typedef struct loaded {
    gb_table *table;
    gb_target target;
    gb_feature *features;
    size_t n_features;
    double *X;
    size_t n;
} loaded;

/* Reads a CSV; features are every column but "target" and the columns named
 * in skip (bound by name, so a test file can reuse the train list). */
static void load_csv(const char *path, const gb_feature *features, size_t n_features,
                     const char *skip, loaded *out)
{
    gb_error err;
    memset(out, 0, sizeof *out);
    ck_assert_msg(gb_csv_read_file(path, NULL, &out->table, &err) == GB_OK, "%s: %s",
                  path, err.message);
    ck_assert_int_eq(
        gb_target_resolve(out->table, "target", GB_TASK_AUTO, &out->target, &err),
        GB_OK);
    if (features == NULL) {
        unsigned char *exclude = calloc(out->table->n_cols, 1);
        exclude[out->target.col] = 1;
        for (size_t c = 0; skip != NULL && c < out->table->n_cols; c++)
            if (strcmp(out->table->cols[c].name, skip) == 0)
                exclude[c] = 1;
        ck_assert_int_eq(gb_features_from_table(out->table, exclude, 0, &out->features,
                                                &out->n_features, &err),
                         GB_OK);
        free(exclude);
        features = out->features;
        n_features = out->n_features;
    }
    out->n = out->table->n_rows;
    gb_design *d = gb_design_bind(features, n_features, out->table, &err);
    ck_assert_ptr_nonnull(d);
    out->X = malloc(out->n * n_features * sizeof *out->X);
    gb_design_fill(d, NULL, 0, out->n, out->X);
    gb_design_free(d);
}

static void loaded_free(loaded *s)
{
    gb_features_free(s->features, s->n_features);
    gb_target_free(&s->target);
    gb_table_free(s->table);
    free(s->X);
}

static gb_train_set loaded_set(const loaded *l)
{
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = l->n;
    ts.n_features = l->n_features;
    ts.X = l->X;
    ts.features = l->features;
    ts.task = l->target.task;
    ts.n_classes = l->target.n_classes;
    ts.classes = l->target.classes;
    ts.y_class = l->target.y_class;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.seed = 1;
    ts.n_threads = 2;
    return ts;
}

static const double *column_values(const gb_table *t, const char *name)
{
    for (size_t c = 0; c < t->n_cols; c++)
        if (strcmp(t->cols[c].name, name) == 0)
            return t->cols[c].values;
    ck_abort_msg("no column %s", name);
    return NULL;
}

static double test_auc(const gb_model *m, const loaded *te)
{
    double *proba = malloc(te->n * 2 * sizeof *proba), auc = NAN;
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, te->X, te->n, proba, &err), GB_OK);
    ck_assert_int_eq(gb_metric_auc(te->target.y_class, proba, te->n, 2, &auc, &err),
                     GB_OK);
    free(proba);
    return auc;
}

/* A mixed synthetic set: x0 numeric with 15% missing (missing rows lean to
 * class 1), x1 categorical (4 levels with effects -1, 0.5, 2, -2), x2 a
 * product partner of x3 (pure interaction), x4 numeric linear. */
typedef struct mixed {
    size_t n;
    double *X;
    int32_t *y;
    double *soft;
    gb_feature features[5];
} mixed;

static const double level_effect[4] = {-1.0, 0.5, 2.0, -2.0};

static void make_mixed_with(size_t n, uint64_t seed, double interaction, mixed *out)
{
    gb_rng rng;
    gb_rng_seed(&rng, seed);
    out->n = n;
    out->X = malloc(n * 5 * sizeof *out->X);
    out->y = malloc(n * sizeof *out->y);
    out->soft = malloc(n * 2 * sizeof *out->soft);
    for (size_t i = 0; i < n; i++) {
        double *x = out->X + i * 5;
        x[0] = gb_rng_uniform(&rng) < 0.15 ? NAN : gb_rng_uniform(&rng) * 2.0 - 1.0;
        x[1] = (double)gb_rng_below(&rng, 4);
        x[2] = gb_rng_uniform(&rng) * 2.0 - 1.0;
        x[3] = gb_rng_uniform(&rng) * 2.0 - 1.0;
        x[4] = gb_rng_normal(&rng);
        double logit = (isnan(x[0]) ? 2.0 : 1.5 * x[0]) + level_effect[(int)x[1]] +
                       interaction * x[2] * x[3] + 0.5 * x[4] - 0.3;
        double p = 1.0 / (1.0 + exp(-logit));
        out->y[i] = gb_rng_uniform(&rng) < p ? 1 : 0;
        out->soft[i * 2 + 1] = p;
        out->soft[i * 2] = 1.0 - p;
    }
    gb_feature f[5] = {{"x0", GB_FEAT_NUMERIC, NULL, 0},
                       {"colour", GB_FEAT_CATEGORICAL, cat_levels, 4},
                       {"x2", GB_FEAT_NUMERIC, NULL, 0},
                       {"x3", GB_FEAT_NUMERIC, NULL, 0},
                       {"x4", GB_FEAT_NUMERIC, NULL, 0}};
    memcpy(out->features, f, sizeof f);
}

static void make_mixed(size_t n, uint64_t seed, mixed *out)
{
    make_mixed_with(n, seed, 3.0, out);
}

static void mixed_free(mixed *m)
{
    free(m->X);
    free(m->y);
    free(m->soft);
}

static gb_train_set mixed_set(const mixed *mx)
{
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = mx->n;
    ts.n_features = 5;
    ts.X = mx->X;
    ts.features = mx->features;
    ts.task = GB_TASK_BINARY;
    ts.n_classes = 2;
    ts.classes = class_names;
    ts.y_class = mx->y;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.seed = 3;
    ts.n_threads = 2;
    return ts;
}

/* ---- shape recovery ------------------------------------------------------ */

static char *read_file_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Learned f_j on the truth grid: the attribution of feature j on rows whose
 * other features are missing. */
static void learned_on_grid(const gb_model *m, size_t j, const double *grid, size_t n,
                            double *out)
{
    size_t F = m->n_features;
    double *X = calloc(n * F, sizeof *X), *phi = calloc(n * (F + 1), sizeof *phi);
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < F; f++)
            X[i * F + f] = NAN;
        X[i * F + j] = grid[i];
    }
    gb_error err;
    ck_assert_int_eq(m->ops->attribute(m, X, n, phi, &err), GB_OK);
    for (size_t i = 0; i < n; i++)
        out[i] = phi[i * (F + 1) + j];
    free(X);
    free(phi);
}

START_TEST(test_additive_truth_recovered)
{
    loaded l;
    load_csv("tests/fixtures/gam/additive.csv", NULL, 0, NULL, &l);
    gb_train_set ts = loaded_set(&l);
    gb_model *m = fit_ok(&ts, NULL, 0);
    size_t len;
    char *text = read_file_text("tests/fixtures/gam/additive_truth.json", &len);
    gb_error err;
    cJSON *truth = gb_json_parse(text, len, &err);
    ck_assert_ptr_nonnull(truth);
    const cJSON *feats = cJSON_GetObjectItem(truth, "features");
    for (size_t j = 0; j < 5; j++) {
        const cJSON *fj = cJSON_GetArrayItem(feats, (int)j);
        double *grid, *want, got[64];
        size_t n1, n2;
        ck_assert_int_eq(gb_json_number_array(cJSON_GetObjectItem(fj, "grid"), "grid",
                                              64, &grid, &n1, &err),
                         GB_OK);
        ck_assert_int_eq(gb_json_number_array(cJSON_GetObjectItem(fj, "true"), "true",
                                              64, &want, &n2, &err),
                         GB_OK);
        learned_on_grid(m, j, grid, n1, got);
        if (j < 4) {
            double r = pearson(got, want, n1);
            fprintf(stderr, "gam additive: shape x%zu correlation %.4f\n", j, r);
            ck_assert_msg(r > 0.95, "x%zu: correlation %.4f", j, r);
        } else {
            /* the zero shape stays small next to the others (their standard
             * deviations on the grid are 0.75 and more) */
            double mean = 0.0, ss = 0.0;
            for (size_t i = 0; i < n1; i++)
                mean += got[i] / (double)n1;
            for (size_t i = 0; i < n1; i++)
                ss += (got[i] - mean) * (got[i] - mean) / (double)n1;
            fprintf(stderr, "gam additive: zero shape sd %.4f\n", sqrt(ss));
            ck_assert_msg(sqrt(ss) < 0.25, "zero shape sd %.4f", sqrt(ss));
        }
        gb_free(grid);
        gb_free(want);
    }
    cJSON_Delete(truth);
    free(text);
    gb_model_free(m);
    loaded_free(&l);
}
END_TEST

/* ---- breast cancer AUC vs logistic regression ---------------------------- */

START_TEST(test_breast_cancer_auc)
{
    loaded tr, te;
    load_csv("tests/fixtures/datasets/breast_cancer_train.csv", NULL, 0, NULL, &tr);
    load_csv("tests/fixtures/datasets/breast_cancer_test.csv", tr.features,
             tr.n_features, NULL, &te);
    size_t len;
    char *text = read_file_text("tests/fixtures/gam/breast_cancer_logistic.json", &len);
    gb_error err;
    cJSON *fx = gb_json_parse(text, len, &err);
    double ref = cJSON_GetObjectItem(fx, "test_auc")->valuedouble;
    gb_train_set ts = loaded_set(&tr);
    gb_model *m = fit_ok(&ts, NULL, 0);
    double auc = test_auc(m, &te);
    /* glassbox's own logistic student on the same rows */
    gb_model *lr = NULL;
    ck_assert_int_eq(gb_student_fit("logistic", NULL, 0, &ts, NULL, &lr, &err), GB_OK);
    double lr_auc = test_auc(lr, &te);
    size_t terms, rounds;
    gb_gam_complexity(m, &terms, &rounds);
    fprintf(stderr,
            "gam breast_cancer: test AUC %.4f (logistic student %.4f, scikit-learn "
            "LogisticRegression %.4f), %zu terms, %zu rounds\n",
            auc, lr_auc, ref, terms, rounds);
    ck_assert_msg(auc >= lr_auc, "AUC %.4f below the logistic student's %.4f", auc,
                  lr_auc);
    /* scikit-learn's C=1 logistic regression: within 0.001 (one or two of
     * the 143 test rows' pairs) */
    ck_assert_msg(auc >= ref - 0.001, "AUC %.4f below scikit-learn's %.4f", auc, ref);
    gb_model_free(lr);
    gb_model_free(m);
    cJSON_Delete(fx);
    free(text);
    loaded_free(&tr);
    loaded_free(&te);
}
END_TEST

/* ---- monotone constraints ------------------------------------------------ */

static int shape_monotone(const gb_model *m, size_t j, int dir)
{
    size_t nb;
    const double *sc, *sd;
    gb_error err;
    ck_assert_int_eq(gb_gam_shape(m, j, &nb, &sc, &sd, &err), GB_OK);
    for (size_t b = 0; b + 2 < nb; b++) /* the last bin is the missing bin */
        if (dir * (sc[b + 1] - sc[b]) < -1e-12)
            return 0;
    return 1;
}

START_TEST(test_monotone_constraints)
{
    loaded l;
    load_csv("tests/fixtures/gam/additive.csv", NULL, 0, NULL, &l);
    gb_train_set ts = loaded_set(&l);
    gb_param free_p[] = {{"bags", "2"}};
    gb_model *free_m = fit_ok(&ts, free_p, 1);
    /* unconstrained, sin(x0) rises and falls, and x3 rises */
    ck_assert(!shape_monotone(free_m, 0, 1));
    ck_assert(!shape_monotone(free_m, 3, -1));
    gb_param p[] = {{"bags", "2"}, {"monotone", "x0:+1,x3:-1"}};
    gb_model *m = fit_ok(&ts, p, 2);
    /* the JSON form gives the same model */
    gb_param pj[] = {{"bags", "2"}, {"monotone", "{\"x3\": -1, \"x0\": 1}"}};
    gb_model *mj = fit_ok(&ts, pj, 2);
    char *t1 = model_json(m), *t2 = model_json(mj);
    ck_assert_str_eq(t1, t2);
    gb_free(t1);
    gb_free(t2);
    gb_model_free(mj);
    ck_assert(shape_monotone(m, 0, 1));
    ck_assert(shape_monotone(m, 3, -1));
    cJSON *j = m->ops->to_json(m);
    const cJSON *params = cJSON_GetObjectItem(j, "params");
    ck_assert_str_eq(cJSON_GetObjectItem(params, "monotone")->valuestring,
                     "x0:1,x3:-1");
    const cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "shapes"), 0);
    ck_assert_int_eq(cJSON_GetObjectItem(s0, "monotone")->valueint, 1);
    cJSON_Delete(j);
    gb_model_free(m);
    gb_model_free(free_m);
    loaded_free(&l);
}
END_TEST

START_TEST(test_monotone_errors)
{
    mixed mx;
    make_mixed(200, 1, &mx);
    gb_train_set ts = mixed_set(&mx);
    static const char *bad[] = {"nope:1", "colour:1",   "x0:2", "x0",
                                ":1",     "x0:1,x0:-1", "x0:1,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_param p[] = {{"monotone", bad[i]}};
        gb_model *m = NULL;
        gb_error err;
        gb_error_clear(&err);
        ck_assert_int_eq(gb_student_fit("gam", p, 1, &ts, NULL, &m, &err),
                         GB_EUNUSABLE);
        ck_assert_ptr_null(m);
        ck_assert_str_eq(err.field, "monotone");
    }
    gb_param p[] = {{"monotone", "x0:1"}};
    gb_error err;
    ck_assert_int_eq(gb_student_check("gam", p, 1, GB_TASK_MULTICLASS, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "monotone");
    ck_assert_int_eq(gb_student_check("gam", p, 1, GB_TASK_BINARY, &err), GB_OK);
    mixed_free(&mx);
}
END_TEST

/* ---- missing bin and categorical features -------------------------------- */

START_TEST(test_missing_bin_and_categorical)
{
    mixed mx;
    /* without the x2*x3 term, which would attenuate the main effects */
    make_mixed_with(6000, 11, 0.0, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_model *m = fit_ok(&ts, NULL, 0);
    /* x0: the missing rows have logit 2.0, above any value of 1.5 x0 on
     * [-1, 1]; the learned missing score sits about 2 above f0(0) */
    double probe[3] = {NAN, 0.0, -0.5}, got[3];
    learned_on_grid(m, 0, probe, 3, got);
    fprintf(stderr, "gam missing bin: f0(NaN) - f0(0) = %.3f (truth 2.0)\n",
            got[0] - got[1]);
    ck_assert(fabs(got[0] - got[1] - 2.0) < 0.3);
    ck_assert(got[0] > got[2]);
    size_t nb;
    const double *sc, *sd;
    gb_error err;
    ck_assert_int_eq(gb_gam_shape(m, 0, &nb, &sc, &sd, &err), GB_OK);
    ck_assert(got[0] == sc[nb - 1]);
    /* colour: per-level scores follow the true effects */
    ck_assert_int_eq(gb_gam_shape(m, 1, &nb, &sc, &sd, &err), GB_OK);
    ck_assert_uint_eq(nb, 5);
    double r = pearson(sc, level_effect, 4);
    fprintf(stderr, "gam categorical: level scores %.3f %.3f %.3f %.3f, r = %.4f\n",
            sc[0], sc[1], sc[2], sc[3], r);
    ck_assert(r > 0.98);
    ck_assert(sc[3] < sc[0] && sc[0] < sc[1] && sc[1] < sc[2]);
    /* an unknown level code scores as missing */
    double codes[2] = {7.0, NAN}, cat[2];
    learned_on_grid(m, 1, codes, 2, cat);
    ck_assert(cat[0] == cat[1] && cat[0] == sc[4]);
    gb_model_free(m);
    mixed_free(&mx);
}
END_TEST

START_TEST(test_unseen_level_scores_zero)
{
    mixed mx;
    make_mixed(1500, 13, &mx);
    mx.features[1].n_levels = 5; /* "pink": no training row */
    gb_train_set ts = mixed_set(&mx);
    gb_param p[] = {{"bags", "2"}};
    gb_model *m = fit_ok(&ts, p, 1);
    size_t nb;
    const double *sc, *sd;
    gb_error err;
    ck_assert_int_eq(gb_gam_shape(m, 1, &nb, &sc, &sd, &err), GB_OK);
    ck_assert_uint_eq(nb, 6);
    ck_assert(sc[4] == 0.0 && sd[4] == 0.0);
    ck_assert(sc[2] != 0.0);
    gb_model_free(m);
    mixed_free(&mx);
}
END_TEST

/* ---- soft targets -------------------------------------------------------- */

typedef struct fidelity {
    double agreement, mae;
} fidelity;

static fidelity judge(const gb_model *m, const loaded *te, const double *teacher_p1)
{
    double *proba = malloc(te->n * 2 * sizeof *proba);
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, te->X, te->n, proba, &err), GB_OK);
    fidelity f = {0.0, 0.0};
    for (size_t i = 0; i < te->n; i++) {
        f.agreement += (proba[i * 2 + 1] > 0.5) == (teacher_p1[i] > 0.5);
        f.mae += fabs(proba[i * 2 + 1] - teacher_p1[i]);
    }
    f.agreement /= (double)te->n;
    f.mae /= (double)te->n;
    free(proba);
    return f;
}

START_TEST(test_soft_targets_raise_fidelity)
{
    loaded tr, te;
    load_csv("tests/fixtures/gam/distill.csv", NULL, 0, "teacher_p1", &tr);
    load_csv("tests/fixtures/gam/distill_test.csv", tr.features, tr.n_features, NULL,
             &te);
    const double *tp_tr = column_values(tr.table, "teacher_p1");
    const double *tp_te = column_values(te.table, "teacher_p1");
    double *soft = malloc(tr.n * 2 * sizeof *soft),
           *soft_t = malloc(tr.n * 2 * sizeof *soft);
    double T = 2.0;
    for (size_t i = 0; i < tr.n; i++) {
        soft[i * 2 + 1] = tp_tr[i];
        soft[i * 2] = 1.0 - tp_tr[i];
        double z = log(tp_tr[i] / (1.0 - tp_tr[i]));
        soft_t[i * 2 + 1] = 1.0 / (1.0 + exp(-z / T));
        soft_t[i * 2] = 1.0 - soft_t[i * 2 + 1];
    }
    gb_train_set ts = loaded_set(&tr);
    gb_model *hard = fit_ok(&ts, NULL, 0);
    ts.soft = soft;
    ts.alpha = 0.0;
    gb_model *distilled = fit_ok(&ts, NULL, 0);
    ts.soft = soft_t;
    ts.temperature = T;
    ts.alpha = 0.3;
    gb_model *kd = fit_ok(&ts, NULL, 0);
    fidelity fh = judge(hard, &te, tp_te), fd = judge(distilled, &te, tp_te),
             fk = judge(kd, &te, tp_te);
    fprintf(stderr,
            "gam distillation (300 rows): agreement with the teacher hard %.4f, soft "
            "%.4f, T=2 alpha=0.3 %.4f; mean |p - p_teacher| %.4f / %.4f / %.4f\n",
            fh.agreement, fd.agreement, fk.agreement, fh.mae, fd.mae, fk.mae);
    ck_assert(fd.agreement > fh.agreement);
    ck_assert(fd.mae < fh.mae);
    ck_assert(fk.mae < fh.mae);
    gb_model_free(hard);
    gb_model_free(distilled);
    gb_model_free(kd);
    free(soft);
    free(soft_t);
    loaded_free(&tr);
    loaded_free(&te);
}
END_TEST

/* ---- interactions -------------------------------------------------------- */

START_TEST(test_interaction_found)
{
    mixed mx, fresh;
    make_mixed(6000, 21, &mx);
    make_mixed(4000, 22, &fresh);
    gb_train_set ts = mixed_set(&mx);
    gb_model *mains = fit_ok(&ts, NULL, 0);
    gb_param p[] = {{"interactions", "1"}};
    gb_model *m = fit_ok(&ts, p, 1);
    cJSON *j = m->ops->to_json(m);
    const cJSON *pairs = cJSON_GetObjectItem(j, "interactions");
    ck_assert_int_eq(cJSON_GetArraySize(pairs), 1);
    const cJSON *names = cJSON_GetObjectItem(cJSON_GetArrayItem(pairs, 0), "features");
    ck_assert_str_eq(cJSON_GetArrayItem(names, 0)->valuestring, "x2");
    ck_assert_str_eq(cJSON_GetArrayItem(names, 1)->valuestring, "x3");
    ck_assert_int_eq(
        (int)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "complexity"), "terms")
            ->valuedouble,
        6);
    cJSON_Delete(j);
    double *p1 = malloc(fresh.n * 2 * sizeof *p1),
           *p2 = malloc(fresh.n * 2 * sizeof *p2);
    gb_error err;
    ck_assert_int_eq(mains->ops->predict(mains, fresh.X, fresh.n, p1, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict(m, fresh.X, fresh.n, p2, &err), GB_OK);
    double ll1, ll2;
    ck_assert_int_eq(gb_metric_logloss(fresh.y, p1, fresh.n, 2, &ll1, &err), GB_OK);
    ck_assert_int_eq(gb_metric_logloss(fresh.y, p2, fresh.n, 2, &ll2, &err), GB_OK);
    fprintf(stderr, "gam interactions: fresh log loss mains %.4f, with x2*x3 %.4f\n",
            ll1, ll2);
    ck_assert(ll2 < ll1 - 0.02);
    free(p1);
    free(p2);
    gb_model_free(mains);
    gb_model_free(m);
    mixed_free(&mx);
    mixed_free(&fresh);
}
END_TEST

/* ---- regression and multiclass ------------------------------------------- */

static void make_regression(size_t n, uint64_t seed, double **Xo, double **yo)
{
    gb_rng rng;
    gb_rng_seed(&rng, seed);
    double *X = malloc(n * 3 * sizeof *X), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        double *x = X + i * 3;
        x[0] = gb_rng_uniform(&rng) * 6.0 - 3.0;
        x[1] = gb_rng_uniform(&rng) * 4.0 - 2.0;
        x[2] = gb_rng_uniform(&rng);
        y[i] = 2.0 * sin(x[0]) + x[1] * x[1] + 0.3 * gb_rng_normal(&rng);
    }
    *Xo = X;
    *yo = y;
}

START_TEST(test_regression)
{
    double *X, *y, *Xt, *yt;
    make_regression(3000, 5, &X, &y);
    make_regression(2000, 6, &Xt, &yt);
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = 3000;
    ts.n_features = 3;
    ts.X = X;
    ts.features = numeric_features;
    ts.task = GB_TASK_REGRESSION;
    ts.y_value = y;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.n_threads = 2;
    gb_model *m = fit_ok(&ts, NULL, 0);
    double *pred = malloc(2000 * sizeof *pred), r2;
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, Xt, 2000, pred, &err), GB_OK);
    ck_assert_int_eq(gb_metric_r2(yt, pred, 2000, &r2, &err), GB_OK);
    /* the noise (sd 0.3) caps R2 near 0.97 */
    fprintf(stderr, "gam regression: fresh R2 %.4f\n", r2);
    ck_assert(r2 > 0.93);
    free(pred);
    gb_model_free(m);
    free(X);
    free(y);
    free(Xt);
    free(yt);
}
END_TEST

static void make_multiclass(size_t n, uint64_t seed, double **Xo, int32_t **yo,
                            double **bayes)
{
    gb_rng rng;
    gb_rng_seed(&rng, seed);
    double *X = malloc(n * 3 * sizeof *X), *P = malloc(n * 3 * sizeof *P);
    int32_t *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        double *x = X + i * 3;
        x[0] = gb_rng_uniform(&rng) * 4.0 - 2.0;
        x[1] = gb_rng_uniform(&rng) * 4.0 - 2.0;
        x[2] = gb_rng_uniform(&rng) < 0.1 ? NAN : gb_rng_normal(&rng);
        double z[3] = {0.0, 2.0 * sin(2.0 * x[0]),
                       x[1] * x[1] - 1.0 + (isnan(x[2]) ? 1.0 : 0.5 * x[2])};
        double s = exp(z[0]) + exp(z[1]) + exp(z[2]);
        double u = gb_rng_uniform(&rng), c = 0.0;
        y[i] = 2;
        for (int k = 0; k < 3; k++) {
            P[i * 3 + k] = exp(z[k]) / s;
            c += P[i * 3 + k];
            if (u < c && y[i] == 2 && k < 2) {
                y[i] = k;
                c = 2.0; /* taken */
            }
        }
    }
    *Xo = X;
    *yo = y;
    *bayes = P;
}

static gb_train_set multiclass_set(const double *X, const int32_t *y, size_t n)
{
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = n;
    ts.n_features = 3;
    ts.X = X;
    ts.features = numeric_features;
    ts.task = GB_TASK_MULTICLASS;
    ts.n_classes = 3;
    ts.classes = class_names;
    ts.y_class = y;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.n_threads = 2;
    return ts;
}

START_TEST(test_multiclass_near_bayes)
{
    double *X, *Xt, *P, *Pt;
    int32_t *y, *yt;
    make_multiclass(4000, 8, &X, &y, &P);
    make_multiclass(3000, 9, &Xt, &yt, &Pt);
    gb_train_set ts = multiclass_set(X, y, 4000);
    gb_model *m = fit_ok(&ts, NULL, 0);
    double *proba = malloc(3000 * 3 * sizeof *proba), acc, bayes;
    gb_error err;
    ck_assert_int_eq(m->ops->predict(m, Xt, 3000, proba, &err), GB_OK);
    ck_assert_int_eq(gb_metric_accuracy(yt, proba, 3000, 3, &acc, &err), GB_OK);
    ck_assert_int_eq(gb_metric_accuracy(yt, Pt, 3000, 3, &bayes, &err), GB_OK);
    fprintf(stderr, "gam multiclass: fresh accuracy %.4f (Bayes %.4f)\n", acc, bayes);
    ck_assert(acc > bayes - 0.03);
    for (size_t i = 0; i < 3000; i++)
        ck_assert(fabs(proba[i * 3] + proba[i * 3 + 1] + proba[i * 3 + 2] - 1.0) <
                  1e-12);
    free(proba);
    gb_model_free(m);
    free(X);
    free(y);
    free(P);
    free(Xt);
    free(yt);
    free(Pt);
}
END_TEST

/* ---- attributions -------------------------------------------------------- */

static void check_attributions(const gb_model *m, const double *X, size_t n)
{
    size_t M = m->n_margins, F = m->n_features;
    double *margin = malloc(n * M * sizeof *margin);
    double *phi = malloc(n * M * (F + 1) * sizeof *phi);
    gb_error err;
    ck_assert_int_eq(m->ops->predict_margin(m, X, n, margin, &err), GB_OK);
    ck_assert_int_eq(m->ops->attribute(m, X, n, phi, &err), GB_OK);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < M; k++) {
            double s = 0.0;
            for (size_t j = 0; j <= F; j++)
                s += phi[(i * M + k) * (F + 1) + j];
            ck_assert_msg(fabs(s - margin[i * M + k]) < 1e-9, "row %zu: %.17g vs %.17g",
                          i, s, margin[i * M + k]);
        }
    free(margin);
    free(phi);
}

START_TEST(test_attributions_sum_to_margin)
{
    mixed mx;
    make_mixed(2000, 31, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_param p[] = {{"interactions", "2"}, {"bags", "2"}};
    gb_model *m = fit_ok(&ts, p, 2);
    check_attributions(m, mx.X, mx.n);
    double *X, *P;
    int32_t *y;
    make_multiclass(1500, 3, &X, &y, &P);
    gb_train_set mts = multiclass_set(X, y, 1500);
    gb_model *mm = fit_ok(&mts, p, 2);
    check_attributions(mm, X, 1500);
    gb_model_free(mm);
    gb_model_free(m);
    free(X);
    free(y);
    free(P);
    mixed_free(&mx);
}
END_TEST

/* ---- determinism --------------------------------------------------------- */

START_TEST(test_deterministic_across_threads)
{
    mixed mx;
    make_mixed(2500, 41, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_param p[] = {{"interactions", "1"}, {"bags", "3"}};
    char *text[3];
    for (unsigned t = 0; t < 3; t++) {
        ts.n_threads = t + 1;
        gb_model *m = fit_ok(&ts, p, 2);
        text[t] = model_json(m);
        gb_model_free(m);
    }
    ck_assert_str_eq(text[0], text[1]);
    ck_assert_str_eq(text[0], text[2]);
    for (int t = 0; t < 3; t++)
        gb_free(text[t]);
    mixed_free(&mx);
    /* one bag on many rows: the row blocks run in parallel */
    make_mixed(40000, 42, &mx);
    ts = mixed_set(&mx);
    gb_param q[] = {{"bags", "1"}, {"rounds", "30"}};
    for (unsigned t = 0; t < 2; t++) {
        ts.n_threads = t + 1;
        gb_model *m = fit_ok(&ts, q, 2);
        text[t] = model_json(m);
        gb_model_free(m);
    }
    ck_assert_str_eq(text[0], text[1]);
    gb_free(text[0]);
    gb_free(text[1]);
    mixed_free(&mx);
}
END_TEST

/* ---- artifact ------------------------------------------------------------ */

static gb_model *round_trip(const gb_model *m)
{
    char *text = model_json(m);
    gb_error err;
    cJSON *j = gb_json_parse(text, strlen(text), &err);
    ck_assert_ptr_nonnull(j);
    gb_model *back = NULL;
    ck_assert_msg(gb_student_from_json(j, &back, &err) == GB_OK, "%s", err.message);
    char *again = model_json(back);
    ck_assert_str_eq(text, again);
    gb_free(again);
    gb_free(text);
    cJSON_Delete(j);
    return back;
}

static void same_predictions(const gb_model *a, const gb_model *b, const double *X,
                             size_t n)
{
    double *pa = malloc(n * a->n_outputs * sizeof *pa),
           *pb = malloc(n * a->n_outputs * sizeof *pb);
    gb_error err;
    ck_assert_int_eq(a->ops->predict(a, X, n, pa, &err), GB_OK);
    ck_assert_int_eq(b->ops->predict(b, X, n, pb, &err), GB_OK);
    ck_assert(memcmp(pa, pb, n * a->n_outputs * sizeof *pa) == 0);
    free(pa);
    free(pb);
}

START_TEST(test_artifact_round_trip)
{
    mixed mx;
    make_mixed(2000, 51, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_param p[] = {{"interactions", "2"}, {"bags", "2"}, {"monotone", "x4:1"}};
    gb_model *m = fit_ok(&ts, p, 3);
    gb_model *back = round_trip(m);
    same_predictions(m, back, mx.X, mx.n);
    cJSON *j = m->ops->to_json(m);
    const cJSON *s1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "shapes"), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(s1, "kind")->valuestring, "categorical");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s1, "levels")), 4);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s1, "scores")), 4);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s1, "std")), 4);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(s1, "missing_score"));
    cJSON_Delete(j);
    gb_model_free(back);
    gb_model_free(m);
    double *X, *P;
    int32_t *y;
    make_multiclass(1500, 4, &X, &y, &P);
    gb_train_set mts = multiclass_set(X, y, 1500);
    gb_param q[] = {{"interactions", "1"}, {"bags", "2"}};
    m = fit_ok(&mts, q, 2);
    back = round_trip(m);
    same_predictions(m, back, X, 1500);
    gb_model_free(back);
    gb_model_free(m);
    free(X);
    free(y);
    free(P);
    mixed_free(&mx);
}
END_TEST

static const char *bad_artifacts[] = {
    "{\"format\":\"glassbox-student\",\"type\":\"gam\",\"version\":2}",
    "{\"format\":\"glassbox-student\",\"type\":\"gam\",\"version\":1,\"task\":\"x\"}",
    "{\"format\":\"glassbox-student\",\"type\":\"gam\",\"version\":1,\"task\":"
    "\"regression\",\"classes\":null,\"features\":[{\"name\":\"a\",\"kind\":"
    "\"numeric\"}],"
    "\"params\":{\"rounds\":1,\"learning_rate\":0.1,\"max_bins\":2,\"bags\":1,"
    "\"interactions\":0,\"early_stopping_rounds\":1,\"validation_fraction\":0,"
    "\"min_samples_leaf\":1,\"max_leaves\":3,\"smoothing_rounds\":0},\"intercept\":[0],"
    "\"shapes\":[{\"feature\":\"a\",\"kind\":\"numeric\",\"edges\":[2,1],\"scores\":[["
    "0],[0],"
    "[0]],\"std\":[[0],[0],[0]],\"missing_score\":[0],\"missing_std\":[0]}],"
    "\"interactions\":[],\"complexity\":{\"terms\":1,\"rounds_used\":1}}",
    "{\"format\":\"glassbox-student\",\"type\":\"gam\",\"version\":1,\"task\":"
    "\"regression\",\"classes\":null,\"features\":[{\"name\":\"a\",\"kind\":"
    "\"numeric\"}],"
    "\"params\":{\"rounds\":1,\"learning_rate\":0.1,\"max_bins\":2,\"bags\":1,"
    "\"interactions\":0,\"early_stopping_rounds\":1,\"validation_fraction\":0,"
    "\"min_samples_leaf\":1,\"max_leaves\":3,\"smoothing_rounds\":0},\"intercept\":[0],"
    "\"shapes\":[{\"feature\":\"a\",\"kind\":\"numeric\",\"edges\":[1],\"scores\":[[0]]"
    ","
    "\"std\":[[0],[0]],\"missing_score\":[0],\"missing_std\":[0]}],"
    "\"interactions\":[],\"complexity\":{\"terms\":1,\"rounds_used\":1}}",
    "{\"format\":\"glassbox-student\",\"type\":\"gam\",\"version\":1,\"task\":"
    "\"regression\",\"classes\":null,\"features\":[{\"name\":\"a\",\"kind\":"
    "\"numeric\"}],"
    "\"params\":{\"rounds\":1,\"learning_rate\":0.1,\"max_bins\":2,\"bags\":1,"
    "\"interactions\":0,\"early_stopping_rounds\":1,\"validation_fraction\":0,"
    "\"min_samples_leaf\":1,\"max_leaves\":3,\"smoothing_rounds\":0},\"intercept\":[0],"
    "\"shapes\":[{\"feature\":\"b\",\"kind\":\"numeric\",\"edges\":[1],\"scores\":[[0],"
    "[0]],"
    "\"std\":[[0],[0]],\"missing_score\":[0],\"missing_std\":[0]}],"
    "\"interactions\":[],\"complexity\":{\"terms\":1,\"rounds_used\":1}}",
    "{\"format\":\"glassbox-student\",\"type\":\"gam\",\"version\":1,\"task\":"
    "\"regression\",\"classes\":null,\"features\":[{\"name\":\"a\",\"kind\":"
    "\"numeric\"}],"
    "\"params\":{\"rounds\":1,\"learning_rate\":0.1,\"max_bins\":2,\"bags\":1,"
    "\"interactions\":0,\"early_stopping_rounds\":1,\"validation_fraction\":0,"
    "\"min_samples_leaf\":1,\"max_leaves\":3,\"smoothing_rounds\":0},\"intercept\":[0],"
    "\"shapes\":[{\"feature\":\"a\",\"kind\":\"numeric\",\"edges\":[1],\"scores\":[[0],"
    "[0]],"
    "\"std\":[[0],[0]],\"missing_score\":[0],\"missing_std\":[0]}],"
    "\"interactions\":[{\"features\":[\"a\",\"a\"]}],\"complexity\":{\"terms\":1,"
    "\"rounds_used\":1}}",
};

START_TEST(test_bad_artifact_is_rejected)
{
    gb_error err;
    cJSON *j = gb_json_parse(bad_artifacts[_i], strlen(bad_artifacts[_i]), &err);
    ck_assert_ptr_nonnull(j);
    gb_model *m = NULL;
    ck_assert_int_eq(gb_student_from_json(j, &m, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert(err.message[0] != '\0');
    cJSON_Delete(j);
}
END_TEST

/* ---- exports ------------------------------------------------------------- */

static int run_cmd(const char *cmd)
{
    return system(cmd);
}

/* Compiles the C export with cc and compares its outputs on X with predict
 * bit for bit. */
static void check_c_export(const gb_model *m, const double *X, size_t n)
{
    size_t F = m->n_features, K = m->n_outputs;
    char *code = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "c", &code, &err), GB_OK);
    char dir[] = "/tmp/gb_gam_c_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/student.c", dir);
    FILE *f = fopen(path, "w");
    fputs(code, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/main.c", dir);
    f = fopen(path, "w");
    fprintf(f,
            "#include <stdio.h>\n"
            "void glassbox_predict(const double *x, double *out);\n"
            "int main(void) {\n"
            "  double x[%zu], out[%zu];\n"
            "  while (fread(x, sizeof x, 1, stdin) == 1) {\n"
            "    glassbox_predict(x, out);\n"
            "    fwrite(out, sizeof out, 1, stdout);\n"
            "  }\n"
            "  return 0;\n"
            "}\n",
            F, K);
    fclose(f);
    snprintf(path, sizeof path, "%s/x.bin", dir);
    f = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(X, sizeof *X, n * F, f), n * F);
    fclose(f);
    snprintf(
        cmd, sizeof cmd,
        "cc -std=c11 -O2 -Wall -Wextra -Werror -o %s/predict %s/student.c %s/main.c "
        "-lm && %s/predict < %s/x.bin > %s/out.bin",
        dir, dir, dir, dir, dir, dir);
    ck_assert_int_eq(run_cmd(cmd), 0);
    snprintf(path, sizeof path, "%s/out.bin", dir);
    double *got = malloc(n * K * sizeof *got), *want = malloc(n * K * sizeof *want);
    f = fopen(path, "rb");
    ck_assert_uint_eq(fread(got, sizeof *got, n * K, f), n * K);
    fclose(f);
    ck_assert_int_eq(m->ops->predict(m, X, n, want, &err), GB_OK);
    ck_assert(memcmp(got, want, n * K * sizeof *got) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(run_cmd(cmd), 0);
    free(got);
    free(want);
    gb_free(code);
}

START_TEST(test_c_export_matches_predict)
{
    mixed mx;
    make_mixed(2000, 61, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_param p[] = {{"interactions", "2"}, {"bags", "2"}};
    gb_model *m = fit_ok(&ts, p, 2);
    /* an unknown level code and an all-missing row */
    mx.X[1] = 9.0;
    for (int f = 0; f < 5; f++)
        mx.X[5 + f] = NAN;
    check_c_export(m, mx.X, mx.n);
    gb_model_free(m);
    double *X, *P;
    int32_t *y;
    make_multiclass(1500, 5, &X, &y, &P);
    gb_train_set mts = multiclass_set(X, y, 1500);
    m = fit_ok(&mts, p, 2);
    check_c_export(m, X, 1500);
    gb_model_free(m);
    free(X);
    free(y);
    free(P);
    double *Xr, *yr;
    make_regression(1000, 7, &Xr, &yr);
    memset(&ts, 0, sizeof ts);
    ts.n_rows = 1000;
    ts.n_features = 3;
    ts.X = Xr;
    ts.features = numeric_features;
    ts.task = GB_TASK_REGRESSION;
    ts.y_value = yr;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    m = fit_ok(&ts, p, 2);
    check_c_export(m, Xr, 1000);
    gb_model_free(m);
    free(Xr);
    free(yr);
    mixed_free(&mx);
}
END_TEST

START_TEST(test_sql_export_matches_predict)
{
    mixed mx;
    make_mixed(1500, 71, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_param p[] = {{"interactions", "2"}, {"bags", "2"}};
    gb_model *m = fit_ok(&ts, p, 2);
    char *sql = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "sql", &sql, &err), GB_OK);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE TABLE t(id INTEGER PRIMARY KEY, x0 REAL, "
                                  "colour TEXT, x2 REAL, x3 REAL, x4 REAL)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *ins = NULL;
    ck_assert_int_eq(
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?,?,?)", -1, &ins, NULL),
        SQLITE_OK);
    /* one extra row with an unknown level, which the design matrix turns
     * into a missing value */
    for (size_t i = 0; i <= mx.n; i++) {
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)i);
        for (int f = 0; f < 5; f++) {
            double x = i < mx.n ? mx.X[i * 5 + f] : NAN;
            if (f == 1 && i == mx.n)
                sqlite3_bind_text(ins, 3, "purple", -1, SQLITE_STATIC);
            else if (isnan(x))
                sqlite3_bind_null(ins, f + 2);
            else if (f == 1)
                sqlite3_bind_text(ins, 3, cat_levels[(int)x], -1, SQLITE_STATIC);
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
    ck_assert_str_eq(sqlite3_column_name(sel, 1), "p_1");
    double *want = malloc((mx.n + 1) * 2 * sizeof *want), missing[5];
    ck_assert_int_eq(m->ops->predict(m, mx.X, mx.n, want, &err), GB_OK);
    for (int f = 0; f < 5; f++)
        missing[f] = NAN;
    ck_assert_int_eq(m->ops->predict(m, missing, 1, want + mx.n * 2, &err), GB_OK);
    size_t row = 0;
    while (sqlite3_step(sel) == SQLITE_ROW) {
        for (int k = 0; k < 2; k++)
            ck_assert_msg(sqlite3_column_double(sel, k) == want[row * 2 + k],
                          "row %zu output %d: %.17g vs %.17g", row, k,
                          sqlite3_column_double(sel, k), want[row * 2 + k]);
        row++;
    }
    ck_assert_uint_eq(row, mx.n + 1);
    sqlite3_finalize(sel);
    sqlite3_close(db);
    free(query);
    free(want);
    gb_free(sql);
    gb_model_free(m);
    mixed_free(&mx);
}
END_TEST

START_TEST(test_sql_export_multiclass)
{
    double *X, *P;
    int32_t *y;
    make_multiclass(800, 12, &X, &y, &P);
    gb_train_set mts = multiclass_set(X, y, 800);
    gb_param p[] = {{"bags", "2"}, {"max_bins", "16"}};
    gb_model *m = fit_ok(&mts, p, 2);
    char *sql = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "sql", &sql, &err), GB_OK);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(
            db, "CREATE TABLE t(id INTEGER PRIMARY KEY, x0 REAL, x1 REAL, x2 REAL)",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_stmt *ins = NULL;
    ck_assert_int_eq(
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?)", -1, &ins, NULL),
        SQLITE_OK);
    for (size_t i = 0; i < 800; i++) {
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)i);
        for (int f = 0; f < 3; f++)
            if (isnan(X[i * 3 + f]))
                sqlite3_bind_null(ins, f + 2);
            else
                sqlite3_bind_double(ins, f + 2, X[i * 3 + f]);
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
    double *want = malloc(800 * 3 * sizeof *want);
    ck_assert_int_eq(m->ops->predict(m, X, 800, want, &err), GB_OK);
    size_t row = 0;
    while (sqlite3_step(sel) == SQLITE_ROW) {
        for (int k = 0; k < 3; k++)
            ck_assert_msg(sqlite3_column_double(sel, k) == want[row * 3 + k],
                          "row %zu output %d: %.17g vs %.17g", row, k,
                          sqlite3_column_double(sel, k), want[row * 3 + k]);
        row++;
    }
    ck_assert_uint_eq(row, 800);
    sqlite3_finalize(sel);
    sqlite3_close(db);
    free(query);
    free(want);
    gb_free(sql);
    gb_model_free(m);
    free(X);
    free(y);
    free(P);
}
END_TEST

START_TEST(test_export_unknown_format)
{
    mixed mx;
    make_mixed(300, 81, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_param p[] = {{"bags", "1"}, {"rounds", "20"}};
    gb_model *m = fit_ok(&ts, p, 2);
    char *out = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_export(m, "pmml", &out, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(out);
    gb_model_free(m);
    mixed_free(&mx);
}
END_TEST

/* ---- parameter and training-set errors ----------------------------------- */

static const gb_param bad_params[] = {
    {"rounds", "0"},
    {"rounds", "100001"},
    {"rounds", "ten"},
    {"learning_rate", "0"},
    {"learning_rate", "1.5"},
    {"learning_rate", "nan"},
    {"learning_rate", ""},
    {"max_bins", "1"},
    {"max_bins", "256"},
    {"bags", "0"},
    {"bags", "65"},
    {"interactions", "-1"},
    {"interactions", "1001"},
    {"monotone", "x0:0"},
    {"early_stopping_rounds", "0"},
    {"validation_fraction", "0.005"},
    {"validation_fraction", "0.6"},
    {"min_samples_leaf", "0"},
    {"max_leaves", "1"},
    {"max_leaves", "4"},
    {"smoothing_rounds", "x"},
    {"depth", "3"},
};
#define N_BAD_PARAMS (sizeof bad_params / sizeof bad_params[0])

START_TEST(test_bad_parameter)
{
    gb_error err;
    gb_error_clear(&err);
    ck_assert_int_eq(gb_student_check("gam", &bad_params[_i], 1, GB_TASK_AUTO, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, bad_params[_i].key);
    ck_assert_ptr_nonnull(strstr(err.message, bad_params[_i].key));
    mixed mx;
    make_mixed(100, 1, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_model *m = NULL;
    ck_assert_int_eq(gb_student_fit("gam", &bad_params[_i], 1, &ts, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(err.field, bad_params[_i].key);
    mixed_free(&mx);
}
END_TEST

START_TEST(test_good_and_repeated_parameters)
{
    gb_param good[] = {{"rounds", "100"},
                       {"learning_rate", "0.05"},
                       {"max_bins", "32"},
                       {"bags", "2"},
                       {"interactions", "1"},
                       {"monotone", "x4:-1"},
                       {"early_stopping_rounds", "10"},
                       {"validation_fraction", "0"},
                       {"min_samples_leaf", "5"},
                       {"max_leaves", "2"},
                       {"smoothing_rounds", "0"}};
    gb_error err;
    ck_assert_int_eq(gb_student_check("gam", good, 11, GB_TASK_BINARY, &err), GB_OK);
    mixed mx;
    make_mixed(500, 2, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_model *m = fit_ok(&ts, good, 11);
    ck_assert(shape_monotone(m, 4, -1));
    size_t terms, rounds;
    gb_gam_complexity(m, &terms, &rounds);
    ck_assert_uint_eq(terms, 6);
    ck_assert_uint_eq(rounds, 100); /* no validation split: every round */
    gb_model_free(m);
    gb_param twice[] = {{"bags", "2"}, {"bags", "3"}};
    ck_assert_int_eq(gb_student_check("gam", twice, 2, GB_TASK_AUTO, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "bags");
    mixed_free(&mx);
}
END_TEST

START_TEST(test_bad_training_set)
{
    mixed mx;
    make_mixed(200, 3, &mx);
    gb_train_set ts = mixed_set(&mx);
    switch (_i) {
    case 0: mx.y[17] = 2; break;
    case 1: mx.X[3 * 5 + 0] = INFINITY; break;
    case 2:
        mx.X[4 * 5 + 1] = 4.0; /* colour has 4 levels */
        break;
    case 3:
        ts.alpha = 0.5; /* no soft targets */
        break;
    case 4: ts.n_rows = 1; break;
    case 5:
        ts.n_rows = 3; /* too few rows for a validation split */
        break;
    case 6:
        ts.soft = mx.soft;
        ts.alpha = 0.0;
        mx.soft[9] = 1.5;
        break;
    default: ts.task = GB_TASK_AUTO; break;
    }
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    ck_assert_int_eq(gb_student_fit("gam", NULL, 0, &ts, NULL, &m, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    ck_assert(err.message[0] != '\0');
    if (_i == 1 || _i == 2)
        ck_assert_str_eq(err.field, _i == 1 ? "x0" : "colour");
    if (_i == 5)
        ck_assert_str_eq(err.field, "validation_fraction");
    mixed_free(&mx);
}
END_TEST

/* ---- progress, cancellation, allocation failures ------------------------- */

static void count_cb(void *ctx, const char *phase, double fraction)
{
    (void)phase;
    ck_assert(fraction >= 0.0 && fraction <= 1.0);
    (*(int *)ctx)++;
}

START_TEST(test_progress_and_cancel)
{
    mixed mx;
    make_mixed(500, 4, &mx);
    gb_train_set ts = mixed_set(&mx);
    int calls = 0;
    atomic_int cancel = 0;
    gb_progress pr = {count_cb, &calls, &cancel};
    gb_model *m = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_fit("gam", NULL, 0, &ts, &pr, &m, &err), GB_OK);
    ck_assert(calls >= 2);
    gb_model_free(m);
    m = NULL;
    atomic_store(&cancel, 1);
    ck_assert_int_eq(gb_student_fit("gam", NULL, 0, &ts, &pr, &m, &err), GB_ECANCELLED);
    ck_assert_ptr_null(m);
    mixed_free(&mx);
}
END_TEST

typedef struct cancel_ctx {
    atomic_int cancel;
    int reports_in_rounds;
} cancel_ctx;

/* Cancels at the first progress report from inside the boosting rounds. */
static void cancel_cb(void *ctx, const char *phase, double fraction)
{
    cancel_ctx *c = ctx;
    if (strcmp(phase, "gam: main effects") == 0 && fraction > 0.05) {
        c->reports_in_rounds++;
        atomic_store(&c->cancel, 1);
    }
}

START_TEST(test_cancel_during_rounds)
{
    mixed mx;
    make_mixed(1000, 6, &mx);
    gb_train_set ts = mixed_set(&mx);
    cancel_ctx c = {0, 0};
    gb_progress pr = {cancel_cb, &c, &c.cancel};
    gb_param p[] = {{"validation_fraction", "0"}, {"rounds", "2000"}};
    gb_model *m = NULL;
    gb_error err;
    ck_assert_int_eq(gb_student_fit("gam", p, 2, &ts, &pr, &m, &err), GB_ECANCELLED);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(c.reports_in_rounds, 1);
    mixed_free(&mx);
}
END_TEST

START_TEST(test_allocation_failures)
{
    mixed mx;
    make_mixed(300, 5, &mx);
    gb_train_set ts = mixed_set(&mx);
    gb_param p[] = {{"bags", "2"}, {"rounds", "15"}, {"interactions", "1"}};
    int succeeded = 0;
    for (long k = 1; k < 2000 && !succeeded; k++) {
        gb_model *m = NULL;
        gb_error err;
        gb_alloc_fail_after(k);
        gb_status rc = gb_student_fit("gam", p, 3, &ts, NULL, &m, &err);
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
    mixed_free(&mx);
}
END_TEST

/* ---- suite --------------------------------------------------------------- */

static Suite *gam_suite(void)
{
    Suite *s = suite_create("gam");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_additive_truth_recovered);
    tcase_add_test(tc, test_breast_cancer_auc);
    tcase_add_test(tc, test_monotone_constraints);
    tcase_add_test(tc, test_monotone_errors);
    tcase_add_test(tc, test_missing_bin_and_categorical);
    tcase_add_test(tc, test_unseen_level_scores_zero);
    tcase_add_test(tc, test_soft_targets_raise_fidelity);
    tcase_add_test(tc, test_interaction_found);
    tcase_add_test(tc, test_regression);
    tcase_add_test(tc, test_multiclass_near_bayes);
    tcase_add_test(tc, test_attributions_sum_to_margin);
    tcase_add_test(tc, test_deterministic_across_threads);
    tcase_add_test(tc, test_artifact_round_trip);
    tcase_add_loop_test(tc, test_bad_artifact_is_rejected, 0,
                        (int)(sizeof bad_artifacts / sizeof bad_artifacts[0]));
    tcase_add_test(tc, test_c_export_matches_predict);
    tcase_add_test(tc, test_sql_export_matches_predict);
    tcase_add_test(tc, test_sql_export_multiclass);
    tcase_add_test(tc, test_export_unknown_format);
    tcase_add_loop_test(tc, test_bad_parameter, 0, N_BAD_PARAMS);
    tcase_add_test(tc, test_good_and_repeated_parameters);
    tcase_add_loop_test(tc, test_bad_training_set, 0, 8);
    tcase_add_test(tc, test_progress_and_cancel);
    tcase_add_test(tc, test_cancel_during_rounds);
    tcase_add_test(tc, test_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gam_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
