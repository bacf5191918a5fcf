// fakecam.js - a camera for engines without a file-backed fake device (Firefox, WebKitGTK; Chromium
// too in the cross-engine tests, so every engine sees the same frames): on a page opened with
// ?cam=SET, getUserMedia({ video }) returns a canvas.captureStream() that plays the real webcam
// frames of SET (JPEGs written by engines.mjs makeFrames with ffmpeg) at their frame rate, looping,
// and enumerateDevices lists it. Served by the test proxy at /__test__/fakecam.js; the package
// under test is not changed.
const set = new URLSearchParams(location.search).get('cam');
const md = navigator.mediaDevices;
if (set && md) {
  const base = `/__test__/frames/${encodeURIComponent(set)}/`;
  const label = `veriface fake camera (${set})`;
  // fetched up front, decoded as drawn (a hundred decoded frames would hold ~120 MB per page)
  const frames = fetch(`${base}index.json`).then((r) => r.json()).then(async (idx) => {
    const blobs = await Promise.all([...new Set(idx.files)].map(async (f) => [f, await (await fetch(base + f)).blob()]));
    const first = await createImageBitmap(blobs[0][1]);
    const byName = new Map(blobs);
    return { fps: idx.fps, width: first.width, height: first.height, first, blobs: idx.files.map((f) => byName.get(f)) };
  });
  frames.catch(() => {});
  // on the prototype: WebKit may collect navigator.mediaDevices' wrapper and hand out a new one,
  // without properties set on the old one
  const proto = Object.getPrototypeOf(md);
  const original = proto.getUserMedia;
  proto.getUserMedia = async function getUserMedia(constraints) {
    if (!constraints || !constraints.video) {
      if (original) return original.call(this, constraints);
      throw new DOMException('no audio here', 'NotFoundError');
    }
    const { fps, width, height, first, blobs } = await frames;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    // in the document (1 px, invisible): WebKit captures a canvas that is rendered
    canvas.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0;pointer-events:none';
    document.documentElement.appendChild(canvas);
    const g = canvas.getContext('2d');
    g.drawImage(first, 0, 0);
    let i = 1, busy = false;
    const draw = async () => {
      if (busy) return;   // a slow decode skips a tick, as a camera drops a frame
      busy = true;
      try {
        const b = await createImageBitmap(blobs[i % blobs.length]);
        g.drawImage(b, 0, 0);
        b.close();
        i++;
      } finally { busy = false; }
    };
    const timer = setInterval(draw, 1000 / fps);
    // no frame rate: a frame each time the canvas is drawn, never a repeat of an unchanged canvas
    // (a repeated picture is what the server refuses as a frozen feed)
    const stream = canvas.captureStream();
    const track = stream.getVideoTracks()[0];
    const stop = track.stop.bind(track);
    track.stop = () => { clearInterval(timer); canvas.remove(); stop(); };
    Object.defineProperty(track, 'label', { value: label });
    window.__vfFakeCamera = { set, frames: blobs.length, fps, calls: (window.__vfFakeCamera ? window.__vfFakeCamera.calls : 0) + 1 };
    return stream;
  };
  const enumerate = proto.enumerateDevices || (async () => []);
  proto.enumerateDevices = async function enumerateDevices() {
    return [...(await enumerate.call(this).catch(() => [])).filter((d) => d.kind !== 'videoinput'),
      { kind: 'videoinput', deviceId: 'veriface-fake', groupId: 'veriface-fake', label, toJSON() { return { ...this }; } }];
  };
}

// what went wrong on the page, for the test to read (window.__vfProblems): uncaught errors,
// unhandled rejections, console.error (every engine; none of them share one devtools log)
window.__vfProblems = [];
window.addEventListener('error', (e) => window.__vfProblems.push(`error: ${e.message} at ${e.filename}:${e.lineno}`));
window.addEventListener('unhandledrejection', (e) => window.__vfProblems.push(`unhandled rejection: ${e.reason && (e.reason.stack || e.reason.message) || e.reason}`));
const consoleError = console.error.bind(console);
console.error = (...a) => { window.__vfProblems.push(`console.error: ${a.map(String).join(' ')}`); consoleError(...a); };
