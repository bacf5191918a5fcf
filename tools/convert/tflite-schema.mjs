// tflite-schema.mjs - a minimal, hand-written reader of the TFLite flatbuffer (schema.fbs of
// tensorflow/lite/schema, identifier "TFL3") on top of the `flatbuffers` npm runtime. It reads only
// what import-tflite.mjs needs: the model's operator codes, subgraphs, tensors (with their
// quantisation), buffers and operators, and the option tables of the operators we convert.
// Field numbers are the schema's field ids (vtable slot = 4 + 2 * id); defaults are the schema's.
import { ByteBuffer } from 'flatbuffers';
import { fail } from './ir.mjs';

/** BuiltinOperator codes used by the importer (schema.fbs `enum BuiltinOperator`). */
export const OP = {
  ADD: 0, AVERAGE_POOL_2D: 1, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6,
  FULLY_CONNECTED: 9, L2_NORMALIZATION: 11, LOGISTIC: 14, MAX_POOL_2D: 17, MUL: 18, RELU: 19,
  RELU_N1_TO_1: 20, RELU6: 21, RESHAPE: 22, SOFTMAX: 25, PAD: 34, MEAN: 40, SUB: 41, DIV: 42,
  SQUEEZE: 43, PRELU: 54, MAXIMUM: 55, MINIMUM: 57, NEG: 59, PADV2: 60, SUM: 74, RSQRT: 76,
  SQUARE: 92, LEAKY_RELU: 98, ABS: 101,
};
// Names of a few operators we do not convert, for the error message only.
const OTHER = { CONCATENATION: 2, RESIZE_BILINEAR: 23, TANH: 28, GATHER: 36, TRANSPOSE: 39, STRIDED_SLICE: 45, EXP: 47,
  SLICE: 65, SHAPE: 77, REDUCE_MAX: 82, PACK: 83, RESIZE_NEAREST_NEIGHBOR: 97, QUANTIZE: 114, HARD_SWISH: 117, BATCH_MATMUL: 126 };
export const OP_NAME = Object.fromEntries([...Object.entries(OTHER), ...Object.entries(OP)].map(([k, v]) => [v, k]));

/** TensorType (schema.fbs `enum TensorType`): the ones we can read, with their byte size. */
export const TYPE = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, INT8: 9 };
const TYPE_NAME = { 0: 'float32', 1: 'float16', 2: 'int32', 3: 'uint8', 4: 'int64', 5: 'string', 6: 'bool', 7: 'int16', 9: 'int8', 10: 'float64' };
export const typeName = (t) => TYPE_NAME[t] || `type ${t}`;

/** Padding and ActivationFunctionType enums. */
export const PADDING = { SAME: 0, VALID: 1 };
export const ACT_FN = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 };

/** Cursor over one table of the buffer; every accessor takes the schema field id. */
class Table {
  constructor(bb, pos) { this.bb = bb; this.pos = pos; }
  off(id) { return this.bb.__offset(this.pos, 4 + 2 * id); }
  has(id) { return this.off(id) !== 0; }
  u8(id, d = 0) { const o = this.off(id); return o ? this.bb.readUint8(this.pos + o) : d; }
  i8(id, d = 0) { const o = this.off(id); return o ? this.bb.readInt8(this.pos + o) : d; }
  bool(id, d = false) { const o = this.off(id); return o ? !!this.bb.readInt8(this.pos + o) : d; }
  i32(id, d = 0) { const o = this.off(id); return o ? this.bb.readInt32(this.pos + o) : d; }
  u32(id, d = 0) { const o = this.off(id); return o ? this.bb.readUint32(this.pos + o) : d; }
  f32(id, d = 0) { const o = this.off(id); return o ? this.bb.readFloat32(this.pos + o) : d; }
  u64(id, d = 0) { const o = this.off(id); return o ? Number(this.bb.readUint64(this.pos + o)) : d; }
  str(id) { const o = this.off(id); return o ? this.bb.__string(this.pos + o) : null; }
  table(id) { const o = this.off(id); return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : null; }
  /** {start, len} of a vector field, or null when absent. */
  vec(id, elt = 4) {
    const o = this.off(id);
    if (!o) return null;
    const start = this.bb.__vector(this.pos + o);
    const len = this.bb.__vector_len(this.pos + o);
    if (start < 0 || len < 0 || start + elt * len > this.bb.capacity()) fail(`TFLite: vector field ${id} out of bounds`);
    return { start, len };
  }
  tables(id) {
    const v = this.vec(id);
    return v ? Array.from({ length: v.len }, (_, k) => new Table(this.bb, this.bb.__indirect(v.start + 4 * k))) : [];
  }
  ints(id) {
    const v = this.vec(id);
    return v ? Array.from({ length: v.len }, (_, k) => this.bb.readInt32(v.start + 4 * k)) : [];
  }
  floats(id) {
    const v = this.vec(id);
    return v ? Array.from({ length: v.len }, (_, k) => this.bb.readFloat32(v.start + 4 * k)) : [];
  }
  longs(id) {
    const v = this.vec(id, 8);
    return v ? Array.from({ length: v.len }, (_, k) => Number(this.bb.readInt64(v.start + 8 * k))) : [];
  }
  bytes(id) {
    const v = this.vec(id, 1);
    if (!v) return null;
    return this.bb.bytes().subarray(v.start, v.start + v.len);
  }
}

/** QuantizationParameters: min 0, max 1, scale 2, zero_point 3, details 4/5, quantized_dimension 6. */
function readQuant(t) {
  if (!t) return null;
  const q = { min: t.floats(0), max: t.floats(1), scale: t.floats(2), zeroPoint: t.longs(3), details: t.u8(4), dim: t.i32(6) };
  return q.min.length || q.max.length || q.scale.length || q.zeroPoint.length || q.details ? q : null;
}

/** Builtin option tables by BuiltinOperator, decoded into plain objects. */
function readOptions(code, t) {
  if (!t) return {};
  switch (code) {
    case OP.CONV_2D: // Conv2DOptions
      return { padding: t.i8(0), strideW: t.i32(1), strideH: t.i32(2), act: t.i8(3), dilationW: t.i32(4, 1), dilationH: t.i32(5, 1) };
    case OP.DEPTHWISE_CONV_2D: // DepthwiseConv2DOptions
      return { padding: t.i8(0), strideW: t.i32(1), strideH: t.i32(2), depthMultiplier: t.i32(3), act: t.i8(4), dilationW: t.i32(5, 1), dilationH: t.i32(6, 1) };
    case OP.AVERAGE_POOL_2D: case OP.MAX_POOL_2D: // Pool2DOptions
      return { padding: t.i8(0), strideW: t.i32(1), strideH: t.i32(2), filterW: t.i32(3), filterH: t.i32(4), act: t.i8(5) };
    case OP.FULLY_CONNECTED: // FullyConnectedOptions
      return { act: t.i8(0), weightsFormat: t.i8(1), keepNumDims: t.bool(2) };
    case OP.ADD: case OP.SUB: case OP.MUL: case OP.DIV: case OP.L2_NORMALIZATION: case OP.CONCATENATION:
      return code === OP.CONCATENATION ? { axis: t.i32(0), act: t.i8(1) } : { act: t.i8(0) };
    case OP.SOFTMAX: return { beta: t.f32(0) };
    case OP.RESHAPE: return { newShape: t.has(0) ? t.ints(0) : null };
    case OP.SQUEEZE: return { squeezeDims: t.ints(0) };
    case OP.MEAN: case OP.SUM: return { keepDims: t.bool(0) };
    case OP.LEAKY_RELU: return { alpha: t.f32(0) };
    default: return {};
  }
}

/**
 * Parse a .tflite file (Buffer or Uint8Array) into plain objects:
 * {version, description, opcodes: [{code, custom, version}], buffers: [Uint8Array|null],
 *  subgraphs: [{name, inputs, outputs, tensors: [{name, shape, type, buffer, quant, isVariable}],
 *  operators: [{code, opName, inputs, outputs, options, custom}]}]}.
 */
export function readTflite(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length < 8) fail('TFLite: file too short');
  const bb = new ByteBuffer(u8);
  if (bb.getBufferIdentifier() !== 'TFL3') fail(`TFLite: identifier '${bb.getBufferIdentifier()}', expected 'TFL3'`);
  const rootPos = bb.readUint32(0);
  if (rootPos + 4 > u8.length) fail('TFLite: root table out of bounds');
  const model = new Table(bb, rootPos);
  // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4
  const opcodes = model.tables(1).map((t) => {
    // OperatorCode: deprecated_builtin_code 0 (byte), custom_code 1, version 2, builtin_code 3 (int)
    const code = Math.max(t.i8(0), t.i32(3));
    return { code, custom: t.str(1), version: t.i32(2, 1) };
  });
  const buffers = model.tables(4).map((t) => {
    // Buffer: data 0, offset 1, size 2 (offset > 1: data stored after the flatbuffer, in the file)
    const offset = t.u64(1), size = t.u64(2);
    if (offset > 1) {
      if (offset + size > u8.length) fail('TFLite: external buffer runs past the end of the file');
      return u8.subarray(offset, offset + size);
    }
    const d = t.bytes(0);
    return d && d.length ? d : null;
  });
  const subgraphs = model.tables(2).map((sg) => {
    // SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4
    const tensors = sg.tables(0).map((t) => ({
      // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4, is_variable 5, sparsity 6
      shape: t.ints(0), type: t.i8(1), buffer: t.u32(2), name: t.str(3) || '', quant: readQuant(t.table(4)),
      isVariable: t.bool(5), sparse: t.has(6),
    }));
    const operators = sg.tables(3).map((o) => {
      // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4,
      // custom_options 5
      const idx = o.u32(0);
      if (idx >= opcodes.length) fail(`TFLite: operator code index ${idx} of ${opcodes.length}`);
      const oc = opcodes[idx];
      return {
        code: oc.code, opName: oc.custom ? `CUSTOM(${oc.custom})` : OP_NAME[oc.code] || `builtin ${oc.code}`,
        inputs: o.ints(1), outputs: o.ints(2), options: readOptions(oc.code, o.table(4)), custom: oc.custom,
      };
    });
    for (const op of operators) {
      for (const i of [...op.inputs, ...op.outputs]) if (i >= tensors.length || i < -1) fail(`TFLite: ${op.opName} names tensor ${i} of ${tensors.length}`);
    }
    for (const t of tensors) if (t.buffer >= buffers.length) fail(`TFLite: tensor '${t.name}' uses buffer ${t.buffer} of ${buffers.length}`);
    return { name: sg.str(4) || '', inputs: sg.ints(1), outputs: sg.ints(2), tensors, operators };
  });
  return { version: model.u32(0), description: model.str(3), opcodes, buffers, subgraphs };
}

/**
 * A copy of a .tflite file whose fixed input batch B > 1 is patched to 1 (for timing the source
 * runtime per image; the converter never needs it): in the first subgraph, every activation shape
 * (and shape signature) that starts with B, and every RESHAPE target (its int32 shape constant and
 * its new_shape option) that starts with B, gets 1. Returns {bytes, batch: B, patched: count}.
 */
export function tfliteWithBatchOne(bytes) {
  const u8 = Uint8Array.from(bytes);
  const bb = new ByteBuffer(u8);
  const dv = new DataView(u8.buffer);
  const model = new Table(bb, bb.readUint32(0));
  const sg = model.tables(2)[0];
  const tensors = sg.tables(0);
  const B = tensors[sg.ints(1)[0]].ints(0)[0];
  let patched = 0;
  const patchFirst = (v) => { if (v && v.len && dv.getInt32(v.start, true) === B) { dv.setInt32(v.start, 1, true); patched++; } };
  if (!(B > 1)) return { bytes: u8, batch: B, patched };
  const buffers = model.tables(4);
  const hasData = (t) => { const v = buffers[t.u32(2)].vec(0, 1); return !!(v && v.len) || buffers[t.u32(2)].u64(1) > 1; };
  for (const t of tensors) { // activations only: a constant's shape describes its data
    if (!hasData(t)) { patchFirst(t.vec(0)); patchFirst(t.vec(7)); } // shape, shape_signature
  }
  const codes = model.tables(1).map((t) => Math.max(t.i8(0), t.i32(3)));
  for (const op of sg.tables(3)) {
    if (codes[op.u32(0)] !== OP.RESHAPE) continue;
    const ins = op.ints(1);
    if (ins.length > 1 && ins[1] >= 0 && tensors[ins[1]].i8(1) === TYPE.INT32) patchFirst(buffers[tensors[ins[1]].u32(2)].vec(0, 1));
    const opt = op.table(4);
    if (opt) patchFirst(opt.vec(0));
  }
  return { bytes: u8, batch: B, patched };
}
