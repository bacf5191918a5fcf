// bench-web-throttled.mjs - issue 14 item 6: @veriface/web on a slow device and a slow network,
// through the DevTools protocol in headless Chromium against the real server (tools/bench-web
// --throttled runs it): 4x CPU throttling (Emulation.setCPUThrottlingRate, on the page and on each
// of its workers) and 10 Mbit/s down and up with 100 ms RTT (Network.emulateNetworkConditions, on
// the page and on each worker, which fetch the wasm and models themselves). Reports, cold (a new
// browser profile: empty HTTP cache, Cache API and code caches) and warm (the same page loaded
// again in that profile; BENCH_PROFILE below):
//   - time to first guidance: navigation start -> the first onGuidance of a capture started at
//     once (Veriface.create({ lazy: true }) then capture())
//   - time to a signed package: navigation start -> capture() resolved (the package signed)
//   - bytes downloaded: over the wire, by the page and its workers (resource timing's
//     transferSize: a file the HTTP cache holds counts 0, a 304 its headers), and per component
//     (each model, wasm, JS, the rest) raw (decodedBodySize) and on the wire (gzip-encoded when
//     the server has the file's .gz: tools/web-gzip.mjs)
//   - when each stage ended (the page's and the worker's info.timing, the capture's result.timing)
// The page is a static file of the server (not page.route: routing turns the HTTP cache off).
// and, throttled and not, the frames analysed per second on a camera that never completes (a head
// turned away: detection, mesh and quality on every frame), over BENCH_LOOP_MS.
// Targets (issue 14): first guidance <= 3 s cold, <= 1 s warm, >= 10 frames/s throttled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as lib from '../tests/browser/lib.mjs';

const LOOP_MS = Number(process.env.BENCH_LOOP_MS || 8000);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const CPU = 4, NET = { offline: false, latency: 100, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 };
const why = lib.skipReason();
if (why) { console.error(`bench-web: ${why}`); process.exit(2); }

/** The head turned away (turn_head on every frame: never a good frame, the whole pipeline runs). */
function turnedY4m(dir) {
  const out = path.join(dir, 'turned.y4m');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', lib.VIDEO, '-vf',
    'trim=start=2.55:end=3.0,setpts=PTS-STARTPTS,fps=30,scale=640:480,setsar=1,noise=alls=2:allf=t,format=yuv420p',
    '-f', 'yuv4mpegpipe', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

// The page names what it needs early (web/README.md "A fast start"; tools/build-web's v/index.json,
// its head as the demo and the managed page get it): the package's modules (the page's and the
// worker's: fetched side by side with the page's script instead of one import level after another)
// and the worker's first fetches (roles.json, detector, mesh: downloading while the page and the
// worker start, when the Cache API lacks a model: src/preload.js), all from the package's versioned
// directory /v/<hash>/ (immutable: a warm visit asks nothing before the worker runs).
// BENCH_PLAIN=1: the page as before v/index.json (/pkg/, revalidated; the page's modules only).
const LINKS = JSON.parse(fs.readFileSync(path.join(lib.WEB, 'v/index.json'), 'utf8'));
const PLAIN = !!process.env.BENCH_PLAIN;
const BASE = PLAIN ? '/pkg/' : `/${LINKS.base}`;
const MODULES = PLAIN ? LINKS.modules.filter((m) => !/worker|models/.test(m)) : LINKS.modules;
// BENCH_STATIC_PRELOAD=1: the models preloaded by static links on every visit (before src/preload.js)
const STATIC = !!process.env.BENCH_STATIC_PRELOAD;
// The page opens its camera as it loads: src/preload.js asks for it (data-veriface-camera) while
// the modules load, and the page's openCamera() takes that stream. BENCH_NO_EARLY_CAMERA=1: the
// page's openCamera() asks for it when the page's module runs.
let HEAD = process.env.BENCH_NO_EARLY_CAMERA ? LINKS.head : LINKS.head.replace(' data-veriface-fetch=', ' data-veriface-camera data-veriface-fetch=');
// BENCH_NO_PRESTART=1: src/preload.js without data-veriface-worker (create() starts the worker)
if (process.env.BENCH_NO_PRESTART) HEAD = HEAD.replace(' data-veriface-worker', '');
// The preview <video> is in the page's HTML, as on a capture page (laid out with the page's first
// frame, before the modules run); BENCH_SCRIPT_VIDEO=1: created by the page's module instead (the
// bench page before; its first layout, ~0.14 s of the 4x slowed main thread with the video's
// styles, then fell in the camera's start).
const SCRIPT_VIDEO = !!process.env.BENCH_SCRIPT_VIDEO;
const BODY = SCRIPT_VIDEO ? '<body></body></html>' : '<body><video id="preview" muted playsinline autoplay></video></body></html>';
const PREVIEW = SCRIPT_VIDEO
  ? "Object.assign(document.body.appendChild(document.createElement('video')), { muted: true, playsInline: true, autoplay: true })"
  : "document.getElementById('preview')";
const PAGE = '<!doctype html><html lang="en"><title>bench</title>' +
  (PLAIN || STATIC ? MODULES.map((m) => `<link rel="modulepreload" href="${BASE}${m}">`).join('') : HEAD) +
  (STATIC ? LINKS.fetches.map((f) => `<link rel="preload" href="${BASE}${f}" as="fetch" crossorigin>`).join('') : '') +
  '<script type="module" src="/__bench__.js"></script>' + BODY;
/** The page: start at once, as an integrator's capture page does. */
const SCRIPT = `
const q = new URLSearchParams(location.search), loopMs = Number(q.get('loop') || 0);
const out = window.bench = { marks: {} };
const mark = (k) => { if (out.marks[k] === undefined) out.marks[k] = performance.now(); };
(async () => {
  const vf = await import('${BASE}src/index.js');
  mark('module');
  // side by side, as a capture page should (web/README.md "A fast start"): the engine, the
  // server's session and the camera
  // the camera shown as it opens (the preview a capture page has): playing when the capture starts
  const video = ${PREVIEW};
  // the preview's start: given the stream, its first frame loaded, playing
  for (const [ev, k] of [['loadstart', 'preview_stream'], ['loadeddata', 'preview_frame'], ['playing', 'preview_playing']]) video.addEventListener(ev, () => mark(k), { once: true });
  // (openCamera({ video }) starts it as soon as the stream opens, while the track is probed;
  // BENCH_LATE_PREVIEW=1: the preview given the stream once openCamera() resolves, as before)
  const camIn = (${!!process.env.BENCH_LATE_PREVIEW} ? vf.openCamera({}).then((c) => { video.srcObject = c.stream; video.play().catch(() => {}); return c; })
    : vf.openCamera({ video })).then((c) => { mark('camera_ready'); return c; });
  camIn.catch(() => {});
  const sessionIn = vf.createSessionKey().then(async (key) => ({ key, session: await vf.createDemoSession(location.origin, key.publicKeySpki, {}) }));
  sessionIn.then(() => mark('session_ready'), () => {});
  sessionIn.catch(() => {});
  const inst = await vf.Veriface.create({ lazy: true });
  mark('created');
  out.build = inst.info.build; out.threads = inst.info.threads;
  const { key, session } = await sessionIn;
  mark('session');
  const cam = await camIn;
  mark('camera_open');
  const ac = new AbortController();
  let frames = 0, workerMs = 0, f0 = 0, fl = 0;
  try {
    const r = await inst.capture({ session, key, video, stream: cam.stream, cameraInfo: cam.info, signal: ac.signal, timeoutMs: loopMs ? loopMs + 30000 : 120000,
      onGuidance: () => mark('guidance'),
      onFrame: (s, info) => {
        const t = performance.now();
        if (!f0) { f0 = t; out.firstFrameMs = info.ms; if (loopMs) setTimeout(() => ac.abort(), loopMs); } else { frames++; workerMs += info.ms; fl = t; }
      } });
    mark('signed');
    out.bodyBytes = r.body.length;
    out.stages = { ...(await inst.ready).timing, ...r.timing };
  } catch (e) { if (e.code !== 'aborted') out.error = (e.code || '') + ' ' + e.message; }
  out.fps = fl > f0 ? frames / ((fl - f0) / 1000) : null;
  out.workerMs = frames ? workerMs / frames : null;
  // when src/preload.js started the worker (data-veriface-worker), and the page's first paint-free milestones
  for (const m of performance.getEntriesByName('veriface:prestart')) out.marks.page_prestart = m.startTime;
  for (const m of performance.getEntriesByName('veriface:camera_open')) out.marks.early_camera_open = m.startTime;
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav) { out.marks.nav_response = nav.responseEnd; out.marks.nav_interactive = nav.domInteractive; }
  out.resources = performance.getEntriesByType('resource').map((e) => [e.name.replace(location.origin, ''), Math.round(e.startTime), Math.round(e.responseEnd)]);
  // closed once the bench has read the worker's resource timing
  window.benchClose = () => { inst.close(); vf.stopStream(cam.stream); };
  out.done = true;
})().catch((e) => { out.error = String(e.code || '') + ' ' + e.message; out.done = true; });
`;

// BENCH_FLOOR=1: the floor of this harness instead of the package. A page that does only what any
// browser-side capture must before its first guidance, with no engine: a classic script in the
// head starts an empty module worker, the page's module opens the camera into a <video>, and its
// first frame (a VideoFrame, transferred) goes to the worker and back; 'guidance' marks the
// answer's arrival on the page.
const FLOOR = !!process.env.BENCH_FLOOR;
const FLOOR_PAGE = '<!doctype html><html lang="en"><title>floor</title><script async src="/__floor_pre__.js"></script>' +
  '<script type="module" src="/__floor__.js"></script>' + BODY;
const FLOOR_PRE = `self.floorWorker = new Worker('/__floor_worker__.js', { type: 'module' }); performance.mark('veriface:prestart');`;
const FLOOR_WORKER = `onmessage = (e) => { const f = e.data.frame; const w = f.displayWidth; f.close(); postMessage({ w }); };`;
const FLOOR_SCRIPT = `
const out = window.bench = { marks: {} };
const mark = (k) => { if (out.marks[k] === undefined) out.marks[k] = performance.now(); };
(async () => {
  mark('module');
  const video = ${PREVIEW};
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  mark('camera_open');
  video.srcObject = stream; video.play().catch(() => {});
  await new Promise((resolve) => video.requestVideoFrameCallback(resolve));
  mark('first_frame');
  const frame = new VideoFrame(video);
  const w = self.floorWorker;
  const answer = new Promise((resolve) => { w.onmessage = resolve; });
  w.postMessage({ frame }, [frame]);
  await answer;
  mark('guidance');
  for (const m of performance.getEntriesByName('veriface:prestart')) out.marks.page_prestart = m.startTime;
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav) { out.marks.nav_response = nav.responseEnd; out.marks.nav_interactive = nav.domInteractive; }
  window.benchClose = () => { w.terminate(); stream.getTracks().forEach((t) => t.stop()); };
  out.done = true;
})().catch((e) => { out.error = e.message; out.done = true; });
`;

/**
 * One page load in `ctx` (a new context when null): the page and each worker it starts (each its
 * own DevTools target, auto-attached and held until throttled) get the CPU and network
 * conditions.
 */
async function oneLoad(browser, url, { cpu, net, loop = 0, ctx = null, trace = null }) {
  ctx = ctx || await browser.newContext();
  const page = await ctx.newPage();
  // no page.route here: routing turns the browser's HTTP cache off (the page is a static file)
  const tally = { bytes: 0, responses: 0, workers: 0, workerCalls: [], pkg: [] };
  const cdp = await ctx.newCDPSession(page);
  const setUp = async (send) => {
    await send('Network.enable');
    if (net) await send('Network.emulateNetworkConditions', NET);
    if (cpu) await send('Emulation.setCPUThrottlingRate', { rate: CPU });
  };
  // responses of the page and its workers (a 304 or a cached file included); the bytes are read
  // from resource timing below
  page.on('response', (res) => {
    const u = new URL(res.url());
    if (u.origin !== url) return;
    if (u.pathname.startsWith('/pkg/')) tally.pkg.push(`${res.status()} ${u.pathname}`);
    tally.responses++;
  });
  // workers through the page's session (non-flat: their messages come wrapped)
  let id = 1;
  cdp.on('Target.attachedToTarget', async ({ sessionId, targetInfo }) => {
    tally.workers++;
    const send = (method, params = {}) => cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: id++, method, params }) });
    await setUp(send).catch((e) => tally.workerCalls.push(String(e.message || e)));
    await send('Runtime.runIfWaitingForDebugger').catch(() => {});
  });
  cdp.on('Target.receivedMessageFromTarget', ({ message }) => {
    const m = JSON.parse(message);
    if (m.error) tally.workerCalls.push(m.error.message);
  });
  await setUp((method, params) => cdp.send(method, params));
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  // BENCH_TRACE=FILE: a Chrome trace of the first warm load (chrome://tracing, Perfetto)
  if (trace) await cdp.send('Tracing.start', { categories: TRACE_CATEGORIES.join(','), transferMode: 'ReturnAsStream' });
  await page.goto(`${url}/${FLOOR ? '__floor__' : '__bench__'}.html?loop=${loop}`, { waitUntil: 'commit' });
  // polled through the DevTools protocol, not page.waitForFunction: that evaluates Playwright's
  // injected script (~330 KB) in the page, ~0.3 s of a 4x slowed main thread in the middle of
  // the start measured here (seen in BENCH_TRACE); a user's browser has no such script
  for (const t0 = Date.now(); ;) {
    const done = await cdp.send('Runtime.evaluate', { expression: '!!(window.bench && window.bench.done)', returnByValue: true })
      .then(({ result }) => result.value === true, () => false);   // between documents: not yet
    if (done) break;
    if (Date.now() - t0 > 300000) throw new Error('bench page: no result in 300 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (trace) {
    const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    const { stream } = await done;
    const parts = [];
    for (let eof = false; !eof;) { const c = await cdp.send('IO.read', { handle: stream }); parts.push(c.base64Encoded ? Buffer.from(c.data, 'base64') : Buffer.from(c.data)); eof = c.eof; }
    await cdp.send('IO.close', { handle: stream });
    fs.writeFileSync(trace, Buffer.concat(parts));
  }
  const r = JSON.parse((await cdp.send('Runtime.evaluate', { expression: 'JSON.stringify(window.bench)', returnByValue: true })).result.value);
  // bytes over the wire (headers and body; 0 for a file from the HTTP cache, headers only for a
  // 304): resource timing's transferSize in the page (with its navigation) and in each worker
  const entries = () => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
    .map((e) => ({ name: e.name, wire: e.transferSize || 0, raw: e.decodedBodySize || 0 }));
  const all = [...await page.evaluate(entries)];
  for (const w of page.workers()) all.push(...await w.evaluate(entries).catch(() => []));
  tally.bytes = all.reduce((a, e) => a + e.wire, 0);
  const components = {};
  const byUrl = new Map();   // a preload and the worker's fetch of it: two entries, one download
  for (const e of all) { const b = byUrl.get(e.name); byUrl.set(e.name, b ? { ...e, raw: Math.max(b.raw, e.raw), wire: b.wire + e.wire } : e); }
  for (const e of byUrl.values()) {
    const p = new URL(e.name).pathname;
    const k = /\.vfm$/.test(p) ? p.split('/').pop() : /\.wasm$/.test(p) ? 'wasm' : /\.m?js$/.test(p) ? 'js' : 'other';
    const c = components[k] = components[k] || { raw: 0, wire: 0, files: 0 };
    c.raw += e.raw; c.wire += e.wire; c.files++;
  }
  await page.evaluate(() => window.benchClose && window.benchClose());
  await page.close();
  return { ...r, bytes: tally.bytes, components, responses: tally.responses, pkg: tally.pkg, workers: tally.workers, cdpErrors: [...new Set(tally.workerCalls)], ctx };
}

// The profile a visit runs in: each cold visit in a new profile directory (empty), its warm visit
// in the same profile, as a returning user's browser. BENCH_PROFILE=incognito: a new browser
// context instead (Playwright's newContext(), as before 2026-12-05: an off-the-record profile,
// its HTTP cache and Cache API in memory). Warm first guidance is ~0.5 s slower there, measured
// side by side (1.6 against 1.1 s), already before the package runs: the page's first script at
// 0.67 against ~0.5 s. Neither profile's warm visit read a V8 code cache (BENCH_TRACE: the JS cache
// is written on the second visit, the wasm is compiled again each time; a third visit was no
// faster), so code caches are not the difference.
const PROFILE = process.env.BENCH_PROFILE || 'persistent';
if (!['persistent', 'incognito'].includes(PROFILE)) throw new Error(`BENCH_PROFILE: persistent or incognito, not ${PROFILE}`);
const PERSISTENT = PROFILE === 'persistent';
async function persistentContext(y4m) {
  const { chromium } = lib.loadPlaywright();
  const data = fs.mkdtempSync(path.join(dir, 'profile-'));
  return chromium.launchPersistentContext(data, { executablePath: lib.CHROMIUM, headless: true,
    args: [...lib.CHROMIUM_ARGS, `--use-file-for-fake-video-capture=${y4m}`] });
}

const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm', 'blink', 'loading', 'netlog', 'toplevel', 'disabled-by-default-v8.compile', 'navigation', 'blink.user_timing', 'media', 'webrtc', 'video_and_image_capture', 'disabled-by-default-video_and_image_capture'];
const median = (a) => { const v = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y); return v.length ? v[Math.floor(v.length / 2)] : null; };
const dir = lib.tempDir();
// the package and the bench page, served as static files by the real server
const web = path.join(dir, 'web');
fs.cpSync(lib.WEB, web, { recursive: true, verbatimSymlinks: true });
fs.writeFileSync(path.join(web, '__bench__.html'), PAGE);
fs.writeFileSync(path.join(web, '__bench__.js'), SCRIPT);
fs.writeFileSync(path.join(web, '__floor__.html'), FLOOR_PAGE);
fs.writeFileSync(path.join(web, '__floor__.js'), FLOOR_SCRIPT);
fs.writeFileSync(path.join(web, '__floor_pre__.js'), FLOOR_PRE);
fs.writeFileSync(path.join(web, '__floor_worker__.js'), FLOOR_WORKER);
const server = await lib.startServer(dir, [], { staticDir: web });
const out = { machine: { cpus: os.cpus().length, model: os.cpus()[0] && os.cpus()[0].model }, conditions: { cpu_slowdown: CPU, net_mbit: 10, rtt_ms: 100 }, runs: RUNS, page: PLAIN ? 'plain /pkg/' : BASE };
try {
  // cold and warm: a capture that completes (the fake camera plays a live person)
  const y4m = lib.makeY4m(dir);
  let browser = await lib.launchChromium(y4m);
  out.version = browser.version();
  out.profile = PROFILE;
  const cold = [], warm = [];
  for (let i = 0; i < (process.env.BENCH_FPS_ONLY ? 1 : RUNS); i++) {
    const c = await oneLoad(browser, server.url, { cpu: true, net: true, ctx: PERSISTENT ? await persistentContext(y4m) : null });
    const w = await oneLoad(browser, server.url, { cpu: true, net: true, ctx: c.ctx, trace: i === 0 ? process.env.BENCH_TRACE : null });
    await c.ctx.close();
    for (const x of [c, w]) delete x.ctx;
    cold.push(c); warm.push(w);
  }
  await browser.close();
  const sum = (runs) => ({
    first_guidance_ms: median(runs.map((r) => r.marks.guidance)), signed_ms: median(runs.map((r) => r.marks.signed)),
    created_ms: median(runs.map((r) => r.marks.created)), bytes: median(runs.map((r) => r.bytes)),
    // bytes per component, raw and on the wire (median per component and field)
    components: Object.fromEntries([...new Set(runs.flatMap((r) => Object.keys(r.components)))].map((k) => [k,
      Object.fromEntries(['raw', 'wire', 'files'].map((f) => [f, median(runs.map((r) => r.components[k]?.[f] ?? 0))]))])),
    // when each stage ended (page ms from navigation; median per stage): page and worker (info.timing), capture (result.timing)
    stages: Object.fromEntries([...new Set(runs.flatMap((r) => Object.keys({ ...r.marks, ...r.stages })))]
      .map((k) => [k, median(runs.map((r) => ({ ...r.marks, ...r.stages })[k]))]).sort((a, b) => a[1] - b[1])),
    build: runs[0].build, threads: runs[0].threads, errors: runs.map((r) => r.error).filter(Boolean), all: runs.map((r) => ({ ...r.marks, bytes: r.bytes, responses: r.responses, pkg: r.pkg.length, workers: r.workers, cdpErrors: r.cdpErrors,
      first_frame_worker_ms: r.firstFrameMs, ...(process.env.BENCH_RESOURCES ? { resources: r.resources, files: r.pkg } : {}) })),
  });
  out.cold = sum(cold); out.warm = sum(warm);
  // frames analysed per second, throttled (CPU only: frames do not use the network) and not;
  // the floor page analyses nothing
  if (!FLOOR) {
    browser = await lib.launchChromium(turnedY4m(dir));
    for (const [tag, cpu] of [['throttled', true], ['unthrottled', false]]) {
      const r = await oneLoad(browser, server.url, { cpu, net: false, loop: LOOP_MS });
      await r.ctx.close();
      out[`fps_${tag}`] = { fps: r.fps, worker_ms_per_frame: r.workerMs, build: r.build, threads: r.threads, error: r.error || null };
    }
    await browser.close();
  }
} finally {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
out.machine.load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(JSON.stringify(out, null, 2));
const s = (ms) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`), mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
const ok = (v, good) => (v === null ? '' : good ? ' (target met)' : ' (target missed)');
console.log(`4x CPU, 10 Mbit/s, 100 ms RTT (${out.cold.build}, ${out.cold.threads} thread(s); median of ${RUNS}):`);
console.log(`  first guidance   cold ${s(out.cold.first_guidance_ms)}${ok(out.cold.first_guidance_ms, out.cold.first_guidance_ms <= 3000)}, warm ${s(out.warm.first_guidance_ms)}${ok(out.warm.first_guidance_ms, out.warm.first_guidance_ms <= 1000)}`);
console.log(`  signed package   cold ${s(out.cold.signed_ms)}, warm ${s(out.warm.signed_ms)}`);
console.log(`  downloaded       cold ${mb(out.cold.bytes)}, warm ${mb(out.warm.bytes)}`);
const kb = (b) => `${Math.round(b / 1000)} KB`;
for (const k of ['cold', 'warm']) console.log(`  bytes ${k} (raw -> wire): ${Object.entries(out[k].components).sort((a, b) => b[1].raw - a[1].raw).map(([n, c]) => `${n} ${kb(c.raw)} -> ${kb(c.wire)}`).join(', ')}`);
for (const k of ['cold', 'warm']) console.log(`  stages ${k}: ${Object.entries(out[k].stages).map(([n, t]) => `${n} ${(t / 1000).toFixed(2)}`).join(', ')}`);
const errs = [...new Set([...out.cold.all, ...out.warm.all].flatMap((r) => r.cdpErrors))];
if (errs.length) console.log(`  DevTools on the worker targets: ${errs.join('; ')} (the worker's compute is not slowed)`);
if (!FLOOR) console.log(`  frames analysed  throttled ${out.fps_throttled.fps?.toFixed(1)}/s (${out.fps_throttled.worker_ms_per_frame?.toFixed(0)} ms per frame in the worker)${ok(out.fps_throttled.fps, out.fps_throttled.fps >= 10)}, ` +
  `unthrottled ${out.fps_unthrottled.fps?.toFixed(1)}/s (${out.fps_unthrottled.worker_ms_per_frame?.toFixed(0)} ms)`);
