/* http.c - libmicrohttpd glue: the staged request handler (first call: context; middle calls:
 * body chunks, into a buffer of the declared length; last call: the /metrics token, the rate limit,
 * the admission of result requests, route and reply), the response headers every answer carries
 * (cross-origin isolation for the threaded wasm build, the page's Content-Security-Policy), and
 * per-request metrics. Connections come from the front door (frontdoor.c), one request each (the
 * front door answers static files itself, on connections it keeps alive). */
#include "server.h"
#include "frontdoor.h"

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

const char *const vf_srv_common_headers[][2] = {
    {"Cross-Origin-Opener-Policy", "same-origin"}, {"Cross-Origin-Embedder-Policy", "require-corp"},
    {"Cross-Origin-Resource-Policy", "same-origin"}, {"X-Content-Type-Options", "nosniff"},
    {"Cache-Control", "no-store"}, {"Referrer-Policy", "no-referrer"}, {"X-Frame-Options", "DENY"}, {NULL, NULL}};
/* The strict policy integrators ask for (issue 14): nothing but this origin, wasm compiled from
 * this origin's files, no inline script or style, no data: or blob: URLs; the last three only
 * forbid more (framing, <base>, form targets). */
const char vf_srv_page_csp[] =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'";

typedef struct conn_ctx {
    uint8_t *body;
    size_t len, cap;                  /* cap = the declared Content-Length (reserved by the front door) */
    int too_large;
    double t0;
    vf_srv_conn *conn;                /* the front door's record of the connection */
} conn_ctx;

void vf_srv_reply_headers(const vf_srv_reply *r, void (*add)(void *arg, const char *name, const char *value), void *arg) {
    const char *ct = r->content_type ? r->content_type : "application/octet-stream";
    add(arg, "Content-Type", ct);
    for (int i = 0; vf_srv_common_headers[i][0]; i++) {
        const char *v = vf_srv_common_headers[i][1];
        if (r->cache_control && !strcmp(vf_srv_common_headers[i][0], "Cache-Control")) v = r->cache_control;   /* static files */
        add(arg, vf_srv_common_headers[i][0], v);
    }
    if (r->etag[0]) add(arg, "ETag", r->etag);
    if (r->content_encoding) add(arg, "Content-Encoding", r->content_encoding);
    if (r->vary) add(arg, "Vary", "Accept-Encoding");
    /* pages and scripts: a worker runs under the policy delivered with its own script */
    if (!strncmp(ct, "text/html", 9) || !strncmp(ct, "text/javascript", 15)) add(arg, "Content-Security-Policy", vf_srv_page_csp);
}

static void add_mhd(void *resp, const char *name, const char *value) { MHD_add_response_header(resp, name, value); }

static void add_headers(struct MHD_Response *resp, const vf_srv_reply *r) {
    vf_srv_reply_headers(r, add_mhd, resp);
    /* one request per connection here: every request passes the front door's checks (it serves
     * static files itself, on kept-alive connections) */
    MHD_add_response_header(resp, "Connection", "close");
}

static enum MHD_Result send_reply(struct MHD_Connection *c, vf_srv_reply *r, int retry_after, const char *www_auth) {
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
    add_headers(resp, r);
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (www_auth) MHD_add_response_header(resp, "WWW-Authenticate", www_auth);
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

static int is_result(const char *method, const char *url) {
    if (strcmp(method, "POST") || strncmp(url, "/v1/sessions/", 13)) return 0;
    const char *slash = strchr(url + 13, '/');
    return slash && !strcmp(slash, "/result");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                               const char *upload, size_t *upload_size, void **con_cls) {
    vf_srv *s = cls;
    conn_ctx *cc = *con_cls;
    if (!cc) {
        cc = calloc(1, sizeof *cc);
        if (!cc) return MHD_NO;
        cc->t0 = vf_srv_mono_s();
        *con_cls = cc;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        cc->conn = ci ? ci->socket_context : NULL;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        double n = cl ? strtod(cl, NULL) : 0;
        if (n > (double)s->cfg.limits.max_body) {   /* the front door answers these; kept for safety */
            vf_srv_reply r = {0};
            r.fd = -1;
            vf_srv_reply_error(&r, 413, "body_too_large", "request body over %zu bytes", s->cfg.limits.max_body);
            vf_srv_metrics_request(s->metrics, "other", 413, vf_srv_mono_s() - cc->t0);
            return send_reply(c, &r, 0, NULL);
        }
        if (n >= 1) {   /* the declared length, reserved from the body budget at the front door */
            cc->cap = (size_t)n;
            cc->body = malloc(cc->cap + 1);
            if (!cc->body) return MHD_NO;
        }
        return MHD_YES;
    }
    if (*upload_size) {   /* a body chunk: into the buffer of the declared length */
        size_t n = *upload_size;
        *upload_size = 0;
        /* the idle timeout resets on every byte: bound the whole upload too (slow-drip bodies) */
        if (vf_srv_mono_s() - cc->t0 > s->cfg.limits.request_timeout_s) return MHD_NO;
        if (cc->too_large) return MHD_YES;
        if (!cc->body || cc->len + n > cc->cap) {
            cc->too_large = 1;
            free(cc->body);
            cc->body = NULL;
            cc->len = cc->cap = 0;
            vf_srv_door_body_done(s->door, cc->conn);
            return MHD_YES;
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
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"), cc->body, cc->len,
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"), MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"),
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match"),
                        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "v"),
                        0 /* routed pages are sent as they are: the front door sends the precompressed files */};
    if (cc->body) cc->body[cc->len] = 0;   /* cap + 1 allocated: the body is also a C string */
    vf_srv_reply r = {0};
    r.fd = -1;
    r.route = "other";
    int retry_after = 0;
    const char *www_auth = NULL;
    if (cc->too_large) {
        vf_srv_reply_error(&r, 413, "body_too_large", "request body over %zu bytes", s->cfg.limits.max_body);
        r.route = strncmp(url, "/v1/sessions/", 13) == 0 ? "result" : "other";
        vf_srv_audit_reject(s, &q, r.route, NULL, 0, &r, "body_too_large");
    } else if (!strcmp(url, "/metrics") && s->cfg.metrics_token[0] &&
               !(q.auth && !strncmp(q.auth, "Bearer ", 7) && vf_srv_key_equal(q.auth + 7, s->cfg.metrics_token))) {
        vf_srv_reply_error(&r, 401, "unauthorized", "/metrics needs its token (Authorization: Bearer)");
        r.route = "metrics";
        www_auth = "Bearer";
    } else if (s->cfg.limits.per_ip_rate > 0 && (!strncmp(url, "/v1/", 4) || !strncmp(url, "/demo/", 6)) &&
               !vf_srv_ratelimit_take(s->ip_limit, remote, vf_srv_mono_s())) {
        /* counted in the metrics, not audited: an audit write per flooded request would be the
         * amplification the limit exists to prevent */
        vf_srv_reply_error(&r, 429, "rate_limited", "too many requests from this address");
        r.route = "rate_limited";
    } else if (is_result(method, url)) {
        /* admission: past the limit a verification is refused at once rather than queued, so the
         * admitted ones keep their latency (docs/SERVER.md "Load shedding") */
        if (__atomic_add_fetch(&s->results_in_flight, 1, __ATOMIC_ACQ_REL) > s->cfg.limits.max_results_in_flight) {
            vf_srv_reply_error(&r, 503, "overloaded", "too many verifications in progress, retry shortly");
            r.route = "shed";   /* its own label: the result histogram keeps the admitted ones' latency */
            retry_after = 1;
        } else {
            vf_srv_route(s, &q, &r);
        }
        __atomic_sub_fetch(&s->results_in_flight, 1, __ATOMIC_ACQ_REL);
    } else {
        vf_srv_route(s, &q, &r);
    }
    /* the body is no longer needed: its memory and its reservation go back now */
    free(cc->body);
    cc->body = NULL;
    cc->len = cc->cap = 0;
    vf_srv_door_body_done(s->door, cc->conn);
    int status = r.status;
    const char *route = r.route;
    enum MHD_Result ok = send_reply(c, &r, retry_after, www_auth);
    free(r.body);
    if (r.fd >= 0) close(r.fd);
    vf_srv_metrics_request(s->metrics, route, status, vf_srv_mono_s() - cc->t0);
    return ok;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    vf_srv *s = cls;
    conn_ctx *cc = *con_cls;
    if (!cc) return;
    free(cc->body);
    vf_srv_door_body_done(s->door, cc->conn);
    free(cc);
    *con_cls = NULL;
}

/* The front door's record travels with the connection (MHD's socket context). */
static void connection_notify(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code) {
    vf_srv *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? vf_srv_door_take(s->door, ci->connect_fd) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        vf_srv_door_closed(s->door, *socket_context);
        *socket_context = NULL;
    }
}

typedef struct head_text { char *b; size_t n, cap; } head_text;

static void add_text(void *arg, const char *name, const char *value) {
    head_text *t = arg;
    int w = snprintf(t->b + t->n, t->cap - t->n, "%s: %s\r\n", name, value);
    if (w > 0 && (size_t)w < t->cap - t->n) t->n += (size_t)w; else t->n = t->cap;   /* over: refused below */
}

/* The front door's static answers (vf_srv_serve_fn): the same file, status and header fields as
 * through libmicrohttpd, the path percent-decoded as libmicrohttpd does. */
static int serve(vf_srv *s, const vf_srv_head *h, int keep, vf_srv_door_answer *a) {
    int head_only = !strcmp(h->method, "HEAD");
    if ((strcmp(h->method, "GET") && !head_only) || h->path[0] != '/') return 1;
    char url[sizeof h->path];
    memcpy(url, h->path, sizeof url);
    MHD_http_unescape(url);
    if (!vf_srv_route_static(url)) return 1;
    vf_srv_request q = {.method = h->method, .url = url, .remote = "", .if_none_match = h->if_none_match[0] ? h->if_none_match : NULL,
                        .version = h->version[0] ? h->version : NULL, .accept_gzip = h->accept_gzip};
    vf_srv_reply r = {0};
    r.fd = -1;
    vf_srv_static(s, &q, &r);
    if (!r.body && r.fd < 0) vf_srv_reply_error(&r, 500, "internal", "no response");
    size_t body = r.fd >= 0 || head_only ? 0 : r.len;
    head_text t = {malloc(4096 + body), 0, 4096};
    if (!t.b) { free(r.body); if (r.fd >= 0) close(r.fd); return -1; }
    t.n = vf_srv_status_line(t.b, t.cap, r.status);
    vf_srv_reply_headers(&r, add_text, &t);
    char len[32];
    snprintf(len, sizeof len, "%llu", (unsigned long long)(r.fd >= 0 ? r.fd_size : r.len));
    if (r.status != 304) add_text(&t, "Content-Length", len);
    if (!keep) add_text(&t, "Connection", "close");
    else {   /* how long the front door waits for the next head: clients that read it close first */
        char ka[32];
        const vf_srv_limits *L = &s->cfg.limits;
        snprintf(ka, sizeof ka, "timeout=%d", (int)(L->header_timeout_s < L->request_timeout_s ? L->header_timeout_s : L->request_timeout_s));
        add_text(&t, "Keep-Alive", ka);
    }
    if (t.n + 2 >= t.cap) { free(t.b); free(r.body); if (r.fd >= 0) close(r.fd); return -1; }
    memcpy(t.b + t.n, "\r\n", 2);
    t.n += 2;
    if (body) memcpy(t.b + t.n, r.body, body);
    *a = (vf_srv_door_answer){.head = t.b, .len = t.n + body, .file = head_only && r.fd >= 0 ? (close(r.fd), -1) : r.fd,
                              .size = r.fd_size, .status = r.status};
    free(r.body);
    return 0;
}

static int handoff(vf_srv *s, int fd, const struct sockaddr_in *sa) {
    return MHD_add_connection(s->daemon, fd, (const struct sockaddr *)sa, sizeof *sa) == MHD_YES ? 0 : -1;
}

static size_t metrics_extra(void *arg, char *b, size_t cap) {
    vf_srv *s = arg;
    size_t n = 0;
    if (!s->door) return 0;
    vf_srv_door_stats st;
    vf_srv_door_get_stats(s->door, &st);
#define OUT(...) do { int w_ = snprintf(b + n, cap - n, __VA_ARGS__); if (w_ > 0 && (size_t)w_ < cap - n) n += (size_t)w_; } while (0)
    OUT("# HELP veriface_connections_open Connections open (front door and libmicrohttpd).\n# TYPE veriface_connections_open gauge\n");
    OUT("veriface_connections_open %d\nveriface_connections_in_front_door %d\n", st.open, st.in_door);
    OUT("# HELP veriface_body_budget_bytes Declared request bodies reserved now, and the budget.\n# TYPE veriface_body_budget_bytes gauge\n");
    OUT("veriface_body_budget_bytes{state=\"reserved\"} %zu\nveriface_body_budget_bytes{state=\"limit\"} %zu\n", st.budget_used, st.budget);
    OUT("# HELP veriface_results_in_flight Result requests admitted now, and the admission limit.\n# TYPE veriface_results_in_flight gauge\n");
    OUT("veriface_results_in_flight{state=\"admitted\"} %d\nveriface_results_in_flight{state=\"limit\"} %d\n",
        __atomic_load_n(&s->results_in_flight, __ATOMIC_RELAXED), s->cfg.limits.max_results_in_flight);
    OUT("# HELP veriface_frontdoor_refused_total Connections refused or answered by the front door, by reason.\n"
        "# TYPE veriface_frontdoor_refused_total counter\n");
    for (int i = 0; i < 8; i++) OUT("veriface_frontdoor_refused_total{reason=\"%s\"} %llu\n", vf_srv_door_reasons[i], st.refused[i]);
#undef OUT
    return n;
}

int vf_srv_http_start(vf_srv *s, int *port_out, char *err, size_t es) {
    /* a thread per connection: a verification blocking its handler never delays another
     * connection (the front door bounds their number); no listening socket of its own */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.limits.request_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.limits.max_connections + 16,   /* the front door counts */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, connection_notify, s,
        MHD_OPTION_END);
    if (!d) { snprintf(err, es, "cannot start libmicrohttpd"); return -1; }
    s->daemon = d;
    if (vf_srv_door_start(s, handoff, serve, &s->door, port_out, err, es)) {
        MHD_stop_daemon(d);
        s->daemon = NULL;
        return -1;
    }
    vf_srv_metrics_set_extra(s->metrics, metrics_extra, s);
    return 0;
}

void vf_srv_http_stop(vf_srv *s) {
    vf_srv_door_stop(s->door);   /* no new connections; those still in the front door closed */
    /* requests in flight finish and their answers go out (bounded: a stalled client is cut off) */
    double t0 = vf_srv_mono_s();
    while (s->door && vf_srv_door_open(s->door) > 0 && vf_srv_mono_s() - t0 < 10) usleep(10000);
    if (s->daemon) MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    vf_srv_metrics_set_extra(s->metrics, NULL, NULL);
    vf_srv_door_free(s->door);
    s->door = NULL;
}
