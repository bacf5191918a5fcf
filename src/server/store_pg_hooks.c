/* store_pg_hooks.c - the PostgreSQL side of issue 13's store functions (store_sqlite.c has the
 * SQLite side): the managed page's key bound once, the webhook outbox (its event written in the
 * decision's transaction; claimed with FOR UPDATE SKIP LOCKED, so two instances draining it never
 * lease the same event), the session photo, and deleting a session. */
#include "store_pg.h"

int vf_srv_pg_outcome_hooks(pgs *s, const char *id, const vf_srv_outcome *o) {
    if (o->event_id) {
        prm p = {0};
        p_str(&p, o->event_id);
        p_str(&p, id);
        p_str(&p, o->event_url);
        p_str(&p, o->event_integrator);
        p_str(&p, o->event_body);
        p_int(&p, o->now);
        if (cmd(s, "INSERT INTO outbox(event_id,session_id,url,integrator,body,next_at,created_at) VALUES($1,$2,$3,$4,$5,$6,$6)", &p) != 1)
            return -1;
    }
    if (o->photo) {
        char score[32];
        snprintf(score, sizeof score, "%.9g", o->photo_score);
        prm p = {0};
        p_str(&p, id);
        p_int(&p, o->attempt);
        p_bin(&p, o->photo, o->photo_len);
        p_int(&p, o->photo_w);
        p_int(&p, o->photo_h);
        p_str(&p, score);
        p_int(&p, o->now);
        p_int(&p, o->photo_expires_at);
        if (cmd(s, "INSERT INTO photos(session_id,attempt,jpeg,width,height,quality_score,created_at,expires_at)"
                   " VALUES($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (session_id) DO UPDATE SET attempt=EXCLUDED.attempt,"
                   "jpeg=EXCLUDED.jpeg,width=EXCLUDED.width,height=EXCLUDED.height,quality_score=EXCLUDED.quality_score,"
                   "created_at=EXCLUDED.created_at,expires_at=EXCLUDED.expires_at", &p) != 1)
            return -1;
    }
    return 0;
}

int vf_srv_pg_detail_hooks(pgs *s, const char *id, cJSON *j) {
    prm p = {0};
    p_str(&p, id);
    PGresult *r = q(s, "SELECT reference_id,managed,(length(public_key)>0)::int,(SELECT count(*) FROM photos WHERE session_id=$1)"
                       " FROM sessions WHERE id=$1", &p);
    if (!r || PQntuples(r) != 1) { PQclear(r); return -1; }
    if (col(r, 0, 0)) cJSON_AddStringToObject(j, "reference_id", col(r, 0, 0));
    cJSON_AddBoolToObject(j, "managed", col_int(r, 0, 1));
    if (col_int(r, 0, 1)) cJSON_AddBoolToObject(j, "page_started", col_int(r, 0, 2));
    cJSON_AddBoolToObject(j, "photo", col_int(r, 0, 3) > 0);
    PQclear(r);
    if (!(r = q(s, "SELECT event_id,state,attempts,last_status,last_error,delivered_at,next_at FROM outbox WHERE session_id=$1"
                   " ORDER BY id", &p)))
        return -1;
    cJSON *w = cJSON_AddArrayToObject(j, "webhooks");
    for (int i = 0; i < PQntuples(r); i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", col(r, i, 0));
        cJSON_AddStringToObject(e, "state", col(r, i, 1));
        cJSON_AddNumberToObject(e, "tries", (double)col_int(r, i, 2));
        if (col(r, i, 3)) cJSON_AddNumberToObject(e, "last_status", (double)col_int(r, i, 3));
        if (col(r, i, 4)) cJSON_AddStringToObject(e, "last_error", col(r, i, 4));
        if (col(r, i, 5)) cJSON_AddNumberToObject(e, "delivered_at", (double)col_int(r, i, 5));
        else cJSON_AddNumberToObject(e, "next_at", (double)col_int(r, i, 6));
        cJSON_AddItemToArray(w, e);
    }
    PQclear(r);
    return 0;
}

int vf_srv_pg_bind_key(vf_srv_store *bs, const char *id, const char *token_sha256, const uint8_t *key, size_t n,
                       const vf_srv_audit *a) {
    pgs *s = PG(bs);
    prm p = {0};
    p_bin(&p, key, n);
    p_str(&p, id);
    p_str(&p, token_sha256);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    if (!ready(s) && !begin(s)) {
        int64_t changed = cmd(s, "UPDATE sessions SET public_key=$1 WHERE id=$2 AND managed=1 AND start_token=$3"
                                 " AND length(public_key)=0 AND final=0", &p);
        rc = changed == 0 ? 1 : changed == 1 && !audit_insert(s, a) && !commit(s) ? 0 : -1;
        if (rc) rollback(s);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_srv_pg_outbox_claim(vf_srv_store *bs, int64_t now, int64_t lease_ms, vf_srv_outbox_event *ev, int max) {
    pgs *s = PG(bs);
    prm p = {0};
    p_int(&p, now + lease_ms);
    p_int(&p, now);
    p_int(&p, max);
    pthread_mutex_lock(&s->mu);
    /* one statement: the rows are leased as they are chosen, rows another instance holds skipped */
    PGresult *r = ready(s) ? NULL
        : q(s, "UPDATE outbox SET lease_until=$1 WHERE id IN (SELECT id FROM outbox WHERE state='pending' AND next_at<=$2"
               " AND lease_until<=$2 ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED)"
               " RETURNING id,event_id,session_id,url,integrator,body,attempts", &p);
    pthread_mutex_unlock(&s->mu);
    if (!r) return -1;
    int n = 0;
    for (int i = 0; i < PQntuples(r) && n < max; i++) {
        vf_srv_outbox_event *e = &ev[n];
        memset(e, 0, sizeof *e);
        e->row = col_int(r, i, 0);
        snprintf(e->event_id, sizeof e->event_id, "%s", col(r, i, 1));
        snprintf(e->session_id, sizeof e->session_id, "%s", col(r, i, 2));
        snprintf(e->url, sizeof e->url, "%s", col(r, i, 3));
        snprintf(e->integrator, sizeof e->integrator, "%s", col(r, i, 4));
        e->body = strdup(col(r, i, 5) ? col(r, i, 5) : "");
        e->attempts = (int)col_int(r, i, 6);
        if (e->body) n++;   /* out of memory: the lease runs out and the event is claimed again */
    }
    PQclear(r);
    return n;
}

int vf_srv_pg_outbox_done(vf_srv_store *bs, int64_t row, const char *state, int attempts, int64_t next_at, int status,
                          const char *error) {
    pgs *s = PG(bs);
    prm p = {0};
    p_str(&p, state);
    p_int(&p, attempts);
    p_int(&p, next_at);
    if (status) p_int(&p, status); else p_str(&p, NULL);
    p_str(&p, error);
    p_int(&p, vf_srv_now_ms());
    p_int(&p, row);
    pthread_mutex_lock(&s->mu);
    int rc = ready(s) ? -1
        : cmd(s, "UPDATE outbox SET state=$1,attempts=$2,next_at=$3,lease_until=0,last_status=$4,last_error=$5,"
                 "delivered_at=CASE WHEN $1='delivered' THEN $6::bigint ELSE NULL END WHERE id=$7", &p) < 0 ? -1 : 0;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_srv_pg_photo_get(vf_srv_store *bs, const char *id, int64_t now, vf_srv_photo_row *o) {
    pgs *s = PG(bs);
    memset(o, 0, sizeof *o);
    prm p = {0};
    p_str(&p, id);
    p_int(&p, now);
    pthread_mutex_lock(&s->mu);
    PGresult *r = ready(s) ? NULL
        : q(s, "SELECT jpeg,width,height,attempt,quality_score,created_at,expires_at FROM photos WHERE session_id=$1"
               " AND expires_at>$2", &p);
    pthread_mutex_unlock(&s->mu);
    if (!r) return -1;
    int rc = 0;
    size_t n = 0;
    unsigned char *b = PQntuples(r) == 1 ? PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n) : NULL;
    if (b && n > 0 && (o->jpeg = malloc(n))) {
        memcpy(o->jpeg, b, n);
        o->len = n;
        o->width = (int)col_int(r, 0, 1);
        o->height = (int)col_int(r, 0, 2);
        o->attempt = (int)col_int(r, 0, 3);
        o->quality_score = strtof(PQgetvalue(r, 0, 4), NULL);
        o->created_at = col_int(r, 0, 5);
        o->expires_at = col_int(r, 0, 6);
        rc = 1;
    } else if (PQntuples(r) == 1) {
        rc = -1;
    }
    PQfreemem(b);
    PQclear(r);
    return rc;
}

int vf_srv_pg_photo_sweep(vf_srv_store *bs, int64_t now) {
    pgs *s = PG(bs);
    prm p = {0};
    p_int(&p, now);
    pthread_mutex_lock(&s->mu);
    int64_t n = ready(s) ? -1 : cmd(s, "DELETE FROM photos WHERE expires_at<=$1", &p);
    pthread_mutex_unlock(&s->mu);
    return (int)n;
}

int vf_srv_pg_delete_session(vf_srv_store *bs, const char *id, const vf_srv_audit *a) {
    static const char *const DEL[] = {"DELETE FROM photos WHERE session_id=$1", "DELETE FROM frame_index WHERE session_id=$1",
                                      "DELETE FROM attempts WHERE session_id=$1", "DELETE FROM session_embeddings WHERE session_id=$1",
                                      "DELETE FROM sessions WHERE id=$1"};
    pgs *s = PG(bs);
    prm p = {0};
    p_str(&p, id);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    if (!ready(s) && !begin(s)) {
        int64_t n = 0;
        for (size_t i = 0; i < sizeof DEL / sizeof DEL[0] && n >= 0; i++) n = cmd(s, DEL[i], &p);
        rc = n == 0 ? 0 : n == 1 && !audit_insert(s, a) && !commit(s) ? 1 : -1;   /* n: the sessions row */
        if (rc != 1) rollback(s);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}
