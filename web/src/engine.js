// engine.js - the C engine, session and challenge motion (src/wasm/glue.c) behind a small JS API.
// Runs wherever the emscripten module runs: the package's worker, and node for tests. Not used on
// the page itself.
import { cError, VerifaceError } from './errors.js';

/**
 * The model roles of the C engine (vf_model_roles, src/session/roles.c: the only list), read from
 * the module: [{ name, file, stage, input, required, fetched }] in engine order.
 */
export function modelRoles(M) {
  const out = [];
  for (let i = 0, n = M._vf_wasm_model_role_count(); i < n; i++) {
    const f = M._vf_wasm_model_role_flags(i);
    out.push({ name: M.UTF8ToString(M._vf_wasm_model_role(i, 0)), file: M.UTF8ToString(M._vf_wasm_model_role(i, 1)),
      stage: M.UTF8ToString(M._vf_wasm_model_role(i, 2)), input: M.UTF8ToString(M._vf_wasm_model_role(i, 3)),
      required: Boolean(f & 1), fetched: Boolean(f & 2) });
  }
  return out;
}

/** The roles a page fetched by (models/roles.json, written from the same table at build time)
 *  must be the module's: a stale roles.json would load files into the wrong roles. */
export function checkRoles(M, roles) {
  const want = modelRoles(M).map((r) => `${r.name}:${r.file}`).join(',');
  const got = roles.map((r) => `${r.name}:${r.file}`).join(',');
  if (want !== got) throw new VerifaceError('model', `models/roles.json (${got}) does not match the wasm build (${want})`);
}

export class Engine {
  /**
   * @param {object} M an instantiated emscripten module (veriface-simd or veriface-simd-mt)
   * @param {Record<string, Uint8Array|null>} models bytes per role name; absent roles run as "no model"
   * @param {number} threads 1 = inline; more only with the threaded build
   */
  static create(M, models, threads = 1) {
    const roles = modelRoles(M);
    const ptrs = [];
    try {
      const table = M._malloc(8 * roles.length);   // bytes[] then sizes[] (wasm32: 4-byte pointers and size_t)
      if (!table) throw new VerifaceError('no_memory', 'engine: model table');
      ptrs.push(table);
      roles.forEach((role, i) => {
        const b = models[role.name];
        let p = 0;
        if (b && b.length) {
          p = M._malloc(b.length);
          if (!p) throw new VerifaceError('no_memory', `cannot allocate ${b.length} bytes for ${role.name}`);
          ptrs.push(p);
          M.HEAPU8.set(b, p);
        }
        M.HEAPU32[(table >> 2) + i] = p;
        M.HEAPU32[(table >> 2) + roles.length + i] = p ? b.length : 0;
      });
      const h = M._vf_wasm_engine_create(threads, table, table + 4 * roles.length);
      if (!h) throw new VerifaceError('no_memory', 'engine: out of memory');
      const st = M._vf_wasm_engine_status(h);
      if (st !== 0) {
        const msg = M.UTF8ToString(M._vf_wasm_engine_error(h));
        M._vf_wasm_engine_free(h);
        throw cError(st, `engine: ${msg}`);
      }
      return new Engine(M, h, threads, roles);
    } finally {
      for (const p of ptrs) M._free(p);   // the engine keeps its own copies
    }
  }

  constructor(M, handle, threads, roles) {
    this.M = M;
    this.handle = handle;
    this.threads = threads;
    this.roles = roles;
    this.version = M.UTF8ToString(M._vf_version());
    /** hex SHA-256 per role name, '' when the model is absent */
    this.models = Object.fromEntries(roles.map((r, i) => [r.name, M.UTF8ToString(M._vf_wasm_engine_model_hash(handle, i))]));
  }

  /**
   * config: the server's session config (PACKAGE.md section 1: good_frames, liveness_frames,
   * live_pass, live_fail, max_frame_width/height, quality: { <vf_quality_config field>: value }).
   * Absent values keep the C defaults; an unknown quality field is an error (the page must run
   * exactly the server's checks).
   */
  createSession(config = {}) {
    const M = this.M;
    const c = M._vf_wasm_config_new();
    if (!c) throw new VerifaceError('no_memory', 'session config');
    try {
      const set = (name, v) => {
        if (v === undefined || v === null) return;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new VerifaceError('invalid_arg', `session config ${name}: not a number`);
        const n = M.lengthBytesUTF8(name) + 1, p = M._malloc(n);
        M.stringToUTF8(name, p, n);
        const st = M._vf_wasm_config_set(c, p, v);
        M._free(p);
        if (st !== 0) throw new VerifaceError('invalid_arg', `session config: unknown field ${name}`);
      };
      set('good_frames', config.good_frames);
      set('liveness_frames', config.liveness_frames);
      set('live_pass', config.live_pass);
      set('live_fail', config.live_fail);
      set('max_width', config.max_frame_width ?? config.max_width);
      set('max_height', config.max_frame_height ?? config.max_height);
      for (const [k, v] of Object.entries(config.quality || {})) set(k, v);
      // a one-frame analysis may ask for fewer good frames than the default liveness frames
      if (config.good_frames && !config.liveness_frames) set('liveness_frames', Math.min(config.good_frames, 3));
      const s = M._vf_wasm_session_create(this.handle, c);
      if (!s) throw new VerifaceError('invalid_arg', `session: ${M.UTF8ToString(M._vf_wasm_engine_error(this.handle))}`);
      return new Session(this, s);
    } finally {
      M._vf_wasm_config_free(c);
    }
  }

  close() {
    if (this.handle) this.M._vf_wasm_engine_free(this.handle);
    this.handle = 0;
  }
}

export class Session {
  constructor(engine, handle) {
    this.engine = engine;
    this.M = engine.M;
    this.handle = handle;
    this.buf = 0;
    this.bufSize = 0;
  }

  /**
   * Push one RGBA frame (rows packed). Returns { json, status, fingerprint }: json is the C frame
   * status verbatim, status its parse, fingerprint the 16-hex vf_frame_fingerprint.
   */
  push(rgba, width, height, timestampMs) {
    const M = this.M;
    const n = width * height * 4;
    if (rgba.length < n) throw new VerifaceError('invalid_arg', `frame: ${rgba.length} bytes for ${width}x${height} RGBA`);
    if (n > this.bufSize) {
      if (this.buf) M._free(this.buf);
      this.buf = M._malloc(n);
      if (!this.buf) { this.bufSize = 0; throw new VerifaceError('no_memory', 'frame buffer'); }
      this.bufSize = n;
    }
    M.HEAPU8.set(rgba.length === n ? rgba : rgba.subarray(0, n), this.buf);   // HEAPU8 read after malloc: growth replaces it
    const st = M._vf_wasm_session_push_rgba(this.handle, this.buf, width, height, timestampMs);
    if (st !== 0) throw cError(st, `frame: ${M.UTF8ToString(M._vf_wasm_session_error(this.handle))}`);
    const json = this._str(M._vf_wasm_session_status_json(this.handle));
    const hi = M._vf_wasm_session_fingerprint(this.handle, 1) >>> 0, lo = M._vf_wasm_session_fingerprint(this.handle, 0) >>> 0;
    return { json, status: JSON.parse(json), fingerprint: hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0') };
  }

  /** After `complete`: liveness + embedding. Returns { json, result }. */
  finish() {
    const M = this.M;
    const st = M._vf_wasm_session_finish(this.handle);
    if (st !== 0) throw cError(st, `finish: ${M.UTF8ToString(M._vf_wasm_session_error(this.handle))}`);
    const json = this._str(M._vf_wasm_session_result_json(this.handle));
    return { json, result: JSON.parse(json) };
  }

  /** The kept frames (capture order) with copies of their pixels. */
  kept() {
    const M = this.M, out = [];
    const n = M._vf_wasm_session_kept_count(this.handle);
    for (let i = 0; i < n; i++) {
      const p = M._vf_wasm_session_kept(this.handle, i);
      if (!p) throw new VerifaceError('internal', `kept frame ${i}`);
      const [index, width, height, channels] = [0, 1, 2, 3].map((w) => M._vf_wasm_session_kept_info(this.handle, w));
      const timestamp = M._vf_wasm_session_kept_timestamp(this.handle);
      const pixels = new Uint8ClampedArray(M.HEAPU8.subarray(p, p + width * height * channels));
      out.push({ index, width, height, channels, timestamp, pixels });
    }
    return out;
  }

  reset() { this.M._vf_wasm_session_reset(this.handle); }

  close() {
    if (this.buf) this.M._free(this.buf);
    if (this.handle) this.M._vf_wasm_session_free(this.handle);
    this.buf = this.handle = 0;
  }

  _str(p) {
    if (!p) throw new VerifaceError('no_memory', 'JSON buffer');
    return this.M.UTF8ToString(p);
  }
}

/**
 * The frames of an active challenge (vf_motion, docs/CHALLENGE.md): each push detects and meshes
 * the face and returns its pose (what the page prompts by) and the colour of its central region.
 * At most `maxFrames` pushes (2..96): the C side plans their memory at creation.
 */
export class Motion {
  /** @param {Engine} engine  @param {number} maxFrames */
  static create(engine, maxFrames) {
    const M = engine.M;
    const n = Math.trunc(maxFrames);
    const h = M._vf_wasm_motion_create(engine.handle, n);
    if (!h) throw new VerifaceError('invalid_arg', M.UTF8ToString(M._vf_wasm_engine_error(engine.handle)) || 'motion: cannot create');
    return new Motion(engine, h, n);
  }

  constructor(engine, handle, maxFrames) {
    this.engine = engine;
    this.M = engine.M;
    this.handle = handle;
    this.maxFrames = maxFrames;
    this.buf = 0;
    this.bufSize = 0;
  }

  /** Frames pushed so far. */
  get count() { return this.handle ? this.M._vf_wasm_motion_count(this.handle) : 0; }

  /**
   * Push one RGBA frame (rows packed). Returns the C vf_motion_frame:
   * { face, yaw, pitch, roll, rgb: [r, g, b], face_box: [x0, y0, x1, y1] } (degrees; yaw > 0 = the
   * subject's left, pitch > 0 = chin up; zeros without a face).
   */
  push(rgba, width, height, timestampMs) {
    const M = this.M;
    if (!this.handle) throw new VerifaceError('closed', 'motion: closed');
    const n = width * height * 4;
    if (rgba.length < n) throw new VerifaceError('invalid_arg', `frame: ${rgba.length} bytes for ${width}x${height} RGBA`);
    if (n > this.bufSize) {
      if (this.buf) M._free(this.buf);
      this.buf = M._malloc(n);
      if (!this.buf) { this.bufSize = 0; throw new VerifaceError('no_memory', 'frame buffer'); }
      this.bufSize = n;
    }
    M.HEAPU8.set(rgba.length === n ? rgba : rgba.subarray(0, n), this.buf);
    const st = M._vf_wasm_motion_push_rgba(this.handle, this.buf, width, height, timestampMs);
    if (st !== 0) throw cError(st, M.UTF8ToString(M._vf_wasm_motion_error(this.handle)) || 'motion: push failed');
    const p = M._vf_wasm_motion_frame(this.handle) >> 2;
    const w = Array.from(M.HEAPF32.subarray(p, p + 11));   // HEAPF32 read after the call: growth replaces it
    return { face: w[0] !== 0, yaw: w[1], pitch: w[2], roll: w[3], rgb: w.slice(4, 7), face_box: w.slice(7, 11) };
  }

  reset() { if (this.handle) this.M._vf_wasm_motion_reset(this.handle); }

  close() {
    if (this.buf) this.M._free(this.buf);
    if (this.handle) this.M._vf_wasm_motion_free(this.handle);
    this.buf = this.handle = 0;
    this.bufSize = 0;
  }
}

/** The default embedder's match bands (cosine): VF_MATCH_STRONG_DEFAULT / VF_MATCH_WEAK_DEFAULT of
 *  include/veriface.h, copied (tests/wasm/module-smoke.mjs checks them against vf_match_band_of).
 *  Strong: above every impostor pair of ../shared/data; weak: the server's default face_match_threshold. */
export const MATCH_BANDS = Object.freeze({ strong: 0.60, weak: 0.44 });

/** 'strong' | 'weak' | 'none' for a similarity, as the C vf_match_band_of. A preview: the server decides. */
export function matchBand(sim) {
  return sim >= MATCH_BANDS.strong ? 'strong' : sim >= MATCH_BANDS.weak ? 'weak' : 'none';
}

/** Cosine similarity of two L2-normalised embeddings (plain JS; the C vf_match_similarity does the same). */
export function similarity(a, b) {
  let s = 0, na = 0, nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) { s += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na > 0 && nb > 0 ? s / Math.sqrt(na * nb) : 0;
}
