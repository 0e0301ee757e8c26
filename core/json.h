/*
 * json.h - the one place core touches cJSON: parsing with limits, typed
 * getters whose errors name the field path, and number formatting.
 * Layer: core.  Other core files include this, never cJSON.h directly.
 *
 * Ownership (cJSON's rule): every item is owned by its parent; the root is
 * freed once with cJSON_Delete; printed strings are freed with cJSON_free.
 */
#ifndef CORE_JSON_H
#define CORE_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/base.h"

#define GB_JSON_MAX_DEPTH 64

/* Parses n bytes (not NUL-terminated) into a cJSON tree, rejecting nesting
 * deeper than GB_JSON_MAX_DEPTH and trailing garbage.  Errors are GB_EINPUT
 * naming the byte offset.  Caller frees with cJSON_Delete. */
cJSON *gb_json_parse(const char *bytes, size_t n, gb_error *err);

/* Typed member access.  `path` names the object for error messages
 * ("layers[2]").  Missing or mistyped members give GB_EUNUSABLE with
 * err->field = "path.key" and leave *out untouched.  Strings, arrays and
 * objects are borrowed from obj (nothing to free). */
gb_status gb_json_get_number(const cJSON *obj, const char *path, const char *key,
                             double *out, gb_error *err);
gb_status gb_json_get_string(const cJSON *obj, const char *path, const char *key,
                             const char **out, gb_error *err);
/* *out borrows the array item (owned by obj). */
gb_status gb_json_get_array(const cJSON *obj, const char *path, const char *key,
                            const cJSON **out, gb_error *err);
gb_status gb_json_get_object(const cJSON *obj, const char *path, const char *key,
                             const cJSON **out, gb_error *err);

/* Reads a JSON array of finite numbers into a new double array of *n_out
 * entries (caller frees with gb_free).  max_n bounds the length. */
gb_status gb_json_number_array(const cJSON *arr, const char *path, size_t max_n,
                               double **out, size_t *n_out, gb_error *err);

/* Reads a JSON array of strings into a new array of *n_out copies (caller
 * frees with gb_free_strings). */
gb_status gb_json_string_array(const cJSON *arr, const char *path, size_t max_n,
                               char ***out, size_t *n_out, gb_error *err);

/* Adds a number; non-finite values are added as null (JSON has no NaN).
 * Returns the new item, owned by obj, or NULL when out of memory (obj is
 * then unchanged). */
cJSON *gb_json_add_number(cJSON *obj, const char *key, double v);
/* A new array of n numbers (non-finite -> null), or NULL when out of
 * memory.  The caller owns it: attach it to a parent or cJSON_Delete it. */
cJSON *gb_json_number_array_create(const double *v, size_t n);
/* A new array of copies of n strings; ownership and errors as above. */
cJSON *gb_json_string_array_create(char *const *s, size_t n);

/* Prints compactly with numbers as %.17g-exact shortest round-trip text, so
 * that output is byte-identical for identical values.  Caller frees with
 * gb_free.  NULL on allocation failure. */
char *gb_json_print(const cJSON *item, int pretty);

#endif /* CORE_JSON_H */
