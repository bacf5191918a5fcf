// browser-run.mjs - run configurations in headless Debian Chromium driven by playwright-core:
// start server.mjs (COOP/COEP), and for each configuration open one fresh page per runtime (ours,
// tfjs, ort: an idle runtime's threads cannot take a core from the one being timed, and each gets
// fresh global state), call window.benchRun(unit) in it, collect the result, the .wasm files the
// page fetched and its console, then merge the units into one result per configuration.
// Never `npx playwright install`: it drives /usr/bin/chromium.
import { startServer } from './server.mjs';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * configs: [{ label, threads, oursModule, warmup, runs, seed, models, peakSeconds, runtimes }]
 * Returns { version, results: [merged result per config] }; throws only if the browser or the
 * server cannot start at all (a failing page is recorded in its result).
 */
export async function runBrowser({ root, buildDir = 'build-wasm', executablePath, configs, log, timeoutMs, beforePage, afterPage }) {
  const { chromium } = await import('playwright-core');
  const server = await startServer(root, 0, buildDir === 'build-wasm' ? [] : [`${buildDir}/veriface-simd.`, `${buildDir}/veriface-simd-mt.`]);
  let browser;
  try {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
    const version = browser.version();
    log(`chromium ${version} (${executablePath}), page ${server.url}`);
    const results = [];
    for (const cfg of configs) {
      const units = [];
      for (const rt of cfg.runtimes || ['ours', 'tfjs', 'ort']) {
        const snap = beforePage ? await beforePage(`${cfg.label} [${rt}]`) : null;
        // afterPage runs before the page closes: its renderer's CPU time still counts as ours
        const done = afterPage ? () => afterPage(`${cfg.label} [${rt}]`, snap) : () => {};
        units.push(await runPage(browser, server, { ...cfg, runtimes: [rt], unit: rt }, log, timeoutMs, done));
      }
      results.push(mergeUnits(cfg, units));
    }
    return { version, results };
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.close();
  }
}

/** One page, one unit (one runtime of one configuration). */
async function runPage(browser, server, cfg, log, timeoutMs, done) {
  const tag = `${cfg.label} [${cfg.unit}]`;
  const page = await browser.newPage();
  const wasmFetched = [];
  const pageErrors = [];
  const pageWarnings = [];
  page.on('request', (r) => { const u = r.url(); if (/\.wasm($|\?)/.test(u)) wasmFetched.push(u.replace(server.url, '')); });
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith('[bench] ')) log(t.slice(8));
    else if (m.type() === 'error' || m.type() === 'warning') { pageWarnings.push(t); log(`${tag}: page ${m.type()}: ${t}`); }
  });
  page.on('response', (r) => { if (r.status() >= 400) log(`${tag}: HTTP ${r.status()} for ${r.url().replace(server.url, '/')}`); });
  page.on('pageerror', (e) => { pageErrors.push(String((e && e.message) || e)); log(`${tag}: page error: ${(e && e.message) || e}`); });
  try {
    await page.goto(`${server.url}tools/bench-wasm.d/page.html`, { waitUntil: 'load' });
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 20000 })
      .catch((e) => { throw new Error(`bench page did not start${pageErrors.length ? `: ${pageErrors[0]}` : ''} (${e.message.split('\n')[0]})`); });
    let timer;
    const watchdog = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs); });
    const result = await Promise.race([page.evaluate((c) => window.benchRun(c), cfg), watchdog]).finally(() => { clearTimeout(timer); done(); });
    return Object.assign(result, { unit: cfg.unit, wasmFetched: [...new Set(wasmFetched)], pageErrors, pageWarnings: [...new Set(pageWarnings)] });
  } catch (e) {
    const msg = String((e && e.message) || e).split('\n')[0];
    log(`${tag}: FAILED: ${msg}`);
    return { unit: cfg.unit, label: cfg.label, error: msg, pageErrors, pageWarnings, wasmFetched, models: [] };
  } finally {
    await page.close().catch(() => {});
  }
}

/** Merge the per-runtime units of one configuration into one result shaped like node's. */
export function mergeUnits(cfg, units) {
  const by = Object.fromEntries(units.map((u) => [u.unit, u]));
  const base = units.find((u) => !u.error && u.models && u.models.length) || units[0];
  const out = {
    label: cfg.label, host: 'chromium', threads: cfg.threads, warmup: cfg.warmup, runs: cfg.runs, seed: cfg.seed,
    isolation: 'one page per runtime', env: base && base.env, ref: base && base.ref, peers: {}, notes: [], units: {},
  };
  for (const u of units) {
    out.units[u.unit] = { wasmFetched: u.wasmFetched, workers: u.workers, pageErrors: u.pageErrors, pageWarnings: u.pageWarnings, env: u.env, error: u.error };
    out.notes.push(...(u.notes || []));
    for (const [k, v] of Object.entries(u.peers || {})) out.peers[k] = v;
    // A peer page that failed as a whole is reported like a peer that failed to load.
    if (u.error && u.unit !== 'ours' && !out.peers[u.unit]) out.peers[u.unit] = { error: `page failed: ${u.error}` };
  }
  if (by.ours) out.ours = by.ours.ours || { module: cfg.oursModule, threads: cfg.threads, error: by.ours.error };
  out.models = (base.models || []).map((row) => {
    const m = { ...row, ours: {}, peer: {} };
    delete m.ratio;
    const o = by.ours && (by.ours.models || []).find((r) => r.name === row.name);
    if (o) m.ours = o.ours;
    else if (by.ours) m.ours = { error: by.ours.error || 'not run' };
    const pu = by[row.peerKind];
    const p = pu && (pu.models || []).find((r) => r.name === row.name);
    if (p) m.peer = p.peer;
    else if (pu) m.peer = { error: pu.error || 'not run' };
    if (m.ours.median > 0 && m.peer.median > 0) m.ratio = m.peer.median / m.ours.median;
    return m;
  });
  if (by.ours && by.ours.error) out.error = `ours page: ${by.ours.error}`;
  return out;
}
