import type { HardwareCompatibilityLevel, PlanLibrary, Precision, ShapeLimits } from "@trtforge/engine-format";

/** Everything that shapes the TensorRT build; it is part of the build key and of the metadata. */
export interface TrtBuildOptions extends ShapeLimits {
  precision: Precision;
  /** "strong": precision from the ONNX (Q/DQ or fp16 ONNX), TensorRT 10 and 11. "weak": TensorRT 10 builder flags (+ calibration cache for int8). */
  typing: "strong" | "weak";
  trtVersion: string;
  workspaceBytes: number;
  builderOptimizationLevel: number;
  hardwareCompatibility: HardwareCompatibilityLevel;
  versionCompatible: boolean;
  /** Which builder makes the plan; absent: TensorRT through the addon (so older build keys stay). */
  engineBuilder?: PlanLibrary | undefined;
  /** TensorRT-RTX: the target compute capabilities (major.minor); empty: the library's default set. */
  computeCapabilities?: string[] | undefined;
}

export function metadataBuildOptions(
  o: TrtBuildOptions,
): Record<string, unknown> & { workspace_bytes: number; builder_optimization_level: number; strongly_typed: boolean } {
  return {
    workspace_bytes: o.workspaceBytes,
    builder_optimization_level: o.builderOptimizationLevel,
    strongly_typed: o.typing === "strong",
    opt_batch_size: o.optBatchSize,
    min_seq_len: o.minSeqLen,
    opt_seq_len: o.optSeqLen,
  };
}
