// body_budget.test.mjs - issue 12 item 2: memory per connection. 48 connections (6 addresses x 8)
// each declare an 8 000 000-byte body and send all of it but the last byte; on the old server every
// one buffered its body (48 x 8 MB of RSS). With the global budget for pending bodies (64 MiB by
// default) those over it are answered 503 with Retry-After before their body is read, and the
// server's RSS grows by at most about the budget.
import * as h from './harness.mjs';
import { parseAnswer, rssBytes, rawRequest, sleep } from './raw.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

h.requireData({ pad: false });

test('pending bodies: over the budget 503 + Retry-After at once, RSS bounded', async () => {
  const srv = await h.startServer({ limits: { per_ip_rate: 0 } }, { threads: 1 });
  const socks = [];
  try {
    await rawRequest(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const rss0 = rssBytes(srv.proc.pid);
    const N = 48, CL = 8_000_000, body = Buffer.alloc(CL - 1, 0x20);
    const results = await Promise.all(Array.from({ length: N }, (_, i) => new Promise((resolve) => {
      const t0 = performance.now();
      const s = net.connect({ port: srv.port, host: '127.0.0.1', localAddress: `127.0.3.${1 + (i % 6)}` });
      socks.push(s);
      const chunks = [];
      let ms = null;
      s.on('connect', () => {
        s.write(`POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${CL}\r\n\r\n`);
        s.write(body);   // all but the last byte: the request stays pending
      });
      const done = () => resolve({ answer: parseAnswer(Buffer.concat(chunks)), ms });
      s.on('data', (d) => { if (ms === null) ms = performance.now() - t0; chunks.push(d); if (parseAnswer(Buffer.concat(chunks))?.json) done(); });
      s.on('end', done);
      s.on('error', done);
      setTimeout(done, 10000);   // an admitted one: no answer, its body waits in the server (10 s: a loaded CI machine)
    })));
    // the admitted bodies are in the server's memory now
    const rss1 = rssBytes(srv.proc.pid);
    const refused = results.filter((r) => r.answer?.status === 503);
    const grownMiB = (rss1 - rss0) / 1048576;
    console.log(`# ${refused.length} of ${N} refused 503; RSS ${(rss0 / 1048576).toFixed(0)} -> ${(rss1 / 1048576).toFixed(0)} MiB ` +
      `(+${grownMiB.toFixed(0)}); slowest refusal ${Math.max(0, ...refused.map((r) => r.ms)).toFixed(0)} ms`);
    assert.ok(refused.length >= N - 8, `${refused.length} of ${N} refused (budget 64 MiB = 8 bodies of 8 MB)`);
    for (const r of refused) {
      assert.equal(r.answer.json?.error?.code, 'busy', r.answer.body);
      assert.match(r.answer.headers['retry-after'] ?? '', /^\d+$/, 'Retry-After');
      assert.equal(r.answer.headers.connection, 'close');
      assert.equal(r.answer.headers['cross-origin-resource-policy'], 'same-origin');
      // bounded, not timed: the refusal comes from the head, long before the 30 s request timeout
      assert.ok(r.ms < 8000, `refused after ${r.ms.toFixed(0)} ms`);
    }
    assert.ok(grownMiB < 100, `RSS grew by ${grownMiB.toFixed(0)} MiB with ${N} pending 8 MB bodies (budget 64 MiB)`);
    socks.forEach((s) => s.destroy());
    await sleep(300);
    // the budget comes back: a normal request with a body is served
    const key = await h.newKey();
    const r = await h.createSession(srv, key);
    assert.equal(r.status, 201, JSON.stringify(r.body));
  } finally {
    socks.forEach((s) => s.destroy());
    await srv.stop();
    srv.cleanup();
  }
});
