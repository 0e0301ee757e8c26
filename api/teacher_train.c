/*
 * teacher_train.c - POST /api/v1/teachers/train (queues a teacher-training
 * run) and the run function that trains it.
 * Layer: api.
 *
 * Body: {"name","dataset_id","kind":"mlp","hidden":[64,64],"epochs":200,
 * "seed":0} plus optional activation, batch_size, learning_rate, dropout,
 * weight_decay, validation_fraction, patience (core/model/teachers/mlp.h
 * documents each and its default).  Everything is validated before the
 * run is queued.  The run trains on every non-target column of the dataset
 * (categoricals one-hot, missing values imputed with training means) and
 * stores the result as a glassbox-mlp teacher.
 */
#include "api/api.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/data/table.h"
#include "core/model/teachers/load.h"
#include "core/model/teachers/mlp.h"
#include "storage/blobs.h"
#include "storage/datasets.h"
#include "storage/teachers.h"

#define TRAIN_NAME_MAX 200

static const char *const number_params[] = {
    "epochs",       "batch_size",          "learning_rate", "dropout",
    "weight_decay", "validation_fraction", "patience"};

static void field_error(api_response *resp, int status, const char *field,
                        const char *message)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "field", field);
    api_error(resp, status, status == 404 ? "not_found" : "invalid_field", details,
              "%s", message);
}

/* The "hidden" member as "64,64" ("" for no hidden layer).  -1 on error. */
static int hidden_text(const cJSON *hidden, char *out, size_t cap)
{
    out[0] = '\0';
    if (cJSON_IsString(hidden)) {
        snprintf(out, cap, "%s", hidden->valuestring);
        return 0;
    }
    if (!cJSON_IsArray(hidden))
        return -1;
    const cJSON *width;
    size_t used = 0;
    cJSON_ArrayForEach(width, hidden)
    {
        if (!cJSON_IsNumber(width) || width->valuedouble != floor(width->valuedouble) ||
            width->valuedouble < 1 || width->valuedouble > 1e6)
            return -1;
        int n = snprintf(out + used, cap - used, "%s%.0f", used ? "," : "",
                         width->valuedouble);
        if (n < 0 || (size_t)n >= cap - used)
            return -1;
        used += (size_t)n;
    }
    return 0;
}

void api_teachers_train(const api_request *req, api_response *resp)
{
    cJSON *body = api_body_object(req, resp), *config = NULL, *params_json = NULL;
    char *config_text = NULL;
    st_dataset ds;
    gb_error err;
    memset(&ds, 0, sizeof ds);
    gb_error_clear(&err);
    if (body == NULL)
        return;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    const cJSON *dataset_id = cJSON_GetObjectItemCaseSensitive(body, "dataset_id");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(body, "kind");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(body, "seed");
    if (api_check_name(cJSON_IsString(name) ? name->valuestring : NULL, "name",
                       TRAIN_NAME_MAX, resp) != 0)
        goto done;
    if (kind != NULL &&
        !(cJSON_IsString(kind) && strcmp(kind->valuestring, "mlp") == 0)) {
        field_error(resp, 422, "kind",
                    "kind must be \"mlp\" (the teacher trained in service)");
        goto done;
    }
    if (seed != NULL && (!cJSON_IsNumber(seed) || seed->valuedouble < 0 ||
                         seed->valuedouble != floor(seed->valuedouble) ||
                         seed->valuedouble > 9007199254740992.0)) {
        field_error(resp, 422, "seed", "seed must be a non-negative integer");
        goto done;
    }
    if (!cJSON_IsString(dataset_id)) {
        field_error(resp, 422, "dataset_id", "dataset_id is required");
        goto done;
    }
    if (st_dataset_get(req->db, dataset_id->valuestring, &ds, &err) != GB_OK) {
        if (err.code == GB_ENOTFOUND)
            field_error(resp, 404, "dataset_id", err.message);
        else
            api_error_from(resp, &err);
        goto done;
    }

    /* Parameters as text, validated by the trainer's own parser. */
    gb_mlp_train_params params;
    gb_mlp_train_params_default(&params);
    params_json = cJSON_CreateObject();
    const cJSON *hidden = cJSON_GetObjectItemCaseSensitive(body, "hidden");
    char text[256];
    if (hidden != NULL) {
        if (hidden_text(hidden, text, sizeof text) != 0 ||
            gb_mlp_train_param_set(&params, "hidden", text, &err) != GB_OK) {
            field_error(resp, 422, "hidden",
                        err.message[0]
                            ? err.message
                            : "hidden must be a list of positive layer widths");
            goto done;
        }
        cJSON_AddStringToObject(params_json, "hidden", text);
    }
    const cJSON *activation = cJSON_GetObjectItemCaseSensitive(body, "activation");
    if (activation != NULL) {
        if (!cJSON_IsString(activation) ||
            gb_mlp_train_param_set(&params, "activation", activation->valuestring,
                                   &err) != GB_OK) {
            field_error(resp, 422, "activation",
                        err.message[0] ? err.message : "activation must be a string");
            goto done;
        }
        cJSON_AddStringToObject(params_json, "activation", activation->valuestring);
    }
    for (size_t i = 0; i < sizeof number_params / sizeof number_params[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, number_params[i]);
        if (v == NULL)
            continue;
        gb_error_clear(&err);
        if (cJSON_IsNumber(v))
            snprintf(text, sizeof text, "%.17g", v->valuedouble);
        if (!cJSON_IsNumber(v) ||
            gb_mlp_train_param_set(&params, number_params[i], text, &err) != GB_OK) {
            field_error(resp, 422, number_params[i],
                        err.message[0] ? err.message : "must be a number");
            goto done;
        }
        cJSON_AddStringToObject(params_json, number_params[i], text);
    }
    if (gb_mlp_train_params_check(&params, &err) != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }

    config = cJSON_CreateObject();
    if (config == NULL)
        goto oom;
    cJSON_AddStringToObject(config, "name", name->valuestring);
    cJSON_AddStringToObject(config, "dataset_id", ds.id);
    cJSON_AddStringToObject(config, "kind", "mlp");
    cJSON_AddNumberToObject(config, "seed", seed != NULL ? seed->valuedouble : 0);
    cJSON_AddItemToObject(config, "params", params_json);
    params_json = NULL;
    config_text = gb_json_print(config, 0);
    if (config_text == NULL)
        goto oom;

    st_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.kind, sizeof run.kind, "teacher_train");
    snprintf(run.dataset_id, sizeof run.dataset_id, "%s", ds.id);
    snprintf(run.created_by, sizeof run.created_by, "%s", api_actor(req));
    run.config_json = config_text;
    st_audit_entry audit = {api_actor(req), "teacher.train", NULL, config_text};
    int full = 0;
    gb_status status = req->env->run_enqueue != NULL
                           ? req->env->run_enqueue(req->env->hooks_ctx, req->db, &run,
                                                   &audit, &full, &err)
                           : st_run_enqueue(req->db, &run, 0, &audit, &full, &err);
    run.config_json = NULL;
    if (status != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    if (full) {
        api_error(resp, 503, "queue_full", NULL,
                  "the run queue is full; retry when queued runs have started");
        goto done;
    }
    cJSON *out = cJSON_CreateObject();
    if (out != NULL) {
        cJSON_AddStringToObject(out, "id", run.id);
        cJSON_AddStringToObject(out, "kind", "teacher_train");
        cJSON_AddStringToObject(out, "status", "queued");
    }
    api_json(resp, 202, out);
    goto done;
oom:
    api_error(resp, 500, "out_of_memory", NULL, "out of memory queueing the run");
done:
    st_dataset_clear(&ds);
    cJSON_Delete(params_json);
    cJSON_Delete(config);
    cJSON_Delete(body);
    gb_free(config_text);
}

/* ---- the run
 * ---------------------------------------------------------------------------- */

gb_status api_run_teacher_train(st_db *db, const char *data_dir, const st_run *run,
                                const gb_progress *progress, char **report_json,
                                gb_error *err)
{
    cJSON *config = NULL, *summary = NULL, *report = NULL, *artifact = NULL;
    char *model_text = NULL, *summary_text = NULL, *details_text = NULL;
    gb_table *table = NULL;
    gb_target target;
    gb_model *model = NULL;
    st_blob_writer *blob = NULL;
    st_dataset ds;
    st_teacher teacher;
    char path[PATH_MAX], sha[65], details[256];
    int have_target = 0;
    gb_task task = GB_TASK_AUTO;
    gb_mlp_train_params params;
    gb_status rc;
    *report_json = NULL;
    memset(&target, 0, sizeof target);
    memset(&ds, 0, sizeof ds);
    memset(&teacher, 0, sizeof teacher);

    const char *text = run->config_json != NULL ? run->config_json : "";
    config = gb_json_parse(text, strlen(text), err);
    if (config == NULL)
        return GB_EINPUT;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(config, "name");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(config, "seed");
    const cJSON *params_json = cJSON_GetObjectItemCaseSensitive(config, "params");
    gb_mlp_train_params_default(&params);
    rc = cJSON_IsString(name)
             ? GB_OK
             : gb_error_set(err, GB_EINPUT, "run configuration has no name");
    const cJSON *param;
    cJSON_ArrayForEach(param, params_json)
    {
        if (rc == GB_OK && cJSON_IsString(param))
            rc =
                gb_mlp_train_param_set(&params, param->string, param->valuestring, err);
    }
    gb_progress_report(progress, "load", 0.0);
    if (rc == GB_OK)
        rc = st_dataset_get(db, run->dataset_id, &ds, err);
    if (rc == GB_OK)
        rc = st_blob_path(data_dir, ds.sha256, path, sizeof path, err);
    if (rc == GB_OK)
        rc = gb_csv_read_file(path, NULL, &table, err);
    if (rc == GB_OK)
        rc = gb_task_parse(ds.task, &task, err);
    if (rc == GB_OK) {
        rc = gb_target_resolve(table, ds.target, task, &target, err);
        have_target = rc == GB_OK;
    }
    if (rc == GB_OK && gb_progress_cancelled(progress))
        rc = gb_error_set(err, GB_ECANCELLED, "cancelled");
    if (rc == GB_OK)
        rc = gb_mlp_train_table(table, &target, &params,
                                cJSON_IsNumber(seed) ? (uint64_t)seed->valuedouble : 0,
                                progress, &model, err);
    if (rc != GB_OK)
        goto done;

    gb_progress_report(progress, "store", 0.95);
    artifact = gb_mlp_to_json(model);
    model_text = artifact != NULL ? gb_json_print(artifact, 0) : NULL;
    if (model_text == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory writing the model");
        goto done;
    }
    rc = st_blob_writer_open(data_dir, &blob, err);
    if (rc == GB_OK)
        rc = st_blob_writer_write(blob, model_text, strlen(model_text), err);
    if (rc == GB_OK) {
        rc = st_blob_writer_commit(blob, sha, err);
        blob = NULL;
    }
    if (rc != GB_OK)
        goto done;
    summary = api_teacher_summary(model, name->valuestring,
                                  gb_model_format_name(GB_FORMAT_GLASSBOX_MLP), sha);
    if (summary != NULL)
        cJSON_AddStringToObject(summary, "trained_by_run", run->id);
    summary_text = summary != NULL ? gb_json_print(summary, 0) : NULL;
    snprintf(details, sizeof details, "{\"run_id\":\"%s\",\"dataset_id\":\"%s\"}",
             run->id, ds.id);
    details_text = gb_strdup(details);
    if (summary_text == NULL || details_text == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory storing the teacher");
        goto done;
    }
    snprintf(teacher.name, sizeof teacher.name, "%s", name->valuestring);
    snprintf(teacher.kind, sizeof teacher.kind, "%s", model->ops->kind);
    snprintf(teacher.sha256, sizeof teacher.sha256, "%s", sha);
    snprintf(teacher.task, sizeof teacher.task, "%s", gb_task_name(model->task));
    snprintf(teacher.created_by, sizeof teacher.created_by, "%s", run->created_by);
    teacher.size_bytes = (long long)strlen(model_text);
    teacher.summary_json = summary_text;
    st_audit_entry audit = {"system", "teacher.create", NULL, details_text};
    rc = st_teacher_insert(db, &teacher, &audit, err);
    teacher.summary_json = NULL;
    if (rc != GB_OK)
        goto done;

    report = cJSON_CreateObject();
    if (report != NULL) {
        cJSON_AddStringToObject(report, "teacher_id", teacher.id);
        cJSON_AddNumberToObject(report, "rows", (double)table->n_rows);
        cJSON_AddNumberToObject(report, "features", (double)model->n_features);
        cJSON_AddNumberToObject(report, "epochs_run", (double)gb_mlp_epochs_run(model));
    }
    *report_json = report != NULL ? gb_json_print(report, 0) : NULL;
    if (*report_json == NULL)
        rc = gb_error_set(err, GB_ENOMEM, "out of memory writing the report");
done:
    st_blob_writer_abort(blob);
    cJSON_Delete(report);
    cJSON_Delete(summary);
    cJSON_Delete(artifact);
    cJSON_Delete(config);
    gb_free(model_text);
    gb_free(summary_text);
    gb_free(details_text);
    gb_model_free(model);
    if (have_target)
        gb_target_free(&target);
    gb_table_free(table);
    st_dataset_clear(&ds);
    st_teacher_clear(&teacher);
    return rc;
}
