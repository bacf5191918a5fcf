/* json.c - see json.h. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void vf_json_init(vf_json *j, char *buf, size_t size) { j->buf = buf; j->size = size; j->len = 0; j->need_comma = 0; }

static void put(vf_json *j, const char *s, size_t n) {
    if (j->len < j->size) {
        size_t room = j->size - j->len, k = n < room ? n : room;
        memcpy(j->buf + j->len, s, k);
    }
    j->len += n;
}

static void sep(vf_json *j) {
    if (j->need_comma) put(j, ",", 1);
    j->need_comma = 1;
}

void vf_json_begin(vf_json *j, char open) { sep(j); put(j, &open, 1); j->need_comma = 0; }
void vf_json_end(vf_json *j, char close) { put(j, &close, 1); j->need_comma = 1; }

void vf_json_str(vf_json *j, const char *s) {
    sep(j);
    put(j, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; put(j, e, 2); }
        else if (c < 0x20) { char e[8]; int n = snprintf(e, sizeof e, "\\u%04x", c); put(j, e, (size_t)n); }
        else put(j, (const char *)&c, 1);
    }
    put(j, "\"", 1);
}

void vf_json_key(vf_json *j, const char *key) {
    vf_json_str(j, key);
    put(j, ":", 1);
    j->need_comma = 0;
}

void vf_json_num(vf_json *j, double v, int decimals) {
    sep(j);
    if (!isfinite(v)) { put(j, "null", 4); return; }
    char b[64];
    int n = snprintf(b, sizeof b, "%.*f", decimals, v);
    if (n > 0 && strcmp(b, "-0") != 0 && !(b[0] == '-' && strspn(b + 1, "0.") == strlen(b + 1))) put(j, b, (size_t)n);
    else if (n > 0) put(j, b + (b[0] == '-'), (size_t)n - (b[0] == '-')); /* no "-0.000" */
}

void vf_json_int(vf_json *j, long long v) {
    sep(j);
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", v);
    put(j, b, (size_t)n);
}

void vf_json_bool(vf_json *j, int v) { sep(j); put(j, v ? "true" : "false", v ? 4 : 5); }

size_t vf_json_finish(vf_json *j) {
    if (j->size) j->buf[j->len < j->size ? j->len : j->size - 1] = 0;
    return j->len;
}
