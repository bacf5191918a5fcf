// harness.mjs - shared by the server tests: start veriface-server on 127.0.0.1 port 0 with a temp
// DB, run vf_client_sim (the browser stand-in), build and sign packages exactly as the web package
// does (WebCrypto ECDSA P-256 over the exact body bytes, P1363 signature, b64url header).
// The store: a SQLite file per server, or with VF_TEST_STORE=postgresql a new database per server
// in the PostgreSQL cluster at VF_PG_URL (tools/pg-cluster run), or, without it, in a throwaway
// cluster this process starts and stops.
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const env = {
  server: process.env.VF_SERVER,
  sim: process.env.VF_CLIENT_SIM,
  dbQuery: process.env.VF_DB_QUERY,
  models: process.env.VF_MODELS,
  padModels: process.env.VF_PAD_MODELS,
  data: process.env.VF_SHARED_DATA,
  cli: process.env.VF_CLI,
};
/** 'sqlite' or 'postgresql': the store every server of this run uses. */
export const backend = process.env.VF_TEST_STORE === 'postgresql' ? 'postgresql' : 'sqlite';
const PG_CLUSTER = fileURLToPath(new URL('../../tools/pg-cluster', import.meta.url));
let pgCluster = null;

/** The URL of the PostgreSQL cluster's `postgres` database: VF_PG_URL, or a cluster of our own. */
export function pgURL() {
  if (pgCluster) return pgCluster;
  if (process.env.VF_PG_URL) return (pgCluster = process.env.VF_PG_URL);
  const dir = mkdtempSync(join(tmpdir(), 'vf-pg-'));
  pgCluster = execFileSync(PG_CLUSTER, ['start', dir], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
  const stop = () => { try { execFileSync(PG_CLUSTER, ['stop', dir], { stdio: 'ignore' }); } catch { /* already gone */ } };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
  return pgCluster;
}

/** A PostgreSQL cluster of the caller's own (tools/pg-cluster), for a test that restarts it:
 *  {url, restart(), stop()}. */
export function ownPgCluster() {
  const dir = mkdtempSync(join(tmpdir(), 'vf-pg-'));
  const run = (cmd) => execFileSync(PG_CLUSTER, [cmd, dir], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
  const url = run('start');
  let stopped = false;
  const stop = () => { if (!stopped) { stopped = true; run('stop'); } };
  process.on('exit', stop);
  return { url, restart: () => run('restart'), stop };
}

/** A new, empty store for a server: a file in `dir`, or a new PostgreSQL database. */
export function newDatabase(dir, cluster = null) {
  if (backend === 'sqlite' && !cluster) return join(dir, 'test.db');
  const base = cluster || pgURL(), name = 'vf_' + randomBytes(8).toString('hex');
  sql(base, `CREATE DATABASE ${name}`);
  return base.replace(/\/[^/]*$/, '/' + name);
}

/** The store's size in bytes (SQLite: the file once its write-ahead log is checkpointed into it;
 *  PostgreSQL: the tables with their indexes and TOAST). */
export function dbBytes(db) {
  if (backend === 'sqlite') { sql(db, 'PRAGMA wal_checkpoint(TRUNCATE)'); return statSync(db).size; }
  return Number(sql(db, "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace" +
    " WHERE n.nspname = 'public' AND c.relkind = 'r'")[0][0]);
}

export const MJPEG = () => join(env.data, 'video/apfol_liveness/real2_640x480_15fps.mjpeg');
export const FRAMES = () => join(env.data, 'pad/apfol_liveness/frames');
export const API_KEY = 'test-key-0123456789abcdef';
/** The page's generic messages (src/server/result.c answer_json): final, retry, challenge. */
export const MESSAGE_FINAL = 'Thank you. Your verification has been received.';
export const MESSAGE_RETRY = 'We could not complete the verification. Please try again.';
export const MESSAGE_STEP = 'One more step: please follow the instructions on the screen.';

/** Exit 77 (ctest skip) when the shared data or the PAD models are absent. */
export function requireData({ pad = true } = {}) {
  if (!env.server || !env.sim) { console.log('SKIP: VF_SERVER / VF_CLIENT_SIM not set'); process.exit(77); }
  if (!env.data || !existsSync(MJPEG()) || !existsSync(FRAMES())) {
    console.log(`SKIP: shared data not found under ${env.data} (../shared/data): server protocol tests skipped`);
    process.exit(77);
  }
  if (pad && !existsSync(join(env.padModels, 'minifasnet-v2-int8.vfm'))) {
    console.log(`SKIP: PAD models not found in ${env.padModels} (tools/fetch-models): no session can approve`);
    process.exit(77);
  }
}

/** Start a server; resolves {port, base, proc, dir, db, stop()} once the ready line is read. */
export async function startServer(config = {}, { threads = 2, extraArgs = [], db: sharedDb = null } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vf-srv-'));
  const db = sharedDb || newDatabase(dir);
  const cfgPath = join(dir, 'config.json');
  const { padModels, ...fileConfig } = config;
  writeFileSync(cfgPath, JSON.stringify({ api_keys: [API_KEY], limits: { per_ip_rate: 0 }, ...fileConfig }));
  const args = ['--config', cfgPath, '--listen', '127.0.0.1:0', '--db', db, '--models', env.models,
    '--pad-models', config.padModels || env.padModels, '--threads', String(threads), '--demo', '--quiet', ...extraArgs];
  const proc = spawn(env.server, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('server did not start in 30 s: ' + stderr)), 30000);
    proc.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const m = /^veriface-server listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(out.slice(0, nl));
      clearTimeout(timer);
      if (m) resolve(Number(m[1])); else reject(new Error('unexpected first line: ' + out.slice(0, nl)));
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${stderr}`)); });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    port, base, proc, dir, db, stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((r) => proc.on('exit', r));
        proc.kill(signal);
        await done;
      }
      return proc.exitCode;
    },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
}

/** A server without rate limits and one capture of the live video (frames 68-72) made with its
 *  session config: what a test of bad packages needs to hand. */
export async function serverWithCapture(config = {}) {
  const srv = await startServer({ ...config, limits: { per_ip_rate: 0, per_session_per_min: 0, ...(config.limits || {}) } });
  const key = await newKey();
  const live = simulate((await createSession(srv, key)).body.config, ['--mjpeg', MJPEG(), '--start', '60', '--max', '40']);
  return { srv, live };
}

/** Run the browser stand-in; returns {models, result, frames:[{index,timestamp,width,height,status,jpeg}]}. */
export function simulate(sessionConfig, sourceArgs, { padModels = env.padModels } = {}) {
  const cfgPath = join(mkdtempSync(join(tmpdir(), 'vf-sim-')), 'session.json');
  writeFileSync(cfgPath, JSON.stringify(sessionConfig));
  const out = execFileSync(env.sim, [env.models, padModels, '--config', cfgPath, ...sourceArgs],
    { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.toString());
}

/** Rows of the (last) SQL statement on a server's database, a file or a postgresql:// URL
 *  (tests/server/vf_db_query); throws on error. */
export function sql(db, query) {
  return JSON.parse(execFileSync(env.dbQuery, [db, query], { stdio: ['ignore', 'pipe', 'pipe'] }).toString());
}

export const b64url = (u8) => Buffer.from(u8).toString('base64url');
export const sha256hex = (b) => createHash('sha256').update(b).digest('hex');

export async function newKey() {
  const k = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const spki = Buffer.from(await globalThis.crypto.subtle.exportKey('spki', k.publicKey)).toString('base64');
  return { ...k, spki };
}

export async function sign(key, bodyBytes) {
  const sig = await globalThis.crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, bodyBytes);
  return b64url(new Uint8Array(sig));
}

export const defaultSignals = () => ({
  camera: { label: 'Integrated Camera', device_id_hash: sha256hex('cam'), settings: { width: 640, height: 480, frameRate: 15 },
    capabilities: null, requested: { width: 640, height: 480 }, probe: null, devices: 1, get_user_media_calls: 1 },
  timing: { frames: 73, mean_ms: 66.7, jitter_ms: 2.0, max_gap_ms: 80, duplicates: 0, claimed_fps: 15, measured_fps: 15.0 },
  environment: { webdriver: false, user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120', headless_ua: false,
    webgl_renderer: 'ANGLE (Intel)', hardware_concurrency: 8, cross_origin_isolated: true },
  page: { visibility_changes: 0, blur_events: 0, hidden_ms: 0 },
});

/**
 * The package of PACKAGE.md section 3, as a string (the exact bytes that get signed). The frame
 * timestamps (epoch ms) are moved to end 30 ms before created_at, their spacing kept, as if the
 * capture had just happened (a simulation is reused for many sessions); `rebase: false` keeps them.
 */
export function buildPackage(session, sim, { nonce = session.nonce, attempt = session.attempt, signals = defaultSignals(),
  mutate = null, createdAt = Date.now(), rebase = true } = {}) {
  const shift = rebase && sim.frames.length ? createdAt - 30 - sim.frames.at(-1).timestamp : 0;
  const frames = sim.frames.map((f) => ({
    index: f.index, timestamp: f.timestamp + shift, width: f.width, height: f.height, mime: 'image/jpeg',
    sha256: sha256hex(Buffer.from(f.jpeg, 'base64')), data: f.jpeg, status: structuredClone(f.status),
  }));
  const pkg = {
    format: 1, session_id: session.session_id, nonce, attempt, created_at: createdAt,
    capture: { started_at: createdAt - 5000, finished_at: createdAt - 100, frames_pushed: sim.result.frames, threaded: false },
    module: { web: '0.1.0', engine: '0.1.0', build: 'native-sim' },
    models: structuredClone(sim.models), result: structuredClone(sim.result), frames, signals,
  };
  if (mutate) mutate(pkg);
  return JSON.stringify(pkg);
}

export async function createSession(srv, key, body = {}, { apiKey = API_KEY, demo = false } = {}) {
  const res = await fetch(srv.base + (demo ? '/demo/sessions' : '/v1/sessions'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(apiKey && !demo ? { Authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ client_public_key: key.spki, ...body }),
  });
  return { status: res.status, body: await res.json() };
}

export async function postResult(srv, sessionId, body, key, { signature = null, headers = {}, integrator = true } = {}) {
  const bytes = Buffer.from(body);
  const sig = signature ?? await sign(key, bytes);
  const res = await fetch(`${srv.base}/v1/sessions/${sessionId}/result`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Veriface-Signature': sig, ...headers }, body: bytes,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* reported by the caller */ }
  const out = { status: res.status, body: json, text };
  // The page's answer never says which check failed (PACKAGE.md section 4): the decision and its
  // reasons are the integrator's, read here as a backend would, with the API key.
  if (integrator && res.status === 200 && json && json.session_id && json.attempt) {
    const d = await getSession(srv, json.session_id);
    const a = d.body.attempts && d.body.attempts.find((x) => x.attempt === json.attempt);
    out.decision = a ? a.decision : null;
    out.detail = a ? a.detail : null;
  }
  return out;
}

export async function getSession(srv, id, apiKey = API_KEY) {
  const res = await fetch(`${srv.base}/v1/sessions/${id}`, { headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {} });
  return { status: res.status, body: await res.json() };
}
