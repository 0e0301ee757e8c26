/*
 * fixture.h - reading the committed JSON reference fixtures in unit tests:
 * the whole file parsed with gb_json_parse, members that must exist, and
 * number arrays.  Header-only (each check_*.c is its own program); every
 * helper fails the running test through ck_assert instead of returning an
 * error.
 */
#ifndef TESTS_UNIT_FIXTURE_H
#define TESTS_UNIT_FIXTURE_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"

/* The parsed JSON document at path; the caller frees it with cJSON_Delete.
 * Fails the test when the file cannot be read or parsed. */
static inline cJSON *load_fixture(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    ck_assert_msg(size >= 0, "cannot size %s", path);
    char *buf = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    gb_error err;
    cJSON *root = gb_json_parse(buf, (size_t)size, &err);
    free(buf);
    ck_assert_msg(root != NULL, "%s: %s", path, err.message);
    return root;
}

/* Member key of obj (borrowed); fails the test when it is missing. */
static inline const cJSON *fixture_item(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_msg(it != NULL, "missing key %s", key);
    return it;
}

/* Member key of obj, an array of numbers or nulls (NaN), as a malloc'd
 * array of *n doubles (one spare slot, so *n = 0 still allocates) that the
 * caller frees with free. */
static inline double *fixture_numbers(const cJSON *obj, const char *key, size_t *n)
{
    const cJSON *arr = fixture_item(obj, key);
    *n = (size_t)cJSON_GetArraySize(arr);
    double *v = malloc((*n + 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    size_t i = 0;
    const cJSON *x = NULL;
    cJSON_ArrayForEach(x, arr) v[i++] = cJSON_IsNull(x) ? NAN : x->valuedouble;
    return v;
}

#endif /* TESTS_UNIT_FIXTURE_H */
