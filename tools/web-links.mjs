// web-links.mjs - called by tools/build-web: the package under a name of its content, and the
// pages told what to fetch early (web/README.md "A fast start").
//   OUT/v/<hash>/   OUT/pkg again, hard-linked (hash: SHA-256 of every file of the package, 16 hex digits).
//                   The server sends files under /v/<hash>/ as immutable (static.c): a warm visit
//                   asks nothing before the worker runs, and a new build is a new name. The
//                   package's modules import each other by relative URLs, so the whole tree
//                   moves, not single files.
//   OUT/v/index.json  { base: 'v/<hash>/', modules: [...], fetches: [...], head } relative to base:
//                   the page's and the worker's module graphs (<link rel=modulepreload>: one
//                   round trip for all levels of imports); preload.js with data-veriface-worker
//                   (the worker started with the page: web/README.md) and what the worker fetches first
//                   (roles.json, the detector and the mesh: src/preload.js adds <link rel=preload
//                   as=fetch> for them when the Cache API lacks a model, so they download while
//                   the page and the worker start and the worker's fetch finds them in the HTTP
//                   cache); head: those elements as the pages get them
//   the demo and the managed page: `<!-- veriface:preload -->` in their HTML becomes those links,
//   and their scripts import the package from /v/<hash>/ instead of /pkg/.
// Usage: node tools/web-links.mjs OUT
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const out = process.argv[2];
const pkg = path.join(out, 'pkg');

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : [p];
  }).sort();
}
const h = crypto.createHash('sha256');
for (const f of files(pkg)) h.update(`${path.relative(pkg, f)}\0`).update(fs.readFileSync(f)).update('\0');
const hash = h.digest('hex').slice(0, 16);

/** A module and what it imports statically (./x.js specifiers), transitively: paths under src/. */
function graph(entry, seen = new Set()) {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = fs.readFileSync(path.join(pkg, 'src', entry), 'utf8');
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'\.\/([\w-]+\.js)'|^\s*import\s+'\.\/([\w-]+\.js)'/gm)) graph(m[1] || m[2], seen);
  return seen;
}
const modules = [...new Set([...graph('index.js'), ...graph('worker.js')])].map((m) => `src/${m}`);
const roles = JSON.parse(fs.readFileSync(path.join(pkg, 'models/roles.json'), 'utf8'));
// the worker's own URLs (models.js: models/<file>?v=<sha256>), so its fetch finds them
const fetches = ['models/roles.json', ...roles.filter((r) => r.required && r.sha256).map((r) => `models/${r.file}?v=${r.sha256}`)];

fs.rmSync(path.join(out, 'v'), { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'v'));
// hard links, not a symlink: a copy of OUT (fs.cpSync, a deploy) keeps working
for (const f of files(pkg)) {
  const to = path.join(out, 'v', hash, path.relative(pkg, f));
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try { fs.linkSync(f, to); } catch { fs.copyFileSync(f, to); }
}
const base = `v/${hash}/`;
/** The head's elements, under `prefix` ('' for a page at the root, '/' for one elsewhere): the
 *  early fetches through src/preload.js (only what the Cache API lacks: a warm visit fetches no
 *  model on the page), then the modules. */
const links = (prefix) => [
  `<script async fetchpriority="high" src="${prefix}${base}src/preload.js" data-veriface-worker data-veriface-fetch="${fetches.join(' ')}"></script>`,
  ...modules.map((m) => `<link rel="modulepreload" href="${prefix}${base}${m}">`),
].join('\n');
fs.writeFileSync(path.join(out, 'v/index.json'), `${JSON.stringify({ base, modules, fetches, head: links('/') }, null, 1)}\n`);

const rewrite = (file, fn) => { const p = path.join(out, file); fs.writeFileSync(p, fn(fs.readFileSync(p, 'utf8'))); };
const marker = (prefix) => (t) => {
  if (!t.includes('<!-- veriface:preload -->')) throw new Error('web-links: no <!-- veriface:preload --> marker');
  return t.replace('<!-- veriface:preload -->', links(prefix));
};
rewrite('index.html', marker(''));
rewrite('demo.js', (t) => t.replaceAll("'./pkg/", `'./${base}`));
rewrite('verify/index.html', marker('/'));
rewrite('verify/verify.js', (t) => t.replaceAll("'/pkg/", `'/${base}`));
console.log(`web-links: ${out}/${base} (${modules.length} modules, ${fetches.length} early fetches)`);
