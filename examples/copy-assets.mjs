// copy-assets.mjs DIR - the engine's files next to a built app, as web/README.md says to host them:
// node_modules/@veriface/web/{wasm,models} -> DIR/vf/ (the apps pass baseUrl "/vf/"). The Vite
// apps run it after `vite build`; the Angular app lists the same folders as assets instead.
import fs from 'node:fs';
import path from 'node:path';

const out = path.resolve(process.argv[2] || 'dist', 'vf');
const pkg = path.dirname(path.resolve('node_modules/@veriface/web/package.json'));
for (const d of ['wasm', 'models']) fs.cpSync(path.join(pkg, d), path.join(out, d), { recursive: true });
console.log(`copy-assets: ${pkg}/{wasm,models} -> ${out}`);
