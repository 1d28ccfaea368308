import { sha256Hex } from "@trtforge/core";
import {
  encodeMarker,
  encodeModelId,
  formatEngineName,
  serializeMetadata,
  type EngineMetadata,
} from "@trtforge/engine-format";
import type { BuilderInfo } from "./builder-info.js";
import type { EngineTarget } from "./engine-target.js";
import { tensorSpec, type ProfileLimits } from "./profile-shapes.js";

export interface BuiltArtifact {
  engineName: string;
  sidecarName: string;
  engineBytes: Buffer;
  sidecarText: string;
  metadata: EngineMetadata;
}

/**
 * A marker and its v1 metadata for one target. Input and output shapes come from the profile
 * (min/opt/max batch and sequence). Without `facts` (the build matrix) no ONNX was exported, which
 * `onnx_sha256: null` records; the pipeline passes what its stages measured. The metadata says
 * `kind: "marker"` and names no GPU.
 */
/** What the pipeline knows beyond the target when it makes a marker in place of an engine. */
export interface MarkerFacts {
  onnxSha256: string | null;
  calibration: EngineMetadata["calibration"];
  accuracy: EngineMetadata["accuracy"];
  buildOptions: EngineMetadata["build_options"];
}

export function buildMarker(target: EngineTarget, builder: BuilderInfo, createdAt: Date, facts?: MarkerFacts): BuiltArtifact {
  const engineName = formatEngineName({
    task: target.taskName,
    modelId: target.modelId,
    revision: target.revision,
    trtVersion: target.trtVersion,
    precision: target.precision,
  });
  const created_at = createdAt.toISOString();
  const engineBytes = encodeMarker({
    task: target.taskName,
    model_id: target.modelId,
    hf_revision: target.revision,
    trt_version: target.trtVersion,
    precision: target.precision,
    created_at,
  });
  const profile: ProfileLimits = {
    minBatch: 1,
    optBatch: target.optBatchSize,
    maxBatch: target.maxBatchSize,
    minSeq: target.minSeqLen,
    optSeq: target.optSeqLen,
    maxSeq: target.seqLen,
  };
  const metadata: EngineMetadata = {
    schema_version: 1,
    kind: "marker",
    model_name: encodeModelId(target.modelId),
    hf_revision: target.revision,
    trt_version: target.trtVersion,
    precision: target.precision,
    build_options: {
      opt_batch_size: target.optBatchSize,
      min_seq_len: target.minSeqLen,
      opt_seq_len: target.optSeqLen,
      strongly_typed: target.precision !== "fp32",
      ...facts?.buildOptions,
    },
    max_batch_size: target.maxBatchSize,
    seq_len: target.seqLen,
    checksum: sha256Hex(engineBytes),
    created_at,
    task: target.taskName,
    model_id: target.modelId,
    onnx_sha256: facts?.onnxSha256 ?? null,
    inputs: target.inputs.map((name) => tensorSpec(name, "int64", ["batch", "seq"], profile)),
    outputs: target.outputs.map((o) => tensorSpec(o.name, "float32", o.dims, profile)),
    gpu: null,
    cuda_version: null,
    hardware_compatibility_level: "none",
    version_compatible: false,
    calibration: facts?.calibration ?? null,
    accuracy: facts?.accuracy ?? [],
    builder,
  };
  return {
    engineName,
    sidecarName: engineName.replace(/\.engine$/, ".json"),
    engineBytes,
    sidecarText: serializeMetadata(metadata),
    metadata,
  };
}
