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
 * A y4m for Chromium's fake camera (yuv420p, 640x480, 15 fps) from real webcam frames of a live
 * person: a dark frame (too_dark), a turned head (turn_head), then a good frontal frame held
 * still. Light temporal noise makes every frame distinct, as from a real sensor (noise: false
 * gives a frozen feed: repeated identical frames).
 */
export function makeY4m(dir, { fps = 15, name = 'camera.y4m', noise = true } = {}) {
  const shots = [['real2_t00.50.jpg', 1], ['real2_t02.87.jpg', 1], ['real2_t05.25.jpg', 3]];
  const args = ['-v', 'error', '-y'];
  for (const [f, s] of shots) args.push('-loop', '1', '-t', String(s), '-i', path.join(FRAMES, f));
  const inputs = shots.map((_, i) => `[${i}:v]scale=640:480,setsar=1[v${i}]`).join(';');
  const cat = shots.map((_, i) => `[v${i}]`).join('');
  args.push('-filter_complex', `${inputs};${cat}concat=n=${shots.length}:v=1:a=0,fps=${fps},${noise ? 'noise=alls=2:allf=t,' : ''}format=yuv420p[out]`,
    '-map', '[out]', '-f', 'yuv4mpegpipe', path.join(dir, name));
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  return path.join(dir, name);
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
    if (!(e === 'net::ERR_ABORTED' && /\.(vfm|wasm)$/.test(r.url()))) problems.push(`request failed: ${r.url()} ${e}`);
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
    await page.route((u) => u.href.startsWith(origin) && !u.pathname.startsWith('/__test__'), async (route) => {
      const res = await route.fetch();
      const headers = { ...res.headers() };
      for (const k of Object.keys(headers)) if (/^cross-origin-(opener|embedder)-policy$/i.test(k)) delete headers[k];
      await route.fulfill({ response: res, headers });
    });
  }
}

export async function getJson(url, headers = {}) {
  const r = await fetch(url, { headers });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* below */ }
  return { status: r.status, body, text };
}
