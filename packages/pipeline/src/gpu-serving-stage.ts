import { join } from "node:path";
import { ForgeError, writeFileAtomic } from "@trtforge/core";
import { GPU_SERVING_ONNX, GPU_SERVING_RECORD } from "@trtforge/engine-format";
import { splitArticles } from "@trtforge/articles";
import { optimizeForGpu, type GpuOptimizeReport, type GpuServingFigure, type ShapeCase } from "@trtforge/export";
import { onnxSha256 } from "@trtforge/onnx-graph";
import { contentKey } from "./content-key.js";
import { gatedOutputs, type CpuServingStageOptions } from "./cpu-serving-stage.js";
import { runStage } from "./stage-dir.js";

/** The fp16 variant's mean cosine to PyTorch fp32 over the held-out articles and the profile shapes. */
export const GPU_SERVING_MIN_COSINE = 0.999;
/** Its 1st-percentile cosine: a few articles far off must fail the gate even when the mean passes. */
export const GPU_SERVING_MIN_COSINE_P1 = 0.998;
/** Share of rows whose label equals PyTorch fp32's, for classifiers. */
export const GPU_SERVING_MIN_LABEL_AGREEMENT = 0.99;
/** The candidate the gate judges (the fused fp32 graph is measured beside it, to tell fusion from fp16 losses). */
const GATED_CANDIDATE = "fused-fp16";

/** build-engine --gpu-serving: the fp16 ONNX for ONNX Runtime's CUDA provider, or none. */
export const GPU_SERVING_CHOICES = ["fp16", "off"] as const;
export type GpuServingChoice = (typeof GPU_SERVING_CHOICES)[number];

export interface GpuServingStageOptions extends Omit<CpuServingStageOptions, "choice" | "minCosine" | "labelOutputs" | "labelDecision"> {
  choice: GpuServingChoice;
  /** The profile's min/opt/max shapes, each measured exactly. */
  shapes: readonly ShapeCase[];
  /** Longest sequence of the profile: held-out articles are cut there, as serving would. */
  maxSeqLen: number;
}

/** What gpu-serving.json records: the graph work, and its accuracy against PyTorch fp32 where it was measured. */
export interface GpuServingRecord {
  file: string;
  sha256: string;
  source_onnx_sha256: string;
  precision: "fp16";
  optimization: Omit<GpuOptimizeReport, "validation" | "file">;
  validation: GpuOptimizeReport["validation"];
  gate: { candidate: string; outputs: string[]; min_cosine: number; min_cosine_p1: number; min_label_agreement: number };
}

export interface GpuServingStageResult {
  dir: string;
  reused: boolean;
  onnxPath: string;
  recordPath: string;
  record: GpuServingRecord;
}

/**
 * The GPU-serving ONNX of a version: the fp32 export fused and converted to fp16 (inputs and outputs
 * kept), measured against PyTorch fp32 on held-out articles and at the profile's shapes, and gated.
 * Made and measured without a GPU: the gate judges the fp16 graph on every provider the pinned
 * Python's ONNX Runtime has (its CPU provider always).
 */
export async function gpuServingStage(o: GpuServingStageOptions): Promise<GpuServingStageResult | undefined> {
  if (o.choice === "off") return undefined;
  const gate = {
    candidate: GATED_CANDIDATE,
    outputs: gatedOutputs(o.outputs),
    min_cosine: GPU_SERVING_MIN_COSINE,
    min_cosine_p1: GPU_SERVING_MIN_COSINE_P1,
    min_label_agreement: GPU_SERVING_MIN_LABEL_AGREEMENT,
  };
  const key = contentKey({
    stage: "gpu-serving",
    onnx: o.onnxSha256,
    precision: o.choice,
    dataset: o.articles.sha256,
    samples: o.calibrationSamples,
    heldOut: o.heldOut,
    seed: o.seed,
    shapes: o.shapes,
    seqLen: o.maxSeqLen,
    batchSize: o.batchSize,
    tool: o.toolVersion,
  });
  const result = await runStage<GpuServingRecord>(o.workRoot, "gpu-serving", key, async (temp) => {
    const onnxPath = join(temp, GPU_SERVING_ONNX);
    // Held out from calibration, as the CPU-serving and precision stages measure.
    const { heldOut } = splitArticles(o.articles, { seed: o.seed, sampleSize: Math.max(o.calibrationSamples, 1), heldOutSize: o.heldOut });
    const textsPath = join(temp, "held-out-texts.json");
    await writeFileAtomic(textsPath, JSON.stringify(heldOut.map((a) => a.text)));
    const report = await optimizeForGpu({
      onnxPath: o.onnxPath,
      modelDir: o.modelDir,
      out: onnxPath,
      textsPath,
      shapes: o.shapes,
      seqLen: o.maxSeqLen,
      batchSize: o.batchSize,
      logger: o.logger,
      signal: o.signal,
    });
    const { validation, file: _file, ...optimization } = report;
    const record: GpuServingRecord = {
      file: GPU_SERVING_ONNX,
      sha256: await onnxSha256(onnxPath),
      source_onnx_sha256: o.onnxSha256,
      precision: "fp16",
      optimization,
      validation,
      gate,
    };
    await writeFileAtomic(join(temp, GPU_SERVING_RECORD), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  });
  if (result.reused) o.logger.info({ dir: result.dir }, "gpu-serving: reusing an identical earlier result");
  for (const f of result.summary.validation.figures) {
    o.logger.info(
      {
        stage: "gpu-serving",
        candidate: f.candidate,
        provider: f.provider,
        output: f.output,
        cosine_mean: f.cosine_mean,
        cosine_p1: f.cosine_p1,
      },
      `gpu-serving ${f.candidate} on ${f.provider} vs PyTorch fp32 ${f.output}: cosine mean ${f.cosine_mean.toFixed(6)} p1 ${f.cosine_p1.toFixed(6)} over ${f.samples}`,
    );
  }
  assertGpuServingAccuracy(result.summary.validation.figures, gate);
  return {
    dir: result.dir,
    reused: result.reused,
    onnxPath: join(result.dir, GPU_SERVING_ONNX),
    recordPath: join(result.dir, GPU_SERVING_RECORD),
    record: result.summary,
  };
}

/** Refuses a variant whose gated figures miss the gate, or that no provider could run at all. */
export function assertGpuServingAccuracy(figures: readonly GpuServingFigure[], gate: GpuServingRecord["gate"]): void {
  const judged = figures.filter((f) => f.candidate === gate.candidate && gate.outputs.includes(f.output));
  if (judged.length === 0) {
    throw new ForgeError(
      "GPU_SERVING_ACCURACY_FAILED",
      `the GPU-serving ONNX could not be measured: no ONNX Runtime provider ran it for ${gate.outputs.join(", ")}`,
      {
        input: "--gpu-serving",
        fix: "check the pinned Python's onnxruntime (scripts/setup-python.sh), or pass --gpu-serving off",
      },
    );
  }
  const failing = judged.filter(
    (f) =>
      !(f.cosine_mean >= gate.min_cosine) ||
      !(f.cosine_p1 >= gate.min_cosine_p1) ||
      (f.label_agreement !== undefined && !(f.label_agreement >= gate.min_label_agreement)),
  );
  if (failing.length === 0) return;
  throw new ForgeError(
    "GPU_SERVING_ACCURACY_FAILED",
    `the GPU-serving ONNX (fp16) misses its accuracy gate against PyTorch fp32 (cosine mean ≥ ${gate.min_cosine}, 1st percentile ≥ ${gate.min_cosine_p1}, labels agree ≥ ${gate.min_label_agreement}):\n${failing
      .map(
        (f) =>
          `  ${f.output} on ${f.provider}: cosine mean ${f.cosine_mean.toFixed(6)} p1 ${f.cosine_p1.toFixed(6)} min ${f.cosine_min.toFixed(6)} over ${f.samples}${f.label_agreement === undefined ? "" : `, labels agree ${(f.label_agreement * 100).toFixed(1)}%`}`,
      )
      .join("\n")}`,
    { input: "--gpu-serving", fix: "pass --gpu-serving off (the fp32 export then serves on the GPU) and report the model" },
  );
}

/** The published files of the stage (none when it was turned off). */
export function gpuServingFiles(stage: { onnxPath: string; recordPath: string } | undefined): { path: string; sourcePath: string }[] {
  if (!stage) return [];
  return [
    { path: GPU_SERVING_ONNX, sourcePath: stage.onnxPath },
    { path: GPU_SERVING_RECORD, sourcePath: stage.recordPath },
  ];
}
