// soak.mjs - a bounded soak of veriface-server past its capacity (tools/bench-server --soak [MINUTES]).
// 1. Start the server on loopback (temp DB, rate limits off, nonce and session lifetimes of an hour).
// 2. Capacity: valid signed 5-frame packages posted closed-loop with 2 x workers in flight for
//    --capacity-seconds; their p50/p99 are the unloaded latency.
// 3. Soak: open loop at --load x capacity (2) for MINUTES (10), each post a new connection from one
//    of 16 loopback addresses (many clients); sessions are created alongside (a 503 leaves its
//    session unused: it is used again). Reported: answers by status and code, p50/p99 of the
//    accepted ones (per minute and overall), the 503s, client-side errors, and the server's RSS
//    and open descriptors (/proc) at start, every 30 s, at the end, and idle again after.
// Done when: no 5xx but the intended 503s, RSS at the end within 10% of the start, descriptors
// back to the idle count.
import * as h from '../../tests/server/harness.mjs';
import { httpRequest, rssBytes, fdCount, sleep } from '../../tests/server/raw.mjs';
import os from 'node:os';
import { statSync } from 'node:fs';

const argv = process.argv.slice(2);
const arg = (k, d) => { const i = argv.indexOf(k); return i >= 0 && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[i + 1] : d; };
const minutes = Number(arg('--soak', 10));
const capacitySeconds = Number(arg('--capacity-seconds', 30));
const load = Number(arg('--load', 2));
const threads = Number(arg('--threads', 2));
const goodFrames = Number(arg('--good-frames', 5));
h.requireData();

const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p / 100 * a.length))] : NaN);
const MiB = (b) => (b / 1048576).toFixed(1);
const log = (...a) => console.log(...a);

log(`machine: ${os.cpus().length} x ${os.cpus()[0].model}, node ${process.version}, loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const srv = await h.startServer({ session: { good_frames: goodFrames, liveness_frames: Math.min(3, goodFrames), session_ttl: 3600 },
  limits: { per_ip_rate: 0, per_session_per_min: 0, nonce_ttl: 3600 } }, { threads });
const pid = srv.proc.pid;
let stopping = false;
try {
  const key = await h.newKey();
  const s0 = await h.createSession(srv, key);
  const sim = h.simulate(s0.body.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
  if (sim.frames.length !== goodFrames) throw new Error(`the capture kept ${sim.frames.length} frames, not ${goodFrames}`);

  // sessions and their signed packages, made alongside (two at a time) so there are always some
  // ready; a package refused with 503 changed nothing and is posted again later as it is
  const pool = [];
  let created = 0, producing = true, createErrors = 0;
  const producer = Promise.all([0, 1].map(async () => {
    while (producing) {
      if (pool.length >= 300) { await sleep(20); continue; }
      const r = await h.createSession(srv, key).catch(() => null);
      if (r?.status !== 201) { createErrors++; await sleep(100); continue; }
      const b = Buffer.from(h.buildPackage(r.body, sim));
      pool.push({ s: r.body, b, sig: await h.sign(key, b), made: Date.now() });
      created++;
    }
  }));
  while (pool.length < 200) await sleep(50);

  let addr = 0;
  const post = async ({ s, b, sig }) => {
    const t0 = performance.now();
    const r = await httpRequest(srv.port, 'POST', `/v1/sessions/${s.session_id}/result`, { body: b, timeout: 120000,
      headers: { 'X-Veriface-Signature': sig }, localAddress: `127.0.5.${1 + (addr++ % 16)}` });
    const a = r.answer;
    return { status: a?.status ?? 0, code: a?.json?.error?.code ?? a?.json?.decision ?? (a?.status === 200 ? 'decided' : r.error ?? 'no answer'),
      retryAfter: a?.headers['retry-after'], ms: performance.now() - t0 };
  };

  // ---- capacity: closed loop, 2 x workers in flight ------------------------------------------
  const capLat = [], capCodes = {};
  let capN = 0;
  const warm = 2 * threads;
  for (let i = 0; i < warm; i++) { while (!pool.length) await sleep(10); await post(pool.shift()); }
  const c0 = performance.now(), cEnd = c0 + capacitySeconds * 1000;
  await Promise.all(Array.from({ length: 2 * threads }, async () => {
    while (performance.now() < cEnd) {
      while (!pool.length) await sleep(5);
      const r = await post(pool.shift());
      capCodes[`${r.status} ${r.code}`] = (capCodes[`${r.status} ${r.code}`] || 0) + 1;
      if (r.status === 200) { capLat.push(r.ms); capN++; }
    }
  }));
  const capacity = capN / ((performance.now() - c0) / 1000);
  capLat.sort((a, b) => a - b);
  const unloaded = { p50: pct(capLat, 50), p99: pct(capLat, 99) };
  log(`capacity: ${capacity.toFixed(1)} packages/s (${capN} in ${capacitySeconds} s, ${2 * threads} in flight, ${threads} workers, ` +
    `${goodFrames} frames); p50 ${unloaded.p50.toFixed(0)} ms, p99 ${unloaded.p99.toFixed(0)} ms; answers ${JSON.stringify(capCodes)}`);

  // ---- soak: open loop at load x capacity ---------------------------------------------------
  await sleep(3000);   // idle: connections of the capacity run closed
  const idle = { rss: rssBytes(pid), fds: fdCount(pid) };
  const rate = load * capacity, interval = 1000 / rate, t0 = performance.now(), tEnd = t0 + minutes * 60000;
  log(`soak: ${rate.toFixed(1)} posts/s (${load} x capacity) for ${minutes} min; idle before: RSS ${MiB(idle.rss)} MiB, ${idle.fds} fds`);
  const codes = {}, perMinute = [], samples = [];
  const accepted = [];
  let outstanding = 0, maxOutstanding = 0, starved = 0, sent = 0, skipped = 0;
  const inflight = new Set();
  const sampler = setInterval(() => {
    const s = { t: (performance.now() - t0) / 1000, rss: rssBytes(pid), fds: fdCount(pid), outstanding };
    samples.push(s);
    if (samples.length % 2 === 0)
      log(`  ${s.t.toFixed(0)} s: RSS ${MiB(s.rss)} MiB, ${s.fds} fds, ${outstanding} outstanding, pool ${pool.length}, ${JSON.stringify(codes)}`);
  }, 15000);
  let next = t0;
  while (performance.now() < tEnd) {
    const now = performance.now();
    if (now < next) { await sleep(Math.min(next - now, 50)); continue; }
    next += interval;
    if (outstanding >= 1000) { skipped++; continue; }          // the client's own bound
    if (!pool.length) { starved++; continue; }
    const s = pool.shift();
    outstanding++;
    maxOutstanding = Math.max(maxOutstanding, outstanding);
    sent++;
    const minute = Math.floor((now - t0) / 60000);
    const p = post(s).then((r) => {
      const k = `${r.status} ${r.code}`;
      codes[k] = (codes[k] || 0) + 1;
      (perMinute[minute] ||= { ok: [], shed: 0, n: 0 }).n++;
      if (r.status === 200) { accepted.push(r.ms); perMinute[minute].ok.push(r.ms); }
      if (r.status === 503) {   // untouched: posted again later while its created_at is recent
        perMinute[minute].shed++;
        if (Date.now() - s.made < 120000) pool.push(s);
      }
    }).finally(() => { outstanding--; inflight.delete(p); });
    inflight.add(p);
  }
  const endLoad = { rss: rssBytes(pid), fds: fdCount(pid) };
  await Promise.all(inflight);
  clearInterval(sampler);
  producing = false;
  await producer;
  await sleep(5000);   // idle again
  const after = { rss: rssBytes(pid), fds: fdCount(pid) };

  // ---- report ------------------------------------------------------------------------------
  accepted.sort((a, b) => a - b);
  const by = (f) => Object.entries(codes).filter(([k]) => f(Number(k.split(' ')[0]))).reduce((n, [, v]) => n + v, 0);
  const shed = by((st) => st === 503), serverErrors = by((st) => st >= 500 && st !== 503), clientErrors = by((st) => st === 0);
  const maxRss = Math.max(...samples.map((s) => s.rss), endLoad.rss);
  log('\n| minute | posts | accepted | 503 | accepted p50 ms | accepted p99 ms |\n|---|---|---|---|---|---|');
  perMinute.forEach((m, i) => {
    if (!m) return;
    m.ok.sort((a, b) => a - b);
    log(`| ${i + 1} | ${m.n} | ${m.ok.length} | ${m.shed} | ${pct(m.ok, 50).toFixed(0)} | ${pct(m.ok, 99).toFixed(0)} |`);
  });
  log(`\nanswers: ${JSON.stringify(codes)}`);
  log(`posts ${sent} (${(sent / (minutes * 60)).toFixed(1)}/s), accepted ${accepted.length} (${(accepted.length / (minutes * 60)).toFixed(1)}/s), ` +
    `503 ${shed}, other 5xx ${serverErrors}, no answer ${clientErrors}; client: starved of sessions ${starved}, over its bound ${skipped}, ` +
    `max outstanding ${maxOutstanding}; sessions created ${created} (errors ${createErrors})`);
  log(`latency: unloaded p50 ${unloaded.p50.toFixed(0)} ms p99 ${unloaded.p99.toFixed(0)} ms; accepted under load p50 ` +
    `${pct(accepted, 50).toFixed(0)} ms p99 ${pct(accepted, 99).toFixed(0)} ms (${(pct(accepted, 99) / unloaded.p99).toFixed(2)} x unloaded p99)`);
  log(`server RSS: idle before ${MiB(idle.rss)} MiB, end of load ${MiB(endLoad.rss)} MiB (${((endLoad.rss / idle.rss - 1) * 100).toFixed(1)}%), ` +
    `max ${MiB(maxRss)} MiB, idle after ${MiB(after.rss)} MiB (${((after.rss / idle.rss - 1) * 100).toFixed(1)}%)`);
  log(`server fds: idle before ${idle.fds}, end of load ${endLoad.fds}, max ${Math.max(...samples.map((s) => s.fds))}, idle after ${after.fds}`);
  let db = 0;
  try { db = statSync(srv.db).size + statSync(srv.db + '-wal').size; } catch { /* no WAL */ }
  log(`database: ${MiB(db)} MiB; loadavg after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const rssFlat = Math.abs(after.rss / idle.rss - 1) <= 0.10 && Math.abs(endLoad.rss / idle.rss - 1) <= 0.10;
  const ok = serverErrors === 0 && rssFlat && after.fds === idle.fds;
  log(`done-when: server errors ${serverErrors} (want 0), RSS flat within 10% ${rssFlat}, fds back to idle ${after.fds === idle.fds}` +
    ` -> ${ok ? 'PASS' : 'FAIL'}`);
  stopping = true;
  process.exitCode = ok ? 0 : 1;
} finally {
  await srv.stop();
  if (!stopping) console.log(srv.stderr());
  srv.cleanup();
}
