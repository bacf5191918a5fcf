// numbers.test.mjs - issue 12 item 5: every number a client sends is range-checked before it is
// converted, and non-finite numbers are refused with 400 (nothing decided, the nonce unspent).
// Before: an embedding element of 1e400 made the tamper cosine NaN and the check was skipped
// (approve); created_at 1e400 and a frame index of 1e300 were undefined behaviour (double -> int
// casts), found by the clang UBSan build (tools/test runs these tests under it).
import * as h from './harness.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';

h.requireData();

let S, live;
before(async () => { ({ srv: S, live } = await h.serverWithCapture()); });
after(async () => { await S?.stop(); S?.cleanup(); });

/** JSON text of the package with `path` (a.b.0.c) set to the raw number literal `lit` (1e400 is
 *  not a JS number: it is spliced into the text, as an attacker's client would send it). */
function withLiteral(s, path, lit, opts = {}) {
  const MARK = '"__VF_NUMBER__"';
  return h.buildPackage(s, live, { ...opts, mutate: (p) => {
    const keys = path.split('.');
    let o = p;
    for (const k of keys.slice(0, -1)) o = o[k];
    o[keys.at(-1)] = '__VF_NUMBER__';
  } }).replace(MARK, lit);
}

const CASES = [
  ['created_at', 'created_at', '1e400'],
  ['created_at huge', 'created_at', '1e300'],
  ['frame index', 'frames.0.index', '1e300'],
  ['frame index negative', 'frames.0.index', '-1'],
  ['frame width', 'frames.1.width', '1e300'],
  ['frame timestamp', 'frames.2.timestamp', '1e400'],
  ['attempt fraction', 'attempt', '1.5'],
  ['attempt huge', 'attempt', '1e300'],
  ['format', 'format', '1e400'],
  ['an embedding element', 'result.embedding.vector.3', '1e400'],
  ['an embedding element, negative', 'result.embedding.vector.0', '-1e400'],
  ['a liveness score', 'result.liveness.score', '1e400'],
  ['a quality metric', 'frames.0.status.quality.brightness', '1e400'],
  ['a signal', 'signals.timing.mean_ms', '-1e400'],
];

test('non-finite and out-of-range numbers -> 400 bad_schema, the nonce unspent', async () => {
  const key = await h.newKey();
  const s = (await h.createSession(S, key)).body;
  for (const [what, path, lit] of CASES) {
    const body = withLiteral(s, path, lit);
    assert.ok(body.includes(lit), what);
    const r = await h.postResult(S, s.session_id, body, key);
    assert.equal(r.status, 400, `${what} = ${lit}: ${r.text}`);
    assert.equal(r.body.error.code, 'bad_schema', `${what}: ${r.text}`);
  }
  // nothing was decided: the honest package still is
  const ok = await h.postResult(S, s.session_id, h.buildPackage(s, live), key);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.decision, 'approve', JSON.stringify(ok.detail?.reasons));
});

test('finite but absurd claims are false claims, never skipped checks: an embedding of 1e200s -> reject tamper', async () => {
  const key = await h.newKey();
  const s = (await h.createSession(S, key)).body;
  const body = h.buildPackage(s, live, { mutate: (p) => { p.result.embedding.vector = p.result.embedding.vector.map((v, i) => (i % 2 ? 1e200 : -1e200)); } });
  const r = await h.postResult(S, s.session_id, body, key);
  assert.equal(r.status, 200, r.text);
  assert.notEqual(r.decision, 'approve');
  assert.ok(r.detail.reasons.some((x) => x === 'tamper.claims' || x === 'tamper.embedding'), JSON.stringify(r.detail.reasons));
});

test('a reference embedding of 1e300 or 1e400 at session creation -> 400', async () => {
  const key = await h.newKey();
  const hz = await (await fetch(S.base + '/healthz')).json();
  for (const lit of ['1e300', '1e400', '-1e400']) {
    const body = JSON.stringify({ client_public_key: key.spki, reference: { model: hz.models.embedder, embedding: ['__X__', 0.5, 0.5] } })
      .replace('"__X__"', lit);
    const res = await fetch(S.base + '/v1/sessions', { method: 'POST', body,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.API_KEY}` } });
    const j = await res.json();
    assert.equal(res.status, 400, `${lit}: ${JSON.stringify(j)}`);
    assert.equal(j.error.code, 'bad_schema');
  }
});

/** A PNG whose header says w x h (one empty IDAT): what a probe reads, never decoded. */
function pngHeader(w, h) {
  const crc32 = (b) => { let c = ~0; for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xEDB88320 & -(c & 1)); } return ~c >>> 0; };
  const chunk = (type, data) => {
    const t = Buffer.concat([Buffer.from(type), data]);
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(t));
    return Buffer.concat([len, t, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(0))), chunk('IEND', Buffer.alloc(0))]);
}

test('item 6: a frame over the size limits -> 422 frame_too_large (PACKAGE.md), not corrupt_image', async () => {
  const key = await h.newKey();
  const s = (await h.createSession(S, key)).body;
  // over the decoder's own limits too (8192 a side, 40 MP): the session's limit answers first
  for (const [w, hh] of [[16000, 16000], [9000, 400], [1281, 720]]) {
    const b = pngHeader(w, hh);
    const body = h.buildPackage(s, live, { mutate: (p) => {
      Object.assign(p.frames[1], { data: b.toString('base64'), sha256: h.sha256hex(b), mime: 'image/png', width: w, height: hh });
    } });
    const r = await h.postResult(S, s.session_id, body, key);
    assert.equal(r.status, 422, `${w}x${hh}: ${r.text}`);
    assert.equal(r.body.error.code, 'frame_too_large', `${w}x${hh}: ${r.text}`);
  }
  // the pixel limit alone (sides within theirs)
  const P = await h.startServer({ limits: { per_ip_rate: 0, max_frame_pixels: 640 * 480 - 1 } });
  try {
    const k2 = await h.newKey();
    const s2 = (await h.createSession(P, k2)).body;
    const r = await h.postResult(P, s2.session_id, h.buildPackage(s2, live), k2);
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.error.code, 'frame_too_large', r.text);
  } finally { await P.stop(); P.cleanup(); }
});
