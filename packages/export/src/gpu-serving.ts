import { z } from "zod";
import type { Logger } from "@trtforge/core";
import { FUSED_ONNX_REPORT_FIELDS, runOptimizer } from "./run-optimizer.js";
import type { ShapeCase } from "./shape-cases.js";

const FigureSchema = z.looseObject({
  candidate: z.string(),
  provider: z.string(),
  output: z.string(),
  reference: z.string(),
  samples: z.number().int().nonnegative(),
  cosine_mean: z.number(),
  cosine_p1: z.number(),
  cosine_min: z.number(),
  max_abs_diff: z.number(),
  label_agreement: z.number().optional(),
});
export type GpuServingFigure = z.infer<typeof FigureSchema>;

export const GpuOptimizeReportSchema = z.looseObject({
  ...FUSED_ONNX_REPORT_FIELDS,
  float16: z.looseObject({ method: z.string() }),
  validation: z.looseObject({
    reference: z.string(),
    articles: z.number().int().positive(),
    shapes: z.array(z.object({ name: z.string(), batch: z.number().int(), seq_len: z.number().int() })),
    providers: z.array(z.string()),
    unavailable: z.record(z.string(), z.string()),
    figures: z.array(FigureSchema),
    outputs: z.array(z.string()),
  }),
  seconds: z.number(),
});
export type GpuOptimizeReport = z.infer<typeof GpuOptimizeReportSchema>;

export interface OptimizeForGpuOptions {
  onnxPath: string;
  /** The Hugging Face folder the ONNX was exported from: config.json, and the PyTorch reference. */
  modelDir: string;
  out: string;
  /** A JSON file holding the held-out article texts the accuracy is measured on. */
  textsPath: string;
  /** The profile's shapes, each run exactly (rows of real articles filling every token). */
  shapes: readonly ShapeCase[];
  /** Longest sequence and batch size for the held-out articles. */
  seqLen: number;
  batchSize: number;
  logger: Logger;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
  python?: string;
}

/**
 * Runs python -m trtforge_export.gpu_serving: the export fused (attention, LayerNorm, GELU) and
 * converted to fp16 with inputs and outputs kept, then measured against PyTorch fp32 on the articles
 * and at the profile's shapes, on every ONNX Runtime provider that Python has (the CPU always).
 */
export async function optimizeForGpu(o: OptimizeForGpuOptions): Promise<GpuOptimizeReport> {
  return runOptimizer({
    module: "trtforge_export.gpu_serving",
    args: [
      "--onnx",
      o.onnxPath,
      "--model",
      o.modelDir,
      "--out",
      o.out,
      "--texts",
      o.textsPath,
      "--shapes",
      o.shapes.map((s) => `${s.name}:${s.batch}x${s.seqLen}`).join(","),
      "--seq-len",
      String(o.seqLen),
      "--batch-size",
      String(o.batchSize),
    ],
    report: GpuOptimizeReportSchema,
    label: "GPU-serving",
    input: o.onnxPath,
    timeoutMs: o.timeoutMs ?? 900_000,
    logger: o.logger,
    signal: o.signal,
    python: o.python,
  });
}
