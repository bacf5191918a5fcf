// signals.js - injection and virtual-camera signals of PACKAGE.md section 5: raw facts, named.
// The page never decides on them; the server scores them. Collected on the page (the track, the
// page's visibility and focus, the environment) and per frame (timing, fingerprints from C).
import { sha256Hex } from './bytes.js';

const round = (x, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

/** JSON-safe copy of getSettings()/getCapabilities() (ranges and arrays kept), without the raw
 *  device and group ids (the device id travels hashed only). */
function plain(o) {
  if (!o) return null;
  try {
    const c = JSON.parse(JSON.stringify(o));
    delete c.deviceId;
    delete c.groupId;
    return c;
  } catch {
    return null;
  }
}

/** The WebGL renderer string (SwiftShader/llvmpipe betray software rendering), or null. */
export function webglRenderer() {
  try {
    const c = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1)
      : (typeof document !== 'undefined' ? document.createElement('canvas') : null);
    const gl = c && (c.getContext('webgl') || c.getContext('experimental-webgl'));
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const r = gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
    const lose = gl.getExtension('WEBGL_lose_context');
    if (lose) lose.loseContext();
    return typeof r === 'string' ? r : null;
  } catch {
    return null;
  }
}

export function environmentSignals() {
  const n = globalThis.navigator || {};
  const ua = n.userAgent || '';
  return {
    webdriver: n.webdriver === true,
    user_agent: ua,
    headless_ua: /Headless/i.test(ua),
    webgl_renderer: webglRenderer(),
    hardware_concurrency: n.hardwareConcurrency || null,
    cross_origin_isolated: globalThis.crossOriginIsolated === true,
  };
}

/** Frame timing: intervals between camera frames, and repeated fingerprints of analysed frames. */
export class FrameTiming {
  constructor() { this.times = []; this.duplicates = 0; this.lastPrint = null; this.analysed = 0; }

  /** A frame delivered by the camera at `t` ms (capture time when the browser gives it). */
  frame(t) { if (Number.isFinite(t)) this.times.push(t); }

  /** The C fingerprint (vf_frame_fingerprint) of an analysed frame. */
  fingerprint(hex) {
    this.analysed++;
    if (hex === this.lastPrint) this.duplicates++;
    this.lastPrint = hex;
  }

  toJSON(claimedFps) {
    const t = this.times, d = [];
    for (let i = 1; i < t.length; i++) if (t[i] > t[i - 1]) d.push(t[i] - t[i - 1]);
    const mean = d.length ? d.reduce((a, b) => a + b, 0) / d.length : null;
    const sd = d.length ? Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length) : null;
    return {
      frames: t.length, analysed: this.analysed, mean_ms: round(mean), jitter_ms: round(sd),
      max_gap_ms: d.length ? round(Math.max(...d)) : null, duplicates: this.duplicates,
      claimed_fps: Number.isFinite(claimedFps) ? claimedFps : null, measured_fps: mean ? round(1000 / mean) : null,
    };
  }
}

/** Visibility changes and focus loss while a capture runs. */
export class PageWatch {
  constructor() {
    this.visibility_changes = 0; this.blur_events = 0; this.hidden_ms = 0; this._hiddenAt = null;
    this._onVis = () => {
      this.visibility_changes++;
      const now = performance.now();
      if (document.visibilityState === 'hidden') this._hiddenAt = now;
      else if (this._hiddenAt !== null) { this.hidden_ms += now - this._hiddenAt; this._hiddenAt = null; }
    };
    this._onBlur = () => { this.blur_events++; };
  }

  start() {
    if (typeof document === 'undefined') return this;
    if (document.visibilityState === 'hidden') this._hiddenAt = performance.now();
    document.addEventListener('visibilitychange', this._onVis);
    globalThis.addEventListener('blur', this._onBlur);
    return this;
  }

  stop() {
    if (typeof document === 'undefined') return this;
    document.removeEventListener('visibilitychange', this._onVis);
    globalThis.removeEventListener('blur', this._onBlur);
    if (this._hiddenAt !== null) { this.hidden_ms += performance.now() - this._hiddenAt; this._hiddenAt = null; }
    return this;
  }

  toJSON() {
    return { visibility_changes: this.visibility_changes, blur_events: this.blur_events, hidden_ms: Math.round(this.hidden_ms) };
  }
}

/**
 * Facts about the camera track. `camera` comes from camera.js (open details: requested, probe,
 * devices, get_user_media_calls); without a track (a video file) the camera is null.
 */
export async function cameraSignals(track, camera = {}) {
  if (!track) return null;
  const raw = track.getSettings ? track.getSettings() : null;
  const settings = plain(raw);
  let capabilities = null;
  try { capabilities = track.getCapabilities ? plain(track.getCapabilities()) : null; } catch { capabilities = null; }
  const deviceId = (raw && raw.deviceId) || '';
  return {
    label: track.label || '',
    device_id_hash: deviceId ? await sha256Hex(deviceId) : null,
    settings, capabilities,
    requested: camera.requested || null,
    probe: camera.probe || null,
    devices: Number.isFinite(camera.devices) ? camera.devices : null,
    get_user_media_calls: camera.getUserMediaCalls || 0,
    ready_state: track.readyState, muted: track.muted === true,
  };
}

/** The signals object of the package. */
export async function collectSignals({ track, camera, timing, page }) {
  const cam = await cameraSignals(track, camera);
  const claimed = cam && cam.settings ? cam.settings.frameRate : undefined;
  return {
    camera: cam,
    source: track ? 'camera' : 'video_element',
    timing: timing.toJSON(claimed),
    environment: environmentSignals(),
    page: page.toJSON(),
  };
}
