/* store_pg_faces.c - the face collections in the PostgreSQL backend (store.h; store_sqlite_faces.c
 * is the SQLite side). A change takes the collection's next seq with `UPDATE ... RETURNING`, whose
 * row lock holds until the commit: changes of one collection commit in seq order, so an instance
 * that has read up to seq N never misses a change numbered below a later one. A deleted face keeps
 * its row (the tombstone other instances read) without its embedding. */
#include "store_pg.h"

const char VF_SRV_PG_V4_COLLECTIONS[] =
    "CREATE TABLE collections ("
    " id TEXT PRIMARY KEY, name TEXT, created_at BIGINT NOT NULL, model TEXT NOT NULL,"
    " dedupe_threshold DOUBLE PRECISION NOT NULL, seq BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE faces ("
    " id BIGSERIAL PRIMARY KEY, face_id TEXT NOT NULL UNIQUE, collection_id TEXT NOT NULL REFERENCES collections(id),"
    " external_face_id TEXT NOT NULL, session_id TEXT, embedding BYTEA, created_at BIGINT NOT NULL, deleted_at BIGINT,"
    " seq BIGINT NOT NULL);"
    "CREATE INDEX faces_changes ON faces(collection_id, seq);"
    "CREATE TABLE session_embeddings ("
    " session_id TEXT NOT NULL, attempt INTEGER NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL,"
    " embedding BYTEA NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (session_id, attempt));";

/* Version 5: the integrator that created a collection; NULL (a collection of version 4) = any key. */
const char VF_SRV_PG_V5_COLLECTION_OWNER[] = "ALTER TABLE collections ADD COLUMN integrator TEXT;";

static void copy_text(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

int vf_srv_pg_collection_create(vf_srv_store *bs, const vf_srv_collection *c, const vf_srv_audit *a) {
    pgs *s = PG(bs);
    char thr[32];
    snprintf(thr, sizeof thr, "%.9g", c->dedupe_threshold);
    prm p = {0};
    p_str(&p, c->id);
    p_str(&p, c->name[0] ? c->name : NULL);
    p_int(&p, c->created_at);
    p_str(&p, c->model);
    p_str(&p, thr);
    p_str(&p, c->integrator[0] ? c->integrator : NULL);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    if (!ready(s) && !begin(s)) {
        rc = cmd(s, "INSERT INTO collections(id,name,created_at,model,dedupe_threshold,integrator) VALUES($1,$2,$3,$4,$5,$6)", &p) == 1 &&
             !audit_insert(s, a) && !commit(s) ? 0 : -1;
        if (rc) rollback(s);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_srv_pg_collection_get(vf_srv_store *bs, const char *id, vf_srv_collection *o) {
    pgs *s = PG(bs);
    memset(o, 0, sizeof *o);
    prm p = {0};
    p_str(&p, id);
    pthread_mutex_lock(&s->mu);
    PGresult *r = ready(s) ? NULL : q(s, "SELECT name,created_at,model,dedupe_threshold,seq,integrator FROM collections WHERE id=$1", &p);
    pthread_mutex_unlock(&s->mu);
    if (!r) return -1;
    int rc = PQntuples(r) == 1;
    if (rc) {
        snprintf(o->id, sizeof o->id, "%s", id);
        copy_text(o->name, sizeof o->name, col(r, 0, 0));
        o->created_at = col_int(r, 0, 1);
        copy_text(o->model, sizeof o->model, col(r, 0, 2));
        o->dedupe_threshold = strtof(PQgetvalue(r, 0, 3), NULL);
        o->seq = col_int(r, 0, 4);
        copy_text(o->integrator, sizeof o->integrator, col(r, 0, 5));
    }
    PQclear(r);
    return rc;
}

/* The collection's next seq (inside the caller's transaction; its row stays locked until the
 * commit); -1 when it does not exist or on error. */
static int64_t next_seq(pgs *s, const char *cid) {
    prm p = {0};
    p_str(&p, cid);
    PGresult *r = q(s, "UPDATE collections SET seq=seq+1 WHERE id=$1 RETURNING seq", &p);
    int64_t seq = r && PQntuples(r) == 1 ? col_int(r, 0, 0) : -1;
    PQclear(r);
    return seq;
}

int vf_srv_pg_face_add(vf_srv_store *bs, const char *cid, vf_srv_face *f, const vf_srv_audit *a) {
    pgs *s = PG(bs);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    if (ready(s) || begin(s)) goto out;
    f->seq = next_seq(s, cid);
    f->created_at = vf_srv_now_ms();
    prm p = {0};
    p_str(&p, f->face_id);
    p_str(&p, cid);
    p_str(&p, f->external_face_id);
    p_str(&p, f->session_id[0] ? f->session_id : NULL);
    p_bin(&p, f->embedding, sizeof(float) * (size_t)f->dim);
    p_int(&p, f->created_at);
    p_int(&p, f->seq);
    PGresult *r = f->seq < 0 ? NULL
        : q(s, "INSERT INTO faces(face_id,collection_id,external_face_id,session_id,embedding,created_at,seq)"
               " VALUES($1,$2,$3,$4,$5,$6,$7) RETURNING id", &p);
    if (r && PQntuples(r) == 1) {
        f->row = col_int(r, 0, 0);
        rc = !audit_insert(s, a) && !commit(s) ? 0 : -1;
    }
    PQclear(r);
    if (rc) rollback(s);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vf_srv_pg_face_delete(vf_srv_store *bs, const char *cid, const char *face_id, const vf_srv_audit *a) {
    pgs *s = PG(bs);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    if (ready(s) || begin(s)) goto out;
    int64_t seq = next_seq(s, cid);
    prm p = {0};
    p_int(&p, vf_srv_now_ms());
    p_int(&p, seq);
    p_str(&p, cid);
    p_str(&p, face_id);
    int64_t n = seq < 0 ? 0
        : cmd(s, "UPDATE faces SET deleted_at=$1, embedding=NULL, seq=$2 WHERE collection_id=$3 AND face_id=$4"
                 " AND deleted_at IS NULL", &p);
    rc = n == 0 ? 0 : n == 1 && !audit_insert(s, a) && !commit(s) ? 1 : -1;
    if (rc != 1) rollback(s);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* columns: id, face_id, external_face_id, session_id, embedding, created_at, deleted_at, seq; the
 * embedding decoded into emb (max floats; dim 0 when NULL or too long). */
#define FACE_COLS "id,face_id,external_face_id,session_id,embedding,created_at,deleted_at,seq"
static void read_face(const PGresult *r, int row, vf_srv_face *f, float *emb, int max) {
    memset(f, 0, sizeof *f);
    f->row = col_int(r, row, 0);
    copy_text(f->face_id, sizeof f->face_id, col(r, row, 1));
    copy_text(f->external_face_id, sizeof f->external_face_id, col(r, row, 2));
    copy_text(f->session_id, sizeof f->session_id, col(r, row, 3));
    int64_t n = emb ? col_bytes(r, row, 4, (uint8_t *)emb, sizeof(float) * (size_t)max) : -1;
    f->dim = n > 0 ? (int)(n / (int64_t)sizeof(float)) : 0;
    f->embedding = f->dim ? emb : NULL;
    f->created_at = col_int(r, row, 5);
    f->deleted = col(r, row, 6) != NULL;
    f->seq = col_int(r, row, 7);
}

int vf_srv_pg_face_get(vf_srv_store *bs, const char *cid, const char *face_id, vf_srv_face *o, float *emb, int max) {
    pgs *s = PG(bs);
    prm p = {0};
    p_str(&p, cid);
    p_str(&p, face_id);
    pthread_mutex_lock(&s->mu);
    PGresult *r = ready(s) ? NULL
        : q(s, "SELECT " FACE_COLS ",length(embedding) FROM faces WHERE collection_id=$1 AND face_id=$2 AND deleted_at IS NULL", &p);
    pthread_mutex_unlock(&s->mu);
    if (!r) return -1;
    int rc = PQntuples(r) == 1;
    if (rc) {
        read_face(r, 0, o, emb, max);
        if ((int64_t)sizeof(float) * o->dim != col_int(r, 0, 8)) rc = -1;   /* longer than max */
        o->embedding = emb;
    }
    PQclear(r);
    return rc;
}

int vf_srv_pg_faces_since(vf_srv_store *bs, const char *cid, int64_t after, int (*fn)(void *ctx, const vf_srv_face *f), void *ctx,
                          int64_t *last_seq) {
    pgs *s = PG(bs);
    prm p = {0};
    p_str(&p, cid);
    p_int(&p, after);
    *last_seq = after;
    float *emb = malloc(sizeof(float) * VF_SRV_EMB_MAX);
    if (!emb) return -1;
    pthread_mutex_lock(&s->mu);
    /* row by row: a rebuild reads a whole collection, too large for one result in memory */
    int rc = ready(s) || !PQsendQueryParams(s->c, "SELECT " FACE_COLS " FROM faces WHERE collection_id=$1 AND seq>$2 ORDER BY seq",
                                             p.n, NULL, p.v, p.len, p.fmt, 0) || !PQsetSingleRowMode(s->c) ? -1 : 0;
    int stop = rc;
    PGresult *r;
    while (!rc && (r = PQgetResult(s->c))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && !stop) {
            vf_srv_face f;
            read_face(r, 0, &f, emb, VF_SRV_EMB_MAX);
            if (fn(ctx, &f)) stop = 1;   /* the rest is read and dropped: the connection must be free again */
            else *last_seq = f.seq;
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
            fprintf(stderr, "veriface-server: postgresql: %s", PQresultErrorMessage(r));
            rc = -1;
            PQclear(r);
            while ((r = PQgetResult(s->c))) PQclear(r);
            break;
        }
        PQclear(r);
    }
    while ((r = PQgetResult(s->c))) PQclear(r);   /* nothing left pending on the connection */
    pthread_mutex_unlock(&s->mu);
    free(emb);
    return rc;
}

int vf_srv_pg_faces_by_rows(vf_srv_store *bs, const char *cid, const int64_t *rows, int n, vf_srv_face *out, int *found) {
    pgs *s = PG(bs);
    /* the rows as one array literal: one round trip */
    char *arr = malloc(22 * (size_t)(n > 0 ? n : 1) + 3);
    if (!arr) return -1;
    size_t k = 0;
    arr[k++] = '{';
    for (int i = 0; i < n; i++) k += (size_t)sprintf(arr + k, "%s%lld", i ? "," : "", (long long)rows[i]);
    arr[k++] = '}';
    arr[k] = 0;
    prm p = {0};
    p_str(&p, arr);
    p_str(&p, cid);
    pthread_mutex_lock(&s->mu);
    PGresult *r = ready(s) ? NULL
        : q(s, "SELECT " FACE_COLS " FROM faces WHERE id=ANY($1::bigint[]) AND collection_id=$2 AND deleted_at IS NULL", &p);
    pthread_mutex_unlock(&s->mu);
    free(arr);
    if (!r) return -1;
    for (int i = 0; i < n; i++) {
        found[i] = 0;
        for (int j = 0; j < PQntuples(r) && !found[i]; j++)
            if (col_int(r, j, 0) == rows[i]) { read_face(r, j, &out[i], NULL, 0); found[i] = 1; }
    }
    PQclear(r);
    return 0;
}

int vf_srv_pg_outcome_embedding(pgs *s, const char *sid, const vf_srv_outcome *o) {
    if (!o->emb) return 0;
    prm p = {0};
    p_str(&p, sid);
    p_int(&p, o->attempt);
    p_str(&p, o->emb_model);
    p_int(&p, o->emb_dim);
    p_bin(&p, o->emb, sizeof(float) * (size_t)o->emb_dim);
    p_int(&p, o->now);
    return cmd(s, "INSERT INTO session_embeddings(session_id,attempt,model,dim,embedding,created_at) VALUES($1,$2,$3,$4,$5,$6)"
                  " ON CONFLICT (session_id,attempt) DO UPDATE SET model=EXCLUDED.model,dim=EXCLUDED.dim,"
                  "embedding=EXCLUDED.embedding,created_at=EXCLUDED.created_at", &p) == 1 ? 0 : -1;
}

int vf_srv_pg_get_embedding(vf_srv_store *bs, const char *sid, float *emb, int max, int *dim, char model[65]) {
    pgs *s = PG(bs);
    prm p = {0};
    p_str(&p, sid);
    pthread_mutex_lock(&s->mu);
    PGresult *r = ready(s) ? NULL
        : q(s, "SELECT model,dim,embedding FROM session_embeddings WHERE session_id=$1 ORDER BY attempt DESC LIMIT 1", &p);
    pthread_mutex_unlock(&s->mu);
    if (!r) return -1;
    int rc = PQntuples(r) == 1;
    if (rc) {
        *dim = (int)col_int(r, 0, 1);
        int64_t n = *dim >= 1 && *dim <= max ? col_bytes(r, 0, 2, (uint8_t *)emb, sizeof(float) * (size_t)max) : -1;
        if (n != (int64_t)sizeof(float) * *dim) rc = -1;
        else copy_text(model, 65, col(r, 0, 0));
    }
    PQclear(r);
    return rc;
}
