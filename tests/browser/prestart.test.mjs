// The worker started with the page (web/src/preload.js with data-veriface-worker, as
// tools/web-links.mjs writes the package's head; worker.js prestart): create() takes it over when
// it would start the same worker file, and the worker's own early run serves an init that asks
// what it ran (lazy: true, defaults), or the full engine of a non-lazy one; other options get a
// run of their own in that worker. Each case checks the page ran one engine worker and that the
// engine works (the full engine's info: PAD on, the JPEG path decided). A page whose head lacks
// the attribute starts its worker in create() as before. Firefox and WebKitGTK (engines.mjs) load
// the page too: the takeover and a working engine, lazy (cold, then warm) and not. The camera
// opened with the page (data-veriface-camera): below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';
import * as eng from './engines.mjs';

const skip = lib.skipReason();

const SCRIPT = `
const q = new URLSearchParams(location.search);
const opts = JSON.parse(q.get('opts') || '{}');
window.result = (async () => {
  const vf = await import(q.get('base') + 'src/index.js');
  const progress = [];
  try {
    const inst = await vf.Veriface.create({ ...opts, onProgress: (p) => progress.push(p) });
    const first = inst.info;
    const full = await inst.ready;
    inst.close();
    return { first: { complete: first.complete, build: first.build, prestarted: first.path.prestarted, jpeg: first.path.jpeg },
      full: { complete: full.complete, pad: full.pad, build: full.build, prestarted: full.path.prestarted, jpeg: full.path.jpeg, timing: Object.keys(full.timing) },
      worker: progress.find((p) => p.stage === 'worker') };
  } catch (e) {
    return { error: (e.code || '') + ' ' + e.message };
  }
})();
`;

/**
 * The package and a test script served by the real server, in a Chromium context: `files(links)`
 * names the pages to add (v/index.json's `links`), `body({ links, load })` runs the cases.
 * load(file, query) opens a page, waits for window.result and checks it is no error and the page
 * reported none; it returns { r, workers } (the URLs of the workers the page started).
 */
async function chromiumSite(script, files, body) {
  const dir = lib.tempDir();
  const web = path.join(dir, 'web');
  fs.cpSync(lib.WEB, web, { recursive: true });
  const links = JSON.parse(fs.readFileSync(path.join(lib.WEB, 'v/index.json'), 'utf8'));
  for (const [name, html] of Object.entries(files(links))) fs.writeFileSync(path.join(web, name), html);
  fs.writeFileSync(path.join(web, '__script__.js'), script);
  const server = await lib.startServer(dir, [], { staticDir: web });
  const browser = await lib.launchChromium(lib.makeY4m(dir));
  const ctx = await browser.newContext();
  const load = async (file, query) => {
    const p = await ctx.newPage();
    const problems = lib.watchPage(p);
    const workers = [];
    p.on('worker', (w) => workers.push(w.url()));
    await p.goto(`${server.url}/${file}?base=/${links.base}&${query}`);
    const r = await p.evaluate(() => window.result);
    await p.close();
    assert.ok(!r.error, r.error);
    assert.deepEqual(problems, []);
    return { r, workers };
  };
  try {
    await body({ links, load });
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const page = (title, head) => `<!doctype html><html lang="en"><title>${title}</title><link rel="icon" href="/favicon.svg">${head}<script type="module" src="/__script__.js"></script><body></body></html>`;

test('a worker started with the page is taken over by create()', { skip: skip ? `SKIP: ${skip}` : false, timeout: 300000 }, async (t) => {
  await chromiumSite(SCRIPT, (links) => {
    assert.match(links.head, /src\/preload\.js" data-veriface-worker /, 'the package head starts the worker');
    return { '__prestart__.html': page('prestart', links.head), '__plain__.html': page('prestart', links.head.replace(' data-veriface-worker', '')) };
  }, async ({ links, load }) => {
    const run = async (file, opts) => {
      const { r, workers } = await load(file, `opts=${encodeURIComponent(JSON.stringify(opts))}`);
      // the engine's workers (no pthreads here: one thread), whichever started them
      assert.equal(workers.filter((u) => /\/src\/worker\.js$/.test(u)).length, 1, `one engine worker: ${workers}`);
      assert.ok(r.full.complete && r.full.pad, `the full engine, PAD on: ${JSON.stringify(r.full)}`);
      assert.ok(['worker', 'page'].includes(r.full.jpeg), `JPEG path decided: ${r.full.jpeg}`);
      return r;
    };
    // twice each: cold (an empty cache), then warm
    for (const visit of ['cold', 'warm']) {
      await t.test(`${visit}: lazy, as the prestart ran: its run`, async () => {
        const r = await run('__prestart__.html', { lazy: true, threads: 1 });
        assert.equal(r.worker.prestarted, true, JSON.stringify(r.worker));
        assert.equal(r.first.prestarted, true);
        assert.equal(r.first.complete, false);
        assert.ok(r.full.timing.includes('prestart'), `timing: ${r.full.timing}`);
      });
    }
    await t.test('not lazy: the prestarted run, then its full engine', async () => {
      const r = await run('__prestart__.html', { threads: 1 });
      assert.equal(r.worker.prestarted, true, JSON.stringify(r));
      assert.equal(r.first.complete, true, JSON.stringify(r));
      assert.equal(r.first.prestarted, true, JSON.stringify(r));
    });
    await t.test('other options (build base): the worker taken over, a run of its own', async () => {
      const r = await run('__prestart__.html', { lazy: true, threads: 1, build: 'base' });
      assert.equal(r.worker.prestarted, true);
      assert.equal(r.first.prestarted, false);
      assert.equal(r.full.build, 'base');
    });
    await t.test('a worker URL of the page\'s own: the prestarted worker is not used', async () => {
      const r = await run('__prestart__.html', { lazy: true, threads: 1, workerUrl: `/${links.base}src/worker.js?own` });
      assert.equal(r.worker.prestarted, undefined);
      assert.equal(r.full.prestarted, false);
    });
    await t.test('without data-veriface-worker: create() starts the worker', async () => {
      const r = await run('__plain__.html', { lazy: true, threads: 1 });
      assert.equal(r.worker.prestarted, undefined);
      assert.equal(r.full.prestarted, false);
    });
  });
});

// The camera opened with the page (data-veriface-camera): openCamera() with default options takes
// that stream (the same stream, one getUserMedia of the package's, the camera's frames playing);
// with other options the early stream is stopped and a new one opened; not taken in time, it is
// stopped by itself.
const CAMERA_SCRIPT = `
const q = new URLSearchParams(location.search);
window.result = (async () => {
  const vf = await import(q.get('base') + 'src/index.js');
  const early = window[Symbol.for('veriface.camera')];
  if (!early) return { error: 'no early camera' };
  const marked = performance.getEntriesByName('veriface:camera').length;
  const mode = q.get('mode');
  if (mode === 'expire') {
    const s0 = await early.opening;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return { marked, expired: early.expired, states: s0.getTracks().map((t) => t.readyState), left: !!window[Symbol.for('veriface.camera')] };
  }
  const s0 = await early.opening;
  const video = document.body.appendChild(document.createElement('video'));
  // openCamera({ video }): the preview shows the stream before the track is probed
  let shownAtProbe = null;
  const applyConstraints = MediaStreamTrack.prototype.applyConstraints;
  MediaStreamTrack.prototype.applyConstraints = function (c) {
    if (shownAtProbe === null) shownAtProbe = video.srcObject === s0 && video.muted && !video.paused;
    return applyConstraints.call(this, c);
  };
  const cam = await vf.openCamera(mode === 'other' ? { width: 640, height: 480 } : mode === 'video' ? { video } : {});
  MediaStreamTrack.prototype.applyConstraints = applyConstraints;
  const shown = video.srcObject === cam.stream;
  if (!shown) { video.muted = true; video.autoplay = true; video.srcObject = cam.stream; }
  await new Promise((resolve) => video.requestVideoFrameCallback(resolve));
  const out = { marked, same: cam.stream.id === s0.id, shown, shownAtProbe, earlyStates: s0.getTracks().map((t) => t.readyState),
    states: cam.stream.getTracks().map((t) => t.readyState), calls: cam.info.getUserMediaCalls,
    width: video.videoWidth, probe: cam.info.probe, left: !!window[Symbol.for('veriface.camera')] };
  vf.stopStream(cam.stream);
  return out;
})().catch((e) => ({ error: (e.code || '') + ' ' + e.message }));
`;

test('the camera opened with the page is taken by openCamera()', { skip: skip ? `SKIP: ${skip}` : false, timeout: 120000 }, async (t) => {
  await chromiumSite(CAMERA_SCRIPT, (links) => {
    const head = (attr) => links.head.replace(' data-veriface-fetch=', ` ${attr} data-veriface-fetch=`);
    return { '__camera__.html': page('camera', head('data-veriface-camera')), '__expire__.html': page('camera', head('data-veriface-camera="300"')) };
  }, async ({ load }) => {
    const run = async (file, mode) => {
      const { r } = await load(file, `mode=${mode}`);
      assert.equal(r.marked, 1, 'preload.js asked for the camera');
      assert.equal(r.left, false, 'the early camera is taken or dropped once');
      return r;
    };
    await t.test('default options: the early stream, playing', async () => {
      const r = await run('__camera__.html', 'default');
      assert.equal(r.same, true, JSON.stringify(r));
      assert.equal(r.calls, 1, 'one getUserMedia of the package');
      assert.deepEqual(r.states, ['live']);
      assert.ok(r.width > 0, `the video plays: ${r.width}`);
      assert.ok(r.probe && r.probe.got && r.probe.got.width === 640, `the probe ran on it: ${JSON.stringify(r.probe)}`);
      assert.equal(r.shown, false, 'no preview asked: the page shows the stream itself');
    });
    await t.test('default options and a preview: the early stream shown, playing, before the probe', async () => {
      const r = await run('__camera__.html', 'video');
      assert.equal(r.same, true, JSON.stringify(r));
      assert.equal(r.calls, 1, 'one getUserMedia of the package');
      assert.equal(r.shown, true, 'the preview shows the stream');
      assert.equal(r.shownAtProbe, true, 'shown, muted and playing when the probe ran');
      assert.ok(r.width > 0, `the video plays: ${r.width}`);
    });
    await t.test('other options: the early stream stopped, a stream of their own', async () => {
      const r = await run('__camera__.html', 'other');
      assert.equal(r.same, false, JSON.stringify(r));
      assert.equal(r.calls, 2, 'the early call and its own');
      assert.deepEqual(r.earlyStates, ['ended']);
      assert.deepEqual(r.states, ['live']);
    });
    await t.test('not taken: stopped after the attribute\'s milliseconds', async () => {
      const r = await run('__expire__.html', 'expire');
      assert.equal(r.expired, true);
      assert.deepEqual(r.states, ['ended']);
    });
  });
});

for (const name of ['firefox', 'webkit']) {
  const why = skip || eng.engineSkip(name);
  test(`in ${name}: the worker started with the page is taken over`, { skip: why ? `SKIP: ${why}` : false, timeout: 300000 }, async (t) => {
    const dir = lib.tempDir();
    const links = JSON.parse(fs.readFileSync(path.join(lib.WEB, 'v/index.json'), 'utf8'));
    const web = path.join(dir, 'web');
    fs.cpSync(lib.WEB, web, { recursive: true });
    fs.writeFileSync(path.join(web, '__prestart__.js'), SCRIPT);
    const server = await lib.startServer(dir, [], { staticDir: web });
    const html = `<!doctype html><html lang="en"><title>prestart</title>${links.head}<script type="module" src="/__prestart__.js"></script></html>`;
    // not isolated: one thread whatever cores the engine reports (an isolated page on 4 cores
    // would default to the threaded build, which is never prestarted)
    const proxy = await eng.startProxy(server.url, { dir, isolated: false, pages: { '/__test__/prestart.html': html } });
    const browser = await eng.launchEngine(name);
    try {
      for (const [label, opts, lazy] of [['cold, lazy', { lazy: true, threads: 1 }, true], ['warm, lazy', { lazy: true, threads: 1 }, true], ['not lazy', { threads: 1 }, false]]) {
        await t.test(label, async () => {
          const p = await browser.newPage({ width: 800, height: 600 });
          try {
            await p.goto(`${proxy.url}/__test__/prestart.html?base=/${links.base}&opts=${encodeURIComponent(JSON.stringify(opts))}`);
            await p.waitFor(() => window.result !== undefined, null, 60000);
            const r = await p.evaluate(() => window.result);
            assert.ok(!r.error, r.error);
            assert.equal(r.worker.prestarted, true, JSON.stringify(r));
            assert.equal(r.first.prestarted, true, JSON.stringify(r));
            assert.equal(r.first.complete, !lazy);
            assert.ok(r.full.complete && r.full.pad && ['worker', 'page'].includes(r.full.jpeg), JSON.stringify(r.full));
          } finally {
            await p.close();
          }
        });
      }
    } finally {
      await browser.close();
      await proxy.stop();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
