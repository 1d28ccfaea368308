import { describe, expect, it } from "vitest";
import { lengthGroups, type RowsAndLength } from "../src/index.js";

const size = (item: RowsAndLength) => item;
const item = (rows: number, seqLen: number): RowsAndLength => ({ rows, seqLen });
const cells = (group: RowsAndLength[]) => group.reduce((n, g) => n + g.rows * g.seqLen, 0);
const padded = (group: RowsAndLength[]) => group.reduce((n, g) => n + g.rows, 0) * Math.max(...group.map((g) => g.seqLen));

describe("lengthGroups", () => {
  it("keeps everything in one group, in arrival order, when padding is free", () => {
    const items = [item(1, 100), item(2, 10), item(1, 50)];
    expect(lengthGroups(items, size, Infinity)).toEqual([items]);
    expect(lengthGroups([], size, 0.1)).toEqual([]);
  });

  it("sorts by length and starts a new group where padding would pass the allowance", () => {
    const items = [item(1, 120), item(1, 12), item(1, 118), item(1, 11), item(1, 10), item(2, 60)];
    const groups = lengthGroups(items, size, 0.1);
    expect(groups).toEqual([[item(1, 10), item(1, 11), item(1, 12)], [item(2, 60)], [item(1, 118), item(1, 120)]]);
    for (const g of groups) expect(padded(g)).toBeLessThanOrEqual(1.1 * cells(g));
  });

  it("holds every group to the allowance, and loses no item, on arbitrary inputs", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 200; trial++) {
      const items = Array.from({ length: 1 + Math.floor(next() * 32) }, () =>
        item(1 + Math.floor(next() * 4), 1 + Math.floor(next() * 128)),
      );
      const waste = [0, 0.1, 0.5][trial % 3]!;
      const groups = lengthGroups(items, size, waste);
      expect(groups.flat()).toHaveLength(items.length);
      expect(new Set(groups.flat())).toEqual(new Set(items));
      for (const g of groups) if (g.length > 1) expect(padded(g)).toBeLessThanOrEqual((1 + waste) * cells(g) + 1e-9);
    }
  });
});
