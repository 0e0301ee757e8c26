/*
 * ratelimit.c - failed-authentication token buckets keyed by client
 * address (see ratelimit.h).
 * Layer: server.
 */
#include "server/ratelimit.h"

#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "core/base.h"

#define SLOTS 4096 /* table size (power of two) */
#define PROBE 16   /* slots searched per address */

typedef struct bucket {
    unsigned char key[17]; /* family byte + up to 16 address bytes */
    int used;
    double tokens;
    double updated_s;
} bucket;

struct srv_ratelimit {
    pthread_mutex_t lock;
    double burst;
    double per_second;
    bucket *slots;
};

srv_ratelimit *srv_ratelimit_create(unsigned burst, unsigned window_s)
{
    srv_ratelimit *rl = gb_calloc(1, sizeof *rl);
    if (rl == NULL)
        return NULL;
    rl->burst = burst;
    rl->per_second = (double)burst / (double)(window_s > 0 ? window_s : 1);
    if (burst > 0) {
        rl->slots = gb_calloc(SLOTS, sizeof *rl->slots);
        if (rl->slots == NULL) {
            gb_free(rl);
            return NULL;
        }
    }
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void srv_ratelimit_free(srv_ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->lock);
    gb_free(rl->slots);
    gb_free(rl);
}

/* The key for addr: IPv4 whole, IPv6 by /64 (IPv4-mapped IPv6 as IPv4).
 * Returns 0 for other families. */
static int key_of(const struct sockaddr *addr, unsigned char key[17])
{
    memset(key, 0, 17);
    if (addr == NULL)
        return 0;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)(const void *)addr;
        key[0] = 4;
        memcpy(key + 1, &a4->sin_addr, 4);
        return 1;
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)(const void *)addr;
        const unsigned char *b = a6->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                                 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, 12) == 0) {
            key[0] = 4;
            memcpy(key + 1, b + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, b, 8);
        }
        return 1;
    }
    return 0;
}

static size_t hash_of(const unsigned char key[17])
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < 17; i++) {
        h ^= key[i];
        h *= 1099511628211ULL;
    }
    return (size_t)(h & (SLOTS - 1));
}

static void refill(const srv_ratelimit *rl, bucket *b, double now_s)
{
    double dt = now_s - b->updated_s;
    if (dt > 0)
        b->tokens = fmin(rl->burst, b->tokens + dt * rl->per_second);
    b->updated_s = now_s;
}

/* The bucket for key, or NULL when absent and create is 0.  With create,
 * a full probe window evicts its entry with the most tokens.  Lock held. */
static bucket *find(srv_ratelimit *rl, const unsigned char key[17], int create,
                    double now_s)
{
    size_t h = hash_of(key);
    bucket *victim = NULL;
    double victim_tokens = -1;
    for (size_t i = 0; i < PROBE; i++) {
        bucket *b = &rl->slots[(h + i) & (SLOTS - 1)];
        if (b->used && memcmp(b->key, key, 17) == 0)
            return b;
        if (!b->used) {
            if (victim_tokens < rl->burst + 1) {
                victim = b;
                victim_tokens = rl->burst + 1; /* a free slot beats any entry */
            }
            continue;
        }
        refill(rl, b, now_s);
        if (b->tokens > victim_tokens) {
            victim = b;
            victim_tokens = b->tokens;
        }
    }
    if (!create || victim == NULL)
        return NULL;
    memcpy(victim->key, key, 17);
    victim->used = 1;
    victim->tokens = rl->burst;
    victim->updated_s = now_s;
    return victim;
}

unsigned srv_ratelimit_wait(srv_ratelimit *rl, const struct sockaddr *addr,
                            double now_s)
{
    unsigned char key[17];
    unsigned wait = 0;
    if (rl == NULL || rl->slots == NULL || !key_of(addr, key))
        return 0;
    pthread_mutex_lock(&rl->lock);
    bucket *b = find(rl, key, 0, now_s);
    if (b != NULL) {
        refill(rl, b, now_s);
        if (b->tokens < 1.0) {
            double secs = ceil((1.0 - b->tokens) / rl->per_second);
            wait = secs < 1 ? 1 : (unsigned)secs;
        }
    }
    pthread_mutex_unlock(&rl->lock);
    return wait;
}

void srv_ratelimit_fail(srv_ratelimit *rl, const struct sockaddr *addr, double now_s)
{
    unsigned char key[17];
    if (rl == NULL || rl->slots == NULL || !key_of(addr, key))
        return;
    pthread_mutex_lock(&rl->lock);
    bucket *b = find(rl, key, 1, now_s);
    if (b != NULL) {
        refill(rl, b, now_s);
        b->tokens = fmax(0.0, b->tokens - 1.0);
    }
    pthread_mutex_unlock(&rl->lock);
}
