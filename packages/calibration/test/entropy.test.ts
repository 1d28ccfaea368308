import { describe, expect, it } from "vitest";
import { AbsHistogram, entropyAmax, entropySearch, type AbsHistogramState } from "../src/index.js";
import { concat, gaussian, random, uniform } from "./synthetic.js";

/**
 * pytorch-quantization's _compute_amax_entropy written out plainly, O(i) per candidate: P and Q
 * as arrays, np.digitize over np.linspace edges for the merge, both normalized, KL with infinity
 * where P > 0 = Q, last argmin. Candidates i in [startBin, bins), as TensorRT's pseudocode.
 */
function referenceDivergences(histogram: ArrayLike<number>, startBin = 128, levels = 128): Map<number, number> {
  const bins = Array.from(histogram);
  bins[0] = bins[1]!;
  const n = bins.length;
  const result = new Map<number, number>();
  for (let i = startBin; i < n; i++) {
    const p = bins.slice(0, i);
    p[i - 1]! += bins.slice(i).reduce((a, b) => a + b, 0);
    const edges = Array.from({ length: levels + 1 }, (_, k) => k * (i / levels));
    // np.digitize(j, edges) - 1: the number of edges ≤ j, minus one.
    const digitized = Array.from({ length: i }, (_, j) => (bins[j] === 0 ? -1 : edgesAtOrBelow(edges, j) - 1));
    const sums = new Array<number>(levels).fill(0);
    const nonzero = new Array<number>(levels).fill(0);
    digitized.forEach((k, j) => {
      if (k === -1) return;
      sums[k]! += bins[j]!;
      nonzero[k]!++;
    });
    const q = digitized.map((k) => (k === -1 ? 0 : sums[k]! / nonzero[k]!));
    const pSum = p.reduce((a, b) => a + b, 0);
    const qSum = q.reduce((a, b) => a + b, 0);
    let kl = 0;
    for (let j = 0; j < i; j++) {
      const pj = p[j]! / pSum;
      const qj = q[j]! / qSum;
      if (pj === 0) continue;
      kl += qj === 0 ? Infinity : pj * Math.log(pj / qj);
    }
    result.set(i, kl);
  }
  return result;
}

/** How many of the sorted edges are ≤ x (binary search). */
function edgesAtOrBelow(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function referenceArgmin(divergences: Map<number, number>): { i: number; kl: number } {
  let best = { i: -1, kl: Infinity };
  for (const [i, kl] of divergences) if (best.i === -1 || kl <= best.kl) best = { i, kl };
  return best;
}

function histogramOf(values: Float32Array, bins = 2048): AbsHistogramState {
  const h = new AbsHistogram(bins);
  h.add(values);
  return h.snapshot();
}

describe("entropySearch", () => {
  it("matches a hand-computed example (6 bins, 2 levels)", () => {
    // bins [4,4,2,0,1,1]: i=2 → 0.0566, i=3 → (2/3)ln(5/6) + (1/3)ln(5/3) = 0.0487, i=4 → ∞
    // (bin 3 empty, tail 2), i=5 → 0.0649. See the test file's notes: the minimum is i = 3.
    const found = entropySearch([4, 4, 2, 0, 1, 1], { startBin: 2, levels: 2 });
    expect(found?.keptBins).toBe(3);
    expect(found?.divergence).toBeCloseTo((2 / 3) * Math.log(5 / 6) + (1 / 3) * Math.log(5 / 3), 12);
    const reference = referenceDivergences([4, 4, 2, 0, 1, 1], 2, 2);
    expect(reference.get(2)).toBeCloseTo((1 / 3) * Math.log(2 / 3) + (2 / 3) * Math.log(4 / 3), 12);
    expect(reference.get(4)).toBe(Infinity);
    expect(reference.get(5)).toBeCloseTo((2 / 3) * Math.log(1.1) + (1 / 6) * Math.log(0.55) + (1 / 6) * Math.log(11 / 6), 12);
  });

  it("replaces bin 0 by bin 1, so that a spike of exact zeros does not decide", () => {
    const withSpike = Array.from({ length: 256 }, (_, j) => (j === 0 ? 1e9 : 1000 - 3 * j));
    const withoutSpike = withSpike.map((c, j) => (j === 0 ? withSpike[1]! : c));
    expect(entropySearch(withSpike)).toEqual(entropySearch(withoutSpike));
  });

  const shapes: [string, () => ArrayLike<number>][] = [
    ["a Gaussian", () => histogramOf(gaussian(200_000, 1)).counts],
    ["a Gaussian with outliers", () => histogramOf(concat(gaussian(200_000, 2), uniform(30, 3, 8, 16))).counts],
    ["an exponential", () => histogramOf(Float32Array.from(uniform(200_000, 4, 0, 1), (u) => -Math.log(1 - u))).counts],
    [
      "a Cauchy (heavy tail, many empty bins)",
      () => histogramOf(Float32Array.from(uniform(200_000, 5, 0, 1), (u) => Math.tan(Math.PI * (u - 0.5)))).counts,
    ],
    [
      "random sparse counts",
      () => {
        const next = random(6);
        return Array.from({ length: 2048 }, () => (next() < 0.4 ? 0 : Math.floor(next() * 1000)));
      },
    ],
    [
      "fractional counts (after re-binning)",
      () => {
        const next = random(7);
        return Array.from({ length: 2048 }, (_, j) => (next() * 50) / (1 + j / 100));
      },
    ],
  ];
  for (const [name, make] of shapes) {
    it(`picks the reference implementation's threshold on ${name}`, () => {
      const counts = make();
      const found = entropySearch(counts)!;
      const reference = referenceDivergences(counts);
      const best = referenceArgmin(reference);
      expect(found.keptBins).toBe(best.i);
      expect(found.divergence).toBeCloseTo(reference.get(found.keptBins)!, 9);
    });
  }

  it("returns undefined for an empty histogram", () => {
    expect(entropySearch(new Float64Array(2048))).toBeUndefined();
  });

  it("refuses parameters that leave no candidate", () => {
    expect(() => entropySearch(new Float64Array(100))).toThrow(/bins 100/);
  });
});

describe("entropyAmax on synthetic activations", () => {
  it("clips a Gaussian with a few huge outliers well below its max", () => {
    const values = concat(gaussian(1_000_000, 11), Float32Array.from([12, -13.5, 15, 17, -18, 19.5, 20]));
    const state = histogramOf(values);
    expect(state.maxAbs).toBe(20);
    const amax = entropyAmax(state);
    expect(amax).toBeGreaterThan(2.5);
    expect(amax).toBeLessThan(6);
  });

  it("keeps nearly the whole range of uniform data", () => {
    const state = histogramOf(uniform(1_000_000, 12, -1, 1));
    const amax = entropyAmax(state);
    expect(amax).toBeGreaterThan(0.95 * state.maxAbs);
    expect(amax).toBeLessThanOrEqual(state.maxAbs);
  });

  it("puts the threshold in the middle of the first bin left out: (i + 0.5) × width", () => {
    const state = histogramOf(gaussian(100_000, 13));
    const found = entropySearch(state.counts)!;
    expect(entropyAmax(state)).toBeCloseTo((found.keptBins + 0.5) * (state.range / state.bins), 12);
  });
});
