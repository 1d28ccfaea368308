import { z } from "zod";
import { HardwareCompatibilityLevelSchema, HF_TASK_CHOICES, PLAN_LIBRARIES, PRECISIONS, PROFILE_LIMITS } from "@trtforge/engine-format";
import { CALIBRATION_ALGORITHMS, DEFAULT_SAMPLE_STRIDE, TENSOR_SCOPES } from "@trtforge/calibration";

export const TYPINGS = ["strong", "weak"] as const;
export type Typing = (typeof TYPINGS)[number];

// What a caller may hand over for each kind of row: the CLI passes flag text, a library caller numbers.
const numberInput = z.union([z.number(), z.string()]);
const textInput = z.string();
const switchInput = z.boolean();
const listInput = z.union([z.string(), z.array(z.string())]);

interface RowCommon {
  /** The command-line flag; errors name it, so a library caller and the CLI read the same text. */
  flag: string;
  help: string;
  /** The conf/models.yaml key whose value is the default when a build matrix entry matches. */
  matrixKey?: string;
  /** Where the settled value lands in the engine metadata (build_options.<key>, or a top-level key). */
  metadataKey?: string;
  /** The value's name in the help, e.g. "<articles>" (default: <n>, <x> or <value> by kind). */
  placeholder?: string;
  /** Older flag names that still work (users' scripts), e.g. the export subcommand's. */
  aliases?: readonly string[];
}

/** A whole number from `range[0]` to `range[1]`; `fix` is the advice an out-of-range value gets. */
export interface IntegerRow extends RowCommon {
  kind: "integer";
  schema: typeof numberInput;
  range: readonly [number, number];
  fix: string;
  default?: number;
}

export interface DecimalRow extends RowCommon {
  kind: "decimal";
  schema: typeof numberInput;
  range: readonly [number, number];
  fix: string;
  default?: number;
}

/** One of `choices`; the CLI lets commander refuse others, a library caller gets INVALID_OPTION. */
export interface ChoiceRow extends RowCommon {
  kind: "choice";
  schema: typeof textInput;
  choices: readonly string[];
  /** Choices that are checked by the library only (precision keeps its own INVALID_PRECISION error). */
  libraryChecked?: boolean;
  default?: string;
}

export interface TextRow extends RowCommon {
  kind: "text";
  schema: typeof textInput;
  default?: string;
}

export interface SwitchRow extends RowCommon {
  kind: "switch";
  schema: typeof switchInput;
  default: boolean;
}

/** Repeatable or comma-separated. */
export interface ListRow extends RowCommon {
  kind: "list";
  schema: typeof listInput;
}

export type BuildOptionRow = IntegerRow | DecimalRow | ChoiceRow | TextRow | SwitchRow | ListRow;

// Generic, so that each row keeps its literal default and choices (BUILD_DEFAULTS and the choice types read them).
type RowInput<R extends BuildOptionRow> = Omit<R, "kind" | "schema">;
const integer = <const R extends RowInput<IntegerRow>>(row: R) => ({ kind: "integer" as const, schema: numberInput, ...row });
const decimal = <const R extends RowInput<DecimalRow>>(row: R) => ({ kind: "decimal" as const, schema: numberInput, ...row });
const choice = <const R extends RowInput<ChoiceRow>>(row: R) => ({ kind: "choice" as const, schema: textInput, ...row });
const text = <const R extends RowInput<TextRow>>(row: R) => ({ kind: "text" as const, schema: textInput, ...row });
const toggle = <const R extends RowInput<SwitchRow>>(row: R) => ({ kind: "switch" as const, schema: switchInput, ...row });
const list = <const R extends RowInput<ListRow>>(row: R) => ({ kind: "list" as const, schema: listInput, ...row });

const batchFix = `pass a batch size from 1 to ${PROFILE_LIMITS.maxBatchSize} (JustNewsAgent engines used 100)`;
const seqFix = `pass a sequence length from 1 to ${PROFILE_LIMITS.seqLen}, at most the model's position table (512 for BERT and RoBERTa)`;

/**
 * Every option of a build, once: the field a library caller sets, the flag, the accepted input (zod),
 * the range, the default, the help text and where it lands in the metadata. The commander options,
 * REQUEST_FLAGS, BUILD_DEFAULTS, BuildRequestInput, normalizeBuildRequest's checks, the export
 * subcommand and the metadata's build options all read this table; adding an option is one row here
 * plus the code that uses its value (docs/development.md, "Adding a build option").
 */
export const BUILD_OPTIONS = {
  taskName: text({
    placeholder: "<name>",
    flag: "--task-name",
    help: "engine task name, e.g. sentiment; a build matrix entry of that name gives the defaults (default: the entry of the model id, else embeddings or classification)",
  }),
  hfTask: choice({
    placeholder: "<task>",
    flag: "--task",
    choices: HF_TASK_CHOICES,
    default: "auto",
    matrixKey: "hf_task",
    help: "what the engine computes",
  }),
  precision: choice({
    placeholder: "<p>",
    flag: "--precision",
    choices: PRECISIONS,
    libraryChecked: true,
    default: "fp16",
    matrixKey: "precisions",
    help: "fp32, fp16 or int8 (default: the build matrix entry's first precision, else fp16; markers: each of the entry's)",
  }),
  typing: choice({
    placeholder: "<t>",
    flag: "--typing",
    choices: TYPINGS,
    default: "strong",
    metadataKey: "strongly_typed",
    help: "strong: precision in the ONNX (TensorRT 10 and 11); weak: TensorRT 10 builder flags",
  }),
  trtVersion: text({
    placeholder: "<X.Y.Z>",
    flag: "--trt-version",
    default: "10.16.0",
    matrixKey: "trt_version",
    help: "TensorRT version a marker stands in for (a real build uses the host's)",
  }),
  maxBatch: integer({
    flag: "--max-batch",
    range: [1, PROFILE_LIMITS.maxBatchSize],
    fix: batchFix,
    default: 32,
    matrixKey: "max_batch_size",
    metadataKey: "max_batch_size",
    help: `maximum batch size of the optimization profile, 1-${PROFILE_LIMITS.maxBatchSize}`,
  }),
  optBatch: integer({
    flag: "--opt-batch",
    range: [1, PROFILE_LIMITS.maxBatchSize],
    fix: batchFix,
    matrixKey: "opt_batch_size",
    metadataKey: "opt_batch_size",
    help: "batch size the profile is tuned for (default: the build matrix entry's with its maximum, else half of --max-batch)",
  }),
  minSequenceLength: integer({
    flag: "--min-sequence-length",
    range: [1, PROFILE_LIMITS.seqLen],
    fix: seqFix,
    default: 1,
    matrixKey: "min_seq_len",
    metadataKey: "min_seq_len",
    help: "shortest sequence of the profile",
  }),
  sequenceLength: integer({
    flag: "--sequence-length",
    range: [1, PROFILE_LIMITS.seqLen],
    fix: seqFix,
    default: 256,
    matrixKey: "seq_len",
    metadataKey: "seq_len",
    aliases: ["--seq-len"],
    help: `maximum sequence length of the optimization profile, 1-${PROFILE_LIMITS.seqLen}; also the export's reference length`,
  }),
  optSequenceLength: integer({
    flag: "--opt-sequence-length",
    range: [1, PROFILE_LIMITS.seqLen],
    fix: seqFix,
    default: 128,
    matrixKey: "opt_seq_len",
    metadataKey: "opt_seq_len",
    help: "sequence length the profile is tuned for and calibration runs at",
  }),
  workspaceMiB: integer({
    placeholder: "<MiB>",
    flag: "--workspace",
    range: [16, 1024 * 1024],
    fix: "pass --workspace 2048 (JustNewsAgent's 2 GiB)",
    default: 2048,
    metadataKey: "workspace_bytes",
    help: "TensorRT workspace memory pool in MiB, 16 MiB to 1 TiB",
  }),
  optLevel: integer({
    placeholder: "<0-5>",
    flag: "--opt-level",
    range: [0, 5],
    fix: "pass --opt-level 3 (TensorRT's default)",
    default: 3,
    metadataKey: "builder_optimization_level",
    help: "TensorRT builder optimization level, 0-5",
  }),
  hardwareCompatibility: choice({
    placeholder: "<level>",
    flag: "--hardware-compatibility",
    choices: HardwareCompatibilityLevelSchema.options,
    default: "none",
    metadataKey: "hardware_compatibility_level",
    help: "which GPUs the engine may run on",
  }),
  versionCompatible: toggle({
    flag: "--version-compatible",
    default: false,
    metadataKey: "version_compatible",
    help: "build a version-compatible engine",
  }),
  articles: text({
    placeholder: "<articles>",
    flag: "--calibrate",
    aliases: ["--samples"],
    help: "real articles for int8 calibration and accuracy, and the export's references (JSONL with text, AG News CSV, folder, file; default: conf/samples)",
  }),
  strictArticles: toggle({
    flag: "--strict-articles",
    default: false,
    help: "fail on malformed article rows instead of skipping and counting them",
  }),
  calibrationSamples: integer({
    flag: "--calibration-samples",
    range: [1, 1_000_000],
    fix: "pass --calibration-samples 512 (at least 1: int8 scales come from these articles)",
    default: 512,
    help: "articles to calibrate on, 1 or more",
  }),
  // Accuracy against fp32 on held-out articles is what the record and --min-cosine rest on: none is refused.
  heldOut: integer({
    flag: "--held-out",
    range: [1, 1_000_000],
    fix: "pass --held-out 200 (at least 1: the accuracy figures are measured on these articles)",
    default: 200,
    help: "other articles to measure accuracy on, 1 or more",
  }),
  calibrationBatch: integer({
    flag: "--calibration-batch",
    range: [1, PROFILE_LIMITS.maxBatchSize],
    fix: "pass --calibration-batch 32",
    default: 32,
    help: "batch size of calibration and accuracy runs",
  }),
  calibrationAlgorithm: choice({
    placeholder: "<a>",
    flag: "--calibration-algorithm",
    choices: CALIBRATION_ALGORITHMS,
    default: "max",
    help: "how ranges are chosen",
  }),
  percentile: decimal({
    flag: "--percentile",
    range: [50, 100],
    fix: "pass --percentile 99.99",
    help: "for --calibration-algorithm percentile, 50 to 100 (default 99.99)",
  }),
  calibrationTensors: choice({
    placeholder: "<scope>",
    flag: "--calibration-tensors",
    choices: ["auto", ...TENSOR_SCOPES],
    default: "auto",
    help: "activations to calibrate; auto: quantization-sites (MatMul/Gemm/Conv inputs) for --typing strong, all-float for weak",
  }),
  calibrationSampleStride: integer({
    flag: "--calibration-sample-stride",
    range: [1, 1_000_000],
    fix: `pass 1 (every value) or ${DEFAULT_SAMPLE_STRIDE} (the default)`,
    default: DEFAULT_SAMPLE_STRIDE,
    help: "histogram every n-th activation value (maxima stay exact); 1: every value, about 1.5-2x slower",
  }),
  minCosine: decimal({
    flag: "--min-cosine",
    range: [-1, 1],
    fix: "pass --min-cosine 0.99",
    help: "fail when int8/fp16 outputs' mean cosine against fp32 on held-out articles is lower (-1 to 1)",
  }),
  int8TargetCosine: decimal({
    flag: "--int8-target-cosine",
    range: [0, 1],
    fix: "pass --int8-target-cosine 0.99 (0 disables)",
    default: 0.99,
    help: "int8, --typing weak: keep the activations with the largest int8 error in the calibration cache's float until this cosine is reached on calibration articles (0 to 1, 0 disables)",
  }),
  int8FloatShare: decimal({
    flag: "--int8-float-share",
    range: [0, 1],
    fix: "pass --int8-float-share 0.1 (at most 10% of MatMuls in float; 0 keeps them all in int8)",
    default: 0.1,
    help: "int8 Q/DQ: the largest share of MatMuls kept in float, the most sensitive ones as measured on calibration articles at the profile's lengths (0 to 1, 0: every MatMul in int8)",
  }),
  seed: integer({
    flag: "--seed",
    range: [0, 2 ** 32 - 1],
    fix: "pass --seed 0 (any whole number up to 4294967295)",
    default: 0,
    help: "seed of the article sampling",
  }),
  opset: integer({
    flag: "--opset",
    range: [14, 40],
    fix: "pass --opset 17 (14 or more; the exporter names the highest its onnx supports)",
    default: 17,
    help: "ONNX opset of the export",
  }),
  device: integer({
    flag: "--device",
    range: [0, 1023],
    fix: "pick a GPU id from build-engine --check-only",
    default: 0,
    help: "GPU to build on (ids as build-engine --check-only lists them)",
  }),
  builder: choice({
    placeholder: "<name>",
    flag: "--builder",
    choices: PLAN_LIBRARIES,
    default: "tensorrt",
    metadataKey: "library",
    help: "which NVIDIA builder makes the plan (tensorrt-rtx needs no GPU)",
  }),
  computeCapability: list({
    placeholder: "<cc>",
    flag: "--compute-capability",
    help: "--builder tensorrt-rtx: a target compute capability (86 or 8.6; repeatable or comma-separated; default: the library's portable set)",
  }),
} as const satisfies Record<string, BuildOptionRow>;

export type RequestField = keyof typeof BUILD_OPTIONS;
type FieldsOf<Kind extends BuildOptionRow["kind"]> = {
  [K in RequestField]: (typeof BUILD_OPTIONS)[K]["kind"] extends Kind ? K : never;
}[RequestField];
export type IntegerField = FieldsOf<"integer">;
export type DecimalField = FieldsOf<"decimal">;
export type ChoiceField = FieldsOf<"choice">;
/** The values a choice row accepts, e.g. ChoiceOf<"typing"> is "strong" | "weak". */
export type ChoiceOf<K extends ChoiceField> = (typeof BUILD_OPTIONS)[K]["choices"][number];

/** What a build asks for, as a caller gives it: every field optional, numbers as numbers or as flag text. */
export type BuildRequestInput = {
  /** The Hugging Face id, when known before export (--model-id, or the ModelStore's record). */
  modelId?: string | undefined;
} & { [K in RequestField]?: z.input<(typeof BUILD_OPTIONS)[K]["schema"]> | undefined };

const fields = Object.keys(BUILD_OPTIONS) as RequestField[];

/** The command-line flag of each field. */
export const REQUEST_FLAGS = Object.fromEntries(fields.map((f) => [f, BUILD_OPTIONS[f].flag])) as {
  [K in RequestField]: (typeof BUILD_OPTIONS)[K]["flag"];
};

type DefaultOf<K extends RequestField> = (typeof BUILD_OPTIONS)[K] extends { default: infer D } ? D : never;
type Defaulted = { [K in RequestField]: DefaultOf<K> extends never ? never : K }[RequestField];

/** The built-in defaults, used where neither the caller nor a build matrix entry sets a value. */
export const BUILD_DEFAULTS = Object.fromEntries(
  fields.flatMap((f) => {
    const row: BuildOptionRow = BUILD_OPTIONS[f];
    return "default" in row && row.default !== undefined ? [[f, row.default]] : [];
  }),
) as { [K in Defaulted]: DefaultOf<K> };

/** The key commander stores a flag's value under: "--calibration-sample-stride" → "calibrationSampleStride". */
export function flagAttribute(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A request from the values commander parsed (keyed by flag, so `--calibrate` fills `articles` and
 * `--workspace` fills `workspaceMiB`); an alias fills its row when the main flag is unset.
 */
export function requestFromFlags(values: Readonly<Record<string, unknown>>): BuildRequestInput {
  const input: Record<string, unknown> = {};
  for (const field of fields) {
    const row: BuildOptionRow = BUILD_OPTIONS[field];
    const value = [row.flag, ...(row.aliases ?? [])].map((f) => values[flagAttribute(f)]).find((v) => v !== undefined);
    if (value !== undefined) input[field] = value;
  }
  return input as BuildRequestInput;
}

/** The help text a row shows: its own, then its default (or the build matrix entry's) and aliases. */
export function optionHelp(row: BuildOptionRow, { matrix = true }: { matrix?: boolean } = {}): string {
  const parts = [row.help];
  const fallback = "default" in row && row.default !== undefined && row.kind !== "switch" ? String(row.default) : undefined;
  if (fallback !== undefined && !row.help.includes("default")) {
    parts.push(row.matrixKey && matrix ? `(default: the build matrix entry's, else ${fallback})` : `(default: ${fallback})`);
  }
  if (row.aliases?.length) parts.push(`(alias: ${row.aliases.join(", ")})`);
  return parts.join(" ");
}
