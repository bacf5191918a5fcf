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

/** In the page: a Tint in `element` (or its own layer) showing two colours for `ms` each; the
 *  layer's opacity and colour sampled every 20 ms until past the first colour switch. */
async function sampleTint([opts, ms, own]) {
  const { Tint } = await import('/pkg/src/challenge.js');
  const layer = own ? null : document.body.appendChild(document.createElement('div'));
  if (layer) layer.style.cssText = 'position:fixed;inset:0';
  const t = new Tint({ ...opts, element: layer });
  t.start(['#508cff', '#ffe150'], ms);
  const el = layer || document.querySelector('[data-veriface-tint]');
  const paint = own ? el.firstElementChild : el;
  const samples = [];
  const t0 = performance.now();
  while (performance.now() - t0 < ms + 300) {
    const cs = getComputedStyle(el), ps = getComputedStyle(paint);
    samples.push({ t: Math.round(performance.now() - t0), opacity: Number(cs.opacity), color: own ? ps.boxShadow : ps.backgroundColor });
    await new Promise((r) => setTimeout(r, 20));
  }
  const mode = el.getAttribute('data-veriface-tint');
  t.stop();
  return { mode, samples, fadeMs: t.fadeMs };
}

const BLUE = 'rgb(80, 140, 255)', YELLOW = 'rgb(255, 225, 80)';
const mixed = (c) => !c.includes(BLUE) && !c.includes(YELLOW);

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
    // default: full opacity at once, hard switch (never an in-between colour)
    const plain = await run('no-preference', {});
    assert.equal(plain.mode, '');
    assert.equal(plain.fadeMs, 0);
    assert.ok(plain.samples.every((s) => s.opacity === 1), 'full opacity from the start');
    assert.ok(!plain.samples.some((s) => mixed(s.color)), 'no colour between the two');
    // the user prefers reduced motion: low-flash on by itself
    for (const [media, opts, own] of [['reduce', {}, false], ['no-preference', { lowFlash: true }, false], ['reduce', {}, true]]) {
      const lf = await run(media, opts, own);
      const what = `${media} ${JSON.stringify(opts)}${own ? ' (own layer)' : ''}`;
      assert.match(lf.mode, /low-flash/, what);
      assert.equal(lf.fadeMs, 200, what);
      assert.ok(lf.samples[0].opacity < 0.5, `${what}: fades in (${lf.samples[0].opacity})`);
      assert.ok(lf.samples.every((s) => s.opacity <= 0.5), `${what}: half opacity at most`);
      assert.ok(lf.samples.some((s) => s.opacity === 0.5), `${what}: reaches half opacity`);
      const between = lf.samples.filter((s) => s.t > 500 && mixed(s.color));
      assert.ok(between.length >= 3, `${what}: the colours fade into each other (${between.length} samples between)`);
    }
    // low-flash can be turned off explicitly even under reduced motion
    const off = await run('reduce', { lowFlash: false });
    assert.equal(off.mode, 'reduced');
    assert.ok(off.samples.every((s) => s.opacity === 1));
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
