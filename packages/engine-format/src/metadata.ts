import { z } from "zod";
import { PRECISIONS } from "./precision.js";
import { TASK_PATTERN } from "./naming.js";
import { TRT_VERSION_PATTERN } from "./trt-version.js";
import { PLAN_LIBRARIES } from "./plan-header.js";

/**
 * Engine metadata, schema v1: the sidecar `<engine stem>.json` beside every engine or marker.
 * The first nine fields are the ones the JustNewsAgent GPU plan specified; the rest make an engine
 * verifiable (checksums, compatibility) and traceable (inputs, calibration, builder).
 * Published as JSON Schema in docs/engine-metadata.v1.schema.json (scripts/gen-json-schema.mjs).
 */
export const METADATA_SCHEMA_VERSION = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a lower-case sha256 hex digest (64 characters)");
const dim = z
  .number()
  .int()
  .min(-1)
  .max(1 << 30);
const shape = z.array(dim).max(8);

export const TensorSpecSchema = z.strictObject({
  name: z.string().min(1),
  dtype: z.enum(["float32", "float16", "bfloat16", "int8", "int32", "int64", "bool", "uint8", "fp8"]),
  min_shape: shape,
  opt_shape: shape,
  max_shape: shape,
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

export const HardwareCompatibilityLevelSchema = z.enum(["none", "ampere_plus", "same_compute_capability"]);
export type HardwareCompatibilityLevel = z.infer<typeof HardwareCompatibilityLevelSchema>;

export const COMPUTE_CAPABILITY_PATTERN = /^\d{1,2}\.\d{1,2}$/;

export const GpuSchema = z.strictObject({
  name: z.string().min(1),
  compute_capability: z.string().regex(COMPUTE_CAPABILITY_PATTERN, "major.minor, e.g. 8.6"),
});

export const CalibrationSchema = z.strictObject({
  algorithm: z.enum(["entropy", "percentile", "max", "mse"]),
  dataset_sha256: sha256,
  sample_count: z.number().int().positive(),
  cache_sha256: sha256.nullable(),
  qdq_onnx_sha256: sha256.nullable().optional(),
  /** Activations left in float because their int8 error cost too much accuracy. */
  float_activations: z.array(z.string()).optional(),
});

const figure = z.number().finite();
/** One comparison of the engine's (or its ONNX's) outputs against a reference on real inputs. */
export const AccuracyFigureSchema = z.strictObject({
  reference: z.string().min(1),
  candidate: z.string().min(1),
  output: z.string().min(1),
  samples: z.number().int().positive(),
  max_abs_diff: figure,
  cosine_mean: figure.optional(),
  cosine_min: figure.optional(),
  /** 1st percentile of the per-sample cosines (nearest rank). */
  cosine_p01: figure.optional(),
  label_agreement: figure.min(0).max(1).optional(),
  /** Multi-label heads: share of samples whose whole label set equals the reference's. */
  label_set_agreement: figure.min(0).max(1).optional(),
  /** How logits became labels: argmax (single-label head) or a per-label sigmoid threshold (multi-label head). */
  label_decision: z.enum(["argmax", "sigmoid-threshold"]).optional(),
  label_threshold: figure.gt(0).lt(1).optional(),
  /** The full profile shape this figure was run at; absent: the held-out articles, each batch padded to its longest. */
  shape: z.strictObject({ name: z.string().min(1), batch: z.number().int().positive(), seq_len: z.number().int().positive() }).optional(),
});

export const BuildOptionsSchema = z.looseObject({
  workspace_bytes: z.number().int().positive().optional(),
  builder_optimization_level: z.number().int().min(0).max(5).optional(),
  strongly_typed: z.boolean().optional(),
  opt_batch_size: z.number().int().positive().optional(),
  opt_seq_len: z.number().int().positive().optional(),
  min_seq_len: z.number().int().positive().optional(),
  opset: z.number().int().positive().optional(),
});

export const EngineMetadataSchema = z.strictObject({
  schema_version: z.literal(METADATA_SCHEMA_VERSION),
  kind: z.enum(["engine", "marker"]),
  // The plan's nine fields.
  model_name: z.string().min(1).describe("filename-safe model id, as in the engine name (org--name)"),
  hf_revision: z.string().min(1).describe("the full Hugging Face revision the engine was built from"),
  trt_version: z
    .string()
    .regex(TRT_VERSION_PATTERN, "major.minor[.patch[.build]], e.g. 10.13.3.9")
    .describe("version of the library that built the plan (TensorRT, or TensorRT-RTX where library says so)"),
  precision: z.enum(PRECISIONS),
  build_options: BuildOptionsSchema,
  max_batch_size: z.number().int().positive(),
  seq_len: z.number().int().positive().describe("maximum sequence length of the optimization profile"),
  checksum: sha256.describe("sha256 of the engine file's bytes"),
  created_at: z.iso.datetime({ offset: true }),
  // Beyond the plan.
  task: z.string().regex(TASK_PATTERN),
  model_id: z.string().min(1).describe("Hugging Face model id, e.g. sentence-transformers/all-MiniLM-L6-v2"),
  onnx_sha256: sha256.nullable(),
  inputs: z.array(TensorSpecSchema).min(1),
  outputs: z.array(TensorSpecSchema).min(1),
  gpu: GpuSchema.nullable().describe("the GPU that built the engine; null for markers"),
  cuda_version: z.string().nullable(),
  hardware_compatibility_level: HardwareCompatibilityLevelSchema,
  version_compatible: z.boolean(),
  calibration: CalibrationSchema.nullable(),
  accuracy: z.array(AccuracyFigureSchema),
  library: z.enum(PLAN_LIBRARIES).optional().describe("the NVIDIA library that built the plan and must load it; absent: tensorrt"),
  target_compute_capabilities: z
    .array(z.string().regex(COMPUTE_CAPABILITY_PATTERN))
    .min(1)
    .optional()
    .describe("TensorRT-RTX: the compute capabilities the plan was compiled for (it was built without a GPU)"),
  builder: z.strictObject({
    name: z.string().min(1),
    version: z.string().min(1),
    git_commit: z
      .string()
      .regex(/^[0-9a-f]{7,40}$/)
      .nullable(),
  }),
});

export type EngineMetadata = z.infer<typeof EngineMetadataSchema>;

export function engineMetadataJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://trtforge.invalid/schemas/engine-metadata.v1.schema.json",
    title: "trtforge engine metadata v1",
    ...z.toJSONSchema(EngineMetadataSchema, { target: "draft-2020-12" }),
  };
}
