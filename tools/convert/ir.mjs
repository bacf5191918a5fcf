// ir.mjs - the converter's in-memory graph: named tensors (NHWC activations, constants) and a
// list of ops. Importers build it, passes rewrite it, write-vfm.mjs serialises it.
//
// Op types are the .vfm ops (see models/FORMAT.md) plus a few "generic" ops that only exist
// during conversion and must be folded away by the passes (IDENTITY, ABS, NEG, SQUARE, RSQRT,
// SUM, CAST). An op is {type, inputs: [tensor name | null], output: name, attrs, act}, with
// act = {kind: 'none'} | {kind: 'clamp', lo, hi} | {kind: 'prelu', alpha: const tensor name}.
import { evalConstOp, canEvalConst } from './tensor-math.mjs';

export const VFM_OPS = {
  CONV2D: 1, DWCONV2D: 2, FC: 3, ADD: 4, SUB: 5, MUL: 6, MIN: 7, MAX: 8, ACT: 9, SIGMOID: 10,
  SOFTMAX: 11, MAXPOOL2D: 12, AVGPOOL2D: 13, GLOBAL_AVGPOOL: 14, PAD: 15, RESHAPE: 16, L2NORM: 17,
};
export const BINARY_OPS = new Set(['ADD', 'SUB', 'MUL', 'MIN', 'MAX']);
export const EPILOGUE_OPS = new Set(['CONV2D', 'DWCONV2D', 'FC', 'ADD', 'SUB', 'MUL', 'MIN', 'MAX', 'ACT']);
export const NO_ACT = Object.freeze({ kind: 'none' });

export const numel = (shape) => shape.reduce((a, b) => a * b, 1);
export const sameShape = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

export class ConvertError extends Error {}
export function fail(msg) { throw new ConvertError(msg); }

/** NumPy broadcast of two shapes (right-aligned); throws if incompatible. */
export function broadcastShapes(a, b, what = 'operands') {
  const r = Math.max(a.length, b.length);
  const out = [];
  for (let k = 0; k < r; k++) {
    const x = k - (r - a.length) >= 0 ? a[k - (r - a.length)] : 1;
    const y = k - (r - b.length) >= 0 ? b[k - (r - b.length)] : 1;
    if (x !== y && x !== 1 && y !== 1) fail(`${what}: shapes [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(x, y));
  }
  return out;
}

/** Output size of a window along one axis (explicit padding). */
export function windowOut(inSize, k, s, p0, p1) {
  const span = inSize + p0 + p1 - k;
  if (span < 0) fail(`window ${k} larger than padded input ${inSize}+${p0}+${p1}`);
  return Math.floor(span / s) + 1;
}

/** TF 'SAME' padding along one axis: [before, after]. */
export function samePadding(inSize, k, s) {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export class Graph {
  constructor() {
    this.tensors = new Map(); // name -> {name, shape, kind: 'input'|'act'|'const', dtype, data}
    this.ops = [];
    this.inputs = [];
    this.outputs = [];
    this.seq = 0; // op creation counter (stable ordering key)
  }

  has(name) { return this.tensors.has(name); }

  tensor(name) {
    const t = this.tensors.get(name);
    if (!t) fail(`unknown tensor '${name}'`);
    return t;
  }

  isConst(name) { return name != null && this.tensors.has(name) && this.tensors.get(name).kind === 'const'; }

  uniqueName(base) {
    if (!this.tensors.has(base)) return base;
    for (let i = 1; ; i++) if (!this.tensors.has(`${base}_${i}`)) return `${base}_${i}`;
  }

  addInput(name, shape) {
    if (this.tensors.has(name)) fail(`duplicate tensor '${name}'`);
    this.tensors.set(name, { name, shape: [...shape], kind: 'input', dtype: 'f32' });
    this.inputs.push(name);
    return name;
  }

  /** Add a constant; data is a Float32Array (dtype f32) or Int32Array (dtype i32). */
  addConst(name, shape, data) {
    name = this.uniqueName(name);
    if (data.length !== numel(shape)) fail(`constant '${name}': ${data.length} values for shape [${shape}]`);
    const dtype = data instanceof Int32Array ? 'i32' : 'f32';
    if (!(data instanceof Int32Array) && !(data instanceof Float32Array)) data = Float32Array.from(data);
    this.tensors.set(name, { name, shape: [...shape], kind: 'const', dtype, data });
    return name;
  }

  /**
   * Emit an op whose output shape is inferred; if every input is a constant and the op can be
   * evaluated, the result is stored as a constant instead (constant folding at import).
   * Returns the output tensor name.
   */
  emit(type, inputs, output, attrs = {}, act = NO_ACT) {
    const op = { type, inputs: [...inputs], output, attrs, act, seq: this.seq++ };
    const ins = inputs.filter((n) => n != null);
    if (ins.length && ins.every((n) => this.isConst(n)) && act.kind === 'none' && canEvalConst(type)) {
      const r = evalConstOp(op, (n) => this.tensor(n));
      return this.addConst(output, r.shape, r.data);
    }
    if (this.tensors.has(output)) fail(`tensor '${output}' is written twice`);
    const shape = inferShape(this, op);
    this.tensors.set(output, { name: output, shape, kind: 'act', dtype: 'f32' });
    this.ops.push(op);
    return output;
  }

  producer(name) { return this.ops.find((o) => o.output === name) || null; }

  /** Map tensor name -> list of ops reading it (data inputs and PReLU alphas). */
  consumers() {
    const m = new Map();
    const add = (n, op) => { if (n == null) return; if (!m.has(n)) m.set(n, []); m.get(n).push(op); };
    for (const op of this.ops) {
      for (const n of op.inputs) add(n, op);
      if (op.act.kind === 'prelu') add(op.act.alpha, op);
    }
    return m;
  }

  uses(name, cons = this.consumers()) {
    return (cons.get(name) || []).length + this.outputs.filter((o) => o === name).length;
  }

  /** Replace every read of tensor `from` by `to` (graph outputs are not touched). */
  replaceUses(from, to) {
    for (const op of this.ops) {
      op.inputs = op.inputs.map((n) => (n === from ? to : n));
      if (op.act.kind === 'prelu' && op.act.alpha === from) op.act = { ...op.act, alpha: to };
    }
  }

  /** Rename a tensor everywhere (producer, readers, graph inputs/outputs). */
  rename(from, to) {
    if (from === to) return;
    if (this.tensors.has(to)) fail(`cannot rename '${from}' to existing '${to}'`);
    const t = this.tensor(from);
    this.tensors.delete(from);
    t.name = to;
    this.tensors.set(to, t);
    for (const op of this.ops) if (op.output === from) op.output = to;
    this.replaceUses(from, to);
    this.inputs = this.inputs.map((n) => (n === from ? to : n));
    this.outputs = this.outputs.map((n) => (n === from ? to : n));
  }

  removeOp(op) {
    const i = this.ops.indexOf(op);
    if (i < 0) fail(`op ${op.type} '${op.output}' not in graph`);
    this.ops.splice(i, 1);
  }

  /**
   * Remove op `op` whose output equals (value-wise) tensor `src`. Readers of the output read
   * `src`; if the output is a graph output, `src` takes its name when possible (src is an
   * activation used nowhere else as an output), otherwise a RESHAPE copy is kept.
   */
  bypass(op, src) {
    const out = op.output;
    const outShape = this.tensor(out).shape;
    if (!this.outputs.includes(out)) {
      this.removeOp(op);
      this.replaceUses(out, src);
      this.tensors.delete(out);
      return;
    }
    const s = this.tensor(src);
    if (s.kind === 'act' && !this.outputs.includes(src) && sameShape(s.shape, outShape)) {
      this.removeOp(op);
      this.tensors.delete(out);
      this.rename(src, out);
      return;
    }
    // Keep a copy so the graph output keeps its own name and shape.
    op.type = 'RESHAPE';
    op.inputs = [src];
    op.attrs = { shape: [...outShape] };
    op.act = NO_ACT;
  }

  /** Remove ops and tensors not needed for the graph outputs. */
  dce() {
    const live = new Set(this.outputs);
    const byOut = new Map(this.ops.map((o) => [o.output, o]));
    const stack = [...this.outputs];
    const keep = new Set();
    while (stack.length) {
      const n = stack.pop();
      const op = byOut.get(n);
      if (!op || keep.has(op)) continue;
      keep.add(op);
      const deps = [...op.inputs];
      if (op.act.kind === 'prelu') deps.push(op.act.alpha);
      for (const d of deps) if (d != null && !live.has(d)) { live.add(d); stack.push(d); }
    }
    const before = this.ops.length;
    this.ops = this.ops.filter((o) => keep.has(o));
    for (const n of this.inputs) live.add(n);
    for (const name of [...this.tensors.keys()]) if (!live.has(name)) this.tensors.delete(name);
    return before - this.ops.length;
  }

  /** Order ops so each runs after its producers; ties keep creation order (deterministic). */
  topoSort() {
    const byOut = new Map(this.ops.map((o) => [o.output, o]));
    const deps = new Map();
    for (const op of this.ops) {
      const d = new Set();
      for (const n of op.inputs) if (n != null && byOut.has(n)) d.add(byOut.get(n));
      deps.set(op, d);
    }
    const done = new Set();
    const order = [];
    const pending = [...this.ops].sort((a, b) => a.seq - b.seq);
    while (pending.length) {
      const i = pending.findIndex((op) => [...deps.get(op)].every((d) => done.has(d)));
      if (i < 0) fail('graph has a cycle');
      const [op] = pending.splice(i, 1);
      done.add(op);
      order.push(op);
    }
    this.ops = order;
  }
}

/** Output shape of an op from its input shapes and attributes. */
export function inferShape(g, op) {
  const sh = (k) => g.tensor(op.inputs[k]).shape;
  const x = op.inputs[0] != null ? sh(0) : null;
  const a = op.attrs;
  switch (op.type) {
    case 'CONV2D':
    case 'DWCONV2D': {
      const w = sh(1);
      if (x.length !== 4 || w.length !== 4) fail(`${op.type} '${op.output}': input and weights must be rank 4`);
      const dw = op.type === 'DWCONV2D';
      if (dw ? w[0] !== 1 || w[3] !== x[3] : w[3] !== x[3]) fail(`${op.type} '${op.output}': weights [${w}] do not fit input [${x}]`);
      const co = dw ? w[3] : w[0];
      if (op.inputs[2] != null && (sh(2).length !== 1 || sh(2)[0] !== co)) fail(`${op.type} '${op.output}': bias [${sh(2)}] for ${co} outputs`);
      const [t, l, b, r] = a.pads;
      return [x[0], windowOut(x[1], w[1], a.strides[0], t, b), windowOut(x[2], w[2], a.strides[1], l, r), co];
    }
    case 'FC': {
      const w = sh(1);
      const k = x.length === 4 ? numel(x) / x[0] : x[x.length - 1];
      if (x.length !== 2 && x.length !== 4) fail(`FC '${op.output}': input rank ${x.length} (expected 2 or 4)`);
      if (w.length !== 2 || w[1] !== k) fail(`FC '${op.output}': weights [${w}] do not fit input [${x}]`);
      if (op.inputs[2] != null && (sh(2).length !== 1 || sh(2)[0] !== w[0])) fail(`FC '${op.output}': bias [${sh(2)}]`);
      return [x[0], w[0]];
    }
    case 'ADD': case 'SUB': case 'MUL': case 'MIN': case 'MAX': case 'DIV':
      return broadcastShapes(sh(0), sh(1), `${op.type} '${op.output}'`);
    case 'ACT': case 'SIGMOID': case 'SOFTMAX': case 'L2NORM':
    case 'IDENTITY': case 'ABS': case 'NEG': case 'SQUARE': case 'RSQRT': case 'CAST':
      return [...x];
    case 'MAXPOOL2D':
    case 'AVGPOOL2D': {
      if (x.length !== 4) fail(`${op.type} '${op.output}': input must be rank 4`);
      const [t, l, b, r] = a.pads;
      return [x[0], windowOut(x[1], a.kernel[0], a.strides[0], t, b), windowOut(x[2], a.kernel[1], a.strides[1], l, r), x[3]];
    }
    case 'GLOBAL_AVGPOOL':
      if (x.length !== 4) fail(`GLOBAL_AVGPOOL '${op.output}': input must be rank 4`);
      return a.keepDims ? [x[0], 1, 1, x[3]] : [x[0], x[3]];
    case 'PAD':
      if (x.length !== 4) fail(`PAD '${op.output}': input must be rank 4`);
      return x.map((d, k) => d + a.pre[k] + a.post[k]);
    case 'RESHAPE':
      if (numel(a.shape) !== numel(x)) fail(`RESHAPE '${op.output}': [${x}] into [${a.shape}]`);
      return [...a.shape];
    case 'SUM': {
      const axes = a.axes.map((v) => (v < 0 ? v + x.length : v));
      const out = [];
      x.forEach((d, k) => { if (!axes.includes(k)) out.push(d); else if (a.keepDims) out.push(1); });
      return out;
    }
    default:
      fail(`no shape rule for op ${op.type}`);
  }
  return null;
}

/** Multiply-accumulate based FLOP count of one op (2 per MAC; 1 per element otherwise). */
export function opFlops(g, op) {
  const out = g.tensor(op.output).shape;
  const n = numel(out);
  switch (op.type) {
    case 'CONV2D': { const w = g.tensor(op.inputs[1]).shape; return 2 * n * w[1] * w[2] * w[3]; }
    case 'DWCONV2D': { const w = g.tensor(op.inputs[1]).shape; return 2 * n * w[1] * w[2]; }
    case 'FC': { const w = g.tensor(op.inputs[1]).shape; return 2 * out[0] * w[0] * w[1]; }
    case 'MAXPOOL2D': case 'AVGPOOL2D': return n * op.attrs.kernel[0] * op.attrs.kernel[1];
    case 'GLOBAL_AVGPOOL': return numel(g.tensor(op.inputs[0]).shape);
    case 'RESHAPE': return 0;
    case 'L2NORM': case 'SOFTMAX': return 3 * n;
    default: return n;
  }
}
