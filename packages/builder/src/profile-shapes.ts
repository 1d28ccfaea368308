import type { Profile } from "@trtforge/core";
import type { TensorSpec } from "@trtforge/engine-format";

export type SymbolicDim = "batch" | "seq" | number;

function resolve(dims: readonly SymbolicDim[], batch: number, seq: number): number[] {
  return dims.map((d) => (d === "batch" ? batch : d === "seq" ? seq : d));
}

export function tensorSpec(name: string, dtype: TensorSpec["dtype"], dims: readonly SymbolicDim[], p: Profile): TensorSpec {
  return {
    name,
    dtype,
    min_shape: resolve(dims, p.batch.min, p.sequence.min),
    opt_shape: resolve(dims, p.batch.opt, p.sequence.opt),
    max_shape: resolve(dims, p.batch.max, p.sequence.max),
  };
}
