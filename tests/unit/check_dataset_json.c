/*
 * check_dataset_json.c - the dataset object of API.md built from a parsed
 * CSV: column types, missing counts, levels, summary statistics, target,
 * task and classes; null target; non-finite statistics as null.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/dataset_json.h"
#include "core/data/csv.h"

static gb_table *parse(const char *text)
{
    gb_error err;
    gb_table *t = NULL;
    gb_csv_parser *p = gb_csv_parser_create(NULL, &err);
    ck_assert_int_eq(gb_csv_parser_feed(p, text, strlen(text), &err), GB_OK);
    ck_assert_int_eq(gb_csv_parser_finish(p, &t, &err), GB_OK);
    gb_csv_parser_free(p);
    return t;
}

static const cJSON *member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "missing member %s", key);
    return v;
}

START_TEST(test_dataset_object)
{
    gb_table *t =
        parse("age,city,only,y\n30,Oslo,NA,yes\nNA,Bergen,NA,no\n50,Oslo,5,yes\n");
    gb_error err;
    gb_target target;
    ck_assert_int_eq(gb_target_resolve(t, "y", GB_TASK_AUTO, &target, &err), GB_OK);
    cJSON *j = api_dataset_json(t, &target, "d.csv", "abc123");
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(member(j, "name")->valuestring, "d.csv");
    ck_assert_str_eq(member(j, "sha256")->valuestring, "abc123");
    ck_assert_double_eq(member(j, "rows")->valuedouble, 3);
    ck_assert_str_eq(member(j, "target")->valuestring, "y");
    ck_assert_str_eq(member(j, "task")->valuestring, "binary");
    const cJSON *classes = member(j, "classes");
    ck_assert_int_eq(cJSON_GetArraySize(classes), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(classes, 0)->valuestring, "no");
    const cJSON *cols = member(j, "columns");
    ck_assert_int_eq(cJSON_GetArraySize(cols), 4);
    const cJSON *age = cJSON_GetArrayItem(cols, 0);
    ck_assert_str_eq(member(age, "name")->valuestring, "age");
    ck_assert_str_eq(member(age, "type")->valuestring, "numeric");
    ck_assert_double_eq(member(age, "missing")->valuedouble, 1);
    ck_assert_double_eq(member(age, "min")->valuedouble, 30);
    ck_assert_double_eq(member(age, "max")->valuedouble, 50);
    ck_assert_double_eq(member(age, "mean")->valuedouble, 40);
    /* Sample sd of {30, 50}: sqrt(200). */
    ck_assert_double_eq_tol(member(age, "sd")->valuedouble, sqrt(200.0), 1e-12);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(age, "levels"));
    const cJSON *city = cJSON_GetArrayItem(cols, 1);
    ck_assert_str_eq(member(city, "type")->valuestring, "categorical");
    const cJSON *levels = member(city, "levels");
    ck_assert_int_eq(cJSON_GetArraySize(levels), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(levels, 0)->valuestring, "Bergen");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(city, "mean"));
    /* One value: sd undefined -> null. */
    const cJSON *only = cJSON_GetArrayItem(cols, 2);
    ck_assert(cJSON_IsNull(member(only, "sd")));
    ck_assert_double_eq(member(only, "mean")->valuedouble, 5);
    cJSON_Delete(j);
    gb_target_free(&target);
    gb_table_free(t);
}
END_TEST

START_TEST(test_without_target_and_regression)
{
    gb_table *t = parse("x,y\n1,0.5\n2,1.5\n3,2.25\n");
    cJSON *j = api_dataset_json(t, NULL, "r.csv", "00");
    ck_assert(cJSON_IsNull(member(j, "target")));
    ck_assert(cJSON_IsNull(member(j, "task")));
    ck_assert_int_eq(cJSON_GetArraySize(member(j, "classes")), 0);
    cJSON_Delete(j);
    gb_error err;
    gb_target target;
    ck_assert_int_eq(gb_target_resolve(t, "y", GB_TASK_AUTO, &target, &err), GB_OK);
    j = api_dataset_json(t, &target, "r.csv", "00");
    ck_assert_str_eq(member(j, "task")->valuestring, "regression");
    ck_assert_int_eq(cJSON_GetArraySize(member(j, "classes")), 0);
    cJSON_Delete(j);
    gb_target_free(&target);
    gb_table_free(t);
}
END_TEST

static Suite *dataset_json_suite(void)
{
    Suite *s = suite_create("dataset_json");
    TCase *tc = tcase_create("dataset_json");
    tcase_add_test(tc, test_dataset_object);
    tcase_add_test(tc, test_without_target_and_regression);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dataset_json_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
