#!/usr/bin/env node
// golden.mjs - run each SOURCE model in its own reference runtime on a seeded input and write
// tests/golden/<name>.vfg (format: tests/golden/README.md).
//
//   node tools/golden.mjs [--src build/model-src] [--out tests/golden] [--seed 12345] [NAME...]
//
// TF.js models run on @tensorflow/tfjs-core + tfjs-backend-cpu via tfjs-converter; the ONNX
// models (MiniFASNet) on onnxruntime-web (wasm, 1 thread), only if tools/fetch-models got them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODELS, HUMAN_MODELS, cachePath } from './convert/known-models.mjs';
import { tfjsOutputNames, tfjsInputs } from './convert/import-tfjs.mjs';
import { xorshiftFill } from './convert/xorshift.mjs';
import { transpose } from './convert/tensor-math.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opt = { src: path.join(ROOT, 'build/model-src'), out: path.join(ROOT, 'tests/golden'), seed: 12345, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--src') opt.src = argv[++i];
    else if (a === '--out') opt.out = argv[++i];
    else if (a === '--seed') opt.seed = Number(argv[++i]);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else opt.names.push(a);
  }
  if (!Number.isInteger(opt.seed) || opt.seed <= 0 || opt.seed > 0xffffffff) throw new Error('--seed must be a non-zero uint32');
  return opt;
}

/** Serialise one golden file. dims are NHWC for the input; outputs in .vfm graph-output order. */
export function encodeVfg(seed, lo, hi, inputDims, outputs) {
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); parts.push(b); };
  const f32 = (v) => { const b = Buffer.alloc(4); b.writeFloatLE(v); parts.push(b); };
  const dims4 = (d) => { if (d.length < 1 || d.length > 4) throw new Error(`rank ${d.length}`); u32(d.length); for (let k = 0; k < 4; k++) { const b = Buffer.alloc(4); b.writeInt32LE(k < d.length ? d[k] : 0); parts.push(b); } };
  parts.push(Buffer.from('VFG1', 'ascii'));
  u32(seed); f32(lo); f32(hi);
  dims4(inputDims);
  u32(outputs.length);
  for (const o of outputs) {
    const name = Buffer.from(o.name, 'utf8');
    u32(name.length);
    parts.push(name);
    dims4(o.dims);
    const n = o.dims.reduce((a, b) => a * b, 1);
    if (o.data.length !== n) throw new Error(`output ${o.name}: ${o.data.length} values for [${o.dims}]`);
    const b = Buffer.alloc(4 * n);
    for (let i = 0; i < n; i++) b.writeFloatLE(o.data[i], 4 * i);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

let tfPromise = null;
async function loadTf() {
  if (!tfPromise) {
    tfPromise = (async () => {
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-cpu');
      const conv = await import('@tensorflow/tfjs-converter');
      // The cpu backend advertises tfjs-node on first use in Node.js; that advice does not apply.
      const warn = console.warn;
      console.warn = (...a) => { if (!String(a[0]).includes('tfjs-node')) warn(...a); };
      try {
        await tf.setBackend('cpu');
        await tf.ready();
        tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)));
      } finally {
        console.warn = warn;
      }
      return { tf, conv };
    })();
  }
  return tfPromise;
}

async function runTfjs(file, m, seed) {
  const { tf, conv } = await loadTf();
  const model = JSON.parse(fs.readFileSync(file, 'utf8'));
  const dir = path.dirname(file);
  const specs = [];
  const shards = [];
  for (const g of model.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) shards.push(fs.readFileSync(path.join(dir, p)));
  }
  const data = Buffer.concat(shards);
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  const gm = await conv.loadGraphModel(tf.io.fromMemory({
    modelTopology: model.modelTopology, weightSpecs: specs, weightData,
    format: model.format, generatedBy: model.generatedBy, convertedBy: model.convertedBy,
  }));
  const inputs = tfjsInputs(model);
  if (inputs.length !== 1) throw new Error(`${m.name}: ${inputs.length} inputs`);
  const dims = inputs[0].shape;
  const x = tf.tensor(xorshiftFill(dims.reduce((a, b) => a * b, 1), seed, m.range[0], m.range[1]), dims, 'float32');
  const names = tfjsOutputNames(model);
  let res = gm.execute({ [inputs[0].name]: x }, names);
  if (!Array.isArray(res)) res = [res];
  const outputs = [];
  for (let k = 0; k < names.length; k++) {
    outputs.push({ name: names[k], dims: res[k].shape.slice(), data: await res[k].data() });
    res[k].dispose();
  }
  x.dispose();
  gm.dispose();
  return { dims, outputs };
}

async function runOnnx(file, m, seed) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(fs.readFileSync(file), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const inName = session.inputNames[0];
  const meta = session.inputMetadata ? [].concat(session.inputMetadata).find((i) => i.name === inName) : null;
  const nchw = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' ? d : 1)) : null;
  if (!nchw || nchw.length !== 4) throw new Error(`${m.name}: cannot read the input shape`);
  const dims = [nchw[0], nchw[2], nchw[3], nchw[1]]; // NHWC, as the .vfm sees it
  const nhwc = xorshiftFill(dims.reduce((a, b) => a * b, 1), seed, m.range[0], m.range[1]);
  const t = transpose(nhwc, dims, [0, 3, 1, 2]);
  const res = await session.run({ [inName]: new ort.Tensor('float32', t.data, t.shape) });
  const outputs = session.outputNames.map((n) => ({ name: n, dims: res[n].dims.slice(), data: res[n].data }));
  for (const o of outputs) if (o.dims.length === 4) throw new Error(`${m.name}: rank-4 ONNX output ${o.name} would need NHWC transposition`);
  await session.release();
  return { dims, outputs };
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const selected = opt.names.length ? MODELS.filter((m) => opt.names.includes(m.name)) : MODELS;
  if (opt.names.length && selected.length !== opt.names.length) throw new Error(`unknown model in ${opt.names}`);
  fs.mkdirSync(opt.out, { recursive: true });
  let failed = 0;
  for (const m of selected) {
    const file = cachePath(opt.src, m);
    if (!fs.existsSync(file)) {
      if (m.origin === HUMAN_MODELS) { console.error(`golden: ${m.name}: ${file} missing (run tools/fetch-models)`); failed++; }
      else console.log(`golden: ${m.name}: skipped, ${path.basename(file)} not fetched (PAD model unavailable)`);
      continue;
    }
    const r = file.endsWith('.onnx') ? await runOnnx(file, m, opt.seed) : await runTfjs(file, m, opt.seed);
    const bytes = encodeVfg(opt.seed, m.range[0], m.range[1], r.dims, r.outputs);
    const dst = path.join(opt.out, `${m.name}.vfg`);
    fs.writeFileSync(dst, bytes);
    const shapes = r.outputs.map((o) => `${o.name}[${o.dims}]`).join(' ');
    console.log(`golden: ${m.name}: input [${r.dims}] ${m.layout} ${m.range[0]}..${m.range[1]} seed ${opt.seed} -> ${shapes} (${bytes.length} B)`);
  }
  if (failed) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(`golden: ${e.stack || e}`); process.exit(1); });
}
