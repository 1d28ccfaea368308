import { ForgeError } from "@trtforge/core";
import type { AbsHistogramState } from "./abs-histogram.js";
import { entropySearch, ENTROPY_START_BIN } from "./entropy.js";

export type CalibrationAlgorithm = "entropy" | "percentile" | "max";

export const CALIBRATION_ALGORITHMS: readonly CalibrationAlgorithm[] = ["entropy", "percentile", "max"];
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
    throw new ForgeError("INVALID_LIMIT", `percentile must be in (0, 100], got ${percentile}`, { input: "percentile", fix: `use ${DEFAULT_PERCENTILE} (the default) or another value such as 99.999` });
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
    throw new ForgeError("INVALID_LIMIT", `entropy calibration needs more than ${ENTROPY_START_BIN} bins, the histogram has ${state.bins}`, { input: "bins", fix: "use 2048 bins, TensorRT's number" });
  }
  const found = entropySearch(state.counts);
  if (found === undefined) return 0;
  return Math.min(state.maxAbs, (found.keptBins + 0.5) * (state.range / state.bins));
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
  }
}

/** TensorRT's per-tensor int8 scale: amax / 127. */
export function scaleOfAmax(amax: number): number {
  return amax / INT8_MAX;
}
