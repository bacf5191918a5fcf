// Type declarations of @veriface/web (hand-written; the JS is the source).

export type GuidanceKey = 'ok' | 'no_face' | 'multiple_faces' | 'too_far' | 'too_close' | 'off_center' | 'occluded'
  | 'turn_head' | 'tilt_head' | 'eyes_closed' | 'too_dark' | 'too_bright' | 'uneven_light' | 'glare' | 'blurry' | 'hold_still'
  /** not C codes: the prompts of the active challenge (code -1) */
  | ChallengeKey;
/** The active challenge's prompts: a step (the person's own left/right; up = chin up), back to the
 *  centre between steps, hold while the last colours show. */
export type ChallengeKey = 'challenge_left' | 'challenge_right' | 'challenge_up' | 'challenge_down' | 'challenge_centre' | 'challenge_hold';

/** Every error thrown carries a stable code (C status names, camera_*, network, http codes of the server ...). */
export class VerifaceError extends Error {
  readonly name: 'VerifaceError';
  readonly code: string;
  /** C status number or HTTP status, when there is one */
  readonly status?: number;
  /** the server's error body, for HTTP errors */
  readonly response?: unknown;
  constructor(code: string, message: string, extra?: Record<string, unknown>);
  static from(e: unknown, fallbackCode?: string): VerifaceError;
}

/** The C frame status (vf_frame_status_json), parsed. */
export interface FrameStatus {
  index: number; good: boolean; good_streak: number; complete: boolean;
  face_box: [number, number, number, number];
  landmarks5: [number, number][];
  quality: Quality;
  ms: number;
}
export interface Quality {
  guidance: number; guidance_text: string; failed: number[]; face_count: number;
  face_width: number; center_offset: number; presence: number; yaw: number; pitch: number; roll: number;
  eye_open: number; brightness: number; contrast: number; light_asymmetry: number; glare: number;
  sharpness: number; motion: number;
  /** weakest directional sharpness (motion smear), see docs/QUALITY.md */
  sharpness_dir: number;
}
/** The C session result (vf_session_result_json), parsed. */
export interface SessionResult {
  format: number; engine: string; frames: number; chosen: number[]; best_quality: Quality | Record<string, never>;
  liveness: { status: 'ok' | 'no_model' | 'error'; outcome: 'pass' | 'uncertain' | 'fail' | 'not_run'; score: number;
    scores: number[]; pass_at: number; fail_below: number };
  embedding: { status: 'ok' | 'no_model' | 'error'; dim: number; vector: number[] };
  models: ModelHashes;
  timings: { liveness_ms: number; embedding_ms: number };
}
/** Hex SHA-256 per model role ('' when absent). The roles are the C engine's table
 *  (vf_model_roles; models/roles.json): today detector, mesh, pad_v2, pad_v1se, embedder. */
export interface ModelHashes { detector: string; mesh: string; embedder: string; [role: string]: string }

/** The server's session (PACKAGE.md section 1). */
export interface ServerSession {
  session_id: string; nonce: string; attempt?: number; expires_at?: number;
  config?: { liveness_type?: string; good_frames?: number; max_frame_width?: number; max_frame_height?: number;
    jpeg_quality?: number; [k: string]: unknown };
  models?: Partial<ModelHashes>;
  /** the active challenge of this attempt: in the session response, or set by nextAttempt() from a decision */
  challenge?: Challenge | null;
}
export type ChallengeStep = 'left' | 'right' | 'up' | 'down';
/** The server's active challenge (docs/CHALLENGE.md). */
export interface Challenge {
  type: 'sequence';
  /** in order; left/right are the person's own */
  steps: ChallengeStep[];
  /** degrees a left/right (yaw) or up/down (pitch) step must reach */
  min_yaw: number; min_pitch: number;
  /** |yaw| and |pitch| below this = facing the camera (needed before each step) */
  centre: number;
  /** time allowed for each step, ms */
  step_ms: number;
  /** the colour sequence shown on screen while the person moves; null: light off */
  light: { colors: string[]; color_ms: number } | null;
  /** one frame is kept every frame_ms, at most max_frames */
  frame_ms: number; max_frames: number;
}
/** The challenge's answer in the package (the `challenge` member of the body). */
export interface ChallengePackage {
  steps: ChallengeStep[];
  /** when the first colour showed, epoch ms (the clock of the frame timestamps); null without light */
  light_start: number | null;
  frames: (PackageFrame & { data: string })[];
}
/** What the page saw of its challenge (CaptureResult.challenge); the server decides on its own measurements. */
export interface ChallengeSummary {
  steps: ChallengeStep[]; light_start: number | null; frames: PackageFrame[];
  /** steps the page saw done, and when (frame timestamps) */
  steps_done: number; step_at: number[];
  /** a step took longer than step_ms: the frames up to then were sent */
  timed_out: boolean;
}
/** The pose of one challenge frame (vf_motion_frame). */
export interface ChallengePose {
  face: boolean;
  /** degrees; yaw > 0: the person's left; pitch > 0: chin up */
  yaw: number; pitch: number; roll: number;
  /** mean colour of the central face region, 0..255 */
  rgb: [number, number, number];
  face_box: [number, number, number, number];
}
export interface ChallengeProgress {
  key: GuidanceKey | 'no_face'; step: number; steps: number; direction: ChallengeStep | null; pose: ChallengePose;
  frames: number; max_frames: number;
}
/** The server's answer to the page (PACKAGE.md section 4): whether the attempt was final, a
 *  generic message, and what a retry needs. Never the decision or which check failed: the
 *  integrator's backend reads those (GET /v1/sessions/{id} with its API key). */
export interface Answer {
  session_id: string; attempt: number; final: boolean; message: string;
  retry: { allowed: boolean; next_nonce: string | null };
  /** the challenge the next attempt must answer */
  challenge?: Challenge;
}
/** The decision and its reasons, as the integrator's API and the demo endpoint give them. */
export type Decision = 'approve' | 'retry' | 'challenge' | 'review' | 'reject';

export interface SessionKey { privateKey: CryptoKey; publicKey: CryptoKey; /** b64 SPKI DER */ publicKeySpki: string }

export type WasmBuild = 'simd-mt' | 'simd' | 'base';

/** The wasm build and path chosen for this browser (features detected, never assumed). */
export interface EnginePath {
  build: WasmBuild; threads: number; simd: boolean;
  /** the worker the engine runs in: the module worker, or worker-classic.js where the browser has no module workers */
  worker: 'module' | 'classic';
  /** where video frames become RGBA: the worker's OffscreenCanvas, or the page's canvas */
  pixels: 'worker' | 'page';
  /** where kept frames are JPEG-encoded; 'pending' in a lazy start's first info (checked when the
   *  full engine is built; its info has the answer) */
  jpeg: 'worker' | 'page' | 'pending';
  /** the worker src/preload.js started with the page (data-veriface-worker) and create() took over */
  prestarted: boolean;
  /** the better builds not used, and why (no SIMD128, not cross-origin isolated, no shared memory, failed to start) */
  skipped: { build: WasmBuild | string; reason: string }[];
  features: { wasm: boolean; simd: boolean; crossOriginIsolated: boolean; sharedMemory: boolean; offscreenCanvas: boolean; moduleWorker: boolean };
}

/** loaded / total: bytes downloaded so far / announced (Content-Length); cached: model bytes read
 *  from the Cache API (keyed by SHA-256: a second visit downloads no model) */
export interface Progress {
  stage: 'worker' | 'download' | 'cached' | 'compile' | 'build' | 'guidance' | 'models' | 'ready'; loaded: number; total: number; cached?: number;
  /** 'worker' (first): the worker started */
  worker?: 'module' | 'classic';
  /** 'worker': why not the module worker (none in this browser, or its constructor refused it) */
  reason?: string;
  /** 'compile': the build being started; 'build': the build chosen */
  build?: WasmBuild;
  /** 'build': the path chosen */
  path?: EnginePath;
}

export interface CreateOptions {
  /** where wasm/ and models/ are served; default: the package's own directory */
  baseUrl?: string | URL;
  /** 'auto' (default): half the cores, at most 4, when crossOriginIsolated; else 1 (single-threaded build) */
  threads?: number | 'auto';
  onProgress?: (p: Progress) => void;
  workerUrl?: string | URL;
  /** the classic worker (worker-classic.js), for browsers without module workers; default: next to worker.js or workerUrl */
  classicWorkerUrl?: string | URL;
  /** per-role URL overrides */
  models?: Partial<Record<keyof ModelHashes, string>>;
  /** resolve once the detector and mesh are in (guidance starts); `ready` resolves when all are */
  lazy?: boolean;
  /** force one wasm build; default the best this browser runs */
  build?: WasmBuild;
  /** false: read pixels and encode JPEGs on the page's canvas (the path without OffscreenCanvas) */
  offscreen?: boolean;
  /** fail with code 'timeout' when the worker reports nothing for this long while loading (default 30000) */
  stallMs?: number;
  /** false: do not fetch the wasm build from the page ahead of the worker (default true: into the HTTP cache) */
  prefetch?: boolean;
}

export interface EngineInfo {
  build: WasmBuild; threads: number; engine: string; models: ModelHashes; pad: boolean;
  /** bytes downloaded; cached: model bytes read from the Cache API instead */
  downloaded: number; cached: number; ms: number; ready_ms: number; path: EnginePath;
  /** when each loading stage ended, this page's performance.now() ms (create, worker, init, roles,
   *  compiled, instantiated, models_guidance, engine_guidance, models_all, engine) */
  timing: Record<string, number>;
  /** false on the guidance engine of a lazy start */
  complete: boolean;
}

export interface Guidance {
  /** the C guidance code; -1 for a challenge prompt */
  code: number; key: GuidanceKey; message: string;
  /** the frame's status; null for a challenge prompt */
  status: FrameStatus | null;
  /** during the active challenge */
  challenge?: ChallengeProgress;
}

export interface CameraOptions {
  deviceId?: string; width?: number; height?: number; frameRate?: number; probe?: boolean; remember?: boolean;
  /** Shows the stream (muted, inline, playing) as soon as it opens, before the probe and the camera
   *  count: the preview starts meanwhile, so the capture's first frame comes sooner. */
  video?: HTMLVideoElement | null;
}
export interface CameraInfo {
  requested: { width: number; height: number; frameRate: number };
  probe: { asked: { width: number; height: number }; got: { width: number | null; height: number | null }; error: string | null } | null;
  devices: number | null; getUserMediaCalls: number;
}

export interface CaptureOptions {
  session: ServerSession;
  key: SessionKey;
  video?: HTMLVideoElement;
  stream?: MediaStream;
  camera?: CameraOptions;
  cameraInfo?: CameraInfo;
  onFrame?: (status: FrameStatus, info: { width: number; height: number; ms: number; fingerprint: string }) => void;
  onGuidance?: (g: Guidance) => void;
  /** passive frames (streak of needed); during the challenge also { done, steps } */
  onProgress?: (p: { streak: number; needed: number; challenge?: { done: number; steps: number } }) => void;
  messages?: Partial<Record<string, string>>;
  /** POST the package to this server (true = this page's origin) and return its answer */
  submit?: string | URL | true;
  /** the active challenge to answer; default: session.challenge. Another type than 'sequence' is a
   *  VerifaceError 'unsupported' (bad fields: 'bad_challenge'), before the camera opens */
  challenge?: Challenge | null;
  /** where the challenge's colours show (e.g. a full-page layer behind your camera view); default: a
   *  layer the package appends to document.body (around `video` when visible) and removes after */
  tint?: HTMLElement;
  /** the colours at half opacity, fading in and into each other instead of switching at once
   *  (default: on when the user prefers reduced motion) */
  lowFlash?: boolean;
  /** every challenge frame */
  onChallenge?: (p: ChallengeProgress) => void;
  /** how much further than the server's thresholds the page waits before the next prompt (degrees;
   *  default { margin: 2, centreMargin: 1 }): the server measures the JPEG again */
  challengeMargin?: { margin?: number; centreMargin?: number };
  signal?: AbortSignal;
  /** default 120000; 0 = none */
  timeoutMs?: number;
}

export interface PackageFrame { index: number; timestamp: number; width: number; height: number; mime: string; sha256: string }

export interface CaptureResult {
  /** the exact request body that was signed */
  body: string;
  /** b64url P1363 ECDSA P-256 signature of body */
  signature: string;
  headers: { 'Content-Type': 'application/json'; 'X-Veriface-Signature': string };
  /** body, parsed (lazily) */
  readonly package: Record<string, unknown>;
  result: SessionResult;
  frames: PackageFrame[];
  signals: Record<string, unknown>;
  timings: { finish_ms: number; encode_ms: number };
  /** when each stage of the capture ended, performance.now() ms (start, camera, video, first_frame, first_status, signed) */
  timing: Record<string, number>;
  /** when the attempt had an active challenge */
  challenge?: ChallengeSummary;
  /** when `submit` was given */
  answer?: Answer;
}

export interface AnalyzeResult { status: FrameStatus; result: SessionResult | null; width: number; height: number }

export class Veriface {
  static create(options?: CreateOptions): Promise<Veriface>;
  readonly info: EngineInfo;
  /** the full engine's info: at once, or when a lazy start has loaded PAD and the embedder */
  readonly ready: Promise<EngineInfo>;
  readonly baseUrl: string;
  listCameras(): Promise<CameraDevice[]>;
  analyzeImage(image: Blob | ImageBitmap | ImageBitmapSource, config?: ServerSession['config']): Promise<AnalyzeResult>;
  capture(options: CaptureOptions): Promise<CaptureResult>;
  close(): void;
}

export function nextAttempt(session: ServerSession, answer: Answer): ServerSession;
export const WEB_VERSION: string;

export interface CameraDevice { deviceId: string; label: string; groupId: string }
export function listCameras(): Promise<CameraDevice[]>;
/** Opens a camera. The first call with default options takes the stream src/preload.js opened
 *  as the page loaded, when its script tag has `data-veriface-camera` (web/README.md "A fast
 *  start"); other options stop that stream and open their own. */
export function openCamera(options?: CameraOptions): Promise<{ stream: MediaStream; track: MediaStreamTrack; info: CameraInfo }>;
export function rememberCamera(deviceId: string | null): void;
export function rememberedCamera(): string | null;
export function forgetCamera(): void;
export function stopStream(stream: MediaStream | null | undefined): void;

export const GUIDANCE_KEYS: readonly GuidanceKey[];
export const CHALLENGE_KEYS: readonly ChallengeKey[];
export const CHALLENGE_STEPS: readonly ChallengeStep[];
/** Check a server challenge: null for none, a frozen copy, or a VerifaceError ('unsupported', 'bad_challenge'). */
export function parseChallenge(challenge: unknown): Readonly<Challenge> | null;
/** The server's pose class (yaw first): a step, 'centre' or null. */
export function poseClass(challenge: Pick<Challenge, 'min_yaw' | 'min_pitch' | 'centre'>, yaw: number, pitch: number,
  margin?: number, centreMargin?: number): ChallengeStep | 'centre' | null;
export const DEFAULT_MESSAGES: Readonly<Record<string, string>>;
export function guidanceKey(code: number): GuidanceKey | 'unknown';
export function guidanceMessage(keyOrCode: string | number, messages?: Partial<Record<string, string>>): string;
export function similarity(a: ArrayLike<number>, b: ArrayLike<number>): number;
/** The default embedder's match bands (cosine), as the C engine's. */
export const MATCH_BANDS: Readonly<{ strong: number; weak: number }>;
/** The band of a similarity: a preview only, the server decides. */
export function matchBand(sim: number): 'strong' | 'weak' | 'none';
/** Frame pixels -> CSS pixels of `relativeTo` (or the viewport) where `media` (a <video>/<img>) shows them,
 *  honouring object-fit, object-position, border, padding and a mirroring transform. */
export function frameToElement(media: Element, frameW: number, frameH: number, options?: { relativeTo?: Element | null; mirror?: boolean }): {
  x(fx: number): number; y(fy: number): number; scale: number; box: { left: number; top: number; width: number; height: number } };
/** What this scope offers the engine (the worker detects again in its own scope). */
export function detectFeatures(scope?: typeof globalThis): EnginePath['features'];

export {
  PACKAGE_FORMAT, createSessionKey, buildBody, signBody, signPackage, verifyBody, postPackage, createDemoSession, getDemoSession,
} from './package.js';
