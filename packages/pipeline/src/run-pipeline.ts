import { basename, join, resolve } from "node:path";
import { ForgeError, projectRoot, type Logger } from "@trtforge/core";
import { readArticles } from "@trtforge/articles";
import { buildMarker, builderInfo, buildWithAddon, engineAgentName, engineArtifact, shapeProfiles, type BuiltArtifact, type EngineTarget, type SymbolicDim } from "@trtforge/builder";
import type { CalibrationAlgorithm, TensorScope } from "@trtforge/calibration";
import type { ExportReport } from "@trtforge/export";
import { resolveOnnxruntimeNodeVersion } from "@trtforge/hostcheck";
import { loadAddon, type AddonStatus } from "@trtforge/native";
import type { PublishFile } from "@trtforge/model-store";
import { metadataBuildOptions, type TrtBuildOptions } from "./build-options.js";
import { contentKey } from "./content-key.js";
import { cpuServingFiles, cpuServingStage, type CpuServingChoice } from "./cpu-serving-stage.js";
import { exportStage } from "./export-stage.js";
import { precisionStage } from "./precision-stage.js";
import { provenanceRecord } from "./provenance.js";
import { buildVersionName, findBuild, publishBuild } from "./publish-build.js";
import { loadTimingCache, saveTimingCache } from "./timing-cache.js";

export interface PipelineOptions {
  model: { folder: string; modelId: string | undefined; revision: string | undefined; storeRef: string | undefined };
  /** The engine's task name (file name and store agent trt-<task>); default from the exported task. */
  taskName?: string | undefined;
  hfTask: "auto" | "feature-extraction" | "sequence-classification";
  options: TrtBuildOptions;
  /** Articles for calibration and accuracy (also the export references). */
  articles: string;
  calibrationSamples: number;
  heldOut: number;
  calibrationBatchSize: number;
  algorithm: CalibrationAlgorithm;
  percentile?: number | undefined;
  /**
   * Activations to calibrate. Default: the Q/DQ sites (MatMul/Gemm/Conv inputs) for strong typing,
   * whose ONNX carries only those scales; every float activation for weak typing, whose TensorRT 10
   * implicit-int8 cache lists all of them.
   */
  calibrationTensors?: TensorScope | undefined;
  /** Histogram every n-th activation value during calibration (default 31; 1: every value). */
  calibrationSampleStride?: number | undefined;
  minCosine?: number | undefined;
  int8TargetCosine?: number | undefined;
  /** The CPU-serving ONNX published beside the engine (model.cpu.onnx): int8 (default), fp32 fused, or off. */
  cpuServing?: CpuServingChoice | undefined;
  seed: number;
  opset: number;
  /** Write a marker where TensorRT is absent instead of stopping at the build stage. */
  marker: boolean;
  workRoot: string;
  storeRoot: string | undefined;
  /** GPU to build on. */
  deviceId?: number | undefined;
  /** The TensorRT addon; default loadAddon(). Tests pass the fake addon. */
  addon?: AddonStatus | undefined;
  log: Logger;
  signal?: AbortSignal | undefined;
  onProgress?: (stage: string, current: number, total: number) => void;
}

export interface PipelineResult {
  kind: "engine" | "marker";
  reused: boolean;
  buildKey: string;
  agent: string;
  version: string;
  versionPath: string;
  engineName: string;
  stages: { export: { dir: string; reused: boolean }; precision: { dir: string; reused: boolean }; cpuServing?: { dir: string; reused: boolean } };
  accuracy: unknown[];
  validation: unknown;
}

const DEFAULT_TASK_NAMES = { "feature-extraction": "embeddings", "sequence-classification": "classification" } as const;

function symbolic(shape: readonly (string | number)[]): SymbolicDim[] {
  return shape.map((d) => (d === "batch" ? "batch" : d === "sequence" ? "seq" : typeof d === "number" ? d : "batch"));
}

function engineTarget(report: ExportReport, p: PipelineOptions, modelId: string): EngineTarget {
  const o = p.options;
  return {
    taskName: p.taskName ?? DEFAULT_TASK_NAMES[report.task],
    modelId,
    revision: p.model.revision ?? report.hf_revision ?? "unknown",
    precision: o.precision,
    trtVersion: o.trtVersion,
    maxBatchSize: o.maxBatchSize,
    optBatchSize: o.optBatchSize,
    minSeqLen: o.minSeqLen,
    optSeqLen: o.optSeqLen,
    seqLen: o.seqLen,
    inputs: report.inputs.map((i) => i.name),
    outputs: report.outputs.map((out) => ({ name: out.name, dims: symbolic(out.shape) })),
  };
}

/**
 * build-engine's whole run: export → validate → precision → TensorRT build (or a marker where
 * TensorRT is absent and --marker is given) → publish into the ModelStore. Each stage is keyed by
 * its inputs and reused when they have not changed; an identical build is found in the store by
 * its build key and not redone.
 */
export async function runPipeline(p: PipelineOptions): Promise<PipelineResult> {
  const log = p.log;
  const addon = p.addon ?? loadAddon();
  if (!addon.available && !p.marker) {
    // Checked first so that a host that cannot build says so before minutes of export.
    log.warn({ reason: addon.message }, "TensorRT is not available: the run will stop before the build stage");
  }
  const tool = await builderInfo();
  const articles = await readArticles(p.articles);
  const exported = await exportStage({
    workRoot: p.workRoot,
    modelDir: p.model.folder,
    modelId: p.model.modelId,
    revision: p.model.revision,
    task: p.hfTask,
    opset: p.opset,
    samples: p.articles,
    samplesSha256: articles.sha256,
    seqLen: p.options.optSeqLen,
    toolVersion: `${tool.version}+${tool.git_commit ?? "unknown"}`,
    log,
    ...(p.signal ? { signal: p.signal } : {}),
    ...(p.onProgress ? { onProgress: p.onProgress } : {}),
  });
  const report = exported.report;
  const modelId = p.model.modelId ?? report.model_id;
  if (!modelId) {
    throw new ForgeError("USAGE", `the model id of ${p.model.folder} is not known`, { input: "--model-id", fix: "pass --model-id <org/name>, or build from a ModelStore version imported with --model-id" });
  }
  const outputs = report.outputs.map((o) => o.name);
  const precision = await precisionStage({
    workRoot: p.workRoot,
    precision: p.options.precision,
    onnxPath: exported.onnx_path,
    onnxSha256: report.onnx_sha256,
    modelDir: p.model.folder,
    articles,
    calibrationSamples: p.calibrationSamples,
    heldOut: p.heldOut,
    batchSize: p.calibrationBatchSize,
    seqLen: p.options.optSeqLen,
    seed: p.seed,
    algorithm: p.algorithm,
    percentile: p.percentile,
    tensorScope: p.calibrationTensors ?? (p.options.typing === "weak" ? "all-float" : "quantization-sites"),
    sampleStride: p.calibrationSampleStride,
    trtVersion: p.options.trtVersion,
    outputs,
    labelOutputs: outputs.filter((o) => o === "logits"),
    minCosine: p.minCosine,
    int8TargetCosine: p.int8TargetCosine,
    toolVersion: tool.version,
    log,
    signal: p.signal,
    ...(p.onProgress ? { onProgress: p.onProgress } : {}),
  });
  for (const f of precision.accuracy) log.info(f, `accuracy ${f.candidate} vs ${f.reference}`);
  const cpuServing = await cpuServingStage({
    workRoot: p.workRoot,
    choice: p.cpuServing ?? "int8",
    onnxPath: exported.onnx_path,
    onnxSha256: report.onnx_sha256,
    modelDir: p.model.folder,
    articles,
    calibrationSamples: p.calibrationSamples,
    heldOut: p.heldOut,
    seed: p.seed,
    seqLen: p.options.optSeqLen,
    batchSize: p.calibrationBatchSize,
    outputs,
    labelOutputs: outputs.filter((o) => o === "logits"),
    toolVersion: tool.version,
    log,
    signal: p.signal,
  });

  // Strong typing builds from the ONNX that carries the precision; weak typing (TensorRT 10) from fp32.
  const builtFrom = p.options.typing === "strong"
    ? { path: precision.strong_onnx_file, sha256: precision.strong_onnx_sha256 }
    : { path: exported.onnx_path, sha256: report.onnx_sha256 };
  if (!addon.available && !p.marker) {
    throw new ForgeError("TRT_UNAVAILABLE", `stopping before the TensorRT build: ${addon.message}. The export${p.options.precision === "fp32" ? "" : " and precision"} stages are done and kept for reuse:\n  ${exported.dir}${precision.dir ? `\n  ${precision.dir}` : ""}`, {
      fix: `${addon.fix}; rerun the same command with --work-dir ${p.workRoot} on a GPU host to reuse them, or pass --marker to publish a marker`,
    });
  }
  const kind = addon.available ? ("engine" as const) : ("marker" as const);
  const deviceId = p.deviceId ?? 0;
  const device = addon.available ? addon.binding.devices().find((d) => d.index === deviceId) : undefined;
  if (addon.available && !device) {
    throw new ForgeError("INVALID_DEVICE_ID", `GPU ${deviceId} does not exist on this host (${addon.binding.devices().length} GPU(s))`, { input: "--device", fix: "pick a GPU id from build-engine --check-only" });
  }
  // A real build records the TensorRT that actually built it; a marker the one it stands in for.
  const trtVersion = addon.available ? addon.binding.trtVersion() : p.options.trtVersion;
  const target = { ...engineTarget(report, p, modelId), trtVersion };
  const agent = engineAgentName(target.taskName);
  const buildKey = contentKey({
    kind,
    onnx: builtFrom.sha256,
    options: { ...p.options, trtVersion },
    calibration_cache: p.options.typing === "weak" ? precision.calibration?.cache_sha256 : undefined,
    trt: trtVersion,
    compute_capability: device?.computeCapability ?? null,
    hardware: device?.name ?? null,
    cpu_serving: cpuServing?.record.sha256 ?? null,
  });
  const existing = await findBuild(p.storeRoot, agent, buildKey);
  const common = {
    kind,
    buildKey,
    agent,
    stages: { export: { dir: exported.dir, reused: exported.reused }, precision: { dir: precision.dir, reused: precision.reused }, ...(cpuServing ? { cpuServing: { dir: cpuServing.dir, reused: cpuServing.reused } } : {}) },
    accuracy: precision.accuracy,
    validation: exported.validation,
  };
  if (existing) {
    log.info({ agent, version: existing.version }, "an identical build is already in the ModelStore: reusing it");
    const engineName = String((existing.manifest.metadata as { engine?: unknown }).engine ?? "");
    return { ...common, reused: true, version: existing.version, versionPath: existing.path, engineName };
  }

  const createdAt = new Date();
  const facts = {
    onnxSha256: builtFrom.sha256,
    calibration: precision.calibration && {
      algorithm: precision.calibration.algorithm,
      dataset_sha256: precision.calibration.dataset_sha256,
      sample_count: precision.calibration.sample_count,
      cache_sha256: precision.calibration.cache_sha256,
      qdq_onnx_sha256: precision.calibration.qdq_onnx_sha256,
      float_activations: precision.calibration.float_activations,
    },
    accuracy: precision.accuracy,
    buildOptions: metadataBuildOptions(p.options),
  };
  let artifact: BuiltArtifact;
  let cudaVersion: string | null = null;
  if (addon.available && device) {
    const timingCache = await loadTimingCache(p.storeRoot, trtVersion, device.computeCapability);
    const o = p.options;
    const profiles = shapeProfiles(target);
    const built = await buildWithAddon(addon.binding, {
      onnxPath: builtFrom.path,
      precision: o.precision,
      typing: o.typing,
      profiles,
      workspaceBytes: o.workspaceBytes,
      builderOptimizationLevel: o.builderOptimizationLevel,
      hardwareCompatibility: o.hardwareCompatibility,
      versionCompatible: o.versionCompatible,
      calibrationCachePath: o.typing === "weak" && precision.calibration ? join(precision.dir, precision.calibration.cache_file) : undefined,
      timingCache,
      deviceId,
      log,
      signal: p.signal,
      onPhase: (phase, step, steps) => p.onProgress?.(phase, step, steps),
    });
    cudaVersion = built.result.device.cudaRuntimeVersion;
    await saveTimingCache(p.storeRoot, trtVersion, device.computeCapability, built.result.timingCache, log);
    artifact = engineArtifact(target, tool, createdAt, facts, {
      engineBytes: built.result.engine,
      trtVersion,
      gpu: { name: built.result.device.name, compute_capability: built.result.device.computeCapability },
      cudaVersion,
      hardwareCompatibilityLevel: o.hardwareCompatibility,
      versionCompatible: o.versionCompatible,
    });
  } else {
    artifact = buildMarker(target, tool, createdAt, facts);
  }
  const provenance = provenanceRecord({
    buildKey,
    kind,
    createdAt,
    modelId,
    revision: target.revision,
    folderChecksum: exported.model_checksum,
    storeRef: p.model.storeRef,
    exportReport: report,
    validation: exported.validation,
    builtFrom: { file: basename(builtFrom.path), sha256: builtFrom.sha256 },
    calibration: precision.calibration,
    accuracy: precision.accuracy,
    options: { ...p.options, trtVersion },
    builder: tool,
    onnxruntimeNode: resolveOnnxruntimeNodeVersion() ?? null,
    cuda: cudaVersion,
    gpu: artifact.metadata.gpu,
  });
  const files: PublishFile[] = [
    { path: artifact.engineName, data: artifact.engineBytes },
    { path: artifact.sidecarName, data: artifact.sidecarText },
    { path: "provenance.json", data: `${JSON.stringify(provenance, null, 2)}\n` },
    { path: "model.onnx", sourcePath: exported.onnx_path },
    { path: "export-report.json", data: `${JSON.stringify(report, null, 2)}\n` },
    { path: "validation.json", data: `${JSON.stringify(exported.validation, null, 2)}\n` },
    ...cpuServingFiles(cpuServing),
  ];
  if (precision.precision !== "fp32") {
    files.push({ path: basename(precision.strong_onnx_file), sourcePath: precision.strong_onnx_file });
    files.push({ path: "accuracy.json", data: `${JSON.stringify(precision.accuracy, null, 2)}\n` });
  }
  if (precision.calibration) {
    files.push({ path: "calibration.cache", sourcePath: join(precision.dir, precision.calibration.cache_file) });
    files.push({ path: "calibration.json", sourcePath: join(precision.dir, precision.calibration.record_file) });
  }
  const published = await publishBuild({
    root: p.storeRoot,
    agent,
    buildKey,
    files,
    metadata: { kind, engine: artifact.engineName, build_key: buildKey, model_id: modelId, hf_revision: target.revision, precision: target.precision, trt_version: trtVersion },
    log,
  });
  return { ...common, reused: false, version: published.version, versionPath: published.path, engineName: artifact.engineName };
}

export function defaultWorkRoot(): string {
  return resolve(projectRoot(), ".trtforge-work");
}

export { buildVersionName };
