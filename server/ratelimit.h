/*
 * ratelimit.h - a token bucket per client address for failed
 * authentications.
 * Layer: server.
 *
 * Each address starts with `burst` tokens; every failed authentication
 * takes one and tokens come back at burst / window_s per second, never
 * above burst.  An address with less than one token is blocked: the HTTP
 * layer answers 429 with Retry-After before looking at its token.
 * Successful authentications take nothing.  IPv6 addresses are keyed by
 * their /64 prefix (one host usually owns a whole /64).  The table has a
 * fixed number of slots; when it is full the entry with the most tokens
 * (the least suspicious) is replaced, so memory stays bounded whatever the
 * number of addresses.  Thread-safe.
 */
#ifndef SERVER_RATELIMIT_H
#define SERVER_RATELIMIT_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct srv_ratelimit srv_ratelimit;

/* Creates a limiter; burst 0 disables it (every check passes).  Returns
 * NULL when out of memory; free with srv_ratelimit_free. */
srv_ratelimit *srv_ratelimit_create(unsigned burst, unsigned window_s);

/* Frees rl; NULL is a no-op. */
void srv_ratelimit_free(srv_ratelimit *rl);

/* Seconds (>= 1) the address must wait before its next attempt, or 0 when
 * it may authenticate now.  now_s is a monotonic clock in seconds.  An
 * unknown address family is never blocked. */
unsigned srv_ratelimit_wait(srv_ratelimit *rl, const struct sockaddr *addr,
                            double now_s);

/* Records one failed authentication from addr. */
void srv_ratelimit_fail(srv_ratelimit *rl, const struct sockaddr *addr, double now_s);

#endif /* SERVER_RATELIMIT_H */
