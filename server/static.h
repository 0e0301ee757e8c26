/*
 * static.h - serves the dashboard's static files from the web directory.
 * Layer: server.
 *
 * GET / is web/index.html; GET /path is web/path for paths made of
 * [A-Za-z0-9._-/] segments (no "..", no hidden files) with a known file
 * extension; under node_modules/ only <package>/dist/... (the charting
 * library's built files, installed by `npm ci` in web/).  Without a web directory, /
 * answers a small page pointing at the API.  Static files need no token: the dashboard
 * asks for one and calls the API with it.
 */
#ifndef SERVER_STATIC_H
#define SERVER_STATIC_H

#include <stddef.h>

/* The Content-Security-Policy of every dashboard file: scripts, styles,
 * images and API calls from this origin only; no inline script or style,
 * no plugins, no framing. */
#define SRV_STATIC_CSP                                                                 \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "  \
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "       \
    "frame-ancestors 'none'"

/* Largest static file served. */
#define SRV_STATIC_MAX_BYTES ((size_t)16 << 20)

/* Resolves url under web_dir.  Returns 200 with *body (gb_malloc'd,
 * caller frees), *len and *content_type (static string) set; 404 when
 * there is no such file (or the path is not allowed); 500 on read errors. */
int srv_static_get(const char *web_dir, const char *url, char **body, size_t *len,
                   const char **content_type);

#endif /* SERVER_STATIC_H */
