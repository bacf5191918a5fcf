// Run a WASI (preview1) module with node's built-in WASI: `node run-wasi.mjs mod.wasm args...`.
// The sandbox sees only the current directory and the repository, at their real absolute paths,
// so tests can pass the same paths they use natively.
import { WASI } from 'node:wasi';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

process.removeAllListeners('warning'); // node prints an ExperimentalWarning for WASI
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const preopens = { [process.cwd()]: process.cwd(), [repo]: repo };
const shared = path.resolve(repo, '..', 'shared');
if (existsSync(shared)) preopens[shared] = shared;
const wasi = new WASI({ version: 'preview1', args: process.argv.slice(2), env: {}, preopens, returnOnExit: true });
const mod = await WebAssembly.compile(await readFile(process.argv[2]));
const inst = await WebAssembly.instantiate(mod, wasi.getImportObject());
process.exitCode = wasi.start(inst);
