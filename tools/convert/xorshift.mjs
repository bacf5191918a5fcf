// xorshift.mjs - the seeded test input shared by tools/golden.mjs and the engine's tests
// (format in tests/golden/README.md).

/**
 * Fill n floats in [lo, hi) with xorshift32: s ^= s << 13; s ^= s >>> 17; s ^= s << 5 (uint32);
 * value = lo + (hi - lo) * ((s >>> 8) / 16777216), rounded to float32.
 */
export function xorshiftFill(n, seed, lo, hi) {
  if (!(seed >>> 0)) throw new Error('xorshift seed must be a non-zero uint32');
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = lo + (hi - lo) * ((s >>> 8) / 16777216);
  }
  return out;
}
