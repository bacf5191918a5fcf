// migrations.test.mjs - the store's schema is versioned (schema_version): a server upgrades an
// older schema at start-up, data kept, and refuses a newer one with a message, changing nothing.
// Both backends: SQLite from a database of a server before schema_version (version 0, the first
// tables), PostgreSQL from version 1 (the first tables, without the columns of version 2).
import * as h from './harness.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

h.requireData({ pad: false });

// the server's schema version, VF_SRV_SCHEMA_VERSION in src/server/store.h
const LATEST = Number(/#define VF_SRV_SCHEMA_VERSION (\d+)/.exec(readFileSync(new URL('../../src/server/store.h', import.meta.url), 'utf8'))[1]);

// The first schema as the first servers wrote it (types per backend), with one open session.
const T = h.backend === 'sqlite'
  ? { int: 'INTEGER', big: 'INTEGER', blob: 'BLOB', serial: 'INTEGER PRIMARY KEY AUTOINCREMENT', key: "x'3059'" }
  : { int: 'INTEGER', big: 'BIGINT', blob: 'BYTEA', serial: 'BIGSERIAL PRIMARY KEY', key: "'\\x3059'::bytea" };
const V1 = `
CREATE TABLE sessions (id TEXT PRIMARY KEY, created_at ${T.big} NOT NULL, expires_at ${T.big} NOT NULL, public_key ${T.blob} NOT NULL,
  config TEXT NOT NULL, reference ${T.blob}, external_ref TEXT, final ${T.int} NOT NULL DEFAULT 0, decision TEXT,
  attempt ${T.int} NOT NULL DEFAULT 1, uncertain_count ${T.int} NOT NULL DEFAULT 0, fail_count ${T.int} NOT NULL DEFAULT 0,
  challenge_passed ${T.int} NOT NULL DEFAULT 0, decided_at ${T.big});
CREATE TABLE attempts (session_id TEXT NOT NULL REFERENCES sessions(id), attempt ${T.int} NOT NULL, nonce TEXT NOT NULL UNIQUE,
  issued_at ${T.big} NOT NULL, used_at ${T.big}, challenge TEXT, decision TEXT, detail TEXT, decided_at ${T.big},
  PRIMARY KEY (session_id, attempt));
CREATE TABLE audit (id ${T.serial}, at ${T.big} NOT NULL, route TEXT NOT NULL, session_id TEXT, attempt ${T.int},
  request_sha256 TEXT, remote TEXT, status ${T.int} NOT NULL, code TEXT, decision TEXT, reasons TEXT, detail TEXT);
CREATE TABLE frame_index (id ${T.serial}, at ${T.big} NOT NULL, session_id TEXT NOT NULL, attempt ${T.int} NOT NULL,
  frame ${T.int} NOT NULL, sha256 TEXT NOT NULL, phash ${T.big} NOT NULL, c0 ${T.int} NOT NULL, c1 ${T.int} NOT NULL,
  c2 ${T.int} NOT NULL, c3 ${T.int} NOT NULL, thumb ${T.blob} NOT NULL);
${h.backend === 'sqlite' ? '' : `CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'audit is append-only'; END$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE INDEX audit_session ON audit(session_id); CREATE INDEX frame_index_sha256 ON frame_index(sha256);
CREATE INDEX frame_index_c0 ON frame_index(c0); CREATE INDEX frame_index_c1 ON frame_index(c1);
CREATE INDEX frame_index_c2 ON frame_index(c2); CREATE INDEX frame_index_c3 ON frame_index(c3);
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL); INSERT INTO schema_version VALUES (1, 0);`}
INSERT INTO sessions(id, created_at, expires_at, public_key, config, external_ref) VALUES ('${'a'.repeat(32)}', 1, 4102444800000, ${T.key}, '{}', 'old-ref');
INSERT INTO attempts(session_id, attempt, nonce, issued_at) VALUES ('${'a'.repeat(32)}', 1, 'old-nonce', 1);`;

test('an older schema is upgraded at start-up (data kept); a newer one is refused, nothing changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vf-mig-'));
  const db = h.newDatabase(dir);
  h.sql(db, V1);
  const version = () => h.sql(db, 'SELECT max(version) FROM schema_version')[0][0];
  let srv = await h.startServer({}, { db });
  try {
    assert.equal(version(), LATEST);
    // the columns of the later versions are there, the old session is read through them
    assert.deepEqual(h.sql(db, 'SELECT request_sha256, answer FROM attempts'), [[null, null]]);
    const d = await h.getSession(srv, 'a'.repeat(32));
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.external_ref, 'old-ref');
    assert.equal(d.body.demo, false);
    // it works as a new one: a session created and read back
    const s = await h.createSession(srv, await h.newKey());
    assert.equal(s.status, 201);
  } finally {
    await srv.stop();
  }
  // a second start finds the latest version and adds no row
  srv = await h.startServer({}, { db });
  await srv.stop();
  assert.deepEqual(h.sql(db, 'SELECT version FROM schema_version ORDER BY version'), Array.from({ length: LATEST }, (_, i) => [i + 1]));
  // a schema from a newer server: refused at start, with a message that says so
  h.sql(db, `INSERT INTO schema_version VALUES (${LATEST + 1}, 0)`);
  const sessions = h.sql(db, 'SELECT count(*) FROM sessions')[0][0];
  await assert.rejects(h.startServer({}, { db }), new RegExp(`schema version ${LATEST + 1} is newer than this server's ${LATEST}:`));
  assert.equal(version(), LATEST + 1);
  assert.equal(h.sql(db, 'SELECT count(*) FROM sessions')[0][0], sessions);
  rmSync(dir, { recursive: true, force: true });
});
