import { performance } from "node:perf_hooks";
import type { BackendName, TokenRows } from "./contract.js";

/**
 * What one execution of the model costs, as a line: fixedMs whatever it holds (launching the run,
 * waking the intra-op threads, the ops that do not scale with the input) plus perCellMs for every
 * token cell it computes, padded ones included (rows × the longest length).
 */
export interface ExecutionCost {
  readonly fixedMs: number;
  readonly perCellMs: number;
}

/**
 * Costs used until a model's own are measured. TensorRT on a GPU is bound by launches at these sizes:
 * an infinite fixed cost merges every batch whole, as Triton's dynamic batcher does. ONNX Runtime on
 * 2 cores (MiniLM cpu-int8, benchmarks/README.md): one article ≈ 5 ms of cells at ~50 tokens and
 * ≈ 0.2 ms besides, so padding is rarely worth an execution saved.
 */
export const DEFAULT_EXECUTION_COST: Readonly<Record<BackendName, ExecutionCost>> = {
  onnxruntime: { fixedMs: 0.2, perCellMs: 0.1 },
  tensorrt: { fixedMs: Number.POSITIVE_INFINITY, perCellMs: 0 },
};

export interface TimedRun {
  rows: number;
  seqLen: number;
  ms: number;
}

/**
 * The least-squares line through timed runs, ms against cells (rows × seqLen): its intercept is the
 * fixed cost, its slope the cost per cell. Needs runs of at least two different cell counts; a
 * negative intercept (noise) is taken as 0 and the slope refitted through the origin.
 */
export function fitExecutionCost(runs: readonly TimedRun[]): ExecutionCost {
  const points = runs.map((r) => ({ cells: r.rows * r.seqLen, ms: r.ms }));
  const n = points.length;
  const meanCells = points.reduce((s, p) => s + p.cells, 0) / n;
  const meanMs = points.reduce((s, p) => s + p.ms, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.cells - meanCells) ** 2, 0);
  if (n < 2 || sxx === 0) throw new RangeError("fitExecutionCost needs timed runs of at least two different sizes");
  const sxy = points.reduce((s, p) => s + (p.cells - meanCells) * (p.ms - meanMs), 0);
  const slope = Math.max(0, sxy / sxx);
  const intercept = meanMs - slope * meanCells;
  if (intercept >= 0) return { fixedMs: intercept, perCellMs: slope };
  const throughOrigin = points.reduce((s, p) => s + p.cells * p.ms, 0) / points.reduce((s, p) => s + p.cells * p.cells, 0);
  return { fixedMs: 0, perCellMs: Math.max(0, throughOrigin) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Token rows of `rows` × `seqLen` with every cell real: id 1 under a full attention mask. */
export function syntheticRows(rows: number, seqLen: number): TokenRows {
  return {
    rows,
    seqLen,
    inputIds: new BigInt64Array(rows * seqLen).fill(1n),
    attentionMask: new BigInt64Array(rows * seqLen).fill(1n),
  };
}

/**
 * Measures a model's execution cost at load: after one untimed warm-up run of each shape, the median
 * of `repeats` timed runs at batch 1 and at `batch` rows, both at `seqLen` (the profile's optimum).
 */
export async function measureExecutionCost(
  run: (tokens: TokenRows) => Promise<unknown>,
  shape: { batch: number; seqLen: number; repeats?: number },
  now: () => number = () => performance.now(),
): Promise<ExecutionCost> {
  const repeats = shape.repeats ?? 5;
  const timed: TimedRun[] = [];
  for (const rows of [1, Math.max(2, shape.batch)]) {
    const tokens = syntheticRows(rows, shape.seqLen);
    await run(tokens);
    const ms: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const started = now();
      await run(tokens);
      ms.push(now() - started);
    }
    timed.push({ rows, seqLen: shape.seqLen, ms: median(ms) });
  }
  return fitExecutionCost(timed);
}
