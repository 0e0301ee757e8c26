/*
 * compare.c - GET /api/v1/compare?runs=ID1,ID2[,...]: several runs' reports
 * side by side, global explanations aligned feature by feature.
 * Layer: api.
 *
 * Answer:
 *   {"runs":[{"id","status","dataset_id","teacher_ids","created_at","task",
 *             "student","metrics","fidelity","complexity","explanation_method"}],
 *    "features":[{"feature","teacher":[..],"student":[..],"baseline":[..]}]}
 * Each "features" array has one entry per run, in the order asked (null
 * where that run's report has no value for the feature).  Features appear
 * in the order of the first report that lists them (reports order them by
 * the teacher's importance), then of later reports.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "storage/runs.h"

#define COMPARE_MAX_RUNS 10

static const char *const roles[] = {"teacher", "student", "baseline"};

static void bad_runs(api_response *resp, const char *message)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "field", "runs");
    api_error(resp, 400, "invalid_input", details, "%s", message);
}

/* Copies report[key] into obj (null when absent). */
static void copy_member(cJSON *obj, const cJSON *report, const char *key,
                        const char *as)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(report, key);
    cJSON *copy = v != NULL ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
    if (copy != NULL)
        cJSON_AddItemToObject(obj, as, copy);
}

static const cJSON *global_of(const cJSON *report)
{
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(report, "explanations");
    const cJSON *global = cJSON_GetObjectItemCaseSensitive(ex, "global");
    return cJSON_IsArray(global) ? global : NULL;
}

/* The entry of `global` for feature name, or NULL. */
static const cJSON *feature_entry(const cJSON *global, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, global)
    {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "feature");
        if (cJSON_IsString(f) && strcmp(f->valuestring, name) == 0)
            return e;
    }
    return NULL;
}

static int feature_listed(const cJSON *features, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, features)
    {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "feature");
        if (cJSON_IsString(f) && strcmp(f->valuestring, name) == 0)
            return 1;
    }
    return 0;
}

static cJSON *aligned_features(cJSON *const *reports, size_t n)
{
    cJSON *features = cJSON_CreateArray();
    for (size_t r = 0; features != NULL && r < n; r++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, global_of(reports[r]))
        {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "feature");
            if (!cJSON_IsString(f) || feature_listed(features, f->valuestring))
                continue;
            cJSON *row = cJSON_CreateObject();
            if (row == NULL)
                continue;
            cJSON_AddItemToArray(features, row);
            cJSON_AddStringToObject(row, "feature", f->valuestring);
            for (size_t k = 0; k < sizeof roles / sizeof roles[0]; k++) {
                cJSON *values = cJSON_AddArrayToObject(row, roles[k]);
                for (size_t q = 0; values != NULL && q < n; q++) {
                    const cJSON *entry =
                        feature_entry(global_of(reports[q]), f->valuestring);
                    const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, roles[k]);
                    cJSON_AddItemToArray(
                        values, cJSON_IsNumber(v) ? cJSON_CreateNumber(v->valuedouble)
                                                  : cJSON_CreateNull());
                }
            }
        }
    }
    return features;
}

void api_compare(const api_request *req, api_response *resp)
{
    char ids[COMPARE_MAX_RUNS][ST_ID_LEN];
    cJSON *reports[COMPARE_MAX_RUNS];
    st_run runs[COMPARE_MAX_RUNS];
    size_t n = 0;
    gb_error err;
    memset(reports, 0, sizeof reports);
    memset(runs, 0, sizeof runs);

    const char *list = api_query(req, "runs");
    if (list == NULL || list[0] == '\0') {
        bad_runs(resp, "runs is required: ?runs=ID1,ID2[,...]");
        return;
    }
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= ST_ID_LEN) {
            bad_runs(resp, "runs must be comma-separated run ids");
            return;
        }
        if (n == COMPARE_MAX_RUNS) {
            bad_runs(resp, "at most 10 runs can be compared at once");
            return;
        }
        memcpy(ids[n], p, len);
        ids[n][len] = '\0';
        for (size_t i = 0; i < n; i++)
            if (strcmp(ids[i], ids[n]) == 0) {
                bad_runs(resp, "a run is listed twice");
                return;
            }
        n++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (n < 2) {
        bad_runs(resp, "compare needs at least two runs");
        return;
    }

    size_t loaded = 0;
    for (; loaded < n; loaded++) {
        char *text = NULL;
        if (st_run_get(req->db, ids[loaded], &runs[loaded], &err) != GB_OK) {
            api_error_from(resp, &err);
            goto done;
        }
        gb_status status = st_run_report(req->db, ids[loaded], &text, &err);
        if (status == GB_ENOTFOUND) {
            api_error(resp, 409, "conflict", NULL, "run '%s' has no report (status %s)",
                      ids[loaded], runs[loaded].status);
            loaded++;
            goto done;
        }
        if (status != GB_OK) {
            api_error_from(resp, &err);
            loaded++;
            goto done;
        }
        reports[loaded] = gb_json_parse(text, strlen(text), NULL);
        gb_free(text);
        if (reports[loaded] == NULL) {
            api_error(resp, 500, "internal_error", NULL,
                      "run '%s' has an unreadable report", ids[loaded]);
            loaded++;
            goto done;
        }
    }

    cJSON *root = cJSON_CreateObject();
    cJSON *array = root != NULL ? cJSON_AddArrayToObject(root, "runs") : NULL;
    for (size_t i = 0; array != NULL && i < n; i++) {
        cJSON *obj = cJSON_CreateObject();
        if (obj == NULL)
            break;
        cJSON_AddItemToArray(array, obj);
        cJSON_AddStringToObject(obj, "id", runs[i].id);
        cJSON_AddStringToObject(obj, "status", runs[i].status);
        api_add_string_or_null(obj, "dataset_id", runs[i].dataset_id);
        cJSON *teachers = cJSON_AddArrayToObject(obj, "teacher_ids");
        for (size_t t = 0; teachers != NULL && t < runs[i].n_teachers; t++)
            cJSON_AddItemToArray(teachers, cJSON_CreateString(runs[i].teacher_ids[t]));
        cJSON_AddStringToObject(obj, "created_at", runs[i].created_at);
        copy_member(obj, reports[i], "task", "task");
        copy_member(obj, reports[i], "student", "student");
        copy_member(obj, reports[i], "metrics", "metrics");
        copy_member(obj, reports[i], "fidelity", "fidelity");
        copy_member(obj, reports[i], "complexity", "complexity");
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(reports[i], "explanations");
        copy_member(obj, ex, "method", "explanation_method");
    }
    if (root != NULL)
        cJSON_AddItemToObject(root, "features", aligned_features(reports, n));
    api_json(resp, 200, root);
done:
    for (size_t i = 0; i < loaded; i++) {
        cJSON_Delete(reports[i]);
        st_run_clear(&runs[i]);
    }
}
