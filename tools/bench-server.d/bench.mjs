// bench.mjs - verify throughput and latency of veriface-server (tools/bench-server runs it).
// For each worker count: start the server on 127.0.0.1 port 0 (temp DB, rate limits off),
// pre-create the sessions (each nonce is single-use), simulate one capture with the client
// stand-in, then post `count` signed packages with `concurrency` in flight, bounded by `seconds`.
// --instances N: N servers on one store, the posts spread over them (each client
// connection with one of them); the store is SQLite, or PostgreSQL with VF_TEST_STORE=postgresql (the harness:
// a throwaway cluster), whose backends' CPU is reported too.
import * as h from '../../tests/server/harness.mjs';
import os from 'node:os';
import { readFileSync } from 'node:fs';

// server CPU seconds (user + system) from /proc: a figure that does not depend on other load
const cpuS = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };

const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const count = Number(arg('--count', 300)), seconds = Number(arg('--seconds', 30));
const threadsList = arg('--threads', '1,2').split(',').map(Number);
const frames = arg('--good-frames', '1').split(',').map(Number);
const instances = Number(arg('--instances', 1));
h.requireData();

const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(p / 100 * a.length))];

// CPU seconds of the PostgreSQL backends serving this database (0 for SQLite: in the server's own)
const storeCpuS = (db) => h.backend === 'sqlite' ? 0
  : h.sql(db, 'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
    .reduce((a, [pid]) => a + cpuS(pid), 0);

async function run(threads, goodFrames) {
  const cfg = { session: { good_frames: goodFrames, liveness_frames: Math.min(3, goodFrames) }, limits: { per_ip_rate: 0, per_session_per_min: 0 } };
  const srv = await h.startServer(cfg, { threads });
  const all = [srv];
  for (let i = 1; i < instances; i++) all.push(await h.startServer(cfg, { threads, db: srv.db }));
  try {
    const key = await h.newKey();
    const s0 = await h.createSession(srv, key);
    const sim = h.simulate(s0.body.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
    const warm = 10, n = count + warm;
    const sessions = [];
    for (let i = 0; i < n; i++) sessions.push((await h.createSession(srv, key)).body);
    const bodies = await Promise.all(sessions.map(async (s) => {
      const b = Buffer.from(h.buildPackage(s, sim));
      return { s, b, sig: await h.sign(key, b) };
    }));
    const post = async ({ s, b, sig }, to) => {
      const t = performance.now();
      const r = await fetch(`${to.base}/v1/sessions/${s.session_id}/result`, { method: 'POST', body: b,
        headers: { 'Content-Type': 'application/json', 'X-Veriface-Signature': sig } });
      const j = await r.json();
      if (r.status !== 200) throw new Error(`status ${r.status}: ${JSON.stringify(j)}`);
      return { ms: performance.now() - t, decision: j.final ? "final" : "retry" };   // the page's answer names no decision
    };
    for (let i = 0; i < warm; i++) await post(bodies[i], all[i % all.length]);
    const concurrency = threads * 2 * all.length, lat = [], decisions = {};
    let next = warm;
    const serversCpu = () => all.reduce((a, x) => a + cpuS(x.proc.pid), 0);
    const t0 = performance.now(), deadline = t0 + seconds * 1000, c0 = serversCpu(), d0 = storeCpuS(srv.db);
    // each client connection stays with one instance, as behind a balancer (no instance gets more
    // than its admission limit, 2 x workers, in flight)
    await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
      while (next < n && performance.now() < deadline) {
        const r = await post(bodies[next++], all[w % all.length]);
        lat.push(r.ms);
        decisions[r.decision] = (decisions[r.decision] || 0) + 1;
      }
    }));
    const wall = (performance.now() - t0) / 1000, cpu = serversCpu() - c0, dbCpu = storeCpuS(srv.db) - d0;
    lat.sort((a, b) => a - b);
    return { threads, goodFrames, requests: lat.length, concurrency, rps: lat.length / wall, p50: pct(lat, 50), p99: pct(lat, 99),
      bytes: bodies[0].b.length, decisions, cpuMs: cpu * 1000 / lat.length, dbMs: dbCpu * 1000 / lat.length };
  } finally {
    for (const x of all) { await x.stop(); x.cleanup(); }
  }
}

console.log(`machine: ${os.cpus().length} x ${os.cpus()[0].model}, node ${process.version}, loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`store: ${h.backend}, ${instances} instance(s)`);
console.log('| instances x workers | frames/package | body KiB | in flight | requests | req/s | p50 ms | p99 ms | server CPU ms/req | store CPU ms/req | decisions |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const g of frames) {
  for (const t of threadsList) {
    const r = await run(t, g);
    console.log(`| ${instances} x ${r.threads} | ${r.goodFrames} | ${(r.bytes / 1024).toFixed(0)} | ${r.concurrency} | ${r.requests} | ${r.rps.toFixed(1)} | ` +
      `${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpuMs.toFixed(1)} | ${h.backend === 'sqlite' ? 'in server' : r.dbMs.toFixed(1)} | ${JSON.stringify(r.decisions)} |`);
  }
}
console.log(`loadavg after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
