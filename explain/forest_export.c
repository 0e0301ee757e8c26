/*
 * forest_export.c - fills the generic forest of treeshap.h from tree models:
 * XGBoost's saved JSON (sum_hessian as cover) and the tree student (node row
 * counts as cover).
 * Layer: explain.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/model/students/tree.h"
#include "core/model/teachers/load.h"
#include "core/model/teachers/ubjson.h"
#include "core/model/students/tree_impl.h"
#include "explain/treeshap.h"

/* ---- XGBoost JSON ---------------------------------------------------------- */

static gb_status xgb_unusable(gb_error *err, const char *field, const char *what)
{
    gb_error_set(err, GB_EUNUSABLE, "xgboost model: %s %s", field, what);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

/* A member that is a number or a numeric string ("5E-1", "3"). */
static int json_number_like(const cJSON *obj, const char *key, double *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNumber(it)) {
        *out = it->valuedouble;
        return 0;
    }
    if (cJSON_IsString(it) && it->valuestring != NULL) {
        const char *s = it->valuestring;
        if (s[0] == '[')
            s++;
        char *end = NULL;
        double v = strtod(s, &end);
        if (end == s)
            return -1;
        if (*end == ']')
            end++;
        if (*end != '\0')
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

/* Reads the JSON array obj[key] of exactly n numbers (booleans as 0/1; null,
 * which stands for xgboost's NaN, as NaN when allow_nan is set). */
static gb_status xgb_numbers(const cJSON *obj, const char *key, const char *path,
                             size_t n, int allow_nan, double *out, gb_error *err)
{
    char field[96];
    snprintf(field, sizeof field, "%s.%s", path, key);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != n)
        return xgb_unusable(err, field, "must be an array of one entry per node");
    size_t i = 0;
    const cJSON *x = NULL;
    cJSON_ArrayForEach(x, arr)
    {
        if (cJSON_IsNumber(x))
            out[i] = x->valuedouble;
        else if (cJSON_IsBool(x))
            out[i] = cJSON_IsTrue(x) ? 1.0 : 0.0;
        else if (allow_nan && cJSON_IsNull(x))
            out[i] = NAN;
        else
            return xgb_unusable(err, field, "holds a non-number");
        if (!isfinite(out[i]) && !(allow_nan && isnan(out[i])))
            return xgb_unusable(err, field, "holds a non-finite number");
        i++;
    }
    return GB_OK;
}

/* A JSON array of integers of any length into a new array (*n entries). */
static gb_status xgb_int_list(const cJSON *obj, const char *key, const char *path,
                              int32_t **out, size_t *n, gb_error *err)
{
    char field[96];
    snprintf(field, sizeof field, "%s.%s", path, key);
    *out = NULL;
    *n = 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (arr == NULL)
        return GB_OK;
    if (!cJSON_IsArray(arr))
        return xgb_unusable(err, field, "must be an array");
    size_t len = (size_t)cJSON_GetArraySize(arr);
    *out = gb_malloc_array(len ? len : 1, sizeof **out);
    if (*out == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading the xgboost model");
    size_t i = 0;
    const cJSON *x = NULL;
    cJSON_ArrayForEach(x, arr)
    {
        if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > INT32_MAX ||
            x->valuedouble != floor(x->valuedouble)) {
            gb_free(*out);
            *out = NULL;
            return xgb_unusable(err, field, "must hold non-negative integers");
        }
        (*out)[i++] = (int32_t)x->valuedouble;
    }
    *n = len;
    return GB_OK;
}

/* Adds one xgboost tree (JSON object) to the forest as output `group`. */
static gb_status xgb_add_tree(ex_forest *forest, const cJSON *tree, size_t t,
                              size_t group, gb_error *err)
{
    gb_status rc = GB_OK;
    char path[48];
    snprintf(path, sizeof path, "trees[%zu]", t);
    double *left = NULL, *right = NULL, *split = NULL, *cond = NULL, *dleft = NULL;
    double *hess = NULL, *stype = NULL;
    int32_t *cat_nodes = NULL, *cat_seg = NULL, *cat_size = NULL, *cats = NULL;
    size_t n_cat_nodes = 0, n_seg = 0, n_size = 0, n_cats = 0;
    ex_tree_node *nodes = NULL;

    const cJSON *lc = cJSON_GetObjectItemCaseSensitive(tree, "left_children");
    if (!cJSON_IsArray(lc) || cJSON_GetArraySize(lc) < 1)
        return xgb_unusable(err, "left_children", "must be a non-empty array");
    size_t n = (size_t)cJSON_GetArraySize(lc);
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(tree, "tree_param");
    double leaf_vec = 0;
    if (tp != NULL && json_number_like(tp, "size_leaf_vector", &leaf_vec) == 0 &&
        leaf_vec > 1)
        return xgb_unusable(err, "size_leaf_vector",
                            "> 1 (vector leaves) is unsupported");
    left = gb_malloc_array(n, sizeof *left);
    right = gb_malloc_array(n, sizeof *right);
    split = gb_malloc_array(n, sizeof *split);
    cond = gb_malloc_array(n, sizeof *cond);
    dleft = gb_malloc_array(n, sizeof *dleft);
    hess = gb_malloc_array(n, sizeof *hess);
    stype = gb_calloc(n, sizeof *stype);
    nodes = gb_calloc(n, sizeof *nodes);
    if (!left || !right || !split || !cond || !dleft || !hess || !stype || !nodes) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading the xgboost model");
        goto out;
    }
    if ((rc = xgb_numbers(tree, "left_children", path, n, 0, left, err)) != GB_OK ||
        (rc = xgb_numbers(tree, "right_children", path, n, 0, right, err)) != GB_OK ||
        (rc = xgb_numbers(tree, "split_indices", path, n, 0, split, err)) != GB_OK ||
        (rc = xgb_numbers(tree, "split_conditions", path, n, 1, cond, err)) != GB_OK ||
        (rc = xgb_numbers(tree, "default_left", path, n, 0, dleft, err)) != GB_OK ||
        (rc = xgb_numbers(tree, "sum_hessian", path, n, 0, hess, err)) != GB_OK)
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(tree, "split_type") != NULL &&
        (rc = xgb_numbers(tree, "split_type", path, n, 0, stype, err)) != GB_OK)
        goto out;
    if ((rc = xgb_int_list(tree, "categories_nodes", path, &cat_nodes, &n_cat_nodes,
                           err)) != GB_OK ||
        (rc = xgb_int_list(tree, "categories_segments", path, &cat_seg, &n_seg, err)) !=
            GB_OK ||
        (rc = xgb_int_list(tree, "categories_sizes", path, &cat_size, &n_size, err)) !=
            GB_OK ||
        (rc = xgb_int_list(tree, "categories", path, &cats, &n_cats, err)) != GB_OK)
        goto out;
    if (n_seg != n_cat_nodes || n_size != n_cat_nodes) {
        rc = xgb_unusable(err, "categories_segments",
                          "and categories_sizes must match "
                          "categories_nodes");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ex_tree_node *nd = nodes + i;
        nd->cover = (double)(float)hess[i];
        if (left[i] < 0) {
            nd->feature = -1;
            nd->left = nd->right = -1;
            cond[i] = (double)(float)cond[i]; /* leaf value, float as xgboost;
                                                 NaN is refused by add_tree */
            nd->value = cond + i;
            continue;
        }
        if (left[i] >= (double)n || right[i] < 0 || right[i] >= (double)n ||
            split[i] < 0 || split[i] > INT32_MAX) {
            rc = xgb_unusable(err, path, "has a child or split index out of range");
            goto out;
        }
        nd->feature = (int32_t)split[i];
        nd->left = (int32_t)left[i];
        nd->right = (int32_t)right[i];
        nd->missing_left = dleft[i] != 0;
        nd->threshold = (double)(float)cond[i];
        if (stype[i] == 1) {
            nd->categorical = 1;
            nd->cats_left = 0; /* listed categories go right */
            size_t j = 0;
            while (j < n_cat_nodes && (size_t)cat_nodes[j] != i)
                j++;
            if (j < n_cat_nodes) {
                if ((size_t)cat_seg[j] > n_cats ||
                    (size_t)cat_size[j] > n_cats - (size_t)cat_seg[j]) {
                    rc = xgb_unusable(err, "categories_segments",
                                      "runs past categories");
                    goto out;
                }
                nd->cats = cats + cat_seg[j];
                nd->n_cats = (size_t)cat_size[j];
            }
        }
    }
    rc = ex_forest_add_tree(forest, nodes, n, group, 1, err);
out:
    gb_free(nodes);
    gb_free(cats);
    gb_free(cat_size);
    gb_free(cat_seg);
    gb_free(cat_nodes);
    gb_free(stype);
    gb_free(hess);
    gb_free(dleft);
    gb_free(cond);
    gb_free(split);
    gb_free(right);
    gb_free(left);
    return rc;
}

/* A NUL-terminated copy of the JSON text (*n_out bytes) with xgboost's bare
 * NaN tokens outside strings (it writes them as the split condition of
 * categorical splits) turned into null.  Caller frees with gb_free; NULL when
 * out of memory. */
static char *without_nan(const char *bytes, size_t n, size_t *n_out)
{
    size_t n_nan = 0;
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        char c = bytes[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == 'N' && i + 3 <= n && memcmp(bytes + i, "NaN", 3) == 0) {
            n_nan++;
        }
    }
    char *text = gb_malloc(n + n_nan + 1);
    if (text == NULL)
        return NULL;
    size_t o = 0;
    in_string = 0;
    for (size_t i = 0; i < n; i++) {
        char c = bytes[i];
        if (in_string) {
            text[o++] = c;
            if (c == '\\' && i + 1 < n)
                text[o++] = bytes[++i];
            else if (c == '"')
                in_string = 0;
        } else if (c == 'N' && i + 3 <= n && memcmp(bytes + i, "NaN", 3) == 0) {
            memcpy(text + o, "null", 4);
            o += 4;
            i += 2;
        } else {
            in_string = c == '"';
            text[o++] = c;
        }
    }
    text[o] = '\0';
    *n_out = o;
    return text;
}

gb_status ex_forest_from_xgboost_json(const char *bytes, size_t n_bytes,
                                      ex_forest **out, gb_error *err)
{
    gb_status rc = GB_OK;
    ex_forest *forest = NULL;
    double *base = NULL;
    *out = NULL;
    cJSON *root = NULL;
    if (gb_model_format_detect(bytes, n_bytes) == GB_FORMAT_XGBOOST_UBJSON) {
        root = gb_ubjson_parse((const unsigned char *)bytes, n_bytes, err);
    } else {
        size_t n_text = 0;
        char *text = without_nan(bytes, n_bytes, &n_text);
        if (text == NULL)
            return gb_error_set(err, GB_ENOMEM,
                                "out of memory reading the xgboost model");
        root = gb_json_parse(text, n_text, err);
        gb_free(text);
    }
    if (root == NULL)
        return err != NULL ? err->code : GB_EINPUT;

    const cJSON *learner = cJSON_GetObjectItemCaseSensitive(root, "learner");
    const cJSON *lmp = cJSON_GetObjectItemCaseSensitive(learner, "learner_model_param");
    const cJSON *gb = cJSON_GetObjectItemCaseSensitive(learner, "gradient_booster");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(learner, "objective");
    const cJSON *gbname = cJSON_GetObjectItemCaseSensitive(gb, "name");
    const cJSON *objname = cJSON_GetObjectItemCaseSensitive(obj, "name");
    if (!cJSON_IsObject(learner) || !cJSON_IsObject(lmp) || !cJSON_IsObject(gb)) {
        rc = xgb_unusable(err, "learner",
                          "must hold learner_model_param and "
                          "gradient_booster");
        goto out;
    }
    if (!cJSON_IsString(gbname) || strcmp(gbname->valuestring, "gbtree") != 0) {
        rc = xgb_unusable(err, "gradient_booster.name", "must be gbtree");
        goto out;
    }
    if (!cJSON_IsString(objname)) {
        rc = xgb_unusable(err, "objective.name", "is missing");
        goto out;
    }
    const char *objective = objname->valuestring;
    int logit_base = 0;
    if (strcmp(objective, "binary:logistic") == 0 ||
        strcmp(objective, "reg:logistic") == 0)
        logit_base = 1;
    else if (strcmp(objective, "binary:logitraw") != 0 &&
             strcmp(objective, "multi:softprob") != 0 &&
             strcmp(objective, "multi:softmax") != 0 &&
             strcmp(objective, "reg:squarederror") != 0 &&
             strcmp(objective, "reg:linear") != 0) {
        rc = xgb_unusable(err, "objective.name", "is not a supported objective");
        goto out;
    }
    double num_feature = 0, num_class = 0, base_score = 0;
    if (json_number_like(lmp, "num_feature", &num_feature) != 0 || num_feature < 1 ||
        num_feature > 1e6) {
        rc = xgb_unusable(err, "learner_model_param.num_feature", "must be 1..1000000");
        goto out;
    }
    if (json_number_like(lmp, "num_class", &num_class) != 0 || num_class < 0 ||
        num_class > 1e4) {
        rc = xgb_unusable(err, "learner_model_param.num_class", "must be 0..10000");
        goto out;
    }
    if (json_number_like(lmp, "base_score", &base_score) != 0 ||
        !isfinite(base_score)) {
        rc = xgb_unusable(err, "learner_model_param.base_score", "must be a number");
        goto out;
    }
    size_t n_groups = num_class > 1 ? (size_t)num_class : 1;
    base = gb_malloc_array(n_groups, sizeof *base);
    if (base == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading the xgboost model");
        goto out;
    }
    float bs = (float)base_score;
    if (logit_base && !(bs > 0.0f && bs < 1.0f)) {
        rc = xgb_unusable(err, "learner_model_param.base_score", "must be in (0, 1)");
        goto out;
    }
    for (size_t g = 0; g < n_groups; g++)
        base[g] = logit_base ? (double)-logf(1.0f / bs - 1.0f) : (double)bs;
    forest = ex_forest_create((size_t)num_feature, n_groups, base, 1, 1, err);
    if (forest == NULL) {
        rc = err != NULL ? err->code : GB_ENOMEM;
        goto out;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(gb, "model");
    const cJSON *trees = cJSON_GetObjectItemCaseSensitive(model, "trees");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(model, "tree_info");
    if (!cJSON_IsArray(trees) || !cJSON_IsArray(info) ||
        cJSON_GetArraySize(trees) != cJSON_GetArraySize(info)) {
        rc = xgb_unusable(err, "gradient_booster.model.trees",
                          "and tree_info must be arrays of equal length");
        goto out;
    }
    size_t t = 0;
    const cJSON *tree = NULL, *group = info->child;
    cJSON_ArrayForEach(tree, trees)
    {
        if (!cJSON_IsNumber(group) || group->valuedouble < 0 ||
            group->valuedouble >= (double)n_groups) {
            rc = xgb_unusable(err, "tree_info", "holds a group out of range");
            goto out;
        }
        if ((rc = xgb_add_tree(forest, tree, t, (size_t)group->valuedouble, err)) !=
            GB_OK)
            goto out;
        group = group->next;
        t++;
    }
    *out = forest;
    forest = NULL;
out:
    ex_forest_free(forest);
    gb_free(base);
    cJSON_Delete(root);
    return rc;
}

/* ---- models ---------------------------------------------------------------- */

static double clamp_prob(double p)
{
    if (!(p >= 1e-15))
        return 1e-15;
    if (p > 1.0 - 1e-15)
        return 1.0 - 1e-15;
    return p;
}

/* The tree student: node row counts as cover, leaf values turned into the
 * model's margins (tree.c's predict_margin: logit of P(class 1), log
 * probabilities, or the value). */
static gb_status forest_from_tree_student(const gb_model *model, ex_forest **out,
                                          gb_error *err)
{
    gb_status rc = GB_OK;
    const tree_impl *t = model->impl;
    size_t nm = model->n_margins;
    ex_tree_node *nodes = gb_calloc(t->n_nodes, sizeof *nodes);
    double *margins = gb_malloc_array(t->n_nodes * nm, sizeof *margins);
    int32_t *cats =
        gb_malloc_array(t->n_left_levels ? t->n_left_levels : 1, sizeof *cats);
    ex_forest *forest = NULL;
    if (nodes == NULL || margins == NULL || cats == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory exporting a tree");
        goto out;
    }
    size_t n_cats = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const tree_node *tn = t->nodes + i;
        ex_tree_node *nd = nodes + i;
        nd->cover = (double)tn->n;
        if (tn->feature < 0) {
            const double *v = t->values + tn->value_at;
            double *m = margins + i * nm;
            if (model->task == GB_TASK_REGRESSION) {
                m[0] = v[0];
            } else if (model->task == GB_TASK_BINARY) {
                double p = clamp_prob(v[1]);
                m[0] = log(p) - log1p(-p);
            } else {
                for (size_t k = 0; k < nm; k++)
                    m[k] = log(clamp_prob(v[k]));
            }
            nd->feature = -1;
            nd->left = nd->right = -1;
            nd->value = m;
            continue;
        }
        nd->feature = tn->feature;
        nd->left = tn->left;
        nd->right = tn->right;
        nd->missing_left = tn->missing_left;
        nd->threshold = tn->threshold;
        if (tn->n_levels > 0) {
            nd->categorical = 1;
            nd->cats_left = 1;
            nd->cats = cats + n_cats;
            for (size_t c = 0; c < tn->n_levels; c++)
                if (t->left_levels[tn->levels_at + c])
                    cats[n_cats++] = (int32_t)c;
            nd->n_cats = (size_t)(cats + n_cats - nd->cats);
        }
    }
    forest = ex_forest_create(model->n_features, nm, NULL, 0, 0, err);
    if (forest == NULL) {
        rc = err != NULL ? err->code : GB_ENOMEM;
        goto out;
    }
    if ((rc = ex_forest_add_tree(forest, nodes, t->n_nodes, 0, nm, err)) != GB_OK)
        goto out;
    *out = forest;
    forest = NULL;
out:
    ex_forest_free(forest);
    gb_free(cats);
    gb_free(margins);
    gb_free(nodes);
    return rc;
}

gb_status ex_forest_from_model(const gb_model *model, ex_forest **out, gb_error *err)
{
    *out = NULL;
    if (gb_tree_is(model))
        return forest_from_tree_student(model, out, err);
    return GB_OK;
}

int ex_exact_available(const gb_model *model)
{
    return model != NULL && (model->ops->attribute != NULL || gb_tree_is(model));
}

gb_status ex_exact_attribute(const gb_model *model, const double *X, size_t n_rows,
                             unsigned n_threads, double *phi, gb_error *err)
{
    if (model->ops->attribute != NULL)
        return model->ops->attribute(model, X, n_rows, phi, err);
    ex_forest *forest = NULL;
    gb_status rc = ex_forest_from_model(model, &forest, err);
    if (rc != GB_OK)
        return rc;
    if (forest == NULL)
        return gb_error_set(err, GB_EUNUSABLE, "a %s model has no exact attributions",
                            model->ops->kind);
    rc = ex_treeshap(forest, X, n_rows, n_threads, phi, err);
    ex_forest_free(forest);
    return rc;
}
