// server.mjs - a tiny static server on 127.0.0.1 for the bench page, cross-origin isolated:
// every response carries Cross-Origin-Opener-Policy: same-origin and
// Cross-Origin-Embedder-Policy: require-corp (SharedArrayBuffer, hence wasm threads).
// Serves only the repository paths the page needs (read-only, GET/HEAD).
//   node tools/bench-wasm.d/server.mjs [--port N]     (standalone, for debugging the page by hand)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ALLOWED = [
  'tools/bench-wasm.d/', 'tools/convert/xorshift.mjs',
  'build-wasm/veriface-simd.', 'build-wasm/veriface-simd-mt.',
  'models/', 'build/models/', 'build/model-src/human-models/models/', 'build/model-src/minifasnet/',
  'tools/node_modules/@tensorflow/tfjs-core/dist/', 'tools/node_modules/@tensorflow/tfjs-converter/dist/',
  'tools/node_modules/@tensorflow/tfjs-backend-wasm/dist/', 'tools/node_modules/onnxruntime-web/dist/',
];
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json',
};

/** Start the server; resolves to { url, close() }. `extra`: more path prefixes to serve (e.g.
 * another build directory's veriface-simd.*). */
export function startServer(root, port = 0, extra = []) {
  const allowed = ALLOWED.concat(extra);
  const server = http.createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    const send = (code, body, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { ...headers, 'Content-Type': type });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
    } catch {
      return send(400, 'bad url\n');
    }
    const full = path.resolve(root, rel);
    if (!full.startsWith(root + path.sep) || rel.split('/').includes('..') || !allowed.some((p) => rel.startsWith(p))) {
      return send(404, 'not served\n');
    }
    fs.stat(full, (err, st) => {
      if (err || !st.isFile()) return send(404, 'not found\n');
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(full)] || 'application/octet-stream', 'Content-Length': st.size });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(full).pipe(res);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({ url: `http://127.0.0.1:${p}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const s = await startServer(root, i > 0 ? Number(process.argv[i + 1]) : 8765);
  console.log(`bench-wasm server: ${s.url} (root ${root}); Ctrl-C to stop`);
}
