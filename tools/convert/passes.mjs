// passes.mjs - graph rewrites that turn an imported graph into a .vfm-ready one. Every rewrite
// is exact in real arithmetic (float results may differ by rounding only):
//   aliases     Identity / shape-preserving Reshape disappear; Reshape chains collapse
//   patterns    PReLU and L2NORM subgraphs (patterns.mjs)
//   clamps      Min/Max with a scalar constant become clamp activations
//   affine      Add/Sub/Mul of a per-output-channel constant fold into conv/dwconv/FC
//   activation  standalone activations fuse into the producer's epilogue; clamp chains merge;
//               a PReLU/ReLU on an input already clamped to >= 0 disappears
import { EPILOGUE_OPS, VFM_OPS, fail, numel, sameShape, inferShape } from './ir.mjs';
import { matchPrelu, matchL2Norm, channelValues } from './patterns.mjs';

/** Tensor `name` is read by exactly one op and is not a graph output. */
function singleUse(g, cons, name) {
  return !g.outputs.includes(name) && (cons.get(name) || []).length === 1;
}

/** Replace input k of op with new constant data, in place when nobody else reads it. */
function setConst(g, cons, op, k, shape, data, base) {
  const old = op.inputs[k];
  if (old != null && (cons.get(old) || []).length === 1 && !g.outputs.includes(old)) {
    const t = g.tensor(old);
    t.shape = [...shape];
    t.data = data;
    return;
  }
  op.inputs[k] = g.addConst(old != null ? `${old}/folded` : base, shape, data);
}

/** Op `inner` takes over the output (and epilogue) of `outer`, which is removed. */
function absorb(g, inner, outer, act) {
  const mid = inner.output;
  g.removeOp(outer);
  g.tensors.delete(mid);
  inner.output = outer.output;
  inner.act = act;
}

export function simplifyAliases(g) {
  let n = 0;
  for (const op of [...g.ops]) {
    if (!g.ops.includes(op)) continue;
    if (op.type === 'IDENTITY' || (op.type === 'CAST' && op.attrs.to === 'f32')) {
      g.bypass(op, op.inputs[0]);
      n++;
    } else if (op.type === 'RESHAPE') {
      const inner = g.producer(op.inputs[0]);
      if (inner && inner.type === 'RESHAPE') { op.inputs[0] = inner.inputs[0]; n++; }
      if (sameShape(g.tensor(op.inputs[0]).shape, g.tensor(op.output).shape)) {
        const before = g.ops.length;
        g.bypass(op, op.inputs[0]);
        if (g.ops.length !== before) n++;
      }
    }
  }
  return n;
}

/** MIN/MAX against one scalar constant -> clamp activation. */
export function minMaxToClamp(g) {
  let n = 0;
  for (const op of g.ops) {
    if ((op.type !== 'MIN' && op.type !== 'MAX') || op.act.kind !== 'none') continue;
    const ci = g.isConst(op.inputs[1]) ? 1 : g.isConst(op.inputs[0]) ? 0 : -1;
    if (ci < 0) continue;
    const c = g.tensor(op.inputs[ci]);
    const x = op.inputs[1 - ci];
    if (!c.data.every((v) => v === c.data[0]) || !sameShape(g.tensor(x).shape, g.tensor(op.output).shape)) continue;
    const v = c.data[0];
    op.act = op.type === 'MIN' ? { kind: 'clamp', lo: -Infinity, hi: v } : { kind: 'clamp', lo: v, hi: Infinity };
    op.type = 'ACT';
    op.inputs = [x];
    n++;
  }
  return n;
}

/** Fold Add/Sub/Mul of a per-output-channel constant into the producing conv/dwconv/FC. */
export function foldAffine(g, log) {
  let n = 0;
  for (const op of [...g.ops]) {
    if (!['ADD', 'SUB', 'MUL'].includes(op.type) || !g.ops.includes(op)) continue;
    let xi;
    if (g.isConst(op.inputs[1]) && !g.isConst(op.inputs[0])) xi = 0;
    else if (g.isConst(op.inputs[0]) && !g.isConst(op.inputs[1]) && op.type !== 'SUB') xi = 1;
    else continue;
    const x = op.inputs[xi];
    const q = g.producer(x);
    if (!q || !['CONV2D', 'DWCONV2D', 'FC'].includes(q.type) || q.act.kind !== 'none') continue;
    const cons = g.consumers();
    if (!singleUse(g, cons, x)) continue;
    const xs = g.tensor(x).shape;
    const C = xs.at(-1);
    const cv = channelValues(g, op.inputs[1 - xi], C);
    if (!cv || g.tensor(op.inputs[1 - xi]).shape.length > xs.length || !sameShape(g.tensor(op.output).shape, xs)) continue;
    const w = g.tensor(q.inputs[1]);
    const b = q.inputs[2] != null ? g.tensor(q.inputs[2]).data : new Float32Array(C);
    let nb;
    if (op.type === 'MUL') {
      const nw = new Float32Array(w.data.length);
      const inner = numel(w.shape.slice(1)); // CONV2D [Co,..], FC [Co,K]
      for (let i = 0; i < nw.length; i++) {
        const co = q.type === 'DWCONV2D' ? i % C : Math.floor(i / inner);
        nw[i] = w.data[i] * cv[co];
      }
      setConst(g, cons, q, 1, w.shape, nw);
      nb = Float32Array.from(b, (v, co) => v * cv[co]);
    } else {
      const s = op.type === 'SUB' ? -1 : 1;
      nb = Float32Array.from(b, (v, co) => v + s * cv[co]);
    }
    if (q.inputs[2] == null) q.inputs[2] = g.addConst(`${op.output}/bias`, [C], nb);
    else setConst(g, cons, q, 2, [C], nb);
    absorb(g, q, op, op.act);
    n++;
    if (log) log(`folded ${op.type} '${op.output}' into ${q.type}`);
  }
  return n;
}

const clampTo = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

/** Fuse standalone activations into their producer's epilogue. */
export function fuseActivations(g) {
  let n = 0;
  for (const a of [...g.ops]) {
    if (a.type !== 'ACT' || !g.ops.includes(a)) continue;
    const x = a.inputs[0];
    const p = g.producer(x);
    if (!p) continue;
    const cons = g.consumers();
    const single = singleUse(g, cons, x);
    if (p.act.kind === 'clamp') {
      if (a.act.kind === 'clamp') {
        const lo = clampTo(p.act.lo, a.act.lo, a.act.hi);
        const hi = clampTo(p.act.hi, a.act.lo, a.act.hi);
        if (lo === p.act.lo && hi === p.act.hi) { g.bypass(a, x); n++; continue; }
        if (single) { absorb(g, p, a, { kind: 'clamp', lo, hi }); n++; }
      } else if (a.act.kind === 'prelu' && p.act.lo >= 0) {
        g.bypass(a, x); // x >= 0 already: PReLU is the identity
        n++;
      }
      continue;
    }
    if (p.act.kind === 'none' && EPILOGUE_OPS.has(p.type) && single) {
      absorb(g, p, a, a.act);
      n++;
    }
  }
  return n;
}

/** A RESHAPE from [N,H,W,C] to [N,H*W*C] feeding only FCs is dropped (FC flattens rank 4). */
export function reshapeIntoFc(g) {
  let n = 0;
  for (const op of [...g.ops]) {
    if (op.type !== 'RESHAPE') continue;
    const src = g.tensor(op.inputs[0]).shape;
    const out = g.tensor(op.output).shape;
    if (src.length !== 4 || out.length !== 2 || out[0] !== src[0] || g.outputs.includes(op.output)) continue;
    const readers = g.consumers().get(op.output) || [];
    if (!readers.length || !readers.every((r) => r.type === 'FC' && r.inputs[0] === op.output)) continue;
    for (const r of readers) r.inputs[0] = op.inputs[0];
    n++;
  }
  return n;
}

/** Run every pass to a fixed point; returns a list of log lines. */
export function optimize(g, { verbose = false } = {}) {
  const lines = [];
  const log = verbose ? (s) => lines.push(s) : null;
  g.dce();
  simplifyAliases(g);
  matchPrelu(g, log);
  matchL2Norm(g, log);
  g.dce();
  for (let iter = 0; iter < 100; iter++) {
    let c = minMaxToClamp(g);
    c += foldAffine(g, log);
    c += fuseActivations(g);
    c += simplifyAliases(g);
    c += reshapeIntoFc(g);
    c += g.dce();
    if (!c) break;
    if (iter === 99) fail('optimisation did not converge');
  }
  g.topoSort();
  validate(g);
  return lines;
}

/** Everything left must be a .vfm op with well-formed operands. */
export function validate(g) {
  for (const op of g.ops) {
    if (!(op.type in VFM_OPS)) fail(`op ${op.type} ('${op.output}') could not be lowered to a .vfm op`);
    if (op.act.kind !== 'none' && !EPILOGUE_OPS.has(op.type)) fail(`op ${op.type} '${op.output}' cannot carry an activation`);
    const shape = inferShape(g, op);
    if (!sameShape(shape, g.tensor(op.output).shape)) fail(`op ${op.type} '${op.output}': shape [${g.tensor(op.output).shape}] != inferred [${shape}]`);
    if (['CONV2D', 'DWCONV2D', 'FC'].includes(op.type)) {
      if (!g.isConst(op.inputs[1]) || (op.inputs[2] != null && !g.isConst(op.inputs[2]))) fail(`${op.type} '${op.output}': weights must be constant`);
    }
    const binary = ['ADD', 'SUB', 'MUL', 'MIN', 'MAX'].includes(op.type);
    if (g.isConst(op.inputs[0]) && (!binary || g.isConst(op.inputs[1]))) fail(`${op.type} '${op.output}': constant data input`);
    if (op.act.kind === 'prelu') {
      const a = g.tensor(op.act.alpha);
      if (a.kind !== 'const' || a.shape.length !== 1 || a.shape[0] !== g.tensor(op.output).shape.at(-1)) fail(`${op.type} '${op.output}': bad PReLU alpha`);
    }
    for (const n of op.inputs) if (n != null && g.tensor(n).dtype !== 'f32') fail(`${op.type} '${op.output}': integer tensor '${n}'`);
  }
  for (const o of g.outputs) if (g.tensor(o).kind !== 'act') fail(`graph output '${o}' is not computed by an op`);
  for (const t of g.tensors.values()) {
    if (t.shape.length < 1 || t.shape.length > 4) fail(`tensor '${t.name}': rank ${t.shape.length} unsupported (1..4)`);
  }
  if (!g.ops.length) fail('empty graph');
}
