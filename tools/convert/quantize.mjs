// quantize.mjs - int8 weights (models/FORMAT.md dtype 3): symmetric, one f32 scale per output
// channel, for the weights of CONV2D, DWCONV2D and FC. The loader dequantises once at load, so
// the kernels, the arena and every backend are those of the f32 model; only the file shrinks.
import { fail } from './ir.mjs';

// The output-channel axis of each op's weight: CONV2D w[Co,KH,KW,Ci] and FC w[Co,K] on dim 0,
// DWCONV2D w[1,KH,KW,C] on the last.
const AXIS = { CONV2D: 0, FC: 0, DWCONV2D: 3 };

/** Mark the weights to store as int8 (t.quant = {axis}); `keep`: op output or weight names kept
 *  f32. Returns the names marked, in op order. */
export function markInt8(g, keep = []) {
  const keepSet = new Set(keep);
  const axisOf = new Map();
  for (const op of g.ops) {
    const w = op.inputs[1];
    if (!(op.type in AXIS) || !g.isConst(w)) continue;
    const axis = AXIS[op.type];
    if (keepSet.has(op.output) || keepSet.has(w)) { axisOf.set(w, -1); continue; }
    if (axisOf.has(w) && axisOf.get(w) !== axis) axisOf.set(w, -1); // shared with another use: keep f32
    else if (!axisOf.has(w)) axisOf.set(w, axis);
  }
  for (const k of keepSet) if (!g.tensors.has(k)) fail(`--keep-f32: no tensor or op output '${k}'`);
  const marked = [];
  for (const [w, axis] of axisOf) {
    if (axis < 0) continue;
    g.tensor(w).quant = { axis };
    marked.push(w);
  }
  return marked;
}

/** Per-channel symmetric quantisation of f32 data laid out as `shape` along `axis`:
 *  scale[c] = max|w| / 127 (as f32), q = round(w / scale) in -127..127 (0 where the channel is 0). */
export function quantizePerChannel(data, shape, axis) {
  const C = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = new Float32Array(C), q = new Int8Array(data.length);
  const chan = (i) => Math.floor(i / inner) % C;
  for (let i = 0; i < data.length; i++) scales[chan(i)] = Math.max(scales[chan(i)], Math.abs(data[i]));
  for (let c = 0; c < C; c++) scales[c] = Math.fround(scales[c] / 127);
  for (let i = 0; i < data.length; i++) {
    const s = scales[chan(i)];
    q[i] = s > 0 ? Math.max(-127, Math.min(127, Math.round(data[i] / s))) : 0;
  }
  return { scales, q };
}
