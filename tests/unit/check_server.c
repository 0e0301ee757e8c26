/*
 * check_server.c - daemon settings (defaults, file, environment, flags and
 * their precedence; errors naming the key and where it came from) and the
 * route table (matching, 404/405, the role matrix of API.md).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"
#include "server/routes.h"
#include "server/static.h"

/* ---- a fake environment ----------------------------------------------------- */

static const char *fake_env[16][2];

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < 16 && fake_env[i][0] != NULL; i++)
        if (strcmp(fake_env[i][0], name) == 0)
            return fake_env[i][1];
    return NULL;
}

static void env_clear(void)
{
    memset(fake_env, 0, sizeof fake_env);
}

static void env_set(const char *name, const char *value)
{
    size_t i = 0;
    while (fake_env[i][0] != NULL)
        i++;
    fake_env[i][0] = name;
    fake_env[i][1] = value;
}

static char conf_path[128];

static void write_conf(const char *text)
{
    snprintf(conf_path, sizeof conf_path, "/tmp/gb-conf-XXXXXX");
    int fd = mkstemp(conf_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

START_TEST(test_config_defaults)
{
    srv_config cfg;
    gb_error err;
    int help = 0;
    char *argv[] = {"serve"};
    env_clear();
    ck_assert_int_eq(srv_config_load(&cfg, 1, argv, fake_getenv, &help, &err), GB_OK);
    ck_assert_str_eq(cfg.bind, "127.0.0.1");
    ck_assert_uint_eq(cfg.port, 8080);
    ck_assert_str_eq(cfg.data_dir, "./var");
    ck_assert_uint_eq(cfg.workers, 2);
    ck_assert_uint_eq(cfg.max_upload_mb, 512);
    ck_assert_int_eq(cfg.requeue_interrupted, 0);
    ck_assert_str_eq(cfg.config_file, "");
}
END_TEST

START_TEST(test_config_precedence_flags_env_file_defaults)
{
    srv_config cfg;
    gb_error err;
    int help = 0;
    write_conf("# settings\n"
               "port = 9000\n"
               "workers = 3\n"
               "data-dir = \"/srv/glassbox\"\n"
               "max-upload-mb = 64\n"
               "\n");
    env_clear();
    env_set("GLASSBOX_WORKERS", "5");
    env_set("GLASSBOX_MAX_UPLOAD_MB", "128");
    char *argv[] = {"serve", "--config", conf_path, "--max-upload-mb=256",
                    "--requeue-interrupted"};
    ck_assert_int_eq(srv_config_load(&cfg, 5, argv, fake_getenv, &help, &err), GB_OK);
    ck_assert_uint_eq(cfg.port, 9000);               /* file over default */
    ck_assert_str_eq(cfg.data_dir, "/srv/glassbox"); /* file, quotes removed */
    ck_assert_uint_eq(cfg.workers, 5);               /* env over file */
    ck_assert_uint_eq(cfg.max_upload_mb, 256);       /* flag over env and file */
    ck_assert_int_eq(cfg.requeue_interrupted, 1);    /* bare boolean flag */
    ck_assert_str_eq(cfg.bind, "127.0.0.1");         /* default */
    ck_assert_str_eq(cfg.config_file, conf_path);

    /* GLASSBOX_CONFIG names the file when --config is absent. */
    env_clear();
    env_set("GLASSBOX_CONFIG", conf_path);
    char *argv2[] = {"serve", "--port", "9100"};
    ck_assert_int_eq(srv_config_load(&cfg, 3, argv2, fake_getenv, &help, &err), GB_OK);
    ck_assert_uint_eq(cfg.workers, 3);
    ck_assert_uint_eq(cfg.port, 9100);
    unlink(conf_path);
}
END_TEST

START_TEST(test_config_errors_name_key_and_source)
{
    srv_config cfg;
    gb_error err;
    int help = 0;
    env_clear();
    char *bad_flag[] = {"serve", "--port", "http"};
    ck_assert_int_eq(srv_config_load(&cfg, 3, bad_flag, fake_getenv, &help, &err),
                     GB_EINPUT);
    ck_assert_str_eq(err.field, "port");
    ck_assert_ptr_nonnull(strstr(err.message, "--port"));

    char *range[] = {"serve", "--workers", "0"};
    ck_assert_int_eq(srv_config_load(&cfg, 3, range, fake_getenv, &help, &err),
                     GB_EINPUT);
    ck_assert_ptr_nonnull(strstr(err.message, "between 1 and 256"));

    char *unknown[] = {"serve", "--colour", "blue"};
    ck_assert_int_eq(srv_config_load(&cfg, 3, unknown, fake_getenv, &help, &err),
                     GB_EINPUT);
    ck_assert_ptr_nonnull(strstr(err.message, "unknown setting 'colour'"));

    char *missing[] = {"serve", "--port"};
    ck_assert_int_eq(srv_config_load(&cfg, 2, missing, fake_getenv, &help, &err),
                     GB_EINPUT);
    ck_assert_ptr_nonnull(strstr(err.message, "needs a value"));

    env_set("GLASSBOX_PORT", "-1");
    char *plain[] = {"serve"};
    ck_assert_int_eq(srv_config_load(&cfg, 1, plain, fake_getenv, &help, &err),
                     GB_EINPUT);
    ck_assert_ptr_nonnull(strstr(err.message, "GLASSBOX_PORT"));
    env_clear();

    write_conf("port = 9000\nthis line has no equals sign\n");
    char *with_file[] = {"serve", "--config", conf_path};
    ck_assert_int_eq(srv_config_load(&cfg, 3, with_file, fake_getenv, &help, &err),
                     GB_EINPUT);
    ck_assert_int_eq(err.line, 2);
    unlink(conf_path);
    write_conf("speed = 11\n");
    ck_assert_int_eq(srv_config_load(&cfg, 3, with_file, fake_getenv, &help, &err),
                     GB_EINPUT);
    ck_assert_int_eq(err.line, 1);
    ck_assert_ptr_nonnull(strstr(err.message, "unknown setting 'speed'"));
    unlink(conf_path);

    char *no_file[] = {"serve", "--config", "/nonexistent/glassbox.conf"};
    ck_assert_int_eq(srv_config_load(&cfg, 3, no_file, fake_getenv, &help, &err),
                     GB_EINPUT);
    ck_assert_ptr_nonnull(strstr(err.message, "cannot read config file"));

    char *tls[] = {"serve", "--tls-cert", "cert.pem"};
    ck_assert_int_eq(srv_config_load(&cfg, 3, tls, fake_getenv, &help, &err),
                     GB_EINPUT);
    ck_assert_ptr_nonnull(strstr(err.message, "together"));

    char *helpme[] = {"serve", "--help"};
    ck_assert_int_eq(srv_config_load(&cfg, 2, helpme, fake_getenv, &help, &err), GB_OK);
    ck_assert_int_eq(help, 1);
}
END_TEST

/* ---- routes ------------------------------------------------------------------ */

static const srv_route *find(const char *method, const char *path, srv_match expect,
                             char id[SRV_ID_MAX + 1])
{
    const srv_route *route = NULL;
    char allow[64];
    ck_assert_int_eq(srv_route_find(method, path, &route, id, allow, sizeof allow),
                     expect);
    return route;
}

START_TEST(test_routes_match_ids_and_methods)
{
    char id[SRV_ID_MAX + 1];
    const srv_route *r = find("GET", "/api/v1/datasets/ds_0123abcd", SRV_MATCH_OK, id);
    ck_assert_str_eq(r->pattern, "/api/v1/datasets/{id}");
    ck_assert_str_eq(id, "ds_0123abcd");
    r = find("POST", "/api/v1/runs/run_1/reviews", SRV_MATCH_OK, id);
    ck_assert_str_eq(r->pattern, "/api/v1/runs/{id}/reviews");
    ck_assert_str_eq(id, "run_1");
    r = find("GET", "/api/v1/datasets/", SRV_MATCH_OK, id); /* trailing slash */
    ck_assert_str_eq(r->pattern, "/api/v1/datasets");
    ck_assert_str_eq(id, "");
    find("GET", "/api/v1/datasets/a/b", SRV_MATCH_NO_PATH, id);
    find("GET", "/api/v1/datasets/..%2f", SRV_MATCH_NO_PATH, id);
    find("GET", "/api/v1/nothing", SRV_MATCH_NO_PATH, id);
    find("GET", "/api/v1/runs//reviews", SRV_MATCH_NO_PATH, id);

    const srv_route *route = NULL;
    char allow[64];
    ck_assert_int_eq(
        srv_route_find("PUT", "/api/v1/datasets/x", &route, id, allow, sizeof allow),
        SRV_MATCH_NO_METHOD);
    ck_assert_str_eq(allow, "GET, DELETE");
}
END_TEST

START_TEST(test_routes_role_matrix)
{
    char id[SRV_ID_MAX + 1];
    struct {
        const char *method, *path;
        int admin, modeler, validator, viewer;
    } cases[] = {
        {"GET", "/api/v1/health", 1, 1, 1, 1},
        {"POST", "/api/v1/tokens", 1, 0, 0, 0},
        {"GET", "/api/v1/tokens", 1, 0, 0, 0},
        {"DELETE", "/api/v1/tokens/t", 1, 0, 0, 0},
        {"POST", "/api/v1/datasets", 1, 1, 0, 0},
        {"GET", "/api/v1/datasets", 1, 1, 1, 1},
        {"DELETE", "/api/v1/datasets/d", 1, 1, 0, 0},
        {"POST", "/api/v1/teachers", 1, 1, 0, 0},
        {"POST", "/api/v1/teachers/train", 1, 1, 0, 0},
        {"GET", "/api/v1/teachers/t", 1, 1, 1, 1},
        {"DELETE", "/api/v1/teachers/t", 1, 1, 0, 0},
        {"GET", "/api/v1/runs/r", 1, 1, 1, 1},
        {"POST", "/api/v1/runs/r/cancel", 1, 1, 0, 0},
        {"GET", "/api/v1/runs/r/export", 1, 1, 1, 1},
        {"POST", "/api/v1/runs/r/predict", 1, 1, 1, 1},
        {"POST", "/api/v1/runs/r/reviews", 1, 0, 1, 0},
        {"GET", "/api/v1/runs/r/reviews", 1, 1, 1, 1},
        {"GET", "/api/v1/compare", 1, 1, 1, 1},
        {"GET", "/api/v1/audit", 1, 1, 1, 1},
        {"GET", "/api/v1/audit/verify", 1, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const srv_route *r = find(cases[i].method, cases[i].path, SRV_MATCH_OK, id);
        ck_assert_msg(srv_route_allows(r, ST_ROLE_ADMIN) == cases[i].admin, "%s",
                      cases[i].path);
        ck_assert_msg(srv_route_allows(r, ST_ROLE_MODELER) == cases[i].modeler, "%s %s",
                      cases[i].method, cases[i].path);
        ck_assert_msg(srv_route_allows(r, ST_ROLE_VALIDATOR) == cases[i].validator,
                      "%s %s", cases[i].method, cases[i].path);
        ck_assert_msg(srv_route_allows(r, ST_ROLE_VIEWER) == cases[i].viewer, "%s %s",
                      cases[i].method, cases[i].path);
    }
    /* Only health is public; every route has exactly one way to answer. */
    size_t n = 0;
    const srv_route *all = srv_routes(&n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(all[i].roles != SRV_ROLES_PUBLIC ||
                          strcmp(all[i].pattern, "/api/v1/health") == 0,
                      "%s is public", all[i].pattern);
        ck_assert((all[i].handler != NULL) != (all[i].stream != NULL));
    }
}
END_TEST

START_TEST(test_static_files_confined_to_web_dir)
{
    char dir[64] = "/tmp/gb-web-XXXXXX", path[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    fputs("<p>dashboard</p>", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/app.js", dir);
    f = fopen(path, "w");
    fputs("let x = 1;", f);
    fclose(f);
    char *body = NULL;
    size_t len = 0;
    const char *type = NULL;
    ck_assert_int_eq(srv_static_get(dir, "/", &body, &len, &type), 200);
    ck_assert_uint_eq(len, 16);
    ck_assert_str_eq(type, "text/html; charset=utf-8");
    gb_free(body);
    ck_assert_int_eq(srv_static_get(dir, "/app.js", &body, &len, &type), 200);
    ck_assert(strncmp(body, "let x = 1;", len) == 0);
    ck_assert_str_eq(type, "text/javascript; charset=utf-8");
    gb_free(body);
    const char *refused[] = {"/../etc/passwd", "/a/../../x.js", "/.env",
                             "/app.exe",       "//app.js",      "/app.js/",
                             "/a b.js",        "/missing.js"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_msg(srv_static_get(dir, refused[i], &body, &len, &type) == 404, "%s",
                      refused[i]);
        ck_assert_ptr_null(body);
    }
    /* Without a web directory, / still answers (a pointer to the API). */
    ck_assert_int_eq(srv_static_get("/nonexistent", "/", &body, &len, &type), 200);
    ck_assert_ptr_nonnull(strstr(body, "/api/v1/"));
    gb_free(body);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *server_suite(void)
{
    Suite *s = suite_create("server");
    TCase *config = tcase_create("config");
    tcase_add_test(config, test_config_defaults);
    tcase_add_test(config, test_config_precedence_flags_env_file_defaults);
    tcase_add_test(config, test_config_errors_name_key_and_source);
    suite_add_tcase(s, config);
    TCase *routes = tcase_create("routes");
    tcase_add_test(routes, test_routes_match_ids_and_methods);
    tcase_add_test(routes, test_routes_role_matrix);
    tcase_add_test(routes, test_static_files_confined_to_web_dir);
    suite_add_tcase(s, routes);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(server_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
