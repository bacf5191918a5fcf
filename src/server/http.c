/* http.c - libmicrohttpd glue: the staged request handler (first call: context; middle calls:
 * body chunks, capped; last call: route and reply), the response headers every answer carries
 * (cross-origin isolation for the threaded wasm build), and per-request metrics. */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct conn_ctx {
    uint8_t *body;
    size_t len, cap;
    int too_large;
    double t0;
} conn_ctx;

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int64_t vf_srv_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vf_srv_reply_json(vf_srv_reply *r, int status, cJSON *j) {
    free(r->body);
    r->status = status;
    r->body = j ? cJSON_PrintUnformatted(j) : NULL;
    r->len = r->body ? strlen(r->body) : 0;
    r->content_type = "application/json";
    cJSON_Delete(j);
    if (!r->body) { r->status = 500; r->body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}"); r->len = r->body ? strlen(r->body) : 0; }
}

void vf_srv_reply_error(vf_srv_reply *r, int status, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    vf_srv_reply_json(r, status, j);
}

static void add_headers(struct MHD_Response *resp, const char *ct) {
    MHD_add_response_header(resp, "Content-Type", ct ? ct : "application/octet-stream");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Embedder-Policy", "require-corp");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result send_reply(struct MHD_Connection *c, vf_srv_reply *r) {
    struct MHD_Response *resp;
    if (r->fd >= 0) {
        resp = MHD_create_response_from_fd64(r->fd_size, r->fd);   /* takes the fd */
        r->fd = -1;
    } else {
        if (!r->body) vf_srv_reply_error(r, 500, "internal", "no response");
        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        r->body = NULL;
    }
    if (!resp) return MHD_NO;
    add_headers(resp, r->content_type);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static void remote_addr(struct MHD_Connection *c, char *out, size_t n) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, n, "?");
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                               const char *upload, size_t *upload_size, void **con_cls) {
    vf_srv *s = cls;
    conn_ctx *cc = *con_cls;
    if (!cc) {
        cc = calloc(1, sizeof *cc);
        if (!cc) return MHD_NO;
        cc->t0 = mono_s();
        *con_cls = cc;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtod(cl, NULL) > (double)s->cfg.limits.max_body) {
            cc->too_large = 1;
            /* far over the limit: answer now rather than drain it (libmicrohttpd then closes) */
            if (strtod(cl, NULL) > 4.0 * (double)s->cfg.limits.max_body) {
                vf_srv_reply r = {0};
                r.fd = -1;
                vf_srv_reply_error(&r, 413, "body_too_large", "request body over %zu bytes", s->cfg.limits.max_body);
                vf_srv_metrics_request(s->metrics, "other", 413, mono_s() - cc->t0);
                return send_reply(c, &r);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {   /* a body chunk: keep it while under the cap, else drain it */
        size_t n = *upload_size;
        *upload_size = 0;
        /* the idle timeout resets on every byte: bound the whole upload too (slow-drip bodies) */
        if (mono_s() - cc->t0 > s->cfg.limits.request_timeout_s) return MHD_NO;
        if (cc->too_large) return MHD_YES;
        if (cc->len + n > s->cfg.limits.max_body) { cc->too_large = 1; free(cc->body); cc->body = NULL; cc->len = cc->cap = 0; return MHD_YES; }
        if (cc->len + n > cc->cap) {
            size_t cap = cc->cap ? cc->cap : 65536;
            while (cap < cc->len + n) cap *= 2;
            if (cap > s->cfg.limits.max_body) cap = s->cfg.limits.max_body;
            uint8_t *b = realloc(cc->body, cap + 1);
            if (!b) return MHD_NO;
            cc->body = b;
            cc->cap = cap;
        }
        memcpy(cc->body + cc->len, upload, n);
        cc->len += n;
        return MHD_YES;
    }
    char remote[64];
    remote_addr(c, remote, sizeof remote);
    /* behind a configured reverse proxy, the client is the last address it appended */
    const char *xff = s->cfg.limits.trusted_proxy[0] && !strcmp(remote, s->cfg.limits.trusted_proxy)
                    ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For") : NULL;
    if (xff) {
        const char *last = strrchr(xff, ',');
        last = last ? last + 1 : xff;
        while (*last == ' ') last++;
        if (*last && strlen(last) < sizeof remote) snprintf(remote, sizeof remote, "%s", last);
    }
    vf_srv_request q = {method, url, remote, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Veriface-Signature"),
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"), cc->body, cc->len};
    if (cc->body) cc->body[cc->len] = 0;   /* cap + 1 allocated: the body is also a C string */
    vf_srv_reply r = {0};
    r.fd = -1;
    r.route = "other";
    if (cc->too_large) {
        vf_srv_reply_error(&r, 413, "body_too_large", "request body over %zu bytes", s->cfg.limits.max_body);
        r.route = strncmp(url, "/v1/sessions/", 13) == 0 ? "result" : "other";
        vf_srv_audit_reject(s, &q, r.route, NULL, 0, &r, "body_too_large");
    } else if (s->cfg.limits.per_ip_rate > 0 && (!strncmp(url, "/v1/", 4) || !strncmp(url, "/demo/", 6)) &&
               !vf_srv_ratelimit_take(s->ip_limit, remote, mono_s())) {
        /* counted in the metrics, not audited: an audit write per flooded request would be the
         * amplification the limit exists to prevent */
        vf_srv_reply_error(&r, 429, "rate_limited", "too many requests from this address");
        r.route = "rate_limited";
    } else {
        vf_srv_route(s, &q, &r);
    }
    int status = r.status;
    const char *route = r.route;
    enum MHD_Result ok = send_reply(c, &r);
    free(r.body);
    if (r.fd >= 0) close(r.fd);
    vf_srv_metrics_request(s->metrics, route, status, mono_s() - cc->t0);
    return ok;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    conn_ctx *cc = *con_cls;
    if (!cc) return;
    free(cc->body);
    free(cc);
    *con_cls = NULL;
}

int vf_srv_http_start(vf_srv *s, int *port_out, char *err, size_t es) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)s->cfg.listen_port);
    if (inet_pton(AF_INET, strcmp(s->cfg.listen_host, "localhost") ? s->cfg.listen_host : "127.0.0.1", &sa.sin_addr) != 1) {
        snprintf(err, es, "listen: '%s' is not an IPv4 address", s->cfg.listen_host);
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.http_threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.limits.request_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.limits.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->cfg.limits.per_ip_connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_END);
    if (!d) { snprintf(err, es, "cannot listen on %s:%d", s->cfg.listen_host, s->cfg.listen_port); return -1; }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = di ? di->port : s->cfg.listen_port;
    s->daemon = d;
    return 0;
}

void vf_srv_http_stop(vf_srv *s) {
    if (s->daemon) MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}
