// write-vfm.mjs - serialise an optimised IR graph as a .vfm file (models/FORMAT.md, v1.0; v1.1 with int8;
// v1.2 with byte-planar f16).
// The output depends only on the graph: tensor ids follow first use in op order, strings are
// deduplicated in first-use order, and padding bytes are zero, so conversion is reproducible.
import { VFM_OPS, EPILOGUE_OPS, fail, numel } from './ir.mjs';
import { f32ToF16BitsM, isF16Exact } from './tensor-math.mjs';
import { quantizePerChannel } from './quantize.mjs';

export const MAGIC = [0x56, 0x46, 0x4d, 0x1a]; // "VFM\x1a"
export const HEADER_BYTES = 64;
export const TENSOR_BYTES = 48;
export const OP_BYTES = 64;
const NONE = 0xffffffff;
const DTYPE = { f32: 1, f16: 2, i8: 3, f16p: 4 };
const KIND = { act: 0, const: 1, input: 2 };
const ACT = { none: 0, clamp: 1, prelu: 2 };

const align64 = (n) => Math.ceil(n / 64) * 64;

/** Tensor order: graph inputs, then in op order each op's inputs, alpha and output. */
function orderTensors(g) {
  const ids = new Map();
  const list = [];
  const add = (n) => { if (n != null && !ids.has(n)) { ids.set(n, list.length); list.push(g.tensor(n)); } };
  g.inputs.forEach(add);
  for (const op of g.ops) {
    op.inputs.forEach(add);
    if (op.act.kind === 'prelu') add(op.act.alpha);
    add(op.output);
  }
  g.outputs.forEach(add);
  return { ids, list };
}

function opParams(op, ids) {
  const ip = new Int32Array(8);
  const fp = new Float32Array(2);
  const a = op.attrs;
  switch (op.type) {
    case 'CONV2D': case 'DWCONV2D':
      ip.set([a.strides[0], a.strides[1], a.pads[0], a.pads[1], a.pads[2], a.pads[3]]);
      break;
    case 'MAXPOOL2D': case 'AVGPOOL2D':
      ip.set([a.strides[0], a.strides[1], a.pads[0], a.pads[1], a.pads[2], a.pads[3], a.kernel[0], a.kernel[1]]);
      break;
    case 'PAD':
      ip.set([...a.pre, ...a.post]);
      fp[0] = a.value;
      break;
    case 'L2NORM':
      fp[0] = a.eps;
      break;
    default:
      break;
  }
  if (EPILOGUE_OPS.has(op.type)) {
    ip[6] = ACT[op.act.kind];
    ip[7] = op.act.kind === 'prelu' ? ids.get(op.act.alpha) : -1;
    if (op.act.kind === 'clamp') { fp[0] = op.act.lo; fp[1] = op.act.hi; }
  }
  return { ip, fp };
}

/** The stored bytes of a constant as marked (t.quant: int8 per channel; t.f16 with t.f16Bits:
 *  binary16 with that many mantissa bits; else f32, or f16 where that is exact): {dtype, buf, axis}.
 *  `planar`: binary16 stored as dtype 4, every low byte then every high byte (the same values; gzip
 *  codes the two planes, sign and exponent apart from the mantissa, in fewer bytes). */
export function constPayload(t, planar = false) {
  const data = t.payloadData || t.data; // payloadData: rounded with error feedback (quantize.mjs)
  if (t.quant) { // int8: the f32 scales of the channels, then the values (models/FORMAT.md)
    const { scales, q } = quantizePerChannel(data, t.shape, t.quant.axis, t.quant.bits);
    const buf = Buffer.alloc(4 * scales.length + q.length);
    scales.forEach((s, i) => buf.writeFloatLE(s, 4 * i));
    Buffer.from(q.buffer, q.byteOffset, q.length).copy(buf, 4 * scales.length);
    return { dtype: 'i8', buf, axis: t.quant.axis };
  }
  const f16 = t.f16 || isF16Exact(data); // t.f16: rounded to f16 on purpose (--weights f16)
  const n = data.length, m = t.f16Bits || 10; // f16/M: M mantissa bits (quantize.mjs)
  const buf = Buffer.alloc(n * (f16 ? 2 : 4));
  if (f16 && planar) {
    for (let i = 0; i < n; i++) { const h = f32ToF16BitsM(data[i], m); buf[i] = h & 0xff; buf[n + i] = h >>> 8; }
    return { dtype: 'f16p', buf };
  }
  if (f16) for (let i = 0; i < n; i++) buf.writeUInt16LE(f32ToF16BitsM(data[i], m), 2 * i);
  else for (let i = 0; i < n; i++) buf.writeFloatLE(data[i], 4 * i);
  return { dtype: f16 ? 'f16' : 'f32', buf };
}

/** Serialise (`planar`: binary16 constants byte-planar, dtype 4); returns {bytes: Buffer, stats}. */
export function writeVfm(g, meta, { planar = false } = {}) {
  const { ids, list } = orderTensors(g);
  if (list.length > 65536 || g.ops.length > 65536) fail('too many tensors or ops');
  if (g.inputs.length < 1 || g.inputs.length > 16 || g.outputs.length < 1 || g.outputs.length > 16) fail('1..16 inputs and outputs allowed');

  // String table.
  const strOff = new Map();
  const strParts = [];
  let strBytes = 0;
  const str = (s) => {
    if (s == null) return NONE;
    if (!strOff.has(s)) {
      const b = Buffer.from(`${s}\0`, 'utf8');
      strOff.set(s, strBytes);
      strParts.push(b);
      strBytes += b.length;
    }
    return strOff.get(s);
  };
  const metaOff = meta != null ? str(meta) : NONE;
  const nameOffs = list.map((t) => str(t.name));
  if (strBytes > 1 << 20) fail('string table larger than 1 MiB');

  // Constant payloads.
  let dataBytes = 0;
  const payloads = [];
  const stats = { constBytes: 0, f16Tensors: 0, f32Tensors: 0, f16Bytes: 0, f32Bytes: 0, i8Tensors: 0, i8Bytes: 0 };
  const tensorData = list.map((t) => {
    if (t.kind !== 'const') return { dtype: 'f32', off: 0, bytes: 0 };
    const { dtype, buf, axis } = constPayload(t, planar);
    const off = align64(dataBytes);
    payloads.push({ off, buf });
    dataBytes = off + buf.length;
    stats.constBytes += buf.length;
    if (dtype === 'i8') { stats.i8Tensors++; stats.i8Bytes += buf.length; }
    else if (dtype === 'f16' || dtype === 'f16p') { stats.f16Tensors++; stats.f16Bytes += buf.length; }
    else { stats.f32Tensors++; stats.f32Bytes += buf.length; }
    return { dtype, off, bytes: buf.length, axis };
  });

  const tensorTab = HEADER_BYTES;
  const opTab = tensorTab + list.length * TENSOR_BYTES;
  const inTab = opTab + g.ops.length * OP_BYTES;
  const outTab = inTab + 4 * g.inputs.length;
  const strTab = outTab + 4 * g.outputs.length;
  const dataOffset = align64(strTab + strBytes);
  const fileBytes = dataOffset + dataBytes;
  const b = Buffer.alloc(fileBytes); // zero-filled: padding is deterministic

  // Header.
  b.set(MAGIC, 0);
  b.writeUInt16LE(1, 4);
  // 1.1: int8 weights, 1.2: byte-planar f16; files without them keep the minor an older reader knows
  b.writeUInt16LE(tensorData.some((d) => d.dtype === 'f16p') ? 2 : stats.i8Tensors ? 1 : 0, 6);
  b.writeUInt32LE(HEADER_BYTES, 8);
  b.writeUInt32LE(list.length, 12);
  b.writeUInt32LE(g.ops.length, 16);
  b.writeUInt32LE(g.inputs.length, 20);
  b.writeUInt32LE(g.outputs.length, 24);
  b.writeUInt32LE(strBytes, 28);
  b.writeBigUInt64LE(BigInt(dataOffset), 32);
  b.writeBigUInt64LE(BigInt(dataBytes), 40);
  b.writeBigUInt64LE(BigInt(fileBytes), 48);
  b.writeUInt32LE(metaOff, 56);

  // Tensor table.
  list.forEach((t, i) => {
    const o = tensorTab + i * TENSOR_BYTES;
    if (t.shape.length < 1 || t.shape.length > 4) fail(`tensor '${t.name}': rank ${t.shape.length}`);
    if (numel(t.shape) > 2 ** 28) fail(`tensor '${t.name}': too many elements`);
    b.writeUInt32LE(nameOffs[i], o);
    b.writeUInt8(DTYPE[tensorData[i].dtype], o + 4);
    b.writeUInt8(KIND[t.kind], o + 5);
    b.writeUInt8(t.shape.length, o + 6);
    if (tensorData[i].dtype === 'i8') b.writeUInt8(tensorData[i].axis, o + 7);
    t.shape.forEach((d, k) => b.writeInt32LE(d, o + 8 + 4 * k));
    b.writeBigUInt64LE(BigInt(tensorData[i].off), o + 24);
    b.writeBigUInt64LE(BigInt(tensorData[i].bytes), o + 32);
  });

  // Op table.
  g.ops.forEach((op, i) => {
    const o = opTab + i * OP_BYTES;
    const ins = [...op.inputs];
    while (ins.length && ins[ins.length - 1] == null) ins.pop(); // absent trailing bias
    if (ins.length < 1 || ins.length > 4) fail(`op ${op.type} '${op.output}': ${ins.length} inputs`);
    b.writeUInt16LE(VFM_OPS[op.type], o);
    b.writeUInt8(ins.length, o + 2);
    b.writeUInt8(1, o + 3);
    for (let k = 0; k < 4; k++) b.writeUInt32LE(k < ins.length && ins[k] != null ? ids.get(ins[k]) : NONE, o + 4 + 4 * k);
    b.writeUInt32LE(ids.get(op.output), o + 20);
    const { ip, fp } = opParams(op, ids);
    for (let k = 0; k < 8; k++) b.writeInt32LE(ip[k], o + 24 + 4 * k);
    b.writeFloatLE(fp[0], o + 56);
    b.writeFloatLE(fp[1], o + 60);
  });

  g.inputs.forEach((n, k) => b.writeUInt32LE(ids.get(n), inTab + 4 * k));
  g.outputs.forEach((n, k) => b.writeUInt32LE(ids.get(n), outTab + 4 * k));
  let p = strTab;
  for (const s of strParts) { s.copy(b, p); p += s.length; }
  for (const { off, buf } of payloads) buf.copy(b, dataOffset + off);

  return { bytes: b, stats: { ...stats, fileBytes, nTensors: list.length, nOps: g.ops.length } };
}
