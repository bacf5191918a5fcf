// @veriface/web - browser face verification: capture quality, passive liveness and embedding in a
// worker (WebAssembly), a signed result package for the veriface server. See README.md.
export { Veriface, nextAttempt, WEB_VERSION } from './veriface.js';
export { VerifaceError } from './errors.js';
export { createSessionKey, buildBody, signBody, signPackage, verifyBody, postPackage, createDemoSession, getDemoSession, PACKAGE_FORMAT } from './package.js';
export { listCameras, openCamera, rememberCamera, rememberedCamera, forgetCamera, stopStream } from './camera.js';
export { GUIDANCE_KEYS, CHALLENGE_KEYS, DEFAULT_MESSAGES, guidanceKey, guidanceMessage } from './guidance.js';
export { parseChallenge, poseClass, CHALLENGE_STEPS } from './challenge.js';
export { similarity, matchBand, MATCH_BANDS } from './engine.js';
export { frameToElement } from './overlay.js';
export { detectFeatures } from './features.js';
// the modules the ones above import, named here too: the browser fetches them all in one round
// trip instead of one more after veriface.js arrives (a second or more on a slow network)
import './frames.js';
import './signals.js';
import './bytes.js';
