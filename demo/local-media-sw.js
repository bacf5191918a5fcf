// local-media-sw.js - the demo's service worker: answers GET .../local-media/* from the Cache API
// (local-media.js puts the chosen video there), with byte ranges as media elements ask for them;
// every other request goes to the network untouched.
const CACHE = 'veriface-demo-local-media';
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
  const u = new URL(e.request.url);
  if (e.request.method !== 'GET' || u.origin !== self.location.origin || !u.pathname.includes('/local-media/')) return;
  e.respondWith(answer(e.request, u.href));
});

async function answer(request, url) {
  const hit = await (await caches.open(CACHE)).match(url);
  if (!hit) return new Response('not found', { status: 404 });
  const m = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get('Range') || '');
  if (!m) return hit;
  const blob = await hit.blob(), start = Number(m[1]), end = m[2] ? Math.min(Number(m[2]), blob.size - 1) : blob.size - 1;
  if (start >= blob.size || end < start) return new Response('', { status: 416, headers: { 'Content-Range': `bytes */${blob.size}` } });
  return new Response(blob.slice(start, end + 1), { status: 206, headers: {
    'Content-Type': hit.headers.get('Content-Type'), 'Content-Length': String(end - start + 1),
    'Content-Range': `bytes ${start}-${end}/${blob.size}` } });
}
