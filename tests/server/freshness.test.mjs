// freshness.test.mjs - the server takes only new frames (src/server/freshness.c, PACKAGE.md section
// 3): one still sent as every frame, the frames of an approved package sent again in a new session
// (as they were, or re-encoded), and timestamps no camera gives are refused, each with its reason;
// honest captures of real video, also of the same person a second later, are still approved.
// Run: node freshness.test.mjs (env as protocol.test.mjs).
import * as h from './harness.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

h.requireData();

const GENERIC = h.MESSAGE_FINAL;
let A, config, honest, dir;

before(async () => {
  A = await h.startServer({ limits: { per_ip_rate: 0, per_session_per_min: 0 } });
  config = (await h.createSession(A, await h.newKey())).body.config;
  dir = mkdtempSync(join(tmpdir(), 'vf-fresh-'));
  honest = live(60);   // frames 68-72 of the video
});

after(async () => {
  assert.equal(await A?.stop(), 0);
  A?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The browser stand-in on the live video from frame `start` (5 consecutive good frames, 15 fps). */
const live = (start) => h.simulate(config, ['--mjpeg', h.MJPEG(), '--start', String(start), '--max', '40']);

/** Frame `n` of the live video (its JPEG bytes), written to a file: a webcam still. */
function still(n) {
  const v = readFileSync(h.MJPEG());
  let pos = 0;
  for (let k = 0; ; k++) {
    const s = v.indexOf(Buffer.from([0xff, 0xd8]), pos), e = v.indexOf(Buffer.from([0xff, 0xd9]), s + 2);
    assert.ok(s >= 0 && e > s, `frame ${n} not in the video`);
    pos = e + 2;
    if (k === n) { const f = join(dir, `still-${n}.jpg`); writeFileSync(f, v.subarray(s, pos)); return f; }
  }
}

async function post(sim, { wait = 0, ...opts } = {}) {
  const key = await h.newKey();
  const s = (await h.createSession(A, key)).body;
  if (wait) await new Promise((r) => setTimeout(r, wait));   // the nonce's age: the capture time it allows
  const r = await h.postResult(A, s.session_id, h.buildPackage(s, sim, opts), key);
  assert.equal(r.status, 200, r.text);
  const d = await h.getSession(A, s.session_id);
  return { r: r.body, decision: r.decision, s, detail: d.body.attempts[0].detail };
}

/** Refused with `reason` (among the integrator's reasons, never in the user's message). */
function refused({ r, decision, detail }, reason) {
  assert.equal(decision, 'reject', JSON.stringify(detail.reasons));
  assert.equal(r.message, GENERIC);
  assert.ok(!JSON.stringify(r).includes('freshness'), 'the user is not told which check fired');
  assert.ok(detail.reasons.includes(reason), JSON.stringify(detail.reasons));
  assert.ok(detail.freshness.reasons.includes(reason), JSON.stringify(detail.freshness));
}

test('honest capture of real video -> approve, with the freshness measures in the detail', async () => {
  const { decision, detail } = await post(honest);
  assert.equal(decision, 'approve', JSON.stringify(detail.reasons));
  const f = detail.freshness;
  assert.deepEqual(f.reasons, []);
  assert.deepEqual(f.pairs.duplicates, []);
  assert.ok(f.pairs.closest.change > 2.2, JSON.stringify(f.pairs.closest));   // measured >= 3.1 on real frames
  assert.deepEqual(f.index.replayed, []);
  assert.equal(f.timestamps.problem, undefined);
  for (const d of f.timestamps.intervals_ms) assert.ok(Math.abs(d - 1000 / 15) < 0.01, `intervals ${f.timestamps.intervals_ms}`);
});

test('a new capture of the same person a second later -> approve (not a replay)', async () => {
  const { decision, detail } = await post(live(85));   // frames 85-89, 0.9 s after the first package's
  assert.equal(decision, 'approve', JSON.stringify(detail.reasons));
  assert.deepEqual(detail.freshness.index.replayed, []);
  assert.ok(detail.freshness.index.nearest.every((d) => d === null || d > 0.6), JSON.stringify(detail.freshness.index));
});

test('the frames of an approved package in a new session (new key, nonce, shifted timestamps) -> reject freshness.replayed_frame', async () => {
  const first = await post(live(125));   // frames 135-139
  assert.equal(first.decision, 'approve', JSON.stringify(first.detail.reasons));
  const sim = live(125);
  const again = await post(sim);   // buildPackage moves the timestamps to the new package's time
  refused(again, 'freshness.replayed_frame');
  const rep = again.detail.freshness.index.replayed;
  assert.equal(rep.length, 5, JSON.stringify(again.detail.freshness.index));
  for (const m of rep) {
    assert.equal(m.match, 'exact');
    assert.equal(m.session_id, first.s.session_id);
  }
});

test('the frames of an approved package re-encoded at q80 in a new session -> reject freshness.replayed_frame', async () => {
  const first = await post(live(155));   // frames 155-159
  assert.equal(first.decision, 'approve', JSON.stringify(first.detail.reasons));
  const files = live(155).frames.map((f, i) => { const p = join(dir, `replay-${i}.jpg`); writeFileSync(p, Buffer.from(f.jpeg, 'base64')); return p; });
  const sim = h.simulate(config, ['--quality', '80', ...files]);   // decoded, pushed and encoded again, honest claims
  const again = await post(sim);
  refused(again, 'freshness.replayed_frame');
  const rep = again.detail.freshness.index.replayed;
  assert.equal(rep.length, 5, JSON.stringify(again.detail.freshness.index));
  for (const m of rep) {
    assert.equal(m.match, 'similar');
    assert.equal(m.session_id, first.s.session_id);
    assert.ok(m.distance < 0.6, JSON.stringify(m));
  }
});

// The stills run after the replays: their frames enter the index too, and must not sit next to an
// honest package's frames before it is decided.
test('one webcam still sent as all 5 frames (byte-identical) -> reject freshness.duplicate_frame', async () => {
  const f = still(145);
  const sim = h.simulate(config, [f, f, f, f, f]);
  assert.equal(new Set(sim.frames.map((x) => x.jpeg)).size, 1, 'the same JPEG bytes five times');
  const out = await post(sim);
  refused(out, 'freshness.duplicate_frame');
  assert.ok(out.detail.freshness.pairs.duplicates.length === 10 && out.detail.freshness.pairs.duplicates.every((p) => p.identical),
    JSON.stringify(out.detail.freshness.pairs));
});

test('one still re-encoded at five qualities -> reject freshness.duplicate_frame', async () => {
  const f = still(113);
  const sim = h.simulate(config, ['--qualities', '70,95,80,90,75', f, f, f, f, f]);
  assert.equal(new Set(sim.frames.map((x) => x.jpeg)).size, 5, 'five different JPEGs');
  const out = await post(sim);
  refused(out, 'freshness.duplicate_frame');
  const dups = out.detail.freshness.pairs.duplicates;
  assert.equal(dups.length, 10, JSON.stringify(out.detail.freshness.pairs));
  for (const p of dups) assert.ok(!p.identical && p.change < 2.2, JSON.stringify(p));
});

// Timestamps (epoch ms): each case is the honest frames with the timestamps changed, re-signed.
const ts = (f) => (p) => { p.frames.forEach((x, i) => { x.timestamp = f(i, x.timestamp, p.created_at); }); };
// Numbers no clock gives are refused by the package schema (400, nothing decided, nothing spent).
for (const [name, mutate] of [['a timestamp of 1e308', ts((i, t) => (i === 4 ? 1e308 : t))],
  ['negative timestamps', ts((i) => -1000 + 66 * i)], ['timestamps 1e-300 apart', ts((i) => i * 1e-300)]]) {
  test(`${name} -> 400 bad_schema`, async () => {
    const key = await h.newKey();
    const s = (await h.createSession(A, key)).body;
    const r = await h.postResult(A, s.session_id, h.buildPackage(s, honest, { mutate }), key);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.code, 'bad_schema', r.text);
    assert.match(r.body.error.message, /timestamp in epoch ms/);
  });
}
const TIMESTAMP_CASES = [
  ['timestamps 1 ms apart', ts((i, t, c) => c - 30 - (4 - i)), /1 ms apart, under the [\d.]+ ms a camera needs/],
  ['decreasing timestamps', ts((i, t, c) => c - 30 - 66 * i), /not after frame/],
  ['frames from before the nonce was issued (60 s earlier)', ts((i, t) => t - 60000), /before created_at.*nonce was issued/],
  ['two frames 2 s apart', ts((i, t, c) => c - 30 - 66 * (4 - i) - (i < 4 ? 2000 : 0)), /2066 ms apart, over the 1500 ms/, 1500],
];
for (const [name, mutate, problem, wait] of TIMESTAMP_CASES) {
  test(`${name} -> reject freshness.timestamps`, async () => {
    const out = await post(honest, { mutate, wait });
    refused(out, 'freshness.timestamps');
    assert.match(out.detail.freshness.timestamps.problem, problem);
  });
}

test('the camera frame rate tightens the spacing: 20 ms apart at a claimed 15 fps -> reject freshness.timestamps', async () => {
  const mutate = ts((i, t, c) => c - 30 - 20 * (4 - i));
  const out = await post(honest, { mutate });   // frameRate 15: frames at least half a period (33 ms) apart
  refused(out, 'freshness.timestamps');
  assert.match(out.detail.freshness.timestamps.problem, /20 ms apart, under the 33\.33 ms/);
  const signals = h.defaultSignals();
  signals.camera.settings.frameRate = 60;   // 20 ms is a 60 fps camera's spacing
  const ok = await post(honest, { mutate, signals });
  assert.equal(ok.detail.freshness.timestamps.problem, undefined, JSON.stringify(ok.detail.freshness.timestamps));
});

test('jitter is not a fake: one pair 31.9 ms apart at a claimed 15 fps, the span a 15 fps camera\'s -> no timestamp problem', async () => {
  // a loaded browser stamps frames when it presents them: an honest capture once came 31.9 ms apart
  const at = [-330, -264, -164, -132.1, -66].map((d) => d - 30);
  const out = await post(honest, { mutate: ts((i, t, c) => c + at[i]) });
  assert.equal(out.detail.freshness.timestamps.problem, undefined, JSON.stringify(out.detail.freshness.timestamps));
  assert.ok(!out.detail.reasons.includes('freshness.timestamps'), JSON.stringify(out.detail.reasons));
});
