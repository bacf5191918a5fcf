// demo.js - the veriface demo page: the @veriface/web API end to end against the real server
// (started with --demo): POST /demo/sessions, capture in the worker, signed package, decision.
import {
  Veriface, VerifaceError, createSessionKey, createDemoSession, getDemoSession, nextAttempt, openCamera, stopStream,
  listCameras, rememberCamera, rememberedCamera, forgetCamera, guidanceMessage, similarity, matchBand, frameToElement,
} from './pkg/src/index.js';
import { localMediaUrl } from './local-media.js';

const $ = (id) => document.getElementById(id);
const el = {
  video: $('video'), photo: $('photo'), overlay: $('overlay'), stage: $('stage'), guidance: $('guidance'),
  start: $('start'), cancel: $('cancel'), retry: $('retry'), camera: $('camera'), remember: $('remember'),
  file: $('file'), reference: $('reference'), error: $('error'), engine: $('engine'),
  tint: $('tint'), lowFlash: $('low-flash'), prompt: $('prompt'), steps: $('steps'), light: $('light'), lightNotice: $('light-notice'),
};
const state = { vf: null, stream: null, cameraInfo: null, source: 'camera', fileKind: null,
  abort: null, session: null, key: null, lastResult: null, refEmbedding: null, lastBody: null, frameSize: null, fps: [] };
window.demo = state;   // for tests and curious developers

// Quality meters: metric, label, meter range, the guidance codes whose check reads it.
const METERS = [
  ['face_width', 'Face size', 0, 1, [3, 4], 3], ['center_offset', 'Off centre', 0, 0.5, [5], 3],
  ['yaw', 'Yaw °', 0, 45, [7], 1, true], ['pitch', 'Pitch °', 0, 45, [7], 1, true], ['roll', 'Roll °', 0, 45, [8], 1, true],
  ['eye_open', 'Eyes open', 0, 0.5, [9], 3], ['brightness', 'Brightness', 0, 255, [10, 11], 0],
  ['light_asymmetry', 'Light asymmetry', 0, 1, [12], 2], ['glare', 'Glare', 0, 0.1, [13], 3],
  ['sharpness', 'Sharpness', 0, 1, [14], 2], ['sharpness_dir', 'Smear-free', 0, 0.05, [14], 4], ['motion', 'Motion', 0, 0.5, [15], 3], ['presence', 'Face presence', 0, 1, [6], 2],
];
const meterEls = {};
for (const [k, label, lo, hi] of METERS) {
  const dt = document.createElement('dt'); dt.id = `m-${k}`; dt.textContent = label;
  const dd = document.createElement('dd');
  const m = document.createElement('meter'); m.min = lo; m.max = hi; m.setAttribute('aria-labelledby', dt.id);
  dd.appendChild(m);
  const v = document.createElement('dd'); v.className = 'v'; v.textContent = '–';
  $('meters').append(dt, dd, v);
  meterEls[k] = { dt, m, v };
}

function setBar(id, frac) {
  const b = $(id), p = Math.round(Math.max(0, Math.min(1, frac)) * 100);
  b.firstElementChild.style.width = `${p}%`;
  b.setAttribute('aria-valuenow', String(p));
}
function setState(s) { document.body.dataset.state = s; }
function showError(e) {
  const err = VerifaceError.from(e);
  el.error.textContent = err.code === 'aborted' ? 'Cancelled.' : `${err.message} (${err.code})`;
  if (err.code !== 'aborted') console.warn('veriface:', err.code, err.message);
}
function say(text) { el.guidance.textContent = text; }

// Pictures are drawn on canvases: the page's policy (docs/SERVER.md) allows no data: or blob: images.
async function paint(canvas, blob) {
  const bmp = await createImageBitmap(blob);
  canvas.width = bmp.width; canvas.height = bmp.height;
  canvas.getContext('2d').drawImage(bmp, 0, 0);
  bmp.close();
}
const frameBlob = (f) => new Blob([Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0))], { type: f.mime });

// ---- active challenge: the step list, the arrow on the camera view ------------------------------
const ARROWS = { challenge_left: ['left', '\u2190'], challenge_right: ['right', '\u2192'], challenge_up: ['up', '\u2191'],
  challenge_down: ['down', '\u2193'], challenge_centre: ['centre', '\u25CE'], challenge_hold: ['centre', '\u25CE'] };
const STEP_NAMES = { left: '\u2190 your left', right: 'your right \u2192', up: '\u2191 up', down: '\u2193 down' };
function showSteps(ch, done = 0, current = -1) {
  el.steps.hidden = !ch;
  el.lightNotice.hidden = !(ch && ch.light);
  if (!ch) return;
  el.steps.replaceChildren(...ch.steps.map((st, i) => {
    const li = document.createElement('li');
    li.textContent = `${i < done ? '\u2713 ' : ''}${STEP_NAMES[st] || st}`;
    if (i < done) li.className = 'done'; else if (i === current) li.className = 'current';
    return li;
  }));
}
function showArrow(key) {
  const a = ARROWS[key];
  el.prompt.hidden = !a;
  if (!a) return;
  el.prompt.dataset.dir = a[0];
  el.prompt.firstElementChild.textContent = a[1];
}

// ---- drawing: oval guide, face box, landmarks --------------------------------------------------
function drawOverlay(status) {
  state.drawn = status;   // redrawn as is when the page resizes
  const c = el.overlay, r = c.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  if (c.width !== Math.round(r.width * dpr)) { c.width = Math.round(r.width * dpr); c.height = Math.round(r.height * dpr); }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, r.width, r.height);
  const good = status && status.good;
  // oval guide in the stage's centre
  g.save();
  g.fillStyle = 'rgba(0,0,0,0.35)';
  g.beginPath(); g.rect(0, 0, r.width, r.height);
  g.ellipse(r.width / 2, r.height / 2, r.height * 0.27, r.height * 0.37, 0, 0, Math.PI * 2, true); g.fill('evenodd');
  g.strokeStyle = good ? '#2fbf71' : '#ffffff'; g.lineWidth = 3; g.setLineDash(good ? [] : [8, 6]);
  g.beginPath(); g.ellipse(r.width / 2, r.height / 2, r.height * 0.27, r.height * 0.37, 0, 0, Math.PI * 2); g.stroke();
  g.restore();
  if (!status || !state.frameSize || !status.quality.face_count) return;
  // frame pixels -> the overlay's pixels where the video (or photo) shows them: its object-fit,
  // object-position and mirroring as the engine lays them out, not a copy of the stylesheet's
  const [fw, fh] = state.frameSize;
  const { x: X, y: Y } = frameToElement(el.photo.hidden ? el.video : el.photo, fw, fh, { relativeTo: c });
  const [x0, y0, x1, y1] = status.face_box;
  g.strokeStyle = good ? '#2fbf71' : '#f5b041'; g.lineWidth = 2;
  g.strokeRect(Math.min(X(x0), X(x1)), Y(y0), Math.abs(X(x1) - X(x0)), Y(y1) - Y(y0));
  g.fillStyle = '#4d90fe';
  for (const [x, y] of status.landmarks5) { g.beginPath(); g.arc(X(x), Y(y), 3, 0, Math.PI * 2); g.fill(); }
}

function showQuality(status) {
  const q = status.quality, failed = new Set(q.failed);
  for (const [k, , , , codes, dec, abs] of METERS) {
    const e = meterEls[k], x = q[k];
    e.m.value = abs ? Math.abs(x) : x;
    e.v.textContent = Number.isFinite(x) ? x.toFixed(dec) : '–';
    const bad = codes.some((c) => failed.has(c));
    e.dt.classList.toggle('fail', bad); e.v.classList.toggle('fail', bad);
  }
}

// ---- engine -----------------------------------------------------------------------------------
async function init() {
  try {
    // lazy: guidance can start once the detector and mesh are in; liveness and the embedding follow
    state.vf = await Veriface.create({
      baseUrl: new URL('./pkg/', location.href), lazy: true,
      onProgress: (p) => { if (p.total) setBar('load', p.loaded / p.total); },
    });
    const describe = (i, first) => `Engine ${i.engine}, wasm ${i.build} (${i.threads} thread${i.threads > 1 ? 's' : ''}` +
      `${crossOriginIsolated ? ', cross-origin isolated' : ''}); guidance ready in ${Math.round(first)} ms` +
      (i.complete ? `, all models in ${Math.round(i.ready_ms)} ms; passive liveness ${i.pad ? 'on' : 'unavailable (no MiniFASNet models)'}.` : '; loading liveness and matching models…');
    const first = state.vf.info.ready_ms;
    el.engine.textContent = describe(state.vf.info, first);
    state.vf.ready.then((i) => {
      el.engine.textContent = describe(i, first);
      $('load').hidden = true;
      document.body.dataset.engine = 'full';
    }, showError);
    el.start.disabled = false;
    setState('ready');
    drawOverlay(null);
    el.remember.checked = Boolean(rememberedCamera());
    await fillCameras();
  } catch (e) {
    setState('error');
    el.engine.textContent = 'The engine could not load.';
    showError(e);
  }
}

async function fillCameras() {
  let cams = [];
  try { cams = await listCameras(); } catch { return; }
  const keep = el.camera.value || rememberedCamera() || '';
  el.camera.replaceChildren(new Option('Default camera', ''));
  cams.forEach((c, i) => el.camera.add(new Option(c.label || `Camera ${i + 1}`, c.deviceId)));
  if ([...el.camera.options].some((o) => o.value === keep)) el.camera.value = keep;
}

// ---- sources ----------------------------------------------------------------------------------
async function openPreview() {
  if (state.stream) return;
  const cam = await openCamera({ deviceId: el.camera.value || undefined, remember: el.remember.checked });
  state.stream = cam.stream; state.cameraInfo = cam.info;
  el.video.srcObject = cam.stream;
  el.stage.classList.add('mirror');
  await fillCameras();
  const id = cam.track.getSettings().deviceId;
  if (id && [...el.camera.options].some((o) => o.value === id)) el.camera.value = id;
}
function closePreview() {
  stopStream(state.stream);
  state.stream = null;
  el.video.srcObject = null;
}

function showSource() {
  state.source = document.querySelector('input[name=source]:checked').value;
  $('camera-controls').hidden = state.source !== 'camera';
  $('file-controls').hidden = state.source !== 'file';
  if (state.source !== 'camera') closePreview();
  el.stage.classList.toggle('mirror', state.source === 'camera');
}

async function onFile() {
  const f = el.file.files[0];
  if (!f) return;
  el.error.textContent = '';
  if (f.type.startsWith('video/')) {
    state.fileKind = 'video';
    el.photo.hidden = true; el.video.hidden = false;
    el.video.srcObject = null; el.video.loop = true;
    try {
      el.video.src = await localMediaUrl(f);
    } catch (e) { showError(e); return; }
    await el.video.play().catch(() => {});
    say('Video loaded: press Start to run the capture on it.');
  } else {
    state.fileKind = 'photo';
    el.video.hidden = true; el.photo.hidden = false;
    say('Analysing the photo…');
    try {
      const r = await state.vf.analyzeImage(f);
      state.frameSize = [r.width, r.height];
      showQuality(r.status);
      await paint(el.photo, f);
      drawOverlay(r.status);
      say(r.status.good ? 'The photo passes the capture checks.' : guidanceMessage(r.status.quality.guidance));
      showResult(r.result);
    } catch (e) { showError(e); }
  }
}

async function onReference() {
  const f = el.reference.files[0];
  state.refEmbedding = null;
  if (!f) return;
  try {
    const r = await state.vf.analyzeImage(f);
    if (!r.result || r.result.embedding.status !== 'ok') {
      $('match').textContent = `No usable face in the reference (${guidanceMessage(r.status.quality.guidance)}).`;
      return;
    }
    state.refEmbedding = r.result.embedding.vector;
    showMatch();
  } catch (e) { showError(e); }
}

// ---- results ----------------------------------------------------------------------------------
function showResult(res) {
  if (!res) { $('liveness').textContent = '–'; $('embedding').textContent = '–'; return; }
  state.lastResult = res;
  const l = res.liveness;
  $('liveness').innerHTML = '';
  const s = document.createElement('span');
  s.className = l.outcome === 'pass' ? 'pass' : l.outcome === 'fail' ? 'fail' : 'uncertain';
  s.textContent = l.status === 'ok' ? `${l.outcome} (score ${l.score.toFixed(3)}; pass ≥ ${l.pass_at}, fail < ${l.fail_below})` : `not run (${l.status})`;
  $('liveness').appendChild(s);
  $('embedding').textContent = res.embedding.status === 'ok' ? `${res.embedding.dim} dimensions, from frame ${res.chosen[0]}` : res.embedding.status;
  showMatch();
}
function showMatch() {
  const r = state.lastResult;
  if (!state.refEmbedding) { $('match').textContent = 'Add a reference photo to compare.'; return; }
  if (!r || r.embedding.status !== 'ok') { $('match').textContent = 'Reference ready: capture a face to compare.'; return; }
  const sim = similarity(state.refEmbedding, r.embedding.vector);
  const band = { strong: 'strong match', weak: 'weak match', none: 'no match' }[matchBand(sim)];
  $('match').textContent = `similarity ${sim.toFixed(3)}: ${band} (in-page preview; the server decides)`;
}

function showPackage(out) {
  const shown = out.body.replace(/"data":"([A-Za-z0-9+/=]{40})[A-Za-z0-9+/=]*"/g, (m, head) => `"data":"${head}…"`);
  let pretty = shown;
  try { pretty = JSON.stringify(JSON.parse(shown), null, 2); } catch { /* keep as is */ }
  $('package').textContent = `X-Veriface-Signature: ${out.signature}\n\n${pretty}`;
  state.lastBody = out.body;
  $('download').disabled = false;
  const thumbs = $('thumbs');
  thumbs.replaceChildren();
  const pkg = JSON.parse(out.body);
  // the challenge's frames (every frame_ms while the person moved) after the passive ones, outlined
  const all = [...pkg.frames.map((f) => [f, 'frame']), ...((pkg.challenge && pkg.challenge.frames) || []).map((f) => [f, 'challenge frame'])];
  for (const [f, what] of all) {
    const c = document.createElement('canvas');
    c.setAttribute('role', 'img');
    c.setAttribute('aria-label', `${what} ${f.index}`);
    if (what !== 'frame') c.className = 'challenge';
    thumbs.appendChild(c);
    paint(c, frameBlob(f)).catch(showError);
  }
}

/** After a capture the camera is off: show the best frame sent, with its box and landmarks. */
async function showBestFrame(out) {
  const pkg = JSON.parse(out.body);
  const f = pkg.frames.find((x) => x.index === out.result.chosen[0]) || pkg.frames[0];
  if (!f) return;
  await paint(el.photo, frameBlob(f));
  el.photo.hidden = false; el.video.hidden = true;
  state.frameSize = [f.width, f.height];
  el.stage.classList.remove('mirror');
  drawOverlay(f.status);
}
function showLive() { el.photo.hidden = true; el.video.hidden = false; el.stage.classList.toggle('mirror', state.source === 'camera'); }

/** The page's answer (generic, as any page gets it) and, demo only, the decision with its reasons
 *  as the integrator's backend would read them (GET /demo/sessions/{id}). */
async function showDecision(answer) {
  let record = null;
  try { record = await getDemoSession(location.origin, answer.session_id); } catch { /* shown without it */ }
  const att = record && record.attempts ? record.attempts.find((a) => a.attempt === answer.attempt) : null;
  const decision = att && att.decision ? att.decision : '?';
  $('response').textContent = JSON.stringify({ answer, integrator_view: att }, null, 2);
  const dd = $('decision');
  dd.textContent = '';
  const s = document.createElement('span');
  s.className = decision === 'approve' ? 'pass' : decision === 'reject' ? 'fail' : 'uncertain';
  s.textContent = decision;
  const reasons = att && att.detail && att.detail.reasons.length ? ` (${att.detail.reasons.join(', ')})` : '';
  dd.append(s, ` — ${answer.message}${reasons}`);
  el.retry.hidden = !(answer.retry && answer.retry.allowed);
}

// ---- the capture ------------------------------------------------------------------------------
async function run(retry) {
  el.error.textContent = '';
  el.start.disabled = true; el.cancel.disabled = false; el.retry.hidden = true;
  state.abort = new AbortController();
  try {
    let video = el.video, stream = null, cameraInfo = null;
    showLive();
    if (state.source === 'camera') {
      say(guidanceMessage('starting'));
      await openPreview();
      stream = state.stream; cameraInfo = state.cameraInfo;
    } else if (state.fileKind !== 'video') {
      throw new VerifaceError('invalid_arg', 'choose a video file to capture from (a photo is analysed when chosen)');
    }
    if (!retry || !state.session) {
      state.key = await createSessionKey();
      const active = document.querySelector('input[name=liveness]:checked').value === 'active';
      const config = active ? { liveness_type: 'active', challenge: { light: el.light.checked } } : { liveness_type: 'passive' };
      state.session = await createDemoSession(location.origin, state.key.publicKeySpki, config, { signal: state.abort.signal });
    }
    setState('capturing');
    state.fps = [];
    const ch = state.session.challenge && state.session.challenge.type === 'sequence' ? state.session.challenge : null;
    showSteps(ch);
    const out = await state.vf.capture({
      session: state.session, key: state.key, video, stream, cameraInfo, signal: state.abort.signal, submit: true, tint: el.tint,
      lowFlash: el.lowFlash.checked,
      onGuidance: (g) => {
        say(g.message);   // changes only: the aria-live region announces each prompt once
        if (g.challenge) document.body.dataset.challenge = '';
        showArrow(g.challenge ? g.key : null);
      },
      onChallenge: (c) => showSteps(ch, c.step, c.step),
      onFrame: (status, info) => {
        state.frameSize = [info.width, info.height];
        showQuality(status);
        drawOverlay(status);
        const now = performance.now();
        state.fps.push(now); while (state.fps.length > 30) state.fps.shift();
        if (state.fps.length > 1) $('fps').textContent = `${((state.fps.length - 1) * 1000 / (now - state.fps[0])).toFixed(1)} frames/s analysed, ${info.ms.toFixed(0)} ms per frame`;
      },
      onProgress: ({ streak, needed }) => setBar('streak', streak / needed),
    });
    endChallenge();
    if (out.challenge) showSteps(ch, out.challenge.steps_done);
    setBar('streak', 1);
    showResult(out.result);
    showPackage(out);
    showBestFrame(out);
    await showDecision(out.answer);
    say(out.answer.message);
    setState('decided');
    if (out.answer.retry && out.answer.retry.allowed) state.session = nextAttempt(state.session, out.answer);
    else state.session = null;
  } catch (e) {
    endChallenge();
    showError(e);
    setState(VerifaceError.from(e).code === 'aborted' ? 'ready' : 'error');
    if (e && e.response) showDecision2(e);
    say('Press Start to try again.');
  } finally {
    state.abort = null;
    el.start.disabled = false; el.cancel.disabled = true;
    if (state.source === 'camera') closePreview();
  }
}
function endChallenge() {
  delete document.body.dataset.challenge;
  showArrow(null);
  el.lightNotice.hidden = true;
}
function showDecision2(e) { $('response').textContent = JSON.stringify(e.response, null, 2); }

// low-flash colours by default for those who prefer reduced motion (the package's default too)
el.lowFlash.checked = matchMedia('(prefers-reduced-motion: reduce)').matches;
el.start.addEventListener('click', () => run(false));
el.retry.addEventListener('click', () => run(true));
el.cancel.addEventListener('click', () => state.abort && state.abort.abort());
document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && state.abort) state.abort.abort(); });
for (const r of document.querySelectorAll('input[name=source]')) r.addEventListener('change', showSource);
el.file.addEventListener('change', onFile);
el.reference.addEventListener('change', onReference);
el.remember.addEventListener('change', () => { if (el.remember.checked) rememberCamera(el.camera.value || null); else forgetCamera(); });
el.camera.addEventListener('change', () => { if (el.remember.checked) rememberCamera(el.camera.value || null); closePreview(); });
$('download').addEventListener('click', () => {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([state.lastBody], { type: 'application/json' }));
  a.download = 'veriface-package.json';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
});
window.addEventListener('resize', () => drawOverlay(state.drawn));
init();
