/*
 * static.c - the dashboard's static files.
 * Layer: server.
 */
#include "server/static.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/base.h"

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".map", "application/json; charset=utf-8"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char fallback_page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>glassbox</title></head>"
    "<body><h1>glassbox</h1><p>The dashboard's files were not found in the configured "
    "web-dir. The API is at <a href=\"/api/v1/health\">/api/v1/</a>; see "
    "docs/API.md.</p></body></html>\n";

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* Only plain segments: no "..", no leading dots, no odd characters. */
static int path_allowed(const char *rel)
{
    const char *seg = rel;
    if (rel[0] == '\0')
        return 0;
    for (const char *p = rel;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            if (p == seg || seg[0] == '.')
                return 0;
            if (c == '\0')
                return 1;
            seg = p + 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
}

/* 1 when the file at path, symbolic links resolved, lies inside web_dir
 * (also resolved): a link inside the web directory cannot serve a file
 * from outside it. */
static int inside_web_dir(const char *web_dir, const char *path)
{
    char root[PATH_MAX], real[PATH_MAX];
    if (realpath(web_dir, root) == NULL || realpath(path, real) == NULL)
        return 0;
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return 1;
    return strncmp(real, root, n) == 0 && real[n] == '/';
}

/* Under node_modules/ only <package>/dist/... is served: the built files of
 * the dashboard's libraries, not their sources or package metadata. */
static int node_modules_allowed(const char *rel)
{
    if (strncmp(rel, "node_modules/", 13) != 0)
        return 1;
    const char *pkg_end = strchr(rel + 13, '/');
    return pkg_end != NULL && strncmp(pkg_end, "/dist/", 6) == 0 && pkg_end[6] != '\0';
}

int srv_static_get(const char *web_dir, const char *url, char **body, size_t *len,
                   const char **content_type)
{
    char path[PATH_MAX];
    struct stat st;
    *body = NULL;
    *len = 0;
    const char *rel = url[0] == '/' ? url + 1 : url;
    int is_index = rel[0] == '\0';
    if (is_index)
        rel = "index.html";
    if (!path_allowed(rel) || !node_modules_allowed(rel) ||
        (*content_type = type_of(rel)) == NULL)
        return 404;
    int n = snprintf(path, sizeof path, "%s/%s", web_dir, rel);
    if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode)) {
        if (!is_index)
            return 404;
        *body = gb_strdup(fallback_page);
        *len = *body != NULL ? strlen(*body) : 0;
        *content_type = "text/html; charset=utf-8";
        return *body != NULL ? 200 : 500;
    }
    if (!inside_web_dir(web_dir, path))
        return 404;
    if ((size_t)st.st_size > SRV_STATIC_MAX_BYTES)
        return 500;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 500;
    *body = gb_malloc((size_t)st.st_size + 1);
    size_t got = *body != NULL ? fread(*body, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (*body == NULL || got != (size_t)st.st_size) {
        gb_free(*body);
        *body = NULL;
        return 500;
    }
    *len = got;
    return 200;
}
