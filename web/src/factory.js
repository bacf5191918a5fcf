// factory.js - how the worker loads a wasm build's emscripten factory: import() of its ES module
// (wasm/veriface-*.mjs) in the package's module worker. worker-classic.js, the same worker as one
// classic script for engines without module workers, is built with factory-classic.js instead
// (tools/build-web).

/** 'module' | 'classic': reported in info.path.worker. */
export const WORKER_KIND = 'module';

/** The factory of wasm build `name` (e.g. 'veriface-simd') from the directory `wasmBase`. */
export function loadFactory(name, wasmBase) {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ new URL(`${name}.mjs`, wasmBase).href).then((m) => m.default);
}
