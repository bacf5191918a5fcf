// veriface.js - the page-side API: Veriface.create() starts the worker (wasm + models), capture()
// runs one attempt of a server session on a camera or video and returns the signed package.
import { VerifaceError } from './errors.js';
import { guidanceKey, guidanceMessage } from './guidance.js';
import { openCamera, listCameras, stopStream, getUserMediaCount } from './camera.js';
import { FramePump, videoReady } from './frames.js';
import { FrameTiming, PageWatch, collectSignals } from './signals.js';
import { signPackage, postPackage } from './package.js';

export const WEB_VERSION = '0.1.0';

/** One module worker and its request/response bookkeeping. */
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
      const err = new VerifaceError('worker_failed', `worker error: ${e.message || 'failed to load'}`);
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

/** 'auto': half the cores, at most 4 (the page's main thread decodes and draws the video too;
 *  on 2 cores a second wasm thread made the per-frame pipeline 2-3x slower, measured in chromium). */
function defaultThreads() {
  if (globalThis.crossOriginIsolated !== true) return 1;
  const cores = (globalThis.navigator && navigator.hardwareConcurrency) || 2;
  return Math.max(1, Math.min(4, Math.ceil(cores / 2)));
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
   * - onProgress({ stage, loaded, total }): 'download' (bytes), 'compile', 'models', 'ready'
   * - workerUrl: override the worker script URL (bundlers that relocate it)
   * - models: per-role URL overrides ({ embedder: '/x/faceres.vfm' })
   * - lazy: resolve as soon as the detector and mesh are loaded (guidance can start, ~1.6 MB gzip
   *   instead of ~11 MB); `instance.ready` resolves when PAD and the embedder are in too. A capture
   *   started before then gives guidance at once and completes only on the full engine.
   */
  static async create(options = {}) {
    const t0 = performance.now();
    const baseUrl = new URL(options.baseUrl || new URL('../', import.meta.url), globalThis.location && location.href).href;
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    let threads = options.threads === undefined || options.threads === 'auto' ? defaultThreads() : Math.max(1, options.threads | 0);
    if (globalThis.crossOriginIsolated !== true) threads = 1;
    const onProgress = typeof options.onProgress === 'function' ? options.onProgress : () => {};
    let full = null;   // the 'engine' event of a lazy start, before or after the instance exists
    const fullWaiters = [];
    // The literal `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })` is the
    // form bundlers (Vite, webpack 5) recognise: they then bundle the worker with its imports.
    const w = options.workerUrl ? new Worker(options.workerUrl, { type: 'module', name: 'veriface' })
      : new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'veriface' });
    const worker = new WorkerClient(w, (m) => {
      if (m.event === 'progress') onProgress({ stage: m.stage, loaded: m.loaded, total: m.total });
      if (m.event === 'engine') { full = m; for (const f of fullWaiters) f(m); }
    });
    try {
      const info = await worker.call('init', { baseUrl: base, threads, models: options.models || {}, lazy: options.lazy === true });
      info.ready_ms = performance.now() - t0;
      const inst = new Veriface(worker, info, base);
      inst.ready = info.complete ? Promise.resolve(info) : new Promise((resolve, reject) => {
        const take = (m) => {
          if (m.error) return reject(VerifaceError.from(m.error));
          m.info.ready_ms = performance.now() - t0;
          inst.info = m.info;
          resolve(m.info);
        };
        if (full) take(full); else fullWaiters.push(take);
      });
      inst.ready.catch(() => {});
      return inst;
    } catch (e) {
      worker.terminate();
      throw e;
    }
  }

  constructor(worker, info, baseUrl) {
    this._worker = worker;
    /** resolves to the full engine's info (at once unless created with lazy: true) */
    this.ready = Promise.resolve(info);
    /** { build: 'simd'|'simd-mt', threads, engine, models: {role: sha256}, pad, downloaded, ms, ready_ms } */
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
    if (image instanceof Blob) msg = { image };
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
   * - submit: a server URL (or true = this page's origin) to POST the package to; the decision
   *   is then in the result. Without it the caller posts { body, headers } itself.
   * - challenge: { type: 'head_turn', direction } of a `challenge` decision (nextAttempt() puts it
   *   in the session): guidance asks for the turn (keys turn_left/turn_right) until a sent frame shows it
   * - signal: AbortSignal; timeoutMs (default 120000)
   * Resolves to { body, signature, headers, package, result, frames, signals, decision? }.
   */
  async capture(options = {}) {
    this._check();
    const { session, key } = options;
    if (!session || !session.session_id || !session.nonce) throw new VerifaceError('invalid_arg', 'capture: session (session_id, nonce) required');
    if (!key || !key.privateKey) throw new VerifaceError('invalid_arg', 'capture: key (createSessionKey()) required');
    this._checkModels(session.models);
    if (session.expires_at && session.expires_at < Date.now()) throw new VerifaceError('session_expired', 'the session has expired: start a new one');
    if (this._busy) throw new VerifaceError('busy', 'a capture is already running');
    this._busy = true;
    const cfg = session.config || {};
    const signal = options.signal;
    const owned = { stream: null, video: null };
    let sid = null, pump = null;
    const page = new PageWatch().start();
    const timing = new FrameTiming();
    let timer;
    try {
      if (signal && signal.aborted) throw abortError(signal);
      // the source: a video element, a stream, or the camera
      let video = options.video, stream = options.stream || (video && video.srcObject instanceof MediaStream ? video.srcObject : null);
      let cameraInfo = options.cameraInfo || null;
      if (!video && !stream) {
        const cam = await openCamera(options.camera || {});
        stream = owned.stream = cam.stream;
        cameraInfo = cam.info;
      }
      if (!video) {
        video = owned.video = document.createElement('video');
        video.muted = true; video.playsInline = true; video.autoplay = true;
        // rendered (1 px, invisible) so requestVideoFrameCallback fires
        video.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0;pointer-events:none';
        document.body.appendChild(video);
      }
      if (stream && video.srcObject !== stream) video.srcObject = stream;
      await videoReady(video);
      const track = stream ? stream.getVideoTracks()[0] : null;

      ({ sid } = await this._worker.call('createSession', { config: cfg }));
      const startedAt = Date.now();
      pump = new FramePump(video, (t) => timing.frame(t));
      const needed = cfg.good_frames || 5;
      const cancelled = new Promise((_, reject) => {
        if (signal && signal.aborted) reject(abortError(signal));   // aborted while the camera or the session started
        else if (signal) signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
        const ms = options.timeoutMs === undefined ? 120000 : options.timeoutMs;
        if (ms > 0) timer = setTimeout(() => reject(new VerifaceError('timeout', `capture did not complete in ${ms} ms`)), ms);
      });
      cancelled.catch(() => {});
      // adaptive liveness: after a `challenge` decision one sent frame must show the head turned
      // that way (the server checks |yaw| >= its challenge_min_yaw, 10 degrees by default)
      const challenge = options.challenge || session.challenge || null;
      const minYaw = options.challengeMinYaw || 12;
      const recentYaw = [];
      let lastKey = null, pushed = 0, status;
      for (;;) {
        const next = await Promise.race([pump.next(), cancelled]);
        if (!next) throw new VerifaceError('aborted', 'frame source stopped');
        const r = await Promise.race([this._worker.call('pushFrame', { sid, frame: next.frame, timestamp: next.timestamp }, [next.frame]), cancelled]);
        pushed++;
        status = r.status;
        timing.fingerprint(r.fingerprint);
        const q = status.quality;
        if (options.onFrame) options.onFrame(status, { width: r.width, height: r.height, ms: r.total_ms, fingerprint: r.fingerprint });
        if (status.good) { recentYaw.push(q.yaw); if (recentYaw.length > needed) recentYaw.shift(); } else recentYaw.length = 0;
        const met = !challenge || recentYaw.some((y) => (challenge.direction === 'left' ? y >= minYaw : y <= -minYaw));
        // good frames that do not meet the challenge yet: ask for the turn instead of "hold it"
        const k = status.good && !met ? `turn_${challenge.direction === 'left' ? 'left' : 'right'}` : guidanceKey(q.guidance);
        if (k !== lastKey && options.onGuidance) options.onGuidance({ code: q.guidance, key: k, message: guidanceMessage(k, options.messages), status });
        lastKey = k;
        // on the guidance engine of a lazy start the capture cannot complete yet
        const cap = met && !r.partial ? needed : needed - 1;
        if (options.onProgress) options.onProgress({ streak: Math.min(status.good_streak, cap), needed });
        // the kept frames are the last `needed` good ones (a ring in C): all of them must be good
        if (status.good_streak >= needed && met && !r.partial) break;
      }
      pump.stop();
      this._checkModels(session.models);   // a lazy start knows every model hash only now
      const fin = await Promise.race([this._worker.call('finish', { sid, jpegQuality: cfg.jpeg_quality || 0.92 }), cancelled]);
      const finishedAt = Date.now();
      page.stop();
      const signals = await collectSignals({ track, camera: cameraInfo || { getUserMediaCalls: getUserMediaCount() }, timing, page });
      const module = { web: WEB_VERSION, engine: this.info.engine, build: this.info.build };
      const capture = { started_at: startedAt, finished_at: finishedAt, frames_pushed: pushed, threaded: this.info.build === 'simd-mt' };
      const signed = await signPackage(key.privateKey, {
        session, capture, module, models: this.info.models, resultJson: fin.resultJson, frames: fin.frames, signals,
      });
      const out = { ...signed, result: fin.result, signals, frames: fin.frames.map(({ data, ...f }) => f),
        timings: { finish_ms: fin.finish_ms, encode_ms: fin.encode_ms } };
      Object.defineProperty(out, 'package', { get: () => JSON.parse(signed.body), enumerable: false });
      if (options.submit) {
        const server = options.submit === true ? location.origin : options.submit;
        out.decision = await postPackage(server, session.session_id, signed, { signal });
      }
      return out;
    } finally {
      clearTimeout(timer);
      page.stop();
      if (pump) pump.stop();
      if (sid !== null) this._worker.call('closeSession', { sid }).catch(() => {});
      if (owned.stream) stopStream(owned.stream);
      if (owned.video) { owned.video.srcObject = null; owned.video.remove(); }
      this._busy = false;
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

/** The session for the next attempt after a `retry`/`challenge` decision (same key, next nonce). */
export function nextAttempt(session, decision) {
  const r = decision && decision.retry;
  if (!r || !r.next_nonce) throw new VerifaceError('no_retry', 'the decision allows no further attempt');
  return { ...session, nonce: r.next_nonce, attempt: (decision.attempt || session.attempt || 1) + 1, challenge: decision.challenge || null };
}
