/*
 * load.c - format detection, the teacher loader dispatch, and the
 * feature-alignment check.
 * Layer: core/model/teachers.
 */
#include "core/model/teachers/load.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/data/encode.h"
#include "core/json.h"
#include "core/model/students/student.h"
#include "core/model/teachers/lightgbm.h"
#include "core/model/teachers/mlp.h"
#include "core/model/teachers/xgboost.h"

const char *gb_model_format_name(gb_model_format format)
{
    switch (format) {
    case GB_FORMAT_GLASSBOX_MLP: return "glassbox-mlp";
    case GB_FORMAT_GLASSBOX_STUDENT: return "glassbox-student";
    case GB_FORMAT_XGBOOST_JSON: return "xgboost-json";
    case GB_FORMAT_XGBOOST_UBJSON: return "xgboost-ubjson";
    case GB_FORMAT_LIGHTGBM_TEXT: return "lightgbm-text";
    default: return "unknown";
    }
}

static size_t skip_prefix(const char *bytes, size_t n)
{
    size_t i = 0;
    if (n >= 3 && (unsigned char)bytes[0] == 0xEF && (unsigned char)bytes[1] == 0xBB &&
        (unsigned char)bytes[2] == 0xBF)
        i = 3;
    while (i < n && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' ||
                     bytes[i] == '\n'))
        i++;
    return i;
}

/* Walks the top-level object of JSON-like text (tolerating the NaN and
 * Infinity tokens XGBoost writes) and reports whether it has a "learner"
 * key and the value of a string "format" key.  Nested values are skipped
 * without being parsed; nothing is allocated. */
static void scan_top_level(const char *b, size_t n, int *has_learner, char *format,
                           size_t format_cap)
{
    int depth = 0, expect_key = 0, key = 0, value_next = 0;
    *has_learner = 0;
    format[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (c == '"') {
            size_t j = i + 1;
            while (j < n && b[j] != '"')
                j += b[j] == '\\' ? 2 : 1;
            if (j >= n)
                return;
            const char *str = b + i + 1;
            size_t len = j - i - 1;
            if (depth == 1 && expect_key) {
                key = len == 6 && memcmp(str, "format", 6) == 0    ? 1
                      : len == 7 && memcmp(str, "learner", 7) == 0 ? 2
                                                                   : 0;
                if (key == 2)
                    *has_learner = 1;
                expect_key = 0;
            } else if (depth == 1 && value_next && key == 1 && len < format_cap) {
                memcpy(format, str, len);
                format[len] = '\0';
            }
            value_next = 0;
            i = j;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == ':' && depth == 1) {
            value_next = 1;
            continue;
        }
        value_next = 0;
        if (c == '{' || c == '[') {
            depth++;
            if (depth == 1)
                expect_key = 1;
        } else if (c == '}' || c == ']') {
            if (--depth <= 0)
                return;
        } else if (c == ',' && depth == 1) {
            expect_key = 1;
        }
    }
}

gb_model_format gb_model_format_detect(const char *bytes, size_t n)
{
    if (bytes == NULL || n == 0)
        return GB_FORMAT_UNKNOWN;
    /* UBJSON: no BOM or whitespace skipping; the first byte opens the
     * object and the second is a key-length type or container marker. */
    if (n >= 2 && bytes[0] == '{' && bytes[1] != '\0' &&
        strchr("iUIlL$#", bytes[1]) != NULL)
        return GB_FORMAT_XGBOOST_UBJSON;
    size_t i = skip_prefix(bytes, n);
    if (i < n && bytes[i] == '{') {
        int has_learner = 0;
        char format[32];
        scan_top_level(bytes + i, n - i, &has_learner, format, sizeof format);
        if (strcmp(format, "glassbox-mlp") == 0)
            return GB_FORMAT_GLASSBOX_MLP;
        if (strcmp(format, "glassbox-student") == 0)
            return GB_FORMAT_GLASSBOX_STUDENT;
        if (has_learner)
            return GB_FORMAT_XGBOOST_JSON;
        return GB_FORMAT_UNKNOWN;
    }
    /* LightGBM: the first line is the submodel type "tree". */
    if (n - i >= 4 && memcmp(bytes + i, "tree", 4) == 0 &&
        (n - i == 4 || bytes[i + 4] == '\n' || bytes[i + 4] == '\r'))
        return GB_FORMAT_LIGHTGBM_TEXT;
    return GB_FORMAT_UNKNOWN;
}

gb_status gb_teacher_load(const char *bytes, size_t n, gb_model **out, gb_error *err)
{
    return gb_teacher_load_opts(bytes, n, NULL, out, err);
}

gb_status gb_teacher_load_opts(const char *bytes, size_t n,
                               const gb_teacher_options *opts, gb_model **out,
                               gb_error *err)
{
    *out = NULL;
    gb_model_format format = gb_model_format_detect(bytes, n);
    size_t i = format == GB_FORMAT_XGBOOST_UBJSON ? 0 : skip_prefix(bytes, n);
    switch (format) {
    case GB_FORMAT_LIGHTGBM_TEXT: return gb_lightgbm_load(bytes + i, n - i, out, err);
    case GB_FORMAT_GLASSBOX_MLP: return gb_mlp_load(bytes + i, n - i, out, err);
    case GB_FORMAT_XGBOOST_JSON:
    case GB_FORMAT_XGBOOST_UBJSON: {
        gb_xgboost_options xopts = {opts != NULL ? opts->levels_from : NULL};
        return gb_xgboost_load_opts(bytes + i, n - i, &xopts, out, err);
    }
    case GB_FORMAT_GLASSBOX_STUDENT: {
        cJSON *root = gb_json_parse(bytes + i, n - i, err);
        if (root == NULL)
            return err != NULL && err->code != GB_OK ? err->code : GB_EINPUT;
        gb_status rc = gb_student_from_json(root, out, err);
        cJSON_Delete(root);
        return rc;
    }
    default:
        return gb_error_set(
            err, GB_EUNUSABLE,
            "unrecognised model format (expected glassbox-mlp JSON, an XGBoost "
            "JSON or UBJSON model, a LightGBM text model or a glassbox student "
            "artifact)");
    }
}

gb_status gb_teacher_load_file(const char *path, gb_model **out, gb_error *err)
{
    return gb_teacher_load_file_opts(path, NULL, out, err);
}

gb_status gb_teacher_load_file_opts(const char *path, const gb_teacher_options *opts,
                                    gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        if (e == ENOENT)
            rc =
                gb_error_set(err, GB_ENOTFOUND, "model file '%s' does not exist", path);
        else
            rc = gb_error_set(err, GB_EIO, "cannot open model file '%s': %s", path,
                              strerror(e));
        gb_error_field(err, "model");
        return rc;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= GB_TEACHER_MAX_BYTES) {
                rc = gb_error_set(err, GB_ETOOLARGE,
                                  "model file '%s' is larger than %zu MB", path,
                                  GB_TEACHER_MAX_BYTES >> 20);
                goto out;
            }
            size_t cap2 = cap ? cap * 2 : 65536;
            if (cap2 > GB_TEACHER_MAX_BYTES)
                cap2 = GB_TEACHER_MAX_BYTES;
            char *b2 = gb_realloc(buf, cap2 + 1);
            if (b2 == NULL) {
                rc = gb_error_set(err, GB_ENOMEM,
                                  "out of memory reading model file '%s'", path);
                goto out;
            }
            buf = b2;
            cap = cap2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = gb_error_set(err, GB_EIO, "error reading model file '%s'", path);
                goto out;
            }
            break;
        }
    }
    if (n == cap && cap == GB_TEACHER_MAX_BYTES && fgetc(f) != EOF) {
        rc = gb_error_set(err, GB_ETOOLARGE, "model file '%s' is larger than %zu MB",
                          path, GB_TEACHER_MAX_BYTES >> 20);
        goto out;
    }
    if (n == 0) {
        rc = gb_error_set(err, GB_EUNUSABLE, "model file '%s' is empty", path);
        goto out;
    }
    rc = gb_teacher_load_opts(buf, n, opts, out, err);
out:
    fclose(f);
    gb_free(buf);
    return rc;
}

/* Whether encode.h can bind feature f to some column of table. */
static int feature_present(const gb_feature *f, const gb_table *table)
{
    if (gb_table_find(table, f->name) >= 0)
        return 1;
    if (f->kind != GB_FEAT_NUMERIC)
        return 0;
    /* "col=level": one-hot indicator of categorical column col. */
    for (const char *eq = strchr(f->name, '='); eq != NULL; eq = strchr(eq + 1, '=')) {
        size_t len = (size_t)(eq - f->name);
        for (size_t c = 0; c < table->n_cols; c++)
            if (table->cols[c].type == GB_COL_CATEGORICAL &&
                strlen(table->cols[c].name) == len &&
                memcmp(table->cols[c].name, f->name, len) == 0)
                return 1;
    }
    return 0;
}

gb_status gb_model_check_features(const gb_model *m, const gb_table *table,
                                  gb_error *err)
{
    size_t n_missing = 0, listed = 0, first = 0;
    char list[400];
    size_t used = 0;
    list[0] = '\0';
    for (size_t j = 0; j < m->n_features; j++) {
        if (feature_present(&m->features[j], table))
            continue;
        if (n_missing == 0)
            first = j;
        n_missing++;
        const char *name = m->features[j].name;
        size_t need = strlen(name) + 2;
        if (listed == n_missing - 1 && used + need < sizeof list - 24) {
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                     listed ? ", " : "", name);
            listed++;
        }
    }
    if (n_missing > 0) {
        if (listed < n_missing)
            gb_error_set(
                err, GB_EUNUSABLE,
                "the dataset lacks %zu feature%s the model needs: %s and %zu more",
                n_missing, n_missing == 1 ? "" : "s", list, n_missing - listed);
        else
            gb_error_set(err, GB_EUNUSABLE,
                         "the dataset lacks %zu feature%s the model needs: %s",
                         n_missing, n_missing == 1 ? "" : "s", list);
        gb_error_field(err, m->features[first].name);
        return GB_EUNUSABLE;
    }
    gb_design *design = gb_design_bind(m->features, m->n_features, table, err);
    if (design == NULL)
        return err != NULL && err->code != GB_OK ? err->code : GB_EUNUSABLE;
    gb_design_free(design);
    return GB_OK;
}
