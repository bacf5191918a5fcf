// frameworks.test.mjs - issue 14 item 5: the sample apps in examples/ (React and Vue with Vite,
// Angular with its CLI), each as an integrator builds it: its pinned dev dependencies (installed
// by tools/setup.sh from its lockfile), then the npm tarball of web/ (`npm install --no-save`,
// offline), then its own build script. The build is served by the real server (its strict CSP, no
// violation reported; axe-core finds nothing serious) and the app's <veriface-capture> runs a
// capture from the fake camera in Chromium up to the server's answer. Build times are printed (CI budget).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as lib from './lib.mjs';

const version = JSON.parse(fs.readFileSync(path.join(lib.ROOT, 'web/package.json'), 'utf8')).version;
const tgz = path.join(lib.ROOT, `build/veriface-web-${version}.tgz`);

function sh(cwd, cmd, args) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NG_CLI_ANALYTICS: 'false', CI: 'true' } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return (Date.now() - t0) / 1000;
}

// one fake camera file and one browser for the three apps (a new context each)
let shared = null;
async function browserOnce() {
  if (!shared) {
    const dir = lib.tempDir();
    shared = { dir, browser: await lib.launchChromium(lib.makeY4m(dir)) };
  }
  return shared.browser;
}
after(async () => {
  if (!shared) return;
  await shared.browser.close();
  fs.rmSync(shared.dir, { recursive: true, force: true });
});

for (const fw of ['react', 'vue', 'angular']) {
  const app = path.join(lib.ROOT, 'examples', fw);
  const skip = lib.skipReason() || (!fs.existsSync(tgz) && `${tgz} absent (tools/build-web)`) ||
    (!fs.existsSync(path.join(app, 'node_modules/.package-lock.json')) && `examples/${fw}/node_modules absent (tools/setup.sh)`);
  test(`${fw} sample app: tarball, build, capture in Chromium`, { skip: skip ? `SKIP: ${skip}` : false, timeout: 300000 }, async () => {
    const tInstall = sh(app, 'npm', ['install', '--no-save', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tgz]);
    const installed = JSON.parse(fs.readFileSync(path.join(app, 'node_modules/@veriface/web/package.json'), 'utf8'));
    assert.equal(installed.version, version);
    const dist = path.join(app, 'dist');
    fs.rmSync(dist, { recursive: true, force: true });
    const tBuild = sh(app, 'npm', ['run', '--silent', 'build']);
    console.log(`${fw}: tarball installed in ${tInstall.toFixed(1)} s, built in ${tBuild.toFixed(1)} s`);
    for (const f of ['index.html', 'vf/wasm/veriface-simd.wasm', 'vf/models/roles.json']) assert.ok(fs.existsSync(path.join(dist, f)), `${fw}: ${f} in the build`);
    const dir = lib.tempDir();
    const server = await lib.startServer(dir, [], { staticDir: dist });
    const context = await (await browserOnce()).newContext();
    try {
      const page = await context.newPage();
      const problems = lib.watchPage(page);
      const csp = await lib.watchCsp(page, server.url);
      await page.goto(`${server.url}/`);
      await page.waitForSelector('main[data-state=ready]', { timeout: 30000 });
      assert.deepEqual((await lib.axe(page)).bad, [], `${fw}: axe-core, serious or critical`);
      await page.evaluate(() => document.querySelector('veriface-capture').shadowRoot.querySelector('.start').click());
      await page.waitForSelector('main[data-state=done], main[data-state=error]', { timeout: 120000 });
      const out = await page.evaluate(() => ({ state: document.querySelector('main').dataset.state, text: document.querySelector('.status').textContent }));
      assert.equal(out.state, 'done', `${fw}: ${out.text}`);
      assert.ok(out.text.length > 0, 'the server\'s answer shown');
      assert.deepEqual(csp, [], `${fw}: no CSP violation`);
      assert.deepEqual(problems, [], `${fw}: no console error or failed request`);
    } finally {
      await context.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
