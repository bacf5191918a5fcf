/* url.h - the URLs an integrator gives a session (redirect_url, webhook_url), checked strictly at
 * creation, and the address rule that keeps the webhook sender off private networks (SSRF). */
#ifndef VF_SRV_URL_H
#define VF_SRV_URL_H

#include <stddef.h>
#include <sys/socket.h>

#define VF_SRV_URL_MAX 2048

typedef struct vf_srv_url_rules {
    int allow_http;       /* plain http to any host (else https, or http to a loopback host only) */
    int allow_private;    /* a private, loopback or link-local host (a webhook target: refused by default) */
    int allow_fragment;   /* "#..." (a page to redirect to may have one; a webhook has no use for it) */
} vf_srv_url_rules;

typedef struct vf_srv_url {
    int https;
    char host[256];       /* as libcurl parses it (the sender uses the same parser); IPv6 in [] */
    int port;             /* explicit or the scheme's */
    int loopback;         /* localhost, 127/8 or ::1 */
} vf_srv_url;

/* 0 = acceptable under `r` (out filled when non-NULL); -1 with a reason in err. Printable ASCII
 * only, at most VF_SRV_URL_MAX bytes, http(s) only, no user:password, a host. */
int vf_srv_url_check(const char *url, const vf_srv_url_rules *r, vf_srv_url *out, char *err, size_t es);

/* 1 when the address is not a public unicast one: loopback, private (RFC 1918, ULA), link-local,
 * CGNAT, unspecified, multicast, reserved, and IPv4-mapped/NAT64 forms of those. */
int vf_srv_addr_private(const struct sockaddr *sa);

/* `url` with `name=value` added to its query (before any fragment), into out; -1 if it does not fit. */
int vf_srv_url_add_query(const char *url, const char *name, const char *value, char *out, size_t n);

#endif
