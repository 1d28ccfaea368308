import type { EngineMetadata } from "@trtforge/engine-format";
import type { ModelLimits } from "./contract.js";

/**
 * The engine profile's batch × sequence limits, from the input_ids entry of the metadata (any
 * input of rank 2 otherwise); the plan's max_batch_size and seq_len where no input says more. The
 * ONNX fallback serves within the same limits, so a client sees one model whichever backend runs.
 */
export function limitsOf(metadata: EngineMetadata): ModelLimits {
  const input = metadata.inputs.find((i) => i.name === "input_ids") ?? metadata.inputs.find((i) => i.max_shape.length === 2);
  const dim = (shape: number[] | undefined, i: number, fallback: number) => {
    const v = shape?.[i];
    return v !== undefined && v > 0 ? v : fallback;
  };
  const maxBatch = dim(input?.max_shape, 0, metadata.max_batch_size);
  const maxSeq = dim(input?.max_shape, 1, metadata.seq_len);
  const minBatch = Math.min(dim(input?.min_shape, 0, 1), maxBatch);
  const minSeq = Math.min(dim(input?.min_shape, 1, 1), maxSeq);
  return {
    minBatch,
    maxBatch,
    optBatch: Math.min(Math.max(dim(input?.opt_shape, 0, maxBatch), minBatch), maxBatch),
    minSeq,
    optSeq: Math.min(Math.max(dim(input?.opt_shape, 1, maxSeq), minSeq), maxSeq),
    maxSeq,
  };
}
