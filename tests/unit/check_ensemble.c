/*
 * check_ensemble.c - ensembles of teachers: weighted arithmetic and
 * geometric means against values computed here, feature union and column
 * mapping, ownership, and one test per refusal.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/model/model.h"
#include "core/model/teachers/ensemble.h"
#include "core/model/teachers/lightgbm.h"

/* ---- members --------------------------------------------------------------- */

/* A LightGBM model: one split on `feature` (the first of `names`) at 0,
 * leaves lo / hi, plus a constant tree `bias`. */
static gb_model *lgb(const char *objective, const char *names, int n_features,
                     const char *lo, const char *hi, const char *bias)
{
    char text[4096];
    snprintf(text, sizeof text,
             "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n"
             "max_feature_idx=%d\nobjective=%s\nfeature_names=%s\n\n"
             "Tree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=0\nthreshold=0\n"
             "decision_type=2\nleft_child=-1\nright_child=-2\nleaf_value=%s %s\n"
             "shrinkage=1\n\n\nTree=1\nnum_leaves=1\nleaf_value=%s\nshrinkage=1\n\n\n"
             "end of trees\n",
             n_features - 1, objective, names, lo, hi, bias);
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    ck_assert_msg(gb_lightgbm_load(text, strlen(text), &m, &err) == GB_OK, "%s",
                  err.message);
    return m;
}

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* A stand-in model with fixed outputs and chosen classes. */
static gb_status const_predict(const gb_model *m, const double *X, size_t n_rows,
                               double *out, gb_error *err)
{
    (void)X;
    (void)err;
    const double *p = m->impl;
    for (size_t i = 0; i < n_rows; i++)
        memcpy(out + i * m->n_outputs, p, m->n_outputs * sizeof *p);
    return GB_OK;
}

static const gb_model_ops const_ops = {
    .kind = "const", .predict = const_predict, .free_impl = gb_free};

static gb_model *const_model(gb_task task, const char *feature, gb_feature_kind kind,
                             char **classes, size_t n_classes, const double *p)
{
    size_t n_out = task == GB_TASK_REGRESSION ? 1 : n_classes;
    double *impl = gb_malloc(n_out * sizeof *impl);
    memcpy(impl, p, n_out * sizeof *impl);
    char *levels[] = {"u", "v"};
    gb_feature f = {.name = (char *)feature,
                    .kind = kind,
                    .levels = kind == GB_FEAT_CATEGORICAL ? levels : NULL,
                    .n_levels = kind == GB_FEAT_CATEGORICAL ? 2 : 0};
    gb_error err;
    gb_model *m =
        gb_model_create(&const_ops, impl, task, &f, 1, classes, n_classes, &err);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Expects gb_ensemble_create to refuse; members stay the caller's. */
static gb_error create_fails(gb_model **members, const double *w, size_t n,
                             gb_ensemble_mean mean)
{
    gb_model *e = (gb_model *)1;
    gb_error err;
    gb_error_clear(&err);
    gb_status rc = gb_ensemble_create(members, w, n, mean, &e, &err);
    ck_assert_msg(rc == GB_EUNUSABLE, "expected GB_EUNUSABLE, got %d", rc);
    ck_assert_ptr_null(e);
    for (size_t k = 0; k < n; k++)
        ck_assert_ptr_nonnull(members[k]);
    return err;
}

static void free_all(gb_model **members, size_t n)
{
    for (size_t k = 0; k < n; k++)
        gb_model_free(members[k]);
}

/* ---- combinations ------------------------------------------------------------ */

START_TEST(test_arithmetic_weighted_and_feature_union)
{
    gb_model *members[2] = {lgb("binary sigmoid:1", "a b", 2, "-1", "1", "0.25"),
                            lgb("binary sigmoid:1", "c a", 2, "-0.5", "2", "0")};
    double w[2] = {3, 1};
    gb_model *e = NULL;
    gb_error err;
    ck_assert_int_eq(
        gb_ensemble_create(members, w, 2, GB_ENSEMBLE_ARITHMETIC, &e, &err), GB_OK);
    ck_assert_ptr_null(members[0]);
    ck_assert_ptr_null(members[1]);
    ck_assert_str_eq(e->ops->kind, "ensemble");
    ck_assert_uint_eq(e->n_features, 3); /* a, b, c */
    ck_assert_str_eq(e->features[0].name, "a");
    ck_assert_str_eq(e->features[1].name, "b");
    ck_assert_str_eq(e->features[2].name, "c");
    ck_assert_uint_eq(e->n_outputs, 2);
    /* rows (a, b, c) */
    double X[3 * 3] = {-1, 5, 1, 1, 5, -1, NAN, 0, 0};
    double out[3 * 2];
    ck_assert_int_eq(e->ops->predict(e, X, 3, out, &err), GB_OK);
    double p1[3] = {sigmoid(-1 + 0.25), sigmoid(1 + 0.25), sigmoid(-1 + 0.25)};
    /* member 2 splits on c (its feature 0): c <= 0 -> -0.5, else 2; NaN: 0. */
    double p2[3] = {sigmoid(2), sigmoid(-0.5), sigmoid(-0.5)};
    for (int i = 0; i < 3; i++) {
        double want = 0.75 * p1[i] + 0.25 * p2[i];
        ck_assert_msg(fabs(out[2 * i + 1] - want) <= 1e-15, "row %d", i);
        ck_assert(fabs(out[2 * i] - (0.75 * (1 - p1[i]) + 0.25 * (1 - p2[i]))) <=
                  1e-15);
    }
    cJSON *j = e->ops->to_json(e);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "members")), 2);
    cJSON_Delete(j);
    gb_model_free(e);
}
END_TEST

START_TEST(test_geometric_renormalised)
{
    char *classes[] = {"no", "yes", "maybe"};
    double pa[3] = {0.2, 0.5, 0.3}, pb[3] = {0.6, 0.1, 0.3}, pc[3] = {0.0, 0.5, 0.5};
    gb_model *members[3] = {
        const_model(GB_TASK_MULTICLASS, "x", GB_FEAT_NUMERIC, classes, 3, pa),
        const_model(GB_TASK_MULTICLASS, "x", GB_FEAT_NUMERIC, classes, 3, pb),
        const_model(GB_TASK_MULTICLASS, "y", GB_FEAT_NUMERIC, classes, 3, pc)};
    gb_model *e = NULL;
    gb_error err;
    /* Two members, equal weights: sqrt(pa*pb) renormalised. */
    ck_assert_int_eq(
        gb_ensemble_create(members, NULL, 2, GB_ENSEMBLE_GEOMETRIC, &e, &err), GB_OK);
    double X[1] = {0}, out[3], g[3], s = 0;
    ck_assert_int_eq(e->ops->predict(e, X, 1, out, &err), GB_OK);
    for (int c = 0; c < 3; c++)
        s += g[c] = sqrt(pa[c] * pb[c]);
    for (int c = 0; c < 3; c++)
        ck_assert_msg(fabs(out[c] - g[c] / s) <= 1e-15, "class %d: %.17g vs %.17g", c,
                      out[c], g[c] / s);
    gb_model_free(e);
    /* A zero probability in one member zeroes that class, the rest stays finite. */
    gb_model *two[2] = {
        const_model(GB_TASK_MULTICLASS, "x", GB_FEAT_NUMERIC, classes, 3, pa),
        members[2]};
    ck_assert_int_eq(gb_ensemble_create(two, NULL, 2, GB_ENSEMBLE_GEOMETRIC, &e, &err),
                     GB_OK);
    ck_assert_uint_eq(e->n_features, 2);
    double X2[2] = {0, 0};
    ck_assert_int_eq(e->ops->predict(e, X2, 1, out, &err), GB_OK);
    ck_assert(out[0] < 1e-100);
    ck_assert(fabs(out[1] + out[2] - 1) <= 1e-15);
    ck_assert(fabs(out[1] / out[2] - sqrt(0.25) / sqrt(0.15)) <= 1e-12);
    gb_model_free(e);
}
END_TEST

START_TEST(test_regression_mean_and_table_mapping)
{
    gb_model *members[2] = {lgb("regression", "a b", 2, "1", "3", "10"),
                            lgb("regression", "b", 1, "-2", "2", "0")};
    gb_model *e = NULL;
    gb_error err;
    double w[2] = {1, 1};
    ck_assert_int_eq(
        gb_ensemble_create(members, w, 2, GB_ENSEMBLE_ARITHMETIC, &e, &err), GB_OK);
    /* Table columns in another order than the ensemble's features. */
    const char *csv = "b,other,a\n1,x,-1\n-1,y,1\n";
    gb_table *t = NULL;
    gb_csv_parser *p = gb_csv_parser_create(NULL, &err);
    ck_assert_int_eq(gb_csv_parser_feed(p, csv, strlen(csv), &err), GB_OK);
    ck_assert_int_eq(gb_csv_parser_finish(p, &t, &err), GB_OK);
    gb_csv_parser_free(p);
    double out[2];
    ck_assert_int_eq(gb_model_predict_table(e, t, NULL, 2, out, &err), GB_OK);
    ck_assert(out[0] == 0.5 * (1 + 10) + 0.5 * 2);  /* a=-1 -> 1; b=1 -> 2 */
    ck_assert(out[1] == 0.5 * (3 + 10) + 0.5 * -2); /* a=1 -> 3; b=-1 -> -2 */
    gb_table_free(t);
    gb_model_free(e);
}
END_TEST

START_TEST(test_mean_parse)
{
    gb_ensemble_mean mean;
    gb_error err;
    ck_assert_int_eq(gb_ensemble_mean_parse("geometric", &mean, &err), GB_OK);
    ck_assert_int_eq(mean, GB_ENSEMBLE_GEOMETRIC);
    ck_assert_int_eq(gb_ensemble_mean_parse("harmonic", &mean, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "mean");
}
END_TEST

/* ---- refusals ------------------------------------------------------------------ */

START_TEST(test_error_task_mismatch)
{
    gb_model *members[2] = {lgb("binary sigmoid:1", "a", 1, "0", "1", "0"),
                            lgb("regression", "a", 1, "0", "1", "0")};
    gb_error err = create_fails(members, NULL, 2, GB_ENSEMBLE_ARITHMETIC);
    ck_assert_str_eq(err.field, "members[1]");
    ck_assert_ptr_nonnull(strstr(err.message, "regression"));
    ck_assert_ptr_nonnull(strstr(err.message, "lightgbm"));
    free_all(members, 2);
}
END_TEST

START_TEST(test_error_classes_mismatch)
{
    char *yes_no[] = {"no", "yes"}, *zero_one[] = {"0", "1"},
         *three[] = {"0", "1", "2"};
    double p2[2] = {0.5, 0.5}, p3[3] = {0.2, 0.3, 0.5};
    gb_model *members[2] = {
        const_model(GB_TASK_BINARY, "a", GB_FEAT_NUMERIC, zero_one, 2, p2),
        const_model(GB_TASK_BINARY, "a", GB_FEAT_NUMERIC, yes_no, 2, p2)};
    gb_error err = create_fails(members, NULL, 2, GB_ENSEMBLE_ARITHMETIC);
    ck_assert_str_eq(err.field, "members[1]");
    ck_assert_ptr_nonnull(strstr(err.message, "'no'"));
    free_all(members, 2);
    gb_model *multi[2] = {
        const_model(GB_TASK_MULTICLASS, "a", GB_FEAT_NUMERIC, three, 3, p3),
        const_model(GB_TASK_MULTICLASS, "a", GB_FEAT_NUMERIC, three, 2, p3)};
    err = create_fails(multi, NULL, 2, GB_ENSEMBLE_ARITHMETIC);
    ck_assert_ptr_nonnull(strstr(err.message, "number of classes"));
    free_all(multi, 2);
}
END_TEST

START_TEST(test_error_feature_declared_differently)
{
    char *cls[] = {"0", "1"};
    double p[2] = {0.5, 0.5};
    gb_model *members[2] = {
        const_model(GB_TASK_BINARY, "a", GB_FEAT_NUMERIC, cls, 2, p),
        const_model(GB_TASK_BINARY, "a", GB_FEAT_CATEGORICAL, cls, 2, p)};
    gb_error err = create_fails(members, NULL, 2, GB_ENSEMBLE_ARITHMETIC);
    ck_assert_str_eq(err.field, "members[1]");
    ck_assert_ptr_nonnull(strstr(err.message, "'a'"));
    free_all(members, 2);
}
END_TEST

START_TEST(test_error_bad_weights)
{
    gb_model *members[2] = {lgb("regression", "a", 1, "0", "1", "0"),
                            lgb("regression", "a", 1, "0", "1", "0")};
    double neg[2] = {1, -1}, nan_w[2] = {NAN, 1}, zero[2] = {0, 0};
    gb_error err = create_fails(members, neg, 2, GB_ENSEMBLE_ARITHMETIC);
    ck_assert_str_eq(err.field, "weights[1]");
    err = create_fails(members, nan_w, 2, GB_ENSEMBLE_ARITHMETIC);
    ck_assert_str_eq(err.field, "weights[0]");
    err = create_fails(members, zero, 2, GB_ENSEMBLE_ARITHMETIC);
    ck_assert_str_eq(err.field, "weights");
    free_all(members, 2);
}
END_TEST

START_TEST(test_error_geometric_regression)
{
    gb_model *members[1] = {lgb("regression", "a", 1, "0", "1", "0")};
    gb_error err = create_fails(members, NULL, 1, GB_ENSEMBLE_GEOMETRIC);
    ck_assert_ptr_nonnull(strstr(err.message, "geometric"));
    free_all(members, 1);
}
END_TEST

START_TEST(test_error_no_members)
{
    gb_model *none[1] = {NULL};
    gb_model *e = NULL;
    gb_error err;
    ck_assert_int_eq(
        gb_ensemble_create(none, NULL, 0, GB_ENSEMBLE_ARITHMETIC, &e, &err),
        GB_EUNUSABLE);
    ck_assert_int_eq(
        gb_ensemble_create(none, NULL, 1, GB_ENSEMBLE_ARITHMETIC, &e, &err),
        GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "members[0]");
}
END_TEST

START_TEST(test_allocation_failures_keep_members)
{
    int succeeded = 0;
    for (long k = 1; k < 200 && !succeeded; k++) {
        gb_model *members[2] = {lgb("binary sigmoid:1", "a b", 2, "-1", "1", "0"),
                                lgb("binary sigmoid:1", "c", 1, "-1", "1", "0")};
        gb_model *e = NULL;
        gb_error err;
        gb_alloc_fail_after(k);
        gb_status rc =
            gb_ensemble_create(members, NULL, 2, GB_ENSEMBLE_ARITHMETIC, &e, &err);
        gb_alloc_fail_after(0);
        if (rc == GB_OK) {
            succeeded = 1;
            gb_model_free(e);
        } else {
            ck_assert_int_eq(rc, GB_ENOMEM);
            free_all(members, 2);
        }
    }
    ck_assert(succeeded);
}
END_TEST

static Suite *ensemble_suite(void)
{
    Suite *s = suite_create("ensemble");
    TCase *tc = tcase_create("combine");
    tcase_add_test(tc, test_arithmetic_weighted_and_feature_union);
    tcase_add_test(tc, test_geometric_renormalised);
    tcase_add_test(tc, test_regression_mean_and_table_mapping);
    tcase_add_test(tc, test_mean_parse);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_error_task_mismatch);
    tcase_add_test(tc, test_error_classes_mismatch);
    tcase_add_test(tc, test_error_feature_declared_differently);
    tcase_add_test(tc, test_error_bad_weights);
    tcase_add_test(tc, test_error_geometric_regression);
    tcase_add_test(tc, test_error_no_members);
    tcase_add_test(tc, test_allocation_failures_keep_members);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ensemble_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
