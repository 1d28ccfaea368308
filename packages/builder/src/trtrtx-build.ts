import { readFile, rm } from "node:fs/promises";
import { z } from "zod";
import { ForgeError, type Logger, type OnProgress } from "@trtforge/core";
import { readPlanHeader, RTX_TARGET_BITS, type Precision } from "@trtforge/engine-format";
import { protocolLineParser, protocolMessageSchema, runPythonChild } from "@trtforge/export";
import type { ShapeProfile } from "@trtforge/native";

/**
 * TensorRT-RTX through its Python bindings (python -m trtforge_trtrtx): PyPI ships its shared
 * libraries and bindings but no C++ headers, so the native addon cannot link it. It builds with no
 * GPU present, for the compute capabilities it is told (default: the library's portable set).
 */
export const TRTRTX_BUILDER = "tensorrt-rtx";

/** The TensorRT-RTX of python/requirements-trtrtx.lock; a plan of another version is refused, so build keys stay true. */
export const TRTRTX_VERSION = "1.7.1.116";

/** What `--compute-capability` accepts: the targets TensorRT-RTX 1.7 can compile for. */
export const TRTRTX_COMPUTE_CAPABILITIES = RTX_TARGET_BITS;

export interface RtxBuildRequest {
  python: string;
  onnxPath: string;
  /** Where the plan is written (atomically, by the child). */
  planPath: string;
  precision: Precision;
  profiles: ShapeProfile[];
  /** Empty: the library's default target set. */
  computeCapabilities: readonly string[];
  logger: Logger;
  signal?: AbortSignal | undefined;
  onProgress?: OnProgress | undefined;
  timeoutMs?: number | undefined;
}

export interface RtxBuildOutcome {
  engineBytes: Buffer;
  version: string;
  /** Read back from the plan's own header, not from the request. */
  computeCapabilities: string[];
  warnings: string[];
  buildSeconds: number;
  peakRssBytes: number;
}

const ResultSchema = z.looseObject({
  plan_file: z.string(),
  plan_bytes: z.number().int().positive(),
  plan_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  trt_rtx_version: z.string(),
  warnings: z.array(z.string()),
  build_seconds: z.number(),
  peak_rss_bytes: z.number(),
});

const MessageSchema = protocolMessageSchema(ResultSchema);
type Message = z.infer<typeof MessageSchema>;
const parseLine = protocolLineParser(MessageSchema);

/**
 * Checks what only the options decide, before any work: int8 (no measured path through
 * TensorRT-RTX for our Q/DQ ONNX, see docs/native.md) and unknown target capabilities.
 * Returns the capabilities as major.minor ("86" and "8.6" both mean 8.6).
 */
export function checkRtxOptions(precision: Precision, computeCapabilities: readonly string[]): string[] {
  if (precision === "int8") {
    throw new ForgeError("BUILDER_PRECISION_UNSUPPORTED", "--builder tensorrt-rtx does not build --precision int8", {
      input: "--precision",
      fix: "build fp16 or fp32 with TensorRT-RTX (its int8 is weight-only GEMM; our Q/DQ ONNX has no measured path, docs/native.md), or int8 with --builder tensorrt",
    });
  }
  return computeCapabilities.map((raw) => {
    const text = raw.trim();
    const cc = /^\d{2,3}$/.test(text) ? `${text.slice(0, -1)}.${text.slice(-1)}` : text;
    if (!TRTRTX_COMPUTE_CAPABILITIES.includes(cc)) {
      throw new ForgeError("INVALID_OPTION", `--compute-capability ${raw} is not a TensorRT-RTX target`, {
        input: "--compute-capability",
        fix: `use one or more of ${TRTRTX_COMPUTE_CAPABILITIES.map((c) => c.replace(".", "")).join(", ")} (no Hopper 9.0: TensorRT-RTX does not target it)`,
      });
    }
    return cc;
  });
}

const LOG_LEVEL = { debug: "debug", info: "info", warning: "warn", error: "error" } as const;

/** Runs one TensorRT-RTX build in the pinned Python; its log goes to pino, its phases to onProgress. */
export async function buildWithTensorRtRtx(request: RtxBuildRequest): Promise<RtxBuildOutcome> {
  const capabilities = checkRtxOptions(request.precision, request.computeCapabilities);
  const profile = request.profiles.map((p) => ({ input: p.input, min: p.min, opt: p.opt, max: p.max }));
  let result: z.infer<typeof ResultSchema> | undefined;
  let failure: Extract<Message, { type: "error" }> | undefined;
  const outcome = await runPythonChild<Message>({
    python: request.python,
    args: [
      "-m",
      "trtforge_trtrtx",
      "build",
      "--onnx",
      request.onnxPath,
      "--out",
      request.planPath,
      "--precision",
      request.precision,
      "--profile",
      JSON.stringify(profile),
      ...capabilities.flatMap((cc) => ["--compute-capability", cc]),
    ],
    timeoutMs: request.timeoutMs ?? 30 * 60_000,
    signal: request.signal,
    parseLine,
    onMessage(message) {
      if (message.type === "progress") request.onProgress?.({ stage: message.stage, current: message.current, total: message.total });
      else if (message.type === "log") request.logger[LOG_LEVEL[message.level]]({ source: "tensorrt-rtx" }, message.message);
      else if (message.type === "result") result = message.report;
      else failure = message;
    },
  });
  if (outcome.canceled) {
    await rm(request.planPath, { force: true });
    throw new ForgeError("CANCELLED", "the TensorRT-RTX build was cancelled", { input: request.onnxPath, fix: "run the build again" });
  }
  if (failure !== undefined || result === undefined) {
    const code =
      failure?.code === "UNAVAILABLE" ? "TRTRTX_UNAVAILABLE" : failure?.code === "REJECTED" ? "TRT_PARSE_FAILED" : "TRT_BUILD_FAILED";
    const detail =
      failure?.message ??
      `the TensorRT-RTX child ended with exit ${outcome.exitCode ?? outcome.signal}${outcome.timedOut ? " (timed out)" : ""}:\n${outcome.stderr.slice(-4000)}`;
    throw new ForgeError(code, detail, { input: request.onnxPath, fix: failure?.fix ?? "read the TensorRT-RTX log above" });
  }
  const engineBytes = await readFile(result.plan_file);
  const reading = readPlanHeader(engineBytes);
  if (reading.ok && reading.header.library === "tensorrt-rtx" && reading.header.version !== TRTRTX_VERSION) {
    throw new ForgeError(
      "TRTRTX_UNAVAILABLE",
      `the installed TensorRT-RTX is ${reading.header.version}, python/requirements-trtrtx.lock pins ${TRTRTX_VERSION}`,
      { input: request.python, fix: "run bash scripts/setup-python.sh --with-trtrtx" },
    );
  }
  if (!reading.ok || reading.header.library !== "tensorrt-rtx") {
    throw new ForgeError("TRT_BUILD_FAILED", `TensorRT-RTX wrote ${result.plan_file}, which is not a TensorRT-RTX plan`, {
      input: result.plan_file,
      fix: "report this with the TensorRT-RTX version",
    });
  }
  return {
    engineBytes,
    version: reading.header.version,
    computeCapabilities: reading.header.compute_capabilities ?? [],
    warnings: result.warnings,
    buildSeconds: result.build_seconds,
    peakRssBytes: result.peak_rss_bytes,
  };
}
