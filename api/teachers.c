/*
 * teachers.c - POST /api/v1/teachers (streamed model file, format detected,
 * optional check against scores the bank supplied), GET list, GET one,
 * DELETE.
 * Layer: api.
 *
 * The body is written to a temporary blob as it arrives and kept in memory
 * (model loaders need the whole file; the size is capped by
 * --max-upload-mb and GB_TEACHER_MAX_BYTES).  The file is loaded before
 * anything is stored: a file that does not load stores nothing.
 *
 * ?check_dataset=ID&check_scores=COL[,COL]: the teacher re-scores that
 * dataset and the answer carries "check": {"dataset_id","columns","rows",
 * "max_abs_diff","mean_abs_diff","worst_line"} comparing its outputs with
 * the supplied score columns (one column = P(class 1) for binary, else one
 * per class in class order, or the regression output).
 */
#include "api/api.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/data/table.h"
#include "core/model/model.h"
#include "core/model/teachers/load.h"
#include "core/model/teachers/scores.h"
#include "storage/blobs.h"
#include "storage/datasets.h"
#include "storage/teachers.h"

#define TEACHER_NAME_MAX 200
#define CHECK_MAX_COLUMNS GB_MAX_CLASSES

typedef struct teacher_upload {
    char name[ST_NAME_LEN];
    st_blob_writer *blob;
    char *bytes;
    size_t n_bytes;
    size_t cap;
    size_t limit;
} teacher_upload;

/* ---- rendering ---------------------------------------------------------------------
 */

cJSON *api_teacher_summary(const gb_model *m, const char *name, const char *format,
                           const char *sha256)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    cJSON_AddStringToObject(obj, "name", name);
    cJSON_AddStringToObject(obj, "kind", m->ops->kind);
    cJSON_AddStringToObject(obj, "format", format);
    cJSON_AddStringToObject(obj, "sha256", sha256);
    cJSON_AddStringToObject(obj, "task", gb_task_name(m->task));
    cJSON *features = cJSON_AddArrayToObject(obj, "features");
    for (size_t j = 0; features != NULL && j < m->n_features; j++)
        cJSON_AddItemToArray(features, cJSON_CreateString(m->features[j].name));
    cJSON_AddItemToObject(obj, "classes",
                          gb_json_string_array_create(m->classes, m->n_classes));
    return obj;
}

/* Sets key to value in place (keeps member order) or appends it. */
static void set_item(cJSON *obj, const char *key, cJSON *value)
{
    if (value == NULL)
        return;
    if (cJSON_GetObjectItemCaseSensitive(obj, key) == NULL)
        cJSON_AddItemToObject(obj, key, value);
    else if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value))
        cJSON_Delete(value);
}

static cJSON *teacher_json(const st_teacher *t)
{
    const char *text = t->summary_json != NULL ? t->summary_json : "{}";
    cJSON *summary = gb_json_parse(text, strlen(text), NULL);
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL) {
        cJSON_Delete(summary);
        return NULL;
    }
    cJSON_AddStringToObject(obj, "id", t->id);
    while (summary != NULL && cJSON_IsObject(summary) && summary->child != NULL) {
        cJSON *item = cJSON_DetachItemViaPointer(summary, summary->child);
        cJSON_AddItemToObject(obj, item->string, item);
    }
    cJSON_Delete(summary);
    set_item(obj, "name", cJSON_CreateString(t->name));
    set_item(obj, "kind", cJSON_CreateString(t->kind));
    set_item(obj, "sha256", cJSON_CreateString(t->sha256));
    set_item(obj, "task", cJSON_CreateString(t->task));
    set_item(obj, "created_at", cJSON_CreateString(t->created_at));
    set_item(obj, "created_by", cJSON_CreateString(t->created_by));
    set_item(obj, "size_bytes", cJSON_CreateNumber((double)t->size_bytes));
    return obj;
}

/* ---- the score check
 * ----------------------------------------------------------------- */

static gb_status split_columns(const char *list, char ***out, size_t *n, gb_error *err)
{
    char **cols = NULL;
    size_t count = 0;
    const char *p = list;
    *out = NULL;
    *n = 0;
    cols = gb_calloc(CHECK_MAX_COLUMNS, sizeof *cols);
    if (cols == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory");
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (len == 0 || count == CHECK_MAX_COLUMNS) {
            gb_free_strings(cols, count);
            gb_error_set(err, GB_EINPUT,
                         "check_scores must be 1 to %d comma-separated column names",
                         CHECK_MAX_COLUMNS);
            gb_error_field(err, "check_scores");
            return GB_EINPUT;
        }
        cols[count] = gb_strndup(p, len);
        if (cols[count] == NULL) {
            gb_free_strings(cols, count);
            return gb_error_set(err, GB_ENOMEM, "out of memory");
        }
        count++;
        p += len;
        if (*p == ',')
            p++;
    }
    *out = cols;
    *n = count;
    return GB_OK;
}

/* Re-scores the dataset with the teacher and compares with the supplied
 * columns.  On success *out is the "check" object. */
static gb_status score_check(const api_request *req, const gb_model *m,
                             const char *dataset_id, const char *columns, cJSON **out,
                             gb_error *err)
{
    st_dataset ds;
    gb_table *table = NULL;
    gb_target target;
    int have_target = 0;
    char **cols = NULL;
    size_t n_cols = 0, n_outputs = 0;
    double *scores = NULL, *pred = NULL;
    char path[PATH_MAX];
    gb_status status;
    gb_task task = GB_TASK_AUTO;
    *out = NULL;
    memset(&target, 0, sizeof target);

    status = st_dataset_get(req->db, dataset_id, &ds, err);
    if (status == GB_ENOTFOUND)
        gb_error_field(err, "check_dataset");
    if (status != GB_OK)
        return status;
    status = split_columns(columns, &cols, &n_cols, err);
    if (status == GB_OK)
        status = st_blob_path(req->env->data_dir, ds.sha256, path, sizeof path, err);
    if (status == GB_OK)
        status = gb_csv_read_file(path, NULL, &table, err);
    if (status == GB_OK)
        status = gb_task_parse(ds.task, &task, err);
    if (status == GB_OK) {
        status = gb_target_resolve(table, ds.target, task, &target, err);
        have_target = status == GB_OK;
    }
    if (status == GB_OK && target.task != m->task)
        status =
            gb_error_set(err, GB_EUNUSABLE,
                         "the teacher is a %s model but the dataset's target is %s",
                         gb_task_name(m->task), gb_task_name(target.task));
    if (status == GB_OK)
        status = gb_scores_read(table, &target, cols, n_cols, &scores, &n_outputs, err);
    if (status == GB_OK && n_outputs != m->n_outputs)
        status =
            gb_error_set(err, GB_EUNUSABLE,
                         "the score columns give %zu outputs per row, the teacher %zu",
                         n_outputs, m->n_outputs);
    if (status == GB_OK && (pred = gb_malloc_array(table->n_rows * (m->n_outputs + 1),
                                                   sizeof *pred)) == NULL)
        status = gb_error_set(err, GB_ENOMEM, "out of memory scoring the dataset");
    if (status == GB_OK)
        status = gb_model_predict_table(m, table, NULL, table->n_rows, pred, err);
    if (status == GB_OK) {
        double max_diff = 0, sum_diff = 0;
        size_t worst = 0, n_values = table->n_rows * n_outputs;
        for (size_t i = 0; i < n_values; i++) {
            double d = fabs(pred[i] - scores[i]);
            if (!(d <= max_diff)) { /* also catches NaN */
                max_diff = d;
                worst = i / n_outputs;
            }
            sum_diff += d;
        }
        cJSON *check = cJSON_CreateObject();
        if (check == NULL) {
            status = gb_error_set(err, GB_ENOMEM, "out of memory");
        } else {
            cJSON_AddStringToObject(check, "dataset_id", ds.id);
            cJSON_AddItemToObject(check, "columns",
                                  gb_json_string_array_create(cols, n_cols));
            cJSON_AddNumberToObject(check, "rows", (double)table->n_rows);
            gb_json_add_number(check, "max_abs_diff", max_diff);
            gb_json_add_number(check, "mean_abs_diff",
                               n_values > 0 ? sum_diff / (double)n_values : 0.0);
            cJSON_AddNumberToObject(check, "worst_line", (double)(worst + 2));
            *out = check;
        }
    }
    gb_free(pred);
    gb_free(scores);
    if (have_target)
        gb_target_free(&target);
    gb_table_free(table);
    gb_free_strings(cols, n_cols);
    st_dataset_clear(&ds);
    return status;
}

/* ---- upload -------------------------------------------------------------------------
 */

static void teacher_upload_free(void *state)
{
    teacher_upload *u = state;
    if (u == NULL)
        return;
    st_blob_writer_abort(u->blob);
    gb_free(u->bytes);
    gb_free(u);
}

static void *teacher_upload_begin(const api_request *req, api_response *resp)
{
    const char *name = api_query(req, "name");
    const char *check_dataset = api_query(req, "check_dataset");
    const char *check_scores = api_query(req, "check_scores");
    gb_error err;
    gb_error_clear(&err);
    if (api_check_name(name, "name", TEACHER_NAME_MAX, resp) != 0) {
        resp->status = 400;
        return NULL;
    }
    if ((check_dataset != NULL) != (check_scores != NULL)) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(
            details, "field", check_dataset != NULL ? "check_scores" : "check_dataset");
        api_error(resp, 400, "invalid_input", details,
                  "check_dataset and check_scores go together");
        return NULL;
    }
    teacher_upload *u = gb_calloc(1, sizeof *u);
    if (u == NULL) {
        api_error(resp, 500, "out_of_memory", NULL, "out of memory starting an upload");
        return NULL;
    }
    snprintf(u->name, sizeof u->name, "%s", name);
    u->limit = req->env->max_upload_bytes < GB_TEACHER_MAX_BYTES
                   ? req->env->max_upload_bytes
                   : GB_TEACHER_MAX_BYTES;
    if (st_blob_writer_open(req->env->data_dir, &u->blob, &err) != GB_OK) {
        api_error_from(resp, &err);
        teacher_upload_free(u);
        return NULL;
    }
    return u;
}

static int teacher_upload_feed(void *state, const char *bytes, size_t n,
                               api_response *resp)
{
    teacher_upload *u = state;
    gb_error err;
    gb_error_clear(&err);
    if (u->n_bytes + n > u->limit) {
        api_error(resp, 413, "too_large", NULL, "model file larger than %zu bytes",
                  u->limit);
        return -1;
    }
    if (u->n_bytes + n + 1 > u->cap) {
        size_t want = u->cap ? u->cap : 65536;
        while (want < u->n_bytes + n + 1)
            want *= 2;
        char *grown = gb_realloc(u->bytes, want);
        if (grown == NULL) {
            api_error(resp, 500, "out_of_memory", NULL,
                      "out of memory reading the model");
            return -1;
        }
        u->bytes = grown;
        u->cap = want;
    }
    memcpy(u->bytes + u->n_bytes, bytes, n);
    u->n_bytes += n;
    if (st_blob_writer_write(u->blob, bytes, n, &err) != GB_OK) {
        api_error_from(resp, &err);
        return -1;
    }
    return 0;
}

static void teacher_upload_end(void *state, const api_request *req, api_response *resp)
{
    teacher_upload *u = state;
    gb_model *model = NULL;
    cJSON *summary = NULL, *check = NULL, *details = NULL;
    char *summary_text = NULL, *details_text = NULL;
    char sha[65];
    st_teacher t, existing;
    gb_error err;
    memset(&t, 0, sizeof t);
    memset(&existing, 0, sizeof existing);
    gb_error_clear(&err);

    if (u->n_bytes == 0) {
        api_error(resp, 400, "invalid_input", NULL, "empty body: send the model file");
        goto done;
    }
    gb_model_format format = gb_model_format_detect(u->bytes, u->n_bytes);
    if (gb_teacher_load(u->bytes, u->n_bytes, &model, &err) != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    if (format == GB_FORMAT_GLASSBOX_STUDENT) {
        api_error(resp, 422, "unprocessable", NULL,
                  "this is a student artifact, not a teacher model");
        goto done;
    }
    const char *check_dataset = api_query(req, "check_dataset");
    if (check_dataset != NULL &&
        score_check(req, model, check_dataset, api_query(req, "check_scores"), &check,
                    &err) != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    gb_free(u->bytes);
    u->bytes = NULL;
    uint64_t size = st_blob_writer_size(u->blob);
    gb_status status = st_blob_writer_commit(u->blob, sha, &err);
    u->blob = NULL;
    if (status != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    if (st_teacher_find(req->db, sha, &existing, &err) == GB_OK) {
        cJSON *out = teacher_json(&existing);
        if (out != NULL && check != NULL) {
            cJSON_AddItemToObject(out, "check", check);
            check = NULL;
        }
        api_json(resp, 200, out);
        goto done;
    }
    summary = api_teacher_summary(model, u->name, gb_model_format_name(format), sha);
    if (summary != NULL && check != NULL) {
        cJSON_AddItemToObject(summary, "check", check);
        check = NULL;
    }
    summary_text = summary != NULL ? gb_json_print(summary, 0) : NULL;
    details = cJSON_CreateObject();
    if (details != NULL) {
        cJSON_AddStringToObject(details, "name", u->name);
        cJSON_AddStringToObject(details, "kind", model->ops->kind);
        cJSON_AddStringToObject(details, "sha256", sha);
    }
    details_text = api_details_text(details);
    if (summary_text == NULL || details_text == NULL) {
        api_error(resp, 500, "out_of_memory", NULL,
                  "out of memory storing the teacher");
        goto done;
    }
    snprintf(t.name, sizeof t.name, "%s", u->name);
    snprintf(t.kind, sizeof t.kind, "%s", model->ops->kind);
    snprintf(t.sha256, sizeof t.sha256, "%s", sha);
    snprintf(t.task, sizeof t.task, "%s", gb_task_name(model->task));
    snprintf(t.created_by, sizeof t.created_by, "%s", api_actor(req));
    t.size_bytes = (long long)size;
    t.summary_json = summary_text;
    st_audit_entry audit = {api_actor(req), "teacher.create", NULL, details_text};
    status = st_teacher_insert(req->db, &t, &audit, &err);
    t.summary_json = NULL;
    if (status != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    t.summary_json = summary_text;
    summary_text = NULL;
    api_json(resp, 201, teacher_json(&t));
done:
    gb_model_free(model);
    st_teacher_clear(&t);
    st_teacher_clear(&existing);
    cJSON_Delete(summary);
    cJSON_Delete(check);
    cJSON_Delete(details);
    gb_free(summary_text);
    gb_free(details_text);
}

const api_stream_ops api_teachers_upload_ops = {
    teacher_upload_begin, teacher_upload_feed, teacher_upload_end, teacher_upload_free};

/* ---- read and delete
 * ----------------------------------------------------------------- */

void api_teachers_list(const api_request *req, api_response *resp)
{
    size_t limit, offset, n = 0, total = 0;
    st_teacher *items = NULL;
    gb_error err;
    if (api_paging(req, resp, &limit, &offset) != 0)
        return;
    if (st_teacher_list(req->db, limit, offset, &items, &n, &total, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; array != NULL && i < n; i++)
        cJSON_AddItemToArray(array, teacher_json(&items[i]));
    st_teacher_list_free(items, n);
    api_json(resp, 200, api_list(array, total, limit, offset));
}

void api_teachers_get(const api_request *req, api_response *resp)
{
    st_teacher t;
    gb_error err;
    if (st_teacher_get(req->db, req->param_id, &t, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    api_json(resp, 200, teacher_json(&t));
    st_teacher_clear(&t);
}

void api_teachers_delete(const api_request *req, api_response *resp)
{
    st_teacher t;
    int orphaned = 0;
    gb_error err;
    st_audit_entry audit = {api_actor(req), "teacher.delete", req->param_id, NULL};
    if (st_teacher_delete(req->db, req->param_id, &audit, &t, &orphaned, &err) !=
        GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    if (orphaned && st_blob_remove(req->env->data_dir, t.sha256, &err) != GB_OK)
        fprintf(
            stderr,
            "{\"level\":\"warn\",\"msg\":\"cannot remove blob\",\"sha256\":\"%s\"}\n",
            t.sha256);
    cJSON *out = cJSON_CreateObject();
    if (out != NULL) {
        cJSON_AddStringToObject(out, "id", t.id);
        cJSON_AddBoolToObject(out, "deleted", 1);
    }
    st_teacher_clear(&t);
    api_json(resp, 200, out);
}
