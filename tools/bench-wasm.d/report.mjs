// report.mjs - the text tables of tools/bench-wasm, from the results of every configuration.
import { SETS, MODELS, PEER_LABEL } from './models.mjs';

const MiB = (b) => (b > 0 ? `${(b / 1048576).toFixed(1)} MiB` : 'n/a');
const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const e = (v) => (Number.isFinite(v) ? v.toExponential(1) : '-');
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

/** Per-set sums of medians; null members make the set "n/a" with the reason. */
export function setSums(result) {
  const rows = new Map((result.models || []).map((m) => [m.name, m]));
  return SETS.filter((s) => s.models.some((n) => rows.has(n))).map((s) => {
    let ours = 0, peer = 0, flops = 0;
    const missing = [];
    for (const n of s.models) {
      const r = rows.get(n);
      if (!r || r.skipped) { missing.push(`${n} absent`); continue; }
      if (!(r.ours.median > 0)) missing.push(`ours ${n} not timed`);
      if (!(r.peer.median > 0)) missing.push(`peer ${n} not timed`);
      ours += r.ours.median; peer += r.peer.median; flops += r.mflops || 0;
    }
    if (missing.length) return { name: s.name, models: s.models, missing };
    return { name: s.name, models: s.models, oursMs: ours, peerMs: peer, mflops: flops, ratio: peer / ours };
  });
}

function header(r) {
  const o = r.ours || {};
  const t = (r.peers && r.peers.tfjs) || {};
  const x = (r.peers && r.peers.ort) || {};
  const lines = [];
  if (!r.models || !r.models.length) {
    lines.push(`== ${r.label}: ${r.host}, ${r.threads} thread${r.threads > 1 ? 's' : ''}: not run`);
    return lines;
  }
  lines.push(`== ${r.label}: ${r.host}, ${r.threads} thread${r.threads > 1 ? 's' : ''}, ${r.warmup} warm-up + ${r.runs} timed runs per model` +
             `${r.isolation ? `, ${r.isolation}` : ', one process'}`);
  if (r.busy && r.busy.length) lines.push(`   WARNING: machine busy (${r.busy.map((b) => `${b.when} ${b.where}: ${b.cores} cores used by others`).join(', ')}): numbers unreliable`);
  if (r.env) lines.push(`   page: crossOriginIsolated=${r.env.crossOriginIsolated}, SharedArrayBuffer=${r.env.sharedArrayBuffer}, hardwareConcurrency=${r.env.hardwareConcurrency}`);
  const backends = [...new Set((r.models || []).map((m) => m.ours && m.ours.backend).filter(Boolean))].join('/') || '?';
  const pt = (n) => (n === null || n === undefined ? '' : `, ${n} pthread${n === 1 ? '' : 's'} running`);
  lines.push(`   ours: ${o.module || '?'} context threads ${o.threads ?? '?'}${pt(o.pthreadsRunning)}, backend ${backends} (${o.backendNote || o.error || '?'})` +
             `${o.peak ? `, peak mul+add ${f(o.peak.gflops)} GFLOP/s` : ''}`);
  if (r.peers && r.peers.tfjs) {
    lines.push(t.error ? `   tfjs-wasm: FAILED: ${t.error}` :
      `   tfjs-wasm: ${t.binary}, SIMD ${t.simd}, threads ${t.threads} (requested ${t.threadsRequested})${pt(t.pthreadsRunning)}${t.note ? `; ${t.note}` : ''}`);
  }
  if (r.peers && r.peers.ort) {
    lines.push(x.error ? `   ort-web: FAILED: ${x.error}` : `   ort-web: ${x.version}, ort-wasm-simd-threaded.wasm, numThreads ${x.threads} (requested ${x.threadsRequested})`);
  }
  const l = r.peers && r.peers.tflite;
  if (l) lines.push(l.error ? `   tflite-wasm: FAILED: ${l.error}` : `   tflite-wasm: ${l.version}, threads ${l.threads} (requested ${l.threadsRequested})`);
  const base = (p) => String(p).split('/').pop();
  if (r.wasmFilesRead) lines.push(`   .wasm files read: ${r.wasmFilesRead.map(base).join(', ')}`);
  if (r.units) {
    lines.push(`   .wasm files fetched per page: ${Object.entries(r.units).map(([k, u]) => `${k}: ${(u.wasmFetched || []).map(base).join(' + ') || '-'}`).join('; ')}`);
    const w = Object.entries(r.units).map(([k, u]) => `${k} ${(u.workers || []).length}`).join(', ');
    lines.push(`   Web Workers created per page: ${w} (ours' page also holds the 1-thread reference module: inputs, parity)`);
  }
  return lines;
}

/** The table of one configuration. */
export function configTable(r) {
  const lines = header(r);
  if (r.error) lines.push(`   ERROR: ${r.error}`);
  if (!r.models || !r.models.length) return lines.join('\n');
  lines.push(`   ${pad('model', 16)} ${lpad('MFLOP', 7)} | ${lpad('ours ms', 8)} ${lpad('p90', 7)} ${lpad('GF/s', 6)} | ${pad('peer', 9)} ${lpad('ms', 8)} ${lpad('p90', 7)} ${lpad('GF/s', 6)} | ${lpad('ratio', 6)} | max|diff|`);
  for (const m of r.models || []) {
    if (m.skipped) { lines.push(`   ${pad(m.name, 16)} skipped: ${m.skipped}`); continue; }
    const o = m.ours || {}, p = m.peer || {};
    const nums = (x) => `${lpad(f(x.median), 8)} ${lpad(f(x.p90), 7)} ${lpad(f(x.gflops, 1), 6)}`;
    const par = p.parity ? e(p.parity.maxAbsDiff) + (p.parity.notes.length ? ` (${p.parity.notes.join('; ')})` : '') : '-';
    if (o.median > 0 && p.median > 0) {
      lines.push(`   ${pad(m.name, 16)} ${lpad(f(m.mflops, 1), 7)} | ${nums(o)} | ${pad(m.peerLabel, 9)} ${nums(p)} | ${lpad(f(m.ratio), 6)} | ${par}`);
    } else {
      const oc = o.error ? `ours FAILED: ${o.error}` : o.median > 0 ? `ours ${f(o.median)} ms (p90 ${f(o.p90)})` : 'ours not run';
      const pc = p.error ? `${m.peerLabel} FAILED: ${p.error}` : p.median > 0 ? `${m.peerLabel} ${f(p.median)} ms (p90 ${f(p.p90)})`
        : `${m.peerLabel} not run${o.error ? ' (no reference input: ours failed to load)' : ''}`;
      lines.push(`   ${pad(m.name, 16)} ${lpad(f(m.mflops, 1), 7)} | ${oc} | ${pc}`);
    }
  }
  for (const s of setSums(r)) {
    const what = `${s.name} (${s.models.join(' + ')})`;
    lines.push(s.missing ? `   ${pad(what, 56)} n/a: ${s.missing.join(', ')}` :
      `   ${pad(what, 56)} ours ${lpad(f(s.oursMs), 8)} ms | peers ${lpad(f(s.peerMs), 8)} ms | ratio ${f(s.ratio)}`);
  }
  const mem = [];
  if (r.ours && r.ours.heapBytes) {
    mem.push(`ours ${MiB(r.ours.heapBytes)} (${r.ours.modelsLoaded} models loaded and run once in one instance; weights + arenas ${MiB(r.ours.plannedBytes)})`);
  }
  if (r.peers && r.peers.tfjs && r.peers.tfjs.heapBytes) mem.push(`tfjs-wasm ${MiB(r.peers.tfjs.heapBytes)} (${r.peers.tfjs.modelsLoaded} graph models loaded and run once)`);
  if (r.peers && r.peers.ort && !r.peers.ort.error) mem.push('ort-web n/a (no handle on its wasm memory)');
  if (mem.length) lines.push(`   wasm heap: ${mem.join('; ')}`);
  for (const n of r.notes || []) lines.push(`   note: ${n}`);
  const par = (r.models || []).filter((m) => m.ours && m.ours.parityVsRef);
  if (par.length) lines.push(`   ours ${r.ours && r.ours.module} vs veriface-simd outputs: max|diff| ${e(Math.max(...par.map((m) => m.ours.parityVsRef.maxAbsDiff)))}`);
  for (const [k, u] of Object.entries(r.units || {})) {
    for (const w of u.pageWarnings || []) lines.push(`   page warning [${k}]: ${w}`);
    for (const w of u.pageErrors || []) lines.push(`   page error [${k}]: ${w}`);
  }
  return lines.join('\n');
}

/** Ratios of every configuration side by side. */
export function summaryTable(results) {
  const ok = results.filter((r) => r.models && r.models.length);
  if (!ok.length) return '';
  const w = Math.max(12, ...ok.map((r) => r.label.length + 1));
  const lines = ['== ratio = peer median / our median (> 1: ours is faster), per configuration'];
  lines.push(`   ${pad('model / set', 34)}${ok.map((r) => lpad(r.label, w)).join('')}`);
  for (const m of MODELS) {
    const cells = ok.map((r) => { const row = r.models.find((x) => x.name === m.name); return lpad(row && row.ratio ? f(row.ratio) : row && row.skipped ? 'skip' : '-', w); });
    if (ok.some((r) => r.models.find((x) => x.name === m.name))) lines.push(`   ${pad(`${m.name} (vs ${PEER_LABEL[m.peer]})`, 34)}${cells.join('')}`);
  }
  for (const s of SETS) {
    if (s.models.length < 2) continue;
    const cells = ok.map((r) => setSums(r).find((x) => x.name === s.name));
    if (cells.every((x) => !x)) continue;
    lines.push(`   ${pad(s.name, 34)}${cells.map((x) => lpad(!x || x.missing ? 'n/a' : f(x.ratio), w)).join('')}`);
  }
  return lines.join('\n');
}
