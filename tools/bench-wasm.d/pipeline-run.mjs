// pipeline-run.mjs - drive pipeline.html in headless Chromium (playwright-core, /usr/bin/chromium):
//   node tools/bench-wasm.d/pipeline-run.mjs WASM_DIR FRAME.jpg THREADS RUNS
// Prints one JSON line (the shape of `veriface bench-pipeline`). THREADS 1 uses veriface-simd.mjs,
// more the threaded veriface-simd-mt.mjs; one fresh page per call.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { CHROMIUM_ARGS } from './browser-run.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [wasmDir, frame, threadsArg, runsArg] = process.argv.slice(2);
const threads = Number(threadsArg || 1), runs = Number(runsArg || 20);
const module = threads > 1 ? 'veriface-simd-mt' : 'veriface-simd';
const rel = path.relative(root, path.resolve(wasmDir));
const { chromium } = await import('playwright-core');
const server = await startServer(root, 0, [`${rel}/veriface-simd.`, `${rel}/veriface-simd-mt.`]);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(`page: ${m.text()}`); });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${server.url}tools/bench-wasm.d/pipeline.html`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.pipelineReady === true, null, { timeout: 20000 });
  const r = await page.evaluate((c) => window.pipelineRun(c),
    { wasmDir: rel, module, threads, runs, frameBase64: fs.readFileSync(frame).toString('base64') });
  console.log(JSON.stringify({ frame, host: 'chromium', chromium: browser.version(), ...r }));
} finally {
  await browser.close();
  await server.close();
}
