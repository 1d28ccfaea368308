/**
 * How close a candidate must stay to its reference on real inputs, per precision of the candidate.
 * fp32 is the ONNX export against PyTorch: both compute in float32, so only reordering of float
 * operations separates them. fp16 and int8 lose precision by design; their gates are on cosine.
 */
export interface Tolerance {
  maxAbsDiff: number;
  minCosine: number;
}

export const DEFAULT_TOLERANCES: Readonly<Record<"fp32" | "fp16" | "int8", Tolerance>> = {
  fp32: { maxAbsDiff: 1e-3, minCosine: 0.9999 },
  fp16: { maxAbsDiff: 5e-2, minCosine: 0.999 },
  int8: { maxAbsDiff: Infinity, minCosine: 0.99 },
};
