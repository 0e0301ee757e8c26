/*
 * dataset_json.c - the dataset object of API.md as JSON.
 * Layer: api.
 */
#include "api/dataset_json.h"

#include "core/json.h"

static cJSON *column_json(const gb_table *t, size_t j)
{
    const gb_column *c = &t->cols[j];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    int ok =
        cJSON_AddStringToObject(o, "name", c->name) != NULL &&
        cJSON_AddStringToObject(
            o, "type", c->type == GB_COL_NUMERIC ? "numeric" : "categorical") != NULL &&
        cJSON_AddNumberToObject(o, "missing", (double)c->n_missing) != NULL;
    if (ok && c->type == GB_COL_CATEGORICAL) {
        cJSON *levels = gb_json_string_array_create(c->levels, c->n_levels);
        ok = levels != NULL && cJSON_AddItemToObject(o, "levels", levels);
        if (levels != NULL && !ok)
            cJSON_Delete(levels);
    } else if (ok) {
        gb_column_stats s;
        gb_column_stats_compute(c, t->n_rows, &s);
        ok = gb_json_add_number(o, "min", s.min) != NULL &&
             gb_json_add_number(o, "max", s.max) != NULL &&
             gb_json_add_number(o, "mean", s.mean) != NULL &&
             gb_json_add_number(o, "sd", s.sd) != NULL;
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *api_dataset_json(const gb_table *t, const gb_target *target, const char *name,
                        const char *sha256)
{
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    if (cJSON_AddStringToObject(root, "name", name != NULL ? name : "") == NULL ||
        cJSON_AddStringToObject(root, "sha256", sha256 != NULL ? sha256 : "") == NULL ||
        cJSON_AddNumberToObject(root, "rows", (double)t->n_rows) == NULL)
        goto fail;
    cJSON *cols = cJSON_AddArrayToObject(root, "columns");
    if (cols == NULL)
        goto fail;
    for (size_t j = 0; j < t->n_cols; j++) {
        cJSON *c = column_json(t, j);
        if (c == NULL || !cJSON_AddItemToArray(cols, c)) {
            cJSON_Delete(c);
            goto fail;
        }
    }
    if (target != NULL) {
        if (cJSON_AddStringToObject(root, "target", t->cols[target->col].name) ==
                NULL ||
            cJSON_AddStringToObject(root, "task", gb_task_name(target->task)) == NULL)
            goto fail;
    } else if (cJSON_AddNullToObject(root, "target") == NULL ||
               cJSON_AddNullToObject(root, "task") == NULL) {
        goto fail;
    }
    cJSON *classes =
        gb_json_string_array_create(target != NULL ? target->classes : NULL,
                                    target != NULL ? target->n_classes : 0);
    if (classes == NULL || !cJSON_AddItemToObject(root, "classes", classes)) {
        cJSON_Delete(classes);
        goto fail;
    }
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}
