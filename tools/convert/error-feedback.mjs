// error-feedback.mjs - rounding a weight with error feedback (GPTQ/OBQ-style) instead of to nearest:
// the input columns of each output channel are rounded in order, and each rounding error is pushed
// onto the columns not yet rounded so that the output error on calibration inputs is least (H =
// E[x x^T] of the op's input, models/precision/NAME.calib by tools/convert/calibrate.mjs). The result
// lies on the precision's grid, so the writer's own rounding (quantize.mjs, write-vfm.mjs) keeps it:
// the reader needs nothing new. Deterministic (f64, fixed order).
import { f32ToF16BitsM, f16BitsToF32 } from './tensor-math.mjs';

const DAMP = 0.01; // of the mean diagonal, added to H (inputs the calibration never moved)

/** Upper Cholesky factor U of H^-1 (H^-1 = U^T U), H k x k symmetric positive definite (f64). */
function invCholUpper(h, k) {
  const a = Float64Array.from(h);
  let mean = 0;
  for (let i = 0; i < k; i++) mean += a[i * k + i] / k;
  for (let i = 0; i < k; i++) a[i * k + i] += DAMP * mean + (a[i * k + i] > 0 ? 0 : mean);
  const chol = (m) => { // lower L with m = L L^T, in place
    for (let j = 0; j < k; j++) {
      let d = m[j * k + j];
      for (let p = 0; p < j; p++) d -= m[j * k + p] ** 2;
      if (!(d > 0)) throw new Error('error feedback: H is not positive definite');
      m[j * k + j] = Math.sqrt(d);
      for (let i = j + 1; i < k; i++) {
        let s = m[i * k + j];
        for (let p = 0; p < j; p++) s -= m[i * k + p] * m[j * k + p];
        m[i * k + j] = s / m[j * k + j];
      }
      for (let i = 0; i < j; i++) m[i * k + j] = 0;
    }
    return m;
  };
  const l = chol(a);
  const li = new Float64Array(k * k); // L^-1 (lower)
  for (let c = 0; c < k; c++) {
    li[c * k + c] = 1 / l[c * k + c];
    for (let i = c + 1; i < k; i++) {
      let s = 0;
      for (let p = c; p < i; p++) s += l[i * k + p] * li[p * k + c];
      li[i * k + c] = -s / l[i * k + i];
    }
  }
  const inv = new Float64Array(k * k); // H^-1 = L^-T L^-1
  for (let i = 0; i < k; i++) for (let j = i; j < k; j++) {
    let s = 0;
    for (let p = j; p < k; p++) s += li[p * k + i] * li[p * k + j];
    inv[i * k + j] = inv[j * k + i] = s;
  }
  // upper U with inv = U^T U: the transpose of inv's lower factor
  const li2 = chol(inv), u = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = i; j < k; j++) u[i * k + j] = li2[j * k + i];
  return u;
}

/** The weight `data` (axis 0 = output channel, k inputs per channel) rounded with error feedback to
 *  int8/B (bits: the per-channel scale of quantize.mjs kept, its largest weight at +-L) or f16/M
 *  (f16m): a new Float32Array on that grid. */
export function errorFeedback(data, shape, { h, k }, { bits = 0, f16m = 0 }) {
  if (shape[0] * k !== data.length) throw new Error(`error feedback: ${shape} is not ${shape[0]} x ${k}`);
  const u = invCholUpper(h, k), out = new Float32Array(data.length), w = new Float64Array(k);
  const L = bits ? 2 ** (bits - 1) - 1 : 0;
  for (let c = 0; c < shape[0]; c++) {
    let big = 0, top = 0;
    for (let j = 0; j < k; j++) { w[j] = data[c * k + j]; if (Math.abs(w[j]) > big) { big = Math.abs(w[j]); top = j; } }
    const s = Math.fround(big / L);
    for (let j = 0; j < k; j++) {
      let q;
      if (bits) q = s > 0 ? (j === top ? Math.sign(data[c * k + j]) * L : Math.max(-L, Math.min(L, Math.round(w[j] / s)))) * s : 0;
      else q = f16BitsToF32(f32ToF16BitsM(Math.fround(w[j]), f16m));
      q = Math.fround(q);
      out[c * k + j] = q;
      const e = (w[j] - q) / u[j * k + j];
      for (let p = j + 1; p < k; p++) w[p] -= e * u[j * k + p];
    }
  }
  return out;
}
