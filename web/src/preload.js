// preload.js - a page's early fetch of what the worker reads first (roles.json, the detector and
// the mesh), only on a visit whose Cache API lacks one of those models: tools/web-links.mjs puts
// <script async src=".../src/preload.js" data-veriface-fetch="models/roles.json ..."> first in the
// page's head. A static <link rel="preload"> also ran on a warm visit, where the worker reads the
// models from the Cache API: the page's main thread then took in 1.4 MB it never used before its
// own module ran (~0.3-0.5 s of a 4x slowed CPU). A classic script, not a module: it runs as soon
// as it arrives (no import to wait for), so a cold visit's models start downloading early.
// With data-veriface-worker it also starts the engine's module worker at once (an engine without
// module workers: nothing), named so that it begins on its own (worker.js prestart: roles.json,
// the detector and mesh from the Cache API or the network, the wasm build compiling);
// Veriface.create() takes that worker over when its own would be the same file (veriface.js
// startWorker). The worker fetches the models itself then, so no preload links are added.
// With data-veriface-camera it also opens the camera (below; camera.js openCamera takes it).
(() => {
  // as models.js names them (MODEL_CACHE, modelCacheKey): the worker's cache and keys
  const CACHE = 'veriface-models-v1';
  const key = (sha256) => `${location.origin}/__veriface__/models/sha256/${sha256}`;
  const script = document.currentScript;
  if (!script) return;
  const urls = (script.dataset.verifaceFetch || '').split(/\s+/).filter(Boolean).map((u) => new URL(u, new URL('../', script.src)).href);
  // data-veriface-camera (a page that opens the camera as it loads, not on a click): the
  // user-facing camera asked at once, with the constraints openCamera() asks by default
  // (camera.js takeEarly compares them): the permission prompt and the camera's start run while
  // the page's modules load. openCamera() takes this stream, once; not taken within the
  // attribute's milliseconds (default 20000), its tracks are stopped.
  const md = self.navigator && navigator.mediaDevices;
  if (script.dataset.verifaceCamera !== undefined && md && md.getUserMedia) {
    const asked = { video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 }, facingMode: 'user' }, audio: false };
    const cam = { asked: JSON.stringify(asked), opening: null, timer: 0, expired: false };
    try { cam.opening = md.getUserMedia(asked); } catch (e) { cam.opening = Promise.reject(e); }
    cam.opening.then(() => { if (self.performance && performance.mark) performance.mark('veriface:camera_open'); }, () => {});
    cam.timer = setTimeout(() => {
      cam.expired = true;
      if (self[Symbol.for('veriface.camera')] === cam) delete self[Symbol.for('veriface.camera')];
      cam.opening.then((s) => s.getTracks().forEach((t) => t.stop()), () => {});
    }, Number(script.dataset.verifaceCamera) || 20000);
    if (self.performance && performance.mark) performance.mark('veriface:camera');
    self[Symbol.for('veriface.camera')] = cam;
  }
  if (script.dataset.verifaceWorker !== undefined && self.Worker) {
    let read = false;   // as veriface.js hasModuleWorkers: the constructor reads `type` only if it knows it
    try { new Worker('http://[', { get type() { read = true; return 'module'; } }); } catch { /* the invalid URL */ }
    if (read) {
      try {
        const url = new URL('worker.js', script.src).href;
        const worker = new Worker(url, { type: 'module', name: 'veriface:prestart' });   // worker.js PRESTART
        const early = { worker, url, failed: false };
        worker.addEventListener('error', () => { early.failed = true; });
        if (self.performance && performance.mark) performance.mark('veriface:prestart');
        self[Symbol.for('veriface.prestart')] = early;
        return;
      } catch { /* refused: the preload links below, and create() starts its own worker */ }
    }
  }
  const shas = urls.map((u) => new URL(u).searchParams.get('v')).filter(Boolean);
  const cached = !shas.length || !self.caches ? Promise.resolve(false)
    : caches.open(CACHE).then((c) => Promise.all(shas.map((s) => c.match(key(s))))).then((hits) => hits.every(Boolean), () => false);
  cached.then((all) => {
    if (all) return;
    for (const href of urls) {
      const l = document.createElement('link');
      Object.assign(l, { rel: 'preload', as: 'fetch', crossOrigin: 'anonymous', href });
      document.head.appendChild(l);
    }
  });
})();
