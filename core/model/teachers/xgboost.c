/*
 * xgboost.c - XGBoost tree ensembles: JSON/UBJSON loading with validation of
 * every index, a flattened node array, and float32 scoring identical to
 * xgboost's CPU predictor.
 * Layer: core/model/teachers.
 */
#include "core/model/teachers/xgboost.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/teachers/ubjson.h"
#include "core/model/treeshap.h"

/* ---- the flattened model -------------------------------------------------- */

/* One node, 16 bytes.  Children of a split are adjacent: left at `left`,
 * right at `left + 1` (the loader lays trees out that way), so a step is
 * `i = left + go_right`.  A leaf is absorbing: left = its own index - 1,
 * value = NaN and default right, so every step from it returns to it; this
 * lets several rows walk one tree in lock-step for a fixed number of steps
 * (the tree's depth) without branches.  The leaf value is in `leaf`. */
typedef struct xgb_node {
    int32_t left;
    uint32_t split; /* feature | XGB_DEFAULT_LEFT | XGB_CATEGORICAL | XGB_LEAF */
    float value;    /* split condition (NaN in leaves) */
    float leaf;     /* leaf value (0 in splits) */
} xgb_node;

#define XGB_FEATURE_MASK 0x0fffffffu
#define XGB_DEFAULT_LEFT 0x80000000u
#define XGB_CATEGORICAL 0x40000000u
#define XGB_LEAF 0x20000000u

/* Rows scored together against one tree (keeps the tree in cache), and rows
 * walking a tree in lock-step. */
#define XGB_ROW_BLOCK 64
#define XGB_LANES 16
#define XGB_LOCKSTEP_MAX_DEPTH 12

typedef enum xgb_link {
    XGB_LINK_IDENTITY,
    XGB_LINK_SIGMOID,
    XGB_LINK_SOFTMAX
} xgb_link;

typedef struct xgb_impl {
    char objective[32];
    xgb_link link;
    int version[3];
    size_t n_groups; /* margins per row: 1, or num_class */
    size_t n_features;
    size_t n_trees;
    size_t n_nodes;
    xgb_node *nodes;      /* every tree, flattened */
    uint32_t *tree_root;  /* n_trees: index of each root in nodes */
    uint32_t *tree_group; /* n_trees: output group of each tree */
    uint32_t *tree_depth; /* n_trees: longest root-to-leaf path (edges) */
    float *base_margin;   /* n_groups margins every row starts from */
    int has_cover;        /* every tree so far has positive finite sum_hessian */
    double *base_score;   /* base_score values as in the file */
    size_t n_base_score;
    int has_categorical;
    uint32_t *cat_offset;  /* n_nodes (with categorical splits): first word */
    uint32_t *cat_words_n; /* n_nodes: bitset words of that node */
    uint32_t *cat_words;   /* bitsets: bit c set = category c goes right */
    size_t n_cat_words;
    gb_forest *forest; /* the trees with their sum_hessian covers, for
                          TreeSHAP; NULL when the file has no usable covers */
} xgb_impl;

static void xgb_impl_free(void *p)
{
    xgb_impl *m = p;
    if (m == NULL)
        return;
    gb_free(m->nodes);
    gb_free(m->tree_root);
    gb_free(m->tree_group);
    gb_free(m->tree_depth);
    gb_free(m->base_margin);
    gb_free(m->base_score);
    gb_free(m->cat_offset);
    gb_free(m->cat_words_n);
    gb_free(m->cat_words);
    gb_forest_free(m->forest);
    gb_free(m);
}

/* ---- scoring -------------------------------------------------------------- */

/* Categorical decision as xgboost's common::Decision: invalid (negative)
 * codes and codes beyond the bitset go left, listed codes go right. */
static inline int32_t category_right(const xgb_impl *m, uint32_t node, float v)
{
    if (!(v >= 0.0f) || v >= 16777216.0f)
        return 0;
    uint32_t c = (uint32_t)v;
    uint32_t word = c >> 5;
    if (word >= m->cat_words_n[node])
        return 0;
    return (m->cat_words[m->cat_offset[node] + word] >> (c & 31u)) & 1u;
}

/* One step from node i: fvalue < condition goes left (or, in a categorical
 * split, an unlisted category goes left), NaN follows the default
 * direction.  Leaves step to themselves. */
static inline int32_t step(const xgb_impl *m, int32_t i, const float *x,
                           int categorical)
{
    const xgb_node *nd = m->nodes + i;
    float v = x[nd->split & XGB_FEATURE_MASK];
    int32_t right = !(v < nd->value);
    if (categorical && (nd->split & XGB_CATEGORICAL) && !isnan(v))
        right = category_right(m, (uint32_t)i, v);
    int32_t missing_right = !(nd->split & XGB_DEFAULT_LEFT);
    return nd->left + (isnan(v) ? missing_right : right);
}

/* Adds tree t's leaf values to acc[r * stride] for nb rows of xf (nf floats
 * each), walking XGB_LANES rows in lock-step for depth steps. */
static inline void add_tree(const xgb_impl *m, size_t t, const float *xf, size_t nf,
                            size_t nb, float *acc, size_t stride, int categorical)
{
    const int32_t root = (int32_t)m->tree_root[t];
    const uint32_t depth = m->tree_depth[t];
    size_t r = 0;
    if (depth > XGB_LOCKSTEP_MAX_DEPTH) {
        /* deep (e.g. loss-guided) trees: most paths are much shorter than
         * the deepest, so each row stops at its own leaf */
        for (; r < nb; r++) {
            int32_t i = root;
            while (!(m->nodes[i].split & XGB_LEAF))
                i = step(m, i, xf + r * nf, categorical);
            acc[r * stride] += m->nodes[i].leaf;
        }
        return;
    }
    for (; r + XGB_LANES <= nb; r += XGB_LANES) {
        int32_t idx[XGB_LANES];
        const float *x = xf + r * nf;
        for (int k = 0; k < XGB_LANES; k++)
            idx[k] = root;
        for (uint32_t d = 0; d < depth; d++)
            for (int k = 0; k < XGB_LANES; k++)
                idx[k] = step(m, idx[k], x + (size_t)k * nf, categorical);
        for (int k = 0; k < XGB_LANES; k++)
            acc[(r + (size_t)k) * stride] += m->nodes[idx[k]].leaf;
    }
    for (; r < nb; r++) {
        int32_t i = root;
        for (uint32_t d = 0; d < depth; d++)
            i = step(m, i, xf + r * nf, categorical);
        acc[r * stride] += m->nodes[i].leaf;
    }
}

/* Margins of n_rows rows of X (row-major doubles) into margin[n_rows x
 * n_groups] (floats): base margin, then each tree's leaf added in tree order
 * (xgboost's order, so the float sums are identical).  xf is scratch for
 * XGB_ROW_BLOCK x n_features floats. */
static void score_margins(const xgb_impl *m, const double *X, size_t n_rows,
                          float *margin, float *xf)
{
    size_t nf = m->n_features, ng = m->n_groups;
    for (size_t r0 = 0; r0 < n_rows; r0 += XGB_ROW_BLOCK) {
        size_t nb = n_rows - r0 < XGB_ROW_BLOCK ? n_rows - r0 : XGB_ROW_BLOCK;
        const double *xb = X + r0 * nf;
        for (size_t i = 0; i < nb * nf; i++)
            xf[i] = (float)xb[i];
        float *mb = margin + r0 * ng;
        for (size_t r = 0; r < nb; r++)
            for (size_t g = 0; g < ng; g++)
                mb[r * ng + g] = m->base_margin[g];
        for (size_t t = 0; t < m->n_trees; t++) {
            float *acc = mb + m->tree_group[t];
            if (m->has_categorical)
                add_tree(m, t, xf, nf, nb, acc, ng, 1);
            else
                add_tree(m, t, xf, nf, nb, acc, ng, 0);
        }
    }
}

static float sigmoid_f(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* Shared by predict and predict_margin: scratch per call, none per row. */
static gb_status predict_impl(const gb_model *model, const double *X, size_t n_rows,
                              double *out, int margins_only, gb_error *err)
{
    const xgb_impl *m = model->impl;
    size_t ng = m->n_groups;
    size_t chunk = 4096; /* rows whose float margins are held at once */
    float *margin = gb_malloc_array(chunk * ng, sizeof *margin);
    float *xf = gb_malloc_array(XGB_ROW_BLOCK * (m->n_features ? m->n_features : 1),
                                sizeof *xf);
    if (margin == NULL || xf == NULL) {
        gb_free(margin);
        gb_free(xf);
        return gb_error_set(err, GB_ENOMEM, "out of memory scoring %zu rows", n_rows);
    }
    for (size_t r0 = 0; r0 < n_rows; r0 += chunk) {
        size_t nr = n_rows - r0 < chunk ? n_rows - r0 : chunk;
        score_margins(m, X + r0 * m->n_features, nr, margin, xf);
        if (margins_only) {
            for (size_t i = 0; i < nr * ng; i++)
                out[r0 * ng + i] = margin[i];
            continue;
        }
        double *o = out + r0 * model->n_outputs;
        for (size_t r = 0; r < nr; r++) {
            float *mr = margin + r * ng;
            switch (m->link) {
            case XGB_LINK_IDENTITY: o[r] = mr[0]; break;
            case XGB_LINK_SIGMOID: {
                float p = sigmoid_f(mr[0]);
                if (model->task == GB_TASK_REGRESSION) {
                    o[r] = p;
                } else {
                    o[2 * r] = 1.0 - (double)p;
                    o[2 * r + 1] = p;
                }
                break;
            }
            case XGB_LINK_SOFTMAX: {
                /* as xgboost's common::Softmax: float exps, double sum */
                float wmax = mr[0];
                for (size_t g = 1; g < ng; g++)
                    wmax = mr[g] > wmax ? mr[g] : wmax;
                double wsum = 0.0;
                for (size_t g = 0; g < ng; g++) {
                    mr[g] = expf(mr[g] - wmax);
                    wsum += mr[g];
                }
                for (size_t g = 0; g < ng; g++)
                    o[r * ng + g] = mr[g] / (float)wsum;
                break;
            }
            }
        }
    }
    gb_free(margin);
    gb_free(xf);
    return GB_OK;
}

static gb_status xgb_predict(const gb_model *m, const double *X, size_t n_rows,
                             double *out, gb_error *err)
{
    return predict_impl(m, X, n_rows, out, 0, err);
}

static gb_status xgb_predict_margin(const gb_model *m, const double *X, size_t n_rows,
                                    double *out, gb_error *err)
{
    return predict_impl(m, X, n_rows, out, 1, err);
}

static cJSON *xgb_to_json(const gb_model *model)
{
    const xgb_impl *m = model->impl;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    char version[48];
    snprintf(version, sizeof version, "%d.%d.%d", m->version[0], m->version[1],
             m->version[2]);
    cJSON *bs = gb_json_number_array_create(m->base_score, m->n_base_score);
    if (cJSON_AddStringToObject(root, "kind", "xgboost") == NULL ||
        cJSON_AddStringToObject(root, "objective", m->objective) == NULL ||
        cJSON_AddStringToObject(root, "xgboost_version", version) == NULL ||
        cJSON_AddStringToObject(root, "task", gb_task_name(model->task)) == NULL ||
        gb_json_add_number(root, "num_trees", (double)m->n_trees) == NULL ||
        gb_json_add_number(root, "num_features", (double)m->n_features) == NULL ||
        gb_json_add_number(root, "num_class", (double)model->n_classes) == NULL ||
        gb_json_add_number(root, "num_nodes", (double)m->n_nodes) == NULL ||
        bs == NULL || !cJSON_AddItemToObject(root, "base_score", bs)) {
        cJSON_Delete(bs);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* Models whose trees lack node covers (sum_hessian) cannot attribute. */
static const gb_model_ops xgb_ops = {
    "xgboost", xgb_predict, xgb_predict_margin, NULL, xgb_to_json, xgb_impl_free,
};

/* Path-dependent TreeSHAP in margin space (core/model/treeshap.h): one block
 * of n_margins x (n_features + 1) per row, the bias holding base_score's
 * margin plus each tree's cover-weighted mean leaf, as xgboost's
 * predict(pred_contribs=True). */
static gb_status xgb_attribute(const gb_model *model, const double *X, size_t n_rows,
                               double *phi, gb_error *err)
{
    const xgb_impl *m = model->impl;
    return gb_forest_treeshap(m->forest, X, n_rows, 1, phi, err);
}

/* As xgb_ops, with attributions (the file had sum_hessian covers). */
static const gb_model_ops xgb_shap_ops = {
    "xgboost",     xgb_predict, xgb_predict_margin,
    xgb_attribute, xgb_to_json, xgb_impl_free,
};

/* ---- loading helpers ------------------------------------------------------ */

static gb_status unusable(gb_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static gb_status unusable(gb_error *err, const char *field, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gb_error_set(err, GB_EUNUSABLE, "xgboost model: %s", msg);
    if (field != NULL)
        gb_error_field(err, field);
    return GB_EUNUSABLE;
}

/* A number that xgboost may store as a JSON number or as a decimal string
 * ("5E-1", "3").  null is NaN (JSON text "NaN" is read as null). */
static int value_number(const cJSON *item, double *out)
{
    if (cJSON_IsNumber(item)) {
        *out = item->valuedouble;
        return 0;
    }
    if (cJSON_IsNull(item)) {
        *out = NAN;
        return 0;
    }
    if (cJSON_IsBool(item)) {
        *out = cJSON_IsTrue(item) ? 1.0 : 0.0;
        return 0;
    }
    if (cJSON_IsString(item) && item->valuestring != NULL && item->valuestring[0]) {
        char *end = NULL;
        double v = strtod(item->valuestring, &end);
        if (*end != '\0')
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

/* A member holding an integer in [lo, hi], as number or string. */
static gb_status get_count(const cJSON *obj, const char *path, const char *key,
                           double lo, double hi, size_t *out, gb_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    double v = 0;
    if (item == NULL)
        return unusable(err, key, "%s.%s is missing", path, key);
    if (value_number(item, &v) != 0 || !(v == floor(v)))
        return unusable(err, key, "%s.%s must be an integer", path, key);
    if (!(v >= lo && v <= hi))
        return unusable(err, key, "%s.%s = %.17g is outside [%.17g, %.17g]", path, key,
                        v, lo, hi);
    *out = (size_t)v;
    return GB_OK;
}

/* An array member of exactly n entries (n == SIZE_MAX: any length). */
static gb_status get_array_n(const cJSON *obj, const char *path, const char *key,
                             size_t n, const cJSON **out, gb_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (arr == NULL)
        return unusable(err, key, "%s.%s is missing", path, key);
    if (!cJSON_IsArray(arr))
        return unusable(err, key, "%s.%s must be an array", path, key);
    size_t len = (size_t)cJSON_GetArraySize(arr);
    if (n != SIZE_MAX && len != n)
        return unusable(err, key, "%s.%s has %zu entries, expected %zu", path, key, len,
                        n);
    *out = arr;
    return GB_OK;
}

/* Reads an array of integers in [lo, hi] into out[]. */
static gb_status read_ints(const cJSON *arr, const char *path, const char *key,
                           double lo, double hi, int64_t *out, gb_error *err)
{
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        double v = 0;
        if (value_number(it, &v) != 0 || !(v == floor(v)) || !(v >= lo && v <= hi))
            return unusable(err, key, "%s.%s[%zu] must be an integer in [%.17g, %.17g]",
                            path, key, i, lo, hi);
        out[i++] = (int64_t)v;
    }
    return GB_OK;
}

/* JSON text as xgboost writes it may hold NaN, Infinity and -Infinity, which
 * cJSON does not accept: outside strings they become null, 1e999 and
 * -1e999 (strtod reads those as +-inf).  New buffer in *out. */
static gb_status json_normalise(const char *b, size_t n, char **out, size_t *out_n,
                                gb_error *err)
{
    char *o = gb_malloc(n + n / 3 + 16);
    if (o == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
    size_t j = 0;
    int in_string = 0, escaped = 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            o[j++] = c;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == 'N' && n - i >= 3 && memcmp(b + i, "NaN", 3) == 0) {
            memcpy(o + j, "null", 4);
            j += 4;
            i += 2;
            continue;
        } else if (c == 'I' && n - i >= 8 && memcmp(b + i, "Infinity", 8) == 0) {
            memcpy(o + j, "1e999", 5);
            j += 5;
            i += 7;
            continue;
        }
        o[j++] = c;
    }
    *out = o;
    *out_n = j;
    return GB_OK;
}

static int looks_like_json(const char *b, size_t n)
{
    size_t i = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    if (i > 0)
        return 1;
    if (n >= 3 && (unsigned char)b[0] == 0xEF && (unsigned char)b[1] == 0xBB)
        return 1; /* UTF-8 BOM: text */
    if (n < 2 || b[0] != '{')
        return n > 0 && b[0] != '{';
    char c = b[1];
    return c == '"' || c == '}' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* ---- learner-level fields ------------------------------------------------- */

typedef struct xgb_objective {
    const char *name;
    gb_task task;
    xgb_link link;
    int logit_base; /* base_score is a probability turned into a logit */
} xgb_objective;

static const xgb_objective objectives[] = {
    {"binary:logistic", GB_TASK_BINARY, XGB_LINK_SIGMOID, 1},
    {"binary:logitraw", GB_TASK_BINARY, XGB_LINK_SIGMOID, 0},
    {"reg:logistic", GB_TASK_REGRESSION, XGB_LINK_SIGMOID, 1},
    {"multi:softprob", GB_TASK_MULTICLASS, XGB_LINK_SOFTMAX, 0},
    {"multi:softmax", GB_TASK_MULTICLASS, XGB_LINK_SOFTMAX, 0},
    {"reg:squarederror", GB_TASK_REGRESSION, XGB_LINK_IDENTITY, 0},
    {"reg:linear", GB_TASK_REGRESSION, XGB_LINK_IDENTITY, 0},
};

/* base_score: "5E-1" (1.x, 2.x) or "[5E-1]" / "[a,b,...]" (3.x).  Fills
 * m->base_score (n_base_score values). */
static gb_status parse_base_score(const cJSON *lmp, xgb_impl *m, gb_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(lmp, "base_score");
    if (item == NULL)
        return unusable(err, "base_score", "learner_model_param.base_score is missing");
    double v = 0;
    if (value_number(item, &v) == 0) {
        m->base_score = gb_malloc(sizeof *m->base_score);
        if (m->base_score == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
        m->base_score[0] = v;
        m->n_base_score = 1;
    } else if (cJSON_IsString(item) && item->valuestring != NULL &&
               item->valuestring[0] == '[') {
        const char *s = item->valuestring + 1;
        size_t cap = strlen(s) / 2 + 1, k = 0;
        m->base_score = gb_malloc_array(cap, sizeof *m->base_score);
        if (m->base_score == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
        for (;;) {
            while (*s == ' ')
                s++;
            char *end = NULL;
            double x = strtod(s, &end);
            if (end == s || k >= cap)
                break;
            m->base_score[k++] = x;
            s = end;
            while (*s == ' ')
                s++;
            if (*s == ',') {
                s++;
                continue;
            }
            break;
        }
        if (k == 0 || s[0] != ']' || s[1] != '\0')
            return unusable(err, "base_score",
                            "learner_model_param.base_score '%s' is not a number list",
                            item->valuestring);
        m->n_base_score = k;
    } else {
        return unusable(err, "base_score",
                        "learner_model_param.base_score must be a number or a "
                        "bracketed number list");
    }
    for (size_t i = 0; i < m->n_base_score; i++)
        if (!isfinite(m->base_score[i]))
            return unusable(err, "base_score",
                            "learner_model_param.base_score must be finite");
    return GB_OK;
}

/* The margin every row starts from, per group (xgboost's ProbToMargin). */
static gb_status set_base_margin(xgb_impl *m, const xgb_objective *obj, gb_error *err)
{
    if (m->n_base_score != 1 && m->n_base_score != m->n_groups)
        return unusable(err, "base_score",
                        "base_score has %zu values for %zu output groups",
                        m->n_base_score, m->n_groups);
    if (m->n_base_score > 1 && obj->link == XGB_LINK_SOFTMAX) {
        /* A constant shift does not change softmax; unequal per-class
         * intercepts have no 1.x equivalent we can verify. */
        for (size_t g = 1; g < m->n_base_score; g++)
            if (m->base_score[g] != m->base_score[0])
                return unusable(err, "base_score",
                                "per-class base_score values are not supported");
    }
    m->base_margin = gb_malloc_array(m->n_groups, sizeof *m->base_margin);
    if (m->base_margin == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
    for (size_t g = 0; g < m->n_groups; g++) {
        float bs = (float)m->base_score[m->n_base_score == 1 ? 0 : g];
        if (obj->logit_base) {
            if (!(bs > 0.0f && bs < 1.0f))
                return unusable(err, "base_score",
                                "base_score %.9g must be in (0, 1) for %s", (double)bs,
                                obj->name);
            m->base_margin[g] = -logf(1.0f / bs - 1.0f);
        } else {
            m->base_margin[g] = bs;
        }
    }
    return GB_OK;
}

/* ---- trees ---------------------------------------------------------------- */

/* Scratch shared by all trees while loading. */
typedef struct tree_scratch {
    size_t cap;
    int64_t *left, *right, *feature, *dleft, *stype;
    double *cond;
    double *hess;      /* sum_hessian, old index */
    uint32_t *order;   /* BFS order: new position -> old index */
    uint32_t *depth;   /* new position -> depth */
    int32_t *newpos;   /* old index -> new position, -1 unvisited */
    int32_t *cat_node; /* old index -> entry in categories_nodes, -1 none */
    size_t cap_cats;
    int64_t *cats, *cat_nodes, *cat_seg, *cat_size;
} tree_scratch;

static void tree_scratch_free(tree_scratch *s)
{
    gb_free(s->left);
    gb_free(s->right);
    gb_free(s->feature);
    gb_free(s->dleft);
    gb_free(s->stype);
    gb_free(s->cond);
    gb_free(s->hess);
    gb_free(s->order);
    gb_free(s->depth);
    gb_free(s->newpos);
    gb_free(s->cat_node);
    gb_free(s->cats);
    gb_free(s->cat_nodes);
    gb_free(s->cat_seg);
    gb_free(s->cat_size);
}

static int tree_scratch_reserve(tree_scratch *s, size_t n)
{
    if (n <= s->cap)
        return 0;
    void *p[11];
    size_t sz[11] = {8, 8, 8, 8, 8, 8, 4, 4, 4, 4, 8};
    int64_t **i64[5] = {&s->left, &s->right, &s->feature, &s->dleft, &s->stype};
    for (int k = 0; k < 11; k++) {
        p[k] = gb_malloc_array(n, sz[k]);
        if (p[k] == NULL) {
            for (int j = 0; j < k; j++)
                gb_free(p[j]);
            return -1;
        }
    }
    for (int k = 0; k < 5; k++) {
        gb_free(*i64[k]);
        *i64[k] = p[k];
    }
    gb_free(s->cond);
    s->cond = p[5];
    gb_free(s->order);
    s->order = p[6];
    gb_free(s->newpos);
    s->newpos = p[7];
    gb_free(s->cat_node);
    s->cat_node = p[8];
    gb_free(s->depth);
    s->depth = p[9];
    gb_free(s->hess);
    s->hess = p[10];
    s->cap = n;
    return 0;
}

static int tree_scratch_reserve_cats(tree_scratch *s, size_t n)
{
    if (n <= s->cap_cats)
        return 0;
    int64_t *a = gb_malloc_array(n, sizeof *a), *b = gb_malloc_array(n, sizeof *b);
    int64_t *c = gb_malloc_array(n, sizeof *c), *d = gb_malloc_array(n, sizeof *d);
    if (a == NULL || b == NULL || c == NULL || d == NULL) {
        gb_free(a);
        gb_free(b);
        gb_free(c);
        gb_free(d);
        return -1;
    }
    gb_free(s->cats);
    gb_free(s->cat_nodes);
    gb_free(s->cat_seg);
    gb_free(s->cat_size);
    s->cats = a;
    s->cat_nodes = b;
    s->cat_seg = c;
    s->cat_size = d;
    s->cap_cats = n;
    return 0;
}

/* Growing arrays of the flattened model while trees are appended. */
typedef struct model_builder {
    size_t cap_nodes, cap_words;
    int32_t *max_category; /* per feature: largest category in a split, -1 */
} model_builder;

/* p grown (capacity doubling) to hold `need` elements: p itself when large
 * enough, the new block, or NULL on failure (p is then still valid). */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    void *q = gb_realloc_array(p, c, elem);
    if (q != NULL)
        *cap = c;
    return q;
}

/* Reads categories_* of a tree into s (cat_node map filled). */
static gb_status read_tree_categories(const cJSON *tree, const char *path, size_t nn,
                                      tree_scratch *s, size_t *n_cat_nodes,
                                      size_t *n_cats, gb_error *err)
{
    const cJSON *cn = NULL, *cseg = NULL, *csz = NULL, *cats = NULL;
    for (size_t i = 0; i < nn; i++)
        s->cat_node[i] = -1;
    *n_cat_nodes = 0;
    *n_cats = 0;
    if (cJSON_GetObjectItemCaseSensitive(tree, "categories_nodes") == NULL)
        return GB_OK;
    gb_status rc = get_array_n(tree, path, "categories_nodes", SIZE_MAX, &cn, err);
    if (rc != GB_OK)
        return rc;
    size_t k = (size_t)cJSON_GetArraySize(cn);
    if ((rc = get_array_n(tree, path, "categories_segments", k, &cseg, err)) != GB_OK ||
        (rc = get_array_n(tree, path, "categories_sizes", k, &csz, err)) != GB_OK ||
        (rc = get_array_n(tree, path, "categories", SIZE_MAX, &cats, err)) != GB_OK)
        return rc;
    size_t nc = (size_t)cJSON_GetArraySize(cats);
    if (tree_scratch_reserve_cats(s, (k > nc ? k : nc) + 1) != 0)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
    if ((rc = read_ints(cn, path, "categories_nodes", 0, (double)nn - 1, s->cat_nodes,
                        err)) != GB_OK ||
        (rc = read_ints(cseg, path, "categories_segments", 0, (double)nc, s->cat_seg,
                        err)) != GB_OK ||
        (rc = read_ints(csz, path, "categories_sizes", 0, (double)nc, s->cat_size,
                        err)) != GB_OK ||
        (rc = read_ints(cats, path, "categories", 0, GB_XGB_MAX_CATEGORY, s->cats,
                        err)) != GB_OK)
        return rc;
    for (size_t j = 0; j < k; j++) {
        if (s->cat_seg[j] + s->cat_size[j] > (int64_t)nc)
            return unusable(err, "categories_segments",
                            "%s.categories_segments[%zu] + size runs past categories",
                            path, j);
        if (s->cat_node[s->cat_nodes[j]] != -1)
            return unusable(err, "categories_nodes",
                            "%s.categories_nodes lists node %lld twice", path,
                            (long long)s->cat_nodes[j]);
        s->cat_node[s->cat_nodes[j]] = (int32_t)j;
    }
    *n_cat_nodes = k;
    *n_cats = nc;
    return GB_OK;
}

/* Validates one tree and appends it to m->nodes in BFS order with adjacent
 * children.  Every index is checked; a child seen twice (a cycle or a shared
 * node) is an error. */
static gb_status load_tree(xgb_impl *m, model_builder *b, tree_scratch *s,
                           const cJSON *tree, size_t t, gb_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "trees[%zu]", t);
    if (!cJSON_IsObject(tree))
        return unusable(err, "trees", "%s must be an object", path);
    const cJSON *tp = NULL;
    gb_status rc = gb_json_get_object(tree, path, "tree_param", &tp, err);
    if (rc != GB_OK)
        return rc;
    size_t nn = 0, slv = 0;
    if ((rc = get_count(tp, path, "num_nodes", 1, GB_XGB_MAX_NODES, &nn, err)) != GB_OK)
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(tp, "size_leaf_vector") != NULL &&
        (rc = get_count(tp, path, "size_leaf_vector", 0, 1e9, &slv, err)) != GB_OK)
        return rc;
    if (slv > 1)
        return unusable(err, "size_leaf_vector",
                        "%s has vector leaves (multi_strategy=multi_output_tree), "
                        "which are not supported",
                        path);
    const cJSON *al, *ar, *af, *ac, *ad, *at = NULL;
    if ((rc = get_array_n(tree, path, "left_children", nn, &al, err)) != GB_OK ||
        (rc = get_array_n(tree, path, "right_children", nn, &ar, err)) != GB_OK ||
        (rc = get_array_n(tree, path, "split_indices", nn, &af, err)) != GB_OK ||
        (rc = get_array_n(tree, path, "split_conditions", nn, &ac, err)) != GB_OK ||
        (rc = get_array_n(tree, path, "default_left", nn, &ad, err)) != GB_OK)
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(tree, "split_type") != NULL &&
        (rc = get_array_n(tree, path, "split_type", nn, &at, err)) != GB_OK)
        return rc;
    if (tree_scratch_reserve(s, nn) != 0)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
    double nmax = (double)nn - 1;
    if ((rc = read_ints(al, path, "left_children", -1, nmax, s->left, err)) != GB_OK ||
        (rc = read_ints(ar, path, "right_children", -1, nmax, s->right, err)) !=
            GB_OK ||
        (rc = read_ints(af, path, "split_indices", 0, 4294967295.0, s->feature, err)) !=
            GB_OK ||
        (rc = read_ints(ad, path, "default_left", 0, 1, s->dleft, err)) != GB_OK)
        return rc;
    if (at != NULL) {
        if ((rc = read_ints(at, path, "split_type", 0, 1, s->stype, err)) != GB_OK)
            return rc;
    } else {
        memset(s->stype, 0, nn * sizeof *s->stype);
    }
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ac)
    {
        if (value_number(it, &s->cond[i]) != 0)
            return unusable(err, "split_conditions",
                            "%s.split_conditions[%zu] must be a number", path, i);
        i++;
    }
    /* sum_hessian (node covers) only serves TreeSHAP: a tree without valid
     * covers makes the model lose `attribute`, it is not an error */
    const cJSON *ah = cJSON_GetObjectItemCaseSensitive(tree, "sum_hessian");
    int tree_has_cover = cJSON_IsArray(ah) && (size_t)cJSON_GetArraySize(ah) == nn;
    if (tree_has_cover) {
        i = 0;
        cJSON_ArrayForEach(it, ah)
        {
            double h = 0;
            if (value_number(it, &h) != 0 || !isfinite(h) || !(h > 0) || h > 3e38)
                tree_has_cover = 0;
            s->hess[i++] = h;
        }
    }
    if (!tree_has_cover)
        m->has_cover = 0;
    size_t n_cat_nodes = 0, n_cats = 0;
    if ((rc = read_tree_categories(tree, path, nn, s, &n_cat_nodes, &n_cats, err)) !=
        GB_OK)
        return rc;

    /* BFS from the root: each node reached once, children placed adjacently. */
    for (size_t k = 0; k < nn; k++)
        s->newpos[k] = -1;
    size_t head = 0, tail = 1;
    s->order[0] = 0;
    s->newpos[0] = 0;
    s->depth[0] = 0;
    uint32_t depth = 0;
    while (head < tail) {
        uint32_t k = s->order[head++];
        uint32_t dk = s->depth[head - 1];
        depth = dk > depth ? dk : depth;
        if (s->left[k] < 0)
            continue;
        int64_t l = s->left[k], r = s->right[k];
        if (r < 0)
            return unusable(err, "right_children",
                            "%s node %u has a left child but no right child", path, k);
        if (s->newpos[l] != -1 || s->newpos[r] != -1 || l == r)
            return unusable(
                err, "left_children",
                "%s node %u: a child is reached twice (cycle or shared node)", path, k);
        s->newpos[l] = (int32_t)tail;
        s->depth[tail] = dk + 1;
        s->order[tail++] = (uint32_t)l;
        s->newpos[r] = (int32_t)tail;
        s->depth[tail] = dk + 1;
        s->order[tail++] = (uint32_t)r;
    }
    size_t base = m->n_nodes;
    if (base + tail > INT32_MAX / 2)
        return unusable(err, "trees", "the model has too many nodes");
    xgb_node *nodes = grow(m->nodes, &b->cap_nodes, base + tail, sizeof *m->nodes);
    if (nodes == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
    m->nodes = nodes;
    int first_categorical = n_cat_nodes > 0 && !m->has_categorical;
    if (first_categorical)
        m->has_categorical = 1;
    if (m->has_categorical) {
        size_t cap = b->cap_nodes;
        void *o = gb_realloc_array(m->cat_offset, cap, sizeof *m->cat_offset);
        if (o == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
        m->cat_offset = o;
        void *w = gb_realloc_array(m->cat_words_n, cap, sizeof *m->cat_words_n);
        if (w == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
        m->cat_words_n = w;
        if (first_categorical) { /* earlier trees had no categorical nodes */
            memset(m->cat_offset, 0, base * sizeof *m->cat_offset);
            memset(m->cat_words_n, 0, base * sizeof *m->cat_words_n);
        }
    }
    for (size_t p = 0; p < tail; p++) {
        uint32_t k = s->order[p];
        xgb_node *nd = m->nodes + base + p;
        double cond = s->cond[k];
        if (m->has_categorical) {
            m->cat_offset[base + p] = 0;
            m->cat_words_n[base + p] = 0;
        }
        if (s->left[k] < 0) {
            if (!isfinite(cond))
                return unusable(err, "split_conditions",
                                "%s leaf %u has a non-finite value", path, k);
            nd->left = (int32_t)(base + p) - 1; /* absorbing: see xgb_node */
            nd->split = XGB_LEAF;
            nd->value = NAN;
            nd->leaf = (float)cond;
            continue;
        }
        if (s->feature[k] >= (int64_t)m->n_features)
            return unusable(err, "split_indices",
                            "%s node %u splits on feature %lld, the model has %zu",
                            path, k, (long long)s->feature[k], m->n_features);
        nd->left = (int32_t)(base + (size_t)s->newpos[s->left[k]]);
        nd->split = (uint32_t)s->feature[k] | (s->dleft[k] ? XGB_DEFAULT_LEFT : 0u);
        nd->value = (float)cond;
        nd->leaf = 0.0f;
        if (s->stype[k] == 1) {
            int32_t j = s->cat_node[k];
            if (j < 0)
                return unusable(err, "categories_nodes",
                                "%s categorical node %u has no categories entry", path,
                                k);
            nd->split |= XGB_CATEGORICAL;
            nd->value = 0.0f;
            int64_t maxc = -1;
            for (int64_t c = 0; c < s->cat_size[j]; c++) {
                int64_t v = s->cats[s->cat_seg[j] + c];
                maxc = v > maxc ? v : maxc;
            }
            size_t words = (size_t)(maxc + 1 + 31) / 32;
            uint32_t *cw = grow(m->cat_words, &b->cap_words, m->n_cat_words + words + 1,
                                sizeof *m->cat_words);
            if (cw == NULL)
                return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
            m->cat_words = cw;
            uint32_t *bits = m->cat_words + m->n_cat_words;
            memset(bits, 0, words * sizeof *bits);
            for (int64_t c = 0; c < s->cat_size[j]; c++) {
                int64_t v = s->cats[s->cat_seg[j] + c];
                bits[v >> 5] |= 1u << (v & 31);
            }
            m->cat_offset[base + p] = (uint32_t)m->n_cat_words;
            m->cat_words_n[base + p] = (uint32_t)words;
            m->n_cat_words += words;
            size_t f = (size_t)s->feature[k];
            if (maxc > b->max_category[f])
                b->max_category[f] = (int32_t)maxc;
        } else if (isnan(cond)) {
            return unusable(err, "split_conditions",
                            "%s node %u has a NaN split condition", path, k);
        }
    }
    m->tree_root[t] = (uint32_t)base;
    m->tree_depth[t] = depth;
    m->n_nodes = base + tail;
    return GB_OK;
}

/* ---- covers (TreeSHAP) ---------------------------------------------------- */

/* Adds tree t, just loaded by load_tree (whose scratch s still describes it:
 * file arrays, sum_hessian, BFS order and categories), with its covers to
 * m->forest.  Once a tree has no usable covers (m->has_cover cleared by
 * load_tree: sum_hessian missing, malformed or not positive) the model keeps
 * predicting but has no attributions: m->forest is dropped.  GB_ENOMEM
 * otherwise. */
static gb_status add_tree_covers(xgb_impl *m, const tree_scratch *s, size_t t,
                                 gb_error *err)
{
    if (m->forest != NULL && !m->has_cover) {
        gb_forest_free(m->forest);
        m->forest = NULL;
    }
    if (m->forest == NULL)
        return GB_OK;
    size_t nn = m->n_nodes - m->tree_root[t]; /* reachable nodes, BFS order */
    gb_status rc = GB_OK;
    double *leaf = gb_malloc_array(nn, sizeof *leaf);
    int32_t *cats = gb_malloc_array(s->cap_cats ? s->cap_cats : 1, sizeof *cats);
    gb_forest_node *nodes = gb_calloc(nn, sizeof *nodes);
    if (leaf == NULL || cats == NULL || nodes == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
        goto out;
    }
    for (size_t p = 0; p < nn; p++) {
        uint32_t k = s->order[p];
        gb_forest_node *nd = nodes + p;
        nd->cover = (double)(float)s->hess[k]; /* xgboost keeps covers in float */
        if (s->left[k] < 0) {
            leaf[p] = (double)(float)s->cond[k];
            nd->feature = -1;
            nd->left = nd->right = -1;
            nd->value = leaf + p;
            continue;
        }
        nd->feature = (int32_t)s->feature[k];
        nd->left = s->newpos[s->left[k]];
        nd->right = s->newpos[s->right[k]];
        nd->missing_left = s->dleft[k] != 0;
        if (s->stype[k] == 1) {
            int32_t j = s->cat_node[k];
            size_t seg = (size_t)s->cat_seg[j];
            nd->categorical = 1;
            nd->cats_left = 0; /* listed categories go right */
            nd->n_cats = (size_t)s->cat_size[j];
            for (size_t c = 0; c < nd->n_cats; c++)
                cats[seg + c] = (int32_t)s->cats[seg + c];
            nd->cats = cats + seg;
        } else {
            nd->threshold = (double)(float)s->cond[k];
        }
    }
    rc = gb_forest_add_tree(m->forest, nodes, nn, m->tree_group[t], 1, err);
    if (rc == GB_EUNUSABLE) { /* e.g. deeper than TreeSHAP accepts */
        gb_error_clear(err);
        gb_forest_free(m->forest);
        m->forest = NULL;
        rc = GB_OK;
    }
out:
    gb_free(nodes);
    gb_free(cats);
    gb_free(leaf);
    return rc;
}

/* ---- features ------------------------------------------------------------- */

static gb_status build_features(const cJSON *learner, const xgb_impl *m,
                                const model_builder *b, const gb_xgboost_options *opts,
                                gb_feature **out, gb_error *err)
{
    size_t nf = m->n_features;
    gb_feature *fs = gb_calloc(nf ? nf : 1, sizeof *fs);
    if (fs == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(learner, "feature_names");
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(learner, "feature_types");
    gb_status rc = GB_OK;
    if (names != NULL && cJSON_IsArray(names) && cJSON_GetArraySize(names) == 0)
        names = NULL;
    if (types != NULL && cJSON_IsArray(types) && cJSON_GetArraySize(types) == 0)
        types = NULL;
    if (names != NULL &&
        (!cJSON_IsArray(names) || (size_t)cJSON_GetArraySize(names) != nf)) {
        rc = unusable(err, "feature_names",
                      "learner.feature_names must be an array of %zu strings", nf);
        goto fail;
    }
    if (types != NULL &&
        (!cJSON_IsArray(types) || (size_t)cJSON_GetArraySize(types) != nf)) {
        rc = unusable(err, "feature_types",
                      "learner.feature_types must be an array of %zu strings", nf);
        goto fail;
    }
    const cJSON *nit = names != NULL ? names->child : NULL;
    const cJSON *tit = types != NULL ? types->child : NULL;
    for (size_t f = 0; f < nf; f++) {
        char buf[32];
        const char *name = buf;
        snprintf(buf, sizeof buf, "f%zu", f);
        if (nit != NULL) {
            if (!cJSON_IsString(nit) || nit->valuestring == NULL ||
                nit->valuestring[0] == '\0') {
                rc = unusable(err, "feature_names",
                              "learner.feature_names[%zu] must be a non-empty string",
                              f);
                goto fail;
            }
            name = nit->valuestring;
            nit = nit->next;
        }
        fs[f].name = gb_strdup(name);
        if (fs[f].name == NULL)
            goto nomem;
        fs[f].kind = GB_FEAT_NUMERIC;
        if (tit != NULL) {
            const char *ty = cJSON_IsString(tit) ? tit->valuestring : NULL;
            tit = tit->next;
            if (ty == NULL) {
                rc = unusable(err, "feature_types",
                              "learner.feature_types[%zu] must be a string", f);
                goto fail;
            }
            if (strcmp(ty, "c") == 0) {
                fs[f].kind = GB_FEAT_CATEGORICAL;
            } else if (strcmp(ty, "q") != 0 && strcmp(ty, "float") != 0 &&
                       strcmp(ty, "int") != 0 && strcmp(ty, "i") != 0) {
                rc =
                    unusable(err, "feature_types",
                             "learner.feature_types[%zu] '%s' is not supported", f, ty);
                goto fail;
            }
        }
        if (fs[f].kind != GB_FEAT_CATEGORICAL)
            continue;
        size_t n_codes = (size_t)(b->max_category[f] + 1);
        const gb_column *col = NULL;
        if (opts != NULL && opts->levels_from != NULL) {
            long c = gb_table_find(opts->levels_from, fs[f].name);
            if (c >= 0 && opts->levels_from->cols[c].type == GB_COL_CATEGORICAL)
                col = &opts->levels_from->cols[c];
        }
        if (col != NULL && col->n_levels < n_codes) {
            rc = unusable(err, fs[f].name,
                          "categorical column '%s' has %zu levels but the model splits "
                          "on category code %zu",
                          fs[f].name, col->n_levels, n_codes - 1);
            goto fail;
        }
        size_t nl = col != NULL ? col->n_levels : (n_codes ? n_codes : 1);
        fs[f].levels = gb_calloc(nl, sizeof *fs[f].levels);
        if (fs[f].levels == NULL)
            goto nomem;
        fs[f].n_levels = nl;
        for (size_t l = 0; l < nl; l++) {
            snprintf(buf, sizeof buf, "%zu", l);
            fs[f].levels[l] = gb_strdup(col != NULL ? col->levels[l] : buf);
            if (fs[f].levels[l] == NULL)
                goto nomem;
        }
    }
    *out = fs;
    return GB_OK;
nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
fail:
    gb_features_free(fs, nf);
    return rc;
}

/* ---- the loader ----------------------------------------------------------- */

static gb_status load_tree_model(const cJSON *root, const gb_xgboost_options *opts,
                                 gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    xgb_impl *m = NULL;
    tree_scratch s = {0};
    model_builder b = {0};
    gb_feature *features = NULL;
    size_t n_features = 0;
    char **classes = NULL;
    size_t n_classes = 0;
    const xgb_objective *obj = NULL;

    if (!cJSON_IsObject(root))
        return unusable(err, NULL, "the document is not an object");
    m = gb_calloc(1, sizeof *m);
    if (m == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading the model");

    /* version: [major, minor, patch] */
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (ver == NULL || !cJSON_IsArray(ver) || cJSON_GetArraySize(ver) < 2) {
        rc = unusable(
            err, "version",
            "no 'version' [major, minor, patch]: not an xgboost 1.0+ model file");
        goto out;
    }
    {
        int k = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, ver)
        {
            double v = 0;
            if (k >= 3 || value_number(it, &v) != 0 || !(v >= 0 && v < 1000)) {
                rc =
                    unusable(err, "version", "'version' must be [major, minor, patch]");
                goto out;
            }
            m->version[k++] = (int)v;
        }
    }
    if (m->version[0] < 1 || m->version[0] > 3) {
        rc =
            unusable(err, "version", "unsupported format version %d.%d.%d (1.x to 3.x)",
                     m->version[0], m->version[1], m->version[2]);
        goto out;
    }
    const cJSON *learner = NULL, *lmp = NULL, *objective = NULL, *gbm = NULL;
    const char *obj_name = NULL, *gbm_name = NULL;
    if ((rc = gb_json_get_object(root, "", "learner", &learner, err)) != GB_OK ||
        (rc = gb_json_get_object(learner, "learner", "learner_model_param", &lmp,
                                 err)) != GB_OK ||
        (rc = gb_json_get_object(learner, "learner", "objective", &objective, err)) !=
            GB_OK ||
        (rc = gb_json_get_string(objective, "learner.objective", "name", &obj_name,
                                 err)) != GB_OK ||
        (rc = gb_json_get_object(learner, "learner", "gradient_booster", &gbm, err)) !=
            GB_OK ||
        (rc = gb_json_get_string(gbm, "learner.gradient_booster", "name", &gbm_name,
                                 err)) != GB_OK)
        goto out;
    /* dart keeps a gbtree and one weight per tree; at inference xgboost adds
     * leaf * weight in tree order, so weights of exactly 1 score as gbtree. */
    const cJSON *tree_booster = gbm, *weight_drop = NULL;
    if (strcmp(gbm_name, "dart") == 0) {
        if ((rc = gb_json_get_object(gbm, "learner.gradient_booster", "gbtree",
                                     &tree_booster, err)) != GB_OK ||
            (rc = gb_json_get_array(gbm, "learner.gradient_booster", "weight_drop",
                                    &weight_drop, err)) != GB_OK)
            goto out;
    } else if (strcmp(gbm_name, "gbtree") != 0) {
        rc = unusable(err, "gradient_booster",
                      "booster '%s' is not supported (only gbtree, and dart without "
                      "weight drops)",
                      gbm_name);
        goto out;
    }
    for (size_t k = 0; k < sizeof objectives / sizeof objectives[0]; k++)
        if (strcmp(obj_name, objectives[k].name) == 0)
            obj = &objectives[k];
    if (obj == NULL) {
        rc = unusable(err, "objective", "objective '%s' is not supported", obj_name);
        goto out;
    }
    snprintf(m->objective, sizeof m->objective, "%s", obj->name);
    m->link = obj->link;
    size_t num_class = 0, num_target = 1;
    if ((rc = get_count(lmp, "learner_model_param", "num_feature", 1,
                        GB_XGB_MAX_FEATURES, &m->n_features, err)) != GB_OK ||
        (rc = get_count(lmp, "learner_model_param", "num_class", 0, 1e9, &num_class,
                        err)) != GB_OK)
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(lmp, "num_target") != NULL &&
        (rc = get_count(lmp, "learner_model_param", "num_target", 0, 1e9, &num_target,
                        err)) != GB_OK)
        goto out;
    if (num_target > 1) {
        rc =
            unusable(err, "num_target",
                     "multi-target models (%zu targets) are not supported", num_target);
        goto out;
    }
    if (obj->task == GB_TASK_MULTICLASS) {
        if (num_class < 2 || num_class > GB_MAX_CLASSES) {
            rc = unusable(err, "num_class", "%s needs num_class in [2, %d], got %zu",
                          obj->name, GB_MAX_CLASSES, num_class);
            goto out;
        }
        m->n_groups = num_class;
    } else {
        if (num_class > 1) {
            rc = unusable(err, "num_class", "%s with num_class %zu", obj->name,
                          num_class);
            goto out;
        }
        m->n_groups = 1;
    }
    if ((rc = parse_base_score(lmp, m, err)) != GB_OK ||
        (rc = set_base_margin(m, obj, err)) != GB_OK)
        goto out;

    /* trees */
    const cJSON *model = NULL, *gbtp = NULL, *trees = NULL, *tinfo = NULL;
    if ((rc = gb_json_get_object(tree_booster, "learner.gradient_booster", "model",
                                 &model, err)) != GB_OK ||
        (rc = gb_json_get_object(model, "gradient_booster.model", "gbtree_model_param",
                                 &gbtp, err)) != GB_OK ||
        (rc = get_count(gbtp, "gbtree_model_param", "num_trees", 0, GB_XGB_MAX_TREES,
                        &m->n_trees, err)) != GB_OK ||
        (rc = get_array_n(model, "gradient_booster.model", "trees", m->n_trees, &trees,
                          err)) != GB_OK ||
        (rc = get_array_n(model, "gradient_booster.model", "tree_info", m->n_trees,
                          &tinfo, err)) != GB_OK)
        goto out;
    m->tree_root = gb_malloc_array(m->n_trees ? m->n_trees : 1, sizeof *m->tree_root);
    m->tree_group = gb_malloc_array(m->n_trees ? m->n_trees : 1, sizeof *m->tree_group);
    m->tree_depth = gb_malloc_array(m->n_trees ? m->n_trees : 1, sizeof *m->tree_depth);
    m->has_cover = 1;
    b.max_category = gb_malloc_array(m->n_features, sizeof *b.max_category);
    int64_t *groups = gb_malloc_array(m->n_trees ? m->n_trees : 1, sizeof *groups);
    if (m->tree_root == NULL || m->tree_group == NULL || m->tree_depth == NULL ||
        b.max_category == NULL || groups == NULL) {
        gb_free(groups);
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
        goto out;
    }
    for (size_t f = 0; f < m->n_features; f++)
        b.max_category[f] = -1;
    rc = read_ints(tinfo, "gradient_booster.model", "tree_info", 0,
                   (double)m->n_groups - 1, groups, err);
    for (size_t t = 0; rc == GB_OK && t < m->n_trees; t++)
        m->tree_group[t] = (uint32_t)groups[t];
    gb_free(groups);
    if (rc != GB_OK)
        goto out;
    if (weight_drop != NULL) {
        if ((size_t)cJSON_GetArraySize(weight_drop) != m->n_trees) {
            rc = unusable(err, "weight_drop",
                          "dart weight_drop has %d entries for %zu trees",
                          cJSON_GetArraySize(weight_drop), m->n_trees);
            goto out;
        }
        size_t k = 0;
        const cJSON *w;
        cJSON_ArrayForEach(w, weight_drop)
        {
            double v = 0;
            if (value_number(w, &v) != 0 || v != 1.0) {
                rc = unusable(err, "weight_drop",
                              "dart with weight drops is not supported (tree %zu has "
                              "weight %.9g)",
                              k, v);
                goto out;
            }
            k++;
        }
    }
    {
        double base[GB_MAX_CLASSES];
        for (size_t g = 0; g < m->n_groups; g++)
            base[g] = (double)m->base_margin[g];
        m->forest = gb_forest_create(m->n_features, m->n_groups, base, 1, 1, err);
        if (m->forest == NULL) {
            rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
            goto out;
        }
    }
    size_t t = 0;
    const cJSON *tree;
    cJSON_ArrayForEach(tree, trees)
    {
        if ((rc = load_tree(m, &b, &s, tree, t, err)) != GB_OK ||
            (rc = add_tree_covers(m, &s, t, err)) != GB_OK)
            goto out;
        t++;
    }
    if ((rc = build_features(learner, m, &b, opts, &features, err)) != GB_OK)
        goto out;
    n_features = m->n_features;

    if (obj->task != GB_TASK_REGRESSION) {
        n_classes = obj->task == GB_TASK_BINARY ? 2 : m->n_groups;
        classes = gb_calloc(n_classes, sizeof *classes);
        if (classes == NULL) {
            rc = gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
            goto out;
        }
        for (size_t k = 0; k < n_classes; k++) {
            char buf[24];
            snprintf(buf, sizeof buf, "%zu", k);
            if ((classes[k] = gb_strdup(buf)) == NULL) {
                rc = gb_error_set(err, GB_ENOMEM, "out of memory reading the model");
                goto out;
            }
        }
    }
    *out = gb_model_create(m->forest != NULL ? &xgb_shap_ops : &xgb_ops, m, obj->task,
                           features, m->n_features, classes, n_classes, err);
    m = NULL; /* owned (or freed) by gb_model_create */
    if (*out == NULL)
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
out:
    gb_free_strings(classes, n_classes);
    gb_features_free(features, n_features);
    gb_free(b.max_category);
    tree_scratch_free(&s);
    xgb_impl_free(m);
    return rc;
}

gb_status gb_xgboost_load_opts(const char *bytes, size_t n,
                               const gb_xgboost_options *opts, gb_model **out,
                               gb_error *err)
{
    *out = NULL;
    cJSON *root = NULL;
    if (bytes == NULL || n == 0)
        return gb_error_set(err, GB_EINPUT, "xgboost model: empty file");
    if (looks_like_json(bytes, n)) {
        char *text = NULL;
        size_t tn = 0;
        gb_status rc = json_normalise(bytes, n, &text, &tn, err);
        if (rc != GB_OK)
            return rc;
        root = gb_json_parse(text, tn, err);
        gb_free(text);
    } else {
        root = gb_ubjson_parse((const unsigned char *)bytes, n, err);
    }
    if (root == NULL)
        return err != NULL && err->code != GB_OK ? err->code : GB_EINPUT;
    gb_status rc = load_tree_model(root, opts, out, err);
    cJSON_Delete(root);
    return rc;
}

gb_status gb_xgboost_load(const char *bytes, size_t n, gb_model **out, gb_error *err)
{
    return gb_xgboost_load_opts(bytes, n, NULL, out, err);
}
