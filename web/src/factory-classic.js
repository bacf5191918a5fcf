// factory-classic.js - factory.js for the classic worker (worker-classic.js): no import() there
// (engines without module workers have none in workers either), so the build's classic copy
// (wasm/veriface-*.js, written by tools/build-web from the .mjs) is run by importScripts and leaves
// its factory as a global (emscripten's EXPORT_NAME: veriface-simd -> createVerifaceSimd).

export const WORKER_KIND = 'classic';

export function loadFactory(name, wasmBase) {
  return new Promise((resolve) => {
    self.importScripts(new URL(`${name}.js`, wasmBase).href);   // throws on a missing or broken script
    const global = `create${name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`;
    if (typeof self[global] !== 'function') throw new Error(`${name}.js defines no ${global}`);
    resolve(self[global]);
  });
}
