// pipeline-page.mjs - the session pipeline in the browser module (src/wasm/glue.c), timed with
// performance.now(): the tracking step (vf_wasm_session_push_rgba: fingerprint + detect +
// landmarks + quality) and the final analysis (vf_wasm_session_finish: liveness on the best 3
// frames x 4 crops + embedding), on one decoded 640x480 frame pushed K times per capture.
const logEl = document.getElementById('log');
const log = (line) => { console.log(`[bench] ${line}`); logEl.textContent += `\n${line}`; };

async function bytes(rel) {
  const r = await fetch(`/${rel}`);
  if (!r.ok) throw new Error(`GET /${rel}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const p90 = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * 0.9))]; };

window.pipelineRun = async (cfg) => {
  const { default: create } = await import(`/${cfg.wasmDir}/${cfg.module}.mjs`);
  const M = await create();
  // the frame: decoded by the browser (JPEG bytes from the driver), RGBA rows packed
  const bmp = await createImageBitmap(new Blob([Uint8Array.from(atob(cfg.frameBase64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }));
  const cv = new OffscreenCanvas(bmp.width, bmp.height);
  const g = cv.getContext('2d');
  g.drawImage(bmp, 0, 0);
  const rgba = g.getImageData(0, 0, bmp.width, bmp.height).data;
  // every role of the C table (vf_model_roles): committed models in models/, fetched ones in build/models/
  const nr = M._vf_wasm_model_role_count(), table = M._malloc(8 * nr), ptrs = [];
  for (let i = 0; i < nr; i++) {
    const file = M.UTF8ToString(M._vf_wasm_model_role(i, 1)), fetched = M._vf_wasm_model_role_flags(i) & 2;
    const b = await bytes(`${fetched ? 'build/models' : 'models'}/${file}`);
    const p = M._malloc(b.length);
    M.HEAPU8.set(b, p);
    ptrs.push(p);
    M.HEAPU32[(table >> 2) + i] = p;
    M.HEAPU32[(table >> 2) + nr + i] = b.length;
  }
  const e = M._vf_wasm_engine_create(cfg.threads, table, table + 4 * nr);
  if (M._vf_wasm_engine_status(e)) throw new Error(`engine: ${M.UTF8ToString(M._vf_wasm_engine_error(e))}`);
  for (const p of ptrs) M._free(p);
  M._free(table);
  const c = M._vf_wasm_config_new();
  const s = M._vf_wasm_session_create(e, c);
  if (!s) throw new Error('session_create failed');
  const px = M._malloc(rgba.length);
  M.HEAPU8.set(rgba, px);
  const push = [], finish = [], live = [], emb = [];
  const K = 5; // good_frames of the default config
  for (let r = -2; r < cfg.runs; r++) {
    M._vf_wasm_session_reset(s);
    for (let k = 0; k < K; k++) {
      const t0 = performance.now();
      const st = M._vf_wasm_session_push_rgba(s, px, bmp.width, bmp.height, 0);
      const dt = performance.now() - t0;
      if (st) throw new Error(`push: ${M.UTF8ToString(M._vf_wasm_session_error(s))}`);
      if (r >= 0) push.push(dt);
    }
    if (!M._vf_wasm_session_complete(s)) throw new Error(`the frame is not good: ${M.UTF8ToString(M._vf_wasm_session_status_json(s))}`);
    const t0 = performance.now();
    if (M._vf_wasm_session_finish(s)) throw new Error(`finish: ${M.UTF8ToString(M._vf_wasm_session_error(s))}`);
    const dt = performance.now() - t0;
    const res = JSON.parse(M.UTF8ToString(M._vf_wasm_session_result_json(s)));
    if (r >= 0) { finish.push(dt); live.push(res.timings ? res.timings.liveness_ms : res.liveness_ms); emb.push(res.timings ? res.timings.embedding_ms : res.embedding_ms); }
  }
  M._free(px);
  M._vf_wasm_session_free(s);
  M._vf_wasm_config_free(c);
  M._vf_wasm_engine_free(e);
  const out = { backend: 'simd', threads: cfg.threads, captures: cfg.runs, width: bmp.width, height: bmp.height,
    push_ms: median(push), push_p90_ms: p90(push), finish_ms: median(finish), finish_p90_ms: p90(finish),
    liveness_ms: median(live.filter((x) => x !== undefined)), embedding_ms: median(emb.filter((x) => x !== undefined)),
    crossOriginIsolated: globalThis.crossOriginIsolated === true };
  log(JSON.stringify(out));
  return out;
};
window.pipelineReady = true;
logEl.textContent = 'ready';
