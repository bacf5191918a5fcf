// challenge.js - the page side of the active challenge (docs/CHALLENGE.md): the server's
// "sequence" challenge checked and normalised, the pose rules the server applies (so the page
// prompts by the same classes), the step tracker that turns poses into prompts, and the screen
// tint that shows the colour sequence. No worker calls here: veriface.js drives the frames.
import { VerifaceError } from './errors.js';

export const CHALLENGE_STEPS = Object.freeze(['left', 'right', 'up', 'down']);
/** the longer side of a challenge frame as sent (px) */
export const CHALLENGE_MAX_SIDE = 480;
/** vf_motion's limit of frames (include/veriface.h: max_frames 2..96) */
export const CHALLENGE_MAX_FRAMES = 96;

const bad = (msg) => new VerifaceError('bad_challenge', `challenge: ${msg}`);
const num = (v, name, lo, hi) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) throw bad(`${name} must be a number in ${lo}..${hi} (got ${JSON.stringify(v)})`);
  return v;
};

/**
 * The challenge an attempt must answer, from the session (or the previous decision): null for
 * none; a frozen, checked copy of a "sequence" challenge; a VerifaceError for anything else
 * ('unsupported' for another type, 'bad_challenge' for bad fields) - never silently ignored: the
 * server would fail the attempt.
 */
export function parseChallenge(ch) {
  if (ch === null || ch === undefined) return null;
  if (typeof ch !== 'object') throw bad('not an object');
  if (ch.type !== 'sequence') {
    throw new VerifaceError('unsupported', `challenge type ${JSON.stringify(ch.type)}: this version of @veriface/web answers "sequence" challenges`);
  }
  if (!Array.isArray(ch.steps) || ch.steps.length < 1 || ch.steps.length > 8) throw bad('steps must be a list of 1..8 moves');
  for (const s of ch.steps) if (!CHALLENGE_STEPS.includes(s)) throw bad(`unknown step ${JSON.stringify(s)}`);
  const out = {
    type: 'sequence',
    steps: Object.freeze([...ch.steps]),
    min_yaw: num(ch.min_yaw, 'min_yaw', 1, 90),
    min_pitch: num(ch.min_pitch, 'min_pitch', 1, 90),
    centre: num(ch.centre, 'centre', 0.5, 45),
    step_ms: num(ch.step_ms, 'step_ms', 500, 60000),
    frame_ms: num(ch.frame_ms, 'frame_ms', 10, 1000),
    max_frames: Math.trunc(num(ch.max_frames, 'max_frames', 2, CHALLENGE_MAX_FRAMES)),
    light: null,
  };
  if (!(out.centre < out.min_yaw && out.centre < out.min_pitch)) throw bad('centre must be below min_yaw and min_pitch');
  if (ch.light !== null && ch.light !== undefined) {
    const l = ch.light;
    if (typeof l !== 'object' || !Array.isArray(l.colors) || l.colors.length < 1 || l.colors.length > 32) throw bad('light.colors must be a list of 1..32 colours');
    for (const c of l.colors) if (typeof c !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(c)) throw bad(`light colour ${JSON.stringify(c)} is not #rrggbb`);
    out.light = Object.freeze({ colors: Object.freeze([...l.colors]), color_ms: num(l.color_ms, 'light.color_ms', 50, 10000) });
  }
  return Object.freeze(out);
}

/**
 * The pose class of src/policy/challenge.c (the axis further past its angle wins): 'left' (yaw > 0: the subject's
 * left), 'right', 'up' (pitch > 0: chin up), 'down', 'centre' (|yaw| and |pitch| below centre), or
 * null. margin (degrees) makes the page stricter than the server (its own measurement of the
 * JPEG differs a little): a step needs min + margin, the centre centre - centreMargin.
 */
export function poseClass(ch, yaw, pitch, margin = 0, centreMargin = 0) {
  // both axes past their angle: the one further past wins (looking up, people turn a little too)
  const ry = Math.abs(yaw) / (ch.min_yaw + margin), rp = Math.abs(pitch) / (ch.min_pitch + margin);
  if (ry >= 1 && ry >= rp) return yaw > 0 ? 'left' : 'right';
  if (rp >= 1) return pitch > 0 ? 'up' : 'down';
  const c = ch.centre - centreMargin;
  if (Math.abs(yaw) < c && Math.abs(pitch) < c) return 'centre';
  return null;
}

/**
 * Poses in, prompts out, by the server's rule: face the camera, then reach step 0, come back to the
 * centre, reach step 1 ... each step within step_ms of the previous one (of the first frame for
 * step 0). key: 'challenge_centre', 'challenge_<step>', 'challenge_hold' (every step done: the
 * colours are still showing) or 'no_face'.
 */
export class StepTracker {
  constructor(ch, { margin = 2, centreMargin = 1 } = {}) {
    this.ch = ch;
    this.margin = margin;
    this.centreMargin = centreMargin;
    this.k = 0;               // steps done
    this.needCentre = true;
    this.since = null;        // time of the first frame, then of the last step reached
    this.stepAt = [];
    this.timedOut = false;
    this.key = null;
  }

  get done() { return this.k >= this.ch.steps.length; }
  get step() { return this.done ? null : this.ch.steps[this.k]; }

  /** One measured frame: t (ms), pose { face, yaw, pitch }. Returns the prompt key. */
  push(t, pose) {
    if (this.since === null) this.since = t;
    if (!this.done && pose && pose.face) {
      const pc = poseClass(this.ch, pose.yaw, pose.pitch, this.margin, this.centreMargin);
      if (pc === 'centre') this.needCentre = false;
      else if (!this.needCentre && pc === this.ch.steps[this.k]) {
        this.k++;
        this.stepAt.push(t);
        this.since = t;
        this.needCentre = true;
      }
    }
    if (!this.done && t - this.since > this.ch.step_ms) this.timedOut = true;
    this.key = this.done ? 'challenge_hold' : !(pose && pose.face) ? 'no_face'
      : this.needCentre ? 'challenge_centre' : `challenge_${this.ch.steps[this.k]}`;
    return this.key;
  }
}

/**
 * A clock of epoch ms on the frame timestamps' base: `base` + performance.now(), where base is the
 * frame pump's (Date.now() - performance.now() when it started; web/src/frames.js), else
 * performance.timeOrigin. light_start must be on the frames' clock: the server lines the colours up
 * with the frames within a few hundred ms.
 */
export function frameClock(base) {
  const b = Number.isFinite(base) ? base : performance.timeOrigin;
  const now = () => b + performance.now();
  /** a frame timestamp as epoch ms (a performance.now() value is moved onto the same base) */
  now.epoch = (t) => (t < 1e11 ? b + t : t);
  return now;
}

/**
 * The colour sequence on screen: a full-page tint layer. With `element` (the caller's layer, e.g.
 * <veriface-capture>'s, drawn around its camera view) the package colours and shows it, and hides it
 * again at the end; without, it appends its own fixed layer to document.body (leaving a hole
 * around `around`, the visible camera view, if any) and removes it at the end.
 * Low-flash mode (`lowFlash`; by default on for users who prefer reduced motion): half the opacity,
 * the tint fades in and each colour fades into the next over FADE_SHARE of its time (at most
 * FADE_MAX_MS) instead of switching at once; never no tint: the server checks the light, which
 * its 0-300 ms delay search still finds. Every colour change sets data-color (the colour) on the
 * layer; data-veriface-tint lists "reduced" and "low-flash" when they apply.
 */
export const FADE_SHARE = 0.4, FADE_MAX_MS = 200;
export class Tint {
  constructor({ element = null, around = null, opacity, lowFlash, now = frameClock() } = {}) {
    this.now = now;
    this.element = element;
    this.around = around;
    const reduced = typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.reduced = reduced;
    this.lowFlash = lowFlash === undefined || lowFlash === null ? reduced : Boolean(lowFlash);
    this.opacity = opacity !== undefined ? opacity : this.lowFlash ? 0.5 : 1;
    this.fadeMs = 0;
    this.timers = [];
    this.layer = null;
    this.hole = null;
    this.start_ms = null;
    this.end_ms = null;
  }

  _mount() {
    const mode = [this.reduced ? 'reduced' : '', this.lowFlash ? 'low-flash' : ''].filter(Boolean).join(' ');
    // inline styles through the CSSOM only: a strict Content-Security-Policy allows it
    const fade = this.fadeMs ? `${this.fadeMs}ms linear` : null;
    if (this.element) {
      this.layer = this.element;
      this.layer.hidden = false;
      this.layer.style.transition = fade ? `opacity ${fade}, background-color ${fade}` : 'none';
    } else {
      const layer = document.createElement('div');
      layer.setAttribute('aria-hidden', 'true');
      layer.style.cssText = 'position:fixed;inset:0;z-index:2147483646;pointer-events:none;overflow:hidden';
      layer.style.transition = fade ? `opacity ${fade}` : 'none';
      const hole = document.createElement('div');
      hole.style.cssText = 'position:absolute;left:50%;top:50%;width:0;height:0;border-radius:12px';
      if (fade) hole.style.transition = `box-shadow ${fade}`;
      layer.appendChild(hole);
      document.body.appendChild(layer);
      this.layer = layer;
      this.hole = hole;
    }
    this.layer.setAttribute('data-veriface-tint', mode);
    // low-flash: from transparent to the tint's opacity (a style flush first, or no transition runs)
    this.layer.style.opacity = fade ? '0' : String(this.opacity);
  }

  _place() {
    if (!this.hole) return;
    const r = this.around && this.around.getBoundingClientRect ? this.around.getBoundingClientRect() : null;
    const s = this.hole.style;
    if (r && r.width >= 32 && r.height >= 32) {
      s.left = `${r.left}px`; s.top = `${r.top}px`; s.width = `${r.width}px`; s.height = `${r.height}px`;
    } else {
      s.left = '50%'; s.top = '50%'; s.width = '0'; s.height = '0';
    }
  }

  _show(color) {
    this._place();
    if (this.hole) this.hole.style.boxShadow = `0 0 0 200vmax ${color}`;
    else this.layer.style.backgroundColor = color;
    this.layer.setAttribute('data-color', color);
  }

  /**
   * Show colors[0] now, then each next one colorMs later (timed from the first, so delays do not
   * add up), and clear the tint after the last one. Returns when the first colour was set (epoch
   * ms on `now`, the clock of the frame timestamps): light_start.
   */
  start(colors, colorMs) {
    this.fadeMs = this.lowFlash ? Math.round(Math.min(FADE_MAX_MS, colorMs * FADE_SHARE)) : 0;
    this._mount();
    this._show(colors[0]);
    if (this.fadeMs) {
      void getComputedStyle(this.layer).opacity;
      this.layer.style.opacity = String(this.opacity);
    }
    const t0 = this.now();
    this.start_ms = t0;
    this.end_ms = t0 + colors.length * colorMs;
    const at = (i) => {
      const delay = Math.max(0, t0 + i * colorMs - this.now());
      this.timers.push(setTimeout(() => {
        if (!this.layer) return;
        if (i < colors.length) { this._show(colors[i]); at(i + 1); } else this._clear();
      }, delay));
    };
    at(1);
    return t0;
  }

  _clear() {
    if (!this.layer) return;
    if (this.hole) this.hole.style.boxShadow = 'none';
    else this.layer.style.backgroundColor = '';
    this.layer.setAttribute('data-color', '');
  }

  /** All colours shown (by the page clock). */
  get finished() { return this.end_ms !== null && this.now() >= this.end_ms; }

  /** Stop the sequence and take the tint away (removed if the package created it). */
  stop() {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (!this.layer) return;
    this._clear();
    if (this.element) { this.layer.hidden = true; this.layer.removeAttribute('data-veriface-tint'); } else this.layer.remove();
    this.layer = this.hole = null;
  }
}
