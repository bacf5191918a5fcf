/* main.c - veriface-server: configuration, models, store, HTTP; the ready line on stdout; a
 * graceful stop on SIGTERM/SIGINT (in-flight requests finish, the store is closed cleanly). */
#include "server.h"
#include "outbox.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    static vf_srv s;
    char err[1024] = "";
    if (vf_srv_config_load(&s.cfg, argc, argv, err, sizeof err)) {
        fprintf(stderr, "veriface-server: %s\n", err);
        return 2;
    }
    /* Signals are taken by sigwait below; every thread started from here on blocks them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (s.cfg.static_dir[0] && !realpath(s.cfg.static_dir, s.static_root)) {
        fprintf(stderr, "veriface-server: --static %s: not found\n", s.cfg.static_dir);
        return 2;
    }
    if (vf_srv_webhook_global_init()) {   /* libcurl's global state, before any thread */
        fprintf(stderr, "veriface-server: libcurl could not initialise\n");
        return 2;
    }
    if (vf_srv_store_open(s.cfg.db_path, &s.store, err, sizeof err) ||
        vf_srv_engines_create(&s.cfg, &s.engines, err, sizeof err)) {
        fprintf(stderr, "veriface-server: %s\n", err);
        vf_srv_store_close(s.store);
        return 2;
    }
    const char *hashes[VF_ROLE_COUNT];
    for (int i = 0; i < VF_ROLE_COUNT; i++) hashes[i] = vf_srv_engines_hash(s.engines, i);
    int mf = vf_srv_manifest_check(s.cfg.models_dir, hashes, err, sizeof err);
    if (mf < 0) {
        fprintf(stderr, "veriface-server: %s\n", err);
        vf_srv_engines_free(s.engines);
        vf_srv_store_close(s.store);
        return 2;
    }
    if (mf > 0) fprintf(stderr, "veriface-server: no MANIFEST in %s: the model hashes are not checked against it\n", s.cfg.models_dir);
    if (s.static_root[0] && vf_srv_page_roles_check(s.static_root, hashes, err, sizeof err) < 0) {
        fprintf(stderr, "veriface-server: %s\n", err);
        vf_srv_engines_free(s.engines);
        vf_srv_store_close(s.store);
        return 2;
    }
    if (!vf_srv_engines_have_pad(s.engines))
        fprintf(stderr, "veriface-server: PAD models not found in %s: liveness reports %s, no session can be approved\n",
                s.cfg.pad_models_dir, vf_status_string(VF_E_NO_MODEL));
    if (s.cfg.demo)
        fprintf(stderr, "veriface-server: demo mode: POST /demo/sessions creates sessions without an API key (never in production)\n");
    if (!s.cfg.n_keys && !s.cfg.demo)
        fprintf(stderr, "veriface-server: no API key configured (--api-key): /v1/sessions refuses every request\n");
    s.metrics = vf_srv_metrics_create();
    s.ip_limit = vf_srv_ratelimit_create(s.cfg.limits.per_ip_rate, s.cfg.limits.per_ip_burst);
    s.session_limit = vf_srv_ratelimit_create(s.cfg.limits.per_session_per_min / 60.0, s.cfg.limits.per_session_per_min);
    /* never more packages being decided than result requests admitted (http.c) */
    s.inflight = vf_srv_inflight_create(s.cfg.limits.max_results_in_flight + 1);
    s.outbox = vf_srv_outbox_start(&s);
    s.collections = vf_srv_collections_create(s.cfg.collections_ivf_min, s.cfg.collections_nprobe);
    int port = 0;
    if (!s.metrics || !s.ip_limit || !s.session_limit || !s.inflight || !s.outbox || !s.collections || vf_srv_http_start(&s, &port, err, sizeof err)) {
        fprintf(stderr, "veriface-server: %s\n", err[0] ? err : "out of memory");
        return 2;
    }
    printf("veriface-server listening on http://%s:%d\n", s.cfg.listen_host, port);
    fflush(stdout);
    if (!s.cfg.quiet)
        fprintf(stderr, "veriface-server: %d worker(s), %d result(s) admitted at once, db %s, demo %s, static %s, metrics %s\n",
                s.cfg.threads, s.cfg.limits.max_results_in_flight,
                strcmp(vf_srv_store_backend(s.store), "sqlite") ? vf_srv_store_backend(s.store) : s.cfg.db_path,   /* no password */ s.cfg.demo ? "on" : "off",
                s.static_root[0] ? s.static_root : "(none)", s.cfg.metrics_token[0] ? "token" : "open");
    int sig = 0;
    sigwait(&set, &sig);
    if (!s.cfg.quiet) fprintf(stderr, "veriface-server: signal %d, stopping\n", sig);
    vf_srv_http_stop(&s);
    vf_srv_outbox_stop(s.outbox);   /* after the requests: a last decision's event stays in the outbox */
    vf_srv_engines_free(s.engines);
    vf_srv_collections_free(s.collections);   /* before the store: an index build may be reading it */
    vf_srv_store_close(s.store);
    vf_srv_metrics_free(s.metrics);
    vf_srv_ratelimit_free(s.ip_limit);
    vf_srv_ratelimit_free(s.session_limit);
    vf_srv_inflight_free(s.inflight);
    return 0;
}
