// bundler.test.mjs - an integrator's app built with Vite (no plugins, default config) from the
// npm tarball: the worker must come out bundled with its imports, and the built page must load
// the engine from self-hosted assets (baseUrl) and analyse a real photo in headless Chromium.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as lib from './lib.mjs';

const version = JSON.parse(fs.readFileSync(path.join(lib.ROOT, 'web/package.json'), 'utf8')).version;
const tgz = path.join(lib.ROOT, `build/veriface-web-${version}.tgz`);
const viteEntry = path.join(lib.ROOT, 'tools/node_modules/vite/dist/node/index.js');
const skip = lib.skipReason() || (!fs.existsSync(tgz) && `${tgz} absent (tools/build-web)`) ||
  (!fs.existsSync(viteEntry) && 'vite not installed in tools/node_modules (npm ci --prefix tools)');

const MAIN = `import { Veriface } from '@veriface/web';
window.vfResult = (async () => {
  const vf = await Veriface.create({ baseUrl: '/vf/', threads: 1 });
  const blob = await (await fetch('/face.jpg')).blob();
  const a = await vf.analyzeImage(blob);
  vf.close();
  return { build: vf.info.build, width: a.width, faces: a.status.quality.face_count, presence: a.status.quality.presence };
})().catch((e) => ({ error: String(e.code || '') + ' ' + e.message }));
`;

test('a Vite build of an app using @veriface/web runs in Chromium', { skip: skip ? `SKIP: ${skip}` : false }, async () => {
  const dir = lib.tempDir();
  let server = null, browser = null;
  try {
    // the package as npm would install it: the tarball's package/ under node_modules
    const mod = path.join(dir, 'app/node_modules/@veriface');
    fs.mkdirSync(mod, { recursive: true });
    const r = spawnSync('tar', ['-xzf', tgz, '-C', mod], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    fs.renameSync(path.join(mod, 'package'), path.join(mod, 'web'));
    const app = path.join(dir, 'app');
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    fs.writeFileSync(path.join(app, 'index.html'), '<!doctype html><html><body><script type="module" src="./main.js"></script></body></html>');
    fs.writeFileSync(path.join(app, 'main.js'), MAIN);
    const { build } = await import(pathToFileURL(viteEntry).href);
    await build({ root: app, logLevel: 'error', configFile: false, build: { outDir: path.join(dir, 'site') } });
    const assets = fs.readdirSync(path.join(dir, 'site/assets'));
    // the module worker, bundled, and the classic worker (an asset, one script already); every
    // emitted worker file must be free of relative imports: an unbundled copy of worker.js (Vite
    // emits one for any `new URL('./worker.js', import.meta.url)` outside `new Worker(...)`)
    // would 404 on them, and which file came first in the listing depended on the hashes
    const workers = assets.filter((f) => /^worker-.*\.js$/.test(f));
    assert.ok(workers.some((f) => !/^worker-classic/.test(f)), `a bundled module worker among ${assets.join(', ')}`);
    for (const f of workers) {
      const code = fs.readFileSync(path.join(dir, 'site/assets', f), 'utf8');
      assert.doesNotMatch(code, /from\s*['"]\.\/[a-z]+\.js['"]/, `${f}: the worker keeps no relative imports (they would 404)`);
    }
    // self-hosted assets next to the app, as web/README.md describes
    fs.cpSync(path.join(mod, 'web/wasm'), path.join(dir, 'site/vf/wasm'), { recursive: true });
    fs.cpSync(path.join(mod, 'web/models'), path.join(dir, 'site/vf/models'), { recursive: true });
    fs.copyFileSync(path.join(lib.FRAMES, 'real2_t05.25.jpg'), path.join(dir, 'site/face.jpg'));
    server = await lib.startServer(dir, [], { staticDir: path.join(dir, 'site') });
    const { chromium } = lib.loadPlaywright();
    browser = await chromium.launch({ executablePath: lib.CHROMIUM, headless: true, args: lib.CHROMIUM_ARGS });
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/`);
    const res = await page.evaluate(() => window.vfResult);
    assert.equal(res.error, undefined, `engine in the built app: ${res.error}`);
    assert.equal(res.build, 'simd');
    assert.equal(res.width, 640);
    assert.equal(res.faces, 1, 'one face found in the photo');
    assert.ok(res.presence > 0.9, `face presence ${res.presence}`);
    assert.deepEqual(errors, []);
  } finally {
    if (browser) await browser.close();
    if (server) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
