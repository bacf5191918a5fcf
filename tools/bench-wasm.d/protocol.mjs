// protocol.mjs - one benchmark unit (one host, one thread count, some runtimes), the same code
// in node and in the bench page. Steps:
//   0. reference: our single-threaded module (veriface-simd) loads every model, fills the seeded
//      inputs and runs each once: the inputs every runtime gets and the outputs parity is checked on.
//   1. ours (if timed here): the timed instance is the reference itself at 1 thread, else our
//      threaded module with a context of N threads (outputs checked against the reference); the
//      peak mul+add probe; heap size of the instance with every model loaded and run once.
//   2. peers (if timed here: TF.js wasm, ORT wasm, and under node the TFLite interpreter for TFLite
//      models): init at the same thread count, load every
//      source model, same input values, run each once: parity (max abs difference) and heap size.
//   3. per model: `warmup` runs then `runs` timed runs of each runtime in turn; performance.now()
//      around each single inference. A failing peer is recorded, not fatal.
// node runs all three runtimes in one unit (one process, 1 thread); the browser gives each runtime
// its own page, so the idle threads of one runtime cannot take a core from another.
import { MODELS, PEER_LABEL, summarize, maxAbsDiff, nhwcToNchw, errText } from './models.mjs';
import { Ours, initTfjs, loadTfjsModel, prepareTfjs, configureOrt, loadOrtModel, ortInfo, prepareOrt, prepareTflite } from './engines.mjs';

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** Time `fn` (sync, or returning a promise): `warmup` untimed runs, then `runs` timed ones. */
export async function timeRuns(fn, warmup, runs) {
  for (let i = 0; i < warmup; i++) { const r = fn(); if (r && r.then) await r; }
  const times = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = fn();
    if (r && r.then) await r;
    times[i] = performance.now() - t0;
  }
  return times;
}

/**
 * Run one unit.
 * opt: {
 *   label, host ('node'|'chromium'), threads, warmup, runs, seed, models (names),
 *   runtimes: subset of ['ours', 'tfjs', 'ort'] (default all),
 *   ref:  { create: async () => Module, moduleName }   single-threaded module (inputs, reference outputs)
 *   ours: { create: async () => Module, moduleName }   the timed module (the ref instance is reused
 *                                                      when it is the same module and threads == 1)
 *   tfjs: async () => ({ tf, tfw, loadGraphModel }), tfjsWasmPrefix, tfjsForceNoThreads,
 *   tfjsBeforeInit: () => note|undefined, tfjsAfterInit: () => void (optional, around TF.js init),
 *   ort: async () => ort, ortWasmPaths,
 *   tflite: async () => ({ loadTfliteModel }) (node only: tools/tflite-node.mjs),
 *   read: async (relPath) => Uint8Array | null (null = file absent),
 *   log: (line) => void, phase: (name) => void (optional; the page attributes workers with it),
 *   peakSeconds
 * }
 */
export async function runConfig(opt) {
  const log = opt.log || (() => {});
  const phase = opt.phase || (() => {});
  const runtimes = opt.runtimes || ['ours', 'tfjs', 'ort', 'tflite'];
  const selected = MODELS.filter((m) => !opt.models || opt.models.includes(m.name));
  const out = {
    label: opt.label, host: opt.host, threads: opt.threads, warmup: opt.warmup, runs: opt.runs, seed: opt.seed,
    runtimes, ref: { module: opt.ref.moduleName }, peers: {}, models: [], notes: [],
  };
  const rows = new Map();
  for (const m of selected) {
    rows.set(m.name, { name: m.name, peerKind: m.peer, peerLabel: PEER_LABEL[m.peer], ours: {}, peer: {} });
  }
  const finish = () => { out.models = [...rows.values()]; return out; };

  // ---- 0. reference instance: inputs and reference outputs -------------------------------
  phase('ref');
  let ref;
  try {
    ref = new Ours(await opt.ref.create(), opt.ref.moduleName, 1);
  } catch (e) {
    out.error = `cannot start ${opt.ref.moduleName}: ${errText(e)}`;
    log(`${opt.label}: ${out.error}`);
    return finish();
  }
  out.ref.version = ref.version;
  const refModels = new Map();
  for (const m of selected) {
    const row = rows.get(m.name);
    const bytes = await opt.read(m.vfm);
    if (!bytes) {
      row.skipped = m.optional ? `${m.vfm} absent (MiniFASNet not fetched/converted: tools/fetch-models, tools/build)` : `${m.vfm} absent`;
      if (!m.optional) row.ours.error = row.skipped;
      log(`${opt.label}: ${m.name}: skipped: ${row.skipped}`);
      continue;
    }
    try {
      const rec = ref.load(m.name, bytes, opt.seed);
      rec.bytes = bytes;
      rec.firstOut = rec.first();
      refModels.set(m.name, rec);
      row.mflops = rec.stats.mflops;
      row.stats = { ...rec.stats };
      row.range = [rec.range.lo, rec.range.hi];
      row.rangeFromMeta = rec.range.fromMeta;
    } catch (e) {
      row.ours.error = errText(e);
      log(`${opt.label}: ${m.name}: ours (${opt.ref.moduleName}) failed: ${row.ours.error}`);
    }
  }

  // ---- 1. ours ---------------------------------------------------------------------------
  const oursRuns = new Map();
  let ours = null;
  if (runtimes.includes('ours')) {
    phase('ours');
    const sameAsRef = opt.ours.moduleName === opt.ref.moduleName && opt.threads === 1;
    const o = (out.ours = { module: opt.ours.moduleName, threads: opt.threads });
    try {
      ours = sameAsRef ? ref : new Ours(await opt.ours.create(), opt.ours.moduleName, opt.threads);
    } catch (e) {
      o.error = `cannot start ${opt.ours.moduleName} with ${opt.threads} thread(s): ${errText(e)}`;
      log(`${opt.label}: ours: ${o.error}`);
    }
    if (ours) {
      o.version = ours.version;
      o.backendRequested = ours.backendRequested === 2 ? 'simd' : 'auto';
      o.backendNote = ours.backendNote;
      o.peak = await ours.peakGflops(opt.peakSeconds ?? 0.3);
      log(`${opt.label}: ours ${opt.ours.moduleName} (veriface ${ours.version}), context threads ${opt.threads}, ${ours.backendNote}; ` +
          `peak mul+add ${Number.isFinite(o.peak.gflops) ? o.peak.gflops.toFixed(2) : `n/a (${o.peak.note})`} GFLOP/s (${o.peak.iters} iters)`);
      let planned = 0;
      for (const [name, r] of refModels) {
        const row = rows.get(name);
        try {
          const rec = sameAsRef ? r : ours.load(name, r.bytes, opt.seed);
          if (!sameAsRef) row.ours.parityVsRef = parity(r.firstOut, rec.first());
          row.ours.backend = rec.stats.backend;
          planned += rec.stats.weight_bytes + rec.stats.arena_bytes;
          oursRuns.set(name, rec);
        } catch (e) {
          row.ours.error = errText(e);
          log(`${opt.label}: ${name}: ours failed: ${row.ours.error}`);
        }
      }
      o.heapBytes = ours.heapBytes();
      o.pthreadsRunning = ours.pthreads(); // the context's pool: threads - 1 workers (the caller is the other)
      o.plannedBytes = planned;
      o.modelsLoaded = oursRuns.size;
      log(`${opt.label}: ours: ${oursRuns.size} models loaded and run once; wasm heap ${(o.heapBytes / 1048576).toFixed(1)} MiB ` +
          `(weights + arenas ${(planned / 1048576).toFixed(1)} MiB)`);
    }
  }

  // ---- 2. peers -------------------------------------------------------------------------
  const peerRuns = new Map();
  const needTfjs = runtimes.includes('tfjs') && selected.some((m) => m.peer === 'tfjs' && refModels.has(m.name));
  const needOrt = runtimes.includes('ort') && selected.some((m) => m.peer === 'ort' && refModels.has(m.name));
  if (needTfjs) {
    phase('tfjs');
    const info = (out.peers.tfjs = { threadsRequested: opt.threads });
    try {
      const { tf, tfw, loadGraphModel } = await opt.tfjs();
      if (opt.tfjsBeforeInit) info.note = opt.tfjsBeforeInit();
      let ti;
      try {
        ti = await initTfjs(tf, tfw, { wasmPrefix: opt.tfjsWasmPrefix, threads: opt.threads, forceNoThreads: opt.tfjsForceNoThreads });
      } finally {
        if (opt.tfjsAfterInit) opt.tfjsAfterInit();
      }
      Object.assign(info, { version: ti.version, simd: ti.simd, multithread: ti.multithread, binary: ti.binary, threads: ti.threads });
      log(`${opt.label}: tfjs: ${ti.version}, SIMD ${ti.simd}, multithread ${ti.multithread}, binary ${ti.binary}, ` +
          `threads ${ti.threads} (requested ${opt.threads})${info.note ? `; ${info.note}` : ''}`);
      if (ti.threads !== opt.threads) out.notes.push(`tfjs-wasm runs ${ti.threads} thread(s), ${opt.threads} requested`);
      for (const m of selected) {
        if (m.peer !== 'tfjs' || !refModels.has(m.name)) continue;
        const row = rows.get(m.name);
        try {
          const json = JSON.parse(new TextDecoder().decode(await opt.read(m.src) || fail(`${m.src} absent (tools/fetch-models)`)));
          const dir = m.src.slice(0, m.src.lastIndexOf('/') + 1);
          const shards = [];
          for (const g of json.weightsManifest) for (const p of g.paths) shards.push(await opt.read(dir + p) || fail(`${dir + p} absent`));
          const gm = await loadTfjsModel(tf, loadGraphModel, json, shards);
          const prep = prepareTfjs(tf, gm, refModels.get(m.name));
          row.peer.parity = parity(refModels.get(m.name).firstOut, await prep.first());
          row.peer.mode = prep.mode();
          peerRuns.set(m.name, prep);
        } catch (e) {
          row.peer.error = `tfjs: ${errText(e)}`;
          log(`${opt.label}: ${m.name}: ${row.peer.error}`);
        }
      }
      info.heapBytes = ti.heapBytes();
      info.pthreadsRunning = ti.pthreads();
      info.modelsLoaded = selected.filter((m) => m.peer === 'tfjs' && peerRuns.has(m.name)).length;
    } catch (e) {
      info.error = `TF.js wasm backend failed to start: ${errText(e)}`;
      log(`${opt.label}: ${info.error}`);
    }
  }
  if (needOrt) {
    phase('ort');
    const info = (out.peers.ort = { threadsRequested: opt.threads });
    try {
      const ort = await opt.ort();
      configureOrt(ort, { threads: opt.threads, wasmPaths: opt.ortWasmPaths });
      for (const m of selected) {
        if (m.peer !== 'ort' || !refModels.has(m.name)) continue;
        const row = rows.get(m.name);
        try {
          const bytes = (await opt.read(m.src)) || fail(`${m.src} absent (tools/fetch-models)`);
          const session = await loadOrtModel(ort, bytes);
          const prep = prepareOrt(ort, session, refModels.get(m.name), nhwcToNchw);
          row.peer.parity = parity(refModels.get(m.name).firstOut, await prep.first());
          row.peer.mode = prep.mode();
          peerRuns.set(m.name, prep);
        } catch (e) {
          row.peer.error = `ort: ${errText(e)}`;
          log(`${opt.label}: ${m.name}: ${row.peer.error}`);
        }
      }
      Object.assign(info, ortInfo(ort)); // numThreads as ORT left it after init (1 if it refused threads)
      log(`${opt.label}: ort: ${info.version}, numThreads ${info.threads} (requested ${opt.threads})`);
      if (info.threads !== opt.threads) out.notes.push(`ort-web runs ${info.threads} thread(s), ${opt.threads} requested`);
    } catch (e) {
      info.error = `ONNX Runtime Web failed to start: ${errText(e)}`;
      log(`${opt.label}: ${info.error}`);
    }
  }
  const needTflite = runtimes.includes('tflite') && selected.some((m) => m.peer === 'tflite' && refModels.has(m.name));
  if (needTflite) {
    phase('tflite');
    const info = (out.peers.tflite = { threadsRequested: opt.threads, threads: 1 });
    try {
      if (!opt.tflite) fail('the TFLite peer runs under node only');
      const { loadTfliteModel } = await opt.tflite();
      for (const m of selected) {
        if (m.peer !== 'tflite' || !refModels.has(m.name)) continue;
        const row = rows.get(m.name);
        try {
          const file = (await opt.tfliteFile(m.src)) || fail(`${m.src} absent (tools/fetch-models)`);
          const prep = prepareTflite(await loadTfliteModel(file, { batchOne: true }), refModels.get(m.name));
          row.peer.parity = parity(refModels.get(m.name).firstOut, await prep.first());
          row.peer.mode = prep.mode();
          peerRuns.set(m.name, prep);
        } catch (e) {
          row.peer.error = `tflite: ${errText(e)}`;
          log(`${opt.label}: ${m.name}: ${row.peer.error}`);
        }
      }
      info.version = '@tensorflow/tfjs-tflite 0.0.1-alpha.10 (TFLite interpreter, wasm SIMD, XNNPACK delegate)';
      log(`${opt.label}: tflite: ${info.version}, 1 thread`);
      if (opt.threads !== 1) out.notes.push(`tflite-wasm runs 1 thread, ${opt.threads} requested`);
    } catch (e) {
      info.error = `TFLite interpreter failed to start: ${errText(e)}`;
      log(`${opt.label}: ${info.error}`);
    }
  }
  phase('timing');

  // ---- 3. timing -------------------------------------------------------------------------
  for (const m of selected) {
    const row = rows.get(m.name);
    if (!refModels.has(m.name)) continue;
    const rec = oursRuns.get(m.name);
    if (rec) {
      await pause(50); // let the previous runtime's spinning worker threads park
      try {
        const t = await timeRuns(rec.run, opt.warmup, opt.runs);
        Object.assign(row.ours, summarize(t), { times: roundTimes(t) });
        row.ours.gflops = row.mflops / row.ours.median;
      } catch (e) {
        row.ours.error = errText(e);
      }
    }
    const prep = peerRuns.get(m.name);
    if (prep) {
      await pause(50);
      try {
        const t = await timeRuns(prep.run, opt.warmup, opt.runs);
        Object.assign(row.peer, summarize(t), { times: roundTimes(t) });
        row.peer.gflops = row.mflops / row.peer.median;
      } catch (e) {
        row.peer.error = `${row.peerKind}: ${errText(e)}`;
      }
    } else if (runtimes.includes(row.peerKind) && !row.peer.error) {
      const p = out.peers[row.peerKind];
      row.peer.error = p && p.error ? p.error : `${row.peerLabel} not run`;
    }
    if (row.ours.median > 0 && row.peer.median > 0) row.ratio = row.peer.median / row.ours.median;
    const parts = [];
    if (rec) parts.push(`ours ${row.ours.error ? `FAILED: ${row.ours.error}` : fmtMs(row.ours)}`);
    if (runtimes.includes(row.peerKind)) parts.push(`${row.peerLabel} ${row.peer.error ? `FAILED: ${row.peer.error}` : fmtMs(row.peer)}`);
    if (row.ratio) parts.push(`ratio ${row.ratio.toFixed(2)}`);
    if (parts.length) log(`${opt.label}: ${m.name}: ${parts.join('; ')}`);
  }

  for (const prep of peerRuns.values()) { try { await prep.dispose(); } catch { /* teardown only */ } }
  if (ours && ours !== ref) ours.dispose();
  ref.dispose();
  return finish();
}

function fail(msg) { throw new Error(msg); }
const roundTimes = (t) => t.map((x) => Math.round(x * 1000) / 1000); // raw ms per run, for the JSON
const fmtMs = (r) => (r && r.median >= 0 ? `median ${r.median.toFixed(2)} ms, p90 ${r.p90.toFixed(2)} ms` : '-');

/** Compare ours' outputs with the peer's, by name when the names match, else by position. */
function parity(oursOut, peerOut) {
  let worst = 0, scale = 0, matched = 0;
  const notes = [];
  for (const [k, o] of oursOut.entries()) {
    const p = peerOut.find((x) => x.name === o.name || x.name === `${o.name}:0`) || peerOut[k];
    if (!p) { notes.push(`no peer output for ${o.name}`); continue; }
    const d = maxAbsDiff(o.data, p.data);
    if (d.note) { notes.push(`${o.name}: ${d.note}`); if (Number.isNaN(d.diff)) worst = NaN; continue; }
    matched++;
    if (!Number.isNaN(worst) && d.diff > worst) worst = d.diff;
    if (d.scale > scale) scale = d.scale;
  }
  return { maxAbsDiff: worst, maxAbsPeer: scale, outputsCompared: matched, notes };
}
