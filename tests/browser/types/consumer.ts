// consumer.ts - an integrator's code against the hand-written declarations of @veriface/web;
// type-checked (never run) by types.test.mjs with `tsc --noEmit --strict`.
import {
  Veriface, VerifaceError, createSessionKey, createDemoSession, nextAttempt, guidanceMessage, listCameras,
  parseChallenge, poseClass, CHALLENGE_KEYS,
  type CaptureResult, type Answer, type FrameStatus, type GuidanceKey, type Challenge, type ChallengeStep,
} from '../../../web/src/index.js';
import { defineVerifaceCapture, type VerifaceCaptureElement } from '../../../web/src/component.js';
import { verifyBody, buildBody, getDemoSession } from '../../../web/src/package.js';

export async function flow(video: HTMLVideoElement): Promise<Answer | undefined> {
  const vf = await Veriface.create({ baseUrl: '/veriface/', threads: 'auto', onProgress: (p) => console.log(p.stage, p.loaded / p.total) });
  const build: 'simd' | 'simd-mt' | 'base' = vf.info.build;
  const path: { pixels: 'worker' | 'page'; skipped: { reason: string }[] } = vf.info.path;
  const key = await createSessionKey();
  const session = await createDemoSession(location.origin, key.publicKeySpki, { liveness_type: 'passive' });
  const cams = await listCameras();
  const ac = new AbortController();
  let out: CaptureResult;
  try {
    out = await vf.capture({
      session, key, video, signal: ac.signal, submit: true, camera: { deviceId: cams[0]?.deviceId, remember: true },
      onGuidance: (g) => {
        const k: GuidanceKey = g.key;
        console.log(k, g.message, guidanceMessage(k, { too_dark: 'Plus de lumière', challenge_left: 'Tournez à gauche' }), g.status?.good);
        if (g.challenge) console.log(g.challenge.step, g.challenge.steps, g.challenge.pose.yaw);
      },
      tint: document.body.appendChild(document.createElement('div')),
      onChallenge: (p) => console.log(p.frames, p.max_frames, p.direction),
      onFrame: (s: FrameStatus, info) => console.log(s.face_box[0], s.quality.yaw, info.ms),
      onProgress: ({ streak, needed }) => console.log(streak / needed),
    });
  } catch (e) {
    if (e instanceof VerifaceError && e.code === 'aborted') return undefined;
    throw e;
  }
  const ok: boolean = await verifyBody(key.publicKeySpki, out.body, out.signature);
  const live: number = out.result.liveness.score;
  console.log(build, path.pixels, path.skipped.length, ok, live, out.frames[0]?.sha256, out.headers['X-Veriface-Signature']);
  if (out.challenge) { const st: ChallengeStep[] = out.challenge.steps; console.log(st, out.challenge.light_start ?? 'no light', out.challenge.timed_out); }
  if (out.answer && out.answer.retry.allowed) {
    const next = nextAttempt(session, out.answer);
    const ch: Challenge | null | undefined = next.challenge;
    if (ch) console.log(ch.steps.join(' > '), ch.light?.colors.length, poseClass(ch, 20, 0), parseChallenge(ch)?.max_frames, CHALLENGE_KEYS.length);
  }
  const r = await vf.analyzeImage(new Blob());
  console.log(r.status.good, r.result?.embedding.dim);
  vf.close();
  if (out.answer) {
    const rec = await getDemoSession(location.origin, out.answer.session_id);
    const d: 'approve' | 'retry' | 'challenge' | 'review' | 'reject' | null = rec.decision;
    console.log(d, rec.attempts[0]?.detail?.reasons.join(','));
  }
  return out.answer;
}

export function component(): VerifaceCaptureElement {
  defineVerifaceCapture();
  const el = document.createElement('veriface-capture') as VerifaceCaptureElement;
  el.messages = { start: 'Commencer' };
  el.addEventListener('veriface-result', (e) => console.log(e.detail.result.answer?.final));
  el.addEventListener('veriface-error', (e) => console.log(e.detail.error.code));
  return el;
}

export const body: string = buildBody({
  session: { session_id: 'x', nonce: 'y' },
  capture: { started_at: 0, finished_at: 1, frames_pushed: 1, threaded: false },
  module: { web: '0.1.0', engine: '0.1.0', build: 'simd' },
  models: { detector: '', mesh: '', pad_v2: '', pad_v1se: '', embedder: '' },
  resultJson: '{}', frames: [], signals: {},
});
