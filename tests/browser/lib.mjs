// lib.mjs - shared set-up of the browser tests: what to skip, the fake-camera .y4m (ffmpeg, from
// real webcam frames, in a temp dir), the real veriface-server serving build/web, and Debian's
// chromium driven by playwright-core (from tools/node_modules; never `npx playwright install`).
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DATA = process.env.VF_DATA || path.resolve(ROOT, '../shared/data');
export const FRAMES = path.join(DATA, 'pad/apfol_liveness/frames');
export const CHROMIUM = process.env.VF_CHROMIUM || '/usr/bin/chromium';
export const SERVER = path.resolve(ROOT, process.env.VF_SERVER || 'build/veriface-server');
export const WEB = path.resolve(ROOT, process.env.VF_WEB || 'build/web');
export const ARTIFACTS = path.join(ROOT, 'build/test-artifacts');
export const API_KEY = 'browser-test-key-0123456789';   // the server wants 16..127 characters

/** Why the browser suite cannot run here, or null. */
export function skipReason() {
  if (!fs.existsSync(FRAMES)) return `${FRAMES} not found (shared data absent)`;
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install chromium)`;
  if (!fs.existsSync(SERVER)) return `server binary ${SERVER} not found (build it, or set VF_SERVER)`;
  if (!fs.existsSync(path.join(WEB, 'pkg/src/index.js'))) return `${WEB} not assembled (run tools/build-web)`;
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return 'ffmpeg not found';
  try { loadPlaywright(); } catch { return 'playwright-core not installed in tools/node_modules (npm ci --prefix tools)'; }
  return null;
}

export function loadPlaywright() {
  return createRequire(path.join(ROOT, 'tools/package.json'))('playwright-core');
}

export function tempDir() { return fs.mkdtempSync(path.join(os.tmpdir(), 'vf-browser-')); }

/**
 * A y4m for Chromium's fake camera (yuv420p, 640x480, 15 fps) from the video of a live person
 * (real2.webm): dark frames (too_dark), a turned head (turn_head), then the frontal segment back
 * and forth (good frames). A live camera never repeats a frame: the video's own motion and sensor
 * noise with a seed of its own per file (a second capture must not send the first one's frames,
 * which the server refuses as replayed). noise: false gives a frozen feed instead: one still
 * repeated (the server refuses its duplicates).
 */
export function makeY4m(dir, { fps = 15, name = 'camera.y4m', noise = true, seed = Date.now() % 100000, second = false } = {}) {
  if (!noise) {
    const args = ['-v', 'error', '-y', '-loop', '1', '-t', '3', '-i', path.join(FRAMES, 'real2_t05.25.jpg'),
      '-vf', `scale=640:480,setsar=1,fps=${fps},format=yuv420p`, '-f', 'yuv4mpegpipe', path.join(dir, name)];
    const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
    return path.join(dir, name);
  }
  // second: another stretch of good frames (4.6-6.0 s), for a second capture that must not show
  // the first one's frames again (the server compares captures, noise or not)
  const good = second ? { start: 4.6, end: 6.0 } : FRONTAL;
  const parts = [{ start: 0.40, end: 0.75, slow: 1 }, { start: 2.55, end: 3.0, slow: 1 }];
  for (let i = 0; i < 4; i++) parts.push({ ...good, reverse: i % 2 === 1, slow: 1 });
  return writeParts(dir, name, parts, fps, seed);
}

/** The parts of real2.webm as one y4m: each part on its own (one ffmpeg graph with split + trim +
 *  concat over this variable-frame-rate file repeats frames), then the streams joined. */
function writeParts(dir, name, parts, fps, seed) {
  const chunks = [];
  parts.forEach((p, i) => {
    const vf = `trim=start=${p.start}:end=${p.end},setpts=(PTS-STARTPTS)*${p.slow},fps=${fps}${p.reverse ? ',reverse' : ''},` +
      `scale=640:480,setsar=1,noise=alls=2:allf=t:all_seed=${seed + i},format=yuv420p`;
    const r = spawnSync('ffmpeg', ['-v', 'error', '-i', VIDEO, '-vf', vf, '-r', String(fps), '-f', 'yuv4mpegpipe', '-'],
      { maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
    const nl = r.stdout.indexOf(0x0a);
    if (i === 0) chunks.push(r.stdout.subarray(0, nl + 1));
    chunks.push(r.stdout.subarray(nl + 1));
  });
  const out = path.join(dir, name);
  fs.writeFileSync(out, Buffer.concat(chunks));
  return out;
}

export const VIDEO = path.join(DATA, 'video/apfol_liveness/real2.webm');

/**
 * Segments of real2.webm (a live person turning left, right, up and down; variable frame rate,
 * times in s) for a fake camera that answers an active challenge, found with `build/veriface
 * analyze` on every frame (yaw > 0 = the subject's left, pitch > 0 = chin up; the server's pose
 * classes: |yaw| >= 18 left/right first, then |pitch| >= 12 up/down, both < 10 centre):
 * - frontal 10.18-11.04: yaw -8.6..+9.9, pitch -4..-7, every frame good (the passive frames)
 * - left 8.38-9.18: yaw +23..+31 at 8.38-8.84, back to +3 (centre) at 9.11-9.18
 * - right 1.64-2.24: centre (yaw +5..-8) at 1.64-1.70, then yaw -19..-27, pitch -3..-9
 * - up 0.53-0.87: centre at 0.53-0.70, then pitch +13..+21 with yaw +9..+13 (past 0.90 the
 *   yaw passes 18: the server would see "left")
 * - down 4.37-4.64: pitch -26..-15 with yaw -8..+6 at 4.37-4.50, centre at 4.64
 * Each step plays its segment out and back (the head turns, then comes back to the centre), up
 * and down slowed down 2.5x (in the video they last a fifth of a second).
 */
const STEP_SEGMENTS = {
  left: { start: 8.376, end: 9.18, from: 'end', slow: 1 },
  right: { start: 1.636, end: 2.24, from: 'start', slow: 1 },
  up: { start: 0.532, end: 0.87, from: 'start', slow: 2.5 },
  down: { start: 4.372, end: 4.645, from: 'end', slow: 2.5 },
};
const FRONTAL = { start: 10.176, end: 11.05 };

/**
 * A y4m (640x480, yuv420p, 15 fps, light temporal noise) of a live person answering `steps`:
 * ~2.6 s facing the camera (forward, back and forward over the frontal segment), then each step's turn and
 * return in order. Chromium's fake camera plays it from the start when the page opens the camera,
 * then loops.
 */
export function makeChallengeY4m(dir, steps, { fps = 15, name = `challenge-${steps.join('-')}.y4m`, frontalPasses = 3 } = {}) {
  const parts = [];
  for (let i = 0; i < frontalPasses; i++) parts.push({ ...FRONTAL, reverse: i % 2 === 1, slow: 1 });
  for (const s of steps) {
    const g = STEP_SEGMENTS[s];
    if (!g) throw new Error(`no segment for step ${s}`);
    parts.push({ ...g, reverse: g.from === 'end' }, { ...g, reverse: g.from !== 'end' });
  }
  return writeParts(dir, name, parts, fps, 1000 + Math.floor(Math.random() * 90000));
}

/** A short mp4 of the same frames, for the demo's upload panel. */
export function makeMp4(dir, y4m) {
  const out = path.join(dir, 'upload.webm');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', y4m, '-c:v', 'libvpx', '-b:v', '2M', '-an', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  return out;
}

/**
 * Start the server on an ephemeral 127.0.0.1 port; resolves to { url, stop(), log() } once it
 * prints its "listening on" line. VF_SERVER may also be a node script (development stand-in).
 */
export async function startServer(dir, extra = [], { staticDir = WEB } = {}) {
  const args = ['--listen', '127.0.0.1:0', '--db', path.join(dir, 'veriface.db'), '--static', staticDir, '--demo',
    '--models', path.join(ROOT, 'models'), '--pad-models', path.join(ROOT, 'build/models'), '--api-key', API_KEY, ...extra];
  const [cmd, argv] = SERVER.endsWith('.mjs') ? [process.execPath, [SERVER, ...args]] : [SERVER, args];
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${out}`)), 30000);
    const check = () => {
      const m = out.match(/veriface-server listening on (http:\/\/[^\s]+)/);
      if (m) { clearTimeout(t); resolve(m[1].replace(/\/$/, '')); }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`server exited (${code}):\n${out}`)); });
  });
  return {
    url,
    log: () => out,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => { if (child.exitCode === null) child.kill('SIGKILL'); }, 5000);
    }),
  };
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'];

export async function launchChromium(y4m) {
  const { chromium } = loadPlaywright();
  return chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: [...CHROMIUM_ARGS, `--use-file-for-fake-video-capture=${y4m}`] });
}

/** Collect a page's console errors, page errors and failed responses. */
export function watchPage(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  // Chromium reports worker fetches read through a body stream (the progress callback) as
  // ERR_ABORTED to the devtools protocol although every byte arrives (the engine checks the model
  // hashes); other failures count.
  page.on('requestfailed', (r) => {
    const e = r.failure() && r.failure().errorText;
    if (!(e === 'net::ERR_ABORTED' && /\.(vfm|wasm)(\?|$)/.test(r.url()))) problems.push(`request failed: ${r.url()} ${e}`);
  });
  return problems;
}

/**
 * Serve a blank page at `${origin}/__test__.html` (Playwright answers it; everything else comes from
 * the server). isolated=false also strips COOP/COEP from every server response, so the page is
 * not cross-origin isolated.
 */
export async function routeTestPage(page, origin, { isolated = true } = {}) {
  const coi = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  await page.route(`${origin}/__test__.html`, (route) => route.fulfill({
    status: 200, contentType: 'text/html', headers: isolated ? coi : {}, body: '<!doctype html><title>veriface test</title><body></body>',
  }));
  if (!isolated) {
    const limit = perHost();
    await page.route((u) => u.href.startsWith(origin) && !u.pathname.startsWith('/__test__'), async (route) => {
      const res = await limit(() => route.fetch());
      const headers = { ...res.headers() };
      for (const k of Object.keys(headers)) if (/^cross-origin-(opener|embedder)-policy$/i.test(k)) delete headers[k];
      await route.fulfill({ response: res, headers });
    });
  }
}

/**
 * At most 6 of a page's requests at once through route.fetch, as a browser keeps per host:
 * Playwright's own client has no such limit, and a page that preloads 20 files would open 20
 * connections from one address (the server caps them per address: 503 busy).
 */
export function perHost(n = 6) {
  let active = 0;
  const waiting = [];
  return async (fn) => {
    while (active >= n) await new Promise((r) => waiting.push(r));
    active++;
    try { return await fn(); } finally { active--; waiting.shift()?.(); }
  };
}

export async function getJson(url, headers = {}) {
  const r = await fetch(url, { headers });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* below */ }
  return { status: r.status, body, text };
}

/** The server's Content-Security-Policy of pages and scripts (docs/SERVER.md; issue 14). */
export const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; frame-ancestors 'none'; " +
  "base-uri 'none'; form-action 'self'";

/**
 * Watch a page under the server's policy: every page or script of `origin` must come with exactly
 * `expect`; the page gets `serve` (by default the same) plus a report-uri back to the test, so that a
 * violation in the page or in any of its workers (which the page never sees) is reported. Returns
 * the list that collects the reports and any header that differs.
 */
export async function watchCsp(page, origin, { expect = POLICY, serve = expect } = {}) {
  const found = [];
  const report = '/__csp_report__';
  const limit = perHost();
  await page.route((u) => u.origin === origin && u.pathname !== report, async (route) => {
    const res = await limit(() => route.fetch());
    const headers = { ...res.headers() };
    if (/^text\/(html|javascript)/.test(headers['content-type'] || '')) {
      if (headers['content-security-policy'] !== expect) found.push(`${route.request().url()}: CSP ${headers['content-security-policy']}`);
      headers['content-security-policy'] = `${serve}; report-uri ${report}`;
    }
    await route.fulfill({ response: res, headers });
  });
  await page.route(`${origin}${report}`, (route) => {
    found.push(`CSP violation: ${route.request().postData()}`);
    return route.fulfill({ status: 204 });
  });
  return found;
}

export const AXE = path.join(ROOT, 'tools/node_modules/axe-core/axe.min.js');

/**
 * axe-core on the page as it is now (open shadow roots included; injected through the DevTools
 * protocol, which the page's CSP does not govern): the serious and critical violations as
 * "rule (impact): targets", and the count of every violation by impact.
 */
export async function axe(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(fs.readFileSync(AXE, 'utf8'));
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  const byImpact = {};
  for (const v of r.violations) byImpact[v.impact] = (byImpact[v.impact] || 0) + 1;
  return { bad, byImpact, ids: r.violations.map((v) => `${v.id}:${v.impact}`) };
}
