/*
 * config.h - daemon settings: defaults, config file, GLASSBOX_* environment
 * variables and command-line flags.
 * Layer: server.
 *
 * Precedence (highest first): flags > environment > config file > defaults.
 * The config file is named by --config F (or GLASSBOX_CONFIG); it holds
 * `key = value` lines, `#` comments and blank lines.  Every key has a flag
 * `--key value` (or `--key=value`) and a variable GLASSBOX_KEY (upper case,
 * '-' -> '_'):
 *
 *   bind                127.0.0.1   address to listen on
 *   port                8080        TCP port (0 = any free port)
 *   data-dir            ./var       database, blobs, admin token
 *   workers             2           run worker threads
 *   http-threads        4           HTTP thread pool size
 *   max-upload-mb       512         largest request body (uploads)
 *   max-json-kb         1024        largest JSON request body
 *   max-connections     256         concurrent connections
 *   max-connections-per-ip 0        concurrent connections from one address
 *                                   (0 = no limit other than max-connections)
 *   connection-timeout  30          idle seconds before a connection drops
 *   max-queued          64          queued runs before POST /runs gets 503
 *   requeue-interrupted false       re-queue runs left running at start-up
 *   web-dir             ./web       the dashboard's static files
 *   tls-cert, tls-key   (none)      PEM files; both or neither
 *   auth-failures       10          failed authentications an address may make
 *                                   at once before 429 (0 = no limit)
 *   auth-failure-window 60          seconds in which that many are given back
 */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "core/base.h"

typedef struct srv_config {
    char bind[64];
    unsigned port;
    char data_dir[PATH_MAX];
    unsigned workers;
    unsigned http_threads;
    size_t max_upload_mb;
    size_t max_json_kb;
    unsigned max_connections;
    unsigned max_connections_per_ip;
    unsigned connection_timeout_s;
    size_t max_queued;
    int requeue_interrupted;
    char web_dir[PATH_MAX];
    char tls_cert[PATH_MAX];
    char tls_key[PATH_MAX];
    unsigned auth_failures;
    unsigned auth_failure_window_s;
    char config_file[PATH_MAX]; /* "" when none */
} srv_config;

/* Environment lookup (getenv in production; a table in tests). */
typedef const char *(*srv_getenv_fn)(const char *name);

/* Fills the defaults above. */
void srv_config_defaults(srv_config *cfg);

/* Sets one key from text; `source` names where it came from for errors
 * ("--port", "GLASSBOX_PORT", "glassbox.conf line 3").  GB_EINPUT naming
 * the key for unknown keys and bad values; cfg unchanged on error. */
gb_status srv_config_set(srv_config *cfg, const char *key, const char *value,
                         const char *source, gb_error *err);

/* Applies a config file (GB_EINPUT with the line number on errors, GB_EIO
 * when it cannot be read). */
gb_status srv_config_load_file(srv_config *cfg, const char *path, gb_error *err);

/* Applies GLASSBOX_* variables found through getenv_fn. */
gb_status srv_config_load_env(srv_config *cfg, srv_getenv_fn getenv_fn, gb_error *err);

/* The whole precedence chain for `glassbox serve` arguments (argv[0] is
 * the subcommand).  *help is set when --help was given. */
gb_status srv_config_load(srv_config *cfg, int argc, char **argv,
                          srv_getenv_fn getenv_fn, int *help, gb_error *err);

/* Prints the flag summary. */
void srv_config_usage(void *stream);

#endif /* SERVER_CONFIG_H */
