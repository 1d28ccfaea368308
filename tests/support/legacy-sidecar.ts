/**
 * A sidecar as JustNewsAgent's real TensorRT compiler writes it: no schema field, the task in
 * model_name, the TensorRT version in tensorrt_version. Read by the engine-format and verify tests.
 */
export const LEGACY_COMPILER_SIDECAR = {
  model_name: "sentiment",
  num_classes: 3,
  max_batch_size: 100,
  sequence_length: 514, // as JustNewsAgent's compiler wrote it; trtforge itself refuses 514 for RoBERTa (512 usable)
  precision: "fp16",
  build_time: 812.4,
  created_at: "2025-07-28 14:02:11",
  tensorrt_version: "10.10.0.31",
} as const;
