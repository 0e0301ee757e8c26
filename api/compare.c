/*
 * compare.c - GET /api/v1/compare?runs=ID1,ID2[,...]: the reports of two to
 * ten succeeded distillation runs side by side.
 * Layer: api.
 *
 * Answer:
 *   {"runs":[{"id","student","dataset_id","teacher_ids","task","hashes"}],
 *    "metrics":{"teacher"|"student"|"baseline":{metric:[v per run]}},
 *    "fidelity":{field:[v per run]},              (scalar fields)
 *    "fidelity_ci95":{field:[[lo,hi] per run]},
 *    "complexity":{field:[v per run]},
 *    "explanations":{"method":[per run],
 *                    "global":[{"feature","teacher":[..],"student":[..],
 *                               "baseline":[..]}]}}
 * Every array has one entry per run in the order asked (null where that
 * run's report lacks the field); global explanations are aligned by column
 * name: the union of the runs' columns, the first run's order first.
 * 400 for a malformed list, 404 naming an unknown id, 409 naming a run
 * that has not succeeded (or is not a distillation run).
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#define COMPARE_MAX 10

static const cJSON *get(const cJSON *obj, const char *key)
{
    return obj != NULL ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static cJSON *copy_or_null(const cJSON *v)
{
    return v != NULL ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* {key:[value per run]} for every scalar member of the runs' objects
 * reports[i].path (keys in first-seen order). */
static cJSON *align_scalars(cJSON *const *objs, size_t n)
{
    cJSON *out = cJSON_CreateObject();
    for (size_t i = 0; out != NULL && i < n; i++) {
        const cJSON *item;
        cJSON_ArrayForEach(item, objs[i])
        {
            if (cJSON_IsObject(item) || get(out, item->string) != NULL)
                continue;
            if (cJSON_IsArray(item) && cJSON_GetArraySize(item) > 0 &&
                cJSON_IsObject(cJSON_GetArrayItem(item, 0)))
                continue; /* tables (deciles) are not compared value by value */
            cJSON *values = cJSON_AddArrayToObject(out, item->string);
            for (size_t k = 0; values != NULL && k < n; k++)
                cJSON_AddItemToArray(values, copy_or_null(get(objs[k], item->string)));
        }
    }
    return out;
}

static cJSON *align_global(cJSON *const *reports, size_t n)
{
    static const char *const who[] = {"teacher", "student", "baseline"};
    cJSON *out = cJSON_CreateArray();
    for (size_t i = 0; out != NULL && i < n; i++) {
        const cJSON *g;
        cJSON_ArrayForEach(g, get(get(reports[i], "explanations"), "global"))
        {
            const cJSON *feature = get(g, "feature");
            if (!cJSON_IsString(feature))
                continue;
            int seen = 0;
            const cJSON *row;
            cJSON_ArrayForEach(row, out)
            {
                if (strcmp(get(row, "feature")->valuestring, feature->valuestring) == 0)
                    seen = 1;
            }
            if (seen)
                continue;
            cJSON *entry = cJSON_CreateObject();
            if (entry == NULL)
                break;
            cJSON_AddItemToArray(out, entry);
            cJSON_AddStringToObject(entry, "feature", feature->valuestring);
            for (size_t w = 0; w < 3; w++) {
                cJSON *values = cJSON_AddArrayToObject(entry, who[w]);
                for (size_t k = 0; values != NULL && k < n; k++) {
                    const cJSON *match = NULL, *h;
                    cJSON_ArrayForEach(h,
                                       get(get(reports[k], "explanations"), "global"))
                    {
                        const cJSON *f = get(h, "feature");
                        if (cJSON_IsString(f) &&
                            strcmp(f->valuestring, feature->valuestring) == 0)
                            match = h;
                    }
                    cJSON_AddItemToArray(values, copy_or_null(get(match, who[w])));
                }
            }
        }
    }
    return out;
}

static void runs_error(api_response *resp, int status, const char *code, const char *id,
                       const char *message)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "field", "runs");
    if (id != NULL)
        cJSON_AddStringToObject(details, "id", id);
    api_error(resp, status, code, details, "%s", message);
}

void api_compare(const api_request *req, api_response *resp)
{
    const char *list = api_query(req, "runs");
    char ids[COMPARE_MAX][ST_ID_LEN];
    cJSON *reports[COMPARE_MAX] = {0};
    cJSON *objs[COMPARE_MAX];
    st_run runs[COMPARE_MAX];
    size_t n = 0;
    char message[600];
    gb_error err;
    memset(runs, 0, sizeof runs);
    gb_error_clear(&err);
    for (const char *p = list != NULL ? list : ""; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= ST_ID_LEN || n == COMPARE_MAX) {
            n = COMPARE_MAX + 1;
            break;
        }
        memcpy(ids[n], p, len);
        ids[n][len] = '\0';
        n++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (n < 2 || n > COMPARE_MAX) {
        snprintf(message, sizeof message,
                 "runs must list 2 to %d run ids separated by commas", COMPARE_MAX);
        runs_error(resp, 400, "invalid_input", NULL, message);
        return;
    }
    size_t loaded = 0;
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        if (st_run_get(req->db, ids[i], &runs[i], &err) != GB_OK) {
            if (err.code == GB_ENOTFOUND) {
                snprintf(message, sizeof message, "no run with id '%s'", ids[i]);
                runs_error(resp, 404, "not_found", ids[i], message);
            } else {
                api_error_from(resp, &err);
            }
            goto done;
        }
        loaded = i + 1;
        if (strcmp(runs[i].kind, "distill") != 0 ||
            strcmp(runs[i].status, "succeeded") != 0) {
            snprintf(message, sizeof message,
                     "run '%s' has no report to compare: it is a %s run and %s", ids[i],
                     runs[i].kind, runs[i].status);
            runs_error(resp, 409, "conflict", ids[i], message);
            goto done;
        }
        if (st_run_report(req->db, ids[i], &text, &err) != GB_OK) {
            api_error_from(resp, &err);
            goto done;
        }
        reports[i] = gb_json_parse(text, strlen(text), &err);
        gb_free(text);
        if (reports[i] == NULL) {
            api_error(resp, 500, "internal_error", NULL,
                      "the stored report of run '%s' is unreadable", ids[i]);
            goto done;
        }
    }

    cJSON *root = cJSON_CreateObject();
    cJSON *jruns = root != NULL ? cJSON_AddArrayToObject(root, "runs") : NULL;
    for (size_t i = 0; jruns != NULL && i < n; i++) {
        cJSON *r = cJSON_CreateObject();
        if (r == NULL)
            break;
        cJSON_AddItemToArray(jruns, r);
        cJSON_AddStringToObject(r, "id", runs[i].id);
        cJSON_AddStringToObject(r, "dataset_id", runs[i].dataset_id);
        cJSON *t = cJSON_AddArrayToObject(r, "teacher_ids");
        for (size_t k = 0; t != NULL && k < runs[i].n_teachers; k++)
            cJSON_AddItemToArray(t, cJSON_CreateString(runs[i].teacher_ids[k]));
        cJSON_AddItemToObject(r, "task", copy_or_null(get(reports[i], "task")));
        cJSON_AddItemToObject(r, "student", copy_or_null(get(reports[i], "student")));
        cJSON_AddItemToObject(r, "distill", copy_or_null(get(reports[i], "distill")));
        cJSON_AddItemToObject(r, "hashes", copy_or_null(get(reports[i], "hashes")));
    }
    cJSON *metrics = root != NULL ? cJSON_AddObjectToObject(root, "metrics") : NULL;
    static const char *const who[] = {"teacher", "student", "baseline"};
    for (size_t w = 0; metrics != NULL && w < 3; w++) {
        for (size_t i = 0; i < n; i++)
            objs[i] = (cJSON *)get(get(reports[i], "metrics"), who[w]);
        cJSON_AddItemToObject(metrics, who[w], align_scalars(objs, n));
    }
    if (root != NULL) {
        for (size_t i = 0; i < n; i++)
            objs[i] = (cJSON *)get(reports[i], "fidelity");
        cJSON_AddItemToObject(root, "fidelity", align_scalars(objs, n));
        for (size_t i = 0; i < n; i++)
            objs[i] = (cJSON *)get(get(reports[i], "fidelity"), "ci95");
        cJSON_AddItemToObject(root, "fidelity_ci95", align_scalars(objs, n));
        for (size_t i = 0; i < n; i++)
            objs[i] = (cJSON *)get(reports[i], "complexity");
        cJSON_AddItemToObject(root, "complexity", align_scalars(objs, n));
        cJSON *ex = cJSON_AddObjectToObject(root, "explanations");
        cJSON *method = ex != NULL ? cJSON_AddArrayToObject(ex, "method") : NULL;
        for (size_t i = 0; method != NULL && i < n; i++)
            cJSON_AddItemToArray(
                method, copy_or_null(get(get(reports[i], "explanations"), "method")));
        if (ex != NULL)
            cJSON_AddItemToObject(ex, "global", align_global(reports, n));
    }
    api_json(resp, 200, root);
done:
    for (size_t i = 0; i < n && i < COMPARE_MAX; i++)
        cJSON_Delete(reports[i]);
    for (size_t i = 0; i < loaded; i++)
        st_run_clear(&runs[i]);
}
