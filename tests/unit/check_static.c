/*
 * check_static.c - the dashboard file allow-list beyond check_server.c's
 * confinement test: content types, and node_modules narrowed to
 * <package>/dist/ (the charting library's built files, not its sources or
 * package metadata); directories named like files.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base.h"
#include "server/static.h"

static char root[64];

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p != '\0'; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/gb-static-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    put("index.html", "<!doctype html>");
    put("js/app.js", "export {};");
    put("css/app.css", "body{}");
    put(".secret.js", "x");
    put("package.json", "{}");
    put("node_modules/chart.js/dist/chart.umd.min.js", "chart");
    put("node_modules/chart.js/src/index.js", "src");
    put("node_modules/chart.js/package.json", "{}");
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

static int served(const char *url, const char **type, uint64_t *size)
{
    char *body = NULL;
    size_t len = 0;
    const char *t = NULL;
    int status = srv_static_get(root, url, &body, &len, &t);
    if (status != 200) {
        ck_assert_int_eq(status, 404);
        ck_assert_ptr_null(body);
        return 0;
    }
    if (type != NULL)
        *type = t;
    if (size != NULL)
        *size = len;
    gb_free(body);
    return 1;
}

START_TEST(test_serves_index_and_assets)
{
    const char *type = NULL;
    uint64_t size = 0;
    ck_assert(served("/", &type, &size));
    ck_assert_str_eq(type, "text/html; charset=utf-8");
    ck_assert_uint_eq(size, 15);
    ck_assert(served("/index.html", NULL, NULL));
    ck_assert(served("/js/app.js", &type, NULL));
    ck_assert_str_eq(type, "text/javascript; charset=utf-8");
    ck_assert(served("/css/app.css", &type, NULL));
    ck_assert_str_eq(type, "text/css; charset=utf-8");
    ck_assert(served("/node_modules/chart.js/dist/chart.umd.min.js", NULL, &size));
    ck_assert_uint_eq(size, 5);
}
END_TEST

START_TEST(test_refuses_outside_the_allow_list)
{
    ck_assert(!served("/.secret.js", NULL, NULL));
    ck_assert(!served("/node_modules/chart.js/src/index.js", NULL, NULL));
    ck_assert(!served("/node_modules/chart.js/dist", NULL, NULL));
    ck_assert(!served("/node_modules/chart.js.js", NULL, NULL));
    ck_assert(!served("/node_modules/chart.js/package.json", NULL, NULL));
    ck_assert(!served("/js/../index.html", NULL, NULL));
    ck_assert(!served("/../etc/passwd.html", NULL, NULL));
    ck_assert(!served("//index.html", NULL, NULL));
    ck_assert(!served("/js/", NULL, NULL));
    ck_assert(!served("/js", NULL, NULL));
    ck_assert(!served("/missing.js", NULL, NULL));
    ck_assert(!served("/js/app%2ejs", NULL, NULL));
}
END_TEST

START_TEST(test_refuses_directories_named_like_files)
{
    char path[256];
    snprintf(path, sizeof path, "%s/dir.js", root);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert(!served("/dir.js", NULL, NULL));
}
END_TEST

static Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_serves_index_and_assets);
    tcase_add_test(tc, test_refuses_outside_the_allow_list);
    tcase_add_test(tc, test_refuses_directories_named_like_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(static_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
