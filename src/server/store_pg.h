/* store_pg.h - what the PostgreSQL backend's files share (store_pg.c: connection, schema, sessions,
 * frame index, decisions; store_pg_hooks.c: the managed page's key, the webhook outbox, the session
 * photo; store_pg_faces.c: the face collections): the handle, statement parameters and result
 * helpers. Private to them. */
#ifndef VF_SRV_STORE_PG_H
#define VF_SRV_STORE_PG_H

#include "server.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Advisory lock keys ("vf" + a number): schema migrations, decisions. */
#define LOCK_MIGRATE 0x76660001
#define LOCK_DECIDE 0x76660002

typedef struct pgs {
    vf_srv_store base;
    PGconn *c;
    pthread_mutex_t mu;
    int tx;                           /* inside begin() .. commit() / rollback() */
    int setup;                        /* in session_setup (no retry from there) */
} pgs;

#define PG(bs) ((pgs *)(bs))

/* ---- queries ---------------------------------------------------------------------------------- */

#define PMAX (3 + 4 * VF_SRV_INDEX_PROBES)

/* Parameters of one statement: text, or binary for bytea; NULL text = SQL NULL. */
typedef struct prm {
    int n;
    const char *v[PMAX];
    int len[PMAX], fmt[PMAX];
    char num[PMAX][24];
} prm;

static inline void p_str(prm *p, const char *s) { p->v[p->n] = s; p->len[p->n] = 0; p->fmt[p->n++] = 0; }
static inline void p_int(prm *p, int64_t x) {
    snprintf(p->num[p->n], sizeof p->num[0], "%lld", (long long)x);
    p_str(p, p->num[p->n]);
}
static inline void p_bin(prm *p, const void *b, size_t n) { p->v[p->n] = b; p->len[p->n] = (int)n; p->fmt[p->n++] = 1; }

/* The result of a statement that worked, else NULL (the error on stderr). */
static inline int session_setup(pgs *s);

static inline PGresult *exec1(pgs *s, const char *sql, const prm *p) {
    return p ? PQexecParams(s->c, sql, p->n, NULL, p->v, p->len, p->fmt, 0) : PQexec(s->c, sql);
}

static inline PGresult *q(pgs *s, const char *sql, const prm *p) {
    PGresult *r = exec1(s, sql, p);
    ExecStatusType st = PQresultStatus(r);
    /* the connection was lost (a database restart, a failover): a read, or the BEGIN of a
     * transaction, runs once more on a new one; a write is not repeated (it may have committed) */
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && PQstatus(s->c) == CONNECTION_BAD && !s->tx && !s->setup &&
        (!strncmp(sql, "SELECT", 6) || !strcmp(sql, "BEGIN"))) {
        PQclear(r);
        PQreset(s->c);
        r = PQstatus(s->c) == CONNECTION_OK && !session_setup(s) ? exec1(s, sql, p) : NULL;
        st = PQresultStatus(r);
    }
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    fprintf(stderr, "veriface-server: postgresql: %s", r ? PQresultErrorMessage(r) : PQerrorMessage(s->c));
    PQclear(r);
    return NULL;
}

/* A statement without rows: the rows it changed, or -1. */
static inline int64_t cmd(pgs *s, const char *sql, const prm *p) {
    PGresult *r = q(s, sql, p);
    if (!r) return -1;
    int64_t n = atoll(PQcmdTuples(r));
    PQclear(r);
    return n;
}

static inline const char *col(const PGresult *r, int row, int i) { return PQgetisnull(r, row, i) ? NULL : PQgetvalue(r, row, i); }
static inline int64_t col_int(const PGresult *r, int row, int i) { return PQgetisnull(r, row, i) ? 0 : atoll(PQgetvalue(r, row, i)); }

/* A bytea column into out (at most cap bytes): its length, -1 when NULL or too long. */
static inline int64_t col_bytes(const PGresult *r, int row, int i, uint8_t *out, size_t cap) {
    if (PQgetisnull(r, row, i)) return -1;
    size_t n = 0;
    unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, i), &n);
    if (!b) return -1;
    int64_t rc = n <= cap ? (int64_t)n : -1;
    if (rc >= 0) memcpy(out, b, n);
    PQfreemem(b);
    return rc;
}

static inline int begin(pgs *s) {
    s->tx = cmd(s, "BEGIN", NULL) == 0;
    return s->tx ? 0 : -1;
}
static inline int commit(pgs *s) {
    s->tx = 0;
    return cmd(s, "COMMIT", NULL) < 0 ? -1 : 0;
}
static inline void rollback(pgs *s) {
    s->tx = 0;
    PGresult *r = PQexec(s->c, "ROLLBACK");
    PQclear(r);
}

/* Per connection: decisions are durable when acknowledged, and an instance that hangs inside a
 * transaction (holding the decision lock) is cut off instead of stalling the others. */
static inline int session_setup(pgs *s) {
    s->setup = 1;
    PGresult *r = q(s, "SHOW synchronous_commit", NULL);
    int off = r && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "off");
    PQclear(r);
    int rc = !r ? -1
        : cmd(s, off ? "SET synchronous_commit = on; SET idle_in_transaction_session_timeout = '30s'; SET lock_timeout = '10s'"
                     : "SET idle_in_transaction_session_timeout = '30s'; SET lock_timeout = '10s'", NULL) < 0 ? -1 : 0;
    s->setup = 0;
    return rc;
}

/* The connection, re-opened when it was lost; 0 = usable. */
static inline int ready(pgs *s) {
    if (PQstatus(s->c) == CONNECTION_OK) return 0;
    PQreset(s->c);
    if (PQstatus(s->c) != CONNECTION_OK) {
        fprintf(stderr, "veriface-server: postgresql: %s", PQerrorMessage(s->c));
        return -1;
    }
    return session_setup(s);
}

static inline int audit_insert(pgs *s, const vf_srv_audit *a) {
    prm p = {0};
    p_int(&p, vf_srv_now_ms());
    p_str(&p, a->route);
    p_str(&p, a->session_id);
    if (a->attempt > 0) p_int(&p, a->attempt); else p_str(&p, NULL);
    p_str(&p, a->request_sha256);
    p_str(&p, a->remote);
    p_int(&p, a->status);
    p_str(&p, a->code);
    p_str(&p, a->decision);
    p_str(&p, a->reasons_json);
    p_str(&p, a->detail_json);
    return cmd(s, "INSERT INTO audit(at,route,session_id,attempt,request_sha256,remote,status,code,decision,reasons,detail)"
                  " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)", &p) == 1 ? 0 : -1;
}

/* store_pg_hooks.c: inside the decision's transaction, its webhook event and photo; the detail's
 * issue 13 fields; and the functions of the ops table. */
int vf_srv_pg_outcome_hooks(pgs *s, const char *id, const vf_srv_outcome *o);
int vf_srv_pg_detail_hooks(pgs *s, const char *id, cJSON *j);
int vf_srv_pg_bind_key(vf_srv_store *bs, const char *id, const char *token_sha256, const uint8_t *key, size_t n, const vf_srv_audit *a);
int vf_srv_pg_outbox_claim(vf_srv_store *bs, int64_t now, int64_t lease_ms, vf_srv_outbox_event *ev, int max);
int vf_srv_pg_outbox_done(vf_srv_store *bs, int64_t row, const char *state, int attempts, int64_t next_at, int status, const char *error);
int vf_srv_pg_photo_get(vf_srv_store *bs, const char *id, int64_t now, vf_srv_photo_row *out);
int vf_srv_pg_photo_sweep(vf_srv_store *bs, int64_t now);
int vf_srv_pg_delete_session(vf_srv_store *bs, const char *id, const vf_srv_audit *a);

/* Schema versions 4 (collections, faces, the sessions' embeddings) and 5 (each collection's
 * owner), and the face collections (store_pg_faces.c). */
extern const char VF_SRV_PG_V4_COLLECTIONS[], VF_SRV_PG_V5_COLLECTION_OWNER[];
int vf_srv_pg_collection_create(vf_srv_store *s, const vf_srv_collection *c, const vf_srv_audit *a);
int vf_srv_pg_collection_get(vf_srv_store *s, const char *id, vf_srv_collection *out);
int vf_srv_pg_face_add(vf_srv_store *s, const char *collection_id, vf_srv_face *f, const vf_srv_audit *a);
int vf_srv_pg_face_delete(vf_srv_store *s, const char *collection_id, const char *face_id, const vf_srv_audit *a);
int vf_srv_pg_face_get(vf_srv_store *s, const char *collection_id, const char *face_id, vf_srv_face *out, float *emb, int max);
int vf_srv_pg_faces_since(vf_srv_store *s, const char *collection_id, int64_t after_seq,
                          int (*fn)(void *ctx, const vf_srv_face *f), void *ctx, int64_t *last_seq);
int vf_srv_pg_faces_by_rows(vf_srv_store *s, const char *collection_id, const int64_t *rows, int n, vf_srv_face *out, int *found);
int vf_srv_pg_outcome_embedding(pgs *s, const char *id, const vf_srv_outcome *o);   /* inside record_outcome's transaction */
int vf_srv_pg_get_embedding(vf_srv_store *s, const char *session_id, float *emb, int max, int *dim, char model[65]);

#endif
