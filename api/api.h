/*
 * api.h - what every resource handler sees: a parsed request, a response to
 * fill, and helpers for errors, query parameters, JSON bodies and audit
 * entries.
 * Layer: api (no libmicrohttpd types; server/http.c adapts HTTP to this).
 *
 * Ownership: the request and everything it points to are borrowed for the
 * call.  The handler fills *resp: either json (a cJSON tree the caller
 * frees once after rendering) or raw bytes (gb_malloc'd, freed by the
 * caller).  Errors are rendered as
 *   {"error":{"code":"snake_case","message":"...","details":{...}}}
 */
#ifndef API_API_H
#define API_API_H

#include <stddef.h>

#include "core/base.h"
#include "core/json.h"
#include "core/model/model.h"
#include "core/progress.h"
#include "storage/audit.h"
#include "storage/db.h"
#include "storage/runs.h"
#include "storage/tokens.h"

/* Students rebuilt from their artifacts, shared by all threads (see
 * api/predict.c).  Created and freed by the daemon. */
typedef struct api_model_cache api_model_cache;
api_model_cache *api_model_cache_create(void);
void api_model_cache_free(api_model_cache *cache);

/* The daemon state handlers may use.  Hooks into the job pool are
 * callbacks so that api/ does not depend on server/. */
typedef struct api_env {
    const char *data_dir;
    const char *db_path;
    size_t max_upload_bytes;
    api_model_cache *model_cache; /* may be NULL (no caching) */
    void *hooks_ctx;
    /* Enqueues a run within the queue bound (see srv_jobs_enqueue); may be
     * NULL when no job pool runs (then runs are queued unbounded). */
    gb_status (*run_enqueue)(void *ctx, st_db *db, st_run *run,
                             const st_audit_entry *audit, int *queue_full,
                             gb_error *err);
    /* Raises the in-memory cancel flag of a run being executed. */
    void (*run_cancel)(void *ctx, const char *run_id);
} api_env;

/* Query-string lookup provided by the HTTP layer; NULL when absent. */
typedef const char *(*api_query_cb)(void *ctx, const char *key);

typedef struct api_request {
    const api_env *env;
    st_db *db;             /* this thread's connection */
    const st_token *actor; /* authenticated token; NULL on public routes */
    const char *method;
    const char *path;
    const char *param_id;     /* the {id} segment of the route, or NULL */
    const char *content_type; /* may be NULL */
    const char *body;         /* buffered body (JSON routes); may be NULL */
    size_t body_len;
    api_query_cb query;
    void *query_ctx;
} api_request;

typedef struct api_response {
    int status;  /* HTTP status */
    cJSON *json; /* owned by the response */
    char *raw;   /* owned (gb_malloc); used when json is NULL */
    size_t raw_len;
    const char *content_type; /* static string; default application/json */
} api_response;

typedef void (*api_handler_fn)(const api_request *req, api_response *resp);

/* Streamed request bodies (CSV and model uploads): begin after auth,
 * feed per chunk, end after the last chunk; free always runs (also when
 * the client disconnects).  begin and feed return NULL/-1 after filling
 * resp with an error. */
typedef struct api_stream_ops {
    void *(*begin)(const api_request *req, api_response *resp);
    int (*feed)(void *state, const char *bytes, size_t n, api_response *resp);
    void (*end)(void *state, const api_request *req, api_response *resp);
    void (*free)(void *state);
} api_stream_ops;

/* ---- helpers --------------------------------------------------------------- */

/* Fills resp with an error body; replaces any body already there.
 * details (may be NULL) is taken over by the response. */
void api_error(api_response *resp, int status, const char *code, cJSON *details,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Maps a gb_error to status + body: EINPUT 400, EUNUSABLE 422, ETOOLARGE
 * 413, ENOTFOUND 404, ECONFLICT 409, others 500.  Details carry line,
 * column and field when set. */
void api_error_from(api_response *resp, const gb_error *err);

/* Sets a JSON body (taken over) and status. */
void api_json(api_response *resp, int status, cJSON *json);

/* Query parameter or NULL. */
const char *api_query(const api_request *req, const char *key);

/* Reads ?limit=&offset= (limit 1..1000, default 50; offset >= 0).
 * Returns -1 after filling a 400 when malformed. */
int api_paging(const api_request *req, api_response *resp, size_t *limit,
               size_t *offset);

/* Parses the body as a JSON object: 415 unless the content type is
 * application/json, 400 when malformed or not an object.  Returns NULL
 * after filling resp.  Caller frees the tree with cJSON_Delete. */
cJSON *api_body_object(const api_request *req, api_response *resp);

/* Name of the acting token ("anonymous" without one). */
const char *api_actor(const api_request *req);

/* Prints details as compact JSON for an audit entry (gb_malloc'd; "{}" on
 * NULL).  NULL on allocation failure. */
char *api_details_text(const cJSON *details);

/* A list envelope {"items":[...],"total","limit","offset"}; items is taken
 * over. */
cJSON *api_list(cJSON *items, size_t total, size_t limit, size_t offset);

/* Checks a user-supplied name (token, dataset, teacher): 1..max bytes of
 * well-formed UTF-8 without control characters.  Returns -1 after filling a 422
 * naming field. */
int api_check_name(const char *value, const char *field, size_t max,
                   api_response *resp);

/* 1 when text is well-formed UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF). */
int api_utf8_valid(const char *text);

/* Appends an audit entry outside any other write (for actions whose
 * storage call takes no audit entry).  Failures are returned. */
gb_status api_audit(const api_request *req, const char *action, const char *object,
                    const cJSON *details, gb_error *err);

/* Adds key: text, or null when text is NULL or "". */
void api_add_string_or_null(cJSON *obj, const char *key, const char *text);

/* {"name","kind","format","sha256","task","features":[...],"classes":[...]}
 * for a loaded teacher (a new tree; NULL on allocation failure). */
cJSON *api_teacher_summary(const gb_model *m, const char *name, const char *format,
                           const char *sha256);

/* Executes a queued run of kind "teacher_train" (queued by POST
 * /teachers/train): trains the MLP on the run's dataset, stores the model
 * file as a blob and the teacher row (audited as "system"), and returns
 * the run's report {"teacher_id","rows","features","epochs_run"} in
 * *report_json (gb_malloc'd).  Honors the progress cancel flag. */
gb_status api_run_teacher_train(st_db *db, const char *data_dir, const st_run *run,
                                const gb_progress *progress, char **report_json,
                                gb_error *err);

/* Executes a queued run of kind "distill" (queued by POST /runs): loads the
 * dataset and teachers, runs the pipeline with progress and cancel, and
 * returns the report and the student artifact as JSON text (gb_malloc'd,
 * the student printed exactly as hashed in report.hashes.student).  On
 * error both are NULL and err says what failed. */
gb_status api_run_distill(st_db *db, const char *data_dir, const st_run *run,
                          const gb_progress *progress, char **report_json,
                          char **student_json, gb_error *err);

/* The Content-Security-Policy sent with HTML answers (report.html): no
 * scripts, nothing external, the report's one <style> element allowed by
 * its SHA-256.  Writes at most cap bytes (NUL included) into out. */
void api_report_csp(char *out, size_t cap);

/* ---- resources (one file each) ------------------------------------------------ */

void api_health_get(const api_request *req, api_response *resp);

void api_tokens_create(const api_request *req, api_response *resp);
void api_tokens_list(const api_request *req, api_response *resp);
void api_tokens_revoke(const api_request *req, api_response *resp);

extern const api_stream_ops api_datasets_upload_ops;
void api_datasets_list(const api_request *req, api_response *resp);
void api_datasets_get(const api_request *req, api_response *resp);
void api_datasets_delete(const api_request *req, api_response *resp);

extern const api_stream_ops api_teachers_upload_ops;
void api_teachers_train(const api_request *req, api_response *resp);
void api_teachers_list(const api_request *req, api_response *resp);
void api_teachers_get(const api_request *req, api_response *resp);
void api_teachers_delete(const api_request *req, api_response *resp);

void api_runs_list(const api_request *req, api_response *resp);
void api_runs_get(const api_request *req, api_response *resp);
void api_runs_cancel(const api_request *req, api_response *resp);
void api_runs_student(const api_request *req, api_response *resp);
void api_runs_export(const api_request *req, api_response *resp);
void api_runs_predict(const api_request *req, api_response *resp);
void api_runs_create(const api_request *req, api_response *resp);
void api_runs_report_html(const api_request *req, api_response *resp);

void api_compare(const api_request *req, api_response *resp);

void api_reviews_create(const api_request *req, api_response *resp);
void api_reviews_list(const api_request *req, api_response *resp);

void api_audit_list(const api_request *req, api_response *resp);
void api_audit_verify(const api_request *req, api_response *resp);

#endif /* API_API_H */
