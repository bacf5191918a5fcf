// engines.mjs - one small adapter per runtime: our module (C API driven through the heap),
// TF.js with its wasm backend, ONNX Runtime Web (wasm). Runs unchanged in node and in the page.
//
// Every adapter turns a loaded model into { run(), first() }: run() is exactly what is timed
// (for ours: vf_model_invoke only; for TF.js: execute + dataSync of every output + dispose; for
// ORT: await session.run, whose outputs are CPU tensors already), first() runs once and returns
// the outputs as [{ name, data }] for the parity check.
import { rangeFromMeta, xorshiftFill, errText } from './models.mjs';

export const BACKEND_NAMES = ['auto', 'ref', 'simd', 'xnnpack'];
const VF_BACKEND_AUTO = 0, VF_BACKEND_SIMD = 2;
const VF_LOG_WARN = 2;

/**
 * Our engine in one module instance. Struct layouts in wasm32 (include/veriface.h):
 *   vf_context_options {int32 threads; ptr log; ptr log_user; int32 log_level}      16 B
 *   vf_model_options   {int32 backend}                                               4 B
 *   vf_tensor_info     {ptr name@0; int32 rank@4; int32 dims[4]@8; u32 count@24; ptr data@28}  32 B
 *   vf_model_stats     {u32 weight_bytes@0; u32 arena_bytes@4; u32 naive_bytes@8; (pad);
 *                       f64 mflops@16; int32 n_ops@24; int32 backend@28; ptr meta@32}  40 B
 * (size_t and pointers are 4 bytes; the double is 8-aligned, hence the pad at 12.)
 */
export class Ours {
  constructor(M, moduleName, threads) {
    this.M = M;
    this.moduleName = moduleName;
    this.threads = threads;
    this.scratch = M._malloc(64);
    this.models = [];
    const simd = M._vf_backend_available(VF_BACKEND_SIMD) === 1;
    this.backendRequested = simd ? VF_BACKEND_SIMD : VF_BACKEND_AUTO;
    this.backendNote = simd ? 'simd requested' : 'SIMD backend not in this build: AUTO requested';
    const opt = M._malloc(16);
    M.HEAP32[opt >> 2] = threads;
    M.HEAPU32[(opt + 4) >> 2] = 0;
    M.HEAPU32[(opt + 8) >> 2] = 0;
    M.HEAP32[(opt + 12) >> 2] = VF_LOG_WARN;
    const s = M._vf_context_create(opt, this.scratch);
    M._free(opt);
    if (s !== 0) throw new Error(`vf_context_create(threads=${threads}): status ${s} ${this.str(M._vf_status_string(s))}`);
    this.ctx = M.HEAPU32[this.scratch >> 2];
    this.version = this.str(M._vf_version());
  }

  str(p) { return p ? this.M.UTF8ToString(p) : ''; }

  /** pthreads running in this instance (Emscripten's PThread.runningWorkers), null without threads. */
  pthreads() { return this.M.PThread ? this.M.PThread.runningWorkers.length : null; }

  /** Heap size of the instance: wasm memory, which only grows. */
  heapBytes() { return this.M.HEAPU8.buffer.byteLength; }

  /**
   * GFLOP/s of the module's register-only mul+add loop, calibrated to run about `seconds`.
   * Browsers and node first run wasm on the baseline compiler (Liftoff) and tier hot functions up
   * to TurboFan in the background; a single long call never switches. So: short calls, with pauses
   * for the background compile, until the rate stops improving, then the real run.
   */
  async peakGflops(seconds = 0.3) {
    const M = this.M;
    if (typeof M._vf_wasm_peak_gflops !== 'function') return { gflops: NaN, iters: 0, note: '_vf_wasm_peak_gflops not exported' };
    // Sized by wall time, not by FLOPs per iteration (the probe's loop shape is the module's business).
    const probe = (n) => { const t0 = performance.now(); const g = M._vf_wasm_peak_gflops(n); return { g, ms: performance.now() - t0 }; };
    let iters = 100000, p = probe(iters);
    for (let k = 0; k < 12 && p.ms < 20 && p.g > 0; k++) { iters *= 4; p = probe(iters); } // grow to >= 20 ms
    let best = p.g, perIterMs = p.ms / iters;
    for (let k = 0; k < 8; k++) { // tier-up warm-up: until the rate stops improving
      await new Promise((r) => setTimeout(r, 10));
      const q = probe(iters);
      const improved = q.g > best * 1.02;
      if (q.g > best) { best = q.g; perIterMs = q.ms / iters; }
      if (k >= 2 && !improved) break;
    }
    if (!(best > 0)) return { gflops: NaN, iters, note: 'probe returned 0' };
    iters = Math.max(1000, Math.min(2 ** 31 - 1, Math.round((seconds * 1000) / perIterMs)));
    const r = probe(iters);
    return { gflops: r.g, iters, ms: r.ms };
  }

  tensorInfo(model, isInput, i) {
    const M = this.M, p = this.scratch;
    const s = isInput ? M._vf_model_input(model, i, p) : M._vf_model_output(model, i, p);
    if (s !== 0) throw new Error(`vf_model_${isInput ? 'input' : 'output'}(${i}): status ${s}`);
    const rank = M.HEAP32[(p + 4) >> 2];
    const dims = [];
    for (let d = 0; d < rank; d++) dims.push(M.HEAP32[(p + 8 + 4 * d) >> 2]);
    return { name: this.str(M.HEAPU32[p >> 2]), dims, count: M.HEAPU32[(p + 24) >> 2], data: M.HEAPU32[(p + 28) >> 2] };
  }

  /** Load .vfm bytes, fill the inputs with the seeded data; returns the model record. */
  load(name, bytes, seed) {
    const M = this.M;
    const buf = M._malloc(bytes.length);
    const opt = M._malloc(4);
    M.HEAPU8.set(bytes, buf);
    M.HEAP32[opt >> 2] = this.backendRequested;
    const s = M._vf_model_load(this.ctx, buf, bytes.length, opt, this.scratch);
    M._free(opt);
    M._free(buf);
    if (s !== 0) throw new Error(`vf_model_load: status ${s} (${this.str(M._vf_status_string(s))}): ${this.str(M._vf_context_last_error(this.ctx))}`);
    const model = M.HEAPU32[this.scratch >> 2];
    this.models.push(model);
    const sp = M._malloc(40);
    const st = M._vf_model_get_stats(model, sp);
    if (st !== 0) { M._free(sp); throw new Error(`vf_model_get_stats: status ${st}`); }
    const stats = {
      weight_bytes: M.HEAPU32[sp >> 2], arena_bytes: M.HEAPU32[(sp + 4) >> 2], naive_bytes: M.HEAPU32[(sp + 8) >> 2],
      mflops: M.HEAPF64[(sp + 16) >> 3], n_ops: M.HEAP32[(sp + 24) >> 2],
      backend: BACKEND_NAMES[M.HEAP32[(sp + 28) >> 2]] || `#${M.HEAP32[(sp + 28) >> 2]}`,
      meta: this.str(M.HEAPU32[(sp + 32) >> 2]),
    };
    M._free(sp);
    const range = rangeFromMeta(stats.meta);
    const inputs = [];
    const nIn = M._vf_model_input_count(model);
    for (let i = 0; i < nIn; i++) {
      const info = this.tensorInfo(model, true, i);
      const data = xorshiftFill(info.count, (seed + i) >>> 0 || 1, range.lo, range.hi);
      M.HEAPF32.set(data, info.data >> 2);
      inputs.push({ name: info.name, dims: info.dims, data });
    }
    const outputs = [];
    const nOut = M._vf_model_output_count(model);
    for (let i = 0; i < nOut; i++) { const o = this.tensorInfo(model, false, i); outputs.push({ name: o.name, dims: o.dims }); }
    const invoke = M._vf_model_invoke;
    const ctx = this.ctx;
    const run = () => {
      const r = invoke(model);
      if (r !== 0) throw new Error(`vf_model_invoke: status ${r}: ${this.str(M._vf_context_last_error(ctx))}`);
    };
    const first = () => {
      run();
      return outputs.map((o, i) => {
        const t = this.tensorInfo(model, false, i);
        return { name: t.name, dims: t.dims, data: M.HEAPF32.slice(t.data >> 2, (t.data >> 2) + t.count) };
      });
    };
    return { name, stats, range, inputs, outputs, run, first };
  }

  dispose() {
    for (const m of this.models) this.M._vf_model_free(m);
    this.models = [];
    if (this.ctx) this.M._vf_context_free(this.ctx);
    this.ctx = 0;
  }
}

/**
 * TF.js (tfjs-core + tfjs-converter + tfjs-backend-wasm). `tf` is the core namespace with the
 * converter's loadGraphModel/io, `tfw` the wasm backend's namespace (setWasmPaths, setThreadsCount).
 * Must be initialised before any other TF.js backend use; once per process/page.
 */
export async function initTfjs(tf, tfw, { wasmPrefix, threads, forceNoThreads }) {
  if (forceNoThreads) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tfw.setWasmPaths(wasmPrefix);
  tfw.setThreadsCount(threads);
  const ok = await tf.setBackend('wasm');
  if (!ok || tf.getBackend() !== 'wasm') throw new Error(`tf.setBackend('wasm') failed (backend is ${tf.getBackend()})`);
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  // Same choice as getPathToWasmBinary() in tfjs-backend-wasm 4.22 (the page/node side also
  // records which .wasm file was actually read).
  const binary = simd && mt ? 'tfjs-backend-wasm-threaded-simd.wasm' : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  return {
    version: `tfjs-core ${tf.version_core}, tfjs-backend-wasm ${tfw.version_wasm}`,
    simd, multithread: mt, binary, threadsRequested: threads, threads: tfw.getThreadsCount(),
    heapBytes: () => { const w = tf.backend().wasm; return w && w.HEAPU8 ? w.HEAPU8.buffer.byteLength : NaN; },
    pthreads: () => { const w = tf.backend().wasm; return w && w.PThread ? w.PThread.runningWorkers.length : null; },
  };
}

/** Load a TF.js graph model from its model.json object and weight shard bytes (in manifest order). */
export async function loadTfjsModel(tf, loadGraphModel, modelJson, shards) {
  const specs = [];
  for (const g of modelJson.weightsManifest) specs.push(...g.weights);
  let total = 0;
  for (const s of shards) total += s.byteLength;
  const all = new Uint8Array(total);
  let off = 0;
  for (const s of shards) { all.set(s, off); off += s.byteLength; }
  return loadGraphModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: all.buffer,
    format: modelJson.format, generatedBy: modelJson.generatedBy, convertedBy: modelJson.convertedBy,
  }));
}

/** Prepare timed runs of a TF.js graph model on `input` (NHWC, same values as ours). */
export function prepareTfjs(tf, gm, ours) {
  const inputs = {};
  const graphInputs = gm.inputs.map((i) => i.name);
  for (const [k, inp] of ours.inputs.entries()) {
    const name = graphInputs.includes(inp.name) ? inp.name : graphInputs[k];
    if (!name) throw new Error(`TF.js model has no input for ${inp.name}`);
    inputs[name] = tf.tensor(inp.data, inp.dims, 'float32');
  }
  // Ask for our output names: the converter keeps the TF node names, and some of our outputs
  // (faceres' global_pooling/Mean) are not in the graph's signature, so gm.outputs would miss them.
  const names = ours.outputs.map((o) => o.name);
  let useAsync = false;
  const collect = (res) => (Array.isArray(res) ? res : [res]);
  const run = () => {
    if (useAsync) {
      return gm.executeAsync(inputs, names).then((res) => {
        for (const t of collect(res)) { t.dataSync(); t.dispose(); }
      });
    }
    const res = collect(gm.execute(inputs, names));
    for (const t of res) { t.dataSync(); t.dispose(); }
    return undefined;
  };
  const first = async () => {
    let res;
    try {
      res = gm.execute(inputs, names);
    } catch (e) {
      if (!/executeAsync|dynamic/i.test(errText(e))) throw e;
      useAsync = true;
      res = await gm.executeAsync(inputs, names);
    }
    const out = collect(res).map((t, i) => ({ name: names[i], dims: t.shape.slice(), data: Float32Array.from(t.dataSync()) }));
    for (const t of collect(res)) t.dispose();
    return out;
  };
  const dispose = () => { for (const t of Object.values(inputs)) t.dispose(); gm.dispose(); };
  return { run, first, dispose, mode: () => (useAsync ? 'executeAsync' : 'execute') };
}

/** ONNX Runtime Web, wasm execution provider. Configure before the first session. */
export function configureOrt(ort, { threads, wasmPaths }) {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  if (wasmPaths) ort.env.wasm.wasmPaths = wasmPaths;
  ort.env.logLevel = 'error';
}

export async function loadOrtModel(ort, bytes) {
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

export function ortInfo(ort) {
  const v = ort.env.versions || {};
  return { version: `onnxruntime-web ${v.web || ort.env.versions?.common || '?'}`, threads: ort.env.wasm.numThreads, simd: ort.env.wasm.simd };
}

/** Prepare timed runs of an ONNX session on ours' NHWC input, transposed to NCHW. */
export function prepareOrt(ort, session, ours, nhwcToNchw) {
  if (ours.inputs.length !== session.inputNames.length) throw new Error(`ONNX model has ${session.inputNames.length} inputs, ours ${ours.inputs.length}`);
  const feeds = {};
  for (const [k, inp] of ours.inputs.entries()) {
    const [n, h, w, c] = inp.dims;
    feeds[session.inputNames[k]] = new ort.Tensor('float32', nhwcToNchw(inp.data, inp.dims), [n, c, h, w]);
  }
  const names = session.outputNames;
  const run = async () => {
    const r = await session.run(feeds);
    for (const n of names) if (!r[n] || !r[n].data) throw new Error(`ORT output ${n} missing`);
  };
  const first = async () => {
    const r = await session.run(feeds);
    return names.map((n) => ({ name: n, dims: r[n].dims.slice(), data: Float32Array.from(r[n].data) }));
  };
  const dispose = () => session.release();
  return { run, first, dispose, mode: () => 'session.run' };
}

/**
 * TFLite: a model from tools/tflite-node.mjs (loadTfliteModel; node only). The file's input may
 * have a fixed batch B > 1: ours' input is repeated B times and row 0 of each output compared.
 */
export function prepareTflite(model, ours) {
  if (model.inputs.length !== 1 || ours.inputs.length !== 1) throw new Error('TFLite peer: one input expected');
  const [B] = model.inputs[0].shape;
  const one = ours.inputs[0].data;
  const x = new Float32Array(one.length * B);
  for (let b = 0; b < B; b++) x.set(one, b * one.length);
  return {
    run: () => model.run([x]),
    first: async () => model.run([x]).map((y, k) => ({ name: model.outputs[k].name, data: y.subarray(0, y.length / B) })),
    mode: () => `TFLite interpreter, 1 thread, batch ${B} (${model.note || 'as published'})`,
    dispose: () => model.dispose(),
  };
}
