// demo.test.mjs - issue 12 item 6 (demo mode): demo sessions are created by the demo page only
// (another site's page cannot POST /demo/sessions from a visitor's browser), they are marked as
// demo in the integrator's GET /v1/sessions/{id}, and GET /demo/sessions/{id} serves the record of
// demo sessions only: an integrator session's decision never reaches a page.
import * as h from './harness.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

h.requireData({ pad: false });

let S;
before(async () => { S = await h.startServer({ limits: { per_ip_rate: 0 } }); });
after(async () => { await S?.stop(); S?.cleanup(); });

async function demoPost(key, headers) {
  const res = await fetch(S.base + '/demo/sessions', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ client_public_key: key.spki }) });
  return { status: res.status, body: await res.json() };
}

test('a cross-site POST cannot create a demo session; the demo page can', async () => {
  const key = await h.newKey();
  const host = `127.0.0.1:${S.port}`;
  for (const headers of [{ Origin: 'https://evil.example' }, { 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' },
    { Origin: `http://${host}.evil.example` }, { Origin: 'null' }]) {
    const r = await demoPost(key, headers);
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.equal(r.body.error.code, 'cross_origin');
  }
  for (const headers of [{ Origin: `http://${host}`, 'Sec-Fetch-Site': 'same-origin' }, {}]) {
    const r = await demoPost(key, headers);
    assert.equal(r.status, 201, `${JSON.stringify(headers)}: ${JSON.stringify(r.body)}`);
  }
  assert.ok(h.sql(S.db, "SELECT count(*) FROM audit WHERE code='cross_origin'")[0][0] >= 5, 'refusals audited');
});

test('demo sessions are marked; /demo/sessions/{id} serves demo sessions only', async () => {
  const key = await h.newKey();
  const demo = (await demoPost(key, { Origin: `http://127.0.0.1:${S.port}` })).body;
  const integ = (await h.createSession(S, key)).body;
  assert.equal((await h.getSession(S, demo.session_id)).body.demo, true);
  assert.equal((await h.getSession(S, integ.session_id)).body.demo, false);
  const sim = h.simulate(demo.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
  const r = await h.postResult(S, demo.session_id, h.buildPackage(demo, sim), key);
  assert.equal(r.status, 200, r.text);
  const d = await fetch(`${S.base}/demo/sessions/${demo.session_id}`);
  assert.equal(d.status, 200);
  const rec = await d.json();
  assert.equal(rec.attempts[0].decision, r.decision);
  assert.ok(Array.isArray(rec.attempts[0].detail.reasons));
  const i = await fetch(`${S.base}/demo/sessions/${integ.session_id}`);
  assert.equal(i.status, 404, 'an integrator session is never served to a page');
});
