/* store_sqlite_faces.c - the face collections in the SQLite backend (store.h: collections, faces,
 * the sessions' embeddings). A change takes the collection's next seq in the same transaction as
 * its row and its audit record; a deleted face keeps its row (the tombstone other instances read
 * to drop it from their index) without its embedding. */
#include "store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char VF_SQ_V4_COLLECTIONS[] =
    "CREATE TABLE IF NOT EXISTS collections ("
    " id TEXT PRIMARY KEY, name TEXT, created_at INTEGER NOT NULL, model TEXT NOT NULL,"
    " dedupe_threshold REAL NOT NULL, seq INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS faces ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, face_id TEXT NOT NULL UNIQUE, collection_id TEXT NOT NULL REFERENCES collections(id),"
    " external_face_id TEXT NOT NULL, session_id TEXT, embedding BLOB, created_at INTEGER NOT NULL, deleted_at INTEGER,"
    " seq INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS faces_changes ON faces(collection_id, seq);"
    "CREATE TABLE IF NOT EXISTS session_embeddings ("
    " session_id TEXT NOT NULL, attempt INTEGER NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL,"
    " embedding BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (session_id, attempt));";

/* Version 5: the integrator that created a collection; NULL (a collection of version 4) = any key. */
const char VF_SQ_V5_COLLECTION_OWNER[] = "ALTER TABLE collections ADD COLUMN integrator TEXT;";

static void copy_text(char *dst, size_t cap, const unsigned char *src) { snprintf(dst, cap, "%s", src ? (const char *)src : ""); }

int vf_sq_collection_create(vf_srv_store *bs, const vf_srv_collection *c, const vf_srv_audit *a) {
    sq *s = SQ(bs);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (vf_sq_exec(s, "BEGIN IMMEDIATE")) goto out;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO collections(id,name,created_at,model,dedupe_threshold,integrator) VALUES(?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) goto rollback;
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_TRANSIENT);
    vf_sq_bind_text(st, 2, c->name[0] ? c->name : NULL);
    sqlite3_bind_int64(st, 3, c->created_at);
    sqlite3_bind_text(st, 4, c->model, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 5, c->dedupe_threshold);
    vf_sq_bind_text(st, 6, c->integrator[0] ? c->integrator : NULL);
    if (sqlite3_step(st) != SQLITE_DONE || vf_sq_audit_insert(s, a) || vf_sq_exec(s, "COMMIT")) goto rollback;
    rc = 0;
    goto out;
rollback:
    vf_sq_exec(s, "ROLLBACK");
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_sq_collection_get(vf_srv_store *bs, const char *id, vf_srv_collection *o) {
    sq *s = SQ(bs);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    memset(o, 0, sizeof *o);
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "SELECT name,created_at,model,dedupe_threshold,seq,integrator FROM collections WHERE id=?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st);
        rc = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
        if (rc == 1) {
            snprintf(o->id, sizeof o->id, "%s", id);
            copy_text(o->name, sizeof o->name, sqlite3_column_text(st, 0));
            o->created_at = sqlite3_column_int64(st, 1);
            copy_text(o->model, sizeof o->model, sqlite3_column_text(st, 2));
            o->dedupe_threshold = (float)sqlite3_column_double(st, 3);
            o->seq = sqlite3_column_int64(st, 4);
            copy_text(o->integrator, sizeof o->integrator, sqlite3_column_text(st, 5));
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* The collection's next seq (inside the caller's transaction); -1 when it does not exist. */
static int64_t next_seq(sq *s, const char *cid) {
    sqlite3_stmt *st = NULL;
    int64_t seq = -1;
    if (sqlite3_prepare_v2(s->db, "UPDATE collections SET seq=seq+1 WHERE id=? RETURNING seq", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, cid, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) seq = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return seq;
}

int vf_sq_face_add(vf_srv_store *bs, const char *cid, vf_srv_face *f, const vf_srv_audit *a) {
    sq *s = SQ(bs);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (vf_sq_exec(s, "BEGIN IMMEDIATE")) goto out;
    f->seq = next_seq(s, cid);
    f->created_at = vf_srv_now_ms();
    if (f->seq < 0) goto rollback;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO faces(face_id,collection_id,external_face_id,session_id,embedding,created_at,seq)"
                                  " VALUES(?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) goto rollback;
    sqlite3_bind_text(st, 1, f->face_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, cid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, f->external_face_id, -1, SQLITE_TRANSIENT);
    vf_sq_bind_text(st, 4, f->session_id[0] ? f->session_id : NULL);
    sqlite3_bind_blob(st, 5, f->embedding, (int)(sizeof(float) * (size_t)f->dim), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, f->created_at);
    sqlite3_bind_int64(st, 7, f->seq);
    if (sqlite3_step(st) != SQLITE_DONE) goto rollback;
    f->row = sqlite3_last_insert_rowid(s->db);
    if (vf_sq_audit_insert(s, a) || vf_sq_exec(s, "COMMIT")) goto rollback;
    rc = 0;
    goto out;
rollback:
    vf_sq_exec(s, "ROLLBACK");
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_sq_face_delete(vf_srv_store *bs, const char *cid, const char *face_id, const vf_srv_audit *a) {
    sq *s = SQ(bs);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (vf_sq_exec(s, "BEGIN IMMEDIATE")) goto out;
    int64_t seq = next_seq(s, cid);
    if (seq < 0) { rc = 0; goto rollback; }
    if (sqlite3_prepare_v2(s->db, "UPDATE faces SET deleted_at=?, embedding=NULL, seq=? WHERE collection_id=? AND face_id=?"
                                  " AND deleted_at IS NULL", -1, &st, NULL) != SQLITE_OK) goto rollback;
    sqlite3_bind_int64(st, 1, vf_srv_now_ms());
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_text(st, 3, cid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, face_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) goto rollback;
    if (sqlite3_changes(s->db) == 0) { rc = 0; goto rollback; }
    if (vf_sq_audit_insert(s, a) || vf_sq_exec(s, "COMMIT")) goto rollback;
    rc = 1;
    goto out;
rollback:
    vf_sq_exec(s, "ROLLBACK");
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* columns: id, face_id, external_face_id, session_id, embedding, created_at, deleted_at, seq */
#define FACE_COLS "id,face_id,external_face_id,session_id,embedding,created_at,deleted_at,seq"
static void read_face(sqlite3_stmt *st, vf_srv_face *f) {
    memset(f, 0, sizeof *f);
    f->row = sqlite3_column_int64(st, 0);
    copy_text(f->face_id, sizeof f->face_id, sqlite3_column_text(st, 1));
    copy_text(f->external_face_id, sizeof f->external_face_id, sqlite3_column_text(st, 2));
    copy_text(f->session_id, sizeof f->session_id, sqlite3_column_text(st, 3));
    f->embedding = sqlite3_column_blob(st, 4);
    f->dim = sqlite3_column_bytes(st, 4) / (int)sizeof(float);
    if (!f->dim) f->embedding = NULL;
    f->created_at = sqlite3_column_int64(st, 5);
    f->deleted = sqlite3_column_type(st, 6) != SQLITE_NULL;
    f->seq = sqlite3_column_int64(st, 7);
}

int vf_sq_face_get(vf_srv_store *bs, const char *cid, const char *face_id, vf_srv_face *o, float *emb, int max) {
    sq *s = SQ(bs);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "SELECT " FACE_COLS " FROM faces WHERE collection_id=? AND face_id=? AND deleted_at IS NULL", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, cid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, face_id, -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st);
        rc = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
        if (rc == 1) {
            read_face(st, o);
            if (o->dim > max) rc = -1;
            else memcpy(emb, o->embedding, sizeof(float) * (size_t)o->dim);
            o->embedding = emb;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_sq_faces_since(vf_srv_store *bs, const char *cid, int64_t after, int (*fn)(void *ctx, const vf_srv_face *f), void *ctx,
                      int64_t *last_seq) {
    sq *s = SQ(bs);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    *last_seq = after;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "SELECT " FACE_COLS " FROM faces WHERE collection_id=? AND seq>? ORDER BY seq", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, cid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, after);
        int r;
        vf_srv_face f;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            read_face(st, &f);
            if (fn(ctx, &f)) break;
            *last_seq = f.seq;
        }
        rc = r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_sq_faces_by_rows(vf_srv_store *bs, const char *cid, const int64_t *rows, int n, vf_srv_face *out, int *found) {
    sq *s = SQ(bs);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "SELECT " FACE_COLS " FROM faces WHERE id=? AND collection_id=? AND deleted_at IS NULL", -1, &st,
                           NULL) == SQLITE_OK) {
        rc = 0;
        for (int i = 0; i < n && !rc; i++) {
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, rows[i]);
            sqlite3_bind_text(st, 2, cid, -1, SQLITE_TRANSIENT);
            int r = sqlite3_step(st);
            found[i] = r == SQLITE_ROW;
            if (found[i]) { read_face(st, &out[i]); out[i].embedding = NULL; }
            else if (r != SQLITE_DONE) rc = -1;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_sq_outcome_embedding(sq *s, const char *sid, const vf_srv_outcome *o) {
    if (!o->emb) return 0;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO session_embeddings(session_id,attempt,model,dim,embedding,created_at)"
                                  " VALUES(?,?,?,?,?,?)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, o->attempt);
        sqlite3_bind_text(st, 3, o->emb_model, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, o->emb_dim);
        sqlite3_bind_blob(st, 5, o->emb, (int)(sizeof(float) * (size_t)o->emb_dim), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, o->now);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

int vf_sq_get_embedding(vf_srv_store *bs, const char *sid, float *emb, int max, int *dim, char model[65]) {
    sq *s = SQ(bs);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "SELECT model,dim,embedding FROM session_embeddings WHERE session_id=? ORDER BY attempt DESC LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st);
        rc = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
        if (rc == 1) {
            *dim = sqlite3_column_int(st, 1);
            if (*dim < 1 || *dim > max || sqlite3_column_bytes(st, 2) != (int)(sizeof(float) * (size_t)*dim)) rc = -1;
            else {
                memcpy(emb, sqlite3_column_blob(st, 2), sizeof(float) * (size_t)*dim);
                copy_text(model, 65, sqlite3_column_text(st, 0));
            }
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
