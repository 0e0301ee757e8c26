/*
 * predict.c - POST /api/v1/runs/{id}/predict: scores rows with the run's
 * distilled student; ?explain=1 adds exact local attributions, or for a soft
 * decision tree each row's maximum-probability path.
 * Layer: api.
 *
 * Body: CSV (text/csv, header row) or JSON {"rows":[{"feature":value,...}]}
 * (numbers, strings for categorical levels, null for missing).  JSON rows
 * are turned into CSV text and parsed by the same CSV parser, so both
 * bodies give identical tables.  Columns the student does not use are
 * ignored; a missing feature is a 422 naming it.
 *
 * Answer: {"run_id","task","classes":[..] | null,
 *          "predictions":[[P(class 0),P(class 1),...] per row] (regression:
 *          [value per row]),
 *          "explanation_kind":"attributions" | "path",
 *          "explanations":[...]}   (the last two only with ?explain=1)
 * Attributions, {"bias","contributions":{"feature":value}} per row, are in
 * the model's margin space (binary: logit of class 1; multiclass: one block
 * per class under "by_class").  A path, for an SBDT student, is
 * {"leaf","leaf_node","path_probability","path":[{"node","depth",
 * "direction","probability"}]} per row: the inner nodes from the root, the
 * branch taken at each and its probability, the leaf whose distribution
 * (value) is the row's prediction and the product of the probabilities.
 *
 * Students are rebuilt from their artifacts once and kept in a small cache
 * shared by all HTTP threads (models are immutable; predict is
 * thread-safe), so a one-row request does no parsing beyond its own body.
 */
#include "api/api.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/data/csv.h"
#include "core/data/encode.h"
#include "core/data/table.h"
#include "core/model/students/sbdt.h"
#include "core/model/students/student.h"
#include "storage/runs.h"

#define PREDICT_MAX_ROWS 100000
#define CACHE_SLOTS 32

/* ---- the student cache
 * ---------------------------------------------------------------- */

typedef struct cache_entry {
    char run_id[ST_ID_LEN];
    gb_model *model;
    size_t users; /* requests using the model right now */
    unsigned long last_use;
} cache_entry;

struct api_model_cache {
    pthread_mutex_t lock;
    cache_entry slots[CACHE_SLOTS];
    unsigned long clock;
};

api_model_cache *api_model_cache_create(void)
{
    api_model_cache *c = gb_calloc(1, sizeof *c);
    if (c != NULL)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

void api_model_cache_free(api_model_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        gb_model_free(c->slots[i].model);
    pthread_mutex_destroy(&c->lock);
    gb_free(c);
}

/* The cached model of a run (users incremented), or NULL. */
static gb_model *cache_get(api_model_cache *c, const char *run_id)
{
    gb_model *m = NULL;
    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (c->slots[i].model != NULL && strcmp(c->slots[i].run_id, run_id) == 0) {
            c->slots[i].users++;
            c->slots[i].last_use = ++c->clock;
            m = c->slots[i].model;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    return m;
}

/* Offers a freshly built model to the cache.  Returns the model the caller
 * should use (the cached one if another thread got there first) with
 * users incremented, and sets *owned when the caller keeps ownership (no
 * slot was free). */
static gb_model *cache_put(api_model_cache *c, const char *run_id, gb_model *m,
                           int *owned)
{
    *owned = 1;
    if (c == NULL)
        return m;
    pthread_mutex_lock(&c->lock);
    cache_entry *victim = NULL;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        cache_entry *e = &c->slots[i];
        if (e->model != NULL && strcmp(e->run_id, run_id) == 0) {
            e->users++;
            e->last_use = ++c->clock;
            pthread_mutex_unlock(&c->lock);
            gb_model_free(m);
            *owned = 0;
            return e->model;
        }
        if (e->users == 0 &&
            (victim == NULL || e->model == NULL ||
             (victim->model != NULL && e->last_use < victim->last_use)))
            victim = e;
    }
    if (victim != NULL) {
        gb_model_free(victim->model);
        snprintf(victim->run_id, sizeof victim->run_id, "%s", run_id);
        victim->model = m;
        victim->users = 1;
        victim->last_use = ++c->clock;
        *owned = 0;
    }
    pthread_mutex_unlock(&c->lock);
    return m;
}

static void cache_release(api_model_cache *c, const gb_model *m)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (c->slots[i].model == m && c->slots[i].users > 0)
            c->slots[i].users--;
    pthread_mutex_unlock(&c->lock);
}

/* ---- bodies to tables
 * ---------------------------------------------------------------------- */

typedef struct text_buf {
    char *data;
    size_t len, cap;
} text_buf;

static int buf_add(text_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t want = b->cap ? b->cap : 1024;
        while (want < b->len + n + 1)
            want *= 2;
        char *grown = gb_realloc(b->data, want);
        if (grown == NULL)
            return -1;
        b->data = grown;
        b->cap = want;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Appends a CSV field: quoted, quotes doubled. */
static int buf_field(text_buf *b, const char *s)
{
    if (buf_add(b, "\"", 1) != 0)
        return -1;
    for (const char *p = s; *p; p++)
        if (buf_add(b, p, 1) != 0 || (*p == '"' && buf_add(b, "\"", 1) != 0))
            return -1;
    return buf_add(b, "\"", 1);
}

/* {"rows":[{...}]} -> CSV text (gb_malloc'd) or NULL with err set. */
static char *rows_to_csv(const cJSON *body, size_t *n_out, gb_error *err)
{
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(body, "rows");
    text_buf b = {NULL, 0, 0};
    cJSON *names = NULL;
    if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) == 0) {
        gb_error_set(err, GB_EUNUSABLE,
                     "body needs \"rows\": a non-empty array of objects");
        gb_error_field(err, "rows");
        return NULL;
    }
    if (cJSON_GetArraySize(rows) > PREDICT_MAX_ROWS) {
        gb_error_set(err, GB_ETOOLARGE, "at most %d rows per request",
                     PREDICT_MAX_ROWS);
        return NULL;
    }
    names = cJSON_CreateArray();
    const cJSON *row, *cell;
    size_t r = 0;
    cJSON_ArrayForEach(row, rows)
    {
        if (!cJSON_IsObject(row)) {
            gb_error_set(err, GB_EUNUSABLE, "rows[%zu] is not an object", r);
            gb_error_field(err, "rows");
            goto fail;
        }
        cJSON_ArrayForEach(cell, row)
        {
            int seen = 0;
            const cJSON *n;
            cJSON_ArrayForEach(n, names) seen |=
                strcmp(n->valuestring, cell->string) == 0;
            if (!seen)
                cJSON_AddItemToArray(names, cJSON_CreateString(cell->string));
        }
        r++;
    }
    const cJSON *name;
    int first = 1;
    cJSON_ArrayForEach(name, names)
    {
        if ((!first && buf_add(&b, ",", 1) != 0) ||
            buf_field(&b, name->valuestring) != 0)
            goto oom;
        first = 0;
    }
    if (buf_add(&b, "\n", 1) != 0)
        goto oom;
    r = 0;
    cJSON_ArrayForEach(row, rows)
    {
        first = 1;
        cJSON_ArrayForEach(name, names)
        {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name->valuestring);
            char num[40];
            if (!first && buf_add(&b, ",", 1) != 0)
                goto oom;
            first = 0;
            if (v == NULL || cJSON_IsNull(v))
                continue;
            if (cJSON_IsNumber(v)) {
                if (!isfinite(v->valuedouble)) {
                    gb_error_set(err, GB_EUNUSABLE, "rows[%zu].%s is not finite", r,
                                 name->valuestring);
                    goto fail;
                }
                snprintf(num, sizeof num, "%.17g", v->valuedouble);
                if (buf_add(&b, num, strlen(num)) != 0)
                    goto oom;
            } else if (cJSON_IsString(v)) {
                if (buf_field(&b, v->valuestring) != 0)
                    goto oom;
            } else {
                gb_error_set(err, GB_EUNUSABLE,
                             "rows[%zu].%s must be a number, a string or null", r,
                             name->valuestring);
                gb_error_field(err, name->valuestring);
                goto fail;
            }
        }
        if (buf_add(&b, "\n", 1) != 0)
            goto oom;
        r++;
    }
    cJSON_Delete(names);
    *n_out = b.len;
    return b.data;
oom:
    gb_error_set(err, GB_ENOMEM, "out of memory reading the rows");
fail:
    cJSON_Delete(names);
    gb_free(b.data);
    return NULL;
}

static gb_status parse_csv(const char *text, size_t n, gb_table **out, gb_error *err)
{
    gb_csv_options opts = {PREDICT_MAX_ROWS};
    gb_csv_parser *p = gb_csv_parser_create(&opts, err);
    if (p == NULL)
        return err->code;
    gb_status status = gb_csv_parser_feed(p, text, n, err);
    if (status == GB_OK)
        status = gb_csv_parser_finish(p, out, err);
    gb_csv_parser_free(p);
    return status;
}

/* ---- the route
 * ------------------------------------------------------------------------------ */

static cJSON *explain_rows(const gb_model *m, const gb_table *table, gb_error *err)
{
    size_t n = table->n_rows, nf = m->n_features, nm = m->n_margins;
    gb_design *design = gb_design_bind(m->features, nf, table, err);
    double *X = NULL, *phi = NULL;
    cJSON *out = NULL;
    if (design == NULL)
        return NULL;
    X = gb_malloc_array(n, (nf ? nf : 1) * sizeof *X);
    phi = gb_malloc_array(n * nm, (nf + 1) * sizeof *phi);
    if (X == NULL || phi == NULL) {
        gb_error_set(err, GB_ENOMEM, "out of memory explaining %zu rows", n);
        goto done;
    }
    gb_design_fill(design, NULL, 0, n, X);
    if (m->ops->attribute(m, X, n, phi, err) != GB_OK)
        goto done;
    out = cJSON_CreateArray();
    int complete = out != NULL;
    for (size_t i = 0; complete && i < n; i++) {
        cJSON *row = cJSON_CreateObject();
        if (row == NULL || !cJSON_AddItemToArray(out, row)) {
            cJSON_Delete(row);
            complete = 0;
            break;
        }
        cJSON *blocks = nm > 1 ? cJSON_AddArrayToObject(row, "by_class") : NULL;
        complete = nm <= 1 || blocks != NULL;
        for (size_t k = 0; complete && k < nm; k++) {
            const double *p = phi + (i * nm + k) * (nf + 1);
            cJSON *block = row;
            if (blocks != NULL) {
                block = cJSON_CreateObject();
                if (block == NULL || !cJSON_AddItemToArray(blocks, block)) {
                    cJSON_Delete(block);
                    complete = 0;
                    break;
                }
                complete =
                    cJSON_AddStringToObject(block, "class", m->classes[k]) != NULL;
            }
            complete = complete && gb_json_add_number(block, "bias", p[nf]) != NULL;
            cJSON *contrib =
                complete ? cJSON_AddObjectToObject(block, "contributions") : NULL;
            complete = contrib != NULL;
            for (size_t j = 0; complete && j < nf; j++)
                complete =
                    gb_json_add_number(contrib, m->features[j].name, p[j]) != NULL;
        }
    }
    if (!complete) { /* nothing half-built goes out */
        cJSON_Delete(out);
        out = NULL;
        gb_error_set(err, GB_ENOMEM, "out of memory explaining %zu rows", n);
    }
done:
    gb_free(phi);
    gb_free(X);
    gb_design_free(design);
    return out;
}

/* Each row's maximum-probability path through an SBDT student (one object per
 * row, in order; numbering as in the artifact: inner nodes 0 .. 2^d - 2 in
 * heap order, leaf l is node 2^d - 1 + l).  Returns a new array owned by the
 * caller, or NULL with err set (GB_ENOMEM, or a design error). */
static cJSON *explain_paths(const gb_model *m, const gb_table *table, gb_error *err)
{
    size_t n = table->n_rows, nf = m->n_features;
    size_t depth = (size_t)gb_sbdt_depth(m);
    size_t n_inner = ((size_t)1 << depth) - 1;
    gb_design *design = gb_design_bind(m->features, nf, table, err);
    double *X = NULL, *prob = NULL;
    size_t *nodes = NULL, *leaf = NULL;
    cJSON *out = NULL;
    if (design == NULL)
        return NULL;
    X = gb_malloc_array(n, (nf ? nf : 1) * sizeof *X);
    prob = gb_malloc_array(n, depth * sizeof *prob);
    nodes = gb_malloc_array(n, depth * sizeof *nodes);
    leaf = gb_malloc_array(n, sizeof *leaf);
    if (X == NULL || prob == NULL || nodes == NULL || leaf == NULL) {
        gb_error_set(err, GB_ENOMEM, "out of memory explaining %zu rows", n);
        goto done;
    }
    gb_design_fill(design, NULL, 0, n, X);
    if (gb_sbdt_paths(m, X, n, nodes, prob, leaf, err) != GB_OK)
        goto done;
    out = cJSON_CreateArray();
    int complete = out != NULL;
    for (size_t i = 0; complete && i < n; i++) {
        const size_t *nd = nodes + i * depth;
        const double *pr = prob + i * depth;
        size_t leaf_node = n_inner + leaf[i];
        double path_prob = 1.0; /* root to leaf, as the core multiplies */
        cJSON *row = cJSON_CreateObject();
        if (row == NULL || !cJSON_AddItemToArray(out, row)) {
            cJSON_Delete(row);
            complete = 0;
            break;
        }
        cJSON_AddNumberToObject(row, "leaf", (double)leaf[i]);
        cJSON_AddNumberToObject(row, "leaf_node", (double)leaf_node);
        for (size_t k = 0; k < depth; k++)
            path_prob *= pr[k];
        gb_json_add_number(row, "path_probability", path_prob);
        cJSON *path = cJSON_AddArrayToObject(row, "path");
        complete = path != NULL;
        for (size_t k = 0; complete && k < depth; k++) {
            size_t child = k + 1 < depth ? nd[k + 1] : leaf_node;
            cJSON *step = cJSON_CreateObject();
            if (step == NULL || !cJSON_AddItemToArray(path, step)) {
                cJSON_Delete(step);
                complete = 0;
                break;
            }
            cJSON_AddNumberToObject(step, "node", (double)nd[k]);
            cJSON_AddNumberToObject(step, "depth", (double)k);
            cJSON_AddStringToObject(step, "direction",
                                    child == 2 * nd[k] + 2 ? "right" : "left");
            gb_json_add_number(step, "probability", pr[k]);
        }
    }
    if (!complete) { /* nothing half-built goes out */
        cJSON_Delete(out);
        out = NULL;
        gb_error_set(err, GB_ENOMEM, "out of memory explaining %zu rows", n);
    }
done:
    gb_free(leaf);
    gb_free(nodes);
    gb_free(prob);
    gb_free(X);
    gb_design_free(design);
    return out;
}

void api_runs_predict(const api_request *req, api_response *resp)
{
    api_model_cache *cache = req->env != NULL ? req->env->model_cache : NULL;
    gb_model *model = NULL;
    int owned = 0;
    char *artifact = NULL, *csv = NULL;
    cJSON *doc = NULL, *body = NULL;
    gb_table *table = NULL;
    double *out = NULL;
    st_run run;
    gb_error err;
    gb_error_clear(&err);
    const char *explain = api_query(req, "explain");
    int want_explain = explain != NULL && strcmp(explain, "1") == 0;

    const char *ct = req->content_type;
    int is_csv = ct != NULL && strncasecmp(ct, "text/csv", 8) == 0;
    if (!is_csv) {
        body = api_body_object(req, resp); /* 415 / 400 as for every JSON route */
        if (body == NULL)
            return;
    }
    model = cache_get(cache, req->param_id);
    if (model == NULL) {
        if (st_run_get(req->db, req->param_id, &run, &err) != GB_OK) {
            api_error_from(resp, &err);
            goto done;
        }
        st_run_clear(&run);
        gb_model *built = NULL;
        if (st_run_student(req->db, req->param_id, &artifact, &err) != GB_OK) {
            api_error_from(resp, &err);
            goto done;
        }
        doc = gb_json_parse(artifact, strlen(artifact), &err);
        if (doc == NULL || gb_student_from_json(doc, &built, &err) != GB_OK) {
            err.code = GB_EINTERNAL; /* the stored artifact is ours */
            api_error_from(resp, &err);
            goto done;
        }
        model = cache_put(cache, req->param_id, built, &owned);
    }

    gb_status status;
    if (is_csv) {
        status =
            parse_csv(req->body != NULL ? req->body : "", req->body_len, &table, &err);
    } else {
        size_t n = 0;
        csv = rows_to_csv(body, &n, &err);
        status = csv != NULL ? parse_csv(csv, n, &table, &err) : err.code;
    }
    if (status == GB_OK &&
        (out = gb_malloc_array(table->n_rows, model->n_outputs * sizeof *out)) == NULL)
        status = gb_error_set(&err, GB_ENOMEM, "out of memory scoring %zu rows",
                              table->n_rows);
    if (status == GB_OK)
        status = gb_model_predict_table(model, table, NULL, table->n_rows, out, &err);
    if (status != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        goto oom;
    cJSON_AddStringToObject(root, "run_id", req->param_id);
    cJSON_AddStringToObject(root, "task", gb_task_name(model->task));
    if (model->n_classes > 0)
        cJSON_AddItemToObject(
            root, "classes",
            gb_json_string_array_create(model->classes, model->n_classes));
    else
        cJSON_AddNullToObject(root, "classes");
    cJSON *preds = cJSON_AddArrayToObject(root, "predictions");
    for (size_t i = 0; preds != NULL && i < table->n_rows; i++) {
        if (model->n_classes > 0)
            cJSON_AddItemToArray(preds,
                                 gb_json_number_array_create(out + i * model->n_outputs,
                                                             model->n_outputs));
        else
            cJSON_AddItemToArray(preds, cJSON_CreateNumber(out[i]));
    }
    if (want_explain) {
        const char *kind = NULL;
        cJSON *ex = NULL;
        if (model->ops->attribute != NULL) {
            kind = "attributions";
            ex = explain_rows(model, table, &err);
        } else if (gb_sbdt_is_model(model)) {
            kind = "path";
            ex = explain_paths(model, table, &err);
        } else {
            cJSON_Delete(root);
            api_error(resp, 422, "unprocessable", NULL,
                      "%s students have no exact local attributions", model->ops->kind);
            goto done;
        }
        if (ex == NULL) {
            cJSON_Delete(root);
            api_error_from(resp, &err);
            goto done;
        }
        cJSON_AddStringToObject(root, "explanation_kind", kind);
        cJSON_AddItemToObject(root, "explanations", ex);
    }
    api_json(resp, 200, root);
    goto done;
oom:
    api_error(resp, 500, "out_of_memory", NULL, "out of memory");
done:
    if (model != NULL) {
        if (owned)
            gb_model_free(model);
        else
            cache_release(cache, model);
    }
    gb_free(out);
    gb_table_free(table);
    gb_free(csv);
    cJSON_Delete(doc);
    cJSON_Delete(body);
    gb_free(artifact);
}
