/** IEEE binary16 conversions (Node 20 has no Float16Array). */

/** Largest finite float16 value. */
export const FLOAT16_MAX = 65504;

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** float32 -> float16 bits, rounding to nearest even like a hardware cast; out of range gives ±inf. */
export function float32ToFloat16Bits(value: number): number {
  scratchFloat[0] = value;
  const bits = scratchBits[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * float32 values -> float16 bits for weights and constants. Finite values beyond the float16
 * range are clamped to ±65504 instead of becoming ±inf; `clamped` counts them. Infinities and NaN
 * were already non-finite and stay so.
 */
export function float32ArrayToFloat16(values: Float32Array): { bits: Uint16Array; clamped: number } {
  const bits = new Uint16Array(values.length);
  let clamped = 0;
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!;
    if (Number.isFinite(v) && Math.abs(v) > FLOAT16_MAX) {
      v = v > 0 ? FLOAT16_MAX : -FLOAT16_MAX;
      clamped += 1;
    }
    bits[i] = float32ToFloat16Bits(v);
  }
  return { bits, clamped };
}
