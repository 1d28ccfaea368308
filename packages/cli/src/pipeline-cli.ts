import { Option, type Command } from "commander";
import {
  BUILD_OPTIONS,
  CPU_SERVING_CHOICES,
  applyWorkBudget,
  defaultWorkRoot,
  optionHelp,
  requestFromFlags,
  runPipeline,
  workBudgetFromEnv,
  type BuildOptionRow,
  type WorkBudget,
  type CpuServingChoice,
  GPU_SERVING_CHOICES,
  type GpuServingChoice,
  type PipelineResult,
} from "@trtforge/pipeline";
import { ForgeError } from "@trtforge/core";
import type { EvidenceChoice } from "@trtforge/model-store";
import { withSigintAbort } from "./abort-on-sigint.js";
import { createProgress } from "./progress.js";
import { EVIDENCE_FLAG_HELP, evidenceChoiceOf } from "./evidence-flags.js";
import { cliLogger } from "./run.js";

/**
 * The flags as commander hands them over: the build options of BUILD_OPTIONS (text, unset when not
 * given: the library settles defaults) under their flags' names, and the run's own flags.
 */
export interface PipelineCliOptions extends Record<string, unknown> {
  model?: string;
  modelId?: string;
  revision?: string;
  cpuServing?: CpuServingChoice;
  gpuServing?: GpuServingChoice;
  marker?: boolean;
  promote?: boolean;
  evidence?: string;
  withoutEvidence?: boolean;
  evidenceMaxAge?: string;
  acceptAccuracy?: boolean;
  workDir?: string;
  storeRoot?: string;
  config?: string;
  json?: boolean;
}

/**
 * A commander option for one row of BUILD_OPTIONS. No commander defaults: an unset flag reaches the
 * library as unset, so the record can say the value was a default.
 */
export function commanderOption(row: BuildOptionRow, flag = row.flag, help = optionHelp(row)): Option {
  const value =
    row.kind === "switch" ? "" : ` ${row.placeholder ?? (row.kind === "integer" ? "<n>" : row.kind === "decimal" ? "<x>" : "<value>")}`;
  const option = new Option(`${flag}${value}`, help);
  if (row.kind === "choice" && row.libraryChecked !== true) option.choices([...row.choices]);
  if (row.kind === "list") option.argParser((v: string, previous: string[] | undefined) => [...(previous ?? []), v]);
  return option;
}

/**
 * A row's option and its older names (aliases), hidden from help since the main flag's help names
 * them; giving both is refused.
 */
export function commanderOptions(row: BuildOptionRow, help = optionHelp(row)): Option[] {
  const main = commanderOption(row, row.flag, help);
  return [main, ...(row.aliases ?? []).map((name) => commanderOption(row, name).hideHelp().conflicts(main.attributeName()))];
}

/** The pipeline's options on the root command (`build-engine --model ...`): the run's flags, then one per build option. */
export function addPipelineOptions(program: Command): Command {
  program
    .option("--model <folder|store:agent[@version]>", "run the pipeline on this Hugging Face folder or ModelStore model")
    .option("--model-id <id>", "Hugging Face id to record (default: from the ModelStore)")
    .option("--revision <rev>", "Hugging Face revision to record (default: from the ModelStore)");
  for (const row of Object.values(BUILD_OPTIONS) as BuildOptionRow[]) for (const o of commanderOptions(row)) program.addOption(o);
  return program
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
    .option("--marker", "where TensorRT is absent, run every other stage for real and publish a marker")
    .option(
      "--promote",
      "make this build (fresh or reused) its agent's current version; without it current moves only when the agent has none yet; over an existing current it needs --evidence or --without-evidence",
    )
    .option("--evidence <report>", `with --promote: ${EVIDENCE_FLAG_HELP.evidence}`)
    .option("--without-evidence", `with --promote: ${EVIDENCE_FLAG_HELP.withoutEvidence}`)
    .option("--evidence-max-age <age>", `with --evidence: ${EVIDENCE_FLAG_HELP.evidenceMaxAge}`)
    .option(
      "--accept-accuracy",
      "publish even when int8/fp16 or the CPU-serving form is below its accuracy gate (docs/pipeline.md); recorded in provenance and shown by model-store show",
    )
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
        ...requestFromFlags(opts),
        model: opts.model!,
        modelId: opts.modelId,
        revision: opts.revision,
        cpuServing: opts.cpuServing,
        gpuServing: opts.gpuServing,
        marker: opts.marker ?? false,
        promote: opts.promote ?? false,
        promoteEvidence: promoteEvidenceOf(opts),
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

/** The evidence flags mean something only with --promote: alone they are a usage error, not ignored. */
function promoteEvidenceOf(opts: PipelineCliOptions): EvidenceChoice | undefined {
  const choice = evidenceChoiceOf(opts);
  if (choice !== undefined && opts.promote !== true) {
    throw new ForgeError("USAGE", "--evidence and --without-evidence apply to --promote, which was not given", {
      input: "--promote",
      fix: "add --promote, or drop the evidence flag",
    });
  }
  return choice;
}
