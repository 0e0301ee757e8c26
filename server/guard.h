/*
 * guard.h - a deadline on request headers, against clients that trickle a
 * request a byte at a time (libmicrohttpd's own timeout only measures
 * idleness, which such a client never reaches).
 * Layer: server.
 *
 * Every connection must deliver a complete request head (request line and
 * headers) within timeout_s of connecting or of the previous response on
 * a kept-alive connection.  A watchdog thread shuts down the socket of a
 * connection past its deadline; libmicrohttpd then sees the end of the
 * stream and closes it as usual.  Bodies are checked by the HTTP layer
 * (a minimum average rate once timeout_s has passed).
 *
 * Wiring: pass srv_guard_notify_cb with the guard as MHD_OPTION_NOTIFY_
 * CONNECTION; call srv_guard_request_begin when a request's headers have
 * arrived (the access handler's first call) and srv_guard_request_end when
 * it completes.  Free the guard only after the daemon has stopped.
 */
#ifndef SERVER_GUARD_H
#define SERVER_GUARD_H

#include <microhttpd.h>

typedef struct srv_guard srv_guard;

/* Starts the watchdog.  NULL when out of memory or no thread could be
 * started; free with srv_guard_free. */
srv_guard *srv_guard_create(unsigned timeout_s);

/* Stops the watchdog and frees the guard; NULL is a no-op.  Connections
 * still registered are forgotten, not touched. */
void srv_guard_free(srv_guard *guard);

/* MHD_OPTION_NOTIFY_CONNECTION callback (cls = the guard). */
void srv_guard_notify_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                         enum MHD_ConnectionNotificationCode code);

/* The request head has arrived: no deadline until the request ends. */
void srv_guard_request_begin(struct MHD_Connection *conn);

/* The request ended: the next request head is due within the timeout. */
void srv_guard_request_end(struct MHD_Connection *conn);

/* Number of connections past their deadline that were shut down. */
unsigned long srv_guard_dropped(const srv_guard *guard);

#endif /* SERVER_GUARD_H */
