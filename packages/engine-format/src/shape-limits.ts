/**
 * The batch and sequence bounds of an optimization profile. One interface for the build matrix
 * entry, the build options and the builder's target, so that the three cannot drift apart.
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
