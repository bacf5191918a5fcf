// worker.js - the package's Web Worker (a module worker; worker-classic.js, built from it, where
// the engine has none): loads the wasm build and the models, runs the C
// session on the frames the page transfers (ImageBitmap or VideoFrame), and encodes the kept
// frames as JPEG with their SHA-256; during an active challenge (docs/CHALLENGE.md) it measures
// each challenge frame's pose (vf_motion) and keeps it as a JPEG. Protocol: requests { id, type, ... } -> { id, ok, value } or
// { id, ok: false, error: { code, message } }; events { event: 'progress', ... } without an id.
import { Engine, Motion, checkRoles } from './engine.js';
import { VerifaceError } from './errors.js';
import { sha256Hex, toBase64 } from './bytes.js';
import { detectFeatures, canEncodeJpeg, planBuilds, defaultThreads, BUILD_FILES } from './features.js';
import { MODEL_CACHE, modelCacheKey, modelUrl as roleUrl, rolesUrl } from './models.js';
import { WORKER_KIND, loadFactory } from './factory.js';

let M = null, engine = null, guide = null, build = '', fullReady = null, fullError = null, startFull = null, fullTimer = null, heldFull = null;   // guide: detector + mesh only, while the rest loads (lazy)
let path = null;   // the build and path chosen (info.path): where frames become pixels and JPEGs
const sessions = new Map();   // sid -> { session, statuses: Map(index -> status JSON), config }
let nextSid = 1;
const motions = new Map();    // mid -> { motion, frames: [Promise of a package frame], side, quality }
let nextMid = 1;
let canvas = null, ctx2d = null;
// when each loading stage ended (epoch ms, performance.timeOrigin-based: the page subtracts its
// own timeOrigin): info.timing, where a slow start shows which stage it spent its time in
const timing = {};
const mark = (k) => { if (timing[k] === undefined) timing[k] = performance.timeOrigin + performance.now(); };
mark('worker');

const post = (msg, transfer) => self.postMessage(msg, transfer || []);

/** A 2xx response, or a 'network' error (optional: a 404 gives null). */
async function fetchOk(url, { optional = false, reload = false } = {}) {
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin', ...(reload ? { cache: 'reload' } : {}) });
  } catch (e) {
    throw new VerifaceError('network', `cannot fetch ${url}: ${e.message}`);
  }
  if (res.ok) return res;
  if (optional && res.status === 404) return null;
  throw new VerifaceError('network', `${url}: HTTP ${res.status}`);
}

async function fetchJson(url) {
  const res = await fetchOk(url);
  try {
    return await res.json();
  } catch (e) {
    throw new VerifaceError('model', `${url}: not JSON: ${e.message}`);
  }
}

/** fetch with byte progress (decoded bytes); a 404 of an optional asset gives null. A gzip-encoded
 *  answer's Content-Length counts the encoded bytes: the total is then `size` (roles.json), or
 *  grows with what arrives. */
async function fetchBytes(url, { optional = false, onBytes, reload = false, size = 0 }) {
  const res = await fetchOk(url, { optional, reload });
  if (!res) return null;
  // size first: a cross-origin answer hides Content-Encoding from the page unless exposed
  const total = size || (res.headers.get('content-encoding') ? 0 : Number(res.headers.get('content-length')) || 0);
  onBytes(0, total);
  if (!res.body || !res.body.getReader) {
    const b = new Uint8Array(await res.arrayBuffer());
    onBytes(b.length, total ? 0 : b.length);
    return b;
  }
  const reader = res.body.getReader(), parts = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    n += value.length;
    onBytes(value.length, total ? 0 : value.length);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** A model by its SHA-256 (roles.json): from the Cache API when a visit stored it (the bytes are
 *  hashed again: a damaged entry is dropped and fetched), else downloaded, checked against the
 *  hash (a mismatch is an error: the server would refuse that model) and stored under the hash.
 *  Without a hash or the Cache API (not a secure context) it is a plain download. */
async function fetchModel(url, sha256, { optional, onBytes, onCached, size }) {
  let cache = null;
  const key = sha256 ? modelCacheKey(self.location.origin, sha256) : null;
  try { if (key && self.caches) cache = await self.caches.open(MODEL_CACHE); } catch { cache = null; }
  if (cache) {
    try {
      const hit = await cache.match(key);
      if (hit) {
        const b = new Uint8Array(await hit.arrayBuffer());
        if ((await sha256Hex(b)) === sha256) { onCached(b.length); return b; }
        await cache.delete(key);
      }
    } catch { /* a broken cache is a miss */ }
  }
  let b = await fetchBytes(url, { optional, onBytes, size });
  if (b && sha256) {
    let got = await sha256Hex(b);
    // the browser may keep a model for good (its URL names the hash): a wrong copy there (a deploy
    // that served the old file under the new name) is fetched past the HTTP cache once
    if (got !== sha256) {
      b = await fetchBytes(url, { optional, onBytes, reload: true, size });
      got = b ? await sha256Hex(b) : got;
    }
    if (got !== sha256) throw new VerifaceError('model', `${url}: sha256 ${got}, models/roles.json says ${sha256}`);
    // stored in the background: the engine does not wait for the disk
    if (cache) cache.put(key, new Response(b, { headers: { 'content-type': 'application/octet-stream' } })).catch(() => {});
  }
  return b;
}

function engineInfo(e, t0, loaded, pad, cached) {
  return { build, threads: e.threads, engine: e.version, models: e.models, downloaded: loaded, cached, pad, complete: e === engine,
    ms: performance.now() - t0, path, timing: { ...timing } };
}

/**
 * Start loading one build: its module script imported and its wasm compiled while it downloads
 * (WebAssembly.compileStreaming: the browser may keep the compiled code with the cached file, so a
 * second visit skips the compile). { factory, module } promises; a missing file is a 'network'
 * error (the site's mistake), a module this engine cannot compile is the build's failure.
 */
function startBuild(b, wasmBase, onBytes) {
  const name = BUILD_FILES[b];
  const factory = loadFactory(name, wasmBase).catch((e) => {
    throw new VerifaceError('network', `cannot load ${name}${WORKER_KIND === 'module' ? '.mjs' : '.js'} from ${wasmBase}: ${e.message}`);
  });
  const module = (async () => {
    const url = new URL(`${name}.wasm`, wasmBase).href;
    const res = await fetchOk(url);
    const n = Number(res.headers.get('content-length')) || 0;
    onBytes(0, n);
    let mod;
    try {
      mod = typeof WebAssembly.compileStreaming === 'function' && /^application\/wasm/.test(res.headers.get('content-type') || '')
        ? await WebAssembly.compileStreaming(res) : await WebAssembly.compile(await res.arrayBuffer());
    } catch (e) {
      if (!(e instanceof WebAssembly.CompileError)) throw new VerifaceError('network', `${url}: ${e.message}`);
      throw Object.assign(new Error(`does not compile: ${e.message}`), { build: true });
    }
    onBytes(n, 0);
    mark('compiled');
    return mod;
  })();
  factory.catch(() => {});
  module.catch(() => {});
  return { factory, module };
}

/**
 * Instantiate the first build of `order` that this engine runs (a build whose module fails to
 * compile or start, e.g. threads without shared memory, gives way to the next); `first` is the
 * first build, already started. Returns { M, build }; the builds passed over go into `tried`.
 */
async function loadBuild(order, wasmBase, first, onBytes, onCompile, tried) {
  for (const b of order) {
    const name = BUILD_FILES[b];
    const started = b === order[0] ? first : startBuild(b, wasmBase, onBytes);
    let factory, module;
    try {
      factory = await started.factory;
      module = await started.module;
    } catch (e) {
      if (e && e.build) { tried.push({ build: b, reason: e.message }); continue; }
      throw VerifaceError.from(e, 'network');   // a missing file is the site's mistake, not this engine's
    }
    onCompile(b);
    try {
      // the compiled module instantiated here (emscripten's hook): its pthreads get the same module
      let failed;
      const failure = new Promise((_, reject) => { failed = reject; });
      const mod = await Promise.race([failure, factory({
        instantiateWasm: (imports, receive) => {
          WebAssembly.instantiate(module, imports).then((inst) => receive(inst, module), failed);
          return {};
        },
        locateFile: (p) => new URL(p, wasmBase).href, mainScriptUrlOrBlob: new URL(`${name}.mjs`, wasmBase).href })]);
      return { M: mod, build: b };
    } catch (e) {
      tried.push({ build: b, reason: `failed to start: ${(e && e.message) || e}` });
    }
  }
  throw new VerifaceError('unsupported', `no wasm build runs in this browser (${tried.map((t) => `${t.build}: ${t.reason}`).join('; ')})`);
}

/**
 * A start before the page asks: src/preload.js, in the page's head, makes this worker (named
 * PRESTART) while the page's own modules still load, and it runs init() at once with what
 * Veriface.create({ lazy: true }) sends by default, from the package it was loaded from (../ of
 * this file): on a warm visit the guidance engine is built and warmed from the Cache API before
 * the page's init arrives. Not on a message from the page: one posted before the worker ran
 * waits for the page's main thread (~0.25 s when it is 4x slowed), and so does the page's init.
 * The page's init with the same options takes this run; with others, it waits for this run to
 * settle, drops its engines and starts its own. Nothing is posted before the page listens:
 * progress events are lost, and the lazy full engine's event is posted again (adopt()).
 * Not with the threaded build: its pthreads would outlive a dropped run.
 */
const PRESTART = 'veriface:prestart';
let early = null;   // { opts, run }
let fullPosted = null;   // the lazy full engine's event, once posted

/** What veriface.js create({ lazy: true }) sends with default options (threads 'auto'). */
const pageDefaults = (baseUrl) => ({ baseUrl, threads: defaultThreads(self), models: {}, lazy: true, build: null, offscreen: true });
const sameOpts = (a, b) => a.baseUrl === b.baseUrl && a.threads === b.threads && a.lazy === b.lazy && (a.build || null) === (b.build || null) &&
  (a.offscreen !== false) === (b.offscreen !== false) && JSON.stringify(a.models || {}) === JSON.stringify(b.models || {});

function prestart(baseUrl) {
  const opts = pageDefaults(baseUrl);
  const features = { ...detectFeatures(self), moduleWorker: WORKER_KIND === 'module' };
  const first = planBuilds(features, opts.threads, null).order[0];
  if (first !== 'simd' && first !== 'base') return;
  mark('prestart');
  const run = init(opts, true);
  run.catch(() => {});
  early = { opts, run };
}

/** The page's init: the prestarted run when it asked the same, else a run of its own. */
async function adopt(opts) {
  const e = early;
  early = null;
  if (e && sameOpts(e.opts, opts)) {
    const info = await e.run;   // info.path is `path`
    if (heldFull) { heldFull(); heldFull = null; }
    path.prestarted = true;
    if (fullPosted) setTimeout(() => post(fullPosted), 0);   // after the answer: the page may have missed it
    return info;
  }
  if (e && opts.lazy !== true && sameOpts(e.opts, { ...opts, lazy: true })) {
    // not lazy (create()'s default): the prestarted run's module and models, and its full engine now
    await e.run;
    heldFull = null;
    const info = await startFull();   // its ms count from the prestart; info.path is `path`
    warmUp(engine);
    path.prestarted = true;
    return { ...info, timing: { ...timing } };
  }
  if (e) {
    await e.run.catch(() => {});
    clearTimeout(fullTimer);
    heldFull = null;
    if (fullReady) await fullReady.catch(() => {});
    if (engine) engine.close();
    if (guide) guide.close();
    M = engine = guide = null;
    build = '';
    fullReady = fullError = startFull = fullPosted = null;
  }
  return init(opts);
}

/**
 * Load the wasm and the models. Everything that needs nothing else starts at once, side by side:
 * models/roles.json and the first build's script and wasm (compiled as it streams); the JPEG
 * check waits for the full engine (checkJpeg).
 * lazy: answer as soon as the detector and mesh are in (a guidance engine: quality feedback
 * starts while PAD and the embedder download), and build the full engine only once the first
 * frame was answered (its models take the worker a second or more: not before the first
 * guidance) or FULL_AFTER_MS went by without one; then post { event: 'engine', info } (or
 * { event: 'engine', error }).
 */
async function init({ baseUrl, threads, models: modelUrls = {}, lazy = false, build: force = null, offscreen = true }, hold = false) {
  const t0 = performance.now();
  mark('init');
  const features = { ...detectFeatures(self), moduleWorker: WORKER_KIND === 'module' };
  if (!features.wasm) throw new VerifaceError('unsupported', 'this browser has no WebAssembly');
  const plan = planBuilds(features, threads, force);
  if (!plan.order.length) throw new VerifaceError('unsupported', `no wasm build runs in this browser (${plan.skipped.map((t) => `${t.build}: ${t.reason}`).join('; ')})`);
  const wasmBase = new URL('wasm/', baseUrl);
  let loaded = 0, total = 0;
  const onBytes = (dn, dt) => { loaded += dn; total += dt; post({ event: 'progress', stage: 'download', loaded, total }); };
  let cached = 0;   // model bytes read from the Cache API instead of the network
  const onCached = (n) => { cached += n; post({ event: 'progress', stage: 'cached', loaded, total, cached }); };
  // the model roles: written from the C table (vf_model_roles) at build time, checked against the module below
  const rolesIn = fetchJson(rolesUrl(baseUrl));
  const first = startBuild(plan.order[0], wasmBase, onBytes);
  // frames become pixels here on an OffscreenCanvas, else on the page's canvas (sent as RGBA)
  const off = offscreen !== false && features.offscreenCanvas;
  const roles = await rolesIn;
  mark('roles');
  const fetchRole = (r) => fetchModel(roleUrl(baseUrl, r, modelUrls), r.sha256, { optional: !r.required, onBytes, onCached, size: r.bytes });
  // lazy: the guidance models (detector, mesh) first, alone on the network; the rest after them
  const firstModels = roles.map((r) => (lazy && r.required ? fetchRole(r) : null));
  const firstIn = Promise.allSettled(firstModels.filter(Boolean));
  const fetches = roles.map((r, i) => firstModels[i] || (lazy ? firstIn.then(() => fetchRole(r)) : fetchRole(r)));
  for (const f of fetches) f.catch(() => {});
  const all = Promise.all(fetches);
  path = { build: '', threads: 1, simd: features.simd, worker: WORKER_KIND, pixels: off ? 'worker' : 'page', jpeg: off ? 'pending' : 'page',
    prestarted: false, skipped: plan.skipped, features };
  const tried = [];
  ({ M, build } = await loadBuild(plan.order, wasmBase, first, onBytes, (b) => post({ event: 'progress', stage: 'compile', loaded, total, build: b }), tried));
  const n = build === 'simd-mt' ? Math.max(1, Math.min(4, threads)) : 1;
  Object.assign(path, { build, threads: n, skipped: [...plan.skipped, ...tried] });
  mark('instantiated');
  post({ event: 'progress', stage: 'build', loaded, total, build, path });
  checkRoles(M, roles);
  const buildFull = async () => {
    const bytes = await all;
    mark('models_all');
    await checkJpeg(path);   // before the full engine: a lazy start asks it only after its first guidance
    const models = Object.fromEntries(roles.map((r, i) => [r.name, bytes[i]]));
    post({ event: 'progress', stage: 'models', loaded, total });
    // free the guidance engine first: its thread pool would otherwise hold pthreads the full
    // engine's pool needs (the module pre-spawns 4); its sessions move over at their next frame
    if (guide) { guide.close(); guide = null; }
    engine = Engine.create(M, models, n);
    mark('engine');
    if (!lazy) warmUp(engine);
    post({ event: 'progress', stage: 'ready', loaded, total });
    return engineInfo(engine, t0, loaded, roles.every((r, i) => r.stage !== 'liveness' || bytes[i]), cached);
  };
  if (!lazy) return (fullReady = buildFull());
  // the guidance engine: the required roles (detector, mesh) only
  const req = roles.map((r, i) => [r, i]).filter(([r]) => r.required);
  const got = await Promise.all(req.map(([, i]) => fetches[i]));
  mark('models_guidance');
  guide = Engine.create(M, Object.fromEntries(req.map(([r], k) => [r.name, got[k]])), n);
  mark('engine_guidance');
  // warmed in the next task, after this answer is posted: the page sets up its capture meanwhile
  // (its first frame comes later than the warm-up's ~0.1 s, and waits for it in this worker)
  const g = guide;
  setTimeout(() => { if (guide === g) warmUp(g); }, 0);
  post({ event: 'progress', stage: 'guidance', loaded, total });   // path.jpeg is still 'pending' (buildFull asks)
  startFull = () => {
    clearTimeout(fullTimer);
    if (fullReady) return fullReady;
    fullReady = buildFull();
    fullReady.then((info) => post(fullPosted = { event: 'engine', info }), (e) => {
      const ve = fullError = VerifaceError.from(e);
      post(fullPosted = { event: 'engine', error: { code: ve.code, message: ve.message } });
    });
    return fullReady;
  };
  // no capture yet (the page opens its camera after create()): at once; a capture waiting for its
  // first frame (the camera was opened alongside): after that frame's answer (pushFrame)
  let waits = FULL_WAITS;
  const check = () => {
    const waiting = [...sessions.values()].some((x) => x.engine === guide && !x.pushed);
    if (waiting && waits-- > 0) fullTimer = setTimeout(check, FULL_AFTER_MS); else startFull();
  };
  // a prestart holds the full engine back until the page takes it (its capture follows at once)
  heldFull = () => { fullTimer = setTimeout(check, FULL_GRACE_MS); };
  if (!hold) { heldFull(); heldFull = null; }
  return engineInfo(guide, t0, loaded, false, cached);
}
/** A lazy start: how long the page has to start a capture after create() resolves, then how long
 *  and how often the full engine waits for that capture's first frame (at most 12 s). */
const FULL_GRACE_MS = 300;
const FULL_AFTER_MS = 1500;
const FULL_WAITS = 8;

/** One grey frame through a throwaway session: the engine compiles its wasm functions lazily, on
 *  first use (half a second of the first camera frame on a slow device); done here, before the
 *  camera's first frame waits for it. */
function warmUp(e) {
  const w = 320, h = 240;
  let s = null;
  try {
    s = e.createSession({});
    s.push(new Uint8ClampedArray(w * h * 4).fill(128), w, h, 0);
  } catch { /* a warm-up only */ } finally {
    if (s) s.close();
  }
  mark('warm');
}

function need(sid) {
  const s = sessions.get(sid);
  if (!s) throw new VerifaceError('invalid_arg', `no session ${sid}`);
  return s;
}

/** Draw a bitmap/VideoFrame into the work canvas, scaled to fit max, and read RGBA (or take the
 *  page's RGBA { data, width, height } when the page reads pixels: no OffscreenCanvas here). */
function pixelsOf(frame, maxW, maxH) {
  if (frame && frame.data) {
    if (frame.width > maxW || frame.height > maxH) throw new VerifaceError('invalid_arg', `frame ${frame.width}x${frame.height} over ${maxW}x${maxH}`);
    return { data: new Uint8ClampedArray(frame.data.buffer || frame.data), width: frame.width, height: frame.height };
  }
  if (!canvas && path && path.pixels === 'page') throw new VerifaceError('unsupported', 'no OffscreenCanvas in this worker: the page sends pixels');
  const fw = frame.displayWidth || frame.width, fh = frame.displayHeight || frame.height;
  if (!fw || !fh) throw new VerifaceError('image', 'empty frame');
  const k = Math.min(1, maxW / fw, maxH / fh);
  const w = Math.max(1, Math.floor(fw * k)), h = Math.max(1, Math.floor(fh * k));
  if (!canvas) {
    canvas = new OffscreenCanvas(w, h);
    ctx2d = canvas.getContext('2d', { willReadFrequently: true });
  }
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  ctx2d.drawImage(frame, 0, 0, w, h);
  return { data: ctx2d.getImageData(0, 0, w, h).data, width: w, height: h };
}

function createSession(config = {}) {
  const e = engine || guide;
  if (!e) throw new VerifaceError('not_ready', 'the engine is not loaded');
  const sid = nextSid++;
  sessions.set(sid, {
    session: e.createSession(config), engine: e, statuses: new Map(), config,
    maxW: config.max_frame_width || 1280, maxH: config.max_frame_height || 720,
  });
  return { sid };
}

/** A session that started on the guidance engine moves to the full engine once it is there
 *  (the streak starts again: the frames sent must all come from the full pipeline). */
function upgrade(s) {
  if (fullError) throw fullError;   // a capture on the guidance engine would never complete
  if (s.engine === engine || (guide && s.engine === guide)) return;
  if (!engine) throw new VerifaceError('not_ready', 'the full engine failed to load');
  s.session.close();
  s.session = engine.createSession(s.config);
  s.engine = engine;
  s.statuses.clear();
}

function pushFrame({ sid, frame, timestamp }) {
  const s = need(sid);
  upgrade(s);
  const t0 = performance.now();
  let px;
  try {
    px = pixelsOf(frame, s.maxW, s.maxH);
  } finally {
    if (frame && frame.close) frame.close();
  }
  const t1 = performance.now();
  const r = s.session.push(px.data, px.width, px.height, timestamp);
  s.statuses.set(r.status.index, r.json);
  // kept frames are the last good_frames consecutive ones: older statuses are not needed
  s.statuses.delete(r.status.index - 2 * VF_MAX_KEPT);
  // a lazy start: the full engine is built once this first answer is on its way to the page
  s.pushed = true;
  if (s.engine === guide && !fullReady && startFull) setTimeout(startFull, 0);
  return { status: r.status, fingerprint: r.fingerprint, width: px.width, height: px.height, read_ms: t1 - t0,
    total_ms: performance.now() - t0, partial: s.engine !== engine };
}
const VF_MAX_KEPT = 8;   // VF_SESSION_MAX_CHOSEN

/**
 * Does this worker's OffscreenCanvas encode JPEG? Sets p.jpeg to 'worker' or 'page' (once; a
 * promise). Asked when the full engine is built (a lazy start: after its first guidance), and by
 * the first kept frame at the latest: the check's synchronous part (canvas, convertToBlob) held
 * this thread 0.22-0.33 s while a 4x slowed page was still loading (Chromium; a software canvas
 * made no difference), 0.02 s once the page waits.
 */
let jpegOk = null;
function checkJpeg(p) {
  if (p.jpeg !== 'pending') return Promise.resolve(p.jpeg);
  if (!jpegOk) jpegOk = canEncodeJpeg(self);
  return jpegOk.then((ok) => { p.jpeg = ok ? 'worker' : 'page'; mark('jpeg'); return p.jpeg; });
}

/** The kept frame as a JPEG with its hash, or (no JPEG encoder here) its pixels for the page to
 *  encode (veriface.js encodeOnPage). */
async function encoded(k, quality, fields) {
  if ((await checkJpeg(path)) === 'page') return { ...fields, mime: 'image/jpeg', pixels: k.pixels, quality };
  const jpeg = await jpegOf(k, quality);
  return { ...fields, mime: 'image/jpeg', sha256: await sha256Hex(jpeg), data: toBase64(jpeg) };
}

async function jpegOf(k, quality) {
  const c = new OffscreenCanvas(k.width, k.height);
  c.getContext('2d').putImageData(new ImageData(k.pixels, k.width, k.height), 0, 0);
  const blob = await c.convertToBlob({ type: 'image/jpeg', quality });
  return new Uint8Array(await blob.arrayBuffer());
}

async function finish({ sid, jpegQuality = 0.92 }) {
  const s = need(sid);
  if (s.engine !== engine) throw new VerifaceError('not_ready', 'the full engine is not loaded yet');
  const t0 = performance.now();
  const { json, result } = s.session.finish();
  const t1 = performance.now();
  const frames = [];
  for (const k of s.session.kept()) {
    frames.push(await encoded(k, jpegQuality, { index: k.index, timestamp: k.timestamp, width: k.width, height: k.height,
      statusJson: s.statuses.get(k.index) || null }));
  }
  return { resultJson: json, result, frames, finish_ms: t1 - t0, encode_ms: performance.now() - t1 };
}

async function analyze({ image, config = {} }) {
  if (!engine && startFull) await startFull();   // a photo needs liveness and the embedding: the full engine
  let frame = image;
  if (image instanceof Blob) {
    try {
      frame = await createImageBitmap(image);
    } catch (e) {
      throw new VerifaceError('image', `cannot decode the image (${image.type || 'unknown type'}): ${e.message}`);
    }
  }
  const { sid } = createSession({ ...config, good_frames: 1, liveness_frames: 1 });
  try {
    const r = pushFrame({ sid, frame, timestamp: 0 });
    const out = { status: r.status, width: r.width, height: r.height, result: null };
    if (r.status.complete) out.result = need(sid).session.finish().result;
    return out;
  } finally {
    closeSession({ sid });
  }
}

/**
 * Start the frames of an active challenge: a vf_motion for at most maxFrames frames, each scaled so
 * its longer side is at most maxSide px (the server re-runs vf_motion on the JPEGs the page sends).
 */
function challengeStart({ maxFrames, maxSide = 480, jpegQuality = 0.92 }) {
  // the full engine only: the guidance engine of a lazy start is freed when the full one arrives
  if (!engine) throw new VerifaceError('not_ready', 'the full engine is not loaded yet');
  const mid = nextMid++;
  motions.set(mid, { motion: Motion.create(engine, maxFrames), frames: [], side: maxSide, quality: jpegQuality });
  return { mid };
}

function needMotion(mid) {
  const m = motions.get(mid);
  if (!m) throw new VerifaceError('invalid_arg', `no challenge ${mid}`);
  return m;
}

/**
 * One challenge frame: scaled (longer side <= maxSide), measured (pose for the page's prompts),
 * then JPEG-encoded and hashed in the background (challengeFrames waits for them). Returns
 * { index, pose: { face, yaw, pitch, roll, rgb, face_box }, width, height, ms }.
 */
function challengePush({ mid, frame, timestamp }) {
  const m = needMotion(mid);
  const t0 = performance.now();
  let px;
  try {
    px = pixelsOf(frame, m.side, m.side);
  } finally {
    if (frame && frame.close) frame.close();
  }
  const pose = m.motion.push(px.data, px.width, px.height, timestamp);
  const index = m.frames.length;
  const k = { width: px.width, height: px.height, pixels: px.data };
  const jpeg = encoded(k, m.quality, { index, timestamp, width: k.width, height: k.height });
  jpeg.catch(() => {});   // reported by challengeFrames
  m.frames.push(jpeg);
  return { index, pose, width: px.width, height: px.height, ms: performance.now() - t0 };
}

/** The challenge's frames for the package, in push order; frees the motion. */
async function challengeFrames({ mid }) {
  const m = needMotion(mid);
  const t0 = performance.now();
  try {
    const frames = await Promise.all(m.frames);
    return { frames, encode_ms: performance.now() - t0 };
  } finally {
    challengeClose({ mid });
  }
}

function challengeClose({ mid }) {
  const m = motions.get(mid);
  if (m) { m.motion.close(); motions.delete(mid); }
  return {};
}

function closeSession({ sid }) {
  const s = sessions.get(sid);
  if (s) { s.session.close(); sessions.delete(sid); }
  return {};
}

const handlers = {
  init: adopt, createSession: (m) => createSession(m.config), pushFrame, finish, analyze, closeSession,
  challengeStart, challengePush, challengeFrames, challengeClose,
  resetSession: ({ sid }) => { const s = need(sid); s.session.reset(); s.statuses.clear(); return {}; },
  close: () => {
    for (const sid of [...sessions.keys()]) closeSession({ sid });
    for (const mid of [...motions.keys()]) challengeClose({ mid });
    if (engine) engine.close();
    if (guide) guide.close();
    engine = guide = null;
    return {};
  },
};

if (self.name === PRESTART) prestart(new URL('../', self.location.href).href);

self.onmessage = async (e) => {
  const msg = e.data || {};
  const h = handlers[msg.type];
  try {
    if (!h) throw new VerifaceError('invalid_arg', `unknown request ${msg.type}`);
    post({ id: msg.id, ok: true, value: await h(msg) });
  } catch (err) {
    const ve = VerifaceError.from(err);
    post({ id: msg.id, ok: false, error: { code: ve.code, message: ve.message, status: ve.status } });
  }
};
