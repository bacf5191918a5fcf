/* store_sqlite.h - private to the SQLite backend (store_sqlite.c, store_sqlite_faces.c): its handle
 * and the helpers both files use. */
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

/* Schema version 4: collections, their faces, the sessions' embeddings (store_sqlite_faces.c). */
extern const char VF_SQ_V4_COLLECTIONS[];

int vf_sq_collection_create(vf_srv_store *s, const vf_srv_collection *c, const vf_srv_audit *a);
int vf_sq_collection_get(vf_srv_store *s, const char *id, vf_srv_collection *out);
int vf_sq_face_add(vf_srv_store *s, const char *collection_id, vf_srv_face *f, const vf_srv_audit *a);
int vf_sq_face_delete(vf_srv_store *s, const char *collection_id, const char *face_id, const vf_srv_audit *a);
int vf_sq_face_get(vf_srv_store *s, const char *collection_id, const char *face_id, vf_srv_face *out, float *emb, int max);
int vf_sq_faces_since(vf_srv_store *s, const char *collection_id, int64_t after_seq,
                      int (*fn)(void *ctx, const vf_srv_face *f), void *ctx, int64_t *last_seq);
int vf_sq_faces_by_rows(vf_srv_store *s, const char *collection_id, const int64_t *rows, int n, vf_srv_face *out, int *found);
int vf_sq_put_embedding(vf_srv_store *s, const char *session_id, int attempt, const char *model, const float *emb, int dim);
int vf_sq_get_embedding(vf_srv_store *s, const char *session_id, float *emb, int max, int *dim, char model[65]);

#define VF_SQ_COLLECTION_OPS                                                                          \
    .collection_create = vf_sq_collection_create, .collection_get = vf_sq_collection_get,            \
    .face_add = vf_sq_face_add, .face_delete = vf_sq_face_delete, .face_get = vf_sq_face_get,        \
    .faces_since = vf_sq_faces_since, .faces_by_rows = vf_sq_faces_by_rows,                          \
    .put_embedding = vf_sq_put_embedding, .get_embedding = vf_sq_get_embedding,

#endif
