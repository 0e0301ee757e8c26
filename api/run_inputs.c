/*
 * run_inputs.c - the dataset, target and teachers of a distillation run,
 * loaded from the store and checked against each other.
 * Layer: api.
 */
#include "api/run_inputs.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/model/teachers/ensemble.h"
#include "core/model/teachers/load.h"
#include "core/model/teachers/scores.h"
#include "storage/blobs.h"
#include "storage/teachers.h"

/* Every feature of m the table cannot provide, as a JSON array. */
static cJSON *missing_features(const gb_model *m, const gb_table *table)
{
    cJSON *names = cJSON_CreateArray();
    for (size_t j = 0; names != NULL && j < m->n_features; j++) {
        gb_error e;
        gb_error_clear(&e);
        gb_design *d = gb_design_bind(&m->features[j], 1, table, &e);
        if (d == NULL)
            cJSON_AddItemToArray(names, cJSON_CreateString(m->features[j].name));
        gb_design_free(d);
    }
    return names;
}

static gb_status check_task(const gb_model *m, const gb_target *target, gb_error *err)
{
    gb_status rc = GB_OK;
    if ((m->task == GB_TASK_REGRESSION) != (target->task == GB_TASK_REGRESSION))
        rc = gb_error_set(err, GB_EUNUSABLE,
                          "the teacher is a %s model but the dataset's target is %s",
                          gb_task_name(m->task), gb_task_name(target->task));
    else if (target->task != GB_TASK_REGRESSION && m->n_classes != target->n_classes)
        rc = gb_error_set(err, GB_EUNUSABLE,
                          "the teacher predicts %zu classes but the target has %zu",
                          m->n_classes, target->n_classes);
    if (rc != GB_OK)
        gb_error_field(err, "teacher");
    return rc;
}

static gb_status load_teachers(st_db *db, const char *data_dir, const api_run_config *c,
                               api_run_inputs *in, gb_error *err)
{
    gb_model *members[API_RUN_MAX_TEACHERS] = {0};
    gb_sha256 h;
    uint8_t digest[GB_SHA256_DIGEST_BYTES];
    gb_status rc = GB_OK;
    gb_sha256_init(&h);
    for (size_t i = 0; i < c->n_teachers && rc == GB_OK; i++) {
        st_teacher t;
        char path[PATH_MAX], field[48];
        memset(&t, 0, sizeof t);
        if (c->n_teachers == 1)
            snprintf(field, sizeof field, "teacher.id");
        else
            snprintf(field, sizeof field, "teacher.ids[%zu]", i);
        rc = st_teacher_get(db, c->teacher_ids[i], &t, err);
        if (rc == GB_ENOTFOUND) {
            gb_error_set(err, GB_ENOTFOUND, "no teacher with id '%s'",
                         c->teacher_ids[i]);
            gb_error_field(err, field);
        }
        if (rc == GB_OK)
            rc = st_blob_path(data_dir, t.sha256, path, sizeof path, err);
        if (rc == GB_OK) {
            gb_teacher_options opts = {in->table};
            rc = gb_teacher_load_file_opts(path, &opts, &members[i], err);
            if (rc == GB_OK && c->n_teachers == 1 && !c->have_weights)
                memcpy(in->teacher_sha256, t.sha256, GB_SHA256_HEX_BYTES);
            gb_sha256_update(&h, t.sha256, strlen(t.sha256));
        }
        if (rc == GB_OK &&
            gb_model_check_features(members[i], in->table, err) != GB_OK) {
            rc = GB_EUNUSABLE;
            in->missing = missing_features(members[i], in->table);
            if (in->missing != NULL && cJSON_GetArraySize(in->missing) == 0) {
                cJSON_Delete(in->missing);
                in->missing = NULL;
            }
        }
        if (rc == GB_OK)
            rc = check_task(members[i], &in->target, err);
        st_teacher_clear(&t);
    }
    if (rc == GB_OK && c->n_teachers == 1 && !c->have_weights) {
        in->teacher = members[0];
        return GB_OK;
    }
    if (rc == GB_OK) {
        if (c->have_weights)
            for (size_t i = 0; i < c->n_teachers; i++) {
                char w[40];
                snprintf(w, sizeof w, ",%.17g", c->weights[i]);
                gb_sha256_update(&h, w, strlen(w));
            }
        rc = gb_ensemble_create(members, c->have_weights ? c->weights : NULL,
                                c->n_teachers, GB_ENSEMBLE_ARITHMETIC, &in->teacher,
                                err);
        if (rc == GB_EUNUSABLE && err->field[0] == '\0')
            gb_error_field(err, "teacher.ids");
    }
    if (rc == GB_OK) {
        gb_sha256_final(&h, digest);
        gb_sha256_hex(digest, in->teacher_sha256);
        return GB_OK;
    }
    for (size_t i = 0; i < c->n_teachers; i++)
        gb_model_free(members[i]);
    return rc;
}

gb_status api_run_inputs_load(st_db *db, const char *data_dir, const api_run_config *c,
                              api_run_inputs *in, gb_error *err)
{
    char path[PATH_MAX];
    gb_task task = GB_TASK_AUTO;
    gb_status rc;
    memset(in, 0, sizeof *in);
    rc = st_dataset_get(db, c->dataset_id, &in->dataset, err);
    if (rc == GB_ENOTFOUND) {
        gb_error_set(err, GB_ENOTFOUND, "no dataset with id '%s'", c->dataset_id);
        gb_error_field(err, "dataset_id");
    }
    if (rc == GB_OK)
        rc = st_blob_path(data_dir, in->dataset.sha256, path, sizeof path, err);
    if (rc == GB_OK)
        rc = gb_csv_read_file(path, NULL, &in->table, err);
    if (rc == GB_OK)
        rc = gb_task_parse(in->dataset.task, &task, err);
    if (rc == GB_OK) {
        rc = gb_target_resolve(in->table, in->dataset.target, task, &in->target, err);
        in->have_target = rc == GB_OK;
    }
    if (rc != GB_OK)
        return rc;
    if (c->n_teachers > 0)
        return load_teachers(db, data_dir, c, in, err);
    double *scores = NULL;
    size_t n_outputs = 0;
    rc = gb_scores_read(in->table, &in->target, c->score_columns, c->n_scores, &scores,
                        &n_outputs, err);
    gb_free(scores);
    if (rc != GB_OK && err->field[0] != '\0') {
        /* keep the column name, say where it came from */
        char message[sizeof err->message + 32];
        snprintf(message, sizeof message, "teacher.scores: %s", err->message);
        message[sizeof err->message - 1] = '\0';
        memcpy(err->message, message, sizeof err->message);
    }
    return rc;
}

void api_run_inputs_clear(api_run_inputs *in)
{
    if (in == NULL)
        return;
    gb_model_free(in->teacher);
    if (in->have_target)
        gb_target_free(&in->target);
    gb_table_free(in->table);
    st_dataset_clear(&in->dataset);
    cJSON_Delete(in->missing);
    memset(in, 0, sizeof *in);
}
