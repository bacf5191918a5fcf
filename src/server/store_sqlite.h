/* store_sqlite.h - private to the SQLite backend (store_sqlite.c, store_sqlite_faces.c,
 * store_sqlite_hooks.c): its handle and the helpers the files share. */
#ifndef VF_SRV_STORE_SQLITE_H
#define VF_SRV_STORE_SQLITE_H

#include "server.h"

#include <sqlite3.h>

typedef struct sq {
    vf_srv_store base;
    sqlite3 *db;
    pthread_mutex_t mu;
} sq;

#define SQ(bs) ((sq *)(bs))

int vf_sq_exec(sq *s, const char *sql);                       /* 0 = ok */
void vf_sq_bind_text(sqlite3_stmt *st, int i, const char *v); /* NULL binds NULL */
int vf_sq_audit_insert(sq *s, const vf_srv_audit *a);         /* inside the caller's transaction */

/* Schema version 4: collections, their faces, the sessions' embeddings (store_sqlite_faces.c);
 * version 5: each collection's owner (the integrator that created it). */
extern const char VF_SQ_V4_COLLECTIONS[], VF_SQ_V5_COLLECTION_OWNER[];

int vf_sq_collection_create(vf_srv_store *s, const vf_srv_collection *c, const vf_srv_audit *a);
int vf_sq_collection_get(vf_srv_store *s, const char *id, vf_srv_collection *out);
int vf_sq_face_add(vf_srv_store *s, const char *collection_id, vf_srv_face *f, const vf_srv_audit *a);
int vf_sq_face_delete(vf_srv_store *s, const char *collection_id, const char *face_id, const vf_srv_audit *a);
int vf_sq_face_get(vf_srv_store *s, const char *collection_id, const char *face_id, vf_srv_face *out, float *emb, int max);
int vf_sq_faces_since(vf_srv_store *s, const char *collection_id, int64_t after_seq,
                      int (*fn)(void *ctx, const vf_srv_face *f), void *ctx, int64_t *last_seq);
int vf_sq_faces_by_rows(vf_srv_store *s, const char *collection_id, const int64_t *rows, int n, vf_srv_face *out, int *found);
int vf_sq_outcome_embedding(sq *s, const char *id, const vf_srv_outcome *o);   /* inside record_outcome's transaction */
int vf_sq_get_embedding(vf_srv_store *s, const char *session_id, float *emb, int max, int *dim, char model[65]);

/* Schema version 3 and the issue-13 functions (store_sqlite_hooks.c). */
extern const char VF_SQ_V3_HOOKS[];
int vf_sq_outcome_hooks(sq *s, const char *id, const vf_srv_outcome *o);   /* inside record_outcome's transaction */
int vf_sq_detail_hooks(sq *s, const char *id, cJSON *detail);             /* the caller holds the mutex */
int vf_sq_bind_key(vf_srv_store *s, const char *id, const char *token_sha256, const uint8_t *key, size_t n, const vf_srv_audit *a);
int vf_sq_outbox_claim(vf_srv_store *s, int64_t now, int64_t lease_ms, vf_srv_outbox_event *ev, int max);
int vf_sq_outbox_done(vf_srv_store *s, int64_t row, const char *state, int attempts, int64_t next_at, int status, const char *error);
int vf_sq_photo_get(vf_srv_store *s, const char *id, int64_t now, vf_srv_photo_row *out);
int vf_sq_photo_sweep(vf_srv_store *s, int64_t now);
int vf_sq_delete_session(vf_srv_store *s, const char *id, const vf_srv_audit *a);

#define VF_SQ_HOOKS_OPS                                                                               \
    .bind_key = vf_sq_bind_key, .outbox_claim = vf_sq_outbox_claim, .outbox_done = vf_sq_outbox_done, \
    .photo_get = vf_sq_photo_get, .photo_sweep = vf_sq_photo_sweep, .delete_session = vf_sq_delete_session,

#define VF_SQ_COLLECTION_OPS                                                                          \
    .collection_create = vf_sq_collection_create, .collection_get = vf_sq_collection_get,            \
    .face_add = vf_sq_face_add, .face_delete = vf_sq_face_delete, .face_get = vf_sq_face_get,        \
    .faces_since = vf_sq_faces_since, .faces_by_rows = vf_sq_faces_by_rows,                          \
    .get_embedding = vf_sq_get_embedding,

#endif
