// Smoke test of the browser ES modules (veriface-simd.mjs, veriface-simd-mt.mjs) under node:
// load the module the way a page would (bytes passed in, no file system), drive the exported C API
// through the heap, run a model on its golden input and compare with the golden outputs.
//   node --no-experimental-fetch module-smoke.mjs BUILD_DIR MODULE MODEL.vfm GOLDEN.vfg
// Emscripten 3.1.6 ES6 output uses require/__dirname under node: shim them first (TOOLCHAIN.md).
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

globalThis.require = createRequire(import.meta.url);
globalThis.__filename = fileURLToPath(import.meta.url);
globalThis.__dirname = path.dirname(globalThis.__filename);

const [dir, name, modelPath, goldenPath] = process.argv.slice(2);
const { default: create } = await import(pathToFileURL(path.join(dir, `${name}.mjs`)).href);
const M = await create({
  wasmBinary: fs.readFileSync(path.join(dir, `${name}.wasm`)),
  locateFile: (p) => path.join(dir, p),
});

// read the golden (tests/golden/README.md)
const g = fs.readFileSync(goldenPath);
const dv = new DataView(g.buffer, g.byteOffset, g.byteLength);
let seed = dv.getUint32(4, true); const lo = dv.getFloat32(8, true), hi = dv.getFloat32(12, true);
const nOut = dv.getUint32(36, true);
let p = 40; const outs = [];
for (let k = 0; k < nOut; k++) {
  const len = dv.getUint32(p, true); p += 4;
  const oname = g.subarray(p, p + len).toString('utf8'); p += len;
  const rank = dv.getUint32(p, true); p += 4;
  let count = 1; for (let d = 0; d < rank; d++) count *= dv.getInt32(p + 4 * d, true); p += 16;
  outs.push({ name: oname, data: new Float32Array(g.buffer.slice(g.byteOffset + p, g.byteOffset + p + 4 * count)) });
  p += 4 * count;
}

const check = (s, what) => { if (s !== 0) throw new Error(`${what}: status ${s} ${M.UTF8ToString(M._vf_status_string(s))}`); };
const ptrOut = M._malloc(8);
check(M._vf_context_create(0, ptrOut), 'context');
const ctx = M.HEAPU32[ptrOut >> 2];
const bytes = fs.readFileSync(modelPath);
const buf = M._malloc(bytes.length);
M.HEAPU8.set(bytes, buf);
const s = M._vf_model_load(ctx, buf, bytes.length, 0, ptrOut);
if (s !== 0) throw new Error(`load: ${M.UTF8ToString(M._vf_context_last_error(ctx))}`);
M._free(buf);
const model = M.HEAPU32[ptrOut >> 2];
// vf_tensor_info (wasm32): name@0, rank@4, dims@8..24, count@24, data@28
const info = M._malloc(32);
check(M._vf_model_input(model, 0, info), 'input');
const count = M.HEAPU32[(info + 24) >> 2], dataPtr = M.HEAPU32[(info + 28) >> 2];
const input = new Float32Array(count);
for (let i = 0; i < count; i++) {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  input[i] = lo + (hi - lo) * ((seed >>> 8) / 16777216);
}
M.HEAPF32.set(input, dataPtr >> 2);
check(M._vf_model_invoke(model), 'invoke');
let worst = 0;
for (let k = 0; k < nOut; k++) {
  check(M._vf_model_output(model, k, info), 'output');
  const n = M.HEAPU32[(info + 24) >> 2], d = M.HEAPU32[(info + 28) >> 2];
  const oname = M.UTF8ToString(M.HEAPU32[info >> 2]);
  if (oname !== outs[k].name || n !== outs[k].data.length) throw new Error(`output ${k}: ${oname}/${n} vs ${outs[k].name}/${outs[k].data.length}`);
  const got = M.HEAPF32.subarray(d >> 2, (d >> 2) + n);
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - outs[k].data[i]));
}
M._vf_model_free(model);
M._vf_context_free(ctx);

// the package's copy of the match bands (web/src/engine.js) against the C vf_match_band_of
const { MATCH_BANDS, matchBand } = await import(new URL('../../web/src/engine.js', import.meta.url).href);
const names = ['none', 'weak', 'strong'];
for (const at of [MATCH_BANDS.weak, MATCH_BANDS.strong]) {
  for (const sim of [at - 1e-6, at + 1e-6]) {
    const c = names[M._vf_match_band_of(sim)];
    if (c !== matchBand(sim)) { console.error(`FAIL: similarity ${sim}: C band ${c}, web/src/engine.js ${matchBand(sim)}`); process.exit(1); }
  }
}
console.log(JSON.stringify({ module: name, model: path.basename(modelPath), max_abs: worst }));
if (!(worst <= 1e-4)) { console.error('FAIL: max abs error above 1e-4'); process.exit(1); }
process.exit(0);
