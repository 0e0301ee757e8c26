/*
 * datasets.c - POST /api/v1/datasets (streamed CSV), GET list, GET one,
 * DELETE.
 * Layer: api.
 *
 * An upload is streamed: each chunk goes to the CSV parser (which keeps
 * only the columns being built) and to a temporary blob file (hashed as it
 * is written).  At the end the target is resolved, the blob is committed
 * (fsync + rename) and only then the row is inserted, so a crash at any
 * point leaves the whole dataset or nothing.  The same bytes with the same
 * target and task return the existing dataset with 200.
 */
#include "api/api.h"
#include "api/dataset_json.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/data/csv.h"
#include "core/data/table.h"
#include "storage/blobs.h"
#include "storage/datasets.h"

#define DATASET_NAME_MAX 200

typedef struct upload {
    char name[ST_NAME_LEN];
    char target[ST_NAME_LEN];
    gb_task task;
    gb_csv_parser *parser;
    st_blob_writer *blob;
    gb_table *table;
    gb_target resolved;
    int have_target;
} upload;

/* ---- rendering ------------------------------------------------------------------ */

/* Sets key to value, in place when the key exists (keeps member order). */
static void set_string(cJSON *obj, const char *key, const char *value)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key) == NULL) {
        cJSON_AddStringToObject(obj, key, value);
        return;
    }
    cJSON *item = cJSON_CreateString(value);
    if (item != NULL && !cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item))
        cJSON_Delete(item);
}

/* The stored summary completed with the row's identity and provenance;
 * "id" comes first. */
static cJSON *dataset_json(const st_dataset *ds)
{
    const char *text = ds->summary_json != NULL ? ds->summary_json : "{}";
    cJSON *summary = gb_json_parse(text, strlen(text), NULL);
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL) {
        cJSON_Delete(summary);
        return NULL;
    }
    cJSON_AddStringToObject(obj, "id", ds->id);
    while (summary != NULL && cJSON_IsObject(summary) && summary->child != NULL) {
        cJSON *item = cJSON_DetachItemViaPointer(summary, summary->child);
        cJSON_AddItemToObject(obj, item->string, item);
    }
    cJSON_Delete(summary);
    set_string(obj, "name", ds->name);
    set_string(obj, "sha256", ds->sha256);
    set_string(obj, "target", ds->target);
    set_string(obj, "task", ds->task);
    set_string(obj, "created_at", ds->created_at);
    set_string(obj, "created_by", ds->created_by);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "size_bytes");
    cJSON_AddNumberToObject(obj, "size_bytes", (double)ds->size_bytes);
    return obj;
}

/* ---- upload ---------------------------------------------------------------------- */

static int is_csv_type(const char *ct)
{
    static const char *const types[] = {"text/csv", "application/csv"};
    if (ct == NULL)
        return 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t n = strlen(types[i]);
        if (strncasecmp(ct, types[i], n) == 0 &&
            (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return 1;
    }
    return 0;
}

static void upload_free(void *state)
{
    upload *u = state;
    if (u == NULL)
        return;
    gb_csv_parser_free(u->parser);
    st_blob_writer_abort(u->blob);
    if (u->have_target)
        gb_target_free(&u->resolved);
    gb_table_free(u->table);
    gb_free(u);
}

static void *upload_begin(const api_request *req, api_response *resp)
{
    const char *name = api_query(req, "name");
    const char *target = api_query(req, "target");
    const char *task = api_query(req, "task");
    gb_error err;
    gb_error_clear(&err);
    if (!is_csv_type(req->content_type)) {
        api_error(resp, 415, "unsupported_media_type", NULL,
                  "dataset uploads take a CSV body (Content-Type: text/csv)");
        return NULL;
    }
    if (api_check_name(name, "name", DATASET_NAME_MAX, resp) != 0 ||
        api_check_name(target, "target", DATASET_NAME_MAX, resp) != 0) {
        resp->status = 400; /* missing query parameters are malformed requests */
        cJSON *error = cJSON_GetObjectItemCaseSensitive(resp->json, "error");
        if (error != NULL)
            set_string(error, "code", "invalid_input");
        return NULL;
    }
    upload *u = gb_calloc(1, sizeof *u);
    if (u == NULL) {
        api_error(resp, 500, "out_of_memory", NULL, "out of memory starting an upload");
        return NULL;
    }
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->target, sizeof u->target, "%s", target);
    u->task = GB_TASK_AUTO;
    if (task != NULL && task[0] != '\0' &&
        gb_task_parse(task, &u->task, &err) != GB_OK) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "task");
        api_error(resp, 400, "invalid_input", details,
                  "task must be binary, multiclass or regression");
        upload_free(u);
        return NULL;
    }
    u->parser = gb_csv_parser_create(NULL, &err);
    if (u->parser == NULL ||
        st_blob_writer_open(req->env->data_dir, &u->blob, &err) != GB_OK) {
        api_error_from(resp, &err);
        upload_free(u);
        return NULL;
    }
    return u;
}

static int upload_feed(void *state, const char *bytes, size_t n, api_response *resp)
{
    upload *u = state;
    gb_error err;
    gb_error_clear(&err);
    if (st_blob_writer_write(u->blob, bytes, n, &err) != GB_OK ||
        gb_csv_parser_feed(u->parser, bytes, n, &err) != GB_OK) {
        api_error_from(resp, &err);
        return -1;
    }
    return 0;
}

static void upload_end(void *state, const api_request *req, api_response *resp)
{
    upload *u = state;
    gb_error err;
    char sha[65];
    cJSON *summary = NULL, *details = NULL;
    char *summary_text = NULL, *details_text = NULL;
    st_dataset ds, existing;
    memset(&ds, 0, sizeof ds);
    memset(&existing, 0, sizeof existing);
    gb_error_clear(&err);

    gb_status status = gb_csv_parser_finish(u->parser, &u->table, &err);
    gb_csv_parser_free(u->parser);
    u->parser = NULL;
    if (status == GB_OK) {
        status = gb_target_resolve(u->table, u->target, u->task, &u->resolved, &err);
        u->have_target = status == GB_OK;
        if (status != GB_OK && err.field[0] == '\0')
            gb_error_field(&err, "target");
    }
    if (status != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    uint64_t size = st_blob_writer_size(u->blob);
    status = st_blob_writer_commit(u->blob, sha, &err);
    u->blob = NULL;
    if (status != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    const char *task_name = gb_task_name(u->resolved.task);
    status = st_dataset_find(req->db, sha, u->target, task_name, &existing, &err);
    if (status == GB_OK) {
        api_json(resp, 200, dataset_json(&existing));
        goto done;
    }
    if (status != GB_ENOTFOUND) {
        api_error_from(resp, &err);
        goto done;
    }
    summary = api_dataset_json(u->table, &u->resolved, u->name, sha);
    summary_text = summary != NULL ? gb_json_print(summary, 0) : NULL;
    details = cJSON_CreateObject();
    if (details != NULL) {
        cJSON_AddStringToObject(details, "name", u->name);
        cJSON_AddStringToObject(details, "sha256", sha);
        cJSON_AddStringToObject(details, "target", u->target);
        cJSON_AddStringToObject(details, "task", task_name);
        cJSON_AddNumberToObject(details, "rows", (double)u->table->n_rows);
    }
    details_text = api_details_text(details);
    if (summary_text == NULL || details_text == NULL) {
        api_error(resp, 500, "out_of_memory", NULL,
                  "out of memory storing the dataset");
        goto done;
    }
    snprintf(ds.name, sizeof ds.name, "%s", u->name);
    snprintf(ds.sha256, sizeof ds.sha256, "%s", sha);
    snprintf(ds.target, sizeof ds.target, "%s", u->target);
    snprintf(ds.task, sizeof ds.task, "%s", task_name);
    snprintf(ds.created_by, sizeof ds.created_by, "%s", api_actor(req));
    ds.n_rows = (long long)u->table->n_rows;
    ds.n_columns = (long long)u->table->n_cols;
    ds.size_bytes = (long long)size;
    ds.summary_json = summary_text;
    st_audit_entry audit = {api_actor(req), "dataset.create", NULL, details_text};
    status = st_dataset_insert(req->db, &ds, &audit, &err);
    ds.summary_json = NULL;
    if (status == GB_ECONFLICT &&
        st_dataset_find(req->db, sha, u->target, task_name, &existing, &err) == GB_OK) {
        /* Lost a race with an identical upload: answer as a repeat. */
        api_json(resp, 200, dataset_json(&existing));
        goto done;
    }
    if (status != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    ds.summary_json = summary_text;
    summary_text = NULL;
    api_json(resp, 201, dataset_json(&ds));
done:
    st_dataset_clear(&ds);
    st_dataset_clear(&existing);
    gb_free(summary_text);
    gb_free(details_text);
    cJSON_Delete(summary);
    cJSON_Delete(details);
}

const api_stream_ops api_datasets_upload_ops = {upload_begin, upload_feed, upload_end,
                                                upload_free};

/* ---- read and delete ----------------------------------------------------------------
 */

void api_datasets_list(const api_request *req, api_response *resp)
{
    size_t limit, offset, n = 0, total = 0;
    st_dataset *items = NULL;
    gb_error err;
    if (api_paging(req, resp, &limit, &offset) != 0)
        return;
    if (st_dataset_list(req->db, limit, offset, &items, &n, &total, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; array != NULL && i < n; i++)
        cJSON_AddItemToArray(array, dataset_json(&items[i]));
    st_dataset_list_free(items, n);
    api_json(resp, 200, api_list(array, total, limit, offset));
}

void api_datasets_get(const api_request *req, api_response *resp)
{
    st_dataset ds;
    gb_error err;
    if (st_dataset_get(req->db, req->param_id, &ds, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    api_json(resp, 200, dataset_json(&ds));
    st_dataset_clear(&ds);
}

void api_datasets_delete(const api_request *req, api_response *resp)
{
    st_dataset ds;
    int orphaned = 0;
    gb_error err;
    st_audit_entry audit = {api_actor(req), "dataset.delete", req->param_id, NULL};
    if (st_dataset_delete(req->db, req->param_id, &audit, &ds, &orphaned, &err) !=
        GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    if (orphaned && st_blob_remove(req->env->data_dir, ds.sha256, &err) != GB_OK)
        fprintf(
            stderr,
            "{\"level\":\"warn\",\"msg\":\"cannot remove blob\",\"sha256\":\"%s\"}\n",
            ds.sha256);
    cJSON *out = cJSON_CreateObject();
    if (out != NULL) {
        cJSON_AddStringToObject(out, "id", ds.id);
        cJSON_AddBoolToObject(out, "deleted", 1);
    }
    st_dataset_clear(&ds);
    api_json(resp, 200, out);
}
