// camera.js - list cameras, open one, remember the choice (opt-in, localStorage), and probe the
// track with applyConstraints (requested vs delivered resolution is a virtual-camera signal).
import { VerifaceError } from './errors.js';

const STORE_KEY = 'veriface.camera';
let getUserMediaCalls = 0;

/** How many times this package called getUserMedia on this page. */
export function getUserMediaCount() { return getUserMediaCalls; }

function media() {
  const md = globalThis.navigator && navigator.mediaDevices;
  if (!md || !md.getUserMedia) throw new VerifaceError('camera_unavailable', 'navigator.mediaDevices is unavailable (needs https or localhost)');
  return md;
}

/**
 * The camera src/preload.js opened as the page loaded (data-veriface-camera), when it asked
 * exactly `asked`: its getUserMedia promise, taken once. Asked otherwise: that stream is stopped
 * and null (the caller asks its own). Not taken in time, preload.js stopped it and removed it
 * (nothing to take here). A stream whose track has ended meanwhile is asked again.
 */
function takeEarly(asked) {
  const cam = globalThis[EARLY];
  if (!cam) return null;
  delete globalThis[EARLY];
  clearTimeout(cam.timer);
  if (cam.asked !== JSON.stringify(asked)) {
    getUserMediaCalls++;   // that call was the package's too
    cam.opening.then(stopStream, () => {});
    return null;
  }
  return cam.opening.then((s) => {
    if (s.getVideoTracks().some((t) => t.readyState === 'live')) return s;
    stopStream(s);
    getUserMediaCalls++;
    return media().getUserMedia(asked);
  });
}
const EARLY = Symbol.for('veriface.camera');

/** Video inputs as { deviceId, label, groupId }; labels are empty until camera permission is granted. */
export async function listCameras() {
  const all = await media().enumerateDevices();
  return all.filter((d) => d.kind === 'videoinput').map((d) => ({ deviceId: d.deviceId, label: d.label, groupId: d.groupId }));
}

/** Remember a deviceId for later visits (only when the page asks: it is opt-in). */
export function rememberCamera(deviceId) {
  try { if (deviceId) localStorage.setItem(STORE_KEY, deviceId); else localStorage.removeItem(STORE_KEY); } catch { /* storage blocked */ }
}
export function rememberedCamera() {
  try { return localStorage.getItem(STORE_KEY) || null; } catch { return null; }
}
export function forgetCamera() { rememberCamera(null); }

function mapError(e) {
  const n = e && e.name;
  if (n === 'NotAllowedError' || n === 'SecurityError') return new VerifaceError('camera_denied', 'camera permission denied', { cause: e });
  if (n === 'NotFoundError' || n === 'OverconstrainedError') return new VerifaceError('camera_missing', 'no matching camera', { cause: e });
  if (n === 'NotReadableError' || n === 'AbortError') return new VerifaceError('camera_busy', 'the camera is in use or failed to start', { cause: e });
  return VerifaceError.from(e, 'camera_error');
}

/**
 * Open a camera. options: deviceId (else the remembered one when `remember`, else the user-facing
 * camera), width/height (ideal, default 1280x720), probe (default true: ask 640x480 with
 * applyConstraints and record what the track delivers), remember (store the deviceId that opened),
 * video (a <video> that shows the stream as soon as it opens: its start, a tenth of a second or
 * more on a slow device, then runs alongside the probe and the camera count instead of after them).
 * Returns { stream, track, info } where info holds the facts the signals need.
 */
export async function openCamera({ deviceId, width = 1280, height = 720, frameRate = 30, probe = true, remember = false, video: preview = null } = {}) {
  const id = deviceId || (remember ? rememberedCamera() : null);
  const requested = { width, height, frameRate };
  const video = { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: frameRate } };
  if (id) video.deviceId = { exact: id };
  else video.facingMode = 'user';
  let stream;
  getUserMediaCalls++;
  try {
    const early = takeEarly({ video, audio: false });
    stream = early ? await early : await media().getUserMedia({ video, audio: false });
  } catch (e) {
    // a remembered camera that is gone: forget it and use the default one
    if (id && !deviceId && e && (e.name === 'NotFoundError' || e.name === 'OverconstrainedError')) {
      forgetCamera();
      return openCamera({ width, height, frameRate, probe, remember, video: preview });
    }
    throw mapError(e);
  }
  const track = stream.getVideoTracks()[0];
  if (preview) show(preview, stream);
  const info = { requested, probe: null, devices: null, getUserMediaCalls };
  // side by side: each is a round trip to the browser, and the camera's first frame waits for both
  const probed = probe && track.applyConstraints ? probeTrack(track, { width: 640, height: 480 }) : null;
  const counted = listCameras().then((l) => l.length, () => null);
  info.probe = await probed;
  info.devices = await counted;
  const got = track.getSettings ? track.getSettings().deviceId : null;
  if (remember && got) rememberCamera(got);
  return { stream, track, info };
}

/** Ask for a size and record what the track then delivers (a real camera adapts; files and
 *  many virtual cameras do not, or accept anything). The track keeps the probed size. */
export async function probeTrack(track, asked) {
  const out = { asked, got: null, error: null };
  try {
    await track.applyConstraints({ width: { ideal: asked.width }, height: { ideal: asked.height } });
  } catch (e) {
    out.error = (e && e.name) || 'error';
  }
  const s = track.getSettings ? track.getSettings() : {};
  out.got = { width: s.width || null, height: s.height || null };
  return out;
}

/** A <video> playing a camera stream inline and muted (autoplay rules allow that at once). */
function show(video, stream) {
  video.muted = true;
  video.playsInline = true;
  if (video.srcObject !== stream) video.srcObject = stream;
  try { const p = video.play(); if (p && p.catch) p.catch(() => {}); } catch { /* it plays when shown */ }
}

export function stopStream(stream) {
  if (stream) for (const t of stream.getTracks()) t.stop();
}
