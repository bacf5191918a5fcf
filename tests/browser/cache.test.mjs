// The models in the Cache API, keyed by SHA-256 (web/src/worker.js fetchModel, models/roles.json):
// a first visit downloads every model and reports its bytes; a second visit in the same browser
// profile downloads no model and reports them as cached; a model whose bytes do not hash to
// roles.json's SHA-256 is refused with a 'model' error and never cached. The two visits load the
// package from its versioned path (/v/<hash>/, tools/web-links.mjs): the second asks the server
// for no file of it at all (immutable in the HTTP cache; the server's request counter says so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';

const skip = lib.skipReason();

/** create() on a page: Playwright's test page (routed: no HTTP cache), or with `pageUrl` a static
 * file of the server (nothing routed: the HTTP cache works as on a site). */
async function create(page, origin, base = '/pkg/', pageUrl = null) {
  const models = [], encodings = [];
  const onReq = (r) => { if (/\/models\/[^/]+\.vfm$/.test(new URL(r.url()).pathname)) models.push(new URL(r.url()).pathname); };
  const onRes = (r) => { if (/\/models\/[^/]+\.vfm$/.test(new URL(r.url()).pathname)) encodings.push(r.headers()['content-encoding'] || 'identity'); };
  page.on('request', onReq);
  page.on('response', onRes);
  if (!pageUrl) await lib.routeTestPage(page, origin);
  await page.goto(pageUrl || `${origin}/__test__.html`);
  const r = await page.evaluate(async (base) => {
    const vf = await import(`${base}src/index.js`);
    const stages = new Set();
    let cachedSeen = 0;
    try {
      const inst = await vf.Veriface.create({ threads: 1, onProgress: (p) => { stages.add(p.stage); cachedSeen = Math.max(cachedSeen, p.cached || 0); } });
      const info = { downloaded: inst.info.downloaded, cached: inst.info.cached, pad: inst.info.pad };
      inst.close();
      return { info, stages: [...stages], cachedSeen };
    } catch (e) {
      return { error: { code: e.code, message: e.message } };
    }
  }, base);
  page.off('request', onReq);
  page.off('response', onRes);
  return { ...r, models, encodings };
}

test('models cached by SHA-256: the second visit downloads none', { skip: skip ? `SKIP: ${skip}` : false, timeout: 240000 }, async () => {
  const dir = lib.tempDir();
  // the package and a page of its own as static files (a routed page has no HTTP cache)
  const web = path.join(dir, 'web');
  fs.cpSync(lib.WEB, web, { recursive: true });
  fs.writeFileSync(path.join(web, '__cache__.html'), '<!doctype html><html lang="en"><title>cache</title></html>');
  const server = await lib.startServer(dir, [], { staticDir: web });
  const browser = await lib.launchChromium(lib.makeY4m(dir));
  try {
    const roles = JSON.parse(fs.readFileSync(path.join(lib.WEB, 'pkg/models/roles.json'), 'utf8')).filter((r) => r.sha256);
    const modelBytes = roles.reduce((s, r) => s + r.bytes, 0);
    assert.ok(roles.length >= 3 && roles.every((r) => /^[0-9a-f]{64}$/.test(r.sha256)), 'roles.json has a sha256 per built model');
    const ctx = await browser.newContext();   // one profile: its Cache API persists across pages
    const base = `/${JSON.parse(fs.readFileSync(path.join(lib.WEB, 'v/index.json'), 'utf8')).base}`;
    // static files the server answered (its /metrics counter; the test page itself is Playwright's)
    const served = async () => [...(await (await fetch(`${server.url}/metrics`)).text())
      .matchAll(/^veriface_http_requests_total\{route="static",status="\d+"\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    const s0 = await served();
    const cold = await create(await ctx.newPage(), server.url, base, `${server.url}/__cache__.html`);
    const s1 = await served();
    assert.ok(!cold.error, JSON.stringify(cold.error));
    assert.equal(cold.models.length, roles.length, `cold: every model downloaded (${cold.models})`);
    assert.equal(cold.info.cached, 0);
    // the models came gzip-encoded (tools/web-gzip.mjs's .vfm.gz): decoded, they hashed to roles.json's SHA-256
    // (create() would have failed) and went to the Cache API, whose copies the warm visit hashes again
    const gzipped = roles.filter((r) => fs.existsSync(path.join(lib.WEB, 'pkg/models', `${r.file}.gz`))).length;
    assert.ok(gzipped >= 1, 'build/web has precompressed models');
    assert.equal(cold.encodings.filter((e) => e === 'gzip').length, gzipped, `cold: model encodings ${cold.encodings}`);
    assert.ok(cold.info.downloaded > modelBytes, `cold: ${cold.info.downloaded} bytes downloaded, models alone ${modelBytes}`);
    const warm = await create(await ctx.newPage(), server.url, base, `${server.url}/__cache__.html`);
    assert.ok(!warm.error, JSON.stringify(warm.error));
    const s2 = await served();
    assert.ok(s1 - s0 >= 10, `cold: ${s1 - s0} static files served`);
    assert.equal(s2 - s1, 1, `warm: the page revalidated, no file of ${base} asked again (immutable); ${s2 - s1} served`);
    assert.deepEqual(warm.models, [], 'warm: no model requested');
    assert.equal(warm.info.cached, modelBytes, 'warm: every model from the cache');
    assert.ok(warm.info.downloaded < cold.info.downloaded - modelBytes + 1, `warm: ${warm.info.downloaded} bytes downloaded`);
    assert.ok(warm.stages.includes('cached') && warm.cachedSeen === modelBytes, `progress: ${warm.stages} ${warm.cachedSeen}`);
    console.log(`cold: ${cold.info.downloaded} bytes downloaded; warm: ${warm.info.downloaded} downloaded, ${warm.info.cached} from the cache`);
    await ctx.close();

    // a damaged download: refused, named, and not cached (a fresh profile)
    const bad = await browser.newContext();
    const meshFile = roles.find((x) => x.name === 'mesh').file;
    const esc = meshFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await bad.route(new RegExp(`/pkg/models/${esc}(\\?|$)`), async (route) => {
      const res = await route.fetch();
      const body = Buffer.from(await res.body());
      body[body.length - 1] ^= 1;
      await route.fulfill({ response: res, body });
    });
    const r = await create(await bad.newPage(), server.url);
    assert.equal(r.error && r.error.code, 'model', JSON.stringify(r));
    assert.match(r.error.message, new RegExp(`${esc}(\\?v=[0-9a-f]{64})?: sha256 [0-9a-f]{64}, models/roles\\.json says [0-9a-f]{64}`));
    const page = await bad.newPage();
    await lib.routeTestPage(page, server.url);
    await page.goto(`${server.url}/__test__.html`);
    const keys = await page.evaluate(async () => (await (await caches.open('veriface-models-v1')).keys()).map((k) => k.url));
    const mesh = roles.find((x) => x.name === 'mesh').sha256;
    assert.ok(!keys.some((k) => k.endsWith(mesh)), `the damaged mesh is not cached (${keys.length} entries)`);
    await bad.close();
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
