import { assertSequenceLength, modelSequenceLimit, type ShapeCase } from "@trtforge/export";
import type { TrtBuildOptions } from "./build-options.js";

/**
 * The optimization profile's three shapes, [batch, sequence], exactly as the metadata records them
 * (builder's profileOf: min batch 1): validation and accuracy run each of them, so no shape is
 * published that was not run.
 */
export function profileShapeCases(o: TrtBuildOptions): ShapeCase[] {
  return [
    { name: "min", batch: 1, seqLen: o.minSeqLen },
    { name: "opt", batch: o.optBatchSize, seqLen: o.optSeqLen },
    { name: "max", batch: o.maxBatchSize, seqLen: o.seqLen },
  ];
}

/** Refuses, before any work, a profile whose longest sequence the model cannot take. */
export async function checkProfileLengths(modelDir: string, o: TrtBuildOptions): Promise<void> {
  const limit = await modelSequenceLimit(modelDir);
  assertSequenceLength(o.seqLen, limit, "--sequence-length", modelDir);
}
