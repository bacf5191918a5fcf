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
  // decoded up front: drawing must keep the frame rate from the first frame
  const frames = fetch(`${base}index.json`).then((r) => r.json()).then(async (idx) => ({
    fps: idx.fps, bitmaps: await Promise.all(idx.files.map(async (f) => createImageBitmap(await (await fetch(base + f)).blob()))),
  }));
  frames.catch(() => {});
  const original = md.getUserMedia ? md.getUserMedia.bind(md) : null;
  md.getUserMedia = async (constraints) => {
    if (!constraints || !constraints.video) {
      if (original) return original(constraints);
      throw new DOMException('no audio here', 'NotFoundError');
    }
    const { fps, bitmaps } = await frames;
    const canvas = document.createElement('canvas');
    canvas.width = bitmaps[0].width;
    canvas.height = bitmaps[0].height;
    // in the document (1 px, invisible): WebKit captures a canvas that is rendered
    canvas.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0;pointer-events:none';
    document.documentElement.appendChild(canvas);
    const g = canvas.getContext('2d');
    let i = 0;
    const draw = () => { g.drawImage(bitmaps[i % bitmaps.length], 0, 0); i++; };
    draw();
    const timer = setInterval(draw, 1000 / fps);
    // no frame rate: a frame each time the canvas is drawn, never a repeat of an unchanged canvas
    // (a repeated picture is what the server refuses as a frozen feed)
    const stream = canvas.captureStream();
    const track = stream.getVideoTracks()[0];
    const stop = track.stop.bind(track);
    track.stop = () => { clearInterval(timer); canvas.remove(); stop(); };
    Object.defineProperty(track, 'label', { value: label });
    window.__vfFakeCamera = { set, frames: bitmaps.length, fps, calls: (window.__vfFakeCamera ? window.__vfFakeCamera.calls : 0) + 1 };
    return stream;
  };
  const enumerate = md.enumerateDevices ? md.enumerateDevices.bind(md) : async () => [];
  md.enumerateDevices = async () => [...(await enumerate().catch(() => [])).filter((d) => d.kind !== 'videoinput'),
    { kind: 'videoinput', deviceId: 'veriface-fake', groupId: 'veriface-fake', label, toJSON() { return { ...this }; } }];
}

// what went wrong on the page, for the test to read (window.__vfProblems): uncaught errors,
// unhandled rejections, console.error (every engine; none of them share one devtools log)
window.__vfProblems = [];
window.addEventListener('error', (e) => window.__vfProblems.push(`error: ${e.message} at ${e.filename}:${e.lineno}`));
window.addEventListener('unhandledrejection', (e) => window.__vfProblems.push(`unhandled rejection: ${e.reason && (e.reason.stack || e.reason.message) || e.reason}`));
const consoleError = console.error.bind(console);
console.error = (...a) => { window.__vfProblems.push(`console.error: ${a.map(String).join(' ')}`); consoleError(...a); };
