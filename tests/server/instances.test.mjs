// instances.test.mjs - two veriface-server processes on one store (issue 13 item 6; run against
// SQLite, where they share the file, and PostgreSQL, the multi-instance deployment of
// docs/SERVER.md): 8 concurrent copies of one signed package spread over both are decided once; a
// nonce spent on one instance is spent on the other; frames decided on one are replays on the other.
// With PostgreSQL also: the database restarted under a running server, which carries on.
import * as h from './harness.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

h.requireData({ pad: false });   // without PAD every decision is review: still exactly one decision

let A, B, sim;
before(async () => {
  const cfg = { limits: { per_ip_rate: 0, per_session_per_min: 0 } };
  A = await h.startServer(cfg, { threads: 2 });
  B = await h.startServer(cfg, { threads: 2, db: A.db });
  const key = await h.newKey();
  sim = h.simulate((await h.createSession(A, key)).body.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
});
after(async () => {
  await Promise.all([A?.stop(), B?.stop()]);
  A?.cleanup(); B?.cleanup();
});

const decided = (id) => h.sql(A.db, `SELECT count(*) FROM attempts WHERE session_id='${id}' AND decision IS NOT NULL`)[0][0];

test('8 concurrent copies of a package over two instances: one decision, the others its answer or 409', async () => {
  for (let round = 0; round < 3; round++) {
    const key = await h.newKey();
    const s = (await h.createSession(round % 2 ? B : A, key)).body;   // created on either, decided on both
    const body = h.buildPackage(s, sim);
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => h.postResult(i % 2 ? B : A, s.session_id, body, key, { integrator: false })));
    const ok = rs.filter((r) => r.status === 200), refused = rs.filter((r) => r.status !== 200);
    assert.ok(ok.length >= 1, rs.map((r) => r.text).join('\n'));
    for (const r of ok) assert.equal(r.text, ok[0].text, 'every 200 is the one recorded answer, byte for byte');
    for (const r of refused) assert.deepEqual([r.status, r.body.error.code], [409, 'nonce_replayed'], r.text);
    assert.equal(decided(s.session_id), 1);
    const audits = h.sql(A.db, `SELECT code FROM audit WHERE route='result' AND session_id='${s.session_id}' AND status=200 ORDER BY id`);
    assert.equal(audits.filter(([c]) => c !== 'answer_resent').length, 1, JSON.stringify(audits));
    assert.equal(audits.length, ok.length, 'each 200 audited: one decision, the rest answer_resent');
    // afterwards, on either instance, the same body gets the recorded answer
    for (const srv of [A, B]) {
      const again = await h.postResult(srv, s.session_id, body, key, { integrator: false });
      assert.equal(again.text, ok[0].text);
    }
    console.log(`# round ${round}: ${ok.length} x 200 (1 decision), ${refused.length} x 409`);
  }
});

test('a nonce spent on one instance is spent on the other; the next one works there', async (t) => {
  // without the PAD models every attempt is a final review: no next nonce to carry over
  if (!(await (await fetch(A.base + '/healthz')).json()).pad_models) return t.skip('the PAD models are not loaded');
  const key = await h.newKey();
  // active mode: a package of new frames without the challenge's is decided `challenge`, not final
  const s = (await h.createSession(A, key, { config: { liveness_type: 'active', max_retries: 2 } })).body;
  const own = h.simulate(s.config, ['--mjpeg', h.MJPEG(), '--start', '85', '--max', '40']);
  const first = await h.postResult(A, s.session_id, h.buildPackage(s, own), key);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.final, false, `${first.decision} ${JSON.stringify(first.detail?.reasons)}`);
  // another body (re-signed) on the spent nonce, on the other instance
  const other = await h.postResult(B, s.session_id, h.buildPackage(s, own, { createdAt: Date.now() + 1 }), key);
  assert.deepEqual([other.status, other.body?.error?.code], [409, 'nonce_replayed'], other.text);
  assert.equal(decided(s.session_id), 1);
  // the next attempt's nonce, issued by A, is good on B (and spent there)
  const body2 = h.buildPackage(s, sim, { nonce: first.body.retry.next_nonce, attempt: 2 });
  const next = await h.postResult(B, s.session_id, body2, key);
  assert.equal(next.status, 200, next.text);
  assert.equal(decided(s.session_id), 2);
  const again = await h.postResult(A, s.session_id, h.buildPackage(s, sim, { nonce: first.body.retry.next_nonce, attempt: 2 }), key);
  assert.equal(again.status, 409, again.text);
});

test("frames decided on one instance are replays on the other (the store's frame index)", async () => {
  const own = h.simulate((await h.createSession(A, await h.newKey())).body.config, ['--mjpeg', h.MJPEG(), '--start', '155', '--max', '40']);
  const k1 = await h.newKey(), k2 = await h.newKey();
  const s1 = (await h.createSession(A, k1)).body, s2 = (await h.createSession(B, k2)).body;
  const r1 = await h.postResult(A, s1.session_id, h.buildPackage(s1, own), k1);
  assert.equal(r1.status, 200, r1.text);
  assert.ok(!r1.detail.reasons.includes('freshness.replayed_frame'), JSON.stringify(r1.detail.reasons));
  const r2 = await h.postResult(B, s2.session_id, h.buildPackage(s2, own), k2);
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.decision, 'reject');
  assert.ok(r2.detail.reasons.includes('freshness.replayed_frame'), JSON.stringify(r2.detail.reasons));
  const hit = r2.detail.freshness.index.replayed[0];
  assert.equal(hit.session_id, s1.session_id);
});

test('PostgreSQL restarted under a running server: reads, sessions and decisions carry on', { skip: h.backend !== 'postgresql' && 'PostgreSQL only' }, async () => {
  const cluster = h.ownPgCluster();
  const db = h.newDatabase(null, cluster.url);
  const srv = await h.startServer({ limits: { per_ip_rate: 0 } }, { threads: 1, db });
  try {
    const key = await h.newKey();
    const s = (await h.createSession(srv, key)).body;
    cluster.restart();   // fast shutdown: the server's connection is cut
    // the first call after it: a read re-run on a new connection, not an error
    assert.equal((await h.getSession(srv, s.session_id)).status, 200);
    const r = await h.postResult(srv, s.session_id, h.buildPackage(s, sim), key);
    assert.equal(r.status, 200, r.text);
    assert.equal(h.sql(db, `SELECT count(*) FROM attempts WHERE session_id='${s.session_id}' AND decision IS NOT NULL`)[0][0], 1);
    cluster.restart();
    assert.equal((await h.createSession(srv, key)).status, 201);
  } finally {
    await srv.stop();
    srv.cleanup();
    cluster.stop();
  }
});
