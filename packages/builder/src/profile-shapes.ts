import type { TensorSpec } from "@trtforge/engine-format";

/** The optimization profile of a transformer encoder: dynamic batch and sequence axes. */
export interface ProfileLimits {
  minBatch: number;
  optBatch: number;
  maxBatch: number;
  minSeq: number;
  optSeq: number;
  maxSeq: number;
}

export type SymbolicDim = "batch" | "seq" | number;

function resolve(dims: readonly SymbolicDim[], batch: number, seq: number): number[] {
  return dims.map((d) => (d === "batch" ? batch : d === "seq" ? seq : d));
}

export function tensorSpec(name: string, dtype: TensorSpec["dtype"], dims: readonly SymbolicDim[], p: ProfileLimits): TensorSpec {
  return {
    name,
    dtype,
    min_shape: resolve(dims, p.minBatch, p.minSeq),
    opt_shape: resolve(dims, p.optBatch, p.optSeq),
    max_shape: resolve(dims, p.maxBatch, p.maxSeq),
  };
}
