#!/usr/bin/env node
// select-precision.mjs - choose the precision of every weight of a model by measured sensitivity
// and write its table (models/precision/NAME.tsv, read by tools/convert.mjs --precision).
//
//   node tools/convert/select-precision.mjs NAME [--test-int8 BIN] [--data DIR] [--out FILE] [--alone TABLE]
//
// --alone: the step 1 errors of an earlier table of the same model (its `alone` and `alone_f16`
// columns; weights listed there with 0, or without the column, are measured again), so a new limit
// costs only step 2 and 3.
//
// NAME is a reduced model of known-models.mjs with a `select` rule: the role it fills, the figure
// of tests/test_int8.c it bounds and the limit used here (a share of the issue's bound: the files
// are confirmed on other images, those of the int8_bounds test), and the selection images.
//  1. each weight alone at int8 and alone at f16/6 (the rest f32): its errors; at B bits of levels
//     (M mantissa bits) it is taken as that error times 2^(8-B) (2^(6-M)): each bit fewer doubles
//     the step (4x for 1 - cosine, quadratic in it). int8 is per channel (one step for a channel's
//     large and small weights), f16/M relative to each value: which is cheaper differs per weight;
//  2. every weight at the level that saves the most gzip bytes (each tensor's payload deflated at
//     each level) per unit of error, while the summed errors stay within a budget, for budgets of
//     0.3 to 6 times the limit (errors partly cancel);
//  3. each whole file measured (its other constants, biases and PReLU slopes, f16): the smallest
//     within the limit wins.
// Deterministic: the same sources, images and test binary give the same table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { importGraph, baseMeta } from '../convert.mjs';
import { writeVfm, constPayload } from './write-vfm.mjs';
import { weightAxes, int8Bits, f16Bits, markPrecision, F16_MANTISSA } from './quantize.mjs';
import { byName, cachePath } from './known-models.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Levels below f16 (the default of every weight) and the two probed alone in step 1.
const LEVELS = [...F16_MANTISSA.map((m) => `f16/${m}`), 'int8', 'int8/7', 'int8/6', 'int8/5'];
const PROBE = 'int8', PROBE_F16 = 'f16/6';
const probeOf = (lv) => (f16Bits(lv) ? PROBE_F16 : PROBE);
const bitsOf = (lv) => int8Bits(lv) || f16Bits(lv);

function args() {
  const a = process.argv.slice(2);
  const o = { testInt8: path.join(ROOT, 'build/tests/test_int8'), data: path.join(ROOT, '../shared/data') };
  for (let i = 1; i < a.length; i += 2) o[a[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase())] = a[i + 1];
  o.name = a[0];
  return o;
}

/** The images of a rule: globs 'dir/*.jpg' relative to DATA, every `every`-th file of each, sorted. */
export function images(data, rule) {
  const out = [];
  for (const { glob, every = 1 } of rule.images) {
    const deep = glob.includes('/**/');
    const dir = path.join(data, deep ? glob.split('/**/')[0] : path.dirname(glob));
    if (!fs.existsSync(dir)) continue;
    const re = new RegExp(`^${path.basename(glob).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
    const files = [];
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
        if (e.isDirectory() && deep) walk(path.join(d, e.name));
        else if (e.isFile() && re.test(e.name)) files.push(path.join(d, e.name));
      }
    };
    walk(dir);
    out.push(...files.filter((_, i) => i % every === 0));
  }
  return out;
}

// How a figure grows per bit fewer: as the weight error (2x) or, for 1 - cosine, its square (4x).
const GROWTH = { detector_px: 2, five_px: 2, mesh_px: 2, cosine: 4, live: 2 };

const ERROR = {
  detector_px: (r) => (r.detector_count_differs ? Infinity : r.detector_px),
  // the face presence output counts too: a move of 0.01 as much as the limit in pixels
  five_px: (r, rule) => Math.max(r.five_px, (r.presence / 0.01) * rule.limit),
  // every point: the PAD crops and cues are placed by the mesh, not only the alignment
  mesh_px: (r, rule) => Math.max(r.five_px, r.mesh_px, (r.presence / 0.01) * rule.limit),
  cosine: (r) => 1 - r.cosine,
  live: (r) => r.live,
};

function main() {
  const o = args();
  const m = byName(o.name);
  if (!m || !m.select) throw new Error(`${o.name}: not a known model with a selection rule`);
  const rule = m.select;
  const src = cachePath(path.join(ROOT, 'build/model-src'), m);
  const imgs = images(o.data, rule);
  if (imgs.length < 20) throw new Error(`${o.name}: only ${imgs.length} selection images under ${o.data}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vf-select-'));
  const models = path.join(ROOT, 'models'), pad = path.join(ROOT, 'build/models');
  let evals = 0;

  // Candidates: precision by tensor name (absent: f32 for weights, `others` for the rest), all
  // measured in one test_int8 run (the images decoded once). Returns [{err, gz}].
  const measure = (precs, others = 'f32') => {
    const files = precs.map((prec) => {
      for (const t of g.tensors.values())
        if (t.kind === 'const') markPrecision(t, prec.get(t.name) || (axes.has(t.name) ? 'f32' : others), axes.get(t.name));
      const file = path.join(tmp, `cand-${evals++}.vfm`);
      const { bytes } = writeVfm(g, meta, { planar: true }); // as tools/convert.mjs writes a mixed file
      fs.writeFileSync(file, bytes);
      return { file, gz: zlib.gzipSync(bytes, { level: 6 }).length };
    });
    let out;
    try {
      out = execFileSync(o.testInt8, ['--swap', `${rule.role}=${files.map((f) => f.file).join(',')}`, models, pad, ...imgs],
        { encoding: 'utf8', maxBuffer: 1 << 28 });
    } catch (e) {
      out = e.stdout; // exit 1: a bound failed; the figures are still printed
    }
    const rows = new Map(out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).map((r) => [r.file, r]));
    return files.map(({ file, gz }) => {
      fs.rmSync(file);
      if (!rows.has(file)) throw new Error(`test_int8 measured nothing for ${file}: ${out.slice(-2000)}`);
      return { err: ERROR[rule.metric](rows.get(file), rule), gz };
    });
  };

  const { g } = importGraph(src, false, m.outputs);
  const meta = baseMeta(m.name, `${m.origin.spec}:${m.files[0]}`, g.tensor(g.inputs[0]), m.range, m.layout);
  const axes = new Map([...weightAxes(g)].filter(([, a]) => a >= 0));
  const names = [...axes.keys()];
  process.stdout.write(`${m.name}: ${names.length} weights, ${imgs.length} images, ${rule.metric} <= ${rule.limit}\n`);

  // 1. sensitivity: each weight alone at PROBE and PROBE_F16, scaled to the other levels
  const alone = new Map(), known = new Map();
  const probes = [PROBE, PROBE_F16];
  if (o.alone) for (const l of fs.readFileSync(o.alone, 'utf8').split('\n').filter((x) => x && !x.startsWith('#'))) {
    const cols = l.split('\t');
    probes.forEach((p, k) => {
      const a = cols[2 + k];
      if (Number(a) > 0 || a === 'Infinity') known.set(`${cols[0]}\t${p}`, Number(a));
    });
  }
  const todo = names.flatMap((n) => probes.map((p) => [n, p])).filter(([n, p]) => !known.has(`${n}\t${p}`));
  const errs = new Map([...known, ...measure(todo.map(([n, p]) => new Map([[n, p]]))).map(({ err }, i) => [todo[i].join('\t'), err])]);
  const err = (n, p) => errs.get(`${n}\t${p}`);
  for (const n of names) {
    alone.set(n, Object.fromEntries(LEVELS.map((lv) => [lv, err(n, probeOf(lv)) * GROWTH[rule.metric] ** (bitsOf(probeOf(lv)) - bitsOf(lv))])));
    process.stdout.write(`  ${n}: ${probes.map((p) => `${p} ${err(n, p).toPrecision(4)}`).join(', ')}\n`);
  }
  // the gzip bytes each weight's payload saves at each level against f16 (deflated alone)
  const gzOf = (n, lv) => {
    const t = { ...g.tensor(n) };
    markPrecision(t, lv, axes.get(n));
    return zlib.deflateRawSync(constPayload(t, true).buf, { level: 6 }).length;
  };
  const savedAt = new Map(names.map((n) => {
    const f16 = gzOf(n, 'f16');
    return [n, Object.fromEntries(LEVELS.map((lv) => [lv, f16 - gzOf(n, lv)]))];
  }));

  // 2. the cheapest levels within a budget of summed errors, for a ladder of budgets
  const pickFor = (budget) => {
    const choice = new Map(names.map((n) => [n, 'f16']));
    const cur = new Map(); // tensor -> {err, saved} of its level
    let spent = 0;
    for (;;) {
      let pick = null, pickRatio = 0;
      for (const n of names) for (const lv of LEVELS) {
        const err = alone.get(n)[lv], saved = savedAt.get(n)[lv];
        const c = cur.get(n) || { err: 0, saved: 0 };
        const dErr = Math.max(err - c.err, 0), dSaved = saved - c.saved;
        if (!Number.isFinite(err) || dSaved <= 0 || spent + dErr > budget) continue;
        const ratio = dSaved / Math.max(dErr, 1e-9);
        if (ratio > pickRatio) { pickRatio = ratio; pick = { n, lv, err, saved, dErr }; }
      }
      if (!pick) return choice;
      choice.set(pick.n, pick.lv);
      cur.set(pick.n, { err: pick.err, saved: pick.saved });
      spent += pick.dErr;
    }
  };
  // 3. each measured whole; the smallest within the limit wins
  const ladder = [6, 4, 3, 2.5, 2, 1.75, 1.5, 1.3, 1.15, 1, 0.85, 0.7, 0.5, 0.3].map((f) => f * rule.limit);
  const choices = ladder.map(pickFor);
  let best = null;
  measure(choices, 'f16').forEach((r, i) => {
    process.stdout.write(`  budget ${ladder[i].toPrecision(3)}: measured ${r.err.toFixed(4)}, ${r.gz} B gzip\n`);
    if (r.err <= rule.limit && (!best || r.gz < best.gz)) best = { choice: choices[i], ...r };
  });
  if (!best) throw new Error(`${m.name}: no choice within ${rule.limit}`);
  const { choice, err: wholeErr, gz: wholeGz } = best;

  const lines = [
    `# ${m.name}: the precision of each constant (tools/convert.mjs --precision), written by`,
    `# node tools/convert/select-precision.mjs ${m.name}: role ${rule.role}, ${rule.metric} <= ${rule.limit} on ${imgs.length} images`,
    `# (${rule.images.map((x) => `${x.glob}${x.every > 1 ? ` every ${x.every}th` : ''}`).join(', ')}; confirmed by the int8_bounds test on others);`,
    `# measured ${wholeErr.toFixed(4)}, ${wholeGz} B gzip. alone, alone_f16: the error with this weight alone at ${PROBE}, at ${PROBE_F16}.`,
    'tensor\tprecision\talone\talone_f16',
    ...names.map((n) => `${n}\t${choice.get(n)}\t${probes.map((p) => err(n, p).toPrecision(4)).join('\t')}`),
    '*\tf16',
  ];
  const out = o.out || path.join(ROOT, m.precision);
  fs.writeFileSync(out, `${lines.join('\n')}\n`);
  fs.rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`${m.name}: wrote ${out} (${evals} measurements)\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
