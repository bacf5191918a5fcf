/* frontdoor.h - the server's own listening socket in front of libmicrohttpd (frontdoor.c): every
 * connection is accepted here, counted per client address and in total, its request head is read
 * (MSG_PEEK, so the bytes stay for libmicrohttpd) under a deadline that does not restart on each
 * byte, checked, and its declared body reserved from a global memory budget; only then is it
 * handed to libmicrohttpd (MHD_add_connection). Whatever the front door refuses it answers itself,
 * as JSON with the headers of every other answer, and closes. Static files (GET, no body) it
 * answers itself too, and keeps the connection for the next head, which passes the same checks
 * under a new deadline. docs/SERVER.md "The front door". */
#ifndef VF_SRV_FRONTDOOR_H
#define VF_SRV_FRONTDOOR_H

#include "server.h"

#include <netinet/in.h>

/* ---- the request head (pure: unit-testable) ------------------------------------------------ */

typedef struct vf_srv_head {
    int status;                       /* 0 = acceptable, else the status to answer (400, 411, 431, 505) */
    const char *code, *message;       /* the JSON error when status != 0 */
    char method[16];
    char path[1040];                  /* the target's path, still percent-encoded ("" when longer) */
    char version[80];                 /* the `v` query argument, raw ("" when absent or longer) */
    char if_none_match[256];          /* If-None-Match ("" when absent or longer) */
    int accept_gzip;                  /* Accept-Encoding allows gzip (q > 0, by name or by "*"), and no Range */
    int minor;                        /* HTTP/1.minor */
    int close;                        /* the client asks to close after this answer (HTTP/1.0, Connection: close) */
    long long content_length;         /* -1 = none; LLONG_MAX = more digits than fit */
} vf_srv_head;

/* The end of the head in b[0..n): its length (through the empty line) when complete, 0 when more
 * bytes are needed, -1 when it is over `max` bytes. `*scanned` (start 0) remembers how far it got. */
long vf_srv_head_end(const char *b, size_t n, size_t max, size_t *scanned);
/* Parse a complete head of `len` bytes (vf_srv_head_end). 0 = acceptable, -1 = h->status says why
 * not: malformed request line or header field, bare LF, obs-fold, missing or repeated Host (1.1),
 * a Content-Length that is not 1*DIGIT, or two differing ones -> 400; Content-Length with Transfer-Encoding -> 400; any
 * Transfer-Encoding alone -> 411 (bodies must declare their length); a version other than
 * HTTP/1.x -> 505. */
int vf_srv_head_parse(const char *b, size_t len, vf_srv_head *h);

/* ---- the headers every answer carries (http.c) ------------------------------------------------ */

extern const char *const vf_srv_common_headers[][2];   /* {name, value}, ends with {NULL, NULL} */
extern const char vf_srv_page_csp[];                   /* Content-Security-Policy of pages and scripts */
/* An answer's header fields after its status line (not Date, Content-Length or Connection). */
void vf_srv_reply_headers(const vf_srv_reply *r, void (*add)(void *arg, const char *name, const char *value), void *arg);

/* ---- the front door ------------------------------------------------------------------------ */

typedef struct vf_srv_door vf_srv_door;
typedef struct vf_srv_conn vf_srv_conn;                /* one accepted connection, until it closes */

/* Hand an accepted, checked connection to libmicrohttpd: 0 = taken (even if it then failed: the
 * fd is no longer ours). */
typedef int (*vf_srv_handoff_fn)(vf_srv *s, int fd, const struct sockaddr_in *sa);
/* A static file's answer, for the front door to write: `head` (malloc'd: status line, fields, a
 * small body), then `file` (-1: none; the front door closes it) from offset 0 to `size`. */
typedef struct vf_srv_door_answer { char *head; size_t len; int file; uint64_t size; int status; } vf_srv_door_answer;
/* Answer a checked head from the static directory: 0 = answered (`keep`: without Connection:
 * close), 1 = not a static file's request (hand it over), -1 = out of memory. */
typedef int (*vf_srv_serve_fn)(vf_srv *s, const vf_srv_head *h, int keep, vf_srv_door_answer *a);

/* "HTTP/1.1 <status> <reason>\r\nDate: ...\r\n" into out: its length (0: did not fit). */
size_t vf_srv_status_line(char *out, size_t cap, int status);

/* Listen on cfg.listen_host:listen_port and start the acceptor thread. */
int vf_srv_door_start(vf_srv *s, vf_srv_handoff_fn handoff, vf_srv_serve_fn serve, vf_srv_door **out, int *port_out,
                      char *err, size_t errsz);
/* Stop accepting, close every connection still in the front door, join the thread. */
void vf_srv_door_stop(vf_srv_door *d);
void vf_srv_door_free(vf_srv_door *d);
/* libmicrohttpd started the connection on `fd`: its record (NULL if not the front door's). */
vf_srv_conn *vf_srv_door_take(vf_srv_door *d, int fd);
/* The request's body is no longer held: its reservation goes back to the budget. */
void vf_srv_door_body_done(vf_srv_door *d, vf_srv_conn *c);
/* libmicrohttpd closed the connection: the counts and any reservation go back; c is freed. */
void vf_srv_door_closed(vf_srv_door *d, vf_srv_conn *c);
/* Connections open (front door and libmicrohttpd). */
int vf_srv_door_open(vf_srv_door *d);
/* An answer of the front door in the metrics: route "frontdoor", the status, and a reason. */
typedef struct vf_srv_door_stats {
    int open, in_door;                /* connections: all, and those still in the front door */
    size_t budget, budget_used;       /* body budget: bytes, bytes reserved now */
    unsigned long long refused[8];    /* by reason: see vf_srv_door_reasons */
} vf_srv_door_stats;
extern const char *const vf_srv_door_reasons[8];
void vf_srv_door_get_stats(vf_srv_door *d, vf_srv_door_stats *st);

/* ---- metrics additions (metrics.c) ----------------------------------------------------------- */

/* Extra exposition text appended to /metrics (gauges of the front door and the admission). */
typedef size_t (*vf_srv_metrics_extra_fn)(void *arg, char *buf, size_t cap);
void vf_srv_metrics_set_extra(vf_srv_metrics *m, vf_srv_metrics_extra_fn fn, void *arg);

#endif
