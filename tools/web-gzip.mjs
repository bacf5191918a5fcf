// web-gzip.mjs - called by tools/build-web after `npm pack`: FILE.gz beside every compressible
// file of OUT (JS, wasm, models, JSON, HTML, CSS, ...), which the server's front door sends with
// Content-Encoding: gzip to a client that accepts it (src/server/static.c); it never compresses
// on the fly. gzip level 9, reproducible (zlib writes no name and mtime 0). Only where it saves at
// least 5 %. Hard links (v/<hash>/ and pkg/) share one .gz, also linked.
// Usage: node tools/web-gzip.mjs OUT
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const COMPRESSIBLE = /\.(m?js|wasm|vfm|bin|json|html?|css|svg|map|md|ts|txt)$/;
const out = process.argv[2];
const done = new Map();   // dev:ino -> the .gz written for it
let raw = 0, wire = 0, n = 0;
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { walk(p); continue; }
    if (!e.isFile() || !COMPRESSIBLE.test(e.name)) continue;
    const st = fs.statSync(p), key = `${st.dev}:${st.ino}`;
    fs.rmSync(`${p}.gz`, { force: true });
    if (done.has(key)) {
      const twin = done.get(key);
      if (twin) { try { fs.linkSync(twin, `${p}.gz`); } catch { fs.copyFileSync(twin, `${p}.gz`); } }
      continue;
    }
    const b = fs.readFileSync(p);
    const gz = zlib.gzipSync(b, { level: 9 });
    raw += b.length;
    if (gz.length > b.length * 0.95) { done.set(key, null); wire += b.length; continue; }
    fs.writeFileSync(`${p}.gz`, gz);
    fs.utimesSync(`${p}.gz`, st.atime, st.mtime);   // its file's time: the server sends no .gz whose time is far from it
    done.set(key, `${p}.gz`);
    wire += gz.length;
    n++;
  }
}
walk(out);
console.log(`web-gzip: ${n} files precompressed, ${(raw / 1e6).toFixed(2)} MB -> ${(wire / 1e6).toFixed(2)} MB`);
