/* url.c - integrator URLs checked with libcurl's own parser (what is checked is what the sender
 * connects to: no parser differential), plus printable ASCII and length limits of our own; the
 * address rule of the webhook sender. */
#include "url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int v4_private(uint32_t a) {   /* host order */
    uint8_t b0 = a >> 24, b1 = (a >> 16) & 0xff;
    return b0 == 0 || b0 == 10 || b0 == 127 || (b0 == 169 && b1 == 254) || (b0 == 172 && (b1 & 0xf0) == 16) ||
           (b0 == 192 && b1 == 168) || (b0 == 100 && (b1 & 0xc0) == 64) || (b0 == 192 && b1 == 0 && ((a >> 8) & 0xff) == 0) ||
           (b0 == 198 && (b1 & 0xfe) == 18) || b0 >= 224;
}

int vf_srv_addr_private(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET) return v4_private(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family != AF_INET6) return 1;
    const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t NAT64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t ZERO12[12] = {0};
    if (!memcmp(b, MAPPED, 12) || !memcmp(b, NAT64, 12) || !memcmp(b, ZERO12, 12))   /* v4 inside (also ::, ::1) */
        return v4_private((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]) || !memcmp(b, ZERO12, 12);
    return (b[0] & 0xfe) == 0xfc ||                 /* fc00::/7 unique local */
           (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || /* fe80::/10 link-local */
           (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) || /* fec0::/10 site-local (deprecated) */
           b[0] == 0xff ||                           /* multicast */
           (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8);  /* documentation */
}

/* A host literal (IPv4 dotted, [IPv6]) as an address; 0 when the host is a name. */
static int literal(const char *host, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) { a4->sin_family = AF_INET; return 1; }
    size_t n = strlen(host);
    char in[64];
    if (n > 2 && n < sizeof in && host[0] == '[' && host[n - 1] == ']') {
        memcpy(in, host + 1, n - 2);
        in[n - 2] = 0;
        char *pct = strchr(in, '%');   /* a zone id: link-local anyway */
        if (pct) *pct = 0;
        if (inet_pton(AF_INET6, in, &a6->sin6_addr) == 1) { a6->sin6_family = AF_INET6; return 1; }
    }
    return 0;
}

static int is_loopback_name(const char *h) {
    size_t n = strlen(h);
    if (n && h[n - 1] == '.') n--;   /* "localhost." */
    return (n == 9 && !strncasecmp(h, "localhost", 9)) || (n > 10 && !strncasecmp(h + n - 10, ".localhost", 10));
}

int vf_srv_url_check(const char *url, const vf_srv_url_rules *r, vf_srv_url *out, char *err, size_t es) {
    size_t n = url ? strlen(url) : 0;
    if (!n || n > VF_SRV_URL_MAX) { snprintf(err, es, "must be 1..%d characters", VF_SRV_URL_MAX); return -1; }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] < 0x21 || (unsigned char)url[i] > 0x7e || url[i] == '\\') {
            snprintf(err, es, "must be printable ASCII without spaces or backslashes (percent-encode the rest)");
            return -1;
        }
    if (!r->allow_fragment && strchr(url, '#')) { snprintf(err, es, "must have no fragment"); return -1; }
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    int rc = -1;
    if (!u) { snprintf(err, es, "out of memory"); return -1; }
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_DISALLOW_USER);
    if (uc) { snprintf(err, es, "is not a URL (%s)", curl_url_strerror(uc)); goto out; }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || curl_url_get(u, CURLUPART_HOST, &host, 0) ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) || !host[0]) {
        snprintf(err, es, "needs a scheme and a host");
        goto out;
    }
    if (!curl_url_get(u, CURLUPART_USER, &user, 0)) { snprintf(err, es, "must not carry a user name"); goto out; }
    int https = !strcasecmp(scheme, "https"), http = !strcasecmp(scheme, "http");
    struct sockaddr_storage ss;
    int lit = literal(host, &ss);
    int loop = is_loopback_name(host) ||
               (lit && ss.ss_family == AF_INET && (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127) ||
               (lit && ss.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr));
    if (!https && !(http && (loop || r->allow_http))) { snprintf(err, es, "must be https (http only to a loopback host)"); goto out; }
    if (!r->allow_private && (loop || (lit && vf_srv_addr_private((struct sockaddr *)&ss)))) {
        snprintf(err, es, "must not name a private, loopback or link-local host");
        goto out;
    }
    if (strlen(host) >= sizeof out->host) { snprintf(err, es, "host too long"); goto out; }
    if (out) {
        out->https = https;
        snprintf(out->host, sizeof out->host, "%s", host);
        out->port = atoi(port);
        out->loopback = loop;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

int vf_srv_url_add_query(const char *url, const char *name, const char *value, char *out, size_t n) {
    const char *hash = strchr(url, '#');
    size_t head = hash ? (size_t)(hash - url) : strlen(url);
    char sep = memchr(url, '?', head) ? '&' : '?';
    int w = snprintf(out, n, "%.*s%c%s=%s%s", (int)head, url, sep, name, value, hash ? hash : "");
    return w < 0 || (size_t)w >= n ? -1 : 0;
}
