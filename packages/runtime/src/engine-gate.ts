import { readFile } from "node:fs/promises";
import { ForgeError, fsError, isForgeError, type Logger } from "@trtforge/core";
import type { EngineMetadata } from "@trtforge/engine-format";
import { loadAddon, type AddonBinding, type NativeEngine } from "@trtforge/native";
import { assertEngineLoadable, rtxComputeCapabilityVerdict, type Problem } from "@trtforge/verify";
import type { FallbackReason } from "./contract.js";

export interface EngineGateOptions {
  enginePath: string;
  metadata: EngineMetadata;
  /** The addon to load with; default loadAddon() (the built trtforge_trt<major>.node). */
  addon?: AddonBinding;
  deviceId: number;
  forceOnnxRuntime: boolean;
  logger: Logger;
}

export type EngineDecision =
  | { backend: "tensorrt"; engine: NativeEngine; addon: AddonBinding; device: { uuid: string; computeCapability: string } }
  | { backend: "onnxruntime"; reason: FallbackReason; detail: string };

/** The most specific reason among verify-engine's problems: what the operator must fix first. */
export function reasonOfProblems(problems: readonly Problem[]): FallbackReason {
  const codes = new Set(problems.map((p) => p.code));
  if (codes.has("MARKER_NOT_REAL") || codes.has("LEGACY_MARKER")) return "ENGINE_IS_MARKER";
  if (codes.has("CHECKSUM_MISMATCH") || codes.has("ENGINE_TRUNCATED")) return "ENGINE_CHECKSUM_MISMATCH";
  if (codes.has("RUNTIME_TRT_MISMATCH")) return "TRT_VERSION_MISMATCH";
  if (codes.has("RUNTIME_CC_MISMATCH") || codes.has("RUNTIME_CC_UNKNOWN")) return "COMPUTE_CAPABILITY_MISMATCH";
  return "ENGINE_VERIFY_FAILED";
}

function fallback(reason: FallbackReason, detail: string): EngineDecision {
  return { backend: "onnxruntime", reason, detail };
}

function resolveAddon(injected: AddonBinding | undefined): { addon: AddonBinding } | { detail: string } {
  if (injected !== undefined) return { addon: injected };
  const status = loadAddon();
  return status.available ? { addon: status.binding } : { detail: `${status.message} (${status.fix})` };
}

/**
 * The load policy: a marker is never loaded; otherwise the engine is loaded only after
 * verify-engine's checks pass against the TensorRT version this process runs and the compute
 * capability of the GPU it will run on, and the bytes checked are the bytes loaded (read once).
 * Everything that stops it is a fallback reason, never an exception.
 */
export async function decideEngine(options: EngineGateOptions): Promise<EngineDecision> {
  const { enginePath, metadata, deviceId } = options;
  if (options.forceOnnxRuntime) return fallback("FORCED_ONNXRUNTIME", "the ONNX Runtime backend was asked for");
  if (metadata.kind === "marker")
    return fallback("ENGINE_IS_MARKER", `${enginePath} is a trtforge marker (built where TensorRT was absent), never a loadable engine`);

  if (metadata.library === "tensorrt-rtx") return rtxDecision(options);

  const resolved = resolveAddon(options.addon);
  if ("detail" in resolved) return fallback("TRT_UNAVAILABLE", resolved.detail);
  const { addon } = resolved;
  let runtimeTrt: string;
  let devices;
  try {
    runtimeTrt = addon.trtVersion();
    devices = addon.devices();
  } catch (err) {
    return fallback("TRT_UNAVAILABLE", `the TensorRT addon cannot report its version or devices: ${(err as Error).message}`);
  }
  const device = devices[deviceId];
  if (device === undefined) return fallback("TRT_UNAVAILABLE", `no CUDA device ${deviceId} (the addon sees ${devices.length})`);

  // Read once: the bytes verified (checksum, plan header, runtime) are the bytes handed to TensorRT,
  // so a file changed after verification cannot slip through.
  let bytes: Buffer;
  try {
    bytes = await readFile(enginePath);
  } catch (err) {
    throw fsError(err, enginePath, "reading engine");
  }
  try {
    await assertEngineLoadable(enginePath, { trtVersion: runtimeTrt, computeCapability: device.computeCapability }, bytes);
  } catch (err) {
    if (isForgeError(err) && err.code === "CHECK_FAILED") {
      const problems = (err.details?.problems ?? []) as Problem[];
      return fallback(reasonOfProblems(problems), problems.map((p) => `${p.code}: ${p.message}`).join("; "));
    }
    throw err;
  }

  try {
    const engine = addon.loadEngine(bytes, deviceId, {
      onLog: (entry) => options.logger.debug({ severity: entry.severity }, `TensorRT: ${entry.message}`),
    });
    return { backend: "tensorrt", engine, addon, device: { uuid: device.uuid, computeCapability: device.computeCapability } };
  } catch (err) {
    return fallback("ENGINE_DESERIALIZE_FAILED", (err as Error).message);
  }
}

/**
 * A TensorRT-RTX plan is never handed to the TensorRT addon (it cannot load one), and this runtime
 * has no TensorRT-RTX backend: the plan goes to ONNX Runtime, decided from the metadata alone.
 * Where the GPU is known and the plan has no code for it (an H100 is 9.0, which TensorRT-RTX never
 * targets), that is the more useful reason, since no TensorRT-RTX runtime could load it either.
 */
function rtxDecision(options: EngineGateOptions): EngineDecision {
  const { metadata, enginePath } = options;
  const targets = metadata.target_compute_capabilities ?? [];
  const resolved = resolveAddon(options.addon);
  let gpuCc: string | undefined;
  if ("addon" in resolved) {
    try {
      gpuCc = resolved.addon.devices()[options.deviceId]?.computeCapability;
    } catch {
      gpuCc = undefined;
    }
  }
  if (gpuCc !== undefined) {
    const verdict = rtxComputeCapabilityVerdict(targets, gpuCc);
    if (!verdict.ok) return fallback("COMPUTE_CAPABILITY_MISMATCH", verdict.detail);
  }
  return fallback(
    "TRTRTX_RUNTIME_UNAVAILABLE",
    `${enginePath} is a TensorRT-RTX ${metadata.trt_version} plan (targets ${targets.join(" ") || "unknown"}); serving TensorRT-RTX plans is not built (docs/serving.md), so ONNX Runtime serves this version`,
  );
}

/** The strict mode's refusal. */
export function tensorrtRequired(agent: string, version: string, reason: FallbackReason, detail: string): ForgeError {
  return new ForgeError(
    "TENSORRT_REQUIRED",
    `version "${version}" of agent "${agent}" cannot be served on TensorRT (${reason}: ${detail}) and requireTensorRT forbids the ONNX Runtime fallback`,
    {
      input: `${agent}@${version}`,
      fix: "rebuild the engine with build-engine on this host's TensorRT and GPU, or serve without --require-tensorrt to use the ONNX Runtime fallback",
      details: { reason, detail },
    },
  );
}
