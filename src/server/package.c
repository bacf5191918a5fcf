/* package.c - the result package's checks before any state is read (see package.h). */
#include "package.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vf_srv_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        int len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (i + (size_t)len > n) return 0;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += (size_t)len;
    }
    return 1;
}

static int fail(vf_srv_error *e, int status, const char *code, const char *fmt, ...) {
    e->status = status;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* A key twice in one object: cJSON reads the first, JSON.parse (an integrator reading the stored
 * package) the last, so the two would see different packages. Sorted names: a 64 MiB object of
 * one-letter keys costs n log n, not n^2. */
static int duplicate_key(const cJSON *x, vf_srv_error *e) {
    int n = 0;
    for (const cJSON *c = x->child; c; c = c->next) n++;
    if (n < 2) return 0;
    const cJSON **v = malloc((size_t)n * sizeof *v);
    if (!v) return fail(e, 500, "internal", "out of memory%s", "");
    n = 0;
    for (const cJSON *c = x->child; c; c = c->next) v[n++] = c;
    qsort(v, (size_t)n, sizeof *v, by_name);
    int dup = -1;
    for (int i = 1; i < n && dup < 0; i++)
        if (!strcmp(v[i - 1]->string, v[i]->string)) dup = i;
    int rc = dup < 0 ? 0 : fail(e, 400, "bad_json", "the key \"%.40s\" appears twice in one object", v[dup]->string);
    free(v);
    return rc;
}

int vf_srv_json_nul_escape(const uint8_t *s, size_t n) {
    /* "\u0000" decodes to a NUL that cJSON's C strings silently cut at; an odd run of backslashes
     * before the u means the escape is real ("\\u0000" is the text \u0000). */
    for (size_t i = 0; i + 6 <= n; i++) {
        if (s[i] != '\\' || s[i + 1] != 'u' || memcmp(s + i + 2, "0000", 4)) continue;
        size_t run = 1;
        while (run <= i && s[i - run] == '\\') run++;
        if (run & 1) return 1;
    }
    return 0;
}

/* Every number finite, every key once and the nesting within the limit: 1.0e400 parses as
 * infinity, and a value the code converts to an integer must be representable before it is
 * converted. */
static int walk(const cJSON *x, int depth, int max_depth, vf_srv_error *e) {
    if (depth > max_depth) return fail(e, 400, "bad_schema", "nested deeper than %d levels", max_depth);
    if (cJSON_IsNumber(x) && !isfinite(x->valuedouble)) return fail(e, 400, "bad_schema", "a number is not finite%s", "");
    if (cJSON_IsObject(x) && duplicate_key(x, e)) return -1;
    for (const cJSON *c = x->child; c; c = c->next)
        if (walk(c, depth + 1, max_depth, e)) return -1;
    return 0;
}

int vf_srv_json_sane(const cJSON *x, int max_depth, vf_srv_error *err) { return walk(x, 0, max_depth, err); }

/* A free-form object the client fills (signals, module, capture): it is stored and returned to
 * integrators, so its size is bounded, not only its depth. */
static int free_form(const cJSON *x, const char *name, int max_nodes, int max_bytes, vf_srv_error *e) {
    if (!x) return 0;
    if (!cJSON_IsObject(x)) return fail(e, 400, "bad_schema", "%s must be an object", name);
    int nodes = 0, bytes = 0;
    const cJSON *stack[VF_SRV_PKG_FREE_NODES + 2];   /* pending objects, not depth: each is a counted value */
    int sp = 0;
    stack[sp++] = x;
    while (sp > 0) {
        const cJSON *n = stack[--sp];
        for (const cJSON *c = n->child; c; c = c->next) {
            if (++nodes > max_nodes) return fail(e, 400, "bad_schema", "%s holds more than %d values", name, max_nodes);
            size_t kl = c->string ? strlen(c->string) : 0;
            size_t sl = cJSON_IsString(c) ? strlen(c->valuestring) : 0;
            if (kl > 64 || sl > VF_SRV_PKG_FREE_STRING) return fail(e, 400, "bad_schema", "%s: a key over 64 or a string over %d bytes", name, VF_SRV_PKG_FREE_STRING);
            bytes += (int)(kl + sl);
            if (bytes > max_bytes) return fail(e, 400, "bad_schema", "%s holds more than %d bytes of text", name, max_bytes);
            if (c->child) {
                if (sp >= (int)(sizeof stack / sizeof stack[0])) return fail(e, 400, "bad_schema", "%s is nested too deep", name);
                stack[sp++] = c;
            }
        }
    }
    return 0;
}

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* An integer-valued number in [lo, hi] (checked before any conversion). */
static int int_in(const cJSON *x, double lo, double hi) {
    return cJSON_IsNumber(x) && x->valuedouble >= lo && x->valuedouble <= hi && x->valuedouble == floor(x->valuedouble);
}

static int is_hex64(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return 0;
    return n == 64;
}

int vf_srv_package_parse(const uint8_t *body, size_t n, const char *url_id, const char *const *role_names, int n_roles,
                         vf_srv_package *out, vf_srv_error *err) {
    memset(out, 0, sizeof *out);
    if (!body || n == 0) return fail(err, 400, "bad_json", "the body is empty%s", "");
    if (!vf_srv_utf8_valid(body, n)) return fail(err, 400, "bad_json", "the body is not valid UTF-8%s", "");
    if (vf_srv_json_nul_escape(body, n)) return fail(err, 400, "bad_json", "a string holds \\u0000%s", "");
    cJSON *root = cJSON_ParseWithLength((const char *)body, n);
    if (!root || !cJSON_IsObject(root)) { cJSON_Delete(root); return fail(err, 400, "bad_json", "the body is not a JSON object%s", ""); }
    out->root = root;
    if (walk(root, 0, VF_SRV_PKG_MAX_DEPTH, err)) goto bad;
    const cJSON *fmt = item(root, "format"), *sid = item(root, "session_id"), *nonce = item(root, "nonce"), *att = item(root, "attempt");
    const cJSON *ca = item(root, "created_at"), *frames = item(root, "frames");
    out->models = item(root, "models");
    out->result = item(root, "result");
    out->signals = item(root, "signals");
    out->module = item(root, "module");
    out->capture = item(root, "capture");
    out->challenge = item(root, "challenge");
    if (!int_in(fmt, 1, 1)) { fail(err, 400, "bad_schema", "format must be 1%s", ""); goto bad; }
    if (!cJSON_IsString(sid) || !url_id || strcmp(sid->valuestring, url_id)) { fail(err, 400, "bad_schema", "session_id must equal the URL's%s", ""); goto bad; }
    if (!cJSON_IsString(nonce) || strlen(nonce->valuestring) > 64) { fail(err, 400, "bad_schema", "nonce must be a string of at most 64 characters%s", ""); goto bad; }
    if (!int_in(att, 1, 1000)) { fail(err, 400, "bad_schema", "attempt must be an integer 1..1000%s", ""); goto bad; }
    if (!int_in(ca, 1, 1e14)) { fail(err, 400, "bad_schema", "created_at must be an integer, ms since the epoch%s", ""); goto bad; }
    if (!cJSON_IsObject(out->models)) { fail(err, 400, "bad_schema", "models must be an object%s", ""); goto bad; }
    for (int i = 0; i < n_roles; i++) {
        const cJSON *h = item(out->models, role_names[i]);
        if (!cJSON_IsString(h) || strlen(h->valuestring) > 64) { fail(err, 400, "bad_schema", "models.%s must be a hash string", role_names[i]); goto bad; }
    }
    if (!cJSON_IsObject(out->result)) { fail(err, 400, "bad_schema", "result must be an object%s", ""); goto bad; }
    if (out->challenge && !cJSON_IsObject(out->challenge)) { fail(err, 400, "bad_schema", "challenge must be an object%s", ""); goto bad; }
    if (free_form(out->signals, "signals", VF_SRV_PKG_FREE_NODES, VF_SRV_PKG_FREE_BYTES, err) ||
        free_form(out->module, "module", 64, 2048, err) || free_form(out->capture, "capture", 64, 2048, err))
        goto bad;
    if (!cJSON_IsArray(frames)) { fail(err, 400, "bad_schema", "frames must be an array%s", ""); goto bad; }
    int nf = cJSON_GetArraySize(frames);
    if (nf < 1 || nf > VF_SRV_PKG_MAX_FRAMES) { fail(err, 400, "bad_frames", "1..%d frames expected", VF_SRV_PKG_MAX_FRAMES); goto bad; }
    const cJSON *fr;
    cJSON_ArrayForEach(fr, frames) {
        const cJSON *ix = item(fr, "index"), *t = item(fr, "timestamp"), *w = item(fr, "width"), *h = item(fr, "height");
        const cJSON *mime = item(fr, "mime"), *sha = item(fr, "sha256"), *data = item(fr, "data"), *st = item(fr, "status");
        if (!cJSON_IsObject(fr) || !cJSON_IsNumber(ix) || !cJSON_IsNumber(t) || !cJSON_IsNumber(w) || !cJSON_IsNumber(h) ||
            !cJSON_IsString(mime) || !cJSON_IsString(sha) || !cJSON_IsString(data) || !cJSON_IsObject(st)) {
            fail(err, 400, "bad_schema", "each frame needs index, timestamp, width, height, mime, sha256, data, status%s", "");
            goto bad;
        }
        if (!int_in(ix, 0, 1e9) || !int_in(w, 1, 65535) || !int_in(h, 1, 65535) || !(t->valuedouble > 0 && t->valuedouble < 1e14)) {
            fail(err, 400, "bad_schema", "frame index 0..1e9, width and height 1..65535, timestamp in epoch ms%s", "");
            goto bad;
        }
        if (strcmp(mime->valuestring, "image/jpeg") && strcmp(mime->valuestring, "image/png")) {
            fail(err, 400, "bad_frames", "mime must be image/jpeg or image/png%s", "");
            goto bad;
        }
        if (!is_hex64(sha->valuestring)) { fail(err, 400, "frame_hash_mismatch", "frame sha256 must be 64 lowercase hex digits%s", ""); goto bad; }
        vf_srv_pkg_frame *f = &out->frames[out->n_frames++];
        f->index = (int)ix->valuedouble;
        f->timestamp = t->valuedouble;
        f->width = (int)w->valuedouble;
        f->height = (int)h->valuedouble;
        f->mime = mime->valuestring;
        f->sha256 = sha->valuestring;
        f->data = data->valuestring;
        f->status = st;
    }
    out->nonce = nonce->valuestring;
    out->attempt = (int)att->valuedouble;
    out->created_at = ca->valuedouble;
    return 0;
bad:
    cJSON_Delete(root);
    memset(out, 0, sizeof *out);
    return -1;
}

void vf_srv_package_free(vf_srv_package *p) {
    if (!p) return;
    cJSON_Delete(p->root);
    memset(p, 0, sizeof *p);
}
