import type { ExecutionCost } from "./execution-cost.js";

export interface RowsAndLength {
  rows: number;
  seqLen: number;
}

/**
 * Splits items into groups to execute one after another, by the model's execution cost: sorted by
 * sequence length, an item joins the group before it when the padding it adds (the group's rows
 * lengthened to the item's length) costs no more than the fixed cost of the execution it saves;
 * otherwise it starts a new group. On 2 ONNX Runtime threads the fixed cost is small beside a row's
 * cells and requests of different lengths run apart; on 16 threads a batch-1 run leaves the threads
 * idle (a large fixed cost) and they merge. An infinite fixed cost (TensorRT's default) makes one
 * group, in arrival order.
 */
export function lengthGroups<T>(items: readonly T[], sizeOf: (item: T) => RowsAndLength, cost: ExecutionCost): T[][] {
  if (items.length <= 1 || cost.fixedMs === Number.POSITIVE_INFINITY) return items.length === 0 ? [] : [[...items]];
  const sorted = [...items].sort((a, b) => sizeOf(a).seqLen - sizeOf(b).seqLen);
  const groups: T[][] = [];
  let group: T[] = [];
  let rows = 0;
  let seqLen = 0;
  for (const item of sorted) {
    const size = sizeOf(item);
    const addedPadding = rows * (size.seqLen - seqLen);
    if (group.length > 0 && cost.perCellMs * addedPadding > cost.fixedMs) {
      groups.push(group);
      group = [item];
      rows = size.rows;
      seqLen = size.seqLen;
      continue;
    }
    group.push(item);
    rows += size.rows;
    seqLen = Math.max(seqLen, size.seqLen);
  }
  groups.push(group);
  return groups;
}
