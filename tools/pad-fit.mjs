#!/usr/bin/env node
// pad-fit.mjs - fit and validate the passive-liveness fusion of src/face/liveness.c.
//
//   ./build/veriface eval-pad ../shared/data/pad/labels.csv ../shared/data/pad-multi/labels.csv > /tmp/ep.jsonl
//   node tools/pad-fit.mjs /tmp/ep.jsonl
//
// The score is sigmoid(C0 + C_ML * log_odds + C_EDGE * screen_edge + C_MOIRE * moire): log_odds is the
// mean log-odds of "live" over MiniFASNet's four crops, the cues come from src/face/pad_cues.c.
// Fit: logistic regression (L2, lambda 10 on standardised features) with every (source, class)
// weighted equally, so one large source cannot dominate; then Platt scaling so the score reads as
// a probability. Validation: leave-one-source-out (each source scored by a fit without it), the
// figure that says something about people, cameras and attacks the fit never saw. Prints the
// coefficients for liveness.c, the ablation (which parts help) and the operating points.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) { console.error('usage: node tools/pad-fit.mjs EVAL_PAD_OUTPUT.jsonl'); process.exit(2); }
const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .filter((r) => !r.summary && r.log_odds !== undefined)
  .map((r) => ({ ...r, y: r.label === 'live' ? 1 : 0, set: r.image.includes('__') ? 'pad-multi' : 'pad' }));
if (rows.length < 20) { console.error(`pad-fit: only ${rows.length} scored rows in ${file}`); process.exit(1); }
const moires = rows.filter((r) => r.moire !== null);
const MOIRE_MEAN = moires.reduce((a, r) => a + r.moire, 0) / moires.length;

// ---- logistic regression (Newton, L2 on the weights, not the intercept) ----
function solve(A, b) {
  const n = b.length, M = A.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) if (r !== c) { const f = M[r][c] / M[c][c]; for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k]; }
  }
  return M.map((r, i) => r[n] / r[i]);
}
function logistic(X, y, w, lambda) {
  const d = X[0].length + 1, xs = X.map((x) => [1, ...x]);
  const b = new Array(d).fill(0);
  for (let it = 0; it < 60; it++) {
    const g = new Array(d).fill(0), H = Array.from({ length: d }, () => new Array(d).fill(0));
    xs.forEach((x, i) => {
      const p = 1 / (1 + Math.exp(-x.reduce((a, v, k) => a + v * b[k], 0)));
      for (let k = 0; k < d; k++) { g[k] += w[i] * (p - y[i]) * x[k]; for (let l = 0; l < d; l++) H[k][l] += w[i] * p * (1 - p) * x[k] * x[l]; }
    });
    for (let k = 1; k < d; k++) { g[k] += lambda * b[k]; H[k][k] += lambda; }
    H[0][0] += 1e-9;
    const step = solve(H, g);
    let mx = 0;
    for (let k = 0; k < d; k++) { b[k] -= step[k]; mx = Math.max(mx, Math.abs(step[k])); }
    if (mx < 1e-9) break;
  }
  return b;
}
const balanced = (rs) => {
  const cnt = {};
  for (const r of rs) cnt[r.source + r.y] = (cnt[r.source + r.y] || 0) + 1;
  const w = rs.map((r) => 1 / cnt[r.source + r.y]), s = w.reduce((a, b) => a + b);
  return w.map((v) => v * rs.length / s);
};

// ---- the models compared (features of one row) ----
const MODELS = {
  'MiniFASNet alone (before)': null,   // the old score: mean live probability, no fit
  'MiniFASNet, calibrated': (r) => [r.log_odds],
  '+ moire': (r) => [r.log_odds, r.moire ?? MOIRE_MEAN],
  '+ screen edge': (r) => [r.log_odds, r.screen_edge],
  '+ screen edge + moire (shipped)': (r) => [r.log_odds, r.screen_edge, r.moire ?? MOIRE_MEAN],
};

// fit on rows -> coefficients on the raw features (intercept first), Platt-scaled
function fit(rs, feat) {
  const X = rs.map(feat), d = X[0].length;
  const mu = new Array(d).fill(0), sd = new Array(d).fill(0);
  for (const x of X) x.forEach((v, k) => { mu[k] += v / X.length; });
  for (const x of X) x.forEach((v, k) => { sd[k] += (v - mu[k]) ** 2 / X.length; });
  for (let k = 0; k < d; k++) sd[k] = Math.sqrt(sd[k]) || 1;
  const w = balanced(rs), y = rs.map((r) => r.y);
  const b = logistic(X.map((x) => x.map((v, k) => (v - mu[k]) / sd[k])), y, w, 10);
  const c = [b[0] - b.slice(1).reduce((a, v, k) => a + v * mu[k] / sd[k], 0), ...b.slice(1).map((v, k) => v / sd[k])];
  const z = (x) => c[0] + x.reduce((a, v, k) => a + c[k + 1] * v, 0);
  const pl = logistic(X.map((x) => [z(x)]), y, w, 1e-6);
  return [pl[0] + pl[1] * c[0], ...c.slice(1).map((v) => pl[1] * v)];
}
const scoreOf = (C, x) => 1 / (1 + Math.exp(-(C[0] + x.reduce((a, v, k) => a + C[k + 1] * v, 0))));

// ---- metrics ----
const auc = (rs, s) => {
  const L = rs.filter((r) => r.y), A = rs.filter((r) => !r.y);
  let w = 0;
  for (const a of L) for (const b of A) w += s.get(a) > s.get(b) ? 1 : s.get(a) === s.get(b) ? 0.5 : 0;
  return L.length && A.length ? w / (L.length * A.length) : NaN;
};
const rates = (rs, s, t) => {
  const L = rs.filter((r) => r.y), A = rs.filter((r) => !r.y);
  return { bpcer: L.length ? L.filter((r) => s.get(r) < t).length / L.length : NaN, apcer: A.length ? A.filter((r) => s.get(r) >= t).length / A.length : NaN };
};
const eer = (rs, s) => {
  let best = [2, NaN];
  for (const t of [...new Set(rs.map((r) => s.get(r)))]) {
    const { bpcer, apcer } = rates(rs, s, t);
    if (Math.abs(apcer - bpcer) < best[0]) best = [Math.abs(apcer - bpcer), (apcer + bpcer) / 2];
  }
  return best[1];
};
const pct = (v) => (Number.isFinite(v) ? (100 * v).toFixed(2) : '-');

const sets = [['pad-multi', rows.filter((r) => r.set === 'pad-multi')], ['pad', rows.filter((r) => r.set === 'pad')], ['pooled', rows]];
const sources = [...new Set(rows.map((r) => r.source))];
const results = {};
for (const [name, feat] of Object.entries(MODELS)) {
  const fitted = new Map(), loso = new Map();
  if (!feat) {
    for (const r of rows) { fitted.set(r, r.minifasnet); loso.set(r, r.minifasnet); }
  } else {
    const C = fit(rows, feat);
    for (const r of rows) fitted.set(r, scoreOf(C, feat(r)));
    for (const s of sources) {
      const Cs = fit(rows.filter((r) => r.source !== s), feat);
      for (const r of rows.filter((q) => q.source === s)) loso.set(r, scoreOf(Cs, feat(r)));
    }
    if (name.includes('shipped')) results.coef = C;
  }
  results[name] = { fitted, loso };
}

console.log(`# pad-fit: ${rows.length} images (${rows.filter((r) => r.y).length} live), ${sources.length} sources; ${file}\n`);
console.log('## Ablation: EER (AUC) per set, fitted on everything | leave-one-source-out\n');
console.log(`| model | ${sets.map(([n]) => `${n} fitted | ${n} LOSO`).join(' | ')} |`);
console.log(`|---|${sets.map(() => '---|---').join('|')}|`);
for (const name of Object.keys(MODELS)) {
  const { fitted, loso } = results[name];
  console.log(`| ${name} | ${sets.map(([, rs]) => `${pct(eer(rs, fitted))}% (${auc(rs, fitted).toFixed(4)}) | ${pct(eer(rs, loso))}% (${auc(rs, loso).toFixed(4)})`).join(' | ')} |`);
}
const C = results.coef;
console.log('\n## Coefficients for src/face/liveness.c\n');
console.log(`#define FUSE_C0 (${C[0].toFixed(4)}f)\n#define FUSE_C_ML ${C[1].toFixed(4)}f\n#define FUSE_C_EDGE (${C[2].toFixed(4)}f)\n#define FUSE_C_MOIRE (${C[3].toFixed(4)}f)\n#define MOIRE_MEAN (${MOIRE_MEAN.toFixed(4)}f)`);
const shipped = results['+ screen edge + moire (shipped)'], before = results['MiniFASNet alone (before)'];
const thr = (process.argv[3] || '0.1,0.35,0.5,0.6,0.7').split(',').map(Number);
console.log('\n## Operating points: BPCER / APCER in %, fitted | leave-one-source-out (before: MiniFASNet alone)\n');
console.log(`| threshold | ${sets.map(([n]) => n).join(' | ')} |`);
console.log(`|---|${sets.map(() => '---').join('|')}|`);
for (const t of thr) {
  console.log(`| ${t} | ${sets.map(([, rs]) => { const a = rates(rs, shipped.fitted, t), b = rates(rs, shipped.loso, t); return `${pct(a.bpcer)} / ${pct(a.apcer)} \\| ${pct(b.bpcer)} / ${pct(b.apcer)}`; }).join(' | ')} |`);
}
console.log('\n## Per source at the first threshold above 0.5: BPCER / APCER in %, before | fitted | LOSO\n');
const tp = thr.find((t) => t > 0.5) ?? 0.6, tb = 0.62;
console.log(`| source | live | spoof | before (MiniFASNet >= ${tb}) | fused, fitted (>= ${tp}) | fused, LOSO (>= ${tp}) |`);
console.log('|---|---|---|---|---|---|');
for (const s of sources) {
  const rs = rows.filter((r) => r.source === s), a = rates(rs, before.fitted, tb), f = rates(rs, shipped.fitted, tp), l = rates(rs, shipped.loso, tp);
  console.log(`| ${s} | ${rs.filter((r) => r.y).length} | ${rs.filter((r) => !r.y).length} | ${pct(a.bpcer)} / ${pct(a.apcer)} | ${pct(f.bpcer)} / ${pct(f.apcer)} | ${pct(l.bpcer)} / ${pct(l.apcer)} |`);
}
