/*
 * check_student.c - the student dispatcher's shared parameter parsers and
 * its refusal of unknown types.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/students/student.h"

START_TEST(test_parse_uint)
{
    unsigned long long v = 7;
    ck_assert(gb_param_parse_uint("12", 1, 32, &v) && v == 12);
    v = 7;
    ck_assert(!gb_param_parse_uint("33", 1, 32, &v) && v == 7);
    ck_assert(!gb_param_parse_uint("0", 1, 32, &v));
    ck_assert(!gb_param_parse_uint("-1", 0, 32, &v));
    ck_assert(!gb_param_parse_uint("+3", 0, 32, &v));
    ck_assert(!gb_param_parse_uint(" 3", 0, 32, &v));
    ck_assert(!gb_param_parse_uint("3x", 0, 32, &v));
    ck_assert(!gb_param_parse_uint("", 0, 32, &v));
    ck_assert(!gb_param_parse_uint(NULL, 0, 32, &v));
    ck_assert(!gb_param_parse_uint("99999999999999999999999", 0, ~0ULL, &v));
}
END_TEST

START_TEST(test_parse_real)
{
    double d = 0;
    ck_assert(gb_param_parse_real("0.25", &d) && d == 0.25);
    ck_assert(gb_param_parse_real("-1e-3", &d) && d == -1e-3);
    d = 5;
    ck_assert(!gb_param_parse_real("nan", &d) && d == 5);
    ck_assert(!gb_param_parse_real("inf", &d));
    ck_assert(!gb_param_parse_real("1e999", &d));
    ck_assert(!gb_param_parse_real("1.5 ", &d));
    ck_assert(!gb_param_parse_real(" 1.5", &d));
    ck_assert(!gb_param_parse_real("", &d));
}
END_TEST

START_TEST(test_unknown_type_is_named)
{
    gb_error err;
    ck_assert_int_eq(gb_student_check("forest", NULL, 0, GB_TASK_BINARY, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "forest"));
}
END_TEST

static Suite *student_suite(void)
{
    Suite *s = suite_create("student");
    TCase *tc = tcase_create("params");
    tcase_add_test(tc, test_parse_uint);
    tcase_add_test(tc, test_parse_real);
    tcase_add_test(tc, test_unknown_type_is_named);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(student_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
