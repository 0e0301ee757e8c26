/*
 * check_scores.c - score-column teachers: the matrix they give for each task
 * and one test per validation error (column and CSV line named).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/data/table.h"
#include "core/model/teachers/scores.h"

static gb_table *table_from(const char *csv)
{
    gb_error err;
    gb_error_clear(&err);
    gb_table *t = NULL;
    gb_csv_parser *p = gb_csv_parser_create(NULL, &err);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(gb_csv_parser_feed(p, csv, strlen(csv), &err) == GB_OK, "%s",
                  err.message);
    ck_assert_msg(gb_csv_parser_finish(p, &t, &err) == GB_OK, "%s", err.message);
    gb_csv_parser_free(p);
    return t;
}

typedef struct fixture {
    gb_table *table;
    gb_target target;
} fixture;

static fixture setup(const char *csv, const char *target, gb_task task)
{
    fixture f;
    gb_error err;
    gb_error_clear(&err);
    f.table = table_from(csv);
    ck_assert_msg(gb_target_resolve(f.table, target, task, &f.target, &err) == GB_OK,
                  "%s", err.message);
    return f;
}

static void teardown(fixture *f)
{
    gb_target_free(&f->target);
    gb_table_free(f->table);
}

/* Reads `cols` expecting an error; returns it. */
static gb_error read_fails(fixture *f, char **cols, size_t n)
{
    gb_error err;
    gb_error_clear(&err);
    double *out = (double *)1;
    size_t k = 99;
    gb_status rc = gb_scores_read(f->table, &f->target, cols, n, &out, &k, &err);
    ck_assert_msg(rc == GB_EUNUSABLE, "expected GB_EUNUSABLE, got %d", rc);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(k, 0);
    return err;
}

static const char *binary_csv = "x,y,p1,p0,label\n"
                                "1,0,0.25,0.75,a\n"
                                "2,1,0.9,0.1,b\n"
                                "3,1,1,0,a\n"
                                "4,0,0,1,b\n";

START_TEST(test_binary_one_column)
{
    fixture f = setup(binary_csv, "y", GB_TASK_AUTO);
    char *cols[] = {"p1"};
    double *out = NULL;
    size_t k = 0;
    gb_error err;
    ck_assert_int_eq(gb_scores_read(f.table, &f.target, cols, 1, &out, &k, &err),
                     GB_OK);
    ck_assert_uint_eq(k, 2);
    double want[] = {0.75, 0.25, 0.1, 0.9, 0, 1, 1, 0};
    for (int i = 0; i < 8; i++)
        ck_assert(fabs(out[i] - want[i]) < 1e-15);
    gb_free(out);
    teardown(&f);
}
END_TEST

START_TEST(test_binary_two_columns_in_class_order)
{
    fixture f = setup(binary_csv, "y", GB_TASK_AUTO);
    char *cols[] = {"p0", "p1"};
    double *out = NULL;
    size_t k = 0;
    gb_error err;
    ck_assert_int_eq(gb_scores_read(f.table, &f.target, cols, 2, &out, &k, &err),
                     GB_OK);
    ck_assert_uint_eq(k, 2);
    ck_assert(out[2] == 0.1 && out[3] == 0.9);
    gb_free(out);
    teardown(&f);
}
END_TEST

START_TEST(test_multiclass_within_tolerance)
{
    fixture f = setup("y,q0,q1,q2\n0,0.3333333,0.3333333,0.3333334\n1,0.2,0.5,0.3\n"
                      "2,0,0,1\n2,0.1,0.1,0.8000005\n",
                      "y", GB_TASK_AUTO);
    ck_assert_int_eq(f.target.task, GB_TASK_MULTICLASS);
    char *cols[] = {"q0", "q1", "q2"};
    double *out = NULL;
    size_t k = 0;
    gb_error err;
    ck_assert_int_eq(gb_scores_read(f.table, &f.target, cols, 3, &out, &k, &err),
                     GB_OK);
    ck_assert_uint_eq(k, 3);
    ck_assert(out[3] == 0.2 && out[4] == 0.5 && out[5] == 0.3);
    ck_assert(out[11] == 0.8000005); /* as given, not renormalised */
    gb_free(out);
    teardown(&f);
}
END_TEST

START_TEST(test_regression_outputs)
{
    fixture f = setup("y,score\n1.5,1.25\n2.5,-3e5\n7.25,0\n", "y", GB_TASK_REGRESSION);
    char *cols[] = {"score"};
    double *out = NULL;
    size_t k = 0;
    gb_error err;
    ck_assert_int_eq(gb_scores_read(f.table, &f.target, cols, 1, &out, &k, &err),
                     GB_OK);
    ck_assert_uint_eq(k, 1);
    ck_assert(out[0] == 1.25 && out[1] == -3e5 && out[2] == 0);
    gb_free(out);
    teardown(&f);
}
END_TEST

START_TEST(test_error_no_such_column)
{
    fixture f = setup(binary_csv, "y", GB_TASK_AUTO);
    char *cols[] = {"p_1"};
    gb_error err = read_fails(&f, cols, 1);
    ck_assert_str_eq(err.field, "p_1");
    ck_assert_ptr_nonnull(strstr(err.message, "no such column"));
    teardown(&f);
}
END_TEST

START_TEST(test_error_not_numeric)
{
    fixture f = setup(binary_csv, "y", GB_TASK_AUTO);
    char *cols[] = {"label"};
    gb_error err = read_fails(&f, cols, 1);
    ck_assert_str_eq(err.field, "label");
    ck_assert_ptr_nonnull(strstr(err.message, "not numeric"));
    teardown(&f);
}
END_TEST

START_TEST(test_error_missing_value_names_line)
{
    fixture f = setup("y,p\n0,0.1\n1,0.2\n1,NA\n0,0.3\n", "y", GB_TASK_AUTO);
    char *cols[] = {"p"};
    gb_error err = read_fails(&f, cols, 1);
    ck_assert_int_eq(err.line, 4); /* data row 2 */
    ck_assert_str_eq(err.field, "p");
    ck_assert_ptr_nonnull(strstr(err.message, "missing"));
    teardown(&f);
}
END_TEST

START_TEST(test_error_not_a_probability)
{
    fixture f = setup("y,p\n0,0.1\n1,1.0000001\n1,-0.5\n", "y", GB_TASK_AUTO);
    char *cols[] = {"p"};
    gb_error err = read_fails(&f, cols, 1);
    ck_assert_int_eq(err.line, 3);
    ck_assert_ptr_nonnull(strstr(err.message, "[0, 1]"));
    teardown(&f);
}
END_TEST

START_TEST(test_error_rows_do_not_sum_to_one)
{
    fixture f = setup("y,q0,q1,q2\n0,0.2,0.3,0.5\n1,0.2,0.3,0.5\n2,0.2,0.3,0.500002\n",
                      "y", GB_TASK_AUTO);
    char *cols[] = {"q0", "q1", "q2"};
    gb_error err = read_fails(&f, cols, 3);
    ck_assert_int_eq(err.line, 4);
    ck_assert_ptr_nonnull(strstr(err.message, "sum to"));
    teardown(&f);
}
END_TEST

START_TEST(test_error_wrong_number_of_columns)
{
    fixture f = setup("y,q0,q1,q2\n0,0.2,0.3,0.5\n1,0.2,0.3,0.5\n2,0.2,0.3,0.5\n", "y",
                      GB_TASK_AUTO);
    char *two[] = {"q0", "q1"};
    gb_error err = read_fails(&f, two, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "one column per class (3)"));
    teardown(&f);
    f = setup(binary_csv, "y", GB_TASK_AUTO);
    char *three[] = {"p0", "p1", "x"};
    err = read_fails(&f, three, 3);
    ck_assert_ptr_nonnull(strstr(err.message, "binary"));
    teardown(&f);
    f = setup("y,a,b\n1.5,1,2\n2.5,3,4\n3.5,5,6\n", "y", GB_TASK_REGRESSION);
    char *ab[] = {"a", "b"};
    err = read_fails(&f, ab, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "exactly 1"));
    teardown(&f);
}
END_TEST

START_TEST(test_error_target_as_score)
{
    fixture f = setup(binary_csv, "y", GB_TASK_AUTO);
    char *cols[] = {"y"};
    gb_error err = read_fails(&f, cols, 1);
    ck_assert_str_eq(err.field, "y");
    ck_assert_ptr_nonnull(strstr(err.message, "target"));
    teardown(&f);
}
END_TEST

START_TEST(test_error_column_named_twice)
{
    fixture f = setup(binary_csv, "y", GB_TASK_AUTO);
    char *cols[] = {"p1", "p1"};
    gb_error err = read_fails(&f, cols, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "twice"));
    teardown(&f);
}
END_TEST

static Suite *scores_suite(void)
{
    Suite *s = suite_create("scores");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, test_binary_one_column);
    tcase_add_test(tc, test_binary_two_columns_in_class_order);
    tcase_add_test(tc, test_multiclass_within_tolerance);
    tcase_add_test(tc, test_regression_outputs);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_error_no_such_column);
    tcase_add_test(tc, test_error_not_numeric);
    tcase_add_test(tc, test_error_missing_value_names_line);
    tcase_add_test(tc, test_error_not_a_probability);
    tcase_add_test(tc, test_error_rows_do_not_sum_to_one);
    tcase_add_test(tc, test_error_wrong_number_of_columns);
    tcase_add_test(tc, test_error_target_as_score);
    tcase_add_test(tc, test_error_column_named_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scores_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
