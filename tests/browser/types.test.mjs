// types.test.mjs - the hand-written TypeScript declarations of @veriface/web type-check an
// integrator's code (types/consumer.ts) under `tsc --strict` (typescript from tools/node_modules).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './lib.mjs';

const tsc = path.join(ROOT, 'tools/node_modules/typescript/bin/tsc');
test('.d.ts type-check an integrator\'s code', { skip: fs.existsSync(tsc) ? false : 'SKIP: typescript not installed (npm ci --prefix tools)' }, () => {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--lib', 'es2022,dom,dom.iterable', '--skipLibCheck', 'false', '--allowJs', 'false', path.join(ROOT, 'tests/browser/types/consumer.ts')],
  { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
