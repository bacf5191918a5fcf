// `veriface eval-match` on a small pairs file written here from faces/pairs.csv rows (absolute
// paths), plus a WebP image, a missing file and a malformed row: every pair is either used or
// skipped with its reason, and the counts add up; --scores gives one line per pair used, from
// which the AUC and the FMR / TMR at the session's bands are recomputed here.
//   node eval-match.mjs VERIFACE MODELS_DIR SHARED_DATA OUT_DIR
// Exit 0 pass, 1 fail, 77 skip (no shared data).
import fs from 'node:fs';
import path from 'node:path';
import { parseCsv, readText, run, skip } from './common.mjs';

const [bin, models, data, out] = process.argv.slice(2);
const faces = path.join(data, 'faces');
const webp = 'deepface/img47.jpg'; // a WebP file under a .jpg name (SOURCES.md: refused by the decoder)
if (!fs.existsSync(path.join(faces, 'pairs.csv')) || !fs.existsSync(path.join(faces, webp)))
  skip(`${faces}/pairs.csv is absent (the shared data set is not on this machine)`);
let failures = 0;
const fail = (msg) => { console.log(`FAIL: ${msg}`); failures++; };

// 6 genuine and 6 impostor pairs over at most 10 deepface images (a few seconds)
const rows = parseCsv(readText(path.join(faces, 'pairs.csv'))).slice(1);
const images = new Set(), picked = [], want = { 1: 6, 0: 6 };
for (const [a, b, same] of rows) {
  if (!a.startsWith('deepface/') || !b.startsWith('deepface/') || a === webp || b === webp || !want[same]) continue;
  const grow = [a, b].filter((x) => !images.has(x)).length;
  if (images.size + grow > 10) continue;
  images.add(a); images.add(b);
  picked.push([a, b, same]);
  want[same]--;
}
if (want[1] || want[0]) throw new Error('faces/pairs.csv has too few deepface pairs for this test');
const abs = (x) => path.join(faces, x);
const first = picked[0][0];
fs.mkdirSync(out, { recursive: true });
const lines = ['image_a,image_b,same,basis', ...picked.map(([a, b, s]) => `${abs(a)},${abs(b)},${s},"from faces/pairs.csv, quoted"`),
  `${abs(first)},${abs(webp)},0,WebP`,
  `${abs(first)},${path.join(out, 'missing.jpg')},0,a missing file`,
  `${abs(first)},${abs(picked[0][1])},2,malformed: same is 2`];
const pairsCsv = path.join(out, 'pairs.csv');
fs.writeFileSync(pairsCsv, lines.join('\n') + '\n');

const r = run(bin, ['eval-match', pairsCsv, '--models', models, '--scores']); // the default embedder, its own crop
const s = r.summary;
if (r.status !== 0 || !s) throw new Error(`eval-match exited ${r.status}:\n${r.stderr}`);
console.log(JSON.stringify(s));
const expect = {
  pairs: picked.length + 2, pairs_used: picked.length, pairs_skipped: 2, bad_rows: 1,
  genuine_pairs: 6, impostor_pairs: 6, images: images.size + 2, no_embedding: 2,
};
for (const [k, v] of Object.entries(expect)) if (s[k] !== v) fail(`${k} ${s[k]}, expected ${v}`);
const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
if (JSON.stringify(s.pair_skips) !== JSON.stringify({ unreadable: 1, unsupported_format: 1 })) fail(`pair_skips ${JSON.stringify(s.pair_skips)}`);
if (sum(s.pair_skips) !== s.pairs_skipped || s.pairs_used + s.pairs_skipped !== s.pairs) fail('pair counts do not add up');
if (s.genuine_pairs + s.impostor_pairs !== s.pairs_used) fail('genuine + impostor != pairs_used');
if (sum(s.image_skips) !== s.no_embedding) fail('image_skips do not add up to no_embedding');
const skipped = r.lines.filter((l) => l.skipped).map((l) => `${path.basename(l.image)}:${l.skipped}`).sort().join(' ');
if (skipped !== 'img47.jpg:unsupported_format missing.jpg:unreadable') fail(`skipped image lines: ${skipped}`);
// the same people as in the README's run: the default embedder separates these pairs
if (!/^mobilefacenet-expo/.test(s.model) || s.crop !== 112) fail(`default embedder ${s.model} crop ${s.crop}`);
if (!(s.auc >= 0.9 && s.auc <= 1)) fail(`auc ${s.auc}`);
if (!(s.genuine_mean > s.impostor_mean)) fail('genuine mean not above impostor mean');

// --scores: one line per pair used, each a pair of the file; the summary's figures follow from them
const scored = r.lines.filter((l) => 'similarity' in l);
if (scored.length !== s.pairs_used) fail(`${scored.length} score lines for ${s.pairs_used} pairs used`);
const gen = scored.filter((l) => l.same === 1).map((l) => l.similarity), imp = scored.filter((l) => l.same === 0).map((l) => l.similarity);
if (gen.length !== 6 || imp.length !== 6) fail(`score lines: ${gen.length} genuine, ${imp.length} impostor`);
if (!scored.every((l) => picked.some(([a, b]) => abs(a) === l.a && abs(b) === l.b))) fail('a score line names a pair not in the file');
let wins = 0;
for (const g of gen) for (const i of imp) wins += g > i ? 1 : g === i ? 0.5 : 0;
if (Math.abs(wins / 36 - s.auc) > 1e-4) fail(`auc ${s.auc}, from the score lines ${wins / 36}`);
for (const band of ['strong', 'weak']) {
  const b = s.bands?.[band];
  if (!b || !(b.at > 0 && b.at < 1)) { fail(`bands.${band} ${JSON.stringify(b)}`); continue; }
  const acc = imp.filter((x) => x >= b.at).length, tmr = gen.filter((x) => x >= b.at).length / gen.length;
  if (b.impostors_accepted !== acc || Math.abs(b.fmr - acc / imp.length) > 1e-5 || Math.abs(b.tmr - tmr) > 1e-4)
    fail(`bands.${band} ${JSON.stringify(b)}, from the score lines ${acc} accepted, TMR ${tmr}`);
}
if (!(s.bands.strong.at > s.bands.weak.at)) fail('strong band not above the weak one');

if (failures) { console.log(`${failures} check(s) failed`); process.exit(1); }
console.log('eval-match: all checks passed');
