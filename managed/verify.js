// verify.js - the managed capture page (session_url = /verify/{session_id}#{start token}): binds
// this page's signing key to the session with the one-time token, runs the capture with
// @veriface/web, posts the signed package, then sends the person on to the integrator's
// redirect_url (with ?session_id=). No inline script or style: it runs under the page CSP.
import { Veriface, VerifaceError, createSessionKey, nextAttempt, guidanceMessage, openCamera, stopStream } from '/pkg/src/index.js';

const $ = (id) => document.getElementById(id);
const el = { video: $('video'), guidance: $('guidance'), start: $('start'), retry: $('retry'), error: $('error'),
  tint: $('tint'), prompt: $('prompt'), stage: $('stage') };
const m = /^\/verify\/([0-9a-f]{32})\/?$/.exec(location.pathname);
const state = { id: m ? m[1] : null, token: location.hash.slice(1), vf: null, key: null, session: null, redirect: null,
  answer: null, busy: false, stream: null };
window.verifyPage = state;   // for tests
// the token is a one-time capability: out of the address bar and the history once read
if (location.hash) history.replaceState(null, '', location.pathname + location.search);

const ARROWS = { challenge_left: ['left', '\u2190'], challenge_right: ['right', '\u2192'], challenge_up: ['up', '\u2191'],
  challenge_down: ['down', '\u2193'], challenge_centre: ['centre', '\u25CE'], challenge_hold: ['centre', '\u25CE'] };
const say = (t) => { el.guidance.textContent = t; };
const setState = (s) => { document.body.dataset.state = s; };
function setBar(frac) {
  const b = $('progress'), p = Math.round(Math.max(0, Math.min(1, frac)) * 100);
  b.firstElementChild.style.width = `${p}%`;
  b.setAttribute('aria-valuenow', String(p));
}
function showArrow(key) {
  const a = ARROWS[key];
  el.prompt.hidden = !a;
  if (!a) return;
  el.prompt.dataset.dir = a[0];
  el.prompt.firstElementChild.textContent = a[1];
}
function fail(e) {
  const err = VerifaceError.from(e);
  el.error.textContent = err.message;
  console.warn('veriface:', err.code, err.message);
}

/** POST /v1/sessions/{id}/start: the token and this page's public key; the session's config,
 *  nonce, models (and challenge) come back, with the address to go on to afterwards. */
async function startSession() {
  state.key = await createSessionKey();
  const res = await fetch(`/v1/sessions/${state.id}/start`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: state.token, client_public_key: state.key.publicKeySpki }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const code = body && body.error ? body.error.code : 'http_' + res.status;
    const text = code === 'session_started' ? 'This link was already used. Please start again from the site that sent you here.'
      : code === 'session_expired' || code === 'session_closed' ? 'This link has expired. Please start again from the site that sent you here.'
        : 'This link is not valid. Please start again from the site that sent you here.';
    throw new VerifaceError(code, text);
  }
  state.redirect = body.redirect_url || null;
  return body;
}

async function run() {
  if (state.busy) return;
  state.busy = true;
  el.error.textContent = '';
  el.start.disabled = true; el.retry.hidden = true;
  try {
    if (!state.session) state.session = await startSession();
    setState('capturing');
    say(guidanceMessage('starting'));
    const cam = await openCamera({});
    state.stream = cam.stream;
    el.video.srcObject = cam.stream;
    const out = await state.vf.capture({
      session: state.session, key: state.key, video: el.video, stream: cam.stream, cameraInfo: cam.info, submit: true, tint: el.tint,
      onGuidance: (g) => {
        say(g.message);
        if (g.challenge) document.body.dataset.challenge = ''; else delete document.body.dataset.challenge;
        showArrow(g.challenge ? g.key : null);
      },
      onProgress: ({ streak, needed }) => setBar(streak / needed),
    });
    delete document.body.dataset.challenge;
    showArrow(null);
    state.answer = out.answer;
    say(out.answer.message);
    if (out.answer.retry && out.answer.retry.allowed) {
      state.session = nextAttempt(state.session, out.answer);
      setState('retry');
      el.retry.hidden = false;
    } else {
      setState('done');
      setBar(1);
      if (state.redirect) location.replace(state.redirect);
    }
  } catch (e) {
    delete document.body.dataset.challenge;
    showArrow(null);
    fail(e);
    setState('error');
    // a capture that failed in the page (camera, timeout) may run again on the same attempt
    const code = VerifaceError.from(e).code;
    if (state.session && !/^session_|^http_|unknown_session|bad_token/.test(code)) el.retry.hidden = false;
  } finally {
    state.busy = false;
    stopStream(state.stream);
    state.stream = null;
    el.video.srcObject = null;
  }
}

async function init() {
  if (!state.id || !state.token) {
    setState('error');
    say('');
    el.error.textContent = 'This link is incomplete. Please start again from the site that sent you here.';
    return;
  }
  try {
    state.vf = await Veriface.create({ baseUrl: new URL('/pkg/', location.href), lazy: true });
    await state.vf.ready;
    setState('ready');
    say('Press Start and look at the camera.');
    el.start.disabled = false;
  } catch (e) {
    setState('error');
    say('');
    fail(e);
  }
}

el.start.addEventListener('click', run);
el.retry.addEventListener('click', run);
init();
