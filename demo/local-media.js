// local-media.js - play a video file the user chose without a blob: URL. The page's policy
// (docs/SERVER.md) lets media come from this origin only, so the file is put in the Cache API under
// a path of this origin and a service worker (local-media-sw.js) answers that path from the cache.
// Nothing leaves the browser.
export const CACHE = 'veriface-demo-local-media';

/** A same-origin URL that plays `file` (the previous file's entry is dropped). */
export async function localMediaUrl(file) {
  const sw = navigator.serviceWorker;
  if (!sw || !globalThis.caches) throw new Error('this browser cannot play a chosen video here (no service worker or Cache API)');
  await sw.register(new URL('local-media-sw.js', import.meta.url), { scope: new URL('./', import.meta.url).pathname });
  await sw.ready;
  // the first registration controls the page once the worker claims it
  if (!sw.controller) await new Promise((resolve) => sw.addEventListener('controllerchange', resolve, { once: true }));
  const cache = await caches.open(CACHE);
  for (const old of await cache.keys()) await cache.delete(old);
  const url = new URL(`local-media/${Date.now()}`, import.meta.url).href;
  await cache.put(url, new Response(file, { headers: { 'Content-Type': file.type || 'application/octet-stream', 'Content-Length': String(file.size) } }));
  return url;
}
