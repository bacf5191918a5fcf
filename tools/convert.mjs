#!/usr/bin/env node
// convert.mjs - convert a TF.js graph model (model.json + shards), an ONNX model or a TFLite
// model into .vfm (models/FORMAT.md).
//
//   node tools/convert.mjs SRC OUT.vfm [--name NAME] [--source TEXT] [--range LO..HI]
//                          [--layout RGB|BGR] [--weights f32|f16|int8] [--keep-f32 NAME,...]
//                          [--precision TABLE.tsv] [--verbose]
//
// --weights int8 stores the weights of CONV2D, DWCONV2D and FC as per-output-channel symmetric
// int8 with f32 scales (tools/convert/quantize.mjs), except those of the ops (or weights) named
// by --keep-f32; --weights f16 rounds every constant to binary16. --precision chooses per tensor
// instead (f32, f16, int8 or int8 with fewer levels; models/precision/*.tsv, written by
// tools/convert/select-precision.mjs; the f16 constants of such a file are stored byte-planar,
// models/FORMAT.md dtype 4). The known model's `weights` / `keepF32` / `precision` are the defaults.
// NAME selects the input normalisation from tools/convert/known-models.mjs (default: the known
// model whose source file is SRC's basename); --range/--layout override it and are required
// for unknown models. The output is deterministic (byte-identical on every run).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { importTfjs } from './convert/import-tfjs.mjs';
import { importOnnx } from './convert/import-onnx.mjs';
import { importTflite } from './convert/import-tflite.mjs';
import { optimize } from './convert/passes.mjs';
import { writeVfm } from './convert/write-vfm.mjs';
import { markInt8, applyPrecision, readPrecisionFile } from './convert/quantize.mjs';
import { MODELS, byName, fmtRange } from './convert/known-models.mjs';
import { VFM_OPS, opFlops, ConvertError } from './convert/ir.mjs';

function usage(msg) {
  if (msg) process.stderr.write(`convert: ${msg}\n`);
  process.stderr.write('usage: node tools/convert.mjs SRC OUT.vfm [--name NAME] [--source TEXT] [--range LO..HI] [--layout RGB|BGR] [--weights f32|int8] [--keep-f32 NAME,...] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const pos = [];
  const opt = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--verbose') opt.verbose = true;
    else if (['--name', '--source', '--range', '--layout', '--weights', '--keep-f32', '--precision'].includes(a)) {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      opt[a.slice(2)] = argv[++i];
    } else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else pos.push(a);
  }
  if (pos.length !== 2) usage();
  return { src: pos[0], out: pos[1], opt };
}

/** Human-readable one-line summary of a converted graph. */
export function summarize(name, g, stats) {
  const counts = new Map();
  for (const op of g.ops) counts.set(op.type, (counts.get(op.type) || 0) + 1);
  const ops = [...counts].sort((a, b) => VFM_OPS[a[0]] - VFM_OPS[b[0]]).map(([t, n]) => `${t} ${n}`).join(', ');
  const mflops = g.ops.reduce((s, op) => s + opFlops(g, op), 0) / 1e6;
  return `${name}: ${g.ops.length} ops (${ops}); constants ${stats.constBytes} B ` +
    `(f16 ${stats.f16Tensors} tensors ${stats.f16Bytes} B, f32 ${stats.f32Tensors} tensors ${stats.f32Bytes} B` +
    `${stats.i8Tensors ? `, int8 ${stats.i8Tensors} tensors ${stats.i8Bytes} B` : ''}); ` +
    `${mflops.toFixed(1)} MFLOPs; file ${stats.fileBytes} B`;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Import SRC (TF.js .json, .onnx or .tflite) and optimise it: the f32 graph and the notes.
 *  `outputs`: the graph outputs to keep (a known model's `outputs`); the ops only the others
 *  need are removed with their weights. */
export function importGraph(src, verbose = false, outputs = null) {
  let imported;
  if (/\.json$/i.test(src)) imported = importTfjs(src);
  else if (/\.onnx$/i.test(src)) imported = importOnnx(src);
  else if (/\.tflite$/i.test(src)) imported = importTflite(src);
  else throw new ConvertError(`cannot tell the format of ${src} (want .json, .onnx or .tflite)`);
  if (outputs) {
    const g = imported.graph;
    for (const o of outputs) if (!g.outputs.includes(o)) throw new ConvertError(`no graph output '${o}' (outputs: ${g.outputs.join(', ')})`);
    g.outputs = g.outputs.filter((o) => outputs.includes(o));
  }
  const log = optimize(imported.graph, { verbose });
  return { g: imported.graph, notes: [...imported.info.notes, ...log] };
}

/** The meta string's description of the model (models/FORMAT.md): name, source, input, range, layout. */
export const baseMeta = (name, source, inp, range, layout) =>
  `name=${name};source=${source};input=${inp.name}[${inp.shape.join(',')}];range=${fmtRange(range)};layout=${layout}`;

/** Mark g's constants for the chosen weights (f32, f16, int8 with `keep` f32, or mixed from the
 *  precision table file); returns the meta suffix and a log line. */
export function applyWeights(g, { weights, keep = [], precision = null }) {
  if (weights === 'mixed') {
    const { table, sha256, calib, calibSha256 } = readPrecisionFile(precision);
    const counts = applyPrecision(g, table, path.basename(precision), calib);
    const meta = `;weights=mixed;precision=${path.basename(precision)}@${sha256.slice(0, 16)}${
      calibSha256 ? `;calib=${path.basename(precision).replace(/\.tsv$/, '.calib')}@${calibSha256.slice(0, 16)}` : ''}`;
    return { meta, log: Object.entries(counts).map(([p, n]) => `${p} ${n}`).join(', ') };
  }
  if (weights === 'f16') for (const t of g.tensors.values()) if (t.kind === 'const' && !keep.includes(t.name)) t.f16 = true;
  const marked = weights === 'int8' ? markInt8(g, keep) : [];
  const meta = weights === 'f32' ? '' : `;weights=${weights}${keep.length ? `;f32=${keep.join(',')}` : ''}`;
  return { meta, log: `${weights}${marked.length ? ` (${marked.length} int8 weight tensors)` : ''}; f32 kept: ${keep.join(',') || 'none'}` };
}

function main() {
  const { src, out, opt } = parseArgs(process.argv.slice(2));
  const base = path.basename(src);
  const known = opt.name ? byName(opt.name) : MODELS.find((m) => path.basename(m.src) === base);
  const name = opt.name || (known ? known.name : base.replace(/\.(json|onnx|tflite)$/i, '').toLowerCase());
  let range = known ? known.range : null;
  if (opt.range) {
    const m = /^(-?[0-9.]+)\.\.(-?[0-9.]+)$/.exec(opt.range);
    if (!m) usage(`bad --range ${opt.range} (want LO..HI)`);
    range = [Number(m[1]), Number(m[2])];
  }
  const layout = opt.layout || (known ? known.layout : null);
  if (!range || !layout) usage(`unknown model '${name}': pass --range LO..HI and --layout RGB|BGR`);
  if (!/^(RGB|BGR)$/.test(layout)) usage(`bad --layout ${layout}`);
  const source = opt.source || (known ? `${known.origin.spec}:${known.files[0]}` : base);
  if (/[;=]/.test(name + source)) usage('name and source may not contain ";" or "="');

  const { g, notes } = importGraph(src, !!opt.verbose, known && known.outputs);
  if (opt.verbose) for (const l of notes) process.stderr.write(`  ${l}\n`);
  if (g.inputs.length !== 1) throw new ConvertError(`expected one graph input, found ${g.inputs.length}`);
  const inp = g.tensor(g.inputs[0]);
  const precision = opt.precision || (!opt.weights && known && known.precision ? path.join(ROOT, known.precision) : null);
  const weights = precision ? 'mixed' : opt.weights || (known && known.weights) || 'f32';
  if (!/^(f32|f16|int8|mixed)$/.test(weights)) usage(`bad --weights ${weights} (f32, f16 or int8)`);
  const keep = opt['keep-f32'] != null ? opt['keep-f32'].split(',').filter(Boolean) : (known && known.keepF32) || [];
  if (/[;=]/.test(keep.join(''))) usage('--keep-f32 names may not contain ";" or "="');
  const how = applyWeights(g, { weights, keep, precision });
  if (opt.verbose) process.stderr.write(`  weights: ${how.log}\n`);
  const meta = `${baseMeta(name, source, inp, range, layout)}${how.meta}`;
  const { bytes, stats } = writeVfm(g, meta, { planar: weights === 'mixed' }); // reduced files: f16 byte-planar
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const tmp = `${out}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, out);
  process.stdout.write(`${summarize(name, g, stats)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    if (e instanceof ConvertError) {
      process.stderr.write(`convert: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
