import { z } from "zod";
import { ForgeError, type Logger } from "@trtforge/core";
import { protocolLineParser, protocolMessageSchema } from "./protocol-messages.js";
import { runPythonChild, type LineReading } from "./python-child.js";
import { checkedPython } from "./python-env.js";

/** What both serving optimizers report of the fused ONNX they wrote, and the versions that wrote it. */
export const FUSED_ONNX_REPORT_FIELDS = {
  file: z.string().min(1),
  source_onnx: z.string(),
  model_type: z.string(),
  num_heads: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  attention_blocks: z.number().int().nonnegative(),
  attention_fused: z.number().int().nonnegative(),
  fused_operators: z.record(z.string(), z.number().int()),
  optimizer: z.string(),
  onnxruntime: z.string().min(1),
  onnx: z.string().min(1),
};

/** A protocol message with the report still unchecked by type (the parser has checked it against the schema). */
type ProtocolMessage = z.infer<ReturnType<typeof protocolMessageSchema<z.ZodUnknown>>>;

export interface RunOptimizerOptions<Report extends z.ZodType> {
  /** The Python module run with -m, e.g. trtforge_export.cpu_serving. */
  module: string;
  args: string[];
  /** The optimizer's report, what its result line carries. */
  report: Report;
  /** How messages and logs name it: "CPU-serving"; its log source is the same in lower case. */
  label: string;
  /** The ONNX being optimized: the error's input. */
  input: string;
  timeoutMs: number;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Default: the pinned, checked Python environment. */
  python?: string | undefined;
}

/**
 * Runs one of the Python serving optimizers and returns its report. Same child handling as the
 * exporter: JSON lines on stdout, killed on timeout or abort, stderr's tail in the error when it
 * crashes.
 */
export async function runOptimizer<Report extends z.ZodType>(o: RunOptimizerOptions<Report>): Promise<z.infer<Report>> {
  const python = o.python ?? (await checkedPython());
  const source = o.label.toLowerCase();
  let report: z.infer<Report> | undefined;
  let childError: { message: string; fix?: string | undefined } | undefined;
  const parseLine = protocolLineParser(protocolMessageSchema(o.report)) as (line: string) => LineReading<ProtocolMessage>;
  const result = await runPythonChild<ProtocolMessage>({
    python,
    args: ["-m", o.module, ...o.args],
    timeoutMs: o.timeoutMs,
    signal: o.signal,
    parseLine,
    onMessage: (m) => {
      if (m.type === "log") o.logger[m.level === "warning" ? "warn" : m.level]({ source }, m.message);
      else if (m.type === "progress") o.logger.debug({ source, step: m.current, steps: m.total }, m.message ?? m.stage);
      else if (m.type === "result") report = m.report as z.infer<Report>;
      else childError = { message: m.message, fix: m.fix };
    },
  });
  const unexpected = result.unexpected;
  if (result.canceled) throw new ForgeError("CANCELLED", `the ${o.label} optimization was cancelled`, { fix: "run the command again" });
  if (result.timedOut) {
    throw new ForgeError(
      "EXPORT_TIMEOUT",
      `the ${o.label} optimization did not finish within ${Math.round(o.timeoutMs / 1000)} s and was stopped`,
      { fix: "check the machine's load and run again" },
    );
  }
  if (childError || result.exitCode !== 0 || report === undefined) {
    const why =
      childError?.message ??
      (result.signal ? `was killed by ${result.signal}` : `exited with status ${String(result.exitCode)} without a result`);
    throw new ForgeError(
      unexpected.length > 0 && !childError ? "EXPORT_PROTOCOL" : "EXPORT_CHILD_FAILED",
      `${o.label} optimization of ${o.input}: ${why}${unexpected.length > 0 ? `; unexpected output: ${unexpected.slice(0, 3).join(" | ")}` : ""}\n--- stderr ---\n${result.stderr || "(empty)"}`,
      {
        input: o.input,
        fix: childError?.fix ?? "read the stderr above; `build-engine --check-only --for export` checks the Python environment",
      },
    );
  }
  return report;
}
