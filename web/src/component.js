// component.js - <veriface-capture>: camera view, oval guide, guidance text in an aria-live
// region, progress, Start/Cancel buttons, and for an active challenge the step prompts (a big
// arrow on the camera view) and the colour tint around it; built on Veriface.capture(). Register it explicitly
// (the package has no side effects): defineVerifaceCapture() or customElements.define(...).
import { Veriface } from './veriface.js';
import { openCamera, stopStream } from './camera.js';
import { guidanceMessage } from './guidance.js';
import { VerifaceError } from './errors.js';

const Base = globalThis.HTMLElement || class {};

const STYLE = `
:host { display: block; max-width: 480px; font: inherit; color: inherit; }
.stage { position: relative; aspect-ratio: 4 / 3; background: #111; border-radius: 12px; overflow: hidden; }
video { width: 100%; height: 100%; object-fit: cover; display: block; }
:host(:not([no-mirror])) video { transform: scaleX(-1); }
svg { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
.mask { fill: rgba(0, 0, 0, 0.45); }
.oval { fill: none; stroke: #fff; stroke-width: 3; stroke-dasharray: 8 6; transition: stroke .2s; }
:host([state=good]) .oval { stroke: #2fbf71; stroke-dasharray: none; }
.guidance { min-height: 1.5em; margin: .6em 0 .4em; font-weight: 600; text-align: center; }
.bar { height: 6px; background: rgba(127,127,127,.3); border-radius: 3px; overflow: hidden; }
.bar > div { height: 100%; width: 0; background: #2fbf71; transition: width .15s; }
.controls { display: flex; gap: .5em; justify-content: center; margin-top: .6em; }
button { font: inherit; padding: .5em 1.2em; border-radius: 8px; border: 1px solid currentColor; background: transparent; color: inherit; cursor: pointer; }
button:focus-visible { outline: 3px solid #4d90fe; outline-offset: 2px; }
button[hidden] { display: none; }
/* the active challenge: a full-page tint behind the camera view, prompts on it */
.tint { position: fixed; inset: 0; z-index: 2147483000; pointer-events: none; }
.tint[hidden] { display: none; }
:host([challenge]) .stage, :host([challenge]) .guidance, :host([challenge]) .bar, :host([challenge]) .controls, :host([challenge]) .notice {
  position: relative; z-index: 2147483001; }
:host([challenge]) .guidance { background: rgba(0, 0, 0, .78); color: #fff; border-radius: 8px; padding: .3em .6em; }
:host([challenge]) .controls button { background: rgba(0, 0, 0, .78); color: #fff; }
.prompt { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; pointer-events: none; }
.prompt[hidden] { display: none; }
.arrow { font-size: min(96px, 24vw); line-height: 1; color: #fff; text-shadow: 0 0 12px rgba(0,0,0,.8), 0 0 2px #000; }
.prompt[data-dir=left] { justify-content: flex-start; padding-left: 6%; }
.prompt[data-dir=right] { justify-content: flex-end; padding-right: 6%; }
.prompt[data-dir=up] { align-items: flex-start; padding-top: 4%; }
.prompt[data-dir=down] { align-items: flex-end; padding-bottom: 4%; }
@media (prefers-reduced-motion: no-preference) {
  .prompt[data-dir=left] .arrow { animation: nudge-x 1s ease-in-out infinite alternate; --d: -10px; }
  .prompt[data-dir=right] .arrow { animation: nudge-x 1s ease-in-out infinite alternate; --d: 10px; }
  .prompt[data-dir=up] .arrow { animation: nudge-y 1s ease-in-out infinite alternate; --d: -10px; }
  .prompt[data-dir=down] .arrow { animation: nudge-y 1s ease-in-out infinite alternate; --d: 10px; }
}
@media (prefers-reduced-motion: reduce) { .oval, .bar > div { transition: none; } }
@keyframes nudge-x { to { transform: translateX(var(--d)); } }
@keyframes nudge-y { to { transform: translateY(var(--d)); } }
.notice { font-size: .85em; text-align: center; margin: .2em 0; opacity: .85; }
.notice[hidden] { display: none; }
`;

/**
 * The element's style as a constructed stylesheet: a page whose Content-Security-Policy has no
 * 'unsafe-inline' style-src blocks a <style> element, even in a shadow root, but not this. Engines
 * without constructable stylesheets (Safari < 16.4) get the <style> element.
 */
function adoptStyle(root) {
  if (typeof CSSStyleSheet === 'function' && 'adoptedStyleSheets' in root && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = STYLE;
    root.prepend(style);
  }
}

/** The arrow of each challenge prompt (left/right are the person's own: their left is the screen's left). */
const ARROWS = { challenge_left: ['left', '\u2190'], challenge_right: ['right', '\u2192'], challenge_up: ['up', '\u2191'],
  challenge_down: ['down', '\u2193'], challenge_centre: ['centre', '\u25CE'], challenge_hold: ['centre', '\u25CE'] };

/**
 * Attributes: base-url, threads, lazy (guidance before PAD and the embedder are loaded), no-mirror,
 * submit (server URL; "" = this origin), worker-url (the worker script, for bundlers that do not
 * bundle a dependency's worker, e.g. the Angular CLI), low-flash (the challenge's colours fade at half opacity;
 * on anyway when the user prefers reduced motion). Set while it runs: state (running, good, done, error),
 * challenge (during an active challenge).
 * Properties: session, key (createSessionKey()), messages (text overrides by key), veriface
 * (an existing instance), deviceId, rememberCamera.
 * Events: veriface-ready, veriface-guidance {code,key,message,status}, veriface-frame {status},
 * veriface-result {result}, veriface-error {error}.
 */
export class VerifaceCaptureElement extends Base {
  constructor() {
    super();
    this._messages = {};
    this.session = null;
    this.key = null;
    this.veriface = null;
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<div class="stage" part="stage"><video part="video" muted playsinline autoplay tabindex="-1"></video>
<svg viewBox="0 0 400 300" preserveAspectRatio="xMidYMid slice" aria-hidden="true">
<path class="mask" fill-rule="evenodd" d="M0 0H400V300H0Z M122 150a78 105 0 1 0 156 0a78 105 0 1 0 -156 0Z"/><ellipse class="oval" part="oval" cx="200" cy="150" rx="78" ry="105"/></svg>
<div class="prompt" part="prompt" aria-hidden="true" hidden><span class="arrow"></span></div></div>
<div class="tint" part="tint" aria-hidden="true" hidden></div>
<p class="guidance" part="guidance" role="status" aria-live="polite" aria-atomic="true"></p>
<p class="notice" part="notice" hidden></p>
<div class="bar" part="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div></div></div>
<div class="controls"><button type="button" part="start" class="start"></button><button type="button" part="cancel" class="cancel" hidden></button></div>`;
    adoptStyle(root);
    this._video = root.querySelector('video');
    this._text = root.querySelector('.guidance');
    this._prompt = root.querySelector('.prompt');
    this._tint = root.querySelector('.tint');
    this._notice = root.querySelector('.notice');
    this._bar = root.querySelector('.bar');
    this._start = root.querySelector('.start');
    this._cancel = root.querySelector('.cancel');
    this._start.addEventListener('click', () => { this.start().catch(() => {}); });
    this._cancel.addEventListener('click', () => this.cancel());
    this.addEventListener('keydown', (e) => { if (e.key === 'Escape' && this._abort) { e.preventDefault(); this.cancel(); } });
  }

  /** Text overrides by key; setting them relabels the element at once. */
  get messages() { return this._messages; }
  set messages(m) {
    this._messages = m || {};
    if (this._start) this._label();
  }

  connectedCallback() { this._label(); }
  disconnectedCallback() { this.cancel(); }

  _t(key) { return guidanceMessage(key, this.messages); }
  _label() {
    this._start.textContent = this._t('start');
    this._cancel.textContent = this._t('cancel');
    this._bar.setAttribute('aria-label', this._t('progress'));
  }
  _say(key, text) { this._text.textContent = text || this._t(key); }
  /** The big arrow of a challenge prompt (hidden for any other key). */
  _arrow(key) {
    const a = ARROWS[key];
    this._prompt.hidden = !a;
    if (!a) return;
    this._prompt.dataset.dir = a[0];
    this._prompt.firstElementChild.textContent = a[1];
  }
  _progress(frac) {
    const p = Math.round(Math.max(0, Math.min(1, frac)) * 100);
    this._bar.firstElementChild.style.width = `${p}%`;
    this._bar.setAttribute('aria-valuenow', String(p));
  }
  _emit(name, detail) { this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true })); }

  /** Load the engine (if no instance was given) and open the camera; then capture one attempt. */
  async start() {
    if (this._abort) return this._running;
    if (!this.session || !this.key) throw new VerifaceError('invalid_arg', '<veriface-capture>: set .session and .key first');
    this._abort = new AbortController();
    this._label();
    const hadFocus = this.shadowRoot.activeElement === this._start;
    this._start.hidden = true;
    this._cancel.hidden = false;
    if (hadFocus) this._cancel.focus();   // keep keyboard focus inside: Escape and Enter still reach us
    this._progress(0);
    this.setAttribute('state', 'running');
    const ch = this.session.challenge;
    const light = Boolean(ch && ch.type === 'sequence' && ch.light);
    // say it before it starts: the screen changes colour during the challenge
    this._notice.textContent = light ? this._t('challenge_light') : '';
    this._notice.hidden = !light;
    this._running = (async () => {
      let stream = null;
      // the camera opens while the engine loads (both take seconds on a slow device)
      const camIn = openCamera({ deviceId: this.deviceId, remember: this.rememberCamera === true, video: this._video });
      camIn.then((c) => { stream = c.stream; }, () => {});
      try {
        if (!this.veriface) {
          this._say('loading');
          const t = this.getAttribute('threads');
          this.veriface = await Veriface.create({
            baseUrl: this.getAttribute('base-url') || undefined, threads: t ? Number(t) : 'auto', lazy: this.hasAttribute('lazy'),
            workerUrl: this.getAttribute('worker-url') || undefined,
            onProgress: (p) => { if (p.total) this._progress(p.loaded / p.total); },
          });
          this._emit('veriface-ready', { info: this.veriface.info });
          this._progress(0);
        }
        this._say('starting');
        const cam = await camIn;   // already shown in this._video (openCamera's video option)
        const submitAttr = this.getAttribute('submit');
        const res = await this.veriface.capture({
          session: this.session, key: this.key, video: this._video, stream, cameraInfo: cam.info, signal: this._abort.signal,
          messages: this.messages, submit: submitAttr === null ? undefined : (submitAttr || true), tint: this._tint,
          lowFlash: this.hasAttribute('low-flash') || undefined,
          onGuidance: (g) => {
            // guidance changes only (never per frame): the aria-live region announces each once
            this._say(g.key);
            if (g.challenge) this.setAttribute('challenge', '');
            this._arrow(g.challenge ? g.key : null);
            this.setAttribute('state', g.key === 'ok' ? 'good' : 'running');
            this._emit('veriface-guidance', g);
          },
          onFrame: (status) => this._emit('veriface-frame', { status }),
          // with a challenge, the passive frames fill the first half of the bar, the steps the rest
          onProgress: ({ streak, needed, challenge }) => this._progress(!ch ? streak / needed
            : challenge ? 0.5 + 0.5 * (challenge.done / challenge.steps) : 0.5 * (streak / needed)),
        });
        this._endChallenge();
        this._progress(1);
        this._say('done');
        this.setAttribute('state', 'done');
        this._emit('veriface-result', { result: res });
        return res;
      } catch (e) {
        this._endChallenge();
        const err = VerifaceError.from(e);
        this.setAttribute('state', 'error');
        this._say(['camera_denied', 'camera_missing'].includes(err.code) ? err.code : err.code === 'aborted' ? 'start' : 'error',
          err.code === 'aborted' ? ' ' : undefined);
        this._emit('veriface-error', { error: err });
        throw err;
      } finally {
        if (stream) stopStream(stream);
        else {   // failed before the camera was open: stopped (and no longer shown) when it opens
          camIn.then((c) => { stopStream(c.stream); if (this._video.srcObject === c.stream) this._video.srcObject = null; }, () => {});
        }
        this._video.srcObject = null;
        this._abort = null;
        this._start.hidden = false;
        this._cancel.hidden = true;
        this._start.focus();
      }
    })();
    return this._running;
  }

  _endChallenge() {
    this.removeAttribute('challenge');
    this._arrow(null);
    this._notice.hidden = true;
  }

  cancel() { if (this._abort) this._abort.abort(new VerifaceError('aborted', 'cancelled by the user')); }
}

/** Register the element (idempotent). */
export function defineVerifaceCapture(tagName = 'veriface-capture') {
  if (!customElements.get(tagName)) customElements.define(tagName, class extends VerifaceCaptureElement {});
  return customElements.get(tagName);
}
