import { z } from "zod";
import type { Logger } from "@trtforge/core";
import { FUSED_ONNX_REPORT_FIELDS, runOptimizer } from "./run-optimizer.js";

/** How the CPU-serving ONNX is made: fused only, or fused with int8 weights (dynamic quantization). */
export const CPU_QUANTIZATIONS = ["none", "dynamic-int8"] as const;
export type CpuQuantization = (typeof CPU_QUANTIZATIONS)[number];

export const CpuOptimizeReportSchema = z.looseObject({
  ...FUSED_ONNX_REPORT_FIELDS,
  quantization: z
    .looseObject({ method: z.string(), weights: z.string(), activations: z.string(), op_types: z.array(z.string()) })
    .nullable(),
  seconds: z.number(),
});
export type CpuOptimizeReport = z.infer<typeof CpuOptimizeReportSchema>;

export interface OptimizeForCpuOptions {
  onnxPath: string;
  /** The Hugging Face folder the ONNX was exported from (its config.json gives heads and hidden size). */
  modelDir: string;
  out: string;
  quantization: CpuQuantization;
  logger: Logger;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
  /** Default: the pinned, checked Python environment. */
  python?: string;
}

/**
 * Runs python -m trtforge_export.cpu_serving: attention, LayerNorm and GELU fused for ONNX Runtime's
 * CPU kernels, optionally int8 weights. Same child handling as the exporter: JSON lines on stdout,
 * killed on timeout or abort, stderr's tail in the error when it crashes.
 */
export async function optimizeForCpu(o: OptimizeForCpuOptions): Promise<CpuOptimizeReport> {
  return runOptimizer({
    module: "trtforge_export.cpu_serving",
    args: ["--onnx", o.onnxPath, "--model", o.modelDir, "--out", o.out, "--quantization", o.quantization],
    report: CpuOptimizeReportSchema,
    label: "CPU-serving",
    input: o.onnxPath,
    timeoutMs: o.timeoutMs ?? 600_000,
    logger: o.logger,
    signal: o.signal,
    python: o.python,
  });
}
