// read-vfm.mjs - parse a .vfm file back (for the MANIFEST, tests and debugging). Checks the
// structural rules of models/FORMAT.md that do not need shape inference.
import { MAGIC, HEADER_BYTES, TENSOR_BYTES, OP_BYTES } from './write-vfm.mjs';
import { f16BitsToF32 } from './tensor-math.mjs';
import { VFM_OPS } from './ir.mjs';
import { pathToFileURL } from 'node:url';

const OP_NAMES = Object.fromEntries(Object.entries(VFM_OPS).map(([k, v]) => [v, k]));
const NONE = 0xffffffff;

function bad(msg) { throw new Error(`invalid .vfm: ${msg}`); }

export function readVfm(buf) {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf);
  if (b.length < HEADER_BYTES) bad('truncated header');
  if (!MAGIC.every((v, i) => b[i] === v)) bad('bad magic');
  const h = {
    major: b.readUInt16LE(4), minor: b.readUInt16LE(6), headerBytes: b.readUInt32LE(8),
    nTensors: b.readUInt32LE(12), nOps: b.readUInt32LE(16), nInputs: b.readUInt32LE(20), nOutputs: b.readUInt32LE(24),
    stringsBytes: b.readUInt32LE(28), dataOffset: Number(b.readBigUInt64LE(32)), dataBytes: Number(b.readBigUInt64LE(40)),
    fileBytes: Number(b.readBigUInt64LE(48)), meta: b.readUInt32LE(56), reserved: b.readUInt32LE(60),
  };
  if (h.major !== 1 || h.headerBytes !== HEADER_BYTES) bad('version/header size');
  if (h.fileBytes !== b.length || h.dataOffset % 64 || h.dataOffset + h.dataBytes !== h.fileBytes) bad('section sizes');
  const tensorTab = HEADER_BYTES;
  const opTab = tensorTab + h.nTensors * TENSOR_BYTES;
  const inTab = opTab + h.nOps * OP_BYTES;
  const outTab = inTab + 4 * h.nInputs;
  const strTab = outTab + 4 * h.nOutputs;
  if (strTab + h.stringsBytes > h.dataOffset) bad('tables overlap the data section');
  const strings = b.subarray(strTab, strTab + h.stringsBytes);
  const str = (off) => {
    if (off === NONE) return null;
    if (off >= strings.length) bad(`string offset ${off}`);
    const end = strings.indexOf(0, off);
    if (end < 0) bad('unterminated string');
    return strings.toString('utf8', off, end);
  };
  const tensors = [];
  for (let i = 0; i < h.nTensors; i++) {
    const o = tensorTab + i * TENSOR_BYTES;
    const rank = b[o + 6];
    const dims = [0, 1, 2, 3].map((k) => b.readInt32LE(o + 8 + 4 * k));
    const t = {
      id: i, name: str(b.readUInt32LE(o)), dtype: b[o + 4], kind: b[o + 5], rank, dims,
      shape: dims.slice(0, rank), dataOffset: Number(b.readBigUInt64LE(o + 24)), dataBytes: Number(b.readBigUInt64LE(o + 32)),
    };
    if (rank < 1 || rank > 4 || dims.some((d, k) => (k < rank ? d < 1 : d !== 0))) bad(`tensor ${i} dims`);
    if (t.kind === 1) {
      const n = t.shape.reduce((x, y) => x * y, 1);
      const axis = b[o + 7], C = t.dtype === 3 ? t.shape[axis] : 0;
      if (t.dtype === 3 && !(axis < rank)) bad(`tensor ${i}: int8 axis ${axis}`);
      const want = t.dtype === 3 ? 4 * C + n : n * (t.dtype === 2 || t.dtype === 4 ? 2 : 4);
      if (t.dataBytes !== want || t.dataOffset % 64 || t.dataOffset + t.dataBytes > h.dataBytes) bad(`tensor ${i} payload`);
      const p = h.dataOffset + t.dataOffset;
      t.data = new Float32Array(n);
      if (t.dtype === 3) { // dequantised as the loader does: q * scale[channel] in f32
        const inner = t.shape.slice(axis + 1).reduce((x, y) => x * y, 1);
        t.axis = axis;
        t.scales = new Float32Array(C).map((_, c) => b.readFloatLE(p + 4 * c));
        for (let k = 0; k < n; k++) t.data[k] = Math.fround(b.readInt8(p + 4 * C + k) * t.scales[Math.floor(k / inner) % C]);
      } else if (t.dtype === 4) for (let k = 0; k < n; k++) t.data[k] = f16BitsToF32(b[p + k] | b[p + n + k] << 8); // byte-planar
      else for (let k = 0; k < n; k++) t.data[k] = t.dtype === 2 ? f16BitsToF32(b.readUInt16LE(p + 2 * k)) : b.readFloatLE(p + 4 * k);
    } else if (t.dtype !== 1 || t.dataBytes || t.dataOffset) bad(`tensor ${i}: non-constant with data`);
    tensors.push(t);
  }
  const ops = [];
  for (let i = 0; i < h.nOps; i++) {
    const o = opTab + i * OP_BYTES;
    const code = b.readUInt16LE(o);
    if (!OP_NAMES[code]) bad(`op ${i}: code ${code}`);
    const nIn = b[o + 2];
    const inp = [0, 1, 2, 3].map((k) => b.readUInt32LE(o + 4 + 4 * k));
    ops.push({
      id: i, code, type: OP_NAMES[code], nIn, in: inp.slice(0, nIn).map((v) => (v === NONE ? null : v)),
      out: b.readUInt32LE(o + 20), ip: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => b.readInt32LE(o + 24 + 4 * k)),
      fp: [b.readFloatLE(o + 56), b.readFloatLE(o + 60)],
    });
  }
  const inputs = [...Array(h.nInputs)].map((_, k) => b.readUInt32LE(inTab + 4 * k));
  const outputs = [...Array(h.nOutputs)].map((_, k) => b.readUInt32LE(outTab + 4 * k));
  const meta = str(h.meta);
  const metaMap = Object.fromEntries((meta || '').split(';').filter(Boolean).map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i), kv.slice(i + 1)];
  }));
  return { header: h, tensors, ops, inputs, outputs, meta, metaMap };
}

/** Text listing of a parsed model (used by `node tools/convert/read-vfm.mjs FILE.vfm`). */
export function describeVfm(m) {
  const t = (id) => (id == null ? '-' : `%${id}`);
  const lines = [`meta: ${m.meta}`, `tensors ${m.tensors.length}, ops ${m.ops.length}, file ${m.header.fileBytes} B`];
  lines.push(`inputs: ${m.inputs.map((i) => `%${i} ${m.tensors[i].name}[${m.tensors[i].shape}]`).join(', ')}`);
  for (const op of m.ops) {
    const o = m.tensors[op.out];
    const act = ['', ' clamp', ' prelu'][op.ip[6]] || '';
    const actTxt = !['CONV2D', 'DWCONV2D', 'FC', 'ADD', 'SUB', 'MUL', 'MIN', 'MAX', 'ACT'].includes(op.type) || !act ? ''
      : op.ip[6] === 1 ? ` +clamp[${op.fp[0]},${op.fp[1]}]` : ` +prelu(%${op.ip[7]})`;
    const ins = op.in.map((i) => (i == null ? '-' : `${t(i)}${m.tensors[i].kind === 1 ? `:c${['', 'f', 'h', 'q', 'p'][m.tensors[i].dtype]}[${m.tensors[i].shape}]` : ''}`));
    lines.push(`${String(op.id).padStart(3)} ${op.type.padEnd(14)} ${t(op.out)}[${o.shape}] <- ${ins.join(' ')} ip=${op.ip.join(',')}${actTxt}  ${o.name}`);
  }
  lines.push(`outputs: ${m.outputs.map((i) => `%${i} ${m.tensors[i].name}[${m.tensors[i].shape}]`).join(', ')}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.length === 3) {
  const fs = await import('node:fs');
  process.stdout.write(`${describeVfm(readVfm(fs.readFileSync(process.argv[2])))}\n`);
}
