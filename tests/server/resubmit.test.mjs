// resubmit.test.mjs - issue 12 item 7: a page whose answer was lost (the server was killed after
// the decision committed, or the connection dropped) posts the same signed body again and gets
// the recorded answer, byte for byte; it is audited as `answer_resent` and decides nothing new.
// Only the same bytes under a valid signature of the session key get it: another body on the
// same nonce is a replay (409), a bad signature is 401. Before: 409 session_closed/nonce_replayed,
// so the page could not learn the outcome.
import * as h from './harness.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';

h.requireData();

/** POST the body and close the socket before the answer (the page was closed, or the network dropped). */
function postAndVanish(srv, sessionId, body, sig) {
  return new Promise((resolve) => {
    const c = connect(srv.port, '127.0.0.1', () => {
      c.write(`POST /v1/sessions/${sessionId}/result HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `X-Veriface-Signature: ${sig}\r\nContent-Length: ${body.length}\r\n\r\n`);
      c.end(body, () => setTimeout(() => { c.destroy(); resolve(); }, 10));
    });
    c.on('error', resolve);
  });
}

test('the same signed body after a lost answer and a SIGKILL -> the recorded answer, once decided', async () => {
  let srv = await h.startServer({ limits: { per_ip_rate: 0, per_session_per_min: 0 } });
  const first = srv, db = srv.db;
  try {
    const key = await h.newKey();
    const s = (await h.createSession(srv, key)).body;
    const sim = h.simulate(s.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
    const body = Buffer.from(h.buildPackage(s, sim));
    const sig = await h.sign(key, body);
    await postAndVanish(srv, s.session_id, body, sig);
    // wait for the decision the page never heard of, then kill the server
    for (let i = 0; i < 100 && !h.sql(db, `SELECT decision FROM attempts WHERE session_id='${s.session_id}'`)[0][0]; i++)
      await new Promise((r) => setTimeout(r, 100));
    const recorded = h.sql(db, `SELECT decision, answer FROM attempts WHERE session_id='${s.session_id}'`)[0];
    assert.ok(recorded[0], 'decided while nobody listened');
    await srv.stop('SIGKILL');
    srv = await h.startServer({ limits: { per_ip_rate: 0, per_session_per_min: 0 } }, { db });
    // the page asks again with the same bytes (a new signature of them: ECDSA signatures differ)
    const again = await h.postResult(srv, s.session_id, body, key, { signature: await h.sign(key, body) });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.text, recorded[1], 'the recorded answer, byte for byte');
    assert.equal(again.decision, recorded[0]);
    const twice = await h.postResult(srv, s.session_id, body, key, { signature: sig });
    assert.equal(twice.text, recorded[1]);
    // nothing new was decided, and each resend is audited
    assert.equal(h.sql(db, `SELECT count(*) FROM attempts WHERE session_id='${s.session_id}' AND decision IS NOT NULL`)[0][0], 1);
    assert.equal(h.sql(db, `SELECT count(*) FROM audit WHERE session_id='${s.session_id}' AND code='answer_resent'`)[0][0], 2);
    // only for the key's holder, and only for those bytes
    const forged = await h.postResult(srv, s.session_id, body, key, { signature: h.b64url(Buffer.alloc(64, 7)) });
    assert.equal(forged.status, 401, forged.text);
    const other = Buffer.from(h.buildPackage(s, sim, { createdAt: Date.now() + 5 }));
    const r = await h.postResult(srv, s.session_id, other, key);
    assert.ok(r.status === 409, r.text);
    assert.ok(['session_closed', 'nonce_replayed'].includes(r.body.error.code), r.text);
  } finally {
    await srv.stop('SIGKILL');
    srv.cleanup();
    first.cleanup();
  }
});
