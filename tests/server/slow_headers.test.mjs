// slow_headers.test.mjs - issue 12 item 1: slow request heads must not lock everyone out.
// 32 connections from each of 8 loopback addresses (127.0.1.1..8) send one header line every
// 500 ms and never finish their head (the attack filled all 256 connections of the old server);
// meanwhile a client from a 9th address must get /healthz and a session created within 2 s. Then,
// with a 2 s header deadline, a head that drips a byte every 200 ms is answered 408 and closed
// within the deadline (the old idle timeout restarted on every byte). The deadline is
// min(header_timeout, request_timeout); the test sets request_timeout, a key the old server knew.
// The same deadline holds for the next head on a connection kept alive after a static file, and a
// connection whose static answer stalls (the client reads slowly) still counts for its address.
import * as h from './harness.mjs';
import { rawRequest, httpRequest, sleep, connection } from './raw.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

h.requireData({ pad: false });

test('8 addresses x 32 slow heads: a 9th address still gets /healthz and a session within 2 s', async () => {
  const srv = await h.startServer({ limits: { per_ip_rate: 0 } }, { threads: 1 });
  const socks = [], drips = [];
  try {
    let connected = 0, answered = 0;
    await Promise.all(Array.from({ length: 8 * 32 }, (_, i) => new Promise((resolve) => {
      const s = net.connect({ port: srv.port, host: '127.0.0.1', localAddress: `127.0.1.${1 + (i % 8)}` });
      socks.push(s);
      s.on('connect', () => {
        connected++;
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
        drips.push(setInterval(() => { if (!s.destroyed) s.write('X-Slow: 1\r\n'); }, 500));
        resolve();
      });
      s.on('data', () => { answered++; });   // a refusal (per-address cap) is fine
      s.on('error', () => resolve());
      setTimeout(resolve, 3000);
    })));
    await sleep(1000);   // the attack is established: every slow connection has sent a few lines
    console.log(`# attack: ${connected} connected, ${answered} answered at once (refused)`);
    const t0 = performance.now();
    const hz = await httpRequest(srv.port, 'GET', '/healthz', { localAddress: '127.0.2.1', timeout: 2000 });
    const hzMs = performance.now() - t0;
    assert.equal(hz.answer?.status, 200, `/healthz from a 9th address: ${hz.error || hz.raw.toString().slice(0, 200)}`);
    assert.ok(hzMs < 2000, `/healthz took ${hzMs.toFixed(0)} ms`);
    const key = await h.newKey();
    const t1 = performance.now();
    const cr = await httpRequest(srv.port, 'POST', '/v1/sessions', { localAddress: '127.0.2.1', timeout: 2000,
      body: { client_public_key: key.spki }, headers: { Authorization: `Bearer ${h.API_KEY}` } });
    const crMs = performance.now() - t1;
    assert.equal(cr.answer?.status, 201, `session creation from a 9th address: ${cr.error || cr.raw.toString().slice(0, 200)}`);
    assert.ok(crMs < 2000, `session creation took ${crMs.toFixed(0)} ms`);
    console.log(`# 9th address: /healthz ${hzMs.toFixed(0)} ms, session ${crMs.toFixed(0)} ms`);
  } finally {
    drips.forEach(clearInterval);
    socks.forEach((s) => s.destroy());
    await srv.stop();
    srv.cleanup();
  }
});

test('the head deadline does not restart per byte: 408 and closed at the deadline', async () => {
  const srv = await h.startServer({ limits: { per_ip_rate: 0, request_timeout: 2 } }, { threads: 1 });
  try {
    const t0 = performance.now();
    const r = await new Promise((resolve) => {
      const s = net.connect({ port: srv.port, host: '127.0.0.1' });
      const chunks = [];
      let drip;
      s.on('connect', () => {
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
        drip = setInterval(() => { if (!s.destroyed) s.write('a'); }, 200);
      });
      s.on('data', (d) => chunks.push(d));
      s.on('error', () => {});
      s.on('close', () => { clearInterval(drip); resolve({ text: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }); });
      setTimeout(() => { clearInterval(drip); s.destroy(); }, 8000);
    });
    assert.match(r.text, /^HTTP\/1\.1 408 /, r.text.slice(0, 100));
    assert.match(r.text, /"code":"header_timeout"/);
    assert.match(r.text, /\r\nConnection: close\r\n/i);
    assert.ok(r.ms > 1800 && r.ms < 4500, `closed after ${r.ms.toFixed(0)} ms (deadline 2 s, bytes every 200 ms)`);
    assert.equal((await rawRequest(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).answer.status, 200);
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});

test('a kept-alive connection: the next head has the same deadline (408), an idle one is closed at it', async () => {
  const web = mkdtempSync(join(tmpdir(), 'vf-web-'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>t</title>');
  const srv = await h.startServer({ limits: { per_ip_rate: 0, request_timeout: 2 } }, { threads: 1, extraArgs: ['--static', web] });
  const get = 'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n';
  const a = connection(srv.port);
  let b = null, drip;
  try {
    await a.send(get);
    assert.equal((await a.next())?.status, 200);
    await a.send('GET /index.html HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    drip = setInterval(() => a.send('a'), 200);
    const late = await a.next(8000);
    assert.equal(late?.status, 408, 'the dripped next head');
    assert.equal(late.json?.error?.code, 'header_timeout');
    assert.ok(late.ms > 1500 && late.ms < 4500, `answered after ${late.ms.toFixed(0)} ms (deadline 2 s)`);
    b = connection(srv.port);
    await b.send(get);
    assert.equal((await b.next())?.status, 200);
    const t0 = performance.now();
    assert.equal(await b.next(8000), null, 'nothing more on an idle connection');
    const ms = performance.now() - t0;
    assert.ok(b.closed() && ms > 1500 && ms < 4500, `idle connection closed after ${ms.toFixed(0)} ms (deadline 2 s)`);
  } finally {
    clearInterval(drip);
    a.destroy();
    b?.destroy();
    await srv.stop();
    srv.cleanup();
    rmSync(web, { recursive: true, force: true });
  }
});

test('connections that read a static answer slowly count for their address: the next one is refused, another address is served', async () => {
  const web = mkdtempSync(join(tmpdir(), 'vf-web-'));
  writeFileSync(join(web, 'big.bin'), Buffer.alloc(48 << 20, 7));   // more than the socket buffers hold
  const srv = await h.startServer({ limits: { per_ip_rate: 0, max_connections: 64, per_ip_connections: 4 } },
    { threads: 1, extraArgs: ['--static', web] });
  const socks = [];
  try {
    // 4 connections from one address ask for the big file and stop reading: their answers stall
    await Promise.all(Array.from({ length: 4 }, () => new Promise((resolve, reject) => {
      const s = net.connect({ port: srv.port, host: '127.0.0.1', localAddress: '127.0.3.1' });
      socks.push(s);
      s.on('connect', () => { s.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n'); s.pause(); resolve(); });
      s.on('error', reject);
    })));
    await sleep(800);
    const same = await httpRequest(srv.port, 'GET', '/healthz', { localAddress: '127.0.3.1', timeout: 3000 });
    assert.equal(same.answer?.status, 503, `a 5th connection from the address: ${same.error || same.raw.toString().slice(0, 200)}`);
    assert.match(same.raw.toString(), /from this address/);
    const other = await httpRequest(srv.port, 'GET', '/healthz', { localAddress: '127.0.3.2', timeout: 3000 });
    assert.equal(other.answer?.status, 200, 'another address');
  } finally {
    socks.forEach((s) => s.destroy());
    await srv.stop();
    srv.cleanup();
    rmSync(web, { recursive: true, force: true });
  }
});
