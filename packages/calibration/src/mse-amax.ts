import { INT8_MAX } from "./amax.js";

/**
 * Fractions of a tensor's calibrated max among which `mseChosenAmax` picks its amax: a fine grid
 * below 0.3 (a long-tailed tensor's optimum can sit far below its max) and steps of 0.05 above.
 */
export const MSE_AMAX_FRACTIONS: readonly number[] = [
  0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.275, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9,
  0.95, 1,
];

/**
 * The mean squared error of symmetric int8 quantization (zero point 0, step amax/127, values past
 * ±amax clipped) over `values`, computed exactly: a value below half a step rounds to 0 and costs
 * its own square, not the step²/12 a histogram's uniform-error model charges (which overstates the
 * error of tensors whose values crowd near 0, like the GELU outputs, and so clips them too hard).
 */
export function quantizationMse(values: ArrayLike<number>, amax: number): number {
  if (values.length === 0) return 0;
  if (!(amax > 0)) {
    let sq = 0;
    for (let i = 0; i < values.length; i++) sq += values[i]! * values[i]!;
    return sq / values.length;
  }
  const step = amax / INT8_MAX;
  let error = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const q = Math.min(INT8_MAX, Math.max(-INT8_MAX, Math.round(x / step))) * step;
    error += (q - x) * (q - x);
  }
  return error / values.length;
}

/**
 * The amax, among `fractions` of `max` (a tensor's calibrated largest |x|), that minimises the
 * int8 quantization MSE of `values` (a sample of that tensor over calibration rows). Ties keep
 * the larger amax. On MiniLM's GELU outputs (FFN2 inputs) it picks 0.5–0.7 of the max and takes
 * FFN2 alone in int8 from 0.985 to 0.994 cosine at 256 tokens (benchmarks/int8-w8a8-search.py).
 */
export function mseChosenAmax(values: ArrayLike<number>, max: number, fractions: readonly number[] = MSE_AMAX_FRACTIONS): number {
  if (!(max > 0) || values.length === 0) return max;
  let best = max;
  let bestError = Infinity;
  for (const f of [...fractions].sort((a, b) => b - a)) {
    const error = quantizationMse(values, f * max);
    if (error < bestError) [best, bestError] = [f * max, error];
  }
  return best;
}
