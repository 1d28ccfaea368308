import { ForgeError } from "@trtforge/core";
import type { AbsHistogramState } from "./abs-histogram.js";
import { entropySearch, ENTROPY_START_BIN } from "./entropy.js";

export type CalibrationAlgorithm = "entropy" | "percentile" | "max" | "mse";

export const CALIBRATION_ALGORITHMS: readonly CalibrationAlgorithm[] = ["entropy", "percentile", "max", "mse"];
export const DEFAULT_PERCENTILE = 99.99;

/** Symmetric int8: amax maps to 127. */
export const INT8_MAX = 127;

export interface AmaxOptions {
  algorithm: CalibrationAlgorithm;
  /** For "percentile": the percentile of |x| to keep, in (0, 100]. */
  percentile?: number;
}

export function checkPercentile(percentile: number): void {
  if (!(percentile > 0 && percentile <= 100)) {
    throw new ForgeError("INVALID_LIMIT", `percentile must be in (0, 100], got ${percentile}`, {
      input: "percentile",
      fix: `use ${DEFAULT_PERCENTILE} (the default) or another value such as 99.999`,
    });
  }
}

/**
 * The |x| below which `percentile` % of the counted values lie, read off the histogram with linear
 * interpolation inside the bin where the cumulative count crosses it (values spread evenly in a
 * bin), never above the exact max.
 */
export function percentileAmax(state: AbsHistogramState, percentile: number): number {
  checkPercentile(percentile);
  const { counts, bins, range, maxAbs } = state;
  const total = counts.reduce((a, b) => a + b, 0);
  if (!(total > 0) || range === 0) return 0;
  if (percentile === 100) return maxAbs;
  const target = (percentile / 100) * total;
  const width = range / bins;
  let cumulative = 0;
  for (let j = 0; j < bins; j++) {
    const c = counts[j]!;
    if (c > 0 && cumulative + c >= target) {
      return Math.min(maxAbs, (j + (target - cumulative) / c) * width);
    }
    cumulative += c;
  }
  return maxAbs;
}

/** TensorRT's threshold for the winning i: the middle of the first bin left out, (i + 0.5) × bin width. */
export function entropyAmax(state: AbsHistogramState): number {
  if (state.range === 0) return 0;
  if (state.bins <= ENTROPY_START_BIN) {
    throw new ForgeError(
      "INVALID_LIMIT",
      `entropy calibration needs more than ${ENTROPY_START_BIN} bins, the histogram has ${state.bins}`,
      { input: "bins", fix: "use 2048 bins, TensorRT's number" },
    );
  }
  const found = entropySearch(state.counts);
  if (found === undefined) return 0;
  return Math.min(state.maxAbs, (found.keptBins + 0.5) * (state.range / state.bins));
}

/**
 * The amax that minimizes the expected squared error of symmetric int8 quantization over the
 * histogram (values spread evenly in each bin): values above the threshold are clipped to it,
 * values below it are rounded to a step of amax/127 (error variance step²/12). Wu et al. 2020
 * (arXiv:2004.09602) found MSE calibration the most accurate for BERT-type encoders, whose
 * LayerNorm outputs carry a few large outlier channels that max calibration spends its range on
 * and entropy calibration clips too hard. Candidates are every bin edge from bin 128 up.
 */
export function mseAmax(state: AbsHistogramState): number {
  const { counts, bins, range, maxAbs } = state;
  if (range === 0) return 0;
  const width = range / bins;
  // Suffix sums give, for a threshold T, the count and first two moments of the values above it.
  const suffixCount = new Float64Array(bins + 1);
  const suffixSum = new Float64Array(bins + 1);
  const suffixSq = new Float64Array(bins + 1);
  for (let j = bins - 1; j >= 0; j--) {
    const c = counts[j]!;
    const centre = (j + 0.5) * width;
    suffixCount[j] = suffixCount[j + 1]! + c;
    suffixSum[j] = suffixSum[j + 1]! + c * centre;
    suffixSq[j] = suffixSq[j + 1]! + c * (centre * centre + (width * width) / 12);
  }
  const total = suffixCount[0]!;
  if (!(total > 0)) return 0;
  let best = maxAbs;
  let bestError = Infinity;
  for (let i = Math.min(ENTROPY_START_BIN, bins); i <= bins; i++) {
    const t = Math.min(i * width, maxAbs);
    const step = t / INT8_MAX;
    const inside = total - suffixCount[i]!;
    // Clipped values x > t contribute (x - t)²; the rest the rounding variance.
    const clipped = suffixSq[i]! - 2 * t * suffixSum[i]! + t * t * suffixCount[i]!;
    const error = clipped + (inside * step * step) / 12;
    if (error < bestError) {
      bestError = error;
      best = t;
    }
  }
  return best;
}

/**
 * The expected squared error of quantizing the histogram's values with `amax`, relative to their
 * mean square: how much of a tensor's signal int8 destroys. Tensors with outlier channels score
 * high; it ranks which activations to keep in float when the whole model misses its accuracy.
 */
export function relativeQuantError(state: AbsHistogramState, amax: number): number {
  const { counts, bins, range } = state;
  if (range === 0 || !(amax > 0)) return 0;
  const width = range / bins;
  const step = amax / INT8_MAX;
  let error = 0;
  let energy = 0;
  for (let j = 0; j < bins; j++) {
    const c = counts[j]!;
    if (c === 0) continue;
    const centre = (j + 0.5) * width;
    energy += c * (centre * centre + (width * width) / 12);
    error += centre > amax ? c * (centre - amax) * (centre - amax) : (c * step * step) / 12;
  }
  return energy > 0 ? error / energy : 0;
}

/** The amax an algorithm picks from a tensor's histogram; 0 when it saw no nonzero value. */
export function amaxOf(state: AbsHistogramState, options: AmaxOptions): number {
  switch (options.algorithm) {
    case "max":
      return state.maxAbs;
    case "percentile":
      return percentileAmax(state, options.percentile ?? DEFAULT_PERCENTILE);
    case "entropy":
      return entropyAmax(state);
    case "mse":
      return mseAmax(state);
  }
}

/** TensorRT's per-tensor int8 scale: amax / 127. */
export function scaleOfAmax(amax: number): number {
  return amax / INT8_MAX;
}
