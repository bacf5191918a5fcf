/* multipart.c - multipart/form-data (multipart.h). The body is in memory already (the front door
 * reserved its declared length), so the parts are found with memmem and point into it. Strict:
 * anything not a well-formed form of named parts is refused with its reason. */
#define _GNU_SOURCE
#include "multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int vf_mp_is_multipart(const char *ct) {
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    return !strncasecmp(ct, "multipart/form-data", 19) && (ct[19] == ';' || ct[19] == ' ' || !ct[19]);
}

/* boundary=... (quoted or not; RFC 2046: 1..70 characters) */
static int boundary_of(const char *ct, char *out, size_t cap) {
    const char *p = ct;
    while ((p = strcasestr(p, "boundary="))) {
        if (p == ct || p[-1] == ';' || p[-1] == ' ') break;
        p += 9;
    }
    if (!p) return -1;
    p += 9;
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (p[n] && p[n] != '"') n++;
        if (p[n] != '"') return -1;
    } else {
        while (p[n] && p[n] != ';' && p[n] != ' ') n++;
    }
    if (n < 1 || n > 70 || n + 1 > cap) return -1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

/* name="..." of the part's Content-Disposition: form-data header */
static int part_name(const uint8_t *h, size_t hl, char *out, size_t cap) {
    const uint8_t *line = h, *end = h + hl;
    while (line < end) {
        const uint8_t *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        size_t ll = eol ? (size_t)(eol - line) : (size_t)(end - line);
        if (ll > 20 && !strncasecmp((const char *)line, "content-disposition:", 20)) {
            char buf[512];
            if (ll >= sizeof buf) return -1;
            memcpy(buf, line, ll);
            buf[ll] = 0;
            if (!strcasestr(buf, "form-data")) return -1;
            const char *p = buf;
            while ((p = strstr(p, "name=\""))) {
                if (p[-1] == ' ' || p[-1] == ';') break;   /* not filename= */
                p += 6;
            }
            if (!p) return -1;
            p += 6;
            const char *q = strchr(p, '"');
            if (!q || q == p || (size_t)(q - p) >= cap) return -1;
            memcpy(out, p, (size_t)(q - p));
            out[q - p] = 0;
            return 0;
        }
        line += ll + 2;
    }
    return -1;
}

int vf_mp_parse(const char *ct, const uint8_t *body, size_t len, vf_mp_part *parts, char *err, size_t es) {
    char b[80], delim[84];
    if (!vf_mp_is_multipart(ct) || boundary_of(ct, b, sizeof b)) { snprintf(err, es, "multipart/form-data needs a boundary of 1..70 characters"); return -1; }
    size_t dl = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", b);
    /* the first delimiter may open the body without its CRLF */
    const uint8_t *p;
    if (len >= dl - 2 && !memcmp(body, delim + 2, dl - 2)) p = body + dl - 2;
    else {
        p = memmem(body, len, delim, dl);
        if (!p) { snprintf(err, es, "multipart body: no boundary"); return -1; }
        p += dl;
    }
    const uint8_t *end = body + len;
    int n = 0;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return n;   /* the closing delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') { snprintf(err, es, "multipart body: bad delimiter line"); return -1; }
        p += 2;
        const uint8_t *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend) { snprintf(err, es, "multipart part %d: headers not ended", n + 1); return -1; }
        const uint8_t *next = memmem(hend + 4, (size_t)(end - hend - 4), delim, dl);
        if (!next) { snprintf(err, es, "multipart body: no closing delimiter"); return -1; }
        if (n == VF_MP_MAX_PARTS) { snprintf(err, es, "multipart body: more than %d parts", VF_MP_MAX_PARTS); return -1; }
        vf_mp_part *m = &parts[n];
        if (part_name(p, (size_t)(hend - p), m->name, sizeof m->name)) {
            snprintf(err, es, "multipart part %d: no Content-Disposition: form-data with a name under 64 bytes", n + 1);
            return -1;
        }
        if (vf_mp_find(parts, n, m->name)) { snprintf(err, es, "multipart: field %s twice", m->name); return -1; }
        m->data = hend + 4;
        m->len = (size_t)(next - m->data);
        n++;
        p = next + dl;
    }
}

const vf_mp_part *vf_mp_find(const vf_mp_part *parts, int n, const char *name) {
    for (int i = 0; i < n; i++) if (!strcmp(parts[i].name, name)) return &parts[i];
    return NULL;
}
