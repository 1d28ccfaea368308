import { z } from "zod";
import { ForgeError, type Logger } from "@trtforge/core";
import { protocolLineParser, protocolMessageSchema } from "./protocol-messages.js";
import { runPythonChild } from "./python-child.js";
import { checkedPython } from "./python-env.js";
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
  file: z.string().min(1),
  source_onnx: z.string(),
  model_type: z.string(),
  num_heads: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  attention_blocks: z.number().int().nonnegative(),
  attention_fused: z.number().int().nonnegative(),
  fused_operators: z.record(z.string(), z.number().int()),
  optimizer: z.string(),
  float16: z.looseObject({ method: z.string() }),
  onnxruntime: z.string().min(1),
  onnx: z.string().min(1),
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

const parseMessage = protocolLineParser(protocolMessageSchema(GpuOptimizeReportSchema));

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
  const python = o.python ?? (await checkedPython());
  const timeoutMs = o.timeoutMs ?? 900_000;
  let report: GpuOptimizeReport | undefined;
  let childError: { message: string; fix?: string | undefined } | undefined;
  const result = await runPythonChild({
    python,
    args: [
      "-m",
      "trtforge_export.gpu_serving",
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
    timeoutMs,
    signal: o.signal,
    parseLine: parseMessage,
    onMessage: (m) => {
      if (m.type === "log") o.logger[m.level === "warning" ? "warn" : m.level]({ source: "gpu-serving" }, m.message);
      else if (m.type === "progress") o.logger.debug({ source: "gpu-serving", step: m.current, steps: m.total }, m.message ?? m.stage);
      else if (m.type === "result") report = m.report;
      else childError = { message: m.message, fix: m.fix };
    },
  });
  const unexpected = result.unexpected;
  if (result.canceled) throw new ForgeError("CANCELLED", "the GPU-serving optimization was cancelled", { fix: "run the command again" });
  if (result.timedOut) {
    throw new ForgeError(
      "EXPORT_TIMEOUT",
      `the GPU-serving optimization did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`,
      {
        fix: "check the machine's load and run again",
      },
    );
  }
  if (childError || result.exitCode !== 0 || report === undefined) {
    const why =
      childError?.message ??
      (result.signal ? `was killed by ${result.signal}` : `exited with status ${String(result.exitCode)} without a result`);
    throw new ForgeError(
      unexpected.length > 0 && !childError ? "EXPORT_PROTOCOL" : "EXPORT_CHILD_FAILED",
      `GPU-serving optimization of ${o.onnxPath}: ${why}${unexpected.length > 0 ? `; unexpected output: ${unexpected.slice(0, 3).join(" | ")}` : ""}\n--- stderr ---\n${result.stderr || "(empty)"}`,
      {
        input: o.onnxPath,
        fix: childError?.fix ?? "read the stderr above; `build-engine --check-only --for export` checks the Python environment",
      },
    );
  }
  return report;
}
