/*
 * runs_predict.c - the student of a succeeded run put to use:
 * POST /api/v1/runs/{id}/predict, GET /api/v1/runs/{id}/export, and the
 * in-memory cache of parsed students they share.
 * Layer: api.
 *
 * Students are immutable once a run succeeded, so a parsed student can be
 * kept per run id: a bounded cache (least recently used entry evicted) whose
 * entries are reference counted, so an entry evicted while a request still
 * predicts with it is freed by that request's release.
 *
 * predict bodies:
 *   text/csv            a header row and rows (the dataset's CSV rules);
 *   application/json    {"rows":[{"column":value,...},...]}: numbers for
 *                       numeric columns (numeric strings accepted), strings
 *                       for categorical ones, null = missing.  A one-hot
 *                       feature "col=level" is read from the row's "col".
 *                       Members the student does not use are ignored.
 * Answer: {"predictions":[...]} - per row an object of probabilities keyed
 * by class, or the regression value - and with ?explain=1 "explanations":
 * per row {"bias","contributions":{feature: value}} in the student's margin
 * space (binary: logit of the second class; multiclass: one such object per
 * class under "by_class").  Contributions and bias add up to the margin.
 */
#include "api/api.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/data/csv.h"
#include "core/model/students/student.h"
#include "core/model/teachers/load.h"

/* ---- the cache ----------------------------------------------------------------- */

typedef struct cache_entry {
    char run_id[ST_ID_LEN];
    gb_model *student; /* NULL = free slot */
    size_t refs;
    int evicted; /* freed by the last release */
    unsigned long long used;
} cache_entry;

struct api_student_cache {
    pthread_mutex_t lock;
    size_t capacity;
    unsigned long long clock;
    cache_entry *entries;
};

api_student_cache *api_student_cache_create(size_t capacity)
{
    api_student_cache *c = gb_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->capacity = capacity > 0 ? capacity : 64;
    c->entries = gb_calloc(c->capacity, sizeof *c->entries);
    if (c->entries == NULL) {
        gb_free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void api_student_cache_free(api_student_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->capacity; i++)
        gb_model_free(c->entries[i].student);
    pthread_mutex_destroy(&c->lock);
    gb_free(c->entries);
    gb_free(c);
}

/* A student being used by one request. */
typedef struct student_ref {
    const gb_model *model;
    cache_entry *entry; /* cached, or NULL */
    gb_model *owned;    /* not cached: freed on release */
    api_student_cache *cache;
} student_ref;

static void student_release(student_ref *ref)
{
    if (ref->entry != NULL) {
        gb_model *drop = NULL;
        pthread_mutex_lock(&ref->cache->lock);
        ref->entry->refs--;
        if (ref->entry->refs == 0 && ref->entry->evicted) {
            drop = ref->entry->student;
            memset(ref->entry, 0, sizeof *ref->entry);
        }
        pthread_mutex_unlock(&ref->cache->lock);
        gb_model_free(drop);
    }
    gb_model_free(ref->owned);
    memset(ref, 0, sizeof *ref);
}

static int cache_lookup(api_student_cache *c, const char *run_id, student_ref *ref)
{
    int found = 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->capacity; i++) {
        cache_entry *e = &c->entries[i];
        if (e->student != NULL && !e->evicted && strcmp(e->run_id, run_id) == 0) {
            e->refs++;
            e->used = ++c->clock;
            ref->model = e->student;
            ref->entry = e;
            ref->cache = c;
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* Puts a freshly loaded student in the cache (taking it over) and holds it
 * for the request; without room it stays owned by the request. */
static void cache_insert(api_student_cache *c, const char *run_id, gb_model *student,
                         student_ref *ref)
{
    gb_model *duplicate = NULL;
    cache_entry *slot = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->capacity; i++) {
        cache_entry *e = &c->entries[i];
        if (e->student != NULL && !e->evicted && strcmp(e->run_id, run_id) == 0) {
            duplicate = student; /* another request loaded it first */
            slot = e;
            break;
        }
    }
    if (slot == NULL) {
        for (size_t i = 0; i < c->capacity && slot == NULL; i++)
            if (c->entries[i].student == NULL)
                slot = &c->entries[i];
        for (size_t i = 0; i < c->capacity && slot == NULL; i++) {
            /* the least recently used idle entry */
            cache_entry *e = &c->entries[i];
            if (e->refs == 0 && !e->evicted && (slot == NULL || e->used < slot->used))
                slot = e;
        }
        if (slot == NULL) {
            /* every entry in use: mark the oldest evicted, use no slot */
            cache_entry *oldest = NULL;
            for (size_t i = 0; i < c->capacity; i++)
                if (!c->entries[i].evicted &&
                    (oldest == NULL || c->entries[i].used < oldest->used))
                    oldest = &c->entries[i];
            if (oldest != NULL)
                oldest->evicted = 1;
        } else if (slot->student != NULL) {
            gb_model_free(slot->student); /* idle: nobody holds it */
            memset(slot, 0, sizeof *slot);
        }
        if (slot != NULL) {
            snprintf(slot->run_id, sizeof slot->run_id, "%s", run_id);
            slot->student = student;
        }
    }
    if (slot != NULL) {
        slot->refs++;
        slot->used = ++c->clock;
        ref->model = slot->student;
        ref->entry = slot;
        ref->cache = c;
    } else {
        ref->model = student;
        ref->owned = student;
    }
    pthread_mutex_unlock(&c->lock);
    gb_model_free(duplicate);
}

/* The run's stored student artifact text: 404 unknown run, 409 when the
 * run has not succeeded.  Returns NULL after filling resp. */
static char *student_text(const api_request *req, api_response *resp)
{
    st_run run;
    char *text = NULL;
    gb_error err;
    gb_error_clear(&err);
    if (st_run_get(req->db, req->param_id, &run, &err) != GB_OK) {
        api_error_from(resp, &err);
        return NULL;
    }
    int succeeded = strcmp(run.status, "succeeded") == 0;
    int distill = strcmp(run.kind, "distill") == 0;
    char status[sizeof run.status];
    snprintf(status, sizeof status, "%s", run.status);
    st_run_clear(&run);
    if (!distill || !succeeded) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "status", status);
        api_error(resp, 409, "conflict", details,
                  distill ? "run '%s' has no student: it is %s, not succeeded"
                          : "run '%s' is not a distillation run (%s)",
                  req->param_id, distill ? status : "no student");
        return NULL;
    }
    if (st_run_student(req->db, req->param_id, &text, &err) != GB_OK) {
        api_error_from(resp, &err);
        return NULL;
    }
    return text;
}

/* Finds or loads the run's student.  Returns -1 after filling resp. */
static int student_acquire(const api_request *req, api_response *resp, student_ref *ref)
{
    api_student_cache *cache = req->env != NULL ? req->env->students : NULL;
    gb_model *student = NULL;
    gb_error err;
    gb_error_clear(&err);
    memset(ref, 0, sizeof *ref);
    if (cache != NULL && cache_lookup(cache, req->param_id, ref))
        return 0;
    char *text = student_text(req, resp);
    if (text == NULL)
        return -1;
    cJSON *artifact = gb_json_parse(text, strlen(text), &err);
    gb_free(text);
    if (artifact == NULL || gb_student_from_json(artifact, &student, &err) != GB_OK) {
        cJSON_Delete(artifact);
        api_error(resp, 500, "internal_error", NULL,
                  "the stored student cannot be read: %s", err.message);
        return -1;
    }
    cJSON_Delete(artifact);
    if (cache != NULL) {
        cache_insert(cache, req->param_id, student, ref);
    } else {
        ref->model = student;
        ref->owned = student;
    }
    return 0;
}

/* ---- rows ---------------------------------------------------------------------- */

static void row_error(api_response *resp, size_t row, const char *field,
                      const char *message)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddNumberToObject(details, "row", (double)row);
    if (field != NULL)
        cJSON_AddStringToObject(details, "field", field);
    api_error(resp, 422, "invalid_field", details, "row %zu: %s", row, message);
}

static int text_number(const char *s, double *out)
{
    char *end = NULL;
    if (s[0] == '\0')
        return 0;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Text of a JSON value for matching a level: strings as they are, numbers
 * in shortest round-trip form.  0 when the value is neither. */
static int value_text(const cJSON *v, char buf[32], const char **out)
{
    if (cJSON_IsString(v)) {
        *out = v->valuestring;
        return 1;
    }
    if (cJSON_IsNumber(v)) {
        gb_format_double(v->valuedouble, buf);
        *out = buf;
        return 1;
    }
    return 0;
}

/* Fills X row i from a JSON row object.  Returns -1 after filling resp. */
static int fill_json_row(const gb_model *m, const cJSON *row, size_t i, double *x,
                         api_response *resp)
{
    char message[400];
    if (!cJSON_IsObject(row)) {
        row_error(resp, i, NULL, "each row must be an object of column: value");
        return -1;
    }
    for (size_t j = 0; j < m->n_features; j++) {
        const gb_feature *f = &m->features[j];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, f->name);
        char buf[32];
        const char *text = NULL;
        x[j] = NAN;
        if (v != NULL) {
            if (cJSON_IsNull(v))
                continue;
            if (f->kind == GB_FEAT_NUMERIC) {
                if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
                    x[j] = v->valuedouble;
                else if (!(cJSON_IsString(v) && text_number(v->valuestring, &x[j]))) {
                    snprintf(message, sizeof message, "'%s' must be a number or null",
                             f->name);
                    row_error(resp, i, f->name, message);
                    return -1;
                }
                continue;
            }
            if (!value_text(v, buf, &text)) {
                snprintf(message, sizeof message, "'%s' must be a string or null",
                         f->name);
                row_error(resp, i, f->name, message);
                return -1;
            }
            for (size_t l = 0; l < f->n_levels; l++)
                if (strcmp(f->levels[l], text) == 0)
                    x[j] = (double)l;
            continue;
        }
        /* one-hot "col=level" read from column col */
        const char *eq = f->kind == GB_FEAT_NUMERIC ? strchr(f->name, '=') : NULL;
        if (eq != NULL) {
            char col[256];
            size_t len = (size_t)(eq - f->name);
            if (len < sizeof col) {
                memcpy(col, f->name, len);
                col[len] = '\0';
                const cJSON *cv = cJSON_GetObjectItemCaseSensitive(row, col);
                if (cv != NULL) {
                    if (cJSON_IsNull(cv))
                        continue;
                    if (!value_text(cv, buf, &text)) {
                        snprintf(message, sizeof message,
                                 "'%s' must be a string or null", col);
                        row_error(resp, i, col, message);
                        return -1;
                    }
                    x[j] = strcmp(text, eq + 1) == 0 ? 1.0 : 0.0;
                    continue;
                }
            }
        }
        /* missing: name every feature this row lacks */
        size_t used = 0, n_missing = 0;
        for (size_t k = j; k < m->n_features; k++) {
            const char *name = m->features[k].name;
            if (cJSON_GetObjectItemCaseSensitive(row, name) != NULL)
                continue;
            const char *e2 = strchr(name, '=');
            if (e2 != NULL && m->features[k].kind == GB_FEAT_NUMERIC) {
                char col[256];
                size_t len = (size_t)(e2 - name);
                if (len < sizeof col) {
                    memcpy(col, name, len);
                    col[len] = '\0';
                    if (cJSON_GetObjectItemCaseSensitive(row, col) != NULL)
                        continue;
                }
            }
            int n = snprintf(
                message + used, sizeof message - used, "%s%s",
                n_missing ? ", " : "lacks column(s) the student needs: ", name);
            if (n > 0 && (size_t)n < sizeof message - used)
                used += (size_t)n;
            n_missing++;
        }
        row_error(resp, i, f->name, message);
        return -1;
    }
    return 0;
}

/* The design matrix of the request's rows (gb_malloc'd n_rows x
 * n_features).  Returns NULL after filling resp. */
static double *request_rows(const api_request *req, const gb_model *m, size_t *n_rows,
                            api_response *resp)
{
    const char *ct = req->content_type != NULL ? req->content_type : "";
    double *X = NULL;
    gb_error err;
    gb_error_clear(&err);
    *n_rows = 0;
    if (strncasecmp(ct, "text/csv", 8) == 0) {
        gb_table *table = NULL;
        gb_csv_parser *p = gb_csv_parser_create(NULL, &err);
        gb_status rc = p != NULL ? GB_OK : err.code;
        if (rc == GB_OK)
            rc = gb_csv_parser_feed(p, req->body != NULL ? req->body : "",
                                    req->body_len, &err);
        if (rc == GB_OK)
            rc = gb_csv_parser_finish(p, &table, &err);
        gb_csv_parser_free(p);
        if (rc == GB_OK && table->n_rows == 0)
            rc = gb_error_set(&err, GB_EINPUT, "the CSV has a header but no rows");
        if (rc == GB_OK)
            rc = gb_model_check_features(m, table, &err);
        gb_design *d = NULL;
        if (rc == GB_OK &&
            (d = gb_design_bind(m->features, m->n_features, table, &err)) == NULL)
            rc = err.code != GB_OK ? err.code : GB_EUNUSABLE;
        if (rc == GB_OK &&
            (X = gb_malloc_array(table->n_rows * (m->n_features ? m->n_features : 1),
                                 sizeof *X)) == NULL)
            rc = gb_error_set(&err, GB_ENOMEM, "out of memory reading the rows");
        if (rc == GB_OK) {
            gb_design_fill(d, NULL, 0, table->n_rows, X);
            *n_rows = table->n_rows;
        }
        gb_design_free(d);
        gb_table_free(table);
        if (rc != GB_OK) {
            api_error_from(resp, &err);
            return NULL;
        }
        return X;
    }
    cJSON *body = api_body_object(req, resp);
    if (body == NULL) {
        if (resp->status == 415)
            api_error(resp, 415, "unsupported_media_type", NULL,
                      "predict takes text/csv or application/json {\"rows\":[...]}");
        return NULL;
    }
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(body, "rows"), *row;
    size_t n = cJSON_IsArray(rows) ? (size_t)cJSON_GetArraySize(rows) : 0;
    if (n == 0) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "rows");
        api_error(resp, 422, "invalid_field", details,
                  "the body must be {\"rows\":[{column: value, ...}, ...]} with at "
                  "least one row");
        cJSON_Delete(body);
        return NULL;
    }
    X = gb_malloc_array(n * (m->n_features ? m->n_features : 1), sizeof *X);
    if (X == NULL) {
        api_error(resp, 500, "out_of_memory", NULL, "out of memory reading the rows");
        cJSON_Delete(body);
        return NULL;
    }
    size_t i = 0;
    cJSON_ArrayForEach(row, rows)
    {
        if (fill_json_row(m, row, i, X + i * m->n_features, resp) != 0) {
            gb_free(X);
            cJSON_Delete(body);
            return NULL;
        }
        i++;
    }
    cJSON_Delete(body);
    *n_rows = n;
    return X;
}

/* ---- predict ------------------------------------------------------------------- */

static cJSON *explanation_json(const gb_model *m, const double *block)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    gb_json_add_number(obj, "bias", block[m->n_features]);
    cJSON *contrib = cJSON_AddObjectToObject(obj, "contributions");
    for (size_t j = 0; contrib != NULL && j < m->n_features; j++)
        gb_json_add_number(contrib, m->features[j].name, block[j]);
    return obj;
}

void api_runs_predict(const api_request *req, api_response *resp)
{
    student_ref ref;
    double *X = NULL, *out = NULL, *phi = NULL;
    size_t n_rows = 0;
    gb_error err;
    gb_error_clear(&err);
    const char *explain_arg = api_query(req, "explain");
    int explain = explain_arg != NULL &&
                  (strcmp(explain_arg, "1") == 0 || strcmp(explain_arg, "true") == 0);
    if (explain_arg != NULL && !explain && strcmp(explain_arg, "0") != 0 &&
        strcmp(explain_arg, "false") != 0) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "explain");
        api_error(resp, 400, "invalid_input", details, "explain must be 1 or 0");
        return;
    }
    if (student_acquire(req, resp, &ref) != 0)
        return;
    const gb_model *m = ref.model;
    if (explain && m->ops->attribute == NULL) {
        api_error(resp, 422, "unprocessable", NULL,
                  "a %s student has no exact attributions", m->ops->kind);
        goto done;
    }
    X = request_rows(req, m, &n_rows, resp);
    if (X == NULL)
        goto done;
    out = gb_malloc_array(n_rows * m->n_outputs, sizeof *out);
    if (explain)
        phi = gb_malloc_array(n_rows * m->n_margins * (m->n_features + 1), sizeof *phi);
    if (out == NULL || (explain && phi == NULL)) {
        api_error(resp, 500, "out_of_memory", NULL, "out of memory predicting");
        goto done;
    }
    if (m->ops->predict(m, X, n_rows, out, &err) != GB_OK ||
        (explain && m->ops->attribute(m, X, n_rows, phi, &err) != GB_OK)) {
        api_error_from(resp, &err);
        goto done;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *preds = root != NULL ? cJSON_AddArrayToObject(root, "predictions") : NULL;
    cJSON *expl =
        root != NULL && explain ? cJSON_AddArrayToObject(root, "explanations") : NULL;
    for (size_t i = 0; preds != NULL && i < n_rows; i++) {
        if (m->task == GB_TASK_REGRESSION) {
            cJSON_AddItemToArray(preds, cJSON_CreateNumber(out[i]));
        } else {
            cJSON *p = cJSON_CreateObject();
            for (size_t k = 0; p != NULL && k < m->n_classes; k++)
                gb_json_add_number(p, m->classes[k], out[i * m->n_outputs + k]);
            cJSON_AddItemToArray(preds, p);
        }
        if (expl == NULL)
            continue;
        size_t block = m->n_features + 1;
        const double *row_phi = phi + i * m->n_margins * block;
        if (m->n_margins == 1) {
            cJSON_AddItemToArray(expl, explanation_json(m, row_phi));
        } else {
            cJSON *e = cJSON_CreateObject();
            cJSON *by = e != NULL ? cJSON_AddObjectToObject(e, "by_class") : NULL;
            for (size_t k = 0; by != NULL && k < m->n_margins; k++)
                cJSON_AddItemToObject(by, m->classes[k],
                                      explanation_json(m, row_phi + k * block));
            cJSON_AddItemToArray(expl, e);
        }
    }
    if (root != NULL && explain)
        cJSON_AddStringToObject(root, "explanation_space",
                                m->task == GB_TASK_REGRESSION ? "value"
                                : m->n_margins == 1           ? "logit"
                                                              : "log_odds_by_class");
    api_json(resp, 200, root);
done:
    gb_free(X);
    gb_free(out);
    gb_free(phi);
    student_release(&ref);
}

/* ---- export -------------------------------------------------------------------- */

void api_runs_export(const api_request *req, api_response *resp)
{
    const char *format = api_query(req, "format");
    gb_error err;
    gb_error_clear(&err);
    if (format == NULL || format[0] == '\0')
        format = "json";
    if (strcmp(format, "json") != 0 && strcmp(format, "sql") != 0 &&
        strcmp(format, "c") != 0) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "format");
        api_error(resp, 400, "invalid_input", details,
                  "format must be json, sql or c (got '%s')", format);
        return;
    }
    if (strcmp(format, "json") == 0) {
        char *text = student_text(req, resp);
        if (text == NULL)
            return;
        resp->status = 200;
        resp->raw = text;
        resp->raw_len = strlen(text);
        resp->content_type = "application/json; charset=utf-8";
        return;
    }
    student_ref ref;
    char *code = NULL;
    if (student_acquire(req, resp, &ref) != 0)
        return;
    if (gb_student_export(ref.model, format, &code, &err) != GB_OK) {
        api_error_from(resp, &err);
    } else {
        resp->status = 200;
        resp->raw = code;
        resp->raw_len = strlen(code);
        resp->content_type = strcmp(format, "sql") == 0
                                 ? "application/sql; charset=utf-8"
                                 : "text/x-c; charset=utf-8";
    }
    student_release(&ref);
}
