import { ForgeError, type Logger } from "@trtforge/core";
import { runPythonChild } from "./python-child.js";
import { formatShapeCases, type ShapeCase } from "./shape-cases.js";
import { parseExporterLine, type ExportProgress, type ExportReport } from "./protocol.js";
import type { HfTaskChoice } from "@trtforge/engine-format";

export interface ExporterArgs {
  modelDir: string;
  outDir: string;
  task: HfTaskChoice;
  opset: number;
  samplesFile: string;
  maxSamples: number;
  seqLen: number;
  batchSize: number;
  modelId?: string | undefined;
  revision?: string | undefined;
  externalData?: "auto" | "always" | "never";
  /** Full shapes to compute references at, besides the samples (see ShapeCase). */
  shapes?: readonly ShapeCase[] | undefined;
}

export interface RunExporterOptions {
  python: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  logger: Logger;
  onProgress?: ((progress: ExportProgress) => void) | undefined;
  /** The Python module to run and where to find it; tests put stand-in exporters here. */
  module?: string;
  pythonPath?: string;
}

const CHILD_CODES = {
  NOT_A_MODEL: "EXPORT_NOT_A_MODEL",
  TASK_UNSUPPORTED: "EXPORT_TASK_UNSUPPORTED",
  NEEDS_HUB: "EXPORT_NEEDS_HUB",
  BAD_INPUT: "EXPORT_CHILD_FAILED",
  INTERNAL: "EXPORT_CHILD_FAILED",
} as const;

function argv(module: string, a: ExporterArgs): string[] {
  const args = [
    "-m",
    module,
    "--model",
    a.modelDir,
    "--out",
    a.outDir,
    "--task",
    a.task,
    "--opset",
    String(a.opset),
    "--samples",
    a.samplesFile,
    "--max-samples",
    String(a.maxSamples),
    "--seq-len",
    String(a.seqLen),
    "--batch-size",
    String(a.batchSize),
    "--external-data",
    a.externalData ?? "auto",
  ];
  if (a.modelId) args.push("--model-id", a.modelId);
  if (a.revision) args.push("--revision", a.revision);
  if (a.shapes && a.shapes.length > 0) args.push("--shapes", formatShapeCases(a.shapes));
  return args;
}

/**
 * Runs the exporter and returns its report. The child is killed on timeout and on abort (Ctrl-C);
 * a child that fails says why through its error message or, when it crashed, its stderr.
 */
export async function runExporter(args: ExporterArgs, options: RunExporterOptions): Promise<ExportReport> {
  let report: ExportReport | undefined;
  let childError: { code: keyof typeof CHILD_CODES; message: string; fix?: string | undefined } | undefined;
  const result = await runPythonChild({
    python: options.python,
    args: argv(options.module ?? "trtforge_export", args),
    pythonPath: options.pythonPath,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    parseLine: parseExporterLine,
    onMessage: (message) => {
      if (message.type === "progress") options.onProgress?.(message);
      else if (message.type === "log")
        options.logger[message.level === "warning" ? "warn" : message.level]({ source: "exporter" }, message.message);
      else if (message.type === "result") report = message.report;
      else childError = { code: message.code, message: message.message, fix: message.fix };
    },
  });
  const protocolErrors = result.unexpected;

  if (result.canceled) {
    throw new ForgeError("CANCELLED", "export cancelled: the exporter was stopped", { fix: "run the command again to export" });
  }
  if (result.timedOut) {
    throw new ForgeError("EXPORT_TIMEOUT", `the exporter did not finish within ${Math.round(options.timeoutMs / 1000)} s and was stopped`, {
      fix: "raise --export-timeout, or check the machine's load",
      details: { stderr: result.stderr },
    });
  }
  if (childError) {
    throw new ForgeError(CHILD_CODES[childError.code], `exporter: ${childError.message}`, {
      input: args.modelDir,
      ...(childError.fix ? { fix: childError.fix } : {}),
    });
  }
  if (result.exitCode !== 0 || report === undefined) {
    const why = result.signal ? `was killed by ${result.signal}` : `exited with status ${String(result.exitCode)}`;
    throw new ForgeError(
      protocolErrors.length > 0 ? "EXPORT_PROTOCOL" : "EXPORT_CHILD_FAILED",
      `the exporter ${why} without a result${protocolErrors.length > 0 ? `; unexpected output: ${protocolErrors.slice(0, 3).join(" | ")}` : ""}\n--- exporter stderr ---\n${result.stderr || "(empty)"}`,
      {
        input: args.modelDir,
        fix: "read the exporter's stderr above; run `build-engine --check-only --for export` to check the Python environment",
      },
    );
  }
  return report;
}
