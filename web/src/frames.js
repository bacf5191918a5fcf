// frames.js - frames out of a <video> (camera stream or file): records every presented frame's
// time (for the timing signals) and hands the capture loop the newest frame as a transferable
// ImageBitmap. requestVideoFrameCallback where available, else polling currentTime. Frame times
// are epoch milliseconds, the clock of the package's created_at: the server checks that the frames
// were taken between the nonce's issue and the package (PACKAGE.md section 3).
import { VerifaceError } from './errors.js';
import { sha256Hex, toBase64 } from './bytes.js';

export class FramePump {
  /** @param {HTMLVideoElement} video  @param {(t: number) => void} onFrameTime */
  constructor(video, onFrameTime) {
    this.video = video;
    this.onFrameTime = onFrameTime;
    this.waiters = [];
    this.stopped = false;
    this.seq = 0;        // frames presented so far
    this.taken = 0;      // seq of the last frame handed out
    this.lastT = 0;
    this.rvfc = typeof video.requestVideoFrameCallback === 'function';
    this.lastTime = -1;
    // performance time -> epoch ms, as Date.now() at the start: performance.timeOrigin + t drifts
    // from Date.now() on a page left open while the machine slept (its monotonic clock stopped)
    this.epoch = Date.now() - performance.now();
    if (this.rvfc) this._arm();
    else this._poll();
  }

  _arm() {
    this.handle = this.video.requestVideoFrameCallback((now, meta) => {
      if (this.stopped) return;
      // a callback without a new frame (WebKit calls again for the same one): not a frame
      const n = meta ? meta.presentedFrames : undefined;
      if (n !== undefined && n === this.presented) { this._arm(); return; }
      this.presented = n;
      const t = Number.isFinite(meta && meta.captureTime) ? meta.captureTime : now;
      this._deliver(t);
      this._arm();
    });
  }

  _poll() {
    const tick = () => {
      if (this.stopped) return;
      const v = this.video;
      if (v.readyState >= 2 && v.currentTime !== this.lastTime) {
        this.lastTime = v.currentTime;
        this._deliver(performance.now());
      }
      this.timer = setTimeout(tick, 10);
    };
    tick();
  }

  _deliver(perfT) {
    const t = this.epoch + perfT;
    this.seq++;
    this.lastT = t;
    this.onFrameTime(t);
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve(t);
  }

  /**
   * The newest frame not handed out yet: at once when one was presented since the last call (the
   * worker was busy: older frames are skipped), else the next one. { frame: ImageBitmap,
   * timestamp } (the caller transfers or closes it); null once stopped.
   */
  async next() {
    if (this.stopped) return null;
    let t = this.lastT;
    if (this.seq === this.taken) t = await new Promise((resolve) => this.waiters.push(resolve));
    if (this.stopped || t === null) return null;
    this.taken = this.seq;
    const frame = await createImageBitmap(this.video);
    return { frame, timestamp: t };
  }

  stop() {
    this.stopped = true;
    if (this.rvfc && this.handle !== undefined && this.video.cancelVideoFrameCallback) this.video.cancelVideoFrameCallback(this.handle);
    clearTimeout(this.timer);
    for (const resolve of this.waiters) resolve(null);
    this.waiters = [];
  }
}

/** Wait until a video has frames (metadata and a first frame), playing. */
export async function videoReady(video, timeoutMs = 10000) {
  // play() itself may never settle (a stream without a video track): not awaited alone
  if (video.paused) { try { video.play().catch(() => {}); } catch { /* autoplay rules: muted videos play */ } }
  if (video.readyState >= 2 && video.videoWidth) return;
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => { cleanup(); reject(new VerifaceError('timeout', `the video gave no frame in ${timeoutMs} ms`)); }, timeoutMs);
    const ok = () => { if (video.readyState >= 2 && video.videoWidth) { cleanup(); resolve(); } };
    const cleanup = () => { clearTimeout(t); video.removeEventListener('loadeddata', ok); video.removeEventListener('playing', ok); };
    video.addEventListener('loadeddata', ok);
    video.addEventListener('playing', ok);
  });
}

// ---- the page's canvas, where the worker has no OffscreenCanvas (info.path pixels/jpeg 'page') ----
let work = null;
function pageCanvas(w, h) {
  if (!work) work = document.createElement('canvas');
  if (work.width !== w || work.height !== h) { work.width = w; work.height = h; }
  return work;
}

/** A frame (ImageBitmap, closed here) as RGBA scaled to fit maxW x maxH: { data, width, height }. */
export function readPixels(frame, maxW, maxH) {
  try {
    const fw = frame.width, fh = frame.height;
    if (!fw || !fh) throw new VerifaceError('image', 'empty frame');
    const k = Math.min(1, maxW / fw, maxH / fh);
    const w = Math.max(1, Math.floor(fw * k)), h = Math.max(1, Math.floor(fh * k));
    const g = pageCanvas(w, h).getContext('2d', { willReadFrequently: true });
    g.drawImage(frame, 0, 0, w, h);
    return { data: g.getImageData(0, 0, w, h).data, width: w, height: h };
  } finally {
    if (frame.close) frame.close();
  }
}

/** Frames the worker returned as pixels (no JPEG encoder there) encoded here: JPEG, SHA-256, base64. */
export async function encodeOnPage(frames) {
  const out = [];
  for (const { pixels, quality, ...f } of frames) {
    if (!pixels) { out.push(f); continue; }
    const c = pageCanvas(f.width, f.height);
    c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(pixels), f.width, f.height), 0, 0);
    const blob = await new Promise((resolve) => c.toBlob(resolve, 'image/jpeg', quality));
    if (!blob || blob.type !== 'image/jpeg') throw new VerifaceError('unsupported', 'this browser cannot encode JPEG (canvas.toBlob)');
    const jpeg = new Uint8Array(await blob.arrayBuffer());
    out.push({ ...f, sha256: await sha256Hex(jpeg), data: toBase64(jpeg) });
  }
  return out;
}
