/*
 * fuzz_api_body.c - libFuzzer target for the request bodies the API parses:
 * POST /tokens, POST /runs/{id}/reviews and POST /teachers/train, through
 * the real handlers against a scratch database (one dataset and one run
 * row exist, so validation reaches every field), POST /runs/{id}/predict
 * (JSON rows or CSV, with or without ?explain=1) on a stored tree student
 * (tests/fixtures/fuzz/student_tree.json, read from the working
 * directory), plus the query-string paging parser.
 *
 * Input layout: byte 0 picks the handler, byte 1 the Content-Type, the
 * rest is the body (or the query string for paging).  Every answer must be
 * a status from 200 to 599 with a JSON body, and every 4xx/5xx must be the
 * documented error shape; anything else aborts.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"

static st_db *db;
static char dir[] = "/tmp/gb-fuzz-api-XXXXXX";
static char db_path[64];
static api_env env;
static api_model_cache *cache;
static const st_token actor = {.name = "fuzzer", .role = ST_ROLE_ADMIN};

static void cleanup(void)
{
    char path[96];
    st_db_close(db);
    api_model_cache_free(cache);
    const char *files[] = {"glassbox.db", "glassbox.db-wal", "glassbox.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void setup(void)
{
    gb_error err;
    sqlite3 *raw = NULL;
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(db_path, sizeof db_path, "%s/glassbox.db", dir);
    if (st_db_open(db_path, &db, &err) != GB_OK) {
        fprintf(stderr, "%s\n", err.message);
        abort();
    }
    atexit(cleanup);
    if (sqlite3_open(db_path, &raw) != SQLITE_OK ||
        sqlite3_exec(raw,
                     "INSERT INTO datasets (id, name, sha256, target, task, n_rows, "
                     "n_columns, size_bytes, summary, created_at, created_by) VALUES "
                     "('ds_fuzz', 'd', 'ab', 'y', 'binary', 10, 3, 100, "
                     "'{\"columns\":[]}', '2024-01-01T00:00:00.000Z', 'x');"
                     "INSERT INTO runs (id, kind, status, dataset_id, config, "
                     "created_at, created_by, phase, fraction) VALUES ('run_fuzz', "
                     "'distill', 'succeeded', 'ds_fuzz', '{}', "
                     "'2024-01-01T00:00:00.000Z', 'x', 'done', 1);",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "setup: %s\n", raw != NULL ? sqlite3_errmsg(raw) : "open");
        abort();
    }
    /* The student artifact for predict, bound as a parameter. */
    FILE *f = fopen("tests/fixtures/fuzz/student_tree.json", "rb");
    static char artifact[1 << 16];
    size_t n = f != NULL ? fread(artifact, 1, sizeof artifact - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    sqlite3_stmt *stmt = NULL;
    if (n == 0 ||
        sqlite3_prepare_v2(raw,
                           "INSERT INTO students (run_id, body, sha256, created_at) "
                           "VALUES ('run_fuzz', ?1, 'x', '2024-01-01T00:00:00.000Z')",
                           -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_bind_text(stmt, 1, artifact, (int)n, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_DONE) {
        fprintf(stderr, "setup: cannot store the student (%s)\n", sqlite3_errmsg(raw));
        abort();
    }
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
    cache = api_model_cache_create();
    env.model_cache = cache;
    env.data_dir = dir;
    env.db_path = db_path;
    env.max_upload_bytes = 1 << 20;
}

static const char *query_text;

/* Looks key up in query_text ("k=v&k2=v2", no unescaping). */
static const char *query_cb(void *ctx, const char *key)
{
    static char value[256];
    (void)ctx;
    size_t klen = strlen(key);
    for (const char *p = query_text; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = len - klen - 1;
            if (vlen >= sizeof value)
                vlen = sizeof value - 1;
            memcpy(value, p + klen + 1, vlen);
            value[vlen] = '\0';
            return value;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return NULL;
}

static void check_response(const api_response *resp)
{
    if (resp->status < 200 || resp->status > 599 || resp->json == NULL)
        abort();
    if (resp->status >= 400) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp->json, "error");
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")) ||
            !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "details")))
            abort();
    }
    char *text = gb_json_print(resp->json, 0);
    if (text == NULL)
        abort();
    gb_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *types[] = {
        "application/json",  "application/json; charset=utf-8",
        "text/plain",        NULL,
        "application/jsonx", "text/csv"};
    if (db == NULL)
        setup();
    if (size < 2)
        return 0;
    char *body = malloc(size - 1);
    if (body == NULL)
        return 0;
    memcpy(body, data + 2, size - 2);
    body[size - 2] = '\0';
    api_request req;
    api_response resp = {0, NULL, NULL, 0, NULL};
    memset(&req, 0, sizeof req);
    req.env = &env;
    req.db = db;
    req.actor = &actor;
    req.method = "POST";
    req.content_type = types[data[1] % 6];
    req.body = body;
    req.body_len = size - 2;
    req.query = query_cb;
    switch (data[0] % 5) {
    case 0:
        req.path = "/api/v1/tokens";
        api_tokens_create(&req, &resp);
        break;
    case 1:
        req.path = "/api/v1/runs/run_fuzz/reviews";
        req.param_id = "run_fuzz";
        api_reviews_create(&req, &resp);
        break;
    case 2:
        req.path = "/api/v1/teachers/train";
        api_teachers_train(&req, &resp);
        break;
    case 3:
        req.path = "/api/v1/runs/run_fuzz/predict";
        req.param_id = "run_fuzz";
        query_text = (data[1] & 0x80) ? "explain=1" : NULL;
        api_runs_predict(&req, &resp);
        query_text = NULL;
        break;
    default: {
        size_t limit = 0, offset = 0;
        query_text = body;
        req.method = "GET";
        if (api_paging(&req, &resp, &limit, &offset) == 0) {
            if (limit < 1 || limit > 1000)
                abort();
            api_json(&resp, 200, cJSON_CreateObject());
        }
        query_text = NULL;
        break;
    }
    }
    check_response(&resp);
    cJSON_Delete(resp.json);
    gb_free(resp.raw);
    free(body);
    return 0;
}
