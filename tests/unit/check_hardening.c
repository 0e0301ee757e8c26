/*
 * check_hardening.c - request-parsing defences in the api layer: JSON
 * bodies that are not UTF-8 text or hold a NUL byte are malformed (400),
 * too-deep nesting is malformed (400), a full disk is 507 while other I/O
 * errors stay 500.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static const char *code_of(const api_response *resp)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp->json, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    return cJSON_IsString(c) ? c->valuestring : "";
}

/* Runs api_body_object on len bytes of text; returns the status (200 when
 * an object was parsed). */
static int parse(const char *text, size_t len, char code[32])
{
    api_request req;
    api_response resp = {0, NULL, NULL, 0, NULL};
    char *body = malloc(len + 1);
    ck_assert_ptr_nonnull(body);
    memcpy(body, text, len);
    body[len] = '\0';
    memset(&req, 0, sizeof req);
    req.content_type = "application/json";
    req.body = body;
    req.body_len = len;
    cJSON *root = api_body_object(&req, &resp);
    int status = root != NULL ? 200 : resp.status;
    snprintf(code, 32, "%s", root != NULL ? "" : code_of(&resp));
    cJSON_Delete(root);
    cJSON_Delete(resp.json);
    free(body);
    return status;
}

START_TEST(test_body_must_be_utf8_text)
{
    char code[32];
    static const char *bad[] = {
        "{\"a\":\"\xff\"}",         "{\"a\":\"\xc3\x28\"}",
        "{\"a\":\"\xc0\xaf\"}",     "{\"a\":\"\xe0\x80\xaf\"}",
        "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
        "{\"a\":\"ok\xc3\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(parse(bad[i], strlen(bad[i]), code), 400);
        ck_assert_str_eq(code, "invalid_json");
    }
    ck_assert_int_eq(parse("{\"a\":\"b\0c\"}", 11, code), 400);
    const char *good = "{\"a\":\"cr\xc3\xa9"
                       "dit \xe2\x82\xac \xf0\x9f\x98\x80\"}";
    ck_assert_int_eq(parse(good, strlen(good), code), 200);
}
END_TEST

START_TEST(test_nul_escape_is_refused)
{
    char code[32];
    const char *cut = "{\"name\":\"admin\\u0000evil\"}";
    ck_assert_int_eq(parse(cut, strlen(cut), code), 400);
    ck_assert_str_eq(code, "invalid_json");
    const char *odd = "{\"a\":\"x\\\\\\u0000\"}"; /* \\ then \u0000 */
    ck_assert_int_eq(parse(odd, strlen(odd), code), 400);
    /* An escaped backslash followed by the text u0000 is fine. */
    const char *even = "{\"a\":\"x\\\\u0000\",\"u0000\":1}";
    ck_assert_int_eq(parse(even, strlen(even), code), 200);
}
END_TEST

START_TEST(test_deep_nesting_is_malformed)
{
    char code[32];
    size_t depth = 20000;
    char *text = malloc(2 * depth + 1);
    ck_assert_ptr_nonnull(text);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    text[2 * depth] = '\0';
    ck_assert_int_eq(parse(text, 2 * depth, code), 400);
    ck_assert_str_eq(code, "invalid_json");
    free(text);
}
END_TEST

START_TEST(test_disk_full_is_507)
{
    api_response resp = {0, NULL, NULL, 0, NULL};
    gb_error err;
    gb_error_clear(&err);
    gb_error_set(&err, GB_EIO, "cannot write upload to disk: %s", strerror(ENOSPC));
    api_error_from(&resp, &err);
    ck_assert_int_eq(resp.status, 507);
    ck_assert_str_eq(code_of(&resp), "insufficient_storage");
    gb_error_set(&err, GB_EIO, "cannot commit: database or disk is full");
    api_error_from(&resp, &err);
    ck_assert_int_eq(resp.status, 507);
    gb_error_set(&err, GB_EIO, "cannot write upload to disk: %s", strerror(EIO));
    api_error_from(&resp, &err);
    ck_assert_int_eq(resp.status, 500);
    ck_assert_str_eq(code_of(&resp), "io_error");
    cJSON_Delete(resp.json);
}
END_TEST

static Suite *hardening_suite(void)
{
    Suite *s = suite_create("hardening");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, test_body_must_be_utf8_text);
    tcase_add_test(tc, test_nul_escape_is_refused);
    tcase_add_test(tc, test_deep_nesting_is_malformed);
    tcase_add_test(tc, test_disk_full_is_507);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hardening_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
