// a11y.test.mjs - issue 14 item 7, what the capture tests do not reach: the challenge's screen
// colours under prefers-reduced-motion and in low-flash mode (half opacity, a fade in and a fade
// between colours instead of a switch; full opacity and hard switches otherwise), the component's
// arrow without its nudge animation under reduced motion, the demo's low-flash box following the
// preference. The Tint and the element run in a page of the real server, no camera. axe-core and
// the announcements are checked in component.test.mjs and demo.test.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as lib from './lib.mjs';

const skip = lib.skipReason();

/** In the page: a Tint in `element` (or its own layer) showing two colours for `ms` each; the CSS
 *  transitions running just after the start and just after the switch to the second colour
 *  (property and duration: deterministic, unlike sampling on a loaded machine), and the layer's
 *  opacity once settled. */
async function sampleTint([opts, ms, own]) {
  const { Tint } = await import('/pkg/src/challenge.js');
  const layer = own ? null : document.body.appendChild(document.createElement('div'));
  if (layer) layer.style.cssText = 'position:fixed;inset:0';
  const t = new Tint({ ...opts, element: layer });
  t.start(['#508cff', '#ffe150'], ms);
  const el = layer || document.querySelector('[data-veriface-tint]');
  const running = () => el.getAnimations({ subtree: true }).map((a) => `${a.transitionProperty}:${a.effect.getTiming().duration}`).sort();
  const atStart = running();
  await new Promise((resolve) => new MutationObserver((_, mo) => { if (el.getAttribute('data-color') === '#ffe150') { mo.disconnect(); resolve(); } })
    .observe(el, { attributes: true, attributeFilter: ['data-color'] }));
  const atSwitch = running();
  await new Promise((r) => setTimeout(r, 250));
  const opacity = Number(getComputedStyle(el).opacity);
  const mode = el.getAttribute('data-veriface-tint');
  t.stop();
  return { mode, atStart, atSwitch, opacity, fadeMs: t.fadeMs };
}

test('screen colours: reduced motion and low-flash', { skip: skip ? `SKIP: ${skip}` : false, timeout: 60000 }, async () => {
  const dir = lib.tempDir();
  const server = await lib.startServer(dir);
  const { chromium } = lib.loadPlaywright();
  const browser = await chromium.launch({ executablePath: lib.CHROMIUM, headless: true, args: lib.CHROMIUM_ARGS });
  try {
    const run = async (media, opts, own = false) => {
      const page = await browser.newPage();
      await page.emulateMedia({ reducedMotion: media });
      await lib.routeTestPage(page, server.url);
      await page.goto(`${server.url}/__test__.html`);
      const r = await page.evaluate(sampleTint, [opts, 500, own]);
      await page.close();
      return r;
    };
    // default: full opacity at once, hard switches (no transition ever runs)
    const plain = await run('no-preference', {});
    assert.deepEqual(plain, { mode: '', atStart: [], atSwitch: [], opacity: 1, fadeMs: 0 });
    // low-flash: asked for, or on by itself when the user prefers reduced motion; in the caller's
    // layer (background colour) and in the package's own (the box-shadow around the camera view)
    for (const [media, opts, own] of [['reduce', {}, false], ['no-preference', { lowFlash: true }, false], ['reduce', {}, true]]) {
      const lf = await run(media, opts, own);
      const what = `${media} ${JSON.stringify(opts)}${own ? ' (own layer)' : ''}`;
      assert.match(lf.mode, /low-flash/, what);
      assert.equal(lf.fadeMs, 200, what);
      assert.ok(lf.atStart.includes('opacity:200'), `${what}: fades in (${lf.atStart})`);
      assert.ok(lf.atSwitch.includes(own ? 'box-shadow:200' : 'background-color:200'), `${what}: the colours fade into each other (${lf.atSwitch})`);
      assert.equal(lf.opacity, 0.5, `${what}: half opacity`);
    }
    // low-flash can be turned off explicitly even under reduced motion
    const off = await run('reduce', { lowFlash: false });
    assert.deepEqual(off, { mode: 'reduced', atStart: [], atSwitch: [], opacity: 1, fadeMs: 0 });
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('reduced motion: no animated arrow in <veriface-capture>, the demo\'s low-flash box on', { skip: skip ? `SKIP: ${skip}` : false, timeout: 60000 }, async () => {
  const dir = lib.tempDir();
  const server = await lib.startServer(dir);
  const { chromium } = lib.loadPlaywright();
  const browser = await chromium.launch({ executablePath: lib.CHROMIUM, headless: true, args: lib.CHROMIUM_ARGS });
  try {
    for (const media of ['no-preference', 'reduce']) {
      const page = await browser.newPage();
      await page.emulateMedia({ reducedMotion: media });
      await lib.routeTestPage(page, server.url);
      await page.goto(`${server.url}/__test__.html`);
      const anim = await page.evaluate(async () => {
        const { defineVerifaceCapture } = await import('/pkg/src/component.js');
        defineVerifaceCapture();
        const el = document.body.appendChild(document.createElement('veriface-capture'));
        el._arrow('challenge_left');
        return getComputedStyle(el.shadowRoot.querySelector('.arrow')).animationName;
      });
      assert.equal(anim, media === 'reduce' ? 'none' : 'nudge-x', media);
      await page.goto(`${server.url}/`);
      assert.equal(await page.isChecked('#low-flash'), media === 'reduce', `demo low-flash box, ${media}`);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
