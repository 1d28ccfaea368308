import { describe, expect, it } from "vitest";
import { lengthGroups, type ExecutionCost, type RowsAndLength } from "../src/index.js";

const size = (item: RowsAndLength) => item;
const item = (rows: number, seqLen: number): RowsAndLength => ({ rows, seqLen });
const rowsOf = (group: RowsAndLength[]) => group.reduce((n, g) => n + g.rows, 0);
const longest = (group: RowsAndLength[]) => Math.max(...group.map((g) => g.seqLen));
const costOf = (groups: RowsAndLength[][], cost: ExecutionCost) =>
  groups.reduce((ms, g) => ms + cost.fixedMs + cost.perCellMs * rowsOf(g) * longest(g), 0);

// The shapes measured for MiniLM cpu.onnx (docs/serving.md): on 2 threads an execution adds ~0.2 ms
// to ~0.1 ms per token cell; on 16 threads ~1 ms to ~0.02 ms per cell.
const twoThreads: ExecutionCost = { fixedMs: 0.2, perCellMs: 0.1 };
const sixteenThreads: ExecutionCost = { fixedMs: 1, perCellMs: 0.02 };
// AG News articles of one batch: ~40 to 70 tokens.
const articles = [52, 41, 66, 47, 58, 44, 61, 70].map((seqLen) => item(1, seqLen));

describe("lengthGroups", () => {
  it("keeps everything in one group, in arrival order, when an execution's fixed cost is infinite", () => {
    const items = [item(1, 100), item(2, 10), item(1, 50)];
    expect(lengthGroups(items, size, { fixedMs: Infinity, perCellMs: 0 })).toEqual([items]);
    expect(lengthGroups([], size, twoThreads)).toEqual([]);
  });

  it("with a small fixed cost beside the cells (2 threads), runs articles of different lengths apart, shortest first", () => {
    const groups = lengthGroups(articles, size, twoThreads);
    expect(groups.map((g) => g.map((i) => i.seqLen))).toEqual([[41], [44], [47], [52], [58], [61], [66], [70]]);
    // Equal lengths cost no padding and still merge.
    expect(lengthGroups([item(1, 50), item(2, 50)], size, twoThreads)).toEqual([[item(1, 50), item(2, 50)]]);
  });

  it("with a larger fixed cost (16 threads), merges the same articles into one execution", () => {
    expect(lengthGroups(articles, size, sixteenThreads)).toEqual([[...articles].sort((a, b) => a.seqLen - b.seqLen)]);
  });

  it("still runs a long row apart from short ones when padding them costs more than an execution", () => {
    const items = [item(1, 256), ...Array.from({ length: 7 }, () => item(1, 20))];
    expect(lengthGroups(items, size, sixteenThreads)).toEqual([Array.from({ length: 7 }, () => item(1, 20)), [item(1, 256)]]);
  });

  it("loses no item, joins a group only where the padding costs at most an execution, and never costs more than running items alone", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 300; trial++) {
      const items = Array.from({ length: 1 + Math.floor(next() * 32) }, () =>
        item(1 + Math.floor(next() * 4), 1 + Math.floor(next() * 128)),
      );
      const cost = [twoThreads, sixteenThreads, { fixedMs: 0, perCellMs: 1 }][trial % 3]!;
      const groups = lengthGroups(items, size, cost);
      expect(groups.flat()).toHaveLength(items.length);
      expect(new Set(groups.flat())).toEqual(new Set(items));
      expect(costOf(groups, cost)).toBeLessThanOrEqual(
        costOf(
          items.map((i) => [i]),
          cost,
        ) + 1e-9,
      );
      for (const [g, group] of groups.entries()) {
        for (let k = 1; k < group.length; k++) {
          const before = group.slice(0, k);
          expect(cost.perCellMs * rowsOf(before) * (group[k]!.seqLen - longest(before))).toBeLessThanOrEqual(cost.fixedMs + 1e-9);
        }
        const following = groups[g + 1];
        if (following !== undefined) {
          expect(cost.perCellMs * rowsOf(group) * (following[0]!.seqLen - longest(group))).toBeGreaterThan(cost.fixedMs);
        }
      }
    }
  });
});
