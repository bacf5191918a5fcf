/* ratelimit.c - token buckets keyed by a string (client address, session id), in memory: a fixed
 * open-addressing table; when it is full the oldest bucket is reused (a flood of new keys cannot
 * grow memory). Limits of one process: a multi-instance deployment limits at its proxy. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

typedef struct bucket { char key[48]; double tokens, last; } bucket;

struct vf_srv_ratelimit {
    pthread_mutex_t mu;
    double rate, burst;
    bucket b[SLOTS];
};

vf_srv_ratelimit *vf_srv_ratelimit_create(double rate, double burst) {
    vf_srv_ratelimit *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    pthread_mutex_init(&r->mu, NULL);
    r->rate = rate;
    r->burst = burst;
    return r;
}

void vf_srv_ratelimit_free(vf_srv_ratelimit *r) {
    if (!r) return;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static uint32_t fnv(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

int vf_srv_ratelimit_take(vf_srv_ratelimit *r, const char *key, double now) {
    if (!r || r->rate <= 0) return 1;
    pthread_mutex_lock(&r->mu);
    uint32_t h = fnv(key);
    bucket *found = NULL, *oldest = NULL;
    for (int i = 0; i < 8 && !found; i++) {   /* short probe: bounded work per request */
        bucket *b = &r->b[(h + (uint32_t)i) % SLOTS];
        if (!strncmp(b->key, key, sizeof b->key - 1) && b->key[0]) found = b;
        else if (!oldest || b->last < oldest->last) oldest = b;
    }
    if (!found) {
        found = oldest;
        strncpy(found->key, key, sizeof found->key - 1);
        found->key[sizeof found->key - 1] = 0;
        found->tokens = r->burst;
        found->last = now;
    }
    found->tokens += (now - found->last) * r->rate;
    if (found->tokens > r->burst) found->tokens = r->burst;
    found->last = now;
    int ok = found->tokens >= 1.0;
    if (ok) found->tokens -= 1.0;
    pthread_mutex_unlock(&r->mu);
    return ok;
}
