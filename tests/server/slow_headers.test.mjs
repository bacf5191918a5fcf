// slow_headers.test.mjs - issue 12 item 1: slow request heads must not lock everyone out.
// 32 connections from each of 8 loopback addresses (127.0.1.1..8) send one header line every
// 500 ms and never finish their head (the attack filled all 256 connections of the old server);
// meanwhile a client from a 9th address must get /healthz and a session created within 2 s. Then,
// with a 2 s header deadline, a head that drips a byte every 200 ms is answered 408 and closed
// within the deadline (the old idle timeout restarted on every byte). The deadline is
// min(header_timeout, request_timeout); the test sets request_timeout, a key the old server knew.
import * as h from './harness.mjs';
import { rawRequest, httpRequest, sleep } from './raw.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

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
