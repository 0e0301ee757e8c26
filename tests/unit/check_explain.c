/*
 * check_explain.c - the explanations object end to end on fitted tree and
 * logistic students: API.md's shape, values consistent with the modules it
 * is built from, byte-identical output whatever the thread count, score
 * teachers (teacher entries null and the reasons listed), teachers without
 * exact attributions (permutation importance, sampled attributions),
 * multiclass and regression, and errors.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/rng.h"
#include "core/data/csv.h"
#include "core/model/students/student.h"
#include "core/model/teachers/xgboost.h"
#include "explain/explain.h"
#include "explain/shapley.h"

enum { NR = 300, N_TRAIN = 200, N_TEST = 100 };

typedef struct world {
    gb_table *table;
    gb_target target;
    size_t test_rows[N_TEST];
} world;

static void world_make(world *w, gb_task task)
{
    gb_rng rng;
    gb_rng_seed(&rng, 5);
    double age[NR], income[NR], noise[NR], y[NR];
    const char *city[NR], *label[NR];
    const char *cities[3] = {"Leeds", "York", "Hull"},
               *classes[3] = {"good", "bad", "mid"};
    for (size_t i = 0; i < NR; i++) {
        age[i] = (double)(18 + gb_rng_below(&rng, 50));
        income[i] = gb_rng_uniform(&rng) < 0.1 ? NAN : 1000 + 100 * gb_rng_normal(&rng);
        noise[i] = gb_rng_normal(&rng);
        size_t c = (size_t)gb_rng_below(&rng, 3);
        city[i] = cities[c];
        double s = -(age[i] - 40) / 10 + (c == 1 ? 1.0 : 0.0) +
                   (isnan(income[i]) ? 0 : (income[i] - 1000) / 100) +
                   0.5 * gb_rng_normal(&rng);
        y[i] = s;
        label[i] = task == GB_TASK_MULTICLASS ? classes[s < -0.5  ? 0
                                                        : s < 0.5 ? 2
                                                                  : 1]
                                              : classes[s > 0];
    }
    gb_error err;
    w->table = gb_table_create(NR, &err);
    ck_assert_int_eq(gb_table_add_numeric(w->table, "age", age, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_numeric(w->table, "income", income, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_categorical(w->table, "city", city, &err), GB_OK);
    ck_assert_int_eq(gb_table_add_numeric(w->table, "noise", noise, &err), GB_OK);
    if (task == GB_TASK_REGRESSION)
        ck_assert_int_eq(gb_table_add_numeric(w->table, "y", y, &err), GB_OK);
    else
        ck_assert_int_eq(gb_table_add_categorical(w->table, "y", label, &err), GB_OK);
    ck_assert_int_eq(gb_target_resolve(w->table, "y", task, &w->target, &err), GB_OK);
    for (size_t i = 0; i < N_TEST; i++)
        w->test_rows[i] = N_TRAIN + i;
}

static void world_free(world *w)
{
    gb_target_free(&w->target);
    gb_table_free(w->table);
}

static gb_model *fit(world *w, const char *type, const char *depth)
{
    gb_error err;
    unsigned char exclude[5] = {0, 0, 0, 0, 1};
    gb_feature *f = NULL;
    size_t nf = 0;
    ck_assert_int_eq(gb_features_from_table(w->table, exclude,
                                            gb_student_wants_one_hot(type), &f, &nf,
                                            &err),
                     GB_OK);
    gb_design *d = gb_design_bind(f, nf, w->table, &err);
    double *X = malloc(N_TRAIN * nf * sizeof *X);
    gb_design_fill(d, NULL, 0, N_TRAIN, X);
    gb_train_set ts = {.n_rows = N_TRAIN,
                       .n_features = nf,
                       .X = X,
                       .features = f,
                       .task = w->target.task,
                       .n_classes = w->target.n_classes,
                       .classes = w->target.classes,
                       .y_class = w->target.y_class,
                       .y_value = w->target.y_value,
                       .temperature = 1,
                       .alpha = 1,
                       .n_threads = 1};
    gb_param p[1] = {{"max_depth", depth}};
    gb_model *m = NULL;
    ck_assert_msg(gb_student_fit(type, p, depth != NULL ? 1 : 0, &ts, NULL, &m, &err) ==
                      GB_OK,
                  "%s", err.message);
    free(X);
    gb_design_free(d);
    gb_features_free(f, nf);
    return m;
}

/* Outputs of m on the test rows (the teacher's outputs for the report). */
static double *outputs(const world *w, const gb_model *m)
{
    double *out = malloc(N_TEST * m->n_outputs * sizeof *out);
    gb_error err;
    ck_assert_int_eq(
        gb_model_predict_table(m, w->table, w->test_rows, N_TEST, out, &err), GB_OK);
    return out;
}

static const cJSON *get(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(it != NULL, "missing '%s'", key);
    return it;
}

static char *explain_text(const gb_model *t, const gb_model *s, const gb_model *b,
                          const world *w, const double *tt, ex_params *p, cJSON **json)
{
    gb_error err;
    cJSON *out = NULL;
    ck_assert_msg(ex_explain_report(t, s, b, w->table, w->test_rows, N_TEST, NULL, tt,
                                    p, &out, &err) == GB_OK,
                  "%s", err.message);
    char *text = gb_json_print(out, 0);
    if (json != NULL)
        *json = out;
    else
        cJSON_Delete(out);
    return text;
}

START_TEST(test_binary_all_exact)
{
    world w;
    world_make(&w, GB_TASK_BINARY);
    gb_model *teacher = fit(&w, "tree", "6"), *student = fit(&w, "logistic", NULL);
    gb_model *baseline = fit(&w, "tree", "2");
    double *tt = outputs(&w, teacher);
    ex_params p;
    ex_params_default(&p);
    cJSON *j = NULL;
    char *text = explain_text(teacher, student, baseline, &w, tt, &p, &j);
    if (getenv("EX_PRINT") != NULL)
        fprintf(stderr, "%s\n", text);
    ck_assert_str_eq(get(j, "method")->valuestring, "shap");
    ck_assert_str_eq(get(get(j, "attributions"), "teacher")->valuestring, "exact");
    ck_assert_str_eq(get(get(j, "attributions"), "student")->valuestring, "exact");
    /* global: one entry per source column (one-hot city folded back),
     * sorted by teacher importance. */
    const cJSON *global = get(j, "global");
    ck_assert_int_eq(cJSON_GetArraySize(global), 4);
    double prev = INFINITY;
    int saw_city = 0;
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, global)
    {
        const char *name = get(e, "feature")->valuestring;
        ck_assert_ptr_null(strchr(name, '='));
        saw_city |= strcmp(name, "city") == 0;
        double t = get(e, "teacher")->valuedouble;
        ck_assert(t <= prev && t >= 0);
        prev = t;
        ck_assert(get(e, "student")->valuedouble >= 0);
        ck_assert(get(e, "baseline")->valuedouble >= 0);
    }
    ck_assert(saw_city);
    /* noise matters least to the logistic student. */
    const cJSON *ag = get(j, "agreement");
    double rho = get(ag, "spearman")->valuedouble,
           cosv = get(ag, "local_cosine")->valuedouble;
    ck_assert(rho >= -1 && rho <= 1);
    ck_assert(cosv > 0 && cosv <= 1);
    ck_assert(get(ag, "top5_jaccard")->valuedouble ==
              1.0); /* 4 columns, all in the top 5 */
    ck_assert(cJSON_IsNumber(get(get(j, "student_vs_baseline"), "spearman")));
    /* pdp: the top columns, each with a grid and both curves. */
    const cJSON *pdp = get(j, "pdp");
    ck_assert_int_eq(cJSON_GetArraySize(pdp), 4);
    cJSON_ArrayForEach(e, pdp)
    {
        int n = cJSON_GetArraySize(get(e, "grid"));
        ck_assert_int_ge(n, 2);
        ck_assert_int_eq(cJSON_GetArraySize(get(e, "teacher")), n);
        ck_assert_int_eq(cJSON_GetArraySize(get(e, "student")), n);
        const cJSON *ice = get(e, "ice");
        ck_assert_int_eq(cJSON_GetArraySize(get(ice, "rows")), 10);
        ck_assert_int_eq(cJSON_GetArraySize(get(ice, "student")), 10);
        ck_assert_int_eq(cJSON_GetArraySize(get(ice, "student")->child), n);
        const cJSON *v = NULL;
        cJSON_ArrayForEach(v, get(e, "student"))
            ck_assert(v->valuedouble >= 0 && v->valuedouble <= 1);
    }
    /* disagreement rules point at rows where the students disagree. */
    const cJSON *dis = get(j, "disagreement");
    cJSON_ArrayForEach(e, dis)
    {
        ck_assert(get(e, "rows")->valuedouble >= 5);
        ck_assert(get(e, "disagreement_rate")->valuedouble > 0);
        ck_assert(strlen(get(e, "rule")->valuestring) > 0);
    }
    const cJSON *rc = get(j, "reason_codes");
    ck_assert_str_eq(get(rc, "class")->valuestring, "good");
    ck_assert(get(rc, "match_rate")->valuedouble >= 0 &&
              get(rc, "match_rate")->valuedouble <= 1);
    ck_assert_int_eq(cJSON_GetArraySize(get(rc, "examples")), 5);
    ck_assert_int_eq(cJSON_GetArraySize(get(j, "unavailable")), 0);
    /* The same with 2 threads: byte-identical. */
    p.n_threads = 2;
    char *text2 = explain_text(teacher, student, baseline, &w, tt, &p, NULL);
    ck_assert(strcmp(text, text2) == 0);
    gb_free(text2);
    /* Every row is in the sample and every attribution exact: the seed
     * changes nothing. */
    p.seed = 9;
    text2 = explain_text(teacher, student, baseline, &w, tt, &p, NULL);
    ck_assert(strcmp(text, text2) == 0);
    gb_free(text2);
    /* The other class as the adverse one: its reasons are the columns that
     * push the logit of "good" down, so no example shares a reason with the
     * default ("good") codes. */
    p.adverse_class = "bad";
    cJSON *jb = NULL;
    gb_free(explain_text(teacher, student, baseline, &w, tt, &p, &jb));
    const cJSON *rcb = get(jb, "reason_codes");
    ck_assert_str_eq(get(rcb, "class")->valuestring, "bad");
    const cJSON *ea = get(rc, "examples")->child, *eb = get(rcb, "examples")->child;
    int n_reasons = 0;
    for (; ea != NULL && eb != NULL; ea = ea->next, eb = eb->next) {
        ck_assert_int_eq(get(ea, "row")->valueint, get(eb, "row")->valueint);
        for (int m = 0; m < 2; m++) {
            const char *role = m == 0 ? "teacher" : "student";
            const cJSON *x = NULL, *y = NULL;
            cJSON_ArrayForEach(x, get(eb, role))
            {
                n_reasons++;
                cJSON_ArrayForEach(y, get(ea, role))
                    ck_assert_str_ne(x->valuestring, y->valuestring);
            }
        }
    }
    ck_assert_int_gt(n_reasons, 0);
    cJSON_Delete(jb);
    p.adverse_class = "maybe";
    gb_error err;
    cJSON *none = NULL;
    ck_assert_int_eq(ex_explain_report(teacher, student, baseline, w.table, w.test_rows,
                                       N_TEST, NULL, tt, &p, &none, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "adverse_class");
    ck_assert_ptr_null(none);
    gb_free(text);
    cJSON_Delete(j);
    free(tt);
    gb_model_free(teacher);
    gb_model_free(student);
    gb_model_free(baseline);
    world_free(&w);
}
END_TEST

/* A teacher without exact attributions: the tree's predictions through
 * opaque operations. */
static gb_status opaque_predict(const gb_model *m, const double *X, size_t n,
                                double *out, gb_error *err)
{
    const gb_model *inner = m->impl;
    return inner->ops->predict(inner, X, n, out, err);
}

static gb_status opaque_margin(const gb_model *m, const double *X, size_t n,
                               double *out, gb_error *err)
{
    const gb_model *inner = m->impl;
    return inner->ops->predict_margin(inner, X, n, out, err);
}

static void opaque_free(void *p)
{
    gb_model_free(p);
}

static const gb_model_ops opaque_ops = {"mlp", opaque_predict, opaque_margin,
                                        NULL,  NULL,           opaque_free};

START_TEST(test_opaque_teacher_uses_permutation)
{
    world w;
    world_make(&w, GB_TASK_BINARY);
    gb_model *inner = fit(&w, "tree", "4");
    gb_error err;
    gb_model *teacher =
        gb_model_create(&opaque_ops, inner, inner->task, inner->features,
                        inner->n_features, inner->classes, inner->n_classes, &err);
    gb_model *student = fit(&w, "tree", "3");
    double *tt = outputs(&w, teacher);
    ex_params p;
    ex_params_default(&p);
    cJSON *j = NULL;
    char *text = explain_text(teacher, student, NULL, &w, tt, &p, &j);
    ck_assert_str_eq(get(j, "method")->valuestring, "permutation");
    ck_assert_str_eq(get(get(j, "attributions"), "teacher")->valuestring, "sampled");
    ck_assert_str_eq(get(get(j, "attributions"), "student")->valuestring, "exact");
    ck_assert(cJSON_IsNull(get(get(j, "attributions"), "baseline")));
    ck_assert(cJSON_IsNull(get(get(j, "student_vs_baseline"), "spearman")));
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, get(j, "global")) ck_assert(cJSON_IsNull(get(e, "baseline")));
    /* Sampled attributions of the teacher still give a local cosine. */
    ck_assert(cJSON_IsNumber(get(get(j, "agreement"), "local_cosine")));
    p.n_threads = 2;
    char *text2 = explain_text(teacher, student, NULL, &w, tt, &p, NULL);
    ck_assert(strcmp(text, text2) == 0);
    gb_free(text2);
    /* Sampled attributions and shuffles follow the seed. */
    p.seed = 9;
    text2 = explain_text(teacher, student, NULL, &w, tt, &p, NULL);
    ck_assert(strcmp(text, text2) != 0);
    gb_free(text2);
    /* Many permutations: fewer rows get local attributions (10^6 predicted
     * rows / (5000 permutations x 5) = 40). */
    ck_assert_int_eq(get(get(j, "attributions"), "rows")->valueint, 100);
    p.permutations = 5000;
    cJSON *j2 = NULL;
    text2 = explain_text(teacher, student, NULL, &w, tt, &p, &j2);
    ck_assert_int_eq(get(get(j2, "attributions"), "rows")->valueint, 40);
    ck_assert_int_eq(get(get(j2, "attributions"), "sample_rows")->valueint, 100);
    ck_assert_int_eq(get(get(j2, "reason_codes"), "rows")->valueint, 40);
    cJSON_Delete(j2);
    gb_free(text);
    gb_free(text2);
    cJSON_Delete(j);
    free(tt);
    gb_model_free(teacher);
    gb_model_free(student);
    world_free(&w);
}
END_TEST

START_TEST(test_score_teacher)
{
    world w;
    world_make(&w, GB_TASK_BINARY);
    gb_model *scorer = fit(&w, "tree", "5"), *student = fit(&w, "logistic", NULL);
    gb_model *baseline = fit(&w, "logistic", NULL);
    double *tt = outputs(&w, scorer);
    ex_params p;
    ex_params_default(&p);
    cJSON *j = NULL;
    char *text = explain_text(NULL, student, baseline, &w, tt, &p, &j);
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, get(j, "global"))
    {
        ck_assert(cJSON_IsNull(get(e, "teacher")));
        ck_assert(cJSON_IsNumber(get(e, "student")));
    }
    ck_assert(cJSON_IsNull(get(get(j, "agreement"), "spearman")));
    ck_assert(cJSON_IsNull(get(get(j, "agreement"), "local_cosine")));
    /* Same type on the same labels: identical importances. */
    ck_assert_double_eq(get(get(j, "student_vs_baseline"), "spearman")->valuedouble,
                        1.0);
    cJSON_ArrayForEach(e, get(j, "pdp")) ck_assert(cJSON_IsNull(get(e, "teacher")));
    ck_assert(cJSON_IsNull(get(get(j, "reason_codes"), "match_rate")));
    const cJSON *un = get(j, "unavailable");
    ck_assert_int_eq(cJSON_GetArraySize(un), 4);
    ck_assert_str_eq(get(un->child, "what")->valuestring, "global.teacher");
    ck_assert_ptr_nonnull(
        strstr(get(un->child, "reason")->valuestring, "cannot be queried"));
    /* The teacher's scores still locate disagreement. */
    ck_assert(cJSON_IsArray(get(j, "disagreement")));
    gb_free(text);
    cJSON_Delete(j);
    free(tt);
    gb_model_free(scorer);
    gb_model_free(student);
    gb_model_free(baseline);
    world_free(&w);
}
END_TEST

/* Above 20,000 test rows the disagreement tree examines a seeded sample of
 * 20,000 and says so; below, every row. */
START_TEST(test_disagreement_rows_bounded)
{
    world w;
    world_make(&w, GB_TASK_BINARY);
    gb_model *scorer = fit(&w, "tree", "5"), *student = fit(&w, "tree", "2");
    enum { BIG = 25000 };
    size_t *rows = malloc(BIG * sizeof *rows);
    for (size_t i = 0; i < BIG; i++)
        rows[i] = N_TRAIN + i % N_TEST;
    double *tt = malloc(BIG * 2 * sizeof *tt);
    gb_error err;
    ck_assert_int_eq(gb_model_predict_table(scorer, w.table, rows, BIG, tt, &err),
                     GB_OK);
    ex_params p;
    ex_params_default(&p);
    p.level = EX_LEVEL_FAST;
    cJSON *j = NULL;
    ck_assert_msg(ex_explain_report(NULL, student, NULL, w.table, rows, BIG, NULL, tt,
                                    &p, &j, &err) == GB_OK,
                  "%s", err.message);
    ck_assert_double_eq(get(j, "disagreement_rows")->valuedouble, 20000.0);
    const cJSON *rule = NULL;
    size_t total = 0;
    cJSON_ArrayForEach(rule, get(j, "disagreement")) total +=
        (size_t)get(rule, "rows")->valuedouble;
    ck_assert(total <= 20000);
    cJSON_Delete(j);
    double *small = outputs(&w, scorer);
    char *text = explain_text(NULL, student, NULL, &w, small, &p, &j);
    ck_assert_double_eq(get(j, "disagreement_rows")->valuedouble, (double)N_TEST);
    gb_free(text);
    cJSON_Delete(j);
    free(small);
    free(tt);
    free(rows);
    gb_model_free(scorer);
    gb_model_free(student);
    world_free(&w);
}
END_TEST

START_TEST(test_multiclass_and_regression)
{
    gb_task tasks[2] = {GB_TASK_MULTICLASS, GB_TASK_REGRESSION};
    for (int k = 0; k < 2; k++) {
        world w;
        world_make(&w, tasks[k]);
        gb_model *teacher = fit(&w, "tree", "5"), *student = fit(&w, "tree", "3");
        double *tt = outputs(&w, teacher);
        ex_params p;
        ex_params_default(&p);
        p.level = EX_LEVEL_FULL;
        p.pdp_features = 2;
        cJSON *j = NULL;
        char *text = explain_text(teacher, student, NULL, &w, tt, &p, &j);
        ck_assert(cJSON_IsNull(get(j, "reason_codes")));
        const cJSON *pdp = get(j, "pdp");
        ck_assert_int_eq(cJSON_GetArraySize(pdp), 2);
        const cJSON *first = get(pdp->child, "student")->child;
        if (tasks[k] == GB_TASK_MULTICLASS)
            ck_assert_int_eq(cJSON_GetArraySize(first), 3);
        else
            ck_assert(cJSON_IsNumber(first));
        const cJSON *ice = get(pdp->child, "ice");
        ck_assert_int_eq(cJSON_GetArraySize(get(ice, "rows")), 30);
        /* Multiclass ICE curves follow one class per row. */
        const cJSON *curve0 = get(ice, "student")->child;
        ck_assert_int_eq(cJSON_GetArraySize(curve0),
                         cJSON_GetArraySize(get(pdp->child, "grid")));
        ck_assert(cJSON_IsNumber(curve0->child));
        if (tasks[k] == GB_TASK_MULTICLASS)
            ck_assert_int_eq(cJSON_GetArraySize(get(ice, "class")), 30);
        else
            ck_assert_ptr_null(cJSON_GetObjectItem(ice, "class"));
        ck_assert_str_eq(get(j, "method")->valuestring, "shap");
        gb_free(text);
        cJSON_Delete(j);
        free(tt);
        gb_model_free(teacher);
        gb_model_free(student);
        world_free(&w);
    }
}
END_TEST

START_TEST(test_errors_and_levels)
{
    world w;
    world_make(&w, GB_TASK_BINARY);
    gb_model *student = fit(&w, "tree", "3");
    double *tt = outputs(&w, student);
    ex_params p;
    ex_params_default(&p);
    gb_error err;
    cJSON *out = NULL;
    ex_level level;
    ck_assert_int_eq(ex_level_parse("full", &level, &err), GB_OK);
    ck_assert_int_eq(level, EX_LEVEL_FULL);
    ck_assert_int_eq(ex_level_parse("deep", &level, &err), GB_EINPUT);
    ck_assert_str_eq(err.field, "explain");
    p.level = EX_LEVEL_NONE;
    ck_assert_int_eq(ex_explain_report(NULL, student, NULL, w.table, w.test_rows,
                                       N_TEST, NULL, tt, &p, &out, &err),
                     GB_OK);
    char *text = gb_json_print(out, 0);
    ck_assert_str_eq(text, "{\"level\":\"none\"}");
    gb_free(text);
    cJSON_Delete(out);
    ex_params_default(&p);
    p.pdp_features = 51;
    ck_assert_int_eq(ex_explain_report(NULL, student, NULL, w.table, w.test_rows,
                                       N_TEST, NULL, tt, &p, &out, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "pdp_features");
    ck_assert_ptr_null(out);
    ex_params_default(&p);
    p.permutations = 1;
    ck_assert_int_eq(ex_explain_report(NULL, student, NULL, w.table, w.test_rows,
                                       N_TEST, NULL, tt, &p, &out, &err),
                     GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "permutations");
    ex_params_default(&p);
    ck_assert_int_eq(ex_explain_report(NULL, student, NULL, w.table, w.test_rows, 1,
                                       NULL, tt, &p, &out, &err),
                     GB_EUNUSABLE);
    ck_assert_int_eq(ex_explain_report(NULL, student, NULL, w.table, w.test_rows,
                                       N_TEST, NULL, NULL, &p, &out, &err),
                     GB_EUNUSABLE);
    /* A table without one of the student's columns. */
    gb_table *narrow = gb_table_create(NR, &err);
    ck_assert_int_eq(gb_table_add_numeric(narrow, "age", w.table->cols[0].values, &err),
                     GB_OK);
    ck_assert_int_eq(ex_explain_report(NULL, student, NULL, narrow, w.test_rows, N_TEST,
                                       NULL, tt, &p, &out, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_nonnull(strstr(err.message, "income"));
    ck_assert_ptr_null(out);
    gb_table_free(narrow);
    /* Allocation failures anywhere: an error, never a crash or a leak. */
    for (long n = 1; n < 400; n += 7) {
        gb_alloc_fail_after(n);
        gb_status rc = ex_explain_report(NULL, student, NULL, w.table, w.test_rows,
                                         N_TEST, NULL, tt, &p, &out, &err);
        gb_alloc_fail_after(0);
        ck_assert(rc == GB_OK || rc == GB_ENOMEM);
        ck_assert(rc == GB_OK ? out != NULL : out == NULL);
        cJSON_Delete(out);
        out = NULL;
    }
    free(tt);
    gb_model_free(student);
    world_free(&w);
}
END_TEST

static char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return buf;
}

/* An XGBoost teacher: exact TreeSHAP through its attribute operation when the
 * file has sum_hessian covers; sampled attributions and permutation
 * importance when it has none. */
START_TEST(test_xgboost_teacher_attribute)
{
    gb_error err;
    gb_table *t = NULL;
    ck_assert_int_eq(
        gb_csv_read_file("tests/fixtures/xgboost/dataset.csv", NULL, &t, &err), GB_OK);
    size_t n = 0;
    char *bytes = read_bytes("tests/fixtures/xgboost/binary.json", &n);
    gb_xgboost_options opts = {t};
    gb_model *teacher = NULL, *coverless = NULL;
    ck_assert_int_eq(gb_xgboost_load_opts(bytes, n, &opts, &teacher, &err), GB_OK);
    for (char *key = strstr(bytes, "\"sum_hessian\""); key != NULL;
         key = strstr(key + 1, "\"sum_hessian\""))
        memcpy(key + 1, "sum_hessiax", 11);
    ck_assert_int_eq(gb_xgboost_load_opts(bytes, n, &opts, &coverless, &err), GB_OK);
    free(bytes);
    /* A tree student on the first 300 rows, explained on the last 100. */
    gb_target target;
    ck_assert_int_eq(gb_target_resolve(t, "y", GB_TASK_BINARY, &target, &err), GB_OK);
    unsigned char exclude[7] = {0, 0, 0, 0, 0, 0, 1};
    gb_feature *f = NULL;
    size_t nf = 0;
    ck_assert_int_eq(gb_features_from_table(t, exclude, 0, &f, &nf, &err), GB_OK);
    gb_design *d = gb_design_bind(f, nf, t, &err);
    double *X = malloc(300 * nf * sizeof *X);
    gb_design_fill(d, NULL, 0, 300, X);
    gb_train_set ts = {.n_rows = 300,
                       .n_features = nf,
                       .X = X,
                       .features = f,
                       .task = GB_TASK_BINARY,
                       .n_classes = 2,
                       .classes = target.classes,
                       .y_class = target.y_class,
                       .temperature = 1,
                       .alpha = 1,
                       .n_threads = 1};
    gb_model *student = NULL;
    ck_assert_int_eq(gb_student_fit("tree", NULL, 0, &ts, NULL, &student, &err), GB_OK);
    size_t rows[100];
    for (size_t i = 0; i < 100; i++)
        rows[i] = 300 + i;
    double *tt = malloc(100 * 2 * sizeof *tt);
    ck_assert_int_eq(gb_model_predict_table(teacher, t, rows, 100, tt, &err), GB_OK);
    ex_params p;
    ex_params_default(&p);
    cJSON *j = NULL;
    ck_assert_msg(ex_explain_report(teacher, student, NULL, t, rows, 100, NULL, tt, &p,
                                    &j, &err) == GB_OK,
                  "%s", err.message);
    ck_assert_str_eq(get(j, "method")->valuestring, "shap");
    ck_assert_str_eq(get(get(j, "attributions"), "teacher")->valuestring, "exact");
    ck_assert(cJSON_IsNumber(get(get(j, "agreement"), "local_cosine")));
    ck_assert_int_eq(cJSON_GetArraySize(get(j, "global")), 6);
    cJSON_Delete(j);
    ck_assert_int_eq(ex_explain_report(coverless, student, NULL, t, rows, 100, NULL, tt,
                                       &p, &j, &err),
                     GB_OK);
    ck_assert_str_eq(get(j, "method")->valuestring, "permutation");
    ck_assert_str_eq(get(get(j, "attributions"), "teacher")->valuestring, "sampled");
    cJSON_Delete(j);
    free(tt);
    free(X);
    gb_design_free(d);
    gb_features_free(f, nf);
    gb_target_free(&target);
    gb_model_free(student);
    gb_model_free(teacher);
    gb_model_free(coverless);
    gb_table_free(t);
}
END_TEST

static Suite *explain_suite(void)
{
    Suite *s = suite_create("explain");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_binary_all_exact);
    tcase_add_test(tc, test_opaque_teacher_uses_permutation);
    tcase_add_test(tc, test_score_teacher);
    tcase_add_test(tc, test_disagreement_rows_bounded);
    tcase_add_test(tc, test_multiclass_and_regression);
    tcase_add_test(tc, test_errors_and_levels);
    tcase_add_test(tc, test_xgboost_teacher_attribute);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(explain_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
