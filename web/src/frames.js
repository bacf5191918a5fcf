// frames.js - frames out of a <video> (camera stream or file): records every presented frame's
// time (for the timing signals) and hands the capture loop the newest frame as a transferable
// ImageBitmap or VideoFrame, taken in the frame's own requestVideoFrameCallback where available,
// else polling currentTime. Frame times
// are epoch milliseconds, the clock of the package's created_at: the server checks that the frames
// were taken between the nonce's issue and the package (PACKAGE.md section 3).
import { VerifaceError } from './errors.js';
import { sha256Hex, toBase64 } from './bytes.js';

export class FramePump {
  /**
   * @param {HTMLVideoElement} video  @param {(t: number) => void} onFrameTime
   * @param {{ videoFrame?: boolean }} options videoFrame: hand out VideoFrames (WebCodecs; no copy on
   *   the page, the worker draws them) where the browser makes them from a video, else ImageBitmaps
   */
  constructor(video, onFrameTime, { videoFrame = false } = {}) {
    this.video = video;
    this.onFrameTime = onFrameTime;
    this.waiters = [];
    this.stopped = false;
    this.slot = null;    // the newest picture taken and not handed out yet: { frame (Promise), timestamp, id }
    this.handed = null;  // id of the last picture handed out (VideoFrame timestamp, mediaTime or a thumbnail)
    this.videoFrame = videoFrame && typeof globalThis.VideoFrame === 'function';
    this.rvfc = typeof video.requestVideoFrameCallback === 'function';
    this.lastTime = -1;
    this.calls = 0;
    // performance time -> epoch ms, as Date.now() at the start: performance.timeOrigin + t drifts
    // from Date.now() on a page left open while the machine slept (its monotonic clock stopped)
    this.epoch = Date.now() - performance.now();
    if (this.rvfc) this._arm();
    else this._poll();
  }

  /**
   * A picture is taken in the callback of the frame it belongs to, never later: the video shows
   * that frame then, so its time and its picture agree, and no picture is taken twice (taking it
   * when the loop asks, after awaiting, gave a later picture with an earlier time, and the same
   * picture twice: the server refuses that as a frozen feed).
   */
  _arm() {
    this.handle = this.video.requestVideoFrameCallback((now, meta) => {
      if (this.stopped) return;
      // a callback without a new frame (WebKit calls again for the same one): not a frame
      const n = meta ? meta.presentedFrames : undefined;
      if (n !== undefined && n === this.presented) { this._arm(); return; }
      this.presented = n;
      const t = this.epoch + (Number.isFinite(meta && meta.captureTime) ? meta.captureTime : now);
      this.onFrameTime(t);
      // VideoFrames cost nothing to take: the newest is always held; bitmaps only when asked
      if (this.waiters.length || this.videoFrame) this._take(t, `p${n === undefined ? ++this.calls : n}`);
      this._arm();
    });
  }

  /** No requestVideoFrameCallback: a new currentTime is a new frame, and a picture equal to the
   *  last one handed out (a thumbnail compared) is not handed out again unless the feed keeps it
   *  for FROZEN_MS (a frozen camera is the server's to judge). */
  _poll() {
    const tick = () => {
      if (this.stopped) return;
      const v = this.video;
      if (v.readyState >= 2 && v.currentTime !== this.lastTime) {
        this.lastTime = v.currentTime;
        const t = this.epoch + performance.now();
        this.onFrameTime(t);
        if (this.waiters.length) this._take(t, null);
      }
      this.timer = setTimeout(tick, 10);
    };
    tick();
  }

  /** Take the picture the video shows now (synchronously: createImageBitmap copies the current
   *  frame when called) as the newest, and give it to a waiting next(). */
  _take(t, id) {
    let frame = null;
    if (this.videoFrame) {
      try {
        const vf = new VideoFrame(this.video);
        if (id === null) id = `v${vf.timestamp}`;
        frame = Promise.resolve(vf);
      } catch { this.videoFrame = false; }   // not from this video here: bitmaps from now on
    }
    if (!frame) frame = createImageBitmap(this.video);
    frame.catch(() => {});
    if (this.slot) this.slot.frame.then((f) => f.close(), () => {});
    this.slot = { frame, timestamp: t, id };
    if (this.waiters.length) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
  }

  /**
   * The newest frame not handed out yet: at once when one was taken since the last call (the
   * worker was busy: older frames are skipped), else the next one. { frame: ImageBitmap or
   * VideoFrame, timestamp } (the caller transfers or closes it); null once stopped.
   */
  async next() {
    for (;;) {
      if (this.stopped) return null;
      if (!this.slot) { await new Promise((resolve) => this.waiters.push(resolve)); continue; }
      const { frame, timestamp, id } = this.slot;
      this.slot = null;
      const f = await frame;
      if (this.stopped) { f.close(); return null; }
      const key = id || this._thumb(f, timestamp);
      if (key !== null && key === this.handed) { f.close(); continue; }   // the same picture again
      this.handed = key;
      return { frame: f, timestamp };
    }
  }

  /** The polled path's picture identity: a 16x12 thumbnail, or null (hand it out) once the same
   *  picture has been seen for FROZEN_MS. */
  _thumb(f, t) {
    try {
      if (!this.thumb) {
        const c = document.createElement('canvas');
        c.width = 16; c.height = 12;
        this.thumb = c.getContext('2d', { willReadFrequently: true });
      }
      this.thumb.drawImage(f, 0, 0, 16, 12);
      const key = String(this.thumb.getImageData(0, 0, 16, 12).data);
      if (key !== this.handed) { this.sameSince = t; return key; }
      return t - this.sameSince >= FROZEN_MS ? (this.sameSince = t, null) : key;
    } catch {
      return null;
    }
  }

  stop() {
    this.stopped = true;
    if (this.rvfc && this.handle !== undefined && this.video.cancelVideoFrameCallback) this.video.cancelVideoFrameCallback(this.handle);
    clearTimeout(this.timer);
    if (this.slot) this.slot.frame.then((f) => f.close(), () => {});
    this.slot = null;
    for (const resolve of this.waiters) resolve();
    this.waiters = [];
  }
}
/** A picture unchanged for this long is a frozen feed, not a frame taken twice: handed out. */
const FROZEN_MS = 500;

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
