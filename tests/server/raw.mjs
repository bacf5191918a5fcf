// raw.mjs - raw-socket helpers for the front door tests (slow heads, HTTP edges, budgets, load):
// one request on a fresh TCP connection from a chosen loopback address, the answer parsed, and the
// server's memory and descriptors from /proc.
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';

/** Parse "HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody" -> {status, headers (lower-case names), body, json}. */
export function parseAnswer(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (!text.startsWith('HTTP/') || end < 0) return null;
  const lines = text.slice(0, end).split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = buf.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  let json = null;
  try { json = JSON.parse(body.toString()); } catch { /* not JSON */ }
  return { status, headers, body: body.toString(), bytes: body, json };
}

/**
 * Send `head` (and `body`, if any) on a new connection and collect the answer until the server
 * closes or `timeout` ms pass. Resolves {answer (parseAnswer or null), raw, closed (the server
 * closed), ms (first answer byte), error}.
 */
export function rawRequest(port, head, { body = null, localAddress = '127.0.0.1', timeout = 5000 } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const chunks = [];
    let first = null, done = false, error = null;
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ answer: parseAnswer(raw), raw, closed, ms: first, error });
    };
    const timer = setTimeout(() => finish(false), timeout);
    sock.on('connect', () => { sock.write(head); if (body) sock.write(body); });
    sock.on('data', (d) => {
      if (first === null) first = performance.now() - t0;
      chunks.push(d);
      // a complete answer ends the wait even if the server keeps the connection (the old server did)
      const a = parseAnswer(Buffer.concat(chunks));
      if (a && a.headers['content-length'] !== undefined && Buffer.byteLength(a.body) >= Number(a.headers['content-length']) &&
          a.headers.connection !== 'close') finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e) => { error = e.code || String(e); });
  });
}

/**
 * One connection for several requests (the front door keeps static answers' connections alive):
 * send(text) writes, next(timeout) resolves the next complete answer (by its Content-Length; none
 * for a 304, or with { head: true } for a HEAD request's) or null when the server closed or nothing came; closed() is true once the server closed.
 */
export function connection(port, { localAddress = '127.0.0.1' } = {}) {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress });
  let buf = Buffer.alloc(0), ended = false, wake = null;
  const ready = new Promise((resolve) => sock.on('connect', resolve));
  sock.on('data', (d) => { buf = Buffer.concat([buf, d]); wake?.(); });
  sock.on('close', () => { ended = true; wake?.(); });
  sock.on('error', () => {});
  const take = (head) => {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return null;
    const a = parseAnswer(buf.subarray(0, end + 4));
    const n = a.status === 304 || head ? 0 : Number(a.headers['content-length'] || 0);
    if (buf.length < end + 4 + n) return null;
    const out = parseAnswer(buf.subarray(0, end + 4 + n));
    buf = buf.subarray(end + 4 + n);
    return out;
  };
  return {
    send: async (text) => { await ready; sock.write(text); },
    next: (timeout = 5000, { head = false } = {}) => new Promise((resolve) => {
      const t0 = performance.now();
      const timer = setTimeout(() => { wake = null; resolve(null); }, timeout);
      wake = () => {
        const a = take(head);
        if (a || ended) { clearTimeout(timer); wake = null; resolve(a ? { ...a, ms: performance.now() - t0 } : null); }
      };
      wake();
    }),
    closed: () => ended,
    destroy: () => sock.destroy(),
  };
}

/** A GET or POST with a JSON body, as a browser would send it, from `localAddress`. */
export function httpRequest(port, method, path, { body = null, localAddress = '127.0.0.1', timeout = 5000, headers = {} } = {}) {
  const b = body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (b) head += `Content-Type: application/json\r\nContent-Length: ${b.length}\r\n`;
  return rawRequest(port, head + '\r\n', { body: b, localAddress, timeout });
}

/** Resident memory of a process, bytes. */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

/** Open file descriptors of a process. */
export function fdCount(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
