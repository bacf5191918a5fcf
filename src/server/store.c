/* store.c - the store interface (store.h): picks the backend by the `db` setting, dispatches each
 * call through its table, and holds what both backends share (the session config, the frame
 * index's candidate test, the session detail JSON) so they answer byte for byte alike. */
#include "server.h"
#include "frameprint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

int vf_srv_store_open(const char *url, vf_srv_store **out, char *err, size_t es) {
    *out = NULL;
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://")) return vf_srv_store_pg_open(url, out, err, es);
    if (has_prefix(url, "sqlite:")) url += strlen("sqlite:");
    if (!url[0]) { snprintf(err, es, "db: empty path"); return -1; }
    return vf_srv_store_sqlite_open(url, out, err, es);
}

const char *vf_srv_store_backend(const vf_srv_store *s) { return s->ops->name; }

void vf_srv_store_close(vf_srv_store *s) {
    if (s) s->ops->close(s);
}

/* A backend without the function answers as a failed call would. */
#define DISPATCH(fn, fail, ...) return s->ops->fn ? s->ops->fn(s, __VA_ARGS__) : (fail)

int vf_srv_store_create_session(vf_srv_store *s, const vf_srv_session *ss, const vf_srv_audit *a) {
    DISPATCH(create_session, -1, ss, a);
}
int vf_srv_store_get_session(vf_srv_store *s, const char *id, vf_srv_session *out) { DISPATCH(get_session, -1, id, out); }
int vf_srv_store_nonce_used(vf_srv_store *s, const char *id, const char *nonce) { DISPATCH(nonce_used, 0, id, nonce); }
char *vf_srv_store_recorded_answer(vf_srv_store *s, const char *id, const char *nonce, const char *request_sha256) {
    DISPATCH(recorded_answer, NULL, id, nonce, request_sha256);
}
int vf_srv_store_record_outcome(vf_srv_store *s, const char *id, const vf_srv_outcome *o, const vf_srv_audit *a) {
    DISPATCH(record_outcome, -1, id, o, a);
}
int vf_srv_store_index_find(vf_srv_store *s, const vf_srv_frame_print *prints, int n, int64_t after_id,
                            const vf_srv_freshness_config *c, vf_srv_index_hit *hits, float *nearest, int *candidates,
                            int64_t *last_id) {
    DISPATCH(index_find, -1, prints, n, after_id, c, hits, nearest, candidates, last_id);
}
int vf_srv_store_audit(vf_srv_store *s, const vf_srv_audit *a) { DISPATCH(audit, -1, a); }
char *vf_srv_store_session_detail(vf_srv_store *s, const char *id) { DISPATCH(session_detail, NULL, id); }
int vf_srv_store_bind_key(vf_srv_store *s, const char *id, const char *token_sha256, const uint8_t *key, size_t n,
                          const vf_srv_audit *a) {
    DISPATCH(bind_key, -1, id, token_sha256, key, n, a);
}
int vf_srv_store_outbox_claim(vf_srv_store *s, int64_t now, int64_t lease_ms, vf_srv_outbox_event *ev, int max) {
    DISPATCH(outbox_claim, -1, now, lease_ms, ev, max);
}
int vf_srv_store_outbox_done(vf_srv_store *s, int64_t row, const char *state, int attempts, int64_t next_at, int status,
                             const char *error) {
    DISPATCH(outbox_done, -1, row, state, attempts, next_at, status, error);
}
int vf_srv_store_photo_get(vf_srv_store *s, const char *id, int64_t now, vf_srv_photo_row *out) { DISPATCH(photo_get, -1, id, now, out); }
int vf_srv_store_photo_sweep(vf_srv_store *s, int64_t now) { DISPATCH(photo_sweep, -1, now); }
int vf_srv_store_delete_session(vf_srv_store *s, const char *id, const vf_srv_audit *a) { DISPATCH(delete_session, -1, id, a); }
int vf_srv_store_collection_create(vf_srv_store *s, const vf_srv_collection *c, const vf_srv_audit *a) {
    DISPATCH(collection_create, -1, c, a);
}
int vf_srv_store_collection_get(vf_srv_store *s, const char *id, vf_srv_collection *out) { DISPATCH(collection_get, -1, id, out); }
int vf_srv_store_face_add(vf_srv_store *s, const char *collection_id, vf_srv_face *f, const vf_srv_audit *a) {
    DISPATCH(face_add, -1, collection_id, f, a);
}
int vf_srv_store_face_delete(vf_srv_store *s, const char *collection_id, const char *face_id, const vf_srv_audit *a) {
    DISPATCH(face_delete, -1, collection_id, face_id, a);
}
int vf_srv_store_face_get(vf_srv_store *s, const char *collection_id, const char *face_id, vf_srv_face *out, float *emb,
                          int max) {
    DISPATCH(face_get, -1, collection_id, face_id, out, emb, max);
}
int vf_srv_store_faces_since(vf_srv_store *s, const char *collection_id, int64_t after_seq,
                             int (*fn)(void *ctx, const vf_srv_face *f), void *ctx, int64_t *last_seq) {
    DISPATCH(faces_since, -1, collection_id, after_seq, fn, ctx, last_seq);
}
int vf_srv_store_faces_by_rows(vf_srv_store *s, const char *collection_id, const int64_t *rows, int n, vf_srv_face *out,
                               int *found) {
    DISPATCH(faces_by_rows, -1, collection_id, rows, n, out, found);
}
int vf_srv_store_get_embedding(vf_srv_store *s, const char *session_id, float *emb, int max, int *dim, char model[65]) {
    DISPATCH(get_embedding, -1, session_id, emb, max, dim, model);
}

/* ---- shared by the backends --------------------------------------------------------------------- */

int vf_srv_store_parse_config(const char *txt, vf_srv_session_config *c) {
    /* written by us: the server defaults fill anything missing */
    cJSON *j = txt ? cJSON_Parse(txt) : NULL;
    if (!j) return -1;
    char err[256];
    vf_srv_session_config base;
    memset(&base, 0, sizeof base);
    base.session = vf_session_default_config();
    base.jpeg_quality = 0.92f;
    base.challenge = vf_challenge_default_config();   /* the stored config carries every field */
    int rc = vf_srv_session_config_load(j, &base, c, err, sizeof err);
    cJSON_Delete(j);
    return rc;
}

/* Candidates share one 16-bit chunk of the DCT hash exactly or but for one bit: with four
 * chunks, every hash within Hamming distance 7 is found (a copy's hash moves by up to 4). */
void vf_srv_store_index_sql(char *sql, size_t n, char mark) {
    int k = snprintf(sql, n, "SELECT phash,thumb,session_id,attempt,at FROM frame_index WHERE id>%c1 AND (", mark);
    for (int ch = 0; ch < 4; ch++) {
        k += snprintf(sql + k, n - (size_t)k, "%sc%d IN (", ch ? " OR " : "", ch);
        for (int i = 0; i < VF_SRV_INDEX_PROBES; i++)
            k += snprintf(sql + k, n - (size_t)k, "%s%c%d", i ? "," : "", mark, 2 + ch * VF_SRV_INDEX_PROBES + i);
        k += snprintf(sql + k, n - (size_t)k, ")");
    }
    snprintf(sql + k, n - (size_t)k, ") LIMIT %c%d", mark, 2 + 4 * VF_SRV_INDEX_PROBES);
}

void vf_srv_store_index_probes(uint64_t phash, int probes[4 * VF_SRV_INDEX_PROBES]) {
    for (int ch = 0; ch < 4; ch++) {
        int v = (int)(phash >> (16 * ch) & 0xFFFF);
        for (int i = 0; i < VF_SRV_INDEX_PROBES; i++) probes[ch * VF_SRV_INDEX_PROBES + i] = i ? v ^ (1 << (i - 1)) : v;
    }
}

void vf_srv_store_index_consider(const vf_srv_frame_print *p, const vf_srv_freshness_config *c, uint64_t phash,
                                 const uint8_t *b, size_t len, const char *session_id, int attempt, int64_t at,
                                 vf_srv_index_hit *h, float *nearest) {
    int hd = vf_srv_hamming64(p->phash, phash);
    if (hd > c->replay_hamming || len != 2 * VF_SRV_THUMB_CELLS || !b) return;
    uint16_t t[VF_SRV_THUMB_CELLS];
    for (int i = 0; i < VF_SRV_THUMB_CELLS; i++) t[i] = (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
    float d = vf_srv_print_distance(p, t);
    if (d < *nearest) *nearest = d;
    if (d <= c->replay_distance && d < h->distance) {
        h->distance = d;
        h->hamming = hd;
        snprintf(h->session_id, sizeof h->session_id, "%s", session_id ? session_id : "");
        h->attempt = attempt;
        h->at = at;
    }
}

void vf_srv_store_thumb_bytes(const vf_srv_frame_print *p, uint8_t *t) {
    for (int i = 0; i < VF_SRV_THUMB_CELLS; i++) { t[2 * i] = (uint8_t)(p->thumb[i] & 0xFF); t[2 * i + 1] = (uint8_t)(p->thumb[i] >> 8); }
}

static cJSON *json_text(const char *t) {
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    return j ? j : cJSON_CreateNull();
}

cJSON *vf_srv_store_detail_session(const char *id, const vf_srv_detail_session *d) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "session_id", id);
    cJSON_AddNumberToObject(j, "created_at", (double)d->created_at);
    cJSON_AddNumberToObject(j, "expires_at", (double)d->expires_at);
    cJSON_AddItemToObject(j, "config", json_text(d->config));
    if (d->external_ref) cJSON_AddStringToObject(j, "external_ref", d->external_ref);
    else cJSON_AddNullToObject(j, "external_ref");
    cJSON_AddStringToObject(j, "status", d->final ? "final" : d->decision ? "in_progress" : "open");
    if (d->final && d->decision) cJSON_AddStringToObject(j, "decision", d->decision); else cJSON_AddNullToObject(j, "decision");
    cJSON_AddNumberToObject(j, "attempt", d->attempt);
    if (d->has_decided_at) cJSON_AddNumberToObject(j, "decided_at", (double)d->decided_at);
    else cJSON_AddNullToObject(j, "decided_at");
    cJSON_AddBoolToObject(j, "has_reference", d->has_reference);
    cJSON_AddBoolToObject(j, "demo", d->demo);   /* created by the demo page, not an integrator */
    cJSON_AddArrayToObject(j, "attempts");
    return j;
}

void vf_srv_store_detail_attempt(cJSON *session, const vf_srv_detail_attempt *d) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "attempt", d->attempt);
    cJSON_AddNumberToObject(a, "issued_at", (double)d->issued_at);
    if (d->has_used_at) cJSON_AddNumberToObject(a, "used_at", (double)d->used_at);
    else cJSON_AddNullToObject(a, "used_at");
    if (d->challenge) cJSON_AddStringToObject(a, "challenge", d->challenge);
    if (d->decision) cJSON_AddStringToObject(a, "decision", d->decision);
    else cJSON_AddNullToObject(a, "decision");
    if (d->has_decided_at) cJSON_AddNumberToObject(a, "decided_at", (double)d->decided_at);
    cJSON_AddItemToObject(a, "detail", json_text(d->detail));
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(session, "attempts"), a);
}
