/*
 * check_munge.c - MUNGE augmentation: row counts, nearest neighbours,
 * perturbation rules, missing values, determinism across threads, checks.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/distill/munge.h"

/* Rows: x = 0, 1, 10, 11 and 100; categorical c = a, a, b, b, a. */
static gb_table *make_table(void)
{
    gb_error err;
    gb_table *t = gb_table_create(5, &err);
    double x[] = {0.0, 1.0, 10.0, 11.0, 100.0};
    double y[] = {0, 1, 0, 1, 0};
    const char *c[] = {"a", "a", "b", "b", "a"};
    ck_assert_int_eq(gb_table_add_numeric(t, "x", x, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_categorical(t, "c", c, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_numeric(t, "target", y, &err), GB_OK);
    return t;
}

static const size_t all_rows[] = {0, 1, 2, 3, 4};

START_TEST(test_shape_and_excluded_columns)
{
    gb_table *t = make_table();
    unsigned char exclude[] = {0, 0, 1};
    gb_munge_params p = {3, 0.5, 10.0, 1, 1};
    gb_table *aug = NULL;
    gb_error err;
    ck_assert_int_eq(gb_munge_table(t, exclude, all_rows, 5, &p, NULL, &aug, &err),
                     GB_OK);
    ck_assert_uint_eq(aug->n_rows, 15);
    ck_assert_uint_eq(aug->n_cols, 2);
    ck_assert_str_eq(aug->cols[0].name, "x");
    ck_assert_str_eq(aug->cols[1].name, "c");
    gb_table_free(aug);
    gb_table_free(t);
}
END_TEST

/* p = 1: every attribute is taken from the neighbour's side.  Row 0's
 * neighbour is row 1 (x 1, c a): the new x is N(1, |0-1|/s) and c = a; row 2
 * (x 10, c b) has neighbour row 3, so its new c is b. */
START_TEST(test_p_one_draws_around_the_neighbour)
{
    gb_table *t = make_table();
    unsigned char exclude[] = {0, 0, 1};
    gb_munge_params p = {1, 1.0, 1000.0, 3, 1};
    gb_table *aug = NULL;
    gb_error err;
    ck_assert_int_eq(gb_munge_table(t, exclude, all_rows, 5, &p, NULL, &aug, &err),
                     GB_OK);
    const double *x = aug->cols[0].values;
    ck_assert(fabs(x[0] - 1.0) < 0.01);  /* neighbour of 0 is 1 */
    ck_assert(fabs(x[1] - 0.0) < 0.01);  /* neighbour of 1 is 0 */
    ck_assert(fabs(x[2] - 11.0) < 0.01); /* neighbour of 10 is 11 */
    ck_assert(fabs(x[4] - 11.0) < 0.2);  /* neighbour of 100 is 11 */
    const gb_column *c = &aug->cols[1];
    ck_assert_str_eq(c->levels[c->codes[2]], "b");
    ck_assert_str_eq(c->levels[c->codes[0]], "a");
    gb_table_free(aug);
    gb_table_free(t);
}
END_TEST

/* p = 0 copies the rows. */
START_TEST(test_p_zero_copies)
{
    gb_table *t = make_table();
    gb_munge_params p = {2, 0.0, 10.0, 3, 1};
    gb_table *aug = NULL;
    gb_error err;
    ck_assert_int_eq(gb_munge_table(t, NULL, all_rows, 5, &p, NULL, &aug, &err), GB_OK);
    for (size_t i = 0; i < 10; i++)
        ck_assert(aug->cols[0].values[i] == t->cols[0].values[i % 5]);
    gb_table_free(aug);
    gb_table_free(t);
}
END_TEST

START_TEST(test_missing_stays_missing)
{
    gb_error err;
    gb_table *t = gb_table_create(4, &err);
    double x[] = {NAN, 1.0, 2.0, NAN};
    ck_assert_int_eq(gb_table_add_numeric(t, "x", x, &err), GB_OK);
    gb_munge_params p = {1, 1.0, 10.0, 3, 1};
    gb_table *aug = NULL;
    size_t rows[] = {0, 1, 2, 3};
    ck_assert_int_eq(gb_munge_table(t, NULL, rows, 4, &p, NULL, &aug, &err), GB_OK);
    ck_assert(isnan(aug->cols[0].values[0]));
    ck_assert(isnan(aug->cols[0].values[3]));
    ck_assert(!isnan(aug->cols[0].values[1]));
    gb_table_free(aug);
    gb_table_free(t);
}
END_TEST

START_TEST(test_threads_do_not_change_rows)
{
    /* 3000 rows so that several neighbour blocks run in parallel. */
    gb_error err;
    size_t n = 3000;
    double *x = malloc(n * sizeof *x), *z = malloc(n * sizeof *z);
    size_t *rows = malloc(n * sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        x[i] = sin((double)i) * 10.0;
        z[i] = cos((double)i * 0.37);
        rows[i] = i;
    }
    gb_table *t = gb_table_create(n, &err);
    gb_table_add_numeric(t, "x", x, &err);
    gb_table_add_numeric(t, "z", z, &err);
    gb_table *a = NULL, *b = NULL;
    gb_munge_params p1 = {2, 0.5, 10.0, 9, 1}, p2 = {2, 0.5, 10.0, 9, 2};
    ck_assert_int_eq(gb_munge_table(t, NULL, rows, n, &p1, NULL, &a, &err), GB_OK);
    ck_assert_int_eq(gb_munge_table(t, NULL, rows, n, &p2, NULL, &b, &err), GB_OK);
    for (size_t c = 0; c < 2; c++)
        ck_assert(
            memcmp(a->cols[c].values, b->cols[c].values, 2 * n * sizeof(double)) == 0);
    gb_table_free(a);
    gb_table_free(b);
    gb_table_free(t);
    free(x);
    free(z);
    free(rows);
}
END_TEST

START_TEST(test_bad_parameters_name_the_field)
{
    gb_table *t = make_table();
    gb_table *aug = NULL;
    gb_error err;
    gb_munge_params bad[] = {{0, 0.5, 10, 0, 1},
                             {101, 0.5, 10, 0, 1},
                             {1, 1.5, 10, 0, 1},
                             {1, 0.5, 0, 0, 1}};
    const char *fields[] = {"augment.multiplier", "augment.multiplier", "augment.p",
                            "augment.s"};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(
            gb_munge_table(t, NULL, all_rows, 5, &bad[i], NULL, &aug, &err),
            GB_EUNUSABLE);
        ck_assert_str_eq(err.field, fields[i]);
        ck_assert_ptr_null(aug);
    }
    gb_munge_params ok = {1, 0.5, 10, 0, 1};
    ck_assert_int_eq(gb_munge_table(t, NULL, all_rows, 1, &ok, NULL, &aug, &err),
                     GB_EUNUSABLE);
    gb_table_free(t);
}
END_TEST

START_TEST(test_allocation_failures)
{
    gb_table *t = make_table();
    gb_munge_params p = {2, 0.5, 10.0, 1, 1};
    for (long n = 1; n < 200; n++) {
        gb_table *aug = NULL;
        gb_error err;
        gb_alloc_fail_after(n);
        gb_status rc = gb_munge_table(t, NULL, all_rows, 5, &p, NULL, &aug, &err);
        gb_alloc_fail_after(0);
        if (rc == GB_OK) {
            gb_table_free(aug);
            break;
        }
        ck_assert_int_eq(rc, GB_ENOMEM);
        ck_assert_ptr_null(aug);
    }
    gb_table_free(t);
}
END_TEST

static Suite *munge_suite(void)
{
    Suite *s = suite_create("munge");
    TCase *tc = tcase_create("augment");
    tcase_add_test(tc, test_shape_and_excluded_columns);
    tcase_add_test(tc, test_p_one_draws_around_the_neighbour);
    tcase_add_test(tc, test_p_zero_copies);
    tcase_add_test(tc, test_missing_stays_missing);
    tcase_add_test(tc, test_threads_do_not_change_rows);
    tcase_add_test(tc, test_bad_parameters_name_the_field);
    tcase_add_test(tc, test_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(munge_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
