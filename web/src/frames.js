// frames.js - frames out of a <video> (camera stream or file): records every presented frame's
// time (for the timing signals) and hands the capture loop the newest frame as a transferable
// ImageBitmap. requestVideoFrameCallback where available, else polling currentTime. Frame times
// are epoch milliseconds, the clock of the package's created_at: the server checks that the frames
// were taken between the nonce's issue and the package (PACKAGE.md section 3).

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
  if (video.paused) { try { await video.play(); } catch { /* autoplay rules: muted videos play */ } }
  if (video.readyState >= 2 && video.videoWidth) return;
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => { cleanup(); reject(new Error('video did not start')); }, timeoutMs);
    const ok = () => { if (video.readyState >= 2 && video.videoWidth) { cleanup(); resolve(); } };
    const cleanup = () => { clearTimeout(t); video.removeEventListener('loadeddata', ok); video.removeEventListener('playing', ok); };
    video.addEventListener('loadeddata', ok);
    video.addEventListener('playing', ok);
  });
}
