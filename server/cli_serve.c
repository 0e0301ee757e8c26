/*
 * cli_serve.c - `glassbox serve`: the daemon.
 * Layer: server.
 *
 * Start-up: settings (server/config.h), the data directory (0700), blob
 * store, database (migrated), the first admin token on an empty database
 * (printed once and written 0600 to <data-dir>/admin-token), the job pool
 * (recovering runs left running), then HTTP.  SIGINT/SIGTERM stop HTTP
 * (in-flight requests finish), then the job pool (running jobs are
 * interrupted and recorded as such), then the database.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/cli.h"
#include "server/config.h"
#include "server/http.h"
#include "server/jobs.h"
#include "server/runners.h"
#include "storage/blobs.h"
#include "storage/db.h"
#include "storage/tokens.h"

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

static gb_status jobs_enqueue_hook(void *ctx, st_db *db, st_run *run,
                                   const st_audit_entry *audit, int *queue_full,
                                   gb_error *err)
{
    return srv_jobs_enqueue(ctx, db, run, audit, queue_full, err);
}

static void jobs_cancel_hook(void *ctx, const char *run_id)
{
    srv_jobs_cancel(ctx, run_id);
}

/* Creates the data directory (and parents one level deep) with mode 0700. */
static gb_status ensure_dir(const char *path, gb_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return gb_error_set(err, GB_EINPUT, "data-dir '%s' is not a directory",
                                path);
        return GB_OK;
    }
    if (mkdir(path, 0700) != 0)
        return gb_error_set(err, GB_EIO, "cannot create data-dir '%s': %s", path,
                            strerror(errno));
    return GB_OK;
}

/* Writes the secret to <data-dir>/admin-token with mode 0600. */
static gb_status write_admin_token(const char *data_dir, const char *secret,
                                   gb_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/admin-token", data_dir) >= (int)sizeof path)
        return gb_error_set(err, GB_EINPUT, "data-dir path too long");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return gb_error_set(err, GB_EIO, "cannot write '%s': %s", path,
                            strerror(errno));
    gb_status status = GB_OK;
    size_t len = strlen(secret);
    if (fchmod(fd, 0600) != 0 || write(fd, secret, len) != (ssize_t)len ||
        write(fd, "\n", 1) != 1 || fsync(fd) != 0)
        status =
            gb_error_set(err, GB_EIO, "cannot write '%s': %s", path, strerror(errno));
    close(fd);
    return status;
}

/* Holds an exclusive lock on <data-dir>/glassbox.lock for the life of the
 * process, so a second daemon cannot serve (and "recover" the runs of)
 * the same data directory.  *fd_out stays open until exit. */
static gb_status lock_data_dir(const char *data_dir, int *fd_out, gb_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/glassbox.lock", data_dir) >= (int)sizeof path)
        return gb_error_set(err, GB_EINPUT, "data-dir path too long");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return gb_error_set(err, GB_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return gb_error_set(err, GB_EINPUT,
                            "another glassbox is already serving data-dir '%s'",
                            data_dir);
    }
    *fd_out = fd;
    return GB_OK;
}

static gb_status first_admin_token(st_db *db, const char *data_dir, gb_error *err)
{
    size_t n = 0;
    gb_status status = st_token_count(db, &n, err);
    if (status != GB_OK || n > 0)
        return status;
    st_token token;
    char secret[ST_TOKEN_SECRET_LEN + 1];
    st_audit_entry audit = {
        "system", "token.create", NULL,
        "{\"name\":\"admin\",\"role\":\"admin\",\"reason\":\"first start\"}"};
    status = st_token_create(db, "admin", ST_ROLE_ADMIN, "system", &audit, &token,
                             secret, err);
    if (status != GB_OK)
        return status;
    status = write_admin_token(data_dir, secret, err);
    printf(
        "glassbox: created the first admin token (shown once; also in %s/admin-token, "
        "mode 0600):\n\n    %s\n\n",
        data_dir, secret);
    fflush(stdout);
    memset(secret, 0, sizeof secret);
    return status;
}

int cli_serve(int argc, char **argv)
{
    srv_config cfg;
    gb_error err;
    int help = 0;
    st_db *db = NULL;
    srv_jobs *jobs = NULL;
    srv_http *http = NULL;
    api_model_cache *model_cache = NULL;
    char db_path[PATH_MAX + 32];
    gb_status status;
    gb_error_clear(&err);

    status = srv_config_load(&cfg, argc, argv, env_lookup, &help, &err);
    if (help) {
        srv_config_usage(stdout);
        return 0;
    }
    if (status != GB_OK) {
        cli_print_error("serve", &err);
        return 2;
    }
    snprintf(db_path, sizeof db_path, "%s/glassbox.db", cfg.data_dir);

    /* Signals are handled by this thread only: block them before any
     * thread starts so every thread inherits the mask. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lock_fd = -1;
    umask(077); /* the database, blobs and token file are private to the daemon */
    status = ensure_dir(cfg.data_dir, &err);
    if (status == GB_OK)
        status = lock_data_dir(cfg.data_dir, &lock_fd, &err);
    if (status == GB_OK)
        status = st_blobs_init(cfg.data_dir, &err);
    if (status == GB_OK)
        status = st_db_open(db_path, &db, &err);
    if (status == GB_OK)
        status = first_admin_token(db, cfg.data_dir, &err);
    if (status != GB_OK)
        goto fail;

    srv_jobs_config jcfg = {.db_path = db_path,
                            .data_dir = cfg.data_dir,
                            .n_workers = cfg.workers,
                            .max_queued = cfg.max_queued,
                            .requeue_interrupted = cfg.requeue_interrupted,
                            .poll_ms = 1000,
                            .run_cb = srv_run_dispatch,
                            .run_ctx = NULL};
    status = srv_jobs_start(&jcfg, &jobs, &err);
    if (status != GB_OK)
        goto fail;

    model_cache = api_model_cache_create();
    if (model_cache == NULL) {
        status = gb_error_set(&err, GB_ENOMEM, "out of memory");
        goto fail;
    }
    api_env env = {.data_dir = cfg.data_dir,
                   .model_cache = model_cache,
                   .db_path = db_path,
                   .max_upload_bytes = cfg.max_upload_mb * 1024 * 1024,
                   .hooks_ctx = jobs,
                   .run_enqueue = jobs_enqueue_hook,
                   .run_cancel = jobs_cancel_hook};
    status = srv_http_start(&cfg, &env, db_path, &http, &err);
    if (status != GB_OK)
        goto fail;

    int loopback = strncmp(cfg.bind, "127.", 4) == 0 || strcmp(cfg.bind, "::1") == 0;
    if (!loopback && cfg.tls_cert[0] == '\0')
        fprintf(stderr,
                "{\"level\":\"warn\",\"msg\":\"listening beyond loopback without "
                "TLS: tokens travel in clear text\",\"bind\":\"%s\"}\n",
                cfg.bind);
    const char *scheme = cfg.tls_cert[0] ? "https" : "http";
    int v6 = strchr(cfg.bind, ':') != NULL;
    printf("glassbox %s listening on %s://%s%s%s:%u/ (dashboard), API at "
           "%s://%s%s%s:%u/api/v1/\n",
           GB_VERSION, scheme, v6 ? "[" : "", cfg.bind, v6 ? "]" : "",
           srv_http_port(http), scheme, v6 ? "[" : "", cfg.bind, v6 ? "]" : "",
           srv_http_port(http));
    printf("data dir %s, %u run workers, %u HTTP threads\n", cfg.data_dir, cfg.workers,
           cfg.http_threads);
    fflush(stdout);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopping\",\"signal\":%d}\n", sig);
    srv_http_stop(http);
    srv_jobs_stop(jobs);
    api_model_cache_free(model_cache);
    st_db_close(db);
    close(lock_fd);
    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopped\"}\n");
    return 0;
fail:
    cli_print_error("serve", &err);
    srv_http_stop(http);
    srv_jobs_stop(jobs);
    api_model_cache_free(model_cache);
    st_db_close(db);
    if (lock_fd >= 0)
        close(lock_fd);
    return cli_exit_code(status);
}
