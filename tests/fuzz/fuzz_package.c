/* fuzz_package.c - libFuzzer target for the result package's parser (src/server/package.c,
 * vf_srv_package_parse): any body must be accepted or refused with a 400 and a code, never crash,
 * leak or hit undefined behaviour. An accepted package must hold what the server relies on later:
 * 1..16 frames with in-range integers, 64-hex hashes, a known mime, finite numbers, and free-form
 * objects that print back as valid UTF-8 within their limits. vf_srv_utf8_valid is also checked
 * against an independent decoder (Unicode table 3-7).
 * Built and run by tools/fuzz (tests/fuzz/CMakeLists.txt); seeds in tests/fuzz/corpus/fuzz_package
 * (their session_id is SESSION below). */
#include "package.h"
#include "veriface.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SESSION "s_0123456789abcdef"

/* Well-formed UTF-8 by the table of allowed byte ranges (Unicode 15, table 3-7). */
static int utf8_reference(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint8_t lo = 0x80, hi = 0xBF;
        size_t len;
        if (c <= 0x7F) { i++; continue; }
        else if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) { len = 3; lo = 0xA0; }
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) { len = 3; hi = 0x9F; }
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) { len = 4; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) { len = 4; hi = 0x8F; }
        else return 0;
        if (n - i < len) return 0;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t k = 2; k < len; k++) if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
        i += len;
    }
    return 1;
}

static void check_printed(const cJSON *x, size_t max_len) {
    if (!x) return;
    char *p = cJSON_PrintUnformatted(x);
    if (!p) return;   /* out of memory */
    size_t n = strlen(p);
    if (n > max_len || !vf_srv_utf8_valid((const uint8_t *)p, n)) abort();
    cJSON_free(p);
}

static int is_hex64(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return 0;
    return n == 64;
}

static int whole(double v, double lo, double hi) { return isfinite(v) && v >= lo && v <= hi && v == floor(v); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (vf_srv_utf8_valid(data, size) != utf8_reference(data, size)) abort();

    const char *names[VF_ROLE_COUNT];
    for (int i = 0; i < VF_ROLE_COUNT; i++) names[i] = vf_model_roles(NULL)[i].name;
    vf_srv_package p;
    vf_srv_error e;
    memset(&e, 0, sizeof e);
    if (vf_srv_package_parse(data, size, SESSION, names, VF_ROLE_COUNT, &p, &e) != 0) {
        /* refused: a 400 with a code and a message, nothing kept */
        if (e.status != 400 || !e.code || !e.code[0] || !memchr(e.message, 0, sizeof e.message) || !e.message[0]) abort();
        if (p.root || p.n_frames) abort();
        return 0;
    }
    if (!p.root || !p.nonce || strlen(p.nonce) > 64) abort();
    if (!whole(p.attempt, 1, 1000) || !whole(p.created_at, 1, 1e14)) abort();
    if (!cJSON_IsObject(p.models) || !cJSON_IsObject(p.result)) abort();
    for (int i = 0; i < VF_ROLE_COUNT; i++) {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(p.models, names[i]);
        if (!cJSON_IsString(h) || strlen(h->valuestring) > 64) abort();
    }
    if (p.challenge && !cJSON_IsObject(p.challenge)) abort();
    if (p.n_frames < 1 || p.n_frames > VF_SRV_PKG_MAX_FRAMES) abort();
    for (int i = 0; i < p.n_frames; i++) {
        const vf_srv_pkg_frame *f = &p.frames[i];
        if (f->index < 0 || f->index > 1000000000 || f->width < 1 || f->width > 65535 || f->height < 1 || f->height > 65535) abort();
        if (!isfinite(f->timestamp) || !(f->timestamp > 0) || f->timestamp >= 1e14) abort();
        if (!f->mime || (strcmp(f->mime, "image/jpeg") && strcmp(f->mime, "image/png"))) abort();
        if (!f->sha256 || !is_hex64(f->sha256) || !f->data || !cJSON_IsObject(f->status)) abort();
        (void)strlen(f->data);
    }
    /* what is stored and shown to integrators: bounded, valid UTF-8 (escapes at most 6x a byte) */
    check_printed(p.signals, 6 * (VF_SRV_PKG_FREE_BYTES + 64 * VF_SRV_PKG_FREE_NODES) + 16 * VF_SRV_PKG_FREE_NODES + 2);
    check_printed(p.module, 6 * (2048 + 64 * 64) + 16 * 64 + 2);
    check_printed(p.capture, 6 * (2048 + 64 * 64) + 16 * 64 + 2);
    vf_srv_package_free(&p);
    if (p.root) abort();
    return 0;
}
