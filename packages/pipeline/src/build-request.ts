import { ForgeError } from "@trtforge/core";
import {
  HF_TASK_CHOICES,
  HardwareCompatibilityLevelSchema,
  PLAN_LIBRARIES,
  parsePrecision,
  parseTrtVersion,
  PROFILE_LIMITS,
  type HardwareCompatibilityLevel,
  type HfTaskChoice,
  type Precision,
} from "@trtforge/engine-format";
import {
  CALIBRATION_ALGORITHMS,
  DEFAULT_SAMPLE_STRIDE,
  TENSOR_SCOPES,
  type CalibrationAlgorithm,
  type TensorScope,
} from "@trtforge/calibration";
import type { ModelSpec } from "@trtforge/config";
import { checkRtxOptions, TRTRTX_VERSION } from "@trtforge/builder";
import type { TrtBuildOptions } from "./build-options.js";

export const TYPINGS = ["strong", "weak"] as const;
export type Typing = (typeof TYPINGS)[number];

/**
 * What a build asks for, as a caller gives it: every field optional, numbers as numbers or as the
 * text of a command-line flag. normalizeBuildRequest() turns it into a BuildRequest; the CLI and a
 * library caller go through the same function, so they get the same defaults and the same errors.
 */
export interface BuildRequestInput {
  /** The Hugging Face id, when known before export (--model-id, or the ModelStore's record). */
  modelId?: string | undefined;
  taskName?: string | undefined;
  hfTask?: string | undefined;
  precision?: string | undefined;
  typing?: string | undefined;
  trtVersion?: string | undefined;
  maxBatch?: number | string | undefined;
  optBatch?: number | string | undefined;
  minSequenceLength?: number | string | undefined;
  sequenceLength?: number | string | undefined;
  optSequenceLength?: number | string | undefined;
  workspaceMiB?: number | string | undefined;
  optLevel?: number | string | undefined;
  hardwareCompatibility?: string | undefined;
  versionCompatible?: boolean | undefined;
  /** Articles for calibration and accuracy (also the export references). */
  articles?: string | undefined;
  /** Malformed article rows fail the run instead of being counted and skipped. */
  strictArticles?: boolean | undefined;
  calibrationSamples?: number | string | undefined;
  heldOut?: number | string | undefined;
  calibrationBatch?: number | string | undefined;
  calibrationAlgorithm?: string | undefined;
  percentile?: number | string | undefined;
  /** "auto": the Q/DQ sites for strong typing, every float activation for weak typing. */
  calibrationTensors?: string | undefined;
  calibrationSampleStride?: number | string | undefined;
  minCosine?: number | string | undefined;
  /** 0 disables the int8 float fallback. */
  int8TargetCosine?: number | string | undefined;
  /** int8 Q/DQ: the largest share of MatMuls the measured sensitivity may keep in float (0 to 1; 0 keeps every MatMul in int8). */
  int8FloatShare?: number | string | undefined;
  seed?: number | string | undefined;
  opset?: number | string | undefined;
  /** The GPU to build on. */
  device?: number | string | undefined;
  /** "tensorrt" (the addon) or "tensorrt-rtx" (Python, no GPU needed). */
  builder?: string | undefined;
  /** TensorRT-RTX targets: "86", "8.6", or a comma-separated list; repeatable. */
  computeCapability?: string | readonly string[] | undefined;
}

export type RequestField = Exclude<keyof BuildRequestInput, "modelId">;

/**
 * Where a value of the request came from: the caller ("flag"), the build matrix entry that matched
 * the model, the built-in default, or the host (the TensorRT version the addon builds with).
 */
export type ValueSource = "flag" | "default" | "host" | `models.yaml entry ${string}`;

/** The command-line flag of each field: errors name it, so a library caller and the CLI read the same text. */
export const REQUEST_FLAGS: Record<RequestField, string> = {
  taskName: "--task-name",
  hfTask: "--task",
  precision: "--precision",
  typing: "--typing",
  trtVersion: "--trt-version",
  maxBatch: "--max-batch",
  optBatch: "--opt-batch",
  minSequenceLength: "--min-sequence-length",
  sequenceLength: "--sequence-length",
  optSequenceLength: "--opt-sequence-length",
  workspaceMiB: "--workspace",
  optLevel: "--opt-level",
  hardwareCompatibility: "--hardware-compatibility",
  versionCompatible: "--version-compatible",
  articles: "--calibrate",
  strictArticles: "--strict-articles",
  calibrationSamples: "--calibration-samples",
  heldOut: "--held-out",
  calibrationBatch: "--calibration-batch",
  calibrationAlgorithm: "--calibration-algorithm",
  percentile: "--percentile",
  calibrationTensors: "--calibration-tensors",
  calibrationSampleStride: "--calibration-sample-stride",
  minCosine: "--min-cosine",
  int8TargetCosine: "--int8-target-cosine",
  int8FloatShare: "--int8-float-share",
  seed: "--seed",
  opset: "--opset",
  device: "--device",
  builder: "--builder",
  computeCapability: "--compute-capability",
};

/** The built-in defaults, used where neither the caller nor a build matrix entry sets a value. */
export const BUILD_DEFAULTS = {
  hfTask: "auto",
  precision: "fp16",
  typing: "strong",
  trtVersion: "10.16.0",
  maxBatch: 32,
  minSequenceLength: 1,
  sequenceLength: 256,
  optSequenceLength: 128,
  workspaceMiB: 2048,
  optLevel: 3,
  hardwareCompatibility: "none",
  versionCompatible: false,
  strictArticles: false,
  calibrationSamples: 512,
  heldOut: 200,
  calibrationBatch: 32,
  calibrationAlgorithm: "max",
  calibrationTensors: "auto",
  calibrationSampleStride: DEFAULT_SAMPLE_STRIDE,
  int8TargetCosine: 0.99,
  int8FloatShare: 0.1,
  seed: 0,
  opset: 17,
  device: 0,
  builder: "tensorrt",
} as const;

export interface CalibrationRequest {
  /** Undefined: the caller's default articles (the CLI passes conf/samples). */
  articles: string;
  strictArticles: boolean;
  samples: number;
  heldOut: number;
  batchSize: number;
  algorithm: CalibrationAlgorithm;
  percentile: number | undefined;
  tensors: TensorScope;
  sampleStride: number;
  minCosine: number | undefined;
  int8TargetCosine: number | undefined;
  /** Share of MatMuls the int8 Q/DQ model's measured sensitivity may keep in float. */
  int8FloatShare: number;
  seed: number;
}

/** A build request with every value settled, range-checked, and its source recorded. */
export interface BuildRequest {
  modelId: string | undefined;
  /** Undefined: decided after export from the exported task (embeddings or classification). */
  taskName: string | undefined;
  hfTask: HfTaskChoice;
  /** The task of the build matrix entry whose values are the defaults, if one matched. */
  matrixEntry: string | undefined;
  build: TrtBuildOptions;
  calibration: CalibrationRequest;
  opset: number;
  deviceId: number;
  sources: Partial<Record<RequestField, ValueSource>>;
}

export interface NormalizeOptions {
  /** The build matrix (conf/models.yaml); an entry matching the task name or model id gives the defaults. */
  matrix?: readonly ModelSpec[] | undefined;
  /** The articles used when the request names none. */
  defaultArticles: string;
}

/**
 * The build matrix entry for a request: the one named by the task name (when its model id agrees
 * with a known one), else the only one for the model id. Undefined when none or several match.
 */
export function matchMatrixEntry(
  matrix: readonly ModelSpec[],
  taskName: string | undefined,
  modelId: string | undefined,
): ModelSpec | undefined {
  if (taskName !== undefined) {
    const entry = matrix.find((m) => m.taskName === taskName);
    return entry && (modelId === undefined || entry.modelId === modelId) ? entry : undefined;
  }
  if (modelId === undefined) return undefined;
  const entries = matrix.filter((m) => m.modelId === modelId);
  return entries.length === 1 ? entries[0] : undefined;
}

function limitError(field: RequestField, message: string, fix: string): ForgeError {
  const flag = REQUEST_FLAGS[field];
  return new ForgeError("INVALID_LIMIT", `${flag} ${message}`, { input: flag, fix });
}

function wholeNumber(value: number | string, field: RequestField): number {
  const flag = REQUEST_FLAGS[field];
  const number = typeof value === "number" ? value : /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number)) throw limitError(field, `must be a whole number, got "${value}"`, `pass ${flag} <integer>`);
  return number;
}

function decimal(value: number | string, field: RequestField): number {
  const flag = REQUEST_FLAGS[field];
  const number = typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(number)) throw limitError(field, `must be a number, got "${value}"`, `pass ${flag} <number>`);
  return number;
}

function inRange(value: number, field: RequestField, min: number, max: number, fix: string): number {
  if (value < min || value > max) throw limitError(field, `must be from ${min} to ${max}, got ${value}`, fix);
  return value;
}

function choice<T extends string>(value: string, field: RequestField, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const flag = REQUEST_FLAGS[field];
  throw new ForgeError("INVALID_OPTION", `${flag} "${value}" is not one of ${allowed.join(", ")}`, {
    input: flag,
    fix: `pass ${flag} ${allowed.join("|")}`,
  });
}

/** A value with where it came from, and the label an error uses to name it. */
interface Picked<T> {
  value: T;
  source: ValueSource;
  label: string;
}

function describe(field: RequestField, matrixKey: string, picked: Picked<number>): string {
  if (picked.source === "flag") return `${REQUEST_FLAGS[field]} ${picked.value}`;
  if (picked.source === "default") return `${REQUEST_FLAGS[field]} ${picked.value} (the default)`;
  return `${matrixKey} ${picked.value} (${picked.source})`;
}

/** Refuses an optimum outside [minimum, maximum]: it is never moved, since the caller may not know it was. */
function assertOrdered(lower: Picked<number>, upper: Picked<number>, lowerField: RequestField): void {
  if (lower.value <= upper.value) return;
  throw new ForgeError("INVALID_LIMIT", `${lower.label} is above ${upper.label}`, {
    input: REQUEST_FLAGS[lowerField],
    fix: `pass ${REQUEST_FLAGS[lowerField]} of at most ${upper.value}, or raise the maximum`,
  });
}

/** The batch and sequence profile: min <= opt <= max, each from the caller, the matrix entry or the default. */
export function normalizeProfile(
  input: Pick<BuildRequestInput, "maxBatch" | "optBatch" | "minSequenceLength" | "sequenceLength" | "optSequenceLength">,
  entry: ModelSpec | undefined,
): {
  limits: Pick<TrtBuildOptions, "maxBatchSize" | "optBatchSize" | "minSeqLen" | "optSeqLen" | "seqLen">;
  sources: Partial<Record<RequestField, ValueSource>>;
} {
  const entrySource: ValueSource | undefined = entry ? `models.yaml entry ${entry.taskName}` : undefined;
  const pick = (
    field: RequestField & keyof typeof input,
    matrixKey: string,
    fromEntry: number | undefined,
    fallback: () => number,
    check: (n: number) => number,
  ): Picked<number> => {
    const given = input[field];
    let picked: Omit<Picked<number>, "label">;
    if (given !== undefined) picked = { value: wholeNumber(given, field), source: "flag" };
    else if (fromEntry !== undefined && entrySource) picked = { value: fromEntry, source: entrySource };
    else picked = { value: fallback(), source: "default" };
    const value = check(picked.value);
    return { value, source: picked.source, label: describe(field, matrixKey, { ...picked, label: "" }) };
  };
  const batch = (field: RequestField) => (n: number) =>
    inRange(
      n,
      field,
      1,
      PROFILE_LIMITS.maxBatchSize,
      `pass a batch size from 1 to ${PROFILE_LIMITS.maxBatchSize} (JustNewsAgent engines used 100)`,
    );
  const seq = (field: RequestField) => (n: number) =>
    inRange(
      n,
      field,
      1,
      PROFILE_LIMITS.seqLen,
      `pass a sequence length from 1 to ${PROFILE_LIMITS.seqLen}, at most the model's position table (512 for BERT and RoBERTa)`,
    );

  const maxBatch = pick("maxBatch", "max_batch_size", entry?.maxBatchSize, () => BUILD_DEFAULTS.maxBatch, batch("maxBatch"));
  // The matrix's optimum was tuned for the matrix's maximum; a maximum from elsewhere gets the built-in rule.
  const optBatch = pick(
    "optBatch",
    "opt_batch_size",
    maxBatch.source === entrySource ? entry?.optBatchSize : undefined,
    () => Math.ceil(maxBatch.value / 2),
    batch("optBatch"),
  );
  const seqLen = pick("sequenceLength", "seq_len", entry?.seqLen, () => BUILD_DEFAULTS.sequenceLength, seq("sequenceLength"));
  const optSeq = pick(
    "optSequenceLength",
    "opt_seq_len",
    entry?.optSeqLen,
    () => BUILD_DEFAULTS.optSequenceLength,
    seq("optSequenceLength"),
  );
  const minSeq = pick(
    "minSequenceLength",
    "min_seq_len",
    entry?.minSeqLen,
    () => BUILD_DEFAULTS.minSequenceLength,
    seq("minSequenceLength"),
  );
  assertOrdered(optBatch, maxBatch, "optBatch");
  assertOrdered(optSeq, seqLen, "optSequenceLength");
  assertOrdered(minSeq, optSeq, "minSequenceLength");
  return {
    limits: {
      maxBatchSize: maxBatch.value,
      optBatchSize: optBatch.value,
      minSeqLen: minSeq.value,
      optSeqLen: optSeq.value,
      seqLen: seqLen.value,
    },
    sources: {
      maxBatch: maxBatch.source,
      optBatch: optBatch.source,
      sequenceLength: seqLen.source,
      optSequenceLength: optSeq.source,
      minSequenceLength: minSeq.source,
    },
  };
}

/** A --trt-version value that is a TensorRT version (major.minor[.patch[.build]]), else INVALID_OPTION. */
export function assertTrtVersionOption(value: string): string {
  if (!parseTrtVersion(value)) {
    throw new ForgeError("INVALID_OPTION", `${REQUEST_FLAGS.trtVersion} "${value}" is not a TensorRT version`, {
      input: REQUEST_FLAGS.trtVersion,
      fix: "e.g. 10.16.0 or 11.1.0",
    });
  }
  return value;
}

/** A TensorRT version such as 10.16.0; weak typing only exists before TensorRT 11. */
export function assertTypingPossible(typing: Typing, trtVersion: string, why: string): void {
  const parsed = parseTrtVersion(trtVersion);
  if (typing === "weak" && parsed && parsed.major >= 11) {
    throw new ForgeError(
      "TRT_MODE_REMOVED",
      `TensorRT 11 removed weak typing (builder precision flags and calibrators); ${why} is ${trtVersion}`,
      {
        input: REQUEST_FLAGS.typing,
        fix: "use --typing strong: the precision then comes from the Q/DQ or fp16 ONNX this tool writes",
      },
    );
  }
}

/**
 * Settles every value of a build before any work: caller's value, else the matching build matrix
 * entry's, else the built-in default; each range-checked with a typed error naming the flag, each
 * with its source recorded. An optimum outside [minimum, maximum] is refused, never clamped.
 */
export function normalizeBuildRequest(input: BuildRequestInput, options: NormalizeOptions): BuildRequest {
  const sources: Partial<Record<RequestField, ValueSource>> = {};
  const taskName = input.taskName;
  const entry = options.matrix ? matchMatrixEntry(options.matrix, taskName, input.modelId) : undefined;
  const entrySource: ValueSource | undefined = entry ? `models.yaml entry ${entry.taskName}` : undefined;
  function given<K extends RequestField>(
    field: K,
    fromEntry?: NonNullable<BuildRequestInput[K]>,
  ): NonNullable<BuildRequestInput[K]> | undefined {
    const value = input[field];
    if (value !== undefined) {
      sources[field] = "flag";
      return value as NonNullable<BuildRequestInput[K]>;
    }
    if (fromEntry !== undefined && entrySource) {
      sources[field] = entrySource;
      return fromEntry;
    }
    if (field in BUILD_DEFAULTS) sources[field] = "default";
    return undefined;
  }
  const orDefault = <K extends RequestField & keyof typeof BUILD_DEFAULTS>(field: K, fromEntry?: NonNullable<BuildRequestInput[K]>) =>
    given(field, fromEntry) ?? BUILD_DEFAULTS[field];

  if (taskName !== undefined) sources.taskName = "flag";
  else if (entry) sources.taskName = entrySource!;
  const hfTask = choice(String(orDefault("hfTask", entry?.hfTask)), "hfTask", HF_TASK_CHOICES);
  // The matrix lists the precisions a task is built in; a run builds one, the first unless asked.
  const precision: Precision = parsePrecision(String(orDefault("precision", entry?.precisions[0])), REQUEST_FLAGS.precision);
  const typing = choice(String(orDefault("typing")), "typing", TYPINGS);
  const engineBuilder = choice(String(orDefault("builder")), "builder", PLAN_LIBRARIES);
  const ccGiven = input.computeCapability === undefined ? [] : [input.computeCapability].flat().flatMap((v) => v.split(","));
  if (ccGiven.length > 0) sources.computeCapability = "flag";
  if (engineBuilder === "tensorrt" && ccGiven.length > 0) {
    throw new ForgeError("INVALID_OPTION", "--compute-capability applies to --builder tensorrt-rtx only", {
      input: "--compute-capability",
      fix: "TensorRT builds for the GPU it runs on (or --hardware-compatibility ampere_plus); pass --builder tensorrt-rtx to choose targets",
    });
  }
  if (engineBuilder === "tensorrt-rtx" && typing === "weak") {
    throw new ForgeError("INVALID_OPTION", "--builder tensorrt-rtx builds strongly typed networks only, not --typing weak", {
      input: "--typing",
      fix: "drop --typing weak (the fp16 ONNX carries the precision)",
    });
  }
  // TensorRT-RTX checks int8 and its targets here, before the export starts.
  const computeCapabilities = engineBuilder === "tensorrt-rtx" ? checkRtxOptions(precision, ccGiven) : undefined;
  const trtVersion =
    engineBuilder === "tensorrt-rtx" ? TRTRTX_VERSION : assertTrtVersionOption(String(orDefault("trtVersion", entry?.trtVersion)));
  if (engineBuilder === "tensorrt") assertTypingPossible(typing, trtVersion, "the requested TensorRT");
  const profile = normalizeProfile(input, entry);
  Object.assign(sources, profile.sources);

  const optLevel = inRange(wholeNumber(orDefault("optLevel"), "optLevel"), "optLevel", 0, 5, "pass --opt-level 3 (TensorRT's default)");
  const workspaceMiB = inRange(
    wholeNumber(orDefault("workspaceMiB"), "workspaceMiB"),
    "workspaceMiB",
    16,
    1024 * 1024,
    "pass --workspace 2048 (JustNewsAgent's 2 GiB)",
  );
  const hardwareCompatibility: HardwareCompatibilityLevel = choice(
    String(orDefault("hardwareCompatibility")),
    "hardwareCompatibility",
    HardwareCompatibilityLevelSchema.options,
  );
  const versionCompatible = Boolean(orDefault("versionCompatible"));

  const calibrationSamples = inRange(
    wholeNumber(orDefault("calibrationSamples"), "calibrationSamples"),
    "calibrationSamples",
    1,
    1_000_000,
    "pass --calibration-samples 512 (at least 1: int8 scales come from these articles)",
  );
  // Accuracy against fp32 on held-out articles is what the record and --min-cosine rest on: none is refused.
  const heldOut = inRange(
    wholeNumber(orDefault("heldOut"), "heldOut"),
    "heldOut",
    1,
    1_000_000,
    "pass --held-out 200 (at least 1: the accuracy figures are measured on these articles)",
  );
  const calibrationBatch = inRange(
    wholeNumber(orDefault("calibrationBatch"), "calibrationBatch"),
    "calibrationBatch",
    1,
    PROFILE_LIMITS.maxBatchSize,
    "pass --calibration-batch 32",
  );
  const algorithm = choice(String(orDefault("calibrationAlgorithm")), "calibrationAlgorithm", CALIBRATION_ALGORITHMS);
  const percentileGiven = given("percentile");
  const percentile =
    percentileGiven === undefined
      ? undefined
      : inRange(decimal(percentileGiven, "percentile"), "percentile", 50, 100, "pass --percentile 99.99");
  const tensorChoice = choice(String(orDefault("calibrationTensors")), "calibrationTensors", ["auto", ...TENSOR_SCOPES] as const);
  const tensors: TensorScope = tensorChoice === "auto" ? (typing === "weak" ? "all-float" : "quantization-sites") : tensorChoice;
  const sampleStride = inRange(
    wholeNumber(orDefault("calibrationSampleStride"), "calibrationSampleStride"),
    "calibrationSampleStride",
    1,
    1_000_000,
    `pass 1 (every value) or ${DEFAULT_SAMPLE_STRIDE} (the default)`,
  );
  const minCosineGiven = given("minCosine");
  const minCosine =
    minCosineGiven === undefined ? undefined : inRange(decimal(minCosineGiven, "minCosine"), "minCosine", -1, 1, "pass --min-cosine 0.99");
  const target = inRange(
    decimal(orDefault("int8TargetCosine"), "int8TargetCosine"),
    "int8TargetCosine",
    0,
    1,
    "pass --int8-target-cosine 0.99 (0 disables)",
  );
  const int8FloatShare = inRange(
    decimal(orDefault("int8FloatShare"), "int8FloatShare"),
    "int8FloatShare",
    0,
    1,
    "pass --int8-float-share 0.1 (at most 10% of MatMuls in float; 0 keeps them all in int8)",
  );
  const seed = inRange(wholeNumber(orDefault("seed"), "seed"), "seed", 0, 2 ** 32 - 1, "pass --seed 0 (any whole number up to 4294967295)");
  const opset = inRange(
    wholeNumber(orDefault("opset"), "opset"),
    "opset",
    14,
    40,
    "pass --opset 17 (14 or more; the exporter names the highest its onnx supports)",
  );
  const deviceId = inRange(wholeNumber(orDefault("device"), "device"), "device", 0, 1023, "pick a GPU id from build-engine --check-only");
  const articles = given("articles") ?? options.defaultArticles;
  if (input.articles === undefined) sources.articles = "default";
  const strictArticles = Boolean(orDefault("strictArticles"));

  return {
    modelId: input.modelId,
    taskName: taskName ?? entry?.taskName,
    hfTask,
    matrixEntry: entry?.taskName,
    build: {
      precision,
      typing,
      trtVersion,
      ...profile.limits,
      workspaceBytes: workspaceMiB * 1024 * 1024,
      builderOptimizationLevel: optLevel,
      hardwareCompatibility,
      versionCompatible,
      ...(engineBuilder === "tensorrt-rtx" ? { engineBuilder, computeCapabilities } : {}),
    },
    calibration: {
      articles,
      strictArticles,
      samples: calibrationSamples,
      heldOut,
      batchSize: calibrationBatch,
      algorithm,
      percentile,
      tensors,
      sampleStride,
      minCosine,
      int8TargetCosine: target === 0 ? undefined : target,
      int8FloatShare,
      seed,
    },
    opset,
    deviceId,
    sources,
  };
}
