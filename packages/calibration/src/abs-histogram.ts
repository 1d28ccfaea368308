import { ForgeError } from "@trtforge/core";

/** TensorRT's entropy calibration works on 2048 bins of |x|. */
export const DEFAULT_BINS = 2048;

/**
 * Values at or above this magnitude are attention-mask fills, not activations: exporters write
 * float32's lowest value (−3.4028235e38) or −inf where attention is masked, and adding a score to
 * −3.4e38 leaves −3.4e38. No activation worth quantizing comes near 1e30, so anything this large is
 * counted and kept out of the histogram, as NaN and ±inf are.
 */
export const FILL_MAGNITUDE = 1e30;

/** The plain-data state of one histogram: what a worker or a file would carry. */
export interface AbsHistogramState {
  bins: number;
  /** Upper edge of the last bin; 0 until a nonzero value has been seen. */
  range: number;
  /** counts[j] holds |x| in [j·w, (j+1)·w), the last bin closed at `range`; fractional after re-binning. */
  counts: Float64Array;
  /** Exact largest |x| counted (the histogram's range equals it after every growth). */
  maxAbs: number;
  /** Values counted into the histogram. */
  counted: number;
  /** ±inf and |x| ≥ FILL_MAGNITUDE: masked-attention fills, kept out. */
  fills: number;
  nan: number;
  /** How many times the range grew and the counts were re-binned. */
  rebinnings: number;
}

/**
 * Moves counts from bins of width oldRange/bins to the wider bins of newRange/bins, splitting each
 * old bin between the (at most two) new bins it overlaps in proportion to the overlap, i.e.
 * assuming the values spread evenly inside the old bin. Total count is kept exactly; each count
 * stays inside its old bin's interval, so it lands at most one new bin away from where a one-shot
 * histogram over [0, newRange] would have put it.
 */
export function rebinCounts(counts: Float64Array, oldRange: number, newRange: number): Float64Array {
  const bins = counts.length;
  const out = new Float64Array(bins);
  if (oldRange === 0) {
    // Only exact zeros can have been counted over an empty range.
    out[0] = counts.reduce((a, b) => a + b, 0);
    return out;
  }
  const ratio = oldRange / newRange; // old bin width in units of new bins, ≤ 1
  for (let j = 0; j < bins; j++) {
    const count = counts[j]!;
    if (count === 0) continue;
    const lo = j * ratio;
    const hi = (j + 1) * ratio;
    const k = Math.min(Math.floor(lo), bins - 1);
    if (hi <= k + 1 || k === bins - 1) {
      out[k]! += count;
    } else {
      const inFirst = (k + 1 - lo) / ratio;
      out[k]! += count * inFirst;
      out[k + 1]! += count * (1 - inFirst);
    }
  }
  return out;
}

/**
 * A histogram of |x| over [0, max |x| seen] in a fixed number of bins: its memory does not depend
 * on how many values it has seen. A batch whose largest |x| exceeds the range widens it to exactly
 * that value and re-bins the earlier counts (see rebinCounts for the error this adds), so the
 * histogram always spans [0, exact max], as TensorRT's does.
 */
export class AbsHistogram {
  readonly bins: number;
  private range = 0;
  private counts: Float64Array;
  private maxAbs = 0;
  private counted = 0;
  private fills = 0;
  private nan = 0;
  private rebinnings = 0;
  /** Per-batch integer counts in four interleaved lanes (bin·4 + lane), so that runs of equal bins do not serialize on one memory cell. */
  private readonly scratch: Uint32Array;

  constructor(bins: number = DEFAULT_BINS) {
    if (!Number.isSafeInteger(bins) || bins < 2) {
      throw new ForgeError("INVALID_LIMIT", `a histogram needs an integer number of bins ≥ 2, got ${bins}`, {
        input: "bins",
        fix: `use ${DEFAULT_BINS} bins, TensorRT's number`,
      });
    }
    this.bins = bins;
    this.counts = new Float64Array(bins);
    this.scratch = new Uint32Array((bins + 1) * 4);
  }

  /** Bytes this histogram holds, whatever the number of values it has seen. */
  get stateBytes(): number {
    return this.counts.byteLength + this.scratch.byteLength;
  }

  /** Adds every value of a tensor (any shape, flattened). */
  add(values: Float32Array | Float64Array): void {
    const oldRange = this.range;
    const overflowMax = this.countWithin(values, oldRange);
    if (overflowMax > oldRange) {
      this.widenTo(overflowMax);
      this.countAbove(values, oldRange, overflowMax);
    }
  }

  /** Widens the range to `maxAbs` (re-binning what was counted) and records it as the max seen. */
  private widenTo(maxAbs: number): void {
    this.counts = rebinCounts(this.counts, this.range, maxAbs);
    if (this.range > 0) this.rebinnings++;
    this.range = maxAbs;
    if (maxAbs > this.maxAbs) this.maxAbs = maxAbs;
  }

  /**
   * Adds a sample of a tensor's values whose exact largest finite, non-fill |x| over the whole
   * tensor is known (computed where the tensor lives, see withSampleTaps). The range widens to that
   * max first, so it stays the exact max of everything seen, not of the sample; the counts are the
   * sample's, which entropy, percentile and MSE read as a distribution (their scale cancels).
   */
  addSample(values: Float32Array | Float64Array, tensorMaxAbs: number): void {
    if (!(tensorMaxAbs >= 0 && tensorMaxAbs < FILL_MAGNITUDE)) {
      throw new ForgeError("INTERNAL", `a tensor's max |x| must be finite and below ${FILL_MAGNITUDE}, got ${tensorMaxAbs}`);
    }
    if (tensorMaxAbs > this.range) this.widenTo(tensorMaxAbs);
    // Every sample value is within the range now, unless it is a fill or NaN (counted apart by add).
    this.add(values);
  }

  /**
   * One pass: counts the values inside [0, range] into the current bins and returns the largest
   * countable |x| above the range (0 if none). `a <= range` is false for NaN and anything above
   * the range, so the common case costs one comparison; only when some value fell outside does a
   * second pass sort those into fills, NaN and the new max.
   */
  private countWithin(values: Float32Array | Float64Array, range: number): number {
    const scratch = this.scratch;
    const toBin = range > 0 ? this.bins / range : 0;
    const n = values.length;
    const aligned = n - (n % 4);
    let outside = 0;
    let i = 0;
    for (; i < aligned; i += 4) {
      const a0 = Math.abs(values[i]!);
      const a1 = Math.abs(values[i + 1]!);
      const a2 = Math.abs(values[i + 2]!);
      const a3 = Math.abs(values[i + 3]!);
      if (a0 <= range) scratch[((a0 * toBin) | 0) << 2]!++;
      else outside++;
      if (a1 <= range) scratch[(((a1 * toBin) | 0) << 2) + 1]!++;
      else outside++;
      if (a2 <= range) scratch[(((a2 * toBin) | 0) << 2) + 2]!++;
      else outside++;
      if (a3 <= range) scratch[(((a3 * toBin) | 0) << 2) + 3]!++;
      else outside++;
    }
    for (; i < n; i++) {
      const a = Math.abs(values[i]!);
      if (a <= range) scratch[((a * toBin) | 0) << 2]!++;
      else outside++;
    }
    this.flushScratch();
    let overflowMax = 0;
    let fills = 0;
    let nan = 0;
    if (outside > 0) {
      for (let j = 0; j < n; j++) {
        const a = Math.abs(values[j]!);
        if (a <= range) continue;
        if (a !== a) nan++;
        else if (a >= FILL_MAGNITUDE) fills++;
        else if (a > overflowMax) overflowMax = a;
      }
    }
    this.fills += fills;
    this.nan += nan;
    this.counted += n - fills - nan;
    return overflowMax;
  }

  /** Second pass, only after the range grew: counts the values that were above the old range. */
  private countAbove(values: Float32Array | Float64Array, oldRange: number, range: number): void {
    const scratch = this.scratch;
    const toBin = this.bins / range;
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]!);
      if (a > oldRange && a <= range) scratch[((a * toBin) | 0) << 2]!++;
    }
    this.flushScratch();
  }

  /** Folds the four lanes into the counts; the slot past the last bin (|x| exactly at the range) joins the last bin. */
  private flushScratch(): void {
    const scratch = this.scratch;
    const counts = this.counts;
    const last = this.bins - 1;
    for (let b = 0; b <= this.bins; b++) {
      const at = b << 2;
      const sum = scratch[at]! + scratch[at + 1]! + scratch[at + 2]! + scratch[at + 3]!;
      if (sum !== 0) {
        counts[Math.min(b, last)]! += sum;
        scratch[at] = 0;
        scratch[at + 1] = 0;
        scratch[at + 2] = 0;
        scratch[at + 3] = 0;
      }
    }
  }

  /** A copy of the state (the counts are copied, so the histogram may go on). */
  snapshot(): AbsHistogramState {
    return {
      bins: this.bins,
      range: this.range,
      counts: this.counts.slice(),
      maxAbs: this.maxAbs,
      counted: this.counted,
      fills: this.fills,
      nan: this.nan,
      rebinnings: this.rebinnings,
    };
  }
}
