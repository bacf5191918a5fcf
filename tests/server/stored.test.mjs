// stored.test.mjs - issue 12 item 3: what a client writes is bounded and stored once, and what the
// integrator reads back is valid UTF-8 JSON. Before: one 7 MB signals field cost 15 MB of database
// per request (stored in the attempt and again in the audit row); signals nested 996 deep and raw
// invalid UTF-8 were accepted and came back through GET /v1/sessions/{id}, where they broke
// strict JSON parsers (Python's json.loads).
import * as h from './harness.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

h.requireData();

let S, live;
before(async () => { ({ srv: S, live } = await h.serverWithCapture()); });
after(async () => { await S?.stop(); S?.cleanup(); });

const dbBytes = () => h.dbBytes(S.db);
const strictUtf8 = (buf) => new TextDecoder('utf-8', { fatal: true }).decode(buf);

async function refused(s, key, body, code, what) {
  const r = await h.postResult(S, s.session_id, body, key);
  assert.equal(r.status, 400, `${what}: ${r.text.slice(0, 300)}`);
  assert.equal(r.body.error.code, code, `${what}: ${r.text.slice(0, 300)}`);
}

test('oversized, deep, wide and non-UTF-8 client objects -> 400, nothing stored', async () => {
  const key = await h.newKey();
  const s = (await h.createSession(S, key)).body;
  const sizeBefore = dbBytes();
  const big = 'x'.repeat(7 << 20);
  await refused(s, key, h.buildPackage(s, live, { mutate: (p) => { p.signals.note = big; } }), 'bad_schema', '7 MB signals string');
  await refused(s, key, h.buildPackage(s, live, { mutate: (p) => { p.module.note = 'y'.repeat(4096); } }), 'bad_schema', '4 KiB module string');
  await refused(s, key, h.buildPackage(s, live, { mutate: (p) => { p.capture.extra = Array.from({ length: 100 }, (_, i) => i); } }), 'bad_schema', '100 capture values');
  let deep = {};
  for (let i = 0; i < 996; i++) deep = { d: deep };
  await refused(s, key, h.buildPackage(s, live, { mutate: (p) => { p.signals.deep = deep; } }), 'bad_schema', 'signals 996 deep');
  await refused(s, key, h.buildPackage(s, live, { mutate: (p) => { p.signals.many = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, i])); } }), 'bad_schema', '600 signal values');
  // raw invalid UTF-8 (a lone continuation byte, an overlong '/', a surrogate) inside a string
  for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
    const text = Buffer.from(h.buildPackage(s, live, { mutate: (p) => { p.signals.label = '@@'; } }));
    const at = text.indexOf('@@');
    const body = Buffer.concat([text.subarray(0, at), Buffer.from(bad), text.subarray(at + 2)]);
    await refused(s, key, body, 'bad_json', `invalid UTF-8 ${bad.map((b) => b.toString(16))}`);
  }
  // a key twice in one object (cJSON reads the first, JSON.parse the last) and an escaped NUL
  // (cut by C strings): either would let the server check one package and store another
  {
    const text = h.buildPackage(s, live, { mutate: (p) => { p.signals.label = '@@'; } });
    await refused(s, key, text.replace('"label":"@@"', '"label":"@@","label":"other"'), 'bad_json', 'duplicate key in signals');
    await refused(s, key, text.replace('"format":1', '"format":1,"format":1'), 'bad_json', 'duplicate top-level key');
    await refused(s, key, text.replace('@@', 'a\\u0000b'), 'bad_json', 'escaped NUL in a string');
  }
  // session creation takes the same rule
  const raw = Buffer.concat([Buffer.from(`{"client_public_key":"${key.spki}","external_ref":"a`), Buffer.from([0xff]), Buffer.from('"}')]);
  const cr = await fetch(S.base + '/v1/sessions', { method: 'POST', body: raw, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.API_KEY}` } });
  assert.equal(cr.status, 400);
  // nothing of it was kept: the database grew by the rejections' audit rows only (a few hundred bytes each)
  const grown = dbBytes() - sizeBefore;
  assert.ok(grown < 256 << 10, `database grew ${grown} bytes for refused requests`);
  // and the session still decides the honest package
  // (the text backslash-u0000, an escaped backslash, is ordinary text and accepted)
  const ok = await h.postResult(S, s.session_id, h.buildPackage(s, live, { mutate: (p) => { p.signals.label = '\\u0000'; } }), key);
  assert.equal(ok.decision, 'approve', ok.text);
});

test('what the client may send is stored once, and read back as strict UTF-8 JSON', async () => {
  const key = await h.newKey();
  const s = (await h.createSession(S, key, { external_ref: 'ref-ü-✓' })).body;
  const MARK = 'vf-marker-7d1f';
  const signals = { ...h.defaultSignals(), note: `${MARK} émoji 😀 and "quotes" \\ and \u0001 control` };
  const r = await h.postResult(S, s.session_id, h.buildPackage(s, live, { signals }), key);
  assert.equal(r.status, 200, r.text);
  const res = await fetch(`${S.base}/v1/sessions/${s.session_id}`, { headers: { Authorization: `Bearer ${h.API_KEY}` } });
  const bytes = Buffer.from(await res.arrayBuffer());
  const d = JSON.parse(strictUtf8(bytes));
  assert.equal(d.attempts[0].detail.signals.note, signals.note);
  assert.equal(d.external_ref, 'ref-ü-✓');
  // one stored copy: the attempt's record has the client's objects; the audit row points to it
  const inAttempts = h.sql(S.db, `SELECT count(*) FROM attempts WHERE session_id='${s.session_id}' AND detail LIKE '%${MARK}%'`)[0][0];
  const inAudit = h.sql(S.db, `SELECT count(*) FROM audit WHERE session_id='${s.session_id}' AND detail LIKE '%${MARK}%'`)[0][0];
  assert.equal(inAttempts, 1);
  assert.equal(inAudit, 0, 'the audit row holds no copy of the signals');
});

test('the largest package the schema allows costs a bounded amount of database', async () => {
  const key = await h.newKey();
  const N = 5;
  const before = dbBytes();
  for (let i = 0; i < N; i++) {
    const s = (await h.createSession(S, key)).body;
    // at the limits: 16 KiB of signal text in 1 KiB strings, 2 KiB each in module and capture
    const fill = Object.fromEntries(Array.from({ length: 15 }, (_, k) => [`f${k}`, 'z'.repeat(1000)]));
    const body = h.buildPackage(s, live, { mutate: (p) => {
      p.signals.fill = fill;
      p.module.pad = 'm'.repeat(1000);
      p.capture.pad = 'c'.repeat(1000);
    } });
    const r = await h.postResult(S, s.session_id, body, key, { integrator: false });
    assert.equal(r.status, 200, r.text.slice(0, 300));
  }
  const per = (dbBytes() - before) / N;
  // the session photo (issue 13) comes on top: the server's own 360x480 JPEG, whatever the client sends
  const photo = h.sql(S.db, 'SELECT coalesce(avg(length(jpeg)),0) FROM photos')[0][0];
  console.log(`# database growth per decided maximal package: ${(per / 1024).toFixed(1)} KiB, of which the photo ${(photo / 1024).toFixed(1)} KiB`);
  assert.ok(photo < 48 << 10, `a photo of ${photo} bytes`);
  assert.ok(per - photo < 48 << 10, `${per} bytes per package`);
});
