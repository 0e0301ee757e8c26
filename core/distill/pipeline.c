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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/data/encode.h"
#include "core/data/split.h"
#include "core/distill/fidelity.h"
#include "core/distill/munge.h"
#include "core/math/metrics.h"
#include "core/distill/soft.h"
#include "core/model/students/sbdt.h"
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
    c->search_validation_fraction = 0.2;
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
    if (c->n_search_temperatures > GB_SEARCH_MAX || c->n_search_alphas > GB_SEARCH_MAX)
        return bad_setting(err, "search", "lists at most 8 values per setting");
    for (size_t i = 0; i < c->n_search_temperatures; i++)
        if (!(c->search_temperatures[i] > 0.0) || !isfinite(c->search_temperatures[i]))
            return bad_setting(err, "search.temperatures",
                               "must be finite numbers > 0");
    for (size_t i = 0; i < c->n_search_alphas; i++)
        if (!(c->search_alphas[i] >= 0.0 && c->search_alphas[i] <= 1.0))
            return bad_setting(err, "search.alphas", "must be in [0, 1]");
    if (!(c->search_validation_fraction > 0.0 && c->search_validation_fraction < 1.0))
        return bad_setting(err, "search.validation_fraction", "must be in (0, 1)");
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
    if (c->n_search_temperatures > 0 || c->n_search_alphas > 0 || c->search_augment) {
        cJSON *search = cJSON_AddObjectToObject(distill, "search");
        cJSON_AddItemToObject(search, "temperatures",
                              gb_json_number_array_create(c->search_temperatures,
                                                          c->n_search_temperatures));
        cJSON_AddItemToObject(
            search, "alphas",
            gb_json_number_array_create(c->search_alphas, c->n_search_alphas));
        cJSON_AddBoolToObject(search, "augment", c->search_augment);
        gb_json_add_number(search, "validation_fraction",
                           c->search_validation_fraction);
    }
    cJSON *split = cJSON_AddObjectToObject(root, "split");
    if (c->test_sha256 == NULL)
        gb_json_add_number(split, "test_fraction", c->test_fraction);
    gb_json_add_number(split, "seed", (double)c->split_seed);
    cJSON *fid = cJSON_AddObjectToObject(root, "fidelity");
    gb_json_add_number(fid, "cutoff", c->cutoff);
    gb_json_add_number(fid, "bootstrap", (double)c->n_bootstrap);
    cJSON_AddBoolToObject(root, "frontier", c->frontier);
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

/* ---- the run context ------------------------------------------------------- */

/* Everything prepared once per run and shared by every fit of it. */
typedef struct run {
    const gb_distill_config *c;
    const gb_table *train, *test_table;
    gb_target target, test_target;
    int classify;
    size_t n_classes, n_out;
    gb_split split;
    size_t *train_rows, *test_rows; /* table row indices */
    size_t n_train, n_test;
    int32_t *y_train, *y_test;
    double *y_train_value, *y_test_value;
    double *teacher_train, *teacher_test; /* n x n_out */
    unsigned char *exclude;               /* target and score columns */
    gb_feature *features;
    size_t n_features;
    double *X_train; /* n_train x n_features */
    int by_position;
    /* The training table when the run may drop its rows once X_train is
     * built (gb_distill_run_releasing, nothing later reading training rows
     * from the table); NULL otherwise. */
    gb_table *releasable;
    size_t *compact_rows;       /* 0..n_test-1 once the table is compacted */
    const size_t *test_row_ids; /* the dataset's numbers of the test rows */
} run;

static void run_free(run *r, int own_rows)
{
    gb_free(r->X_train);
    gb_free(r->compact_rows);
    gb_features_free(r->features, r->n_features);
    gb_free(r->exclude);
    gb_free(r->teacher_train);
    gb_free(r->teacher_test);
    gb_free(r->y_train);
    gb_free(r->y_test);
    gb_free(r->y_train_value);
    gb_free(r->y_test_value);
    if (own_rows) {
        gb_free(r->train_rows);
        if (r->test_rows != r->compact_rows)
            gb_free(r->test_rows);
    } else {
        gb_split_free(&r->split);
    }
    gb_target_free(&r->target);
    gb_target_free(&r->test_target);
}

/* Writes the design rows of the training rows in table rows [lo, hi) as
 * gb_table_keep_rows hands the blocks over (from the table's end; the
 * training rows are ascending). */
typedef struct fill_job {
    const gb_design *design;
    const size_t *rows; /* training rows, ascending */
    size_t at;          /* rows[at..) are filled */
    size_t n_features;
    double *X;
} fill_job;

static void fill_block_cb(void *ctx, const gb_table *table, size_t lo, size_t hi)
{
    fill_job *job = ctx;
    (void)table;
    (void)hi;
    size_t end = job->at;
    while (job->at > 0 && job->rows[job->at - 1] >= lo)
        job->at--;
    gb_design_fill(job->design, job->rows + job->at, 0, end - job->at,
                   job->X + job->at * job->n_features);
}

/* Table rows handed over per block while compacting (a few MB of columns). */
#define RELEASE_BLOCK 65536

/* Fills X_train from the releasable training table while dropping every
 * table row but the test rows (split) or all of them (separate test table):
 * the table's memory goes back block by block as X_train fills, so the two
 * are never held in full at once.  Afterwards the test rows are rows
 * 0..n_test-1 of the compacted table (r->test_rows), and r->test_row_ids
 * keeps their numbers in the dataset for the report. */
static gb_status fill_releasing(run *r, const gb_design *design, gb_error *err)
{
    int split = r->test_table == r->releasable;
    size_t n_keep = split ? r->n_test : 0;
    if (split) {
        r->compact_rows = gb_malloc_array(n_keep, sizeof *r->compact_rows);
        if (r->compact_rows == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory preparing the run");
        for (size_t i = 0; i < n_keep; i++)
            r->compact_rows[i] = i;
    }
    fill_job job = {design, r->train_rows, r->n_train, r->n_features, r->X_train};
    gb_status rc = gb_table_keep_rows(r->releasable, split ? r->test_rows : NULL,
                                      n_keep, RELEASE_BLOCK, fill_block_cb, &job, err);
    if (rc != GB_OK)
        return rc;
    if (split) {
        r->test_row_ids = r->test_rows;
        r->test_rows = r->compact_rows;
    }
    /* The resolved target's per-row labels index the rows just dropped. */
    gb_free(r->target.y_class);
    gb_free(r->target.y_value);
    r->target.y_class = NULL;
    r->target.y_value = NULL;
    return GB_OK;
}

/* Target, rows, labels, teacher outputs, the students' design matrix. */
static gb_status run_prepare(run *r, const gb_table *train, const gb_table *test,
                             const gb_progress *progress, double *t_teacher,
                             gb_error *err)
{
    const gb_distill_config *c = r->c;
    gb_status rc;
    gb_design *design = NULL;
    r->train = train;
    r->test_table = test != NULL ? test : train;

    gb_progress_report(progress, "split", 0.0);
    rc = gb_target_resolve(train, c->target, c->task, &r->target, err);
    if (rc != GB_OK)
        return rc;
    rc = gb_student_check(c->student_type, c->params, c->n_params, r->target.task, err);
    if (rc != GB_OK)
        return rc;
    r->classify = r->target.task != GB_TASK_REGRESSION;
    r->n_classes = r->classify ? r->target.n_classes : 0;
    r->n_out = r->classify ? r->n_classes : 1;
    if (test == NULL) {
        rc = gb_split_train_test(r->classify ? r->target.y_class : NULL, r->n_classes,
                                 train->n_rows, c->test_fraction, c->split_seed,
                                 &r->split, err);
        if (rc != GB_OK)
            return rc;
        r->train_rows = r->split.train;
        r->test_rows = r->split.test;
        r->n_train = r->split.n_train;
        r->n_test = r->split.n_test;
    } else {
        rc = gb_target_resolve(test, c->target, r->target.task, &r->test_target, err);
        if (rc != GB_OK)
            return rc;
        r->n_train = train->n_rows;
        r->n_test = test->n_rows;
        r->train_rows = gb_malloc_array(r->n_train + 1, sizeof *r->train_rows);
        r->test_rows = gb_malloc_array(r->n_test + 1, sizeof *r->test_rows);
        if (r->train_rows == NULL || r->test_rows == NULL)
            goto nomem;
        for (size_t i = 0; i < r->n_train; i++)
            r->train_rows[i] = i;
        for (size_t i = 0; i < r->n_test; i++)
            r->test_rows[i] = i;
    }
    if (r->n_train == 0 || r->n_test == 0)
        return gb_error_set(err, GB_EUNUSABLE,
                            "need at least one training and one test row (have %zu "
                            "and %zu)",
                            r->n_train, r->n_test);

    /* Labels in the training target's class order. */
    if (r->classify) {
        r->y_train = gb_malloc_array(r->n_train, sizeof *r->y_train);
        r->y_test = gb_malloc_array(r->n_test, sizeof *r->y_test);
        if (r->y_train == NULL || r->y_test == NULL)
            goto nomem;
        for (size_t i = 0; i < r->n_train; i++)
            r->y_train[i] = r->target.y_class[r->train_rows[i]];
        if (test == NULL) {
            for (size_t i = 0; i < r->n_test; i++)
                r->y_test[i] = r->target.y_class[r->test_rows[i]];
        } else {
            int32_t map[GB_MAX_CLASSES];
            for (size_t k = 0; k < r->test_target.n_classes; k++) {
                map[k] = -1;
                for (size_t j = 0; j < r->n_classes; j++)
                    if (strcmp(r->test_target.classes[k], r->target.classes[j]) == 0)
                        map[k] = (int32_t)j;
                if (map[k] < 0) {
                    gb_error_set(err, GB_EUNUSABLE,
                                 "test class '%s' does not occur in the training data",
                                 r->test_target.classes[k]);
                    gb_error_field(err, c->target);
                    return GB_EUNUSABLE;
                }
            }
            for (size_t i = 0; i < r->n_test; i++)
                r->y_test[i] = map[r->test_target.y_class[i]];
        }
    } else {
        r->y_train_value = gb_malloc_array(r->n_train, sizeof *r->y_train_value);
        r->y_test_value = gb_malloc_array(r->n_test, sizeof *r->y_test_value);
        if (r->y_train_value == NULL || r->y_test_value == NULL)
            goto nomem;
        for (size_t i = 0; i < r->n_train; i++)
            r->y_train_value[i] = r->target.y_value[r->train_rows[i]];
        const gb_target *tt = test != NULL ? &r->test_target : &r->target;
        for (size_t i = 0; i < r->n_test; i++)
            r->y_test_value[i] = tt->y_value[r->test_rows[i]];
    }
    if (gb_progress_cancelled(progress))
        return gb_error_set(err, GB_ECANCELLED, "the run was cancelled");

    /* Teacher outputs on train and test rows. */
    gb_progress_report(progress, "teacher", 0.02);
    double t0 = now_s();
    r->teacher_train = gb_malloc_array(r->n_train * r->n_out, sizeof *r->teacher_train);
    r->teacher_test = gb_malloc_array(r->n_test * r->n_out, sizeof *r->teacher_test);
    if (r->teacher_train == NULL || r->teacher_test == NULL)
        goto nomem;
    rc = teacher_outputs(c, train, &r->target, r->train_rows, r->n_train, r->n_out,
                         r->teacher_train, &r->by_position, err);
    if (rc != GB_OK)
        return rc;
    gb_target scores_target = r->target;
    if (test != NULL)
        scores_target.col = r->test_target.col;
    rc = teacher_outputs(c, r->test_table, &scores_target, r->test_rows, r->n_test,
                         r->n_out, r->teacher_test, &r->by_position, err);
    if (rc != GB_OK)
        return rc;
    *t_teacher = now_s() - t0;
    if (gb_progress_cancelled(progress))
        return gb_error_set(err, GB_ECANCELLED, "the run was cancelled");

    /* The students' design matrix: every column but the target and scores.
     * Only training rows are materialised; test rows are scored from the
     * table in blocks. */
    r->exclude = gb_calloc(train->n_cols, 1);
    if (r->exclude == NULL)
        goto nomem;
    r->exclude[r->target.col] = 1;
    for (size_t s = 0; s < c->n_score_columns; s++) {
        long col = gb_table_find(train, c->score_columns[s]);
        if (col >= 0)
            r->exclude[col] = 1;
    }
    rc = gb_features_from_table(train, r->exclude,
                                gb_student_wants_one_hot(c->student_type), &r->features,
                                &r->n_features, err);
    if (rc != GB_OK)
        return rc;
    if (r->n_features == 0)
        return gb_error_set(err, GB_EUNUSABLE, "the dataset has no feature columns");
    r->X_train = gb_malloc_array(r->n_train * r->n_features, sizeof *r->X_train);
    if (r->X_train == NULL)
        goto nomem;
    design = gb_design_bind(r->features, r->n_features, train, err);
    if (design == NULL)
        return err != NULL ? err->code : GB_EUNUSABLE;
    rc = GB_OK;
    if (r->releasable != NULL)
        rc = fill_releasing(r, design, err);
    else
        gb_design_fill(design, r->train_rows, 0, r->n_train, r->X_train);
    gb_design_free(design);
    return rc;
nomem:
    return gb_error_set(err, GB_ENOMEM, "out of memory preparing the run");
}

/* How one student is trained. */
typedef struct fit_spec {
    double temperature, alpha;
    int soft;             /* 0: hard labels only (the baseline) */
    int augment;          /* add MUNGE rows (needs a queryable teacher) */
    const size_t *subset; /* positions into the training arrays, or NULL = all */
    size_t n_subset;
    const gb_param *params; /* student parameters */
    size_t n_params;
} fit_spec;

/* Trains one student per spec.  *out owned by the caller; *n_aug receives
 * the number of augmented rows used (may be NULL). */
static gb_status fit_one(const run *r, const fit_spec *f, const gb_progress *progress,
                         gb_model **out, size_t *n_aug_out, gb_error *err)
{
    const gb_distill_config *c = r->c;
    gb_status rc = GB_OK;
    size_t n = f->subset != NULL ? f->n_subset : r->n_train;
    size_t nf = r->n_features, n_out = r->n_out, n_aug = 0;
    double *X = NULL, *targets = NULL, *y_value = NULL;
    int32_t *y_class = NULL;
    size_t *table_rows = NULL;
    *out = NULL;

    /* Copies of the rows this fit uses (only when they differ from the
     * run's arrays: a subset, soft targets at T, or augmentation). */
    int copy_rows = f->subset != NULL || f->augment;
    const double *Xs = r->X_train;
    if (copy_rows) {
        X = gb_malloc_array(n * nf, sizeof *X);
        table_rows = gb_malloc_array(n, sizeof *table_rows);
        if (X == NULL || table_rows == NULL)
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            size_t at = f->subset != NULL ? f->subset[i] : i;
            memcpy(X + i * nf, r->X_train + at * nf, nf * sizeof *X);
            table_rows[i] = r->train_rows[at];
        }
        Xs = X;
    }
    if (r->classify) {
        y_class = gb_malloc_array(n, sizeof *y_class);
        if (y_class == NULL)
            goto nomem;
        for (size_t i = 0; i < n; i++)
            y_class[i] = r->y_train[f->subset != NULL ? f->subset[i] : i];
    } else {
        y_value = gb_malloc_array(n, sizeof *y_value);
        if (y_value == NULL)
            goto nomem;
        for (size_t i = 0; i < n; i++)
            y_value[i] = r->y_train_value[f->subset != NULL ? f->subset[i] : i];
    }
    if (f->soft) {
        targets = gb_malloc_array(n * n_out, sizeof *targets);
        if (targets == NULL)
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            size_t at = f->subset != NULL ? f->subset[i] : i;
            memcpy(targets + i * n_out, r->teacher_train + at * n_out,
                   n_out * sizeof *targets);
        }
        if (r->classify) {
            rc = gb_soft_targets(targets, n, n_out, f->temperature, targets, err);
            if (rc != GB_OK)
                goto done;
        }
    }
    if (f->augment) {
        training_rows tr = {&X, &targets, r->classify ? &y_class : NULL,
                            r->classify ? NULL : &y_value};
        gb_distill_config ca = *c;
        ca.temperature = f->temperature;
        rc = augment(&ca, r->train, r->exclude, &r->target, table_rows, n, r->features,
                     nf, n_out, progress, &tr, &n_aug, err);
        if (rc != GB_OK)
            goto done;
        Xs = X;
    }
    gb_train_set ts = {
        .n_rows = n + n_aug,
        .n_features = nf,
        .X = Xs,
        .features = r->features,
        .task = r->target.task,
        .n_classes = r->n_classes,
        .classes = r->target.classes,
        .y_class = y_class,
        .y_value = y_value,
        .soft = f->soft ? targets : NULL,
        .temperature = f->soft ? f->temperature : 1.0,
        .alpha = f->soft ? f->alpha : 1.0,
        .seed = c->seed,
        .n_threads = c->n_threads,
    };
    rc = gb_student_fit(c->student_type, f->params, f->n_params, &ts, progress, out,
                        err);
    if (n_aug_out != NULL)
        *n_aug_out = n_aug;
    goto done;
nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory preparing a student's rows");
done:
    gb_free(X);
    gb_free(table_rows);
    gb_free(targets);
    gb_free(y_class);
    gb_free(y_value);
    return rc;
}

/* The student's fidelity score used to compare settings: agreement for
 * classification, r2 for regression. */
static double fidelity_score(const gb_fidelity *f, gb_task task)
{
    return task == GB_TASK_REGRESSION ? f->r2 : f->agreement;
}

/* ---- settings search ---------------------------------------------------------- */

typedef struct candidate {
    double temperature, alpha;
    int augment;
    double score;
} candidate;

static gb_status run_search(const run *r, const gb_progress *progress, candidate *cands,
                            size_t *n_cands, size_t *best, gb_error *err)
{
    const gb_distill_config *c = r->c;
    gb_status rc;
    gb_split inner = {0};
    size_t *val_table_rows = NULL;
    double *teacher_val = NULL, *student_val = NULL;
    gb_model *m = NULL;

    size_t nt = c->n_search_temperatures ? c->n_search_temperatures : 1;
    size_t na = c->n_search_alphas ? c->n_search_alphas : 1;
    size_t ng = c->search_augment ? 2 : 1;
    *n_cands = 0;
    for (size_t g = 0; g < ng; g++)
        for (size_t i = 0; i < nt; i++)
            for (size_t j = 0; j < na; j++) {
                candidate *k = &cands[(*n_cands)++];
                k->temperature = c->n_search_temperatures ? c->search_temperatures[i]
                                                          : c->temperature;
                k->alpha = c->n_search_alphas ? c->search_alphas[j] : c->alpha;
                k->augment = c->search_augment ? (int)g : c->augment_multiplier > 0;
                k->score = NAN;
            }
    rc = gb_split_train_test(r->classify ? r->y_train : NULL, r->n_classes, r->n_train,
                             c->search_validation_fraction, c->split_seed + 1, &inner,
                             err);
    if (rc != GB_OK)
        return rc;
    val_table_rows = gb_malloc_array(inner.n_test, sizeof *val_table_rows);
    teacher_val = gb_malloc_array(inner.n_test * r->n_out, sizeof *teacher_val);
    student_val = gb_malloc_array(inner.n_test * r->n_out, sizeof *student_val);
    if (val_table_rows == NULL || teacher_val == NULL || student_val == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory in the settings search");
        goto done;
    }
    for (size_t i = 0; i < inner.n_test; i++) {
        val_table_rows[i] = r->train_rows[inner.test[i]];
        memcpy(teacher_val + i * r->n_out, r->teacher_train + inner.test[i] * r->n_out,
               r->n_out * sizeof *teacher_val);
    }
    *best = 0;
    for (size_t k = 0; k < *n_cands; k++) {
        gb_progress_report(progress, "search", (double)k / (double)*n_cands);
        if (gb_progress_cancelled(progress)) {
            rc = gb_error_set(err, GB_ECANCELLED, "the run was cancelled");
            goto done;
        }
        fit_spec f = {cands[k].temperature, cands[k].alpha, 1,         cands[k].augment,
                      inner.train,          inner.n_train,  c->params, c->n_params};
        rc = fit_one(r, &f, NULL, &m, NULL, err);
        if (rc == GB_OK)
            rc = score_rows(m, r->train, val_table_rows, inner.n_test, c->n_threads,
                            student_val, err);
        gb_fidelity fv;
        gb_fidelity_params fp;
        gb_fidelity_params_default(&fp);
        fp.n_bootstrap = 0;
        fp.cutoff = c->cutoff;
        if (rc == GB_OK)
            rc = gb_fidelity_compute(r->target.task, inner.n_test, r->n_classes,
                                     teacher_val, student_val, NULL, &fp, &fv, err);
        gb_model_free(m);
        m = NULL;
        if (rc != GB_OK)
            goto done;
        cands[k].score = fidelity_score(&fv, r->target.task);
        /* strictly better wins: ties keep the earlier candidate */
        if (cands[k].score > cands[*best].score || isnan(cands[*best].score))
            *best = k;
    }
done:
    gb_model_free(m);
    gb_free(val_table_rows);
    gb_free(teacher_val);
    gb_free(student_val);
    gb_split_free(&inner);
    return rc;
}

/* ---- fidelity/complexity frontier ----------------------------------------------- */

#define FRONTIER_MAX 12

/* The parameter values the frontier walks for this student type, from
 * simple to complex, as text; returns the count and the parameter key. */
static size_t frontier_steps(const gb_distill_config *c, const char **key,
                             char values[FRONTIER_MAX][24])
{
    const char *type = c->student_type;
    const char *configured = NULL;
    size_t n = 0;
    if (strcmp(type, "tree") == 0 || strcmp(type, "sbdt") == 0) {
        *key = "max_depth";
        long max = strcmp(type, "tree") == 0 ? 6 : 4;
        for (size_t i = 0; i < c->n_params; i++)
            if (strcmp(c->params[i].key, "max_depth") == 0)
                configured = c->params[i].value;
        if (configured != NULL)
            max = strtol(configured, NULL, 10);
        if (max > 10)
            max = 10;
        for (long d = 1; d <= max && n < FRONTIER_MAX; d++)
            snprintf(values[n++], 24, "%ld", d);
    } else if (strcmp(type, "logistic") == 0 || strcmp(type, "linear") == 0) {
        static const char *l1[] = {"0.3",   "0.1",    "0.03",   "0.01", "0.003",
                                   "0.001", "0.0003", "0.0001", "0"};
        *key = "l1";
        for (size_t i = 0; i < sizeof l1 / sizeof l1[0]; i++)
            snprintf(values[n++], 24, "%s", l1[i]);
    } else if (strcmp(type, "gam") == 0) {
        static const char *rounds[] = {"10", "30", "100", "300", "1000", "3000"};
        *key = "rounds";
        for (size_t i = 0; i < sizeof rounds / sizeof rounds[0]; i++)
            snprintf(values[n++], 24, "%s", rounds[i]);
    }
    return n;
}

/* A single number for a student's size, from its artifact's complexity:
 * leaves (tree, SBDT), nonzero coefficients (linear), boosting rounds used
 * (GAM: the frontier walks its rounds). */
static double complexity_number(const cJSON *complexity)
{
    static const char *keys[] = {"leaves", "nonzero_coefs", "rounds_used", "terms"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(complexity, keys[i]);
        if (cJSON_IsNumber(v))
            return v->valuedouble;
    }
    return NAN;
}

static gb_status run_frontier(const run *r, double temperature, double alpha,
                              const gb_progress *progress, cJSON *out, gb_error *err)
{
    const gb_distill_config *c = r->c;
    gb_status rc = GB_OK;
    const char *key = NULL;
    char values[FRONTIER_MAX][24];
    size_t n_steps = frontier_steps(c, &key, values);
    gb_param *params = gb_malloc_array(c->n_params + 1, sizeof *params);
    double *pred = gb_malloc_array(r->n_test * r->n_out, sizeof *pred);
    if (params == NULL || pred == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory in the frontier");
        goto done;
    }
    for (size_t s = 0; s < n_steps; s++) {
        gb_progress_report(progress, "frontier", (double)s / (double)n_steps);
        if (gb_progress_cancelled(progress)) {
            rc = gb_error_set(err, GB_ECANCELLED, "the run was cancelled");
            goto done;
        }
        size_t np = 0;
        for (size_t i = 0; i < c->n_params; i++)
            if (strcmp(c->params[i].key, key) != 0)
                params[np++] = c->params[i];
        params[np].key = key;
        params[np].value = values[s];
        np++;
        fit_spec f = {temperature, alpha, 1, 0, NULL, 0, params, np};
        gb_model *m = NULL;
        rc = fit_one(r, &f, NULL, &m, NULL, err);
        if (rc == GB_OK)
            rc = score_rows(m, r->test_table, r->test_rows, r->n_test, c->n_threads,
                            pred, err);
        gb_fidelity fid;
        gb_metrics met;
        gb_fidelity_params fp;
        gb_fidelity_params_default(&fp);
        fp.n_bootstrap = 0;
        fp.cutoff = c->cutoff;
        if (rc == GB_OK)
            rc = gb_fidelity_compute(r->target.task, r->n_test, r->n_classes,
                                     r->teacher_test, pred, NULL, &fp, &fid, err);
        if (rc == GB_OK)
            rc = gb_metrics_compute(r->target.task, r->n_test, r->n_classes, r->y_test,
                                    r->y_test_value, pred, &met, err);
        cJSON *artifact = rc == GB_OK ? m->ops->to_json(m) : NULL;
        gb_model_free(m);
        if (rc != GB_OK)
            goto done;
        cJSON *point = cJSON_CreateObject();
        if (artifact == NULL || point == NULL) {
            cJSON_Delete(artifact);
            cJSON_Delete(point);
            rc = gb_error_set(err, GB_ENOMEM, "out of memory in the frontier");
            goto done;
        }
        cJSON_AddItemToArray(out, point);
        cJSON *setting = cJSON_AddObjectToObject(point, "setting");
        cJSON_AddStringToObject(setting, key, values[s]);
        const cJSON *cx = cJSON_GetObjectItemCaseSensitive(artifact, "complexity");
        gb_json_add_number(point, "complexity", complexity_number(cx));
        cJSON_AddItemToObject(point, "complexity_detail",
                              cx != NULL ? cJSON_Duplicate(cx, 1)
                                         : cJSON_CreateObject());
        gb_json_add_number(point, "fidelity", fidelity_score(&fid, r->target.task));
        gb_json_add_number(point, "auc", r->classify ? met.auc : met.r2);
        cJSON_Delete(artifact);
    }
done:
    gb_free(params);
    gb_free(pred);
    return rc;
}

/* ---- SBDT mixture ------------------------------------------------------------- */

/* An SBDT predicts with its most probable leaf (the readable rule); the
 * report also gives the metrics of its mixture prediction.  *out receives
 * them for the test rows; GB_OK with *has = 0 for other students. */
static gb_status mixture_metrics(const run *r, const gb_model *m, gb_metrics *out,
                                 int *has, gb_error *err)
{
    *has = 0;
    if (!gb_sbdt_is_model(m))
        return GB_OK;
    gb_status rc = GB_OK;
    gb_design *design = gb_design_bind(m->features, m->n_features, r->test_table, err);
    double *X = gb_malloc_array(GB_PREDICT_BLOCK * m->n_features, sizeof *X);
    double *pred = gb_malloc_array(r->n_test * m->n_outputs, sizeof *pred);
    if (design == NULL) {
        rc = err != NULL ? err->code : GB_EUNUSABLE;
        goto done;
    }
    if (X == NULL || pred == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory scoring the SBDT mixture");
        goto done;
    }
    for (size_t start = 0; start < r->n_test && rc == GB_OK;
         start += GB_PREDICT_BLOCK) {
        size_t n =
            r->n_test - start < GB_PREDICT_BLOCK ? r->n_test - start : GB_PREDICT_BLOCK;
        gb_design_fill(design, r->test_rows + start, 0, n, X);
        rc = gb_sbdt_predict_mixture(m, X, n, pred + start * m->n_outputs, err);
    }
    if (rc == GB_OK)
        rc = gb_metrics_compute(r->target.task, r->n_test, r->n_classes, r->y_test,
                                r->y_test_value, pred, out, err);
    if (rc == GB_OK)
        *has = 1;
done:
    gb_design_free(design);
    gb_free(X);
    gb_free(pred);
    return rc;
}

/* ---- ROC curves ---------------------------------------------------------------- */

#define ROC_POINTS 101

/* Binary: {"teacher"|"student"|"baseline": {"fpr":[..],"tpr":[..]}} on the
 * test rows, at most ROC_POINTS points each; NULL (no block) otherwise or
 * when the test rows hold one class only. */
static gb_status roc_json(const run *r, const double *const outputs[3], cJSON **out,
                          gb_error *err)
{
    static const char *names[3] = {"teacher", "student", "baseline"};
    *out = NULL;
    if (r->target.task != GB_TASK_BINARY)
        return GB_OK;
    double *score = gb_malloc_array(r->n_test, sizeof *score);
    cJSON *roc = cJSON_CreateObject();
    gb_status rc = GB_OK;
    if (score == NULL || roc == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory computing ROC curves");
        goto done;
    }
    for (int m = 0; m < 3; m++) {
        for (size_t i = 0; i < r->n_test; i++)
            score[i] = outputs[m][i * 2 + 1];
        double *fpr = NULL, *tpr = NULL;
        size_t n = 0;
        gb_error e2;
        rc = gb_metric_roc_curve(r->y_test, 1, score, r->n_test, ROC_POINTS, &fpr, &tpr,
                                 &n, &e2);
        if (rc == GB_EUNUSABLE) { /* one class only: no curves */
            rc = GB_OK;
            cJSON_Delete(roc);
            roc = NULL;
            goto done;
        }
        if (rc != GB_OK) {
            if (err != NULL)
                *err = e2;
            goto done;
        }
        cJSON *curve = cJSON_AddObjectToObject(roc, names[m]);
        cJSON_AddItemToObject(curve, "fpr", gb_json_number_array_create(fpr, n));
        cJSON_AddItemToObject(curve, "tpr", gb_json_number_array_create(tpr, n));
        gb_free(fpr);
        gb_free(tpr);
    }
done:
    gb_free(score);
    if (rc != GB_OK) {
        cJSON_Delete(roc);
        roc = NULL;
    }
    *out = roc;
    return rc;
}

/* ---- the run ----------------------------------------------------------------- */

static gb_status distill_run(const gb_distill_config *c, const gb_table *train,
                             gb_table *releasable, const gb_table *test,
                             const gb_progress *progress, gb_distill_result *out,
                             gb_error *err);

gb_status gb_distill_run(const gb_distill_config *c, const gb_table *train,
                         const gb_table *test, const gb_progress *progress,
                         gb_distill_result *out, gb_error *err)
{
    return distill_run(c, train, NULL, test, progress, out, err);
}

gb_status gb_distill_run_releasing(const gb_distill_config *c, gb_table *train,
                                   const gb_table *test, const gb_progress *progress,
                                   gb_distill_result *out, gb_error *err)
{
    return distill_run(c, train, train, test, progress, out, err);
}

static gb_status distill_run(const gb_distill_config *c, const gb_table *train,
                             gb_table *releasable, const gb_table *test,
                             const gb_progress *progress, gb_distill_result *out,
                             gb_error *err)
{
    gb_status rc;
    run r;
    gb_model *student = NULL, *baseline = NULL, *plain = NULL;
    double *student_test = NULL, *baseline_test = NULL, *plain_test = NULL;
    cJSON *report = NULL, *config = NULL, *artifact = NULL, *explanations = NULL;
    cJSON *frontier = NULL, *roc = NULL;
    candidate cands[2 * GB_SEARCH_MAX * GB_SEARCH_MAX];
    size_t n_cands = 0, best = 0, n_aug = 0;
    double t_start = now_s(), t_teacher = 0, t_student = 0, t_baseline = 0;
    double t_explain = 0;

    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    r.c = c;
    rc = gb_distill_check(c, err);
    if (rc != GB_OK)
        return rc;
    if ((c->teacher != NULL) == (c->n_score_columns > 0))
        return bad_setting(err, "teacher",
                           "must be given exactly once: a model or score columns");
    if ((c->augment_multiplier > 0 || c->search_augment) && c->teacher == NULL)
        return bad_setting(err, "augment",
                           "needs a teacher that can be queried: score columns "
                           "cannot label new rows");
    if (c->search_augment && c->augment_multiplier == 0)
        return bad_setting(err, "search.augment",
                           "needs an augmentation setting (multiplier) to try");

    /* Only the settings search and augmentation read training rows from the
     * table after the design matrix is built. */
    if (c->augment_multiplier == 0 && c->n_search_temperatures == 0 &&
        c->n_search_alphas == 0 && !c->search_augment)
        r.releasable = releasable;
    rc = run_prepare(&r, train, test, progress, &t_teacher, err);
    if (rc != GB_OK)
        goto done;

    /* Settings: the given ones, or the search's winner. */
    double temperature = c->temperature, alpha = c->alpha;
    int use_augment = c->augment_multiplier > 0;
    int searching =
        c->n_search_temperatures > 0 || c->n_search_alphas > 0 || c->search_augment;
    sub_progress sp;
    if (searching) {
        gb_progress ps = sub_progress_make(&sp, progress, "search", 0.10, 0.30);
        rc = run_search(&r, progress != NULL ? &ps : NULL, cands, &n_cands, &best, err);
        if (rc != GB_OK)
            goto done;
        temperature = cands[best].temperature;
        alpha = cands[best].alpha;
        use_augment = cands[best].augment;
    }

    /* Distilled student, the same without augmentation, the baseline. */
    fit_spec fs = {temperature, alpha, 1, use_augment, NULL, 0, c->params, c->n_params};
    gb_progress p_student = sub_progress_make(&sp, progress, "student", 0.30, 0.55);
    double t0 = now_s();
    rc = fit_one(&r, &fs, progress != NULL ? &p_student : NULL, &student, &n_aug, err);
    if (rc != GB_OK)
        goto done;
    t_student = now_s() - t0;
    if (use_augment) {
        fit_spec fn = fs;
        fn.augment = 0;
        rc = fit_one(&r, &fn, NULL, &plain, NULL, err);
        if (rc != GB_OK)
            goto done;
    }
    fit_spec fb = {1.0, 1.0, 0, 0, NULL, 0, c->params, c->n_params};
    gb_progress p_baseline = sub_progress_make(&sp, progress, "baseline", 0.55, 0.75);
    t0 = now_s();
    rc = fit_one(&r, &fb, progress != NULL ? &p_baseline : NULL, &baseline, NULL, err);
    if (rc != GB_OK)
        goto done;
    t_baseline = now_s() - t0;
    if (gb_progress_cancelled(progress))
        goto cancelled;

    /* Evaluation on the test rows. */
    gb_progress_report(progress, "evaluate", 0.75);
    size_t n_test = r.n_test, n_out = r.n_out;
    student_test = gb_malloc_array(n_test * n_out, sizeof *student_test);
    baseline_test = gb_malloc_array(n_test * n_out, sizeof *baseline_test);
    if (student_test == NULL || baseline_test == NULL)
        goto nomem;
    rc = score_rows(student, r.test_table, r.test_rows, n_test, c->n_threads,
                    student_test, err);
    if (rc == GB_OK)
        rc = score_rows(baseline, r.test_table, r.test_rows, n_test, c->n_threads,
                        baseline_test, err);
    if (rc != GB_OK)
        goto done;
    gb_metrics m_teacher, m_student, m_baseline;
    rc = gb_metrics_compute(r.target.task, n_test, r.n_classes, r.y_test,
                            r.y_test_value, r.teacher_test, &m_teacher, err);
    if (rc == GB_OK)
        rc = gb_metrics_compute(r.target.task, n_test, r.n_classes, r.y_test,
                                r.y_test_value, student_test, &m_student, err);
    if (rc == GB_OK)
        rc = gb_metrics_compute(r.target.task, n_test, r.n_classes, r.y_test,
                                r.y_test_value, baseline_test, &m_baseline, err);
    if (rc != GB_OK)
        goto done;
    gb_metrics m_student_mix, m_baseline_mix;
    int has_mixture = 0;
    rc = mixture_metrics(&r, student, &m_student_mix, &has_mixture, err);
    if (rc == GB_OK && has_mixture)
        rc = mixture_metrics(&r, baseline, &m_baseline_mix, &has_mixture, err);
    if (rc != GB_OK)
        goto done;
    gb_fidelity_params fp;
    gb_fidelity_params_default(&fp);
    fp.cutoff = c->cutoff;
    fp.n_bootstrap = c->n_bootstrap;
    fp.seed = c->seed;
    fp.n_threads = c->n_threads;
    gb_fidelity fidelity, fidelity_plain;
    rc = gb_fidelity_compute(r.target.task, n_test, r.n_classes, r.teacher_test,
                             student_test, r.y_test, &fp, &fidelity, err);
    if (rc != GB_OK)
        goto done;
    if (plain != NULL) {
        plain_test = gb_malloc_array(n_test * n_out, sizeof *plain_test);
        if (plain_test == NULL)
            goto nomem;
        rc = score_rows(plain, r.test_table, r.test_rows, n_test, c->n_threads,
                        plain_test, err);
        gb_fidelity_params fq = fp;
        fq.n_bootstrap = 0;
        if (rc == GB_OK)
            rc = gb_fidelity_compute(r.target.task, n_test, r.n_classes, r.teacher_test,
                                     plain_test, r.y_test, &fq, &fidelity_plain, err);
        if (rc != GB_OK)
            goto done;
    }

    const double *const outputs[3] = {r.teacher_test, student_test, baseline_test};
    rc = roc_json(&r, outputs, &roc, err);
    if (rc != GB_OK)
        goto done;

    /* Frontier and explanations. */
    if (c->frontier) {
        frontier = cJSON_CreateArray();
        if (frontier == NULL)
            goto nomem;
        gb_progress pf = sub_progress_make(&sp, progress, "frontier", 0.78, 0.88);
        rc = run_frontier(&r, temperature, alpha, progress != NULL ? &pf : NULL,
                          frontier, err);
        if (rc != GB_OK)
            goto done;
    }
    if (c->explain_cb != NULL) {
        gb_progress_report(progress, "explain", 0.88);
        t0 = now_s();
        gb_explain_input in = {
            c->teacher, student,        baseline, r.test_table, r.test_rows,
            n_test,     r.teacher_test, c->seed,  c->n_threads, r.test_row_ids};
        rc = c->explain_cb(c->explain_ctx, &in, &explanations, err);
        if (rc != GB_OK)
            goto done;
        t_explain = now_s() - t0;
    }
    if (gb_progress_cancelled(progress))
        goto cancelled;

    /* The report. */
    config = config_json(c, r.target.task);
    artifact = student->ops->to_json != NULL ? student->ops->to_json(student) : NULL;
    report = cJSON_CreateObject();
    if (config == NULL || artifact == NULL || report == NULL)
        goto nomem;
    cJSON_AddStringToObject(report, "task", gb_task_name(r.target.task));
    if (r.classify)
        cJSON_AddItemToObject(
            report, "classes",
            gb_json_string_array_create(r.target.classes, r.n_classes));
    else
        cJSON_AddNullToObject(report, "classes");
    cJSON *jsplit = cJSON_AddObjectToObject(report, "split");
    gb_json_add_number(jsplit, "train_rows", (double)r.n_train);
    gb_json_add_number(jsplit, "test_rows", (double)n_test);
    gb_json_add_number(jsplit, "seed", (double)c->split_seed);
    cJSON_AddStringToObject(jsplit, "method",
                            test != NULL ? "test_file"
                            : r.classify ? "stratified"
                                         : "random");
    cJSON *jteacher = cJSON_AddObjectToObject(report, "teacher");
    cJSON_AddStringToObject(jteacher, "kind",
                            c->teacher != NULL ? c->teacher->ops->kind : "scores");
    cJSON_AddBoolToObject(jteacher, "queryable", c->teacher != NULL);
    if (r.classify && c->teacher != NULL)
        cJSON_AddStringToObject(jteacher, "class_mapping",
                                r.by_position ? "by_position" : "by_name");
    cJSON *jstudent = cJSON_AddObjectToObject(report, "student");
    cJSON_AddStringToObject(jstudent, "type", c->student_type);
    cJSON_AddItemToObject(jstudent, "params", params_json(c));
    gb_json_add_number(jstudent, "n_features", (double)r.n_features);
    cJSON *jdistill = cJSON_AddObjectToObject(report, "distill");
    gb_json_add_number(jdistill, "temperature", temperature);
    gb_json_add_number(jdistill, "alpha", alpha);
    if (searching) {
        cJSON *jsearch = cJSON_AddObjectToObject(report, "search");
        gb_json_add_number(jsearch, "validation_fraction",
                           c->search_validation_fraction);
        cJSON_AddStringToObject(jsearch, "criterion",
                                r.classify ? "validation agreement with the teacher"
                                           : "validation r2 against the teacher");
        cJSON *jc = cJSON_AddArrayToObject(jsearch, "candidates");
        for (size_t k = 0; k < n_cands; k++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToArray(jc, o);
            gb_json_add_number(o, "temperature", cands[k].temperature);
            gb_json_add_number(o, "alpha", cands[k].alpha);
            cJSON_AddBoolToObject(o, "augment", cands[k].augment);
            gb_json_add_number(o, "validation_fidelity", cands[k].score);
            cJSON_AddBoolToObject(o, "chosen", k == best);
        }
    }
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
    if (has_mixture) {
        cJSON_AddItemToObject(jmetrics, "student_mixture",
                              gb_metrics_to_json(&m_student_mix));
        cJSON_AddItemToObject(jmetrics, "baseline_mixture",
                              gb_metrics_to_json(&m_baseline_mix));
    }
    cJSON_AddItemToObject(report, "fidelity", gb_fidelity_to_json(&fidelity));
    if (roc != NULL) {
        cJSON_AddItemToObject(report, "roc", roc);
        roc = NULL;
    }
    cJSON *complexity = cJSON_GetObjectItemCaseSensitive(artifact, "complexity");
    cJSON_AddItemToObject(report, "complexity",
                          complexity != NULL ? cJSON_Duplicate(complexity, 1)
                                             : cJSON_CreateObject());
    if (explanations != NULL) {
        cJSON_AddItemToObject(report, "explanations", explanations);
        explanations = NULL;
    }
    if (frontier != NULL) {
        cJSON_AddItemToObject(report, "frontier", frontier);
        frontier = NULL;
    }
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
    gb_json_add_number(jtimings, "explain_s", t_explain);
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
    cJSON_Delete(explanations);
    cJSON_Delete(frontier);
    cJSON_Delete(roc);
    gb_model_free(student);
    gb_model_free(baseline);
    gb_model_free(plain);
    gb_free(student_test);
    gb_free(baseline_test);
    gb_free(plain_test);
    run_free(&r, test != NULL);
    return rc;
}
