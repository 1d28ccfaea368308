import { Option, type Command } from "commander";
import {
  HardwareCompatibilityLevelSchema,
  HF_TASK_CHOICES,
  type HardwareCompatibilityLevel,
  type HfTaskChoice,
} from "@trtforge/engine-format";
import { CALIBRATION_ALGORITHMS, TENSOR_SCOPES } from "@trtforge/calibration";
import {
  BUILD_DEFAULTS,
  CPU_SERVING_CHOICES,
  applyWorkBudget,
  defaultWorkRoot,
  runPipeline,
  workBudgetFromEnv,
  type WorkBudget,
  TYPINGS,
  type CpuServingChoice,
  GPU_SERVING_CHOICES,
  type GpuServingChoice,
  type PipelineResult,
} from "@trtforge/pipeline";
import { withSigintAbort } from "./abort-on-sigint.js";
import { createProgress } from "./progress.js";
import { cliLogger } from "./run.js";

/** The flags as commander hands them over: text, unset when not given (the library settles defaults). */
export interface PipelineCliOptions {
  model?: string;
  modelId?: string;
  revision?: string;
  task?: HfTaskChoice;
  taskName?: string;
  precision?: string;
  calibrate?: string;
  strictArticles?: boolean;
  calibrationSamples?: string;
  heldOut?: string;
  calibrationBatch?: string;
  calibrationAlgorithm?: string;
  percentile?: string;
  calibrationSampleStride?: string;
  calibrationTensors?: string;
  minCosine?: string;
  int8TargetCosine?: string;
  int8FloatShare?: string;
  typing?: string;
  cpuServing?: CpuServingChoice;
  gpuServing?: GpuServingChoice;
  maxBatch?: string;
  optBatch?: string;
  minSequenceLength?: string;
  sequenceLength?: string;
  optSequenceLength?: string;
  trtVersion?: string;
  workspace?: string;
  optLevel?: string;
  hardwareCompatibility?: HardwareCompatibilityLevel;
  versionCompatible?: boolean;
  builder?: string;
  computeCapability?: string[];
  opset?: string;
  seed?: string;
  marker?: boolean;
  promote?: boolean;
  acceptAccuracy?: boolean;
  device?: string;
  workDir?: string;
  storeRoot?: string;
  config?: string;
  json?: boolean;
}

const d = BUILD_DEFAULTS;
const orMatrix = (value: string | number) => `(default: the build matrix entry's, else ${value})`;

/**
 * The pipeline's options on the root command (`build-engine --model ...`). No commander defaults:
 * an unset flag reaches the library as unset, so the record can say the value was a default.
 */
export function addPipelineOptions(program: Command): Command {
  return program
    .option("--model <folder|store:agent[@version]>", "run the pipeline on this Hugging Face folder or ModelStore model")
    .option("--model-id <id>", "Hugging Face id to record (default: from the ModelStore)")
    .option("--revision <rev>", "Hugging Face revision to record (default: from the ModelStore)")
    .addOption(new Option("--task <task>", `what the engine computes (default: ${d.hfTask})`).choices([...HF_TASK_CHOICES]))
    .option(
      "--task-name <name>",
      "engine task name, e.g. sentiment; a build matrix entry of that name gives the defaults (default: the entry of the model id, else embeddings or classification)",
    )
    .option(
      "--calibrate <articles>",
      "real articles for int8 calibration and accuracy (JSONL with text, AG News CSV, folder, file; default: conf/samples)",
    )
    .option("--strict-articles", "fail on malformed article rows instead of skipping and counting them")
    .option("--calibration-samples <n>", `articles to calibrate on, 1 or more (default: ${d.calibrationSamples})`)
    .option("--held-out <n>", `other articles to measure accuracy on, 1 or more (default: ${d.heldOut})`)
    .option("--calibration-batch <n>", `batch size of calibration and accuracy runs (default: ${d.calibrationBatch})`)
    .addOption(
      new Option("--calibration-algorithm <a>", `how ranges are chosen (default: ${d.calibrationAlgorithm})`).choices([
        ...CALIBRATION_ALGORITHMS,
      ]),
    )
    .option("--percentile <p>", "for --calibration-algorithm percentile, 50 to 100 (default 99.99)")
    .addOption(
      new Option(
        "--calibration-tensors <scope>",
        "activations to calibrate; auto: quantization-sites (MatMul/Gemm/Conv inputs) for --typing strong, all-float for weak (default: auto)",
      ).choices(["auto", ...TENSOR_SCOPES]),
    )
    .option(
      "--calibration-sample-stride <n>",
      `histogram every n-th activation value (maxima stay exact); 1: every value, about 1.5-2x slower (default: ${d.calibrationSampleStride})`,
    )
    .option("--min-cosine <c>", "fail when int8/fp16 outputs' mean cosine against fp32 on held-out articles is lower (-1 to 1)")
    .option(
      "--int8-target-cosine <c>",
      `int8, --typing weak: keep the activations with the largest int8 error in the calibration cache's float until this cosine is reached on calibration articles (0 to 1, 0 disables; default: ${d.int8TargetCosine})`,
    )
    .option(
      "--int8-float-share <s>",
      `int8 Q/DQ: the largest share of MatMuls kept in float, the most sensitive ones as measured on calibration articles at the longest length (0 to 1, 0: every MatMul in int8; default: ${d.int8FloatShare})`,
    )
    .addOption(
      new Option(
        "--cpu-serving <form>",
        "the CPU-serving ONNX published beside the engine (model.cpu.onnx, for the ONNX Runtime fallback): int8 weights, fused fp32, or off (default: int8)",
      ).choices([...CPU_SERVING_CHOICES]),
    )
    .addOption(
      new Option(
        "--gpu-serving <form>",
        "the GPU-serving ONNX published beside the engine (model.gpu.onnx, for ONNX Runtime's CUDA provider): fp16 (fused, gated against PyTorch fp32) or off (default: off)",
      ).choices([...GPU_SERVING_CHOICES]),
    )
    .addOption(
      new Option(
        "--typing <t>",
        `strong: precision in the ONNX (TensorRT 10 and 11); weak: TensorRT 10 builder flags (default: ${d.typing})`,
      ).choices([...TYPINGS]),
    )
    .option(
      "--opt-batch <n>",
      "batch size the profile is tuned for (default: the build matrix entry's with its maximum, else half of --max-batch)",
    )
    .option("--min-sequence-length <n>", `shortest sequence of the profile ${orMatrix(d.minSequenceLength)}`)
    .option(
      "--opt-sequence-length <n>",
      `sequence length the profile is tuned for and calibration runs at ${orMatrix(d.optSequenceLength)}`,
    )
    .option("--workspace <MiB>", `TensorRT workspace memory pool, 16 MiB to 1 TiB (default: ${d.workspaceMiB})`)
    .option("--opt-level <0-5>", `TensorRT builder optimization level (default: ${d.optLevel})`)
    .addOption(
      new Option("--hardware-compatibility <level>", `which GPUs the engine may run on (default: ${d.hardwareCompatibility})`).choices(
        HardwareCompatibilityLevelSchema.options,
      ),
    )
    .option("--version-compatible", "build a version-compatible engine")
    .addOption(
      new Option("--builder <name>", `which NVIDIA builder makes the plan (default: ${d.builder}; tensorrt-rtx needs no GPU)`).choices([
        "tensorrt",
        "tensorrt-rtx",
      ]),
    )
    .option(
      "--compute-capability <cc>",
      "--builder tensorrt-rtx: a target compute capability (86 or 8.6; repeatable or comma-separated; default: the library's portable set)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--opset <n>", `ONNX opset of the export (default: ${d.opset})`)
    .option("--seed <n>", `seed of the article sampling (default: ${d.seed})`)
    .option("--marker", "where TensorRT is absent, run every other stage for real and publish a marker")
    .option(
      "--promote",
      "make this build (fresh or reused) its agent's current version; without it current moves only when the agent has none yet",
    )
    .option(
      "--accept-accuracy",
      "publish even when int8/fp16 or the CPU-serving form is below its accuracy gate (docs/pipeline.md); recorded in provenance and shown by model-store show",
    )
    .option("--device <n>", `GPU to build on (ids as build-engine --check-only lists them; default: ${d.device})`)
    .option(
      "--work-dir <dir>",
      "where stage results are kept for reuse (default: $TRTFORGE_WORK_DIR, else $XDG_CACHE_HOME/trtforge or ~/.cache/trtforge)",
    )
    .option("--store-root <dir>", "ModelStore root (default: $MODEL_STORE_ROOT)");
}

export async function runPipelineCli(opts: PipelineCliOptions): Promise<PipelineResult> {
  const logger = cliLogger("build-engine");
  // TRTFORGE_WORK_BUDGET is checked before any work, like every other input.
  const budget = opts.workDir === undefined ? workBudgetFromEnv() : undefined;
  const progress = createProgress(logger);
  let result: PipelineResult;
  try {
    result = await withSigintAbort((signal) =>
      runPipeline({
        model: opts.model!,
        modelId: opts.modelId,
        revision: opts.revision,
        hfTask: opts.task,
        taskName: opts.taskName,
        precision: opts.precision,
        typing: opts.typing,
        trtVersion: opts.trtVersion,
        maxBatch: opts.maxBatch,
        optBatch: opts.optBatch,
        minSequenceLength: opts.minSequenceLength,
        sequenceLength: opts.sequenceLength,
        optSequenceLength: opts.optSequenceLength,
        workspaceMiB: opts.workspace,
        optLevel: opts.optLevel,
        hardwareCompatibility: opts.hardwareCompatibility,
        versionCompatible: opts.versionCompatible,
        builder: opts.builder,
        computeCapability: opts.computeCapability,
        articles: opts.calibrate,
        strictArticles: opts.strictArticles,
        calibrationSamples: opts.calibrationSamples,
        heldOut: opts.heldOut,
        calibrationBatch: opts.calibrationBatch,
        calibrationAlgorithm: opts.calibrationAlgorithm,
        percentile: opts.percentile,
        calibrationTensors: opts.calibrationTensors,
        calibrationSampleStride: opts.calibrationSampleStride,
        minCosine: opts.minCosine,
        int8TargetCosine: opts.int8TargetCosine,
        int8FloatShare: opts.int8FloatShare,
        seed: opts.seed,
        opset: opts.opset,
        device: opts.device,
        cpuServing: opts.cpuServing,
        gpuServing: opts.gpuServing,
        marker: opts.marker ?? false,
        promote: opts.promote ?? false,
        acceptAccuracy: opts.acceptAccuracy ?? false,
        workRoot: opts.workDir ?? defaultWorkRoot(),
        storeRoot: opts.storeRoot,
        ...(opts.config === undefined ? {} : { modelsConfig: opts.config }),
        logger,
        signal,
        onProgress: (e) => progress.update(e.stage, e.current, e.total, e.message),
      }),
    );
  } finally {
    progress.stop();
  }
  if (budget !== undefined) await applyDefaultWorkBudget(budget, logger);
  return result;
}

/**
 * The default work dir keeps to its budget (TRTFORGE_WORK_BUDGET, docs/pipeline.md) after every
 * successful build; a --work-dir given by hand is the operator's to manage (build-engine gc).
 */
async function applyDefaultWorkBudget(budget: WorkBudget, logger: ReturnType<typeof cliLogger>): Promise<void> {
  const report = await applyWorkBudget(defaultWorkRoot(), budget, logger).catch((err: unknown) => {
    logger.warn({ reason: (err as Error).message }, "could not apply the work dir budget; run build-engine gc");
    return undefined;
  });
  if (report !== undefined && report.removed.length > 0) {
    logger.info(
      { workDir: report.workDir, removed: report.removed.length, bytesBefore: report.bytesBefore, bytesAfter: report.bytesAfter },
      "work dir kept to its budget",
    );
  }
}
