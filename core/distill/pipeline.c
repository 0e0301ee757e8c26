/*
 * pipeline.c - the distillation run (DESIGN.md, "A run, as data flows").
 * Layer: core/distill.
 *
 * Phases and their share of the progress bar: split (0-2%), teacher scoring
 * (2-20%), distilled student (20-55%), baseline student (55-90%), evaluation
 * and report (90-100%).
 */
#include "core/distill/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/data/encode.h"
#include "core/data/split.h"
#include "core/distill/fidelity.h"
#include "core/distill/munge.h"
#include "core/distill/soft.h"
#include "core/model/teachers/load.h"
#include "core/model/teachers/scores.h"
#include "core/parallel.h"
#include "core/sha256.h"

void gb_distill_config_default(gb_distill_config *c)
{
    memset(c, 0, sizeof *c);
    c->task = GB_TASK_AUTO;
    c->temperature = 1.0;
    c->alpha = 0.0;
    c->test_fraction = 0.25;
    c->augment_p = 0.5;
    c->augment_s = 10.0;
    c->cutoff = GB_FIDELITY_DEFAULT_CUTOFF;
    c->n_bootstrap = GB_FIDELITY_DEFAULT_BOOTSTRAP;
    c->n_threads = 1;
}

static gb_status bad_setting(gb_error *err, const char *field, const char *what)
{
    gb_error_set(err, GB_EUNUSABLE, "%s %s", field, what);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

gb_status gb_distill_check(const gb_distill_config *c, gb_error *err)
{
    if (c->target == NULL || c->target[0] == '\0')
        return bad_setting(err, "target", "is required");
    if (c->student_type == NULL)
        return bad_setting(err, "student.type", "is required");
    if (!(c->temperature > 0.0) || !isfinite(c->temperature))
        return bad_setting(err, "temperature", "must be a finite number > 0");
    if (!(c->alpha >= 0.0 && c->alpha <= 1.0))
        return bad_setting(err, "alpha", "must be in [0, 1]");
    if (!(c->test_fraction > 0.0 && c->test_fraction < 1.0))
        return bad_setting(err, "test_fraction", "must be in (0, 1)");
    if (!(c->cutoff >= 0.0 && c->cutoff <= 1.0))
        return bad_setting(err, "cutoff", "must be in [0, 1]");
    if (c->n_bootstrap > 100000)
        return bad_setting(err, "bootstrap", "must be at most 100000");
    if (c->augment_multiplier > 0) {
        gb_munge_params mp = {c->augment_multiplier, c->augment_p, c->augment_s,
                              c->seed, c->n_threads};
        gb_status rc = gb_munge_check(&mp, err);
        if (rc != GB_OK)
            return rc;
    }
    if (c->n_threads == 0 || c->n_threads > 256)
        return bad_setting(err, "threads", "must be in 1..256");
    /* With the task still unknown (AUTO) only task-independent checks run;
     * gb_distill_run checks again once the target is resolved. */
    return gb_student_check(c->student_type, c->params, c->n_params, c->task, err);
}

void gb_distill_result_free(gb_distill_result *r)
{
    if (r == NULL)
        return;
    cJSON_Delete(r->report);
    cJSON_Delete(r->config);
    gb_model_free(r->student);
    gb_model_free(r->baseline);
    memset(r, 0, sizeof *r);
}

/* ---- progress mapped into a sub-range ------------------------------------ */

typedef struct sub_progress {
    const gb_progress *parent;
    const char *phase;
    double lo, hi;
} sub_progress;

static void sub_progress_cb(void *ctx, const char *phase, double fraction)
{
    const sub_progress *s = ctx;
    (void)phase;
    gb_progress_report(s->parent, s->phase, s->lo + (s->hi - s->lo) * fraction);
}

static gb_progress sub_progress_make(sub_progress *s, const gb_progress *parent,
                                     const char *phase, double lo, double hi)
{
    s->parent = parent;
    s->phase = phase;
    s->lo = lo;
    s->hi = hi;
    gb_progress p = {sub_progress_cb, s, parent != NULL ? parent->cancel : NULL};
    gb_progress_report(parent, phase, lo);
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- teacher scoring ------------------------------------------------------ */

/* Maps teacher output columns to dataset classes: map[k] = teacher column of
 * dataset class k.  Names first; a teacher whose classes are "0".."K-1"
 * (XGBoost, LightGBM: no class names in the file) maps by position. */
static gb_status teacher_class_map(const gb_model *teacher, const gb_target *target,
                                   const char *target_name, size_t *map,
                                   int *by_position, gb_error *err)
{
    *by_position = 0;
    if (target->task == GB_TASK_REGRESSION) {
        if (teacher->task != GB_TASK_REGRESSION)
            return bad_setting(err, "teacher",
                               "is a classifier but the target is a regression target");
        map[0] = 0;
        return GB_OK;
    }
    if (teacher->task == GB_TASK_REGRESSION)
        return bad_setting(err, "teacher",
                           "is a regression model but the target is a class label");
    if (teacher->n_classes != target->n_classes) {
        gb_error_set(err, GB_EUNUSABLE,
                     "teacher predicts %zu classes but target '%s' has %zu",
                     teacher->n_classes, target_name, target->n_classes);
        gb_error_field(err, "teacher");
        return GB_EUNUSABLE;
    }
    size_t k_n = target->n_classes;
    int all_named = 1;
    for (size_t k = 0; k < k_n && all_named; k++) {
        size_t j = 0;
        while (j < k_n && strcmp(teacher->classes[j], target->classes[k]) != 0)
            j++;
        if (j == k_n)
            all_named = 0;
        else
            map[k] = j;
    }
    if (all_named)
        return GB_OK;
    for (size_t j = 0; j < k_n; j++) {
        char name[32];
        snprintf(name, sizeof name, "%zu", j);
        if (strcmp(teacher->classes[j], name) != 0) {
            gb_error_set(err, GB_EUNUSABLE,
                         "teacher class '%s' is not a class of the target",
                         teacher->classes[j]);
            gb_error_field(err, "teacher");
            return GB_EUNUSABLE;
        }
        map[j] = j;
    }
    *by_position = 1;
    return GB_OK;
}

typedef struct score_job {
    const gb_model *model;
    const gb_table *table;
    const size_t *rows;
    size_t n_rows;
    size_t block;
    double *out;       /* n_rows x model->n_outputs */
    gb_status *status; /* one per task */
    gb_error *errors;  /* one per task */
} score_job;

static void score_block_cb(void *ctx, size_t task)
{
    score_job *job = ctx;
    size_t start = task * job->block;
    size_t n = job->n_rows - start < job->block ? job->n_rows - start : job->block;
    job->status[task] = gb_model_predict_table(
        job->model, job->table, job->rows + start, n,
        job->out + start * job->model->n_outputs, &job->errors[task]);
}

/* Scores rows[0..n_rows) of table with model into out (n_rows x n_outputs),
 * in blocks spread over n_threads.  The first failing block's error wins. */
static gb_status score_rows(const gb_model *model, const gb_table *table,
                            const size_t *rows, size_t n_rows, unsigned n_threads,
                            double *out, gb_error *err)
{
    size_t block = 8192;
    size_t n_tasks = (n_rows + block - 1) / block;
    if (n_tasks == 0)
        return GB_OK;
    gb_status *status = gb_calloc(n_tasks, sizeof *status);
    gb_error *errors = gb_calloc(n_tasks, sizeof *errors);
    if (status == NULL || errors == NULL) {
        gb_free(status);
        gb_free(errors);
        return gb_error_set(err, GB_ENOMEM, "out of memory scoring the teacher");
    }
    score_job job = {model, table, rows, n_rows, block, out, status, errors};
    gb_parallel_for(n_tasks, n_threads, score_block_cb, &job);
    gb_status rc = GB_OK;
    for (size_t t = 0; t < n_tasks; t++)
        if (status[t] != GB_OK) {
            rc = status[t];
            if (err != NULL)
                *err = errors[t];
            break;
        }
    gb_free(status);
    gb_free(errors);
    return rc;
}

/* Teacher outputs (n_rows x n_out, dataset class order) of rows of table. */
static gb_status teacher_outputs(const gb_distill_config *c, const gb_table *table,
                                 const gb_target *target, const size_t *rows,
                                 size_t n_rows, size_t n_out, double *out,
                                 int *by_position, gb_error *err)
{
    gb_status rc = GB_OK;
    double *raw = NULL;
    if (c->teacher != NULL) {
        size_t map[GB_MAX_CLASSES + 1];
        rc = gb_model_check_features(c->teacher, table, err);
        if (rc != GB_OK)
            return rc;
        rc = teacher_class_map(c->teacher, target, c->target, map, by_position, err);
        if (rc != GB_OK)
            return rc;
        raw = gb_malloc_array(n_rows * n_out + 1, sizeof *raw);
        if (raw == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory scoring the teacher");
        rc = score_rows(c->teacher, table, rows, n_rows, c->n_threads, raw, err);
        if (rc == GB_OK)
            for (size_t i = 0; i < n_rows; i++)
                for (size_t k = 0; k < n_out; k++)
                    out[i * n_out + k] = raw[i * n_out + map[k]];
    } else {
        size_t got = 0;
        rc = gb_scores_read(table, target, c->score_columns, c->n_score_columns, &raw,
                            &got, err);
        if (rc == GB_OK && got != n_out)
            rc = gb_error_set(err, GB_EINTERNAL, "score columns gave %zu outputs", got);
        if (rc == GB_OK)
            for (size_t i = 0; i < n_rows; i++)
                memcpy(out + i * n_out, raw + rows[i] * n_out, n_out * sizeof *out);
    }
    gb_free(raw);
    return rc;
}

/* ---- report ---------------------------------------------------------------- */

static cJSON *params_json(const gb_distill_config *c)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    for (size_t i = 0; i < c->n_params; i++)
        cJSON_AddStringToObject(o, c->params[i].key, c->params[i].value);
    return o;
}

static cJSON *config_json(const gb_distill_config *c, gb_task task)
{
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    cJSON *data = cJSON_AddObjectToObject(root, "data");
    cJSON_AddStringToObject(data, "target", c->target);
    cJSON_AddStringToObject(data, "task", gb_task_name(task));
    if (c->dataset_sha256 != NULL)
        cJSON_AddStringToObject(data, "sha256", c->dataset_sha256);
    if (c->test_sha256 != NULL)
        cJSON_AddStringToObject(data, "test_sha256", c->test_sha256);
    cJSON *teacher = cJSON_AddObjectToObject(root, "teacher");
    if (c->teacher != NULL) {
        cJSON_AddStringToObject(teacher, "kind", c->teacher->ops->kind);
        if (c->teacher_sha256 != NULL)
            cJSON_AddStringToObject(teacher, "sha256", c->teacher_sha256);
    } else {
        cJSON_AddItemToObject(
            teacher, "scores",
            gb_json_string_array_create(c->score_columns, c->n_score_columns));
    }
    cJSON *student = cJSON_AddObjectToObject(root, "student");
    cJSON_AddStringToObject(student, "type", c->student_type);
    cJSON_AddItemToObject(student, "params", params_json(c));
    cJSON *distill = cJSON_AddObjectToObject(root, "distill");
    gb_json_add_number(distill, "temperature", c->temperature);
    gb_json_add_number(distill, "alpha", c->alpha);
    if (c->augment_multiplier > 0) {
        cJSON *augment = cJSON_AddObjectToObject(distill, "augment");
        cJSON_AddStringToObject(augment, "method", "munge");
        gb_json_add_number(augment, "multiplier", (double)c->augment_multiplier);
        gb_json_add_number(augment, "p", c->augment_p);
        gb_json_add_number(augment, "s", c->augment_s);
    }
    cJSON *split = cJSON_AddObjectToObject(root, "split");
    if (c->test_sha256 == NULL)
        gb_json_add_number(split, "test_fraction", c->test_fraction);
    gb_json_add_number(split, "seed", (double)c->split_seed);
    cJSON *fid = cJSON_AddObjectToObject(root, "fidelity");
    gb_json_add_number(fid, "cutoff", c->cutoff);
    gb_json_add_number(fid, "bootstrap", (double)c->n_bootstrap);
    gb_json_add_number(root, "seed", (double)c->seed);
    return root;
}

static void hash_json(const cJSON *item, char hex[GB_SHA256_HEX_BYTES])
{
    char *text = gb_json_print(item, 0);
    if (text == NULL) {
        hex[0] = '\0';
        return;
    }
    gb_sha256_hex_of(text, strlen(text), hex);
    gb_free(text);
}

/* ---- augmentation ------------------------------------------------------------ */

/* The training arrays that grow by the augmented rows (each realloc'd in
 * place; the first n_train rows are untouched). */
typedef struct training_rows {
    double **X;        /* n x n_features */
    double **targets;  /* n x n_out: soft targets (classification) or teacher
                          outputs (regression) */
    int32_t **y_class; /* classification: hard labels, or NULL */
    double **y_value;  /* regression: hard targets, or NULL */
} training_rows;

static gb_status grow(void **p, size_t n, size_t size)
{
    void *q = gb_realloc_array(*p, n, size);
    if (q == NULL)
        return GB_ENOMEM;
    *p = q;
    return GB_OK;
}

/* Draws MUNGE rows from the training rows, has the teacher label them, and
 * appends them to tr: their soft targets (at the run's temperature), their
 * hard label (the teacher's class; regression: its output) and design rows. */
static gb_status augment(const gb_distill_config *c, const gb_table *train,
                         const unsigned char *exclude, const gb_target *target,
                         const size_t *train_rows, size_t n_train,
                         const gb_feature *features, size_t n_features, size_t n_out,
                         const gb_progress *progress, training_rows *tr, size_t *n_aug,
                         gb_error *err)
{
    gb_status rc;
    gb_table *aug = NULL;
    size_t *rows = NULL;
    double *teacher_aug = NULL;
    gb_design *design = NULL;
    int by_position = 0;
    *n_aug = 0;
    gb_munge_params mp = {c->augment_multiplier, c->augment_p, c->augment_s, c->seed,
                          c->n_threads};
    rc = gb_munge_table(train, exclude, train_rows, n_train, &mp, progress, &aug, err);
    if (rc != GB_OK)
        return rc;
    size_t n = aug->n_rows, total = n_train + n;
    rows = gb_malloc_array(n, sizeof *rows);
    teacher_aug = gb_malloc_array(n * n_out, sizeof *teacher_aug);
    if (rows == NULL || teacher_aug == NULL)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        rows[i] = i;
    rc =
        teacher_outputs(c, aug, target, rows, n, n_out, teacher_aug, &by_position, err);
    if (rc != GB_OK)
        goto done;
    if (grow((void **)tr->X, total * n_features, sizeof **tr->X) != GB_OK ||
        grow((void **)tr->targets, total * n_out, sizeof **tr->targets) != GB_OK)
        goto nomem;
    double *targets = *tr->targets + n_train * n_out;
    if (tr->y_class != NULL) {
        if (grow((void **)tr->y_class, total, sizeof **tr->y_class) != GB_OK)
            goto nomem;
        rc = gb_soft_targets(teacher_aug, n, n_out, c->temperature, targets, err);
        if (rc != GB_OK)
            goto done;
        for (size_t i = 0; i < n; i++) {
            size_t best = 0;
            for (size_t k = 1; k < n_out; k++)
                if (teacher_aug[i * n_out + k] > teacher_aug[i * n_out + best])
                    best = k;
            (*tr->y_class)[n_train + i] = (int32_t)best;
        }
    } else {
        if (grow((void **)tr->y_value, total, sizeof **tr->y_value) != GB_OK)
            goto nomem;
        memcpy(targets, teacher_aug, n * sizeof *targets);
        memcpy(*tr->y_value + n_train, teacher_aug, n * sizeof *teacher_aug);
    }
    design = gb_design_bind(features, n_features, aug, err);
    if (design == NULL) {
        rc = err != NULL ? err->code : GB_EUNUSABLE;
        goto done;
    }
    gb_design_fill(design, NULL, 0, n, *tr->X + n_train * n_features);
    *n_aug = n;
    rc = GB_OK;
    goto done;
nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory augmenting the training rows");
done:
    gb_design_free(design);
    gb_free(teacher_aug);
    gb_free(rows);
    gb_table_free(aug);
    return rc;
}

/* ---- the run ---------------------------------------------------------------- */

gb_status gb_distill_run(const gb_distill_config *c, const gb_table *train,
                         const gb_table *test, const gb_progress *progress,
                         gb_distill_result *out, gb_error *err)
{
    gb_status rc;
    gb_target target, test_target;
    gb_split split = {0};
    size_t *train_rows = NULL, *test_rows = NULL;
    int32_t *y_test = NULL;
    double *y_test_value = NULL;
    double *teacher_train = NULL, *teacher_test = NULL, *soft = NULL;
    double *X_train = NULL;
    double *student_test = NULL, *baseline_test = NULL;
    int32_t *y_train = NULL;
    double *y_train_value = NULL;
    unsigned char *exclude = NULL;
    gb_feature *features = NULL;
    size_t n_features = 0;
    gb_design *design = NULL;
    gb_model *student = NULL, *baseline = NULL, *plain = NULL;
    double *plain_test = NULL;
    cJSON *report = NULL, *config = NULL, *artifact = NULL;
    int by_position = 0;
    double t_start = now_s(), t_teacher = 0, t_student = 0, t_baseline = 0;

    memset(out, 0, sizeof *out);
    memset(&target, 0, sizeof target);
    memset(&test_target, 0, sizeof test_target);
    rc = gb_distill_check(c, err);
    if (rc != GB_OK)
        return rc;
    if ((c->teacher != NULL) == (c->n_score_columns > 0))
        return bad_setting(err, "teacher",
                           "must be given exactly once: a model or score columns");
    if (c->augment_multiplier > 0 && c->teacher == NULL)
        return bad_setting(err, "augment",
                           "needs a teacher that can be queried: score columns "
                           "cannot label new rows");

    /* Target and rows. */
    gb_progress_report(progress, "split", 0.0);
    rc = gb_target_resolve(train, c->target, c->task, &target, err);
    if (rc != GB_OK)
        goto done;
    rc = gb_student_check(c->student_type, c->params, c->n_params, target.task, err);
    if (rc != GB_OK)
        goto done;
    int classify = target.task != GB_TASK_REGRESSION;
    size_t n_classes = classify ? target.n_classes : 0;
    size_t n_out = classify ? n_classes : 1;
    size_t n_train, n_test;
    if (test == NULL) {
        rc = gb_split_train_test(classify ? target.y_class : NULL, n_classes,
                                 train->n_rows, c->test_fraction, c->split_seed, &split,
                                 err);
        if (rc != GB_OK)
            goto done;
        train_rows = split.train;
        test_rows = split.test;
        n_train = split.n_train;
        n_test = split.n_test;
    } else {
        rc = gb_target_resolve(test, c->target, target.task, &test_target, err);
        if (rc != GB_OK)
            goto done;
        n_train = train->n_rows;
        n_test = test->n_rows;
        train_rows = gb_malloc_array(n_train + 1, sizeof *train_rows);
        test_rows = gb_malloc_array(n_test + 1, sizeof *test_rows);
        if (train_rows == NULL || test_rows == NULL)
            goto nomem;
        for (size_t i = 0; i < n_train; i++)
            train_rows[i] = i;
        for (size_t i = 0; i < n_test; i++)
            test_rows[i] = i;
    }
    if (n_train == 0 || n_test == 0) {
        rc = gb_error_set(
            err, GB_EUNUSABLE,
            "need at least one training and one test row (have %zu and %zu)", n_train,
            n_test);
        goto done;
    }

    /* Labels of the rows, in the training target's class order. */
    if (classify) {
        y_train = gb_malloc_array(n_train, sizeof *y_train);
        y_test = gb_malloc_array(n_test, sizeof *y_test);
        if (y_train == NULL || y_test == NULL)
            goto nomem;
        for (size_t i = 0; i < n_train; i++)
            y_train[i] = target.y_class[train_rows[i]];
        if (test == NULL) {
            for (size_t i = 0; i < n_test; i++)
                y_test[i] = target.y_class[test_rows[i]];
        } else {
            int32_t map[GB_MAX_CLASSES];
            for (size_t k = 0; k < test_target.n_classes; k++) {
                map[k] = -1;
                for (size_t j = 0; j < n_classes; j++)
                    if (strcmp(test_target.classes[k], target.classes[j]) == 0)
                        map[k] = (int32_t)j;
                if (map[k] < 0) {
                    rc = gb_error_set(
                        err, GB_EUNUSABLE,
                        "test class '%s' does not occur in the training data",
                        test_target.classes[k]);
                    gb_error_field(err, c->target);
                    goto done;
                }
            }
            for (size_t i = 0; i < n_test; i++)
                y_test[i] = map[test_target.y_class[i]];
        }
    } else {
        y_train_value = gb_malloc_array(n_train, sizeof *y_train_value);
        y_test_value = gb_malloc_array(n_test, sizeof *y_test_value);
        if (y_train_value == NULL || y_test_value == NULL)
            goto nomem;
        for (size_t i = 0; i < n_train; i++)
            y_train_value[i] = target.y_value[train_rows[i]];
        const gb_target *tt = test != NULL ? &test_target : &target;
        for (size_t i = 0; i < n_test; i++)
            y_test_value[i] = tt->y_value[test_rows[i]];
    }
    if (gb_progress_cancelled(progress))
        goto cancelled;

    /* Teacher scores on train and test rows. */
    gb_progress_report(progress, "teacher", 0.02);
    double t0 = now_s();
    teacher_train = gb_malloc_array(n_train * n_out, sizeof *teacher_train);
    teacher_test = gb_malloc_array(n_test * n_out, sizeof *teacher_test);
    if (teacher_train == NULL || teacher_test == NULL)
        goto nomem;
    rc = teacher_outputs(c, train, &target, train_rows, n_train, n_out, teacher_train,
                         &by_position, err);
    if (rc != GB_OK)
        goto done;
    if (test != NULL) {
        gb_target scores_target = target;
        scores_target.col = test_target.col;
        rc = teacher_outputs(c, test, &scores_target, test_rows, n_test, n_out,
                             teacher_test, &by_position, err);
    } else {
        rc = teacher_outputs(c, train, &target, test_rows, n_test, n_out, teacher_test,
                             &by_position, err);
    }
    if (rc != GB_OK)
        goto done;
    t_teacher = now_s() - t0;
    if (gb_progress_cancelled(progress))
        goto cancelled;

    /* Soft targets. */
    if (classify) {
        soft = gb_malloc_array(n_train * n_out, sizeof *soft);
        if (soft == NULL)
            goto nomem;
        rc = gb_soft_targets(teacher_train, n_train, n_classes, c->temperature, soft,
                             err);
        if (rc != GB_OK)
            goto done;
    }

    /* The students' design matrix: every column but the target and scores. */
    exclude = gb_calloc(train->n_cols, 1);
    if (exclude == NULL)
        goto nomem;
    exclude[target.col] = 1;
    for (size_t s = 0; s < c->n_score_columns; s++) {
        long col = gb_table_find(train, c->score_columns[s]);
        if (col >= 0)
            exclude[col] = 1;
    }
    rc = gb_features_from_table(train, exclude,
                                gb_student_wants_one_hot(c->student_type), &features,
                                &n_features, err);
    if (rc != GB_OK)
        goto done;
    if (n_features == 0) {
        rc = gb_error_set(err, GB_EUNUSABLE, "the dataset has no feature columns");
        goto done;
    }
    /* Only the training rows are materialised; test rows are scored
     * straight from the table in blocks (peak memory: one design matrix). */
    X_train = gb_malloc_array(n_train * n_features, sizeof *X_train);
    if (X_train == NULL)
        goto nomem;
    design = gb_design_bind(features, n_features, train, err);
    if (design == NULL) {
        rc = err != NULL ? err->code : GB_EUNUSABLE;
        goto done;
    }
    gb_design_fill(design, train_rows, 0, n_train, X_train);

    /* MUNGE rows, labelled by the teacher, appended for the distilled
     * student only. */
    size_t n_aug = 0;
    if (c->augment_multiplier > 0) {
        training_rows tr = {&X_train, classify ? &soft : &teacher_train,
                            classify ? &y_train : NULL,
                            classify ? NULL : &y_train_value};
        rc = augment(c, train, exclude, &target, train_rows, n_train, features,
                     n_features, n_out, progress, &tr, &n_aug, err);
        if (rc != GB_OK)
            goto done;
    }
    size_t n_fit = n_train + n_aug;

    /* Distilled student, then the baseline on hard labels. */
    gb_train_set ts = {
        .n_rows = n_fit,
        .n_features = n_features,
        .X = X_train,
        .features = features,
        .task = target.task,
        .n_classes = n_classes,
        .classes = target.classes,
        .y_class = y_train,
        .y_value = y_train_value,
        .soft = classify ? soft : teacher_train,
        .temperature = c->temperature,
        .alpha = c->alpha,
        .seed = c->seed,
        .n_threads = c->n_threads,
    };
    sub_progress sp;
    gb_progress p_student = sub_progress_make(&sp, progress, "student", 0.20, 0.55);
    t0 = now_s();
    rc = gb_student_fit(c->student_type, c->params, c->n_params, &ts,
                        progress != NULL ? &p_student : NULL, &student, err);
    if (rc != GB_OK)
        goto done;
    t_student = now_s() - t0;

    if (n_aug > 0) {
        /* The same student without the augmented rows (the first n_train
         * rows of every array), for comparison. */
        gb_train_set tn = ts;
        tn.n_rows = n_train;
        rc = gb_student_fit(c->student_type, c->params, c->n_params, &tn, NULL, &plain,
                            err);
        if (rc != GB_OK)
            goto done;
    }

    gb_train_set tb = ts;
    tb.n_rows = n_train;
    tb.soft = NULL;
    tb.alpha = 1.0;
    tb.temperature = 1.0;
    gb_progress p_baseline = sub_progress_make(&sp, progress, "baseline", 0.55, 0.90);
    t0 = now_s();
    rc = gb_student_fit(c->student_type, c->params, c->n_params, &tb,
                        progress != NULL ? &p_baseline : NULL, &baseline, err);
    if (rc != GB_OK)
        goto done;
    t_baseline = now_s() - t0;
    if (gb_progress_cancelled(progress))
        goto cancelled;

    /* Evaluation on the test rows. */
    gb_progress_report(progress, "evaluate", 0.90);
    student_test = gb_malloc_array(n_test * n_out, sizeof *student_test);
    baseline_test = gb_malloc_array(n_test * n_out, sizeof *baseline_test);
    if (student_test == NULL || baseline_test == NULL)
        goto nomem;
    const gb_table *test_table = test != NULL ? test : train;
    rc = score_rows(student, test_table, test_rows, n_test, c->n_threads, student_test,
                    err);
    if (rc == GB_OK)
        rc = score_rows(baseline, test_table, test_rows, n_test, c->n_threads,
                        baseline_test, err);
    if (rc != GB_OK)
        goto done;

    gb_metrics m_teacher, m_student, m_baseline;
    rc = gb_metrics_compute(target.task, n_test, n_classes, y_test, y_test_value,
                            teacher_test, &m_teacher, err);
    if (rc == GB_OK)
        rc = gb_metrics_compute(target.task, n_test, n_classes, y_test, y_test_value,
                                student_test, &m_student, err);
    if (rc == GB_OK)
        rc = gb_metrics_compute(target.task, n_test, n_classes, y_test, y_test_value,
                                baseline_test, &m_baseline, err);
    if (rc != GB_OK)
        goto done;
    gb_fidelity_params fp;
    gb_fidelity_params_default(&fp);
    fp.cutoff = c->cutoff;
    fp.n_bootstrap = c->n_bootstrap;
    fp.seed = c->seed;
    fp.n_threads = c->n_threads;
    gb_fidelity fidelity, fidelity_plain;
    rc = gb_fidelity_compute(target.task, n_test, n_classes, teacher_test, student_test,
                             y_test, &fp, &fidelity, err);
    if (rc != GB_OK)
        goto done;
    if (plain != NULL) {
        plain_test = gb_malloc_array(n_test * n_out, sizeof *plain_test);
        if (plain_test == NULL)
            goto nomem;
        rc = score_rows(plain, test_table, test_rows, n_test, c->n_threads, plain_test,
                        err);
        gb_fidelity_params fq = fp;
        fq.n_bootstrap = 0;
        if (rc == GB_OK)
            rc = gb_fidelity_compute(target.task, n_test, n_classes, teacher_test,
                                     plain_test, y_test, &fq, &fidelity_plain, err);
        if (rc != GB_OK)
            goto done;
    }

    /* The report. */
    config = config_json(c, target.task);
    artifact = student->ops->to_json != NULL ? student->ops->to_json(student) : NULL;
    report = cJSON_CreateObject();
    if (config == NULL || artifact == NULL || report == NULL)
        goto nomem;
    cJSON_AddStringToObject(report, "task", gb_task_name(target.task));
    if (classify)
        cJSON_AddItemToObject(report, "classes",
                              gb_json_string_array_create(target.classes, n_classes));
    else
        cJSON_AddNullToObject(report, "classes");
    cJSON *jsplit = cJSON_AddObjectToObject(report, "split");
    gb_json_add_number(jsplit, "train_rows", (double)n_train);
    gb_json_add_number(jsplit, "test_rows", (double)n_test);
    gb_json_add_number(jsplit, "seed", (double)c->split_seed);
    cJSON_AddStringToObject(jsplit, "method",
                            test != NULL ? "test_file"
                            : classify   ? "stratified"
                                         : "random");
    cJSON *jteacher = cJSON_AddObjectToObject(report, "teacher");
    cJSON_AddStringToObject(jteacher, "kind",
                            c->teacher != NULL ? c->teacher->ops->kind : "scores");
    cJSON_AddBoolToObject(jteacher, "queryable", c->teacher != NULL);
    if (classify && c->teacher != NULL)
        cJSON_AddStringToObject(jteacher, "class_mapping",
                                by_position ? "by_position" : "by_name");
    cJSON *jstudent = cJSON_AddObjectToObject(report, "student");
    cJSON_AddStringToObject(jstudent, "type", c->student_type);
    cJSON_AddItemToObject(jstudent, "params", params_json(c));
    gb_json_add_number(jstudent, "n_features", (double)n_features);
    cJSON *jdistill = cJSON_AddObjectToObject(report, "distill");
    gb_json_add_number(jdistill, "temperature", c->temperature);
    gb_json_add_number(jdistill, "alpha", c->alpha);
    if (plain != NULL) {
        cJSON *jaug = cJSON_AddObjectToObject(report, "augmentation");
        cJSON_AddStringToObject(jaug, "method", "munge");
        gb_json_add_number(jaug, "multiplier", (double)c->augment_multiplier);
        gb_json_add_number(jaug, "p", c->augment_p);
        gb_json_add_number(jaug, "s", c->augment_s);
        gb_json_add_number(jaug, "rows_added", (double)n_aug);
        cJSON *with = cJSON_AddObjectToObject(jaug, "fidelity_with");
        gb_json_add_number(with, "agreement", fidelity.agreement);
        gb_json_add_number(with, "r2", fidelity.r2);
        cJSON *without = cJSON_AddObjectToObject(jaug, "fidelity_without");
        gb_json_add_number(without, "agreement", fidelity_plain.agreement);
        gb_json_add_number(without, "r2", fidelity_plain.r2);
    }
    cJSON *jmetrics = cJSON_AddObjectToObject(report, "metrics");
    cJSON_AddItemToObject(jmetrics, "teacher", gb_metrics_to_json(&m_teacher));
    cJSON_AddItemToObject(jmetrics, "student", gb_metrics_to_json(&m_student));
    cJSON_AddItemToObject(jmetrics, "baseline", gb_metrics_to_json(&m_baseline));
    cJSON_AddItemToObject(report, "fidelity", gb_fidelity_to_json(&fidelity));
    cJSON *complexity = cJSON_GetObjectItemCaseSensitive(artifact, "complexity");
    cJSON_AddItemToObject(report, "complexity",
                          complexity != NULL ? cJSON_Duplicate(complexity, 1)
                                             : cJSON_CreateObject());
    cJSON *jhashes = cJSON_AddObjectToObject(report, "hashes");
    char hex[GB_SHA256_HEX_BYTES];
    if (c->dataset_sha256 != NULL)
        cJSON_AddStringToObject(jhashes, "dataset", c->dataset_sha256);
    else
        cJSON_AddNullToObject(jhashes, "dataset");
    if (c->test_sha256 != NULL)
        cJSON_AddStringToObject(jhashes, "test_dataset", c->test_sha256);
    if (c->teacher_sha256 != NULL)
        cJSON_AddStringToObject(jhashes, "teacher", c->teacher_sha256);
    else
        cJSON_AddNullToObject(jhashes, "teacher");
    hash_json(config, hex);
    cJSON_AddStringToObject(jhashes, "config", hex);
    hash_json(artifact, hex);
    cJSON_AddStringToObject(jhashes, "student", hex);
    cJSON_AddStringToObject(report, "version", GB_VERSION);
    cJSON *jtimings = cJSON_AddObjectToObject(report, "timings");
    gb_json_add_number(jtimings, "teacher_predict_s", t_teacher);
    gb_json_add_number(jtimings, "student_fit_s", t_student);
    gb_json_add_number(jtimings, "baseline_fit_s", t_baseline);
    gb_json_add_number(jtimings, "explain_s", 0.0);
    gb_json_add_number(jtimings, "total_s", now_s() - t_start);
    gb_progress_report(progress, "done", 1.0);

    out->report = report;
    out->config = config;
    out->student = student;
    out->baseline = baseline;
    report = NULL;
    config = NULL;
    student = NULL;
    baseline = NULL;
    rc = GB_OK;
    goto done;

cancelled:
    rc = gb_error_set(err, GB_ECANCELLED, "the run was cancelled");
    goto done;
nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory in the distillation run");
done:
    cJSON_Delete(artifact);
    cJSON_Delete(report);
    cJSON_Delete(config);
    gb_model_free(student);
    gb_model_free(baseline);
    gb_model_free(plain);
    gb_free(plain_test);
    gb_design_free(design);
    gb_features_free(features, n_features);
    gb_free(exclude);
    gb_free(X_train);
    gb_free(student_test);
    gb_free(baseline_test);
    gb_free(soft);
    gb_free(teacher_train);
    gb_free(teacher_test);
    gb_free(y_train);
    gb_free(y_test);
    gb_free(y_train_value);
    gb_free(y_test_value);
    if (test == NULL) {
        gb_split_free(&split);
    } else {
        gb_free(train_rows);
        gb_free(test_rows);
    }
    gb_target_free(&target);
    gb_target_free(&test_target);
    return rc;
}
