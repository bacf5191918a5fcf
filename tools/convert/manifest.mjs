#!/usr/bin/env node
// manifest.mjs - write models/MANIFEST (TSV) describing every converted model.
//
//   node tools/convert/manifest.mjs --src CACHE --committed DIR --build DIR --out FILE [--previous FILE]
//
// One row per known model. `file` is the canonical repo path (models/ for committed models,
// build/models/ for build-only ones) whatever directory the .vfm was written to, so a MANIFEST
// made with `tools/convert-all --out DIR` compares equal to the committed one. A build-only
// model whose weights are not available keeps its row from --previous (it pins the sha256 a
// build with the weights must reproduce).
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { MODELS, cacheFiles, fmtRange } from './known-models.mjs';
import { readVfm } from './read-vfm.mjs';
import { readPrecisionFile, PRECISIONS } from './quantize.mjs';

export const COLUMNS = ['file', 'sha256', 'source', 'source_file', 'source_sha256', 'license', 'license_evidence', 'input',
  'normalisation', 'outputs', 'weights', 'where'];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

export function canonicalPath(m) {
  return `${m.where === 'committed' ? 'models' : 'build/models'}/${m.name}.vfm`;
}

/** Parse a MANIFEST into Map file -> row object (a column missing from an older header is ''). */
export function readManifest(text) {
  const lines = text.split('\n').filter((l) => l.length);
  const header = lines.length ? lines[0].split('\t') : [];
  if (!header.includes('file') || !header.includes('where')) throw new Error('MANIFEST: unexpected header');
  return new Map(lines.slice(1).map((l) => {
    const cells = l.split('\t');
    const r = Object.fromEntries(COLUMNS.map((c) => [c, header.includes(c) ? cells[header.indexOf(c)] ?? '' : '']));
    return [r.file, r];
  }));
}

/** The README's "License" section: its first non-empty line, or null. */
function readmeLicense(text) {
  const m = /^#{1,6}\s*Licen[cs]e\s*\n+\s*([^\n]+)/im.exec(text);
  return m ? m[1].trim() : null;
}

/** Where the licence of a model's origin is stated (one TSV cell). */
export function licenseEvidence(m, cache) {
  const o = m.origin;
  if (!o.evidenceFiles) return o.evidence;
  const parts = [];
  for (const f of o.evidenceFiles) {
    const bytes = fs.readFileSync(`${cache}/${o.dir}/${f}`);
    let said;
    if (f === 'package.json') said = JSON.parse(bytes.toString('utf8')).license;
    else if (/readme/i.test(f)) said = readmeLicense(bytes.toString('utf8'));
    else throw new Error(`${m.name}: no rule to read the licence from ${f}`);
    if (said !== o.license) throw new Error(`${m.name}: ${f} states the licence ${JSON.stringify(said)}, known-models.mjs records ${o.license}`);
    parts.push(`${o.spec}/${f} (sha256 ${sha256(bytes)}) ${f === 'package.json' ? '"license"' : '"License" section'}: ${said}`);
  }
  return parts.join('; ');
}

/** How the constants are stored: "f32" (f16 where exact), f16, int8 with what stays f32, or mixed per
 *  tensor: the precision table (path and sha256 prefix, as in the file's meta) and its counts. */
function weightsCell(v, m) {
  const n8 = v.tensors.filter((t) => t.dtype === 3).length;
  if (v.metaMap.weights === 'f16') return 'f16 (every constant rounded to binary16)';
  if (v.metaMap.weights === 'mixed') {
    const { table } = readPrecisionFile(path.join(ROOT, m.precision));
    const counts = new Map(PRECISIONS.map((p) => [p, 0]));
    for (const p of table.rows.values()) counts.set(p, counts.get(p) + 1);
    const list = [...counts].filter(([, n]) => n).map(([p, n]) => `${p} ${n}`).join(', ');
    return `mixed per tensor (${m.precision} @${v.metaMap.precision.split('@')[1]}): conv/FC weights ${list}; other constants ${table.other || 'f32'}`;
  }
  if (!n8) return 'f32';
  const keep = v.metaMap.f32 ? `; f32 kept: ${v.metaMap.f32}` : '';
  return `int8 per output channel: ${n8} conv/FC weights${keep}`;
}

function row(m, vfmPath, cache) {
  const bytes = fs.readFileSync(vfmPath);
  const v = readVfm(bytes);
  if (v.metaMap.name !== m.name) throw new Error(`${vfmPath}: meta name ${v.metaMap.name}, expected ${m.name}`);
  const srcs = cacheFiles(cache, m);
  return {
    file: canonicalPath(m),
    sha256: sha256(bytes),
    source: m.origin.spec,
    source_file: m.files.join(','),
    source_sha256: srcs.map((f) => sha256(fs.readFileSync(f))).join(','),
    license: m.origin.license,
    license_evidence: licenseEvidence(m, cache),
    input: v.metaMap.input,
    normalisation: `${v.metaMap.layout} ${v.metaMap.range}`,
    outputs: v.outputs.map((id) => `${v.tensors[id].name}[${v.tensors[id].shape}]`).join(','),
    weights: weightsCell(v, m),
    where: m.where,
  };
}

function main() {
  const opt = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) opt[a[i].replace(/^--/, '')] = a[i + 1];
  for (const k of ['src', 'committed', 'build', 'out']) if (!opt[k]) throw new Error(`--${k} is required`);
  const prev = opt.previous && fs.existsSync(opt.previous) ? readManifest(fs.readFileSync(opt.previous, 'utf8')) : new Map();
  const rows = [];
  for (const m of MODELS) {
    const p = `${m.where === 'committed' ? opt.committed : opt.build}/${m.name}.vfm`;
    const fresh = cacheFiles(opt.src, m).every((f) => fs.existsSync(f)) && fs.existsSync(p);
    if (fresh) rows.push(row(m, p, opt.src));
    else if (m.where === 'committed') throw new Error(`${m.name}: ${p} or its sources are missing`);
    else if (prev.has(canonicalPath(m))) {
      const r = prev.get(canonicalPath(m));
      rows.push(r.license_evidence ? r : { ...r, license_evidence: m.origin.evidence || '' });
      process.stdout.write(`manifest: ${m.name}: weights unavailable, kept the previous row\n`);
    } else process.stdout.write(`manifest: ${m.name}: weights unavailable, no row\n`);
  }
  const text = [COLUMNS.join('\t'), ...rows.map((r) => COLUMNS.map((c) => r[c]).join('\t'))].join('\n') + '\n';
  fs.writeFileSync(`${opt.out}.tmp`, text);
  fs.renameSync(`${opt.out}.tmp`, opt.out);
  process.stdout.write(`manifest: wrote ${rows.length} rows to ${opt.out}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
