/*
 * common.c - error bodies, paging, JSON bodies and list envelopes shared by
 * every resource handler.
 * Layer: api.
 */
#include "api/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void response_reset(api_response *resp)
{
    cJSON_Delete(resp->json);
    gb_free(resp->raw);
    resp->json = NULL;
    resp->raw = NULL;
    resp->raw_len = 0;
    resp->content_type = NULL;
}

void api_error(api_response *resp, int status, const char *code, cJSON *details,
               const char *fmt, ...)
{
    char message[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    response_reset(resp);
    resp->status = status;
    cJSON *root = cJSON_CreateObject();
    cJSON *error = root != NULL ? cJSON_AddObjectToObject(root, "error") : NULL;
    if (error == NULL) {
        cJSON_Delete(root);
        cJSON_Delete(details);
        return; /* the HTTP layer answers a bare 500 without a body */
    }
    cJSON_AddStringToObject(error, "code", code);
    cJSON_AddStringToObject(error, "message", message);
    if (details == NULL)
        details = cJSON_CreateObject();
    if (details != NULL)
        cJSON_AddItemToObject(error, "details", details);
    resp->json = root;
}

/* 1 when an I/O error message reports a full disk: the file layer quotes
 * strerror(ENOSPC) (or EDQUOT), SQLite says "database or disk is full". */
static int disk_full(const char *message)
{
    return strstr(message, strerror(ENOSPC)) != NULL ||
           strstr(message, strerror(EDQUOT)) != NULL ||
           strstr(message, "database or disk is full") != NULL;
}

void api_error_from(api_response *resp, const gb_error *err)
{
    int status;
    switch (err->code) {
    case GB_EINPUT: status = 400; break;
    case GB_EUNUSABLE: status = 422; break;
    case GB_ETOOLARGE: status = 413; break;
    case GB_ENOTFOUND: status = 404; break;
    case GB_ECONFLICT: status = 409; break;
    case GB_ECANCELLED: status = 409; break;
    default: status = 500; break;
    }
    if (err->code == GB_EIO && disk_full(err->message)) {
        api_error(resp, 507, "insufficient_storage", NULL,
                  "the server's disk is full: %s", err->message);
        return;
    }
    cJSON *details = cJSON_CreateObject();
    if (details != NULL) {
        if (err->line > 0)
            cJSON_AddNumberToObject(details, "line", (double)err->line);
        if (err->column > 0)
            cJSON_AddNumberToObject(details, "column", (double)err->column);
        if (err->field[0] != '\0')
            cJSON_AddStringToObject(details, "field", err->field);
    }
    const char *message = err->message[0] ? err->message : gb_status_name(err->code);
    api_error(resp, status, gb_status_name(err->code), details, "%s", message);
}

void api_json(api_response *resp, int status, cJSON *json)
{
    response_reset(resp);
    if (json == NULL) {
        api_error(resp, 500, "out_of_memory", NULL,
                  "out of memory rendering the response");
        return;
    }
    resp->status = status;
    resp->json = json;
}

const char *api_query(const api_request *req, const char *key)
{
    if (req->query == NULL)
        return NULL;
    return req->query(req->query_ctx, key);
}

static int parse_size(const char *text, size_t *out)
{
    char *end = NULL;
    if (text == NULL || text[0] == '\0' || text[0] == '-' || text[0] == '+')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (size_t)v;
    return 0;
}

int api_paging(const api_request *req, api_response *resp, size_t *limit,
               size_t *offset)
{
    const char *l = api_query(req, "limit"), *o = api_query(req, "offset");
    *limit = 50;
    *offset = 0;
    if (l != NULL && (parse_size(l, limit) != 0 || *limit < 1 || *limit > 1000)) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "limit");
        api_error(resp, 400, "invalid_input", details,
                  "limit must be an integer from 1 to 1000");
        return -1;
    }
    if (o != NULL && (parse_size(o, offset) != 0 || *offset > (size_t)1 << 40)) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "offset");
        api_error(resp, 400, "invalid_input", details,
                  "offset must be a non-negative integer");
        return -1;
    }
    return 0;
}

/* 1 when the JSON text holds the escape \u0000 (a backslash preceded by
 * an even number of backslashes, then u0000): decoded strings are C
 * strings, so "ab\u0000cd" would silently become "ab". */
static int has_nul_escape(const char *text)
{
    for (const char *p = strstr(text, "u0000"); p != NULL; p = strstr(p + 1, "u0000")) {
        size_t slashes = 0;
        for (const char *q = p; q > text && q[-1] == '\\'; q--)
            slashes++;
        if (slashes % 2 == 1)
            return 1;
    }
    return 0;
}

cJSON *api_body_object(const api_request *req, api_response *resp)
{
    const char *ct = req->content_type;
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        api_error(resp, 415, "unsupported_media_type", NULL,
                  "this route takes a JSON body (Content-Type: application/json)");
        return NULL;
    }
    /* JSON text is UTF-8 (RFC 8259): anything else is malformed JSON. */
    if (req->body != NULL &&
        (memchr(req->body, 0, req->body_len) != NULL || !api_utf8_valid(req->body))) {
        api_error(resp, 400, "invalid_json", NULL,
                  "the body is not valid UTF-8 text (or contains a NUL byte)");
        return NULL;
    }
    if (req->body != NULL && has_nul_escape(req->body)) {
        api_error(resp, 400, "invalid_json", NULL,
                  "\\u0000 is not accepted in strings (it would cut them short)");
        return NULL;
    }
    gb_error err;
    gb_error_clear(&err);
    cJSON *root =
        gb_json_parse(req->body != NULL ? req->body : "", req->body_len, &err);
    if (root == NULL) {
        api_error(resp, 400, "invalid_json", NULL, "%s", err.message);
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        api_error(resp, 400, "invalid_json", NULL, "the body must be a JSON object");
        return NULL;
    }
    return root;
}

const char *api_actor(const api_request *req)
{
    return req->actor != NULL ? req->actor->name : "anonymous";
}

char *api_details_text(const cJSON *details)
{
    if (details == NULL)
        return gb_strdup("{}");
    return gb_json_print(details, 0);
}

cJSON *api_list(cJSON *items, size_t total, size_t limit, size_t offset)
{
    cJSON *root = cJSON_CreateObject();
    if (root == NULL || items == NULL) {
        cJSON_Delete(root);
        cJSON_Delete(items);
        return NULL;
    }
    cJSON_AddItemToObject(root, "items", items);
    cJSON_AddNumberToObject(root, "total", (double)total);
    cJSON_AddNumberToObject(root, "limit", (double)limit);
    cJSON_AddNumberToObject(root, "offset", (double)offset);
    return root;
}

void api_add_string_or_null(cJSON *obj, const char *key, const char *text)
{
    if (text == NULL || text[0] == '\0')
        cJSON_AddNullToObject(obj, key);
    else
        cJSON_AddStringToObject(obj, key, text);
}

int api_utf8_valid(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        unsigned c = *s;
        size_t n;
        unsigned min;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            min = 0x80;
            c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            min = 0x800;
            c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return 0;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        s += n + 1;
    }
    return 1;
}

int api_check_name(const char *value, const char *field, size_t max, api_response *resp)
{
    const char *problem = NULL;
    if (value == NULL || value[0] == '\0')
        problem = "is required";
    else if (strlen(value) > max)
        problem = "is too long";
    else if (!api_utf8_valid(value))
        problem = "is not valid UTF-8";
    else
        for (const unsigned char *p = (const unsigned char *)value; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                problem = "contains control characters";
    if (problem == NULL)
        return 0;
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "field", field);
    if (strcmp(problem, "is too long") == 0)
        api_error(resp, 422, "invalid_field", details, "'%s' %s (at most %zu bytes)",
                  field, problem, max);
    else
        api_error(resp, 422, "invalid_field", details, "'%s' %s", field, problem);
    return -1;
}

gb_status api_audit(const api_request *req, const char *action, const char *object,
                    const cJSON *details, gb_error *err)
{
    char *text = api_details_text(details);
    if (text == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory writing the audit log");
    st_audit_entry entry = {api_actor(req), action, object, text};
    gb_status status = st_audit_append(req->db, &entry, err);
    gb_free(text);
    return status;
}
