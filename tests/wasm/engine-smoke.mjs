// Smoke test of the JS engine wrapper (web/src/engine.js) on the browser ES modules under node:
// the flat glue (src/wasm/glue.c) end to end on real webcam frames decoded by ffmpeg to RGBA.
//   node --no-experimental-fetch tests/wasm/engine-smoke.mjs BUILD_DIR MODULE [FRAMES_DIR]
// Exits 0 with "SKIP" when ffmpeg or the frames are absent.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';

globalThis.require = createRequire(import.meta.url);
globalThis.__filename = fileURLToPath(import.meta.url);
globalThis.__dirname = path.dirname(globalThis.__filename);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [dir, name, framesDir = path.join(root, '../shared/data/pad/apfol_liveness/frames')] = process.argv.slice(2);
const { Engine, modelRoles } = await import(pathToFileURL(path.join(root, 'web/src/engine.js')).href);
// a dark frame (guidance too_dark), then one good frame held still four times (the first of them
// moved since the dark frame: hold_still)
const names = ['real2_t00.50.jpg', ...Array(4).fill('real2_t05.25.jpg')];
if (!fs.existsSync(path.join(framesDir, names[1]))) { console.log(`SKIP: ${framesDir} not found`); process.exit(0); }

const { default: create } = await import(pathToFileURL(path.join(dir, `${name}.mjs`)).href);
const M = await create({ wasmBinary: fs.readFileSync(path.join(dir, `${name}.wasm`)), locateFile: (p) => path.join(dir, p) });
const models = {};
for (const r of modelRoles(M)) {   // the C role table, read from the module
  const f = path.join(root, r.fetched ? 'build/models' : 'models', r.file);
  models[r.name] = fs.existsSync(f) ? new Uint8Array(fs.readFileSync(f)) : null;
}
const fail = (m) => { console.error(`FAIL: ${m}`); process.exit(1); };
const engine = Engine.create(M, models, 1);
const peakMB = M.HEAPU8.length / 1048576;   // the heap an engine create grew to
if (!/^[0-9a-f]{64}$/.test(engine.models.detector)) fail(`detector hash ${engine.models.detector}`);
const s = engine.createSession({ good_frames: 3, max_frame_width: 640, max_frame_height: 480 });
let last;
const fps = new Set(), guidance = [];
for (const n of names) {
  const rgba = new Uint8Array(execFileSync('ffmpeg', ['-v', 'error', '-i', path.join(framesDir, n), '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'], { maxBuffer: 1 << 24 }));
  last = s.push(rgba, 640, 480, guidance.length * 33.3);
  fps.add(last.fingerprint);
  guidance.push(last.status.quality.guidance);
}
if (guidance[0] !== 10) fail(`dark frame: guidance ${guidance[0]}`);
if (!(last.status.index === 4 && last.status.complete)) fail(`status ${last.json}`);
if (fps.size !== 2) fail(`fingerprints: ${[...fps]} (equal frames must hash equal, different ones not)`);
const kept = s.kept();
if (kept.length !== last.status.good_streak) fail(`kept ${kept.length} vs streak ${last.status.good_streak}`);
if (kept.length && (kept[0].width !== 640 || kept[0].channels !== 4 || kept[0].pixels.length !== 640 * 480 * 4)) fail('kept frame shape');
const res = s.finish().result;
if (res.frames !== 5 || res.chosen.length !== 3 || res.embedding.dim < 128) fail(`result ${JSON.stringify(res).slice(0, 300)}`);
if (kept.map((k) => k.index).join() !== '2,3,4') fail(`kept order ${kept.map((k) => k.index)}`);
// a bad frame size is an error with a code, not a crash
try { s.push(new Uint8Array(2000 * 10 * 4), 2000, 10, 0); fail('oversized frame accepted'); } catch (e) { if (e.code !== 'image' && e.code !== 'invalid_arg') fail(`oversized frame: ${e.code} ${e.message}`); }
s.close();
// the server's config reaches C by field name: a lower min_brightness accepts the dark frame
try { engine.createSession({ quality: { no_such_check: 1 } }); fail('unknown quality field accepted'); } catch (e) { if (e.code !== 'invalid_arg') fail(`unknown field: ${e.code}`); }
const lenient = engine.createSession({ good_frames: 3, quality: { min_brightness: 50 } });
const dark = new Uint8Array(execFileSync('ffmpeg', ['-v', 'error', '-i', path.join(framesDir, names[0]), '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'], { maxBuffer: 1 << 24 }));
const g = lenient.push(dark, 640, 480, 0).status.quality.guidance;
if (g === 10) fail('quality.min_brightness from the config not applied');
lenient.close();
engine.close();

// A wasm memory that may not grow (an engine may refuse memory.grow: WebKit under memory pressure,
// a memory limit): the engine create fails with a typed no_memory, never a trap (an out-of-bounds
// access from an allocation nobody checked). Growth refused past each limit, from the initial
// 16 MiB up to the first that is enough; emscripten's heap-resize import wrapped at instantiation.
const wasmModule = await WebAssembly.compile(fs.readFileSync(path.join(dir, `${name}.wasm`)));
const refused = [];
for (let limitMB = 16; limitMB < peakMB; limitMB += 3) {
  let wrapped = 0;
  const N = await create({ locateFile: (p) => path.join(dir, p), instantiateWasm: (imports, receive) => {
    for (const [mod, fns] of Object.entries(imports)) {
      for (const [k, f] of Object.entries(fns)) {
        if (typeof f === 'function' && String(f).includes('maxHeapSize')) {   // _emscripten_resize_heap
          fns[k] = (bytes) => ((bytes >>> 0) > limitMB * 1048576 ? false : f(bytes));
          wrapped++;
        }
      }
      imports[mod] = fns;
    }
    WebAssembly.instantiate(wasmModule, imports).then((inst) => receive(inst, wasmModule));
    return {};
  } });
  if (wrapped !== 1) fail(`${wrapped} heap-resize imports found (the emscripten glue changed)`);
  try {
    Engine.create(N, models, 1).close();
    break;   // enough memory from here on
  } catch (e) {
    if (e.code !== 'no_memory') fail(`growth refused past ${limitMB} MiB: ${e.name} ${e.code} ${e.message}`);
    // the model's own reason after its name (it was lost: vf__fail wrote the buffer it read)
    if (!/model \([\w.-]+\): \S/.test(e.message)) fail(`growth refused past ${limitMB} MiB: no reason in '${e.message}'`);
  }
  refused.push(limitMB);
}
if (!refused.length || refused.at(-1) + 3 >= peakMB) fail(`growth refused: ${refused} MiB (the engine grew to ${peakMB} MiB)`);
console.log(JSON.stringify({ module: name, guidance: last.status.quality.guidance, streak: last.status.good_streak, kept: kept.length,
  liveness: res && res.liveness, embedding_dim: res && res.embedding.dim, growth_refused_mb: refused }));
process.exit(0);
