// Types of @veriface/web/component: the <veriface-capture> element.
import type { Veriface, ServerSession, SessionKey, CaptureResult, Guidance, FrameStatus, VerifaceError } from './index.js';

export class VerifaceCaptureElement extends HTMLElement {
  session: ServerSession | null;
  key: SessionKey | null;
  /** text overrides by key (guidance keys, challenge_* prompts, 'challenge_light', 'start', 'cancel', 'loading', 'done', 'error', ...) */
  messages: Partial<Record<string, string>>;
  /** reuse an instance; else one is created from the base-url and threads attributes */
  veriface: Veriface | null;
  deviceId?: string;
  rememberCamera?: boolean;
  start(): Promise<CaptureResult>;
  cancel(): void;
}
export function defineVerifaceCapture(tagName?: string): typeof VerifaceCaptureElement;

declare global {
  interface HTMLElementEventMap {
    'veriface-ready': CustomEvent<{ info: Veriface['info'] }>;
    'veriface-guidance': CustomEvent<Guidance>;
    'veriface-frame': CustomEvent<{ status: FrameStatus }>;
    'veriface-result': CustomEvent<{ result: CaptureResult }>;
    'veriface-error': CustomEvent<{ error: VerifaceError }>;
  }
}
