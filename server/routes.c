/*
 * routes.c - the route table and its matcher.
 * Layer: server.
 */
#include "server/routes.h"

#include <stdio.h>
#include <string.h>

static const srv_route routes[] = {
    {"GET", "/api/v1/health", SRV_ROLES_PUBLIC, api_health_get, NULL},

    {"POST", "/api/v1/tokens", SRV_ROLES_ADMIN, api_tokens_create, NULL},
    {"GET", "/api/v1/tokens", SRV_ROLES_ADMIN, api_tokens_list, NULL},
    {"DELETE", "/api/v1/tokens/{id}", SRV_ROLES_ADMIN, api_tokens_revoke, NULL},

    {"POST", "/api/v1/datasets", SRV_ROLES_MODEL, NULL, &api_datasets_upload_ops},
    {"GET", "/api/v1/datasets", SRV_ROLES_READ, api_datasets_list, NULL},
    {"GET", "/api/v1/datasets/{id}", SRV_ROLES_READ, api_datasets_get, NULL},
    {"DELETE", "/api/v1/datasets/{id}", SRV_ROLES_MODEL, api_datasets_delete, NULL},

    {"POST", "/api/v1/teachers", SRV_ROLES_MODEL, NULL, &api_teachers_upload_ops},
    {"POST", "/api/v1/teachers/train", SRV_ROLES_MODEL, api_teachers_train, NULL},
    {"GET", "/api/v1/teachers", SRV_ROLES_READ, api_teachers_list, NULL},
    {"GET", "/api/v1/teachers/{id}", SRV_ROLES_READ, api_teachers_get, NULL},
    {"DELETE", "/api/v1/teachers/{id}", SRV_ROLES_MODEL, api_teachers_delete, NULL},

    {"POST", "/api/v1/runs", SRV_ROLES_MODEL, api_runs_create, NULL},
    {"GET", "/api/v1/runs", SRV_ROLES_READ, api_runs_list, NULL},
    {"GET", "/api/v1/runs/{id}", SRV_ROLES_READ, api_runs_get, NULL},
    {"POST", "/api/v1/runs/{id}/cancel", SRV_ROLES_MODEL, api_runs_cancel, NULL},
    {"GET", "/api/v1/runs/{id}/student", SRV_ROLES_READ, api_runs_student, NULL},
    {"GET", "/api/v1/runs/{id}/export", SRV_ROLES_READ, api_runs_export, NULL},
    {"POST", "/api/v1/runs/{id}/predict", SRV_ROLES_READ, api_runs_predict, NULL},
    {"GET", "/api/v1/runs/{id}/report.html", SRV_ROLES_READ, api_runs_report_html,
     NULL},
    {"POST", "/api/v1/runs/{id}/reviews", SRV_ROLES_REVIEW, api_reviews_create, NULL},
    {"GET", "/api/v1/runs/{id}/reviews", SRV_ROLES_READ, api_reviews_list, NULL},

    {"GET", "/api/v1/compare", SRV_ROLES_READ, api_compare, NULL},

    {"GET", "/api/v1/audit", SRV_ROLES_READ, api_audit_list, NULL},
    {"GET", "/api/v1/audit/verify", SRV_ROLES_READ, api_audit_verify, NULL},
};

const srv_route *srv_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

/* Matches path against pattern; {id} takes one non-empty segment of id
 * characters.  Returns 1 on a match. */
static int path_matches(const char *pattern, const char *path, char id[SRV_ID_MAX + 1])
{
    const char *p = pattern, *s = path;
    id[0] = '\0';
    while (*p != '\0') {
        if (strncmp(p, "{id}", 4) == 0) {
            size_t n = 0;
            while (s[n] != '\0' && s[n] != '/') {
                if (!id_char(s[n]))
                    return 0;
                n++;
            }
            if (n == 0 || n > SRV_ID_MAX)
                return 0;
            memcpy(id, s, n);
            id[n] = '\0';
            s += n;
            p += 4;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    /* A single trailing slash is tolerated. */
    return *s == '\0' || (s[0] == '/' && s[1] == '\0');
}

srv_match srv_route_find(const char *method, const char *path, const srv_route **route,
                         char id[SRV_ID_MAX + 1], char *allow, size_t allow_cap)
{
    char scratch[SRV_ID_MAX + 1];
    int path_seen = 0;
    *route = NULL;
    if (allow != NULL && allow_cap > 0)
        allow[0] = '\0';
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!path_matches(routes[i].pattern, path, scratch))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            *route = &routes[i];
            memcpy(id, scratch, sizeof scratch);
            return SRV_MATCH_OK;
        }
        if (allow != NULL && allow_cap > 0) {
            size_t used = strlen(allow);
            snprintf(allow + used, allow_cap - used, "%s%s", path_seen ? ", " : "",
                     routes[i].method);
        }
        path_seen = 1;
    }
    return path_seen ? SRV_MATCH_NO_METHOD : SRV_MATCH_NO_PATH;
}

int srv_route_allows(const srv_route *route, st_role role)
{
    if (route->roles == SRV_ROLES_PUBLIC)
        return 1;
    return (route->roles & (unsigned)role) != 0;
}
