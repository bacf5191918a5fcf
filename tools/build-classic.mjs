#!/usr/bin/env node
// build-classic.mjs - the package's classic worker, for engines without module workers (older
// WebViews, Safari < 15, Firefox < 114; web/src/veriface.js picks it):
//   PKG/src/worker-classic.js   web/src/worker.js and its imports bundled into one classic script
//                               (rolldown, from tools/node_modules), factory-classic.js in place of
//                               factory.js: the wasm builds are loaded by importScripts, not import()
//   PKG/wasm/veriface-{simd,base}.js   classic copies of the emscripten ES modules: the same code
//                               without `export default` (the factory stays a global of the worker)
//                               and without import.meta (the package always passes locateFile)
// The threaded build has no classic copy: its pthread workers import() the module build.
//   node tools/build-classic.mjs WASM_DIR PKG_DIR      (called by tools/build-web)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [wasmDir, pkg] = process.argv.slice(2);
if (!wasmDir || !pkg) { console.error('usage: build-classic.mjs WASM_DIR PKG_DIR'); process.exit(2); }

let rolldown;
try {
  ({ rolldown } = await import(pathToFileURL(createRequire(path.join(root, 'tools/package.json')).resolve('rolldown')).href));
} catch (e) {
  console.error(`build-classic: rolldown not installed in tools/node_modules (npm ci --prefix tools): ${e.message}`);
  process.exit(1);
}
const src = path.join(root, 'web/src');
const bundle = await rolldown({
  input: path.join(src, 'worker.js'),
  logLevel: 'warn',
  onLog(level, log) { throw new Error(`rolldown ${level}: ${log.message}`); },   // nothing may be left unresolved
  plugins: [{
    name: 'classic-factory',
    resolveId(source, importer) {
      if (importer && path.resolve(path.dirname(importer), source) === path.join(src, 'factory.js')) return path.join(src, 'factory-classic.js');
      return null;
    },
  }],
});
const { output } = await bundle.generate({ format: 'iife', banner: '// worker-classic.js - built by tools/build-classic.mjs from worker.js (see there); do not edit' });
await bundle.close();
if (output.length !== 1) throw new Error(`build-classic: ${output.length} chunks (want one script)`);
const code = output[0].code;
if (/\bimport\s*\(|\bimport\.meta\b|^\s*(import|export)\b/m.test(code)) throw new Error('build-classic: the classic worker still has module syntax');
fs.writeFileSync(path.join(pkg, 'src/worker-classic.js'), code);

for (const name of ['veriface-simd', 'veriface-base']) {
  const mjs = fs.readFileSync(path.join(wasmDir, `${name}.mjs`), 'utf8');
  const global = `create${name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`;
  const tail = `export default ${global};`;
  // emscripten 3.1.6's ES6 wrapper: import.meta.url for its script directory (used only without
  // locateFile) and one export at the end; anything else is a wrapper this does not know
  if (!mjs.trimEnd().endsWith(tail) || mjs.split(tail).length !== 2) throw new Error(`build-classic: ${name}.mjs does not end with '${tail}'`);
  let js = mjs.trimEnd().slice(0, -tail.length);
  js = js.split('import.meta.url').join('self.location.href');
  if (/\bimport\.meta\b|\bimport\s*\(|^\s*(import|export)\b/m.test(js)) throw new Error(`build-classic: ${name}.mjs has module syntax this does not rewrite`);
  fs.writeFileSync(path.join(pkg, 'wasm', `${name}.js`), `${js}\n`);
}
console.log(`build-classic: ${path.join(pkg, 'src/worker-classic.js')} (${code.length} bytes), wasm/veriface-{simd,base}.js`);
