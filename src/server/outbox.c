/* outbox.c - webhook delivery from the store's durable outbox. The decision's transaction writes
 * the event (record_outcome); this thread claims due events with a lease (so several server
 * instances on one store never send the same event at once), POSTs each (webhook.c), and marks it
 * delivered, or schedules the next try with backoff and jitter, or dead after max_attempts. A
 * crash between the receiver's 2xx and the mark sends the event again after the lease: receivers
 * deduplicate by the event id (docs/SERVER.md "Webhooks"). It also deletes photos past their
 * retention. */
#include "server.h"
#include "outbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vf_srv_outbox {
    vf_srv *s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, kicked, started;
};

#define OUTBOX_BATCH 8

cJSON *vf_srv_outbox_event_json(const vf_srv_session *ss, int attempt, const char *decision, cJSON *reasons, double similarity,
                           double live_score, int has_photo, int64_t now) {
    char id[48];
    snprintf(id, sizeof id, "%s-%d", ss->id, attempt);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "type", "session.decided");
    cJSON_AddNumberToObject(o, "created_at", (double)now);
    cJSON_AddStringToObject(o, "session_id", ss->id);
    if (ss->reference_id[0]) cJSON_AddStringToObject(o, "reference_id", ss->reference_id);
    if (ss->external_ref[0]) cJSON_AddStringToObject(o, "external_ref", ss->external_ref);
    cJSON_AddNumberToObject(o, "attempt", attempt);
    cJSON_AddStringToObject(o, "decision", decision);
    cJSON_AddItemToObject(o, "reasons", reasons);
    if (similarity == similarity) cJSON_AddNumberToObject(o, "match_similarity", similarity); else cJSON_AddNullToObject(o, "match_similarity");
    if (live_score == live_score) cJSON_AddNumberToObject(o, "live_score", live_score); else cJSON_AddNullToObject(o, "live_score");
    cJSON_AddBoolToObject(o, "photo", has_photo);
    return o;
}

static uint32_t rnd32(void) {
    uint32_t r = 0;
    if (vf_srv_random(&r, sizeof r)) r = (uint32_t)vf_srv_now_ms() * 2654435761u;
    return r;
}

int vf_srv_outbox_run_once(vf_srv *s, int64_t now) {
    const vf_srv_webhook_config *c = &s->cfg.webhooks;
    vf_srv_outbox_event ev[OUTBOX_BATCH];
    /* the lease outlasts one POST and its bookkeeping: nobody else takes the event meanwhile */
    int64_t lease = (int64_t)c->timeout_s * 1000 * 2 + 5000;
    int n = vf_srv_store_outbox_claim(s->store, now, lease, ev, OUTBOX_BATCH);
    for (int i = 0; i < n; i++) {
        vf_srv_webhook_result res;
        const char *secret = vf_srv_webhook_secret(s, ev[i].integrator);
        int rc = -1;
        if (!secret) {
            memset(&res, 0, sizeof res);
            res.refused = 1;
            snprintf(res.error, sizeof res.error, "no webhook secret for this integrator any more");
        } else {
            rc = vf_srv_webhook_post(c, ev[i].url, ev[i].event_id, secret, ev[i].body, strlen(ev[i].body), vf_srv_now_ms() / 1000, &res);
        }
        int tries = ev[i].attempts + 1;
        const char *state = rc == 0 ? "delivered" : res.refused || tries >= c->max_attempts ? "dead" : "pending";
        int64_t next = rc == 0 ? 0 : vf_srv_now_ms() + vf_srv_webhook_backoff_ms(c, tries, rnd32());
        if (vf_srv_store_outbox_done(s->store, ev[i].row, state, tries, next, res.status, rc == 0 ? NULL : res.error))
            fprintf(stderr, "veriface-server: outbox: could not record event %s (%s)\n", ev[i].event_id, state);
        vf_srv_metrics_webhook(s->metrics, state);
        if (!s->cfg.quiet && rc)
            fprintf(stderr, "veriface-server: webhook %s try %d: %s (%s)\n", ev[i].event_id, tries, res.error, state);
        free(ev[i].body);
    }
    return n;
}

static void *loop(void *p) {
    vf_srv_outbox *o = p;
    vf_srv *s = o->s;
    int64_t next_sweep = 0;
    pthread_mutex_lock(&o->mu);
    while (!o->stop) {
        pthread_mutex_unlock(&o->mu);
        int64_t now = vf_srv_now_ms();
        int n = vf_srv_outbox_run_once(s, now);
        if (now >= next_sweep) {   /* photos past their retention */
            if (vf_srv_store_photo_sweep(s->store, now) < 0) fprintf(stderr, "veriface-server: photo sweep failed\n");
            next_sweep = now + 60000;
        }
        pthread_mutex_lock(&o->mu);
        if (n == OUTBOX_BATCH || o->kicked) { o->kicked = 0; continue; }   /* more may be due */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (int64_t)s->cfg.webhooks.poll_ms * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        while (!o->stop && !o->kicked && pthread_cond_timedwait(&o->cv, &o->mu, &ts) != ETIMEDOUT) {}
        o->kicked = 0;
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

vf_srv_outbox *vf_srv_outbox_start(vf_srv *s) {
    vf_srv_outbox *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->s = s;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    if (pthread_create(&o->thread, NULL, loop, o)) { free(o); return NULL; }
    o->started = 1;
    return o;
}

void vf_srv_outbox_kick(vf_srv_outbox *o) {
    if (!o) return;
    pthread_mutex_lock(&o->mu);
    o->kicked = 1;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

void vf_srv_outbox_stop(vf_srv_outbox *o) {
    if (!o) return;
    pthread_mutex_lock(&o->mu);
    o->stop = 1;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    if (o->started) pthread_join(o->thread, NULL);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    free(o);
}
