import { ForgeError } from "@trtforge/core";

export interface EntropySearchOptions {
  /** Smallest number of bins a candidate threshold keeps (TensorRT and pytorch-quantization: 128). */
  startBin?: number;
  /** Quantized levels P is merged into: 128 for int8 (127 levels plus zero, sign apart). */
  levels?: number;
  stride?: number;
}

export interface EntropySearchResult {
  /** Bins kept below the threshold (the argmin i). */
  keptBins: number;
  /** KL(P‖Q) at that i, in nats. */
  divergence: number;
}

export const ENTROPY_START_BIN = 128;
export const INT8_LEVELS = 128;

/** Two divergences this close are a tie; ties go to the larger i, as pytorch-quantization's last argmin does. */
const TIE = 1e-12;

/**
 * TensorRT's EntropyCalibration2 search over a histogram of |x| (Migacz, GTC 2017; open reference
 * pytorch-quantization `_compute_amax_entropy`): for every i in [startBin, bins), P is the first i
 * bins with the mass of all later bins added to bin i−1; Q is P's first i bins (without that tail)
 * merged into `levels` groups, each group's mass spread evenly over its nonzero bins, zero bins
 * kept at zero; both are normalized to sum 1 and KL(P‖Q) is measured. The i with the smallest
 * divergence wins (the largest such i on a tie). As in pytorch-quantization, bin 0's count is
 * replaced by bin 1's first, so that a spike of exact zeros (ReLU, padding) does not decide the
 * threshold; P > 0 where Q = 0 (tail mass landing on an empty bin i−1) makes KL infinite.
 *
 * Computed in O(levels) per candidate rather than O(i): with T the total and S_i the mass below i,
 * KL = (Σ P log P − Σ_k PG_k log(G_k/N_k)) / T − log T + log S_i, where G_k, N_k are group k's
 * mass and nonzero-bin count and PG_k its mass in P; prefix sums give every term.
 */
export function entropySearch(histogram: ArrayLike<number>, options: EntropySearchOptions = {}): EntropySearchResult | undefined {
  const startBin = options.startBin ?? ENTROPY_START_BIN;
  const levels = options.levels ?? INT8_LEVELS;
  const stride = options.stride ?? 1;
  const n = histogram.length;
  if (
    !Number.isSafeInteger(startBin) ||
    !Number.isSafeInteger(levels) ||
    !Number.isSafeInteger(stride) ||
    levels < 1 ||
    stride < 1 ||
    startBin < levels ||
    startBin >= n
  ) {
    throw new ForgeError(
      "INVALID_LIMIT",
      `entropy search needs levels ≥ 1, stride ≥ 1 and levels ≤ startBin < bins; got levels ${levels}, startBin ${startBin}, stride ${stride}, bins ${n}`,
      {
        fix: `use ${INT8_LEVELS} levels, start bin ${ENTROPY_START_BIN} and 2048 bins (TensorRT's values)`,
      },
    );
  }
  const bins = Float64Array.from(histogram);
  bins[0] = bins[1]!;

  // below[j], nonzeroBelow[j], plogpBelow[j]: over bins 0..j−1.
  const below = new Float64Array(n + 1);
  const nonzeroBelow = new Float64Array(n + 1);
  const plogpBelow = new Float64Array(n + 1);
  for (let j = 0; j < n; j++) {
    const c = bins[j]!;
    below[j + 1] = below[j]! + c;
    nonzeroBelow[j + 1] = nonzeroBelow[j]! + (c > 0 ? 1 : 0);
    plogpBelow[j + 1] = plogpBelow[j]! + (c > 0 ? c * Math.log(c) : 0);
  }
  const total = below[n]!;
  if (!(total > 0)) return undefined;
  const logTotal = Math.log(total);

  let best: EntropySearchResult | undefined;
  let smallest = Infinity;
  for (let i = startBin; i < n; i += stride) {
    const tail = total - below[i]!;
    const last = bins[i - 1]!;
    let divergence: number;
    if (last === 0 && tail > 0) {
      divergence = Infinity;
    } else {
      const lastP = last + tail;
      const plogp = plogpBelow[i - 1]! + (lastP > 0 ? lastP * Math.log(lastP) : 0);
      let plogq = 0;
      for (let k = 0; k < levels; k++) {
        // Group k holds the j < i with floor(j·levels / i) = k.
        const from = Math.floor((k * i + levels - 1) / levels);
        const to = k === levels - 1 ? i : Math.floor(((k + 1) * i + levels - 1) / levels);
        const nonzero = nonzeroBelow[to]! - nonzeroBelow[from]!;
        if (nonzero === 0) continue;
        const mass = below[to]! - below[from]!;
        // Bin i−1 always falls in the last group; P carries the tail there.
        const massInP = k === levels - 1 ? mass + tail : mass;
        plogq += massInP * Math.log(mass / nonzero);
      }
      divergence = (plogp - plogq) / total - logTotal + Math.log(below[i]!);
    }
    if (divergence < smallest) smallest = divergence;
    // Compared with the smallest so far, not the last winner, so that near-ties cannot drift upward.
    if (best === undefined || divergence <= smallest + TIE * Math.max(1, Math.abs(smallest))) {
      best = { keptBins: i, divergence };
    }
  }
  return best;
}
