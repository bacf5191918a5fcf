// make_seeds.mjs - writes the committed seed corpora of the fuzz targets (tests/fuzz/corpus/TARGET/):
// real examples plus the edge cases the server has to refuse. Rerun after a format change:
//   node tests/fuzz/make_seeds.mjs [SIM.json]
// SIM.json: the output of build/tests/server/vf_client_sim (the browser stand-in; see
// tests/server/harness.mjs), whose models, result and frame status make the valid package seeds
// real; without it they are built from a small hand-written result. JPEG seeds need ffmpeg.
// Every seed stays small (< 20 KB): frames are tiny images, not camera frames.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, 'corpus');
const SESSION = 's_0123456789abcdef';   // fuzz_package.c's SESSION
const T0 = 1733300000000;                // a fixed created_at (epoch ms)

const out = (target) => {
  const d = join(root, target);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  return (name, bytes) => {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
    if (b.length > 20000) throw new Error(`${target}/${name}: ${b.length} bytes, over 20 KB`);
    writeFileSync(join(d, name), b);
  };
};
const sha = (b) => createHash('sha256').update(b).digest('hex');

// ---- images: PNG written here, JPEG by ffmpeg, the progressive JPEG of tests/test_image.c -------
const CRC = new Int32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c; });
const crc32 = (b) => { let c = -1; for (const x of b) c = CRC[(c ^ x) & 255] ^ (c >>> 8); return (c ^ -1) >>> 0; };
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
// colour type: 0 grey, 2 RGB, 3 palette, 6 RGBA; depth 8 or 16; interlace 0/1 (Adam7)
function png(w, h, { type = 2, depth = 8, interlace = 0 } = {}) {
  const ch = { 0: 1, 2: 3, 3: 1, 6: 4 }[type], bpp = ch * depth / 8;
  const px = (x, y, c) => (type === 3 ? (x + y) & 3 : (x * 37 + y * 19 + c * 71) & 255);
  const row = (xs, y) => {
    const r = Buffer.alloc(1 + xs.length * bpp);
    xs.forEach((x, i) => { for (let c = 0; c < ch; c++) {
      if (depth === 16) r.writeUInt16BE(px(x, y, c) * 257, 1 + i * bpp + c * 2); else r[1 + i * bpp + c] = px(x, y, c);
    } });
    return r;
  };
  const rows = [];
  const passes = interlace ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] : [[0, 0, 1, 1]];
  for (const [x0, y0, dx, dy] of passes) {
    const xs = []; for (let x = x0; x < w; x += dx) xs.push(x);
    if (!xs.length) continue;
    for (let y = y0; y < h; y += dy) rows.push(row(xs, y));
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = depth; ihdr[9] = type; ihdr[12] = interlace;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (type === 3) parts.push(chunk('PLTE', Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])), chunk('tRNS', Buffer.from([255, 128])));
  parts.push(chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
function jpeg(w, h, pixFmt) {
  const d = mkdtempSync(join(tmpdir(), 'vf-seed-'));
  const f = join(d, 'x.jpg');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${w}x${h}:rate=1`, '-frames:v', '1',
    '-pix_fmt', pixFmt, '-q:v', '8', '-y', f]);
  const b = readFileSync(f);
  rmSync(d, { recursive: true, force: true });
  return b;
}
function withExif(jpg, o, little) {   // APP1 EXIF with orientation o after SOI (as tests/test_image.c)
  const s = Buffer.alloc(36);
  let n = 0;
  const p8 = (v) => { s[n++] = v & 255; };
  const p16 = (v) => (little ? (p8(v), p8(v >> 8)) : (p8(v >> 8), p8(v)));
  const p32 = (v) => (little ? (p16(v & 0xffff), p16(v >>> 16)) : (p16(v >>> 16), p16(v & 0xffff)));
  p8(0xff); p8(0xe1); p8(0); p8(34);
  Buffer.from('Exif\0\0', 'binary').copy(s, n); n += 6;
  p8(little ? 73 : 77); p8(little ? 73 : 77); p16(42); p32(8); p16(1);
  p16(0x0112); p16(3); p32(1); p16(o); p16(0); p32(0);
  return Buffer.concat([jpg.subarray(0, 2), s, jpg.subarray(2)]);
}
/** A byte array of tests/test_image.c (`static const uint8_t NAME[] = { ... }`, hex or decimal, with comments). */
function testImageBytes(name) {
  const src = readFileSync(join(here, '../test_image.c'), 'utf8');
  const m = new RegExp(`${name}\\[\\] = \\{([^}]*)\\}`).exec(src);
  return Buffer.from(m[1].replace(/\/\*[^]*?\*\//g, '').split(',').map((x) => x.trim()).filter(Boolean).map(Number));
}

const img = out('fuzz_image_decode');
const tinyJpeg = jpeg(16, 16, 'yuvj420p');
img('baseline_420.jpg', tinyJpeg);
img('baseline_444.jpg', jpeg(16, 8, 'yuvj444p'));
img('grey.jpg', jpeg(8, 8, 'gray'));
img('progressive.jpg', testImageBytes('progressive_jpg'));
img('short_scan.jpg', testImageBytes('short_scan_jpg'));   // an AC magnitude cut by the end marker (nothings/stb#1293)
img('exif_orient6_le.jpg', withExif(tinyJpeg, 6, true));
img('exif_orient3_be.jpg', withExif(jpeg(8, 16, 'yuvj422p'), 3, false));
img('rgb.png', png(8, 8));
img('rgba.png', png(7, 5, { type: 6 }));
img('grey.png', png(9, 3, { type: 0 }));
img('palette_trns.png', png(6, 6, { type: 3 }));
img('rgb16.png', png(5, 4, { depth: 16 }));
img('interlaced.png', png(13, 11, { interlace: 1 }));
img('huge_dims.png', (() => { const p = png(1, 1); p.writeUInt32BE(0x7fffffff, 16); p.writeUInt32BE(0x7fffffff, 20); return p; })());

// ---- the package -----------------------------------------------------------------------------
const sim = process.argv[2] ? JSON.parse(readFileSync(process.argv[2], 'utf8')) : null;
const models = sim ? sim.models : Object.fromEntries(['detector', 'mesh', 'pad_v2', 'pad_v1se', 'embedder'].map((r) => [r, sha(r)]));
const status0 = sim ? sim.frames[0].status
  : { index: 8, good: true, good_streak: 1, complete: false, face_box: [180, 200, 356, 376], quality: { guidance: 0, face_count: 1 }, ms: 8 };
const result = sim ? sim.result
  : { frames: 12, complete: true, quality: { passed: true }, liveness: { score: 0.97, mode: 'passive' }, embedding: [0.1, -0.2, 0.3] };
const signals = {
  camera: { label: 'Integrated Camera', device_id_hash: sha('cam'), settings: { width: 640, height: 480, frameRate: 15 },
    capabilities: null, requested: { width: 640, height: 480 }, probe: null, devices: 1, get_user_media_calls: 1 },
  timing: { frames: 73, mean_ms: 66.7, jitter_ms: 2.0, max_gap_ms: 80, duplicates: 0, claimed_fps: 15, measured_fps: 15.0 },
  environment: { webdriver: false, user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120', headless_ua: false,
    webgl_renderer: 'ANGLE (Intel)', hardware_concurrency: 8, cross_origin_isolated: true },
  page: { visibility_changes: 0, blur_events: 0, hidden_ms: 0 },
};
const frame = (i, bytes, mime = 'image/jpeg') => ({
  index: i, timestamp: T0 - 1000 + 100 * i, width: 16, height: 16, mime, sha256: sha(bytes),
  data: bytes.toString('base64'), status: { ...status0, index: i },
});
const pkg = (over = {}) => ({
  format: 1, session_id: SESSION, nonce: 'bm9uY2UtMDEyMzQ1Njc4OWFiY2RlZg', attempt: 1, created_at: T0,
  capture: { started_at: T0 - 5000, finished_at: T0 - 100, frames_pushed: 73, threaded: false },
  module: { web: '0.1.0', engine: '0.1.0', build: 'native-sim' },
  models, result, frames: [frame(0, tinyJpeg)], signals, ...over,
});
const J = (o) => JSON.stringify(o);
const P = out('fuzz_package');
P('valid_1frame.json', J(pkg()));
const tinyPng = png(4, 4);
P('valid_3frames_png_challenge.json', J(pkg({
  result: { frames: 3 }, signals: {}, frames: [0, 1, 2].map((i) => ({ ...frame(i, tinyPng, 'image/png'), status: {} })),
  challenge: { steps: [{ kind: 'yaw_left', start: T0 - 900, end: T0 - 500 }], colors: [[255, 0, 0], [0, 0, 255]], frames: [] },
})));
const small = { ...pkg(), result: {}, signals: {}, frames: [{ ...frame(0, tinyPng, 'image/png'), status: {} }] };
P('created_at_1e400.json', J(small).replace(`"created_at":${T0}`, '"created_at":1e400'));
P('index_1e300.json', J(small).replace('"index":0', '"index":1e300'));
P('index_huge.json', J(small).replace('"index":0', '"index":4294967296'));
P('index_negative_fraction.json', J(small).replace('"index":0', '"index":-0.5'));
P('attempt_minus_1e308.json', J(small).replace('"attempt":1', '"attempt":-1e308'));
P('embedding_1e400.json', J({ ...small, result: { embedding: [0.1, 1, 2] } }).replace('[0.1,1,2]', '[0.1,1e400,-1e400]'));
P('deep_signals_996.json', J({ ...small, signals: {} }).replace('"signals":{}', `"signals":${'{"a":'.repeat(996)}1${'}'.repeat(996)}`));
P('deep_array_2000.json', `${'['.repeat(2000)}${']'.repeat(2000)}`);
P('invalid_utf8.json', Buffer.concat([Buffer.from(J(small).replace('"signals":{}', '"signals":{"s":"')),
  Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xff]), Buffer.from('"}'),
  Buffer.from(J(small).slice(J(small).indexOf('"signals":{}') + 12))]));
P('escapes.json', J(small).replace('"signals":{}', '"signals":{"nul":"a\\u0000b","pair":"\\ud83d\\ude00","ctl":"\\u001f"}'));
P('lone_surrogate.json', J(small).replace('"signals":{}', '"signals":{"lone":"\\ud800"}'));
P('signals_many_values.json', J({ ...small, signals: Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, i])) }));
P('signals_wide_objects.json', J({ ...small, signals: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`o${i}`, { a: 1 }])) }));
P('frames_17.json', J({ ...small, frames: Array.from({ length: 17 }, (_, i) => ({ ...small.frames[0], index: i })) }));
P('sha_upper.json', J(small).replace(/"sha256":"([0-9a-f]{64})"/, (_, h) => `"sha256":"${h.toUpperCase()}"`));
P('duplicate_keys.json', J(small).replace(`"created_at":${T0}`, `"created_at":${T0},"created_at":"x"`));
P('not_object.json', '[1,"a",null,true]');

// ---- base64 ----------------------------------------------------------------------------------
const B = out('fuzz_base64');
for (const [n, s] of Object.entries({
  std_padded1: 'QQ==', std_padded2: 'QUI=', std: 'Zm9vYmFy', url: 'Pz8-Pz8_', url_unpadded: 'QUI', one_char: 'A',
  bad_trailing_bits: 'QR==', bad_char: 'Zm9v*mFy', std_plus_slash: '+/+/', equals_only: '====', empty: '',
  signature: 'FPRqgxDFYcTMA65paFDTuoyKtNx5qZp9HPL9J0Ukio8Pcf5Sh6sEjoCS1UPcJdnqjZaoTljkGlHRvlQcKyqGUA',
  tiny_png: tinyPng.toString('base64'),
})) B(n, s);

// ---- signature: "HEADER\nBODY" and SPKI DER -------------------------------------------------------
// The target's fixed key: its SPKI is KEY_SPKI in fuzz_signature.c; the private key is not kept,
// so the signed seed is written once (below, committed) and re-used, not regenerated.
const S = out('fuzz_signature');
const keyDer = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200' +
  '0496d9ea3d0cdde1d0e4e90d0c1be4fef337c76ca77f888e2740bebc0558401d35072be8b6f31f7ac6aac42da0b8a2607afee75b31a811eea680e8dac94de90882', 'hex');
S('spki_p256.der', keyDer);
const body = J({ format: 1, session_id: SESSION, nonce: 'n' });
S('signed_body', `FPRqgxDFYcTMA65paFDTuoyKtNx5qZp9HPL9J0Ukio8Pcf5Sh6sEjoCS1UPcJdnqjZaoTljkGlHRvlQcKyqGUA\n${body}`);
S('header_over_200', `${'A'.repeat(204)}\n${body}`);
S('header_padded', `FPRqgxDFYcTMA65paFDTuoyKtNx5qZp9HPL9J0Ukio8Pcf5Sh6sEjoCS1UPcJdnqjZaoTljkGlHRvlQcKyqGUA==\n${body}`);
S('header_std_alphabet', `FPRqgxDFYcTMA65paFDTuoyKtNx5qZp9HPL9J0Ukio8Pcf5Sh6sEjoCS1UPcJdnqjZaoTljkGlHRvlQcKyqGUA+/\n${body}`);
S('sig_zero', `${'A'.repeat(86)}\n${body}`);
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'der' });
S('spki_p384.der', p384);
S('spki_ed25519.der', generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }));
const jwk = createPublicKey({ key: keyDer, format: 'der', type: 'spki' }).export({ format: 'jwk' });
const y = Buffer.from(jwk.y, 'base64url');
S('spki_p256_compressed.der', Buffer.concat([Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
  Buffer.from([2 + (y[31] & 1)]), Buffer.from(jwk.x, 'base64url')]));
S('spki_p256_trailing.der', Buffer.concat([keyDer, Buffer.from([0])]));
S('spki_rsa512.der', generateKeyPairSync('rsa', { modulusLength: 512 }).publicKey.export({ type: 'spki', format: 'der' }));
void createPrivateKey; void sign;

// ---- config: the server's file and a session request's config ----------------------------------
const C = out('fuzz_config');
C('harness.json', J({ api_keys: ['test-key-0123456789abcdef'], limits: { per_ip_rate: 0 } }));
C('full.json', J({
  listen: '127.0.0.1:8080', db: './veriface.db', models: './models', pad_models: './build/models', static: './web', demo: false,
  threads: 2, http_threads: 4, api_keys: ['0123456789abcdef0123', 'fedcba9876543210fedc'],
  limits: { max_body: 8388608, max_frame_width: 1280, max_frame_height: 720, max_frame_pixels: 921600, max_reference_bytes: 4194304,
    max_reference_side: 4096, max_clock_skew: 300, nonce_ttl: 300, request_timeout: 30, max_connections: 256,
    per_ip_connections: 32, per_ip_rate: 20, per_ip_burst: 60, per_session_per_min: 10, min_session_ttl: 60, trusted_proxy: '10.0.0.1' },
  tamper: { liveness: 0.25, embedding: 0.9, quality: { yaw: { abs: 5, rel: 0 }, sharpness: { abs: 0.03, rel: 0.25 } } },
  freshness: { duplicate_change: 2.2, duplicate_residual: 5, replay_hamming: 6, replay_distance: 0.6, replay_max_candidates: 1000,
    min_frame_interval_ms: 8.3, max_frame_interval_ms: 1500, timestamp_slack_ms: 1000 },
  session: { liveness_type: 'adaptive', face_match_threshold: 0.55, max_retries: 3, session_ttl: 600, good_frames: 5, liveness_frames: 3,
    live_pass: 0.8, live_fail: 0.3, max_frame_width: 1280, max_frame_height: 720, jpeg_quality: 0.92,
    quality: { min_face_width: 0.2 }, challenge: { light: true, steps: 2, colors: 8, min_yaw: 15 } },
  policy: { scrutiny_step: 0.05, scrutiny_max: 0.2, max_uncertain: 2, max_liveness_fail: 2, match_review_margin: 0.05 },
}));
C('session_request.json', J({ liveness_type: 'active', face_match_threshold: 0.6, max_retries: 2, session_ttl: 900,
  challenge: { light: false, steps: 3, min_pitch: 10, step_ms: 5000 } }));
C('threads_1e400.json', '{"threads":1e400}');
C('max_body_1e300.json', '{"limits":{"max_body":1e300,"per_ip_rate":-1e400}}');
C('fraction.json', '{"freshness":{"replay_hamming":6.5},"threads":2.000001}');
C('array_for_object.json', '{"limits":[1,2],"tamper":{"quality":[{"abs":1}]},"session":["x"]}');
C('deep.json', `{"policy":${'{"a":'.repeat(500)}1${'}'.repeat(500)}}`);
C('invalid_utf8.json', Buffer.concat([Buffer.from('{"db":"'), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from('"}')]));
C('long_strings.json', J({ listen: `${'h'.repeat(80)}:1`, db: 'd'.repeat(1100), api_keys: ['k'.repeat(200)] }));
C('seventeen_keys.json', J({ api_keys: Array.from({ length: 17 }, (_, i) => `key-${String(i).padStart(2, '0')}-0123456789abcdef`) }));
C('listen_edges.json', '{"listen":":8080"}');
C('unknown_key.json', '{"limitz":{}}');
C('quality_unknown.json', '{"session":{"quality":{"nope":1,"min_face_width":2}}}');
