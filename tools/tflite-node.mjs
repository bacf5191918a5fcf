// tflite-node.mjs - the TFLite interpreter of @tensorflow/tfjs-tflite (TensorFlow Lite compiled to
// wasm, with its XNNPACK delegate) run under node, as the parity oracle of TFLite source models.
//
// The package is written for browsers: it loads its Emscripten module with importScripts() in a
// worker (or a <script> tag in a page) and fetches the .wasm. Under node we stand in for the
// worker: `self` is the global object, importScripts() evaluates the package's own loader file,
// and the factory is handed the package's own .wasm bytes (no network, nothing else). The
// non-threaded SIMD build is chosen by hiding SharedArrayBuffer while the features are probed
// (the threaded one would need Web Workers).
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { tfliteWithBatchOne } from './convert/tflite-schema.mjs';

const require = createRequire(import.meta.url);
const pkgDir = () => path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));

/** Run fn with the worker stand-ins installed; the globals are restored afterwards (other
 * runtimes in the same process look at `self`). */
async function withWorkerGlobals(fn) {
  const wasmDir = path.join(pkgDir(), 'wasm');
  const g = globalThis;
  const saved = { self: g.self, importScripts: g.importScripts, location: g.location, SharedArrayBuffer: g.SharedArrayBuffer };
  g.self = g;
  g.location = { origin: '', href: '' };
  g.importScripts = (file) => {
    const abs = path.resolve(file);
    if (path.dirname(abs) !== wasmDir) throw new Error(`tflite-node: refusing to load ${abs}`);
    vm.runInThisContext(fs.readFileSync(abs, 'utf8'), { filename: abs });
    const factory = g.tflite_web_api_ModuleFactory;
    const wasmBinary = fs.readFileSync(abs.replace(/\.js$/, '.wasm'));
    g.tflite_web_api_ModuleFactory = (opts) => factory({ ...opts, wasmBinary, print: () => {}, printErr: (t) => process.env.VF_TFLITE_DEBUG && console.error(t) });
  };
  delete g.SharedArrayBuffer;
  try {
    return await fn(wasmDir);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete g[k];
      else g[k] = v;
    }
  }
}

let loaded = null;
function load() {
  if (!loaded) {
    loaded = withWorkerGlobals(async (wasmDir) => {
      // tfjs-core only carries the input and output tensors; whatever backend the process has
      // chosen stays (bench-wasm runs TF.js' wasm backend in the same process), else the cpu one.
      const tf = require('@tensorflow/tfjs-core');
      require('@tensorflow/tfjs-backend-cpu');
      await tf.ready();
      const tflite = require('@tensorflow/tfjs-tflite');
      tflite.setWasmPath(`${wasmDir}/`);
      await tflite.getWasmFeatures(); // probed (and cached) without SharedArrayBuffer: no threads
      return { tf, tflite };
    });
  }
  return loaded;
}

/**
 * Load a .tflite file; returns {inputs: [{name, shape}], outputs: [{name, shape}], run(Float32Array
 * per input) -> [Float32Array per output], dispose(), note}. One interpreter thread. batchOne: a
 * fixed input batch B > 1 is patched to 1 in a copy of the file (tfliteWithBatchOne), so that one
 * run is one image (for timing; the goldens run the file as published).
 */
export async function loadTfliteModel(file, { batchOne = false } = {}) {
  const { tf, tflite } = await load();
  let bytes = fs.readFileSync(file);
  let note = 'as published';
  if (batchOne) {
    const r = tfliteWithBatchOne(bytes);
    if (r.batch > 1) note = `batch ${r.batch} patched to 1 (${r.patched} shapes)`;
    bytes = Buffer.from(r.bytes);
  }
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const model = await withWorkerGlobals(() => tflite.loadTFLiteModel(buf, { numThreads: 1 }));
  const inputs = model.inputs.map((t) => ({ name: t.name, shape: t.shape.slice() }));
  const outputs = model.outputs.map((t) => ({ name: t.name, shape: t.shape.slice() }));
  return {
    inputs,
    outputs,
    note,
    run(datas) {
      const warn = console.warn; // the cpu backend advertises tfjs-node on first use: not for us
      console.warn = (...a) => { if (!String(a[0]).includes('tfjs-node')) warn(...a); };
      let xs, ys;
      try {
        xs = inputs.map((t, k) => tf.tensor(datas[k], t.shape, 'float32'));
        ys = model.predict(xs.length === 1 ? xs[0] : xs);
      } finally {
        console.warn = warn;
      }
      if (!Array.isArray(ys)) ys = ys instanceof tf.Tensor ? [ys] : outputs.map((o) => ys[o.name]);
      const res = ys.map((y) => Float32Array.from(y.dataSync()));
      for (const t of [...xs, ...ys]) t.dispose();
      return res;
    },
    dispose() { /* the wasm interpreter lives as long as the process */ },
  };
}
