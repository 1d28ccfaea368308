import { describe, expect, it } from "vitest";
import { AbsHistogram, amaxOf, entropyAmax, FILL_MAGNITUDE, percentileAmax, rebinCounts, type AbsHistogramState } from "../src/index.js";
import { concat, gaussian, uniform } from "./synthetic.js";

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);

function oneShot(values: Float32Array, bins = 2048): AbsHistogramState {
  const h = new AbsHistogram(bins);
  h.add(values);
  return h.snapshot();
}

/** Values in chunks whose max grows chunk after chunk, so that the histogram re-bins repeatedly. */
function growingChunks(): Float32Array[] {
  return [0.5, 1, 1.3, 2, 2.1, 4, 4.05, 7].map((sigma, k) => gaussian(50_000, 100 + k, sigma));
}

describe("AbsHistogram", () => {
  it("counts |x| in bins over [0, max], the max in the last bin", () => {
    const h = new AbsHistogram(4);
    h.add(Float32Array.from([0, -0.5, 1, -1.9, 2, -2]));
    const s = h.snapshot();
    expect(s.range).toBe(2);
    expect(s.maxAbs).toBe(2);
    // width 0.5: [0,.5) holds 0; [.5,1) holds .5; [1,1.5) holds 1; [1.5,2] holds 1.9, 2, 2.
    expect(Array.from(s.counts)).toEqual([1, 1, 1, 3]);
    expect(s.counted).toBe(6);
  });

  it("keeps every count when the range grows, and tracks the exact max", () => {
    const h = new AbsHistogram();
    let n = 0;
    for (const chunk of growingChunks()) {
      h.add(chunk);
      n += chunk.length;
      const s = h.snapshot();
      expect(sum(s.counts)).toBeCloseTo(n, 6);
      expect(s.range).toBe(s.maxAbs);
    }
    const all = concat(...growingChunks());
    expect(h.snapshot().maxAbs).toBe(all.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    expect(h.snapshot().rebinnings).toBeGreaterThanOrEqual(5);
  });

  it("addSample spans [0, the tensor's max] even when the sample misses the max, and counts only the sample", () => {
    const h = new AbsHistogram(4);
    h.addSample(Float32Array.from([0.1, -0.9, 1.2]), 4);
    let s = h.snapshot();
    expect(s.range).toBe(4);
    expect(s.maxAbs).toBe(4);
    expect(Array.from(s.counts)).toEqual([2, 1, 0, 0]);
    expect(s.counted).toBe(3);
    // A larger max re-bins what was counted; fills and NaN in the sample are counted apart.
    h.addSample(Float32Array.from([7.9, Number.NaN, -3.4e38, Number.NEGATIVE_INFINITY]), 8);
    s = h.snapshot();
    expect(s).toMatchObject({ range: 8, maxAbs: 8, counted: 4, fills: 2, nan: 1, rebinnings: 1 });
    expect(sum(s.counts)).toBe(4);
    expect(s.counts[3]).toBe(1);
    // A smaller max leaves the range as it is.
    h.addSample(Float32Array.from([0.5]), 2);
    expect(h.snapshot()).toMatchObject({ range: 8, maxAbs: 8, counted: 5 });
  });

  it("addSample refuses a max that is NaN, infinite, negative or a fill", () => {
    const h = new AbsHistogram(4);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1, FILL_MAGNITUDE]) {
      expect(() => h.addSample(Float32Array.of(0), bad), String(bad)).toThrowError(expect.objectContaining({ code: "INTERNAL" }));
    }
  });

  it("after re-binning, approximates the one-shot histogram of the same values", () => {
    const streamed = new AbsHistogram();
    for (const chunk of growingChunks()) streamed.add(chunk);
    const s = streamed.snapshot();
    const o = oneShot(concat(...growingChunks()));
    expect(s.range).toBe(o.range);
    // Each re-binned count moves at most one bin; measured as total variation between the two.
    let moved = 0;
    for (let j = 0; j < s.bins; j++) moved += Math.abs(s.counts[j]! - o.counts[j]!);
    const totalVariation = moved / 2 / sum(o.counts);
    expect(totalVariation).toBeLessThan(0.02);
    // Cumulative counts never differ by more than what one bin holds.
    let cs = 0;
    let co = 0;
    let worst = 0;
    for (let j = 0; j < s.bins; j++) {
      cs += s.counts[j]!;
      co += o.counts[j]!;
      worst = Math.max(worst, Math.abs(cs - co) / Math.max(s.counts[j]!, o.counts[j]!, 1));
    }
    expect(worst).toBeLessThan(1.01);
    // And the thresholds agree to within a few bins.
    const width = o.range / o.bins;
    expect(Math.abs(entropyAmax(s) - entropyAmax(o))).toBeLessThan(2 * width);
    expect(Math.abs(percentileAmax(s, 99.99) - percentileAmax(o, 99.99))).toBeLessThan(2 * width);
  });

  it("re-bins by splitting each old bin over the new bins it overlaps", () => {
    // Old bins of width 1 over [0,4]; new width 2 over [0,8]: pairs merge exactly.
    expect(Array.from(rebinCounts(Float64Array.from([1, 2, 3, 4]), 4, 8))).toEqual([3, 7, 0, 0]);
    // New width 1.5 over [0,6]: old [1,2) splits 1/2 into [0,1.5) and 1/2 into [1.5,3).
    expect(Array.from(rebinCounts(Float64Array.from([2, 2, 2, 2]), 4, 6))).toEqual([3, 3, 2, 0]);
    // From an empty range every count is an exact zero.
    expect(Array.from(rebinCounts(Float64Array.from([5, 0, 0, 0]), 0, 3))).toEqual([5, 0, 0, 0]);
  });

  it("keeps mask fills, ±inf and NaN out and counts them", () => {
    const h = new AbsHistogram();
    h.add(
      Float32Array.from([1, -2, -3.4028234663852886e38, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, 0.5, -1e31, 3]),
    );
    const s = h.snapshot();
    expect(s.maxAbs).toBe(3);
    expect(s.fills).toBe(4);
    expect(s.nan).toBe(1);
    expect(s.counted).toBe(4);
    expect(sum(s.counts)).toBe(4);
    expect(FILL_MAGNITUDE).toBe(1e30);
  });

  it("gives an attention mask of 0 and float32-lowest fills no range at all", () => {
    const mask = Float32Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? -3.4028234663852886e38 : 0));
    const h = new AbsHistogram();
    h.add(mask);
    const s = h.snapshot();
    expect(s.maxAbs).toBe(0);
    expect(s.fills).toBe(334);
    for (const algorithm of ["entropy", "percentile", "max"] as const) expect(amaxOf(s, { algorithm })).toBe(0);
  });

  it("holds the same number of bytes after 1 chunk and after 200", () => {
    const h = new AbsHistogram();
    h.add(gaussian(10_000, 1));
    const after1 = h.stateBytes;
    for (let k = 0; k < 200; k++) h.add(gaussian(10_000, 2 + k, 1 + k / 50));
    expect(h.stateBytes).toBe(after1);
    expect(h.stateBytes).toBeLessThan(64 * 1024);
    expect(h.snapshot().counted).toBe(201 * 10_000);
  });
});

describe("percentile and max", () => {
  it("reads the percentile of |x| with interpolation inside the bin", () => {
    const s = oneShot(uniform(1_000_000, 3, -1, 1));
    expect(percentileAmax(s, 99.99)).toBeCloseTo(0.9999, 3);
    expect(percentileAmax(s, 50)).toBeCloseTo(0.5, 2);
    expect(percentileAmax(s, 100)).toBe(s.maxAbs);
  });

  it("max is the exact largest |x|", () => {
    const values = Float32Array.from([0.1, -7.25, 3]);
    expect(amaxOf(oneShot(values), { algorithm: "max" })).toBe(7.25);
  });

  it("refuses a percentile outside (0, 100]", () => {
    const s = oneShot(Float32Array.from([1, 2]));
    expect(() => percentileAmax(s, 0)).toThrow(/percentile must be in \(0, 100\]/);
    expect(() => percentileAmax(s, 100.5)).toThrow(/percentile/);
  });

  it("refuses fewer bins than the entropy search starts at", () => {
    const s = oneShot(uniform(1000, 4, 0, 1), 64);
    expect(() => entropyAmax(s)).toThrow(/more than 128 bins/);
  });
});
