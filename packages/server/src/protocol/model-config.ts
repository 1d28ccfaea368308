import type { ServedModel, TensorSpec } from "@trtforge/runtime";
import type { BatchingSettings } from "../endpoint.js";
import { evidenceParameters, inputAlternatives, TEXT_INPUT_NAME } from "./metadata.js";

/** Triton's DataType names (model_config.proto) for the protocol datatypes this server uses. */
const TRITON_TYPES: Record<string, string> = {
  BOOL: "TYPE_BOOL",
  INT32: "TYPE_INT32",
  INT64: "TYPE_INT64",
  FP16: "TYPE_FP16",
  FP32: "TYPE_FP32",
  BYTES: "TYPE_STRING",
};

/**
 * The model's configuration in the form of Triton's model configuration extension
 * (`GET /v2/models/{m}/config`: the `ModelConfig` protobuf as JSON, field names as in
 * model_config.proto). perf_analyzer and model_analyzer read it to learn the batch limit, the
 * inputs and which of them may be left out, and the scheduler.
 *
 * `max_batch_size` > 0, so `dims` leave the batch dimension out. Every input is `optional`: a
 * request sends either `text` or the token inputs (`input_ids`, with `attention_mask` and
 * `token_type_ids` defaulting when absent), never both; the server refuses a request with both or
 * neither. A per-row scalar (`text`, a classifier's `label`) is `dims: [1]` with `reshape: {shape: []}`,
 * Triton's way of saying that `[rows]` and `[rows, 1]` are both accepted.
 */
export function modelConfig(model: ServedModel, batching: BatchingSettings | undefined): Record<string, unknown> {
  const onTensorRt = model.evidence.backend === "tensorrt";
  const onGpu = onTensorRt || model.evidence.execution_provider === "cuda";
  const perRow = (spec: TensorSpec): { dims: number[]; reshape?: { shape: number[] } } => {
    const dims = spec.shape.slice(1);
    return dims.length === 0 ? { dims: [1], reshape: { shape: [] } } : { dims };
  };
  const input = (spec: TensorSpec) => ({
    name: spec.name,
    data_type: TRITON_TYPES[spec.datatype] ?? `TYPE_${spec.datatype}`,
    format: "FORMAT_NONE",
    ...perRow(spec),
    is_shape_tensor: false,
    allow_ragged_batch: false,
    optional: true,
  });
  const parameters: Record<string, { string_value: string }> = {};
  const flat: Record<string, string> = {
    ...evidenceParameters(model.evidence),
    kind: model.kind,
    max_sequence_length: String(model.profile.sequence.max),
    input_alternatives: inputAlternatives(model),
    ...(model.labels === undefined ? {} : { labels: model.labels.join(",") }),
  };
  for (const [key, value] of Object.entries(flat)) parameters[key] = { string_value: value };
  return {
    name: model.agent,
    platform: onTensorRt ? "tensorrt_plan" : "onnxruntime_onnx",
    backend: onTensorRt ? "tensorrt" : "onnxruntime",
    // Store versions are names, not Triton's integers: the policy says "the one serving".
    version_policy: { latest: { num_versions: 1 } },
    max_batch_size: model.profile.batch.max,
    input: [input({ name: TEXT_INPUT_NAME, datatype: "BYTES", shape: [-1] }), ...model.inputs.map(input)],
    output: model.outputs.map((spec) => ({
      name: spec.name,
      data_type: TRITON_TYPES[spec.datatype] ?? `TYPE_${spec.datatype}`,
      ...perRow(spec),
      label_filename: "",
      is_shape_tensor: false,
    })),
    batch_input: [],
    batch_output: [],
    dynamic_batching: {
      preferred_batch_size: [],
      max_queue_delay_microseconds: Math.round((batching?.maxQueueDelayMs ?? 0) * 1000),
      preserve_ordering: false,
      priority_levels: 0,
      default_priority_level: 0,
      ...(batching === undefined
        ? {}
        : {
            default_queue_policy: {
              timeout_action: "REJECT",
              default_timeout_microseconds: 0,
              allow_timeout_override: false,
              max_queue_size: batching.maxQueue,
            },
          }),
    },
    // This process's one instance; a supervisor with several workers restates it (withInstances).
    instance_group: [{ name: `${model.agent}_0`, kind: onGpu ? "KIND_GPU" : "KIND_CPU", count: 1, gpus: onGpu ? [0] : [] }],
    default_model_filename: model.evidence.artifact,
    cc_model_filenames: {},
    metric_tags: {},
    parameters,
    model_warmup: [],
  };
}

/**
 * A worker's configuration reply restated for the whole server: `instance_group` counts every
 * worker process that holds the model (one instance each, as each runs its own copy), of the kind
 * the answering worker runs on (KIND_GPU: TensorRT, or ONNX Runtime's CUDA provider), with the GPUs
 * those workers are pinned to (nvidia-smi indices). A body that is not a configuration is returned
 * as it is.
 */
export function withInstances(body: Buffer, agent: string, workers: readonly { gpu: number | undefined }[]): Buffer {
  let config: { instance_group?: { kind?: string }[] };
  try {
    config = JSON.parse(body.toString("utf8")) as typeof config;
  } catch {
    return body;
  }
  const kind = config.instance_group?.[0]?.kind;
  if (kind !== "KIND_GPU" && kind !== "KIND_CPU") return body;
  const gpus = workers.flatMap((worker) => (worker.gpu === undefined ? [] : [worker.gpu]));
  const group = {
    name: `${agent}_0`,
    kind,
    count: kind === "KIND_GPU" ? Math.max(1, gpus.length) : workers.length,
    gpus: kind === "KIND_GPU" ? gpus : [],
  };
  return Buffer.from(JSON.stringify({ ...config, instance_group: [group] }));
}
