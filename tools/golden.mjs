#!/usr/bin/env node
// golden.mjs - run each SOURCE model in its own reference runtime on a seeded input and write
// tests/golden/<name>.vfg (format: tests/golden/README.md).
//
//   node tools/golden.mjs [--src build/model-src] [--out tests/golden] [--seed 12345] [NAME...]
//   node tools/golden.mjs --decoded [--data ../shared/data]   (tests/golden/detect-decoded.txt)
//   node tools/golden.mjs --faces [--data ../shared/data] [--build build]
//       (tests/golden/<name>-faces.txt for each TFLite embedder: the TFLite interpreter on the
//       aligned face crops that `build/tests/test_embed_parity --write` makes)
//
// TF.js models run on @tensorflow/tfjs-core + tfjs-backend-cpu via tfjs-converter; the ONNX
// models (MiniFASNet) on onnxruntime-web (wasm, 1 thread), only if tools/fetch-models got them;
// TFLite models on the TFLite interpreter of @tensorflow/tfjs-tflite (wasm, 1 thread, tflite-node.mjs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { MODELS, cachePath } from './convert/known-models.mjs';
import { tfjsOutputNames, tfjsInputs } from './convert/import-tfjs.mjs';
import { xorshiftFill } from './convert/xorshift.mjs';
import { transpose } from './convert/tensor-math.mjs';
import { loadTfliteModel } from './tflite-node.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opt = { src: path.join(ROOT, 'build/model-src'), out: path.join(ROOT, 'tests/golden'), seed: 12345, names: [],
    decoded: false, faces: false, data: path.join(ROOT, '../shared/data'), build: path.join(ROOT, 'build') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--src') opt.src = argv[++i];
    else if (a === '--out') opt.out = argv[++i];
    else if (a === '--seed') opt.seed = Number(argv[++i]);
    else if (a === '--decoded') opt.decoded = true;
    else if (a === '--faces') opt.faces = true;
    else if (a === '--build') opt.build = argv[++i];
    else if (a === '--data') opt.data = argv[++i];
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

async function loadGraph(file) {
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
  return { model, gm };
}

async function runTfjs(file, m, seed) {
  const { tf } = await loadTf();
  const { model, gm } = await loadGraph(file);
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

// ---- decoded-detection golden (--decoded) ------------------------------------------------------
// An oracle for src/face/detect.c written from MediaPipe's documented graph for
// face_detection_short_range (SsdAnchorsCalculator, TensorsToDetectionsCalculator,
// NonMaxSuppressionCalculator WEIGHTED, DetectionLetterboxRemovalCalculator), not from our C:
// the model runs in TF.js on a letterboxed image (tf.image.resizeBilinear, half-pixel centres).

/** A TFLite model with one image input of batch B >= 1: the seeded [1,H,W,C] image is fed as
 * every row of the batch (expo's MobileFaceNet is [2,112,112,3]; its app repeats the image too)
 * and row 0 of each output is kept, as batch 1, which is what the .vfm (imported at batch 1) has. */
async function runTflite(file, m, seed) {
  const model = await loadTfliteModel(file);
  if (model.inputs.length !== 1) throw new Error(`${m.name}: ${model.inputs.length} inputs`);
  const [B, ...rest] = model.inputs[0].shape;
  const dims = [1, ...rest];
  const one = xorshiftFill(dims.reduce((a, b) => a * b, 1), seed, m.range[0], m.range[1]);
  const x = new Float32Array(one.length * B);
  for (let b = 0; b < B; b++) x.set(one, b * one.length);
  const ys = model.run([x]);
  const outputs = model.outputs.map((o, k) => {
    if (o.shape[0] !== B) throw new Error(`${m.name}: output ${o.name} [${o.shape}] has no batch ${B}`);
    const row = ys[k].length / B;
    return { name: o.name, dims: [1, ...o.shape.slice(1)], data: ys[k].subarray(0, row) };
  });
  model.dispose();
  return { dims, outputs };
}

/** 8-bit RGB/RGBA non-interlaced PNG -> { width, height, rgb } (only what the golden images use). */
function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let off = 8, width = 0, height = 0, ctype = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.toString('ascii', off + 4, off + 8), body = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0); height = body.readUInt32BE(4); ctype = body[9];
      if (body[8] !== 8 || (ctype !== 2 && ctype !== 6) || body[12] !== 0) throw new Error('PNG: only 8-bit RGB/RGBA, not interlaced');
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const bpp = ctype === 6 ? 4 : 3, rowLen = width * bpp;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const px = Buffer.alloc(rowLen * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (rowLen + 1)], src = raw.subarray(y * (rowLen + 1) + 1, (y + 1) * (rowLen + 1));
    for (let i = 0; i < rowLen; i++) {
      const a = i >= bpp ? px[y * rowLen + i - bpp] : 0, b = y ? px[(y - 1) * rowLen + i] : 0;
      const c = y && i >= bpp ? px[(y - 1) * rowLen + i - bpp] : 0;
      let v = src[i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      px[y * rowLen + i] = v & 255;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) for (let k = 0; k < 3; k++) rgb[3 * i + k] = px[bpp * i + k];
  return { width, height, rgb };
}

/** Side-by-side collage of equal-height images (a two-face test case built the same way in C). */
function collage(a, b) {
  if (a.height !== b.height) throw new Error('collage: heights differ');
  const width = a.width + b.width, rgb = new Uint8Array(width * a.height * 3);
  for (let y = 0; y < a.height; y++) {
    rgb.set(a.rgb.subarray(y * a.width * 3, (y + 1) * a.width * 3), y * width * 3);
    rgb.set(b.rgb.subarray(y * b.width * 3, (y + 1) * b.width * 3), (y * width + a.width) * 3);
  }
  return { width, height: a.height, rgb };
}

/** SsdAnchorsCalculator with face_detection_short_range's options. */
function ssdAnchors() {
  const o = { layers: 4, minScale: 0.1484375, maxScale: 0.75, size: 128, offset: 0.5, strides: [8, 16, 16, 16], ratios: [1.0], interp: 1.0 };
  const scaleOf = (i) => o.minScale + (o.maxScale - o.minScale) * i / (o.layers - 1);
  const anchors = [];
  for (let layer = 0; layer < o.layers;) {
    let n = 0, last = layer;
    while (last < o.layers && o.strides[last] === o.strides[layer]) { n += o.ratios.length + (o.interp > 0 ? 1 : 0); scaleOf(last); last++; }
    const fm = Math.ceil(o.size / o.strides[layer]);
    for (let y = 0; y < fm; y++) for (let x = 0; x < fm; x++) for (let k = 0; k < n; k++)
      anchors.push({ x: (x + o.offset) / fm, y: (y + o.offset) / fm, w: 1, h: 1 }); // fixed_anchor_size
    layer = last;
  }
  return anchors;
}

function iouOf(a, b) {
  const ix = Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin), iy = Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  return inter / ((a.xmax - a.xmin) * (a.ymax - a.ymin) + (b.xmax - b.xmin) * (b.ymax - b.ymin) - inter);
}

async function detectOracle(tf, gm, names, inputName, img) {
  // Letterbox (keep aspect, zero border): pad to a centred square, then resize to 128.
  const side = Math.max(img.width, img.height), padX = (side - img.width) / 2, padY = (side - img.height) / 2;
  if (!Number.isInteger(padX) || !Number.isInteger(padY)) throw new Error('golden images need an even padding');
  const outs = tf.tidy(() => {
    const t = tf.tensor3d(Float32Array.from(img.rgb), [img.height, img.width, 3], 'float32');
    const sq = tf.pad(t, [[padY, padY], [padX, padX], [0, 0]]);
    const x = tf.image.resizeBilinear(tf.expandDims(sq, 0), [128, 128], false, true);
    const xn = tf.sub(tf.div(x, 127.5), 1);
    return gm.execute({ [inputName]: xn }, names);
  });
  const byShape = {};
  for (const t of outs) byShape[t.shape.join('x')] = await t.data();
  for (const t of outs) t.dispose();
  // model output order: 512-anchor head first, then 384 (the anchors' order)
  const scores = [...byShape['1x512x1'], ...byShape['1x384x1']], regs = [...byShape['1x512x16'], ...byShape['1x384x16']];
  const anchors = ssdAnchors();
  if (anchors.length !== 896) throw new Error('anchors');
  let dets = [];
  for (let i = 0; i < 896; i++) {
    const s = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, scores[i]))));
    if (s < 0.5) continue;
    const r = regs.slice(16 * i, 16 * i + 16), a = anchors[i];
    const cx = r[0] / 128 * a.w + a.x, cy = r[1] / 128 * a.h + a.y, w = r[2] / 128 * a.w, h = r[3] / 128 * a.h;
    const kp = [];
    for (let k = 0; k < 6; k++) kp.push([r[4 + 2 * k] / 128 * a.w + a.x, r[5 + 2 * k] / 128 * a.h + a.y]);
    dets.push({ score: s, xmin: cx - w / 2, ymin: cy - h / 2, xmax: cx + w / 2, ymax: cy + h / 2, kp });
  }
  dets.sort((p, q) => q.score - p.score);
  const out = [];
  while (dets.length) {
    const top = dets[0], merged = [], rest = [];
    for (const d of dets) (iouOf(top, d) > 0.3 ? merged : rest).push(d);
    let tw = 0;
    const acc = { xmin: 0, ymin: 0, xmax: 0, ymax: 0, kp: Array.from({ length: 6 }, () => [0, 0]) };
    for (const d of merged) {
      tw += d.score;
      for (const k of ['xmin', 'ymin', 'xmax', 'ymax']) acc[k] += d[k] * d.score;
      for (let k = 0; k < 6; k++) { acc.kp[k][0] += d.kp[k][0] * d.score; acc.kp[k][1] += d.kp[k][1] * d.score; }
    }
    // normalised letterboxed coordinates -> image pixels (letterbox removal)
    const X = (v) => (v / tw) * side - padX, Y = (v) => (v / tw) * side - padY;
    out.push({ score: top.score, box: [X(acc.xmin), Y(acc.ymin), X(acc.xmax), Y(acc.ymax)], kp: acc.kp.map(([x, y]) => [X(x), Y(y)]) });
    dets = rest;
  }
  return out;
}

/** The cases: real PNG photos from ../shared/data (no re-encoding, so C and JS see the same
 * pixels) and one two-face collage. Written as text: see tests/golden/README.md. */
export const DECODED_CASES = [
  ['pad/hyperfas/fake_screen.png'],
  ['faces/face_recognition/examples/alex-lacamoire.png'],
  ['faces/face_recognition/examples/lin-manuel-miranda.png'],
  ['faces/facenet_pytorch/test_images_aligned/angelina_jolie/1.png'],
  ['faces/facenet_pytorch/test_images_aligned/bradley_cooper/1.png', 'faces/facenet_pytorch/test_images_aligned/paul_rudd/1.png'],
];

export async function writeDecodedGolden({ tf, gm, names, input, data, out }) {
  const lines = ['# detect-decoded v1: written by `node tools/golden.mjs --decoded` (TF.js 4.22 cpu + MediaPipe decode in JS)',
    '# case <n images> <paths...> <width> <height> <n faces>; then per face: score x0 y0 x1 y1 then 6 keypoints x y (image pixels)'];
  for (const c of DECODED_CASES) {
    const imgs = c.map((p) => decodePng(fs.readFileSync(path.join(data, p))));
    const img = imgs.length === 2 ? collage(imgs[0], imgs[1]) : imgs[0];
    const faces = await detectOracle(tf, gm, names, input, img);
    lines.push(`case ${c.length} ${c.join(' ')} ${img.width} ${img.height} ${faces.length}`);
    for (const f of faces) lines.push(['face', f.score.toFixed(6), ...f.box.map((v) => v.toFixed(4)), ...f.kp.flat().map((v) => v.toFixed(4))].join(' '));
    console.log(`golden: decoded ${c.join(' + ')}: ${img.width}x${img.height}, ${faces.length} face(s)`);
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, lines.join('\n') + '\n');
}

/** FaceMesh on MediaPipe's ROI for the oracle's own detection (face_landmark graph: rect from the
 * detection box centre, side 1.5 x the longer box side, rotated by the eye line keypoints 0 -> 1;
 * ImageToTensor 192x192, 0..1, replicated border; LandmarkProjection back to image pixels). */
async function meshOracle(tf, gm, names, inputName, img, face) {
  const [x0, y0, x1, y1] = face.box;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, side = 1.5 * Math.max(x1 - x0, y1 - y0);
  const th = Math.atan2(face.kp[1][1] - face.kp[0][1], face.kp[1][0] - face.kp[0][0]);
  const c = Math.cos(th), s = Math.sin(th), k = side / 192;
  // output pixel (x, y) -> input pixel, both integer-centred (tf.image.transform's convention)
  const h = 0.5 - 96;
  const t = [k * c, -k * s, cx - 0.5 + k * (c * h - s * h), k * s, k * c, cy - 0.5 + k * (s * h + c * h), 0, 0];
  const outs = tf.tidy(() => {
    const im = tf.div(tf.tensor4d(Float32Array.from(img.rgb), [1, img.height, img.width, 3], 'float32'), 255);
    const crop = tf.image.transform(im, tf.tensor2d([t], [1, 8]), 'bilinear', 'nearest', 0, [192, 192]);
    return gm.execute({ [inputName]: crop }, names);
  });
  let pts = null, presence = null;
  for (const o of outs) {
    const d = await o.data();
    if (d.length === 1404) pts = d; else if (d.length === 1) presence = d[0];
    o.dispose();
  }
  const mesh = [];
  for (let i = 0; i < 468; i++) {
    const u = pts[3 * i] - 96, v = pts[3 * i + 1] - 96;
    mesh.push([cx + k * (c * u - s * v), cy + k * (s * u + c * v), k * pts[3 * i + 2]]);
  }
  return { presence, mesh };
}

export async function writeMeshGolden({ tf, det, mesh, data, out }) {
  const lines = ['# mesh-decoded v1: written by `node tools/golden.mjs --decoded` (TF.js 4.22 cpu, MediaPipe ROI and projection in JS)',
    '# case <path> <width> <height>; face <score x0 y0 x1 y1 kp...> (the oracle detection the ROI is built from); presence <p>; then 468 lines x y z (image pixels)'];
  for (const p of ['pad/hyperfas/fake_screen.png', 'faces/face_recognition/examples/alex-lacamoire.png']) {
    const img = decodePng(fs.readFileSync(path.join(data, p)));
    const faces = await detectOracle(tf, det.gm, det.names, det.input, img);
    const f = faces[0];
    const m = await meshOracle(tf, mesh.gm, mesh.names, mesh.input, img, f);
    lines.push(`case ${p} ${img.width} ${img.height}`);
    lines.push(['face', f.score.toFixed(6), ...f.box.map((v) => v.toFixed(4)), ...f.kp.flat().map((v) => v.toFixed(4))].join(' '));
    lines.push(`presence ${m.presence.toFixed(6)}`);
    for (const q of m.mesh) lines.push(q.map((v) => v.toFixed(4)).join(' '));
    console.log(`golden: mesh ${p}: presence ${m.presence.toFixed(4)}`);
  }
  fs.writeFileSync(out, lines.join('\n') + '\n');
}

/** The TFLite embedders on real aligned face crops: our crops (test_embed_parity --write: detector
 * and mesh on the reference backend, the embedder's own 5-point crop), the interpreter's raw
 * output on each (fed as every row of the model's batch). Format: tests/golden/README.md. */
async function writeFacesGolden(opt) {
  const bin = path.join(opt.build, 'tests/test_embed_parity');
  if (!fs.existsSync(bin)) throw new Error(`${bin} missing (cmake --build ${opt.build})`);
  for (const m of MODELS.filter((x) => x.src.endsWith('.tflite'))) {
    const vfm = path.join(ROOT, m.where === 'committed' ? 'models' : 'build/models', `${m.name}.vfm`);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vf-faces-'));
    try {
      execFileSync(bin, ['--write', path.join(ROOT, 'models'), vfm, opt.data, tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
      const model = await loadTfliteModel(cachePath(opt.src, m));
      const [B] = model.inputs[0].shape;
      const lines = fs.readFileSync(path.join(tmp, 'cases.txt'), 'utf8').split('\n').filter(Boolean);
      const out = [`# ${m.name}-faces v1: written by \`node tools/golden.mjs --faces\` (the TFLite interpreter of @tensorflow/tfjs-tflite 0.0.1-alpha.10, wasm, 1 thread)`,
        '# case <image under ../shared/data> <the 5 points x y (image pixels) the crop was aligned on> <checksum of the crop>; out <dim> <raw output>',
        `# crops by build/tests/test_embed_parity --write: ${lines[0].replace(/^#\s*/, '')}`];
      let k = 0;
      for (const line of lines.slice(1)) {
        const f = fs.readFileSync(path.join(tmp, `case${k}.f32`));
        const crop = new Float32Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.length));
        const x = new Float32Array(crop.length * B);
        for (let b = 0; b < B; b++) x.set(crop, b * crop.length);
        const [y] = model.run([x]);
        const row = y.subarray(0, y.length / B);
        out.push(`case ${line}`, `out ${row.length} ${Array.from(row, (v) => v.toPrecision(9)).join(' ')}`);
        console.log(`golden: ${m.name}: ${line.split(' ')[0]}: ${row.length} values`);
        k++;
      }
      fs.writeFileSync(path.join(opt.out, `${m.name}-faces.txt`), `${out.join('\n')}\n`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  if (opt.faces) {
    await writeFacesGolden(opt);
    return;
  }
  if (opt.decoded) {
    const file = cachePath(opt.src, MODELS.find((m) => m.name === 'blazeface-front'));
    const { tf } = await loadTf();
    const { model, gm } = await loadGraph(file);
    const det = { gm, names: tfjsOutputNames(model), input: tfjsInputs(model)[0].name };
    await writeDecodedGolden({ tf, gm, names: det.names, input: det.input, data: opt.data, out: path.join(opt.out, 'detect-decoded.txt') });
    const mfile = cachePath(opt.src, MODELS.find((m) => m.name === 'facemesh'));
    const mg = await loadGraph(mfile);
    const mesh = { gm: mg.gm, names: tfjsOutputNames(mg.model), input: tfjsInputs(mg.model)[0].name };
    await writeMeshGolden({ tf, det, mesh, data: opt.data, out: path.join(opt.out, 'mesh-decoded.txt') });
    mg.gm.dispose();
    gm.dispose();
    return;
  }
  const selected = opt.names.length ? MODELS.filter((m) => opt.names.includes(m.name)) : MODELS;
  if (opt.names.length && selected.length !== opt.names.length) throw new Error(`unknown model in ${opt.names}`);
  fs.mkdirSync(opt.out, { recursive: true });
  let failed = 0;
  for (const m of selected) {
    const file = cachePath(opt.src, m);
    if (!fs.existsSync(file)) {
      if (m.where === 'committed') { console.error(`golden: ${m.name}: ${file} missing (run tools/fetch-models)`); failed++; }
      else console.log(`golden: ${m.name}: skipped, ${path.basename(file)} not fetched (PAD model unavailable)`);
      continue;
    }
    const run = file.endsWith('.onnx') ? runOnnx : file.endsWith('.tflite') ? runTflite : runTfjs;
    const r = await run(file, m, opt.seed);
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
