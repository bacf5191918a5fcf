// protocol.test.mjs - the whole protocol against the real veriface-server (PACKAGE.md): a server
// with the default capture settings for the live-video cases, a second one with the settings of
// tests/test_session.c for the still frames of ../shared/data/pad (the phone replay).
// The server refuses frames it has seen in an earlier package (freshness.replayed_frame): a test
// that needs a decision past the tamper stage captures frames of its own (liveWindow, spoofOf).
// Run: node protocol.test.mjs (env: VF_SERVER, VF_CLIENT_SIM, VF_MODELS, VF_PAD_MODELS, VF_SHARED_DATA).
import * as h from './harness.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

h.requireData();

const STILLS = { good_frames: 2, liveness_frames: 2,
  quality: { max_motion: 10, min_face_width: 0.12, max_center_offset: 0.30, max_yaw: 30 } };
let A, B, live, spoof, refImage, staticDir, configA, configB;

const sql = h.sql;

before(async () => {
  staticDir = join(process.env.TMPDIR || '/tmp', `vf-static-${process.pid}`);
  mkdirSync(join(staticDir, 'pkg'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(join(staticDir, 'pkg', 'veriface.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  writeFileSync(join(staticDir, 'pkg', 'veriface.mjs'), 'export default 1;\n');
  writeFileSync(join(staticDir, 'pkg', 'model.vfm'), 'VFM');
  [A, B] = await Promise.all([
    h.startServer({ limits: { per_ip_rate: 0, min_session_ttl: 1 } }, { extraArgs: ['--static', staticDir] }),
    h.startServer({ session: STILLS, limits: { per_ip_rate: 0 } }),
  ]);
  const key = await h.newKey();
  configA = (await h.createSession(A, key)).body.config;
  live = liveWindow(60);
  configB = (await h.createSession(B, key)).body.config;
  spoof = spoofOf(['02.09', '03.68']);   // good stills: 02.09, 03.68, 06.85, 08.44, 13.20
  refImage = readFileSync(join(h.FRAMES(), 'real2_t05.25.jpg')).toString('base64');
});

after(async () => {
  const codes = await Promise.all([A?.stop(), B?.stop()]);
  assert.deepEqual(codes, [0, 0], 'SIGTERM: graceful stop with exit status 0');
  A?.cleanup(); B?.cleanup();
});

/** A capture of the live video from frame `start` (windows used here lie >= 0.7 s apart: 60 -> frames 68-72, 85-89, 116-120, 125 -> 135-139, 155-159). */
function liveWindow(start) {
  return h.simulate(configA, ['--mjpeg', h.MJPEG(), '--start', String(start), '--max', '40']);
}

/** A capture of the phone-replay stills of ../shared/data/pad (the first two good ones are kept). */
function spoofOf(times) {
  return h.simulate(configB, times.map((t) => join(h.FRAMES(), `fake2_t${t}.jpg`)));
}

async function session(srv, body = {}) {
  const key = await h.newKey();
  const s = await h.createSession(srv, key, body);
  assert.equal(s.status, 201, JSON.stringify(s.body));
  return { key, s: s.body };
}

function auditCount(srv, id, code) {
  return sql(srv.db, `SELECT count(*) FROM audit WHERE session_id='${id}' AND code='${code}'`)[0][0];
}

test('happy path: live capture + same-person reference -> approve, detail and audit recorded', async () => {
  const { key, s } = await session(A, { reference: { image: refImage }, external_ref: 'case-1' });
  assert.match(s.session_id, /^[0-9a-f]{32}$/);
  assert.match(s.nonce, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(s.config.good_frames, 5);
  assert.equal(live.frames.length, 5);
  // a bad signature first: rejected, and it burns nothing
  const bad = await h.postResult(A, s.session_id, h.buildPackage(s, live), key, { signature: h.b64url(new Uint8Array(64)) });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error.code, 'bad_signature');
  const r = await h.postResult(A, s.session_id, h.buildPackage(s, live), key);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.decision, 'approve', r.text);
  assert.equal(r.body.message, h.MESSAGE_FINAL);
  assert.equal(r.body.retry.next_nonce, null);
  const d = await h.getSession(A, s.session_id);
  assert.equal(d.status, 200);
  assert.equal(d.body.decision, 'approve');
  assert.equal(d.body.external_ref, 'case-1');
  const det = d.body.attempts[0].detail;
  assert.deepEqual(det.reasons, []);
  assert.equal(det.server.match_band, 'strong');
  assert.ok(det.server.live_score >= 0.62, JSON.stringify(det.server));
  assert.ok(det.server.embedding_cosine_client > 0.99);
  assert.equal(auditCount(A, s.session_id, 'approve'), 1);
  assert.equal(auditCount(A, s.session_id, 'bad_signature'), 1);
  // decided: the same package again is refused
  const again = await h.postResult(A, s.session_id, h.buildPackage(s, live), key);
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'session_closed');
});

test('different person as reference -> not approved (match)', async () => {
  const other = readFileSync(join(h.env.data, 'faces/face_recognition/examples/knn_examples/test/obama1.jpg')).toString('base64');
  const { key, s } = await session(A, { reference: { image: other } });
  const r = await h.postResult(A, s.session_id, h.buildPackage(s, liveWindow(85)), key);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.decision, 'reject', r.text);
  assert.equal(r.body.message, h.MESSAGE_FINAL);
  const d = await h.getSession(A, s.session_id);
  assert.ok(d.body.attempts[0].detail.reasons.includes('match.below_threshold'), JSON.stringify(d.body.attempts[0].detail.reasons));
});

/** A valid grey PNG (no face in it). */
function greyPng(w, h8) {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 255] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h8, 4); ihdr[8] = 8; ihdr[9] = 0;
  const rows = Buffer.alloc((w + 1) * h8, 128); for (let y = 0; y < h8; y++) rows[y * (w + 1)] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

test('reference without a face -> 422 reference_no_face; not an image -> 422 corrupt_image', async () => {
  const key = await h.newKey();
  let r = await h.createSession(A, key, { reference: { image: greyPng(64, 48).toString('base64') } });
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'reference_no_face');
  const notImage = readFileSync(join(staticDir, 'index.html'));
  r = await h.createSession(A, key, { reference: { image: notImage.toString('base64') } });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.code, 'corrupt_image');
});

test('tampered score: client liveness edited after running (attacker re-signs) -> reject tamper.liveness', async () => {
  const { key, s } = await session(A);
  const body = h.buildPackage(s, live, { mutate: (p) => { p.result.liveness.score = 0.5; } });
  const r = await h.postResult(A, s.session_id, body, key);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.decision, 'reject');
  assert.equal(r.body.message, h.MESSAGE_FINAL);   // generic: says nothing of the check
  const d = await h.getSession(A, s.session_id);
  assert.ok(d.body.attempts[0].detail.reasons.includes('tamper.liveness'), JSON.stringify(d.body.attempts[0].detail));
});

test('tampered embedding claim -> reject tamper.embedding', async () => {
  const { key, s } = await session(A);
  const body = h.buildPackage(s, live, { mutate: (p) => { p.result.embedding.vector = p.result.embedding.vector.map((v, i) => (i % 2 ? v : -v)); } });
  const r = await h.postResult(A, s.session_id, body, key);
  assert.equal(r.decision, 'reject', r.text);
  const d = await h.getSession(A, s.session_id);
  assert.ok(d.body.attempts[0].detail.reasons.includes('tamper.embedding'));
});

test('tampered frame: bytes changed -> 400 frame_hash_mismatch, nothing burned', async () => {
  const { key, s } = await session(A);
  const fresh = liveWindow(116);
  const body = h.buildPackage(s, fresh, { mutate: (p) => {
    const b = Buffer.from(p.frames[2].data, 'base64'); b[b.length - 100] ^= 0x55; p.frames[2].data = b.toString('base64'); } });
  const r = await h.postResult(A, s.session_id, body, key);
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'frame_hash_mismatch');
  assert.equal(auditCount(A, s.session_id, 'frame_hash_mismatch'), 1);
  const ok = await h.postResult(A, s.session_id, h.buildPackage(s, fresh), key);
  assert.equal(ok.decision, 'approve', ok.text);
});

test('tampered frame: swapped with its hash recomputed -> the re-run disagrees (tamper.quality)', async () => {
  const { key, s } = await session(A);
  const other = readFileSync(join(h.FRAMES(), 'real2_t11.18.jpg'));
  const body = h.buildPackage(s, live, { mutate: (p) => {
    p.frames[3].data = other.toString('base64'); p.frames[3].sha256 = h.sha256hex(other); } });
  const r = await h.postResult(A, s.session_id, body, key);
  assert.equal(r.status, 200, r.text);
  assert.notEqual(r.decision, 'approve');
  const d = await h.getSession(A, s.session_id);
  assert.ok(d.body.attempts[0].detail.reasons.some((x) => x.startsWith('tamper.')), JSON.stringify(d.body.attempts[0].detail.reasons));
});

test('claims out of order (timestamps) -> reject tamper.claims', async () => {
  const { key, s } = await session(A);
  const body = h.buildPackage(s, live, { mutate: (p) => { p.frames[2].timestamp = p.frames[1].timestamp - 1; } });
  const r = await h.postResult(A, s.session_id, body, key);
  assert.equal(r.decision, 'reject', r.text);
  const d = await h.getSession(A, s.session_id);
  assert.ok(d.body.attempts[0].detail.reasons.includes('tamper.claims'), JSON.stringify(d.body.attempts[0].detail.reasons));
});

test('replay: a used nonce is refused (sequential and concurrent); the same signed body gets its recorded answer', async () => {
  const { key, s } = await session(B, { config: { max_retries: 3 } });
  const body = h.buildPackage(s, spoof);
  const [r1, r2] = await Promise.all([h.postResult(B, s.session_id, body, key), h.postResult(B, s.session_id, body, key)]);
  // one decides; the other is refused while it is in flight, or, once it is recorded, gets its answer
  const first = r1.status === 200 ? r1 : r2, other = first === r1 ? r2 : r1;
  assert.equal(first.status, 200, r1.text + r2.text);
  if (other.status === 200) assert.equal(other.text, first.text);
  else assert.equal(other.body.error.code, 'nonce_replayed', other.text);
  assert.ok(['retry', 'reject', 'review'].includes(first.decision), first.text);
  assert.equal(sql(B.db, `SELECT count(*) FROM attempts WHERE session_id='${s.session_id}' AND decision IS NOT NULL`)[0][0], 1);
  if (first.decision === 'retry') {
    // the same nonce in another body (re-signed with the session key): refused
    const resigned = h.buildPackage(s, spoof, { createdAt: Date.now() + 1 });
    const again = await h.postResult(B, s.session_id, resigned, key);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'nonce_replayed');
    // a replay does not burn the current nonce
    const next = await h.postResult(B, s.session_id, h.buildPackage(s, spoof, { nonce: first.body.retry.next_nonce, attempt: 2 }), key);
    assert.equal(next.status, 200, next.text);
  }
});

test('spoof (phone replay of ../shared/data/pad) is never approved; retries are capped', async () => {
  const { key, s } = await session(B, { config: { max_retries: 1 } });
  const spoof = spoofOf(['06.85', '08.44']);
  const r1 = await h.postResult(B, s.session_id, h.buildPackage(s, spoof), key);
  assert.equal(r1.status, 200, r1.text);
  assert.notEqual(r1.decision, 'approve');
  let last = r1;
  if (!['reject', 'review'].includes(r1.decision)) {
    assert.equal(r1.detail.hint, 'liveness');
    assert.equal(r1.body.retry.allowed, true);
    assert.match(r1.body.retry.next_nonce, /^[A-Za-z0-9_-]{43}$/);
    last = await h.postResult(B, s.session_id, h.buildPackage(s, spoof, { nonce: r1.body.retry.next_nonce, attempt: 2 }), key);
    assert.equal(last.status, 200, last.text);
  }
  assert.ok(['reject', 'review'].includes(last.decision), last.text);
  assert.equal(last.body.retry.next_nonce, null);
  const closed = await h.postResult(B, s.session_id, h.buildPackage(s, spoof, { nonce: 'x', attempt: 3 }), key);
  assert.equal(closed.status, 409);
  assert.equal(closed.body.error.code, 'session_closed');
  const d = await h.getSession(B, s.session_id);
  const reasons = d.body.attempts.flatMap((a) => a.detail ? a.detail.reasons : []);
  assert.ok(reasons.some((x) => x.startsWith('liveness.')), JSON.stringify(reasons));
  // an honest client on attack frames is refused for liveness, not called a tamperer
  assert.ok(!reasons.some((x) => x.startsWith('tamper.')), JSON.stringify(reasons));
});

test('retry exhaustion: max_retries 0 makes the first non-passing attempt final', async () => {
  // a deployment of its own: the five good stills of the phone replay make two packages, both used above
  const B2 = await h.startServer({ session: STILLS, limits: { per_ip_rate: 0 } }, { threads: 1 });
  try {
    const key = await h.newKey();
    const s = (await h.createSession(B2, key, { config: { max_retries: 0 } })).body;
    const r = await h.postResult(B2, s.session_id, h.buildPackage(s, spoof), key);
    assert.ok(['reject', 'review'].includes(r.decision), r.text);
    assert.equal(r.body.retry.allowed, false);
    const d = await h.getSession(B2, s.session_id);
    assert.ok(d.body.attempts[0].detail.reasons.includes('retry.exhausted') ||
              d.body.attempts[0].detail.reasons.includes('liveness.repeated_fail'), JSON.stringify(d.body.attempts[0].detail.reasons));
  } finally {
    assert.equal(await B2.stop(), 0);
    B2.cleanup();
  }
});

test('tampered spoof: replay frames with a forged passing result -> reject tamper.liveness', async () => {
  const { key, s } = await session(B);
  const body = h.buildPackage(s, spoof, { mutate: (p) => { p.result.liveness.score = 0.97; p.result.liveness.outcome = 'pass'; p.result.liveness.scores = [0.97, 0.97]; } });
  const r = await h.postResult(B, s.session_id, body, key);
  assert.equal(r.status, 200, r.text);
  assert.notEqual(r.decision, 'approve');
  const d = await h.getSession(B, s.session_id);
  assert.ok(d.body.attempts[0].detail.reasons.includes('tamper.liveness'), JSON.stringify(d.body.attempts[0].detail.reasons));
});

test('virtual camera signal sends a passing capture to review', async () => {
  const { key, s } = await session(A);
  const signals = h.defaultSignals();
  signals.camera.label = 'OBS Virtual Camera';
  const r = await h.postResult(A, s.session_id, h.buildPackage(s, liveWindow(125), { signals }), key);
  assert.equal(r.decision, 'review', r.text);
  const d = await h.getSession(A, s.session_id);
  assert.ok(d.body.attempts[0].detail.reasons.includes('signal.virtual_camera'));
});

test('expired session -> 410 session_expired', async () => {
  const { key, s } = await session(A, { config: { session_ttl: 1 } });
  await new Promise((r) => setTimeout(r, 1200));
  const r = await h.postResult(A, s.session_id, h.buildPackage(s, live), key);
  assert.equal(r.status, 410);
  assert.equal(r.body.error.code, 'session_expired');
});

test('wrong key and missing signature -> 401 bad_signature', async () => {
  const { s } = await session(A);
  const other = await h.newKey();
  let r = await h.postResult(A, s.session_id, h.buildPackage(s, live), other);
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'bad_signature');
  r = await h.postResult(A, s.session_id, h.buildPackage(s, live), other, { signature: '' });
  assert.equal(r.status, 401);
});

test('malformed packages: each gets its 4xx code and changes nothing', async () => {
  const { key, s } = await session(A);
  const live = liveWindow(155);
  const cases = [
    ['bad_json', 400, '{"format":1,'],
    ['bad_schema', 400, h.buildPackage(s, live, { mutate: (p) => { delete p.frames; } })],
    ['bad_schema', 400, h.buildPackage(s, live, { mutate: (p) => { p.format = 2; } })],
    ['nonce_mismatch', 400, h.buildPackage(s, live, { nonce: 'AAAA' })],
    ['stale_package', 400, h.buildPackage(s, live, { createdAt: Date.now() - 3600e3 })],
    ['model_mismatch', 422, h.buildPackage(s, live, { mutate: (p) => { p.models.detector = '0'.repeat(64); } })],
    ['bad_frames', 400, h.buildPackage(s, live, { mutate: (p) => { p.frames.pop(); } })],
    ['bad_frames', 400, h.buildPackage(s, live, { mutate: (p) => { p.frames[0].data = '!!!not base64!!!'; } })],
    ['corrupt_image', 422, h.buildPackage(s, live, { mutate: (p) => {
      const b = Buffer.from(p.frames[1].data, 'base64').subarray(0, 3000); p.frames[1].data = b.toString('base64'); p.frames[1].sha256 = h.sha256hex(b); } })],
    ['frame_too_large', 422, h.buildPackage(s, live, { mutate: (p) => {
      const b = readFileSync(join(h.env.data, 'pad/silent_face/image_T2.jpg')); p.frames[1].data = b.toString('base64'); p.frames[1].sha256 = h.sha256hex(b); } })],
  ];
  for (const [code, status, body] of cases) {
    const r = await h.postResult(A, s.session_id, body, key);
    assert.equal(r.status, status, `${code}: ${r.text}`);
    assert.equal(r.body.error.code, code, r.text);
    assert.equal(typeof r.body.error.message, 'string');
  }
  const unknown = await h.postResult(A, 'f'.repeat(32), h.buildPackage({ ...s, session_id: 'f'.repeat(32) }, live), key);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'unknown_session');
  const big = await fetch(`${A.base}/v1/sessions/${s.session_id}/result`, { method: 'POST', body: Buffer.alloc(9 << 20, 0x20),
    headers: { 'Content-Type': 'application/json', 'X-Veriface-Signature': 'x' } });
  assert.equal(big.status, 413);
  assert.equal((await big.json()).error.code, 'body_too_large');
  // none of it moved the session: the honest package still decides
  const ok = await h.postResult(A, s.session_id, h.buildPackage(s, live), key);
  assert.equal(ok.decision, 'approve', ok.text);
  // each rejection has its audit record (the session, the request hash, the code)
  for (const [code] of cases) assert.ok(auditCount(A, s.session_id, code) >= 1, `audit of ${code}`);
  assert.equal(auditCount(A, s.session_id, 'stale_package'), 1);
  const rows = sql(A.db, `SELECT request_sha256, status FROM audit WHERE session_id='${s.session_id}' AND code='model_mismatch'`);
  assert.match(rows[0][0], /^[0-9a-f]{64}$/);
  assert.equal(rows[0][1], 422);
});

test('session creation: API key required, bad input refused', async () => {
  const key = await h.newKey();
  let r = await h.createSession(A, key, {}, { apiKey: null });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'unauthorized');
  r = await h.createSession(A, key, {}, { apiKey: 'wrong-key-0123456789' });
  assert.equal(r.status, 401);
  r = await h.createSession(A, { spki: 'AAAA' });
  assert.equal(r.body.error.code, 'bad_public_key');
  r = await h.createSession(A, key, { config: { liveness_type: 'none' } });
  assert.equal(r.body.error.code, 'bad_schema');
  r = await h.createSession(A, key, { config: { max_retries: 11 } });
  assert.equal(r.body.error.code, 'bad_schema');
  r = await h.createSession(A, key, { reference: { image: '@@@' } });
  assert.equal(r.body.error.code, 'bad_base64');
  r = await h.createSession(A, key, { reference: { embedding: [1, 2, 3], model: 'nope' } });
  assert.equal(r.body.error.code, 'model_mismatch');
  const g = await h.getSession(A, 'a'.repeat(32), null);
  assert.equal(g.status, 401);
  const u = await h.getSession(A, 'a'.repeat(32));
  assert.equal(u.status, 404);
  // demo sessions need no key (the server runs with --demo)
  r = await h.createSession(A, key, {}, { demo: true });
  assert.equal(r.status, 201);
  assert.ok(r.body.models.detector.length === 64);
});

test('static files: COOP/COEP/CORP on every response, MIME types, no traversal', async () => {
  for (const [path, type] of [['/', 'text/html; charset=utf-8'], ['/pkg/veriface.wasm', 'application/wasm'],
    ['/pkg/veriface.mjs', 'text/javascript'], ['/pkg/model.vfm', 'application/octet-stream']]) {
    const r = await fetch(A.base + path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), type, path);
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal(r.headers.get('cross-origin-resource-policy'), 'same-origin');
  }
  for (const path of ['/../config.json', '/pkg/../../test.db', '/%2e%2e/test.db', '/.hidden', '/pkg/%2e%2e/%2e%2e/etc/passwd']) {
    const r = await fetch(A.base + path);
    assert.equal(r.status, 404, path);
    assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
  }
  const hz = await fetch(A.base + '/healthz');
  assert.equal(hz.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal((await hz.json()).pad_models, true);
});

test('metrics: requests by route and status, decisions, latency histogram', async () => {
  const text = await (await fetch(A.base + '/metrics')).text();
  assert.match(text, /veriface_http_requests_total\{route="result",status="200"\} \d+/);
  assert.match(text, /veriface_decisions_total\{decision="approve"\} [1-9]/);
  assert.match(text, /veriface_http_request_duration_seconds_bucket\{route="result",le="\+Inf"\} \d+/);
});

test('audit is append-only', () => {
  assert.throws(() => sql(A.db, 'DELETE FROM audit'), /append-only/);
  assert.throws(() => sql(A.db, "UPDATE audit SET code='x'"), /append-only/);
  assert.ok(sql(A.db, 'SELECT count(*) FROM audit')[0][0] > 20);
});

test('rate limits: per client address (429 rate_limited)', async () => {
  const C = await h.startServer({ limits: { per_ip_rate: 0.5, per_ip_burst: 3 } }, { threads: 1 });
  try {
    const key = await h.newKey();
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await h.createSession(C, key, {}, { apiKey: null })).status);
    assert.deepEqual(codes, [401, 401, 401, 429, 429]);
    const r = await fetch(C.base + '/healthz');   // health and static files are not limited
    assert.equal(r.status, 200);
    // X-Forwarded-For is ignored unless the peer is the configured trusted proxy
    const x = await fetch(C.base + '/v1/sessions', { method: 'POST', headers: { 'X-Forwarded-For': '203.0.113.9' }, body: '{}' });
    assert.equal(x.status, 429);
  } finally {
    assert.equal(await C.stop(), 0);
    C.cleanup();
  }
});

test('rate limits: behind the trusted proxy, each X-Forwarded-For client has its own bucket', async () => {
  const P = await h.startServer({ limits: { per_ip_rate: 0.5, per_ip_burst: 2, trusted_proxy: '127.0.0.1' } }, { threads: 1 });
  try {
    const post = (ip) => fetch(P.base + '/v1/sessions', { method: 'POST', headers: { 'X-Forwarded-For': `198.51.100.7, ${ip}` }, body: '{}' });
    const a = [];
    for (let i = 0; i < 3; i++) a.push((await post('203.0.113.1')).status);
    assert.deepEqual(a, [401, 401, 429]);
    assert.equal((await post('203.0.113.2')).status, 401);
  } finally {
    assert.equal(await P.stop(), 0);
    P.cleanup();
  }
});

test('adaptive mode: uncertain liveness -> a nonce-bound challenge with the next nonce; a package without it -> no approval', async () => {
  // live_pass above the live capture's score (~0.999) makes that honest capture "uncertain"
  const D = await h.startServer({ session: { live_pass: 0.9999 }, limits: { per_ip_rate: 0 } }, { threads: 1 });
  try {
    const key = await h.newKey();
    const s = (await h.createSession(D, key, { config: { liveness_type: 'adaptive', max_retries: 3 } })).body;
    assert.equal(s.config.live_pass, 0.9999);
    assert.equal(s.challenge, undefined, 'adaptive: no challenge before an uncertain result');
    const sim = h.simulate(s.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
    assert.equal(sim.result.liveness.outcome, 'uncertain');
    const r1 = await h.postResult(D, s.session_id, h.buildPackage(s, sim), key);
    assert.equal(r1.decision, 'challenge', r1.text);
    const ch = r1.body.challenge;
    assert.equal(ch.type, 'sequence');
    assert.equal(ch.steps.length, 2);
    assert.ok(ch.steps.every((d) => ['left', 'right', 'up', 'down'].includes(d)) && ch.steps[0] !== ch.steps[1], JSON.stringify(ch));
    assert.equal(ch.light.colors.length, 8);
    assert.ok(ch.light.colors.every((c) => /^#[0-9a-f]{6}$/.test(c)) && ch.light.color_ms === 500);
    assert.equal(r1.detail.hint, 'liveness');
    assert.match(r1.body.retry.next_nonce, /^[A-Za-z0-9_-]{43}$/);
    // a new capture without the challenge frames: the challenge is not met
    const sim2 = h.simulate(s.config, ['--mjpeg', h.MJPEG(), '--start', '155', '--max', '40']);
    const r2 = await h.postResult(D, s.session_id, h.buildPackage(s, sim2, { nonce: r1.body.retry.next_nonce, attempt: 2 }), key);
    assert.equal(r2.status, 200, r2.text);
    assert.notEqual(r2.decision, 'approve');
    const d = await h.getSession(D, s.session_id);
    assert.equal(d.body.attempts[1].challenge, 'sequence');
    const det = d.body.attempts[1].detail;
    assert.equal(det.server.challenge.met, false, JSON.stringify(det.server));
    assert.ok(det.reasons.includes('challenge.failed') && det.reasons.includes('challenge.no_frames'), JSON.stringify(det.reasons));
  } finally {
    assert.equal(await D.stop(), 0);
    D.cleanup();
  }
});

test('without the PAD models no session can be approved (review, liveness.unavailable)', async () => {
  const E = await h.startServer({ padModels: '/nonexistent-pad-models' }, { threads: 1 });
  try {
    const hz = await (await fetch(E.base + '/healthz')).json();
    assert.equal(hz.pad_models, false);
    assert.equal(hz.models.pad_v2, '');
    const key = await h.newKey();
    const s = (await h.createSession(E, key)).body;
    const sim = h.simulate(s.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40'], { padModels: '/nonexistent-pad-models' });
    assert.equal(sim.result.liveness.status, 'no_model');
    const r = await h.postResult(E, s.session_id, h.buildPackage(s, sim), key);
    assert.equal(r.decision, 'review', r.text);
    const d = await h.getSession(E, s.session_id);
    assert.ok(d.body.attempts[0].detail.reasons.includes('liveness.unavailable'));
    assert.equal(d.body.attempts[0].detail.server.liveness_status, 'no_model');
    // a client that ran PAD models the server does not have is refused outright
    const s2 = (await h.createSession(E, key)).body;
    const r2 = await h.postResult(E, s2.session_id, h.buildPackage(s2, live), key);
    assert.equal(r2.status, 422);
    assert.equal(r2.body.error.code, 'model_mismatch');
  } finally {
    assert.equal(await E.stop(), 0);
    E.cleanup();
  }
});

test('integrators share a server, not their sessions: another API key gets 404 unknown_session', async () => {
  const OTHER = 'other-integrator-key-0123456789';
  const srv = await h.startServer({ api_keys: [h.API_KEY, OTHER], limits: { per_ip_rate: 0 } });
  try {
    const s = (await h.createSession(srv, await h.newKey())).body;
    const as = (apiKey) => ({ Authorization: `Bearer ${apiKey}` });
    const other = await h.getSession(srv, s.session_id, OTHER);
    assert.equal(other.status, 404, other.text);
    assert.equal(other.body.error.code, 'unknown_session', 'the same answer as for a session that does not exist');
    assert.equal((await fetch(`${srv.base}/v1/sessions/${s.session_id}/photo`, { headers: as(OTHER) })).status, 404);
    const del = await fetch(`${srv.base}/v1/sessions/${s.session_id}`, { method: 'DELETE', headers: as(OTHER) });
    assert.equal(del.status, 404);
    // the owner still sees it: the other key's DELETE changed nothing
    const mine = await h.getSession(srv, s.session_id);
    assert.equal(mine.status, 200, mine.text);
    assert.equal(mine.body.session_id ?? s.session_id, s.session_id);
  } finally {
    await srv.stop();
    srv.cleanup?.();
  }
});
