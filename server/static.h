/*
 * static.h - the dashboard's files: maps a request path to a file under the
 * web directory, refusing anything outside a narrow allow-list.
 * Layer: server (no libmicrohttpd here; http.c turns the result into a
 * response).
 *
 * Served: "/" (index.html) and paths whose segments are [A-Za-z0-9._-]+,
 * none starting with '.', ending in .html .js .css .svg .png .ico; under
 * node_modules/ only node_modules/<package>/dist/... (the charting
 * library's distributed files, installed by `npm ci`).  Everything else
 * (package.json, sources of packages, dot files, "..") is not found.
 */
#ifndef SERVER_STATIC_H
#define SERVER_STATIC_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

/* The Content-Security-Policy sent with every dashboard file: scripts,
 * styles, images and API calls from this origin only; no inline script
 * or style, no plugins, no framing. */
#define SRV_STATIC_CSP                                                                 \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "  \
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "       \
    "frame-ancestors 'none'"

typedef struct srv_static_file {
    int fd;                   /* open, read-only; the caller closes it */
    uint64_t size;            /* bytes */
    const char *content_type; /* static string */
} srv_static_file;

/* Resolves url (the request path, without query) against web_dir.  Returns
 * GB_OK with *out filled (the caller owns out->fd), or GB_ENOTFOUND when
 * the path is not allowed or no such regular file exists (out->fd = -1).
 * Nothing is allocated. */
gb_status srv_static_open(const char *web_dir, const char *url, srv_static_file *out);

/* Finds the default web directory: `<dir of the executable>/../web` when it
 * holds index.html (build/glassbox in a checkout), else "./web".  Writes at
 * most cap bytes (NUL-terminated) into out. */
void srv_static_default_dir(char *out, size_t cap);

#endif /* SERVER_STATIC_H */
