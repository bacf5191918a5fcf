// package.js - the signed result package of web/PACKAGE.md (format 1): build the body, sign its
// exact bytes with the session's ECDSA P-256 key, verify, post. Runs in browsers and in node 20
// (tests reuse it): WebCrypto and fetch only.
import { subtle, toBase64, toBase64Url, fromBase64 } from './bytes.js';
import { VerifaceError } from './errors.js';

export const PACKAGE_FORMAT = 1;
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };

/**
 * A key pair for one session: the private key is non-extractable (it can sign, never leave);
 * `publicKeySpki` (b64 SPKI DER) goes to the integrator's backend, which registers it with the
 * session (PACKAGE.md section 1).
 */
export async function createSessionKey() {
  const { privateKey, publicKey } = await subtle().generateKey(ECDSA, false, ['sign', 'verify']);
  const spki = new Uint8Array(await subtle().exportKey('spki', publicKey));
  return { privateKey, publicKey, publicKeySpki: toBase64(spki) };
}

const j = (v) => JSON.stringify(v);
/** A C JSON text inserted verbatim (it is canonical already); refused if it does not parse. */
function raw(text, what) {
  if (typeof text !== 'string') throw new VerifaceError('invalid_arg', `${what}: C JSON text expected`);
  JSON.parse(text);
  return text;
}

const frameHead = (f) => `{"index":${j(f.index)},"timestamp":${j(f.timestamp)},"width":${j(f.width)},"height":${j(f.height)},` +
  `"mime":${j(f.mime || 'image/jpeg')},"sha256":${j(f.sha256)},"data":${j(f.data)}`;

/** The `challenge` member (docs/CHALLENGE.md): the steps asked, when the first colour showed
 *  (epoch ms, null without light) and the challenge frames in order (no C status: the server
 *  measures them itself). */
function challengeJson(c) {
  if (!c || !Array.isArray(c.steps) || !Array.isArray(c.frames)) throw new VerifaceError('invalid_arg', 'challenge: steps and frames required');
  const ls = c.light_start === undefined || c.light_start === null ? null : c.light_start;
  if (ls !== null && !Number.isFinite(ls)) throw new VerifaceError('invalid_arg', 'challenge: light_start must be a number or null');
  return `{"steps":${j(c.steps)},"light_start":${j(ls)},"frames":[${c.frames.map((f) => `${frameHead(f)}}`).join(',')}]}`;
}

/**
 * The request body, as a string, keys in the order of PACKAGE.md section 3. The C JSON (`resultJson`,
 * each frame's `statusJson`) goes in verbatim so the server reads the client's exact numbers.
 * `challenge` (an active challenge's answer) goes between `frames` and `signals`; absent without one.
 */
export function buildBody({ session, createdAt = Date.now(), capture, module, models, resultJson, frames, challenge, signals }) {
  if (!session || !session.session_id || !session.nonce) throw new VerifaceError('invalid_arg', 'session: session_id and nonce required');
  const fr = frames.map((f) => `${frameHead(f)},"status":${raw(f.statusJson, `frame ${f.index} status`)}}`);
  return `{"format":${PACKAGE_FORMAT},"session_id":${j(session.session_id)},"nonce":${j(session.nonce)},` +
    `"attempt":${j(session.attempt || 1)},"created_at":${j(createdAt)},"capture":${j(capture)},"module":${j(module)},` +
    `"models":${j(models)},"result":${raw(resultJson, 'result')},"frames":[${fr.join(',')}],` +
    `${challenge ? `"challenge":${challengeJson(challenge)},` : ''}"signals":${j(signals)}}`;
}

/** b64url of the 64-byte P1363 (r||s) ECDSA P-256 SHA-256 signature over the body's UTF-8 bytes. */
export async function signBody(privateKey, body) {
  const sig = await subtle().sign(SIGN, privateKey, new TextEncoder().encode(body));
  return toBase64Url(new Uint8Array(sig));
}

/** Verify as a server does: SPKI b64 (or a CryptoKey), the exact body, the header value. */
export async function verifyBody(publicKey, body, signature) {
  const key = typeof publicKey === 'string'
    ? await subtle().importKey('spki', fromBase64(publicKey), ECDSA, false, ['verify'])
    : publicKey;
  return subtle().verify(SIGN, key, fromBase64(signature), new TextEncoder().encode(body));
}

/** Build and sign: returns { body, signature, headers } ready to POST. */
export async function signPackage(privateKey, fields) {
  const body = buildBody(fields);
  const signature = await signBody(privateKey, body);
  return { body, signature, headers: { 'Content-Type': 'application/json', 'X-Veriface-Signature': signature } };
}

/**
 * POST a signed package to `${serverUrl}/v1/sessions/{id}/result`; resolves to the server's answer
 * (PACKAGE.md section 4): { session_id, attempt, final, message, retry: { allowed, next_nonce },
 * challenge? }. The answer never says what was decided or why: the integrator's backend reads that
 * with its API key. Rejects with a VerifaceError carrying the server's error code and HTTP status.
 *
 * The same signed bytes are sent again, up to `retries` times, when the server sheds load (503,
 * after its Retry-After, at most 10 s) or the connection fails before an answer: the server answers
 * a body it already decided with the recorded answer, so a lost answer is never a lost attempt.
 */
export async function postPackage(serverUrl, sessionId, signed, { fetch: f = globalThis.fetch, signal, retries = 3 } = {}) {
  const url = new URL(`v1/sessions/${encodeURIComponent(sessionId)}/result`, withSlash(serverUrl)).href;
  for (let i = 0; ; i++) {
    try {
      return await requestJson(f, url, { method: 'POST', headers: signed.headers, body: signed.body, signal });
    } catch (e) {
      const again = i < retries && (e.code === 'network' || (e.status === 503 && e.code !== 'aborted'));
      if (!again) throw e;
      const after = Number(e.retryAfter);
      await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 10) * 1000 : 500 * 2 ** i, signal);
    }
  }
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) { reject(new VerifaceError('aborted', 'request aborted')); return; }
    const t = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => { clearTimeout(t); reject(new VerifaceError('aborted', 'request aborted')); }, { once: true });
  });
}

/**
 * Demo only (server started with --demo): GET /demo/sessions/{id}, the decision and its reasons
 * for a session the demo page created. Integrator sessions are not served here: their decision
 * is for the integrator's backend (GET /v1/sessions/{id} with the API key).
 */
export async function getDemoSession(serverUrl, sessionId, { fetch: f = globalThis.fetch, signal } = {}) {
  const url = new URL(`demo/sessions/${encodeURIComponent(sessionId)}`, withSlash(serverUrl)).href;
  return requestJson(f, url, { method: 'GET', signal });
}

/**
 * Demo only (server started with --demo): POST /demo/sessions with the page's public key.
 * A production page gets its session from the integrator's backend instead.
 */
export async function createDemoSession(serverUrl, publicKeySpki, config = {}, { fetch: f = globalThis.fetch, signal } = {}) {
  const url = new URL('demo/sessions', withSlash(serverUrl)).href;
  return requestJson(f, url, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_public_key: publicKeySpki, config }), signal,
  });
}

function withSlash(u) {
  const s = String(u || (globalThis.location && globalThis.location.origin) || '');
  return s.endsWith('/') ? s : `${s}/`;
}

async function requestJson(f, url, init) {
  let res;
  try {
    res = await f(url, init);
  } catch (e) {
    // fetch rejects with the signal's reason when one was given: any error of an aborted signal is an abort
    if ((init.signal && init.signal.aborted) || (e && e.name === 'AbortError')) throw new VerifaceError('aborted', 'request aborted', { cause: e });
    throw new VerifaceError('network', `${url}: ${e.message}`, { cause: e });
  }
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
  if (!res.ok) {
    const err = body && body.error;
    const e = new VerifaceError((err && err.code) || 'http_error', (err && err.message) || `${url}: HTTP ${res.status}`,
      { status: res.status, response: body });
    e.retryAfter = res.headers && res.headers.get ? res.headers.get('Retry-After') : null;
    throw e;
  }
  if (!body) throw new VerifaceError('bad_response', `${url}: not JSON`);
  return body;
}
