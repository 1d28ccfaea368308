import { describe, expect, it } from "vitest";
import { maskPadding, OutputComparator } from "../src/index.js";

describe("OutputComparator", () => {
  it("measures max abs diff and per-sample cosine", () => {
    const c = new OutputComparator("y");
    c.add([1, 0, 0, 1], [1, 0.001, 0, -1], 2);
    const r = c.result();
    expect(r.samples).toBe(2);
    expect(r.max_abs_diff).toBeCloseTo(2, 6);
    expect(r.cosine_min).toBeCloseTo(-1, 6);
    expect(r.cosine_mean).toBeCloseTo((0.9999995 - 1) / 2, 5);
  });

  it("never lets NaN pass as close", () => {
    const c = new OutputComparator("y");
    c.add([1, 2], [Number.NaN, 2], 2);
    expect(c.result().max_abs_diff).toBe(Infinity);
    expect(c.result().cosine_min).toBe(-1);
  });

  it("refuses outputs of different sizes", () => {
    expect(() => new OutputComparator("y").add([1, 2], [1], 1)).toThrowError(/2 reference values, 1 candidate/);
  });
});

describe("maskPadding", () => {
  it("zeroes padded positions of sequence outputs and leaves pooled outputs alone", () => {
    const values = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const mask = new BigInt64Array([1n, 0n, 1n, 1n]);
    expect([...maskPadding(values, [2, 2, 2], mask)]).toEqual([1, 2, 0, 0, 5, 6, 7, 8]);
    expect(maskPadding(values, [2, 4], mask)).toBe(values);
  });
});

describe("cosine_p01", () => {
  it("is the ⌈n/100⌉-th lowest per-sample cosine: the tail a mean hides", async () => {
    const { OutputComparator, lowPercentile } = await import("../src/compare-outputs.js");
    const c = new OutputComparator("out");
    // 200 samples of 2 values: 198 identical, 2 orthogonal (cosine 0): mean 0.99, p01 the 2nd lowest = 0.
    for (let i = 0; i < 198; i++) c.add([1, 0], [1, 0], 2);
    c.add([1, 0], [0, 1], 2);
    c.add([1, 0], [0, 1], 2);
    const r = c.result();
    expect(r.cosine_mean).toBeCloseTo(0.99, 10);
    expect(r.cosine_p01).toBe(0);
    expect(lowPercentile([0.5, 0.9, 1], 0.01)).toBe(0.5);
    expect(lowPercentile([], 0.01)).toBe(0);
  });
});
