/* webhook.c - sign and POST one webhook event; the retry delay. The SSRF rule is applied where it
 * cannot be bypassed: on the address libcurl is about to connect to (its open-socket callback),
 * after its own resolution, so neither a DNS answer that changes between a check and the connect
 * (rebinding) nor a redirect (never followed anyway) nor an IPv4-mapped literal gets around it. */
#include "webhook.h"
#include "url.h"
#include "veriface.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int vf_srv_hmac_sha256_hex(const char *key, const void *msg, size_t n, char out[65]) {
    unsigned char mac[32];
    unsigned int ml = 0;
    if (!HMAC(EVP_sha256(), key, (int)strlen(key), msg, n, mac, &ml) || ml != 32) return -1;
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

int vf_srv_webhook_sign(const char *secret, int64_t ts, const void *body, size_t n, char out[68]) {
    char head[32];
    int hl = snprintf(head, sizeof head, "%" PRId64 ".", ts);
    char *msg = malloc((size_t)hl + n + 1);
    if (!msg) return -1;
    memcpy(msg, head, (size_t)hl);
    memcpy(msg + hl, body, n);
    memcpy(out, "v1=", 3);
    int rc = vf_srv_hmac_sha256_hex(secret, msg, (size_t)hl + n, out + 3);
    free(msg);
    return rc;
}

int64_t vf_srv_webhook_backoff_ms(const vf_srv_webhook_config *c, int failures, uint32_t rnd) {
    int64_t d = c->base_ms;
    for (int i = 1; i < failures && d < c->max_ms; i++) d *= 2;
    if (d > c->max_ms) d = c->max_ms;
    return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
}

int vf_srv_webhook_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1; }

typedef struct guard { int allow_private, refused; } guard;

static curl_socket_t open_socket(void *p, curlsocktype purpose, struct curl_sockaddr *a) {
    guard *g = p;
    if (purpose != CURLSOCKTYPE_IPCXN || (!g->allow_private && vf_srv_addr_private(&a->addr))) {
        g->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* The receiver's answer body is not used: read and dropped, at most 64 KiB of it. */
static size_t drop(char *p, size_t sz, size_t n, void *u) {
    (void)p;
    size_t *seen = u;
    *seen += sz * n;
    return *seen > 65536 ? 0 : sz * n;
}

int vf_srv_webhook_post(const vf_srv_webhook_config *c, const char *url, const char *id, const char *secret,
                        const char *body, size_t n, int64_t now_s, vf_srv_webhook_result *res) {
    memset(res, 0, sizeof *res);
    char err[160] = "", sig[68];
    vf_srv_url_rules rules = {c->allow_http, c->allow_private, 0};
    if (vf_srv_url_check(url, &rules, NULL, err, sizeof err)) {
        res->refused = 1;
        snprintf(res->error, sizeof res->error, "webhook_url %s", err);
        return -1;
    }
    if (vf_srv_webhook_sign(secret, now_s, body, n, sig)) { snprintf(res->error, sizeof res->error, "signing failed"); return -1; }
    char h_id[160], h_ts[64], h_sig[100], h_ua[64], cerr[CURL_ERROR_SIZE] = "";
    snprintf(h_id, sizeof h_id, "Veriface-Webhook-Id: %s", id);
    snprintf(h_ts, sizeof h_ts, "Veriface-Webhook-Timestamp: %" PRId64, now_s);
    snprintf(h_sig, sizeof h_sig, "Veriface-Webhook-Signature: %s", sig);
    snprintf(h_ua, sizeof h_ua, "User-Agent: veriface-server/%s", vf_version());
    struct curl_slist *hs = NULL, *t;
    const char *lines[] = {"Content-Type: application/json", h_id, h_ts, h_sig, h_ua, "Expect:"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (!(t = curl_slist_append(hs, lines[i]))) { curl_slist_free_all(hs); snprintf(res->error, sizeof res->error, "out of memory"); return -1; }
        hs = t;
    }
    CURL *e = curl_easy_init();
    if (!e) { curl_slist_free_all(hs); snprintf(res->error, sizeof res->error, "out of memory"); return -1; }
    guard g = {c->allow_private, 0};
    size_t seen = 0;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");              /* no proxy from the environment */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);           /* threads */
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)c->timeout_s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)c->timeout_s);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &g);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, drop);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &seen);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(hs);
    res->status = (int)status;
    if (g.refused) {
        res->refused = 1;
        snprintf(res->error, sizeof res->error, "the target's address is private or loopback (webhooks.allow_private is off)");
        return -1;
    }
    if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && status)) {
        /* curl's message buffer is 256 bytes, ours 200: cut on purpose (the audit keeps the start) */
        snprintf(res->error, sizeof res->error, "%.*s", (int)sizeof res->error - 1, cerr[0] ? cerr : curl_easy_strerror(cc));
        return -1;
    }
    if (status < 200 || status > 299) { snprintf(res->error, sizeof res->error, "answered HTTP %ld", status); return -1; }
    return 0;
}
