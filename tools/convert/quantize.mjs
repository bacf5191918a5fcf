// quantize.mjs - reduced-precision constants (models/FORMAT.md): int8 per output channel (dtype 3)
// for the weights of CONV2D, DWCONV2D and FC, f16 (dtype 2) for any constant, chosen for the whole
// model (--weights) or per tensor from a precision table (--precision, models/precision/*.tsv). The
// loader dequantises once at load, so the kernels, the arena and every backend are those of the
// f32 model; only the file shrinks.
//
// int8 may use fewer levels than 8 bits allow ("int8/6": q in -31..31): the file is as large, but
// gzip, which every server applies, codes the narrower values in fewer bits (about 1/8 less per bit).
// f16 may likewise keep fewer mantissa bits ("f16/6": 6 of 10, the rest 0): still binary16, a
// relative error of at most 2^-7 on every normal value whatever its size (kinder than int8 to the small
// weights of a channel with one large one), and gzip codes the zero bits in almost nothing.
// Either may be rounded with error feedback instead of to nearest ("int8/7+ef": error-feedback.mjs).
import fs from 'node:fs';
import crypto from 'node:crypto';
import { fail } from './ir.mjs';
import { errorFeedback } from './error-feedback.mjs';

// The output-channel axis of each op's weight: CONV2D w[Co,KH,KW,Ci] and FC w[Co,K] on dim 0,
// DWCONV2D w[1,KH,KW,C] on the last.
const AXIS = { CONV2D: 0, FC: 0, DWCONV2D: 3 };

/** The precisions of a table, widest first; int8/B keeps B bits of levels (q in +-(2^(B-1) - 1)),
 *  f16/M the top M of binary16's 10 mantissa bits. */
export const F16_MANTISSA = [9, 8, 7, 6, 5, 4];
// A `+ef` suffix (int8, int8/B, f16/M): rounded with error feedback on the weight's calibration
// (error-feedback.mjs, models/precision/NAME.calib) instead of to nearest.
const REDUCED = [...F16_MANTISSA.map((m) => `f16/${m}`), 'int8', 'int8/7', 'int8/6', 'int8/5', 'int8/4'];
export const PRECISIONS = ['f32', 'f16', ...REDUCED, ...REDUCED.map((p) => `${p}+ef`)];
const base = (p) => String(p).replace(/\+ef$/, '');
export const int8Bits = (p) => (base(p) === 'int8' ? 8 : /^int8\/[4-7]$/.test(base(p)) ? Number(base(p).slice(5)) : 0);
/** Mantissa bits of an f16 precision (10 for f16), else 0. */
export const f16Bits = (p) => (p === 'f16' ? 10 : /^f16\/[4-9]$/.test(base(p)) ? Number(base(p).slice(4)) : 0);

/** Mark tensor t for precision p (f32, f16, f16/M or int8/B with the weight's axis). */
export function markPrecision(t, p, axis) {
  delete t.quant;
  delete t.f16;
  delete t.f16Bits;
  delete t.payloadData;
  if (int8Bits(p)) t.quant = { axis, bits: int8Bits(p) };
  else if (f16Bits(p)) { t.f16 = true; t.f16Bits = f16Bits(p); }
  if (!String(p).endsWith('+ef')) return;
  if (!t.calib || axis !== 0) fail(`${t.name}: ${p} needs a calibration (tools/convert/calibrate.mjs) and output channels on axis 0`);
  t.efCache ||= new Map(); // the selection marks the same tensor many times
  if (!t.efCache.has(p)) t.efCache.set(p, errorFeedback(t.data, t.shape, t.calib, { bits: int8Bits(p), f16m: int8Bits(p) ? 0 : f16Bits(p) }));
  t.payloadData = t.efCache.get(p); // what write-vfm.mjs stores, on the grid of p
}

/** The constant weights int8 may apply to, in op order: name -> output-channel axis (-1 when the
 *  tensor is shared by ops that want different axes: it stays f32 or f16). */
export function weightAxes(g) {
  const axisOf = new Map();
  for (const op of g.ops) {
    const w = op.inputs[1];
    if (!(op.type in AXIS) || !g.isConst(w)) continue;
    const axis = AXIS[op.type];
    if (axisOf.has(w) && axisOf.get(w) !== axis) axisOf.set(w, -1);
    else if (!axisOf.has(w)) axisOf.set(w, axis);
  }
  return axisOf;
}

/** Mark the weights to store as int8 (t.quant = {axis, bits: 8}); `keep`: op output or weight
 *  names kept f32. Returns the names marked, in op order. */
export function markInt8(g, keep = []) {
  const keepSet = new Set(keep);
  for (const k of keepSet) if (!g.tensors.has(k)) fail(`--keep-f32: no tensor or op output '${k}'`);
  const kept = new Set(g.ops.filter((op) => keepSet.has(op.output)).map((op) => op.inputs[1]));
  const marked = [];
  for (const [w, axis] of weightAxes(g)) {
    if (axis < 0 || keepSet.has(w) || kept.has(w)) continue;
    g.tensor(w).quant = { axis, bits: 8 };
    marked.push(w);
  }
  return marked;
}

/** Parse a precision table: TSV `tensor<TAB>precision[<TAB>notes...]`, '#' comments, and an optional
 *  row `*` for the constants not named (f32, f16 or f16/M; default: f32, or f16 where that is exact). */
export function parsePrecision(text, what = 'precision table') {
  const rows = new Map();
  let other = null;
  text.split('\n').forEach((line, i) => {
    if (!line.trim() || line.startsWith('#')) return;
    const [name, prec] = line.split('\t');
    if (name === 'tensor' && prec === 'precision') return; // header
    if (!PRECISIONS.includes(prec)) fail(`${what}:${i + 1}: unknown precision '${prec}' (${PRECISIONS.join(', ')})`);
    if (name === '*') {
      if (int8Bits(prec)) fail(`${what}:${i + 1}: '*' may only be f32, f16 or f16/M`);
      other = prec;
    } else {
      if (rows.has(name)) fail(`${what}:${i + 1}: '${name}' listed twice`);
      rows.set(name, prec);
    }
  });
  return { rows, other };
}

/** Apply a precision table to g: every int8 candidate weight must be listed (a changed graph is
 *  then noticed, not silently converted another way), every listed name must be a constant, int8
 *  only on a weight. Returns counts by precision. */
export function applyPrecision(g, table, what = 'precision table', calib = new Map()) {
  const axes = weightAxes(g);
  attachCalib(g, calib);
  for (const [w, axis] of axes) if (axis >= 0 && !table.rows.has(w)) fail(`${what}: weight '${w}' is not listed`);
  const counts = {};
  for (const [name, prec] of table.rows) {
    if (!g.tensors.has(name) || !g.isConst(name)) fail(`${what}: '${name}' is not a constant of the graph`);
    if (int8Bits(prec) && !(axes.get(name) >= 0)) fail(`${what}: '${name}' is not a CONV2D, DWCONV2D or FC weight: int8 does not apply`);
    markPrecision(g.tensor(name), prec, axes.get(name));
    counts[prec] = (counts[prec] || 0) + 1;
  }
  if (f16Bits(table.other)) for (const t of g.tensors.values()) if (t.kind === 'const' && !table.rows.has(t.name)) markPrecision(t, table.other);
  return counts;
}

/** Read a precision table file and its calibration (NAME.calib beside it, if any); returns
 *  {table, sha256, calib: Map tensor -> {h, k}, calibSha256}. */
export function readPrecisionFile(file) {
  const text = fs.readFileSync(file, 'utf8');
  const cf = file.replace(/\.tsv$/, '.calib');
  const cbytes = fs.existsSync(cf) ? fs.readFileSync(cf) : null;
  return { table: parsePrecision(text, file), sha256: crypto.createHash('sha256').update(text).digest('hex'),
    calib: cbytes ? parseCalib(cbytes) : new Map(), calibSha256: cbytes && crypto.createHash('sha256').update(cbytes).digest('hex') };
}

/** A calibration file (tools/convert/calibrate.mjs): per weight a JSON line, then k*k f32 LE. */
export function parseCalib(buf) {
  const out = new Map();
  for (let off = 0; off < buf.length;) {
    const nl = buf.indexOf(10, off);
    if (nl < 0) fail('calibration: truncated');
    const { tensor, k } = JSON.parse(buf.subarray(off, nl).toString('utf8'));
    const end = nl + 1 + 4 * k * k;
    if (end > buf.length) fail('calibration: truncated');
    const h = new Float64Array(k * k);
    for (let i = 0; i < k * k; i++) h[i] = buf.readFloatLE(nl + 1 + 4 * i);
    out.set(tensor, { h, k });
    off = end;
  }
  return out;
}

/** Give each calibrated weight of g its second moments (t.calib). */
export function attachCalib(g, calib) {
  for (const [name, c] of calib) {
    if (!g.tensors.has(name)) fail(`calibration: no tensor '${name}'`);
    g.tensor(name).calib = c;
  }
}

/** Per-channel symmetric quantisation of f32 data laid out as `shape` along `axis` with
 *  L = 2^(bits-1) - 1 levels each side: scale[c] = max|w| / L (as f32), q = round(w / scale) in
 *  -L..L (0 where the channel is 0). */
export function quantizePerChannel(data, shape, axis, bits = 8) {
  const L = 2 ** (bits - 1) - 1;
  const C = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = new Float32Array(C), q = new Int8Array(data.length);
  const chan = (i) => Math.floor(i / inner) % C;
  for (let i = 0; i < data.length; i++) scales[chan(i)] = Math.max(scales[chan(i)], Math.abs(data[i]));
  for (let c = 0; c < C; c++) scales[c] = Math.fround(scales[c] / L);
  for (let i = 0; i < data.length; i++) {
    const s = scales[chan(i)];
    q[i] = s > 0 ? Math.max(-L, Math.min(L, Math.round(data[i] / s))) : 0;
  }
  return { scales, q };
}
