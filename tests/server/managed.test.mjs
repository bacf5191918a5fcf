// managed.test.mjs - issue 13, the managed session end to end: the integrator creates a session
// with redirect_url, webhook_url and reference_id and gets a session_url; headless Chromium (fake
// camera from real webcam frames, tests/browser/lib.mjs) opens it, the server's own page captures
// with @veriface/web under the page CSP (no violation), posts the signed package and redirects to
// redirect_url?session_id=...; the signed webhook arrives with the verdict the integrator reads.
// The start token is single-use and the page needs it.
import * as h from './harness.mjs';
import * as b from '../browser/lib.mjs';
import { verify } from '../../docs/examples/webhook-receiver.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

const skip = b.skipReason();
if (skip) { console.log(`SKIP: ${skip}`); process.exit(77); }
h.requireData();

const SECRET = 'whsec-managed-0123456789abcdef';
let S, R, rport;
const arrivals = [];

before(async () => {
  // the integrator's side: the page it redirects to, and its webhook receiver
  R = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c)).on('end', () => {
      if (req.method === 'POST' && req.url === '/hook') {
        const body = Buffer.concat(chunks);
        arrivals.push({ headers: req.headers, body, valid: verify(SECRET, req.headers, body) });
        return res.writeHead(200).end();
      }
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>integrator</title><p>done</p>');
    });
  });
  rport = await new Promise((r) => R.listen(0, '127.0.0.1', () => r(R.address().port)));
  S = await h.startServer({
    integrators: [{ api_key: h.API_KEY, webhook_secret: SECRET }],
    webhooks: { base_ms: 100, max_ms: 1000, poll_ms: 50, allow_private: true },
    limits: { per_ip_rate: 0 },
  }, { extraArgs: ['--static', b.WEB] });
});
after(async () => { await S?.stop(); S?.cleanup(); await new Promise((r) => R.close(r)); });

async function createManaged(extra = {}) {
  const res = await fetch(`${S.base}/v1/sessions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.API_KEY}` },
    body: JSON.stringify({ redirect_url: `http://127.0.0.1:${rport}/done?order=7`, webhook_url: `http://127.0.0.1:${rport}/hook`,
      reference_id: 'applicant-1138', ...extra }),
  });
  return { status: res.status, body: await res.json() };
}

test('the start token: needed, and single-use', async () => {
  const c = await createManaged();
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.equal(c.body.nonce, undefined, 'the integrator gets no nonce: the page does, when it binds its key');
  const m = /^http:\/\/127\.0\.0\.1:\d+\/verify\/([0-9a-f]{32})#([A-Za-z0-9_-]{43})$/.exec(c.body.session_url);
  assert.ok(m, c.body.session_url);
  assert.equal(m[1], c.body.session_id);
  const key = await h.newKey();
  const start = (token, spki = key.spki) => fetch(`${S.base}/v1/sessions/${m[1]}/start`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token, client_public_key: spki }) });
  const wrong = m[2].replace(/^./, (x) => (x === 'A' ? 'B' : 'A'));
  assert.equal((await start(wrong)).status, 404, 'a wrong token opens nothing');
  const ok = await start(m[2]);
  assert.equal(ok.status, 200);
  const s = await ok.json();
  assert.equal(s.session_id, m[1]);
  assert.ok(s.nonce && s.config && s.models, 'what the page needs to capture');
  assert.equal(s.redirect_url, `http://127.0.0.1:${rport}/done?order=7&session_id=${m[1]}`);
  const again = await start(m[2], (await h.newKey()).spki);
  assert.equal(again.status, 409, 'a second page cannot take the session over');
  assert.equal((await again.json()).error.code, 'session_started');
  // the bound key is the one the result must be signed with
  const sim = h.simulate(s.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
  const other = await h.newKey();
  assert.equal((await h.postResult(S, m[1], h.buildPackage(s, sim), other)).status, 401, 'another key: bad_signature');
  const r = await h.postResult(S, m[1], h.buildPackage(s, sim), key);
  assert.equal(r.status, 200, r.text);
});

test('a managed session in headless Chromium: capture, redirect, signed webhook', { timeout: 240000 }, async () => {
  const c = await createManaged();
  assert.equal(c.status, 201, JSON.stringify(c.body));
  const page0 = await fetch(c.body.session_url.replace(/#.*/, ''));
  assert.equal(page0.status, 200);
  const csp = page0.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'/, csp);
  assert.doesNotMatch(await page0.text(), /<script>|<style|\sstyle=|\son[a-z]+=/i, 'no inline script or style');
  const dir = b.tempDir();
  const browser = await b.launchChromium(b.makeY4m(dir));
  try {
    const page = await browser.newPage();
    const problems = b.watchPage(page);
    const csp = await b.watchCsp(page, S.base);   // the server's policy on every page and script, workers' violations reported
    const violations = [];
    await page.exposeFunction('__cspViolation', (v) => violations.push(v));
    await page.addInitScript(() => document.addEventListener('securitypolicyviolation',
      (e) => window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`)));
    await page.goto(c.body.session_url);
    assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
    await page.waitForSelector('body[data-state=ready]', { timeout: 60000 });
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    const axe = await b.axe(page);
    assert.deepEqual(axe.bad, [], 'no serious or critical accessibility violation');
    await page.click('#start');
    await page.waitForURL(`http://127.0.0.1:${rport}/done**`, { timeout: 150000 });
    const u = new URL(page.url());
    assert.equal(u.searchParams.get('session_id'), c.body.session_id, 'redirected with the session id');
    assert.equal(u.searchParams.get('order'), '7', 'the integrator\'s own query kept');
    assert.deepEqual(violations, [], 'no CSP violation in the page');
    assert.deepEqual(csp, [], 'the policy on every page and script, no violation reported (workers included)');
    assert.deepEqual(problems, [], 'no console error or failed request');
  } finally { await browser.close(); }
  const d = (await h.getSession(S, c.body.session_id)).body;
  assert.equal(d.managed, true);
  assert.equal(d.page_started, true);
  assert.equal(d.status, 'final', JSON.stringify(d).slice(0, 300));
  assert.equal(d.reference_id, 'applicant-1138');
  const t0 = Date.now();
  while (!arrivals.some((a) => JSON.parse(a.body).session_id === c.body.session_id) && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 100));
  const mine = arrivals.filter((a) => JSON.parse(a.body).session_id === c.body.session_id);
  assert.equal(mine.length, 1, 'the webhook arrived once');
  assert.equal(mine[0].valid, true, 'signed with the integrator\'s secret');
  const ev = JSON.parse(mine[0].body);
  console.log(`# managed session decided ${ev.decision} (${ev.reasons.join(', ')}), attempt ${ev.attempt}`);
  assert.equal(ev.decision, d.decision, 'the verdict the integrator reads');
  assert.equal(ev.reference_id, 'applicant-1138');
  assert.equal(ev.id, `${c.body.session_id}-${d.attempts.at(-1).attempt}`);
});
