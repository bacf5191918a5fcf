// http_edges.test.mjs - issue 12 item 6 (the HTTP edges), on raw sockets: two different
// Content-Length headers, Content-Length with Transfer-Encoding (answered and closed), the answers
// libmicrohttpd used to give itself as HTML without the security headers (no Host, a bad version,
// an oversize head, a body over the limit), a chunked body (411), the page's
// Content-Security-Policy and X-Frame-Options, static files' caching (ETag, 304, immutable ?v=),
// and /metrics behind a token.
import * as h from './harness.mjs';
import { rawRequest, httpRequest, connection } from './raw.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, utimesSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

h.requireData({ pad: false });

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; frame-ancestors 'none'; " +
  "base-uri 'none'; form-action 'self'";

let srv, web;
before(async () => {
  web = mkdtempSync(join(tmpdir(), 'vf-web-'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>t</title>');
  srv = await h.startServer({ limits: { per_ip_rate: 0 } }, { threads: 1, extraArgs: ['--static', web] });
});
after(async () => { await srv?.stop(); srv?.cleanup(); rmSync(web, { recursive: true, force: true }); });

/** A JSON error with the headers of every answer, and the connection closed by the server. */
function assertRefusal(r, status, code, what) {
  const a = r.answer;
  assert.ok(a, `${what}: no HTTP answer (${r.error || 'nothing'}): ${r.raw.toString().slice(0, 120)}`);
  assert.equal(a.status, status, `${what}: ${a.status} ${a.body.slice(0, 200)}`);
  assert.equal(a.headers['content-type'], 'application/json', `${what}: content-type ${a.headers['content-type']}: ${a.body.slice(0, 80)}`);
  assert.equal(a.json?.error?.code, code, `${what}: ${a.body}`);
  assert.equal(typeof a.json.error.message, 'string');
  for (const [k, v] of [['cross-origin-opener-policy', 'same-origin'], ['cross-origin-embedder-policy', 'require-corp'],
    ['cross-origin-resource-policy', 'same-origin'], ['x-content-type-options', 'nosniff'], ['cache-control', 'no-store'],
    ['referrer-policy', 'no-referrer'], ['x-frame-options', 'DENY'], ['connection', 'close']])
    assert.equal(a.headers[k], v, `${what}: ${k}`);
  assert.ok(r.closed, `${what}: the server must close the connection`);
}

test('two different Content-Length headers -> 400, closed', async () => {
  const r = await rawRequest(srv.port, 'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}', { timeout: 3000 });
  assertRefusal(r, 400, 'bad_request', 'duplicate Content-Length');
  assertRefusal(await rawRequest(srv.port, 'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 40\r\n\r\n{}',
    { timeout: 3000 }), 400, 'bad_request', 'a Content-Length list');
  // the same value twice is one length (RFC 9110 8.6)
  const same = await rawRequest(srv.port, 'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}', { timeout: 3000 });
  assert.equal(same.answer?.status, 401, same.raw.toString().slice(0, 200));   // reached the route: no API key
});

test('Content-Length with Transfer-Encoding: chunked -> 400, closed (no smuggling)', async () => {
  const r = await rawRequest(srv.port, 'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n' +
    'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { timeout: 3000 });
  assertRefusal(r, 400, 'bad_request', 'CL + TE');
  assert.equal(r.raw.toString().match(/HTTP\/1\.1 /g).length, 1, 'one answer: the smuggled request is not served');
});

test('a chunked body without Content-Length -> 411', async () => {
  const r = await rawRequest(srv.port, 'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    { timeout: 3000 });
  assertRefusal(r, 411, 'length_required', 'chunked');
});

test("libmicrohttpd's own answers are JSON with the security headers now", async () => {
  // (the old server: HTML bodies, no security headers)
  assertRefusal(await rawRequest(srv.port, 'GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n', { timeout: 3000 }),
    505, 'http_version_not_supported', 'HTTP/3.0');
  assertRefusal(await rawRequest(srv.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(200000)}\r\n\r\n`, { timeout: 3000 }),
    431, 'header_too_large', 'a 200 KB header');
  assertRefusal(await rawRequest(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', { timeout: 3000 }),
    400, 'bad_request', 'header without a colon');
  // stricter than before: HTTP/1.1 without Host, a bare LF, obs-fold
  assertRefusal(await rawRequest(srv.port, 'GET /healthz HTTP/1.1\r\n\r\n', { timeout: 3000 }), 400, 'bad_request', 'no Host');
  assertRefusal(await rawRequest(srv.port, 'GET /healthz HTTP/1.1\nHost: x\n\n', { timeout: 3000 }), 400, 'bad_request', 'bare LF');
  assertRefusal(await rawRequest(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n', { timeout: 3000 }),
    400, 'bad_request', 'obs-fold');
  // a body over max_body (8 MiB) is answered from its head, before any of it is sent
  const t0 = performance.now();
  const big = await rawRequest(srv.port, 'POST /v1/sessions/0123/result HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    `Content-Length: ${9 << 20}\r\n\r\n`, { timeout: 3000 });
  assertRefusal(big, 413, 'body_too_large', '9 MiB declared');
  assert.ok(performance.now() - t0 < 2000, 'answered at once');
});

test('the page has a Content-Security-Policy and X-Frame-Options; JSON answers X-Frame-Options', async () => {
  const page = await fetch(srv.base + '/');
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), CSP);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  const hz = await fetch(srv.base + '/healthz');
  assert.equal(hz.headers.get('x-frame-options'), 'DENY');
  assert.equal(hz.headers.get('cross-origin-opener-policy'), 'same-origin');
});

test('static files: an ETag, revalidated (no-cache, 304 without the bytes), immutable with ?v=; the security headers kept', async () => {
  const first = await fetch(srv.base + '/index.html');
  assert.equal(first.status, 200);
  const etag = first.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);   // size and mtime: no inode
  assert.equal(first.headers.get('cache-control'), 'no-cache');
  assert.equal(first.headers.get('content-security-policy'), CSP);
  const again = await fetch(srv.base + '/index.html', { headers: { 'If-None-Match': `W/"x", ${etag}` } });
  assert.equal(again.status, 304);
  assert.equal((await again.arrayBuffer()).byteLength, 0);
  assert.equal(again.headers.get('etag'), etag);
  assert.equal(again.headers.get('cross-origin-embedder-policy'), 'require-corp');
  // a changed file is a new ETag: the old validator gets the bytes
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>changed</title>');
  const changed = await fetch(srv.base + '/index.html', { headers: { 'If-None-Match': etag } });
  assert.equal(changed.status, 200);
  assert.notEqual(changed.headers.get('etag'), etag);
  assert.match(await changed.text(), /changed/);
  const versioned = await fetch(srv.base + '/index.html?v=0123abcd');
  assert.equal(versioned.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  // a directory named by a content hash (tools/build-web's /v/<hash>/ alias of the package)
  mkdirSync(join(web, 'v/0123456789abcdef'), { recursive: true });
  writeFileSync(join(web, 'v/0123456789abcdef/a.js'), 'export {};');
  writeFileSync(join(web, 'v/a.js'), 'export {};');
  assert.equal((await fetch(srv.base + '/v/0123456789abcdef/a.js')).headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal((await fetch(srv.base + '/v/a.js')).headers.get('cache-control'), 'no-cache');
  assert.equal((await fetch(srv.base + '/healthz')).headers.get('cache-control'), 'no-store');
});

test('static files: the precompressed FILE.gz sent as gzip when Accept-Encoding allows it (q-values), its own ETag, HEAD, 304; identity otherwise and for a Range', async () => {
  const text = `export const words = ${JSON.stringify('lorem ipsum dolor '.repeat(400))};\n`;
  writeFileSync(join(web, 'big.js'), text);
  const gz = gzipSync(Buffer.from(text), { level: 9 });
  writeFileSync(join(web, 'big.js.gz'), gz);
  const get = (p, extra = '', method = 'GET') => `${method} ${p} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
  const c = connection(srv.port);
  try {
    await c.send(get('/big.js', 'Accept-Encoding: gzip, deflate, br\r\n'));
    const z = await c.next();
    assert.equal(z?.status, 200);
    assert.equal(z.headers['content-encoding'], 'gzip');
    assert.equal(z.headers.vary, 'Accept-Encoding');
    assert.equal(z.headers['content-type'], 'text/javascript');
    assert.equal(z.headers['content-security-policy'], CSP);
    assert.equal(Number(z.headers['content-length']), gz.length);
    assert.equal(gunzipSync(z.bytes).toString(), text);
    assert.match(z.headers.etag, /^"[0-9a-f]+-[0-9a-f]+-gz"$/);
    // identity: no Accept-Encoding, gzip;q=0, only other codings, a Range (answered whole, as on disk)
    let plainTag;
    for (const extra of ['', 'Accept-Encoding: gzip;q=0, br\r\n', 'Accept-Encoding: identity\r\n', 'Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n']) {
      await c.send(get('/big.js', extra));
      const a = await c.next();
      assert.equal(a?.status, 200, extra);
      assert.equal(a.headers['content-encoding'], undefined, extra);
      assert.equal(a.headers.vary, 'Accept-Encoding', extra);
      assert.equal(Number(a.headers['content-length']), Buffer.byteLength(text), extra);
      assert.equal(a.body, text, extra);
      assert.notEqual(a.headers.etag, z.headers.etag, extra);
      plainTag = a.headers.etag;
    }
    // the encoded variant revalidates by its own ETag; the identity one's does not match it
    await c.send(get('/big.js', `Accept-Encoding: gzip\r\nIf-None-Match: ${z.headers.etag}\r\n`));
    const nm = await c.next();
    assert.equal(nm?.status, 304);
    assert.equal(nm.headers.etag, z.headers.etag);
    await c.send(get('/big.js', `Accept-Encoding: gzip\r\nIf-None-Match: ${plainTag}\r\n`));
    assert.equal((await c.next())?.headers['content-encoding'], 'gzip');
    await c.send(get('/big.js', 'Accept-Encoding: *\r\n', 'HEAD'));
    const hd = await c.next(5000, { head: true });
    assert.equal(hd?.status, 200);
    assert.equal(hd.headers['content-encoding'], 'gzip');
    assert.equal(Number(hd.headers['content-length']), gz.length);
    // a .gz written well before its file (10 minutes) is stale: not sent
    utimesSync(join(web, 'big.js.gz'), new Date(Date.now() - 600000), new Date(Date.now() - 600000));
    await c.send(get('/big.js', 'Accept-Encoding: gzip\r\n'));
    const stale = await c.next();
    assert.equal(stale?.headers['content-encoding'], undefined);
    assert.equal(stale.body, text);
  } finally { c.destroy(); }
  // fetch (undici) asks for gzip and decodes it: the same text
  writeFileSync(join(web, 'big.js.gz'), gz);
  const f = await fetch(srv.base + '/big.js');
  assert.equal(f.headers.get('content-encoding'), 'gzip');
  assert.equal(await f.text(), text);
});

test('static files keep the connection: pipelined answers, every next head checked, API answers close it', async () => {
  const get = (p, extra = '') => `GET ${p} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
  const c = connection(srv.port);
  try {
    // two heads in one write, and a third after them: three answers on one connection
    await c.send(get('/index.html') + get('/index.html?v=1') + get('/../index.html'));
    const [a, b, trav] = [await c.next(), await c.next(), await c.next()];
    assert.equal(a?.status, 200, 'first answer');
    assert.equal(a.headers.connection, undefined, 'kept alive: no Connection: close');
    assert.equal(a.headers['content-security-policy'], CSP);
    assert.equal(a.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.equal(b?.status, 200, 'second answer');
    assert.equal(b.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(trav?.status, 404, 'no traversal on a kept-alive connection');
    await c.send(get('/index.html', `If-None-Match: ${a.headers.etag}\r\n`));
    const nm = await c.next();
    assert.equal(nm?.status, 304);
    assert.equal(nm.body, '');
    await c.send('HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n');
    const hd = await c.next(5000, { head: true });
    assert.equal(hd?.status, 200);
    assert.ok(Number(hd.headers['content-length']) > 0);
    // the next head passes the same checks as a first one: a chunked body -> 411, closed
    await c.send('POST /v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const te = await c.next();
    assert.equal(te?.status, 411);
    assert.equal(te.headers.connection, 'close');
    assert.equal(await c.next(3000), null);
    assert.ok(c.closed(), 'closed after the refusal');
  } finally { c.destroy(); }
  // an API request after static files: libmicrohttpd answers it, then the connection closes
  const d = connection(srv.port);
  try {
    await d.send(get('/index.html') + get('/healthz'));
    assert.equal((await d.next())?.status, 200);
    const hz = await d.next();
    assert.equal(hz?.status, 200);
    assert.equal(hz.json?.status, 'ok');
    assert.equal(hz.headers.connection, 'close');
    assert.equal(await d.next(3000), null);
    assert.ok(d.closed());
  } finally { d.destroy(); }
  // HTTP/1.0 and Connection: close are answered and closed
  for (const head of ['GET /index.html HTTP/1.0\r\n\r\n', get('/index.html', 'Connection: close\r\n')]) {
    const r = await rawRequest(srv.port, head);
    assert.equal(r.answer?.status, 200, head);
    assert.equal(r.answer.headers.connection, 'close', head);
    assert.ok(r.closed, head);
  }
});

test('idle kept-alive connections do not count for their address; a request in progress on one does, static or not', async () => {
  const m = await h.startServer({ limits: { per_ip_rate: 0, per_ip_connections: 2 } }, { threads: 1, extraArgs: ['--static', web] });
  const conns = [];
  try {
    for (let i = 0; i < 4; i++) {   // each served once and left open
      const c = connection(m.port);
      conns.push(c);
      await c.send('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n');
      const a = await c.next();
      assert.equal(a?.status, 200, `connection ${i + 1} of an address allowed 2`);
      assert.equal(a.headers['keep-alive'], 'timeout=10');
    }
    assert.deepEqual(conns.map((c) => c.closed()), [false, false, false, false]);
    // two of them send an endpoint's request, its body still coming (libmicrohttpd holds them,
    // counted for the address): an endpoint's request on a third is refused
    for (const c of conns.slice(0, 2)) await c.send('POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{');
    await new Promise((r) => setTimeout(r, 300));
    await conns[2].send('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const busy = await conns[2].next();
    assert.equal(busy?.status, 503);
    assert.equal(busy.json?.error?.code, 'busy');
    // a static file on the fourth waits its turn like any request (an answer in progress counts: a
    // slow reader must not hold connections past the cap); once the two bodies are gone it is served
    await conns[3].send('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n');
    const busy2 = await conns[3].next();
    assert.equal(busy2?.status, 503);
    assert.equal(busy2.json?.error?.code, 'busy');
    conns.slice(0, 2).forEach((c) => c.destroy());
    await new Promise((r) => setTimeout(r, 300));
    const again = connection(m.port);
    conns.push(again);
    await again.send('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await again.next())?.status, 200, 'served once the address is under its cap');
  } finally {
    conns.forEach((c) => c.destroy());
    await m.stop();
    m.cleanup();
  }
});

test('/metrics behind a token (VERIFACE_METRICS_TOKEN): 401 without it or with another, 200 with it', async () => {
  const token = 'metrics-token-0123456789';
  process.env.VERIFACE_METRICS_TOKEN = token;
  const m = await h.startServer({ limits: { per_ip_rate: 0 } }, { threads: 1 });
  delete process.env.VERIFACE_METRICS_TOKEN;
  try {
    const none = await httpRequest(m.port, 'GET', '/metrics');
    assert.equal(none.answer?.status, 401, none.raw.toString().slice(0, 200));
    assert.equal(none.answer.json?.error?.code, 'unauthorized');
    assert.equal(none.answer.headers['www-authenticate'], 'Bearer');
    const wrong = await httpRequest(m.port, 'GET', '/metrics', { headers: { Authorization: 'Bearer metrics-token-0123456780' } });
    assert.equal(wrong.answer?.status, 401);
    const api = await httpRequest(m.port, 'GET', '/metrics', { headers: { Authorization: `Bearer ${h.API_KEY}` } });
    assert.equal(api.answer?.status, 401, 'an API key is not the metrics token');
    const ok = await httpRequest(m.port, 'GET', '/metrics', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(ok.answer?.status, 200);
    assert.match(ok.answer.body, /veriface_http_requests_total\{route="metrics",status="401"\} 3/);
    assert.equal((await httpRequest(m.port, 'GET', '/healthz')).answer?.status, 200, 'the rest stays open');
  } finally {
    await m.stop();
    m.cleanup();
  }
});
