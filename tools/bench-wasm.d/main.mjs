// main.mjs - tools/bench-wasm: our wasm engine vs TF.js wasm / ORT wasm on the same models at the
// same thread count. Runs the node configuration (node-run.mjs, one child process), then the
// Chromium ones (browser-run.mjs), prints the tables (report.mjs) and writes the JSON.
// Usage: see tools/bench-wasm (the wrapper) or `node tools/bench-wasm.d/main.mjs --help`.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODELS, DEFAULT_SEED, NODE_ONLY_PEERS } from './models.mjs';
import { configTable, summaryTable, setSums } from './report.mjs';

const BUSY_LIMIT_TEXT = '0.25';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');

const USAGE = `usage: tools/bench-wasm [--runs N] [--warmup N] [--threads N] [--models a,b,...] [--seed S]
                        [--no-node] [--no-browser] [--no-1t-browser] [--chromium PATH] [--json FILE]
                        [--peak-seconds S] [--timeout S] [--wait-idle S] [--build-dir DIR]
  --runs N          timed runs per model and runtime (default 100)
  --warmup N        untimed runs first (default 10)
  --threads N       thread count of the threaded browser configuration (default 2)
  --models LIST     subset of: ${MODELS.map((m) => m.name).join(', ')}
  --seed S          input generator seed (default ${DEFAULT_SEED}, the tests/golden seed)
  --no-node         skip the node (1 thread) configuration
  --no-browser      skip the Chromium configurations
  --no-1t-browser   skip the Chromium 1-thread configuration (keep the threaded one)
  --chromium PATH   browser binary (default /usr/bin/chromium)
  --json FILE       result file (default build/bench-wasm.json)
  --peak-seconds S  duration of the peak mul+add probe (default 0.3)
  --timeout S       limit per browser page (default 1800)
  --build-dir DIR   our modules from DIR (a directory under the repository; default build-wasm)
  --wait-idle S     before each configuration/page, wait up to S seconds for other processes to
                    use < ${BUSY_LIMIT_TEXT} cores (default 0: only warn; busy runs are flagged either way)`;

function parseArgs(argv) {
  const o = { runs: 100, warmup: 10, threads: 2, models: null, seed: DEFAULT_SEED, node: true, browser: true, browser1t: true,
    chromium: '/usr/bin/chromium', json: path.join(ROOT, 'build/bench-wasm.json'), peakSeconds: 0.3, timeout: 1800, waitIdle: 0, buildDir: 'build-wasm' };
  const num = (a, v, min) => { const n = Number(v); if (!Number.isFinite(n) || n < min || !Number.isInteger(n * 1000)) die(`${a}: bad value '${v}'`); return n; };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`${a} needs a value`); return argv[++i]; };
    if (a === '--runs') o.runs = Math.floor(num(a, val(), 1));
    else if (a === '--warmup') o.warmup = Math.floor(num(a, val(), 0));
    else if (a === '--threads') o.threads = Math.floor(num(a, val(), 1));
    else if (a === '--models') o.models = val().split(',').filter(Boolean);
    else if (a === '--seed') o.seed = Math.floor(num(a, val(), 1));
    else if (a === '--no-node') o.node = false;
    else if (a === '--no-browser') o.browser = false;
    else if (a === '--no-1t-browser') o.browser1t = false;
    else if (a === '--chromium') o.chromium = val();
    else if (a === '--json') o.json = path.resolve(val());
    else if (a === '--peak-seconds') o.peakSeconds = num(a, val(), 0.01);
    else if (a === '--timeout') o.timeout = num(a, val(), 10);
    else if (a === '--wait-idle') o.waitIdle = num(a, val(), 0);
    else if (a === '--build-dir') o.buildDir = val();
    else if (a === '-h' || a === '--help') { console.log(USAGE); process.exit(0); }
    else die(`unknown argument '${a}'\n${USAGE}`);
  }
  if (o.models) for (const m of o.models) if (!MODELS.find((x) => x.name === m)) die(`unknown model '${m}'`);
  if (o.seed > 0xffffffff) die('--seed must be a non-zero uint32');
  { // a directory inside the repository (the page server only serves repository paths)
    const rel = path.relative(ROOT, path.resolve(ROOT, o.buildDir));
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) die(`--build-dir must be a directory inside ${ROOT}`);
    o.buildDir = rel.split(path.sep).join('/');
    for (const f of ['veriface-simd.mjs', 'veriface-simd.wasm', 'veriface-simd-mt.mjs', 'veriface-simd-mt.wasm']) {
      if (!fs.existsSync(path.join(ROOT, o.buildDir, f))) die(`${o.buildDir}/${f} missing`);
    }
  }
  return o;
}

function die(msg) { console.error(`bench-wasm: ${msg}`); process.exit(2); }
const say = (line) => process.stderr.write(`bench-wasm: ${line}\n`);

function machine() {
  let nproc = os.cpus().length;
  try { nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()); } catch { /* os.cpus() then */ }
  let cpu = os.cpus()[0] ? os.cpus()[0].model : '?';
  try { const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8')); if (m) cpu = m[1].trim(); } catch { /* keep */ }
  return { nproc, cpu, memTotalMiB: Math.round(os.totalmem() / 1048576), kernel: os.release() };
}

/**
 * CPU used by other processes, in cores: /proc/stat's busy time minus the time of this process
 * tree (node child, Chromium and its reaped children via cutime/cstime). Sampled for 0.5 s while
 * the harness idles before each configuration/page, and over the whole of it afterwards: a busy
 * machine (another build or test) makes every number unreliable, so such runs are flagged.
 */
const BUSY_LIMIT = Number(BUSY_LIMIT_TEXT); // cores
const HZ = 100; // USER_HZ: /proc tick unit on Linux

function cpuSnapshot() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const globalBusy = f.reduce((a, b) => a + b, 0) - f[3] - (f[4] || 0);
    const procs = new Map();
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      let st;
      try { st = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; }
      const x = st.slice(st.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      procs.set(Number(d), { ppid: Number(x[1]), t: Number(x[11]) + Number(x[12]) + Number(x[13]) + Number(x[14]) });
    }
    const mine = new Set([process.pid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, p] of procs) if (!mine.has(pid) && mine.has(p.ppid)) { mine.add(pid); grew = true; }
    }
    const tree = new Map();
    for (const pid of mine) if (procs.has(pid)) tree.set(pid, procs.get(pid).t);
    return { at: performance.now(), globalBusy, tree };
  } catch {
    return null;
  }
}
function othersCores(a, b) {
  if (!a || !b) return NaN;
  const s = (b.at - a.at) / 1000;
  // our time: growth of every process of the tree alive at the end (new ones count whole; one that
  // exited in between is lost, but its reaped time shows in its parent's cutime)
  let mine = 0;
  for (const [pid, t] of b.tree) mine += Math.max(0, t - (a.tree.get(pid) || 0));
  return s > 0 ? Math.max(0, b.globalBusy - a.globalBusy - mine) / HZ / s : NaN;
}
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
async function idleCores(ms = 500) { const a = cpuSnapshot(); await pause(ms); return othersCores(a, cpuSnapshot()); }

/** Before a configuration/page: measure (and optionally wait for) an idle machine. */
async function checkIdle(where, busy, waitSeconds) {
  await pause(1000); // let a closed page's renderer finish exiting
  let c = await idleCores();
  if (c > BUSY_LIMIT && waitSeconds > 0) {
    say(`machine busy before ${where} (other processes use ${c.toFixed(2)} cores): waiting up to ${waitSeconds} s for it to be idle`);
    const end = Date.now() + waitSeconds * 1000;
    while (c > BUSY_LIMIT && Date.now() < end) { await pause(4000); c = await idleCores(1000); }
  }
  if (c > BUSY_LIMIT) {
    busy.push({ where, when: 'before', cores: Number(c.toFixed(2)) });
    say(`WARNING: machine busy before ${where}: other processes use ${c.toFixed(2)} cores; numbers will be unreliable`);
  }
  return cpuSnapshot();
}
/** After it: the average CPU other processes used while it ran. */
function checkDuring(where, busy, snap) {
  const c = othersCores(snap, cpuSnapshot());
  if (c > BUSY_LIMIT) {
    busy.push({ where, when: 'during', cores: Number(c.toFixed(2)) });
    say(`WARNING: other processes used ${c.toFixed(2)} cores on average during ${where}; numbers unreliable`);
  }
}

function runNode(o) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-wasm-'));
  const out = path.join(tmp, 'node.json');
  const args = ['--no-experimental-fetch', path.join(HERE, 'node-run.mjs'), '--root', ROOT, '--out', out,
    '--warmup', String(o.warmup), '--runs', String(o.runs), '--seed', String(o.seed), '--peak-seconds', String(o.peakSeconds), '--build-dir', o.buildDir];
  if (o.models) args.push('--models', o.models.join(','));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (err) => resolve({ label: 'node 1T', host: 'node', threads: 1, error: `cannot start node: ${err.message}`, models: [] }));
    child.on('exit', (code, sig) => {
      let r;
      try { r = JSON.parse(fs.readFileSync(out, 'utf8')); } catch { r = null; }
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!r) r = { label: 'node 1T', host: 'node', threads: 1, models: [], error: `node-run.mjs ${sig ? `killed by ${sig}` : `exited with ${code}`} without a result` };
      resolve(r);
    });
  });
}

/** Check the vf_model_stats layout we read against the native CLI's model-info, when it exists. */
function checkStats(result) {
  const cli = path.join(ROOT, 'build/veriface');
  if (!fs.existsSync(cli)) return { checked: 0, note: 'build/veriface absent: layout not cross-checked' };
  const bad = [];
  let checked = 0;
  for (const row of result.models || []) {
    if (!row.stats) continue;
    const m = MODELS.find((x) => x.name === row.name);
    let j;
    try { j = JSON.parse(execFileSync(cli, ['model-info', path.join(ROOT, m.vfm)], { encoding: 'utf8' })); } catch (err) { bad.push(`${row.name}: model-info failed: ${err.message.split('\n')[0]}`); continue; }
    checked++;
    const s = row.stats;
    const diffs = [];
    // resident weights depend on the backend (simd releases what it repacked, xnnpack does not)
    if (j.backend === s.backend && j.weight_bytes !== s.weight_bytes) diffs.push(`weight_bytes ${s.weight_bytes} vs ${j.weight_bytes}`);
    if (Math.abs(j.mflops - s.mflops) > 1e-3 * Math.max(1, j.mflops)) diffs.push(`mflops ${s.mflops} vs ${j.mflops}`);
    if (j.ops !== s.n_ops) diffs.push(`n_ops ${s.n_ops} vs ${j.ops}`);
    if (j.meta !== s.meta) diffs.push('meta differs');
    if (j.arena_bytes !== s.arena_bytes) diffs.push(`arena_bytes ${s.arena_bytes} vs ${j.arena_bytes}`);
    if (j.naive_arena_bytes !== s.naive_bytes) diffs.push(`naive_bytes ${s.naive_bytes} vs ${j.naive_arena_bytes}`);
    if (diffs.length) bad.push(`${row.name}: ${diffs.join(', ')} (wasm vs native)`);
  }
  return { checked, mismatches: bad };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const mach = machine();
  const versions = { node: process.version, v8: process.versions.v8 };
  try { versions.chromiumCli = execFileSync(o.chromium, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* reported below */ }
  for (const [p, v] of [['@tensorflow/tfjs-backend-wasm', 'tfjsBackendWasm'], ['onnxruntime-web', 'onnxruntimeWeb'], ['playwright-core', 'playwrightCore']]) {
    try { versions[v] = JSON.parse(fs.readFileSync(path.join(ROOT, 'tools/node_modules', p, 'package.json'), 'utf8')).version; } catch { versions[v] = 'absent'; }
  }
  say(`machine: ${mach.nproc} cores (nproc), ${mach.cpu}; node ${versions.node}; ${versions.chromiumCli || `no browser at ${o.chromium}`}`);

  const results = [];
  const busy = [];
  if (o.node) {
    const snap = await checkIdle('node 1T', busy, o.waitIdle);
    say('node, 1 thread: ours, tfjs-wasm and ort-web in one node process');
    results.push(await runNode(o));
    checkDuring('node 1T', busy, snap);
  }
  let browserVersion = null;
  if (o.browser) {
    // one page per runtime; no page for a peer none of the selected models uses
    const peers = [...new Set(MODELS.filter((m) => !o.models || o.models.includes(m.name)).map((m) => m.peer))]
      .filter((p) => !NODE_ONLY_PEERS.includes(p)); // the TFLite interpreter: node only
    const base = { warmup: o.warmup, runs: o.runs, seed: o.seed, models: o.models, peakSeconds: o.peakSeconds, runtimes: ['ours', ...peers], buildDir: o.buildDir };
    const configs = [];
    if (o.browser1t || o.threads === 1) configs.push({ ...base, label: 'chromium 1T', threads: 1, oursModule: 'veriface-simd' });
    if (o.threads > 1) configs.push({ ...base, label: `chromium ${o.threads}T`, threads: o.threads, oursModule: 'veriface-simd-mt' });
    if (!fs.existsSync(o.chromium)) {
      const msg = `${o.chromium} not found (apt-get install -y chromium, or tools/setup.sh)`;
      say(`chromium: ${msg}`);
      for (const c of configs) results.push({ label: c.label, host: 'chromium', threads: c.threads, error: msg, models: [] });
    } else {
      try {
        const { runBrowser } = await import('./browser-run.mjs');
        const b = await runBrowser({ root: ROOT, buildDir: o.buildDir, executablePath: o.chromium, configs, log: say, timeoutMs: o.timeout * 1000,
          beforePage: (tag) => checkIdle(tag, busy, o.waitIdle), afterPage: (tag, snap) => checkDuring(tag, busy, snap) });
        browserVersion = b.version;
        results.push(...b.results);
      } catch (err) {
        const msg = `browser run failed: ${String(err && err.message || err).split('\n')[0]}`;
        say(msg);
        for (const c of configs) results.push({ label: c.label, host: 'chromium', threads: c.threads, error: msg, models: [] });
      }
    }
  }
  if (browserVersion) versions.chromium = browserVersion;

  const statsCheck = results.find((r) => r.models && r.models.some((m) => m.stats));
  const layout = statsCheck ? checkStats(statsCheck) : { checked: 0, note: 'no model loaded' };

  // ---- report ---------------------------------------------------------------------------
  const out = [];
  out.push(`== bench-wasm: ours vs TF.js wasm (tfjs-backend-wasm ${versions.tfjsBackendWasm}) / ONNX Runtime Web ${versions.onnxruntimeWeb} (wasm), same models, same inputs`);
  out.push(`   machine: ${mach.nproc} cores (nproc), ${mach.cpu}, ${mach.memTotalMiB} MiB; node ${versions.node} (V8 ${versions.v8}); chromium ${versions.chromium || versions.chromiumCli || 'not run'}`);
  out.push(`   ours: ${o.buildDir}/veriface-simd.{mjs,wasm} (1 thread), ${o.buildDir}/veriface-simd-mt.{mjs,wasm} (threads)`);
  out.push(`   inputs: xorshift32 seed ${o.seed} in each model's range (.vfm meta range=lo..hi), NHWC; NCHW copy of the same values for ONNX`);
  out.push(`   timing: performance.now() around one inference (ours: vf_model_invoke; tfjs: execute + dataSync of every output; ort: await session.run)`);
  out.push(`   GF/s = the model's MFLOPs (ours' count, multiply-add = 2) / median; max|diff| = ours vs the peer's outputs on the same input`);
  const peaks = results.filter((r) => r.ours && r.ours.peak).map((r) => `${r.label} ${Number.isFinite(r.ours.peak.gflops) ? r.ours.peak.gflops.toFixed(2) : `n/a (${r.ours.peak.note || '?'})`}`);
  if (peaks.length) out.push(`   peak mul+add (_vf_wasm_peak_gflops, 1 thread, register-only loop, ~${o.peakSeconds} s): ${peaks.join(', ')} GFLOP/s`);
  if (layout.checked) {
    out.push(layout.mismatches.length ? `   vf_model_stats layout check vs build/veriface model-info: MISMATCH: ${layout.mismatches.join('; ')}`
      : `   vf_model_stats layout check: ${layout.checked} models match build/veriface model-info (arena, naive, MFLOPs, ops, meta; weights when the backend is the same)`);
  } else if (layout.note) out.push(`   vf_model_stats layout check: ${layout.note}`);
  for (const r of results) r.busy = busy.filter((b) => b.where === r.label || b.where.startsWith(`${r.label} [`));
  if (busy.length) {
    const where = [...new Set(busy.map((b) => b.where))];
    out.push(`   WARNING: other processes were using the CPU (up to ${Math.max(...busy.map((b) => b.cores))} cores) around ${where.length} of the runs ` +
             `(${where.join(', ')}): those numbers are unreliable; rerun on an idle machine (--wait-idle S)`);
  }
  for (const r of results) { out.push(''); out.push(configTable(r)); }
  const summary = summaryTable(results);
  if (summary) { out.push(''); out.push(summary); }
  console.log(out.join('\n'));

  const failures = [];
  for (const r of results) {
    if (r.error) failures.push(`${r.label}: ${r.error}`);
    for (const m of r.models || []) {
      if (m.ours && m.ours.error) failures.push(`${r.label}: ours ${m.name}: ${m.ours.error}`);
      if (m.peer && m.peer.error) failures.push(`${r.label}: ${m.peerLabel} ${m.name}: ${m.peer.error}`);
    }
  }
  const json = {
    tool: 'tools/bench-wasm', date: new Date().toISOString(), args: { runs: o.runs, warmup: o.warmup, threads: o.threads, seed: o.seed, models: o.models, buildDir: o.buildDir },
    machine: mach, versions, statsLayoutCheck: layout, busy,
    configs: results.map((r) => ({ ...r, sets: setSums(r) })), failures,
  };
  fs.mkdirSync(path.dirname(o.json), { recursive: true });
  fs.writeFileSync(o.json, JSON.stringify(json, null, 1) + '\n');
  const rel = path.relative(process.cwd(), o.json);
  console.log(`\nwrote ${rel.startsWith('..') ? o.json : rel}`);
  if (failures.length) {
    console.log(`failures (${failures.length}):`);
    for (const f of failures) console.log(`  ${f}`);
  }
  // Exit 1 only when our engine or a whole configuration failed; a failing peer is reported only.
  const fatal = results.some((r) => r.error || (r.models || []).some((m) => m.ours && m.ours.error));
  process.exit(fatal ? 1 : 0);
}

main().catch((err) => { console.error(`bench-wasm: ${err && err.stack || err}`); process.exit(1); });
