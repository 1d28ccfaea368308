/**
 * Engine metadata (v1) for the suites that write engine or marker fixtures (runtime, verify): one
 * plausible MiniLM build, with what a suite cares about given by the caller.
 */
import { sha256Hex } from "@trtforge/core";
import { encodeModelId, type EngineMetadata } from "@trtforge/engine-format";

/** What each suite sets itself: the model, the TensorRT version and the profile its engines have. */
export type MetadataFields = Pick<
  EngineMetadata,
  "model_id" | "hf_revision" | "trt_version" | "max_batch_size" | "seq_len" | "inputs" | "outputs"
>;

/** The GPU an engine fixture says it was built on (markers record none). */
export interface BuildGpu {
  gpu: NonNullable<EngineMetadata["gpu"]>;
  cuda_version: string;
}

export const FAKE_BUILD_GPU: BuildGpu = { gpu: { name: "trtforge fake GPU", compute_capability: "8.6" }, cuda_version: "13.0" };

/** Metadata whose checksum is that of `bytes`; `patch` overrides any field last. */
export function engineMetadataFixture(
  kind: "engine" | "marker",
  bytes: Uint8Array,
  fields: MetadataFields,
  patch: Partial<EngineMetadata> = {},
  buildGpu: BuildGpu = FAKE_BUILD_GPU,
): EngineMetadata {
  return {
    schema_version: 1,
    kind,
    model_name: encodeModelId(fields.model_id),
    precision: "fp16",
    build_options: { workspace_bytes: 2 * 1024 ** 3 },
    checksum: sha256Hex(bytes),
    created_at: "2026-12-01T12:00:00.000Z",
    task: "embeddings",
    onnx_sha256: null,
    gpu: kind === "engine" ? buildGpu.gpu : null,
    cuda_version: kind === "engine" ? buildGpu.cuda_version : null,
    hardware_compatibility_level: "none",
    version_compatible: false,
    calibration: null,
    accuracy: [],
    builder: { name: "trtforge", version: "0.1.0", git_commit: null },
    ...fields,
    ...patch,
  };
}
