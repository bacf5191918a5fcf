// webhook-receiver.mjs - a receiver of veriface-server webhooks (docs/SERVER.md "Webhooks"):
// checks the signature over the timestamp and the exact body, refuses old timestamps, and
// processes each event id once. Run: node webhook-receiver.mjs SECRET [PORT]
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

export function verify(secret, headers, body, nowMs = Date.now()) {
  const ts = String(headers['veriface-webhook-timestamp'] || ''), sig = Buffer.from(String(headers['veriface-webhook-signature'] || ''));
  const want = Buffer.from('v1=' + createHmac('sha256', secret).update(`${ts}.`).update(body).digest('hex'));
  return /^\d{1,12}$/.test(ts) && Math.abs(nowMs / 1000 - Number(ts)) <= 300 && sig.length === want.length && timingSafeEqual(sig, want);
}

export function receiver(secret, onEvent, seen = new Set()) {
  return createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c)).on('end', () => {
      const body = Buffer.concat(chunks);   // the exact bytes: verify before parsing
      if (!verify(secret, req.headers, body)) return res.writeHead(401).end();
      const id = req.headers['veriface-webhook-id'];
      if (!seen.has(id)) { seen.add(id); onEvent(JSON.parse(body)); }   // a redelivered id is acknowledged, not processed again
      res.writeHead(200).end();
    });
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  receiver(process.argv[2], (e) => console.log(e.id, e.decision, e.reference_id || '')).listen(Number(process.argv[3] || 8090));
}
