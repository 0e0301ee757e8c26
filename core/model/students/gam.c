/*
 * gam.c - the GAM student: parameters, binning, cyclic boosting with bags,
 * early stopping, monotone projection, FAST interaction selection, and the
 * model operations (predict, margins, exact attributions).
 * Layer: core/model/students.  The artifact and code exports live in
 * gam_artifact.c.
 */
#include "core/model/students/gam.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/split.h"
#include "core/math/rng.h"
#include "core/model/students/gam_impl.h"
#include "core/parallel.h"

/* Values sampled per feature to place quantile bin edges. */
#define BIN_SAMPLE 200000
/* Bins per feature on the grid of interaction terms (plus missing). */
#define PAIR_BINS 32
/* Rows per block of a histogram pass; fixed so sums never depend on the
 * number of threads. */
#define ROW_BLOCK 8192
/* Below this many rows per bag the passes run on one thread. */
#define PARALLEL_MIN_ROWS 32768
/* A round improves when the mean validation loss drops by more than this. */
#define ES_TOLERANCE 1e-5
/* Added to every hessian sum of a leaf (keeps Newton steps finite). */
#define HESS_REG 1e-3

/* ------------------------------------------------------------------------ */
/* Parameters                                                               */
/* ------------------------------------------------------------------------ */

static const char *const param_names[] = {"rounds",
                                          "learning_rate",
                                          "max_bins",
                                          "bags",
                                          "interactions",
                                          "monotone",
                                          "early_stopping_rounds",
                                          "validation_fraction",
                                          "min_samples_leaf",
                                          "max_leaves",
                                          "smoothing_rounds"};
#define N_PARAM_NAMES (sizeof param_names / sizeof param_names[0])

static gb_status param_error(gb_error *err, const char *key, const char *value,
                             const char *what)
{
    gb_error_set(err, GB_EUNUSABLE, "gam parameter '%s' %s (got '%s')", key, what,
                 value);
    gb_error_field(err, key);
    return GB_EUNUSABLE;
}

static gb_status monotone_error(gb_error *err, const char *fmt, const char *name,
                                size_t name_len)
{
    char shown[160];
    snprintf(shown, sizeof shown, "%.*s", (int)(name_len < 120 ? name_len : 120), name);
    gb_error_set(err, GB_EUNUSABLE, fmt, shown);
    gb_error_field(err, "monotone");
    return GB_EUNUSABLE;
}

/* One constraint name -> d (+1/-1); with features, records it in dir. */
static gb_status monotone_item(const char *name, size_t name_len, int d,
                               const gb_feature *features, size_t n_features,
                               signed char *dir, gb_error *err)
{
    if (name_len == 0)
        return monotone_error(err, "gam parameter 'monotone': empty feature name%s", "",
                              0);
    if (d == 0)
        return monotone_error(
            err,
            "gam parameter 'monotone': direction of '%s' must be 1, +1 "
            "or -1",
            name, name_len);
    if (features == NULL)
        return GB_OK;
    size_t f = n_features;
    for (size_t j = 0; j < n_features; j++)
        if (strlen(features[j].name) == name_len &&
            memcmp(features[j].name, name, name_len) == 0)
            f = j;
    if (f == n_features)
        return monotone_error(err,
                              "gam parameter 'monotone': '%s' is not a feature of the "
                              "training set",
                              name, name_len);
    if (features[f].kind != GB_FEAT_NUMERIC)
        return monotone_error(err,
                              "gam parameter 'monotone': '%s' is categorical (monotone "
                              "needs a numeric feature)",
                              name, name_len);
    if (dir[f] != 0)
        return monotone_error(err, "gam parameter 'monotone': '%s' is given twice",
                              name, name_len);
    dir[f] = (signed char)d;
    return GB_OK;
}

/* The JSON form {"name": 1, "other": -1}. */
static gb_status monotone_parse_json(const char *text, const gb_feature *features,
                                     size_t n_features, signed char *dir, gb_error *err)
{
    gb_error perr;
    gb_error_clear(&perr);
    cJSON *obj = gb_json_parse(text, strlen(text), &perr);
    gb_status rc = GB_OK;
    if (obj == NULL || !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        if (perr.code == GB_ENOMEM)
            return gb_error_set(err, GB_ENOMEM, "out of memory reading 'monotone'");
        return monotone_error(
            err,
            "gam parameter 'monotone' must be name:1,name:-1 or a JSON "
            "object of 1 / -1 (got '%s')",
            text, strlen(text));
    }
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, obj)
    {
        int d = cJSON_IsNumber(item) && item->valuedouble == 1.0    ? 1
                : cJSON_IsNumber(item) && item->valuedouble == -1.0 ? -1
                                                                    : 0;
        rc = monotone_item(item->string, strlen(item->string), d, features, n_features,
                           dir, err);
        if (rc != GB_OK)
            break;
    }
    cJSON_Delete(obj);
    return rc;
}

gb_status gb_gam_monotone_parse(const char *text, const gb_feature *features,
                                size_t n_features, signed char *dir, gb_error *err)
{
    if (dir != NULL)
        memset(dir, 0, n_features);
    const char *p = text != NULL ? text : "";
    if (*p == '\0')
        return GB_OK;
    if (*p == '{')
        return monotone_parse_json(p, features, n_features, dir, err);
    for (;;) {
        const char *item_end = strchr(p, ',');
        size_t len = item_end != NULL ? (size_t)(item_end - p) : strlen(p);
        const char *colon = NULL;
        for (size_t i = 0; i < len; i++)
            if (p[i] == ':')
                colon = p + i;
        if (colon == NULL)
            return monotone_error(
                err,
                "gam parameter 'monotone' must be a list of name:1 or "
                "name:-1 (got '%s')",
                p, len);
        size_t name_len = (size_t)(colon - p);
        size_t dir_len = len - name_len - 1;
        int d = 0;
        if ((dir_len == 1 && colon[1] == '1') ||
            (dir_len == 2 && colon[1] == '+' && colon[2] == '1'))
            d = 1;
        else if (dir_len == 2 && colon[1] == '-' && colon[2] == '1')
            d = -1;
        gb_status rc = monotone_item(p, name_len, d, features, n_features, dir, err);
        if (rc != GB_OK)
            return rc;
        if (item_end == NULL)
            break;
        p = item_end + 1;
    }
    return GB_OK;
}

gb_status gb_gam_params_parse(const gb_param *params, size_t n_params,
                              gb_gam_params *out, gb_error *err)
{
    out->rounds = 5000;
    out->learning_rate = 0.02;
    out->max_bins = 255;
    out->bags = 4;
    out->interactions = 0;
    out->monotone = "";
    out->early_stopping_rounds = 50;
    out->validation_fraction = 0.15;
    out->min_samples_leaf = 2;
    out->max_leaves = 3;
    out->smoothing_rounds = 200;
    unsigned seen = 0;
    for (size_t i = 0; i < n_params; i++) {
        const char *key = params[i].key != NULL ? params[i].key : "";
        const char *value = params[i].value != NULL ? params[i].value : "";
        size_t which = N_PARAM_NAMES;
        for (size_t j = 0; j < N_PARAM_NAMES; j++)
            if (strcmp(key, param_names[j]) == 0)
                which = j;
        if (which == N_PARAM_NAMES) {
            gb_error_set(err, GB_EUNUSABLE,
                         "unknown gam parameter '%s' (known: rounds, learning_rate, "
                         "max_bins, bags, interactions, monotone, "
                         "early_stopping_rounds, validation_fraction, "
                         "min_samples_leaf, max_leaves, smoothing_rounds)",
                         key);
            gb_error_field(err, key);
            return GB_EUNUSABLE;
        }
        if (seen & (1u << which))
            return param_error(err, key, value, "is given twice");
        seen |= 1u << which;
        unsigned long long v = 0;
        double r = 0.0;
        switch (which) {
        case 0:
            if (!gb_param_parse_uint(value, 1, 100000, &v))
                return param_error(err, key, value, "must be an integer in 1..100000");
            out->rounds = (unsigned)v;
            break;
        case 1:
            if (!gb_param_parse_real(value, &r) || !(r > 0.0 && r <= 1.0))
                return param_error(err, key, value, "must be a number in (0, 1]");
            out->learning_rate = r;
            break;
        case 2:
            if (!gb_param_parse_uint(value, 2, 255, &v))
                return param_error(err, key, value, "must be an integer in 2..255");
            out->max_bins = (unsigned)v;
            break;
        case 3:
            if (!gb_param_parse_uint(value, 1, 64, &v))
                return param_error(err, key, value, "must be an integer in 1..64");
            out->bags = (unsigned)v;
            break;
        case 4:
            if (!gb_param_parse_uint(value, 0, 1000, &v))
                return param_error(err, key, value, "must be an integer in 0..1000");
            out->interactions = (unsigned)v;
            break;
        case 5: {
            gb_status rc = gb_gam_monotone_parse(value, NULL, 0, NULL, err);
            if (rc != GB_OK)
                return rc;
            out->monotone = value;
            break;
        }
        case 6:
            if (!gb_param_parse_uint(value, 1, 100000, &v))
                return param_error(err, key, value, "must be an integer in 1..100000");
            out->early_stopping_rounds = (unsigned)v;
            break;
        case 7:
            if (!gb_param_parse_real(value, &r) ||
                !(r == 0.0 || (r >= 0.01 && r <= 0.5)))
                return param_error(err, key, value,
                                   "must be 0 or a number in [0.01, 0.5]");
            out->validation_fraction = r;
            break;
        case 8:
            if (!gb_param_parse_uint(value, 1, (unsigned long long)UINT32_MAX, &v))
                return param_error(err, key, value, "must be an integer >= 1");
            out->min_samples_leaf = (size_t)v;
            break;
        case 9:
            if (!gb_param_parse_uint(value, 2, 3, &v))
                return param_error(err, key, value, "must be 2 or 3");
            out->max_leaves = (unsigned)v;
            break;
        default:
            if (!gb_param_parse_uint(value, 0, 100000, &v))
                return param_error(err, key, value, "must be an integer in 0..100000");
            out->smoothing_rounds = (unsigned)v;
            break;
        }
    }
    return GB_OK;
}

gb_status gb_gam_check(const gb_param *params, size_t n_params, gb_task task,
                       gb_error *err)
{
    gb_gam_params p;
    gb_status rc = gb_gam_params_parse(params, n_params, &p, err);
    if (rc != GB_OK)
        return rc;
    if (task == GB_TASK_MULTICLASS && p.monotone[0] != '\0') {
        gb_error_set(err, GB_EUNUSABLE,
                     "gam parameter 'monotone' is not available for multiclass "
                     "tasks");
        gb_error_field(err, "monotone");
        return GB_EUNUSABLE;
    }
    return GB_OK;
}

/* ------------------------------------------------------------------------ */
/* Model operations                                                         */
/* ------------------------------------------------------------------------ */

size_t gb_gam_bin(const gb_feature *feat, const double *edges, size_t n_edges,
                  size_t n_bins, double x)
{
    if (isnan(x))
        return n_bins - 1;
    if (feat->kind == GB_FEAT_CATEGORICAL) {
        if (x >= 0.0 && x < (double)(n_bins - 1) && x == floor(x))
            return (size_t)x;
        return n_bins - 1;
    }
    size_t lo = 0, hi = n_edges; /* first edge >= x */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (edges[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void gb_gam_impl_free(void *p)
{
    gam_impl *g = p;
    if (g == NULL)
        return;
    for (size_t j = 0; g->shapes != NULL && j < g->n_shapes; j++) {
        gb_free(g->shapes[j].edges);
        gb_free(g->shapes[j].scores);
        gb_free(g->shapes[j].std);
    }
    gb_free(g->shapes);
    for (size_t i = 0; g->pairs != NULL && i < g->n_pairs; i++) {
        gb_free(g->pairs[i].edges_a);
        gb_free(g->pairs[i].edges_b);
        gb_free(g->pairs[i].scores);
        gb_free(g->pairs[i].std);
    }
    gb_free(g->pairs);
    gb_free(g->intercept);
    gb_free(g->monotone);
    gb_free(g);
}

/* Margins of one row x into m[M]; when phi is non-NULL also the attribution
 * block phi[M x (F + 1)]. */
static void gam_row(const gb_model *model, const gam_impl *g, const double *x,
                    double *m, double *phi)
{
    size_t M = g->M, F = model->n_features;
    for (size_t k = 0; k < M; k++)
        m[k] = g->intercept[k];
    if (phi != NULL)
        for (size_t k = 0; k < M; k++) {
            memset(phi + k * (F + 1), 0, (F + 1) * sizeof *phi);
            phi[k * (F + 1) + F] = g->intercept[k];
        }
    for (size_t j = 0; j < F; j++) {
        const gam_shape *s = &g->shapes[j];
        size_t b =
            gb_gam_bin(&model->features[j], s->edges, s->n_edges, s->n_bins, x[j]);
        const double *v = s->scores + b * M;
        for (size_t k = 0; k < M; k++)
            m[k] += v[k];
        if (phi != NULL)
            for (size_t k = 0; k < M; k++)
                phi[k * (F + 1) + j] += v[k];
    }
    for (size_t q = 0; q < g->n_pairs; q++) {
        const gam_pair *pr = &g->pairs[q];
        size_t ia = gb_gam_bin(&model->features[pr->a], pr->edges_a, pr->n_edges_a,
                               pr->nb_a, x[pr->a]);
        size_t ib = gb_gam_bin(&model->features[pr->b], pr->edges_b, pr->n_edges_b,
                               pr->nb_b, x[pr->b]);
        const double *v = pr->scores + (ia * pr->nb_b + ib) * M;
        for (size_t k = 0; k < M; k++)
            m[k] += v[k];
        if (phi != NULL)
            for (size_t k = 0; k < M; k++) {
                phi[k * (F + 1) + pr->a] += 0.5 * v[k];
                phi[k * (F + 1) + pr->b] += 0.5 * v[k];
            }
    }
}

static gb_status gam_predict_margin(const gb_model *m, const double *X, size_t n_rows,
                                    double *out, gb_error *err)
{
    (void)err;
    const gam_impl *g = m->impl;
    for (size_t i = 0; i < n_rows; i++)
        gam_row(m, g, X + i * m->n_features, out + i * g->M, NULL);
    return GB_OK;
}

/* The link, in the exact arithmetic the exports reproduce. */
static void gam_link(const gb_model *m, const double *margin, double *out)
{
    if (m->task == GB_TASK_REGRESSION) {
        out[0] = margin[0];
    } else if (m->task == GB_TASK_BINARY) {
        double p1 = 1.0 / (1.0 + exp(-margin[0]));
        out[0] = 1.0 - p1;
        out[1] = p1;
    } else {
        size_t K = m->n_classes;
        for (size_t k = 0; k < K; k++) {
            double s = 0.0;
            for (size_t j = 0; j < K; j++)
                s += exp(margin[j] - margin[k]);
            out[k] = 1.0 / s;
        }
    }
}

static gb_status gam_predict(const gb_model *m, const double *X, size_t n_rows,
                             double *out, gb_error *err)
{
    const gam_impl *g = m->impl;
    double stack_m[16];
    double *margin = g->M <= 16 ? stack_m : gb_malloc_array(g->M, sizeof *margin);
    if (margin == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory predicting with a gam");
    for (size_t i = 0; i < n_rows; i++) {
        gam_row(m, g, X + i * m->n_features, margin, NULL);
        gam_link(m, margin, out + i * m->n_outputs);
    }
    if (margin != stack_m)
        gb_free(margin);
    return GB_OK;
}

static gb_status gam_attribute(const gb_model *m, const double *X, size_t n_rows,
                               double *phi, gb_error *err)
{
    const gam_impl *g = m->impl;
    double stack_m[16];
    double *margin = g->M <= 16 ? stack_m : gb_malloc_array(g->M, sizeof *margin);
    if (margin == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory explaining a gam");
    size_t block = g->M * (m->n_features + 1);
    for (size_t i = 0; i < n_rows; i++)
        gam_row(m, g, X + i * m->n_features, margin, phi + i * block);
    if (margin != stack_m)
        gb_free(margin);
    return GB_OK;
}

const gb_model_ops gb_gam_ops = {"gam",         gam_predict,    gam_predict_margin,
                                 gam_attribute, gb_gam_to_json, gb_gam_impl_free};

int gb_gam_is(const gb_model *m)
{
    return m != NULL && m->ops == &gb_gam_ops;
}

void gb_gam_complexity(const gb_model *m, size_t *n_terms, size_t *rounds_used)
{
    const gam_impl *g = m->impl;
    *n_terms = m->n_features + g->n_pairs;
    *rounds_used = g->rounds_used;
}

gb_status gb_gam_shape(const gb_model *m, size_t j, size_t *n_bins,
                       const double **scores, const double **std, gb_error *err)
{
    if (!gb_gam_is(m) || j >= m->n_features)
        return gb_error_set(err, GB_EUNUSABLE, "no gam shape %zu", j);
    const gam_impl *g = m->impl;
    *n_bins = g->shapes[j].n_bins;
    *scores = g->shapes[j].scores;
    *std = g->shapes[j].std;
    return GB_OK;
}

char *gb_gam_monotone_text(const gb_model *m)
{
    const gam_impl *g = m->impl;
    size_t len = 1;
    for (size_t j = 0; j < m->n_features; j++)
        if (g->monotone[j] != 0)
            len += strlen(m->features[j].name) + 4;
    char *text = gb_malloc(len);
    if (text == NULL)
        return NULL;
    size_t at = 0;
    text[0] = '\0';
    for (size_t j = 0; j < m->n_features; j++)
        if (g->monotone[j] != 0)
            at +=
                (size_t)snprintf(text + at, len - at, "%s%s:%s", at ? "," : "",
                                 m->features[j].name, g->monotone[j] > 0 ? "1" : "-1");
    return text;
}

/* ------------------------------------------------------------------------ */
/* Fitting: shared data                                                     */
/* ------------------------------------------------------------------------ */

/* A term being boosted: a main effect (b == SIZE_MAX) or a pair. */
typedef struct term {
    size_t a, b;
    size_t nb_a, nb_b; /* pair sides (incl. missing); main: nb_a bins */
    size_t n_cells;
    size_t offset; /* into the score vector, in cells */
    signed char mono;
} term;

typedef struct gam_data {
    const gb_train_set *ts;
    gb_gam_params p;
    size_t n, F, M, C;
    gb_task task;
    double alpha, T;
    uint16_t *bins;  /* F x n, column-major main bins */
    uint16_t *pbins; /* F x n coarse bins (interactions), or NULL */
    double **edges;  /* per feature main edges */
    size_t *n_edges;
    double **pedges; /* per feature coarse edges */
    size_t *n_pedges;
    double *target;  /* regression: n targets; classification: n x C target
                        distribution alpha*onehot + (1-alpha)*q (for init) */
    int32_t *strata; /* classification: stratification labels */
    signed char *mono;
    term *terms;             /* F mains then pairs */
    size_t n_terms, n_cells; /* total cells of all terms */
    double *cell_count;      /* n_cells: training rows per cell (all rows) */
    size_t max_cells;
    const gb_progress *progress;
} gam_data;

typedef struct gam_bag {
    size_t *tr, n_tr, *va, n_va;
    double *F_tr, *F_va;
    double *b0;      /* M */
    double *scores;  /* n_cells x M */
    double *best;    /* n_cells x M snapshot of the best round */
    double *hist;    /* n_blocks x max_cells x (2M + 1) */
    double *delta;   /* max_cells x M */
    double *scratch; /* n_blocks x 4M */
    size_t n_blocks;
    size_t rounds_used;
    gb_status status;
    unsigned inner_threads;
    size_t index;
    /* the running stage (see boost_stage) */
    size_t st_round, st_best_round;
    double st_best_loss;
    int st_done;
    gb_rng st_rng;
} gam_bag;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double edge_between(double a, double b)
{
    double mid = a * 0.5 + b * 0.5;
    if (!(mid >= a && mid < b))
        mid = a;
    return mid;
}

/* Quantile edges of numeric feature f (at most max_bins - 1) into edges;
 * returns their number, or SIZE_MAX when out of memory. */
static size_t quantile_edges(const double *X, size_t n, size_t F, size_t f,
                             size_t max_bins, double *edges)
{
    size_t stride = n > BIN_SAMPLE ? (n + BIN_SAMPLE - 1) / BIN_SAMPLE : 1;
    double *sample = gb_malloc_array(n / stride + 1, sizeof *sample);
    if (sample == NULL)
        return SIZE_MAX;
    size_t m = 0;
    for (size_t i = 0; i < n; i += stride) {
        double x = X[i * F + f];
        if (!isnan(x))
            sample[m++] = x;
    }
    qsort(sample, m, sizeof *sample, cmp_double);
    size_t n_distinct = 0;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || sample[i] != sample[i - 1])
            n_distinct++;
    size_t n_edges = 0;
    if (n_distinct <= max_bins) {
        for (size_t i = 1; i < m; i++)
            if (sample[i] != sample[i - 1])
                edges[n_edges++] = edge_between(sample[i - 1], sample[i]);
    } else {
        size_t next = 1;
        for (size_t i = 0; i < m;) {
            size_t j = i;
            while (j < m && sample[j] == sample[i])
                j++;
            if (j >= m)
                break;
            if ((double)j * (double)max_bins >= (double)next * (double)m &&
                n_edges + 1 < max_bins) {
                edges[n_edges++] = edge_between(sample[i], sample[j]);
                while ((double)next * (double)m <= (double)j * (double)max_bins)
                    next++;
            }
            i = j;
        }
    }
    gb_free(sample);
    return n_edges;
}

/* Bins every row of feature f (main grid or coarse grid). */
static gb_status bin_feature(gam_data *d, size_t f, size_t max_bins, double **edges_out,
                             size_t *n_edges_out, uint16_t *bins)
{
    const gb_train_set *ts = d->ts;
    const gb_feature *feat = &ts->features[f];
    size_t n_edges = 0, nb;
    double *edges = NULL;
    if (feat->kind == GB_FEAT_NUMERIC) {
        edges = gb_malloc_array(max_bins, sizeof *edges);
        if (edges == NULL)
            return GB_ENOMEM;
        n_edges = quantile_edges(ts->X, d->n, d->F, f, max_bins, edges);
        if (n_edges == SIZE_MAX) {
            gb_free(edges);
            return GB_ENOMEM;
        }
        nb = n_edges + 2;
    } else {
        nb = feat->n_levels + 1;
    }
    for (size_t i = 0; i < d->n; i++)
        bins[i] = (uint16_t)gb_gam_bin(feat, edges, n_edges, nb, ts->X[i * d->F + f]);
    *edges_out = edges;
    *n_edges_out = n_edges;
    return GB_OK;
}

static size_t feature_bins(const gam_data *d, size_t f, int coarse)
{
    const gb_feature *feat = &d->ts->features[f];
    if (feat->kind == GB_FEAT_CATEGORICAL)
        return feat->n_levels + 1;
    return (coarse ? d->n_pedges[f] : d->n_edges[f]) + 2;
}

/* Cell of row i in term t. */
static inline size_t term_cell(const gam_data *d, const term *t, size_t i)
{
    if (t->b == SIZE_MAX)
        return d->bins[t->a * d->n + i];
    return (size_t)d->pbins[t->a * d->n + i] * t->nb_b + d->pbins[t->b * d->n + i];
}

/* ------------------------------------------------------------------------ */
/* Loss, gradient and hessian                                               */
/* ------------------------------------------------------------------------ */

/* softmax of z[0..K) / T into p */
static void softmax_t(const double *z, size_t K, double T, double *p)
{
    double mx = z[0];
    for (size_t k = 1; k < K; k++)
        if (z[k] > mx)
            mx = z[k];
    double s = 0.0;
    for (size_t k = 0; k < K; k++) {
        p[k] = exp((z[k] - mx) / T);
        s += p[k];
    }
    for (size_t k = 0; k < K; k++)
        p[k] /= s;
}

/* Gradient g[M] and hessian h[M] of row i's loss at margins Fi; tmp has 2M
 * doubles. */
static inline void row_grad(const gam_data *d, size_t i, const double *Fi, double *g,
                            double *h, double *tmp)
{
    const gb_train_set *ts = d->ts;
    double alpha = d->alpha, T = d->T;
    if (d->task == GB_TASK_REGRESSION) {
        g[0] = Fi[0] - d->target[i];
        h[0] = 1.0;
        return;
    }
    if (d->task == GB_TASK_BINARY) {
        double p = 1.0 / (1.0 + exp(-Fi[0]));
        if (T == 1.0 || alpha == 1.0) {
            g[0] = p - d->target[i * 2 + 1];
            h[0] = p * (1.0 - p);
            return;
        }
        double pt = 1.0 / (1.0 + exp(-Fi[0] / T));
        double y = alpha > 0.0 && ts->y_class[i] == 1 ? 1.0 : 0.0;
        double q = ts->soft[i * 2 + 1];
        g[0] = alpha * (p - y) + (1.0 - alpha) * T * (pt - q);
        h[0] = alpha * p * (1.0 - p) + (1.0 - alpha) * pt * (1.0 - pt);
        return;
    }
    size_t K = d->C;
    double *p = tmp, *pt = tmp + K;
    softmax_t(Fi, K, 1.0, p);
    if (T == 1.0 || alpha == 1.0) {
        for (size_t k = 0; k < K; k++) {
            g[k] = p[k] - d->target[i * K + k];
            h[k] = p[k] * (1.0 - p[k]);
        }
        return;
    }
    softmax_t(Fi, K, T, pt);
    for (size_t k = 0; k < K; k++) {
        double y = alpha > 0.0 && ts->y_class[i] == (int32_t)k ? 1.0 : 0.0;
        double q = ts->soft[i * K + k];
        g[k] = alpha * (p[k] - y) + (1.0 - alpha) * T * (pt[k] - q);
        h[k] = alpha * p[k] * (1.0 - p[k]) + (1.0 - alpha) * pt[k] * (1.0 - pt[k]);
    }
}

static double clamp_log(double p)
{
    if (p < 1e-15)
        p = 1e-15;
    return log(p);
}

/* Loss of row i at margins Fi (the distillation loss without the entropy of
 * q_T, which does not depend on the model). */
static double row_loss(const gam_data *d, size_t i, const double *Fi, double *tmp)
{
    const gb_train_set *ts = d->ts;
    double alpha = d->alpha, T = d->T;
    if (d->task == GB_TASK_REGRESSION) {
        double r = Fi[0] - d->target[i];
        return r * r;
    }
    size_t K = d->C;
    double *p = tmp, *pt = tmp + K;
    int soft_t = alpha < 1.0 && T != 1.0;
    if (d->task == GB_TASK_BINARY) {
        p[1] = 1.0 / (1.0 + exp(-Fi[0]));
        p[0] = 1.0 / (1.0 + exp(Fi[0]));
        if (soft_t) {
            pt[1] = 1.0 / (1.0 + exp(-Fi[0] / T));
            pt[0] = 1.0 / (1.0 + exp(Fi[0] / T));
        }
    } else {
        softmax_t(Fi, K, 1.0, p);
        if (soft_t)
            softmax_t(Fi, K, T, pt);
    }
    if (!soft_t)
        pt = p;
    double loss = 0.0;
    if (alpha > 0.0)
        loss += alpha * -clamp_log(p[ts->y_class[i]]);
    if (alpha < 1.0) {
        double ce = 0.0;
        for (size_t k = 0; k < K; k++)
            ce -= ts->soft[i * K + k] * clamp_log(pt[k]);
        loss += (1.0 - alpha) * T * T * ce;
    }
    return loss;
}

/* ------------------------------------------------------------------------ */
/* Fitting: histogram passes                                                */
/* ------------------------------------------------------------------------ */

typedef struct pass_job {
    const gam_data *d;
    gam_bag *bag;
    const term *prev;         /* apply bag->delta of this term first, or NULL */
    const term *cur;          /* build the histogram of this term, or NULL */
    const double *prev_delta; /* max_cells x M */
} pass_job;

static void pass_block_cb(void *vctx, size_t blk)
{
    pass_job *job = vctx;
    const gam_data *d = job->d;
    gam_bag *bag = job->bag;
    size_t M = d->M, stride = 2 * M + 1;
    size_t begin = blk * ROW_BLOCK, end = begin + ROW_BLOCK;
    if (end > bag->n_tr)
        end = bag->n_tr;
    double *hist = bag->hist + blk * d->max_cells * stride;
    double *tmp = bag->scratch + blk * 4 * M;
    double *g = tmp + 2 * M, *h = tmp + 3 * M;
    if (job->cur != NULL)
        memset(hist, 0, job->cur->n_cells * stride * sizeof *hist);
    int simple = d->task == GB_TASK_REGRESSION ||
                 (d->task == GB_TASK_BINARY && (d->T == 1.0 || d->alpha == 1.0));
    if (simple && job->cur != NULL && job->cur->b == SIZE_MAX &&
        (job->prev == NULL || job->prev->b == SIZE_MAX)) {
        /* the common case, with the arithmetic of row_grad */
        const uint16_t *prev_bins =
            job->prev != NULL ? d->bins + job->prev->a * d->n : NULL;
        const uint16_t *cur_bins = d->bins + job->cur->a * d->n;
        const double *pd = job->prev_delta, *target = d->target;
        const size_t *tr = bag->tr;
        double *F = bag->F_tr;
        int binary = d->task == GB_TASK_BINARY;
        for (size_t t = begin; t < end; t++) {
            size_t i = tr[t];
            if (prev_bins != NULL)
                F[t] += pd[prev_bins[i]];
            double gi, hi;
            if (binary) {
                double p = 1.0 / (1.0 + exp(-F[t]));
                gi = p - target[i * 2 + 1];
                hi = p * (1.0 - p);
            } else {
                gi = F[t] - target[i];
                hi = 1.0;
            }
            double *cell = hist + (size_t)cur_bins[i] * 3;
            cell[0] += gi;
            cell[1] += hi;
            cell[2] += 1.0;
        }
        return;
    }
    for (size_t t = begin; t < end; t++) {
        size_t i = bag->tr[t];
        double *Fi = bag->F_tr + t * M;
        if (job->prev != NULL) {
            const double *dv = job->prev_delta + term_cell(d, job->prev, i) * M;
            for (size_t k = 0; k < M; k++)
                Fi[k] += dv[k];
        }
        if (job->cur == NULL)
            continue;
        row_grad(d, i, Fi, g, h, tmp);
        double *cell = hist + term_cell(d, job->cur, i) * stride;
        for (size_t k = 0; k < M; k++) {
            cell[k] += g[k];
            cell[M + k] += h[k];
        }
        cell[2 * M] += 1.0;
    }
}

/* Runs one pass over the bag's training rows and, with cur, leaves the
 * summed histogram in block 0 of bag->hist. */
static void run_pass(const gam_data *d, gam_bag *bag, const term *prev,
                     const double *prev_delta, const term *cur)
{
    pass_job job = {d, bag, prev, cur, prev_delta};
    gb_parallel_for(bag->n_blocks, bag->inner_threads, pass_block_cb, &job);
    if (cur == NULL)
        return;
    size_t len = cur->n_cells * (2 * d->M + 1);
    size_t stride = d->max_cells * (2 * d->M + 1);
    for (size_t blk = 1; blk < bag->n_blocks; blk++) {
        const double *src = bag->hist + blk * stride;
        for (size_t c = 0; c < len; c++)
            bag->hist[c] += src[c];
    }
}

/* ------------------------------------------------------------------------ */
/* Fitting: per-term updates                                                */
/* ------------------------------------------------------------------------ */

/* sum_k G_k^2 / (H_k + reg) of a histogram cell-sum s (2M + 1 entries). */
static double node_score(const double *s, size_t M)
{
    double v = 0.0;
    for (size_t k = 0; k < M; k++)
        v += s[k] * s[k] / (s[M + k] + HESS_REG);
    return v;
}

typedef struct seg_split {
    double gain;
    size_t cut; /* left = order[lo..cut], right = order[cut+1..hi] */
} seg_split;

/* Best single cut of the ordered bins order[lo..hi] (inclusive).  acc is a
 * scratch of 2 x (2M + 1). */
static seg_split best_cut(const double *hist, const size_t *order, size_t lo, size_t hi,
                          size_t M, size_t min_leaf, double *acc)
{
    size_t stride = 2 * M + 1;
    seg_split best = {0.0, SIZE_MAX};
    double *left = acc, *total = acc + stride;
    memset(acc, 0, 2 * stride * sizeof *acc);
    for (size_t b = lo; b <= hi; b++)
        for (size_t c = 0; c < stride; c++)
            total[c] += hist[order[b] * stride + c];
    double parent = node_score(total, M);
    for (size_t b = lo; b < hi; b++) {
        const double *cell = hist + order[b] * stride;
        for (size_t c = 0; c < stride; c++)
            left[c] += cell[c];
        double nl = left[2 * M], nr = total[2 * M] - nl;
        if (nl < (double)min_leaf || nr < (double)min_leaf)
            continue;
        double sl = node_score(left, M), sr = 0.0;
        for (size_t k = 0; k < M; k++) {
            double gr = total[k] - left[k], hr = total[M + k] - left[M + k];
            sr += gr * gr / (hr + HESS_REG);
        }
        double gain = sl + sr - parent;
        if (gain > best.gain + 1e-12 * fabs(parent)) {
            best.gain = gain;
            best.cut = b;
        }
    }
    return best;
}

/* Sets delta[order[lo..hi]] to the Newton value of the segment times lr. */
static void set_leaf(const double *hist, const size_t *order, size_t lo, size_t hi,
                     size_t M, double lr, double *delta, double *acc)
{
    size_t stride = 2 * M + 1;
    memset(acc, 0, stride * sizeof *acc);
    for (size_t b = lo; b <= hi; b++)
        for (size_t c = 0; c < stride; c++)
            acc[c] += hist[order[b] * stride + c];
    for (size_t b = lo; b <= hi; b++)
        for (size_t k = 0; k < M; k++)
            delta[order[b] * M + k] = -lr * acc[k] / (acc[M + k] + HESS_REG);
}

/* Weighted pool-adjacent-violators: v[0..n) becomes the nondecreasing
 * least-squares fit with weights w.  blk_v, blk_w, blk_n: scratch of n. */
static void pav(double *v, const double *w, size_t n, double *blk_v, double *blk_w,
                size_t *blk_n)
{
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        blk_v[nb] = v[i];
        blk_w[nb] = w[i];
        blk_n[nb] = 1;
        nb++;
        while (nb > 1 && blk_v[nb - 2] > blk_v[nb - 1]) {
            double ww = blk_w[nb - 2] + blk_w[nb - 1];
            blk_v[nb - 2] =
                (blk_v[nb - 2] * blk_w[nb - 2] + blk_v[nb - 1] * blk_w[nb - 1]) / ww;
            blk_w[nb - 2] = ww;
            blk_n[nb - 2] += blk_n[nb - 1];
            nb--;
        }
    }
    size_t at = 0;
    for (size_t b = 0; b < nb; b++)
        for (size_t j = 0; j < blk_n[b]; j++)
            v[at++] = blk_v[b];
}

typedef struct term_scratch {
    size_t *order;
    double *acc;   /* 4 x (2M + 1) */
    double *ratio; /* max_cells */
    double *pav_v, *pav_w, *pav_bv, *pav_bw;
    size_t *pav_bn;
    gb_rng rng;    /* the bag's stream for smoothing cuts */
    int smoothing; /* nonzero: cuts are drawn at random */
} term_scratch;

/* A cut of order[lo..hi] drawn uniformly among those leaving min_leaf rows
 * on both sides (gain 1), or none (cut SIZE_MAX). */
static seg_split random_cut(const double *hist, const size_t *order, size_t lo,
                            size_t hi, size_t M, size_t min_leaf, gb_rng *rng)
{
    size_t stride = 2 * M + 1;
    seg_split out = {0.0, SIZE_MAX};
    double total = 0.0, left = 0.0;
    size_t n_valid = 0;
    for (size_t b = lo; b <= hi; b++)
        total += hist[order[b] * stride + 2 * M];
    for (size_t b = lo; b < hi; b++) {
        left += hist[order[b] * stride + 2 * M];
        if (left >= (double)min_leaf && total - left >= (double)min_leaf)
            n_valid++;
    }
    if (n_valid == 0)
        return out;
    size_t pick = (size_t)gb_rng_below(rng, n_valid);
    left = 0.0;
    for (size_t b = lo; b < hi; b++) {
        left += hist[order[b] * stride + 2 * M];
        if (left >= (double)min_leaf && total - left >= (double)min_leaf &&
            pick-- == 0) {
            out.gain = 1.0;
            out.cut = b;
            break;
        }
    }
    return out;
}

static int cmp_ratio_ctx_sort(const double *ratio, size_t a, size_t b)
{
    if (ratio[a] < ratio[b])
        return -1;
    if (ratio[a] > ratio[b])
        return 1;
    return (a > b) - (a < b);
}

/* insertion sort of order[0..n) by (ratio, index): levels are few */
static void sort_by_ratio(size_t *order, size_t n, const double *ratio)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = order[i], j = i;
        while (j > 0 && cmp_ratio_ctx_sort(ratio, order[j - 1], v) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

/* Computes bag->delta for a main term from the summed histogram (block 0).
 * Returns nonzero when anything changes. */
static int main_update(const gam_data *d, gam_bag *bag, const term *t, term_scratch *s)
{
    size_t M = d->M, stride = 2 * M + 1, nb = t->nb_a, nv = nb - 1;
    const double *hist = bag->hist;
    double lr = d->p.learning_rate;
    size_t msl = d->p.min_samples_leaf;
    memset(bag->delta, 0, nb * M * sizeof *bag->delta);
    for (size_t b = 0; b < nv; b++)
        s->order[b] = b;
    if (d->ts->features[t->a].kind == GB_FEAT_CATEGORICAL && nv > 1) {
        /* order levels by G/H of the margin whose ratios vary most */
        size_t best_k = 0;
        double best_v = -1.0;
        for (size_t k = 0; k < M; k++) {
            double v = 0.0;
            for (size_t b = 0; b < nv; b++) {
                const double *c = hist + b * stride;
                v += c[k] * c[k] / (c[M + k] + HESS_REG);
            }
            if (v > best_v) {
                best_v = v;
                best_k = k;
            }
        }
        for (size_t b = 0; b < nv; b++) {
            const double *c = hist + b * stride;
            s->ratio[b] = c[2 * M] > 0.0 ? c[best_k] / (c[M + best_k] + HESS_REG) : 0.0;
        }
        sort_by_ratio(s->order, nv, s->ratio);
    }
    int changed = 0;
    if (nv > 0) {
        seg_split first = s->smoothing
                              ? random_cut(hist, s->order, 0, nv - 1, M, msl, &s->rng)
                              : best_cut(hist, s->order, 0, nv - 1, M, msl, s->acc);
        if (first.cut != SIZE_MAX) {
            changed = 1;
            size_t c1 = first.cut;
            seg_split l = {0.0, SIZE_MAX}, r = {0.0, SIZE_MAX};
            if (d->p.max_leaves >= 3 && s->smoothing) {
                /* a random second cut on a random side */
                if (gb_rng_below(&s->rng, 2) == 0)
                    l = random_cut(hist, s->order, 0, c1, M, msl, &s->rng);
                else if (c1 + 1 < nv - 1)
                    r = random_cut(hist, s->order, c1 + 1, nv - 1, M, msl, &s->rng);
            } else if (d->p.max_leaves >= 3) {
                if (c1 > 0)
                    l = best_cut(hist, s->order, 0, c1, M, msl, s->acc);
                if (c1 + 1 < nv - 1)
                    r = best_cut(hist, s->order, c1 + 1, nv - 1, M, msl, s->acc);
            }
            if (l.cut != SIZE_MAX && l.gain >= r.gain) {
                set_leaf(hist, s->order, 0, l.cut, M, lr, bag->delta, s->acc);
                set_leaf(hist, s->order, l.cut + 1, c1, M, lr, bag->delta, s->acc);
                set_leaf(hist, s->order, c1 + 1, nv - 1, M, lr, bag->delta, s->acc);
            } else if (r.cut != SIZE_MAX) {
                set_leaf(hist, s->order, 0, c1, M, lr, bag->delta, s->acc);
                set_leaf(hist, s->order, c1 + 1, r.cut, M, lr, bag->delta, s->acc);
                set_leaf(hist, s->order, r.cut + 1, nv - 1, M, lr, bag->delta, s->acc);
            } else {
                set_leaf(hist, s->order, 0, c1, M, lr, bag->delta, s->acc);
                set_leaf(hist, s->order, c1 + 1, nv - 1, M, lr, bag->delta, s->acc);
            }
        }
    }
    /* the missing bin is its own leaf */
    const double *miss = hist + nv * stride;
    if (miss[2 * M] >= (double)msl && miss[2 * M] > 0.0) {
        for (size_t k = 0; k < M; k++)
            bag->delta[nv * M + k] = -lr * miss[k] / (miss[M + k] + HESS_REG);
        changed = 1;
    }
    if (t->mono != 0 && changed && nv > 1) {
        double *shape = bag->scores + t->offset * M; /* M == 1 here */
        double sign = (double)t->mono;
        for (size_t b = 0; b < nv; b++) {
            s->pav_v[b] = sign * (shape[b] + bag->delta[b]);
            s->pav_w[b] = d->cell_count[t->offset + b] + 1e-9;
        }
        pav(s->pav_v, s->pav_w, nv, s->pav_bv, s->pav_bw, s->pav_bn);
        for (size_t b = 0; b < nv; b++)
            bag->delta[b] = sign * s->pav_v[b] - shape[b];
    }
    return changed;
}

/* 4-cell FAST split of a pair's grid histogram: the best cut on each side
 * (side a rows ia <= ca, side b columns ib <= cb; the missing bin sorts
 * last).  Fills the 4 quadrant sums q[4 x stride] and returns the gain (0
 * when no valid split).  pre: scratch (nb_a x nb_b x stride) for prefix
 * sums. */
static double fast_split(const double *hist, size_t na, size_t nbb, size_t M,
                         size_t msl, double *pre, size_t *ca_out, size_t *cb_out,
                         double *q)
{
    size_t stride = 2 * M + 1;
    /* pre[ia][ib] = sum over cells (<= ia, <= ib) */
    for (size_t ia = 0; ia < na; ia++)
        for (size_t ib = 0; ib < nbb; ib++) {
            double *p = pre + (ia * nbb + ib) * stride;
            const double *h = hist + (ia * nbb + ib) * stride;
            for (size_t c = 0; c < stride; c++) {
                double v = h[c];
                if (ia > 0)
                    v += pre[((ia - 1) * nbb + ib) * stride + c];
                if (ib > 0)
                    v += pre[(ia * nbb + ib - 1) * stride + c];
                if (ia > 0 && ib > 0)
                    v -= pre[((ia - 1) * nbb + ib - 1) * stride + c];
                p[c] = v;
            }
        }
    const double *tot = pre + ((na - 1) * nbb + nbb - 1) * stride;
    double parent = node_score(tot, M), best = 0.0;
    double cells[4 * 64];
    double *qq = stride * 4 <= 4 * 64 ? cells : q; /* q doubles as scratch */
    int found = 0;
    for (size_t ca = 0; ca + 1 < na; ca++)
        for (size_t cb = 0; cb + 1 < nbb; cb++) {
            const double *a_b = pre + (ca * nbb + cb) * stride;        /* ll */
            const double *a_all = pre + (ca * nbb + nbb - 1) * stride; /* row band */
            const double *all_b = pre + ((na - 1) * nbb + cb) * stride;
            double score = 0.0;
            int ok = 1;
            for (size_t c = 0; c < stride; c++) {
                qq[c] = a_b[c];
                qq[stride + c] = a_all[c] - a_b[c];
                qq[2 * stride + c] = all_b[c] - a_b[c];
                qq[3 * stride + c] = tot[c] - a_all[c] - all_b[c] + a_b[c];
            }
            for (size_t r = 0; r < 4; r++) {
                if (qq[r * stride + 2 * M] < (double)msl)
                    ok = 0;
                score += node_score(qq + r * stride, M);
            }
            if (!ok)
                continue;
            double gain = score - parent;
            if (gain > best + 1e-12 * fabs(parent)) {
                best = gain;
                *ca_out = ca;
                *cb_out = cb;
                found = 1;
            }
        }
    if (!found)
        return 0.0;
    const double *a_b = pre + (*ca_out * nbb + *cb_out) * stride;
    const double *a_all = pre + (*ca_out * nbb + nbb - 1) * stride;
    const double *all_b = pre + ((na - 1) * nbb + *cb_out) * stride;
    for (size_t c = 0; c < stride; c++) {
        q[c] = a_b[c];
        q[stride + c] = a_all[c] - a_b[c];
        q[2 * stride + c] = all_b[c] - a_b[c];
        q[3 * stride + c] = tot[c] - a_all[c] - all_b[c] + a_b[c];
    }
    return best;
}

static int pair_update(const gam_data *d, gam_bag *bag, const term *t, double *pre,
                       double *q)
{
    size_t M = d->M, stride = 2 * M + 1;
    size_t ca = 0, cb = 0;
    memset(bag->delta, 0, t->n_cells * M * sizeof *bag->delta);
    double gain = fast_split(bag->hist, t->nb_a, t->nb_b, M, d->p.min_samples_leaf, pre,
                             &ca, &cb, q);
    if (!(gain > 0.0))
        return 0;
    double lr = d->p.learning_rate;
    for (size_t ia = 0; ia < t->nb_a; ia++)
        for (size_t ib = 0; ib < t->nb_b; ib++) {
            size_t r = (ia <= ca ? 0 : 2) + (ib <= cb ? 0 : 1);
            const double *s = q + r * stride;
            for (size_t k = 0; k < M; k++)
                bag->delta[(ia * t->nb_b + ib) * M + k] =
                    -lr * s[k] / (s[M + k] + HESS_REG);
        }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Fitting: one bag                                                         */
/* ------------------------------------------------------------------------ */

/* Recomputes F for rows idx[0..n) from b0 and the scores of terms
 * [0, n_terms); returns the summed loss. */
static double recompute(const gam_data *d, const double *b0, const double *scores,
                        size_t n_terms, const size_t *idx, size_t n, double *Fo,
                        double *tmp)
{
    size_t M = d->M;
    double loss = 0.0;
    for (size_t r = 0; r < n; r++) {
        size_t i = idx[r];
        double *Fi = Fo + r * M;
        for (size_t k = 0; k < M; k++)
            Fi[k] = b0[k];
        for (size_t tt = 0; tt < n_terms; tt++) {
            const term *t = &d->terms[tt];
            const double *v = scores + (t->offset + term_cell(d, t, i)) * M;
            for (size_t k = 0; k < M; k++)
                Fi[k] += v[k];
        }
        loss += row_loss(d, i, Fi, tmp);
    }
    return loss;
}

typedef struct bag_job {
    const gam_data *d;
    gam_bag *bags;
    size_t term_lo, term_hi; /* terms boosted in this stage */
    size_t r_end;            /* run up to this round */
} bag_job;

/* Runs the bag's stage (terms [term_lo, term_hi)) up to round r_end.  The
 * stage's state lives in the bag (st_*), so a stage can run in chunks of
 * rounds with identical results; the first call (st_round == 0) starts it,
 * the call that stops it restores the best round and sets st_done. */
static gb_status boost_stage(const gam_data *d, gam_bag *bag, size_t term_lo,
                             size_t term_hi, size_t r_end)
{
    size_t M = d->M, stride = 2 * M + 1;
    gb_status rc = GB_OK;
    term_scratch s;
    memset(&s, 0, sizeof s);
    double *pre = NULL, *q = NULL, *tmp = NULL;
    size_t mc = d->max_cells;
    if (bag->st_done)
        return GB_OK;
    s.order = gb_malloc_array(mc, sizeof *s.order);
    s.acc = gb_malloc_array(4 * stride, sizeof *s.acc);
    s.ratio = gb_malloc_array(mc, sizeof *s.ratio);
    s.pav_v = gb_malloc_array(mc, sizeof(double));
    s.pav_w = gb_malloc_array(mc, sizeof(double));
    s.pav_bv = gb_malloc_array(mc, sizeof(double));
    s.pav_bw = gb_malloc_array(mc, sizeof(double));
    s.pav_bn = gb_malloc_array(mc, sizeof(size_t));
    q = gb_malloc_array(4 * stride + 4 * 64, sizeof *q);
    tmp = gb_malloc_array(2 * (M + d->C), sizeof *tmp);
    if (term_hi > d->F)
        pre = gb_malloc_array(mc * stride, sizeof *pre);
    if (s.order == NULL || s.acc == NULL || s.ratio == NULL || s.pav_v == NULL ||
        s.pav_w == NULL || s.pav_bv == NULL || s.pav_bw == NULL || s.pav_bn == NULL ||
        q == NULL || tmp == NULL || (term_hi > d->F && pre == NULL)) {
        rc = GB_ENOMEM;
        goto done;
    }
    int early = bag->n_va > 0;
    size_t rounds = d->p.rounds;
    if (bag->st_round == 0) {
        bag->st_best_loss = INFINITY;
        bag->st_best_round = 0;
        if (early) {
            bag->st_best_loss = recompute(d, bag->b0, bag->scores, term_lo, bag->va,
                                          bag->n_va, bag->F_va, tmp);
            memcpy(bag->best, bag->scores, d->n_cells * M * sizeof *bag->best);
        }
        gb_rng root;
        gb_rng_seed(&root, d->ts->seed ^ 0x736d6f6f7468ULL);
        bag->st_rng = gb_rng_split(&root, (uint64_t)bag->index * 2 + (term_lo > 0));
    }
    s.rng = bag->st_rng;
    size_t smoothing = term_lo == 0 ? d->p.smoothing_rounds : 0;
    size_t r;
    int stop = 0;
    for (r = bag->st_round; r < rounds && r < r_end; r++) {
        s.smoothing = r < smoothing;
        if (gb_progress_cancelled(d->progress)) {
            rc = GB_ECANCELLED;
            goto done;
        }
        const term *prev = NULL;
        int any = 0;
        for (size_t tt = term_lo; tt < term_hi; tt++) {
            const term *t = &d->terms[tt];
            run_pass(d, bag, prev, bag->delta, t);
            int changed = t->b == SIZE_MAX ? main_update(d, bag, t, &s)
                                           : pair_update(d, bag, t, pre, q);
            double *sc = bag->scores + t->offset * M;
            for (size_t c = 0; c < t->n_cells * M; c++)
                sc[c] += bag->delta[c];
            prev = changed ? t : NULL;
            any |= changed;
        }
        if (prev != NULL)
            run_pass(d, bag, prev, bag->delta, NULL);
        if (early) {
            double loss = recompute(d, bag->b0, bag->scores, term_hi, bag->va,
                                    bag->n_va, bag->F_va, tmp);
            if (loss < bag->st_best_loss - ES_TOLERANCE * (double)bag->n_va) {
                bag->st_best_loss = loss;
                bag->st_best_round = r + 1;
                memcpy(bag->best, bag->scores, d->n_cells * M * sizeof *bag->best);
            } else if (r + 1 - bag->st_best_round >= d->p.early_stopping_rounds) {
                stop = 1;
            }
        }
        if (!any)
            stop = 1;
        if (stop) {
            r++;
            break;
        }
    }
    bag->st_round = r;
    bag->st_rng = s.rng;
    if (!stop && r < rounds)
        goto done; /* more chunks to come */
    bag->st_done = 1;
    if (early) {
        memcpy(bag->scores, bag->best, d->n_cells * M * sizeof *bag->best);
        if (bag->st_best_round > bag->rounds_used)
            bag->rounds_used = bag->st_best_round;
        /* the training margins of the kept model */
        recompute(d, bag->b0, bag->scores, term_hi, bag->tr, bag->n_tr, bag->F_tr, tmp);
    } else if (r > bag->rounds_used) {
        bag->rounds_used = r;
    }
done:
    gb_free(s.order);
    gb_free(s.acc);
    gb_free(s.ratio);
    gb_free(s.pav_v);
    gb_free(s.pav_w);
    gb_free(s.pav_bv);
    gb_free(s.pav_bw);
    gb_free(s.pav_bn);
    gb_free(pre);
    gb_free(q);
    gb_free(tmp);
    return rc;
}

static void bag_stage_cb(void *vctx, size_t b)
{
    bag_job *job = vctx;
    gam_bag *bag = &job->bags[b];
    if (bag->status != GB_OK)
        return;
    bag->status = boost_stage(job->d, bag, job->term_lo, job->term_hi, job->r_end);
}

/* Rounds per chunk between progress reports. */
#define ROUND_CHUNK 50

/* Runs a stage in every bag, in chunks of rounds, reporting progress
 * between chunks (on the caller's thread) as phase, from f0 to f1. */
static gb_status run_stage(const gam_data *d, gam_bag *bags, size_t n_bags,
                           unsigned outer, size_t term_lo, size_t term_hi,
                           const char *phase, double f0, double f1, gb_error *err)
{
    for (size_t b = 0; b < n_bags; b++) {
        bags[b].st_round = 0;
        bags[b].st_done = 0;
    }
    bag_job job = {d, bags, term_lo, term_hi, 0};
    for (;;) {
        job.r_end += ROUND_CHUNK;
        gb_parallel_for(n_bags, outer, bag_stage_cb, &job);
        int all_done = 1;
        for (size_t b = 0; b < n_bags; b++) {
            if (bags[b].status != GB_OK) {
                gb_status rc = bags[b].status;
                return gb_error_set(err, rc,
                                    rc == GB_ECANCELLED
                                        ? "gam: fit cancelled"
                                        : "out of memory fitting a gam");
            }
            all_done &= bags[b].st_done;
        }
        if (all_done)
            return GB_OK;
        double frac = (double)job.r_end / (double)d->p.rounds;
        gb_progress_report(d->progress, phase,
                           f0 + (f1 - f0) * (frac < 1.0 ? frac : 1.0));
    }
}

static void bag_free(gam_bag *bag)
{
    gb_free(bag->tr);
    gb_free(bag->va);
    gb_free(bag->F_tr);
    gb_free(bag->F_va);
    gb_free(bag->b0);
    gb_free(bag->scores);
    gb_free(bag->best);
    gb_free(bag->hist);
    gb_free(bag->delta);
    gb_free(bag->scratch);
}

/* Draws the bag's split and allocates its state; b0 from the bag's training
 * targets. */
static gb_status bag_init(const gam_data *d, gam_bag *bag, size_t index,
                          unsigned inner_threads, gb_error *err)
{
    size_t n = d->n, M = d->M;
    memset(bag, 0, sizeof *bag);
    bag->index = index;
    if (d->p.validation_fraction > 0.0) {
        gb_split sp;
        gb_rng root;
        gb_rng_seed(&root, d->ts->seed ^ 0x6a6d5f6761ULL);
        gb_rng stream = gb_rng_split(&root, (uint64_t)index);
        gb_status rc = gb_split_train_test(d->strata, d->strata != NULL ? d->C : 0, n,
                                           d->p.validation_fraction,
                                           gb_rng_u64(&stream), &sp, err);
        if (rc != GB_OK) {
            gb_error_set(err, rc,
                         "gam: cannot draw the inner validation split of %zu rows "
                         "(validation_fraction %g; set it to 0 for tiny data)",
                         n, d->p.validation_fraction);
            gb_error_field(err, "validation_fraction");
            return rc;
        }
        bag->tr = sp.train;
        bag->n_tr = sp.n_train;
        bag->va = sp.test;
        bag->n_va = sp.n_test;
    } else {
        bag->tr = gb_malloc_array(n, sizeof *bag->tr);
        if (bag->tr == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory fitting a gam");
        for (size_t i = 0; i < n; i++)
            bag->tr[i] = i;
        bag->n_tr = n;
    }
    bag->n_blocks = (bag->n_tr + ROW_BLOCK - 1) / ROW_BLOCK;
    bag->inner_threads = bag->n_tr >= PARALLEL_MIN_ROWS ? inner_threads : 1;
    size_t stride = 2 * M + 1;
    bag->F_tr = gb_malloc_array(bag->n_tr, M * sizeof(double));
    bag->F_va = gb_malloc_array(bag->n_va ? bag->n_va : 1, M * sizeof(double));
    bag->b0 = gb_calloc(M, sizeof(double));
    bag->scores = gb_calloc(d->n_cells * M, sizeof(double));
    bag->best = gb_calloc(d->n_cells * M, sizeof(double));
    bag->hist = gb_malloc_array(bag->n_blocks * d->max_cells, stride * sizeof(double));
    bag->delta = gb_calloc(d->max_cells * M, sizeof(double));
    bag->scratch = gb_malloc_array(bag->n_blocks, 4 * M * sizeof(double));
    if (bag->F_tr == NULL || bag->F_va == NULL || bag->b0 == NULL ||
        bag->scores == NULL || bag->best == NULL || bag->hist == NULL ||
        bag->delta == NULL || bag->scratch == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory fitting a gam");
    /* initial margins: the prior of the bag's training targets */
    if (d->task == GB_TASK_REGRESSION) {
        double s = 0.0;
        for (size_t t = 0; t < bag->n_tr; t++)
            s += d->target[bag->tr[t]];
        bag->b0[0] = s / (double)bag->n_tr;
    } else {
        size_t K = d->C;
        double *mean = gb_calloc(K, sizeof *mean);
        if (mean == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory fitting a gam");
        for (size_t t = 0; t < bag->n_tr; t++)
            for (size_t k = 0; k < K; k++)
                mean[k] += d->target[bag->tr[t] * K + k];
        for (size_t k = 0; k < K; k++) {
            mean[k] /= (double)bag->n_tr;
            if (mean[k] < 1e-6)
                mean[k] = 1e-6;
            if (mean[k] > 1.0 - 1e-6)
                mean[k] = 1.0 - 1e-6;
        }
        if (d->task == GB_TASK_BINARY)
            bag->b0[0] = log(mean[1] / mean[0]);
        else
            for (size_t k = 0; k < K; k++)
                bag->b0[k] = log(mean[k]);
        gb_free(mean);
    }
    for (size_t t = 0; t < bag->n_tr; t++)
        memcpy(bag->F_tr + t * M, bag->b0, M * sizeof(double));
    return GB_OK;
}

/* ------------------------------------------------------------------------ */
/* Fitting: interaction selection (FAST)                                    */
/* ------------------------------------------------------------------------ */

typedef struct fast_job {
    const gam_data *d;
    const double *G;  /* n x M gradients */
    const double *Hs; /* n x M hessians */
    const size_t *pa, *pb;
    double *gain;
    gb_status *status;
} fast_job;

static void fast_pair_cb(void *vctx, size_t q)
{
    fast_job *job = vctx;
    const gam_data *d = job->d;
    size_t M = d->M, stride = 2 * M + 1, n = d->n;
    size_t a = job->pa[q], b = job->pb[q];
    size_t na = feature_bins(d, a, 1), nbb = feature_bins(d, b, 1);
    double *hist = gb_calloc(na * nbb, stride * sizeof(double));
    double *pre = gb_malloc_array(na * nbb, stride * sizeof(double));
    double *qs = gb_malloc_array(4 * stride + 4 * 64, sizeof(double));
    if (hist == NULL || pre == NULL || qs == NULL) {
        job->status[q] = GB_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)d->pbins[a * n + i] * nbb + d->pbins[b * n + i];
        double *cell = hist + c * stride;
        for (size_t k = 0; k < M; k++) {
            cell[k] += job->G[i * M + k];
            cell[M + k] += job->Hs[i * M + k];
        }
        cell[2 * M] += 1.0;
    }
    size_t ca = 0, cb = 0;
    job->gain[q] =
        fast_split(hist, na, nbb, M, d->p.min_samples_leaf, pre, &ca, &cb, qs);
done:
    gb_free(hist);
    gb_free(pre);
    gb_free(qs);
}

/* A pair may enter the model when neither feature is monotone and both
 * grids are small (categorical features of at most 64 levels). */
static int pair_ok(const gam_data *d, size_t a, size_t b)
{
    return d->mono[a] == 0 && d->mono[b] == 0 && feature_bins(d, a, 1) <= 65 &&
           feature_bins(d, b, 1) <= 65;
}

/* Ranks every admissible pair on the gradients of the bag-averaged main
 * model and appends the chosen pair terms to d->terms.  Sets *n_pairs. */
static gb_status select_pairs(gam_data *d, const gam_bag *bags, size_t n_bags,
                              size_t *n_pairs, gb_error *err)
{
    size_t n = d->n, M = d->M, F = d->F;
    gb_status rc = GB_OK;
    double *G = NULL, *Hs = NULL, *Fi = NULL, *tmp = NULL, *gain = NULL;
    size_t *pa = NULL, *pb = NULL;
    gb_status *status = NULL;
    *n_pairs = 0;
    size_t n_cand = 0;
    for (size_t a = 0; a < F; a++)
        for (size_t b = a + 1; b < F; b++)
            if (pair_ok(d, a, b))
                n_cand++;
    if (n_cand == 0)
        return GB_OK;
    G = gb_malloc_array(n, M * sizeof(double));
    Hs = gb_malloc_array(n, M * sizeof(double));
    Fi = gb_calloc(M, sizeof(double));
    tmp = gb_malloc_array(2 * (M + d->C), sizeof(double));
    gain = gb_calloc(n_cand, sizeof *gain);
    pa = gb_malloc_array(n_cand, sizeof *pa);
    pb = gb_malloc_array(n_cand, sizeof *pb);
    status = gb_calloc(n_cand, sizeof *status);
    if (G == NULL || Hs == NULL || Fi == NULL || tmp == NULL || gain == NULL ||
        pa == NULL || pb == NULL || status == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory choosing gam interactions");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < M; k++)
            Fi[k] = 0.0;
        for (size_t bg = 0; bg < n_bags; bg++) {
            for (size_t k = 0; k < M; k++)
                Fi[k] += bags[bg].b0[k];
            for (size_t f = 0; f < F; f++) {
                const term *t = &d->terms[f];
                const double *v =
                    bags[bg].scores + (t->offset + term_cell(d, t, i)) * M;
                for (size_t k = 0; k < M; k++)
                    Fi[k] += v[k];
            }
        }
        for (size_t k = 0; k < M; k++)
            Fi[k] /= (double)n_bags;
        row_grad(d, i, Fi, G + i * M, Hs + i * M, tmp);
    }
    size_t at = 0;
    for (size_t a = 0; a < F; a++)
        for (size_t b = a + 1; b < F; b++)
            if (pair_ok(d, a, b)) {
                pa[at] = a;
                pb[at] = b;
                at++;
            }
    fast_job job = {d, G, Hs, pa, pb, gain, status};
    gb_parallel_for(n_cand, d->ts->n_threads, fast_pair_cb, &job);
    for (size_t q = 0; q < n_cand; q++)
        if (status[q] != GB_OK) {
            rc =
                gb_error_set(err, status[q], "out of memory choosing gam interactions");
            goto done;
        }
    /* top pairs by gain, ties to the lower pair */
    size_t want = d->p.interactions < n_cand ? d->p.interactions : n_cand;
    size_t offset = d->n_cells;
    for (size_t c = 0; c < want; c++) {
        size_t best = SIZE_MAX;
        for (size_t q = 0; q < n_cand; q++)
            if (gain[q] > 0.0 && (best == SIZE_MAX || gain[q] > gain[best]))
                best = q;
        if (best == SIZE_MAX)
            break;
        gain[best] = -1.0;
        term *t = &d->terms[F + c];
        t->a = pa[best];
        t->b = pb[best];
        t->nb_a = feature_bins(d, t->a, 1);
        t->nb_b = feature_bins(d, t->b, 1);
        t->n_cells = t->nb_a * t->nb_b;
        t->offset = offset;
        t->mono = 0;
        offset += t->n_cells;
        if (t->n_cells > d->max_cells)
            d->max_cells = t->n_cells;
        (*n_pairs)++;
    }
    d->n_cells = offset;
done:
    gb_free(G);
    gb_free(Hs);
    gb_free(Fi);
    gb_free(tmp);
    gb_free(gain);
    gb_free(pa);
    gb_free(pb);
    gb_free(status);
    return rc;
}

/* Grows the bags' score vectors to d->n_cells (new cells zero) and their
 * histogram / delta buffers to d->max_cells. */
static gb_status bags_grow(const gam_data *d, gam_bag *bags, size_t n_bags,
                           size_t old_cells)
{
    size_t M = d->M, stride = 2 * M + 1;
    for (size_t b = 0; b < n_bags; b++) {
        gam_bag *bag = &bags[b];
        double *s = gb_realloc_array(bag->scores, d->n_cells * M, sizeof(double));
        if (s == NULL)
            return GB_ENOMEM;
        bag->scores = s;
        memset(s + old_cells * M, 0, (d->n_cells - old_cells) * M * sizeof(double));
        double *best = gb_realloc_array(bag->best, d->n_cells * M, sizeof(double));
        if (best == NULL)
            return GB_ENOMEM;
        bag->best = best;
        double *h = gb_realloc_array(bag->hist, bag->n_blocks * d->max_cells,
                                     stride * sizeof(double));
        if (h == NULL)
            return GB_ENOMEM;
        bag->hist = h;
        double *dl = gb_realloc_array(bag->delta, d->max_cells * M, sizeof(double));
        if (dl == NULL)
            return GB_ENOMEM;
        bag->delta = dl;
    }
    return GB_OK;
}

/* ------------------------------------------------------------------------ */
/* Fitting: validation, assembly                                            */
/* ------------------------------------------------------------------------ */

static gb_status check_train_set(const gb_train_set *ts, gb_error *err)
{
    if (ts == NULL || (ts->n_features > 0 && (ts->X == NULL || ts->features == NULL)))
        return gb_error_set(err, GB_EUNUSABLE,
                            "gam: training set has no design matrix");
    if (ts->n_rows < 2)
        return gb_error_set(err, GB_EUNUSABLE,
                            "gam: training set has fewer than 2 rows");
    if (ts->n_rows >= (size_t)UINT32_MAX)
        return gb_error_set(err, GB_ETOOLARGE,
                            "gam: %zu training rows exceed the limit of %u", ts->n_rows,
                            UINT32_MAX - 1);
    if (!(ts->alpha >= 0.0 && ts->alpha <= 1.0))
        return gb_error_set(err, GB_EUNUSABLE, "gam: alpha must be in [0, 1]");
    if (!(ts->temperature > 0.0 && isfinite(ts->temperature)))
        return gb_error_set(err, GB_EUNUSABLE, "gam: temperature must be > 0");
    if (ts->task == GB_TASK_REGRESSION) {
        if (ts->alpha > 0.0 && ts->y_value == NULL)
            return gb_error_set(err, GB_EUNUSABLE, "gam: alpha > 0 needs hard targets");
    } else if (ts->task == GB_TASK_BINARY || ts->task == GB_TASK_MULTICLASS) {
        if (ts->n_classes < 2 || ts->classes == NULL ||
            (ts->task == GB_TASK_BINARY && ts->n_classes != 2))
            return gb_error_set(err, GB_EUNUSABLE, "gam: bad number of classes (%zu)",
                                ts->n_classes);
        if (ts->alpha > 0.0 && ts->y_class == NULL)
            return gb_error_set(err, GB_EUNUSABLE, "gam: alpha > 0 needs hard labels");
    } else {
        return gb_error_set(err, GB_EUNUSABLE, "gam: the task must be resolved");
    }
    if (ts->alpha < 1.0 && ts->soft == NULL)
        return gb_error_set(err, GB_EUNUSABLE, "gam: alpha < 1 needs soft targets");
    for (size_t f = 0; f < ts->n_features; f++) {
        const gb_feature *feat = &ts->features[f];
        int cat = feat->kind == GB_FEAT_CATEGORICAL;
        if (cat && feat->n_levels > 65534) {
            gb_error_set(err, GB_EUNUSABLE, "gam: feature '%s' has too many levels",
                         feat->name);
            gb_error_field(err, feat->name);
            return GB_EUNUSABLE;
        }
        for (size_t i = 0; i < ts->n_rows; i++) {
            double x = ts->X[i * ts->n_features + f];
            if (isnan(x))
                continue;
            int bad = cat ? !(x >= 0.0 && x < (double)feat->n_levels && x == floor(x))
                          : !isfinite(x);
            if (bad) {
                gb_error_set(err, GB_EUNUSABLE,
                             cat ? "gam: feature '%s' of training row %zu is not a "
                                   "level code"
                                 : "gam: feature '%s' of training row %zu is infinite",
                             feat->name, i + 1);
                gb_error_field(err, feat->name);
                return GB_EUNUSABLE;
            }
        }
    }
    return GB_OK;
}

/* Targets (validated) and stratification labels. */
static gb_status build_targets(gam_data *d, gb_error *err)
{
    const gb_train_set *ts = d->ts;
    size_t n = d->n, K = d->C;
    double alpha = ts->alpha;
    if (d->task == GB_TASK_REGRESSION) {
        d->target = gb_malloc_array(n, sizeof(double));
        if (d->target == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory fitting a gam");
        for (size_t i = 0; i < n; i++) {
            double y = alpha > 0.0 ? ts->y_value[i] : 0.0;
            double s = alpha < 1.0 ? ts->soft[i] : 0.0;
            if (!isfinite(y) || !isfinite(s))
                return gb_error_set(err, GB_EUNUSABLE,
                                    "gam: target of training row %zu is not a finite "
                                    "number",
                                    i + 1);
            d->target[i] = alpha == 1.0   ? y
                           : alpha == 0.0 ? s
                                          : alpha * y + (1.0 - alpha) * s;
        }
        return GB_OK;
    }
    d->target = gb_malloc_array(n, K * sizeof(double));
    d->strata = gb_malloc_array(n, sizeof(int32_t));
    if (d->target == NULL || d->strata == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory fitting a gam");
    for (size_t i = 0; i < n; i++) {
        long y = -1;
        if (alpha > 0.0) {
            y = ts->y_class[i];
            if (y < 0 || (size_t)y >= K)
                return gb_error_set(err, GB_EUNUSABLE,
                                    "gam: class label %ld of training row %zu is "
                                    "outside 0..%zu",
                                    y, i + 1, K - 1);
        }
        size_t arg = 0;
        for (size_t k = 0; k < K; k++) {
            double s = 0.0;
            if (alpha < 1.0) {
                s = ts->soft[i * K + k];
                if (!(s >= 0.0 && s <= 1.0))
                    return gb_error_set(err, GB_EUNUSABLE,
                                        "gam: soft target %zu of training row %zu is "
                                        "not a probability",
                                        k + 1, i + 1);
                if (s > ts->soft[i * K + arg])
                    arg = k;
            }
            double hard = y == (long)k ? 1.0 : 0.0;
            d->target[i * K + k] = alpha == 1.0   ? hard
                                   : alpha == 0.0 ? s
                                                  : alpha * hard + (1.0 - alpha) * s;
        }
        d->strata[i] = (int32_t)(alpha > 0.0 ? y : (long)arg);
    }
    return GB_OK;
}

static void data_free(gam_data *d)
{
    gb_free(d->bins);
    gb_free(d->pbins);
    for (size_t f = 0; f < d->F; f++) {
        if (d->edges != NULL)
            gb_free(d->edges[f]);
        if (d->pedges != NULL)
            gb_free(d->pedges[f]);
    }
    gb_free(d->edges);
    gb_free(d->pedges);
    gb_free(d->n_edges);
    gb_free(d->n_pedges);
    gb_free(d->target);
    gb_free(d->strata);
    gb_free(d->mono);
    gb_free(d->terms);
    gb_free(d->cell_count);
}

/* Cell counts over all training rows for terms [lo, hi). */
static void count_cells(gam_data *d, size_t lo, size_t hi)
{
    for (size_t tt = lo; tt < hi; tt++) {
        const term *t = &d->terms[tt];
        double *c = d->cell_count + t->offset;
        memset(c, 0, t->n_cells * sizeof *c);
        for (size_t i = 0; i < d->n; i++)
            c[term_cell(d, t, i)] += 1.0;
    }
}

/* Centres each bag's terms over all training rows (means into b0), then
 * averages the bags into the model. */
static gb_status assemble(const gam_data *d, gam_bag *bags, size_t n_bags,
                          size_t n_pairs, gam_impl **out)
{
    size_t M = d->M, F = d->F, n = d->n;
    gam_impl *g = gb_calloc(1, sizeof *g);
    if (g == NULL)
        return GB_ENOMEM;
    g->M = M;
    g->params = d->p;
    g->params.monotone = NULL;
    g->intercept = gb_calloc(M, sizeof(double));
    g->shapes = gb_calloc(F ? F : 1, sizeof *g->shapes);
    g->n_shapes = F;
    g->monotone = gb_malloc(F ? F : 1);
    g->pairs = gb_calloc(n_pairs ? n_pairs : 1, sizeof *g->pairs);
    if (g->intercept == NULL || g->shapes == NULL || g->monotone == NULL ||
        g->pairs == NULL)
        goto nomem;
    if (F > 0)
        memcpy(g->monotone, d->mono, F);
    for (size_t b = 0; b < n_bags; b++) {
        gam_bag *bag = &bags[b];
        for (size_t tt = 0; tt < F + n_pairs; tt++) {
            const term *t = &d->terms[tt];
            double *sc = bag->scores + t->offset * M;
            for (size_t k = 0; k < M; k++) {
                double mean = 0.0;
                for (size_t c = 0; c < t->n_cells; c++)
                    mean += d->cell_count[t->offset + c] * sc[c * M + k];
                mean /= (double)n;
                /* a level no training row has (categorical mains) scores 0 */
                int cat = t->b == SIZE_MAX &&
                          d->ts->features[t->a].kind == GB_FEAT_CATEGORICAL;
                for (size_t c = 0; c < t->n_cells; c++)
                    sc[c * M + k] = cat && d->cell_count[t->offset + c] == 0.0
                                        ? 0.0
                                        : sc[c * M + k] - mean;
                bag->b0[k] += mean;
            }
        }
        for (size_t k = 0; k < M; k++)
            g->intercept[k] += bag->b0[k];
        if (bag->rounds_used > g->rounds_used)
            g->rounds_used = bag->rounds_used;
    }
    for (size_t k = 0; k < M; k++)
        g->intercept[k] /= (double)n_bags;
    for (size_t tt = 0; tt < F + n_pairs; tt++) {
        const term *t = &d->terms[tt];
        double *scores = gb_calloc(t->n_cells * M, sizeof(double));
        double *std = gb_calloc(t->n_cells * M, sizeof(double));
        if (scores == NULL || std == NULL) {
            gb_free(scores);
            gb_free(std);
            goto nomem;
        }
        for (size_t c = 0; c < t->n_cells * M; c++) {
            double s = 0.0;
            for (size_t b = 0; b < n_bags; b++)
                s += bags[b].scores[t->offset * M + c];
            double mean = s / (double)n_bags, ss = 0.0;
            for (size_t b = 0; b < n_bags; b++) {
                double dv = bags[b].scores[t->offset * M + c] - mean;
                ss += dv * dv;
            }
            scores[c] = mean;
            std[c] = n_bags > 1 ? sqrt(ss / (double)(n_bags - 1)) : 0.0;
        }
        if (tt < F) {
            gam_shape *s = &g->shapes[tt];
            s->scores = scores;
            s->std = std;
            s->n_bins = t->n_cells;
            s->n_edges = d->n_edges[tt];
            if (d->edges[tt] != NULL && s->n_edges > 0) {
                s->edges = gb_malloc_array(s->n_edges, sizeof(double));
                if (s->edges == NULL)
                    goto nomem;
                memcpy(s->edges, d->edges[tt], s->n_edges * sizeof(double));
            }
        } else {
            gam_pair *pr = &g->pairs[g->n_pairs++];
            pr->scores = scores;
            pr->std = std;
            pr->a = t->a;
            pr->b = t->b;
            pr->nb_a = t->nb_a;
            pr->nb_b = t->nb_b;
            pr->n_edges_a = d->n_pedges[t->a];
            pr->n_edges_b = d->n_pedges[t->b];
            if (pr->n_edges_a > 0) {
                pr->edges_a = gb_malloc_array(pr->n_edges_a, sizeof(double));
                if (pr->edges_a == NULL)
                    goto nomem;
                memcpy(pr->edges_a, d->pedges[t->a], pr->n_edges_a * sizeof(double));
            }
            if (pr->n_edges_b > 0) {
                pr->edges_b = gb_malloc_array(pr->n_edges_b, sizeof(double));
                if (pr->edges_b == NULL)
                    goto nomem;
                memcpy(pr->edges_b, d->pedges[t->b], pr->n_edges_b * sizeof(double));
            }
        }
    }
    *out = g;
    return GB_OK;
nomem:
    gb_gam_impl_free(g);
    return GB_ENOMEM;
}

gb_status gb_gam_fit(const gb_param *params, size_t n_params, const gb_train_set *ts,
                     const gb_progress *progress, gb_model **out, gb_error *err)
{
    gam_data d;
    memset(&d, 0, sizeof d);
    gam_bag *bags = NULL;
    gam_impl *impl = NULL;
    gb_status rc;
    if ((rc = gb_gam_params_parse(params, n_params, &d.p, err)) != GB_OK)
        return rc;
    if ((rc = check_train_set(ts, err)) != GB_OK)
        return rc;
    if ((rc = gb_gam_check(params, n_params, ts->task, err)) != GB_OK)
        return rc;
    d.ts = ts;
    d.n = ts->n_rows;
    d.F = ts->n_features;
    d.task = ts->task;
    d.C = ts->task == GB_TASK_REGRESSION ? 0 : ts->n_classes;
    d.M = ts->task == GB_TASK_MULTICLASS ? ts->n_classes : 1;
    d.alpha = ts->alpha;
    d.T = ts->soft != NULL ? ts->temperature : 1.0;
    d.progress = progress;
    size_t n = d.n, F = d.F, M = d.M;
    d.mono = gb_calloc(F ? F : 1, 1);
    if (d.mono == NULL)
        goto nomem;
    if ((rc = gb_gam_monotone_parse(d.p.monotone, ts->features, F, d.mono, err)) !=
        GB_OK)
        goto fail;
    if ((rc = build_targets(&d, err)) != GB_OK)
        goto fail;
    gb_progress_report(progress, "gam: binning", 0.0);
    size_t max_terms = F + d.p.interactions;
    d.bins = gb_malloc_array(F ? F : 1, n * sizeof(uint16_t));
    d.edges = gb_calloc(F ? F : 1, sizeof *d.edges);
    d.n_edges = gb_calloc(F ? F : 1, sizeof *d.n_edges);
    d.terms = gb_calloc(max_terms ? max_terms : 1, sizeof *d.terms);
    if (d.bins == NULL || d.edges == NULL || d.n_edges == NULL || d.terms == NULL)
        goto nomem;
    for (size_t f = 0; f < F; f++)
        if (bin_feature(&d, f, d.p.max_bins, &d.edges[f], &d.n_edges[f],
                        d.bins + f * n) != GB_OK)
            goto nomem;
    d.max_cells = 1;
    for (size_t f = 0; f < F; f++) {
        term *t = &d.terms[f];
        t->a = f;
        t->b = SIZE_MAX;
        t->nb_a = feature_bins(&d, f, 0);
        t->n_cells = t->nb_a;
        t->offset = d.n_cells;
        t->mono = d.mono[f];
        d.n_cells += t->n_cells;
        if (t->n_cells > d.max_cells)
            d.max_cells = t->n_cells;
    }
    if (d.p.interactions > 0 && F >= 2) {
        d.pbins = gb_malloc_array(F, n * sizeof(uint16_t));
        d.pedges = gb_calloc(F, sizeof *d.pedges);
        d.n_pedges = gb_calloc(F, sizeof *d.n_pedges);
        if (d.pbins == NULL || d.pedges == NULL || d.n_pedges == NULL)
            goto nomem;
        for (size_t f = 0; f < F; f++)
            if (bin_feature(&d, f, PAIR_BINS, &d.pedges[f], &d.n_pedges[f],
                            d.pbins + f * n) != GB_OK)
                goto nomem;
    }
    d.cell_count = gb_malloc_array(d.n_cells ? d.n_cells : 1, sizeof(double));
    if (d.cell_count == NULL)
        goto nomem;
    count_cells(&d, 0, F);

    size_t n_bags = d.p.bags;
    unsigned threads = ts->n_threads ? ts->n_threads : 1;
    unsigned outer = threads < n_bags ? threads : (unsigned)n_bags;
    unsigned inner = outer > 1 ? 1 : threads;
    bags = gb_calloc(n_bags, sizeof *bags);
    if (bags == NULL)
        goto nomem;
    for (size_t b = 0; b < n_bags; b++)
        if ((rc = bag_init(&d, &bags[b], b, inner, err)) != GB_OK)
            goto fail;
    gb_progress_report(progress, "gam: main effects", 0.05);
    double main_end = d.p.interactions > 0 ? 0.6 : 0.95;
    if ((rc = run_stage(&d, bags, n_bags, outer, 0, F, "gam: main effects", 0.05,
                        main_end, err)) != GB_OK)
        goto fail;
    size_t n_pairs = 0;
    if (d.pbins != NULL) {
        gb_progress_report(progress, "gam: interactions", 0.6);
        size_t old_cells = d.n_cells;
        if ((rc = select_pairs(&d, bags, n_bags, &n_pairs, err)) != GB_OK)
            goto fail;
        if (n_pairs > 0) {
            double *cc = gb_realloc_array(d.cell_count, d.n_cells, sizeof(double));
            if (cc == NULL)
                goto nomem;
            d.cell_count = cc;
            count_cells(&d, F, F + n_pairs);
            if (bags_grow(&d, bags, n_bags, old_cells) != GB_OK)
                goto nomem;
            if ((rc = run_stage(&d, bags, n_bags, outer, F, F + n_pairs,
                                "gam: interactions", 0.65, 0.95, err)) != GB_OK)
                goto fail;
        }
    }
    if (assemble(&d, bags, n_bags, n_pairs, &impl) != GB_OK)
        goto nomem;
    char *const *classes = ts->task == GB_TASK_REGRESSION ? NULL : ts->classes;
    gb_model *m = gb_model_create(&gb_gam_ops, impl, ts->task, ts->features, F, classes,
                                  d.C, err);
    impl = NULL; /* owned by the model shell, even on failure */
    if (m == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto fail;
    }
    (void)M;
    gb_progress_report(progress, "gam: done", 1.0);
    *out = m;
    rc = GB_OK;
    goto cleanup;
nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory fitting a gam");
fail:
cleanup:
    for (size_t b = 0; bags != NULL && b < d.p.bags; b++)
        bag_free(&bags[b]);
    gb_free(bags);
    gb_gam_impl_free(impl);
    data_free(&d);
    return rc;
}
