import { sha256Hex } from "@trtforge/core";
import {
  encodeMarker,
  encodeModelId,
  formatEngineName,
  profileMetadata,
  serializeMetadata,
  type EngineMetadata,
  type PlanLibrary,
} from "@trtforge/engine-format";
import type { ShapeProfile } from "@trtforge/native";
import type { BuilderInfo } from "./builder-info.js";
import type { EngineTarget } from "./engine-target.js";
import { tensorSpec } from "./profile-shapes.js";

/** An engine (or marker) file and its v1 metadata, ready to publish. */
export interface BuiltArtifact {
  engineName: string;
  sidecarName: string;
  engineBytes: Buffer;
  sidecarText: string;
  metadata: EngineMetadata;
}

/** What the pipeline measured beyond the target: the ONNX built from, calibration, accuracy, options. */
export interface ArtifactFacts {
  onnxSha256: string | null;
  calibration: EngineMetadata["calibration"];
  accuracy: EngineMetadata["accuracy"];
  buildOptions: EngineMetadata["build_options"];
}

/** What a real build adds: the plan's bytes and the GPU, CUDA and TensorRT that made it. */
export interface RealBuildFacts {
  engineBytes: Buffer;
  trtVersion: string;
  gpu: NonNullable<EngineMetadata["gpu"]>;
  cudaVersion: string | null;
  hardwareCompatibilityLevel: EngineMetadata["hardware_compatibility_level"];
  versionCompatible: boolean;
}

/**
 * Whether a plan's network is strongly typed, derived here only: TensorRT-RTX networks always are,
 * TensorRT's when the build asked for strong typing (markers included, so they agree with builds).
 */
export function stronglyTyped(typing: "strong" | "weak", library: PlanLibrary = "tensorrt"): boolean {
  return library === "tensorrt-rtx" || typing === "strong";
}

/** The profile per input, [batch, sequence] each: what TensorRT-RTX's builder and the store's listing take. */
export function shapeProfiles(target: EngineTarget): ShapeProfile[] {
  return target.inputs.map((input) => {
    const spec = tensorSpec(input, "int64", ["batch", "seq"], target.profile);
    return { input, min: spec.min_shape, opt: spec.opt_shape, max: spec.max_shape };
  });
}

function artifact(
  target: EngineTarget,
  trtVersion: string,
  engineBytes: Buffer,
  metadata: Omit<EngineMetadata, "checksum">,
): BuiltArtifact {
  const engineName = formatEngineName({
    task: target.taskName,
    modelId: target.modelId,
    revision: target.revision,
    trtVersion,
    precision: target.precision,
    library: metadata.library,
  });
  const full: EngineMetadata = { ...metadata, checksum: sha256Hex(engineBytes) };
  return {
    engineName,
    sidecarName: engineName.replace(/\.engine$/, ".json"),
    engineBytes,
    sidecarText: serializeMetadata(full),
    metadata: full,
  };
}

function commonMetadata(
  target: EngineTarget,
  trtVersion: string,
  builder: BuilderInfo,
  createdAt: Date,
  facts: ArtifactFacts | undefined,
  library: PlanLibrary = "tensorrt",
) {
  const profile = target.profile;
  const written = profileMetadata(profile);
  return {
    schema_version: 1 as const,
    model_name: encodeModelId(target.modelId),
    hf_revision: target.revision,
    trt_version: trtVersion,
    precision: target.precision,
    build_options: { ...facts?.buildOptions, ...written.build_options, strongly_typed: stronglyTyped(target.typing, library) },
    max_batch_size: written.max_batch_size,
    seq_len: written.seq_len,
    created_at: createdAt.toISOString(),
    task: target.taskName,
    model_id: target.modelId,
    onnx_sha256: facts?.onnxSha256 ?? null,
    inputs: target.inputs.map((name) => tensorSpec(name, "int64", ["batch", "seq"], profile)),
    outputs: target.outputs.map((o) => tensorSpec(o.name, "float32", o.dims, profile)),
    calibration: facts?.calibration ?? null,
    accuracy: facts?.accuracy ?? [],
    builder,
  };
}

/**
 * A marker and its v1 metadata for one target. Shapes come from the profile (min/opt/max batch and
 * sequence). Without `facts` (the build matrix) no ONNX was exported, which `onnx_sha256: null`
 * records; the pipeline passes what its stages measured. The metadata says `kind: "marker"` and
 * names no GPU.
 */
export function buildMarker(target: EngineTarget, builder: BuilderInfo, createdAt: Date, facts?: ArtifactFacts): BuiltArtifact {
  const bytes = encodeMarker({
    task: target.taskName,
    model_id: target.modelId,
    hf_revision: target.revision,
    trt_version: target.trtVersion,
    precision: target.precision,
    created_at: createdAt.toISOString(),
  });
  return artifact(target, target.trtVersion, bytes, {
    ...commonMetadata(target, target.trtVersion, builder, createdAt, facts),
    kind: "marker",
    gpu: null,
    cuda_version: null,
    hardware_compatibility_level: "none",
    version_compatible: false,
  });
}

/** A real engine's artifact: its metadata names the TensorRT, GPU and CUDA the addon reported. */
export function engineArtifact(
  target: EngineTarget,
  builder: BuilderInfo,
  createdAt: Date,
  facts: ArtifactFacts,
  real: RealBuildFacts,
): BuiltArtifact {
  return artifact(target, real.trtVersion, real.engineBytes, {
    ...commonMetadata(target, real.trtVersion, builder, createdAt, facts),
    kind: "engine",
    gpu: real.gpu,
    cuda_version: real.cudaVersion,
    hardware_compatibility_level: real.hardwareCompatibilityLevel,
    version_compatible: real.versionCompatible,
  });
}

/** What a TensorRT-RTX build adds: the plan, the library's version and the targets read from the plan. */
export interface RtxBuildFacts {
  engineBytes: Buffer;
  version: string;
  computeCapabilities: string[];
}

/**
 * A TensorRT-RTX engine's artifact: built ahead of time without a GPU, so `gpu` is null and the
 * target compute capabilities say where it runs; `library` and the name (`-trtrtx-<ver>-`) say
 * which runtime must load it.
 */
export function rtxEngineArtifact(
  target: EngineTarget,
  builder: BuilderInfo,
  createdAt: Date,
  facts: ArtifactFacts,
  rtx: RtxBuildFacts,
): BuiltArtifact {
  return artifact(target, rtx.version, rtx.engineBytes, {
    ...commonMetadata(target, rtx.version, builder, createdAt, facts, "tensorrt-rtx"),
    kind: "engine",
    gpu: null,
    cuda_version: null,
    hardware_compatibility_level: "none",
    version_compatible: false,
    library: "tensorrt-rtx",
    target_compute_capabilities: rtx.computeCapabilities,
  });
}
