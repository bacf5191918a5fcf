// `veriface eval-pad` on pad-multi: per-source entries and pooled counts against counts taken from
// the labels file here, every rate at every threshold recomputed from the per-image scores, the DET
// SVG (by attack type and by source), and the robustness cases (bad rows and images, a file
// without a source column, a missing file, one class only).
//   node eval-pad.mjs VERIFACE MODELS_DIR PAD_MODELS_DIR SHARED_DATA OUT_DIR
// Exit 0 pass, 1 fail, 77 skip (no shared data or no MiniFASNet).
import fs from 'node:fs';
import path from 'node:path';
import { checkXml, parseCsv, readText, run, skip } from './common.mjs';

const [bin, models, padModels, data, out] = process.argv.slice(2);
const labels = path.join(data, 'pad-multi', 'labels.csv');
if (!fs.existsSync(labels)) skip(`${labels} is absent (the shared data set is not on this machine)`);
for (const m of ['minifasnet-v2-int8.vfm', 'minifasnet-v1se-int8.vfm']) // the PAD roles' files
  if (!fs.existsSync(path.join(padModels, m))) skip(`${padModels}/${m} is absent (tools/fetch-models fetches MiniFASNet)`);
fs.mkdirSync(out, { recursive: true });
const common = ['--models', models, '--pad-models', padModels];
let failures = 0;
const fail = (msg) => { console.log(`FAIL: ${msg}`); failures++; };
const near = (a, b, tol) => a !== null && b !== null && Math.abs(a - b) <= tol;

// ---- the expectation, from the CSV alone -------------------------------------------------------
const rows = parseCsv(readText(labels));
const header = rows.shift();
if (header.slice(0, 4).join(',') !== 'image,label,attack_type,source') throw new Error(`unexpected header ${header}`);
const bySource = new Map();
for (const [image, label, attack, source] of rows) {
  if (!bySource.has(source)) bySource.set(source, { images: 0, live: 0, spoof: 0, attacks: new Map() });
  const s = bySource.get(source);
  s.images++;
  if (label === 'live') s.live++;
  else { s.spoof++; s.attacks.set(attack, (s.attacks.get(attack) || 0) + 1); }
}

// Rates of a set of per-image lines at threshold t, as ISO/IEC 30107-3 defines them; null when a
// score is too close to t for the 4 printed decimals to decide.
function ratesAt(lines, t) {
  const scored = lines.filter((l) => typeof l.live === 'number');
  if (scored.some((l) => Math.abs(l.live - t) < 6e-5)) return null;
  const live = scored.filter((l) => l.label === 'live'), spoof = scored.filter((l) => l.label === 'spoof');
  const share = (a, pred) => (a.length ? a.filter(pred).length / a.length : null);
  const bpcer = share(live, (l) => l.live < t), apcer = share(spoof, (l) => l.live >= t);
  const per = {};
  for (const a of new Set(spoof.map((l) => l.attack))) {
    const s = spoof.filter((l) => l.attack === a);
    per[a] = { n: s.length, apcer: share(s, (l) => l.live >= t) };
  }
  const worst = Object.keys(per).length ? Math.max(...Object.values(per).map((p) => p.apcer)) : null;
  return { bpcer, apcer, per, acer: worst === null || bpcer === null ? null : (worst + bpcer) / 2 };
}

function auc(lines) {
  const live = lines.filter((l) => l.label === 'live' && typeof l.live === 'number').map((l) => l.live);
  const spoof = lines.filter((l) => l.label === 'spoof' && typeof l.live === 'number').map((l) => l.live);
  if (!live.length || !spoof.length) return null;
  let wins = 0;
  for (const a of live) for (const b of spoof) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (live.length * spoof.length);
}

// Check one group's members (pooled or a source entry) against its per-image lines.
function checkGroup(where, g, lines, expect, thresholds) {
  const errs = [];
  const count = (pred) => lines.filter(pred).length;
  const want = {
    images: expect.images, labelled_live: expect.live, labelled_spoof: expect.spoof,
    live: count((l) => l.label === 'live' && typeof l.live === 'number'),
    spoof: count((l) => l.label === 'spoof' && typeof l.live === 'number'),
    no_face: count((l) => l.face === false), error: count((l) => typeof l.error === 'string'),
  };
  for (const [k, v] of Object.entries(want)) if (g[k] !== v) errs.push(`${where}: ${k} ${g[k]}, expected ${v}`);
  if (g.live + g.spoof + g.no_face + g.error !== g.images) errs.push(`${where}: live + spoof + no_face + error != images`);
  const a = auc(lines);
  if (a === null ? g.auc !== null || g.eer !== null : !near(g.auc, a, 0.005)) errs.push(`${where}: auc ${g.auc}, expected ${a}`);
  if (!Array.isArray(g.at) || g.at.length !== thresholds.length) { errs.push(`${where}: "at" has ${g.at?.length} entries, expected ${thresholds.length}`); return errs; }
  thresholds.forEach((t, i) => {
    const got = g.at[i], r = ratesAt(lines, t);
    if (!near(got.threshold, t, 5e-5)) errs.push(`${where}: at[${i}].threshold ${got.threshold}, expected ${t}`);
    if (!r) return;
    for (const k of ['bpcer', 'apcer', 'acer'])
      if (r[k] === null ? got[k] !== null : !near(got[k], r[k], 1.5e-4)) errs.push(`${where} at ${t}: ${k} ${got[k]}, expected ${r[k]}`);
    const keys = Object.keys(got.per_attack || {}).sort().join(), wantKeys = Object.keys(r.per).sort().join();
    if (keys !== wantKeys) errs.push(`${where} at ${t}: attack types [${keys}], expected [${wantKeys}]`);
    for (const [k, p] of Object.entries(r.per)) {
      const q = got.per_attack?.[k];
      if (!q || q.n !== p.n || !near(q.apcer, p.apcer, 1.5e-4)) errs.push(`${where} at ${t}: ${k} ${JSON.stringify(q)}, expected ${JSON.stringify(p)}`);
    }
  });
  return errs;
}

function checkPad(summary, lines, thresholds) {
  const errs = [];
  const all = { images: rows.length, live: 0, spoof: 0 };
  for (const s of bySource.values()) { all.live += s.live; all.spoof += s.spoof; }
  if (lines.length !== rows.length) errs.push(`${lines.length} per-image lines for ${rows.length} rows`);
  errs.push(...checkGroup('pooled', summary, lines, all, thresholds));
  const names = (summary.sources || []).map((s) => s.source);
  const wantNames = [...bySource.keys()];
  if (names.join('\n') !== wantNames.join('\n')) errs.push(`sources [${names}], expected [${wantNames}] (first-appearance order)`);
  for (const s of summary.sources || []) {
    const e = bySource.get(s.source);
    if (!e) { errs.push(`unknown source ${s.source}`); continue; }
    errs.push(...checkGroup(s.source, s, lines.filter((l) => l.source === s.source), e, thresholds));
  }
  return errs;
}

// ---- 1. pad-multi with --thresholds and the DET by attack type --------------------------------
const thresholds = [0.35, 0.5, 0.62];
const svgAttack = path.join(out, 'det-attack.svg');
fs.rmSync(svgAttack, { force: true });
const r1 = run(bin, ['eval-pad', labels, ...common, '--thresholds', thresholds.join(','), '--det', svgAttack]);
if (r1.status !== 0 || r1.n_summaries !== 1) throw new Error(`eval-pad exited ${r1.status} with ${r1.n_summaries} summaries:\n${r1.stderr}`);
const s1 = r1.summary;
for (const e of checkPad(s1, r1.lines, thresholds)) fail(e);
for (const k of ['at_session_pass', 'at_session_fail', 'at_threshold'])
  if (typeof s1[k]?.threshold !== 'number' || !('acer' in s1[k])) fail(`summary lacks ${k}`);
console.log(`pooled: ${s1.images} images, ${s1.live} live, ${s1.spoof} spoof, AUC ${s1.auc}, EER ${s1.eer}; ${s1.sources.length} sources`);

// The checker must see planted mistakes: each of these copies has to fail it.
const planted = {
  'a source count off by one': (s) => { s.sources[0].labelled_live++; },
  'a missing source entry': (s) => { s.sources.pop(); },
  'two sources swapped': (s) => { [s.sources[0].source, s.sources[1].source] = [s.sources[1].source, s.sources[0].source]; },
  'a pooled BPCER changed': (s) => { s.at[1].bpcer += 0.01; },
  'a per-source APCER changed': (s) => { const g = s.sources.find((x) => x.spoof > 0); g.at[0].apcer = (g.at[0].apcer + 0.2) % 1; },
  'a per-attack count changed': (s) => { const k = Object.keys(s.at[2].per_attack)[0]; s.at[2].per_attack[k].n++; },
};
for (const [what, plant] of Object.entries(planted)) {
  const copy = structuredClone(s1);
  plant(copy);
  if (!checkPad(copy, r1.lines, thresholds).length) fail(`the checks do not notice ${what}`);
}

// The SVG: well-formed, self-contained, pooled + one curve per attack type with >= 3 attacks.
function checkSvg(file, wantCurves, mustName) {
  if (!fs.existsSync(file)) { fail(`${file} was not written`); return; }
  const svg = readText(file);
  if (!svg.startsWith('<svg')) fail(`${file} does not start with <svg`);
  if (!svg.trimEnd().endsWith('</svg>')) fail(`${file} does not end with </svg>`);
  let names = [];
  try { names = checkXml(svg); } catch (e) { fail(`${file} is not well-formed: ${e.message}`); }
  if (/(href|src)=/.test(svg)) fail(`${file} refers to another resource`);
  const curves = names.filter((n) => n === 'polyline').length; // the markers are <path>s
  if (curves !== wantCurves) fail(`${file}: ${curves} curves, expected ${wantCurves}`);
  for (const m of svg.matchAll(/points="([^"]*)"/g)) {
    const pts = m[1].trim().split(/\s+/).map((p) => p.split(',').map(Number));
    if (pts.length < 2 || pts.some((p) => p.length !== 2 || !p.every(Number.isFinite))) fail(`${file}: a curve with bad points`);
  }
  for (const n of mustName) {
    const esc = n.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    if (!svg.includes(esc)) fail(`${file}: no legend entry for ${n}`);
  }
  for (const t of wantCurves ? ['APCER', 'BPCER', 'EER'] : ['APCER', 'BPCER']) if (!svg.includes(t)) fail(`${file}: no ${t} label`);
}
const scoredSpoof = (a) => r1.lines.filter((l) => l.label === 'spoof' && l.attack === a && typeof l.live === 'number').length;
const attacks = [...new Set(r1.lines.filter((l) => l.label === 'spoof').map((l) => l.attack))].filter((a) => scoredSpoof(a) >= 3);
checkSvg(svgAttack, 1 + attacks.length, attacks);
if (s1.det?.curves !== 1 + attacks.length) fail(`summary det.curves ${s1.det?.curves}, expected ${1 + attacks.length}`);

// ---- 2. the DET by source; without --thresholds "at" is the session's pass and fail ------------
const svgSource = path.join(out, 'det-source.svg');
fs.rmSync(svgSource, { force: true });
const r2 = run(bin, ['eval-pad', labels, ...common, '--det', svgSource, '--det-by-source']);
if (r2.status !== 0) fail(`eval-pad --det-by-source exited ${r2.status}: ${r2.stderr}`);
else {
  const s2 = r2.summary, t2 = [s2.at_session_pass.threshold, s2.at_session_fail.threshold];
  if (s2.at.map((a) => a.threshold).join() !== t2.join()) fail(`default "at" ${s2.at.map((a) => a.threshold)}, expected ${t2}`);
  for (const e of checkPad(s2, r2.lines, t2)) fail(`(default thresholds) ${e}`);
  const both = s2.sources.filter((s) => s.live > 0 && s.spoof > 0).map((s) => s.source);
  checkSvg(svgSource, 1 + both.length, both);
}

// ---- 3. robustness: bad rows, bad images, no source column, a missing file ---------------------
const frames = path.join(data, 'pad', 'apfol_liveness', 'frames');
const real = fs.readdirSync(frames).filter((f) => f.startsWith('real')).sort()[0];
const fake = fs.readdirSync(frames).filter((f) => f.startsWith('fake')).sort()[0];
const syn = path.join(out, 'synthetic');
fs.mkdirSync(syn, { recursive: true });
fs.writeFileSync(path.join(syn, 'text.jpg'), 'not an image');
fs.writeFileSync(path.join(syn, 'empty.jpg'), '');
fs.writeFileSync(path.join(syn, 'labels.csv'), [
  'image,label,attack_type,basis',
  `${frames}/${real},live,none,"a basis, with a comma and ""quotes"""`,
  'missing.jpg,live,none,x',
  'text.jpg,spoof,replay,"a basis over',
  'two lines"',
  'empty.jpg,spoof,,x',
  `${frames}/${fake},spoof,replay,x`,
  'only,two',
  'x.jpg,maybe,none,x', ''].join('\r\n'));
const r3 = run(bin, ['eval-pad', path.join(syn, 'labels.csv'), path.join(out, 'absent', 'labels.csv'), ...common]);
const s3 = r3.summary;
if (r3.status !== 1) fail(`a missing labels file: exit ${r3.status}, expected 1`);
if (!s3) fail('no summary when a labels file is missing');
else {
  const f = s3.files;
  if (f?.[0]?.source_column !== false || f[0].rows !== 5 || f[0].bad_rows !== 2 || !f?.[1]?.error)
    fail(`files ${JSON.stringify(f)}`);
  const src = s3.sources;
  if (src?.length !== 1 || src[0].source !== 'synthetic' || src[0].images !== 5 || src[0].error !== 3 || src[0].live !== 1 || src[0].spoof !== 1)
    fail(`synthetic source ${JSON.stringify(src?.map(({ at, ...rest }) => rest))}`);
  const errors = r3.lines.filter((l) => l.error).map((l) => `${l.image}:${l.error}`).join(' ');
  if (errors !== 'missing.jpg:unreadable text.jpg:unsupported_format empty.jpg:empty_file') fail(`error lines: ${errors}`);
  if (r3.lines.find((l) => l.image === 'empty.jpg')?.attack !== 'unknown') fail('an empty attack_type is not "unknown"');
}

// ---- 4. one class only: AUC and EER null, rates of the absent class null, the SVG still valid --
fs.writeFileSync(path.join(syn, 'live-only.csv'), `image,label,attack_type,source\n${frames}/${real},live,none,one\n`);
const svgOne = path.join(out, 'det-one-class.svg');
const r4 = run(bin, ['eval-pad', path.join(syn, 'live-only.csv'), ...common, '--det', svgOne]);
const s4 = r4.summary;
if (r4.status !== 0 || !s4) fail(`one class: exit ${r4.status}`);
else if (s4.auc !== null || s4.eer !== null || s4.at[0].apcer !== null || s4.at[0].bpcer !== 0 || s4.sources[0].auc !== null)
  fail(`one class: ${JSON.stringify({ auc: s4.auc, eer: s4.eer, at: s4.at[0] })}`);
else checkSvg(svgOne, 0, []);

if (failures) { console.log(`${failures} check(s) failed`); process.exit(1); }
console.log('eval-pad: all checks passed');
