/*
 * linear.c - the logistic / softmax / linear student: preprocessing, the
 * distillation objective in row blocks (BLAS), fitting, prediction, exact
 * attributions, the artifact and its scorecard, and SQL / C exports.
 * Layer: core/model/students.  See linear.h and docs/students-linear.md.
 */
#include "core/strbuf.h"
#include "core/model/students/linear.h"

#include <cblas.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/lbfgs.h"
#include "core/parallel.h"

/* Fixed so results never depend on the thread count. */
#define LINEAR_CHUNKS 32
#define LINEAR_MAX_CHOLESKY_COLS 1000

/* ---- parameters ---------------------------------------------------------------- */

typedef struct linear_params {
    double l2, l1, tol;
    long max_iter;
    double pdo, base_score, base_odds;
} linear_params;

typedef struct param_spec {
    const char *key;
    double min, max;
    int min_open;      /* min excluded */
    int integer;       /* whole numbers only */
    int logistic_only; /* scorecard keys */
} param_spec;

static const param_spec PARAM_SPECS[] = {
    {"l2", 0.0, 1e12, 0, 0, 0},           {"l1", 0.0, 1e12, 0, 0, 0},
    {"max_iter", 1.0, 100000.0, 0, 1, 0}, {"tol", 0.0, 1.0, 1, 0, 0},
    {"pdo", 0.0, 1e9, 1, 0, 1},           {"base_score", -1e12, 1e12, 0, 0, 1},
    {"base_odds", 0.0, 1e12, 1, 0, 1},
};
#define N_PARAM_SPECS (sizeof PARAM_SPECS / sizeof PARAM_SPECS[0])

static void params_default(linear_params *p)
{
    p->l2 = 1e-4;
    p->l1 = 0.0;
    p->tol = 1e-7;
    p->max_iter = 500;
    p->pdo = 20.0;
    p->base_score = 600.0;
    p->base_odds = 50.0;
}

static void params_set(linear_params *p, const char *key, double v)
{
    if (strcmp(key, "l2") == 0)
        p->l2 = v;
    else if (strcmp(key, "l1") == 0)
        p->l1 = v;
    else if (strcmp(key, "max_iter") == 0)
        p->max_iter = (long)v;
    else if (strcmp(key, "tol") == 0)
        p->tol = v;
    else if (strcmp(key, "pdo") == 0)
        p->pdo = v;
    else if (strcmp(key, "base_score") == 0)
        p->base_score = v;
    else if (strcmp(key, "base_odds") == 0)
        p->base_odds = v;
}

static gb_status kind_check(const char *kind, gb_task task, int *is_logistic,
                            gb_error *err)
{
    if (kind == NULL || !gb_linear_is_kind(kind)) {
        gb_error_set(err, GB_EUNUSABLE, "unknown student type '%s'", kind ? kind : "");
        gb_error_field(err, "type");
        return GB_EUNUSABLE;
    }
    *is_logistic = strcmp(kind, "logistic") == 0;
    if (*is_logistic && task == GB_TASK_REGRESSION) {
        gb_error_set(err, GB_EUNUSABLE,
                     "student 'logistic' needs a classification task; use 'linear' "
                     "for regression");
        gb_error_field(err, "type");
        return GB_EUNUSABLE;
    }
    if (!*is_logistic && (task == GB_TASK_BINARY || task == GB_TASK_MULTICLASS)) {
        gb_error_set(err, GB_EUNUSABLE,
                     "student 'linear' is for regression (a linear probability model "
                     "leaves [0, 1]); use 'logistic' for a %s task",
                     gb_task_name(task));
        gb_error_field(err, "type");
        return GB_EUNUSABLE;
    }
    return GB_OK;
}

static gb_status params_parse(int is_logistic, const gb_param *params, size_t n_params,
                              linear_params *out, gb_error *err)
{
    linear_params p;
    params_default(&p);
    for (size_t i = 0; i < n_params; i++) {
        const char *key = params[i].key ? params[i].key : "";
        const char *text = params[i].value ? params[i].value : "";
        const param_spec *spec = NULL;
        for (size_t s = 0; s < N_PARAM_SPECS; s++)
            if (strcmp(PARAM_SPECS[s].key, key) == 0)
                spec = &PARAM_SPECS[s];
        if (spec == NULL || (spec->logistic_only && !is_logistic)) {
            gb_error_set(err, GB_EUNUSABLE,
                         "unknown parameter '%s' for student '%s' (known: l2, l1, "
                         "max_iter, tol%s)",
                         key, is_logistic ? "logistic" : "linear",
                         is_logistic ? ", pdo, base_score, base_odds" : "");
            gb_error_field(err, key);
            return GB_EUNUSABLE;
        }
        for (size_t j = 0; j < i; j++) {
            if (params[j].key != NULL && strcmp(params[j].key, key) == 0) {
                gb_error_set(err, GB_EUNUSABLE, "parameter '%s' is given twice", key);
                gb_error_field(err, key);
                return GB_EUNUSABLE;
            }
        }
        char *end = NULL;
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v)) {
            gb_error_set(err, GB_EUNUSABLE, "parameter '%s' must be a number, got '%s'",
                         key, text);
            gb_error_field(err, key);
            return GB_EUNUSABLE;
        }
        if (spec->integer && v != floor(v)) {
            gb_error_set(err, GB_EUNUSABLE,
                         "parameter '%s' must be a whole number, got '%s'", key, text);
            gb_error_field(err, key);
            return GB_EUNUSABLE;
        }
        if (v < spec->min || (spec->min_open && v <= spec->min) || v > spec->max) {
            gb_error_set(err, GB_EUNUSABLE,
                         "parameter '%s' must be in %s%.17g, %.17g], got %s", key,
                         spec->min_open ? "(" : "[", spec->min, spec->max, text);
            gb_error_field(err, key);
            return GB_EUNUSABLE;
        }
        params_set(&p, key, v);
    }
    *out = p;
    return GB_OK;
}

int gb_linear_is_kind(const char *kind)
{
    return kind != NULL &&
           (strcmp(kind, "logistic") == 0 || strcmp(kind, "linear") == 0);
}

gb_status gb_linear_check(const char *kind, const gb_param *params, size_t n_params,
                          gb_task task, gb_error *err)
{
    int is_logistic = 0;
    gb_status rc = kind_check(kind, task, &is_logistic, err);
    if (rc != GB_OK)
        return rc;
    linear_params p;
    return params_parse(is_logistic, params, n_params, &p, err);
}

/* ---- the fitted model --------------------------------------------------------------
 */

typedef struct gb_linear {
    int is_logistic;
    size_t n_in;         /* model features */
    size_t n_ind;        /* missing indicators */
    size_t n_cols;       /* internal columns: n_in + n_ind */
    size_t n_marg;       /* margins: 1, or K for multiclass */
    size_t *ind_src;     /* n_ind: the (first) feature of each indicator */
    size_t *ind_share;   /* n_ind: features sharing it (one-hot columns) */
    long *ind_of;        /* n_in: indicator index of a feature, or -1 */
    double *mean;        /* n_cols (indicators: missing rate) */
    double *scale;       /* n_cols */
    double *inv_scale;   /* n_cols, 1 / scale */
    double *fmin, *fmax; /* n_in: training range (NaN when all missing) */
    double *coef;        /* n_marg x n_cols, standardised weights */
    double *intercept;   /* n_marg: margin at the training mean */
    linear_params params;
    double temperature, alpha;
    long n_iter;
    char stop[16];
    double loss; /* final objective */
} gb_linear;

static void linear_free(void *impl)
{
    gb_linear *lm = impl;
    if (lm == NULL)
        return;
    gb_free(lm->ind_src);
    gb_free(lm->ind_share);
    gb_free(lm->ind_of);
    gb_free(lm->mean);
    gb_free(lm->scale);
    gb_free(lm->inv_scale);
    gb_free(lm->fmin);
    gb_free(lm->fmax);
    gb_free(lm->coef);
    gb_free(lm->intercept);
    gb_free(lm);
}

/* Allocates the arrays of lm for its sizes (n_in, n_ind, n_marg set). */
static gb_status linear_alloc(gb_linear *lm, gb_error *err)
{
    lm->n_cols = lm->n_in + lm->n_ind;
    size_t nc = lm->n_cols ? lm->n_cols : 1, ni = lm->n_in ? lm->n_in : 1;
    lm->ind_src = gb_malloc_array(lm->n_ind ? lm->n_ind : 1, sizeof *lm->ind_src);
    lm->ind_share = gb_calloc(lm->n_ind ? lm->n_ind : 1, sizeof *lm->ind_share);
    lm->ind_of = gb_malloc_array(ni, sizeof *lm->ind_of);
    lm->mean = gb_calloc(nc, sizeof *lm->mean);
    lm->scale = gb_calloc(nc, sizeof *lm->scale);
    lm->inv_scale = gb_calloc(nc, sizeof *lm->inv_scale);
    lm->fmin = gb_calloc(ni, sizeof *lm->fmin);
    lm->fmax = gb_calloc(ni, sizeof *lm->fmax);
    lm->coef = gb_calloc(lm->n_marg * nc, sizeof *lm->coef);
    lm->intercept = gb_calloc(lm->n_marg, sizeof *lm->intercept);
    if (!lm->ind_src || !lm->ind_share || !lm->ind_of || !lm->mean || !lm->scale ||
        !lm->inv_scale || !lm->fmin || !lm->fmax || !lm->coef || !lm->intercept)
        return gb_error_set(err, GB_ENOMEM, "out of memory for a linear student");
    for (size_t j = 0; j < lm->n_in; j++)
        lm->ind_of[j] = -1;
    return GB_OK;
}

/* Z[n_rows x n_cols] = the standardised internal design of X[n_rows x n_in].
 * complete != 0 promises X has no NaN (the training rows of a model without
 * indicators), which lets the loop vectorise. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-vectorize")))
#endif
static void
standardise_block(const gb_linear *lm, const double *X, size_t n_rows, double *Z,
                  int complete)
{
    size_t n_in = lm->n_in, n_cols = lm->n_cols;
    const double *restrict mean = lm->mean, *restrict inv = lm->inv_scale;
    for (size_t i = 0; i < n_rows; i++) {
        const double *restrict x = X + i * n_in;
        double *restrict z = Z + i * n_cols;
        if (complete) {
            for (size_t j = 0; j < n_in; j++)
                z[j] = (x[j] - mean[j]) * inv[j];
        } else {
            for (size_t j = 0; j < n_in; j++) {
                double t = (x[j] - mean[j]) * inv[j];
                z[j] = t == t ? t : 0.0; /* NaN: imputed with the mean */
            }
        }
        for (size_t m = 0; m < lm->n_ind; m++) {
            size_t c = n_in + m;
            double v = isnan(x[lm->ind_src[m]]) ? 1.0 : 0.0;
            z[c] = (v - mean[c]) * inv[c];
        }
    }
}

/* M[n_rows x n_marg] = Z W' + b. */
static void margins_block(const double *W, const double *b, size_t n_marg,
                          size_t n_cols, const double *Z, size_t n_rows, double *M)
{
    if (n_cols == 0) {
        for (size_t i = 0; i < n_rows; i++)
            memcpy(M + i * n_marg, b, n_marg * sizeof *M);
        return;
    }
    if (n_marg == 1) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n_rows, (int)n_cols, 1.0, Z,
                    (int)n_cols, W, 1, 0.0, M, 1);
    } else {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n_rows, (int)n_marg,
                    (int)n_cols, 1.0, Z, (int)n_cols, W, (int)n_cols, 0.0, M,
                    (int)n_marg);
    }
    for (size_t i = 0; i < n_rows; i++)
        for (size_t k = 0; k < n_marg; k++)
            M[i * n_marg + k] += b[k];
}

/* Rows per block: the standardised block stays near 256 KiB. */
static size_t block_rows_for(size_t n_cols)
{
    size_t b = 32768 / (n_cols ? n_cols : 1);
    if (b < 16)
        b = 16;
    if (b > 1024)
        b = 1024;
    return b;
}

/* ---- prediction --------------------------------------------------------------------
 */

static gb_status linear_margins(const gb_model *m, const double *X, size_t n_rows,
                                double *out, gb_error *err)
{
    const gb_linear *lm = m->impl;
    size_t block = block_rows_for(lm->n_cols);
    if (block > n_rows)
        block = n_rows ? n_rows : 1;
    double *Z = gb_malloc_array(block, (lm->n_cols ? lm->n_cols : 1) * sizeof *Z);
    if (Z == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory scoring %zu rows", n_rows);
    for (size_t r0 = 0; r0 < n_rows; r0 += block) {
        size_t nb = n_rows - r0 < block ? n_rows - r0 : block;
        standardise_block(lm, X + r0 * lm->n_in, nb, Z, 0);
        margins_block(lm->coef, lm->intercept, lm->n_marg, lm->n_cols, Z, nb,
                      out + r0 * lm->n_marg);
    }
    gb_free(Z);
    return GB_OK;
}

static gb_status linear_predict_margin(const gb_model *m, const double *X,
                                       size_t n_rows, double *out, gb_error *err)
{
    return linear_margins(m, X, n_rows, out, err);
}

static gb_status linear_predict(const gb_model *m, const double *X, size_t n_rows,
                                double *out, gb_error *err)
{
    const gb_linear *lm = m->impl;
    if (!lm->is_logistic)
        return linear_margins(m, X, n_rows, out, err);
    size_t K = m->n_classes;
    if (lm->n_marg == 1) {
        /* Margins into the second column, then both probabilities in place. */
        double *M = gb_malloc_array(n_rows ? n_rows : 1, sizeof *M);
        if (M == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory scoring %zu rows",
                                n_rows);
        gb_status rc = linear_margins(m, X, n_rows, M, err);
        if (rc == GB_OK) {
            for (size_t i = 0; i < n_rows; i++) {
                out[2 * i] = 1.0 / (1.0 + exp(M[i]));
                out[2 * i + 1] = 1.0 / (1.0 + exp(-M[i]));
            }
        }
        gb_free(M);
        return rc;
    }
    gb_status rc = linear_margins(m, X, n_rows, out, err);
    if (rc != GB_OK)
        return rc;
    for (size_t i = 0; i < n_rows; i++) {
        double *p = out + i * K, mx = p[0], sum = 0.0;
        for (size_t k = 1; k < K; k++)
            if (p[k] > mx)
                mx = p[k];
        for (size_t k = 0; k < K; k++) {
            p[k] = exp(p[k] - mx);
            sum += p[k];
        }
        for (size_t k = 0; k < K; k++)
            p[k] /= sum;
    }
    return GB_OK;
}

/* phi[i][k][j] = w_kj z_ij (+ the feature's indicator term); last = intercept. */
static gb_status linear_attribute(const gb_model *m, const double *X, size_t n_rows,
                                  double *phi, gb_error *err)
{
    const gb_linear *lm = m->impl;
    size_t n_in = lm->n_in, K = lm->n_marg, width = n_in + 1;
    double *z = gb_malloc_array(lm->n_cols ? lm->n_cols : 1, sizeof *z);
    if (z == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory for attributions");
    for (size_t i = 0; i < n_rows; i++) {
        standardise_block(lm, X + i * n_in, 1, z, 0);
        for (size_t k = 0; k < K; k++) {
            const double *w = lm->coef + k * lm->n_cols;
            double *out = phi + (i * K + k) * width;
            for (size_t j = 0; j < n_in; j++) {
                double v = w[j] * z[j];
                if (lm->ind_of[j] >= 0) {
                    /* a shared indicator's term is split evenly among the
                     * one-hot columns it belongs to */
                    size_t ind = (size_t)lm->ind_of[j], c = n_in + ind;
                    v += w[c] * z[c] / (double)lm->ind_share[ind];
                }
                out[j] = v;
            }
            out[n_in] = lm->intercept[k];
        }
    }
    gb_free(z);
    return GB_OK;
}

/* ---- the artifact
 * -------------------------------------------------------------------- */

static double coef_orig(const gb_linear *lm, size_t k, size_t c)
{
    return lm->coef[k * lm->n_cols + c] * lm->inv_scale[c];
}

/* Margin at x = 0 with every value present (the intercept in original units). */
static double intercept_orig(const gb_linear *lm, size_t k)
{
    double b = lm->intercept[k];
    for (size_t c = 0; c < lm->n_cols; c++)
        b -= coef_orig(lm, k, c) * lm->mean[c];
    return b;
}

static cJSON *per_margin(const gb_linear *lm,
                         double (*get)(const gb_linear *, size_t, size_t), size_t c)
{
    if (lm->n_marg == 1)
        return cJSON_CreateNumber(get(lm, 0, c));
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; arr != NULL && k < lm->n_marg; k++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(get(lm, k, c)));
    return arr;
}

static double get_coef_std(const gb_linear *lm, size_t k, size_t c)
{
    return lm->coef[k * lm->n_cols + c];
}

static double get_intercept_std(const gb_linear *lm, size_t k, size_t c)
{
    (void)c;
    return lm->intercept[k];
}

static double get_intercept_orig(const gb_linear *lm, size_t k, size_t c)
{
    (void)c;
    return intercept_orig(lm, k);
}

static void add_nullable(cJSON *obj, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(obj, key, v);
    else
        cJSON_AddNullToObject(obj, key);
}

/* Scorecard (binary): score = offset - factor * margin, factor = pdo / ln 2,
 * offset = base_score - factor * ln(base_odds); the odds are P(classes[0]) /
 * P(classes[1]).  score = base_points + sum_j points_j(x_j). */
static cJSON *scorecard_json(const gb_linear *lm, const gb_model *m)
{
    const linear_params *p = &lm->params;
    double factor = p->pdo / log(2.0);
    double offset = p->base_score - factor * log(p->base_odds);
    cJSON *sc = cJSON_CreateObject();
    if (sc == NULL)
        return NULL;
    cJSON_AddNumberToObject(sc, "pdo", p->pdo);
    cJSON_AddNumberToObject(sc, "base_score", p->base_score);
    cJSON_AddNumberToObject(sc, "base_odds", p->base_odds);
    cJSON_AddNumberToObject(sc, "factor", factor);
    cJSON_AddNumberToObject(sc, "offset", offset);
    cJSON_AddStringToObject(sc, "odds", "P(classes[0]) / P(classes[1])");
    cJSON_AddNumberToObject(sc, "base_points", offset - factor * lm->intercept[0]);
    cJSON *points = cJSON_AddArrayToObject(sc, "points");
    for (size_t j = 0; points != NULL && j < lm->n_in; j++) {
        cJSON *e = cJSON_CreateObject();
        if (e == NULL)
            break;
        cJSON_AddItemToArray(points, e);
        double ppu = -factor * coef_orig(lm, 0, j);
        double present = 0.0, missing = 0.0;
        if (lm->ind_of[j] >= 0) {
            size_t ind = (size_t)lm->ind_of[j], c = lm->n_in + ind;
            double w = lm->coef[c] / (double)lm->ind_share[ind];
            present = -factor * w * (0.0 - lm->mean[c]) * lm->inv_scale[c];
            missing = -factor * w * (1.0 - lm->mean[c]) * lm->inv_scale[c];
        }
        cJSON_AddStringToObject(e, "feature", m->features[j].name);
        cJSON_AddNumberToObject(e, "points_per_unit", ppu);
        cJSON_AddNumberToObject(e, "reference", lm->mean[j]);
        add_nullable(e, "min", lm->fmin[j]);
        add_nullable(e, "max", lm->fmax[j]);
        add_nullable(e, "points_at_min", ppu * (lm->fmin[j] - lm->mean[j]) + present);
        add_nullable(e, "points_at_max", ppu * (lm->fmax[j] - lm->mean[j]) + present);
        cJSON_AddNumberToObject(e, "points_if_present", present);
        cJSON_AddNumberToObject(e, "points_if_missing", missing);
    }
    return sc;
}

static cJSON *linear_to_json(const gb_model *m)
{
    const gb_linear *lm = m->impl;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    cJSON_AddStringToObject(root, "format", "glassbox-student");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "type", lm->is_logistic ? "logistic" : "linear");
    cJSON_AddStringToObject(root, "task", gb_task_name(m->task));
    if (m->n_classes > 0)
        cJSON_AddItemToObject(root, "classes",
                              gb_json_string_array_create(m->classes, m->n_classes));
    else
        cJSON_AddNullToObject(root, "classes");
    cJSON *feats = cJSON_AddArrayToObject(root, "features");
    for (size_t j = 0; feats != NULL && j < m->n_features; j++)
        cJSON_AddItemToArray(feats, cJSON_CreateString(m->features[j].name));

    cJSON *params = cJSON_AddObjectToObject(root, "params");
    if (params != NULL) {
        cJSON_AddNumberToObject(params, "l2", lm->params.l2);
        cJSON_AddNumberToObject(params, "l1", lm->params.l1);
        cJSON_AddNumberToObject(params, "max_iter", (double)lm->params.max_iter);
        cJSON_AddNumberToObject(params, "tol", lm->params.tol);
        if (lm->is_logistic) {
            cJSON_AddNumberToObject(params, "pdo", lm->params.pdo);
            cJSON_AddNumberToObject(params, "base_score", lm->params.base_score);
            cJSON_AddNumberToObject(params, "base_odds", lm->params.base_odds);
        }
    }
    cJSON *dist = cJSON_AddObjectToObject(root, "distillation");
    if (dist != NULL) {
        cJSON_AddNumberToObject(dist, "temperature", lm->temperature);
        cJSON_AddNumberToObject(dist, "alpha", lm->alpha);
    }
    cJSON *fit = cJSON_AddObjectToObject(root, "fit");
    if (fit != NULL) {
        cJSON_AddNumberToObject(fit, "iterations", (double)lm->n_iter);
        cJSON_AddStringToObject(fit, "stop", lm->stop);
        add_nullable(fit, "loss", lm->loss);
    }
    cJSON_AddItemToObject(root, "intercept", per_margin(lm, get_intercept_orig, 0));
    cJSON_AddItemToObject(root, "intercept_std", per_margin(lm, get_intercept_std, 0));

    cJSON *coefs = cJSON_AddArrayToObject(root, "coefficients");
    for (size_t j = 0; coefs != NULL && j < lm->n_in; j++) {
        cJSON *e = cJSON_CreateObject();
        if (e == NULL)
            break;
        cJSON_AddItemToArray(coefs, e);
        cJSON_AddStringToObject(e, "feature", m->features[j].name);
        cJSON_AddItemToObject(e, "coef", per_margin(lm, coef_orig, j));
        cJSON_AddItemToObject(e, "coef_std", per_margin(lm, get_coef_std, j));
        if (lm->is_logistic && lm->n_marg == 1)
            add_nullable(e, "odds_ratio", exp(coef_orig(lm, 0, j)));
        cJSON_AddNumberToObject(e, "mean", lm->mean[j]);
        cJSON_AddNumberToObject(e, "scale", lm->scale[j]);
        add_nullable(e, "min", lm->fmin[j]);
        add_nullable(e, "max", lm->fmax[j]);
    }
    cJSON *inds = cJSON_AddArrayToObject(root, "missing_indicators");
    for (size_t i = 0; inds != NULL && i < lm->n_ind; i++) {
        size_t c = lm->n_in + i;
        cJSON *e = cJSON_CreateObject();
        if (e == NULL)
            break;
        cJSON_AddItemToArray(inds, e);
        cJSON_AddStringToObject(e, "feature", m->features[lm->ind_src[i]].name);
        cJSON *srcs = cJSON_AddArrayToObject(e, "features");
        for (size_t j = 0; srcs != NULL && j < lm->n_in; j++)
            if (lm->ind_of[j] == (long)i)
                cJSON_AddItemToArray(srcs, cJSON_CreateString(m->features[j].name));
        cJSON_AddItemToObject(e, "coef", per_margin(lm, coef_orig, c));
        cJSON_AddItemToObject(e, "coef_std", per_margin(lm, get_coef_std, c));
        if (lm->is_logistic && lm->n_marg == 1)
            add_nullable(e, "odds_ratio", exp(coef_orig(lm, 0, c)));
        cJSON_AddNumberToObject(e, "mean", lm->mean[c]);
        cJSON_AddNumberToObject(e, "scale", lm->scale[c]);
    }
    if (lm->is_logistic && lm->n_marg == 1)
        cJSON_AddItemToObject(root, "scorecard", scorecard_json(lm, m));
    size_t nonzero = 0;
    for (size_t i = 0; i < lm->n_marg * lm->n_cols; i++)
        nonzero += lm->coef[i] != 0.0;
    cJSON *cx = cJSON_AddObjectToObject(root, "complexity");
    if (cx != NULL) {
        cJSON_AddNumberToObject(cx, "nonzero_coefs", (double)nonzero);
        cJSON_AddNumberToObject(cx, "n_coefs", (double)(lm->n_marg * lm->n_cols));
    }
    return root;
}

static const gb_model_ops LINEAR_OPS = {
    "linear",         linear_predict, linear_predict_margin,
    linear_attribute, linear_to_json, linear_free,
};
static const gb_model_ops LOGISTIC_OPS = {
    "logistic",       linear_predict, linear_predict_margin,
    linear_attribute, linear_to_json, linear_free,
};

int gb_linear_is_model(const gb_model *m)
{
    return m != NULL && (m->ops == &LINEAR_OPS || m->ops == &LOGISTIC_OPS);
}

/* ---- the objective, in row blocks
 * ------------------------------------------------------ */

typedef struct fit_ctx {
    const gb_linear *lm;
    const gb_train_set *ts;
    const double *target; /* regression: n_rows targets */
    size_t n_marg, n_cols, n_theta;
    size_t block_rows, n_blocks, n_chunks, blocks_per_chunk;
    size_t scratch_stride; /* doubles of scratch per chunk */
    double *scratch;       /* n_chunks x scratch_stride */
    double *partial;       /* n_chunks x (n_theta + 1): gradient sums, loss sum */
    const double *theta;   /* the point being evaluated */
    double l2;
    double entropy; /* sum over rows of sum_k q log q (soft targets) */
} fit_ctx;

static double xlogx(double q)
{
    return q > 0.0 ? q * log(q) : 0.0;
}

/* Loss of the rows of one block; overwrites M (n x K margins) with the
 * residuals dLoss/dmargin. */
static double block_residuals(const fit_ctx *c, size_t r0, size_t n, double *M,
                              double *tmp)
{
    const gb_train_set *ts = c->ts;
    double alpha = ts->alpha, T = ts->temperature, loss = 0.0;
    size_t K = c->n_marg;
    if (c->target != NULL) {
        for (size_t i = 0; i < n; i++) {
            double r = M[i] - c->target[r0 + i];
            loss += 0.5 * r * r;
            M[i] = r;
        }
        return loss;
    }
    if (K == 1) {
        /* softplus(u) = max(u, 0) + log(1 + e), softplus(-u) = softplus(u) - u,
         * sigmoid(u) from the same e = exp(-|u|): one exp and one log per row.
         * log(1 + e) instead of log1p(e): e <= 1, so the absolute error stays
         * below 2.3e-16 (what a mean of losses sees), at a third of the cost. */
        for (size_t i = 0; i < n; i++) {
            size_t row = r0 + i;
            double z = M[i], r = 0.0, li = 0.0;
            double e = exp(-fabs(z)), sp = fmax(z, 0.0) + log(1.0 + e);
            double sig = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            if (alpha > 0.0) {
                int y = ts->y_class[row] == 1;
                li += alpha * (y ? sp - z : sp);
                r += alpha * (sig - (y ? 1.0 : 0.0));
            }
            if (alpha < 1.0) {
                double q0 = ts->soft[2 * row], q1 = ts->soft[2 * row + 1];
                double spt = sp, sigt = sig, zt = z;
                if (T != 1.0) {
                    zt = z / T;
                    double et = exp(-fabs(zt));
                    spt = fmax(zt, 0.0) + log(1.0 + et);
                    sigt = zt >= 0.0 ? 1.0 / (1.0 + et) : et / (1.0 + et);
                }
                /* cross-entropy part of the KL; the entropy of q is added
                 * once per fit (c->entropy) */
                li += (1.0 - alpha) * T * T * (q0 * spt + q1 * (spt - zt));
                r += (1.0 - alpha) * T * (sigt - q1);
            }
            loss += li;
            M[i] = r;
        }
        return loss;
    }
    for (size_t i = 0; i < n; i++) {
        size_t row = r0 + i;
        double *m = M + i * K, mx = m[0], li = 0.0;
        for (size_t k = 1; k < K; k++)
            if (m[k] > mx)
                mx = m[k];
        /* p = softmax(m); pt = softmax(m / T), the same array when T = 1
         * (or unused when alpha = 1). */
        int tempered = alpha < 1.0 && T != 1.0;
        double *p = tmp, *pt = tempered ? tmp + K : tmp;
        double sum = 0.0, sumt = 0.0;
        for (size_t k = 0; k < K; k++) {
            p[k] = exp(m[k] - mx);
            sum += p[k];
        }
        if (tempered) {
            for (size_t k = 0; k < K; k++) {
                pt[k] = exp((m[k] - mx) / T);
                sumt += pt[k];
            }
        }
        double lse = mx + log(sum);
        double lset = tempered ? mx / T + log(sumt) : lse;
        for (size_t k = 0; k < K; k++)
            p[k] /= sum;
        if (tempered) {
            for (size_t k = 0; k < K; k++)
                pt[k] /= sumt;
        }
        if (alpha > 0.0) {
            size_t y = (size_t)ts->y_class[row];
            li += alpha * (lse - m[y]);
        }
        if (alpha < 1.0) {
            const double *q = ts->soft + row * K;
            double kl = 0.0; /* cross-entropy part; entropy in c->entropy */
            for (size_t k = 0; k < K; k++)
                kl -= q[k] * (m[k] / T - lset);
            li += (1.0 - alpha) * T * T * kl;
        }
        for (size_t k = 0; k < K; k++) {
            double r = 0.0;
            if (alpha > 0.0)
                r += alpha * (p[k] - (ts->y_class[row] == (int32_t)k ? 1.0 : 0.0));
            if (alpha < 1.0)
                r += (1.0 - alpha) * T * (pt[k] - ts->soft[row * K + k]);
            m[k] = r;
        }
        loss += li;
    }
    return loss;
}

/* One chunk of consecutive blocks: gradient sums and loss sum into its
 * partial slot (in row order, so the result depends only on the chunk). */
static void chunk_eval_cb(void *vctx, size_t chunk)
{
    const fit_ctx *c = vctx;
    const gb_linear *lm = c->lm;
    size_t K = c->n_marg, P = c->n_cols, B = c->block_rows;
    double *Z = c->scratch + chunk * c->scratch_stride;
    double *M = Z + B * (P ? P : 1);
    double *tmp = M + B * K;
    double *G = c->partial + chunk * (c->n_theta + 1);
    double *gb = G + K * P;
    const double *W = c->theta, *b = c->theta + K * P;
    memset(G, 0, (c->n_theta + 1) * sizeof *G);
    size_t first = chunk * c->blocks_per_chunk;
    size_t last = first + c->blocks_per_chunk;
    if (last > c->n_blocks)
        last = c->n_blocks;
    double loss = 0.0;
    for (size_t blk = first; blk < last; blk++) {
        size_t r0 = blk * B;
        size_t n = c->ts->n_rows - r0 < B ? c->ts->n_rows - r0 : B;
        standardise_block(lm, c->ts->X + r0 * lm->n_in, n, Z, lm->n_ind == 0);
        margins_block(W, b, K, P, Z, n, M);
        loss += block_residuals(c, r0, n, M, tmp);
        if (P > 0) {
            if (K == 1)
                cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)P, 1.0, Z, (int)P,
                            M, 1, 1.0, G, 1);
            else
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)P,
                            (int)n, 1.0, M, (int)K, Z, (int)P, 1.0, G, (int)P);
        }
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < K; k++)
                gb[k] += M[i * K + k];
    }
    G[c->n_theta] = loss;
}

static double objective_cb(void *vctx, const double *theta, double *grad)
{
    fit_ctx *c = vctx;
    c->theta = theta;
    gb_parallel_for(c->n_chunks, c->ts->n_threads, chunk_eval_cb, c);
    size_t nt = c->n_theta;
    memset(grad, 0, nt * sizeof *grad);
    double loss = 0.0;
    for (size_t ch = 0; ch < c->n_chunks; ch++) {
        const double *part = c->partial + ch * (nt + 1);
        for (size_t i = 0; i < nt; i++)
            grad[i] += part[i];
        loss += part[nt];
    }
    double inv_n = 1.0 / (double)c->ts->n_rows, pen = 0.0;
    for (size_t i = 0; i < nt; i++)
        grad[i] *= inv_n;
    size_t nw = c->n_marg * c->n_cols;
    for (size_t i = 0; i < nw; i++) {
        pen += theta[i] * theta[i];
        grad[i] += c->l2 * theta[i];
    }
    if (c->target == NULL && c->ts->alpha < 1.0) {
        double T = c->ts->temperature;
        loss += (1.0 - c->ts->alpha) * T * T * c->entropy;
    }
    return loss * inv_n + 0.5 * c->l2 * pen;
}

/* ---- regression by the normal equations
 * ------------------------------------------------ */

typedef struct gram_ctx {
    const fit_ctx *fc;
    double *partial; /* n_chunks x (P*P + P) */
    double tbar;
} gram_ctx;

static void chunk_gram_cb(void *vctx, size_t chunk)
{
    const gram_ctx *g = vctx;
    const fit_ctx *c = g->fc;
    size_t P = c->n_cols, B = c->block_rows;
    double *Z = c->scratch + chunk * c->scratch_stride;
    double *t = Z + B * P;
    double *A = g->partial + chunk * (P * P + P), *rhs = A + P * P;
    memset(A, 0, (P * P + P) * sizeof *A);
    size_t first = chunk * c->blocks_per_chunk;
    size_t last = first + c->blocks_per_chunk;
    if (last > c->n_blocks)
        last = c->n_blocks;
    for (size_t blk = first; blk < last; blk++) {
        size_t r0 = blk * B;
        size_t n = c->ts->n_rows - r0 < B ? c->ts->n_rows - r0 : B;
        standardise_block(c->lm, c->ts->X + r0 * c->lm->n_in, n, Z, c->lm->n_ind == 0);
        for (size_t i = 0; i < n; i++)
            t[i] = c->target[r0 + i] - g->tbar;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)P, (int)n, 1.0, Z,
                    (int)P, 1.0, A, (int)P);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)P, 1.0, Z, (int)P, t, 1,
                    1.0, rhs, 1);
    }
}

/* Solves the SPD system A w = rhs in place (upper triangle of A used,
 * overwritten).  Returns 0 when A is not numerically positive definite. */
static int cholesky_solve(double *A, size_t P, double *rhs)
{
    double maxdiag = 0.0;
    for (size_t i = 0; i < P; i++)
        maxdiag = fmax(maxdiag, A[i * P + i]);
    for (size_t j = 0; j < P; j++) {
        double d = A[j * P + j];
        for (size_t k = 0; k < j; k++)
            d -= A[k * P + j] * A[k * P + j];
        if (!(d > 1e-12 * maxdiag) || !(d > 0.0))
            return 0;
        d = sqrt(d);
        A[j * P + j] = d;
        for (size_t i = j + 1; i < P; i++) {
            double s = A[j * P + i];
            for (size_t k = 0; k < j; k++)
                s -= A[k * P + j] * A[k * P + i];
            A[j * P + i] = s / d;
        }
    }
    /* R' y = rhs, then R w = y (R upper, A = R'R). */
    for (size_t i = 0; i < P; i++) {
        double s = rhs[i];
        for (size_t k = 0; k < i; k++)
            s -= A[k * P + i] * rhs[k];
        rhs[i] = s / A[i * P + i];
    }
    for (size_t i = P; i-- > 0;) {
        double s = rhs[i];
        for (size_t k = i + 1; k < P; k++)
            s -= A[i * P + k] * rhs[k];
        rhs[i] = s / A[i * P + i];
    }
    return 1;
}

/* Returns GB_OK with *solved = 1 and theta filled, or *solved = 0 when the
 * system is singular (the caller falls back to L-BFGS). */
static gb_status fit_normal_equations(fit_ctx *c, double *theta, int *solved,
                                      gb_error *err)
{
    size_t P = c->n_cols, n = c->ts->n_rows;
    gram_ctx g = {c, NULL, 0.0};
    for (size_t i = 0; i < n; i++)
        g.tbar += c->target[i];
    g.tbar /= (double)n;
    *solved = 0;
    if (P == 0) { /* no columns: the intercept is the mean target */
        theta[0] = g.tbar;
        *solved = 1;
        return GB_OK;
    }
    g.partial = gb_malloc_array(c->n_chunks, (P * P + P) * sizeof(double));
    double *A = gb_malloc_array(P * P + P, sizeof(double));
    if (g.partial == NULL || A == NULL) {
        gb_free(g.partial);
        gb_free(A);
        return gb_error_set(err, GB_ENOMEM, "out of memory for the normal equations");
    }
    gb_parallel_for(c->n_chunks, c->ts->n_threads, chunk_gram_cb, &g);
    memset(A, 0, (P * P + P) * sizeof *A);
    for (size_t ch = 0; ch < c->n_chunks; ch++)
        for (size_t i = 0; i < P * P + P; i++)
            A[i] += g.partial[ch * (P * P + P) + i];
    double *rhs = A + P * P;
    for (size_t i = 0; i < P * P + P; i++)
        A[i] /= (double)n;
    for (size_t i = 0; i < P; i++)
        A[i * P + i] += c->l2;
    if (cholesky_solve(A, P, rhs)) {
        memcpy(theta, rhs, P * sizeof *theta);
        theta[P] = g.tbar;
        *solved = 1;
    }
    gb_free(A);
    gb_free(g.partial);
    return GB_OK;
}

/* ---- fitting
 * ---------------------------------------------------------------------------- */

static gb_status check_train_set(int is_logistic, const gb_train_set *ts, gb_error *err)
{
    if (ts->n_rows == 0)
        return gb_error_set(err, GB_EUNUSABLE, "no training rows");
    if (!(ts->alpha >= 0.0 && ts->alpha <= 1.0))
        return gb_error_set(err, GB_EUNUSABLE, "alpha must be in [0, 1], got %g",
                            ts->alpha);
    if (ts->soft != NULL && !(ts->temperature > 0.0 && isfinite(ts->temperature)))
        return gb_error_set(err, GB_EUNUSABLE, "temperature must be > 0, got %g",
                            ts->temperature);
    if (ts->alpha < 1.0 && ts->soft == NULL)
        return gb_error_set(err, GB_EUNUSABLE,
                            "alpha < 1 needs the teacher's soft targets");
    for (size_t j = 0; j < ts->n_features; j++) {
        if (ts->features[j].kind != GB_FEAT_NUMERIC) {
            gb_error_set(err, GB_EUNUSABLE,
                         "feature '%s' is categorical: the %s student needs one-hot "
                         "columns",
                         ts->features[j].name, is_logistic ? "logistic" : "linear");
            gb_error_field(err, ts->features[j].name);
            return GB_EUNUSABLE;
        }
    }
    if (is_logistic) {
        if (ts->n_classes < 2)
            return gb_error_set(err, GB_EUNUSABLE, "classification needs >= 2 classes");
        if ((ts->task == GB_TASK_BINARY) != (ts->n_classes == 2))
            return gb_error_set(err, GB_EUNUSABLE, "task and class count disagree");
        if (ts->alpha > 0.0) {
            if (ts->y_class == NULL)
                return gb_error_set(err, GB_EUNUSABLE, "alpha > 0 needs class labels");
            for (size_t i = 0; i < ts->n_rows; i++)
                if (ts->y_class[i] < 0 || (size_t)ts->y_class[i] >= ts->n_classes)
                    return gb_error_at(err, GB_EUNUSABLE, (long)i + 1, 0,
                                       "class label %d out of range on row %zu",
                                       (int)ts->y_class[i], i + 1);
        }
        if (ts->alpha < 1.0) {
            for (size_t i = 0; i < ts->n_rows * ts->n_classes; i++)
                if (!(ts->soft[i] >= 0.0 && ts->soft[i] <= 1.0))
                    return gb_error_at(err, GB_EUNUSABLE, (long)(i / ts->n_classes) + 1,
                                       0, "soft target outside [0, 1] on row %zu",
                                       i / ts->n_classes + 1);
        }
    } else {
        if (ts->alpha > 0.0 && ts->y_value == NULL)
            return gb_error_set(err, GB_EUNUSABLE, "alpha > 0 needs target values");
        for (size_t i = 0; i < ts->n_rows; i++) {
            double t = (ts->alpha > 0.0 ? ts->y_value[i] : 0.0) +
                       (ts->alpha < 1.0 ? ts->soft[i] : 0.0);
            if (!isfinite(t))
                return gb_error_at(err, GB_EUNUSABLE, (long)i + 1, 0,
                                   "target is not finite on row %zu", i + 1);
        }
    }
    return GB_OK;
}

/* Column statistics over fixed row chunks (combined in chunk order, so the
 * result does not depend on the thread count). */
typedef struct stats_ctx {
    const gb_train_set *ts;
    size_t n_chunks, rows_per_chunk;
    double *sum, *ssq, *fmin, *fmax; /* n_chunks x p each: mean, M2, range */
    double *scratch;                 /* n_chunks x 2p: a sub-block's sums */
    size_t *count, *bcount;          /* n_chunks x p */
    size_t *first_inf;               /* n_chunks: row * p + col + 1, 0 = none */
} stats_ctx;

/* One read of the chunk's rows: in sub-blocks of 1024 rows (cache-resident),
 * count, sum, range and the block's sum of squared deviations, merged into
 * the chunk's running mean and M2 (Chan et al.'s pairwise update). */
static void stats_chunk_cb(void *vctx, size_t chunk)
{
    stats_ctx *c = vctx;
    size_t p = c->ts->n_features, r0 = chunk * c->rows_per_chunk;
    size_t r1 =
        r0 + c->rows_per_chunk < c->ts->n_rows ? r0 + c->rows_per_chunk : c->ts->n_rows;
    double *mean = c->sum + chunk * p, *m2 = c->ssq + chunk * p;
    double *fmin = c->fmin + chunk * p, *fmax = c->fmax + chunk * p;
    double *bsum = c->scratch + chunk * 2 * p, *bm2 = bsum + p;
    size_t *count = c->count + chunk * p, *bcount = c->bcount + chunk * p;
    for (size_t j = 0; j < p; j++) {
        mean[j] = 0.0;
        m2[j] = 0.0;
        count[j] = 0;
        fmin[j] = INFINITY;
        fmax[j] = -INFINITY;
    }
    c->first_inf[chunk] = 0;
    for (size_t b0 = r0; b0 < r1; b0 += 1024) {
        size_t b1 = b0 + 1024 < r1 ? b0 + 1024 : r1;
        for (size_t j = 0; j < p; j++) {
            bsum[j] = 0.0;
            bm2[j] = 0.0;
            bcount[j] = 0;
        }
        for (size_t i = b0; i < b1; i++) {
            const double *x = c->ts->X + i * p;
            for (size_t j = 0; j < p; j++) {
                double v = x[j];
                if (isnan(v))
                    continue;
                if (isinf(v)) {
                    if (c->first_inf[chunk] == 0)
                        c->first_inf[chunk] = i * p + j + 1;
                    continue;
                }
                bsum[j] += v;
                bcount[j]++;
                fmin[j] = v < fmin[j] ? v : fmin[j];
                fmax[j] = v > fmax[j] ? v : fmax[j];
            }
        }
        for (size_t j = 0; j < p; j++)
            bsum[j] =
                bcount[j] > 0 ? bsum[j] / (double)bcount[j] : 0.0; /* block mean */
        for (size_t i = b0; i < b1; i++) {
            const double *x = c->ts->X + i * p;
            for (size_t j = 0; j < p; j++) {
                double d = x[j] - bsum[j];
                if (isfinite(d))
                    bm2[j] += d * d;
            }
        }
        for (size_t j = 0; j < p; j++) {
            if (bcount[j] == 0)
                continue;
            double na = (double)count[j], nb = (double)bcount[j], nt = na + nb;
            double delta = bsum[j] - mean[j];
            mean[j] += delta * nb / nt;
            m2[j] += bm2[j] + delta * delta * na * nb / nt;
            count[j] += bcount[j];
        }
    }
}

/* Nonzero when features j0 < j are one-hot columns of one input: names
 * "col=..." with the same col, missing on the same training rows. */
static int same_onehot_column(const gb_train_set *ts, size_t j0, size_t j)
{
    const char *a = ts->features[j0].name, *b = ts->features[j].name;
    const char *eq = strchr(a, '=');
    if (eq == NULL || eq == a || strncmp(a, b, (size_t)(eq - a) + 1) != 0)
        return 0;
    size_t p = ts->n_features;
    for (size_t i = 0; i < ts->n_rows; i++)
        if (isnan(ts->X[i * p + j0]) != isnan(ts->X[i * p + j]))
            return 0;
    return 1;
}

/* Means, scales, ranges and missing indicators from the training rows. */
static gb_status fit_preprocessing(gb_linear *lm, const gb_train_set *ts, gb_error *err)
{
    size_t n = ts->n_rows, p = ts->n_features, pp = p ? p : 1;
    gb_status rc = GB_OK;
    stats_ctx c;
    memset(&c, 0, sizeof c);
    double *mean = NULL, *ssq = NULL;
    size_t *count = NULL;
    long *share_of = NULL; /* the feature whose indicator j shares, or -1 */
    c.ts = ts;
    c.n_chunks = (n + 1023) / 1024 < LINEAR_CHUNKS ? (n + 1023) / 1024 : LINEAR_CHUNKS;
    c.rows_per_chunk = (n + c.n_chunks - 1) / c.n_chunks;
    c.sum = gb_malloc_array(c.n_chunks * pp, sizeof *c.sum);
    c.ssq = gb_malloc_array(c.n_chunks * pp, sizeof *c.ssq);
    c.fmin = gb_malloc_array(c.n_chunks * pp, sizeof *c.fmin);
    c.fmax = gb_malloc_array(c.n_chunks * pp, sizeof *c.fmax);
    c.count = gb_malloc_array(c.n_chunks * pp, sizeof *c.count);
    c.bcount = gb_malloc_array(c.n_chunks * pp, sizeof *c.bcount);
    c.scratch = gb_malloc_array(c.n_chunks * 2 * pp, sizeof *c.scratch);
    c.first_inf = gb_malloc_array(c.n_chunks, sizeof *c.first_inf);
    mean = gb_calloc(pp, sizeof *mean);
    ssq = gb_calloc(pp, sizeof *ssq);
    count = gb_calloc(pp, sizeof *count);
    if (!c.sum || !c.ssq || !c.fmin || !c.fmax || !c.count || !c.bcount || !c.scratch ||
        !c.first_inf || !mean || !ssq || !count) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory for feature statistics");
        goto out;
    }
    gb_parallel_for(c.n_chunks, ts->n_threads, stats_chunk_cb, &c);
    for (size_t ch = 0; ch < c.n_chunks; ch++) {
        if (c.first_inf[ch] != 0) {
            size_t at = c.first_inf[ch] - 1, i = at / pp, j = at % pp;
            rc = gb_error_at(err, GB_EUNUSABLE, (long)i + 1, (long)j + 1,
                             "feature '%s' is infinite on row %zu",
                             ts->features[j].name, i + 1);
            gb_error_field(err, ts->features[j].name);
            goto out;
        }
    }
    /* Merge the chunks in order (same pairwise update). */
    size_t n_ind = 0;
    for (size_t j = 0; j < p; j++) {
        for (size_t ch = 0; ch < c.n_chunks; ch++) {
            size_t nb_count = c.count[ch * p + j];
            if (nb_count == 0)
                continue;
            double na = (double)count[j], nb = (double)nb_count, nt = na + nb;
            double delta = c.sum[ch * p + j] - mean[j];
            mean[j] += delta * nb / nt;
            ssq[j] += c.ssq[ch * p + j] + delta * delta * na * nb / nt;
            count[j] += nb_count;
        }
    }
    /* One indicator per categorical input: its one-hot columns ("col=level")
     * are missing together, and identical indicator columns would only
     * split one weight among them. */
    share_of = gb_malloc_array(pp, sizeof *share_of);
    if (share_of == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory for feature statistics");
        goto out;
    }
    for (size_t j = 0; j < p; j++) {
        share_of[j] = -1;
        if (count[j] == n)
            continue;
        for (size_t j0 = 0; j0 < j && share_of[j] < 0; j0++)
            if (count[j0] < n && share_of[j0] < 0 && same_onehot_column(ts, j0, j))
                share_of[j] = (long)j0;
        n_ind += share_of[j] < 0;
    }

    lm->n_in = p;
    lm->n_ind = n_ind;
    rc = linear_alloc(lm, err);
    if (rc != GB_OK)
        goto out;
    size_t m = 0;
    for (size_t j = 0; j < p; j++) {
        double lo = INFINITY, hi = -INFINITY, sq = ssq[j];
        for (size_t ch = 0; ch < c.n_chunks; ch++) {
            lo = fmin(lo, c.fmin[ch * p + j]);
            hi = fmax(hi, c.fmax[ch * p + j]);
        }
        lm->mean[j] = mean[j];
        lm->fmin[j] = count[j] > 0 ? lo : NAN;
        lm->fmax[j] = count[j] > 0 ? hi : NAN;
        double sd = count[j] > 0 ? sqrt(sq / (double)count[j]) : 0.0;
        lm->scale[j] = sd > 0.0 ? sd : 1.0;
        if (share_of[j] >= 0) {
            long ind = lm->ind_of[share_of[j]];
            lm->ind_of[j] = ind;
            lm->ind_share[ind]++;
        } else if (count[j] < n) {
            size_t col = p + m;
            double rate = (double)(n - count[j]) / (double)n;
            double isd = sqrt(rate * (1.0 - rate));
            lm->ind_src[m] = j;
            lm->ind_of[j] = (long)m;
            lm->ind_share[m] = 1;
            lm->mean[col] = rate;
            lm->scale[col] = isd > 0.0 ? isd : 1.0;
            m++;
        }
    }
    for (size_t col = 0; col < lm->n_cols; col++)
        lm->inv_scale[col] = 1.0 / lm->scale[col];
out:
    gb_free(share_of);
    gb_free(count);
    gb_free(ssq);
    gb_free(mean);
    gb_free(c.first_inf);
    gb_free(c.scratch);
    gb_free(c.bcount);
    gb_free(c.count);
    gb_free(c.fmax);
    gb_free(c.fmin);
    gb_free(c.ssq);
    gb_free(c.sum);
    return rc;
}

gb_status gb_linear_fit(const char *kind, const gb_param *params, size_t n_params,
                        const gb_train_set *ts, const gb_progress *progress,
                        gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    gb_linear *lm = NULL;
    double *theta = NULL, *target = NULL;
    unsigned char *mask = NULL;
    fit_ctx c;
    memset(&c, 0, sizeof c);
    int is_logistic = 0;
    linear_params lp;

    *out = NULL;
    rc = kind_check(kind, ts->task, &is_logistic, err);
    if (rc != GB_OK)
        return rc;
    rc = params_parse(is_logistic, params, n_params, &lp, err);
    if (rc != GB_OK)
        return rc;
    rc = check_train_set(is_logistic, ts, err);
    if (rc != GB_OK)
        return rc;
    if (gb_progress_cancelled(progress))
        return gb_error_set(err, GB_ECANCELLED, "cancelled");

    lm = gb_calloc(1, sizeof *lm);
    if (lm == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory for a linear student");
    lm->is_logistic = is_logistic;
    lm->params = lp;
    lm->temperature = ts->soft != NULL ? ts->temperature : 1.0;
    lm->alpha = ts->alpha;
    lm->n_marg = ts->task == GB_TASK_MULTICLASS ? ts->n_classes : 1;
    rc = fit_preprocessing(lm, ts, err);
    if (rc != GB_OK)
        goto fail;
    gb_progress_report(progress, "fit", 0.0);

    c.lm = lm;
    c.ts = ts;
    c.n_marg = lm->n_marg;
    c.n_cols = lm->n_cols;
    c.n_theta = lm->n_marg * (lm->n_cols + 1);
    c.l2 = lp.l2;
    c.block_rows = block_rows_for(lm->n_cols);
    c.n_blocks = (ts->n_rows + c.block_rows - 1) / c.block_rows;
    c.n_chunks = c.n_blocks < LINEAR_CHUNKS ? c.n_blocks : LINEAR_CHUNKS;
    c.blocks_per_chunk = (c.n_blocks + c.n_chunks - 1) / c.n_chunks;
    c.n_chunks = (c.n_blocks + c.blocks_per_chunk - 1) / c.blocks_per_chunk;
    c.scratch_stride =
        c.block_rows * ((lm->n_cols ? lm->n_cols : 1) + lm->n_marg) + 2 * lm->n_marg;
    c.scratch = gb_malloc_array(c.n_chunks, c.scratch_stride * sizeof(double));
    c.partial = gb_malloc_array(c.n_chunks, (c.n_theta + 1) * sizeof(double));
    theta = gb_calloc(c.n_theta, sizeof *theta);
    mask = gb_calloc(c.n_theta, 1);
    if (c.scratch == NULL || c.partial == NULL || theta == NULL || mask == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory fitting a linear student");
        goto fail;
    }
    memset(mask, 1, lm->n_marg * lm->n_cols);
    if (!is_logistic) {
        target = gb_malloc_array(ts->n_rows, sizeof *target);
        if (target == NULL) {
            rc = gb_error_set(err, GB_ENOMEM, "out of memory fitting a linear student");
            goto fail;
        }
        for (size_t i = 0; i < ts->n_rows; i++)
            target[i] = (ts->alpha > 0.0 ? ts->alpha * ts->y_value[i] : 0.0) +
                        (ts->alpha < 1.0 ? (1.0 - ts->alpha) * ts->soft[i] : 0.0);
        c.target = target;
    }

    if (is_logistic && ts->alpha < 1.0) {
        for (size_t i = 0; i < ts->n_rows * ts->n_classes; i++)
            c.entropy += xlogx(ts->soft[i]);
    }

    int solved = 0;
    if (!is_logistic && lp.l1 == 0.0 && lm->n_cols <= LINEAR_MAX_CHOLESKY_COLS) {
        rc = fit_normal_equations(&c, theta, &solved, err);
        if (rc != GB_OK)
            goto fail;
        if (solved) {
            lm->n_iter = 0;
            snprintf(lm->stop, sizeof lm->stop, "%s", "exact");
            double *g = gb_malloc_array(c.n_theta, sizeof *g);
            if (g == NULL) {
                rc = gb_error_set(err, GB_ENOMEM,
                                  "out of memory fitting a linear student");
                goto fail;
            }
            lm->loss = objective_cb(&c, theta, g);
            gb_free(g);
        }
    }
    if (!solved) {
        gb_lbfgs_params op;
        gb_lbfgs_params_init(&op);
        op.max_iter = (size_t)lp.max_iter;
        op.gtol = lp.tol;
        op.ftol = 0.0; /* tol decides; rounding stalls end as no_progress */
        op.l1 = lp.l1;
        op.l1_mask = mask;
        gb_lbfgs_result res;
        rc = gb_lbfgs_minimize(c.n_theta, theta, objective_cb, &c, &op, progress, &res,
                               err);
        if (rc != GB_OK)
            goto fail;
        lm->n_iter = (long)res.n_iter;
        snprintf(lm->stop, sizeof lm->stop, "%s", gb_lbfgs_stop_name(res.stop));
        lm->loss = res.f;
    }
    memcpy(lm->coef, theta, lm->n_marg * lm->n_cols * sizeof *theta);
    memcpy(lm->intercept, theta + lm->n_marg * lm->n_cols, lm->n_marg * sizeof *theta);
    gb_progress_report(progress, "fit", 1.0);

    gb_model *model =
        gb_model_create(is_logistic ? &LOGISTIC_OPS : &LINEAR_OPS, lm, ts->task,
                        ts->features, ts->n_features, ts->classes, ts->n_classes, err);
    lm = NULL; /* owned by the model, or freed by gb_model_create on error */
    if (model == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto fail;
    }
    *out = model;
    rc = GB_OK;
    goto done;

fail:
    linear_free(lm);
done:
    gb_free(target);
    gb_free(mask);
    gb_free(theta);
    gb_free(c.partial);
    gb_free(c.scratch);
    return rc;
}

/* ---- reading an artifact back
 * -------------------------------------------------------- */

static gb_status json_margin_values(const cJSON *item, const char *path, size_t K,
                                    double *out, gb_error *err)
{
    if (K == 1 && cJSON_IsNumber(item)) {
        out[0] = item->valuedouble;
        return GB_OK;
    }
    if (K > 1 && cJSON_IsArray(item) && (size_t)cJSON_GetArraySize(item) == K) {
        size_t k = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, item)
        {
            if (!cJSON_IsNumber(v))
                break;
            out[k++] = v->valuedouble;
        }
        if (k == K)
            return GB_OK;
    }
    gb_error_set(err, GB_EUNUSABLE, "%s must be %s", path,
                 K == 1 ? "a number" : "an array of one number per class");
    gb_error_field(err, path);
    return GB_EUNUSABLE;
}

static double json_number_or_nan(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static gb_status json_positive(const cJSON *obj, const char *path, const char *key,
                               double *out, gb_error *err)
{
    gb_status rc = gb_json_get_number(obj, path, key, out, err);
    if (rc == GB_OK && !(*out > 0.0 && isfinite(*out))) {
        gb_error_set(err, GB_EUNUSABLE, "%s.%s must be a positive number", path, key);
        char field[128];
        snprintf(field, sizeof field, "%s.%s", path, key);
        gb_error_field(err, field);
        return GB_EUNUSABLE;
    }
    return rc;
}

gb_status gb_linear_from_json(const cJSON *artifact, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    gb_linear *lm = NULL;
    char **classes = NULL, **names = NULL;
    size_t n_classes = 0, n_names = 0;
    gb_feature *features = NULL;
    const char *s = NULL;
    const cJSON *arr = NULL, *obj = NULL;
    gb_task task = GB_TASK_AUTO;
    double v = 0.0;

    *out = NULL;
    if ((rc = gb_json_get_string(artifact, "artifact", "format", &s, err)) != GB_OK)
        return rc;
    if (strcmp(s, "glassbox-student") != 0) {
        gb_error_set(err, GB_EUNUSABLE, "artifact.format must be 'glassbox-student'");
        gb_error_field(err, "artifact.format");
        return GB_EUNUSABLE;
    }
    if ((rc = gb_json_get_number(artifact, "artifact", "version", &v, err)) != GB_OK)
        return rc;
    if (v != 1.0) {
        gb_error_set(err, GB_EUNUSABLE, "artifact.version %g is not supported (1)", v);
        gb_error_field(err, "artifact.version");
        return GB_EUNUSABLE;
    }
    if ((rc = gb_json_get_string(artifact, "artifact", "type", &s, err)) != GB_OK)
        return rc;
    if (!gb_linear_is_kind(s)) {
        gb_error_set(err, GB_EUNUSABLE, "artifact.type '%s' is not logistic or linear",
                     s);
        gb_error_field(err, "artifact.type");
        return GB_EUNUSABLE;
    }
    int is_logistic = strcmp(s, "logistic") == 0;
    if ((rc = gb_json_get_string(artifact, "artifact", "task", &s, err)) != GB_OK)
        return rc;
    if (gb_task_parse(s, &task, err) != GB_OK || task == GB_TASK_AUTO) {
        gb_error_set(err, GB_EUNUSABLE, "artifact.task '%s' is not a task", s);
        gb_error_field(err, "artifact.task");
        return GB_EUNUSABLE;
    }
    int dummy;
    if ((rc = kind_check(is_logistic ? "logistic" : "linear", task, &dummy, err)) !=
        GB_OK)
        return rc;
    if (task != GB_TASK_REGRESSION) {
        if ((rc = gb_json_get_array(artifact, "artifact", "classes", &arr, err)) !=
            GB_OK)
            return rc;
        if ((rc = gb_json_string_array(arr, "artifact.classes", GB_MAX_CLASSES,
                                       &classes, &n_classes, err)) != GB_OK)
            return rc;
        if (n_classes < 2 || (task == GB_TASK_BINARY) != (n_classes == 2)) {
            rc = gb_error_set(err, GB_EUNUSABLE,
                              "artifact.classes does not fit the task");
            gb_error_field(err, "artifact.classes");
            goto fail;
        }
    }
    if ((rc = gb_json_get_array(artifact, "artifact", "features", &arr, err)) != GB_OK)
        goto fail;
    if ((rc = gb_json_string_array(arr, "artifact.features", GB_MAX_COLUMNS * 1000,
                                   &names, &n_names, err)) != GB_OK)
        goto fail;

    lm = gb_calloc(1, sizeof *lm);
    features = gb_calloc(n_names ? n_names : 1, sizeof *features);
    if (lm == NULL || features == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading an artifact");
        goto fail;
    }
    for (size_t j = 0; j < n_names; j++) {
        features[j].name = names[j];
        features[j].kind = GB_FEAT_NUMERIC;
    }
    lm->is_logistic = is_logistic;
    lm->n_marg = task == GB_TASK_MULTICLASS ? n_classes : 1;
    lm->n_in = n_names;

    const cJSON *inds = NULL, *coefs = NULL;
    if ((rc = gb_json_get_array(artifact, "artifact", "missing_indicators", &inds,
                                err)) != GB_OK)
        goto fail;
    lm->n_ind = (size_t)cJSON_GetArraySize(inds);
    if (lm->n_ind > lm->n_in) {
        rc = gb_error_set(err, GB_EUNUSABLE,
                          "artifact has more indicators than features");
        gb_error_field(err, "artifact.missing_indicators");
        goto fail;
    }
    if ((rc = linear_alloc(lm, err)) != GB_OK)
        goto fail;

    params_default(&lm->params);
    if ((rc = gb_json_get_object(artifact, "artifact", "params", &obj, err)) != GB_OK)
        goto fail;
    {
        double l2, l1, tol, mi;
        if ((rc = gb_json_get_number(obj, "artifact.params", "l2", &l2, err)) !=
                GB_OK ||
            (rc = gb_json_get_number(obj, "artifact.params", "l1", &l1, err)) !=
                GB_OK ||
            (rc = gb_json_get_number(obj, "artifact.params", "tol", &tol, err)) !=
                GB_OK ||
            (rc = gb_json_get_number(obj, "artifact.params", "max_iter", &mi, err)) !=
                GB_OK)
            goto fail;
        lm->params.l2 = l2;
        lm->params.l1 = l1;
        lm->params.tol = tol;
        lm->params.max_iter = (long)mi;
        if (is_logistic) {
            if ((rc = json_positive(obj, "artifact.params", "pdo", &lm->params.pdo,
                                    err)) != GB_OK ||
                (rc = gb_json_get_number(obj, "artifact.params", "base_score",
                                         &lm->params.base_score, err)) != GB_OK ||
                (rc = json_positive(obj, "artifact.params", "base_odds",
                                    &lm->params.base_odds, err)) != GB_OK)
                goto fail;
        }
    }
    if ((rc = gb_json_get_object(artifact, "artifact", "distillation", &obj, err)) !=
            GB_OK ||
        (rc = gb_json_get_number(obj, "artifact.distillation", "temperature",
                                 &lm->temperature, err)) != GB_OK ||
        (rc = gb_json_get_number(obj, "artifact.distillation", "alpha", &lm->alpha,
                                 err)) != GB_OK)
        goto fail;
    if ((rc = gb_json_get_object(artifact, "artifact", "fit", &obj, err)) != GB_OK ||
        (rc = gb_json_get_number(obj, "artifact.fit", "iterations", &v, err)) !=
            GB_OK ||
        (rc = gb_json_get_string(obj, "artifact.fit", "stop", &s, err)) != GB_OK)
        goto fail;
    lm->n_iter = (long)v;
    snprintf(lm->stop, sizeof lm->stop, "%s", s);
    lm->loss = json_number_or_nan(obj, "loss");

    if ((rc = json_margin_values(
             cJSON_GetObjectItemCaseSensitive(artifact, "intercept_std"),
             "artifact.intercept_std", lm->n_marg, lm->intercept, err)) != GB_OK)
        goto fail;
    if ((rc = gb_json_get_array(artifact, "artifact", "coefficients", &coefs, err)) !=
        GB_OK)
        goto fail;
    if ((size_t)cJSON_GetArraySize(coefs) != lm->n_in) {
        rc = gb_error_set(err, GB_EUNUSABLE,
                          "artifact.coefficients must have one entry per feature");
        gb_error_field(err, "artifact.coefficients");
        goto fail;
    }
    double *wk = gb_malloc_array(lm->n_marg, sizeof *wk);
    if (wk == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading an artifact");
        goto fail;
    }
    size_t c = 0;
    const cJSON *e;
    char path[64];
    cJSON_ArrayForEach(e, coefs)
    {
        snprintf(path, sizeof path, "artifact.coefficients[%zu]", c);
        const char *fname = NULL;
        if ((rc = gb_json_get_string(e, path, "feature", &fname, err)) != GB_OK)
            break;
        if (strcmp(fname, names[c]) != 0) {
            rc = gb_error_set(err, GB_EUNUSABLE, "%s.feature is not features[%zu]",
                              path, c);
            gb_error_field(err, path);
            break;
        }
        char field[96];
        snprintf(field, sizeof field, "%s.coef_std", path);
        if ((rc = json_margin_values(cJSON_GetObjectItemCaseSensitive(e, "coef_std"),
                                     field, lm->n_marg, wk, err)) != GB_OK)
            break;
        for (size_t k = 0; k < lm->n_marg; k++)
            lm->coef[k * lm->n_cols + c] = wk[k];
        if ((rc = gb_json_get_number(e, path, "mean", &lm->mean[c], err)) != GB_OK ||
            (rc = json_positive(e, path, "scale", &lm->scale[c], err)) != GB_OK)
            break;
        lm->fmin[c] = json_number_or_nan(e, "min");
        lm->fmax[c] = json_number_or_nan(e, "max");
        c++;
    }
    size_t m = 0;
    if (rc == GB_OK) {
        cJSON_ArrayForEach(e, inds)
        {
            snprintf(path, sizeof path, "artifact.missing_indicators[%zu]", m);
            const char *fname = NULL;
            if ((rc = gb_json_get_string(e, path, "feature", &fname, err)) != GB_OK)
                break;
            long src = -1;
            for (size_t j = 0; j < n_names; j++)
                if (strcmp(names[j], fname) == 0)
                    src = (long)j;
            if (src < 0 || lm->ind_of[src] >= 0) {
                rc =
                    gb_error_set(err, GB_EUNUSABLE,
                                 "%s.feature '%s' is unknown or repeated", path, fname);
                gb_error_field(err, path);
                break;
            }
            size_t col = lm->n_in + m;
            char field[96];
            snprintf(field, sizeof field, "%s.coef_std", path);
            if ((rc =
                     json_margin_values(cJSON_GetObjectItemCaseSensitive(e, "coef_std"),
                                        field, lm->n_marg, wk, err)) != GB_OK)
                break;
            for (size_t k = 0; k < lm->n_marg; k++)
                lm->coef[k * lm->n_cols + col] = wk[k];
            if ((rc = gb_json_get_number(e, path, "mean", &lm->mean[col], err)) !=
                    GB_OK ||
                (rc = json_positive(e, path, "scale", &lm->scale[col], err)) != GB_OK)
                break;
            lm->ind_src[m] = (size_t)src;
            lm->ind_of[src] = (long)m;
            lm->ind_share[m] = 1;
            /* "features": every column sharing the indicator, the first
             * being "feature" (artifacts before sharing have one) */
            const cJSON *srcs = cJSON_GetObjectItemCaseSensitive(e, "features");
            if (srcs != NULL) {
                int n_src = cJSON_IsArray(srcs) ? cJSON_GetArraySize(srcs) : 0;
                const cJSON *first = cJSON_GetArrayItem(srcs, 0);
                if (n_src < 1 || !cJSON_IsString(first) ||
                    strcmp(first->valuestring, fname) != 0) {
                    rc = gb_error_set(err, GB_EUNUSABLE,
                                      "%s.features must list '%s' first", path, fname);
                    gb_error_field(err, path);
                    break;
                }
                for (int t = 1; rc == GB_OK && t < n_src; t++) {
                    const cJSON *nm = cJSON_GetArrayItem(srcs, t);
                    long j = -1;
                    for (size_t q = 0; cJSON_IsString(nm) && q < n_names; q++)
                        if (strcmp(names[q], nm->valuestring) == 0)
                            j = (long)q;
                    if (j < 0 || lm->ind_of[j] >= 0) {
                        rc = gb_error_set(err, GB_EUNUSABLE,
                                          "%s.features[%d] is unknown or repeated",
                                          path, t);
                        gb_error_field(err, path);
                        break;
                    }
                    lm->ind_of[j] = (long)m;
                    lm->ind_share[m]++;
                }
                if (rc != GB_OK)
                    break;
            }
            m++;
        }
    }
    gb_free(wk);
    if (rc != GB_OK)
        goto fail;
    for (size_t i = 0; i < lm->n_cols; i++) {
        lm->inv_scale[i] = 1.0 / lm->scale[i];
        if (!isfinite(lm->mean[i])) {
            rc = gb_error_set(err, GB_EUNUSABLE, "artifact has a non-finite mean");
            goto fail;
        }
    }
    for (size_t i = 0; i < lm->n_marg * lm->n_cols; i++)
        if (!isfinite(lm->coef[i])) {
            rc = gb_error_set(err, GB_EUNUSABLE,
                              "artifact has a non-finite coefficient");
            goto fail;
        }

    gb_model *model = gb_model_create(is_logistic ? &LOGISTIC_OPS : &LINEAR_OPS, lm,
                                      task, features, n_names, classes, n_classes, err);
    lm = NULL;
    if (model == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto fail;
    }
    *out = model;
    rc = GB_OK;

fail:
    linear_free(lm);
    gb_free(features); /* names are owned by `names` */
    gb_free_strings(names, n_names);
    gb_free_strings(classes, n_classes);
    return rc;
}

/* ---- exports
 * ----------------------------------------------------------------------------- */

/* Margin k as SQL: intercept + sum of w * ((COALESCE(x, mean) - mean) * inv). */
static void sql_margin(gb_strbuf *b, const gb_model *m, size_t k)
{
    const gb_linear *lm = m->impl;
    gb_strbuf_printf(b, "(%.17g", lm->intercept[k]);
    for (size_t c = 0; c < lm->n_cols; c++) {
        double w = lm->coef[k * lm->n_cols + c];
        if (w == 0.0)
            continue;
        if (c < lm->n_in) {
            gb_strbuf_printf(b, " + (%.17g) * ((COALESCE(", w);
            gb_strbuf_sql_ident(b, m->features[c].name);
            gb_strbuf_printf(b, ", %.17g) - (%.17g)) * %.17g)", lm->mean[c],
                             lm->mean[c], lm->inv_scale[c]);
        } else {
            gb_strbuf_printf(b, " + (%.17g) * (((CASE WHEN ", w);
            gb_strbuf_sql_ident(b, m->features[lm->ind_src[c - lm->n_in]].name);
            gb_strbuf_printf(b, " IS NULL THEN 1.0 ELSE 0.0 END) - (%.17g)) * %.17g)",
                             lm->mean[c], lm->inv_scale[c]);
        }
    }
    gb_strbuf_printf(b, ")");
}

static void export_sql(gb_strbuf *b, const gb_model *m)
{
    const gb_linear *lm = m->impl;
    gb_strbuf_printf(
        b, "-- glassbox %s student: one expression per output; NULL = missing\n",
        lm->is_logistic ? "logistic" : "linear");
    if (!lm->is_logistic) {
        sql_margin(b, m, 0);
        gb_strbuf_printf(b, " AS \"prediction\"");
        return;
    }
    if (lm->n_marg == 1) {
        for (size_t k = 0; k < 2; k++) {
            gb_strbuf_printf(b, "%s1.0 / (1.0 + exp(%s", k ? ",\n" : "", k ? "-" : "");
            sql_margin(b, m, 0);
            gb_strbuf_printf(b, ")) AS ");
            gb_strbuf_sql_ident(b, m->classes[k]);
        }
        return;
    }
    /* p_k = 1 / sum_j exp(m_j - m_k) */
    for (size_t k = 0; k < lm->n_marg; k++) {
        gb_strbuf_printf(b, "%s1.0 / (", k ? ",\n" : "");
        for (size_t j = 0; j < lm->n_marg; j++) {
            if (j == k) {
                gb_strbuf_printf(b, "%s1.0", j ? " + " : "");
                continue;
            }
            gb_strbuf_printf(b, "%sexp(", j ? " + " : "");
            sql_margin(b, m, j);
            gb_strbuf_printf(b, " - ");
            sql_margin(b, m, k);
            gb_strbuf_printf(b, ")");
        }
        gb_strbuf_printf(b, ") AS ");
        gb_strbuf_sql_ident(b, m->classes[k]);
    }
}

static void c_comment_name(gb_strbuf *b, const char *name)
{
    for (const char *p = name; *p; p++) {
        if (p[0] == '*' && p[1] == '/')
            gb_strbuf_printf(b, "* /");
        else if ((unsigned char)*p >= 32 && *p != '\\')
            gb_strbuf_printf(b, "%c", *p);
        else
            gb_strbuf_printf(b, "?");
        if (p[0] == '*' && p[1] == '/')
            p++;
    }
}

static void export_c(gb_strbuf *b, const gb_model *m)
{
    const gb_linear *lm = m->impl;
    size_t K = lm->n_marg;
    gb_strbuf_printf(b,
                     "/* glassbox %s student (task %s), generated code.\n"
                     " * x: %zu inputs in this order (NaN = missing):\n",
                     lm->is_logistic ? "logistic" : "linear", gb_task_name(m->task),
                     lm->n_in);
    for (size_t j = 0; j < lm->n_in; j++) {
        gb_strbuf_printf(b, " *   x[%zu] ", j);
        c_comment_name(b, m->features[j].name);
        gb_strbuf_printf(b, "\n");
    }
    gb_strbuf_printf(b, " * out: %zu value(s)", m->n_outputs);
    if (lm->is_logistic) {
        gb_strbuf_printf(b, ", the probability of each class:");
        for (size_t k = 0; k < m->n_classes; k++) {
            gb_strbuf_printf(b, "\n *   out[%zu] ", k);
            c_comment_name(b, m->classes[k]);
        }
    }
    gb_strbuf_printf(b, "\n */\n#include <math.h>\n\n"
                        "void glassbox_predict(const double *x, double *out);\n\n"
                        "void glassbox_predict(const double *x, double *out)\n{\n");
    gb_strbuf_printf(b, "    double z[%zu];\n", lm->n_cols ? lm->n_cols : 1);
    for (size_t c = 0; c < lm->n_cols; c++) {
        if (c < lm->n_in)
            gb_strbuf_printf(
                b, "    z[%zu] = isnan(x[%zu]) ? 0.0 : (x[%zu] - %.17g) * %.17g;\n", c,
                c, c, lm->mean[c], lm->inv_scale[c]);
        else
            gb_strbuf_printf(
                b, "    z[%zu] = ((isnan(x[%zu]) ? 1.0 : 0.0) - %.17g) * %.17g;\n", c,
                lm->ind_src[c - lm->n_in], lm->mean[c], lm->inv_scale[c]);
    }
    gb_strbuf_printf(b, "    double m[%zu];\n", K);
    for (size_t k = 0; k < K; k++) {
        gb_strbuf_printf(b, "    m[%zu] = %.17g", k, lm->intercept[k]);
        for (size_t c = 0; c < lm->n_cols; c++)
            gb_strbuf_printf(b, "\n        + (%.17g) * z[%zu]",
                             lm->coef[k * lm->n_cols + c], c);
        gb_strbuf_printf(b, ";\n");
    }
    if (!lm->is_logistic) {
        gb_strbuf_printf(b, "    out[0] = m[0];\n}\n");
    } else if (K == 1) {
        gb_strbuf_printf(b, "    out[0] = 1.0 / (1.0 + exp(m[0]));\n"
                            "    out[1] = 1.0 / (1.0 + exp(-m[0]));\n}\n");
    } else {
        gb_strbuf_printf(b,
                         "    double mx = m[0], sum = 0.0;\n"
                         "    for (int k = 1; k < %zu; k++)\n"
                         "        if (m[k] > mx)\n"
                         "            mx = m[k];\n"
                         "    for (int k = 0; k < %zu; k++) {\n"
                         "        out[k] = exp(m[k] - mx);\n"
                         "        sum += out[k];\n"
                         "    }\n"
                         "    for (int k = 0; k < %zu; k++)\n"
                         "        out[k] /= sum;\n}\n",
                         K, K, K);
    }
}

gb_status gb_linear_export(const gb_model *m, const char *format, char **out,
                           gb_error *err)
{
    *out = NULL;
    if (!gb_linear_is_model(m))
        return gb_error_set(err, GB_EUNUSABLE, "not a logistic or linear student");
    gb_strbuf b = GB_STRBUF_INIT;
    if (format != NULL && strcmp(format, "sql") == 0) {
        export_sql(&b, m);
    } else if (format != NULL && strcmp(format, "c") == 0) {
        export_c(&b, m);
    } else {
        gb_error_set(err, GB_EUNUSABLE, "unknown export format '%s' (sql, c)",
                     format ? format : "");
        gb_error_field(err, "format");
        return GB_EUNUSABLE;
    }
    *out = gb_strbuf_take(&b);
    if (*out == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory exporting a student");
    return GB_OK;
}

/* ---- dispatcher entry points
 * ------------------------------------------------------------- */

gb_status gb_logistic_check(const gb_param *params, size_t n_params, gb_task task,
                            gb_error *err)
{
    return gb_linear_check("logistic", params, n_params, task, err);
}

gb_status gb_logistic_fit(const gb_param *params, size_t n_params,
                          const gb_train_set *ts, const gb_progress *progress,
                          gb_model **out, gb_error *err)
{
    return gb_linear_fit("logistic", params, n_params, ts, progress, out, err);
}

gb_status gb_linreg_check(const gb_param *params, size_t n_params, gb_task task,
                          gb_error *err)
{
    return gb_linear_check("linear", params, n_params, task, err);
}

gb_status gb_linreg_fit(const gb_param *params, size_t n_params, const gb_train_set *ts,
                        const gb_progress *progress, gb_model **out, gb_error *err)
{
    return gb_linear_fit("linear", params, n_params, ts, progress, out, err);
}

gb_status gb_linear_export_sql(const gb_model *m, char **out, gb_error *err)
{
    return gb_linear_export(m, "sql", out, err);
}

gb_status gb_linear_export_c(const gb_model *m, char **out, gb_error *err)
{
    return gb_linear_export(m, "c", out, err);
}
