/*
 * check_disagreement.c - the disagreement tree finds a planted region
 * (age <= 30 and city b) and reports it as a readable rule with its row
 * count and rate; errors.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/rng.h"
#include "explain/disagreement.h"

START_TEST(test_planted_region)
{
    enum { NR = 400 };
    gb_rng rng;
    gb_rng_seed(&rng, 1);
    double age[NR], income[NR], target[NR];
    const char *city[NR];
    const char *names[3] = {"a", "b", "c"};
    size_t planted = 0;
    for (size_t i = 0; i < NR; i++) {
        age[i] = (double)(18 + gb_rng_below(&rng, 50));
        income[i] = (double)gb_rng_below(&rng, 10000);
        city[i] = names[gb_rng_below(&rng, 3)];
        target[i] = age[i] <= 30 && strcmp(city[i], "b") == 0;
        planted += target[i] == 1;
    }
    gb_error err;
    gb_table *t = gb_table_create(NR, &err);
    ck_assert_int_eq(gb_table_add_numeric(t, "age", age, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_numeric(t, "income", income, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_categorical(t, "city", city, &err), GB_OK);
    char *cols[3] = {"age", "income", "city"};
    ex_rule *rules = NULL;
    size_t n = 0;
    ex_disagreement_params p = {3, 0, 5, 2};
    ck_assert_msg(ex_disagreement(t, NULL, NR, cols, 3, target, &p, &rules, &n, &err) ==
                      GB_OK,
                  "%s", err.message);
    ck_assert_uint_ge(n, 1);
    fprintf(stderr, "disagreement rule: %s (%zu rows, rate %g)\n", rules[0].rule,
            rules[0].rows, rules[0].rate);
    ck_assert_double_eq(rules[0].rate, 1.0);
    ck_assert_uint_eq(rules[0].rows, planted);
    ck_assert_ptr_nonnull(strstr(rules[0].rule, "age <= 30.5"));
    ck_assert_ptr_nonnull(strstr(rules[0].rule, "city in {b}"));
    ck_assert_ptr_nonnull(strstr(rules[0].rule, " and "));
    for (size_t i = 1; i < n; i++)
        ck_assert(rules[i].rate <= rules[i - 1].rate && rules[i].rate > 0);
    ex_rules_free(rules, n);
    /* A subset of rows by index. */
    size_t rows[NR / 2];
    double sub_target[NR / 2];
    for (size_t i = 0; i < NR / 2; i++) {
        rows[i] = 2 * i;
        sub_target[i] = target[2 * i];
    }
    ck_assert_int_eq(
        ex_disagreement(t, rows, NR / 2, cols, 3, sub_target, &p, &rules, &n, &err),
        GB_OK);
    ck_assert_double_eq(rules[0].rate, 1.0);
    ex_rules_free(rules, n);
    /* Errors. */
    char *bad[1] = {"nope"};
    ck_assert_int_eq(ex_disagreement(t, NULL, NR, bad, 1, target, &p, &rules, &n, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "nope");
    ck_assert_ptr_null(rules);
    ck_assert_int_eq(ex_disagreement(t, NULL, 1, cols, 3, target, &p, &rules, &n, &err),
                     GB_EUNUSABLE);
    ck_assert_int_eq(
        ex_disagreement(t, NULL, NR, cols, 0, target, &p, &rules, &n, &err),
        GB_EUNUSABLE);
    target[7] = NAN;
    ck_assert_int_eq(
        ex_disagreement(t, NULL, NR, cols, 3, target, &p, &rules, &n, &err),
        GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "row 7"));
    target[7] = 0;
    for (long k = 1; k < 40; k += 3) {
        gb_alloc_fail_after(k);
        gb_status rc =
            ex_disagreement(t, NULL, NR, cols, 3, target, &p, &rules, &n, &err);
        gb_alloc_fail_after(0);
        ck_assert(rc == GB_OK || rc == GB_ENOMEM);
        ex_rules_free(rules, n);
    }
    gb_table_free(t);
}
END_TEST

static Suite *disagreement_suite(void)
{
    Suite *s = suite_create("disagreement");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_planted_region);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(disagreement_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
