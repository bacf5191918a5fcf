// errors.js - every error the package throws is a VerifaceError with a stable `code`.

/** C status codes (include/veriface.h, values pinned) as JS error codes. */
export const C_STATUS_CODES = ['ok', 'invalid_arg', 'no_memory', 'model', 'no_model', 'unsupported', 'backend', 'image',
  'io', 'internal'];

export class VerifaceError extends Error {
  /**
   * @param {string} code stable machine-readable code, e.g. 'camera_denied', 'model', 'bad_signature'
   * @param {string} message English text for developers
   * @param {object} [extra] optional fields copied onto the error (status, cause, response ...)
   */
  constructor(code, message, extra = {}) {
    super(message, extra.cause ? { cause: extra.cause } : undefined);
    this.name = 'VerifaceError';
    this.code = code;
    for (const [k, v] of Object.entries(extra)) if (k !== 'cause') this[k] = v;
  }

  /** A plain object that survives postMessage. */
  toJSON() { return { name: this.name, code: this.code, message: this.message, status: this.status }; }

  /** Rebuild an error sent as toJSON() (or wrap anything else). */
  static from(e, fallbackCode = 'internal') {
    if (e instanceof VerifaceError) return e;
    if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.message === 'string') {
      return new VerifaceError(e.code, e.message, e.status !== undefined ? { status: e.status } : {});
    }
    if (e && e.name === 'AbortError') return new VerifaceError('aborted', e.message || 'aborted', { cause: e });
    return new VerifaceError(fallbackCode, String((e && e.message) || e), { cause: e });
  }
}

/** Error of a failing C call, named by its status. */
export function cError(status, message) {
  const code = C_STATUS_CODES[status] || 'internal';
  return new VerifaceError(code, message || code, { status });
}
