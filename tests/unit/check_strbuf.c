/*
 * check_strbuf.c - the growable text buffer: growth, SQL identifiers,
 * handing over, allocation failure.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "core/strbuf.h"

START_TEST(test_grows_and_hands_over)
{
    gb_strbuf b = GB_STRBUF_INIT;
    for (int i = 0; i < 1000; i++)
        gb_strbuf_printf(&b, "%04d,", i);
    char *text = gb_strbuf_take(&b);
    ck_assert_uint_eq(strlen(text), 5000);
    ck_assert(strncmp(text, "0000,0001,", 10) == 0);
    ck_assert(strcmp(text + 4995, "0999,") == 0);
    ck_assert_ptr_null(b.text);
    gb_free(text);
    text = gb_strbuf_take(&b);
    ck_assert_str_eq(text, "");
    gb_free(text);
}
END_TEST

START_TEST(test_sql_identifier_doubles_quotes)
{
    gb_strbuf b = GB_STRBUF_INIT;
    gb_strbuf_sql_ident(&b, "a \"b\" c");
    char *text = gb_strbuf_take(&b);
    ck_assert_str_eq(text, "\"a \"\"b\"\" c\"");
    gb_free(text);
}
END_TEST

START_TEST(test_failure_sticks_and_frees)
{
    gb_strbuf b = GB_STRBUF_INIT;
    gb_strbuf_printf(&b, "start");
    gb_alloc_fail_after(1);
    for (int i = 0; i < 300; i++)
        gb_strbuf_printf(&b, "%s", "0123456789");
    gb_alloc_fail_after(0);
    gb_strbuf_printf(&b, "after");
    ck_assert(b.failed);
    ck_assert_ptr_null(gb_strbuf_take(&b));
    ck_assert_ptr_null(b.text);
}
END_TEST

static Suite *strbuf_suite(void)
{
    Suite *s = suite_create("strbuf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_grows_and_hands_over);
    tcase_add_test(tc, test_sql_identifier_doubles_quotes);
    tcase_add_test(tc, test_failure_sticks_and_frees);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(strbuf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
