// webhook.test.mjs - issue 13 items 1-3 without a browser: the integrator fields of session
// creation (strict URLs, SSRF, reference_id, a webhook needs the integrator's secret), the outbox
// (a receiver down for a while, then back: every verdict arrives once, signed; the example
// receiver of docs/ refuses a wrong signature), the session photo and DELETE /v1/sessions/{id}.
import * as h from './harness.mjs';
import { verify, receiver } from '../../docs/examples/webhook-receiver.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';

h.requireData({ pad: false });

const SECRET = 'whsec-test-0123456789abcdef';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let S, live;

/** A receiver that records every arrival (before any dedupe), checks it with the docs example's
 *  verify(), and answers 200. */
function recorder() {
  const arrivals = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c)).on('end', () => {
      const body = Buffer.concat(chunks);
      arrivals.push({ headers: req.headers, body, valid: verify(SECRET, req.headers, body), path: req.url });
      res.writeHead(200).end('ok');
    });
  });
  return { arrivals, server };
}
const listen = (server, port = 0) => new Promise((r) => server.listen(port, '127.0.0.1', () => r(server.address().port)));
const close = (server) => new Promise((r) => server.close(r));
async function freePort() {
  const s = createServer();
  const p = await listen(s);
  await close(s);
  return p;
}

async function waitFor(what, fn, ms = 20000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function decide(hook, extra = {}, srv = S) {
  const key = await h.newKey();
  const c = await h.createSession(srv, key, { webhook_url: hook, ...extra });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  const r = await h.postResult(srv, c.body.session_id, h.buildPackage(c.body, live), key);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.final, true, 'a final verdict');
  return { id: c.body.session_id, attempt: r.body.attempt, decision: r.decision };
}

// the schedule shortened for the test: retries 100 ms .. 800 ms apart instead of 5 s .. 10 min
const CONFIG = {
  integrators: [{ api_key: h.API_KEY, webhook_secret: SECRET }],
  webhooks: { base_ms: 100, max_ms: 800, max_attempts: 200, poll_ms: 50, timeout: 2, allow_private: true },
  session: { max_retries: 0 },
};
before(async () => { ({ srv: S, live } = await h.serverWithCapture(CONFIG)); });
after(async () => { await S?.stop(); S?.cleanup(); });

test('session creation: strict redirect_url, webhook_url and reference_id', async () => {
  const key = await h.newKey();
  const bad = [
    [{ redirect_url: 'javascript:alert(1)' }, 'bad_url'], [{ redirect_url: 'http://example.com/done' }, 'bad_url'],
    [{ redirect_url: 'https://user:pw@example.com/' }, 'bad_url'], [{ redirect_url: 'https://example.com/' + 'a'.repeat(2100) }, 'bad_url'],
    [{ redirect_url: 'https://exa mple.com/' }, 'bad_url'], [{ redirect_url: 42 }, 'bad_url'],
    [{ webhook_url: 'http://hooks.example.com/x' }, 'bad_url'], [{ webhook_url: 'ftp://hooks.example.com/x' }, 'bad_url'],
    [{ webhook_url: 'https://hooks.example.com/x#frag' }, 'bad_url'],
    [{ reference_id: '' }, 'bad_schema'], [{ reference_id: 'a b' }, 'bad_schema'], [{ reference_id: 'x'.repeat(129) }, 'bad_schema'],
    [{ reference_id: '<script>' }, 'bad_schema'],
  ];
  for (const [body, code] of bad) {
    const r = await h.createSession(S, key, body);
    assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
    assert.equal(r.body.error.code, code, JSON.stringify(body).slice(0, 80));
  }
  const ok = await h.createSession(S, key, { redirect_url: 'https://shop.example/done?step=2#top', webhook_url: 'https://hooks.example.com/vf',
    reference_id: 'customer-42@shop.example' });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.reference_id, 'customer-42@shop.example');
  const d = (await h.getSession(S, ok.body.session_id)).body;
  assert.equal(d.reference_id, 'customer-42@shop.example');
  assert.equal(d.managed, false);
});

test('SSRF: a private or loopback webhook target is refused unless configured', async () => {
  const srv = await h.startServer({ integrators: [{ api_key: h.API_KEY, webhook_secret: SECRET }] });
  try {
    const key = await h.newKey();
    for (const u of ['http://127.0.0.1:9/hook', 'https://10.0.0.8/hook', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/x',
      'https://localhost/x', 'https://[::ffff:127.0.0.1]/x', 'https://192.168.1.1/x']) {
      const r = await h.createSession(srv, key, { webhook_url: u });
      assert.equal(r.status, 400, u);
      assert.equal(r.body.error.code, 'bad_url', u);
    }
    // a redirect is the browser's: a loopback page is fine there
    assert.equal((await h.createSession(srv, key, { redirect_url: 'http://127.0.0.1:3000/done' })).status, 201);
    // an API key without a webhook secret cannot ask for webhooks
    const other = await h.startServer({});
    try {
      const r = await h.createSession(other, key, { webhook_url: 'https://hooks.example.com/vf' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'webhook_unconfigured');
    } finally { await other.stop(); other.cleanup(); }
  } finally { await srv.stop(); srv.cleanup(); }
});

test('the example receiver accepts a real delivery and refuses a wrong signature', async () => {
  const rec = recorder();
  const port = await listen(rec.server);
  try {
    const v = await decide(`http://127.0.0.1:${port}/hook`, { reference_id: 'person-7' });
    const t0 = Date.now();
    const a = await waitFor('the webhook', () => rec.arrivals[0]);
    console.log(`# the webhook arrived ${Date.now() - t0} ms after the page's answer (decision ${v.decision})`);
    assert.equal(a.valid, true, 'the signature verifies');
    const ev = JSON.parse(a.body);
    assert.equal(a.headers['veriface-webhook-id'], `${v.id}-${v.attempt}`);
    assert.equal(ev.id, a.headers['veriface-webhook-id']);
    assert.equal(ev.type, 'session.decided');
    assert.equal(ev.session_id, v.id);
    assert.equal(ev.reference_id, 'person-7');
    assert.equal(ev.decision, v.decision, 'the same verdict as GET /v1/sessions/{id}');
    assert.ok(Array.isArray(ev.reasons));
    // the example receiver itself, on the recorded delivery and on forgeries of it
    const events = [];
    const ex = receiver(SECRET, (e) => events.push(e));
    const exPort = await listen(ex);
    try {
      const post = (headers, body = a.body) => fetch(`http://127.0.0.1:${exPort}/`, { method: 'POST', headers, body }).then((r) => r.status);
      const hd = { 'veriface-webhook-id': a.headers['veriface-webhook-id'], 'veriface-webhook-timestamp': a.headers['veriface-webhook-timestamp'],
        'veriface-webhook-signature': a.headers['veriface-webhook-signature'], 'content-type': 'application/json' };
      const flipped = hd['veriface-webhook-signature'].replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      const otherSecret = 'v1=' + createHmac('sha256', 'not-the-secret').update(`${hd['veriface-webhook-timestamp']}.`).update(a.body).digest('hex');
      const now = Math.floor(Date.now() / 1000);
      const stale = 'v1=' + createHmac('sha256', SECRET).update(`${now - 3600}.`).update(a.body).digest('hex');
      assert.equal(await post({ ...hd, 'veriface-webhook-signature': flipped }), 401, 'one hex digit changed');
      assert.equal(await post({ ...hd, 'veriface-webhook-signature': otherSecret }), 401, 'another secret');
      assert.equal(await post(hd, Buffer.from(a.body.toString().replace(v.decision, v.decision === 'approve' ? 'reject' : 'approve'))), 401, 'the body changed');
      assert.equal(await post({ ...hd, 'veriface-webhook-timestamp': String(now + 1) }), 401, 'the timestamp changed');
      assert.equal(await post({ ...hd, 'veriface-webhook-timestamp': String(now - 3600), 'veriface-webhook-signature': stale }), 401, 'an hour old');
      assert.equal(await post({ 'content-type': 'application/json' }), 401, 'no signature');
      assert.equal(events.length, 0, 'nothing processed from a forgery');
      assert.equal(await post(hd), 200, 'the genuine delivery');
      assert.equal(await post(hd), 200, 'delivered again: acknowledged');
      assert.equal(events.length, 1, 'processed once');
    } finally { await close(ex); }
  } finally { await close(rec.server); }
});

test('outbox: the receiver is down, then back: every verdict arrives exactly once', async () => {
  const port = await freePort();   // nothing listens there yet
  const hook = `http://127.0.0.1:${port}/hook`;
  const decided = [];
  for (let i = 0; i < 6; i++) decided.push(await decide(hook));
  // the server keeps trying with backoff while the receiver is down
  await waitFor('retries', async () => {
    const ds = await Promise.all(decided.map((d) => h.getSession(S, d.id)));
    return ds.every((x) => x.body.webhooks.length === 1 && x.body.webhooks[0].state === 'pending' && x.body.webhooks[0].tries >= 3);
  });
  const before = await h.getSession(S, decided[0].id);
  assert.match(before.body.webhooks[0].last_error, /connect|refused/i, before.body.webhooks[0].last_error);
  // two more verdicts while it is down
  for (let i = 0; i < 2; i++) decided.push(await decide(hook));
  await sleep(1500);
  const rec = recorder();
  await listen(rec.server, port);
  try {
    await waitFor('every verdict', () => rec.arrivals.length >= decided.length);
    await sleep(1500);   // anything sent twice would arrive by now
    assert.equal(rec.arrivals.length, decided.length, 'no verdict twice');
    const ids = rec.arrivals.map((a) => a.headers['veriface-webhook-id']).sort();
    assert.deepEqual(ids, decided.map((d) => `${d.id}-${d.attempt}`).sort(), 'each verdict once');
    assert.ok(rec.arrivals.every((a) => a.valid), 'every one signed');
    for (const d of decided) {
      const a = rec.arrivals.find((x) => x.headers['veriface-webhook-id'] === `${d.id}-${d.attempt}`);
      assert.equal(JSON.parse(a.body).decision, d.decision);
      const w = (await h.getSession(S, d.id)).body.webhooks[0];
      assert.equal(w.state, 'delivered');
      assert.ok(w.tries >= 1);
    }
  } finally { await close(rec.server); }
  const m = await (await fetch(`${S.base}/metrics`)).text();
  assert.match(m, /veriface_webhook_tries_total\{state="delivered"\} ([89]|\d\d)/);
});

test('the outbox survives a crash: decided while the receiver is down, SIGKILL, restart: delivered once', async () => {
  const port = await freePort();
  const one = await h.startServer({ ...CONFIG, limits: { per_ip_rate: 0 } });
  let two = null;
  const rec = recorder();
  try {
    const v = await decide(`http://127.0.0.1:${port}/hook`, {}, one);
    await waitFor('a failed try', async () => (await h.getSession(one, v.id)).body.webhooks[0].tries >= 1);
    await one.stop('SIGKILL');
    await listen(rec.server, port);
    two = await h.startServer({ ...CONFIG, limits: { per_ip_rate: 0 } }, { db: one.db });
    await waitFor('the delivery after the restart', () => rec.arrivals.length >= 1, 30000);
    await sleep(1000);
    assert.equal(rec.arrivals.length, 1, 'once');
    assert.equal(rec.arrivals[0].headers['veriface-webhook-id'], `${v.id}-${v.attempt}`);
    assert.equal(rec.arrivals[0].valid, true);
    assert.equal((await h.getSession(two, v.id)).body.webhooks[0].state, 'delivered');
  } finally { await close(rec.server); await two?.stop(); await one.stop(); one.cleanup(); }
});

test('two server processes on one store: each event is sent by one of them, once', async () => {
  const port = await freePort();
  const one = await h.startServer({ ...CONFIG, limits: { per_ip_rate: 0 } });
  const two = await h.startServer({ ...CONFIG, limits: { per_ip_rate: 0 } }, { db: one.db });
  const rec = recorder();
  try {
    const decided = [];
    for (let i = 0; i < 6; i++) decided.push(await decide(`http://127.0.0.1:${port}/hook`, {}, i % 2 ? two : one));
    await sleep(500);   // both delivery threads poll the shared outbox every 50 ms, failing meanwhile
    await listen(rec.server, port);
    await waitFor('every verdict', () => rec.arrivals.length >= decided.length);
    await sleep(1500);
    const ids = rec.arrivals.map((a) => a.headers['veriface-webhook-id']).sort();
    assert.deepEqual(ids, decided.map((d) => `${d.id}-${d.attempt}`).sort(), 'each event once, whichever process sent it');
    assert.ok(rec.arrivals.every((a) => a.valid));
  } finally { await close(rec.server); await two.stop(); await one.stop(); one.cleanup(); two.cleanup(); }
});

test('a receiver that never accepts: the event is dead after max_attempts', async () => {
  const srv = await h.startServer({ integrators: [{ api_key: h.API_KEY, webhook_secret: SECRET }],
    webhooks: { base_ms: 20, max_ms: 40, max_attempts: 3, poll_ms: 20, allow_private: true }, limits: { per_ip_rate: 0 } });
  const failing = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(500).end()); });
  const port = await listen(failing);
  try {
    const key = await h.newKey();
    const c = await h.createSession(srv, key, { webhook_url: `http://127.0.0.1:${port}/hook` });
    const r = await h.postResult(srv, c.body.session_id, h.buildPackage(c.body, live), key);
    assert.equal(r.status, 200, r.text);
    const w = await waitFor('dead', async () => {
      const x = (await h.getSession(srv, c.body.session_id)).body.webhooks[0];
      return x && x.state === 'dead' ? x : null;
    });
    assert.equal(w.tries, 3);
    assert.equal(w.last_status, 500);
  } finally { await close(failing); await srv.stop(); srv.cleanup(); }
});

test('the session photo: an aligned portrait with its score, deleted with the session', async () => {
  const key = await h.newKey();
  const c = await h.createSession(S, key, {});
  const sim = h.simulate(c.body.config, ['--mjpeg', h.MJPEG(), '--start', '135', '--max', '40']);
  const r = await h.postResult(S, c.body.session_id, h.buildPackage(c.body, sim), key);
  assert.equal(r.status, 200, r.text);
  const auth = { Authorization: `Bearer ${h.API_KEY}` };
  assert.equal((await fetch(`${S.base}/v1/sessions/${c.body.session_id}/photo`)).status, 401, 'the API key is needed');
  const p = await fetch(`${S.base}/v1/sessions/${c.body.session_id}/photo`, { headers: auth });
  assert.equal(p.status, 200);
  const photo = await p.json();
  assert.equal(photo.mime, 'image/jpeg');
  assert.equal(photo.width, 360);
  assert.equal(photo.height, 480);
  assert.ok(photo.photo_quality_score > 0 && photo.photo_quality_score <= 1, String(photo.photo_quality_score));
  assert.ok(photo.expires_at > Date.now() + 6 * 86400e3, 'kept for the default retention (7 days)');
  const jpeg = Buffer.from(photo.data, 'base64');
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
  // the portrait is a face: the server's own analysis of it finds one, upright and centred
  const { execFileSync } = await import('node:child_process');
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  if (h.env.cli) {
    const f = join(mkdtempSync(join(tmpdir(), 'vf-photo-')), 'photo.jpg');
    writeFileSync(f, jpeg);
    const a = JSON.parse(execFileSync(h.env.cli, ['analyze', '--models', h.env.models, f], { maxBuffer: 16 << 20 }).toString());
    const q = a.frame.quality;
    assert.equal(q.face_count, 1, 'one face in the portrait');
    assert.ok(Math.abs(q.roll) < 5, `eyes level: roll ${q.roll}`);
    assert.ok(q.center_offset < 0.05, `centred: ${q.center_offset}`);
  }
  assert.equal((await h.getSession(S, c.body.session_id)).body.photo, true);
  const emb = `SELECT count(*) FROM session_embeddings WHERE session_id='${c.body.session_id}'`;
  assert.equal(h.sql(S.db, emb)[0][0], 1, 'the decided session\'s embedding is stored');
  const del = await fetch(`${S.base}/v1/sessions/${c.body.session_id}`, { method: 'DELETE', headers: auth });
  assert.equal(del.status, 200);
  assert.equal((await fetch(`${S.base}/v1/sessions/${c.body.session_id}/photo`, { headers: auth })).status, 404, 'the photo is gone');
  assert.equal((await h.getSession(S, c.body.session_id)).status, 404, 'the session is gone');
  assert.equal(h.sql(S.db, `SELECT count(*) FROM photos WHERE session_id='${c.body.session_id}'`)[0][0], 0);
  assert.equal(h.sql(S.db, `SELECT count(*) FROM frame_index WHERE session_id='${c.body.session_id}'`)[0][0], 0);
  assert.equal(h.sql(S.db, emb)[0][0], 0, 'and its embedding');
  assert.ok(h.sql(S.db, `SELECT count(*) FROM audit WHERE session_id='${c.body.session_id}' AND code='deleted'`)[0][0] === 1, 'the deletion audited');
  assert.equal((await fetch(`${S.base}/v1/sessions/${c.body.session_id}`, { method: 'DELETE', headers: auth })).status, 404);
});

test('retention: a photo past it is not served and is swept', async () => {
  const srv = await h.startServer({ retention: { photo: 1 }, limits: { per_ip_rate: 0 } });
  try {
    const key = await h.newKey();
    const c = await h.createSession(srv, key, {});
    const r = await h.postResult(srv, c.body.session_id, h.buildPackage(c.body, live), key);   // a fresh store: no replay
    assert.equal(r.status, 200, r.text);
    const auth = { Authorization: `Bearer ${h.API_KEY}` };
    assert.equal((await fetch(`${srv.base}/v1/sessions/${c.body.session_id}/photo`, { headers: auth })).status, 200, 'kept for a second');
    await sleep(1200);
    assert.equal((await fetch(`${srv.base}/v1/sessions/${c.body.session_id}/photo`, { headers: auth })).status, 404, 'past retention');
  } finally { await srv.stop(); srv.cleanup(); }
  const none = await h.startServer({ retention: { photo: 0 }, limits: { per_ip_rate: 0 } });
  try {
    const key = await h.newKey();
    const c = await h.createSession(none, key, {});
    assert.equal((await h.postResult(none, c.body.session_id, h.buildPackage(c.body, live), key)).status, 200);
    assert.equal(h.sql(none.db, 'SELECT count(*) FROM photos')[0][0], 0, 'retention 0: no photo stored');
  } finally { await none.stop(); none.cleanup(); }
});
