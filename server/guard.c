/*
 * guard.c - the request-head deadline watchdog (see guard.h).
 * Layer: server.
 */
#include "server/guard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "core/base.h"

typedef struct guard_conn {
    struct srv_guard *guard;
    MHD_socket fd;
    double deadline_s; /* 0 = none */
    struct guard_conn *prev, *next;
} guard_conn;

struct srv_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int stopping;
    double timeout_s;
    guard_conn *head;
    atomic_ulong dropped;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *watch(void *arg)
{
    srv_guard *guard = arg;
    pthread_mutex_lock(&guard->lock);
    while (!guard->stopping) {
        double now = now_s();
        for (guard_conn *c = guard->head; c != NULL; c = c->next)
            if (c->deadline_s > 0 && now > c->deadline_s) {
                /* The fd stays open until the CLOSED notification, which
                 * needs this lock: shutting it down here is safe. */
                shutdown(c->fd, SHUT_RDWR);
                c->deadline_s = 0;
                atomic_fetch_add(&guard->dropped, 1);
            }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&guard->wake, &guard->lock, &until);
    }
    pthread_mutex_unlock(&guard->lock);
    return NULL;
}

srv_guard *srv_guard_create(unsigned timeout_s)
{
    srv_guard *guard = gb_calloc(1, sizeof *guard);
    if (guard == NULL)
        return NULL;
    guard->timeout_s = timeout_s;
    atomic_init(&guard->dropped, 0);
    pthread_mutex_init(&guard->lock, NULL);
    pthread_cond_init(&guard->wake, NULL);
    if (pthread_create(&guard->thread, NULL, watch, guard) != 0) {
        pthread_cond_destroy(&guard->wake);
        pthread_mutex_destroy(&guard->lock);
        gb_free(guard);
        return NULL;
    }
    return guard;
}

void srv_guard_free(srv_guard *guard)
{
    if (guard == NULL)
        return;
    pthread_mutex_lock(&guard->lock);
    guard->stopping = 1;
    pthread_cond_signal(&guard->wake);
    pthread_mutex_unlock(&guard->lock);
    pthread_join(guard->thread, NULL);
    while (guard->head != NULL) {
        guard_conn *c = guard->head;
        guard->head = c->next;
        gb_free(c);
    }
    pthread_cond_destroy(&guard->wake);
    pthread_mutex_destroy(&guard->lock);
    gb_free(guard);
}

void srv_guard_notify_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                         enum MHD_ConnectionNotificationCode code)
{
    srv_guard *guard = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        guard_conn *c = info != NULL ? gb_calloc(1, sizeof *c) : NULL;
        *socket_context = c;
        if (c == NULL)
            return; /* unguarded: the idle timeout still applies */
        c->guard = guard;
        c->fd = info->connect_fd;
        pthread_mutex_lock(&guard->lock);
        c->deadline_s = now_s() + guard->timeout_s;
        c->next = guard->head;
        if (guard->head != NULL)
            guard->head->prev = c;
        guard->head = c;
        pthread_mutex_unlock(&guard->lock);
        return;
    }
    guard_conn *c = *socket_context;
    if (c == NULL)
        return;
    pthread_mutex_lock(&guard->lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        guard->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&guard->lock);
    gb_free(c);
    *socket_context = NULL;
}

static void set_deadline(struct MHD_Connection *conn, int armed)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    guard_conn *c = info != NULL ? info->socket_context : NULL;
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->guard->lock);
    c->deadline_s = armed ? now_s() + c->guard->timeout_s : 0;
    pthread_mutex_unlock(&c->guard->lock);
}

void srv_guard_request_begin(struct MHD_Connection *conn)
{
    set_deadline(conn, 0);
}

void srv_guard_request_end(struct MHD_Connection *conn)
{
    set_deadline(conn, 1);
}

unsigned long srv_guard_dropped(const srv_guard *guard)
{
    return guard != NULL ? atomic_load(&((srv_guard *)guard)->dropped) : 0;
}
