/*
 * check_cli.c - the shared "--name VALUE" option parser of the command-line
 * subcommands: values, repeats, --help, unknown options and missing values.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cli.h"

static int usage_calls;
static FILE *usage_stream;

static void usage_cb(FILE *out)
{
    usage_calls++;
    usage_stream = out;
}

static int parse(int argc, char **argv, int first, const char **data,
                 const char **target)
{
    const cli_option opts[] = {{"--data", data}, {"--target", target}};
    usage_calls = 0;
    usage_stream = NULL;
    return cli_parse_options("test", argc, argv, first, opts, 2, usage_cb);
}

START_TEST(test_values_are_stored_and_repeats_win)
{
    char *argv[] = {"test", "--data", "a.csv", "--target", "y", "--data", "b.csv"};
    const char *data = NULL, *target = NULL;
    ck_assert_int_eq(parse(7, argv, 1, &data, &target), -1);
    ck_assert_str_eq(data, "b.csv");
    ck_assert_str_eq(target, "y");
    ck_assert_int_eq(usage_calls, 0);
}
END_TEST

START_TEST(test_first_skips_leading_words)
{
    char *argv[] = {"token", "create", "--target", "t"};
    const char *data = NULL, *target = NULL;
    ck_assert_int_eq(parse(4, argv, 2, &data, &target), -1);
    ck_assert_ptr_null(data);
    ck_assert_str_eq(target, "t");
    /* Without skipping, "create" is an unknown option. */
    ck_assert_int_eq(parse(4, argv, 1, &data, &target), 2);
}
END_TEST

START_TEST(test_help_prints_usage_to_stdout)
{
    char *argv[] = {"test", "--data", "a.csv", "-h", "--bogus"};
    const char *data = NULL, *target = NULL;
    ck_assert_int_eq(parse(5, argv, 1, &data, &target), 0);
    ck_assert_int_eq(usage_calls, 1);
    ck_assert_ptr_eq(usage_stream, stdout);
}
END_TEST

START_TEST(test_unknown_option_is_usage_error)
{
    char *argv[] = {"test", "--data", "a.csv", "--bogus", "x"};
    const char *data = NULL, *target = NULL;
    ck_assert_int_eq(parse(5, argv, 1, &data, &target), 2);
    ck_assert_int_eq(usage_calls, 1);
    ck_assert_ptr_eq(usage_stream, stderr);
}
END_TEST

START_TEST(test_missing_value_is_usage_error)
{
    char *argv[] = {"test", "--target", "y", "--data"};
    const char *data = NULL, *target = NULL;
    ck_assert_int_eq(parse(4, argv, 1, &data, &target), 2);
    ck_assert_ptr_null(data);
    ck_assert_int_eq(usage_calls, 1);
    ck_assert_ptr_eq(usage_stream, stderr);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("options");
    tcase_add_test(tc, test_values_are_stored_and_repeats_win);
    tcase_add_test(tc, test_first_skips_leading_words);
    tcase_add_test(tc, test_help_prints_usage_to_stdout);
    tcase_add_test(tc, test_unknown_option_is_usage_error);
    tcase_add_test(tc, test_missing_value_is_usage_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
