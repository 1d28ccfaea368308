import { ForgeError, MIN_BATCH, type Profile } from "@trtforge/core";
import {
  parsePrecision,
  parseTrtVersion,
  type HardwareCompatibilityLevel,
  type HfTaskChoice,
  type PlanLibrary,
  type Precision,
} from "@trtforge/engine-format";
import type { CalibrationAlgorithm, TensorScope } from "@trtforge/calibration";
import type { ModelSpec } from "@trtforge/config";
import { checkRtxOptions, TRTRTX_VERSION } from "@trtforge/builder";
import type { TrtBuildOptions } from "./build-options.js";
import {
  BUILD_DEFAULTS,
  BUILD_OPTIONS,
  REQUEST_FLAGS,
  type BuildRequestInput,
  type ChoiceField,
  type ChoiceOf,
  type ChoiceRow,
  type DecimalField,
  type DecimalRow,
  type IntegerField,
  type IntegerRow,
  type RequestField,
  type Typing,
} from "./option-table.js";

export { TYPINGS, type Typing, type BuildRequestInput, type RequestField } from "./option-table.js";

/**
 * Where a value of the request came from: the caller ("flag"), the build matrix entry that matched
 * the model, the built-in default, or the host (the TensorRT version the addon builds with).
 */
export type ValueSource = "flag" | "default" | "host" | `models.yaml entry ${string}`;

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

/** A whole number within its row's range, else INVALID_LIMIT with the row's advice. */
function settledInteger(field: IntegerField, value: number | string): number {
  const row: IntegerRow = BUILD_OPTIONS[field];
  return inRange(wholeNumber(value, field), field, row.range[0], row.range[1], row.fix);
}

function settledDecimal(field: DecimalField, value: number | string): number {
  const row: DecimalRow = BUILD_OPTIONS[field];
  return inRange(decimal(value, field), field, row.range[0], row.range[1], row.fix);
}

/** One of its row's choices, else INVALID_OPTION listing them. */
function settledChoice<K extends ChoiceField>(field: K, value: string): ChoiceOf<K> {
  const allowed: readonly string[] = (BUILD_OPTIONS[field] as ChoiceRow).choices;
  if (allowed.includes(value)) return value as ChoiceOf<K>;
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
  profile: Profile;
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
  const inRow = (field: IntegerField) => (n: number) =>
    inRange(n, field, BUILD_OPTIONS[field].range[0], BUILD_OPTIONS[field].range[1], BUILD_OPTIONS[field].fix);
  const maxBatch = pick("maxBatch", "max_batch_size", entry?.maxBatchSize, () => BUILD_DEFAULTS.maxBatch, inRow("maxBatch"));
  // The matrix's optimum was tuned for the matrix's maximum; a maximum from elsewhere gets the built-in rule.
  const optBatch = pick(
    "optBatch",
    "opt_batch_size",
    maxBatch.source === entrySource ? entry?.optBatchSize : undefined,
    () => Math.ceil(maxBatch.value / 2),
    inRow("optBatch"),
  );
  const seqLen = pick("sequenceLength", "seq_len", entry?.seqLen, () => BUILD_DEFAULTS.sequenceLength, inRow("sequenceLength"));
  const optSeq = pick(
    "optSequenceLength",
    "opt_seq_len",
    entry?.optSeqLen,
    () => BUILD_DEFAULTS.optSequenceLength,
    inRow("optSequenceLength"),
  );
  const minSeq = pick(
    "minSequenceLength",
    "min_seq_len",
    entry?.minSeqLen,
    () => BUILD_DEFAULTS.minSequenceLength,
    inRow("minSequenceLength"),
  );
  assertOrdered(optBatch, maxBatch, "optBatch");
  assertOrdered(optSeq, seqLen, "optSequenceLength");
  assertOrdered(minSeq, optSeq, "minSequenceLength");
  return {
    profile: {
      batch: { min: MIN_BATCH, opt: optBatch.value, max: maxBatch.value },
      sequence: { min: minSeq.value, opt: optSeq.value, max: seqLen.value },
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

/** What `build-engine export` takes from the build options: the same rows, defaults and checks as a build. */
export interface ExportRequest {
  hfTask: HfTaskChoice;
  opset: number;
  /** The reference inputs' length: the profile's maximum, as the pipeline's export stage uses. */
  sequenceLength: number;
  articles: string;
}

export function normalizeExportRequest(
  input: Pick<BuildRequestInput, "hfTask" | "opset" | "sequenceLength" | "articles">,
  defaultArticles: string,
): ExportRequest {
  return {
    hfTask: settledChoice("hfTask", input.hfTask ?? BUILD_DEFAULTS.hfTask),
    opset: settledInteger("opset", input.opset ?? BUILD_DEFAULTS.opset),
    sequenceLength: settledInteger("sequenceLength", input.sequenceLength ?? BUILD_DEFAULTS.sequenceLength),
    articles: input.articles ?? defaultArticles,
  };
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
  const hfTask: HfTaskChoice = settledChoice("hfTask", String(orDefault("hfTask", entry?.hfTask)));
  // The matrix lists the precisions a task is built in; a run builds one, the first unless asked.
  const precision: Precision = parsePrecision(String(orDefault("precision", entry?.precisions[0])), REQUEST_FLAGS.precision);
  const typing: Typing = settledChoice("typing", String(orDefault("typing")));
  const engineBuilder: PlanLibrary = settledChoice("builder", String(orDefault("builder")));
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

  const optLevel = settledInteger("optLevel", orDefault("optLevel"));
  const workspaceMiB = settledInteger("workspaceMiB", orDefault("workspaceMiB"));
  const hardwareCompatibility: HardwareCompatibilityLevel = settledChoice(
    "hardwareCompatibility",
    String(orDefault("hardwareCompatibility")),
  );
  const versionCompatible = Boolean(orDefault("versionCompatible"));

  const calibrationSamples = settledInteger("calibrationSamples", orDefault("calibrationSamples"));
  const heldOut = settledInteger("heldOut", orDefault("heldOut"));
  const calibrationBatch = settledInteger("calibrationBatch", orDefault("calibrationBatch"));
  const algorithm: CalibrationAlgorithm = settledChoice("calibrationAlgorithm", String(orDefault("calibrationAlgorithm")));
  const percentileGiven = given("percentile");
  const percentile = percentileGiven === undefined ? undefined : settledDecimal("percentile", percentileGiven);
  const tensorChoice = settledChoice("calibrationTensors", String(orDefault("calibrationTensors")));
  const tensors: TensorScope = tensorChoice === "auto" ? (typing === "weak" ? "all-float" : "quantization-sites") : tensorChoice;
  const sampleStride = settledInteger("calibrationSampleStride", orDefault("calibrationSampleStride"));
  const minCosineGiven = given("minCosine");
  const minCosine = minCosineGiven === undefined ? undefined : settledDecimal("minCosine", minCosineGiven);
  const target = settledDecimal("int8TargetCosine", orDefault("int8TargetCosine"));
  const int8FloatShare = settledDecimal("int8FloatShare", orDefault("int8FloatShare"));
  const seed = settledInteger("seed", orDefault("seed"));
  const opset = settledInteger("opset", orDefault("opset"));
  const deviceId = settledInteger("device", orDefault("device"));
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
      profile: profile.profile,
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
