// package.test.mjs - node only (no browser): the signed package (web/src/package.js) against an
// independent verifier (node:crypto, IEEE P1363), the JS engine wrapper on the single-threaded
// wasm build (tests/wasm/engine-smoke.mjs), and the npm tarball installed from a local file.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as lib from './lib.mjs';

const pkgjs = await import(pathToFileURL(path.join(lib.ROOT, 'web/src/package.js')).href);

const statusJson = '{"index":3,"good":true,"quality":{"presence":1.0000,"yaw":-1.50}}';
const fields = (over = {}) => ({
  session: { session_id: 'ab'.repeat(16), nonce: 'n0nce', attempt: 2 },
  createdAt: 1764615012345,
  capture: { started_at: 1, finished_at: 2, frames_pushed: 3, threaded: false },
  module: { web: '0.1.0', engine: '0.1.0', build: 'simd' },
  models: { detector: 'd', mesh: 'm', pad_v2: '', pad_v1se: '', embedder: 'e' },
  resultJson: '{"format":1,"liveness":{"score":0.9000}}',
  frames: [{ index: 3, timestamp: 99.5, width: 640, height: 480, sha256: '00', data: 'AAAA', statusJson }],
  signals: { camera: null, timing: { frames: 0 } },
  ...over,
});

test('package: body layout, C JSON verbatim, signature verified independently', async () => {
  const key = await pkgjs.createSessionKey();
  assert.equal(key.privateKey.extractable, false, 'private key non-extractable');
  await assert.rejects(crypto.webcrypto.subtle.exportKey('pkcs8', key.privateKey));
  const signed = await pkgjs.signPackage(key.privateKey, fields());
  const body = JSON.parse(signed.body);
  assert.deepEqual(Object.keys(body), ['format', 'session_id', 'nonce', 'attempt', 'created_at', 'capture', 'module', 'models',
    'result', 'frames', 'signals']);
  assert.equal(body.attempt, 2);
  assert.ok(signed.body.includes(`"status":${statusJson}`), 'frame status inserted verbatim (1.0000 stays 1.0000)');
  assert.ok(signed.body.includes('"result":{"format":1,"liveness":{"score":0.9000}}'));
  assert.match(signed.signature, /^[A-Za-z0-9_-]{86}$/, '64 bytes, b64url without padding');
  assert.equal(signed.headers['X-Veriface-Signature'], signed.signature);

  // an independent verifier: node:crypto with the SPKI DER and P1363 encoding, as a server would
  const pub = crypto.createPublicKey({ key: Buffer.from(key.publicKeySpki, 'base64'), format: 'der', type: 'spki' });
  const sig = Buffer.from(signed.signature, 'base64url');
  assert.equal(sig.length, 64);
  assert.ok(crypto.verify('sha256', Buffer.from(signed.body, 'utf8'), { key: pub, dsaEncoding: 'ieee-p1363' }, sig));
  assert.equal(crypto.verify('sha256', Buffer.from(signed.body.replace('n0nce', 'n0nc3'), 'utf8'), { key: pub, dsaEncoding: 'ieee-p1363' }, sig), false);
  assert.ok(await pkgjs.verifyBody(key.publicKeySpki, signed.body, signed.signature));
  const other = await pkgjs.createSessionKey();
  assert.equal(await pkgjs.verifyBody(other.publicKeySpki, signed.body, signed.signature), false);
});

test('package: the active challenge between frames and signals, signed with the rest', async () => {
  const cf = { index: 0, timestamp: 1764825600150.2, width: 480, height: 360, mime: 'image/jpeg', sha256: 'ab', data: 'AAAA' };
  const key = await pkgjs.createSessionKey();
  for (const light_start of [1764825600123.4, null]) {
    const signed = await pkgjs.signPackage(key.privateKey, fields({ challenge: { steps: ['left', 'up'], light_start, frames: [cf, { ...cf, index: 1, timestamp: 1764825600250.7 }] } }));
    const body = JSON.parse(signed.body);
    assert.deepEqual(Object.keys(body), ['format', 'session_id', 'nonce', 'attempt', 'created_at', 'capture', 'module', 'models',
      'result', 'frames', 'challenge', 'signals']);
    assert.deepEqual(body.challenge, { steps: ['left', 'up'], light_start, frames: [cf, { ...cf, index: 1, timestamp: 1764825600250.7 }] });
    assert.ok(signed.body.includes(`"challenge":{"steps":["left","up"],"light_start":${light_start},"frames":[{"index":0,`));
    assert.ok(await pkgjs.verifyBody(key.publicKeySpki, signed.body, signed.signature));
  }
  assert.equal(JSON.parse(pkgjs.buildBody(fields({ challenge: null }))).challenge, undefined, 'absent without a challenge');
  assert.throws(() => pkgjs.buildBody(fields({ challenge: { steps: ['left'], light_start: 'now', frames: [] } })), (e) => e.code === 'invalid_arg');
  assert.throws(() => pkgjs.buildBody(fields({ challenge: { steps: ['left'] } })), (e) => e.code === 'invalid_arg');
});

test('package: bad inputs are errors with codes', async () => {
  assert.throws(() => pkgjs.buildBody(fields({ resultJson: '{broken' })), SyntaxError);
  assert.throws(() => pkgjs.buildBody(fields({ session: { session_id: 'x' } })), (e) => e.code === 'invalid_arg');
  assert.throws(() => pkgjs.buildBody(fields({ frames: [{ ...fields().frames[0], statusJson: undefined }] })), (e) => e.code === 'invalid_arg');
  // an HTTP error carries the server's code and status
  const fakeFetch = async () => new Response(JSON.stringify({ error: { code: 'bad_signature', message: 'no' } }), { status: 401 });
  await assert.rejects(pkgjs.postPackage('http://127.0.0.1:9/', 'ab', { headers: {}, body: '{}' }, { fetch: fakeFetch }),
    (e) => e.code === 'bad_signature' && e.status === 401);
  const downFetch = async () => { throw new TypeError('fetch failed'); };
  await assert.rejects(pkgjs.createDemoSession('http://127.0.0.1:9', 'k', {}, { fetch: downFetch }), (e) => e.code === 'network');
});

const wasmDir = path.resolve(lib.ROOT, process.env.VF_WASM_BUILD || 'build-wasm');
const wasmReady = fs.existsSync(path.join(wasmDir, 'veriface-simd.mjs')) &&
  fs.readFileSync(path.join(wasmDir, 'veriface-simd.mjs'), 'utf8').includes('_vf_wasm_session_push_rgba');
test('engine wrapper on the wasm build (real frames)', { skip: wasmReady ? false : `SKIP: ${wasmDir}/veriface-simd.mjs absent or without the glue` }, () => {
  const r = spawnSync(process.execPath, ['--no-experimental-fetch', path.join(lib.ROOT, 'tests/wasm/engine-smoke.mjs'), wasmDir, 'veriface-simd'],
    { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  console.log(`# ${r.stdout.trim().slice(0, 300)}`);
});

const version = JSON.parse(fs.readFileSync(path.join(lib.ROOT, 'web/package.json'), 'utf8')).version;
const tgz = path.join(lib.ROOT, `build/veriface-web-${version}.tgz`);
test('npm tarball installs from a local file and resolves its exports', { skip: fs.existsSync(tgz) ? false : `SKIP: ${tgz} absent (tools/build-web)` }, async () => {
  const dir = lib.tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    const r = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tgz], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const root = path.join(dir, 'node_modules/@veriface/web');
    const meta = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.equal(meta.sideEffects, false);
    assert.deepEqual(Object.keys(meta.dependencies || {}), [], 'no runtime dependencies');
    // the committed models by role, as the build's roles.json names them (the role table's files)
    const roles = JSON.parse(fs.readFileSync(path.join(root, 'models/roles.json'), 'utf8'));
    const committed = roles.filter((x) => ['detector', 'mesh', 'embedder'].includes(x.name)).map((x) => `models/${x.file}`);
    assert.equal(committed.length, 3, 'roles.json names the detector, mesh and embedder files');
    for (const f of ['src/index.js', 'src/index.d.ts', 'src/worker.js', 'src/worker-classic.js', 'src/component.js', 'src/component.d.ts', 'wasm/veriface-simd.wasm',
      'wasm/veriface-simd-mt.wasm', 'wasm/veriface-simd-mt.worker.js', 'wasm/veriface-base.wasm', 'wasm/veriface-simd.js', 'wasm/veriface-base.js', ...committed]) {
      assert.ok(fs.existsSync(path.join(root, f)), f);
    }
    // node resolves the exports map; the package module is usable in node 20
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e',
      "const p = await import('@veriface/web/package'); const k = await p.createSessionKey(); console.log(typeof p.signBody, k.publicKeySpki.length > 80);"],
    { cwd: dir, encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.equal(probe.stdout.trim(), 'function true');
    const idx = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('@veriface/web'); console.log(Object.keys(m).sort().join(','));"],
      { cwd: dir, encoding: 'utf8' });
    assert.equal(idx.status, 0, idx.stderr);
    assert.match(idx.stdout, /Veriface/);
    assert.match(idx.stdout, /createSessionKey/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
