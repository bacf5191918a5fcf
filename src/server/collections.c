/* collections.c - face collections and 1:N duplicate search (docs/SERVER.md "Collections"):
 *   POST   /v1/collections                          create
 *   GET    /v1/collections/{id}                     its settings and size
 *   POST   /v1/collections/{id}/faces               add a face (image, or a decided session) with external_face_id
 *   DELETE /v1/collections/{id}/faces/{face_id}     delete a face (its embedding is erased)
 *   POST   /v1/collections/{id}/search              by session_id, face_id or image; max_faces, threshold
 * The store is the source of truth; this process keeps one FAISS index per collection
 * (collindex.h) and brings it up to date from the store's change sequence before every use, so
 * several instances on one store answer alike. Policy: a hit at or above the collection's
 * dedupe_threshold under another external_face_id -> review, reason duplicate.identity. */
#include "faces.h"
#include "collindex.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HITS 100

/* ---- request helpers ---------------------------------------------------------------------------- */

static int valid_hex32(const char *id) {
    if (strlen(id) != 32) return 0;
    for (const char *p = id; *p; p++) if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

static int new_id(char out[33]) {
    uint8_t r[16];
    if (vf_srv_random(r, sizeof r)) return -1;
    vf_srv_hex(r, 16, out);
    return 0;
}

/* A number field: JSON number or multipart text. 1 found, 0 absent, -1 refused (r written). */
static int form_number(const vf_srv_form *f, const char *name, double lo, double hi, double *v, vf_srv_reply *r, const char **code) {
    if (f->json) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(f->json, name);
        if (!x) return 0;
        if (!cJSON_IsNumber(x) || !(x->valuedouble >= lo && x->valuedouble <= hi)) goto bad;
        *v = x->valuedouble;
        return 1;
    }
    char t[32], *end;
    int got = vf_srv_form_text(f, name, t, sizeof t - 1, r, code);
    if (got <= 0) return got;
    *v = strtod(t, &end);
    if (end == t || *end || !(*v >= lo && *v <= hi)) goto bad;
    return 1;
bad:
    vf_srv_reply_error(r, 400, *code = "bad_schema", "%s must be a number in %g..%g", name, lo, hi);
    return -1;
}

/* Where the embedder's calibrated `strong` band starts (vf_match_band_of): the default dedupe
 * threshold follows the default embedder without a number of its own here. Strong, not weak: in
 * a 1:N search every face of the collection is a chance of a false match. */
static float strong_floor(void) {
    float lo = -1, hi = 1;
    for (int i = 0; i < 40; i++) {
        float m = (lo + hi) / 2;
        if (vf_match_band_of(m) == VF_MATCH_STRONG) hi = m; else lo = m;
    }
    return hi;
}

static cJSON *collection_json(const vf_srv_collection *c) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "collection_id", c->id);
    if (c->name[0]) cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddNumberToObject(o, "created_at", (double)c->created_at);
    cJSON_AddNumberToObject(o, "dedupe_threshold", c->dedupe_threshold);
    cJSON_AddStringToObject(o, "model", c->model);
    return o;
}

static void audit_ok(vf_srv *s, const vf_srv_request *q, const vf_srv_reply *r, const char *session_id, int status,
                     const char *code, const char *decision, const char *reasons, cJSON *detail) {
    char h[65] = "", *dj = detail ? cJSON_PrintUnformatted(detail) : NULL;
    if (q->body) vf_srv_sha256_hex(q->body, q->len, h);
    vf_srv_audit a = {r->route, session_id, h[0] ? h : NULL, q->remote, 0, status, code, decision, reasons, dj};
    if (vf_srv_store_audit(s->store, &a)) fprintf(stderr, "veriface-server: audit write failed (%s)\n", r->route);
    free(dj);
}

/* ---- create, get ------------------------------------------------------------------------------ */

static void create(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r, const char **code) {
    vf_srv_form f;
    if (vf_srv_form_read(q, &f, r, code)) return;
    vf_srv_collection c;
    memset(&c, 0, sizeof c);
    double th = strong_floor();
    if (f.json) {
        cJSON *x;
        cJSON_ArrayForEach(x, f.json)
            if (strcmp(x->string, "name") && strcmp(x->string, "dedupe_threshold")) {
                vf_srv_reply_error(r, 400, *code = "bad_schema", "unknown field %.64s (name, dedupe_threshold)", x->string);
                goto out;
            }
    }
    if (vf_srv_form_text(&f, "name", c.name, 128, r, code) < 0 || form_number(&f, "dedupe_threshold", 0, 1, &th, r, code) < 0) goto out;
    if (new_id(c.id)) { vf_srv_reply_error(r, 500, *code = "internal", "no randomness"); goto out; }
    c.created_at = vf_srv_now_ms();
    c.dedupe_threshold = (float)th;
    vf_srv_integrator_id(q->auth + 7, c.integrator);   /* authorized: "Bearer KEY" */
    snprintf(c.model, sizeof c.model, "%s", vf_srv_engines_hash(s->engines, VF_ROLE_EMBEDDER));
    cJSON *o = collection_json(&c);
    char h[65] = "", *dj = cJSON_PrintUnformatted(o);
    if (q->body) vf_srv_sha256_hex(q->body, q->len, h);
    vf_srv_audit a = {r->route, NULL, h[0] ? h : NULL, q->remote, 0, 201, "created", NULL, NULL, dj};
    int rc = vf_srv_store_collection_create(s->store, &c, &a);
    free(dj);
    if (rc) { cJSON_Delete(o); vf_srv_reply_error(r, 500, *code = "storage", "could not store the collection"); goto out; }
    cJSON_AddNumberToObject(o, "faces", 0);
    vf_srv_reply_json(r, 201, o);
out:
    vf_srv_form_free(&f);
}

/* The collection of the URL; 0 = found, else r holds 404 / 500. Another integrator's collection is
 * unknown here, as its sessions are: its existence is not confirmed. */
static int load(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_collection *c, vf_srv_reply *r, const char **code) {
    int rc = valid_hex32(id) ? vf_srv_store_collection_get(s->store, id, c) : 0;
    if (rc == 1 && !vf_srv_owner_visible(q, c->integrator)) rc = 0;
    if (rc == 1) return 0;
    if (rc == 0) vf_srv_reply_error(r, 404, *code = "unknown_collection", "no such collection");
    else vf_srv_reply_error(r, 500, *code = "storage", "could not read the collection");
    return -1;
}

static void get(vf_srv *s, const vf_srv_collection *c, vf_srv_reply *r, const char **code) {
    vf_srv_collindex_info in;
    if (vf_srv_collindex_info_of(s->collections, s->store, c->id, &in)) {
        vf_srv_reply_error(r, 500, *code = "storage", "could not load the collection's faces");
        return;
    }
    cJSON *o = collection_json(c);
    cJSON_AddNumberToObject(o, "faces", (double)in.faces);
    cJSON_AddStringToObject(o, "index", in.kind);
    cJSON_AddBoolToObject(o, "index_building", in.building);
    vf_srv_reply_json(r, 200, o);
}

/* ---- search and the duplicate policy ---------------------------------------------------------- */

typedef struct found {
    int n;
    vf_srv_face face[MAX_HITS];
    float score[MAX_HITS];
} found;

/* The live faces most similar to emb with score >= min_score, best first, `exclude_row` left out. */
static int search(vf_srv *s, const vf_srv_collection *c, const float *emb, int dim, int k, float min_score, int64_t exclude_row,
                  found *out, vf_srv_reply *r, const char **code) {
    out->n = 0;
    vf_faceindex_hit hits[MAX_HITS];
    int64_t rows[MAX_HITS];
    int ok[MAX_HITS];
    int want = k + (exclude_row >= 0) < MAX_HITS ? k + (exclude_row >= 0) : MAX_HITS;
    int n = vf_srv_collindex_search(s->collections, s->store, c->id, emb, dim, want, min_score, hits);
    if (n == -1) { vf_srv_reply_error(r, 500, *code = "storage", "could not load the collection's faces"); return -1; }
    if (n == -2) { vf_srv_reply_error(r, 409, *code = "model_mismatch", "embedding dimension %d is not the collection's", dim); return -1; }
    if (n < 0) { vf_srv_reply_error(r, 500, *code = "internal", "index search failed"); return -1; }
    for (int i = 0; i < n; i++) rows[i] = hits[i].id;
    if (n && vf_srv_store_faces_by_rows(s->store, c->id, rows, n, out->face, ok)) {
        vf_srv_reply_error(r, 500, *code = "storage", "could not read the faces found");
        return -1;
    }
    int m = 0;
    for (int i = 0; i < n && m < k; i++) {
        if (!ok[i] || rows[i] == exclude_row) continue;   /* deleted since the index saw it, or the query itself */
        out->face[m] = out->face[i];
        out->score[m++] = hits[i].score;
    }
    out->n = m;
    return 0;
}

static cJSON *hits_json(const found *fd, float threshold) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < fd->n; i++) {
        if (fd->score[i] < threshold) continue;
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "face_id", fd->face[i].face_id);
        cJSON_AddStringToObject(h, "external_face_id", fd->face[i].external_face_id);
        cJSON_AddNumberToObject(h, "similarity", fd->score[i]);
        if (fd->face[i].session_id[0]) cJSON_AddStringToObject(h, "session_id", fd->face[i].session_id);
        cJSON_AddItemToArray(a, h);
    }
    return a;
}

/* The policy: review when a hit at or above the dedupe threshold belongs to another identity. */
static int duplicate_identity(const found *fd, float dedupe, const char *external_face_id) {
    for (int i = 0; i < fd->n; i++)
        if (fd->score[i] >= dedupe && strcmp(fd->face[i].external_face_id, external_face_id)) return 1;
    return 0;
}

static void add_decision(cJSON *o, int dup) {
    cJSON_AddStringToObject(o, "decision", dup ? "review" : "approve");
    cJSON *rs = cJSON_AddArrayToObject(o, "reasons");
    if (dup) cJSON_AddItemToArray(rs, cJSON_CreateString("duplicate.identity"));
}

/* The query embedding of a request: image, session_id or face_id (exactly one). */
typedef struct query {
    float emb[VF_SRV_EMB_MAX];
    int dim, faces;
    char session_id[33], face_id[33];
    vf_srv_face face;                 /* when by face_id */
    int64_t exclude_row;
} query;

static int query_of(vf_srv *s, const vf_srv_request *q, const vf_srv_collection *c, const vf_srv_form *f, int allow_face,
                    query *qy, vf_srv_reply *r, const char **code) {
    int has_img = vf_srv_form_has(f, "image"), has_ses = vf_srv_form_has(f, "session_id"), has_face = vf_srv_form_has(f, "face_id");
    qy->exclude_row = -1;
    qy->faces = -1;
    if (has_img + has_ses + (allow_face && has_face) != 1 || (!allow_face && has_face)) {
        vf_srv_reply_error(r, 400, *code = "bad_schema", allow_face ? "exactly one of image, session_id, face_id" : "exactly one of image, session_id");
        return -1;
    }
    char model[65] = "";
    if (has_img) {
        if (vf_srv_form_embed(s, f, "image", qy->emb, &qy->dim, &qy->faces, NULL, r, code)) return -1;
        snprintf(model, sizeof model, "%s", vf_srv_engines_hash(s->engines, VF_ROLE_EMBEDDER));
    } else if (has_ses) {
        if (vf_srv_form_text(f, "session_id", qy->session_id, 32, r, code) < 0) return -1;
        vf_srv_session *ss = calloc(1, sizeof *ss);
        int rc = ss && valid_hex32(qy->session_id) ? vf_srv_store_get_session(s->store, qy->session_id, ss) : 0;
        if (rc == 1 && !vf_srv_session_visible(q, ss)) rc = 0;   /* another integrator's session is unknown here */
        int final = rc == 1 && ss->final, usable = final && (!strcmp(ss->decision, "approve") || !strcmp(ss->decision, "review"));
        free(ss);
        if (rc < 0) { vf_srv_reply_error(r, 500, *code = "storage", "could not read the session"); return -1; }
        if (rc == 0) { vf_srv_reply_error(r, 404, *code = "unknown_session", "no such session"); return -1; }
        if (!final) { vf_srv_reply_error(r, 409, *code = "session_not_final", "the session is not decided yet"); return -1; }
        if (!usable) { vf_srv_reply_error(r, 409, *code = "session_rejected", "a rejected session's face is not used"); return -1; }
        rc = vf_srv_store_get_embedding(s->store, qy->session_id, qy->emb, VF_SRV_EMB_MAX, &qy->dim, model);
        if (rc < 0) { vf_srv_reply_error(r, 500, *code = "storage", "could not read the session's embedding"); return -1; }
        if (rc == 0) { vf_srv_reply_error(r, 409, *code = "no_embedding", "the session has no face embedding"); return -1; }
    } else {
        if (vf_srv_form_text(f, "face_id", qy->face_id, 32, r, code) < 0) return -1;
        int rc = valid_hex32(qy->face_id) ? vf_srv_store_face_get(s->store, c->id, qy->face_id, &qy->face, qy->emb, VF_SRV_EMB_MAX) : 0;
        if (rc < 0) { vf_srv_reply_error(r, 500, *code = "storage", "could not read the face"); return -1; }
        if (rc == 0) { vf_srv_reply_error(r, 404, *code = "unknown_face", "no such face in this collection"); return -1; }
        qy->dim = qy->face.dim;
        qy->exclude_row = qy->face.row;
        snprintf(model, sizeof model, "%s", c->model);
    }
    if (strcmp(model, c->model)) {
        vf_srv_reply_error(r, 409, *code = "model_mismatch", "the face's embedder is not the collection's (%.12s...)", c->model);
        return -1;
    }
    return 0;
}

static void search_route(vf_srv *s, const vf_srv_collection *c, const vf_srv_request *q, vf_srv_reply *r, const char **code) {
    vf_srv_form f;
    query *qy = calloc(1, sizeof *qy);
    found *fd = calloc(1, sizeof *fd);
    if (!qy || !fd) { vf_srv_reply_error(r, 500, *code = "internal", "out of memory"); goto done; }
    if (vf_srv_form_read(q, &f, r, code)) goto done;
    double k = 5, th = c->dedupe_threshold;
    char ext[129] = "";
    if (form_number(&f, "max_faces", 1, MAX_HITS, &k, r, code) < 0 || form_number(&f, "threshold", -1, 1, &th, r, code) < 0 ||
        vf_srv_form_text(&f, "external_face_id", ext, 128, r, code) < 0)
        goto out;
    if (k != floor(k)) { vf_srv_reply_error(r, 400, *code = "bad_schema", "max_faces must be an integer"); goto out; }
    if (query_of(s, q, c, &f, 1, qy, r, code)) goto out;
    if (!ext[0] && qy->face_id[0]) snprintf(ext, sizeof ext, "%s", qy->face.external_face_id);
    float lo = (float)th < c->dedupe_threshold ? (float)th : c->dedupe_threshold;
    if (search(s, c, qy->emb, qy->dim, (int)k, lo, qy->exclude_row, fd, r, code)) goto out;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "faces", hits_json(fd, (float)th));
    if (qy->faces >= 0) cJSON_AddNumberToObject(o, "faces_in_image", qy->faces);
    int dup = ext[0] ? duplicate_identity(fd, c->dedupe_threshold, ext) : 0;
    if (ext[0]) add_decision(o, dup);
    cJSON *det = cJSON_CreateObject();
    cJSON_AddStringToObject(det, "collection_id", c->id);
    cJSON_AddNumberToObject(det, "hits", fd->n);
    if (ext[0]) cJSON_AddStringToObject(det, "external_face_id", ext);
    audit_ok(s, q, r, qy->session_id[0] ? qy->session_id : NULL, 200, ext[0] ? (dup ? "review" : "approve") : "searched",
             ext[0] ? (dup ? "review" : "approve") : NULL, dup ? "[\"duplicate.identity\"]" : NULL, det);
    cJSON_Delete(det);
    vf_srv_reply_json(r, 200, o);
out:
    vf_srv_form_free(&f);
done:
    free(qy);
    free(fd);
}

/* ---- add, delete ------------------------------------------------------------------------------- */

static void add_face(vf_srv *s, const vf_srv_collection *c, const vf_srv_request *q, vf_srv_reply *r, const char **code) {
    vf_srv_form f;
    query *qy = calloc(1, sizeof *qy);
    found *fd = calloc(1, sizeof *fd);
    if (!qy || !fd) { vf_srv_reply_error(r, 500, *code = "internal", "out of memory"); goto done; }
    if (vf_srv_form_read(q, &f, r, code)) goto done;
    vf_srv_face nf;
    memset(&nf, 0, sizeof nf);
    int got = vf_srv_form_text(&f, "external_face_id", nf.external_face_id, 128, r, code);
    if (got < 0) goto out;
    if (!got) { vf_srv_reply_error(r, 400, *code = "bad_schema", "external_face_id (1..128 bytes) is required"); goto out; }
    if (query_of(s, q, c, &f, 0, qy, r, code)) goto out;
    /* the duplicate check runs on the collection as it was: the new face is not its own duplicate */
    if (search(s, c, qy->emb, qy->dim, 5, c->dedupe_threshold, -1, fd, r, code)) goto out;
    int dup = duplicate_identity(fd, c->dedupe_threshold, nf.external_face_id);
    if (new_id(nf.face_id)) { vf_srv_reply_error(r, 500, *code = "internal", "no randomness"); goto out; }
    snprintf(nf.session_id, sizeof nf.session_id, "%s", qy->session_id);
    nf.dim = qy->dim;
    nf.embedding = qy->emb;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "face_id", nf.face_id);
    cJSON_AddStringToObject(o, "collection_id", c->id);
    cJSON_AddStringToObject(o, "external_face_id", nf.external_face_id);
    if (qy->session_id[0]) cJSON_AddStringToObject(o, "session_id", qy->session_id);
    if (qy->faces >= 0) cJSON_AddNumberToObject(o, "faces_in_image", qy->faces);
    add_decision(o, dup);
    cJSON_AddItemToObject(o, "duplicates", hits_json(fd, c->dedupe_threshold));
    char h[65] = "", *dj = cJSON_PrintUnformatted(o);
    if (q->body) vf_srv_sha256_hex(q->body, q->len, h);
    const char *dec = dup ? "review" : "approve";
    vf_srv_audit a = {r->route, qy->session_id[0] ? qy->session_id : NULL, h[0] ? h : NULL, q->remote, 0, 201, dec, dec,
                      dup ? "[\"duplicate.identity\"]" : "[]", dj};
    int rc = vf_srv_store_face_add(s->store, c->id, &nf, &a);
    free(dj);
    if (rc) { cJSON_Delete(o); vf_srv_reply_error(r, 500, *code = "storage", "could not store the face"); goto out; }
    vf_srv_collindex_refresh(s->collections, s->store, c->id);   /* this instance sees its own write at once */
    vf_srv_reply_json(r, 201, o);
out:
    vf_srv_form_free(&f);
done:
    free(qy);
    free(fd);
}

static void delete_face(vf_srv *s, const vf_srv_collection *c, const char *face_id, const vf_srv_request *q, vf_srv_reply *r,
                        const char **code) {
    char h[65] = "";
    if (q->body) vf_srv_sha256_hex(q->body, q->len, h);
    char dj[160];
    snprintf(dj, sizeof dj, "{\"collection_id\":\"%s\",\"face_id\":\"%.32s\"}", c->id, face_id);
    vf_srv_audit a = {r->route, NULL, h[0] ? h : NULL, q->remote, 0, 200, "deleted", NULL, NULL, dj};
    int rc = valid_hex32(face_id) ? vf_srv_store_face_delete(s->store, c->id, face_id, &a) : 0;
    if (rc < 0) { vf_srv_reply_error(r, 500, *code = "storage", "could not delete the face"); return; }
    if (rc == 0) { vf_srv_reply_error(r, 404, *code = "unknown_face", "no such face in this collection"); return; }
    vf_srv_collindex_refresh(s->collections, s->store, c->id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "face_id", face_id);
    cJSON_AddBoolToObject(o, "deleted", 1);
    vf_srv_reply_json(r, 200, o);
}

/* ---- routing ----------------------------------------------------------------------------------- */

void vf_srv_collections_route(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r) {
    const char *u = q->url + strlen("/v1/collections"), *code = NULL;
    int post = !strcmp(q->method, "POST"), get_m = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD"),
        del = !strcmp(q->method, "DELETE");
    char cid[40] = "", rest[80] = "";
    vf_srv_collection c;
    r->route = "collections";
    if (!vf_srv_authorized(s, q)) { vf_srv_reply_error(r, 401, code = "unauthorized", "missing or unknown API key"); goto out; }
    if (!*u) {
        r->route = "collections_create";
        if (post) create(s, q, r, &code); else vf_srv_reply_error(r, 405, "method_not_allowed", "POST only");
        goto out;
    }
    /* /{id}[/faces[/{face_id}] | /search] */
    if (*u != '/' || sscanf(u + 1, "%39[0-9a-f]%79s", cid, rest) < 1 || strlen(cid) != 32) {
        vf_srv_reply_error(r, 404, "not_found", "no such endpoint");
        return;
    }
    if (!rest[0] || !strcmp(rest, "/faces") || !strncmp(rest, "/faces/", 7) || !strcmp(rest, "/search")) {
        if (load(s, q, cid, &c, r, &code)) goto out;
    } else {
        vf_srv_reply_error(r, 404, "not_found", "no such endpoint");
        return;
    }
    if (!rest[0]) {
        r->route = "collections_get";
        if (get_m) get(s, &c, r, &code); else vf_srv_reply_error(r, 405, "method_not_allowed", "GET only");
    } else if (!strcmp(rest, "/faces")) {
        r->route = "collections_face_add";
        if (post) add_face(s, &c, q, r, &code); else vf_srv_reply_error(r, 405, "method_not_allowed", "POST only");
    } else if (!strcmp(rest, "/search")) {
        r->route = "collections_search";
        if (post) search_route(s, &c, q, r, &code); else vf_srv_reply_error(r, 405, "method_not_allowed", "POST only");
    } else {
        r->route = "collections_face_delete";
        if (del) delete_face(s, &c, rest + 7, q, r, &code); else vf_srv_reply_error(r, 405, "method_not_allowed", "DELETE only");
    }
out:
    if (code) vf_srv_audit_reject(s, q, r->route, NULL, 0, r, code);
}
