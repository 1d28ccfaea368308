import type { Profile } from "@trtforge/core";
import type { HardwareCompatibilityLevel, PlanLibrary, Precision } from "@trtforge/engine-format";

/** Everything that shapes the TensorRT build; it is part of the build key and of the metadata. */
export interface TrtBuildOptions {
  precision: Precision;
  /** "strong": precision from the ONNX (Q/DQ or fp16 ONNX), TensorRT 10 and 11. "weak": TensorRT 10 builder flags (+ calibration cache for int8). */
  typing: "strong" | "weak";
  trtVersion: string;
  /** The optimization profile, carried unchanged to the addon, the metadata and the runtime's limits. */
  profile: Profile;
  workspaceBytes: number;
  builderOptimizationLevel: number;
  hardwareCompatibility: HardwareCompatibilityLevel;
  versionCompatible: boolean;
  /** Which builder makes the plan; absent: TensorRT through the addon (so older build keys stay). */
  engineBuilder?: PlanLibrary | undefined;
  /** TensorRT-RTX: the target compute capabilities (major.minor); empty: the library's default set. */
  computeCapabilities?: string[] | undefined;
}

/**
 * The build options as the build key has always hashed them (the profile's five bounds flat, under
 * their old names), so a store keeps finding the builds it made before the Profile type.
 */
export function buildKeyOptions(o: TrtBuildOptions): Record<string, unknown> {
  const { profile, ...rest } = o;
  return {
    ...rest,
    maxBatchSize: profile.batch.max,
    optBatchSize: profile.batch.opt,
    minSeqLen: profile.sequence.min,
    optSeqLen: profile.sequence.opt,
    seqLen: profile.sequence.max,
  };
}

/**
 * The metadata's build_options beyond the profile (which the builder writes from the Profile, as
 * profileMetadata says): the rows of BUILD_OPTIONS whose metadata key lives in build_options.
 */
export function metadataBuildOptions(o: TrtBuildOptions): { workspace_bytes: number; builder_optimization_level: number } {
  return {
    workspace_bytes: o.workspaceBytes,
    builder_optimization_level: o.builderOptimizationLevel,
  };
}
