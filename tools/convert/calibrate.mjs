#!/usr/bin/env node
// calibrate.mjs - the input second moments of a model's error-feedback weights (known-models.mjs
// `calib`), for tools/convert.mjs's error-feedback rounding (quantize.mjs); writes models/precision/NAME.calib.
//
//   node tools/convert/calibrate.mjs NAME [--test-int8 BIN] [--data DIR]
//
// The f32 model gets each such weight's op input as an extra output; tests/test_int8 --calib runs it
// on every first face of the calibration images (not int8_bounds' images) and appends those outputs;
// here H = mean of x x^T over the faces (f64 sums in a fixed order, stored f32): deterministic.
// File: one JSON line {"tensor":..,"k":K,"samples":N}, then K*K f32 little-endian, per weight.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { importGraph, baseMeta } from '../convert.mjs';
import { writeVfm } from './write-vfm.mjs';
import { byName, cachePath } from './known-models.mjs';
import { images } from './select-precision.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function main() {
  const a = process.argv.slice(2);
  const o = { testInt8: path.join(ROOT, 'build/tests/test_int8'), data: path.join(ROOT, '../shared/data') };
  for (let i = 1; i < a.length; i += 2) o[a[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase())] = a[i + 1];
  const m = byName(a[0]);
  if (!m || !m.calib) throw new Error(`${a[0]}: not a known model with a calibration rule`);
  const { g } = importGraph(cachePath(path.join(ROOT, 'build/model-src'), m), false, m.outputs);
  const meta = baseMeta(m.name, `${m.origin.spec}:${m.files[0]}`, g.tensor(g.inputs[0]), m.range, m.layout);
  const ins = m.calib.weights.map((w) => {
    const op = g.ops.find((x) => x.inputs[1] === w);
    if (!op) throw new Error(`${m.name}: no op with weight ${w}`);
    return op.inputs[0];
  });
  g.outputs.push(...ins);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vf-calib-'));
  const file = path.join(tmp, 'calib.vfm'), out = path.join(tmp, 'acts.f32');
  fs.writeFileSync(file, writeVfm(g, meta, {}).bytes);
  const imgs = images(o.data, m.calib);
  try {
    execFileSync(o.testInt8, ['--calib', `${file}=${out}`, path.join(ROOT, 'models'), path.join(ROOT, 'build/models'), ...imgs],
      { encoding: 'utf8', maxBuffer: 1 << 28 });
  } catch (e) {
    if (!fs.existsSync(out)) throw e; // exit 1 is a failed bound of the committed files: not ours
  }
  const acts = new Float32Array(new Uint8Array(fs.readFileSync(out)).buffer);
  const ks = ins.map((t) => g.tensor(t).shape.reduce((x, y) => x * y, 1));
  const per = ks.reduce((x, y) => x + y, 0);
  if (!acts.length || acts.length % per) throw new Error(`${m.name}: ${acts.length} values, not a multiple of ${per}`);
  const n = acts.length / per;
  const parts = [];
  let off = 0;
  m.calib.weights.forEach((w, j) => {
    const k = ks[j], h = new Float64Array(k * k);
    for (let s = 0; s < n; s++) {
      const x = acts.subarray(s * per + off, s * per + off + k);
      for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) h[r * k + c] += x[r] * x[c];
    }
    off += k;
    parts.push(Buffer.from(`${JSON.stringify({ tensor: w, k, samples: n })}\n`), Buffer.from(new Float32Array(h.map((v) => v / n)).buffer));
  });
  const dst = path.join(ROOT, `models/precision/${m.name}.calib`);
  fs.writeFileSync(dst, Buffer.concat(parts));
  fs.rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`${m.name}: ${n} faces of ${imgs.length} images -> ${dst}\n`);
}

main();
