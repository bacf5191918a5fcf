// Types of @veriface/web/package: build, sign, verify and post the result package (browser and node 20).
import type { SessionKey, ServerSession, Answer, Decision, ModelHashes, ChallengePackage } from './index.js';

export const PACKAGE_FORMAT: 1;
export interface BodyFrame {
  index: number; timestamp: number; width: number; height: number; mime?: string; sha256: string;
  /** b64 JPEG */ data: string;
  /** the C frame status JSON text, inserted verbatim */ statusJson: string;
}
export interface BodyFields {
  session: ServerSession; createdAt?: number;
  capture: { started_at: number; finished_at: number; frames_pushed: number; threaded: boolean };
  module: { web: string; engine: string; build: string };
  models: ModelHashes;
  /** the C result JSON text, inserted verbatim */ resultJson: string;
  frames: BodyFrame[];
  /** an active challenge's answer: between frames and signals; absent without one */
  challenge?: ChallengePackage | null;
  signals: Record<string, unknown>;
}
export interface SignedPackage { body: string; signature: string; headers: { 'Content-Type': 'application/json'; 'X-Veriface-Signature': string } }
export function createSessionKey(): Promise<SessionKey>;
export function buildBody(fields: BodyFields): string;
export function signBody(privateKey: CryptoKey, body: string): Promise<string>;
export function verifyBody(publicKey: string | CryptoKey, body: string, signature: string): Promise<boolean>;
export function signPackage(privateKey: CryptoKey, fields: BodyFields): Promise<SignedPackage>;
export function postPackage(serverUrl: string | URL, sessionId: string, signed: SignedPackage,
  options?: { fetch?: typeof fetch; signal?: AbortSignal; retries?: number }): Promise<Answer>;
/** Demo only: a demo session's record (decision, reasons, attempts) from GET /demo/sessions/{id}. */
export interface DemoSession {
  session_id: string; status: 'open' | 'in_progress' | 'final'; decision: Decision | null; attempt: number; demo: true;
  attempts: Array<{ attempt: number; decision: Decision | null; detail: { reasons: string[]; hint: string; [k: string]: unknown } | null; [k: string]: unknown }>;
  [k: string]: unknown;
}
export function getDemoSession(serverUrl: string | URL, sessionId: string,
  options?: { fetch?: typeof fetch; signal?: AbortSignal }): Promise<DemoSession>;
export function createDemoSession(serverUrl: string | URL, publicKeySpki: string, config?: Record<string, unknown>,
  options?: { fetch?: typeof fetch; signal?: AbortSignal }): Promise<ServerSession>;
