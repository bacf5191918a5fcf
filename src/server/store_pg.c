/* store_pg.c - the PostgreSQL store backend (store.h), for several server instances on one
 * database (libpq). The same tables and promises as store_sqlite.c:
 * - a package is decided once: the nonce is spent by `UPDATE ... WHERE used_at IS NULL` in the
 *   decision's transaction; of two instances deciding the same attempt the second updates no row;
 * - the frame index is searched across instances: decisions take one transaction-scoped advisory
 *   lock before they write (what BEGIN IMMEDIATE is to SQLite), so frame_index ids grow in commit
 *   order and the re-check of "rows after index_seen" sees every decision committed meanwhile;
 * - committed means durable: synchronous_commit is forced on when the database has it off.
 * One connection behind a mutex, as for SQLite: a request spends its time in the re-run; a lost
 * connection is re-opened by the next call (that call fails if the database is still away). */
#include "store_pg.h"
#include "frameprint.h"

#include <math.h>

/* ---- schema: versioned migrations (in step with store_sqlite.c) ------------------------------ */

static const char V1[] =
    "CREATE TABLE sessions ("
    " id TEXT PRIMARY KEY, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, public_key BYTEA NOT NULL,"
    " config TEXT NOT NULL, reference BYTEA, external_ref TEXT, final INTEGER NOT NULL DEFAULT 0, decision TEXT,"
    " attempt INTEGER NOT NULL DEFAULT 1, uncertain_count INTEGER NOT NULL DEFAULT 0, fail_count INTEGER NOT NULL DEFAULT 0,"
    " challenge_passed INTEGER NOT NULL DEFAULT 0, decided_at BIGINT);"
    "CREATE TABLE attempts ("
    " session_id TEXT NOT NULL REFERENCES sessions(id), attempt INTEGER NOT NULL, nonce TEXT NOT NULL UNIQUE,"
    " issued_at BIGINT NOT NULL, used_at BIGINT, challenge TEXT, decision TEXT, detail TEXT, decided_at BIGINT,"
    " PRIMARY KEY (session_id, attempt));"
    "CREATE TABLE audit ("
    " id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, route TEXT NOT NULL, session_id TEXT, attempt INTEGER,"
    " request_sha256 TEXT, remote TEXT, status INTEGER NOT NULL, code TEXT, decision TEXT, reasons TEXT, detail TEXT);"
    "CREATE INDEX audit_session ON audit(session_id);"
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION 'audit is append-only'; END$$;"
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();"
    "CREATE TABLE frame_index ("
    " id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, session_id TEXT NOT NULL, attempt INTEGER NOT NULL,"
    " frame INTEGER NOT NULL, sha256 TEXT NOT NULL, phash BIGINT NOT NULL, c0 INTEGER NOT NULL, c1 INTEGER NOT NULL,"
    " c2 INTEGER NOT NULL, c3 INTEGER NOT NULL, thumb BYTEA NOT NULL);"
    "CREATE INDEX frame_index_sha256 ON frame_index(sha256);"
    "CREATE INDEX frame_index_c0 ON frame_index(c0);"
    "CREATE INDEX frame_index_c1 ON frame_index(c1);"
    "CREATE INDEX frame_index_c2 ON frame_index(c2);"
    "CREATE INDEX frame_index_c3 ON frame_index(c3);";

static const char V2[] =
    "ALTER TABLE attempts ADD COLUMN request_sha256 TEXT, ADD COLUMN answer TEXT;"
    "ALTER TABLE sessions ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;";

/* Version 3 (issue 13): the integrator's fields and the managed page's key on sessions, the
 * webhook outbox, the session photo (store_sqlite.c says what each is). */
static const char V3[] =
    "ALTER TABLE sessions ADD COLUMN redirect_url TEXT, ADD COLUMN webhook_url TEXT, ADD COLUMN reference_id TEXT,"
    " ADD COLUMN integrator TEXT, ADD COLUMN managed INTEGER NOT NULL DEFAULT 0, ADD COLUMN start_token TEXT;"
    "CREATE TABLE outbox ("
    " id BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL, url TEXT NOT NULL,"
    " integrator TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at BIGINT NOT NULL, lease_until BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, delivered_at BIGINT,"
    " last_status INTEGER, last_error TEXT);"
    "CREATE INDEX outbox_due ON outbox(state, next_at);"
    "CREATE INDEX outbox_session ON outbox(session_id);"
    "CREATE TABLE photos ("
    " session_id TEXT PRIMARY KEY, attempt INTEGER NOT NULL, jpeg BYTEA NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,"
    " quality_score DOUBLE PRECISION NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);"
    "CREATE INDEX photos_expiry ON photos(expires_at);";

/* MIGRATIONS[i] brings the schema from version i to i + 1. Append only. */
static const char *const MIGRATIONS[] = {V1, V2, V3, VF_SRV_PG_V4_COLLECTIONS, VF_SRV_PG_V5_COLLECTION_OWNER};
_Static_assert(sizeof MIGRATIONS / sizeof MIGRATIONS[0] == VF_SRV_SCHEMA_VERSION, "a migration per schema version");

/* Bring the schema to VF_SRV_SCHEMA_VERSION in one transaction, one instance at a time; a newer
 * schema is refused. */
static int migrate(pgs *s, char *err, size_t es) {
    char sql[160];
    snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%d); CREATE TABLE IF NOT EXISTS schema_version"
             " (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)", LOCK_MIGRATE);
    PGresult *r = NULL;
    if (cmd(s, sql, NULL) < 0 || !(r = q(s, "SELECT coalesce(max(version),0) FROM schema_version", NULL))) {
        snprintf(err, es, "db: schema_version: %s", PQerrorMessage(s->c));
        rollback(s);
        return -1;
    }
    int64_t v = col_int(r, 0, 0);
    PQclear(r);
    if (v > VF_SRV_SCHEMA_VERSION) {
        snprintf(err, es, "db: schema version %lld is newer than this server's %d: a newer veriface-server wrote it; "
                 "run that version (nothing was changed)", (long long)v, VF_SRV_SCHEMA_VERSION);
        rollback(s);
        return -1;
    }
    for (int64_t i = v; i < VF_SRV_SCHEMA_VERSION; i++) {
        prm p = {0};
        p_int(&p, i + 1);
        p_int(&p, vf_srv_now_ms());
        if (cmd(s, MIGRATIONS[i], NULL) < 0 || cmd(s, "INSERT INTO schema_version(version,applied_at) VALUES($1,$2)", &p) < 0) {
            snprintf(err, es, "db: migration to schema version %lld: %s", (long long)i + 1, PQerrorMessage(s->c));
            rollback(s);
            return -1;
        }
    }
    if (commit(s)) {
        snprintf(err, es, "db: schema commit: %s", PQerrorMessage(s->c));
        rollback(s);
        return -1;
    }
    return 0;
}

static const vf_srv_store_ops OPS;

static void quiet(void *arg, const char *message) { (void)arg; (void)message; }

int vf_srv_store_pg_open(const char *url, vf_srv_store **out, char *err, size_t es) {
    *out = NULL;
    pgs *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->base.ops = &OPS;
    s->c = PQconnectdb(url);
    PQsetNoticeProcessor(s->c, quiet, NULL);   /* "already exists, skipping" and the like */
    if (PQstatus(s->c) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password */
        snprintf(err, es, "db: postgresql: %s", PQerrorMessage(s->c));
    } else if (!session_setup(s) && !migrate(s, err, es)) {
        pthread_mutex_init(&s->mu, NULL);
        *out = &s->base;
        return 0;
    } else if (!err[0]) {
        snprintf(err, es, "db: postgresql: %s", PQerrorMessage(s->c));
    }
    PQfinish(s->c);
    free(s);
    return -1;
}

static void pg_close(vf_srv_store *bs) {
    pgs *s = PG(bs);
    PQfinish(s->c);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- writes ----------------------------------------------------------------------------------- */

static int pg_audit(vf_srv_store *bs, const vf_srv_audit *a) {
    pgs *s = PG(bs);
    pthread_mutex_lock(&s->mu);
    int rc = ready(s) ? -1 : audit_insert(s, a);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int attempt_insert(pgs *s, const char *id, int attempt, const char *nonce, int64_t issued_at, const char *challenge) {
    prm p = {0};
    p_str(&p, id);
    p_int(&p, attempt);
    p_str(&p, nonce);
    p_int(&p, issued_at);
    p_str(&p, challenge);
    return cmd(s, "INSERT INTO attempts(session_id,attempt,nonce,issued_at,challenge) VALUES($1,$2,$3,$4,$5)", &p) == 1 ? 0 : -1;
}

static int pg_create_session(vf_srv_store *bs, const vf_srv_session *ss, const vf_srv_audit *a) {
    pgs *s = PG(bs);
    cJSON *cj = vf_srv_session_config_json(&ss->cfg);
    char *cfg = cJSON_PrintUnformatted(cj);
    cJSON_Delete(cj);
    if (!cfg) return -1;
    prm p = {0};
    p_str(&p, ss->id);
    p_int(&p, ss->created_at);
    p_int(&p, ss->expires_at);
    p_bin(&p, ss->pubkey, ss->pubkey_len);
    p_str(&p, cfg);
    if (ss->ref_dim > 0) p_bin(&p, ss->ref, sizeof(float) * (size_t)ss->ref_dim); else p_str(&p, NULL);
    p_str(&p, ss->external_ref[0] ? ss->external_ref : NULL);
    p_int(&p, ss->demo);
    p_str(&p, ss->redirect_url[0] ? ss->redirect_url : NULL);
    p_str(&p, ss->webhook_url[0] ? ss->webhook_url : NULL);
    p_str(&p, ss->reference_id[0] ? ss->reference_id : NULL);
    p_str(&p, ss->integrator[0] ? ss->integrator : NULL);
    p_int(&p, ss->managed);
    p_str(&p, ss->start_token[0] ? ss->start_token : NULL);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    if (ready(s) || begin(s)) goto out;
    if (cmd(s, "INSERT INTO sessions(id,created_at,expires_at,public_key,config,reference,external_ref,demo,"
               "redirect_url,webhook_url,reference_id,integrator,managed,start_token)"
               " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)", &p) != 1 ||
        attempt_insert(s, ss->id, 1, ss->nonce, ss->nonce_issued_at, ss->challenge[0] ? ss->challenge : NULL) ||
        audit_insert(s, a) || commit(s)) {
        rollback(s);
        goto out;
    }
    rc = 0;
out:
    pthread_mutex_unlock(&s->mu);
    free(cfg);
    return rc;
}

/* ---- reads ------------------------------------------------------------------------------------ */

static int pg_get_session(vf_srv_store *bs, const char *id, vf_srv_session *o) {
    pgs *s = PG(bs);
    memset(o, 0, sizeof *o);
    prm p = {0};
    p_str(&p, id);
    pthread_mutex_lock(&s->mu);
    PGresult *r = ready(s) ? NULL
        : q(s, "SELECT s.created_at,s.expires_at,s.public_key,s.config,s.reference,s.external_ref,s.final,"
               "s.decision,s.attempt,s.uncertain_count,s.fail_count,s.challenge_passed,a.nonce,a.issued_at,"
               "a.used_at,a.challenge,s.redirect_url,s.webhook_url,s.reference_id,s.integrator,s.managed,s.start_token"
               " FROM sessions s LEFT JOIN attempts a ON a.session_id=s.id AND a.attempt=s.attempt"
               " WHERE s.id=$1", &p);
    pthread_mutex_unlock(&s->mu);
    if (!r) return -1;
    int rc = -1;
    if (PQntuples(r) == 0) { rc = 0; goto out; }
    snprintf(o->id, sizeof o->id, "%s", id);
    o->created_at = col_int(r, 0, 0);
    o->expires_at = col_int(r, 0, 1);
    int64_t kl = col_bytes(r, 0, 2, o->pubkey, sizeof o->pubkey);
    o->managed = (int)col_int(r, 0, 20);
    if (kl < 0 || (kl == 0 && !o->managed)) goto out;   /* managed: none until the page binds one */
    o->pubkey_len = (size_t)kl;
    if (vf_srv_store_parse_config(col(r, 0, 3), &o->cfg)) goto out;
    int64_t rl = col_bytes(r, 0, 4, (uint8_t *)o->ref, sizeof o->ref);
    if (rl > 0 && rl % 4 == 0) o->ref_dim = (int)(rl / 4);
    if (col(r, 0, 5)) snprintf(o->external_ref, sizeof o->external_ref, "%s", col(r, 0, 5));
    o->final = (int)col_int(r, 0, 6);
    if (col(r, 0, 7)) snprintf(o->decision, sizeof o->decision, "%s", col(r, 0, 7));
    o->attempt = (int)col_int(r, 0, 8);
    o->uncertain_count = (int)col_int(r, 0, 9);
    o->fail_count = (int)col_int(r, 0, 10);
    o->challenge_passed = (int)col_int(r, 0, 11);
    if (col(r, 0, 12)) snprintf(o->nonce, sizeof o->nonce, "%s", col(r, 0, 12));
    o->nonce_issued_at = col_int(r, 0, 13);
    o->nonce_used = col(r, 0, 14) != NULL;
    if (col(r, 0, 15)) snprintf(o->challenge, sizeof o->challenge, "%s", col(r, 0, 15));
    if (col(r, 0, 16)) snprintf(o->redirect_url, sizeof o->redirect_url, "%s", col(r, 0, 16));
    if (col(r, 0, 17)) snprintf(o->webhook_url, sizeof o->webhook_url, "%s", col(r, 0, 17));
    if (col(r, 0, 18)) snprintf(o->reference_id, sizeof o->reference_id, "%s", col(r, 0, 18));
    if (col(r, 0, 19)) snprintf(o->integrator, sizeof o->integrator, "%s", col(r, 0, 19));
    if (col(r, 0, 21)) snprintf(o->start_token, sizeof o->start_token, "%s", col(r, 0, 21));
    rc = 1;
out:
    PQclear(r);
    return rc;
}

static char *pg_recorded_answer(vf_srv_store *bs, const char *id, const char *nonce, const char *request_sha256) {
    pgs *s = PG(bs);
    prm p = {0};
    p_str(&p, id);
    p_str(&p, nonce);
    p_str(&p, request_sha256);
    pthread_mutex_lock(&s->mu);
    PGresult *r = ready(s) ? NULL
        : q(s, "SELECT answer FROM attempts WHERE session_id=$1 AND nonce=$2 AND used_at IS NOT NULL"
               " AND request_sha256=$3 AND answer IS NOT NULL", &p);
    pthread_mutex_unlock(&s->mu);
    char *out = r && PQntuples(r) > 0 && col(r, 0, 0) ? strdup(col(r, 0, 0)) : NULL;
    PQclear(r);
    return out;
}

static int pg_nonce_used(vf_srv_store *bs, const char *id, const char *nonce) {
    pgs *s = PG(bs);
    prm p = {0};
    p_str(&p, id);
    p_str(&p, nonce);
    pthread_mutex_lock(&s->mu);
    PGresult *r = ready(s) ? NULL : q(s, "SELECT 1 FROM attempts WHERE session_id=$1 AND nonce=$2 AND used_at IS NOT NULL", &p);
    pthread_mutex_unlock(&s->mu);
    int rc = r && PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

/* ---- the frame index -------------------------------------------------------------------------- */

/* The next pipelined query's result (NULL: the connection failed), its end marker consumed. */
static PGresult *pipe_result(pgs *s) {
    PGresult *r = PQgetResult(s->c);
    if (r) PQclear(PQgetResult(s->c));   /* the NULL after each query's result */
    return r;
}

/* Every frame's exact and similar queries sent at once (libpq pipeline mode: one round trip, not
 * two per frame; a loaded database host makes each round trip wait for it to be scheduled), then
 * the results read in order. */
static int index_find(pgs *s, const vf_srv_frame_print *p, int n, int64_t after, const vf_srv_freshness_config *c,
                      vf_srv_index_hit *hits, float *nearest, int *n_cand) {
    char sql[1024];
    vf_srv_store_index_sql(sql, sizeof sql, '$');
    *n_cand = 0;
    if (!PQenterPipelineMode(s->c)) return -1;
    int sent = 1;
    for (int f = 0; f < n && sent; f++) {
        prm e = {0};   /* libpq copies the parameters as it sends */
        p_str(&e, p[f].sha256);
        p_int(&e, after);
        sent = PQsendQueryParams(s->c, "SELECT session_id,attempt,at FROM frame_index WHERE sha256=$1 AND id>$2 LIMIT 1",
                                 e.n, NULL, e.v, e.len, e.fmt, 0);
        prm m = {0};
        p_int(&m, after);
        int probes[4 * VF_SRV_INDEX_PROBES];
        vf_srv_store_index_probes(p[f].phash, probes);
        for (int i = 0; i < 4 * VF_SRV_INDEX_PROBES; i++) p_int(&m, probes[i]);
        p_int(&m, c->replay_max_candidates);
        sent = sent && PQsendQueryParams(s->c, sql, m.n, NULL, m.v, m.len, m.fmt, 0);
    }
    int nh = sent && PQpipelineSync(s->c) ? 0 : -1;
    for (int f = 0; f < n && nh >= 0; f++) {
        PGresult *r = pipe_result(s), *rs = r ? pipe_result(s) : NULL;
        if (!rs || PQresultStatus(r) != PGRES_TUPLES_OK || PQresultStatus(rs) != PGRES_TUPLES_OK) {
            fprintf(stderr, "veriface-server: postgresql: frame index: %s", PQerrorMessage(s->c));
            nh = -1;   /* the rest of the pipeline is aborted: read up to the sync below */
        } else if (PQntuples(r) > 0) {
            vf_srv_index_hit h = {f, 1, 0, 0, "", 0, 0};
            snprintf(h.session_id, sizeof h.session_id, "%s", col(r, 0, 0) ? col(r, 0, 0) : "");
            h.attempt = (int)col_int(r, 0, 1);
            h.at = col_int(r, 0, 2);
            nearest[f] = 0;
            hits[nh++] = h;
        } else {
            vf_srv_index_hit h = {f, 0, 0, INFINITY, "", 0, 0};
            nearest[f] = INFINITY;
            for (int row = 0; row < PQntuples(rs); row++) {
                (*n_cand)++;
                uint8_t thumb[2 * VF_SRV_THUMB_CELLS];
                int64_t tl = col_bytes(rs, row, 1, thumb, sizeof thumb);
                vf_srv_store_index_consider(&p[f], c, (uint64_t)col_int(rs, row, 0), tl < 0 ? NULL : thumb,
                                            tl < 0 ? 0 : (size_t)tl, col(rs, row, 2), (int)col_int(rs, row, 3),
                                            col_int(rs, row, 4), &h, &nearest[f]);
            }
            if (isfinite(h.distance)) hits[nh++] = h;
        }
        PQclear(r);
        PQclear(rs);
    }
    /* up to the sync point, then out of pipeline mode; a connection left in it is reset */
    for (int guard = 0; guard < 8 * n + 8; guard++) {   /* results and their NULL markers */
        PGresult *r = PQgetResult(s->c);
        if (!r && PQstatus(s->c) == CONNECTION_BAD) break;
        int sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync) break;
    }
    if (!PQexitPipelineMode(s->c)) {
        PQreset(s->c);
        nh = -1;
    }
    return nh;
}

static int pg_index_find(vf_srv_store *bs, const vf_srv_frame_print *p, int n, int64_t after, const vf_srv_freshness_config *c,
                         vf_srv_index_hit *hits, float *nearest, int *n_cand, int64_t *last_id) {
    pgs *s = PG(bs);
    pthread_mutex_lock(&s->mu);
    *last_id = 0;
    int rc = -1;
    PGresult *r = ready(s) ? NULL : q(s, "SELECT coalesce(max(id),0) FROM frame_index", NULL);
    if (r) {
        *last_id = col_int(r, 0, 0);
        PQclear(r);
        rc = index_find(s, p, n, after, c, hits, nearest, n_cand);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int index_insert(pgs *s, const char *id, int attempt, const vf_srv_frame_print *p, int n, int64_t now) {
    for (int f = 0; f < n; f++) {
        uint8_t t[2 * VF_SRV_THUMB_CELLS];
        vf_srv_store_thumb_bytes(&p[f], t);
        prm m = {0};
        p_int(&m, now);
        p_str(&m, id);
        p_int(&m, attempt);
        p_int(&m, f);
        p_str(&m, p[f].sha256);
        p_int(&m, (int64_t)p[f].phash);
        for (int ch = 0; ch < 4; ch++) p_int(&m, (int)(p[f].phash >> (16 * ch) & 0xFFFF));
        p_bin(&m, t, sizeof t);
        if (cmd(s, "INSERT INTO frame_index(at,session_id,attempt,frame,sha256,phash,c0,c1,c2,c3,thumb)"
                   " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)", &m) != 1)
            return -1;
    }
    return 0;
}

/* ---- the decision ----------------------------------------------------------------------------- */

static int decide(pgs *s, const char *id, const vf_srv_outcome *o, const vf_srv_audit *a) {
    char lock[64];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d)", LOCK_DECIDE);
    if (cmd(s, lock, NULL) < 0) return -1;
    /* the nonce is spent in the decision's transaction: an instance that spent it first makes
     * this update find no row (it waits for that commit, then re-reads the row) */
    prm p = {0};
    p_int(&p, o->now);
    p_str(&p, o->decision);
    p_str(&p, o->detail_json);
    p_str(&p, o->request_sha256);
    p_str(&p, o->answer_json);
    p_str(&p, id);
    p_int(&p, o->attempt);
    int64_t n = cmd(s, "UPDATE attempts SET used_at=$1,decision=$2,detail=$3,decided_at=$1,request_sha256=$4,answer=$5"
                       " WHERE session_id=$6 AND attempt=$7 AND used_at IS NULL", &p);
    if (n != 1) return n == 0 ? 1 : -1;
    prm u = {0};
    p_int(&u, o->final);
    p_str(&u, o->decision);
    p_int(&u, o->final ? o->attempt : o->attempt + 1);
    p_int(&u, o->uncertain_inc);
    p_int(&u, o->fail_inc);
    p_int(&u, o->challenge_passed);
    p_int(&u, o->now);
    p_str(&u, id);
    p_int(&u, o->attempt);
    if (cmd(s, "UPDATE sessions SET final=$1,decision=$2,attempt=$3,uncertain_count=uncertain_count+$4,"
               "fail_count=fail_count+$5,challenge_passed=GREATEST(challenge_passed,$6),decided_at=$7"
               " WHERE id=$8 AND final=0 AND attempt=$9", &u) != 1)
        return -1;
    if (!o->final && attempt_insert(s, id, o->attempt + 1, o->next_nonce, o->now, o->next_challenge)) return -1;
    if (o->n_prints > 0) {
        /* a concurrent decision (any instance) indexed one of these frames after the search */
        if (o->recheck) {
            vf_srv_index_hit hits[VF_SRV_FRESH_MAX];
            float nearest[VF_SRV_FRESH_MAX];
            int cand, nh = index_find(s, o->prints, o->n_prints < VF_SRV_FRESH_MAX ? o->n_prints : VF_SRV_FRESH_MAX,
                                      o->index_seen, o->recheck, hits, nearest, &cand);
            if (nh != 0) return nh < 0 ? -1 : 2;
        }
        if (index_insert(s, id, o->attempt, o->prints, o->n_prints, o->now)) return -1;
    }
    if (vf_srv_pg_outcome_hooks(s, id, o) || vf_srv_pg_outcome_embedding(s, id, o)) return -1;   /* event, photo, embedding */
    return audit_insert(s, a);
}

static int pg_record_outcome(vf_srv_store *bs, const char *id, const vf_srv_outcome *o, const vf_srv_audit *a) {
    pgs *s = PG(bs);
    pthread_mutex_lock(&s->mu);
    int rc = ready(s) || begin(s) ? -1 : decide(s, id, o, a);
    if (rc == 0 && commit(s)) rc = -1;
    if (rc != 0) rollback(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static char *pg_session_detail(vf_srv_store *bs, const char *id) {
    pgs *s = PG(bs);
    prm p = {0};
    p_str(&p, id);
    pthread_mutex_lock(&s->mu);
    PGresult *ra = NULL, *r = ready(s) ? NULL
        : q(s, "SELECT created_at,expires_at,config,external_ref,final,decision,attempt,decided_at,"
               "(reference IS NOT NULL)::int,demo FROM sessions WHERE id=$1", &p);
    cJSON *j = NULL;
    char *out = NULL;
    if (!r || PQntuples(r) != 1) goto out;
    vf_srv_detail_session d = {col_int(r, 0, 0), col_int(r, 0, 1), col_int(r, 0, 7), col(r, 0, 2), col(r, 0, 3),
                               col(r, 0, 5), (int)col_int(r, 0, 4), (int)col_int(r, 0, 6), col(r, 0, 7) != NULL,
                               (int)col_int(r, 0, 8), (int)col_int(r, 0, 9)};
    j = vf_srv_store_detail_session(id, &d);
    if (vf_srv_pg_detail_hooks(s, id, j) ||
        !(ra = q(s, "SELECT attempt,issued_at,used_at,challenge,decision,decided_at,detail FROM attempts"
                    " WHERE session_id=$1 ORDER BY attempt", &p)))
        goto out;
    for (int i = 0; i < PQntuples(ra); i++) {
        vf_srv_detail_attempt a = {(int)col_int(ra, i, 0), col_int(ra, i, 1), col_int(ra, i, 2), col_int(ra, i, 5),
                                   col(ra, i, 2) != NULL, col(ra, i, 5) != NULL, col(ra, i, 3), col(ra, i, 4), col(ra, i, 6)};
        vf_srv_store_detail_attempt(j, &a);
    }
    out = cJSON_PrintUnformatted(j);
out:
    pthread_mutex_unlock(&s->mu);
    cJSON_Delete(j);
    PQclear(r);
    PQclear(ra);
    return out;
}

static const vf_srv_store_ops OPS = {
    .name = "postgresql",
    .close = pg_close,
    .create_session = pg_create_session,
    .get_session = pg_get_session,
    .nonce_used = pg_nonce_used,
    .recorded_answer = pg_recorded_answer,
    .record_outcome = pg_record_outcome,
    .index_find = pg_index_find,
    .audit = pg_audit,
    .session_detail = pg_session_detail,
    .bind_key = vf_srv_pg_bind_key,
    .outbox_claim = vf_srv_pg_outbox_claim,
    .outbox_done = vf_srv_pg_outbox_done,
    .photo_get = vf_srv_pg_photo_get,
    .photo_sweep = vf_srv_pg_photo_sweep,
    .delete_session = vf_srv_pg_delete_session,
    .collection_create = vf_srv_pg_collection_create,
    .collection_get = vf_srv_pg_collection_get,
    .face_add = vf_srv_pg_face_add,
    .face_delete = vf_srv_pg_face_delete,
    .face_get = vf_srv_pg_face_get,
    .faces_since = vf_srv_pg_faces_since,
    .faces_by_rows = vf_srv_pg_faces_by_rows,
    .get_embedding = vf_srv_pg_get_embedding,
};
