// Type declarations of @veriface/web (hand-written; the JS is the source).

export type GuidanceKey = 'ok' | 'no_face' | 'multiple_faces' | 'too_far' | 'too_close' | 'off_center' | 'occluded'
  | 'turn_head' | 'tilt_head' | 'eyes_closed' | 'too_dark' | 'too_bright' | 'uneven_light' | 'glare' | 'blurry' | 'hold_still'
  /** not C codes: the head-turn challenge after a `challenge` decision */
  | 'turn_left' | 'turn_right';

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
export interface ModelHashes { detector: string; mesh: string; pad_v2: string; pad_v1se: string; embedder: string }

/** The server's session (PACKAGE.md section 1). */
export interface ServerSession {
  session_id: string; nonce: string; attempt?: number; expires_at?: number;
  config?: { liveness_type?: string; good_frames?: number; max_frame_width?: number; max_frame_height?: number;
    jpeg_quality?: number; [k: string]: unknown };
  models?: Partial<ModelHashes>;
  /** set by nextAttempt() after a `challenge` decision */
  challenge?: Challenge | null;
}
export interface Challenge { type: 'head_turn'; direction: 'left' | 'right' }
/** The server's decision (PACKAGE.md section 4). */
export interface Decision {
  session_id: string; attempt: number; decision: 'approve' | 'retry' | 'challenge' | 'review' | 'reject'; message: string;
  retry: { allowed: boolean; remaining: number; hint: 'quality' | 'liveness' | 'none'; next_nonce: string | null };
  challenge?: Challenge;
}

export interface SessionKey { privateKey: CryptoKey; publicKey: CryptoKey; /** b64 SPKI DER */ publicKeySpki: string }

export interface Progress { stage: 'download' | 'compile' | 'guidance' | 'models' | 'ready'; loaded: number; total: number }

export interface CreateOptions {
  /** where wasm/ and models/ are served; default: the package's own directory */
  baseUrl?: string | URL;
  /** 'auto' (default): half the cores, at most 4, when crossOriginIsolated; else 1 (single-threaded build) */
  threads?: number | 'auto';
  onProgress?: (p: Progress) => void;
  workerUrl?: string | URL;
  /** per-role URL overrides */
  models?: Partial<Record<keyof ModelHashes, string>>;
  /** resolve once the detector and mesh are in (guidance starts); `ready` resolves when all are */
  lazy?: boolean;
}

export interface EngineInfo {
  build: 'simd' | 'simd-mt'; threads: number; engine: string; models: ModelHashes; pad: boolean;
  downloaded: number; ms: number; ready_ms: number;
  /** false on the guidance engine of a lazy start */
  complete: boolean;
}

export interface Guidance { code: number; key: GuidanceKey; message: string; status: FrameStatus }

export interface CameraOptions { deviceId?: string; width?: number; height?: number; frameRate?: number; probe?: boolean; remember?: boolean }
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
  onProgress?: (p: { streak: number; needed: number }) => void;
  messages?: Partial<Record<string, string>>;
  /** POST the package to this server (true = this page's origin) and return its decision */
  submit?: string | URL | true;
  /** default: session.challenge */
  challenge?: Challenge | null;
  /** degrees of yaw the challenge frame must reach; default 12 (the server's default minimum is 10) */
  challengeMinYaw?: number;
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
  /** when `submit` was given */
  decision?: Decision;
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

export function nextAttempt(session: ServerSession, decision: Decision): ServerSession;
export const WEB_VERSION: string;

export interface CameraDevice { deviceId: string; label: string; groupId: string }
export function listCameras(): Promise<CameraDevice[]>;
export function openCamera(options?: CameraOptions): Promise<{ stream: MediaStream; track: MediaStreamTrack; info: CameraInfo }>;
export function rememberCamera(deviceId: string | null): void;
export function rememberedCamera(): string | null;
export function forgetCamera(): void;
export function stopStream(stream: MediaStream | null | undefined): void;

export const GUIDANCE_KEYS: readonly GuidanceKey[];
export const DEFAULT_MESSAGES: Readonly<Record<string, string>>;
export function guidanceKey(code: number): GuidanceKey | 'unknown';
export function guidanceMessage(keyOrCode: string | number, messages?: Partial<Record<string, string>>): string;
export function similarity(a: ArrayLike<number>, b: ArrayLike<number>): number;

export {
  PACKAGE_FORMAT, createSessionKey, buildBody, signBody, signPackage, verifyBody, postPackage, createDemoSession,
} from './package.js';
