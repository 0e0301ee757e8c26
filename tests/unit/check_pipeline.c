/*
 * check_pipeline.c - the distillation run: progress reporting, cancellation,
 * allocation failures at every stage, thread-independent reports, setting
 * checks.  The teacher is a committed glassbox-mlp fixture on breast_cancer.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/distill/pipeline.h"
#include "core/model/teachers/load.h"
#include "api/explain_hook.h"

#define FIX "tests/fixtures/"

static gb_table *train_table;
static gb_model *teacher;

static void setup(void)
{
    gb_error err;
    ck_assert_int_eq(gb_csv_read_file(FIX "datasets/breast_cancer_train.csv", NULL,
                                      &train_table, &err),
                     GB_OK);
    ck_assert_int_eq(gb_teacher_load_file(FIX "mlp/binary_relu.json", &teacher, &err),
                     GB_OK);
}

static void teardown(void)
{
    gb_table_free(train_table);
    gb_model_free(teacher);
}

static gb_param tree_params[] = {{"max_depth", "3"}};

static void config_tree(gb_distill_config *c)
{
    gb_distill_config_default(c);
    c->target = "target";
    c->teacher = teacher;
    c->student_type = "tree";
    c->params = tree_params;
    c->n_params = 1;
    c->n_bootstrap = 20;
}

typedef struct progress_log {
    char phases[16][16];
    double fractions[4096];
    size_t n_phases, n_reports;
    const char *cancel_at;
    atomic_int cancel;
} progress_log;

static void log_cb(void *ctx, const char *phase, double fraction)
{
    progress_log *log = ctx;
    if (log->n_phases == 0 || strcmp(log->phases[log->n_phases - 1], phase) != 0) {
        if (log->n_phases < 16)
            snprintf(log->phases[log->n_phases++], 16, "%s", phase);
    }
    if (log->n_reports < 4096)
        log->fractions[log->n_reports++] = fraction;
    if (log->cancel_at != NULL && strcmp(phase, log->cancel_at) == 0)
        atomic_store(&log->cancel, 1);
}

START_TEST(test_progress_phases_in_order)
{
    gb_distill_config c;
    config_tree(&c);
    progress_log log;
    memset(&log, 0, sizeof log);
    gb_progress p = {log_cb, &log, &log.cancel};
    gb_distill_result r;
    gb_error err;
    ck_assert_int_eq(gb_distill_run(&c, train_table, NULL, &p, &r, &err), GB_OK);
    const char *expect[] = {"split",    "teacher",  "student",
                            "baseline", "evaluate", "done"};
    ck_assert_uint_eq(log.n_phases, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(log.phases[i], expect[i]);
    for (size_t i = 1; i < log.n_reports; i++)
        ck_assert(log.fractions[i] >= log.fractions[i - 1]);
    ck_assert(log.fractions[log.n_reports - 1] == 1.0);
    ck_assert_ptr_nonnull(r.report);
    ck_assert_ptr_nonnull(r.student);
    gb_distill_result_free(&r);
}
END_TEST

START_TEST(test_cancel_during_student_fit)
{
    gb_distill_config c;
    config_tree(&c);
    progress_log log;
    memset(&log, 0, sizeof log);
    log.cancel_at = "student";
    gb_progress p = {log_cb, &log, &log.cancel};
    gb_distill_result r;
    gb_error err;
    ck_assert_int_eq(gb_distill_run(&c, train_table, NULL, &p, &r, &err),
                     GB_ECANCELLED);
    ck_assert_ptr_null(r.report);
    ck_assert_ptr_null(r.student);
    ck_assert_ptr_null(r.baseline);
}
END_TEST

START_TEST(test_allocation_failures_are_clean)
{
    gb_distill_config c;
    config_tree(&c);
    /* Count allocations of one run, then fail each of a spread of them. */
    size_t n_ok = 0;
    for (long n = 1; n < 200000; n = n < 64 ? n + 1 : n * 5 / 4) {
        gb_distill_result r;
        gb_error err;
        gb_alloc_fail_after(n);
        gb_status rc = gb_distill_run(&c, train_table, NULL, NULL, &r, &err);
        gb_alloc_fail_after(0);
        if (rc == GB_OK) {
            gb_distill_result_free(&r);
            n_ok++;
            break;
        }
        ck_assert_msg(rc == GB_ENOMEM, "fail_after %ld gave %s: %s", n,
                      gb_status_name(rc), err.message);
        ck_assert_ptr_null(r.report);
    }
    ck_assert_uint_eq(n_ok, 1);
}
END_TEST

static char *report_without_timings(const gb_distill_result *r)
{
    cJSON *copy = cJSON_Duplicate(r->report, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "timings");
    char *text = gb_json_print(copy, 0);
    cJSON_Delete(copy);
    return text;
}

START_TEST(test_threads_do_not_change_the_report)
{
    gb_param lp[] = {{"l2", "0.001"}};
    const char *types[] = {"tree", "logistic"};
    for (int t = 0; t < 2; t++) {
        char *text[2];
        for (unsigned th = 1; th <= 2; th++) {
            gb_distill_config c;
            config_tree(&c);
            c.student_type = types[t];
            if (t == 1) {
                c.params = lp;
                c.n_params = 1;
            }
            c.n_threads = th;
            c.temperature = 2.0;
            c.alpha = 0.25;
            gb_distill_result r;
            gb_error err;
            ck_assert_int_eq(gb_distill_run(&c, train_table, NULL, NULL, &r, &err),
                             GB_OK);
            text[th - 1] = report_without_timings(&r);
            gb_distill_result_free(&r);
        }
        ck_assert_str_eq(text[0], text[1]);
        gb_free(text[0]);
        gb_free(text[1]);
    }
}
END_TEST

START_TEST(test_report_numbers_are_consistent)
{
    gb_distill_config c;
    config_tree(&c);
    gb_distill_result r;
    gb_error err;
    ck_assert_int_eq(gb_distill_run(&c, train_table, NULL, NULL, &r, &err), GB_OK);
    const cJSON *split = cJSON_GetObjectItem(r.report, "split");
    double n_train = cJSON_GetObjectItem(split, "train_rows")->valuedouble;
    double n_test = cJSON_GetObjectItem(split, "test_rows")->valuedouble;
    ck_assert(n_train + n_test == (double)train_table->n_rows);
    /* 25% stratified test rows of 426 */
    ck_assert(fabs(n_test - 0.25 * 426) <= 2);
    const cJSON *fid = cJSON_GetObjectItem(r.report, "fidelity");
    double agreement = cJSON_GetObjectItem(fid, "agreement")->valuedouble;
    ck_assert(agreement > 0.8 && agreement <= 1.0);
    const cJSON *cx = cJSON_GetObjectItem(r.report, "complexity");
    ck_assert(cJSON_GetObjectItem(cx, "depth")->valuedouble <= 3);
    const cJSON *hashes = cJSON_GetObjectItem(r.report, "hashes");
    ck_assert_uint_eq(strlen(cJSON_GetObjectItem(hashes, "config")->valuestring), 64);
    ck_assert_uint_eq(strlen(cJSON_GetObjectItem(hashes, "student")->valuestring), 64);
    gb_distill_result_free(&r);
}
END_TEST

START_TEST(test_bad_settings_name_the_field)
{
    struct {
        double temperature, alpha, test_fraction, cutoff;
        const char *field;
    } cases[] = {
        {0.0, 0.0, 0.25, 0.5, "temperature"},  {-1.0, 0.0, 0.25, 0.5, "temperature"},
        {NAN, 0.0, 0.25, 0.5, "temperature"},  {1.0, 1.5, 0.25, 0.5, "alpha"},
        {1.0, -0.5, 0.25, 0.5, "alpha"},       {1.0, 0.0, 1.0, 0.5, "test_fraction"},
        {1.0, 0.0, 0.0, 0.5, "test_fraction"}, {1.0, 0.0, 0.25, 2.0, "cutoff"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gb_distill_config c;
        config_tree(&c);
        c.temperature = cases[i].temperature;
        c.alpha = cases[i].alpha;
        c.test_fraction = cases[i].test_fraction;
        c.cutoff = cases[i].cutoff;
        gb_error err;
        gb_distill_result r;
        ck_assert_int_eq(gb_distill_run(&c, train_table, NULL, NULL, &r, &err),
                         GB_EUNUSABLE);
        ck_assert_str_eq(err.field, cases[i].field);
    }
    gb_distill_config c;
    config_tree(&c);
    c.teacher = NULL;
    gb_error err;
    gb_distill_result r;
    ck_assert_int_eq(gb_distill_run(&c, train_table, NULL, NULL, &r, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "teacher");
    config_tree(&c);
    c.target = "no_such_column";
    ck_assert_int_eq(gb_distill_run(&c, train_table, NULL, NULL, &r, &err),
                     GB_EUNUSABLE);
}
END_TEST

/* The report of gb_distill_run_releasing on a fresh copy of the table, which
 * it may compact; *n_rows_after receives the copy's rows afterwards. */
static char *releasing_report(gb_distill_config *c, const char *test_path,
                              size_t *n_rows_after)
{
    gb_error err;
    gb_table *copy = NULL, *test = NULL;
    ck_assert_int_eq(
        gb_csv_read_file(FIX "datasets/breast_cancer_train.csv", NULL, &copy, &err),
        GB_OK);
    if (test_path != NULL)
        ck_assert_int_eq(gb_csv_read_file(test_path, NULL, &test, &err), GB_OK);
    gb_distill_result r;
    ck_assert_int_eq(gb_distill_run_releasing(c, copy, test, NULL, &r, &err), GB_OK);
    char *text = report_without_timings(&r);
    *n_rows_after = copy->n_rows;
    gb_distill_result_free(&r);
    gb_table_free(copy);
    gb_table_free(test);
    return text;
}

START_TEST(test_releasing_run_gives_the_same_report)
{
    gb_param lp[] = {{"l2", "0.001"}};
    const char *types[] = {"tree", "logistic"};
    ex_params explain;
    ex_params_default(&explain);
    gb_table *test = NULL;
    gb_error err;
    ck_assert_int_eq(
        gb_csv_read_file(FIX "datasets/breast_cancer_test.csv", NULL, &test, &err),
        GB_OK);
    for (int t = 0; t < 2; t++)
        for (int with_test = 0; with_test < 2; with_test++) {
            gb_distill_config c;
            config_tree(&c);
            c.student_type = types[t];
            if (t == 1) {
                c.params = lp;
                c.n_params = 1;
            }
            c.explain_cb = api_explain_cb;
            c.explain_ctx = &explain;
            gb_distill_result r;
            ck_assert_int_eq(gb_distill_run(&c, train_table, with_test ? test : NULL,
                                            NULL, &r, &err),
                             GB_OK);
            char *expected = report_without_timings(&r);
            /* the explanations name rows of the dataset */
            ck_assert_ptr_nonnull(strstr(expected, "\"row\":"));
            size_t n_test = (size_t)cJSON_GetObjectItem(
                                cJSON_GetObjectItem(r.report, "split"), "test_rows")
                                ->valuedouble;
            gb_distill_result_free(&r);
            size_t n_after = 0;
            char *got = releasing_report(
                &c, with_test ? FIX "datasets/breast_cancer_test.csv" : NULL, &n_after);
            ck_assert_msg(strcmp(got, expected) == 0, "%s %s: reports differ", types[t],
                          with_test ? "test file" : "split");
            /* a split keeps the test rows only; a test file, no row */
            ck_assert_uint_eq(n_after, with_test ? 0 : n_test);
            gb_free(expected);
            gb_free(got);
        }
    gb_table_free(test);
}
END_TEST

START_TEST(test_releasing_run_keeps_rows_for_a_search)
{
    gb_distill_config c;
    config_tree(&c);
    c.search_temperatures[0] = 1.0;
    c.search_temperatures[1] = 2.0;
    c.n_search_temperatures = 2;
    gb_distill_result r;
    gb_error err;
    ck_assert_int_eq(gb_distill_run(&c, train_table, NULL, NULL, &r, &err), GB_OK);
    char *expected = report_without_timings(&r);
    gb_distill_result_free(&r);
    size_t n_after = 0;
    char *got = releasing_report(&c, NULL, &n_after);
    ck_assert_msg(strcmp(got, expected) == 0, "reports differ");
    ck_assert_uint_eq(n_after, train_table->n_rows);
    gb_free(expected);
    gb_free(got);
}
END_TEST

START_TEST(test_releasing_run_allocation_failures_are_clean)
{
    gb_distill_config c;
    config_tree(&c);
    size_t n_ok = 0;
    for (long n = 1; n < 200000; n = n < 64 ? n + 1 : n * 5 / 4) {
        gb_table *copy = NULL;
        gb_distill_result r;
        gb_error err;
        ck_assert_int_eq(
            gb_csv_read_file(FIX "datasets/breast_cancer_train.csv", NULL, &copy, &err),
            GB_OK);
        gb_alloc_fail_after(n);
        gb_status rc = gb_distill_run_releasing(&c, copy, NULL, NULL, &r, &err);
        gb_alloc_fail_after(0);
        gb_table_free(copy);
        if (rc == GB_OK) {
            gb_distill_result_free(&r);
            n_ok++;
            break;
        }
        ck_assert_msg(rc == GB_ENOMEM, "fail_after %ld gave %s: %s", n,
                      gb_status_name(rc), err.message);
        ck_assert_ptr_null(r.report);
    }
    ck_assert_uint_eq(n_ok, 1);
}
END_TEST

static Suite *pipeline_suite(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("run");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_progress_phases_in_order);
    tcase_add_test(tc, test_cancel_during_student_fit);
    tcase_add_test(tc, test_allocation_failures_are_clean);
    tcase_add_test(tc, test_threads_do_not_change_the_report);
    tcase_add_test(tc, test_report_numbers_are_consistent);
    tcase_add_test(tc, test_bad_settings_name_the_field);
    tcase_add_test(tc, test_releasing_run_gives_the_same_report);
    tcase_add_test(tc, test_releasing_run_keeps_rows_for_a_search);
    tcase_add_test(tc, test_releasing_run_allocation_failures_are_clean);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pipeline_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
