// challenge.test.mjs - the page side of the active challenge (docs/CHALLENGE.md) in headless
// chromium, on a fake camera that plays a live person answering the steps (tests/browser/lib.mjs
// makeChallengeY4m, cut from real2.webm):
// - against a stub server written here (node http: build/web with COOP/COEP, a fixed challenge at
//   session creation, the posted package captured): frames, timestamps, hashes, light_start,
//   signature, the order of the prompts, the tint layer's colours and timing, abort;
// - against the real server (skipped while it does not issue "sequence" challenges): an honest
//   capture with the light off must meet the challenge.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as lib from './lib.mjs';

const { poseClass } = await import(pathToFileURL(path.join(lib.ROOT, 'web/src/challenge.js')).href);

const skip = lib.skipReason() || (fs.existsSync(lib.VIDEO) ? null : `${lib.VIDEO} not found`);

const PALETTE = ['#508cff', '#50e66e', '#ffe150', '#be6eff', '#46e1eb', '#ffaa78', '#508cff', '#50e66e'];
const challengeOf = (steps, light) => ({
  type: 'sequence', steps, min_yaw: 18, min_pitch: 12, centre: 10, step_ms: 5000,
  light: light ? { colors: PALETTE, color_ms: 500 } : null, frame_ms: 100, max_frames: 64,
});

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.vfm': 'application/octet-stream', '.md': 'text/markdown' };

/** The stub: serves build/web like veriface-server (COOP/COEP), issues sessions with `stub.challenge`,
 *  keeps every posted package (body, signature header) by session id and answers `review`. */
async function startStub() {
  const stub = { challenge: null, sessions: new Map(), posted: new Map() };
  let n = 0;
  const server = http.createServer((req, res) => {
    const coi = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
    const send = (status, type, body) => { res.writeHead(status, { ...coi, 'Content-Type': type }); res.end(body); };
    const url = new URL(req.url, 'http://stub');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && url.pathname === '/demo/sessions') {
        const { client_public_key: spki } = JSON.parse(body);
        const id = (++n).toString(16).padStart(32, '0');
        const s = { session_id: id, nonce: crypto.randomBytes(32).toString('base64url'), attempt: 1, expires_at: Date.now() + 600000,
          config: { liveness_type: 'active', good_frames: 5, max_frame_width: 1280, max_frame_height: 720, jpeg_quality: 0.92 },
          challenge: stub.challenge };
        stub.sessions.set(id, { session: s, spki });
        return send(201, 'application/json', JSON.stringify(s));
      }
      const dm = url.pathname.match(/^\/demo\/sessions\/([0-9a-f]{32})$/);
      if (req.method === 'GET' && dm && stub.posted.has(dm[1])) {   // the demo page's view of its own session
        return send(200, 'application/json', JSON.stringify({ session_id: dm[1], status: 'final', decision: 'review', demo: true, attempt: 1,
          attempts: [{ attempt: 1, decision: 'review', detail: { reasons: [], hint: 'none' } }] }));
      }
      const m = url.pathname.match(/^\/v1\/sessions\/([0-9a-f]{32})\/result$/);
      if (req.method === 'POST' && m) {
        stub.posted.set(m[1], { body, signature: req.headers['x-veriface-signature'] });
        return send(200, 'application/json', JSON.stringify({ session_id: m[1], attempt: 1, final: true,
          message: 'Thank you. Your verification has been received.', retry: { allowed: false, next_nonce: null } }));
      }
      if (req.method === 'GET' && url.pathname === '/__test__.html') return send(200, TYPES['.html'], '<!doctype html><title>stub</title><link rel="icon" href="data:,"><body></body>');
      const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
      const file = path.join(lib.WEB, rel === '' || rel.endsWith('/') ? `${rel}index.html` : rel);
      if (req.method === 'GET' && file.startsWith(lib.WEB) && fs.existsSync(file) && fs.statSync(file).isFile()) {
        return send(200, TYPES[path.extname(file)] || 'application/octet-stream', fs.readFileSync(file));
      }
      send(404, 'application/json', '{"error":{"code":"not_found","message":"no such path"}}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${server.address().port}`;
  stub.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  return stub;
}

/** In the page: one capture of a stub session; records guidance keys, the tint layer's colour
 *  changes (MutationObserver, epoch ms) and what is left of it at the end. */
async function pageCapture({ abortAt }) {
  const vf = await import('/pkg/src/index.js');
  const inst = await vf.Veriface.create();
  const key = await vf.createSessionKey();
  const session = await vf.createDemoSession(location.origin, key.publicKeySpki, {});
  const base = Date.now() - performance.now();   // the frame pump's clock (web/src/frames.js)
  const now = () => base + performance.now();
  const guidance = [], tint = [], layers = [];
  const mo = new MutationObserver((recs) => {
    for (const r of recs) {
      if (r.type === 'attributes') tint.push([now(), r.target.getAttribute('data-color')]);
      for (const a of r.addedNodes || []) if (a.hasAttribute && a.hasAttribute('data-veriface-tint')) layers.push(['added', now()]);
      for (const a of r.removedNodes || []) if (a.hasAttribute && a.hasAttribute('data-veriface-tint')) layers.push(['removed', now()]);
    }
  });
  mo.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-color'] });
  const ac = new AbortController();
  const started = Date.now();
  const out = { session, spki: key.publicKeySpki, guidance, tint, layers, started };
  try {
    const r = await inst.capture({
      session, key, submit: true, signal: ac.signal, timeoutMs: 90000,
      onGuidance: (g) => {
        guidance.push([g.key, g.code, g.challenge ? g.challenge.step : null]);
        if (abortAt && g.key === abortAt) setTimeout(() => ac.abort(), 300);
      },
    });
    Object.assign(out, { body: r.body, signature: r.signature, answer: r.answer, summary: r.challenge });
  } catch (e) {
    Object.assign(out, { error: e.code, message: e.message });
  }
  out.finished = Date.now();
  await new Promise((r) => setTimeout(r, 50));
  mo.disconnect();
  out.leftOver = document.querySelectorAll('[data-veriface-tint]').length;
  inst.close();
  return out;
}

/** Width and height from a JPEG's SOF marker. */
function jpegSize(b) {
  for (let i = 2; i + 9 < b.length;) {
    if (b[i] !== 0xff) return null;
    const m = b[i + 1], len = b.readUInt16BE(i + 2);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    i += 2 + len;
  }
  return null;
}

/**
 * The step and continuity rules of src/policy/challenge.c (vf_challenge_evaluate, without depth
 * and light), in JS, over poses measured natively (`build/veriface analyze`) on the JPEGs sent:
 * what the server will find, as far as the steps go. Returns { steps_done, reasons }.
 */
function serverSteps(ch, dir, frames) {
  const files = frames.map((f) => {
    const file = path.join(dir, `cf-${String(f.index).padStart(3, '0')}.jpg`);
    fs.writeFileSync(file, Buffer.from(f.data, 'base64'));
    return file;
  });
  const obs = [];
  for (let i = 0; i < files.length; i += 50) {
    const r = spawnSync(path.join(lib.ROOT, 'build/veriface'), ['analyze', ...files.slice(i, i + 50)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    for (const line of r.stdout.split('\n')) {
      if (!line.startsWith('{"image"')) continue;
      const q = JSON.parse(line).frame.quality;
      obs.push({ face: q.face_count > 0, yaw: q.yaw, pitch: q.pitch });
    }
  }
  for (const f of files) fs.rmSync(f);
  assert.equal(obs.length, frames.length, 'every frame analysed');
  obs.forEach((o, i) => { o.t = frames[i].timestamp; });
  const reasons = new Set();
  if (obs.filter((o) => o.face).length < 4) reasons.add('challenge.no_frames');
  for (let i = 1; i < obs.length; i++) {
    const dt = obs[i].t - obs[i - 1].t;
    const move = Math.max(Math.abs(obs[i].yaw - obs[i - 1].yaw), Math.abs(obs[i].pitch - obs[i - 1].pitch));
    if (!(dt > 0) || dt > 400 || (obs[i].face && obs[i - 1].face && move > 360 * dt / 1000 + ch.centre)) reasons.add('challenge.discontinuous');
  }
  let k = 0, needCentre = true, since = obs[0].t;
  for (const o of obs) {
    if (k >= ch.steps.length) break;
    if (!o.face) continue;
    const pc = poseClass(ch, o.yaw, o.pitch);
    if (pc === 'centre') { needCentre = false; continue; }
    if (pc === null || needCentre) {
      if (pc && k > 0 && pc !== ch.steps[k - 1] && needCentre) reasons.add('challenge.wrong_order');
      continue;
    }
    if (k > 0 && pc === ch.steps[k - 1]) { needCentre = true; continue; }   // the step just done, again
    if (pc !== ch.steps[k]) { reasons.add('challenge.wrong_order'); break; }
    if (o.t - since > ch.step_ms) break;
    since = o.t;
    k++;
    needCentre = true;
  }
  if (k < ch.steps.length) reasons.add('challenge.incomplete');
  return { steps_done: k, reasons: [...reasons] };
}

/** Collapse repeats: ['a','a','b','a'] -> ['a','b','a']. */
const runs = (xs) => xs.filter((x, i) => i === 0 || x !== xs[i - 1]);

async function runStub(stub, dir, steps, light, { abortAt } = {}) {
  stub.challenge = challengeOf(steps, light);
  const browser = await lib.launchChromium(lib.makeChallengeY4m(dir, steps));
  try {
    const page = await browser.newPage();
    const problems = lib.watchPage(page);
    await page.goto(`${stub.url}/__test__.html`);
    const r = await page.evaluate(pageCapture, { abortAt: abortAt || null });
    await page.close();
    return { r, problems };
  } finally {
    await browser.close();
  }
}

function checkPackage(stub, dir, r, steps, light) {
  const ch = challengeOf(steps, light);
  assert.equal(r.error, undefined, `capture failed: ${r.error} ${r.message}`);
  const posted = stub.posted.get(r.session.session_id);
  assert.ok(posted, 'the package reached the stub');
  assert.equal(posted.body, r.body, 'the stub received the exact body');
  // the signature, verified independently over the exact bytes
  const pub = crypto.createPublicKey({ key: Buffer.from(r.spki, 'base64'), format: 'der', type: 'spki' });
  assert.ok(crypto.verify('sha256', Buffer.from(posted.body, 'utf8'), { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(posted.signature, 'base64url')),
    'signature verifies over the body');
  const pkg = JSON.parse(posted.body);
  assert.deepEqual(Object.keys(pkg), ['format', 'session_id', 'nonce', 'attempt', 'created_at', 'capture', 'module', 'models',
    'result', 'frames', 'challenge', 'signals']);
  assert.equal(pkg.frames.length, 5, 'the passive frames are still there');
  const c = pkg.challenge;
  assert.deepEqual(Object.keys(c), ['steps', 'light_start', 'frames']);
  assert.deepEqual(c.steps, steps);
  // frames: in order, increasing epoch-ms timestamps inside the capture, one per frame_ms, hashed, <= 480 px
  assert.ok(c.frames.length >= 4 && c.frames.length <= ch.max_frames, `${c.frames.length} frames`);
  c.frames.forEach((f, i) => {
    assert.deepEqual(Object.keys(f), ['index', 'timestamp', 'width', 'height', 'mime', 'sha256', 'data']);
    assert.equal(f.index, i);
    assert.ok(f.timestamp > 1.6e12 && f.timestamp >= r.started - 1000 && f.timestamp <= r.finished, `frame ${i} timestamp ${f.timestamp} is epoch ms in the capture`);
    if (i > 0) {
      const dt = f.timestamp - c.frames[i - 1].timestamp;
      assert.ok(dt >= ch.frame_ms - 5 && dt <= 400, `frame ${i}: ${dt.toFixed(1)} ms after the previous one`);
    }
    const bytes = Buffer.from(f.data, 'base64');
    assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), f.sha256, `frame ${i} sha256`);
    assert.equal(f.mime, 'image/jpeg');
    assert.deepEqual(jpegSize(bytes), { width: f.width, height: f.height }, `frame ${i} JPEG size`);
    assert.ok(Math.max(f.width, f.height) <= 480, `frame ${i} ${f.width}x${f.height}`);
  });
  for (const f of pkg.frames) assert.ok(f.timestamp < c.frames[0].timestamp, 'passive frames come before the challenge');
  // the prompts: the steps in the challenge's order, each once, back to the centre in between
  const prompts = runs(r.guidance.filter(([k]) => k.startsWith('challenge_')).map(([k]) => k));
  assert.deepEqual(prompts.filter((k) => k !== 'challenge_centre' && k !== 'challenge_hold'), steps.map((s) => `challenge_${s}`), `prompts: ${prompts}`);
  assert.ok(r.guidance.filter(([k]) => k.startsWith('challenge_')).every(([, code]) => code === -1), 'challenge prompts have code -1');
  assert.equal(r.summary.steps_done, steps.length, `every step seen by the page (${JSON.stringify(r.summary)})`);
  assert.equal(r.summary.timed_out, false);
  // the light
  if (!light) {
    assert.equal(c.light_start, null);
    assert.deepEqual(r.tint, [], 'no tint without light');
    assert.deepEqual(r.layers, []);
  } else {
    assert.equal(typeof c.light_start, 'number');
    assert.ok(c.light_start <= c.frames[0].timestamp, 'frames start with the sequence');
    const end = c.light_start + PALETTE.length * 500;
    assert.ok(c.frames.at(-1).timestamp >= end, `frames until every colour was shown (last ${c.frames.at(-1).timestamp - c.light_start} ms after light_start)`);
    const shown = r.tint.filter(([, col]) => col);
    assert.deepEqual(shown.map(([, col]) => col), PALETTE, 'the colours in order');
    assert.ok(Math.abs(shown[0][0] - c.light_start) < 50, `first colour at light_start (${(shown[0][0] - c.light_start).toFixed(1)} ms)`);
    const late = shown.map(([t], i) => t - (c.light_start + i * 500));
    console.log(`# tint: colour changes late by ${late.map((x) => x.toFixed(0)).join(', ')} ms (against light_start + i * color_ms)`);
    for (const x of late) assert.ok(x > -5 && x < 150, `colour change ${x.toFixed(1)} ms off its time`);
    const cleared = r.tint.filter(([, col]) => !col);
    assert.ok(cleared.length >= 1 && Math.abs(cleared[0][0] - end) < 150, 'cleared after the last colour');
    assert.deepEqual(r.layers.map(([e]) => e), ['added', 'removed'], 'the layer was appended, then removed');
  }
  assert.equal(r.leftOver, 0, 'no tint layer left');
  // the frames answer the steps by the server's rules, measured natively on the JPEGs sent
  const jpeg = c.frames.reduce((a, f) => a + Buffer.from(f.data, 'base64').length, 0);
  console.log(`# body ${(posted.body.length / 1e6).toFixed(2)} MB; challenge JPEGs ${(jpeg / c.frames.length / 1e3).toFixed(1)} KB each`);
  const server = serverSteps(ch, dir, c.frames);
  console.log(`# server's step rules on the sent JPEGs: ${server.steps_done} of ${steps.length} steps, reasons ${server.reasons.join(',') || 'none'}`);
  assert.deepEqual(server, { steps_done: steps.length, reasons: [] });
  return c;
}

test('active challenge (stub server): package, prompts, tint, abort', { skip: skip ? `SKIP: ${skip}` : false, timeout: 300000 }, async (t) => {
  const dir = lib.tempDir();
  const stub = await startStub();
  fs.mkdirSync(lib.ARTIFACTS, { recursive: true });
  try {
    await t.test('light on: 2 steps, colours, light_start', async () => {
      const steps = ['left', 'up'];
      const { r, problems } = await runStub(stub, dir, steps, true);
      const c = checkPackage(stub, dir, r, steps, true);
      console.log(`# light on: ${c.frames.length} frames over ${(c.frames.at(-1).timestamp - c.frames[0].timestamp).toFixed(0)} ms, ` +
        `steps at ${r.summary.step_at.map((x) => (x - c.frames[0].timestamp).toFixed(0)).join(', ')} ms; prompts ${runs(r.guidance.map(([k]) => k)).join(' > ')}`);
      assert.deepEqual(problems, []);
    });
    await t.test('light off: 3 steps, light_start null, no tint', async () => {
      const steps = ['right', 'down', 'left'];
      const { r, problems } = await runStub(stub, dir, steps, false);
      const c = checkPackage(stub, dir, r, steps, false);
      console.log(`# light off: ${c.frames.length} frames over ${(c.frames.at(-1).timestamp - c.frames[0].timestamp).toFixed(0)} ms, ` +
        `steps at ${r.summary.step_at.map((x) => (x - c.frames[0].timestamp).toFixed(0)).join(', ')} ms; prompts ${runs(r.guidance.map(([k]) => k)).join(' > ')}`);
      assert.deepEqual(problems, []);
    });
    await t.test('abort during the challenge: rejects with "aborted", tint removed, nothing sent', async () => {
      const steps = ['left', 'up'];
      const { r, problems } = await runStub(stub, dir, steps, true, { abortAt: 'challenge_left' });
      assert.equal(r.error, 'aborted', `${r.error} ${r.message}`);
      assert.ok(r.guidance.some(([k]) => k === 'challenge_left'), 'aborted during the challenge');
      assert.equal(stub.posted.has(r.session.session_id), false, 'no package posted');
      assert.equal(r.leftOver, 0, 'tint layer removed');
      assert.deepEqual(r.layers.map(([e]) => e), ['added', 'removed']);
      assert.deepEqual(problems, []);
    });
    await t.test('demo page: keyboard only, prompts on the camera view, tint, challenge frames shown', async () => {
      const steps = ['left', 'up'];
      stub.challenge = challengeOf(steps, true);
      const browser = await lib.launchChromium(lib.makeChallengeY4m(dir, steps));
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems = lib.watchPage(page);
        await page.goto(`${stub.url}/`);
        await page.waitForSelector('body[data-engine=full]', { timeout: 30000 });
        await page.evaluate(() => {
          window.seen = [];
          new MutationObserver(() => window.seen.push([document.getElementById('guidance').textContent, document.getElementById('prompt').hidden ? null
            : document.getElementById('prompt').dataset.dir, document.getElementById('tint').getAttribute('data-color')]))
            .observe(document.getElementById('guidance'), { childList: true, characterData: true, subtree: true });
        });
        // keyboard: the "active challenge" radio, then Start
        let presses = 0;
        while (!(await page.evaluate(() => document.activeElement && document.activeElement.name === 'liveness')) && presses++ < 40) await page.keyboard.press('Tab');
        await page.keyboard.press('ArrowDown');
        assert.equal(await page.evaluate(() => document.querySelector('input[name=liveness]:checked').value), 'active');
        presses = 0;
        while (!(await page.evaluate(() => document.activeElement && document.activeElement.id === 'start')) && presses++ < 40) await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        await page.waitForSelector('body[data-challenge]', { timeout: 40000 });
        await page.waitForTimeout(400);
        await page.screenshot({ path: path.join(lib.ARTIFACTS, 'demo-challenge.png') });
        await page.waitForSelector('body[data-state=decided]', { timeout: 60000 });
        const r = await page.evaluate(() => ({ seen: window.seen, thumbs: document.querySelectorAll('#thumbs canvas.challenge').length,
          steps: [...document.querySelectorAll('#steps li')].map((li) => li.className), tintHidden: document.getElementById('tint').hidden,
          promptHidden: document.getElementById('prompt').hidden, challengeAttr: document.body.hasAttribute('data-challenge') }));
        const arrows = runs(r.seen.map(([, dir]) => dir).filter(Boolean));
        assert.deepEqual(arrows.filter((d) => d !== 'centre'), steps, `arrows ${arrows}`);
        assert.ok(r.seen.some(([text, dir, color]) => dir === 'left' && text === 'Slowly turn your head to your left' && /^#/.test(color)), 'prompt, arrow and tint together');
        assert.ok(r.thumbs >= 4, `${r.thumbs} challenge thumbnails`);
        assert.deepEqual(r.steps, ['done', 'done']);
        assert.deepEqual([r.tintHidden, r.promptHidden, r.challengeAttr], [true, true, false]);
        const sent = [...stub.posted.values()].at(-1);
        assert.deepEqual(JSON.parse(sent.body).challenge.steps, steps);
        assert.deepEqual(problems, []);
      } finally {
        await browser.close();
      }
    });
    await t.test('a challenge of another type is an error before the camera opens', async () => {
      const browser = await lib.launchChromium(lib.makeY4m(dir));
      try {
        const page = await browser.newPage();
        await page.goto(`${stub.url}/__test__.html`);
        const r = await page.evaluate(async () => {
          const vf = await import('/pkg/src/index.js');
          const inst = await vf.Veriface.create();
          const key = await vf.createSessionKey();
          const session = { session_id: 'ab'.repeat(16), nonce: 'n', config: {} };
          const codes = [];
          for (const challenge of [{ type: 'head_turn', direction: 'left' }, { type: 'sequence', steps: ['sideways'] },
            { type: 'sequence', steps: ['left'], min_yaw: 18, min_pitch: 12, centre: 10, step_ms: 5000, frame_ms: 100, max_frames: 500, light: null }]) {
            try { await inst.capture({ session: { ...session, challenge }, key }); codes.push('resolved'); } catch (e) { codes.push(e.code); }
          }
          inst.close();
          return { codes };
        });
        assert.deepEqual(r.codes, ['unsupported', 'bad_challenge', 'bad_challenge']);
      } finally {
        await browser.close();
      }
    });
  } finally {
    await stub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** In the page: capture a real session with a key made in node (imported non-extractable). */
async function pageHonest({ session, jwk }) {
  const vf = await import('/pkg/src/index.js');
  const inst = await vf.Veriface.create();
  const privateKey = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const guidance = [];
  try {
    const out = await inst.capture({ session, key: { privateKey }, submit: true, timeoutMs: 90000, onGuidance: (g) => guidance.push(g.key) });
    return { answer: out.answer, summary: out.challenge, guidance };
  } catch (e) {
    return { error: e.code, message: e.message, guidance };
  } finally {
    inst.close();
  }
}

test('active challenge end to end: an honest capture meets it (real server)', { skip: skip ? `SKIP: ${skip}` : false, timeout: 600000 }, async (t) => {
  const dir = lib.tempDir();
  const server = await lib.startServer(dir);
  const runs_ = Math.max(1, Number(process.env.VF_CHALLENGE_RUNS) || 1);
  const { subtle } = crypto.webcrypto;
  const results = [];
  try {
    for (let i = 0; i < runs_; i++) {
      // the integrator's backend creates the session (API key); the page gets the private key as a JWK
      const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
      const spki = Buffer.from(await subtle.exportKey('spki', pair.publicKey)).toString('base64');
      const jwk = await subtle.exportKey('jwk', pair.privateKey);
      const res = await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { Authorization: `Bearer ${lib.API_KEY}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_public_key: spki, config: { liveness_type: 'active', challenge: { light: false } } }) });
      const session = await res.json().catch(() => null);
      const ch = session && session.challenge;
      if (res.status !== 201 || !ch || ch.type !== 'sequence') {
        t.skip(`the server does not issue "sequence" challenges yet (POST /v1/sessions with liveness_type active, challenge.light false: ` +
          `HTTP ${res.status}, ${JSON.stringify((session && (session.error || session.challenge)) || null)}); run this test again once it does`);
        return;
      }
      assert.equal(ch.light, null, 'light off as asked');
      assert.equal(ch.steps.length, 3, 'three steps without light');
      const browser = await lib.launchChromium(lib.makeChallengeY4m(dir, ch.steps, { name: `e2e-${i}.y4m` }));
      try {
        const page = await browser.newPage();
        const problems = lib.watchPage(page);
        await lib.routeTestPage(page, server.url);
        await page.goto(`${server.url}/__test__.html`);
        const r = await page.evaluate(pageHonest, { session, jwk });
        assert.equal(r.error, undefined, `${r.error}: ${r.message}`);
        const detail = await lib.getJson(`${server.url}/v1/sessions/${session.session_id}`, { Authorization: `Bearer ${lib.API_KEY}` });
        assert.equal(detail.status, 200, detail.text);
        fs.mkdirSync(lib.ARTIFACTS, { recursive: true });
        fs.writeFileSync(path.join(lib.ARTIFACTS, `challenge-e2e-${i}.json`), JSON.stringify({ session, page: r, detail: detail.body }, null, 2));
        const reasons = [...new Set(detail.text.match(/challenge\.[a-z_]+/g) || [])];
        const decision = detail.body.attempts[0].decision;
        results.push({ steps: ch.steps, decision, reasons, steps_done: r.summary.steps_done, frames: r.summary.frames.length });
        console.log(`# e2e run ${i + 1}: steps ${ch.steps.join(',')}, page saw ${r.summary.steps_done}, ${r.summary.frames.length} frames; ` +
          `decision ${decision}; challenge reasons ${reasons.join(',') || 'none'}`);
        assert.deepEqual(problems, []);
      } finally {
        await browser.close();
      }
    }
    const met = results.filter((x) => x.reasons.length === 0 && x.steps_done === x.steps.length).length;
    console.log(`# e2e: challenge met in ${met} of ${results.length} runs`);
    assert.equal(met, results.length, JSON.stringify(results));
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
