import { basename } from "node:path";
import { ForgeError, type Logger } from "@trtforge/core";
import type { AccuracyFigure } from "@trtforge/accuracy";
import { shapeProfiles, type EngineTarget, type SymbolicDim } from "@trtforge/builder";
import { withWaitLock } from "@trtforge/fs-kit";
import { resolveCurrent } from "@trtforge/model-store";
import { installedExporterFingerprint, type ExportReport, type ValidationResult } from "@trtforge/export";
import { resolveOnnxruntimeNodeVersion } from "@trtforge/toolchain";
import { buildArtifact } from "./build-artifact.js";
import { buildKeyOptions, metadataBuildOptions, type TrtBuildOptions } from "./build-options.js";
import type { RequestField, ValueSource } from "./build-request.js";
import { checkStoreWritable } from "./check-store.js";
import { contentKey } from "./content-key.js";
import { exportStage } from "./export-stage.js";
import { labelOptions } from "./label-decision.js";
import { profileShapeCases } from "./profile-shapes.js";
import { precisionStage, type PrecisionStageResult } from "./precision-stage.js";
import { prepareRun, type PipelineInput, type PreparedRun } from "./prepare-run.js";
import { provenanceRecord } from "./provenance.js";
import { publishList } from "./publish-list.js";
import { buildAgentName } from "./agent-name.js";
import { describeDamage, findBuild, publishBuild, reuseBuild, type CurrentOutcome } from "./publish-build.js";
import { buildLockPath, removeStaleStageTemps } from "./work-dir.js";
import { cpuServingFiles, cpuServingStage } from "./cpu-serving-stage.js";
import { throwIfCancelled } from "./cancel.js";
import {
  accuracyKind,
  accuracyVerdict,
  figureAt,
  enforceAccuracy,
  judgeAccuracy,
  type AccuracyVerdict,
  type GateCheck,
} from "./accuracy-policy.js";
import { gatedOutputs } from "./cpu-serving-stage.js";
import { gpuServingFiles, gpuServingStage } from "./gpu-serving-stage.js";

export interface PipelineResult {
  kind: "engine" | "marker";
  reused: boolean;
  buildKey: string;
  agent: string;
  version: string;
  versionPath: string;
  engineName: string;
  /** What happened to `<agent>/current` ("first": the agent had none) and the version it names now. */
  current: CurrentOutcome;
  /** The TensorRT the engine was built with (or the marker stands in for). */
  trtVersion: string;
  options: TrtBuildOptions;
  /** Where each option came from. */
  sources: Partial<Record<RequestField, ValueSource>>;
  stages: {
    export: { dir: string; reused: boolean };
    precision: { dir: string; reused: boolean };
    cpuServing?: { dir: string; reused: boolean };
    gpuServing?: { dir: string; reused: boolean };
  };
  accuracy: AccuracyFigure[];
  validation: ValidationResult;
  /** Every accuracy gate check of this build (TensorRT precision and CPU-serving forms) and the verdict. */
  accuracyGate: AccuracyVerdict;
  /** Set when the store's identical build was damaged: that version, what is wrong with it; this build published afresh. */
  replacedDamaged?: { version: string; damage: string } | undefined;
}

const DEFAULT_TASK_NAMES = { "feature-extraction": "embeddings", "sequence-classification": "classification" } as const;

function symbolic(shape: readonly (string | number)[]): SymbolicDim[] {
  return shape.map((d) => (d === "batch" ? "batch" : d === "sequence" ? "seq" : typeof d === "number" ? d : "batch"));
}

function engineTarget(run: PreparedRun, report: ExportReport, options: TrtBuildOptions): EngineTarget {
  const modelId = run.model.modelId ?? report.model_id;
  if (!modelId) {
    throw new ForgeError("INVALID_NAME", `the model id of ${run.model.folder} is not known`, {
      input: "--model-id",
      fix: "pass --model-id <org/name>, or build from a ModelStore version imported with --model-id",
    });
  }
  return {
    ...options,
    taskName: run.request.taskName ?? DEFAULT_TASK_NAMES[report.task],
    modelId,
    revision: run.model.revision ?? report.hf_revision ?? "unknown",
    inputs: report.inputs.map((i) => i.name),
    outputs: report.outputs.map((out) => ({ name: out.name, dims: symbolic(out.shape) })),
  };
}

/** The store version of a build is named by this key: same inputs, options, TensorRT and GPU, same version. */
function buildKeyOf(
  run: PreparedRun,
  options: TrtBuildOptions,
  builtFromSha256: string,
  precision: PrecisionStageResult,
  cpuServingSha256: string | undefined,
  gpuServingSha256?: string,
): string {
  return contentKey({
    kind: run.host.kind,
    onnx: builtFromSha256,
    options: buildKeyOptions(options),
    calibration_cache: options.typing === "weak" ? precision.calibration?.cache_sha256 : undefined,
    trt: options.trtVersion,
    compute_capability: run.host.device?.computeCapability ?? null,
    hardware: run.host.device?.name ?? null,
    cpu_serving: cpuServingSha256 ?? null,
    // Only when made: builds without it keep the keys they had.
    ...(gpuServingSha256 === undefined ? {} : { gpu_serving: gpuServingSha256 }),
  });
}

/** The profile's [batch, sequence] at min/opt/max (the one the build uses), as the store's list and show print it. */
function profileShapes(t: EngineTarget): { min: number[]; opt: number[]; max: number[] } | undefined {
  const first = shapeProfiles(t)[0];
  return first === undefined ? undefined : { min: first.min, opt: first.opt, max: first.max };
}

function logCurrent(log: Logger, agent: string, current: CurrentOutcome): void {
  log.info(
    { agent, current: current.change, current_version: current.version },
    `current: ${current.change} (${agent}/current is ${current.version ?? "unset"})`,
  );
}

/**
 * build-engine's whole run: settle everything (prepareRun) → export → validate → precision →
 * TensorRT build (or a marker where TensorRT is absent and `marker` is set) → publish into the
 * ModelStore. Each stage is keyed by its inputs and reused when they have not changed; an
 * identical build is found in the store by its build key and not redone.
 */
export async function runPipeline(input: PipelineInput): Promise<PipelineResult> {
  // Everything is checked before the work dir is touched: a refused run leaves nothing behind.
  const run = await prepareRun(input);
  await removeStaleStageTemps(input.workRoot, input.logger);
  // Identical runs sharing a work dir take turns: the second then reuses the first's stages and version.
  const { logger, signal, onProgress: _onProgress, addon: _addon, promote: _promote, promoteEvidence: _evidence, ...request } = input;
  return withWaitLock(
    buildLockPath(input.workRoot, contentKey(request)),
    { waitingFor: `an identical build is running with the work dir ${input.workRoot}`, logger, signal },
    () => runStages(input, run),
  );
}

/** promote over an existing current needs a report or an explicit withoutEvidence (judged against the version when it is known). */
async function assertPromotable(root: string, agent: string, input: PipelineInput): Promise<void> {
  if (input.promote !== true || input.promoteEvidence !== undefined) return;
  const current = await resolveCurrent({ root, agent, strict: false, logger: input.logger });
  if (current === undefined) return;
  throw new ForgeError(
    "PROMOTION_EVIDENCE_REQUIRED",
    `--promote over the current ${agent}@${current.version} needs evidence: a passed compare-engines report of the new build against it`,
    {
      input: "--promote",
      fix: `build without --promote, run compare-engines ${agent}@${current.version} ${agent}@<new version> --articles <held-out articles>, then model-store promote ${agent} <new version> --evidence <report.json>; or pass --without-evidence (recorded in the manifest)`,
    },
  );
}

async function runStages(input: PipelineInput, run: PreparedRun): Promise<PipelineResult> {
  const log = input.logger;
  const { request, host } = run;
  throwIfCancelled(input.signal, "before the export stage");
  const options: TrtBuildOptions = { ...request.build, trtVersion: host.trtVersion };
  const progress = input.onProgress ? { onProgress: input.onProgress } : {};
  const signal = input.signal ? { signal: input.signal } : {};
  const exported = await exportStage({
    workRoot: input.workRoot,
    modelDir: run.model.folder,
    modelChecksum: run.model.checksum,
    modelId: run.model.modelId,
    revision: run.model.revision,
    task: request.hfTask,
    opset: request.opset,
    samples: run.articles.source,
    samplesSha256: run.articles.sha256,
    seqLen: options.profile.sequence.opt,
    shapes: profileShapeCases(options),
    // Keyed on the exporter's code, not the commit: a commit elsewhere in the project cannot change an export.
    toolVersion: `${run.builder.version}+exporter-${await installedExporterFingerprint()}`,
    logger: log,
    ...signal,
    ...progress,
  });
  throwIfCancelled(input.signal, "after the export stage");
  const report = exported.report;
  const target = engineTarget(run, report, options);
  const agent = buildAgentName(request.taskName, report.task, target.modelId);
  await checkStoreWritable(run.storeRoot, agent);
  // Known only now (the agent comes from the export's task): refused before calibration and the build.
  await assertPromotable(run.storeRoot, agent, input);
  const outputs = report.outputs.map((o) => o.name);
  const c = request.calibration;
  // What the precision and CPU-serving stages share: the exported ONNX and the held-out articles.
  const heldOutInputs = {
    workRoot: input.workRoot,
    onnxPath: exported.onnx_path,
    onnxSha256: report.onnx_sha256,
    modelDir: run.model.folder,
    articles: run.articles,
    calibrationSamples: c.samples,
    heldOut: c.heldOut,
    batchSize: c.batchSize,
    seqLen: options.profile.sequence.opt,
    seed: c.seed,
    outputs,
    ...(await labelOptions(report.task, outputs, run.model.folder)),
    toolVersion: run.builder.version,
    logger: log,
    ...signal,
  };
  const precision = await precisionStage({
    ...heldOutInputs,
    precision: options.precision,
    algorithm: c.algorithm,
    percentile: c.percentile,
    tensorScope: c.tensors,
    sampleStride: c.sampleStride,
    trtVersion: host.trtVersion,
    shapes: profileShapeCases(options),
    minCosine: c.minCosine,
    int8TargetCosine: c.int8TargetCosine,
    int8FloatShare: c.int8FloatShare,
    ...progress,
  });
  throwIfCancelled(input.signal, "after the precision stage");
  const kind = accuracyKind(heldOutInputs.labelOutputs, heldOutInputs.labelDecision);
  const accept = input.acceptAccuracy ?? false;
  const warn = (line: string) => log.warn({ stage: "accuracy-gate" }, line);
  const checks: GateCheck[] = judgeAccuracy(options.precision, precision.accuracy, kind, gatedOutputs(outputs));
  // Judged before the CPU-serving stage runs: a failing precision stops the build at once.
  enforceAccuracy(checks, {
    accept,
    code: "ACCURACY_GATE_FAILED",
    what: `the ${options.precision} model`,
    fix: "calibrate on more or more representative articles, raise --int8-target-cosine, or build fp16",
    warn,
  });
  for (const f of precision.accuracy) {
    const labels =
      f.label_agreement === undefined
        ? ""
        : `, labels agree ${(f.label_agreement * 100).toFixed(1)}%${f.label_set_agreement === undefined ? "" : ` (label sets ${(f.label_set_agreement * 100).toFixed(1)}%)`}`;
    log.info(
      {
        stage: "accuracy",
        candidate: f.candidate,
        output: f.output,
        cosine_mean: f.cosine_mean,
        cosine_min: f.cosine_min,
        cosine_p01: f.cosine_p01,
        label_agreement: f.label_agreement,
        at: figureAt(f),
        samples: f.samples,
      },
      `accuracy ${f.candidate} vs ${f.reference} ${f.output} at ${f.shape === undefined ? `${f.samples} held-out articles` : `the ${figureAt(f)} shape`}: cosine mean ${f.cosine_mean.toFixed(5)}${f.cosine_p01 === undefined ? "" : ` p01 ${f.cosine_p01.toFixed(5)}`} min ${f.cosine_min.toFixed(5)}${labels}`,
    );
  }
  const cpuServing = await cpuServingStage({ ...heldOutInputs, ...progress, choice: input.cpuServing ?? "int8", gate: false });
  throwIfCancelled(input.signal, "after the CPU-serving stage");
  if (cpuServing) {
    const cpuChecks = judgeAccuracy("cpu-serving", cpuServing.record.accuracy, kind, gatedOutputs(outputs));
    enforceAccuracy(cpuChecks, {
      accept,
      code: "CPU_SERVING_ACCURACY_FAILED",
      what: `the CPU-serving ONNX (${cpuServing.record.quantization})`,
      fix: "pass --cpu-serving fp32 (fused, no int8) or --cpu-serving off",
      warn,
    });
    checks.push(...cpuChecks);
  }
  const accuracyGate = accuracyVerdict(checks);
  // The GPU variant keeps its own, stricter gate (cosine 0.999 against PyTorch fp32): --accept-accuracy does not lower it.
  const gpuServing = await gpuServingStage({
    ...heldOutInputs,
    ...progress,
    choice: input.gpuServing ?? "off",
    shapes: profileShapeCases(options),
    maxSeqLen: options.profile.sequence.max,
  });
  throwIfCancelled(input.signal, "after the GPU-serving stage");

  // Strong typing builds from the ONNX that carries the precision; weak typing (TensorRT 10) from fp32.
  const builtFrom =
    options.typing === "strong"
      ? { path: precision.strong_onnx_file, sha256: precision.strong_onnx_sha256 }
      : { path: exported.onnx_path, sha256: report.onnx_sha256 };
  if (host.kind === "marker" && !host.addon.available && !input.marker) {
    throw new ForgeError(
      "TRT_UNAVAILABLE",
      `stopping before the TensorRT build: ${host.addon.message}. The export${options.precision === "fp32" ? "" : " and precision"} stages are done and kept for reuse:\n  ${exported.dir}${precision.dir ? `\n  ${precision.dir}` : ""}`,
      {
        fix: `${host.addon.fix}; rerun the same command with --work-dir ${input.workRoot} on a GPU host to reuse them, or pass --marker to publish a marker`,
      },
    );
  }
  const buildKey = buildKeyOf(run, options, builtFrom.sha256, precision, cpuServing?.record.sha256, gpuServing?.record.sha256);
  const common = {
    kind: host.kind,
    buildKey,
    agent,
    trtVersion: host.trtVersion,
    options,
    sources: { ...request.sources, trtVersion: host.trtVersionSource },
    stages: {
      export: { dir: exported.dir, reused: exported.reused },
      precision: { dir: precision.dir, reused: precision.reused },
      ...(cpuServing ? { cpuServing: { dir: cpuServing.dir, reused: cpuServing.reused } } : {}),
      ...(gpuServing ? { gpuServing: { dir: gpuServing.dir, reused: gpuServing.reused } } : {}),
    },
    accuracy: precision.accuracy,
    accuracyGate,
    validation: exported.validation,
  };
  const stored = await findBuild(run.storeRoot, agent, buildKey);
  // Reusing moves current with --promote: that is a publish decision too, made only by a run still wanted.
  throwIfCancelled(input.signal, "before reusing the identical build in the ModelStore");
  if (stored.state === "intact") {
    const existing = stored.existing;
    log.info(
      { agent, version: existing.version, verified_files: stored.verify.fileCount, verify_seconds: stored.verify.seconds },
      "an identical build is already in the ModelStore and matches its manifest: reusing it",
    );
    const reused = await reuseBuild({
      root: run.storeRoot,
      existing,
      promote: input.promote ?? false,
      evidence: input.promoteEvidence,
      logger: log,
    });
    logCurrent(log, agent, reused.current);
    return {
      ...common,
      reused: true,
      version: reused.version,
      versionPath: reused.path,
      engineName: reused.engineName,
      current: reused.current,
    };
  }
  if (stored.state === "damaged") {
    log.warn(
      { agent, damaged_version: stored.damaged.version, problems: stored.damaged.problems, publishing: stored.version },
      `the identical build ${describeDamage(stored.damaged)}; it is left as it is (not reused, not served by this build) and a fresh version ${stored.version} is published`,
    );
  }
  const replacedDamaged =
    stored.state === "damaged" ? { version: stored.damaged.version, damage: describeDamage(stored.damaged) } : undefined;

  const createdAt = new Date();
  const cal = precision.calibration;
  const facts = {
    onnxSha256: builtFrom.sha256,
    calibration: cal && {
      algorithm: cal.algorithm,
      dataset_sha256: cal.dataset_sha256,
      sample_count: cal.sample_count,
      cache_sha256: cal.cache_sha256,
      qdq_onnx_sha256: cal.qdq_onnx_sha256,
      float_activations: cal.float_activations,
    },
    accuracy: precision.accuracy,
    buildOptions: metadataBuildOptions(options),
  };
  const { artifact, cudaVersion, builderLog } = await buildArtifact({
    host,
    target,
    options,
    builder: run.builder,
    createdAt,
    facts,
    onnxPath: builtFrom.path,
    precision,
    storeRoot: run.storeRoot,
    logger: log,
    signal: input.signal,
    onProgress: input.onProgress,
  });
  throwIfCancelled(input.signal, "after the engine build");
  const provenance = provenanceRecord({
    buildKey,
    kind: host.kind,
    createdAt,
    modelId: target.modelId,
    revision: target.revision,
    folderChecksum: exported.model_checksum,
    storeRef: run.model.storeRef,
    exportReport: report,
    validation: exported.validation,
    builtFrom: { file: basename(builtFrom.path), sha256: builtFrom.sha256 },
    calibration: cal,
    articles: run.articlesRecord,
    accuracy: precision.accuracy,
    options,
    request: { matrix_entry: request.matrixEntry ?? null, sources: common.sources, accept_accuracy: accept },
    accuracyGate,
    builderLog,
    builder: run.builder,
    onnxruntimeNode: resolveOnnxruntimeNodeVersion() ?? null,
    cuda: cudaVersion,
    gpu: artifact.metadata.gpu,
  });
  // The last check: from here the version is staged and renamed into place (atomic), and a signal
  // arriving now no longer stops the run; it finishes publishing and says so.
  throwIfCancelled(input.signal, "before publishing");
  const published = await publishBuild({
    root: run.storeRoot,
    agent,
    version: stored.version,
    engineName: artifact.engineName,
    files: [
      ...publishList({
        artifact,
        provenance,
        modelDir: run.model.folder,
        onnxPath: exported.onnx_path,
        report,
        validation: exported.validation,
        precision,
      }),
      ...cpuServingFiles(cpuServing),
      ...gpuServingFiles(gpuServing),
    ],
    metadata: {
      kind: host.kind,
      engine: artifact.engineName,
      build_key: buildKey,
      model_id: target.modelId,
      hf_revision: target.revision,
      precision: options.precision,
      trt_version: host.trtVersion,
      shapes: profileShapes(target),
      accuracy_gate: { verdict: accuracyGate.verdict, failed: accuracyGate.failed },
    },
    promote: input.promote ?? false,
    evidence: input.promoteEvidence,
    logger: log,
  });
  logCurrent(log, agent, published.current);
  if (input.signal?.aborted === true) {
    log.warn(
      { agent, version: published.version },
      "the stop request came after publishing had begun: the version was published completely",
    );
  }
  return {
    ...common,
    reused: published.reused,
    version: published.version,
    versionPath: published.path,
    engineName: published.engineName,
    current: published.current,
    ...(replacedDamaged ? { replacedDamaged } : {}),
  };
}
