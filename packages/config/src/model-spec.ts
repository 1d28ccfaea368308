import type { ForgeError } from "@trtforge/core";
import type { HfTask, Precision, ShapeLimits } from "@trtforge/engine-format";
import { formatKeyPath, type KeyPath } from "./key-path.js";
import { locatedError } from "./located-error.js";
import {
  MAX_BATCH_SIZE_LIMIT,
  MAX_SEQ_LEN_LIMIT,
  MODEL_INPUTS,
  MODELS_FIELD_RULES,
  type ModelDefaults,
  type ModelEntry,
} from "./models-schema.js";
import type { YamlFile } from "./yaml-file.js";

export type ModelInput = (typeof MODEL_INPUTS)[number];
/** A dimension of an output tensor: the dynamic batch or sequence axis, or a fixed size. */
export type OutputDim = "batch" | "seq" | number;

export interface ModelOutput {
  name: string;
  dims: readonly OutputDim[];
}

/** One entry of conf/models.yaml with the file's defaults applied. */
export interface ModelSpec extends ShapeLimits {
  taskName: string;
  modelId: string;
  revision: string;
  hfTask: HfTask;
  agent: string;
  inputs: readonly ModelInput[];
  outputs: readonly ModelOutput[];
  precisions: readonly Precision[];
  trtVersion: string;
}

/** A value after defaults are merged, with the key path it was written at. */
interface Sourced<T> {
  value: T;
  path: KeyPath;
}

type DefaultableKey = keyof ModelDefaults & keyof ModelEntry;

/** Applies `defaults` to the entry at `models[index]` and checks the limits that relate keys. */
export function toModelSpec(file: YamlFile, entry: ModelEntry, index: number, defaults: ModelDefaults): ModelSpec {
  const modelPath = ["models", index];
  const merged = <K extends DefaultableKey>(key: K): Sourced<NonNullable<ModelEntry[K]>> => {
    const own = entry[key];
    if (own !== undefined) return { value: own as NonNullable<ModelEntry[K]>, path: [...modelPath, key] };
    const inherited = defaults[key];
    if (inherited !== undefined) return { value: inherited as NonNullable<ModelEntry[K]>, path: ["defaults", key] };
    throw locatedError(file, "CONFIG_INVALID", [...modelPath, key], {
      problem: `is missing and defaults.${key} is not set`,
      allowed: MODELS_FIELD_RULES[key].allowed,
      fix: `add "${key}:" to this model entry or to defaults`,
    });
  };

  const maxBatch: Sourced<number> = { value: entry.max_batch_size, path: [...modelPath, "max_batch_size"] };
  const optBatch: Sourced<number> = {
    value: entry.opt_batch_size ?? Math.ceil(entry.max_batch_size / 2),
    path: [...modelPath, "opt_batch_size"],
  };
  const minSeq = merged("min_seq_len");
  const optSeq = merged("opt_seq_len");
  const seqLen: Sourced<number> = { value: entry.seq_len, path: [...modelPath, "seq_len"] };
  assertOrdered(file, modelPath, optBatch, maxBatch, MAX_BATCH_SIZE_LIMIT);
  assertOrdered(file, modelPath, minSeq, optSeq, MAX_SEQ_LEN_LIMIT);
  assertOrdered(file, modelPath, optSeq, seqLen, MAX_SEQ_LEN_LIMIT);

  return {
    taskName: entry.task,
    modelId: entry.model_id,
    revision: entry.revision,
    hfTask: entry.hf_task,
    agent: entry.agent,
    maxBatchSize: maxBatch.value,
    optBatchSize: optBatch.value,
    minSeqLen: minSeq.value,
    optSeqLen: optSeq.value,
    seqLen: seqLen.value,
    inputs: entry.inputs,
    outputs: entry.outputs.map((output) => ({ name: output.name, dims: output.dims })),
    precisions: merged("precisions").value,
    trtVersion: merged("trt_version").value,
  };
}

function isOwnKey(modelPath: KeyPath, sourced: Sourced<unknown>): boolean {
  return sourced.path[0] === modelPath[0] && sourced.path[1] === modelPath[1];
}

/**
 * Requires lower <= upper (an optimisation profile is min <= opt <= max). The error points at the
 * key the user most likely has to change: one written in this model entry rather than a default.
 */
function assertOrdered(file: YamlFile, modelPath: KeyPath, lower: Sourced<number>, upper: Sourced<number>, ceiling: number): void {
  if (lower.value <= upper.value) return;
  const lowerKey = String(lower.path[lower.path.length - 1]);
  const upperKey = String(upper.path[upper.path.length - 1]);
  const origin = (sourced: Sourced<number>) => (isOwnKey(modelPath, sourced) ? "" : ` (from ${formatKeyPath(sourced.path)})`);
  // A default shared by all models is best overridden in this entry when the other key is the entry's own.
  const changeHint = (sourced: Sourced<number>, other: Sourced<number>, key: string) =>
    isOwnKey(modelPath, sourced) || !isOwnKey(modelPath, other)
      ? formatKeyPath(sourced.path)
      : `${key} (set it in this model entry to override ${formatKeyPath(sourced.path)})`;
  let error: ForgeError;
  if (isOwnKey(modelPath, lower) || !isOwnKey(modelPath, upper)) {
    error = locatedError(file, "INVALID_LIMIT", lower.path, {
      problem: `is ${lower.value}, above ${upperKey} ${upper.value}${origin(upper)}`,
      allowed: `an integer from 1 to ${upperKey} (${upper.value})`,
      fix: `lower ${changeHint(lower, upper, lowerKey)} to at most ${upper.value}, or raise ${upperKey}`,
    });
  } else {
    error = locatedError(file, "INVALID_LIMIT", upper.path, {
      problem: `is ${upper.value}, below ${lowerKey} ${lower.value}${origin(lower)}`,
      allowed: `an integer from ${lowerKey} (${lower.value}) to ${ceiling}`,
      fix: `raise ${formatKeyPath(upper.path)} to at least ${lower.value}, or lower ${changeHint(lower, upper, lowerKey)}`,
    });
  }
  throw error;
}
