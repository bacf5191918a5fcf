/* metrics.c - Prometheus text exposition: requests by route and status, decisions by outcome, a
 * request latency histogram per route, and the gauges of the front door and the admission
 * (an extra text callback, http.c). Fixed tables behind one mutex. */
#include "server.h"
#include "frontdoor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTES 16   /* sessions_create, demo_sessions, result, session_get, healthz, metrics, static, other, rate_limited,
                     * shed, frontdoor */
#define STATUSES 24
#define BUCKETS 12
static const double BOUNDS[BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
static const char *DECISIONS[5] = {"approve", "retry", "challenge", "review", "reject"};

typedef struct route_stats {
    char name[24];
    int status[STATUSES];
    uint64_t count[STATUSES];
    uint64_t bucket[BUCKETS];
    uint64_t n;
    double sum;
} route_stats;

struct vf_srv_metrics {
    pthread_mutex_t mu;
    route_stats r[ROUTES];
    int n_routes;
    uint64_t decisions[5];
    uint64_t webhooks[3];             /* WEBHOOK_STATES */
    vf_srv_metrics_extra_fn extra;
    void *extra_arg;
};

void vf_srv_metrics_set_extra(vf_srv_metrics *m, vf_srv_metrics_extra_fn fn, void *arg) {
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->extra = fn;
    m->extra_arg = arg;
    pthread_mutex_unlock(&m->mu);
}

vf_srv_metrics *vf_srv_metrics_create(void) {
    vf_srv_metrics *m = calloc(1, sizeof *m);
    if (m) pthread_mutex_init(&m->mu, NULL);
    return m;
}

void vf_srv_metrics_free(vf_srv_metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void vf_srv_metrics_request(vf_srv_metrics *m, const char *route, int status, double seconds) {
    if (!m || !route) return;
    pthread_mutex_lock(&m->mu);
    route_stats *r = NULL;
    for (int i = 0; i < m->n_routes && !r; i++) if (!strcmp(m->r[i].name, route)) r = &m->r[i];
    if (!r && m->n_routes < ROUTES) { r = &m->r[m->n_routes++]; snprintf(r->name, sizeof r->name, "%s", route); }
    if (r) {
        int k = -1;
        for (int i = 0; i < STATUSES && k < 0; i++) if (r->status[i] == status || r->status[i] == 0) k = i;
        if (k >= 0) { r->status[k] = status; r->count[k]++; }
        for (int b = 0; b < BUCKETS; b++) if (seconds <= BOUNDS[b]) r->bucket[b]++;
        r->n++;
        r->sum += seconds;
    }
    pthread_mutex_unlock(&m->mu);
}

void vf_srv_metrics_decision(vf_srv_metrics *m, const char *d) {
    if (!m || !d) return;
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < 5; i++) if (!strcmp(DECISIONS[i], d)) m->decisions[i]++;
    pthread_mutex_unlock(&m->mu);
}

static const char *const WEBHOOK_STATES[3] = {"delivered", "pending", "dead"};

void vf_srv_metrics_webhook(vf_srv_metrics *m, const char *state) {
    if (!m || !state) return;
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < 3; i++) if (!strcmp(WEBHOOK_STATES[i], state)) m->webhooks[i]++;
    pthread_mutex_unlock(&m->mu);
}

char *vf_srv_metrics_text(vf_srv_metrics *m) {
    size_t cap = 64 * 1024, n = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
#define OUT(...) do { int w_ = snprintf(b + n, cap - n, __VA_ARGS__); if (w_ > 0 && (size_t)w_ < cap - n) n += (size_t)w_; } while (0)
    pthread_mutex_lock(&m->mu);
    OUT("# HELP veriface_http_requests_total HTTP requests by route and status.\n# TYPE veriface_http_requests_total counter\n");
    for (int i = 0; i < m->n_routes; i++)
        for (int k = 0; k < STATUSES && m->r[i].status[k]; k++)
            OUT("veriface_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", m->r[i].name, m->r[i].status[k],
                (unsigned long long)m->r[i].count[k]);
    OUT("# HELP veriface_decisions_total Verification decisions by outcome.\n# TYPE veriface_decisions_total counter\n");
    for (int i = 0; i < 5; i++) OUT("veriface_decisions_total{decision=\"%s\"} %llu\n", DECISIONS[i], (unsigned long long)m->decisions[i]);
    OUT("# HELP veriface_webhook_tries_total Webhook tries by what they left: delivered, pending (failed, retried later), dead.\n"
        "# TYPE veriface_webhook_tries_total counter\n");
    for (int i = 0; i < 3; i++) OUT("veriface_webhook_tries_total{state=\"%s\"} %llu\n", WEBHOOK_STATES[i], (unsigned long long)m->webhooks[i]);
    OUT("# HELP veriface_http_request_duration_seconds Request latency by route.\n# TYPE veriface_http_request_duration_seconds histogram\n");
    for (int i = 0; i < m->n_routes; i++) {
        route_stats *r = &m->r[i];
        for (int k = 0; k < BUCKETS; k++)
            OUT("veriface_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", r->name, BOUNDS[k], (unsigned long long)r->bucket[k]);
        OUT("veriface_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", r->name, (unsigned long long)r->n);
        OUT("veriface_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", r->name, r->sum);
        OUT("veriface_http_request_duration_seconds_count{route=\"%s\"} %llu\n", r->name, (unsigned long long)r->n);
    }
    if (m->extra && n < cap) n += m->extra(m->extra_arg, b + n, cap - n);
    pthread_mutex_unlock(&m->mu);
    if (n >= cap) n = cap - 1;
    b[n] = 0;
    return b;
}
