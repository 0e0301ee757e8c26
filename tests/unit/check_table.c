/*
 * check_table.c - tables built in memory: columns, level order, target
 * resolution and task inference (one test per error), summary statistics,
 * allocation failures.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/table.h"

static gb_table *table_new(size_t n_rows)
{
    gb_error err;
    gb_table *t = gb_table_create(n_rows, &err);
    ck_assert_ptr_nonnull(t);
    return t;
}

static void add_num(gb_table *t, const char *name, const double *v)
{
    gb_error err;
    ck_assert_int_eq(gb_table_add_numeric(t, name, v, &err), GB_OK);
}

static void add_cat(gb_table *t, const char *name, const char *const *labels)
{
    gb_error err;
    ck_assert_int_eq(gb_table_add_categorical(t, name, labels, &err), GB_OK);
}

START_TEST(test_task_names)
{
    gb_error err;
    gb_task task = GB_TASK_AUTO;
    ck_assert_str_eq(gb_task_name(GB_TASK_BINARY), "binary");
    ck_assert_str_eq(gb_task_name(GB_TASK_MULTICLASS), "multiclass");
    ck_assert_str_eq(gb_task_name(GB_TASK_REGRESSION), "regression");
    ck_assert_str_eq(gb_task_name(GB_TASK_AUTO), "auto");
    ck_assert_int_eq(gb_task_parse("multiclass", &task, &err), GB_OK);
    ck_assert_int_eq(task, GB_TASK_MULTICLASS);
    ck_assert_int_eq(gb_task_parse("Binary", &task, &err), GB_EINPUT);
    ck_assert_ptr_nonnull(strstr(err.message, "Binary"));
    ck_assert_str_eq(err.field, "task");
}
END_TEST

START_TEST(test_columns_and_find)
{
    double x[3] = {1.5, NAN, -2};
    const char *c[3] = {"b", NULL, "a"};
    gb_table *t = table_new(3);
    add_num(t, "x", x);
    add_cat(t, "c", c);
    ck_assert_uint_eq(t->n_cols, 2);
    ck_assert_int_eq(gb_table_find(t, "x"), 0);
    ck_assert_int_eq(gb_table_find(t, "c"), 1);
    ck_assert_int_eq(gb_table_find(t, "y"), -1);
    ck_assert_uint_eq(t->cols[0].n_missing, 1);
    ck_assert(isnan(t->cols[0].values[1]));
    ck_assert(t->cols[0].values[2] == -2.0);
    ck_assert_uint_eq(t->cols[1].n_missing, 1);
    ck_assert_uint_eq(t->cols[1].n_levels, 2);
    ck_assert_str_eq(t->cols[1].levels[0], "a");
    ck_assert_int_eq(t->cols[1].codes[0], 1);
    ck_assert_int_eq(t->cols[1].codes[1], -1);
    ck_assert_int_eq(t->cols[1].codes[2], 0);
    gb_table_free(t);
    gb_table_free(NULL);
}
END_TEST

START_TEST(test_duplicate_and_empty_column_names)
{
    gb_error err;
    double x[2] = {1, 2};
    gb_table *t = table_new(2);
    add_num(t, "x", x);
    ck_assert_int_eq(gb_table_add_numeric(t, "x", x, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "x");
    ck_assert_ptr_nonnull(strstr(err.message, "duplicate"));
    ck_assert_int_eq(gb_table_add_numeric(t, "", x, &err), GB_EUNUSABLE);
    ck_assert_uint_eq(t->n_cols, 1);
    gb_table_free(t);
}
END_TEST

START_TEST(test_level_order_text_is_bytewise)
{
    const char *c[5] = {"b", "a", "B", "a", "ä"};
    gb_table *t = table_new(5);
    add_cat(t, "c", c);
    const gb_column *col = &t->cols[0];
    ck_assert_uint_eq(col->n_levels, 4);
    ck_assert_str_eq(col->levels[0], "B");
    ck_assert_str_eq(col->levels[1], "a");
    ck_assert_str_eq(col->levels[2], "b");
    ck_assert_str_eq(col->levels[3], "ä");
    int32_t expect[5] = {2, 1, 0, 1, 3};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(col->codes[i], expect[i]);
    gb_table_free(t);
}
END_TEST

START_TEST(test_level_order_numeric_when_all_numbers)
{
    /* "10" < "9" by bytes, but all levels are numbers: numeric order, and the
     * two spellings of 2.5 tie-break by bytes. */
    const char *c[5] = {"10", "9", "2.5", "-1e3", "2.50"};
    gb_table *t = table_new(5);
    add_cat(t, "c", c);
    const gb_column *col = &t->cols[0];
    const char *order[5] = {"-1e3", "2.5", "2.50", "9", "10"};
    for (int k = 0; k < 5; k++)
        ck_assert_str_eq(col->levels[k], order[k]);
    ck_assert_int_eq(col->codes[0], 4);
    ck_assert_int_eq(col->codes[3], 0);
    gb_table_free(t);
}
END_TEST

START_TEST(test_too_many_levels_in_memory)
{
    gb_error err;
    size_t n = GB_MAX_LEVELS + 1;
    char **labels = calloc(n, sizeof *labels);
    for (size_t i = 0; i < n; i++) {
        labels[i] = malloc(16);
        snprintf(labels[i], 16, "L%zu", i);
    }
    gb_table *t = table_new(n);
    ck_assert_int_eq(
        gb_table_add_categorical(t, "c", (const char *const *)labels, &err),
        GB_ETOOLARGE);
    ck_assert_str_eq(err.field, "c");
    ck_assert_uint_eq(t->n_cols, 0);
    gb_table_free(t);
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
}
END_TEST

START_TEST(test_target_categorical_binary)
{
    gb_error err;
    gb_target tg;
    const char *y[4] = {"yes", "no", "no", "yes"};
    gb_table *t = table_new(4);
    add_cat(t, "y", y);
    ck_assert_int_eq(gb_target_resolve(t, "y", GB_TASK_AUTO, &tg, &err), GB_OK);
    ck_assert_int_eq(tg.task, GB_TASK_BINARY);
    ck_assert_uint_eq(tg.n_classes, 2);
    ck_assert_str_eq(tg.classes[0], "no");
    ck_assert_str_eq(tg.classes[1], "yes");
    ck_assert_int_eq(tg.y_class[0], 1);
    ck_assert_int_eq(tg.y_class[1], 0);
    ck_assert_ptr_null(tg.y_value);
    gb_target_free(&tg);
    ck_assert_ptr_null(tg.classes);
    gb_table_free(t);
}
END_TEST

START_TEST(test_target_numeric_inference)
{
    gb_error err;
    gb_target tg;
    double bin[4] = {1, 0, 0, 1};
    double multi[5] = {3, 1, 2, 10, 1};
    double reg[4] = {0.5, 1, 2, 3};
    double twenty_one[21];
    for (int i = 0; i < 21; i++)
        twenty_one[i] = i;
    double twenty[20];
    for (int i = 0; i < 20; i++)
        twenty[i] = 2 * i;
    gb_table *t = table_new(4);
    add_num(t, "bin", bin);
    add_num(t, "reg", reg);
    ck_assert_int_eq(gb_target_resolve(t, "bin", GB_TASK_AUTO, &tg, &err), GB_OK);
    ck_assert_int_eq(tg.task, GB_TASK_BINARY);
    ck_assert_str_eq(tg.classes[0], "0");
    ck_assert_str_eq(tg.classes[1], "1");
    ck_assert_int_eq(tg.y_class[0], 1);
    ck_assert_int_eq(tg.col, 0);
    gb_target_free(&tg);
    ck_assert_int_eq(gb_target_resolve(t, "reg", GB_TASK_AUTO, &tg, &err), GB_OK);
    ck_assert_int_eq(tg.task, GB_TASK_REGRESSION);
    ck_assert_uint_eq(tg.n_classes, 0);
    ck_assert(tg.y_value[0] == 0.5 && tg.y_value[3] == 3.0);
    gb_target_free(&tg);
    /* Explicit task overrides inference. */
    ck_assert_int_eq(gb_target_resolve(t, "bin", GB_TASK_REGRESSION, &tg, &err), GB_OK);
    ck_assert_int_eq(tg.task, GB_TASK_REGRESSION);
    gb_target_free(&tg);
    ck_assert_int_eq(gb_target_resolve(t, "reg", GB_TASK_MULTICLASS, &tg, &err), GB_OK);
    ck_assert_uint_eq(tg.n_classes, 4);
    ck_assert_str_eq(tg.classes[0], "0.5");
    gb_target_free(&tg);
    gb_table_free(t);

    t = table_new(5);
    add_num(t, "m", multi);
    ck_assert_int_eq(gb_target_resolve(t, "m", GB_TASK_AUTO, &tg, &err), GB_OK);
    ck_assert_int_eq(tg.task, GB_TASK_MULTICLASS);
    ck_assert_uint_eq(tg.n_classes, 4);
    ck_assert_str_eq(tg.classes[3], "10");
    int32_t expect[5] = {2, 0, 1, 3, 0};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tg.y_class[i], expect[i]);
    gb_target_free(&tg);
    gb_table_free(t);

    t = table_new(21);
    add_num(t, "y", twenty_one);
    ck_assert_int_eq(gb_target_resolve(t, "y", GB_TASK_AUTO, &tg, &err), GB_OK);
    ck_assert_int_eq(tg.task, GB_TASK_REGRESSION);
    gb_target_free(&tg);
    gb_table_free(t);

    t = table_new(20);
    add_num(t, "y", twenty);
    ck_assert_int_eq(gb_target_resolve(t, "y", GB_TASK_AUTO, &tg, &err), GB_OK);
    ck_assert_int_eq(tg.task, GB_TASK_MULTICLASS);
    ck_assert_uint_eq(tg.n_classes, 20);
    ck_assert_str_eq(tg.classes[19], "38");
    gb_target_free(&tg);
    gb_table_free(t);
}
END_TEST

START_TEST(test_target_error_no_such_column)
{
    gb_error err;
    gb_target tg;
    double x[2] = {0, 1};
    gb_table *t = table_new(2);
    add_num(t, "x", x);
    ck_assert_int_eq(gb_target_resolve(t, "label", GB_TASK_AUTO, &tg, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "label");
    ck_assert_ptr_nonnull(strstr(err.message, "'label'"));
    ck_assert_ptr_null(tg.classes);
    gb_table_free(t);
}
END_TEST

START_TEST(test_target_error_missing_values)
{
    gb_error err;
    gb_target tg;
    double x[4] = {0, 1, NAN, NAN};
    const char *c[4] = {"a", "b", "a", NULL};
    gb_table *t = table_new(4);
    add_num(t, "x", x);
    add_cat(t, "c", c);
    ck_assert_int_eq(gb_target_resolve(t, "x", GB_TASK_AUTO, &tg, &err), GB_EUNUSABLE);
    ck_assert_int_eq(err.line, 4); /* data row 3 is line 4 after the header */
    ck_assert_int_eq(err.column, 1);
    ck_assert_str_eq(err.field, "x");
    ck_assert_ptr_nonnull(strstr(err.message, "2 missing"));
    ck_assert_int_eq(gb_target_resolve(t, "c", GB_TASK_AUTO, &tg, &err), GB_EUNUSABLE);
    ck_assert_int_eq(err.line, 5);
    ck_assert_int_eq(err.column, 2);
    gb_table_free(t);
}
END_TEST

START_TEST(test_target_error_single_class)
{
    gb_error err;
    gb_target tg;
    double x[3] = {1, 1, 1};
    const char *c[3] = {"a", "a", "a"};
    gb_table *t = table_new(3);
    add_num(t, "x", x);
    add_cat(t, "c", c);
    ck_assert_int_eq(gb_target_resolve(t, "x", GB_TASK_AUTO, &tg, &err), GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "single distinct value"));
    ck_assert_int_eq(gb_target_resolve(t, "c", GB_TASK_AUTO, &tg, &err), GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "fewer than 2 classes"));
    ck_assert_str_eq(err.field, "c");
    gb_table_free(t);
}
END_TEST

START_TEST(test_target_error_binary_needs_two)
{
    gb_error err;
    gb_target tg;
    double x[3] = {1, 2, 3};
    const char *c[3] = {"a", "b", "c"};
    gb_table *t = table_new(3);
    add_num(t, "x", x);
    add_cat(t, "c", c);
    ck_assert_int_eq(gb_target_resolve(t, "x", GB_TASK_BINARY, &tg, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "binary needs exactly 2"));
    ck_assert_int_eq(gb_target_resolve(t, "c", GB_TASK_BINARY, &tg, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "3 classes"));
    /* Three categorical levels are multiclass when inferred. */
    ck_assert_int_eq(gb_target_resolve(t, "c", GB_TASK_AUTO, &tg, &err), GB_OK);
    ck_assert_int_eq(tg.task, GB_TASK_MULTICLASS);
    gb_target_free(&tg);
    gb_table_free(t);
}
END_TEST

START_TEST(test_target_error_too_many_classes)
{
    gb_error err;
    gb_target tg;
    size_t n = GB_MAX_CLASSES + 1;
    double *x = malloc(n * sizeof *x);
    char **labels = calloc(n, sizeof *labels);
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)i;
        labels[i] = malloc(16);
        snprintf(labels[i], 16, "k%03zu", i);
    }
    gb_table *t = table_new(n);
    add_num(t, "x", x);
    add_cat(t, "c", (const char *const *)labels);
    ck_assert_int_eq(gb_target_resolve(t, "x", GB_TASK_MULTICLASS, &tg, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "101 distinct values"));
    ck_assert_int_eq(gb_target_resolve(t, "c", GB_TASK_AUTO, &tg, &err), GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "101 classes"));
    /* A numeric column with 101 integers is regression when inferred. */
    ck_assert_int_eq(gb_target_resolve(t, "x", GB_TASK_AUTO, &tg, &err), GB_OK);
    ck_assert_int_eq(tg.task, GB_TASK_REGRESSION);
    gb_target_free(&tg);
    gb_table_free(t);
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    free(x);
}
END_TEST

START_TEST(test_target_error_categorical_regression)
{
    gb_error err;
    gb_target tg;
    const char *c[2] = {"a", "b"};
    gb_table *t = table_new(2);
    add_cat(t, "c", c);
    ck_assert_int_eq(gb_target_resolve(t, "c", GB_TASK_REGRESSION, &tg, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "categorical"));
    ck_assert_str_eq(err.field, "c");
    gb_table_free(t);
}
END_TEST

START_TEST(test_column_stats)
{
    double x[6] = {1, 2, NAN, 4, 3, 2};
    const char *c[6] = {"a", "b", NULL, "a", "a", "c"};
    double none[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    gb_table *t = table_new(6);
    add_num(t, "x", x);
    add_cat(t, "c", c);
    add_num(t, "none", none);
    gb_column_stats s;
    gb_column_stats_compute(&t->cols[0], 6, &s);
    /* Values 1,2,4,3,2: mean 2.4, sample variance (1.96+.16+2.56+.36+.16)/4 = 1.3. */
    ck_assert_double_eq(s.min, 1.0);
    ck_assert_double_eq(s.max, 4.0);
    ck_assert_double_eq_tol(s.mean, 2.4, 1e-15);
    ck_assert_double_eq_tol(s.sd, sqrt(1.3), 1e-15);
    ck_assert_uint_eq(s.n_distinct_capped, 4);
    gb_column_stats_compute(&t->cols[1], 6, &s);
    ck_assert(isnan(s.mean));
    ck_assert_uint_eq(s.n_distinct_capped, 3);
    gb_column_stats_compute(&t->cols[2], 6, &s);
    ck_assert(isnan(s.min) && isnan(s.sd));
    ck_assert_uint_eq(s.n_distinct_capped, 0);
    gb_table_free(t);
}
END_TEST

START_TEST(test_column_stats_distinct_cap)
{
    size_t n = 5000;
    double *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (double)(i % 1500) * 0.25;
    gb_table *t = table_new(n);
    add_num(t, "x", x);
    gb_column_stats s;
    gb_column_stats_compute(&t->cols[0], n, &s);
    ck_assert_uint_eq(s.n_distinct_capped, GB_MAX_LEVELS + 1);
    gb_column_stats_compute(&t->cols[0], 999, &s);
    ck_assert_uint_eq(s.n_distinct_capped, 999);
    gb_table_free(t);
    free(x);
}
END_TEST

/* Every allocation of building and resolving fails in turn: no leak (ASan),
 * a clean GB_ENOMEM, and the table unchanged. */
START_TEST(test_allocation_failures)
{
    const char *c[5] = {"b", "a", "c", "a", "b"};
    double x[5] = {1, 0, 1, 1, 0};
    int succeeded = 0;
    for (long k = 1; k < 100 && !succeeded; k++) {
        gb_error err;
        gb_target tg;
        gb_table *t = gb_table_create(5, &err);
        if (t == NULL)
            continue;
        gb_alloc_fail_after(k);
        gb_status a = gb_table_add_categorical(t, "c", c, &err);
        gb_status b = gb_table_add_numeric(t, "x", x, &err);
        gb_status r1 = gb_target_resolve(t, "c", GB_TASK_AUTO, &tg, &err);
        if (r1 == GB_OK)
            gb_target_free(&tg);
        gb_status r2 = gb_target_resolve(t, "x", GB_TASK_AUTO, &tg, &err);
        if (r2 == GB_OK)
            gb_target_free(&tg);
        gb_alloc_fail_after(0);
        ck_assert(a == GB_OK || a == GB_ENOMEM);
        ck_assert(b == GB_OK || b == GB_ENOMEM);
        if (a == GB_OK && b == GB_OK && r1 == GB_OK && r2 == GB_OK)
            succeeded = 1;
        else
            ck_assert(r2 == GB_ENOMEM || r2 == GB_EUNUSABLE);
        gb_table_free(t);
    }
    ck_assert(succeeded);
}
END_TEST

/* gb_table_keep_rows: visit log and a 10-row table. */
typedef struct visit_log {
    size_t lo[16], hi[16], n;
    double first_x[16]; /* x at lo, read during the visit */
} visit_log;

static void visit_cb(void *ctx, const gb_table *table, size_t lo, size_t hi)
{
    visit_log *log = ctx;
    ck_assert_uint_lt(log->n, 16);
    ck_assert_uint_ge(table->n_rows, hi); /* the block is still there */
    log->lo[log->n] = lo;
    log->hi[log->n] = hi;
    log->first_x[log->n] = table->cols[0].values[lo];
    log->n++;
}

static gb_table *ten_rows(void)
{
    double x[10] = {0, 1, NAN, 3, 4, 5, NAN, 7, 8, 9};
    const char *g[10] = {"a", "b", NULL, "a", "c", NULL, "b", "c", "a", NULL};
    gb_table *t = table_new(10);
    add_num(t, "x", x);
    add_cat(t, "g", g);
    return t;
}

START_TEST(test_keep_rows_compacts_and_visits_from_the_end)
{
    for (size_t block = 1; block <= 12; block++) {
        gb_table *t = ten_rows();
        size_t keep[] = {1, 2, 5, 9};
        visit_log log;
        memset(&log, 0, sizeof log);
        gb_error err;
        ck_assert_int_eq(gb_table_keep_rows(t, keep, 4, block, visit_cb, &log, &err),
                         GB_OK);
        /* the blocks tile [0, 10) from the end */
        size_t hi = 10;
        for (size_t b = 0; b < log.n; b++) {
            ck_assert_uint_eq(log.hi[b], hi);
            ck_assert_uint_eq(log.lo[b], hi > block ? hi - block : 0);
            ck_assert(log.first_x[b] == (double)log.lo[b] ||
                      isnan(log.first_x[b])); /* rows 2 and 6 are missing */
            hi = log.lo[b];
        }
        ck_assert_uint_eq(hi, 0);
        ck_assert_uint_eq(t->n_rows, 4);
        ck_assert_str_eq(t->cols[0].name, "x");
        ck_assert(t->cols[0].values[0] == 1.0 && isnan(t->cols[0].values[1]) &&
                  t->cols[0].values[2] == 5.0 && t->cols[0].values[3] == 9.0);
        ck_assert_uint_eq(t->cols[0].n_missing, 1);
        /* levels a b c kept; rows 1 2 5 9 are b, missing, missing, missing */
        ck_assert_uint_eq(t->cols[1].n_levels, 3);
        ck_assert_str_eq(t->cols[1].levels[1], "b");
        ck_assert_int_eq(t->cols[1].codes[0], 1);
        ck_assert_int_eq(t->cols[1].codes[1], -1);
        ck_assert_int_eq(t->cols[1].codes[3], -1);
        ck_assert_uint_eq(t->cols[1].n_missing, 3);
        gb_table_free(t);
    }
}
END_TEST

START_TEST(test_keep_rows_none_and_allocation_failure)
{
    gb_table *t = ten_rows();
    gb_error err;
    ck_assert_int_eq(gb_table_keep_rows(t, NULL, 0, 4, NULL, NULL, &err), GB_OK);
    ck_assert_uint_eq(t->n_rows, 0);
    ck_assert_uint_eq(t->cols[0].n_missing, 0);
    ck_assert_uint_eq(t->cols[1].n_levels, 3);
    gb_table_free(t);
    /* Out of memory for the kept rows: the table is untouched, no visit. */
    for (long n = 1; n <= 3; n++) {
        t = ten_rows();
        size_t keep[] = {0, 9};
        visit_log log;
        memset(&log, 0, sizeof log);
        gb_alloc_fail_after(n);
        gb_status rc = gb_table_keep_rows(t, keep, 2, 4, visit_cb, &log, &err);
        gb_alloc_fail_after(0);
        ck_assert_int_eq(rc, GB_ENOMEM);
        ck_assert_uint_eq(log.n, 0);
        ck_assert_uint_eq(t->n_rows, 10);
        ck_assert(t->cols[0].values[9] == 9.0);
        ck_assert_int_eq(t->cols[1].codes[4], 2);
        gb_table_free(t);
    }
}
END_TEST

static Suite *table_suite(void)
{
    Suite *s = suite_create("table");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_task_names);
    tcase_add_test(tc, test_columns_and_find);
    tcase_add_test(tc, test_duplicate_and_empty_column_names);
    tcase_add_test(tc, test_level_order_text_is_bytewise);
    tcase_add_test(tc, test_level_order_numeric_when_all_numbers);
    tcase_add_test(tc, test_too_many_levels_in_memory);
    tcase_add_test(tc, test_target_categorical_binary);
    tcase_add_test(tc, test_target_numeric_inference);
    tcase_add_test(tc, test_target_error_no_such_column);
    tcase_add_test(tc, test_target_error_missing_values);
    tcase_add_test(tc, test_target_error_single_class);
    tcase_add_test(tc, test_target_error_binary_needs_two);
    tcase_add_test(tc, test_target_error_too_many_classes);
    tcase_add_test(tc, test_target_error_categorical_regression);
    tcase_add_test(tc, test_column_stats);
    tcase_add_test(tc, test_column_stats_distinct_cap);
    tcase_add_test(tc, test_allocation_failures);
    tcase_add_test(tc, test_keep_rows_compacts_and_visits_from_the_end);
    tcase_add_test(tc, test_keep_rows_none_and_allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(table_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
