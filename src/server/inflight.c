/* inflight.c - the sessions whose package is being decided right now (see server.h). A fixed
 * table sized for the HTTP thread pool: there are never more requests in flight than threads. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

struct vf_srv_inflight {
    pthread_mutex_t mu;
    int n;
    char (*id)[33];
};

vf_srv_inflight *vf_srv_inflight_create(int slots) {
    vf_srv_inflight *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->n = slots;
    f->id = calloc((size_t)slots, sizeof *f->id);
    if (!f->id) { free(f); return NULL; }
    pthread_mutex_init(&f->mu, NULL);
    return f;
}

void vf_srv_inflight_free(vf_srv_inflight *f) {
    if (!f) return;
    pthread_mutex_destroy(&f->mu);
    free(f->id);
    free(f);
}

int vf_srv_inflight_claim(vf_srv_inflight *f, const char *sid) {
    pthread_mutex_lock(&f->mu);
    int free_slot = -1, busy = 0;
    for (int i = 0; i < f->n; i++) {
        if (!strcmp(f->id[i], sid)) busy = 1;
        else if (!f->id[i][0] && free_slot < 0) free_slot = i;
    }
    int ok = !busy && free_slot >= 0;
    if (ok) memcpy(f->id[free_slot], sid, 33);
    pthread_mutex_unlock(&f->mu);
    return ok;
}

void vf_srv_inflight_release(vf_srv_inflight *f, const char *sid) {
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->n; i++) if (!strcmp(f->id[i], sid)) f->id[i][0] = 0;
    pthread_mutex_unlock(&f->mu);
}
