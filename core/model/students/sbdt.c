/*
 * sbdt.c - the soft binary decision tree student: parameters, the batched
 * objective and its gradient (every inner node in one GEMM, gradients of the
 * filters as one GEMM), Adam training, max-path and mixture prediction, paths
 * for explanation, the artifact and the C export.
 * Layer: core/model/students.  See sbdt.h and docs/students-sbdt.md.
 */
#include "core/strbuf.h"
#include "core/model/students/sbdt.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/adam.h"
#include "core/math/rng.h"

#define SBDT_A_CLAMP 1e-10
#define SBDT_PREDICT_BLOCK 256

/* ---- parameters ----------------------------------------------------------------- */

typedef struct param_spec {
    const char *key;
    double min, max;
    int min_open; /* min excluded */
    int integer;  /* whole numbers only */
} param_spec;

static const param_spec PARAM_SPECS[] = {
    {"max_depth", 1.0, GB_SBDT_MAX_DEPTH, 0, 1},
    {"epochs", 1.0, 100000.0, 0, 1},
    {"batch_size", 1.0, 1000000.0, 0, 1},
    {"learning_rate", 0.0, 10.0, 1, 0},
    {"penalty", 0.0, 1e6, 0, 0},
    {"beta", 0.0, 1e6, 1, 0},
};
#define N_PARAM_SPECS (sizeof PARAM_SPECS / sizeof PARAM_SPECS[0])

static void params_default(gb_sbdt_params *p)
{
    p->max_depth = 4;
    p->epochs = 40;
    p->batch_size = 64;
    p->learning_rate = 0.01;
    p->penalty = 0.1;
    p->beta = 0.0;
}

static gb_status param_error(gb_error *err, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static gb_status param_error(gb_error *err, const char *key, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gb_error_set(err, GB_EUNUSABLE, "%s", msg);
    gb_error_field(err, key);
    return GB_EUNUSABLE;
}

gb_status gb_sbdt_params_parse(const gb_param *params, size_t n_params,
                               gb_sbdt_params *out, gb_error *err)
{
    gb_sbdt_params p;
    params_default(&p);
    for (size_t i = 0; i < n_params; i++) {
        const char *key = params[i].key ? params[i].key : "";
        const char *text = params[i].value ? params[i].value : "";
        const param_spec *spec = NULL;
        for (size_t s = 0; s < N_PARAM_SPECS; s++)
            if (strcmp(PARAM_SPECS[s].key, key) == 0)
                spec = &PARAM_SPECS[s];
        if (spec == NULL)
            return param_error(err, key,
                               "unknown parameter '%s' for student 'sbdt' (known: "
                               "max_depth, epochs, batch_size, learning_rate, "
                               "penalty, beta)",
                               key);
        for (size_t j = 0; j < i; j++)
            if (params[j].key != NULL && strcmp(params[j].key, key) == 0)
                return param_error(err, key, "parameter '%s' is given twice", key);
        if (strcmp(key, "beta") == 0 && strcmp(text, "learned") == 0) {
            p.beta = 0.0;
            continue;
        }
        char *end = NULL;
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v))
            return param_error(err, key, "parameter '%s' must be %s, got '%s'", key,
                               strcmp(key, "beta") == 0 ? "\"learned\" or a number"
                                                        : "a number",
                               text);
        if (spec->integer && v != floor(v))
            return param_error(
                err, key, "parameter '%s' must be a whole number, got '%s'", key, text);
        if (v < spec->min || (spec->min_open && v <= spec->min) || v > spec->max)
            return param_error(err, key, "parameter '%s' must be in %s%g, %g], got %s",
                               key, spec->min_open ? "(" : "[", spec->min, spec->max,
                               text);
        if (strcmp(key, "max_depth") == 0)
            p.max_depth = (int)v;
        else if (strcmp(key, "epochs") == 0)
            p.epochs = (long)v;
        else if (strcmp(key, "batch_size") == 0)
            p.batch_size = (long)v;
        else if (strcmp(key, "learning_rate") == 0)
            p.learning_rate = v;
        else if (strcmp(key, "penalty") == 0)
            p.penalty = v;
        else
            p.beta = v;
    }
    *out = p;
    return GB_OK;
}

gb_status gb_sbdt_check(const gb_param *params, size_t n_params, gb_task task,
                        gb_error *err)
{
    (void)task;
    gb_sbdt_params p;
    return gb_sbdt_params_parse(params, n_params, &p, err);
}

/* ---- the fitted model -------------------------------------------------------------
 */

typedef struct gb_sbdt {
    int depth;
    int regression;
    size_t n_in;     /* features */
    size_t n_inner;  /* 2^depth - 1 */
    size_t n_leaves; /* 2^depth */
    size_t n_out;    /* classes, or 1 */
    double *mean;    /* n_in */
    double *scale;   /* n_in */
    double *inv_scale;
    double *W;    /* n_inner x n_in filters (standardised inputs) */
    double *b;    /* n_inner */
    double *leaf; /* n_leaves x n_out: distributions Q_l, or values v_l */
    double beta;
    int beta_learned;
    gb_sbdt_params params;
    double temperature, alpha;
    double loss; /* mean batch objective of the last epoch (NaN if unknown) */
} gb_sbdt;

static void sbdt_free(void *impl)
{
    gb_sbdt *t = impl;
    if (t == NULL)
        return;
    gb_free(t->mean);
    gb_free(t->scale);
    gb_free(t->inv_scale);
    gb_free(t->W);
    gb_free(t->b);
    gb_free(t->leaf);
    gb_free(t);
}

/* Allocates the arrays of t for depth, n_in, n_out (set). */
static gb_status sbdt_alloc(gb_sbdt *t, gb_error *err)
{
    t->n_leaves = (size_t)1 << t->depth;
    t->n_inner = t->n_leaves - 1;
    size_t ni = t->n_in ? t->n_in : 1;
    t->mean = gb_calloc(ni, sizeof *t->mean);
    t->scale = gb_calloc(ni, sizeof *t->scale);
    t->inv_scale = gb_calloc(ni, sizeof *t->inv_scale);
    t->W = gb_calloc(t->n_inner * ni, sizeof *t->W);
    t->b = gb_calloc(t->n_inner, sizeof *t->b);
    t->leaf = gb_calloc(t->n_leaves * t->n_out, sizeof *t->leaf);
    if (!t->mean || !t->scale || !t->inv_scale || !t->W || !t->b || !t->leaf)
        return gb_error_set(err, GB_ENOMEM, "out of memory for an sbdt student");
    return GB_OK;
}

/* Z[n x n_in] = standardised rows X[rows[i]] (rows NULL: X's first n rows).
 * Branch-free so that the loop vectorises: (x - mean) * inv is NaN exactly
 * when x is. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-vectorize")))
#endif
static void
standardise_rows(const double *restrict mean, const double *restrict inv_scale,
                 size_t n_in, const double *X, const size_t *rows, size_t n,
                 double *restrict Z)
{
    for (size_t i = 0; i < n; i++) {
        const double *restrict x = X + (rows != NULL ? rows[i] : i) * n_in;
        double *restrict z = Z + i * n_in;
        for (size_t j = 0; j < n_in; j++) {
            double t = (x[j] - mean[j]) * inv_scale[j];
            z[j] = t == t ? t : 0.0; /* NaN: imputed with the mean */
        }
    }
}

/* lin[n x n_inner] = Z W' + b: every inner node of the batch in one GEMM. */
static void inner_linear(const double *W, const double *b, size_t n_inner, size_t n_in,
                         const double *Z, size_t n, double *lin)
{
    if (n_in > 0) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n_inner,
                    (int)n_in, 1.0, Z, (int)n_in, W, (int)n_in, 0.0, lin, (int)n_inner);
    } else {
        memset(lin, 0, n * n_inner * sizeof *lin);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n_inner; k++)
            lin[i * n_inner + k] += b[k];
}

static double sigmoid(double s)
{
    return s >= 0.0 ? 1.0 / (1.0 + exp(-s)) : exp(s) / (1.0 + exp(s));
}

/* pr[n x n_inner] = sigmoid(beta * lin) (may alias lin); mu[n x n_nodes] the
 * path probabilities of every node, level by level (heap order). */
static void path_probs(size_t n_inner, double beta, const double *lin, size_t n,
                       double *pr, double *mu)
{
    size_t n_nodes = 2 * n_inner + 1;
    for (size_t i = 0; i < n * n_inner; i++)
        pr[i] = sigmoid(beta * lin[i]);
    for (size_t r = 0; r < n; r++) {
        const double *p = pr + r * n_inner;
        double *m = mu + r * n_nodes;
        m[0] = 1.0;
        for (size_t k = 0; k < n_inner; k++) {
            m[2 * k + 1] = m[k] * (1.0 - p[k]);
            m[2 * k + 2] = m[k] * p[k];
        }
    }
}

/* Predicts rows [r0, r0 + n) of X: mode 0 max-path, 1 mixture; or the paths. */
typedef struct predict_ctx {
    const gb_sbdt *t;
    const double *X;
    size_t n_rows;
    int mixture;
    double *out;
    size_t *nodes, *leaf;
    double *branch_prob;
    double *scratch; /* block x (n_in + n_inner + n_nodes) */
    size_t stride;
    size_t block; /* rows per block */
} predict_ctx;

/* The leaf of highest path probability of one row (ties: the lowest leaf)
 * from its inner-node activations lin (n_inner), by branch and bound: the
 * greedy path gives a lower bound, and a subtree whose path probability is
 * already below the best leaf is skipped (products of probabilities <= 1
 * never grow).  Path probabilities are the same products, in the same order,
 * as path_probs, so the result is that of the argmax over every leaf. */
static size_t max_path_leaf(const gb_sbdt *t, const double *lin)
{
    size_t n_inner = t->n_inner, node = 0;
    double beta = t->beta, mu = 1.0;
    while (node < n_inner) {
        double p = sigmoid(beta * lin[node]);
        if (p > 0.5) {
            mu *= p;
            node = 2 * node + 2;
        } else {
            mu *= 1.0 - p;
            node = 2 * node + 1;
        }
    }
    size_t best = node - n_inner;
    double best_mu = mu;
    size_t stack_node[GB_SBDT_MAX_DEPTH + 2];
    double stack_mu[GB_SBDT_MAX_DEPTH + 2];
    size_t top = 0;
    stack_node[top] = 0;
    stack_mu[top++] = 1.0;
    while (top > 0) {
        top--;
        node = stack_node[top];
        mu = stack_mu[top];
        if (mu < best_mu)
            continue;
        if (node >= n_inner) {
            size_t leaf = node - n_inner;
            if (mu > best_mu || leaf < best) {
                best = leaf;
                best_mu = mu;
            }
            continue;
        }
        double p = sigmoid(beta * lin[node]);
        /* right pushed first so that the left subtree is explored first */
        stack_node[top] = 2 * node + 2;
        stack_mu[top++] = mu * p;
        stack_node[top] = 2 * node + 1;
        stack_mu[top++] = mu * (1.0 - p);
    }
    return best;
}

static void predict_block(predict_ctx *c, size_t task)
{
    const gb_sbdt *t = c->t;
    size_t r0 = task * c->block;
    size_t n = c->n_rows - r0 < c->block ? c->n_rows - r0 : c->block;
    size_t n_inner = t->n_inner, n_nodes = 2 * n_inner + 1, K = t->n_out;
    double *Z = c->scratch;
    double *lin = Z + c->block * (t->n_in ? t->n_in : 1);
    double *mu = lin + c->block * n_inner;
    standardise_rows(t->mean, t->inv_scale, t->n_in, c->X + r0 * t->n_in, NULL, n, Z);
    inner_linear(t->W, t->b, n_inner, t->n_in, Z, n, lin);
    if (c->mixture) {
        path_probs(n_inner, t->beta, lin, n, lin, mu);
        for (size_t i = 0; i < n; i++) {
            const double *m = mu + i * n_nodes + n_inner;
            double *o = c->out + (r0 + i) * K;
            for (size_t k = 0; k < K; k++)
                o[k] = 0.0;
            for (size_t l = 0; l < t->n_leaves; l++)
                for (size_t k = 0; k < K; k++)
                    o[k] += m[l] * t->leaf[l * K + k];
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t r = r0 + i;
        const double *a = lin + i * n_inner;
        size_t best = max_path_leaf(t, a);
        if (c->out != NULL)
            memcpy(c->out + r * K, t->leaf + best * K, K * sizeof *c->out);
        if (c->leaf != NULL)
            c->leaf[r] = best;
        size_t node = n_inner + best;
        for (int d = t->depth - 1; d >= 0; d--) {
            size_t parent = (node - 1) / 2;
            int right = node == 2 * parent + 2;
            double p = sigmoid(t->beta * a[parent]);
            if (c->nodes != NULL)
                c->nodes[r * (size_t)t->depth + (size_t)d] = parent;
            if (c->branch_prob != NULL)
                c->branch_prob[r * (size_t)t->depth + (size_t)d] = right ? p : 1.0 - p;
            node = parent;
        }
    }
}

static gb_status predict_run(const gb_model *m, const double *X, size_t n_rows,
                             predict_ctx *c, gb_error *err)
{
    const gb_sbdt *t = m->impl;
    if (n_rows == 0)
        return GB_OK;
    /* scratch for min(n_rows, block) rows: callers may score one row at a time */
    c->block = n_rows < SBDT_PREDICT_BLOCK ? n_rows : SBDT_PREDICT_BLOCK;
    size_t n_tasks = (n_rows + c->block - 1) / c->block;
    c->t = t;
    c->X = X;
    c->n_rows = n_rows;
    c->stride = c->block * ((t->n_in ? t->n_in : 1) + 3 * t->n_inner + 1);
    c->scratch = gb_malloc_array(c->stride, sizeof(double));
    if (c->scratch == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory scoring %zu rows", n_rows);
    /* Sequential: callers already score blocks from several threads. */
    for (size_t task = 0; task < n_tasks; task++)
        predict_block(c, task);
    gb_free(c->scratch);
    return GB_OK;
}

static gb_status sbdt_predict(const gb_model *m, const double *X, size_t n_rows,
                              double *out, gb_error *err)
{
    predict_ctx c;
    memset(&c, 0, sizeof c);
    c.out = out;
    return predict_run(m, X, n_rows, &c, err);
}

static gb_status sbdt_predict_margin(const gb_model *m, const double *X, size_t n_rows,
                                     double *out, gb_error *err)
{
    const gb_sbdt *t = m->impl;
    if (t->regression)
        return sbdt_predict(m, X, n_rows, out, err);
    size_t K = t->n_out;
    double *P = gb_malloc_array(n_rows ? n_rows : 1, K * sizeof *P);
    if (P == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory scoring %zu rows", n_rows);
    gb_status rc = sbdt_predict(m, X, n_rows, P, err);
    if (rc == GB_OK) {
        for (size_t i = 0; i < n_rows; i++) {
            const double *p = P + i * K;
            if (m->n_margins == 1) {
                out[i] = log(p[1]) - log(p[0]);
            } else {
                for (size_t k = 0; k < K; k++)
                    out[i * K + k] = log(p[k]);
            }
        }
    }
    gb_free(P);
    return rc;
}

static const gb_model_ops SBDT_OPS;

int gb_sbdt_is_model(const gb_model *m)
{
    return m != NULL && m->ops == &SBDT_OPS;
}

int gb_sbdt_depth(const gb_model *m)
{
    return gb_sbdt_is_model(m) ? ((const gb_sbdt *)m->impl)->depth : 0;
}

gb_status gb_sbdt_predict_mixture(const gb_model *m, const double *X, size_t n_rows,
                                  double *out, gb_error *err)
{
    if (!gb_sbdt_is_model(m))
        return gb_error_set(err, GB_EUNUSABLE, "not an sbdt student");
    predict_ctx c;
    memset(&c, 0, sizeof c);
    c.out = out;
    c.mixture = 1;
    return predict_run(m, X, n_rows, &c, err);
}

gb_status gb_sbdt_paths(const gb_model *m, const double *X, size_t n_rows,
                        size_t *nodes, double *branch_prob, size_t *leaf, gb_error *err)
{
    if (!gb_sbdt_is_model(m))
        return gb_error_set(err, GB_EUNUSABLE, "not an sbdt student");
    predict_ctx c;
    memset(&c, 0, sizeof c);
    c.nodes = nodes;
    c.branch_prob = branch_prob;
    c.leaf = leaf;
    return predict_run(m, X, n_rows, &c, err);
}

/* ---- the artifact ------------------------------------------------------------------
 */

static int image_side(size_t n)
{
    for (size_t k = 2; k * k <= n; k++)
        if (k * k == n)
            return (int)k;
    return 0;
}

static cJSON *sbdt_to_json(const gb_model *m)
{
    const gb_sbdt *t = m->impl;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    cJSON_AddStringToObject(root, "format", "glassbox-student");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "type", "sbdt");
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
        cJSON_AddNumberToObject(params, "max_depth", t->params.max_depth);
        cJSON_AddNumberToObject(params, "epochs", (double)t->params.epochs);
        cJSON_AddNumberToObject(params, "batch_size", (double)t->params.batch_size);
        cJSON_AddNumberToObject(params, "learning_rate", t->params.learning_rate);
        cJSON_AddNumberToObject(params, "penalty", t->params.penalty);
        if (t->beta_learned)
            cJSON_AddStringToObject(params, "beta", "learned");
        else
            cJSON_AddNumberToObject(params, "beta", t->params.beta);
    }
    cJSON *dist = cJSON_AddObjectToObject(root, "distillation");
    if (dist != NULL) {
        gb_json_add_number(dist, "temperature", t->temperature);
        gb_json_add_number(dist, "alpha", t->alpha);
    }
    cJSON *fit = cJSON_AddObjectToObject(root, "fit");
    if (fit != NULL)
        gb_json_add_number(fit, "loss", t->loss);
    cJSON_AddNumberToObject(root, "depth", t->depth);
    cJSON_AddNumberToObject(root, "beta", t->beta);
    cJSON_AddBoolToObject(root, "beta_learned", t->beta_learned);
    cJSON *st = cJSON_AddObjectToObject(root, "standardise");
    if (st != NULL) {
        cJSON_AddItemToObject(st, "mean",
                              gb_json_number_array_create(t->mean, t->n_in));
        cJSON_AddItemToObject(st, "scale",
                              gb_json_number_array_create(t->scale, t->n_in));
    }
    cJSON *inner = cJSON_AddArrayToObject(root, "inner");
    for (size_t i = 0; inner != NULL && i < t->n_inner; i++) {
        cJSON *e = cJSON_CreateObject();
        if (e == NULL)
            break;
        cJSON_AddItemToArray(inner, e);
        cJSON_AddNumberToObject(e, "node", (double)i);
        cJSON_AddNumberToObject(e, "depth", floor(log2((double)i + 1.0)));
        cJSON_AddItemToObject(e, "filter",
                              gb_json_number_array_create(t->W + i * t->n_in, t->n_in));
        cJSON_AddNumberToObject(e, "bias", t->b[i]);
    }
    cJSON *leaves = cJSON_AddArrayToObject(root, "leaves");
    for (size_t l = 0; leaves != NULL && l < t->n_leaves; l++) {
        cJSON *e = cJSON_CreateObject();
        if (e == NULL)
            break;
        cJSON_AddItemToArray(leaves, e);
        cJSON_AddNumberToObject(e, "leaf", (double)l);
        cJSON_AddNumberToObject(e, "node", (double)(t->n_inner + l));
        if (t->regression)
            cJSON_AddNumberToObject(e, "value", t->leaf[l]);
        else
            cJSON_AddItemToObject(
                e, "distribution",
                gb_json_number_array_create(t->leaf + l * t->n_out, t->n_out));
    }
    int side = image_side(t->n_in);
    if (side > 0) {
        cJSON *img = cJSON_AddObjectToObject(root, "image");
        if (img != NULL) {
            cJSON_AddNumberToObject(img, "width", side);
            cJSON_AddNumberToObject(img, "height", side);
        }
    } else {
        cJSON_AddNullToObject(root, "image");
    }
    cJSON *cx = cJSON_AddObjectToObject(root, "complexity");
    if (cx != NULL) {
        cJSON_AddNumberToObject(cx, "depth", t->depth);
        cJSON_AddNumberToObject(cx, "leaves", (double)t->n_leaves);
        cJSON_AddNumberToObject(cx, "inner_nodes", (double)t->n_inner);
    }
    return root;
}

static const gb_model_ops SBDT_OPS = {
    "sbdt", sbdt_predict, sbdt_predict_margin, NULL, sbdt_to_json, sbdt_free,
};

/* ---- the objective ------------------------------------------------------------------
 */

typedef struct sbdt_work {
    size_t cap;     /* rows */
    double *Z;      /* cap x n_in */
    double *q;      /* cap x n_out targets */
    double *lin;    /* cap x n_inner: w.z + b */
    double *pr;     /* cap x n_inner: p */
    double *mu;     /* cap x n_nodes path probabilities */
    double *g;      /* cap x n_nodes: dL/dmu */
    double *G;      /* cap x n_inner: dL/dlin */
    double *cost;   /* cap x n_leaves */
    double *logq;   /* n_leaves x n_out: log Q (classification) */
    double *node_s; /* n_inner: sum of mu */
    double *node_n; /* n_inner: sum of mu p */
    double *pen;    /* n_inner: dC/da_i, 0 when clamped */
    double *pta;    /* n_leaves x n_out: P' q */
    double *psum;   /* n_leaves: sum_r P_rl sum_k q_rk */
} sbdt_work;

static void work_free(sbdt_work *w)
{
    gb_free(w->Z);
    gb_free(w->q);
    gb_free(w->lin);
    gb_free(w->pr);
    gb_free(w->mu);
    gb_free(w->g);
    gb_free(w->G);
    gb_free(w->cost);
    gb_free(w->logq);
    gb_free(w->node_s);
    gb_free(w->node_n);
    gb_free(w->pen);
    gb_free(w->pta);
    gb_free(w->psum);
    memset(w, 0, sizeof *w);
}

static gb_status work_alloc(sbdt_work *w, size_t cap, size_t n_in, size_t n_inner,
                            size_t n_out, gb_error *err)
{
    size_t n_leaves = n_inner + 1, n_nodes = 2 * n_inner + 1;
    memset(w, 0, sizeof *w);
    w->cap = cap;
    w->Z = gb_malloc_array(cap, (n_in ? n_in : 1) * sizeof(double));
    w->q = gb_malloc_array(cap, n_out * sizeof(double));
    w->lin = gb_malloc_array(cap, n_inner * sizeof(double));
    w->pr = gb_malloc_array(cap, n_inner * sizeof(double));
    w->mu = gb_malloc_array(cap, n_nodes * sizeof(double));
    w->g = gb_malloc_array(cap, n_nodes * sizeof(double));
    w->G = gb_malloc_array(cap, n_inner * sizeof(double));
    w->cost = gb_malloc_array(cap, n_leaves * sizeof(double));
    w->logq = gb_malloc_array(n_leaves, n_out * sizeof(double));
    w->node_s = gb_malloc_array(n_inner, sizeof(double));
    w->node_n = gb_malloc_array(n_inner, sizeof(double));
    w->pen = gb_malloc_array(n_inner, sizeof(double));
    w->pta = gb_malloc_array(n_leaves, n_out * sizeof(double));
    w->psum = gb_malloc_array(n_leaves, sizeof(double));
    if (!w->Z || !w->q || !w->lin || !w->pr || !w->mu || !w->g || !w->G || !w->cost ||
        !w->logq || !w->node_s || !w->node_n || !w->pen || !w->pta || !w->psum) {
        work_free(w);
        return gb_error_set(err, GB_ENOMEM, "out of memory for sbdt training");
    }
    return GB_OK;
}

typedef struct sbdt_shape {
    int depth;
    size_t n_in, n_inner, n_leaves, n_nodes, n_out;
    int regression;
    double fixed_beta; /* > 0: fixed */
    double lambda;
} sbdt_shape;

static size_t theta_size(const sbdt_shape *s)
{
    return s->n_inner * s->n_in + s->n_inner + s->n_leaves * s->n_out + 1;
}

/* Loss and gradient of one batch whose standardised rows are w->Z and targets
 * w->q (n rows).  Returns the loss; grad (theta layout) is overwritten. */
static double batch_objective(const sbdt_shape *s, const double *theta, sbdt_work *w,
                              size_t n, double *grad)
{
    size_t n_in = s->n_in, n_inner = s->n_inner, n_leaves = s->n_leaves;
    size_t n_nodes = s->n_nodes, K = s->n_out;
    const double *W = theta, *b = theta + n_inner * n_in;
    const double *leafp = b + n_inner;
    double log_beta = leafp[n_leaves * K];
    double beta = s->fixed_beta > 0.0 ? s->fixed_beta : exp(log_beta);
    double *gW = grad, *gb = grad + n_inner * n_in, *gleaf = gb + n_inner;
    double inv_n = 1.0 / (double)n;

    /* forward: every inner node in one GEMM, then paths level by level */
    inner_linear(W, b, n_inner, n_in, w->Z, n, w->lin);
    path_probs(n_inner, beta, w->lin, n, w->pr, w->mu);

    /* per-row, per-leaf costs */
    if (!s->regression) {
        for (size_t l = 0; l < n_leaves; l++) {
            const double *phi = leafp + l * K;
            double mx = phi[0], sum = 0.0;
            for (size_t k = 1; k < K; k++)
                if (phi[k] > mx)
                    mx = phi[k];
            for (size_t k = 0; k < K; k++)
                sum += exp(phi[k] - mx);
            double lse = mx + log(sum);
            for (size_t k = 0; k < K; k++)
                w->logq[l * K + k] = phi[k] - lse;
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n_leaves,
                    (int)K, -1.0, w->q, (int)K, w->logq, (int)K, 0.0, w->cost,
                    (int)n_leaves);
    } else {
        for (size_t r = 0; r < n; r++)
            for (size_t l = 0; l < n_leaves; l++) {
                double e = leafp[l] - w->q[r];
                w->cost[r * n_leaves + l] = 0.5 * e * e;
            }
    }
    double loss = 0.0;
    for (size_t r = 0; r < n; r++) {
        const double *P = w->mu + r * n_nodes + n_inner;
        const double *c = w->cost + r * n_leaves;
        double row = 0.0;
        for (size_t l = 0; l < n_leaves; l++)
            row += P[l] * c[l];
        loss += row;
    }
    loss *= inv_n;

    /* the balancing penalty */
    for (size_t i = 0; i < n_inner; i++)
        w->node_s[i] = w->node_n[i] = 0.0;
    for (size_t r = 0; r < n; r++) {
        const double *m = w->mu + r * n_nodes, *p = w->pr + r * n_inner;
        for (size_t i = 0; i < n_inner; i++) {
            w->node_s[i] += m[i];
            w->node_n[i] += m[i] * p[i];
        }
    }
    for (size_t i = 0; i < n_inner; i++) {
        w->pen[i] = 0.0;
        if (!(w->node_s[i] > 0.0) || s->lambda == 0.0)
            continue;
        double a = w->node_n[i] / w->node_s[i];
        double decay = ldexp(1.0, -(int)floor(log2((double)i + 1.0)));
        int clamped = 0;
        if (a < SBDT_A_CLAMP)
            a = SBDT_A_CLAMP, clamped = 1;
        else if (a > 1.0 - SBDT_A_CLAMP)
            a = 1.0 - SBDT_A_CLAMP, clamped = 1;
        loss -= s->lambda * decay * 0.5 * (log(a) + log(1.0 - a));
        if (!clamped)
            w->pen[i] = -s->lambda * decay * 0.5 * (1.0 / a - 1.0 / (1.0 - a));
        /* stored as (dC/da) / S and a, for the per-row terms below */
        w->pen[i] /= w->node_s[i];
        w->node_n[i] = a;
    }

    /* leaf gradients */
    if (!s->regression) {
        for (size_t l = 0; l < n_leaves; l++)
            w->psum[l] = 0.0;
        for (size_t r = 0; r < n; r++) {
            const double *P = w->mu + r * n_nodes + n_inner;
            const double *q = w->q + r * K;
            double qs = 0.0;
            for (size_t k = 0; k < K; k++)
                qs += q[k];
            for (size_t l = 0; l < n_leaves; l++)
                w->psum[l] += P[l] * qs;
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_leaves, (int)K,
                    (int)n, 1.0, w->mu + n_inner, (int)n_nodes, w->q, (int)K, 0.0,
                    w->pta, (int)K);
        for (size_t l = 0; l < n_leaves; l++)
            for (size_t k = 0; k < K; k++)
                gleaf[l * K + k] =
                    inv_n * (w->psum[l] * exp(w->logq[l * K + k]) - w->pta[l * K + k]);
    } else {
        for (size_t l = 0; l < n_leaves; l++)
            gleaf[l] = 0.0;
        for (size_t r = 0; r < n; r++) {
            const double *P = w->mu + r * n_nodes + n_inner;
            for (size_t l = 0; l < n_leaves; l++)
                gleaf[l] += P[l] * (leafp[l] - w->q[r]);
        }
        for (size_t l = 0; l < n_leaves; l++)
            gleaf[l] *= inv_n;
    }

    /* backward through the tree, bottom-up per row */
    double gbeta = 0.0;
    for (size_t r = 0; r < n; r++) {
        double *g = w->g + r * n_nodes;
        const double *m = w->mu + r * n_nodes, *p = w->pr + r * n_inner;
        const double *lin = w->lin + r * n_inner;
        const double *c = w->cost + r * n_leaves;
        double *G = w->G + r * n_inner;
        for (size_t l = 0; l < n_leaves; l++)
            g[n_inner + l] = inv_n * c[l];
        for (size_t k = n_inner; k-- > 0;) {
            double gl = g[2 * k + 1], gr = g[2 * k + 2], pk = p[k];
            double gp = m[k] * (gr - gl) + w->pen[k] * m[k];
            g[k] = (1.0 - pk) * gl + pk * gr + w->pen[k] * (pk - w->node_n[k]);
            double gs = gp * pk * (1.0 - pk); /* dL/d(beta * lin) */
            G[k] = gs * beta;
            gbeta += gs * lin[k];
        }
    }
    /* filters: gW = G' Z in one GEMM; biases: column sums of G */
    if (n_in > 0)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_inner, (int)n_in,
                    (int)n, 1.0, w->G, (int)n_inner, w->Z, (int)n_in, 0.0, gW,
                    (int)n_in);
    for (size_t k = 0; k < n_inner; k++)
        gb[k] = 0.0;
    for (size_t r = 0; r < n; r++)
        for (size_t k = 0; k < n_inner; k++)
            gb[k] += w->G[r * n_inner + k];
    gleaf[n_leaves * K] = s->fixed_beta > 0.0 ? 0.0 : gbeta * beta;
    return loss;
}

gb_status gb_sbdt_objective(int depth, size_t n_features, size_t n_out, int regression,
                            const double *theta, double fixed_beta, double penalty,
                            const double *Z, const double *q, size_t n_rows,
                            double *loss, double *grad, gb_error *err)
{
    sbdt_shape s;
    s.depth = depth;
    s.n_in = n_features;
    s.n_leaves = (size_t)1 << depth;
    s.n_inner = s.n_leaves - 1;
    s.n_nodes = 2 * s.n_inner + 1;
    s.n_out = n_out;
    s.regression = regression;
    s.fixed_beta = fixed_beta;
    s.lambda = penalty;
    sbdt_work w;
    gb_status rc =
        work_alloc(&w, n_rows ? n_rows : 1, n_features, s.n_inner, n_out, err);
    if (rc != GB_OK)
        return rc;
    memcpy(w.Z, Z, n_rows * n_features * sizeof *Z);
    memcpy(w.q, q, n_rows * n_out * sizeof *q);
    *loss = batch_objective(&s, theta, &w, n_rows, grad);
    work_free(&w);
    return GB_OK;
}

/* ---- fitting ------------------------------------------------------------------------
 */

static gb_status check_train_set(const gb_train_set *ts, gb_error *err)
{
    int regression = ts->task == GB_TASK_REGRESSION;
    if (ts->n_rows == 0)
        return gb_error_set(err, GB_EUNUSABLE, "no training rows");
    if (!(ts->alpha >= 0.0 && ts->alpha <= 1.0))
        return gb_error_set(err, GB_EUNUSABLE, "alpha must be in [0, 1], got %g",
                            ts->alpha);
    if (ts->alpha < 1.0 && ts->soft == NULL)
        return gb_error_set(err, GB_EUNUSABLE,
                            "alpha < 1 needs the teacher's soft targets");
    for (size_t j = 0; j < ts->n_features; j++) {
        if (ts->features[j].kind != GB_FEAT_NUMERIC) {
            gb_error_set(err, GB_EUNUSABLE,
                         "feature '%s' is categorical: the sbdt student needs one-hot "
                         "columns",
                         ts->features[j].name);
            gb_error_field(err, ts->features[j].name);
            return GB_EUNUSABLE;
        }
    }
    if (regression) {
        if (ts->alpha > 0.0 && ts->y_value == NULL)
            return gb_error_set(err, GB_EUNUSABLE, "alpha > 0 needs target values");
        for (size_t i = 0; i < ts->n_rows; i++) {
            double t = (ts->alpha > 0.0 ? ts->y_value[i] : 0.0) +
                       (ts->alpha < 1.0 ? ts->soft[i] : 0.0);
            if (!isfinite(t))
                return gb_error_at(err, GB_EUNUSABLE, (long)i + 1, 0,
                                   "target is not finite on row %zu", i + 1);
        }
        return GB_OK;
    }
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
    if (ts->alpha < 1.0)
        for (size_t i = 0; i < ts->n_rows * ts->n_classes; i++)
            if (!(ts->soft[i] >= 0.0 && ts->soft[i] <= 1.0))
                return gb_error_at(err, GB_EUNUSABLE, (long)(i / ts->n_classes) + 1, 0,
                                   "soft target outside [0, 1] on row %zu",
                                   i / ts->n_classes + 1);
    return GB_OK;
}

/* Column sums (sum, or the sum of squares about mean when mean != NULL) and
 * counts of the non-missing values of X, branch-free so that it vectorises. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-vectorize")))
#endif
static void
column_sums(const double *X, size_t n, size_t p, const double *restrict mean,
            double *restrict sum, double *restrict count)
{
    for (size_t i = 0; i < n; i++) {
        const double *restrict x = X + i * p;
        if (mean == NULL) {
            for (size_t j = 0; j < p; j++) {
                double v = x[j], ok = v == v ? 1.0 : 0.0;
                sum[j] += v == v ? v : 0.0;
                count[j] += ok;
            }
        } else {
            for (size_t j = 0; j < p; j++) {
                double d = x[j] - mean[j];
                sum[j] += d == d ? d * d : 0.0;
            }
        }
    }
}

/* Means and scales of the training rows; GB_EUNUSABLE for an infinite value
 * (or values whose sum overflows). */
static gb_status fit_standardise(gb_sbdt *t, const gb_train_set *ts, gb_error *err)
{
    size_t n = ts->n_rows, p = ts->n_features;
    double *count = gb_calloc(p ? p : 1, sizeof *count);
    double *ss = gb_calloc(p ? p : 1, sizeof *ss);
    gb_status rc = GB_OK;
    if (count == NULL || ss == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory for feature statistics");
        goto out;
    }
    column_sums(ts->X, n, p, NULL, t->mean, count);
    for (size_t j = 0; j < p; j++) {
        if (isfinite(t->mean[j]))
            continue;
        for (size_t i = 0; i < n; i++) {
            if (isinf(ts->X[i * p + j])) {
                rc = gb_error_at(err, GB_EUNUSABLE, (long)i + 1, (long)j + 1,
                                 "feature '%s' is infinite on row %zu",
                                 ts->features[j].name, i + 1);
                gb_error_field(err, ts->features[j].name);
                goto out;
            }
        }
        rc = gb_error_set(err, GB_EUNUSABLE, "feature '%s' has values too large to sum",
                          ts->features[j].name);
        gb_error_field(err, ts->features[j].name);
        goto out;
    }
    for (size_t j = 0; j < p; j++)
        t->mean[j] = count[j] > 0.0 ? t->mean[j] / count[j] : 0.0;
    column_sums(ts->X, n, p, t->mean, ss, count);
    for (size_t j = 0; j < p; j++) {
        double sd = count[j] > 0.0 ? sqrt(ss[j] / count[j]) : 0.0;
        t->scale[j] = sd > 0.0 && isfinite(sd) ? sd : 1.0;
        t->inv_scale[j] = 1.0 / t->scale[j];
    }
out:
    gb_free(count);
    gb_free(ss);
    return rc;
}

gb_status gb_sbdt_fit(const gb_param *params, size_t n_params, const gb_train_set *ts,
                      const gb_progress *progress, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    gb_sbdt *t = NULL;
    gb_adam *opt = NULL;
    double *theta = NULL, *grad = NULL, *target = NULL;
    size_t *order = NULL;
    sbdt_work w;
    memset(&w, 0, sizeof w);
    gb_sbdt_params sp;

    *out = NULL;
    if ((rc = gb_sbdt_params_parse(params, n_params, &sp, err)) != GB_OK)
        return rc;
    if ((rc = check_train_set(ts, err)) != GB_OK)
        return rc;
    if (gb_progress_cancelled(progress))
        return gb_error_set(err, GB_ECANCELLED, "cancelled");

    t = gb_calloc(1, sizeof *t);
    if (t == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory for an sbdt student");
    t->depth = sp.max_depth;
    t->regression = ts->task == GB_TASK_REGRESSION;
    t->n_in = ts->n_features;
    t->n_out = t->regression ? 1 : ts->n_classes;
    t->params = sp;
    t->beta_learned = sp.beta == 0.0;
    t->temperature = ts->soft != NULL ? ts->temperature : 1.0;
    t->alpha = ts->alpha;
    if ((rc = sbdt_alloc(t, err)) != GB_OK)
        goto fail;
    if ((rc = fit_standardise(t, ts, err)) != GB_OK)
        goto fail;

    sbdt_shape s;
    s.depth = t->depth;
    s.n_in = t->n_in;
    s.n_inner = t->n_inner;
    s.n_leaves = t->n_leaves;
    s.n_nodes = 2 * t->n_inner + 1;
    s.n_out = t->n_out;
    s.regression = t->regression;
    s.fixed_beta = sp.beta;
    s.lambda = sp.penalty;
    size_t n = ts->n_rows, K = t->n_out, n_theta = theta_size(&s);
    size_t batch = (size_t)sp.batch_size < n ? (size_t)sp.batch_size : n;

    /* targets: q = alpha onehot + (1 - alpha) q_T, or standardised values */
    double t_mean = 0.0, t_sd = 1.0;
    target = gb_malloc_array(n, K * sizeof *target);
    order = gb_malloc_array(n, sizeof *order);
    theta = gb_calloc(n_theta, sizeof *theta);
    grad = gb_calloc(n_theta, sizeof *grad);
    if (target == NULL || order == NULL || theta == NULL || grad == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory fitting an sbdt student");
        goto fail;
    }
    if ((rc = work_alloc(&w, batch, t->n_in, t->n_inner, K, err)) != GB_OK)
        goto fail;
    if (t->regression) {
        double sum = 0.0, ss = 0.0;
        for (size_t i = 0; i < n; i++) {
            target[i] = (ts->alpha > 0.0 ? ts->alpha * ts->y_value[i] : 0.0) +
                        (ts->alpha < 1.0 ? (1.0 - ts->alpha) * ts->soft[i] : 0.0);
            sum += target[i];
        }
        t_mean = sum / (double)n;
        for (size_t i = 0; i < n; i++)
            ss += (target[i] - t_mean) * (target[i] - t_mean);
        t_sd = sqrt(ss / (double)n);
        if (!(t_sd > 0.0))
            t_sd = 1.0;
        for (size_t i = 0; i < n; i++)
            target[i] = (target[i] - t_mean) / t_sd;
    } else {
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < K; k++) {
                double v =
                    ts->alpha < 1.0 ? (1.0 - ts->alpha) * ts->soft[i * K + k] : 0.0;
                if (ts->alpha > 0.0 && (size_t)ts->y_class[i] == k)
                    v += ts->alpha;
                target[i * K + k] = v;
            }
    }

    /* initialisation */
    gb_rng rng;
    gb_rng_seed(&rng, ts->seed);
    double bound = 1.0 / sqrt((double)(t->n_in ? t->n_in : 1));
    for (size_t i = 0; i < t->n_inner * t->n_in; i++)
        theta[i] = (2.0 * gb_rng_uniform(&rng) - 1.0) * bound;
    for (size_t i = 0; i < n; i++)
        order[i] = i;

    gb_adam_params ap;
    gb_adam_params_default(&ap);
    ap.learning_rate = sp.learning_rate;
    opt = gb_adam_create(n_theta, &ap, err);
    if (opt == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto fail;
    }
    gb_progress_report(progress, "fit", 0.0);
    double epoch_loss = NAN;
    for (long e = 0; e < sp.epochs; e++) {
        if (gb_progress_cancelled(progress)) {
            rc = gb_error_set(err, GB_ECANCELLED, "cancelled");
            goto fail;
        }
        gb_rng_shuffle(&rng, order, n);
        double sum = 0.0;
        size_t n_batches = 0;
        for (size_t r0 = 0; r0 < n; r0 += batch) {
            size_t nb = n - r0 < batch ? n - r0 : batch;
            standardise_rows(t->mean, t->inv_scale, t->n_in, ts->X, order + r0, nb,
                             w.Z);
            for (size_t i = 0; i < nb; i++)
                memcpy(w.q + i * K, target + order[r0 + i] * K, K * sizeof *w.q);
            sum += batch_objective(&s, theta, &w, nb, grad);
            n_batches++;
            gb_adam_step(opt, theta, grad, NULL);
        }
        epoch_loss = sum / (double)n_batches;
        gb_progress_report(progress, "fit", (double)(e + 1) / (double)sp.epochs);
    }
    t->loss = epoch_loss;

    /* the fitted parameters */
    memcpy(t->W, theta, t->n_inner * t->n_in * sizeof *theta);
    memcpy(t->b, theta + t->n_inner * t->n_in, t->n_inner * sizeof *theta);
    const double *leafp = theta + t->n_inner * t->n_in + t->n_inner;
    t->beta = sp.beta > 0.0 ? sp.beta : exp(leafp[t->n_leaves * K]);
    for (size_t l = 0; l < t->n_leaves; l++) {
        if (t->regression) {
            t->leaf[l] = t_mean + t_sd * leafp[l];
            continue;
        }
        const double *phi = leafp + l * K;
        double mx = phi[0], sum = 0.0;
        for (size_t k = 1; k < K; k++)
            if (phi[k] > mx)
                mx = phi[k];
        for (size_t k = 0; k < K; k++)
            sum += (t->leaf[l * K + k] = exp(phi[k] - mx));
        for (size_t k = 0; k < K; k++)
            t->leaf[l * K + k] /= sum;
    }

    gb_model *model = gb_model_create(&SBDT_OPS, t, ts->task, ts->features,
                                      ts->n_features, ts->classes, ts->n_classes, err);
    t = NULL; /* owned by the model, or freed by gb_model_create */
    if (model == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto fail;
    }
    *out = model;
    rc = GB_OK;
    goto done;

fail:
    sbdt_free(t);
done:
    gb_adam_free(opt);
    work_free(&w);
    gb_free(theta);
    gb_free(grad);
    gb_free(target);
    gb_free(order);
    return rc;
}

/* ---- reading an artifact back
 * -------------------------------------------------------- */

static gb_status json_fail(gb_error *err, const char *field, const char *msg)
{
    gb_error_set(err, GB_EUNUSABLE, "%s: %s", field, msg);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

/* Reads obj.key, an array of exactly n finite numbers, into dst. */
static gb_status json_fixed_array(const cJSON *obj, const char *path, const char *key,
                                  size_t n, double *dst, gb_error *err)
{
    const cJSON *arr = NULL;
    double *v = NULL;
    size_t len = 0;
    gb_status rc = gb_json_get_array(obj, path, key, &arr, err);
    if (rc != GB_OK)
        return rc;
    char field[96];
    snprintf(field, sizeof field, "%s.%s", path, key);
    if ((rc = gb_json_number_array(arr, field, n + 1, &v, &len, err)) != GB_OK)
        return rc;
    if (len != n) {
        gb_free(v);
        char msg[96];
        snprintf(msg, sizeof msg, "must hold %zu numbers, has %zu", n, len);
        return json_fail(err, field, msg);
    }
    memcpy(dst, v, n * sizeof *dst);
    gb_free(v);
    return GB_OK;
}

/* obj.key when obj is an object holding a finite number in [lo, hi]. */
static int optional_number(const cJSON *obj, const char *key, double lo, double hi,
                           double *out)
{
    const cJSON *item =
        cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) ||
        item->valuedouble < lo || item->valuedouble > hi)
        return 0;
    *out = item->valuedouble;
    return 1;
}

gb_status gb_sbdt_from_json(const cJSON *artifact, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    gb_sbdt *t = NULL;
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
    if (strcmp(s, "glassbox-student") != 0)
        return json_fail(err, "artifact.format", "must be 'glassbox-student'");
    if ((rc = gb_json_get_number(artifact, "artifact", "version", &v, err)) != GB_OK)
        return rc;
    if (v != 1.0)
        return json_fail(err, "artifact.version", "only version 1 is supported");
    if ((rc = gb_json_get_string(artifact, "artifact", "type", &s, err)) != GB_OK)
        return rc;
    if (strcmp(s, "sbdt") != 0)
        return json_fail(err, "artifact.type", "is not 'sbdt'");
    if ((rc = gb_json_get_string(artifact, "artifact", "task", &s, err)) != GB_OK)
        return rc;
    if (gb_task_parse(s, &task, err) != GB_OK || task == GB_TASK_AUTO)
        return json_fail(err, "artifact.task", "is not a task");
    if (task != GB_TASK_REGRESSION) {
        if ((rc = gb_json_get_array(artifact, "artifact", "classes", &arr, err)) !=
            GB_OK)
            return rc;
        if ((rc = gb_json_string_array(arr, "artifact.classes", GB_MAX_CLASSES,
                                       &classes, &n_classes, err)) != GB_OK)
            return rc;
        if (n_classes < 2 || (task == GB_TASK_BINARY) != (n_classes == 2)) {
            rc = json_fail(err, "artifact.classes", "does not fit the task");
            goto fail;
        }
    }
    if ((rc = gb_json_get_array(artifact, "artifact", "features", &arr, err)) != GB_OK)
        goto fail;
    if ((rc = gb_json_string_array(arr, "artifact.features", GB_MAX_COLUMNS * 1000,
                                   &names, &n_names, err)) != GB_OK)
        goto fail;
    if ((rc = gb_json_get_number(artifact, "artifact", "depth", &v, err)) != GB_OK)
        goto fail;
    if (!(v >= 1.0 && v <= GB_SBDT_MAX_DEPTH && v == floor(v))) {
        rc = json_fail(err, "artifact.depth", "must be a whole number in [1, 10]");
        goto fail;
    }
    t = gb_calloc(1, sizeof *t);
    features = gb_calloc(n_names ? n_names : 1, sizeof *features);
    if (t == NULL || features == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading an artifact");
        goto fail;
    }
    t->depth = (int)v;
    t->regression = task == GB_TASK_REGRESSION;
    t->n_in = n_names;
    t->n_out = t->regression ? 1 : n_classes;
    params_default(&t->params);
    t->params.max_depth = t->depth;
    t->temperature = t->alpha = t->loss = NAN;
    if ((rc = sbdt_alloc(t, err)) != GB_OK)
        goto fail;
    if ((rc = gb_json_get_number(artifact, "artifact", "beta", &t->beta, err)) != GB_OK)
        goto fail;
    if (!(t->beta > 0.0)) {
        rc = json_fail(err, "artifact.beta", "must be > 0");
        goto fail;
    }
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(artifact, "beta_learned");
    t->beta_learned = bl == NULL || cJSON_IsTrue(bl);
    if (!t->beta_learned)
        t->params.beta = t->beta;
    /* informative members: read when present and in range, else defaults */
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(artifact, "params");
    double pv;
    if (optional_number(params, "epochs", 1.0, 100000.0, &pv))
        t->params.epochs = (long)pv;
    if (optional_number(params, "batch_size", 1.0, 1000000.0, &pv))
        t->params.batch_size = (long)pv;
    if (optional_number(params, "learning_rate", 0.0, 10.0, &pv))
        t->params.learning_rate = pv;
    if (optional_number(params, "penalty", 0.0, 1e6, &pv))
        t->params.penalty = pv;
    const cJSON *dist = cJSON_GetObjectItemCaseSensitive(artifact, "distillation");
    if (optional_number(dist, "temperature", 0.0, HUGE_VAL, &pv))
        t->temperature = pv;
    if (optional_number(dist, "alpha", 0.0, 1.0, &pv))
        t->alpha = pv;
    if (optional_number(cJSON_GetObjectItemCaseSensitive(artifact, "fit"), "loss",
                        -HUGE_VAL, HUGE_VAL, &pv))
        t->loss = pv;
    if ((rc = gb_json_get_object(artifact, "artifact", "standardise", &obj, err)) !=
        GB_OK)
        goto fail;
    if ((rc = json_fixed_array(obj, "artifact.standardise", "mean", t->n_in, t->mean,
                               err)) != GB_OK)
        goto fail;
    if ((rc = json_fixed_array(obj, "artifact.standardise", "scale", t->n_in, t->scale,
                               err)) != GB_OK)
        goto fail;
    for (size_t j = 0; j < t->n_in; j++) {
        if (!(t->scale[j] > 0.0)) {
            rc = json_fail(err, "artifact.standardise.scale", "entries must be > 0");
            goto fail;
        }
        t->inv_scale[j] = 1.0 / t->scale[j];
    }
    if ((rc = gb_json_get_array(artifact, "artifact", "inner", &arr, err)) != GB_OK)
        goto fail;
    if ((size_t)cJSON_GetArraySize(arr) != t->n_inner) {
        rc = json_fail(err, "artifact.inner", "must hold 2^depth - 1 nodes");
        goto fail;
    }
    for (size_t i = 0; i < t->n_inner; i++) {
        const cJSON *e = cJSON_GetArrayItem(arr, (int)i);
        char path[48];
        snprintf(path, sizeof path, "artifact.inner[%zu]", i);
        if ((rc = gb_json_get_number(e, path, "node", &v, err)) != GB_OK)
            goto fail;
        if (v != (double)i) {
            rc = json_fail(err, path, "nodes must be listed in order 0, 1, ...");
            goto fail;
        }
        if ((rc = json_fixed_array(e, path, "filter", t->n_in, t->W + i * t->n_in,
                                   err)) != GB_OK)
            goto fail;
        if ((rc = gb_json_get_number(e, path, "bias", &t->b[i], err)) != GB_OK)
            goto fail;
    }
    if ((rc = gb_json_get_array(artifact, "artifact", "leaves", &arr, err)) != GB_OK)
        goto fail;
    if ((size_t)cJSON_GetArraySize(arr) != t->n_leaves) {
        rc = json_fail(err, "artifact.leaves", "must hold 2^depth leaves");
        goto fail;
    }
    for (size_t l = 0; l < t->n_leaves; l++) {
        const cJSON *e = cJSON_GetArrayItem(arr, (int)l);
        char path[48];
        snprintf(path, sizeof path, "artifact.leaves[%zu]", l);
        if ((rc = gb_json_get_number(e, path, "leaf", &v, err)) != GB_OK)
            goto fail;
        if (v != (double)l) {
            rc = json_fail(err, path, "leaves must be listed in order 0, 1, ...");
            goto fail;
        }
        if (t->regression) {
            if ((rc = gb_json_get_number(e, path, "value", &t->leaf[l], err)) != GB_OK)
                goto fail;
            continue;
        }
        if ((rc = json_fixed_array(e, path, "distribution", t->n_out,
                                   t->leaf + l * t->n_out, err)) != GB_OK)
            goto fail;
        for (size_t k = 0; k < t->n_out; k++)
            if (!(t->leaf[l * t->n_out + k] >= 0.0 &&
                  t->leaf[l * t->n_out + k] <= 1.0)) {
                rc = json_fail(err, path, "distribution entries must be in [0, 1]");
                goto fail;
            }
    }
    for (size_t j = 0; j < n_names; j++) {
        features[j].name = names[j];
        features[j].kind = GB_FEAT_NUMERIC;
    }
    gb_model *model =
        gb_model_create(&SBDT_OPS, t, task, features, n_names, classes, n_classes, err);
    t = NULL;
    if (model == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto fail;
    }
    *out = model;
    rc = GB_OK;
fail:
    sbdt_free(t);
    gb_free(features);
    gb_free_strings(names, n_names);
    gb_free_strings(classes, n_classes);
    return rc;
}

/* ---- exports ----------------------------------------------------------------------
 */

/* A name inside a C comment: no comment terminators, printable ASCII only. */
static void c_comment_name(gb_strbuf *b, const char *name)
{
    for (const char *p = name; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '*' && p[1] == '/')
            gb_strbuf_printf(b, "*_");
        else
            gb_strbuf_printf(b, "%c", ch >= 32 && ch < 127 ? ch : '?');
    }
}

static void c_array(gb_strbuf *b, const char *name, const double *v, size_t n)
{
    gb_strbuf_printf(b, "static const double %s[%zu] = {", name, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        gb_strbuf_printf(b, "%s%s%.17g", i ? "," : "", i % 4 == 0 ? "\n    " : " ",
                         v[i]);
    if (n == 0)
        gb_strbuf_printf(b, "0");
    gb_strbuf_printf(b, "\n};\n");
}

static void export_c(gb_strbuf *b, const gb_model *m)
{
    const gb_sbdt *t = m->impl;
    size_t K = t->n_out;
    gb_strbuf_printf(
        b,
        "/* glassbox soft binary decision tree (depth %d, task %s), generated\n"
        " * code.  Predicts with the leaf of highest path probability.\n"
        " * x: %zu inputs in this order (NaN = missing):\n",
        t->depth, gb_task_name(m->task), t->n_in);
    for (size_t j = 0; j < t->n_in; j++) {
        gb_strbuf_printf(b, " *   x[%zu] ", j);
        c_comment_name(b, m->features[j].name);
        gb_strbuf_printf(b, "\n");
    }
    if (t->regression) {
        gb_strbuf_printf(b, " * out: 1 value\n */\n");
    } else {
        gb_strbuf_printf(b, " * out: %zu values, the probability of each class:", K);
        for (size_t k = 0; k < K; k++) {
            gb_strbuf_printf(b, "\n *   out[%zu] ", k);
            c_comment_name(b, m->classes[k]);
        }
        gb_strbuf_printf(b, "\n */\n");
    }
    gb_strbuf_printf(b, "#include <math.h>\n\n");
    c_array(b, "GB_MEAN", t->mean, t->n_in);
    c_array(b, "GB_INV_SCALE", t->inv_scale, t->n_in);
    c_array(b, "GB_FILTER", t->W, t->n_inner * t->n_in);
    c_array(b, "GB_BIAS", t->b, t->n_inner);
    c_array(b, "GB_LEAF", t->leaf, t->n_leaves * K);
    gb_strbuf_printf(
        b,
        "\nvoid glassbox_predict(const double *x, double *out);\n\n"
        "void glassbox_predict(const double *x, double *out)\n{\n"
        "    enum { N_IN = %zu, N_INNER = %zu, N_LEAVES = %zu, K = %zu };\n"
        "    const double beta = %.17g;\n"
        "    double z[N_IN + 1], p[N_INNER], mu[2 * N_INNER + 1];\n"
        "    for (int j = 0; j < N_IN; j++)\n"
        "        z[j] = isnan(x[j]) ? 0.0 : (x[j] - GB_MEAN[j]) * "
        "GB_INV_SCALE[j];\n"
        "    for (int i = 0; i < N_INNER; i++) {\n"
        "        double s = GB_BIAS[i];\n"
        "        for (int j = 0; j < N_IN; j++)\n"
        "            s += GB_FILTER[i * N_IN + j] * z[j];\n"
        "        s *= beta;\n"
        "        p[i] = s >= 0.0 ? 1.0 / (1.0 + exp(-s)) : exp(s) / (1.0 + "
        "exp(s));\n"
        "    }\n"
        "    mu[0] = 1.0;\n"
        "    for (int i = 0; i < N_INNER; i++) {\n"
        "        mu[2 * i + 1] = mu[i] * (1.0 - p[i]);\n"
        "        mu[2 * i + 2] = mu[i] * p[i];\n"
        "    }\n"
        "    int best = 0;\n"
        "    for (int l = 1; l < N_LEAVES; l++)\n"
        "        if (mu[N_INNER + l] > mu[N_INNER + best])\n"
        "            best = l;\n"
        "    for (int k = 0; k < K; k++)\n"
        "        out[k] = GB_LEAF[best * K + k];\n"
        "}\n",
        t->n_in, t->n_inner, t->n_leaves, K, t->beta);
}

gb_status gb_sbdt_export_c(const gb_model *m, char **out, gb_error *err)
{
    *out = NULL;
    if (!gb_sbdt_is_model(m))
        return gb_error_set(err, GB_EUNUSABLE, "not an sbdt student");
    gb_strbuf b = GB_STRBUF_INIT;
    export_c(&b, m);
    *out = gb_strbuf_take(&b);
    if (*out == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory exporting a student");
    return GB_OK;
}

gb_status gb_sbdt_export_sql(const gb_model *m, char **out, gb_error *err)
{
    (void)m;
    *out = NULL;
    gb_error_set(err, GB_EUNUSABLE,
                 "an sbdt student has no SQL export: its rule is the argmax over "
                 "2^depth products of sigmoids of dot products over every feature, "
                 "which has no practical CASE form; export it as C");
    gb_error_field(err, "format");
    return GB_EUNUSABLE;
}
