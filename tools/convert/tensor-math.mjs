// tensor-math.mjs - small exact helpers on constant tensors: IEEE half conversion, transposes,
// and evaluation of the elementwise ops that appear in constant subgraphs.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE binary16 bits, round to nearest even (handles subnormals, inf, NaN). */
export function f32ToF16Bits(v) {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent: still correct
  return sign | h;
}

/** float32 -> binary16 bits with only the top `m` (1..10) of the 10 mantissa bits used (the rest
 *  0), rounded to nearest even straight from the f32 value: relative error <= 2^-(m+1) on normal
 *  values, the same absolute step as binary16's scaled by 2^(10-m) on subnormal ones; inf and NaN
 *  as f32ToF16Bits, a finite value under binary16's largest stays finite. The reader needs nothing new (still binary16), but gzip codes the zero bits in
 *  almost nothing. */
export function f32ToF16BitsM(v, m) {
  if (m === 10) return f32ToF16Bits(v);
  f32[0] = v;
  const x = u32[0];
  const exp = (x >>> 23) & 0xff;
  if (exp === 0xff) return f32ToF16Bits(v);
  const rne = (a) => { const f = Math.floor(a), d = a - f; return d > 0.5 || (d === 0.5 && f % 2) ? f + 1 : f; };
  if (exp - 127 >= -14) { // binary16 normal range: round the f32 mantissa to m bits
    const k = 23 - m;
    const mag = x & 0x7fffffff;
    let r = rne(mag / 2 ** k) * 2 ** k; // carries into the exponent where it must
    if ((r >>> 23) - 127 > 15 && exp - 127 <= 15) r = mag - (mag % 2 ** k); // finite stays finite
    u32[0] = ((x & 0x80000000) | r) >>> 0;
    return f32ToF16Bits(f32[0]);
  }
  const step = 2 ** (10 - m); // subnormal: units of 2^-24, exact in a double
  return (x >>> 16 & 0x8000) | (rne(Math.abs(v) * 2 ** 24 / step) * step);
}

/** IEEE binary16 bits -> float value. */
export function f16BitsToF32(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** True when every value survives float32 -> float16 -> float32 bit-exactly (keeps -0). */
export function isF16Exact(data) {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isNaN(v)) return false;
    if (!Object.is(f16BitsToF32(f32ToF16Bits(v)), v)) return false;
  }
  return true;
}

export function strides(shape) {
  const s = new Array(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1] * shape[k + 1];
  return s;
}

/** Transpose: out dim k is input dim perm[k]. Returns {shape, data} (same typed array class). */
export function transpose(data, shape, perm) {
  const outShape = perm.map((p) => shape[p]);
  const inStr = strides(shape);
  const str = perm.map((p) => inStr[p]);
  const out = new data.constructor(data.length);
  const r = shape.length;
  const idx = new Array(r).fill(0);
  for (let i = 0; i < data.length; i++) {
    let src = 0;
    for (let k = 0; k < r; k++) src += idx[k] * str[k];
    out[i] = data[src];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

function broadcast(a, b) {
  const r = Math.max(a.length, b.length);
  const pa = [...new Array(r - a.length).fill(1), ...a];
  const pb = [...new Array(r - b.length).fill(1), ...b];
  const out = pa.map((x, k) => {
    if (x !== pb[k] && x !== 1 && pb[k] !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    return Math.max(x, pb[k]);
  });
  return { out, pa, pb };
}

/** Elementwise binary op with NumPy broadcasting, computed in double and rounded to f32. */
export function binaryOp(fn, A, B) {
  const { out, pa, pb } = broadcast(A.shape, B.shape);
  const n = out.reduce((x, y) => x * y, 1);
  const sa = strides(pa).map((s, k) => (pa[k] === 1 ? 0 : s));
  const sb = strides(pb).map((s, k) => (pb[k] === 1 ? 0 : s));
  const isInt = A.data instanceof Int32Array && B.data instanceof Int32Array;
  const res = isInt ? new Int32Array(n) : new Float32Array(n);
  const idx = new Array(out.length).fill(0);
  for (let i = 0; i < n; i++) {
    let ia = 0, ib = 0;
    for (let k = 0; k < out.length; k++) { ia += idx[k] * sa[k]; ib += idx[k] * sb[k]; }
    res[i] = fn(A.data[ia], B.data[ib]);
    for (let k = out.length - 1; k >= 0; k--) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  return { shape: out, data: res };
}

const BIN = {
  ADD: (a, b) => a + b,
  SUB: (a, b) => a - b,
  MUL: (a, b) => a * b,
  MIN: (a, b) => Math.min(a, b),
  MAX: (a, b) => Math.max(a, b),
  DIV: (a, b) => a / b,
};
const UN = {
  IDENTITY: (a) => a,
  ABS: (a) => Math.abs(a),
  NEG: (a) => -a,
  SQUARE: (a) => a * a,
  RSQRT: (a) => 1 / Math.sqrt(a),
  SIGMOID: (a) => 1 / (1 + Math.exp(-a)),
};

export function canEvalConst(type) {
  return type in BIN || type in UN || type === 'CAST' || type === 'RESHAPE' || type === 'SUM';
}

/** Evaluate an op whose inputs are all constants. get(name) returns {shape, data}. */
export function evalConstOp(op, get) {
  const ins = op.inputs.map((n) => (n == null ? null : get(n)));
  if (op.type in BIN) return binaryOp(BIN[op.type], ins[0], ins[1]);
  const x = ins[0];
  if (op.type in UN) {
    const out = x.data instanceof Int32Array && op.type !== 'RSQRT' && op.type !== 'SIGMOID'
      ? new Int32Array(x.data.length) : new Float32Array(x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = UN[op.type](x.data[i]);
    return { shape: [...x.shape], data: out };
  }
  if (op.type === 'CAST') {
    const data = op.attrs.to === 'i32' ? Int32Array.from(x.data, (v) => Math.trunc(v)) : Float32Array.from(x.data);
    return { shape: [...x.shape], data };
  }
  if (op.type === 'RESHAPE') return { shape: [...op.attrs.shape], data: x.data.slice() };
  if (op.type === 'SUM') {
    const r = x.shape.length;
    const axes = op.attrs.axes.map((v) => (v < 0 ? v + r : v));
    const outFull = x.shape.map((d, k) => (axes.includes(k) ? 1 : d));
    const n = outFull.reduce((a, b) => a * b, 1);
    const acc = new Float64Array(n);
    const so = strides(outFull);
    const idx = new Array(r).fill(0);
    for (let i = 0; i < x.data.length; i++) {
      let o = 0;
      for (let k = 0; k < r; k++) if (!axes.includes(k)) o += idx[k] * so[k];
      acc[o] += x.data[i];
      for (let k = r - 1; k >= 0; k--) {
        if (++idx[k] < x.shape[k]) break;
        idx[k] = 0;
      }
    }
    const shape = op.attrs.keepDims ? outFull : x.shape.filter((_, k) => !axes.includes(k));
    return { shape, data: Float32Array.from(acc) };
  }
  throw new Error(`cannot evaluate constant op ${op.type}`);
}
