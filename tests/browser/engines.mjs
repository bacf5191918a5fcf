// engines.mjs - one small driver over the three browser engines the package must run in, for any
// browser test (reusable: launchEngine + a page with goto/evaluate/waitFor/press/screenshot):
//   chromium  Debian's chromium through playwright-core (CDP)
//   firefox   Debian's firefox-esr through puppeteer-core over WebDriver BiDi
//   webkit    WebKitGTK's MiniBrowser through WebKitWebDriver (webkit2gtk-driver) and
//             selenium-webdriver, on a private Xvfb display when there is no DISPLAY
// Every binary is Debian's (tools/setup.sh installs them); nothing is downloaded. An engine that
// is absent is reported by engineSkip() so a test can skip it with the reason. Also here: the test
// proxy (test pages, fake-camera frames, COOP/COEP on or off in front of the real server) and the
// fake camera's frames.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import * as lib from './lib.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'];
const FIREFOX = process.env.VF_FIREFOX || '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = process.env.VF_WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.VF_MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const toolsRequire = createRequire(path.join(lib.ROOT, 'tools/package.json'));

const has = (m) => { try { toolsRequire.resolve(m); return true; } catch { return false; } };

/** Why `name` cannot run here (binary or driver package absent), or null. VF_ENGINES=a,b limits the set. */
export function engineSkip(name) {
  const only = process.env.VF_ENGINES;
  if (only && !only.split(',').includes(name)) return `not in VF_ENGINES=${only}`;
  if (name === 'chromium') {
    if (!fs.existsSync(lib.CHROMIUM)) return `${lib.CHROMIUM} not found (apt-get install chromium)`;
    if (!has('playwright-core')) return 'playwright-core not installed (npm ci --prefix tools)';
  } else if (name === 'firefox') {
    if (!fs.existsSync(FIREFOX)) return `${FIREFOX} not found (apt-get install firefox-esr)`;
    if (!has('puppeteer-core')) return 'puppeteer-core not installed (npm ci --prefix tools)';
  } else if (name === 'webkit') {
    if (!fs.existsSync(WEBKIT_DRIVER)) return `${WEBKIT_DRIVER} not found (apt-get install webkit2gtk-driver)`;
    if (!fs.existsSync(MINIBROWSER)) return `${MINIBROWSER} not found (apt-get install webkit2gtk-driver)`;
    if (!process.env.DISPLAY && spawnSync('Xvfb', ['-help']).error) return 'no DISPLAY and no Xvfb (apt-get install xvfb)';
    if (!has('selenium-webdriver')) return 'selenium-webdriver not installed (npm ci --prefix tools)';
  } else {
    return `unknown engine ${name}`;
  }
  return null;
}

const KEYS = { Tab: 'Tab', Enter: 'Enter', Escape: 'Escape', ArrowDown: 'ArrowDown' };

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitPort(port, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} did not listen on ${port} in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Poll fn(arg) in the page until truthy (the same in every engine: no engine-specific waits). */
async function poll(page, fn, arg, timeoutMs, interval = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await page.evaluate(fn, arg);
    if (v) return v;
    if (Date.now() > end) throw new Error(`waitFor timed out after ${timeoutMs} ms: ${String(fn).slice(0, 160)}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A playwright or puppeteer page (the same calls for what the tests need) as an engines.mjs page. */
function cdpLike(p) {
  return {
    goto: (url) => p.goto(url),
    evaluate: (fn, arg) => p.evaluate(fn, arg),
    press: (key) => p.keyboard.press(KEYS[key] || key),
    screenshot: (file) => p.screenshot({ path: file }),
    close: () => p.close(),
  };
}

// ---- chromium (playwright-core) ------------------------------------------------------------------
async function launchChromium({ y4m } = {}) {
  const { chromium } = toolsRequire('playwright-core');
  const args = [...lib.CHROMIUM_ARGS, ...(y4m ? [`--use-file-for-fake-video-capture=${y4m}`] : [])];
  const browser = await chromium.launch({ executablePath: lib.CHROMIUM, headless: true, args });
  return {
    name: 'chromium', version: browser.version(),
    async newPage({ width = 1280, height = 900 } = {}) {
      return cdpLike(await browser.newPage({ viewport: { width, height } }));
    },
    close: () => browser.close(),
  };
}

// ---- firefox (puppeteer-core, WebDriver BiDi) ----------------------------------------------------
async function launchFirefox() {
  const puppeteer = toolsRequire('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox', protocol: 'webDriverBiDi', executablePath: FIREFOX, headless: true,
    extraPrefsFirefox: {
      'media.navigator.permission.disabled': true,   // the fake camera is a canvas: no prompt either way
      'media.autoplay.default': 0,
      'browser.shell.checkDefaultBrowser': false,
    },
  });
  return {
    name: 'firefox', version: await browser.version(),
    async newPage({ width = 1280, height = 900 } = {}) {
      const p = await browser.newPage();
      await p.setViewport({ width, height });
      return cdpLike(p);
    },
    close: () => browser.close(),
  };
}

// ---- webkit (WebKitGTK MiniBrowser, WebKitWebDriver, selenium-webdriver) ------------------------
async function startXvfb() {
  if (process.env.DISPLAY) return { display: process.env.DISPLAY, stop: async () => {} };
  // -displayfd: Xvfb picks a free display and writes its number once it is ready
  const x = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1600x1200x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('Xvfb did not start in 10 s')), 10000);
    x.stdio[3].on('data', (d) => { out += d; if (out.includes('\n')) { clearTimeout(t); resolve(`:${out.trim()}`); } });
    x.once('exit', (c) => { clearTimeout(t); reject(new Error(`Xvfb exited (${c})`)); });
  });
  return { display, stop: () => stopChild(x) };
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => { if (child.exitCode === null) child.kill('SIGKILL'); }, 3000);
  });
}

async function launchWebkit() {
  const { Builder, Key } = toolsRequire('selenium-webdriver');
  const x = await startXvfb();
  const port = await freePort();
  let log = '';
  const drv = spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], { env: { ...process.env, DISPLAY: x.display }, stdio: ['ignore', 'pipe', 'pipe'] });
  drv.stdout.on('data', (d) => { log += d; });
  drv.stderr.on('data', (d) => { log += d; });
  let driver;
  // MiniBrowser takes WebKitSettings as options: MediaStream (getUserMedia, canvas.captureStream)
  // is off by default in WebKitGTK
  const session = async () => {
    const d = await new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', '--enable-media-stream=true', '--enable-webrtc=true'] },
    }).build();
    await d.manage().setTimeouts({ script: 300000, pageLoad: 60000 });
    return d;
  };
  try {
    await waitPort(port, 10000, 'WebKitWebDriver');
    driver = await session();
  } catch (e) {
    await stopChild(drv);
    await x.stop();
    throw new Error(`webkit: ${e.message}\n${log}`);
  }
  const keys = { Tab: Key.TAB, Enter: Key.ENTER, Escape: Key.ESCAPE, ArrowDown: Key.ARROW_DOWN };
  // One window, one page at a time (a page is the session's window; close() blanks it).
  const b = {
    name: 'webkit', version: (await driver.getCapabilities()).get('browserVersion'), crashesOnClose: 0,
    async newPage({ width = 1280, height = 900 } = {}) {
      // a page that crashed took the session with it: the next page gets a new one
      try { await driver.getWindowHandle(); } catch {
        try { await driver.quit(); } catch { /* gone */ }
        driver = await session();
      }
      await driver.manage().window().setRect({ width, height });
      // the window's size includes no browser chrome in automation mode; the test reads innerWidth
      return {
        goto: (url) => driver.get(url),
        async evaluate(fn, arg) {
          const r = await driver.executeAsyncScript(`const done = arguments[arguments.length - 1];
            Promise.resolve().then(() => (${fn})(arguments[0])).then((v) => done({ ok: true, v: v === undefined ? null : v }),
              (e) => done({ ok: false, e: e && e.message !== undefined ? \`\${e.name}\${e.code ? ' ' + e.code : ''}: \${e.message}\n\${e.stack}\` : String(e) }));`, arg === undefined ? null : arg);
          if (!r.ok) throw new Error(`evaluate: ${r.e}`);
          return r.v;
        },
        press: (key) => driver.actions().sendKeys(keys[key] || key).perform(),
        async screenshot(file) { fs.writeFileSync(file, Buffer.from(await driver.takeScreenshot(), 'base64')); },
        // the web process at times crashes while it tears a capture page down (WebKitGTK under load,
        // docs/ENGINES.md): the page's checks are done by then, the next newPage() starts a new
        // session, and the crash is counted in crashesOnClose for the report
        async close() {
          try { await driver.get('about:blank'); } catch (e) {
            if (!/page crash/.test(String(e && e.message))) throw e;
            b.crashesOnClose += 1;
          }
        },
      };
    },
    async close() {
      try { await driver.quit(); } catch { /* the session may be gone */ }
      await stopChild(drv);
      await x.stop();
    },
  };
  return b;
}

/**
 * Launch engine `name` ('chromium' | 'firefox' | 'webkit'). Resolves to { name, version,
 * newPage({ width, height }), close() }; a page has goto(url), evaluate(fn, arg) (fn runs in the
 * page, async allowed, arg and result JSON-like), waitFor(fn, arg, timeoutMs), press('Tab' | 'Enter'
 * | 'Escape' | 'ArrowDown'), screenshot(file), problems() (window.__vfProblems of fakecam.js) and
 * close(). opts.y4m: Chromium's file-backed fake camera (the others use the fake camera page script).
 */
export async function launchEngine(name, opts = {}) {
  const b = name === 'chromium' ? await launchChromium(opts) : name === 'firefox' ? await launchFirefox(opts)
    : name === 'webkit' ? await launchWebkit(opts) : null;
  if (!b) throw new Error(`unknown engine ${name}`);
  const newPage = b.newPage;
  b.newPage = async (o) => {
    const p = await newPage(o);
    p.waitFor = (fn, arg, timeoutMs = 30000) => poll(p, fn, arg, timeoutMs);
    p.problems = () => p.evaluate(() => window.__vfProblems || ['fakecam.js not loaded on this page']);
    return p;
  };
  return b;
}

// ---- fake camera frames ---------------------------------------------------------------------------
/**
 * JPEG frames for fakecam.js from lib.makeY4m's sequence (dark, turned head, then the frontal
 * segment back and forth; second: another stretch), in dir/frames/<set>/ with index.json.
 * flip: mirrored, a picture the server has not seen (it refuses frames it saw in an earlier capture,
 * noise or not), so one server takes four passive captures: the two stretches, each either way.
 */
export function makeFrames(dir, set, { second = false, flip = false, noise = true, fps = 15 } = {}) {
  const out = path.join(dir, 'frames', set);
  fs.mkdirSync(out, { recursive: true });
  const y4m = lib.makeY4m(dir, { name: `${set}.y4m`, second, noise, fps });
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', y4m, ...(flip ? ['-vf', 'hflip'] : []), '-q:v', '2', path.join(out, '%03d.jpg')],
    { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  fs.rmSync(y4m);
  const files = fs.readdirSync(out).filter((f) => f.endsWith('.jpg')).sort();
  // the dark and turned-head frames (the first 0.8 s) three times: the page opens the camera, probes
  // it and starts its session before it reads the first frame, and the stream runs meanwhile
  const head = Math.round(0.8 * fps);
  const order = [...files.slice(0, head), ...files.slice(0, head), ...files];
  fs.writeFileSync(path.join(out, 'index.json'), JSON.stringify({ fps, files: order }));
  return { set, frames: order.length };
}

/**
 * Synthetic frames for overlay checks: a mid-grey width x height picture with a solid red box at
 * box = [x, y, w, h] (frame pixels), as PNG (no JPEG chroma bleeding at the box's edges).
 */
export function makeMarkerFrames(dir, set, { width, height, box, fps = 15, count = 3 }) {
  const out = path.join(dir, 'frames', set);
  fs.mkdirSync(out, { recursive: true });
  const [x, y, w, h] = box;
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x808080:s=${width}x${height}:r=${fps}`,
    '-vf', `drawbox=x=${x}:y=${y}:w=${w}:h=${h}:color=0xff0000:t=fill`, '-frames:v', String(count), path.join(out, '%03d.png')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  const files = fs.readdirSync(out).filter((f) => f.endsWith('.png')).sort();
  fs.writeFileSync(path.join(out, 'index.json'), JSON.stringify({ fps, files }));
  return { set, frames: files.length };
}

/** A screenshot (PNG) as RGB rows: { width, height, at(x, y) -> [r, g, b] } (decoded by ffmpeg). */
export function readPng(file) {
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  const [width, height] = probe.stdout.trim().split(',').map(Number);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 28 });
  if (r.status !== 0 || !width) throw new Error(`ffmpeg: cannot read ${file}: ${r.stderr}`);
  const px = r.stdout;
  return { width, height, at: (x, y) => { const i = (y * width + x) * 3; return [px[i], px[i + 1], px[i + 2]]; } };
}

/** The bounding box [x0, y0, x1, y1] (inclusive) of the pixels where pred(r, g, b), or null. */
export function boundsOf(img, pred) {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const [r, g, b] = img.at(x, y);
      if (pred(r, g, b)) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
    }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

// ---- test proxy -----------------------------------------------------------------------------------
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json', '.jpg': 'image/jpeg', '.png': 'image/png' };
const COI = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/**
 * An HTTP proxy on 127.0.0.1 in front of the server at `target` (every engine loads pages the same
 * way: no engine's request interception). /__test__/fakecam.js, /__test__/frames/<set>/* (from
 * dir/frames) and the pages given as { '/__test__/x.html': html } are answered here; everything
 * else goes to the server with its own Host and Origin. isolated=false strips COOP/COEP from every
 * answer (the page is then not cross-origin isolated); isolated=true sends them on the test pages too.
 */
export async function startProxy(target, { dir, isolated = true, pages = {} } = {}) {
  const t = new URL(target);
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const local = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...(isolated ? COI : {}) });
      res.end(body);
    };
    if (u.pathname === '/__test__/fakecam.js') return local(200, TYPES['.js'], fs.readFileSync(new URL('./fakecam.js', import.meta.url)));
    if (pages[u.pathname] !== undefined) return local(200, TYPES['.html'], pages[u.pathname]);
    const m = u.pathname.match(/^\/__test__\/frames\/([\w-]+)\/([\w.-]+)$/);
    if (m && dir) {
      const f = path.join(dir, 'frames', m[1], m[2]);
      if (fs.existsSync(f)) return local(200, TYPES[path.extname(f)] || 'application/octet-stream', fs.readFileSync(f));
    }
    if (u.pathname.startsWith('/__test__/')) return local(404, 'text/plain', 'not found');
    const headers = { ...req.headers, host: t.host };
    if (headers.origin) headers.origin = t.origin;
    if (headers.referer) headers.referer = headers.referer.replace(/^http:\/\/[^/]+/, t.origin);
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers }, (r) => {
      const h = { ...r.headers };
      if (!isolated) { delete h['cross-origin-opener-policy']; delete h['cross-origin-embedder-policy']; }
      res.writeHead(r.statusCode, h);
      r.pipe(res);
    });
    up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
    req.pipe(up);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${srv.address().port}`;
  return { url, stop: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}
