import type { TensorIo } from "./onnx-io.js";
import { PbMap, pbEnum, type PbMessage } from "./pbtxt.js";

/** What every exported model's config records about the store version behind each Triton version. */
export interface VersionFacts {
  number: number;
  storeVersion: string;
  modelId: string | null;
  revision: string | null;
  trtVersion: string | null;
  checksum: string;
}

export interface Placement {
  /** Where the engine runs: GPU ids from the device map; empty means every GPU Triton sees. */
  gpus: readonly number[];
}

export type VersionPolicy = { kind: "specific"; versions: number[] } | { kind: "all" };

export interface Warmup {
  /** Input name → [dims without batch, file under <model>/warmup/]. */
  inputs: ReadonlyArray<{ name: string; dataType: string; dims: number[]; file: string }>;
}

/** `parameters` naming each Triton version's store version, model, revision, TensorRT version and checksum. */
export function versionParameters(facts: readonly VersionFacts[], extra: ReadonlyArray<readonly [string, string]> = []): PbMap {
  const entries: Array<readonly [string, PbMessage]> = [];
  for (const f of facts) {
    const prefix = `trtforge.${f.number}`;
    entries.push([`${prefix}.store_version`, { string_value: f.storeVersion }]);
    entries.push([`${prefix}.model_id`, { string_value: f.modelId ?? "" }]);
    entries.push([`${prefix}.revision`, { string_value: f.revision ?? "" }]);
    entries.push([`${prefix}.trt_version`, { string_value: f.trtVersion ?? "" }]);
    entries.push([`${prefix}.checksum`, { string_value: f.checksum }]);
  }
  for (const [key, value] of extra) entries.push([key, { string_value: value }]);
  return new PbMap(entries);
}

function policy(p: VersionPolicy): PbMessage {
  return p.kind === "all" ? { all: {} } : { specific: { versions: p.versions } };
}

function tensor(io: TensorIo, withoutBatch: boolean): PbMessage {
  return { name: io.name, data_type: pbEnum(io.dataType), dims: withoutBatch ? io.dims.slice(1) : io.dims };
}

function warmupEntries(name: string, warmup: Warmup | undefined, batchSize: number): PbMessage[] | undefined {
  if (warmup === undefined) return undefined;
  return [
    {
      name,
      batch_size: batchSize,
      inputs: new PbMap(
        warmup.inputs.map((i) => [i.name, { data_type: pbEnum(i.dataType), dims: i.dims, input_data_file: i.file }] as const),
      ),
    },
  ];
}

export interface BatchedModelConfig {
  name: string;
  /** tensorrt_plan or onnxruntime_onnx; "python" writes the test-only stand-in's backend instead. */
  platform: "tensorrt_plan" | "onnxruntime_onnx" | "python";
  maxBatchSize: number;
  preferredBatchSize: number;
  inputs: readonly TensorIo[];
  outputs: readonly TensorIo[];
  placement: Placement;
  versionPolicy: VersionPolicy;
  facts: readonly VersionFacts[];
  warmup?: Warmup;
  /** compute capability → plan file name, when plans for several GPUs exist. */
  ccModelFilenames?: ReadonlyArray<readonly [string, string]>;
  extraParameters?: ReadonlyArray<readonly [string, string]>;
}

/** Config of the engine (`tensorrt_plan`) or its ONNX (`onnxruntime_onnx`): batch dim left out of dims. */
export function batchedModelConfig(c: BatchedModelConfig): PbMessage {
  const instance: PbMessage = {
    count: 1,
    kind: pbEnum("KIND_GPU"),
    ...(c.placement.gpus.length > 0 ? { gpus: [...c.placement.gpus] } : {}),
  };
  return {
    name: c.name,
    ...(c.platform === "python" ? { backend: "python" } : { platform: c.platform }),
    max_batch_size: c.maxBatchSize,
    version_policy: policy(c.versionPolicy),
    input: c.inputs.map((i) => tensor(i, true)),
    output: c.outputs.map((o) => tensor(o, true)),
    dynamic_batching: {
      preferred_batch_size: [Math.min(c.preferredBatchSize, c.maxBatchSize)],
      // serve-engine's batcher waits up to 5 ms for a batch to fill; Triton's queue delay is in microseconds.
      max_queue_delay_microseconds: 5000,
    },
    // The stand-in runs on the CPU (the CI wheel has no GPU); a real export places the model on GPUs.
    instance_group: [c.platform === "python" ? { count: 1, kind: pbEnum("KIND_CPU") } : instance],
    ...(c.ccModelFilenames === undefined ? {} : { cc_model_filenames: new PbMap(c.ccModelFilenames) }),
    parameters: versionParameters(c.facts, c.extraParameters),
    model_warmup: warmupEntries("real_tokens", c.warmup, 1),
  };
}

/** The Python-backend tokenizer: TEXT (BYTES [-1]) in, the model's token inputs (INT64 [-1, -1]) out. */
export function tokenizeModelConfig(c: {
  name: string;
  inputNames: readonly string[];
  versionPolicy: VersionPolicy;
  facts: readonly VersionFacts[];
  warmup: Warmup;
}): PbMessage {
  return {
    name: c.name,
    backend: "python",
    // Rows are counted by the text tensor itself, as serve-engine takes `text` [N]: no Triton batch dim.
    max_batch_size: 0,
    version_policy: policy(c.versionPolicy),
    input: [{ name: "TEXT", data_type: pbEnum("TYPE_STRING"), dims: [-1] }],
    output: c.inputNames.map((name) => ({ name, data_type: pbEnum("TYPE_INT64"), dims: [-1, -1] })),
    instance_group: [{ count: 1, kind: pbEnum("KIND_CPU") }],
    parameters: versionParameters(c.facts),
    model_warmup: warmupEntries("news_text", c.warmup, 1),
  };
}

/** The classifier head: logits in, label (BYTES) and probabilities (FP32) out, as serve-engine adds them. */
export function labelsModelConfig(c: {
  name: string;
  logits: TensorIo;
  classes: number;
  versionPolicy: VersionPolicy;
  facts: readonly VersionFacts[];
}): PbMessage {
  return {
    name: c.name,
    backend: "python",
    max_batch_size: 0,
    version_policy: policy(c.versionPolicy),
    input: [{ name: c.logits.name, data_type: pbEnum("TYPE_FP32"), dims: [-1, c.classes] }],
    output: [
      { name: "label", data_type: pbEnum("TYPE_STRING"), dims: [-1] },
      { name: "probabilities", data_type: pbEnum("TYPE_FP32"), dims: [-1, c.classes] },
    ],
    instance_group: [{ count: 1, kind: pbEnum("KIND_CPU") }],
    parameters: versionParameters(c.facts),
  };
}

/** `<name>_text`: text → tokenizer → engine (→ labels), taking and returning what serve-engine does. */
export function ensembleConfig(c: {
  name: string;
  tokenizer: string;
  inputNames: readonly string[];
  model: string;
  modelOutputs: readonly TensorIo[];
  labels?: { model: string; logits: string; classes: number };
}): PbMessage {
  const outputs: PbMessage[] = c.modelOutputs.map((o) => ({ name: o.name, data_type: pbEnum(o.dataType), dims: o.dims }));
  const steps: PbMessage[] = [
    {
      model_name: c.tokenizer,
      model_version: -1,
      input_map: new PbMap([["TEXT", "text"]]),
      output_map: new PbMap(c.inputNames.map((n) => [n, `tokens_${n}`] as const)),
    },
    {
      model_name: c.model,
      model_version: -1,
      input_map: new PbMap(c.inputNames.map((n) => [n, `tokens_${n}`] as const)),
      output_map: new PbMap(c.modelOutputs.map((o) => [o.name, o.name] as const)),
    },
  ];
  if (c.labels !== undefined) {
    steps.push({
      model_name: c.labels.model,
      model_version: -1,
      input_map: new PbMap([[c.labels.logits, c.labels.logits]]),
      output_map: new PbMap([
        ["label", "label"],
        ["probabilities", "probabilities"],
      ]),
    });
    outputs.push({ name: "label", data_type: pbEnum("TYPE_STRING"), dims: [-1] });
    outputs.push({ name: "probabilities", data_type: pbEnum("TYPE_FP32"), dims: [-1, c.labels.classes] });
  }
  return {
    name: c.name,
    platform: "ensemble",
    max_batch_size: 0,
    input: [{ name: "text", data_type: pbEnum("TYPE_STRING"), dims: [-1] }],
    output: outputs,
    ensemble_scheduling: { step: steps },
  };
}
