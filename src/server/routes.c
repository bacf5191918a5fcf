/* routes.c - routing and the small endpoints: session creation (integrator and demo), session
 * detail, health, metrics. The result package has its own file (result.c). */
#include "server.h"
#include "active.h"
#include "faces.h"
#include "package.h"
#include "../image/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



/* A demo session is created by the demo page itself: a browser says where a request comes from
 * (Sec-Fetch-Site, Origin), and another site's page may not create sessions here. Clients that are
 * no browser send neither header and are let through (they could forge both anyway). */
static int same_origin(const vf_srv_request *q) {
    if (q->fetch_site && strcmp(q->fetch_site, "same-origin") && strcmp(q->fetch_site, "none")) return 0;
    if (!q->origin) return 1;
    const char *o = !strncmp(q->origin, "http://", 7) ? q->origin + 7 : !strncmp(q->origin, "https://", 8) ? q->origin + 8 : NULL;
    return o && q->host && !strcmp(o, q->host);
}

static void create_session(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r, int demo) {
    const char *route = r->route;
    char err[256] = "";
    cJSON *j = NULL;
    vf_srv_session *ss = calloc(1, sizeof *ss);
    const char *code = NULL;
    if (!ss) { vf_srv_reply_error(r, 500, "internal", "out of memory"); return; }
    if (!demo && !vf_srv_authorized(s, q)) { vf_srv_reply_error(r, 401, code = "unauthorized", "missing or unknown API key"); goto out; }
    if (demo && !same_origin(q)) { vf_srv_reply_error(r, 403, code = "cross_origin", "demo sessions are created by the demo page only"); goto out; }
    if (q->body && !vf_srv_utf8_valid(q->body, q->len)) { vf_srv_reply_error(r, 400, code = "bad_json", "body is not valid UTF-8"); goto out; }
    if (q->body && vf_srv_json_nul_escape(q->body, q->len)) { vf_srv_reply_error(r, 400, code = "bad_json", "a string holds \\u0000"); goto out; }
    j = q->body ? cJSON_ParseWithLength((const char *)q->body, q->len) : NULL;
    if (!j || !cJSON_IsObject(j)) { vf_srv_reply_error(r, 400, code = "bad_json", "body is not a JSON object"); goto out; }
    vf_srv_error je;
    if (vf_srv_json_sane(j, 8, &je)) { vf_srv_reply_error(r, je.status, code = je.code, "%s", je.message); goto out; }
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(j, "client_public_key");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(j, "reference");
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(j, "external_ref");
    /* without a page key the session is managed: the server's own page (session_url) binds one */
    int managed = !demo && !pk;
    if (!managed && !cJSON_IsString(pk)) { vf_srv_reply_error(r, 400, code = "bad_schema", "client_public_key (b64 SPKI DER) is required"); goto out; }
    if (managed && !s->static_root[0]) {
        vf_srv_reply_error(r, 400, code = "managed_unavailable", "no client_public_key: a managed session needs the server's capture page (--static)");
        goto out;
    }
    if (!managed) {
        size_t kl = 0;
        uint8_t *key = vf_srv_b64_decode(pk->valuestring, strlen(pk->valuestring), 0, &kl);
        if (!key || kl > sizeof ss->pubkey || !vf_srv_check_p256_spki(key, kl)) {
            free(key);
            vf_srv_reply_error(r, 400, code = "bad_public_key", "client_public_key is not a b64 SPKI DER ECDSA P-256 key");
            goto out;
        }
        memcpy(ss->pubkey, key, kl);
        ss->pubkey_len = kl;
        free(key);
    }
    if (vf_srv_managed_parse(s, q, j, ss, demo, r, &code)) goto out;
    if (vf_srv_session_config_parse(cJSON_GetObjectItemCaseSensitive(j, "config"), &s->cfg.session, &ss->cfg, err, sizeof err)) {
        vf_srv_reply_error(r, 400, code = "bad_schema", "%s", err);
        goto out;
    }
    if (ss->cfg.session_ttl < s->cfg.limits.min_session_ttl) {
        vf_srv_reply_error(r, 400, code = "bad_schema", "config.session_ttl must be %d..3600", s->cfg.limits.min_session_ttl);
        goto out;
    }
    if (ext && (!cJSON_IsString(ext) || strlen(ext->valuestring) > 128)) {
        vf_srv_reply_error(r, 400, code = "bad_schema", "external_ref must be a string of at most 128 characters");
        goto out;
    }
    if (ext) snprintf(ss->external_ref, sizeof ss->external_ref, "%s", ext->valuestring);
    if (ref && demo) { vf_srv_reply_error(r, 400, code = "bad_schema", "demo sessions take no reference"); goto out; }
    if (ref) {
        const cJSON *img = cJSON_GetObjectItemCaseSensitive(ref, "image"), *emb = cJSON_GetObjectItemCaseSensitive(ref, "embedding");
        if (cJSON_IsString(img)) {
            size_t n = strlen(img->valuestring), bn = 0;
            if (n / 4 * 3 > s->cfg.limits.max_reference_bytes) { vf_srv_reply_error(r, 413, code = "reference_too_large", "reference image over %zu bytes", s->cfg.limits.max_reference_bytes); goto out; }
            uint8_t *b = vf_srv_b64_decode(img->valuestring, n, 0, &bn);
            if (!b) { vf_srv_reply_error(r, 400, code = "bad_base64", "reference.image is not valid base64"); goto out; }
            int rc = vf_srv_embed_image(s, b, bn, "reference image", ss->ref, &ss->ref_dim, NULL, NULL, r, &code);
            free(b);
            if (rc == -2) vf_srv_reply_error(r, 422, code = "reference_no_face", "no face found in the reference image");
            if (rc) goto out;
        } else if (cJSON_IsArray(emb)) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(ref, "model");
            int n = cJSON_GetArraySize(emb);
            if (!cJSON_IsString(m) || strcmp(m->valuestring, vf_srv_engines_hash(s->engines, 4))) {
                vf_srv_reply_error(r, 422, code = "model_mismatch", "reference.model must be the server's embedder hash");
                goto out;
            }
            if (n < 1 || n > VF_SRV_EMB_MAX) { vf_srv_reply_error(r, 400, code = "bad_schema", "reference.embedding: 1..%d numbers", VF_SRV_EMB_MAX); goto out; }
            double norm = 0;
            int i = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, emb) {
                /* range before the conversion to float (finite: vf_srv_json_sane) */
                if (!cJSON_IsNumber(x) || fabs(x->valuedouble) > 1e6) { vf_srv_reply_error(r, 400, code = "bad_schema", "reference.embedding: numbers within +-1e6 only"); goto out; }
                ss->ref[i++] = (float)x->valuedouble;
                norm += x->valuedouble * x->valuedouble;
            }
            if (!(norm > 1e-12 && norm < 1e12)) { vf_srv_reply_error(r, 400, code = "bad_schema", "reference.embedding has no length"); goto out; }
            for (i = 0; i < n; i++) ss->ref[i] /= (float)sqrt(norm);
            ss->ref_dim = n;
        } else {
            vf_srv_reply_error(r, 400, code = "bad_schema", "reference needs image (b64) or embedding + model");
            goto out;
        }
    }
    uint8_t rnd[16 + 32];
    if (vf_srv_random(rnd, sizeof rnd)) { vf_srv_reply_error(r, 500, code = "internal", "no randomness"); goto out; }
    vf_srv_hex(rnd, 16, ss->id);
    vf_srv_b64url_encode(rnd + 16, 32, ss->nonce);
    ss->created_at = ss->nonce_issued_at = vf_srv_now_ms();
    ss->expires_at = ss->created_at + (int64_t)ss->cfg.session_ttl * 1000;
    ss->attempt = 1;
    ss->demo = demo;
    char session_url[512] = "";
    if (managed && vf_srv_managed_prepare(s, q, ss, session_url, sizeof session_url)) {
        vf_srv_reply_error(r, 400, code = "bad_request", "no usable Host for the session_url: set public_url");
        goto out;
    }
    /* active mode: the first attempt already answers a challenge (one round trip less) */
    vf_policy_config pc = s->cfg.policy;
    pc.mode = ss->cfg.liveness_type;
    if (vf_policy_next_challenge(&pc, 1, VF_DECISION_RETRY)) snprintf(ss->challenge, sizeof ss->challenge, "sequence");
    char h[65];
    vf_srv_sha256_hex(q->body, q->len, h);
    vf_srv_audit a = {route, ss->id, h, q->remote, 1, 201, "created", NULL, NULL, NULL};
    cJSON *det = cJSON_CreateObject();
    cJSON_AddBoolToObject(det, "has_reference", ss->ref_dim > 0);
    cJSON_AddBoolToObject(det, "demo", demo);
    cJSON_AddBoolToObject(det, "managed", managed);
    if (ss->webhook_url[0]) cJSON_AddBoolToObject(det, "webhook", 1);
    cJSON_AddItemToObject(det, "config", vf_srv_session_config_json(&ss->cfg));
    char *dj = cJSON_PrintUnformatted(det);
    cJSON_Delete(det);
    a.detail_json = dj;
    int rc = vf_srv_store_create_session(s->store, ss, &a);
    free(dj);
    if (rc) { vf_srv_reply_error(r, 500, code = "storage", "could not store the session"); goto out; }
    cJSON *o = vf_srv_session_json(s, ss);
    if (managed) {   /* the page gets the nonce when it binds its key; the integrator only the URL */
        cJSON_DeleteItemFromObjectCaseSensitive(o, "nonce");
        cJSON_DeleteItemFromObjectCaseSensitive(o, "challenge");
        cJSON_AddStringToObject(o, "session_url", session_url);
    }
    vf_srv_reply_json(r, 201, o);
out:
    if (code) vf_srv_audit_reject(s, q, route, NULL, 0, r, code);
    cJSON_Delete(j);
    free(ss);
}

static void unauthorized(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r) {
    vf_srv_reply_error(r, 401, "unauthorized", "missing or unknown API key");
    vf_srv_audit_reject(s, q, r->route, NULL, 0, r, "unauthorized");
}

/* 1 when the caller's API key may see session `id`: the key that created it (integrators share a
 * server, not their sessions), or any key for demo sessions and those made before keys were
 * recorded. Another integrator's session answers as unknown: its existence is not confirmed. */
static int owned(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r) {
    vf_srv_session *ss = calloc(1, sizeof *ss);
    int rc = !ss ? -1 : vf_srv_valid_id(id) ? vf_srv_store_get_session(s->store, id, ss) : 0;
    int mine = rc == 1 && vf_srv_session_visible(q, ss);
    free(ss);
    if (rc < 0) vf_srv_reply_error(r, 500, "storage", "could not read the session");
    else if (!mine) vf_srv_reply_error(r, 404, "unknown_session", "no such session");
    return rc >= 0 && mine;
}

static void get_session(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r) {
    if (!vf_srv_authorized(s, q)) { unauthorized(s, q, r); return; }
    if (!owned(s, q, id, r)) return;
    char *d = vf_srv_valid_id(id) ? vf_srv_store_session_detail(s->store, id) : NULL;
    if (!d) { vf_srv_reply_error(r, 404, "unknown_session", "no such session"); return; }
    free(r->body);
    r->status = 200;
    r->body = d;
    r->len = strlen(d);
    r->content_type = "application/json";
}

/* GET /demo/sessions/{id}: what the demo page shows after a capture (the decision and its reasons),
 * for demo sessions only and only in demo mode. The same rule as everywhere else holds for
 * integrator sessions: their page's answer never says which check failed (PACKAGE.md). */
static void demo_get_session(vf_srv *s, const char *id, vf_srv_reply *r) {
    char *d = vf_srv_valid_id(id) ? vf_srv_store_session_detail(s->store, id) : NULL;
    cJSON *j = d ? cJSON_Parse(d) : NULL;
    free(d);
    if (!j || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "demo"))) {
        cJSON_Delete(j);
        vf_srv_reply_error(r, 404, "unknown_session", "no such demo session");
        return;
    }
    vf_srv_reply_json(r, 200, j);
}

int vf_srv_route_static(const char *u) {
    return strncmp(u, "/v1/", 4) && strncmp(u, "/demo/", 6) && strcmp(u, "/healthz") && strcmp(u, "/metrics") &&
           !(!strncmp(u, "/verify/", 8) && strlen(u) == 40);
}

void vf_srv_route(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r) {
    const char *u = q->url;
    int post = !strcmp(q->method, "POST"), get = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD");
    if (!strcmp(u, "/v1/sessions")) {
        r->route = "sessions_create";
        if (post) create_session(s, q, r, 0); else vf_srv_reply_error(r, 405, "method_not_allowed", "POST only");
    } else if (!strcmp(u, "/demo/sessions")) {
        r->route = "demo_sessions";
        if (!s->cfg.demo) vf_srv_reply_error(r, 404, "not_found", "demo mode is off");
        else if (post) create_session(s, q, r, 1);
        else vf_srv_reply_error(r, 405, "method_not_allowed", "POST only");
    } else if (!strncmp(u, "/demo/sessions/", 15)) {
        r->route = "demo_session_get";
        if (!s->cfg.demo) vf_srv_reply_error(r, 404, "not_found", "demo mode is off");
        else if (get) demo_get_session(s, u + 15, r);
        else vf_srv_reply_error(r, 405, "method_not_allowed", "GET only");
    } else if (!strncmp(u, "/v1/sessions/", 13)) {
        char id[64] = "";
        const char *rest = u + 13, *slash = strchr(rest, '/');
        size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
        if (n < sizeof id) { memcpy(id, rest, n); id[n] = 0; }
        if (slash && !strcmp(slash, "/result")) {
            r->route = "result";
            if (post) vf_srv_result(s, q, id, r); else vf_srv_reply_error(r, 405, "method_not_allowed", "POST only");
        } else if (slash && !strcmp(slash, "/start")) {
            r->route = "session_start";
            if (post) vf_srv_managed_start(s, q, id, r); else vf_srv_reply_error(r, 405, "method_not_allowed", "POST only");
        } else if (slash && !strcmp(slash, "/photo")) {
            r->route = "session_photo";
            if (!vf_srv_authorized(s, q)) unauthorized(s, q, r);
            else if (!get) vf_srv_reply_error(r, 405, "method_not_allowed", "GET only");
            else if (owned(s, q, id, r)) vf_srv_photo_get(s, q, id, r);
        } else if (!slash) {
            r->route = !strcmp(q->method, "DELETE") ? "session_delete" : "session_get";
            if (get) get_session(s, q, id, r);
            else if (!strcmp(q->method, "DELETE")) { if (!vf_srv_authorized(s, q)) unauthorized(s, q, r); else if (owned(s, q, id, r)) vf_srv_session_delete(s, q, id, r); }
            else vf_srv_reply_error(r, 405, "method_not_allowed", "GET or DELETE only");
        } else {
            vf_srv_reply_error(r, 404, "not_found", "no such endpoint");
        }
    } else if (!strcmp(u, "/v1/faces:compare")) {
        r->route = "faces_compare";
        if (post) vf_srv_faces_compare(s, q, r); else vf_srv_reply_error(r, 405, "method_not_allowed", "POST only");
    } else if (!strncmp(u, "/v1/collections", 15) && (!u[15] || u[15] == '/')) {
        vf_srv_collections_route(s, q, r);
    } else if (!strcmp(u, "/healthz")) {
        r->route = "healthz";
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddStringToObject(o, "version", vf_version());
        cJSON_AddBoolToObject(o, "pad_models", vf_srv_engines_have_pad(s->engines));
        cJSON_AddNumberToObject(o, "workers", s->cfg.threads);
        cJSON_AddItemToObject(o, "models", vf_srv_models_json(s));
        vf_srv_reply_json(r, 200, o);
    } else if (!strcmp(u, "/metrics")) {
        r->route = "metrics";
        free(r->body);
        r->body = vf_srv_metrics_text(s->metrics);
        r->len = r->body ? strlen(r->body) : 0;
        r->status = r->body ? 200 : 500;
        r->content_type = "text/plain; version=0.0.4";
    } else if (!strncmp(u, "/verify/", 8) && strlen(u) == 40) {
        r->route = "verify_page";   /* the managed session's page: /verify/{id} (its files: /verify/...) */
        if (get) vf_srv_managed_page(s, q, u + 8, r); else vf_srv_reply_error(r, 405, "method_not_allowed", "GET only");
    } else if (!vf_srv_route_static(u)) {
        vf_srv_reply_error(r, 404, "not_found", "no such endpoint");
    } else {
        r->route = "static";
        if (get) vf_srv_static(s, q, r); else vf_srv_reply_error(r, 405, "method_not_allowed", "GET only");
    }
}
