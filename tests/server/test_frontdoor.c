/* test_frontdoor.c - the front door's request-head reader (src/server/frontdoor.c), table-driven:
 * where a head ends (CRLF, bare LF, split over reads, over the size limit) and what is refused
 * (request line, version, Host, header syntax, Content-Length forms, Transfer-Encoding). */
#include "../../src/server/frontdoor.h"

#include <stdio.h>
#include <string.h>

/* frontdoor.c's links into the server, not exercised here */
const char *const vf_srv_common_headers[][2] = {{NULL, NULL}};
const char vf_srv_page_csp[] = "";
void vf_srv_metrics_request(vf_srv_metrics *m, const char *route, int status, double seconds) {
    (void)m, (void)route, (void)status, (void)seconds;
}

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static const struct { const char *head; int status; long long cl; const char *path; } CASES[] = {
    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, -1, "/"},
    {"GET /healthz?a=1 HTTP/1.0\r\n\r\n", 0, -1, "/healthz"},                        /* 1.0: Host optional */
    {"POST /v1/sessions/ab/result HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n", 0, 12, "/v1/sessions/ab/result"},
    {"POST / HTTP/1.1\r\nHost: x\r\ncontent-length:  7 \r\nContent-Length: 7\r\n\r\n", 0, 7, "/"},   /* same value twice */
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n", 400, 0, NULL},
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7, 7\r\n\r\n", 400, 0, NULL},     /* a list: libmicrohttpd reads it otherwise */
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, 0, NULL},
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400, 0, NULL},
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400, 0, NULL},
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0, 9223372036854775807LL, "/"},   /* 413 later */
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0, NULL},
    {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400, 0, NULL},
    {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 411, 0, NULL},
    {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 411, 0, NULL},
    {"GET / HTTP/1.1\r\n\r\n", 400, 0, NULL},                                           /* no Host */
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0, NULL},
    {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, 0, NULL},
    {"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505, 0, NULL},
    {"GET / HTTP/1.1x\r\nHost: x\r\n\r\n", 400, 0, NULL},
    {"GET / HTTP/11\r\nHost: x\r\n\r\n", 400, 0, NULL},
    {"GET / FTP/1.1\r\nHost: x\r\n\r\n", 400, 0, NULL},
    {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, NULL},
    {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400, 0, NULL},
    {"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, NULL},
    {"GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, NULL},                /* authority form */
    {"GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n", 0, -1, "http://x/healthz"},  /* absolute form */
    {"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 0, -1, "*"},
    {"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, NULL},
    {"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, 0, NULL},
    {"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400, 0, NULL},
    {"GET / HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n", 400, 0, NULL},
    {"GET / HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n", 400, 0, NULL},
    {"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", 400, 0, NULL},             /* obs-fold */
    {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01" "b\r\n\r\n", 400, 0, NULL},
    {"GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\xc3\xa9\tok\r\n\r\n", 0, -1, "/"},       /* obs-text, HTAB */
    {"GET / HTTP/1.1\nHost: x\n\n", 400, 0, NULL},                                      /* bare LF */
    {"GET / HTTP/1.1\r\nHost: x\n\r\n", 400, 0, NULL},
};

int main(void) {
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const char *t = CASES[i].head;
        size_t n = strlen(t), scanned = 0;
        long end = vf_srv_head_end(t, n, 16384, &scanned);
        CHECK(end == (long)n, "case %zu: head end %ld of %zu", i, end, n);
        vf_srv_head h;
        int rc = vf_srv_head_parse(t, n, &h);
        CHECK((rc == 0) == (CASES[i].status == 0) && h.status == CASES[i].status, "case %zu: status %d, want %d (%s)", i, h.status,
              CASES[i].status, h.message ? h.message : "");
        if (CASES[i].status == 0) {
            CHECK(h.content_length == CASES[i].cl, "case %zu: content length %lld, want %lld", i, h.content_length, CASES[i].cl);
            CHECK(!strcmp(h.path, CASES[i].path), "case %zu: path %s", i, h.path);
        } else {
            CHECK(h.code && h.message, "case %zu: a code and a message", i);
        }
    }
    /* Accept-Encoding: may the precompressed file be sent? (q-values, "*", a Range asks for identity) */
    static const struct { const char *fields; int gzip; } AE[] = {
        {"", 0}, {"Accept-Encoding: gzip\r\n", 1}, {"Accept-Encoding: gzip, deflate, br, zstd\r\n", 1},
        {"Accept-Encoding: br;q=1.0, GZip;q=0.5\r\n", 1}, {"Accept-Encoding: gzip;q=0\r\n", 0},
        {"Accept-Encoding: gzip ; q=0.000, *\r\n", 0}, {"Accept-Encoding: gzip;q=0.001\r\n", 1},
        {"Accept-Encoding: *\r\n", 1}, {"Accept-Encoding: *;q=0\r\n", 0}, {"Accept-Encoding: identity\r\n", 0},
        {"Accept-Encoding: x-gzip\r\n", 1}, {"Accept-Encoding: gzipx, deflate\r\n", 0}, {"Accept-Encoding: br\r\nAccept-Encoding: gzip\r\n", 1},
        {"Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n", 0}, {"Accept-Encoding: deflate;q=0.5, gzip;level=9\r\n", 1},
    };
    for (size_t i = 0; i < sizeof AE / sizeof AE[0]; i++) {
        char t[256];
        snprintf(t, sizeof t, "GET /a.js HTTP/1.1\r\nHost: x\r\n%s\r\n", AE[i].fields);
        vf_srv_head h;
        CHECK(vf_srv_head_parse(t, strlen(t), &h) == 0 && h.accept_gzip == AE[i].gzip, "accept-encoding case %zu: gzip %d, want %d", i,
              h.accept_gzip, AE[i].gzip);
    }
    /* the end found across reads, byte by byte, with the progress kept */
    const char *head = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
    size_t want = strlen(head) - 2, scanned = 0;
    long end = 0;
    size_t k;
    for (k = 1; k <= strlen(head) && end == 0; k++) end = vf_srv_head_end(head, k, 16384, &scanned);
    CHECK(end == (long)want && k - 1 == want, "byte by byte: end %ld at %zu, want %zu", end, k - 1, want);
    scanned = 0;
    CHECK(vf_srv_head_end("GET / HTTP/1.1\r\nHost: x\r\n", 26, 16384, &scanned) == 0, "incomplete");
    /* the limit: a head of exactly max bytes is whole, one byte more is too large */
    char big[300];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    memcpy(big + 100 - 4, "\r\n\r\n", 4);
    scanned = 0;
    CHECK(vf_srv_head_end(big, 100, 100, &scanned) == 100, "exactly the limit");
    scanned = 0;
    CHECK(vf_srv_head_end(big, 100, 99, &scanned) == -1, "one over the limit");
    scanned = 0;
    CHECK(vf_srv_head_end(big, 90, 99, &scanned) == 0, "under the limit, incomplete");
    scanned = 0;
    CHECK(vf_srv_head_end(big, 300, 200, &scanned) == 100, "complete within the limit, more bytes after");
    printf("%s: %zu heads, %d failure(s)\n", failures ? "FAIL" : "ok", sizeof CASES / sizeof CASES[0], failures);
    return failures ? 1 : 0;
}
