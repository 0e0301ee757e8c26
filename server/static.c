/*
 * static.c - the dashboard's files (see static.h for what is served).
 * Layer: server.
 */
#include "server/static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct ext_type {
    const char *ext;
    const char *type;
} ext_type;

static const ext_type types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

/* 1 when every segment of rel (no leading '/') is [A-Za-z0-9._-]+ and does
 * not start with '.'; *n_segments counts them. */
static int segments_ok(const char *rel, size_t *n_segments)
{
    size_t n = 0;
    const char *s = rel;
    while (*s != '\0') {
        size_t len = 0;
        if (s[0] == '.')
            return 0;
        while (s[len] != '\0' && s[len] != '/') {
            if (!name_char(s[len]))
                return 0;
            len++;
        }
        if (len == 0)
            return 0;
        n++;
        s += len;
        if (*s == '/') {
            s++;
            if (*s == '\0')
                return 0; /* trailing slash */
        }
    }
    *n_segments = n;
    return n > 0;
}

/* node_modules/<package>/dist/<file...>: the only part of node_modules served. */
static int node_modules_ok(const char *rel, size_t n_segments)
{
    if (strncmp(rel, "node_modules/", 13) != 0)
        return 1;
    const char *pkg_end = strchr(rel + 13, '/');
    return n_segments >= 4 && pkg_end != NULL && strncmp(pkg_end, "/dist/", 6) == 0;
}

static const char *type_of(const char *rel)
{
    size_t len = strlen(rel);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t el = strlen(types[i].ext);
        if (len > el && strcmp(rel + len - el, types[i].ext) == 0)
            return types[i].type;
    }
    return NULL;
}

gb_status srv_static_open(const char *web_dir, const char *url, srv_static_file *out)
{
    char path[PATH_MAX];
    size_t n_segments = 0;
    struct stat sb;
    out->fd = -1;
    out->size = 0;
    out->content_type = NULL;
    if (web_dir == NULL || web_dir[0] == '\0' || url == NULL || url[0] != '/')
        return GB_ENOTFOUND;
    const char *rel = strcmp(url, "/") == 0 ? "index.html" : url + 1;
    const char *type = type_of(rel);
    if (type == NULL || !segments_ok(rel, &n_segments) ||
        !node_modules_ok(rel, n_segments))
        return GB_ENOTFOUND;
    if (snprintf(path, sizeof path, "%s/%s", web_dir, rel) >= (int)sizeof path)
        return GB_ENOTFOUND;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return GB_ENOTFOUND;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return GB_ENOTFOUND;
    }
    out->fd = fd;
    out->size = (uint64_t)sb.st_size;
    out->content_type = type;
    return GB_OK;
}

void srv_static_default_dir(char *out, size_t cap)
{
    char exe[PATH_MAX];
    char probe[PATH_MAX + 32];
    struct stat sb;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(probe, sizeof probe, "%s/../web/index.html", exe);
            if (stat(probe, &sb) == 0 && S_ISREG(sb.st_mode)) {
                snprintf(out, cap, "%s/../web", exe);
                return;
            }
        }
    }
    snprintf(out, cap, "./web");
}
