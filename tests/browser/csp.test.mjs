// csp.test.mjs - issue 14 item 4: strict Content-Security-Policy. The server sends
// lib.POLICY (default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; ...)
// with every page and script; the demo's files have no inline script, style or handler; an
// integrator's page of <veriface-capture> loaded from files under the policy captures to the
// server's answer and runs an active challenge with the screen colours, with no violation reported
// by the page or its workers (report-uri, lib.watchCsp). The demo itself runs under the policy in
// demo.test.mjs, the managed page (managed/, at session_url) from the session to the redirect in
// tests/server/managed.test.mjs (ctest server_managed), both with lib.watchCsp. A control: the same page without 'wasm-unsafe-eval' must be reported (the worker
// compiles the wasm), so a broken watcher cannot pass.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';

const skip = lib.skipReason();

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>strict CSP</title>
<link rel="icon" href="/favicon.svg"><script type="module" src="/__csp__/page.js"></script></head>
<body><main><h1>Verify</h1><veriface-capture submit="" lazy></veriface-capture></main></body></html>`;
const SCRIPT = `import { defineVerifaceCapture } from '/pkg/src/component.js';
import { createSessionKey, createDemoSession } from '/pkg/src/index.js';
defineVerifaceCapture();
const el = document.querySelector('veriface-capture');
window.newSession = async (config) => { el.key = await createSessionKey(); el.session = await createDemoSession(location.origin, el.key.publicKeySpki, config); };
window.errors = [];
el.addEventListener('veriface-result', (e) => { window.result = e.detail.result.answer; });
el.addEventListener('veriface-error', (e) => window.errors.push(e.detail.error.code));
await window.newSession();
window.ready = true;
`;

/** The component page and its script as files of the origin, with the policy a server would send. */
async function routePage(page, origin, policy) {
  const headers = { 'Content-Security-Policy': `${policy}; report-uri /__csp_report__`,
    'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  await page.route(`${origin}/__csp__/page.html`, (r) => r.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', headers, body: PAGE }));
  await page.route(`${origin}/__csp__/page.js`, (r) => r.fulfill({ status: 200, contentType: 'text/javascript', headers, body: SCRIPT }));
}

test('the demo and managed pages: no inline script, style or event handler', { skip: skip ? `SKIP: ${skip}` : false }, () => {
  for (const f of ['demo/index.html', 'managed/index.html']) {
    const html = fs.readFileSync(path.join(lib.ROOT, f), 'utf8');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, `${f}: inline <script>`);
    assert.doesNotMatch(html, /<style\b/i, `${f}: <style>`);
    assert.doesNotMatch(html, /\s(style|on[a-z]+)\s*=/i, `${f}: style attribute or inline handler`);
    assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(data|blob|javascript):/i, `${f}: data:, blob: or javascript: URL`);
  }
});

test('<veriface-capture> under the strict policy: capture, challenge with colours, no violation',
  { skip: skip ? `SKIP: ${skip}` : false, timeout: 180000 }, async () => {
    const dir = lib.tempDir();
    const server = await lib.startServer(dir);
    const browser = await lib.launchChromium(lib.makeY4m(dir));
    const page = await browser.newPage({ viewport: { width: 640, height: 720 } });
    const problems = lib.watchPage(page);
    try {
      const csp = await lib.watchCsp(page, server.url);
      await routePage(page, server.url, lib.POLICY);
      // the server's own answers: the page and every script carry the policy
      for (const p of ['/', '/pkg/src/worker.js', '/pkg/src/worker-classic.js', '/pkg/wasm/veriface-simd-mt.worker.js']) {
        const r = await fetch(`${server.url}${p}`);
        assert.equal(r.headers.get('content-security-policy'), lib.POLICY, p);
      }
      await page.goto(`${server.url}/__csp__/page.html`);
      await page.waitForFunction(() => window.ready === true, null, { timeout: 20000 });
      assert.equal(await page.evaluate(() => crossOriginIsolated), true);
      // the element's style applies (a constructed sheet, not a <style> the policy would block)
      assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('veriface-capture').shadowRoot.querySelector('.stage')).position), 'relative');
      await page.evaluate(() => document.querySelector('veriface-capture').shadowRoot.querySelector('.start').click());
      await page.waitForFunction(() => window.result || window.errors.length, null, { timeout: 90000 });
      assert.deepEqual(await page.evaluate(() => window.errors), []);
      assert.equal(typeof (await page.evaluate(() => window.result)).final, 'boolean');
      // an active challenge with the screen colours (the tint's inline styles are set through the
      // CSSOM, which the policy allows), cancelled once the colours run
      await page.evaluate(() => window.newSession({ liveness_type: 'active', challenge: { light: true } }));
      await page.evaluate(() => document.querySelector('veriface-capture').shadowRoot.querySelector('.start').click());
      await page.waitForFunction(() => /^#[0-9a-f]{6}$/.test(document.querySelector('veriface-capture').shadowRoot.querySelector('.tint').getAttribute('data-color') || ''),
        null, { timeout: 60000 });
      const tint = await page.evaluate(() => getComputedStyle(document.querySelector('veriface-capture').shadowRoot.querySelector('.tint')).position);
      assert.equal(tint, 'fixed');
      await page.evaluate(() => document.querySelector('veriface-capture').cancel());
      await page.waitForFunction(() => window.errors.length > 0, null, { timeout: 20000 });
      assert.deepEqual(await page.evaluate(() => window.errors), ['aborted']);
      assert.deepEqual(csp, [], 'no CSP violation in the page or its workers');
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

test('control: without wasm-unsafe-eval the worker\'s wasm is reported', { skip: skip ? `SKIP: ${skip}` : false, timeout: 120000 }, async () => {
  const dir = lib.tempDir();
  const server = await lib.startServer(dir);
  const { chromium } = lib.loadPlaywright();
  const browser = await chromium.launch({ executablePath: lib.CHROMIUM, headless: true, args: lib.CHROMIUM_ARGS });
  const page = await browser.newPage();
  try {
    const weak = lib.POLICY.replace(" 'wasm-unsafe-eval'", '');
    const csp = await lib.watchCsp(page, server.url, { serve: weak });
    await routePage(page, server.url, weak);
    await page.goto(`${server.url}/__csp__/page.html`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 20000 });
    await page.evaluate(async () => {
      const { Veriface } = await import('/pkg/src/index.js');
      window.created = await Veriface.create({ threads: 1 }).then(() => 'ok', (e) => e.code || String(e));
    });
    await page.waitForFunction(() => window.created, null, { timeout: 30000 });
    await page.waitForTimeout(500);   // the report is posted after the violation
    assert.notEqual(await page.evaluate(() => window.created), 'ok', 'the engine cannot start without wasm-unsafe-eval');
    assert.ok(csp.some((x) => /"blocked-uri":"wasm-eval"/.test(x) && /worker\.js/.test(x)), `the worker's violation is reported: ${csp.join('\n')}`);
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
