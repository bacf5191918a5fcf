// import-tfjs.mjs - TF.js graph model (model.json + weight shards) -> converter IR.
//
// TF.js graph models are already NHWC. Weights may be float32, int32, float16-quantized
// ({"quantization":{"dtype":"float16"}}) or affine uint8/uint16-quantized; all are widened to
// f32 here (write-vfm.mjs decides later whether a final tensor can be stored as f16).
import fs from 'node:fs';
import path from 'node:path';
import { Graph, NO_ACT, fail, samePadding } from './ir.mjs';
import { f16BitsToF32, transpose } from './tensor-math.mjs';

const decodeB64 = (s) => Buffer.from(s, 'base64').toString('utf8');

function attrOf(node, key) { return node.attr ? node.attr[key] : undefined; }
function attrStr(node, key, dflt) { const a = attrOf(node, key); return a && a.s != null ? decodeB64(a.s) : dflt; }
function attrInts(node, key, dflt) {
  const a = attrOf(node, key);
  return a && a.list ? (a.list.i || []).map(Number) : dflt;
}
function attrStrs(node, key) {
  const a = attrOf(node, key);
  return a && a.list && a.list.s ? a.list.s.map(decodeB64) : [];
}
function attrBool(node, key, dflt) { const a = attrOf(node, key); return a && a.b != null ? !!a.b : dflt; }
function attrFloat(node, key, dflt) { const a = attrOf(node, key); return a && a.f != null ? Number(a.f) : dflt; }
function attrType(node, key) { const a = attrOf(node, key); return a ? a.type : undefined; }

/** Strip a TF.js tensor reference ("name", "name:0") to the node name; refuses other outputs. */
export function tfNodeName(ref) {
  const m = /^(.*?)(?::(\d+))?$/.exec(ref);
  if (m[2] && m[2] !== '0') fail(`tensor '${ref}': only output 0 of a node is supported`);
  return m[1];
}

/** The model's signature, wherever the converter version put it. */
export function tfjsSignature(model) {
  return model.signature || (model.userDefinedMetadata && model.userDefinedMetadata.signature) || null;
}

/**
 * Graph output node names: the signature outputs sorted by name (or, without a signature,
 * every non-Const node nobody reads, sorted). golden.mjs uses the same list and order.
 */
export function tfjsOutputNames(model) {
  const sig = tfjsSignature(model);
  if (sig && sig.outputs && Object.keys(sig.outputs).length) {
    return Object.values(sig.outputs).map((o) => tfNodeName(o.name)).sort();
  }
  const read = new Set();
  for (const n of model.modelTopology.node) for (const i of n.input || []) if (!i.startsWith('^')) read.add(tfNodeName(i));
  return model.modelTopology.node.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder' && !read.has(n.name)).map((n) => n.name).sort();
}

/** Graph inputs: Placeholder nodes, as [{name, shape}] with batch -1 taken as 1. */
export function tfjsInputs(model) {
  return model.modelTopology.node.filter((n) => n.op === 'Placeholder').map((n) => {
    const a = attrOf(n, 'shape');
    const dims = a && a.shape && a.shape.dim ? a.shape.dim.map((d) => Number(d.size)) : null;
    if (!dims) fail(`input '${n.name}' has no static shape`);
    const shape = dims.map((d, k) => (k === 0 && d < 0 ? 1 : d));
    if (shape.some((d) => !(d >= 1))) fail(`input '${n.name}' shape [${dims}] is not static`);
    return { name: n.name, shape };
  });
}

/** Read every weight listed in the manifest; returns Map name -> {shape, data, srcDtype}. */
export function readTfjsWeights(model, dir) {
  const weights = new Map();
  for (const group of model.weightsManifest || []) {
    const buf = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    let off = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      let data;
      if (q && q.dtype === 'float16') {
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = f16BitsToF32(buf.readUInt16LE(off + 2 * i));
        off += 2 * n;
      } else if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
        const size = q.dtype === 'uint8' ? 1 : 2;
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          const v = size === 1 ? buf.readUInt8(off + i) : buf.readUInt16LE(off + 2 * i);
          data[i] = v * q.scale + q.min;
        }
        if (w.dtype === 'int32') data = Int32Array.from(data, Math.round);
        off += size * n;
      } else if (q) {
        fail(`weight '${w.name}': unsupported quantization ${JSON.stringify(q)}`);
      } else if (w.dtype === 'float32') {
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(off + 4 * i);
        off += 4 * n;
      } else if (w.dtype === 'int32') {
        data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = buf.readInt32LE(off + 4 * i);
        off += 4 * n;
      } else {
        fail(`weight '${w.name}': unsupported dtype ${w.dtype}`);
      }
      if (off > buf.length) fail(`weight '${w.name}' runs past the end of its shard`);
      weights.set(w.name, { shape: [...w.shape], data, srcDtype: q ? q.dtype : w.dtype });
    }
    if (off !== buf.length) fail(`weight shard ${group.paths} has ${buf.length - off} unread bytes`);
  }
  return weights;
}

const ACT_RELU = { kind: 'clamp', lo: 0, hi: Infinity };
const ACT_RELU6 = { kind: 'clamp', lo: 0, hi: 6 };

export function importTfjs(jsonPath) {
  const model = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  if (!model.modelTopology || !model.modelTopology.node) fail(`${jsonPath}: not a TF.js graph model`);
  const weights = readTfjsWeights(model, path.dirname(jsonPath));
  const nodes = new Map(model.modelTopology.node.map((n) => [n.name, n]));
  const g = new Graph();
  const info = { format: 'tfjs', notes: [] };

  for (const inp of tfjsInputs(model)) g.addInput(inp.name, inp.shape);
  const outputs = tfjsOutputNames(model);

  const done = new Map(); // TF node name -> IR tensor name
  const dataInputs = (node) => (node.input || []).filter((i) => !i.startsWith('^')).map(tfNodeName);

  /** Values of a constant input (a Const node or a folded constant), or null. */
  const constOf = (name) => {
    const t = done.get(name);
    if (t != null && g.isConst(t)) return g.tensor(t);
    const n = nodes.get(name);
    if (n && n.op === 'Const') {
      const w = weights.get(name);
      if (!w) fail(`Const '${name}' has no weight data`);
      return w;
    }
    return null;
  };
  const needConst = (name, what) => {
    const c = constOf(name);
    if (!c) fail(`${what}: input '${name}' must be a constant`);
    return c;
  };
  const ints = (name, what) => Array.from(needConst(name, what).data, Number);

  const visit = (name) => {
    if (done.has(name)) return done.get(name);
    const node = nodes.get(name);
    if (!node) fail(`unknown node '${name}'`);
    if (node.op === 'Placeholder') { done.set(name, name); return name; }
    if (node.op === 'Const') {
      const w = needConst(name, 'Const');
      const t = g.addConst(name, w.shape, w.data);
      done.set(name, t);
      return t;
    }
    const ins = dataInputs(node);
    // Constant operands are materialised lazily (weights are transposed, alphas reshaped).
    for (const i of ins) if (!constOf(i)) visit(i);
    const t = convertNode(node, ins);
    done.set(name, t);
    return t;
  };

  const useConst = (name) => {
    if (done.has(name)) return done.get(name);
    const c = needConst(name, 'operand');
    const t = g.addConst(name, c.shape, c.data);
    done.set(name, t);
    return t;
  };
  const operand = (name) => (constOf(name) ? useConst(name) : done.get(name));
  const shapeOf = (name) => (constOf(name) ? constOf(name).shape : g.tensor(done.get(name)).shape);

  const perChannel = (name, c, what) => {
    const v = needConst(name, what);
    if (v.data.length === 1) return new Float32Array(c).fill(v.data[0]);
    if (v.data.length === c && v.shape.at(-1) === c) return Float32Array.from(v.data); // [..., 1, C]
    fail(`${what}: '${name}' has shape [${v.shape}], expected ${c} per-channel values`);
    return null;
  };

  const windowAttrs = (node, x, kh, kw) => {
    const fmt = attrStr(node, 'data_format', 'NHWC');
    if (fmt !== 'NHWC') fail(`${node.op} '${node.name}': data_format ${fmt} unsupported`);
    const st = attrInts(node, 'strides', [1, 1, 1, 1]);
    const dil = attrInts(node, 'dilations', [1, 1, 1, 1]);
    if (dil.some((d) => d !== 1)) fail(`${node.op} '${node.name}': dilation ${dil} unsupported`);
    if (st[0] !== 1 || st[3] !== 1) fail(`${node.op} '${node.name}': strides ${st} unsupported`);
    const pad = attrStr(node, 'padding', 'VALID');
    const xs = g.tensor(x).shape;
    let pads;
    if (pad === 'SAME') {
      const [t, b] = samePadding(xs[1], kh, st[1]);
      const [l, r] = samePadding(xs[2], kw, st[2]);
      pads = [t, l, b, r];
    } else if (pad === 'VALID') {
      pads = [0, 0, 0, 0];
    } else if (pad === 'EXPLICIT') {
      const e = attrInts(node, 'explicit_paddings', []);
      if (e.length !== 8 || e[0] || e[1] || e[6] || e[7]) fail(`${node.op} '${node.name}': explicit paddings ${e}`);
      pads = [e[2], e[4], e[3], e[5]];
    } else {
      fail(`${node.op} '${node.name}': padding ${pad} unsupported`);
    }
    return { strides: [st[1], st[2]], pads };
  };

  /** Epilogue of a fused TF op; extra ops (e.g. a fused Sigmoid) come back in `after`. */
  const fusedAct = (node, ins, c) => {
    const ops = attrStrs(node, 'fused_ops');
    let rest = ops;
    let hasBias = false;
    if (rest[0] === 'BiasAdd') { hasBias = true; rest = rest.slice(1); }
    if (rest.length > 1 || (rest.length && rest[0] === 'FusedBatchNorm')) fail(`${node.op} '${node.name}': fused ops ${ops} unsupported`);
    const a = rest[0];
    let act = NO_ACT;
    let after = null;
    if (a === 'Relu') act = ACT_RELU;
    else if (a === 'Relu6') act = ACT_RELU6;
    else if (a === 'Prelu') act = { kind: 'prelu', alpha: g.addConst(ins[3], [c], perChannel(ins[3], c, `${node.name} alpha`)) };
    else if (a === 'LeakyRelu') act = { kind: 'prelu', alpha: g.addConst(`${node.name}/alpha`, [c], new Float32Array(c).fill(attrFloat(node, 'leakyrelu_alpha', 0.2))) };
    else if (a === 'Sigmoid') after = 'SIGMOID';
    else if (a) fail(`${node.op} '${node.name}': fused activation ${a} unsupported`);
    const bias = hasBias ? g.addConst(ins[2], [c], perChannel(ins[2], c, `${node.name} bias`)) : null;
    return { act, bias, after };
  };

  const finish = (node, type, inputs, attrs, act, after) => {
    if (!after) return g.emit(type, inputs, node.name, attrs, act);
    const mid = g.emit(type, inputs, `${node.name}/pre_${after.toLowerCase()}`, attrs, act);
    return g.emit(after, [mid], node.name);
  };

  function convertNode(node, ins) {
    const op = node.op;
    const x = ins.length ? operand(ins[0]) : null;
    switch (op) {
      case 'Conv2D':
      case '_FusedConv2D': {
        const w = needConst(ins[1], `${op} '${node.name}' weights`); // [KH,KW,Ci,Co]
        const [kh, kw, ci, co] = w.shape;
        if (g.tensor(x).shape[3] !== ci) fail(`${op} '${node.name}': ${ci} input channels, input [${g.tensor(x).shape}]`);
        const wt = transpose(Float32Array.from(w.data), w.shape, [3, 0, 1, 2]);
        const wn = g.addConst(ins[1], wt.shape, wt.data);
        const attrs = windowAttrs(node, x, kh, kw);
        const f = op === 'Conv2D' ? { act: NO_ACT, bias: null } : fusedAct(node, ins, co);
        return finish(node, 'CONV2D', [x, wn, f.bias], attrs, f.act, f.after);
      }
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        const w = needConst(ins[1], `${op} '${node.name}' weights`); // [KH,KW,C,M]
        const [kh, kw, c, m] = w.shape;
        if (m !== 1) fail(`${op} '${node.name}': depth multiplier ${m} unsupported`);
        const wn = g.addConst(ins[1], [1, kh, kw, c], Float32Array.from(w.data));
        const attrs = windowAttrs(node, x, kh, kw);
        const f = op === 'DepthwiseConv2dNative' ? { act: NO_ACT, bias: null } : fusedAct(node, ins, c);
        return finish(node, 'DWCONV2D', [x, wn, f.bias], attrs, f.act, f.after);
      }
      case 'MatMul':
      case '_FusedMatMul': {
        if (attrBool(node, 'transpose_a', false)) fail(`${op} '${node.name}': transpose_a unsupported`);
        const b = needConst(ins[1], `${op} '${node.name}' weights`);
        const tb = attrBool(node, 'transpose_b', false);
        const wt = tb ? { shape: b.shape, data: Float32Array.from(b.data) } : transpose(Float32Array.from(b.data), b.shape, [1, 0]);
        const wn = g.addConst(ins[1], wt.shape, wt.data);
        const f = op === 'MatMul' ? { act: NO_ACT, bias: null } : fusedAct(node, ins, wt.shape[0]);
        return finish(node, 'FC', [x, wn, f.bias], {}, f.act, f.after);
      }
      case 'BiasAdd':
      case 'Add':
      case 'AddV2':
        return g.emit('ADD', [x, operand(ins[1])], node.name);
      case 'Sub': return g.emit('SUB', [x, operand(ins[1])], node.name);
      case 'Mul': return g.emit('MUL', [x, operand(ins[1])], node.name);
      case 'RealDiv':
      case 'Div': return g.emit('DIV', [x, operand(ins[1])], node.name);
      case 'Minimum': return g.emit('MIN', [x, operand(ins[1])], node.name);
      case 'Maximum': return g.emit('MAX', [x, operand(ins[1])], node.name);
      case 'Relu': return g.emit('ACT', [x], node.name, {}, ACT_RELU);
      case 'Relu6': return g.emit('ACT', [x], node.name, {}, ACT_RELU6);
      case 'Prelu': {
        const c = g.tensor(x).shape.at(-1);
        return g.emit('ACT', [x], node.name, {}, { kind: 'prelu', alpha: g.addConst(ins[1], [c], perChannel(ins[1], c, `Prelu '${node.name}'`)) });
      }
      case 'LeakyRelu': {
        const c = g.tensor(x).shape.at(-1);
        const alpha = g.addConst(`${node.name}/alpha`, [c], new Float32Array(c).fill(attrFloat(node, 'alpha', 0.2)));
        return g.emit('ACT', [x], node.name, {}, { kind: 'prelu', alpha });
      }
      case 'Sigmoid': return g.emit('SIGMOID', [x], node.name);
      case 'Softmax': return g.emit('SOFTMAX', [x], node.name);
      case 'Abs': return g.emit('ABS', [x], node.name);
      case 'Neg': return g.emit('NEG', [x], node.name);
      case 'Square': return g.emit('SQUARE', [x], node.name);
      case 'Rsqrt': return g.emit('RSQRT', [x], node.name);
      case 'Identity':
      case 'StopGradient':
      case 'Snapshot': return g.emit('IDENTITY', [x], node.name);
      case 'Cast': {
        const dst = attrType(node, 'DstT');
        return g.emit('CAST', [x], node.name, { to: dst === 'DT_INT32' ? 'i32' : 'f32' });
      }
      case 'Sum':
        return g.emit('SUM', [x], node.name, { axes: ints(ins[1], `Sum '${node.name}'`), keepDims: attrBool(node, 'keep_dims', false) });
      case 'Mean': {
        const xs = shapeOf(ins[0]);
        const axes = ints(ins[1], `Mean '${node.name}'`).map((a) => (a < 0 ? a + xs.length : a)).sort();
        if (xs.length !== 4 || axes.join() !== '1,2') fail(`Mean '${node.name}': only the spatial mean of a rank-4 tensor is supported`);
        return g.emit('GLOBAL_AVGPOOL', [x], node.name, { keepDims: attrBool(node, 'keep_dims', false) });
      }
      case 'MaxPool':
      case 'AvgPool': {
        const k = attrInts(node, 'ksize', []);
        if (k.length !== 4 || k[0] !== 1 || k[3] !== 1) fail(`${op} '${node.name}': ksize ${k} unsupported`);
        const attrs = { ...windowAttrs(node, x, k[1], k[2]), kernel: [k[1], k[2]] };
        return g.emit(op === 'MaxPool' ? 'MAXPOOL2D' : 'AVGPOOL2D', [x], node.name, attrs);
      }
      case 'Pad':
      case 'PadV2': {
        const p = ints(ins[1], `${op} '${node.name}'`);
        if (p.length !== 8) fail(`${op} '${node.name}': paddings for rank ${p.length / 2}`);
        const value = op === 'PadV2' ? needConst(ins[2], `${op} '${node.name}' value`).data[0] : 0;
        return g.emit('PAD', [x], node.name, { pre: [p[0], p[2], p[4], p[6]], post: [p[1], p[3], p[5], p[7]], value });
      }
      case 'Reshape': {
        const xs = shapeOf(ins[0]);
        const s = ints(ins[1], `Reshape '${node.name}'`);
        const known = s.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        const total = xs.reduce((a, b) => a * b, 1);
        return g.emit('RESHAPE', [x], node.name, { shape: s.map((d) => (d === -1 ? total / known : d)) });
      }
      case 'Squeeze': {
        const xs = shapeOf(ins[0]);
        const dims = attrInts(node, 'squeeze_dims', []).map((d) => (d < 0 ? d + xs.length : d));
        const shape = xs.filter((d, k) => (dims.length ? !dims.includes(k) : d !== 1));
        dims.forEach((d) => { if (xs[d] !== 1) fail(`Squeeze '${node.name}': dim ${d} is ${xs[d]}`); });
        return g.emit('RESHAPE', [x], node.name, { shape });
      }
      case 'ExpandDims': {
        const xs = [...shapeOf(ins[0])];
        let ax = ints(ins[1], `ExpandDims '${node.name}'`)[0];
        if (ax < 0) ax += xs.length + 1;
        xs.splice(ax, 0, 1);
        return g.emit('RESHAPE', [x], node.name, { shape: xs });
      }
      default:
        fail(`TF op ${op} ('${node.name}') is not supported`);
    }
    return null;
  }

  for (const o of outputs) visit(o);
  g.outputs = outputs.map((o) => done.get(o));
  outputs.forEach((o, k) => {
    if (g.outputs[k] !== o) fail(`graph output '${o}' is a constant`);
  });
  info.inputNames = g.inputs.slice();
  return { graph: g, info };
}
