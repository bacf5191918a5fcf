// features.js - what this browser offers the engine, and the wasm build and path chosen from it.
// Detected, never assumed from the user agent: WebKit, Gecko and Blink differ per version and per
// embedder (in-app WebViews turn features off). The choice is reported through onProgress
// ({ stage: 'build' }) and instance.info.path.

/** A module of one function returning v128 (i32.const 0, i8x16.splat, i8x16.popcnt): engines
 *  without SIMD128 refuse to validate it. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** The wasm builds, best first: threads + SIMD, SIMD, neither. */
export const BUILDS = ['simd-mt', 'simd', 'base'];
export const BUILD_FILES = { 'simd-mt': 'veriface-simd-mt', simd: 'veriface-simd', base: 'veriface-base' };

function sharedMemory() {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * The features of this scope (the page or the worker): { wasm, simd, sharedMemory,
 * crossOriginIsolated, offscreenCanvas (a 2D OffscreenCanvas), jpegBlob (OffscreenCanvas encodes
 * JPEG, checked only where asked: it is async) }; the worker adds moduleWorker (false in the
 * classic worker).
 */
export function detectFeatures(scope = globalThis) {
  const wasm = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
  let offscreen = false;
  try {
    offscreen = typeof scope.OffscreenCanvas === 'function' && !!new scope.OffscreenCanvas(1, 1).getContext('2d');
  } catch { offscreen = false; }
  return {
    wasm,
    simd: wasm && WebAssembly.validate(SIMD_PROBE),
    crossOriginIsolated: scope.crossOriginIsolated === true,
    sharedMemory: wasm && typeof SharedArrayBuffer === 'function' && sharedMemory(),
    offscreenCanvas: offscreen,
  };
}

/** Does OffscreenCanvas encode JPEG here? (convertToBlob falls back to PNG for a type it lacks.) */
export async function canEncodeJpeg(scope = globalThis) {
  try {
    const c = new scope.OffscreenCanvas(2, 2);
    c.getContext('2d').fillRect(0, 0, 1, 1);
    const b = await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
    return b.type === 'image/jpeg';
  } catch {
    return false;
  }
}

/** threads: 'auto' in this scope (the page's create(); a prestarted worker asks what the page
 *  would): half the cores, at most 4, when cross-origin isolated, else 1 (the page's main thread
 *  decodes and draws the video too; on 2 cores a second wasm thread made the per-frame pipeline
 *  2-3x slower, measured in chromium). */
export function defaultThreads(scope = globalThis) {
  if (scope.crossOriginIsolated !== true) return 1;
  const cores = (scope.navigator && scope.navigator.hardwareConcurrency) || 2;
  return Math.max(1, Math.min(4, Math.ceil(cores / 2)));
}

/**
 * The builds to try, best first, for `threads` wanted and the features `f`, each with the reason it
 * was passed over: { order: [build...], skipped: [{ build, reason }] }. `force` (a build name)
 * keeps only that build.
 */
export function planBuilds(f, threads, force) {
  const skipped = [];
  const why = {
    'simd-mt': !f.simd ? 'no WebAssembly SIMD128'
      // its threads import the module build (emscripten's pthread workers use import())
      : f.moduleWorker === false ? 'no module workers (the threads need them)' : !f.crossOriginIsolated ? 'the page is not cross-origin isolated (COOP/COEP)'
      : !f.sharedMemory ? 'no shared WebAssembly memory (SharedArrayBuffer)' : threads <= 1 ? 'one thread asked' : null,
    simd: !f.simd ? 'no WebAssembly SIMD128' : null,
    base: null,
  };
  if (force) {
    if (!BUILDS.includes(force)) return { order: [], skipped: [{ build: force, reason: 'unknown build' }] };
    if (force === 'simd-mt' && f.moduleWorker === false) return { order: [], skipped: [{ build: force, reason: why[force] }] };
    return { order: [force], skipped: BUILDS.filter((b) => b !== force).map((b) => ({ build: b, reason: `build '${force}' asked` })) };
  }
  const order = [];
  for (const b of BUILDS) {
    if (why[b]) skipped.push({ build: b, reason: why[b] }); else order.push(b);
  }
  return { order, skipped };
}
