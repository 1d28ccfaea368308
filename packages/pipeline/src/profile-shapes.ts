import { assertSequenceLength, modelSequenceLimit, type ShapeCase } from "@trtforge/export";
import type { TrtBuildOptions } from "./build-options.js";

/**
 * The optimization profile's three shapes, [batch, sequence], exactly as the metadata records them
 * (the Profile the builder writes there): validation and accuracy run each of them, so no shape is
 * published that was not run.
 */
export function profileShapeCases(o: TrtBuildOptions): ShapeCase[] {
  return [
    { name: "min", batch: o.profile.batch.min, seqLen: o.profile.sequence.min },
    { name: "opt", batch: o.profile.batch.opt, seqLen: o.profile.sequence.opt },
    { name: "max", batch: o.profile.batch.max, seqLen: o.profile.sequence.max },
  ];
}

/** Refuses, before any work, a profile whose longest sequence the model cannot take. */
export async function checkProfileLengths(modelDir: string, o: TrtBuildOptions): Promise<void> {
  const limit = await modelSequenceLimit(modelDir);
  assertSequenceLength(o.profile.sequence.max, limit, "--sequence-length", modelDir);
}
