import { profileOfMetadata, type EngineMetadata } from "@trtforge/engine-format";
import type { ModelLimits } from "./contract.js";

/**
 * The engine profile's batch × sequence limits: the Profile the metadata describes
 * (profileOfMetadata, the inverse of what the builder writes), in the flat form the batcher and the
 * server read. The ONNX fallback serves within the same limits, so a client sees one model whichever
 * backend runs.
 */
export function limitsOf(metadata: EngineMetadata): ModelLimits {
  const { batch, sequence } = profileOfMetadata(metadata);
  return {
    minBatch: batch.min,
    optBatch: batch.opt,
    maxBatch: batch.max,
    minSeq: sequence.min,
    optSeq: sequence.opt,
    maxSeq: sequence.max,
  };
}
