/*
 * tree.c - the decision-tree student: parameters, prediction, and the JSON
 * artifact (to_json / from_json).
 * Layer: core/model/students.  Growing lives in tree_fit.c, exports (SQL, C)
 * in tree_export.c.
 */
#include "core/model/students/tree.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/students/tree_impl.h"

/* ------------------------------------------------------------------------ */
/* Parameters                                                               */
/* ------------------------------------------------------------------------ */

static const char *const param_names[] = {"max_depth", "min_samples_leaf", "max_leaves",
                                          "max_bins"};
#define N_PARAM_NAMES (sizeof param_names / sizeof param_names[0])

static gb_status param_error(gb_error *err, const char *key, const char *value,
                             const char *what)
{
    gb_error_set(err, GB_EUNUSABLE, "tree parameter '%s' %s (got '%s')", key, what,
                 value);
    gb_error_field(err, key);
    return GB_EUNUSABLE;
}

gb_status gb_tree_params_parse(const gb_param *params, size_t n_params,
                               gb_tree_params *out, gb_error *err)
{
    out->max_depth = 6;
    out->min_samples_leaf = 1;
    out->max_leaves = 0;
    out->max_bins = 255;
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
                         "unknown tree parameter '%s' (known: max_depth, "
                         "min_samples_leaf, max_leaves, max_bins)",
                         key);
            gb_error_field(err, key);
            return GB_EUNUSABLE;
        }
        if (seen & (1u << which))
            return param_error(err, key, value, "is given twice");
        seen |= 1u << which;
        unsigned long long v = 0;
        switch (which) {
        case 0:
            if (!gb_param_parse_uint(value, 1, 32, &v))
                return param_error(err, key, value, "must be an integer in 1..32");
            out->max_depth = (unsigned)v;
            break;
        case 1:
            if (!gb_param_parse_uint(value, 1, (unsigned long long)UINT32_MAX, &v))
                return param_error(err, key, value, "must be an integer >= 1");
            out->min_samples_leaf = (size_t)v;
            break;
        case 2:
            if (!gb_param_parse_uint(value, 0, (unsigned long long)UINT32_MAX, &v) ||
                v == 1)
                return param_error(err, key, value,
                                   "must be 0 (unlimited) or an integer >= 2");
            out->max_leaves = (size_t)v;
            break;
        default:
            if (!gb_param_parse_uint(value, 2, 255, &v))
                return param_error(err, key, value, "must be an integer in 2..255");
            out->max_bins = (unsigned)v;
            break;
        }
    }
    return GB_OK;
}

/* ------------------------------------------------------------------------ */
/* Model operations                                                         */
/* ------------------------------------------------------------------------ */

void gb_tree_impl_free(void *p)
{
    tree_impl *t = p;
    if (t == NULL)
        return;
    gb_free(t->nodes);
    gb_free(t->left_levels);
    gb_free(t->values);
    gb_free(t);
}

int gb_tree_node_goes_left(const tree_impl *t, const tree_node *node, double x)
{
    if (isnan(x))
        return node->missing_left;
    if (node->n_levels == 0)
        return x <= node->threshold;
    if (!(x >= 0.0) || x >= (double)node->n_levels || x != floor(x))
        return 0;
    return t->left_levels[node->levels_at + (size_t)x] != 0;
}

const tree_node *gb_tree_leaf_of(const tree_impl *t, const double *x)
{
    const tree_node *node = &t->nodes[0];
    while (node->feature >= 0)
        node =
            &t->nodes[gb_tree_node_goes_left(t, node, x[node->feature]) ? node->left
                                                                        : node->right];
    return node;
}

static gb_status tree_predict(const gb_model *m, const double *X, size_t n_rows,
                              double *out, gb_error *err)
{
    (void)err;
    const tree_impl *t = m->impl;
    size_t n_out = m->n_outputs;
    for (size_t i = 0; i < n_rows; i++) {
        const tree_node *leaf = gb_tree_leaf_of(t, X + i * m->n_features);
        memcpy(out + i * n_out, t->values + leaf->value_at, n_out * sizeof *out);
    }
    return GB_OK;
}

static double clamp_prob(double p)
{
    if (!(p >= 1e-15))
        return 1e-15;
    if (p > 1.0 - 1e-15)
        return 1.0 - 1e-15;
    return p;
}

static gb_status tree_predict_margin(const gb_model *m, const double *X, size_t n_rows,
                                     double *out, gb_error *err)
{
    (void)err;
    const tree_impl *t = m->impl;
    for (size_t i = 0; i < n_rows; i++) {
        const tree_node *leaf = gb_tree_leaf_of(t, X + i * m->n_features);
        const double *v = t->values + leaf->value_at;
        if (m->task == GB_TASK_REGRESSION) {
            out[i] = v[0];
        } else if (m->task == GB_TASK_BINARY) {
            double p = clamp_prob(v[1]);
            out[i] = log(p) - log1p(-p);
        } else {
            for (size_t k = 0; k < m->n_classes; k++)
                out[i * m->n_classes + k] = log(clamp_prob(v[k]));
        }
    }
    return GB_OK;
}

static cJSON *tree_to_json(const gb_model *m);

static const gb_model_ops tree_ops = {
    "tree",       tree_predict,      tree_predict_margin, gb_tree_attribute,
    tree_to_json, gb_tree_impl_free,
};

int gb_tree_is(const gb_model *m)
{
    return m != NULL && m->ops == &tree_ops;
}

gb_model *gb_tree_model_create(tree_impl *t, gb_task task, const gb_feature *features,
                               size_t n_features, char *const *classes,
                               size_t n_classes, gb_error *err)
{
    return gb_model_create(&tree_ops, t, task, features, n_features, classes, n_classes,
                           err);
}

void gb_tree_complexity(const gb_model *m, unsigned *depth, size_t *n_leaves)
{
    const tree_impl *t = m->impl;
    *depth = t->depth;
    *n_leaves = t->n_leaves;
}

int gb_tree_measure(tree_impl *t)
{
    unsigned stack_depth[40];
    size_t stack_node[40];
    size_t top = 0;
    t->depth = 0;
    t->n_leaves = 0;
    stack_node[top] = 0;
    stack_depth[top++] = 0;
    while (top > 0) {
        top--;
        size_t id = stack_node[top];
        unsigned d = stack_depth[top];
        if (d > t->depth)
            t->depth = d;
        const tree_node *node = &t->nodes[id];
        if (node->feature < 0) {
            t->n_leaves++;
            continue;
        }
        if (d >= 32)
            return 0;
        stack_node[top] = (size_t)node->right;
        stack_depth[top++] = d + 1;
        stack_node[top] = (size_t)node->left;
        stack_depth[top++] = d + 1;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Artifact                                                                 */
/* ------------------------------------------------------------------------ */

static const char *task_text(gb_task task)
{
    switch (task) {
    case GB_TASK_BINARY: return "binary";
    case GB_TASK_MULTICLASS: return "multiclass";
    case GB_TASK_REGRESSION: return "regression";
    default: return "auto";
    }
}

/* Growable text buffer for rules and exports. */
gb_status gb_tree_buf_printf(gb_tree_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return GB_ENOMEM;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->cap ? b->text + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return GB_ENOMEM;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return GB_OK;
        }
        size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
        char *text = gb_realloc(b->text, cap);
        if (text == NULL) {
            b->failed = 1;
            return GB_ENOMEM;
        }
        b->text = text;
        b->cap = cap;
    }
}

/* Short human-readable number for rules. */
static void rule_number(double v, char buf[32])
{
    snprintf(buf, 32, "%.6g", v);
}

typedef struct rule_step {
    const tree_node *node;
    int left;
} rule_step;

typedef struct rule_walk {
    const gb_model *m;
    const tree_impl *t;
    cJSON *rules;
    rule_step steps[40];
    size_t n_steps;
    unsigned char *allowed; /* scratch: one flag per level */
} rule_walk;

/* Writes "{a, b}" listing the levels whose flag equals want. */
static void level_list(gb_tree_buf *b, const gb_feature *feat,
                       const unsigned char *flags, int want)
{
    size_t written = 0;
    gb_tree_buf_printf(b, "{");
    for (size_t l = 0; l < feat->n_levels; l++) {
        if ((flags[l] != 0) != want)
            continue;
        gb_tree_buf_printf(b, "%s%s", written ? ", " : "", feat->levels[l]);
        written++;
    }
    gb_tree_buf_printf(b, "}");
}

/* Writes the condition of every step on the feature of step `first` (which
 * is its first step on that feature), merged into one: the tightest bounds
 * ("2.5 < x <= 4.5") or the levels still allowed.  "(or missing)" is added
 * when missing values follow every one of those steps and some node on
 * them saw missing values at training. */
static void merged_condition(rule_walk *rw, gb_tree_buf *b, size_t first)
{
    const tree_node *node0 = rw->steps[first].node;
    const gb_feature *feat = &rw->m->features[node0->feature];
    int missing_ok = 1, missing_seen = 0;
    size_t n_steps = 0;
    double lo = -INFINITY, hi = INFINITY;
    if (node0->n_levels > 0)
        memset(rw->allowed, 1, node0->n_levels);
    for (size_t j = first; j < rw->n_steps; j++) {
        const tree_node *node = rw->steps[j].node;
        int left = rw->steps[j].left;
        if (node->feature != node0->feature)
            continue;
        n_steps++;
        missing_ok &= node->missing_left == left;
        missing_seen |= node->n_missing > 0;
        if (node->n_levels == 0) {
            if (left)
                hi = fmin(hi, node->threshold);
            else
                lo = fmax(lo, node->threshold);
        } else {
            const unsigned char *set = rw->t->left_levels + node->levels_at;
            for (size_t l = 0; l < node->n_levels; l++)
                if ((set[l] != 0) != left)
                    rw->allowed[l] = 0;
        }
    }
    char num_lo[32], num_hi[32];
    rule_number(lo, num_lo);
    rule_number(hi, num_hi);
    if (node0->n_levels == 0) {
        if (isfinite(lo) && isfinite(hi))
            gb_tree_buf_printf(b, "%s < %s <= %s", num_lo, feat->name, num_hi);
        else if (isfinite(hi))
            gb_tree_buf_printf(b, "%s <= %s", feat->name, num_hi);
        else
            gb_tree_buf_printf(b, "%s > %s", feat->name, num_lo);
    } else {
        size_t n_allowed = 0;
        for (size_t l = 0; l < node0->n_levels; l++)
            n_allowed += rw->allowed[l] != 0;
        size_t n_excluded = node0->n_levels - n_allowed;
        /* one condition reads as the split does ("in" the left levels, or
         * "not in" them); merged ones list the shorter side */
        int list_allowed = n_steps == 1
                               ? rw->steps[first].left
                               : n_allowed < n_excluded ||
                                     (n_allowed == n_excluded && rw->steps[first].left);
        gb_tree_buf_printf(b, "%s %s ", feat->name, list_allowed ? "in" : "not in");
        level_list(b, feat, rw->allowed, list_allowed);
    }
    if (missing_ok && missing_seen)
        gb_tree_buf_printf(b, " (or missing)");
}

static int add_rule(rule_walk *rw, const tree_node *leaf)
{
    const gb_model *m = rw->m;
    const double *v = rw->t->values + leaf->value_at;
    gb_tree_buf b = {0};
    size_t written = 0;
    for (size_t i = 0; i < rw->n_steps; i++) {
        size_t j = 0;
        while (j < i && rw->steps[j].node->feature != rw->steps[i].node->feature)
            j++;
        if (j < i)
            continue; /* merged into the feature's first condition */
        if (written++)
            gb_tree_buf_printf(&b, " and ");
        merged_condition(rw, &b, i);
    }
    if (written == 0)
        gb_tree_buf_printf(&b, "all rows");
    char num[32];
    if (m->task == GB_TASK_REGRESSION) {
        snprintf(num, sizeof num, "%.4g", v[0]);
        gb_tree_buf_printf(&b, " -> value = %s", num);
    } else if (m->task == GB_TASK_BINARY) {
        snprintf(num, sizeof num, "%.3g", v[1]);
        gb_tree_buf_printf(&b, " -> P(%s) = %s", m->classes[1], num);
    } else {
        size_t best = 0;
        for (size_t k = 1; k < m->n_classes; k++)
            if (v[k] > v[best])
                best = k;
        snprintf(num, sizeof num, "%.3g", v[best]);
        gb_tree_buf_printf(&b, " -> class %s (P = %s)", m->classes[best], num);
    }
    gb_tree_buf_printf(&b, ", n = %zu", leaf->n);
    if (b.failed) {
        gb_free(b.text);
        return 0;
    }
    cJSON *s = cJSON_CreateString(b.text);
    gb_free(b.text);
    if (s == NULL)
        return 0;
    if (!cJSON_AddItemToArray(rw->rules, s)) {
        cJSON_Delete(s);
        return 0;
    }
    return 1;
}

static int walk_rules(rule_walk *rw, size_t id)
{
    const tree_node *node = &rw->t->nodes[id];
    if (node->feature < 0)
        return add_rule(rw, node);
    if (rw->n_steps >= sizeof rw->steps / sizeof rw->steps[0])
        return 0;
    for (int side = 1; side >= 0; side--) {
        rw->steps[rw->n_steps].node = node;
        rw->steps[rw->n_steps].left = side;
        rw->n_steps++;
        int ok = walk_rules(rw, (size_t)(side ? node->left : node->right));
        rw->n_steps--;
        if (!ok)
            return 0;
    }
    return 1;
}

/* cJSON prints numbers through a tolerant 15-digit check that can lose the
 * last bit; artifact numbers are written as raw shortest round-trip text so
 * a rebuilt tree predicts identical doubles. */
static cJSON *exact_number(double v)
{
    if (!isfinite(v))
        return cJSON_CreateNull();
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(buf);
}

static int add_exact(cJSON *obj, const char *key, double v)
{
    cJSON *item = exact_number(v);
    if (item == NULL)
        return 0;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return 0;
    }
    return 1;
}

static cJSON *exact_array(const double *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        cJSON *item = exact_number(v[i]);
        if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static cJSON *node_json(const gb_model *m, const tree_impl *t, size_t id)
{
    const tree_node *node = &t->nodes[id];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || gb_json_add_number(o, "id", (double)id) == NULL)
        goto fail;
    if (node->feature < 0) {
        cJSON *v = exact_array(t->values + node->value_at, m->n_outputs);
        if (v == NULL || !cJSON_AddItemToObject(o, "value", v)) {
            cJSON_Delete(v);
            goto fail;
        }
        if (gb_json_add_number(o, "n", (double)node->n) == NULL)
            goto fail;
        return o;
    }
    const gb_feature *feat = &m->features[node->feature];
    if (gb_json_add_number(o, "feature", node->feature) == NULL ||
        cJSON_AddStringToObject(o, "feature_name", feat->name) == NULL)
        goto fail;
    if (node->n_levels == 0) {
        if (!add_exact(o, "threshold", node->threshold))
            goto fail;
    } else {
        cJSON *lv = cJSON_CreateArray();
        if (lv == NULL || !cJSON_AddItemToObject(o, "left_levels", lv)) {
            cJSON_Delete(lv);
            goto fail;
        }
        for (size_t l = 0; l < node->n_levels; l++) {
            if (!t->left_levels[node->levels_at + l])
                continue;
            cJSON *s = cJSON_CreateString(feat->levels[l]);
            if (s == NULL || !cJSON_AddItemToArray(lv, s)) {
                cJSON_Delete(s);
                goto fail;
            }
        }
    }
    if (cJSON_AddStringToObject(o, "missing", node->missing_left ? "left" : "right") ==
            NULL ||
        gb_json_add_number(o, "left", node->left) == NULL ||
        gb_json_add_number(o, "right", node->right) == NULL ||
        gb_json_add_number(o, "n", (double)node->n) == NULL ||
        gb_json_add_number(o, "n_missing", (double)node->n_missing) == NULL)
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *tree_to_json(const gb_model *m)
{
    const tree_impl *t = m->impl;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    if (cJSON_AddStringToObject(root, "format", "glassbox-student") == NULL ||
        gb_json_add_number(root, "version", 1) == NULL ||
        cJSON_AddStringToObject(root, "type", "tree") == NULL ||
        cJSON_AddStringToObject(root, "task", task_text(m->task)) == NULL)
        goto fail;
    if (m->task == GB_TASK_REGRESSION) {
        if (cJSON_AddNullToObject(root, "classes") == NULL)
            goto fail;
    } else {
        cJSON *cl = gb_json_string_array_create(m->classes, m->n_classes);
        if (cl == NULL || !cJSON_AddItemToObject(root, "classes", cl)) {
            cJSON_Delete(cl);
            goto fail;
        }
    }
    cJSON *feats = gb_student_features_to_json(m);
    if (feats == NULL || !cJSON_AddItemToObject(root, "features", feats)) {
        cJSON_Delete(feats);
        goto fail;
    }
    cJSON *params = cJSON_AddObjectToObject(root, "params");
    if (params == NULL ||
        gb_json_add_number(params, "max_depth", t->params.max_depth) == NULL ||
        gb_json_add_number(params, "min_samples_leaf",
                           (double)t->params.min_samples_leaf) == NULL ||
        gb_json_add_number(params, "max_leaves", (double)t->params.max_leaves) ==
            NULL ||
        gb_json_add_number(params, "max_bins", t->params.max_bins) == NULL)
        goto fail;
    cJSON *nodes = cJSON_AddArrayToObject(root, "nodes");
    if (nodes == NULL)
        goto fail;
    for (size_t i = 0; i < t->n_nodes; i++) {
        cJSON *o = node_json(m, t, i);
        if (o == NULL || !cJSON_AddItemToArray(nodes, o)) {
            cJSON_Delete(o);
            goto fail;
        }
    }
    rule_walk rw;
    memset(&rw, 0, sizeof rw);
    rw.m = m;
    rw.t = t;
    size_t max_levels = 1;
    for (size_t f = 0; f < m->n_features; f++)
        if (m->features[f].n_levels > max_levels)
            max_levels = m->features[f].n_levels;
    rw.allowed = gb_malloc(max_levels);
    rw.rules = cJSON_AddArrayToObject(root, "rules");
    int rules_ok = rw.allowed != NULL && rw.rules != NULL && walk_rules(&rw, 0);
    gb_free(rw.allowed);
    if (!rules_ok)
        goto fail;
    cJSON *cx = cJSON_AddObjectToObject(root, "complexity");
    if (cx == NULL || gb_json_add_number(cx, "depth", t->depth) == NULL ||
        gb_json_add_number(cx, "leaves", (double)t->n_leaves) == NULL)
        goto fail;
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

/* ---- from_json ----------------------------------------------------------- */

static gb_status bad_field(gb_error *err, const char *field, const char *what)
{
    gb_error_set(err, GB_EUNUSABLE, "tree artifact: field '%s' %s", field, what);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

static gb_status get_index(const cJSON *obj, const char *path, const char *key,
                           double max, size_t *out, gb_error *err)
{
    double v = 0.0;
    gb_status rc = gb_json_get_number(obj, path, key, &v, err);
    if (rc != GB_OK)
        return rc;
    if (!(v >= 0.0 && v <= max && v == floor(v))) {
        char field[160];
        snprintf(field, sizeof field, "%s.%s", path, key);
        return bad_field(err, field, "is not a valid index or count");
    }
    *out = (size_t)v;
    return GB_OK;
}

static gb_status params_from_json(const cJSON *o, gb_tree_params *p, gb_error *err)
{
    size_t v[4];
    gb_status rc;
    for (size_t i = 0; i < 4; i++)
        if ((rc = get_index(o, "params", param_names[i], 4294967295.0, &v[i], err)) !=
            GB_OK)
            return rc;
    p->max_depth = (unsigned)v[0];
    p->min_samples_leaf = v[1];
    p->max_leaves = v[2];
    p->max_bins = (unsigned)v[3];
    if (p->max_depth < 1 || p->max_depth > 32)
        return bad_field(err, "params.max_depth", "must be in 1..32");
    return GB_OK;
}

static gb_status nodes_from_json(const cJSON *arr, const gb_feature *feats,
                                 size_t n_feat, size_t n_out, tree_impl *t,
                                 gb_error *err)
{
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0 || n > (size_t)INT32_MAX)
        return bad_field(err, "nodes", "must hold at least one node");
    size_t n_leaves = 0, n_levels = 0;
    t->nodes = gb_calloc(n, sizeof *t->nodes);
    if (t->nodes == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a tree artifact");
    t->n_nodes = n;
    gb_status rc;
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(arr, (int)i);
        char path[64];
        snprintf(path, sizeof path, "nodes[%zu]", i);
        size_t id = 0;
        if ((rc = get_index(o, path, "id", (double)(n - 1), &id, err)) != GB_OK)
            return rc;
        if (id != i)
            return bad_field(err, path, "is out of order (ids must be 0, 1, 2, ...)");
        if (cJSON_GetObjectItemCaseSensitive(o, "value") != NULL) {
            n_leaves++;
            continue;
        }
        size_t f = 0;
        if ((rc = get_index(o, path, "feature", (double)n_feat - 1, &f, err)) != GB_OK)
            return rc;
        if (feats[f].kind == GB_FEAT_CATEGORICAL)
            n_levels += feats[f].n_levels;
    }
    t->values = gb_malloc_array(n_leaves * n_out + 1, sizeof *t->values);
    t->left_levels = gb_calloc(n_levels + 1, 1);
    if (t->values == NULL || t->left_levels == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a tree artifact");
    size_t value_at = 0, levels_at = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(arr, (int)i);
        tree_node *node = &t->nodes[i];
        char path[64];
        snprintf(path, sizeof path, "nodes[%zu]", i);
        size_t count = 0;
        if ((rc = get_index(o, path, "n", 4294967295.0, &count, err)) != GB_OK)
            return rc;
        node->n = count;
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "value");
        if (value != NULL) {
            double *v = NULL;
            size_t nv = 0;
            if ((rc = gb_json_number_array(value, path, n_out, &v, &nv, err)) != GB_OK)
                return rc;
            if (nv != n_out) {
                gb_free(v);
                return bad_field(err, path, "has a value of the wrong length");
            }
            memcpy(t->values + value_at, v, n_out * sizeof *v);
            gb_free(v);
            node->feature = -1;
            node->left = node->right = -1;
            node->value_at = value_at;
            value_at += n_out;
            continue;
        }
        size_t f = 0, left = 0, right = 0, n_missing = 0;
        const char *missing = NULL;
        if ((rc = get_index(o, path, "feature", (double)n_feat - 1, &f, err)) !=
                GB_OK ||
            (rc = get_index(o, path, "left", (double)(n - 1), &left, err)) != GB_OK ||
            (rc = get_index(o, path, "right", (double)(n - 1), &right, err)) != GB_OK ||
            (rc = gb_json_get_string(o, path, "missing", &missing, err)) != GB_OK)
            return rc;
        if (cJSON_GetObjectItemCaseSensitive(o, "n_missing") != NULL &&
            (rc = get_index(o, path, "n_missing", 4294967295.0, &n_missing, err)) !=
                GB_OK)
            return rc;
        /* pre-order: children come after their parent, the left one first */
        if (left != i + 1 || right <= left)
            return bad_field(err, path, "has children that are not in pre-order");
        if (strcmp(missing, "left") != 0 && strcmp(missing, "right") != 0)
            return bad_field(err, path,
                             "has 'missing' other than \"left\" or \"right\"");
        node->feature = (int32_t)f;
        node->left = (int32_t)left;
        node->right = (int32_t)right;
        node->missing_left = strcmp(missing, "left") == 0;
        node->n_missing = n_missing;
        if (feats[f].kind == GB_FEAT_NUMERIC) {
            if ((rc = gb_json_get_number(o, path, "threshold", &node->threshold,
                                         err)) != GB_OK)
                return rc;
            continue;
        }
        const cJSON *lv = NULL;
        if ((rc = gb_json_get_array(o, path, "left_levels", &lv, err)) != GB_OK)
            return rc;
        node->n_levels = feats[f].n_levels;
        node->levels_at = levels_at;
        levels_at += node->n_levels;
        const cJSON *item = NULL;
        cJSON_ArrayForEach(item, lv)
        {
            size_t l = 0;
            while (l < node->n_levels &&
                   !(cJSON_IsString(item) &&
                     strcmp(item->valuestring, feats[f].levels[l]) == 0))
                l++;
            if (l == node->n_levels)
                return bad_field(err, path,
                                 "names a left level the feature does not have");
            t->left_levels[node->levels_at + l] = 1;
        }
        if (node->n_levels == 0)
            return bad_field(err, path, "splits a categorical feature without levels");
    }
    t->n_left_levels = levels_at;
    /* every node but the root must be the child of exactly one node */
    unsigned char *seen = gb_calloc(n, 1);
    if (seen == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a tree artifact");
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        const tree_node *node = &t->nodes[i];
        if (node->feature < 0)
            continue;
        ok = !seen[node->left] && !seen[node->right];
        seen[node->left] = seen[node->right] = 1;
    }
    for (size_t i = 1; i < n && ok; i++)
        ok = seen[i];
    gb_free(seen);
    if (!ok)
        return bad_field(err, "nodes", "do not form one binary tree");
    return GB_OK;
}

gb_status gb_tree_from_json(const cJSON *artifact, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    gb_feature *feats = NULL;
    size_t n_feat = 0;
    char **classes = NULL;
    size_t n_classes = 0;
    tree_impl *t = NULL;
    const char *format = NULL, *type = NULL, *task_name = NULL;
    const cJSON *arr = NULL;
    double version = 0;

    if ((rc = gb_json_get_string(artifact, "", "format", &format, err)) != GB_OK ||
        (rc = gb_json_get_number(artifact, "", "version", &version, err)) != GB_OK ||
        (rc = gb_json_get_string(artifact, "", "type", &type, err)) != GB_OK ||
        (rc = gb_json_get_string(artifact, "", "task", &task_name, err)) != GB_OK)
        return rc;
    if (strcmp(format, "glassbox-student") != 0)
        return bad_field(err, "format", "must be \"glassbox-student\"");
    if (version != 1)
        return bad_field(err, "version", "must be 1");
    if (strcmp(type, "tree") != 0)
        return bad_field(err, "type", "must be \"tree\"");
    gb_task task = GB_TASK_AUTO;
    if (strcmp(task_name, "binary") == 0)
        task = GB_TASK_BINARY;
    else if (strcmp(task_name, "multiclass") == 0)
        task = GB_TASK_MULTICLASS;
    else if (strcmp(task_name, "regression") == 0)
        task = GB_TASK_REGRESSION;
    else
        return bad_field(err, "task", "must be binary, multiclass or regression");
    if (task != GB_TASK_REGRESSION) {
        if ((rc = gb_json_get_array(artifact, "", "classes", &arr, err)) != GB_OK ||
            (rc = gb_json_string_array(arr, "classes", 100000, &classes, &n_classes,
                                       err)) != GB_OK)
            return rc;
        if (n_classes < 2 || (task == GB_TASK_BINARY && n_classes != 2)) {
            rc = bad_field(err, "classes", "has the wrong number of classes");
            goto out;
        }
    }
    if ((rc = gb_json_get_array(artifact, "", "features", &arr, err)) != GB_OK ||
        (rc = gb_student_features_from_json(arr, "tree", 65535, &feats, &n_feat,
                                            err)) != GB_OK)
        goto out;
    t = gb_calloc(1, sizeof *t);
    if (t == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a tree artifact");
        goto out;
    }
    const cJSON *params = NULL;
    if ((rc = gb_json_get_object(artifact, "", "params", &params, err)) != GB_OK ||
        (rc = params_from_json(params, &t->params, err)) != GB_OK ||
        (rc = gb_json_get_array(artifact, "", "nodes", &arr, err)) != GB_OK ||
        (rc = nodes_from_json(arr, feats, n_feat,
                              task == GB_TASK_REGRESSION ? 1 : n_classes, t, err)) !=
            GB_OK)
        goto out;
    if (!gb_tree_measure(t)) {
        rc = bad_field(err, "nodes", "are deeper than 32 levels");
        goto out;
    }
    gb_model *m =
        gb_model_create(&tree_ops, t, task, feats, n_feat, classes, n_classes, err);
    t = NULL;
    if (m == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto out;
    }
    *out = m;
out:
    gb_tree_impl_free(t);
    gb_features_free(feats, n_feat);
    gb_free_strings(classes, n_classes);
    return rc;
}
