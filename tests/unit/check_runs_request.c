/*
 * check_runs_request.c - the body of POST /api/v1/runs: defaults, the
 * normalised form (and that it parses back to the same settings), student
 * parameters as text, and one case per error, each naming its field.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/run_config.h"

static gb_status parse(const char *text, api_run_config *c, gb_error *err)
{
    cJSON *body = gb_json_parse(text, strlen(text), NULL);
    ck_assert_ptr_nonnull(body);
    gb_error_clear(err);
    gb_status rc = api_run_config_parse(body, GB_TASK_AUTO, c, err);
    cJSON_Delete(body);
    return rc;
}

static const char *param(const api_run_config *c, const char *key)
{
    for (size_t i = 0; i < c->n_params; i++)
        if (strcmp(c->params[i].key, key) == 0)
            return c->params[i].value;
    return NULL;
}

START_TEST(test_defaults)
{
    api_run_config c;
    gb_error err;
    ck_assert_int_eq(parse("{\"dataset_id\":\"ds_1\",\"teacher\":{\"id\":\"tch_1\"},"
                           "\"student\":{\"type\":\"tree\"}}",
                           &c, &err),
                     GB_OK);
    ck_assert_str_eq(c.dataset_id, "ds_1");
    ck_assert_uint_eq(c.n_teachers, 1);
    ck_assert_str_eq(c.teacher_ids[0], "tch_1");
    ck_assert_int_eq(c.have_weights, 0);
    ck_assert_str_eq(c.cfg.student_type, "tree");
    ck_assert(c.cfg.temperature == 1.0 && c.cfg.alpha == 0.0);
    ck_assert(c.cfg.test_fraction == 0.25 && c.cfg.split_seed == 0 && c.cfg.seed == 0);
    ck_assert_uint_eq(c.cfg.augment_multiplier, 0);
    ck_assert_int_eq(c.explain.level, EX_LEVEL_FAST);
    ck_assert_uint_eq(c.explain.pdp_features, 5);
    ck_assert_int_eq(c.cfg.frontier, 0);
    ck_assert_ptr_null(c.cfg.target);
    char *text = gb_json_print(c.json, 0);
    ck_assert_str_eq(
        text, "{\"dataset_id\":\"ds_1\",\"teacher\":{\"ids\":[\"tch_1\"]},\"student\":{"
              "\"params\":{},\"type\":\"tree\"},\"distill\":{\"augment\":{\"method\":"
              "\"none\","
              "\"multiplier\":0,\"p\":0.5,\"s\":10},\"search\":{\"temperatures\":[],"
              "\"alphas\":[],\"augment\":false,\"validation_fraction\":0.2},"
              "\"temperature\":1,"
              "\"alpha\":0,\"cutoff\":0.5,\"bootstrap\":200},\"split\":{\"test_"
              "fraction\":0.25,"
              "\"seed\":0},\"explain\":{\"level\":\"fast\",\"permutation\":true,"
              "\"shap\":true,"
              "\"pdp_features\":5,\"frontier\":false,\"permutations\":0},\"seed\":0}");
    gb_free(text);
    api_run_config_clear(&c);
}
END_TEST

START_TEST(test_everything_set_and_normalised_form_round_trips)
{
    api_run_config c, again;
    gb_error err;
    ck_assert_int_eq(
        parse("{\"dataset_id\":\"ds_1\",\"teacher\":{\"ids\":[\"a\",\"b\"],"
              "\"weights\":[1,3]},\"student\":{\"type\":\"tree\",\"params\":{"
              "\"max_depth\":4,\"min_samples_leaf\":2.5e1,\"max_bins\":\"64\"}},"
              "\"distill\":{\"temperature\":2.5,\"alpha\":0.25,\"augment\":{"
              "\"method\":\"munge\",\"multiplier\":3,\"p\":0.4,\"s\":5},\"search\":{"
              "\"temperatures\":[1,2],\"alphas\":[0,0.5],\"augment\":true}},"
              "\"split\":{\"test_fraction\":0.3,\"seed\":11},\"explain\":{\"level\":"
              "\"full\",\"shap\":false,\"pdp_features\":2,\"frontier\":true},"
              "\"seed\":42}",
              &c, &err),
        GB_OK);
    ck_assert_uint_eq(c.n_teachers, 2);
    ck_assert_int_eq(c.have_weights, 1);
    ck_assert(c.weights[0] == 1 && c.weights[1] == 3);
    ck_assert_str_eq(param(&c, "max_depth"), "4");
    ck_assert_str_eq(param(&c, "min_samples_leaf"), "25");
    ck_assert_str_eq(param(&c, "max_bins"), "64");
    ck_assert(c.cfg.temperature == 2.5 && c.cfg.alpha == 0.25);
    ck_assert_uint_eq(c.cfg.augment_multiplier, 3);
    ck_assert(c.cfg.augment_p == 0.4 && c.cfg.augment_s == 5);
    ck_assert_uint_eq(c.cfg.n_search_temperatures, 2);
    ck_assert_uint_eq(c.cfg.n_search_alphas, 2);
    ck_assert_int_eq(c.cfg.search_augment, 1);
    ck_assert(c.cfg.test_fraction == 0.3 && c.cfg.split_seed == 11);
    ck_assert(c.cfg.seed == 42);
    ck_assert_int_eq(c.explain.level, EX_LEVEL_FULL);
    ck_assert_int_eq(c.explain.shap, 0);
    ck_assert_uint_eq(c.explain.pdp_features, 2);
    ck_assert_int_eq(c.cfg.frontier, 1);

    /* the stored form parses to the same settings and prints identically */
    gb_error_clear(&err);
    ck_assert_int_eq(api_run_config_parse(c.json, GB_TASK_AUTO, &again, &err), GB_OK);
    char *a = gb_json_print(c.json, 0), *b = gb_json_print(again.json, 0);
    ck_assert_str_eq(a, b);
    ck_assert(again.cfg.temperature == 2.5 && again.cfg.augment_multiplier == 3);
    ck_assert_str_eq(param(&again, "min_samples_leaf"), "25");
    gb_free(a);
    gb_free(b);
    api_run_config_clear(&again);
    api_run_config_clear(&c);
}
END_TEST

START_TEST(test_scores_and_monotone)
{
    api_run_config c;
    gb_error err;
    ck_assert_int_eq(parse("{\"dataset_id\":\"d\",\"teacher\":{\"scores\":[\"p_0\","
                           "\"p_1\"]},\"student\":{\"type\":\"logistic\",\"params\":{"
                           "\"l2\":0.01}},\"explain\":\"none\"}",
                           &c, &err),
                     GB_OK);
    ck_assert_uint_eq(c.n_teachers, 0);
    ck_assert_uint_eq(c.cfg.n_score_columns, 2);
    ck_assert_str_eq(c.cfg.score_columns[1], "p_1");
    ck_assert_str_eq(param(&c, "l2"), "0.01");
    ck_assert_int_eq(c.explain.level, EX_LEVEL_NONE);
    api_run_config_clear(&c);

    /* monotone objects become the GAM's text form */
    const char *gam = "{\"dataset_id\":\"d\",\"teacher\":{\"id\":\"t\"},"
                      "\"student\":{\"type\":\"gam\",\"params\":{"
                      "\"monotone\":{\"age\":1,\"debt\":-1}}}}";
    cJSON *body = gb_json_parse(gam, strlen(gam), NULL);
    ck_assert_ptr_nonnull(body);
    gb_error_clear(&err);
    gb_status rc = api_run_config_parse(body, GB_TASK_AUTO, &c, &err);
    cJSON_Delete(body);
    ck_assert_int_eq(rc, GB_OK);
    ck_assert_str_eq(param(&c, "monotone"), "age:1,debt:-1");
    api_run_config_clear(&c);
}
END_TEST

static void expect_error(const char *body, const char *field, const char *in_message)
{
    api_run_config c;
    gb_error err;
    ck_assert_int_eq(parse(body, &c, &err), GB_EUNUSABLE);
    ck_assert_msg(strcmp(err.field, field) == 0, "field '%s', wanted '%s' (%s)",
                  err.field, field, err.message);
    ck_assert_msg(strstr(err.message, in_message) != NULL, "message '%s' lacks '%s'",
                  err.message, in_message);
    ck_assert_ptr_null(c.json);
}

#define OK_HEAD "{\"dataset_id\":\"d\",\"teacher\":{\"id\":\"t\"},"

START_TEST(test_errors_name_their_field)
{
    expect_error("{\"teacher\":{\"id\":\"t\"},\"student\":{\"type\":\"tree\"}}",
                 "dataset_id", "required");
    expect_error("{\"dataset_id\":\"d\",\"student\":{\"type\":\"tree\"}}", "teacher",
                 "required");
    expect_error(OK_HEAD "\"student\":{}}", "student.type", "required");
    expect_error(OK_HEAD "\"student\":{\"type\":\"forest\"}}", "student.type",
                 "forest");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\",\"params\":{\"max_depth\":"
                         "1000}}}",
                 "student.params.max_depth", "max_depth");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\",\"params\":{\"depth\":3}}}",
                 "student.params.depth", "depth");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\",\"params\":{\"max_depth\":"
                         "[3]}}}",
                 "student.params.max_depth", "number, a string or a boolean");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"alpha\":2}}",
                 "distill.alpha", "[0, 1]");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"temperature\":"
                         "0}}",
                 "distill.temperature", "> 0");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"temperature\":"
                         "\"hot\"}}",
                 "distill.temperature", "number");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"split\":{\"test_fraction\":"
                         "1}}",
                 "split.test_fraction", "(0, 1)");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"split\":{\"seed\":-1}}",
                 "split.seed", "integer");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"seed\":1.5}", "seed",
                 "integer");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"zeta\":1,\"alpha\":2}",
                 "zeta", "'zeta', 'alpha'");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"temprature\":"
                         "1}}",
                 "distill.temprature", "temprature");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"augment\":{"
                         "\"mult\":1}}}",
                 "distill.augment.mult", "mult");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"augment\":{"
                         "\"method\":\"smote\"}}}",
                 "distill.augment.method", "munge");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"augment\":{"
                         "\"method\":\"munge\",\"p\":2}}}",
                 "distill.augment.p", "augment.p");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"augment\":{"
                         "\"method\":\"none\",\"multiplier\":2}}}",
                 "distill.augment.multiplier", "none");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"search\":{"
                         "\"temperatures\":[1,2,3,4,5,6,7,8,9]}}}",
                 "distill.search.temperatures", "at most 8");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"search\":{"
                         "\"alphas\":[0,3]}}}",
                 "distill.search.alphas", "[0, 1]");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"distill\":{\"search\":{"
                         "\"augment\":true}}}",
                 "distill.search.augment", "munge");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"explain\":{\"level\":"
                         "\"deep\"}}",
                 "explain.level", "none, fast or full");
    expect_error(OK_HEAD
                 "\"student\":{\"type\":\"tree\"},\"explain\":{\"pdp_features\":"
                 "51}}",
                 "explain.pdp_features", "50");
    expect_error(OK_HEAD "\"student\":{\"type\":\"tree\"},\"explain\":{\"shapley\":1}}",
                 "explain.shapley", "shapley");
    expect_error("{\"dataset_id\":\"d\",\"teacher\":{\"id\":\"t\",\"scores\":[\"p\"]},"
                 "\"student\":{\"type\":\"tree\"}}",
                 "teacher", "exactly one");
    expect_error("{\"dataset_id\":\"d\",\"teacher\":{\"ids\":[\"a\",\"b\"],\"weights\":"
                 "[1]},\"student\":{\"type\":\"tree\"}}",
                 "teacher.weights", "one weight per teacher");
    expect_error("{\"dataset_id\":\"d\",\"teacher\":{\"ids\":[\"a\"],\"weights\":[-1]},"
                 "\"student\":{\"type\":\"tree\"}}",
                 "teacher.weights", ">= 0");
    expect_error("{\"dataset_id\":\"d\",\"teacher\":{\"scores\":[]},\"student\":{"
                 "\"type\":\"tree\"}}",
                 "teacher.scores", "1 to");
    expect_error("{\"dataset_id\":\"d\",\"teacher\":{\"scores\":[\"p\"]},\"student\":{"
                 "\"type\":\"tree\"},\"distill\":{\"augment\":{\"method\":\"munge\"}}}",
                 "distill.augment", "score columns");
}
END_TEST

START_TEST(test_allocation_failures_leave_nothing)
{
    const char *text =
        OK_HEAD "\"student\":{\"type\":\"tree\",\"params\":{\"max_depth\":"
                "3}},\"distill\":{\"search\":{\"alphas\":[0,1]}}}";
    cJSON *body = gb_json_parse(text, strlen(text), NULL);
    ck_assert_ptr_nonnull(body);
    int succeeded = 0;
    for (long n = 1; n < 400 && !succeeded; n++) {
        api_run_config c;
        gb_error err;
        gb_error_clear(&err);
        gb_alloc_fail_after(n);
        gb_status rc = api_run_config_parse(body, GB_TASK_AUTO, &c, &err);
        gb_alloc_fail_after(0);
        if (rc == GB_OK) {
            succeeded = 1;
            api_run_config_clear(&c);
        } else {
            ck_assert_ptr_null(c.json);
        }
    }
    ck_assert(succeeded);
    cJSON_Delete(body);
}
END_TEST

static Suite *runs_request_suite(void)
{
    Suite *s = suite_create("runs_request");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_everything_set_and_normalised_form_round_trips);
    tcase_add_test(tc, test_scores_and_monotone);
    tcase_add_test(tc, test_errors_name_their_field);
    tcase_add_test(tc, test_allocation_failures_leave_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(runs_request_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
