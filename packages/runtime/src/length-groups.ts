import type { BackendName } from "./contract.js";

/**
 * How much padding a merged execution may carry, as a fraction of its real token cells, before the
 * batcher splits it into executions of similar lengths.
 *
 * ONNX Runtime on the CPU does the same work per token cell at batch 1 as at batch 32, so every
 * padded cell is wasted time: on 1,000 AG News articles (MiniLM, cpu-int8, 2 threads) batches of 8
 * in arrival order ran 168 articles/s, one article at a time 200/s, and batches of 8 sorted by length
 * 209/s (benchmarks/README.md). TensorRT on a GPU is bound by launches at these sizes, so it takes
 * the whole batch at the longest length, as Triton's dynamic batcher does.
 */
export const DEFAULT_PAD_WASTE: Readonly<Record<BackendName, number>> = { onnxruntime: 0.1, tensorrt: Number.POSITIVE_INFINITY };

export interface RowsAndLength {
  rows: number;
  seqLen: number;
}

/**
 * Splits items into groups to execute one after another: sorted by sequence length, a group grows
 * while rows × its longest length stays within (1 + maxWaste) × the cells the items fill on their
 * own. With an infinite maxWaste everything is one group, in arrival order.
 */
export function lengthGroups<T>(items: readonly T[], sizeOf: (item: T) => RowsAndLength, maxWaste: number): T[][] {
  if (items.length <= 1 || maxWaste === Number.POSITIVE_INFINITY) return items.length === 0 ? [] : [[...items]];
  const sorted = [...items].sort((a, b) => sizeOf(a).seqLen - sizeOf(b).seqLen);
  const groups: T[][] = [];
  let group: T[] = [];
  let rows = 0;
  let cells = 0;
  for (const item of sorted) {
    const size = sizeOf(item);
    const grownRows = rows + size.rows;
    const grownCells = cells + size.rows * size.seqLen;
    if (group.length > 0 && grownRows * size.seqLen > (1 + maxWaste) * grownCells) {
      groups.push(group);
      group = [item];
      rows = size.rows;
      cells = size.rows * size.seqLen;
      continue;
    }
    group.push(item);
    rows = grownRows;
    cells = grownCells;
  }
  groups.push(group);
  return groups;
}
