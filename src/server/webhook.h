/* webhook.h - one webhook delivery: the signature (HMAC-SHA256, OpenSSL), the HTTP POST (libcurl,
 * pinned to an address checked against the SSRF rule), and the retry schedule (exponential
 * backoff with jitter). The outbox that drives it is outbox.c. */
#ifndef VF_SRV_WEBHOOK_H
#define VF_SRV_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

typedef struct vf_srv_webhook_config {
    int base_ms;          /* first retry after base_ms .. 2 x base_ms / 2 (5000) */
    int max_ms;           /* the delay doubles up to this (600000: 10 minutes) */
    int max_attempts;     /* then the event is dead (15: 40..80 minutes of retries) */
    int timeout_s;        /* one POST, connect to answer (10) */
    int poll_ms;          /* the outbox is looked at this often (1000) */
    int allow_private;    /* targets on loopback/private networks (tests, a receiver on the same host) */
    int allow_http;       /* plain http to any host (else https, or http to loopback only) */
} vf_srv_webhook_config;

/* Inline: config.c (linked into tools without libcurl) sets the defaults. */
static inline void vf_srv_webhook_config_defaults(vf_srv_webhook_config *c) {
    c->base_ms = 5000;
    c->max_ms = 600000;
    c->max_attempts = 15;
    c->timeout_s = 10;
    c->poll_ms = 1000;
    c->allow_private = 0;
    c->allow_http = 0;
}

/* Lowercase hex HMAC-SHA256 of msg under key (out: 65 bytes). 0 = ok. */
int vf_srv_hmac_sha256_hex(const char *key, const void *msg, size_t n, char out[65]);
/* The signature header's value: "v1=" + hex HMAC-SHA256 of "<timestamp>.<body>" (out: 68 bytes).
 * The timestamp is signed with the body, so an old delivery cannot be replayed with a new time. */
int vf_srv_webhook_sign(const char *secret, int64_t timestamp_s, const void *body, size_t n, char out[68]);

/* Delay before the next try after `failures` failed ones (>= 1): d = min(max_ms, base_ms x
 * 2^(failures-1)), then "equal jitter": d/2 + rnd mod (d/2 + 1), so retries of many events that
 * failed together spread out but never come back at once. */
int64_t vf_srv_webhook_backoff_ms(const vf_srv_webhook_config *c, int failures, uint32_t rnd);

typedef struct vf_srv_webhook_result {
    int status;           /* HTTP status, 0 when there was no answer */
    int refused;          /* the target failed the URL or address rule: retrying will not help */
    char error[200];      /* why it was not delivered ("" when it was) */
} vf_srv_webhook_result;

/* Call once before any thread starts (libcurl's global state). */
int vf_srv_webhook_global_init(void);

/* POST body to url with the headers Veriface-Webhook-Id, -Timestamp and -Signature. The host is
 * resolved here, every address checked (vf_srv_addr_private unless allow_private) and the
 * connection pinned to the checked address (no second lookup: no DNS rebinding); no redirects,
 * no proxies from the environment. 0 = delivered (a 2xx answer), -1 = not (res says why). */
int vf_srv_webhook_post(const vf_srv_webhook_config *c, const char *url, const char *id, const char *secret,
                        const char *body, size_t n, int64_t now_s, vf_srv_webhook_result *res);

#endif
