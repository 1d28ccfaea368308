import { join } from "node:path";
import { ForgeError, writeFileAtomic } from "@trtforge/core";
import { CPU_SERVING_ONNX, CPU_SERVING_RECORD } from "@trtforge/engine-format";
import { compareModels, type AccuracyFigure } from "@trtforge/accuracy";
import { resolveOnnxruntimeNodeVersion } from "@trtforge/toolchain";
import { splitArticles } from "@trtforge/articles";
import { optimizeForCpu, type CpuOptimizeReport, type CpuQuantization } from "@trtforge/export";
import { onnxSha256 } from "@trtforge/onnx-graph";
import { loadTokenizer } from "@trtforge/tokenizer";
import { contentKey } from "./content-key.js";
import type { PrecisionStageOptions } from "./precision-stage.js";
import { runStage } from "./stage-dir.js";
import { throwIfCancelled } from "./cancel.js";

/** Sentence-embedding (every float output) mean cosine against fp32 the CPU form must reach. */
export const CPU_SERVING_MIN_COSINE = 0.99;
/** Share of held-out articles whose label must equal fp32's, for classifiers. */
export const CPU_SERVING_MIN_LABEL_AGREEMENT = 0.98;

/** build-engine --cpu-serving: int8 weights (the measured default), fused fp32, or no CPU artifact. */
export const CPU_SERVING_CHOICES = ["int8", "fp32", "off"] as const;
export type CpuServingChoice = (typeof CPU_SERVING_CHOICES)[number];
const QUANTIZATION_OF: Record<Exclude<CpuServingChoice, "off">, CpuQuantization> = { int8: "dynamic-int8", fp32: "none" };

/**
 * The precision stage's inputs it shares (the same export, articles and split, so the accuracy
 * articles are held out from calibration too), plus what only this stage takes.
 */
export interface CpuServingStageOptions extends Pick<
  PrecisionStageOptions,
  | "workRoot"
  | "onnxPath"
  | "onnxSha256"
  | "modelDir"
  | "articles"
  | "calibrationSamples"
  | "heldOut"
  | "seed"
  | "seqLen"
  | "batchSize"
  | "outputs"
  | "labelOutputs"
  | "labelDecision"
  | "toolVersion"
  | "logger"
  | "signal"
  | "onProgress"
> {
  choice: CpuServingChoice;
  /** The gate's cosine for the outputs gatedOutputs picks (all are measured and recorded); default CPU_SERVING_MIN_COSINE. */
  minCosine?: number | undefined;
  /** false: the caller judges the figures itself (build-engine's accuracy policy, which --accept-accuracy can override). */
  gate?: boolean | undefined;
}

/** What cpu-serving.json records: what was done to the graph, for which ONNX Runtime, how accurate. */
export interface CpuServingRecord {
  file: string;
  sha256: string;
  source_onnx_sha256: string;
  /** int8 or fp32: what the runtime reports as the served precision (cpu-<precision>). */
  precision: Exclude<CpuServingChoice, "off">;
  quantization: CpuQuantization;
  optimization: CpuOptimizeReport;
  /** The ONNX Runtime the graph was fused and quantized with (Python) and the one that measured it (Node). */
  tuned_for: { onnxruntime: string; onnxruntime_node: string };
  accuracy: AccuracyFigure[];
  held_out: number;
  gate: { outputs: string[]; min_cosine: number; min_label_agreement: number };
}

/**
 * What a served model hands out: the pooled sentence embedding or the logits. The per-token
 * last_hidden_state is measured and recorded but not gated where such an output exists: int8
 * weights cost it more (MiniLM on AG News: cosine 0.989 per token, 0.994 pooled), and the issue's
 * accuracy bar is the sentence embedding's.
 */
export function gatedOutputs(outputs: readonly string[]): string[] {
  const served = outputs.filter((name) => name !== "last_hidden_state");
  return served.length > 0 ? served : [...outputs];
}

export interface CpuServingStageResult {
  dir: string;
  reused: boolean;
  onnxPath: string;
  recordPath: string;
  record: CpuServingRecord;
}

/**
 * The CPU-serving ONNX of a version: the fp32 export with its attention, LayerNorm and GELU fused
 * for ONNX Runtime's CPU kernels and (by default) int8 weights, measured against fp32 on held-out
 * articles and gated. Keyed by the ONNX, the quantization, the articles and the tool version.
 */
export async function cpuServingStage(o: CpuServingStageOptions): Promise<CpuServingStageResult | undefined> {
  const choice = o.choice;
  if (choice === "off") return undefined;
  const quantization = QUANTIZATION_OF[choice];
  const onnxruntimeNode = resolveOnnxruntimeNodeVersion() ?? "unknown";
  // This run's thresholds: recorded with a fresh result, and checked on reuse too.
  const gate = {
    outputs: gatedOutputs(o.outputs),
    min_cosine: o.minCosine ?? CPU_SERVING_MIN_COSINE,
    min_label_agreement: CPU_SERVING_MIN_LABEL_AGREEMENT,
  };
  const key = contentKey({
    stage: "cpu-serving",
    onnx: o.onnxSha256,
    quantization,
    // The weight range of dynamic-int8 (7 bits since full-range weights saturated on hosts without
    // VNNI): a work dir's full-range artifact is not reused for it.
    weights: quantization === "dynamic-int8" ? "int8-7bit" : null,
    dataset: o.articles.sha256,
    samples: o.calibrationSamples,
    heldOut: o.heldOut,
    seed: o.seed,
    seqLen: o.seqLen,
    labels: o.labelDecision ?? null,
    onnxruntimeNode,
    tool: o.toolVersion,
  });
  const result = await runStage<CpuServingRecord>(o.workRoot, "cpu-serving", key, async (temp) => {
    const onnxPath = join(temp, CPU_SERVING_ONNX);
    const optimization = await optimizeForCpu({
      onnxPath: o.onnxPath,
      modelDir: o.modelDir,
      out: onnxPath,
      quantization,
      logger: o.logger,
      signal: o.signal,
    });
    if (optimization.attention_fused < optimization.attention_blocks) {
      o.logger.warn(
        { fused: optimization.attention_fused, blocks: optimization.attention_blocks },
        "cpu-serving: some attention blocks did not match the fusion pattern and stay unfused",
      );
    }
    throwIfCancelled(o.signal, "after the CPU-serving optimization");
    const { heldOut } = splitArticles(o.articles, { seed: o.seed, sampleSize: Math.max(o.calibrationSamples, 1), heldOutSize: o.heldOut });
    const accuracy = await compareModels({
      reference: o.onnxPath,
      candidate: onnxPath,
      referenceLabel: "fp32-onnx",
      candidateLabel: quantization === "dynamic-int8" ? "cpu-int8-dynamic-onnx" : "cpu-fp32-fused-onnx",
      tokenizer: await loadTokenizer(o.modelDir),
      texts: heldOut.map((a) => a.text),
      outputs: o.outputs,
      labelOutputs: o.labelOutputs,
      ...(o.labelDecision ? { labelDecision: o.labelDecision } : {}),
      seqLen: o.seqLen,
      batchSize: o.batchSize,
      signal: o.signal,
      onBatch: (done, total) => o.onProgress?.({ stage: "cpu-accuracy", current: done, total }),
    });
    throwIfCancelled(o.signal, "after the CPU-serving accuracy run");
    const record: CpuServingRecord = {
      file: CPU_SERVING_ONNX,
      sha256: await onnxSha256(onnxPath),
      source_onnx_sha256: o.onnxSha256,
      precision: choice,
      quantization,
      optimization,
      tuned_for: { onnxruntime: optimization.onnxruntime, onnxruntime_node: onnxruntimeNode },
      accuracy,
      held_out: heldOut.length,
      gate,
    };
    await writeFileAtomic(join(temp, CPU_SERVING_RECORD), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  });
  if (result.reused) o.logger.info({ dir: result.dir }, "cpu-serving: reusing an identical earlier result");
  // Checked on reuse too, against this run's thresholds: a stricter gate must be able to fail a cached result.
  if (o.gate !== false)
    assertCpuServingAccuracy(
      result.summary.accuracy.filter((f) => gate.outputs.includes(f.output)),
      gate.min_cosine,
      gate.min_label_agreement,
      quantization,
    );
  return {
    dir: result.dir,
    reused: result.reused,
    onnxPath: join(result.dir, CPU_SERVING_ONNX),
    recordPath: join(result.dir, CPU_SERVING_RECORD),
    record: result.summary,
  };
}

export function assertCpuServingAccuracy(
  figures: readonly AccuracyFigure[],
  minCosine: number,
  minLabelAgreement: number,
  quantization: CpuQuantization,
): void {
  const failing = figures.filter(
    (f) => !(f.cosine_mean >= minCosine) || (f.label_agreement !== undefined && !(f.label_agreement >= minLabelAgreement)),
  );
  if (failing.length === 0) return;
  throw new ForgeError(
    "CPU_SERVING_ACCURACY_FAILED",
    `the CPU-serving ONNX (${quantization}) misses its accuracy gate (cosine mean ≥ ${minCosine}, labels agree ≥ ${minLabelAgreement}) on ${failing[0]!.samples} held-out articles:\n${failing
      .map(
        (f) =>
          `  ${f.output}: cosine mean ${f.cosine_mean.toFixed(5)} min ${f.cosine_min.toFixed(5)}${f.label_agreement === undefined ? "" : `, labels agree ${(f.label_agreement * 100).toFixed(1)}%`}`,
      )
      .join("\n")}`,
    {
      input: "--cpu-serving",
      fix:
        quantization === "dynamic-int8"
          ? "pass --cpu-serving fp32 (fused, no int8) or --cpu-serving off"
          : "pass --cpu-serving off and report the model: the fused graph should match fp32",
    },
  );
}

/** The published files of the stage (none when it was turned off). */
export function cpuServingFiles(stage: { onnxPath: string; recordPath: string } | undefined): { path: string; sourcePath: string }[] {
  if (!stage) return [];
  return [
    { path: CPU_SERVING_ONNX, sourcePath: stage.onnxPath },
    { path: CPU_SERVING_RECORD, sourcePath: stage.recordPath },
  ];
}
