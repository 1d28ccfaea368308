import { describe, expect, it } from "vitest";
import { fitExecutionCost, measureExecutionCost, type TokenRows } from "../src/index.js";

describe("fitExecutionCost", () => {
  it("recovers the fixed cost and the cost per cell of runs on a line", () => {
    const cost = fitExecutionCost([
      { rows: 1, seqLen: 128, ms: 2 + 128 * 0.01 },
      { rows: 8, seqLen: 128, ms: 2 + 8 * 128 * 0.01 },
      { rows: 4, seqLen: 64, ms: 2 + 4 * 64 * 0.01 },
    ]);
    expect(cost.fixedMs).toBeCloseTo(2, 9);
    expect(cost.perCellMs).toBeCloseTo(0.01, 9);
  });

  it("takes a negative intercept (noise) as no fixed cost", () => {
    const cost = fitExecutionCost([
      { rows: 1, seqLen: 100, ms: 0.5 },
      { rows: 8, seqLen: 100, ms: 8 },
    ]);
    expect(cost.fixedMs).toBe(0);
    expect(cost.perCellMs).toBeGreaterThan(0);
  });

  it("refuses runs of a single size, which cannot separate the two costs", () => {
    expect(() => fitExecutionCost([{ rows: 2, seqLen: 10, ms: 1 }])).toThrow(/two different sizes/);
  });
});

describe("measureExecutionCost", () => {
  it("times batch 1 and batch N at the given length with real rows, after a warm-up run of each", async () => {
    const shapes: [number, number][] = [];
    let clock = 0;
    const cost = await measureExecutionCost(
      async (tokens: TokenRows) => {
        shapes.push([tokens.rows, tokens.seqLen]);
        expect(tokens.attentionMask.every((v) => v === 1n)).toBe(true);
        clock += 3 + 0.02 * tokens.rows * tokens.seqLen;
      },
      { batch: 8, seqLen: 16, repeats: 3 },
      () => clock,
    );
    expect(shapes).toEqual([...Array(4).fill([1, 16]), ...Array(4).fill([8, 16])]);
    expect(cost.fixedMs).toBeCloseTo(3, 9);
    expect(cost.perCellMs).toBeCloseTo(0.02, 9);
  });
});
