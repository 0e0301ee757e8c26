/*
 * routes.h - the route table: every API route with the roles allowed to
 * call it.  Authorization is decided here, in one place, before any
 * handler runs (server/http.c).
 * Layer: server.
 *
 * Roles (API.md): admin everything; modeler uploads and starts/cancels
 * runs (and reads); validator reads everything and writes reviews; viewer
 * reads.
 */
#ifndef SERVER_ROUTES_H
#define SERVER_ROUTES_H

#include <stddef.h>

#include "api/api.h"
#include "storage/tokens.h"

#define SRV_ROLES_PUBLIC 0u
#define SRV_ROLES_READ                                                                 \
    (ST_ROLE_ADMIN | ST_ROLE_MODELER | ST_ROLE_VALIDATOR | ST_ROLE_VIEWER)
#define SRV_ROLES_MODEL (ST_ROLE_ADMIN | ST_ROLE_MODELER)
#define SRV_ROLES_REVIEW (ST_ROLE_ADMIN | ST_ROLE_VALIDATOR)
#define SRV_ROLES_ADMIN ((unsigned)ST_ROLE_ADMIN)

#define SRV_ID_MAX 96 /* longest {id} segment accepted */

typedef struct srv_route {
    const char *method;
    const char *pattern;          /* "/api/v1/datasets/{id}" */
    unsigned roles;               /* allowed st_role bits; 0 = no token needed */
    api_handler_fn handler;       /* buffered-body or bodiless handler */
    const api_stream_ops *stream; /* streamed-body handler (instead) */
} srv_route;

typedef enum srv_match {
    SRV_MATCH_OK = 0,
    SRV_MATCH_NO_PATH,  /* 404 */
    SRV_MATCH_NO_METHOD /* 405: the path exists with another method */
} srv_match;

/* Finds the route for method + path (query string excluded).  On
 * SRV_MATCH_OK, *route is set and id receives the {id} segment ("" when
 * the pattern has none).  On SRV_MATCH_NO_METHOD, allow (may be NULL)
 * receives the allowed methods ("GET, DELETE"). */
srv_match srv_route_find(const char *method, const char *path, const srv_route **route,
                         char id[SRV_ID_MAX + 1], char *allow, size_t allow_cap);

/* Nonzero when a token with this role may call the route. */
int srv_route_allows(const srv_route *route, st_role role);

/* The table itself (for documentation checks in tests). */
const srv_route *srv_routes(size_t *n);

#endif /* SERVER_ROUTES_H */
