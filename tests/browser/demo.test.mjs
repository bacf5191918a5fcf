// demo.test.mjs - the demo page (build/web) in headless chromium against the real server, driven
// by the keyboard only: load, capture from the fake camera, decision, raw package; then the upload
// panel with a photo and a video. No console errors, no violation of the server's strict
// Content-Security-Policy (lib.watchCsp), no serious or critical axe-core violation (ready, during
// the capture, decided, in light and dark schemes), guidance announced once per change;
// screenshots and the axe results in build/test-artifacts/.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';

const skip = lib.skipReason();

/** Tab until the element with `id` has focus (keyboard-only navigation); returns the presses. */
async function tabTo(page, id, max = 40) {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((x) => document.activeElement && document.activeElement.id === x, id)) return i;
  }
  throw new Error(`#${id} not reachable with Tab`);
}

const shot = (page, name) => page.screenshot({ path: path.join(lib.ARTIFACTS, `demo-${name}.png`), fullPage: true });

test('demo page, keyboard only', { skip: skip ? `SKIP: ${skip}` : false, timeout: 240000 }, async () => {
  const dir = lib.tempDir();
  const y4m = lib.makeY4m(dir);
  const video = lib.makeMp4(dir, y4m);
  const photo = path.join(lib.FRAMES, 'real2_t05.25.jpg');
  const server = await lib.startServer(dir);
  const browser = await lib.launchChromium(y4m);
  fs.mkdirSync(lib.ARTIFACTS, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = lib.watchPage(page);
  const csp = await lib.watchCsp(page, server.url);   // the server's strict policy: any violation fails
  try {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-state=ready]', { timeout: 30000 });   // guidance engine (lazy start)
    await page.waitForSelector('body[data-engine=full]', { timeout: 30000 });
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the server sends COOP/COEP');
    assert.match(await page.textContent('#engine'), /wasm simd(-mt)? \(\d thread.*guidance ready in \d+ ms, all models in \d+ ms; passive liveness (on|unavailable)/);
    await shot(page, '1-ready');
    const axe = { ready: await lib.axe(page) };
    assert.deepEqual(axe.ready.bad, [], 'axe: ready');
    // every change of the live region's text: one announcement each
    await page.evaluate(() => {
      window.announced = [];
      new MutationObserver(() => window.announced.push(document.getElementById('guidance').textContent))
        .observe(document.getElementById('guidance'), { childList: true, characterData: true, subtree: true });
    });

    // the skip link comes first, then the controls; Start by keyboard
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
    await tabTo(page, 'start');
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-state=capturing]', { timeout: 20000 });
    await page.waitForFunction(() => document.querySelector('#meters meter').value > 0, null, { timeout: 20000 });
    await shot(page, '2-capturing');
    axe.capturing = await lib.axe(page);
    assert.deepEqual(axe.capturing.bad, [], 'axe: capturing');
    await page.waitForSelector('body[data-state=decided]', { timeout: 60000 });
    const decision = await page.textContent('#decision');
    assert.match(decision, /^(approve|retry|challenge|review|reject) — /);
    assert.match(await page.textContent('#liveness'), /pass|fail|uncertain|not run/);
    assert.ok(await page.$$eval('#thumbs canvas', (x) => x.length) >= 1, 'frame thumbnails shown');
    // the raw package opens from the keyboard
    await tabTo(page, 'raw-summary');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.getElementById('raw').open), true);
    const raw = await page.textContent('#package');
    assert.match(raw, /^X-Veriface-Signature: [A-Za-z0-9_-]{86}\n/);
    assert.match(raw, /"signals"/);
    await shot(page, '3-decided');
    axe.decided = await lib.axe(page);
    assert.deepEqual(axe.decided.bad, [], 'axe: decided, raw package open');
    await page.emulateMedia({ colorScheme: 'dark' });
    axe.decidedDark = await lib.axe(page);
    assert.deepEqual(axe.decidedDark.bad, [], 'axe: decided, dark scheme');
    await page.emulateMedia({ colorScheme: 'light' });
    fs.writeFileSync(path.join(lib.ARTIFACTS, 'axe-demo.json'), JSON.stringify(axe, null, 1));
    // guidance per change, never per frame: no text announced twice in a row, fewer announcements than frames
    const announced = await page.evaluate(() => window.announced);
    const pushed = await page.evaluate(() => JSON.parse(window.demo.lastBody).capture.frames_pushed);
    assert.ok(announced.length >= 2 && announced.length < pushed, `${announced.length} announcements for ${pushed} frames`);
    announced.forEach((t, i) => assert.notEqual(t, announced[i - 1], `announced twice in a row: ${t}`));

    // upload panel: choose "Uploaded photo or video" with the arrow key in the radio group
    await page.focus('input[name=source][value=camera]');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.querySelector('input[name=source]:checked').value), 'file');
    assert.equal(await page.isVisible('#file'), true);
    await page.setInputFiles('#file', photo);   // the OS file dialog is outside the page
    await page.waitForFunction(() => /photo passes|Look|light|Move|Hold|Keep|Center|Remove|Only/.test(document.getElementById('guidance').textContent), null, { timeout: 20000 });
    assert.match(await page.textContent('#liveness'), /pass|fail|uncertain|not run/);
    await shot(page, '4-photo');

    // a file that is not an image: an error with a code in the alert region, no console error
    const bogus = path.join(dir, 'not-an-image.jpg');
    fs.writeFileSync(bogus, 'this is not a JPEG');
    await page.setInputFiles('#file', bogus);
    await page.waitForFunction(() => /\(image\)$/.test(document.getElementById('error').textContent), null, { timeout: 20000 });
    await page.setInputFiles('#file', photo);
    await page.waitForFunction(() => document.getElementById('error').textContent === '', null, { timeout: 20000 });

    // a reference photo gives an in-page match preview
    await page.setInputFiles('#reference', path.join(lib.FRAMES, 'real2_t07.62.jpg'));
    await page.waitForFunction(() => /similarity/.test(document.getElementById('match').textContent), null, { timeout: 20000 });

    await page.setInputFiles('#file', video);
    await page.waitForFunction(() => /Video loaded/.test(document.getElementById('guidance').textContent), null, { timeout: 20000 });
    await tabTo(page, 'start');
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-state=capturing]', { timeout: 20000 });
    await page.waitForSelector('body[data-state=decided]', { timeout: 60000 });
    await shot(page, '5-video-decided');
    const pkg = await page.evaluate(() => JSON.parse(window.demo.lastBody));
    assert.equal(pkg.signals.source, 'video_element');
    assert.equal(pkg.signals.camera, null);

    assert.deepEqual(problems, [], 'no console errors');
    assert.deepEqual(csp, [], 'the policy on every page and script, no violation');
  } finally {
    await page.close();
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
