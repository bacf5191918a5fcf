/* fuzz_config.c - libFuzzer target for the server's JSON configuration (src/server/config.c):
 *   - the config file's text: vf_srv_config_apply_json over the defaults. All or nothing: on an
 *     error the config is unchanged and the error says why; on success every value is in range.
 *   - the same text as a session request's `config` object (POST /v1/sessions, /demo/sessions:
 *     vf_srv_session_config_parse over the defaults), then printed back as the server does.
 * No crash, leak or undefined behaviour on any input. Built and run by tools/fuzz; seeds in
 * tests/fuzz/corpus/fuzz_config. */
#include "server.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int terminated(const char *s, size_t n) { return memchr(s, 0, n) != NULL; }

static void check_session(const vf_srv_session_config *s) {
    if (!(s->face_match_threshold >= 0 && s->face_match_threshold <= 1)) abort();
    if (s->max_retries < 0 || s->max_retries > 10 || s->session_ttl < 1 || s->session_ttl > 3600) abort();
    if (s->liveness_type != VF_MODE_PASSIVE && s->liveness_type != VF_MODE_ACTIVE && s->liveness_type != VF_MODE_ADAPTIVE) abort();
    char e[160];
    if (vf_challenge_config_check(&s->challenge, e, sizeof e)) abort();
    cJSON *j = vf_srv_session_config_json(s);
    if (!j) return;
    char *p = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (p && strstr(p, "nan")) abort();   /* every field printed as a finite number */
    cJSON_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static vf_srv_config def, c;   /* large (paths); reset on every run */
    vf_srv_config_defaults(&def);
    vf_srv_config_defaults(&c);
    char err[512];
    memset(err, 0, sizeof err);
    if (vf_srv_config_apply_json(&c, (const char *)data, size, err, sizeof err)) {
        if (!err[0] || !terminated(err, sizeof err)) abort();
        if (memcmp(&c, &def, sizeof c)) abort();   /* nothing applied */
    } else {
        if (c.threads < 1 || c.threads > 64 || c.http_threads < 0 || c.http_threads > 256) abort();
        if (c.listen_port < 0 || c.listen_port > 65535 || c.n_keys < 0 || c.n_keys > VF_SRV_MAX_KEYS) abort();
        if (!terminated(c.listen_host, sizeof c.listen_host) || !terminated(c.db_path, sizeof c.db_path) ||
            !terminated(c.models_dir, sizeof c.models_dir) || !terminated(c.static_dir, sizeof c.static_dir) ||
            !terminated(c.pad_models_dir, sizeof c.pad_models_dir) || !terminated(c.limits.trusted_proxy, sizeof c.limits.trusted_proxy))
            abort();
        for (int i = 0; i < c.n_keys; i++) {
            size_t kl = strnlen(c.api_keys[i], sizeof c.api_keys[i]);
            if (kl < 16 || kl >= sizeof c.api_keys[i]) abort();
        }
        const vf_srv_limits *l = &c.limits;
        if (l->max_body < 1024 || l->max_frame_pixels < 256 || l->max_connections < 1 || l->per_ip_connections < 0) abort();
        if (!isfinite(l->per_ip_rate) || !isfinite(l->per_ip_burst) || l->per_ip_rate < 0 || l->per_ip_burst < 1) abort();
        const vf_srv_freshness_config *f = &c.freshness;
        if (!(f->min_interval_ms < f->max_interval_ms) || f->replay_hamming < 0 || f->replay_hamming > 7 ||
            f->replay_max_candidates < 1 || !isfinite(f->slack_ms))
            abort();
        for (int i = 0; i < VF_SRV_QMETRICS; i++)
            if (!(c.tamper.q_abs[i] >= 0 && c.tamper.q_abs[i] <= 1e9f) || !(c.tamper.q_rel[i] >= 0 && c.tamper.q_rel[i] <= 100)) abort();
        const vf_session_config *s = &c.session.session;
        if (s->good_frames < 1 || s->liveness_frames < 1 || s->liveness_frames > s->good_frames || s->live_fail > s->live_pass) abort();
        if (!(c.session.jpeg_quality >= 0.5f && c.session.jpeg_quality <= 1)) abort();
        check_session(&c.session);
    }

    /* the same text as a session request's config */
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (j) {
        vf_srv_session_config out;
        memset(err, 0, sizeof err);
        if (vf_srv_session_config_parse(j, &def.session, &out, err, sizeof err)) {
            if (!err[0] || !terminated(err, sizeof err)) abort();
        } else {
            check_session(&out);
        }
        cJSON_Delete(j);
    }
    return 0;
}
