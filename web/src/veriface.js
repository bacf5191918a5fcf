// veriface.js - the page-side API: Veriface.create() starts the worker (wasm + models), capture()
// runs one attempt of a server session on a camera or video (the passive frames, then the active
// challenge when the session carries one) and returns the signed package.
import { VerifaceError } from './errors.js';
import { guidanceKey, guidanceMessage } from './guidance.js';
import { openCamera, listCameras, stopStream, getUserMediaCount } from './camera.js';
import { FramePump, videoReady, readPixels, encodeOnPage } from './frames.js';
import { FrameTiming, PageWatch, collectSignals } from './signals.js';
import { signPackage, postPackage } from './package.js';
import { parseChallenge, StepTracker, Tint, frameClock, CHALLENGE_MAX_SIDE } from './challenge.js';
import { detectFeatures, planBuilds, defaultThreads, BUILD_FILES } from './features.js';

export const WEB_VERSION = '0.1.0';

/**
 * The wasm build the worker will pick first, fetched from the page now into the HTTP cache: the
 * worker asks the same URLs once its own modules are in, a second or more later on a slow device
 * (a server that forbids caching gets them twice: prefetch: false).
 */
function prefetchBuild(base, threads, options, kind) {
  if (options.prefetch === false || typeof fetch !== 'function') return;
  try {
    // the classic worker runs no threaded build and loads the builds' classic copies (factory-classic.js)
    const plan = planBuilds({ ...detectFeatures(globalThis), moduleWorker: kind === 'module' }, threads, options.build || null);
    if (!plan.order.length) return;
    const name = BUILD_FILES[plan.order[0]];
    for (const f of [`${name}${kind === 'module' ? '.mjs' : '.js'}`, `${name}.wasm`])
      fetch(new URL(`wasm/${f}`, base).href, { credentials: 'same-origin' }).then((r) => r.arrayBuffer()).catch(() => {});
  } catch { /* a hint only */ }
}

/** The engine's worker (module or classic) and its request/response bookkeeping. */
class WorkerClient {
  constructor(worker, onEvent) {
    this.w = worker;
    this.pending = new Map();
    this.next = 1;
    this.w.onmessage = (e) => {
      const m = e.data;
      if (m.event) return onEvent(m);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value); else p.reject(VerifaceError.from(m.error));
    };
    this.w.onerror = (e) => {
      // a worker script that does not load (or does not parse) gives no message of its own
      const err = new VerifaceError('worker_failed', `worker error: ${e.message || 'the worker script failed to load'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      e.preventDefault();
    };
  }

  call(type, msg = {}, transfer = []) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.w.postMessage({ ...msg, id, type }, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(VerifaceError.from(e));
      }
    });
  }

  terminate() {
    this.w.terminate();
    const err = new VerifaceError('closed', 'veriface was closed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * Does this engine run module workers? Its Worker constructor reads the `type` option only then
 * (older WebViews, Safari < 15 and Firefox < 114 ignore it and would run worker.js as a classic
 * script, which fails on its first import). The URL is invalid on purpose: the constructor reads
 * its options, then throws before any worker starts or anything is fetched.
 */
function hasModuleWorkers() {
  let read = false;
  try {
    new Worker('http://[', { get type() { read = true; return 'module'; } });
  } catch { /* the invalid URL */ }
  return read;
}

/**
 * The engine's worker: the module worker, else (an engine without module workers, or one whose
 * constructor refuses it) the classic worker, worker-classic.js: the same worker bundled into one
 * script that loads the wasm builds' classic copies with importScripts (tools/build-web), next to
 * worker.js (or options.workerUrl) unless options.classicWorkerUrl says where. { worker, kind:
 * 'module' | 'classic', reason (why not the module worker) }; no worker at all is 'worker_failed'.
 */
const OWN_WORKER = './worker.js';
function startWorker(options) {
  let reason = null;
  // the worker src/preload.js started early (data-veriface-worker), when it is the one we would start
  const early = globalThis[Symbol.for('veriface.prestart')];
  if (early && !options.workerUrl && !options.classicWorkerUrl) {
    delete globalThis[Symbol.for('veriface.prestart')];
    // not `new URL('./worker.js', import.meta.url)` here: outside `new Worker(...)` Vite takes that
    // literal for an asset and emits a second, unbundled copy of worker.js
    if (!early.failed && early.url === new URL(OWN_WORKER, import.meta.url).href) return { worker: early.worker, kind: 'module', reason, prestarted: true };
    early.worker.terminate();
  }
  if (hasModuleWorkers()) {
    try {
      // The literal `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })` is the
      // form bundlers (Vite, webpack 5) recognise: they then bundle the worker with its imports.
      const worker = options.workerUrl ? new Worker(options.workerUrl, { type: 'module', name: 'veriface' })
        : new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'veriface' });
      return { worker, kind: 'module', reason };
    } catch (e) {
      reason = `the module worker was refused: ${(e && e.message) || e}`;
    }
  } else reason = 'this browser has no module workers';
  const page = globalThis.location && location.href;
  const url = options.classicWorkerUrl ? new URL(options.classicWorkerUrl, page)
    : options.workerUrl ? new URL('worker-classic.js', new URL(options.workerUrl, page)) : new URL('./worker-classic.js', import.meta.url);
  try {
    return { worker: new Worker(url, { name: 'veriface' }), kind: 'classic', reason };
  } catch (e) {
    throw new VerifaceError('worker_failed', `no worker can start (${reason}; the classic worker ${url}: ${(e && e.message) || e})`);
  }
}

/** The worker's stage times (epoch ms on its clock) as this page's performance.now() times, with
 *  when create() started: where a slow start spent its time (info.timing). */
function pageTiming(t, t0) {
  const out = { create: t0 };
  for (const [k, v] of Object.entries(t || {})) out[k] = v - performance.timeOrigin;
  return out;
}

function abortError(signal) {
  const r = signal && signal.reason;
  return new VerifaceError('aborted', (r && r.message) || 'capture aborted', { cause: r });
}

export class Veriface {
  /**
   * Load the engine in a worker. options:
   * - baseUrl: where wasm/ and models/ are served (default: the package's own directory)
   * - threads: 'auto' (default: half the cores, at most 4, when crossOriginIsolated; else 1) or a
   *   number; the threaded wasm build is used only when the page is cross-origin isolated and threads > 1
   * - onProgress({ stage, loaded, total, cached }): 'download' (bytes), 'cached' (model bytes from the
   *   Cache API, keyed by SHA-256), 'compile' ({ build } tried),
   *   'build' ({ build, path }: the wasm build and path chosen, see info.path), 'models', 'ready';
   *   first 'worker' ({ worker: 'module' | 'classic', reason }: the worker started, and why not
   *   the module worker)
   * - build: force one wasm build ('simd-mt' | 'simd' | 'base'); default: the best this browser
   *   runs (threads need cross-origin isolation and shared memory, 'base' is the one without SIMD)
   * - offscreen: false reads pixels and encodes JPEGs on the page's canvas even where the worker has
   *   OffscreenCanvas (the path taken without it)
   * - stallMs: create() fails with code 'timeout' when the worker reports nothing for this long
   *   (default 30000; downloads report as they go)
   * - workerUrl: override the worker script URL (bundlers that relocate it)
   * - classicWorkerUrl: the classic worker's URL (worker-classic.js), for engines without module
   *   workers (default: next to worker.js, or to workerUrl)
   * - models: per-role URL overrides ({ embedder: '/x/faceres.vfm' })
   * - lazy: resolve as soon as the detector and mesh are loaded (guidance can start, ~1.6 MB gzip
   *   instead of ~11 MB); `instance.ready` resolves when PAD and the embedder are in too. A capture
   *   started before then gives guidance at once and completes only on the full engine.
   * - prefetch: false: the page does not fetch the wasm build ahead of the worker (default: it does,
   *   into the HTTP cache, while the worker starts)
   */
  static async create(options = {}) {
    const t0 = performance.now();
    const baseUrl = new URL(options.baseUrl || new URL('../', import.meta.url), globalThis.location && location.href).href;
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    // the worker uses one thread when it cannot have more (not isolated, no shared memory) and says why
    const threads = options.threads === undefined || options.threads === 'auto' ? defaultThreads() : Math.max(1, options.threads | 0);
    const onProgress = typeof options.onProgress === 'function' ? options.onProgress : () => {};
    let full = null;   // the 'engine' event of a lazy start, before or after the instance exists
    const fullWaiters = [];
    // never a silent hang: no word from the worker for stallMs while it loads is an error
    const stallMs = options.stallMs === undefined ? 30000 : options.stallMs;
    let stall, stalled, loading = true;
    const silent = new Promise((_, reject) => { stalled = reject; });
    silent.catch(() => {});
    const alive = () => {
      clearTimeout(stall);
      if (loading && stallMs > 0) stall = setTimeout(() => stalled(new VerifaceError('timeout', `the engine worker reported nothing for ${stallMs} ms while loading`)), stallMs);
    };
    const started = startWorker(options);
    onProgress({ stage: 'worker', loaded: 0, total: 0, cached: 0, worker: started.kind, ...(started.reason ? { reason: started.reason } : {}),
      ...(started.prestarted ? { prestarted: true } : {}) });
    // a prestarted worker is compiling its build already
    if (!started.prestarted) prefetchBuild(base, threads, options, started.kind);
    const worker = new WorkerClient(started.worker, (m) => {
      if (m.event === 'progress') {
        alive();
        const p = { stage: m.stage, loaded: m.loaded, total: m.total, cached: m.cached || 0 };
        if (m.build) p.build = m.build;
        if (m.path) p.path = m.path;
        onProgress(p);
      }
      if (m.event === 'engine') { full = m; for (const f of fullWaiters) f(m); }
    });
    alive();
    try {
      const info = await Promise.race([silent, worker.call('init', { baseUrl: base, threads, models: options.models || {}, lazy: options.lazy === true,
        build: options.build || null, offscreen: options.offscreen !== false })]);
      loading = false;
      clearTimeout(stall);
      info.ready_ms = performance.now() - t0;
      info.timing = pageTiming(info.timing, t0);
      const inst = new Veriface(worker, info, base);
      inst.ready = info.complete ? Promise.resolve(info) : new Promise((resolve, reject) => {
        const take = (m) => {
          if (m.error) return reject(VerifaceError.from(m.error));
          m.info.ready_ms = performance.now() - t0;
          m.info.timing = pageTiming(m.info.timing, t0);
          inst.info = m.info;
          resolve(m.info);
        };
        if (full) take(full); else fullWaiters.push(take);
      });
      inst.ready.catch(() => {});
      return inst;
    } catch (e) {
      loading = false;
      clearTimeout(stall);
      worker.terminate();
      throw VerifaceError.from(e);
    }
  }

  constructor(worker, info, baseUrl) {
    this._worker = worker;
    /** resolves to the full engine's info (at once unless created with lazy: true) */
    this.ready = Promise.resolve(info);
    /** { build: 'simd-mt'|'simd'|'base', threads, engine, models: {role: sha256}, pad, downloaded, ms, ready_ms,
     *  path: { build, threads, simd, pixels: 'worker'|'page', jpeg: 'worker'|'page', skipped: [{ build, reason }], features } } */
    this.info = info;
    this.baseUrl = baseUrl;
    this._busy = false;
  }

  /** Video inputs (labels appear once camera permission was granted). */
  listCameras() { return listCameras(); }

  /**
   * One-frame analysis of a photo (Blob/File, ImageBitmap, or anything createImageBitmap takes):
   * { status (C frame status), result (C result when the frame is good, else null), width, height }.
   */
  async analyzeImage(image, config = {}) {
    this._check();
    let msg, transfer = [];
    if (this._pagePixels) {
      const bmp = await createImageBitmap(image).catch((e) => { throw new VerifaceError('image', `cannot decode the image: ${e.message}`); });
      const px = readPixels(bmp, config.max_frame_width || 1280, config.max_frame_height || 720);
      msg = { image: px };
      transfer = [px.data.buffer];
    } else if (image instanceof Blob) msg = { image };
    else {
      const bmp = image instanceof ImageBitmap ? image : await createImageBitmap(image);
      msg = { image: bmp };
      transfer = [bmp];
    }
    return this._worker.call('analyze', { ...msg, config }, transfer);
  }

  /**
   * Run one capture attempt of a server session and return the signed package.
   * options:
   * - session: the server's session response (session_id, nonce, attempt, config, models)
   * - key: from createSessionKey() (its public key registered with the session)
   * - video: a <video> to read (its srcObject stream, or a file it plays); stream: a MediaStream;
   *   neither: the camera is opened ({ camera: { deviceId, remember } }) and stopped at the end
   * - onFrame(status, info), onGuidance({ code, key, message, status }) on each change,
   *   onProgress({ streak, needed })
   * - messages: guidance text overrides for onGuidance's message
   * - submit: a server URL (or true = this page's origin) to POST the package to; the server's
   *   answer is then in the result (generic: final or not, a retry's nonce and challenge; never
   *   the decision, which is the integrator's). Without it the caller posts { body, headers } itself.
   * - challenge: the active challenge to answer (docs/CHALLENGE.md, type "sequence"); default
   *   session.challenge (the session response, or nextAttempt() after an answer). After the passive
   *   frames: the colour sequence (when `light` is set), a prompt per step through onGuidance (keys
   *   challenge_left/_right/_up/_down, challenge_centre, challenge_hold, no_face; code -1, status
   *   null, `challenge` = { step, steps, direction, pose, frames }), one frame every frame_ms sent
   *   in the package's `challenge`
   * - tint: an element to show the colour sequence in (e.g. a full-page layer behind your camera
   *   view); default: a layer appended to document.body (around `video` when it is visible) and
   *   removed after
   * - lowFlash: the colours at half opacity, fading in and into each other instead of switching
   *   (default: on when the user prefers reduced motion)
   * - onChallenge({ key, step, steps, direction, pose, frames, max_frames }): every challenge frame
   * - signal: AbortSignal; timeoutMs (default 120000)
   * Resolves to { body, signature, headers, package, result, frames, signals, answer? }.
   */
  async capture(options = {}) {
    this._check();
    const { session, key } = options;
    if (!session || !session.session_id || !session.nonce) throw new VerifaceError('invalid_arg', 'capture: session (session_id, nonce) required');
    if (!key || !key.privateKey) throw new VerifaceError('invalid_arg', 'capture: key (createSessionKey()) required');
    this._checkModels(session.models);
    if (session.expires_at && session.expires_at < Date.now()) throw new VerifaceError('session_expired', 'the session has expired: start a new one');
    // checked before the camera opens: a challenge this page cannot answer is an error, not a silent skip
    const challenge = parseChallenge(options.challenge !== undefined ? options.challenge : session.challenge);
    if (this._busy) throw new VerifaceError('busy', 'a capture is already running');
    this._busy = true;
    const cfg = session.config || {};
    const signal = options.signal;
    const owned = { stream: null, video: null };
    let sid = null, pump = null, opening = null;
    const page = new PageWatch().start();
    const timing = new FrameTiming();
    const marks = { start: performance.now() };   // result.timing: when each stage of the capture ended
    const mark = (k) => { if (marks[k] === undefined) marks[k] = performance.now(); };
    let timer;
    try {
      if (signal && signal.aborted) throw abortError(signal);
      // the worker's session starts while the camera opens (closed in `finally` if the camera fails)
      opening = this._worker.call('createSession', { config: cfg });
      opening.catch(() => {});
      // the source: a video element, a stream, or the camera
      let video = options.video, stream = options.stream || (video && video.srcObject instanceof MediaStream ? video.srcObject : null);
      let cameraInfo = options.cameraInfo || null;
      const camera = !video && !stream;
      if (!video) {
        video = owned.video = document.createElement('video');
        video.muted = true; video.playsInline = true; video.autoplay = true;
        // rendered (1 px, invisible) so requestVideoFrameCallback fires
        video.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0;pointer-events:none';
        document.body.appendChild(video);
      }
      if (camera) {   // the video starts as soon as the camera opens, while it is probed
        const cam = await openCamera({ ...(options.camera || {}), video });
        stream = owned.stream = cam.stream;
        cameraInfo = cam.info;
        mark('camera');
      }
      if (stream && video.srcObject !== stream) video.srcObject = stream;
      // the pump listens from now: the video's first frame is taken when it is presented, while
      // the worker's session still starts (VideoFrames when the worker draws them itself,
      // path.pixels 'worker'; bitmaps for the page's canvas)
      const startedAt = Date.now();
      pump = new FramePump(video, (t) => timing.frame(t), { videoFrame: !this._pagePixels });
      // a video that never gives a frame: a typed timeout, within the capture's own if shorter
      await videoReady(video, options.timeoutMs > 0 ? Math.min(10000, options.timeoutMs) : 10000);
      mark('video');
      const track = stream ? stream.getVideoTracks()[0] : null;

      ({ sid } = await opening);
      opening = null;
      const needed = cfg.good_frames || 5;
      const cancelled = new Promise((_, reject) => {
        if (signal && signal.aborted) reject(abortError(signal));   // aborted while the camera or the session started
        else if (signal) signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
        const ms = options.timeoutMs === undefined ? 120000 : options.timeoutMs;
        if (ms > 0) timer = setTimeout(() => reject(new VerifaceError('timeout', `capture did not complete in ${ms} ms`)), ms);
      });
      cancelled.catch(() => {});
      let lastKey = null, pushed = 0, status, lastTs = null;
      for (;;) {
        const next = await Promise.race([pump.next(), cancelled]);
        if (!next) throw new VerifaceError('aborted', 'frame source stopped');
        mark('first_frame');
        // a gap in the stream (the tab was hidden, the camera stalled): the server refuses kept
        // frames more than 1.5 s apart (freshness.timestamps), so the streak starts again
        if (lastTs !== null && next.timestamp - lastTs > 1000) await Promise.race([this._worker.call('resetSession', { sid }), cancelled]);
        lastTs = next.timestamp;
        const f = this._framed(next, cfg.max_frame_width || 1280, cfg.max_frame_height || 720);
        const r = await Promise.race([this._worker.call('pushFrame', { sid, frame: f.frame, timestamp: next.timestamp }, f.transfer), cancelled]);
        pushed++;
        mark('first_status');
        status = r.status;
        timing.fingerprint(r.fingerprint);
        const q = status.quality;
        if (options.onFrame) options.onFrame(status, { width: r.width, height: r.height, ms: r.total_ms, fingerprint: r.fingerprint });
        const k = guidanceKey(q.guidance);
        if (k !== lastKey && options.onGuidance) options.onGuidance({ code: q.guidance, key: k, message: guidanceMessage(k, options.messages), status });
        lastKey = k;
        // on the guidance engine of a lazy start the capture cannot complete yet
        const cap = !r.partial ? needed : needed - 1;
        if (options.onProgress) options.onProgress({ streak: Math.min(status.good_streak, cap), needed });
        // the kept frames are the last `needed` good ones (a ring in C): all of them must be good
        if (status.good_streak >= needed && !r.partial) break;
      }
      // the active challenge, at once while the person still faces the camera (finish after it)
      const answered = challenge ? await this._challenge(challenge, { pump, cancelled, options, video, jpegQuality: cfg.jpeg_quality || 0.92, needed }) : null;
      pump.stop();
      this._checkModels(session.models);   // a lazy start knows every model hash only now
      const fin = await Promise.race([this._worker.call('finish', { sid, jpegQuality: cfg.jpeg_quality || 0.92 }), cancelled]);
      fin.frames = await encodeOnPage(fin.frames);
      const finishedAt = Date.now();
      page.stop();
      const signals = await collectSignals({ track, camera: cameraInfo || { getUserMediaCalls: getUserMediaCount() }, timing, page });
      const module = { web: WEB_VERSION, engine: this.info.engine, build: this.info.build };
      const capture = { started_at: startedAt, finished_at: finishedAt, frames_pushed: pushed, threaded: this.info.build === 'simd-mt' };
      const signed = await signPackage(key.privateKey, {
        session, capture, module, models: this.info.models, resultJson: fin.resultJson, frames: fin.frames, signals,
        challenge: answered && { steps: answered.steps, light_start: answered.light_start, frames: answered.frames },
      });
      const out = { ...signed, result: fin.result, signals, frames: fin.frames.map(({ data, ...f }) => f),
        timings: { finish_ms: fin.finish_ms, encode_ms: fin.encode_ms }, timing: { ...marks, signed: performance.now() } };
      if (answered) {
        out.challenge = { steps: answered.steps, light_start: answered.light_start, frames: answered.frames.map(({ data, ...f }) => f),
          steps_done: answered.steps_done, step_at: answered.step_at, timed_out: answered.timed_out };
      }
      Object.defineProperty(out, 'package', { get: () => JSON.parse(signed.body), enumerable: false });
      if (options.submit) {
        const server = options.submit === true ? location.origin : options.submit;
        out.answer = await postPackage(server, session.session_id, signed, { signal });
      }
      return out;
    } finally {
      clearTimeout(timer);
      page.stop();
      if (pump) pump.stop();
      if (sid !== null) this._worker.call('closeSession', { sid }).catch(() => {});
      else if (opening) opening.then((o) => this._worker && this._worker.call('closeSession', { sid: o.sid }), () => {}).catch(() => {});
      if (owned.stream) stopStream(owned.stream);
      if (owned.video) { owned.video.srcObject = null; owned.video.remove(); }
      this._busy = false;
    }
  }

  /**
   * The active challenge (docs/CHALLENGE.md) on the running frame pump: the colour sequence, a
   * prompt per step, one frame every frame_ms from the start of the sequence until the last step
   * is done and every colour was shown (or a step times out, or max_frames: the server decides on
   * what was sent). Returns { steps, light_start, frames, steps_done, step_at, timed_out }.
   */
  async _challenge(ch, { pump, cancelled, options, video, jpegQuality, needed }) {
    const w = this._worker;
    const race = (p) => Promise.race([p, cancelled]);
    const { mid } = await race(w.call('challengeStart', { maxFrames: ch.max_frames, maxSide: CHALLENGE_MAX_SIDE, jpegQuality }));
    let tint = null, fetched = false;
    try {
      const tracker = new StepTracker(ch, options.challengeMargin || {});
      const now = frameClock(pump.epoch);   // the frame timestamps' clock
      let lightStart = null, lightEnd = -Infinity;
      if (ch.light) {
        tint = new Tint({ element: options.tint || null, around: video, lowFlash: options.lowFlash, now });
        lightStart = tint.start(ch.light.colors, ch.light.color_ms);
        lightEnd = tint.end_ms;
      }
      const t0 = lightStart !== null ? lightStart : now();
      let last = -Infinity, n = 0, lastKey = null, stalled = false;
      for (;;) {
        // a camera that stops delivering frames ends the challenge like a step that times out
        let wait;
        const stall = new Promise((resolve) => { wait = setTimeout(() => resolve('stalled'), ch.step_ms); });
        const next = await race(Promise.race([pump.next(), stall])).finally(() => clearTimeout(wait));
        if (next === 'stalled') { stalled = true; break; }
        if (!next) throw new VerifaceError('aborted', 'frame source stopped');
        const ts = now.epoch(next.timestamp);
        // one frame every frame_ms (a few ms early is the camera's jitter), from the start of the sequence
        if (ts < t0 || ts <= last || ts < last + ch.frame_ms - 5) { next.frame.close(); continue; }
        const f = this._framed(next, CHALLENGE_MAX_SIDE, CHALLENGE_MAX_SIDE);
        const r = await race(w.call('challengePush', { mid, frame: f.frame, timestamp: ts }, f.transfer));
        last = ts;
        n++;
        const key = tracker.push(ts, r.pose);
        // the last colour must be in the frames too: one more frame_ms past its end
        const over = tracker.timedOut || n >= ch.max_frames || (tracker.done && ts >= lightEnd + ch.frame_ms);
        const info = { key, step: tracker.k, steps: ch.steps.length, direction: tracker.step, pose: r.pose, frames: n, max_frames: ch.max_frames };
        if (options.onChallenge) options.onChallenge(info);
        // prompts on change only; no "keep looking" when the challenge ends with this frame
        if (key !== lastKey && options.onGuidance && !(over && key === 'challenge_hold')) {
          options.onGuidance({ code: -1, key, message: guidanceMessage(key, options.messages), status: null, challenge: info });
        }
        lastKey = key;
        if (options.onProgress) options.onProgress({ streak: needed, needed, challenge: { done: tracker.k, steps: ch.steps.length } });
        if (over) break;
      }
      if (tint) { tint.stop(); tint = null; }
      const frames = await race(w.call('challengeFrames', { mid }).then((x) => encodeOnPage(x.frames)));
      fetched = true;
      return { steps: [...ch.steps], light_start: lightStart, frames, steps_done: tracker.k, step_at: tracker.stepAt,
        timed_out: tracker.timedOut || (stalled && !tracker.done) };
    } finally {
      if (tint) tint.stop();
      if (!fetched) w.call('challengeClose', { mid }).catch(() => {});
    }
  }

  /** Stop the worker and free the engine. */
  close() {
    if (!this._worker) return;
    const w = this._worker;
    this._worker = null;
    w.call('close').catch(() => {}).finally(() => w.terminate());
  }

  _check() { if (!this._worker) throw new VerifaceError('closed', 'veriface was closed'); }

  /** The worker has no OffscreenCanvas: frames go to it as RGBA read on the page. */
  get _pagePixels() { return !!(this.info.path && this.info.path.pixels === 'page'); }

  /** A frame of the pump as the worker takes it (the bitmap itself, or the page's RGBA). */
  _framed(next, maxW, maxH) {
    if (!this._pagePixels) return { frame: next.frame, transfer: [next.frame] };
    const px = readPixels(next.frame, maxW, maxH);
    return { frame: px, transfer: [px.data.buffer] };
  }

  _checkModels(server) {
    if (!server) return;
    for (const [role, hash] of Object.entries(server)) {
      const mine = this.info.models[role];
      if (!mine && this.info.complete === false) continue;   // lazy start: not loaded yet, checked again at the end
      if (hash && mine !== hash) {
        throw new VerifaceError('model_mismatch', `model ${role}: the server runs ${hash.slice(0, 12)}…, this page ${(this.info.models[role] || 'none').slice(0, 12)}…`);
      }
    }
  }
}

/** The session for the next attempt after an answer that allows one (same key, the answer's
 *  next nonce and challenge if any). */
export function nextAttempt(session, answer) {
  const r = answer && answer.retry;
  if (!r || !r.allowed || !r.next_nonce) throw new VerifaceError('no_retry', 'the answer allows no further attempt');
  return { ...session, nonce: r.next_nonce, attempt: (answer.attempt || session.attempt || 1) + 1, challenge: answer.challenge || null };
}
