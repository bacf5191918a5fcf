/* managed.c - the managed session (issue 13): the integrator creates a session without a page key
 * and gets a session_url; the server's own page (managed/, served at /verify/{id}) binds its key
 * with the one-time start token from the URL's fragment, runs the capture and redirects to
 * redirect_url. Also the integrator fields every session may carry: redirect_url, webhook_url
 * (with the integrator's webhook secret) and reference_id. */
#include "server.h"
#include "active.h"
#include "package.h"
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The integrator's id: the index of its API key, stored as the key's hash prefix (a config that
 * reorders keys still finds its secret; the key itself is never stored). */
void vf_srv_integrator_id(const char *api_key, char out[17]) {
    char h[65];
    vf_srv_sha256_hex(api_key, strlen(api_key), h);
    memcpy(out, h, 16);
    out[16] = 0;
}

int vf_srv_owner_visible(const vf_srv_request *q, const char *owner) {
    if (!owner[0]) return 1;
    char caller[17];
    vf_srv_integrator_id(q->auth + 7, caller);
    return !strcmp(owner, caller);
}

int vf_srv_session_visible(const vf_srv_request *q, const vf_srv_session *ss) { return vf_srv_owner_visible(q, ss->integrator); }

const char *vf_srv_webhook_secret(const vf_srv *s, const char *integrator) {
    for (int i = 0; i < s->cfg.n_keys; i++) {
        char id[17];
        vf_srv_integrator_id(s->cfg.api_keys[i], id);
        if (!strcmp(id, integrator)) return s->cfg.webhook_secrets[i][0] ? s->cfg.webhook_secrets[i] : NULL;
    }
    return NULL;
}

static int reference_id_ok(const char *v) {
    size_t n = strlen(v);
    if (n < 1 || n > 128) return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._:@+-", *p))) return 0;
    return 1;
}

int vf_srv_managed_parse(vf_srv *s, const vf_srv_request *q, const cJSON *j, vf_srv_session *ss, int demo, vf_srv_reply *r,
                         const char **code) {
    const cJSON *ru = cJSON_GetObjectItemCaseSensitive(j, "redirect_url"), *wu = cJSON_GetObjectItemCaseSensitive(j, "webhook_url"),
                *ri = cJSON_GetObjectItemCaseSensitive(j, "reference_id");
    char err[200];
    if (demo && (ru || wu || ri)) { vf_srv_reply_error(r, 400, *code = "bad_schema", "demo sessions take no redirect_url, webhook_url or reference_id"); return -1; }
    /* a redirect is the browser's, not a request of the server's: a private host is the
     * integrator's business; a webhook is the server's own request: no private targets (SSRF) */
    vf_srv_url_rules redirect = {s->cfg.webhooks.allow_http, 1, 1}, hook = {s->cfg.webhooks.allow_http, s->cfg.webhooks.allow_private, 0};
    if (ru && (!cJSON_IsString(ru) || vf_srv_url_check(ru->valuestring, &redirect, NULL, err, sizeof err))) {
        vf_srv_reply_error(r, 400, *code = "bad_url", "redirect_url %s", cJSON_IsString(ru) ? err : "must be a string");
        return -1;
    }
    if (wu && (!cJSON_IsString(wu) || vf_srv_url_check(wu->valuestring, &hook, NULL, err, sizeof err))) {
        vf_srv_reply_error(r, 400, *code = "bad_url", "webhook_url %s", cJSON_IsString(wu) ? err : "must be a string");
        return -1;
    }
    if (ri && (!cJSON_IsString(ri) || !reference_id_ok(ri->valuestring))) {
        vf_srv_reply_error(r, 400, *code = "bad_schema", "reference_id: 1..128 characters of A-Z a-z 0-9 . _ : @ + -");
        return -1;
    }
    if (!demo) vf_srv_integrator_id(q->auth + 7, ss->integrator);   /* authorized: "Bearer KEY" */
    if (wu && !vf_srv_webhook_secret(s, ss->integrator)) {
        vf_srv_reply_error(r, 400, *code = "webhook_unconfigured", "this API key has no webhook secret (config integrators[].webhook_secret)");
        return -1;
    }
    if (ru) snprintf(ss->redirect_url, sizeof ss->redirect_url, "%s", ru->valuestring);
    if (wu) snprintf(ss->webhook_url, sizeof ss->webhook_url, "%s", wu->valuestring);
    if (ri) snprintf(ss->reference_id, sizeof ss->reference_id, "%s", ri->valuestring);
    return 0;
}

/* A managed session: no page key yet; the start token's hash is stored, the token goes into the
 * session_url's fragment (never sent to a server, never in a Referer or an access log). */
int vf_srv_managed_prepare(vf_srv *s, const vf_srv_request *q, vf_srv_session *ss, char *session_url, size_t n) {
    uint8_t rnd[32];
    char token[48];
    if (vf_srv_random(rnd, sizeof rnd)) return -1;
    vf_srv_b64url_encode(rnd, sizeof rnd, token);
    vf_srv_sha256_hex(token, strlen(token), ss->start_token);
    ss->managed = 1;
    if (s->cfg.public_url[0]) {
        snprintf(session_url, n, "%s/verify/%s#%s", s->cfg.public_url, ss->id, token);
        return 0;
    }
    const char *h = q->host ? q->host : "";
    if (!*h || strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(h) || strlen(h) > 255) return -1;
    snprintf(session_url, n, "http://%s/verify/%s#%s", h, ss->id, token);
    return 0;
}

cJSON *vf_srv_session_json(vf_srv *s, const vf_srv_session *ss) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session_id", ss->id);
    cJSON_AddStringToObject(o, "nonce", ss->nonce);
    cJSON_AddNumberToObject(o, "attempt", ss->attempt);
    cJSON_AddNumberToObject(o, "expires_at", (double)ss->expires_at);
    cJSON_AddItemToObject(o, "config", vf_srv_session_config_json(&ss->cfg));
    cJSON_AddItemToObject(o, "models", vf_srv_models_json(s));
    if (ss->challenge[0]) cJSON_AddItemToObject(o, "challenge", vf_srv_challenge_json(&ss->cfg.challenge, ss->nonce));
    if (ss->reference_id[0]) cJSON_AddStringToObject(o, "reference_id", ss->reference_id);
    return o;
}

/* GET /verify/{id}: the page itself (managed/index.html in the static root); it reads the id from
 * its path and the token from its fragment. */
void vf_srv_managed_page(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r) {
    if (!vf_srv_valid_id(id)) { vf_srv_reply_error(r, 404, "not_found", "no such page"); return; }
    vf_srv_request page = *q;
    page.url = "/verify/index.html";
    vf_srv_static(s, &page, r);
}

/* POST /v1/sessions/{id}/start {token, client_public_key}: binds the page's key once. */
void vf_srv_managed_start(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r) {
    const char *route = r->route, *code = NULL;
    cJSON *j = NULL;
    vf_srv_session *ss = calloc(1, sizeof *ss);
    uint8_t *key = NULL;
    if (!ss) { vf_srv_reply_error(r, 500, "internal", "out of memory"); return; }
    if (!q->body || !vf_srv_utf8_valid(q->body, q->len) || vf_srv_json_nul_escape(q->body, q->len) ||
        !(j = cJSON_ParseWithLength((const char *)q->body, q->len)) || !cJSON_IsObject(j)) {
        vf_srv_reply_error(r, 400, code = "bad_json", "body is not a JSON object");
        goto out;
    }
    vf_srv_error je;
    if (vf_srv_json_sane(j, 4, &je)) { vf_srv_reply_error(r, je.status, code = je.code, "%s", je.message); goto out; }
    const cJSON *tk = cJSON_GetObjectItemCaseSensitive(j, "token"), *pk = cJSON_GetObjectItemCaseSensitive(j, "client_public_key");
    size_t kl = 0;
    if (!cJSON_IsString(tk) || strlen(tk->valuestring) != 43 || !cJSON_IsString(pk)) {
        vf_srv_reply_error(r, 400, code = "bad_schema", "token (43 b64url characters) and client_public_key are required");
        goto out;
    }
    key = vf_srv_b64_decode(pk->valuestring, strlen(pk->valuestring), 0, &kl);
    if (!key || kl > sizeof ss->pubkey || !vf_srv_check_p256_spki(key, kl)) {
        vf_srv_reply_error(r, 400, code = "bad_public_key", "client_public_key is not a b64 SPKI DER ECDSA P-256 key");
        goto out;
    }
    int found = vf_srv_valid_id(id) ? vf_srv_store_get_session(s->store, id, ss) : 0;
    char th[65];
    vf_srv_sha256_hex(tk->valuestring, strlen(tk->valuestring), th);
    /* an unknown session and a wrong token answer alike: the id alone opens nothing */
    if (found <= 0 || !ss->managed || !vf_srv_key_equal(th, ss->start_token)) {
        vf_srv_reply_error(r, found < 0 ? 500 : 404, code = found < 0 ? "storage" : "unknown_session", "no such session, or a wrong token");
        goto out;
    }
    if (ss->pubkey_len) { vf_srv_reply_error(r, 409, code = "session_started", "this session's page was already started"); goto out; }
    if (ss->final) { vf_srv_reply_error(r, 409, code = "session_closed", "the session is decided"); goto out; }
    if (vf_srv_now_ms() > ss->expires_at) { vf_srv_reply_error(r, 410, code = "session_expired", "the session has expired"); goto out; }
    char h[65];
    vf_srv_sha256_hex(q->body, q->len, h);
    vf_srv_audit a = {route, ss->id, h, q->remote, ss->attempt, 200, "started", NULL, NULL, NULL};
    int rc = vf_srv_store_bind_key(s->store, ss->id, th, key, kl, &a);
    if (rc) {
        vf_srv_reply_error(r, rc > 0 ? 409 : 500, code = rc > 0 ? "session_started" : "storage",
                           rc > 0 ? "this session's page was already started" : "could not store the key");
        goto out;
    }
    cJSON *o = vf_srv_session_json(s, ss);
    char dest[VF_SRV_URL_MAX + 64];
    if (ss->redirect_url[0] && !vf_srv_url_add_query(ss->redirect_url, "session_id", ss->id, dest, sizeof dest))
        cJSON_AddStringToObject(o, "redirect_url", dest);
    vf_srv_reply_json(r, 200, o);
out:
    if (code) vf_srv_audit_reject(s, q, route, vf_srv_valid_id(id) ? id : NULL, 0, r, code);
    free(key);
    cJSON_Delete(j);
    free(ss);
}
