/* store_sqlite_hooks.c - the SQLite backend's part of issue 13 (store.h): the managed page's key
 * binding, the webhook outbox (written by record_outcome, claimed with a lease by outbox.c), the
 * session photo, deleting a session, and what GET /v1/sessions/{id} adds about them. */
#include "store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Version 3 (issue 13): the integrator's fields and the managed page's key binding on sessions;
 * the webhook outbox (written in the decision's transaction, drained by outbox.c); the session
 * photo (kept until expires_at, the retention). */
const char VF_SQ_V3_HOOKS[] =
    "ALTER TABLE sessions ADD COLUMN redirect_url TEXT;"
    "ALTER TABLE sessions ADD COLUMN webhook_url TEXT;"
    "ALTER TABLE sessions ADD COLUMN reference_id TEXT;"
    "ALTER TABLE sessions ADD COLUMN integrator TEXT;"
    "ALTER TABLE sessions ADD COLUMN managed INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN start_token TEXT;"
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL, url TEXT NOT NULL,"
    " integrator TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL, lease_until INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, delivered_at INTEGER,"
    " last_status INTEGER, last_error TEXT);"
    "CREATE INDEX outbox_due ON outbox(state, next_at);"
    "CREATE INDEX outbox_session ON outbox(session_id);"
    "CREATE TABLE photos ("
    " session_id TEXT PRIMARY KEY, attempt INTEGER NOT NULL, jpeg BLOB NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,"
    " quality_score REAL NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
    "CREATE INDEX photos_expiry ON photos(expires_at);";

/* The decision's webhook event, photo and embedding, inside record_outcome's transaction. */
int vf_sq_outcome_hooks(sq *s, const char *id, const vf_srv_outcome *o) {
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (o->event_id) {
        rc = sqlite3_prepare_v2(s->db, "INSERT INTO outbox(event_id,session_id,url,integrator,body,next_at,created_at)"
                                       " VALUES(?,?,?,?,?,?,?)", -1, &st, NULL) == SQLITE_OK ? 0 : -1;
        if (!rc) {
            sqlite3_bind_text(st, 1, o->event_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, o->event_url, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 4, o->event_integrator, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 5, o->event_body, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 6, o->now);
            sqlite3_bind_int64(st, 7, o->now);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (!rc && o->photo) {
        rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO photos(session_id,attempt,jpeg,width,height,quality_score,created_at,expires_at)"
                                       " VALUES(?,?,?,?,?,?,?,?)", -1, &st, NULL) == SQLITE_OK ? 0 : -1;
        if (!rc) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(st, 2, o->attempt);
            sqlite3_bind_blob(st, 3, o->photo, (int)o->photo_len, SQLITE_TRANSIENT);
            sqlite3_bind_int(st, 4, o->photo_w);
            sqlite3_bind_int(st, 5, o->photo_h);
            sqlite3_bind_double(st, 6, o->photo_score);
            sqlite3_bind_int64(st, 7, o->now);
            sqlite3_bind_int64(st, 8, o->photo_expires_at);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        }
        sqlite3_finalize(st);
    }
    return rc ? rc : vf_sq_outcome_embedding(s, id, o);
}

static const char *col_text(sqlite3_stmt *st, int i) { return (const char *)sqlite3_column_text(st, i); }

/* GET /v1/sessions/{id}: reference_id, managed, whether a photo is kept, the webhook events' states. */
int vf_sq_detail_hooks(sq *s, const char *id, cJSON *j) {
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT reference_id,managed,length(public_key)>0,(SELECT count(*) FROM photos WHERE session_id=?1)"
                                  " FROM sessions WHERE id=?1", -1, &st, NULL) != SQLITE_OK) goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) goto out;
    if (col_text(st, 0)) cJSON_AddStringToObject(j, "reference_id", col_text(st, 0));
    cJSON_AddBoolToObject(j, "managed", sqlite3_column_int(st, 1));
    if (sqlite3_column_int(st, 1)) cJSON_AddBoolToObject(j, "page_started", sqlite3_column_int(st, 2));
    cJSON_AddBoolToObject(j, "photo", sqlite3_column_int(st, 3) > 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->db, "SELECT event_id,state,attempts,last_status,last_error,delivered_at,next_at FROM outbox"
                                  " WHERE session_id=? ORDER BY id", -1, &st, NULL) != SQLITE_OK) { st = NULL; goto out; }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    cJSON *w = cJSON_AddArrayToObject(j, "webhooks");
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", col_text(st, 0));
        cJSON_AddStringToObject(e, "state", col_text(st, 1));
        cJSON_AddNumberToObject(e, "tries", sqlite3_column_int(st, 2));
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) cJSON_AddNumberToObject(e, "last_status", sqlite3_column_int(st, 3));
        if (col_text(st, 4)) cJSON_AddStringToObject(e, "last_error", col_text(st, 4));
        if (sqlite3_column_type(st, 5) != SQLITE_NULL) cJSON_AddNumberToObject(e, "delivered_at", (double)sqlite3_column_int64(st, 5));
        else cJSON_AddNumberToObject(e, "next_at", (double)sqlite3_column_int64(st, 6));
        cJSON_AddItemToArray(w, e);
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* ---- issue 13: the managed page's key, the webhook outbox, the session photo ------------------- */

int vf_sq_bind_key(vf_srv_store *bs, const char *id, const char *token_sha256, const uint8_t *key, size_t n, const vf_srv_audit *a) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    sqlite3_stmt *st = NULL;
    if (vf_sq_exec(s, "BEGIN IMMEDIATE")) goto out;
    if (sqlite3_prepare_v2(s->db, "UPDATE sessions SET public_key=? WHERE id=? AND managed=1 AND start_token=? AND length(public_key)=0"
                                  " AND final=0", -1, &st, NULL) != SQLITE_OK) goto rollback;
    sqlite3_bind_blob(st, 1, key, (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, token_sha256, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) goto rollback;
    if (sqlite3_changes(s->db) != 1) { rc = 1; goto rollback_keep; }
    if (vf_sq_audit_insert(s, a) || vf_sq_exec(s, "COMMIT")) goto rollback;
    rc = 0;
    goto out;
rollback:
    rc = -1;
rollback_keep:
    vf_sq_exec(s, "ROLLBACK");
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_sq_outbox_claim(vf_srv_store *bs, int64_t now, int64_t lease_ms, vf_srv_outbox_event *ev, int max) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    int n = -1;
    sqlite3_stmt *st = NULL, *up = NULL;
    /* a read first: the write lock (which decisions need) only when an event is due */
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM outbox WHERE state='pending' AND next_at<=? AND lease_until<=? LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK) goto out;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, now);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if (r != SQLITE_ROW) { n = r == SQLITE_DONE ? 0 : -1; goto out; }
    if (vf_sq_exec(s, "BEGIN IMMEDIATE")) goto out;
    if (sqlite3_prepare_v2(s->db, "SELECT id,event_id,session_id,url,integrator,body,attempts FROM outbox WHERE state='pending'"
                                  " AND next_at<=? AND lease_until<=? ORDER BY next_at LIMIT ?", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE outbox SET lease_until=? WHERE id=?", -1, &up, NULL) != SQLITE_OK) goto rollback;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int(st, 3, max);
    n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        vf_srv_outbox_event *e = &ev[n];
        memset(e, 0, sizeof *e);
        e->row = sqlite3_column_int64(st, 0);
        snprintf(e->event_id, sizeof e->event_id, "%s", col_text(st, 1));
        snprintf(e->session_id, sizeof e->session_id, "%s", col_text(st, 2));
        snprintf(e->url, sizeof e->url, "%s", col_text(st, 3));
        snprintf(e->integrator, sizeof e->integrator, "%s", col_text(st, 4));
        e->body = strdup(col_text(st, 5) ? col_text(st, 5) : "");
        e->attempts = sqlite3_column_int(st, 6);
        sqlite3_reset(up);
        sqlite3_bind_int64(up, 1, now + lease_ms);
        sqlite3_bind_int64(up, 2, e->row);
        if (!e->body || sqlite3_step(up) != SQLITE_DONE) { free(e->body); goto rollback; }
        n++;
    }
    if (vf_sq_exec(s, "COMMIT")) goto rollback;
    goto out;
rollback:
    for (int i = 0; i < n; i++) free(ev[i].body);
    n = -1;
    vf_sq_exec(s, "ROLLBACK");
out:
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    pthread_mutex_unlock(&s->mu);
    return n;
}

int vf_sq_outbox_done(vf_srv_store *bs, int64_t row, const char *state, int attempts, int64_t next_at, int status, const char *error) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, "UPDATE outbox SET state=?,attempts=?,next_at=?,lease_until=0,last_status=?,last_error=?,"
                                  "delivered_at=CASE WHEN ?='delivered' THEN ? ELSE NULL END WHERE id=?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, attempts);
        sqlite3_bind_int64(st, 3, next_at);
        if (status) sqlite3_bind_int(st, 4, status); else sqlite3_bind_null(st, 4);
        vf_sq_bind_text(st, 5, error);
        sqlite3_bind_text(st, 6, state, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 7, vf_srv_now_ms());
        sqlite3_bind_int64(st, 8, row);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_sq_photo_get(vf_srv_store *bs, const char *id, int64_t now, vf_srv_photo_row *o) {
    sq *s = SQ(bs);
    memset(o, 0, sizeof *o);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT jpeg,width,height,attempt,quality_score,created_at,expires_at FROM photos"
                                  " WHERE session_id=? AND expires_at>?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
        int r = sqlite3_step(st);
        rc = r == SQLITE_DONE ? 0 : -1;
        if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) > 0 && (o->jpeg = malloc((size_t)sqlite3_column_bytes(st, 0)))) {
            o->len = (size_t)sqlite3_column_bytes(st, 0);
            memcpy(o->jpeg, sqlite3_column_blob(st, 0), o->len);
            o->width = sqlite3_column_int(st, 1);
            o->height = sqlite3_column_int(st, 2);
            o->attempt = sqlite3_column_int(st, 3);
            o->quality_score = (float)sqlite3_column_double(st, 4);
            o->created_at = sqlite3_column_int64(st, 5);
            o->expires_at = sqlite3_column_int64(st, 6);
            rc = 1;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_sq_photo_sweep(vf_srv_store *bs, int64_t now) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM photos WHERE expires_at<=?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, now);
        rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) : -1;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_sq_delete_session(vf_srv_store *bs, const char *id, const vf_srv_audit *a) {
    static const char *const DEL[] = {"DELETE FROM photos WHERE session_id=?", "DELETE FROM frame_index WHERE session_id=?",
                                      "DELETE FROM session_embeddings WHERE session_id=?",
                                      "DELETE FROM attempts WHERE session_id=?", "DELETE FROM session_embeddings WHERE session_id=?",
                                      "DELETE FROM sessions WHERE id=?"};
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    sqlite3_stmt *st = NULL;
    if (vf_sq_exec(s, "BEGIN IMMEDIATE")) goto out;
    for (size_t i = 0; i < sizeof DEL / sizeof DEL[0]; i++) {
        if (sqlite3_prepare_v2(s->db, DEL[i], -1, &st, NULL) != SQLITE_OK) goto rollback;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) goto rollback;
        sqlite3_finalize(st);
        st = NULL;
    }
    if (sqlite3_changes(s->db) != 1) { rc = 0; goto rollback_keep; }   /* the sessions row */
    if (vf_sq_audit_insert(s, a) || vf_sq_exec(s, "COMMIT")) goto rollback;
    rc = 1;
    goto out;
rollback:
    rc = -1;
rollback_keep:
    vf_sq_exec(s, "ROLLBACK");
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
