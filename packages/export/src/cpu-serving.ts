import { z } from "zod";
import { ForgeError, type Logger } from "@trtforge/core";
import { protocolLineParser, protocolMessageSchema } from "./protocol-messages.js";
import { runPythonChild } from "./python-child.js";
import { checkedPython } from "./python-env.js";

/** How the CPU-serving ONNX is made: fused only, or fused with int8 weights (dynamic quantization). */
export const CPU_QUANTIZATIONS = ["none", "dynamic-int8"] as const;
export type CpuQuantization = (typeof CPU_QUANTIZATIONS)[number];

export const CpuOptimizeReportSchema = z.looseObject({
  file: z.string().min(1),
  source_onnx: z.string(),
  model_type: z.string(),
  num_heads: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  attention_blocks: z.number().int().nonnegative(),
  attention_fused: z.number().int().nonnegative(),
  fused_operators: z.record(z.string(), z.number().int()),
  optimizer: z.string(),
  quantization: z
    .looseObject({ method: z.string(), weights: z.string(), activations: z.string(), op_types: z.array(z.string()) })
    .nullable(),
  onnxruntime: z.string().min(1),
  onnx: z.string().min(1),
  seconds: z.number(),
});
export type CpuOptimizeReport = z.infer<typeof CpuOptimizeReportSchema>;

const parseMessage = protocolLineParser(protocolMessageSchema(CpuOptimizeReportSchema));

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
  const python = o.python ?? (await checkedPython());
  const timeoutMs = o.timeoutMs ?? 600_000;
  let report: CpuOptimizeReport | undefined;
  let childError: { message: string; fix?: string | undefined } | undefined;
  const result = await runPythonChild({
    python,
    args: [
      "-m",
      "trtforge_export.cpu_serving",
      "--onnx",
      o.onnxPath,
      "--model",
      o.modelDir,
      "--out",
      o.out,
      "--quantization",
      o.quantization,
    ],
    timeoutMs,
    signal: o.signal,
    parseLine: parseMessage,
    onMessage: (m) => {
      if (m.type === "log") o.logger[m.level === "warning" ? "warn" : m.level]({ source: "cpu-serving" }, m.message);
      else if (m.type === "progress") o.logger.debug({ source: "cpu-serving", step: m.current, steps: m.total }, m.message ?? m.stage);
      else if (m.type === "result") report = m.report;
      else childError = { message: m.message, fix: m.fix };
    },
  });
  const unexpected = result.unexpected;
  if (result.canceled) throw new ForgeError("CANCELLED", "the CPU-serving optimization was cancelled", { fix: "run the command again" });
  if (result.timedOut) {
    throw new ForgeError(
      "EXPORT_TIMEOUT",
      `the CPU-serving optimization did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`,
      { fix: "check the machine's load and run again" },
    );
  }
  if (childError || result.exitCode !== 0 || report === undefined) {
    const why =
      childError?.message ??
      (result.signal ? `was killed by ${result.signal}` : `exited with status ${String(result.exitCode)} without a result`);
    throw new ForgeError(
      unexpected.length > 0 && !childError ? "EXPORT_PROTOCOL" : "EXPORT_CHILD_FAILED",
      `CPU-serving optimization of ${o.onnxPath}: ${why}${unexpected.length > 0 ? `; unexpected output: ${unexpected.slice(0, 3).join(" | ")}` : ""}\n--- stderr ---\n${result.stderr || "(empty)"}`,
      {
        input: o.onnxPath,
        fix: childError?.fix ?? "read the stderr above; `build-engine --check-only --for export` checks the Python environment",
      },
    );
  }
  return report;
}
