/* store.h - the server's store: sessions, attempts with their single-use nonces, the append-only
 * audit log and the frame index, behind one interface with two backends (a table of functions,
 * chosen by the `db` setting when the store opens):
 *   "PATH" or "sqlite:PATH"       store_sqlite*.c: one SQLite file, the embedded default (tools/run)
 *   "postgresql://..." (or postgres://)  store_pg*.c: PostgreSQL (libpq), for several server instances
 * Both keep the same promises: a package is decided once (the nonce is spent in the decision's own
 * transaction), a committed decision and its audit row survive a crash, and the frame index is
 * searched across every process that shares the store. Both run the same versioned migrations
 * (schema_version); a schema newer than the server is refused at open.
 *
 * Adding a store function (e.g. a new table's reads and writes):
 *   1. its prototype below, and a member of the same name in vf_srv_store_ops (the same arguments
 *      with the handle first);
 *   2. the dispatch in store.c (one line: a backend that lacks it answers -1 / NULL);
 *   3. its implementation in both backends, added to each one's ops table: SQLite in store_sqlite*.c
 *      (helpers in store_sqlite.h), PostgreSQL in store_pg*.c (helpers in store_pg.h: statement
 *      parameters, results, begin/commit/rollback); tests/server runs against both
 *      (VF_TEST_STORE=postgresql, tools/test does);
 *   4. a new table or column: a new migration at the end of MIGRATIONS in both backend files, with
 *      the same version number (never edit a migration that has shipped).
 * Included by server.h (it uses vf_srv_session_config). */
#ifndef VF_SRV_STORE_H
#define VF_SRV_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct vf_srv_frame_print vf_srv_frame_print;   /* frameprint.h */

typedef struct vf_srv_session {
    char id[33];
    int64_t created_at, expires_at;
    uint8_t pubkey[160]; size_t pubkey_len;
    vf_srv_session_config cfg;
    float ref[VF_SRV_EMB_MAX]; int ref_dim;  /* 0 = no reference */
    char external_ref[129];
    int final;
    char decision[16];
    int attempt;                      /* current attempt */
    char nonce[48];                   /* its nonce */
    int64_t nonce_issued_at;
    int nonce_used;
    int uncertain_count, fail_count, challenge_passed;
    char challenge[16];               /* "sequence" when the current attempt answers a challenge, else "" */
    int demo;                         /* created through /demo/sessions */
    /* the integrator's fields and the managed page (managed.c) */
    char redirect_url[VF_SRV_URL_MAX + 1], webhook_url[VF_SRV_URL_MAX + 1];
    char reference_id[129];
    char integrator[17];              /* hash prefix of the API key that created it ("" for demo sessions) */
    int managed;                      /* created without a page key: the server's page binds one */
    char start_token[65];             /* SHA-256 hex of the managed page's one-time start token */
} vf_srv_session;

typedef struct vf_srv_audit {
    const char *route, *session_id, *request_sha256, *remote;
    int attempt, status;
    const char *code;                 /* error code or decision */
    const char *decision;             /* NULL for rejections */
    const char *reasons_json, *detail_json;
} vf_srv_audit;

typedef struct vf_srv_store vf_srv_store;
/* Open the store named by `url` (above), creating or upgrading its schema; 0 = ok, else err says why. */
int vf_srv_store_open(const char *url, vf_srv_store **out, char *err, size_t errsz);
void vf_srv_store_close(vf_srv_store *s);
/* Insert a new session and its attempt 1 with nonce, plus the audit record, in one transaction. */
int vf_srv_store_create_session(vf_srv_store *s, const vf_srv_session *ss, const vf_srv_audit *a);
int vf_srv_store_get_session(vf_srv_store *s, const char *id, vf_srv_session *out); /* 1 found, 0 none, -1 error */
/* 1 when `nonce` was issued for this session and already used. */
int vf_srv_store_nonce_used(vf_srv_store *s, const char *id, const char *nonce);
/* Spend the attempt's nonce (iff unused), record its outcome, update the session (final, or the
 * next attempt with its nonce and challenge) and append the audit record: one transaction,
 * committed before returning 0; 1 = the nonce was already used (nothing written), -1 = error. */
typedef struct vf_srv_outcome {
    int attempt; const char *decision; int final;
    const char *detail_json;          /* attempt detail for GET /v1/sessions/{id} */
    int uncertain_inc, fail_inc, challenge_passed;
    const char *next_nonce; const char *next_challenge; int64_t now;
    /* the package's frames, added to the frame index; with `recheck`, rows indexed after
     * `index_seen` (by a concurrent decision) that match them make the call return 2, nothing written */
    const vf_srv_frame_print *prints; int n_prints;
    int64_t index_seen; const vf_srv_freshness_config *recheck;
    const char *request_sha256;       /* the package decided ... */
    const char *answer_json;          /* ... and the page's answer: the same body again gets it again */
    /* in the same transaction: the webhook event for the outbox (event_id NULL: none) ... */
    const char *event_id, *event_url, *event_integrator, *event_body;
    /* ... the session photo (photo NULL: none; it replaces an earlier attempt's) ... */
    const uint8_t *photo; size_t photo_len; int photo_w, photo_h; float photo_score; int64_t photo_expires_at;
    /* ... and the server's embedding of the capture, for the collections (emb NULL: none; approve
     * and review only: a rejected capture's template is not kept) */
    const float *emb; int emb_dim; const char *emb_model;
} vf_srv_outcome;
/* The answer recorded for the package with this body hash on this nonce (malloc'd JSON), or NULL:
 * a page whose answer was lost (a crash after the commit, a dropped connection) posts the same
 * signed body again and gets the same answer. */
char *vf_srv_store_recorded_answer(vf_srv_store *s, const char *id, const char *nonce, const char *request_sha256);
/* 0 = committed, 1 = the nonce was already used, 2 = a frame was indexed since index_seen, -1 = error. */
int vf_srv_store_record_outcome(vf_srv_store *s, const char *id, const vf_srv_outcome *o, const vf_srv_audit *a);
/* Earlier packages' frames like these (freshness.c): the same SHA-256, or a DCT hash within
 * c->replay_hamming whose thumbnail is within c->replay_distance. At most one hit per frame, in
 * hits[]; nearest[i] = the smallest thumbnail distance of frame i's candidates (+inf: none);
 * *candidates = rows examined; *last_id = the index's last row before the search. Returns the
 * number of hits, -1 on error. */
typedef struct vf_srv_index_hit {
    int frame, exact, hamming;
    float distance;
    char session_id[33];
    int attempt;
    int64_t at;
} vf_srv_index_hit;
int vf_srv_store_index_find(vf_srv_store *s, const vf_srv_frame_print *prints, int n, int64_t after_id,
                            const vf_srv_freshness_config *c, vf_srv_index_hit *hits, float *nearest, int *candidates,
                            int64_t *last_id);
int vf_srv_store_audit(vf_srv_store *s, const vf_srv_audit *a);
/* Detail for the integrator: session + attempts as JSON (malloc'd), NULL when unknown. */
char *vf_srv_store_session_detail(vf_srv_store *s, const char *id);

/* A managed session's page key, once: set iff none is set and the token hash matches, with the
 * audit record, one transaction. 0 = bound, 1 = not (already bound or another token), -1 = error. */
int vf_srv_store_bind_key(vf_srv_store *s, const char *id, const char *token_sha256, const uint8_t *key, size_t n,
                          const vf_srv_audit *a);
/* The webhook outbox (outbox.c); its rows are written by record_outcome. */
typedef struct vf_srv_outbox_event {
    int64_t row;
    char event_id[48], session_id[33], integrator[17];
    char url[VF_SRV_URL_MAX + 1];
    char *body;                       /* malloc'd, the exact bytes signed and sent */
    int attempts;                     /* tries so far */
} vf_srv_outbox_event;
/* Up to max pending events due at `now` (next_at <= now, no live lease), each leased until now +
 * lease_ms in the same transaction; returns how many, -1 on error. */
int vf_srv_store_outbox_claim(vf_srv_store *s, int64_t now, int64_t lease_ms, vf_srv_outbox_event *ev, int max);
/* After a try: state "delivered", "pending" (next try at next_at) or "dead"; attempts = tries so far. */
int vf_srv_store_outbox_done(vf_srv_store *s, int64_t row, const char *state, int attempts, int64_t next_at, int status,
                             const char *error);
/* The session photo while it is kept (expires_at > now): 1 found (jpeg malloc'd), 0 none, -1 error. */
typedef struct vf_srv_photo_row {
    uint8_t *jpeg; size_t len;
    int width, height, attempt;
    float quality_score;
    int64_t created_at, expires_at;
} vf_srv_photo_row;
int vf_srv_store_photo_get(vf_srv_store *s, const char *id, int64_t now, vf_srv_photo_row *out);
/* Delete photos past their retention; returns how many, -1 on error. */
int vf_srv_store_photo_sweep(vf_srv_store *s, int64_t now);
/* Delete a session: its photo, attempts, frame index rows and the session row (the append-only
 * audit keeps its rows, which hold no image; the outbox keeps its events); the audit record of
 * the deletion; one transaction. 1 = deleted, 0 = no such session, -1 = error. */
int vf_srv_store_delete_session(vf_srv_store *s, const char *id, const vf_srv_audit *a);
/* ---- face collections (collections.c): the store is their source of truth ---------------------- */
/* Every change to a collection's faces (an add, a delete) takes the collection's next `seq`; each
 * server instance keeps its in-memory index (faceindex.h) and the last seq it applied, and reads
 * the rows changed since before it answers (vf_srv_store_faces_since). */
typedef struct vf_srv_collection {
    char id[33], name[129];
    int64_t created_at, seq;          /* seq: the last change */
    char model[65];                   /* the embedder's hash (so its dimension): faces of another model are refused */
    float dedupe_threshold;           /* a hit at or above it with another external_face_id -> review */
    char integrator[17];              /* the API key that created it (vf_srv_integrator_id); "" = any key
                                       * (a collection of schema 4, before collections had an owner) */
} vf_srv_collection;
typedef struct vf_srv_face {
    int64_t row, seq, created_at;     /* row: the index's id of the face */
    char face_id[33], external_face_id[129], session_id[33];
    int deleted;
    int dim;
    const float *embedding;           /* add: the caller's; read: valid during the callback */
} vf_srv_face;
/* 0 = created (with the audit row), -1 = error. */
int vf_srv_store_collection_create(vf_srv_store *s, const vf_srv_collection *c, const vf_srv_audit *a);
int vf_srv_store_collection_get(vf_srv_store *s, const char *id, vf_srv_collection *out);   /* 1 found, 0 none, -1 error */
/* One transaction: the collection's next seq, the face row, the audit row. Fills f->row, f->seq,
 * f->created_at. 0 = ok, 0 > error. */
int vf_srv_store_face_add(vf_srv_store *s, const char *collection_id, vf_srv_face *f, const vf_srv_audit *a);
/* Mark the face deleted (its embedding erased) under the collection's next seq, with the audit row.
 * 1 = deleted, 0 = no such live face, -1 = error. */
int vf_srv_store_face_delete(vf_srv_store *s, const char *collection_id, const char *face_id, const vf_srv_audit *a);
/* A live face by its id, its embedding copied to emb (max floats). 1 found, 0 none, -1 error. */
int vf_srv_store_face_get(vf_srv_store *s, const char *collection_id, const char *face_id, vf_srv_face *out, float *emb,
                          int max);
/* The faces changed after `after_seq`, in seq order, deleted ones included (embedding NULL), each
 * passed to fn (a non-zero return stops). *last_seq = the last seq passed. 0 = ok, -1 = error. */
int vf_srv_store_faces_since(vf_srv_store *s, const char *collection_id, int64_t after_seq,
                             int (*fn)(void *ctx, const vf_srv_face *f), void *ctx, int64_t *last_seq);
/* The live faces of index rows (a search's hits): out[i] for rows[i], found[i] = 0 when the row is
 * deleted or unknown. 0 = ok, -1 = error. */
int vf_srv_store_faces_by_rows(vf_srv_store *s, const char *collection_id, const int64_t *rows, int n, vf_srv_face *out,
                               int *found);
/* A decided session's server embedding (written by record_outcome), the latest attempt's: 1 found,
 * 0 none, -1 error. */
int vf_srv_store_get_embedding(vf_srv_store *s, const char *session_id, float *emb, int max, int *dim, char model[65]);

/* The store's schema version this server writes (both backends: the length of their MIGRATIONS). */
#define VF_SRV_SCHEMA_VERSION 5
/* "sqlite" or "postgresql". */
const char *vf_srv_store_backend(const vf_srv_store *s);

/* ---- backends --------------------------------------------------------------------------------- */

/* One entry per function above, the handle first; a backend's handle starts with `ops`. */
typedef struct vf_srv_store_ops {
    const char *name;
    void (*close)(vf_srv_store *s);
    int (*create_session)(vf_srv_store *s, const vf_srv_session *ss, const vf_srv_audit *a);
    int (*get_session)(vf_srv_store *s, const char *id, vf_srv_session *out);
    int (*nonce_used)(vf_srv_store *s, const char *id, const char *nonce);
    char *(*recorded_answer)(vf_srv_store *s, const char *id, const char *nonce, const char *request_sha256);
    int (*record_outcome)(vf_srv_store *s, const char *id, const vf_srv_outcome *o, const vf_srv_audit *a);
    int (*index_find)(vf_srv_store *s, const vf_srv_frame_print *prints, int n, int64_t after_id,
                      const vf_srv_freshness_config *c, vf_srv_index_hit *hits, float *nearest, int *candidates,
                      int64_t *last_id);
    int (*audit)(vf_srv_store *s, const vf_srv_audit *a);
    char *(*session_detail)(vf_srv_store *s, const char *id);
    int (*bind_key)(vf_srv_store *s, const char *id, const char *token_sha256, const uint8_t *key, size_t n, const vf_srv_audit *a);
    int (*outbox_claim)(vf_srv_store *s, int64_t now, int64_t lease_ms, vf_srv_outbox_event *ev, int max);
    int (*outbox_done)(vf_srv_store *s, int64_t row, const char *state, int attempts, int64_t next_at, int status, const char *error);
    int (*photo_get)(vf_srv_store *s, const char *id, int64_t now, vf_srv_photo_row *out);
    int (*photo_sweep)(vf_srv_store *s, int64_t now);
    int (*delete_session)(vf_srv_store *s, const char *id, const vf_srv_audit *a);
    int (*collection_create)(vf_srv_store *s, const vf_srv_collection *c, const vf_srv_audit *a);
    int (*collection_get)(vf_srv_store *s, const char *id, vf_srv_collection *out);
    int (*face_add)(vf_srv_store *s, const char *collection_id, vf_srv_face *f, const vf_srv_audit *a);
    int (*face_delete)(vf_srv_store *s, const char *collection_id, const char *face_id, const vf_srv_audit *a);
    int (*face_get)(vf_srv_store *s, const char *collection_id, const char *face_id, vf_srv_face *out, float *emb, int max);
    int (*faces_since)(vf_srv_store *s, const char *collection_id, int64_t after_seq,
                       int (*fn)(void *ctx, const vf_srv_face *f), void *ctx, int64_t *last_seq);
    int (*faces_by_rows)(vf_srv_store *s, const char *collection_id, const int64_t *rows, int n, vf_srv_face *out, int *found);
    int (*get_embedding)(vf_srv_store *s, const char *session_id, float *emb, int max, int *dim, char model[65]);
} vf_srv_store_ops;

struct vf_srv_store { const vf_srv_store_ops *ops; };

/* Backend constructors (store.c picks one by the URL); 0 = ok, else err says why. */
int vf_srv_store_sqlite_open(const char *path, vf_srv_store **out, char *err, size_t errsz);
int vf_srv_store_pg_open(const char *url, vf_srv_store **out, char *err, size_t errsz);

/* Shared by the backends (store.c), so both read and answer alike. */
/* A stored session config back into its struct; 0 = ok. */
int vf_srv_store_parse_config(const char *txt, vf_srv_session_config *c);
/* The frame index's similar-candidate query, placeholders `mark`N (SQLite '?', PostgreSQL '$'):
 * 1 = after_id, 2.. = the 4 x VF_SRV_INDEX_PROBES chunk values of vf_srv_store_index_probes, the
 * last = the row limit; selects phash, thumb, session_id, attempt, at. */
#define VF_SRV_INDEX_PROBES 17
void vf_srv_store_index_sql(char *sql, size_t n, char mark);
void vf_srv_store_index_probes(uint64_t phash, int probes[4 * VF_SRV_INDEX_PROBES]);
/* One candidate row for frame p: updates *nearest and, when it is a closer match within the
 * thresholds, *h (h->distance starts at +inf). */
void vf_srv_store_index_consider(const vf_srv_frame_print *p, const vf_srv_freshness_config *c, uint64_t phash,
                                 const uint8_t *thumb, size_t thumb_len, const char *session_id, int attempt, int64_t at,
                                 vf_srv_index_hit *h, float *nearest);
/* A frame's thumbnail as stored (uint16 little-endian). */
void vf_srv_store_thumb_bytes(const vf_srv_frame_print *p, uint8_t *out);   /* 2 * VF_SRV_THUMB_CELLS bytes */
/* GET /v1/sessions/{id}: the session object, then each attempt added to its "attempts". JSON text
 * columns (config, detail) are embedded as JSON. */
typedef struct vf_srv_detail_session {
    int64_t created_at, expires_at, decided_at;
    const char *config, *external_ref, *decision;
    int final, attempt, has_decided_at, has_reference, demo;
} vf_srv_detail_session;
typedef struct vf_srv_detail_attempt {
    int attempt;
    int64_t issued_at, used_at, decided_at;
    int has_used_at, has_decided_at;
    const char *challenge, *decision, *detail;
} vf_srv_detail_attempt;
cJSON *vf_srv_store_detail_session(const char *id, const vf_srv_detail_session *d);
void vf_srv_store_detail_attempt(cJSON *session, const vf_srv_detail_attempt *a);

#endif
