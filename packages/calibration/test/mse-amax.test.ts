import { describe, expect, it } from "vitest";
import { MSE_AMAX_FRACTIONS, mseChosenAmax, PROBABILITY_CLIPS, quantizationMse } from "../src/index.js";

/** Laplace(0, 1) at n evenly spaced quantiles: a long-tailed tensor with a known optimum clip. */
function laplace(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = (i + 0.5) / n - 0.5;
    out[i] = -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }
  return out;
}

describe("quantizationMse", () => {
  it("charges a value under half a step its own square (it rounds to 0), not the step²/12 of a uniform-error model", () => {
    // amax 1.27: step 0.01; 0.001 rounds to 0 and costs 1e-6, where step²/12 would be 8.3e-6.
    expect(quantizationMse([0.001], 1.27)).toBeCloseTo(1e-6, 12);
    // On the grid: no error; past amax: clipped to it.
    expect(quantizationMse([0.5, -0.25], 1.27)).toBeCloseTo(0, 12);
    expect(quantizationMse([3], 1.27)).toBeCloseTo((3 - 1.27) ** 2, 9);
  });
});

describe("mseChosenAmax", () => {
  it("clips a Laplace tensor at 0.85 of its max (9.8 of 11.5, ACIQ's 8-bit optimum is 9.89 b)", () => {
    const values = laplace(100_000);
    const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(max).toBeCloseTo(Math.log(100_000), 3);
    const amax = mseChosenAmax(values, max);
    expect(amax / max).toBeCloseTo(0.85, 6);
    expect(quantizationMse(values, amax)).toBeLessThan(quantizationMse(values, max) * 0.85);
  });

  it("keeps the max of a uniform tensor (nothing to gain by clipping) and of an empty one", () => {
    const values = Float32Array.from({ length: 10_001 }, (_, i) => -1 + i / 5000);
    expect(mseChosenAmax(values, 1)).toBe(1);
    expect(mseChosenAmax(new Float32Array(0), 2)).toBe(2);
  });

  it("only picks among the given fractions of the max", () => {
    const amax = mseChosenAmax(laplace(20_000), 10, [1, 0.5]);
    expect([5, 10]).toContain(amax);
    expect(MSE_AMAX_FRACTIONS.at(-1)).toBe(1);
  });
});

describe("PROBABILITY_CLIPS", () => {
  it("tries the finer grid (0.7 and 0.35 were chosen for MiniLM's layers)", () => {
    expect([...PROBABILITY_CLIPS]).toEqual([1, 0.7, 0.5, 0.35, 0.25]);
  });
});
