/* faces.c - the face services' input (faces.h) and POST /v1/faces:compare: two images, the face
 * of each (vf_engine_embed_face's choice) embedded as a session's best frame is, their cosine and
 * its band. Nothing is stored but the audit record (its numbers, never the images). */
#include "faces.h"
#include "package.h"
#include "../image/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vf_srv_authorized(vf_srv *s, const vf_srv_request *q) {
    if (!q->auth || strncmp(q->auth, "Bearer ", 7)) return 0;
    int ok = 0;
    for (int i = 0; i < s->cfg.n_keys; i++) ok |= vf_srv_key_equal(q->auth + 7, s->cfg.api_keys[i]);
    return ok;
}

const char *vf_srv_band_name(vf_match_band b) { return b == VF_MATCH_STRONG ? "strong" : b == VF_MATCH_WEAK ? "weak" : "none"; }

int vf_srv_form_read(const vf_srv_request *q, vf_srv_form *f, vf_srv_reply *r, const char **code) {
    memset(f, 0, sizeof *f);
    char err[256];
    if (vf_mp_is_multipart(q->content_type)) {
        int n = vf_mp_parse(q->content_type, q->body ? q->body : (const uint8_t *)"", q->len, f->parts, err, sizeof err);
        if (n < 0) { vf_srv_reply_error(r, 400, *code = "bad_multipart", "%s", err); return -1; }
        f->n_parts = n;
        return 0;
    }
    if (q->content_type && strncmp(q->content_type, "application/json", 16)) {
        vf_srv_reply_error(r, 415, *code = "unsupported_media_type", "send application/json (base64 images) or multipart/form-data");
        return -1;
    }
    if (!q->body || !vf_srv_utf8_valid(q->body, q->len)) { vf_srv_reply_error(r, 400, *code = "bad_json", "body is not valid UTF-8 JSON"); return -1; }
    if (vf_srv_json_nul_escape(q->body, q->len)) { vf_srv_reply_error(r, 400, *code = "bad_json", "a string holds \\u0000"); return -1; }
    f->json = cJSON_ParseWithLength((const char *)q->body, q->len);
    if (!f->json || !cJSON_IsObject(f->json)) { vf_srv_reply_error(r, 400, *code = "bad_json", "body is not a JSON object"); return -1; }
    vf_srv_error je;
    if (vf_srv_json_sane(f->json, 4, &je)) { vf_srv_reply_error(r, je.status, *code = je.code, "%s", je.message); return -1; }
    return 0;
}

void vf_srv_form_free(vf_srv_form *f) {
    cJSON_Delete(f->json);
    f->json = NULL;
}

int vf_srv_form_has(const vf_srv_form *f, const char *name) {
    return f->json ? cJSON_GetObjectItemCaseSensitive(f->json, name) != NULL : vf_mp_find(f->parts, f->n_parts, name) != NULL;
}

int vf_srv_form_text(const vf_srv_form *f, const char *name, char *out, size_t max, vf_srv_reply *r, const char **code) {
    const char *p;
    size_t n;
    if (f->json) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(f->json, name);
        if (!x) return 0;
        if (!cJSON_IsString(x)) { vf_srv_reply_error(r, 400, *code = "bad_schema", "%s must be a string", name); return -1; }
        p = x->valuestring;
        n = strlen(p);
    } else {
        const vf_mp_part *m = vf_mp_find(f->parts, f->n_parts, name);
        if (!m) return 0;
        p = (const char *)m->data;
        n = m->len;
        if (memchr(p, 0, n) || !vf_srv_utf8_valid(m->data, n)) { vf_srv_reply_error(r, 400, *code = "bad_schema", "%s must be UTF-8 text", name); return -1; }
    }
    if (n < 1 || n > max) { vf_srv_reply_error(r, 400, *code = "bad_schema", "%s: 1..%zu bytes", name, max); return -1; }
    memcpy(out, p, n);
    out[n] = 0;
    return 1;
}

int vf_srv_embed_image(vf_srv *s, const uint8_t *bytes, size_t n, const char *what, float *emb, int *dim, int *faces,
                       float *box, vf_srv_reply *r, const char **code) {
    vf_image_decode_options o = vf_image_decode_default_options();
    o.limits.max_width = o.limits.max_height = s->cfg.limits.max_reference_side;
    o.limits.max_pixels = (int64_t)s->cfg.limits.max_reference_side * 3000;
    o.limits.max_input_bytes = s->cfg.limits.max_reference_bytes;
    o.limits.max_decoder_bytes = 512u << 20;
    vf_srv_worker *w = vf_srv_engines_acquire(s->engines);
    vf_image_buffer buf;
    vf_status st = vf_image_decode(w->ctx, bytes, n, &o, &buf, NULL);
    if (st) {
        vf_srv_reply_error(r, 422, *code = "corrupt_image", "%s: %s", what, vf_context_last_error(w->ctx));
        vf_srv_engines_release(s->engines, w);
        return -1;
    }
    vf_frame fr = {buf.width, buf.height, buf.stride, (int)buf.format, buf.data, 0};
    int nf = 0;
    int rc = vf_engine_embed_face(w->engine, &fr, emb, VF_SRV_EMB_MAX, dim, &nf, box) == VF_OK ? 0 : -2;
    if (faces) *faces = nf;
    vf_image_buffer_free(&buf);
    vf_srv_engines_release(s->engines, w);
    return rc;
}

int vf_srv_form_embed(vf_srv *s, const vf_srv_form *f, const char *name, float *emb, int *dim, int *faces,
                      float *box, vf_srv_reply *r, const char **code) {
    const uint8_t *bytes = NULL;
    uint8_t *owned = NULL;
    size_t n = 0;
    if (f->json) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(f->json, name);
        if (!cJSON_IsString(x)) { vf_srv_reply_error(r, 400, *code = "bad_schema", "%s (a base64 image) is required", name); return -1; }
        size_t sl = strlen(x->valuestring);
        if (sl / 4 * 3 > s->cfg.limits.max_reference_bytes) {
            vf_srv_reply_error(r, 413, *code = "image_too_large", "%s over %zu bytes", name, s->cfg.limits.max_reference_bytes);
            return -1;
        }
        bytes = owned = vf_srv_b64_decode(x->valuestring, sl, 0, &n);
        if (!owned) { vf_srv_reply_error(r, 400, *code = "bad_base64", "%s is not valid base64", name); return -1; }
    } else {
        const vf_mp_part *m = vf_mp_find(f->parts, f->n_parts, name);
        if (!m || !m->len) { vf_srv_reply_error(r, 400, *code = "bad_schema", "%s (an image part) is required", name); return -1; }
        if (m->len > s->cfg.limits.max_reference_bytes) {
            vf_srv_reply_error(r, 413, *code = "image_too_large", "%s over %zu bytes", name, s->cfg.limits.max_reference_bytes);
            return -1;
        }
        bytes = m->data;
        n = m->len;
    }
    int rc = vf_srv_embed_image(s, bytes, n, name, emb, dim, faces, box, r, code);
    free(owned);
    if (rc == -2) vf_srv_reply_error(r, 422, *code = "no_face", "no face found in %s", name);
    return rc ? -1 : 0;
}

void vf_srv_faces_compare(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r) {
    const char *code = NULL;
    vf_srv_form f;
    memset(&f, 0, sizeof f);
    float *emb = malloc(sizeof(float) * 2 * VF_SRV_EMB_MAX);
    int dim[2] = {0, 0}, faces[2] = {0, 0};
    float box[2][4];
    static const char *const names[2] = {"image_a", "image_b"};
    if (!emb) { vf_srv_reply_error(r, 500, "internal", "out of memory"); return; }
    if (!vf_srv_authorized(s, q)) { vf_srv_reply_error(r, 401, code = "unauthorized", "missing or unknown API key"); goto out; }
    if (vf_srv_form_read(q, &f, r, &code)) goto out;
    for (int i = 0; i < 2; i++)
        if (vf_srv_form_embed(s, &f, names[i], emb + i * VF_SRV_EMB_MAX, &dim[i], &faces[i], box[i], r, &code)) goto out;
    float sim = vf_match_similarity(emb, emb + VF_SRV_EMB_MAX, dim[0]);
    const char *band = vf_srv_band_name(vf_match_band_of(sim));
    cJSON *o = cJSON_CreateObject(), *fo = cJSON_AddObjectToObject(o, "faces");
    cJSON_AddNumberToObject(fo, "image_a", faces[0]);
    cJSON_AddNumberToObject(fo, "image_b", faces[1]);
    cJSON *bo = cJSON_AddObjectToObject(o, "face_boxes");   /* the face each image was compared by */
    for (int i = 0; i < 2; i++) {
        double b[4];
        for (int k = 0; k < 4; k++) b[k] = round(box[i][k] * 10.0) / 10.0;
        cJSON_AddItemToObject(bo, names[i], cJSON_CreateDoubleArray(b, 4));
    }
    cJSON_AddNumberToObject(o, "similarity", sim);
    cJSON_AddStringToObject(o, "band", band);
    cJSON_AddStringToObject(o, "model", vf_srv_engines_hash(s->engines, VF_ROLE_EMBEDDER));
    char *dj = cJSON_PrintUnformatted(o);
    char h[65];
    vf_srv_sha256_hex(q->body, q->len, h);
    vf_srv_audit a = {r->route, NULL, h, q->remote, 0, 200, "compared", NULL, NULL, dj};
    if (vf_srv_store_audit(s->store, &a)) fprintf(stderr, "veriface-server: audit write failed (%s)\n", r->route);
    free(dj);
    vf_srv_reply_json(r, 200, o);
out:
    if (code) vf_srv_audit_reject(s, q, r->route, NULL, 0, r, code);
    vf_srv_form_free(&f);
    free(emb);
}
