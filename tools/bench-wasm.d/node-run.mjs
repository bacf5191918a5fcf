// node-run.mjs - the 1-thread configuration under node: ours (veriface-simd.mjs), TF.js wasm and
// ORT wasm, all in this ONE node process (TF.js cannot start threads under node). Started by
// main.mjs; writes its result as JSON to --out and progress to stderr.
//   node --no-experimental-fetch node-run.mjs --root DIR --out FILE [--warmup N] [--runs N]
//        [--seed S] [--models a,b] [--peak-seconds S] [--build-dir DIR]
// Emscripten 3.1.6 ES6 output uses require/__dirname under node: shim them first (TOOLCHAIN.md),
// then load the module with a dynamic import and pass the wasm bytes in.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

globalThis.require = createRequire(import.meta.url);
globalThis.__filename = fileURLToPath(import.meta.url);
globalThis.__dirname = path.dirname(globalThis.__filename);

const { runConfig } = await import('./protocol.mjs');

const args = process.argv.slice(2);
const arg = (k, d) => { const i = args.indexOf(k); return i >= 0 && i + 1 < args.length ? args[i + 1] : d; };
const root = path.resolve(arg('--root', path.join(globalThis.__dirname, '../..')));
const outFile = arg('--out', null);
const models = arg('--models', null);

// Record every .wasm file the runtimes read, to report the binary each one really used.
const wasmRead = [];
for (const fn of ['readFileSync', 'readFile']) {
  const orig = fs[fn];
  fs[fn] = function (p, ...rest) { if (/\.wasm$/.test(String(p))) wasmRead.push(path.relative(root, String(p instanceof URL ? fileURLToPath(p) : p))); return orig.call(this, p, ...rest); };
}
const origPromRead = fs.promises.readFile;
fs.promises.readFile = function (p, ...rest) { if (/\.wasm$/.test(String(p))) wasmRead.push(path.relative(root, String(p instanceof URL ? fileURLToPath(p) : p))); return origPromRead.call(this, p, ...rest); };

const toolsRequire = createRequire(path.join(root, 'tools/package.json'));
const buildDir = path.join(root, arg('--build-dir', 'build-wasm'));

async function createModule(name) {
  const { default: create } = await import(pathToFileURL(path.join(buildDir, `${name}.mjs`)).href);
  return create({ wasmBinary: fs.readFileSync(path.join(buildDir, `${name}.wasm`)), locateFile: (p) => path.join(buildDir, p) });
}

const result = await runConfig({
  label: 'node 1T', host: 'node', threads: 1,
  warmup: Number(arg('--warmup', 10)), runs: Number(arg('--runs', 100)), seed: Number(arg('--seed', 12345)),
  models: models ? models.split(',') : null,
  peakSeconds: Number(arg('--peak-seconds', 0.3)),
  // ours, reference and timed: the single-threaded browser module (the same instance at 1 thread)
  ref: { moduleName: 'veriface-simd', create: () => createModule('veriface-simd') },
  ours: { moduleName: 'veriface-simd', create: () => createModule('veriface-simd') },
  tfjs: async () => {
    // CommonJS builds, so that core, converter and the wasm backend share one tfjs-core instance.
    const tf = toolsRequire('@tensorflow/tfjs-core');
    const conv = toolsRequire('@tensorflow/tfjs-converter');
    const tfw = toolsRequire('@tensorflow/tfjs-backend-wasm');
    return { tf, tfw, loadGraphModel: conv.loadGraphModel };
  },
  tfjsWasmPrefix: path.join(path.dirname(toolsRequire.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/',
  ort: async () => (await import(pathToFileURL(toolsRequire.resolve('onnxruntime-web')).href)),
  tflite: async () => import(pathToFileURL(path.join(root, 'tools/tflite-node.mjs')).href),
  tfliteFile: async (rel) => { const p = path.join(root, rel); return fs.existsSync(p) ? p : null; },
  read: async (rel) => { const p = path.join(root, rel); return fs.existsSync(p) ? new Uint8Array(fs.readFileSync(p)) : null; },
  log: (line) => process.stderr.write(`bench-wasm: ${line}\n`),
});
result.wasmFilesRead = [...new Set(wasmRead)];
result.versions = { node: process.version, v8: process.versions.v8 };
const json = JSON.stringify(result);
if (outFile) fs.writeFileSync(outFile, json); else process.stdout.write(json + '\n');
process.exit(0);
