// robustness.test.mjs - bad input never crashes the server: a few hundred mutated packages
// (fields deleted or given random types and values, JPEG bytes corrupted with the hash recomputed,
// claims made inconsistent, raw JSON bytes flipped), each signed properly so it reaches the deep
// checks, plus garbage requests. Every answer must be JSON (200 decision or 4xx error with a code)
// and the server must still be healthy at the end. Deterministic (seeded).
import * as h from './harness.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

h.requireData({ pad: false });   // decisions are review without PAD: still decisions

let seed = 0x9e3779b9;
const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296; };
const pick = (a) => a[Math.floor(rnd() * a.length)];
const VALUES = () => [null, -1, 0, 1, 1e308, -1e308, 2 ** 53 + 1, 0.5, '', 'x'.repeat(5000), [], {}, true, false, [1, 2, 3], { a: 1 }, '\u0000'];

function paths(o, prefix = [], out = []) {
  if (o && typeof o === 'object') {
    for (const k of Object.keys(o)) {
      if (k === 'data' || k === 'vector') { out.push([...prefix, k]); continue; }
      out.push([...prefix, k]);
      paths(o[k], [...prefix, k], out);
    }
  }
  return out;
}

function mutate(pkg) {
  const kind = Math.floor(rnd() * 6);
  const all = paths(pkg);
  const p = pick(all);
  const parent = p.slice(0, -1).reduce((o, k) => o[k], pkg), key = p[p.length - 1];
  if (kind === 0) delete parent[key];
  else if (kind === 1 || kind === 2) parent[key] = pick(VALUES());
  else if (kind === 3) {  // corrupt a frame's JPEG, keep the hash right so it reaches the decoder
    const f = pick(pkg.frames);
    const b = Buffer.from(f.data, 'base64');
    const n = 1 + Math.floor(rnd() * 20);
    for (let i = 0; i < n; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
    f.data = cut.toString('base64');
    f.sha256 = h.sha256hex(cut);
  } else if (kind === 4) {  // inconsistent claims
    pkg.result.chosen = pick([[], [-1], [1e9], [pkg.frames[0].index, pkg.frames[0].index], Array(100).fill(0), 'x']);
    if (rnd() < 0.5) pkg.result.embedding.vector = pick([[], ['a'], Array(5000).fill(1), null]);
    if (rnd() < 0.5) pkg.frames[0].status.quality = pick([null, {}, { face_count: 'x' }, { face_count: 1e9 }]);
  } else {
    pkg.frames[Math.floor(rnd() * pkg.frames.length)].index = pick([-5, 1e12, 0.5, 'a']);
  }
}

test('mutated and garbage packages: always a JSON answer, never a crash', async () => {
  const srv = await h.startServer({ limits: { per_ip_rate: 0, per_session_per_min: 0 } });
  try {
    const key = await h.newKey();
    const s0 = await h.createSession(srv, key);
    const sim = h.simulate(s0.body.config, ['--mjpeg', h.MJPEG(), '--start', '60', '--max', '40']);
    const counts = {};
    let session = (await h.createSession(srv, key)).body;
    for (let i = 0; i < 300; i++) {
      let body;
      if (i % 10 === 9) {  // raw byte flips of the JSON text
        const t = Buffer.from(h.buildPackage(session, sim));
        for (let k = 0; k < 5; k++) t[Math.floor(rnd() * t.length)] = Math.floor(rnd() * 256);
        body = t;
      } else {
        body = h.buildPackage(session, sim, { mutate });
      }
      const r = await h.postResult(srv, session.session_id, body, key);
      assert.ok(r.body, `answer ${i} is not JSON: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `answer ${i}: ${r.status} ${r.text.slice(0, 300)}`);
      const code = r.status === 200 ? r.decision : r.body.error.code;
      assert.equal(typeof code, 'string', r.text);
      counts[code] = (counts[code] || 0) + 1;
      if (r.status === 200 || r.body.error.code === 'session_closed') session = (await h.createSession(srv, key)).body;
    }
    // garbage on the wire: not HTTP, a truncated request, an absurd Content-Length
    for (const raw of ['\x00\x01\x02garbage\r\n\r\n', 'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{',
      'GET /' + 'a'.repeat(70000) + ' HTTP/1.1\r\nHost: x\r\n\r\n', 'POST /v1/sessions/x/result HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"a"']) {
      await new Promise((resolve) => {
        const sock = net.connect(srv.port, '127.0.0.1', () => sock.end(raw));
        sock.on('data', () => {}); sock.on('error', resolve); sock.on('close', resolve);
        setTimeout(() => { sock.destroy(); resolve(); }, 1000);
      });
    }
    const hz = await fetch(srv.base + '/healthz');
    assert.equal(hz.status, 200);
    console.log('# outcomes:', JSON.stringify(counts));
    assert.equal(await srv.stop(), 0, 'graceful exit after the abuse');
  } finally {
    if (srv.stderr()) console.log('# server stderr:\n' + srv.stderr().split('\n').map((l) => '# ' + l).join('\n'));
    await srv.stop('SIGKILL');
    srv.cleanup();
  }
});

test('request timeout bounds a body that drips in slowly', async () => {
  const srv = await h.startServer({ limits: { per_ip_rate: 0, request_timeout: 2 } }, { threads: 1 });
  try {
    const t0 = Date.now();
    const closedAfter = await new Promise((resolve) => {
      const sock = net.connect(srv.port, '127.0.0.1', () => {
        sock.write('POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n');
        let k = 0;
        const drip = setInterval(() => { if (k++ < 40 && !sock.destroyed) sock.write('{'); }, 300);
        sock.on('close', () => { clearInterval(drip); resolve(Date.now() - t0); });
        sock.on('error', () => {});
      });
      setTimeout(() => { sock.destroy(); resolve(Infinity); }, 15000);
    });
    assert.ok(closedAfter < 6000, `connection closed after ${closedAfter} ms (timeout 2 s)`);
    assert.equal((await fetch(srv.base + '/healthz')).status, 200);
  } finally {
    assert.equal(await srv.stop(), 0);
    srv.cleanup();
  }
});
