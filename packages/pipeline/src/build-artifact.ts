import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger, OnProgress } from "@trtforge/core";
import { checkedPython } from "@trtforge/export";
import {
  buildMarker,
  buildWithAddon,
  buildWithTensorRtRtx,
  engineArtifact,
  rtxEngineArtifact,
  shapeProfiles,
  type ArtifactFacts,
  type BuilderInfo,
  type BuiltArtifact,
  type EngineTarget,
} from "@trtforge/builder";
import type { TrtBuildOptions } from "./build-options.js";
import type { PrecisionStageResult } from "./precision-stage.js";
import type { SettledHost } from "./settle-host.js";
import { loadTimingCache, saveTimingCache } from "./timing-cache.js";

export interface ArtifactInputs {
  host: SettledHost;
  target: EngineTarget;
  options: TrtBuildOptions;
  builder: BuilderInfo;
  createdAt: Date;
  facts: ArtifactFacts;
  /** The ONNX TensorRT parses (fp32 for weak typing, the precision's ONNX for strong typing). */
  onnxPath: string;
  precision: PrecisionStageResult;
  storeRoot: string;
  logger: Logger;
  signal?: AbortSignal | undefined;
  onProgress?: OnProgress | undefined;
}

export interface BuiltEngine {
  artifact: BuiltArtifact;
  /** The CUDA runtime of a real build; null for a marker. */
  cudaVersion: string | null;
  /** What a builder that reports through a child process said (TensorRT-RTX): kept in provenance. */
  builderLog?: BuilderLog;
}

export interface BuilderLog {
  builder: "tensorrt-rtx";
  warnings: string[];
  build_seconds: number;
  peak_rss_bytes: number;
  targets: string[];
}

/** The engine TensorRT builds on the settled device (through the store's timing cache), or a marker where TensorRT is absent. */
export async function buildArtifact(i: ArtifactInputs): Promise<BuiltEngine> {
  const { host, options: o, precision } = i;
  if (o.engineBuilder === "tensorrt-rtx") {
    // The plan is read into memory and published from there; its file is only the child's hand-over.
    const scratch = await mkdtemp(join(tmpdir(), "trtforge-trtrtx-"));
    const built = await buildWithTensorRtRtx({
      python: await checkedPython(),
      onnxPath: i.onnxPath,
      planPath: join(scratch, "model.plan"),
      precision: o.precision,
      profiles: shapeProfiles(i.target),
      computeCapabilities: o.computeCapabilities ?? [],
      logger: i.logger,
      signal: i.signal,
      onProgress: i.onProgress,
    }).finally(() => rm(scratch, { recursive: true, force: true }));
    i.logger.info(
      {
        build_seconds: built.buildSeconds,
        peak_rss_bytes: built.peakRssBytes,
        targets: built.computeCapabilities,
        warnings: built.warnings.length,
      },
      "TensorRT-RTX built the plan",
    );
    return {
      artifact: rtxEngineArtifact(i.target, i.builder, i.createdAt, i.facts, built),
      cudaVersion: null,
      builderLog: {
        builder: "tensorrt-rtx",
        warnings: built.warnings,
        build_seconds: built.buildSeconds,
        peak_rss_bytes: built.peakRssBytes,
        targets: built.computeCapabilities,
      },
    };
  }
  if (host.kind === "marker" || !host.addon.available || !host.device) {
    return { artifact: buildMarker(i.target, i.builder, i.createdAt, i.facts), cudaVersion: null };
  }
  const computeCapability = host.device.computeCapability;
  const timingCache = await loadTimingCache(i.storeRoot, host.trtVersion, computeCapability);
  const built = await buildWithAddon(host.addon.binding, {
    onnxPath: i.onnxPath,
    precision: o.precision,
    typing: o.typing,
    profile: o.profile,
    workspaceBytes: o.workspaceBytes,
    builderOptimizationLevel: o.builderOptimizationLevel,
    hardwareCompatibility: o.hardwareCompatibility,
    versionCompatible: o.versionCompatible,
    calibrationCachePath: o.typing === "weak" && precision.calibration ? join(precision.dir, precision.calibration.cache_file) : undefined,
    timingCache,
    deviceId: host.deviceId,
    logger: i.logger,
    signal: i.signal,
    onProgress: i.onProgress,
  });
  const cudaVersion = built.result.device.cudaRuntimeVersion;
  await saveTimingCache(i.storeRoot, host.trtVersion, computeCapability, built.result.timingCache, i.logger);
  const artifact = engineArtifact(i.target, i.builder, i.createdAt, i.facts, {
    engineBytes: built.result.engine,
    trtVersion: host.trtVersion,
    gpu: { name: built.result.device.name, compute_capability: built.result.device.computeCapability },
    cudaVersion,
    hardwareCompatibilityLevel: o.hardwareCompatibility,
    versionCompatible: o.versionCompatible,
  });
  return { artifact, cudaVersion };
}
