// patterns.mjs - multi-op subgraphs rewritten into one .vfm op:
//   PReLU written as Add(y, Mul(Sub(x, Abs(x)), c))   (TF-slim prelu, e.g. mobilefacenet)
//   L2 normalisation x * Rsqrt(Max(Sum(Square(x), last axis, keep_dims), eps))
import { fail } from './ir.mjs';

/** Producer of `name` if it is an op of `type` with no epilogue, else null. */
function prod(g, name, type) {
  const op = g.producer(name);
  return op && op.type === type && op.act.kind === 'none' ? op : null;
}

/** True if `name` is read only by ops in `readers` and is no graph output. */
function onlyFeeds(g, cons, name, readers) {
  if (g.outputs.includes(name)) return false;
  return (cons.get(name) || []).every((op) => readers.includes(op));
}

/** Per-channel values (length C) of a constant that broadcasts only along the last axis. */
export function channelValues(g, name, c) {
  const t = g.tensor(name);
  if (t.kind !== 'const') return null;
  const s = t.shape;
  if (s.slice(0, -1).some((d) => d !== 1)) return null;
  if (t.data.length === c) return Float64Array.from(t.data);
  if (t.data.length === 1) return new Float64Array(c).fill(t.data[0]);
  return null;
}

/**
 * relu(x) + c*(x - |x|) == prelu(x, 2c), and x + c*(x - |x|) == prelu(x, 1 + 2c), because
 * x - |x| is 0 for x >= 0 and 2x for x < 0.
 */
export function matchPrelu(g, log) {
  let n = 0;
  for (const add of [...g.ops]) {
    if (add.type !== 'ADD' || add.act.kind !== 'none') continue;
    const cons = g.consumers();
    for (const [i, j] of [[0, 1], [1, 0]]) {
      const y = add.inputs[i];
      const mul = prod(g, add.inputs[j], 'MUL');
      if (!mul) continue;
      const ci = g.isConst(mul.inputs[1]) ? 1 : g.isConst(mul.inputs[0]) ? 0 : -1;
      if (ci < 0) continue;
      const sub = prod(g, mul.inputs[1 - ci], 'SUB');
      if (!sub) continue;
      const x = sub.inputs[0];
      const abs = prod(g, sub.inputs[1], 'ABS');
      if (!abs || abs.inputs[0] !== x) continue;
      const C = g.tensor(x).shape.at(-1);
      const cv = channelValues(g, mul.inputs[ci], C);
      if (!cv || g.tensor(add.output).shape.join() !== g.tensor(x).shape.join()) continue;
      let base;
      if (y === x) base = 1;
      else {
        const relu = g.producer(y);
        if (!relu || relu.type !== 'ACT' || relu.inputs[0] !== x || relu.act.kind !== 'clamp' || relu.act.lo !== 0 || relu.act.hi !== Infinity) continue;
        base = 0;
      }
      if (!onlyFeeds(g, cons, add.inputs[j], [add]) || !onlyFeeds(g, cons, mul.output, [add]) ||
          !onlyFeeds(g, cons, sub.output, [mul]) || !onlyFeeds(g, cons, abs.output, [sub])) continue;
      const slope = Float32Array.from(cv, (v) => base + 2 * v);
      const alpha = g.addConst(`${add.output}/prelu_alpha`, [C], slope);
      add.type = 'ACT';
      add.inputs = [x];
      add.attrs = {};
      add.act = { kind: 'prelu', alpha };
      n++;
      if (log) log(`prelu pattern at '${add.output}' (${base ? 'x + c*(x-|x|): slope 1+2c' : 'relu(x) + c*(x-|x|): slope 2c'})`);
      break;
    }
  }
  return n;
}

/** x * rsqrt(max(sum(x^2, last axis, keep_dims), eps)) -> L2NORM(x, eps). */
export function matchL2Norm(g, log) {
  let n = 0;
  for (const mul of [...g.ops]) {
    if (mul.type !== 'MUL' || mul.act.kind !== 'none') continue;
    const cons = g.consumers();
    for (const [i, j] of [[0, 1], [1, 0]]) {
      const x = mul.inputs[i];
      const rs = prod(g, mul.inputs[j], 'RSQRT');
      if (!rs) continue;
      const mx = prod(g, rs.inputs[0], 'MAX');
      if (!mx) continue;
      const ei = g.isConst(mx.inputs[1]) ? 1 : g.isConst(mx.inputs[0]) ? 0 : -1;
      if (ei < 0 || g.tensor(mx.inputs[ei]).data.length !== 1) continue;
      const eps = g.tensor(mx.inputs[ei]).data[0];
      const sum = prod(g, mx.inputs[1 - ei], 'SUM');
      if (!sum) continue;
      const xs = g.tensor(x).shape;
      const axes = sum.attrs.axes.map((a) => (a < 0 ? a + xs.length : a));
      if (!sum.attrs.keepDims || axes.length !== 1 || axes[0] !== xs.length - 1) continue;
      const sq = prod(g, sum.inputs[0], 'SQUARE');
      if (!sq || sq.inputs[0] !== x) continue;
      if (g.tensor(mul.output).shape.join() !== xs.join()) continue;
      if (!onlyFeeds(g, cons, rs.output, [mul]) || !onlyFeeds(g, cons, mx.output, [rs]) ||
          !onlyFeeds(g, cons, sum.output, [mx]) || !onlyFeeds(g, cons, sq.output, [sum])) continue;
      if (!(eps >= 0)) fail(`L2 normalisation '${mul.output}': epsilon ${eps}`);
      mul.type = 'L2NORM';
      mul.inputs = [x];
      mul.attrs = { eps };
      n++;
      if (log) log(`l2norm pattern at '${mul.output}' (eps ${eps})`);
      break;
    }
  }
  return n;
}
