import { MIN_BATCH, type Profile, type ProfileRange } from "@trtforge/core";
import type { EngineMetadata } from "./metadata.js";

/**
 * The batch and sequence bounds of a build matrix entry, as conf/models.yaml names them; everything
 * past the matrix carries a Profile (@trtforge/core), made by profileOfLimits.
 */
export interface ShapeLimits {
  maxBatchSize: number;
  optBatchSize: number;
  minSeqLen: number;
  optSeqLen: number;
  seqLen: number;
}

/**
 * Ceilings that TensorRT itself would accept but that no encoder engine of ours should have; the
 * build matrix, the command line and library callers all check against these.
 */
export const PROFILE_LIMITS = {
  maxBatchSize: 4096,
  seqLen: 8192,
} as const;

/** A build matrix entry's bounds as a Profile (the batch minimum is MIN_BATCH, as for every engine of ours). */
export function profileOfLimits(l: ShapeLimits): Profile {
  return {
    batch: { min: MIN_BATCH, opt: l.optBatchSize, max: l.maxBatchSize },
    sequence: { min: l.minSeqLen, opt: l.optSeqLen, max: l.seqLen },
  };
}

/**
 * Where a profile lands in the v1 metadata: max_batch_size and seq_len at the top, the optima and
 * the shortest sequence in build_options (the inputs' min/opt/max shapes come from it too: tensorSpec).
 * The schema is unchanged, so metadata written before the Profile type reads the same.
 */
export function profileMetadata(p: Profile): {
  max_batch_size: number;
  seq_len: number;
  build_options: { opt_batch_size: number; min_seq_len: number; opt_seq_len: number };
} {
  return {
    max_batch_size: p.batch.max,
    seq_len: p.sequence.max,
    build_options: { opt_batch_size: p.batch.opt, min_seq_len: p.sequence.min, opt_seq_len: p.sequence.opt },
  };
}

/**
 * The profile an engine's metadata describes: from the input_ids entry's shapes (any input of rank 2
 * otherwise), the plan's max_batch_size and seq_len where no input says more. Each value is kept
 * inside [min, max], so metadata from any writer gives a usable profile. The one reader of a
 * metadata's profile: the runtime serves this object as ServedModel.profile, unconverted.
 */
export function profileOfMetadata(metadata: EngineMetadata): Profile {
  const input = metadata.inputs.find((i) => i.name === "input_ids") ?? metadata.inputs.find((i) => i.max_shape.length === 2);
  const dim = (shape: number[] | undefined, i: number, fallback: number) => {
    const v = shape?.[i];
    return v !== undefined && v > 0 ? v : fallback;
  };
  const range = (axis: 0 | 1, max: number, minFallback: number): ProfileRange => {
    const top = dim(input?.max_shape, axis, max);
    const min = Math.min(dim(input?.min_shape, axis, minFallback), top);
    return { min, opt: Math.min(Math.max(dim(input?.opt_shape, axis, top), min), top), max: top };
  };
  return { batch: range(0, metadata.max_batch_size, MIN_BATCH), sequence: range(1, metadata.seq_len, 1) };
}
