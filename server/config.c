/*
 * config.c - daemon settings with precedence flags > env > file > defaults.
 * Layer: server.
 */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum key_kind { KEY_TEXT, KEY_UINT, KEY_SIZE, KEY_BOOL } key_kind;

typedef struct key_spec {
    const char *name;
    key_kind kind;
    size_t offset;
    size_t size; /* text: buffer size */
    unsigned long long min, max;
    const char *help;
} key_spec;

#define TEXT(field, help)                                                              \
    KEY_TEXT, offsetof(srv_config, field), sizeof(((srv_config *)0)->field), 0, 0, help
#define UINT(field, lo, hi, help) KEY_UINT, offsetof(srv_config, field), 0, lo, hi, help
#define SIZE(field, lo, hi, help) KEY_SIZE, offsetof(srv_config, field), 0, lo, hi, help

static const key_spec keys[] = {
    {"bind", TEXT(bind, "address to listen on (default 127.0.0.1)")},
    {"port", UINT(port, 0, 65535, "TCP port, 0 = any free port (default 8080)")},
    {"data-dir", TEXT(data_dir, "database, blobs and admin token (default ./var)")},
    {"workers", UINT(workers, 1, 256, "run worker threads (default 2)")},
    {"http-threads", UINT(http_threads, 1, 256, "HTTP thread pool size (default 4)")},
    {"max-upload-mb",
     SIZE(max_upload_mb, 1, 1048576, "largest upload in MiB (default 512)")},
    {"max-json-kb",
     SIZE(max_json_kb, 1, 1048576, "largest JSON body in KiB (default 1024)")},
    {"max-connections",
     UINT(max_connections, 1, 100000, "concurrent connections (default 256)")},
    {"max-connections-per-ip",
     UINT(max_connections_per_ip, 0, 100000,
          "concurrent connections from one address (default 0 = no limit)")},
    {"connection-timeout", UINT(connection_timeout_s, 1, 86400,
                                "idle seconds before a connection drops (default 30)")},
    {"max-queued", SIZE(max_queued, 1, 1000000, "queued runs before 503 (default 64)")},
    {"requeue-interrupted", KEY_BOOL, offsetof(srv_config, requeue_interrupted), 0, 0,
     1, "re-queue runs left running at start-up (default false)"},
    {"web-dir", TEXT(web_dir, "the dashboard's static files (default ./web)")},
    {"tls-cert", TEXT(tls_cert, "PEM certificate (with --tls-key)")},
    {"tls-key", TEXT(tls_key, "PEM private key (with --tls-cert)")},
    {"auth-failures", UINT(auth_failures, 0, 1000000,
                           "failed authentications per address before 429 "
                           "(default 10, 0 = no limit)")},
    {"auth-failure-window", UINT(auth_failure_window_s, 1, 86400,
                                 "seconds to regain auth-failures tries (default 60)")},
};

void srv_config_defaults(srv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->bind, sizeof cfg->bind, "127.0.0.1");
    cfg->port = 8080;
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "./var");
    cfg->workers = 2;
    cfg->http_threads = 4;
    cfg->max_upload_mb = 512;
    cfg->max_json_kb = 1024;
    cfg->max_connections = 256;
    cfg->connection_timeout_s = 30;
    cfg->max_queued = 64;
    snprintf(cfg->web_dir, sizeof cfg->web_dir, "./web");
    cfg->auth_failures = 10;
    cfg->auth_failure_window_s = 60;
}

static const key_spec *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static gb_status bad_value(gb_error *err, const char *key, const char *source,
                           const char *what)
{
    gb_error_set(err, GB_EINPUT, "%s: %s %s", source, key, what);
    gb_error_field(err, key);
    return GB_EINPUT;
}

gb_status srv_config_set(srv_config *cfg, const char *key, const char *value,
                         const char *source, gb_error *err)
{
    const key_spec *spec = find_key(key);
    if (spec == NULL) {
        gb_error_set(err, GB_EINPUT, "%s: unknown setting '%s'", source, key);
        gb_error_field(err, key);
        return GB_EINPUT;
    }
    char *base = (char *)cfg + spec->offset;
    switch (spec->kind) {
    case KEY_TEXT:
        if (value[0] == '\0')
            return bad_value(err, key, source, "must not be empty");
        if (strlen(value) >= spec->size)
            return bad_value(err, key, source, "is too long");
        memcpy(base, value, strlen(value) + 1);
        return GB_OK;
    case KEY_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
            strcmp(value, "yes") == 0)
            *(int *)(void *)base = 1;
        else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
                 strcmp(value, "no") == 0)
            *(int *)(void *)base = 0;
        else
            return bad_value(err, key, source, "must be true or false");
        return GB_OK;
    case KEY_UINT:
    case KEY_SIZE: {
        char *end = NULL;
        errno = 0;
        if (!isdigit((unsigned char)value[0]))
            return bad_value(err, key, source, "must be a non-negative integer");
        unsigned long long v = strtoull(value, &end, 10);
        if (errno != 0 || *end != '\0')
            return bad_value(err, key, source, "must be a non-negative integer");
        if (v < spec->min || v > spec->max) {
            char what[96];
            snprintf(what, sizeof what, "must be between %llu and %llu", spec->min,
                     spec->max);
            return bad_value(err, key, source, what);
        }
        if (spec->kind == KEY_UINT)
            *(unsigned *)(void *)base = (unsigned)v;
        else
            *(size_t *)(void *)base = (size_t)v;
        return GB_OK;
    }
    }
    return gb_error_set(err, GB_EINTERNAL, "unhandled setting kind");
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

gb_status srv_config_load_file(srv_config *cfg, const char *path, gb_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return gb_error_set(err, GB_EIO, "cannot read config file '%s': %s", path,
                            strerror(errno));
    char line[PATH_MAX + 128];
    long number = 0;
    gb_status status = GB_OK;
    srv_config copy = *cfg;
    while (status == GB_OK && fgets(line, sizeof line, f) != NULL) {
        number++;
        char source[PATH_MAX + 32];
        snprintf(source, sizeof source, "%s line %ld", path, number);
        if (strchr(line, '\n') == NULL && !feof(f)) {
            status =
                gb_error_at(err, GB_EINPUT, number, 0, "%s: line too long", source);
            break;
        }
        char *text = trim(line);
        if (text[0] == '\0' || text[0] == '#')
            continue;
        char *eq = strchr(text, '=');
        if (eq == NULL) {
            status = gb_error_at(err, GB_EINPUT, number, 0,
                                 "%s: expected 'key = value'", source);
            break;
        }
        *eq = '\0';
        char *key = trim(text), *value = trim(eq + 1);
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        status = srv_config_set(&copy, key, value, source, err);
        if (status != GB_OK)
            err->line = number;
    }
    fclose(f);
    if (status == GB_OK)
        *cfg = copy;
    return status;
}

gb_status srv_config_load_env(srv_config *cfg, srv_getenv_fn getenv_fn, gb_error *err)
{
    srv_config copy = *cfg;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char name[64] = "GLASSBOX_";
        size_t at = strlen(name);
        for (const char *p = keys[i].name; *p && at + 1 < sizeof name; p++)
            name[at++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        name[at] = '\0';
        const char *value = getenv_fn(name);
        if (value == NULL)
            continue;
        gb_status status = srv_config_set(&copy, keys[i].name, value, name, err);
        if (status != GB_OK)
            return status;
    }
    *cfg = copy;
    return GB_OK;
}

/* Splits "--key=value" / "--key value"; returns the number of argv entries
 * consumed, or 0 with err set. */
static int flag_at(int argc, char **argv, int i, char *key, size_t key_cap,
                   const char **value, gb_error *err)
{
    const char *arg = argv[i];
    if (strncmp(arg, "--", 2) != 0) {
        gb_error_set(err, GB_EINPUT, "unexpected argument '%s'", arg);
        return 0;
    }
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    if (len == 0 || len >= key_cap) {
        gb_error_set(err, GB_EINPUT, "bad option '%s'", arg);
        return 0;
    }
    memcpy(key, name, len);
    key[len] = '\0';
    if (eq != NULL) {
        *value = eq + 1;
        return 1;
    }
    const key_spec *spec = find_key(key);
    if (spec != NULL && spec->kind == KEY_BOOL) {
        *value = "true";
        return 1;
    }
    if (i + 1 >= argc) {
        gb_error_set(err, GB_EINPUT, "option --%s needs a value", key);
        gb_error_field(err, key);
        return 0;
    }
    *value = argv[i + 1];
    return 2;
}

gb_status srv_config_load(srv_config *cfg, int argc, char **argv,
                          srv_getenv_fn getenv_fn, int *help, gb_error *err)
{
    char key[64];
    const char *value = NULL;
    const char *config_path = getenv_fn("GLASSBOX_CONFIG");
    gb_status status = GB_OK;
    *help = 0;
    srv_config_defaults(cfg);
    /* First pass: --help and --config (the file sits below env and flags). */
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            *help = 1;
            return GB_OK;
        }
        int used = flag_at(argc, argv, i, key, sizeof key, &value, err);
        if (used == 0)
            return GB_EINPUT;
        if (strcmp(key, "config") == 0)
            config_path = value;
        i += used;
    }
    if (config_path != NULL && config_path[0] != '\0') {
        if (strlen(config_path) >= sizeof cfg->config_file)
            return gb_error_set(err, GB_EINPUT, "config path too long");
        snprintf(cfg->config_file, sizeof cfg->config_file, "%s", config_path);
        status = srv_config_load_file(cfg, config_path, err);
        if (status != GB_OK)
            return status == GB_EIO ? GB_EINPUT : status;
    }
    status = srv_config_load_env(cfg, getenv_fn, err);
    if (status != GB_OK)
        return status;
    for (int i = 1; i < argc;) {
        int used = flag_at(argc, argv, i, key, sizeof key, &value, err);
        if (used == 0)
            return GB_EINPUT;
        i += used;
        if (strcmp(key, "config") == 0)
            continue;
        char source[80];
        snprintf(source, sizeof source, "--%s", key);
        status = srv_config_set(cfg, key, value, source, err);
        if (status != GB_OK)
            return status;
    }
    if ((cfg->tls_cert[0] != '\0') != (cfg->tls_key[0] != '\0'))
        return gb_error_set(err, GB_EINPUT,
                            "tls-cert and tls-key must be given together");
    return GB_OK;
}

void srv_config_usage(void *stream)
{
    FILE *out = stream;
    fprintf(out,
            "usage: glassbox serve [options]\n\n"
            "Options (also GLASSBOX_<NAME> variables and `name = value` lines in\n"
            "--config FILE; precedence: flags > environment > file > defaults):\n");
    fprintf(out, "  --%-22s %s\n", "config FILE", "read settings from FILE");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        fprintf(out, "  --%-22s %s\n", keys[i].name, keys[i].help);
}
