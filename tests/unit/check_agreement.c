/*
 * check_agreement.c - agreement of explanations (Spearman, top-k Jaccard,
 * cosine) and reason codes, on hand-computed cases.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "explain/agreement.h"
#include "explain/reason_codes.h"

START_TEST(test_spearman)
{
    double a[5] = {5, 4, 3, 2, 1}, b[5] = {1, 2, 3, 4, 5}, c[5] = {50, 40, 30, 20, 10};
    double d[4] = {1, 2, 3, 4}, e[4] = {1, 3, 2, 4}, r = 0;
    gb_error err;
    ck_assert_int_eq(ex_agreement_spearman(a, b, 5, &r, &err), GB_OK);
    ck_assert_double_eq_tol(r, -1, 1e-15);
    ck_assert_int_eq(ex_agreement_spearman(a, c, 5, &r, &err), GB_OK);
    ck_assert_double_eq_tol(r, 1, 1e-15);
    /* 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - 6 * 2 / 60 = 0.8 */
    ck_assert_int_eq(ex_agreement_spearman(d, e, 4, &r, &err), GB_OK);
    ck_assert_double_eq_tol(r, 0.8, 1e-15);
    ck_assert_int_eq(ex_agreement_spearman(d, e, 1, &r, &err), GB_OK);
    ck_assert(isnan(r));
}
END_TEST

START_TEST(test_top_jaccard)
{
    double a[7] = {7, 6, 5, 4, 3, 2, 1}, b[7] = {1, 6, 5, 4, 3, 7, 2};
    size_t top[5];
    ck_assert_uint_eq(ex_top_k(a, 7, 5, top), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(top[i], i);
    /* top5(b) = {5, 1, 2, 3, 4}; overlap {1,2,3,4}: 4 / 6. */
    ck_assert_double_eq_tol(ex_agreement_top_jaccard(a, b, 7, 5), 4.0 / 6.0, 1e-15);
    ck_assert_double_eq(ex_agreement_top_jaccard(a, a, 7, 5), 1.0);
    /* Fewer columns than k: all of them, Jaccard 1. */
    ck_assert_double_eq(ex_agreement_top_jaccard(a, b, 3, 5), 1.0);
    /* Ties go to the lower index. */
    double t[4] = {1, 2, 2, 2};
    ck_assert_uint_eq(ex_top_k(t, 4, 2, top), 2);
    ck_assert_uint_eq(top[0], 1);
    ck_assert_uint_eq(top[1], 2);
    double n[2] = {NAN, 1};
    ck_assert(isnan(ex_agreement_top_jaccard(n, a, 2, 5)));
    ck_assert(isnan(ex_agreement_top_jaccard(a, b, 0, 5)));
}
END_TEST

START_TEST(test_cosine)
{
    double a[6] = {1, 0, 0, 0, 1, 1}, b[6] = {1, 1, 0, 0, 2, 2};
    double c = ex_agreement_cosine(a, b, 3, 2);
    /* rows: (1,0)v(1,1) = 0.7071; (0,0)v(0,0) skipped; (1,1)v(2,2) = 1 */
    ck_assert_double_eq_tol(c, (1 / sqrt(2.0) + 1) / 2, 1e-15);
    double z[2] = {0, 0};
    ck_assert(isnan(ex_agreement_cosine(z, z, 1, 2)));
    double n[2] = {NAN, 0};
    ck_assert(isnan(ex_agreement_cosine(n, a, 1, 2)));
}
END_TEST

START_TEST(test_reason_codes)
{
    /* 3 rows x 4 columns of contributions to the adverse margin. */
    double t[12] = {0.5, -1, 2,  0.1, /* reasons 2, 0 */
                    -1,  -2, -3, -4,  /* none */
                    1,   1,  0,  3};  /* 3, 0 (tie 0/1 -> 0) */
    double s[12] = {2,   0,  0.5, 0,  /* 0, 2 */
                    0.2, -1, -1,  -1, /* 0 */
                    0,   0,  0,   1}; /* 3 */
    size_t ct[6], cs[6];
    ex_reason_codes(t, 3, 4, 2, ct);
    ex_reason_codes(s, 3, 4, 2, cs);
    size_t want_t[6] = {2, 0, EX_NO_REASON, EX_NO_REASON, 3, 0};
    size_t want_s[6] = {0, 2, 0, EX_NO_REASON, 3, EX_NO_REASON};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_uint_eq(ct[i], want_t[i]);
        ck_assert_uint_eq(cs[i], want_s[i]);
    }
    ex_reason_match m = ex_reason_codes_match(ct, cs, 3, 2);
    /* Row 0: 2/2; row 1: 0/1; row 2: 1/2. */
    ck_assert_double_eq_tol(m.match_rate, (1 + 0 + 0.5) / 3, 1e-15);
    /* First reasons: 2 vs 0, none vs 0, 3 vs 3. */
    ck_assert_double_eq_tol(m.top1_match, 1.0 / 3, 1e-15);
    ex_reason_match e = ex_reason_codes_match(ct, cs, 0, 2);
    ck_assert(isnan(e.match_rate) && isnan(e.top1_match));
}
END_TEST

static Suite *agreement_suite(void)
{
    Suite *s = suite_create("agreement");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_spearman);
    tcase_add_test(tc, test_top_jaccard);
    tcase_add_test(tc, test_cosine);
    tcase_add_test(tc, test_reason_codes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(agreement_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
