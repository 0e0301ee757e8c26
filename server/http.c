/*
 * http.c - libmicrohttpd glue: the three-phase access handler, limits,
 * auth through the route table, rendering, request logs.
 * Layer: server.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <limits.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/guard.h"
#include "server/ratelimit.h"
#include "server/routes.h"
#include "server/static.h"
#include "storage/tokens.h"

/* ---- database connection pool ------------------------------------------------ */

typedef struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    st_db **conns;
    int *busy;
    size_t n;
    int initialized;
} db_pool;

struct srv_http {
    struct MHD_Daemon *daemon;
    api_env env;
    size_t max_upload;
    size_t max_json;
    db_pool pool;
    atomic_ulong next_request;
    char id_prefix[9];
    char web_dir[PATH_MAX];
    uint16_t port;
    char *tls_cert;
    char *tls_key;
    srv_ratelimit *auth_limit; /* failed authentications per address */
    srv_guard *guard;          /* request-head deadline */
    double timeout_s;
};

static st_db *pool_acquire(db_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        for (size_t i = 0; i < pool->n; i++)
            if (!pool->busy[i]) {
                pool->busy[i] = 1;
                pthread_mutex_unlock(&pool->lock);
                return pool->conns[i];
            }
        pthread_cond_wait(&pool->freed, &pool->lock);
    }
}

static void pool_release(db_pool *pool, st_db *db)
{
    pthread_mutex_lock(&pool->lock);
    for (size_t i = 0; i < pool->n; i++)
        if (pool->conns[i] == db)
            pool->busy[i] = 0;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}

static void pool_close(db_pool *pool)
{
    if (!pool->initialized)
        return;
    for (size_t i = 0; pool->conns != NULL && i < pool->n; i++)
        st_db_close(pool->conns[i]);
    gb_free(pool->conns);
    gb_free(pool->busy);
    pthread_cond_destroy(&pool->freed);
    pthread_mutex_destroy(&pool->lock);
}

static gb_status pool_open(db_pool *pool, const char *db_path, size_t n, gb_error *err)
{
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->freed, NULL);
    pool->initialized = 1;
    pool->conns = gb_calloc(n, sizeof *pool->conns);
    pool->busy = gb_calloc(n, sizeof *pool->busy);
    if (pool->conns == NULL || pool->busy == NULL)
        return gb_error_set(err, GB_ENOMEM,
                            "out of memory opening database connections");
    pool->n = n;
    for (size_t i = 0; i < n; i++) {
        gb_status status = st_db_open(db_path, &pool->conns[i], err);
        if (status != GB_OK)
            return status;
    }
    return GB_OK;
}

/* ---- per-request state ----------------------------------------------------------- */

typedef struct req_state {
    srv_http *http;
    char request_id[40];
    struct timespec start;
    const srv_route *route;
    char id[SRV_ID_MAX + 1];
    st_token actor;
    int has_actor;
    char *body;
    size_t body_len;
    size_t body_cap;
    uint64_t bytes_in;
    void *stream;
    api_response deferred; /* an error found mid-body, answered at the end */
    int has_deferred;
    int responded;
    unsigned status;
    unsigned retry_after; /* seconds, sent with a 429 */
} req_state;

/* Headers every answer carries (API and dashboard): no sniffing, no
 * framing, no referrer leaking ids in URLs. */
static void add_security_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static double monotonic_s(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes the path and query arguments in place, except "%00":
 * a decoded NUL would silently cut "/app.js%00.txt" to "/app.js", so it
 * stays literal (and no route or file name accepts '%').  Returns the new
 * length (MHD_OPTION_UNESCAPE_CALLBACK). */
static size_t unescape_cb(void *cls, struct MHD_Connection *conn, char *text)
{
    (void)cls;
    (void)conn;
    char *out = text;
    for (const char *in = text; *in != '\0'; in++) {
        int hi = in[0] == '%' ? hex_value(in[1]) : -1;
        int lo = hi >= 0 ? hex_value(in[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *out++ = (char)(hi * 16 + lo);
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return (size_t)(out - text);
}

static double ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static const char *query_cb(void *ctx, const char *key)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, key);
}

static void response_free(api_response *resp)
{
    cJSON_Delete(resp->json);
    gb_free(resp->raw);
    memset(resp, 0, sizeof *resp);
}

/* Queues resp (consumed) on the connection. */
static enum MHD_Result respond(struct MHD_Connection *conn, req_state *st,
                               api_response *resp, const char *allow)
{
    static const char fallback[] =
        "{\"error\":{\"code\":\"internal_error\",\"message\":\"cannot render the "
        "response\",\"details\":{}}}";
    char *text = NULL;
    size_t len = 0;
    unsigned status = resp->status > 0 ? (unsigned)resp->status : 500;
    const char *content_type = "application/json; charset=utf-8";
    if (resp->json != NULL) {
        text = gb_json_print(resp->json, 0);
        len = text != NULL ? strlen(text) : 0;
    } else if (resp->raw != NULL) {
        text = resp->raw;
        len = resp->raw_len;
        resp->raw = NULL;
        if (resp->content_type != NULL)
            content_type = resp->content_type;
    }
    struct MHD_Response *r;
    if (text != NULL)
        r = MHD_create_response_from_buffer_with_free_callback(len, text, free);
    else {
        status = 500;
        r = MHD_create_response_from_buffer(sizeof fallback - 1, (void *)fallback,
                                            MHD_RESPMEM_PERSISTENT);
    }
    response_free(resp);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, "X-Request-Id", st->request_id);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (strncmp(content_type, "text/html", 9) == 0) {
        /* one policy only: browsers enforce every CSP header they get, so
         * the report's allowance for its own stylesheet replaces the
         * API's default */
        char csp[256];
        api_report_csp(csp, sizeof csp);
        MHD_add_response_header(r, "Content-Security-Policy", csp);
    } else {
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'");
    }
    add_security_headers(r);
    if (status == 429 && st->retry_after > 0) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%u", st->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (allow != NULL && allow[0] != '\0')
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES) {
        st->responded = 1;
        st->status = status;
    }
    return ret;
}

static enum MHD_Result respond_error(struct MHD_Connection *conn, req_state *st,
                                     int status, const char *code, const char *message,
                                     const char *allow)
{
    api_response resp = {0, NULL, NULL, 0, NULL};
    api_error(&resp, status, code, NULL, "%s", message);
    return respond(conn, st, &resp, allow);
}

static void fill_request(api_request *req, req_state *st, struct MHD_Connection *conn,
                         const char *method, const char *url, st_db *db)
{
    memset(req, 0, sizeof *req);
    req->env = &st->http->env;
    req->db = db;
    req->actor = st->has_actor ? &st->actor : NULL;
    req->method = method;
    req->path = url;
    req->param_id = st->id[0] != '\0' ? st->id : NULL;
    req->content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_TYPE);
    req->body = st->body;
    req->body_len = st->body_len;
    req->query = query_cb;
    req->query_ctx = conn;
}

/* Authenticates the bearer token against the route's roles.  Returns 0
 * when the request may proceed; otherwise a response was queued. */
static int authorize(struct MHD_Connection *conn, req_state *st, enum MHD_Result *ret)
{
    if (st->route->roles == SRV_ROLES_PUBLIC)
        return 0;
    const char *header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION);
    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0) {
        *ret =
            respond_error(conn, st, 401, "unauthorized",
                          "missing bearer token (Authorization: Bearer <token>)", NULL);
        return -1;
    }
    const union MHD_ConnectionInfo *client =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *addr = client != NULL ? client->client_addr : NULL;
    st->retry_after = srv_ratelimit_wait(st->http->auth_limit, addr, monotonic_s());
    if (st->retry_after > 0) {
        *ret = respond_error(conn, st, 429, "too_many_requests",
                             "too many failed authentications from this address; "
                             "retry later (see Retry-After)",
                             NULL);
        return -1;
    }
    const char *secret = header + 7;
    while (*secret == ' ')
        secret++;
    char token[ST_TOKEN_SECRET_LEN + 1];
    size_t len = strcspn(secret, " \t");
    if (len != ST_TOKEN_SECRET_LEN) {
        srv_ratelimit_fail(st->http->auth_limit, addr, monotonic_s());
        *ret = respond_error(conn, st, 401, "unauthorized", "invalid or revoked token",
                             NULL);
        return -1;
    }
    memcpy(token, secret, len);
    token[len] = '\0';
    gb_error err;
    st_db *db = pool_acquire(&st->http->pool);
    gb_status status = st_token_authenticate(db, token, &st->actor, &err);
    pool_release(&st->http->pool, db);
    memset(token, 0, sizeof token);
    if (status == GB_ENOTFOUND) {
        srv_ratelimit_fail(st->http->auth_limit, addr, monotonic_s());
        *ret = respond_error(conn, st, 401, "unauthorized", "invalid or revoked token",
                             NULL);
        return -1;
    }
    if (status != GB_OK) {
        *ret = respond_error(conn, st, 500, "io_error", err.message, NULL);
        return -1;
    }
    st->has_actor = 1;
    if (!srv_route_allows(st->route, st->actor.role)) {
        char message[160];
        snprintf(message, sizeof message, "role '%s' may not call %s %s",
                 st_role_name(st->actor.role), st->route->method, st->route->pattern);
        *ret = respond_error(conn, st, 403, "forbidden", message, NULL);
        return -1;
    }
    return 0;
}

/* The dashboard's files (no token needed; see server/static.h). */
static enum MHD_Result serve_static(srv_http *http, struct MHD_Connection *conn,
                                    req_state *st, const char *url)
{
    char *body = NULL;
    size_t len = 0;
    const char *type = NULL;
    int status = srv_static_get(http->web_dir, url, &body, &len, &type);
    if (status != 200)
        return respond_error(conn, st, status, status == 404 ? "not_found" : "io_error",
                             status == 404 ? "no such file" : "cannot read the file",
                             NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "X-Request-Id", st->request_id);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    add_security_headers(r);
    MHD_add_response_header(r, "Content-Security-Policy", SRV_STATIC_CSP);
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES) {
        st->responded = 1;
        st->status = 200;
    }
    return ret;
}

/* First call for a request: route, auth, size pre-check, stream begin. */
static enum MHD_Result first_call(srv_http *http, struct MHD_Connection *conn,
                                  req_state *st, const char *url, const char *method)
{
    char allow[64];
    enum MHD_Result ret = MHD_YES;
    srv_match match =
        srv_route_find(method, url, &st->route, st->id, allow, sizeof allow);
    if (match == SRV_MATCH_NO_PATH && strncmp(url, "/api/", 5) != 0 &&
        (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
        return serve_static(http, conn, st, url);
    if (match == SRV_MATCH_NO_PATH)
        return respond_error(conn, st, 404, "not_found", "no such route", NULL);
    if (match == SRV_MATCH_NO_METHOD)
        return respond_error(conn, st, 405, "method_not_allowed",
                             "this route does not take that method", allow);
    if (authorize(conn, st, &ret) != 0)
        return ret;
    size_t cap = st->route->stream != NULL ? http->max_upload : http->max_json;
    const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length != NULL) {
        char *end = NULL;
        unsigned long long n = strtoull(length, &end, 10);
        if (end != NULL && *end == '\0' && n > cap) {
            char message[128];
            snprintf(message, sizeof message,
                     "request body larger than the limit of %zu bytes", cap);
            return respond_error(conn, st, 413, "too_large", message, NULL);
        }
    }
    if (st->route->stream != NULL) {
        api_request req;
        api_response resp = {0, NULL, NULL, 0, NULL};
        st_db *db = pool_acquire(&http->pool);
        fill_request(&req, st, conn, method, url, db);
        st->stream = st->route->stream->begin(&req, &resp);
        pool_release(&http->pool, db);
        if (st->stream == NULL)
            return respond(conn, st, &resp, NULL);
        response_free(&resp);
    }
    return MHD_YES;
}

/* Records an error found while the body streams in; the rest of the body
 * is read and dropped and the error is answered by the final call
 * (libmicrohttpd cannot queue a response in the middle of a body). */
static void defer_error(req_state *st, api_response *resp)
{
    if (st->has_deferred) {
        response_free(resp);
        return;
    }
    st->deferred = *resp;
    st->has_deferred = 1;
    memset(resp, 0, sizeof *resp);
}

static enum MHD_Result body_chunk(srv_http *http, req_state *st, const char *data,
                                  size_t size)
{
    size_t cap = st->route->stream != NULL ? http->max_upload : http->max_json;
    st->bytes_in += size;
    /* A body trickling in slower than 1 KiB/s on average, once the
     * connection timeout has passed, is dropped (slow-client defence). */
    double elapsed_s = ms_since(&st->start) / 1e3;
    if (elapsed_s > http->timeout_s && (double)st->bytes_in < elapsed_s * 1024.0)
        return MHD_NO;
    if (st->has_deferred) {
        /* Dropping the rest of a rejected body; a client that keeps
         * sending far past the cap is disconnected. */
        return st->bytes_in > 2 * cap + (64u << 20) ? MHD_NO : MHD_YES;
    }
    if (st->bytes_in > cap) {
        api_response resp = {0, NULL, NULL, 0, NULL};
        api_error(&resp, 413, "too_large", NULL,
                  "request body larger than the limit of %zu bytes", cap);
        defer_error(st, &resp);
        return MHD_YES;
    }
    if (st->route->stream != NULL) {
        api_response resp = {0, NULL, NULL, 0, NULL};
        if (st->route->stream->feed(st->stream, data, size, &resp) != 0)
            defer_error(st, &resp);
        else
            response_free(&resp);
        return MHD_YES;
    }
    if (st->body_len + size + 1 > st->body_cap) {
        size_t want = st->body_cap ? st->body_cap : 4096;
        while (want < st->body_len + size + 1)
            want *= 2;
        char *grown = gb_realloc(st->body, want);
        if (grown == NULL) {
            api_response resp = {0, NULL, NULL, 0, NULL};
            api_error(&resp, 500, "out_of_memory", NULL,
                      "out of memory reading the request");
            defer_error(st, &resp);
            return MHD_YES;
        }
        st->body = grown;
        st->body_cap = want;
    }
    memcpy(st->body + st->body_len, data, size);
    st->body_len += size;
    st->body[st->body_len] = '\0';
    return MHD_YES;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    srv_http *http = cls;
    req_state *st = *req_cls;
    (void)version;
    if (st == NULL) {
        st = gb_calloc(1, sizeof *st);
        if (st == NULL)
            return MHD_NO;
        st->http = http;
        clock_gettime(CLOCK_MONOTONIC, &st->start);
        unsigned long n = atomic_fetch_add(&http->next_request, 1) + 1;
        snprintf(st->request_id, sizeof st->request_id, "%s-%08lx", http->id_prefix, n);
        *req_cls = st;
        srv_guard_request_begin(conn);
        return first_call(http, conn, st, url, method);
    }
    if (*upload_data_size > 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        if (st->responded)
            return MHD_YES; /* an early answer is queued; drop the rest */
        return body_chunk(http, st, upload_data, size);
    }
    if (st->responded)
        return MHD_YES;
    if (st->has_deferred)
        return respond(conn, st, &st->deferred, NULL);

    api_request req;
    api_response resp = {0, NULL, NULL, 0, NULL};
    st_db *db = pool_acquire(&http->pool);
    fill_request(&req, st, conn, method, url, db);
    if (st->route->stream != NULL)
        st->route->stream->end(st->stream, &req, &resp);
    else
        st->route->handler(&req, &resp);
    pool_release(&http->pool, db);
    return respond(conn, st, &resp, NULL);
}

static void log_request(req_state *st, enum MHD_RequestTerminationCode toe)
{
    char at[ST_TIME_LEN];
    st_now(at);
    cJSON *line = cJSON_CreateObject();
    if (line == NULL)
        return;
    cJSON_AddStringToObject(line, "time", at);
    cJSON_AddStringToObject(line, "request_id", st->request_id);
    cJSON_AddStringToObject(line, "method",
                            st->route != NULL ? st->route->method : "-");
    cJSON_AddStringToObject(line, "route",
                            st->route != NULL ? st->route->pattern : "-");
    if (st->id[0] != '\0')
        cJSON_AddStringToObject(line, "id", st->id);
    cJSON_AddNumberToObject(line, "status", st->status);
    gb_json_add_number(line, "duration_ms",
                       (double)(long)(ms_since(&st->start) * 1000) / 1000);
    if (st->has_actor)
        cJSON_AddStringToObject(line, "actor", st->actor.name);
    else
        cJSON_AddNullToObject(line, "actor");
    cJSON_AddNumberToObject(line, "bytes_in", (double)st->bytes_in);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        cJSON_AddStringToObject(
            line, "terminated",
            toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED   ? "timeout"
            : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT    ? "client_abort"
            : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutdown"
                                                            : "error");
    char *text = gb_json_print(line, 0);
    cJSON_Delete(line);
    if (text == NULL)
        return;
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL: one write per line keeps lines whole */
    ssize_t w = write(STDERR_FILENO, text, len + 1);
    (void)w;
    gb_free(text);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    srv_guard_request_end(conn);
    req_state *st = *req_cls;
    if (st == NULL)
        return;
    log_request(st, toe);
    if (st->stream != NULL && st->route != NULL && st->route->stream != NULL)
        st->route->stream->free(st->stream);
    response_free(&st->deferred);
    gb_free(st->body);
    gb_free(st);
    *req_cls = NULL;
}

/* ---- start / stop -------------------------------------------------------------------
 */

static char *read_file(const char *path, gb_error *err)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    if (f == NULL) {
        gb_error_set(err, GB_EINPUT, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n;
    text = gb_malloc(cap + 1);
    if (text != NULL) {
        n = fread(text, 1, cap, f);
        text[n] = '\0';
    } else {
        gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", path);
    }
    fclose(f);
    return text;
}

gb_status srv_http_start(const srv_config *cfg, const api_env *env, const char *db_path,
                         srv_http **out, gb_error *err)
{
    srv_http *http = NULL;
    gb_status status = GB_OK;
    struct sockaddr_in addr4;
    struct sockaddr_in6 addr6;
    struct sockaddr *addr = NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC;
    *out = NULL;

    memset(&addr4, 0, sizeof addr4);
    memset(&addr6, 0, sizeof addr6);
    if (inet_pton(AF_INET, cfg->bind, &addr4.sin_addr) == 1) {
        addr4.sin_family = AF_INET;
        addr4.sin_port = htons((uint16_t)cfg->port);
        addr = (struct sockaddr *)&addr4;
    } else if (inet_pton(AF_INET6, cfg->bind, &addr6.sin6_addr) == 1) {
        addr6.sin6_family = AF_INET6;
        addr6.sin6_port = htons((uint16_t)cfg->port);
        addr = (struct sockaddr *)&addr6;
        flags |= MHD_USE_IPv6;
    } else {
        gb_error_set(err, GB_EINPUT, "bind: '%s' is not an IPv4 or IPv6 address",
                     cfg->bind);
        gb_error_field(err, "bind");
        return GB_EINPUT;
    }

    http = gb_calloc(1, sizeof *http);
    if (http == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory starting the HTTP server");
    http->env = *env;
    http->max_upload = cfg->max_upload_mb * 1024 * 1024;
    http->max_json = cfg->max_json_kb * 1024;
    snprintf(http->web_dir, sizeof http->web_dir, "%s", cfg->web_dir);
    atomic_init(&http->next_request, 0);
    unsigned char rnd[4];
    status = st_random_bytes(rnd, sizeof rnd, err);
    if (status != GB_OK)
        goto fail;
    snprintf(http->id_prefix, sizeof http->id_prefix, "%02x%02x%02x%02x", rnd[0],
             rnd[1], rnd[2], rnd[3]);
    http->auth_limit =
        srv_ratelimit_create(cfg->auth_failures, cfg->auth_failure_window_s);
    if (http->auth_limit == NULL) {
        status = gb_error_set(err, GB_ENOMEM, "out of memory starting the HTTP server");
        goto fail;
    }
    http->timeout_s = cfg->connection_timeout_s;
    http->guard = srv_guard_create(cfg->connection_timeout_s);
    if (http->guard == NULL) {
        status = gb_error_set(err, GB_ENOMEM, "cannot start the connection watchdog");
        goto fail;
    }
    status = pool_open(&http->pool, db_path, cfg->http_threads + 1, err);
    if (status != GB_OK)
        goto fail;

    struct MHD_OptionItem options[16];
    size_t n_opt = 0;
    options[n_opt++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, addr};
    options[n_opt++] =
        (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, cfg->http_threads, NULL};
    options[n_opt++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                               cfg->max_connections, NULL};
    options[n_opt++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                               cfg->connection_timeout_s, NULL};
    options[n_opt++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 128 * 1024, NULL};
    options[n_opt++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_INCREMENT, 4096, NULL};
    options[n_opt++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                               cfg->max_connections_per_ip, NULL};
    options[n_opt++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
                                               (intptr_t)completed_cb, NULL};
    options[n_opt++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK,
                                               (intptr_t)unescape_cb, NULL};
    options[n_opt++] = (struct MHD_OptionItem){
        MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)srv_guard_notify_cb, http->guard};
    if (cfg->tls_cert[0] != '\0') {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            status =
                gb_error_set(err, GB_EINPUT,
                             "TLS was requested but libmicrohttpd has no TLS support");
            goto fail;
        }
        http->tls_cert = read_file(cfg->tls_cert, err);
        http->tls_key = http->tls_cert != NULL ? read_file(cfg->tls_key, err) : NULL;
        if (http->tls_key == NULL) {
            status = err->code;
            goto fail;
        }
        flags |= MHD_USE_TLS;
        options[n_opt++] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, http->tls_cert};
        options[n_opt++] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, http->tls_key};
    }
    options[n_opt++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    /* NOTIFY_COMPLETED takes its callback and closure as two varargs; the
     * array form carries them in value and ptr_value. */
    http->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, http,
                                    MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    if (http->daemon == NULL) {
        status = gb_error_set(err, GB_EIO,
                              "cannot listen on %s port %u (in use or not allowed)",
                              cfg->bind, cfg->port);
        goto fail;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
    http->port = info != NULL ? info->port : (uint16_t)cfg->port;
    *out = http;
    return GB_OK;
fail:
    srv_http_stop(http);
    return status;
}

uint16_t srv_http_port(const srv_http *http)
{
    return http->port;
}

void srv_http_stop(srv_http *http)
{
    if (http == NULL)
        return;
    if (http->daemon != NULL) {
        /* Stop accepting, give requests in flight up to 3 s to finish,
         * then close what is left (idle keep-alive connections). */
        MHD_socket listener = MHD_quiesce_daemon(http->daemon);
        if (listener != MHD_INVALID_SOCKET)
            close(listener);
        for (int i = 0; i < 300; i++) {
            const union MHD_DaemonInfo *info =
                MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
            if (info == NULL || info->num_connections == 0)
                break;
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        MHD_stop_daemon(http->daemon);
    }
    srv_guard_free(http->guard);
    pool_close(&http->pool);
    gb_free(http->tls_cert);
    gb_free(http->tls_key);
    srv_ratelimit_free(http->auth_limit);
    gb_free(http);
}
