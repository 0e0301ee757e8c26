/*
 * check_api.c - resource handlers called directly (no HTTP): response
 * shapes and statuses, streamed dataset uploads giving the same answer
 * whatever the chunking, error bodies naming line/field, and failing
 * allocations answered cleanly with nothing half-stored.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "core/sha256.h"
#include "storage/blobs.h"
#include "storage/datasets.h"
#include "storage/runs.h"
#include "storage/db.h"
#include "storage/tokens.h"

static char tmp_dir[256];
static char db_path[300];
static st_db *db;
static st_token admin;
static api_env env;

/* ---- a tiny request builder -------------------------------------------------- */

typedef struct query_kv {
    const char *keys[8];
    const char *values[8];
} query_kv;

static const char *query_lookup(void *ctx, const char *key)
{
    query_kv *q = ctx;
    if (q == NULL)
        return NULL;
    for (size_t i = 0; i < 8 && q->keys[i] != NULL; i++)
        if (strcmp(q->keys[i], key) == 0)
            return q->values[i];
    return NULL;
}

static api_request make_req(const char *method, const char *id,
                            const char *content_type, const char *body, query_kv *q)
{
    api_request req;
    memset(&req, 0, sizeof req);
    req.env = &env;
    req.db = db;
    req.actor = &admin;
    req.method = method;
    req.path = "/";
    req.param_id = id;
    req.content_type = content_type;
    req.body = body;
    req.body_len = body != NULL ? strlen(body) : 0;
    req.query = query_lookup;
    req.query_ctx = q;
    return req;
}

static void resp_free(api_response *resp)
{
    cJSON_Delete(resp->json);
    gb_free(resp->raw);
    memset(resp, 0, sizeof *resp);
}

static const char *error_code(const api_response *resp)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp->json, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    ck_assert_msg(cJSON_IsString(code), "no error code");
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")));
    ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "details")));
    return code->valuestring;
}

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_msg(cJSON_IsString(v), "no string %s", key);
    return v->valuestring;
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_msg(cJSON_IsNumber(v), "no number %s", key);
    return v->valuedouble;
}

static void setup(void)
{
    gb_error err;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/gb-api-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
    snprintf(db_path, sizeof db_path, "%s/glassbox.db", tmp_dir);
    ck_assert_int_eq(st_db_open(db_path, &db, &err), GB_OK);
    ck_assert_int_eq(st_blobs_init(tmp_dir, &err), GB_OK);
    char secret[ST_TOKEN_SECRET_LEN + 1];
    ck_assert_int_eq(
        st_token_create(db, "root", ST_ROLE_ADMIN, "test", NULL, &admin, secret, &err),
        GB_OK);
    memset(&env, 0, sizeof env);
    env.data_dir = tmp_dir;
    env.db_path = db_path;
    env.max_upload_bytes = 1 << 20;
}

static void teardown(void)
{
    char cmd[400];
    st_db_close(db);
    db = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- dataset uploads ---------------------------------------------------------- */

static const char *credit_csv = "\xEF\xBB\xBF"
                                "age,income,region,default\r\n"
                                "34,52000,north,0\r\n"
                                "51,,south,1\r\n"
                                "29,38000,\"north\",0\r\n"
                                "45,61000,NA,1\r\n";

/* Streams text through the upload handler in chunks of `chunk` bytes. */
static void upload(const char *text, size_t chunk, query_kv *q, api_response *resp)
{
    api_request req = make_req("POST", NULL, "text/csv; charset=utf-8", NULL, q);
    memset(resp, 0, sizeof *resp);
    void *state = api_datasets_upload_ops.begin(&req, resp);
    if (state == NULL)
        return;
    size_t n = strlen(text), at = 0;
    int failed = 0;
    while (at < n && !failed) {
        size_t take = n - at < chunk ? n - at : chunk;
        failed = api_datasets_upload_ops.feed(state, text + at, take, resp) != 0;
        at += take;
    }
    if (!failed)
        api_datasets_upload_ops.end(state, &req, resp);
    api_datasets_upload_ops.free(state);
}

START_TEST(test_upload_same_answer_for_any_chunking)
{
    query_kv q = {{"name", "target"}, {"credit", "default"}};
    api_response first, again;
    upload(credit_csv, 1, &q, &first);
    ck_assert_int_eq(first.status, 201);
    ck_assert_str_eq(str(first.json, "task"), "binary");
    ck_assert_int_eq((int)num(first.json, "rows"), 4);
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(first.json, "columns");
    ck_assert_int_eq(cJSON_GetArraySize(cols), 4);
    const cJSON *region = cJSON_GetArrayItem(cols, 2);
    ck_assert_str_eq(str(region, "type"), "categorical");
    ck_assert_int_eq((int)num(region, "missing"), 1);
    /* The id comes first, and sha256 is that of the bytes. */
    ck_assert_str_eq(first.json->child->string, "id");
    char hex[65];
    gb_sha256_hex_of(credit_csv, strlen(credit_csv), hex);
    ck_assert_str_eq(str(first.json, "sha256"), hex);
    for (size_t chunk = 2; chunk <= 64; chunk *= 3) {
        upload(credit_csv, chunk, &q, &again);
        ck_assert_int_eq(again.status, 200); /* the same bytes: existing dataset */
        ck_assert_str_eq(str(again.json, "id"), str(first.json, "id"));
        resp_free(&again);
    }
    resp_free(&first);
}
END_TEST

START_TEST(test_upload_errors)
{
    api_response resp;
    query_kv q = {{"name", "target"}, {"bad", "default"}};
    upload("age,default\n1,0\n2\n", 3, &q, &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_str_eq(error_code(&resp), "invalid_input");
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItem(resp.json, "error"), "details");
    ck_assert_int_eq((int)num(details, "line"), 3);
    resp_free(&resp);

    query_kv missing_target = {{"name", "target"}, {"x", "nope"}};
    upload(credit_csv, 1000, &missing_target, &resp);
    ck_assert_int_eq(resp.status, 422);
    resp_free(&resp);

    query_kv no_name = {{"target"}, {"default"}};
    upload(credit_csv, 1000, &no_name, &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_str_eq(error_code(&resp), "invalid_input");
    resp_free(&resp);

    query_kv bad_utf8 = {{"name", "target"}, {"caf\xc3", "default"}};
    upload(credit_csv, 1000, &bad_utf8, &resp);
    ck_assert_int_eq(resp.status, 400);
    char *printed = cJSON_PrintUnformatted(resp.json);
    ck_assert_ptr_nonnull(strstr(printed, "UTF-8"));
    cJSON_free(printed);
    resp_free(&resp);
    query_kv good_utf8 = {{"name", "target"},
                          {"cr\xc3\xa9"
                           "dit \xe2\x82\xac",
                           "nope"}};
    upload(credit_csv, 1000, &good_utf8, &resp);
    ck_assert_int_eq(resp.status, 422); /* the name passed; the target did not */
    resp_free(&resp);

    query_kv bad_task = {{"name", "target", "task"}, {"x", "default", "ranking"}};
    upload(credit_csv, 1000, &bad_task, &resp);
    ck_assert_int_eq(resp.status, 400);
    resp_free(&resp);

    api_request req = make_req("POST", NULL, "application/json", NULL, &q);
    memset(&resp, 0, sizeof resp);
    ck_assert_ptr_null(api_datasets_upload_ops.begin(&req, &resp));
    ck_assert_int_eq(resp.status, 415);
    resp_free(&resp);

    /* Nothing was stored by any of these. */
    st_dataset *items = NULL;
    size_t n = 0, total = 0;
    gb_error err;
    ck_assert_int_eq(st_dataset_list(db, 0, 0, &items, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(total, 0);
    st_dataset_list_free(items, n);
}
END_TEST

START_TEST(test_upload_allocation_failures_store_nothing_half)
{
    /* Fail the k-th allocation for every k that the upload reaches: the
     * answer is either a success or an error body, and a dataset row
     * exists exactly when the upload answered 201/200. */
    query_kv q = {{"name", "target"}, {"credit", "default"}};
    int stored = 0;
    long k_done = 0;
    for (long k = 1; k < 400 && !stored; k++) {
        k_done = k;
        api_response resp;
        gb_alloc_fail_after(k);
        upload(credit_csv, 16, &q, &resp);
        gb_alloc_fail_after(0);
        ck_assert_msg(resp.status != 0, "no answer at k=%ld", k);
        st_dataset *items = NULL;
        size_t n = 0, total = 0;
        gb_error err;
        ck_assert_int_eq(st_dataset_list(db, 0, 0, &items, &n, &total, &err), GB_OK);
        st_dataset_list_free(items, n);
        if (resp.status >= 400) {
            if (resp.json != NULL)
                (void)error_code(&resp);
            /* A row may exist only if the failure hit the final rendering. */
            ck_assert_msg(total == 0 || resp.status == 500, "k=%ld status %d", k,
                          resp.status);
        } else {
            ck_assert_int_eq(resp.status, 201);
            ck_assert_uint_eq(total, 1);
            stored = 1;
        }
        resp_free(&resp);
    }
    ck_assert_int_eq(stored, 1);
    ck_assert_int_gt(k_done, 20); /* many failure points were exercised */
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s/blobs/tmp", tmp_dir);
    ck_assert_int_eq(rmdir(tmp), 0); /* empty: no temp file leaked */
}
END_TEST

/* ---- tokens, health, audit ----------------------------------------------------------
 */

START_TEST(test_tokens_and_audit)
{
    api_response resp;
    memset(&resp, 0, sizeof resp);
    api_request req = make_req("POST", NULL, "application/json",
                               "{\"name\":\"val\",\"role\":\"validator\"}", NULL);
    api_tokens_create(&req, &resp);
    ck_assert_int_eq(resp.status, 201);
    ck_assert_uint_eq(strlen(str(resp.json, "token")), 64);
    char id[ST_ID_LEN];
    snprintf(id, sizeof id, "%s", str(resp.json, "id"));
    resp_free(&resp);

    const char *bad_bodies[][2] = {
        {"{\"name\":\"v\",\"role\":\"god\"}", "unprocessable"},
        {"{\"role\":\"viewer\"}", "invalid_field"},
        {"{\"name\":\"a\\u0001b\",\"role\":\"viewer\"}", "invalid_field"},
        {"[1,2]", "invalid_json"},
        {"{\"name\":", "invalid_json"},
    };
    for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++) {
        req = make_req("POST", NULL, "application/json", bad_bodies[i][0], NULL);
        api_tokens_create(&req, &resp);
        ck_assert_str_eq(error_code(&resp), bad_bodies[i][1]);
        resp_free(&resp);
    }
    req = make_req("POST", NULL, "text/plain", "{}", NULL);
    api_tokens_create(&req, &resp);
    ck_assert_int_eq(resp.status, 415);
    resp_free(&resp);

    req = make_req("DELETE", id, NULL, NULL, NULL);
    api_tokens_revoke(&req, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert(!cJSON_IsNull(cJSON_GetObjectItem(resp.json, "revoked_at")));
    resp_free(&resp);

    query_kv paging = {{"limit"}, {"0"}};
    req = make_req("GET", NULL, NULL, NULL, &paging);
    api_tokens_list(&req, &resp);
    ck_assert_int_eq(resp.status, 400);
    resp_free(&resp);

    req = make_req("GET", NULL, NULL, NULL, NULL);
    api_health_get(&req, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(str(resp.json, "db"), "ok");
    resp_free(&resp);

    api_audit_list(&req, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_int_eq((int)num(resp.json, "total"), 2); /* create + revoke */
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(resp.json, "items"), 0);
    ck_assert_str_eq(str(first, "action"), "token.revoke");
    ck_assert_str_eq(str(first, "actor"), "root");
    resp_free(&resp);
    api_audit_verify(&req, &resp);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(resp.json, "ok")));
    resp_free(&resp);
}
END_TEST

/* Queues, claims and finishes a run with the given report. */
static void finished_run(const char *dataset_id, const char *report, char id[ST_ID_LEN])
{
    st_run run, claimed;
    int full = 0, ok = 0;
    gb_error err;
    memset(&run, 0, sizeof run);
    snprintf(run.kind, sizeof run.kind, "distill");
    snprintf(run.dataset_id, sizeof run.dataset_id, "%s", dataset_id);
    snprintf(run.created_by, sizeof run.created_by, "root");
    ck_assert_int_eq(st_run_enqueue(db, &run, 0, NULL, &full, &err), GB_OK);
    ck_assert_int_eq(st_run_claim(db, NULL, &claimed, &ok, &err), GB_OK);
    ck_assert_str_eq(claimed.id, run.id);
    st_run_clear(&claimed);
    if (report != NULL) {
        st_run_outcome done = {"succeeded", NULL, report, NULL};
        ck_assert_int_eq(st_run_finish(db, run.id, &done, NULL, &err), GB_OK);
    }
    snprintf(id, ST_ID_LEN, "%s", run.id);
}

START_TEST(test_compare_aligns_features)
{
    api_response resp;
    query_kv q = {{"name", "target"}, {"credit", "default"}};
    upload(credit_csv, 4096, &q, &resp);
    ck_assert_int_eq(resp.status, 201);
    char ds[ST_ID_LEN], a[ST_ID_LEN], b[ST_ID_LEN], running[ST_ID_LEN], ids[200];
    snprintf(ds, sizeof ds, "%s", str(resp.json, "id"));
    resp_free(&resp);
    finished_run(
        ds,
        "{\"task\":\"binary\",\"student\":{\"type\":\"tree\"},"
        "\"metrics\":{\"student\":{\"auc\":0.9}},\"fidelity\":{\"agreement\":0.95},"
        "\"complexity\":{\"leaves\":8},\"explanations\":{\"method\":\"shap\","
        "\"global\":[{\"feature\":\"income\",\"teacher\":0.5,\"student\":0.4,"
        "\"baseline\":0.3},{\"feature\":\"age\",\"teacher\":0.2,\"student\":0.1,"
        "\"baseline\":null}]}}",
        a);
    finished_run(
        ds,
        "{\"task\":\"binary\",\"student\":{\"type\":\"logistic\"},"
        "\"explanations\":{\"method\":\"permutation\",\"global\":["
        "{\"feature\":\"age\",\"teacher\":0.6,\"student\":0.7,\"baseline\":0.1},"
        "{\"feature\":\"region\",\"teacher\":0.05,\"student\":0,\"baseline\":0}]}}",
        b);
    snprintf(ids, sizeof ids, "%s,%s", a, b);
    query_kv cq = {{"runs"}, {ids}};
    api_request req = make_req("GET", NULL, NULL, NULL, &cq);
    api_compare(&req, &resp);
    ck_assert_int_eq(resp.status, 200);
    const cJSON *runs = cJSON_GetObjectItem(resp.json, "runs");
    ck_assert_int_eq(cJSON_GetArraySize(runs), 2);
    ck_assert_str_eq(str(cJSON_GetArrayItem(runs, 0), "id"), a);
    ck_assert_str_eq(str(cJSON_GetArrayItem(runs, 1), "explanation_method"),
                     "permutation");
    ck_assert(
        cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 1), "metrics")));
    char *features = cJSON_PrintUnformatted(cJSON_GetObjectItem(resp.json, "features"));
    ck_assert_str_eq(
        features,
        "[{\"feature\":\"income\",\"teacher\":[0.5,null],\"student\":[0.4,null],"
        "\"baseline\":[0.3,null]},"
        "{\"feature\":\"age\",\"teacher\":[0.2,0.6],\"student\":[0.1,0.7],"
        "\"baseline\":[null,0.1]},"
        "{\"feature\":\"region\",\"teacher\":[null,0.05],\"student\":[null,0],"
        "\"baseline\":[null,0]}]");
    cJSON_free(features);
    resp_free(&resp);

    /* A run without a report, an unknown run, too few runs, a repeat. */
    finished_run(ds, NULL, running);
    snprintf(ids, sizeof ids, "%s,%s", a, running);
    api_compare(&req, &resp);
    ck_assert_int_eq(resp.status, 409);
    resp_free(&resp);
    snprintf(ids, sizeof ids, "%s,run_nope", a);
    api_compare(&req, &resp);
    ck_assert_int_eq(resp.status, 404);
    resp_free(&resp);
    snprintf(ids, sizeof ids, "%s", a);
    api_compare(&req, &resp);
    ck_assert_int_eq(resp.status, 400);
    resp_free(&resp);
    snprintf(ids, sizeof ids, "%s,%s", a, a);
    api_compare(&req, &resp);
    ck_assert_int_eq(resp.status, 400);
    resp_free(&resp);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("handlers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_upload_same_answer_for_any_chunking);
    tcase_add_test(tc, test_upload_errors);
    tcase_add_test(tc, test_upload_allocation_failures_store_nothing_half);
    tcase_add_test(tc, test_tokens_and_audit);
    tcase_add_test(tc, test_compare_aligns_features);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(api_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
