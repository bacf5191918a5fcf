/* frontdoor.c - the listening socket in front of libmicrohttpd (see frontdoor.h and docs/SERVER.md
 * "The front door"). One thread, one epoll set: accept, count, peek at the head until it is
 * complete or its deadline passes, check it, reserve its body, hand it over - or, for a static
 * file, answer it here and keep the connection for its next head (a page's modules, wasm and
 * models then cost no TCP handshake each). Refusals are answered
 * here, the unread input drained, and the socket kept half-open a moment (a lingering close) so the
 * client reads the answer instead of a reset. */
#define _GNU_SOURCE
#include "frontdoor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- the request head --------------------------------------------------------------------------- */

long vf_srv_head_end(const char *b, size_t n, size_t max, size_t *scanned) {
    size_t lim = n < max ? n : max, i = *scanned;
    for (; i < lim; i++) {
        if (b[i] != '\n') continue;
        if (i + 1 >= lim) break;                  /* cannot tell yet */
        if (b[i + 1] == '\n') return (long)(i + 2);
        if (b[i + 1] != '\r') continue;
        if (i + 2 >= lim) break;
        if (b[i + 2] == '\n') return (long)(i + 3);
    }
    *scanned = i;
    return n > max ? -1 : 0;
}

static int tchar(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int name_is(const char *p, size_t n, const char *name) {
    if (strlen(name) != n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return 0;
    }
    return 1;
}

#define OWS(c) ((c) == ' ' || (c) == '\t')

/* One Accept-Encoding field: its gzip (or x-gzip) and "*" entries, each 1 (q > 0), 0 (q=0) or
 * left alone (absent). A qvalue is "0" or "1" with up to three decimals: any non-zero digit is q > 0. */
static void accept_encoding(const char *v, const char *ve, int *gz, int *star) {
    while (v < ve) {
        const char *e = memchr(v, ',', (size_t)(ve - v));
        e = e ? e : ve;
        const char *t = v;
        while (t < e && OWS(*t)) t++;
        const char *te = t;
        while (te < e && tchar((unsigned char)*te)) te++;
        int q = 1;
        for (const char *x = te; x < e; x++) {   /* ;q=... (another parameter is ignored) */
            if (*x != ';') continue;
            const char *y = x + 1;
            while (y < e && OWS(*y)) y++;
            if (y + 1 < e && (*y == 'q' || *y == 'Q') && y[1] == '=') {
                q = 0;
                for (y += 2; y < e && ((*y >= '0' && *y <= '9') || *y == '.'); y++) if (*y >= '1' && *y <= '9') q = 1;
            }
        }
        if (name_is(t, (size_t)(te - t), "gzip") || name_is(t, (size_t)(te - t), "x-gzip")) *gz = *gz == 0 ? 0 : q;
        else if (te - t == 1 && *t == '*') *star = q;
        v = e + 1;
    }
}
#define BAD(st, c, m) do { h->status = (st); h->code = (c); h->message = (m); return -1; } while (0)

int vf_srv_head_parse(const char *b, size_t len, vf_srv_head *h) {
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    const char *p = b, *e = b + len;
    /* request line: method SP target SP HTTP/d.d CRLF */
    const char *eol = memchr(p, '\n', (size_t)(e - p));
    if (!eol || eol == p || eol[-1] != '\r') BAD(400, "bad_request", "lines must end with CRLF");
    const char *le = eol - 1, *q = p;
    while (q < le && tchar((unsigned char)*q)) q++;
    if (q == p || q >= le || *q != ' ' || (size_t)(q - p) >= sizeof h->method) BAD(400, "bad_request", "malformed request line");
    memcpy(h->method, p, (size_t)(q - p));
    const char *t = ++q;
    while (q < le && (unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f) q++;
    if (q == t || q >= le || *q != ' ') BAD(400, "bad_request", "malformed request line");
    if (!(*t == '/' || (q - t == 1 && *t == '*') || (q - t > 7 && !strncmp(t, "http://", 7)) || (q - t > 8 && !strncmp(t, "https://", 8))))
        BAD(400, "bad_request", "the request target must be a path");
    const char *qs = memchr(t, '?', (size_t)(q - t)), *pe = qs ? qs : q;
    if ((size_t)(pe - t) < sizeof h->path) memcpy(h->path, t, (size_t)(pe - t));
    for (const char *a = qs; a && a < q; a = memchr(a + 1, '&', (size_t)(q - a - 1))) {   /* the `v` argument */
        const char *ae = memchr(a + 1, '&', (size_t)(q - a - 1));
        ae = ae ? ae : q;
        if (ae - a > 2 && a[1] == 'v' && a[2] == '=' && (size_t)(ae - a - 3) < sizeof h->version && !h->version[0])
            memcpy(h->version, a + 3, (size_t)(ae - a - 3));
    }
    const char *v = ++q;
    if (le - v != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9')
        BAD(400, "bad_request", "malformed HTTP version");
    if (v[5] != '1') BAD(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
    h->minor = v[7] - '0';
    h->close = h->minor == 0;   /* HTTP/1.0: one request (its keep-alive extension is not offered) */
    /* header fields: token ":" OWS value OWS CRLF, up to the empty line */
    int hosts = 0, te = 0, gz = -1, star = -1, range = 0;
    long long cl = -1;
    for (p = eol + 1;; p = eol + 1) {
        eol = p < e ? memchr(p, '\n', (size_t)(e - p)) : NULL;
        if (!eol || eol == p || eol[-1] != '\r') BAD(400, "bad_request", "lines must end with CRLF");
        le = eol - 1;
        if (le == p) break;
        if (OWS(*p)) BAD(400, "bad_request", "obsolete line folding in the head");
        for (q = p; q < le && tchar((unsigned char)*q);) q++;
        if (q == p || q >= le || *q != ':') BAD(400, "bad_request", "malformed header field");
        const char *name = p, *val = q + 1, *ve = le;
        size_t nl = (size_t)(q - p);
        while (val < ve && OWS(*val)) val++;
        while (ve > val && OWS(ve[-1])) ve--;
        for (const char *x = val; x < ve; x++) {
            unsigned char c = (unsigned char)*x;
            if ((c < 0x20 && c != '\t') || c == 0x7f) BAD(400, "bad_request", "control character in a header field");
        }
        if (name_is(name, nl, "host")) hosts++;
        else if (name_is(name, nl, "if-none-match")) {
            if ((size_t)(ve - val) < sizeof h->if_none_match) { memcpy(h->if_none_match, val, (size_t)(ve - val)); h->if_none_match[ve - val] = 0; }
        } else if (name_is(name, nl, "connection")) {
            for (const char *x = val; x + 5 <= ve; x++)   /* a "close" token in the list */
                if (name_is(x, 5, "close") && (x == val || x[-1] == ',' || OWS(x[-1])) && (x + 5 == ve || x[5] == ',' || OWS(x[5]))) h->close = 1;
        }
        else if (name_is(name, nl, "transfer-encoding")) te = 1;
        else if (name_is(name, nl, "accept-encoding")) accept_encoding(val, ve, &gz, &star);
        else if (name_is(name, nl, "range")) range = 1;   /* answered whole, so as the file on disk */
        else if (name_is(name, nl, "content-length")) {
            /* 1*DIGIT; the same value repeated in another field is one length, a different one is
             * an attempt to make two parsers disagree (a list "5, 5" is refused: libmicrohttpd
             * would read it differently) */
            const char *x = val;
            long long n = 0;
            for (; x < ve && *x >= '0' && *x <= '9'; x++) n = n > (LLONG_MAX - 9) / 10 ? LLONG_MAX : n * 10 + (*x - '0');
            if (x == val || x != ve) BAD(400, "bad_request", "Content-Length is not a number");
            if (cl >= 0 && n != cl) BAD(400, "bad_request", "conflicting Content-Length values");
            cl = n;
        }
    }
    if (te && cl >= 0) BAD(400, "bad_request", "Content-Length together with Transfer-Encoding");
    if (te) BAD(411, "length_required", "a request body must declare its Content-Length (chunked bodies are not accepted)");
    if (h->minor >= 1 ? hosts != 1 : hosts > 1) BAD(400, "bad_request", "exactly one Host header is required");
    h->content_length = cl;
    h->accept_gzip = !range && (gz == 1 || (gz == -1 && star == 1));
    return 0;
}

/* ---- the front door ---------------------------------------------------------------------------- */

enum { ST_HEAD = 0, ST_LINGER = 1, ST_SEND = 2, ST_MHD = 3, ST_DEAD = 4 };   /* the first three: in the front door */
enum { R_BAD, R_TIMEOUT, R_TOO_LARGE, R_PER_ADDRESS, R_CONNECTIONS, R_BUDGET, R_OVERLOADED, R_EVICTED };
const char *const vf_srv_door_reasons[8] = {"bad_request", "header_timeout", "body_too_large", "per_address",
                                            "connections", "body_budget", "overloaded", "evicted"};

#define LINGER_S 2.0       /* how long a refused connection is drained before it is closed */
#define MAX_SERVED 1000    /* static answers on one connection; the last one closes it */

struct vf_srv_conn {
    int fd, state, slot;              /* slot: its address's entry, -1 = not counted per address */
    struct sockaddr_in sa;
    size_t reserved;                  /* body budget held */
    double t0, deadline;
    size_t scanned;                   /* vf_srv_head_end's progress */
    int served;                       /* static answers sent (kept alive between them) */
    vf_srv_door_answer out;           /* ST_SEND: the answer being written */
    size_t out_off;
    off_t file_off;
    int keep;                         /* back to ST_HEAD once `out` is written, else closed */
    vf_srv_conn *prev, *next;         /* its state's list (front door only), in deadline order */
};

typedef struct addr_slot { uint32_t addr; int count; size_t reserved; } addr_slot;
typedef struct conn_list { vf_srv_conn *first, *last; } conn_list;

struct vf_srv_door {
    vf_srv *s;
    vf_srv_handoff_fn handoff;
    vf_srv_serve_fn serve;
    int lfd, ep, wake;
    pthread_t th;
    int running;
    pthread_mutex_t mu;               /* guards: open, used, slots, byfd, refused */
    int open, max_open, per_ip;
    uint32_t proxy;
    int have_proxy;
    size_t budget, used, per_ip_budget;   /* all bodies; one address's (a quarter, at least max_body) */
    addr_slot *slots;                 /* max_open entries: never more distinct addresses than connections */
    vf_srv_conn **byfd;               /* handed over, not yet taken by libmicrohttpd */
    int n_fd;
    unsigned long long refused[8];
    /* the thread's own */
    conn_list list[3];                /* ST_HEAD, ST_LINGER, ST_SEND */
    int in_door;
    vf_srv_conn *dead;                /* closed during this epoll round, freed after it */
    char *peek;
    size_t max_head;
    double header_timeout, send_timeout, accept_pause_until;
};

static void list_add(conn_list *l, vf_srv_conn *c) {
    c->next = NULL;
    c->prev = l->last;
    if (l->last) l->last->next = c; else l->first = c;
    l->last = c;
}

static void list_del(conn_list *l, vf_srv_conn *c) {
    if (c->prev) c->prev->next = c->next; else l->first = c->next;
    if (c->next) c->next->prev = c->prev; else l->last = c->prev;
    c->prev = c->next = NULL;
}

/* under d->mu: one more connection for address a: its entry, or a free one (-1: none free); with
 * `capped`, -2 when the address is at its cap. */
static int slot_take(vf_srv_door *d, uint32_t a, int capped) {
    int free_i = -1, i;
    for (i = 0; i < d->max_open; i++) {
        if (d->slots[i].count && d->slots[i].addr == a) break;
        if (!d->slots[i].count && free_i < 0) free_i = i;
    }
    if (capped && i < d->max_open && d->slots[i].count >= d->per_ip) return -2;
    int k = i < d->max_open ? i : free_i;
    if (k >= 0) {
        if (!d->slots[k].count) d->slots[k].reserved = 0;
        d->slots[k].addr = a;
        d->slots[k].count++;
    }
    return k;
}

/* under d->mu: the connection no longer counts for its address (the total keeps it) */
static void slot_leave(vf_srv_door *d, vf_srv_conn *c) {
    if (c->slot >= 0 && --d->slots[c->slot].count == 0) d->slots[c->slot].addr = 0;
    c->slot = -1;
}

/* whether connections from address a are capped (the trusted proxy's are not) */
static int per_addr(const vf_srv_door *d, uint32_t a) {
    return d->per_ip > 0 && !(d->have_proxy && a == d->proxy);
}

/* A request takes a slot for its address unless its connection holds one already (a kept-alive
 * connection gave its slot up while idle); 0 = the address is at its cap. */
static int request_slot(vf_srv_door *d, vf_srv_conn *c) {
    if (c->slot >= 0 || !per_addr(d, c->sa.sin_addr.s_addr)) return 1;
    pthread_mutex_lock(&d->mu);
    c->slot = slot_take(d, c->sa.sin_addr.s_addr, 1);
    pthread_mutex_unlock(&d->mu);
    if (c->slot != -2) return 1;
    c->slot = -1;
    return 0;
}

/* under d->mu */
static void budget_release(vf_srv_door *d, vf_srv_conn *c) {
    if (c->slot >= 0) d->slots[c->slot].reserved -= c->reserved;
    d->used -= c->reserved;
    c->reserved = 0;
}

static void counts_release(vf_srv_door *d, vf_srv_conn *c) {
    budget_release(d, c);
    slot_leave(d, c);
    d->open--;
}

static void refused(vf_srv_door *d, int reason) {
    pthread_mutex_lock(&d->mu);
    d->refused[reason]++;
    pthread_mutex_unlock(&d->mu);
}

size_t vf_srv_status_line(char *out, size_t cap, int status) {
    static const struct { int st; const char *text; } REASON[] = {
        {200, "OK"}, {304, "Not Modified"}, {400, "Bad Request"}, {404, "Not Found"}, {405, "Method Not Allowed"},
        {408, "Request Timeout"}, {411, "Length Required"}, {413, "Content Too Large"}, {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"}, {503, "Service Unavailable"}, {505, "HTTP Version Not Supported"}};
    const char *text = "Error";
    for (size_t i = 0; i < sizeof REASON / sizeof REASON[0]; i++) if (REASON[i].st == status) text = REASON[i].text;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(out, cap, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, text, date);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* The JSON error answer with the headers of every answer (http.c's table), written at once: it is
 * small, the socket buffer is empty. */
static void answer(vf_srv_door *d, int fd, int status, const char *code, const char *msg, int retry_after, double t0) {
    char body[512], out[2048];
    snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, msg);  /* fixed texts, no quotes */
    size_t n = vf_srv_status_line(out, sizeof out, status);
    n += (size_t)snprintf(out + n, sizeof out - n, "Content-Type: application/json\r\n");
    for (int i = 0; vf_srv_common_headers[i][0] && n < sizeof out; i++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s: %s\r\n", vf_srv_common_headers[i][0], vf_srv_common_headers[i][1]);
    if (retry_after > 0 && n < sizeof out) n += (size_t)snprintf(out + n, sizeof out - n, "Retry-After: %d\r\n", retry_after);
    if (n < sizeof out)
        n += (size_t)snprintf(out + n, sizeof out - n, "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    if (n >= sizeof out) n = sizeof out - 1;
    ssize_t w = send(fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    vf_srv_metrics_request(d->s->metrics, "frontdoor", status, vf_srv_mono_s() - t0);
}

/* read and drop what is there; 1 = the peer closed (or failed) */
static int drain(int fd) {
    char buf[16384];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0) continue;
        if (r < 0 && errno == EINTR) continue;
        return !(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }
}

static void conn_close(vf_srv_door *d, vf_srv_conn *c) {
    if (c->state <= ST_SEND) { list_del(&d->list[c->state], c); d->in_door--; }
    free(c->out.head);
    c->out.head = NULL;
    if (c->out.file >= 0) close(c->out.file);
    c->out.file = -1;
    close(c->fd);   /* leaves the epoll set */
    pthread_mutex_lock(&d->mu);
    counts_release(d, c);
    pthread_mutex_unlock(&d->mu);
    c->state = ST_DEAD;
    c->next = d->dead;   /* an event for it may still be in this round's batch */
    d->dead = c;
}

/* From one of the front door's lists to another (each list is in deadline order: one timeout each). */
static void move(vf_srv_door *d, vf_srv_conn *c, int state, double deadline) {
    list_del(&d->list[c->state], c);
    c->state = state;
    c->deadline = deadline;
    list_add(&d->list[state], c);
}

/* Answer, then drain for LINGER_S so the client reads the answer rather than a reset. */
static void refuse(vf_srv_door *d, vf_srv_conn *c, int status, const char *code, const char *msg, int retry_after, int reason) {
    int gone = drain(c->fd);
    answer(d, c->fd, status, code, msg, retry_after, c->t0);
    refused(d, reason);
    if (gone || shutdown(c->fd, SHUT_WR)) { conn_close(d, c); return; }
    pthread_mutex_lock(&d->mu);
    budget_release(d, c);
    pthread_mutex_unlock(&d->mu);
    move(d, c, ST_LINGER, vf_srv_mono_s() + LINGER_S);
}

static int is_result_route(const vf_srv_head *h) {
    if (strcmp(h->method, "POST") || strncmp(h->path, "/v1/sessions/", 13)) return 0;
    const char *slash = strchr(h->path + 13, '/');
    return slash && !strcmp(slash, "/result");
}

static int serve_static(vf_srv_door *d, vf_srv_conn *c, const vf_srv_head *h, size_t head_len);

/* 1 = c is still the front door's (maybe closed: freed after this round); 0 = handed to libmicrohttpd,
 * which may already have freed it: the caller must not touch c again. */
static int on_head(vf_srv_door *d, vf_srv_conn *c, uint32_t events) {
    const vf_srv_limits *L = &d->s->cfg.limits;
    ssize_t n = recv(c->fd, d->peek, d->max_head + 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) { conn_close(d, c); return 1; }
    if (n < 0) return 1;
    long end = vf_srv_head_end(d->peek, (size_t)n, d->max_head, &c->scanned);
    if (end < 0) {
        refuse(d, c, 431, "header_too_large", "the request head is over the limit", 0, R_BAD);
        return 1;
    }
    if (end == 0) {
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn_close(d, c);   /* half a head, then EOF */
        return 1;
    }
    vf_srv_head h;
    if (vf_srv_head_parse(d->peek, (size_t)end, &h)) { refuse(d, c, h.status, h.code, h.message, 0, R_BAD); return 1; }
    if (h.content_length <= 0 && serve_static(d, c, &h, (size_t)end)) return 1;
    if (h.content_length > (long long)L->max_body) {
        refuse(d, c, 413, "body_too_large", "the request body is over the limit", 0, R_TOO_LARGE);
        return 1;
    }
    /* past capacity, a verification is refused before its body is read (http.c decides exactly) */
    if (is_result_route(&h) && __atomic_load_n(&d->s->results_in_flight, __ATOMIC_RELAXED) >= L->max_results_in_flight) {
        refuse(d, c, 503, "overloaded", "too many verifications in progress, retry shortly", 1, R_OVERLOADED);
        return 1;
    }
    if (!request_slot(d, c)) {   /* a kept-alive connection's next request */
        refuse(d, c, 503, "busy", "too many connections from this address, retry shortly", 1, R_PER_ADDRESS);
        return 1;
    }
    if (h.content_length > 0) {
        size_t n = (size_t)h.content_length;
        pthread_mutex_lock(&d->mu);
        /* the budget, and one address's share of it (others keep room) */
        int ok = d->used + n <= d->budget && (c->slot < 0 || d->slots[c->slot].reserved + n <= d->per_ip_budget);
        if (ok) {
            d->used += n;
            if (c->slot >= 0) d->slots[c->slot].reserved += n;
            c->reserved = n;
        }
        pthread_mutex_unlock(&d->mu);
        if (!ok) {
            refuse(d, c, 503, "busy", "too many request bodies in progress, retry shortly", 1, R_BUDGET);
            return 1;
        }
    }
    /* hand over: libmicrohttpd reads the head again from the socket */
    list_del(&d->list[ST_HEAD], c);
    d->in_door--;
    epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
    c->state = ST_MHD;
    int fd = c->fd;
    pthread_mutex_lock(&d->mu);
    d->byfd[fd] = c;
    pthread_mutex_unlock(&d->mu);
    if (d->handoff(d->s, fd, &c->sa)) {   /* libmicrohttpd failed (and closed fd): still ours if not taken */
        pthread_mutex_lock(&d->mu);
        int mine = d->byfd[fd] == c;
        if (mine) { d->byfd[fd] = NULL; counts_release(d, c); }
        pthread_mutex_unlock(&d->mu);
        if (mine) free(c);
    }
    return 0;
}

/* Write what the socket takes of the answer; once all of it is out, the connection waits for its
 * next head (kept alive: a new header deadline) or lingers closed. */
static void on_send(vf_srv_door *d, vf_srv_conn *c) {
    vf_srv_door_answer *a = &c->out;
    int moved = 0;
    /* the deadline moves with every write (a slow network is not a stalled client), as
     * libmicrohttpd's idle timeout did for these files */
#define STALLED() do { if (moved) move(d, c, ST_SEND, vf_srv_mono_s() + d->send_timeout); return; } while (0)
    while (c->out_off < a->len) {
        ssize_t w = send(c->fd, a->head + c->out_off, a->len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) STALLED();
        if (w <= 0) { conn_close(d, c); return; }
        c->out_off += (size_t)w;
        moved = 1;
    }
    while (a->file >= 0 && (uint64_t)c->file_off < a->size) {
        uint64_t left = a->size - (uint64_t)c->file_off;
        ssize_t w = sendfile(c->fd, a->file, &c->file_off, left < (1u << 20) ? (size_t)left : (1u << 20));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) STALLED();
        if (w <= 0) { conn_close(d, c); return; }   /* an error, or the file shrank under us */
        moved = 1;
    }
#undef STALLED
    free(a->head);
    a->head = NULL;
    if (a->file >= 0) close(a->file);
    a->file = -1;
    if (!c->keep) {   /* Connection: close: the client reads the answer, then sees the end */
        if (shutdown(c->fd, SHUT_WR)) conn_close(d, c); else move(d, c, ST_LINGER, vf_srv_mono_s() + LINGER_S);
        return;
    }
    /* kept alive and idle: it stops counting for its address (a browser keeps a few open between
     * requests); its next head has its own deadline, and when all connections are taken an idle
     * one is the first to go. A next request takes an address slot again. */
    pthread_mutex_lock(&d->mu);
    slot_leave(d, c);
    pthread_mutex_unlock(&d->mu);
    c->t0 = vf_srv_mono_s();
    c->scanned = 0;
    move(d, c, ST_HEAD, c->t0 + d->header_timeout);
}

/* A static file's request (GET or HEAD, no body): answered here; 0 = not one, hand it over. */
static int serve_static(vf_srv_door *d, vf_srv_conn *c, const vf_srv_head *h, size_t head_len) {
    int keep = !h->close && c->served + 1 < MAX_SERVED;
    vf_srv_door_answer a = {.file = -1};
    int rc = d->serve(d->s, h, keep, &a);
    if (rc > 0) return 0;
    if (rc < 0) { conn_close(d, c); return 1; }
    /* an answer in progress counts for its address (else one address could hold every connection
     * by reading slowly); the next head of a kept-alive connection takes its place again */
    if (!request_slot(d, c)) {
        free(a.head);
        if (a.file >= 0) close(a.file);
        refuse(d, c, 503, "busy", "too many connections from this address, retry shortly", 1, R_PER_ADDRESS);
        return 1;
    }
    /* the head leaves the socket (it was only peeked); what follows it is the next request's */
    for (size_t got = 0; got < head_len;) {
        ssize_t r = recv(c->fd, d->peek, head_len - got, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { free(a.head); if (a.file >= 0) close(a.file); conn_close(d, c); return 1; }
        got += (size_t)r;
    }
    vf_srv_metrics_request(d->s->metrics, "static", a.status, vf_srv_mono_s() - c->t0);
    c->served++;
    c->out = a;
    c->out_off = 0;
    c->file_off = 0;
    c->keep = keep;
    move(d, c, ST_SEND, vf_srv_mono_s() + d->send_timeout);
    on_send(d, c);
    return 1;
}

static void on_linger(vf_srv_door *d, vf_srv_conn *c) {
    if (drain(c->fd)) conn_close(d, c);
}

/* A kept-alive connection with no part of a next request: closed without an answer. */
static int idle(vf_srv_conn *c) {
    char b;
    return c->served > 0 && recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* A new connection when all are taken: the one longest in the front door makes room (a refused one
 * being drained first, else the slowest head). 0 = room made. */
static int evict(vf_srv_door *d) {
    vf_srv_conn *c = d->list[ST_LINGER].first;
    if (c) { conn_close(d, c); return 0; }
    for (c = d->list[ST_HEAD].first; c; c = c->next)   /* idle kept-alive ones first, whatever their deadline */
        if (idle(c)) { conn_close(d, c); return 0; }
    c = d->list[ST_HEAD].first;
    if (!c) return -1;
    drain(c->fd);
    answer(d, c->fd, 503, "busy", "too many connections, retry shortly", 1, c->t0);
    refused(d, R_EVICTED);
    conn_close(d, c);
    return 0;
}

/* A connection refused as it arrives: answered, then drained like any refusal (a close with its
 * request unread would reset it, and the client might never read the answer). It counts in the
 * total while it drains, not for its address; when all connections are taken it is closed at once. */
static void reject_new(vf_srv_door *d, int fd, const struct sockaddr_in *sa, int reason, double t0) {
    drain(fd);
    answer(d, fd, 503, "busy", reason == R_PER_ADDRESS ? "too many connections from this address, retry shortly"
                                                        : "too many connections, retry shortly", 1, t0);
    refused(d, reason);
    vf_srv_conn *c = NULL;
    pthread_mutex_lock(&d->mu);
    int room = d->open < d->max_open;
    pthread_mutex_unlock(&d->mu);
    if (room) c = calloc(1, sizeof *c);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET};
    if (!c || shutdown(fd, SHUT_WR)) { free(c); close(fd); return; }
    c->fd = fd;
    c->sa = *sa;
    c->slot = -1;
    c->t0 = t0;
    c->out.file = -1;
    c->state = ST_LINGER;
    c->deadline = vf_srv_mono_s() + LINGER_S;
    pthread_mutex_lock(&d->mu);
    d->open++;
    pthread_mutex_unlock(&d->mu);
    list_add(&d->list[ST_LINGER], c);
    d->in_door++;
    ev.data.ptr = c;
    if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev)) conn_close(d, c);
}

static void on_accept(vf_srv_door *d) {
    for (int k = 0; k < 64; k++) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(d->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors: make room, and pause accepting briefly rather than spin */
                evict(d);
                d->accept_pause_until = vf_srv_mono_s() + 0.05;
                epoll_ctl(d->ep, EPOLL_CTL_DEL, d->lfd, NULL);
            }
            return;
        }
        double t0 = vf_srv_mono_s();
        if (fd >= d->n_fd || sa.sin_family != AF_INET) { close(fd); continue; }
        uint32_t a = sa.sin_addr.s_addr;
        int counted = per_addr(d, a);
        pthread_mutex_lock(&d->mu);
        int over = 0;
        if (counted)
            for (int i = 0; i < d->max_open; i++) if (d->slots[i].count && d->slots[i].addr == a) { over = d->slots[i].count >= d->per_ip; break; }
        int full = d->open >= d->max_open;
        pthread_mutex_unlock(&d->mu);
        if (over) { reject_new(d, fd, &sa, R_PER_ADDRESS, t0); continue; }
        if (full && evict(d)) { reject_new(d, fd, &sa, R_CONNECTIONS, t0); continue; }
        vf_srv_conn *c = calloc(1, sizeof *c);
        if (!c) { close(fd); continue; }
        c->fd = fd;
        c->sa = sa;
        c->slot = -1;
        c->t0 = t0;
        c->out.file = -1;
        c->deadline = t0 + d->header_timeout;
        pthread_mutex_lock(&d->mu);
        if (counted) c->slot = slot_take(d, a, 0);   /* a free entry exists: open < max_open */
        d->open++;
        pthread_mutex_unlock(&d->mu);
        c->state = ST_HEAD;
        list_add(&d->list[ST_HEAD], c);
        d->in_door++;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev)) conn_close(d, c);
    }
}

static void expire(vf_srv_door *d, double now) {
    vf_srv_conn *c;
    while ((c = d->list[ST_LINGER].first) && c->deadline <= now) conn_close(d, c);
    while ((c = d->list[ST_SEND].first) && c->deadline <= now) conn_close(d, c);   /* a client that does not read */
    while ((c = d->list[ST_HEAD].first) && c->deadline <= now) {
        if (idle(c)) conn_close(d, c);   /* kept alive long enough */
        else refuse(d, c, 408, "header_timeout", "the request head did not arrive in time", 0, R_TIMEOUT);
    }
}

static void *door_main(void *arg) {
    vf_srv_door *d = arg;
    struct epoll_event ev[64];
    for (;;) {
        double now = vf_srv_mono_s(), next = now + 1;
        for (int k = 0; k < 3; k++) if (d->list[k].first && d->list[k].first->deadline < next) next = d->list[k].first->deadline;
        if (d->accept_pause_until > 0 && d->accept_pause_until < next) next = d->accept_pause_until;
        int timeout = next > now ? (int)((next - now) * 1000) + 1 : 0;
        int n = epoll_wait(d->ep, ev, 64, timeout);
        int stop = 0;
        for (int i = 0; i < n; i++) {
            void *p = ev[i].data.ptr;
            if (p == &d->wake) stop = 1;
            else if (p == d) on_accept(d);
            else {
                vf_srv_conn *c = p;
                if (c->state == ST_SEND) on_send(d, c);
                /* a head already there when the last answer went out raises no new edge: read on
                 * while answers complete */
                int ours = 1;
                for (int k = 0; c->state == ST_HEAD && k < MAX_SERVED; k++) {
                    int served = c->served;
                    if (!(ours = on_head(d, c, ev[i].events)) || c->served == served) break;
                }
                if (ours && c->state == ST_LINGER) on_linger(d, c);
            }
        }
        now = vf_srv_mono_s();
        expire(d, now);
        if (d->accept_pause_until > 0 && now >= d->accept_pause_until) {
            d->accept_pause_until = 0;
            struct epoll_event le = {.events = EPOLLIN, .data.ptr = d};
            epoll_ctl(d->ep, EPOLL_CTL_ADD, d->lfd, &le);
        }
        while (d->dead) { vf_srv_conn *c = d->dead; d->dead = c->next; free(c); }
        if (stop) break;
    }
    close(d->lfd);
    d->lfd = -1;
    for (int k = 0; k < 3; k++) while (d->list[k].first) conn_close(d, d->list[k].first);
    while (d->dead) { vf_srv_conn *c = d->dead; d->dead = c->next; free(c); }
    return NULL;
}

int vf_srv_door_start(vf_srv *s, vf_srv_handoff_fn handoff, vf_srv_serve_fn serve, vf_srv_door **out, int *port_out,
                      char *err, size_t es) {
    const vf_srv_config *cfg = &s->cfg;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg->listen_port);
    if (inet_pton(AF_INET, strcmp(cfg->listen_host, "localhost") ? cfg->listen_host : "127.0.0.1", &sa.sin_addr) != 1) {
        snprintf(err, es, "listen: '%s' is not an IPv4 address", cfg->listen_host);
        return -1;
    }
    vf_srv_door *d = calloc(1, sizeof *d);
    if (!d) { snprintf(err, es, "out of memory"); return -1; }
    d->s = s;
    d->handoff = handoff;
    d->serve = serve;
    d->lfd = d->ep = d->wake = -1;
    pthread_mutex_init(&d->mu, NULL);
    d->max_open = cfg->limits.max_connections;
    d->per_ip = cfg->limits.per_ip_connections;
    if (d->per_ip > d->max_open / 8) d->per_ip = d->max_open / 8 > 0 ? d->max_open / 8 : 1;   /* room for others */
    d->have_proxy = cfg->limits.trusted_proxy[0] && inet_pton(AF_INET, cfg->limits.trusted_proxy, &d->proxy) == 1;
    d->budget = cfg->limits.body_budget;
    d->per_ip_budget = d->budget / 4 > cfg->limits.max_body ? d->budget / 4 : cfg->limits.max_body;
    d->max_head = cfg->limits.max_header_size;
    /* the head's deadline: header_timeout, and never past the whole request's */
    d->header_timeout = cfg->limits.header_timeout_s < cfg->limits.request_timeout_s ? cfg->limits.header_timeout_s
                                                                                      : cfg->limits.request_timeout_s;
    d->send_timeout = cfg->limits.request_timeout_s;
    struct rlimit rl;
    d->n_fd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1u << 20) ? (int)rl.rlim_cur : 1 << 20;
    d->slots = calloc((size_t)d->max_open, sizeof *d->slots);
    d->byfd = calloc((size_t)d->n_fd, sizeof *d->byfd);
    d->peek = malloc(d->max_head + 1);
    int one = 1;
    if (!d->slots || !d->byfd || !d->peek) { snprintf(err, es, "out of memory"); goto fail; }
    d->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->lfd < 0 || setsockopt(d->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(d->lfd, (struct sockaddr *)&sa, sizeof sa) || listen(d->lfd, 1024)) {
        snprintf(err, es, "cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port, strerror(errno));
        goto fail;
    }
    socklen_t sl = sizeof sa;
    getsockname(d->lfd, (struct sockaddr *)&sa, &sl);
    *port_out = ntohs(sa.sin_port);
    d->ep = epoll_create1(EPOLL_CLOEXEC);
    d->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = d}, we = {.events = EPOLLIN, .data.ptr = &d->wake};
    if (d->ep < 0 || d->wake < 0 || epoll_ctl(d->ep, EPOLL_CTL_ADD, d->lfd, &le) || epoll_ctl(d->ep, EPOLL_CTL_ADD, d->wake, &we)) {
        snprintf(err, es, "front door: %s", strerror(errno));
        goto fail;
    }
    /* the thread takes no signals: main's sigwait does (main blocked them before starting us) */
    *out = d;                         /* before the first hand-over: libmicrohttpd looks records up here */
    if (pthread_create(&d->th, NULL, door_main, d)) { snprintf(err, es, "front door: no thread"); goto fail; }
    d->running = 1;
    return 0;
fail:
    *out = NULL;
    vf_srv_door_free(d);
    return -1;
}

void vf_srv_door_stop(vf_srv_door *d) {
    if (!d || !d->running) return;
    uint64_t one = 1;
    ssize_t w = write(d->wake, &one, sizeof one);
    (void)w;
    pthread_join(d->th, NULL);
    d->running = 0;
}

void vf_srv_door_free(vf_srv_door *d) {
    if (!d) return;
    vf_srv_door_stop(d);
    if (d->lfd >= 0) close(d->lfd);
    if (d->ep >= 0) close(d->ep);
    if (d->wake >= 0) close(d->wake);
    pthread_mutex_destroy(&d->mu);
    free(d->slots);
    free(d->byfd);
    free(d->peek);
    free(d);
}

vf_srv_conn *vf_srv_door_take(vf_srv_door *d, int fd) {
    if (!d || fd < 0 || fd >= d->n_fd) return NULL;
    pthread_mutex_lock(&d->mu);
    vf_srv_conn *c = d->byfd[fd];
    d->byfd[fd] = NULL;
    pthread_mutex_unlock(&d->mu);
    return c;
}

void vf_srv_door_body_done(vf_srv_door *d, vf_srv_conn *c) {
    if (!d || !c) return;
    pthread_mutex_lock(&d->mu);
    budget_release(d, c);
    pthread_mutex_unlock(&d->mu);
}

void vf_srv_door_closed(vf_srv_door *d, vf_srv_conn *c) {
    if (!d || !c) return;
    pthread_mutex_lock(&d->mu);
    counts_release(d, c);
    pthread_mutex_unlock(&d->mu);
    free(c);
}

int vf_srv_door_open(vf_srv_door *d) {
    pthread_mutex_lock(&d->mu);
    int n = d->open;
    pthread_mutex_unlock(&d->mu);
    return n;
}

void vf_srv_door_get_stats(vf_srv_door *d, vf_srv_door_stats *st) {
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&d->mu);
    st->open = d->open;
    st->budget = d->budget;
    st->budget_used = d->used;
    memcpy(st->refused, d->refused, sizeof st->refused);
    pthread_mutex_unlock(&d->mu);
    st->in_door = __atomic_load_n(&d->in_door, __ATOMIC_RELAXED);
}
