// import-onnx.mjs - ONNX model -> converter IR, converting NCHW to NHWC.
//
// The protobuf is decoded with the onnx-proto package. Rank-4 activations are NCHW in ONNX and
// NHWC in the IR; constants are kept in ONNX layout until an op consumes them, which then
// converts them: conv weights OIHW -> OHWI, depthwise [C,1,KH,KW] -> [1,KH,KW,C], PRelu slopes
// [C,1,1] -> [C], broadcast operands [1,C,1,1] -> [1,1,1,C], MatMul [K,N] -> FC [N,K] (rows
// permuted from CHW to HWC order when a Flatten of a CxHxW tensor with H*W > 1 precedes it).
import fs from 'node:fs';
import onnxProto from 'onnx-proto';
import { Graph, fail, numel } from './ir.mjs';
import { transpose, evalConstOp, canEvalConst, f16BitsToF32 } from './tensor-math.mjs';

const { onnx } = onnxProto;

const num = (v) => (v == null ? v : typeof v === 'number' ? v : typeof v.toNumber === 'function' ? v.toNumber() : Number(v));

/** TensorProto -> {shape, data: Float32Array | Int32Array}. */
export function onnxTensor(t) {
  const shape = (t.dims || []).map(num);
  const n = numel(shape);
  const raw = t.rawData && t.rawData.length ? Buffer.from(t.rawData.buffer, t.rawData.byteOffset, t.rawData.length) : null;
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length)) fail(`tensor '${t.name}': external data unsupported`);
  let data;
  switch (t.dataType) {
    case 1: // FLOAT
      data = raw ? Float32Array.from({ length: n }, (_, i) => raw.readFloatLE(4 * i)) : Float32Array.from(t.floatData);
      break;
    case 11: // DOUBLE
      data = raw ? Float32Array.from({ length: n }, (_, i) => raw.readDoubleLE(8 * i)) : Float32Array.from(t.doubleData);
      break;
    case 10: // FLOAT16 (raw, or in int32_data)
      data = Float32Array.from({ length: n }, (_, i) => f16BitsToF32(raw ? raw.readUInt16LE(2 * i) : t.int32Data[i]));
      break;
    case 6: // INT32
      data = raw ? Int32Array.from({ length: n }, (_, i) => raw.readInt32LE(4 * i)) : Int32Array.from(t.int32Data);
      break;
    case 7: { // INT64 (shapes, axes): clamp to int32 range
      const vals = raw ? Array.from({ length: n }, (_, i) => Number(raw.readBigInt64LE(8 * i))) : t.int64Data.map(num);
      data = Int32Array.from(vals, (v) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v)));
      break;
    }
    default:
      fail(`tensor '${t.name}': data type ${t.dataType} unsupported`);
  }
  if (data.length !== n) fail(`tensor '${t.name}': ${data.length} values for shape [${shape}]`);
  return { shape, data };
}

function attrs(node) {
  const m = {};
  for (const a of node.attribute || []) {
    switch (a.type) {
      case 1: m[a.name] = a.f; break;
      case 2: m[a.name] = num(a.i); break;
      case 3: m[a.name] = Buffer.from(a.s).toString('utf8'); break;
      case 4: m[a.name] = onnxTensor(a.t); break;
      case 6: m[a.name] = a.floats.slice(); break;
      case 7: m[a.name] = a.ints.map(num); break;
      default: m[a.name] = a;
    }
  }
  return m;
}

const NCHW_TO_NHWC = [0, 2, 3, 1];

export function importOnnx(file) {
  const model = onnx.ModelProto.decode(fs.readFileSync(file));
  const graph = model.graph;
  const opset = Math.max(0, ...(model.opsetImport || []).filter((o) => !o.domain).map((o) => num(o.version)));
  const g = new Graph();
  const info = { format: 'onnx', opset, notes: [] };
  const consts = new Map(); // ONNX name -> {shape, data} (ONNX layout)
  const acts = new Map(); // ONNX name -> IR tensor name (rank-4 ones are NHWC)
  const flats = new Map(); // Flatten outputs of CxHxW (H*W > 1): name -> {src, C, H, W}
  for (const t of graph.initializer) consts.set(t.name, onnxTensor(t));

  for (const vi of graph.input) {
    if (consts.has(vi.name)) continue;
    const dims = vi.type.tensorType.shape.dim.map((d, k) => {
      const v = num(d.dimValue);
      if (v > 0) return v;
      if (k === 0) return 1;
      return fail(`input '${vi.name}': dimension ${k} is not static`);
    });
    if (dims.length !== 4) fail(`input '${vi.name}': rank ${dims.length} (only NCHW images are supported)`);
    acts.set(vi.name, g.addInput(vi.name, [dims[0], dims[2], dims[3], dims[1]]));
    info.notes.push(`input '${vi.name}' NCHW [${dims}] -> NHWC`);
  }

  const act = (name) => {
    if (!acts.has(name)) fail(`'${name}' is not a computed tensor${flats.has(name) ? ' (Flatten of CxHxW is only supported before MatMul/Gemm)' : ''}`);
    return acts.get(name);
  };
  const rankOf = (name) => (consts.has(name) ? consts.get(name).shape.length : g.tensor(act(name)).shape.length);
  const needConst = (name, what) => {
    if (!consts.has(name)) fail(`${what}: '${name}' must be a constant`);
    return consts.get(name);
  };
  /** Constant as a broadcast operand against a rank-`r` activation. */
  const constOperand = (name, r) => {
    const c = consts.get(name);
    if (r !== 4 || c.shape.length === 0) return g.addConst(name, c.shape.length ? c.shape : [1], Float32Array.from(c.data));
    if (c.shape.length > 4) fail(`operand '${name}' has rank ${c.shape.length}`);
    const padded = [...new Array(4 - c.shape.length).fill(1), ...c.shape];
    const t = transpose(Float32Array.from(c.data), padded, NCHW_TO_NHWC);
    return g.addConst(name, t.shape, t.data);
  };
  /** A 1-D constant of exactly C values (BatchNormalization inputs, biases). */
  const vector = (name, c, what) => {
    const v = needConst(name, what);
    if (v.data.length !== c || v.shape.length !== 1) fail(`${what}: '${name}' has shape [${v.shape}], expected [${c}]`);
    return Float32Array.from(v.data);
  };
  /** A constant broadcast along the channel axis of a rank-r activation (PRelu slope) as C values. */
  const channels = (name, c, r, what) => {
    const v = needConst(name, what);
    if (v.data.length === 1) return new Float32Array(c).fill(v.data[0]);
    if (v.shape.length > r) fail(`${what}: '${name}' [${v.shape}] has a higher rank than its input`);
    const padded = [...new Array(r - v.shape.length).fill(1), ...v.shape];
    const axis = r === 4 ? 1 : r - 1; // NCHW channel axis, or the last axis
    if (padded.some((d, k) => (k === axis ? d !== c : d !== 1))) fail(`${what}: '${name}' [${v.shape}] is not per-channel for ${c} channels`);
    return Float32Array.from(v.data);
  };

  const windowPads = (a, xs, kh, kw, st) => {
    const ap = a.auto_pad || 'NOTSET';
    if (ap === 'NOTSET') {
      const p = a.pads || [0, 0, 0, 0];
      return [p[0], p[1], p[2], p[3]];
    }
    if (ap === 'VALID') return [0, 0, 0, 0];
    const one = (inp, k, s) => {
      const total = Math.max((Math.ceil(inp / s) - 1) * s + k - inp, 0);
      const small = Math.floor(total / 2);
      return ap === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    };
    const [t, b] = one(xs[1], kh, st[0]);
    const [l, r] = one(xs[2], kw, st[1]);
    return [t, l, b, r];
  };

  const nodeName = (node, k = 0) => node.output[k];

  for (const node of graph.node) {
    const a = attrs(node);
    const ins = node.input;
    const out = nodeName(node);
    const op = node.opType;
    if (node.domain && node.domain !== 'ai.onnx') fail(`op ${node.domain}.${op} unsupported`);
    // Constant subgraphs are evaluated here, in ONNX layout.
    const evalType = { Add: 'ADD', Sub: 'SUB', Mul: 'MUL', Div: 'DIV', Neg: 'NEG', Abs: 'ABS', Sqrt: null, Identity: 'IDENTITY' }[op];
    if (op === 'Constant') { consts.set(out, a.value); continue; }
    if (evalType && ins.length && ins.every((i) => consts.has(i)) && canEvalConst(evalType)) {
      consts.set(out, evalConstOp({ type: evalType, inputs: ins, attrs: {} }, (n) => consts.get(n)));
      continue;
    }
    if (op === 'Cast' && consts.has(ins[0])) {
      const c = consts.get(ins[0]);
      consts.set(out, { shape: c.shape, data: a.to === 6 || a.to === 7 ? Int32Array.from(c.data, Math.trunc) : Float32Array.from(c.data) });
      continue;
    }
    switch (op) {
      case 'Conv': {
        const x = act(ins[0]);
        const xs = g.tensor(x).shape; // NHWC
        const W = needConst(ins[1], `Conv '${out}' weights`);
        const [co, cig, kh, kw] = W.shape;
        const group = a.group || 1;
        if ((a.dilations || [1, 1]).some((d) => d !== 1)) fail(`Conv '${out}': dilation unsupported`);
        const st = a.strides || [1, 1];
        const pads = windowPads(a, xs, kh, kw, st);
        const bias = ins[2] ? g.addConst(ins[2], [co], vector(ins[2], co, `Conv '${out}' bias`)) : null;
        if (group === 1) {
          if (cig !== xs[3]) fail(`Conv '${out}': weights [${W.shape}] for ${xs[3]} channels`);
          const t = transpose(Float32Array.from(W.data), W.shape, [0, 2, 3, 1]); // OIHW -> OHWI
          const w = g.addConst(ins[1], t.shape, t.data);
          acts.set(out, g.emit('CONV2D', [x, w, bias], out, { strides: st, pads }));
        } else if (group === xs[3] && co === group && cig === 1) {
          const t = transpose(Float32Array.from(W.data), W.shape, [1, 2, 3, 0]); // [C,1,KH,KW] -> [1,KH,KW,C]
          const w = g.addConst(ins[1], t.shape, t.data);
          acts.set(out, g.emit('DWCONV2D', [x, w, bias], out, { strides: st, pads }));
        } else {
          fail(`Conv '${out}': group ${group} with weights [${W.shape}] unsupported`);
        }
        break;
      }
      case 'Relu':
        acts.set(out, g.emit('ACT', [act(ins[0])], out, {}, { kind: 'clamp', lo: 0, hi: Infinity }));
        break;
      case 'Clip': {
        const lo = ins[1] ? needConst(ins[1], 'Clip min').data[0] : a.min ?? -Infinity;
        const hi = ins[2] ? needConst(ins[2], 'Clip max').data[0] : a.max ?? Infinity;
        acts.set(out, g.emit('ACT', [act(ins[0])], out, {}, { kind: 'clamp', lo, hi }));
        break;
      }
      case 'PRelu':
      case 'LeakyRelu': {
        const x = act(ins[0]);
        const c = g.tensor(x).shape.at(-1);
        const slope = op === 'PRelu' ? channels(ins[1], c, g.tensor(x).shape.length, `PRelu '${out}' slope`) : new Float32Array(c).fill(a.alpha ?? 0.01);
        const alpha = g.addConst(op === 'PRelu' ? ins[1] : `${out}/alpha`, [c], slope);
        acts.set(out, g.emit('ACT', [x], out, {}, { kind: 'prelu', alpha }));
        break;
      }
      case 'Sigmoid':
        acts.set(out, g.emit('SIGMOID', [act(ins[0])], out));
        break;
      case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Min': case 'Max': {
        if (ins.length !== 2) fail(`${op} '${out}': ${ins.length} inputs`);
        const r = Math.max(...ins.map((i) => (consts.has(i) ? 0 : rankOf(i))));
        const operands = ins.map((i) => {
          if (consts.has(i)) return constOperand(i, r);
          if (rankOf(i) !== r && rankOf(i) !== 0 && numel(g.tensor(act(i)).shape) !== 1) fail(`${op} '${out}': mixed-rank activations`);
          return act(i);
        });
        const type = { Add: 'ADD', Sub: 'SUB', Mul: 'MUL', Div: 'DIV', Min: 'MIN', Max: 'MAX' }[op];
        acts.set(out, g.emit(type, operands, out));
        break;
      }
      case 'BatchNormalization': {
        const x = act(ins[0]);
        const c = g.tensor(x).shape.at(-1);
        const [sc, bi, me, va] = ins.slice(1, 5).map((n, k) => vector(n, c, `BatchNormalization '${out}' input ${k + 1}`));
        const eps = a.epsilon ?? 1e-5;
        const s = Float32Array.from(sc, (v, k) => v / Math.sqrt(va[k] + eps));
        const t = Float32Array.from(bi, (v, k) => v - me[k] * s[k]);
        const mul = g.emit('MUL', [x, g.addConst(`${out}/bn_scale`, [c], s)], `${out}/bn_mul`);
        acts.set(out, g.emit('ADD', [mul, g.addConst(`${out}/bn_shift`, [c], t)], out));
        break;
      }
      case 'GlobalAveragePool':
        acts.set(out, g.emit('GLOBAL_AVGPOOL', [act(ins[0])], out, { keepDims: true }));
        break;
      case 'ReduceMean': {
        const axes = (a.axes || (ins[1] ? Array.from(needConst(ins[1], 'ReduceMean axes').data) : [])).map((v) => (v < 0 ? v + 4 : v)).sort();
        if (rankOf(ins[0]) !== 4 || axes.join() !== '2,3') fail(`ReduceMean '${out}': only the spatial mean is supported`);
        acts.set(out, g.emit('GLOBAL_AVGPOOL', [act(ins[0])], out, { keepDims: (a.keepdims ?? 1) !== 0 }));
        if ((a.keepdims ?? 1) === 0) info.notes.push(`ReduceMean '${out}' gives [N,C]`);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const x = act(ins[0]);
        const [kh, kw] = a.kernel_shape;
        const st = a.strides || [1, 1];
        if (a.ceil_mode) fail(`${op} '${out}': ceil_mode unsupported`);
        if ((a.dilations || [1, 1]).some((d) => d !== 1)) fail(`${op} '${out}': dilation unsupported`);
        const pads = windowPads(a, g.tensor(x).shape, kh, kw, st);
        if (op === 'AveragePool' && a.count_include_pad && pads.some((p) => p)) fail(`AveragePool '${out}': count_include_pad unsupported`);
        acts.set(out, g.emit(op === 'MaxPool' ? 'MAXPOOL2D' : 'AVGPOOL2D', [x], out, { kernel: [kh, kw], strides: st, pads }));
        break;
      }
      case 'Softmax': {
        const r = rankOf(ins[0]);
        const axis = a.axis ?? (opset >= 13 ? -1 : 1);
        const ax = axis < 0 ? axis + r : axis;
        const last = r === 4 ? ax === 1 && opset >= 13 : ax === r - 1;
        if (!last) fail(`Softmax '${out}': axis ${axis} of rank ${r} unsupported`);
        acts.set(out, g.emit('SOFTMAX', [act(ins[0])], out));
        break;
      }
      case 'Flatten': {
        const axis = a.axis ?? 1;
        const x = act(ins[0]);
        const xs = g.tensor(x).shape;
        if (axis !== 1) fail(`Flatten '${out}': axis ${axis} unsupported`);
        if (xs.length === 4 && xs[1] * xs[2] > 1) { flats.set(out, { src: x, H: xs[1], W: xs[2], C: xs[3] }); break; }
        acts.set(out, g.emit('RESHAPE', [x], out, { shape: [xs[0], numel(xs) / xs[0]] }));
        break;
      }
      case 'Squeeze': {
        const x = act(ins[0]);
        const xs = g.tensor(x).shape;
        const axes = (a.axes || (ins[1] ? Array.from(needConst(ins[1], 'Squeeze axes').data) : [])).map((v) => (v < 0 ? v + xs.length : v)).sort();
        if (xs.length !== 4 || axes.join() !== '2,3' || xs[1] !== 1 || xs[2] !== 1) fail(`Squeeze '${out}': only [N,C,1,1] -> [N,C] is supported`);
        acts.set(out, g.emit('RESHAPE', [x], out, { shape: [xs[0], xs[3]] }));
        break;
      }
      case 'Reshape': {
        const x = act(ins[0]);
        const xs = g.tensor(x).shape;
        const s = Array.from(needConst(ins[1], `Reshape '${out}' shape`).data);
        const shape = s.map((d, k) => (d === 0 ? xs[k] : d));
        const known = shape.filter((d) => d !== -1).reduce((p, q) => p * q, 1);
        const res = shape.map((d) => (d === -1 ? numel(xs) / known : d));
        if (xs.length === 4 && !(res.length === 2 && xs[1] * xs[2] === 1)) fail(`Reshape '${out}' of an NCHW tensor unsupported`);
        acts.set(out, g.emit('RESHAPE', [x], out, { shape: res }));
        break;
      }
      case 'Identity':
      case 'Dropout':
        if (flats.has(ins[0])) { flats.set(out, flats.get(ins[0])); break; }
        acts.set(out, g.emit('IDENTITY', [act(ins[0])], out));
        break;
      case 'MatMul':
      case 'Gemm': {
        if (op === 'Gemm' && a.transA) fail(`Gemm '${out}': transA unsupported`);
        const B = needConst(ins[1], `${op} '${out}' weights`);
        if (B.shape.length !== 2) fail(`${op} '${out}': weights rank ${B.shape.length}`);
        const transB = op === 'Gemm' && a.transB;
        const [n, k] = transB ? B.shape : [B.shape[1], B.shape[0]];
        let w = transB ? Float32Array.from(B.data) : transpose(Float32Array.from(B.data), B.shape, [1, 0]).data; // [N,K]
        let x;
        const fl = flats.get(ins[0]);
        if (fl) {
          // ONNX flattens C,H,W; the FC reads the NHWC tensor in H,W,C order.
          const { H, W, C, src } = fl;
          if (H * W * C !== k) fail(`${op} '${out}': ${k} inputs for a ${C}x${H}x${W} flatten`);
          const p = new Float32Array(w.length);
          for (let o = 0; o < n; o++) {
            for (let c = 0; c < C; c++) {
              for (let hw = 0; hw < H * W; hw++) p[o * k + hw * C + c] = w[o * k + c * H * W + hw];
            }
          }
          w = p;
          x = src;
          info.notes.push(`${op} '${out}': FC rows permuted CHW -> HWC for a ${C}x${H}x${W} flatten`);
        } else {
          x = act(ins[0]);
          if (g.tensor(x).shape.length !== 2) fail(`${op} '${out}': input rank ${g.tensor(x).shape.length}`);
        }
        const alpha = op === 'Gemm' ? a.alpha ?? 1 : 1;
        if (alpha !== 1) w = Float32Array.from(w, (v) => v * alpha);
        let bias = null;
        if (op === 'Gemm' && ins[2]) {
          const beta = a.beta ?? 1;
          const c = needConst(ins[2], `Gemm '${out}' bias`);
          if (c.data.length !== n && c.data.length !== 1) fail(`Gemm '${out}': bias [${c.shape}]`);
          bias = g.addConst(ins[2], [n], Float32Array.from({ length: n }, (_, i) => c.data[c.data.length === 1 ? 0 : i] * beta));
        }
        acts.set(out, g.emit('FC', [x, g.addConst(ins[1], [n, k], w), bias], out));
        break;
      }
      default:
        fail(`ONNX op ${op} ('${out}') is not supported`);
    }
  }

  g.outputs = graph.output.map((o) => {
    if (!acts.has(o.name)) fail(`graph output '${o.name}' is not computed`);
    const t = acts.get(o.name);
    if (g.tensor(t).shape.length === 4) info.notes.push(`output '${o.name}' is NHWC in the .vfm`);
    return t;
  });
  return { graph: g, info };
}
