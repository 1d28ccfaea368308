import { readFile } from "node:fs/promises";
import { ForgeError, type ErrorCode, type Logger, type OnProgress, type Profile } from "@trtforge/core";
import type { AddonBinding, BuildEngineOptions, BuildResult, NativeProgressEvent } from "@trtforge/native";
import type { HardwareCompatibilityLevel, Precision } from "@trtforge/engine-format";
import { assertPrecisionApplied, summarizeLayerPrecisions, type LayerPrecisionSummary } from "./layer-precisions.js";

/**
 * One build through the addon: the addon's own options (the Profile among them, unchanged) passed
 * through as they are, plus what only this side handles (files to read, logging, cancellation).
 */
export interface TrtBuildRequest extends Omit<
  BuildEngineOptions,
  "profiles" | "calibrationCache" | "timingCache" | "logSeverity" | "excludeLeanRuntime"
> {
  precision: Precision;
  typing: "strong" | "weak";
  profile: Profile;
  workspaceBytes: number;
  builderOptimizationLevel: number;
  hardwareCompatibility: HardwareCompatibilityLevel;
  versionCompatible: boolean;
  /** TensorRT 10 weak-typed int8 only: the calibration cache the calibrator serves. */
  calibrationCachePath?: string | undefined;
  timingCache?: Uint8Array | undefined;
  deviceId: number;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** TensorRT's build phases as progress: the phase is the stage. */
  onProgress?: OnProgress | undefined;
}

export interface TrtBuildOutcome {
  result: BuildResult;
  layers: LayerPrecisionSummary;
}

const NATIVE_TO_FORGE: Record<string, ErrorCode> = {
  TRT_UNAVAILABLE: "TRT_UNAVAILABLE",
  TRT_PARSE_FAILED: "TRT_PARSE_FAILED",
  TRT_BUILD_FAILED: "TRT_BUILD_FAILED",
  TRT_MODE_REMOVED: "TRT_MODE_REMOVED",
  CANCELLED: "CANCELLED",
  INVALID_DEVICE_ID: "INVALID_DEVICE_ID",
  INPUT_MISMATCH: "INPUT_MISMATCH",
};

/** The addon's errors carry a `code` and `details`; they become ForgeErrors that name the ONNX. */
export function toForgeBuildError(err: unknown, onnxPath: string): ForgeError {
  const native = err as { code?: string; message?: string; details?: { nodeName?: string; operator?: string; message?: string }[] };
  const code = NATIVE_TO_FORGE[native.code ?? ""] ?? "TRT_BUILD_FAILED";
  const details = native.details ?? [];
  const where =
    code === "TRT_PARSE_FAILED" && details.length > 0
      ? `\n${details.map((d) => `  node ${d.nodeName ?? "?"} (${d.operator ?? "?"}): ${d.message ?? ""}`).join("\n")}`
      : "";
  return new ForgeError(code, `${native.message ?? String(err)}${where}`, {
    input: onnxPath,
    fix:
      code === "TRT_PARSE_FAILED"
        ? "the named operator is not supported by this TensorRT's ONNX parser: export at another --opset or update TensorRT"
        : "read the TensorRT log above",
    details: { native_code: native.code, details },
    cause: err,
  });
}

const LOG_LEVEL = { internal_error: "error", error: "error", warning: "warn", info: "info", verbose: "debug" } as const;

/**
 * Maps the pipeline's options onto the addon and runs one build: TensorRT's log goes to pino,
 * its progress phases to `onProgress`, Ctrl-C (the signal) cancels through the progress monitor, and
 * the engine inspector's layers must show the asked precision.
 */
export async function buildWithAddon(binding: AddonBinding, request: TrtBuildRequest): Promise<TrtBuildOutcome> {
  const steps = new Map<string, number>();
  const onProgress = (event: NativeProgressEvent) => {
    if (event.type === "phaseStart") {
      steps.set(event.phase, event.nbSteps);
      request.onProgress?.({ stage: event.phase, current: 0, total: event.nbSteps });
    } else if (event.type === "stepComplete") {
      request.onProgress?.({ stage: event.phase, current: event.step + 1, total: steps.get(event.phase) ?? event.step + 1 });
    }
  };
  const { calibrationCachePath, timingCache, logger: _logger, signal: _signal, onProgress: _onProgress, ...native } = request;
  let job;
  try {
    job = binding.buildEngine(
      {
        ...native,
        logSeverity: "info",
        ...(calibrationCachePath ? { calibrationCache: await readFile(calibrationCachePath) } : {}),
        ...(timingCache ? { timingCache } : {}),
      },
      { onLog: (entry) => request.logger[LOG_LEVEL[entry.severity]]({ source: "tensorrt" }, entry.message), onProgress },
    );
  } catch (err) {
    throw toForgeBuildError(err, request.onnxPath);
  }
  const onAbort = () => job.cancel();
  request.signal?.addEventListener("abort", onAbort, { once: true });
  let result: BuildResult;
  try {
    result = await job.promise;
  } catch (err) {
    throw toForgeBuildError(err, request.onnxPath);
  } finally {
    request.signal?.removeEventListener("abort", onAbort);
  }
  const layers = summarizeLayerPrecisions(result.inspectorJson);
  request.logger.info({ layers: layers.layers, by_precision: layers.byPrecision }, "engine layers by precision");
  assertPrecisionApplied(layers, request.precision);
  return { result, layers };
}
