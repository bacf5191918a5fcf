// Start-up against models/MANIFEST (src/server/manifest.c): a model whose sha256 differs from its
// row, or that has no row, stops the server with a message naming the role and both hashes; no
// MANIFEST is a warning; the real one starts. The page it serves (--static DIR, DIR/pkg/models/
// roles.json as tools/build-web writes it) is checked the same way: another sha256 for a role stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { env } from './harness.mjs';

const skip = !env.server || !env.models ? 'VF_SERVER / VF_MODELS not set' : false;

// Start with MODELS_DIR and stop at once: exit status and stderr (a server that starts is killed
// after its listening line).
function start(modelsDir, staticDir = null) {
  const db = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vf-mf-')), 'test.db');
  const r = spawnSync('bash', ['-c', `"$0" --listen 127.0.0.1:0 --db "$1" --models "$2" --pad-models "$3" ${staticDir ? '--static "$4" ' : ''}--quiet & p=$!; ` +
    'for i in $(seq 100); do sleep 0.1; kill -0 $p 2>/dev/null || break; done; kill $p 2>/dev/null; wait $p',
  env.server, db, modelsDir, env.padModels || '/nonexistent', staticDir || ''], { encoding: 'utf8', timeout: 60000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('model hashes against models/MANIFEST at start-up', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vf-mf-models-'));
  for (const f of fs.readdirSync(env.models)) if (f.endsWith('.vfm')) fs.copyFileSync(path.join(env.models, f), path.join(dir, f));
  const manifest = fs.readFileSync(path.join(env.models, 'MANIFEST'), 'utf8');
  const emb = JSON.parse(spawnSync(env.cli, ['model-roles'], { encoding: 'utf8' }).stdout).find((r) => r.name === 'embedder').file;
  const row = manifest.split('\n').find((l) => l.split('\t')[0].endsWith(`/${emb}`));
  assert.ok(row, `MANIFEST has a row for ${emb}`);
  const sha = row.split('\t')[1];

  fs.writeFileSync(path.join(dir, 'MANIFEST'), manifest);
  const ok = start(dir);
  assert.match(ok.out, /listening on/, ok.err);

  const other = sha.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  fs.writeFileSync(path.join(dir, 'MANIFEST'), manifest.replace(row, row.replace(sha, other)));
  const bad = start(dir);
  assert.equal(bad.status, 2, bad.err);
  assert.doesNotMatch(bad.out, /listening on/);
  assert.ok(bad.err.includes(`models: ${emb} (role embedder) has sha256 ${sha}, but ${dir}/MANIFEST records ${other}`), bad.err);

  fs.writeFileSync(path.join(dir, 'MANIFEST'), manifest.replace(`${row}\n`, ''));
  const missing = start(dir);
  assert.equal(missing.status, 2, missing.err);
  assert.match(missing.err, new RegExp(`models: ${emb.replace(/[.-]/g, '\\$&')} \\(role embedder\\) has no row in`));

  fs.rmSync(path.join(dir, 'MANIFEST'));
  const none = start(dir);
  assert.match(none.out, /listening on/, none.err);
  assert.match(none.err, /no MANIFEST in .*: the model hashes are not checked/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("the page's models/roles.json against the server's models at start-up", { skip }, () => {
  const web = fs.mkdtempSync(path.join(os.tmpdir(), 'vf-mf-web-'));
  fs.mkdirSync(path.join(web, 'pkg/models'), { recursive: true });
  const roles = JSON.parse(spawnSync(env.cli, ['model-roles'], { encoding: 'utf8' }).stdout);
  for (const r of roles) { // as tools/build-web writes it: the sha256 of each file it copied
    const p = path.join(r.fetched ? env.padModels || '/nonexistent' : env.models, r.file);
    if (fs.existsSync(p)) r.sha256 = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  }
  const write = (rs) => fs.writeFileSync(path.join(web, 'pkg/models/roles.json'), JSON.stringify(rs, null, 1));
  write(roles);
  const ok = start(env.models, web);
  assert.match(ok.out, /listening on/, ok.err);

  const emb = roles.find((r) => r.name === 'embedder');
  const other = emb.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  write(roles.map((r) => (r === emb ? { ...r, sha256: other } : r)));
  const bad = start(env.models, web);
  assert.equal(bad.status, 2, bad.err);
  assert.doesNotMatch(bad.out, /listening on/);
  assert.ok(bad.err.includes(`names ${emb.file} with sha256 ${other} for role embedder, but the server loaded ${emb.file} with sha256 ${emb.sha256}`), bad.err);

  write(roles.map((r) => (r === emb ? { ...r, file: 'mobilefacenet-expo.vfm' } : r))); // another file for the role
  const renamed = start(env.models, web);
  assert.equal(renamed.status, 2, renamed.err);
  assert.match(renamed.err, /names mobilefacenet-expo\.vfm with sha256 .* for role embedder/);
  fs.rmSync(web, { recursive: true, force: true });
});
