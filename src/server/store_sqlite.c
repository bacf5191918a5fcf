/* store_sqlite.c - the embedded store backend (store.h): one SQLite file in WAL mode with
 * synchronous=FULL: sessions, attempts with their single-use nonces, the append-only audit log
 * (triggers refuse UPDATE and DELETE) and the frame index. Every decision is one transaction,
 * committed before the server answers. One connection behind a mutex: the writes serialise anyway,
 * and a request spends its time in the re-run, not here. Several processes may share the file
 * (BEGIN IMMEDIATE serialises their decisions). */
#include "server.h"
#include "frameprint.h"
#include "store_sqlite.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- schema: versioned migrations ------------------------------------------------------------ */

/* Version 1, the first schema. IF NOT EXISTS: a database of a server from before schema_version
 * holds these tables already and is upgraded from version 0 like an empty one. */
static const char V1[] =
    "CREATE TABLE IF NOT EXISTS sessions ("
    " id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, public_key BLOB NOT NULL,"
    " config TEXT NOT NULL, reference BLOB, external_ref TEXT, final INTEGER NOT NULL DEFAULT 0, decision TEXT,"
    " attempt INTEGER NOT NULL DEFAULT 1, uncertain_count INTEGER NOT NULL DEFAULT 0, fail_count INTEGER NOT NULL DEFAULT 0,"
    " challenge_passed INTEGER NOT NULL DEFAULT 0, decided_at INTEGER);"
    "CREATE TABLE IF NOT EXISTS attempts ("
    " session_id TEXT NOT NULL REFERENCES sessions(id), attempt INTEGER NOT NULL, nonce TEXT NOT NULL UNIQUE,"
    " issued_at INTEGER NOT NULL, used_at INTEGER, challenge TEXT, decision TEXT, detail TEXT, decided_at INTEGER,"
    " PRIMARY KEY (session_id, attempt));"
    "CREATE TABLE IF NOT EXISTS audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, route TEXT NOT NULL, session_id TEXT, attempt INTEGER,"
    " request_sha256 TEXT, remote TEXT, status INTEGER NOT NULL, code TEXT, decision TEXT, reasons TEXT, detail TEXT);"
    "CREATE INDEX IF NOT EXISTS audit_session ON audit(session_id);"
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
    /* every decided package's frames (freshness.c): exact hash, DCT hash in four indexed 16-bit
     * chunks (multi-index hashing), 16x16 thumbnail (uint16 little-endian, 1/64 levels) */
    "CREATE TABLE IF NOT EXISTS frame_index ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, session_id TEXT NOT NULL, attempt INTEGER NOT NULL,"
    " frame INTEGER NOT NULL, sha256 TEXT NOT NULL, phash INTEGER NOT NULL, c0 INTEGER NOT NULL, c1 INTEGER NOT NULL,"
    " c2 INTEGER NOT NULL, c3 INTEGER NOT NULL, thumb BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS frame_index_sha256 ON frame_index(sha256);"
    "CREATE INDEX IF NOT EXISTS frame_index_c0 ON frame_index(c0);"
    "CREATE INDEX IF NOT EXISTS frame_index_c1 ON frame_index(c1);"
    "CREATE INDEX IF NOT EXISTS frame_index_c2 ON frame_index(c2);"
    "CREATE INDEX IF NOT EXISTS frame_index_c3 ON frame_index(c3);";

/* Version 2: the decided package and its answer (idempotent resubmission), demo sessions. Added
 * only where missing: servers before schema_version added them on open. */
static int v2(sqlite3 *db) {
    static const char *const ADD[][3] = {
        {"attempts", "request_sha256", "TEXT"},
        {"attempts", "answer", "TEXT"},
        {"sessions", "demo", "INTEGER NOT NULL DEFAULT 0"},
    };
    for (size_t i = 0; i < sizeof ADD / sizeof ADD[0]; i++) {
        char q[256];
        snprintf(q, sizeof q, "SELECT 1 FROM pragma_table_info('%s') WHERE name='%s'", ADD[i][0], ADD[i][1]);
        sqlite3_stmt *st = NULL;
        int have = sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (have) continue;
        snprintf(q, sizeof q, "ALTER TABLE %s ADD COLUMN %s %s", ADD[i][0], ADD[i][1], ADD[i][2]);
        if (sqlite3_exec(db, q, NULL, NULL, NULL) != SQLITE_OK) return -1;
    }
    return 0;
}

/* MIGRATIONS[i] brings the schema from version i to i + 1: SQL, or a function when it must look
 * first. Append only, in step with store_pg.c; VF_SRV_SCHEMA_VERSION is their count. */
static const struct { const char *sql; int (*fn)(sqlite3 *db); } MIGRATIONS[] = {
    {V1, NULL},
    {NULL, v2},
    {VF_SQ_V3_HOOKS, NULL},
    {VF_SQ_V4_COLLECTIONS, NULL},
    {VF_SQ_V5_COLLECTION_OWNER, NULL},
};
_Static_assert(sizeof MIGRATIONS / sizeof MIGRATIONS[0] == VF_SRV_SCHEMA_VERSION, "a migration per schema version");

static int64_t one_int(sqlite3 *db, const char *q) {
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Bring the schema to VF_SRV_SCHEMA_VERSION in one transaction; a newer one is refused. */
static int migrate(sqlite3 *db, const char *path, char *err, size_t es) {
    if (sqlite3_exec(db, "BEGIN IMMEDIATE;"
                         "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);",
                     NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, es, "db %s: schema_version: %s", path, sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    int64_t v = one_int(db, "SELECT coalesce(max(version),0) FROM schema_version");
    if (v > VF_SRV_SCHEMA_VERSION) {
        snprintf(err, es, "db %s: schema version %lld is newer than this server's %d: a newer veriface-server wrote it; "
                 "run that version (nothing was changed)", path, (long long)v, VF_SRV_SCHEMA_VERSION);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    for (int64_t i = v < 0 ? 0 : v; i < VF_SRV_SCHEMA_VERSION; i++) {
        char q[128];
        snprintf(q, sizeof q, "INSERT INTO schema_version(version,applied_at) VALUES(%lld,%lld)", (long long)i + 1,
                 (long long)vf_srv_now_ms());
        int bad = v < 0 || (MIGRATIONS[i].sql ? sqlite3_exec(db, MIGRATIONS[i].sql, NULL, NULL, NULL) != SQLITE_OK
                                              : MIGRATIONS[i].fn(db) != 0) ||
                  sqlite3_exec(db, q, NULL, NULL, NULL) != SQLITE_OK;
        if (bad) {
            snprintf(err, es, "db %s: migration to schema version %lld: %s", path, (long long)i + 1, sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, es, "db %s: schema commit: %s", path, sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static const vf_srv_store_ops OPS;
static int audit_insert(sq *s, const vf_srv_audit *a);

int vf_srv_store_sqlite_open(const char *path, vf_srv_store **out, char *err, size_t es) {
    *out = NULL;
    sq *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->base.ops = &OPS;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, es, "db %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        sqlite3_close(s->db);
        free(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, es, "db %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(s->db);
        free(s);
        return -1;
    }
    if (migrate(s->db, path, err, es)) {
        sqlite3_close(s->db);
        free(s);
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    *out = &s->base;
    return 0;
}

static void sq_close(vf_srv_store *bs) {
    sq *s = SQ(bs);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int exec(sq *s, const char *sql) { return vf_sq_exec(s, sql); }
static void bind_text(sqlite3_stmt *st, int i, const char *v) { vf_sq_bind_text(st, i, v); }

int vf_sq_exec(sq *s, const char *sql) { return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1; }
void vf_sq_bind_text(sqlite3_stmt *st, int i, const char *v) {
    if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(st, i);
}

int vf_sq_audit_insert(sq *s, const vf_srv_audit *a) { return audit_insert(s, a); }

static int audit_insert(sq *s, const vf_srv_audit *a) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO audit(at,route,session_id,attempt,request_sha256,remote,status,code,decision,reasons,detail)"
                                  " VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_int64(st, 1, vf_srv_now_ms());
    bind_text(st, 2, a->route);
    bind_text(st, 3, a->session_id);
    if (a->attempt > 0) sqlite3_bind_int(st, 4, a->attempt); else sqlite3_bind_null(st, 4);
    bind_text(st, 5, a->request_sha256);
    bind_text(st, 6, a->remote);
    sqlite3_bind_int(st, 7, a->status);
    bind_text(st, 8, a->code);
    bind_text(st, 9, a->decision);
    bind_text(st, 10, a->reasons_json);
    bind_text(st, 11, a->detail_json);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int sq_audit(vf_srv_store *bs, const vf_srv_audit *a) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    int rc = audit_insert(s, a);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* A new attempt row with its fresh nonce (inside the caller's transaction). */
static int attempt_insert(sq *s, const char *id, int attempt, const char *nonce, int64_t issued_at,
                          const char *challenge) {
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO attempts(session_id,attempt,nonce,issued_at,challenge) VALUES(?,?,?,?,?)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, attempt);
        sqlite3_bind_text(st, 3, nonce, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, issued_at);
        bind_text(st, 5, challenge);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_create_session(vf_srv_store *bs, const vf_srv_session *ss, const vf_srv_audit *a) {
    sq *s = SQ(bs);
    cJSON *cj = vf_srv_session_config_json(&ss->cfg);
    char *cfg = cJSON_PrintUnformatted(cj);
    cJSON_Delete(cj);
    if (!cfg) return -1;
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    sqlite3_stmt *st = NULL;
    if (exec(s, "BEGIN IMMEDIATE")) goto out;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO sessions(id,created_at,expires_at,public_key,config,reference,external_ref,demo,"
                                  "redirect_url,webhook_url,reference_id,integrator,managed,start_token)"
                                  " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) goto rollback;
    sqlite3_bind_text(st, 1, ss->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, ss->created_at);
    sqlite3_bind_int64(st, 3, ss->expires_at);
    sqlite3_bind_blob(st, 4, ss->pubkey, (int)ss->pubkey_len, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, cfg, -1, SQLITE_TRANSIENT);
    if (ss->ref_dim > 0) sqlite3_bind_blob(st, 6, ss->ref, (int)(sizeof(float) * (size_t)ss->ref_dim), SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 6);
    bind_text(st, 7, ss->external_ref[0] ? ss->external_ref : NULL);
    sqlite3_bind_int(st, 8, ss->demo);
    bind_text(st, 9, ss->redirect_url[0] ? ss->redirect_url : NULL);
    bind_text(st, 10, ss->webhook_url[0] ? ss->webhook_url : NULL);
    bind_text(st, 11, ss->reference_id[0] ? ss->reference_id : NULL);
    bind_text(st, 12, ss->integrator[0] ? ss->integrator : NULL);
    sqlite3_bind_int(st, 13, ss->managed);
    bind_text(st, 14, ss->start_token[0] ? ss->start_token : NULL);
    if (sqlite3_step(st) != SQLITE_DONE) goto rollback;
    sqlite3_finalize(st);
    st = NULL;
    if (attempt_insert(s, ss->id, 1, ss->nonce, ss->nonce_issued_at, ss->challenge[0] ? ss->challenge : NULL)) goto rollback;
    if (audit_insert(s, a)) goto rollback;
    if (exec(s, "COMMIT")) goto rollback;
    rc = 0;
    goto out;
rollback:
    exec(s, "ROLLBACK");
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    free(cfg);
    return rc;
}

static int sq_get_session(vf_srv_store *bs, const char *id, vf_srv_session *o) {
    sq *s = SQ(bs);
    memset(o, 0, sizeof *o);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT s.created_at,s.expires_at,s.public_key,s.config,s.reference,s.external_ref,s.final,"
                                  "s.decision,s.attempt,s.uncertain_count,s.fail_count,s.challenge_passed,a.nonce,a.issued_at,"
                                  "a.used_at,a.challenge,s.redirect_url,s.webhook_url,s.reference_id,s.integrator,s.managed,s.start_token"
                                  " FROM sessions s LEFT JOIN attempts a ON a.session_id=s.id AND a.attempt=s.attempt"
                                  " WHERE s.id=?", -1, &st, NULL) != SQLITE_OK) goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE) { rc = 0; goto out; }
    if (r != SQLITE_ROW) goto out;
    snprintf(o->id, sizeof o->id, "%s", id);
    o->created_at = sqlite3_column_int64(st, 0);
    o->expires_at = sqlite3_column_int64(st, 1);
    int kl = sqlite3_column_bytes(st, 2);
    o->managed = sqlite3_column_int(st, 20);
    if ((kl <= 0 && !o->managed) || kl < 0 || (size_t)kl > sizeof o->pubkey) goto out;   /* managed: none until the page binds one */
    if (kl) memcpy(o->pubkey, sqlite3_column_blob(st, 2), (size_t)kl);
    o->pubkey_len = (size_t)kl;
    if (vf_srv_store_parse_config((const char *)sqlite3_column_text(st, 3), &o->cfg)) goto out;
    int rl = sqlite3_column_bytes(st, 4);
    if (rl > 0 && (size_t)rl <= sizeof o->ref && rl % 4 == 0) {
        memcpy(o->ref, sqlite3_column_blob(st, 4), (size_t)rl);
        o->ref_dim = rl / 4;
    }
    if (sqlite3_column_text(st, 5)) snprintf(o->external_ref, sizeof o->external_ref, "%s", sqlite3_column_text(st, 5));
    o->final = sqlite3_column_int(st, 6);
    if (sqlite3_column_text(st, 7)) snprintf(o->decision, sizeof o->decision, "%s", sqlite3_column_text(st, 7));
    o->attempt = sqlite3_column_int(st, 8);
    o->uncertain_count = sqlite3_column_int(st, 9);
    o->fail_count = sqlite3_column_int(st, 10);
    o->challenge_passed = sqlite3_column_int(st, 11);
    if (sqlite3_column_text(st, 12)) snprintf(o->nonce, sizeof o->nonce, "%s", sqlite3_column_text(st, 12));
    o->nonce_issued_at = sqlite3_column_int64(st, 13);
    o->nonce_used = sqlite3_column_type(st, 14) != SQLITE_NULL;
    if (sqlite3_column_text(st, 15)) snprintf(o->challenge, sizeof o->challenge, "%s", sqlite3_column_text(st, 15));
    if (sqlite3_column_text(st, 16)) snprintf(o->redirect_url, sizeof o->redirect_url, "%s", sqlite3_column_text(st, 16));
    if (sqlite3_column_text(st, 17)) snprintf(o->webhook_url, sizeof o->webhook_url, "%s", sqlite3_column_text(st, 17));
    if (sqlite3_column_text(st, 18)) snprintf(o->reference_id, sizeof o->reference_id, "%s", sqlite3_column_text(st, 18));
    if (sqlite3_column_text(st, 19)) snprintf(o->integrator, sizeof o->integrator, "%s", sqlite3_column_text(st, 19));
    if (sqlite3_column_text(st, 21)) snprintf(o->start_token, sizeof o->start_token, "%s", sqlite3_column_text(st, 21));
    rc = 1;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static char *sq_recorded_answer(vf_srv_store *bs, const char *id, const char *nonce, const char *request_sha256) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    char *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT answer FROM attempts WHERE session_id=? AND nonce=? AND used_at IS NOT NULL"
                                  " AND request_sha256=? AND answer IS NOT NULL", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, nonce, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, request_sha256, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            out = t ? strdup(t) : NULL;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return out;
}

static int sq_nonce_used(vf_srv_store *bs, const char *id, const char *nonce) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM attempts WHERE session_id=? AND nonce=? AND used_at IS NOT NULL", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, nonce, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- the frame index ---------------------------------------------------------------------- */

static int index_find(sq *s, const vf_srv_frame_print *p, int n, int64_t after, const vf_srv_freshness_config *c,
                      vf_srv_index_hit *hits, float *nearest, int *n_cand) {
    char sql[1024];
    vf_srv_store_index_sql(sql, sizeof sql, '?');
    sqlite3_stmt *ex = NULL, *sim = NULL;
    int nh = -1;
    *n_cand = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT session_id,attempt,at FROM frame_index WHERE sha256=? AND id>? LIMIT 1", -1, &ex, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, sql, -1, &sim, NULL) != SQLITE_OK)
        goto out;
    nh = 0;
    for (int f = 0; f < n; f++) {
        vf_srv_index_hit h = {f, 1, 0, 0, "", 0, 0};
        nearest[f] = INFINITY;
        sqlite3_reset(ex);
        sqlite3_bind_text(ex, 1, p[f].sha256, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ex, 2, after);
        int r = sqlite3_step(ex);
        if (r == SQLITE_ROW) {
            snprintf(h.session_id, sizeof h.session_id, "%s", sqlite3_column_text(ex, 0) ? (const char *)sqlite3_column_text(ex, 0) : "");
            h.attempt = sqlite3_column_int(ex, 1);
            h.at = sqlite3_column_int64(ex, 2);
            nearest[f] = 0;
            hits[nh++] = h;
            continue;
        }
        if (r != SQLITE_DONE) { nh = -1; goto out; }
        sqlite3_reset(sim);
        sqlite3_bind_int64(sim, 1, after);
        int probes[4 * VF_SRV_INDEX_PROBES];
        vf_srv_store_index_probes(p[f].phash, probes);
        for (int i = 0; i < 4 * VF_SRV_INDEX_PROBES; i++) sqlite3_bind_int(sim, 2 + i, probes[i]);
        sqlite3_bind_int(sim, 2 + 4 * VF_SRV_INDEX_PROBES, c->replay_max_candidates);
        h.exact = 0;
        h.distance = INFINITY;
        while ((r = sqlite3_step(sim)) == SQLITE_ROW) {
            (*n_cand)++;
            vf_srv_store_index_consider(&p[f], c, (uint64_t)sqlite3_column_int64(sim, 0), sqlite3_column_blob(sim, 1),
                                        (size_t)sqlite3_column_bytes(sim, 1), (const char *)sqlite3_column_text(sim, 2),
                                        sqlite3_column_int(sim, 3), sqlite3_column_int64(sim, 4), &h, &nearest[f]);
        }
        if (r != SQLITE_DONE) { nh = -1; goto out; }
        if (isfinite(h.distance)) hits[nh++] = h;
    }
out:
    sqlite3_finalize(ex);
    sqlite3_finalize(sim);
    return nh;
}

static int sq_index_find(vf_srv_store *bs, const vf_srv_frame_print *p, int n, int64_t after, const vf_srv_freshness_config *c,
                            vf_srv_index_hit *hits, float *nearest, int *n_cand, int64_t *last_id) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st;
    int rc = -1;
    *last_id = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(id),0) FROM frame_index", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) { *last_id = sqlite3_column_int64(st, 0); rc = 0; }
        sqlite3_finalize(st);
    }
    if (!rc) rc = index_find(s, p, n, after, c, hits, nearest, n_cand);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int index_insert(sq *s, const char *id, int attempt, const vf_srv_frame_print *p, int n, int64_t now) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO frame_index(at,session_id,attempt,frame,sha256,phash,c0,c1,c2,c3,thumb)"
                                  " VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) return -1;
    int rc = 0;
    for (int f = 0; f < n && !rc; f++) {
        uint8_t t[2 * VF_SRV_THUMB_CELLS];
        vf_srv_store_thumb_bytes(&p[f], t);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, attempt);
        sqlite3_bind_int(st, 4, f);
        sqlite3_bind_text(st, 5, p[f].sha256, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, (int64_t)p[f].phash);
        for (int ch = 0; ch < 4; ch++) sqlite3_bind_int(st, 7 + ch, (int)(p[f].phash >> (16 * ch) & 0xFFFF));
        sqlite3_bind_blob(st, 11, t, sizeof t, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_record_outcome(vf_srv_store *bs, const char *id, const vf_srv_outcome *o, const vf_srv_audit *a) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    sqlite3_stmt *st = NULL;
    if (exec(s, "BEGIN IMMEDIATE")) goto out;
    /* the nonce is spent in the same transaction as the decision: used exactly once, and never
     * burnt by a crash before the answer (another process sharing the file loses here) */
    if (sqlite3_prepare_v2(s->db, "UPDATE attempts SET used_at=?,decision=?,detail=?,decided_at=?,request_sha256=?,answer=?"
                                  " WHERE session_id=? AND attempt=? AND used_at IS NULL", -1, &st, NULL) != SQLITE_OK)
        goto rollback;
    sqlite3_bind_int64(st, 1, o->now);
    sqlite3_bind_text(st, 2, o->decision, -1, SQLITE_TRANSIENT);
    bind_text(st, 3, o->detail_json);
    sqlite3_bind_int64(st, 4, o->now);
    bind_text(st, 5, o->request_sha256);
    bind_text(st, 6, o->answer_json);
    sqlite3_bind_text(st, 7, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 8, o->attempt);
    if (sqlite3_step(st) != SQLITE_DONE) goto rollback;
    if (sqlite3_changes(s->db) != 1) { rc = 1; goto rollback_keep; }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(s->db, "UPDATE sessions SET final=?,decision=?,attempt=?,uncertain_count=uncertain_count+?,"
                                  "fail_count=fail_count+?,challenge_passed=max(challenge_passed,?),decided_at=?"
                                  " WHERE id=? AND final=0 AND attempt=?", -1, &st, NULL) != SQLITE_OK) goto rollback;
    sqlite3_bind_int(st, 1, o->final);
    sqlite3_bind_text(st, 2, o->decision, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, o->final ? o->attempt : o->attempt + 1);
    sqlite3_bind_int(st, 4, o->uncertain_inc);
    sqlite3_bind_int(st, 5, o->fail_inc);
    sqlite3_bind_int(st, 6, o->challenge_passed);
    sqlite3_bind_int64(st, 7, o->now);
    sqlite3_bind_text(st, 8, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 9, o->attempt);
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1) goto rollback;
    sqlite3_finalize(st);
    st = NULL;
    if (!o->final && attempt_insert(s, id, o->attempt + 1, o->next_nonce, o->now, o->next_challenge)) goto rollback;
    if (o->n_prints > 0) {
        /* a concurrent decision indexed one of these frames after the search: decide again */
        if (o->recheck) {
            vf_srv_index_hit hits[VF_SRV_FRESH_MAX];
            float nearest[VF_SRV_FRESH_MAX];
            int cand, nh = index_find(s, o->prints, o->n_prints < VF_SRV_FRESH_MAX ? o->n_prints : VF_SRV_FRESH_MAX, o->index_seen,
                                      o->recheck, hits, nearest, &cand);
            if (nh < 0) goto rollback;
            if (nh > 0) { rc = 2; goto rollback_keep; }
        }
        if (index_insert(s, id, o->attempt, o->prints, o->n_prints, o->now)) goto rollback;
    }
    if (vf_sq_outcome_hooks(s, id, o)) goto rollback;
    if (audit_insert(s, a)) goto rollback;
    if (exec(s, "COMMIT")) goto rollback;
    rc = 0;
    goto out;
rollback:
    rc = -1;
rollback_keep:
    exec(s, "ROLLBACK");
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static const char *col_text(sqlite3_stmt *st, int i) { return (const char *)sqlite3_column_text(st, i); }

static char *sq_session_detail(vf_srv_store *bs, const char *id) {
    sq *s = SQ(bs);
    pthread_mutex_lock(&s->mu);
    char *out = NULL;
    cJSON *j = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT created_at,expires_at,config,external_ref,final,decision,attempt,decided_at,"
                                  "reference IS NOT NULL,demo FROM sessions WHERE id=?", -1, &st, NULL) != SQLITE_OK) goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) goto out;
    vf_srv_detail_session d = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 7),
                               col_text(st, 2), col_text(st, 3), col_text(st, 5), sqlite3_column_int(st, 4),
                               sqlite3_column_int(st, 6), sqlite3_column_type(st, 7) != SQLITE_NULL,
                               sqlite3_column_int(st, 8), sqlite3_column_int(st, 9)};
    j = vf_srv_store_detail_session(id, &d);
    sqlite3_finalize(st);
    st = NULL;
    if (vf_sq_detail_hooks(s, id, j)) goto out;
    if (sqlite3_prepare_v2(s->db, "SELECT attempt,issued_at,used_at,challenge,decision,decided_at,detail FROM attempts"
                                  " WHERE session_id=? ORDER BY attempt", -1, &st, NULL) != SQLITE_OK) goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        vf_srv_detail_attempt a = {sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                                   sqlite3_column_int64(st, 5), sqlite3_column_type(st, 2) != SQLITE_NULL,
                                   sqlite3_column_type(st, 5) != SQLITE_NULL, col_text(st, 3), col_text(st, 4), col_text(st, 6)};
        vf_srv_store_detail_attempt(j, &a);
    }
    out = cJSON_PrintUnformatted(j);
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    cJSON_Delete(j);
    return out;
}

static const vf_srv_store_ops OPS = {
    .name = "sqlite",
    .close = sq_close,
    .create_session = sq_create_session,
    .get_session = sq_get_session,
    .nonce_used = sq_nonce_used,
    .recorded_answer = sq_recorded_answer,
    .record_outcome = sq_record_outcome,
    .index_find = sq_index_find,
    .audit = sq_audit,
    .session_detail = sq_session_detail,
    VF_SQ_HOOKS_OPS
    VF_SQ_COLLECTION_OPS
};
