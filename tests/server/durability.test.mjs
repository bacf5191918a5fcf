// durability.test.mjs - the audit survives a crash: drive concurrent result packages, SIGKILL the
// server mid-load, reopen the database and check that every acknowledged decision (a 200 the
// client received) and every acknowledged session (201) has its committed audit record, and that
// the database is intact. Run: node durability.test.mjs (same env as protocol.test.mjs).
import * as h from './harness.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';

h.requireData({ pad: false });   // decisions are review without PAD: still decisions

const sql = h.sql;

test('SIGKILL under load: every acknowledged decision has its audit record', async () => {
  const srv = await h.startServer({ limits: { per_ip_rate: 0 } });
  try {
    const key = await h.newKey();
    const first = await h.createSession(srv, key);
    const sim = h.simulate(first.body.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
    const N = 48, inflight = 6, killAfter = 16;
    const sessions = [];
    for (let i = 0; i < N; i++) {
      const s = await h.createSession(srv, key);
      assert.equal(s.status, 201);
      sessions.push(s.body);
    }
    const acked = [];
    let next = 0, killed = false, shedFor20s = 0;
    const worker = async () => {
      while (next < N && !killed) {
        const s = sessions[next++];
        try {
          let r = await h.postResult(srv, s.session_id, h.buildPackage(s, sim), key, { integrator: false });
          // shed by the admission limit (503 + Retry-After): the page tries again, as told
          for (let tries = 0; r.status === 503 && !killed; tries++) {
            if (tries === 400) { shedFor20s++; break; }   // (an assertion here would land in the catch)
            await new Promise((res) => setTimeout(res, 50));
            r = await h.postResult(srv, s.session_id, h.buildPackage(s, sim), key, { integrator: false });
          }
          if (r.status === 200 && !killed) acked.push(r.body);
          else if (r.status === 200) acked.push(r.body);   // an answer is an acknowledgement, killed or not
          if (acked.length >= killAfter && !killed) { killed = true; srv.proc.kill('SIGKILL'); }
        } catch { /* the connection died with the server: not acknowledged */ }
      }
    };
    await Promise.all(Array.from({ length: inflight }, worker));
    assert.ok(killed, `the load ended with ${acked.length} of ${killAfter} acknowledgements and no kill (${shedFor20s} packages shed for 20 s)`);
    await new Promise((r) => (srv.proc.exitCode !== null || srv.proc.signalCode ? r() : srv.proc.on('exit', r)));
    assert.equal(srv.proc.signalCode, 'SIGKILL', 'the server must have been killed mid-load');
    assert.ok(acked.length >= killAfter, `acknowledged ${acked.length}`);
    assert.ok(acked.length < N, 'the kill came before the load finished');
    if (h.backend === 'sqlite') assert.deepEqual(sql(srv.db, 'PRAGMA integrity_check'), [['ok']]);
    for (const a of acked) {
      // the page's answer names no decision: the attempt's record, its audit row and the session agree
      const att = sql(srv.db, `SELECT decision, answer FROM attempts WHERE session_id='${a.session_id}' AND attempt=${a.attempt}`);
      assert.equal(att.length, 1, `attempt of acknowledged ${a.session_id}`);
      assert.ok(att[0][0], 'the acknowledged attempt is decided');
      assert.deepEqual(JSON.parse(att[0][1]), a, 'the recorded answer is the one the page got');
      const rows = sql(srv.db, `SELECT decision FROM audit WHERE route='result' AND session_id='${a.session_id}' AND attempt=${a.attempt} AND status=200`);
      assert.deepEqual(rows, [[att[0][0]]], `audit of acknowledged ${a.session_id}`);
      assert.deepEqual(sql(srv.db, `SELECT decision FROM sessions WHERE id='${a.session_id}'`), [[att[0][0]]]);
    }
    const created = sql(srv.db, "SELECT count(*) FROM audit WHERE route='sessions_create' AND code='created'")[0][0];
    assert.equal(created, N + 1);
    console.log(`# acknowledged ${acked.length} of ${N} decisions before SIGKILL; all audited`);
  } finally {
    await srv.stop('SIGKILL');
    srv.cleanup();
  }
});

test('two server processes on one database: a package is decided once', async () => {
  const A = await h.startServer({ limits: { per_ip_rate: 0 } }, { threads: 1 });
  const B = await h.startServer({ limits: { per_ip_rate: 0 } }, { threads: 1, db: A.db });
  try {
    const key = await h.newKey();
    const s0 = await h.createSession(A, key);
    const sim = h.simulate(s0.body.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
    for (let i = 0; i < 6; i++) {
      const s = (await h.createSession(A, key)).body;
      const body = h.buildPackage(s, sim);
      const [ra, rb] = await Promise.all([h.postResult(A, s.session_id, body, key), h.postResult(B, s.session_id, body, key)]);
      const st = [ra.status, rb.status].sort();
      assert.deepEqual(st, [200, 409], ra.text + ' / ' + rb.text);
      const audits = sql(A.db, `SELECT count(*) FROM audit WHERE session_id='${s.session_id}' AND status=200`)[0][0];
      assert.equal(audits, 1);
    }
  } finally {
    await Promise.all([A.stop(), B.stop()]);
    A.cleanup(); B.cleanup();
  }
});
