/* test_webhook.c - the webhook sender's parts: HMAC-SHA256 (RFC 4231 vector) and the signature
 * header, the backoff schedule, the URL rule for redirect_url and webhook_url, the address rule
 * (SSRF), the redirect query, and real POSTs to a receiver on a loopback socket: headers and body
 * as sent, the signature verifiable, a 500 and a redirect not taken as delivered, a closed port,
 * and a loopback target refused before any connection when private targets are not allowed. */
#define _GNU_SOURCE   /* strcasestr */
#include "../../src/server/url.h"
#include "../../src/server/webhook.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int g_pass, g_fail;
#define CHECK(cond, ...) do { if (cond) g_pass++; else { g_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static void test_hmac(void) {
    char hex[65], sig[68], expect[65];
    vf_srv_hmac_sha256_hex("Jefe", "what do ya want for nothing?", 28, hex);   /* RFC 4231 test case 2 */
    CHECK(!strcmp(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"), "HMAC-SHA256 RFC 4231 #2: %s", hex);
    const char body[] = "{\"id\":\"a-1\",\"decision\":\"approve\"}";
    vf_srv_webhook_sign("s3cret", 1764800000, body, strlen(body), sig);
    char msg[128];
    snprintf(msg, sizeof msg, "1764800000.%s", body);
    vf_srv_hmac_sha256_hex("s3cret", msg, strlen(msg), expect);
    CHECK(!strncmp(sig, "v1=", 3) && !strcmp(sig + 3, expect), "signature = v1= HMAC(secret, ts.body): %s", sig);
    char other[68];
    vf_srv_webhook_sign("s3cret", 1764800001, body, strlen(body), other);
    CHECK(strcmp(sig, other), "another timestamp, another signature");
}

static void test_backoff(void) {
    vf_srv_webhook_config c;
    vf_srv_webhook_config_defaults(&c);
    c.base_ms = 1000;
    c.max_ms = 60000;
    int64_t lo_prev = 0;
    for (int f = 1; f <= 12; f++) {
        int64_t d = 1000;
        for (int i = 1; i < f; i++) d = d * 2 > 60000 ? 60000 : d * 2;
        int64_t lo = vf_srv_webhook_backoff_ms(&c, f, 0), hi = vf_srv_webhook_backoff_ms(&c, f, (uint32_t)(d / 2));
        CHECK(lo == d / 2 && hi == d, "failure %d: delay in [%lld, %lld], got %lld..%lld", f, (long long)d / 2, (long long)d, (long long)lo, (long long)hi);
        CHECK(lo >= lo_prev, "the least delay never shrinks (failure %d)", f);
        lo_prev = lo;
        int spread = 0;
        for (uint32_t r = 1; r < 200; r++) {
            int64_t x = vf_srv_webhook_backoff_ms(&c, f, r * 2654435761u);
            CHECK(x >= d / 2 && x <= d, "jittered delay %lld within [d/2, d]", (long long)x);
            spread |= x != lo;
        }
        CHECK(spread, "jitter spreads the delay (failure %d)", f);
    }
    CHECK(vf_srv_webhook_backoff_ms(&c, 1000, 5) <= 60000, "a large failure count stays capped");
    /* the defaults outlast a receiver that is down for 10 minutes, even at the shortest delays,
     * and give up within a few hours even at the longest */
    vf_srv_webhook_config_defaults(&c);
    int64_t lo = 0, hi = 0;
    int tries_for_10min = 0;
    for (int f = 1; f < c.max_attempts; f++) {
        lo += vf_srv_webhook_backoff_ms(&c, f, 0);
        hi += 2 * vf_srv_webhook_backoff_ms(&c, f, 0);   /* d: the longest delay */
        if (!tries_for_10min && lo >= 600000) tries_for_10min = f + 1;
    }
    CHECK(tries_for_10min > 0 && tries_for_10min <= c.max_attempts, "default schedule: a try after a 10-minute outage (try %d of %d)",
          tries_for_10min, c.max_attempts);
    CHECK(lo >= 40 * 60000 && hi <= 90 * 60000, "default schedule: %lld..%lld s of retries", (long long)lo / 1000, (long long)hi / 1000);
}

static void test_urls(void) {
    const vf_srv_url_rules web = {0, 0, 0}, redirect = {0, 1, 1}, test_hook = {0, 1, 0}, plain = {1, 0, 0};
    static const struct { const char *url; int hook, redir, test, plain; } T[] = {
        {"https://hooks.example.com/veriface", 1, 1, 1, 1},
        {"https://hooks.example.com:8443/a/b?x=1", 1, 1, 1, 1},
        {"HTTPS://Hooks.Example.COM/x", 1, 1, 1, 1},
        {"http://hooks.example.com/x", 0, 0, 0, 1},
        {"http://127.0.0.1:9000/hook", 0, 1, 1, 0},
        {"http://localhost:3000/done", 0, 1, 1, 0},
        {"http://[::1]:3000/done", 0, 1, 1, 0},
        {"https://10.1.2.3/x", 0, 1, 1, 0},
        {"https://192.168.0.10/x", 0, 1, 1, 0},
        {"https://172.20.0.1/x", 0, 1, 1, 0},
        {"https://169.254.169.254/latest/meta-data", 0, 1, 1, 0},
        {"https://[::ffff:127.0.0.1]/x", 0, 1, 1, 0},
        {"https://[fd00::1]/x", 0, 1, 1, 0},
        {"https://0.0.0.0/x", 0, 1, 1, 0},
        {"https://example.com/done#step2", 0, 1, 0, 0},
        {"https://user:pw@example.com/x", 0, 0, 0, 0},
        {"ftp://example.com/x", 0, 0, 0, 0},
        {"javascript:alert(1)", 0, 0, 0, 0},
        {"//example.com/x", 0, 0, 0, 0},
        {"https://exa mple.com/x", 0, 0, 0, 0},
        {"https://example.com/\xc3\xa9", 0, 0, 0, 0},
        {"https://example.com\\@evil.com/", 0, 0, 0, 0},
        {"", 0, 0, 0, 0},
    };
    char err[200];
    vf_srv_url u;
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        CHECK((vf_srv_url_check(T[i].url, &web, &u, err, sizeof err) == 0) == T[i].hook, "webhook rule on '%s' (%s)", T[i].url, err);
        CHECK((vf_srv_url_check(T[i].url, &redirect, &u, err, sizeof err) == 0) == T[i].redir, "redirect rule on '%s' (%s)", T[i].url, err);
        CHECK((vf_srv_url_check(T[i].url, &test_hook, &u, err, sizeof err) == 0) == T[i].test, "test webhook rule on '%s' (%s)", T[i].url, err);
        CHECK((vf_srv_url_check(T[i].url, &plain, &u, err, sizeof err) == 0) == T[i].plain, "allow_http rule on '%s' (%s)", T[i].url, err);
    }
    char big[VF_SRV_URL_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "https://x.example/", 18);
    big[sizeof big - 1] = 0;
    CHECK(vf_srv_url_check(big, &web, &u, err, sizeof err), "a URL over %d characters is refused", VF_SRV_URL_MAX);
    big[VF_SRV_URL_MAX] = 0;
    CHECK(!vf_srv_url_check(big, &web, &u, err, sizeof err), "a URL of exactly %d characters passes (%s)", VF_SRV_URL_MAX, err);
    CHECK(!vf_srv_url_check("https://hooks.example.com:8443/x", &web, &u, err, sizeof err) && u.port == 8443 && u.https &&
          !strcmp(u.host, "hooks.example.com"), "parsed host and port");

    char out[256];
    vf_srv_url_add_query("https://a.example/done", "session_id", "abc", out, sizeof out);
    CHECK(!strcmp(out, "https://a.example/done?session_id=abc"), "%s", out);
    vf_srv_url_add_query("https://a.example/done?x=1#top", "session_id", "abc", out, sizeof out);
    CHECK(!strcmp(out, "https://a.example/done?x=1&session_id=abc#top"), "%s", out);
    CHECK(vf_srv_url_add_query("https://a.example/done", "session_id", "abc", out, 20) == -1, "too long for the buffer");
}

static void test_addresses(void) {
    static const struct { const char *a; int priv; } T[] = {
        {"8.8.8.8", 0}, {"93.184.216.34", 0}, {"127.0.0.1", 1}, {"127.9.9.9", 1}, {"10.0.0.1", 1}, {"172.16.0.1", 1},
        {"172.31.255.255", 1}, {"172.32.0.1", 0}, {"192.168.1.1", 1}, {"169.254.169.254", 1}, {"100.64.0.1", 1},
        {"0.0.0.0", 1}, {"224.0.0.1", 1}, {"255.255.255.255", 1}, {"::1", 1}, {"::", 1}, {"fe80::1", 1}, {"fd12::1", 1},
        {"::ffff:10.0.0.1", 1}, {"::ffff:8.8.8.8", 0}, {"64:ff9b::7f00:1", 1}, {"2606:4700::1111", 0}, {"ff02::1", 1},
    };
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        if (strchr(T[i].a, ':')) {
            ss.ss_family = AF_INET6;
            inet_pton(AF_INET6, T[i].a, &((struct sockaddr_in6 *)&ss)->sin6_addr);
        } else {
            ss.ss_family = AF_INET;
            inet_pton(AF_INET, T[i].a, &((struct sockaddr_in *)&ss)->sin_addr);
        }
        CHECK(vf_srv_addr_private((struct sockaddr *)&ss) == T[i].priv, "%s private = %d", T[i].a, T[i].priv);
    }
}

/* ---- a receiver on a loopback socket ------------------------------------------------------------ */

typedef struct receiver {
    int fd, port, status, accepted;
    const char *extra;                 /* extra answer header line */
    char head[4096], body[4096];
} receiver;

static void *serve_one(void *p) {
    receiver *r = p;
    int c = accept(r->fd, NULL, NULL);
    if (c < 0) return NULL;
    r->accepted++;
    char buf[8192];
    size_t n = 0;
    char *end = NULL;
    while (n < sizeof buf - 1) {
        ssize_t k = read(c, buf + n, sizeof buf - 1 - n);
        if (k <= 0) break;
        n += (size_t)k;
        buf[n] = 0;
        if ((end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "\r\ncontent-length:");
            size_t want = cl ? (size_t)atoi(cl + 17) : 0;
            if (n - (size_t)(end + 4 - buf) >= want) break;
        }
    }
    if (end) {
        snprintf(r->head, sizeof r->head, "%.*s", (int)(end - buf), buf);
        snprintf(r->body, sizeof r->body, "%s", end + 4);
    }
    char ans[256];
    int al = snprintf(ans, sizeof ans, "HTTP/1.1 %d X\r\nContent-Length: 2\r\n%sConnection: close\r\n\r\nok", r->status, r->extra ? r->extra : "");
    if (write(c, ans, (size_t)al) < 0) perror("write");
    close(c);
    return NULL;
}

static int receiver_open(receiver *r) {
    memset(r, 0, sizeof *r);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(r->fd, (struct sockaddr *)&a, sizeof a) || listen(r->fd, 4) || getsockname(r->fd, (struct sockaddr *)&a, &al)) return -1;
    r->port = ntohs(a.sin_port);
    return 0;
}

static const char *header(const char *head, const char *name, char *out, size_t n) {
    char key[80];
    snprintf(key, sizeof key, "\r\n%s:", name);
    const char *p = strcasestr(head, key);
    if (!p) return NULL;
    p += strlen(key);
    while (*p == ' ') p++;
    size_t l = strcspn(p, "\r\n");
    snprintf(out, n, "%.*s", (int)l, p);
    return out;
}

static void test_post(void) {
    vf_srv_webhook_config c;
    vf_srv_webhook_config_defaults(&c);
    c.timeout_s = 5;
    c.allow_private = 1;
    receiver r;
    if (receiver_open(&r)) { CHECK(0, "receiver socket"); return; }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook?x=1", r.port);
    const char body[] = "{\"id\":\"0123-1\",\"type\":\"session.decided\",\"decision\":\"approve\"}";
    vf_srv_webhook_result res;
    pthread_t t;

    r.status = 200;
    pthread_create(&t, NULL, serve_one, &r);
    int rc = vf_srv_webhook_post(&c, url, "0123-1", "whsec-test", body, strlen(body), 1764800000, &res);
    pthread_join(t, NULL);
    CHECK(rc == 0 && res.status == 200, "delivered on 200 (rc %d, status %d, %s)", rc, res.status, res.error);
    CHECK(!strncmp(r.head, "POST /hook?x=1 HTTP/1.1", 23), "request line: %.40s", r.head);
    CHECK(!strcmp(r.body, body), "the body exactly as given: %s", r.body);
    char v[128], ts[32], sig[100], expect[68];
    CHECK(header(r.head, "Veriface-Webhook-Id", v, sizeof v) && !strcmp(v, "0123-1"), "id header");
    CHECK(header(r.head, "Content-Type", v, sizeof v) && !strcmp(v, "application/json"), "content type");
    CHECK(header(r.head, "Veriface-Webhook-Timestamp", ts, sizeof ts) && !strcmp(ts, "1764800000"), "timestamp header");
    vf_srv_webhook_sign("whsec-test", 1764800000, r.body, strlen(r.body), expect);
    CHECK(header(r.head, "Veriface-Webhook-Signature", sig, sizeof sig) && !strcmp(sig, expect), "signature verifies over ts.body: %s", sig);
    vf_srv_webhook_sign("another", 1764800000, r.body, strlen(r.body), expect);
    CHECK(strcmp(sig, expect), "another secret does not verify");

    r.status = 500;
    pthread_create(&t, NULL, serve_one, &r);
    rc = vf_srv_webhook_post(&c, url, "0123-1", "whsec-test", body, strlen(body), 1764800001, &res);
    pthread_join(t, NULL);
    CHECK(rc == -1 && res.status == 500 && !res.refused, "a 500 is not delivered (retry): rc %d status %d", rc, res.status);

    r.status = 302;
    r.extra = "Location: http://127.0.0.1:1/elsewhere\r\n";
    pthread_create(&t, NULL, serve_one, &r);
    rc = vf_srv_webhook_post(&c, url, "0123-1", "whsec-test", body, strlen(body), 1764800002, &res);
    pthread_join(t, NULL);
    CHECK(rc == -1 && res.status == 302, "a redirect is neither followed nor delivered: rc %d status %d", rc, res.status);

    c.allow_private = 0;
    int before = r.accepted;
    rc = vf_srv_webhook_post(&c, url, "0123-1", "whsec-test", body, strlen(body), 1764800003, &res);
    CHECK(rc == -1 && res.refused && r.accepted == before, "loopback refused without a connection when private targets are off (%s)", res.error);
    char named[128];
    snprintf(named, sizeof named, "https://localhost:%d/hook", r.port);
    rc = vf_srv_webhook_post(&c, named, "0123-1", "whsec-test", body, strlen(body), 1764800003, &res);
    CHECK(rc == -1 && res.refused, "a loopback name refused too (%s)", res.error);

    close(r.fd);   /* nothing listens there now */
    c.allow_private = 1;
    rc = vf_srv_webhook_post(&c, url, "0123-1", "whsec-test", body, strlen(body), 1764800004, &res);
    CHECK(rc == -1 && res.status == 0 && !res.refused && res.error[0], "a closed port: not delivered, retried later (%s)", res.error);
}

int main(void) {
    if (vf_srv_webhook_global_init()) { printf("curl_global_init failed\n"); return 1; }
    test_hmac();
    test_backoff();
    test_urls();
    test_addresses();
    test_post();
    printf("test_webhook: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
