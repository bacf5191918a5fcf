// capture.test.mjs - @veriface/web end to end in headless chromium against the real server:
// fake camera (y4m of real webcam frames) -> worker (wasm) -> guidance -> signed package ->
// server decision. Run twice: cross-origin isolated (threaded build) and not (single-threaded).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as lib from './lib.mjs';

const skip = lib.skipReason();
const { verifyBody } = await import(pathToFileURL(path.join(lib.ROOT, 'web/src/package.js')).href);

/** In the page: create, capture one attempt with submit, report what the test checks. */
async function pageCapture(threads) {
  const vf = await import('/pkg/src/index.js');
  const t0 = performance.now();
  const progress = [];
  // 2 threads asked explicitly: 'auto' takes half the cores, 1 on this 2-core machine
  const instance = await vf.Veriface.create({ threads, onProgress: (p) => progress.push(p.stage) });
  const readyMs = performance.now() - t0;
  const key = await vf.createSessionKey();
  const session = await vf.createDemoSession(location.origin, key.publicKeySpki, { liveness_type: 'passive' });
  const guidance = [];
  let frames = 0, frameMs = 0;
  const t1 = performance.now();
  const out = await instance.capture({
    session, key, submit: true, timeoutMs: 60000,
    onGuidance: (g) => guidance.push(g.key),
    onFrame: (s, info) => { frames++; frameMs += info.ms; },
  });
  const seconds = (performance.now() - t1) / 1000;
  const cameras = await instance.listCameras();
  instance.close();
  return {
    info: instance.info, readyMs, progress: [...new Set(progress)], guidance, frames, fps: frames / seconds,
    frameMs: frameMs / frames, body: out.body, signature: out.signature, spki: key.publicKeySpki, answer: out.answer,
    session, cameras, coi: crossOriginIsolated, sab: typeof SharedArrayBuffer !== 'undefined',
  };
}

/**
 * In the page: FramePump on the fake camera with a consumer like the capture loop (it awaits the
 * worker while frames are presented, then keeps this thread busy while the next picture reaches
 * the video before its requestVideoFrameCallback can run). Each picture handed out is reduced to a
 * thumbnail: the camera's noise makes every one of its frames differ, so an equal thumbnail is the
 * same picture handed out twice.
 */
async function pumpPictures(videoFrame) {
  const { FramePump } = await import('/pkg/src/frames.js');
  const stream = await navigator.mediaDevices.getUserMedia({ video: true });
  const video = document.createElement('video');
  video.muted = true; video.playsInline = true; video.srcObject = stream;
  video.style.cssText = 'position:fixed;left:0;top:0;width:64px;height:48px';
  document.body.appendChild(video);
  await video.play();
  const pump = new FramePump(video, () => {}, { videoFrame });
  const g = new OffscreenCanvas(32, 24).getContext('2d', { willReadFrequently: true });
  const seen = [], times = [], kinds = new Set();
  for (let i = 0; i < 40; i++) {
    const f = await pump.next();
    kinds.add(f.frame.constructor.name);
    g.drawImage(f.frame, 0, 0, 32, 24);
    seen.push(String(g.getImageData(0, 0, 32, 24).data));
    times.push(f.timestamp);
    f.frame.close();
    await new Promise((resolve) => setTimeout(resolve, (i * 17) % 60));
    for (const end = performance.now() + 20; performance.now() < end;) { /* busy */ }
  }
  pump.stop();
  for (const tr of stream.getTracks()) tr.stop();
  video.remove();
  return { repeated: seen.filter((x, i) => seen.indexOf(x) !== i).length, n: seen.length, kinds: [...kinds],
    increasing: times.every((t, i) => i === 0 || t > times[i - 1]) };
}

test('browser capture', { skip: skip ? `SKIP: ${skip}` : false, timeout: 240000 }, async (t) => {
  const dir = lib.tempDir();
  const y4m0 = lib.makeY4m(dir);
  const server = await lib.startServer(dir);
  const browser = await lib.launchChromium(y4m0);
  fs.mkdirSync(lib.ARTIFACTS, { recursive: true });
  try {
    for (const isolated of [true, false]) {
      await t.test(isolated ? 'cross-origin isolated: threaded build' : 'not isolated: single-threaded fallback', async () => {
        // a camera of its own per capture, on another stretch of the video: the same looping file
        // would show the first capture's frames again, which the server refuses as replayed
        const own = isolated ? browser : await lib.launchChromium(lib.makeY4m(dir, { name: 'camera-st.y4m', second: true }));
        const y4m = isolated ? y4m0 : path.join(dir, 'camera-st.y4m');
        const page = await own.newPage();
        const problems = lib.watchPage(page);
        try {
          await lib.routeTestPage(page, server.url, { isolated });
          await page.goto(`${server.url}/__test__.html`);
          const r = await page.evaluate(pageCapture, 2);
          const tag = isolated ? 'mt' : 'st';
          console.log(`# [${tag}] build ${r.info.build}, ${r.info.threads} thread(s), create->ready ${r.readyMs.toFixed(0)} ms, ` +
            `${r.fps.toFixed(1)} frames/s over the capture incl. finish + submit (${r.frameMs.toFixed(1)} ms/frame in the worker; tools/bench-web measures the loop), ${r.frames} frames, ` +
            `downloaded ${(r.info.downloaded / 1e6).toFixed(2)} MB; answer final=${r.answer.final}`);
          fs.writeFileSync(path.join(lib.ARTIFACTS, `capture-${tag}.json`), JSON.stringify({ ...r, body: undefined, bodyBytes: r.body.length }, null, 2));

          // isolation picks the build
          assert.equal(r.coi, isolated);
          assert.equal(r.info.build, isolated ? 'simd-mt' : 'simd');
          if (isolated) assert.ok(r.info.threads > 1, 'threads > 1 when isolated');
          assert.deepEqual(r.progress.filter((s) => s === 'download' || s === 'ready'), ['download', 'ready']);

          // guidance events: the dark frames and the turned head come first, then ok
          assert.ok(r.guidance.length >= 2, `guidance events: ${r.guidance}`);
          assert.equal(r.guidance.at(-1), 'ok');
          assert.ok(r.guidance.some((g) => g === 'too_dark' || g === 'turn_head' || g === 'hold_still'), `guidance: ${r.guidance}`);

          // the package: signature verifies in node, fields as in PACKAGE.md
          assert.ok(await verifyBody(r.spki, r.body, r.signature), 'signature verifies');
          const tampered = r.body.replace('"attempt":1', '"attempt":2');
          assert.equal(await verifyBody(r.spki, tampered, r.signature), false, 'a changed body does not verify');
          const pkg = JSON.parse(r.body);
          assert.deepEqual(Object.keys(pkg), ['format', 'session_id', 'nonce', 'attempt', 'created_at', 'capture', 'module', 'models',
            'result', 'frames', 'signals']);
          assert.equal(pkg.format, 1);
          assert.equal(pkg.session_id, r.session.session_id);
          assert.equal(pkg.nonce, r.session.nonce);
          assert.equal(pkg.capture.threaded, isolated);
          assert.equal(pkg.module.build, r.info.build);
          assert.equal(pkg.frames.length, r.session.config.good_frames);
          const { createHash } = await import('node:crypto');
          for (const f of pkg.frames) {
            const bytes = Buffer.from(f.data, 'base64');
            assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, 'frame sha256');
            assert.equal(bytes[0], 0xff); assert.equal(bytes[1], 0xd8);   // JPEG SOI
            assert.equal(f.status.index, f.index);
            assert.equal(f.status.good, true);
          }
          assert.deepEqual(pkg.frames.map((f) => f.index), [...pkg.frames.map((f) => f.index)].sort((a, b) => a - b));
          assert.ok(pkg.result.chosen.every((i) => pkg.frames.some((f) => f.index === i)), 'result.chosen refers to sent frames');
          assert.equal(pkg.result.embedding.status, 'ok');
          for (const [role, hash] of Object.entries(r.session.models || {})) if (hash) assert.equal(pkg.models[role], hash, role);

          // signals: the fake device is in them (its label is the y4m path)
          const s = pkg.signals;
          assert.equal(s.camera.label, y4m);
          assert.ok(r.cameras.some((c) => c.label === y4m), 'listCameras shows the fake device');
          assert.equal(s.camera.get_user_media_calls, 1);
          assert.equal(s.camera.settings.width, 640);
          assert.ok(s.camera.probe && s.camera.probe.got.width === 640, 'applyConstraints probe recorded');
          assert.ok(s.timing.frames >= pkg.capture.frames_pushed, 'every camera frame timed');
          assert.ok(s.timing.mean_ms > 0 && s.timing.measured_fps > 0);
          assert.equal(typeof s.timing.duplicates, 'number');
          assert.equal(s.environment.cross_origin_isolated, isolated);
          assert.equal(s.environment.headless_ua, /Headless/.test(s.environment.user_agent));
          assert.equal(typeof s.page.visibility_changes, 'number');

          // the page's answer is generic (PACKAGE.md section 4): no decision, no reason
          assert.equal(r.answer.session_id, r.session.session_id);
          assert.deepEqual(Object.keys(r.answer).filter((k) => k !== 'challenge').sort(), ['attempt', 'final', 'message', 'retry', 'session_id']);
          assert.doesNotMatch(JSON.stringify(r.answer), /decision|hint|reason|signal|review|approve|reject/);
          // the integrator's decision, and its reasons name the virtual camera
          const detail = await lib.getJson(`${server.url}/v1/sessions/${r.session.session_id}`, { Authorization: `Bearer ${lib.API_KEY}` });
          const decision = detail.body.attempts[0].decision;
          assert.notEqual(decision, 'approve', 'a fake camera never approves silently');
          assert.equal(detail.status, 200, detail.text);
          fs.writeFileSync(path.join(lib.ARTIFACTS, `session-${tag}.json`), JSON.stringify(detail.body, null, 2));
          assert.match(JSON.stringify(detail.body), /signal\.virtual_camera/, 'reasons include signal.virtual_camera');
          // an honest capture of a live video passes every check of the frames themselves:
          // quality, passive liveness, tamper, freshness; only the camera's signals send it to review
          const reasons = detail.body.attempts[0].detail.reasons;
          assert.equal(decision, 'review', `${JSON.stringify(reasons)} timestamps: ${JSON.stringify(detail.body.attempts[0].detail.freshness?.timestamps)}`);
          assert.equal(r.answer.final, true);
          assert.ok(reasons.every((x) => x.startsWith('signal.')), `only signal reasons: ${JSON.stringify(reasons)}`);
          assert.deepEqual(problems, []);
        } finally {
          await page.close();
          if (own !== browser) await own.close();
        }
      });
    }
    await t.test('active challenge the camera does not answer: prompts, then what was sent once a step times out', async () => {
      // a camera that holds a head turned 13 degrees (a still): it never centres
      const held = await lib.launchChromium(lib.makeY4m(dir, { name: 'held.y4m', noise: false }));
      const page = await held.newPage();
      const problems = lib.watchPage(page);
      try {
        await lib.routeTestPage(page, server.url);
        await page.goto(`${server.url}/__test__.html`);
        const r = await page.evaluate(async () => {
          const vf = await import('/pkg/src/index.js');
          const inst = await vf.Veriface.create();
          const key = await vf.createSessionKey();
          const session = await vf.createDemoSession(location.origin, key.publicKeySpki, {});
          // set here (the package is not sent): the fake camera holds a head turned 13 degrees, never centred
          const challenge = { type: 'sequence', steps: ['left', 'right'], min_yaw: 18, min_pitch: 12, centre: 10, step_ms: 1500,
            frame_ms: 100, max_frames: 64, light: null };
          const guidance = [];
          const out = await inst.capture({ session, key, challenge, timeoutMs: 60000, onGuidance: (g) => guidance.push(g.key) });
          inst.close();
          return { guidance, summary: out.challenge, pkg: JSON.parse(out.body).challenge };
        });
        assert.ok(r.guidance.includes('challenge_centre'), `guidance: ${r.guidance}`);
        assert.ok(!r.guidance.includes('challenge_left'), 'never asked for the step: the head was never centred');
        assert.equal(r.summary.timed_out, true);
        assert.equal(r.summary.steps_done, 0);
        assert.deepEqual(r.pkg.steps, ['left', 'right']);
        assert.equal(r.pkg.light_start, null);
        const span = r.pkg.frames.at(-1).timestamp - r.pkg.frames[0].timestamp;
        assert.ok(span > 1500 && span < 2500, `frames over ${span} ms (step_ms 1500)`);
        assert.ok(r.pkg.frames.length >= 8, `${r.pkg.frames.length} frames`);
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
        await held.close();
      }
    });
    await t.test('lazy start: guidance on detector + mesh first, completes on the full engine', async () => {
      const page = await browser.newPage();
      const problems = lib.watchPage(page);
      try {
        await lib.routeTestPage(page, server.url);
        // the heavy models arrive late: the page must give guidance before they are in
        let release;
        const gate = new Promise((r) => { release = r; });
        await page.route(/\/pkg\/models\/(mobilefacenet-expo-int8|minifasnet-v2-int8|minifasnet-v1se-int8)\.vfm(\?|$)/, async (route) => { await gate; await route.continue(); });
        await page.goto(`${server.url}/__test__.html`);
        await page.evaluate(() => { window.log = []; });
        const run = page.evaluate(async () => {
          const vf = await import('/pkg/src/index.js');
          const inst = await vf.Veriface.create({ lazy: true, threads: 4 });   // 2 x 3 helper threads would exceed the 4 pre-spawned pthreads
          window.log.push(['created', inst.info.complete, inst.info.models.embedder]);
          const key = await vf.createSessionKey();
          const session = await vf.createDemoSession(location.origin, key.publicKeySpki, {});
          inst.ready.then((i) => window.log.push(['ready', i.complete]));
          const out = await inst.capture({ session, key, submit: true, onGuidance: (g) => window.log.push(['guidance', g.key]) });
          const info = inst.info;
          inst.close();
          return { complete: info.complete, pad: info.pad, models: JSON.parse(out.body).models, session, answer: out.answer,
            embedding: out.result.embedding.status, liveness: out.result.liveness.status };
        });
        await page.waitForFunction(() => window.log.some((e) => e[0] === 'guidance'), null, { timeout: 30000 });
        const early = await page.evaluate(() => window.log);
        assert.deepEqual(early[0], ['created', false, ''], 'created on the guidance engine');
        assert.ok(!early.some((e) => e[0] === 'ready'), 'guidance before the full engine');
        release();
        const r = await run;
        assert.equal(r.complete, true);
        assert.equal(r.embedding, 'ok');
        assert.equal(r.liveness, r.pad ? 'ok' : 'no_model');   // MiniFASNet is built, never committed
        for (const [role, hash] of Object.entries(r.session.models)) if (hash) assert.equal(r.models[role], hash, role);
        assert.equal(typeof r.answer.final, 'boolean', JSON.stringify(r.answer));
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    });
    await t.test('frame pump: every picture handed out once, with its own time (bitmaps and VideoFrames)', async () => {
      const page = await browser.newPage();
      const problems = lib.watchPage(page);
      try {
        await lib.routeTestPage(page, server.url);
        await page.goto(`${server.url}/__test__.html`);
        for (const videoFrame of [false, true]) {
          const r = await page.evaluate(pumpPictures, videoFrame);
          console.log(`# [pump] ${r.kinds}: ${r.repeated} repeated of ${r.n} pictures`);
          assert.deepEqual(r.kinds, [videoFrame ? 'VideoFrame' : 'ImageBitmap']);
          assert.equal(r.repeated, 0, 'a picture handed out twice (the server refuses it: freshness.duplicate_frame)');
          assert.ok(r.increasing, 'frame times increase');
        }
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    });
    await t.test('frozen feed: repeated frames counted as duplicates (C fingerprint)', async () => {
      const frozen = await lib.launchChromium(lib.makeY4m(dir, { name: 'frozen.y4m', noise: false }));
      try {
        const page = await frozen.newPage();
        const problems = lib.watchPage(page);
        await lib.routeTestPage(page, server.url);
        await page.goto(`${server.url}/__test__.html`);
        const r = await page.evaluate(pageCapture, 'auto');
        const timing = JSON.parse(r.body).signals.timing;
        const detail = await lib.getJson(`${server.url}/v1/sessions/${JSON.parse(r.body).session_id}`, { Authorization: `Bearer ${lib.API_KEY}` });
        console.log(`# [frozen] duplicates ${timing.duplicates} of ${timing.analysed} analysed frames; decision ${detail.body.attempts[0].decision}`);
        assert.ok(timing.duplicates >= timing.analysed / 2, `duplicates ${timing.duplicates} / ${timing.analysed}`);
        // the server sees it too: the same picture in every frame is refused (freshness.duplicate_frame)
        assert.equal(detail.body.attempts[0].decision, 'reject');
        assert.equal(r.answer.final, true);
        assert.ok(detail.body.attempts[0].detail.reasons.includes('freshness.duplicate_frame'), JSON.stringify(detail.body.attempts[0].detail.reasons));
        assert.deepEqual(problems, []);
      } finally {
        await frozen.close();
      }
    });
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
