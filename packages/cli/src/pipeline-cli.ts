import { Option, type Command } from "commander";
import { ForgeError } from "@trtforge/core";
import { parsePrecision, parseTrtVersion, type HardwareCompatibilityLevel } from "@trtforge/engine-format";
import { checkBatchSize, checkSequenceLength } from "@trtforge/builder";
import { CALIBRATION_ALGORITHMS, DEFAULT_SAMPLE_STRIDE, TENSOR_SCOPES, type CalibrationAlgorithm, type TensorScope } from "@trtforge/calibration";
import { CPU_SERVING_CHOICES, defaultWorkRoot, runPipeline, type CpuServingChoice, type PipelineResult } from "@trtforge/pipeline";
import { withSigintAbort } from "./abort-on-sigint.js";
import { defaultSamplesPath } from "./export-cli.js";
import { resolveModelSource } from "./model-ref.js";
import { parseInteger } from "./parse-options.js";
import { createProgress } from "./progress.js";
import { cliLogger } from "./run.js";

export interface PipelineCliOptions {
  model?: string;
  modelId?: string;
  revision?: string;
  task: "auto" | "feature-extraction" | "sequence-classification";
  taskName?: string;
  precision?: string;
  calibrate?: string;
  calibrationSamples: string;
  heldOut: string;
  calibrationBatch: string;
  calibrationAlgorithm: CalibrationAlgorithm;
  percentile?: string;
  calibrationSampleStride: string;
  calibrationTensors: TensorScope | "auto";
  minCosine?: string;
  int8TargetCosine: string;
  cpuServing: CpuServingChoice;
  typing: "strong" | "weak";
  maxBatch?: string;
  optBatch?: string;
  sequenceLength?: string;
  optSequenceLength?: string;
  trtVersion?: string;
  workspace: string;
  optLevel: string;
  hardwareCompatibility: HardwareCompatibilityLevel;
  versionCompatible?: boolean;
  opset: string;
  seed: string;
  marker?: boolean;
  device: string;
  workDir?: string;
  storeRoot?: string;
  json?: boolean;
}

/** The pipeline's options on the root command (`build-engine --model ...`). */
export function addPipelineOptions(program: Command): Command {
  return program
    .option("--model <folder|store:agent[@version]>", "run the pipeline on this Hugging Face folder or ModelStore model")
    .option("--model-id <id>", "Hugging Face id to record (default: from the ModelStore)")
    .option("--revision <rev>", "Hugging Face revision to record (default: from the ModelStore)")
    .addOption(new Option("--task <task>", "what the engine computes").choices(["auto", "feature-extraction", "sequence-classification"]).default("auto"))
    .option("--task-name <name>", "engine task name, e.g. sentiment (default: embeddings or classification)")
    .option("--calibrate <articles>", "real articles for int8 calibration and accuracy (JSONL with text, AG News CSV, folder, file; default: conf/samples)")
    .option("--calibration-samples <n>", "articles to calibrate on", "512")
    .option("--held-out <n>", "other articles to measure accuracy on", "200")
    .option("--calibration-batch <n>", "batch size of calibration and accuracy runs", "32")
    .addOption(new Option("--calibration-algorithm <a>", "how ranges are chosen").choices([...CALIBRATION_ALGORITHMS]).default("max"))
    .option("--percentile <p>", "for --calibration-algorithm percentile (default 99.99)")
    .addOption(
      new Option("--calibration-tensors <scope>", "activations to calibrate; auto: quantization-sites (MatMul/Gemm/Conv inputs) for --typing strong, all-float for weak")
        .choices(["auto", ...TENSOR_SCOPES])
        .default("auto"),
    )
    .option("--calibration-sample-stride <n>", "histogram every n-th activation value (maxima stay exact); 1: every value, about 1.5-2x slower", String(DEFAULT_SAMPLE_STRIDE))
    .option("--min-cosine <c>", "fail when int8/fp16 outputs' mean cosine against fp32 on held-out articles is lower")
    .option("--int8-target-cosine <c>", "int8: keep the activations with the largest int8 error in float until this cosine is reached on calibration articles (0 disables)", "0.99")
    .addOption(new Option("--cpu-serving <form>", "the CPU-serving ONNX published beside the engine (model.cpu.onnx, for the ONNX Runtime fallback): int8 weights, fused fp32, or off").choices([...CPU_SERVING_CHOICES]).default("int8"))
    .addOption(new Option("--typing <t>", "strong: precision in the ONNX (TensorRT 10 and 11); weak: TensorRT 10 builder flags").choices(["strong", "weak"]).default("strong"))
    .option("--opt-batch <n>", "batch size the profile is tuned for (default: half of --max-batch)")
    .option("--opt-sequence-length <n>", "sequence length the profile is tuned for and calibration runs at", "128")
    .option("--workspace <MiB>", "TensorRT workspace memory pool", "2048")
    .option("--opt-level <0-5>", "TensorRT builder optimization level", "3")
    .addOption(new Option("--hardware-compatibility <level>", "which GPUs the engine may run on").choices(["none", "ampere_plus", "same_compute_capability"]).default("none"))
    .option("--version-compatible", "build a version-compatible engine")
    .option("--opset <n>", "ONNX opset of the export", "17")
    .option("--seed <n>", "seed of the article sampling", "0")
    .option("--marker", "where TensorRT is absent, run every other stage for real and publish a marker")
    .option("--device <n>", "GPU to build on (ids as build-engine --check-only lists them)", "0")
    .option("--work-dir <dir>", "where stage results are kept for reuse (default: .trtforge-work)")
    .option("--store-root <dir>", "ModelStore root (default: $MODEL_STORE_ROOT)");
}

function parseFloatOption(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ForgeError("USAGE", `${flag} must be a number from ${min} to ${max}, got "${text}"`, { input: flag, fix: `pass ${flag} <number>` });
  }
  return value;
}

export async function runPipelineCli(opts: PipelineCliOptions): Promise<PipelineResult> {
  const log = cliLogger("build-engine");
  const precision = parsePrecision(opts.precision ?? "fp16");
  const maxBatchSize = checkBatchSize(parseInteger(opts.maxBatch ?? "32", "--max-batch"), "--max-batch");
  const seqLen = checkSequenceLength(parseInteger(opts.sequenceLength ?? "256", "--sequence-length"), "--sequence-length");
  const optBatchSize = checkBatchSize(parseInteger(opts.optBatch ?? String(Math.max(1, Math.ceil(maxBatchSize / 2))), "--opt-batch"), "--opt-batch");
  const optSeqLen = checkSequenceLength(parseInteger(opts.optSequenceLength ?? "128", "--opt-sequence-length"), "--opt-sequence-length");
  if (optBatchSize > maxBatchSize) throw new ForgeError("INVALID_LIMIT", `--opt-batch ${optBatchSize} is above --max-batch ${maxBatchSize}`, { input: "--opt-batch", fix: "lower --opt-batch or raise --max-batch" });
  if (optSeqLen > seqLen) throw new ForgeError("INVALID_LIMIT", `--opt-sequence-length ${optSeqLen} is above --sequence-length ${seqLen}`, { input: "--opt-sequence-length", fix: "lower --opt-sequence-length or raise --sequence-length" });
  const trtVersion = opts.trtVersion ?? "10.16.0";
  if (!parseTrtVersion(trtVersion)) throw new ForgeError("USAGE", `--trt-version "${trtVersion}" is not a TensorRT version`, { input: "--trt-version", fix: "e.g. 10.16.0 or 11.1.0" });
  if (opts.typing === "weak" && parseTrtVersion(trtVersion)!.major >= 11) {
    throw new ForgeError("TRT_MODE_REMOVED", "TensorRT 11 removed weak typing (builder precision flags and calibrators)", { input: "--typing", fix: "use --typing strong: the precision then comes from the Q/DQ or fp16 ONNX this tool writes" });
  }
  const optLevel = parseInteger(opts.optLevel, "--opt-level");
  if (optLevel < 0 || optLevel > 5) throw new ForgeError("USAGE", `--opt-level must be 0 to 5, got ${optLevel}`, { input: "--opt-level", fix: "pass --opt-level 3 (TensorRT's default)" });
  const workspaceMiB = parseInteger(opts.workspace, "--workspace");
  if (workspaceMiB < 16 || workspaceMiB > 1024 * 1024) throw new ForgeError("INVALID_LIMIT", `--workspace must be 16 MiB to 1 TiB, got ${workspaceMiB}`, { input: "--workspace", fix: "pass --workspace 2048 (JustNewsAgent's 2 GiB)" });
  const calibrationSampleStride = parseInteger(opts.calibrationSampleStride, "--calibration-sample-stride");
  if (calibrationSampleStride < 1) {
    throw new ForgeError("INVALID_LIMIT", `--calibration-sample-stride must be 1 or more, got ${calibrationSampleStride}`, { input: "--calibration-sample-stride", fix: `pass 1 (every value) or ${DEFAULT_SAMPLE_STRIDE} (the default)` });
  }
  const model = await resolveModelSource(opts.model!, opts.storeRoot);
  const progress = createProgress(log);
  try {
    return await withSigintAbort((signal) =>
      runPipeline({
        model: { ...model, modelId: opts.modelId ?? model.modelId, revision: opts.revision ?? model.revision },
        taskName: opts.taskName,
        hfTask: opts.task,
        options: {
          precision,
          typing: opts.typing,
          trtVersion,
          maxBatchSize,
          optBatchSize,
          minSeqLen: 1,
          optSeqLen,
          seqLen,
          workspaceBytes: workspaceMiB * 1024 * 1024,
          builderOptimizationLevel: optLevel,
          hardwareCompatibility: opts.hardwareCompatibility,
          versionCompatible: opts.versionCompatible ?? false,
        },
        articles: opts.calibrate ?? defaultSamplesPath(),
        calibrationSamples: parseInteger(opts.calibrationSamples, "--calibration-samples"),
        heldOut: parseInteger(opts.heldOut, "--held-out"),
        calibrationBatchSize: parseInteger(opts.calibrationBatch, "--calibration-batch"),
        algorithm: opts.calibrationAlgorithm,
        percentile: parseFloatOption(opts.percentile, "--percentile", 50, 100),
        calibrationSampleStride,
        ...(opts.calibrationTensors === "auto" ? {} : { calibrationTensors: opts.calibrationTensors }),
        minCosine: parseFloatOption(opts.minCosine, "--min-cosine", -1, 1),
        cpuServing: opts.cpuServing,
        int8TargetCosine: (() => {
          const target = parseFloatOption(opts.int8TargetCosine, "--int8-target-cosine", 0, 1);
          return target === 0 ? undefined : target;
        })(),
        seed: parseInteger(opts.seed, "--seed"),
        opset: parseInteger(opts.opset, "--opset"),
        marker: opts.marker ?? false,
        deviceId: parseInteger(opts.device, "--device"),
        workRoot: opts.workDir ?? defaultWorkRoot(),
        storeRoot: opts.storeRoot,
        log,
        signal,
        onProgress: (stage, current, total) => progress.update(stage, current, total),
      }),
    );
  } finally {
    progress.stop();
  }
}
