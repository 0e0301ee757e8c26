/*
 * http.h - the HTTP front of the daemon (libmicrohttpd).
 * Layer: server (the only place that sees microhttpd.h).
 *
 * Internal polling threads with a thread pool, a connection limit,
 * per-connection idle timeouts and memory limits, body caps answered with
 * 413, streamed upload bodies, one route table (server/routes.h) checked
 * for authentication (401) and role (403) before any handler runs, error
 * bodies {"error":{"code","message","details"}}, an X-Request-Id on every
 * response and one JSON log line per request on stderr.
 *
 * Each HTTP thread takes a database connection from a small pool for the
 * duration of one handler call, so no connection is shared by two threads
 * at once.
 */
#ifndef SERVER_HTTP_H
#define SERVER_HTTP_H

#include <stdint.h>

#include "api/api.h"
#include "core/base.h"
#include "server/config.h"

typedef struct srv_http srv_http;

/* Starts listening per cfg (bind, port, http_threads, max_connections,
 * connection_timeout_s, max_upload_mb, max_json_kb, tls) with handlers
 * using env (copied; its strings must outlive the server).  On error
 * nothing listens and err names the problem. */
gb_status srv_http_start(const srv_config *cfg, const api_env *env, const char *db_path,
                         srv_http **out, gb_error *err);

/* The port actually bound (useful with port 0). */
uint16_t srv_http_port(const srv_http *http);

/* Stops accepting, lets in-flight requests finish, closes the pool's
 * connections and frees the server.  NULL is a no-op. */
void srv_http_stop(srv_http *http);

#endif /* SERVER_HTTP_H */
