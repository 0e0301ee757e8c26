/*
 * json.c - cJSON behind limits and typed getters with field-path errors.
 * Layer: core.
 */
#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting depth of the text, counted before cJSON sees it (cJSON's own
 * limit is a compile-time constant we do not control). */
static gb_status check_depth(const char *bytes, size_t n, gb_error *err)
{
    int depth = 0, in_string = 0, escaped = 0;
    for (size_t i = 0; i < n; i++) {
        char c = bytes[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"')
            in_string = 1;
        else if (c == '[' || c == '{') {
            if (++depth > GB_JSON_MAX_DEPTH)
                return gb_error_set(err, GB_EINPUT,
                                    "JSON nested deeper than %d levels at byte %zu",
                                    GB_JSON_MAX_DEPTH, i + 1);
        } else if (c == ']' || c == '}')
            depth--;
    }
    return GB_OK;
}

cJSON *gb_json_parse(const char *bytes, size_t n, gb_error *err)
{
    if (n == 0) {
        gb_error_set(err, GB_EINPUT, "empty JSON document");
        return NULL;
    }
    if (check_depth(bytes, n, err) != GB_OK)
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(bytes, n, &end, 0);
    if (root == NULL) {
        size_t at = end != NULL && end >= bytes ? (size_t)(end - bytes) : 0;
        gb_error_set(err, GB_EINPUT, "malformed JSON near byte %zu", at + 1);
        return NULL;
    }
    /* Only whitespace (or a trailing NUL) may follow the value. */
    for (size_t i = end != NULL ? (size_t)(end - bytes) : n; i < n; i++) {
        char c = bytes[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != '\0') {
            cJSON_Delete(root);
            gb_error_set(err, GB_EINPUT, "trailing characters after JSON at byte %zu",
                         i + 1);
            return NULL;
        }
    }
    return root;
}

static gb_status member_error(gb_error *err, const char *path, const char *key,
                              const char *what)
{
    char field[256];
    if (path != NULL && path[0] != '\0')
        snprintf(field, sizeof field, "%s.%s", path, key);
    else
        snprintf(field, sizeof field, "%s", key);
    gb_error_set(err, GB_EUNUSABLE, "field '%s' %s", field, what);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

gb_status gb_json_get_number(const cJSON *obj, const char *path, const char *key,
                             double *out, gb_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (item == NULL)
        return member_error(err, path, key, "is missing");
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
        return member_error(err, path, key, "must be a finite number");
    *out = item->valuedouble;
    return GB_OK;
}

gb_status gb_json_get_string(const cJSON *obj, const char *path, const char *key,
                             const char **out, gb_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (item == NULL)
        return member_error(err, path, key, "is missing");
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return member_error(err, path, key, "must be a string");
    *out = item->valuestring;
    return GB_OK;
}

/* The member key of obj when is_type accepts it; otherwise the error names
 * path.key and says it is missing or "must be <type_name>". */
static gb_status get_typed(const cJSON *obj, const char *path, const char *key,
                           cJSON_bool (*is_type)(const cJSON *), const char *type_name,
                           const cJSON **out, gb_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (item == NULL)
        return member_error(err, path, key, "is missing");
    if (!is_type(item)) {
        char what[64];
        snprintf(what, sizeof what, "must be %s", type_name);
        return member_error(err, path, key, what);
    }
    *out = item;
    return GB_OK;
}

gb_status gb_json_get_array(const cJSON *obj, const char *path, const char *key,
                            const cJSON **out, gb_error *err)
{
    return get_typed(obj, path, key, cJSON_IsArray, "an array", out, err);
}

gb_status gb_json_get_object(const cJSON *obj, const char *path, const char *key,
                             const cJSON **out, gb_error *err)
{
    return get_typed(obj, path, key, cJSON_IsObject, "an object", out, err);
}

/* The size of arr, a JSON array of at most max_n entries; otherwise
 * GB_EUNUSABLE naming path ("must be an array of <of_what>") and *n is
 * untouched. */
static gb_status array_size(const cJSON *arr, const char *path, size_t max_n,
                            const char *of_what, size_t *n, gb_error *err)
{
    if (!cJSON_IsArray(arr)) {
        gb_error_set(err, GB_EUNUSABLE, "'%s' must be an array of %s", path, of_what);
        gb_error_field(err, path);
        return GB_EUNUSABLE;
    }
    size_t size = (size_t)cJSON_GetArraySize(arr);
    if (size > max_n) {
        gb_error_set(err, GB_EUNUSABLE, "'%s' has %zu entries, at most %zu allowed",
                     path, size, max_n);
        gb_error_field(err, path);
        return GB_EUNUSABLE;
    }
    *n = size;
    return GB_OK;
}

gb_status gb_json_number_array(const cJSON *arr, const char *path, size_t max_n,
                               double **out, size_t *n_out, gb_error *err)
{
    *out = NULL;
    *n_out = 0;
    size_t n = 0;
    gb_status status = array_size(arr, path, max_n, "numbers", &n, err);
    if (status != GB_OK)
        return status;
    double *v = gb_malloc_array(n ? n : 1, sizeof *v);
    if (v == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", path);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
            gb_free(v);
            gb_error_set(err, GB_EUNUSABLE, "'%s[%zu]' must be a finite number", path,
                         i);
            gb_error_field(err, path);
            return GB_EUNUSABLE;
        }
        v[i++] = item->valuedouble;
    }
    *out = v;
    *n_out = n;
    return GB_OK;
}

gb_status gb_json_string_array(const cJSON *arr, const char *path, size_t max_n,
                               char ***out, size_t *n_out, gb_error *err)
{
    *out = NULL;
    *n_out = 0;
    size_t n = 0;
    gb_status status = array_size(arr, path, max_n, "strings", &n, err);
    if (status != GB_OK)
        return status;
    char **s = gb_calloc(n ? n : 1, sizeof *s);
    if (s == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", path);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsString(item) || item->valuestring == NULL) {
            gb_free_strings(s, n);
            gb_error_set(err, GB_EUNUSABLE, "'%s[%zu]' must be a string", path, i);
            gb_error_field(err, path);
            return GB_EUNUSABLE;
        }
        s[i] = gb_strdup(item->valuestring);
        if (s[i] == NULL) {
            gb_free_strings(s, n);
            return gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", path);
        }
        i++;
    }
    *out = s;
    *n_out = n;
    return GB_OK;
}

cJSON *gb_json_add_number(cJSON *obj, const char *key, double v)
{
    if (!isfinite(v))
        return cJSON_AddNullToObject(obj, key);
    return cJSON_AddNumberToObject(obj, key, v);
}

cJSON *gb_json_number_array_create(const double *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        cJSON *item = isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull();
        if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

cJSON *gb_json_string_array_create(char *const *s, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        cJSON *item = cJSON_CreateString(s[i]);
        if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

/* Shortest "%.Ng" text (N = 15..17) that strtod reads back as exactly v. */
static void format_exact(double v, char buf[32])
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* cJSON prints numbers with 15 digits whenever they compare equal within
 * DBL_EPSILON, which can lose the last bit.  Finite numbers of a copy of
 * the tree are turned into raw text that reads back exactly. */
static int numbers_to_exact_raw(cJSON *node)
{
    for (; node != NULL; node = node->next) {
        if (cJSON_IsNumber(node) && isfinite(node->valuedouble)) {
            char buf[32];
            format_exact(node->valuedouble, buf);
            char *text = cJSON_malloc(strlen(buf) + 1);
            if (text == NULL)
                return 0;
            memcpy(text, buf, strlen(buf) + 1);
            node->type = cJSON_Raw | (node->type & cJSON_StringIsConst);
            node->valuestring = text;
        } else if (node->child != NULL && !numbers_to_exact_raw(node->child)) {
            return 0;
        }
    }
    return 1;
}

char *gb_json_print(const cJSON *item, int pretty)
{
    cJSON *copy_tree = cJSON_Duplicate(item, 1);
    if (copy_tree == NULL)
        return NULL;
    /* The root itself may be a number: handle it without its siblings. */
    cJSON *next = copy_tree->next;
    copy_tree->next = NULL;
    int ok = numbers_to_exact_raw(copy_tree);
    copy_tree->next = next;
    char *text =
        ok ? (pretty ? cJSON_Print(copy_tree) : cJSON_PrintUnformatted(copy_tree))
           : NULL;
    cJSON_Delete(copy_tree);
    if (text == NULL)
        return NULL;
    char *copy = gb_strdup(text);
    cJSON_free(text);
    return copy;
}
