// bench-web.mjs - the browser budget of @veriface/web, measured in headless chromium against the
// real server (tools/bench-web runs it):
//   1. bytes a page downloads (JS + wasm + models), raw and gzip (zlib level 6, as servers send),
//      per build (threaded when cross-origin isolated, single-threaded otherwise, and `base`: no SIMD)
//   2. Veriface.create() -> ready, median of N page loads per build
//   3. cold and warm visits in one browser profile: the files requested (bytes per file, raw and
//      gzip) and what the worker downloaded or read from its SHA-256-keyed model cache
//   4. the guidance loop: frames analysed per second on a 30 fps fake camera that never completes
//      (a dark frame: guidance too_dark), over a fixed time, plus the worker's ms per frame
// Prints one JSON object and a short table. Needs the server binary (VF_SERVER), build/web and chromium.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as lib from '../tests/browser/lib.mjs';

const LOADS = Number(process.env.BENCH_LOADS || 5);
const LOOP_MS = Number(process.env.BENCH_LOOP_MS || 8000);
const why = lib.skipReason();
if (why) { console.error(`bench-web: ${why}`); process.exit(2); }

function darkY4m(dir) {
  const out = path.join(dir, 'dark30.y4m');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-t', '2', '-i', path.join(lib.FRAMES, 'real2_t00.50.jpg'),
    '-vf', 'scale=640:480,fps=30,noise=alls=2:allf=t,format=yuv420p', '-f', 'yuv4mpegpipe', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

async function pageRun([loopMs, threads, lazy, build]) {
  const vf = await import('/pkg/src/index.js');
  const t0 = performance.now();
  const inst = await vf.Veriface.create({ threads, lazy, build: build || undefined });
  const ready = performance.now() - t0;
  await inst.ready;
  const full = performance.now() - t0;
  let frames = 0, workerMs = 0, t1 = 0;
  if (loopMs > 0) {
    const key = await vf.createSessionKey();
    const session = await vf.createDemoSession(location.origin, key.publicKeySpki, {});
    const ac = new AbortController();
    try {
      await inst.capture({ session, key, signal: ac.signal, timeoutMs: loopMs + 5000,
        onFrame: (s, info) => { if (!t1) { t1 = performance.now(); setTimeout(() => ac.abort(), loopMs); } else { frames++; workerMs += info.ms; } } });
    } catch (e) { if (e.code !== 'aborted') throw e; }
  }
  const seconds = t1 ? (performance.now() - t1) / 1000 : 0;
  inst.close();
  return { ready, full, build: inst.info.build, threads: inst.info.threads, fps: seconds ? frames / seconds : null, workerMs: frames ? workerMs / frames : null, frames };
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const dir = lib.tempDir();
const server = await lib.startServer(dir);
const browser = await lib.launchChromium(darkY4m(dir));
const results = {};
try {
  // isolated at 2 threads (the threaded build), isolated with 'auto', and not isolated (single-threaded build)
  // and a lazy start (create() resolves on the detector + mesh: the time to first guidance), and
  // the build without SIMD (what an engine without SIMD128 runs)
  for (const [tag, isolated, threads, lazy, build] of [['isolated_2t', true, 2, false], ['isolated_auto', true, 'auto', false],
    ['not_isolated', false, 'auto', false], ['lazy_auto', true, 'auto', true], ['base', false, 1, false, 'base']]) {
    const ready = [], full = [];
    let downloads = null, loop = null;
    for (let i = 0; i <= LOADS; i++) {
      const page = await browser.newPage();
      const urls = new Set();
      page.on('response', (r) => { if (r.url().startsWith(server.url)) urls.add(new URL(r.url()).pathname); });
      await lib.routeTestPage(page, server.url, { isolated });
      await page.goto(`${server.url}/__test__.html`);
      const r = await page.evaluate(pageRun, [i === LOADS ? LOOP_MS : 0, threads, lazy, build || null]);
      if (i === LOADS) loop = r; else { ready.push(r.ready); full.push(r.full); }
      if (!downloads) downloads = [...urls].filter((u) => u.startsWith('/pkg/'));
      results[tag] = { build: r.build, threads: r.threads };
      await page.close();
    }
    let raw = 0, gz = 0;
    const files = {};
    for (const u of downloads) {
      const f = path.join(lib.WEB, decodeURIComponent(u));
      const b = fs.readFileSync(f);
      const g = zlib.gzipSync(b, { level: 6 }).length;
      raw += b.length; gz += g;
      const kind = u.endsWith('.vfm') ? 'models' : u.endsWith('.wasm') ? 'wasm' : 'js';
      files[kind] = files[kind] || { raw: 0, gzip: 0, files: 0 };
      files[kind].raw += b.length; files[kind].gzip += g; files[kind].files++;
    }
    Object.assign(results[tag], {
      download: { raw, gzip: gz, by_kind: files }, ready_ms: { median: median(ready), all: ready.map(Math.round) },
      full_ms: { median: median(full), all: full.map(Math.round) },
      guidance_fps: loop.fps, worker_ms_per_frame: loop.workerMs, loop_frames: loop.frames,
    });
  }
  // cold and warm: two visits in one profile (the models come from the Cache API the second time)
  const ctx = await browser.newContext();
  results.cache = {};
  for (const visit of ['cold', 'warm']) {
    const page = await ctx.newPage();
    const urls = new Set();
    page.on('request', (q) => { const u = new URL(q.url()); if (u.origin === server.url && u.pathname.startsWith('/pkg/')) urls.add(u.pathname); });
    await lib.routeTestPage(page, server.url, { isolated: true });
    await page.goto(`${server.url}/__test__.html`);
    const info = await page.evaluate(async () => {
      const vf = await import('/pkg/src/index.js');
      const inst = await vf.Veriface.create({ threads: 'auto' });
      const i = { downloaded: inst.info.downloaded, cached: inst.info.cached };
      inst.close();
      return i;
    });
    const requested = {};
    let gzip = 0;
    for (const u of [...urls].sort()) {
      const b = fs.readFileSync(path.join(lib.WEB, decodeURIComponent(u)));
      requested[u.slice('/pkg/'.length)] = { raw: b.length, gzip: zlib.gzipSync(b, { level: 6 }).length };
      gzip += requested[u.slice('/pkg/'.length)].gzip;
    }
    results.cache[visit] = { worker_downloaded: info.downloaded, worker_cached: info.cached, requested, requested_gzip: gzip };
    await page.close();
  }
  await ctx.close();
} finally {
  await browser.close();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
const machine = { cpus: os.cpus().length, model: os.cpus()[0] && os.cpus()[0].model, load: os.loadavg().map((x) => x.toFixed(2)).join(' '), chromium: browser.version() };
console.log(JSON.stringify({ machine, loads: LOADS, loop_ms: LOOP_MS, results }, null, 2));
const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
for (const [tag, r] of Object.entries(results)) {
  if (tag === 'cache') continue;
  const k = r.download.by_kind;
  console.log(`${tag.padEnd(14)} ${r.build.padEnd(8)} ${r.threads}t  download ${kb(r.download.raw)} raw / ${kb(r.download.gzip)} gzip ` +
    `(js ${kb(k.js.gzip)}, wasm ${kb(k.wasm.gzip)}, models ${kb(k.models.gzip)} gzip)  create->ready ${r.ready_ms.median.toFixed(0)} ms ` +
    `(all models ${r.full_ms.median.toFixed(0)} ms)  ` +
    `guidance ${r.guidance_fps.toFixed(1)} fps (${r.worker_ms_per_frame.toFixed(1)} ms/frame in the worker)`);
}
for (const [visit, c] of Object.entries(results.cache)) {
  console.log(`${visit.padEnd(5)} requested ${kb(c.requested_gzip)} gzip: ` +
    Object.entries(c.requested).map(([f, b]) => `${f} ${kb(b.gzip)}`).join(', ') +
    `; the worker downloaded ${kb(c.worker_downloaded)}, read ${kb(c.worker_cached)} of models from its cache`);
}
