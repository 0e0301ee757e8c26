/*
 * student.c - the student dispatcher: a table of student types, each with
 * its parameter check, fit, artifact reader and code exports.
 * Layer: core/model/students.
 */
#include "core/model/students/student.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/students/gam.h"
#include "core/model/students/tree.h"
#include "core/model/students/linear.h"
#include "core/model/students/sbdt.h"

typedef struct student_type {
    const char *name;
    int wants_one_hot;
    gb_status (*check)(const gb_param *params, size_t n_params, gb_task task,
                       gb_error *err);
    gb_status (*fit)(const gb_param *params, size_t n_params, const gb_train_set *ts,
                     const gb_progress *progress, gb_model **out, gb_error *err);
    gb_status (*from_json)(const cJSON *artifact, gb_model **out, gb_error *err);
    gb_status (*export_sql)(const gb_model *m, char **out, gb_error *err);
    gb_status (*export_c)(const gb_model *m, char **out, gb_error *err);
} student_type;

static gb_status tree_check(const gb_param *params, size_t n_params, gb_task task,
                            gb_error *err)
{
    (void)task;
    gb_tree_params p;
    return gb_tree_params_parse(params, n_params, &p, err);
}

static const student_type student_types[] = {
    {"tree", 0, tree_check, gb_tree_fit, gb_tree_from_json, gb_tree_export_sql,
     gb_tree_export_c},
    {"logistic", 1, gb_logistic_check, gb_logistic_fit, gb_linear_from_json,
     gb_linear_export_sql, gb_linear_export_c},
    {"linear", 1, gb_linreg_check, gb_linreg_fit, gb_linear_from_json,
     gb_linear_export_sql, gb_linear_export_c},
    {"sbdt", 1, gb_sbdt_check, gb_sbdt_fit, gb_sbdt_from_json, gb_sbdt_export_sql,
     gb_sbdt_export_c},
    {"gam", 0, gb_gam_check, gb_gam_fit, gb_gam_from_json, gb_gam_export_sql,
     gb_gam_export_c},
};
#define N_STUDENT_TYPES (sizeof student_types / sizeof student_types[0])

static const student_type *student_type_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < N_STUDENT_TYPES; i++)
        if (strcmp(student_types[i].name, name) == 0)
            return &student_types[i];
    return NULL;
}

static gb_status unknown_type(const char *name, gb_error *err)
{
    char known[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < N_STUDENT_TYPES; i++) {
        int n = snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
                         student_types[i].name);
        if (n < 0 || (size_t)n >= sizeof known - len)
            break;
        len += (size_t)n;
    }
    gb_error_set(err, GB_EUNUSABLE, "unknown student type '%s' (known: %s)",
                 name != NULL ? name : "", known);
    gb_error_field(err, "student.type");
    return GB_EUNUSABLE;
}

gb_status gb_student_check(const char *type, const gb_param *params, size_t n_params,
                           gb_task task, gb_error *err)
{
    const student_type *st = student_type_find(type);
    if (st == NULL)
        return unknown_type(type, err);
    return st->check(params, n_params, task, err);
}

gb_status gb_student_fit(const char *type, const gb_param *params, size_t n_params,
                         const gb_train_set *ts, const gb_progress *progress,
                         gb_model **out, gb_error *err)
{
    const student_type *st = student_type_find(type);
    if (st == NULL)
        return unknown_type(type, err);
    return st->fit(params, n_params, ts, progress, out, err);
}

int gb_student_wants_one_hot(const char *type)
{
    const student_type *st = student_type_find(type);
    return st != NULL && st->wants_one_hot;
}

gb_status gb_student_from_json(const cJSON *artifact, gb_model **out, gb_error *err)
{
    const char *format = NULL, *type = NULL;
    gb_status rc;
    if ((rc = gb_json_get_string(artifact, "", "format", &format, err)) != GB_OK)
        return rc;
    if (strcmp(format, "glassbox-student") != 0) {
        gb_error_set(err, GB_EUNUSABLE, "field 'format' must be \"glassbox-student\"");
        gb_error_field(err, "format");
        return GB_EUNUSABLE;
    }
    if ((rc = gb_json_get_string(artifact, "", "type", &type, err)) != GB_OK)
        return rc;
    const student_type *st = student_type_find(type);
    if (st == NULL)
        return unknown_type(type, err);
    return st->from_json(artifact, out, err);
}

gb_status gb_student_export(const gb_model *student, const char *format, char **out,
                            gb_error *err)
{
    const char *kind =
        student != NULL && student->ops != NULL ? student->ops->kind : "";
    const student_type *st = student_type_find(kind);
    if (st == NULL)
        return gb_error_set(err, GB_EUNUSABLE,
                            "a '%s' model is not an exportable student", kind);
    if (format != NULL && strcmp(format, "sql") == 0 && st->export_sql != NULL)
        return st->export_sql(student, out, err);
    if (format != NULL && strcmp(format, "c") == 0 && st->export_c != NULL)
        return st->export_c(student, out, err);
    gb_error_set(err, GB_EUNUSABLE,
                 "unknown export format '%s' for a %s student (known: sql, c)",
                 format != NULL ? format : "", kind);
    gb_error_field(err, "format");
    return GB_EUNUSABLE;
}

int gb_param_parse_uint(const char *text, unsigned long long lo, unsigned long long hi,
                        unsigned long long *out)
{
    if (text == NULL || *text < '0' || *text > '9')
        return 0;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int gb_param_parse_real(const char *text, double *out)
{
    if (text == NULL || *text == '\0' || *text == ' ')
        return 0;
    errno = 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

gb_status gb_student_features_from_json(const cJSON *arr, const char *type,
                                        size_t max_levels, gb_feature **out,
                                        size_t *n_out, gb_error *err)
{
    size_t n = (size_t)cJSON_GetArraySize(arr);
    gb_feature *feats = gb_calloc(n ? n : 1, sizeof *feats);
    if (feats == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a %s artifact",
                            type);
    gb_status rc = GB_OK;
    for (size_t f = 0; f < n; f++) {
        const cJSON *o = cJSON_GetArrayItem(arr, (int)f);
        char path[64];
        snprintf(path, sizeof path, "features[%zu]", f);
        const char *name = NULL, *kind = NULL;
        if ((rc = gb_json_get_string(o, path, "name", &name, err)) != GB_OK ||
            (rc = gb_json_get_string(o, path, "kind", &kind, err)) != GB_OK)
            goto fail;
        feats[f].name = gb_strdup(name);
        if (feats[f].name == NULL) {
            rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a %s artifact",
                              type);
            goto fail;
        }
        if (strcmp(kind, "categorical") == 0) {
            const cJSON *lv = NULL;
            feats[f].kind = GB_FEAT_CATEGORICAL;
            if ((rc = gb_json_get_array(o, path, "levels", &lv, err)) != GB_OK ||
                (rc = gb_json_string_array(lv, path, max_levels, &feats[f].levels,
                                           &feats[f].n_levels, err)) != GB_OK)
                goto fail;
        } else if (strcmp(kind, "numeric") == 0) {
            feats[f].kind = GB_FEAT_NUMERIC;
        } else {
            rc = gb_error_set(err, GB_EUNUSABLE,
                              "%s artifact: field '%s.kind' must be \"numeric\" or "
                              "\"categorical\"",
                              type, path);
            char field[96];
            snprintf(field, sizeof field, "%s.kind", path);
            gb_error_field(err, field);
            goto fail;
        }
    }
    *out = feats;
    *n_out = n;
    return GB_OK;
fail:
    gb_features_free(feats, n);
    return rc;
}

cJSON *gb_student_features_to_json(const gb_model *m)
{
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    for (size_t f = 0; f < m->n_features; f++) {
        const gb_feature *feat = &m->features[f];
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(arr, o) ||
            cJSON_AddStringToObject(o, "name", feat->name) == NULL ||
            cJSON_AddStringToObject(
                o, "kind",
                feat->kind == GB_FEAT_CATEGORICAL ? "categorical" : "numeric") == NULL)
            goto fail;
        if (feat->kind == GB_FEAT_CATEGORICAL) {
            cJSON *lv = gb_json_string_array_create(feat->levels, feat->n_levels);
            if (lv == NULL || !cJSON_AddItemToObject(o, "levels", lv)) {
                cJSON_Delete(lv);
                goto fail;
            }
        }
    }
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}
