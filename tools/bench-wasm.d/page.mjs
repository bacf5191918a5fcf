// page.mjs - the bench page (page.html). Exposes window.benchRun(config) to browser-run.mjs and
// runs one unit of protocol.mjs: the runtimes cfg.runtimes names, among ours (veriface-simd.mjs, or
// veriface-simd-mt.mjs with a thread count), TF.js wasm (UMD scripts, loaded on first use) and ORT
// wasm (ES module). browser-run.mjs opens one page per runtime.
// Every Worker the page creates is recorded with the phase that created it (ours, tfjs, ort), as
// evidence of the threads each runtime really started.
import { runConfig } from './protocol.mjs';

const NM = '/tools/node_modules/';
const TF_SCRIPTS = [
  `${NM}@tensorflow/tfjs-core/dist/tf-core.min.js`,
  `${NM}@tensorflow/tfjs-converter/dist/tf-converter.min.js`,
  `${NM}@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js`,
];

let currentPhase = 'page';
const workers = [];
const NativeWorker = globalThis.Worker;
if (NativeWorker) {
  globalThis.Worker = class extends NativeWorker {
    constructor(url, options) {
      const u = String(url);
      workers.push({ phase: currentPhase, url: u.startsWith('blob:') ? 'blob:' : u.replace(location.origin, '') });
      super(url, options);
    }
  };
}

const logEl = document.getElementById('log');
const log = (line) => { console.log(`[bench] ${line}`); logEl.textContent += `\n${line}`; };

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(s);
  });
}

async function read(rel) {
  const r = await fetch(`/${rel}`);
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`GET /${rel}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function createModule(name, buildDir = 'build-wasm') {
  const { default: create } = await import(`/${buildDir}/${name}.mjs`);
  return create();
}

window.benchRun = async (cfg) => {
  const env = {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
  };
  log(`${cfg.label}: crossOriginIsolated=${env.crossOriginIsolated} SharedArrayBuffer=${env.sharedArrayBuffer} hardwareConcurrency=${env.hardwareConcurrency}`);
  if (cfg.threads > 1 && !env.crossOriginIsolated) throw new Error('page is not cross-origin isolated: wasm threads are impossible');
  const result = await runConfig({
    label: cfg.label, host: 'chromium', threads: cfg.threads,
    warmup: cfg.warmup, runs: cfg.runs, seed: cfg.seed, models: cfg.models, peakSeconds: cfg.peakSeconds,
    runtimes: cfg.runtimes,
    ref: { moduleName: 'veriface-simd', create: () => createModule('veriface-simd', cfg.buildDir) },
    ours: { moduleName: cfg.oursModule, create: () => createModule(cfg.oursModule, cfg.buildDir) },
    tfjs: async () => {
      for (const s of TF_SCRIPTS) await loadScript(s);
      const tf = globalThis.tf;
      if (!tf || !tf.wasm || !tf.loadGraphModel) throw new Error('TF.js UMD scripts did not define tf, tf.wasm and tf.loadGraphModel');
      return { tf, tfw: tf.wasm, loadGraphModel: tf.loadGraphModel };
    },
    tfjsWasmPrefix: `${NM}@tensorflow/tfjs-backend-wasm/dist/`,
    tfjsForceNoThreads: cfg.threads === 1, // 1 thread: its plain SIMD binary, as node uses
    // tfjs-backend-wasm 4.22 caps its XNNPACK pool at navigator.hardwareConcurrency / 2 (read once,
    // when its module starts: src/cc/backend.cc num_cores), i.e. 1 thread on a 2-core machine.
    // To compare at the same thread count, present 2 x threads while it starts, then restore.
    tfjsBeforeInit: () => {
      const hc = navigator.hardwareConcurrency;
      if (cfg.threads <= 1 || Math.floor(hc / 2) >= cfg.threads) return undefined;
      Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * cfg.threads });
      return `navigator.hardwareConcurrency presented as ${2 * cfg.threads} (really ${hc}) during TF.js init: tfjs-backend-wasm caps threads at hardwareConcurrency/2`;
    },
    tfjsAfterInit: () => { delete navigator.hardwareConcurrency; },
    ort: async () => import(`${NM}onnxruntime-web/dist/ort.wasm.min.mjs`),
    ortWasmPaths: `${NM}onnxruntime-web/dist/`,
    read,
    log,
    phase: (p) => { currentPhase = p; },
  });
  result.env = env;
  result.workers = workers.slice();
  return result;
};
window.benchReady = true;
logEl.textContent = 'ready';
